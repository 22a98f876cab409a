# kefu: a hostile step that fork-bombs is held by the process limit; the agent stays healthy. SPDX-License-Identifier: MIT
#
# The tests run as root, which RLIMIT_NPROC does not bind: steps that do not
# declare root run as nobody (65534), and root steps get a pids cgroup.
import json
import os
import shutil
import uuid

import pytest

from conftest import SOURCE_DIR, program, run

PLUGINS = os.path.join(SOURCE_DIR, "diag-plugins")
ATTEMPTS = 600  # more than the limit (256), few enough to be harmless if it were not held

# Starts children as fast as it can (each sleeps, marked by its command line),
# counts the ones the system allowed, reports the count and leaves them behind.
BOMB = """#!/bin/sh
exec python3 -c '
import os, sys, time
started = 0
for _ in range(%d):
    try:
        if os.fork() == 0:
            os.closerange(0, 3)
            time.sleep(60)
            os._exit(0)
        started += 1
    except OSError:
        pass
print("{\\"type\\":\\"finding\\",\\"severity\\":\\"info\\",\\"summary\\":\\"%%d\\"}" %% started)
sys.stdout.flush()
os._exit(1)
' %s
"""


def needs_root():
    if os.geteuid() != 0:
        pytest.skip("the agent must run as root for the unprivileged step user")


def make_plugin(folder, script, root_step=False, plugin_id="hostile"):
    plugin = folder / plugin_id
    plugin.mkdir(parents=True)
    step = {"run": "d.sh", "timeout": 20}
    if root_step:
        step["privileges"] = {"root": True}
    (plugin / "plugin.json").write_text(json.dumps({
        "format": 1, "id": plugin_id, "version": "1", "name": "hostile",
        "applies_to": [{"always": True}],
        "checks": [{"id": "c", "title": "hostile step", "detect": step}]}))
    (plugin / "d.sh").write_text(script)
    os.chmod(plugin / "d.sh", 0o755)
    return str(plugin)


def marked_processes(marker):
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(pid))
            except OSError:
                pass
    return found


def plugin_test(plugin, *extra):
    result = run([program("kefu-plugin"), "test", "--json", *extra, plugin], timeout=60)
    return json.loads(result.stdout)["steps"][0]


def test_step_runs_unprivileged_unless_it_needs_root(tmp_path):
    needs_root()
    script = ("#!/bin/sh\nprintf '{\"type\":\"result\",\"status\":\"ok\",\"summary\":"
              "\"%s %s\"}\\n' \"$(id -u)\" "
              "\"$(awk '/^Max processes/ { print $3 }' /proc/self/limits)\"\n")
    step = plugin_test(make_plugin(tmp_path / "a", script))
    assert step["dropped_root"] is True
    assert step["events"][0]["summary"] == "65534 256"
    step = plugin_test(make_plugin(tmp_path / "b", script, root_step=True))
    assert step["dropped_root"] is False
    assert step["events"][0]["summary"].split()[0] == "0"


def test_unprivileged_step_cannot_gain_privileges_back(tmp_path):
    needs_root()
    script = ("#!/bin/sh\nprintf '{\"type\":\"result\",\"status\":\"ok\",\"summary\":"
              "\"%s %s %s\"}\\n' $(awk '/^(NoNewPrivs|CapEff|CapBnd):/ { print $2 }' "
              "/proc/self/status)\n")
    step = plugin_test(make_plugin(tmp_path / "a", script))
    # no setuid program can make it root again, and it holds no capability
    assert step["events"][0]["summary"] == "0000000000000000 0000000000000000 1"
    step = plugin_test(make_plugin(tmp_path / "b", script), "--no-sandbox")
    assert step["events"][0]["summary"] != "0000000000000000 0000000000000000 1"


def bomb_through_scan(tmp_path, root_step):
    needs_root()
    marker = "kefu-bomb-%s" % uuid.uuid4().hex
    plugins = tmp_path / "plugins"
    make_plugin(plugins, BOMB % (ATTEMPTS, marker), root_step=root_step)
    shutil.copytree(os.path.join(PLUGINS, "name-resolution-config"),
                    str(plugins / "name-resolution-config"))
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "nsswitch.conf").write_text("hosts: files\n")
    os.chmod(tmp_path, 0o755)
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"system": {}, "devices": [], "problems": []}))
    args = [program("kefu-agentd"), "scan", "--json", "--root", str(root), "--report",
            str(report), "--plugins", str(plugins)]
    try:
        # --jobs 1: the bomb holds nobody's whole allowance while it lives, so a
        # detect step running beside it as nobody could not fork either.
        result = run(args + ["--jobs", "1"], timeout=120)
        out = json.loads(result.stdout)
        left = marked_processes(marker)
    finally:
        for pid in marked_processes(marker):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
    hostile = [c for c in out["checks"] if c["plugin"] == "hostile"][0]
    started = int(hostile["steps"][0]["finding"]["summary"])
    # the agent kept going: the next plugin ran and found its problem
    assert [(c["plugin"], c["state"]) for c in out["checks"]] == [
        ("hostile", "problem"), ("name-resolution-config", "problem")]
    assert left == []  # nothing the bomb started outlived its step
    return started, args


def test_fork_bomb_in_unprivileged_step_is_held_by_rlimit_nproc(tmp_path):
    started, args = bomb_through_scan(tmp_path, root_step=False)
    assert 0 < started < 256
    # and the agent is fine afterwards: a scan in parallel runs to its end
    result = run(args, timeout=60)
    assert len(json.loads(result.stdout)["checks"]) == 2


def test_fork_bomb_in_root_step_is_held_by_pids_cgroup(tmp_path):
    needs_root()
    probe = plugin_test(make_plugin(tmp_path / "probe", "#!/bin/sh\nexit 0\n", root_step=True))
    if not probe["pids_cgroup"]:
        pytest.skip("no pids cgroup to use here")
    started, _ = bomb_through_scan(tmp_path, root_step=True)
    assert 0 < started < 256


def test_fork_bomb_without_sandbox_is_not_held(tmp_path):
    """The control: unsandboxed, as root, the same bomb starts every process it asks for."""
    needs_root()
    marker = "kefu-bomb-%s" % uuid.uuid4().hex
    try:
        step = plugin_test(make_plugin(tmp_path, BOMB % (ATTEMPTS, marker)), "--no-sandbox")
    finally:
        for pid in marked_processes(marker):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
    assert int(step["events"][0]["summary"]) == ATTEMPTS
