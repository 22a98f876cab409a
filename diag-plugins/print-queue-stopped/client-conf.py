#!/usr/bin/python3
# kefu plugin print-queue-stopped: prints the ServerName of the examined root's
# /etc/cups/client.conf (client.conf(5)), nothing when it names none. SPDX-License-Identifier: MIT
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import root_dir  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

name = ""
for line in (Root(root_dir()).read_text("/etc/cups/client.conf") or "").splitlines():
    words = line.split()
    if len(words) >= 2 and words[0].lower() == "servername":
        name = words[1]  # CUPS reads every line; the last one counts
if name.startswith("/") and "/../" in name + "/":
    name = ""  # a socket path stays inside the root
print(name)
