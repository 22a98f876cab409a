# kefu: nothing leaves the customer's computer unasked, and secrets only when typed back.
# SPDX-License-Identifier: MIT
import os

import pytest

from session_fixtures import (audit_log, grant, next_event, private_state,  # noqa: F401
                              send, support)


@pytest.fixture
def session(support, private_state, tmp_path, monkeypatch):
    """A session whose customer has a home of their own, with an SSH key in it."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n")
    (home / ".ssh" / "id_ed25519.pub").write_text("ssh-ed25519 AAAA fake\n")
    monkeypatch.setenv("HOME", str(home))
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    into = tmp_path / "case"
    into.mkdir()
    yield agent, console, home, into
    if console.poll() is None:
        send(console, "end")
        console.wait(timeout=30)
    if agent.proc.returncode is None:
        assert agent.finish() == 0


def test_a_fetch_the_customer_refuses_fails_with_the_reason(session, tmp_path):
    agent, console, home, into = session
    grant(agent, console, "files")
    log = tmp_path / "Xorg.0.log"
    log.write_bytes(b"(EE) no screens found\n" * 1450)  # 31 900 bytes
    send(console, "fetch %s %s" % (log, into))
    agent.wait_for(r"Alice Tan wants a copy of %s \(32 KB\)\." % log)
    agent.wait_for(r"Allow\? y/n")
    agent.say("n")
    refused = next_event(console, "error", "file")
    assert refused["event"] == "error", refused
    assert "the customer refused to let %s be copied" % log in refused["message"]
    assert os.listdir(str(into)) == []
    # Asked again, the customer says yes: the copy arrives whole.
    send(console, "fetch %s %s" % (log, into))
    agent.wait_for("wants a copy of %s" % log)
    agent.say("y")
    assert next_event(console, "error", "file")["event"] == "file"
    assert (into / "Xorg.0.log").read_bytes() == log.read_bytes()
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    answers = [(e["path"], e["allowed"], e["by"]) for e in audit_log(tmp_path)
               if e["event"] == "fetch-answered"]
    assert answers == [(str(log), False, "customer"), (str(log), True, "customer")]


def test_a_secret_goes_only_when_its_path_is_typed_back(session):
    agent, console, home, into = session
    grant(agent, console, "files")
    key = home / ".ssh" / "id_ed25519"
    send(console, "fetch %s %s" % (key, into))
    agent.wait_for("wants a copy of %s" % key)
    agent.wait_for("This file holds secrets")
    agent.say("y")  # a y is not enough for a secret
    refused = next_event(console, "error", "file")
    assert refused["event"] == "error", refused
    assert "holds secrets" in refused["message"]
    assert os.listdir(str(into)) == []
    send(console, "fetch %s %s" % (key, into))
    agent.wait_for("This file holds secrets")
    agent.say(str(key))
    assert next_event(console, "error", "file")["event"] == "file"
    assert (into / "id_ed25519").read_bytes() == key.read_bytes()


def test_files_without_asking_still_asks_for_secrets(session, tmp_path):
    agent, console, home, into = session
    send(console, "request files")
    agent.wait_for("copy files without asking")
    agent.say("all")
    assert next_event(console, "consent")["granted"] is True
    public = home / ".ssh" / "id_ed25519.pub"  # a public key is no secret
    send(console, "fetch %s %s" % (public, into))
    assert next_event(console, "error", "file")["event"] == "file"
    key = home / ".ssh" / "id_ed25519"
    send(console, "fetch %s %s" % (key, into))
    agent.wait_for("This file holds secrets")
    agent.say("n")
    assert "holds secrets" in next_event(console, "error", "file")["message"]
    # Taking files back ends the choice: given again, each file is asked for.
    agent.say("/revoke files")
    next_event(console, "revoked")
    grant(agent, console, "files")
    send(console, "fetch %s %s" % (public, into))
    agent.wait_for("wants a copy of %s" % public)
    agent.say("y")
    assert next_event(console, "error", "file")["event"] == "file"
