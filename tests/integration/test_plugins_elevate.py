# kefu: a plugin step that needs root, for a user who is not: the elevated side (what pkexec
# runs) takes ids only, finds and checks the plugin itself and refuses everything else; the
# user's scan names the exact administrator command when it cannot ask. SPDX-License-Identifier: MIT
import glob
import hashlib
import json
import os
import shutil
import tempfile

import pytest

from conftest import SOURCE_DIR, program, run
from test_plugins_package import PLUGIN, agent, pack, world  # noqa: F401 (world is a fixture)

CHECK = "switched-off"
CONF = "etc/" + PLUGIN + ".conf"


@pytest.fixture
def installed(world, tmp_path):  # noqa: F811 (the fixture imported above)
    """The scaffolded plugin (its repair declares root) installed from a signed package, and a
    fixture root where it finds its problem."""
    pkg = pack(world, tmp_path, "p.kefupkg")
    result = agent(world["env"], "plugins", "install", "--profile", world["profile"], pkg)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / CONF).write_text("enabled=no\n")
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"system": {}, "devices": [], "problems": []}))
    world["root"], world["report"], world["pkg"] = str(root), str(report), pkg
    world["folder"] = os.path.join(world["installed"], PLUGIN)
    return world


def step(w, *args, env=None, profile=None):
    return agent(env or w["env"], "plugin-step", "--root", w["root"], "--report", w["report"],
                 "--profile", profile or w["profile"], *args)


def refused(result, text):
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    assert "plugin-step: refused: " in result.stderr and text in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def untouched(w):
    return open(os.path.join(w["root"], CONF)).read() == "enabled=no\n"


def test_root_step_of_an_intact_installed_plugin_runs_in_the_sandbox_from_a_private_copy(
        installed):
    before = set(glob.glob("/tmp/kefu-plugin-step-*"))
    result = step(installed, PLUGIN, CHECK, "repair-1")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["exit_code"] == 0, json.dumps(out)
    assert out["sandboxed"] is True and out["dropped_root"] is False
    assert out["events"] == [{"type": "result", "status": "fixed", "summary": "switched " +
                              PLUGIN + " on"}]
    assert open(os.path.join(installed["root"], CONF)).read() == "enabled=yes\n"
    assert set(glob.glob("/tmp/kefu-plugin-step-*")) <= before  # the copy is removed


def test_copies_left_by_a_killed_step_are_swept_and_live_ones_kept(installed):
    # A step killed before it removed its private copy leaves a folder named with its
    # process; the next staging removes it once that process is gone.
    import subprocess
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = tempfile.mkdtemp(prefix="kefu-plugin-step-%d-" % gone.pid, dir="/tmp")
    os.makedirs(os.path.join(dead, PLUGIN))
    open(os.path.join(dead, PLUGIN, "detect.sh"), "w").write("#!/bin/sh\n")
    alive = tempfile.mkdtemp(prefix="kefu-plugin-step-%d-" % os.getpid(), dir="/tmp")
    try:
        result = step(installed, PLUGIN, CHECK, "repair-1")
        assert result.returncode == 0, result.stderr
        assert not os.path.exists(dead)
        assert os.path.isdir(alive)
    finally:
        shutil.rmtree(dead, ignore_errors=True)
        shutil.rmtree(alive, ignore_errors=True)


