# kefu plugin print-queue-stopped: shared by the steps. SPDX-License-Identifier: MIT
# shellcheck shell=sh
# The steps set server=$(cups_server) and the functions below ask that server.

# The print server as the customer's own programs find it: ServerName in
# client.conf (a socket path is under the root), else CUPS's local socket.
cups_server() {
	root="${KEFU_ROOT:-/}"
	root="${root%/}"
	# client.conf(5): directive names in any case, '#' lines are comments, the last
	# ServerName counts; the file is read with links resolved inside the root.
	name=$(/usr/bin/python3 ./client-conf.py)
	case "$name" in
	"") echo "$root/run/cups/cups.sock" ;;
	/*) echo "$root$name" ;;
	*) echo "$name" ;;
	esac
}

# Prints the queues that are paused or refuse jobs, one name a line.
stopped_queues() {
	{
		lpstat -h "$server" -p 2>/dev/null | awk '$1 == "printer" && $3 == "disabled" { print $2 }'
		lpstat -h "$server" -a 2>/dev/null | awk '$2 == "not" && $3 == "accepting" { print $1 }'
	} | sort -u
}

# The number of documents waiting in queue $1.
waiting_jobs() {
	lpstat -h "$server" -o "$1" 2>/dev/null | awk -v p="$1-" 'index($1, p) == 1 { n++ } END { print n + 0 }'
}

# The printer's own words on why it stopped: its message and its alerts (state reasons).
queue_reason() {
	lpstat -h "$server" -l -p "$1" 2>/dev/null | awk '
		{ sub(/^[ \t]+/, "") }
		NR == 2 && $0 != "reason unknown" { message = $0 }
		/^Alerts:/ && NF > 1 { alerts = $0 }
		END { print message (message != "" && alerts != "" ? "; " : "") alerts }'
}

json_text() {
	printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g'
}
