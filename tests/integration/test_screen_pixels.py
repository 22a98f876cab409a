# kefu: a viewer that stays connected sees exactly the X server's pixels, whatever changes.
# SPDX-License-Identifier: MIT
#
# Every test keeps one libvncclient viewer (vnc-bench follow) connected while
# the desktop changes under it, and compares its whole picture with the X
# server's (XGetImage of the root window) after each change and at random
# moments of a moving workload. The difference must come down to zero pixels:
# counting updates cannot see a rectangle that was copied but never reported,
# comparing pixels can. The cursor travels as a pseudo-encoding, so neither
# picture holds it. Set KEFU_SCREEN_SEED to replay a run's random choices.
import json
import os
import random
import signal
import subprocess
import time
import types

import pytest

from conftest import run
from screen_fixtures import (Drawer, Follower, ScreenPipe, colour_for, damage_cases, require,
                             start_xvfb, tool, vnc_bench)
from session_fixtures import grant, next_event, private_state, send, support  # noqa: F401

# Odd on purpose: the last column and row of 32x32 tiles are partial.
ODD_WIDTH, ODD_HEIGHT = 643, 481
SEED = int(os.environ.get("KEFU_SCREEN_SEED", str(int(time.time()) % 100000)))
# A broken server makes every comparison wait its whole time: a few are proof enough.
ENOUGH_WRONG = 4


@pytest.fixture
def odd_display(processes):
    return start_xvfb(processes, ODD_WIDTH, ODD_HEIGHT)


def draw_and_compare(drawer, follower, cases, first_colour=0):
    """Draws each rectangle and compares the pictures after it; returns what differed."""
    wrong = []
    for index, (x, y, w, h) in enumerate(cases):
        drawer.fill(x, y, w, h, colour_for(first_colour + index))
        result = follower.check()
        if result["diff"] != 0:
            wrong.append(((x, y, w, h), result["line"]))
            if len(wrong) >= ENOUGH_WRONG:
                break
    return wrong


def random_rectangles(rng, width, height, count):
    cases = []
    for _ in range(count):
        w = rng.choice([1, 2, 31, 33, 63, 65, 100, rng.randint(1, width)])
        h = rng.choice([1, 3, 31, 33, 100, rng.randint(1, height)])
        cases.append((rng.randint(0, width - w), rng.randint(0, height - h), w, h))
    return cases


def random_burst(drawer, follower, rng, width, height, rounds=12):
    """Several rectangles at once, compared at random moments (after 1 to 6 of them)."""
    wrong = []
    colour = 1000
    for _ in range(rounds):
        for x, y, w, h in random_rectangles(rng, width, height, rng.randint(1, 6)):
            drawer.fill(x, y, w, h, colour_for(colour))
            colour += 1
        result = follower.check()
        if result["diff"] != 0:
            wrong.append(result["line"])
            if len(wrong) >= ENOUGH_WRONG:
                break
    return wrong


def freeze_and_compare(processes, display, follower, rng, moments=8):
    """The moving square and scrolling text of x-draw workload, stopped at random moments:
    each time the viewer must catch up to the frozen picture exactly."""
    workload = processes.start([tool("x-draw"), "--display", display, "workload", "--fps",
                                "60"], stdout=subprocess.PIPE, text=True)
    assert workload.stdout.readline().strip() == "ready"
    wrong = []
    try:
        for _ in range(moments):
            time.sleep(rng.uniform(0.05, 0.6))
            os.kill(workload.pid, signal.SIGSTOP)
            try:
                time.sleep(0.05)  # what it sent before it stopped reaches the X server
                result = follower.check(timeout_ms=5000)
            finally:
                os.kill(workload.pid, signal.SIGCONT)
            if result["diff"] != 0:
                wrong.append(result["line"])
                if len(wrong) >= ENOUGH_WRONG:
                    break
    finally:
        workload.terminate()
        workload.wait(timeout=10)
    # Its window is gone: what lay under it shows again.
    result = follower.check(timeout_ms=5000)
    if result["diff"] != 0:
        wrong.append("after the workload: " + result["line"])
    return wrong


