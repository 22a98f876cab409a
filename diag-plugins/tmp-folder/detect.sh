#!/bin/sh
# kefu plugin tmp-folder: the shared temporary folders' permissions and room. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./tmp.py detect
