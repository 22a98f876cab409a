# kefu: trees for `kefu-agentd diag --root`: umockdev recordings replayed, and hand-made machines. SPDX-License-Identifier: MIT
#
# A umockdev recording (github.com/martinpitt/umockdev) lists devices as
# paragraphs of P: (sysfs path), E: (uevent property), A: (text attribute),
# H: (binary attribute in hex), L: (symlink), N: (device node), S: (node link).
# replay_umockdev() writes such a recording as the sysfs tree the kernel would
# show: <root>/sys/devices/..., with the /sys/bus/*/devices and /sys/class/*
# links the collectors enumerate.
import json
import os
import re

import pytest

from conftest import SOURCE_DIR, fixture_folder, program, run

BUSES = {"pci", "usb", "serio", "platform", "hid", "i2c", "scsi", "virtio", "pnp", "acpi"}


@pytest.fixture
def umockdev_dir():
    """tests/fixtures/umockdev/, the recordings; a missing folder fails the test."""
    return fixture_folder("umockdev")


def parse_umockdev(text):
    """The devices of a recording: a list of dicts with path, env, attrs, links."""
    devices = []
    current = None
    for line in text.splitlines():
        if not line.strip():
            current = None
            continue
        kind, _, rest = line.partition(": ")
        if kind == "P":
            current = {"path": rest, "env": {}, "attrs": {}, "links": {}}
            devices.append(current)
        elif current is None:
            continue
        elif kind == "E":
            key, _, value = rest.partition("=")
            current["env"][key] = value
        elif kind == "A":
            key, _, value = rest.partition("=")
            current["attrs"][key] = unescape(value).encode()
        elif kind == "H":
            key, _, value = rest.partition("=")
            current["attrs"][key] = bytes.fromhex(value)
        elif kind == "L":
            key, _, value = rest.partition("=")
            current["links"][key] = value
    return devices


def unescape(value):
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append("\n" if value[i + 1] == "n" else value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _link(path, target):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)


