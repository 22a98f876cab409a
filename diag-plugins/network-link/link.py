#!/usr/bin/python3
# kefu plugin network-link: the configured network links against the running system's links,
# addresses and routes (ip -json); `repair` brings them up with ip or nmcli. SPDX-License-Identifier: MIT
"""Configuration read: interfaces(5) (`auto`/`allow-hotplug IFACE`, `iface IFACE inet
static|dhcp`, `address A/N` or `address A` + `netmask`, `gateway G`); NetworkManager keyfiles
(nm-settings-keyfile(5): [connection] interface-name=, [ipv4] method=, address1=A/N,G,
gateway=); systemd.network(5) ([Match] Name=, [Network] Address=, Gateway=, DHCP=). State
read: rtnetlink through `ip -json link|addr|route` (ip-link(8): flags UP, LOWER_UP; operstate
DOWN with NO-CARRIER means no cable or no radio link). A running NetworkManager is asked to
connect (nmcli device connect); otherwise the link is set up and the address and default
route the configuration names are added with ip."""
import ipaddress
import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import FAILED, NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

IP = "/usr/sbin/ip" if os.path.exists("/usr/sbin/ip") else "/sbin/ip"
NMCLI = "/usr/bin/nmcli"


def ip(*args):
    p = subprocess.run([IP, "-json"] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=10)
    return json.loads(p.stdout or "[]") if p.returncode == 0 else []


def ip_do(*args):
    p = subprocess.run([IP] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=10)
    return None if p.returncode == 0 else p.stdout.strip()


def with_prefix(address, netmask=None):
    try:
        if netmask:
            return str(ipaddress.IPv4Interface("%s/%s" % (address, netmask)))
        return str(ipaddress.ip_interface(address if "/" in address else address + "/24"))
    except ValueError:
        return None


def configured(root):
    """{interface: {"method": static|dhcp, "address": A/N or None, "gateway": G or None,
    "by": file}} from the configuration the system starts its network with."""
    out = {}
    text = root.read_text("/etc/network/interfaces") or ""
    for name in root.listdir("/etc/network/interfaces.d"):
        text += "\n" + (root.read_text("/etc/network/interfaces.d/" + name) or "")
    started = set(re.findall(r"(?m)^\s*(?:auto|allow-hotplug)\s+(.+)$", text))
    started = {n for line in started for n in line.split()}
    current = None
    netmask = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "iface" and len(words) >= 4 and words[2] == "inet":
            current = words[1] if words[1] in started and words[1] != "lo" else None
            if current:
                out[current] = {"method": words[3], "address": None, "gateway": None,
                                "by": "/etc/network/interfaces"}
        elif words[0] in ("iface", "mapping", "auto", "allow-hotplug", "source"):
            current = None
        elif current and len(words) >= 2:
            if words[0] == "address":
                out[current]["address"] = words[1]
            elif words[0] == "netmask":
                netmask[current] = words[1]
            elif words[0] == "gateway":
                out[current]["gateway"] = words[1]
    for name, c in out.items():
        if c["address"]:
            c["address"] = with_prefix(c["address"], netmask.get(name))
    folder = "/etc/NetworkManager/system-connections"
    for name in root.listdir(folder):
        if not os.access(root.host(folder + "/" + name), os.R_OK):
            out.setdefault(None, {"unreadable": folder + "/" + name})
            continue
        conf, section = {}, None
        for line in (root.read_text(folder + "/" + name) or "").splitlines():
            line = line.strip()
            if line.startswith("["):
                section = line.strip("[]")
            elif "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                conf[(section, k.strip())] = v.strip()
        iface = conf.get(("connection", "interface-name"))
        if not iface or conf.get(("connection", "autoconnect"), "true") == "false":
            continue
        addr = conf.get(("ipv4", "address1"), "")
        parts = addr.split(",")
        out.setdefault(iface, {"method": "static" if addr else "dhcp",
                               "address": with_prefix(parts[0]) if parts[0] else None,
                               "gateway": conf.get(("ipv4", "gateway")) or
                               (parts[1] if len(parts) > 1 else None),
                               "by": folder + "/" + name})
    for folder in ("/etc/systemd/network", "/run/systemd/network"):
        for name in root.listdir(folder):
            if not name.endswith(".network"):
                continue
            text = root.read_text(folder + "/" + name) or ""
            match = re.search(r"(?m)^\s*Name\s*=\s*(\S+)", text)
            if not match or any(c in match.group(1) for c in "*?["):
                continue
            addr = re.search(r"(?m)^\s*Address\s*=\s*(\S+)", text)
            gw = re.search(r"(?m)^\s*Gateway\s*=\s*(\S+)", text)
            out.setdefault(match.group(1), {
                "method": "static" if addr else "dhcp",
                "address": with_prefix(addr.group(1)) if addr else None,
                "gateway": gw.group(1) if gw else None, "by": folder + "/" + name})
    return out


def state():
    links = {l["ifname"]: l for l in ip("link", "show")}
    addrs = {a["ifname"]: [("%s/%s" % (i["local"], i["prefixlen"])) for i in a.get("addr_info", [])
                           if i.get("family") == "inet"] for a in ip("addr", "show")}
    routes = [r for r in ip("-4", "route", "show", "default")]
    return links, addrs, routes


