# kefu: radio-blocked against rfkill trees laid out as the kernel's sysfs-class-rfkill ABI
# describes (class links into /sys/devices), systemd-rfkill's saved state and
# NetworkManager's state file; the result is read back here. SPDX-License-Identifier: MIT
import os

import pytest

from plugin_trees import base_tree, fix_only, healthy_only, only, write

PLUGIN = "radio-blocked"
DEVICES = {"wlan": "devices/pci0000:00/0000:00:14.3/ieee80211/phy0/rfkill0",
           "bluetooth": "devices/pci0000:00/0000:00:14.0/usb1/1-10/1-10:1.0/bluetooth/hci0/rfkill1",
           "wwan": "devices/platform/modem/rfkill2"}


def need_root():
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")


def radio(root, kind, soft=0, hard=0, legacy=False):
    number = list(DEVICES).index(kind)
    folder = os.path.join(root, "sys", DEVICES[kind])
    os.makedirs(folder, exist_ok=True)
    names = {"wlan": "phy0", "bluetooth": "hci0", "wwan": "modem"}
    write(root, "/sys/%s/type" % DEVICES[kind], kind + "\n")
    write(root, "/sys/%s/name" % DEVICES[kind], names[kind] + "\n")
    if legacy:
        write(root, "/sys/%s/state" % DEVICES[kind], "%d\n" % (2 if hard else 0 if soft else 1))
    else:
        write(root, "/sys/%s/soft" % DEVICES[kind], "%d\n" % soft)
        write(root, "/sys/%s/hard" % DEVICES[kind], "%d\n" % hard)
        write(root, "/sys/%s/state" % DEVICES[kind], "%d\n" % (2 if hard else 0 if soft else 1))
    os.makedirs(os.path.join(root, "sys/class/rfkill"), exist_ok=True)
    os.symlink("../../" + DEVICES[kind], os.path.join(root, "sys/class/rfkill/rfkill%d" % number))


def blocked(root, kind):
    """Read as `rfkill list` reports it: soft (or state 0) for the radio of that type."""
    base = os.path.join(root, "sys", DEVICES[kind])
    if os.path.exists(base + "/soft"):
        return open(base + "/soft").read().strip() == "1"
    return open(base + "/state").read().strip() == "0"


def saved(root, name, text):
    write(root, "/var/lib/systemd/rfkill/" + name, text)


def nm_state(root, enabled):
    write(root, "/var/lib/NetworkManager/NetworkManager.state",
          "[main]\nNetworkingEnabled=true\nWirelessEnabled=%s\nWWANEnabled=true\n" % enabled)


FAULTS = {
    "wifi-soft": lambda r: (radio(r, "wlan", soft=1), radio(r, "bluetooth")),
    "bluetooth-soft": lambda r: (radio(r, "wlan"), radio(r, "bluetooth", soft=1)),
    "both-soft": lambda r: (radio(r, "wlan", soft=1), radio(r, "bluetooth", soft=1)),
    "legacy-state": lambda r: radio(r, "wlan", soft=1, legacy=True),
    "saved-for-next-start": lambda r: (radio(r, "wlan"),
                                       saved(r, "pci-0000:00:14.3:wlan", "1\n")),
    "network-manager-off": lambda r: (radio(r, "wlan"), nm_state(r, "false")),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_blocked_radio_is_unblocked(tmp_path, name):
    need_root()
    root = base_tree(tmp_path)
    FAULTS[name](root)
    fix_only(tmp_path, root, PLUGIN)
    for kind in ("wlan", "bluetooth"):
        if os.path.exists(os.path.join(root, "sys", DEVICES[kind])):
            assert not blocked(root, kind)
    folder = os.path.join(root, "var/lib/systemd/rfkill")
    for n in os.listdir(folder) if os.path.isdir(folder) else []:
        assert open(os.path.join(folder, n)).read().strip() == "0"
    state = os.path.join(root, "var/lib/NetworkManager/NetworkManager.state")
    if os.path.exists(state):
        assert "WirelessEnabled=true" in open(state).read()
        assert "WWANEnabled=true" in open(state).read()  # the rest is kept


def test_hard_blocked_radio_is_found_and_left_to_the_customer(tmp_path):
    need_root()
    root = base_tree(tmp_path)
    radio(root, "wlan", soft=0, hard=1)
    found, out = only(tmp_path, root, PLUGIN, "--fix", "--yes")
    assert found == ["problem (fix failed)"]
    detect = out["checks"][0]["steps"][0]
    assert "switch" in detect["finding"]["summary"]


HEALTHY = {
    "all-on": lambda r: (radio(r, "wlan"), radio(r, "bluetooth")),
    "modem-blocked-only": lambda r: (radio(r, "wlan"), radio(r, "wwan", soft=1)),
    "saved-unblocked": lambda r: (radio(r, "wlan"), saved(r, "pci-0000:00:14.3:wlan", "0\n"),
                                  saved(r, "platform-modem:wwan", "1\n")),
    "network-manager-on": lambda r: (radio(r, "wlan"), nm_state(r, "true")),
    "legacy-unblocked": lambda r: radio(r, "bluetooth", legacy=True),
}


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_radios_that_are_on_are_left_alone(tmp_path, name):
    root = base_tree(tmp_path)
    HEALTHY[name](root)
    healthy_only(tmp_path, root, PLUGIN)


def test_computer_without_radios_is_not_applicable(tmp_path):
    root = base_tree(tmp_path)
    os.makedirs(os.path.join(root, "sys/class/rfkill"))
    found, _ = only(tmp_path, root, PLUGIN)
    assert found == ["not-applicable"]
