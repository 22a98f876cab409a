#!/usr/bin/python3
# kefu plugin essential-services: the desktop's essential services as systemctl sees them
# (masked, disabled, failed); `repair` switches them back on with systemctl. SPDX-License-Identifier: MIT
"""systemd.unit(5), systemctl(1), systemd.special(7):
- a unit is masked when its name in /etc/systemd/system or /run/systemd/system is a link to
  /dev/null or an empty file; masked units never start;
- a unit is enabled by the links `systemctl enable` makes from its [Install] section
  (WantedBy= into *.wants/, Alias= as a link of the alias name);
- socket or path activation starts a service whose .socket or .path unit is enabled;
- display-manager.service is an alias that the installed display manager's
  `Alias=display-manager.service` makes; default.target names the target started at boot,
  and the login screen belongs to graphical.target.
A service counts only when it is installed, and another program doing its job is respected
(systemd-networkd or ifupdown instead of NetworkManager). Bluetooth counts only where the
computer has a Bluetooth adapter (/sys/class/bluetooth)."""
import os
import re
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib import systemd  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

SERVICES = [
    ("NetworkManager.service", "the network (NetworkManager)", ()),
    ("cups.service", "printing (CUPS)", ("cups.socket", "cups.path")),
    ("bluetooth.service", "Bluetooth", ()),
]
DISPLAY_MANAGERS = ("gdm3.service", "gdm.service", "lightdm.service", "sddm.service",
                    "lxdm.service", "slim.service", "xdm.service")
DM_ALIAS = "/etc/systemd/system/display-manager.service"


def network_by_other(root):
    if systemd.state(root, "systemd-networkd.service") == "enabled":
        return True
    text = root.read_text("/etc/network/interfaces") or ""
    return any(m != "lo" for m in re.findall(r"(?m)^\s*(?:auto|allow-hotplug)\s+(\S+)", text))


def failed(root, unit):
    """Only the running system has failed units."""
    if root.top != "/":
        return False
    code, _ = systemd.systemctl(root, "is-failed", "--quiet", unit)
    return code == 0


def installed_dms(root):
    return [u for u in DISPLAY_MANAGERS if systemd.unit_file(root, u) or systemd.masked(root, u)]


def default_dm(root):
    """The display manager Debian's /etc/X11/default-display-manager names, else the first."""
    path = (root.read_text("/etc/X11/default-display-manager") or "").strip()
    dms = installed_dms(root)
    for unit in dms:
        if os.path.basename(path) == unit[:-len(".service")]:
            return unit
    return dms[0] if dms else None


def problems(root):
    """[(what, why, unit or special action)]"""
    found = []
    for unit, what, activators in SERVICES:
        if systemd.unit_file(root, unit) is None and not systemd.masked(root, unit):
            continue  # not installed
        if unit == "bluetooth.service" and not root.listdir("/sys/class/bluetooth"):
            continue
        state = systemd.state(root, unit)
        if unit == "NetworkManager.service" and state != "enabled" and network_by_other(root):
            continue
        if state == "masked":
            found.append((what, "%s is masked (%s)" % (unit, systemd.masked(root, unit)), unit))
        elif state == "disabled" and not any(systemd.state(root, a) == "enabled"
                                             for a in activators):
            found.append((what, "%s is switched off (disabled)" % unit, unit))
        elif failed(root, unit):
            found.append((what, "%s failed" % unit, unit))
    dms = installed_dms(root)
    if dms:
        alias = systemd.unit_file(root, "display-manager.service")
        masked = [u for u in dms if systemd.masked(root, u)]
        chosen = root.link_target(DM_ALIAS) if root.is_link(DM_ALIAS) else None
        if masked and (alias is None or os.path.basename(alias) in masked):
            found.append(("the login screen", "%s is masked" % masked[0], "dm"))
        elif alias is None:
            why = ("display-manager.service leads to %s, which is not installed" % chosen) \
                if chosen else "no display manager is switched on (display-manager.service)"
            found.append(("the login screen", why, "dm"))
        target = root.link_target("/etc/systemd/system/default.target")
        if target is not None and os.path.basename(target) != "graphical.target":
            found.append(("the desktop at start", "the computer starts %s, without the "
                          "desktop" % os.path.basename(target), "default"))
    return found


def repair(root, found):
    failures = []
    for what, why, unit in found:
        if unit == "dm":
            dm = default_dm(root)
            if os.path.lexists(root.host_nofollow(DM_ALIAS)) and \
                    systemd.unit_file(root, "display-manager.service") is None:
                os.unlink(root.host_nofollow(DM_ALIAS))  # an alias to a removed manager
            failure = systemd.switch_on(root, dm)
            if failure is None and systemd.unit_file(root, "display-manager.service") is None:
                code, out = systemd.systemctl(root, "enable", "--force", dm)
                failure = None if systemd.unit_file(root, "display-manager.service") else \
                    "systemctl did not make display-manager.service"
        elif unit == "default":
            code, out = systemd.systemctl(root, "set-default", "graphical.target")
            failure = None if code == 0 else (out or "systemctl set-default failed")
        elif failed(root, unit):
            code, out = systemd.systemctl(root, "restart", unit)
            failure = None if code == 0 else out
        else:
            failure = systemd.switch_on(root, unit)
        if failure:
            failures.append("%s: %s" % (what, failure))
    return failures


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if not systemd.unit_file(root, "systemd-journald.service") and \
            not root.is_dir("/usr/lib/systemd/system") and not root.is_dir("/lib/systemd/system"):
        result("not-applicable", "not a systemd system")
        return NOT_APPLICABLE
    found = problems(root)
    if mode != "repair":
        if not found:
            result("ok", "the essential services are on")
            return OK
        finding("error", "Switched off: " + ", ".join(sorted({w for w, _, _ in found})),
                "; ".join(why for _, why, _ in found))
        result("problem")
        return PROBLEM
    failures = repair(root, found)
    if failures:
        result("failed", "; ".join(failures))
        return PROBLEM
    result("fixed", "switched on: " + ", ".join(sorted({w for w, _, _ in found})))
    return OK


if __name__ == "__main__":
    sys.exit(main())
