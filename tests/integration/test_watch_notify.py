# kefu: watch's alerts as desktop notifications, answered on a notification server of the
# test's own on a private D-Bus session (dbus-run-session). SPDX-License-Identifier: MIT
import json
import os
import shutil
import sys
import time

import pytest

from conftest import program, run
from test_watch_series import BASE, GB, Series

pytestmark = pytest.mark.skipif(shutil.which("dbus-run-session") is None,
                                reason="dbus-run-session (package dbus) is not installed")

# A freedesktop notification server (python3-gi): it records every Notify call and answers
# each notification with the action named on its command line, as a click would, then runs
# the command after "--" and exits with its status.
SERVER = r'''
import json, subprocess, sys, threading
from gi.repository import Gio, GLib

XML = """<node><interface name="org.freedesktop.Notifications">
<method name="GetCapabilities"><arg type="as" direction="out"/></method>
<method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
<arg type="s" direction="out"/><arg type="s" direction="out"/></method>
<method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/>
<arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
<arg type="as" direction="in"/><arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
<arg type="u" direction="out"/></method>
<method name="CloseNotification"><arg type="u" direction="in"/></method>
<signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
<signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
</interface></node>"""
record, click, command = sys.argv[1], sys.argv[2], sys.argv[4:]
loop = GLib.MainLoop()
# one record across the sessions of a series of runs
try:
    seen = json.load(open(record))
except OSError:
    seen = []
state = {"next": 0, "status": 99}

def emit(bus, signal, params):
    bus.emit_signal(None, "/org/freedesktop/Notifications", "org.freedesktop.Notifications",
                    signal, params)
    return False

def call(bus, sender, path, iface, method, params, invocation):
    if method == "GetCapabilities":
        invocation.return_value(GLib.Variant("(as)", (["actions", "body", "body-markup"],)))
    elif method == "GetServerInformation":
        invocation.return_value(GLib.Variant("(ssss)", ("test", "kefu", "1", "1.2")))
    elif method == "Notify":
        app, replaces, icon, summary, body, actions, hints, timeout = params.unpack()
        state["next"] += 1
        nid = state["next"]
        seen.append({"id": nid, "app": app, "summary": summary, "body": body,
                     "actions": actions, "hints": {k: str(v) for k, v in hints.items()}})
        with open(record, "w") as f:
            json.dump(seen, f)
        invocation.return_value(GLib.Variant("(u)", (nid,)))
        if click == "forge-fix":
            # another client of the bus, not the server, claims "Fix now" was clicked
            other = Gio.DBusConnection.new_for_address_sync(
                Gio.dbus_address_get_for_bus_sync(Gio.BusType.SESSION, None),
                Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
                Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
            state["other"] = other
            GLib.timeout_add(100, emit, other, "ActionInvoked", GLib.Variant("(us)", (nid, "fix")))
            GLib.timeout_add(600, emit, bus, "NotificationClosed", GLib.Variant("(uu)", (nid, 2)))
        elif click == "close":
            GLib.timeout_add(100, emit, bus, "NotificationClosed", GLib.Variant("(uu)", (nid, 2)))
        elif click != "none":
            GLib.timeout_add(100, emit, bus, "ActionInvoked", GLib.Variant("(us)", (nid, click)))
            GLib.timeout_add(150, emit, bus, "NotificationClosed", GLib.Variant("(uu)", (nid, 2)))
    else:
        invocation.return_value(None)

def start_command():
    def wait():
        state["status"] = subprocess.run(command, timeout=120).returncode
        GLib.idle_add(loop.quit)
    threading.Thread(target=wait, daemon=True).start()

def acquired(bus, name):
    start_command()

def bus_acquired(bus, name):
    bus.register_object("/org/freedesktop/Notifications",
                        Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0], call, None, None)

Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.Notifications",
                 Gio.BusNameOwnerFlags.NONE, bus_acquired, acquired, lambda *a: loop.quit())
GLib.timeout_add_seconds(150, loop.quit)
loop.run()
sys.exit(state["status"])
'''