def replay_umockdev(recording, root):
    """Writes the recording (a file path) as a sysfs tree under root; returns its devices."""
    with open(recording) as file:
        devices = parse_umockdev(file.read())
    for device in devices:
        directory = os.path.join(root, "sys") + device["path"]
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "uevent"), "w") as file:
            for key, value in device["env"].items():
                file.write("%s=%s\n" % (key, value))
        for name, value in device["attrs"].items():
            path = os.path.join(directory, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as file:
                file.write(value + (b"\n" if not value.endswith(b"\n") else b""))
        for name, target in device["links"].items():
            _link(os.path.join(directory, name), target)
        subsystem = device["env"].get("SUBSYSTEM")
        base = os.path.basename(device["path"])
        if subsystem in BUSES:
            _link(os.path.join(root, "sys", "bus", subsystem, "devices", base),
                  "../../../devices" + device["path"][len("/devices"):])
        elif subsystem:
            _link(os.path.join(root, "sys", "class", subsystem, base),
                  "../../devices" + device["path"][len("/devices"):])
    return devices


def write(root, path, content, mode=None):
    """Writes content (str or bytes) at root+path, creating folders."""
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as file:
        file.write(content.encode() if isinstance(content, str) else content)
    if mode is not None:
        os.chmod(full, mode)
    return full


def base_system(root, hostname="testbox"):
    """The files every machine has: os-release, kernel, uptime, cpu, memory, passwd."""
    write(root, "/etc/os-release",
          'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
          'VERSION_ID="12"\nID=debian\n')
    write(root, "/proc/sys/kernel/osrelease", "6.1.0-13-amd64\n")
    write(root, "/proc/sys/kernel/version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)\n")
    write(root, "/proc/sys/kernel/hostname", hostname + "\n")
    write(root, "/proc/uptime", "3600.50 7000.00\n")
    write(root, "/proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\n"
          "model name\t: Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz\ncpu cores\t: 1\n\n")
    write(root, "/proc/meminfo", "MemTotal:        8000000 kB\nMemAvailable:    4000000 kB\n")
    write(root, "/proc/version", "Linux version 6.1.0-13-amd64\n")
    os.makedirs(os.path.join(root, "sys", "module"), exist_ok=True)
    dmi = {"sys_vendor": "LENOVO", "product_name": "20KH006MGE", "board_vendor": "LENOVO",
           "board_name": "20KH006MGE", "bios_vendor": "LENOVO", "bios_version": "N23ET75W (1.50 )",
           "bios_date": "10/13/2020"}
    for name, value in dmi.items():
        write(root, "/sys/class/dmi/id/" + name, value + "\n")


def pci_device(root, slot, vendor, device, cls, driver=None, module=None, module_version=None,
               srcversion=None):
    """A PCI device at /sys/devices/pci0000:00/SLOT with its bus link and driver."""
    path = "/sys/devices/pci0000:00/" + slot
    write(root, path + "/vendor", "0x%s\n" % vendor)
    write(root, path + "/device", "0x%s\n" % device)
    write(root, path + "/subsystem_vendor", "0x17aa\n")
    write(root, path + "/subsystem_device", "0x2258\n")
    write(root, path + "/class", "0x%s\n" % cls)
    write(root, path + "/revision", "0x01\n")
    write(root, path + "/modalias", "pci:v0000%sd0000%ssv000017AAsd00002258bc%ssc%si%s\n" % (
        vendor.upper(), device.upper(), cls[0:2].upper(), cls[2:4].upper(), cls[4:6].upper()))
    _link(os.path.join(root, "sys/bus/pci/devices", slot), "../../../devices/pci0000:00/" + slot)
    if driver:
        _link(os.path.join(root, "sys" + "/devices/pci0000:00/" + slot, "driver"),
              "../../../bus/pci/drivers/" + driver)
        os.makedirs(os.path.join(root, "sys/bus/pci/drivers", driver), exist_ok=True)
        if module:
            _link(os.path.join(root, "sys/bus/pci/drivers", driver, "module"),
                  "../../../../module/" + module)
            if module_version:
                write(root, "/sys/module/%s/version" % module, module_version + "\n")
            if srcversion:
                write(root, "/sys/module/%s/srcversion" % module, srcversion + "\n")
    return path


# The kernel log of status_machine(): a missing firmware file, a failed probe, USB and disk errors.
STATUS_MACHINE_LOG = [
    "[    0.000000] Linux version 6.1.0-13-amd64",
    "[    2.103000] iwlwifi 0000:00:14.3: Direct firmware load for "
    "iwlwifi-9000-pu-b0-jf-b0-46.ucode failed with error -2",
    "[    2.104000] iwlwifi 0000:00:14.3: no suitable firmware found!",
    "[    2.300000] snd_hda_intel: probe of 0000:00:1f.3 failed with error -22",
    "[    3.000000] amdgpu 0000:02:00.0: Direct firmware load for amdgpu/polaris12_k_smc.bin "
    "failed with error -2",
    "[   90.000000] usb 1-2: device descriptor read/64, error -71",
    "[   91.000000] usb 1-2: device descriptor read/64, error -71",
    "[  120.000000] blk_update_request: I/O error, dev sda, sector 123456 op 0x0:(READ)",
    "[   5.000000] Bluetooth: hci0: Direct firmware load for intel/ibt-17-16-1.sfi failed "
    "with error -2",
    "[  121.000000] Buffer I/O error on dev sda1, logical block 15432, async page read",
]


def journal_of(log_lines, as_bytes=()):
    """The same kernel messages as `journalctl -k -b -o json` prints them: one JSON object a
    line. Messages whose index is in as_bytes are arrays of byte values, as journald writes a
    MESSAGE that is not UTF-8; a message of another transport and a broken line are mixed in."""
    entries = []
    for index, line in enumerate(log_lines):
        stamp, _, message = line.partition("] ")
        seconds = float(stamp.strip("[ "))
        entry = {"__CURSOR": "s=1;i=%x" % index, "__REALTIME_TIMESTAMP": str(1700000000000000 + index),
                 "__MONOTONIC_TIMESTAMP": str(int(seconds * 1e6) + 7), "_BOOT_ID": "0" * 32,
                 "_TRANSPORT": "kernel", "_SOURCE_MONOTONIC_TIMESTAMP": str(int(seconds * 1e6)),
                 "MESSAGE": list(message.encode()) if index in as_bytes else message}
        entries.append(json.dumps(entry))
        if index == 1:
            entries.append(json.dumps({"_TRANSPORT": "stdout", "MESSAGE":
                                       "usb 9-9: device descriptor read/64, error -71"}))
            entries.append("{not json")
    return "".join(entry + "\n" for entry in entries)


def status_machine(root):
    """A laptop with one device in each driver status; returns {device id: expected status}."""
    base_system(root)
    pci_device(root, "0000:00:00.0", "8086", "5914", "060000")                      # host bridge
    pci_device(root, "0000:00:02.0", "8086", "5917", "030000", "i915", "i915", None,
               "8A1D1B4B0C2E3F4A5B6C7D8")                                           # works
    pci_device(root, "0000:00:14.3", "8086", "9df0", "028000")                      # firmware missing
    pci_device(root, "0000:00:1f.3", "8086", "9d71", "040300")                      # probe failed
    pci_device(root, "0000:01:00.0", "10ec", "525a", "ff0000")                      # no driver
    pci_device(root, "0000:02:00.0", "1002", "6987", "030000", "amdgpu", "amdgpu",
               "3.49.0")                                                            # limited
    pci_device(root, "0000:00:17.0", "8086", "9d03", "010601", "ahci", "ahci", "3.0")  # I/O errors
    # A disk behind the SATA controller.
    disk = "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda"
    write(root, disk + "/size", "1000215216\n")
    write(root, disk + "/removable", "0\n")
    write(root, disk + "/../../model", "Samsung SSD 860\n")
    _link(os.path.join(root, disk.lstrip("/"), "device"), "../../../0:0:0:0")
    _link(os.path.join(root, "sys/block/sda"), "../devices" + disk[len("/sys/devices"):])
    # A USB mouse whose interface has usbhid, and which keeps failing to talk.
    usb = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2"
    for name, value in {"idVendor": "046d", "idProduct": "c077", "bcdDevice": "7200",
                        "bDeviceClass": "00", "bDeviceSubClass": "00", "bDeviceProtocol": "00",
                        "busnum": "1", "devnum": "3", "product": "USB Optical Mouse",
                        "manufacturer": "Logitech"}.items():
        write(root, usb + "/" + name, value + "\n")
    for name, value in {"bInterfaceNumber": "00", "bInterfaceClass": "03",
                        "bInterfaceSubClass": "01", "bInterfaceProtocol": "02",
                        "modalias": "usb:v046DpC077d7200dc00dsc00dp00ic03isc01ip02in00"}.items():
        write(root, usb + "/1-2:1.0/" + name, value + "\n")
    _link(os.path.join(root, "sys" + usb[4:], "1-2:1.0", "driver"),
          "../../../../../../bus/usb/drivers/usbhid")
    _link(os.path.join(root, "sys" + usb[4:], "driver"), "../../../../../bus/usb/drivers/usb")
    _link(os.path.join(root, "sys/bus/usb/devices/1-2"), "../../../devices" + usb[len("/sys/devices"):])
    _link(os.path.join(root, "sys/bus/usb/devices/1-2:1.0"),
          "../../../devices" + usb[len("/sys/devices"):] + "/1-2:1.0")
    # A webcam whose video interface has uvcvideo and whose audio interface has no driver.
    cam = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-3"
    for name, value in {"idVendor": "04f2", "idProduct": "b604", "bcdDevice": "0027",
                        "bDeviceClass": "ef", "bDeviceSubClass": "02", "bDeviceProtocol": "01",
                        "busnum": "1", "devnum": "4"}.items():
        write(root, cam + "/" + name, value + "\n")
    for interface, cls, driver in (("1-3:1.0", "0e", "uvcvideo"), ("1-3:1.2", "01", None)):
        for name, value in {"bInterfaceNumber": interface[-1].zfill(2), "bInterfaceClass": cls,
                            "bInterfaceSubClass": "01", "bInterfaceProtocol": "00"}.items():
            write(root, cam + "/" + interface + "/" + name, value + "\n")
        if driver:
            _link(os.path.join(root, "sys" + cam[4:], interface, "driver"),
                  "../../../../../../bus/usb/drivers/" + driver)
        _link(os.path.join(root, "sys/bus/usb/devices", interface),
              "../../../devices" + cam[len("/sys/devices"):] + "/" + interface)
    _link(os.path.join(root, "sys/bus/usb/devices/1-3"), "../../../devices" + cam[len("/sys/devices"):])
    # The root hub above them, whose interface is "1-0:1.0" and has the hub driver.
    hub = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
    for name, value in {"idVendor": "1d6b", "idProduct": "0002", "bcdDevice": "0601",
                        "bDeviceClass": "09", "bDeviceSubClass": "00", "bDeviceProtocol": "01",
                        "busnum": "1", "devnum": "1"}.items():
        write(root, hub + "/" + name, value + "\n")
    write(root, hub + "/1-0:1.0/bInterfaceClass", "09\n")
    _link(os.path.join(root, "sys" + hub[4:], "1-0:1.0", "driver"), "../../../../../bus/usb/drivers/hub")
    _link(os.path.join(root, "sys/bus/usb/devices/usb1"), "../../../devices" + hub[len("/sys/devices"):])
    _link(os.path.join(root, "sys/bus/usb/devices/1-0:1.0"),
          "../../../devices" + hub[len("/sys/devices"):] + "/1-0:1.0")
    write(root, "/var/log/dmesg", "".join(line + "\n" for line in STATUS_MACHINE_LOG))
    write(root, "/proc/modules",
          "i915 3096576 12 - Live 0x0000000000000000\n"
          "amdgpu 9474048 0 - Live 0x0000000000000000\n"
          "ahci 49152 2 - Live 0x0000000000000000\n"
          "snd_hda_codec 184320 2 snd_hda_codec_hdmi,snd_hda_intel, Live 0x0000000000000000\n")
    return {
        "pci:0000:00:00.0": "detected",
        "pci:0000:00:02.0": "works",
        "pci:0000:00:14.3": "failed",
        "pci:0000:00:1f.3": "failed",
        "pci:0000:01:00.0": "detected",
        "pci:0000:02:00.0": "limited",
        "pci:0000:00:17.0": "malfunction",
        "usb:1-2": "malfunction",
        "usb:1-3": "limited",
        "usb:usb1": "works",
    }


def diag_json(root, *extra, timeout=60, **kwargs):
    """Runs `kefu-agentd diag --root ROOT --json`; returns (CompletedProcess, report or None)."""
    result = run([program("kefu-agentd"), "diag", "--root", root, "--json"] + list(extra),
                 timeout=timeout, **kwargs)
    report = json.loads(result.stdout) if result.returncode == 0 and result.stdout else None
    return result, report


def validate(report):
    """Checks the report against proto/diag/report.schema.json (Debian's python3-jsonschema)."""
    import jsonschema
    with open(os.path.join(SOURCE_DIR, "proto", "diag", "report.schema.json")) as file:
        schema = json.load(file)
    jsonschema.validate(report, schema, cls=jsonschema.Draft202012Validator)


def devices_by_id(report):
    return {device["id"]: device for device in report["devices"]}


# ---- a machine of real size: hundreds of modules, dozens of PCI devices, a long kernel log ----

MODULE_STEMS = ["snd_hda_codec", "i915", "drm_kms_helper", "iwlmvm", "btusb", "uvcvideo",
                "nvme_core", "xhci_pci", "e1000e", "thinkpad_acpi", "intel_rapl", "kvm_intel",
                "cfg80211", "mac80211", "videobuf2_vmalloc", "hid_multitouch", "usbhid",
                "ext4", "crc32c_intel", "aesni_intel", "nf_conntrack", "bridge", "overlay"]


def module_name(i):
    return "%s_%d" % (MODULE_STEMS[i % len(MODULE_STEMS)], i)


def desktop_machine(root, modules=400, pci=40, log_lines=20000):
    """A busy desktop: modules loaded (with /sys/module entries), PCI devices of which every
    tenth lacks its firmware and every tenth fails its probe, and a kernel log of log_lines
    ordinary lines around their errors. Returns {device id: expected status}."""
    base_system(root, hostname="desktop")
    lines = []
    for i in range(modules):
        users = [module_name((i + k) % modules) for k in range(1, 1 + i % 4)]
        lines.append("%s %d %d %s Live 0xffffffffc%07x\n" % (
            module_name(i), 16384 + 512 * i, len(users),
            ",".join(users) + "," if users else "-", 4096 * i))
        write(root, "/sys/module/%s/version" % module_name(i), "%d.%d.%d\n" % (1 + i % 5, i % 11, i % 7))
        write(root, "/sys/module/%s/srcversion" % module_name(i), "%023X\n" % (7919 * i + 1))
    write(root, "/proc/modules", "".join(lines))
    expected, log = {}, []
    for i in range(pci):
        slot = "0000:%02x:%02x.%d" % (1 + i // 64, (i // 8) % 8, i % 8)
        if i % 10 == 3:
            pci_device(root, slot, "8086", "%04x" % (0x2700 + i), "028000")
            log.append("iwlwifi %s: Direct firmware load for iwlwifi-%d-b0-jf-b0-%d.ucode failed "
                       "with error -2" % (slot, 9000 + i, 40 + i % 9))
            expected["pci:" + slot] = "failed"
        elif i % 10 == 7:
            pci_device(root, slot, "8086", "%04x" % (0x2700 + i), "040300")
            log.append("snd_hda_intel: probe of %s failed with error -22" % slot)
            expected["pci:" + slot] = "failed"
        else:
            pci_device(root, slot, "8086", "%04x" % (0x2700 + i), "020000", "e1000e_%d" % i,
                       module_name(i % modules), "3.2.6-k", "%023X" % (104729 * i + 3))
            expected["pci:" + slot] = "works"
    text, problem = [], 0
    for n in range(log_lines):
        if log and n % max(1, log_lines // len(log)) == 0 and problem < len(log):
            text.append("[%6d.%06d] %s" % (n // 100, (n * 7919) % 1000000, log[problem]))
            problem += 1
        text.append("[%6d.%06d] e1000e 0000:01:00.%d eno%d: NIC Link is Up 1000 Mbps Full Duplex, "
                    "Flow Control: Rx/Tx (line %d)" % (n // 100, (n * 104729) % 1000000, n % 8,
                                                       n % 8, n))
    text += ["[%6d.000000] %s" % (log_lines // 100 + 1, line) for line in log[problem:]]
    write(root, "/var/log/dmesg", "\n".join(text) + "\n")
    return expected


@pytest.fixture
def checkout_umockdev_dir():
    """The umockdev recordings kept in the checkout (tests/fixtures/umockdev)."""
    directory = os.path.join(SOURCE_DIR, "tests", "fixtures", "umockdev")
    if not os.path.isdir(directory):
        pytest.skip("tests/fixtures/umockdev is missing from the checkout")
    return directory


def many_users_machine(root, modules=240, users=12):
    """Short-named modules each used by users others, as in a sound or DRM stack: a report
    of many small values (about 5000 at the defaults) in under 64 KiB."""
    base_system(root)
    write(root, "/proc/modules", "".join(
        "snd%d %d %d %s, Live 0x0000000000000000\n" % (
            i, 16384 + 64 * i, users, ",".join("snd%d" % ((i + k) % modules)
                                              for k in range(1, users + 1)))
        for i in range(modules)))
    write(root, "/var/log/dmesg", "[    0.000000] Linux version 6.1.0-13-amd64\n")


# Identifiers planted by privacy_machine(), by class; none may reach a redacted bundle.
PLANTED = {
    "hostname": "kestrel-pc",
    "ipv4_gateway": "192.168.2.1",
    "ipv4_laptop": "192.168.2.37",
    "ipv4_private": "10.44.3.9",
    "ipv4_public": "81.169.145.92",
    "ipv6_global": "2a02:8070:a188:e000::1",
    "ipv6_ula": "fd4c:2a1b:77::9",
    "mac_own": "58:91:cf:6d:2e:a4",
    "mac_peer": "b4:2e:99:0c:7d:15",
    "uri_user": "scanjob",
    "uri_password": "Pr1nt3rPass",
    "smb_password": "SmbSecret42",
    "https_password": "ghp_Xy9wLsecret",
    "log_token": "tok_8e1f6c0ab2",
    "log_password": "Hunter2Again",
    "log_passwd": "Pw0rdInLog",
    "log_secret": "s3cr3tValue",
    "log_api_key": "AKIAZZ4QKEY",
    "email": "kim.berg@mailbox.example.net",
    "cifs_user": "kimberg",
    "cifs_password": "CifsPw77",
    "cifs_credentials": "/etc/samba/kim.cred",
}


def ipv4_hex(address, little_endian=True):
    """The kernel's 8-digit hexadecimal form of an IPv4 address (upper case)."""
    import ipaddress
    packed = ipaddress.IPv4Address(address).packed
    return (packed[::-1] if little_endian else packed).hex().upper()


def ipv6_hex(address):
    """The 32-digit form of /proc/net/ipv6_route."""
    import ipaddress
    return ipaddress.IPv6Address(address).packed.hex()


def privacy_machine(root):
    """status_machine() with every PLANTED value where a real computer keeps it."""
    p = PLANTED
    status_machine(root)
    write(root, "/proc/sys/kernel/hostname", p["hostname"] + "\n")
    net = "/sys/devices/pci0000:00/0000:00:14.3/net/wlp0s20f3"
    write(root, net + "/address", p["mac_own"] + "\n")
    write(root, net + "/operstate", "up\n")
    os.makedirs(os.path.join(root, "sys/class/net"), exist_ok=True)
    _link(os.path.join(root, "sys/class/net/wlp0s20f3"), "../../devices/pci0000:00/0000:00:14.3/net/wlp0s20f3")
    write(root, "/proc/net/route",
          "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
          "wlp0s20f3\t00000000\t%s\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
          "wlp0s20f3\t%s\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n"
          "wlp0s20f3\t%s\t00000000\t0001\t0\t0\t600\tFFFFFFFF\t0\t0\t0\n" % (
              ipv4_hex(p["ipv4_gateway"]), ipv4_hex("192.168.2.0"), ipv4_hex(p["ipv4_public"])))
    write(root, "/proc/net/ipv6_route",
          "%s 40 %s 00 %s 00000100 00000001 00000000 00000001 wlp0s20f3\n"
          "%s 00 %s 00 %s 00000400 00000001 00000000 00000003 wlp0s20f3\n" % (
              ipv6_hex("2a02:8070:a188:e000::"), "0" * 32, "0" * 32,
              "0" * 32, "0" * 32, ipv6_hex(p["ipv6_global"])))
    write(root, "/etc/resolv.conf", "nameserver %s\nnameserver %s\nnameserver %s\n" % (
        p["ipv4_gateway"], p["ipv6_ula"], p["ipv4_public"]))
    write(root, "/etc/cups/printers.conf",
          "<Printer Office_%s>\nInfo Printer of %s-laptop.local\n"
          "DeviceURI ipp://%s:%s@%s:631/ipp/print\nState Idle\n</Printer>\n"
          "<Printer Share>\nDeviceURI smb://WORKGROUP;%s:%s@nas/printer\nState Idle\n</Printer>\n" % (
              p["hostname"], p["hostname"].upper(), p["uri_user"], p["uri_password"],
              p["ipv4_laptop"], p["uri_user"], p["smb_password"]))
    write(root, "/proc/mounts",
          "/dev/sda1 / ext4 rw,relatime 0 0\n"
          "//nas/home /mnt/home cifs rw,relatime,vers=3.0,username=%s,uid=1000,addr=%s 0 0\n" % (
              p["cifs_user"], p["ipv4_private"]))
    write(root, "/etc/fstab",
          "UUID=0b5c1e34-2f7d-4a1e-9c3b-8d2e6f1a7c90 / ext4 defaults 0 1\n"
          "//nas/home /mnt/home cifs username=%s,password=%s,uid=1000 0 0\n"
          "//nas/media /mnt/media cifs credentials=%s,user=%s 0 0\n" % (
              p["cifs_user"], p["cifs_password"], p["cifs_credentials"], p["cifs_user"]))
    mac_field = p["mac_peer"] + ":" + p["mac_own"] + ":08:00"
    with open(os.path.join(root, "var/log/dmesg"), "a") as log:
        log.write("[  300.000000] [UFW BLOCK] IN=wlp0s20f3 OUT= MAC=%s SRC=%s DST=%s LEN=60\n"
                  % (mac_field, p["ipv4_public"], p["ipv4_laptop"]))
        log.write("[  301.000000] IPv6: wlp0s20f3: address %s via %s\n"
                  % (p["ipv6_global"].upper(), ipv4_hex(p["ipv4_gateway"])))
        log.write("[  302.000000] usbip: fetch https://deploy:%s@git.example.com/x failed\n"
                  % p["https_password"])
        log.write("[  303.000000] agent: token=%s password: %s passwd=%s secret=%s "
                  "api_key: %s\n" % (p["log_token"], p["log_password"], p["log_passwd"],
                                     p["log_secret"], p["log_api_key"]))
        log.write("[  304.000000] mail: report sent to <%s> by %s\n" % (p["email"], p["cifs_user"]))
        log.write("[  305.000000] net %s peer %s host %s\n" % (
            p["mac_own"].upper().replace(":", ""), p["mac_peer"].replace(":", "-"),
            p["hostname"].upper()))


def spellings(kind, value):
    """Every way the value might be written: as it is, upper and lower case, and for
    addresses the kernel's hexadecimal forms and the forms with other or no separators."""
    import ipaddress
    forms = {value}
    if kind.startswith("ipv4"):
        forms |= {ipv4_hex(value), ipv4_hex(value, False)}
    elif kind.startswith("ipv6"):
        address = ipaddress.IPv6Address(value)
        forms |= {ipv6_hex(value), address.exploded, address.compressed}
    elif kind.startswith("mac"):
        forms |= {value.replace(":", "-"), value.replace(":", ""),
                  value.replace(":", "")[6:], ":".join(value.split(":")[3:])}
    elif kind == "hostname":
        forms |= {value.replace("-", "_"), value.split("-")[0] + value.split("-")[1]}
    return {f for form in forms for f in (form, form.upper(), form.lower())}


def check_recorded_devices(recorded, report):
    """Checks that every PCI, USB and input device of a umockdev recording is in the report
    with its IDs, driver, modalias and sysfs path; returns how many were checked."""
    devices = devices_by_id(report)
    checked = 0
    for device in recorded:
        env, attrs, base = device["env"], device["attrs"], os.path.basename(device["path"])
        if env.get("SUBSYSTEM") == "pci":
            got = devices["pci:" + base]
            vendor, product = env["PCI_ID"].lower().split(":")
            assert (got["vendor_id"], got["product_id"]) == (vendor, product)
            assert got["driver"] == env["DRIVER"]
            assert got["modalias"] == env["MODALIAS"]
            checked += 1
        elif env.get("DEVTYPE") == "usb_device":
            got = devices["usb:" + base]
            assert got["vendor_id"] == attrs["idVendor"].decode().strip()
            assert got["product_id"] == attrs["idProduct"].decode().strip()
            interfaces = [d for d in recorded if d["env"].get("DEVTYPE") == "usb_interface"
                          and os.path.dirname(d["path"]) == device["path"]]
            # The driver a user means is the interface's (usbhid); without recorded
            # interfaces it is the device-level driver.
            expected = interfaces[0]["env"]["DRIVER"] if interfaces else env["DRIVER"]
            assert got["driver"] == expected
            assert got["sysfs_path"] == "/sys" + device["path"]
            checked += 1
        elif env.get("SUBSYSTEM") == "input" and "MODALIAS" in env:
            parent = [d for d in recorded if d["path"] == os.path.normpath(
                os.path.join(device["path"], device["links"]["device"]))]
            if parent and not any(p in device["path"] for p in ("/usb", "0000:")):
                got = devices["input:" + os.path.basename(parent[0]["path"])]
                assert got["driver"] == os.path.basename(parent[0]["links"]["driver"])
                match = re.search(r"v([0-9A-F]{4})p([0-9A-F]{4})", env["MODALIAS"])
                assert (got["vendor_id"], got["product_id"]) == (
                    match.group(1).lower(), match.group(2).lower())
                checked += 1
    assert checked > 0
    return checked
