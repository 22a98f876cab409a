#!/usr/bin/python3
# kefu plugin hosts-loopback: whether localhost and the computer's own name resolve as
# glibc's files module reads /etc/hosts; `repair` adds what is missing. SPDX-License-Identifier: MIT
"""hosts(5): one line per address, `IP_address canonical_hostname [aliases...]`, fields
separated by blanks or tabs, text from '#' to the end of the line is a comment, names compare
without regard to case. glibc's files module returns, for a name and an address family, the
first line that names it (host.conf(5) `multi` only adds more); a line whose address does not
parse is skipped. hostname(5): /etc/hostname holds one name, '#' lines are comments.
nss-myhostname answers the computer's own name (and localhost) when hosts in nsswitch.conf
reaches it."""
import ipaddress
import os
import socket
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib import nsswitch  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

HOSTS = "/etc/hosts"
IPV6_DEFAULT = "::1\t\tlocalhost ip6-localhost ip6-loopback\n"


def address_of(text):
    if ":" in text:
        try:
            return 6, ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    try:  # inet_aton's forms, as glibc's __inet_aton_exact: 127.1, 0x7f.1, 127.0.0.1
        return 4, ipaddress.IPv4Address(socket.inet_aton(text))
    except (OSError, ValueError):
        return None


def entries(text):
    """[(lineno, family, address, [names])] of the lines glibc reads."""
    out = []
    for lineno, line in enumerate((text or "").splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        addr = address_of(fields[0])
        if addr is None:
            continue
        out.append((lineno, addr[0], addr[1], [n.lower() for n in fields[1:]]))
    return out


def first(table, name, family):
    for entry in table:
        if entry[1] == family and name.lower() in entry[3]:
            return entry
    return None


def own_name(root):
    for line in (root.read_text("/etc/hostname") or "").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return line
    return None


def myhostname_reached(root):
    """Whether a lookup of the own name that files does not know reaches nss-myhostname."""
    text = root.read_text("/etc/nsswitch.conf")
    config = nsswitch.Config(text if text is not None else "")
    if config.error is not None:
        return False
    installed = nsswitch.module_installed(root)
    for source in config.sources("hosts"):
        if source.name == "myhostname":
            return installed("myhostname")
        # Nothing else knows this computer's own name: files and DNS say NOTFOUND.
        statuses = nsswitch.internet_statuses(source, installed(source.name))
        if any(source.actions[s] == "return" for s in statuses):
            return False
    return False


def problems(root, text):
    table = entries(text)
    found = []
    v4 = first(table, "localhost", 4)
    if v4 is None:
        found.append(("v4", "localhost has no IPv4 address (127.0.0.1)"))
    elif not v4[2].is_loopback:
        found.append(("v4-wrong", "line %d gives localhost the address %s, not a loopback "
                      "address" % (v4[0], v4[2])))
    v6 = first(table, "localhost", 6)
    if v6 is not None and not v6[2].is_loopback:
        found.append(("v6-wrong", "line %d gives localhost the address %s, not ::1"
                      % (v6[0], v6[2])))
    name = own_name(root)
    if name and name.lower() != "localhost" and not any(name.lower() in e[3] for e in table) \
            and not myhostname_reached(root):
        found.append(("name", "this computer's name %s is in no line, and nsswitch.conf "
                      "does not reach nss-myhostname" % name))
    return found


def repaired(root, text, found):
    lines = (text or "").splitlines(True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    kinds = {k for k, _ in found}
    table = entries(text)
    for kind, family in (("v4-wrong", 4), ("v6-wrong", 6)):
        # Take localhost off the lines that capture it before the loopback line.
        while kind in kinds:
            entry = first(entries("".join(lines)), "localhost", family)
            if entry is None or entry[2].is_loopback:
                break
            line = lines[entry[0] - 1]
            body, sep, comment = line.partition("#")
            words = [w for w in body.split() if w.lower() != "localhost"]
            lines[entry[0] - 1] = ("\t".join([words[0], " ".join(words[1:])])
                                   if len(words) > 1 else "#" + line.rstrip("\n")) + \
                ((" #" + comment.rstrip("\n")) if sep and len(words) > 1 else "") + "\n"
    table = entries("".join(lines))
    head = []
    if first(table, "localhost", 4) is None:
        head.append("127.0.0.1\tlocalhost\n")
    name = own_name(root)
    if "name" in kinds and name:
        short = name.split(".", 1)[0]
        head.append("127.0.1.1\t%s\n" % (name if short == name else name + " " + short))
    tail = []
    if not table and first(table, "localhost", 6) is None:  # a new or empty file: Debian's
        tail = ["\n# The following lines are desirable for IPv6 capable hosts\n", IPV6_DEFAULT]
    return "".join(head + lines + tail)


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if not root.is_dir("/etc"):
        result("not-applicable", "no /etc")
        return NOT_APPLICABLE
    text = root.read_text(HOSTS)
    found = problems(root, text)
    if mode != "repair":
        if not found:
            result("ok", "localhost and this computer's name resolve")
            return OK
        what = "/etc/hosts is missing" if text is None else "; ".join(w for _, w in found)
        finding("error", "Programs cannot reach this computer by its own name", what)
        result("problem")
        return PROBLEM
    if not found:
        result("fixed", "nothing to change")
        return OK
    new_text = repaired(root, text, found)
    if problems(root, new_text):
        result("failed", "could not give localhost and this computer's name their addresses")
        return PROBLEM
    try:
        if root.is_link(HOSTS) and not root.exists(HOSTS):
            os.unlink(root.host_nofollow(HOSTS))  # a link to nowhere is replaced by a file
        root.write_text_atomic(HOSTS, new_text)  # the agent keeps the old one for undo
    except OSError as e:
        result("failed", "could not write /etc/hosts: %s" % e.strerror)
        return PROBLEM
    result("fixed", "localhost and this computer's name resolve again")
    return OK


if __name__ == "__main__":
    sys.exit(main())
