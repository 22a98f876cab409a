# kefu: screen-sharing benchmark next to TigerVNC's x0vncserver and x11vnc. SPDX-License-Identifier: MIT
#
# One scripted workload on Xvfb at 1920x1080 (a 100x100 square moving 60 times
# a second on a full-screen window, plus a strip of text scrolling up), served
# in turn by kefu through a real session (kefu-agentd share, a stock OpenSSH relay
# on loopback, end-to-end TLS, kefu-console join's loopback view), by kefu's screen
# server alone (screen-pipe: the same server and view joined by socketpairs), by
# x0vncserver and by x11vnc, each measured by the same libvncclient client
# (tests/tools/vnc-bench.c). Server CPU for the session is kefu-agentd's.
#
# Counting updates cannot tell a server that sends every change from one that
# loses some, so the client also compares pixels: it stops the workload at
# random moments, waits for its picture to settle, and compares it with the X
# server's own (XGetImage of the root window). "changed px delivered" is the
# share of the pixels that changed on the display between two stops that the
# viewer shows; "final fb diff" is how many pixels still differ at the last
# stop (0 for a server that loses nothing). The input-to-pixel latency is a key
# press (through the session for kefu, with control granted) toggling a known
# 33x33 block of the workload, timed until the viewer shows the new colour.
#
# kefu-wayland is the same session on a headless GNOME Wayland desktop of the
# benchmark's own (integration/wayland_fixtures.py: mutter 43 with a virtual monitor of the
# same size, PipeWire, the portals; their dialog accepted over AT-SPI), started
# once the X11 runs are over so that the two never share the 2 cores. Its
# workload is wl-draw workload: the same square, text and key block drawn by a
# Wayland client once a frame of the compositor's. No one but the portal can
# read a Wayland screen back (mutter alone has no screenshot interface; that is
# gnome-shell's), so the viewer's pixels are compared with the picture the
# client itself shows, which it shares in a file and pauses on SIGUSR1 once its
# last frame is the compositor's. For both kefu sessions the viewer measured is
# the second: on Wayland the first one waits for the desktop's dialog, which is
# the customer's time.
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
# CPU time of every live process in a process group (x0vncserver is a wrapper script).
from wayland_fixtures import group_cpu_seconds  # noqa: E402

WIDTH, HEIGHT = 1920, 1080
SECONDS = 5
KEYS = 20
CHECKS = 10
XVFB_PID = [0]
DISPLAY = [None]
WORKLOAD_PID = [0]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def start(args, **kwargs):
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    kwargs.setdefault("stdout", subprocess.DEVNULL)
    kwargs.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen(args, start_new_session=True, **kwargs)


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def lock_owner(number):
    try:
        with open("/tmp/.X%d-lock" % number) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return None


def start_xvfb():
    for number in range(240, 340):
        if os.path.exists("/tmp/.X11-unix/X%d" % number) or os.path.exists(
                "/tmp/.X%d-lock" % number):
            continue
        proc = start(["Xvfb", ":%d" % number, "-screen", "0", "%dx%dx24" % (WIDTH, HEIGHT),
                      "-noreset", "-nolisten", "tcp"])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            # Ours only once the lock names our server: another run may have taken it.
            if os.path.exists("/tmp/.X11-unix/X%d" % number) and lock_owner(number) == proc.pid:
                return proc, ":%d" % number
            time.sleep(0.05)
        stop(proc)
    raise RuntimeError("cannot start Xvfb")


class XTruth:
    """The X11 runs' truth: the X server's own picture, the workload stopped by SIGSTOP."""

    def args(self):
        return ["--display", DISPLAY[0], "--workload-pid", str(WORKLOAD_PID[0])]

    def display_cpu_seconds(self):
        return group_cpu_seconds(XVFB_PID[0])

    def resume(self):
        os.kill(WORKLOAD_PID[0], signal.SIGCONT)


class PictureTruth:
    """The Wayland run's truth: the picture wl-draw workload shares in a file."""

    def __init__(self, desktop, workload, path):
        self.desktop, self.workload, self.path = desktop, workload, path

    def args(self):
        return ["--picture", self.path, "--workload-pid", str(self.workload.pid)]

    def display_cpu_seconds(self):
        return self.desktop.cpu_seconds()

    def resume(self):
        os.kill(self.workload.pid, signal.SIGUSR2)


