#!/usr/bin/python3
# kefu plugin device-permission: USB devices without a kernel driver, from the report, as
# "node<TAB>vendor<TAB>product<TAB>name" lines. SPDX-License-Identifier: MIT
import json
import os
import re

report = json.load(open(os.environ["KEFU_REPORT"]))
for d in report.get("devices") or []:
    if d.get("bus") != "usb" or d.get("driver") or d.get("class", "").startswith("09"):
        continue  # hubs have the hub driver; a device with a driver is the kernel's
    bus, dev = d.get("busnum"), d.get("devnum")
    vendor, product = d.get("vendor_id") or "", d.get("product_id") or ""
    if not isinstance(bus, int) or not isinstance(dev, int) or \
            not re.fullmatch("[0-9a-f]{4}", vendor) or not re.fullmatch("[0-9a-f]{4}", product):
        continue
    name = (d.get("name") or "USB device").replace("\t", " ")
    print("/dev/bus/usb/%03d/%03d\t%s\t%s\t%s" % (bus, dev, vendor, product, name))
