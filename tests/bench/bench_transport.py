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
# kefu's receiver does; kefu also hashes the file on both sides). The two alternate run by run,
# and each side's CPU seconds (every process it takes, the relay's sshd included) are printed:
# on a machine that others share, the time a run takes says as much about them as about us.
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
SEND_RUNS = 5


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


TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid):
    """CPU seconds of pid and every process below it, those still running and those reaped."""
    total = 0.0
    try:
        with open("/proc/%d/stat" % pid) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15]) / TICKS
        with open("/proc/%d/task/%d/children" % (pid, pid)) as children:
            for child in children.read().split():
                total += tree_cpu(int(child))
    except (OSError, ValueError):
        pass  # gone meanwhile: its time is in its parent's reaped children
    return total


def openssh_send(processes, relay, known_hosts, agent_key, sink, path):
    """MB/s and CPU seconds (ssh clients, the relay's sshd, the sink) of one file."""
    t0 = os.times()
    relay0 = tree_cpu(relay.proc.pid)
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
    time.sleep(0.2)  # the relay reaps the connection's processes: their time counts
    t1 = os.times()
    cpu = {"ssh clients": t1.children_user + t1.children_system - t0.children_user
           - t0.children_system,
           "relay": tree_cpu(relay.proc.pid) - relay0,
           "sink": t1.user + t1.system - t0.user - t0.system}
    return sink.received / elapsed / 1e6, cpu


class KefuSend:
    """One real session (kefu-console join, kefu-agentd share, their own relay) with `files`
    granted, in which `send FILE` runs as often as asked."""

    def __init__(self, build, directory):
        os.environ["KEFU_BUILD"] = build
        from session_fixtures import Support, grant, next_event, send

        self.next_event, self.send = next_event, send
        self.processes = Processes()
        self.previous = os.environ.get("XDG_DOWNLOAD_DIR")
        os.environ["XDG_DOWNLOAD_DIR"] = directory
        os.makedirs(os.path.join(directory, "support"))
        self.support = Support(self.processes, os.path.join(directory, "support"))
        self.agent = self.support.start_agent()
        self.console = self.support.start_console(self.agent.code, "--json")
        next_event(self.console, "connected")
        self.agent.wait_for("is now with you")
        grant(self.agent, self.console, "files")

    def cpu(self):
        return {"agent": tree_cpu(self.agent.proc.pid), "console": tree_cpu(self.console.pid),
                "relay": tree_cpu(self.support.relay.proc.pid)}

    def run(self, path):
        """MB/s and CPU seconds (agent, console, the relay's sshd) from the command to its
        "file" event."""
        cpu0 = self.cpu()
        started = time.monotonic()
        self.send(self.console, "send %s" % path)
        done = self.next_event(self.console, "file", "error", limit=100000)
        elapsed = time.monotonic() - started
        cpu = {part: seconds - cpu0[part] for part, seconds in self.cpu().items()}
        if done["event"] != "file":
            raise RuntimeError("send failed: %s" % done)
        os.unlink(done["saved"])
        return os.path.getsize(path) / elapsed / 1e6, cpu

    def close(self):
        try:
            self.send(self.console, "end")
            self.console.wait(timeout=30)
            self.agent.finish()
        finally:
            if self.previous is None:
                os.environ.pop("XDG_DOWNLOAD_DIR", None)
            else:
                os.environ["XDG_DOWNLOAD_DIR"] = self.previous
            self.processes.stop_all()
            self.support.cleanup()


def send_comparison(build):
    """kefu's send and OpenSSH's pair, one after the other in each run, each through a relay
    of its own, so that what else the machine does weighs on both alike."""
    directory = tempfile.mkdtemp(prefix="kefu-bench-file-")
    kefu_session = relay = None
    processes = Processes()
    try:
        path = os.path.join(directory, "payload.bin")
        with open(path, "wb") as out:
            block = os.urandom(1 << 20)
            for _ in range(SEND_MEGABYTES):
                out.write(block)
        os.makedirs(os.path.join(directory, "kefu"))
        kefu_session = KefuSend(build, os.path.join(directory, "kefu"))
        relay = Relay(processes)
        known_hosts = os.path.join(relay.clients, "known_hosts")
        with open(known_hosts, "w") as out:
            out.write("[%s]:%d %s\n" % (relay.host, relay.port, relay.host_key_line))
        agent_key = os.path.join(relay.clients, "agent")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", agent_key],
                       check=True)
        sink = SinkServer(os.path.join(directory, "sink.bin"))
        kefu, openssh = [], []
        for _ in range(SEND_RUNS):
            kefu.append(kefu_session.run(path))
            openssh.append(openssh_send(processes, relay, known_hosts, agent_key, sink, path))
        k, o = median([r for r, _ in kefu]), median([r for r, _ in openssh])
        kc = median([sum(c.values()) for _, c in kefu])
        oc = median([sum(c.values()) for _, c in openssh])
        print("a file sent through the relay, %d MiB, runs alternating, median of %d (MB/s):"
              % (SEND_MEGABYTES, SEND_RUNS))
        print("  kefu-console send, in a session       %7.1f   (%s)"
              % (k, " ".join("%.1f" % r for r, _ in kefu)))
        print("  OpenSSH ssh -W < file, -R to a file    %7.1f   (%s)"
              % (o, " ".join("%.1f" % r for r, _ in openssh)))
        print("  ratio kefu / OpenSSH                   %7.2f  (goal >= 0.80)" % (k / o))
        print("  best run each, ratio                   %7.2f  (%.1f / %.1f)"
              % (max(r for r, _ in kefu) / max(r for r, _ in openssh),
                 max(r for r, _ in kefu), max(r for r, _ in openssh)))
        print("  CPU seconds per file, all processes: kefu %.2f, OpenSSH %.2f (ratio %.2f)"
              % (kc, oc, oc / kc))
        for name, runs in (("kefu", kefu), ("OpenSSH", openssh)):
            print("    %-8s %s" % (name, ", ".join(
                "%s %.2f" % (part, median([c[part] for _, c in runs])) for part in runs[0][1])))
        print("  machine load (1 min) at the end: %s" % open("/proc/loadavg").read().split()[0])
    finally:
        if kefu_session is not None:
            kefu_session.close()
        if relay is not None:
            relay.cleanup()
        processes.stop_all()
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
