# kefu: `kefu-agentd drivers install|upgrade` through a real packagekitd on a private system bus: resolve, simulate, only-trusted, progress, verification, audit, the attacker's packages and consoles. SPDX-License-Identifier: MIT
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import program, run
from diag_fixtures import umockdev_dir  # noqa: F401 (pytest fixture)
from drivers_fixtures import CAMERA, GRAPHICS, MODULES, READER, build_deb, make_driver_machine
from packagekit_fixtures import PackageKit, PrivateSystemBus, pytestmark_packagekit
from session_fixtures import audit_log, grant, next_event, private_state, send, support  # noqa: F401

pytestmark = [pytestmark_packagekit,
              pytest.mark.skipif(os.geteuid() != 0,
                                 reason="packagekitd and its mount namespace need root")]

CAMERA_FILE = MODULES + "/updates/dkms/kefu_camera.ko"


@pytest.fixture
def machine(tmp_path, umockdev_dir):  # noqa: F811
    return make_driver_machine(str(tmp_path / "machine"), umockdev_dir)


@pytest.fixture
def packagekit(processes, machine):
    return PackageKit(processes, machine)


def installed(machine, package):
    with open(os.path.join(machine.root, "var/lib/dpkg/status")) as file:
        for stanza in file.read().split("\n\n"):
            fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line)
            if fields.get("Package") == package and fields["Status"].endswith(" installed"):
                return fields["Version"]
    return None


def drivers(packagekit, *args):
    machine = packagekit.machine
    args = list(args)
    action = [args.pop(0)] if args and not args[0].startswith("-") else []
    return run([program("kefu-agentd"), "drivers"] + action + ["--root", machine.root] + args,
               env=packagekit.env, timeout=300)


def package_progress(lines, package):
    """The lines PackageKit's Package signals gave for package (name and version)."""
    return [line for line in lines
            if line in ("Downloading " + package, "Installing " + package, "Upgrading " + package)]


def nothing_left_on_this_machine():
    """The test's packages went into the test's tree only: this machine's dpkg knows none."""
    result = run(["dpkg-query", "-W", "-f", "${Package}\n", "kefu-test-*"], timeout=60)
    assert result.stdout.strip() == "", result.stdout
    assert not os.path.exists(CAMERA_FILE)


def test_packagekit_sees_only_the_test_repository_and_tree(packagekit):
    camera = packagekit.pkcon("resolve", "kefu-test-camera-dkms")
    assert camera.returncode == 0, camera.stdout + camera.stderr
    assert "kefu-test-camera-dkms-1.0-1.all" in camera.stdout
    # bash is installed on this machine, and neither in the test's tree nor its repository.
    assert "bash-" not in packagekit.pkcon("resolve", "bash").stdout
    assert os.path.exists(os.path.join(packagekit.state, "transactions.db"))


def test_install_through_packagekit_is_simulated_then_only_trusted_verified_and_audited(
        packagekit):
    machine = packagekit.machine
    result = drivers(packagekit, "install", "--yes", "--backend", "packagekit",
                     "kefu-test-camera-dkms")
    assert result.returncode == 0, result.stderr
    assert installed(machine, "kefu-test-camera-dkms") == "1.0-1"
    assert os.path.exists(os.path.join(machine.root, CAMERA_FILE.lstrip("/")))
    assert "Installed kefu-test-camera-dkms 1.0-1 through PackageKit" in result.stdout
    assert "kefu-test-camera-dkms 1.0-1 is installed" in result.stdout
    assert "sudo modprobe kefu_camera" in result.stdout
    # PackageKit's own progress, relayed where apt-get's output goes.
    assert "Installing through PackageKit." in result.stderr
    # Which of dpkg's steps the apt backend reports depends on how fast they go: the
    # package's own line, whichever step it is, and the whole's percentage are always there.
    assert package_progress(result.stderr.splitlines(), "kefu-test-camera-dkms 1.0-1")
    assert "% done" in result.stderr
    calls = [c for c in packagekit.method_calls()
             if not c.startswith(("SetHints", "CreateTransaction"))]
    assert [c.split(":")[0] for c in calls] == [
        "Resolve method called", "InstallPackages method called",
        "InstallPackages method called"]
    assert calls[0].endswith(", kefu-test-camera-dkms")
    assert calls[1].startswith("InstallPackages method called: kefu-test-camera-dkms;1.0-1;all;")
    assert calls[1].endswith("(transaction_flags: simulate)")
    assert calls[2] == calls[1].replace("simulate", "only-trusted")
    events = machine.audit_events()
    assert [(e["event"], e["result"], e["backend"], e["needs"]) for e in events] == [
        ("drivers-install", "installed", "packagekit", "module-load")]
    assert events[0]["packages"] == [{"package": "kefu-test-camera-dkms", "from": None,
                                      "to": "1.0-1", "devices": [CAMERA]}]
    doc = json.loads(machine.drivers("--json").stdout)
    camera = {d["id"]: d for d in doc["devices"]}[CAMERA]
    assert camera["providers"][0]["installed"] == "1.0-1"
    nothing_left_on_this_machine()


