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


def scan(root, report, *extra):
    return run([program("kefu-agentd"), "scan", "--root", root, "--report", report,
                "--plugins", PLUGINS, *extra])


def test_scan_reports_problem_and_offered_fix_without_changing_anything(tmp_path):
    root, report = broken_root(tmp_path)
    before = open(os.path.join(root, "etc", "nsswitch.conf")).read()
    result = scan(root, report)
    assert result.returncode == 1
    assert "problem: Web addresses cannot be looked up" in result.stdout
    assert "fix: Add dns to the hosts line" in result.stdout
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
    assert result.stdout.strip() == "0 problems left"


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
    os.chmod(tmp_path, 0o755)
    root, report = broken_root(tmp_path)
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
    result = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  agentd, "scan", "--root", root, "--report", report,
                  "--plugins", plugins, "--fix", "--yes"])
    assert result.returncode == 1, result.stderr
    assert "needs an administrator: sudo kefu-agentd scan --fix" in result.stdout
    assert "dns" not in open(os.path.join(root, "etc", "nsswitch.conf")).read()
