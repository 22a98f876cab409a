# kefu: a computer for `kefu-agentd drivers`: a recorded camera and hand-made PCI devices, a kernel's module indexes, and a local apt repository built by the test. SPDX-License-Identifier: MIT
#
# The tree under root is both the computer (sysfs, the kernel log, /lib/modules) and the
# dpkg and apt state kefu reads (/var/lib/dpkg, /var/lib/apt/lists). apt-get and dpkg work
# on it through a private configuration (apt.conf): Dir::State::lists and
# Dir::State::status point into the tree, dpkg runs with --root and --admindir there. This
# machine's own sources and dpkg database are never read or written.
import gzip
import os
import subprocess

from conftest import program, run
from diag_fixtures import base_system, pci_device, replay_umockdev, write

KERNEL = "6.1.0-13-amd64"
MODULES = "/lib/modules/" + KERNEL
CAMERA = "usb:1-1.5.2.3"         # the recorded Canon PowerShot: only the usb core binds it
WIFI = "pci:0000:00:14.3"        # iwlwifi asked for a firmware file that is not there
READER = "pci:0000:01:00.0"      # a card reader the kernel's rtsx_pci module drives
GRAPHICS = "pci:0000:00:02.0"    # i915 from an installed package with a newer version
FIRMWARE_FILE = "iwlwifi-9000-pu-b0-jf-b0-46.ucode"


def module_object(directory, name, version, srcversion="0123456789ABCDEF0123456"):
    """A real ELF object file with a .modinfo section, as modinfo reads a module."""
    source = os.path.join(directory, name + ".c")
    with open(source, "w") as file:
        fields = ["version=" + version, "license=GPL", "srcversion=" + srcversion,
                  "name=" + name]
        file.write('const char kf_modinfo[] __attribute__((section(".modinfo"), used)) = "%s";\n'
                   % "\\0".join(fields))
    target = os.path.join(directory, name + ".ko")
    subprocess.run(["cc", "-c", "-o", target, source], check=True, timeout=60)
    return target


