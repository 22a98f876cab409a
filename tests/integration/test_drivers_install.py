# kefu: `kefu-agentd drivers install|upgrade`: apt-get with a private configuration on a test-made repository, consent, verification, audit. SPDX-License-Identifier: MIT
import json
import os

import pytest

from diag_fixtures import umockdev_dir  # noqa: F401 (pytest fixture)
from drivers_fixtures import CAMERA, FIRMWARE_FILE, GRAPHICS, MODULES, WIFI, make_driver_machine

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="apt-get installs into the test's tree only as root")


@pytest.fixture
def machine(tmp_path, umockdev_dir):  # noqa: F811
    return make_driver_machine(str(tmp_path), umockdev_dir)


def installed(machine, package):
    with open(os.path.join(machine.root, "var/lib/dpkg/status")) as file:
        for stanza in file.read().split("\n\n"):
            fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line)
            if fields.get("Package") == package and fields["Status"].endswith(" installed"):
                return fields["Version"]
    return None


def test_install_camera_driver_from_the_repository_and_say_module_load_is_needed(machine):
    result = machine.drivers("install", "--yes", "--apt-config", machine.apt_conf,
                             "kefu-test-camera-dkms")
    assert result.returncode == 0, result.stderr
    assert installed(machine, "kefu-test-camera-dkms") == "1.0-1"
    assert os.path.exists(os.path.join(machine.root, MODULES.lstrip("/"),
                                       "updates/dkms/kefu_camera.ko"))
    assert "kefu-test-camera-dkms 1.0-1 is installed" in result.stdout
    assert "sudo modprobe kefu_camera" in result.stdout
    events = machine.audit_events()
    assert [(e["event"], e["result"], e["needs"]) for e in events] == [
        ("drivers-install", "installed", "module-load")]
    assert events[0]["packages"] == [{"package": "kefu-test-camera-dkms", "from": None,
                                      "to": "1.0-1", "devices": [CAMERA]}]
    assert "Installed kefu-test-camera-dkms 1.0-1" in events[0]["summary"]
    # Installed now: the listing says so, and nothing is offered to install twice.
    doc = json.loads(machine.drivers("--json").stdout)
    camera = {d["id"]: d for d in doc["devices"]}[CAMERA]
    assert camera["providers"][0]["installed"] == "1.0-1"


def test_install_firmware_package_puts_the_file_where_the_kernel_asked(machine):
    result = machine.drivers("install", "--yes", "--apt-config", machine.apt_conf,
                             "kefu-test-firmware-iwlwifi")
    assert result.returncode == 0, result.stderr
    assert os.path.exists(os.path.join(machine.root, "lib/firmware", FIRMWARE_FILE))
    assert "restart the computer for the firmware" in result.stdout
    doc = json.loads(machine.drivers("--json").stdout)
    wifi = {d["id"]: d for d in doc["devices"]}[WIFI]
    assert wifi["firmware_missing"][0]["installed_by"] == "kefu-test-firmware-iwlwifi"


def test_upgrade_brings_the_newer_driver_and_dpkg_confirms_it(machine):
    assert installed(machine, "kefu-test-i915") == "1.0-1"
    result = machine.drivers("upgrade", "--yes", "--apt-config", machine.apt_conf)
    assert result.returncode == 0, result.stderr
    assert installed(machine, "kefu-test-i915") == "1.1-1"
    events = machine.audit_events()
    assert [(e["event"], e["result"]) for e in events] == [("drivers-upgrade", "installed")]
    assert events[0]["packages"][0]["from"] == "1.0-1" and events[0]["packages"][0]["to"] == "1.1-1"
    assert GRAPHICS in events[0]["packages"][0]["devices"]
    doc = json.loads(machine.drivers("--json").stdout)
    graphics = {d["id"]: d for d in doc["devices"]}[GRAPHICS]
    assert graphics["module"]["version"] == "1.1.0"
    assert doc["upgrades"] == []
    # Nothing newer: an upgrade of everything says so and changes nothing.
    again = machine.drivers("upgrade", "--yes", "--apt-config", machine.apt_conf)
    assert again.returncode == 0 and "up to date" in again.stdout


def test_without_approval_nothing_is_installed_and_the_refusal_is_kept(machine):
    result = machine.drivers("install", "--apt-config", machine.apt_conf,
                             "kefu-test-camera-dkms")
    assert result.returncode != 0
    assert "not approved" in result.stderr
    assert installed(machine, "kefu-test-camera-dkms") is None
    events = machine.audit_events()
    assert [(e["event"], e["result"]) for e in events] == [("drivers-install", "declined")]
    assert "did not approve" in events[0]["summary"]


@pytest.mark.parametrize("package", ["kefu-test-i915", "apt", "bash", "../../etc/passwd",
                                     "-oDpkg::Pre-Invoke::=touch"])
def test_a_package_no_device_needs_is_refused_and_audited(machine, package):
    result = machine.drivers("install", "--yes", "--apt-config", machine.apt_conf, "--", package)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1
    events = machine.audit_events()
    if package.startswith(("-", ".")):
        assert "not a package name" in result.stderr
        assert events == []
    else:
        assert [(e["event"], e["result"]) for e in events] == [("drivers-install", "refused")]
    assert installed(machine, "apt") is None and installed(machine, "bash") is None


def test_root_tree_without_private_apt_configuration_is_refused(machine):
    result = machine.drivers("install", "--yes", "kefu-test-camera-dkms")
    assert result.returncode != 0 and "--apt-config" in result.stderr
    assert installed(machine, "kefu-test-camera-dkms") is None


def test_apt_failure_is_reported_and_audited(machine):
    # The repository loses the package file after apt read its index.
    os.unlink(os.path.join(machine.repo, "kefu-test-camera-dkms_1.0-1_all.deb"))
    result = machine.drivers("install", "--yes", "--apt-config", machine.apt_conf,
                             "kefu-test-camera-dkms")
    assert result.returncode != 0 and "apt-get failed" in result.stderr
    events = machine.audit_events()
    assert [(e["event"], e["result"]) for e in events] == [("drivers-install", "failed")]
