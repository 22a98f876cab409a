# kefu: essential-services, with unit states written from systemd.unit(5) and systemctl(1)
# (masks in /etc and /run, empty files, aliases, socket activation, default.target); the
# result is read back here from the links, as systemctl would. SPDX-License-Identifier: MIT
import os

import pytest

from plugin_trees import base_tree, fix_only, healthy_only, link, write

PLUGIN = "essential-services"
UNITS = {
    "NetworkManager.service": "[Unit]\nDescription=Network Manager\n\n[Service]\n"
    "ExecStart=/usr/sbin/NetworkManager --no-daemon\n\n[Install]\nWantedBy=multi-user.target\n"
    "Alias=dbus-org.freedesktop.NetworkManager.service\n",
    "cups.service": "[Unit]\nDescription=CUPS Scheduler\n\n[Service]\nExecStart=/usr/sbin/cupsd -l\n"
    "\n[Install]\nAlso=cups.socket cups.path\nWantedBy=printer.target multi-user.target\n",
    "cups.socket": "[Socket]\nListenStream=/run/cups/cups.sock\n\n[Install]\nWantedBy=sockets.target\n",
    "bluetooth.service": "[Unit]\nDescription=Bluetooth service\n\n[Service]\n"
    "ExecStart=/usr/libexec/bluetooth/bluetoothd\n\n[Install]\nWantedBy=bluetooth.target\n"
    "Alias=dbus-org.bluez.service\n",
    "gdm.service": "[Unit]\nDescription=GNOME Display Manager\n\n[Service]\nExecStart=/usr/sbin/gdm3\n"
    "\n[Install]\nAlias=display-manager.service\n",
    "lightdm.service": "[Unit]\nDescription=Light Display Manager\n\n[Service]\n"
    "ExecStart=/usr/sbin/lightdm\n\n[Install]\nAlias=display-manager.service\n",
    "systemd-networkd.service": "[Service]\nExecStart=!!/lib/systemd/systemd-networkd\n\n"
    "[Install]\nWantedBy=multi-user.target\n",
    "graphical.target": "[Unit]\nDescription=Graphical Interface\n",
    "multi-user.target": "[Unit]\nDescription=Multi-User System\n",
}
ENABLED = {
    "NetworkManager.service": ["multi-user.target.wants/NetworkManager.service",
                               "dbus-org.freedesktop.NetworkManager.service"],
    "cups.service": ["multi-user.target.wants/cups.service", "printer.target.wants/cups.service"],
    "cups.socket": ["sockets.target.wants/cups.socket"],
    "bluetooth.service": ["bluetooth.target.wants/bluetooth.service", "dbus-org.bluez.service"],
    "gdm.service": ["display-manager.service"],
    "lightdm.service": ["display-manager.service"],
    "systemd-networkd.service": ["multi-user.target.wants/systemd-networkd.service"],
}


def need_root():
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")


def install(root, unit, enabled=True):
    write(root, "/usr/lib/systemd/system/" + unit, UNITS[unit])
    if enabled:
        for path in ENABLED.get(unit, []):
            link(root, "/etc/systemd/system/" + path, "/lib/systemd/system/" + unit)


def desktop(root):
    for unit in ("NetworkManager.service", "cups.service", "cups.socket", "bluetooth.service",
                 "gdm.service"):
        install(root, unit)
    for unit in ("graphical.target", "multi-user.target"):
        install(root, unit, enabled=False)
    os.makedirs(os.path.join(root, "sys/class/bluetooth/hci0"), exist_ok=True)


def unlink(root, path):
    os.unlink(os.path.join(root, path.lstrip("/")))


def on(root, unit):
    """systemctl's view: not masked in /etc or /run, and an enablement link present."""
    for folder in ("etc/systemd/system", "run/systemd/system"):
        mask = os.path.join(root, folder, unit)
        if os.path.lexists(mask) and (not os.path.exists(mask) or os.path.getsize(mask) == 0
                                      or os.path.realpath(mask) == "/dev/null"):
            return False
    return any(os.path.lexists(os.path.join(root, "etc/systemd/system", p))
               for p in ENABLED[unit])


def mask(root, unit, folder="/etc/systemd/system"):
    link(root, folder + "/" + unit, "/dev/null")


