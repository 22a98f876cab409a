# kefu: the screen share on a customer's home link, next to TigerVNC's x0vncserver and x11vnc.
# SPDX-License-Identifier: MIT
#
# The customer's side (kefu-agentd share, or x0vncserver, or x11vnc, each on the same Xvfb
# and workload as bench_screen) runs in a network namespace this benchmark creates, behind a
# shaped link (shaped_link.py): 5 Mbit/s down to the technician, 1 Mbit/s up, 40 ms round
# trip, 1 % of packets lost each way. The technician's side stays outside: for kefu, the
# stock OpenSSH relay listens on the link's far end, so the agent's session crosses the link
# once, and kefu-console join's loopback view is watched by the viewer; the peers' viewers
# connect across the same link. The viewer is the same libvncclient client as bench_screen
# (tests/tools/vnc-bench.c), run twice per server with the two encodings a viewer asks for:
#   Tight+JPEG: "tight zrle copyrect raw" with JPEG quality level QUALITY;
#   ZRLE:       "zrle copyrect raw", lossless only.
# Two workloads: bench_screen's desktop (a moving square and scrolling text: few colours, which
# no encoding sends as JPEG) with both encodings, and the same with a 320x240 video (a new
# picture of gradients and grain 15 times a second, x-draw --video) with Tight+JPEG, where the
# encoder's quality decides what the link can carry.
# kefu's view runs with its default --quality auto. Figures per server and encoding: updates/s,
# bytes per update, the key-to-pixel latency (the key crosses the link up, the pixel down),
# the share of changed pixels delivered and the difference left once the picture settles
# (a lossy picture that is never refreshed losslessly keeps a difference).
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import bench_screen as screen  # noqa: E402
from shaped_link import ShapedLink  # noqa: E402

QUALITY = 6
KEYS = 30
CHECKS = 5
ENCODINGS = (
    ("Tight+JPEG", ["--encodings", "tight zrle copyrect raw", "--quality", str(QUALITY)]),
    ("ZRLE", ["--encodings", "zrle copyrect raw"]),
)
WORKLOADS = (
    ("desktop", [], ("Tight+JPEG", "ZRLE")),
    ("video", ["--video", "320x240"], ("Tight+JPEG",)),
)
PORT = 5900  # the namespace is ours alone


def wait_port(host, port, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(1)
            if sock.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.1)
    return False


def measure(build, proc, address, password, extra):
    return screen.measure(build, proc, address, password, extra, keys=KEYS, checks=CHECKS)


def run_kefu(build, link, display, extra):
    os.environ["KEFU_BUILD"] = build
    from conftest import Processes
    from session_fixtures import Support

    processes = Processes()
    directory = tempfile.mkdtemp(prefix="kefu-bench-homelink-")
    support = None
    previous_display = os.environ.get("DISPLAY")
    try:
        support = Support(processes, directory, relay_host=link.host_ip)
        os.environ["DISPLAY"] = display
        agent = support.start_agent(prefix=["ip", "netns", "exec", link.namespace])
        console = support.start_console(agent.code, "--json")
        screen.console_event(console, "connected")
        for capability, question in (("view", "asks to see your screen"),
                                     ("control", "asks to use your keyboard")):
            console.stdin.write("request %s\n" % capability)
            console.stdin.flush()
            agent.wait_for(question, timeout=60)
            agent.say("y")
            if not screen.console_event(console, "consent")["granted"]:
                raise RuntimeError("%s was not granted" % capability)
        console.stdin.write("view --no-viewer\n")
        console.stdin.flush()
        view = screen.console_event(console, "view")
        return measure(build, agent.proc, view["address"], view["password"], extra)
    finally:
        if previous_display is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous_display
        processes.stop_all()
        if support is not None:
            support.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


def run_peer(build, link, args, extra):
    proc = screen.start(["ip", "netns", "exec", link.namespace] + args)
    try:
        if not wait_port(link.inside_ip, PORT):
            raise RuntimeError("%s did not listen" % args[0])
        return measure(build, proc, "%s:%d" % (link.inside_ip, PORT), None, extra)
    finally:
        screen.stop(proc)


def run_x0vncserver(build, link, display, extra):
    return run_peer(build, link, ["X0tigervnc", "-display", display, "-rfbport", str(PORT),
                                  "-SecurityTypes", "None"], extra)


def run_x11vnc(build, link, display, extra):
    return run_peer(build, link, ["x11vnc", "-display", display, "-rfbport", str(PORT),
                                  "-nopw", "-shared", "-forever", "-quiet", "-noipv6"], extra)


# key, label, format, scale, is a ratio to the peer meaningful
ROWS = [
    ("updates_per_s", "updates/s", "%.1f", 1, True),
    ("kbytes_per_s", "kB/s received", "%.0f", 1, True),
    ("bytes_per_update", "bytes per update", "%.0f", 1, True),
    ("delivered_share", "changed px delivered %", "%.2f", 100, True),
    ("final_diff", "final fb diff px", "%d", 1, False),
    ("settle_ms_max", "slowest settle ms", "%.0f", 1, True),
    ("first_frame_ms", "first frame ms", "%.0f", 1, True),
    ("latency_p50_ms", "key-to-pixel p50 ms", "%.1f", 1, True),
    ("latency_p95_ms", "key-to-pixel p95 ms", "%.1f", 1, True),
    ("latency_samples", "key presses seen", "%d", 1, False),
    ("cpu_percent", "server CPU %", "%.1f", 1, True),
]

