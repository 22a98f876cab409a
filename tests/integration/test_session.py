# kefu: a real support session, code to end, and the attackers it must stop. SPDX-License-Identifier: MIT
import base64
import json
import os
import socket
import ssl
import struct
import subprocess
import threading
import time

import pytest

from conftest import program
from relay_fixtures import make_key
from session_fixtures import issue, make_ca, support  # noqa: F401 (support is a fixture)

# The P-256 base point, uncompressed: a valid share whose discrete log the attacker knows.
P256_GENERATOR = bytes.fromhex(
    "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")


def code_for_port(code, port):
    """The same relay and secret, but another forwarded port (a redirecting relay)."""
    digits = code.replace(" ", "")
    return digits[0] + "%05d" % port + digits[6:]


def frame(message):
    payload = json.dumps(message).encode()
    return struct.pack(">BI", 1, len(payload)) + payload


def read_frame(conn):
    header = b""
    while len(header) < 5:
        chunk = conn.recv(5 - len(header))
        if not chunk:
            return None
        header += chunk
    kind, length = struct.unpack(">BI", header)
    payload = b""
    while len(payload) < length:
        chunk = conn.recv(length - len(payload))
        if not chunk:
            return None
        payload += chunk
    return json.loads(payload)


def test_code_join_hello_chat_ping_end(support):
    agent = support.start_agent()
    result = support.join(agent.code, "--exec", "ping; chat hello from Alice; end all fixed")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Connected to the customer's computer (kefu-agentd" in result.stdout
    assert "Round trip to the customer:" in result.stdout
    assert "The session has ended: the technician ended the session" in result.stdout
    assert agent.finish() == 0
    text = "\n".join(agent.lines)
    assert "Connected: Alice Tan from Example Support is now with you." in text
    assert "Technician: hello from Alice" in text
    assert "The session has ended: the technician ended the session" in text
    assert "Your technician's advice: all fixed" in text


def test_customer_chats_and_stops_the_session(support):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    assert json.loads(console.stdout.readline())["event"] == "connected"
    agent.wait_for("is now with you")
    agent.say("my printer is broken")
    event = json.loads(console.stdout.readline())
    event.pop("message")
    assert event == {"event": "chat", "from": "customer", "text": "my printer is broken"}
    agent.say("/stop")
    event = json.loads(console.stdout.readline())
    assert event["event"] == "ended" and event["status"] == "ok"
    assert "the customer stopped the session" in event["reason"]
    assert console.wait(timeout=10) == 0
    assert agent.finish() == 0


