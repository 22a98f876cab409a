#!/bin/sh
# kefu plugin packages-broken: an interrupted dpkg and packages left half installed. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./packages.py detect
