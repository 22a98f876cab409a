# kefu: the sharing frame surrounds each shared monitor: two XRandR monitors of different
# sizes on one Xvfb screen, the whole desktop shared, one frame round each, read back from
# the X server. SPDX-License-Identifier: MIT
import os
import re
import subprocess

from conftest import program, run
from screen_fixtures import require
from session_fixtures import next_event, private_state, send, support  # noqa: F401
from window_fixtures import (Desktop, artifacts, input_rectangle_count, viewable,  # noqa: F401
                             x_windows)

FRAME, BAR = "kefu sharing frame", "kefu sharing bar"
# Two monitors side by side, neither at the screen's full height, the right one lower.
LEFT = (0, 0, 800, 720)
RIGHT = (800, 160, 480, 400)


def geometry(display, wid):
    """(x, y, width, height) of a mapped window, as the X server has it."""
    out = subprocess.run(["xwininfo", "-id", hex(wid)], env=dict(os.environ, DISPLAY=display),
                         capture_output=True, text=True, timeout=20).stdout
    if "Map State: IsViewable" not in out:
        return None
    field = {name: int(re.search(r"%s:\s+(-?\d+)" % name, out).group(1))
             for name in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height")}
    return (field["Absolute upper-left X"], field["Absolute upper-left Y"], field["Width"],
            field["Height"])


def shown(display, title):
    return sorted(g for g in (geometry(display, wid) for wid, name in x_windows(display)
                              if name == title) if g is not None)


def set_monitors(display):
    def xrandr(*args):
        run(["xrandr"] + list(args), env=dict(os.environ, DISPLAY=display))

    for name, (x, y, width, height), output in (("kefu-left", LEFT, "screen"),
                                                ("kefu-right", RIGHT, "none")):
        xrandr("--setmonitor", name, "%d/0x%d/0+%d+%d" % (width, height, x, y), output)


def test_the_frame_surrounds_each_monitor_when_the_whole_desktop_is_shared(
        support, private_state, processes, artifacts):  # noqa: F811
    require("xrandr")
    desktop = Desktop(processes, artifacts, width=1280, height=720)
    set_monitors(desktop.display)
    helper = desktop.start_helper("--profile", support.profile)
    code = desktop.wait_text("Your code", "label", r"^\d{4}( \d{4})+$")
    console = support.start_console(code, "--json")
    next_event(console, "connected")
    send(console, "request view to look at both screens")
    desktop.click("Allow: see your screen")
    assert next_event(console, "consent")["granted"] is True
    desktop.wait_until(lambda: len(shown(desktop.display, FRAME)) == 2, "two frames")
    assert shown(desktop.display, FRAME) == sorted([LEFT, RIGHT])
    for wid, name in x_windows(desktop.display):
        if name == FRAME:
            assert input_rectangle_count(desktop.display, wid) == 0  # clicks go through
    # The bar sits at the top of one monitor, inside it, in the middle.
    (bar,) = shown(desktop.display, BAR)
    holder = [m for m in (LEFT, RIGHT) if m[0] <= bar[0] and bar[0] + bar[2] <= m[0] + m[2]]
    assert holder, (bar, LEFT, RIGHT)
    monitor = holder[0]
    assert monitor[1] < bar[1] < monitor[1] + 40
    assert abs((bar[0] + bar[2] / 2) - (monitor[0] + monitor[2] / 2)) <= 1
    desktop.screenshot("two-monitors-framed")
    # Taken back: no frame is left on either monitor.
    desktop.request({"op": "toggle", "name": "Allowed: see your screen", "role": None})
    assert next_event(console, "revoked")["capability"] == "view"
    desktop.wait_until(lambda: shown(desktop.display, FRAME) == [], "the frames go")
    assert not viewable(desktop.display, BAR)
    desktop.click("Stop")
    next_event(console, "ended")
    desktop.click("Close")
    assert helper.wait(timeout=20) == 0


def test_with_one_monitor_shared_the_frame_surrounds_that_one_only(
        support, private_state, processes, artifacts, tmp_path):  # noqa: F811
    from test_screen_session import load_rgb, snapshot

    require("xrandr")
    desktop = Desktop(processes, artifacts, width=1280, height=720)
    set_monitors(desktop.display)
    helper = desktop.start_helper("--profile", support.profile, "--monitor", "1")
    code = desktop.wait_text("Your code", "label", r"^\d{4}( \d{4})+$")
    console = support.start_console(code, "--json")
    next_event(console, "connected")
    send(console, "request view to look at the right screen")
    desktop.click("Allow: see your screen")
    assert next_event(console, "consent")["granted"] is True
    desktop.wait_until(lambda: shown(desktop.display, FRAME) != [], "a frame")
    assert shown(desktop.display, FRAME) == [RIGHT]
    (bar,) = shown(desktop.display, BAR)
    assert RIGHT[0] <= bar[0] and bar[0] + bar[2] <= RIGHT[0] + RIGHT[2]
    assert RIGHT[1] < bar[1] < RIGHT[1] + 40
    # What the technician sees is that monitor, and only it.
    send(console, "view --no-viewer")
    view = next_event(console, "view")
    out = tmp_path / "right.ppm"
    assert snapshot(view, out).returncode == 0
    (width, height), _ = load_rgb(out)
    assert (width, height) == RIGHT[2:]
    desktop.screenshot("one-monitor-framed")
    desktop.click("Stop")
    next_event(console, "ended")
    desktop.click("Close")
    assert helper.wait(timeout=20) == 0


def test_the_frame_follows_the_monitor_when_its_size_changes_while_shared(
        support, private_state, processes, artifacts):  # noqa: F811
    require("xrandr")
    desktop = Desktop(processes, artifacts, width=1280, height=720)
    helper = desktop.start_helper("--profile", support.profile)
    code = desktop.wait_text("Your code", "label", r"^\d{4}( \d{4})+$")
    console = support.start_console(code, "--json")
    next_event(console, "connected")
    send(console, "request view")
    desktop.click("Allow: see your screen")
    assert next_event(console, "consent")["granted"] is True
    desktop.wait_until(lambda: shown(desktop.display, FRAME) == [(0, 0, 1280, 720)],
                       "the frame round the screen")
    # The monitor switches to a smaller mode, as when a projector is plugged in.
    env = dict(os.environ, DISPLAY=desktop.display)
    for args in (["--newmode", "kefu-small", "25.175", "1024", "1040", "1136", "1184", "600",
                  "610", "612", "645"], ["--addmode", "screen", "kefu-small"],
                 ["--output", "screen", "--mode", "kefu-small"]):
        assert run(["xrandr"] + args, env=env).returncode == 0
    desktop.wait_until(lambda: shown(desktop.display, FRAME) == [(0, 0, 1024, 600)],
                       "the frame follows the new size")
    desktop.click("Stop")
    next_event(console, "ended")
    desktop.click("Close")
    assert helper.wait(timeout=20) == 0


def test_a_monitor_number_that_is_not_one_is_refused():
    for program_args in (["kefu-helper"], ["kefu-agentd", "share"]):
        for bad in ("-1", "x", "16", ""):
            result = subprocess.run([program(program_args[0])] + program_args[1:]
                                    + ["--monitor", bad], capture_output=True, text=True,
                                    timeout=20, env=dict(os.environ, DISPLAY=""))
            assert result.returncode != 0
            assert "--monitor takes a monitor's number" in result.stderr, result.stderr