def cursor_moves_and_shapes(drawer, follower, rng, width, height):
    wrong = []
    for glyph in (68, 34, 152, 58):  # left_ptr, crosshair, xterm, hand1
        drawer.cursor(glyph)
        for _ in range(4):
            drawer.pointer(rng.randint(0, width - 1), rng.randint(0, height - 1))
            result = follower.check()
            if result["diff"] != 0:
                wrong.append(result["line"])
        if len(wrong) >= ENOUGH_WRONG:
            break
    # Right over a rectangle that changes while the pointer sits on it.
    drawer.pointer(width - 2, height - 2)
    drawer.fill(width - 40, height - 40, 40, 40, 0x22aa44)
    result = follower.check()
    if result["diff"] != 0:
        wrong.append(result["line"])
    return wrong


def xrandr(display, *args):
    result = run(["xrandr"] + list(args), env=dict(os.environ, DISPLAY=display))
    assert result.returncode == 0, result.stderr


def add_mode(display, name, width, height):
    xrandr(display, "--newmode", name, "25.175", str(width), str(width + 16), str(width + 112),
           str(width + 160), str(height), str(height + 10), str(height + 12), str(height + 45))
    xrandr(display, "--addmode", "screen", name)


def keys_and_delivery(processes, display, address, password, presses=10):
    """vnc-bench measure on the moving workload: key presses that toggle a 33x33 block, then
    the workload stopped at random moments and the pixels compared with the X server's."""
    workload = processes.start([tool("x-draw"), "--display", display, "workload", "--fps",
                                "60"], stdout=subprocess.PIPE, text=True)
    assert workload.stdout.readline().strip() == "ready"
    try:
        result = vnc_bench("measure", address, "--password", password, "--seconds", "1",
                           "--keys", str(presses), "--display", display, "--workload-pid",
                           str(workload.pid), "--checks", "6", timeout=120)
    finally:
        os.kill(workload.pid, signal.SIGCONT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# Directly against the agent's screen server (screen-pipe, as test_screen.py does).


def test_every_damaged_rectangle_reaches_a_watching_viewer(processes, odd_display):
    drawer = Drawer(processes, odd_display)
    pipe = ScreenPipe(processes, odd_display)
    follower = Follower(processes, pipe.address, pipe.password, odd_display)
    assert follower.size == (ODD_WIDTH, ODD_HEIGHT)
    assert follower.check()["diff"] == 0
    cases = damage_cases(ODD_WIDTH, ODD_HEIGHT)
    assert draw_and_compare(drawer, follower, cases) == []
    rng = random.Random(SEED)
    assert random_burst(drawer, follower, rng, ODD_WIDTH, ODD_HEIGHT) == [], "seed %d" % SEED


def test_cursor_moves_and_shapes_leave_the_picture_exact(processes, odd_display):
    drawer = Drawer(processes, odd_display)
    drawer.fill(0, 0, ODD_WIDTH, ODD_HEIGHT, 0x304050)
    pipe = ScreenPipe(processes, odd_display)
    follower = Follower(processes, pipe.address, pipe.password, odd_display)
    rng = random.Random(SEED)
    assert cursor_moves_and_shapes(drawer, follower, rng, ODD_WIDTH, ODD_HEIGHT) == [], \
        "seed %d" % SEED


def test_a_moving_workload_is_exact_whenever_it_stops(processes, odd_display):
    drawer = Drawer(processes, odd_display)
    drawer.fill(0, 0, ODD_WIDTH, ODD_HEIGHT, 0x603010)
    pipe = ScreenPipe(processes, odd_display, "--input")
    follower = Follower(processes, pipe.address, pipe.password, odd_display)
    rng = random.Random(SEED)
    assert freeze_and_compare(processes, odd_display, follower, rng) == [], "seed %d" % SEED


def test_every_key_press_shows_and_no_changed_pixel_is_lost(processes, odd_display):
    pipe = ScreenPipe(processes, odd_display, "--input")
    figures = keys_and_delivery(processes, odd_display, pipe.address, pipe.password)
    assert figures["latency_samples"] == figures["presses"] == 10, figures
    assert figures["changed_pixels"] > 0 and figures["lost_pixels"] == 0, figures
    assert figures["final_diff"] == 0, figures


def test_without_xdamage_every_changed_tile_is_still_sent(processes, odd_display):
    drawer = Drawer(processes, odd_display)
    pipe = ScreenPipe(processes, odd_display, "--no-damage")
    assert "tile comparison" in pipe.info["screen"]
    follower = Follower(processes, pipe.address, pipe.password, odd_display)
    cases = damage_cases(ODD_WIDTH, ODD_HEIGHT)[::3]
    assert draw_and_compare(drawer, follower, cases) == []


def test_a_size_change_keeps_a_watching_viewer_exact(processes):
    require("xrandr")
    display = start_xvfb(processes, ODD_WIDTH, ODD_HEIGHT)
    drawer = Drawer(processes, display)
    drawer.fill(0, 0, ODD_WIDTH, ODD_HEIGHT, 0x405060)
    pipe = ScreenPipe(processes, display)
    follower = Follower(processes, pipe.address, pipe.password, display)
    assert follower.check()["diff"] == 0
    # Smaller, and odd again; then back to the first size.
    add_mode(display, "kefu-odd", 501, 377)
    add_mode(display, "kefu-first", ODD_WIDTH, ODD_HEIGHT)
    for (name, width, height) in (("kefu-odd", 501, 377), ("kefu-first", ODD_WIDTH, ODD_HEIGHT)):
        xrandr(display, "--output", "screen", "--mode", name)
        result = follower.check(timeout_ms=5000)
        assert result["size"] == "%dx%d" % (width, height), result["line"]
        assert result["diff"] == 0, result["line"]
        cases = damage_cases(width, height)[::5]
        assert draw_and_compare(drawer, follower, cases, first_colour=width) == []


def test_two_monitors_each_and_together_stay_exact(processes):
    require("xrandr")
    half, height = 641, ODD_HEIGHT
    display = start_xvfb(processes, 2 * half, height)
    xrandr(display, "--setmonitor", "kefu-left", "%d/0x%d/0+0+0" % (half, height), "screen")
    xrandr(display, "--setmonitor", "kefu-right", "%d/0x%d/0+%d+0" % (half, height, half), "none")
    drawer = Drawer(processes, display)
    drawer.fill(0, 0, 2 * half, height, 0x203040)
    whole = ScreenPipe(processes, display)
    right = ScreenPipe(processes, display, "--monitor", "1")
    everything = Follower(processes, whole.address, whole.password, display)
    only_right = Follower(processes, right.address, right.password, display,
                          area="%dx%d+%d+0" % (half, height, half))
    assert only_right.size == (half, height)
    # Across the seam, at the seam's both sides, and at the far edges of both.
    cases = [(half - 16, 10, 33, 33), (half - 1, 50, 1, 1), (half, 51, 1, 1),
             (half - 50, 100, 100, 100), (0, height - 1, 2 * half, 1), (2 * half - 31, 0, 31, 31),
             (half, height - 33, half, 33), (3, 7, half - 3, 31), (half + 1, 1, 100, 100)]
    cases += [(x + half, y, w, h) for (x, y, w, h) in damage_cases(half, height)[::7]]
    for index, (x, y, w, h) in enumerate(cases):
        drawer.fill(x, y, w, h, colour_for(index))
        for follower in (everything, only_right):
            result = follower.check()
            assert result["diff"] == 0, ((x, y, w, h), result["line"])


# Through a whole session (kefu-agentd share, the relay, kefu-console join's view).


@pytest.fixture
def session_desktop(private_state, support, processes, monkeypatch):
    """A session whose customer sits at an odd-sized Xvfb desktop, with view granted."""
    display = start_xvfb(processes, ODD_WIDTH, ODD_HEIGHT)
    drawer = Drawer(processes, display)
    drawer.fill(0, 0, ODD_WIDTH, ODD_HEIGHT, 0x102030)
    monkeypatch.setenv("DISPLAY", display)
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    assert next_event(console, "connected")
    agent.wait_for("is now with you")
    grant(agent, console, "view", "asks to see your screen")
    send(console, "view --no-viewer")
    view = next_event(console, "view")
    follower = Follower(processes, view["address"], view["password"], display)
    yield types.SimpleNamespace(display=display, drawer=drawer, follower=follower, agent=agent,
                                console=console, view=view)
    if console.poll() is None:
        send(console, "end")
        console.wait(timeout=30)
    agent.finish()


def test_through_a_session_every_change_reaches_the_watching_viewer(session_desktop, processes):
    s = session_desktop
    display, drawer, follower = s.display, s.drawer, s.follower
    assert follower.size == (ODD_WIDTH, ODD_HEIGHT)
    assert follower.check()["diff"] == 0
    cases = damage_cases(ODD_WIDTH, ODD_HEIGHT)[::2]
    assert draw_and_compare(drawer, follower, cases) == []
    rng = random.Random(SEED)
    assert random_burst(drawer, follower, rng, ODD_WIDTH, ODD_HEIGHT, rounds=6) == [], \
        "seed %d" % SEED
    assert cursor_moves_and_shapes(drawer, follower, rng, ODD_WIDTH, ODD_HEIGHT) == [], \
        "seed %d" % SEED
    assert freeze_and_compare(processes, display, follower, rng, moments=5) == [], \
        "seed %d" % SEED


def test_through_a_session_every_key_press_shows_and_no_pixel_is_lost(session_desktop, processes):
    s = session_desktop
    grant(s.agent, s.console, "control", "asks to use your keyboard")
    figures = keys_and_delivery(processes, s.display, s.view["address"], s.view["password"])
    assert figures["latency_samples"] == figures["presses"] == 10, figures
    assert figures["changed_pixels"] > 0 and figures["lost_pixels"] == 0, figures
    assert figures["final_diff"] == 0, figures


def test_through_a_session_size_changes_and_two_monitors_stay_exact(session_desktop):
    require("xrandr")
    s = session_desktop
    display, drawer, follower = s.display, s.drawer, s.follower
    add_mode(display, "kefu-odd", 501, 377)
    add_mode(display, "kefu-first", ODD_WIDTH, ODD_HEIGHT)
    for (name, width, height) in (("kefu-odd", 501, 377), ("kefu-first", ODD_WIDTH, ODD_HEIGHT)):
        xrandr(display, "--output", "screen", "--mode", name)
        result = follower.check(timeout_ms=5000)
        assert result["size"] == "%dx%d" % (width, height), result["line"]
        assert result["diff"] == 0, result["line"]
        cases = damage_cases(width, height)[::7]
        assert draw_and_compare(drawer, follower, cases, first_colour=width) == []
    # Two monitors side by side, the session sharing both: every change across the seam.
    left = ODD_WIDTH // 2
    xrandr(display, "--setmonitor", "kefu-left", "%d/0x%d/0+0+0" % (left, ODD_HEIGHT), "screen")
    xrandr(display, "--setmonitor", "kefu-right",
           "%d/0x%d/0+%d+0" % (ODD_WIDTH - left, ODD_HEIGHT, left), "none")
    cases = [(left - 16, 10, 33, 33), (left - 1, 50, 1, 1), (left, 51, 1, 1),
             (left - 50, 100, 100, 100), (0, ODD_HEIGHT - 1, ODD_WIDTH, 1),
             (ODD_WIDTH - 31, 0, 31, 31), (left + 1, 1, 100, 100)]
    assert draw_and_compare(drawer, follower, cases, first_colour=7) == []
