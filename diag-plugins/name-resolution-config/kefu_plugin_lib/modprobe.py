# kefu plugin library: modprobe configuration gathered and read as kmod does. SPDX-License-Identifier: MIT
"""modprobe.d(5) and kmod's libkmod-config.c:
- files ending in .conf (or .alias) in /etc/modprobe.d, /run/modprobe.d,
  /usr/local/lib/modprobe.d, /lib/modprobe.d and /usr/lib/modprobe.d; a name found in an
  earlier folder hides the same name in later ones (so /etc overrides the packages' files),
  a file linked to /dev/null disables the name; the files are then read in name order;
- one command a line, a line ending in '\\' continues on the next; blank lines and lines
  whose first non-blank is '#' are ignored; words are split on blanks and a command reads
  only the words it takes (so `blacklist foo  # why` blacklists foo);
- module names: '-' and '_' are the same (kmod normalises to '_');
- `blacklist M` hides M's own aliases (what udev loads a device's driver by);
  `install M CMD` runs CMD instead of loading M: `/bin/false`, `/bin/true` (any path to
  false or true) means M never loads; `alias PATTERN NAME` comes before the modules' own
  aliases; `options M ...` and `softdep` change nothing about whether M loads.
"""
import fnmatch
import os

FOLDERS = ("/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
           "/lib/modprobe.d", "/usr/lib/modprobe.d")
EDITABLE = ("/etc/modprobe.d", "/run/modprobe.d")  # the others belong to packages
NO_OP = ("false", "true")


def normalize(name):
    return name.replace("-", "_")


class Command:
    """One logical line: words, the file (system path) and its physical lines
    (first, last; 1-based)."""

    def __init__(self, path, first, last, words):
        self.path, self.first, self.last, self.words = path, first, last, words

    @property
    def name(self):
        return self.words[0]

    def __repr__(self):
        return "%s:%d %s" % (self.path, self.first, " ".join(self.words))


def config_files(root):
    """The files kmod reads, in order: [(name, system path)], same-name override applied."""
    chosen = {}
    for folder in FOLDERS:
        # /lib and /usr/lib are the same folder on a merged-/usr system: read it once
        for name in root.listdir(folder):
            if name.startswith(".") or not (name.endswith(".conf") or name.endswith(".alias")):
                continue
            if name in chosen:
                continue
            path = folder + "/" + name
            target = root.link_target(path)
            if target == "/dev/null" or (root.is_link(path) and root.readlink(path) == "/dev/null"):
                chosen[name] = None
                continue
            if root.is_file(path):
                chosen[name] = path
    return [(name, chosen[name]) for name in sorted(chosen) if chosen[name] is not None]


def parse(text, path):
    commands = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        first = i
        buf = lines[i]
        while buf.endswith("\\") and i + 1 < len(lines):
            i += 1
            buf = buf[:-1] + lines[i]
        if buf.endswith("\\"):
            buf = buf[:-1]
        i += 1
        stripped = buf.strip()
        if not stripped or stripped.startswith("#"):
            continue
        commands.append(Command(path, first + 1, i, stripped.split()))
    return commands


def read(root):
    """Every command kmod reads in ROOT, in order."""
    commands = []
    for _name, path in config_files(root):
        text = root.read_text(path)
        if text is not None:
            commands.extend(parse(text, path))
    return commands


def is_no_op_install(words):
    """`install M /bin/false` and friends: M never loads."""
    if len(words) < 3:
        return False
    cmd = words[2:]
    return len(cmd) == 1 and os.path.basename(cmd[0]) in NO_OP


def blocking(commands, module, modalias=None):
    """The commands that keep MODULE from loading for a device (MODALIAS, when given)."""
    mod = normalize(module)
    found = []
    for c in commands:
        w = c.words
        if c.name == "blacklist" and len(w) >= 2 and normalize(w[1]) == mod:
            found.append(c)
        elif c.name == "install" and len(w) >= 2 and normalize(w[1]) == mod and \
                is_no_op_install(w):
            found.append(c)
        elif c.name == "alias" and modalias and len(w) >= 3 and \
                fnmatch.fnmatchcase(modalias, w[1]) and normalize(w[2]) != mod:
            found.append(c)  # the device's alias sent to another name first
    return found


def options(commands, module):
    """The options kmod passes to MODULE, in order."""
    mod = normalize(module)
    out = []
    for c in commands:
        if c.name == "options" and len(c.words) >= 2 and normalize(c.words[1]) == mod:
            out.extend(c.words[2:])
    return out


def module_aliases(root, modalias):
    """The modules whose own aliases (modules.alias of each installed kernel) match MODALIAS,
    in order, without duplicates."""
    found = []
    kernels = root.listdir("/lib/modules") or root.listdir("/usr/lib/modules")
    base = "/lib/modules" if root.listdir("/lib/modules") else "/usr/lib/modules"
    for kernel in kernels:
        text = root.read_text("%s/%s/modules.alias" % (base, kernel))
        for line in (text or "").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "alias" and fnmatch.fnmatchcase(modalias, parts[1]):
                if normalize(parts[2]) not in found:
                    found.append(normalize(parts[2]))
    return found
