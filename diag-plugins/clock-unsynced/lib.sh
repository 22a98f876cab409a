# kefu plugin clock-unsynced: shared by the steps. SPDX-License-Identifier: MIT
# shellcheck shell=sh

kefu_root() {
	r="${KEFU_ROOT:-/}"
	echo "${r%/}"
}

# Why automatic time setting is off (nothing when it is on); exits 2 when no time daemon
# is installed. The unit links are read inside the root (timesync.py).
sync_off_reason() {
	/usr/bin/python3 ./timesync.py state
}

# The time servers the time daemon is configured with (timesync.py: timesyncd.conf and its
# drop-ins as timesyncd reads them, or chrony.conf when chrony is the one switched on).
time_servers() {
	/usr/bin/python3 ./timesync.py servers
}

# Prints the clock's offset in whole seconds from the first time server that answers.
clock_offset() {
	for server in $(time_servers); do
		if offset=$(python3 ./ntp-offset.py "$server" 2>/dev/null); then
			printf '%s %s\n' "${offset%.*}" "$server"
			return 0
		fi
	done
	return 1
}

# "2 hours 5 minutes" for a number of seconds (the sign dropped).
duration() {
	s=${1#-}
	if [ "$s" -ge 86400 ]; then
		echo "$((s / 86400)) day(s)"
	elif [ "$s" -ge 3600 ]; then
		echo "$((s / 3600)) hour(s) $((s % 3600 / 60)) minute(s)"
	elif [ "$s" -ge 60 ]; then
		echo "$((s / 60)) minute(s)"
	else
		echo "$s second(s)"
	fi
}
