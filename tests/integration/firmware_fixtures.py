# kefu: helpers for the firmware tests: cabinets (LVFS and self-signed), a profile, the emulated device.
# SPDX-License-Identifier: MIT
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time

from conftest import BUILD_DIR, program, run

FW_EMU = os.path.join(BUILD_DIR, "tools", "fw-emu")
FAKE_GUID = "b585990a-003e-5270-89d5-3705a17f9a43"

METAINFO = """<?xml version="1.0" encoding="UTF-8"?>
<component type="firmware">
  <id>org.example.emu.firmware</id>
  <name>EmuDevice</name>
  <summary>Firmware for the emulated device</summary>
  <provides><firmware type="flashed">{guid}</firmware></provides>
  <developer_name>kefu tests</developer_name>
  <custom><value key="LVFS::VersionFormat">triplet</value></custom>
  <releases>
    <release version="{version}">
      <checksum type="sha256" filename="{name}" target="content">{sha}</checksum>
      <description><p>Test release {version}.</p></description>
    </release>
  </releases>
</component>
"""


def sh(args, cwd=None):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=120)


class FirmwareCA:
    """A firmware CA of the tests' own and a signer certificate it issued."""

    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.ca = os.path.join(folder, "ca.pem")
        self.signer = os.path.join(folder, "signer.pem")
        self.key = os.path.join(folder, "signer.key")
        ca_key = os.path.join(folder, "ca.key")
        sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out",
            self.ca, "-subj", "/CN=kefu test firmware CA", "-days", "30", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign"])
        csr = os.path.join(folder, "signer.csr")
        sh(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out",
            csr, "-subj", "/CN=kefu test firmware signer"])
        sh(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key,
            "-CAcreateserial", "-out", self.signer, "-days", "30"])

    def sign(self, path):
        """A detached PKCS#7 signature of the file at path, PEM text, as LVFS writes in Jcat."""
        out = path + ".p7"
        sh(["openssl", "cms", "-sign", "-binary", "-md", "sha256", "-in", path, "-signer",
            self.signer, "-inkey", self.key, "-outform", "PEM", "-out", out])
        with open(out) as f:
            text = f.read()
        os.unlink(out)
        return text


def write_jcat(path, items):
    """items: {name: (sha256 hex, PKCS#7 PEM)}; writes a gzip Jcat as jcat-tool does."""
    doc = {"JcatVersionMajor": 0, "JcatVersionMinor": 1, "Items": [
        {"Id": name, "Blobs": [
            {"Kind": 1, "Flags": 1, "Timestamp": 1700000000, "Data": sha},
            {"Kind": 3, "Flags": 1, "Timestamp": 1700000000, "Data": pem},
        ]} for name, (sha, pem) in items.items()]}
    with gzip.open(path, "wb") as f:
        f.write(json.dumps(doc).encode())


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def gcab(cab, files, cwd, zip_=False):
    sh(["gcab", "-n", "-c"] + (["-z"] if zip_ else []) + [cab] + files, cwd=cwd)
    return os.path.join(cwd, cab) if not os.path.isabs(cab) else cab


def signed_cab(ca, folder, version_hex, version, size=None, metainfo=None, guid=FAKE_GUID,
               zip_=False, name="emu.bin"):
    """A cabinet signed by ca: payload (an emulator image of size bytes), metainfo, Jcat."""
    os.makedirs(folder, exist_ok=True)
    payload = os.path.join(folder, name)
    run([FW_EMU, "image", version_hex, str(size or 16), payload]).check_returncode()
    xml = metainfo if metainfo is not None else METAINFO.format(
        guid=guid, version=version, name=name, sha=sha256_file(payload))
    xml_path = os.path.join(folder, "emu.metainfo.xml")
    with open(xml_path, "w") as f:
        f.write(xml)
    write_jcat(os.path.join(folder, "emu.jcat"), {
        name: (sha256_file(payload), ca.sign(payload)),
        "emu.metainfo.xml": (sha256_file(xml_path), ca.sign(xml_path)),
    })
    return gcab("emu-%s.cab" % version, [name, "emu.metainfo.xml", "emu.jcat"], folder, zip_)


