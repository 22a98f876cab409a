# kefu: `kefu-agentd diag` reads kernel messages from the journal, and says so plainly when it can read none. SPDX-License-Identifier: MIT
import json
import os
import shutil
import tempfile

import pytest

from conftest import program, run
from diag_fixtures import (STATUS_MACHINE_LOG, devices_by_id, diag_json, journal_of,
                           status_machine, validate, write)

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

# What a customer's journal holds after a bad boot: a sound card whose driver failed and a
# wireless card without its firmware.
BAD_BOOT = [
    "[    2.103000] iwlwifi 0000:00:14.3: Direct firmware load for "
    "iwlwifi-9000-pu-b0-jf-b0-46.ucode failed with error -2",
    "[    2.300000] snd_hda_intel: probe of 0000:00:1f.3 failed with error -22",
]


def events_of(report):
    return [(e["kind"], e["device"], e["driver"], e["detail"], e["count"])
            for e in report["kernel_log"]["events"]]


def kernel_log_collector(report):
    return next(c for c in report["collectors"] if c["name"] == "kernel-log")


@pytest.fixture
def scratch():
    """A folder the unprivileged user can enter (pytest's own are private to root), with a
    copy of kefu-agentd in it: the checkout may sit where only root may go."""
    folder = tempfile.mkdtemp(prefix="kefu-diag-journal-")
    os.chmod(folder, 0o755)
    shutil.copy(program("kefu-agentd"), os.path.join(folder, "kefu-agentd"))
    os.chmod(os.path.join(folder, "kefu-agentd"), 0o755)
    yield folder
    shutil.rmtree(folder)


def fake_journalctl(folder, journal_text):
    """A journalctl that prints journal_text and keeps the arguments it was given."""
    data = write(folder, "/journal.json", journal_text, 0o644)
    args = write(folder, "/journalctl-args", "", 0o666)  # the unprivileged run writes it
    script = write(folder, "/journalctl",
                   "#!/bin/sh\nprintf '%%s\\n' \"$@\" > %s 2>/dev/null\nexec cat %s\n" % (args, data),
                   0o755)
    return script, args


def unreadable_kmsg(folder):
    """A kernel log only root may read: what /dev/kmsg is to others with dmesg_restrict=1."""
    return write(folder, "/kmsg", "6,1,2300000,-;snd_hda_intel: probe of 0000:00:1f.3 failed "
                 "with error -22\n", 0o600)


def live_diag(folder, env_extra, *args, as_nobody=True):
    env = {k: v for k, v in os.environ.items() if k not in ("KEFU_KMSG", "KEFU_JOURNALCTL")}
    env.update(env_extra)
    prefix = NOBODY if as_nobody else []
    return run(prefix + [os.path.join(folder, "kefu-agentd"), "diag"] + list(args), env=env,
               timeout=120)


def test_recorded_journal_gives_the_same_findings_as_the_kernel_log(tmp_path):
    from_dmesg, from_journal = str(tmp_path / "dmesg"), str(tmp_path / "journal")
    expected = status_machine(from_dmesg)
    status_machine(from_journal)
    os.unlink(os.path.join(from_journal, "var/log/dmesg"))
    write(from_journal, "/var/log/journal-kernel.json", journal_of(STATUS_MACHINE_LOG, as_bytes={3, 5}))
    result, by_dmesg = diag_json(from_dmesg)
    assert result.returncode == 0, result.stderr
    result, by_journal = diag_json(from_journal)
    assert result.returncode == 0, result.stderr
    validate(by_journal)
    assert by_journal["kernel_log"]["source"] == "/var/log/journal-kernel.json"
    assert by_journal["kernel_log"]["checked"] is True and by_journal["not_checked"] == []
    assert events_of(by_journal) == events_of(by_dmesg)
    assert ("probe-failed", "0000:00:1f.3", "snd_hda_intel", "-22", 1) in events_of(by_journal)
    assert ("firmware-missing", "0000:00:14.3", "iwlwifi", "iwlwifi-9000-pu-b0-jf-b0-46.ucode",
            1) in events_of(by_journal)
    devices = devices_by_id(by_journal)
    assert {device: devices[device]["status"] for device in expected} == expected
    assert ([p["summary"] for p in by_journal["problems"]] ==
            [p["summary"] for p in by_dmesg["problems"]])
    # The broken line of the recording is counted, not silently taken for a message.
    assert ("/var/log/journal-kernel.json: skipped 1 line that held no journal entry"
            in kernel_log_collector(by_journal)["notes"])


