# kefu: files to and from the customer's computer, only with 'files', never over another file.
# SPDX-License-Identifier: MIT
import glob
import hashlib
import os
import time

import pytest

from session_fixtures import (audit_log, files_being_written, grant, next_event,  # noqa: F401
                              private_state, send, support)

# Each test keeps the customer's audit log, summaries and downloads in its own folder.
pytestmark = pytest.mark.usefixtures("private_state")


@pytest.fixture
def session(support, tmp_path):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    yield agent, console
    if console.poll() is None:
        send(console, "end")
        console.wait(timeout=30)
    # The helper never dies of what the technician did.
    if agent.proc.returncode is None:
        assert agent.finish() == 0
    assert agent.proc.returncode == 0


def downloads(tmp_path):
    return sorted(os.listdir(str(tmp_path / "downloads" / "kefu"))) \
        if (tmp_path / "downloads" / "kefu").exists() else []


def test_without_files_nothing_is_sent_or_fetched_and_the_refusal_is_audited(session, tmp_path):
    agent, console = session
    local = tmp_path / "notes.txt"
    local.write_text("for the customer\n")
    send(console, "send %s" % local)
    assert next_event(console, "error", "file")["event"] == "error"
    secret = tmp_path / "secret.txt"
    secret.write_text("the customer's\n")
    fetched = tmp_path / "fetched"
    fetched.mkdir()
    send(console, "fetch %s %s" % (secret, fetched))
    assert next_event(console, "error", "file")["event"] == "error"
    assert downloads(tmp_path) == [] and os.listdir(str(fetched)) == []
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    refused = [e for e in audit_log(tmp_path) if e["event"] == "action-refused"]
    assert [(e["action"], e["missing"]) for e in refused] == [("file", "files")] * 2


def test_files_travel_both_ways_whole_and_never_over_another_file(session, tmp_path):
    agent, console = session
    grant(agent, console, "files")
    payload = os.urandom(3 * 1024 * 1024 + 17)
    local = tmp_path / "driver-fix.bin"
    local.write_bytes(payload)
    for expected in ("driver-fix.bin", "driver-fix (2).bin"):
        send(console, "send %s" % local)
        done = next_event(console, "file", "error")
        assert done["event"] == "file", done
        assert done["saved"].endswith("/kefu/" + expected)
        assert done["sha256"] == hashlib.sha256(payload).hexdigest()
        saved = tmp_path / "downloads" / "kefu" / expected
        assert saved.read_bytes() == payload
        assert oct(saved.stat().st_mode & 0o777) == "0o600"
        agent.wait_for("sent you a file")
    # Fetch: a log from the customer's computer into a folder of the technician's.
    log = tmp_path / "Xorg.0.log"
    log.write_bytes(b"(EE) no screens found\n" * 5000)
    into = tmp_path / "case"
    into.mkdir()
    send(console, "fetch %s %s" % (log, into))
    agent.wait_for("wants a copy of %s" % log)  # each fetch is the customer's to allow
    agent.say("y")
    done = next_event(console, "file", "error")
    assert done["event"] == "file", done
    assert (into / "Xorg.0.log").read_bytes() == log.read_bytes()
    agent.wait_for("fetched a copy of")
    # Only plain, regular files: a folder and a relative path are refused.
    send(console, "fetch %s %s" % (tmp_path, into))
    assert "regular file" in next_event(console, "error")["message"]
    send(console, "fetch etc/passwd %s" % into)
    assert "absolute" in next_event(console, "error")["message"]
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    finished = [(e["action"], e["result"]) for e in audit_log(tmp_path)
                if e["event"] == "action-finish" and e["action"].startswith("file")]
    assert finished == [("file send", "ok"), ("file send", "ok"), ("file fetch", "ok"),
                        ("file fetch", "failed")]
    summaries = glob.glob(str(tmp_path / "data" / "kefu" / "sessions" / "*.md"))
    text = open(summaries[0]).read().replace("\\_", "_")  # Markdown escapes underscores
    assert "sent you a file, saved as" in text and "fetched %s" % log in text


def test_taking_files_back_stops_a_file_on_its_way_and_leaves_no_part(session, tmp_path):
    agent, console = session
    grant(agent, console, "files")
    big = tmp_path / "big.img"
    with open(str(big), "wb") as out:
        out.truncate(200 * 1024 * 1024)  # sparse: cheap to make, slow enough to send
    send(console, "send %s" % big)
    folder = tmp_path / "downloads" / "kefu"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not files_being_written(agent.proc.pid, str(folder)):
        time.sleep(0.01)
    assert files_being_written(agent.proc.pid, str(folder)), "the transfer never started"
    agent.say("/revoke files")
    done = next_event(console, "file", "error")
    assert done["event"] == "error", done
    assert os.listdir(str(folder)) == []  # the part that had arrived is gone
    send(console, "send %s" % big)
    assert next_event(console, "file", "error")["event"] == "error"
    assert os.listdir(str(folder)) == []


def test_a_file_that_changes_while_it_is_sent_never_reaches_the_customer(session, tmp_path):
    agent, console = session
    grant(agent, console, "files")
    big = tmp_path / "growing.log"
    with open(str(big), "wb") as out:
        out.truncate(200 * 1024 * 1024)  # sparse: cheap to make, slow enough to send
    send(console, "send %s" % big)
    folder = tmp_path / "downloads" / "kefu"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not files_being_written(agent.proc.pid, str(folder)):
        time.sleep(0.01)
    assert files_being_written(agent.proc.pid, str(folder)), "the transfer never started"
    # The technician's program writes on: what left is no longer the file.
    with open(str(big), "r+b") as out:
        out.write(b"changed")
    done = next_event(console, "file", "error", limit=100000)
    assert done["event"] == "error", done
    assert "changed while it was sent" in done["message"]
    assert os.listdir(str(folder)) == []


@pytest.mark.parametrize("what", ["folder", "missing"])
def test_a_file_the_technician_cannot_send_is_said_at_the_console_and_never_reaches_the_customer(
        session, tmp_path, what):
    agent, console = session
    grant(agent, console, "files", "asks to send files")
    path = tmp_path if what == "folder" else tmp_path / "no-such-file.txt"
    send(console, "send %s" % path)
    event = next_event(console, "error", "file")
    assert event["event"] == "error"
    assert event["message"].startswith("Cannot send %s: " % path)
    assert ("folder" in event["message"]) == (what == "folder")
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    # The customer's side heard of no transfer at all, least of all a failed fetch.
    assert not [e for e in audit_log(tmp_path) if e["event"].startswith("action")
                and e.get("action") == "file"]
    assert not [line for line in agent.lines if "fetch" in line and "failed" in line]
