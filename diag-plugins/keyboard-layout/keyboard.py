#!/usr/bin/python3
# kefu plugin keyboard-layout: /etc/default/keyboard checked against the installed XKB rules,
# and input methods named in /etc/environment against what is installed. SPDX-License-Identifier: MIT
"""keyboard(5): /etc/default/keyboard is read by the shell; XKBMODEL, XKBLAYOUT, XKBVARIANT
and XKBOPTIONS hold XKB names; XKBLAYOUT and XKBVARIANT are comma-separated lists matched by
position (an empty variant is the layout's default), XKBOPTIONS a comma-separated list.
xkeyboard-config(7) and the rules' .lst file (/usr/share/X11/xkb/rules/evdev.lst) list every
model, layout, variant (with its layout) and option (group:name) that exists. environment(7),
pam_env(8): /etc/environment holds KEY=VALUE lines; GTK_IM_MODULE, QT_IM_MODULE and
XMODIFIERS=@im=NAME send typing to an input method framework (ibus, fcitx, fcitx5, uim, scim)
that must be installed."""
import re
import shlex
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

CONF = "/etc/default/keyboard"
RULES = "/usr/share/X11/xkb/rules/evdev.lst"
KEYS = ("XKBMODEL", "XKBLAYOUT", "XKBVARIANT", "XKBOPTIONS")
IM = {"ibus": ["/usr/bin/ibus-daemon"], "fcitx": ["/usr/bin/fcitx", "/usr/bin/fcitx5"],
      "fcitx5": ["/usr/bin/fcitx5"], "uim": ["/usr/bin/uim-xim", "/usr/bin/uim-toolbar-gtk3"],
      "scim": ["/usr/bin/scim"], "xim": []}
IM_KEYS = ("GTK_IM_MODULE", "QT_IM_MODULE", "XMODIFIERS", "SDL_IM_MODULE", "CLUTTER_IM_MODULE")


def rules(root):
    sections = {"model": set(), "layout": set(), "variant": set(), "option": set()}
    current = None
    for line in (root.read_text(RULES) or "").splitlines():
        if line.startswith("! "):
            current = line[2:].strip()
            continue
        words = line.split()
        if current in sections and words:
            if current == "variant" and len(words) >= 2 and words[1].endswith(":"):
                sections["variant"].add((words[1][:-1], words[0]))
            elif current == "option" and ":" not in words[0]:
                continue  # a group's heading, not an option
            else:
                sections[current].add(words[0])
    return sections


def read_conf(text):
    """{KEY: value} as the shell assigns them, or raises ValueError on a shell syntax error."""
    values = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        try:
            words = shlex.split(line, comments=True)
        except ValueError as e:
            raise ValueError("line %d: %s" % (lineno, e))
        for w in words:
            m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", w, re.S)
            if m:
                values[m.group(1)] = m.group(2)
    return values


def split(value):
    return value.split(",") if value else []


def keyboard_problems(root, known):
    text = root.read_text(CONF)
    if text is None:
        return ["%s is missing" % CONF], {}
    try:
        v = read_conf(text)
    except ValueError as e:
        return ["%s cannot be read by the shell (%s)" % (CONF, e)], {}
    found = []
    model = v.get("XKBMODEL", "")
    if model and model not in known["model"]:
        found.append("the keyboard model %s does not exist" % model)
    layouts = split(v.get("XKBLAYOUT", ""))
    if not layouts or any(not x for x in layouts):
        found.append("no keyboard layout is set" if not layouts else
                     "an empty layout in the list %s" % v["XKBLAYOUT"])
    for x in layouts:
        if x and x not in known["layout"]:
            found.append("the layout %s does not exist" % x)
    variants = split(v.get("XKBVARIANT", ""))
    if len(variants) > max(len(layouts), 1):
        found.append("%d variants for %d layouts" % (len(variants), len(layouts)))
    for layout, variant in zip(layouts, variants):
        if variant and (layout, variant) not in known["variant"]:
            found.append("%s is not a variant of the layout %s" % (variant, layout))
    for option in split(v.get("XKBOPTIONS", "")):
        if option and option not in known["option"]:
            found.append("the option %s does not exist" % option)
    return found, v


def locale_layout(root, known):
    text = root.read_text("/etc/default/locale") or ""
    m = re.search(r"(?m)^\s*(?:LANG|LC_ALL)\s*=\s*\"?([a-z]{2,3})_([A-Z]{2})", text)
    if m:
        for guess in (m.group(2).lower(), m.group(1)):
            if guess in known["layout"]:
                return guess
    return "us"


