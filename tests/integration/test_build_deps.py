# kefu: scripts/deps installs what is missing, or says exactly how. SPDX-License-Identifier: MIT
import os
import shutil
import stat
import tempfile

import pytest

from conftest import SOURCE_DIR, run

DEPS = os.path.join(SOURCE_DIR, "scripts", "deps")


@pytest.fixture
def fake_bin():
    """A directory every user can search (pytest's tmp_path is private to root)."""
    directory = tempfile.mkdtemp(prefix="kefu-deps-")
    os.chmod(directory, 0o755)
    yield directory
    shutil.rmtree(directory)


def fake_dpkg_query(directory, installed):
    """A dpkg-query that knows only the given installed packages."""
    path = os.path.join(directory, "dpkg-query")
    with open(path, "w") as script:
        script.write("#!/bin/sh\n")
        for package in installed:
            script.write("echo '%s installed'\n" % package)
    os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return path


def as_nobody():
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed, so root cannot run the script as another user")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_every_group_lists_packages_and_all_contains_them():
    all_packages = set(run([DEPS, "--print", "all"]).stdout.split())
    for group in ["build", "test", "fuzz", "demo", "bench", "package"]:
        result = run([DEPS, "--print", group])
        assert result.returncode == 0
        packages = set(result.stdout.split())
        assert packages and packages <= all_packages


def test_unknown_group_is_a_usage_error():
    result = run([DEPS, "nonsense"])
    assert result.returncode == 2
    assert "unknown group 'nonsense'" in result.stderr


def readable_copy(fake_bin):
    """The checkout may sit in a folder only root can enter (CI's clone does)."""
    copy = os.path.join(fake_bin, "deps")
    shutil.copy(DEPS, copy)
    os.chmod(copy, 0o755)
    return copy


def test_nothing_missing_prints_nothing_and_succeeds(fake_bin):
    installed = run([DEPS, "--print", "build"]).stdout.split()
    fake_dpkg_query(fake_bin, installed)
    env = dict(os.environ, PATH="%s:%s" % (fake_bin, os.environ["PATH"]))
    result = run(as_nobody() + [readable_copy(fake_bin), "build"], env=env)
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""


def test_missing_package_without_root_prints_the_exact_command_and_fails(fake_bin):
    installed = run([DEPS, "--print", "build"]).stdout.split()
    fake_dpkg_query(fake_bin, [p for p in installed if p != "libjansson-dev"])
    env = dict(os.environ, PATH="%s:%s" % (fake_bin, os.environ["PATH"]))
    result = run(as_nobody() + [readable_copy(fake_bin), "build"], env=env)
    assert result.returncode == 1
    assert "apt-get install -y --no-install-recommends libjansson-dev" in result.stderr
    assert result.stderr.count("libjansson-dev") == 1
