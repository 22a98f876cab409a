#!/usr/bin/python3
# kefu plugin disk-full-reclaimable: a nearly full file system and what each place that only
# keeps copies would free; `apt`, `journal` and `thumbnails` empty one of them. SPDX-License-Identifier: MIT
# Safe to remove (the system makes them again or keeps them only as history): downloaded
# package files (what `apt-get clean` removes: archives/*.deb, archives/partial/*,
# *.bin caches), archived journal files (`*@*.journal`, `*.journal~`; the active ones
# stay), thumbnail caches (freedesktop thumbnail spec: ~/.cache/thumbnails, ~/.thumbnails).
# The trash (freedesktop trash spec: ~/.local/share/Trash) holds the customer's files: it is
# reported, never emptied.
import os
import re
import shutil
import sys
import time

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import FAILED, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

FULL = 90  # percent used, as df rounds it (up)


def homes(root):
    out = ["/root"] if root.is_dir("/root") else []
    out += ["/home/" + n for n in root.listdir("/home") if root.is_dir("/home/" + n)]
    return out


def apt_files(root):
    for path, st in root.walk_files("/var/cache/apt/archives"):
        if path.endswith(".deb") or "/partial/" in path:
            yield path, st
    for name in root.listdir("/var/cache/apt"):
        if name.endswith(".bin") and root.is_file("/var/cache/apt/" + name):
            yield "/var/cache/apt/" + name, root.lstat("/var/cache/apt/" + name)


def journal_files(root):
    for path, st in root.walk_files("/var/log/journal"):
        name = os.path.basename(path)
        if name.endswith(".journal~") or (name.endswith(".journal") and "@" in name):
            yield path, st


def thumbnail_files(root):
    for home in homes(root):
        for folder in (home + "/.cache/thumbnails", home + "/.thumbnails"):
            yield from root.walk_files(folder)


def trash_files(root):
    for home in homes(root):
        yield from root.walk_files(home + "/.local/share/Trash")


PLACES = [("apt", "downloaded package files (/var/cache/apt)", apt_files),
          ("journal", "old system journal files (/var/log/journal)", journal_files),
          ("thumbnails", "picture thumbnail caches (~/.cache/thumbnails)", thumbnail_files)]


def used_percent(root, path):
    try:
        st = os.statvfs(root.host(path))
    except OSError:
        return None
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    avail = st.f_bavail * st.f_frsize
    if used + avail == 0:
        return None
    return -(-100 * used // (used + avail))


def size(files):
    return sum(st.st_blocks * 512 if st.st_blocks else st.st_size for _p, st in files)


def human(n):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "bytes" else "%.1f %s" % (n, unit)
        n /= 1024.0
    return "%d" % n


def survey(root):
    """[(key, label, files, bytes, percent used of its file system)] of the safe places."""
    out = []
    for key, label, lister in PLACES:
        files = list(lister(root))
        first = files[0][0] if files else "/"
        out.append((key, label, files, size(files), used_percent(root, first)))
    return out


def detect(root):
    places = survey(root)
    full = [p for p in places if p[3] > 0 and p[4] is not None and p[4] >= FULL]
    root_used = used_percent(root, "/")
    trash = list(trash_files(root))
    if not full:
        if trash and root_used is not None and root_used >= FULL:
            finding("info", "The disk is %d%% full; the trash holds %s" % (
                root_used, human(size(trash))), "empty the trash if you no longer need "
                "those files (kefu does not delete them)")
        result("ok", "disk %s%% used, %s reclaimable" % (
            root_used, human(sum(p[3] for p in places))))
        return OK
    used = max(p[4] for p in full)
    detail = "; ".join("%s: %s" % (label, human(n)) for _k, label, _f, n, _u in full)
    if trash:
        detail += "; the trash holds %s more (kefu does not empty it)" % human(size(trash))
    finding("warning", "The disk is %d%% full" % used,
            "%s can be freed: %s" % (human(sum(p[3] for p in full)), detail))
    result("problem")
    return PROBLEM


def remove(root, key):
    lister = next(lister for k, _l, lister in PLACES if k == key)
    freed, failed = 0, 0
    for path, st in list(lister(root)):
        try:
            os.unlink(root.host_nofollow(path))
            freed += st.st_blocks * 512 if st.st_blocks else st.st_size
        except OSError:
            failed += 1
    if failed:
        result("failed", "%d file(s) could not be removed" % failed)
        return PROBLEM
    result("fixed", "freed %s of %s" % (human(freed), next(l for k, l, _ in PLACES if k == key)))
    return OK


TRASH_DAYS = 30


def old_trash(root):
    """[(system path, bytes)] of trash items deleted more than TRASH_DAYS ago, with their
    .trashinfo (freedesktop trash spec: info/NAME.trashinfo holds DeletionDate=)."""
    cutoff = time.time() - TRASH_DAYS * 86400
    out = []
    for home in homes(root):
        trash = home + "/.local/share/Trash"
        for info in root.listdir(trash + "/info"):
            m = re.search(r"(?m)^DeletionDate=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)",
                          root.read_text(trash + "/info/" + info) or "")
            if not info.endswith(".trashinfo") or not m or \
                    time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) > cutoff:
                continue
            item = trash + "/files/" + info[:-len(".trashinfo")]
            files = list(root.walk_files(item)) if root.is_dir(item) else \
                ([(item, root.lstat(item))] if root.lexists(item) else [])
            out.append((item, size(files)))
            out.append((trash + "/info/" + info, 0))
    return out


def detect_trash(root):
    used = used_percent(root, "/")
    old = old_trash(root)
    if used is None or used < FULL or not old:
        result("ok", "nothing in the trash is older than %d days, or the disk has room"
               % TRASH_DAYS)
        return OK
    finding("warning", "The disk is %d%% full; the trash holds %s deleted more than %d days "
            "ago" % (used, human(sum(n for _, n in old)), TRASH_DAYS),
            "%d items; emptying them is your choice" % (len(old) // 2))
    result("problem")
    return PROBLEM


def empty_trash(root):
    freed = 0
    for path, n in old_trash(root):
        host = root.host_nofollow(path)
        if os.path.isdir(host) and not os.path.islink(host):
            shutil.rmtree(host)
        else:
            os.unlink(host)
        freed += n
    result("fixed", "freed %s from the trash" % human(freed))
    return OK


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if mode == "detect-trash":
        return detect_trash(root)
    if mode == "trash":
        return empty_trash(root)
    return detect(root) if mode == "detect" else remove(root, mode)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as e:
        result("failed", str(e))
        sys.exit(FAILED)
