#!/bin/sh
# kefu plugin hosts-loopback: give localhost and the own name their loopback addresses. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./hosts.py repair
