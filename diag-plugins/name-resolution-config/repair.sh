#!/bin/sh
# kefu plugin name-resolution-config: make the hosts entry reach a name server. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./nsswitch.py repair