def test_unprivileged_user_gets_kernel_findings_from_the_journal(scratch):
    journalctl, args = fake_journalctl(scratch, journal_of(BAD_BOOT))
    env = {"KEFU_JOURNALCTL": journalctl, "KEFU_KMSG": unreadable_kmsg(scratch)}
    result = live_diag(scratch, env, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    validate(report)
    assert open(args).read().split("\n")[:5] == ["-k", "-b", "-o", "json", "--output-fields="
                                                 "MESSAGE,_SOURCE_MONOTONIC_TIMESTAMP,_TRANSPORT"]
    assert report["kernel_log"]["source"].startswith("journal")
    assert report["kernel_log"]["checked"] is True and report["not_checked"] == []
    events = events_of(report)
    assert ("probe-failed", "0000:00:1f.3", "snd_hda_intel", "-22", 1) in events
    assert ("firmware-missing", "0000:00:14.3", "iwlwifi", "iwlwifi-9000-pu-b0-jf-b0-46.ucode",
            1) in events
    # This computer has no such devices: the findings still reach the problems.
    summaries = " ".join(p["summary"] for p in report["problems"])
    assert "iwlwifi-9000-pu-b0-jf-b0-46.ucode" in summaries and "snd_hda_intel" in summaries
    text = live_diag(scratch, env)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("System: ")


def test_neither_source_readable_is_the_first_line_and_in_the_report(scratch):
    journalctl, _ = fake_journalctl(scratch, "")
    env = {"KEFU_JOURNALCTL": journalctl, "KEFU_KMSG": unreadable_kmsg(scratch)}
    text = live_diag(scratch, env)
    assert text.returncode == 0, text.stderr  # a report was made; it says what it lacks
    first = text.stdout.splitlines()[0]
    assert first.startswith("Device errors were not checked: this account may read neither "
                            "the kernel log nor the system journal.")
    assert "pkexec %s diag" % os.path.join(scratch, "kefu-agentd") in first
    assert "add nobody to the adm group" in first
    assert "No problems found." not in text.stdout.splitlines()
    result = live_diag(scratch, env, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    validate(report)
    assert report["kernel_log"]["checked"] is False
    [entry] = report["not_checked"]
    assert (entry["check"], entry["cause"]) == ("kernel-log", "denied")
    assert entry["summary"] + " " + entry["advice"] == first
    collector = kernel_log_collector(report)
    assert collector["ok"] is False and "Permission denied" in collector["error"]
    assert any("may not read the system journal" in n for n in collector["notes"])


def test_real_kernel_log_and_journal_are_denied_to_nobody_with_dmesg_restrict(scratch):
    with open("/proc/sys/kernel/dmesg_restrict") as file:
        if file.read().strip() != "1":
            pytest.skip("kernel.dmesg_restrict is 0 here: anyone may read the kernel log")
    result = live_diag(scratch, {}, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    if report["kernel_log"]["checked"]:
        pytest.fail("nobody read the kernel log from %s" % report["kernel_log"]["source"])
    assert report["not_checked"][0]["cause"] == "denied"
    assert "/dev/kmsg" in kernel_log_collector(report)["error"]


def test_root_reads_the_kernel_ring_buffer_when_the_journal_has_nothing(scratch):
    journalctl, _ = fake_journalctl(scratch, "")
    # /dev/kmsg's records: "PRIORITY,SEQUENCE,MICROSECONDS,FLAGS;MESSAGE" and " KEY=VALUE" lines.
    kmsg = write(scratch, "/kmsg-recorded",
                 "6,1,2103000,-;iwlwifi 0000:00:14.3: Direct firmware load for x.ucode failed "
                 "with error -2\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:14.3\n"
                 "3,2,2300000,-;snd_hda_intel: probe of 0000:00:1f.3 failed with error -22\n")
    result = live_diag(scratch, {"KEFU_JOURNALCTL": journalctl, "KEFU_KMSG": kmsg}, "--json",
                       as_nobody=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kernel_log"]["source"] == "kernel ring buffer (/dev/kmsg)"
    assert report["kernel_log"]["lines"] == 2 and report["not_checked"] == []
    assert [e[:2] for e in events_of(report)] == [("firmware-missing", "0000:00:14.3"),
                                                  ("probe-failed", "0000:00:1f.3")]


def test_tree_without_a_kernel_log_says_device_errors_were_not_checked(tmp_path):
    root = str(tmp_path)
    status_machine(root)
    os.unlink(os.path.join(root, "var/log/dmesg"))
    result = run([program("kefu-agentd"), "diag", "--root", root])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "Device errors were not checked: the tree holds no kernel log (/var/log/dmesg, "
        "/var/log/kern.log or /var/log/journal-kernel.json).")
    assert "No problems found." not in result.stdout.splitlines()
    result, report = diag_json(root)
    validate(report)
    assert [(e["cause"], e["advice"]) for e in report["not_checked"]] == [("absent", None)]
    # Without its kernel log the failed probe is not seen: the device is only "detected".
    assert devices_by_id(report)["pci:0000:00:1f.3"]["status"] == "detected"
