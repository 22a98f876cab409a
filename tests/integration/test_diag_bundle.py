# kefu: the diagnostics bundle: a real .tar.zst, its manifest, and redaction that leaves nothing behind. SPDX-License-Identifier: MIT
import hashlib
import ipaddress
import json
import os
import stat
import subprocess

from conftest import program, run
from diag_fixtures import status_machine, validate, write

SECRETS = {
    "hostname": "alice-laptop",
    "user": "alice",
    "full_name": "Alice Liddell",
    "home": "/home/alice",
    "dmi_serial": "PF2XK9QZ",
    "board_serial": "L1HF8AC01PK",
    "uuid": "4c4c4544-0042-3510-8051-b4c04f4b4e32",
    "usb_serial": "C767F1C714174C309255F70E4A7B2EE2",
    "disk_serial": "S3Z9NB0K812345X",
    "battery_serial": "BAT8812345",
    "mac": "3c:52:82:4e:1a:7b",
    "ip_gateway": "192.168.1.1",
    "ip_laptop": "192.168.1.23",
    "ip_printer": "192.168.1.77",
    "ip_other": "10.20.30.40",
    "ipv6": "2001:db8:1::53",
}


def secret_machine(root):
    status_machine(root)
    write(root, "/proc/sys/kernel/hostname", SECRETS["hostname"] + "\n")
    write(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
          "alice:x:1000:1000:Alice Liddell,,,:/home/alice:/bin/bash\n")
    write(root, "/sys/class/dmi/id/product_serial", SECRETS["dmi_serial"] + "\n")
    write(root, "/sys/class/dmi/id/board_serial", SECRETS["board_serial"] + "\n")
    write(root, "/sys/class/dmi/id/product_uuid", SECRETS["uuid"] + "\n")
    write(root, "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/serial", SECRETS["usb_serial"] + "\n")
    write(root, "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/serial",
          SECRETS["disk_serial"] + "\n")
    for name, value in {"type": "Battery", "capacity": "90", "serial_number": SECRETS["battery_serial"]}.items():
        write(root, "/sys/class/power_supply/BAT0/" + name, value + "\n")
    net = "/sys/devices/pci0000:00/0000:00:14.3/net/wlp0s20f3"
    write(root, net + "/address", SECRETS["mac"] + "\n")
    write(root, net + "/operstate", "up\n")
    os.makedirs(os.path.join(root, "sys/class/net"), exist_ok=True)
    os.symlink("../../devices/pci0000:00/0000:00:14.3/net/wlp0s20f3",
               os.path.join(root, "sys/class/net/wlp0s20f3"))
    # 192.168.1.1 as the kernel writes it: little-endian hex.
    write(root, "/proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"
          "wlp0s20f3\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\n")
    write(root, "/etc/resolv.conf", "nameserver %s\nnameserver %s\n" % (SECRETS["ip_gateway"], SECRETS["ipv6"]))
    write(root, "/etc/cups/printers.conf", "<Printer Office>\nDeviceURI ipp://%s/ipp/print\n"
          "State Idle\n</Printer>\n" % SECRETS["ip_printer"])
    with open(os.path.join(root, "var/log/dmesg"), "a") as log:
        log.write("[  200.000000] wlp0s20f3: authenticate with %s\n" % SECRETS["mac"])
        log.write("[  201.000000] IPv4: martian source %s from %s, on dev wlp0s20f3\n" % (
            SECRETS["ip_laptop"], SECRETS["ip_other"]))
        log.write("[  202.000000] audit: comm=\"bash\" exe=\"/home/alice/bin/tool\" hostname=%s\n"
                  % SECRETS["hostname"])
        log.write("[  203.000000] usb 1-2: SerialNumber: %s\n" % SECRETS["usb_serial"])
        log.write("[  204.000000] cifs: mounted for Alice Liddell\n")


def make_bundle(tmp_path, *extra):
    root = str(tmp_path / "root")
    secret_machine(root)
    bundle = str(tmp_path / "case.tar.zst")
    mapping = str(tmp_path / "private" / "case.map.json")
    result = run([program("kefu-agentd"), "diag", "--root", root, "--bundle", bundle,
                  "--map", mapping] + list(extra))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["tar", "--zstd", "-xf", bundle, "-C", str(out)], check=True, timeout=60)
    members = {}
    for folder, _, files in os.walk(out):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as file:
                members[os.path.relpath(path, out)] = file.read()
    return result, members, mapping, str(out)


