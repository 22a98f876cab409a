# kefu: kefu-plugin test runs steps bounded: timeout kills the group, output is capped. SPDX-License-Identifier: MIT
import json
import os
import socket
import time

from conftest import SOURCE_DIR, program, run

NSSWITCH = os.path.join(SOURCE_DIR, "diag-plugins", "name-resolution-config")


def make_plugin(tmp_path, script, timeout=2):
    plugin = tmp_path / "hostile"
    plugin.mkdir()
    (plugin / "plugin.json").write_text(json.dumps({
        "format": 1, "id": "hostile", "version": "1", "name": "hostile",
        "applies_to": [{"always": True}],
        "checks": [{"id": "c", "title": "t", "detect": {"run": "d.sh", "timeout": timeout}}]}))
    (plugin / "d.sh").write_text("#!/bin/sh\n" + script)
    os.chmod(plugin / "d.sh", 0o755)
    return str(plugin)


def plugin_test_json(plugin, *extra):
    result = run([program("kefu-plugin"), "test", "--json", *extra, plugin], timeout=30)
    return result.returncode, json.loads(result.stdout)["steps"]


def test_step_running_forever_is_killed_with_its_children(tmp_path):
    pidfile = tmp_path / "child.pid"
    plugin = make_plugin(tmp_path, "sleep 300 &\necho $! > %s\nwhile :; do :; done\n" % pidfile)
    code, steps = plugin_test_json(plugin, "--no-sandbox")  # the pid file must reach the host
    assert code == 1
    assert steps[0]["timed_out"] is True and steps[0]["outcome"] == "error"
    child = int(pidfile.read_text())
    state = "S"
    for _ in range(100):  # killed: it exits (a dying task shows R for a moment), then is reaped
        try:
            with open("/proc/%d/stat" % child) as f:
                state = f.read().split()[2]
        except FileNotFoundError:
            state = "gone"
        if state in ("Z", "gone"):
            break
        time.sleep(0.02)
    assert state in ("Z", "gone")


def test_step_flooding_output_is_capped_and_killed(tmp_path):
    plugin = make_plugin(tmp_path, "yes '{\"type\":\"progress\"}'\n", timeout=30)
    code, steps = plugin_test_json(plugin)
    assert code == 1
    assert steps[0]["output_capped"] is True and steps[0]["timed_out"] is False
    assert steps[0]["bad_lines"] >= 1  # events past the per-step limit are counted


def test_lines_outside_protocol_are_counted_not_fatal(tmp_path):
    plugin = make_plugin(tmp_path, "echo hello\necho '{\"type\":\"finding\",\"severity\":"
                                   "\"info\",\"summary\":\"s\"}'\nexit 0\n")
    code, steps = plugin_test_json(plugin)
    assert code == 0
    assert steps[0]["bad_lines"] == 1 and "not JSON" in steps[0]["first_bad_line"]
    assert steps[0]["events"] == [{"type": "finding", "severity": "info", "summary": "s"}]


def test_environment_is_scrubbed_and_names_the_root(tmp_path):
    plugin = make_plugin(tmp_path, "printf '{\"type\":\"result\",\"status\":\"ok\","
                                   "\"summary\":\"%s|%s|%s\"}\\n' \"$KEFU_ROOT\" "
                                   "\"$KEFU_STEP\" \"${SECRET_TOKEN:-unset}\"\n")
    env = dict(os.environ, SECRET_TOKEN="hunter2")
    result = run([program("kefu-plugin"), "test", "--json", "--root", str(tmp_path), plugin],
                 env=env)
    steps = json.loads(result.stdout)["steps"]
    # bubblewrap shows a root prefix at one fixed place, whatever folders hold it
    assert steps[0]["events"][0]["summary"] == "/run/kefu/root|detect|unset"
    result = run([program("kefu-plugin"), "test", "--json", "--no-sandbox", "--root",
                  str(tmp_path), plugin], env=env)
    steps = json.loads(result.stdout)["steps"]
    assert steps[0]["events"][0]["summary"] == "%s|detect|unset" % tmp_path


