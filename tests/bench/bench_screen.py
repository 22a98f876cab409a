# kefu: screen-sharing benchmark next to TigerVNC's x0vncserver and x11vnc. SPDX-License-Identifier: MIT
#
# One scripted workload on Xvfb at 1920x1080 (a 100x100 square moving 60 times
# a second on a full-screen window, plus a strip of text scrolling up), served
# in turn by kefu through a real session (kefu-agentd share, a stock OpenSSH relay
# on loopback, end-to-end TLS, kefu-console join's loopback view), by kefu's screen
# server alone (screen-pipe: the same server and view joined by socketpairs), by
# x0vncserver and by x11vnc, each measured by the same libvncclient client
# (tests/tools/vnc-bench.c). Server CPU for the session is kefu-agentd's.
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
CLICKS = 10
XVFB_PID = [0]


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


def start_xvfb():
    for number in range(240, 340):
        if os.path.exists("/tmp/.X11-unix/X%d" % number) or os.path.exists(
                "/tmp/.X%d-lock" % number):
            continue
        proc = start(["Xvfb", ":%d" % number, "-screen", "0", "%dx%dx24" % (WIDTH, HEIGHT),
                      "-noreset", "-nolisten", "tcp"])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists("/tmp/.X11-unix/X%d" % number):
                return proc, ":%d" % number
            time.sleep(0.05)
        stop(proc)
    raise RuntimeError("cannot start Xvfb")


def measure(build, server, address, password=None):
    xvfb = XVFB_PID[0]
    args = [os.path.join(build, "tools", "vnc-bench"), "measure", address,
            "--seconds", str(SECONDS), "--clicks", str(CLICKS)]
    if password:
        args += ["--password", password]
    before, started = cpu_seconds(server.pid), time.monotonic()
    xvfb_before = cpu_seconds(xvfb)
    result = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=SECONDS + 60)
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


ROWS = [
    ("updates_per_s", "updates/s", "%.1f", "higher"),
    ("pixels_per_s", "Mpixels/s", "%.2f", "higher"),
    ("bytes_per_s", "MB/s", "%.2f", "-"),
    ("first_frame_ms", "first frame ms", "%.1f", "lower"),
    ("latency_ms", "input-to-pixel ms", "%.1f", "lower"),
    ("cpu_percent", "server CPU %", "%.1f", "lower"),
    ("cpu_with_x_percent", "server+Xvfb CPU %", "%.1f", "lower"),
]


def main(build_dir):
    for name in ("Xvfb", "X0tigervnc", "x11vnc"):
        if shutil.which(name) is None:
            print("skipped: %s is not installed (scripts/deps bench)" % name)
            return
    xvfb, display = start_xvfb()
    XVFB_PID[0] = xvfb.pid
    workload = None
    try:
        workload = start([os.path.join(build_dir, "tools", "x-draw"), "--display", display,
                          "workload", "--fps", "60"], stdout=subprocess.PIPE, text=True)
        workload.stdout.readline()
        results = {}
        for name, runner in (("kefu", run_kefu_session), ("kefu-direct", run_kefu),
                             ("x0vncserver", run_x0vncserver), ("x11vnc", run_x11vnc)):
            try:
                results[name] = runner(build_dir, display)
            except Exception as error:  # one peer failing must not hide the others
                print("%s: %s" % (name, error))
        print("workload: %dx%d, square moving 60/s + scrolling text, %d s per server, "
              "%d clicks" % (WIDTH, HEIGHT, SECONDS, CLICKS))
        print("kefu: through a session and the relay; kefu-direct: the same server and view "
              "joined by socketpairs")
        names = [n for n in ("kefu", "kefu-direct", "x0vncserver", "x11vnc") if n in results]
        peers = [n for n in ("x0vncserver", "x11vnc") if n in results]
        header = "%-20s" % "" + "".join("%14s" % n for n in names)
        if "kefu" in results:
            header += "".join("%18s" % ("kefu/" + n) for n in peers)
        print(header)
        for key, label, fmt, _ in ROWS:
            line = "%-20s" % label
            for n in names:
                value = results[n][key]
                if key in ("pixels_per_s", "bytes_per_s"):
                    value /= 1e6
                line += "%14s" % (fmt % value)
            if "kefu" in results:
                for n in peers:
                    peer = results[n][key]
                    line += "%18s" % ("%.2f" % (results["kefu"][key] / peer) if peer > 0
                                      else "-")
            print(line)
        sys.stdout.flush()
    finally:
        if workload is not None:
            stop(workload)
        stop(xvfb)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/default")