def test_tampered_untrusted_and_unsigned_plugins_are_refused(installed, tmp_path):
    w = installed
    repair = os.path.join(w["folder"], "repair.sh")
    original = open(repair, "rb").read()
    # a changed script
    open(repair, "ab").write(b"touch /tmp/kefu-elevate-owned\n")
    refused(step(w, PLUGIN, CHECK, "repair-1"), "hash-mismatch: repair.sh was changed")
    # the kept list edited to match the change: the signature no longer matches
    data = open(repair, "rb").read()
    listed_path = os.path.join(w["folder"], ".kefu-package.json")
    listed = json.load(open(listed_path))
    for f in listed["files"]:
        if f["path"] == "repair.sh":
            f["size"], f["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    json.dump(listed, open(listed_path, "w"))
    refused(step(w, PLUGIN, CHECK, "repair-1"), "bad-signature")
    # the signature removed
    os.unlink(os.path.join(w["folder"], ".kefu-package.sig"))
    refused(step(w, PLUGIN, CHECK, "repair-1"), "unsigned")
    # a plain folder in the installed place, no package at all
    shutil.rmtree(w["folder"])
    shutil.copytree(w["plugin"], w["folder"])
    open(os.path.join(w["folder"], "repair.sh"), "wb").write(original)
    refused(step(w, PLUGIN, CHECK, "repair-1"), "not an installed package")
    # intact again, but the profile no longer trusts the publisher
    assert agent(w["env"], "plugins", "install", "--profile", w["profile"],
                 w["pkg"]).returncode == 0
    profile = json.load(open(w["profile"]))
    profile["plugin_publishers"] = []
    without = str(tmp_path / "without.json")
    json.dump(profile, open(without, "w"))
    refused(step(w, PLUGIN, CHECK, "repair-1", profile=without), "unknown-publisher")
    # the same without any readable profile
    refused(step(w, PLUGIN, CHECK, "repair-1", profile=str(tmp_path / "missing.json")),
            "run only with a support profile")
    assert untouched(w) and not os.path.exists("/tmp/kefu-elevate-owned")


def test_names_that_are_paths_or_links_out_of_the_places_are_refused(installed, tmp_path):
    w = installed
    for name in ("../" + PLUGIN, "/tmp/" + PLUGIN, "a/" + PLUGIN, w["folder"], "", "X"):
        refused(step(w, name, CHECK, "repair-1"), "not a plugin and check id")
    refused(step(w, PLUGIN, "../" + CHECK, "repair-1"), "not a plugin and check id")
    # an intact package installed somewhere else, linked into the installed place
    elsewhere = str(tmp_path / "elsewhere" / PLUGIN)
    shutil.move(w["folder"], elsewhere)
    os.symlink(elsewhere, w["folder"])
    refused(step(w, PLUGIN, CHECK, "repair-1"), "is not a folder of its own")
    os.unlink(w["folder"])
    refused(step(w, PLUGIN, CHECK, "repair-1"), "no plugin printer-paused is shipped")
    assert untouched(w)


def test_unknown_checks_and_steps_and_steps_without_root_are_refused(installed):
    w = installed
    refused(step(w, PLUGIN, "no-such-check", "repair-1"), "has no check no-such-check")
    for name in ("detect", "repair-0", "repair-2", "repair-1x", "repair-", "Verify", "../x"):
        refused(step(w, PLUGIN, CHECK, name), "has no step")
    # verify does not declare root: it never needs an administrator
    refused(step(w, PLUGIN, CHECK, "verify"), "does not declare root")
    assert run([program("kefu-agentd"), "plugin-step", PLUGIN, CHECK]).returncode == 2
    assert untouched(w)


def test_for_pkexec_only_what_the_elevated_side_can_check_itself(installed):
    w = installed
    # started by pkexec for a user: no --root, --report or --profile of theirs
    env = dict(w["env"], PKEXEC_UID="65534")
    refused(step(w, PLUGIN, CHECK, "repair-1", env=env), "are for root only")
    for bogus in ("", "x", "-1", "65534x", "99999999999999999999"):
        refused(agent(dict(w["env"], PKEXEC_UID=bogus), "plugin-step", PLUGIN, CHECK,
                      "repair-1"), "PKEXEC_UID is not a user id")
    # the installed place is the asking user's (nobody's) home, never the environment's
    result = agent(env, "plugin-step", PLUGIN, CHECK, "repair-1")
    refused(result, "installed in /nonexistent/.local/share/kefu/plugins")
    assert untouched(w)


def test_the_elevated_command_is_refused_to_anyone_but_root(installed):
    tmp = tempfile.mkdtemp(prefix="kefu-elevate-")  # CI's checkout is root's alone
    try:
        os.chmod(tmp, 0o755)
        copy = os.path.join(tmp, "kefu-agentd")
        shutil.copy(program("kefu-agentd"), copy)
        result = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", copy,
                      "plugin-step", PLUGIN, CHECK, "repair-1"])
        refused(result, "runs only as root")
    finally:
        shutil.rmtree(tmp)
    assert untouched(installed)


