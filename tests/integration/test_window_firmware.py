# kefu: kefu-helper --firmware DEVICE: the window says which update `kefu-agentd firmware
# updates` offers the device, the customer allows it, and only then it runs exactly
# `kefu-agentd firmware apply --latest DEVICE --yes` (every check of `firmware apply`) and
# shows its result. SPDX-License-Identifier: MIT
import json
import shutil
import stat
import subprocess

from conftest import program
from window_fixtures import Desktop, artifacts  # noqa: F401

QUESTION = "Install firmware 1.2.5 on Emulated device (you have 1.2.2)?"
# What `kefu-agentd firmware updates --json` prints (tests/integration/test_firmware_updates.py
# checks the real one against signed metadata).
UPDATES = [{"device": "emu0", "device_name": "Emulated device", "from": "1.2.2", "to": "1.2.5",
            "component": "org.example.emu.firmware", "urgency": "high",
            "description": "Fixes the thing.\x1b[2J"}]


def helper_beside_recorder(tmp_path, exit_code, updates=UPDATES):
    """A copy of kefu-helper with a kefu-agentd beside it that answers `firmware updates
    --json` with updates and records the arguments of every other call."""
    folder = tmp_path / "bin"
    folder.mkdir()
    shutil.copy(program("kefu-helper"), folder / "kefu-helper")
    recorder = folder / "kefu-agentd"
    recorder.write_text("#!/usr/bin/python3\nimport json, sys\n"
                        "if sys.argv[1:] == ['firmware', 'updates', '--json']:\n"
                        "    print(%r)\n"
                        "    sys.exit(0)\n"
                        "json.dump(sys.argv[1:], open(%r, 'w'))\n"
                        "print('Installed 1.2.5 on emu0 (Emulated device).')\n"
                        "sys.exit(%d)\n" % (json.dumps(updates), str(tmp_path / "argv.json"),
                                             exit_code))
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
    # The release notes from the metadata, as text.
    notes = desktop.find("What the update does", "label")["text"]
    assert notes.startswith("Fixes the thing.\\x1b[2J") and "\x1b" not in notes
    assert not (tmp_path / "argv.json").exists()
    desktop.screenshot("1-question")
    desktop.click("Allow the update")
    desktop.wait_text("Firmware update", "label", "^The firmware update is installed.$")
    # The outcome in plain words, and below it what kefu's checks printed.
    assert desktop.find("What the update does", "label")["text"] == \
        "Emulated device runs firmware 1.2.5 now."
    assert "Installed 1.2.5 on emu0" in desktop.find("What kefu's checks said", "label")["text"]
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
    assert desktop.find("What the update does", "label")["text"].startswith(
        "kefu's checks stopped the update")
    desktop.click("Close")
    assert proc.wait(timeout=20) == 1


def test_without_an_update_offered_the_window_only_tells_and_runs_nothing(processes, artifacts,
                                                                         tmp_path):
    binary = helper_beside_recorder(tmp_path, 0, updates=[])
    desktop = Desktop(processes, artifacts)
    proc = start(desktop, binary)
    assert desktop.find("Firmware update", "label")["text"] == \
        "No firmware update is offered for the device emu0 now."
    desktop.screenshot("nothing")
    desktop.click("Close")
    assert proc.wait(timeout=20) == 2
    assert not (tmp_path / "argv.json").exists()


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
