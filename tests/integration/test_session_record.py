# kefu: what the customer keeps of a session: both sides of the chat, and a cut session. SPDX-License-Identifier: MIT
import glob
import json
import os
import signal
import subprocess

from conftest import program
from session_fixtures import next_event, private_state, send, support  # noqa: F401 (fixtures)


def audit_json(state_parent):
    """`kefu-agentd audit --json`, as the customer would run it, one entry per line."""
    env = dict(os.environ, XDG_STATE_HOME=str(state_parent / "state"))
    result = subprocess.run([program("kefu-agentd"), "audit", "--json"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def audit_text(state_parent):
    env = dict(os.environ, XDG_STATE_HOME=str(state_parent / "state"))
    result = subprocess.run([program("kefu-agentd"), "audit"], env=env, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def summary_text(state_parent):
    files = glob.glob(str(state_parent / "data" / "kefu" / "sessions" / "*.md"))
    assert len(files) == 1, files
    return open(files[0]).read()


def test_both_sides_of_the_chat_are_in_the_audit_and_the_summary(support, private_state):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    send(console, "chat Which printer is it?")
    agent.wait_for("Technician: Which printer is it?")
    agent.say("The one in the hall")
    assert next_event(console, "chat")["text"] == "The one in the hall"
    send(console, "end thanks")
    console.communicate(timeout=30)
    assert agent.finish() == 0

    chats = [e for e in audit_json(private_state) if e["event"] == "chat"]
    assert [(e["from"], e["length"]) for e in chats] == [("technician", 20), ("customer", 19)]
    # The audit keeps lengths, never words, for either side.
    assert not any("text" in e for e in chats)
    assert "chat message from the customer" in audit_text(private_state)
    text = summary_text(private_state)
    assert "Alice Tan: Which printer is it?" in text
    assert "You: The one in the hall" in text
