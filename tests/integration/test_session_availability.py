# kefu: connections that say nothing do not keep the technician out. SPDX-License-Identifier: MIT
import json
import socket
import subprocess
import time

from session_fixtures import next_event, send, support  # noqa: F401 (support is a fixture)


def forwarded_port(code):
    """The agent's port on the relay, as the code carries it (digits 2 to 6)."""
    return int(code.replace(" ", "")[1:6])


def stalled_tcp(port):
    """Anyone on the relay host: a connection to the forwarded port that sends nothing."""
    return socket.create_connection(("localhost", port), timeout=5)


def stalled_ssh(support, port, tmp_path):
    """A registered technician's key opens the same through direct-tcpip, then says nothing."""
    known_hosts = tmp_path / "stall_known_hosts"
    known_hosts.write_text("[%s]:%d %s\n" % (support.relay.host, support.relay.port,
                                            support.relay.host_key_line))
    return support.processes.start(
        ["ssh", "-F", "/dev/null", "-p", str(support.relay.port), "-i", support.relay.tech_key,
         "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
         "-o", "UserKnownHostsFile=%s" % known_hosts, "-o", "StrictHostKeyChecking=yes",
         "-W", "localhost:%d" % port, "%s@%s" % (support.relay.tech_user, support.relay.host)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def join_seconds(support, code):
    """Seconds from starting `kefu-console join` to its "connected" event."""
    started = time.monotonic()
    console = support.start_console(code, "--json")
    try:
        for _ in range(50):
            line = console.stdout.readline()
            assert line, "the console ended before it connected"
            event = json.loads(line)
            assert event["event"] != "ended", event
            if event["event"] == "connected":
                return time.monotonic() - started, console
        raise AssertionError("the console never connected")
    except BaseException:
        console.kill()
        raise


def test_stalled_connections_do_not_keep_the_technician_out(support, tmp_path):
    agent = support.start_agent()
    port = forwarded_port(agent.code)
    # More silent connections than the agent keeps pending at once (4), held open.
    stalls = [stalled_tcp(port) for _ in range(5)]
    ssh_stall = stalled_ssh(support, port, tmp_path)
    time.sleep(1.0)
    # The hang guard is generous; the acceptance criterion is the 2 s below.
    seconds, console = join_seconds(support, agent.code)
    print("joined in %.2f s behind %d stalled connections" % (seconds, len(stalls) + 1))
    assert seconds < 2.0, "joining took %.1f s behind stalled connections" % seconds
    agent.wait_for("Connected: Alice Tan from Example Support")
    console.stdin.write("end done\n")
    console.stdin.flush()
    console.communicate(timeout=30)
    assert agent.finish() == 0
    for sock in stalls:
        sock.close()
    ssh_stall.kill()


def test_a_silent_connection_is_dropped_after_its_first_bytes_deadline(support):
    agent = support.start_agent()
    stall = stalled_tcp(forwarded_port(agent.code))
    started = time.monotonic()
    agent.wait_for("A connection was refused: nothing came from the other side within 5 s",
                   timeout=15)
    assert time.monotonic() - started < 10
    # The agent closed its end: the relay passes that on.
    stall.settimeout(10)
    while True:
        chunk = stall.recv(65536)
        if not chunk:
            break
    stall.close()
    # The code still works for the real technician.
    seconds, console = join_seconds(support, agent.code)
    assert seconds < 2.0
    console.stdin.write("end done\n")
    console.stdin.flush()
    console.communicate(timeout=30)
    assert agent.finish() == 0


def test_a_second_technician_with_a_used_code_is_told_why_not_how_bytes_ended(support):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    second = support.join(agent.code)
    assert second.returncode == 1
    assert "closed the connection before the session began" in second.stdout + second.stderr
    assert "closing it properly" not in second.stdout + second.stderr
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
