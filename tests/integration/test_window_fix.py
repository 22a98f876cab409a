# kefu: kefu-helper --fix CHECK_ID: the customer allows one repair in a window, which then
# runs exactly `kefu-agentd scan --fix --yes --only CHECK_ID --json` and shows its result
# in plain words, in the customer's language, under the organisation's name.
# SPDX-License-Identifier: MIT
import json
import os
import shutil
import stat

from conftest import program
from session_fixtures import support  # noqa: F401
from translation_check import Catalogue
from window_fixtures import Desktop, artifacts  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = os.path.join(HERE, "..", "..", "diag-plugins")
TITLE = "The clock is not set automatically, so it drifts and secure websites may fail"
SCAN = ["scan", "--fix", "--yes", "--only"]
PO = os.path.join(HERE, "..", "..", "agentd", "po", "zh_CN.po")


def helper_beside_recorder(tmp_path, exit_code, state="fixed"):
    """A copy of kefu-helper with a kefu-agentd beside it that records its arguments and
    answers as `scan --json` does, the check in state."""
    folder = tmp_path / "bin"
    folder.mkdir()
    shutil.copy(program("kefu-helper"), folder / "kefu-helper")
    shutil.copytree(os.path.join(os.path.dirname(program("kefu-helper")), "locale"),
                    folder / "locale")
    recorder = folder / "kefu-agentd"
    answer = {"root": "/", "checks_ran": 1, "problems_left": 0 if exit_code == 0 else 1,
              "summary": str(tmp_path / "scans" / "scan-1.md"),
              "checks": [{"plugin": "clock-unsynced", "check": "time-sync-off",
                          "title": TITLE, "state": state, "steps": []}], "skipped": []}
    recorder.write_text("#!/usr/bin/python3\nimport json, sys\n"
                        "json.dump(sys.argv[1:], open(%r, 'w'))\n"
                        "print(%r)\n"
                        "sys.exit(%d)\n" % (str(tmp_path / "argv.json"), json.dumps(answer),
                                             exit_code))
    recorder.chmod(recorder.stat().st_mode | stat.S_IXUSR)
    data = tmp_path / "data" / "kefu" / "plugins"
    data.mkdir(parents=True)
    shutil.copytree(os.path.join(PLUGINS, "clock-unsynced"), data / "clock-unsynced")
    return str(folder / "kefu-helper")


def start_fix(desktop, binary, tmp_path, check, *extra, language=None):
    desktop.env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env = dict(desktop.env, LANG="C.UTF-8")
    env.pop("LANGUAGE", None)
    if language is not None:
        env["LANGUAGE"] = language
    proc = desktop.processes.start([binary, "--fix", check] + list(extra), env=env)
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
    assert desktop.find("What the repair does", "label")["text"] == TITLE + ": fixed"
    assert desktop.find("Where the repair's record is kept", "label")["text"] == \
        "What was done is kept in %s." % (tmp_path / "scans" / "scan-1.md")
    assert json.load(open(tmp_path / "argv.json")) == SCAN + ["time-sync-off", "--json"]
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
    assert json.load(open(tmp_path / "argv.json")) == SCAN + ["clock-unsynced/time-sync-off",
                                                              "--json"]
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
    binary = helper_beside_recorder(tmp_path, 1, state="problem (fix failed)")
    desktop = Desktop(processes, artifacts)
    proc = start_fix(desktop, binary, tmp_path, "time-sync-off")
    desktop.click("Allow the repair")
    desktop.wait_text("Repair", "label", "^The repair did not succeed.$")
    assert desktop.find("What the repair does", "label")["text"] == \
        TITLE + ": a problem; the fix did not work"
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


def branded_profile(support, tmp_path):
    """The organisation's support profile with its logo (a PNG the test draws)."""
    import subprocess

    logo = tmp_path / "logo.png"
    subprocess.run(["convert", "-size", "96x96", "xc:#1c71d8", "-fill", "white", "-draw",
                    "circle 48,48 48,16", str(logo)], check=True, timeout=30)
    with open(support.profile) as f:
        profile = json.load(f)
    profile["logo"] = str(logo)
    with open(support.profile, "w") as f:
        json.dump(profile, f)
    return support.profile


def test_fix_wears_the_organisations_name_and_logo(support, processes, artifacts,  # noqa: F811
                                                   tmp_path):
    binary = helper_beside_recorder(tmp_path, 0)
    desktop = Desktop(processes, artifacts)
    proc = start_fix(desktop, binary, tmp_path, "time-sync-off", "--profile",
                     branded_profile(support, tmp_path))
    assert desktop.find("Support organisation", "label")["text"] == "Example Support"
    desktop.screenshot("fix-question")
    assert desktop.exists("Example Support")  # the logo, named for screen readers
    desktop.click("Deny the repair")
    assert proc.wait(timeout=20) == 2


def test_fix_in_chinese_every_line(processes, artifacts, tmp_path):
    binary = helper_beside_recorder(tmp_path, 0)
    # The troubleshooter's own words come in Chinese from its manifest's translations.
    with open(os.path.join(PLUGINS, "clock-unsynced", "plugin.json")) as f:
        manifest = json.load(f)
    chinese = manifest["translations"]["zh_CN"]["checks"]["time-sync-off"]
    desktop = Desktop(processes, artifacts)
    proc = start_fix(desktop, binary, tmp_path, "time-sync-off", language="zh_CN")
    assert desktop.find("修复", "label")["text"] == "要修复“%s”吗？" % chinese["title"]
    seen = desktop.texts()
    assert "修复内容：%s" % chinese["fix"] in seen, seen
    desktop.screenshot("fix-question-zh_CN")
    desktop.click("允许修复")
    desktop.wait_text("修复", "label", "^修复已完成。$")
    assert desktop.find("修复会做什么", "label")["text"] == chinese["title"] + "：已修复"
    seen += desktop.texts()
    desktop.screenshot("fix-done-zh_CN")
    # The check's own words are the troubleshooter's (its manifest), the record's path
    # the scan's: data. Everything else is in Chinese, and no English title is left.
    data = [chinese["title"], chinese["fix"], str(tmp_path / "scans" / "scan-1.md")]
    lines = [part for text in seen for part in text.split("\n")]
    assert Catalogue(PO).untranslated(lines, data) == []
    assert not [line for line in lines if TITLE in line or
                manifest["checks"][0]["fix"] in line], lines
    desktop.click("关闭")
    assert proc.wait(timeout=20) == 0