def measure(build, server, address, password=None, extra=(), keys=KEYS, checks=CHECKS,
            truth=None):
    """extra: more vnc-bench options (the encodings the viewer offers); truth: where the
    viewer's pixels are judged (default: the X server's)."""
    truth = truth or XTruth()
    args = [os.path.join(build, "tools", "vnc-bench"), "measure", address,
            "--seconds", str(SECONDS), "--keys", str(keys), "--checks",
            str(checks)] + truth.args() + list(extra)
    if password:
        args += ["--password", password]
    before, started = group_cpu_seconds(server.pid), time.monotonic()
    display_before = truth.display_cpu_seconds()
    try:
        result = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, timeout=SECONDS + 120)
    finally:
        # The client stops the workload at random moments; it always runs on after.
        truth.resume()
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError("vnc-bench failed: %s" % result.stderr.strip())
    try:
        figures = json.loads(result.stdout)
    except ValueError:
        raise RuntimeError("vnc-bench printed no figures (exit %d): %s" % (
            result.returncode, (result.stderr.strip().splitlines() or ["nothing"])[-1]))
    server_cpu = group_cpu_seconds(server.pid) - before
    display_cpu = truth.display_cpu_seconds() - display_before
    figures["cpu_percent"] = 100.0 * server_cpu / wall
    # Grabbing costs the display server too (XShm: Xvfb; a screen cast: mutter and
    # PipeWire), so that is shown beside.
    figures["cpu_with_x_percent"] = figures["cpu_percent"] + 100.0 * display_cpu / wall
    # Per update, the cost of each path whatever rate its display allows.
    if figures.get("updates_total", 0) > 0:
        figures["cpu_ms_per_update"] = 1000.0 * server_cpu / figures["updates_total"]
        figures["display_ms_per_update"] = 1000.0 * display_cpu / figures["updates_total"]
    return figures


