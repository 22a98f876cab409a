#!/bin/sh
# kefu plugin print-queue-stopped: cancels the documents that keep stopping a queue, then resumes it. SPDX-License-Identifier: MIT
. ./lib.sh
server=$(cups_server)
failed=0
for q in $(stopped_queues); do
	n=$(waiting_jobs "$q")
	cancel -h "$server" -a "$q" || failed=1
	cupsenable -h "$server" "$q" && cupsaccept -h "$server" "$q" || failed=1
	printf '{"type":"finding","severity":"warning","summary":"Cancelled %s document(s) stuck in %s; print them again"}\n' \
		"$n" "$(json_text "$q")"
done
if [ "$failed" = 1 ]; then
	echo '{"type":"result","status":"failed","summary":"the print server refused to clear or resume a printer"}'
	exit 1
fi
echo '{"type":"result","status":"fixed"}'
exit 0
