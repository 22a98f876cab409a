# kefu benchmark: bulk throughput through the relay, kefu's transport next to OpenSSH's own.
# SPDX-License-Identifier: MIT
#
# Both pairs move the same bytes through the same private relay (stock sshd on loopback):
# the agent side echoes what the console side sends, MEGABYTES each way.
#   kefu:    tests/tools/relay-peer (libssh2 on libuv, the transport kefu-agentd and
#            kefu-console use), agent with a remote forward, console with direct-tcpip;
#   OpenSSH: `ssh -R localhost:0:...` to an echo server, and `ssh -W localhost:PORT`.
import os
import re
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from conftest import Processes  # noqa: E402
from relay_fixtures import Relay  # noqa: E402
from session_fixtures import issue, make_ca  # noqa: E402

MEGABYTES = 100
RUNS = 3


class EchoServer:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.echo, args=(conn,), daemon=True).start()

    @staticmethod
    def echo(conn):
        buffer = bytearray(256 * 1024)
        with conn:
            while True:
                n = conn.recv_into(buffer)
                if n == 0:
                    return
                conn.sendall(memoryview(buffer)[:n])


def ssh_base(relay, user, key, known_hosts):
    return ["ssh", "-F", "/dev/null", "-p", str(relay.port), "-i", key, "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=%s" % known_hosts,
            "-o", "StrictHostKeyChecking=yes", "%s@%s" % (user, relay.host)]


def openssh_run(processes, relay, known_hosts, agent_key, echo):
    agent = processes.start(ssh_base(relay, relay.agent_user, agent_key, known_hosts)
                            + ["-N", "-R", "localhost:0:127.0.0.1:%d" % echo.port],
                            stderr=subprocess.PIPE, text=True)
    port = int(agent.stderr.readline().split()[2])
    total = MEGABYTES * 1000 * 1000
    console = subprocess.Popen(ssh_base(relay, relay.tech_user, relay.tech_key, known_hosts)
                               + ["-W", "localhost:%d" % port],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    chunk = b"\0" * (256 * 1024)
    started = time.monotonic()

    def feed():
        sent = 0
        while sent < total:
            n = min(len(chunk), total - sent)
            console.stdin.write(chunk[:n])
            sent += n
        console.stdin.flush()

    feeder = threading.Thread(target=feed)
    feeder.start()
    received = 0
    while received < total:
        data = console.stdout.read1(1 << 20)
        if not data:
            break
        received += len(data)
    elapsed = time.monotonic() - started
    feeder.join()
    console.stdin.close()
    console.kill()
    console.wait()
    agent.kill()
    agent.wait()
    return 2 * received / elapsed / 1e6


def kefu_run(processes, build, relay, pin, tls=None):
    peer = os.path.join(build, "tools", "relay-peer")
    agent_env = dict(os.environ, TLS=tls[0]) if tls else None
    console_env = dict(os.environ, TLS=tls[1]) if tls else None
    agent = processes.start([peer, "agent", relay.host, str(relay.port), relay.agent_user, pin],
                            stdout=subprocess.PIPE, text=True, env=agent_env)
    port = agent.stdout.readline().split()[1]
    result = subprocess.run([peer, "console", relay.host, str(relay.port), relay.tech_user,
                             relay.tech_key, pin, port, "bulk", str(MEGABYTES)],
                            capture_output=True, text=True, timeout=300, env=console_env)
    agent.kill()
    agent.wait()
    match = re.search(r"([\d.]+) MB/s", result.stdout)
    if match is None:
        raise RuntimeError("relay-peer failed: %s" % result.stdout)
    pings = re.search(r"pings during bulk (\d+), slowest ([\d.]+) ms", result.stdout)
    return float(match.group(1)), int(pings.group(1)), float(pings.group(2))


def median(values):
    return sorted(values)[len(values) // 2]


def main(build):
    processes = Processes()
    relay = Relay(processes)
    try:
        pin = os.path.join(relay.clients, "pin")
        known_hosts = os.path.join(relay.clients, "known_hosts")
        with open(pin, "w") as out:
            out.write(relay.host_key_line + "\n")
        with open(known_hosts, "w") as out:
            out.write("[%s]:%d %s\n" % (relay.host, relay.port, relay.host_key_line))
        agent_key = os.path.join(relay.clients, "agent")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", agent_key],
                       check=True)
        echo = EchoServer()
        ca_key, ca = make_ca(relay.clients, "Bench")
        chain, key = issue(relay.clients, ca_key, ca, "Bench Tech", "Bench")
        tls = (ca, "%s:%s" % (chain, key))
        kefu, kefu_tls, openssh, pings = [], [], [], []
        for _ in range(RUNS):
            rate, ping_count, slowest = kefu_run(processes, build, relay, pin, tls)
            kefu_tls.append(rate)
            pings.append((ping_count, slowest))
            kefu.append(kefu_run(processes, build, relay, pin)[0])
            openssh.append(openssh_run(processes, relay, known_hosts, agent_key, echo))
        k, t, o = median(kefu), median(kefu_tls), median(openssh)
        print("bulk through the relay, %d MB each way, median of %d runs (MB/s, both ways):"
              % (MEGABYTES, RUNS))
        print("  kefu, TLS 1.3 end to end inside SSH  %7.1f" % t)
        print("  kefu transport without TLS           %7.1f" % k)
        print("  OpenSSH ssh -R + ssh -W              %7.1f" % o)
        print("  ratio kefu with TLS / OpenSSH        %7.2f  (goal >= 0.80)" % (t / o))
        print("  control pings answered during the kefu TLS transfer: %s"
              % ", ".join("%d (slowest %.1f ms)" % p for p in pings))
    finally:
        relay.cleanup()
        processes.stop_all()
