# kefu: the customer stays in charge: consent, audit log and summary. SPDX-License-Identifier: MIT
import glob
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import program, run
from session_fixtures import support  # noqa: F401 (support is a fixture)

CAPABILITIES = ["view", "control", "diagnose", "repair", "firmware", "files"]


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    """Each test gets its own audit log and summary folder."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


def audit_entries(tmp_path):
    path = tmp_path / "state" / "kefu" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def event_fields(line):
    """One --json event without its human-readable "message", for exact comparisons."""
    event = json.loads(line)
    if event.get("event") != "error":
        event.pop("message", None)
    return event


def events(console):
    """The console's --json events, read until it exits."""
    out, _ = console.communicate(timeout=60)
    return [event_fields(line) for line in out.splitlines() if line.startswith("{")]


def events_until_ended(console):
    """The console's events up to its end, without closing its input first."""
    got = []
    while not got or got[-1]["event"] != "ended":
        line = console.stdout.readline()
        if not line:
            break
        got.append(event_fields(line))
    console.wait(timeout=30)
    return got


def summary_text(tmp_path):
    files = glob.glob(str(tmp_path / "data" / "kefu" / "sessions" / "*.md"))
    assert len(files) == 1, files
    return open(files[0]).read()


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_denied_request_is_answered_denied_and_audited(support, private_state, capability):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json", "--exec",
                                    "request %s to check something" % capability)
    agent.wait_for(r">>> Your technician asks to")
    agent.say("n")
    answers = [e for e in events(console) if e["event"] == "consent"]
    assert answers == [{"event": "consent", "capability": capability, "granted": False,
                        "by": "customer"}]
    agent.finish()
    log = audit_entries(private_state)
    requested = [e for e in log if e["event"] == "consent-requested"]
    answered = [e for e in log if e["event"] == "consent-answered"]
    assert requested[0]["capability"] == capability
    assert requested[0]["reason"] == "to check something"
    assert answered[0]["granted"] is False and answered[0]["by"] == "customer"
    assert requested[0]["technician"]["name"] == "Alice Tan"


def test_action_without_a_request_is_refused_in_the_core_and_audited(support, private_state):
    # kefu-console does not hide 'report' before a grant: it plays the console that skips
    # the request, and the agent's core must refuse it on its own.
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json", "--exec", "report")
    got = events(console)
    refusals = [e for e in got if e["event"] == "error"]
    assert refusals and refusals[0]["code"] == "denied"
    assert "needs the customer's 'diagnose' grant" in refusals[0]["message"]
    assert not any(e["event"] == "report" for e in got)
    agent.finish()
    refused = [e for e in audit_entries(private_state) if e["event"] == "action-refused"]
    assert refused[0]["action"] == "diag.request" and refused[0]["missing"] == "diagnose"


def test_denied_then_action_is_refused(support, private_state):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json", "--exec", "request diagnose; report")
    agent.wait_for("asks to collect a report")
    agent.say("n")
    got = events(console)
    assert any(e["event"] == "error" and e["code"] == "denied" for e in got)
    assert not any(e["event"] == "report" for e in got)
    agent.finish()


def test_granted_report_arrives_and_lands_in_the_summary(support, private_state, tmp_path):
    agent = support.start_agent()
    report = tmp_path / "report.json"
    console = support.start_console(agent.code, "--json", "--exec",
                                    "request diagnose; report %s; end Update the BIOS." % report)
    agent.wait_for("asks to collect a report")
    agent.say("y")
    got = events(console)
    assert [e for e in got if e["event"] == "report"][0]["file"] == str(report)
    assert json.loads(report.read_text())["schema"] == "kefu.report/1"
    assert agent.finish() == 0
    text = summary_text(private_state)
    assert "Helped by **Alice Tan** from **Example Support**" in text
    assert "Allowed to collect a report" in text
    assert "The technician collected a diagnostics report" in text
    assert "Update the BIOS." in text
    html = glob.glob(str(private_state / "data" / "kefu" / "sessions" / "*.html"))
    assert "Update the BIOS." in open(html[0]).read()
    assert any("A summary of this session is in" in line for line in agent.lines)


