# kefu: diagnostics reports of any real size cross a session whole: the technician's
# saved report equals what `kefu-agentd diag --json` prints for the same tree.
# SPDX-License-Identifier: MIT
import json
import os
import time

import pytest

from diag_fixtures import (check_recorded_devices, checkout_umockdev_dir,  # noqa: F401
                           desktop_machine, devices_by_id, diag_json, many_users_machine,
                           replay_umockdev, status_machine)
from session_fixtures import next_event, private_state, send, support  # noqa: F401

pytestmark = pytest.mark.usefixtures("private_state")

# A hang guard, not a speed assertion: a report that stops halfway never ends the wait.
REPORT_WAIT_S = 120
UMOCKDEV = ["canon-powershot-sx200", "sony-xperia-mini-pro", "synaptics-touchpad", "usbkbd"]


def without_run_details(report):
    """The report minus what legitimately differs between two collections of one tree:
    when it was made, the boot time worked out from it, how long each collector took."""
    report = dict(report)
    report.pop("generated", None)
    report["system"] = {k: v for k, v in report["system"].items() if k != "boot_time"}
    report["collectors"] = [{k: v for k, v in c.items() if k != "duration_ms"}
                            for c in report["collectors"]]
    return report


def report_through_session(support, tmp_path, root):
    """Shares root, has Alice collect the report with `report FILE`; returns the saved
    report and the console's report event."""
    saved = tmp_path / "saved-report.json"
    agent = support.start_agent("--root", str(root))
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    send(console, "request diagnose")
    agent.wait_for("asks to collect a report")
    agent.say("y")
    assert next_event(console, "consent")["granted"] is True
    started = time.monotonic()
    send(console, "report %s" % saved)
    event = next_event(console, "report", "error", limit=10000)
    assert event["event"] == "report", event
    assert time.monotonic() - started < REPORT_WAIT_S
    send(console, "end")
    console.wait(timeout=30)
    assert agent.finish() == 0
    return json.loads(saved.read_text()), event


def assert_same_report(saved, printed):
    assert saved["devices"] == printed["devices"]
    assert saved["problems"] == printed["problems"]
    assert without_run_details(saved) == without_run_details(printed)


def test_a_report_of_a_megabyte_arrives_whole(support, tmp_path):
    # Larger than a desktop: 3000 modules and 400 PCI devices make over 1 MB of report.
    root = tmp_path / "root"
    expected = desktop_machine(str(root), modules=3000, pci=400, log_lines=20000)
    result, printed = diag_json(str(root))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) >= 1000 * 1000
    assert len(json.dumps(printed, separators=(",", ":"))) > 12 * 64 * 1024
    saved, event = report_through_session(support, tmp_path, root)
    assert_same_report(saved, printed)
    assert (event["devices"], event["problems"]) == (400, 80)
    assert {i: d["status"] for i, d in devices_by_id(saved).items()} == expected
    assert len(saved["modules"]) == 3000


def test_a_desktop_report_of_400_modules_arrives_whole(support, tmp_path):
    root = tmp_path / "root"
    expected = desktop_machine(str(root), modules=400, pci=40)
    result, printed = diag_json(str(root))
    assert result.returncode == 0, result.stderr
    # Over one control frame: it can only travel in parts.
    assert len(json.dumps(printed, separators=(",", ":"))) > 64 * 1024
    saved, event = report_through_session(support, tmp_path, root)
    assert_same_report(saved, printed)
    assert (event["devices"], event["problems"]) == (40, 8)
    assert {i: d["status"] for i, d in devices_by_id(saved).items()} == expected
    assert [m["name"] for m in saved["modules"]] == [m["name"] for m in printed["modules"]]


def count_values(value):
    """Values at every level, as the message decoder counts them."""
    if isinstance(value, dict):
        return 1 + sum(count_values(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(count_values(v) for v in value)
    return 1


def test_a_report_of_many_small_values_in_one_frame_arrives_whole(support, tmp_path):
    # Under one control frame in bytes, but more values than one message may carry
    # (KF_MSG_MAX_VALUES): it must travel in parts like a large report.
    root = tmp_path / "root"
    many_users_machine(str(root))
    result, printed = diag_json(str(root))
    assert result.returncode == 0, result.stderr
    body = {"report": printed}
    assert len(json.dumps(body, separators=(",", ":"))) < 60 * 1024
    assert count_values(body) > 4096 + 5
    saved, event = report_through_session(support, tmp_path, root)
    assert_same_report(saved, printed)
    assert len(saved["modules"]) == 240


@pytest.mark.parametrize("name", UMOCKDEV)
def test_recorded_devices_arrive_in_the_saved_report(support, tmp_path, checkout_umockdev_dir,
                                                     name):
    # The recording's devices on a desktop of real size, so that the report needs parts.
    root = tmp_path / "root"
    desktop_machine(str(root), modules=400, pci=40)
    recorded = replay_umockdev(os.path.join(checkout_umockdev_dir, name + ".umockdev"),
                               str(root))
    result, printed = diag_json(str(root))
    assert result.returncode == 0, result.stderr
    saved, _ = report_through_session(support, tmp_path, root)
    assert_same_report(saved, printed)
    checked = check_recorded_devices(recorded, saved)
    # Every recorded device the collectors know arrived, besides the desktop's 40 PCI ones.
    assert len(saved["devices"]) == checked + 40


def test_the_technician_is_told_what_the_customers_helper_could_not_check(support, tmp_path):
    # Silence is not health: a tree without a kernel log must say so at the console too.
    root = tmp_path / "root"
    status_machine(str(root))
    os.unlink(str(root / "var/log/dmesg"))
    saved = tmp_path / "saved-report.json"
    agent = support.start_agent("--root", str(root))
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    send(console, "request diagnose")
    agent.wait_for("asks to collect a report")
    agent.say("y")
    assert next_event(console, "consent")["granted"] is True
    send(console, "report %s" % saved)
    assert next_event(console, "report", "error")["event"] == "report"
    event = next_event(console, "not-checked", "error")
    assert event["event"] == "not-checked", event
    assert event["cause"] == "absent"
    assert event["message"].startswith("  not checked: Device errors were not checked")
    send(console, "end")
    console.wait(timeout=30)
    assert agent.finish() == 0
    assert json.loads(saved.read_text())["not_checked"][0]["cause"] == "absent"
