# kefu: a helper killed mid-session leaves no part-files and its record says so. SPDX-License-Identifier: MIT
import hashlib
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import program
from session_fixtures import (files_being_written, grant, next_event,  # noqa: F401
                              private_state, send, support)


@pytest.fixture
def private_tmp(private_state, monkeypatch):
    """The helper's TMPDIR (where updates on their way get a private folder), in the test."""
    folder = private_state / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def join(support):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    return agent, console


def kill_while_writing(agent, console, folder_pattern):
    """Waits until the helper writes a file in folder_pattern, then kills it with SIGKILL."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not files_being_written(agent.proc.pid,
                                                                  folder_pattern):
        time.sleep(0.005)
    assert files_being_written(agent.proc.pid, folder_pattern), "the transfer never started"
    agent.proc.send_signal(signal.SIGKILL)
    agent.proc.wait(timeout=10)
    console.kill()
    console.wait(timeout=10)


def big_file(path):
    with open(str(path), "wb") as out:
        out.truncate(200 * 1024 * 1024)  # sparse: cheap to make, slow enough to send
    return path


def test_kill_9_during_an_incoming_file_leaves_nothing_in_downloads(support, private_tmp,
                                                                     tmp_path):
    folder = tmp_path / "downloads" / "kefu"
    agent, console = join(support)
    grant(agent, console, "files")
    send(console, "send %s" % big_file(tmp_path / "big.img"))
    kill_while_writing(agent, console, str(folder))
    assert os.listdir(str(folder)) == []  # not even a hidden part

    # The next share starts clean and receives whole files.
    agent, console = join(support)
    grant(agent, console, "files")
    small = tmp_path / "notes.txt"
    small.write_text("for the customer\n")
    send(console, "send %s" % small)
    assert next_event(console, "file", "error")["event"] == "file"
    assert os.listdir(str(folder)) == ["notes.txt"]
    send(console, "end")
    console.wait(timeout=30)
    assert agent.finish() == 0


def test_kill_9_during_a_firmware_upload_leaves_no_private_folder(support, private_tmp,
                                                                   tmp_path):
    agent, console = join(support)
    grant(agent, console, "firmware")
    send(console, "firmware apply %s" % big_file(tmp_path / "big.kefufw"))
    kill_while_writing(agent, console, str(private_tmp / "kefu-firmware-*"))
    # Nothing of the update is left in its folder...
    for name in os.listdir(str(private_tmp)):
        assert os.listdir(str(private_tmp / name)) == [], name
    # ...and the next share removes the folder the killed helper made.
    agent = support.start_agent()
    assert os.listdir(str(private_tmp)) == []
    agent.proc.send_signal(signal.SIGTERM)
    agent.finish()


def test_the_next_share_sweeps_part_files_of_helpers_that_are_gone(support, private_tmp,
                                                                    tmp_path):
    # What an older helper, or one on a file system without O_TMPFILE, left when killed.
    folder = tmp_path / "downloads" / "kefu"
    folder.mkdir(parents=True)
    (folder / ".kefu-receiving-Ab12Cd").write_bytes(b"x" * 1000)
    gone = subprocess.Popen(["true"])
    gone.wait()
    (folder / (".kefu-receiving-%d-Xy34Zw" % gone.pid)).write_bytes(b"x" * 1000)
    (folder / "report.pdf").write_bytes(b"the customer's own")
    stale = private_tmp / ("kefu-firmware-%d-Qw56Er" % gone.pid)
    stale.mkdir()
    (stale / "update.kefufw").write_bytes(b"x" * 1000)
    agent = support.start_agent()
    assert os.listdir(str(folder)) == ["report.pdf"]
    assert not stale.exists()
    agent.proc.send_signal(signal.SIGTERM)
    agent.finish()


def audit(state_parent, *args):
    """`kefu-agentd audit` as the customer runs it."""
    env = dict(os.environ, XDG_STATE_HOME=str(state_parent / "state"))
    result = subprocess.run([program("kefu-agentd"), "audit"] + list(args), env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_session_cut_by_kill_9_reads_as_interrupted_at_once(support, private_state):
    agent, console = join(support)
    # While the helper runs, its session is open, not cut.
    live = [json.loads(line) for line in audit(private_state, "--json").splitlines()]
    session = [e for e in live if e["event"] == "session-start"][0]["session"]
    assert not any(e["event"] == "session-interrupted" for e in live)
    assert "INTERRUPTED" not in audit(private_state)
    agent.proc.send_signal(signal.SIGKILL)
    agent.proc.wait(timeout=10)
    console.kill()
    console.wait(timeout=10)
    # No share has run since: reading the log is enough to see the cut.
    entries = [json.loads(line) for line in audit(private_state, "--json").splitlines()]
    cut = [e for e in entries if e["event"] == "session-interrupted"]
    assert [e["session"] for e in cut] == [session]
    assert cut[0]["technician"]["name"] == "Alice Tan"
    shown = audit(private_state)
    assert "session INTERRUPTED: the helper stopped without ending this session" in shown
    assert session[:8] in audit(private_state, "--session", session[:8])
