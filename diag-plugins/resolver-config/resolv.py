#!/usr/bin/python3
# kefu plugin resolver-config: whether the name servers of /etc/resolv.conf can answer, as
# glibc's resolver reads the file; `repair` makes them. SPDX-License-Identifier: MIT
"""resolv.conf(5) and glibc's res_init: a line starting with '#' or ';' is a comment; the
keyword starts the line; `nameserver ADDRESS` (IPv4 in inet_aton's forms or IPv6, at most
MAXNS = 3 used, later ones ignored; the word ends at the first blank, so a trailing comment
is harmless); an unparsable address is skipped; with no usable nameserver line the resolver
asks the local machine (127.0.0.1). systemd-resolved answers on 127.0.0.53 and 127.0.0.54
(systemd-resolved.service(8)), and its stub file lives in /run, so a link to it is right
only while the service runs. A link to /run/NetworkManager or /run/resolvconf is filled by
NetworkManager or resolvconf while they run."""
import ipaddress
import os
import re
import socket
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import FAILED, NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib import systemd  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

CONF = "/etc/resolv.conf"
MAXNS = 3
RESOLVED = "systemd-resolved.service"
RESOLVED_ADDRESSES = ("127.0.0.53", "127.0.0.54")
LOCAL_SERVERS = ("dnsmasq.service", "unbound.service", "named.service", "bind9.service",
                 "pdns-recursor.service", "knot-resolver.service")
# Files in /run that a running service writes, and that service.
RUNTIME_FILES = {
    "/run/systemd/resolve/stub-resolv.conf": RESOLVED,
    "/run/systemd/resolve/resolv.conf": RESOLVED,
    "/run/NetworkManager/resolv.conf": "NetworkManager.service",
    "/run/NetworkManager/no-stub-resolv.conf": "NetworkManager.service",
    "/run/resolvconf/resolv.conf": "resolvconf.service",
}


def address_of(text):
    text = text.split("%", 1)[0]
    try:
        if ":" in text:
            return ipaddress.IPv6Address(text)
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except (OSError, ValueError):
        return None


def nameservers(text):
    """[(lineno, word, address or None)] of the nameserver lines, in order."""
    out = []
    for lineno, line in enumerate((text or "").splitlines(), 1):
        if not line or line[0] in "#;":
            continue
        words = line.split()
        if len(words) >= 1 and words[0] == "nameserver":
            word = words[1] if len(words) > 1 else ""
            out.append((lineno, word, address_of(word) if word else None))
    return out


def enabled(root, unit):
    return systemd.is_active(root, unit)


def nm_uses_dnsmasq(root):
    for path in ["/etc/NetworkManager/NetworkManager.conf"] + \
            ["/etc/NetworkManager/conf.d/" + n for n in root.listdir("/etc/NetworkManager/conf.d")]:
        if re.search(r"(?m)^\s*dns\s*=\s*dnsmasq\s*$", root.read_text(path) or ""):
            return True
    return False


def answers(root, addr):
    """Why a name server at ADDR cannot answer, or None."""
    if not addr.is_loopback and str(addr) != "0.0.0.0":
        return None  # on the network: not something a configuration can tell
    if str(addr) in RESOLVED_ADDRESSES:
        if systemd.state(root, RESOLVED) == "not-found":
            return "%s is systemd-resolved's address, and systemd-resolved is not installed" % addr
        if not enabled(root, RESOLVED):
            return "%s is systemd-resolved's address, and systemd-resolved is %s" % (
                addr, systemd.state(root, RESOLVED))
        return None
    if any(enabled(root, u) for u in LOCAL_SERVERS) or (
            enabled(root, "NetworkManager.service") and nm_uses_dnsmasq(root)):
        return None
    return "%s is this computer itself, and no name server runs on it" % addr


def diagnose(root):
    """(None, None) when the configured name servers can answer, else (why, kind)."""
    host = root.host_nofollow(CONF)
    if os.path.islink(host):
        target = root.link_target(CONF)
        service = RUNTIME_FILES.get(target or "")
        if service is not None and (root.top != "/" or not root.exists(CONF)):
            if systemd.state(root, service) == "not-found":
                return ("/etc/resolv.conf leads to %s, which %s would write, and it is not "
                        "installed" % (target, service)), "runtime-missing"
            if not enabled(root, service):
                return ("/etc/resolv.conf leads to %s, which only %s writes, and it is %s"
                        % (target, service, systemd.state(root, service))), "runtime-off"
            return None, None
        if not root.exists(CONF):
            return "/etc/resolv.conf is a link to %s, which does not exist" % \
                root.readlink(CONF), "dangling"
    text = root.read_text(CONF)
    servers = nameservers(text)
    used = [s for s in servers if s[2] is not None][:MAXNS]
    if text is None and not os.path.lexists(host):
        why = "/etc/resolv.conf is missing"
    elif not servers:
        why = "/etc/resolv.conf names no name server"
    elif not used:
        return "no nameserver line of /etc/resolv.conf has an address (%s)" % ", ".join(
            w or "empty" for _, w, _ in servers), "unparsable"
    else:
        reasons = [answers(root, a) for _, _, a in used]
        if any(r is None for r in reasons):
            return None, None
        if used[0][2] is not None and str(used[0][2]) in RESOLVED_ADDRESSES:
            return reasons[0], "stub-off"
        return "; ".join(reasons), "local-missing"
    # No usable line: glibc asks 127.0.0.1.
    reason = answers(root, ipaddress.IPv4Address("127.0.0.1"))
    if reason is None:
        return None, None
    return why + ", so the resolver asks this computer itself, and no name server runs on " \
        "it", "empty"


