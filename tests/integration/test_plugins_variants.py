# kefu: fault variants for the shipped plugins, each written from the rule of the man page of
# the configuration the plugin reads: detected, repaired by `scan --fix --yes`, then checked
# by this file's own reading of the result (never the plugin's verify). SPDX-License-Identifier: MIT
import fnmatch
import os
import re

import pytest

from plugin_trees import (CHRONY_UNIT, base_tree, link, report, scan, states, usb_node,
                          write)


def need_root():
    if os.geteuid() != 0:
        pytest.skip("needs root (device nodes, root steps)")


def fix(tmp_path, root, plugin, **devices):
    rep = report(tmp_path, **devices)
    _, out = scan(root, rep)
    assert states(out, plugin) == ["problem"], out
    _, out = scan(root, rep, "--fix", "--yes")
    assert states(out, plugin) == ["fixed"], out
    return out


# --- name-resolution-config: nsswitch.conf(5) and glibc's nss_database.c -------------------

def hosts_reach_dns(text):
    """Independent reading: the last hosts line (glibc: a later line replaces an earlier
    one) reaches dns/resolve for a name files does not know (files says NOTFOUND)."""
    value = None
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        m = re.match(r"\s*hosts[\s:]+(.*)$", line)
        if m:
            value = m.group(1)
    if value is None:
        return True  # glibc's default: dns [!UNAVAIL=return] files
    words = re.findall(r"\[[^\]]*\]|[^\s\[]+", value)
    for w in words:
        if w in ("dns", "resolve"):
            return True
        if w.startswith("["):
            for neg, status, action in re.findall(r"(!?)\s*(\w+)\s*=\s*(\w+)", w[1:-1]):
                hit = (status.lower() == "notfound") != bool(neg)
                if hit and action.lower() == "return" and not prev.startswith("mdns"):
                    return False
        else:
            prev = w
    return False


NSS_VARIANTS = [
    # "[NOTFOUND=return]": the lookup stops when the preceding source says NOTFOUND
    "hosts: files [NOTFOUND=return] dns myhostname",
    # "The ! negates the test, matching all possible results except the one specified"
    "hosts: files [!UNAVAIL=return] dns",
    # "The case of the keywords is not significant"
    "hosts: files [notfound=RETURN] dns",
    # a database named twice: the last line counts (each line replaces the entry)
    "hosts: files dns\nhosts: files myhostname",
    # an empty source list: nothing is asked
    "hosts:",
    # a comment is not a source
    "hosts: files myhostname # dns",
    # the colon is optional: the name ends at a blank
    "hosts files mymachines",
]


@pytest.mark.parametrize("hosts", NSS_VARIANTS)
def test_nsswitch_variant_is_found_fixed_and_reaches_dns(tmp_path, hosts):
    need_root()
    root = base_tree(tmp_path)
    write(root, "/etc/nsswitch.conf", "passwd: files\n" + hosts + "\nnetworks: files\n")
    assert not hosts_reach_dns(open(os.path.join(root, "etc/nsswitch.conf")).read())
    fix(tmp_path, root, "name-resolution-config")
    text = open(os.path.join(root, "etc/nsswitch.conf")).read()
    assert hosts_reach_dns(text), text
    assert "passwd: files\n" in text and "networks: files\n" in text


# --- driver-blacklisted: modprobe.d(5) ------------------------------------------------------

MODPROBE_DIRS = ("etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d",
                 "lib/modprobe.d", "usr/lib/modprobe.d")


def iwlwifi_blocked(root, module="iwlwifi"):
    """Independent reading: the first folder's file of each name, '\\' continuations joined,
    '#' lines skipped; blacklist or install with /bin/false|true for iwlwifi (- same as _)."""
    chosen = {}
    for d in MODPROBE_DIRS:
        full = os.path.join(root, d)
        if os.path.isdir(full):
            for name in os.listdir(full):
                if name.endswith(".conf") and name not in chosen:
                    chosen[name] = os.path.join(full, name)
    for name in sorted(chosen):
        path = chosen[name]
        if os.path.islink(path) and os.readlink(path) == "/dev/null":
            continue
        text = open(path).read().replace("\\\n", "")
        for line in text.splitlines():
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            mod = words[1].replace("-", "_") if len(words) > 1 else ""
            if words[0] == "blacklist" and mod == module:
                return True
            if words[0] == "install" and mod == module and len(words) == 3 and \
                    os.path.basename(words[2]) in ("false", "true"):
                return True
    return False


