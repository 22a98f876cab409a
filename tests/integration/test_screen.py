# kefu: screen sharing end to end: the agent's server, the console's view, real clients. SPDX-License-Identifier: MIT
import os
import stat
import subprocess
import time

import pytest

from conftest import program, run
from screen_fixtures import (HEIGHT, WIDTH, Drawer, Follower, LineReader, ScreenPipe,
                             block_colour, browser_pattern_errors, customer_clipboard,
                             customer_copy_reaches_viewer, draw_pattern, is_port_open, require,
                             start_xvfb, tool, vnc_bench, wait_port)

# How long "nothing more arrives" is watched after a call has returned.
SETTLE_SECONDS = 1.5


def load_rgb(path):
    from PIL import Image
    image = Image.open(path).convert("RGB")
    return image.size, image.load()


@pytest.fixture
def display(processes):
    return start_xvfb(processes)


def test_libvncclient_snapshot_matches_the_pattern_pixel_for_pixel(processes, display, tmp_path):
    draw_pattern(processes, display)
    pipe = ScreenPipe(processes, display)
    out = tmp_path / "frame.ppm"
    result = vnc_bench("snapshot", pipe.address, "--password", pipe.password, "--out", str(out))
    assert result.returncode == 0, result.stderr
    (width, height), pixels = load_rgb(out)
    assert (width, height) == (WIDTH, HEIGHT)
    wrong = [(x, y) for y in range(height) for x in range(width)
             if pixels[x, y] != block_colour(x, y)]
    assert wrong == []


def test_vncsnapshot_through_the_view_captures_the_pattern(processes, display, tmp_path):
    require("vncsnapshot")
    draw_pattern(processes, display)
    pipe = ScreenPipe(processes, display)
    out = tmp_path / "snap.jpg"
    # Raw or zlib on the wire (-nojpeg); vncsnapshot itself always saves JPEG, so
    # the file is compared with a small tolerance on 32x32 solid blocks, away
    # from the pointer that sits in the middle of the screen.
    result = run(["vncsnapshot", "-passwd", pipe.password_file, "-nojpeg", "-quality", "100",
                  "-rect", "256x192+0+0", "127.0.0.1::%d" % pipe.port, str(out)], timeout=60)
    assert result.returncode == 0, result.stderr
    (width, height), pixels = load_rgb(out)
    assert (width, height) == (256, 192)
    worst = 0
    for y in range(height):
        for x in range(width):
            got, want = pixels[x, y], block_colour(x, y)
            worst = max(worst, max(abs(a - b) for a, b in zip(got, want)))
    assert worst <= 8, "largest channel difference %d" % worst


def test_a_client_without_the_password_is_refused(processes, display, tmp_path):
    require("vncsnapshot", "vncpasswd")
    pipe = ScreenPipe(processes, display)
    mode = os.stat(pipe.password_file).st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(pipe.password_file)).st_mode) == 0o700
    wrong = tmp_path / "wrong.passwd"
    with open(wrong, "wb") as f:
        f.write(subprocess.run(["vncpasswd", "-f"], input=b"guessed1\nguessed1\n",
                               stdout=subprocess.PIPE, check=True, timeout=10).stdout)
    out = tmp_path / "snap.jpg"
    result = run(["vncsnapshot", "-passwd", str(wrong), "127.0.0.1::%d" % pipe.port, str(out)],
                 timeout=60)
    assert result.returncode != 0
    assert not out.exists()
    assert vnc_bench("snapshot", pipe.address, "--password", "guessed1", "--out",
                     str(tmp_path / "x.ppm")).returncode == 1
    pipe.reader.wait_for(lambda l: "wrong password" in l)
    # No stream to the agent was ever opened for them.
    assert pipe.command("viewers") == (0, 0)
    # The right password still works.
    assert vnc_bench("snapshot", pipe.address, "--password", pipe.password, "--out",
                     str(tmp_path / "ok.ppm")).returncode == 0


