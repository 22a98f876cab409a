# kefu: the technician runs the vendor's plugins in a session: checks under 'diagnose',
# repairs under 'repair', refused and audited without them, stopped when taken back.
# SPDX-License-Identifier: MIT
import glob
import json
import os
import time

import pytest

from conftest import program, run
from session_fixtures import (audit_log, grant, next_event, private_state,  # noqa: F401
                              send, support)

# Each test keeps the customer's audit log, summaries and downloads in its own folder.
pytestmark = pytest.mark.usefixtures("private_state")


def write_plugin(folder, plugin_id, repair_script, repair_timeout=20):
    plugin = folder / plugin_id
    plugin.mkdir(parents=True)
    (plugin / "plugin.json").write_text(json.dumps({
        "format": 1, "id": plugin_id, "version": "1.0.0", "name": "Marker " + plugin_id,
        "publisher": "Example Support", "applies_to": [{"always": True}],
        "checks": [{
            "id": "marker", "title": "A broken marker is left in /etc",
            "fix": "Remove the marker",
            "detect": {"run": "detect.sh", "timeout": 10},
            "repair": [{"run": "repair.sh", "timeout": repair_timeout,
                        "privileges": {"root": True, "writes": ["/etc"]}}],
            "verify": {"run": "detect.sh", "timeout": 10}}]}))
    (plugin / "detect.sh").write_text(
        "#!/bin/sh\n"
        "if [ -e \"$KEFU_ROOT/etc/broken-%s\" ]; then\n"
        "  echo '{\"type\":\"finding\",\"severity\":\"error\",\"summary\":\"the marker is there\"}'\n"
        "  exit 1\n"
        "fi\n"
        "exit 0\n" % plugin_id)
    (plugin / "repair.sh").write_text("#!/bin/sh\n" + repair_script % plugin_id)
    for name in ("detect.sh", "repair.sh"):
        os.chmod(plugin / name, 0o755)


@pytest.fixture
def machine(tmp_path):
    """A customer's system tree with two broken markers, and two plugins that fix them."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "broken-quick").write_text("x")
    (root / "etc" / "broken-slow").write_text("x")
    plugins = tmp_path / "plugins"
    write_plugin(plugins, "quick", "rm -f \"$KEFU_ROOT/etc/broken-%s\"\n")
    # The slow repair says it started, then takes a minute with a sleep the test can find.
    write_plugin(plugins, "slow", "echo started > \"$KEFU_ROOT/etc/repair-%s.started\"\n"
                 "sleep " + SLOW_SLEEP + "\n", repair_timeout=120)
    return root, plugins


SLOW_SLEEP = "59.371"


@pytest.fixture
def session(support, machine):
    root, plugins = machine
    agent = support.start_agent("--root", str(root), "--plugins", str(plugins))
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    yield agent, console, root
    if console.poll() is None:
        send(console, "end")
        console.wait(timeout=30)
    # The helper never dies of what the technician did.
    if agent.proc.returncode is None:
        assert agent.finish() == 0
    assert agent.proc.returncode == 0


def test_plugins_run_and_repair_are_refused_and_audited_without_their_grants(session, tmp_path):
    agent, console, root = session
    for command in ("plugins", "run quick", "repair quick"):
        send(console, command)
        assert "grant" in next_event(console, "error")["message"]
    grant(agent, console, "diagnose", "asks to")
    send(console, "repair quick")
    assert "'repair' grant" in next_event(console, "error")["message"]
    assert (root / "etc" / "broken-quick").exists()
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    refused = [(e["action"], e["missing"]) for e in audit_log(tmp_path)
               if e["event"] == "action-refused"]
    assert refused == [("plugins.request", "diagnose"), ("plugin.run", "diagnose"),
                       ("plugin.repair", "repair"), ("plugin.repair", "repair")]


def test_the_technician_lists_checks_and_repairs_with_the_grants(session, tmp_path):
    agent, console, root = session
    grant(agent, console, "diagnose", "asks to")
    send(console, "plugins")
    listed = next_event(console, "plugins")
    assert sorted(p["id"] for p in listed["plugins"]) == ["quick", "slow"]
    assert listed["tried"] is None  # the customer never ran a scan here
    send(console, "run quick")
    assert next_event(console, "plugin-started")["mode"] == "detect"
    result = next_event(console, "plugin-result")
    assert [c["state"] for c in result["checks"]] == ["problem"]
    assert result["checks"][0]["steps"][0]["finding"]["summary"] == "the marker is there"
    assert (root / "etc" / "broken-quick").exists()  # a check changes nothing
    grant(agent, console, "repair", "asks to")
    send(console, "repair quick")
    result = next_event(console, "plugin-result")
    assert [c["state"] for c in result["checks"]] == ["fixed"]
    assert [s["step"] for s in result["checks"][0]["steps"]] == ["detect", "repair", "verify"]
    assert not (root / "etc" / "broken-quick").exists()
    send(console, "end all done")
    console.wait(timeout=30)
    agent.finish()
    log = audit_log(tmp_path)
    finished = [e for e in log if e["event"] == "action-finish" and "plugin" in e]
    assert [(e["action"], e["checks"][0]["state"]) for e in finished] == [
        ("plugin check", "problem"), ("plugin repair", "fixed")]
    summaries = glob.glob(str(tmp_path / "data" / "kefu" / "sessions" / "*.md"))
    assert len(summaries) == 1, summaries
    text = open(summaries[0]).read()
    assert "A broken marker is left in /etc (a problem)" in text
    assert "A broken marker is left in /etc (fixed)" in text


def test_the_customers_own_last_scan_is_shown(support, machine, tmp_path):
    root, plugins = machine
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"system": {}, "devices": [], "problems": []}))
    scan = run([program("kefu-agentd"), "scan", "--root", str(root), "--report", str(report),
                "--plugins", str(plugins)], timeout=60)
    assert scan.returncode == 1  # two problems found, none fixed
    agent = support.start_agent("--root", str(root), "--plugins", str(plugins))
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    grant(agent, console, "diagnose", "asks to")
    send(console, "plugins")
    tried = next_event(console, "plugins")["tried"]
    assert tried["fix"] is False
    assert [(c["plugin"], c["state"]) for c in tried["checks"]] == [("quick", "problem"),
                                                                     ("slow", "problem")]
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()


def slow_repair_running():
    """Whether the slow repair's sleep runs (steps live in a PID namespace of their own)."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                args = f.read().split(b"\0")
            with open("/proc/%s/stat" % name) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if args[:2] == [b"sleep", SLOW_SLEEP.encode()] and state != "Z":
            return True
    return False


