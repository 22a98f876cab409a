# kefu: kefu-helper --firmware DEVICE: the customer allows one firmware update in a window,
# which then runs exactly `kefu-agentd firmware apply --latest DEVICE --yes` (every check of
# `firmware apply`) and shows its result. SPDX-License-Identifier: MIT
import json
import shutil
import stat
import subprocess

from conftest import program
from window_fixtures import Desktop, artifacts  # noqa: F401

QUESTION = "Install the newest firmware on the device emu0?"


def helper_beside_recorder(tmp_path, exit_code):
    """A copy of kefu-helper with a kefu-agentd beside it that records its arguments."""
    folder = tmp_path / "bin"
    folder.mkdir()
    shutil.copy(program("kefu-helper"), folder / "kefu-helper")
    recorder = folder / "kefu-agentd"
    recorder.write_text("#!/usr/bin/python3\nimport json, sys\n"
                        "json.dump(sys.argv[1:], open(%r, 'w'))\n"
                        "print('Installed 1.2.5 on emu0 (Emulated device).')\n"
                        "sys.exit(%d)\n" % (str(tmp_path / "argv.json"), exit_code))
    recorder.chmod(recorder.stat().st_mode | stat.S_IXUSR)
    return str(folder / "kefu-helper")


def start(desktop, binary, device="emu0"):
    proc = desktop.processes.start([binary, "--firmware", device],
                                   env=dict(desktop.env, LANG="C.UTF-8"))
    desktop.request({"op": "start", "app": "kefu-helper"}, timeout=40)
    return proc


def test_firmware_allowed_runs_exactly_apply_latest_and_shows_its_result(processes, artifacts,
                                                                        tmp_path):
    binary = helper_beside_recorder(tmp_path, 0)
    desktop = Desktop(processes, artifacts)
    proc = start(desktop, binary)
    assert desktop.find("Firmware update", "label")["text"] == QUESTION
    assert not (tmp_path / "argv.json").exists()
    desktop.screenshot("1-question")
    desktop.click("Allow the update")
    desktop.wait_text("Firmware update", "label", "^The firmware update is installed.$")
    assert "Installed 1.2.5 on emu0" in desktop.find("What the update does", "label")["text"]
    assert json.load(open(tmp_path / "argv.json")) == ["firmware", "apply", "--latest", "emu0",
                                                       "--yes"]
    desktop.screenshot("2-done")
    desktop.click("Close")
    assert proc.wait(timeout=20) == 0


def test_firmware_denied_runs_nothing(processes, artifacts, tmp_path):
    binary = helper_beside_recorder(tmp_path, 0)
    desktop = Desktop(processes, artifacts)
    proc = start(desktop, binary)
    desktop.click("Deny the update")
    assert proc.wait(timeout=20) == 2
    assert not (tmp_path / "argv.json").exists()


def test_firmware_that_fails_says_so(processes, artifacts, tmp_path):
    binary = helper_beside_recorder(tmp_path, 1)
    desktop = Desktop(processes, artifacts)
    proc = start(desktop, binary)
    desktop.click("Allow the update")
    desktop.wait_text("Firmware update", "label", "^The firmware update was not installed.$")
    desktop.click("Close")
    assert proc.wait(timeout=20) == 1


def test_firmware_refuses_a_device_name_that_is_not_one():
    for bad in ("--yes", "-x", "../x", ".x", "a b", "a;reboot", "x" * 65, "", "a/b",
                "emu0\x1b[2J"):
        result = subprocess.run([program("kefu-helper"), "--firmware", bad],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 1, bad
        assert "is not a device's name" in result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert "\x1b" not in result.stderr


def test_firmware_goes_with_neither_fix_nor_url():
    result = subprocess.run([program("kefu-helper"), "--firmware", "emu0", "--fix", "x"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "--firmware goes with neither" in result.stderr
