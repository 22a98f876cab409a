# kefu: the shipped relay configuration holds against OpenSSH's own client. SPDX-License-Identifier: MIT
import os
import re
import socket
import subprocess
import threading
import time

import pytest

from conftest import BUILD_DIR, run
from relay_fixtures import descendants, make_key, relay  # noqa: F401 (relay is a fixture)


def ssh_args(relay, user, key, known_hosts):
    return ["ssh", "-F", "/dev/null", "-p", str(relay.port), "-i", key,
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", "UserKnownHostsFile=%s" % known_hosts, "-o", "StrictHostKeyChecking=yes",
            "-o", "ConnectTimeout=5", "-o", "ExitOnForwardFailure=yes",
            "%s@%s" % (user, relay.host)]


@pytest.fixture
def client(relay, tmp_path):
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("[%s]:%d %s\n" % (relay.host, relay.port, relay.host_key_line))
    agent_key = make_key(str(tmp_path / "agent"), "agent")
    return {"known_hosts": str(known_hosts), "agent_key": agent_key}


def start_agent_forward(processes, relay, client, target_port):
    """ssh -R localhost:0 as an agent would; returns (process, forwarded port)."""
    proc = processes.start(
        ssh_args(relay, relay.agent_user, client["agent_key"], client["known_hosts"])
        + ["-N", "-R", "localhost:0:127.0.0.1:%d" % target_port],
        stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    assert "Allocated port" in line, line
    return proc, int(line.split()[2])


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
            with conn:
                data = conn.recv(100)
                conn.sendall(b"echo:" + data)


def test_any_agent_key_gets_a_remote_forward_at_a_port_the_relay_picks(processes, relay, client):
    echo = EchoServer()
    _, port = start_agent_forward(processes, relay, client, echo.port)
    assert port > 0


def test_registered_technician_reaches_the_agents_forward_with_ssh_W(processes, relay, client):
    echo = EchoServer()
    _, port = start_agent_forward(processes, relay, client, echo.port)
    result = run(ssh_args(relay, relay.tech_user, relay.tech_key, client["known_hosts"])
                 + ["-W", "localhost:%d" % port], input="hello", timeout=20)
    assert result.stdout == "echo:hello"


def test_agent_key_cannot_open_connections_through_the_relay(processes, relay, client):
    echo = EchoServer()
    result = run(ssh_args(relay, relay.agent_user, client["agent_key"], client["known_hosts"])
                 + ["-W", "127.0.0.1:%d" % echo.port], input="x", timeout=20)
    assert result.returncode != 0 and "echo:" not in result.stdout


@pytest.mark.parametrize("listen", ["127.0.0.1:0", "0.0.0.0:0", "*:0"])
def test_agent_may_not_listen_anywhere_but_localhost(processes, relay, client, listen):
    result = run(ssh_args(relay, relay.agent_user, client["agent_key"], client["known_hosts"])
                 + ["-N", "-R", "%s:127.0.0.1:9" % listen], timeout=20)
    assert result.returncode != 0
    assert "forwarding failed" in result.stderr.lower()


def account(relay, client, role):
    return ((relay.agent_user, client["agent_key"]) if role == "agent"
            else (relay.tech_user, relay.tech_key))


# Each account may open one session (sshd then turns Nagle off for the connection), and
# every way of asking for a program there must run nologin and nothing else.
@pytest.mark.parametrize("role", ["agent", "technician"])
@pytest.mark.parametrize("request_args", [
    ["-tt", "touch {marker}; id"],          # a command on a terminal
    ["-T", "touch {marker}; id"],           # a command without one
    ["-tt"],                                # a login shell, fed on its input
    ["-T", "-s", "sftp"],                   # a subsystem
], ids=["command-tty", "command", "shell", "subsystem"])
def test_every_session_request_runs_nologin_only(relay, client, role, request_args):
    user, key = account(relay, client, role)
    marker = os.path.join("/tmp", "kefu-relay-marker-%d" % os.getpid())
    args = [arg.format(marker=marker) for arg in request_args]
    try:
        result = run(ssh_args(relay, user, key, client["known_hosts"]) + args,
                     input="touch %s; id\nexit\n" % marker, timeout=20)
        assert result.returncode != 0
        assert "uid=" not in result.stdout
        assert not os.path.exists(marker)
        if "-tt" in args:
            assert "PTY allocation request failed" in result.stderr
        elif args[-1] != "sftp":
            # nologin's own words: the forced command ran, not the one asked for.
            assert "not available" in result.stdout + result.stderr
    finally:
        if os.path.exists(marker):
            os.unlink(marker)


def hold(processes, relay, user, what, key=None):
    return processes.start([os.path.join(BUILD_DIR, "tools", "ssh-hold"), relay.host,
                            str(relay.port), user, what] + ([key] if key else []),
                           stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize("role", ["agent", "technician"])
def test_no_client_gets_a_terminal_on_the_relay(processes, relay, client, role):
    # A terminal held open would keep one of the relay's pseudo-terminals for as long
    # as the client likes: refused outright.
    user, key = account(relay, client, role)
    proc = hold(processes, relay, user, "terminal", key if role == "technician" else None)
    out, _ = proc.communicate(timeout=30)
    assert out.strip() == "refused: terminal", out
    assert "pts/" not in relay.sshd_log()


def test_a_session_held_open_ends_with_nologin(processes, relay, client):
    # A client that asks for a command and then never closes its channel: the relay
    # runs nologin, which ends, and closes the session itself; nothing of it stays.
    proc = hold(processes, relay, relay.agent_user, "command")
    assert proc.stdout.readline().strip() == "held"
    assert re.match(r"closed by the relay after [0-5] s$", proc.stdout.readline().strip())
    assert proc.poll() is None  # the connection itself is still up
    names = set()
    for pid in descendants(relay.proc.pid):
        try:
            with open("/proc/%d/comm" % pid) as comm:
                names.add(comm.read().strip())
        except OSError:
            pass
    assert names <= {"sshd"}, names


def test_technician_may_not_listen_on_the_relay(relay, client):
    result = run(ssh_args(relay, relay.tech_user, relay.tech_key, client["known_hosts"])
                 + ["-N", "-R", "localhost:0:127.0.0.1:9"], timeout=20)
    assert result.returncode != 0


def test_unregistered_technician_key_is_refused(relay, client, tmp_path):
    stranger = make_key(str(tmp_path / "stranger"), "stranger")
    result = run(ssh_args(relay, relay.tech_user, stranger, client["known_hosts"])
                 + ["-W", "localhost:22"], timeout=20)
    assert result.returncode == 255
    assert "Permission denied" in result.stderr


def test_rsa_agent_key_is_refused(relay, client, tmp_path):
    rsa = str(tmp_path / "rsa")
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsa],
                   check=True, timeout=60)
    result = run(ssh_args(relay, relay.agent_user, rsa, client["known_hosts"])
                 + ["-N", "-R", "localhost:0:127.0.0.1:9"], timeout=20)
    assert result.returncode == 255
    assert "Permission denied" in result.stderr


