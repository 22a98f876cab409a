# kefu: kefu-agentd scan finds problems with the shipped plugins and fixes them with consent. SPDX-License-Identifier: MIT
import json
import os
import shutil

from conftest import SOURCE_DIR, program, run

PLUGINS = os.path.join(SOURCE_DIR, "diag-plugins")


def broken_root(tmp_path, hosts="hosts: files myhostname"):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "nsswitch.conf").write_text(hosts + "\n")
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"system": {"os": {"id": "debian", "version_id": "13"}},
                                  "devices": [], "problems": []}))
    return str(root), str(report)


def scan(root, report, *extra, plugins=PLUGINS):
    # summaries of --fix go beside the root, not into the home of whoever runs the tests
    env = dict(os.environ, XDG_STATE_HOME=os.path.join(os.path.dirname(root), "state"))
    return run([program("kefu-agentd"), "scan", "--root", root, "--report", report,
                "--plugins", plugins, *extra], env=env)


def test_scan_reports_problem_and_offered_fix_without_changing_anything(tmp_path):
    root, report = broken_root(tmp_path)
    before = open(os.path.join(root, "etc", "nsswitch.conf")).read()
    result = scan(root, report)
    assert result.returncode == 1
    assert "problem: Web addresses cannot be looked up" in result.stdout
    assert "fix: Add dns to the hosts line" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "1 check ran, 1 problem left"
    assert open(os.path.join(root, "etc", "nsswitch.conf")).read() == before


def test_fix_without_consent_changes_nothing(tmp_path):
    root, report = broken_root(tmp_path)
    result = scan(root, report, "--fix")  # stdin is not a terminal: no one said yes
    assert result.returncode == 1 and "fix declined" in result.stdout
    assert "dns" not in open(os.path.join(root, "etc", "nsswitch.conf")).read()


