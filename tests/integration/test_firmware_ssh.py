# kefu: `kefu-agentd firmware --ssh` against a real OpenSSH sshd whose user is the emulated
# device behind kefu's appliance contract. SPDX-License-Identifier: MIT
import json
import os
import subprocess

import pytest

from conftest import program, run
from appliance_fixtures import Appliance
from firmware_fixtures import FirmwareBench, Publisher, firmware_package


@pytest.fixture(scope="module")
def publisher(tmp_path_factory):
    return Publisher(str(tmp_path_factory.mktemp("publisher")))


@pytest.fixture
def appliance(processes):
    a = Appliance(processes)
    yield a
    a.cleanup()


@pytest.fixture
def bench(tmp_path, processes, publisher):
    b = FirmwareBench(tmp_path, processes, [], [publisher.entry])
    yield b
    b.cleanup()


def agent(bench, appliance, *args, password=None, fingerprint=True, timeout=120):
    """kefu-agentd firmware ARGS --ssh the appliance, the password on stdin."""
    extra = ["--ssh", appliance.target, "--password-stdin", "--restart-timeout", "30"]
    if fingerprint is True:
        extra += ["--host-key-fingerprint", appliance.fingerprint]
    elif fingerprint:
        extra += ["--host-key-fingerprint", fingerprint]
    return run([program("kefu-agentd"), "firmware"] + list(args) + extra +
               ["--profile", bench.profile, "--root", bench.root], timeout=timeout,
               env=bench.env(), input=(password or appliance.password) + "\n")


def running_version(bench, appliance):
    result = agent(bench, appliance, "list", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[0]["version"]


def state_files_text(bench):
    text = ""
    for root, _, files in os.walk(bench.state):
        for name in files:
            with open(os.path.join(root, name), errors="replace") as f:
                text += f.read()
    return text


def test_update_over_ssh_applies_and_reads_the_version_back(bench, appliance, publisher,
                                                            tmp_path):
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher, size=256 * 1024)
    listed = agent(bench, appliance, "list")
    assert listed.returncode == 0, listed.stderr
    assert "Emulated device from kefu, version 1.2.2" in listed.stdout

    result = agent(bench, appliance, "apply", pkg, "--yes")
    assert result.returncode == 0, result.stderr + appliance.sshd_log()
    assert "Installed 1.2.5 on %s" % appliance.target in result.stdout
    assert "the device runs 1.2.5 and its image matches" in result.stdout
    for phase in ("verify", "upload", "write", "restart"):
        assert phase + "..." in result.stderr
    assert running_version(bench, appliance) == "1.2.5"
    assert appliance.boot() == {"slot": "b", "version": "1.2.5", "verified": True,
                                "sha256": appliance.boot()["sha256"]}
    # The appliance restarted: the update's connection was cut and the agent logged in again.
    log = appliance.sshd_log()
    assert log.count("Accepted password") >= 3, log
    assert appliance.uploads() == []
    history = bench.history()
    assert [(h["device"], h["from"], h["to"], h["result"]) for h in history] == [
        (appliance.target, "1.2.2", "1.2.5", "success")]
    # The password is used, never kept.
    assert appliance.password not in state_files_text(bench)
    assert appliance.password not in result.stdout + result.stderr


def test_wrong_host_key_is_refused_before_the_password_is_sent(bench, appliance, publisher,
                                                               tmp_path):
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher)
    other = "SHA256:" + "A" * 43
    result = agent(bench, appliance, "apply", pkg, "--yes", fingerprint=other)
    assert result.returncode == 1
    assert "not the expected %s" % other in result.stderr
    assert appliance.fingerprint in result.stderr
    assert "Accepted password" not in appliance.sshd_log()
    assert "Failed password" not in appliance.sshd_log()
    assert appliance.boot()["version"] == "1.2.2"
    assert bench.audit_events() == ["firmware-refused"]


def test_unknown_host_key_without_a_terminal_fails_closed(bench, appliance):
    result = agent(bench, appliance, "list", fingerprint=False)
    assert result.returncode == 1
    assert "pass --host-key-fingerprint %s" % appliance.fingerprint in result.stderr
    assert "password" not in appliance.sshd_log().lower()


def test_wrong_password_is_refused(bench, appliance, publisher, tmp_path):
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher)
    result = agent(bench, appliance, "apply", pkg, "--yes", password="not the password")
    assert result.returncode == 1
    assert "refused the login of kefu-fw-appliance: wrong password" in result.stderr
    assert "Failed password" in appliance.sshd_log()
    assert appliance.boot()["version"] == "1.2.2"
    assert bench.history() == []


def test_power_loss_on_the_appliance_keeps_a_verified_image_and_fails(bench, appliance,
                                                                    publisher, tmp_path):
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher, size=64 * 1024)
    appliance.set_update_options("--power-loss-at", str(128 + 30000))
    result = agent(bench, appliance, "apply", pkg, "--yes")
    assert result.returncode == 1
    assert "The update failed" in result.stderr
    assert "the device restarted and runs 1.2.2" in result.stderr
    booted = appliance.boot()
    assert booted["verified"] and booted["version"] == "1.2.2"
    assert [h["result"] for h in bench.history()] == ["failed"]
    assert bench.audit_events()[-1] == "firmware-failed"

    # With the power on, the same update goes through.
    appliance.set_update_options()
    result = agent(bench, appliance, "apply", pkg, "--yes")
    assert result.returncode == 0, result.stderr
    assert appliance.boot()["version"] == "1.2.5"


def test_firmware_for_another_device_is_refused_before_upload(bench, appliance, publisher,
                                                              tmp_path):
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher,
                           devices=["USB\\VID_1234&PID_5678"])
    result = agent(bench, appliance, "check", pkg)
    assert result.returncode == 1 and "not for the device" in result.stderr
    older = firmware_package(str(tmp_path / "o"), "0x1020001", "1.2.1", publisher)
    result = agent(bench, appliance, "apply", older, "--yes")
    assert result.returncode == 1 and "--downgrade" in result.stderr
    assert appliance.uploads() == []


def test_bad_ssh_targets_are_usage_errors(bench, appliance):
    for target in ("nouser", "@host", "user@host:0", "user@host:99999", "user@[::1"):
        result = run([program("kefu-agentd"), "firmware", "list", "--ssh", target,
                      "--password-stdin"], env=bench.env(), input="x\n")
        assert result.returncode == 1, target
        assert "--ssh" in result.stderr, (target, result.stderr)
    # A device that is not there: a bounded wait, one sentence.
    result = run([program("kefu-agentd"), "firmware", "list", "--ssh", "u@127.0.0.1:1",
                  "--password-stdin"], env=bench.env(), input="x\n", timeout=60)
    assert result.returncode == 1 and "cannot reach the device" in result.stderr
