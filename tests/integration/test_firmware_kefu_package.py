# kefu: kefu firmware packages (Ed25519-signed, firmware.json) applied by `kefu-agentd firmware`.
# SPDX-License-Identifier: MIT
import json
import os
import shutil

import pytest

from conftest import program, run
from firmware_fixtures import (FAKE_GUID, FirmwareBench, Publisher, firmware_package, make_root)


@pytest.fixture(scope="module")
def publisher(tmp_path_factory):
    return Publisher(str(tmp_path_factory.mktemp("publisher")))


@pytest.fixture
def bench(tmp_path, processes, publisher):
    b = FirmwareBench(tmp_path, processes, [], [publisher.entry])
    b.start_factory_device()
    yield b
    b.cleanup()


def replace_once(path, old, new, out):
    with open(path, "rb") as f:
        data = f.read()
    assert len(old) == len(new) and old in data, old
    with open(out, "wb") as f:
        f.write(data.replace(old, new, 1))
    return out


def assert_refused_before_any_write(bench, path, words):
    before = bench.slot_b()
    result = bench.agent("apply", path, "--yes")
    assert result.returncode == 1, result.stdout
    assert words in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr
    assert bench.slot_b() == before
    assert bench.version() == "1.2.2"
    assert bench.history() == []
    return result


def test_signed_package_applies_on_the_emulated_device(bench, publisher, tmp_path):
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher, size=8192,
                           flags=["security"])
    # The name says nothing: the agent tells packages from cabinets by their content.
    renamed = str(tmp_path / "update.cab")
    shutil.copyfile(pkg, renamed)
    check = bench.agent("check", renamed)
    assert check.returncode == 0, check.stderr
    assert 'signed by the trusted publisher "Example Devices"' in check.stdout
    assert "security problem" in check.stdout
    assert "changes: Release 1.2.5." in check.stdout
    assert "Ready to install: emu0 1.2.2 -> 1.2.5." in check.stdout

    applied = bench.agent("apply", pkg, "--yes")
    assert applied.returncode == 0, applied.stderr
    assert "Installed 1.2.5 on emu0" in applied.stdout
    assert bench.version() == "1.2.5"
    assert bench.boot()["version"] == "1.2.5"
    assert [(h["from"], h["to"], h["result"]) for h in bench.history()] == [
        ("1.2.2", "1.2.5", "success")]
    assert bench.audit_events()[-2:] == ["firmware-approved", "firmware-installed"]

    # The version rules are the same as for cabinets.
    older = firmware_package(str(tmp_path), "0x1020003", "1.2.3", publisher)
    refused = bench.agent("apply", older, "--yes")
    assert refused.returncode == 1 and "--downgrade" in refused.stderr
    assert bench.agent("apply", older, "--yes", "--downgrade").returncode == 0
    assert bench.version() == "1.2.3"


def test_instance_ids_in_the_manifest_match_as_fwupd_derives_them(bench, publisher, tmp_path):
    bench.stop_device()
    bench.init_device("--version", "0x1020002", "--instance-id", "USB\\VID_273F&PID_1004")
    bench.start_device()
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher,
                           devices=["USB\\VID_273F&PID_1004"])
    result = bench.agent("check", pkg)
    assert result.returncode == 0, result.stderr
    other = firmware_package(str(tmp_path / "o"), "0x1020005", "1.2.5", publisher,
                             devices=["USB\\VID_273F&PID_1005"])
    result = bench.agent("check", other)
    assert result.returncode == 1 and "No connected device takes this firmware" in result.stderr


def test_tampered_image_is_refused_before_any_write(bench, publisher, tmp_path):
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher)
    bad = replace_once(pkg, b"0x1020005", b"0x1020009", str(tmp_path / "image.kefufw"))
    assert_refused_before_any_write(bench, bad, "hash-mismatch")
    assert bench.audit_events() == ["firmware-refused"]


