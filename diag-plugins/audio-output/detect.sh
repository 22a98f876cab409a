#!/bin/sh
# kefu plugin audio-output: sound switched off: audio services masked, outputs muted in saved state. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./audio.py detect
