# kefu: the customer's screen through a real session, only while 'view' is granted.
# SPDX-License-Identifier: MIT
import json
import os
import socket
import subprocess
import time

import pytest

from conftest import run
from screen_fixtures import (HEIGHT, WIDTH, Drawer, Follower, block_colour,
                             browser_pattern_errors,
                             customer_clipboard, customer_copy_reaches_viewer, draw_pattern,
                             is_port_open, require, start_xvfb, vnc_bench, wait_port, web_port)
from session_fixtures import grant, next_event, send, support  # noqa: F401


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def load_rgb(path):
    from PIL import Image
    image = Image.open(path).convert("RGB")
    return image.size, image.load()


@pytest.fixture
def shared(support, processes, monkeypatch):
    """A session whose customer sits at an Xvfb desktop showing the test pattern."""
    display = start_xvfb(processes)
    draw_pattern(processes, display)
    monkeypatch.setenv("DISPLAY", display)
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    assert next_event(console, "connected")
    agent.wait_for("is now with you")
    yield agent, console
    if console.poll() is None:
        send(console, "end")
        console.wait(timeout=30)
    agent.finish()


def snapshot_fails(view, path):
    """A snapshot that must not get a picture (bounded: a refused stream may just hang up)."""
    try:
        result = snapshot(view, path, timeout=15)
    except subprocess.TimeoutExpired:
        return True
    return result.returncode != 0 and not path.exists()


def snapshot(view, path, timeout=60):
    return vnc_bench("snapshot", view["address"], "--password", view["password"], "--out",
                     str(path), timeout=timeout)


def test_granted_view_shows_the_desktop_pixel_for_pixel_through_the_relay(shared, processes,
                                                                          tmp_path):
    agent, console = shared
    send(console, "request view")
    agent.wait_for("asks to see your screen")
    agent.say("y")
    assert next_event(console, "consent")["granted"] is True
    send(console, "view --no-viewer")
    view = next_event(console, "view")
    out = tmp_path / "frame.ppm"
    result = snapshot(view, out)
    assert result.returncode == 0, result.stderr
    (width, height), pixels = load_rgb(out)
    assert (width, height) == (WIDTH, HEIGHT)
    wrong = [(x, y) for y in range(0, height, 4) for x in range(0, width, 4)
             if pixels[x, y] != block_colour(x, y)]
    assert wrong == []
    # The customer was told while the technician watched.
    agent.wait_for("YOUR SCREEN IS SHARED")
    # A viewer that stays connected sees later changes exactly.
    display = os.environ["DISPLAY"]
    follower = Follower(processes, view["address"], view["password"], display)
    assert follower.check()["diff"] == 0
    drawer = Drawer(processes, display)
    drawer.fill(1, 1, 33, 31, 0x123456)
    drawer.pointer(WIDTH - 1, HEIGHT - 1)
    assert follower.check()["diff"] == 0


def test_vncsnapshot_through_the_session_view(shared, tmp_path):
    require("vncsnapshot")
    agent, console = shared
    send(console, "request view")
    agent.wait_for("asks to see your screen")
    agent.say("y")
    next_event(console, "consent")
    send(console, "view --no-viewer")
    view = next_event(console, "view")
    out = tmp_path / "snap.jpg"
    result = run(["vncsnapshot", "-passwd", view["password_file"], "-nojpeg", "-quality", "100",
                  "-rect", "256x192+0+0", view["address"].replace(":", "::"), str(out)],
                 timeout=60)
    assert result.returncode == 0, result.stderr
    (width, height), pixels = load_rgb(out)
    worst = max(max(abs(a - b) for a, b in zip(pixels[x, y], block_colour(x, y)))
                for y in range(height) for x in range(width))
    assert worst <= 8


