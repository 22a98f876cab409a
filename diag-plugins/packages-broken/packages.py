#!/usr/bin/python3
# kefu plugin packages-broken: dpkg's database and apt's sources as dpkg and apt read them;
# the repairs run dpkg --configure -a and switch off entries apt refuses. SPDX-License-Identifier: MIT
"""dpkg(1), dpkg-query(1): each package's Status is "WANT FLAG STATUS"; STATUS other than
installed, config-files or not-installed (half-installed, unpacked, half-configured,
triggers-awaited, triggers-pending) or the reinst-required flag means work was left
undone; files in /var/lib/dpkg/updates are dpkg's journal of an interrupted run, and
`dpkg --configure -a` finishes both. sources.list(5): one-line entries `deb [options] URI
suite [component...]` (line N is entry N) and deb822 .sources stanzas (stanza N is entry
N); apt itself says which entry it cannot read ("Malformed entry N in list file F"), and an
entry's Signed-By= names a keyring file that must exist (or key fingerprints)."""
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import FAILED, NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

ADMIN = "/var/lib/dpkg"
DONE = ("installed", "config-files", "not-installed")
APT_GET = "/usr/bin/apt-get"


def stanzas(text):
    return [s for s in re.split(r"\n\s*\n", text or "") if s.strip()]


def fields(stanza):
    out, key = {}, None
    for line in stanza.splitlines():
        if line[:1] in (" ", "\t") and key:
            out[key] += "\n" + line.strip()
        elif ":" in line and not line.startswith("#"):
            key, _, value = line.partition(":")
            key = key.strip().lower()
            out[key] = value.strip()
    return out


def dpkg_problems(root):
    found = []
    updates = [n for n in root.listdir(ADMIN + "/updates") if n.isdigit()]
    if updates:
        found.append("dpkg was interrupted (%d unfinished steps in %s/updates)"
                     % (len(updates), ADMIN))
    for s in stanzas(root.read_text(ADMIN + "/status")):
        f = fields(s)
        status = f.get("status", "").split()
        if len(status) != 3:
            continue
        if status[2] not in DONE or status[1] == "reinst-required":
            found.append("%s is %s" % (f.get("package", "?"), status[2]
                                       if status[1] != "reinst-required" else "broken"))
    return found


def run(command):
    try:
        p = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=540, universal_newlines=True,
                           env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
                                "DEBIAN_FRONTEND": "noninteractive"})
        return p.returncode, p.stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)


def dpkg_repair(root):
    command = ["/usr/bin/dpkg", "--force-confold", "--configure", "-a"]
    if root.top != "/":
        command[1:1] = ["--root=" + root.top]
    code, out = run(command)
    if code != 0:
        return (out or "dpkg failed").strip().splitlines()[-1]
    return None


def source_files(root):
    files = []
    if root.is_file("/etc/apt/sources.list"):
        files.append("/etc/apt/sources.list")
    for name in root.listdir("/etc/apt/sources.list.d"):
        if re.fullmatch(r"[A-Za-z0-9_.-]+\.(list|sources)", name):  # others apt ignores
            files.append("/etc/apt/sources.list.d/" + name)
    return files


def apt_malformed(root):
    """[(system path, entry number, apt's reason)] from apt's own reading of the sources."""
    if not os.path.exists(APT_GET):
        return []
    code, out = run([APT_GET, "-o", "Dir=" + root.top, "-o", "Debug::NoLocking=1",
                     "-o", "Dir::State::status=" + root.host(ADMIN + "/status"),
                     "indextargets", "--format", "$(URI)"])
    found = []
    patterns = (r"Malformed entry (?P<n>\d+) in (?:list|sources) file (?P<f>\S+) \((?P<why>[^)]*)\)",
                r"(?P<why>Type '[^']*' is not known) on (?:line|stanza) (?P<n>\d+) in source "
                r"list (?P<f>\S+)")
    for m in (m for p in patterns for m in re.finditer(p, out or "")):
        path = root.system(m.group("f")) if m.group("f").startswith(root.top) else m.group("f")
        if (path, int(m.group("n"))) not in [(p, n) for p, n, _ in found]:
            found.append((path, int(m.group("n")), m.group("why").replace("'", "")))
    return found


def signed_by_missing(root):
    """[(path, entry, keyring)] of entries whose Signed-By keyring file is not there."""
    found = []
    for path in source_files(root):
        text = root.read_text(path) or ""
        if path.endswith(".list"):
            for lineno, line in enumerate(text.splitlines(), 1):
                m = re.match(r"\s*deb(?:-src)?\s+\[([^\]]*)\]", line)
                k = re.search(r"signed-by=(\S+)", m.group(1)) if m else None
                for key in (k.group(1).split(",") if k else []):
                    if key.startswith("/") and not root.exists(key):
                        found.append((path, lineno, key))
        else:
            for n, s in enumerate(stanzas(text), 1):
                f = fields(s)
                key = f.get("signed-by", "")
                if f.get("enabled", "yes").lower() != "no" and key.startswith("/") and \
                        "\n" not in key and not root.exists(key):
                    found.append((path, n, key))
    return found


def disable(root, path, entry, why):
    text = root.read_text(path)
    if path.endswith(".list"):
        lines = text.splitlines()
        lines[entry - 1] = "# off (%s): %s" % (why, lines[entry - 1])
        new = "\n".join(lines) + "\n"
    else:
        parts = re.split(r"(\n\s*\n)", text)
        index = [i for i, p in enumerate(parts) if i % 2 == 0 and p.strip()][entry - 1]
        parts[index] = "# off (%s)\nEnabled: no\n" % why + re.sub(
            r"(?mi)^Enabled:.*\n?", "", parts[index])
        new = "".join(parts)
    root.write_text_atomic(path, new)


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if not root.is_file(ADMIN + "/status"):
        result("not-applicable", "no dpkg database")
        return NOT_APPLICABLE
    if mode in ("detect", "repair"):
        found = dpkg_problems(root)
        if not found:
            result("ok" if mode == "detect" else "fixed", "no package work was left undone")
            return OK
        if mode == "detect":
            finding("error", "An earlier installation was interrupted, so nothing else can be "
                    "installed", "; ".join(found[:20]))
            result("problem")
            return PROBLEM
        failure = dpkg_repair(root)
        left = dpkg_problems(root)
        if failure or left:
            result("failed", failure or "; ".join(left[:5]))
            return PROBLEM
        result("fixed", "the interrupted installation was finished")
        return OK
    if not source_files(root):
        result("not-applicable", "no package sources")
        return NOT_APPLICABLE
    malformed, unsigned = apt_malformed(root), signed_by_missing(root)
    if mode == "detect-sources":
        if not malformed and not unsigned:
            result("ok", "apt reads every package source")
            return OK
        finding("error", "Software updates fail: apt cannot use a package source",
                "; ".join(["%s entry %d: %s" % m for m in malformed] +
                          ["%s entry %d: its key %s is missing" % u for u in unsigned]))
        result("problem")
        return PROBLEM
    for _ in range(50):  # apt names one entry at a time
        malformed = apt_malformed(root)
        if not malformed:
            break
        path, entry, why = malformed[0]
        disable(root, path, entry, "apt cannot read it: " + why)
    for path, entry, key in signed_by_missing(root):
        disable(root, path, entry, "its key %s is missing" % key)
    if apt_malformed(root) or signed_by_missing(root):
        result("failed", "apt still cannot read the package sources")
        return FAILED
    result("fixed", "the broken package source entries are switched off")
    return OK


if __name__ == "__main__":
    sys.exit(main())
