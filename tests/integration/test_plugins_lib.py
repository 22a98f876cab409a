# kefu: the shared plugin library: each plugin carries an identical copy, and its readers
# follow the rules of the configuration they read. SPDX-License-Identifier: MIT
import filecmp
import os
import sys

from conftest import SOURCE_DIR

PLUGINS = os.path.join(SOURCE_DIR, "diag-plugins")
LIB = os.path.join(PLUGINS, "lib", "kefu_plugin_lib")
sys.path.insert(0, os.path.dirname(LIB))
sys.dont_write_bytecode = True

from kefu_plugin_lib import VERSION, modprobe, nsswitch, udev  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402


def test_every_shipped_plugin_carries_the_library_unchanged():
    names = sorted(n for n in os.listdir(LIB) if n.endswith(".py"))
    plugins = [p for p in sorted(os.listdir(PLUGINS))
               if os.path.exists(os.path.join(PLUGINS, p, "plugin.json"))]
    assert len(plugins) >= 19 and VERSION
    for p in plugins:
        copy = os.path.join(PLUGINS, p, "kefu_plugin_lib")
        assert sorted(n for n in os.listdir(copy) if n.endswith(".py")) == names, p
        match, mismatch, errors = filecmp.cmpfiles(LIB, copy, names, shallow=False)
        assert mismatch == [] and errors == [], (p, "run diag-plugins/lib/sync")


def test_resolver_keeps_absolute_and_climbing_links_inside_the_root(tmp_path):
    root = tmp_path / "r"
    (root / "usr" / "lib" / "systemd" / "system").mkdir(parents=True)
    (root / "usr" / "lib" / "systemd" / "system" / "chrony.service").write_text("x")
    os.symlink("usr/lib", root / "lib")
    (root / "etc").mkdir()
    os.symlink("/lib/systemd/system/chrony.service", root / "etc" / "abs")
    os.symlink("../../../../../../../etc/passwd", root / "etc" / "up")
    os.symlink("a", root / "etc" / "b")
    os.symlink("b", root / "etc" / "a")
    r = Root(str(root))
    assert r.read_text("/etc/abs") == "x"
    assert r.link_target("/etc/abs") == "/usr/lib/systemd/system/chrony.service"
    assert r.read_text("/etc/up") is None  # /etc/passwd of the tree, which has none
    assert not r.exists("/etc/a")  # a loop is not followed forever


def test_nsswitch_follows_glibc():
    # glibc's default for a missing hosts line
    assert nsswitch.format_sources(nsswitch.Config("passwd: files\n").sources("hosts")) == \
        "dns [!UNAVAIL=return] files"
    c = nsswitch.Config("hosts: files dns\nhosts: files [!SUCCESS=return] dns\n")
    assert c.entries["hosts"].lineno == 2  # the last line counts
    s = c.sources("hosts")
    assert s[0].actions == {"success": "return", "notfound": "return",
                            "unavail": "return", "tryagain": "return"}
    assert nsswitch.dns_reachable(s)[0] is None
    # an unparsable action item stops glibc reading
    assert nsswitch.Config("hosts: files [BOGUS=return] dns\n").error is not None
    ok = nsswitch.parse_sources("files mdns4_minimal [NOTFOUND=return] dns myhostname")
    assert nsswitch.dns_reachable(ok)[0] == 2


def test_modprobe_override_dash_and_install(tmp_path):
    root = tmp_path / "r"
    for d in ("etc/modprobe.d", "usr/lib/modprobe.d"):
        (root / d).mkdir(parents=True)
    os.symlink("usr/lib", root / "lib")
    (root / "usr/lib/modprobe.d/a.conf").write_text("blacklist foo-bar\n")
    (root / "etc/modprobe.d/a.conf").write_text("options foo_bar x=1\n")
    (root / "usr/lib/modprobe.d/b.conf").write_text("install foo_bar /bin/false\n")
    cmds = modprobe.read(Root(str(root)))
    assert [c.words[0] for c in cmds] == ["options", "install"]
    assert [c.path for c in modprobe.blocking(cmds, "foo-bar")] == ["/lib/modprobe.d/b.conf"]  # kmod reads /lib first
    assert modprobe.options(cmds, "foo-bar") == ["x=1"]


def test_udev_order_final_assignments_and_late_uaccess(tmp_path):
    root = tmp_path / "r"
    (root / "etc/udev/rules.d").mkdir(parents=True)
    (root / "etc/udev/rules.d/60-a.rules").write_text(
        'SUBSYSTEM=="usb", ATTR{idVendor}=="04b8", MODE:="0600", TAG+="uaccess"\n')
    (root / "etc/udev/rules.d/61-b.rules").write_text('SUBSYSTEM=="usb", MODE="0666"\n')
    (root / "etc/udev/rules.d/99-c.rules").write_text('SUBSYSTEM=="usb", TAG+="late"\n')
    dev = udev.Device("1-4", "usb", {"idVendor": "04b8"}, {"MAJOR": "189"})
    effect = udev.apply(udev.read(Root(str(root))), dev)
    assert effect.mode == "0600"  # := is final
    assert effect.uaccess and effect.tags == ["uaccess", "late"]
