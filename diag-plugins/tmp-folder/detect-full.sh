#!/bin/sh
# kefu plugin tmp-folder: room left in /tmp. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./tmp.py detect-full
