#!/usr/bin/python3
# kefu plugin radio-blocked: Wi-Fi and Bluetooth radios blocked by rfkill, now or at the next
# start; `repair` unblocks them with rfkill or the kernel's soft attribute. SPDX-License-Identifier: MIT
"""The kernel's rfkill ABI (Documentation/ABI/stable/sysfs-class-rfkill): each
/sys/class/rfkill/rfkillN has `type` (wlan, bluetooth, ...), `name`, `soft` (1: blocked by
software, writable), `hard` (1: blocked by a switch, read-only), and the older `state`
(0 soft-blocked, 1 unblocked, 2 hard-blocked). systemd-rfkill(8) saves each radio's soft
state in /var/lib/systemd/rfkill/<device>:<type> ("1" blocked) and restores it at start.
NetworkManager keeps WirelessEnabled= in /var/lib/NetworkManager/NetworkManager.state and
blocks Wi-Fi when it is false."""
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

CLASS = "/sys/class/rfkill"
SAVED = "/var/lib/systemd/rfkill"
NM_STATE = "/var/lib/NetworkManager/NetworkManager.state"
TYPES = {"wlan": "Wi-Fi", "bluetooth": "Bluetooth"}


def value(root, path):
    text = root.read_text(path)
    return text.strip() if text is not None else None


def radios(root):
    """[(system path, type, name, soft, hard)] of the Wi-Fi and Bluetooth radios."""
    out = []
    for entry in root.listdir(CLASS):
        path = CLASS + "/" + entry
        kind = value(root, path + "/type")
        if kind not in TYPES:
            continue
        soft, hard = value(root, path + "/soft"), value(root, path + "/hard")
        state = value(root, path + "/state")
        if soft is None and state is not None:  # only the older attribute
            soft, hard = ("1" if state == "0" else "0"), ("1" if state == "2" else "0")
        out.append((path, kind, value(root, path + "/name") or entry, soft == "1", hard == "1"))
    return out


def saved_blocks(root):
    return ["%s/%s" % (SAVED, n) for n in root.listdir(SAVED)
            if n.rsplit(":", 1)[-1] in TYPES and value(root, SAVED + "/" + n) == "1"]


def nm_wifi_off(root):
    text = root.read_text(NM_STATE) or ""
    section = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[main]" and re.fullmatch(r"WirelessEnabled\s*=\s*false", line, re.I):
            return True
    return False


def problems(root):
    found, hard = [], []
    for path, kind, name, soft, is_hard in radios(root):
        if is_hard:
            hard.append("%s (%s) is switched off by a switch or key on the computer"
                        % (TYPES[kind], name))
        elif soft:
            found.append("%s (%s) is blocked" % (TYPES[kind], name))
    for path in saved_blocks(root):
        found.append("%s stays blocked after the next start (%s)"
                     % (TYPES[path.rsplit(":", 1)[-1]], path))
    if any(k == "wlan" for _, k, _, _, _ in radios(root)) and nm_wifi_off(root):
        found.append("NetworkManager keeps Wi-Fi off (WirelessEnabled=false in %s)" % NM_STATE)
    return found, hard


def unblock(root):
    if root.top == "/" and os.path.exists("/usr/sbin/rfkill"):
        for kind in TYPES:
            subprocess.run(["/usr/sbin/rfkill", "unblock", "wifi" if kind == "wlan" else kind],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10)
    for path, kind, name, soft, is_hard in radios(root):
        if soft and not is_hard:
            attribute = path + ("/soft" if root.exists(path + "/soft") else "/state")
            with open(root.host(attribute), "w") as f:
                f.write("0" if attribute.endswith("soft") else "1")
    for path in saved_blocks(root):
        root.write_text_atomic(path, "0\n")
    if nm_wifi_off(root):
        text = root.read_text(NM_STATE)
        root.write_text_atomic(NM_STATE, re.sub(r"(?mi)^(\s*WirelessEnabled\s*=\s*)false",
                                                r"\1true", text))


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if not radios(root):
        result("not-applicable", "no Wi-Fi or Bluetooth radio")
        return NOT_APPLICABLE
    found, hard = problems(root)
    if mode != "repair":
        if not found and not hard:
            result("ok", "Wi-Fi and Bluetooth are not blocked")
            return OK
        if hard:
            finding("error", "A radio is switched off by the computer's wireless switch or key: "
                    "turn it on (often Fn with the antenna key, or a switch on the side)",
                    "; ".join(hard))
        if found:
            finding("error", "Wi-Fi or Bluetooth is switched off", "; ".join(found))
        result("problem")
        return PROBLEM
    try:
        unblock(root)
    except OSError as e:
        result("failed", "could not unblock: %s" % e.strerror)
        return PROBLEM
    found, hard = problems(root)
    if hard:
        result("failed", "blocked by the wireless switch, which only the customer can turn on")
        return PROBLEM
    result("fixed" if not found else "failed", "; ".join(found) or "the radios are on")
    return OK if not found else PROBLEM


if __name__ == "__main__":
    sys.exit(main())
