# kefu: `kefu-agentd firmware` against real LVFS cabinets and the emulated A/B device.
# SPDX-License-Identifier: MIT
import os
import pty
import select
import shutil
import subprocess
import time

import pytest

from conftest import program
from firmware_fixtures import (FAKE_GUID, METAINFO, FirmwareBench, FirmwareCA, gcab, lvfs_cab,
                               make_root, set_boot_id, signed_cab)

pytestmark = pytest.mark.skipif(shutil.which("gcab") is None, reason="gcab is not installed")


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    return FirmwareCA(str(tmp_path_factory.mktemp("fwca")))


@pytest.fixture
def bench(tmp_path, processes, fixtures_dir, test_ca):
    lvfs_ca = os.path.join(fixtures_dir, "fwupd", "LVFS-CA.pem")
    b = FirmwareBench(tmp_path, processes, [lvfs_ca, test_ca.ca])
    b.start_factory_device()
    yield b
    b.cleanup()


def test_list_shows_the_device_with_guids(bench):
    result = bench.agent("list")
    assert result.returncode == 0, result.stderr
    assert "emu0: Emulated device from kefu, version 1.2.2 (triplet)" in result.stdout
    assert FAKE_GUID in result.stdout


def test_lvfs_upgrade_applies_then_older_needs_downgrade_flag(bench, fixtures_dir, tmp_path):
    plain124 = lvfs_cab(fixtures_dir, str(tmp_path / "c124"), "124")
    zip124 = lvfs_cab(fixtures_dir, str(tmp_path / "c124"), "124", zip_=True)
    cab123 = lvfs_cab(fixtures_dir, str(tmp_path / "c123"), "123", zip_=True)

    check = bench.agent("check", plain124)
    assert check.returncode == 0, check.stderr
    assert "Ready to install: emu0 1.2.2 -> 1.2.4." in check.stdout
    assert "fakedevice124.bin verify" in check.stdout

    applied = bench.agent("apply", zip124, "--yes")
    assert applied.returncode == 0, applied.stderr
    assert "Installed 1.2.4 on emu0" in applied.stdout
    assert "Do not unplug" in applied.stderr
    for phase in ("verify", "write", "verify-after-write", "restart"):
        assert phase + "..." in applied.stderr
    assert bench.version() == "1.2.4"
    assert bench.boot()["version"] == "1.2.4"

    refused = bench.agent("apply", cab123, "--yes")
    assert refused.returncode == 1
    assert "older than the installed 1.2.4; downgrading needs --downgrade" in refused.stderr
    assert bench.version() == "1.2.4"

    same = bench.agent("apply", plain124, "--yes")
    assert same.returncode == 1 and "--reinstall" in same.stderr

    downgraded = bench.agent("apply", cab123, "--yes", "--downgrade")
    assert downgraded.returncode == 0, downgraded.stderr
    assert bench.version() == "1.2.3"

    history = bench.history()
    assert [(h["from"], h["to"], h["result"]) for h in history] == [
        ("1.2.2", "1.2.4", "success"), ("1.2.4", "1.2.3", "success")]
    assert history[0]["device"] == "emu0" and history[0]["when"].endswith("Z")
    events = bench.audit_events()
    assert events.count("firmware-installed") == 2
    assert events.count("firmware-refused") == 2

    # The history survives the device and the helper restarting.
    bench.stop_device()
    bench.start_device()
    assert len(bench.history()) == 2


@pytest.mark.parametrize("member", ["bin", "metainfo", "jcat"])
def test_tampered_lvfs_cabinet_is_refused_before_any_write(bench, fixtures_dir, tmp_path, member):
    with open(os.path.join(fixtures_dir, "fwupd", "fakedevice124.metainfo.xml"), "rb") as f:
        metainfo = f.read()
    replace = {
        "bin": {"fakedevice124.bin": b"0x1020009\x00"},
        "metainfo": {"fakedevice124.metainfo.xml": metainfo.replace(b"1.2.4", b"1.2.9")},
        "jcat": {"fakedevice124.jcat": open(
            os.path.join(fixtures_dir, "fwupd", "fakedevice123.jcat"), "rb").read()},
    }[member]
    cab = lvfs_cab(fixtures_dir, str(tmp_path / "t"), "124", replace=replace)
    before = bench.slot_b()
    result = bench.agent("apply", cab, "--yes")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr
    assert "kefu-agentd:" in result.stderr
    assert bench.slot_b() == before
    assert bench.version() == "1.2.2"
    assert bench.history() == []
    assert bench.audit_events() == ["firmware-refused"]


