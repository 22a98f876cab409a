#!/usr/bin/python3
# kefu plugin home-folder: each person's home folder there, theirs, writable and with room;
# the repairs give it back or make room. SPDX-License-Identifier: MIT
"""passwd(5): name:password:UID:GID:gecos:home:shell. Debian's adduser.conf(5): people have
UIDs FIRST_UID..LAST_UID (1000..59999), their home is made from /etc/skel with DIR_MODE, and
belongs to them and their primary group. A login shell of /usr/sbin/nologin or /bin/false
marks an account nobody logs in with. Files an administrator's program wrote into a home
(`sudo` keeping HOME) belong to root and stop the person's own programs from saving. The
XDG base directory specification puts disposable caches in ~/.cache; the freedesktop.org
trash specification keeps deleted files in ~/.local/share/Trash/files with a .trashinfo
(DeletionDate=) in info/."""
import os
import re
import shutil
import stat
import sys
import time

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

FIRST_UID, LAST_UID = 1000, 59999
NO_LOGIN = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false")
DEPTH = 3
MIN_FREE, MIN_FREE_SHARE = 1 << 20, 0.02
TRASH_DAYS = 30


def people(root):
    out = []
    for line in (root.read_text("/etc/passwd") or "").splitlines():
        f = line.split(":")
        if len(f) != 7 or not f[2].isdigit() or not f[3].isdigit():
            continue
        uid = int(f[2])
        if FIRST_UID <= uid <= LAST_UID and f[6] not in NO_LOGIN and f[5] not in ("", "/") \
                and not f[5].startswith("/nonexistent"):
            out.append((f[0], uid, int(f[3]), f[5]))
    return out


def dir_mode(root):
    m = re.search(r"(?m)^\s*DIR_MODE\s*=\s*([0-7]+)", root.read_text("/etc/adduser.conf") or "")
    return int(m.group(1), 8) if m else 0o700


def foreign_files(root, home, uid, limit=200):
    """Files and folders near the top of HOME that root owns (as far as we may look)."""
    out, stack = [], [(root.host(home), 0)]
    while stack and len(out) < limit:
        folder, depth = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            if st.st_uid == 0 and uid != 0:
                out.append(root.system(e.path))
            if stat.S_ISDIR(st.st_mode) and depth + 1 < DEPTH:
                stack.append((e.path, depth + 1))
    return out


def owner_problems(root):
    found = []
    for name, uid, gid, home in people(root):
        try:
            st = root.stat(home)
        except OSError:
            found.append((name, "missing", "%s's home folder %s is missing" % (name, home)))
            continue
        if not stat.S_ISDIR(st.st_mode):
            found.append((name, "not-folder", "%s's home %s is not a folder" % (name, home)))
        elif st.st_uid != uid:
            found.append((name, "owner", "%s's home folder %s belongs to user %d" % (
                name, home, st.st_uid)))
        elif st.st_mode & 0o700 != 0o700:
            found.append((name, "mode", "%s cannot write in the home folder %s (mode %04o)" % (
                name, home, stat.S_IMODE(st.st_mode))))
        else:
            foreign = foreign_files(root, home, uid)
            if foreign:
                found.append((name, "files", "%d files in %s's home belong to root (%s)" % (
                    len(foreign), name, ", ".join(foreign[:3]))))
    return found


def chown_tree(root, home, uid, gid):
    host = root.host(home)
    os.lchown(host, uid, gid)
    for path in foreign_files(root, home, uid, limit=100000):
        os.lchown(root.host_nofollow(path), uid, gid)


def repair_owner(root, found):
    by_name = {p[0]: p for p in people(root)}
    for name, kind, _ in found:
        _, uid, gid, home = by_name[name]
        host = root.host(home)
        if kind == "missing":
            skel = root.host("/etc/skel")
            if os.path.isdir(skel):
                shutil.copytree(skel, host, symlinks=True)
            else:
                os.makedirs(host)
            os.chmod(host, dir_mode(root))
            for d, dirs, files in os.walk(host):
                for n in [d] + [os.path.join(d, x) for x in dirs + files]:
                    os.lchown(n, uid, gid)
        elif kind == "not-folder":
            return "%s's home is a file; a technician should look at it" % name
        elif kind == "mode":
            os.chmod(host, stat.S_IMODE(os.stat(host).st_mode) | 0o700)
        else:
            chown_tree(root, home, uid, gid)
    return None


def room(root, path):
    v = os.statvfs(root.host(path))
    total, free = v.f_blocks * v.f_frsize, v.f_bavail * v.f_frsize
    return free, total, (free / total) if total else 1.0


def full_homes(root):
    seen, out = set(), []
    for name, uid, gid, home in people(root):
        if not root.is_dir(home):
            continue
        dev = root.stat(home).st_dev
        free, total, share = room(root, home)
        if dev not in seen and (free < MIN_FREE or share < MIN_FREE_SHARE):
            seen.add(dev)
            out.append((name, home, free, total))
    return out


def disposable(root, home):
    """(system path, size) of cache files and of trash deleted over TRASH_DAYS ago."""
    out = [(p, st.st_size) for p, st in root.walk_files(home + "/.cache")]
    trash = home + "/.local/share/Trash"
    cutoff = time.time() - TRASH_DAYS * 86400
    for info in root.listdir(trash + "/info"):
        if not info.endswith(".trashinfo"):
            continue
        m = re.search(r"(?m)^DeletionDate=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)",
                      root.read_text(trash + "/info/" + info) or "")
        if not m or time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) > cutoff:
            continue
        item = trash + "/files/" + info[:-len(".trashinfo")]
        size = sum(st.st_size for _, st in root.walk_files(item)) if root.is_dir(item) else \
            (root.lstat(item).st_size if root.lexists(item) else 0)
        out.append((item, size))
        out.append((trash + "/info/" + info, 0))
    return out


def remove(root, path):
    host = root.host_nofollow(path)
    if os.path.isdir(host) and not os.path.islink(host):
        shutil.rmtree(host, ignore_errors=True)
    elif os.path.lexists(host):
        os.unlink(host)


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if not people(root):
        result("not-applicable", "no person's account")
        return NOT_APPLICABLE
    if mode in ("detect", "repair"):
        found = owner_problems(root)
        if not found:
            result("ok" if mode == "detect" else "fixed", "every home folder is its user's")
            return OK
        if mode == "detect":
            finding("error", "A home folder is missing or not its user's",
                    "; ".join(w for _, _, w in found))
            result("problem")
            return PROBLEM
        failure = repair_owner(root, found)
        if failure:
            result("failed", failure)
            return PROBLEM
        result("fixed", "the home folders belong to their users")
        return OK
    full = full_homes(root)
    if not full:
        result("ok", "the home folders have room")
        return OK
    if mode == "detect-full":
        for name, home, free, total in full:
            gain = sum(s for _, s in disposable(root, home))
            finding("error", "The disk with %s's home folder is full (%d KiB free)" % (
                name, free >> 10), "caches and trash older than %d days would free %d KiB" % (
                TRASH_DAYS, gain >> 10))
        result("problem")
        return PROBLEM
    for name, home, _, _ in full:
        for path, _ in disposable(root, home):
            remove(root, path)
    if full_homes(root):
        result("failed", "still full after emptying caches and old trash: the customer "
               "should choose what to move or delete")
        return PROBLEM
    result("fixed", "made room by emptying caches and old trash")
    return OK


if __name__ == "__main__":
    sys.exit(main())
