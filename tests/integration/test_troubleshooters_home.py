# kefu: home-folder, accounts written from passwd(5) and adduser.conf(5); owners and modes
# read back with os.stat, a full home disk made as a tmpfs in a private mount namespace.
# SPDX-License-Identifier: MIT
import json
import os
import shutil
import stat

import pytest

from conftest import program, run
from plugin_trees import PLUGINS, base_tree, fix_only, healthy_only, report, write

PLUGIN = "home-folder"


def need_root():
    if os.geteuid() != 0:
        pytest.skip("owners and the repair need root")


def home(root, *parts):
    return os.path.join(root, "home/ana", *parts)


def belongs(root, uid=1000):
    st = os.stat(home(root))
    if st.st_uid != uid or st.st_mode & 0o700 != 0o700:
        return False
    for d, dirs, files in os.walk(home(root)):
        for n in dirs + files:
            if os.lstat(os.path.join(d, n)).st_uid == 0:
                return False
    return True


def root_file(root, path):
    os.chmod(home(root), 0o755)  # adduser's DIR_MODE before Debian 12: others may look in
    full = write(root, "/home/ana/" + path, "root's\n")
    os.chown(full, 0, 0)
    os.chown(os.path.dirname(full), 0, 0) if os.path.dirname(full) != home(root) else None


FAULTS = {
    "missing": lambda r: shutil.rmtree(home(r)),
    "owned-by-root": lambda r: os.chown(home(r), 0, 0),
    "owned-by-another": lambda r: os.chown(home(r), 1001, 1001),
    "not-writable": lambda r: os.chmod(home(r), 0o500),
    "root-owned-config": lambda r: root_file(r, ".config/pulse/cookie"),
    "root-owned-xauthority": lambda r: root_file(r, ".Xauthority"),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_home_folder_is_given_back(tmp_path, name):
    need_root()
    root = base_tree(tmp_path)
    write(root, "/etc/skel/.bashrc", "# ~/.bashrc\n")
    FAULTS[name](root)
    fix_only(tmp_path, root, PLUGIN)
    assert belongs(root)
    if name == "missing":
        assert stat.S_IMODE(os.stat(home(root)).st_mode) == 0o700  # adduser's DIR_MODE
        assert os.stat(home(root, ".bashrc")).st_uid == 1000


HEALTHY = {
    "debian": lambda r: None,
    "group-readable": lambda r: os.chmod(home(r), 0o750),
    "system-accounts-without-homes": lambda r: write(
        r, "/etc/passwd", open(os.path.join(r, "etc/passwd")).read() +
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        "_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n"
        "backup:x:34:34:backup:/var/backups:/usr/sbin/nologin\n"),
    "no-login-account-without-home": lambda r: write(
        r, "/etc/passwd", open(os.path.join(r, "etc/passwd")).read() +
        "kiosk:x:1001:1001::/home/kiosk:/usr/sbin/nologin\n"),
    "home-elsewhere": lambda r: (
        os.makedirs(os.path.join(r, "srv/users/bo")), os.chown(os.path.join(r, "srv/users/bo"),
                                                             1002, 1002),
        write(r, "/etc/passwd", open(os.path.join(r, "etc/passwd")).read() +
              "bo:x:1002:1002:Bo:/srv/users/bo:/bin/zsh\n")),
}


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_home_folders_that_are_right_are_left_alone(tmp_path, name):
    need_root()
    root = base_tree(tmp_path)
    HEALTHY[name](root)
    healthy_only(tmp_path, root, PLUGIN)


FULL = """set -e
mount --make-rprivate /
mount -t tmpfs -o size=4m kefu-home "$ROOT/home"
mkdir -p "$ROOT/home/ana/.cache/thumbnails/large" "$ROOT/home/ana/.local/share/Trash/files" \
  "$ROOT/home/ana/.local/share/Trash/info" "$ROOT/home/ana/Documents"
head -c "$BIG" /dev/zero > "$ROOT/home/ana/.cache/thumbnails/large/a.png"
head -c "$BIG" /dev/zero > "$ROOT/home/ana/.local/share/Trash/files/old.iso"
printf '[Trash Info]\\nPath=/home/ana/old.iso\\nDeletionDate=2020-01-02T03:04:05\\n' \
  > "$ROOT/home/ana/.local/share/Trash/info/old.iso.trashinfo"
head -c 200000 /dev/zero > "$ROOT/home/ana/.local/share/Trash/files/recent.odt"
printf '[Trash Info]\\nPath=/home/ana/recent.odt\\nDeletionDate=%s\\n' "$(date +%Y-%m-%dT%H:%M:%S)" \
  > "$ROOT/home/ana/.local/share/Trash/info/recent.odt.trashinfo"
head -c "$DOCS" /dev/zero > "$ROOT/home/ana/Documents/thesis.odt"
chown -R 1000:1000 "$ROOT/home/ana"
"$@" > "$OUT" || true
df -B1 --output=avail "$ROOT/home" | tail -1 > "$OUT.free"
find "$ROOT/home/ana" -type f -printf '%f\\n' > "$OUT.left"
"""


def full_home(tmp_path, docs, *args, big=1500000):
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare for a private mount")
    root = base_tree(tmp_path)
    out = str(tmp_path / "out.json")
    env = dict(os.environ, ROOT=root, DOCS=str(docs), OUT=out, BIG=str(big),
               XDG_STATE_HOME=str(tmp_path / "state"))
    cmd = [program("kefu-agentd"), "scan", "--json", "--root", root, "--report",
           report(tmp_path), "--plugins", PLUGINS, "--only", "home-full", *args]
    result = run(["unshare", "-m", "sh", "-c", FULL, "sh", *cmd], env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    check, = json.load(open(out))["checks"]
    return check, int(open(out + ".free").read()), open(out + ".left").read().split()


def test_full_home_gets_room_from_caches_and_old_trash_only(tmp_path):
    check, free, left = full_home(tmp_path, 600000, "--fix", "--yes")
    assert check["state"] == "fixed", check
    assert free >= 1 << 20
    assert "thesis.odt" in left and "recent.odt" in left
    assert "a.png" not in left and "old.iso" not in left and "old.iso.trashinfo" not in left


def test_full_home_is_found(tmp_path):
    check, free, left = full_home(tmp_path, 600000)
    assert check["state"] == "problem"
    assert "old.iso" in left


def test_home_with_room_is_left_alone(tmp_path):
    check, free, left = full_home(tmp_path, 10000, "--fix", "--yes", big=100000)
    assert check["state"] == "healthy"
    assert "a.png" in left and "old.iso" in left
