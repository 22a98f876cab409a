# kefu: the SSH transport (libssh2 on libuv) through a real relay. SPDX-License-Identifier: MIT
import re
import socket
import subprocess
import time

import pytest

from conftest import BUILD_DIR, run
from relay_fixtures import (Relay, descendants, free_port, make_key, relay,  # noqa: F401
                            tcp_sockets)

PEER = BUILD_DIR + "/tools/relay-peer"


@pytest.fixture
def pin(relay, tmp_path):
    path = tmp_path / "pin"
    path.write_text(relay.host_key_line + "\n")
    return str(path)


def start_agent(processes, relay, pin):
    agent = processes.start([PEER, "agent", relay.host, str(relay.port), relay.agent_user, pin],
                            stdout=subprocess.PIPE, text=True)
    line = agent.stdout.readline()
    assert line.startswith("listening "), line
    return agent, int(line.split()[1])


def console(relay, pin, port, *args, key=None, timeout=30):
    return run([PEER, "console", relay.host, str(relay.port), relay.tech_user,
                key or relay.tech_key, pin, str(port)] + list(args), timeout=timeout)


def test_console_reaches_agent_through_the_relay_and_back(processes, relay, pin):
    _, port = start_agent(processes, relay, pin)
    result = console(relay, pin, port, "echo", "hello from the console")
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "echo: hello from the console"


def test_two_consoles_get_separate_channels_to_one_agent(processes, relay, pin):
    _, port = start_agent(processes, relay, pin)
    first = console(relay, pin, port, "echo", "first")
    second = console(relay, pin, port, "echo", "second")
    assert first.stdout.strip() == "echo: first"
    assert second.stdout.strip() == "echo: second"


def test_bulk_transfer_does_not_stall_the_control_channel(processes, relay, pin):
    _, port = start_agent(processes, relay, pin)
    result = console(relay, pin, port, "bulk", "50", timeout=120)
    assert result.returncode == 0, result.stdout
    assert "bulk 50000000 bytes each way" in result.stdout
    pings = int(re.search(r"pings during bulk (\d+)", result.stdout).group(1))
    # Control messages kept flowing while 50 MB moved on another channel of the same session.
    assert pings >= 2


def relay_nodelay(relay, client_pid):
    """Whether sshd's end of the client's connection has TCP_NODELAY set, or None while
    the client holds no connection to the relay."""
    ours = [local for _, local, peer, _ in tcp_sockets([client_pid])
            if peer == (relay.host, relay.port)]
    for _, _, peer, nodelay in tcp_sockets(descendants(relay.proc.pid)):
        if ours and peer == ours[0]:
            return nodelay
    return None


def connect_both(processes, relay, pin):
    """An agent, and a console whose channel leads to a port that never answers, so that
    both stay connected to the relay."""
    agent, _ = start_agent(processes, relay, pin)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    console = processes.start([PEER, "console", relay.host, str(relay.port), relay.tech_user,
                               relay.tech_key, pin, str(silent.getsockname()[1]), "echo",
                               "anyone?"], stdout=subprocess.PIPE, text=True)
    return agent, console, silent


def test_relay_turns_nagle_off_for_both_ends_of_a_session(processes, relay, pin):
    # Ground truth from sshd's own sockets: a key press or a small screen update must
    # not wait in the relay for the acknowledgement of the previous segment.
    agent, console, silent = connect_both(processes, relay, pin)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        states = [relay_nodelay(relay, agent.pid), relay_nodelay(relay, console.pid)]
        if states == [True, True]:
            break
        time.sleep(0.05)
    assert states == [True, True], states
    # The session opened for it ran nologin, without a terminal, and ended, while both
    # connections stay (sshd sets TCP_NODELAY as the command starts, so the end may follow).
    while time.monotonic() < deadline and relay.sshd_log().count("Close session:") < 2:
        time.sleep(0.05)
    log = relay.sshd_log()
    assert log.count("forced-command (config) '/usr/sbin/nologin' for kefu-") == 2, log
    assert " on pts/" not in log
    assert log.count("Close session:") == 2, log
    assert agent.poll() is None and console.poll() is None
    silent.close()  # only now: the console's channel ends with it, and so does the console


def test_relay_without_sessions_still_carries_kefus_channels(processes, tmp_path):
    # A relay with the configuration of older kefu releases: no sessions at all.
    old = Relay(processes, edits=[("\tMaxSessions 1\n\tIPQoS none\n", "\tMaxSessions 0\n")])
    try:
        pin = tmp_path / "old-pin"
        pin.write_text(old.host_key_line + "\n")
        agent, port = start_agent(processes, old, str(pin))
        result = console(old, str(pin), port, "echo", "still here")
        assert result.returncode == 0, result.stdout
        assert result.stdout.strip() == "echo: still here"
        _, waiting, silent = connect_both(processes, old, str(pin))
        time.sleep(1)
        # The check above sees Nagle left on here: it tells the two configurations apart.
        assert relay_nodelay(old, agent.pid) is False
        assert relay_nodelay(old, waiting.pid) is False
        silent.close()
    finally:
        old.cleanup()


def test_wrong_relay_host_key_fails_closed_naming_the_fingerprint(relay, tmp_path):
    other = make_key(str(tmp_path / "other"), "other")
    wrong_pin = tmp_path / "wrong-pin"
    wrong_pin.write_text(open(other + ".pub").read())
    result = run([PEER, "agent", relay.host, str(relay.port), relay.agent_user,
                  str(wrong_pin)], timeout=30)
    assert result.returncode == 1
    assert "host key SHA256:" in result.stdout and "refusing to continue" in result.stdout
    # Nothing was authenticated: sshd saw no key offered.
    assert "Accepted publickey" not in relay.sshd_log()


def test_unreachable_relay_is_reported(pin):
    port = free_port()
    result = run([PEER, "agent", "127.0.0.1", str(port), "kefu-agent", pin], timeout=30)
    assert result.returncode == 1
    assert "cannot connect to the relay 127.0.0.1 port %d" % port in result.stdout


def test_silent_relay_times_out(pin):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        result = run([PEER, "agent", "127.0.0.1", str(port), "kefu-agent", pin], timeout=30)
    finally:
        listener.close()
    assert result.returncode == 1
    assert "could not reach the relay 127.0.0.1 port %d within 5 s" % port in result.stdout


def test_unregistered_technician_is_refused_by_the_relay(processes, relay, pin, tmp_path):
    _, port = start_agent(processes, relay, pin)
    stranger = make_key(str(tmp_path / "stranger"), "stranger")
    result = console(relay, pin, port, "echo", "x", key=stranger)
    assert result.returncode == 1
    assert "did not accept this key for 'kefu-tech'" in result.stdout


def test_channel_to_a_port_nobody_forwards_is_refused(relay, pin):
    result = console(relay, pin, free_port(), "echo", "x")
    assert result.returncode == 1
    assert "the relay could not connect to localhost port" in result.stdout


def test_relay_killed_mid_session_ends_both_sides_with_a_message(processes, relay, pin):
    agent, port = start_agent(processes, relay, pin)
    bulk = processes.start([PEER, "console", relay.host, str(relay.port), relay.tech_user,
                            relay.tech_key, pin, str(port), "bulk", "2000"],
                           stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)  # let the transfer start; the outcome, not the timing, is checked
    relay.kill()
    console_out, _ = bulk.communicate(timeout=30)
    agent_out, _ = agent.communicate(timeout=30)
    assert bulk.returncode == 1 and agent.returncode == 1
    assert "failed:" in console_out and "relay" in console_out
    assert "failed:" in agent_out and "relay" in agent_out
