# kefu: `firmware updates` from the technician's console, under the 'firmware' grant: the updates
# the profile's signed metadata lists for the customer's devices. SPDX-License-Identifier: MIT
import json

import pytest

from firmware_fixtures import FirmwareBench, FirmwareCA, make_root, signed_cab
from session_fixtures import (audit_log, grant, next_event, private_state, send,  # noqa: F401
                              support)
from test_firmware_updates import write_metadata

pytestmark = pytest.mark.usefixtures("private_state")


@pytest.fixture
def session(support, tmp_path, processes):
    ca = FirmwareCA(str(tmp_path / "fwca"))
    (tmp_path / "bench").mkdir()
    bench = FirmwareBench(tmp_path / "bench", processes, [ca.ca])
    bench.start_factory_device()
    folder = str(tmp_path / "remote")
    metadata = write_metadata(ca, folder, signed_cab(ca, folder, "0x1020005", "1.2.5"))
    with open(support.profile) as f:
        profile = json.load(f)
    with open(ca.ca) as f:
        profile["firmware_cas"] = [f.read()]
    profile["firmware_metadata"] = metadata
    with open(support.profile, "w") as f:
        json.dump(profile, f)
    root = make_root(str(tmp_path / "customer-root"))
    agent = support.start_agent("--firmware-devices", bench.devices, "--root", root)
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    yield agent, console
    if console.poll() is None:
        send(console, "end")
        console.wait(timeout=30)
    if agent.proc.returncode is None:
        assert agent.finish() == 0
    bench.cleanup()


def test_the_technician_sees_the_updates_the_signed_metadata_lists(session):
    agent, console = session
    grant(agent, console, "firmware")
    send(console, "firmware updates")
    event = next_event(console, "firmware-updates")
    assert [(u["device"], u["from"], u["to"], u["sources"]) for u in event["updates"]] == [
        ("emu0", "1.2.2", "1.2.5", ["kefu"])]


def test_without_the_firmware_grant_no_updates_are_listed(session):
    agent, console = session
    send(console, "firmware updates")
    assert "'firmware' grant" in next_event(console, "error")["message"]


def test_the_technician_installs_the_newest_update_the_metadata_names(session, tmp_path):
    agent, console = session
    grant(agent, console, "firmware")
    send(console, "firmware apply --latest emu0")
    while True:
        event = next_event(console, "firmware-progress", "firmware-result")
        if event["event"] == "firmware-result":
            break
    assert event["ok"] is True, event
    agent.wait_for("Firmware update latest for emu0 finished")
    send(console, "firmware updates")
    assert next_event(console, "firmware-updates")["updates"] == []
    started = [e for e in audit_log(tmp_path) if e["event"] == "action-start"]
    assert [(e["action"], e["mode"]) for e in started] == [("firmware", "apply-latest")]


def test_without_the_firmware_grant_nothing_is_installed(session, tmp_path):
    agent, console = session
    send(console, "firmware apply --latest emu0")
    assert "'firmware' grant" in next_event(console, "error")["message"]
    assert [e for e in audit_log(tmp_path) if e["event"] == "action-start"] == []
