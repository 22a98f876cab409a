# kefu: `make deb` builds kefu-helper, kefu-console and kefu-relay, lintian clean; they install
# with dpkg on this machine, run, register the kefu:// handler, and purge leaving nothing
# behind; the organisation's branded package puts its profile where the helper reads it.
# SPDX-License-Identifier: MIT
import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import SOURCE_DIR, program, run

PACKAGES = ["kefu-helper", "kefu-console", "kefu-relay"]
DROPIN = "/etc/ssh/sshd_config.d/kefu-relay.conf"
PROFILE = "/etc/kefu/profile.json"
# Places the packages or their maintainer scripts write, beyond what dpkg -L lists.
WATCHED = ["/etc/kefu", "/etc/kefu-relay", "/etc/ssh/sshd_config.d", "/var/lib/kefu-relay",
           "/usr/lib/kefu", "/usr/share/kefu", "/usr/share/doc/kefu-helper",
           "/usr/share/doc/kefu-console", "/usr/share/doc/kefu-relay"]


def kf_version():
    with open(os.path.join(SOURCE_DIR, "proto", "base", "cli.h")) as f:
        return re.search(r'#define KF_VERSION "([^"]+)"', f.read()).group(1)


def needs_root():
    if os.geteuid() != 0:
        pytest.skip("installing packages with dpkg needs root (the tests run as root in CI)")


