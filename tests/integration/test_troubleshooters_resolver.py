# kefu: resolver-config, with faults and healthy variants written from resolv.conf(5) and
# systemd-resolved.service(8); the repair is checked by this file's own reading of the
# result (the first three parsable nameserver lines, and systemd's enablement links).
# SPDX-License-Identifier: MIT
import ipaddress
import os
import socket

import pytest

from plugin_trees import base_tree, fix_only, healthy_only, link, write

PLUGIN = "resolver-config"
RESOLVED_UNIT = "[Unit]\nDescription=Network Name Resolution\n\n[Service]\n" \
    "ExecStart=!!/lib/systemd/systemd-resolved\n\n[Install]\nWantedBy=multi-user.target\n" \
    "Alias=dbus-org.freedesktop.resolve1.service\n"
NM_CONNECTION = "[connection]\nid=Home\ntype=wifi\n\n[ipv4]\nmethod=auto\ndns=192.168.1.1;9.9.9.9;\n"


def need_root():
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")


def with_resolved(root, enabled=True):
    write(root, "/usr/lib/systemd/system/systemd-resolved.service", RESOLVED_UNIT)
    if enabled:
        link(root, "/etc/systemd/system/multi-user.target.wants/systemd-resolved.service",
             "/lib/systemd/system/systemd-resolved.service")


def resolved_on(root):
    etc = os.path.join(root, "etc/systemd/system")
    return not os.path.lexists(os.path.join(etc, "systemd-resolved.service")) and \
        os.path.lexists(os.path.join(etc, "multi-user.target.wants/systemd-resolved.service"))


def servers(root):
    path = os.path.join(root, "etc/resolv.conf")
    if os.path.islink(path):
        target = os.readlink(path)
        return ["resolved"] if "systemd/resolve" in target else []
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path).read().splitlines():
        words = line.split()
        if line[:1] in ("#", ";") or len(words) < 2 or words[0] != "nameserver":
            continue
        try:
            out.append(ipaddress.ip_address(words[1].split("%")[0]) if ":" in words[1]
                       else ipaddress.IPv4Address(socket.inet_aton(words[1])))
        except (OSError, ValueError):
            pass
    return out[:3]


def can_resolve(root):
    found = servers(root)
    if found == ["resolved"] or any(str(a) == "127.0.0.53" for a in found):
        return resolved_on(root)
    return any(not a.is_loopback for a in found)


def resolv(root, text):
    path = os.path.join(root, "etc/resolv.conf")
    if os.path.lexists(path):
        os.unlink(path)
    if text is not None:
        write(root, "/etc/resolv.conf", text)


def stub_link(root):
    resolv(root, None)
    os.symlink("../run/systemd/resolve/stub-resolv.conf", os.path.join(root, "etc/resolv.conf"))


FAULTS = {
    # no file: glibc asks 127.0.0.1, where nothing listens
    "missing": lambda r: resolv(r, None),
    "empty": lambda r: resolv(r, ""),
    # '#' and ';' lines are comments
    "comments-only": lambda r: resolv(r, "# nameserver 192.168.1.1\n; nameserver 9.9.9.9\n"),
    # a name is not an address: the line is skipped
    "host-name": lambda r: resolv(r, "nameserver router.lan\n"),
    # at most three nameservers are used
    "fourth-server": lambda r: resolv(r, "nameserver 127.0.0.1\nnameserver 127.0.0.2\n"
                                      "nameserver bogus\nnameserver 127.0.0.3\n"
                                      "nameserver 192.168.1.1\n"),
    # a link to a file that is gone
    "dangling": lambda r: (resolv(r, None),
                           os.symlink("resolv.conf.before-vpn", os.path.join(r, "etc/resolv.conf"))),
    # the stub with systemd-resolved installed but switched off
    "stub-resolved-off": lambda r: (with_resolved(r, enabled=False), stub_link(r)),
    # the stub with systemd-resolved masked
    "stub-resolved-masked": lambda r: (with_resolved(r), stub_link(r),
                                       link(r, "/etc/systemd/system/systemd-resolved.service",
                                            "/dev/null")),
    # the stub address written into a plain file, systemd-resolved not installed
    "stub-address-no-resolved": lambda r: resolv(r, "nameserver 127.0.0.53\noptions edns0\n"),
    # the stub link, systemd-resolved removed
    "stub-no-resolved": lambda r: stub_link(r),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_resolver_fault_is_repaired(tmp_path, name):
    need_root()
    root = base_tree(tmp_path)
    write(root, "/etc/NetworkManager/system-connections/Home.nmconnection", NM_CONNECTION,
          0o600)
    FAULTS[name](root)
    assert not can_resolve(root)
    fix_only(tmp_path, root, PLUGIN)
    assert can_resolve(root), open(os.path.join(root, "etc/resolv.conf")).read() \
        if os.path.exists(os.path.join(root, "etc/resolv.conf")) else "no file"
    if name.startswith("stub-resolved"):
        assert resolved_on(root)  # resolved was switched back on, the link kept
        assert os.path.islink(os.path.join(root, "etc/resolv.conf"))


def test_without_any_known_name_server_the_fix_says_so_and_changes_nothing(tmp_path):
    need_root()
    from plugin_trees import listing, only
    root = base_tree(tmp_path)
    resolv(root, "")
    before = listing(root)
    found, out = only(tmp_path, root, PLUGIN, "--fix", "--yes")
    assert found == ["problem (fix failed)"]
    assert listing(root) == before


HEALTHY = {
    "network-manager": lambda r: None,
    "resolved-stub": lambda r: (with_resolved(r), stub_link(r)),
    "resolved-uplink": lambda r: (with_resolved(r), resolv(r, None), os.symlink(
        "/run/systemd/resolve/resolv.conf", os.path.join(r, "etc/resolv.conf"))),
    "dnsmasq-local": lambda r: (
        write(r, "/usr/lib/systemd/system/dnsmasq.service",
              "[Service]\nExecStart=/usr/sbin/dnsmasq\n\n[Install]\nWantedBy=multi-user.target\n"),
        link(r, "/etc/systemd/system/multi-user.target.wants/dnsmasq.service",
             "/lib/systemd/system/dnsmasq.service"),
        resolv(r, "nameserver 127.0.0.1\n")),
    "ipv6-scoped": lambda r: resolv(r, "search home.arpa\nnameserver fe80::1%enp3s0\n"
                                    "options edns0 trust-ad\n"),
    "trailing-comment": lambda r: resolv(r, "nameserver 192.168.1.1 # the router\n"),
    "second-server-good": lambda r: resolv(r, "nameserver 127.0.0.1\nnameserver 9.9.9.9\n"),
}


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_valid_resolver_configuration_is_left_alone(tmp_path, name):
    root = base_tree(tmp_path)
    HEALTHY[name](root)
    healthy_only(tmp_path, root, PLUGIN)
