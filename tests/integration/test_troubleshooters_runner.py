# kefu: the runner's rules for every troubleshooter: `scan --only`, `scan --undo` (what a
# fix replaced is put back, audited and recorded), and detect steps that can neither leave
# nor write the examined root. SPDX-License-Identifier: MIT
import json
import os
import shutil

import pytest

from conftest import program, run
from plugin_trees import PLUGINS, base_tree, listing, report, scan, states, write

BROKEN_NSSWITCH = "passwd: files\ngroup: files\nhosts: files [NOTFOUND=return] dns\n"


def env_for(root):
    return dict(os.environ, XDG_STATE_HOME=os.path.join(os.path.dirname(root), "state"))


def agentd(root, *args):
    return run([program("kefu-agentd"), "scan", *args], env=env_for(root), timeout=300)


def audit_events(root, name):
    path = os.path.join(os.path.dirname(root), "state", "kefu", "audit.jsonl")
    if not os.path.exists(path):
        return []
    events = [json.loads(line) for line in open(path)]
    return [e for e in events if e.get("event") == name]


def test_only_runs_the_named_check_and_nothing_else(tmp_path):
    root = base_tree(tmp_path)
    _, out = scan(root, report(tmp_path), "--only", "nsswitch-dns")
    assert [(c["plugin"], c["check"]) for c in out["checks"]] == \
        [("name-resolution-config", "nsswitch-dns")]


def test_only_takes_a_list_of_checks_and_plugin_ids(tmp_path):
    root = base_tree(tmp_path)
    _, out = scan(root, report(tmp_path), "--only", "nsswitch-dns,clock-unsynced")
    assert {c["plugin"] for c in out["checks"]} == {"name-resolution-config", "clock-unsynced"}


def test_only_takes_plugin_slash_check_as_the_daily_check_names_it(tmp_path):
    root = base_tree(tmp_path)
    _, out = scan(root, report(tmp_path), "--only", "name-resolution-config/nsswitch-dns")
    assert [(c["plugin"], c["check"]) for c in out["checks"]] == \
        [("name-resolution-config", "nsswitch-dns")]


@pytest.mark.parametrize("only", ["no-such-check", "nsswitch-dns,typo", ",", "",
                                  "clock-unsynced/nsswitch-dns", "name-resolution-config/"])