def dpkg(*args):
    """dpkg, waiting (bounded) while another program holds its lock on this shared machine."""
    for _ in range(90):
        result = run(["dpkg"] + list(args), timeout=600,
                     env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if result.returncode == 0 or "lock" not in result.stderr:
            return result
        time.sleep(2)
    return result


def is_installed(package):
    result = run(["dpkg-query", "-W", "-f=${db:Status-Status}", package])
    return result.returncode == 0 and result.stdout.strip() not in ("", "not-installed")


def purge(*packages):
    present = [p for p in packages if is_installed(p)]
    if present:
        result = dpkg("--purge", *present)
        assert result.returncode == 0, result.stderr


def listing(paths):
    """Every path under the given ones, with its type and mode."""
    found = set()
    for top in paths:
        if not os.path.lexists(top):
            continue
        found.add((top, os.lstat(top).st_mode))
        for root, dirs, files in os.walk(top):
            for name in dirs + files:
                path = os.path.join(root, name)
                found.add((path, os.lstat(path).st_mode))
    return found


def accounts():
    return {name: run(["getent", "passwd", name]).stdout for name in ("kefu-agent", "kefu-tech")}


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    """The packages `make deb` builds (in a folder of this test's own), and its output."""
    out = tmp_path_factory.mktemp("deb")
    result = subprocess.run(["make", "-C", SOURCE_DIR, "--no-print-directory", "deb",
                             "DEB_B=%s" % out], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    version = kf_version()
    files = {"kefu-helper": out / ("kefu-helper_%s_amd64.deb" % version),
             "kefu-console": out / ("kefu-console_%s_amd64.deb" % version),
             "kefu-relay": out / ("kefu-relay_%s_all.deb" % version)}
    for path in files.values():
        assert path.exists(), sorted(os.listdir(str(out)))
    return {"files": files, "log": result.stdout + result.stderr}


def contents(deb):
    result = run(["dpkg-deb", "--fsys-tarfile", str(deb)], text=False)
    listed = run(["tar", "-tf", "-"], input=result.stdout, text=False)
    return {name.decode().lstrip(".") for name in listed.stdout.split()}


def field(deb, name):
    return run(["dpkg-deb", "-f", str(deb), name]).stdout.strip()


def test_make_deb_builds_the_three_packages_lintian_clean(debs):
    # make deb fails on any lintian error or warning; its output shows lintian ran.
    assert "lintian --fail-on error,warning" in debs["log"]
    assert not re.search(r"^[EW]: ", debs["log"], re.M), debs["log"][-3000:]
    files = debs["files"]
    helper, console, relay = (contents(files[p]) for p in PACKAGES)
    assert {"/usr/bin/kefu-agentd", "/usr/share/man/man1/kefu-agentd.1.gz",
            "/usr/share/polkit-1/actions/org.kefu.agentd.plugin-step.policy",
            "/usr/share/kefu/plugins/name-resolution-config/plugin.json",
            "/usr/share/kefu/plugins/name-resolution-config/kefu_plugin_lib/nsswitch.py",
            "/usr/share/doc/kefu-helper/copyright"} <= helper
    plugins = {p.split("/")[5] for p in helper if p.startswith("/usr/share/kefu/plugins/")
               and p.count("/") >= 6}
    in_tree = {d for d in os.listdir(os.path.join(SOURCE_DIR, "diag-plugins"))
               if os.path.exists(os.path.join(SOURCE_DIR, "diag-plugins", d, "plugin.json"))}
    assert plugins == in_tree
    assert not [p for p in helper if "__pycache__" in p]
    assert {"/usr/bin/kefu-console", "/usr/bin/kefu-plugin",
            "/usr/share/man/man1/kefu-console.1.gz", "/usr/share/man/man1/kefu-plugin.1.gz"} <= console
    assert {"/usr/sbin/kefu-relay-setup", "/usr/lib/kefu/kefu-relay-keys",
            "/usr/share/kefu/relay/kefu-relay.conf",
            "/usr/share/man/man8/kefu-relay-setup.8.gz"} <= relay
    # The customer's window goes into kefu-helper whenever the tree has it.
    if os.path.isdir(os.path.join(SOURCE_DIR, "agentd", "window")):
        assert {"/usr/bin/kefu-helper", "/usr/share/applications/kefu-helper.desktop",
                "/usr/share/man/man1/kefu-helper.1.gz"} <= helper
    # One version everywhere: the packages' and the programs' --version.
    for deb in files.values():
        assert field(deb, "Version") == kf_version()
    assert "python3" in field(files["kefu-helper"], "Depends")
    assert "openssh-server" in field(files["kefu-relay"], "Depends")
    version = run([program("kefu-agentd"), "--version"]).stdout.split()
    assert version == ["kefu-agentd", kf_version()]


def test_packages_install_run_and_purge_leaving_nothing_behind(debs, tmp_path):
    needs_root()
    purge("kefu-helper-test-org", *PACKAGES)
    files = debs["files"]
    shipped = set()
    for package in PACKAGES:
        shipped |= contents(files[package])
    shipped = {p.rstrip("/") or "/" for p in shipped}
    existed = {p for p in shipped if os.path.lexists(p)}
    before = listing(WATCHED)
    accounts_before = accounts()
    try:
        result = dpkg("-i", *(str(files[p]) for p in PACKAGES))
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        owned = set()
        for package in PACKAGES:
            listed = run(["dpkg", "-L", package])
            assert listed.returncode == 0
            owned |= set(listed.stdout.split())
        assert "/usr/bin/kefu-agentd" in owned and "/usr/sbin/kefu-relay-setup" in owned
        assert owned == {p for p in shipped if p != "/"} | {"/."}, sorted(owned ^ shipped)[:10]
        for name in ["kefu-agentd", "kefu-console", "kefu-plugin"]:
            out = run(["/usr/bin/" + name, "--version"])
            assert out.returncode == 0 and out.stdout.split() == [name, kf_version()]
        if os.path.exists("/usr/bin/kefu-helper"):
            out = run(["/usr/bin/kefu-helper", "--version"])
            assert out.returncode == 0 and kf_version() in out.stdout
        # The installed helper finds its shipped plugins in /usr/share/kefu/plugins.
        root = tmp_path / "root"
        (root / "etc").mkdir(parents=True)
        (root / "etc" / "nsswitch.conf").write_text("hosts: files myhostname\n")
        report = tmp_path / "report.json"
        report.write_text(json.dumps({"system": {}, "devices": [], "problems": []}))
        scan = run(["/usr/bin/kefu-agentd", "scan", "--root", str(root), "--report", str(report),
                    "--json"], timeout=120, env=dict(os.environ, HOME=str(tmp_path),
                                                     XDG_STATE_HOME=str(tmp_path / "state"),
                                                     XDG_DATA_HOME=str(tmp_path / "data")))
        checks = json.loads(scan.stdout)["checks"]
        assert [c["state"] for c in checks if c["plugin"] == "name-resolution-config"] == ["problem"]
        assert run(["man", "-w", "kefu-agentd"]).stdout.strip().startswith("/usr/share/man/")
        # The relay: the drop-in is installed, and sshd accepts the whole configuration.
        assert os.path.exists(DROPIN)
        with open(DROPIN) as f:
            assert "AuthorizedKeysCommand /usr/lib/kefu/kefu-relay-keys agent" in f.read()
        os.makedirs("/run/sshd", exist_ok=True)
        check = run(["/usr/sbin/sshd", "-t"])
        assert check.returncode == 0, check.stderr
        assert set(accounts().values()) != {""}
        keys = run(["/usr/sbin/kefu-relay-setup", "host-keys"])
        assert keys.returncode == 0 and "ssh-" in keys.stdout + keys.stderr
        # The keys command the package installed is what sshd runs, untouched by the setup.
        assert run(["dpkg", "--verify", "kefu-relay"]).stdout == ""
    finally:
        purge(*PACKAGES)
    after = listing(WATCHED)
    left = sorted(p for p in shipped - existed if os.path.lexists(p))
    assert not left, "left after purge: %s" % left[:20]
    assert after == before, "changed: %s" % sorted(after ^ before)[:20]
    assert not os.path.exists(DROPIN)
    assert accounts() == accounts_before
    for package in PACKAGES:
        assert not is_installed(package)


def test_url_handler_is_registered_for_kefu_links(debs, tmp_path):
    needs_root()
    if "/usr/share/applications/kefu-helper.desktop" not in contents(debs["files"]["kefu-helper"]):
        pytest.skip("this tree has no customer's window yet: kefu-helper carries no "
                    "kefu-helper.desktop to register")
    if shutil.which("xdg-mime") is None or shutil.which("update-desktop-database") is None:
        pytest.fail("xdg-utils and desktop-file-utils are in scripts/deps' package group")
    purge("kefu-helper-test-org", *PACKAGES)
    # A home of its own: only the system's desktop database answers, as on a new account.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    try:
        result = dpkg("-i", str(debs["files"]["kefu-helper"]))
        assert result.returncode == 0, result.stderr
        query = run(["xdg-mime", "query", "default", "x-scheme-handler/kefu"], env=env)
        assert query.stdout.strip() == "kefu-helper.desktop", query
    finally:
        purge("kefu-helper")
    query = run(["xdg-mime", "query", "default", "x-scheme-handler/kefu"], env=env)
    assert query.stdout.strip() == ""


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_profile(tmp_path):
    """A support CA and a profile whose one relay is a closed port on loopback."""
    console = program("kefu-console")
    ca = tmp_path / "ca"
    assert run([console, "ca", "init", "--org", "Test Org Support", "--dir", str(ca)]).returncode == 0
    assert run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                str(tmp_path / "host")]).returncode == 0
    host_key = " ".join((tmp_path / "host.pub").read_text().split()[:2])
    port = closed_port()
    made = run([console, "ca", "profile", "--dir", str(ca), "--relay", "127.0.0.1:%d" % port,
                "--host-key", host_key])
    assert made.returncode == 0, made.stderr
    (tmp_path / "profile.json").write_text(made.stdout)
    return made.stdout, port


