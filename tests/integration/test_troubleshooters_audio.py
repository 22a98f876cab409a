# kefu: audio-output, faults written from systemd.unit(5) for user units, WirePlumber 0.4's
# default-routes state file and alsactl(1)'s asound.state; read back here. Headless, this
# tests saved state only: a running session's volume is not reachable from a plugin step.
# SPDX-License-Identifier: MIT
import json
import os

import pytest

from plugin_trees import base_tree, fix_only, healthy_only, link, write

PLUGIN = "audio-output"
UNITS = ("pipewire.socket", "pipewire.service", "pipewire-pulse.socket",
         "pipewire-pulse.service", "wireplumber.service")
ROUTES = "/home/ana/.local/state/wireplumber/default-routes"
ROUTE = "alsa_card.pci-0000_00_1f.3:output:analog-output-speaker"
ASOUND = """state.PCH {
	control.1 {
		iface MIXER
		name 'Master Playback Volume'
		value 60
		comment {
			access 'read write'
			type INTEGER
			count 1
			range '0 - 87'
		}
	}
	control.2 {
		iface MIXER
		name 'Master Playback Switch'
		value %s
		comment {
			access 'read write'
			type BOOLEAN
			count 1
		}
	}
	control.3 {
		iface MIXER
		name 'Speaker Playback Switch'
		value.0 true
		value.1 true
		value %s
	}
	control.4 {
		iface MIXER
		name 'Capture Switch'
		value %s
	}
}
"""


def need_root():
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")


def tree(tmp_path):
    root = base_tree(tmp_path)
    for unit in UNITS:
        write(root, "/usr/lib/systemd/user/" + unit, "[Unit]\nDescription=%s\n" % unit)
    os.chmod(os.path.join(root, "home/ana"), 0o755)  # readable by the unprivileged detect step
    write(root, ROUTES, "[default-routes]\n%s={\"mute\":false, \"channelVolumes\":[0.5, 0.5], "
          "\"channelMap\":[\"FL\", \"FR\"], \"latencyOffsetNsec\":0}\n" % ROUTE)
    write(root, "/var/lib/alsa/asound.state", ASOUND % ("true", "true", "true"))
    return root


def owned_by_ana(root):
    for d, dirs, files in os.walk(os.path.join(root, "home/ana")):
        for n in [d] + [os.path.join(d, x) for x in dirs + files]:
            os.lchown(n, 1000, 1000)


def route(root):
    for line in open(os.path.join(root, ROUTES.lstrip("/"))).read().splitlines():
        if line.startswith(ROUTE + "="):
            return json.loads(line.split("=", 1)[1])


def alsa_values(root):
    text = open(os.path.join(root, "var/lib/alsa/asound.state")).read()
    out = {}
    for block in text.split("control.")[1:]:
        name = block.split("name '")[1].split("'")[0]
        out[name] = [l.split()[1] for l in block.splitlines() if l.strip().startswith("value ")]
    return out


def sound_on(root):
    for folder in ("etc/systemd/user", "home/ana/.config/systemd/user"):
        for unit in UNITS:
            if os.path.lexists(os.path.join(root, folder, unit)):
                return False
    r = route(root)
    a = alsa_values(root)
    return not r["mute"] and any(v > 0 for v in r["channelVolumes"]) and \
        a["Master Playback Switch"] == ["true"] and a["Speaker Playback Switch"] == ["true"]


def mute_route(root, **props):
    r = route(root)
    r.update(props)
    write(root, ROUTES, "[default-routes]\n%s=%s\n" % (ROUTE, json.dumps(r)))


FAULTS = {
    "pipewire-masked-for-everyone": lambda r: link(r, "/etc/systemd/user/pipewire.socket",
                                                   "/dev/null"),
    "wireplumber-masked-for-ana": lambda r: link(r, "/home/ana/.config/systemd/user/"
                                                 "wireplumber.service", "/dev/null"),
    "pulse-masked-by-empty-file": lambda r: write(r, "/etc/systemd/user/pipewire-pulse.service",
                                                  ""),
    "route-saved-muted": lambda r: mute_route(r, mute=True),
    "route-saved-silent": lambda r: mute_route(r, channelVolumes=[0.0, 0.0]),
    "alsa-master-off": lambda r: write(r, "/var/lib/alsa/asound.state",
                                       ASOUND % ("false", "true", "true")),
    "alsa-speaker-off": lambda r: write(r, "/var/lib/alsa/asound.state",
                                        ASOUND % ("true", "false", "true")),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_sound_switched_off_is_switched_on(tmp_path, name):
    need_root()
    root = tree(tmp_path)
    FAULTS[name](root)
    owned_by_ana(root)
    assert not sound_on(root)
    fix_only(tmp_path, root, PLUGIN)
    assert sound_on(root)
    assert os.stat(os.path.join(root, ROUTES.lstrip("/"))).st_uid == 1000  # stays ana's


HEALTHY = {
    "all-on": lambda r: None,
    "microphone-muted": lambda r: write(r, "/var/lib/alsa/asound.state",
                                        ASOUND % ("true", "true", "false")),
    "input-route-muted": lambda r: write(
        r, ROUTES, open(os.path.join(r, ROUTES.lstrip("/"))).read() +
        "alsa_card.pci-0000_00_1f.3:input:analog-input-mic={\"mute\":true, "
        "\"channelVolumes\":[0.0]}\n"),
    "pulseaudio-masked-for-pipewire": lambda r: (
        write(r, "/usr/lib/systemd/user/pulseaudio.service", "[Unit]\n"),
        write(r, "/usr/lib/systemd/user/pulseaudio.socket", "[Unit]\n"),
        link(r, "/etc/systemd/user/pulseaudio.socket", "/dev/null"),
        link(r, "/etc/systemd/user/pulseaudio.service", "/dev/null")),
    "no-saved-state-yet": lambda r: (os.unlink(os.path.join(r, ROUTES.lstrip("/"))),
                                     os.unlink(os.path.join(r, "var/lib/alsa/asound.state"))),
}


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_sound_that_is_on_is_left_alone(tmp_path, name):
    root = tree(tmp_path)
    HEALTHY[name](root)
    healthy_only(tmp_path, root, PLUGIN)