def build_deb(workdir, name, version, files, modaliases=None, description="test package",
              control_extra=""):
    """A .deb built with dpkg-deb: files maps absolute paths to bytes or to a file to copy;
    control_extra: more control fields ("Depends: x\n")."""
    tree = os.path.join(workdir, "%s_%s" % (name, version))
    os.makedirs(os.path.join(tree, "DEBIAN"))
    for path, content in files.items():
        full = os.path.join(tree, path.lstrip("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if isinstance(content, bytes):
            with open(full, "wb") as file:
                file.write(content)
        else:
            with open(content, "rb") as src, open(full, "wb") as dst:
                dst.write(src.read())
        if path.startswith("/DEBIAN/"):
            os.chmod(full, 0o755)  # a maintainer script
    control = ("Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: kefu tests "
               "<tests@example.invalid>\n" % (name, version))
    if modaliases:
        control += "Modaliases: %s\n" % modaliases
    control += control_extra
    control += "Description: %s\n kefu's test repository.\n" % description
    with open(os.path.join(tree, "DEBIAN", "control"), "w") as file:
        file.write(control)
    deb = os.path.join(workdir, "%s_%s_all.deb" % (name, version))
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", tree, deb], check=True,
                   stdout=subprocess.DEVNULL, timeout=60)
    return deb


class DriverMachine:
    """The tree, the repository, the private apt configuration and the audit log."""

    def __init__(self, base):
        self.base = base
        self.root = os.path.join(base, "root")
        self.repo = os.path.join(base, "repo")
        self.work = os.path.join(base, "work")
        self.state = os.path.join(base, "state")
        for d in (self.root, self.repo, self.work, self.state):
            os.makedirs(d, exist_ok=True)
        self.env = dict(os.environ, XDG_STATE_HOME=self.state, HOME=base)
        self.apt_conf = os.path.join(base, "apt.conf")

    def audit_events(self, prefix="drivers-"):
        import json
        path = os.path.join(self.state, "kefu", "audit.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as file:
            return [e for e in (json.loads(line) for line in file)
                    if e["event"].startswith(prefix)]

    def apt(self, *args):
        return run(["apt-get", "-q"] + list(args), env=dict(self.env, APT_CONFIG=self.apt_conf),
                   timeout=300)

    def drivers(self, *args, **kwargs):
        args = list(args)
        action = [args.pop(0)] if args and not args[0].startswith("-") else []
        return run([program("kefu-agentd"), "drivers"] + action + ["--root", self.root] + args,
                   env=self.env, timeout=300, **kwargs)


def make_driver_machine(base, umockdev_dir):
    m = DriverMachine(base)
    root = m.root
    base_system(root)
    replay_umockdev(os.path.join(umockdev_dir, "canon-powershot-sx200.umockdev"), root)
    pci_device(root, "0000:00:02.0", "8086", "5917", "030000", "i915", "i915")
    pci_device(root, "0000:00:14.3", "8086", "9df0", "028000")
    pci_device(root, "0000:01:00.0", "10ec", "525a", "ff0000")
    write(root, "/var/log/dmesg",
          "[    0.000000] Linux version %s\n"
          "[    2.103000] iwlwifi 0000:00:14.3: Direct firmware load for %s failed with error -2\n"
          "[    2.104000] iwlwifi 0000:00:14.3: no suitable firmware found!\n"
          % (KERNEL, FIRMWARE_FILE))
    write(root, "/proc/modules", "i915 3096576 12 - Live 0x0000000000000000\n")
    # The kernel's indexes, as depmod writes them.
    write(root, MODULES + "/modules.alias",
          "# Aliases extracted from modules themselves.\n"
          "alias pci:v00008086d00005917sv*sd*bc03sc*i* i915\n"
          "alias pci:v00008086d00009DF0sv*sd*bc*sc*i* iwlwifi\n"
          "alias pci:v000010ECd0000525Asv*sd*bc*sc*i* rtsx_pci\n"
          "alias usb:v05F3p0007d*dc*dsc*dp*ic*isc*ip*in* kefu_not_this_one\n")
    write(root, MODULES + "/modules.dep",
          "kernel/drivers/gpu/drm/i915/i915.ko:\n"
          "kernel/drivers/misc/cardreader/rtsx_pci.ko:\n"
          "kernel/drivers/net/wireless/intel/iwlwifi/iwlwifi.ko: kernel/net/wireless/cfg80211.ko\n")
    write(root, MODULES + "/modules.builtin", "kernel/drivers/usb/core/usbcore.ko\n")
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/apt/lists/partial",
              "var/cache/apt/archives/partial", "var/log/apt", "etc/apt/sources.list.d"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for f in ("var/lib/dpkg/status", "var/lib/dpkg/available"):
        open(os.path.join(root, f), "w").close()
    # The packages: a DKMS-style camera driver, a firmware package, i915 1.0 and 1.1.
    camera_ko = module_object(m.work, "kefu_camera", "1.0")
    debs = [
        build_deb(m.work, "kefu-test-camera-dkms", "1.0-1",
                  {MODULES + "/updates/dkms/kefu_camera.ko": camera_ko},
                  modaliases="kefu_camera(usb:v04A9p31C0d*, usb:v04A9p31C1d*)",
                  description="camera driver (DKMS)"),
        build_deb(m.work, "kefu-test-firmware-iwlwifi", "20230210-5",
                  {"/lib/firmware/" + FIRMWARE_FILE: b"\x00firmware\x00"},
                  description="wireless firmware"),
    ]
    old = build_deb(os.path.join(m.work), "kefu-test-i915", "1.0-1",
                    {MODULES + "/kernel/drivers/gpu/drm/i915/i915.ko":
                     module_object(m.work, "i915", "1.0.0")}, description="graphics driver")
    os.makedirs(os.path.join(m.work, "new"), exist_ok=True)
    debs.append(build_deb(os.path.join(m.work, "new"), "kefu-test-i915", "1.1-1",
                          {MODULES + "/kernel/drivers/gpu/drm/i915/i915.ko":
                           module_object(os.path.join(m.work, "new"), "i915", "1.1.0")},
                          description="graphics driver"))
    for deb in debs:
        os.rename(deb, os.path.join(m.repo, os.path.basename(deb)))
    packages = subprocess.run(["apt-ftparchive", "packages", "."], cwd=m.repo, check=True,
                              capture_output=True, timeout=60).stdout
    with open(os.path.join(m.repo, "Packages"), "wb") as file:
        file.write(packages)
    contents = subprocess.run(["apt-ftparchive", "contents", "."], cwd=m.repo, check=True,
                              capture_output=True, timeout=60).stdout
    with open(os.path.join(m.repo, "Contents-amd64"), "wb") as file:
        file.write(contents)
    sources = os.path.join(m.base, "sources.list")
    with open(sources, "w") as file:
        file.write("deb [trusted=yes] file:%s ./\n" % m.repo)
    empty = os.path.join(m.base, "empty")
    os.makedirs(empty, exist_ok=True)
    with open(m.apt_conf, "w") as file:
        file.write(
            'Dir::Etc::sourcelist "%(sources)s";\nDir::Etc::sourceparts "%(empty)s";\n'
            'Dir::Etc::preferences "%(empty)s/none";\nDir::Etc::preferencesparts "%(empty)s";\n'
            'Dir::Etc::trusted "%(empty)s/none";\nDir::Etc::trustedparts "%(empty)s";\n'
            'Dir::Etc::parts "%(empty)s";\n'
            'Dir::State::lists "%(root)s/var/lib/apt/lists";\n'
            'Dir::State::status "%(root)s/var/lib/dpkg/status";\n'
            'Dir::Cache "%(root)s/var/cache/apt";\nDir::Log "%(root)s/var/log/apt";\n'
            'Debug::NoLocking "true";\nAPT::Sandbox::User "root";\nAPT::Architecture "amd64";\n'
            'DPkg::Options { "--root=%(root)s"; "--admindir=%(root)s/var/lib/dpkg"; '
            '"--log=%(root)s/var/log/dpkg.log"; "--force-script-chrootless"; };\n'
            % {"sources": sources, "empty": empty, "root": root})
    # i915 1.0 is installed, with dpkg on the tree; then apt reads the repository.
    subprocess.run(["dpkg", "--root=" + root, "--admindir=" + root + "/var/lib/dpkg",
                    "--log=/dev/null", "-i", old], check=True, capture_output=True, timeout=120)
    result = m.apt("update")
    assert result.returncode == 0, result.stderr
    # apt-file's Contents index, as apt stores it (compressed) in the lists folder.
    lists = os.path.join(root, "var/lib/apt/lists")
    with gzip.open(os.path.join(lists, "kefu-test-repo_Contents-amd64.gz"), "wb") as file:
        file.write(contents)
    return m
