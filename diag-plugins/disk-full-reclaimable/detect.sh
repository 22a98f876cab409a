#!/bin/sh
# kefu plugin disk-full-reclaimable: a nearly full disk with package files to remove. SPDX-License-Identifier: MIT
root="${KEFU_ROOT:-/}"
cache="$root/var/cache/apt/archives"
used=$(df -P "$root/" | awk 'NR == 2 { sub("%", "", $5); print $5 }')
if [ -z "$used" ]; then
	echo '{"type":"result","status":"failed","summary":"df gave no answer"}'
	exit 3
fi
reclaim=$(find "$cache" -maxdepth 1 -type f -name '*.deb' -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print int(s / 1024) }')
if [ "$used" -ge 90 ] && [ "$reclaim" -gt 0 ]; then
	printf '{"type":"finding","severity":"warning","summary":"The disk is %s%% full","detail":"%s KiB of downloaded package files can be removed"}\n' "$used" "$reclaim"
	echo '{"type":"result","status":"problem"}'
	exit 1
fi
printf '{"type":"result","status":"ok","summary":"disk %s%% used, %s KiB reclaimable"}\n' "$used" "$reclaim"
exit 0
