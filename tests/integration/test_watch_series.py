# kefu: kefu-agentd watch over a series of runs on a fake clock: disks replayed from recorded
# smartctl outputs, file systems, batteries and kernel errors under --root. SPDX-License-Identifier: MIT
import json
import os
import pathlib
import shutil
import tempfile
import stat

import pytest

from conftest import FIXTURES_DIR, fixture_folder, program, run

BASE = 1767225600  # 2026-01-01 00:00 UTC
DAY = 86400
GB = 10**9


class Series:
    """One computer under --root, checked by `watch` once per fake day."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.smart = fixture_folder("smart")
        self.root = tmp_path / "root"
        (self.root / "proc/sys/kernel/random").mkdir(parents=True)
        (self.root / "proc/sys/kernel/random/boot_id").write_text(
            "6b7a3c1e-0000-4000-8000-000000000001\n")
        (self.root / "var/log").mkdir(parents=True)
        (self.root / "var/log/dmesg").write_text("[    0.000000] Linux version 6.1.0\n")
        (self.root / "sys/class/power_supply").mkdir(parents=True)
        self.state = tmp_path / "state"
        self.xdg = tmp_path / "xdg"
        self.current = tmp_path / "current"
        self.statvfs = tmp_path / "statvfs"
        self.statvfs.write_text("")
        # smartctl's stand-in: kefu-agentd gives tools a scrubbed environment, so the
        # folder of this run's recorded outputs is read from a file named here.
        self.smartctl = tmp_path / "smartctl"
        self.smartctl.write_text(
            "#!/bin/sh\n"
            "dir=$(cat '%s')\n"
            "case \"$*\" in *--scan*) exec cat \"$dir/scan.json\" ;; esac\n"
            "for last; do :; done\n"
            "exec cat \"$dir/$(basename \"$last\").json\"\n" % self.current)
        self.smartctl.chmod(0o755)
        self.disks()
        self.runs = 0

    def disks(self, **devices):
        """This run's disks: name=fixture file (ata-sda-healthy.json ...)."""
        folder = self.tmp / ("disks-%d" % len(list(self.tmp.glob("disks-*"))))
        folder.mkdir()
        scan = {"json_format_version": [1, 0], "devices": []}
        for name, fixture in devices.items():
            recorded = json.load(open(os.path.join(self.smart, fixture)))
            scan["devices"].append(recorded["device"])
            (folder / (name + ".json")).write_text(json.dumps(recorded))
        (folder / "scan.json").write_text(json.dumps(scan))
        self.current.write_text(str(folder))

    def filesystem(self, mount, size, free):
        self.statvfs.write_text("%s %d %d\n" % (mount, size, free))

    def battery(self, name, full, design, prefix="energy"):
        folder = self.root / "sys/class/power_supply" / name
        folder.mkdir(exist_ok=True)
        (folder / "type").write_text("Battery\n")
        (folder / ("%s_full" % prefix)).write_text("%d\n" % full)
        (folder / ("%s_full_design" % prefix)).write_text("%d\n" % design)

    def dmesg(self, lines):
        (self.root / "var/log/dmesg").write_text("".join(line + "\n" for line in lines))

    def env(self, **extra):
        env = dict(os.environ, XDG_STATE_HOME=str(self.xdg), KEFU_SMARTCTL=str(self.smartctl),
                   KEFU_WATCH_STATVFS=str(self.statvfs))
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.update(extra)
        return env

    def run(self, day, *extra, env=None):
        result = run([program("kefu-agentd"), "watch", "--root", str(self.root), "--state",
                      str(self.state), "--now", str(BASE + int(day * DAY)), "--json",
                      "--no-notify", "--no-checks", *extra], env=env or self.env())
        assert result.returncode == 0, result.stderr
        self.runs += 1
        return json.loads(result.stdout)

    def new_alerts(self, result):
        return [a["rule"] for a in result["alerts"] if a["new"]]

    def audit(self, event):
        path = self.xdg / "kefu" / "audit.jsonl"
        if not path.exists():
            return []
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        return [entry for entry in lines if entry["event"] == event]

    def last(self, *extra):
        return run([program("kefu-agentd"), "watch", "--state", str(self.state), "--last",
                    *extra], env=self.env())


@pytest.fixture
def series(tmp_path):
    return Series(tmp_path)


