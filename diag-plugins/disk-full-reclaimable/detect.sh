#!/bin/sh
# kefu plugin disk-full-reclaimable: a nearly full disk and what can be freed safely. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./reclaim.py detect
