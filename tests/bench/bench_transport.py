# kefu benchmark: bulk throughput through the relay, kefu's transport next to OpenSSH's own.
# SPDX-License-Identifier: MIT
#
# Both pairs move the same bytes through the same private relay (stock sshd on loopback):
# the agent side echoes what the console side sends, MEGABYTES each way.
#   kefu:    tests/tools/relay-peer (libssh2 on libuv, the transport kefu-agentd and
#            kefu-console use), agent with a remote forward, console with direct-tcpip;
#   OpenSSH: `ssh -R localhost:0:...` to an echo server, and `ssh -W localhost:PORT`.
# Then a file as the technician sends it: `send FILE` (SEND_MEGABYTES) in a real session
# (kefu-console join, kefu-agentd share, TLS, the file checked by SHA-256 and saved whole) from
# the command to its "file" event, next to OpenSSH's pair moving the same file one way into a
# file (`ssh -W` fed from the file, the -R forward to a server that writes it and syncs it, as
# kefu's receiver does; kefu also hashes the file before and while it travels).
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from conftest import Processes  # noqa: E402
from relay_fixtures import Relay  # noqa: E402
from session_fixtures import issue, make_ca  # noqa: E402

MEGABYTES = 100
SEND_MEGABYTES = 200
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


class SinkServer:
    """Writes what each connection sends into a file; done is set with the byte count."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.received = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        buffer = bytearray(1 << 20)
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.received = 0
            with conn, open(self.path, "wb") as out:
                while True:
                    n = conn.recv_into(buffer)
                    if n == 0:
                        break
                    out.write(memoryview(buffer)[:n])
                    self.received += n
                # As kefu's receiver does before it reports the file saved.
                out.flush()
                os.fsync(out.fileno())
            self.done.set()


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


def openssh_send(processes, relay, known_hosts, agent_key, sink, path):
    agent = processes.start(ssh_base(relay, relay.agent_user, agent_key, known_hosts)
                            + ["-N", "-R", "localhost:0:127.0.0.1:%d" % sink.port],
                            stderr=subprocess.PIPE, text=True)
    port = int(agent.stderr.readline().split()[2])
    sink.done.clear()
    started = time.monotonic()
    with open(path, "rb") as source:
        subprocess.run(ssh_base(relay, relay.tech_user, relay.tech_key, known_hosts)
                       + ["-W", "localhost:%d" % port], stdin=source, stdout=subprocess.DEVNULL,
                       timeout=300)
    if not sink.done.wait(timeout=60):
        raise RuntimeError("the OpenSSH copy did not arrive")
    elapsed = time.monotonic() - started
    agent.kill()
    agent.wait()
    return sink.received / elapsed / 1e6


def kefu_send(build, path, runs):
    """`send` in one real session, runs times; MB/s of each."""
    os.environ["KEFU_BUILD"] = build
    from session_fixtures import Support, grant, next_event, send

    processes = Processes()
    directory = tempfile.mkdtemp(prefix="kefu-bench-send-")
    previous = os.environ.get("XDG_DOWNLOAD_DIR")
    os.environ["XDG_DOWNLOAD_DIR"] = directory
    support = None
    try:
        os.makedirs(os.path.join(directory, "support"))
        support = Support(processes, os.path.join(directory, "support"))
        agent = support.start_agent()
        console = support.start_console(agent.code, "--json")
        next_event(console, "connected")
        agent.wait_for("is now with you")
        grant(agent, console, "files")
        rates = []
        for _ in range(runs):
            started = time.monotonic()
            send(console, "send %s" % path)
            done = next_event(console, "file", "error", limit=100000)
            elapsed = time.monotonic() - started
            if done["event"] != "file":
                raise RuntimeError("send failed: %s" % done)
            rates.append(os.path.getsize(path) / elapsed / 1e6)
            os.unlink(done["saved"])
        send(console, "end")
        console.wait(timeout=30)
        agent.finish()
        return rates
    finally:
        if previous is None:
            os.environ.pop("XDG_DOWNLOAD_DIR", None)
        else:
            os.environ["XDG_DOWNLOAD_DIR"] = previous
        processes.stop_all()
        if support is not None:
            support.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


def send_comparison(build):
    """kefu's send and OpenSSH's pair, alternating, through one relay each run."""
    directory = tempfile.mkdtemp(prefix="kefu-bench-file-")
    try:
        path = os.path.join(directory, "payload.bin")
        with open(path, "wb") as out:
            block = os.urandom(1 << 20)
            for _ in range(SEND_MEGABYTES):
                out.write(block)
        kefu = kefu_send(build, path, RUNS)
        processes = Processes()
        relay = Relay(processes)
        try:
            known_hosts = os.path.join(relay.clients, "known_hosts")
            with open(known_hosts, "w") as out:
                out.write("[%s]:%d %s\n" % (relay.host, relay.port, relay.host_key_line))
            agent_key = os.path.join(relay.clients, "agent")
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", agent_key],
                           check=True)
            sink = SinkServer(os.path.join(directory, "sink.bin"))
            openssh = [openssh_send(processes, relay, known_hosts, agent_key, sink, path)
                       for _ in range(RUNS)]
        finally:
            relay.cleanup()
            processes.stop_all()
        k, o = median(kefu), median(openssh)
        print("a file sent through the relay, %d MiB, median of %d runs (MB/s):"
              % (SEND_MEGABYTES, RUNS))
        print("  kefu-console send, in a session       %7.1f   (%s)"
              % (k, " ".join("%.1f" % r for r in kefu)))
        print("  OpenSSH ssh -W < file, -R to a file    %7.1f   (%s)"
              % (o, " ".join("%.1f" % r for r in openssh)))
        print("  ratio kefu / OpenSSH                   %7.2f  (goal >= 0.80)" % (k / o))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


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
        kefu, kefu_tls, openssh, pings, failures = [], [], [], [], []
        for _ in range(RUNS):
            # A failed run is said, not hidden, and the others still count.
            try:
                rate, ping_count, slowest = kefu_run(processes, build, relay, pin, tls)
                kefu_tls.append(rate)
                pings.append((ping_count, slowest))
            except RuntimeError as error:
                failures.append("with TLS: %s" % str(error).splitlines()[0])
            try:
                kefu.append(kefu_run(processes, build, relay, pin)[0])
            except RuntimeError as error:
                failures.append("without TLS: %s" % str(error).splitlines()[0])
            openssh.append(openssh_run(processes, relay, known_hosts, agent_key, echo))
        if not kefu or not kefu_tls:
            raise RuntimeError("every kefu run failed: %s" % "; ".join(failures))
        k, t, o = median(kefu), median(kefu_tls), median(openssh)
        print("bulk through the relay, %d MB each way, median of %d runs (MB/s, both ways):"
              % (MEGABYTES, RUNS))
        print("  kefu, TLS 1.3 end to end inside SSH  %7.1f" % t)
        print("  kefu transport without TLS           %7.1f" % k)
        print("  OpenSSH ssh -R + ssh -W              %7.1f" % o)
        print("  ratio kefu with TLS / OpenSSH        %7.2f  (goal >= 0.80)" % (t / o))
        print("  control pings answered during the kefu TLS transfer: %s"
              % ", ".join("%d (slowest %.1f ms)" % p for p in pings))
        for failure in failures:
            print("  FAILED kefu run %s" % failure)
    finally:
        relay.cleanup()
        processes.stop_all()
    send_comparison(build)
