#!/usr/bin/python3
# kefu plugin audio-output: the sound services' unit state and the saved mixer and output
# state that mute a computer; `repair` unmasks and unmutes. SPDX-License-Identifier: MIT
"""systemd.unit(5) for user units: a user unit is masked by a link to /dev/null (or an empty
file) in /etc/systemd/user (everyone) or ~/.config/systemd/user (one person); PipeWire
(pipewire.socket/.service), its PulseAudio server (pipewire-pulse.socket/.service),
WirePlumber (wireplumber.service) and PulseAudio (pulseaudio.socket/.service) are started
that way. WirePlumber 0.4 keeps each output's route in ~/.local/state/wireplumber/
default-routes as KEY={json} lines with "mute" and "channelVolumes"; a route saved muted or
at volume 0 comes back so. alsactl(1) restores /var/lib/alsa/asound.state at every start
(alsa-restore.service): controls are `control.N { iface MIXER name '...' value ... }`, and a
`Master`, `Speaker`, `Headphone` or `PCM` `Playback Switch` of false mutes that output.
Only saved state is read: a running session's volume (wpctl, pactl) belongs to the
person's session, which a plugin step does not join."""
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

UNITS = ("pipewire.socket", "pipewire.service", "pipewire-pulse.socket",
         "pipewire-pulse.service", "wireplumber.service", "pulseaudio.socket",
         "pulseaudio.service")
ALSA = "/var/lib/alsa/asound.state"
OUTPUTS = re.compile(r"^(Master|Speaker|Headphone|PCM)( Playback)? Switch$")
ROUTES = ".local/state/wireplumber/default-routes"
VOLUME = 0.4


def homes(root):
    out = []
    for line in (root.read_text("/etc/passwd") or "").splitlines():
        f = line.split(":")
        if len(f) == 7 and f[2].isdigit() and 1000 <= int(f[2]) <= 59999 and \
                root.is_dir(f[5]) and f[5] != "/":
            out.append((f[0], f[5]))
    return out


def is_null(root, path):
    if root.is_link(path):
        return root.readlink(path) == "/dev/null" or root.link_target(path) == "/dev/null"
    return root.is_file(path) and root.stat(path).st_size == 0


def installed(root, unit):
    return any(root.is_file(d + "/" + unit) for d in ("/usr/lib/systemd/user",
                                                      "/lib/systemd/user"))


# One PulseAudio server is enough: PipeWire's or PulseAudio's own (the other is masked on
# purpose when both are installed).
ALTERNATIVES = {"pulseaudio": "pipewire-pulse", "pipewire-pulse": "pulseaudio"}


def masks(root):
    found = _masks(root)
    masked = {os.path.basename(p) for p, _ in found}
    out = []
    for path, why in found:
        base = os.path.basename(path).rsplit(".", 1)[0]
        other = ALTERNATIVES.get(base)
        if other and installed(root, other + ".service") and \
                other + ".service" not in masked and other + ".socket" not in masked:
            continue
        out.append((path, why))
    return out


def _masks(root):
    out = []
    folders = [("everyone", "/etc/systemd/user")] + \
        [(name, home + "/.config/systemd/user") for name, home in homes(root)]
    for who, folder in folders:
        for unit in UNITS:
            path = folder + "/" + unit
            if installed(root, unit) and root.lexists(path) and is_null(root, path):
                out.append((path, "%s is masked for %s" % (unit, who)))
    return out


def muted_routes(text):
    """{key: reason} of the WirePlumber routes saved muted or silent."""
    out = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if not sep or ":output:" not in key:
            continue
        try:
            props = json.loads(value)
        except ValueError:
            continue
        volumes = props.get("channelVolumes") or props.get("volumes") or []
        if props.get("mute") is True:
            out[key] = "muted"
        elif volumes and all(isinstance(v, (int, float)) and v <= 0 for v in volumes):
            out[key] = "at volume 0"
    return out


def alsa_controls(text):
    """[(start, end, name, value)] of the MIXER controls of asound.state."""
    out = []
    for m in re.finditer(r"control\.\d+\s*\{", text or ""):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body = text[m.end():i - 1]
        name = re.search(r"(?m)^\s*name\s+'([^']*)'", body)
        value = re.search(r"(?m)^\s*value\s+(\S+)", body)
        if name and value:
            out.append((m.end() + value.start(1), m.end() + value.end(1), name.group(1),
                        value.group(1)))
    return out


def problems(root):
    found = [why for _, why in masks(root)]
    for name, home in homes(root):
        for key, why in muted_routes(root.read_text(home + "/" + ROUTES)).items():
            found.append("%s's output %s is saved %s" % (name, key.split(":output:")[-1], why))
    for _, _, name, value in alsa_controls(root.read_text(ALSA)):
        if OUTPUTS.match(name) and value == "false":
            found.append("%s is off in %s, which is restored at every start" % (name, ALSA))
    return found


def repair(root):
    for path, _ in masks(root):
        os.unlink(root.host_nofollow(path))
    for name, home in homes(root):
        path = home + "/" + ROUTES
        text = root.read_text(path)
        muted = muted_routes(text)
        if not muted:
            continue
        lines = []
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if key in muted:
                props = json.loads(value)
                props["mute"] = False
                for field in ("channelVolumes", "volumes"):
                    if props.get(field) and all(v <= 0 for v in props[field]):
                        props[field] = [VOLUME] * len(props[field])
                line = key + "=" + json.dumps(props)
            lines.append(line)
        root.write_text_atomic(path, "\n".join(lines) + "\n")
    text = root.read_text(ALSA)
    if text:
        new, at = [], 0
        for start, end, name, value in alsa_controls(text):
            if OUTPUTS.match(name) and value == "false":
                new.append(text[at:start] + "true")
                at = end
        if new:
            root.write_text_atomic(ALSA, "".join(new) + text[at:])


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if not any(installed(root, u) for u in UNITS) and not root.is_file(ALSA):
        result("not-applicable", "no sound server and no ALSA state")
        return NOT_APPLICABLE
    found = problems(root)
    if mode != "repair":
        if not found:
            result("ok", "the sound is on")
            return OK
        finding("error", "The sound is switched off", "; ".join(found))
        result("problem")
        return PROBLEM
    try:
        repair(root)
    except OSError as e:
        result("failed", "could not switch the sound on: %s" % e.strerror)
        return PROBLEM
    left = problems(root)
    if left:
        result("failed", "; ".join(left))
        return PROBLEM
    result("fixed", "the sound is switched on")
    return OK


if __name__ == "__main__":
    sys.exit(main())
