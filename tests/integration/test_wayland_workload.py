# kefu: a viewer watching a moving Wayland client through a session sees every change.
# SPDX-License-Identifier: MIT
import json
import os
import signal
import subprocess

import pytest

from screen_fixtures import LineReader, tool, vnc_bench
from session_fixtures import grant, next_event, send, support  # noqa: F401
import wayland_fixtures

WIDTH, HEIGHT = 1280, 720
# What the agent needs of the desktop's environment.
DESKTOP_ENV = ("XDG_RUNTIME_DIR", "XDG_CURRENT_DESKTOP", "XDG_SESSION_TYPE", "WAYLAND_DISPLAY",
               "DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS", "XDG_STATE_HOME",
               "XDG_DATA_HOME")


@pytest.fixture
def desktop(processes, monkeypatch):
    reason = wayland_fixtures.missing()
    if reason is not None:
        pytest.skip(reason)
    instance = wayland_fixtures.Desktop(processes, WIDTH, HEIGHT)
    monkeypatch.delenv("DISPLAY", raising=False)
    for key in DESKTOP_ENV:
        monkeypatch.setenv(key, instance.env[key])
    yield instance
    instance.cleanup()


def test_a_watching_viewer_sees_every_change_of_a_moving_wayland_client(desktop, support,
                                                                         tmp_path):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    assert next_event(console, "connected")
    agent.wait_for("is now with you")
    grant(agent, console, "view", "asks to see your screen")
    clicker = LineReader(desktop.click_dialog(control=False))
    send(console, "view --no-viewer")
    view = next_event(console, "view")
    login = ["--password", view["password"]]
    first = vnc_bench("snapshot", view["address"], "--out", str(tmp_path / "first.ppm"), *login,
                      timeout=150)
    assert first.returncode == 0, first.stderr
    assert clicker.wait_for(lambda l: l in ("shared", "none"), timeout=30) == "shared"
    # The workload of the screen benchmark: a square moving every frame, text scrolling.
    picture = str(tmp_path / "picture")
    workload = desktop.start("workload", [tool("wl-draw"), "workload", "--picture", picture],
                             stdout=subprocess.PIPE, text=True)
    ready = LineReader(workload).wait_for(lambda l: l.startswith("ready "), timeout=30)
    assert ready == "ready %d %d" % (WIDTH, HEIGHT)
    # One viewer stays connected while the client draws; at six random moments the client
    # pauses and the viewer's picture must become the client's, pixel for pixel.
    result = vnc_bench("measure", view["address"], "--seconds", "1", "--checks", "6",
                       "--picture", picture, "--workload-pid", str(workload.pid), *login,
                       timeout=150)
    os.kill(workload.pid, signal.SIGUSR2)  # running on, whatever happened
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert (figures["width"], figures["height"]) == (WIDTH, HEIGHT)
    assert figures["checks"] == 6
    # The square moved between every two pauses: there was something to lose.
    assert figures["changed_pixels"] > 6 * 100 * 12
    assert figures["lost_pixels"] == 0, figures
    assert figures["final_diff"] == 0, figures
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
