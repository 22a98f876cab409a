#!/bin/sh
# kefu plugin essential-services: switch the essential services back on with systemctl. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./services.py repair