def start_xev(processes, display):
    require("xev")
    proc = processes.start(["xev", "-display", display, "-geometry", "%dx%d+0+0" % (WIDTH, HEIGHT)],
                           stdout=subprocess.PIPE, text=True)
    reader = LineReader(proc)
    reader.wait_for(lambda l: l.startswith("MapNotify") or l.startswith("Expose"))
    return reader


def drain(reader, seconds):
    """Collects what reader prints during seconds."""
    deadline = time.monotonic() + seconds
    got = []
    while time.monotonic() < deadline:
        try:
            line = reader.lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except Exception:
            continue
        if line is not None:
            got.append(line)
    return got


def presses(lines):
    return [l for l in lines if l.startswith("KeyPress") or l.startswith("ButtonPress")]


def test_input_with_control_reaches_an_x_client(processes, display):
    xev = start_xev(processes, display)
    pipe = ScreenPipe(processes, display, "--input")
    result = vnc_bench("input", pipe.address, "--password", pipe.password, "--click", "100,100",
                       "--text", "kefu")
    assert result.returncode == 0, result.stderr
    xev.wait_for(lambda l: l.startswith("ButtonPress"))
    for key in "kefu":
        xev.wait_for(lambda l, key=key: "keysym 0x%x, %s)" % (ord(key), key) in l)


def test_input_without_control_never_arrives_and_forbidding_is_immediate(processes, display):
    xev = start_xev(processes, display)
    pipe = ScreenPipe(processes, display)  # view only
    assert vnc_bench("input", pipe.address, "--password", pipe.password, "--click", "50,50",
                     "--text", "nope").returncode == 0
    assert presses(drain(xev, SETTLE_SECONDS)) == []
    # Granting control makes the same client's input arrive...
    pipe.command("input on")
    assert vnc_bench("input", pipe.address, "--password", pipe.password,
                     "--text", "y").returncode == 0
    xev.wait_for(lambda l: "keysym 0x79, y)" in l)
    xev.wait_for(lambda l: l.startswith("KeyRelease"))
    # ...and revoking it stops input from the moment the call returns.
    pipe.command("input off")
    assert vnc_bench("input", pipe.address, "--password", pipe.password, "--click", "60,60",
                     "--text", "zz").returncode == 0
    assert presses(drain(xev, SETTLE_SECONDS)) == []


def test_stop_ends_the_stream_and_a_closed_viewer_leaves_the_view_up(processes, display, tmp_path):
    pipe = ScreenPipe(processes, display)
    # A viewer that comes and goes does not end anything.
    for attempt in range(2):
        assert vnc_bench("snapshot", pipe.address, "--password", pipe.password, "--out",
                         str(tmp_path / ("%d.ppm" % attempt))).returncode == 0
    assert is_port_open(pipe.port)
    watcher = processes.start([tool("vnc-bench"), "watch", pipe.address, "--password",
                               pipe.password, "--seconds", "30"], stdout=subprocess.PIPE,
                              text=True)
    LineReader(watcher).wait_for(lambda l: l == "update")
    assert pipe.command("viewers") == (1, 1)
    shared = pipe.saw("event sharing 1")
    pipe.command("stop")
    # watch exits 0 only when the server closed the stream.
    assert watcher.wait(timeout=20) == 0
    pipe.saw("event sharing 0", after=shared)
    # The socket is closed (watch exited); the server forgets the viewer as its thread
    # sees the close, within moments.
    deadline = time.monotonic() + 10
    while pipe.command("viewers") != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pipe.command("viewers") == (0, 0)
    # The view stays: a new viewer gets a new stream.
    assert vnc_bench("snapshot", pipe.address, "--password", pipe.password, "--out",
                     str(tmp_path / "again.ppm")).returncode == 0


