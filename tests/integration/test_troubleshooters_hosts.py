# kefu: hosts-loopback, with faults and healthy variants written from hosts(5) and
# hostname(5); the repair is checked by this file's own reading of /etc/hosts the way
# glibc's files module answers (first line per name and family). SPDX-License-Identifier: MIT
import ipaddress
import os
import socket

import pytest

from plugin_trees import base_tree, fix_only, healthy_only, write

PLUGIN = "hosts-loopback"


def need_root():
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")


def lookup(text, name, family):
    """The address glibc's files module returns for NAME (hosts(5): '#' starts a comment,
    names compare without case, the first line wins), else None."""
    for line in text.splitlines():
        fields = line.split("#")[0].split()
        if len(fields) < 2 or name.lower() not in (f.lower() for f in fields[1:]):
            continue
        try:
            addr = ipaddress.ip_address(fields[0]) if ":" in fields[0] else \
                ipaddress.IPv4Address(socket.inet_aton(fields[0]))
        except (OSError, ValueError):
            continue
        if addr.version == family:
            return addr
    return None


def resolves_itself(root):
    text = open(os.path.join(root, "etc/hosts")).read()
    v4 = lookup(text, "localhost", 4)
    v6 = lookup(text, "localhost", 6)
    name = open(os.path.join(root, "etc/hostname")).read().split()[0]
    return v4 is not None and v4.is_loopback and (v6 is None or v6.is_loopback) and \
        lookup(text, name, 4) is not None


FAULTS = {
    # the file is gone: nothing answers for localhost from files
    "missing": None,
    "empty": "",
    # a '#' makes the rest of the line a comment
    "commented": "#127.0.0.1 localhost\n127.0.1.1 pc\n",
    # a name that only looks like localhost
    "misspelt": "127.0.0.1 local-host\n127.0.1.1 pc\n::1 localhost\n",
    # the first line for a name wins: localhost goes to the LAN address
    "captured": "192.168.1.20 printer localhost\n127.0.0.1 localhost\n127.0.1.1 pc\n",
    # an address that does not parse makes glibc skip the line
    "bad-address": "127.0.0.256 localhost\n127.0.1.1 pc\n",
    # only IPv6: an IPv4 lookup of localhost finds nothing
    "ipv6-only": "::1 localhost ip6-localhost\n127.0.1.1 pc\n",
    # the computer was renamed; the old name is still in the file
    "renamed": "127.0.0.1 localhost\n127.0.1.1 old-name\n",
    # IPv6 localhost sent to a global address
    "v6-captured": "127.0.0.1 localhost\n127.0.1.1 pc\n2001:db8::5 localhost\n",
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_hosts_fault_is_repaired(tmp_path, name):
    need_root()
    root = base_tree(tmp_path)
    # nss-myhostname would answer the own name: take it away so that the file must.
    write(root, "/etc/nsswitch.conf", "passwd: files\nhosts: files dns\n")
    if FAULTS[name] is None:
        os.unlink(os.path.join(root, "etc/hosts"))
    else:
        write(root, "/etc/hosts", FAULTS[name])
    assert not resolves_itself(root) if FAULTS[name] is not None else True
    fix_only(tmp_path, root, PLUGIN)
    assert resolves_itself(root), open(os.path.join(root, "etc/hosts")).read()
    if FAULTS[name] and "printer" in FAULTS[name]:
        assert lookup(open(os.path.join(root, "etc/hosts")).read(), "printer", 4) == \
            ipaddress.IPv4Address("192.168.1.20")  # other names are kept


HEALTHY = {
    "debian": None,  # base_tree's file
    "localdomain": "127.0.0.1\tlocalhost.localdomain localhost\n127.0.1.1 pc.example.org pc\n",
    "upper-case": "127.0.0.1 LOCALHOST\n127.0.1.1 PC\n",
    "short-ipv4": "127.1 localhost\n127.0.1.1 pc\n",  # inet_aton's short form
    "real-address": "127.0.0.1 localhost\n192.168.1.10 pc.home pc # fixed address\n",
    "tabs-and-comments": "# hosts\n\t127.0.0.1\t\tlocalhost\t# loopback\n::1 localhost\n"
                         "127.0.1.1\tpc\n",
}


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_valid_hosts_file_is_left_alone(tmp_path, name):
    root = base_tree(tmp_path)
    if HEALTHY[name] is not None:
        write(root, "/etc/hosts", HEALTHY[name])
    if name == "localdomain":
        write(root, "/etc/hostname", "pc.example.org\n")
    healthy_only(tmp_path, root, PLUGIN)


def test_own_name_answered_by_myhostname_needs_no_line(tmp_path):
    root = base_tree(tmp_path)
    write(root, "/usr/lib/x86_64-linux-gnu/libnss_myhostname.so.2", "ELF")
    write(root, "/etc/nsswitch.conf", "hosts: files myhostname dns\n")
    write(root, "/etc/hosts", "127.0.0.1 localhost\n")
    healthy_only(tmp_path, root, PLUGIN)


def test_own_name_behind_notfound_return_is_a_problem(tmp_path):
    need_root()
    root = base_tree(tmp_path)
    write(root, "/etc/nsswitch.conf", "hosts: files [NOTFOUND=return] myhostname\n")
    write(root, "/etc/hosts", "127.0.0.1 localhost\n")
    fix_only(tmp_path, root, PLUGIN)
    assert resolves_itself(root)
