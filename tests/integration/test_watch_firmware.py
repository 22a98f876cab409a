# kefu: the daily check tells of firmware updates for this computer's devices, found in
# LVFS-format metadata signed by the profile's firmware CA, once per version, and never
# installs anything; unsigned or tampered metadata is a note, never an alert.
# SPDX-License-Identifier: MIT
import gzip
import json
import os
import shutil
import sys

import pytest

from conftest import program, run
from firmware_fixtures import (FAKE_GUID, FirmwareBench, FirmwareCA, sha256_file, signed_cab,
                               write_jcat)
from test_watch_notify import SERVER
from test_watch_series import BASE, DAY, Series

RELEASE = """      <release version="{version}"{urgency}>
        <location>https://fwupd.example.invalid/downloads/emu-{version}.cab</location>
        <checksum type="sha256" target="container">{sha}</checksum>
        <description><p>Release {version}.</p></description>
      </release>
"""

METADATA = """<?xml version="1.0" encoding="utf-8"?>
<components origin="lvfs" version="0.9">
  <component type="firmware">
    <id>org.example.emu.firmware</id>
    <name>EmuDevice</name>
    <provides><firmware type="flashed">{guid}</firmware></provides>
    <custom><value key="LVFS::VersionFormat">triplet</value></custom>
    <releases>
{releases}    </releases>
  </component>
</components>
"""


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    return FirmwareCA(str(tmp_path_factory.mktemp("fwca")))


class Watched:
    """The emulated device (1.2.2), a profile trusting the test's CA, and a watch series."""

    def __init__(self, tmp_path, processes, ca):
        self.ca = ca
        self.bench = FirmwareBench(tmp_path / "bench", processes, [ca.ca])
        self.bench.start_factory_device()
        self.series = Series(tmp_path / "series")
        self.remote = tmp_path / "remote"
        self.remote.mkdir()
        self.metadata = str(self.remote / "firmware.xml.gz")

    def publish(self, *versions, urgency=None, signer=None, tamper=None, shas=None):
        """firmware.xml.gz offering versions (newest first), and its Jcat; shas: the
        cabinets' SHA-256 by version, when there are cabinets."""
        releases = "".join(RELEASE.format(
            version=v, sha=(shas or {}).get(v, "0" * 64),
            urgency=' urgency="%s"' % urgency if urgency and i == 0 else "")
            for i, v in enumerate(versions))
        xml = METADATA.format(guid=FAKE_GUID, releases=releases)
        with gzip.open(self.metadata, "wb") as f:
            f.write(xml.encode())
        write_jcat(self.metadata + ".jcat", {"firmware.xml.gz": (
            sha256_file(self.metadata), (signer or self.ca).sign(self.metadata))})
        if tamper is not None:
            with gzip.open(self.metadata, "wb") as f:
                f.write(tamper(xml).encode())

    def args(self):
        return ["--profile", self.bench.profile, "--devices", self.bench.devices,
                "--metadata", self.metadata]

    def run(self, day, *extra):
        return self.series.run(day, *self.args(), *extra)

    def firmware_alerts(self, result):
        return {a["rule"]: a for a in result["alerts"] if a["rule"].startswith("firmware-")}


@pytest.fixture
def watched(tmp_path, processes, test_ca):
    w = Watched(tmp_path, processes, test_ca)
    yield w
    w.bench.cleanup()


def test_an_update_is_told_once_and_again_only_for_a_newer_version(watched):
    told = {}
    for day, versions in [(0, ["1.2.5", "1.2.1"]), (1, ["1.2.5", "1.2.1"]),
                          (2, ["1.2.6", "1.2.5"]), (3, ["1.2.6", "1.2.5"]),
                          # 1.2.6 taken back: an older offer than the one told
                          (4, ["1.2.5"])]:
        watched.publish(*versions)
        alerts = watched.firmware_alerts(watched.run(day))
        assert list(alerts) == ["firmware-update:emu0"], alerts
        told[day] = (alerts["firmware-update:emu0"]["new"],
                     alerts["firmware-update:emu0"]["summary"])
    assert told[0] == (True, "Firmware 1.2.5 is available for Emulated device (you have 1.2.2)")
    assert told[1][0] is False
    assert told[2] == (True, "Firmware 1.2.6 is available for Emulated device (you have 1.2.2)")
    assert told[3][0] is False and told[4][0] is False
    events = [e for e in watched.series.audit("watch-alert")
              if e["rule"] == "firmware-update:emu0"]
    assert [e["summary"] for e in events] == [told[0][1], told[2][1]]
    assert "firmware apply --latest emu0" in events[0]["advice"]
    assert "check" not in events[0] and events[0]["device"] == "emu0"


