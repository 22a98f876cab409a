# kefu: a request that expired is told to the customer, and a late y is no chat line.
# SPDX-License-Identifier: MIT
import json
import re
import shutil
import subprocess
import time

import pytest

from conftest import program
from session_fixtures import private_state, send, support  # noqa: F401 (fixtures)


@pytest.fixture
def terminal(support, private_state, tmp_path):
    """kefu-agentd share in a real terminal (tmux), with requests that expire after 2 s."""
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.skip("tmux is not installed")
    socket = str(tmp_path / "tmux.sock")
    env = "XDG_STATE_HOME=%s XDG_DATA_HOME=%s" % (private_state / "state",
                                                   private_state / "data")
    command = "env %s %s share --profile %s --consent-timeout 2" % (
        env, program("kefu-agentd"), support.profile)
    subprocess.run([tmux, "-S", socket, "new-session", "-d", "-x", "200", "-y", "50", command,
                    ";", "set-option", "remain-on-exit", "on"], check=True, timeout=10)

    class Terminal:
        def screen(self):
            return subprocess.run([tmux, "-S", socket, "capture-pane", "-p", "-J"],
                                  capture_output=True, text=True, timeout=10).stdout

        def wait(self, text, timeout=20):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if text in self.screen():
                    return self.screen()
                time.sleep(0.1)
            raise AssertionError("%r never appeared; the screen:\n%s" % (text, self.screen()))

        def type(self, line):
            subprocess.run([tmux, "-S", socket, "send-keys", line, "Enter"], check=True,
                           timeout=10)

    try:
        yield Terminal()
    finally:
        subprocess.run([tmux, "-S", socket, "kill-server"], timeout=10)


def console_events(console):
    send(console, "end")
    out, _ = console.communicate(timeout=30)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_an_expired_request_is_told_and_a_late_yes_is_not_chat(support, terminal):
    code = re.search(r"Your code:\s+([\d ]+)", terminal.wait("Your code:")).group(1).strip()
    console = support.start_console(code, "--json")
    terminal.wait("is connected | allowed: nothing")
    send(console, "request diagnose to look at the printer")
    terminal.wait("asks to collect a report")
    terminal.wait("The request for 'diagnose' expired; nothing was allowed.")
    terminal.type("y")
    terminal.wait("Too late: the request for 'diagnose' had already expired")
    # A real chat line still goes through: the console receives it before the session ends.
    terminal.type("the printer is upstairs")
    got = []
    for _ in range(200):
        line = console.stdout.readline()
        assert line, "the console ended before the customer's chat line"
        if line.startswith("{"):
            got.append(json.loads(line))
            if got[-1]["event"] == "chat":
                break
    got += console_events(console)
    chats = [e["text"] for e in got if e["event"] == "chat"]
    assert chats == ["the printer is upstairs"]
    answers = [e for e in got if e["event"] == "consent"]
    assert [(a["granted"], a["by"]) for a in answers] == [(False, "timeout")]
