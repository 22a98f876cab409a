#!/bin/sh
# kefu plugin name-resolution-config: a hosts entry that never reaches a name server. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./nsswitch.py detect