def test_upgrade_through_packagekit_brings_the_newer_driver(packagekit):
    machine = packagekit.machine
    assert installed(machine, "kefu-test-i915") == "1.0-1"
    result = drivers(packagekit, "upgrade", "--yes", "--backend", "packagekit")
    assert result.returncode == 0, result.stderr
    assert installed(machine, "kefu-test-i915") == "1.1-1"
    assert "Upgraded kefu-test-i915 1.1-1 through PackageKit" in result.stdout
    assert package_progress(result.stderr.splitlines(), "kefu-test-i915 1.1-1")
    calls = packagekit.method_calls()
    assert any(c.startswith("UpdatePackages method called: kefu-test-i915;1.1-1;")
               and c.endswith("(transaction_flags: only-trusted)") for c in calls), calls
    events = machine.audit_events()
    assert [(e["event"], e["result"], e["backend"]) for e in events] == [
        ("drivers-upgrade", "installed", "packagekit")]
    assert events[0]["packages"][0]["from"] == "1.0-1"
    assert GRAPHICS in events[0]["packages"][0]["devices"]
    doc = json.loads(machine.drivers("--json").stdout)
    assert {d["id"]: d for d in doc["devices"]}[GRAPHICS]["module"]["version"] == "1.1.0"
    nothing_left_on_this_machine()


@pytest.mark.parametrize("package", ["bash", "apt", "kefu-test-i915", "kefu-test-unknown"])
def test_a_package_the_listing_does_not_offer_never_reaches_packagekit(packagekit, package):
    machine = packagekit.machine
    result = drivers(packagekit, "install", "--yes", "--backend", "packagekit", "--", package)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert packagekit.method_calls() == []
    assert packagekit.log_lines(package + ";") == []
    events = machine.audit_events()
    assert [(e["event"], e["result"], e["backend"]) for e in events] == [
        ("drivers-install", "refused", "packagekit")]
    # The same daemon, watched the same way, sees a package the listing offers.
    offered = drivers(packagekit, "install", "--yes", "--backend", "packagekit",
                      "kefu-test-firmware-iwlwifi")
    assert offered.returncode == 0, offered.stderr
    assert any("kefu-test-firmware-iwlwifi;20230210-5;all;" in c
               for c in packagekit.method_calls())


def add_reader_drivers(machine):
    """Two more driver packages for the card reader, and apt's lists read again: one needs a
    library package, the other conflicts with the graphics driver installed."""
    alias = "kefu_reader(pci:v000010ECd0000525A*)"
    build_deb(machine.repo, "kefu-test-reader-common", "1.0-1", {"/usr/share/kefu-reader/a": b"a"})
    build_deb(machine.repo, "kefu-test-reader-dkms", "1.0-1", {"/usr/share/kefu-reader/b": b"b"},
              modaliases=alias, control_extra="Depends: kefu-test-reader-common\n")
    build_deb(machine.repo, "kefu-test-reader-other", "1.0-1", {"/usr/share/kefu-reader/c": b"c"},
              modaliases=alias, control_extra="Conflicts: kefu-test-i915\n")
    packages = subprocess.run(["apt-ftparchive", "packages", "."], cwd=machine.repo, check=True,
                              capture_output=True, timeout=60).stdout
    with open(os.path.join(machine.repo, "Packages"), "wb") as file:
        file.write(packages)
    result = machine.apt("update")
    assert result.returncode == 0, result.stderr


