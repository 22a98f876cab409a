# kefu: a redacted bundle of a tree with planted identifiers keeps none of them, in any spelling. SPDX-License-Identifier: MIT
import ipaddress
import json
import os
import subprocess

import pytest

from conftest import program, run
from diag_fixtures import PLANTED, privacy_machine, spellings


@pytest.fixture
def bundle(tmp_path):
    """The extracted redacted bundle of privacy_machine(): {member: bytes}, and the mapping."""
    root = str(tmp_path / "root")
    privacy_machine(root)
    path = str(tmp_path / "case.tar.zst")
    mapping = str(tmp_path / "private" / "case.map.json")
    result = run([program("kefu-agentd"), "diag", "--root", root, "--bundle", path,
                  "--map", mapping])
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["tar", "--zstd", "-xf", path, "-C", str(out)], check=True, timeout=60)
    members = {}
    for folder, _, files in os.walk(out):
        for name in files:
            with open(os.path.join(folder, name), "rb") as file:
                members[os.path.relpath(os.path.join(folder, name), out)] = file.read()
    with open(mapping) as file:
        entries = json.load(file)
    return members, {e["original"]: e["pseudonym"] for e in entries.values()}


def test_the_tree_really_holds_every_planted_value_where_the_bundle_reads_it(tmp_path):
    root = str(tmp_path / "root")
    privacy_machine(root)
    path = str(tmp_path / "plain.tar.zst")
    result = run([program("kefu-agentd"), "diag", "--root", root, "--bundle", path, "--no-redact"])
    assert result.returncode == 0, result.stderr
    listing = subprocess.run(["tar", "--zstd", "-xOf", path], stdout=subprocess.PIPE,
                             check=True, timeout=60).stdout.lower()
    for kind, value in PLANTED.items():
        assert any(form.lower().encode() in listing for form in spellings(kind, value)), kind


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_no_planted_value_survives_in_any_member_in_any_spelling(bundle, kind):
    members, _ = bundle
    for name, data in members.items():
        for form in spellings(kind, PLANTED[kind]):
            assert form.encode() not in data, "%s %r survives in %s" % (kind, form, name)


def test_address_pseudonyms_are_in_obviously_fake_or_private_ranges(bundle):
    members, pseudonym = bundle
    ranges = {
        "ipv4_gateway": ["192.168.0.0/16"], "ipv4_laptop": ["192.168.0.0/16"],
        "ipv4_private": ["10.0.0.0/8"],
        "ipv4_public": ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"],
        "ipv6_global": ["2001:db8::/32"], "ipv6_ula": ["fd00::/8"],
    }
    for kind, nets in ranges.items():
        fake = ipaddress.ip_address(pseudonym[PLANTED[kind]])
        assert any(fake in ipaddress.ip_network(net) for net in nets), (kind, fake)
        assert str(fake).encode() in b"".join(members.values()), kind
    # One /24 stays one /24.
    net = lambda a: ipaddress.ip_network(a + "/24", strict=False)
    assert net(pseudonym[PLANTED["ipv4_gateway"]]) == net(pseudonym[PLANTED["ipv4_laptop"]])
    # The route table's hexadecimal gateway is the hexadecimal form of the dotted pseudonym.
    gateway = ipaddress.IPv4Address(pseudonym[PLANTED["ipv4_gateway"]]).packed[::-1].hex().upper()
    assert gateway.encode() in members["raw/proc/net/route"]
    assert b"00FFFFFF" in members["raw/proc/net/route"]
    report = json.loads(members["report.json"])
    routes = {r["gateway"] for r in report["network"]["default_routes"]}
    assert pseudonym[PLANTED["ipv4_gateway"]] in routes


def test_secrets_read_redacted_and_identifiers_read_as_pseudonyms(bundle):
    members, pseudonym = bundle
    log = members["raw/kernel.log"]
    assert b"token=REDACTED password: REDACTED passwd=REDACTED secret=REDACTED" in log
    assert b"https://deploy" not in log and b":REDACTED@git.example.com" in log
    assert b"MAC=b4:2e:99:" in log and b":58:91:cf:" in log and b":08:00 SRC=" in log
    printers = members["raw/etc/cups/printers.conf"]
    assert ("<Printer Office_%s>" % pseudonym[PLANTED["hostname"]]).encode() in printers
    assert b":REDACTED@" in printers
    fstab = members["raw/etc/fstab"]
    assert b"password=REDACTED" in fstab and b"credentials=REDACTED" in fstab
    assert ("username=%s" % pseudonym[PLANTED["cifs_user"]]).encode() in fstab
    assert b"@example.invalid" in log
    # Passwords are not kept in the mapping either: it holds what to restore, not secrets.
    for kind in ("uri_password", "smb_password", "https_password", "log_token", "log_password",
                 "cifs_password"):
        assert not any(PLANTED[kind] in original for original in pseudonym), kind
