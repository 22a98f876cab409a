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
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

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


def cpu_seconds(group):
    """CPU time of every live process in a process group (x0vncserver is a wrapper script)."""
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


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


def measure(build, server, address, password=None, extra=(), keys=KEYS, checks=CHECKS):
    """extra: more vnc-bench options (the encodings the viewer offers)."""
    xvfb = XVFB_PID[0]
    args = [os.path.join(build, "tools", "vnc-bench"), "measure", address,
            "--seconds", str(SECONDS), "--keys", str(keys), "--display", DISPLAY[0],
            "--workload-pid", str(WORKLOAD_PID[0]), "--checks", str(checks)] + list(extra)
    if password:
        args += ["--password", password]
    before, started = cpu_seconds(server.pid), time.monotonic()
    xvfb_before = cpu_seconds(xvfb)
    try:
        result = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, timeout=SECONDS + 120)
    finally:
        # The client stops the workload at random moments; it always runs on after.
        os.kill(WORKLOAD_PID[0], signal.SIGCONT)
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError("vnc-bench failed: %s" % result.stderr.strip())
    figures = json.loads(result.stdout)
    figures["cpu_percent"] = 100.0 * (cpu_seconds(server.pid) - before) / wall
    # Grabbing through XShm costs the X server too, so that is shown beside.
    figures["cpu_with_x_percent"] = figures["cpu_percent"] + 100.0 * (
        cpu_seconds(xvfb) - xvfb_before) / wall
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
        for capability, question in (("view", "asks to see your screen"),
                                     ("control", "asks to use your keyboard")):
            console.stdin.write("request %s\n" % capability)
            console.stdin.flush()
            agent.wait_for(question)
            agent.say("y")
            if not console_event(console, "consent")["granted"]:
                raise RuntimeError("%s was not granted" % capability)
        console.stdin.write("view --no-viewer\n")
        console.stdin.flush()
        view = console_event(console, "view")
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
    ("cpu_with_x_percent", "server+Xvfb CPU %", "%.1f", 1, True),
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
    if (px - CURSOR_REACH <= x and x + w <= px + CURSOR_REACH and py - CURSOR_REACH <= y
            and y + h <= py + CURSOR_REACH):
        return where + ", around the pointer at %d,%d: the cursor painted into its picture" % (
            px, py)
    return where


def main(build_dir):
    if shutil.which("Xvfb") is None:
        print("skipped: Xvfb is not installed (scripts/deps bench)")
        return
    missing = [program for _, program in PEERS if shutil.which(program) is None]
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
        runners = [("kefu", run_kefu_session), ("kefu-direct", run_kefu),
                   ("x0vncserver", run_x0vncserver), ("x11vnc", run_x11vnc)]
        for name, runner in runners:
            program = dict(PEERS).get(name)
            if program is not None and shutil.which(program) is None:
                continue
            try:
                results[name] = runner(build_dir, display)
            except Exception as error:  # one peer failing must not hide the others
                print("%s: %s" % (name, error))
        print("workload: %dx%d, square moving 60/s + scrolling text, %d s per server, "
              "%d key presses, %d stops compared pixel for pixel with the X server"
              % (WIDTH, HEIGHT, SECONDS, KEYS, CHECKS))
        print("kefu: through a session and the relay; kefu-direct: the same server and view "
              "joined by socketpairs")
        if missing:
            print("not measured (not installed; scripts/deps bench): %s" % ", ".join(missing))
        names = [n for n, _ in runners if n in results]
        peers = [n for n, _ in PEERS if n in results]
        header = "%-24s" % "" + "".join("%14s" % n for n in names)
        if "kefu" in results:
            header += "".join("%18s" % ("kefu/" + n) for n in peers)
        print(header)
        for key, label, fmt, scale, is_ratio in ROWS:
            line = "%-24s" % label
            for n in names:
                value = results[n].get(key)
                line += "%14s" % ("-" if value is None or value < 0 else fmt % (value * scale))
            if "kefu" in results:
                for n in peers:
                    mine, peer = results["kefu"].get(key), results[n].get(key)
                    line += "%18s" % ("%.2f" % (mine / peer) if is_ratio and mine is not None
                                      and peer and peer > 0 and mine >= 0 else "-")
            print(line)
        for n in names:
            note = difference_note(results[n])
            if note:
                print("%s: %s" % (n, note))
        sys.stdout.flush()
    finally:
        if workload is not None:
            os.kill(workload.pid, signal.SIGCONT)
            stop(workload)
        stop(xvfb)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/default")