class Desktop:
    """A series whose last run shows its alerts on a private session bus."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.series = Series(tmp_path)
        self.server = tmp_path / "notification-server.py"
        self.server.write_text(SERVER)
        self.record = tmp_path / "notifications.json"
        self.ran = tmp_path / "ran.txt"
        self.fix = self.script("fix-command")
        self.help = self.script("help-command")

    def script(self, name):
        path = self.tmp / name
        path.write_text("#!/bin/sh\necho %s \"$@\" >> '%s'\n" % (name, self.ran))
        path.chmod(0o755)
        return path

    def filling(self, days=4, mount="/"):
        """A file system filling 5 GB a day; the first days' runs show nothing."""
        for day in range(days):
            self.series.filesystem(mount, 100 * GB, (90 - 5 * day) * GB)
            self.series.run(day)
        self.series.filesystem(mount, 100 * GB, (90 - 5 * days) * GB)
        return days

    def watch(self, day, click, *extra, env=None):
        args = [program("kefu-agentd"), "watch", "--root", str(self.series.root), "--state",
                str(self.series.state), "--now", str(BASE + day * 86400), "--json",
                "--no-checks", "--notify-wait", "20", *extra]
        result = run(["dbus-run-session", "--", sys.executable, str(self.server),
                      str(self.record), click, "--", *args], env=env or self.series.env(),
                     timeout=180)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def notifications(self):
        return json.loads(self.record.read_text()) if self.record.exists() else []

    def commands_ran(self):
        # the action's command is started, not waited for: give it a bounded moment
        for _ in range(100):
            if self.ran.exists():
                return self.ran.read_text().splitlines()
            time.sleep(0.05)
        return []


@pytest.fixture
def desktop(tmp_path):
    return Desktop(tmp_path)


def test_fix_now_runs_the_repair_command_with_the_alerts_check(desktop):
    day = desktop.filling()
    result = desktop.watch(day, "fix", "--fix-command", "%s --from-watch" % desktop.fix,
                           "--help-command", str(desktop.help))
    shown = desktop.notifications()
    assert len(shown) == 1
    assert shown[0]["app"] == "kefu"
    assert shown[0]["summary"] == "Your computer needs attention"
    assert shown[0]["body"].startswith("the file system / fills by about 5.0 GB a day")
    assert shown[0]["actions"] == ["fix", "Fix now", "help", "Get help", "later", "Not now"]
    assert desktop.commands_ran() == [
        "fix-command --from-watch disk-full-reclaimable/apt-cache"]
    assert result["notifications"] == [{
        "rule": "fs-filling:/", "shown": True, "answer": "fix",
        "ran": [[str(desktop.fix), "--from-watch", "disk-full-reclaimable/apt-cache"]]}]
    runs = desktop.series.audit("watch-run")
    assert runs[-1]["notifications"][0]["answer"] == "fix"


def test_a_disk_whose_reallocated_sectors_grow_raises_one_notification(desktop):
    series = desktop.series
    days = [(0, "ata-sda-reallocated-8.json"), (5, "ata-sda-reallocated-8.json"),
            (10, "ata-sda-reallocated-64.json"), (11, "ata-sda-reallocated-64.json"),
            (12, "ata-sda-reallocated-64.json")]
    for day, fixture in days:
        series.disks(sda=fixture)
        desktop.watch(day, "help", "--help-command", str(desktop.help))
    shown = desktop.notifications()
    assert len(shown) == 1, shown
    assert shown[0]["body"].startswith("disk sda: 8 → 64 reallocated sectors in 10 days")
    assert shown[0]["actions"] == ["help", "Get help", "later", "Not now"]
    assert desktop.commands_ran() == ["help-command"]


def test_get_help_runs_the_help_command_and_not_now_runs_nothing(desktop, tmp_path):
    day = desktop.filling()
    result = desktop.watch(day, "help", "--fix-command", str(desktop.fix), "--help-command",
                           "%s --support-page" % desktop.help)
    assert desktop.commands_ran() == ["help-command --support-page"]
    assert result["notifications"][0]["answer"] == "help"


