#!/bin/sh
# kefu plugin firmware-missing: every firmware file that failed to load is now installed. SPDX-License-Identifier: MIT
. ./lib.sh
[ -n "${KEFU_REPORT:-}" ] || exit 3
missing=$(missing_firmware) || exit 3
if [ -n "$missing" ]; then
	echo "$missing" | cut -f1 | while read -r file; do
		printf '{"type":"finding","severity":"error","summary":"The firmware file %s is still missing"}\n' "$(json_text "$file")"
	done
	echo '{"type":"result","status":"problem"}'
	exit 1
fi
echo '{"type":"finding","severity":"info","summary":"The firmware is installed; restart the computer (or unplug and replug the device) so the driver loads it"}'
echo '{"type":"result","status":"fixed"}'
exit 0
