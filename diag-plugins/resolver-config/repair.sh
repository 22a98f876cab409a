#!/bin/sh
# kefu plugin resolver-config: point /etc/resolv.conf at a name server that answers. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./resolv.py repair
