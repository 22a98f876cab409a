#!/bin/sh
# kefu plugin ca-store: the system's trusted certificates: present, current, not expired. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./castore.py detect
