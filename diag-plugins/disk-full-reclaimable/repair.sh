#!/bin/sh
# kefu plugin disk-full-reclaimable: removes downloaded package files. SPDX-License-Identifier: MIT
cache="${KEFU_ROOT:-}/var/cache/apt/archives"
if ! find "$cache" -maxdepth 1 -type f -name '*.deb' -delete; then
	echo '{"type":"result","status":"failed","summary":"could not remove the package files"}'
	exit 1
fi
echo '{"type":"result","status":"fixed","summary":"removed downloaded package files"}'
exit 0
