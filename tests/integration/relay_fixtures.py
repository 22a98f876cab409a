# kefu: a private relay (stock OpenSSH sshd with kefu's shipped configuration) on loopback.
# SPDX-License-Identifier: MIT
#
#   relay = start_relay(processes)
#   relay.host, relay.port          where it listens (127.0.0.1, a free port)
#   relay.host_key_line             "ssh-ed25519 AAAA..." to pin
#   relay.agent_user, relay.tech_user
#   relay.tech_key                  path of a registered technician's private key (.pub beside)
#   relay.add_technician(name)      registers another key; returns its private key path
#   relay.stop()                    kills sshd (a relay that dies mid-session)
#   Relay(processes, edits=[(old, new)])   the shipped configuration with lines changed
#   tcp_sockets(pids)               the kernel's view of the processes' TCP connections
#
# sshd runs as root here because the relay's two accounts must be real users: CI runs the
# tests as root. The keys command must sit on a root-owned path that no one else can
# write, so the relay's files live in a private directory under /run, not /tmp.
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import SOURCE_DIR

RELAY_SOURCE = os.path.join(SOURCE_DIR, "packaging", "relay")
AGENT_USER = "kefu-agent"
TECH_USER = "kefu-tech"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_user(name):
    """The relay's accounts, as kefu-relay-setup makes them: no password, not locked
    (sshd without PAM refuses a locked account even for key logins)."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", name], check=True, timeout=30)
    subprocess.run(["usermod", "-p", "*", name], check=True, timeout=30)


def make_key(path, comment):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path],
                   check=True, timeout=30)
    return path


class Relay:
    def __init__(self, processes, host="127.0.0.1", edits=()):
        if os.geteuid() != 0:
            pytest.skip("the relay tests run sshd as root (CI does); run them as root")
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        if not os.path.exists(sshd):
            pytest.skip("openssh-server is not installed")
        for user in (AGENT_USER, TECH_USER):
            ensure_user(user)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="kefu-relay-", dir="/run")
        os.chmod(self.dir, 0o755)
        self.libexec = os.path.join(self.dir, "libexec")
        self.config = os.path.join(self.dir, "etc")
        self.registry = os.path.join(self.config, "technicians")
        os.makedirs(self.libexec, mode=0o755)
        os.makedirs(self.registry, mode=0o755)
        keys = os.path.join(self.libexec, "kefu-relay-keys")
        shutil.copy(os.path.join(RELAY_SOURCE, "kefu-relay-keys"), keys)
        os.chmod(keys, 0o755)
        with open(os.path.join(RELAY_SOURCE, "kefu-relay.conf")) as shipped:
            dropin = shipped.read().replace("@LIBEXEC@", self.libexec).replace(
                "@CONFIG@", self.config)
        for old, new in edits:  # a relay configured otherwise (an older kefu-relay.conf)
            assert old in dropin, old
            dropin = dropin.replace(old, new)
        with open(os.path.join(self.config, "kefu-relay.conf"), "w") as out:
            out.write(dropin)
        self.host_key = make_key(os.path.join(self.dir, "host_ed25519"), "relay")
        with open(self.host_key + ".pub") as pub:
            self.host_key_line = " ".join(pub.read().split()[:2])
        self.clients = tempfile.mkdtemp(prefix="kefu-relay-clients-")
        self.tech_key = self.add_technician("alice")
        self.host = host  # another address: a benchmark's shaped link
        self.port = free_port()
        self.agent_user, self.tech_user = AGENT_USER, TECH_USER
        self.sshd_config = os.path.join(self.dir, "sshd_config")
        with open(self.sshd_config, "w") as out:
            out.write("\n".join([
                "Port %d" % self.port,
                "ListenAddress %s" % self.host,
                "HostKey %s" % self.host_key,
                "PidFile %s" % os.path.join(self.dir, "sshd.pid"),
                "UsePAM no",
                "PermitRootLogin no",
                "AllowUsers %s %s" % (AGENT_USER, TECH_USER),
                "LogLevel VERBOSE",
                "Include %s" % os.path.join(self.config, "kefu-relay.conf"),
                ""]))
        self.log = os.path.join(self.dir, "sshd.log")
        self.processes = processes
        self.proc = None
        self.start()

    def start(self):
        self.proc = self.processes.start(
            ["/usr/sbin/sshd", "-D", "-e", "-f", self.sshd_config, "-E", self.log])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited: %s" % open(self.log).read())
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start within 10 s")

    def add_technician(self, name):
        key = make_key(os.path.join(self.clients, name), name)
        shutil.copy(key + ".pub", os.path.join(self.registry, name + ".pub"))
        return key

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def kill(self):
        """The whole relay dies at once: this sshd and every connection it serves (the
        per-connection children and theirs), and nothing of another relay on the machine."""
        doomed = descendants(self.proc.pid) if self.proc is not None else []
        self.stop()
        for pid in doomed:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.clients, ignore_errors=True)

    def sshd_log(self):
        with open(self.log, errors="replace") as log:
            return log.read()


def descendants(pid):
    """Every process below pid, read from /proc (children first found, then theirs)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as stat:
                # The name in parentheses may hold spaces; the parent follows the state.
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        for child in parents.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def start_relay(processes):
    return Relay(processes)


@pytest.fixture
def relay(processes):
    instance = Relay(processes)
    yield instance
    instance.cleanup()


_libc = ctypes.CDLL(None, use_errno=True)
SYS_pidfd_getfd = 438  # in the table shared by x86-64, arm64 and most others (not alpha)


def tcp_sockets(pids):
    """The kernel's view of every TCP connection the processes hold: a list of
    (pid, local address, peer address, whether TCP_NODELAY is set), read through a copy
    of each socket taken with pidfd_getfd (needs root, as the relay tests run)."""
    found = []
    for pid in pids:
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            continue
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    if not os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                        continue
                except OSError:
                    continue
                copy = _libc.syscall(SYS_pidfd_getfd, pidfd, int(fd), 0)
                if copy < 0:
                    continue
                sock = socket.socket(fileno=copy)
                try:
                    if sock.family not in (socket.AF_INET, socket.AF_INET6) or \
                            sock.type != socket.SOCK_STREAM:
                        continue
                    try:
                        peer = sock.getpeername()[:2]
                    except OSError:
                        continue  # a listener
                    nodelay = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                    found.append((pid, sock.getsockname()[:2], peer, nodelay))
                finally:
                    sock.close()
        finally:
            os.close(pidfd)
    return found