DRIVER_VARIANTS = [
    # "words are split on blanks": a trailing comment does not hide the command
    ("etc/modprobe.d/local.conf", "blacklist iwlwifi   # too flaky\n"),
    # "install modulename command...": the command runs instead of loading the module
    ("etc/modprobe.d/no-wifi.conf", "install iwlwifi /bin/false\n"),
    ("etc/modprobe.d/no-wifi.conf", "install iwlwifi /usr/bin/true\n"),
    # runtime configuration in /run/modprobe.d
    ("run/modprobe.d/tmp.conf", "blacklist iwlwifi\n"),
    # a package's file in /usr/lib/modprobe.d (edited through an /etc override)
    ("usr/lib/modprobe.d/vendor.conf", "options snd_hda_intel power_save=1\nblacklist iwlwifi\n"),
    # "- or _ ... are interchangeable" (and a continued line)
    ("etc/modprobe.d/x.conf", "blacklist \\\n  rtw88-8822be\n"),
]


@pytest.mark.parametrize("path,text", DRIVER_VARIANTS)
def test_driver_variant_is_found_fixed_and_no_longer_blocked(tmp_path, path, text):
    need_root()
    root = base_tree(tmp_path)
    os.makedirs(os.path.join(root, "run/modprobe.d"), exist_ok=True)
    module = "rtw88_8822be" if "rtw88" in text else "iwlwifi"
    if module != "iwlwifi":  # the kernel names its modules with '_'
        write(root, "/usr/lib/modules/6.1.0-13-amd64/modules.alias",
              "alias pci:v00008086d00002723sv*sd*bc*sc*i* rtw88_8822be\n")
    write(root, path, text)
    assert iwlwifi_blocked(root, module)
    fix(tmp_path, root, "driver-blacklisted", pci=True)
    assert not iwlwifi_blocked(root, module)
    if path.startswith("usr/"):  # the package's file is untouched, overridden from /etc
        assert open(os.path.join(root, path)).read() == text
        assert "options snd_hda_intel power_save=1" in open(
            os.path.join(root, "etc/modprobe.d", os.path.basename(path))).read()


def test_driver_overridden_package_blacklist_is_not_a_problem(tmp_path):
    need_root()
    root = base_tree(tmp_path)
    # "same name in /etc overrides": the package's blacklist is never read
    write(root, "/usr/lib/modprobe.d/vendor.conf", "blacklist iwlwifi\n")
    write(root, "/etc/modprobe.d/vendor.conf", "# kept empty on purpose\n")
    _, out = scan(root, report(tmp_path, pci=True), "--fix", "--yes")
    assert states(out, "driver-blacklisted") == ["healthy"]


# --- device-permission: udev(7) -------------------------------------------------------------

RULE_DIRS = ("etc/udev/rules.d", "run/udev/rules.d", "usr/lib/udev/rules.d")


def uaccess_in_time(root):
    """Independent reading: some rule file for 04b8:0142 adds uaccess, sorts before
    73-seat-late.rules, and no rule file read later (up to 73) removes the tag."""
    files = {}
    for d in RULE_DIRS:
        full = os.path.join(root, d)
        for name in (os.listdir(full) if os.path.isdir(full) else []):
            files.setdefault(name, os.path.join(full, name))
    added = None
    for name in sorted(files):
        if name >= "73-seat-late.rules":
            break
        text = open(files[name]).read() if not os.path.islink(files[name]) else ""
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue
            if 'idVendor}=="04b8"' in line and 'idProduct}=="0142"' in line and \
                    'TAG+="uaccess"' in line:
                added = name
            if added and ('TAG-="uaccess"' in line or re.search(r'TAG:?="', line)):
                added = None
    return added is not None


