#!/bin/sh
# kefu plugin keyboard-layout: the keyboard layout and input method against what is installed. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./keyboard.py detect