SERVERS = (("kefu", run_kefu, "kefu-agentd"), ("x0vncserver", run_x0vncserver, "X0tigervnc"),
           ("x11vnc", run_x11vnc, "x11vnc"))


def print_table(results, workload, encodings):
    columns = [(n, e) for e in encodings for n, _, _ in SERVERS if (workload, n, e) in results]
    if not columns:
        return
    print("-- %s" % workload)
    header = "%-24s" % "" + "".join("%18s" % ("%s %s" % (n, e)) for n, e in columns)
    ratios = [e for e in encodings
              if (workload, "kefu", e) in results and (workload, "x0vncserver", e) in results]
    header += "".join("%22s" % ("kefu/x0vnc %s" % e) for e in ratios)
    print(header)
    for key, label, fmt, scale, is_ratio in ROWS:
        line = "%-24s" % label
        for n, e in columns:
            value = results[(workload, n, e)].get(key)
            line += "%18s" % ("-" if value is None or value < 0 else fmt % (value * scale))
        for e in ratios:
            mine = results[(workload, "kefu", e)].get(key)
            peer = results[(workload, "x0vncserver", e)].get(key)
            line += "%22s" % ("%.2f" % (mine / peer) if is_ratio and mine is not None
                              and peer and peer > 0 and mine >= 0 else "-")
        print(line)
    for n, e in columns:
        note = screen.difference_note(results[(workload, n, e)])
        if note:
            print("%s %s: %s" % (n, e, note))


def main(build_dir):
    if shutil.which("Xvfb") is None:
        print("skipped: Xvfb is not installed (scripts/deps bench)")
        return
    if os.geteuid() != 0:
        print("skipped: the shaped link needs network namespaces and the relay runs sshd as "
              "root; run make bench as root")
        return
    xvfb, display = screen.start_xvfb()
    screen.XVFB_PID[0] = xvfb.pid
    screen.DISPLAY[0] = display
    workload = link = None
    results = {}
    try:
        link = ShapedLink(down_kbit=5000, up_kbit=1000, rtt_ms=40, loss=0.01)
        for workload_name, workload_args, encodings in WORKLOADS:
            workload = screen.start([os.path.join(build_dir, "tools", "x-draw"), "--display",
                                     display, "workload", "--fps", "60"] + workload_args,
                                    stdout=subprocess.PIPE, text=True)
            workload.stdout.readline()
            screen.WORKLOAD_PID[0] = workload.pid
            for encoding, extra in ENCODINGS:
                if encoding not in encodings:
                    continue
                for name, runner, program in SERVERS:
                    if name != "kefu" and shutil.which(program) is None:
                        continue
                    try:
                        figures = runner(build_dir, link, display, extra)
                    except Exception as error:  # one peer failing must not hide the others
                        print("%s %s %s: %s" % (workload_name, name, encoding, error))
                        continue
                    figures["kbytes_per_s"] = figures["bytes_per_s"] / 1000
                    figures["bytes_per_update"] = (
                        figures["bytes_per_s"] / figures["updates_per_s"]
                        if figures["updates_per_s"] > 0 else -1)
                    results[(workload_name, name, encoding)] = figures
            screen.os.kill(workload.pid, screen.signal.SIGCONT)
            screen.stop(workload)
            workload = None
        print("link: %s" % link.describe())
        print("workloads: %dx%d; desktop = square moving 60/s + scrolling text; video = the same "
              "+ a new 320x240 picture 15/s; %d s per server, %d key presses, %d stops compared "
              "pixel for pixel with the X server"
              % (screen.WIDTH, screen.HEIGHT, screen.SECONDS, KEYS, CHECKS))
        print("viewer encodings: Tight+JPEG = tight zrle copyrect raw, JPEG quality %d; "
              "ZRLE = zrle copyrect raw (lossless); kefu's view: --quality auto" % QUALITY)
        stats = link.statistics()
        if stats:
            print("link packets: down %(down_packets)d passed, %(down_dropped)d dropped; "
                  "up %(up_packets)d passed, %(up_dropped)d dropped" % stats)
        for workload_name, _, encodings in WORKLOADS:
            print_table(results, workload_name, encodings)
        sys.stdout.flush()
        if os.environ.get("KEFU_BENCH_JSON"):
            with open(os.environ["KEFU_BENCH_JSON"], "w") as out:
                json.dump({" ".join(k): v for k, v in results.items()}, out, indent=1)
    finally:
        if workload is not None:
            screen.os.kill(workload.pid, screen.signal.SIGCONT)
            screen.stop(workload)
        if link is not None:
            link.close()
        screen.stop(xvfb)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/default")
