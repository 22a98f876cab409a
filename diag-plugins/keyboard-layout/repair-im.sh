#!/bin/sh
# kefu plugin keyboard-layout: stop naming an input method that is not installed. SPDX-License-Identifier: MIT
cd "$(dirname "$0")" && exec /usr/bin/python3 ./keyboard.py repair-im
