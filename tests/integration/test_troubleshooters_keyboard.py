# kefu: keyboard-layout, variants from keyboard(5) and xkeyboard-config(7); the result is
# read by /bin/sh itself and checked against the rules list written here in evdev.lst's
# format. SPDX-License-Identifier: MIT
import os
import subprocess

import pytest

from plugin_trees import base_tree, fix_only, healthy_only, write

PLUGIN = "keyboard-layout"
EVDEV_LST = """! model
  pc104           Generic 104-key PC
  pc105           Generic 105-key PC
  thinkpad        IBM ThinkPad 560Z/600/600E/A22E

! layout
  us              English (US)
  de              German
  fr              French
  gb              English (UK)

! variant
  intl            us: English (US, intl., with dead keys)
  dvorak          us: English (Dvorak)
  nodeadkeys      de: German (no dead keys)
  oss             fr: French (alt.)
  extd            gb: English (UK, extended, with Win keys)

! option
  grp                  Switching to another layout
  grp:alt_shift_toggle Alt+Shift
  ctrl                 Ctrl position
  ctrl:nocaps          Caps Lock as Ctrl
  compose:ralt         Right Alt
"""
DEBIAN = '# KEYBOARD CONFIGURATION FILE\n\n# Consult the keyboard(5) manual page.\n\n' \
    'XKBMODEL="pc105"\nXKBLAYOUT="de"\nXKBVARIANT=""\nXKBOPTIONS=""\n\nBACKSPACE="guess"\n'


def need_root():
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")


def tree(tmp_path, keyboard):
    root = base_tree(tmp_path)
    write(root, "/usr/share/X11/xkb/rules/evdev.lst", EVDEV_LST)
    write(root, "/etc/default/locale", "LANG=de_DE.UTF-8\n")
    if keyboard is not None:
        write(root, "/etc/default/keyboard", keyboard)
    return root


def lst():
    sections, current = {}, None
    for line in EVDEV_LST.splitlines():
        if line.startswith("! "):
            current = sections.setdefault(line[2:], set())
        elif line.split():
            w = line.split()
            current.add((w[1][:-1], w[0]) if w[1].endswith(":") else w[0])
    return sections


def valid(root):
    """The file as the shell reads it: every name in the rules list."""
    script = '. "$1"; printf "%s|%s|%s|%s" "$XKBMODEL" "$XKBLAYOUT" "$XKBVARIANT" "$XKBOPTIONS"'
    out = subprocess.run(["/bin/sh", "-c", script, "sh",
                          os.path.join(root, "etc/default/keyboard")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if out.returncode != 0 or out.stderr:
        return False
    model, layouts, variants, options = out.stdout.split("|")
    known = lst()
    layouts = layouts.split(",") if layouts else []
    variants = variants.split(",") if variants else []
    return (not model or model in known["model"]) and layouts and \
        all(x in known["layout"] for x in layouts) and len(variants) <= len(layouts) and \
        all(not v or (x, v) in known["variant"] for x, v in zip(layouts, variants)) and \
        all(o in known["option"] for o in (options.split(",") if options else []))


FAULTS = {
    "unknown-layout": DEBIAN.replace('XKBLAYOUT="de"', 'XKBLAYOUT="german"'),
    "variant-of-another-layout": DEBIAN.replace('XKBVARIANT=""', 'XKBVARIANT="dvorak"'),
    "more-variants-than-layouts": DEBIAN.replace('XKBVARIANT=""', 'XKBVARIANT="nodeadkeys,intl"'),
    "unknown-option": DEBIAN.replace('XKBOPTIONS=""', 'XKBOPTIONS="ctrl:nocapslock,compose:ralt"'),
    "unknown-model": DEBIAN.replace('"pc105"', '"pc105x"'),
    "no-layout": DEBIAN.replace('XKBLAYOUT="de"\n', ''),
    "unterminated-quote": DEBIAN.replace('XKBLAYOUT="de"', 'XKBLAYOUT="de'),
    "missing-file": None,
    "second-layout-unknown": DEBIAN.replace('XKBLAYOUT="de"', 'XKBLAYOUT="de,xx"'),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_wrong_keyboard_layout_is_set_right(tmp_path, name):
    need_root()
    root = tree(tmp_path, FAULTS[name])
    fix_only(tmp_path, root, PLUGIN)
    assert valid(root), open(os.path.join(root, "etc/default/keyboard")).read()
    text = open(os.path.join(root, "etc/default/keyboard")).read()
    if name in ("unknown-option", "variant-of-another-layout", "unknown-model",
                "second-layout-unknown", "more-variants-than-layouts"):
        assert 'XKBLAYOUT="de"' in text  # the right parts are kept
    if name == "unknown-option":
        assert "compose:ralt" in text
    if name in ("unknown-layout", "no-layout", "missing-file"):
        assert 'XKBLAYOUT="de"' in text  # the locale's layout


HEALTHY = {
    "debian": DEBIAN,
    "two-layouts-switch": 'XKBMODEL="pc105"\nXKBLAYOUT="us,de"\nXKBVARIANT=",nodeadkeys"\n'
                          'XKBOPTIONS="grp:alt_shift_toggle"\nBACKSPACE="guess"\n',
    "single-quotes-comments": "# edited\nXKBMODEL='thinkpad' # laptop\nXKBLAYOUT='gb'\n"
                              "XKBVARIANT='extd'\nXKBOPTIONS='ctrl:nocaps,compose:ralt'\n",
    "empty-model": 'XKBMODEL=""\nXKBLAYOUT="fr"\nXKBVARIANT="oss"\n',
    "variant-list-shorter": 'XKBLAYOUT="us,de,fr"\nXKBVARIANT="intl"\n',
}


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_valid_keyboard_configuration_is_left_alone(tmp_path, name):
    root = tree(tmp_path, HEALTHY[name])
    assert valid(root)
    healthy_only(tmp_path, root, PLUGIN)


IM_FAULTS = {
    "gtk-fcitx-missing": "GTK_IM_MODULE=fcitx\n",
    "xmodifiers-ibus-missing": 'XMODIFIERS="@im=ibus"\nPATH="/usr/bin:/bin"\n',
    "qt-uim-missing": "QT_IM_MODULE=uim\n",
    "export-scim": "export GTK_IM_MODULE=scim\n",
    "unknown-framework": "GTK_IM_MODULE=kime\n",
}


def im_named(root):
    for line in open(os.path.join(root, "etc/environment")).read().splitlines():
        line = line.split("#")[0].strip()
        if any(line.replace("export ", "").startswith(k + "=")
               for k in ("GTK_IM_MODULE", "QT_IM_MODULE", "XMODIFIERS")):
            return True
    return False


@pytest.mark.parametrize("name", sorted(IM_FAULTS))
def test_missing_input_method_is_no_longer_named(tmp_path, name):
    need_root()
    root = tree(tmp_path, DEBIAN)
    write(root, "/etc/environment", IM_FAULTS[name])
    fix_only(tmp_path, root, PLUGIN)
    assert not im_named(root)
    if "PATH=" in IM_FAULTS[name]:
        assert 'PATH="/usr/bin:/bin"' in open(os.path.join(root, "etc/environment")).read()


def test_installed_input_method_is_left_alone(tmp_path):
    root = tree(tmp_path, DEBIAN)
    write(root, "/etc/environment", "GTK_IM_MODULE=ibus\nQT_IM_MODULE=ibus\nXMODIFIERS=@im=ibus\n")
    write(root, "/usr/bin/ibus-daemon", "ELF", 0o755)
    healthy_only(tmp_path, root, PLUGIN)
