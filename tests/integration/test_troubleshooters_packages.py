# kefu: packages-broken with the real dpkg (a package built here with dpkg-deb, unpacked into
# a tree with dpkg --root) and apt's own parser of sources.list(5); the result is read back
# with dpkg-query --admindir and apt-get -o Dir=. SPDX-License-Identifier: MIT
import os
import shutil
import subprocess

import pytest

from plugin_trees import base_tree, fix_only, healthy_only, write

PLUGIN = "packages-broken"
CONTROL = "Package: {name}\nVersion: 1.0\nArchitecture: all\nMaintainer: kefu <kefu@example.org>\n" \
    "Description: kefu test package\n"


def need_tools():
    if os.geteuid() != 0 or shutil.which("dpkg-deb") is None or shutil.which("apt-get") is None:
        pytest.skip("needs root, dpkg-deb and apt-get")


def sh(*args):
    p = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=120)
    assert p.returncode == 0, p.stdout
    return p.stdout


def package(tmp_path, name):
    folder = tmp_path / ("pkg-" + name)
    (folder / "DEBIAN").mkdir(parents=True)
    (folder / "DEBIAN" / "control").write_text(CONTROL.format(name=name))
    doc = folder / "usr" / "share" / "doc" / name
    doc.mkdir(parents=True)
    (doc / "README").write_text(name + "\n")
    deb = str(tmp_path / (name + ".deb"))
    sh("dpkg-deb", "--root-owner-group", "-b", str(folder), deb)
    return deb


