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


def fake_package(tmp_path, name, version="0.1.0"):
    """A small package built with dpkg-deb: one program, its copyright, md5sums, a conffile."""
    root = tmp_path / ("%s-root" % name)
    (root / "DEBIAN").mkdir(parents=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "share" / "doc" / name).mkdir(parents=True)
    (root / "etc" / "kefu-test").mkdir(parents=True)
    (root / "usr" / "bin" / "kefu-agentd").write_text("#!/bin/sh\necho kefu-agentd %s\n" % version)
    (root / "usr" / "bin" / "kefu-agentd").chmod(0o755)
    (root / "usr" / "share" / "doc" / name / "copyright").write_text("kefu: MIT licence\n")
    (root / "usr" / "share" / "doc" / name / "README").write_text("read me\n")
    (root / "etc" / "kefu-test" / "settings").write_text("a=1\n")
    (root / "DEBIAN" / "conffiles").write_text("/etc/kefu-test/settings\n")
    sums = run(["md5sum", "usr/bin/kefu-agentd", "usr/share/doc/%s/copyright" % name,
                "usr/share/doc/%s/README" % name], cwd=str(root)).stdout
    (root / "DEBIAN" / "md5sums").write_text(sums)
    (root / "DEBIAN" / "control").write_text(
        "Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: kefu <k@kefu.invalid>\n"
        "Installed-Size: 100\nDepends: libc6 (>= 2.34), python3\nRecommends: bubblewrap\n"
        "Description: test\n a test package\n" % (name, version))
    deb = tmp_path / ("%s.deb" % name)
    built = run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)])
    assert built.returncode == 0, built.stderr
    return deb


def test_with_helper_the_package_is_the_helper_and_the_profile_in_one_file(profile, tmp_path):
    helper = fake_package(tmp_path, "kefu-helper", "0.1.0")
    text = json.dumps(profile)
    result, out = package(tmp_path, text, "--helper", str(helper),
                          env=dict(os.environ, SOURCE_DATE_EPOCH="1764700000"))
    assert result.returncode == 0, result.stderr
    assert os.listdir(str(out)) == ["kefu-helper-example_0.1.0+20251202182640_amd64.deb"]
    deb = out / os.listdir(str(out))[0]
    assert "sudo apt install ./%s" % deb.name in result.stdout
    fields = {name: run(["dpkg-deb", "-f", str(deb), name]).stdout.strip()
              for name in ("Package", "Version", "Architecture", "Depends", "Recommends",
                           "Provides", "Conflicts", "Replaces")}
    assert fields == {"Package": "kefu-helper-example", "Version": "0.1.0+20251202182640",
                      "Architecture": "amd64", "Depends": "libc6 (>= 2.34), python3",
                      "Recommends": "bubblewrap",
                      "Provides": "kefu-helper (= 0.1.0), kefu-profile",
                      "Conflicts": "kefu-helper, kefu-profile",
                      "Replaces": "kefu-helper, kefu-profile"}
    unpacked = tmp_path / "unpacked"
    assert run(["dpkg-deb", "-R", str(deb), str(unpacked)]).returncode == 0
    assert (unpacked / "etc" / "kefu" / "profile.json").read_text() == text
    assert (unpacked / "usr" / "bin" / "kefu-agentd").exists()
    doc = unpacked / "usr" / "share" / "doc"
    assert sorted(os.listdir(str(doc))) == ["kefu-helper-example"]
    assert "kefu: MIT licence" in (doc / "kefu-helper-example" / "copyright").read_text()
    # The helper's conffiles stay conffiles; every other file is in md5sums, and matches.
    assert (unpacked / "DEBIAN" / "conffiles").read_text() == \
        "/etc/kefu-test/settings\n/etc/kefu/profile.json\n"
    sums = (unpacked / "DEBIAN" / "md5sums").read_text()
    assert sorted(line.split("  ", 1)[1] for line in sums.splitlines()) == sorted([
        "usr/bin/kefu-agentd", "usr/share/doc/kefu-helper-example/README",
        "usr/share/doc/kefu-helper-example/changelog.gz",
        "usr/share/doc/kefu-helper-example/copyright"])
    check = run(["md5sum", "-c", str(unpacked / "DEBIAN" / "md5sums")], cwd=str(unpacked))
    assert check.returncode == 0, check.stdout


def test_helper_that_is_another_package_is_refused(profile, tmp_path):
    other = fake_package(tmp_path, "kefu-console")
    result, out = package(tmp_path, json.dumps(profile), "--helper", str(other))
    assert_refused(result, out, "--helper takes the kefu-helper package")
    assert "kefu-console" in result.stderr


def test_helper_that_is_no_package_is_refused(profile, tmp_path):
    bogus = tmp_path / "bogus.deb"
    bogus.write_text("not an ar archive\n")
    result, out = package(tmp_path, json.dumps(profile), "--helper", str(bogus))
    assert_refused(result, out, "dpkg-deb could not read the kefu-helper package")
    result, out = package(tmp_path, json.dumps(profile), "--helper", str(tmp_path / "none.deb"))
    assert_refused(result, out, "--helper names no file")


