#!/bin/sh
# kefu plugin device-permission: a udev rule giving the signed-in user the locked USB devices. SPDX-License-Identifier: MIT
[ -n "${KEFU_REPORT:-}" ] || exit 3
cd "$(dirname "$0")" && exec /usr/bin/python3 ./access.py repair
