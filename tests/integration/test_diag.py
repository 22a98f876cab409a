# kefu: `kefu-agentd diag` on this machine, on replayed umockdev recordings and on hand-made machines. SPDX-License-Identifier: MIT
import glob
import json
import os
import re
import shutil

import pytest

from conftest import program, run
from diag_fixtures import (base_system, check_recorded_devices, devices_by_id, diag_json,
                           replay_umockdev, status_machine, validate, write)
from diag_fixtures import umockdev_dir  # noqa: F401 (a pytest fixture)

UMOCKDEV = ["canon-powershot-sx200", "sony-xperia-mini-pro", "synaptics-touchpad", "usbkbd"]


@pytest.fixture(scope="module")
def live_report():
    result, report = diag_json("/")
    assert result.returncode == 0, result.stderr
    return report


def test_live_report_validates_against_the_schema(live_report):
    validate(live_report)
    assert live_report["schema"] == "kefu.report/1"
    assert {c["name"] for c in live_report["collectors"]} >= {
        "system", "cpu", "memory", "kernel-log", "modules", "pci", "usb", "storage", "network",
        "printers", "power", "firmware"}


def test_live_system_matches_os_release_and_uname(live_report):
    os_release = {}
    with open("/etc/os-release") as file:
        for line in file:
            key, _, value = line.strip().partition("=")
            os_release[key] = value.strip('"')
    assert live_report["system"]["os"]["id"] == os_release["ID"]
    assert live_report["system"]["os"]["pretty_name"] == os_release["PRETTY_NAME"]
    assert live_report["system"]["kernel"]["release"] == os.uname().release


def test_live_pci_devices_match_lspci_device_for_device(live_report):
    if not os.path.isdir("/sys/bus/pci/devices"):
        pytest.skip("this machine has no PCI bus (/sys/bus/pci/devices absent)")
    lspci = run(["lspci", "-n", "-D"])
    assert lspci.returncode == 0, lspci.stderr
    expected = {}
    for line in lspci.stdout.splitlines():
        # "0000:00:01.0 ffff: 1af4:1045 (rev 01)"
        match = re.match(r"^(\S+) ([0-9a-f]{4}): ([0-9a-f]{4}):([0-9a-f]{4})", line)
        assert match, line
        expected["pci:" + match.group(1)] = (match.group(3), match.group(4), match.group(2))
    got = {d["id"]: (d["vendor_id"], d["product_id"], d["class"][:4])
           for d in live_report["devices"] if d["bus"] == "pci"}
    assert got == expected


def test_live_pci_drivers_match_sysfs_links(live_report):
    for device in live_report["devices"]:
        if device["bus"] != "pci":
            continue
        link = os.path.join("/sys/bus/pci/devices", device["kernel_name"], "driver")
        driver = os.path.basename(os.readlink(link)) if os.path.lexists(link) else None
        assert device["driver"] == driver
        assert device["status"] == ("works" if driver else "detected") or device["evidence"]


def test_live_usb_devices_match_lsusb_device_for_device(live_report):
    if not os.path.isdir("/sys/bus/usb/devices"):
        pytest.skip("this machine has no USB bus (/sys/bus/usb absent), so lsusb lists nothing")
    lsusb = run(["lsusb"])
    expected = set()
    for line in lsusb.stdout.splitlines():
        match = re.match(r"^Bus (\d+) Device (\d+): ID ([0-9a-f]{4}):([0-9a-f]{4})", line)
        if match:
            expected.add((int(match.group(1)), int(match.group(2)), match.group(3),
                          match.group(4)))
    got = {(d["busnum"], d["devnum"], d["vendor_id"], d["product_id"])
           for d in live_report["devices"] if d["bus"] == "usb"}
    assert got == expected