def has_carrier(link):
    flags = link.get("flags", [])
    return "NO-CARRIER" not in flags and ("LOWER_UP" in flags or link.get("operstate") != "DOWN")


def wait_carrier(name, seconds=3.0):
    """A link just switched on takes a moment to report its carrier."""
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        link = {l["ifname"]: l for l in ip("link", "show")}.get(name, {})
        if has_carrier(link):
            return True
        time.sleep(0.1)
    return False


VIRTUAL = ("dummy", "bridge", "bond", "tun", "tap", "wireguard", "vxlan", "macvlan", "ipvlan",
           "vlan", "gre", "sit", "ipip")


def uplinks():
    """Links that can be this computer's connection when the configuration cannot be read
    (NetworkManager keeps its keyfiles readable by root only)."""
    out = {}
    for link in ip("-details", "link", "show"):
        kind = link.get("linkinfo", {}).get("info_kind")
        if link.get("ifname") != "lo" and link.get("link_type") == "ether" and \
                kind not in VIRTUAL and "master" not in link:
            out[link["ifname"]] = {"method": "unknown", "address": None, "gateway": None,
                                   "by": "the links present"}
    return out


def problems(root):
    config = configured(root)
    unreadable = config.pop(None, None)
    links, addrs, routes = state()
    found = []
    present = {n: c for n, c in config.items() if n in links}
    if not present and unreadable:
        present = {n: c for n, c in uplinks().items() if n in links}
    for name, c in present.items():
        flags = links[name].get("flags", [])
        if "UP" not in flags:
            found.append((name, "down", "%s is switched off" % name))
            continue
        if not has_carrier(links[name]) and not wait_carrier(name, 2.0):
            found.append((name, "no-carrier", "%s has no link: no cable, or nothing at the "
                          "other end" % name))
            continue
        if c["address"] and c["address"] not in addrs.get(name, []):
            found.append((name, "address", "%s lacks its address %s" % (name, c["address"])))
    gateways = {c["gateway"]: n for n, c in present.items() if c.get("gateway")}
    if present and not any(k == "no-carrier" for _, k, _ in found):
        if not routes:
            found.append((None, "route", "there is no default route (no way out of the local "
                          "network)"))
        elif gateways and not any(r.get("gateway") in gateways for r in routes):
            found.append((None, "route", "the default route goes through %s, not the configured "
                          "gateway %s" % (routes[0].get("gateway") or routes[0].get("dev"),
                                          ", ".join(gateways))))
    return found, present


def nm_running():
    if not os.path.exists(NMCLI):
        return False
    p = subprocess.run([NMCLI, "-t", "-f", "RUNNING", "general"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, universal_newlines=True, timeout=10)
    return p.returncode == 0 and p.stdout.strip() == "running"


def repair(root, found, present):
    failures = []
    use_nm = root.top == "/" and nm_running()
    for name, kind, why in found:
        if kind == "no-carrier":
            failures.append(why + "; plug the cable in or check the router")
            continue
        if use_nm and name:
            subprocess.run([NMCLI, "device", "connect", name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=40)
            continue
        c = present.get(name) if name else None
        if kind == "down":
            failure = ip_do("link", "set", "dev", name, "up")
            if failure:
                failures.append(failure)
            elif not wait_carrier(name):
                failures.append("%s has no link: plug the cable in or check the router" % name)
            kind = "address"
        if kind == "address" and c and c["address"]:
            _, addrs, _ = state()
            if c["address"] not in addrs.get(name, []):
                failure = ip_do("addr", "add", c["address"], "dev", name)
                if failure:
                    failures.append(failure)
    links, addrs, routes = state()
    gateways = [(c["gateway"], n) for n, c in present.items() if c.get("gateway")]
    if any(k in ("route", "down", "address") for _, k, _ in found) and gateways and \
            not any(r.get("gateway") == g for r in routes for g, _ in gateways) and not use_nm:
        gateway, name = gateways[0]
        failure = ip_do("route", "replace", "default", "via", gateway, "dev", name)
        if failure:
            failures.append(failure)
    elif any(k == "route" for _, k, _ in found) and not gateways and not use_nm:
        failures.append("the configuration names no gateway (DHCP): reconnect to the network")
    return failures


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if not os.path.exists(IP):
        result("failed", "ip (iproute2) is not installed")
        return FAILED
    found, present = problems(root)
    if not present:
        result("not-applicable", "no configured network link on this system")
        return NOT_APPLICABLE
    if mode != "repair":
        if not found:
            result("ok", "the network connection is up with a way out")
            return OK
        finding("error", "The network connection is down or has no way out",
                "; ".join(w for _, _, w in found))
        result("problem")
        return PROBLEM
    failures = repair(root, found, present)
    if failures:
        result("failed", "; ".join(failures))
        return PROBLEM
    result("fixed", "the network connection is up")
    return OK


if __name__ == "__main__":
    sys.exit(main())