def test_what_else_an_install_brings_is_said_before_the_question(packagekit):
    machine = packagekit.machine
    add_reader_drivers(machine)
    result = drivers(packagekit, "install", "--yes", "--backend", "packagekit",
                     "kefu-test-reader-dkms")
    assert result.returncode == 0, result.stderr
    question = result.stderr.index("Install kefu-test-reader-dkms")
    assert result.stderr.index("It also installs kefu-test-reader-common 1.0-1") < question
    assert installed(machine, "kefu-test-reader-dkms") == "1.0-1"
    assert installed(machine, "kefu-test-reader-common") == "1.0-1"
    events = machine.audit_events()
    assert [(e["result"], e["packages"][0]["devices"]) for e in events] == [
        ("installed", [READER])]


def test_a_driver_that_would_remove_a_package_is_refused(packagekit):
    machine = packagekit.machine
    add_reader_drivers(machine)
    result = drivers(packagekit, "install", "--yes", "--backend", "packagekit",
                     "kefu-test-reader-other")
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        "kefu-agentd: kefu-test-reader-other was not installed: it would remove "
        "kefu-test-i915 1.0-1")
    assert installed(machine, "kefu-test-reader-other") is None
    assert installed(machine, "kefu-test-i915") == "1.0-1"
    assert not any("only-trusted" in c for c in packagekit.method_calls())
    assert [(e["result"], e["backend"]) for e in machine.audit_events()] == [
        ("refused", "packagekit")]


def test_a_transaction_over_the_time_limit_is_cancelled_and_reported(packagekit):
    machine = packagekit.machine
    # A driver whose installation takes longer than the limit given.
    build_deb(machine.repo, "kefu-test-reader-slow", "1.0-1",
              {"/usr/share/kefu-reader/slow": b"s", "/DEBIAN/preinst": b"#!/bin/sh\nsleep 6\n"},
              modaliases="kefu_reader(pci:v000010ECd0000525A*)")
    packages = subprocess.run(["apt-ftparchive", "packages", "."], cwd=machine.repo, check=True,
                              capture_output=True, timeout=60).stdout
    with open(os.path.join(machine.repo, "Packages"), "wb") as file:
        file.write(packages)
    assert machine.apt("update").returncode == 0
    result = drivers(packagekit, "install", "--yes", "--backend", "packagekit", "--timeout", "2",
                     "kefu-test-reader-slow")
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        "kefu-agentd: Install kefu-test-reader-slow failed: PackageKit did not finish in 2 "
        "seconds; kefu asked it to cancel")
    assert packagekit.log_lines("Cancel method called")
    events = machine.audit_events()
    assert [(e["result"], e["backend"]) for e in events] == [("failed", "packagekit")]
    # packagekitd goes on with what dpkg had begun; the test waits for it before it ends.
    assert packagekit.pkcon("resolve", "kefu-test-reader-slow").returncode == 0


def test_a_package_from_an_unsigned_source_is_not_installed(packagekit):
    machine = packagekit.machine
    # The same repository, no longer marked trusted: apt reads it, but nothing vouches for it.
    with open(os.path.join(machine.base, "sources.list"), "w") as file:
        file.write("deb [allow-insecure=yes] file:%s ./\n" % machine.repo)
    update = machine.apt("update")
    assert update.returncode == 0, update.stderr
    result = drivers(packagekit, "install", "--yes", "--backend", "packagekit",
                     "kefu-test-camera-dkms")
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        "kefu-agentd: Install kefu-test-camera-dkms failed: PackageKit refused it: the package "
        "does not come from a signed, trusted source")
    assert installed(machine, "kefu-test-camera-dkms") is None
    assert any(c.endswith("(transaction_flags: only-trusted)") for c in packagekit.method_calls())
    assert [(e["result"], e["backend"]) for e in machine.audit_events()] == [
        ("failed", "packagekit")]