def test_live_modules_match_proc_modules_exactly(live_report):
    if not os.path.exists("/proc/modules"):
        modules = next(c for c in live_report["collectors"] if c["name"] == "modules")
        assert modules["ok"] and live_report["modules"] == []
        assert any("no loadable module support" in note for note in modules["notes"])
        pytest.skip("this kernel has no loadable modules (/proc/modules absent); "
                    "test_modules_of_a_tree_match_its_proc_modules covers the parser")
    with open("/proc/modules") as file:
        expected = [(line.split()[0], int(line.split()[1])) for line in file if line.strip()]
    assert [(m["name"], m["size"]) for m in live_report["modules"]] == expected


def test_modules_of_a_tree_match_its_proc_modules(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    write(root, "/sys/module/i915/srcversion", "8A1D1B4B0C2E3F4A5B6C7D8\n")
    write(root, "/sys/module/amdgpu/version", "3.49.0\n")
    result, report = diag_json(root)
    assert result.returncode == 0, result.stderr
    with open(os.path.join(root, "proc/modules")) as file:
        lines = [line.split() for line in file if line.strip()]
    assert [(m["name"], m["size"], m["refcount"]) for m in report["modules"]] == [
        (f[0], int(f[1]), int(f[2])) for f in lines]
    by_name = {m["name"]: m for m in report["modules"]}
    assert by_name["snd_hda_codec"]["used_by"] == ["snd_hda_codec_hdmi", "snd_hda_intel"]
    assert by_name["amdgpu"]["version"] == "3.49.0"
    assert by_name["i915"]["srcversion"] == "8A1D1B4B0C2E3F4A5B6C7D8"


@pytest.mark.parametrize("name", UMOCKDEV)
def test_umockdev_recording_replays_with_its_ids_and_drivers(tmp_path, umockdev_dir, name):
    recording = os.path.join(umockdev_dir, name + ".umockdev")
    root = str(tmp_path)
    recorded = replay_umockdev(recording, root)
    result, report = diag_json(root)
    assert result.returncode == 0, result.stderr
    validate(report)
    checked = check_recorded_devices(recorded, report)
    assert len(report["devices"]) == checked


def test_umockdev_usb_devices_get_names_from_usb_ids(tmp_path, umockdev_dir):
    root = str(tmp_path)
    recorded = replay_umockdev(os.path.join(umockdev_dir, "usbkbd.umockdev"), root)
    _, report = diag_json(root)
    devices = devices_by_id(report)
    for device in recorded:
        env = device["env"]
        if env.get("DEVTYPE") == "usb_device" and "ID_MODEL_FROM_DATABASE" in env:
            got = devices["usb:" + os.path.basename(device["path"])]
            assert got["name"] == env["ID_MODEL_FROM_DATABASE"]
            assert got["vendor_name"] == env["ID_VENDOR_FROM_DATABASE"]


def test_each_driver_status_comes_with_its_evidence_and_problem(tmp_path):
    root = str(tmp_path)
    expected = status_machine(root)
    result, report = diag_json(root)
    assert result.returncode == 0, result.stderr
    validate(report)
    devices = devices_by_id(report)
    assert {i: devices[i]["status"] for i in expected} == expected
    problems = {p["device"]: p for p in report["problems"] if p["device"]}
    # Every status but works (and a host bridge that needs no driver) is a problem.
    assert set(problems) == {i for i, s in expected.items() if s != "works"} - {"pci:0000:00:00.0"}
    assert any("iwlwifi-9000-pu-b0-jf-b0-46.ucode" in e for e in devices["pci:0000:00:14.3"]["evidence"])
    assert "firmware" in problems["pci:0000:00:14.3"]["summary"]
    assert any("probe of 0000:00:1f.3 failed" in e for e in devices["pci:0000:00:1f.3"]["evidence"])
    assert any("no driver is bound" in e for e in devices["pci:0000:01:00.0"]["evidence"])
    assert any("I/O error, dev sda" in e for e in devices["pci:0000:00:17.0"]["evidence"])
    assert any("descriptor read" in e for e in devices["usb:1-2"]["evidence"])
    assert any("usb:1-3:1.2" in e and "no driver" in e for e in devices["usb:1-3"]["evidence"])
    assert [i["driver"] for i in devices["usb:1-3"]["interfaces"]] == ["uvcvideo", None]
    assert devices["usb:usb1"]["driver"] == "hub" and devices["usb:usb1"]["device_driver"] is None
    assert devices["pci:0000:02:00.0"]["module"] == {"name": "amdgpu", "version": "3.49.0",
                                                     "srcversion": None}
    assert devices["pci:0000:00:02.0"]["module"]["srcversion"] == "8A1D1B4B0C2E3F4A5B6C7D8"
    assert devices["pci:0000:00:02.0"]["name"] == "UHD Graphics 620"
    assert report["system"]["dmi"]["bios_version"] == "N23ET75W (1.50 )"
    # Firmware missing for something the inventory does not list is still reported.
    unlisted = [p for p in report["problems"] if p["device"] is None]
    assert [p for p in unlisted if "intel/ibt-17-16-1.sfi" in p["summary"]]


def test_summary_lists_problems_first(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    result = run([program("kefu-agentd"), "diag", "--root", root])
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.index("Problems (") < text.index("Devices (")
    assert "is not working: its driver snd_hda_intel failed to start it" in text


def test_json_output_file_is_written_whole(tmp_path):
    root = str(tmp_path / "root")
    status_machine(root)
    out = str(tmp_path / "report.json")
    result = run([program("kefu-agentd"), "diag", "--root", root, "--output", out])
    assert result.returncode == 0, result.stderr
    import json
    with open(out) as file:
        validate(json.load(file))
    assert not glob.glob(out + ".tmp.*")


def test_missing_tools_and_sections_leave_collector_notes(tmp_path):
    root = str(tmp_path)
    base_system(root)
    result, report = diag_json(root)
    assert result.returncode == 0
    collectors = {c["name"]: c for c in report["collectors"]}
    assert collectors["kernel-log"]["ok"] is False and "no kernel log" in collectors["kernel-log"]["error"]
    assert any("CUPS is not installed" in n for n in collectors["printers"]["notes"])
    assert any("fwupd" in n for n in collectors["firmware"]["notes"])
    assert collectors["pci"]["ok"] and any("no PCI bus" in n for n in collectors["pci"]["notes"])


def test_printers_and_batteries_of_a_tree_are_reported(tmp_path):
    root = str(tmp_path)
    base_system(root)
    write(root, "/etc/cups/printers.conf",
          "<DefaultPrinter Office>\nInfo Office laser\nDeviceURI ipp://10.1.2.3/ipp/print\n"
          "State Stopped\nStateMessage Paper jam\nAccepting Yes\n</DefaultPrinter>\n"
          "<Printer Label>\nState Idle\n</Printer>\n")
    bat = "/sys/class/power_supply/BAT0/"
    for name, value in {"type": "Battery", "capacity": "81", "status": "Discharging",
                        "energy_full": "20000000", "energy_full_design": "50000000",
                        "cycle_count": "812"}.items():
        write(root, bat + name, value + "\n")
    write(root, "/sys/class/power_supply/AC/type", "Mains\n")
    write(root, "/sys/class/power_supply/AC/online", "0\n")
    result, report = diag_json(root)
    assert result.returncode == 0
    validate(report)
    queues = {q["name"]: q for q in report["printers"]["queues"]}
    assert queues["Office"]["state"] == "stopped" and queues["Office"]["is_default"]
    assert queues["Label"]["state"] == "idle"
    battery = report["power"]["batteries"][0]
    assert (battery["capacity_percent"], battery["health_percent"], battery["cycle_count"]) == (81, 40, 812)
    assert report["power"]["ac_online"] is False
    summaries = " ".join(p["summary"] for p in report["problems"])
    assert "The printer Office is stopped" in summaries
    assert "holds only 40%" in summaries


def test_bad_command_lines_are_usage_errors(tmp_path):
    for args in (["--nonsense"], ["extra"], ["--timeout", "0"]):
        result = run([program("kefu-agentd"), "diag"] + args)
        assert result.returncode in (1, 2)
        assert len(result.stderr.strip().splitlines()) == 1
    result = run([program("kefu-agentd"), "diag", "--root", str(tmp_path / "absent")])
    assert result.returncode == 1 and "is not a directory" in result.stderr


def test_dns_check_resolves_the_name_it_is_given():
    result, report = diag_json("/", "--resolve", "localhost")
    assert result.returncode == 0, result.stderr
    check = report["network"]["dns"]["check"]
    assert check["name"] == "localhost" and check["ok"] is True
    assert set(check["addresses"]) & {"127.0.0.1", "::1"}


def test_absent_tools_leave_a_note_in_their_collector(live_report):
    collectors = {c["name"]: c for c in live_report["collectors"]}
    checked = 0
    for tool, collector, word in (("fwupdmgr", "firmware", "fwupd"),
                                  ("journalctl", "kernel-log", "journalctl")):
        if shutil.which(tool) is None:
            assert any(word in n and "not installed" in n
                       for n in collectors[collector]["notes"]), collectors[collector]
            checked += 1
    if shutil.which("smartctl") is None and live_report["storage"]["block"]:
        assert any("smartctl is not installed" in n for n in collectors["storage"]["notes"])
        checked += 1
    if checked == 0:
        pytest.skip("fwupdmgr, journalctl and smartctl are all installed here")


def fake_tool(folder, name, script):
    path = os.path.join(folder, name)
    with open(path, "w") as file:
        file.write("#!/bin/sh\n" + script)
    os.chmod(path, 0o755)


def test_tools_are_run_their_output_read_and_hangs_cut_short(tmp_path):
    bin_dir = str(tmp_path / "bin")
    os.makedirs(bin_dir)
    fake_tool(bin_dir, "fwupdmgr", "cat <<'END'\n" + json.dumps({"Devices": [
        {"Name": "UEFI dbx", "Vendor": "Lenovo", "Version": "20230501", "DeviceId": "abc123",
         "Guid": ["e0a8a2e5-0000-0000-0000-000000000000"]}]}) + "\nEND\n")
    # A smartctl that never answers: the collector must give up after --timeout.
    fake_tool(bin_dir, "smartctl", "exec sleep 30\n")
    env = dict(os.environ, PATH=bin_dir + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
    result, report = diag_json("/", "--timeout", "300", env=env)
    assert result.returncode == 0, result.stderr
    validate(report)
    assert report["firmware"]["fwupd"] is True
    assert report["firmware"]["devices"][0]["version"] == "20230501"
    collectors = {c["name"]: c for c in report["collectors"]}
    if report["storage"]["block"]:
        assert any("timed out" in n for n in collectors["storage"]["notes"]), collectors["storage"]


def test_live_default_routes_match_ip_route(live_report):
    expected = set()
    for family, flag in (("ipv4", "-4"), ("ipv6", "-6")):
        listing = run(["ip", flag, "route", "show", "default"])
        for line in listing.stdout.splitlines():
            match = re.search(r"^default via (\S+) dev (\S+)", line)
            if match:
                expected.add((family, match.group(1), match.group(2)))
    got = {(r["family"], r["gateway"], r["interface"])
           for r in live_report["network"]["default_routes"]}
    assert got == expected


def test_live_interfaces_match_sysfs_and_their_addresses_ip_addr(live_report):
    interfaces = {i["name"]: i for i in live_report["network"]["interfaces"]}
    assert set(interfaces) == set(os.listdir("/sys/class/net"))
    listing = json.loads(run(["ip", "-j", "addr"]).stdout)
    for link in listing:
        expected = {"%s/%d" % (a["local"], a["prefixlen"]) for a in link.get("addr_info", [])}
        assert set(interfaces[link["ifname"]]["addresses"]) == expected
