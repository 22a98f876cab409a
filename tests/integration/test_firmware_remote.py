# kefu: `firmware updates` and `apply --latest` from an https:// remote: a real HTTPS server on
# loopback with a TLS CA of the test's own, and every way a download must be refused.
# SPDX-License-Identifier: MIT
import gzip
import json
import os
import shutil

import pytest

from firmware_fixtures import FAKE_GUID, FirmwareBench, FirmwareCA, sha256_file, signed_cab, write_jcat
from https_remote import Remote, TlsCA

pytestmark = pytest.mark.skipif(shutil.which("gcab") is None, reason="gcab is not installed")

METADATA = """<?xml version="1.0" encoding="utf-8"?>
<components origin="lvfs" version="0.9">
  <component type="firmware">
    <id>org.example.emu.firmware</id>
    <name>EmuDevice</name>
    <provides><firmware type="flashed">{guid}</firmware></provides>
    <custom><value key="LVFS::VersionFormat">triplet</value></custom>
    <releases>
      <release version="1.2.5" urgency="high">
        <location>{location}</location>
        <checksum type="sha256" target="container">{sha}</checksum>
        <description><p>Fixes the thing.</p></description>
      </release>
    </releases>
  </component>
</components>
"""


@pytest.fixture(scope="module")
def cas(tmp_path_factory):
    """The firmware signing CA, the remote's TLS CA and a TLS CA that issued nothing here."""
    return (FirmwareCA(str(tmp_path_factory.mktemp("fwca"))),
            TlsCA(str(tmp_path_factory.mktemp("tls"))),
            TlsCA(str(tmp_path_factory.mktemp("othertls")), name="another TLS CA"))


class RemoteBench(FirmwareBench):
    """The emulated device, and a profile whose metadata is on the HTTPS remote."""

    def __init__(self, tmp_path, processes, firmware_ca, tls):
        super().__init__(tmp_path, processes, [firmware_ca.ca])
        self.firmware_ca = firmware_ca
        self.served = os.path.join(self.tmp, "served")
        os.makedirs(self.served)
        self.cache = os.path.join(self.tmp, "cache")
        self.remote = Remote(processes, self.served, tls, self.tmp)
        self.set_profile(tls_ca=tls.pem())

    def set_profile(self, metadata="firmware.xml.gz", tls_ca=None):
        with open(self.profile) as f:
            profile = json.load(f)
        profile["firmware_metadata"] = metadata if "://" in metadata else self.remote.url(metadata)
        profile.pop("firmware_tls_ca", None)
        if tls_ca is not None:
            profile["firmware_tls_ca"] = tls_ca
        with open(self.profile, "w") as f:
            json.dump(profile, f)

    def env(self):
        env = super().env()
        env["XDG_CACHE_HOME"] = self.cache
        # The remote is on loopback: a proxy of the machine's must not stand between.
        for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(name, None)
        return env

    def publish(self, location=None, tamper=None):
        """A signed cabinet and the signed metadata naming it, on the remote."""
        cab = signed_cab(self.firmware_ca, os.path.join(self.tmp, "build"), "0x1020005", "1.2.5")
        shutil.copyfile(cab, os.path.join(self.served, os.path.basename(cab)))
        xml = METADATA.format(guid=FAKE_GUID, sha=sha256_file(cab),
                              location=location or os.path.basename(cab))
        path = os.path.join(self.served, "firmware.xml.gz")
        with gzip.open(path, "wb") as f:
            f.write(xml.encode())
        write_jcat(path + ".jcat", {"firmware.xml.gz": (sha256_file(path),
                                                       self.firmware_ca.sign(path))})
        if tamper is not None:
            with gzip.open(path, "wb") as f:
                f.write(tamper(xml).encode())
        return os.path.basename(cab)

    def cached(self):
        """Every file in the download cache, by name."""
        names = []
        for _, _, files in os.walk(self.cache):
            names.extend(files)
        return sorted(names)


@pytest.fixture
def bench(tmp_path, processes, cas):
    b = RemoteBench(tmp_path, processes, cas[0], cas[1])
    b.start_factory_device()
    yield b
    b.cleanup()


def refused(result, words):
    assert result.returncode != 0, result.stdout
    assert words in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def test_updates_and_apply_latest_fetch_from_the_remote(bench):
    cab = bench.publish()
    found = bench.agent("updates", "--json")
    assert found.returncode == 0, found.stderr
    assert [(u["device"], u["to"]) for u in json.loads(found.stdout)] == [("emu0", "1.2.5")]
    result = bench.agent("apply", "--latest", "emu0", "--yes")
    assert result.returncode == 0, result.stderr
    assert "Installed 1.2.5 on emu0" in result.stdout
    assert bench.version() == "1.2.5"
    # The cabinet came from beside the metadata, resolved against its URL.
    assert "/" + cab in [r["path"] for r in bench.remote.requests()]
    assert cab in bench.cached()


def test_unchanged_metadata_is_asked_for_conditionally_and_kept(bench):
    bench.publish()
    assert bench.agent("updates").returncode == 0
    again = bench.agent("updates", "--json")
    assert again.returncode == 0, again.stderr
    assert len(json.loads(again.stdout)) == 1
    last = [r for r in bench.remote.requests() if r["path"] == "/firmware.xml.gz"]
    assert len(last) == 2 and last[0]["if_none_match"] is None
    assert last[1]["if_none_match"] is not None and last[1]["if_modified_since"] is not None