def test_growing_reallocated_sectors_fire_once_at_the_run_they_grew(series):
    new = {}
    for day, fixture in [(0, "ata-sda-reallocated-8.json"), (5, "ata-sda-reallocated-8.json"),
                         (10, "ata-sda-reallocated-64.json"), (11, "ata-sda-reallocated-64.json"),
                         (12, "ata-sda-reallocated-64.json")]:
        series.disks(sda=fixture)
        new[day] = series.new_alerts(series.run(day))
    assert new == {0: [], 5: [], 10: ["disk-reallocated:sda"], 11: [], 12: []}
    alerts = series.audit("watch-alert")
    assert [a["rule"] for a in alerts] == ["disk-reallocated:sda"]
    assert alerts[0]["summary"].startswith("disk sda: 8 → 64 reallocated sectors in 10 days")
    assert len(series.audit("watch-run")) == 5
    last = series.last()
    assert last.returncode == 0
    assert "disk sda: 8 → 64 reallocated sectors in 10 days" in last.stdout
    assert "since 2026-01-11 00:00 UTC" in last.stdout
    assert "Back up your files now" in last.stdout


def test_a_changed_condition_fires_again_and_a_new_rule_fires_on_its_own(series):
    series.disks(sda="ata-sda-reallocated-8.json")
    series.run(0)
    series.disks(sda="ata-sda-reallocated-64.json")
    assert series.new_alerts(series.run(1)) == ["disk-reallocated:sda"]
    series.disks(sda="ata-sda-reallocated-64-pending-12.json")
    result = series.run(2)
    # 64 sectors still, but now 12 pending and 3 uncorrectable: told, the old one is not
    assert sorted(series.new_alerts(result)) == ["disk-pending:sda", "disk-uncorrectable:sda"]
    series.disks(sda="ata-sda-failing.json")
    result = series.run(3)
    # uncorrectable sectors stayed at 3: that alert is not told again
    assert sorted(series.new_alerts(result)) == [
        "disk-attribute:sda", "disk-failing:sda", "disk-pending:sda", "disk-reallocated:sda"]
    summaries = {a["rule"]: a["summary"] for a in result["alerts"]}
    assert "Reallocated_Sector_Ct is at or below the maker's failure threshold" in \
        summaries["disk-attribute:sda"]
    assert summaries["disk-pending:sda"].startswith("disk sda: 40 sectors could not be read")
    # the growth is counted from the oldest run of the last 30 days
    assert summaries["disk-pending:sda"].endswith("(0 → 40 in 3 days)")


def test_nvme_spare_below_threshold_worn_out_and_media_errors(series):
    series.disks(nvme0="nvme0-healthy.json")
    assert series.new_alerts(series.run(0)) == []
    series.disks(nvme0="nvme0-spare-low.json")
    result = series.run(1)
    assert sorted(series.new_alerts(result)) == [
        "disk-failing:nvme0", "disk-media-errors:nvme0", "disk-spare:nvme0", "disk-worn:nvme0"]
    summaries = {a["rule"]: a["summary"] for a in result["alerts"]}
    assert summaries["disk-spare:nvme0"] == (
        "disk nvme0: only 5% of its spare capacity is left, below the maker's threshold of 10%")
    assert summaries["disk-media-errors:nvme0"].startswith(
        "disk nvme0: 7 times data could not be read back intact (0 → 7 in 1 day)")
    assert series.new_alerts(series.run(2)) == []
    # healthy again (the disk was replaced): the alerts clear, and a later fault is told anew
    series.disks(nvme0="nvme0-healthy.json")
    assert series.run(3)["cleared"] == 4
    series.disks(nvme0="nvme0-spare-low.json")
    assert "disk-spare:nvme0" in series.new_alerts(series.run(4))


def test_filesystem_filling_steadily_is_announced_days_before_full(series):
    fired = {}
    # 100 GB with 90 GB free, 5 GB more used every day: full on day 18
    for day in range(0, 10):
        series.filesystem("/home", 100 * GB, (90 - 5 * day) * GB)
        fired[day] = [a for a in series.run(day)["alerts"] if a["new"]]
    told = {day: alerts for day, alerts in fired.items() if alerts}
    assert list(told) == [4], told
    alert = told[4][0]
    assert alert["rule"] == "fs-filling:/home"
    assert alert["summary"] == ("the file system /home fills by about 5.0 GB a day: at this "
                                "rate it is full in 14 days (70.0 GB free of 100.0 GB)")
    # /home holds no package cache: no troubleshooter frees room there
    assert "check" not in alert


def test_a_filling_system_file_system_names_the_troubleshooter_that_frees_room(series):
    for day in range(0, 5):
        series.filesystem("/", 100 * GB, (90 - 5 * day) * GB)
        result = series.run(day)
    assert result["alerts"][0]["check"] == "disk-full-reclaimable/apt-cache"
    last = series.last()
    assert "To fix it: kefu-agentd scan --fix (check disk-full-reclaimable/apt-cache)" in \
        last.stdout


def test_filesystem_with_steady_use_raises_nothing(series):
    for day in range(0, 8):
        # a little written and removed again every day: no trend towards full
        series.filesystem("/", 50 * GB, (3 + (day % 2) * 0.5) * GB)
        assert series.new_alerts(series.run(day)) == []


