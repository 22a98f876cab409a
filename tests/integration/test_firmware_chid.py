# kefu: this computer's hardware IDs (CHIDs) against fwupdtool's, and the LVFS requirements
# that use them (<requires><hardware>, <requires><firmware compare=...>). SPDX-License-Identifier: MIT
import gzip
import json
import os
import shutil

import pytest

from conftest import program, run
from firmware_fixtures import (FAKE_GUID, METAINFO, FirmwareBench, FirmwareCA, sha256_file,
                               signed_cab, write_jcat)

# Three computers: fwupd's own ThinkPad T440s example, an MSI desktop as fwupdtool showed it,
# and one with UTF-8 in its names and no SKU or family (their IDs are left out).
MACHINES = {
    "t440s": {"sys_vendor": "LENOVO", "product_family": "ThinkPad T440s",
              "product_name": "20ARS19C0C",
              "product_sku": "LENOVO_MT_20AR_BU_Think_FM_ThinkPad T440s",
              "board_vendor": "LENOVO", "board_name": "20ARS19C0C", "bios_vendor": "LENOVO",
              "bios_version": "GJET75WW (2.25 )", "bios_release": "2.25", "chassis_type": "10"},
    "msi": {"sys_vendor": "Micro-Star International Co., Ltd.",
            "product_family": "To be filled by O.E.M.", "product_name": "MS-7D70",
            "product_sku": "To be filled by O.E.M.",
            "board_vendor": "Micro-Star International Co., Ltd.",
            "board_name": "MPG X670E CARBON WIFI (MS-7D70)",
            "bios_vendor": "American Megatrends International, LLC.", "bios_version": "1.E5",
            "bios_release": "5.32", "chassis_type": "3"},
    "utf8": {"sys_vendor": "Müller Rechner GmbH", "product_name": "Schreibtisch 三号",
             "board_vendor": "Müller Rechner GmbH", "board_name": "MB-Ω 2",
             "bios_vendor": "Müller", "bios_version": "R1.0 ", "bios_release": "1.7",
             "chassis_type": "35"},
}

# The HWIDS file keys fwupdtool reads for each DMI attribute (`fwupdtool export-hwids`).
HWIDS_KEYS = {"sys_vendor": "Manufacturer", "product_family": "Family",
              "product_name": "ProductName", "product_sku": "ProductSku",
              "board_vendor": "BaseboardManufacturer", "board_name": "BaseboardProduct",
              "bios_vendor": "BiosVendor", "bios_version": "BiosVersion"}


def write_dmi(root, machine):
    dmi = os.path.join(root, "sys", "class", "dmi", "id")
    shutil.rmtree(dmi, ignore_errors=True)
    os.makedirs(dmi)
    for name, value in machine.items():
        with open(os.path.join(dmi, name), "w", encoding="utf-8") as f:
            f.write(value + "\n")


def write_hwids_file(path, machine):
    """The same computer as fwupdtool reads it from a HWIDS file (SMBIOS numbers in hex).
    The file's values are taken as they are, so they are written trimmed, as fwupd reads
    SMBIOS strings and as ComputerHardwareIds.exe does (the "R1.0 " of utf8 is "R1.0")."""
    lines = ["[HwIds]"]
    for name, key in HWIDS_KEYS.items():
        if name in machine:
            lines.append("%s=%s" % (key, machine[name].strip(" ")))
    major, minor = (int(x) for x in machine["bios_release"].split("."))
    lines += ["BiosMajorRelease=%02x" % major, "BiosMinorRelease=%02x" % minor,
              "EnclosureKind=%x" % int(machine["chassis_type"])]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def fwupdtool_hwids(path):
    result = run(["fwupdtool", "hwids", path, "--no-unreported-check"], timeout=120)
    if result.returncode != 0:
        result = run(["fwupdtool", "hwids", path], timeout=120)
    assert result.returncode == 0, result.stderr
    return {line.split()[0].strip("{}") for line in result.stdout.splitlines()
            if line.startswith("{")}


