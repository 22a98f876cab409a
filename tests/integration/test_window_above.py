# kefu: the customer's window stays above a full-screen window under a real window
# manager (mutter on Xvfb), so that Stop is always in sight. SPDX-License-Identifier: MIT
import os
import re
import subprocess
import time

from screen_fixtures import require
from session_fixtures import private_state, support  # noqa: F401
from window_fixtures import Desktop, artifacts, window_id  # noqa: F401

FULLSCREEN = """
import gi
gi.require_version("Gtk", "3.0")
from gi.repository import Gtk
window = Gtk.Window(title="a full-screen application")
window.fullscreen()
window.show_all()
Gtk.main()
"""


def stacking(display):
    """The managed windows from bottom to top (_NET_CLIENT_LIST_STACKING)."""
    out = subprocess.run(["xprop", "-root", "_NET_CLIENT_LIST_STACKING"],
                         env=dict(os.environ, DISPLAY=display), capture_output=True, text=True,
                         timeout=20).stdout
    return [int(value, 16) for value in re.findall(r"0x[0-9a-f]+", out)]


def net_wm_state(display, wid):
    return subprocess.run(["xprop", "-id", hex(wid), "_NET_WM_STATE"],
                          env=dict(os.environ, DISPLAY=display), capture_output=True,
                          text=True, timeout=20).stdout


def client_of(display, title):
    """The managed (client) window whose WM_NAME is title, among the stacking list."""
    for wid in stacking(display):
        out = subprocess.run(["xprop", "-id", hex(wid), "WM_NAME"],
                             env=dict(os.environ, DISPLAY=display), capture_output=True,
                             text=True, timeout=20).stdout
        if '"%s"' % title in out:
            return wid
    return None


def test_window_stays_above_a_full_screen_window(support, private_state, processes, artifacts):
    require("mutter")
    desktop = Desktop(processes, artifacts)
    processes.start(["mutter", "--x11", "--replace", "--sm-disable"], env=desktop.env,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not stacking(desktop.display) and time.monotonic() < deadline:
        subprocess.run(["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"],
                       env=dict(os.environ, DISPLAY=desktop.display), capture_output=True,
                       timeout=20)
        if "window id" in subprocess.run(
                ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"],
                env=dict(os.environ, DISPLAY=desktop.display), capture_output=True, text=True,
                timeout=20).stdout:
            break
        time.sleep(0.2)
    desktop.start_helper("--profile", support.profile)
    desktop.wait_text("Your code", "label", r"^\d{4}( \d{4})+$")
    processes.start(["/usr/bin/python3", "-c", FULLSCREEN], env=desktop.env)
    deadline = time.monotonic() + 20
    helper = other = None
    while time.monotonic() < deadline:
        helper = client_of(desktop.display, "kefu support helper")
        other = client_of(desktop.display, "a full-screen application")
        if helper and other and "_NET_WM_STATE_FULLSCREEN" in net_wm_state(desktop.display,
                                                                           other):
            break
        time.sleep(0.3)
    assert helper and other, "the window manager never managed both windows"
    assert "_NET_WM_STATE_FULLSCREEN" in net_wm_state(desktop.display, other)
    assert "_NET_WM_STATE_ABOVE" in net_wm_state(desktop.display, helper)
    order = stacking(desktop.display)
    assert order.index(helper) > order.index(other), order
    desktop.find("Stop", "push button")
    # The picture only: mutter's software compositor repaints a moment after the checks.
    time.sleep(3)
    desktop.screenshot("above-full-screen")