def test_bundle_extracts_with_tar_and_its_manifest_verifies(tmp_path):
    _, members, _, out = make_bundle(tmp_path)
    assert {"README.txt", "report.json", "summary.txt", "MANIFEST.sha256"} <= set(members)
    assert any(name.startswith("raw/") for name in members)
    listed = {}
    for line in members["MANIFEST.sha256"].decode().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert set(listed) == set(members) - {"MANIFEST.sha256"}
    for name, digest in listed.items():
        assert hashlib.sha256(members[name]).hexdigest() == digest
    check = run(["sha256sum", "-c", "--strict", "MANIFEST.sha256"], cwd=out)
    assert check.returncode == 0, check.stdout + check.stderr
    validate(json.loads(members["report.json"]))


def test_no_sensitive_string_survives_in_any_member(tmp_path):
    _, members, _, _ = make_bundle(tmp_path)
    for name, data in members.items():
        for kind, secret in SECRETS.items():
            assert secret.encode() not in data, "%s (%s) survives in %s" % (secret, kind, name)
            assert secret.upper().encode() not in data, "%s survives in %s" % (secret, name)


def test_pseudonyms_are_consistent_and_keep_subnets(tmp_path):
    _, members, mapping, _ = make_bundle(tmp_path)
    with open(mapping) as file:
        entries = json.load(file)
    pseudonym = {e["original"]: e["pseudonym"] for e in entries.values()}
    # The gateway is in resolv.conf, the route table and the report: one pseudonym everywhere.
    gateway = pseudonym[SECRETS["ip_gateway"]]
    for name in ("raw/etc/resolv.conf", "report.json"):
        assert gateway.encode() in members[name], name
    assert pseudonym[SECRETS["hostname"]].startswith("host-")
    assert pseudonym[SECRETS["usb_serial"]].encode() in members["raw/kernel.log"]
    assert pseudonym[SECRETS["usb_serial"]].encode() in members["report.json"]
    # Addresses in one /24 stay in one /24; the other network does not join it.
    net = lambda a: ipaddress.ip_network(a + "/24", strict=False)
    assert net(pseudonym[SECRETS["ip_laptop"]]) == net(pseudonym[SECRETS["ip_printer"]]) == net(gateway)
    assert net(pseudonym[SECRETS["ip_other"]]) != net(gateway)
    assert pseudonym[SECRETS["mac"]].startswith("3c:52:82:")
    assert ipaddress.ip_address(pseudonym[SECRETS["ipv6"]]).version == 6
    report = json.loads(members["report.json"])
    assert report["system"]["hostname"] == pseudonym[SECRETS["hostname"]]
    assert report["system"]["dmi"]["product_serial"] == pseudonym[SECRETS["dmi_serial"]]


def test_mapping_stays_on_the_machine_readable_only_by_its_owner(tmp_path):
    result, members, mapping, _ = make_bundle(tmp_path)
    assert oct(stat.S_IMODE(os.stat(mapping).st_mode)) == oct(0o600)
    assert mapping in result.stderr
    assert not any(name.endswith(".map.json") for name in members)


def test_mapping_goes_to_the_state_folder_by_default(tmp_path):
    root = str(tmp_path / "root")
    secret_machine(root)
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home))
    env.pop("XDG_STATE_HOME", None)
    result = run([program("kefu-agentd"), "diag", "--root", root, "--bundle",
                  str(tmp_path / "b.tar.zst")], env=env)
    assert result.returncode == 0, result.stderr
    assert os.path.exists(home / ".local/state/kefu/redaction/b.tar.zst.map.json")


def test_no_redact_keeps_values_and_says_so(tmp_path):
    _, members, mapping, _ = make_bundle(tmp_path, "--no-redact")
    # Every secret the redaction test looks for is really in the unredacted bundle.
    everything = b"".join(members.values())
    for kind, secret in SECRETS.items():
        assert secret.encode() in everything, kind
    assert SECRETS["hostname"].encode() in members["report.json"]
    assert b"NOT redacted" in members["README.txt"]
    assert not os.path.exists(mapping)


def test_bundle_into_a_missing_folder_fails_without_leftovers(tmp_path):
    root = str(tmp_path / "root")
    status_machine(root)
    target = tmp_path / "absent" / "b.tar.zst"
    result = run([program("kefu-agentd"), "diag", "--root", root, "--bundle", str(target)])
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "absent").exists()
