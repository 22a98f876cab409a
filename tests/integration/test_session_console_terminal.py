# kefu: the technician's console in a real terminal (tmux): line editing, history, keys,
# and events printed above the line being typed. SPDX-License-Identifier: MIT
#
# Every test types a first command before it looks at the editing: a console whose
# terminal falls back to cooked mode after one line (arrows echoed as ^[[A, each
# command shown twice, history gone) fails all of them.
import os
import re
import shutil
import signal
import stat
import subprocess
import time

import pytest

from conftest import program
from session_fixtures import support  # noqa: F401 (a fixture)

PROMPT = "kefu> "


class Pane:
    """kefu-console join in a tmux pane of its own, driven with send-keys and read with
    capture-pane. The tmux server is private to the test (its own socket)."""

    def __init__(self, support, code, home):
        self.tmux = shutil.which("tmux")
        if self.tmux is None:
            pytest.skip("tmux is not installed")
        self.socket = str(home / "tmux.sock")
        self.home = home
        env = {"HOME": str(home), "XDG_STATE_HOME": str(home / "state"),
               "XDG_DATA_HOME": str(home / "data"), "TERM": "screen", "LC_ALL": "C.UTF-8"}
        command = ["env", "-i"] + ["%s=%s" % item for item in env.items()] + [
            program("kefu-console"), "join"] + support.console_args() + [code]
        # A shell waits for the console and says how it ended: tmux's own "Pane is
        # dead" line needs the pane's process reaped by tmux, which 3.3a sometimes
        # does late.
        script = ("%s; echo \"console exited with status $?\"; "
                  "if stty -a | tr ' ' '\\n' | grep -qx -e -echo -e -icanon; "
                  "then echo 'terminal left in raw mode'; else echo 'terminal restored'; fi"
                  % " ".join("'%s'" % a for a in command))
        subprocess.run([self.tmux, "-S", self.socket, "-f", "/dev/null", "new-session", "-d",
                        "-x", "150", "-y", "50", "sh", "-c", script, ";",
                        "set-option", "remain-on-exit", "on"], check=True, timeout=10)
        self.wait("Connected to the customer's computer")
        self.wait_prompt()

    def screen(self):
        return subprocess.run([self.tmux, "-S", self.socket, "capture-pane", "-p", "-J"],
                              capture_output=True, text=True, timeout=10).stdout

    def lines(self):
        return [line.rstrip() for line in self.screen().splitlines() if line.strip()]

    def keys(self, *keys, literal=False):
        subprocess.run([self.tmux, "-S", self.socket, "send-keys"] + (["-l"] if literal else [])
                       + list(keys), check=True, timeout=10)

    def type(self, text):
        self.keys(text, literal=True)

    def wait(self, text, timeout=20, count=1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen.count(text) >= count:
                return screen
            time.sleep(0.1)
        raise AssertionError("%r (%d times) never appeared; the screen:\n%s"
                             % (text, count, self.screen()))

    def wait_last_line(self, expected, timeout=20):
        """The line being edited (the last one on the screen) reads expected."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.lines()
            if lines and lines[-1] == expected.rstrip():
                return
            time.sleep(0.1)
        raise AssertionError("the last line never read %r; the screen:\n%s"
                             % (expected, self.screen()))

    def wait_prompt(self):
        self.wait_last_line(PROMPT)

    def is_running(self):
        return "console exited with status" not in self.screen()

    def wait_exit(self, timeout=20):
        """The console's exit status, as the shell around it saw it."""
        screen = self.wait("console exited with status ", timeout=timeout)
        return int(re.search(r"console exited with status (\d+)", screen).group(1))

    def console_pid(self):
        shell = subprocess.run([self.tmux, "-S", self.socket, "display", "-p", "#{pane_pid}"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        with open("/proc/%s/task/%s/children" % (shell, shell)) as f:
            return int(f.read().split()[0])

    def first_command(self):
        """A ping, answered: the line editor has handed over one whole line."""
        self.type("ping")
        self.keys("Enter")
        self.wait("Round trip to the customer:")
        deadline = time.monotonic() + 20
        while not self.lines()[-1].startswith(PROMPT.rstrip()):
            assert time.monotonic() < deadline, "no prompt after the ping:\n" + self.screen()
            time.sleep(0.1)

    def close(self):
        subprocess.run([self.tmux, "-S", self.socket, "kill-server"], timeout=10,
                       stderr=subprocess.DEVNULL)


@pytest.fixture
def console_pane(support, tmp_path):
    panes = []

    def start(agent):
        pane = Pane(support, agent.code, tmp_path)
        panes.append(pane)
        agent.wait_for("is now with you")
        return pane

    yield start
    for pane in panes:
        pane.close()


def history_path(home):
    return os.path.join(str(home), "state", "kefu", "console", "history")


def test_up_recalls_the_last_command_and_each_command_shows_once(support, console_pane):
    agent = support.start_agent()
    pane = console_pane(agent)
    pane.first_command()
    pane.keys("Up")
    pane.wait_last_line(PROMPT + "ping")
    pane.keys("Enter")
    pane.wait("Round trip to the customer:", count=2)
    pane.wait_prompt()
    lines = pane.lines()
    # Typed once, shown once: no echo of the terminal's own beside the editor's.
    assert lines.count(PROMPT + "ping") == 2, pane.screen()
    assert not any(line.strip() == "ping" for line in lines), pane.screen()
    assert "^[" not in pane.screen()


def test_ctrl_a_ctrl_e_ctrl_w_and_ctrl_u_edit_the_line(support, console_pane):
    agent = support.start_agent()
    pane = console_pane(agent)
    pane.first_command()
    pane.type("hat hello there")
    pane.keys("C-a")
    pane.type("c")
    pane.wait_last_line(PROMPT + "chat hello there")
    pane.keys("C-e")
    pane.keys("C-w")
    pane.wait_last_line(PROMPT + "chat hello ")
    pane.keys("C-a")
    pane.keys("C-e")
    pane.type("world")
    pane.keys("Enter")
    agent.wait_for("Technician: hello world")
    pane.wait_prompt()
    pane.type("chat this line is thrown away")
    pane.keys("C-u")
    pane.wait_last_line(PROMPT)
    pane.type("chat after the clear")
    pane.keys("Enter")
    agent.wait_for("Technician: after the clear")
    assert "Unknown command" not in pane.screen()
    assert "^A" not in pane.screen() and "^U" not in pane.screen()


def test_an_event_prints_above_the_line_being_typed(support, console_pane):
    agent = support.start_agent()
    pane = console_pane(agent)
    pane.first_command()
    pane.type("chat half a senten")
    pane.wait_last_line(PROMPT + "chat half a senten")
    agent.say("is anyone there?")
    pane.wait("Customer: is anyone there?")
    lines = pane.lines()
    assert lines[-2] == "Customer: is anyone there?", pane.screen()
    assert lines[-1] == PROMPT + "chat half a senten", pane.screen()
    pane.type("ce, finished")
    pane.keys("Enter")
    agent.wait_for("Technician: half a sentence, finished")


def test_history_is_kept_private_and_recalled_by_the_next_session(support, console_pane,
                                                                    tmp_path):
    agent = support.start_agent()
    pane = console_pane(agent)
    pane.first_command()
    pane.type("chat remember me")
    pane.keys("Enter")
    agent.wait_for("Technician: remember me")
    pane.type("end")
    pane.keys("Enter")
    pane.wait("Closing advice")
    pane.keys("Enter")
    assert pane.wait_exit() == 0
    agent.finish()
    path = history_path(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = open(path, encoding="utf-8", errors="replace").read()
    assert "ping" in text and "remember" in text and "end" in text
    pane.close()

    # The next session starts with the same history: Up Up recalls the chat.
    agent = support.start_agent()
    pane = console_pane(agent)
    pane.keys("Up")
    pane.wait_last_line(PROMPT + "end")
    pane.keys("Up")
    pane.wait_last_line(PROMPT + "chat remember me")


def test_ctrl_c_clears_the_line_and_a_second_one_ends_the_session(support, console_pane):
    agent = support.start_agent()
    pane = console_pane(agent)
    pane.first_command()
    pane.type("chat never sent")
    pane.keys("C-c")
    pane.wait_last_line(PROMPT)
    assert pane.is_running()
    pane.type("chat still here")
    pane.keys("Enter")
    agent.wait_for("Technician: still here")
    assert not any("never sent" in line for line in agent.lines)
    pane.wait_prompt()
    pane.keys("C-c")
    pane.keys("C-c")
    pane.wait("The session has ended: the technician ended the session")
    assert pane.wait_exit() == 0
    pane.wait("terminal restored")
    assert agent.finish() == 0


def test_ctrl_d_ends_the_session_cleanly(support, console_pane):
    agent = support.start_agent()
    pane = console_pane(agent)
    pane.first_command()
    pane.type("help")
    pane.keys("Enter")
    pane.wait("Ctrl-C twice or Ctrl-D on an empty line ends the session")
    pane.wait_prompt()
    pane.keys("C-d")
    pane.wait("The session has ended: the technician ended the session")
    assert pane.wait_exit() == 0
    assert agent.finish() == 0
    pane.wait("terminal restored")


def test_sigterm_ends_the_session_and_gives_the_terminal_back(support, console_pane):
    agent = support.start_agent()
    pane = console_pane(agent)
    pane.first_command()
    pane.type("chat half typed")
    pane.wait_last_line(PROMPT + "chat half typed")
    os.kill(pane.console_pid(), signal.SIGTERM)
    pane.wait("The session has ended: the technician ended the session")
    assert pane.wait_exit() == 0
    pane.wait("terminal restored")
    assert agent.finish() == 0
