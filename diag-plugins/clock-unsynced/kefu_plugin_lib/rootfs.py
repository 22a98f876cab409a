# kefu plugin library: paths of the examined system, resolved without leaving its root. SPDX-License-Identifier: MIT
"""Every system path a plugin reads or writes goes through Root.resolve: symbolic links are
followed by hand, an absolute target is taken relative to the root (as if chrooted there) and
'..' never climbs above it, so a link written by `systemctl enable --root` or a merged /usr
never sends the plugin into the machine it runs on."""
import os
import stat

MAX_LINKS = 40  # as the kernel's path walk (ELOOP)


class LinkLoop(OSError):
    pass


class Root:
    def __init__(self, root="/"):
        self.top = os.path.realpath(root or "/")

    def host(self, path):
        """The host path of system path PATH ('/etc/x'), links resolved inside the root."""
        return self._walk(path, follow_last=True)

    def host_nofollow(self, path):
        """As host(), but a link in the last component is not followed (for lstat, unlink)."""
        return self._walk(path, follow_last=False)

    def system(self, host_path):
        """The system path ('/etc/x') of a host path inside the root."""
        rel = os.path.relpath(host_path, self.top)
        return "/" if rel == "." else "/" + rel

    def _walk(self, path, follow_last):
        parts = [p for p in path.split("/") if p not in ("", ".")]
        done = []  # resolved components below the root
        links = 0
        while parts:
            name = parts.pop(0)
            if name == "..":
                if done:
                    done.pop()
                continue
            candidate = os.path.join(self.top, *done, name)
            if (parts or follow_last) and os.path.islink(candidate):
                links += 1
                if links > MAX_LINKS:
                    raise LinkLoop("too many links resolving " + path)
                target = os.readlink(candidate)
                if target.startswith("/"):
                    done = []
                parts = [p for p in target.split("/") if p not in ("", ".")] + parts
                continue
            done.append(name)
        return os.path.join(self.top, *done)

    # Questions about system paths, all answered inside the root.
    def exists(self, path):
        try:
            return os.path.exists(self.host(path))
        except OSError:
            return False

    def lexists(self, path):
        try:
            return os.path.lexists(self.host_nofollow(path))
        except OSError:
            return False

    def is_file(self, path):
        try:
            return os.path.isfile(self.host(path))
        except OSError:
            return False

    def is_dir(self, path):
        try:
            return os.path.isdir(self.host(path))
        except OSError:
            return False

    def is_link(self, path):
        try:
            return os.path.islink(self.host_nofollow(path))
        except OSError:
            return False

    def readlink(self, path):
        return os.readlink(self.host_nofollow(path))

    def link_target(self, path):
        """The system path a link at PATH leads to (resolved inside the root), else None."""
        if not self.is_link(path):
            return None
        try:
            return self.system(self.host(path))
        except OSError:
            return None

    def stat(self, path):
        return os.stat(self.host(path))

    def lstat(self, path):
        return os.lstat(self.host_nofollow(path))

    def listdir(self, path):
        """Names in folder PATH, sorted; [] when it is missing or not a folder."""
        try:
            return sorted(os.listdir(self.host(path)))
        except OSError:
            return []

    def read_text(self, path, errors="replace"):
        """The text of file PATH, or None when it is missing or unreadable."""
        try:
            host = self.host(path)
            if not stat.S_ISREG(os.stat(host).st_mode):
                return None
            with open(host, encoding="utf-8", errors=errors) as f:
                return f.read()
        except OSError:
            return None

    def read_bytes(self, path):
        try:
            with open(self.host(path), "rb") as f:
                return f.read()
        except OSError:
            return None

    def walk_files(self, path, max_entries=200000):
        """(system path, lstat) of every regular file under folder PATH, at any depth,
        without following links below it; bounded to max_entries entries."""
        start = self.host(path)
        seen = 0
        stack = [start]
        while stack:
            folder = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                seen += 1
                if seen > max_entries:
                    return
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    stack.append(entry.path)
                elif stat.S_ISREG(st.st_mode):
                    yield self.system(entry.path), st

    def write_text_atomic(self, path, text, like=None):
        """Replaces file PATH with TEXT through a temporary file and a rename, keeping the
        mode and owner of LIKE (default: the file itself when it exists, else 0644)."""
        host = self.host(path)
        tmp = host + ".kefu-tmp"
        ref = like if like is not None else (host if os.path.exists(host) else None)
        mode, uid, gid = 0o644, None, None
        if ref is not None:
            st = os.stat(ref)
            mode, uid, gid = stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
            if uid is not None and os.geteuid() == 0:
                os.chown(tmp, uid, gid)
            os.rename(tmp, host)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
