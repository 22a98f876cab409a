#!/bin/sh
# kefu plugin firmware-missing: installs the downloaded packages that ship missing firmware. SPDX-License-Identifier: MIT
. ./lib.sh
root=$(kefu_root)
tab=$(printf '\t')
debs=$(missing_firmware | while IFS="$tab" read -r file _driver _device; do
	package_in_cache "$file"
done | sort -u)
if [ -z "$debs" ]; then
	echo '{"type":"result","status":"failed","summary":"no downloaded package has the missing firmware"}'
	exit 1
fi
for deb in $debs; do
	if [ -n "$root" ]; then
		dpkg --root="$root" -i "$deb" >&2
	else
		dpkg -i "$deb" >&2
	fi || {
		printf '{"type":"finding","severity":"warning","summary":"Installing %s did not finish"}\n' "$(json_text "$(basename "$deb")")"
	}
done
echo '{"type":"result","status":"fixed","summary":"installed the firmware from the downloaded packages"}'
exit 0
