# kefu: driver-blacklisted through kefu-agentd scan on a fixture root and report. SPDX-License-Identifier: MIT
import json
import os

from conftest import SOURCE_DIR, program, run

PLUGINS = os.path.join(SOURCE_DIR, "diag-plugins")
MODALIAS = "pci:v00008086d00002723sv00008086sd00000084bc02sc80i00"


def fixture(tmp_path, blacklist):
    root = tmp_path / "root"
    (root / "etc" / "modprobe.d").mkdir(parents=True)
    (root / "lib" / "modules" / "6.1.0-13-amd64").mkdir(parents=True)
    (root / "lib" / "modules" / "6.1.0-13-amd64" / "modules.alias").write_text(
        "alias pci:v00008086d00002723sv*sd*bc*sc*i* iwlwifi\n")
    (root / "etc" / "modprobe.d" / "local.conf").write_text(
        "options snd_hda_intel power_save=1\n" + ("blacklist iwlwifi\n" if blacklist else ""))
    report = tmp_path / "report.json"
    report.write_text(json.dumps({
        "system": {"os": {"id": "debian", "version_id": "12"}},
        "devices": [{"id": "pci-0000:00:14.3", "bus": "pci", "vendor_id": "8086",
                     "product_id": "2723", "modalias": MODALIAS, "driver": None,
                     "module": None, "status": "detected", "evidence": []}],
        "problems": []}))
    return str(root), str(report)


def scan(root, report, *extra):
    result = run([program("kefu-agentd"), "scan", "--json", "--root", root, "--report", report,
                  "--plugins", PLUGINS, *extra])
    return result.returncode, [c for c in json.loads(result.stdout)["checks"]
                               if c["plugin"] == "driver-blacklisted"]


def test_blacklisted_driver_is_found_and_unblacklisted(tmp_path):
    root, report = fixture(tmp_path, True)
    code, checks = scan(root, report)
    assert checks[0]["state"] == "problem"
    assert "iwlwifi" in checks[0]["steps"][0]["finding"]["summary"]
    code, checks = scan(root, report, "--fix", "--yes")
    assert checks[0]["state"] == "fixed"
    conf = open(os.path.join(root, "etc", "modprobe.d", "local.conf")).read()
    assert "# disabled by kefu: blacklist iwlwifi" in conf
    assert "options snd_hda_intel power_save=1" in conf


def test_device_with_driver_not_blacklisted_is_healthy_and_untouched(tmp_path):
    root, report = fixture(tmp_path, False)
    before = open(os.path.join(root, "etc", "modprobe.d", "local.conf")).read()
    code, checks = scan(root, report, "--fix", "--yes")
    assert checks[0]["state"] == "healthy"
    assert open(os.path.join(root, "etc", "modprobe.d", "local.conf")).read() == before