def test_without_approval_packagekit_only_simulates(packagekit):
    machine = packagekit.machine
    result = drivers(packagekit, "install", "--backend", "packagekit", "kefu-test-camera-dkms")
    assert result.returncode != 0 and "not approved" in result.stderr
    assert installed(machine, "kefu-test-camera-dkms") is None
    calls = packagekit.method_calls()
    assert any(c.endswith("(transaction_flags: simulate)") for c in calls), calls
    assert not any("only-trusted" in c for c in calls), calls
    assert [(e["result"], e["backend"]) for e in machine.audit_events()] == [
        ("declined", "packagekit")]


def test_packagekit_failure_is_one_clear_line_and_audited(packagekit):
    machine = packagekit.machine
    # The repository loses the package file after apt read its index.
    os.unlink(os.path.join(machine.repo, "kefu-test-camera-dkms_1.0-1_all.deb"))
    result = drivers(packagekit, "install", "--yes", "--backend", "packagekit",
                     "kefu-test-camera-dkms")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("kefu-agentd: Install kefu-test-camera-dkms failed: PackageKit failed")
    assert installed(machine, "kefu-test-camera-dkms") is None
    events = machine.audit_events()
    assert [(e["event"], e["result"], e["backend"]) for e in events] == [
        ("drivers-install", "failed", "packagekit")]


def test_auto_chooses_packagekit_on_the_system_bus_and_apt_without_it(packagekit, tmp_path):
    # A refused package on this very computer: the choice is audited, nothing is changed.
    env = dict(packagekit.env)
    result = run([program("kefu-agentd"), "drivers", "install", "--yes", "--", "bash"], env=env,
                 timeout=300)
    assert result.returncode != 0
    env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + str(tmp_path / "no-bus")
    result = run([program("kefu-agentd"), "drivers", "install", "--yes", "--", "bash"], env=env,
                 timeout=300)
    assert result.returncode != 0
    assert [(e["result"], e["backend"]) for e in packagekit.machine.audit_events()] == [
        ("refused", "packagekit"), ("refused", "apt")]
    assert packagekit.method_calls() == []


def test_auto_chooses_packagekit_when_the_bus_can_start_it(machine, processes, tmp_path):
    # The bus lists PackageKit as a service it would start: that is enough to choose it.
    services = tmp_path / "services"
    services.mkdir()
    (services / "org.freedesktop.PackageKit.service").write_text(
        "[D-BUS Service]\nName=org.freedesktop.PackageKit\nExec=/bin/false\nUser=root\n")
    bus = PrivateSystemBus(processes, str(tmp_path / "bus"), service_dir=str(services))
    result = run([program("kefu-agentd"), "drivers", "install", "--yes", "--", "bash"],
                 env=dict(machine.env, DBUS_SYSTEM_BUS_ADDRESS=bus.address), timeout=300)
    assert result.returncode != 0
    assert [(e["result"], e["backend"]) for e in machine.audit_events()] == [
        ("refused", "packagekit")]


def test_forced_packagekit_without_it_on_the_bus_is_one_clear_line(machine, processes, tmp_path):
    bus = PrivateSystemBus(processes, str(tmp_path / "bus"))
    result = run([program("kefu-agentd"), "drivers", "install", "--yes", "--backend",
                  "packagekit", "--root", machine.root, "kefu-test-camera-dkms"],
                 env=dict(machine.env, DBUS_SYSTEM_BUS_ADDRESS=bus.address), timeout=300)
    assert result.returncode != 0
    assert result.stderr == ("kefu-agentd: drivers: PackageKit is not running on this computer "
                             "(org.freedesktop.PackageKit is not on the system bus)\n")
    assert installed(machine, "kefu-test-camera-dkms") is None
    both = machine.drivers("install", "--yes", "--backend", "packagekit", "--apt-config",
                           machine.apt_conf, "kefu-test-camera-dkms")
    assert both.returncode != 0 and "--apt-config is for apt-get" in both.stderr


NOBODY = 65534
ALLOW_NOBODY = """polkit.addRule(function(action, subject) {
    if (action.id == "org.freedesktop.packagekit.package-install" && subject.user == "nobody")
        return polkit.Result.YES;
});
"""


