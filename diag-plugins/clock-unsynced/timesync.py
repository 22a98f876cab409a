#!/usr/bin/python3
# kefu plugin clock-unsynced: whether a time daemon is switched on, read as systemctl reads the
# unit links (inside the root); `enable` switches one on. SPDX-License-Identifier: MIT
# `state` prints why automatic time setting is off (nothing when it is on) and exits 0, or 2
# when no time daemon is installed; `enable` prints the unit it switched on; `servers` prints
# the time servers the daemon that is on is configured with.
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import systemd, root_dir  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

TIMESYNCD = "systemd-timesyncd.service"
# The other daemons Debian ships for it (each Provides: time-daemon). Debian's timesyncd
# does not start while one of their programs is installed (its drop-in
# disable-with-time-daemon.conf, ConditionFileIsExecutable=!/usr/sbin/chronyd ...), so an
# installed one is the one to switch on.
OTHERS = ("chrony.service", "ntpsec.service", "ntp.service", "openntpd.service")


def short(unit):
    return unit[:-len(".service")]


DROP_IN_DIRS = ("/etc/systemd/timesyncd.conf.d", "/run/systemd/timesyncd.conf.d",
                "/usr/local/lib/systemd/timesyncd.conf.d", "/usr/lib/systemd/timesyncd.conf.d")
DEBIAN_FALLBACK = ["0.debian.pool.ntp.org", "1.debian.pool.ntp.org", "2.debian.pool.ntp.org",
                   "3.debian.pool.ntp.org"]


def timesyncd_files(root):
    """timesyncd.conf(5), systemd.syntax(7): the main file, then every drop-in *.conf in
    lexical order of its name across the drop-in folders (a name in /etc hides the same name
    in /run and /usr/lib)."""
    chosen = {}
    for folder in DROP_IN_DIRS:
        for name in root.listdir(folder):
            if name.endswith(".conf") and name not in chosen:
                chosen[name] = folder + "/" + name
    return ["/etc/systemd/timesyncd.conf"] + [chosen[n] for n in sorted(chosen)]


def timesyncd_servers(root):
    """NTP= (else FallbackNTP=, else the compiled-in Debian pool) of [Time]: each assignment
    adds its space-separated names, an empty one resets the list."""
    lists = {"NTP": [], "FallbackNTP": None}
    for path in timesyncd_files(root):
        section = None
        for line in (root.read_text(path) or "").splitlines():
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            key, sep, value = line.partition("=")
            key = key.strip()
            if section != "Time" or not sep or key not in lists:
                continue
            words = value.split()
            lists[key] = (lists[key] or []) + words if words else []
    return lists["NTP"] or (lists["FallbackNTP"] if lists["FallbackNTP"] is not None
                            else DEBIAN_FALLBACK)


def chrony_servers(root):
    """chrony.conf(5): `server`, `pool` and `peer` lines, with the files `confdir` and
    `sourcedir` name (Debian: /etc/chrony/conf.d/*.conf, /etc/chrony/sources.d/*.sources)."""
    found, pending, seen = [], ["/etc/chrony/chrony.conf"], set()
    while pending and len(seen) < 64:
        path = pending.pop(0)
        if path in seen:
            continue
        seen.add(path)
        for line in (root.read_text(path) or "").splitlines():
            words = line.split("#", 1)[0].split("!", 1)[0].split()
            if len(words) >= 2 and words[0] in ("server", "pool", "peer"):
                found.append(words[1])
            elif len(words) >= 2 and words[0] in ("confdir", "sourcedir", "include"):
                for folder in words[1:]:
                    suffix = ".sources" if words[0] == "sourcedir" else ".conf"
                    if words[0] == "include":
                        pending.append(folder)
                    else:
                        pending += [folder + "/" + n for n in root.listdir(folder)
                                    if n.endswith(suffix)]
    return found


def main():
    root = Root(root_dir())
    if sys.argv[1:] == ["servers"]:
        chrony = systemd.state(root, "chrony.service") == "enabled"
        servers = chrony_servers(root) if chrony else []
        print(" ".join(servers or timesyncd_servers(root)))
        return 0
    units = [u for u in OTHERS + (TIMESYNCD,) if systemd.unit_file(root, u) or
             systemd.masked(root, u)]
    if not units:
        return 2
    states = {u: systemd.state(root, u) for u in units}
    on = [u for u, s in states.items() if s == "enabled"]
    if sys.argv[1:] == ["state"]:
        if not on:
            u = TIMESYNCD if TIMESYNCD in units and not any(
                systemd.unit_file(root, o) for o in OTHERS) else units[0]
            print("%s is %s" % (short(u), states[u]))
        return 0
    if on:
        print(short(on[0]))
        return 0
    installed = [u for u in OTHERS if systemd.unit_file(root, u) or systemd.masked(root, u)]
    unit = installed[0] if installed else TIMESYNCD
    systemd.enable(root, unit)
    if systemd.state(root, unit) != "enabled":
        return 1
    print(short(unit))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as e:
        print("timesync: %s" % e, file=sys.stderr)
        sys.exit(3)
