# kefu: the daily check's systemd units (systemd-analyze verify) and watch --enable, --disable
# and --status through the user manager. SPDX-License-Identifier: MIT
import configparser
import os
import shutil
import subprocess

import pytest

from conftest import BUILD_DIR, SOURCE_DIR, program, run

UNITS = os.path.join(SOURCE_DIR, "packaging", "systemd")
USER_UNITS = ["kefu-watch.service", "kefu-watch.timer"]
SYSTEM_UNITS = ["kefu-watch-smart.service", "kefu-watch-smart.timer"]


def installed_units(tmp_path, names, edit=None):
    """The units as `make install` writes them, with ExecStart= at the built program."""
    paths = []
    for name in names:
        text = open(os.path.join(UNITS, name)).read().replace("@bindir@", BUILD_DIR)
        if edit is not None:
            text = edit(name, text)
        path = tmp_path / name
        path.write_text(text)
        paths.append(str(path))
    return paths


def verify(tmp_path, paths, user):
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime))
    args = ["systemd-analyze"] + (["--user"] if user else []) + ["verify", "--man=no", *paths]
    return run(args, env=env, cwd=str(tmp_path))


needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze (package systemd) is not installed")


@needs_analyze
@pytest.mark.parametrize("names,user", [(USER_UNITS, True), (SYSTEM_UNITS, False)])
def test_units_verify(tmp_path, names, user):
    result = verify(tmp_path, installed_units(tmp_path, names), user)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@needs_analyze
def test_a_broken_timer_fails_verification(tmp_path):
    paths = installed_units(tmp_path, USER_UNITS,
                            lambda name, text: text.replace("OnCalendar=daily", "OnCalendar=dayly"))
    result = verify(tmp_path, paths, True)
    assert result.returncode != 0
    assert "Failed to parse calendar specification" in result.stderr


@pytest.mark.parametrize("name", ["kefu-watch.timer", "kefu-watch-smart.timer"])
def test_timers_run_daily_catch_up_and_spread_out(name):
    timer = configparser.ConfigParser(strict=False)
    timer.optionxform = str
    timer.read(os.path.join(UNITS, name))
    assert timer["Timer"]["OnCalendar"] == "daily"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["RandomizedDelaySec"] == "1h"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_the_root_variant_writes_the_file_users_read():
    service = configparser.ConfigParser(strict=False)
    service.optionxform = str
    service.read(os.path.join(UNITS, "kefu-watch-smart.service"))
    assert service["Service"]["ExecStart"] == (
        "@bindir@/kefu-agentd watch --smart-only --output /var/lib/kefu/smart.json")
    assert service["Service"]["StateDirectory"] == "kefu"
    assert service["Service"]["StateDirectoryMode"] == "0755"


def fake_systemctl(tmp_path, manager=True, enabled="enabled", everyone="disabled"):
    """A systemctl that logs its arguments; the timer is `enabled` for this account's
    manager (--user) and `everyone` in the global unit files (--global)."""
    log = tmp_path / "systemctl.log"
    script = tmp_path / "systemctl"
    script.write_text(
        "#!/bin/sh\n"
        "echo \"$@\" >> '%s'\n"
        "scope=$1; shift\n"
        "case \"$1\" in --root=*) shift ;; esac\n"
        "case \"$1\" in\n"
        "show-environment) exit %d ;;\n"
        "is-enabled) if [ \"$scope\" = --global ]; then state=%s; else state=%s; fi\n"
        "  echo $state; [ $state = enabled ] ;;\n"
        "show) echo 'Thu 2026-01-01 00:41:00 UTC' ;;\n"
        "esac\n" % (log, 0 if manager else 1, everyone, enabled))
    script.chmod(0o755)
    return dict(os.environ, KEFU_SYSTEMCTL=str(script)), log


