# kefu: the support CA, technicians' credentials and the support profile. SPDX-License-Identifier: MIT
import json
import os
import stat
import subprocess

import pytest

from conftest import program, run
from session_fixtures import issue, make_ca


def console(*args):
    return run([program("kefu-console"), "ca"] + list(args))


@pytest.fixture
def ca(tmp_path):
    directory = str(tmp_path / "ca")
    assert console("init", "--dir", directory, "--org", "Example Support").returncode == 0
    return directory


def subject(path):
    return run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in",
                path]).stdout


def test_issued_credential_verifies_against_the_ca_with_name_and_organisation(ca):
    result = console("issue", "Alice Tan", "--dir", ca, "--days", "30")
    assert result.returncode == 0, result.stderr
    chain = os.path.join(ca, "technicians", "Alice Tan.pem")
    check = run(["openssl", "verify", "-purpose", "sslserver", "-CAfile",
                 os.path.join(ca, "ca.pem"), chain])
    assert check.returncode == 0, check.stdout + check.stderr
    assert "CN=Alice Tan" in subject(chain) and "O=Example Support" in subject(chain)
    ca_text = run(["openssl", "x509", "-noout", "-text", "-in", os.path.join(ca, "ca.pem")]).stdout
    assert "CA:TRUE" in ca_text and "Certificate Sign" in ca_text


def test_private_keys_are_readable_by_their_owner_only(ca):
    console("issue", "Bob", "--dir", ca)
    for key in (os.path.join(ca, "ca.key"), os.path.join(ca, "technicians", "Bob.key")):
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_init_never_overwrites_a_ca(ca):
    before = open(os.path.join(ca, "ca.key")).read()
    result = console("init", "--dir", ca, "--org", "Other")
    assert result.returncode == 1 and "never overwritten" in result.stderr
    assert open(os.path.join(ca, "ca.key")).read() == before


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b", "", "x" * 65, "tab\there"])
def test_bad_technician_names_are_refused(ca, name):
    result = console("issue", name, "--dir", ca)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1


def test_issue_without_a_ca_says_how_to_make_one(tmp_path):
    result = console("issue", "Alice", "--dir", str(tmp_path / "none"))
    assert result.returncode == 1 and "ca init" in result.stderr


def test_certificate_of_another_ca_does_not_verify(ca, tmp_path):
    other_key, other_ca = make_ca(str(tmp_path), "Mallory Ltd")
    chain, _ = issue(str(tmp_path), other_key, other_ca, "Mallory", "Example Support")
    check = run(["openssl", "verify", "-CAfile", os.path.join(ca, "ca.pem"), chain])
    assert check.returncode != 0


def test_profile_carries_the_ca_relay_and_host_key(ca, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "h")],
                   check=True)
    host_key = " ".join(open(str(tmp_path / "h.pub")).read().split()[:2])
    result = console("profile", "--dir", ca, "--relay", "relay.example.com:443", "--host-key",
                     host_key)
    assert result.returncode == 0, result.stderr
    profile = json.loads(result.stdout)
    assert profile["schema"] == "kefu.profile/1"
    assert profile["organisation"] == "Example Support"
    assert profile["relays"] == [{"host": "relay.example.com", "port": 443,
                                  "agent_user": "kefu-agent", "technician_user": "kefu-tech",
                                  "host_keys": [host_key]}]
    assert profile["support_ca"] == open(os.path.join(ca, "ca.pem")).read()


def test_profile_refuses_an_rsa_host_key(ca):
    result = console("profile", "--dir", ca, "--relay", "relay.example.com", "--host-key",
                     "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ")
    assert result.returncode == 1 and "not accepted" in result.stderr


def test_printed_profile_validates_against_the_published_schema(ca, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "h")],
                   check=True)
    host_key = " ".join(open(str(tmp_path / "h.pub")).read().split()[:2])
    profile = json.loads(console("profile", "--dir", ca, "--relay", "relay.example.com",
                                 "--host-key", host_key).stdout)
    schema = json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "proto", "session",
                                         "profile.schema.json")))
    jsonschema.validate(profile, schema)