def test_tampered_signed_list_is_refused_before_any_write(bench, publisher, tmp_path):
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher)
    # kefu-package.json comes first in the archive: its version is the first "1.2.5".
    bad = replace_once(pkg, b'"1.2.5"', b'"1.2.9"', str(tmp_path / "list.kefufw"))
    assert_refused_before_any_write(bench, bad, "bad-signature")


def test_unsigned_package_is_refused(bench, publisher, tmp_path):
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher, sign=False)
    assert_refused_before_any_write(bench, pkg, "unsigned")


def test_unknown_publisher_is_refused(bench, tmp_path):
    stranger = Publisher(str(tmp_path / "stranger"), name="Example Devices")
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", stranger)
    assert_refused_before_any_write(bench, pkg, "unknown-publisher")


def test_plugin_publishers_do_not_sign_firmware(bench, publisher, tmp_path, processes):
    """A key trusted for plugins only is not trusted for firmware."""
    profile = json.load(open(bench.profile))
    profile["plugin_publishers"] = profile.pop("firmware_publishers")
    with open(bench.profile, "w") as f:
        json.dump(profile, f)
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher)
    assert_refused_before_any_write(bench, pkg, "trusts no firmware publisher")


def test_package_claiming_another_publisher_is_refused(bench, publisher, tmp_path):
    """Signed by a trusted key, but naming a publisher that key does not belong to."""
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher,
                           claimed_publisher="Someone Else")
    assert_refused_before_any_write(bench, pkg, "unknown-publisher")


def test_pack_refuses_bad_manifests(publisher, tmp_path):
    cases = [
        ({"flags": ["turbo"]}, 'flag "turbo" is unknown'),
        ({"version_format": "octet"}, "version format"),
        ({"devices": []}, "devices"),
        ({"devices": ["not an id"]}, "neither a GUID nor an instance ID"),
        ({"image": {"file": "../emu.bin"}}, "plain file name"),
        ({"image": {"file": "missing.bin"}}, "not in the package"),
        ({"image": {"file": "emu.bin", "sha256": "0" * 64}}, "not the signed list's"),
        ({"extra": 1}, 'unknown field "extra"'),
        ({"version": "one"}, "not 1 to 4 numbers"),
    ]
    for i, (fields, words) in enumerate(cases):
        src = tmp_path / ("src%d" % i)
        src.mkdir()
        run([os.path.join(os.path.dirname(program("kefu-agentd")), "tools", "fw-emu"), "image",
             "0x1020005", "16", str(src / "emu.bin")]).check_returncode()
        manifest = {"format": 1, "id": "com.example.emu.firmware", "publisher": publisher.name,
                    "devices": [FAKE_GUID], "version": "1.2.5", "image": {"file": "emu.bin"}}
        manifest.update(fields)
        (src / "firmware.json").write_text(json.dumps(manifest))
        out = str(tmp_path / ("out%d.kefufw" % i))
        result = run([program("kefu-plugin"), "pack", "--kind", "firmware", str(src), "-o", out,
                      "--key", publisher.key])
        assert result.returncode == 1, (fields, result.stdout)
        assert words in result.stderr, (fields, result.stderr)
        assert not os.path.exists(out)


def test_sign_and_verify_use_the_firmware_publishers(bench, publisher, tmp_path):
    unsigned = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher, sign=False)
    refused = run([program("kefu-plugin"), "verify", "--profile", bench.profile, unsigned])
    assert refused.returncode == 1 and "unsigned" in refused.stderr
    signed = run([program("kefu-plugin"), "sign", unsigned, "--key", publisher.key])
    assert signed.returncode == 0, signed.stderr
    verified = run([program("kefu-plugin"), "verify", "--profile", bench.profile, unsigned])
    assert verified.returncode == 0, verified.stderr
    assert "verified: firmware com.example.emu.firmware 1.2.5" in verified.stdout
    assert bench.agent("apply", unsigned, "--yes").returncode == 0
    assert bench.version() == "1.2.5"