@pytest.mark.parametrize("link", ["usr/share/doc/kefu-helper", "etc/kefu", "etc"])
def test_helper_whose_folders_are_links_out_is_refused_and_nothing_outside_changes(
        profile, tmp_path, link):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "copyright").write_text("the technician's own file\n")
    root = tmp_path / "hostile-root"
    deb = fake_package(tmp_path, "kefu-helper")
    # The same package, with one of the folders ca package writes in replaced by a link.
    assert run(["dpkg-deb", "-R", str(deb), str(root)]).returncode == 0
    target = root / link
    if target.exists():
        run(["rm", "-rf", str(target)])
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(str(outside), str(target))
    sums = [line for line in (root / "DEBIAN" / "md5sums").read_text().splitlines()
            if not line.split("  ", 1)[1].startswith(link + "/")]
    (root / "DEBIAN" / "md5sums").write_text("".join(line + "\n" for line in sums))
    if link.startswith("etc"):
        (root / "DEBIAN" / "conffiles").write_text("")
    hostile = tmp_path / "hostile.deb"
    built = run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(hostile)])
    assert built.returncode == 0, built.stderr
    result, out = package(tmp_path, json.dumps(profile), "--helper", str(hostile))
    assert_refused(result, out, "as something other than a folder")
    assert sorted(os.listdir(str(outside))) == ["copyright"]
    assert (outside / "copyright").read_text() == "the technician's own file\n"



UNITS = os.path.join(SOURCE_DIR, "packaging", "systemd")
GLOBAL_LINK = os.path.join("etc", "systemd", "user", "timers.target.wants", "kefu-watch.timer")


def control_files(tmp_path, deb):
    control = tmp_path / "control"
    assert run(["dpkg-deb", "-e", str(deb), str(control)]).returncode == 0
    return control


def test_watch_on_adds_the_policy_scripts_and_stays_lintian_clean(profile, tmp_path):
    result, out = package(tmp_path, json.dumps(profile), "--watch", "on")
    assert result.returncode == 0, result.stderr
    assert "daily check on for every account" in result.stdout
    deb = out / os.listdir(str(out))[0]
    control = control_files(tmp_path, deb)
    assert sorted(os.listdir(str(control))) == ["conffiles", "control", "md5sums", "postinst",
                                               "postrm"]
    for name in ("postinst", "postrm"):
        assert os.stat(str(control / name)).st_mode & 0o777 == 0o755
        assert run(["sh", "-n", str(control / name)]).returncode == 0
        checked = run(["shellcheck", "-s", "sh", str(control / name)])
        assert checked.returncode == 0, checked.stdout
    assert "kefu-agentd watch --enable --all-users" in (control / "postinst").read_text()
    assert "/" + GLOBAL_LINK in (control / "postrm").read_text()
    assert "daily check" in run(["dpkg-deb", "-f", str(deb), "Description"]).stdout
    lint = run(["lintian", "--fail-on", "error,warning", str(deb)], timeout=300)
    assert lint.returncode == 0 and not re.search(r"^[EW]: ", lint.stdout, re.M), lint.stdout


@pytest.mark.parametrize("extra", [[], ["--watch", "off"]])
def test_without_watch_on_the_package_has_no_maintainer_scripts(profile, tmp_path, extra):
    result, out = package(tmp_path, json.dumps(profile), *extra)
    assert result.returncode == 0, result.stderr
    control = control_files(tmp_path, out / os.listdir(str(out))[0])
    assert sorted(os.listdir(str(control))) == ["conffiles", "control", "md5sums"]


def test_a_bad_watch_value_is_refused(profile, tmp_path):
    result, out = package(tmp_path, json.dumps(profile), "--watch", "yes")
    assert_refused(result, out, "--watch takes on or off")


def helper_with_script(tmp_path, name, text):
    """The fake kefu-helper package with a maintainer script of its own."""
    deb = fake_package(tmp_path, "kefu-helper")
    root = tmp_path / ("with-" + name)
    assert run(["dpkg-deb", "-R", str(deb), str(root)]).returncode == 0
    (root / "DEBIAN" / name).write_text(text)
    (root / "DEBIAN" / name).chmod(0o755)
    helper = tmp_path / ("with-%s.deb" % name)
    assert run(["dpkg-deb", "--root-owner-group", "--build", str(root),
                str(helper)]).returncode == 0
    return helper


@pytest.mark.parametrize("text", ["#!/bin/bash\necho own\n",
                                  "#!/bin/sh\ncat <<'KEFU_HELPER_SCRIPT'\nx\nKEFU_HELPER_SCRIPT\n"])
def test_watch_on_with_a_helper_script_it_cannot_keep_whole_is_refused(profile, tmp_path, text):
    helper = helper_with_script(tmp_path, "postinst", text)
    result, out = package(tmp_path, json.dumps(profile), "--helper", str(helper), "--watch",
                          "on")
    assert_refused(result, out, "cannot be joined with the kefu-helper package's own postinst")


