# kefu: builders of Debian-12-like system trees and a scan runner for the plugin variant and
# healthy-tree tests. SPDX-License-Identifier: MIT
import hashlib
import json
import os
import stat

from conftest import SOURCE_DIR, program, run

PLUGINS = os.path.join(SOURCE_DIR, "diag-plugins")
MODALIAS = "pci:v00008086d00002723sv00008086sd00000084bc02sc80i00"
KERNEL = "6.1.0-13-amd64"

TIMESYNCD_UNIT = "[Unit]\nDescription=Network Time Synchronization\n\n[Service]\n" \
    "ExecStart=!!/lib/systemd/systemd-timesyncd\n\n[Install]\nWantedBy=sysinit.target\n"
CHRONY_UNIT = "[Unit]\nDescription=chrony, an NTP client/server\nConflicts=" \
    "systemd-timesyncd.service openntpd.service ntp.service ntpsec.service\n\n[Service]\n" \
    "ExecStart=/usr/sbin/chronyd $DAEMON_OPTS\n\n[Install]\nAlias=chronyd.service\n" \
    "WantedBy=multi-user.target\n"
SEAT_LATE = 'TAG=="uaccess", ENV{MAJOR}!="", RUN{builtin}+="uaccess"\n'


def write(root, path, text, mode=0o644):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)
    os.chmod(full, mode)
    return full


def link(root, path, target):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    os.symlink(target, full)


def base_tree(tmp_path, name="root"):
    """A merged-/usr Debian 12 skeleton: the C library and NSS modules present, systemd's
    units and udev rules, a kernel's modules.alias, timesyncd enabled with absolute links."""
    os.chmod(str(tmp_path), 0o755)
    root = str(tmp_path / name)
    for d in ("usr/lib/x86_64-linux-gnu", "usr/bin", "usr/sbin", "etc/modprobe.d",
              "etc/udev/rules.d", "var/cache/apt/archives/partial", "var/log/journal",
              "home", "root", "dev/bus/usb/001", "run"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for d in ("lib", "bin", "sbin", "lib64"):
        os.symlink("usr/" + d, os.path.join(root, d))
    os.makedirs(os.path.join(root, "usr/lib64"), exist_ok=True)
    for lib in ("libc.so.6", "libnss_files.so.2", "libnss_dns.so.2", "libnss_myhostname.so.2",
                "libnss_mdns4_minimal.so.2"):
        write(root, "/usr/lib/x86_64-linux-gnu/" + lib, "ELF")
    write(root, "/etc/nsswitch.conf",
          "# /etc/nsswitch.conf\npasswd:         files\ngroup:          files\n"
          "shadow:         files\n\nhosts:          files mdns4_minimal [NOTFOUND=return] "
          "dns myhostname\nnetworks:       files\n")
    write(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
          "ana:x:1000:1000:Ana,,,:/home/ana:/bin/bash\n")
    write(root, "/etc/group", "root:x:0:\nplugdev:x:46:ana\nana:x:1000:\n")
    write(root, "/usr/lib/modules/%s/modules.alias" % KERNEL,
          "alias pci:v00008086d00002723sv*sd*bc*sc*i* iwlwifi\n")
    write(root, "/usr/lib/modules/%s/modules.dep" % KERNEL,
          "kernel/drivers/net/wireless/intel/iwlwifi/iwlwifi.ko.xz: kernel/net/wireless/"
          "cfg80211.ko.xz\n")
    write(root, "/usr/lib/modprobe.d/systemd.conf", "options bonding max_bonds=0\n"
          "options dummy numdummies=0\n")
    write(root, "/usr/lib/udev/rules.d/50-udev-default.rules",
          'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", MODE="0664"\n')
    write(root, "/usr/lib/udev/rules.d/73-seat-late.rules", SEAT_LATE)
    write(root, "/usr/lib/systemd/system/systemd-timesyncd.service", TIMESYNCD_UNIT)
    link(root, "/etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service",
         "/lib/systemd/system/systemd-timesyncd.service")
    write(root, "/etc/systemd/timesyncd.conf", "[Time]\nNTP=127.0.0.1\n")
    return root


def usb_node(root, mode=0o600, bus=1, dev=4):
    node = os.path.join(root, "dev/bus/usb/%03d/%03d" % (bus, dev))
    os.makedirs(os.path.dirname(node), exist_ok=True)
    if os.path.lexists(node):
        os.unlink(node)
    os.mknod(node, stat.S_IFCHR | mode, os.makedev(189, 3))
    os.chmod(node, mode)
    return node


def report(tmp_path, usb=False, pci=False):
    devices = [{"id": "usb:usb1", "bus": "usb", "vendor_id": "1d6b", "product_id": "0002",
                "class": "090000", "name": "2.0 root hub", "driver": "hub", "busnum": 1,
                "devnum": 1, "status": "works"}]
    if usb:
        devices.append({"id": "usb:1-4", "bus": "usb", "vendor_id": "04b8",
                        "product_id": "0142", "class": "000000", "name": "GT-F730 scanner",
                        "driver": None, "busnum": 1, "devnum": 4, "status": "detected"})
    if pci:
        devices.append({"id": "pci-0000:00:14.3", "bus": "pci", "vendor_id": "8086",
                        "product_id": "2723", "modalias": MODALIAS, "driver": None,
                        "module": None, "status": "detected", "evidence": []})
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"system": {"os": {"id": "debian", "version_id": "12"}},
                                "devices": devices, "problems": []}))
    return str(path)


def scan(root, report_path, *extra):
    env = dict(os.environ, XDG_STATE_HOME=os.path.join(os.path.dirname(root), "state"))
    result = run([program("kefu-agentd"), "scan", "--json", "--root", root, "--report",
                  report_path, "--plugins", PLUGINS, *extra], env=env, timeout=300)
    return result, json.loads(result.stdout)


def states(out, plugin=None):
    return [c["state"] for c in out["checks"] if plugin is None or c["plugin"] == plugin]


def listing(root):
    """Every entry under ROOT with its type, mode, owner, and content hash or link target."""
    out = []
    for d, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = os.path.join(d, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                what = "-> " + os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                what = hashlib.sha256(open(path, "rb").read()).hexdigest()
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                what = "dev %d" % st.st_rdev
            else:
                what = ""
            out.append((os.path.relpath(path, root), stat.filemode(st.st_mode), st.st_uid,
                        st.st_gid, what))
    return sorted(out)