def test_view_before_the_grant_opens_nothing_and_says_to_ask(shared, tmp_path):
    agent, console = shared
    send(console, "view --no-viewer")
    error = next_event(console, "error")
    assert error["code"] == "not-granted" and error["capability"] == "view"
    assert "nothing was opened" in error["message"] and "request view" in error["message"]
    send(console, "ping")
    got = []
    for _ in range(200):
        line = console.stdout.readline()
        assert line, "the console ended before the pong"
        got.append(json.loads(line))
        if got[-1]["event"] == "pong":
            break
    assert got[-1]["event"] == "pong"
    assert not any(e["event"] == "view" for e in got)
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    log = [json.loads(line) for line in
           open(str(tmp_path / "state" / "kefu" / "audit.jsonl")).read().splitlines()]
    assert not any(e["event"] in ("screen-viewer", "stream-opened") for e in log)


def test_revoking_view_ends_the_stream_and_refuses_new_ones(shared, tmp_path):
    agent, console = shared
    send(console, "request view")
    agent.wait_for("asks to see your screen")
    agent.say("y")
    next_event(console, "consent")
    send(console, "view --no-viewer")
    view = next_event(console, "view")
    assert snapshot(view, tmp_path / "before.ppm").returncode == 0
    agent.say("/revoke view")
    assert next_event(console, "revoked")["capability"] == "view"
    # The console's port stays open: the new stream it opens is refused by the customer's
    # side on its own, which is the check that matters.
    assert snapshot_fails(view, tmp_path / "after.ppm")
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    log = [json.loads(line) for line in
           open(str(tmp_path / "state" / "kefu" / "audit.jsonl")).read().splitlines()]
    refused = [e for e in log if e["event"] == "action-refused"]
    assert refused and refused[0]["action"] == "screen" and refused[0]["missing"] == "view"


def test_input_arrives_only_while_control_is_granted(shared, processes, tmp_path):
    from test_screen import SETTLE_SECONDS, drain, presses, start_xev
    import os
    agent, console = shared
    xev = start_xev(processes, os.environ["DISPLAY"])
    send(console, "request view")
    agent.wait_for("asks to see your screen")
    agent.say("y")
    next_event(console, "consent")
    send(console, "view --no-viewer")
    view = next_event(console, "view")
    # View only: the click and the keys never reach the desktop.
    assert vnc_bench("input", view["address"], "--password", view["password"], "--click",
                     "50,50", "--text", "no").returncode == 0
    assert presses(drain(xev, SETTLE_SECONDS)) == []
    send(console, "request control")
    agent.wait_for("asks to use your keyboard")
    agent.say("y")
    assert next_event(console, "consent")["granted"] is True
    assert vnc_bench("input", view["address"], "--password", view["password"],
                     "--text", "y").returncode == 0
    xev.wait_for(lambda line: "keysym 0x79, y)" in line)
    agent.say("/revoke control")
    assert next_event(console, "revoked")["capability"] == "control"
    assert vnc_bench("input", view["address"], "--password", view["password"], "--click",
                     "60,60", "--text", "zz").returncode == 0
    assert presses(drain(xev, SETTLE_SECONDS)) == []
    # Each time without control, the dropped input is recorded once.
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    log = [json.loads(line) for line in
           open(str(tmp_path / "state" / "kefu" / "audit.jsonl")).read().splitlines()]
    refused = [e for e in log if e["event"] == "action-refused"]
    assert [(e["action"], e["missing"]) for e in refused] == [("input", "control")] * 2


def test_the_browser_view_renders_the_desktop_through_the_session(shared, processes, tmp_path):
    require("chromium", "chromedriver", "websockify")
    agent, console = shared
    grant(agent, console, "view", "asks to see your screen")
    send(console, "view --web --no-viewer")
    view = next_event(console, "view")
    assert view["url"].startswith("http://127.0.0.1:")
    assert "password=" + view["password"] in view["url"].split("#", 1)[1]
    wrong = browser_pattern_errors(processes, view["url"], tmp_path)
    assert len(wrong) <= 1, wrong  # the pointer may cover one block


