#!/bin/sh
# kefu plugin name-resolution-config: add dns to the hosts line. SPDX-License-Identifier: MIT
conf="${KEFU_ROOT:-}/etc/nsswitch.conf"
tmp="$conf.kefu-tmp"
[ -f "$conf" ] || exit 2
if ! sed -E '/^[[:space:]]*hosts:/ { s/#.*//; s/[[:space:]]*$/ dns/; }' "$conf" >"$tmp"; then
	rm -f "$tmp"
	echo '{"type":"result","status":"failed","summary":"could not write the new configuration"}'
	exit 1
fi
cp -p "$conf" "$conf.kefu-backup" && chmod --reference="$conf" "$tmp" && mv "$tmp" "$conf"
echo '{"type":"result","status":"fixed","summary":"added dns to the hosts line (backup in /etc/nsswitch.conf.kefu-backup)"}'
exit 0