DEVICE_VARIANTS = [
    # no rule at all
    {},
    # uaccess set in a file read after 73-seat-late.rules: too late for the builtin
    {"etc/udev/rules.d/99-scanner.rules":
     'SUBSYSTEM=="usb", ATTR{idVendor}=="04b8", ATTR{idProduct}=="0142", TAG+="uaccess"\n'},
    # "-=" removes a value from a list: a later rule takes the tag away
    {"etc/udev/rules.d/60-scanner.rules":
     'SUBSYSTEM=="usb", ATTR{idVendor}=="04b8", ATTR{idProduct}=="0142", TAG+="uaccess"\n',
     "etc/udev/rules.d/65-lockdown.rules": 'SUBSYSTEM=="usb", TAG-="uaccess"\n'},
    # a rule whose match keys do not all match (another subsystem)
    {"etc/udev/rules.d/60-scanner.rules":
     'SUBSYSTEM=="tty", ATTRS{idVendor}=="04b8", TAG+="uaccess"\n'},
    # same name in /etc hides the package's rule file; a link to /dev/null disables it
    {"usr/lib/udev/rules.d/60-libsane.rules":
     'ATTRS{idVendor}=="04b8", ATTRS{idProduct}=="0142", TAG+="uaccess"\n',
     "etc/udev/rules.d/60-libsane.rules": "/dev/null"},
    # a commented-out rule is not a rule
    {"etc/udev/rules.d/60-scanner.rules":
     '# SUBSYSTEM=="usb", ATTR{idVendor}=="04b8", ATTR{idProduct}=="0142", TAG+="uaccess"\n'},
]


@pytest.mark.parametrize("files", DEVICE_VARIANTS)
def test_device_variant_is_found_fixed_and_uaccess_applies(tmp_path, files):
    need_root()
    root = base_tree(tmp_path)
    os.unlink(os.path.join(root, "usr/lib/udev/rules.d/50-udev-default.rules"))
    for path, text in files.items():
        if text == "/dev/null":
            link(root, path, "/dev/null")
        else:
            write(root, path, text)
    usb_node(root, 0o600)
    assert not uaccess_in_time(root)
    fix(tmp_path, root, "device-permission", usb=True)
    assert uaccess_in_time(root)
    for path, text in files.items():  # the customer's own rules are left as they were
        if text != "/dev/null":
            assert open(os.path.join(root, path)).read() == text


# --- clock-unsynced: systemctl(1) enable/mask, systemd.unit(5) --------------------------------

def enabled_in_root(root, unit, target):
    """Independent reading: /etc/systemd/system/TARGET.wants/UNIT is a link whose target,
    taken inside the root, is a unit file there; no /dev/null mask in /etc or /run."""
    for d in ("etc/systemd/system", "run/systemd/system"):
        mask = os.path.join(root, d, unit)
        if os.path.islink(mask) and os.readlink(mask) == "/dev/null":
            return False
    wants = os.path.join(root, "etc/systemd/system", target + ".wants", unit)
    if not os.path.islink(wants):
        return False
    dest = os.readlink(wants)
    dest = os.path.join(root, dest.lstrip("/")) if dest.startswith("/") else \
        os.path.join(os.path.dirname(wants), dest)
    real = os.path.realpath(dest)
    if not real.startswith(os.path.realpath(root)):  # /lib -> usr/lib inside the root
        real = os.path.join(root, os.path.relpath(real, "/"))
    return os.path.isfile(real)


def clock_masked_etc(root):  # "mask ... link these unit files to /dev/null"
    os.unlink(os.path.join(root, "etc/systemd/system/sysinit.target.wants/"
                           "systemd-timesyncd.service"))
    link(root, "/etc/systemd/system/systemd-timesyncd.service", "/dev/null")


def clock_masked_runtime(root):  # "--runtime: ... changes ... in /run"
    link(root, "/run/systemd/system/systemd-timesyncd.service", "/dev/null")


def clock_disabled(root):  # "disable ... remove all symlinks to the unit files"
    os.unlink(os.path.join(root, "etc/systemd/system/sysinit.target.wants/"
                           "systemd-timesyncd.service"))


def clock_link_to_null(root):  # a wants link to /dev/null does not enable anything
    path = "etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service"
    os.unlink(os.path.join(root, path))
    link(root, path, "/dev/null")


def clock_chrony_disabled(root):  # chrony installed instead of timesyncd, but disabled
    clock_disabled(root)
    os.unlink(os.path.join(root, "usr/lib/systemd/system/systemd-timesyncd.service"))
    write(root, "/usr/lib/systemd/system/chrony.service", CHRONY_UNIT)


CLOCK_VARIANTS = [(clock_masked_etc, "systemd-timesyncd.service", "sysinit.target"),
                  (clock_masked_runtime, "systemd-timesyncd.service", "sysinit.target"),
                  (clock_disabled, "systemd-timesyncd.service", "sysinit.target"),
                  (clock_link_to_null, "systemd-timesyncd.service", "sysinit.target"),
                  (clock_chrony_disabled, "chrony.service", "multi-user.target")]


