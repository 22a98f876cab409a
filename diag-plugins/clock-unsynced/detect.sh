#!/bin/sh
# kefu plugin clock-unsynced: automatic time setting off, and the clock's offset. SPDX-License-Identifier: MIT
. ./lib.sh
reason=$(sync_off_reason)
case $? in
0) ;;
2)
	echo '{"type":"result","status":"not-applicable","summary":"no time daemon (systemd-timesyncd, chrony, ntpsec, openntpd) is installed"}'
	exit 2
	;;
*) exit 3 ;;
esac
if found=$(clock_offset); then
	offset=${found%% *}
	if [ "${offset#-}" -ge 60 ]; then
		side=$([ "$offset" -gt 0 ] && echo behind || echo ahead)
		clock="The clock is $(duration "$offset") $side the time server ${found#* }"
	else
		clock="The clock is right to the minute (time server ${found#* })"
	fi
else
	offset=""
	clock="No time server answered, so the clock could not be compared"
fi
if [ -z "$reason" ]; then
	printf '{"type":"result","status":"ok","summary":"the clock is set automatically. %s"}\n' "$clock"
	exit 0
fi
if [ -n "$offset" ] && [ "${offset#-}" -ge 60 ]; then
	printf '{"type":"finding","severity":"error","summary":"%s and is not set automatically","detail":"%s"}\n' "$clock" "$reason"
else
	printf '{"type":"finding","severity":"warning","summary":"The clock is not set automatically and will drift","detail":"%s. %s"}\n' "$reason" "$clock"
fi
echo '{"type":"result","status":"problem"}'
exit 1