def test_healthy_series_raises_nothing(series):
    for day in range(0, 10):
        series.disks(sda="ata-sda-healthy.json", nvme0="nvme0-healthy.json")
        series.filesystem("/", 500 * GB, 300 * GB)
        series.battery("BAT0", 47_000_000, 50_000_000)
        result = series.run(day)
        assert result["alerts"] == []
        assert result["measured"]["smart"]
    assert series.audit("watch-alert") == []
    assert len(series.audit("watch-run")) == 10
    assert "Nothing needs your attention." in series.last().stdout


def test_battery_worn_below_80_percent_says_how_it_fell(series):
    series.battery("BAT0", 4_100_000, 5_000_000, prefix="charge")
    assert series.new_alerts(series.run(0)) == []
    series.battery("BAT0", 3_900_000, 5_000_000, prefix="charge")
    result = series.run(60)
    assert series.new_alerts(result) == ["battery-worn:BAT0"]
    assert result["alerts"][0]["summary"] == (
        "battery BAT0 now holds 78% of the charge it held when new; it held 82% 60 days ago")


def test_kernel_io_errors_rising_between_runs_are_told_once(series):
    io = "[  %d.000000] blk_update_request: I/O error, dev sda, sector %d op 0x0:(READ)"
    series.dmesg([io % (1, 100)])
    assert series.new_alerts(series.run(0)) == []  # the first run only counts
    assert series.new_alerts(series.run(1)) == []  # nothing new
    series.dmesg([io % (n, 100 + n) for n in range(1, 5)])
    result = series.run(2)
    assert series.new_alerts(result) == ["kernel-io-errors"]
    assert result["alerts"][0]["summary"] == (
        "the kernel logged 3 more read or write errors on a disk since the last check "
        "(4 this boot)")
    series.dmesg([io % (n, 100 + n) for n in range(1, 7)])
    assert series.new_alerts(series.run(3)) == []  # still rising: the same alert
    assert series.run(4)["cleared"] == 1  # no new errors: it clears


def test_usb_errors_and_gpu_hangs_are_counted_apart(series):
    usb = "[  %d.000000] usb 1-1.2: device descriptor read/64, error -71"
    gpu = "[  %d.000000] i915 0000:00:02.0: [drm] *ERROR* GPU HANG: ecode 12:1:85dffffb, in Xorg"
    series.dmesg([usb % 1])
    series.run(0)
    series.dmesg([usb % 1, usb % 2, gpu % 3])
    result = series.run(1)
    assert sorted(series.new_alerts(result)) == ["kernel-gpu-hangs", "kernel-usb-errors"]
    summaries = {a["rule"]: a["summary"] for a in result["alerts"]}
    assert summaries["kernel-gpu-hangs"].startswith(
        "the kernel logged 1 more graphics chip hangs or resets since the last check")
    # a new boot starts the counts again: what it logged is new
    (series.root / "proc/sys/kernel/random/boot_id").write_text(
        "6b7a3c1e-0000-4000-8000-000000000002\n")
    series.dmesg([usb % 1])
    result = series.run(2)
    assert series.new_alerts(result) == []  # the USB alert was active and is still seen
    assert [a["rule"] for a in result["alerts"]] == ["kernel-usb-errors"]


def test_security_updates_from_apt_simulation(series, tmp_path):
    apt = tmp_path / "apt-get"
    apt.write_text("#!/bin/sh\ncat <<'EOF'\n"
                   "Inst libssl3 [3.0.11-1~deb12u1] (3.0.13-1~deb12u1 Debian-Security:12/stable-security [amd64])\n"
                   "Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable [all])\n"
                   "Inst openssl [3.0.11-1~deb12u1] (3.0.13-1~deb12u1 Debian-Security:12/stable-security [amd64])\n"
                   "Conf libssl3 (3.0.13-1~deb12u1 Debian-Security:12/stable-security [amd64])\n"
                   "EOF\n")
    apt.chmod(0o755)
    result = series.run(0, env=series.env(KEFU_APT_GET=str(apt)))
    assert series.new_alerts(result) == ["updates-security"]
    assert result["alerts"][0]["summary"] == (
        "2 security updates wait to be installed (libssl3, openssl)")


def test_smartctl_writing_garbage_is_a_note_not_a_crash(series, tmp_path):
    series.disks(sda="ata-sda-healthy.json")
    folder = series.current.read_text()
    with open(os.path.join(folder, "sda.json"), "wb") as f:
        f.write(b"\x1b[2J{\"device\": \n\x00")
    result = series.run(0)
    assert result["alerts"] == []
    assert any(note.startswith("smartctl /dev/sda: smartctl wrote no JSON object")
               for note in result["notes"])


