#!/usr/bin/python3
# kefu plugin clock-unsynced: asks an NTP server (RFC 5905, client mode) how far this
# clock is from it; prints the offset in seconds. SPDX-License-Identifier: MIT
import socket
import struct
import sys
import time

NTP_EPOCH = 2208988800  # seconds from 1900 to 1970


def ntp_time(seconds, fraction):
    return seconds - NTP_EPOCH + fraction / 2**32


for family, kind, proto, _, address in socket.getaddrinfo(sys.argv[1], 123, 0,
                                                          socket.SOCK_DGRAM):
    with socket.socket(family, kind, proto) as s:
        s.settimeout(2)
        t1 = time.time()
        try:
            s.sendto(b"\x23" + bytes(47), address)  # LI 0, version 4, mode 3 (client)
            data = s.recv(512)
        except OSError:
            continue
        t4 = time.time()
    if len(data) < 48 or data[0] & 7 != 4 or data[1] == 0:  # a server, synchronised
        continue
    t2 = ntp_time(*struct.unpack("!II", data[32:40]))
    t3 = ntp_time(*struct.unpack("!II", data[40:48]))
    print("%.1f" % (((t2 - t1) + (t3 - t4)) / 2))
    sys.exit(0)
sys.exit(1)
