# kefu: `kefu-agentd firmware updates` and `apply --latest` from LVFS-format metadata signed with Jcat. SPDX-License-Identifier: MIT
import gzip
import json
import os
import shutil

import pytest

from firmware_fixtures import (FAKE_GUID, FirmwareBench, FirmwareCA, sha256_file, signed_cab,
                               write_jcat)

pytestmark = pytest.mark.skipif(shutil.which("gcab") is None, reason="gcab is not installed")

METADATA = """<?xml version="1.0" encoding="utf-8"?>
<components origin="lvfs" version="0.9">
  <component type="firmware">
    <id>org.example.emu.firmware</id>
    <name>EmuDevice</name>
    <summary>Firmware for the emulated device</summary>
    <developer_name>kefu tests</developer_name>
    <provides><firmware type="flashed">{guid}</firmware></provides>
    <custom><value key="LVFS::VersionFormat">triplet</value></custom>
    <releases>
      <release version="1.2.5" urgency="high">
        <location>https://fwupd.example.invalid/downloads/{cab}</location>
        <checksum type="sha256" target="container">{sha}</checksum>
        <description><p>Fixes the thing.</p><ul><li>And another.</li></ul></description>
      </release>
      <release version="1.2.1">
        <location>https://fwupd.example.invalid/downloads/old.cab</location>
      </release>
    </releases>
  </component>
  <component type="firmware">
    <id>org.example.other.firmware</id>
    <provides><firmware type="flashed">00000000-0000-0000-0000-000000000001</firmware></provides>
    <releases><release version="9.9.9"/></releases>
  </component>
  <component type="desktop-application"><id>org.example.app</id></component>
</components>
"""


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    return FirmwareCA(str(tmp_path_factory.mktemp("fwca")))


@pytest.fixture
def bench(tmp_path, processes, test_ca):
    b = FirmwareBench(tmp_path, processes, [test_ca.ca])
    b.start_factory_device()
    yield b
    b.cleanup()


def write_metadata(ca, folder, cab, signer=None, tamper=None):
    """firmware.xml.gz naming cab, and its Jcat signed by signer (default: ca)."""
    xml = METADATA.format(guid=FAKE_GUID, cab=os.path.basename(cab), sha=sha256_file(cab))
    path = os.path.join(folder, "firmware.xml.gz")
    with gzip.open(path, "wb") as f:
        f.write(xml.encode())
    write_jcat(path + ".jcat", {"firmware.xml.gz": (sha256_file(path),
                                                   (signer or ca).sign(path))})
    if tamper is not None:
        with gzip.open(path, "wb") as f:
            f.write(tamper(xml).encode())
    return path


def test_updates_lists_the_newest_applicable_release(bench, test_ca, tmp_path):
    folder = str(tmp_path / "remote")
    cab = signed_cab(test_ca, folder, "0x1020005", "1.2.5")
    metadata = write_metadata(test_ca, folder, cab)
    result = bench.agent("updates", "--json", "--metadata", metadata)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert [(u["device"], u["from"], u["to"], u["component"], u["urgency"]) for u in found] == [
        ("emu0", "1.2.2", "1.2.5", "org.example.emu.firmware", "high")]
    assert found[0]["description"] == "Fixes the thing. And another."
    text = bench.agent("updates", "--metadata", metadata)
    assert "emu0 (Emulated device): 1.2.2 -> 1.2.5" in text.stdout
    assert "firmware apply --latest emu0" in text.stdout


def test_apply_latest_installs_the_cabinet_the_metadata_names(bench, test_ca, tmp_path):
    folder = str(tmp_path / "remote")
    cab = signed_cab(test_ca, folder, "0x1020005", "1.2.5")
    metadata = "file://" + write_metadata(test_ca, folder, cab)
    result = bench.agent("apply", "--latest", "emu0", "--yes", "--metadata", metadata)
    assert result.returncode == 0, result.stderr
    assert "Installed 1.2.5 on emu0" in result.stdout
    assert bench.version() == "1.2.5"
    again = bench.agent("updates", "--metadata", metadata)
    assert "No firmware updates" in again.stdout


