#!/bin/sh
# kefu plugin driver-blacklisted: comments out the blacklist line and loads the module. SPDX-License-Identifier: MIT
module=$(python3 ./find-module.py) || exit 3
[ -n "$module" ] || exit 2
for f in "${KEFU_ROOT:-}"/etc/modprobe.d/*.conf; do
	[ -f "$f" ] || continue
	sed -i -E "s/^([[:space:]]*blacklist[[:space:]]+${module}[[:space:]]*)$/# disabled by kefu: \\1/" "$f" || exit 1
done
if [ "${KEFU_ROOT:-/}" = / ]; then
	modprobe "$module" || echo '{"type":"finding","severity":"warning","summary":"the driver did not load yet; restart the computer"}'
fi
echo '{"type":"result","status":"fixed"}'
exit 0