def test_an_update_the_maker_marks_urgent_says_so(watched):
    watched.publish("1.2.5", urgency="critical")
    alert = watched.firmware_alerts(watched.run(0))["firmware-update:emu0"]
    assert alert["summary"].endswith("(you have 1.2.2); its maker marks it as important")


def test_a_watch_run_installs_nothing(watched):
    # The signed cabinet the metadata names sits beside it, as `apply --latest` takes it:
    # the watch tells of it and writes nothing.
    cab = signed_cab(watched.ca, str(watched.remote), "0x1020005", "1.2.5")
    watched.publish("1.2.5", shas={"1.2.5": sha256_file(cab)})
    assert watched.firmware_alerts(watched.run(0))["firmware-update:emu0"]["new"] is True
    watched.run(1)
    assert watched.bench.version() == "1.2.2"
    assert not (watched.series.xdg / "kefu" / "firmware-history.json").exists()
    audit = watched.series.xdg / "kefu" / "audit.jsonl"
    events = [json.loads(line)["event"] for line in audit.read_text().splitlines()]
    assert not [e for e in events if e.startswith("firmware-")], events


def test_the_device_updated_clears_the_alert(watched):
    watched.publish("1.2.2", "1.2.1")
    assert watched.firmware_alerts(watched.run(0)) == {}
    watched.publish("1.2.5")
    assert watched.firmware_alerts(watched.run(1))["firmware-update:emu0"]["new"] is True
    # The same metadata, but the device now runs what it offers.
    watched.bench.stop_device()
    watched.bench.init_device("--version", "0x1020005")
    watched.bench.start_device()
    result = watched.run(2)
    assert watched.firmware_alerts(result) == {} and result["cleared"] == 1


@pytest.mark.parametrize("how", ["tampered", "foreign", "unsigned"])
def test_metadata_that_is_not_signed_by_the_profiles_ca_is_a_note_never_an_alert(
        watched, tmp_path, how):
    if how == "tampered":
        # Changed after signing, to offer a version that would be told.
        watched.publish("1.2.5", tamper=lambda xml: xml.replace("1.2.5", "9.9.9"))
    elif how == "foreign":
        watched.publish("9.9.9", signer=FirmwareCA(str(tmp_path / "other")))
    else:
        watched.publish("9.9.9")
        os.unlink(watched.metadata + ".jcat")
    result = watched.run(0)
    assert watched.firmware_alerts(result) == {}
    notes = [n for n in result["notes"] if n.startswith("firmware updates were not checked")]
    assert len(notes) == 1, result["notes"]
    assert "9.9.9" not in json.dumps(result)
    if how != "unsigned":
        # Said once, with the reason after it.
        assert notes[0].count("not signed by a firmware CA this profile trusts: ") == 1
        assert not notes[0].endswith(": ")
    if how == "tampered":
        assert notes[0].endswith("the firmware's SHA-256 does not match its Jcat")
    assert watched.series.audit("watch-alert") == []
    assert notes[0] in watched.series.audit("watch-run")[0]["notes"]


def test_without_metadata_configured_there_is_no_firmware_alert_and_no_note(watched):
    watched.publish("1.2.5")
    result = watched.series.run(0, "--profile", watched.bench.profile, "--devices",
                                watched.bench.devices)
    assert watched.firmware_alerts(result) == {}
    assert not [n for n in result["notes"] if "firmware" in n]


def test_the_profiles_metadata_is_used_when_no_option_names_one(watched):
    watched.publish("1.2.5")
    with open(watched.bench.profile) as f:
        profile = json.load(f)
    profile["firmware_metadata"] = "file://" + watched.metadata
    with open(watched.bench.profile, "w") as f:
        json.dump(profile, f)
    result = watched.series.run(0, "--profile", watched.bench.profile, "--devices",
                                watched.bench.devices)
    alert = watched.firmware_alerts(result)["firmware-update:emu0"]
    assert alert["new"] is True and "1.2.5" in alert["summary"]


def test_the_alert_reaches_the_support_journal_with_its_evidence(watched):
    watched.publish("1.2.5")
    watched.run(0)
    journal = run([program("kefu-agentd"), "journal", "--json"], env=watched.series.env())
    assert journal.returncode == 0, journal.stderr
    entries = json.loads(journal.stdout)["journal"]
    alerts = [e for e in entries if e["event"] == "watch-alert"]
    assert [e["summary"] for e in alerts] == [
        "Firmware 1.2.5 is available for Emulated device (you have 1.2.2)"]
    text = run([program("kefu-agentd"), "journal"], env=watched.series.env())
    assert "Firmware 1.2.5 is available for Emulated device (you have 1.2.2)" in text.stdout