def test_enable_and_disable_go_through_the_user_manager(tmp_path):
    env, log = fake_systemctl(tmp_path, enabled="disabled")
    on = run([program("kefu-agentd"), "watch", "--enable"], env=env)
    assert on.returncode == 0, on.stderr
    assert "The daily check is on" in on.stdout
    off = run([program("kefu-agentd"), "watch", "--disable"], env=env)
    assert off.returncode == 0, off.stderr
    assert off.stdout == "The daily check is off.\n"
    assert log.read_text().splitlines() == [
        "--user show-environment", "--user is-enabled kefu-watch.timer",
        "--user enable --now kefu-watch.timer",
        "--user show-environment", "--user disable --now kefu-watch.timer",
        "--global is-enabled kefu-watch.timer"]


def test_status_says_whether_the_check_is_on(tmp_path):
    env, _ = fake_systemctl(tmp_path)
    on = run([program("kefu-agentd"), "watch", "--status"], env=env)
    assert on.stdout == ("The daily check is on for this account; next run: Thu 2026-01-01 "
                         "00:41:00 UTC. Turn it off with: kefu-agentd watch --disable\n")
    env, _ = fake_systemctl(tmp_path, enabled="disabled")
    off = run([program("kefu-agentd"), "watch", "--status"], env=env)
    assert off.stdout.startswith("The daily check is off (disabled).")


def test_status_tells_the_organisations_policy_and_how_one_account_opts_out(tmp_path):
    env, _ = fake_systemctl(tmp_path, enabled="enabled", everyone="enabled")
    on = run([program("kefu-agentd"), "watch", "--status"], env=env)
    assert on.returncode == 0, on.stderr
    assert on.stdout.startswith("The daily check is on for every account of this computer "
                                "(the organisation's policy); next run: Thu 2026-01-01")
    assert "systemctl --user mask kefu-watch.timer" in on.stdout
    env, _ = fake_systemctl(tmp_path, enabled="masked", everyone="enabled")
    masked = run([program("kefu-agentd"), "watch", "--status"], env=env)
    assert masked.stdout.startswith("The daily check is off for this account: the "
                                    "organisation turned it on for every account, and it "
                                    "is masked here.")


def test_disable_under_the_policy_masks_the_timer_for_this_account_only(tmp_path):
    env, log = fake_systemctl(tmp_path, enabled="enabled", everyone="enabled")
    off = run([program("kefu-agentd"), "watch", "--disable"], env=env)
    assert off.returncode == 0, off.stderr
    assert "masked here" in off.stdout
    calls = log.read_text().splitlines()
    assert calls[-1] == "--user mask --now kefu-watch.timer"
    # Nothing of every account's is touched from one account.
    assert not [c for c in calls if c.startswith("--global") and "is-enabled" not in c]


def test_enable_after_a_mask_unmasks_first(tmp_path):
    env, log = fake_systemctl(tmp_path, enabled="masked", everyone="enabled")
    on = run([program("kefu-agentd"), "watch", "--enable"], env=env)
    assert on.returncode == 0, on.stderr
    assert log.read_text().splitlines()[-2:] == [
        "--user unmask kefu-watch.timer", "--user enable --now kefu-watch.timer"]


def system_tree(tmp_path):
    """A system tree with the user units installed where packages put them."""
    root = tmp_path / "tree"
    units = root / "usr" / "lib" / "systemd" / "user"
    units.mkdir(parents=True)
    for name in USER_UNITS:
        (units / name).write_text(open(os.path.join(UNITS, name)).read().replace(
            "@bindir@", "/usr/bin"))
    return root


needs_systemctl = pytest.mark.skipif(shutil.which("systemctl") is None,
                                     reason="systemctl (package systemd) is not installed")


