# kefu: `kefu-console ca package` builds the organisation's customer package from a checked
# support profile, and refuses bad input with one line, writing nothing.
# SPDX-License-Identifier: MIT
import json
import os
import re

import pytest

from conftest import SOURCE_DIR, program, run


def kf_version():
    with open(os.path.join(SOURCE_DIR, "proto", "base", "cli.h")) as f:
        return re.search(r'#define KF_VERSION "([^"]+)"', f.read()).group(1)


@pytest.fixture(scope="module")
def profile(tmp_path_factory):
    """A support profile as `ca profile` writes it, for one relay."""
    tmp = tmp_path_factory.mktemp("branded")
    console = program("kefu-console")
    made = run([console, "ca", "init", "--org", "Example Support", "--dir", str(tmp / "ca")])
    assert made.returncode == 0, made.stderr
    assert run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / "host")]).returncode == 0
    host_key = " ".join((tmp / "host.pub").read_text().split()[:2])
    made = run([console, "ca", "profile", "--dir", str(tmp / "ca"), "--relay",
                "relay.example.com:443", "--host-key", host_key])
    assert made.returncode == 0, made.stderr
    return json.loads(made.stdout)


def package(tmp_path, profile_text, *extra, env=None, name="example"):
    path = tmp_path / "profile.json"
    path.write_text(profile_text)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    args = [program("kefu-console"), "ca", "package", "--name", name, "--profile", str(path),
            "--output", str(out)] + list(extra)
    return run(args, env=env), out


def assert_refused(result, out, words):
    assert result.returncode == 1, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kefu-console: "), result.stderr
    assert words in lines[0], lines[0]
    assert result.stdout == ""
    # Nothing half-written: no package, no partial file, no staging folder.
    assert os.listdir(str(out)) == []


def test_package_carries_the_profile_as_a_conffile_and_is_lintian_clean(profile, tmp_path):
    text = json.dumps(profile, indent=2) + "\n"
    result, out = package(tmp_path, text, env=dict(os.environ, SOURCE_DATE_EPOCH="1764700000"))
    assert result.returncode == 0, result.stderr
    names = os.listdir(str(out))
    assert names == ["kefu-helper-example_%s+20251202182640_all.deb" % kf_version()]
    deb = out / names[0]
    assert str(deb) in result.stdout and "Example Support" in result.stdout
    fields = {name: run(["dpkg-deb", "-f", str(deb), name]).stdout.strip()
              for name in ("Package", "Depends", "Provides", "Conflicts", "Replaces",
                           "Architecture")}
    assert fields == {"Package": "kefu-helper-example",
                      "Depends": "kefu-helper (>= %s)" % kf_version(),
                      "Provides": "kefu-profile", "Conflicts": "kefu-profile",
                      "Replaces": "kefu-profile", "Architecture": "all"}
    unpacked = tmp_path / "unpacked"
    assert run(["dpkg-deb", "-R", str(deb), str(unpacked)]).returncode == 0
    # The bytes the vendor wrote, where the helper reads its profile.
    assert (unpacked / "etc" / "kefu" / "profile.json").read_text() == text
    assert (unpacked / "DEBIAN" / "conffiles").read_text() == "/etc/kefu/profile.json\n"
    check = run(["md5sum", "-c", str(unpacked / "DEBIAN" / "md5sums")], cwd=str(unpacked))
    assert check.returncode == 0 and check.stdout.count(": OK") == 2, check.stdout
    owners = run(["dpkg-deb", "-c", str(deb)]).stdout
    assert all(" root/root " in line for line in owners.splitlines())
    lint = run(["lintian", "--fail-on", "error,warning", str(deb)], timeout=300)
    assert lint.returncode == 0 and not re.search(r"^[EW]: ", lint.stdout, re.M), lint.stdout


def test_a_newer_package_has_a_higher_version(profile, tmp_path):
    text = json.dumps(profile)
    versions = []
    for epoch in ("1764700000", "1764700060"):
        (tmp_path / epoch).mkdir()
        result, out = package(tmp_path / epoch, text, env=dict(os.environ, SOURCE_DATE_EPOCH=epoch))
        assert result.returncode == 0, result.stderr
        deb = out / os.listdir(str(out))[0]
        versions.append(run(["dpkg-deb", "-f", str(deb), "Version"]).stdout.strip())
    assert run(["dpkg", "--compare-versions", versions[1], "gt", versions[0]]).returncode == 0


