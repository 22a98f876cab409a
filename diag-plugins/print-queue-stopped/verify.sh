#!/bin/sh
# kefu plugin print-queue-stopped: a resumed queue stays ready and its documents leave it. SPDX-License-Identifier: MIT
. ./lib.sh
server=$(cups_server)
# The first document is tried at once; a printer that fails it pauses again within seconds.
i=0
while [ $i -lt 20 ]; do
	queues=$(stopped_queues)
	busy=0
	for q in $(lpstat -h "$server" -p 2>/dev/null | awk '$1 == "printer" { print $2 }'); do
		[ "$(waiting_jobs "$q")" -gt 0 ] && busy=1
	done
	[ -n "$queues" ] || [ "$busy" = 0 ] && break
	sleep 1
	i=$((i + 1))
done
if [ -n "$queues" ]; then
	for q in $queues; do
		printf '{"type":"finding","severity":"error","summary":"The printer %s paused again","detail":"%s"}\n' \
			"$(json_text "$q")" "$(json_text "$(queue_reason "$q")")"
	done
	echo '{"type":"result","status":"problem"}'
	exit 1
fi
echo '{"type":"result","status":"fixed","summary":"every printer is ready"}'
exit 0