def test_bad_arguments_and_unusable_store_are_one_line_errors(series, tmp_path):
    bad = run([program("kefu-agentd"), "watch", "--now", "yesterday"])
    assert bad.returncode == 2 and bad.stderr.startswith("usage: kefu-agentd watch")
    unknown = run([program("kefu-agentd"), "watch", "--bogus"])
    assert unknown.returncode == 2 and len(unknown.stderr.splitlines()) == 1
    both = run([program("kefu-agentd"), "watch", "--last", "--enable"])
    assert both.returncode == 2
    store = tmp_path / "not-a-store"
    store.mkdir()
    (store / "watch.sqlite").write_text("this is not SQLite, it is a text file of some length\n" * 20)
    result = run([program("kefu-agentd"), "watch", "--root", str(series.root), "--state",
                  str(store), "--no-notify", "--no-checks"], env=series.env())
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not a watch store" in result.stderr


def test_troubleshooters_detect_steps_raise_alerts_without_repairing(series):
    (series.root / "etc").mkdir()
    conf = series.root / "etc" / "nsswitch.conf"
    conf.write_text("hosts: files myhostname\n")
    plugins = os.path.join(os.path.dirname(FIXTURES_DIR), "..", "diag-plugins")
    result = run([program("kefu-agentd"), "watch", "--root", str(series.root), "--state",
                  str(series.state), "--now", str(BASE), "--json", "--no-notify", "--plugins",
                  os.path.realpath(plugins)], env=series.env(), timeout=180)
    assert result.returncode == 0, result.stderr
    alerts = {a["rule"]: a for a in json.loads(result.stdout)["alerts"]}
    alert = alerts["check:name-resolution-config/nsswitch-dns"]
    assert alert["check"] == "name-resolution-config/nsswitch-dns"
    assert alert["summary"].startswith("Web addresses cannot be looked up")
    assert conf.read_text() == "hosts: files myhostname\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="the root timer's variant is tested as root, "
                    "with a user account (nobody) reading its results")
def test_root_smart_results_are_read_by_the_users_watch():
    # nobody must reach the tree and the file: a folder of its own, outside pytest's 0700 one
    base = pathlib.Path(tempfile.mkdtemp(prefix="kefu-watch-"))
    try:
        os.chmod(base, 0o755)
        check_root_results(Series(base), base)
    finally:
        shutil.rmtree(base)


def check_root_results(series, base):
    series.disks(sda="ata-sda-reallocated-64.json")
    out = base / "lib" / "kefu" / "smart.json"
    result = run([program("kefu-agentd"), "watch", "--smart-only", "--output", str(out),
                  "--now", str(BASE)], env=series.env())
    assert result.returncode == 0, result.stderr
    assert "1 disk checked" in result.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o755
    saved = json.loads(out.read_text())
    assert saved["time"] == BASE and saved["devices"][0]["device"]["name"] == "/dev/sda"
    # an ordinary account, without the smartctl seam, takes the disks from that file
    user_state = base / "user"
    user_state.mkdir()
    os.chown(user_state, 65534, 65534)
    env = series.env(HOME=str(user_state), XDG_STATE_HOME=str(user_state))
    env.pop("KEFU_SMARTCTL")

    def user_run(day):
        result = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                      program("kefu-agentd"), "watch", "--root", str(series.root), "--state",
                      str(user_state / "kefu"), "--now", str(BASE + day * DAY), "--json",
                      "--no-notify", "--no-checks", "--smart-file", str(out)], env=env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    measured = {m["key"]: m["value"] for m in user_run(1)["measured"]["smart"]}
    assert measured["sda:reallocated"] == 64
    # results older than three days are not used
    assert any("more than 3 days ago" in note for note in user_run(5)["notes"])


def test_the_support_journal_shows_the_runs_and_the_warnings(series):
    series.disks(sda="ata-sda-reallocated-8.json")
    series.run(0)
    series.disks(sda="ata-sda-reallocated-64.json")
    series.run(10)
    journal = run([program("kefu-agentd"), "audit"], env=series.env())
    assert journal.returncode == 0, journal.stderr
    lines = journal.stdout.splitlines()
    assert any(line.endswith("daily check warned: disk sda: 8 → 64 reallocated sectors in "
                             "10 days (the disk is replacing worn-out parts of its surface)")
               for line in lines), lines
    assert sum(line.endswith("daily check: 0 new alerts, 0 still active, 0 cleared")
               for line in lines) == 1


def test_names_from_the_tree_cannot_draw_on_the_terminal(series):
    series.battery("BAT\x1b[2J", 1_000_000, 5_000_000)
    series.filesystem("/media/\x1b]0;owned\x07", 100 * GB, 90 * GB)
    result = run([program("kefu-agentd"), "watch", "--root", str(series.root), "--state",
                  str(series.state), "--now", str(BASE), "--no-notify", "--no-checks"],
                 env=series.env())
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "battery BAT?[2J now holds 20% of the charge it held when new" in result.stdout
