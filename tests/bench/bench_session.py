# kefu benchmark: session set-up time, from the code entered to both sides ready.
# SPDX-License-Identifier: MIT
#
# The technician's clock starts when `kefu-console join CODE` starts and stops at its
# "connected" event: SSH to the relay (handshake, host-key check, authentication), the
# channel to the customer's forward, TLS 1.3, the SPAKE2 code proof and hello both ways.
# The peer is OpenSSH's own client doing only the first two of those (`ssh -W` to the
# forwarded port, until the first byte comes back).
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

RUNS = 10


def main(build):
    os.environ["KEFU_BUILD"] = build
    from conftest import Processes
    from session_fixtures import Support

    processes = Processes()
    directory = tempfile.mkdtemp(prefix="kefu-bench-session-")
    support = Support(processes, directory)
    try:
        kefu = []
        for _ in range(RUNS):
            agent = support.start_agent()
            started = time.monotonic()
            console = support.start_console(agent.code, "--json")
            event = json.loads(console.stdout.readline())
            kefu.append(time.monotonic() - started)
            assert event["event"] == "connected", event
            console.stdin.write("end\n")
            console.stdin.flush()
            console.wait(timeout=30)
            agent.finish()
        relay = support.relay
        known = os.path.join(directory, "known_hosts")
        with open(known, "w") as out:
            out.write("[%s]:%d %s\n" % (relay.host, relay.port, relay.host_key_line))
        openssh = []
        for _ in range(RUNS):
            agent = support.start_agent()
            port = int(agent.code.replace(" ", "")[1:6])
            started = time.monotonic()
            proc = subprocess.Popen(["ssh", "-F", "/dev/null", "-p", str(relay.port), "-i",
                                     relay.tech_key, "-o", "BatchMode=yes",
                                     "-o", "UserKnownHostsFile=%s" % known,
                                     "-W", "localhost:%d" % port,
                                     "%s@%s" % (relay.tech_user, relay.host)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            proc.stdin.write(b"\x16\x03\x01\x00\x05hello")  # the agent answers any bytes
            proc.stdin.flush()
            proc.stdout.read(1)
            openssh.append(time.monotonic() - started)
            proc.kill()
            proc.wait()
            agent.proc.kill()
            agent.proc.wait()
        kefu.sort()
        openssh.sort()
        k, o = kefu[len(kefu) // 2], openssh[len(openssh) // 2]
        print("session set-up on loopback, median of %d (code entered -> both ready):" % RUNS)
        print("  kefu-console join: SSH + channel + TLS 1.3 + SPAKE2 + hello  %6.1f ms"
              " (goal < 500 ms)" % (k * 1000))
        print("  OpenSSH ssh -W to the forward, first byte back              %6.1f ms" % (o * 1000))
        print("  ratio                                                       %6.2f" % (k / o))
    finally:
        support.cleanup()
        processes.stop_all()
