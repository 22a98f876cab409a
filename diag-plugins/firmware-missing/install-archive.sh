#!/bin/sh
# kefu plugin firmware-missing: installs the firmware packages from the package archive. SPDX-License-Identifier: MIT
. ./lib.sh
root=$(kefu_root)
tab=$(printf '\t')
pkgs=$(missing_firmware | while IFS="$tab" read -r file _driver _device; do
	package_in_index "$file"
done | sort -u)
if [ -z "$pkgs" ]; then
	echo '{"type":"result","status":"failed","summary":"no package in the archive index has the missing firmware"}'
	exit 1
fi
if [ -n "$root" ]; then
	# apt-get installs only into the running system: say what to run there.
	printf '{"type":"finding","severity":"warning","summary":"Run on that system: apt-get install %s"}\n' "$(echo "$pkgs" | tr '\n' ' ' | sed 's/ $//')"
	echo '{"type":"result","status":"failed","summary":"the examined system is not the running one"}'
	exit 1
fi
# shellcheck disable=SC2086 # one word per package
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $pkgs >&2; then
	echo '{"type":"result","status":"failed","summary":"apt-get could not install the firmware (is the non-free-firmware component enabled?)"}'
	exit 1
fi
echo '{"type":"result","status":"fixed"}'
exit 0