@pytest.mark.skipif(shutil.which("fwupdtool") is None, reason="fwupd is not installed")
@pytest.mark.parametrize("name", sorted(MACHINES))
def test_hardware_ids_are_fwupdtools(tmp_path, name):
    root = str(tmp_path / "root")
    write_dmi(root, MACHINES[name])
    hwids = str(tmp_path / "hwids.ini")
    write_hwids_file(hwids, MACHINES[name])
    ours = run_hwids(root)
    assert {i["guid"] for i in ours["hardware_ids"]} == fwupdtool_hwids(hwids)


def run_hwids(root, *args):
    result = run([program("kefu-agentd"), "firmware", "hwids", "--json", "--root", root,
                  "--devices", root] + list(args))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_computer_without_dmi_has_no_hardware_ids(tmp_path):
    root = str(tmp_path)
    assert run_hwids(root)["hardware_ids"] == []
    text = run([program("kefu-agentd"), "firmware", "hwids", "--root", root, "--devices", root])
    assert "does not say which model it is" in text.stdout


# ---- requirements in signed metadata and in cabinets ----

METADATA = """<?xml version="1.0" encoding="utf-8"?>
<components origin="lvfs" version="0.9">
  <component type="firmware">
    <id>org.example.emu.firmware</id>
    <name>EmuDevice</name>
    <provides><firmware type="flashed">{guid}</firmware></provides>
    <requires>{requires}</requires>
    <custom><value key="LVFS::VersionFormat">triplet</value></custom>
    <releases>
      <release version="1.2.5">
        <location>{cab}</location>
        <checksum type="sha256" target="container">{sha}</checksum>
      </release>
    </releases>
  </component>
</components>
"""


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    return FirmwareCA(str(tmp_path_factory.mktemp("fwca")))


@pytest.fixture
def bench(tmp_path, processes, test_ca):
    b = FirmwareBench(tmp_path, processes, [test_ca.ca])
    write_dmi(b.root, MACHINES["t440s"])
    b.start_factory_device()
    yield b
    b.cleanup()


T440S_MANUFACTURER = "6de5d951-d755-576b-bd09-c5cf66b27234"  # HardwareID-14
T440S_PRODUCT = "0cf8618d-9eff-537c-9f35-46861406eb9c"  # HardwareID-9
MSI_PRODUCT = "c12c1f4a-332d-5d72-aa36-7a3d413b479a"


def publish(ca, folder, requires, metainfo_requires=""):
    os.makedirs(folder, exist_ok=True)
    payload_sha = None
    cab = signed_cab(ca, folder, "0x1020005", "1.2.5")
    if metainfo_requires:
        # The same cabinet with requirements in its own (signed) metainfo.
        payload_sha = sha256_file(os.path.join(folder, "emu.bin"))
        metainfo = METAINFO.format(guid=FAKE_GUID, version="1.2.5", name="emu.bin",
                                   sha=payload_sha).replace(
            "<releases>", "<requires>%s</requires>\n  <releases>" % metainfo_requires)
        cab = signed_cab(ca, folder, "0x1020005", "1.2.5", metainfo=metainfo)
    xml = METADATA.format(guid=FAKE_GUID, requires=requires, cab=os.path.basename(cab),
                          sha=sha256_file(cab))
    path = os.path.join(folder, "firmware.xml.gz")
    with gzip.open(path, "wb") as f:
        f.write(xml.encode())
    write_jcat(path + ".jcat", {"firmware.xml.gz": (sha256_file(path), ca.sign(path))})
    return path


def listed(bench, metadata):
    result = bench.agent("updates", "--json", "--metadata", metadata)
    assert result.returncode == 0, result.stderr
    return [(u["device"], u["to"]) for u in json.loads(result.stdout)]