@needs_systemctl
def test_enable_for_all_users_is_the_global_link_every_account_reads(tmp_path):
    # The real systemctl --global, in a system tree of the test's own (--root): this
    # machine's /etc/systemd/user is never touched.
    root = system_tree(tmp_path)
    env = dict(os.environ)
    env.pop("KEFU_SYSTEMCTL", None)
    link = root / "etc" / "systemd" / "user" / "timers.target.wants" / "kefu-watch.timer"
    on = run([program("kefu-agentd"), "watch", "--enable", "--all-users", "--root", str(root)],
             env=env)
    assert on.returncode == 0, on.stderr
    assert "on for every account" in on.stdout
    assert os.readlink(str(link)) == "/usr/lib/systemd/user/kefu-watch.timer"
    assert run(["systemctl", "--global", "--root=%s" % root, "is-enabled",
                "kefu-watch.timer"]).stdout.strip() == "enabled"
    status = run([program("kefu-agentd"), "watch", "--status", "--root", str(root)], env=env)
    assert "on for every account of %s (the organisation's policy)" % root in status.stdout
    off = run([program("kefu-agentd"), "watch", "--disable", "--all-users", "--root",
               str(root)], env=env)
    assert off.returncode == 0, off.stderr
    assert not os.path.lexists(str(link))
    status = run([program("kefu-agentd"), "watch", "--status", "--root", str(root)], env=env)
    assert "not turned on for every account" in status.stdout


@needs_systemctl
def test_all_users_without_the_timer_installed_is_a_clear_error(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    env = dict(os.environ)
    env.pop("KEFU_SYSTEMCTL", None)
    result = run([program("kefu-agentd"), "watch", "--enable", "--all-users", "--root",
                  str(root)], env=env)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "is kefu's timer installed" in result.stderr


def test_all_users_is_refused_to_an_account_that_is_not_root(tmp_path):
    root = system_tree(tmp_path)
    args = [program("kefu-agentd"), "watch", "--enable", "--all-users", "--root", str(root)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv (package util-linux) is not installed")
        # The refusal comes before the tree is read: an ordinary account need not reach it.
        args = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + args
    env = dict(os.environ)
    env.pop("KEFU_SYSTEMCTL", None)
    result = run(args, env=env)
    assert result.returncode == 1, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "only an administrator may do" in lines[0], result.stderr
    assert "sudo kefu-agentd watch --enable --all-users" in lines[0]
    assert not (root / "etc").exists()


def test_all_users_goes_only_with_enable_or_disable():
    result = run([program("kefu-agentd"), "watch", "--status", "--all-users"])
    assert result.returncode == 2 and result.stderr.startswith("usage:")


def test_without_a_user_manager_enable_says_so_and_changes_nothing(tmp_path):
    env, log = fake_systemctl(tmp_path, manager=False)
    result = run([program("kefu-agentd"), "watch", "--enable"], env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("kefu-agentd: no systemd user manager runs for this account")
    assert "loginctl enable-linger" in result.stderr
    assert log.read_text().splitlines() == ["--user show-environment"]


def user_manager_runs():
    if shutil.which("systemctl") is None:
        return False
    return subprocess.run(["systemctl", "--user", "show-environment"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=30).returncode == 0


def test_the_real_systemctl_without_a_user_manager_is_a_clear_error():
    if shutil.which("systemctl") is None:
        pytest.skip("systemctl is not installed")
    if user_manager_runs():
        pytest.skip("a user manager runs here: test_enable_under_the_real_user_manager covers it")
    env = dict(os.environ)
    env.pop("KEFU_SYSTEMCTL", None)
    result = run([program("kefu-agentd"), "watch", "--enable"], env=env)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "no systemd user manager runs for this account" in result.stderr


def test_enable_under_the_real_user_manager(tmp_path):
    if not user_manager_runs():
        pytest.skip("no systemd user manager runs on this machine for this account "
                    "(systemctl --user show-environment fails)")
    paths = installed_units(tmp_path, USER_UNITS)
    assert run(["systemctl", "--user", "link", *paths]).returncode == 0
    try:
        on = run([program("kefu-agentd"), "watch", "--enable"])
        assert on.returncode == 0, on.stderr
        assert run(["systemctl", "--user", "is-enabled", "kefu-watch.timer"]).stdout.strip() \
            == "enabled"
        assert "The daily check is on" in run([program("kefu-agentd"), "watch",
                                               "--status"]).stdout
        assert run([program("kefu-agentd"), "watch", "--disable"]).returncode == 0
        assert run(["systemctl", "--user", "is-enabled", "kefu-watch.timer"]).stdout.strip() \
            != "enabled"
    finally:
        run(["systemctl", "--user", "disable", "--now", "kefu-watch.timer"])
        for name in USER_UNITS:
            run(["systemctl", "--user", "disable", name])