@pytest.mark.parametrize("change, words", [
    (lambda p: p.update(relays=[]), "'relays' needs 1 to 10 relays"),
    (lambda p: p.pop("relays"), "relays"),
    (lambda p: p.pop("support_ca"), "support_ca"),
    (lambda p: p.update(support_ca="not a certificate"), "support_ca"),
    (lambda p: p["relays"][0].update(host_keys=[]), "host_keys"),
    (lambda p: p.update(unknown_field=1), "unknown_field"),
    # Text that would end a control field and start another one.
    (lambda p: p.update(organisation="Acme\nDepends: evil"),
     "organisation must be one line"),
    (lambda p: p.update(organisation="Acme\x1b[2J"), "\\x1b[2J"),
])
def test_bad_profile_is_refused_before_anything_is_written(profile, tmp_path, change, words):
    changed = json.loads(json.dumps(profile))
    change(changed)
    result, out = package(tmp_path, json.dumps(changed))
    assert_refused(result, out, words)


@pytest.mark.parametrize("name", ["", "Example", "a/b", "../x", "a b", "-x", "x-", "x" * 41,
                                  "x\ny"])
def test_bad_package_name_is_refused(profile, tmp_path, name):
    result, out = package(tmp_path, json.dumps(profile), name=name)
    assert_refused(result, out, "--name takes")


@pytest.mark.parametrize("maintainer", ["Example <support@example.com>\nDepends: evil",
                                        "no address", ""])
def test_bad_maintainer_is_refused(profile, tmp_path, maintainer):
    result, out = package(tmp_path, json.dumps(profile), "--maintainer", maintainer)
    assert_refused(result, out, "--maintainer takes")


def test_maintainer_goes_into_the_package(profile, tmp_path):
    result, out = package(tmp_path, json.dumps(profile), "--maintainer",
                          "Example Support <support@example.com>")
    assert result.returncode == 0, result.stderr
    deb = out / os.listdir(str(out))[0]
    assert run(["dpkg-deb", "-f", str(deb), "Maintainer"]).stdout.strip() == \
        "Example Support <support@example.com>"


def test_profile_that_is_not_json_or_too_large_is_refused(profile, tmp_path):
    result, out = package(tmp_path, "{not json")
    assert_refused(result, out, "is refused")
    result, out = package(tmp_path, " " * (1024 * 1024) + json.dumps(profile))
    assert_refused(result, out, "larger than")


def test_missing_profile_is_one_escaped_line(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = run([program("kefu-console"), "ca", "package", "--name", "x", "--profile",
                  str(tmp_path / "no\x1b[31mfile"), "--output", str(out)])
    assert_refused(result, out, "no\\x1b[31mfile")
    assert "\x1b" not in result.stderr


def test_missing_output_folder_is_refused(profile, tmp_path):
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile))
    result = run([program("kefu-console"), "ca", "package", "--name", "x", "--profile",
                  str(path), "--output", str(tmp_path / "nowhere")])
    assert result.returncode == 1 and "does not exist" in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_without_dpkg_deb_nothing_is_left_behind(profile, tmp_path):
    result, out = package(tmp_path, json.dumps(profile),
                          env=dict(os.environ, PATH=str(tmp_path / "empty")))
    assert_refused(result, out, "cannot run dpkg-deb")


def test_dpkg_deb_failing_leaves_no_partial_package(profile, tmp_path):
    # A dpkg-deb that writes half a package and fails: its first line is the error.
    fake = tmp_path / "bin"
    fake.mkdir()
    script = fake / "dpkg-deb"
    script.write_text("#!/bin/sh\nfor last; do :; done\necho half > \"$last\"\n"
                      "echo 'dpkg-deb: error: no space left' >&2\nexit 2\n")
    script.chmod(0o755)
    result, out = package(tmp_path, json.dumps(profile),
                          env=dict(os.environ, PATH="%s:%s" % (fake, os.environ["PATH"])))
    assert_refused(result, out, "dpkg-deb could not build the package: dpkg-deb: error: no space left")