def run_kefu(build, display):
    proc = start([os.path.join(build, "tools", "screen-pipe"), "--display", display, "--input"],
                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    info = {}
    try:
        for line in proc.stdout:
            key, _, value = line.strip().partition(" ")
            info[key] = value
            if key == "ready":
                break
        return measure(build, proc, info["address"], info["password"])
    finally:
        stop(proc)


def console_event(console, kind):
    for _ in range(50):
        event = json.loads(console.stdout.readline())
        if event["event"] == kind:
            return event
    raise RuntimeError("the console sent no %s event" % kind)


def grant_view_and_control(agent, console):
    """The technician asks for view and control; the customer allows both."""
    for capability, question in (("view", "asks to see your screen"),
                                 ("control", "asks to use your keyboard")):
        console.stdin.write("request %s\n" % capability)
        console.stdin.flush()
        agent.wait_for(question)
        agent.say("y")
        if not console_event(console, "consent")["granted"]:
            raise RuntimeError("%s was not granted" % capability)


def run_kefu_session(build, display):
    """kefu-agentd share and kefu-console join through a relay, view and control granted."""
    if os.geteuid() != 0:
        raise RuntimeError("the relay runs sshd as root; run make bench as root")
    os.environ["KEFU_BUILD"] = build
    from conftest import Processes
    from session_fixtures import Support

    processes = Processes()
    directory = tempfile.mkdtemp(prefix="kefu-bench-screen-")
    support = None
    previous_display = os.environ.get("DISPLAY")
    try:
        support = Support(processes, directory)
        os.environ["DISPLAY"] = display
        agent = support.start_agent()
        console = support.start_console(agent.code, "--json")
        console_event(console, "connected")
        grant_view_and_control(agent, console)
        console.stdin.write("view --no-viewer\n")
        console.stdin.flush()
        view = console_event(console, "view")
        # As on Wayland, where the first viewer waits for the desktop's dialog, the viewer
        # measured is the second: the first opens the capture.
        first = subprocess.run([os.path.join(build, "tools", "vnc-bench"), "snapshot",
                                view["address"], "--password", view["password"], "--out",
                                os.path.join(directory, "first.ppm")], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60)
        if first.returncode != 0:
            raise RuntimeError("no first picture: %s" % first.stderr.strip())
        return measure(build, agent.proc, view["address"], view["password"])
    finally:
        if previous_display is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous_display
        processes.stop_all()
        if support is not None:
            support.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


class Skipped(Exception):
    """A runner that cannot run on this machine; its message says why."""


# What the agent needs of the Wayland desktop's environment.
WAYLAND_ENV = ("XDG_RUNTIME_DIR", "XDG_CURRENT_DESKTOP", "XDG_SESSION_TYPE", "WAYLAND_DISPLAY",
               "DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS", "XDG_STATE_HOME",
               "XDG_DATA_HOME")


def picture_counts(path):
    """The frames wl-draw workload has drawn and the presses it received
    (struct kf_shown_picture's frames and inputs)."""
    with open(path, "rb") as f:
        fields = struct.unpack("=8s7I", f.read(36))
    return fields[5], fields[7]


def run_kefu_wayland(build, display):
    """The session of run_kefu_session on a headless GNOME Wayland desktop of its own."""
    import wayland_fixtures
    reason = wayland_fixtures.missing()
    if reason is not None:
        raise Skipped(reason)
    if os.geteuid() != 0:
        raise RuntimeError("the relay runs sshd as root; run make bench as root")
    os.environ["KEFU_BUILD"] = build
    from conftest import Processes
    from screen_fixtures import LineReader
    from session_fixtures import Support

    processes = Processes()
    directory = tempfile.mkdtemp(prefix="kefu-bench-wayland-")
    support = desktop = None
    saved = {key: os.environ.get(key) for key in WAYLAND_ENV + ("DISPLAY",)}
    vnc_bench = os.path.join(build, "tools", "vnc-bench")
    try:
        desktop = wayland_fixtures.Desktop(processes, WIDTH, HEIGHT)
        support = Support(processes, directory)
        os.environ.pop("DISPLAY", None)
        for key in WAYLAND_ENV:
            os.environ[key] = desktop.env[key]
        agent = support.start_agent()
        console = support.start_console(agent.code, "--json")
        console_event(console, "connected")
        grant_view_and_control(agent, console)
        clicker = LineReader(desktop.click_dialog(control=True))
        console.stdin.write("view --no-viewer\n")
        console.stdin.flush()
        view = console_event(console, "view")
        login = ["--password", view["password"]]
        # The first viewer opens the desktop's screen cast: its dialog is answered here.
        first = subprocess.run([vnc_bench, "snapshot", view["address"], "--out",
                                os.path.join(directory, "first.ppm")] + login,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=150)
        if first.returncode != 0:
            raise RuntimeError("no first picture through the portal: %s" % first.stderr.strip())
        if clicker.wait_for(lambda l: l in ("shared", "none"), timeout=30) != "shared":
            raise RuntimeError("the desktop's dialog never came")
        if "interaction allowed" not in clicker.seen:
            raise RuntimeError("the desktop's dialog offered no remote interaction")
        # Headless mutter has no input devices until the remote desktop session's first
        # pointer and key events add its virtual ones, and a client mapped before then
        # never gets the keyboard's focus: one click and one key first, then the workload.
        subprocess.run([vnc_bench, "input", view["address"], "--click", "5,5", "--text", "a"]
                       + login,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        time.sleep(2)
        picture = os.path.join(directory, "picture")
        workload = desktop.start("workload", [os.path.join(build, "tools", "wl-draw"),
                                              "workload", "--picture", picture],
                                 stdout=subprocess.PIPE, text=True)
        ready = LineReader(workload).wait_for(lambda l: l.startswith("ready "), timeout=30)
        if ready != "ready %d %d" % (WIDTH, HEIGHT):
            raise RuntimeError("the Wayland workload is not fullscreen: %s" % ready)
        time.sleep(1)
        frames_before, inputs_before = picture_counts(picture)
        started = time.monotonic()
        figures = measure(build, agent.proc, view["address"], view["password"],
                          truth=PictureTruth(desktop, workload, picture))
        frames, inputs = picture_counts(picture)
        # Paused at the stops, so this is a floor of its rate while it runs.
        figures["workload_fps"] = (frames - frames_before) / (time.monotonic() - started)
        # A key the compositor dropped, or one repeating, shows here.
        figures["client_presses"] = inputs - inputs_before
        return figures
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        processes.stop_all()
        if desktop is not None:
            desktop.cleanup()
        if support is not None:
            support.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


def run_x0vncserver(build, display):
    # x0vncserver is a Perl wrapper that starts X0tigervnc in a session of its
    # own; the binary is run directly so that its CPU time is the one measured.
    port = free_port()
    proc = start(["X0tigervnc", "-display", display, "-rfbport", str(port),
                  "-SecurityTypes", "None", "-localhost"])
    try:
        if not wait_port(port):
            raise RuntimeError("x0vncserver did not listen")
        return measure(build, proc, "127.0.0.1:%d" % port)
    finally:
        stop(proc)


def run_x11vnc(build, display):
    port = free_port()
    proc = start(["x11vnc", "-display", display, "-rfbport", str(port), "-localhost", "-nopw",
                  "-shared", "-forever", "-quiet", "-noipv6"])
    try:
        if not wait_port(port):
            raise RuntimeError("x11vnc did not listen")
        return measure(build, proc, "127.0.0.1:%d" % port)
    finally:
        stop(proc)


# key, label, format, scale, is a ratio to the peer meaningful
ROWS = [
    ("updates_per_s", "updates/s", "%.1f", 1, True),
    ("pixels_per_s", "Mpixels/s", "%.2f", 1e-6, True),
    ("bytes_per_s", "MB/s", "%.2f", 1e-6, True),
    ("delivered_share", "changed px delivered %", "%.2f", 100, True),
    ("lost_pixels", "changed px lost", "%d", 1, False),
    ("final_diff", "final fb diff px", "%d", 1, False),
    ("first_frame_ms", "first frame ms", "%.1f", 1, True),
    ("latency_p50_ms", "key-to-pixel p50 ms", "%.1f", 1, True),
    ("latency_p95_ms", "key-to-pixel p95 ms", "%.1f", 1, True),
    ("latency_samples", "key presses seen", "%d", 1, False),
    ("cpu_percent", "server CPU %", "%.1f", 1, True),
    ("cpu_with_x_percent", "server+display CPU %", "%.1f", 1, True),
    ("cpu_ms_per_update", "server CPU ms/update", "%.2f", 1, True),
    ("display_ms_per_update", "display CPU ms/update", "%.2f", 1, True),
]

PEERS = (("x0vncserver", "X0tigervnc"), ("x11vnc", "x11vnc"))
# A difference this close to the pointer is a cursor painted into the picture.
CURSOR_REACH = 40


def difference_note(figures):
    """Where a server's final difference lies, when it has one."""
    if not figures.get("final_diff"):
        return None
    x, y, w, h = figures["final_box"]
    px, py = figures["pointer"]
    where = "%d px differ in the box %dx%d+%d+%d" % (figures["final_diff"], w, h, x, y)
    if (px >= 0 and px - CURSOR_REACH <= x and x + w <= px + CURSOR_REACH and py - CURSOR_REACH <= y
            and y + h <= py + CURSOR_REACH):
        return where + ", around the pointer at %d,%d: the cursor painted into its picture" % (
            px, py)
    return where


# Figures where more is better; for the others (times, CPU) less is.
HIGHER_IS_BETTER = ("updates_per_s", "pixels_per_s", "delivered_share")
# The figures the Wayland path is held to: within GOAL of the X11 path's.
GOAL_KEYS = ("updates_per_s", "delivered_share", "first_frame_ms", "latency_p50_ms",
             "latency_p95_ms", "cpu_percent", "cpu_with_x_percent", "cpu_ms_per_update")
GOAL = 0.10


def goal_line(wayland, x11):
    """Which figures of the Wayland path are within GOAL of the X11 path's, which not."""
    within, beyond = [], []
    for key, label, fmt, scale, is_ratio in ROWS:
        mine, theirs = wayland.get(key), x11.get(key)
        if key not in GOAL_KEYS or mine is None or theirs is None or mine < 0 or theirs <= 0:
            continue
        ratio = mine / theirs
        is_worse = ratio < 1 - GOAL if key in HIGHER_IS_BETTER else ratio > 1 + GOAL
        (beyond if is_worse else within).append("%s %.2f" % (label, ratio))
    return ("wayland/x11 within %d %%: %s; beyond: %s"
            % (GOAL * 100, ", ".join(within) or "none", ", ".join(beyond) or "none"))


def main(build_dir, only=None):
    """only: the names of the runners to run (default all)."""
    if shutil.which("Xvfb") is None:
        print("skipped: Xvfb is not installed (scripts/deps bench)")
        return
    missing = [program for _, program in PEERS if shutil.which(program) is None]
    load_before = os.getloadavg()[0]
    xvfb, display = start_xvfb()
    XVFB_PID[0] = xvfb.pid
    DISPLAY[0] = display
    workload = None
    try:
        workload = start([os.path.join(build_dir, "tools", "x-draw"), "--display", display,
                          "workload", "--fps", "60"], stdout=subprocess.PIPE, text=True)
        workload.stdout.readline()
        WORKLOAD_PID[0] = workload.pid
        results = {}
        skipped = []
        runners = [("kefu", run_kefu_session), ("kefu-direct", run_kefu),
                   ("x0vncserver", run_x0vncserver), ("x11vnc", run_x11vnc),
                   ("kefu-wayland", run_kefu_wayland)]
        runners = [(n, r) for n, r in runners if not only or n in only]
        for name, runner in runners:
            program = dict(PEERS).get(name)
            if program is not None and shutil.which(program) is None:
                continue
            if name == "kefu-wayland":
                # The X11 workload rests while the Wayland desktop has the cores.
                os.kill(workload.pid, signal.SIGSTOP)
            try:
                results[name] = runner(build_dir, display)
            except Skipped as reason:
                skipped.append("%s skipped: %s" % (name, reason))
            except Exception as error:  # one peer failing must not hide the others
                print("%s: %s" % (name, error))
        print("workload: %dx%d, square moving 60/s + scrolling text, %d s per server, "
              "%d key presses, %d stops compared pixel for pixel with the X server"
              % (WIDTH, HEIGHT, SECONDS, KEYS, CHECKS))
        print("kefu: through a session and the relay, the viewer measured joining a view "
              "already open; kefu-direct: the same server and view joined by socketpairs")
        # Whatever else runs on the machine takes from the Wayland compositor first.
        print("machine: %d cores, load average (1 min) %.1f before the runs, %.1f after"
              % (os.cpu_count(), load_before, os.getloadavg()[0]))
        if "kefu-wayland" in results:
            print("kefu-wayland: the same session on headless GNOME Wayland (mutter 43, the "
                  "portals, PipeWire); the workload drawn by a Wayland client at %.1f frames/s, "
                  "its pixels compared with that client's picture; display CPU: mutter and "
                  "PipeWire (Xvfb for the others); of %d key presses the client received %d"
                  % (results["kefu-wayland"]["workload_fps"], KEYS,
                     results["kefu-wayland"]["client_presses"]))
        for line in skipped:
            print(line)
        if missing:
            print("not measured (not installed; scripts/deps bench): %s" % ", ".join(missing))
        names = [n for n, _ in runners if n in results]
        peers = [n for n, _ in PEERS if n in results]
        ratios = [("kefu/" + n, "kefu", n) for n in peers if "kefu" in results]
        if "kefu" in results and "kefu-wayland" in results:
            ratios.append(("wayland/x11", "kefu-wayland", "kefu"))
        header = "%-24s" % "" + "".join("%14s" % n for n in names)
        header += "".join("%18s" % title for title, _, _ in ratios)
        print(header)
        for key, label, fmt, scale, is_ratio in ROWS:
            line = "%-24s" % label
            for n in names:
                value = results[n].get(key)
                line += "%14s" % ("-" if value is None or value < 0 else fmt % (value * scale))
            for _, top, bottom in ratios:
                mine, peer = results[top].get(key), results[bottom].get(key)
                line += "%18s" % ("%.2f" % (mine / peer) if is_ratio and mine is not None
                                  and peer and peer > 0 and mine >= 0 else "-")
            print(line)
        for n in names:
            note = difference_note(results[n])
            if note:
                print("%s: %s" % (n, note))
        if "kefu" in results and "kefu-wayland" in results:
            print(goal_line(results["kefu-wayland"], results["kefu"]))
        sys.stdout.flush()
    finally:
        if workload is not None:
            os.kill(workload.pid, signal.SIGCONT)
            stop(workload)
        stop(xvfb)


if __name__ == "__main__":
    # bench_screen.py [BUILD [RUNNER...]]: RUNNER is kefu, kefu-direct, x0vncserver,
    # x11vnc or kefu-wayland.
    main(sys.argv[1] if len(sys.argv) > 1 else "build/default", sys.argv[2:])
