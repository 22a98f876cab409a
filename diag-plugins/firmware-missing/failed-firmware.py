#!/usr/bin/python3
# kefu plugin firmware-missing: the firmware files the kernel log says failed to load,
# from the report, as "file<TAB>driver<TAB>device name" lines. SPDX-License-Identifier: MIT
import json
import os

report = json.load(open(os.environ["KEFU_REPORT"]))
names = {d.get("id"): d.get("name") or d.get("id") for d in report.get("devices") or []}
seen = set()
for event in (report.get("kernel_log") or {}).get("events") or []:
    name = event.get("detail")
    if event.get("kind") != "firmware-missing" or not name or name == "firmware" or name in seen:
        continue
    if "/.." in "/" + name or name.startswith("/") or any(c in name for c in "\t\n\r"):
        continue
    seen.add(name)
    device = names.get(event.get("device")) or event.get("device") or "a device"
    print("%s\t%s\t%s" % (name, event.get("driver") or "its driver", device))
