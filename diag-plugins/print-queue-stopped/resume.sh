#!/bin/sh
# kefu plugin print-queue-stopped: resumes paused queues and lets them take jobs. SPDX-License-Identifier: MIT
. ./lib.sh
server=$(cups_server)
failed=0
for q in $(stopped_queues); do
	cupsenable -h "$server" "$q" && cupsaccept -h "$server" "$q" || failed=1
done
if [ "$failed" = 1 ]; then
	echo '{"type":"result","status":"failed","summary":"the print server refused to resume a printer"}'
	exit 1
fi
echo '{"type":"result","status":"fixed","summary":"resumed the paused printers"}'
exit 0
