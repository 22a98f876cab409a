#!/bin/sh
# kefu plugin device-permission: a udev rule giving the signed-in user the locked USB devices. SPDX-License-Identifier: MIT
. ./lib.sh
root=$(kefu_root)
locked=$(locked_devices) || exit 3
[ -n "$locked" ] || exit 0
rules="$root/$RULES"
tmp="$rules.kefu-tmp"
{
	[ -f "$rules" ] && cat "$rules" || printf '# Written by kefu: USB devices the signed-in user may use (systemd-logind uaccess).\n'
	echo "$locked" | while IFS="$(printf '\t')" read -r _node vendor product name _mode; do
		printf '# %s\n' "$name" | tr -d '\r'
		printf 'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="%s", ATTR{idProduct}=="%s", TAG+="uaccess"\n' "$vendor" "$product"
	done
} >"$tmp" && chmod 644 "$tmp" && mv "$tmp" "$rules" || {
	rm -f "$tmp"
	echo '{"type":"result","status":"failed","summary":"could not write the udev rule"}'
	exit 1
}
if [ -z "$root" ]; then
	if ! { udevadm control --reload-rules && udevadm trigger --subsystem-match=usb --action=change; } 2>/dev/null; then
		echo '{"type":"finding","severity":"info","summary":"Unplug the device and plug it in again so the new rule applies"}'
	fi
fi
echo '{"type":"result","status":"fixed","summary":"added a udev rule (/etc/udev/rules.d/70-kefu-usb-access.rules)"}'
exit 0
