#!/usr/bin/python3
# kefu plugin firmware-missing: the firmware files the kernel log says failed to load and that
# are still not where the kernel looks, as "file<TAB>driver<TAB>device name" lines. SPDX-License-Identifier: MIT
# The kernel's firmware loader (drivers/base/firmware_loader/main.c, fw_path) tries
# /lib/firmware/updates/$(uname -r), /lib/firmware/updates, /lib/firmware/$(uname -r),
# /lib/firmware, each also with .zst and .xz; links are followed inside the examined root.
import json
import os
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import root_dir  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402


def search_path(root, report):
    kernel = ((report.get("system") or {}).get("kernel") or {})
    release = kernel.get("release") if isinstance(kernel, dict) else None
    releases = [release] if isinstance(release, str) and "/" not in release else []
    releases += [k for k in root.listdir("/lib/modules") if k not in releases]
    folders = []
    for base in ("/lib/firmware", "/usr/lib/firmware"):
        folders += ["%s/updates/%s" % (base, r) for r in releases] + [base + "/updates"]
        folders += ["%s/%s" % (base, r) for r in releases] + [base]
    return folders


def present(root, folders, name):
    return any(root.is_file("%s/%s%s" % (f, name, suffix))
               for f in folders for suffix in ("", ".zst", ".xz"))


def main():
    root = Root(root_dir())
    report = json.load(open(os.environ["KEFU_REPORT"]))
    folders = search_path(root, report)
    names = {d.get("id"): d.get("name") or d.get("id") for d in report.get("devices") or []}
    seen = set()
    for event in (report.get("kernel_log") or {}).get("events") or []:
        name = event.get("detail")
        if event.get("kind") != "firmware-missing" or not name or name == "firmware" or \
                name in seen:
            continue
        if "/.." in "/" + name or name.startswith("/") or any(c in name for c in "\t\n\r"):
            continue
        seen.add(name)
        if present(root, folders, name):
            continue
        device = names.get(event.get("device")) or event.get("device") or "a device"
        print("%s\t%s\t%s" % (name, event.get("driver") or "its driver", device))
    return 0


if __name__ == "__main__":
    sys.exit(main())