def test_code_accepts_spaces_dashes_and_groups_as_separate_arguments(support):
    agent = support.start_agent()
    groups = agent.code.split()
    result = subprocess.run([program("kefu-console"), "join"] + support.console_args()
                            + ["--exec", "end", "-".join(groups[:2]), groups[2]],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_works_only_once(support):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    assert json.loads(console.stdout.readline())["event"] == "connected"
    second = support.join(agent.code, "--exec", "end", timeout=60)
    assert second.returncode == 1
    console.stdin.write("end\n")
    console.stdin.flush()
    assert console.wait(timeout=10) == 0


@pytest.mark.parametrize("text", ["12345678901", "1234567890123", "12a4 5678 9012", "0000 0012 3456"])
def test_malformed_code_is_a_one_line_error(support, text):
    result = support.join(text)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "code" in lines[0]


def test_wrong_code_three_times_kills_the_code(support):
    agent = support.start_agent()
    digits = agent.code.replace(" ", "")
    wrong = digits[:6] + "%06d" % ((int(digits[6:]) + 1) % 1000000)
    for attempt in range(1, 4):
        result = support.join(wrong)
        assert result.returncode == 1
        assert "the code is wrong" in result.stdout
        if attempt < 3:
            agent.wait_for(r"Someone tried a wrong code \(%d of 3 tries\)" % attempt)
    agent.wait_for("that code no longer works. Here is a new one.")
    new_code = agent.wait_for(r"Your code:\s+([\d ]+)").group(1).strip()
    assert new_code != agent.code
    # The old code is dead; the new one works.
    assert support.join(agent.code).returncode == 1
    result = support.join(new_code, "--exec", "end")
    assert result.returncode == 0, result.stdout


def test_certificate_from_another_ca_is_refused_and_the_code_survives(support, tmp_path):
    other_key, other_ca = make_ca(str(tmp_path), "Mallory Ltd")
    cert, key = issue(str(tmp_path), other_key, other_ca, "Mallory", "Example Support")
    agent = support.start_agent()
    result = support.join(agent.code, cert=cert, key=key)
    assert result.returncode == 1
    agent.wait_for("A connection was refused: the technician's certificate is not trusted")
    result = support.join(agent.code, "--exec", "end")
    assert result.returncode == 0


def test_relay_host_key_mismatch_stops_the_agent(support, tmp_path):
    other = make_key(str(tmp_path / "other"), "other")
    profile = json.load(open(support.profile))
    profile["relays"][0]["host_keys"] = [" ".join(open(other + ".pub").read().split()[:2])]
    path = tmp_path / "wrong-profile.json"
    path.write_text(json.dumps(profile))
    proc = subprocess.run([program("kefu-agentd"), "share", "--profile", str(path)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "is not the one in the support profile; refusing to continue" in proc.stdout


def test_missing_profile_is_a_one_line_error():
    proc = subprocess.run([program("kefu-agentd"), "share", "--profile", "/nonexistent.json"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "/nonexistent.json" in proc.stderr


class Redirector:
    """A man in the middle with relay credentials: it takes a forwarded port of its own
    (any agent key is welcome) and connects it to the customer's port (with a technician
    key), recording every byte it carries."""

    def __init__(self, support, processes, tmp_path, target_port):
        relay = support.relay
        self.recorded = bytearray()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        key = make_key(str(tmp_path / "mitm"), "mitm")
        known = tmp_path / "known_hosts"
        known.write_text("[%s]:%d %s\n" % (relay.host, relay.port, relay.host_key_line))
        self.base = ["ssh", "-F", "/dev/null", "-p", str(relay.port), "-o", "BatchMode=yes",
                     "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=%s" % known]
        forward = processes.start(self.base + ["-i", key, "-N", "-R", "localhost:0:127.0.0.1:%d"
                                               % self.listener.getsockname()[1],
                                               "%s@%s" % (relay.agent_user, relay.host)],
                                  stderr=subprocess.PIPE, text=True)
        self.port = int(forward.stderr.readline().split()[2])
        self.tech = self.base + ["-i", relay.tech_key, "-W", "localhost:%d" % target_port,
                                 "%s@%s" % (relay.tech_user, relay.host)]
        self.processes = processes
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        conn, _ = self.listener.accept()
        upstream = self.processes.start(self.tech, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

        def down():
            while True:
                data = upstream.stdout.read1(65536)
                if not data:
                    break
                self.recorded += data
                conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)

        threading.Thread(target=down, daemon=True).start()
        while True:
            data = conn.recv(65536)
            if not data:
                break
            self.recorded += data
            upstream.stdin.write(data)
            upstream.stdin.flush()
        upstream.stdin.close()


def test_relay_in_the_middle_sees_only_ciphertext(support, processes, tmp_path):
    agent = support.start_agent()
    port = int(agent.code.replace(" ", "")[1:6])
    mitm = Redirector(support, processes, tmp_path, port)
    result = support.join(code_for_port(agent.code, mitm.port), "--exec",
                          "chat the password is hunter2; end done")
    assert result.returncode == 0, result.stdout
    agent.wait_for("Technician: the password is hunter2")
    assert len(mitm.recorded) > 1000
    assert b"hunter2" not in mitm.recorded and b"chat" not in mitm.recorded


class FakeAgent:
    """A man in the middle posing as the customer's computer: it holds relay credentials
    and a forwarded port, speaks TLS to the console, and must then prove a code it does
    not know."""

    def __init__(self, support, processes, tmp_path, behaviour):
        relay = support.relay
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        key = make_key(str(tmp_path / "fake-agent"), "fake")
        known = tmp_path / "known_hosts_fake"
        known.write_text("[%s]:%d %s\n" % (relay.host, relay.port, relay.host_key_line))
        forward = processes.start(["ssh", "-F", "/dev/null", "-p", str(relay.port), "-o",
                                   "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o",
                                   "UserKnownHostsFile=%s" % known, "-i", key, "-N", "-R",
                                   "localhost:0:127.0.0.1:%d" % self.listener.getsockname()[1],
                                   "%s@%s" % (relay.agent_user, relay.host)],
                                  stderr=subprocess.PIPE, text=True)
        self.port = int(forward.stderr.readline().split()[2])
        self.behaviour = behaviour
        self.received = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        conn, _ = self.listener.accept()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with context.wrap_socket(conn) as tls:
            if self.behaviour == "oversized":
                tls.sendall(struct.pack(">BI", 1, 0x7FFFFFFF) + b"{")
            elif self.behaviour == "garbage":
                tls.sendall(b"\x09garbage that is not a kefu frame" * 10)
            elif self.behaviour == "bad-json":
                for _ in range(20):
                    tls.sendall(struct.pack(">BI", 1, 5) + b"{{{{{")
            else:
                share = base64.b64encode(P256_GENERATOR).decode()
                tls.sendall(frame({"v": 1, "type": "proof.share", "id": 1,
                                   "body": {"share": share}}))
                self.received.append(read_frame(tls))
                tls.sendall(frame({"v": 1, "type": "proof.confirm", "id": 2,
                                   "body": {"confirm": base64.b64encode(os.urandom(32)).decode()}}))
            try:
                while read_frame(tls) is not None:
                    pass
            except (OSError, ValueError):
                pass


def test_fake_agent_with_relay_credentials_cannot_pass_the_code_proof(support, processes,
                                                                      tmp_path):
    agent = support.start_agent()
    fake = FakeAgent(support, processes, tmp_path, "guess")
    result = support.join(code_for_port(agent.code, fake.port))
    assert result.returncode == 1
    assert "failed the code proof" in result.stdout
    # What the console gave away is one SPAKE2 share and MAC: no hash of the code to crack.
    reply = fake.received[0]
    assert reply["type"] == "proof.reply" and set(reply["body"]) == {"share", "confirm"}


@pytest.mark.parametrize("behaviour", ["garbage", "bad-json", "oversized"])
def test_peer_sending_malformed_frames_gets_a_clean_failure(support, processes, tmp_path,
                                                            behaviour):
    agent = support.start_agent()
    fake = FakeAgent(support, processes, tmp_path, behaviour)
    result = support.join(code_for_port(agent.code, fake.port))
    assert result.returncode == 1
    assert result.stdout.strip() != ""
    assert "Traceback" not in result.stderr and "Sanitizer" not in result.stderr


def test_relay_killed_mid_session_ends_both_sides(support):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    assert json.loads(console.stdout.readline())["event"] == "connected"
    agent.wait_for("is now with you")
    support.relay.kill()
    event = json.loads(console.stdout.readline())
    assert event["event"] == "ended" and event["status"] != "ok"
    assert console.wait(timeout=30) == 1
    assert agent.finish(timeout=30) == 1
    assert any("cut off" in line or "relay" in line for line in agent.lines[-3:])


def test_agent_exits_when_the_relay_is_unreachable(support, tmp_path):
    profile = json.load(open(support.profile))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    profile["relays"][0]["port"] = listener.getsockname()[1]
    listener.close()
    path = tmp_path / "unreachable.json"
    path.write_text(json.dumps(profile))
    started = time.monotonic()
    proc = subprocess.run([program("kefu-agentd"), "share", "--profile", str(path)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "cannot connect to the relay" in proc.stdout
    assert time.monotonic() - started < 30


def test_code_expires_and_then_admits_nobody(support):
    agent = support.start_agent("--code-minutes", "0.05")
    agent.wait_for("The code has expired")
    assert agent.finish() == 1
    result = support.join(agent.code)
    assert result.returncode == 1
    assert "No customer is waiting behind this code" in result.stdout