def lvfs_cab(fixtures_dir, folder, release, zip_=False, replace=None):
    """A cabinet of the real LVFS fixture files of release ("123" or "124"); replace maps
    a member name to other bytes (tampering)."""
    os.makedirs(folder, exist_ok=True)
    names = ["fakedevice%s.bin" % release, "fakedevice%s.metainfo.xml" % release,
             "fakedevice%s.jcat" % release]
    for name in names:
        target = os.path.join(folder, name)
        if replace and name in replace:
            with open(target, "wb") as f:
                f.write(replace[name])
        else:
            shutil.copyfile(os.path.join(fixtures_dir, "fwupd", name), target)
    return gcab("lvfs%s%s.cab" % (release, "-z" if zip_ else ""), names, folder, zip_)


def write_profile(path, firmware_cas, firmware_publishers=()):
    """A support profile trusting the given firmware CA files (PEM) and firmware package
    publishers ({"name": ..., "public_key": ...} entries as kefu-plugin keygen prints)."""
    folder = os.path.dirname(path)
    support_key = os.path.join(folder, "support.key")
    support = os.path.join(folder, "support.pem")
    if not os.path.exists(support):
        sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", support_key, "-out", support, "-subj", "/CN=support", "-days",
            "30", "-addext", "basicConstraints=critical,CA:TRUE"])
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(folder, "hostkey")])
    with open(os.path.join(folder, "hostkey.pub")) as f:
        host_key = " ".join(f.read().split()[:2])
    with open(support) as f:
        support_pem = f.read()
    cas = []
    for ca in firmware_cas:
        with open(ca) as f:
            cas.append(f.read())
    profile = {"schema": "kefu.profile/1", "organisation": "Example Support",
               "relays": [{"host": "127.0.0.1", "port": 22, "agent_user": "kefu-agent",
                           "technician_user": "kefu-tech", "host_keys": [host_key]}],
               "support_ca": support_pem, "firmware_cas": cas}
    if firmware_publishers:
        profile["firmware_publishers"] = list(firmware_publishers)
    with open(path, "w") as f:
        json.dump(profile, f)
    return path


def make_root(folder, ac_online=True, battery=None, boot_id="11111111-2222-3333-4444-555555555555"):
    """A root prefix with a power supply and a boot id."""
    supplies = os.path.join(folder, "sys", "class", "power_supply")
    shutil.rmtree(supplies, ignore_errors=True)
    ac = os.path.join(supplies, "AC")
    os.makedirs(ac)
    for name, value in (("type", "Mains"), ("online", "1" if ac_online else "0")):
        with open(os.path.join(ac, name), "w") as f:
            f.write(value + "\n")
    if battery is not None:
        bat = os.path.join(supplies, "BAT0")
        os.makedirs(bat)
        for name, value in (("type", "Battery"), ("capacity", str(battery)),
                            ("scope", "System")):
            with open(os.path.join(bat, name), "w") as f:
                f.write(value + "\n")
    set_boot_id(folder, boot_id)
    return folder


def set_boot_id(root, boot_id):
    proc = os.path.join(root, "proc", "sys", "kernel", "random")
    os.makedirs(proc, exist_ok=True)
    with open(os.path.join(proc, "boot_id"), "w") as f:
        f.write(boot_id + "\n")


