#!/usr/bin/python3
# kefu plugin tmp-folder: the shared temporary folders' permissions, owner and room;
# `repair` gives them back, `repair-full` removes what nobody used for ten days.
# SPDX-License-Identifier: MIT
"""The Filesystem Hierarchy Standard (3.18, 5.15) and Debian's tmpfiles.d tmp.conf: /tmp and
/var/tmp are folders owned by root with mode 1777 (everyone may create files, the sticky bit
lets only a file's owner remove it). A link in place of one is followed inside the examined
root, and its target must be such a folder. Cleaning follows tmpfiles.d(5)'s age rule for
/tmp: a file older than the age by both its access and its modification time goes (the
change time is not used: metadata changes are not use); sockets, folders and the private
folders of services stay."""
import os
import stat
import sys
import time

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

FOLDERS = ("/tmp", "/var/tmp")
MODE = 0o1777
AGE_DAYS = 10
MIN_FREE = 1 << 20
MIN_FREE_SHARE = 0.02
KEEP_PREFIXES = ("systemd-private-", ".X11-unix", ".ICE-unix", ".XIM-unix", ".font-unix",
                 ".Test-unix", "ssh-", "pulse-", ".X")


def folder_problem(root, path):
    try:
        st = root.stat(path)
    except OSError:
        return "%s is missing" % path
    if not stat.S_ISDIR(st.st_mode):
        return "%s is not a folder" % path
    mode = stat.S_IMODE(st.st_mode)
    wrong = []
    if mode != MODE:
        wrong.append("its permissions are %04o instead of 1777" % mode)
    if st.st_uid != 0 or st.st_gid != 0:
        wrong.append("it belongs to user %d, group %d instead of root" % (st.st_uid, st.st_gid))
    return "%s: %s" % (path, " and ".join(wrong)) if wrong else None


def room(root):
    """(free bytes, total bytes, free share) of the file system holding /tmp."""
    v = os.statvfs(root.host("/tmp"))
    total = v.f_blocks * v.f_frsize
    free = v.f_bavail * v.f_frsize
    inodes = v.f_favail / v.f_files if v.f_files else 1.0
    return free, total, min(free / total if total else 1.0, inodes)


def is_full(root):
    free, total, share = room(root)
    return free < MIN_FREE or share < MIN_FREE_SHARE


def open_files():
    """(dev, inode) of every file a process has open, on the running system."""
    held = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                try:
                    st = os.stat("/proc/%s/fd/%s" % (pid, fd))
                    held.add((st.st_dev, st.st_ino))
                except OSError:
                    pass
        except OSError:
            pass
    return held


def old_files(root):
    cutoff = time.time() - AGE_DAYS * 86400
    held = open_files() if root.top == "/" else set()
    out = []
    for name in root.listdir("/tmp"):
        if name.startswith(KEEP_PREFIXES):
            continue
        path = "/tmp/" + name
        files = [(path, root.lstat(path))] if not root.is_dir(path) or root.is_link(path) \
            else list(root.walk_files(path))
        for p, st in files:
            if stat.S_ISREG(st.st_mode) and max(st.st_atime, st.st_mtime) < cutoff and \
                    (st.st_dev, st.st_ino) not in held:
                out.append((p, st.st_size))
    return out


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if not root.is_dir("/etc"):
        result("not-applicable", "no /etc")
        return NOT_APPLICABLE
    if mode in ("detect", "repair"):
        problems = [p for p in (folder_problem(root, f) for f in FOLDERS) if p]
        if mode == "detect" or not problems:
            if not problems:
                result("ok" if mode == "detect" else "fixed", "the temporary folders are usable")
                return OK
            finding("error", "Programs cannot use the temporary folder", "; ".join(problems))
            result("problem")
            return PROBLEM
        for path in FOLDERS:
            if folder_problem(root, path) is None:
                continue
            host = root.host(path)
            if os.path.lexists(host) and not os.path.isdir(host):
                result("failed", "%s is a file, not a folder; it is left for a technician" % path)
                return PROBLEM
            os.makedirs(host, exist_ok=True)
            os.chown(host, 0, 0)
            os.chmod(host, MODE)
        result("fixed", "/tmp and /var/tmp have their permissions back")
        return OK
    if not root.is_dir("/tmp"):
        result("not-applicable", "no /tmp")
        return NOT_APPLICABLE
    free, total, _ = room(root)
    if not is_full(root):
        result("ok", "%d MiB free in /tmp" % (free >> 20))
        return OK
    old = old_files(root)
    if mode == "detect-full":
        finding("error", "The temporary folder is full (%d KiB free of %d MiB)"
                % (free >> 10, total >> 20),
                "%d files nobody used for %d days would free %d KiB" % (
                    len(old), AGE_DAYS, sum(s for _, s in old) >> 10))
        result("problem")
        return PROBLEM
    removed = 0
    for path, _ in old:
        try:
            os.unlink(root.host_nofollow(path))
            removed += 1
        except OSError:
            pass
    if is_full(root):
        biggest = sorted(((st.st_size, p) for p, st in root.walk_files("/tmp")), reverse=True)[:5]
        result("failed", "removed %d old files, still full; the largest are %s" % (
            removed, ", ".join("%s (%d KiB)" % (p, s >> 10) for s, p in biggest)))
        return PROBLEM
    result("fixed", "removed %d temporary files unused for %d days" % (removed, AGE_DAYS))
    return OK


if __name__ == "__main__":
    sys.exit(main())