FAULTS = {
    "network-manager-masked": (lambda r: mask(r, "NetworkManager.service"), "NetworkManager.service"),
    "network-manager-disabled": (lambda r: [unlink(r, "/etc/systemd/system/" + p) for p in
                                            ENABLED["NetworkManager.service"]],
                                 "NetworkManager.service"),
    "cups-masked-at-runtime": (lambda r: mask(r, "cups.service", "/run/systemd/system"),
                               "cups.service"),
    "cups-and-socket-disabled": (lambda r: [unlink(r, "/etc/systemd/system/" + p) for p in
                                            ENABLED["cups.service"] + ENABLED["cups.socket"]],
                                 "cups.service"),
    "bluetooth-masked-by-empty-file": (lambda r: write(r, "/etc/systemd/system/bluetooth.service",
                                                       ""), "bluetooth.service"),
    # `systemctl disable` removes the WantedBy= link and the Alias= link
    "bluetooth-disabled": (lambda r: [unlink(r, "/etc/systemd/system/" + p)
                                      for p in ENABLED["bluetooth.service"]],
                           "bluetooth.service"),
    "no-display-manager": (lambda r: unlink(r, "/etc/systemd/system/display-manager.service"),
                           "gdm.service"),
    "display-manager-removed": (lambda r: (unlink(r, "/etc/systemd/system/display-manager.service"),
                                           link(r, "/etc/systemd/system/display-manager.service",
                                                "/lib/systemd/system/lightdm.service")),
                                "gdm.service"),
    "display-manager-masked": (lambda r: mask(r, "gdm.service"), "gdm.service"),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_switched_off_service_is_switched_on(tmp_path, name):
    need_root()
    root = base_tree(tmp_path)
    desktop(root)
    make, unit = FAULTS[name]
    make(root)
    assert not on(root, unit) or name.startswith("display-manager-removed")
    fix_only(tmp_path, root, PLUGIN)
    assert on(root, unit)
    if unit == "gdm.service":
        target = os.readlink(os.path.join(root, "etc/systemd/system/display-manager.service"))
        assert target.endswith("/gdm.service")


def test_computer_starting_without_its_desktop_starts_it_again(tmp_path):
    need_root()
    root = base_tree(tmp_path)
    desktop(root)
    link(root, "/etc/systemd/system/default.target", "/lib/systemd/system/multi-user.target")
    fix_only(tmp_path, root, PLUGIN)
    target = os.readlink(os.path.join(root, "etc/systemd/system/default.target"))
    assert target.endswith("graphical.target")


HEALTHY = {
    "desktop": lambda r: None,
    "server-without-any": lambda r: None,
    "networkd-instead": lambda r: (mask(r, "NetworkManager.service"),
                                   install(r, "systemd-networkd.service")),
    "ifupdown-instead": lambda r: (unlink(r, "/etc/systemd/system/multi-user.target.wants/"
                                          "NetworkManager.service"),
                                   write(r, "/etc/network/interfaces",
                                         "auto lo\niface lo inet loopback\n\n"
                                         "allow-hotplug enp3s0\niface enp3s0 inet dhcp\n")),
    "cups-socket-activated": lambda r: [unlink(r, "/etc/systemd/system/" + p)
                                        for p in ENABLED["cups.service"]],
    "bluetooth-off-without-adapter": lambda r: (
        [unlink(r, "/etc/systemd/system/" + p) for p in ENABLED["bluetooth.service"]],
        os.rmdir(os.path.join(r, "sys/class/bluetooth/hci0"))),
    "lightdm-chosen": lambda r: (install(r, "lightdm.service", enabled=False),
                                 unlink(r, "/etc/systemd/system/display-manager.service"),
                                 link(r, "/etc/systemd/system/display-manager.service",
                                      "/lib/systemd/system/lightdm.service")),
    "graphical-default": lambda r: link(r, "/etc/systemd/system/default.target",
                                        "/lib/systemd/system/graphical.target"),
}


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_services_as_configured_are_left_alone(tmp_path, name):
    root = base_tree(tmp_path)
    if name != "server-without-any":
        desktop(root)
    HEALTHY[name](root)
    healthy_only(tmp_path, root, PLUGIN)
