# kefu: `firmware updates` asks fwupd too: the real fwupd daemon on a private bus started by the
# test, with its test device (TestDevices=true) and a directory remote holding fwupd's signed
# fakedevice124 cabinet; its updates merge with those of kefu's own signed metadata.
# SPDX-License-Identifier: MIT
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import run
from firmware_fixtures import FirmwareBench, FirmwareCA, lvfs_cab, signed_cab
from test_firmware_updates import write_metadata

FWUPD_DAEMON = "/usr/libexec/fwupd/fwupd"
WEBCAM = "Integrated Webcam\u2122"

pytestmark = [
    pytest.mark.skipif(not os.path.exists(FWUPD_DAEMON) or shutil.which("fwupdmgr") is None,
                       reason="fwupd is not installed"),
    pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="dbus-daemon is missing"),
    pytest.mark.skipif(shutil.which("gcab") is None, reason="gcab is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="fwupd's daemon runs as root"),
]


class Fwupd:
    """A private bus (dbus-daemon) and fwupd's daemon on it, with a configuration of its own."""

    def __init__(self, processes, folder, fixtures_dir):
        self.folder = folder
        etc = os.path.join(folder, "etc", "fwupd")
        os.makedirs(os.path.join(etc, "remotes.d"))
        with open(os.path.join(etc, "fwupd.conf"), "w") as f:
            f.write("[fwupd]\nTestDevices=true\n")
        os.chmod(os.path.join(etc, "fwupd.conf"), 0o600)
        remote = os.path.join(folder, "remote")
        lvfs_cab(fixtures_dir, remote, "124")
        for name in os.listdir(remote):
            if not name.endswith(".cab"):
                os.unlink(os.path.join(remote, name))
        with open(os.path.join(etc, "remotes.d", "kefu-test.conf"), "w") as f:
            f.write("[fwupd Remote]\nEnabled=true\nTitle=kefu test\n"
                    "MetadataURI=file://%s\nApprovalRequired=false\n" % remote)
        os.makedirs(os.path.join(folder, "var"))
        os.makedirs(os.path.join(folder, "cache"))
        self.bus = os.path.join(folder, "bus")
        self.env = {"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=" + self.bus,
                    "FWUPD_SYSCONFDIR": os.path.join(folder, "etc"),
                    "FWUPD_LOCALSTATEDIR": os.path.join(folder, "var"),
                    "FWUPD_CACHEDIR": os.path.join(folder, "cache")}
        processes.start(["dbus-daemon", "--session", "--nofork", "--address",
                         "unix:path=" + self.bus], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(self.bus):
                break
            time.sleep(0.02)
        self.daemon = processes.start([FWUPD_DAEMON], env=self.environ(),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if run(["fwupdmgr", "get-devices", "--json"], env=self.environ()).returncode == 0:
                return
            if self.daemon.poll() is not None:
                raise AssertionError("fwupd's daemon exited")
            time.sleep(0.1)
        raise AssertionError("fwupd's daemon did not answer on the private bus")

    def environ(self, base=None):
        env = dict(base if base is not None else os.environ)
        env.update(self.env)
        return env


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    return FirmwareCA(str(tmp_path_factory.mktemp("fwca")))


@pytest.fixture
def bench(tmp_path, processes, test_ca, fixtures_dir):
    b = FirmwareBench(tmp_path, processes, [test_ca.ca])
    fwupd = Fwupd(processes, str(tmp_path / "fwupd"), fixtures_dir)
    base_env = b.env
    b.env = lambda: fwupd.environ(base_env())
    b.start_factory_device()
    yield b
    b.cleanup()


def test_fwupds_updates_are_listed_without_metadata_of_kefus_own(bench):
    result = bench.agent("updates", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["device_name"], r["from"], r["to"], r["component"], r["sources"])
            for r in rows] == [(WEBCAM, "1.2.2", "1.2.4", "org.fwupd.fakedevice.firmware",
                                ["fwupd"])]
    assert rows[0]["location"].endswith("/remote/lvfs124.cab")
    assert rows[0]["fwupd_remote"] == "kefu-test"
    text = bench.agent("updates")
    assert "1.2.2 -> 1.2.4" in text.stdout
    assert "from fwupd; install: fwupdmgr update %s" % rows[0]["device"] in text.stdout


def test_kefus_and_fwupds_updates_are_merged_one_row_per_device(bench, test_ca, tmp_path):
    folder = str(tmp_path / "remote")
    cab = signed_cab(test_ca, folder, "0x1020005", "1.2.5")
    metadata = write_metadata(test_ca, folder, cab)
    result = bench.agent("updates", "--json", "--metadata", metadata)
    assert result.returncode == 0, result.stderr
    rows = {(r["device"] if r["sources"] == ["kefu"] else r["device_name"]):
            (r["from"], r["to"], r["sources"]) for r in json.loads(result.stdout)}
    assert rows == {"emu0": ("1.2.2", "1.2.5", ["kefu"]),
                    WEBCAM: ("1.2.2", "1.2.4", ["fwupd"])}


def test_without_fwupd_or_metadata_the_error_still_says_how(bench, processes):
    processes.stop_all()
    result = bench.agent("updates")
    assert result.returncode != 0
    assert "firmware_metadata" in result.stderr
