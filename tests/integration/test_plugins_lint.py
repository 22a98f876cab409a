# kefu: kefu-plugin lint and the shipped plugins' steps against fixture roots. SPDX-License-Identifier: MIT
import json
import os
import shutil
import stat

from conftest import SOURCE_DIR, program, run

PLUGINS = os.path.join(SOURCE_DIR, "diag-plugins")
NSSWITCH = os.path.join(PLUGINS, "name-resolution-config")


def copy_plugin(src, dest):
    shutil.copytree(src, dest)
    return dest


def test_lint_accepts_shipped_plugin():
    result = run([program("kefu-plugin"), "lint", NSSWITCH])
    assert result.returncode == 0, result.stderr
    assert "name-resolution-config 1.0.0" in result.stdout


def test_lint_accepts_every_shipped_plugin_with_shellcheck():
    import shutil
    if shutil.which("shellcheck") is None:
        import pytest
        pytest.skip("shellcheck is not installed")
    plugins = sorted(d for d in os.listdir(PLUGINS)
                     if os.path.exists(os.path.join(PLUGINS, d, "plugin.json")))
    assert len(plugins) >= 19
    for name in plugins:
        result = run([program("kefu-plugin"), "lint", os.path.join(PLUGINS, name)])
        assert result.returncode == 0, (name, result.stderr)


def test_lint_names_unknown_manifest_field(tmp_path):
    plugin = copy_plugin(NSSWITCH, str(tmp_path / "p"))
    path = os.path.join(plugin, "plugin.json")
    manifest = json.load(open(path))
    manifest["colour"] = "blue"
    json.dump(manifest, open(path, "w"))
    result = run([program("kefu-plugin"), "lint", plugin])
    assert result.returncode == 1
    assert "unknown field \"colour\"" in result.stderr


def test_lint_names_what_a_translation_leaves_as_written(tmp_path):
    plugin = copy_plugin(NSSWITCH, str(tmp_path / "p"))
    path = os.path.join(plugin, "plugin.json")
    manifest = json.load(open(path))
    assert run([program("kefu-plugin"), "lint", plugin]).stdout.count("as written") == 0
    manifest["translations"]["de"] = {"checks": {"nsswitch-dns": {
        "title": "Webadressen werden nicht aufgelöst"}}}
    json.dump(manifest, open(path, "w"), ensure_ascii=False)
    result = run([program("kefu-plugin"), "lint", plugin])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "name-resolution-config: de leaves the name as written",
        "name-resolution-config: de leaves the fix of check nsswitch-dns as written"]
    manifest["translations"]["de"] = {"name": "Namensauflösung"}
    json.dump(manifest, open(path, "w"), ensure_ascii=False)
    result = run([program("kefu-plugin"), "lint", plugin])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:1] == [
        "name-resolution-config: de leaves the title and fix of check nsswitch-dns as written"]
    manifest["translations"]["de"] = {"checks": {"nsswitch-dns": {
        "title": "Webadressen werden nicht aufgelöst"}}}
    # A translation of a check the manifest does not have is refused, by name.
    manifest["translations"]["de"]["checks"]["nsswitch-dsn"] = {"title": "x"}
    json.dump(manifest, open(path, "w"), ensure_ascii=False)
    result = run([program("kefu-plugin"), "lint", plugin])
    assert result.returncode == 1
    assert "translations.de.checks: there is no check \"nsswitch-dsn\"" in result.stderr


def test_lint_refuses_missing_and_non_executable_scripts(tmp_path):
    plugin = copy_plugin(NSSWITCH, str(tmp_path / "p"))
    os.chmod(os.path.join(plugin, "detect.sh"), stat.S_IRUSR)
    result = run([program("kefu-plugin"), "lint", plugin])
    assert result.returncode == 1 and "detect.sh is not executable" in result.stderr
    os.unlink(os.path.join(plugin, "repair.sh"))
    result = run([program("kefu-plugin"), "lint", plugin])
    assert "repair.sh is missing" in result.stderr


def test_lint_reports_shellcheck_findings(tmp_path):
    plugin = copy_plugin(NSSWITCH, str(tmp_path / "p"))
    with open(os.path.join(plugin, "detect.sh"), "w") as f:
        f.write("#!/bin/sh\ncd \"$KEFU_ROOT\"\nrm -rf \"$never_set\"/tmp\n")
    result = run([program("kefu-plugin"), "lint", plugin])
    assert result.returncode == 1
    assert "shellcheck found problems in detect.sh" in result.stderr


def test_lint_without_folder_is_usage_error():
    assert run([program("kefu-plugin"), "lint"]).returncode == 2
    result = run([program("kefu-plugin"), "lint", "/nonexistent"])
    assert result.returncode == 1 and "plugin.json" in result.stderr


def make_root(tmp_path, hosts):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "nsswitch.conf").write_text("passwd: files\n" + hosts + "\n")
    return str(root)


def step(name, root):
    env = {"PATH": "/usr/bin:/bin", "KEFU_ROOT": root}
    result = run([os.path.join(NSSWITCH, name)], env=env)
    events = [json.loads(line) for line in result.stdout.splitlines()]
    return result.returncode, events


def test_nsswitch_without_dns_is_detected_repaired_and_verified(tmp_path):
    root = make_root(tmp_path, "hosts: files myhostname")
    code, events = step("detect.sh", root)
    assert code == 1
    assert events[0]["type"] == "finding" and events[0]["severity"] == "error"
    code, events = step("repair.sh", root)
    assert code == 0 and events[-1]["status"] == "fixed"
    code, events = step("detect.sh", root)
    assert code == 0 and events[-1] == {"type": "result", "status": "ok",
                                        "summary": "the hosts line asks DNS"}


def test_healthy_nsswitch_reports_nothing_and_is_unchanged(tmp_path):
    root = make_root(tmp_path, "hosts: files mdns4_minimal [NOTFOUND=return] dns myhostname")
    before = open(os.path.join(root, "etc", "nsswitch.conf")).read()
    code, events = step("detect.sh", root)
    assert code == 0
    assert [e for e in events if e["type"] == "finding"] == []
    assert open(os.path.join(root, "etc", "nsswitch.conf")).read() == before
    assert os.listdir(os.path.join(root, "etc")) == ["nsswitch.conf"]