def test_require_ac_flag_needs_mains_power(bench, publisher, tmp_path):
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher, flags=["require-ac"])
    make_root(bench.root, ac_online=False, battery=90)
    result = bench.agent("check", pkg)
    assert result.returncode == 1 and "must be installed on mains power" in result.stderr
    make_root(bench.root, ac_online=True, battery=90)
    assert bench.agent("check", pkg).returncode == 0


def set_dmi(root, vendor, product):
    dmi = os.path.join(root, "sys", "class", "dmi", "id")
    os.makedirs(dmi, exist_ok=True)
    for name, value in (("sys_vendor", vendor), ("product_name", product)):
        with open(os.path.join(dmi, name), "w") as f:
            f.write(value + "\n")


def test_computer_model_requirement_is_checked_from_dmi(bench, publisher, tmp_path):
    pkg = firmware_package(str(tmp_path), "0x1020005", "1.2.5", publisher,
                           requires={"computers": [{"vendor": "LENOVO", "product": "20XW"},
                                                   {"vendor": "Dell Inc."}]})
    no_dmi = bench.agent("check", pkg)
    assert no_dmi.returncode == 1 and "does not say which model" in no_dmi.stderr
    set_dmi(bench.root, "LENOVO", "20XX")
    other = bench.agent("check", pkg)
    assert other.returncode == 1
    assert "not for this computer (LENOVO 20XX)" in other.stderr
    set_dmi(bench.root, "LENOVO", "20XW")
    assert bench.agent("check", pkg).returncode == 0
    set_dmi(bench.root, "Dell Inc.", "Latitude 7420")
    assert bench.agent("apply", pkg, "--yes").returncode == 0
    assert bench.version() == "1.2.5"


def test_neither_cabinet_nor_package_is_refused(bench, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello, not firmware\n" * 100)
    result = bench.agent("check", str(junk))
    assert result.returncode == 1
    assert "neither an LVFS cabinet nor a kefu firmware package" in result.stderr


def set_thinkpad_dmi(root, chassis_type="10"):
    """The DMI attributes of fwupd's ThinkPad T440s test machine, as the kernel shows them."""
    dmi = os.path.join(root, "sys", "class", "dmi", "id")
    os.makedirs(dmi, exist_ok=True)
    for name, value in (("sys_vendor", "LENOVO"), ("product_family", "ThinkPad T440s"),
                        ("product_name", "20ARS19C0C"),
                        ("product_sku", "LENOVO_MT_20AR_BU_Think_FM_ThinkPad T440s"),
                        ("board_vendor", "LENOVO"), ("board_name", "20ARS19C0C"),
                        ("bios_vendor", "LENOVO"), ("bios_version", "GJET75WW (2.25 )"),
                        ("bios_release", "2.25"), ("chassis_type", chassis_type)):
        with open(os.path.join(dmi, name), "w") as f:
            f.write(value + "\n")


def test_hardware_id_requirement_is_checked_as_fwupd_computes_it(bench, publisher, tmp_path):
    # HardwareID-0 (with the BIOS release) and HardwareID-12 (with the enclosure) of
    # that machine as fwupd computes them: the kernel's "2.25" and "10" must be
    # written as fwupd writes SMBIOS numbers for them to match.
    for chid in ("147efce9-f201-5fc8-ab0c-c859751c3440", "e093d715-70f7-51f4-b6c8-b4a7e31def85"):
        pkg = firmware_package(str(tmp_path / chid), "0x1020005", "1.2.5", publisher,
                               requires={"hardware_ids": [chid]})
        no_dmi = bench.agent("check", pkg)
        assert no_dmi.returncode == 1 and "does not say which model" in no_dmi.stderr
        set_dmi(bench.root, "Dell Inc.", "Latitude 7420")
        other = bench.agent("check", pkg)
        assert other.returncode == 1, other.stdout
        assert "for other computer models" in other.stderr
        assert "(Dell Inc. Latitude 7420)" in other.stderr
        set_thinkpad_dmi(bench.root)
        result = bench.agent("check", pkg)
        assert result.returncode == 0, result.stderr
        shutil.rmtree(os.path.join(bench.root, "sys", "class", "dmi"))
