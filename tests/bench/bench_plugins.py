# kefu: what running a plugin step costs (spawn, sandbox, teardown) next to its peers measured
# side by side, and a full scan with every shipped plugin. SPDX-License-Identifier: MIT
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEP_RUNS = 40   # per figure, in one process (tests/tools/step-bench)
SCAN_RUNS = 5    # full scans per --jobs value
GOAL_MS = 20.0   # a sandboxed step, from the issue


def step_figure(tool, mode, plugin, *extra, user=None):
    args = [tool, mode, plugin, str(STEP_RUNS), *extra]
    if user is not None:
        args = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + args
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        return None, result.stderr.strip().splitlines()[-1:] or ["failed"]
    return json.loads(result.stdout), None


def bench_plugin(tmp):
    plugin = os.path.join(tmp, "p")
    os.mkdir(plugin)
    with open(os.path.join(plugin, "plugin.json"), "w") as f:
        json.dump({"format": 1, "id": "bench", "version": "1", "name": "bench",
                   "applies_to": [{"always": True}],
                   "checks": [{"id": "c", "title": "t", "detect": {"run": "d.sh"}}]}, f)
    with open(os.path.join(plugin, "d.sh"), "w") as f:
        f.write("#!/bin/sh\necho '{\"type\":\"result\",\"status\":\"ok\"}'\n")
    os.chmod(os.path.join(plugin, "d.sh"), 0o755)
    return plugin


def fixture_root(tmp):
    """A root and report to which all seven shipped plugins apply."""
    root = os.path.join(tmp, "root")
    for folder in ("etc/systemd", "etc/cups", "var/cache/apt/archives", "etc/modprobe.d"):
        os.makedirs(os.path.join(root, folder))
    with open(os.path.join(root, "etc", "nsswitch.conf"), "w") as f:
        f.write("hosts: files\n")
    report = os.path.join(tmp, "report.json")
    with open(report, "w") as f:
        json.dump({"system": {"os": {"id": "debian", "version_id": "12"}}, "problems": [],
                   "devices": [
                       {"id": "usb:1-1", "bus": "usb", "vendor_id": "046d",
                        "product_id": "c52b", "status": "no-driver"},
                       {"id": "pci:0000:03:00.0", "bus": "pci", "vendor_id": "8086",
                        "product_id": "2723", "status": "failed", "driver": "iwlwifi",
                        "module": {"name": "iwlwifi"}}]}, f)
    return root, report


def scan_figures(agentd, root, report, jobs):
    times, plugins = [], set()
    for _ in range(SCAN_RUNS):
        start = time.monotonic()
        result = subprocess.run([agentd, "scan", "--root", root, "--report", report, "--plugins",
                                 os.path.join(SOURCE_DIR, "diag-plugins"), "--jobs", str(jobs),
                                 "--json"], capture_output=True, text=True, timeout=300,
                                env=dict(os.environ, XDG_STATE_HOME=os.path.join(
                                    os.path.dirname(root), "state")))
        times.append((time.monotonic() - start) * 1000.0)
        plugins = {c["plugin"] for c in json.loads(result.stdout)["checks"]}
    return statistics.median(times), len(plugins)


def main(build_dir):
    tool = os.path.join(build_dir, "tools", "step-bench")
    tmp = tempfile.mkdtemp(prefix="kefu-bench-plugins-")
    try:
        os.chmod(tmp, 0o755)  # the unprivileged runs read the plugin and the tool here
        plugin = bench_plugin(tmp)
        own_tool = os.path.join(tmp, "step-bench")
        shutil.copy(tool, own_tool)
        rows = [
            ("peer: fork + exec of the script", "direct", ()),
            ("peer: bwrap (same mounts) + script", "bwrap", ()),
            ("peer: bwrap + setpriv nobody + script", "bwrap-setpriv", ()),
            ("kefu step, no sandbox", "step", ("--no-sandbox",)),
            ("kefu step, bubblewrap, as root (root: true)", "step-root", ()),
            ("kefu step, bubblewrap, dropped to nobody", "step", ()),
        ]
        figures = {}
        print("Per step: spawn + sandbox + teardown, median of %d runs (ms)" % STEP_RUNS)
        print("%-48s %8s %8s %8s" % ("", "median", "min", "p90"))
        for label, mode, extra in rows:
            fig, error = step_figure(own_tool, mode, plugin, *extra)
            figures[label] = fig
            if fig is None:
                print("%-48s %s" % (label, "n/a: " + error[0]))
            else:
                print("%-48s %8.2f %8.2f %8.2f" % (label, fig["median_ms"], fig["min_ms"],
                                                 fig["p90_ms"]))
        # The agent itself not root: bubblewrap in a user namespace, no cgroup, no drop.
        fig, error = step_figure(own_tool, "step", plugin, user=65534)
        label = "kefu step, bubblewrap, agent runs as nobody"
        figures[label] = fig
        print("%-48s %s" % (label, "n/a: " + error[0] if fig is None else "%8.2f %8.2f %8.2f" % (
            fig["median_ms"], fig["min_ms"], fig["p90_ms"])))

        def ratio(a, b):
            fa, fb = figures.get(a), figures.get(b)
            return fa["median_ms"] / fb["median_ms"] if fa and fb else float("nan")
        print("ratios: no sandbox / fork+exec %.2f; as root / bwrap %.2f; "
              "nobody / bwrap+setpriv %.2f" % (
                  ratio("kefu step, no sandbox", "peer: fork + exec of the script"),
                  ratio("kefu step, bubblewrap, as root (root: true)",
                        "peer: bwrap (same mounts) + script"),
                  ratio("kefu step, bubblewrap, dropped to nobody",
                        "peer: bwrap + setpriv nobody + script")))
        sandboxed = [f["median_ms"] for label, f in figures.items()
                     if f and f["sandboxed"]]
        if sandboxed:
            print("goal: a sandboxed step under %.0f ms: %s (slowest median %.2f ms)" % (
                GOAL_MS, "met" if max(sandboxed) < GOAL_MS else "NOT met", max(sandboxed)))

        root, report = fixture_root(tmp)
        agentd = os.path.join(build_dir, "kefu-agentd")
        one, n = scan_figures(agentd, root, report, 1)
        four, _ = scan_figures(agentd, root, report, 4)
        print()
        print("kefu-agentd scan, %d shipped plugins applying, detect only, median of %d (ms)"
              % (n, SCAN_RUNS))
        print("%-48s %8.1f" % ("--jobs 1", one))
        print("%-48s %8.1f  ratio %.2f (2 cores)" % ("--jobs 4", four, four / one))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    import sys
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SOURCE_DIR, "build", "default"))
