# kefu: `kefu-agentd diag` on hostile trees: partial report, notes, no crash, no hang. SPDX-License-Identifier: MIT
import os
import shutil
import tempfile

import pytest

from conftest import program, run
from diag_fixtures import devices_by_id, diag_json, pci_device, status_machine, validate, write


def collectors(report):
    return {c["name"]: c for c in report["collectors"]}


def test_binary_garbage_in_attributes_gives_valid_utf8_json(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    dev = "/sys/devices/pci0000:00/0000:00:02.0/"
    write(root, dev + "vendor", b"\xff\xfe\x00\x01garbage\x80")
    write(root, dev + "modalias", b"pci:\xc3\x28\xa0\xa1\x00\x00\xe2\x82\n")
    write(root, "/sys/class/dmi/id/product_name", b"\x00\x1b[31mred\xf0\x28\x8c\x28")
    write(root, "/etc/os-release", b'PRETTY_NAME="\xff\xfe"\nID=\x00\x00\n' + os.urandom(4096))
    write(root, "/var/log/dmesg", os.urandom(65536) + b"\niwlwifi 0000:00:14.3: Direct firmware "
          b"load for \xff\xfe.ucode failed with error -2\n")
    result, report = diag_json(root)
    assert result.returncode == 0, result.stderr
    validate(report)
    device = devices_by_id(report)["pci:0000:00:02.0"]
    assert device["vendor_id"] is None          # not hex: unknown, not invented
    assert "?" in device["modalias"]
    assert devices_by_id(report)["pci:0000:00:14.3"]["status"] == "failed"


def test_absurdly_long_values_are_cut_and_huge_logs_capped_with_a_note(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    write(root, "/sys/devices/pci0000:00/0000:00:02.0/modalias", "pci:" + "v" * (8 << 20))
    write(root, "/proc/sys/kernel/hostname", "h" * 100000)
    big = ("[    1.000000] " + "x" * 200 + "\n") * 30000  # ~6.5 MB
    with open(os.path.join(root, "var/log/dmesg"), "a") as log:
        log.write(big)
        # The newest lines matter most: a cut log keeps its end.
        log.write("[ 9000.000000] e1000e 0000:01:00.0: probe with driver e1000e failed with "
                  "error -5\n")
    result, report = diag_json(root, timeout=120)
    assert result.returncode == 0, result.stderr
    validate(report)
    assert len(devices_by_id(report)["pci:0000:00:02.0"]["modalias"]) < 1024
    notes = collectors(report)["kernel-log"]["notes"]
    assert any("only its last" in note for note in notes), notes
    assert devices_by_id(report)["pci:0000:01:00.0"]["status"] == "failed"


def test_symlink_loops_and_dangling_links_leave_a_partial_report(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    devices = os.path.join(root, "sys/bus/pci/devices")
    os.symlink("0000:00:09.0", os.path.join(devices, "0000:00:09.0"))       # points at itself
    os.symlink("0000:00:0b.0", os.path.join(devices, "0000:00:0a.0"))       # a two-link loop
    os.symlink("0000:00:0a.0", os.path.join(devices, "0000:00:0b.0"))
    os.symlink("../../../devices/nowhere", os.path.join(devices, "0000:00:0c.0"))
    os.makedirs(os.path.join(root, "sys/class"), exist_ok=True)
    os.symlink("net", os.path.join(root, "sys/class/net"))                  # a folder loop
    os.symlink(".", os.path.join(root, "sys/devices/pci0000:00/0000:00:02.0/loop"))
    result, report = diag_json(root)
    assert result.returncode == 0, result.stderr
    validate(report)
    ids = devices_by_id(report)
    assert ids["pci:0000:00:02.0"]["status"] == "works"        # the rest is still there
    assert ids["pci:0000:00:09.0"]["vendor_id"] is None
    network = collectors(report)["network"]
    assert network["ok"] is False and "net" in network["error"]


def test_fifos_and_device_nodes_do_not_hang_a_collector(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    os.unlink(os.path.join(root, "proc/cpuinfo"))
    os.mkfifo(os.path.join(root, "proc/cpuinfo"))
    os.unlink(os.path.join(root, "proc/meminfo"))
    os.symlink("/dev/zero", os.path.join(root, "proc/meminfo"))
    result, report = diag_json(root, timeout=30)
    assert result.returncode == 0, result.stderr
    validate(report)
    assert collectors(report)["cpu"]["ok"] is False
    assert "not a regular file" in collectors(report)["memory"]["error"]
    assert report["devices"]


def test_unreadable_files_are_collector_errors_not_failures(tmp_path):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to run as an unprivileged user")
    # pytest's own folders are private to root: the unprivileged run needs one of its own.
    scratch = tempfile.mkdtemp(prefix="kefu-diag-")
    try:
        check_unreadable(scratch)
    finally:
        shutil.rmtree(scratch)


def check_unreadable(scratch):
    os.chmod(scratch, 0o755)
    root = os.path.join(scratch, "root")
    status_machine(root)
    for folder, dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            if not os.path.islink(os.path.join(folder, name)):
                os.chmod(os.path.join(folder, name), 0o644)
    os.chmod(os.path.join(root, "proc/modules"), 0)
    os.chmod(os.path.join(root, "etc/os-release"), 0)
    os.chmod(os.path.join(root, "sys/devices/pci0000:00/0000:00:02.0/vendor"), 0)
    os.chmod(os.path.join(root, "sys/class/dmi/id"), 0)
    os.chmod(os.path.join(root, "var/log"), 0)
    result = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  program("kefu-agentd"), "diag", "--root", root, "--json"])
    assert result.returncode == 0, result.stderr
    import json
    report = json.loads(result.stdout)
    validate(report)
    status = collectors(report)
    assert status["modules"]["ok"] is False and "Permission denied" in status["modules"]["error"]
    assert status["system"]["ok"] is False
    assert status["kernel-log"]["ok"] is False
    assert [e["cause"] for e in report["not_checked"]] == ["denied"]
    device = devices_by_id(report)["pci:0000:00:02.0"]
    assert device["vendor_id"] is None and device["driver"] == "i915"
    assert status["pci"]["ok"] is True


def test_a_device_folder_in_place_of_an_attribute_is_skipped(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    dev = os.path.join(root, "sys/devices/pci0000:00/0000:00:02.0")
    os.unlink(os.path.join(dev, "class"))
    os.makedirs(os.path.join(dev, "class"))
    pci_device(root, "0000:00:1e.0", "zzzz", "1234", "nothex")
    result, report = diag_json(root)
    assert result.returncode == 0
    validate(report)
    ids = devices_by_id(report)
    assert ids["pci:0000:00:02.0"]["class"] is None
    assert ids["pci:0000:00:1e.0"]["vendor_id"] is None and ids["pci:0000:00:1e.0"]["class"] is None


def all_notes(report):
    return [note for c in report["collectors"] for note in c["notes"]]


def test_a_driver_link_pointing_at_itself_is_no_driver_and_says_so(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    dev = os.path.join(root, "sys/devices/pci0000:00/0000:01:00.0")
    os.symlink("driver", os.path.join(dev, "driver"))                     # driver -> driver
    pci_device(root, "0000:00:1c.0", "8086", "9d10", "060400")
    os.symlink("../0000:00:1c.0/driver",
               os.path.join(root, "sys/devices/pci0000:00/0000:00:1c.0/driver"))
    result, report = diag_json(root)
    assert result.returncode == 0, result.stderr
    validate(report)
    ids = devices_by_id(report)
    assert ids["pci:0000:01:00.0"]["driver"] in (None, "")
    assert ids["pci:0000:00:1c.0"]["driver"] in (None, "")
    notes = collectors(report)["pci"]["notes"]
    assert any("0000:01:00.0/driver" in n and "loops" in n for n in notes), notes
    assert any("0000:00:1c.0/driver" in n and "loops" in n for n in notes), notes
    assert ids["pci:0000:00:02.0"]["driver"] == "i915"                    # real links still read


def test_a_huge_attribute_is_cut_with_a_note(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    write(root, "/sys/devices/pci0000:00/0000:00:02.0/modalias", "pci:" + "v" * (8 << 20))
    write(root, "/proc/sys/kernel/hostname", "h" * 100000)
    result, report = diag_json(root)
    assert result.returncode == 0, result.stderr
    validate(report)
    assert len(devices_by_id(report)["pci:0000:00:02.0"]["modalias"]) < 1024
    notes = collectors(report)["pci"]["notes"]
    assert any("0000:00:02.0/modalias" in n and "cut" in n for n in notes), notes
    notes = collectors(report)["system"]["notes"]
    assert any("/proc/sys/kernel/hostname" in n and "cut" in n for n in notes), notes


def test_invalid_utf8_is_replaced_with_a_note(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    write(root, "/sys/devices/pci0000:00/0000:00:02.0/modalias", b"pci:\xc3\x28\xa0\xa1v8086\n")
    write(root, "/sys/class/dmi/id/product_name", b"Think\xffPad\n")
    write(root, "/etc/os-release", b'PRETTY_NAME="Deb\xfe\xffian"\nID=debian\n')
    write(root, "/sys/devices/pci0000:00/0000:00:17.0/uevent", b"DRIVER=ahci\nPCI_ID=8086:\xff\n")
    result, report = diag_json(root)
    assert result.returncode == 0, result.stderr
    validate(report)
    assert "?" in devices_by_id(report)["pci:0000:00:02.0"]["modalias"]
    pci = collectors(report)["pci"]["notes"]
    assert any("0000:00:02.0/modalias" in n and "not UTF-8" in n for n in pci), pci
    assert any("0000:00:17.0/uevent" in n and "not UTF-8" in n for n in pci), pci
    system = collectors(report)["system"]["notes"]
    assert any("product_name" in n and "not UTF-8" in n for n in system), system
    assert any("/etc/os-release" in n and "not UTF-8" in n for n in system), system


def test_a_10000_line_uevent_is_cut_with_a_note(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    dev = "/sys/devices/pci0000:00/0000:01:00.0"
    write(root, dev + "/uevent", "DRIVER=r8169\n" + "".join(
        "KEY%05d=value\n" % i for i in range(10000)))
    # Few bytes but many entries: the count is bounded on its own.
    write(root, "/sys/devices/pci0000:00/0000:00:17.0/uevent", "".join(
        "K%d=v\n" % i for i in range(2000)))
    result, report = diag_json(root, timeout=60)
    assert result.returncode == 0, result.stderr
    validate(report)
    assert devices_by_id(report)["pci:0000:01:00.0"]["status"] is not None
    notes = collectors(report)["pci"]["notes"]
    assert any("0000:01:00.0/uevent" in n and "only the first" in n for n in notes), notes
    assert any("0000:00:17.0/uevent" in n and "entries" in n for n in notes), notes


def test_a_tree_hostile_everywhere_keeps_its_notes_bounded(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    for i in range(200):
        slot = "0000:03:%02x.%d" % (i // 8, i % 8)
        pci_device(root, slot, "8086", "1234", "020000")
        write(root, "/sys/devices/pci0000:00/%s/modalias" % slot, b"pci:\xff\xfe\n")
    result, report = diag_json(root, timeout=60)
    assert result.returncode == 0, result.stderr
    validate(report)
    notes = collectors(report)["pci"]["notes"]
    assert len(notes) <= 51
    assert "were left out" in notes[-1]
