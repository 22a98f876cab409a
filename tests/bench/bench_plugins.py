# kefu: per-step overhead of plugin steps with and without bubblewrap, and a full scan. SPDX-License-Identifier: MIT
import json
import os
import shutil
import subprocess
import tempfile
import time

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNS = 20


def timed(args, runs=RUNS):
    start = time.monotonic()
    for _ in range(runs):
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return (time.monotonic() - start) / runs * 1000.0


def main(build_dir):
    tmp = tempfile.mkdtemp(prefix="kefu-bench-plugins-")
    try:
        plugin = os.path.join(tmp, "p")
        os.mkdir(plugin)
        with open(os.path.join(plugin, "plugin.json"), "w") as f:
            json.dump({"format": 1, "id": "bench", "version": "1", "name": "bench",
                       "applies_to": [{"always": True}],
                       "checks": [{"id": "c", "title": "t", "detect": {"run": "d.sh"}}]}, f)
        script = os.path.join(plugin, "d.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho '{\"type\":\"result\",\"status\":\"ok\"}'\n")
        os.chmod(script, 0o755)
        tool = os.path.join(build_dir, "kefu-plugin")
        bare = timed([script])
        plain = timed([tool, "test", "--no-sandbox", plugin])
        sandboxed = timed([tool, "test", plugin]) if shutil.which("bwrap") else None
        root = os.path.join(tmp, "root")
        os.makedirs(os.path.join(root, "etc"))
        with open(os.path.join(root, "etc", "nsswitch.conf"), "w") as f:
            f.write("hosts: files dns\n")
        scan = timed([os.path.join(build_dir, "kefu-agentd"), "scan", "--root", root,
                      "--plugins", os.path.join(SOURCE_DIR, "diag-plugins")], runs=5)
        print("%-44s %10s" % ("figure (ms, mean of runs)", "value"))
        print("%-44s %10.2f" % ("script run directly (peer)", bare))
        print("%-44s %10.2f  ratio %.2f" % ("kefu-plugin test, no sandbox", plain, plain / bare))
        if sandboxed is not None:
            print("%-44s %10.2f  ratio %.2f" % ("kefu-plugin test, bubblewrap", sandboxed,
                                                sandboxed / bare))
        else:
            print("bubblewrap not installed: sandboxed figure skipped")
        print("%-44s %10.2f" % ("kefu-agentd scan (diag + shipped plugins)", scan))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    import sys
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SOURCE_DIR, "build", "default"))
