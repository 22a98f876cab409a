# kefu: shared pytest fixtures for the integration tests. SPDX-License-Identifier: MIT
#
# Every process a test starts is stopped by PID when the test ends, and every
# wait is bounded.
import os
import signal
import subprocess

import pytest

SOURCE_DIR = os.environ.get("KEFU_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("KEFU_BUILD") or os.path.join(SOURCE_DIR, "build", "default")
# Real data written by others (umockdev recordings, fwupd firmware): part of the checkout.
FIXTURES_DIR = os.environ.get("KEFU_FIXTURES_DIR") or os.path.join(SOURCE_DIR, "tests", "fixtures")


@pytest.fixture(autouse=True)
def private_xdg_folders(tmp_path, monkeypatch):
    """Every test keeps kefu's state, data, configuration and cache in its own folders:
    nothing it runs writes into the real user's home. Tests that need a particular
    folder set the variable again."""
    for name in ("STATE", "DATA", "CONFIG", "CACHE"):
        folder = tmp_path / ("xdg-" + name.lower())
        folder.mkdir(exist_ok=True)
        monkeypatch.setenv("XDG_%s_HOME" % name, str(folder))


def program(name):
    """The path of a built kefu program (kefu-agentd, kefu-console, kefu-plugin)."""
    return os.path.join(BUILD_DIR, name)


def run(args, timeout=60, **kwargs):
    """Runs a command to completion with a bound on its time; returns CompletedProcess."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    if "input" not in kwargs:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
    kwargs.setdefault("text", True)
    return subprocess.run(args, timeout=timeout, **kwargs)


class Processes:
    """Starts processes in their own process groups and stops them all by PID."""

    def __init__(self):
        self.started = []

    def start(self, args, **kwargs):
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs.setdefault("start_new_session", True)
        proc = subprocess.Popen(args, **kwargs)
        self.started.append(proc)
        return proc

    def stop_all(self):
        for proc in reversed(self.started):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in reversed(self.started):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)


@pytest.fixture
def processes():
    group = Processes()
    yield group
    group.stop_all()


def fixture_folder(name):
    """FIXTURES_DIR/name; fails the test (never skips) when the checkout lacks it."""
    folder = os.path.join(FIXTURES_DIR, name)
    if not os.path.isdir(folder) or not os.listdir(folder):
        pytest.fail("the fixtures folder %s is missing or empty (tests/fixtures/README.md lists "
                    "its files)" % folder, pytrace=False)
    return folder


@pytest.fixture
def fixtures_dir():
    """tests/fixtures/ with its fwupd/ firmware; a missing folder fails the test."""
    fixture_folder("fwupd")
    return FIXTURES_DIR