def test_cabinet_signed_by_an_untrusted_ca_is_refused(bench, tmp_path, test_ca):
    other = FirmwareCA(str(tmp_path / "other-ca"))
    cab = signed_cab(other, str(tmp_path / "s"), "0x1020005", "1.2.5")
    result = bench.agent("check", cab)
    assert result.returncode == 1
    assert "signature does not verify against the trusted CAs" in result.stderr
    # The same cabinet signed by the CA the profile lists is accepted.
    good = bench.agent("check", signed_cab(test_ca, str(tmp_path / "g"), "0x1020005", "1.2.5"))
    assert good.returncode == 0, good.stderr


def patch_name(cab, old, new):
    with open(cab, "rb") as f:
        data = f.read()
    assert len(old) == len(new) and old in data
    with open(cab, "wb") as f:
        f.write(data.replace(old, new, 1))


def test_malicious_cabinets_are_refused(bench, tmp_path, test_ca):
    folder = str(tmp_path / "m")
    good = signed_cab(test_ca, folder, "0x1020005", "1.2.5")
    cases = []
    traversal = str(tmp_path / "traversal.cab")
    shutil.copyfile(good, traversal)
    patch_name(traversal, b"emu.bin\x00", b"../x.bn\x00")
    cases.append((traversal, "unsafe name"))
    absolute = str(tmp_path / "absolute.cab")
    shutil.copyfile(good, absolute)
    patch_name(absolute, b"emu.jcat", b"/etc/jca")
    cases.append((absolute, "unsafe name"))
    duplicate = str(tmp_path / "duplicate.cab")
    shutil.copyfile(good, duplicate)
    patch_name(duplicate, b"emu.jcat", b"EMU.BIN\x00")
    cases.append((duplicate, "twice"))
    # A 300 MB member of zeros that compresses to almost nothing.
    huge_dir = tmp_path / "huge"
    huge_dir.mkdir()
    with open(huge_dir / "zeros.bin", "wb") as f:
        f.truncate(300 * 1000 * 1000)
    cases.append((gcab("huge.cab", ["zeros.bin"], str(huge_dir), zip_=True), "too large"))
    # A signed metainfo with an entity bomb: the signature is fine, the parser refuses.
    bomb = ('<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            '<component type="firmware"><id>x</id><name>&b;</name></component>')
    cases.append((signed_cab(test_ca, str(tmp_path / "bomb"), "0x1020005", "1.2.5",
                             metainfo=bomb), "document type"))
    # Not a cabinet: a tar is taken for a kefu package, and it is not one.
    tar = str(tmp_path / "x.cab")
    subprocess.run(["tar", "cf", tar, "-C", folder, "emu.bin"], check=True)
    cases.append((tar, "not-a-package"))
    before = bench.slot_b()
    for cab, words in cases:
        result = bench.agent("apply", cab, "--yes")
        assert result.returncode == 1, cab
        assert words in result.stderr, (cab, result.stderr)
    assert bench.slot_b() == before
    assert bench.history() == []


def test_metainfo_checksum_must_match_the_payload(bench, tmp_path, test_ca):
    wrong = METAINFO.format(guid=FAKE_GUID, version="1.2.5", name="emu.bin", sha="0" * 64)
    cab = signed_cab(test_ca, str(tmp_path / "w"), "0x1020005", "1.2.5", metainfo=wrong)
    result = bench.agent("check", cab)
    assert result.returncode == 1
    assert "does not match its metainfo" in result.stderr


def test_preflight_refuses_in_plain_sentences(bench, tmp_path, test_ca, fixtures_dir):
    cab = signed_cab(test_ca, str(tmp_path / "p"), "0x1020005", "1.2.5", size=4096)
    assert bench.agent("check", cab).returncode == 0

    # On battery below the threshold; then on battery that is full enough.
    make_root(bench.root, ac_online=False, battery=12)
    low = bench.agent("apply", cab, "--yes")
    assert low.returncode == 1 and "battery is at 12%" in low.stderr
    make_root(bench.root, ac_online=False, battery=80)
    assert bench.agent("check", cab).returncode == 0
    make_root(bench.root)

    # Firmware for another device, or for a device that is not there.
    other = signed_cab(test_ca, str(tmp_path / "o"), "0x1020005", "1.2.5",
                       guid="2fa8891f-3ece-53a4-adc4-0dd875685f30")
    result = bench.agent("check", other)
    assert result.returncode == 1 and "No connected device takes this firmware" in result.stderr
    result = bench.agent("check", cab, "--device", "emu9")
    assert result.returncode == 1 and "emu9 is not connected" in result.stderr

    # Too large for the device's storage.
    big = signed_cab(test_ca, str(tmp_path / "b"), "0x1020005", "1.2.5", size=2 * 1024 * 1024)
    result = bench.agent("check", big)
    assert result.returncode == 1 and "does not fit" in result.stderr

    # A busy device.
    bench.stop_device()
    bench.start_device("--busy")
    result = bench.agent("apply", cab, "--yes")
    assert result.returncode == 1 and "busy" in result.stderr

    # A device whose version format differs from the firmware's.
    bench.stop_device()
    bench.init_device("--version", "0x1020002", "--format", "quad")
    bench.start_device()
    result = bench.agent("check", cab)
    assert result.returncode == 1 and "version format" in result.stderr
    assert bench.history() == []


def run_in_pty(args, answer, env, timeout=60):
    """Runs args with a terminal as stdin/stdout/stderr, types answer at the prompt."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(args[0], args, env)
    output = b""
    answered = False
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"[y/N]" in output:
            os.write(fd, answer)
            answered = True
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_consent_denied_writes_nothing_and_approved_shows_progress(bench, tmp_path, test_ca):
    cab = signed_cab(test_ca, str(tmp_path / "c"), "0x1020005", "1.2.5", size=300 * 1024)
    args = [program("kefu-agentd"), "firmware", "apply", cab, "--profile", bench.profile,
            "--devices", bench.devices, "--root", bench.root]
    before = bench.slot_b()

    # No terminal and no --yes: nobody approved.
    result = bench.agent("apply", cab)
    assert result.returncode == 1 and "not approved" in result.stderr

    code, output = run_in_pty(args, b"n\n", bench.env())
    assert code == 1 and "not approved" in output
    assert "Do not unplug" in output
    assert bench.slot_b() == before
    assert bench.history() == []

    code, output = run_in_pty(args, b"y\n", bench.env())
    assert code == 0, output
    assert "] 100%" in output and "write" in output
    assert bench.version() == "1.2.5"
    events = bench.audit_events()
    assert events[:2] == ["firmware-declined", "firmware-declined"]
    assert events[-2:] == ["firmware-approved", "firmware-installed"]


def test_power_loss_at_any_point_leaves_a_verified_image(bench, tmp_path, test_ca):
    size = 64 * 1024
    cab = signed_cab(test_ca, str(tmp_path / "pl"), "0x1020005", "1.2.5", size=size)
    total = 128 + size + 128  # header invalidated, image, header written last
    points = sorted(set([0, 1, 127, 128, 129, 130, size, size + 127, size + 128, total - 1] +
                        [i * total // 40 for i in range(40)]))[:50]
    assert len(points) >= 45
    outcomes = {}
    for point in points:
        bench.stop_device()
        bench.init_device("--version", "0x1020002")
        emu = bench.start_device("--power-loss-at", str(point))
        result = bench.agent("apply", cab, "--yes")
        assert result.returncode == 1, (point, result.stdout)
        emu.wait(timeout=10)
        assert emu.returncode == 75, point  # the device lost power
        booted = bench.boot()
        assert booted["verified"], (point, booted)
        # The new image boots only once the header's magic, sequence, size and SHA-256
        # (its first 56 bytes) are on the flash; the rest of the header is padding.
        expected = "1.2.5" if point >= total - 128 + 56 else "1.2.2"
        assert booted["version"] == expected, (point, booted)
        outcomes[expected] = outcomes.get(expected, 0) + 1
    assert outcomes["1.2.2"] >= 45
    history = bench.history()
    assert all(h["result"] == "failed" for h in history) and len(history) == len(points)

    # With the power on all the way, the same update succeeds.
    bench.stop_device()
    bench.init_device("--version", "0x1020002")
    bench.start_device("--power-loss-at", str(total))
    result = bench.agent("apply", cab, "--yes")
    assert result.returncode == 0, result.stderr
    assert bench.boot()["version"] == "1.2.5"


def test_update_activating_at_computer_restart_is_settled_after_it(bench, tmp_path, test_ca):
    bench.stop_device()
    bench.init_device("--version", "0x1020002", "--activation", "host-reboot")
    bench.start_device()
    cab = signed_cab(test_ca, str(tmp_path / "h"), "0x1020005", "1.2.5")
    result = bench.agent("apply", cab, "--yes")
    assert result.returncode == 0, result.stderr
    assert "Restart the computer to finish" in result.stdout
    assert bench.version() == "1.2.2"
    assert bench.history()[0]["result"] == "pending-reboot"

    # The device powers up again with the computer, but the boot id says no restart yet.
    bench.stop_device()
    bench.start_device()
    assert bench.history()[0]["result"] == "pending-reboot"

    set_boot_id(bench.root, "99999999-2222-3333-4444-555555555555")
    entry = bench.history()[0]
    assert entry["result"] == "success", entry
    assert "after the computer restarted" in entry["detail"]


def test_bad_usage_is_a_usage_error(bench):
    assert bench.agent("frobnicate").returncode == 2
    assert bench.agent("apply").returncode == 2
    missing = bench.agent("check", "/nonexistent.cab")
    assert missing.returncode == 1 and "not a readable cabinet" in missing.stderr
