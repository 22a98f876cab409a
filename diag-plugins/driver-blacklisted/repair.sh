#!/bin/sh
# kefu plugin driver-blacklisted: takes out what keeps the driver off and loads it. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./driver.py repair
