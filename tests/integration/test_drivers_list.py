# kefu: `kefu-agentd drivers`: drivers in use with module and package, driverless devices matched to packages. SPDX-License-Identifier: MIT
import json

import pytest

from diag_fixtures import umockdev_dir  # noqa: F401 (pytest fixture)
from drivers_fixtures import (CAMERA, FIRMWARE_FILE, GRAPHICS, READER, WIFI, make_driver_machine)


@pytest.fixture
def machine(tmp_path, umockdev_dir):  # noqa: F811
    return make_driver_machine(str(tmp_path), umockdev_dir)


def listing(machine):
    result = machine.drivers("--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def by_id(doc):
    return {d["id"]: d for d in doc["devices"]}


def test_recorded_camera_gets_the_package_whose_modaliases_match(machine):
    doc = listing(machine)
    camera = by_id(doc)[CAMERA]
    assert camera["needs_driver"] is True and camera["driver"] is None
    assert camera["modalias"].startswith("usb:v04A9p31C0d0002")
    packages = [p for p in camera["providers"] if p["kind"] == "package"]
    assert [(p["package"], p["version"], p["module"], p["pattern"]) for p in packages] == [
        ("kefu-test-camera-dkms", "1.0-1", "kefu_camera", "usb:v04A9p31C0d*")]
    assert packages[0]["installed"] is None
    # The devices with a driver are not offered one.
    assert by_id(doc)["pci:0000:00:1a.0"]["providers"] == []


def test_missing_firmware_file_is_found_in_the_contents_index(machine):
    doc = listing(machine)
    wifi = by_id(doc)[WIFI]
    assert [f["file"] for f in wifi["firmware_missing"]] == [FIRMWARE_FILE]
    firmware = wifi["firmware_missing"][0]
    assert firmware["installed_by"] is None
    assert [(p["name"], p["candidate"]) for p in firmware["packages"]] == [
        ("kefu-test-firmware-iwlwifi", "20230210-5")]
    assert doc["sources"]["contents"] == 1
    # The kernel has the driver itself: iwlwifi, not loaded.
    kernel = [p for p in wifi["providers"] if p["kind"] == "kernel-module"]
    assert [(p["module"], p["loaded"], p["blacklisted"]) for p in kernel] == [
        ("iwlwifi", False, False)]


def test_kernel_module_for_driverless_device_is_named_and_blacklist_seen(machine):
    from diag_fixtures import write
    doc = listing(machine)
    reader = by_id(doc)[READER]
    assert [(p["kind"], p["module"]) for p in reader["providers"]] == [
        ("kernel-module", "rtsx_pci")]
    write(machine.root, "/etc/modprobe.d/local.conf", "# no card reader\nblacklist rtsx-pci\n")
    reader = by_id(listing(machine))[READER]
    assert reader["providers"][0]["blacklisted"] is True


def test_driver_in_use_shows_module_version_package_and_newer_candidate(machine):
    doc = listing(machine)
    graphics = by_id(doc)[GRAPHICS]
    assert graphics["driver"] == "i915" and graphics["needs_driver"] is False
    module = graphics["module"]
    assert (module["name"], module["version"], module["version_source"]) == (
        "i915", "1.0.0", "modinfo")
    assert module["file"].endswith("/kernel/drivers/gpu/drm/i915/i915.ko")
    assert graphics["package"] == {"name": "kefu-test-i915", "version": "1.0-1",
                                   "candidate": "1.1-1"}
    assert [(u["package"], u["installed"], u["candidate"], u["devices"])
            for u in doc["upgrades"]] == [("kefu-test-i915", "1.0-1", "1.1-1", [GRAPHICS])]


def test_text_names_the_commands_to_run(machine):
    result = machine.drivers()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "kefu-agentd drivers install kefu-test-camera-dkms" in out
    assert "kefu-agentd drivers install kefu-test-firmware-iwlwifi" in out
    assert "kefu-agentd drivers upgrade kefu-test-i915" in out
    assert "the kernel's module rtsx_pci drives it: not loaded" in out


def test_without_indexes_the_listing_says_what_it_could_not_match(tmp_path):
    from diag_fixtures import base_system, pci_device
    root = str(tmp_path)
    base_system(root)
    pci_device(root, "0000:01:00.0", "10ec", "525a", "ff0000")
    from conftest import program, run
    result = run([program("kefu-agentd"), "drivers", "--root", root, "--json"])
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["devices"][0]["needs_driver"] is True
    assert doc["devices"][0]["providers"] == []
    assert any("modules.alias" in n for n in doc["notes"])
    assert any("apt package lists" in n for n in doc["notes"])


def test_bad_root_is_one_line_error(tmp_path):
    from conftest import program, run
    result = run([program("kefu-agentd"), "drivers", "--root", str(tmp_path / "none")])
    assert result.returncode != 0
    assert "is not a directory" in result.stderr and result.stderr.count("\n") == 1