@pytest.mark.parametrize("change,unit,target", CLOCK_VARIANTS)
def test_clock_variant_is_found_fixed_and_enabled_inside_the_root(tmp_path, change, unit,
                                                                   target):
    need_root()
    root = base_tree(tmp_path)
    change(root)
    assert not enabled_in_root(root, unit, target)
    fix(tmp_path, root, "clock-unsynced")
    assert enabled_in_root(root, unit, target)
    if unit == "chrony.service":  # never a second daemon beside the installed one
        assert not os.path.lexists(os.path.join(
            root, "etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service"))


# --- firmware-missing: the kernel's firmware search path (firmware_loader/main.c) -------------

def test_firmware_link_leading_out_of_the_root_is_missing_and_compressed_is_present(tmp_path):
    import json
    import subprocess
    from plugin_trees import PLUGINS
    root = base_tree(tmp_path)
    rep = tmp_path / "fw.json"
    names = ["a.bin", "b.bin", "c.bin", "d.bin", "e.bin", "f.bin"]
    rep.write_text(json.dumps({"devices": [], "kernel_log": {"events": [
        {"kind": "firmware-missing", "detail": n, "driver": "x", "device": "d"}
        for n in names]}}))
    os.makedirs(os.path.join(root, "usr/lib/firmware/updates/" + "6.1.0-13-amd64"))
    write(root, "/usr/lib/firmware/b.bin.zst", "z")  # "compressed: .zst, .xz"
    write(root, "/usr/lib/firmware/updates/6.1.0-13-amd64/c.bin", "u")  # updates/RELEASE
    link(root, "/usr/lib/firmware/d.bin", "/etc/hostname")  # absolute: inside the root
    link(root, "/usr/lib/firmware/e.bin", "../../../../../../etc/passwd")  # climbs to root
    link(root, "/usr/lib/firmware/f.bin", "nowhere.bin")  # dangling
    os.unlink(os.path.join(root, "etc/passwd"))
    os.unlink(os.path.join(root, "etc/hostname"))
    result = subprocess.run(["/usr/bin/python3", "./firmware.py"], capture_output=True,
                            text=True, cwd=os.path.join(PLUGINS, "firmware-missing"),
                            env={"KEFU_ROOT": root, "KEFU_REPORT": str(rep)})
    missing = sorted(line.split("\t")[0] for line in result.stdout.splitlines())
    # /etc/hostname and /etc/passwd exist on this machine, not in the tree
    assert missing == ["a.bin", "d.bin", "e.bin", "f.bin"], result.stderr


# --- print-queue-stopped: client.conf(5) ------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("ServerName /run/cups/cups.sock\n", "/run/cups/cups.sock"),
    ("servername printhost:631\n", "printhost:631"),  # directive names in any case
    ("#ServerName elsewhere\n", ""),  # a comment
    ("ServerName a\nServerName b\n", "b"),  # the last one counts
    ("Encryption Never\n", ""),
])
def test_cups_client_conf_is_read_as_cups_reads_it(tmp_path, text, expected):
    import subprocess
    from plugin_trees import PLUGINS
    root = str(tmp_path / "root")
    write(root, "/etc/cups/client.conf", text)
    result = subprocess.run(["/usr/bin/python3", "./client-conf.py"], capture_output=True,
                            text=True, cwd=os.path.join(PLUGINS, "print-queue-stopped"),
                            env={"KEFU_ROOT": root})
    assert result.stdout.strip() == expected


def test_cups_client_conf_linked_out_of_the_root_is_read_inside_it(tmp_path):
    import subprocess
    from plugin_trees import PLUGINS
    root = str(tmp_path / "root")
    write(root, "/srv/client.conf", "ServerName /srv/cups.sock\n")
    link(root, "/etc/cups/client.conf", "/srv/client.conf")  # absolute, as if chrooted
    result = subprocess.run(["/usr/bin/python3", "./client-conf.py"], capture_output=True,
                            text=True, cwd=os.path.join(PLUGINS, "print-queue-stopped"),
                            env={"KEFU_ROOT": root})
    assert result.stdout.strip() == "/srv/cups.sock"
    assert fnmatch.fnmatch(result.stdout, "*cups.sock*")
