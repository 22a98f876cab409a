# kefu: `scan --fix --yes` with every shipped troubleshooter over healthy desktop trees with
# unusual but valid configuration (interfaces named so that no machine has them: the network
# check reads the live links): nothing is found, and a listing of every entry (content
# hash, mode, owner, link target) is identical before and after. SPDX-License-Identifier: MIT
import os
import shutil

import pytest

import test_troubleshooters_audio as audio
import test_troubleshooters_ca as ca
import test_troubleshooters_keyboard as keyboard
import test_troubleshooters_packages as packages
import test_troubleshooters_resolver as resolver
import test_troubleshooters_rfkill as rfkill
import test_troubleshooters_services as services
from plugin_trees import CHRONY_UNIT, link, listing, report, scan, states, write


def chrony(root):
    os.unlink(os.path.join(root, "etc/systemd/system/sysinit.target.wants/"
                           "systemd-timesyncd.service"))
    write(root, "/usr/lib/systemd/system/chrony.service", CHRONY_UNIT)
    link(root, "/etc/systemd/system/multi-user.target.wants/chrony.service",
         "/lib/systemd/system/chrony.service")
    write(root, "/etc/chrony/chrony.conf", "server 127.0.0.1 iburst\n")


def desktop_tree(tmp_path, variant):
    """A desktop with every troubleshooter's configuration present and right."""
    s = ca.Store(tmp_path)
    s.build()
    root = s.root
    write(root, "/usr/share/X11/xkb/rules/evdev.lst", keyboard.EVDEV_LST)
    write(root, "/etc/default/keyboard", keyboard.HEALTHY["two-layouts-switch"])
    for unit in audio.UNITS:
        write(root, "/usr/lib/systemd/user/" + unit, "[Unit]\nDescription=%s\n" % unit)
    write(root, "/var/lib/alsa/asound.state", audio.ASOUND % ("true", "true", "false"))
    services.desktop(root)
    rfkill.radio(root, "wlan")
    rfkill.radio(root, "bluetooth")
    rfkill.nm_state(root, "true")
    write(root, "/etc/network/interfaces", "auto lo\niface lo inet loopback\n")
    for d in ("info", "updates", "triggers"):
        os.makedirs(os.path.join(root, "var/lib/dpkg", d), exist_ok=True)
    write(root, "/var/lib/dpkg/status", "Package: base-files\nStatus: install ok installed\n"
          "Version: 12.4\nArchitecture: amd64\n\nPackage: old-tool\n"
          "Status: deinstall ok config-files\nVersion: 1.0\n")
    write(root, "/etc/apt/sources.list.d/debian.sources",
          "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n"
          "Components: main non-free-firmware\n"
          "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
    write(root, "/usr/share/keyrings/debian-archive-keyring.gpg", "keyring")
    os.makedirs(os.path.join(root, "var/lib/apt/lists/partial"), exist_ok=True)
    if variant == "resolved-networkd-chrony":
        resolver.with_resolved(root)
        resolver.stub_link(root)
        services.mask(root, "NetworkManager.service")
        services.install(root, "systemd-networkd.service")
        write(root, "/etc/systemd/network/20-wired.network",
              "[Match]\nName=kfx-wired0\n\n[Network]\nDHCP=yes\n")
        chrony(root)
    elif variant == "lightdm-dnsmasq-two-layouts":
        services.install(root, "lightdm.service", enabled=False)
        os.unlink(os.path.join(root, "etc/systemd/system/display-manager.service"))
        link(root, "/etc/systemd/system/display-manager.service",
             "/lib/systemd/system/lightdm.service")
        resolver.HEALTHY["dnsmasq-local"](root)
        write(root, "/etc/hosts", "127.0.0.1 localhost.localdomain localhost\n"
              "192.168.1.10 pc.home pc\n")
    elif variant == "no-network-manager-no-bluetooth":
        for path in services.ENABLED["NetworkManager.service"]:
            os.unlink(os.path.join(root, "etc/systemd/system", path))
        write(root, "/etc/network/interfaces", "auto lo\niface lo inet loopback\n\n"
              "allow-hotplug kfx-wired1\niface kfx-wired1 inet dhcp\n")
        for path in services.ENABLED["bluetooth.service"]:
            os.unlink(os.path.join(root, "etc/systemd/system", path))
        shutil.rmtree(os.path.join(root, "sys/class/bluetooth"))
        write(root, "/etc/nsswitch.conf", "passwd: files systemd\ngroup: files systemd\n"
              "hosts: files myhostname mdns4_minimal [NOTFOUND=return] dns\n")
    return root


VARIANTS = ["resolved-networkd-chrony", "lightdm-dnsmasq-two-layouts",
            "no-network-manager-no-bluetooth"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_healthy_desktop_is_left_byte_identical_by_every_troubleshooter(tmp_path, variant):
    if os.geteuid() != 0 or shutil.which("update-ca-certificates") is None:
        pytest.skip("needs root (owners, root steps) and ca-certificates")
    root = desktop_tree(tmp_path, variant)
    before = listing(root)
    result, out = scan(root, report(tmp_path), "--fix", "--yes")
    ran = {c["plugin"] for c in out["checks"] if c["state"] != "not-applicable"}
    assert {"hosts-loopback", "resolver-config", "tmp-folder", "essential-services",
            "radio-blocked", "home-folder", "ca-store", "keyboard-layout", "packages-broken",
            "audio-output", "name-resolution-config", "clock-unsynced"} <= ran, ran
    bad = [(c["plugin"], c["check"], c["state"], c["steps"][0].get("finding"))
           for c in out["checks"] if c["state"] not in ("healthy", "not-applicable")]
    assert bad == [], bad
    assert out["problems_left"] == 0 and result.returncode == 0
    assert not any(c.get("changes") for c in out["checks"])
    assert listing(root) == before
    assert set(states(out)) <= {"healthy", "not-applicable"}
