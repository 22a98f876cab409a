#!/bin/sh
# kefu plugin audio-output: switch the sound back on. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./audio.py repair