def notify(watched, tmp_path, click, *extra):
    """One run whose alerts go to a notification server of the test's own, which answers
    each with click; returns the notifications shown, the run and the commands run."""
    ran = tmp_path / "ran.txt"
    for name in ("fix-command", "firmware-command", "help-command"):
        script = tmp_path / name
        script.write_text("#!/bin/sh\necho %s \"$@\" >> '%s'\n" % (name, ran))
        script.chmod(0o755)
    server = tmp_path / "server.py"
    server.write_text(SERVER)
    record = tmp_path / "notifications.json"
    args = [program("kefu-agentd"), "watch", "--root", str(watched.series.root), "--state",
            str(watched.series.state), "--now", str(BASE), "--json", "--no-checks",
            "--notify-wait", "20", "--fix-command", str(tmp_path / "fix-command"),
            "--help-command", str(tmp_path / "help-command"), *extra, *watched.args()]
    result = run(["dbus-run-session", "--", sys.executable, str(server), str(record), click,
                  "--", *args], env=watched.series.env(), timeout=180)
    assert result.returncode == 0, result.stderr
    shown = [n for n in json.loads(record.read_text()) if "Firmware 1.2.5" in n["body"]]
    answers = {a["rule"]: a for a in json.loads(result.stdout)["notifications"]}
    lines = ran.read_text().splitlines() if ran.exists() else []
    return shown, answers["firmware-update:emu0"], lines


needs_bus = pytest.mark.skipif(shutil.which("dbus-run-session") is None,
                               reason="dbus-run-session (package dbus) is not installed")


@needs_bus
def test_fix_now_opens_the_helpers_firmware_window_for_the_device(watched, tmp_path):
    watched.publish("1.2.5")
    shown, answer, lines = notify(watched, tmp_path, "fix", "--firmware-command",
                                  "%s --from-watch" % (tmp_path / "firmware-command"))
    assert len(shown) == 1
    assert shown[0]["actions"] == ["fix", "Fix now", "help", "Get help", "later", "Not now"]
    assert answer["answer"] == "fix"
    # The device goes to the window, which asks before anything is written.
    assert lines == ["firmware-command --from-watch emu0"]
    assert watched.bench.version() == "1.2.2"


@needs_bus
@pytest.mark.parametrize("click", ["fix", "help"])
def test_without_a_firmware_command_there_is_only_get_help(watched, tmp_path, click):
    watched.publish("1.2.5")
    shown, answer, lines = notify(watched, tmp_path, click)
    assert len(shown) == 1
    assert shown[0]["actions"] == ["help", "Get help", "later", "Not now"]
    if click == "fix":
        # A "fix" answer to an alert that offers none runs nothing.
        assert answer["answer"] in ("none", "closed")
        assert lines == []
    else:
        assert answer["answer"] == "help"
        assert lines == ["help-command"]
    assert watched.bench.version() == "1.2.2"


@needs_bus
def test_fix_now_defaults_to_the_helper_when_it_is_installed(watched, tmp_path):
    watched.publish("1.2.5")
    folder = tmp_path / "installed"
    folder.mkdir()
    helper = folder / "kefu-helper"
    helper.write_text("#!/bin/sh\necho kefu-helper \"$@\" >> '%s'\n" % (tmp_path / "ran.txt"))
    helper.chmod(0o755)
    env = dict(watched.series.env(), PATH="%s:%s" % (folder, os.environ["PATH"]))
    args = ["dbus-run-session", "--", sys.executable, str(tmp_path / "server.py"),
            str(tmp_path / "notifications.json"), "fix", "--",
            program("kefu-agentd"), "watch", "--root", str(watched.series.root), "--state",
            str(watched.series.state), "--now", str(BASE), "--json", "--no-checks",
            "--notify-wait", "20", *watched.args()]
    (tmp_path / "server.py").write_text(SERVER)
    result = run(args, env=env, timeout=180)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ran.txt").read_text().splitlines() == [
        "kefu-helper --firmware emu0"]


def test_metadata_configured_but_no_kefu_device_is_neither_an_alert_nor_a_note(watched,
                                                                               tmp_path):
    watched.publish("1.2.5")
    result = watched.series.run(0, "--profile", watched.bench.profile, "--devices",
                                str(tmp_path / "no-devices"), "--metadata", watched.metadata)
    assert watched.firmware_alerts(result) == {}
    assert not [n for n in result["notes"] if "firmware" in n]
    assert result["measured"]["firmware"] == [{"key": "updates", "value": 0.0}]