def test_fix_repairs_fixture_root_and_second_run_is_clean(tmp_path):
    os.chmod(tmp_path, 0o755)  # a root is open to all; detect runs unprivileged
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "nsswitch.conf").write_text("hosts: files\n")
    code, steps = plugin_test_json(NSSWITCH, "--root", str(tmp_path), "--fix")
    assert code == 0
    assert [s["step"] for s in steps] == ["detect", "repair", "verify"]
    assert [s["outcome"] for s in steps] == ["problem", "ok", "ok"]
    code, steps = plugin_test_json(NSSWITCH, "--root", str(tmp_path))
    assert code == 0 and [s["outcome"] for s in steps] == ["ok"]


def test_sandbox_keeps_writes_to_declared_paths(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "var").mkdir()
    outside = tmp_path / "outside"
    plugin = make_plugin(tmp_path, "touch \"$KEFU_ROOT/var/x\" %s 2>/dev/null\n"
                         "echo '{\"type\":\"result\",\"status\":\"ok\"}'\n" % outside)
    manifest = json.load(open(os.path.join(plugin, "plugin.json")))
    # root: as root the step could write anywhere but for the mounts
    manifest["checks"][0]["detect"]["privileges"] = {"root": True, "writes": ["/etc"]}
    json.dump(manifest, open(os.path.join(plugin, "plugin.json"), "w"))
    with open(os.path.join(plugin, "d.sh"), "a") as f:
        f.write("touch \"$KEFU_ROOT/etc/allowed\"\n")
    code, steps = plugin_test_json(plugin, "--root", str(root))
    assert steps[0]["sandboxed"] is True
    assert not (root / "var" / "x").exists()
    assert not outside.exists()
    assert (root / "etc" / "allowed").exists()


def test_sandbox_step_cannot_reach_loopback_listener(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    plugin = make_plugin(tmp_path, "python3 -c 'import socket; socket.create_connection("
                         "(\"127.0.0.1\", %d), timeout=1)' 2>/dev/null && "
                         "echo '{\"type\":\"result\",\"status\":\"ok\",\"summary\":"
                         "\"reached\"}'\nexit 0\n" % port, timeout=5)
    code, steps = plugin_test_json(plugin)
    try:
        listener.accept()
        reached = True
    except socket.timeout:
        reached = False
    assert not reached
    assert steps[0]["events"] == []
    # the same step without the sandbox does connect: the test can fail
    code, steps = plugin_test_json(plugin, "--no-sandbox")
    listener.close()
    assert steps[0]["events"][0]["summary"] == "reached"


def test_sandbox_hides_home_unless_declared(tmp_path):
    secret = os.path.join("/root", ".kefu-test-secret-%d" % os.getpid())
    with open(secret, "w") as f:
        f.write("hunter2")
    try:
        plugin = make_plugin(tmp_path, "s=$(cat %s 2>/dev/null)\n"
                             "echo \"{\\\"type\\\":\\\"result\\\",\\\"status\\\":"
                             "\\\"ok\\\",\\\"summary\\\":\\\"[$s]\\\"}\"\n" % secret)
        code, steps = plugin_test_json(plugin)
        assert steps[0]["events"][0]["summary"] == "[]"
        code, steps = plugin_test_json(plugin, "--no-sandbox")
        assert steps[0]["events"][0]["summary"] == "[hunter2]"
    finally:
        os.unlink(secret)


def test_relative_root_is_the_folder_it_names_with_and_without_sandbox(tmp_path):
    os.chmod(tmp_path, 0o755)  # detect runs unprivileged
    (tmp_path / "fixture" / "etc").mkdir(parents=True)
    (tmp_path / "fixture" / "etc" / "nsswitch.conf").write_text("hosts: files\n")
    for extra in ((), ("--no-sandbox",)):
        # relative to where the command runs, not to the plugin folder the step starts in
        result = run([program("kefu-plugin"), "test", "--json", *extra, "--root", "fixture",
                      NSSWITCH], cwd=str(tmp_path))
        out = json.loads(result.stdout)
        assert out["root"] == str(tmp_path / "fixture")
        assert [s["outcome"] for s in out["steps"]] == ["problem"], extra
    result = run([program("kefu-plugin"), "test", "--root", "missing", NSSWITCH],
                 cwd=str(tmp_path))
    assert result.returncode == 1 and "missing: no such folder" in result.stderr