def within(seconds, predicate):
    """Whether predicate comes true within seconds (asked every 50 ms)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def start_slow_repair(agent, console, root):
    """With diagnose and repair granted, the technician starts the minute-long repair."""
    grant(agent, console, "diagnose", "asks to")
    grant(agent, console, "repair", "asks to")
    send(console, "repair slow")
    next_event(console, "plugin-started")
    assert within(20, lambda: (root / "etc" / "repair-slow.started").exists()
                  and slow_repair_running()), "the repair never started"


def wait_until_gone():
    return within(5, lambda: not slow_repair_running())


def test_revoking_repair_stops_the_running_repair_and_refuses_the_next(session, tmp_path):
    agent, console, root = session
    start_slow_repair(agent, console, root)
    agent.say("/revoke repair")
    result = next_event(console, "plugin-result")
    assert result["stopped"] is True
    assert [c["state"] for c in result["checks"]] == ["stopped"]
    # The script had a minute to go; its whole group is gone now.
    assert wait_until_gone()
    send(console, "repair quick")
    assert "'repair' grant" in next_event(console, "error")["message"]
    assert (root / "etc" / "broken-quick").exists()
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    stopped = [e for e in audit_log(tmp_path) if e["event"] == "action-stopped"]
    assert stopped and stopped[0]["plugin"] == "slow"


def test_stop_during_a_repair_ends_the_session_and_the_repair(session, tmp_path):
    agent, console, root = session
    start_slow_repair(agent, console, root)
    agent.say("/stop")
    assert next_event(console, "ended")
    assert console.wait(timeout=30) == 0
    assert agent.finish() == 0
    assert wait_until_gone()


def list_in_session(support, root, *extra):
    agent = support.start_agent("--root", str(root), *extra)
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    grant(agent, console, "diagnose", "asks to")
    send(console, "plugins")
    listed = next_event(console, "plugins")
    send(console, "run quick")
    ran = next_event(console, "plugin-result") if listed["plugins"] else next_event(
        console, "error")
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    return listed, ran


def test_installed_plugins_run_in_a_session_only_while_the_profile_trusts_their_publisher(
        support, machine, tmp_path):
    root, plugins = machine
    key = str(tmp_path / "example.key")
    entry = json.loads(run([program("kefu-plugin"), "keygen", "--out", key,
                            "Example Support"]).stdout)
    trusting = str(tmp_path / "trusting.json")
    profile = json.load(open(support.profile))
    profile["plugin_publishers"] = [entry]
    json.dump(profile, open(trusting, "w"))
    pkg = str(tmp_path / "quick.kefupkg")
    assert run([program("kefu-plugin"), "pack", str(plugins / "quick"), "-o", pkg,
                "--key", key]).returncode == 0
    result = run([program("kefu-agentd"), "plugins", "install", "--profile", trusting, pkg])
    assert result.returncode == 0, result.stderr
    # No --plugins: the shipped folder, then the installed ones (XDG_DATA_HOME).
    stages = set(glob.glob("/tmp/kefu-plugin-step-*"))
    listed, ran = list_in_session(support, root, "--profile", trusting)
    assert [p["id"] for p in listed["plugins"]] == ["quick"] and listed["skipped"] == []
    assert [c["state"] for c in ran["checks"]] == ["problem"]
    # Root ran it from a checked copy of its own, which is gone afterwards.
    assert set(glob.glob("/tmp/kefu-plugin-step-*")) <= stages
    # A script changed after installing: the session does not run the plugin.
    installed = tmp_path / "data" / "kefu" / "plugins" / "quick" / "detect.sh"
    original = installed.read_text()
    installed.write_text(original + "# changed\n")
    listed, ran = list_in_session(support, root, "--profile", trusting)
    assert listed["plugins"] == [] and "no plugin 'quick'" in ran["message"]
    installed.write_text(original)
    # The session's profile (the fixture's) names no plugin publisher.
    listed, ran = list_in_session(support, root)
    assert listed["plugins"] == []
    assert listed["skipped"][0]["note"] == (
        'quick is not run: its publisher "Example Support" is no longer trusted by the '
        'support profile')
    assert "no plugin 'quick'" in ran["message"]
