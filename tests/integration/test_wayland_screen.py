# kefu: the customer's screen on a headless GNOME Wayland desktop (mutter, the portals, PipeWire).
# SPDX-License-Identifier: MIT
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import program, run
from screen_fixtures import LineReader, block_colour, tool, vnc_bench
from session_fixtures import next_event, send, support  # noqa: F401

import wayland_fixtures

WIDTH, HEIGHT = 1280, 720


# Turns mutter's one monitor through its own D-Bus interface (org.gnome.Mutter.DisplayConfig),
# as the display settings do: the compositor then ends every screen cast of that monitor.
ROTATE = r"""
import sys
from gi.repository import Gio, GLib
bus = Gio.DBusConnection.new_for_address_sync(
    sys.argv[1], Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
    Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
def call(method, args, reply):
    return bus.call_sync("org.gnome.Mutter.DisplayConfig", "/org/gnome/Mutter/DisplayConfig",
                         "org.gnome.Mutter.DisplayConfig", method, args,
                         GLib.VariantType(reply) if reply else None, 0, 10000, None)
serial, monitors, logical, props = call(
    "GetCurrentState", None,
    "(ua((ssss)a(siiddada{sv})a{sv})a(iiduba(ssss)a{sv})a{sv})").unpack()
connector, mode = monitors[0][0][0], monitors[0][1][0][0]
call("ApplyMonitorsConfig", GLib.Variant("(uua(iiduba(ssa{sv}))a{sv})", (
    serial, 1, [(0, 0, 1.0, int(sys.argv[2]), True, [(connector, mode, {})])], {})), None)
"""


class Desktop(wayland_fixtures.Desktop):
    """A headless GNOME Wayland session of the test's own (wayland_fixtures.py) with one
    WIDTHxHEIGHT virtual monitor; its clicker read line by line."""

    def __init__(self, processes):
        reason = wayland_fixtures.missing()
        if reason is not None:
            pytest.skip(reason)
        super().__init__(processes, WIDTH, HEIGHT)
        self.portal = self.named["portal"]

    def click_dialog(self, wait=60, control=True, mode=None):
        return LineReader(super().click_dialog(wait, control, mode))