def fixed_values(root, known, v):
    layouts = [x for x in split(v.get("XKBLAYOUT", "")) if x in known["layout"]]
    old_layouts = split(v.get("XKBLAYOUT", ""))
    old_variants = split(v.get("XKBVARIANT", ""))
    variants = []
    for layout in layouts:
        i = old_layouts.index(layout)
        variant = old_variants[i] if i < len(old_variants) else ""
        variants.append(variant if (layout, variant) in known["variant"] else "")
    if not layouts:
        layouts, variants = [locale_layout(root, known)], [""]
    model = v.get("XKBMODEL", "")
    return {
        "XKBMODEL": model if not model or model in known["model"] else
        ("pc105" if "pc105" in known["model"] else ""),
        "XKBLAYOUT": ",".join(layouts),
        "XKBVARIANT": ",".join(variants) if any(variants) else "",
        "XKBOPTIONS": ",".join(o for o in split(v.get("XKBOPTIONS", "")) if o in known["option"]),
    }


def write_keyboard(root, values):
    text = root.read_text(CONF) or "# KEYBOARD CONFIGURATION FILE\n\n# Consult the keyboard(5) " \
        "manual page.\n\n"
    lines = text.splitlines()
    out, seen = [], set()
    for line in lines:
        m = re.match(r"\s*(XKB[A-Z]+)\s*=", line)
        try:
            shlex.split(line, comments=True)
            parsable = True
        except ValueError:
            parsable = False
        if m and m.group(1) in values:
            if m.group(1) not in seen:
                out.append('%s="%s"' % (m.group(1), values[m.group(1)]))
                seen.add(m.group(1))
            continue
        out.append(line if parsable else "# " + line)
    for key in KEYS:
        if key not in seen:
            out.append('%s="%s"' % (key, values[key]))
    if not any(line.startswith("BACKSPACE=") for line in out):
        out.append('\nBACKSPACE="guess"')
    root.write_text_atomic(CONF, "\n".join(out) + "\n")


def im_files(root):
    return ["/etc/environment"] + ["/etc/environment.d/" + n
                                   for n in root.listdir("/etc/environment.d") if n.endswith(".conf")]


def im_problems(root):
    found = []
    for path in im_files(root):
        for lineno, line in enumerate((root.read_text(path) or "").splitlines(), 1):
            m = re.match(r"\s*(?:export\s+)?([A-Z_]+)\s*=\s*[\"']?(?:@im=)?([A-Za-z0-9_-]+)", line)
            if not m or m.group(1) not in IM_KEYS:
                continue
            name = m.group(2).lower()
            programs = IM.get(name)
            if programs is None or (programs and not any(root.exists(p) for p in programs)):
                found.append((path, lineno, "%s=%s in %s, and %s is not installed" % (
                    m.group(1), m.group(2), path, name)))
    return found


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if mode in ("detect-im", "repair-im"):
        found = im_problems(root)
        if not found:
            result("ok" if mode == "detect-im" else "fixed", "no missing input method is named")
            return OK
        if mode == "detect-im":
            finding("error", "Programs are told to type through an input method that is not "
                    "installed", "; ".join(w for _, _, w in found))
            result("problem")
            return PROBLEM
        for path in sorted({p for p, _, _ in found}):
            lines = root.read_text(path).splitlines()
            for _, lineno, why in [f for f in found if f[0] == path]:
                lines[lineno - 1] = "# " + lines[lineno - 1] + "  # off: not installed"
            root.write_text_atomic(path, "\n".join(lines) + "\n")
        result("fixed", "the missing input method is no longer named")
        return OK
    known = rules(root)
    if not known["layout"]:
        result("not-applicable", "the XKB rules (%s) are not installed" % RULES)
        return NOT_APPLICABLE
    found, values = keyboard_problems(root, known)
    if mode == "detect":
        if not found:
            result("ok", "the keyboard layout exists")
            return OK
        finding("error", "The keyboard layout is set to something that does not exist",
                "; ".join(found))
        result("problem")
        return PROBLEM
    if not found:
        result("fixed", "nothing to change")
        return OK
    if not values:  # missing or unreadable: take what the shell could read line by line
        for line in (root.read_text(CONF) or "").splitlines():
            try:
                values.update(read_conf(line))
            except ValueError:
                pass
    write_keyboard(root, fixed_values(root, known, values))
    left, _ = keyboard_problems(root, known)
    if left:
        result("failed", "; ".join(left))
        return PROBLEM
    result("fixed", "the keyboard layout exists again")
    return OK


if __name__ == "__main__":
    sys.exit(main())
