#!/usr/bin/python3
# kefu plugin driver-blacklisted: the device's driver is kept from loading by the modprobe
# configuration (blacklist, install M /bin/false, an alias sending the device elsewhere), read
# as kmod reads it; `repair` takes those commands out. SPDX-License-Identifier: MIT
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import FAILED, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib import modprobe  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

MARK = "# disabled by kefu: "


def device_modalias():
    report = json.load(open(os.environ["KEFU_REPORT"]))
    for d in report.get("devices") or []:
        if d.get("id") == os.environ.get("KEFU_DEVICE"):
            return d.get("modalias")
    return None


def known_modules(root):
    names = set()
    for base in ("/lib/modules", "/usr/lib/modules"):
        for kernel in root.listdir(base):
            text = root.read_text("%s/%s/modules.dep" % (base, kernel))
            for line in (text or "").splitlines():
                ko = line.split(":", 1)[0]
                name = os.path.basename(ko).split(".ko", 1)[0]
                if name:
                    names.add(modprobe.normalize(name))
    return names


def blocked(root, modalias):
    """(module, [blocking commands]) for the device's drivers, when every one is kept out."""
    candidates = modprobe.module_aliases(root, modalias)
    if not candidates:
        return None, []
    commands = modprobe.read(root)
    known = known_modules(root)
    out = []
    for module in candidates:
        found = []
        for c in modprobe.blocking(commands, module, modalias):
            if c.name == "alias":
                target = modprobe.normalize(c.words[2])
                if (known and target in known) or (not known and target not in
                                                   ("off", "null", "none", "ignore")):
                    continue  # sent to another driver that exists: not ours to judge
            found.append(c)
        if not found:
            return module, []  # a driver that may load
        out.append((module, found))
    return out[0][0], [c for _m, cs in out for c in cs]


def disable(root, commands):
    """Comments the commands out in /etc and /run; a package's file gets a same-named file in
    /etc/modprobe.d without them (modprobe.d(5): /etc overrides). Returns the files written."""
    by_file = {}
    for c in commands:
        by_file.setdefault(c.path, []).append(c)
    written = []
    for path, cs in sorted(by_file.items()):
        text = root.read_text(path)
        lines = text.splitlines(keepends=True)
        for c in cs:
            for i in range(c.first - 1, c.last):
                if not lines[i].startswith(MARK):
                    lines[i] = MARK + lines[i]
        folder, name = os.path.dirname(path), os.path.basename(path)
        if folder in modprobe.EDITABLE:
            root.write_text_atomic(path, "".join(lines))
            written.append(path)
        else:
            target = "/etc/modprobe.d/" + name
            header = "# Written by kefu: %s without the lines that kept a driver off.\n" % path
            root.write_text_atomic(target, header + "".join(lines), like=root.host(path))
            written.append(target)
    return written


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    root = Root(root_dir())
    modalias = device_modalias()
    if not modalias:
        result("ok", "the device has no modalias, so no driver is looked up for it")
        return OK
    module, commands = blocked(root, modalias)
    if module is None:
        result("ok", "no installed driver matches the device")
        return OK
    if mode == "detect":
        if not commands:
            result("ok", "driver %s is not kept from loading" % module)
            return OK
        where = "; ".join("%s line %d: %s" % (c.path, c.first, " ".join(c.words))
                          for c in commands)
        finding("error", "The driver %s is switched off" % module, where)
        result("problem")
        return PROBLEM
    if commands:
        try:
            written = disable(root, commands)
        except OSError as e:
            result("failed", "could not change the configuration: %s" % e.strerror)
            return PROBLEM
        finding("info", "Changed " + ", ".join(written))
    if root.top == "/":
        load = subprocess.run(["modprobe", module], capture_output=True)
        if load.returncode != 0:
            finding("warning", "the driver did not load yet; restart the computer")
    result("fixed")
    return OK


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as e:
        result("failed", str(e))
        sys.exit(FAILED)
