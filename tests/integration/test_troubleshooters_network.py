# kefu: network-link in network namespaces this test creates: a client namespace where the
# scan runs and a gateway namespace behind a veth pair; configurations written from
# interfaces(5), nm-settings-keyfile(5) and systemd.network(5). The repair is checked by
# pinging past the gateway. SPDX-License-Identifier: MIT
import json
import os
import random
import shutil
import subprocess

import pytest

from conftest import program
from plugin_trees import PLUGINS, base_tree, report, write

PLUGIN = "network-link"


def sh(*args, check=True):
    p = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=60)
    assert not check or p.returncode == 0, (args, p.stdout)
    return p


@pytest.fixture
def net():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 for network namespaces")
    tag = "%d%04d" % (os.getpid() % 1000, random.randrange(10000))
    n = {"client": "kefu-c" + tag, "gw": "kefu-g" + tag, "if": "kc" + tag, "peer": "kg" + tag}
    sh("ip", "netns", "add", n["client"])
    sh("ip", "netns", "add", n["gw"])
    try:
        sh("ip", "link", "add", n["if"], "netns", n["client"], "type", "veth", "peer", "name",
           n["peer"], "netns", n["gw"])
        g = ["ip", "-n", n["gw"]]
        sh(*g, "addr", "add", "10.77.0.1/24", "dev", n["peer"])
        sh(*g, "link", "set", n["peer"], "up")
        sh(*g, "link", "set", "lo", "up")
        sh(*g, "addr", "add", "10.88.0.1/32", "dev", "lo")  # beyond the gateway
        sh("ip", "-n", n["client"], "link", "set", "lo", "up")
        yield n
    finally:
        sh("ip", "netns", "del", n["client"], check=False)
        sh("ip", "netns", "del", n["gw"], check=False)


def client(n, *args):
    return sh("ip", "-n", n["client"], *args)


def up_with_route(n):
    client(n, "addr", "add", "10.77.0.2/24", "dev", n["if"])
    client(n, "link", "set", n["if"], "up")
    client(n, "route", "add", "default", "via", "10.77.0.1")


REACH = """import socket, sys
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("10.88.0.1", 9))
except ConnectionRefusedError:
    sys.exit(0)  # the gateway's host answered: there and back again
except OSError:
    sys.exit(1)
"""


def reaches_beyond(n):
    """A TCP connection attempt past the gateway (the refusal comes back only when the link,
    the address and the default route all work)."""
    return sh("ip", "netns", "exec", n["client"], "/usr/bin/python3", "-c", REACH,
              check=False).returncode == 0


def scan(tmp_path, n, root, *extra):
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    p = subprocess.run(["ip", "netns", "exec", n["client"], program("kefu-agentd"), "scan",
                        "--json", "--root", root, "--report", report(tmp_path), "--plugins",
                        PLUGINS, "--only", PLUGIN, *extra], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, env=env, timeout=300)
    check, = json.loads(p.stdout)["checks"]
    return check


def ifupdown(root, n):
    write(root, "/etc/network/interfaces", "source /etc/network/interfaces.d/*\n\nauto lo\n"
          "iface lo inet loopback\n\n# the wired port\nallow-hotplug {i}\niface {i} inet static\n"
          "    address 10.77.0.2\n    netmask 255.255.255.0\n    gateway 10.77.0.1\n"
          .format(i=n["if"]))


def keyfile(root, n):
    write(root, "/etc/NetworkManager/system-connections/Wired.nmconnection",
          "[connection]\nid=Wired\ntype=ethernet\ninterface-name={i}\n\n[ipv4]\n"
          "address1=10.77.0.2/24,10.77.0.1\nmethod=manual\n".format(i=n["if"]), 0o600)


def networkd(root, n):
    write(root, "/etc/systemd/network/10-wired.network",
          "[Match]\nName={i}\n\n[Network]\nAddress=10.77.0.2/24\nGateway=10.77.0.1\n"
          .format(i=n["if"]))


CONFIGS = {"ifupdown": ifupdown, "keyfile": keyfile, "networkd": networkd}


def link_down(n):
    up_with_route(n)
    client(n, "link", "set", n["if"], "down")  # the route goes with it


def no_route(n):
    up_with_route(n)
    client(n, "route", "del", "default")


def no_address(n):
    client(n, "link", "set", n["if"], "up")


def wrong_gateway(n):
    up_with_route(n)
    client(n, "route", "replace", "default", "via", "10.77.0.99")


FAULTS = {f.__name__: f for f in (link_down, no_route, no_address, wrong_gateway)}


# NetworkManager's keyfiles are root's only (0600): a detect step, which never runs as root,
# sees the links but not which gateway the keyfile names, so a wrong gateway with a keyfile is
# not found. Every other pair is.
PAIRS = [(c, f) for c in sorted(CONFIGS) for f in sorted(FAULTS)
         if (c, f) != ("keyfile", "wrong_gateway")]


@pytest.mark.parametrize("config,fault", PAIRS)
def test_network_fault_is_repaired(tmp_path, net, config, fault):
    root = base_tree(tmp_path)
    CONFIGS[config](root, net)
    FAULTS[fault](net)
    assert not reaches_beyond(net)
    assert scan(tmp_path, net, root)["state"] == "problem"
    check = scan(tmp_path, net, root, "--fix", "--yes")
    assert check["state"] == "fixed", check
    assert reaches_beyond(net)


def test_unplugged_cable_is_found_and_left_to_the_customer(tmp_path, net):
    root = base_tree(tmp_path)
    ifupdown(root, net)
    up_with_route(net)
    sh("ip", "-n", net["gw"], "link", "set", net["peer"], "down")  # no carrier
    check = scan(tmp_path, net, root, "--fix", "--yes")
    assert check["state"] == "problem (fix failed)"
    assert "cable" in json.dumps(check["steps"])


def test_working_connection_is_left_alone(tmp_path, net):
    root = base_tree(tmp_path)
    ifupdown(root, net)
    up_with_route(net)
    # another, unconfigured link that is down is not this computer's connection
    client(net, "link", "add", "kd" + net["if"][2:], "type", "veth", "peer", "name",
           "ke" + net["if"][2:])
    before = client(net, "-json", "route", "show").stdout
    assert scan(tmp_path, net, root, "--fix", "--yes")["state"] == "healthy"
    assert client(net, "-json", "route", "show").stdout == before
    assert reaches_beyond(net)


def test_configuration_for_another_interface_does_not_apply(tmp_path, net):
    root = base_tree(tmp_path)
    write(root, "/etc/network/interfaces", "auto enx00aa\niface enx00aa inet dhcp\n")
    assert scan(tmp_path, net, root)["state"] == "not-applicable"
