# kefu: cabinets handed to fwupd for the devices it manages: the real fwupdtool with its test
# plugin (TestDevices=true in a private configuration, no daemon). SPDX-License-Identifier: MIT
import json
import os
import shutil
import subprocess

import pytest

from firmware_fixtures import FirmwareBench, lvfs_cab

FWUPDTOOL = shutil.which("fwupdtool")

pytestmark = [
    pytest.mark.skipif(FWUPDTOOL is None, reason="fwupd (fwupdtool) is not installed"),
    pytest.mark.skipif(shutil.which("gcab") is None, reason="gcab is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="fwupdtool runs as root"),
]


@pytest.fixture
def bench(tmp_path, processes, fixtures_dir):
    if shutil.which("fwupdmgr") and subprocess.run(
            ["fwupdmgr", "get-devices", "--json"], capture_output=True,
            timeout=60).returncode == 0:
        pytest.skip("a fwupd daemon runs here; these tests drive fwupdtool with test devices")
    b = FirmwareBench(tmp_path, processes, [os.path.join(fixtures_dir, "fwupd", "LVFS-CA.pem")])
    config = tmp_path / "fwupd-etc"
    (config / "fwupd").mkdir(parents=True)
    (config / "fwupd" / "fwupd.conf").write_text("[fwupd]\nTestDevices=true\n")
    os.chmod(str(config / "fwupd" / "fwupd.conf"), 0o600)
    (tmp_path / "fwupd-var").mkdir()
    base_env = b.env

    def env():
        e = base_env()
        e["FWUPD_SYSCONFDIR"] = str(config)
        e["FWUPD_LOCALSTATEDIR"] = str(tmp_path / "fwupd-var")
        return e
    b.env = env
    yield b
    b.cleanup()


def fwupd_history(bench):
    out = subprocess.run([FWUPDTOOL, "get-history", "--json"], capture_output=True,
                         env=bench.env(), timeout=60)
    return json.loads(out.stdout or b'{"Devices": []}').get("Devices", [])


def test_lvfs_cabinet_goes_to_fwupd_for_its_test_device(bench, fixtures_dir, tmp_path):
    cab = lvfs_cab(fixtures_dir, str(tmp_path / "c"), "124")
    check = bench.agent("check", cab)
    assert check.returncode == 0, check.stderr
    assert "running 1.2.2, managed by fwupd" in check.stdout
    assert "verify against the trusted firmware CAs" in check.stdout

    applied = bench.agent("apply", cab, "--yes")
    assert applied.returncode == 0, applied.stderr
    assert "fwupd (fwupdtool) installed it and records the device at 1.2.4" in applied.stdout
    # fwupd's own phases are relayed.
    assert "Writing..." in applied.stderr and "Verifying..." in applied.stderr
    history = bench.history()
    assert [(h["from"], h["to"], h["result"]) for h in history] == [
        ("1.2.2", "1.2.4", "success")]
    recorded = fwupd_history(bench)
    assert recorded and recorded[0]["Version"] == "1.2.4" and recorded[0]["UpdateState"] == 2


def test_kefu_checks_run_before_fwupd_sees_the_cabinet(bench, fixtures_dir, tmp_path):
    tampered = lvfs_cab(fixtures_dir, str(tmp_path / "t"), "124",
                        replace={"fakedevice124.bin": b"0x1020009\x00"})
    result = bench.agent("apply", tampered, "--yes")
    assert result.returncode == 1 and "kefu-agentd:" in result.stderr
    assert fwupd_history(bench) == []


def test_fwupd_flag_refuses_a_cabinet_fwupd_has_no_device_for(bench, tmp_path, fixtures_dir):
    bench.init_device("--version", "0x1020002")
    bench.start_device()
    cab = lvfs_cab(fixtures_dir, str(tmp_path / "c"), "124")
    # A kefu device takes it first...
    result = bench.agent("check", cab)
    assert result.returncode == 0 and "emu0" in result.stdout
    # ...unless fwupd is asked for.
    result = bench.agent("check", cab, "--fwupd")
    assert result.returncode == 0 and "managed by fwupd" in result.stdout
    env = bench.env()
    os.unlink(os.path.join(env["FWUPD_SYSCONFDIR"], "fwupd", "fwupd.conf"))
    result = bench.agent("check", cab, "--fwupd")
    assert result.returncode == 1
    assert "fwupd manages no updatable device that takes this firmware" in result.stderr


def test_fwupd_flag_with_a_device_or_a_kefu_package_says_why_it_cannot(bench, fixtures_dir,
                                                                        tmp_path):
    cab = lvfs_cab(fixtures_dir, str(tmp_path / "c"), "124")
    result = bench.agent("check", cab, "--fwupd", "--device", "emu0")
    assert result.returncode == 1
    assert "--device chooses among kefu's devices" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
