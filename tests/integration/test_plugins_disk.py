# kefu: disk-full-reclaimable against a small tmpfs in a private mount namespace. SPDX-License-Identifier: MIT
import json
import os
import shutil

import pytest

from conftest import SOURCE_DIR, program, run

PLUGIN = os.path.join(SOURCE_DIR, "diag-plugins", "disk-full-reclaimable")

# Inside `unshare -m`: a 4 MiB tmpfs as the root, filled as asked, then kefu-plugin test.
SCRIPT = """set -e
mount --make-rprivate /
mount -t tmpfs -o size=4m kefu-test "$1"
mkdir -p "$1/var/cache/apt/archives" "$1/home"
head -c "$2" /dev/zero > "$1/home/data"
head -c "$3" /dev/zero > "$1/var/cache/apt/archives/pkg_1.0_amd64.deb"
shift 3
"$@"
echo "LEFT $(ls "$MNT/var/cache/apt/archives" | wc -l) $(wc -c < "$MNT/home/data")"
"""


def run_in_namespace(tmp_path, data_bytes, cache_bytes, *args):
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare for a private mount")
    mnt = tmp_path / "root"
    mnt.mkdir()
    cmd = [program("kefu-plugin"), "test", "--json", "--root", str(mnt), *args, PLUGIN]
    env = dict(os.environ, MNT=str(mnt))
    result = run(["unshare", "-m", "sh", "-c", SCRIPT, "sh", str(mnt), str(data_bytes),
                  str(cache_bytes), *cmd], env=env)
    out, left = result.stdout.rsplit("LEFT", 1)
    return json.loads(out)["steps"], left.split()


def test_full_disk_with_package_files_is_detected_repaired_and_verified(tmp_path):
    steps, left = run_in_namespace(tmp_path, 2 * 1024 * 1024, 1800 * 1024, "--fix")
    assert [(s["step"], s["outcome"]) for s in steps] == [
        ("detect", "problem"), ("repair", "ok"), ("verify", "ok")]
    assert steps[0]["events"][0]["severity"] == "warning"
    assert left == ["0", str(2 * 1024 * 1024)]  # package files gone, user data untouched


def test_disk_with_room_reports_nothing_and_changes_nothing(tmp_path):
    steps, left = run_in_namespace(tmp_path, 100 * 1024, 100 * 1024, "--fix")
    assert [(s["step"], s["outcome"]) for s in steps] == [("detect", "ok")]
    assert left == ["1", str(100 * 1024)]
