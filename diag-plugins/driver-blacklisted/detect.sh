#!/bin/sh
# kefu plugin driver-blacklisted: a device's module is blacklisted. SPDX-License-Identifier: MIT
module=$(python3 ./find-module.py) || exit 3
if [ -z "$module" ]; then
	echo '{"type":"result","status":"ok","summary":"no installed driver matches the device"}'
	exit 0
fi
files=$(grep -lE "^[[:space:]]*blacklist[[:space:]]+${module}[[:space:]]*$" "${KEFU_ROOT:-}"/etc/modprobe.d/*.conf 2>/dev/null)
if [ -n "$files" ]; then
	printf '{"type":"finding","severity":"error","summary":"The driver %s is switched off","detail":"blacklisted in %s"}\n' "$module" "$(echo "$files" | tr '\n' ' ')"
	echo '{"type":"result","status":"problem"}'
	exit 1
fi
printf '{"type":"result","status":"ok","summary":"driver %s is not blacklisted"}\n' "$module"
exit 0
