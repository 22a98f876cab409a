# kefu: a user who is not root installs a driver package through pkexec: polkit (a real polkitd on a private system bus, with a rule of the test's own) authorises, the elevated side matches the package again and apt-get installs it on this machine from a test-made repository; it is purged afterwards and nothing is left. SPDX-License-Identifier: MIT
#
# pkexec is setuid: GLib then ignores $DBUS_SYSTEM_BUS_ADDRESS, so the private bus's socket
# is mounted where the system bus's is, in a mount namespace of the test's own. apt's
# sources, lists and cache and root's home (where the elevated side keeps its audit log)
# are the test's folders in that namespace; dpkg's database is this machine's, as in
# test_packaging_deb.py, and the package is purged whatever the test's outcome.
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import program, run
from drivers_fixtures import build_deb
from packagekit_fixtures import POLKITD, PrivateSystemBus, in_mount_namespace

PACKAGE = "kefu-pkexec-test-driver"
SHIPPED = "/usr/share/kefu-pkexec-test-driver/README"
NOBODY = 65534
ALLOW_NOBODY = """polkit.addRule(function(action, subject) {
    if (action.id == "org.freedesktop.policykit.exec" && subject.user == "nobody")
        return polkit.Result.YES;
});
"""

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="installs on this machine: root only"),
    pytest.mark.skipif(not (os.path.exists("/usr/bin/pkexec") and os.path.exists(POLKITD)
                            and shutil.which("setpriv") and shutil.which("unshare")),
                       reason="pkexec, polkitd, setpriv or unshare is not installed"),
]

# In the namespace: the private bus where pkexec looks for the system bus, apt's state,
# a fresh apt-get update from the test's repository, then the user's command.
SCRIPT = """set -e
mount -t tmpfs -o mode=0755 tmpfs /run/dbus
: > /run/dbus/system_bus_socket
mount --bind "$KEFU_BUS_SOCKET" /run/dbus/system_bus_socket
apt-get -q -o APT::Sandbox::User=root update >&2
exec setpriv --reuid=%d --regid=%d --clear-groups -- "$@"
""" % (NOBODY, NOBODY)


def dpkg_knows(package):
    result = run(["dpkg-query", "-W", "-f", "${Status}", package], timeout=60)
    return result.stdout if result.returncode == 0 else None


def purge():
    if dpkg_knows(PACKAGE) is not None:
        run(["dpkg", "--purge", PACKAGE], timeout=300)


def driverless_device():
    """A device of this computer without a driver, with its modalias (None when every
    device has one)."""
    doc = json.loads(run([program("kefu-agentd"), "drivers", "--json"], timeout=120).stdout)
    for device in doc["devices"]:
        if device.get("needs_driver") and device.get("modalias") and not device["providers"]:
            return device
    return None