def test_only_with_an_unknown_or_empty_name_is_refused(tmp_path, only):
    root = base_tree(tmp_path)
    result, = [agentd(root, "--root", root, "--report", report(tmp_path), "--plugins",
                      PLUGINS, "--only", only)]
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_only_with_fix_repairs_only_that_check(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")
    root = base_tree(tmp_path)
    write(root, "/etc/nsswitch.conf", BROKEN_NSSWITCH)
    os.unlink(os.path.join(root, "etc/systemd/system/sysinit.target.wants/"
                           "systemd-timesyncd.service"))  # a second problem, left alone
    result, out = scan(root, report(tmp_path), "--fix", "--yes", "--only", "nsswitch-dns")
    assert states(out) == ["fixed"]
    assert not os.path.lexists(os.path.join(
        root, "etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service"))


def test_undo_puts_back_exactly_what_the_fix_replaced(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")
    root = base_tree(tmp_path)
    write(root, "/etc/nsswitch.conf", BROKEN_NSSWITCH)
    before = listing(root)
    _, out = scan(root, report(tmp_path), "--fix", "--yes", "--only", "nsswitch-dns")
    assert states(out) == ["fixed"]
    check, = out["checks"]
    assert [c["path"] for c in check["changes"]] == ["/etc/nsswitch.conf"]
    assert check["changes"][0]["change"] == "changed"
    assert listing(root) != before
    record = json.load(open(os.path.join(os.path.dirname(root), "state", "kefu", "scans",
                                         "last.json")))
    assert record["checks"][0]["changes"][0]["path"] == "/etc/nsswitch.conf"

    result = agentd(root, "--undo", "nsswitch-dns", "--root", root, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["undone"][0]["restored"] == ["/etc/nsswitch.conf"]
    assert listing(root) == before
    assert open(os.path.join(root, "etc/nsswitch.conf")).read() == BROKEN_NSSWITCH
    scanned = audit_events(root, "self-service-scan")[-1]
    assert scanned["checks"][0]["changed"] == ["/etc/nsswitch.conf"]
    event, = audit_events(root, "scan-undo")
    assert event["restored"] == ["/etc/nsswitch.conf"]
    assert event["check"] == "nsswitch-dns" and "1 change put back" in event["summary"]

    # A second undo finds nothing left to undo.
    again = agentd(root, "--undo", "nsswitch-dns", "--root", root)
    assert again.returncode != 0 and len(again.stderr.strip().splitlines()) == 1


def test_undo_removes_a_file_the_fix_added(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")
    root = base_tree(tmp_path)
    os.unlink(os.path.join(root, "etc/hosts"))
    before = listing(root)
    _, out = scan(root, report(tmp_path), "--fix", "--yes", "--only", "hosts-loopback")
    assert states(out) == ["fixed"]
    assert [(c["path"], c["change"]) for c in out["checks"][0]["changes"]] == \
        [("/etc/hosts", "added")]
    result = agentd(root, "--undo", "--root", root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "put back: /etc/hosts" in result.stdout
    assert listing(root) == before


def test_undo_puts_back_a_link_the_fix_replaced_with_a_file(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")
    root = base_tree(tmp_path)
    os.unlink(os.path.join(root, "etc/resolv.conf"))
    os.symlink("resolv.conf.before-vpn", os.path.join(root, "etc/resolv.conf"))
    write(root, "/etc/NetworkManager/system-connections/Home.nmconnection",
          "[connection]\nid=Home\n\n[ipv4]\ndns=192.168.1.1;\n", 0o600)
    before = listing(root)
    _, out = scan(root, report(tmp_path), "--fix", "--yes", "--only", "resolv-conf")
    assert states(out) == ["fixed"]
    assert not os.path.islink(os.path.join(root, "etc/resolv.conf"))
    result = agentd(root, "--undo", "resolver-config", "--root", root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert listing(root) == before
    assert os.readlink(os.path.join(root, "etc/resolv.conf")) == "resolv.conf.before-vpn"


def test_undo_leaves_a_file_changed_again_since_the_fix(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")
    root = base_tree(tmp_path)
    write(root, "/etc/nsswitch.conf", BROKEN_NSSWITCH)
    scan(root, report(tmp_path), "--fix", "--yes", "--only", "nsswitch-dns")
    mine = "hosts: files dns # the administrator's own edit\n"
    write(root, "/etc/nsswitch.conf", mine)
    result = agentd(root, "--undo", "nsswitch-dns", "--root", root, "--json")
    assert result.returncode != 0
    left = json.loads(result.stdout)["undone"][0]["left"]
    assert left[0]["path"] == "/etc/nsswitch.conf"
    assert open(os.path.join(root, "etc/nsswitch.conf")).read() == mine


def test_undo_of_another_root_touches_nothing_here(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")
    root = base_tree(tmp_path)
    write(root, "/etc/nsswitch.conf", BROKEN_NSSWITCH)
    scan(root, report(tmp_path), "--fix", "--yes", "--only", "nsswitch-dns")
    other = base_tree(tmp_path, "other")
    result = agentd(root, "--undo", "--root", other)
    assert result.returncode != 0
    assert "hosts: files [NOTFOUND=return]" not in open(root + "/etc/nsswitch.conf").read()


def test_undo_refuses_a_record_that_names_a_path_outside_the_root(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")
    root = base_tree(tmp_path)
    write(root, "/etc/nsswitch.conf", BROKEN_NSSWITCH)
    _, out = scan(root, report(tmp_path), "--fix", "--yes", "--only", "nsswitch-dns")
    record_path = os.path.join(out["checks"][0]["undo"], "record.json")
    record = json.load(open(record_path))
    victim = tmp_path / "victim"
    victim.write_text("mine\n")
    record["changes"][0]["path"] = "/../victim"
    json.dump(record, open(record_path, "w"))
    result = agentd(root, "--undo", "--root", root, "--json")
    assert result.returncode != 0
    assert victim.read_text() == "mine\n"


PROBE = """#!/bin/sh
# tries to leave the examined root and to write in it
r=$KEFU_ROOT
leaked=""
for f in /etc/hostname /etc/machine-id /var/lib/dpkg/status "$r/etc/escape"; do
	if [ -r "$f" ] && [ -s "$f" ]; then leaked="$leaked $f"; fi
done
wrote=""
for f in "$r/etc/new-file" "$r/new-file" "$r/etc/nsswitch.conf"; do
	if (echo x >>"$f") 2>/dev/null; then wrote="$wrote $f"; fi
done
printf '{"type":"finding","severity":"info","summary":"probe","detail":"leaked:%s wrote:%s"}\\n' "$leaked" "$wrote"
[ -z "$leaked$wrote" ] && exit 0
exit 1
"""


def probe_plugin(tmp_path):
    folder = tmp_path / "plugins" / "probe"
    folder.mkdir(parents=True)
    (folder / "detect.sh").write_text(PROBE)
    os.chmod(str(folder / "detect.sh"), 0o755)
    (folder / "plugin.json").write_text(json.dumps({
        "format": 1, "id": "probe", "version": "1.0.0", "name": "probe",
        "description": "tries to leave the root", "publisher": "kefu",
        "applies_to": [{"always": True}],
        "checks": [{"id": "probe", "title": "probe", "detect": {"run": "detect.sh"}}]}))
    return str(tmp_path / "plugins")


def test_detect_step_can_neither_read_this_machine_nor_write_the_root(tmp_path):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    assert os.path.exists("/etc/hostname") or os.path.exists("/etc/machine-id")
    root = base_tree(tmp_path)
    # An absolute link in the examined tree names this machine's file if followed as is.
    os.symlink("/etc/hostname" if os.path.exists("/etc/hostname") else "/etc/machine-id",
               os.path.join(root, "etc/escape"))
    before = listing(root)
    result = run([program("kefu-agentd"), "scan", "--json", "--root", root, "--report",
                  report(tmp_path), "--plugins", probe_plugin(tmp_path)], env=env_for(root),
                 timeout=120)
    out = json.loads(result.stdout)
    check, = out["checks"]
    detail = check["steps"][0]["finding"]["detail"]
    assert check["state"] == "healthy", detail
    assert listing(root) == before


def test_probe_sees_what_it_should_see_without_a_prefixed_root(tmp_path):
    # The probe itself can fail: run against this machine's own root without the sandbox
    # hiding anything (as `/` is the examined system), it does read /etc.
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    plugins = probe_plugin(tmp_path)
    state = str(tmp_path / "state")
    rep = report(tmp_path)
    result = run([program("kefu-agentd"), "scan", "--json", "--report", rep, "--plugins",
                  plugins], env=dict(os.environ, XDG_STATE_HOME=state), timeout=120)
    check, = json.loads(result.stdout)["checks"]
    assert "leaked: /etc/" in check["steps"][0]["finding"]["detail"]
