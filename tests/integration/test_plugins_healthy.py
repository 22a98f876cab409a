# kefu: `scan --fix --yes` on healthy trees with unusual but valid configuration finds no
# problem and changes nothing (every entry's content, mode, owner and link target compared).
# SPDX-License-Identifier: MIT
import os

import pytest

from plugin_trees import (CHRONY_UNIT, base_tree, link, listing, report, scan, states,
                          usb_node, write)


def chrony_instead_of_timesyncd(root):
    # Debian's chrony replaces systemd-timesyncd; `systemctl enable` wrote absolute links.
    os.unlink(os.path.join(root, "etc/systemd/system/sysinit.target.wants/"
                           "systemd-timesyncd.service"))
    os.unlink(os.path.join(root, "usr/lib/systemd/system/systemd-timesyncd.service"))
    write(root, "/usr/lib/systemd/system/chrony.service", CHRONY_UNIT)
    link(root, "/etc/systemd/system/multi-user.target.wants/chrony.service",
         "/lib/systemd/system/chrony.service")
    link(root, "/etc/systemd/system/chronyd.service", "/lib/systemd/system/chrony.service")
    write(root, "/usr/sbin/chronyd", "ELF", 0o755)


def resolved_and_machines(root):
    # systemd-resolved with nss-resolve and nss-mymachines, NetworkManager absent.
    for lib in ("libnss_resolve.so.2", "libnss_mymachines.so.2"):
        write(root, "/usr/lib/x86_64-linux-gnu/" + lib, "ELF")
    write(root, "/etc/nsswitch.conf",
          "passwd:         files systemd\ngroup:          files systemd\n"
          "hosts:          files mymachines resolve [!UNAVAIL=return] dns myhostname\n"
          "# hosts: files\n")
    write(root, "/usr/lib/systemd/system/systemd-resolved.service",
          "[Unit]\nDescription=Resolver\n\n[Install]\nWantedBy=multi-user.target\n")
    link(root, "/etc/systemd/system/multi-user.target.wants/systemd-resolved.service",
         "/lib/systemd/system/systemd-resolved.service")
    os.unlink(os.path.join(root, "etc/resolv.conf"))
    link(root, "/etc/resolv.conf", "../run/systemd/resolve/stub-resolv.conf")


def modprobe_options(root):
    # options files, a comment, a continuation, a blacklist of another driver, and an
    # install command for iwlwifi that does load it.
    write(root, "/etc/modprobe.d/iwlwifi.conf",
          "# power saving off for this card\noptions iwlwifi power_save=0 \\\n  11n_disable=8\n"
          "install iwlwifi /sbin/modprobe --ignore-install iwlwifi $CMDLINE_OPTS\n")
    write(root, "/etc/modprobe.d/blacklist-pcspkr.conf", "blacklist pcspkr\n")
    write(root, "/usr/lib/modprobe.d/iwlwifi-ish.conf", "# blacklist iwlwifi\n")
    link(root, "/etc/modprobe.d/old.conf", "/dev/null")


def udev_uaccess(root):
    # a scanner rule with uaccess read before 73-seat-late.rules; a later MODE does not
    # take the ACL away; the node's own mode is the rules' 0664.
    write(root, "/usr/lib/udev/rules.d/60-libsane1.rules",
          'ACTION!="add", GOTO="libsane_end"\nSUBSYSTEM!="usb", GOTO="libsane_end"\n'
          'ATTRS{idVendor}=="04b8", ATTRS{idProduct}=="0142", ENV{libsane_matched}="yes"\n'
          'ENV{libsane_matched}=="yes", TAG+="uaccess", \\\n    GROUP="scanner"\n'
          'LABEL="libsane_end"\n')
    write(root, "/etc/udev/rules.d/99-local.rules", 'SUBSYSTEM=="usb", MODE="0660"\n')
    usb_node(root, 0o660)


def disk_with_caches(root):
    # package files and thumbnails exist, but the disk is not full: nothing is removed.
    write(root, "/var/cache/apt/archives/bash_5.2.15-2+b2_amd64.deb", "deb" * 100)
    write(root, "/home/ana/.cache/thumbnails/normal/0a1b.png", "png")
    write(root, "/home/ana/.local/share/Trash/files/old.odt", "odt")
    write(root, "/var/log/journal/0123/system@00061-0001.journal", "journal")


TREES = {
    "chrony": [chrony_instead_of_timesyncd],
    "resolved": [resolved_and_machines, modprobe_options],
    "udev": [udev_uaccess, disk_with_caches],
    "everything": [chrony_instead_of_timesyncd, resolved_and_machines, modprobe_options,
                   udev_uaccess, disk_with_caches],
}


@pytest.mark.parametrize("name", sorted(TREES))
def test_healthy_tree_reports_no_problem_and_stays_byte_identical(tmp_path, name):
    if os.geteuid() != 0:
        pytest.skip("needs root to make device nodes")
    root = base_tree(tmp_path)
    for change in TREES[name]:
        change(root)
    usb = udev_uaccess in TREES[name]
    before = listing(root)
    result, out = scan(root, report(tmp_path, usb=usb, pci=True), "--fix", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    ran = {c["plugin"] for c in out["checks"]}
    assert {"name-resolution-config", "driver-blacklisted", "clock-unsynced"} <= ran
    if usb:
        assert "device-permission" in ran
    assert set(states(out)) == {"healthy"}, [(c["plugin"], c["state"]) for c in out["checks"]]
    assert out["problems_left"] == 0
    assert listing(root) == before