def helper_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KEFU_PROFILE"}
    env.update(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    return env


def assert_helper_reads_the_installed_profile(tmp_path, port):
    """Without --profile or $KEFU_PROFILE the helper reads /etc/kefu/profile.json: it tries
    the profile's relay (a closed port on loopback) in the profile's organisation's name."""
    share = run(["/usr/bin/kefu-agentd", "share"], env=helper_env(tmp_path), timeout=60)
    said = share.stdout + share.stderr
    assert share.returncode != 0
    assert "Test Org Support" in said and "127.0.0.1" in said and str(port) in said, said


def test_branded_package_puts_the_profile_where_the_helper_reads_it(debs, tmp_path):
    needs_root()
    if os.path.lexists(PROFILE) and not is_installed("kefu-helper-test-org"):
        pytest.skip("%s exists on this machine and belongs to no kefu package; it is "
                    "not replaced by a test" % PROFILE)
    console = program("kefu-console")
    profile_text, port = make_profile(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    built = run([console, "ca", "package", "--name", "test-org", "--profile",
                 str(tmp_path / "profile.json"), "--output", str(out)])
    assert built.returncode == 0, built.stderr
    debs_made = [n for n in os.listdir(str(out))]
    assert len(debs_made) == 1 and debs_made[0].startswith("kefu-helper-test-org_")
    branded = out / debs_made[0]
    assert str(branded) in built.stdout
    lint = run(["lintian", "--fail-on", "error,warning", str(branded)], timeout=300)
    assert lint.returncode == 0 and not re.search(r"^[EW]: ", lint.stdout, re.M), lint.stdout
    assert field(branded, "Depends") == "kefu-helper (>= %s)" % kf_version()
    purge("kefu-helper-test-org", *PACKAGES)
    before = listing(WATCHED)
    # The helper reads /etc/kefu/profile.json when neither --profile nor $KEFU_PROFILE says
    # otherwise: it connects to the profile's relay (a closed port on loopback).
    try:
        result = dpkg("-i", str(debs["files"]["kefu-helper"]), str(branded))
        assert result.returncode == 0, result.stderr
        assert "/etc/kefu/profile.json" in run(
            ["dpkg-query", "-W", "-f=${Conffiles}", "kefu-helper-test-org"]).stdout
        with open(PROFILE) as f:
            assert json.load(f) == json.loads(profile_text)
        assert_helper_reads_the_installed_profile(tmp_path, port)
    finally:
        purge("kefu-helper-test-org", "kefu-helper")
    assert not os.path.lexists(PROFILE)
    assert listing(WATCHED) == before


def test_branded_package_with_the_helper_inside_installs_alone_and_purges_clean(debs, tmp_path):
    needs_root()
    if os.path.lexists(PROFILE) and not is_installed("kefu-helper-test-org"):
        pytest.skip("%s exists on this machine and belongs to no kefu package; it is "
                    "not replaced by a test" % PROFILE)
    profile_text, port = make_profile(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    built = run([program("kefu-console"), "ca", "package", "--name", "test-org", "--profile",
                 str(tmp_path / "profile.json"), "--helper", str(debs["files"]["kefu-helper"]),
                 "--output", str(out)])
    assert built.returncode == 0, built.stderr
    (name,) = os.listdir(str(out))
    bundle = out / name
    lint = run(["lintian", "--fail-on", "error,warning", str(bundle)], timeout=300)
    assert lint.returncode == 0 and not re.search(r"^[EW]: ", lint.stdout, re.M), lint.stdout
    purge("kefu-helper-test-org", *PACKAGES)
    shipped = {p.rstrip("/") or "/" for p in contents(bundle)}
    existed = {p for p in shipped if os.path.lexists(p)}
    before = listing(WATCHED)
    try:
        # One file: dpkg installs it with nothing else from kefu.
        result = dpkg("-i", str(bundle))
        assert result.returncode == 0, result.stderr
        assert not is_installed("kefu-helper")
        owned = set(run(["dpkg", "-L", "kefu-helper-test-org"]).stdout.split())
        assert {"/usr/bin/kefu-agentd", PROFILE,
                "/usr/share/kefu/plugins/name-resolution-config/plugin.json"} <= owned
        out_version = run(["/usr/bin/kefu-agentd", "--version"])
        assert out_version.stdout.split() == ["kefu-agentd", kf_version()]
        with open(PROFILE) as f:
            assert json.load(f) == json.loads(profile_text)
        assert_helper_reads_the_installed_profile(tmp_path, port)
        # The bundle is kefu-helper: dpkg refuses the plain package beside it.
        again = dpkg("-i", str(debs["files"]["kefu-helper"]))
        assert again.returncode != 0 and "conflict" in again.stderr.lower()
    finally:
        purge("kefu-helper-test-org", "kefu-helper")
    left = sorted(p for p in shipped - existed if os.path.lexists(p))
    assert not left, "left after purge: %s" % left[:20]
    assert listing(WATCHED) == before


def test_relay_package_never_leaves_sshd_a_configuration_it_rejects(debs):
    needs_root()
    purge("kefu-relay")
    broken = "/etc/ssh/sshd_config.d/kefu-test-broken-%d.conf" % os.getpid()
    old_dropin = "# the relay's drop-in as an earlier setup left it\n"
    if os.path.lexists(DROPIN):
        pytest.skip("%s exists and belongs to no package; it is not replaced by a test" % DROPIN)
    try:
        with open(DROPIN, "w") as f:
            f.write(old_dropin)
        with open(broken, "w") as f:
            f.write("ThisIsNoSshdKeyword yes\n")
        assert run(["/usr/sbin/sshd", "-t"]).returncode != 0
        # The package installs; its setup finds sshd rejecting the result and puts the
        # earlier drop-in back, byte for byte, reloading nothing.
        result = dpkg("-i", str(debs["files"]["kefu-relay"]))
        assert result.returncode == 0, result.stderr
        said = result.stdout + result.stderr
        assert "the drop-ins were put back as they were" in said and "sshd was left as it was" in said
        with open(DROPIN) as f:
            assert f.read() == old_dropin
        assert not [n for n in os.listdir("/etc/ssh/sshd_config.d") if n.endswith(".kefu-old")]
        # Once the administrator's configuration is fixed, the setup installs the relay.
        os.unlink(broken)
        setup = run(["/usr/sbin/kefu-relay-setup", "install"])
        assert setup.returncode == 0, setup.stderr
        with open(DROPIN) as f:
            assert "Match User kefu-agent" in f.read()
        assert run(["/usr/sbin/sshd", "-t"]).returncode == 0
    finally:
        if os.path.lexists(broken):
            os.unlink(broken)
        purge("kefu-relay")
        if os.path.lexists(DROPIN):
            os.unlink(DROPIN)
    assert not os.path.lexists(DROPIN)


WATCH_LINK = "/etc/systemd/user/timers.target.wants/kefu-watch.timer"
WATCH_STATE = "/var/lib/systemd/deb-systemd-user-helper-enabled"


def test_branded_package_with_watch_on_turns_the_check_on_for_every_account_until_purged(
        debs, tmp_path):
    needs_root()
    if os.path.lexists(PROFILE) and not is_installed("kefu-helper-test-org"):
        pytest.skip("%s exists on this machine and belongs to no kefu package; it is "
                    "not replaced by a test" % PROFILE)
    if os.path.lexists(WATCH_LINK) and not is_installed("kefu-helper-test-org"):
        pytest.skip("%s exists on this machine and belongs to no kefu package; it is "
                    "not changed by a test" % WATCH_LINK)
    make_profile(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    built = run([program("kefu-console"), "ca", "package", "--name", "test-org", "--profile",
                 str(tmp_path / "profile.json"), "--helper", str(debs["files"]["kefu-helper"]),
                 "--watch", "on", "--output", str(out)])
    assert built.returncode == 0, built.stderr
    (name,) = os.listdir(str(out))
    bundle = out / name
    lint = run(["lintian", "--fail-on", "error,warning", str(bundle)], timeout=300)
    assert lint.returncode == 0 and not re.search(r"^[EW]: ", lint.stdout, re.M), lint.stdout
    purge("kefu-helper-test-org", *PACKAGES)
    watched = ["/etc/systemd/user", WATCH_STATE]
    before = listing(watched)
    try:
        result = dpkg("-i", str(bundle))
        assert result.returncode == 0, result.stderr
        assert os.readlink(WATCH_LINK) == "/usr/lib/systemd/user/kefu-watch.timer"
        assert run(["systemctl", "--global", "is-enabled",
                    "kefu-watch.timer"]).stdout.strip() == "enabled"
    finally:
        purge("kefu-helper-test-org", "kefu-helper")
    assert not os.path.lexists(WATCH_LINK)
    assert listing(watched) == before