def test_revoked_grant_refuses_later_actions_and_tells_the_console(support, private_state):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    assert json.loads(console.stdout.readline())["event"] == "connected"
    console.stdin.write("request diagnose\n")
    console.stdin.flush()
    agent.wait_for("asks to collect a report")
    agent.say("y")
    assert json.loads(console.stdout.readline())["event"] == "asked"
    assert json.loads(console.stdout.readline())["granted"] is True
    agent.say("/revoke diagnose")
    event = event_fields(console.stdout.readline())
    assert event == {"event": "revoked", "capability": "diagnose"}
    console.stdin.write("report\n")
    console.stdin.flush()
    # The console heard the revocation and says what to ask for; the customer's side
    # still answers the command on its own.
    event = json.loads(console.stdout.readline())
    assert event["event"] == "hint" and event["capability"] == "diagnose"
    assert "request diagnose" in event["message"]
    event = event_fields(console.stdout.readline())
    assert event["event"] == "error" and event["code"] == "denied"
    console.stdin.write("end\n")
    console.stdin.flush()
    console.wait(timeout=30)
    agent.finish()
    log = audit_entries(private_state)
    kinds = [e["event"] for e in log]
    assert kinds.index("consent-revoked") < kinds.index("action-refused")


def test_unanswered_request_is_denied_after_the_timeout(support, private_state):
    agent = support.start_agent("--consent-timeout", "1")
    console = support.start_console(agent.code, "--json", "--exec", "request view")
    agent.wait_for("asks to see your screen")
    answers = [e for e in events(console) if e["event"] == "consent"]
    assert answers[0]["granted"] is False and answers[0]["by"] == "timeout"
    agent.finish()


def test_policy_pre_answers_and_is_shown_first(support, private_state, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"schema": "kefu.policy/1", "name": "Acme managed laptops",
                                  "description": "set by Acme IT",
                                  "capabilities": {"diagnose": "allow", "firmware": "deny"}}))
    agent = support.start_agent("--policy", str(policy))
    assert any("follows the policy \"Acme managed laptops\"" in line for line in agent.lines)
    console = support.start_console(agent.code, "--json", "--exec",
                                    "request diagnose; request firmware; report")
    answers = [e for e in events(console) if e["event"] in ("consent", "report")]
    assert answers[0] == {"event": "consent", "capability": "diagnose", "granted": True,
                          "by": "policy"}
    assert answers[1]["granted"] is False and answers[1]["by"] == "policy"
    assert answers[2]["event"] == "report"
    agent.finish()
    assert not any("asks to" in line for line in agent.lines)


@pytest.mark.parametrize("content", ["{", '{"schema":"kefu.policy/1","name":"x",'
                                          '"capabilities":{"teleport":"allow"}}',
                                     '{"schema":"kefu.policy/1","name":"x",'
                                     '"capabilities":{"view":"sometimes"}}'])
def test_bad_policy_is_a_one_line_error(support, tmp_path, content):
    policy = tmp_path / "policy.json"
    policy.write_text(content)
    result = run([program("kefu-agentd"), "share", "--profile", support.profile, "--policy",
                  str(policy)])
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "policy" in result.stderr


def test_stop_revokes_everything_and_ends_both_sides(support, private_state):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    assert json.loads(console.stdout.readline())["event"] == "connected"
    console.stdin.write("request diagnose\n")
    console.stdin.flush()
    agent.wait_for("asks to collect a report")
    agent.say("y")
    agent.wait_for("allowed: diagnose")
    agent.say("/stop")
    got = events_until_ended(console)
    assert {"event": "revoked", "capability": "diagnose"} in got
    assert got[-1]["event"] == "ended"
    assert agent.finish() == 0
    kinds = [e["event"] for e in audit_entries(private_state)]
    assert kinds.index("consent-revoked") < kinds.index("session-end")
    assert "stop" in kinds


def test_audit_survives_kill_9_and_marks_the_session_interrupted(support, private_state):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    assert json.loads(console.stdout.readline())["event"] == "connected"
    console.stdin.write("request diagnose\n")
    console.stdin.flush()
    agent.wait_for("asks to collect a report")
    agent.proc.send_signal(signal.SIGKILL)
    agent.proc.wait(timeout=10)
    console.wait(timeout=30)
    path = private_state / "state" / "kefu" / "audit.jsonl"
    # Simulate the worst moment: a line cut in the middle of being written.
    with open(path, "a") as log:
        log.write('{"time":"2026-11-22T10:00:00Z","session":"cut","ev')
    session = audit_entries_complete(path)[0]["session"]
    again = support.start_agent()
    again.proc.send_signal(signal.SIGTERM)
    again.finish()
    complete = audit_entries_complete(path)
    interrupted = [e for e in complete if e["event"] == "session-interrupted"]
    assert [e["session"] for e in interrupted] == [session]
    shown = run([program("kefu-agentd"), "audit"])
    assert "session INTERRUPTED" in shown.stdout and "1 damaged line skipped" in shown.stdout


