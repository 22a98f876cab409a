#!/bin/sh
# kefu plugin disk-full-reclaimable: trash held for more than 30 days on a nearly full disk. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./reclaim.py detect-trash
