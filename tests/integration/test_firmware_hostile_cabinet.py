# kefu: hostile LVFS cabinets: refusals that are audited, unsigned extra members, and
# declared sizes judged before anything is inflated. SPDX-License-Identifier: MIT
import json
import os
import shutil

import pytest

from conftest import program, run
from firmware_fixtures import FirmwareBench, lvfs_cab

pytestmark = pytest.mark.skipif(shutil.which("gcab") is None, reason="gcab is not installed")


@pytest.fixture
def bench(tmp_path, processes, fixtures_dir):
    b = FirmwareBench(tmp_path, processes, [os.path.join(fixtures_dir, "fwupd", "LVFS-CA.pem")])
    b.start_factory_device()
    yield b
    b.cleanup()


def audit_entries(bench):
    """What `kefu-agentd audit --json` shows the customer."""
    result = run([program("kefu-agentd"), "audit", "--json"], env=bench.env())
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_a_refused_check_is_audited_like_a_refused_apply(bench, fixtures_dir, tmp_path):
    tampered = lvfs_cab(fixtures_dir, str(tmp_path / "t"), "124",
                        replace={"fakedevice124.bin": b"0x1020009\x00"})
    checked = bench.agent("check", tampered)
    assert checked.returncode == 1
    entries = audit_entries(bench)
    assert [e["event"] for e in entries] == ["firmware-check-refused"]
    assert entries[0]["file"] == tampered
    assert "fakedevice124.bin" in entries[0]["detail"]
    applied = bench.agent("apply", tampered, "--yes")
    assert applied.returncode == 1
    assert [e["event"] for e in audit_entries(bench)] == ["firmware-check-refused",
                                                          "firmware-refused"]
    # A check that passes is not a refusal and leaves nothing to audit.
    good = bench.agent("check", lvfs_cab(fixtures_dir, str(tmp_path / "g"), "124"))
    assert good.returncode == 0, good.stderr
    assert len(audit_entries(bench)) == 2