def test_fix_yes_repairs_and_verifies(tmp_path):
    root, report = broken_root(tmp_path)
    result = scan(root, report, "--fix", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    check = out["checks"][0]
    assert check["state"] == "fixed"
    assert [s["step"] for s in check["steps"]] == ["detect", "repair", "verify"]
    assert out["problems_left"] == 0
    assert "dns" in open(os.path.join(root, "etc", "nsswitch.conf")).read()


def test_healthy_root_reports_nothing(tmp_path):
    root, report = broken_root(tmp_path, "hosts: files dns")
    result = scan(root, report)
    assert result.returncode == 0
    assert result.stdout.strip() == "1 check ran, 0 problems left"


def test_plugin_not_applying_is_not_run(tmp_path):
    root, report = broken_root(tmp_path)
    os.unlink(os.path.join(root, "etc", "nsswitch.conf"))
    result = scan(root, report, "--json")
    assert json.loads(result.stdout)["checks"] == []


def test_scan_refuses_bad_report_and_bad_usage(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("nope")
    result = scan(str(tmp_path), str(bad))
    assert result.returncode == 1 and "not a diagnostics report" in result.stderr
    assert run([program("kefu-agentd"), "scan", "--bogus"]).returncode == 2


def test_scan_without_report_runs_the_diagnostics_itself(tmp_path):
    root, _ = broken_root(tmp_path)
    result = run([program("kefu-agentd"), "scan", "--root", root, "--plugins", PLUGINS, "--json"])
    assert result.returncode == 1, result.stderr
    checks = json.loads(result.stdout)["checks"]
    assert [(c["plugin"], c["state"]) for c in checks] == [("name-resolution-config", "problem")]


def test_fix_needing_root_names_the_administrator_command_when_not_root():
    import pathlib
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix="kefu-scan-")  # readable by the unprivileged user
    try:
        check_needs_administrator(pathlib.Path(tmp))
    finally:
        shutil.rmtree(tmp)


def check_needs_administrator(tmp_path):
    import shlex
    os.chmod(tmp_path, 0o755)
    # a root whose name needs quoting in the command shown
    (tmp_path / "it's mine").mkdir()
    root, report = broken_root(tmp_path / "it's mine")
    # The checkout may sit in a folder only root can enter (CI's clone does): give the
    # unprivileged user its own copy of the plugins and of the program.
    plugins = os.path.join(str(tmp_path), "plugins")
    shutil.copytree(PLUGINS, plugins)
    agentd = os.path.join(str(tmp_path), "kefu-agentd")
    shutil.copy(program("kefu-agentd"), agentd)
    for folder, dirs, files in os.walk(str(tmp_path)):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            os.chmod(path, 0o755 if os.access(path, os.X_OK) else 0o644)
    state = os.path.join(str(tmp_path), "state")
    os.mkdir(state)
    os.chmod(state, 0o777)
    env = dict(os.environ, XDG_STATE_HOME=state)
    # Without pkexec (this system has none, or it cannot ask anyone: no polkit agent here),
    # the fix is left with the exact command an administrator runs.
    result = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  agentd, "scan", "--root", root, "--report", report,
                  "--plugins", plugins, "--fix", "--yes"], env=env)
    assert result.returncode == 1, result.stderr
    command = "sudo %s scan --root %s --report %s --plugins %s --fix" % (
        agentd, shlex.quote(root).replace("'\"'\"'", "'\\''"), shlex.quote(report).replace(
            "'\"'\"'", "'\\''"), plugins)
    assert "problem (the fix needs an administrator: %s): " % command in result.stdout, \
        result.stdout
    assert "dns" not in open(os.path.join(root, "etc", "nsswitch.conf")).read()
    # The command is exact: run as root (as sudo would), it fixes the problem.
    words = shlex.split(command)
    assert words[0] == "sudo"
    fixed = run(words[1:] + ["--yes"], env=env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "dns" in open(os.path.join(root, "etc", "nsswitch.conf")).read()


def test_fix_writes_a_summary_of_what_was_found_fixed_and_verified(tmp_path):
    root, report = broken_root(tmp_path)
    result = scan(root, report, "--fix", "--yes")
    assert result.returncode == 0, result.stderr
    saved = result.stdout.strip().splitlines()[-1]
    assert saved.startswith("Summary saved to " + str(tmp_path / "state" / "kefu" / "scans"))
    text = open(saved[len("Summary saved to "):]).read()
    assert text.startswith("# Scan summary\n")
    assert "1 fixed, 0 still a problem" in text
    assert "## Fixed and verified" in text
    assert "- **Web addresses cannot be looked up: the system never asks a name server**" in text
    assert "Found: The system never asks a name server" in text
    assert "Repaired" in text and "Verified: fixed" in text


def test_summary_says_what_was_left_and_why(tmp_path):
    root, report = broken_root(tmp_path)
    result = scan(root, report, "--fix", "--json")  # no one says yes
    out = json.loads(result.stdout)
    text = open(out["summary"]).read()
    assert "## Still a problem" in text and "Not fixed: (fix declined)" in text
    assert "Fix offered: Add dns to the hosts line" in text
    # two scans in the same second keep both summaries
    again = json.loads(scan(root, report, "--fix", "--json").stdout)["summary"]
    assert again != out["summary"] and os.path.exists(out["summary"])


def test_scan_without_fix_writes_no_summary(tmp_path):
    root, report = broken_root(tmp_path)
    result = scan(root, report)
    assert "Summary saved" not in result.stdout
    # Only the record of what was found (for a technician to see), no summary file.
    assert os.listdir(str(tmp_path / "state" / "kefu" / "scans")) == ["last.json"]
    last = json.loads((tmp_path / "state" / "kefu" / "scans" / "last.json").read_text())
    assert last["fix"] is False and last["checks"][0]["state"] == "problem"


# Each detect step marks itself in a shared folder, then waits (bounded) to see
# the other plugin's mark: the first step sees both only when they run at once.
MEET = """#!/bin/sh
touch "$KEFU_ROOT/meet/$1"
i=0
while [ "$(ls "$KEFU_ROOT/meet" | wc -l)" -lt 2 ] && [ $i -lt 20 ]; do
	sleep 0.1
	i=$((i + 1))
done
n=$(ls "$KEFU_ROOT/meet" | wc -l)
sleep "$2"
printf '{"type":"finding","severity":"info","summary":"saw %s"}\n' "$n"
exit 1
"""


def meeting_plugins(tmp_path):
    plugins = tmp_path / "plugins"
    for name, delay in (("a-slow", "1"), ("b-fast", "0")):
        folder = plugins / name
        folder.mkdir(parents=True)
        (folder / "meet.sh").write_text(MEET)
        (folder / "d.sh").write_text("#!/bin/sh\nexec ./meet.sh %s %s\n" % (name, delay))
        os.chmod(folder / "d.sh", 0o755)
        os.chmod(folder / "meet.sh", 0o755)
        (folder / "plugin.json").write_text(json.dumps({
            "format": 1, "id": name, "version": "1", "name": name,
            "applies_to": [{"always": True}],
            "checks": [{"id": "meet", "title": name, "detect": {
                "run": "d.sh", "timeout": 10, "privileges": {"writes": ["/meet"]}}}]}))
    root, report = broken_root(tmp_path, "hosts: files dns")
    meet = os.path.join(root, "meet")
    os.mkdir(meet)
    os.chmod(meet, 0o1777)  # the steps run as nobody
    os.chmod(tmp_path, 0o755)
    return root, report, str(plugins)


def test_detect_steps_of_different_plugins_run_at_once_in_a_fixed_order(tmp_path):
    root, report, plugins = meeting_plugins(tmp_path)
    out = json.loads(scan(root, report, "--json", "--jobs", "2", plugins=plugins).stdout)
    # a-slow finishes last but is listed first
    assert [(c["plugin"], c["steps"][0]["finding"]["summary"]) for c in out["checks"]] == [
        ("a-slow", "saw 2"), ("b-fast", "saw 2")]
    for mark in os.listdir(os.path.join(root, "meet")):
        os.unlink(os.path.join(root, "meet", mark))
    out = json.loads(scan(root, report, "--json", "--jobs", "1", plugins=plugins).stdout)
    assert [(c["plugin"], c["steps"][0]["finding"]["summary"]) for c in out["checks"]] == [
        ("a-slow", "saw 1"), ("b-fast", "saw 2")]


def test_jobs_out_of_range_is_refused(tmp_path):
    root, report = broken_root(tmp_path)
    for jobs in ("0", "33", "two", ""):
        assert scan(root, report, "--jobs", jobs).returncode == 2


def test_relative_root_is_scanned_and_fixed(tmp_path):
    os.chmod(tmp_path, 0o755)
    broken_root(tmp_path)
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    result = run([program("kefu-agentd"), "scan", "--root", "root", "--report", "report.json",
                  "--plugins", PLUGINS, "--fix", "--yes", "--json"], env=env, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["root"] == str(tmp_path / "root")
    assert [c["state"] for c in out["checks"]] == ["fixed"]
    assert "dns" in (tmp_path / "root" / "etc" / "nsswitch.conf").read_text()


def test_scans_and_their_fixes_are_in_the_audit_log(tmp_path):
    root, report = broken_root(tmp_path)
    assert scan(root, report).returncode == 1
    assert scan(root, report, "--fix", "--yes").returncode == 0
    state = os.path.join(os.path.dirname(root), "state")
    with open(os.path.join(state, "kefu", "audit.jsonl")) as f:
        scans = [json.loads(line) for line in f if '"self-service-scan"' in line]
    assert [(s["fix"], s["problems_left"], s["checks"][0]["state"]) for s in scans] == [
        (False, 1, "problem"), (True, 0, "fixed")]
    shown = run([program("kefu-agentd"), "audit"],
                env=dict(os.environ, XDG_STATE_HOME=state)).stdout
    assert "self-service scan with fixes: 0 problem(s) left" in shown


def test_scan_without_plugins_fails_naming_the_folders_it_looked_in(tmp_path):
    root, report = broken_root(tmp_path)
    empty = tmp_path / "no-plugins"
    empty.mkdir()
    (empty / "not-a-plugin").mkdir()  # a folder without a manifest is no plugin
    result = scan(root, report, "--json", plugins=str(empty))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "kefu-agentd: no plugins found in %s: nothing was checked" % empty]
    # The default places: the folder of shipped plugins and this user's installed ones.
    data = tmp_path / "data"
    env = dict(os.environ, XDG_DATA_HOME=str(data), XDG_STATE_HOME=str(tmp_path / "state"))
    result = run([program("kefu-agentd"), "scan", "--root", root, "--report", report], env=env)
    if result.returncode != 1 and os.path.isdir("/usr/local/share/kefu/plugins"):
        return  # kefu is installed here with its plugins: the scan had something to run
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    line = result.stderr.strip()
    assert line.startswith("kefu-agentd: no plugins found in /")
    assert line.endswith("/share/kefu/plugins or %s/kefu/plugins: nothing was checked" % data)


def test_scan_says_how_many_checks_ran(tmp_path):
    root, report = broken_root(tmp_path, "hosts: files dns")
    result = scan(root, report, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["checks_ran"] == len(out["checks"]) == 1
    os.unlink(os.path.join(root, "etc", "nsswitch.conf"))
    result = scan(root, report)
    assert result.returncode == 0 and result.stdout.strip() == "0 checks ran, 0 problems left"
