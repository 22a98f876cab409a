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
mkdir -p "$1/etc" "$1/home/ana/.local/share/Trash/files" "$1/home/ana/.local/share/Trash/info"
echo 'ana:x:1000:1000:Ana:/home/ana:/bin/bash' > "$1/etc/passwd"
if [ "$TRASH" -gt 0 ]; then
	head -c "$TRASH" /dev/zero > "$1/home/ana/.local/share/Trash/files/old.iso"
	printf '[Trash Info]\nPath=/home/ana/old.iso\nDeletionDate=2020-01-02T03:04:05\n' \
		> "$1/home/ana/.local/share/Trash/info/old.iso.trashinfo"
	printf 'x' > "$1/home/ana/.local/share/Trash/files/new.txt"
	printf '[Trash Info]\nPath=/home/ana/new.txt\nDeletionDate=%s\n' "$(date +%Y-%m-%dT%H:%M:%S)" \
		> "$1/home/ana/.local/share/Trash/info/new.txt.trashinfo"
fi
shift 3
"$@"
echo "LEFT $(ls "$MNT/var/cache/apt/archives" | wc -l) $(wc -c < "$MNT/home/data") $(ls "$MNT/home/ana/.local/share/Trash/files" | tr '\n' ,)"
"""


def run_in_namespace(tmp_path, data_bytes, cache_bytes, *args, trash=0, check="apt-cache"):
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare for a private mount")
    mnt = tmp_path / "root"
    mnt.mkdir()
    cmd = [program("kefu-plugin"), "test", "--json", "--root", str(mnt), *args, PLUGIN]
    env = dict(os.environ, MNT=str(mnt), TRASH=str(trash))
    result = run(["unshare", "-m", "sh", "-c", SCRIPT, "sh", str(mnt), str(data_bytes),
                  str(cache_bytes), *cmd], env=env)
    out, left = result.stdout.rsplit("LEFT", 1)
    return [s for s in json.loads(out)["steps"] if s["check"] == check], left.split()


def test_full_disk_with_package_files_is_detected_repaired_and_verified(tmp_path):
    steps, left = run_in_namespace(tmp_path, 2 * 1024 * 1024, 1800 * 1024, "--fix")
    assert [(s["step"], s["outcome"]) for s in steps] == [
        ("detect", "problem"), ("repair", "ok"), ("verify", "ok")]
    assert steps[0]["events"][0]["severity"] == "warning"
    assert left[:2] == ["0", str(2 * 1024 * 1024)]  # package files gone, user data untouched


def test_disk_with_room_reports_nothing_and_changes_nothing(tmp_path):
    steps, left = run_in_namespace(tmp_path, 100 * 1024, 100 * 1024, "--fix")
    assert [(s["step"], s["outcome"]) for s in steps] == [("detect", "ok")]
    assert left[:2] == ["1", str(100 * 1024)]


def test_trash_deleted_long_ago_is_emptied_only_as_its_own_fix(tmp_path):
    # The disk is full of the person's data and old trash; the package cache is small.
    steps, left = run_in_namespace(tmp_path, 2000 * 1024, 10 * 1024, "--fix",
                                   trash=1800 * 1024, check="trash-old")
    assert [(s["step"], s["outcome"]) for s in steps] == [
        ("detect", "problem"), ("repair", "ok"), ("verify", "ok")]
    assert left[1] == str(2000 * 1024)  # the person's own files stay
    assert left[2] == "new.txt,"  # only what was deleted more than 30 days ago went


def test_old_trash_on_a_disk_with_room_is_left_alone(tmp_path):
    steps, left = run_in_namespace(tmp_path, 100 * 1024, 10 * 1024, "--fix", trash=500 * 1024,
                                   check="trash-old")
    assert [(s["step"], s["outcome"]) for s in steps] == [("detect", "ok")]
    assert left[2] == "new.txt,old.iso,"