def configured_servers(root):
    """Name servers the network configuration names, in its order of preference."""
    found = []

    def add(words):
        for w in re.split(r"[\s,;]+", words.strip()):
            a = address_of(w) if w else None
            if a is not None and not a.is_loopback and str(a) not in found:
                found.append(str(a))
    for name in root.listdir("/etc/NetworkManager/system-connections"):
        text = root.read_text("/etc/NetworkManager/system-connections/" + name) or ""
        for m in re.finditer(r"(?m)^\s*dns\s*=\s*(.+)$", text):
            add(m.group(1))
    for folder in ("/etc/systemd/network", "/run/systemd/network", "/usr/lib/systemd/network"):
        for name in root.listdir(folder):
            if name.endswith(".network"):
                for m in re.finditer(r"(?m)^\s*DNS\s*=\s*(.+)$",
                                     root.read_text(folder + "/" + name) or ""):
                    add(m.group(1))
    for m in re.finditer(r"(?m)^\s*dns-nameservers\s+(.+)$",
                         root.read_text("/etc/network/interfaces") or ""):
        add(m.group(1))
    for folder in ("/var/lib/dhcp", "/var/lib/NetworkManager"):
        for name in root.listdir(folder):
            if name.endswith(".lease") or name.endswith(".leases"):
                leases = re.findall(r"option domain-name-servers ([^;]+);",
                                    root.read_text(folder + "/" + name) or "")
                if leases:
                    add(leases[-1])  # the newest lease is last
    for m in re.finditer(r"(?m)^\s*(?:Fallback)?DNS\s*=\s*(.+)$",
                         root.read_text("/etc/systemd/resolved.conf") or ""):
        add(m.group(1))
    return found


def write_servers(root, servers):
    host = root.host_nofollow(CONF)
    old = root.read_text(CONF) if os.path.exists(host) else None
    keep = [line for line in (old or "").splitlines()
            if line.split()[:1] and line.split()[0] in ("search", "domain", "options")]
    text = "# Written by kefu from this computer's network configuration\n" + \
        "".join("nameserver %s\n" % s for s in servers[:MAXNS]) + \
        "".join(line + "\n" for line in keep)
    if os.path.islink(host):
        os.unlink(host)
    root.write_text_atomic(CONF, text)


def repair(root, why, kind):
    relies_on_resolved = kind in ("stub-off", "runtime-off") and (
        kind == "stub-off" or RUNTIME_FILES.get(root.link_target(CONF) or "") == RESOLVED)
    if relies_on_resolved and systemd.state(root, RESOLVED) != "not-found":
        failed = systemd.switch_on(root, RESOLVED)
        if failed is None:
            return None
    if kind == "runtime-off":
        service = RUNTIME_FILES.get(root.link_target(CONF) or "")
        if service and systemd.state(root, service) != "not-found" and \
                systemd.switch_on(root, service) is None:
            return None
    servers = configured_servers(root)
    if not servers:
        return "the network configuration names no name server to write in /etc/resolv.conf"
    write_servers(root, servers)
    return None


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if not root.is_dir("/etc"):
        result("not-applicable", "no /etc")
        return NOT_APPLICABLE
    why, kind = diagnose(root)
    if mode != "repair":
        if why is None:
            result("ok", "a name server is configured")
            return OK
        finding("error", "No name server can answer, so web addresses do not open", why)
        result("problem")
        return PROBLEM
    if why is None:
        result("fixed", "nothing to change")
        return OK
    try:
        failed = repair(root, why, kind)
    except OSError as e:
        failed = "could not write /etc/resolv.conf: %s" % e.strerror
    if failed is not None:
        result("failed", failed)
        return PROBLEM if "names no name server" in failed else FAILED
    result("fixed", "a name server is configured again")
    return OK


if __name__ == "__main__":
    sys.exit(main())
