#!/bin/sh
# kefu plugin name-resolution-config: detect a hosts line without dns. SPDX-License-Identifier: MIT
conf="${KEFU_ROOT:-}/etc/nsswitch.conf"
if [ ! -f "$conf" ]; then
	echo '{"type":"result","status":"not-applicable","summary":"no /etc/nsswitch.conf"}'
	exit 2
fi
line=$(grep -E '^[[:space:]]*hosts:' "$conf" | tail -n 1)
if [ -z "$line" ]; then
	echo '{"type":"result","status":"ok","summary":"no hosts line, the C library default asks DNS"}'
	exit 0
fi
case " $(echo "$line" | sed 's/#.*//; s/^[[:space:]]*hosts://') " in
*[[:space:]]dns[[:space:]]* | *[[:space:]]resolve[[:space:]]*)
	echo '{"type":"result","status":"ok","summary":"the hosts line asks DNS"}'
	exit 0
	;;
esac
echo '{"type":"finding","severity":"error","summary":"The system never asks a name server for web addresses","detail":"/etc/nsswitch.conf hosts line has no dns source"}'
echo '{"type":"result","status":"problem"}'
exit 1
