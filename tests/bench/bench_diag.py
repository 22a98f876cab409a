# kefu: full diagnostics report time and peak memory next to lshw -json and inxi -Fxz. SPDX-License-Identifier: MIT
#
# Each program runs to completion several times in the same run on the same
# machine; the figure is the median wall time and the largest peak resident
# memory (from wait4). Goal: a full kefu report under 300 ms and at least 5x
# faster than lshw.
import os
import shutil
import statistics
import subprocess
import time

RUNS = {"kefu": 15, "lshw": 3, "inxi": 3}
TIMEOUT = 120


def measure(args, runs):
    """(median seconds, peak RSS in MiB) over runs; None when the tool is missing."""
    if shutil.which(args[0]) is None and not os.path.exists(args[0]):
        return None
    times, peak = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = start + TIMEOUT
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid != 0:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, 9)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        proc.returncode = os.waitstatus_to_exitcode(status)
        times.append(time.perf_counter() - start)
        peak = max(peak, usage.ru_maxrss / 1024.0)
    return statistics.median(times), peak


def main(build_dir):
    kefu = os.path.join(build_dir, "kefu-agentd")
    rows = [
        ("kefu-agentd diag --json", measure([kefu, "diag", "--json"], RUNS["kefu"])),
        ("lshw -json", measure(["lshw", "-json"], RUNS["lshw"])),
        ("inxi -Fxz", measure(["inxi", "-Fxz", "--tty"], RUNS["inxi"])),
    ]
    base = rows[0][1]
    print("%-26s %12s %12s %14s" % ("program", "median ms", "peak MiB", "kefu faster by"))
    for name, figure in rows:
        if figure is None:
            print("%-26s %12s" % (name, "not installed"))
            continue
        ratio = figure[0] / base[0] if base else float("nan")
        print("%-26s %12.1f %12.1f %13.1fx" % (name, figure[0] * 1000, figure[1],
                                                ratio if name != rows[0][0] else 1.0))
    if base:
        print("goal: under 300 ms -> %s; at least 5x faster than lshw -> %s" % (
            "met" if base[0] < 0.3 else "NOT met",
            "met" if rows[1][1] and rows[1][1][0] / base[0] >= 5 else "NOT met"))


if __name__ == "__main__":
    import sys
    main(sys.argv[1] if len(sys.argv) > 1 else "build/default")
