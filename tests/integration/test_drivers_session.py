# kefu: drivers from the technician's console: the listing under 'diagnose', installs under 'repair', each checked on the customer's side. SPDX-License-Identifier: MIT
import os

import pytest

from diag_fixtures import umockdev_dir  # noqa: F401 (pytest fixture)
from drivers_fixtures import CAMERA, make_driver_machine
from session_fixtures import audit_log, grant, next_event, private_state, send, support  # noqa: F401

pytestmark = [pytest.mark.usefixtures("private_state"),
              pytest.mark.skipif(os.geteuid() != 0,
                                 reason="apt-get installs into the test's tree only as root")]


@pytest.fixture
def session(support, tmp_path, umockdev_dir, monkeypatch):  # noqa: F811
    machine = make_driver_machine(str(tmp_path / "machine"), umockdev_dir)
    monkeypatch.setenv("KEFU_DRIVERS_APT_CONFIG", machine.apt_conf)
    agent = support.start_agent("--root", machine.root)
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    yield agent, console, machine
    if console.poll() is None:
        send(console, "end")
        console.wait(timeout=30)
    if agent.proc.returncode is None:
        assert agent.finish() == 0


def installed(machine, package):
    with open(os.path.join(machine.root, "var/lib/dpkg/status")) as file:
        return any(stanza.startswith("Package: %s\n" % package) and "ok installed" in stanza
                   for stanza in file.read().split("\n\n"))


def test_console_without_grants_is_refused_both_and_the_refusals_are_audited(session, tmp_path):
    agent, console, machine = session
    send(console, "drivers")
    assert "'diagnose' grant" in next_event(console, "error")["message"]
    send(console, "drivers install kefu-test-camera-dkms")
    assert "'repair' grant" in next_event(console, "error")["message"]
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    assert not installed(machine, "kefu-test-camera-dkms")
    refused = [(e["action"], e["missing"]) for e in audit_log(tmp_path)
               if e["event"] == "action-refused"]
    assert refused == [("drivers.request", "diagnose"), ("drivers.change", "repair")]


def test_diagnose_alone_lists_but_does_not_install(session, tmp_path):
    agent, console, machine = session
    grant(agent, console, "diagnose")
    send(console, "drivers")
    listing = next_event(console, "drivers")["listing"]
    camera = {d["id"]: d for d in listing["devices"]}[CAMERA]
    assert camera["providers"][0]["package"] == "kefu-test-camera-dkms"
    send(console, "drivers install kefu-test-camera-dkms")
    assert "'repair' grant" in next_event(console, "error")["message"]
    assert not installed(machine, "kefu-test-camera-dkms")


def test_under_repair_the_technician_installs_the_driver_and_it_is_audited(session, tmp_path):
    agent, console, machine = session
    grant(agent, console, "repair")
    send(console, "drivers install kefu-test-camera-dkms")
    result = next_event(console, "drivers-result", limit=2000)
    assert result["ok"] is True, result
    assert "Installed kefu-test-camera-dkms 1.0-1" in result["lines"][0]
    assert installed(machine, "kefu-test-camera-dkms")
    # Even with repair, a package no device needs is refused by the customer's side.
    send(console, "drivers install bash")
    refused = next_event(console, "drivers-result", limit=2000)
    assert refused["ok"] is False
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    events = [(e["event"], e.get("result")) for e in audit_log(tmp_path)
              if e["event"].startswith("drivers-")]
    assert events == [("drivers-install", "installed"), ("drivers-install", "refused")]