def test_plugin_step_is_not_listed_as_a_command():
    listing = run([program("kefu-agentd"), "help"]).stdout
    assert "scan" in listing and "plugin-step" not in listing


MARKER_PLUGIN = {
    "format": 1, "id": "marker-left", "version": "1.0.0", "name": "A marker is left",
    "publisher": "Acme Printers", "applies_to": [{"always": True}],
    "checks": [{"id": "marker", "title": "A marker is left in /var/tmp", "fix": "Remove it",
                "detect": {"run": "detect.sh"},
                "repair": [{"run": "repair.sh", "privileges": {"root": True,
                                                               "writes": ["/var/tmp"]}}],
                "verify": {"run": "detect.sh"}}]}


def test_scan_as_a_user_asks_pkexec_and_else_names_the_exact_command(world, tmp_path):
    """On the live system with the default places, a root fix goes to pkexec; here pkexec
    has no polkit authority to ask (or is not installed), so the fix is left with the exact
    command, which root then runs as shown."""
    shared = tempfile.mkdtemp(prefix="kefu-elevate-")  # the user's own, readable copies
    marker_dir = tempfile.mkdtemp(prefix="kefu-elevate-", dir="/var/tmp")
    try:
        os.chmod(shared, 0o755)
        os.chmod(marker_dir, 0o755)  # detect runs unprivileged
        marker = os.path.join(marker_dir, "marker")
        open(marker, "w").write("x")
        plugin = os.path.join(shared, "marker-left")
        os.mkdir(plugin)
        json.dump(MARKER_PLUGIN, open(os.path.join(plugin, "plugin.json"), "w"))
        for name, body in (("detect.sh", '[ -e "$KEFU_ROOT%s" ] && exit 1\nexit 0\n' % marker),
                           ("repair.sh", 'rm -f "$KEFU_ROOT%s"\n' % marker)):
            open(os.path.join(plugin, name), "w").write("#!/bin/sh\n" + body)
            os.chmod(os.path.join(plugin, name), 0o755)
        pkg = os.path.join(shared, "marker.kefupkg")
        assert run([program("kefu-plugin"), "pack", plugin, "-o", pkg, "--key",
                    world["key"]]).returncode == 0
        profile = os.path.join(shared, "profile.json")
        shutil.copy(world["profile"], profile)
        agentd = os.path.join(shared, "kefu-agentd")
        shutil.copy(program("kefu-agentd"), agentd)
        report = os.path.join(shared, "report.json")
        open(report, "w").write(json.dumps({"system": {}, "devices": [], "problems": []}))
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(shared, "data"),
                   XDG_STATE_HOME=os.path.join(shared, "state"), KEFU_PROFILE=profile)
        assert run([agentd, "plugins", "install", pkg], env=env).returncode == 0
        for folder, dirs, files in os.walk(shared):
            os.chmod(folder, 0o755)
        own_state = os.path.join(shared, "nobody-state")
        os.mkdir(own_state)
        os.chmod(own_state, 0o777)

        result = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", agentd,
                      "scan", "--report", report, "--fix", "--yes"],
                     env=dict(env, XDG_STATE_HOME=own_state))
        assert result.returncode == 1, result.stdout + result.stderr
        installed = os.path.join(shared, "data", "kefu", "plugins")
        command = "sudo %s scan --report %s --packages %s --profile %s --fix" % (
            agentd, report, installed, profile)
        assert ("problem (the fix needs an administrator: %s): A marker is left in /var/tmp"
                % command) in result.stdout, result.stdout + result.stderr
        asked = "pkexec: no administrator approved \"A marker is left in /var/tmp\""
        assert (asked in result.stderr) == os.path.exists("/usr/bin/pkexec"), result.stderr
        assert os.path.exists(marker)

        # Root runs the command as shown (sudo would clear the environment).
        fixed = run(command.split()[1:] + ["--yes", "--json"],
                    env={"PATH": os.environ["PATH"], "HOME": "/root",
                         "XDG_STATE_HOME": os.path.join(shared, "state")})
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        assert [c["state"] for c in json.loads(fixed.stdout)["checks"]] == ["fixed"]
        assert not os.path.exists(marker)
    finally:
        shutil.rmtree(shared)
        shutil.rmtree(marker_dir)
