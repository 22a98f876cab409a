# kefu: what installing a driver package costs through kefu (listing, offer check, PackageKit's resolve, simulate and install, verification) next to pkcon on the same packagekitd, and through kefu's apt-get path next to apt-get itself, on the tests' private tree and repository. SPDX-License-Identifier: MIT
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))

RUNS = 5  # installs per figure, each undone with dpkg --purge before the next
PACKAGE = "kefu-test-camera-dkms"


def purge(machine):
    subprocess.run(["dpkg", "--root=" + machine.root, "--admindir=" + machine.root
                    + "/var/lib/dpkg", "--log=/dev/null", "--force-script-chrootless", "--purge",
                    PACKAGE], check=True, capture_output=True, timeout=120)


def timed(machine, args, env):
    times = []
    for _ in range(RUNS):
        start = time.monotonic()
        result = subprocess.run(args, env=env, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=600)
        times.append((time.monotonic() - start) * 1000)
        if result.returncode != 0:
            raise RuntimeError("%s failed: %s" % (args[0], (result.stderr or result.stdout)[-500:]))
        purge(machine)
    return statistics.median(times), min(times)


def main(build_dir):
    if os.geteuid() != 0:
        print("n/a: the apt-get path and packagekitd's namespace need root")
        return
    from conftest import Processes
    from drivers_fixtures import make_driver_machine
    from packagekit_fixtures import PackageKit

    agentd = os.path.join(build_dir, "kefu-agentd")
    tmp = tempfile.mkdtemp(prefix="kefu-bench-drivers-")
    processes = Processes()
    try:
        machine = make_driver_machine(os.path.join(tmp, "machine"),
                                      os.path.join(SOURCE_DIR, "tests", "fixtures", "umockdev"))
        packagekit = PackageKit(processes, machine)
        rows = [
            ("kefu drivers install, PackageKit", timed(machine, [
                agentd, "drivers", "install", "--yes", "--backend", "packagekit", "--root",
                machine.root, PACKAGE], packagekit.env)),
            ("peer: pkcon -y install (same packagekitd)", timed(machine, [
                "pkcon", "--plain", "-y", "install", PACKAGE], packagekit.env)),
            ("kefu drivers install, apt-get", timed(machine, [
                agentd, "drivers", "install", "--yes", "--backend", "apt", "--apt-config",
                machine.apt_conf, "--root", machine.root, PACKAGE], machine.env)),
            ("peer: apt-get -y install (same configuration)", timed(machine, [
                "apt-get", "-q", "-y", "--no-install-recommends", "install", PACKAGE],
                dict(machine.env, APT_CONFIG=machine.apt_conf))),
        ]
        print("One driver package installed into the tests' tree, median and min of %d (ms)"
              % RUNS)
        print("%-48s %8s %8s" % ("", "median", "min"))
        for label, (median, least) in rows:
            print("%-48s %8.1f %8.1f" % (label, median, least))
        print("ratios: kefu / pkcon %.2f; kefu / apt-get %.2f" % (
            rows[0][1][0] / rows[1][1][0], rows[2][1][0] / rows[3][1][0]))
    finally:
        processes.stop_all()
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SOURCE_DIR, "build", "default"))