@pytest.fixture
def world(processes):
    if dpkg_knows(PACKAGE) is not None:
        pytest.fail("%s is on this machine already: purge it first" % PACKAGE)
    device = driverless_device()
    if device is None:
        pytest.skip("every device of this computer has a driver: no package to offer")
    base = tempfile.mkdtemp(prefix="kefu-pkexec-")
    os.chmod(base, 0o755)
    try:
        w = {"base": base, "device": device}
        # nobody runs the agent: a copy it can reach, wherever the checkout lies (a
        # clone in a private folder is closed to other accounts).
        w["agentd"] = os.path.join(base, "kefu-agentd")
        shutil.copy2(program("kefu-agentd"), w["agentd"])
        os.chmod(w["agentd"], 0o755)
        repo = os.path.join(base, "repo")
        os.makedirs(repo)
        os.chmod(repo, 0o755)
        build_deb(repo, PACKAGE, "1.0-1", {SHIPPED: b"kefu's pkexec test\n"},
                  modaliases="kefu_pkexec_test(%s)" % device["modalias"],
                  description="driver for the pkexec test")
        packages = subprocess.run(["apt-ftparchive", "packages", "."], cwd=repo, check=True,
                                  capture_output=True, timeout=60).stdout
        with open(os.path.join(repo, "Packages"), "wb") as file:
            file.write(packages)
        mounts = []
        for name, target in (("sources.list.d", "/etc/apt/sources.list.d"),
                             ("lists", "/var/lib/apt/lists"), ("cache", "/var/cache/apt"),
                             ("root-home", "/root")):
            source = os.path.join(base, name)
            os.makedirs(source)
            os.chmod(source, 0o755)
            mounts.append((source, target))
        os.makedirs(os.path.join(base, "lists", "partial"))
        os.makedirs(os.path.join(base, "cache", "archives", "partial"))
        with open(os.path.join(base, "sources.list.d", "kefu-test.list"), "w") as file:
            file.write("deb [trusted=yes] file:%s ./\n" % repo)
        if os.path.exists("/etc/apt/sources.list"):
            empty = os.path.join(base, "sources.list")
            open(empty, "w").close()
            mounts.append((empty, "/etc/apt/sources.list"))
        w["mounts"] = mounts
        w["root_home"] = os.path.join(base, "root-home")
        w["state"] = os.path.join(base, "user-state")
        os.makedirs(w["state"])
        os.chown(w["state"], NOBODY, NOBODY)
        w["bus"] = PrivateSystemBus(processes, os.path.join(base, "bus"),
                                    socket=os.path.join(base, "bus", "socket"))
        w["rules"] = ALLOW_NOBODY
        yield w
    finally:
        processes.stop_all()
        purge()
        shutil.rmtree(base)


def user_runs(w, *args):
    """As nobody, in the namespace: kefu-agentd drivers ARGS."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8", "HOME": w["state"],
           "XDG_STATE_HOME": w["state"], "KEFU_BUS_SOCKET": w["bus"].address[len("unix:path="):]}
    command = in_mount_namespace(w["mounts"], ["sh", "-c", SCRIPT, "namespace", w["agentd"],
                                               "drivers"] + list(args))
    return run(command, env=env, timeout=600)


def audit(folder):
    path = os.path.join(folder, "kefu", "audit.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as file:
        return [e for e in (json.loads(line) for line in file) if e["event"].startswith("drivers-")]


def test_a_user_installs_through_pkexec_the_elevated_side_checks_and_purge_leaves_nothing(world):
    world["bus"].start_polkitd(world["rules"])
    result = user_runs(world, "install", "--yes", "--backend", "apt", PACKAGE)
    assert result.returncode == 0, result.stderr
    assert dpkg_knows(PACKAGE) == "install ok installed"
    assert os.path.exists(SHIPPED)
    assert "Installed %s 1.0-1 through apt-get" % PACKAGE in result.stdout
    # Both sides wrote their event: the user's, and root's (pkexec's) after its own check.
    user = audit(world["state"])
    assert [(e["result"], e["backend"]) for e in user] == [("installed", "apt")]
    assert user[0]["packages"][0]["devices"] == [world["device"]["id"]]
    elevated = audit(os.path.join(world["root_home"], ".local", "state"))
    assert [(e["result"], e["backend"]) for e in elevated] == [("installed", "apt")]
    purge()
    assert dpkg_knows(PACKAGE) is None
    assert not os.path.exists(SHIPPED)
    assert not os.path.exists(os.path.dirname(SHIPPED))


def test_without_polkit_authorisation_pkexec_installs_nothing(world):
    world["bus"].start_polkitd("")
    result = user_runs(world, "install", "--yes", "--backend", "apt", PACKAGE)
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        "kefu-agentd: Install %s failed: No administrator approved installing it." % PACKAGE)
    assert dpkg_knows(PACKAGE) is None
    assert not os.path.exists(SHIPPED)
    assert [(e["result"], e["backend"]) for e in audit(world["state"])] == [("failed", "apt")]
    assert audit(os.path.join(world["root_home"], ".local", "state")) == []