def test_keys_command_is_quiet_for_hostile_input():
    keys = os.path.join(os.path.dirname(__file__), "..", "..", "packaging", "relay",
                        "kefu-relay-keys")
    for args in (["agent", "ssh-ed25519", "AAAA$(id)"], ["agent", "ssh-dss", "AAAA"],
                 ["technician", "ssh-ed25519", "AAAA", "/nonexistent"], ["root"], []):
        result = run([keys] + args)
        assert result.returncode == 0 and result.stdout == ""


SETUP = os.path.join(os.path.dirname(__file__), "..", "..", "packaging", "relay",
                     "kefu-relay-setup")


def test_setup_stages_a_relay_that_sshd_accepts_and_is_idempotent(tmp_path):
    prefix = tmp_path / "root"
    first = run([SETUP, "install", "--prefix", str(prefix), "--port", "443"])
    assert first.returncode == 0, first.stderr
    files = sorted(str(p.relative_to(prefix)) for p in prefix.rglob("*") if p.is_file())
    second = run([SETUP, "install", "--prefix", str(prefix), "--port", "443"])
    assert second.returncode == 0
    assert files == sorted(str(p.relative_to(prefix)) for p in prefix.rglob("*") if p.is_file())
    dropin = (prefix / "etc/ssh/sshd_config.d/kefu-relay.conf").read_text()
    assert "@LIBEXEC@" not in dropin and "/usr/lib/kefu/kefu-relay-keys" in dropin
    assert os.access(prefix / "usr/lib/kefu/kefu-relay-keys", os.X_OK)
    # sshd itself checks the staged configuration, with a throwaway host key.
    host_key = make_key(str(tmp_path / "host"), "host")
    config = tmp_path / "sshd_config"
    config.write_text("HostKey %s\nUsePAM no\nInclude %s\nInclude %s\n" % (
        host_key, prefix / "etc/ssh/sshd_config.d/kefu-relay-port.conf",
        prefix / "etc/ssh/sshd_config.d/kefu-relay.conf"))
    os.makedirs("/run/sshd", exist_ok=True)
    check = run(["/usr/sbin/sshd", "-t", "-f", str(config)])
    assert check.returncode == 0, check.stderr


def test_setup_adds_lists_and_removes_technicians(tmp_path):
    prefix = tmp_path / "root"
    key = make_key(str(tmp_path / "bob"), "bob")
    assert run([SETUP, "add-technician", "bob", key + ".pub", "--prefix", str(prefix)]).returncode == 0
    listed = run([SETUP, "list-technicians", "--prefix", str(prefix)])
    assert listed.stdout.startswith("bob\tSHA256:")
    assert run([SETUP, "remove-technician", "bob", "--prefix", str(prefix)]).returncode == 0
    assert run([SETUP, "list-technicians", "--prefix", str(prefix)]).stdout == ""


@pytest.mark.parametrize("name,content", [("../evil", None), ("carol", "ssh-rsa AAAAB3Nza x"),
                                          ("dave", "not a key at all")])
def test_setup_refuses_bad_technicians_with_one_line(tmp_path, name, content):
    key = tmp_path / "key.pub"
    key.write_text(content or open(make_key(str(tmp_path / "k"), "k") + ".pub").read())
    result = run([SETUP, "add-technician", name, str(key), "--prefix", str(tmp_path / "root")])
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "root/etc/kefu-relay/technicians/carol.pub").exists()