def test_ending_closes_the_endpoints_and_removes_the_password(processes, display):
    pipe = ScreenPipe(processes, display, "--web")
    web_port = int(pipe.url.split(":")[2].split("/")[0])
    wait_port(web_port)
    watcher = processes.start([tool("vnc-bench"), "watch", pipe.address, "--password",
                               pipe.password, "--seconds", "30"], stdout=subprocess.PIPE,
                              text=True)
    LineReader(watcher).wait_for(lambda l: l == "update")
    pipe.command("quit")
    assert pipe.proc.wait(timeout=20) == 0
    assert watcher.wait(timeout=20) == 0
    assert not is_port_open(pipe.port)
    assert not os.path.exists(pipe.password_file)
    deadline = time.monotonic() + 10
    while is_port_open(web_port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not is_port_open(web_port)


def test_clipboard_travels_both_ways_with_control(processes, display):
    require("xclip")
    pipe = ScreenPipe(processes, display, "--input")
    assert vnc_bench("input", pipe.address, "--password", pipe.password,
                     "--cut", "from the technician").returncode == 0
    assert customer_clipboard(display, "from the technician", 10) == "from the technician"
    customer_copy_reaches_viewer(processes, display, pipe.address, pipe.password)


def test_browser_renders_the_pattern_through_novnc(processes, display, tmp_path):
    require("chromium", "chromedriver", "websockify")
    draw_pattern(processes, display)
    pipe = ScreenPipe(processes, display, "--web")
    assert pipe.url.startswith("http://127.0.0.1:") and "#" in pipe.url
    assert "password=" + pipe.password in pipe.url.split("#", 1)[1]
    wrong = browser_pattern_errors(processes, pipe.url, tmp_path)
    assert len(wrong) <= 1, wrong  # the pointer may cover one block


def test_screen_check_names_what_is_supported(display):
    shared = run([program("kefu-agentd"), "screen-check", "--display", display])
    assert shared.returncode == 0, shared.stderr
    assert "XDamage" in shared.stdout and "%dx%d" % (WIDTH, HEIGHT) in shared.stdout
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    none = run([program("kefu-agentd"), "screen-check"], env=env)
    assert none.returncode == 1 and "no graphical desktop" in none.stderr
    wayland = run([program("kefu-agentd"), "screen-check"],
                  env=dict(env, DISPLAY=display, WAYLAND_DISPLAY="wayland-0",
                           XDG_SESSION_TYPE="wayland"))
    assert wayland.returncode == 1 and "Wayland" in wayland.stderr
    assert "X11" in wayland.stderr
    missing = run([program("kefu-agentd"), "screen-check", "--display", display,
                   "--monitor", "4"])
    assert missing.returncode == 1 and "monitor 4 does not exist" in missing.stderr
    monitor = run([program("kefu-agentd"), "screen-check", "--display", display,
                   "--monitor", "0"])
    assert monitor.returncode == 0 and "monitor %dx%d+0+0" % (WIDTH, HEIGHT) in monitor.stdout


def test_without_xdamage_tiles_are_compared_and_said_so(processes, display, tmp_path):
    pipe = ScreenPipe(processes, display, "--no-damage")
    assert "tile comparison" in pipe.info["screen"]
    # A viewer already watching when the pattern appears ends with the same pixels as X.
    follower = Follower(processes, pipe.address, pipe.password, display)
    draw_pattern(processes, display)
    assert follower.check()["diff"] == 0
    out = tmp_path / "frame.ppm"
    assert vnc_bench("snapshot", pipe.address, "--password", pipe.password,
                     "--out", str(out)).returncode == 0
    (width, height), pixels = load_rgb(out)
    assert pixels[100, 100] == block_colour(100, 100)


def test_cursor_shape_and_screen_size_changes_reach_the_viewer(processes, display):
    require("xrandr")
    pipe = ScreenPipe(processes, display)
    drawer = Drawer(processes, display)
    follower = Follower(processes, pipe.address, pipe.password, display)
    watcher = processes.start([tool("vnc-bench"), "watch", pipe.address, "--password",
                               pipe.password, "--seconds", "30"], stdout=subprocess.PIPE,
                              text=True)
    reader = LineReader(watcher)
    reader.wait_for(lambda l: l == "size %d %d" % (WIDTH, HEIGHT))
    cursor = reader.wait_for(lambda l: l.startswith("cursor "))
    assert int(cursor.split()[1]) > 0 and int(cursor.split()[2]) > 0
    env = dict(os.environ, DISPLAY=display)
    for args in (["--newmode", "kefu-400", "25.175", "400", "416", "512", "560", "300",
                  "310", "312", "345"],
                 ["--addmode", "screen", "kefu-400"],
                 ["--output", "screen", "--mode", "kefu-400"]):
        result = run(["xrandr"] + args, env=env)
        assert result.returncode == 0, result.stderr
    reader.wait_for(lambda l: l == "size 400 300")
    # The viewer that watched through the change shows what X shows, to the pixel.
    drawer.fill(399 - 33, 299 - 31, 33, 31, 0x3377aa)
    end = follower.check(timeout_ms=5000)
    assert (end["size"], end["diff"]) == ("400x300", 0), end["line"]


def test_one_monitor_is_shared_alone(processes, display, tmp_path):
    require("xrandr")
    env = dict(os.environ, DISPLAY=display)
    half = WIDTH // 2
    for args in (["--setmonitor", "kefu-left", "%d/0x%d/0+0+0" % (half, HEIGHT), "screen"],
                 ["--setmonitor", "kefu-right", "%d/0x%d/0+%d+0" % (half, HEIGHT, half),
                  "none"]):
        result = run(["xrandr"] + args, env=env)
        assert result.returncode == 0, result.stderr
    pipe = ScreenPipe(processes, display, "--monitor", "1")
    follower = Follower(processes, pipe.address, pipe.password, display,
                        area="%dx%d+%d+0" % (half, HEIGHT, half))
    draw_pattern(processes, display)
    assert follower.check()["diff"] == 0
    out = tmp_path / "right.ppm"
    assert vnc_bench("snapshot", pipe.address, "--password", pipe.password,
                     "--out", str(out)).returncode == 0
    (width, height), pixels = load_rgb(out)
    assert (width, height) == (half, HEIGHT)
    wrong = [(x, y) for y in range(height) for x in range(width)
             if pixels[x, y] != block_colour(x + half, y)]
    assert wrong == []


def test_a_real_viewer_is_started_and_closing_it_keeps_the_screen_shared(processes, display,
                                                                         tmp_path):
    require("xtigervncviewer")
    technician = start_xvfb(processes)
    env = dict(os.environ, DISPLAY=technician)
    env.pop("WAYLAND_DISPLAY", None)
    proc = processes.start([tool("screen-pipe"), "--display", display, "--viewer"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    reader = LineReader(proc)
    started = reader.wait_for(lambda l: l.startswith("event started "))
    pid = int(started.split("(pid ")[1].split(")")[0].split(";")[0])
    # The viewer found the password file by itself and was let in.
    reader.wait_for(lambda l: l == "event viewer connected")
    os.kill(pid, 15)
    reader.wait_for(lambda l: l.startswith("event the viewer closed; the screen stays shared"))
    address = next(l.split()[1] for l in reader.seen if l.startswith("address "))
    password = next(l.split()[1] for l in reader.seen if l.startswith("password "))
    assert vnc_bench("snapshot", address, "--password", password, "--out",
                     str(tmp_path / "after.ppm")).returncode == 0


def test_clipboard_stays_put_without_control(processes, display):
    require("xclip")
    pipe = ScreenPipe(processes, display)  # view only
    watcher = processes.start([tool("vnc-bench"), "watch", pipe.address, "--password",
                               pipe.password, "--seconds", "30"], stdout=subprocess.PIPE,
                              text=True)
    reader = LineReader(watcher)
    reader.wait_for(lambda l: l == "update")
    copy = processes.start(["xclip", "-display", display, "-selection", "clipboard", "-i"],
                           stdin=subprocess.PIPE, text=True)
    copy.stdin.write("customer secret")
    copy.stdin.close()
    assert vnc_bench("input", pipe.address, "--password", pipe.password,
                     "--cut", "from the technician").returncode == 0
    assert [l for l in drain(reader, SETTLE_SECONDS) if l.startswith("cut ")] == []
    pasted = run(["xclip", "-display", display, "-selection", "clipboard", "-o"], timeout=10)
    assert pasted.stdout == "customer secret"