def test_watch_on_runs_the_helpers_own_script_first_as_it_was_written(profile, tmp_path):
    # As debhelper writes them: set -e, the arguments, no exit at the end.
    own = ("#!/bin/sh\nset -e\necho \"helper $0 $*\" >> \"$KEFU_TEST_RECORD\"\n"
           "x='it$s \"quoted\" `not run`'\necho \"$x\" >> \"$KEFU_TEST_RECORD\"\n")
    helper = helper_with_script(tmp_path, "postinst", own)
    result, out = package(tmp_path, json.dumps(profile), "--helper", str(helper), "--watch",
                          "on")
    assert result.returncode == 0, result.stderr
    control = control_files(tmp_path, out / os.listdir(str(out))[0])
    assert own in (control / "postinst").read_text()
    record = tmp_path / "record"
    # A kefu-agentd of the test's own stands in: this runs the merged script, not the policy.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "kefu-agentd").write_text("#!/bin/sh\necho \"agentd $*\" >> \"$KEFU_TEST_RECORD\"\n")
    (fake / "kefu-agentd").chmod(0o755)
    env = dict(os.environ, KEFU_TEST_RECORD=str(record),
               PATH="%s:%s" % (fake, os.environ["PATH"]))
    ran = run(["sh", str(control / "postinst"), "configure", "0.1.0"], env=env)
    assert ran.returncode == 0, ran.stderr
    assert record.read_text().splitlines() == [
        "helper %s configure 0.1.0" % (control / "postinst"),
        "it$s \"quoted\" `not run`", "agentd watch --enable --all-users"]
    # The helper's script failing fails the whole, as it would alone.
    (control / "fail").write_text((control / "postinst").read_text().replace(
        "set -e\necho \"helper", "set -e\nfalse\necho \"helper", 1))
    assert run(["sh", str(control / "fail"), "configure"], env=env).returncode != 0


def maintainer_script(control, name, tree, *args):
    """A maintainer script run as dpkg --root runs it (DPKG_ROOT), with the built
    kefu-agentd: the real systemctl --global acts on the tree, never on this machine."""
    env = dict(os.environ, DPKG_ROOT=str(tree), DPKG_MAINTSCRIPT_PACKAGE="kefu-helper-example",
               DPKG_MAINTSCRIPT_NAME=name,
               PATH="%s:%s" % (os.path.dirname(program("kefu-agentd")), os.environ["PATH"]))
    env.pop("KEFU_SYSTEMCTL", None)
    result = run(["sh", str(control / name), *args], env=env)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.skipif(os.geteuid() != 0, reason="--all-users is an administrator's (root) switch")
@pytest.mark.skipif(not os.path.exists("/bin/systemctl") and not os.path.exists(
    "/usr/bin/systemctl"), reason="systemctl (package systemd) is not installed")
def test_watch_on_enables_the_timer_for_every_account_and_removal_takes_exactly_that(
        profile, tmp_path):
    result, out = package(tmp_path, json.dumps(profile), "--watch", "on")
    assert result.returncode == 0, result.stderr
    control = control_files(tmp_path, out / os.listdir(str(out))[0])
    tree = tmp_path / "tree"
    units = tree / "usr" / "lib" / "systemd" / "user"
    units.mkdir(parents=True)
    for name in ("kefu-watch.timer", "kefu-watch.service"):
        (units / name).write_text(open(os.path.join(UNITS, name)).read())
    # Another unit an administrator enabled for every account: it must stay.
    wants = tree / "etc" / "systemd" / "user" / "timers.target.wants"
    wants.mkdir(parents=True)
    os.symlink("/usr/lib/systemd/user/other.timer", str(wants / "other.timer"))
    link = tree / GLOBAL_LINK
    installed = maintainer_script(control, "postinst", tree, "configure")
    assert "on for every account" in installed.stdout
    assert os.readlink(str(link)) == "/usr/lib/systemd/user/kefu-watch.timer"
    status = run([program("kefu-agentd"), "watch", "--status", "--root", str(tree)])
    assert "on for every account of %s (the organisation's policy)" % tree in status.stdout
    # An upgrade (its old postrm says "upgrade") leaves it; removal takes exactly it away.
    maintainer_script(control, "postrm", tree, "upgrade", "0.1.0+1")
    assert os.path.islink(str(link))
    maintainer_script(control, "postrm", tree, "remove")
    assert not os.path.lexists(str(link))
    assert sorted(os.listdir(str(wants))) == ["other.timer"]
    # Alone in its folder, the folder goes with it, as systemctl made it.
    os.unlink(str(wants / "other.timer"))
    maintainer_script(control, "postinst", tree, "configure")
    maintainer_script(control, "postrm", tree, "purge")
    assert not os.path.lexists(str(wants))
    assert run([program("kefu-agentd"), "watch", "--status", "--root", str(tree)]).stdout == \
        "The daily check is not turned on for every account of %s.\n" % tree