class Picture:
    """wl-draw: the fullscreen Wayland client showing the block pattern, reporting input."""

    def __init__(self, desktop):
        self.proc = desktop.processes.start([tool("wl-draw")], env=desktop.env,
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            text=True)
        self.reader = LineReader(self.proc)
        ready = self.reader.wait_for(lambda l: l.startswith("ready "), timeout=30)
        assert ready.split()[1:] == [str(WIDTH), str(HEIGHT)]

    def say(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        answer = self.reader.wait_for(lambda l: l == "ok" or l.startswith("error"))
        assert answer == "ok", answer

    def seen_since(self, count):
        return [l for l in self.reader.seen[count:] if l.startswith(("key ", "button "))]


@pytest.fixture
def desktop(processes, monkeypatch):
    instance = Desktop(processes)
    for key in ("DISPLAY",):
        monkeypatch.delenv(key, raising=False)
    for key in ("XDG_RUNTIME_DIR", "XDG_CURRENT_DESKTOP", "XDG_SESSION_TYPE", "WAYLAND_DISPLAY",
                "DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS"):
        monkeypatch.setenv(key, instance.env[key])
    yield instance
    instance.cleanup()


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def shared(desktop, support):
    picture = Picture(desktop)
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    assert next_event(console, "connected")
    agent.wait_for("is now with you")
    yield desktop, picture, agent, console
    if console.poll() is None:
        send(console, "end")
        console.wait(timeout=30)
    agent.finish()


def grant(agent, console, capability, question):
    send(console, "request " + capability)
    agent.wait_for(question)
    agent.say("y")
    assert next_event(console, "consent")["granted"] is True


def snapshot_pixels(view, path):
    from PIL import Image
    result = vnc_bench("snapshot", view["address"], "--password", view["password"], "--out",
                       str(path), timeout=150)
    assert result.returncode == 0, result.stderr
    image = Image.open(str(path)).convert("RGB")
    return image.size, image.load()


def wrong_pixels(size, pixels, expected):
    width, height = size
    return [(x, y) for y in range(height) for x in range(width)
            if pixels[x, y] != expected(x, y)]


def settle(view, path, expected, pixels=None, seconds=20):
    """The pixels that still differ from expected once they match or seconds have passed."""
    deadline = time.time() + seconds
    while True:
        if pixels is None:
            size, pixels = snapshot_pixels(view, path)
        wrong = [(x, y, pixels[x, y]) for y in range(HEIGHT) for x in range(WIDTH)
                 if pixels[x, y] != expected(x, y)]
        if wrong == [] or time.time() > deadline:
            return wrong
        pixels = None
        time.sleep(0.5)


def portal_sessions(desktop):
    """The portal's open session objects, from the bus itself."""
    out = run(["busctl", "--address=" + desktop.session_bus, "tree", "--list",
               "org.freedesktop.portal.Desktop"], timeout=30)
    prefix = "/org/freedesktop/portal/desktop/session/"
    return [l for l in out.stdout.split() if l.startswith(prefix) and l[len(prefix):].count("/") == 1]


def open_view(desktop, console, tmp_path, name, control=True):
    """Opens the view while the clicker accepts the desktop's dialog; the first picture."""
    clicker = desktop.click_dialog(control=control)
    send(console, "view --no-viewer")
    view = next_event(console, "view")
    size, pixels = snapshot_pixels(view, tmp_path / (name + ".ppm"))
    return view, clicker, size, pixels


def test_screen_check_names_gnome_wayland_and_its_portals(desktop):
    result = run([program("kefu-agentd"), "screen-check"], env=desktop.env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "screen sharing is available: Wayland (GNOME, WAYLAND_DISPLAY=wayland-kefu)" in out
    assert "view available, control available" in out
    assert "ScreenCast portal v4" in out and "RemoteDesktop portal v1" in out
    assert "clipboard unavailable (this portal has no Clipboard portal)" in out
    # What "persist" can do with these versions, said plainly.
    assert ("persist: none (RemoteDesktop v1 has no restore tokens: they need v2); kefu "
            "keeps the desktop's sharing session open until the kefu session ends, so "
            "viewing again asks nothing, and a new kefu session asks again") in out
    # Asking opened no portal session, so no dialog.
    assert portal_sessions(desktop) == []


def test_screen_check_says_monitor_is_chosen_in_the_desktops_dialog(desktop):
    result = run([program("kefu-agentd"), "screen-check", "--monitor", "1"], env=desktop.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "--monitor 1 is ignored on Wayland: the customer picks the monitor in the desktop's "
        "own sharing dialog")
    assert portal_sessions(desktop) == []


def test_screen_check_without_a_portal_says_so(desktop):
    # A Wayland session whose bus has no portal on it.
    env = dict(desktop.env, DBUS_SESSION_BUS_ADDRESS=desktop.system_bus)
    result = run([program("kefu-agentd"), "screen-check"], env=env)
    assert result.returncode == 1
    assert "no ScreenCast portal" in result.stderr or "without a" in result.stderr
    assert "xdg-desktop-portal" in result.stderr and "\n" == result.stderr[-1]


def test_view_shows_the_wayland_desktop_pixel_for_pixel_after_the_dialog(shared, tmp_path):
    desktop, picture, agent, console = shared
    # Before kefu's grant nothing asks the desktop: no portal session, no dialog.
    send(console, "view --no-viewer")
    assert next_event(console, "error")["code"] == "not-granted"
    assert portal_sessions(desktop) == []
    grant(agent, console, "view", "asks to see your screen")
    view, clicker, size, pixels = open_view(desktop, console, tmp_path, "first")
    assert clicker.wait_for(lambda l: l.startswith("dialog ")) == "dialog Remote desktop"
    assert size == (WIDTH, HEIGHT)
    # The first picture may be taken while the dialog still fades out: the next ones follow.
    wrong = settle(view, tmp_path / "first.ppm", block_colour, pixels)
    assert wrong == [], (len(wrong), wrong[:3])
    agent.wait_for("YOUR SCREEN IS SHARED")
    # The client changes its picture while a viewer watches; the next pictures follow.
    watcher = LineReader(desktop.processes.start(
        [tool("vnc-bench"), "watch", view["address"], "--password", view["password"],
         "--seconds", "60"], stdout=subprocess.PIPE, text=True))
    watcher.wait_for(lambda l: l == "update", timeout=30)
    picture.say("fill 33 65 100 37 123456")
    watcher.wait_for(lambda l: l == "update", timeout=30)

    def changed(x, y):
        return (0x12, 0x34, 0x56) if 33 <= x < 133 and 65 <= y < 102 else block_colour(x, y)
    assert settle(view, tmp_path / "changed.ppm", changed) == []
    # A second view in the same session asks the desktop nothing more.
    again = desktop.click_dialog(wait=8)
    size, pixels = snapshot_pixels(view, tmp_path / "again.ppm")
    assert again.wait_for(lambda l: l in ("none", "shared") or l.startswith("dialog"),
                          timeout=30) == "none"
    assert wrong_pixels(size, pixels, changed) == []
    # Ending the session closes the desktop's screen cast.
    assert len(portal_sessions(desktop)) == 1
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    deadline = time.time() + 20
    while portal_sessions(desktop) and time.time() < deadline:
        time.sleep(0.2)
    assert portal_sessions(desktop) == []


def under_control(shared, tmp_path):
    """The view opened and control granted; a wl-draw client that the pointer and keyboard
    demonstrably reach, and how to send it input through the view."""
    desktop, picture, agent, console = shared
    grant(agent, console, "view", "asks to see your screen")
    view, clicker, size, pixels = open_view(desktop, console, tmp_path, "first")
    assert clicker.wait_for(lambda l: l == "shared") == "shared"
    assert "interaction allowed" in clicker.seen

    def send_input(*args):
        assert vnc_bench("input", view["address"], "--password", view["password"],
                         *args).returncode == 0

    grant(agent, console, "control", "asks to use your keyboard")
    # Headless mutter has no input device until the remote desktop session's first pointer
    # and key events add its virtual ones, and a client mapped before then never gets
    # pointer or keyboard focus (a real desktop always has a seat): so one click and one
    # key first, then the client that is driven, mapped again until the compositor gives
    # it the keyboard.
    send_input("--click", "5,5", "--text", "a")
    for attempt in range(4):
        picture.proc.stdin.close()
        picture.proc.wait(timeout=10)
        picture = Picture(desktop)
        try:
            picture.reader.wait_for(lambda l: l == "keyboard in", timeout=10)
        except AssertionError:
            if attempt == 3:
                raise
            continue
        # mutter's map animation scales a new window for its first quarter second, and
        # input meanwhile lands through that transform (a click at 300,200 reached the
        # client at 286,193): the driving starts once it is over.
        time.sleep(1.5)
        return picture, send_input


def test_keys_and_clicks_reach_the_wayland_client_only_under_control(shared, tmp_path):
    _, _, agent, console = shared
    picture, send_input = under_control(shared, tmp_path)
    mark = len(picture.reader.seen)
    send_input("--click", "300,200")
    picture.reader.wait_for(lambda l: l.startswith("button "), timeout=20)
    # A burst, as a person types.
    send_input("--text", "yes")
    picture.reader.wait_for(lambda l: l == "key s", timeout=20)
    got = picture.seen_since(mark)
    assert got == ["button 1 300 200", "key y", "key e", "key s"], got
    # Taken back: input stops at once, though this client demonstrably receives it.
    agent.say("/revoke control")
    assert next_event(console, "revoked")["capability"] == "control"
    mark = len(picture.reader.seen)
    send_input("--click", "60,60", "--text", "zz")
    time.sleep(2)
    assert picture.seen_since(mark) == []
    # Given again, it flows again.
    grant(agent, console, "control", "asks to use your keyboard")
    send_input("--text", "o")
    picture.reader.wait_for(lambda l: l == "key o", timeout=20)
    assert picture.seen_since(mark) == ["key o"]


def test_a_burst_of_clicks_reaches_the_wayland_client_whole_in_order_and_in_place(
        shared, tmp_path):
    # A technician clicking fast, then typing: xdg-desktop-portal handles every call on a
    # thread of its own, so input sent without waiting for the portal's answers reached
    # mutter out of order (a release before its press: the click lost, or made at the
    # pointer's last place).
    picture, send_input = under_control(shared, tmp_path)
    places = [(40 + 73 * i % 1200, 30 + 41 * i % 650) for i in range(24)]
    mark = len(picture.reader.seen)
    send_input(*[a for x, y in places for a in ("--click", "%d,%d" % (x, y))],
               "--text", "done")
    picture.reader.wait_for(lambda l: l == "key e", timeout=30)
    got = picture.seen_since(mark)
    assert got == ["button 1 %d %d" % p for p in places] + [
        "key d", "key o", "key n", "key e"], got


def audit_events(tmp_path, name):
    log = [json.loads(line) for line in
           open(str(tmp_path / "state" / "kefu" / "audit.jsonl")).read().splitlines()]
    return [e for e in log if e["event"] == name]


def test_pipewire_ending_ends_the_view_and_everyone_is_told(shared, tmp_path):
    desktop, picture, agent, console = shared
    grant(agent, console, "view", "asks to see your screen")
    view, clicker, size, pixels = open_view(desktop, console, tmp_path, "first")
    watcher = desktop.processes.start(
        [tool("vnc-bench"), "watch", view["address"], "--password", view["password"],
         "--seconds", "60"], stdout=subprocess.PIPE, text=True)
    reader = LineReader(watcher)
    reader.wait_for(lambda l: l == "update", timeout=30)
    # The desktop's side of the cast goes away (PipeWire, which carries it, ends): the
    # viewer is closed, and the technician and the customer are told why.
    pipewire = desktop.named["pipewire"]
    os.killpg(pipewire.pid, signal.SIGTERM)
    pipewire.wait(timeout=10)
    assert watcher.wait(timeout=30) == 0  # the server closed the viewer
    ended = next_event(console, "view-ended")
    assert "the desktop ended the screen cast" in ended["reason"]
    agent.wait_for("Your desktop stopped sharing your screen: Alice Tan no longer sees it")
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    lost = audit_events(tmp_path, "screen-lost")
    assert len(lost) == 1 and "the desktop ended the screen cast" in lost[0]["detail"], lost


def test_the_compositor_closing_the_screen_cast_ends_the_view_and_a_new_view_asks_again(
        shared, tmp_path):
    desktop, picture, agent, console = shared
    grant(agent, console, "view", "asks to see your screen")
    view, clicker, size, pixels = open_view(desktop, console, tmp_path, "first")
    assert clicker.wait_for(lambda l: l == "shared") == "shared"
    watcher = desktop.processes.start(
        [tool("vnc-bench"), "watch", view["address"], "--password", view["password"],
         "--seconds", "60"], stdout=subprocess.PIPE, text=True)
    LineReader(watcher).wait_for(lambda l: l == "update", timeout=30)
    assert len(portal_sessions(desktop)) == 1
    # The monitor turns (mutter's own display settings interface): mutter ends the screen
    # cast, the portal closes its session and says so (org.freedesktop.portal.Session's
    # Closed signal).
    run(["/usr/bin/python3", "-c", ROTATE, desktop.session_bus, "1"], timeout=30)
    assert watcher.wait(timeout=30) == 0  # the server closed the viewer
    ended = next_event(console, "view-ended")
    assert ended["reason"] == "the desktop ended the screen cast (its portal session closed)"
    agent.wait_for("Your desktop stopped sharing your screen: Alice Tan no longer sees it")
    lost = audit_events(tmp_path, "screen-lost")
    assert [e["detail"] for e in lost] == [ended["reason"]]
    assert wait_portal_sessions(desktop, 0) == []
    # The session goes on, and a new view asks the desktop again.
    run(["/usr/bin/python3", "-c", ROTATE, desktop.session_bus, "0"], timeout=30)
    send(console, "chat Let me look again")
    agent.wait_for("Technician: Let me look again")
    again = desktop.click_dialog()
    size, pixels = snapshot_pixels(view, tmp_path / "again.ppm")
    assert again.wait_for(lambda l: l.startswith("dialog ")) == "dialog Remote desktop"
    assert size == (WIDTH, HEIGHT)
    assert settle(view, tmp_path / "again.ppm", block_colour, pixels) == []
    assert len(portal_sessions(desktop)) == 1


def wait_portal_sessions(desktop, count, seconds=20):
    """The portal's sessions once there are count of them, or after seconds."""
    deadline = time.time() + seconds
    sessions = portal_sessions(desktop)
    while len(sessions) != count and time.time() < deadline:
        time.sleep(0.2)
        sessions = portal_sessions(desktop)
    return sessions


@pytest.mark.parametrize("stop", ["/revoke view", "/stop"])
def test_the_session_stays_live_while_the_dialog_is_up_and_stopping_closes_it(
        shared, tmp_path, stop):
    desktop, picture, agent, console = shared
    grant(agent, console, "view", "asks to see your screen")
    looker = desktop.click_dialog(wait=60, mode="look")
    send(console, "view --no-viewer")
    view = next_event(console, "view")
    out = tmp_path / "never.ppm"
    viewer = desktop.processes.start(
        [tool("vnc-bench"), "snapshot", view["address"], "--password", view["password"],
         "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The viewer's arrival makes the desktop ask the customer; nobody answers.
    assert looker.wait_for(lambda l: l.startswith("dialog "), timeout=30) == \
        "dialog Remote desktop"
    assert len(portal_sessions(desktop)) == 1
    # The customer is told what the desktop's window is about.
    agent.wait_for("Your desktop may now ask you in a window of its own what to share")
    # Meanwhile the session goes on: a chat line each way, well within the dialog's wait.
    send(console, "chat Do you see a window asking to share your screen?")
    agent.wait_for("Technician: Do you see a window asking to share your screen", timeout=10)
    agent.say("Yes, I see it")
    assert next_event(console, "chat")["text"] == "Yes, I see it"
    # The customer stops while the dialog is still up: the desktop's request and session
    # are closed, the dialog goes, and the viewer gets nothing.
    agent.say(stop)
    if stop == "/stop":
        assert next_event(console, "ended")
        console.wait(timeout=30)
        agent.finish()
    else:
        assert next_event(console, "revoked")["capability"] == "view"
    assert looker.wait_for(lambda l: l in ("gone", "still there"), timeout=70) == "gone"
    assert wait_portal_sessions(desktop, 0) == []
    assert viewer.wait(timeout=30) != 0 and not out.exists()
    # No stream starts afterwards.
    time.sleep(2)
    assert portal_sessions(desktop) == []
    log = [json.loads(line) for line in
           open(str(tmp_path / "state" / "kefu" / "audit.jsonl")).read().splitlines()]
    cancelled = [e for e in log if e["event"] == "screen-open-cancelled"]
    if stop == "/stop":
        # The session ended with the dialog up: nothing was shown, nothing is left open.
        assert not any(e["event"] == "screen-viewer" for e in log)
    else:
        assert len(cancelled) == 1, log[-5:]
        assert "before the desktop's screen sharing dialog was answered" in \
            cancelled[0]["detail"]
        assert not any(e["event"] == "screen-viewer" for e in log)
        # The session is still live after it.
        send(console, "chat Thanks")
        agent.wait_for("Technician: Thanks", timeout=10)


def expected_picture(fills):
    """The block pattern with fills (x, y, w, h, "RRGGBB") painted over it, as wl-draw does."""
    from PIL import Image, ImageDraw
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    for by in range(0, HEIGHT, 32):
        for bx in range(0, WIDTH, 32):
            draw.rectangle([bx, by, bx + 31, by + 31], fill=block_colour(bx, by))
    for x, y, w, h, colour in fills:
        draw.rectangle([x, y, x + w - 1, y + h - 1], fill="#" + colour)
    return image


def follower_matches(reader, follower, path, expected, seconds=20):
    """Whether the connected viewer's own picture comes to equal expected; else the box
    around what still differs."""
    from PIL import Image, ImageChops
    deadline = time.time() + seconds
    while True:
        follower.stdin.write("save 300 %s\n" % path)
        follower.stdin.flush()
        count = len(reader.seen)
        reader.wait_for(lambda l: l.startswith("saved "), timeout=30)
        assert reader.seen[count:][-1] == "saved %d %d" % (WIDTH, HEIGHT)
        image = Image.open(str(path)).convert("RGB")
        box = ImageChops.difference(image, expected).getbbox()
        if box is None:
            return True
        if time.time() > deadline:
            return box
        time.sleep(0.2)


def test_a_connected_viewer_follows_the_wayland_client_pixel_for_pixel(shared, tmp_path):
    desktop, picture, agent, console = shared
    grant(agent, console, "view", "asks to see your screen")
    view, clicker, size, pixels = open_view(desktop, console, tmp_path, "first")
    assert clicker.wait_for(lambda l: l == "shared") == "shared"
    # One viewer stays connected from here to the end: every change reaches it as updates
    # of what changed, never as a fresh first frame.
    follower = desktop.processes.start(
        [tool("vnc-bench"), "follow", view["address"], "--password", view["password"]],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    reader = LineReader(follower)
    assert reader.wait_for(lambda l: l.startswith("ready ")) == "ready %d %d" % (WIDTH, HEIGHT)
    path = tmp_path / "follower.ppm"
    assert follower_matches(reader, follower, path, expected_picture([])) is True
    # Odd sizes and places: single pixels in the corners, across tile edges, half the screen.
    fills = []
    for fill in [(33, 65, 100, 37, "123456"), (0, 0, 1, 1, "ff0000"),
                 (WIDTH - 1, HEIGHT - 1, 1, 1, "00ff00"), (31, 31, 2, 2, "0000ff"),
                 (600, 300, 211, 199, "abcdef"), (WIDTH // 2, 0, WIDTH // 2, HEIGHT, "102030"),
                 (WIDTH // 2 - 1, 100, 3, 3, "fedcba")]:
        picture.say("fill %d %d %d %d %s" % fill)
        fills.append(fill)
        assert follower_matches(reader, follower, path, expected_picture(fills)) is True, fill
    # Back to the pattern alone: every painted place is painted back.
    picture.say("clear")
    assert follower_matches(reader, follower, path, expected_picture([])) is True
    assert follower.poll() is None  # the same viewer all along
    follower.stdin.write("quit\n")
    follower.stdin.flush()
    assert follower.wait(timeout=10) == 0


def test_a_new_kefu_session_asks_the_desktop_again(desktop, support, tmp_path):
    picture = Picture(desktop)
    for number in (1, 2):
        agent = support.start_agent()
        console = support.start_console(agent.code, "--json")
        assert next_event(console, "connected")
        agent.wait_for("is now with you")
        grant(agent, console, "view", "asks to see your screen")
        view, clicker, size, pixels = open_view(desktop, console, tmp_path, "s%d" % number)
        # Each kefu session's first view shows the desktop's dialog: nothing of the last
        # session (its portal session, a restore token) lets the next one in unasked.
        assert clicker.wait_for(lambda l: l.startswith("dialog ")) == "dialog Remote desktop"
        assert clicker.wait_for(lambda l: l == "shared") == "shared"
        assert settle(view, tmp_path / ("s%d.ppm" % number), block_colour, pixels) == []
        assert len(portal_sessions(desktop)) == 1
        send(console, "end")
        console.wait(timeout=30)
        agent.finish()
        assert wait_portal_sessions(desktop, 0) == []
    picture.proc.stdin.close()
