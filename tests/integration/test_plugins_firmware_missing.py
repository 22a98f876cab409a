# kefu: firmware-missing on a root prefix with a real package, installed by dpkg into the prefix. SPDX-License-Identifier: MIT
import gzip
import json
import os
import subprocess

import pytest

from conftest import SOURCE_DIR, program, run

PLUGIN = os.path.join(SOURCE_DIR, "diag-plugins", "firmware-missing")
FIRMWARE = "iwlwifi-so-a0-gf-a0-72.ucode"
LOG_LINE = "iwlwifi 0000:00:14.3: Direct firmware load for %s failed with error -2" % FIRMWARE


def build_package(tmp_path):
    """A real .deb shipping the firmware file, as Debian's firmware-iwlwifi does."""
    pkg = tmp_path / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "usr" / "lib" / "firmware").mkdir(parents=True)
    (pkg / "usr" / "lib" / "firmware" / FIRMWARE).write_bytes(os.urandom(4096))
    (pkg / "DEBIAN" / "control").write_text(
        "Package: firmware-iwlwifi\nVersion: 20230210-5\nArchitecture: all\n"
        "Maintainer: Debian Kernel Team <debian-kernel@lists.debian.org>\n"
        "Section: non-free-firmware/kernel\nPriority: optional\n"
        "Description: Binary firmware for Intel Wireless cards\n")
    deb = tmp_path / "firmware-iwlwifi_20230210-5_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(pkg), str(deb)],
                   check=True, stdout=subprocess.DEVNULL)
    return deb


def fixture(tmp_path, installed=False, cached=False, indexed=False):
    os.chmod(tmp_path, 0o755)
    root = tmp_path / "root"
    for folder in ("usr/lib/firmware", "usr/share/doc", "var/lib/dpkg/info",
                   "var/lib/dpkg/updates", "var/cache/apt/archives", "var/lib/apt/lists",
                   "var/log", "boot"):
        (root / folder).mkdir(parents=True)
    os.symlink("usr/lib", root / "lib")  # merged /usr, as on Debian 12
    (root / "var" / "lib" / "dpkg" / "status").write_text("")
    deb = build_package(tmp_path)
    if installed:
        (root / "usr" / "lib" / "firmware" / FIRMWARE).write_bytes(b"fw")
    if cached:
        os.link(deb, root / "var" / "cache" / "apt" / "archives" / deb.name)
    if indexed:  # apt-file's data: the archive's Contents index
        with gzip.open(root / "var" / "lib" / "apt" / "lists" /
                       "deb.debian.org_debian_dists_bookworm_non-free-firmware_Contents-all.gz",
                       "wt") as f:
            f.write("usr/lib/firmware/i915/tgl_dmc.bin            non-free-firmware/kernel/"
                    "firmware-misc-nonfree\nusr/lib/firmware/%s   non-free-firmware/kernel/"
                    "firmware-iwlwifi\n" % FIRMWARE)
    report = tmp_path / "report.json"
    report.write_text(json.dumps({
        "system": {"os": {"id": "debian", "version_id": "12"}},
        "devices": [{"id": "pci:0000:00:14.3", "bus": "pci", "name": "Wi-Fi 6 AX211 160MHz",
                     "driver": "iwlwifi", "status": "limited"}],
        "kernel_log": {"events": [{"kind": "firmware-missing", "device": "pci:0000:00:14.3",
                                   "driver": "iwlwifi", "detail": FIRMWARE, "count": 1,
                                   "line": LOG_LINE}]},
        "problems": []}))
    return str(root), str(report)


def plugin_test(root, report, *extra):
    result = run([program("kefu-plugin"), "test", "--json", "--root", root, "--report", report,
                  *extra, PLUGIN], timeout=120)
    steps = json.loads(result.stdout)["steps"]
    return [(s["step"], s["outcome"]) for s in steps], steps


def tree(root):
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)


def test_missing_firmware_is_installed_from_the_downloaded_package(tmp_path):
    if not os.path.exists("/usr/bin/dpkg"):
        pytest.skip("needs dpkg")
    root, report = fixture(tmp_path, cached=True)
    outcomes, steps = plugin_test(root, report)
    assert outcomes == [("detect", "problem")]
    finding = steps[0]["events"][0]
    assert finding["summary"] == ("Wi-Fi 6 AX211 160MHz cannot start: the firmware file %s "
                                  "is missing" % FIRMWARE)
    assert "firmware-iwlwifi_20230210-5_all.deb has it" in finding["detail"]
    outcomes, steps = plugin_test(root, report, "--fix")
    assert outcomes == [("detect", "problem"), ("repair", "ok"), ("verify", "ok")]
    assert "restart the computer" in steps[2]["events"][0]["summary"]
    assert os.path.getsize(os.path.join(root, "usr", "lib", "firmware", FIRMWARE)) == 4096
    status = open(os.path.join(root, "var", "lib", "dpkg", "status")).read()
    assert "Package: firmware-iwlwifi\nStatus: install ok installed" in status


def test_firmware_only_in_the_archive_names_the_package_and_the_command(tmp_path):
    root, report = fixture(tmp_path, indexed=True)
    outcomes, steps = plugin_test(root, report, "--fix")
    assert "the package firmware-iwlwifi has it (install it with: apt-get install " \
        "firmware-iwlwifi)" in steps[0]["events"][0]["detail"]
    # nothing cached; apt-get works only on the running system, so it says what to run there
    assert outcomes == [("detect", "problem"), ("repair", "problem"), ("verify", "problem"),
                        ("repair", "problem"), ("verify", "problem")]
    assert steps[3]["events"][0]["summary"] == "Run on that system: apt-get install " \
        "firmware-iwlwifi"
    assert not os.path.exists(os.path.join(root, "usr", "lib", "firmware", FIRMWARE))


def test_firmware_already_installed_reports_nothing_and_changes_nothing(tmp_path):
    root, report = fixture(tmp_path, installed=True, cached=True)
    before = tree(root)
    outcomes, _ = plugin_test(root, report, "--fix")
    assert outcomes == [("detect", "ok")]
    assert tree(root) == before
    assert open(os.path.join(root, "var", "lib", "dpkg", "status")).read() == ""


def test_report_without_firmware_failures_is_healthy(tmp_path):
    root, report = fixture(tmp_path, cached=True)
    data = json.load(open(report))
    data["kernel_log"]["events"] = [{"kind": "probe-failed", "device": "pci:0000:00:14.3",
                                     "driver": "iwlwifi", "detail": "error -110"}]
    open(report, "w").write(json.dumps(data))
    outcomes, _ = plugin_test(root, report, "--fix")
    assert outcomes == [("detect", "ok")]


def test_scan_applies_the_plugin_to_a_device_limited_by_missing_firmware(tmp_path):
    root, report = fixture(tmp_path, cached=True)
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    result = run([program("kefu-agentd"), "scan", "--json", "--root", root, "--report", report,
                  "--plugins", os.path.dirname(PLUGIN), "--fix", "--yes"], env=env, timeout=120)
    checks = json.loads(result.stdout)["checks"]
    assert ("firmware-missing", "fixed") in [(c["plugin"], c["state"]) for c in checks]
    summary = open(json.loads(result.stdout)["summary"]).read()
    assert "Wi-Fi 6 AX211 160MHz cannot start" in summary