def audit_entries_complete(path):
    """Every complete line must parse; only a cut last line may not."""
    lines = path.read_text().split("\n")
    entries = []
    for line in lines:
        if not line:
            continue
        try:
            entries.append(json.loads(line))
        except ValueError:
            assert line.startswith('{"time":"2026-11-22T10:00:00Z","session":"cut"')
    return entries


def test_audit_command_shows_sessions_in_words_and_as_json(support, private_state):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json", "--exec", "request diagnose")
    agent.wait_for("asks to")
    agent.say("y")
    events(console)
    agent.finish()
    words = run([program("kefu-agentd"), "audit"]).stdout
    assert "session started with Alice Tan (Example Support)" in words
    assert "Alice Tan (Example Support) asked for 'diagnose'" in words
    assert "'diagnose' allowed by customer" in words
    lines = run([program("kefu-agentd"), "audit", "--json"]).stdout.splitlines()
    session = json.loads(lines[0])["session"]
    assert all(json.loads(line)["session"] == session for line in lines)
    assert run([program("kefu-agentd"), "audit", "--session", "nomatch"]).stdout.startswith(
        "Nothing recorded")


def test_terminal_ui_in_tmux_shows_who_and_what_and_answers_keys(support, private_state,
                                                                  tmp_path):
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.skip("tmux is not installed")
    socket = str(tmp_path / "tmux.sock")
    env = "XDG_STATE_HOME=%s XDG_DATA_HOME=%s" % (private_state / "state",
                                                   private_state / "data")
    command = "env %s %s share --profile %s" % (env, program("kefu-agentd"), support.profile)
    subprocess.run([tmux, "-S", socket, "new-session", "-d", "-x", "160", "-y", "50", command,
                    ";", "set-option", "remain-on-exit", "on"], check=True, timeout=10)

    def screen():
        return subprocess.run([tmux, "-S", socket, "capture-pane", "-p", "-J"],
                              capture_output=True, text=True, timeout=10).stdout

    def wait_screen(text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in screen():
                return screen()
            time.sleep(0.1)
        raise AssertionError("%r never appeared; the screen:\n%s" % (text, screen()))

    try:
        import re
        code = re.search(r"Your code:\s+([\d ]+)", wait_screen("Your code:")).group(1).strip()
        console = support.start_console(code, "--json")
        wait_screen("Alice Tan (Example Support) is connected | allowed: nothing")
        console.stdin.write("request control to type in your printer settings\n")
        console.stdin.flush()
        wait_screen("use your keyboard, mouse and clipboard")
        subprocess.run([tmux, "-S", socket, "send-keys", "y", "Enter"], check=True, timeout=10)
        wait_screen("allowed: control")
        # One key stops everything.
        subprocess.run([tmux, "-S", socket, "send-keys", "C-c"], check=True, timeout=10)
        wait_screen("The session has ended")
        got = events_until_ended(console)
        assert {"event": "revoked", "capability": "control"} in got
        assert got[-1]["event"] == "ended"
    finally:
        subprocess.run([tmux, "-S", socket, "kill-server"], timeout=10)


def test_console_keeps_the_session_in_its_case_history(support, private_state):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json", "--exec",
                                    "request diagnose; report; chat all good; end Replace the battery.")
    agent.wait_for("asks to collect a report")
    agent.say("y")
    got = events(console)
    case = [e for e in got if e["event"] == "case"][0]["id"]
    agent.finish()
    listed = run([program("kefu-console"), "cases"]).stdout
    assert "Alice Tan" in listed and "Replace the battery." in listed
    shown = json.loads(run([program("kefu-console"), "cases", "show", str(case),
                            "--json"]).stdout)
    assert shown["technician"] == "Alice Tan" and shown["organisation"] == "Example Support"
    assert shown["advice"] == "Replace the battery."
    assert shown["session"] == audit_entries(private_state)[0]["session"]
    kinds = [entry["kind"] for entry in shown["journal"]]
    assert "access" in kinds and "finding" in kinds and "chat" in kinds
    missing = run([program("kefu-console"), "cases", "show", "999"])
    assert missing.returncode == 1 and "no case 999" in missing.stderr
