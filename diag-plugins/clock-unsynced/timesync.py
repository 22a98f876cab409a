#!/usr/bin/python3
# kefu plugin clock-unsynced: whether a time daemon is switched on, read as systemctl reads the
# unit links (inside the root); `enable` switches one on. SPDX-License-Identifier: MIT
# `state` prints why automatic time setting is off (nothing when it is on) and exits 0, or 2
# when no time daemon is installed; `enable` prints the unit it switched on.
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


def main():
    root = Root(root_dir())
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
