#!/bin/sh
# kefu plugin firmware-missing: drivers whose firmware failed to load and is still missing. SPDX-License-Identifier: MIT
. ./lib.sh
[ -n "${KEFU_REPORT:-}" ] || exit 3
missing=$(missing_firmware) || exit 3
if [ -z "$missing" ]; then
	echo '{"type":"result","status":"ok","summary":"no driver is missing its firmware"}'
	exit 0
fi
tab=$(printf '\t')
echo "$missing" | while IFS="$tab" read -r file driver device; do
	if deb=$(package_in_cache "$file"); then
		where="the downloaded package $(basename "$deb") has it"
	elif pkg=$(package_in_index "$file"); then
		where="the package $pkg has it (install it with: apt-get install $pkg)"
	else
		where="no known package has it; the device maker may provide it"
	fi
	printf '{"type":"finding","severity":"error","summary":"%s cannot start: the firmware file %s is missing","detail":"driver %s; %s"}\n' \
		"$(json_text "$device")" "$(json_text "$file")" "$(json_text "$driver")" "$(json_text "$where")"
done
echo '{"type":"result","status":"problem"}'
exit 1
