# kefu: the daily check tells of driver packages waiting: a newer version of a driver in use,
# and packages that would give a driverless device its driver or firmware, each told once.
# SPDX-License-Identifier: MIT
import json
import os

import pytest

from conftest import program, run
from diag_fixtures import umockdev_dir  # noqa: F401 (pytest fixture)
from drivers_fixtures import make_driver_machine

BASE = 1_800_000_000
DAY = 24 * 60 * 60


@pytest.fixture
def machine(tmp_path, umockdev_dir):  # noqa: F811
    return make_driver_machine(str(tmp_path / "machine"), umockdev_dir)


def watch(machine, tmp_path, day):
    env = dict(machine.env)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    result = run([program("kefu-agentd"), "watch", "--root", machine.root, "--state",
                  str(tmp_path / "watch"), "--now", str(BASE + day * DAY), "--json",
                  "--no-notify", "--no-checks"], env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def alerts(result):
    return {a["rule"]: a for a in result["alerts"]}


def test_driver_packages_waiting_are_told_once_with_the_packages_named(machine, tmp_path):
    # Ground truth: what `kefu-agentd drivers` itself offers for this tree.
    listing = json.loads(machine.drivers("--json").stdout)
    upgrades = sorted({u["package"] for u in listing["upgrades"]})
    assert upgrades == ["kefu-test-i915"]
    first = watch(machine, tmp_path, 0)
    found = alerts(first)
    assert found["drivers-upgrade"]["new"] is True
    assert "kefu-test-i915" in found["drivers-upgrade"]["summary"]
    assert "kefu-agentd drivers upgrade" in found["drivers-upgrade"]["advice"]
    missing = found["drivers-missing"]["summary"]
    assert "kefu-test-camera-dkms" in missing and "kefu-test-firmware-iwlwifi" in missing
    assert missing.startswith("2 packages would give a device its driver or firmware")
    # The next day nothing changed: still active, not told again.
    second = alerts(watch(machine, tmp_path, 1))
    assert second["drivers-upgrade"]["new"] is False
    assert second["drivers-missing"]["new"] is False


def test_installing_the_offered_package_clears_what_it_gave(machine, tmp_path):
    watch(machine, tmp_path, 0)
    env = dict(machine.env, KEFU_DRIVERS_APT_CONFIG=machine.apt_conf)
    result = run([program("kefu-agentd"), "drivers", "install", "--root", machine.root,
                  "--apt-config", machine.apt_conf, "--yes", "kefu-test-firmware-iwlwifi"],
                 env=env, timeout=300)
    if result.returncode != 0 and os.geteuid() != 0:
        pytest.skip("installing into the tree needs root: " + result.stderr.strip())
    assert result.returncode == 0, result.stderr
    after = alerts(watch(machine, tmp_path, 1))
    assert "kefu-test-firmware-iwlwifi" not in after.get("drivers-missing", {}).get(
        "summary", "")
    assert "kefu-test-camera-dkms" in after["drivers-missing"]["summary"]
    assert after["drivers-missing"]["new"] is False  # fewer than before: not told again