class FirmwareBench:
    """One emulated device in a short socket folder, a profile, a root and a state folder."""

    def __init__(self, tmp_path, processes, cas, publishers=()):
        self.tmp = str(tmp_path)
        self.processes = processes
        self.devices = tempfile.mkdtemp(prefix="kfw")
        self.device_dir = os.path.join(self.tmp, "device")
        self.root = make_root(os.path.join(self.tmp, "root"))
        self.state = os.path.join(self.tmp, "state")
        self.profile = write_profile(os.path.join(self.tmp, "profile.json"), cas, publishers)
        self.emu = None

    def init_device(self, *args):
        shutil.rmtree(self.device_dir, ignore_errors=True)
        run([FW_EMU, "init", self.device_dir] + list(args)).check_returncode()

    def start_device(self, *args, name="emu0"):
        sock = os.path.join(self.devices, name + ".sock")
        if os.path.exists(sock):
            os.unlink(sock)
        self.emu = self.processes.start([FW_EMU, "serve", self.device_dir, "--socket", sock] +
                                        list(args), stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(sock):
                return self.emu
            time.sleep(0.01)
        raise AssertionError("the emulated device did not start")

    def start_factory_device(self):
        """The emulated device with its factory image (1.2.2), serving."""
        self.init_device("--version", "0x1020002")
        return self.start_device()

    def version(self):
        """The version the (first) device runs, as `firmware list --json` says."""
        result = self.agent("list", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)[0]["version"]

    def stop_device(self):
        if self.emu is not None and self.emu.poll() is None:
            self.emu.terminate()
            self.emu.wait(timeout=5)

    def env(self):
        env = dict(os.environ)
        env["XDG_STATE_HOME"] = self.state
        env["HOME"] = self.tmp
        return env

    def agent(self, *args, **kwargs):
        kwargs.setdefault("env", self.env())
        return run([program("kefu-agentd"), "firmware"] + list(args) +
                   ["--profile", self.profile, "--devices", self.devices, "--root", self.root],
                   **kwargs)

    def boot(self):
        """Powers the device's storage on without serving: which slot boots, and does it verify."""
        result = run([FW_EMU, "boot", self.device_dir])
        return json.loads(result.stdout)

    def slot_b(self):
        with open(os.path.join(self.device_dir, "slot-b"), "rb") as f:
            return f.read()

    def history(self):
        result = self.agent("history", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def audit_events(self):
        path = os.path.join(self.state, "kefu", "audit.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line)["event"] for line in f if line.strip()]

    def cleanup(self):
        self.stop_device()
        shutil.rmtree(self.devices, ignore_errors=True)


class Publisher:
    """A firmware publisher's Ed25519 key made by kefu-plugin keygen."""

    def __init__(self, folder, name="Example Devices"):
        os.makedirs(folder, exist_ok=True)
        self.name = name
        self.key = os.path.join(folder, "publisher.key")
        result = run([program("kefu-plugin"), "keygen", "--out", self.key, name])
        result.check_returncode()
        self.entry = json.loads(result.stdout)


def firmware_package(folder, version_hex, version, publisher=None, size=None, sign=True,
                     claimed_publisher=None, **fields):
    """A kefu firmware package made with kefu-plugin pack --kind firmware: an emulator
    image and firmware.json (fields override or add to the manifest)."""
    src = os.path.join(folder, "src-" + version)
    os.makedirs(src, exist_ok=True)
    run([FW_EMU, "image", version_hex, str(size or 16), os.path.join(src, "emu.bin")]
        ).check_returncode()
    manifest = {"format": 1, "id": "com.example.emu.firmware", "name": "EmuDevice",
                "vendor": "Example",
                "publisher": claimed_publisher or (publisher.name if publisher else
                                                   "Example Devices"), "devices": [FAKE_GUID], "version": version,
                "version_format": "triplet", "image": {"file": "emu.bin"},
                "release_notes": "Release %s." % version}
    manifest.update(fields)
    with open(os.path.join(src, "firmware.json"), "w") as f:
        json.dump(manifest, f)
    out = os.path.join(folder, "emu-%s.kefufw" % version)
    args = [program("kefu-plugin"), "pack", "--kind", "firmware", src, "-o", out]
    if sign and publisher is not None:
        args += ["--key", publisher.key]
    result = run(args)
    assert result.returncode == 0, result.stderr
    return out
