#!/bin/sh
# kefu plugin clock-unsynced: switches automatic time setting back on. SPDX-License-Identifier: MIT
# What `systemctl enable` does (the mask removed, the links of [Install] written), done
# directly so that it works on a root prefix as on the running system (timesync.py).
. ./lib.sh
root=$(kefu_root)
unit=$(/usr/bin/python3 ./timesync.py enable) || {
	echo '{"type":"result","status":"failed","summary":"could not switch automatic time setting on"}'
	exit 1
}
if [ -z "$root" ] && ! systemctl start "$unit.service" 2>/dev/null; then
	echo '{"type":"finding","severity":"info","summary":"Automatic time setting starts at the next restart"}'
fi
printf '{"type":"result","status":"fixed","summary":"%s is switched on"}\n' "$unit"
exit 0
