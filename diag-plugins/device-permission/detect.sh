#!/bin/sh
# kefu plugin device-permission: USB devices only root may open, with no rule for users. SPDX-License-Identifier: MIT
. ./lib.sh
[ -n "${KEFU_REPORT:-}" ] || exit 3
locked=$(locked_devices) || exit 3
if [ -z "$locked" ]; then
	echo '{"type":"result","status":"ok","summary":"your programs may use every USB device"}'
	exit 0
fi
echo "$locked" | while IFS="$(printf '\t')" read -r node vendor product name mode; do
	printf '{"type":"finding","severity":"error","summary":"Your programs cannot use the %s (USB %s:%s): only the administrator may open it","detail":"%s is %s; no udev rule gives the signed-in user access"}\n' \
		"$(json_text "$name")" "$vendor" "$product" "$node" "$(json_text "$mode")"
done
echo '{"type":"result","status":"problem"}'
exit 1
