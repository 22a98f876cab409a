#!/bin/sh
# kefu plugin print-queue-stopped: finds paused queues and the documents stuck in them. SPDX-License-Identifier: MIT
. ./lib.sh
server=$(cups_server)
command -v lpstat >/dev/null || {
	echo '{"type":"result","status":"not-applicable","summary":"the CUPS tools are not installed"}'
	exit 2
}
if [ "$(lpstat -h "$server" -r 2>/dev/null)" != "scheduler is running" ]; then
	echo '{"type":"result","status":"not-applicable","summary":"no print server is running"}'
	exit 2
fi
queues=$(stopped_queues)
if [ -z "$queues" ]; then
	echo '{"type":"result","status":"ok","summary":"every printer is ready"}'
	exit 0
fi
for q in $queues; do
	n=$(waiting_jobs "$q")
	reason=$(queue_reason "$q")
	printf '{"type":"finding","severity":"error","summary":"The printer %s is paused, so nothing prints (%s document(s) waiting)","detail":"%s"}\n' \
		"$(json_text "$q")" "$n" "$(json_text "$reason")"
done
echo '{"type":"result","status":"problem"}'
exit 1
