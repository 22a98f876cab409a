# kefu: device-permission on a root prefix with real device nodes made by the test. SPDX-License-Identifier: MIT
import json
import os
import stat

import pytest

from conftest import SOURCE_DIR, program, run

PLUGIN = os.path.join(SOURCE_DIR, "diag-plugins", "device-permission")
RULES = os.path.join("etc", "udev", "rules.d", "70-kefu-usb-access.rules")


def fixture(tmp_path, mode, rule=None):
    if os.geteuid() != 0:
        pytest.skip("needs root to make device nodes")
    os.chmod(tmp_path, 0o755)
    root = tmp_path / "root"
    (root / "dev" / "bus" / "usb" / "001").mkdir(parents=True)
    (root / "etc" / "udev" / "rules.d").mkdir(parents=True)
    node = root / "dev" / "bus" / "usb" / "001" / "004"
    os.mknod(node, stat.S_IFCHR | mode, os.makedev(189, 3))  # usb_device 1-4
    os.chmod(node, mode)
    if rule is not None:
        (root / "etc" / "udev" / "rules.d" / "60-vendor.rules").write_text(rule)
    report = tmp_path / "report.json"
    report.write_text(json.dumps({
        "system": {"os": {"id": "debian", "version_id": "12"}},
        "devices": [
            {"id": "usb:1-4", "bus": "usb", "vendor_id": "04b8", "product_id": "0142",
             "class": "000000", "name": "GT-F730 [GT-S630/Perfection V33/V330 Photo]",
             "driver": None, "busnum": 1, "devnum": 4, "status": "detected"},
            {"id": "usb:usb1", "bus": "usb", "vendor_id": "1d6b", "product_id": "0002",
             "class": "090000", "name": "2.0 root hub", "driver": "hub", "busnum": 1,
             "devnum": 1, "status": "works"}],
        "problems": []}))
    return str(root), str(report)


def plugin_test(root, report, *extra):
    result = run([program("kefu-plugin"), "test", "--json", "--root", root, "--report", report,
                  *extra, PLUGIN])
    steps = json.loads(result.stdout)["steps"]
    return [(s["step"], s["outcome"]) for s in steps], steps


def test_scanner_only_root_may_open_gets_a_uaccess_rule(tmp_path):
    root, report = fixture(tmp_path, 0o600)
    outcomes, steps = plugin_test(root, report)
    assert outcomes == [("detect", "problem")]
    finding = steps[0]["events"][0]
    assert finding["summary"] == ("Your programs cannot use the GT-F730 [GT-S630/Perfection "
                                  "V33/V330 Photo] (USB 04b8:0142): only the administrator may "
                                  "open it")
    assert finding["detail"] == ("/dev/bus/usb/001/004 is crw------- root root; no udev rule "
                                 "gives the signed-in user access")
    outcomes, steps = plugin_test(root, report, "--fix")
    assert outcomes == [("detect", "problem"), ("repair", "ok"), ("verify", "ok")]
    rules = open(os.path.join(root, RULES)).read()
    assert 'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="04b8", ' \
        'ATTR{idProduct}=="0142", TAG+="uaccess"\n' in rules
    assert oct(os.stat(os.path.join(root, RULES)).st_mode & 0o777) == "0o644"
    # a second scan finds the rule and adds nothing
    outcomes, _ = plugin_test(root, report, "--fix")
    assert outcomes == [("detect", "ok")]
    assert open(os.path.join(root, RULES)).read() == rules


def test_rule_for_another_product_does_not_count(tmp_path):
    root, report = fixture(tmp_path, 0o600, 'SUBSYSTEM=="usb", ATTR{idVendor}=="04b8", '
                                            'ATTR{idProduct}=="0143", TAG+="uaccess"\n')
    assert plugin_test(root, report)[0] == [("detect", "problem")]


def test_device_open_to_users_or_covered_by_a_rule_is_left_alone(tmp_path):
    for mode, rule in ((0o666, None), (0o600, 'SUBSYSTEM=="usb", ATTRS{idVendor}=="04b8", '
                                              'MODE="0666"\n')):
        base = tmp_path / ("m%o" % mode)
        base.mkdir()
        root, report = fixture(base, mode, rule)
        outcomes, _ = plugin_test(root, report, "--fix")
        assert outcomes == [("detect", "ok")]
        assert not os.path.exists(os.path.join(root, RULES))