def dpkg_tree(tmp_path):
    root = base_tree(tmp_path)
    for d in ("info", "updates", "triggers", "alternatives"):
        os.makedirs(os.path.join(root, "var/lib/dpkg", d), exist_ok=True)
    write(root, "/var/lib/dpkg/status", "")
    write(root, "/etc/apt/sources.list",
          "deb http://deb.debian.org/debian bookworm main\n"
          "deb http://deb.debian.org/debian-security bookworm-security main\n")
    for d in ("var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "etc/apt/sources.list.d",
              "etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/trusted.gpg.d"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    return root


def status_of(root, name):
    return subprocess.run(["dpkg-query", "--admindir=" + os.path.join(root, "var/lib/dpkg"),
                           "-W", "-f", "${db:Status-Status}", name], stdout=subprocess.PIPE,
                          universal_newlines=True).stdout


def install(tmp_path, root, name, how="--install"):
    sh("dpkg", "--root=" + root, how, package(tmp_path, name))


def edit_status(root, name, status, extra=""):
    path = os.path.join(root, "var/lib/dpkg/status")
    text = open(path).read()
    start = text.index("Package: %s\n" % name)
    end = text.find("\n\n", start)
    end = len(text) if end < 0 else end
    stanza = text[start:end]
    new = "\n".join(("Status: " + status) if line.startswith("Status:") else line
                    for line in stanza.splitlines()) + extra
    open(path, "w").write(text[:start] + new + text[end:])


def journal(root, name, status):
    """An interrupted run: dpkg's journal holds the package's newer state."""
    path = os.path.join(root, "var/lib/dpkg/status")
    text = open(path).read()
    start = text.index("Package: %s\n" % name)
    end = text.find("\n\n", start)
    stanza = text[start:end if end >= 0 else len(text)]
    write(root, "/var/lib/dpkg/updates/0000",
          "\n".join(("Status: " + status) if line.startswith("Status:") else line
                    for line in stanza.splitlines()) + "\n")


FAULTS = {
    "unpacked-not-configured": lambda t, r: install(t, r, "kefu-a", "--unpack"),
    "half-configured": lambda t, r: (install(t, r, "kefu-a"),
                                     edit_status(r, "kefu-a", "install ok half-configured")),
    "triggers-pending": lambda t, r: (install(t, r, "kefu-a"),
                                      edit_status(r, "kefu-a", "install ok triggers-pending",
                                                  "\nTriggers-Pending: ldconfig")),
    "interrupted-journal": lambda t, r: (install(t, r, "kefu-a"),
                                         journal(r, "kefu-a", "install ok half-configured")),
    "two-packages-unpacked": lambda t, r: (install(t, r, "kefu-a", "--unpack"),
                                           install(t, r, "kefu-b", "--unpack")),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_interrupted_installation_is_finished_by_dpkg(tmp_path, name):
    need_tools()
    root = dpkg_tree(tmp_path)
    install(tmp_path, root, "kefu-ok")
    FAULTS[name](tmp_path, root)
    fix_only(tmp_path, root, PLUGIN)
    for pkg in ("kefu-a", "kefu-b", "kefu-ok"):
        if status_of(root, pkg):
            assert status_of(root, pkg) == "installed", pkg
    assert not [n for n in os.listdir(os.path.join(root, "var/lib/dpkg/updates")) if n.isdigit()]


def apt_reads(root):
    p = subprocess.run(["apt-get", "-o", "Dir=" + root, "-o", "Debug::NoLocking=1",
                        "-o", "Dir::State::status=" + os.path.join(root, "var/lib/dpkg/status"),
                        "indextargets"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return p.returncode == 0 and "Malformed" not in p.stdout


SOURCE_FAULTS = {
    # sources.list(5): the suite is required
    "no-suite": ("/etc/apt/sources.list.d/vendor.list", "deb http://apt.example.com/debian\n"),
    # the type must be deb or deb-src
    "wrong-type": ("/etc/apt/sources.list.d/vendor.list", "dep http://apt.example.com/ stable main\n"),
    # an unterminated option bracket
    "broken-options": ("/etc/apt/sources.list.d/vendor.list",
                       "deb [arch=amd64 http://apt.example.com/ stable main\n"),
    # deb822: Components are required unless the suite is an exact path ending in /
    "deb822-no-components": ("/etc/apt/sources.list.d/vendor.sources",
                             "Types: deb\nURIs: http://apt.example.com/\nSuites: stable\n"),
    # a keyring named by signed-by that is not there
    "missing-keyring": ("/etc/apt/sources.list.d/vendor.list",
                        "deb [signed-by=/usr/share/keyrings/vendor.gpg] http://apt.example.com/ "
                        "stable main\n"),
    "deb822-missing-keyring": ("/etc/apt/sources.list.d/vendor.sources",
                               "Types: deb\nURIs: http://apt.example.com/\nSuites: stable\n"
                               "Components: main\nSigned-By: /etc/apt/keyrings/vendor.asc\n"),
}


@pytest.mark.parametrize("name", sorted(SOURCE_FAULTS))
def test_broken_source_entry_is_switched_off(tmp_path, name):
    need_tools()
    root = dpkg_tree(tmp_path)
    path, text = SOURCE_FAULTS[name]
    write(root, path, "deb http://deb.example.org/good stable main\n" + text
          if path.endswith(".list") else text)
    fix_only(tmp_path, root, PLUGIN)
    assert apt_reads(root)
    after = open(os.path.join(root, path.lstrip("/"))).read()
    if path.endswith(".list"):
        assert after.startswith("deb http://deb.example.org/good stable main\n")  # kept
        assert "# off" in after and text.strip() in after  # the entry stays, as a comment
    else:
        assert "Enabled: no" in after
    assert "bookworm main" in open(os.path.join(root, "etc/apt/sources.list")).read()


HEALTHY = {
    "installed": lambda t, r: install(t, r, "kefu-a"),
    "removed-config-files": lambda t, r: (install(t, r, "kefu-a"),
                                          sh("dpkg", "--root=" + r, "--remove", "kefu-a")),
    "held-package": lambda t, r: (install(t, r, "kefu-a"),
                                  edit_status(r, "kefu-a", "hold ok installed")),
    "deb822-and-options": lambda t, r: (
        write(r, "/usr/share/keyrings/vendor.gpg", "key"),
        write(r, "/etc/apt/sources.list.d/vendor.sources",
              "# the vendor\nTypes: deb deb-src\nURIs: http://apt.example.com/\n"
              "Suites: stable testing\nComponents: main contrib\n"
              "Signed-By: /usr/share/keyrings/vendor.gpg\n\nTypes: deb\n"
              "URIs: http://apt.example.com/flat/\nSuites: ./\n\nEnabled: no\nTypes: deb\n"
              "URIs: http://old.example.com/\nSuites: broken-but-off\n")),
    "options-and-ignored-files": lambda t, r: (
        write(r, "/etc/apt/sources.list.d/a.list",
              "deb [arch=amd64 signed-by=/usr/share/keyrings/a.gpg] http://a.example.com/ "
              "stable main # comment\n# deb broken\n"),
        write(r, "/usr/share/keyrings/a.gpg", "key"),
        write(r, "/etc/apt/sources.list.d/old.list.save", "garbage line\n")),
}


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_packages_in_order_are_left_alone(tmp_path, name):
    need_tools()
    root = dpkg_tree(tmp_path)
    HEALTHY[name](tmp_path, root)
    assert apt_reads(root)
    healthy_only(tmp_path, root, PLUGIN)