def test_not_now_runs_nothing_and_the_alert_is_not_shown_again(desktop):
    day = desktop.filling()
    result = desktop.watch(day, "later", "--fix-command", str(desktop.fix))
    assert result["notifications"][0]["answer"] == "later"
    desktop.series.filesystem("/", 100 * GB, 60 * GB)
    again = desktop.watch(day + 1, "fix", "--fix-command", str(desktop.fix))
    assert "notifications" not in again
    assert len(desktop.notifications()) == 1  # the record is the first run's
    assert not desktop.ran.exists()


def test_without_a_repair_command_there_is_no_fix_now(desktop, tmp_path):
    day = desktop.filling()
    env = desktop.series.env(PATH="/usr/bin:/bin")  # no kefu-helper here
    desktop.watch(day, "none", "--notify-wait", "0", env=env)
    assert desktop.notifications()[0]["actions"] == ["later", "Not now"]


def test_fix_now_defaults_to_the_helpers_window_when_it_is_installed(desktop, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "kefu-helper"
    helper.write_text("#!/bin/sh\necho kefu-helper \"$@\" >> '%s'\n" % desktop.ran)
    helper.chmod(0o755)
    day = desktop.filling()
    env = desktop.series.env(PATH="%s:/usr/bin:/bin" % bin_dir)
    desktop.watch(day, "fix", env=env)
    assert desktop.commands_ran() == ["kefu-helper --fix disk-full-reclaimable/apt-cache"]


def test_get_help_opens_the_profiles_support_page(desktop, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opener = bin_dir / "xdg-open"
    opener.write_text("#!/bin/sh\necho xdg-open \"$@\" >> '%s'\n" % desktop.ran)
    opener.chmod(0o755)
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"support_url": "https://support.example.com/kefu?a=1&b=2"}))
    day = desktop.filling()
    desktop.watch(day, "help", "--profile", str(profile),
                  env=desktop.series.env(PATH="%s:/usr/bin:/bin" % bin_dir))
    assert desktop.commands_ran() == ["xdg-open https://support.example.com/kefu?a=1&b=2"]


def test_an_action_sent_by_another_client_of_the_bus_runs_nothing(desktop):
    day = desktop.filling()
    result = desktop.watch(day, "forge-fix", "--fix-command", str(desktop.fix))
    assert result["notifications"][0]["answer"] == "closed"
    assert result["notifications"][0]["ran"] == []
    time.sleep(0.5)
    assert not desktop.ran.exists()


def test_an_alert_without_a_repair_offers_no_fix_now_and_ignores_one(desktop):
    day = desktop.filling(mount="/home")
    result = desktop.watch(day, "fix", "--fix-command", str(desktop.fix))
    assert desktop.notifications()[0]["actions"] == ["later", "Not now"]
    assert result["notifications"][0]["answer"] == "closed"
    time.sleep(0.5)
    assert not desktop.ran.exists()


def test_text_from_the_machine_is_not_markup_in_the_notification(desktop):
    day = desktop.filling(mount="/media/<b>big</b>&co")
    desktop.watch(day, "none", "--notify-wait", "0")
    body = desktop.notifications()[0]["body"]
    assert "/media/&lt;b&gt;big&lt;/b&gt;&amp;co" in body
    assert "<b>" not in body


def test_no_desktop_session_is_a_note_not_a_failure(desktop):
    day = desktop.filling()
    env = desktop.series.env(DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/bus")
    result = run([program("kefu-agentd"), "watch", "--root", str(desktop.series.root),
                  "--state", str(desktop.series.state), "--now", str(BASE + day * 86400),
                  "--json", "--no-checks"], env=env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert any(note.startswith("no desktop session to show the alerts in")
               for note in out["notes"])
    assert out["notifications"][0]["shown"] is False