@pytest.fixture
def open_machine(processes, umockdev_dir):  # noqa: F811
    """A machine a user other than root can read (the test's tmp_path is root's alone)."""
    base = tempfile.mkdtemp(prefix="kefu-pk-")
    os.chmod(base, 0o755)
    try:
        machine = make_driver_machine(os.path.join(base, "machine"), umockdev_dir)
        os.chown(machine.state, NOBODY, NOBODY)
        yield machine
    finally:
        processes.stop_all()
        shutil.rmtree(base)


def install_as_nobody(packagekit, package):
    machine = packagekit.machine
    env = dict(packagekit.env, HOME=machine.state, XDG_STATE_HOME=machine.state)
    return run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
                program("kefu-agentd"), "drivers", "install", "--yes", "--root", machine.root,
                "--backend", "packagekit", package], env=env, timeout=300)


def test_a_user_polkit_does_not_authorise_gets_one_clear_line(processes, open_machine):
    packagekit = PackageKit(processes, open_machine)
    result = install_as_nobody(packagekit, "kefu-test-camera-dkms")
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        "kefu-agentd: Install kefu-test-camera-dkms failed: No administrator approved "
        "installing it.")
    assert installed(open_machine, "kefu-test-camera-dkms") is None
    # PackageKit was asked, as that user, and polkit said no.
    assert packagekit.log_lines("emitting error-code not-authorized")
    assert [(e["result"], e["backend"]) for e in open_machine.audit_events()] == [
        ("failed", "packagekit")]


def test_a_user_polkit_authorises_installs_through_packagekit(processes, open_machine):
    packagekit = PackageKit(processes, open_machine, polkit_rules=ALLOW_NOBODY)
    result = install_as_nobody(packagekit, "kefu-test-camera-dkms")
    assert result.returncode == 0, result.stderr
    assert installed(open_machine, "kefu-test-camera-dkms") == "1.0-1"
    assert "Installed kefu-test-camera-dkms 1.0-1 through PackageKit" in result.stdout
    assert [(e["result"], e["backend"]) for e in open_machine.audit_events()] == [
        ("installed", "packagekit")]
    nothing_left_on_this_machine()


@pytest.fixture
def session(private_state, support, packagekit, monkeypatch):  # noqa: F811
    machine = packagekit.machine
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", packagekit.bus.address)
    monkeypatch.setenv("KEFU_DRIVERS_BACKEND", "packagekit")
    agent = support.start_agent("--root", machine.root)
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    yield agent, console, packagekit
    if console.poll() is None:
        send(console, "end")
        console.wait(timeout=30)
    if agent.proc.returncode is None:
        assert agent.finish() == 0


def test_console_without_repair_starts_no_packagekit_transaction(session, tmp_path):
    agent, console, packagekit = session
    grant(agent, console, "diagnose")
    send(console, "drivers install kefu-test-camera-dkms")
    assert "'repair' grant" in next_event(console, "error")["message"]
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    assert packagekit.method_calls() == []
    assert installed(packagekit.machine, "kefu-test-camera-dkms") is None
    assert [(e["action"], e["missing"]) for e in audit_log(tmp_path)
            if e["event"] == "action-refused"] == [("drivers.change", "repair")]


def test_under_repair_the_console_sees_packagekit_progress_and_the_result(session, tmp_path):
    agent, console, packagekit = session
    grant(agent, console, "repair")
    send(console, "drivers install kefu-test-camera-dkms")
    lines = []
    for _ in range(2000):
        event = next_event(console, "drivers-progress", "drivers-result", limit=2000)
        if event["event"] == "drivers-result":
            break
        lines.append(event["line"])
    assert event["ok"] is True, event
    assert "Installed kefu-test-camera-dkms 1.0-1 through PackageKit" in event["lines"][0]
    assert "Installing through PackageKit." in lines
    assert package_progress(lines, "kefu-test-camera-dkms 1.0-1"), lines
    assert installed(packagekit.machine, "kefu-test-camera-dkms") == "1.0-1"
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
    assert [(e["event"], e.get("result"), e.get("backend")) for e in audit_log(tmp_path)
            if e["event"].startswith("drivers-")] == [("drivers-install", "installed",
                                                       "packagekit")]
    nothing_left_on_this_machine()
