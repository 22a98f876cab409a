#!/bin/sh
# kefu plugin hosts-loopback: localhost and the own name in /etc/hosts. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./hosts.py detect
