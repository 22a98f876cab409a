#!/usr/bin/python3
# kefu plugin device-permission: USB devices used by programs (no kernel driver) whose node
# only root may open and that no udev rule opens to the signed-in user, the rules applied as
# udevd applies them; `repair` adds a uaccess rule read early enough. SPDX-License-Identifier: MIT
import json
import os
import stat
import subprocess
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import FAILED, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib import udev  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

NAMES = ("70-kefu-usb-access.rules", "72-kefu-usb-access.rules", "73-kefu-usb-access.rules")
HEADER = "# Written by kefu: USB devices the signed-in user may use (systemd-logind uaccess).\n"
ACL_USER, ACL_GROUP = 0x02, 0x08


def usb_devices():
    report = json.load(open(os.environ["KEFU_REPORT"]))
    for d in report.get("devices") or []:
        if d.get("bus") != "usb" or d.get("driver") or (d.get("class") or "").startswith("09"):
            continue  # hubs have the hub driver; a device with a driver is the kernel's
        bus, dev = d.get("busnum"), d.get("devnum")
        vendor, product = d.get("vendor_id") or "", d.get("product_id") or ""
        if not isinstance(bus, int) or not isinstance(dev, int) or \
                len(vendor) != 4 or len(product) != 4 or \
                not all(c in "0123456789abcdef" for c in vendor + product):
            continue
        ident = d.get("id") or ""
        kernel = ident.split(":", 1)[1] if ident.startswith("usb:") else ""
        name = " ".join((d.get("name") or "USB device").split())
        yield {"node": "/dev/bus/usb/%03d/%03d" % (bus, dev), "vendor": vendor,
               "product": product, "name": name, "kernel": kernel, "bus": bus, "dev": dev}


def acl_grants(host):
    """Whether the node's ACL names a user or group with read and write."""
    try:
        data = os.getxattr(host, "system.posix_acl_access")
    except OSError:
        return False
    for i in range(4, len(data) - 7, 8):
        tag, perm = int.from_bytes(data[i:i + 2], "little"), int.from_bytes(data[i + 2:i + 4], "little")
        if tag in (ACL_USER, ACL_GROUP) and perm & 6 == 6:
            return True
    return False


def accounts(root):
    users = {}
    for line in (root.read_text("/etc/passwd") or "").splitlines():
        f = line.split(":")
        if len(f) >= 4 and f[2].isdigit() and f[3].isdigit():
            users[f[0]] = (int(f[2]), int(f[3]))
    groups = {}
    for line in (root.read_text("/etc/group") or "").splitlines():
        f = line.split(":")
        if len(f) >= 4 and f[2].isdigit():
            groups[f[0]] = (int(f[2]), [m for m in f[3].split(",") if m])
    return users, groups


def person_in_group(root, group):
    """Whether a person's account (uid 1000 to 59999) is in GROUP (a name)."""
    users, groups = accounts(root)
    if group not in groups:
        return False
    gid, members = groups[group]
    people = {n for n, (uid, _g) in users.items() if 1000 <= uid < 60000}
    return bool(people & set(members)) or any(
        users[n][1] == gid for n in people)


def device_for_rules(d):
    return udev.Device(d["kernel"], "usb", {"idVendor": d["vendor"], "idProduct": d["product"],
                                            "busnum": str(d["bus"]), "devnum": str(d["dev"])},
                       {"DEVTYPE": "usb_device", "ID_VENDOR_ID": d["vendor"],
                        "ID_MODEL_ID": d["product"], "MAJOR": "189",
                        "DEVNAME": d["node"], "BUSNUM": "%03d" % d["bus"],
                        "DEVNUM": "%03d" % d["dev"]})


def rules_give_access(root, d, extra=None):
    effect = udev.apply(udev.read(root, extra), device_for_rules(d))
    if effect.uaccess:
        return True
    mode = udev.mode_of(effect)
    if mode is None:
        return False
    if mode & 0o006 == 0o006:
        return True
    return mode & 0o060 == 0o060 and effect.group is not None and \
        person_in_group(root, effect.group)


def name_of(root, uid, gid):
    users, groups = accounts(root)
    user = next((n for n, (u, _g) in users.items() if u == uid), "root" if uid == 0 else str(uid))
    group = next((n for n, (g, _m) in groups.items() if g == gid),
                 "root" if gid == 0 else str(gid))
    return user, group


def locked(root):
    out = []
    for d in usb_devices():
        try:
            host = root.host(d["node"])
            st = os.stat(host)
        except OSError:
            continue
        if not stat.S_ISCHR(st.st_mode):
            continue
        if st.st_mode & 0o006 == 0o006 or acl_grants(host):
            continue
        if rules_give_access(root, d):
            continue
        user, group = name_of(root, st.st_uid, st.st_gid)
        d["mode"] = "%s %s %s" % (stat.filemode(st.st_mode), user, group)
        out.append(d)
    return out


def rule_line(d):
    return 'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="%s", ' \
        'ATTR{idProduct}=="%s", TAG+="uaccess"\n' % (d["vendor"], d["product"])


def repair(root, devices):
    """Writes the first of NAMES with which the rules give every device access."""
    for name in NAMES:
        path = "/etc/udev/rules.d/" + name
        text = root.read_text(path) or HEADER
        for d in devices:
            if rule_line(d) not in text:
                text += "# %s\n%s" % (d["name"], rule_line(d))
        if all(rules_give_access(root, d, {name: text}) for d in devices):
            root.write_text_atomic(path, text, like=root.host(path) if root.exists(path) else None)
            os.chmod(root.host(path), 0o644)
            return path
    return None


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    root = Root(root_dir())
    devices = locked(root)
    if mode == "detect":
        if not devices:
            result("ok", "your programs may use every USB device")
            return OK
        for d in devices:
            finding("error", "Your programs cannot use the %s (USB %s:%s): only the "
                    "administrator may open it" % (d["name"], d["vendor"], d["product"]),
                    "%s is %s; no udev rule gives the signed-in user access"
                    % (d["node"], d["mode"]))
        result("problem")
        return PROBLEM
    if not devices:
        result("fixed", "nothing to change")
        return OK
    try:
        path = repair(root, devices)
    except OSError as e:
        result("failed", "could not write the udev rule: %s" % e.strerror)
        return PROBLEM
    if path is None:
        result("failed", "a later udev rule takes the access away again; no rule file kefu "
               "may write undoes it")
        return PROBLEM
    if root.top == "/":
        reload = subprocess.run("udevadm control --reload-rules && "
                                "udevadm trigger --subsystem-match=usb --action=change",
                                shell=True, capture_output=True)
        if reload.returncode != 0:
            finding("info", "Unplug the device and plug it in again so the new rule applies")
    result("fixed", "added a udev rule (%s)" % path)
    return OK


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as e:
        result("failed", str(e))
        sys.exit(FAILED)
