# kefu: a firmware update driven from the technician's console, under the 'firmware' grant,
# with progress on both sides, on the emulated A/B device. SPDX-License-Identifier: MIT
import glob
import json
import os
import time

import pytest

from firmware_fixtures import FirmwareBench, Publisher, firmware_package, make_root
from session_fixtures import (audit_log, files_being_written, grant, next_event,  # noqa: F401
                              private_state, send, support)

# Each test keeps the customer's audit log, summaries and downloads in its own folder.
pytestmark = pytest.mark.usefixtures("private_state")


@pytest.fixture
def device(tmp_path, processes, support):
    """The emulated device running 1.2.2, and the session profile trusting its publisher."""
    publisher = Publisher(str(tmp_path / "publisher"))
    with open(support.profile) as f:
        profile = json.load(f)
    profile["firmware_publishers"] = [publisher.entry]
    with open(support.profile, "w") as f:
        json.dump(profile, f)
    (tmp_path / "bench").mkdir()  # its own profile.json, beside the session's
    bench = FirmwareBench(tmp_path / "bench", processes, [], [publisher.entry])
    bench.start_factory_device()
    package = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher=publisher)
    yield bench, package
    bench.cleanup()


@pytest.fixture
def session(support, device, tmp_path):
    bench, package = device
    root = make_root(str(tmp_path / "customer-root"))
    agent = support.start_agent("--firmware-devices", bench.devices, "--root", root)
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    yield agent, console, bench, package
    if console.poll() is None:
        send(console, "end")
        console.wait(timeout=30)
    if agent.proc.returncode is None:
        assert agent.finish() == 0
    assert agent.proc.returncode == 0


def test_without_firmware_nothing_is_sent_or_written_and_the_refusal_is_audited(session,
                                                                                 tmp_path):
    agent, console, bench, package = session
    send(console, "firmware list")
    assert "'firmware' grant" in next_event(console, "error")["message"]
    send(console, "firmware apply %s" % package)
    assert next_event(console, "error", "firmware-result")["event"] == "error"
    assert bench.boot()["version"] == "1.2.2"
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    refused = [(e["action"], e["missing"]) for e in audit_log(tmp_path)
               if e["event"] == "action-refused"]
    assert refused == [("firmware.list", "firmware"), ("firmware", "firmware")]


def test_the_technician_updates_the_device_with_progress_on_both_sides(session, tmp_path):
    agent, console, bench, package = session
    grant(agent, console, "firmware")
    send(console, "firmware list")
    devices = next_event(console, "firmware-devices")
    assert devices["code"] == 0
    listed = json.loads("\n".join(devices["lines"]))
    assert [(d["id"], d["version"]) for d in listed] == [("emu0", "1.2.2")]
    send(console, "firmware apply %s" % package)
    assert next_event(console, "firmware-uploaded")["sha256"]
    phases = []
    while True:
        event = next_event(console, "firmware-progress", "firmware-result")
        if event["event"] == "firmware-result":
            break
        progress = event.get("progress")
        if progress and progress["phase"] not in phases:
            phases.append(progress["phase"])
    assert event["ok"] is True, event
    assert phases == ["verify", "write", "verify-after-write", "restart"]
    assert bench.boot()["version"] == "1.2.5"
    agent.wait_for("do not unplug")
    agent.wait_for("Firmware update emu-1.2.5.kefufw finished")
    # A second try of the same version is refused before anything is written.
    send(console, "firmware apply %s" % package)
    event = next_event(console, "firmware-result")
    assert event["ok"] is False
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    finished = [(e["action"], e["result"]) for e in audit_log(tmp_path)
                if e["event"] == "action-finish" and e["action"] == "firmware"]
    assert finished == [("firmware", "ok"), ("firmware", "failed")]
    summaries = glob.glob(str(tmp_path / "data" / "kefu" / "sessions" / "*.md"))
    assert "firmware update emu-1.2.5.kefufw finished" in open(summaries[0]).read()
    # The uploaded update does not stay behind.
    assert glob.glob("/tmp/kefu-firmware-*/emu-1.2.5.kefufw") == []


def test_taking_firmware_back_refuses_the_next_update(session, tmp_path):
    agent, console, bench, package = session
    grant(agent, console, "firmware")
    agent.say("/revoke firmware")
    assert next_event(console, "revoked")["capability"] == "firmware"
    send(console, "firmware apply %s" % package)
    assert next_event(console, "error", "firmware-result")["event"] == "error"
    assert bench.boot()["version"] == "1.2.2"


def test_taking_firmware_back_during_the_upload_stops_it_and_writes_nothing(session, tmp_path):
    agent, console, bench, package = session
    grant(agent, console, "firmware")
    big = tmp_path / "big.kefufw"
    with open(str(big), "wb") as out:
        out.truncate(200 * 1024 * 1024)  # sparse: cheap to make, slow enough to send
    send(console, "firmware apply %s" % big)
    deadline = time.monotonic() + 30
    parts = []
    while time.monotonic() < deadline and not parts:
        parts = files_being_written(agent.proc.pid, "/tmp/kefu-firmware-*")
        time.sleep(0.01)
    assert parts, "the upload never started"
    agent.say("/revoke firmware")
    assert next_event(console, "error", "firmware-result")["event"] == "error"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and os.path.exists(os.path.dirname(parts[0])):
        time.sleep(0.05)
    assert not os.path.exists(os.path.dirname(parts[0]))  # nothing of it is left
    assert bench.boot()["version"] == "1.2.2"