def test_tampered_metadata_is_refused_before_it_is_read(bench, test_ca, tmp_path):
    folder = str(tmp_path / "remote")
    cab = signed_cab(test_ca, folder, "0x1020005", "1.2.5")
    # Changed after signing: a broken document, which a parser would complain about.
    metadata = write_metadata(test_ca, folder, cab, tamper=lambda xml: xml + "<<<not xml")
    result = bench.agent("updates", "--metadata", metadata)
    assert result.returncode != 0
    assert "not signed by a firmware CA this profile trusts" in result.stderr
    assert "not XML" not in result.stderr


def test_metadata_signed_by_another_ca_is_refused(bench, test_ca, tmp_path):
    other = FirmwareCA(str(tmp_path / "other"))
    folder = str(tmp_path / "remote")
    cab = signed_cab(test_ca, folder, "0x1020005", "1.2.5")
    metadata = write_metadata(test_ca, folder, cab, signer=other)
    result = bench.agent("apply", "--latest", "emu0", "--yes", "--metadata", metadata)
    assert result.returncode != 0 and "not signed" in result.stderr
    assert bench.version() == "1.2.2"


def test_a_cabinet_other_than_the_one_named_is_refused(bench, test_ca, tmp_path):
    folder = str(tmp_path / "remote")
    cab = signed_cab(test_ca, folder, "0x1020005", "1.2.5")
    metadata = write_metadata(test_ca, folder, cab)
    # Another signed cabinet put in its place: genuine, but not what the metadata names.
    other = signed_cab(test_ca, str(tmp_path / "x"), "0x1020006", "1.2.6")
    shutil.copyfile(other, cab)
    result = bench.agent("apply", "--latest", "emu0", "--yes", "--metadata", metadata)
    assert result.returncode != 0 and "not the one the signed metadata names" in result.stderr
    assert bench.version() == "1.2.2"


def test_without_metadata_configured_the_error_says_how(bench):
    result = bench.agent("updates")
    assert result.returncode != 0
    assert "firmware_metadata" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("name", ["firmware.xml.zst", "firmware.xml.xz", "firmware.xml"])
def test_metadata_compressed_as_lvfs_serves_it_is_read(bench, test_ca, tmp_path, name):
    """LVFS serves firmware.xml.zst (and .gz, .xz); each is read once its signature holds."""
    import lzma
    import subprocess

    folder = tmp_path / "remote"
    cab = signed_cab(test_ca, str(folder), "0x1020005", "1.2.5")
    xml = METADATA.format(guid=FAKE_GUID, cab=os.path.basename(cab), sha=sha256_file(cab))
    path = str(folder / name)
    if name.endswith(".zst"):
        if shutil.which("zstd") is None:
            pytest.skip("zstd is not installed (scripts/deps test)")
        (folder / "plain.xml").write_text(xml)
        subprocess.run(["zstd", "-q", "-o", path, str(folder / "plain.xml")], check=True)
    elif name.endswith(".xz"):
        with lzma.open(path, "wb") as f:
            f.write(xml.encode())
    else:
        with open(path, "w") as f:
            f.write(xml)
    write_jcat(path + ".jcat", {name: (sha256_file(path), test_ca.sign(path))})
    result = bench.agent("updates", "--json", "--metadata", path)
    assert result.returncode == 0, result.stderr
    assert [(u["device"], u["to"]) for u in json.loads(result.stdout)] == [("emu0", "1.2.5")]
    # The same bytes changed after signing are refused, whatever the compression.
    with open(path, "ab") as f:
        f.write(b"\0")
    result = bench.agent("updates", "--metadata", path)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "sign" in result.stderr, result.stderr