@pytest.mark.parametrize("requires,is_listed", [
    ("<hardware>%s</hardware>" % T440S_PRODUCT, True),
    ("<hardware>%s</hardware>" % MSI_PRODUCT, False),
    # Alternatives in one element: one of them is enough.
    ("<hardware>%s|%s</hardware>" % (MSI_PRODUCT, T440S_PRODUCT.upper()), True),
    # Two elements: both must hold.
    ("<hardware>%s</hardware><hardware>%s</hardware>" % (T440S_MANUFACTURER, T440S_PRODUCT),
     True),
    ("<hardware>%s</hardware><hardware>%s</hardware>" % (T440S_MANUFACTURER, MSI_PRODUCT),
     False),
    # The device's own version (1.2.2).
    ('<firmware compare="ge" version="1.2.0"/>', True),
    ('<firmware compare="ge" version="1.2.3"/>', False),
    ('<firmware compare="eq" version="1.2.2"/>', True),
    ('<firmware compare="glob" version="1.2.*"/>', True),
    ('<firmware compare="regex" version="^2\\."/>', False),
    # What kefu cannot check is not met: the bootloader, a parent device.
    ('<firmware compare="ge" version="0.1">bootloader</firmware>', False),
    ('<firmware depth="1">%s</firmware>' % FAKE_GUID, False),
])
def test_requirements_decide_whether_an_update_is_listed(bench, test_ca, tmp_path, requires,
                                                         is_listed):
    metadata = publish(test_ca, str(tmp_path / "remote"), requires)
    assert listed(bench, metadata) == ([("emu0", "1.2.5")] if is_listed else [])


def test_another_computer_model_gets_no_update(bench, test_ca, tmp_path):
    metadata = publish(test_ca, str(tmp_path / "remote"), "<hardware>%s</hardware>" % T440S_PRODUCT)
    write_dmi(bench.root, MACHINES["msi"])
    assert listed(bench, metadata) == []


def test_a_cabinet_requiring_one_of_several_chids_installs(bench, test_ca, tmp_path):
    alternatives = "<hardware>%s|%s</hardware>" % (MSI_PRODUCT, T440S_PRODUCT)
    metadata = publish(test_ca, str(tmp_path / "remote"), alternatives, alternatives)
    result = bench.agent("apply", "--latest", "emu0", "--yes", "--metadata", metadata)
    assert result.returncode == 0, result.stderr
    assert bench.version() == "1.2.5"


def test_a_cabinet_for_another_model_is_refused_on_this_one(bench, test_ca, tmp_path):
    metadata = publish(test_ca, str(tmp_path / "remote"), "",
                       "<hardware>%s</hardware>" % MSI_PRODUCT)
    result = bench.agent("apply", "--latest", "emu0", "--yes", "--metadata", metadata)
    assert result.returncode != 0
    assert "for other computer models" in result.stderr
    assert bench.version() == "1.2.2"


@pytest.mark.parametrize("requires,words", [
    ('<firmware compare="ge" version="1.2.0"/>', None),
    ('<firmware compare="ge" version="1.2.3"/>',
     "needs the device to run a version ge 1.2.3 first; it runs 1.2.2"),
    ('<firmware compare="ge" version="0.1">bootloader</firmware>',
     "requires something of the device kefu cannot check (bootloader)"),
])
def test_a_cabinets_firmware_requirement_is_checked_before_writing(bench, test_ca, tmp_path,
                                                                   requires, words):
    folder = str(tmp_path / "c")
    os.makedirs(folder)
    payload = os.path.join(folder, "emu.bin")
    run([os.path.join(os.path.dirname(program("kefu-agentd")), "tools", "fw-emu"), "image",
         "0x1020005", "16", payload]).check_returncode()
    metainfo = METAINFO.format(guid=FAKE_GUID, version="1.2.5", name="emu.bin",
                               sha=sha256_file(payload)).replace(
        "<releases>", "<requires>%s</requires>\n  <releases>" % requires)
    cab = signed_cab(test_ca, folder, "0x1020005", "1.2.5", metainfo=metainfo)
    result = bench.agent("apply", cab, "--yes")
    if words is None:
        assert result.returncode == 0, result.stderr
        assert bench.version() == "1.2.5"
    else:
        assert result.returncode != 0 and words in result.stderr, result.stderr
        assert bench.version() == "1.2.2"
