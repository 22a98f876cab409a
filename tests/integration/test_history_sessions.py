# kefu: the customer's history across sessions and technicians, through real sessions. SPDX-License-Identifier: MIT
#
# Alice helps a customer and ends the case with advice; the customer's own scans find the
# same problem again; days later (the audit log's clock moved back, as if days had
# passed) the customer starts a session with Bob, at another console sharing the team's
# case store, and Bob sees Alice's case and the scans since before asking anything.
import glob
import json
import os
import re
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from conftest import program, run
from plugin_trees import base_tree, only, usb_node
from postgres_fixtures import postgres  # noqa: F401 (a pytest fixture)
from session_fixtures import (audit_log, grant, kefu_console, next_event, private_state,  # noqa: F401
                              send, support)


def technician_console(support, tmp_path, name, database, code, env_extra=None):
    """A console of its own (its own home and configuration) for technician name."""
    home = tmp_path / ("console-" + name.split()[0].lower())
    (home / "config").mkdir(parents=True)
    (home / "config" / "console.conf").write_text("database = %s\n" % database)
    cert = os.path.join(support.ca_dir, "technicians", "%s.pem" % name)
    key = os.path.join(support.ca_dir, "technicians", "%s.key" % name)
    env = dict(os.environ, KEFU_CONSOLE_DIR=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_STATE_HOME=str(home / "state"), **(env_extra or {}))
    proc = support.processes.start(
        [program("kefu-console"), "join"] + support.console_args(cert, key) + ["--json", code],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    return proc, env


def shift_audit_log(state_parent, days):
    """Moves every time in the customer's audit log days into the past."""
    path = os.path.join(str(state_parent), "state", "kefu", "audit.jsonl")
    lines = []
    for line in open(path).read().splitlines():
        entry = json.loads(line)
        when = datetime.strptime(entry["time"][:19], "%Y-%m-%dT%H:%M:%S")
        entry["time"] = (when - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S") + \
            entry["time"][19:]
        lines.append(json.dumps(entry))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def end_with_advice(agent, console, advice):
    send(console, "end " + advice)
    console.communicate(timeout=30)
    assert agent.finish() == 0


@pytest.fixture(params=["sqlite", "postgresql"])
def team_store(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "team-cases.sqlite"), {}
    server = request.getfixturevalue("postgres")
    return server.uri, {"PGPASSFILE": server.passfile}


def test_bob_sees_alices_case_and_the_scans_since(support, private_state, tmp_path, team_store):
    database, db_env = team_store
    kefu_console("ca", "issue", "Bob Li", "--dir", support.ca_dir)
    # The organisation's contact, from the support profile, ends every summary.
    profile = json.load(open(support.profile))
    profile["contact"] = "+44 20 7946 0000, support@example.com"
    with open(support.profile, "w") as f:
        json.dump(profile, f)

    # Alice's session: the customer allows history; Alice notes and ends with advice.
    agent = support.start_agent()
    alice, alice_env = technician_console(support, tmp_path, "Alice Tan", database, agent.code,
                                          db_env)
    next_event(alice, "connected")
    grant(agent, alice, "history")
    # Allowed, the journal comes at once: nobody has to type anything.
    first = next_event(alice, "history")
    support_id = first["support_id"]
    assert re.fullmatch(r"KF-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", support_id)
    assert first["digest"].startswith("No earlier session with the support team.")
    assert next_event(alice, "cases")["cases"] == []
    send(alice, "note scanner on an unpowered hub")
    next_event(alice, "note")
    end_with_advice(agent, alice, "plug the scanner into the powered hub")
    assert run([program("kefu-agentd"), "support-id"]).stdout.strip() == support_id

    # Three days pass; the customer's own scans find the scanner's permission twice.
    shift_audit_log(private_state, 3)
    root = base_tree(tmp_path)
    for _ in range(2):
        usb_node(root, mode=0o600)
        states, _ = only(tmp_path, root, "device-permission", usb=True)
        assert "problem" in states[0], states

    # Bob, at his own console, on the same team store.
    agent = support.start_agent()
    bob, _ = technician_console(support, tmp_path, "Bob Li", database, agent.code, db_env)
    next_event(bob, "connected")
    grant(agent, bob, "history")
    seen = next_event(bob, "history")
    assert seen["support_id"] == support_id
    digest = seen["digest"]
    assert digest.startswith("Last contact 3 days ago with Alice Tan (Example Support)"), digest
    assert "advice: plug the scanner into the powered hub" in digest
    assert "Since then: 2 self-service scans, the same problem came back twice " \
           "(device-permission)" in digest
    earlier = next_event(bob, "cases")["cases"]
    assert [(c["technician"], c["advice"]) for c in earlier] == \
        [("Alice Tan", "plug the scanner into the powered hub")]
    end_with_advice(agent, bob, "a powered hub is on its way")

    # The team's store: two cases of this customer, Alice's with her note.
    listed = run([program("kefu-console"), "cases", "customer", support_id, "--json"],
                 env=alice_env)
    assert listed.returncode == 0, listed.stderr
    cases = json.loads(listed.stdout)
    assert [c["technician"] for c in cases] == ["Bob Li", "Alice Tan"]
    alices = json.loads(run([program("kefu-console"), "cases", "show", str(cases[1]["id"]),
                             "--json"], env=alice_env).stdout)
    assert [n["text"] for n in alices["notes"]] == ["scanner on an unpowered hub"]
    bobs = json.loads(run([program("kefu-console"), "cases", "show", str(cases[0]["id"]),
                           "--json"], env=alice_env).stdout)
    assert bobs["history"] == digest

    # The customer's summary of Bob's session names the case and the support ID.
    summaries = sorted(glob.glob(os.path.join(str(private_state), "data", "kefu", "sessions",
                                              "*.md")), key=os.path.getmtime)
    text = open(summaries[-1]).read()
    assert "Case number %d: quote it if you call again." % cases[0]["id"] in text
    assert "Your support ID: %s" % support_id in text
    assert "To reach Example Support again: +44 20 7946 0000, support@example.com" in text
    assert "a powered hub is on its way" in text

    # The customer reads exactly what Bob was shown.
    bob_session = [e for e in audit_log(private_state) if e["event"] == "history-shared"][-1]
    shared = run([program("kefu-agentd"), "journal", "--shared", bob_session["session"],
                  "--json"])
    assert shared.returncode == 0, shared.stderr
    assert json.loads(shared.stdout) == {"support_id": support_id, "digest": digest,
                                         "journal": seen["journal"]}


def test_without_the_grant_the_journal_is_not_sent_and_the_refusal_is_audited(
        support, private_state, tmp_path):
    agent = support.start_agent()
    console, _ = technician_console(support, tmp_path, "Alice Tan",
                                    str(tmp_path / "cases.sqlite"), agent.code)
    next_event(console, "connected")
    send(console, "history")
    refused = next_event(console, "error", "history")
    assert refused["event"] == "error" and refused["code"] == "denied", refused
    # Asked and refused by the customer: still nothing.
    send(console, "request history")
    agent.wait_for("asks to")
    agent.say("n")
    assert next_event(console, "consent")["granted"] is False
    send(console, "history")
    assert next_event(console, "error", "history")["event"] == "error"
    end_with_advice(agent, console, "none")

    log = audit_log(private_state)
    refusals = [e for e in log if e["event"] == "action-refused"]
    assert [e["action"] for e in refusals] == ["history.request", "history.request"]
    assert all(e["missing"] == "history" for e in refusals)
    assert not any(e["event"] == "history-shared" for e in log)
    support_id = run([program("kefu-agentd"), "support-id"]).stdout.strip()
    assert support_id not in "\n".join(agent.lines)
    assert not os.path.exists(os.path.join(str(private_state), "state", "kefu", "shared"))
    # The case the console kept has no support ID: nothing identified the customer.
    case = json.loads(run([program("kefu-console"), "cases", "--db",
                           str(tmp_path / "cases.sqlite"), "show", "1", "--json"]).stdout)
    assert case["support_id"] == "" and case["history"] == ""


def test_a_database_lost_mid_session_loses_no_case(support, private_state, tmp_path, postgres):
    agent = support.start_agent()
    console, env = technician_console(support, tmp_path, "Alice Tan", postgres.uri, agent.code,
                                      {"PGPASSFILE": postgres.passfile})
    next_event(console, "connected")
    send(console, "note the team database goes away now")
    next_event(console, "note")
    postgres.stop()
    send(console, "end reseat the memory")
    kept = next_event(console, "case", "error")
    assert kept["event"] == "case" and "kept on this computer" in kept["message"], kept
    console.communicate(timeout=30)
    assert agent.finish() == 0
    postgres.start()
    listed = run([program("kefu-console"), "cases", "--json"], env=env)
    assert listed.returncode == 0, listed.stderr
    cases = json.loads(listed.stdout)
    assert [c["advice"] for c in cases] == ["reseat the memory"]
    case = json.loads(run([program("kefu-console"), "cases", "show", str(cases[0]["id"]),
                           "--json"], env=env).stdout)
    assert [n["text"] for n in case["notes"]] == ["the team database goes away now"]
    # Written once: opening the store again finds the spool empty.
    assert len(json.loads(run([program("kefu-console"), "cases", "--json"], env=env).stdout)) == 1


def test_a_script_knows_the_customer_before_its_next_command(support, private_state, tmp_path):
    database = str(tmp_path / "cases.sqlite")
    home = tmp_path / "console-script"
    (home / "config").mkdir(parents=True)
    (home / "config" / "console.conf").write_text("database = %s\n" % database)
    env = dict(os.environ, KEFU_CONSOLE_DIR=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_STATE_HOME=str(home / "state"))
    agent = support.start_agent()
    console = support.processes.start(
        [program("kefu-console"), "join"] + support.console_args() +
        ["--exec", "request history; note checked the hub; end a powered hub", agent.code],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    agent.wait_for("asks to")
    agent.say("y")
    out, _ = console.communicate(timeout=60)
    assert agent.finish() == 0
    support_id = run([program("kefu-agentd"), "support-id"]).stdout.strip()
    assert "Customer %s. No earlier session with the support team." % support_id in out, out
    assert "0 earlier cases of this customer in the case store." in out
    case = json.loads(run([program("kefu-console"), "cases", "show", "1", "--json"],
                          env=env).stdout)
    assert case["support_id"] == support_id
    assert [n["text"] for n in case["notes"]] == ["checked the hub"]
