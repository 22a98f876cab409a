# kefu: a whole support set-up for session tests: relay, support CA, technician, profile.
# SPDX-License-Identifier: MIT
#
#   support = Support(processes, tmp_path)     (or the `support` fixture)
#   make_ca() and issue() make certificates with openssl(1), for CAs that are not ours.
#   support.profile                            path of the customer's support profile
#   support.relay                              the running relay (relay_fixtures.Relay)
#   support.console_args()                     kefu-console join options for Alice
#   agent = support.start_agent()              kefu-agentd share; agent.code is the code
import json
import os
import queue
import re
import subprocess
import threading
import time

import pytest

from conftest import program
from relay_fixtures import Relay


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(directory, organisation):
    key, cert = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    openssl("genpkey", "-algorithm", "ed25519", "-out", key)
    openssl("req", "-x509", "-new", "-key", key, "-out", cert, "-days", "30",
            "-subj", "/CN=%s support CA/O=%s" % (organisation, organisation),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    return key, cert


def issue(directory, ca_key, ca_cert, name, organisation, days=30):
    key = os.path.join(directory, "%s.key" % name)
    csr = os.path.join(directory, "%s.csr" % name)
    leaf = os.path.join(directory, "%s.crt" % name)
    chain = os.path.join(directory, "%s.pem" % name)
    ext = os.path.join(directory, "%s.ext" % name)
    with open(ext, "w") as out:
        out.write("basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n")
    openssl("genpkey", "-algorithm", "ed25519", "-out", key)
    openssl("req", "-new", "-key", key, "-out", csr, "-subj", "/CN=%s/O=%s" % (name, organisation))
    openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
            "-out", leaf, "-days", str(days), "-extfile", ext)
    with open(chain, "w") as out:
        out.write(open(leaf).read() + open(ca_cert).read())
    return chain, key


class Agent:
    """A running kefu-agentd share, read line by line: a thread reads its output, so that
    a wait ends at its timeout even while the agent says nothing."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []  # what the waits have read, and after finish() the rest
        self.fresh = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.code = self.wait_for(r"Your code:\s+([\d ]+)").group(1).strip()

    def _read(self):
        for line in iter(self.proc.stdout.readline, ""):
            self.fresh.put(line.rstrip("\n"))
        self.fresh.put(None)

    def wait_for(self, pattern, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                line = self.fresh.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self.fresh.put(None)  # its output ended: so it stays for later waits
                break
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError("agent never printed %r within %d s; it printed:\n%s"
                             % (pattern, timeout, "\n".join(self.lines)))

    def next_line(self, timeout=20):
        """The agent's next line; None once its output ended or after timeout seconds."""
        try:
            line = self.fresh.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is None:
            self.fresh.put(None)
        else:
            self.lines.append(line)
        return line

    def following(self):
        """Every further line as it comes, until the agent's output ends."""
        while True:
            line = self.fresh.get()
            if line is None:
                self.fresh.put(None)  # the end stays seen for later waits
                return
            self.lines.append(line)
            yield line

    def say(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout=20):
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        self.proc.wait(timeout=timeout)
        self.reader.join(timeout=timeout)
        while True:
            try:
                line = self.fresh.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return self.proc.returncode


def kefu_console(*args):
    result = subprocess.run([program("kefu-console")] + list(args), capture_output=True,
                            text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError("kefu-console %s failed: %s" % (args[0], result.stderr))
    return result.stdout


class Support:
    """The organisation's side, made with kefu's own tools: `kefu-console ca init`,
    `ca issue` for Alice Tan, and `ca profile` for the customer's support profile."""

    def __init__(self, processes, directory, relay_host="127.0.0.1"):
        self.processes = processes
        self.dir = str(directory)
        self.relay = Relay(processes, relay_host)
        self.ca_dir = os.path.join(self.dir, "ca")
        try:
            kefu_console("ca", "init", "--dir", self.ca_dir, "--org", "Example Support")
            kefu_console("ca", "issue", "Alice Tan", "--dir", self.ca_dir)
        except BaseException:
            self.relay.cleanup()  # nothing else would remove its private directory
            raise
        self.ca = os.path.join(self.ca_dir, "ca.pem")
        self.cert = os.path.join(self.ca_dir, "technicians", "Alice Tan.pem")
        self.key = os.path.join(self.ca_dir, "technicians", "Alice Tan.key")
        self.profile = os.path.join(self.dir, "profile.json")
        with open(self.profile, "w") as out:
            out.write(kefu_console("ca", "profile", "--dir", self.ca_dir, "--relay",
                                   "%s:%d" % (self.relay.host, self.relay.port),
                                   "--host-key", self.relay.host_key_line))

    def console_args(self, cert=None, key=None):
        return ["--profile", self.profile, "--cert", cert or self.cert, "--key", key or self.key,
                "--ssh-key", self.relay.tech_key]

    def start_agent(self, *extra, prefix=()):
        """prefix: a command the agent runs under (`ip netns exec NAME`: a shaped link)."""
        proc = self.processes.start(list(prefix) + [program("kefu-agentd"), "share", "--profile",
                                                    self.profile] + list(extra),
                                    stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
        return Agent(proc)

    def join(self, code, *args, cert=None, key=None, timeout=30):
        return subprocess.run([program("kefu-console"), "join"] + self.console_args(cert, key)
                              + list(args) + [code], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def start_console(self, code, *args):
        return self.processes.start([program("kefu-console"), "join"] + self.console_args()
                                    + list(args) + [code], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)

    def cleanup(self):
        self.relay.cleanup()


@pytest.fixture
def support(processes, tmp_path):
    instance = Support(processes, tmp_path)
    yield instance
    instance.cleanup()


# ---- driving a `kefu-console join --json` and reading what both sides recorded ----

def send(console, command):
    """Types one command into a running console."""
    console.stdin.write(command + "\n")
    console.stdin.flush()


def next_event(console, *kinds, limit=200):
    """The console's next --json event of one of kinds (others are skipped)."""
    for _ in range(limit):
        line = console.stdout.readline()
        assert line, "the console ended before a %s event" % (kinds,)
        event = json.loads(line)
        if event["event"] in kinds:
            return event
    raise AssertionError("no %s event from the console" % (kinds,))


def grant(agent, console, capability, question="asks to"):
    """The technician asks for capability and the customer says yes."""
    send(console, "request " + capability)
    agent.wait_for(question)
    agent.say("y")
    assert next_event(console, "consent")["granted"] is True


def audit_log(state_parent):
    """The customer's audit log under XDG_STATE_HOME=state_parent/state."""
    path = os.path.join(str(state_parent), "state", "kefu", "audit.jsonl")
    with open(path) as f:
        return [json.loads(line) for line in f.read().splitlines()]


@pytest.fixture
def private_state(tmp_path, monkeypatch):
    """The customer's state, data and downloads in the test's own folder."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(tmp_path / "downloads"))
    return tmp_path


def files_being_written(pid, folder_pattern):
    """The files process pid has open in folders matching folder_pattern (a glob): named
    ones, and the unnamed ones O_TMPFILE makes (seen as "FOLDER/#123 (deleted)")."""
    import fnmatch

    found = []
    fds = "/proc/%d/fd" % pid
    try:
        names = os.listdir(fds)
    except OSError:
        return found
    for name in names:
        try:
            target = os.readlink(os.path.join(fds, name))
        except OSError:
            continue
        if fnmatch.fnmatch(os.path.dirname(target), folder_pattern):
            found.append(target)
    return found