def test_closing_the_viewer_keeps_the_session_and_ending_closes_the_endpoints(shared, tmp_path):
    agent, console = shared
    grant(agent, console, "view", "asks to see your screen")
    send(console, "view --web --no-viewer")
    view = next_event(console, "view")
    port = int(view["address"].split(":")[1])
    wait_port(web_port(view["url"]))
    # Each snapshot is a viewer that connects, takes a frame and closes.
    assert snapshot(view, tmp_path / "first.ppm").returncode == 0
    assert next_event(console, "view-event")
    send(console, "ping")
    assert next_event(console, "pong")
    assert snapshot(view, tmp_path / "second.ppm").returncode == 0
    send(console, "end")
    assert next_event(console, "ended")
    assert console.wait(timeout=30) == 0
    agent.finish()
    assert not is_port_open(port)
    assert not is_port_open(web_port(view["url"]))
    assert not os.path.exists(view["password_file"])


def test_a_viewer_stalled_in_the_handshake_is_closed_and_the_view_stays(shared, tmp_path):
    agent, console = shared
    grant(agent, console, "view", "asks to see your screen")
    send(console, "view --no-viewer")
    view = next_event(console, "view")
    host, port = view["address"].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as stalled:
        assert stalled.recv(12) == b"RFB 003.008\n"
        # It never answers; the view closes it after its handshake time (10 s).
        stalled.settimeout(30)
        started = time.monotonic()
        assert stalled.recv(1) == b""
        assert time.monotonic() - started < 25
    event = next_event(console, "view-event")
    while "did not finish connecting" not in event["detail"]:
        event = next_event(console, "view-event")
    assert snapshot(view, tmp_path / "after.ppm").returncode == 0


def test_the_clipboard_travels_both_ways_only_with_control(shared, processes):
    require("xclip")
    agent, console = shared
    display = os.environ["DISPLAY"]
    grant(agent, console, "view", "asks to see your screen")
    send(console, "view --no-viewer")
    view = next_event(console, "view")

    # View only: the technician's clipboard does not reach the customer.
    assert vnc_bench("input", view["address"], "--password", view["password"],
                     "--cut", "not without control").returncode == 0
    assert customer_clipboard(display, "not without control", 2) != "not without control"
    grant(agent, console, "control", "asks to use your keyboard")
    assert vnc_bench("input", view["address"], "--password", view["password"],
                     "--cut", "from the technician").returncode == 0
    assert customer_clipboard(display, "from the technician", 10) == "from the technician"
    customer_copy_reaches_viewer(processes, display, view["address"], view["password"])


def test_a_channel_that_never_starts_is_closed_by_the_agent(shared, support, tmp_path):
    """A technician's client opens a channel to the helper and then says nothing."""
    agent, console = shared
    relay = support.relay
    known = tmp_path / "known_hosts"
    known.write_text("[%s]:%d %s\n" % (relay.host, relay.port, relay.host_key_line))
    port = int(agent.code.replace(" ", "")[1:6])
    silent = subprocess.Popen(["ssh", "-F", "/dev/null", "-p", str(relay.port), "-i",
                               relay.tech_key, "-o", "BatchMode=yes",
                               "-o", "UserKnownHostsFile=%s" % known, "-W", "localhost:%d" % port,
                               "%s@%s" % (relay.tech_user, relay.host)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    try:
        # The helper opens TLS (a ClientHello) and gets no answer; after its start
        # time (15 s) it closes the channel, which ends ssh -W.
        started = time.monotonic()
        said = silent.stdout.read()
        assert said == b"" or said[:1] == b"\x16"  # nothing but a TLS handshake record
        assert 10 < time.monotonic() - started < 40
    finally:
        silent.kill()
        silent.wait()
    send(console, "ping")
    assert next_event(console, "pong")
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    log = [json.loads(line) for line in
           open(str(tmp_path / "state" / "kefu" / "audit.jsonl")).read().splitlines()]
    assert any(e["event"] == "stream-refused" and "in time" in e.get("detail", "")
               for e in log), log