def test_an_absolute_https_cabinet_location_is_fetched(bench):
    bench.publish(location=bench.remote.url("redirect-https/emu-1.2.5.cab"))
    result = bench.agent("apply", "--latest", "emu0", "--yes")
    assert result.returncode == 0, result.stderr
    assert bench.version() == "1.2.5"


def test_a_server_the_profile_ca_did_not_issue_is_refused(bench, cas):
    bench.publish()
    bench.set_profile(tls_ca=cas[2].pem())
    refused(bench.agent("updates"), "is not trusted")
    assert bench.cached() == []


def test_without_a_profile_ca_the_system_cas_do_not_know_the_test_ca(bench):
    bench.publish()
    bench.set_profile(tls_ca=None)
    refused(bench.agent("updates"), "is not trusted")


def test_http_metadata_is_refused_without_a_request(bench):
    bench.publish()
    bench.set_profile(metadata="http://127.0.0.1:%d/firmware.xml.gz" % bench.remote.port)
    refused(bench.agent("updates"), "only over https")
    assert bench.remote.requests() == []


def test_redirect_to_http_is_refused(bench, cas):
    bench.publish()
    bench.set_profile(metadata="redirect-http/firmware.xml.gz", tls_ca=cas[1].pem())
    refused(bench.agent("updates"), "kefu follows only https:// links")
    assert [r["path"] for r in bench.remote.requests()] == ["/redirect-http/firmware.xml.gz.jcat"]


def test_endless_redirects_are_cut_short(bench, cas):
    bench.set_profile(metadata="loop/0/firmware.xml.gz", tls_ca=cas[1].pem())
    refused(bench.agent("updates"), "redirects more than 5 times")
    assert len(bench.remote.requests()) == 6


def test_a_declared_oversized_file_is_refused(bench, cas):
    bench.set_profile(metadata="declared-huge/firmware.xml.gz", tls_ca=cas[1].pem())
    refused(bench.agent("updates"), "is larger than 16777216 bytes")
    assert bench.cached() == []


def test_an_oversized_stream_is_refused_and_leaves_nothing(bench, cas):
    bench.set_profile(metadata="stream/%d/firmware.xml.gz" % (17 * 1024 * 1024),
                      tls_ca=cas[1].pem())
    refused(bench.agent("updates"), "is larger than 16777216 bytes")
    assert bench.cached() == []


def test_a_server_that_never_answers_runs_into_the_time_limit(bench, cas):
    bench.set_profile(metadata="stall/firmware.xml.gz", tls_ca=cas[1].pem())
    refused(bench.agent("updates", "--download-timeout", "2"), "took longer than 2 seconds")


def test_tampered_metadata_is_refused_before_it_is_parsed(bench):
    bench.publish(tamper=lambda xml: xml + "<<<not xml")
    result = bench.agent("updates")
    refused(result, "not signed by a firmware CA this profile trusts")
    assert "not XML" not in result.stderr


def test_a_tampered_cabinet_is_refused_before_it_is_unpacked(bench):
    cab = bench.publish()
    # A genuine, signed cabinet, but not the one the metadata names.
    other = signed_cab(bench.firmware_ca, os.path.join(bench.tmp, "other"), "0x1020006", "1.2.6")
    shutil.copyfile(other, os.path.join(bench.served, cab))
    result = bench.agent("apply", "--latest", "emu0", "--yes")
    refused(result, "is not the one the signed metadata names")
    assert bench.version() == "1.2.2"
    assert cab not in bench.cached()
    assert "firmware-refused" in bench.audit_events()


def test_an_http_cabinet_location_is_refused(bench):
    bench.publish(location="http://127.0.0.1:%d/emu-1.2.5.cab" % bench.remote.port)
    refused(bench.agent("apply", "--latest", "emu0", "--yes"), "only over https")
    assert bench.version() == "1.2.2"


def test_offline_the_last_signed_copy_is_used_and_said_so(bench):
    bench.publish()
    assert bench.agent("updates").returncode == 0
    bench.remote.proc.terminate()
    bench.remote.proc.wait(timeout=10)
    result = bench.agent("updates", "--json")
    assert result.returncode == 0, result.stderr
    assert [u["to"] for u in json.loads(result.stdout)] == ["1.2.5"]
    assert "Cannot reach the server" in result.stderr
    assert "using the firmware metadata downloaded on" in result.stderr


def test_offline_without_a_copy_the_error_says_why(bench):
    bench.remote.proc.terminate()
    bench.remote.proc.wait(timeout=10)
    refused(bench.agent("updates"), "Cannot reach the server")


def test_offline_a_tampered_cached_copy_is_still_refused(bench):
    bench.publish()
    assert bench.agent("updates").returncode == 0
    bench.remote.proc.terminate()
    bench.remote.proc.wait(timeout=10)
    cached = [os.path.join(d, f) for d, _, files in os.walk(bench.cache) for f in files
              if f == "firmware.xml.gz"]
    with gzip.open(cached[0], "wb") as f:
        f.write(b"<components/>")
    result = bench.agent("updates")
    assert result.returncode != 0
    assert "not signed by a firmware CA this profile trusts" in result.stderr
