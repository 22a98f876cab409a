# kefu: a real desktop for kefu-helper's window: Xvfb, a D-Bus session with the
# accessibility bus, dogtail driving by accessible names, screenshots.
# SPDX-License-Identifier: MIT
#
#   desktop = Desktop(processes, artifacts)      Xvfb + dbus-run-session + window_driver.py
#   helper = desktop.start_helper(support, "--url", URL, language="zh_CN")
#   desktop.find("Allow: see your screen", "push button"); desktop.click(...)
#   desktop.screenshot("2-request")             `import -window root` into the artifacts
import json
import os
import re
import subprocess
import time

import pytest

from conftest import program
from screen_fixtures import require, start_xvfb

HERE = os.path.dirname(os.path.abspath(__file__))
ARTIFACTS = os.path.join(os.path.dirname(HERE), "artifacts")


def x_windows(display):
    """The top-level windows' titles that are mapped (xwininfo -root -tree)."""
    out = subprocess.run(["xwininfo", "-root", "-tree"], env=dict(os.environ, DISPLAY=display),
                         capture_output=True, text=True, timeout=20).stdout
    return [(int(m.group(1), 16), m.group(2)) for m in
            re.finditer(r'^\s+(0x[0-9a-f]+) "([^"]*)"', out, re.M)]


def window_id(display, title):
    for wid, name in x_windows(display):
        if name == title:
            return wid
    return None


def is_viewable(display, wid):
    out = subprocess.run(["xwininfo", "-id", hex(wid)], env=dict(os.environ, DISPLAY=display),
                         capture_output=True, text=True, timeout=20).stdout
    return "Map State: IsViewable" in out


def viewable(display, title):
    """Whether a window with this title is mapped and viewable now."""
    return any(name == title and is_viewable(display, wid)
               for wid, name in x_windows(display))


class Desktop:
    def __init__(self, processes, artifacts, width=1024, height=768):
        require("xwininfo", "xprop", "import", "dbus-run-session")
        self.processes = processes
        self.artifacts = artifacts
        os.makedirs(artifacts, exist_ok=True)
        self.display = start_xvfb(processes, width, height)
        env = dict(os.environ, DISPLAY=self.display, NO_AT_BRIDGE="0", GTK_A11Y="atspi")
        self.driver = processes.start(["dbus-run-session", "--", "/usr/bin/python3", "-u",
                                       os.path.join(HERE, "window_driver.py")],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=open(os.path.join(artifacts, "driver.log"), "w"),
                                      text=True, env=env)
        line = self.driver.stdout.readline()
        assert line.startswith("bus "), "the D-Bus session did not start: %r" % line
        self.bus = line.split(" ", 1)[1].strip()
        self.env = dict(env, DBUS_SESSION_BUS_ADDRESS=self.bus)

    def start_helper(self, *args, language=None, notifications=False):
        env = dict(self.env, LANG="C.UTF-8")
        env.pop("LANGUAGE", None)
        if language is not None:
            env["LANGUAGE"] = language
        proc = self.processes.start([program("kefu-helper")] + list(args),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=env)
        self.request({"op": "start", "app": "kefu-helper", "notifications": notifications},
                     timeout=40)
        return proc

    def request(self, message, timeout=30):
        self.driver.stdin.write(json.dumps(message) + "\n")
        self.driver.stdin.flush()
        # dogtail prints lines of its own; the driver's answers start with "reply ".
        for _ in range(1000):
            line = self.driver.stdout.readline()
            assert line, "the dogtail driver ended"
            if line.startswith("reply "):
                break
        reply = json.loads(line[6:])
        assert reply["ok"], reply.get("error")
        return reply

    def find(self, name, role=None, timeout=15):
        return self.request({"op": "find", "name": name, "role": role, "timeout": timeout})

    def wait_text(self, name, role, pattern, timeout=30):
        """The widget's text once it matches pattern (a regular expression)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.find(name, role, timeout)["text"] or ""
            if re.search(pattern, text):
                return text
            assert time.monotonic() < deadline, "%r never read %r: %r" % (name, pattern, text)
            time.sleep(0.2)

    def click(self, name, role="push button"):
        return self.request({"op": "click", "name": name, "role": role})

    def type(self, name, text):
        return self.request({"op": "type", "name": name, "text": text})

    def texts(self):
        """Every name and text the window's showing widgets carry now (AT-SPI)."""
        return self.request({"op": "texts"}, timeout=60)["texts"]

    def exists(self, name, role=None):
        return self.request({"op": "exists", "name": name, "role": role})["exists"]

    def wait_until(self, predicate, what, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        raise AssertionError("never: " + what)

    def screenshot(self, name):
        path = os.path.join(self.artifacts, name + ".png")
        subprocess.run(["import", "-window", "root", path],
                       env=dict(os.environ, DISPLAY=self.display), check=True, timeout=30)
        return path


@pytest.fixture
def artifacts(request):
    """tests/artifacts/TEST_NAME/ (gitignored): the screenshots of one test."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    return os.path.join(ARTIFACTS, name)


def input_rectangle_count(display, wid):
    """How many rectangles make a window's X11 input shape (0: clicks go through it)."""
    import ctypes

    x11, xext = ctypes.CDLL("libX11.so.6"), ctypes.CDLL("libXext.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    x11.XFree.argtypes = [ctypes.c_void_p]
    xext.XShapeGetRectangles.restype = ctypes.c_void_p
    xext.XShapeGetRectangles.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                                         ctypes.POINTER(ctypes.c_int),
                                         ctypes.POINTER(ctypes.c_int)]
    connection = x11.XOpenDisplay(display.encode())
    assert connection, "cannot open display %s" % display
    count, ordering = ctypes.c_int(0), ctypes.c_int(0)
    shape_input = 2
    rectangles = xext.XShapeGetRectangles(connection, wid, shape_input, ctypes.byref(count),
                                          ctypes.byref(ordering))
    if rectangles:
        x11.XFree(rectangles)
    x11.XCloseDisplay(connection)
    return count.value
