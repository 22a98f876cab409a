# kefu: a real packagekitd (and polkitd, which it asks even for root) on a private system bus, whose apt sees only a test's repository and tree. SPDX-License-Identifier: MIT
#
# The bus is a dbus-daemon of the test's own (its configuration below, with the system
# bus policies that PackageKit and polkit ship). packagekitd runs in a mount namespace
# made by unshare(1): its state and cache folders and apt's sources, lists and cache are
# the test's own folders mounted over this machine's, and APT_CONFIG is the test's
# private apt configuration (drivers_fixtures.py), whose dpkg works with --root on the
# test's tree. So nothing of this machine's package state is read or written; every
# process is stopped by PID when the test ends.
import os
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import run

PACKAGEKITD = "/usr/libexec/packagekitd"
POLKITD = "/usr/lib/polkit-1/polkitd"
PACKAGEKIT_BUS_POLICY = "/etc/dbus-1/system.d/org.freedesktop.PackageKit.conf"
POLKIT_BUS_POLICY = "/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf"

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>%(listen)s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>%(packagekit)s</include>
  <include>%(polkit)s</include>
%(servicedir)s</busconfig>
"""

# "SOURCE=TARGET"... -- COMMAND...: the test's folders over this machine's, inside the
# namespace only, then the daemon.
NAMESPACE_SCRIPT = """set -e
while [ "$1" != "--" ]; do
    mount --bind "${1%%=*}" "${1#*=}"
    shift
done
shift
exec "$@"
"""


def in_mount_namespace(mounts, command):
    return (["unshare", "--mount", "--propagation", "private", "sh", "-c", NAMESPACE_SCRIPT,
             "namespace"] + ["%s=%s" % pair for pair in mounts] + ["--"] + command)

pytestmark_packagekit = pytest.mark.skipif(
    not (os.path.exists(PACKAGEKITD) and os.path.exists(POLKITD) and shutil.which("dbus-daemon")
         and shutil.which("dbus-send") and shutil.which("pkcon") and shutil.which("unshare")
         and os.path.exists(PACKAGEKIT_BUS_POLICY)),
    reason="packagekit, packagekit-tools, polkitd, dbus-daemon, dbus-bin or unshare is missing")


def name_has_owner(address, name):
    result = run(["dbus-send", "--bus=" + address, "--print-reply", "--dest=org.freedesktop.DBus",
                  "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:" + name],
                 timeout=10)
    return result.returncode == 0 and "boolean true" in result.stdout


class PrivateSystemBus:
    """A dbus-daemon with the system bus's PackageKit and polkit policies, for one test."""

    def __init__(self, processes, base, socket=None, service_dir=None):
        """socket: a path to listen on (what a setuid pkexec finds mounted where the system
        bus's socket is); by default an abstract socket: no file to leave behind, and no
        limit of a socket path's length. service_dir: where the bus finds the services it can
        start (none by default)."""
        os.makedirs(base, exist_ok=True)
        self.base = base
        self.processes = processes
        if socket is not None:
            self.address = "unix:path=" + socket
        else:
            self.address = "unix:abstract=kefu-test-bus-%d-%s" % (os.getpid(), uuid.uuid4().hex)
        config = os.path.join(base, "bus.conf")
        with open(config, "w") as file:
            file.write(BUS_CONFIG % {
                "listen": self.address, "packagekit": PACKAGEKIT_BUS_POLICY,
                "polkit": POLKIT_BUS_POLICY,
                "servicedir": "  <servicedir>%s</servicedir>\n" % service_dir if service_dir else ""})
        log = os.path.join(base, "dbus-daemon.log")
        with open(log, "w") as out:
            self.daemon = processes.start(["dbus-daemon", "--config-file=" + config, "--nofork",
                                           "--nopidfile"], stdout=out, stderr=subprocess.STDOUT)
        self.wait_for_name("org.freedesktop.DBus", self.daemon, log)
        self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address)

    def wait_for_name(self, name, proc, log):
        for _ in range(200):
            if name_has_owner(self.address, name):
                return
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        with open(log) as file:
            pytest.fail("%s did not come on the private bus:\n%s" % (name, file.read()[-3000:]))

    def start_polkitd(self, rules=""):
        """polkitd with the rules of the test's own instead of this machine's
        /etc/polkit-1/rules.d (it reads them as its own user, polkitd)."""
        rules_dir = os.path.join(self.base, "polkit-rules.d")
        os.makedirs(rules_dir, exist_ok=True)
        os.chmod(rules_dir, 0o755)
        if rules:
            with open(os.path.join(rules_dir, "50-kefu-test.rules"), "w") as file:
                file.write(rules)
            os.chmod(os.path.join(rules_dir, "50-kefu-test.rules"), 0o644)
        log = os.path.join(self.base, "polkitd.log")
        with open(log, "w") as out:
            proc = self.processes.start(
                in_mount_namespace([(rules_dir, "/etc/polkit-1/rules.d")], [POLKITD, "--no-debug"]),
                env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.wait_for_name("org.freedesktop.PolicyKit1", proc, log)
        return proc


class PackageKit:
    """packagekitd on a private system bus, working on a DriverMachine's tree."""

    def __init__(self, processes, machine, polkit_rules=""):
        self.machine = machine
        base = os.path.join(machine.base, "packagekit")
        self.bus = PrivateSystemBus(processes, os.path.join(base, "bus"))
        self.polkitd = self.bus.start_polkitd(polkit_rules)
        # Folders of the test's own where this machine keeps PackageKit's and apt's state.
        mounts = []
        for target in ("/var/lib/PackageKit", "/var/cache/PackageKit", "/var/lib/apt/lists",
                       "/var/cache/apt", "/etc/apt/sources.list.d"):
            if os.path.isdir(target):
                source = os.path.join(base, "mounts", target.strip("/").replace("/", "-"))
                os.makedirs(source, exist_ok=True)
                mounts.append((source, target))
        if os.path.exists("/etc/apt/sources.list"):
            empty = os.path.join(base, "mounts", "sources.list")
            open(empty, "w").close()
            mounts.append((empty, "/etc/apt/sources.list"))
        self.state = os.path.join(base, "mounts", "var-lib-PackageKit")
        self.log = os.path.join(base, "packagekitd.log")
        env = dict(self.bus.env, APT_CONFIG=machine.apt_conf, LC_ALL="C.UTF-8")
        # --keep-environment: packagekitd clears its environment, APT_CONFIG too, otherwise.
        with open(self.log, "w") as out:
            self.daemon = processes.start(
                in_mount_namespace(mounts, [PACKAGEKITD, "--keep-environment", "--disable-timer",
                                            "--verbose"]),
                env=env, stdout=out, stderr=subprocess.STDOUT)
        self.bus.wait_for_name("org.freedesktop.PackageKit", self.daemon, self.log)
        self.env = dict(machine.env, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address)

    def log_lines(self, text):
        """The lines of packagekitd's log that contain text."""
        with open(self.log, errors="replace") as file:
            return [line for line in file if text in line]

    def method_calls(self):
        """Every transaction method packagekitd was asked for, with its arguments."""
        return [line.split("\t", 2)[-1].strip() for line in self.log_lines(" method called")]

    def pkcon(self, *args):
        return run(["pkcon", "--plain"] + list(args), env=self.env, timeout=120)
