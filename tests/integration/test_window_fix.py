# kefu: kefu-helper --fix CHECK_ID: the customer allows one repair in a window, which then
# runs exactly `kefu-agentd scan --fix --yes --only CHECK_ID` and shows its result.
# SPDX-License-Identifier: MIT
import json
import os
import shutil
import stat

from conftest import program
from window_fixtures import Desktop, artifacts  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = os.path.join(HERE, "..", "..", "diag-plugins")
TITLE = "The clock is not set automatically, so it drifts and secure websites may fail"


def helper_beside_recorder(tmp_path, exit_code):
    """A copy of kefu-helper with a kefu-agentd beside it that records its arguments."""
    folder = tmp_path / "bin"
    folder.mkdir()
    shutil.copy(program("kefu-helper"), folder / "kefu-helper")
    shutil.copytree(os.path.join(os.path.dirname(program("kefu-helper")), "locale"),
                    folder / "locale")
    recorder = folder / "kefu-agentd"
    recorder.write_text("#!/usr/bin/python3\nimport json, sys\n"
                        "json.dump(sys.argv[1:], open(%r, 'w'))\n"
                        "print('Repaired: automatic time setting is on again.')\n"
                        "sys.exit(%d)\n" % (str(tmp_path / "argv.json"), exit_code))
    recorder.chmod(recorder.stat().st_mode | stat.S_IXUSR)
    data = tmp_path / "data" / "kefu" / "plugins"
    data.mkdir(parents=True)
    shutil.copytree(os.path.join(PLUGINS, "clock-unsynced"), data / "clock-unsynced")
    return str(folder / "kefu-helper")


def start_fix(desktop, binary, tmp_path, check):
    desktop.env["XDG_DATA_HOME"] = str(tmp_path / "data")
    proc = desktop.processes.start([binary, "--fix", check], env=dict(desktop.env,
                                                                     LANG="C.UTF-8"))
    desktop.request({"op": "start", "app": "kefu-helper"}, timeout=40)
    return proc


def test_fix_allowed_runs_exactly_the_scan_and_shows_its_result(processes, artifacts, tmp_path):
    binary = helper_beside_recorder(tmp_path, 0)
    desktop = Desktop(processes, artifacts)
    proc = start_fix(desktop, binary, tmp_path, "time-sync-off")
    assert desktop.find("Repair", "label")["text"] == "Repair: %s?" % TITLE
    assert not (tmp_path / "argv.json").exists()
    desktop.screenshot("1-question")
    desktop.click("Allow the repair")
    desktop.wait_text("Repair", "label", "^The repair is done.$")
    assert "automatic time setting is on again" in desktop.find("What the repair does",
                                                                "label")["text"]
    assert json.load(open(tmp_path / "argv.json")) == ["scan", "--fix", "--yes", "--only",
                                                       "time-sync-off"]
    desktop.screenshot("2-done")
    desktop.click("Close")
    assert proc.wait(timeout=20) == 0


def test_fix_of_a_daily_check_alert_names_plugin_and_check(processes, artifacts, tmp_path):
    # The daily check's "Fix now" names the problem as PLUGIN/CHECK.
    binary = helper_beside_recorder(tmp_path, 0)
    desktop = Desktop(processes, artifacts)
    proc = start_fix(desktop, binary, tmp_path, "clock-unsynced/time-sync-off")
    assert desktop.find("Repair", "label")["text"] == "Repair: %s?" % TITLE
    desktop.click("Allow the repair")
    desktop.wait_text("Repair", "label", "^The repair is done.$")
    assert json.load(open(tmp_path / "argv.json")) == ["scan", "--fix", "--yes", "--only",
                                                       "clock-unsynced/time-sync-off"]
    desktop.click("Close")
    assert proc.wait(timeout=20) == 0


def test_fix_denied_runs_nothing(processes, artifacts, tmp_path):
    binary = helper_beside_recorder(tmp_path, 0)
    desktop = Desktop(processes, artifacts)
    proc = start_fix(desktop, binary, tmp_path, "time-sync-off")
    desktop.click("Deny the repair")
    assert proc.wait(timeout=20) == 2
    assert not (tmp_path / "argv.json").exists()


def test_fix_that_fails_says_so(processes, artifacts, tmp_path):
    binary = helper_beside_recorder(tmp_path, 1)
    desktop = Desktop(processes, artifacts)
    proc = start_fix(desktop, binary, tmp_path, "time-sync-off")
    desktop.click("Allow the repair")
    desktop.wait_text("Repair", "label", "^The repair did not succeed.$")
    desktop.click("Close")
    assert proc.wait(timeout=20) == 1


def test_fix_refuses_a_check_name_that_is_not_one(tmp_path):
    import subprocess

    for bad in ("../../etc", "--all", "Time sync", "a;reboot", "x" * 65, "a/b/c", "/x", "x/",
                "x" * 65 + "/check"):
        result = subprocess.run([program("kefu-helper"), "--fix", bad], capture_output=True,
                                text=True, timeout=30)
        assert result.returncode == 1, bad
        assert "is not a check's name" in result.stderr
        assert len(result.stderr.splitlines()) == 1
