# kefu: signed plugin packages built by an attacker: names that would break the one-line
# refusal or reach the customer's terminal, names that differ only in case, and an install
# killed half way. SPDX-License-Identifier: MIT
import os

from conftest import program, run
from test_plugins_package import (agent, member, package, plugin_files, plugin_tool,
                                  signing_key, world)  # noqa: F401 (world is a fixture)

ESCAPE = "\x1b[31m"


def refusals(world, tmp_path, data):
    """What kefu-plugin verify and kefu-agentd plugins install say about the package data."""
    path = str(tmp_path / "hostile.kefupkg")
    with open(path, "wb") as f:
        f.write(data)
    target = tmp_path / "target"
    target.mkdir(exist_ok=True)
    verify = plugin_tool("verify", "--profile", world["profile"], path)
    install = agent(world["env"], "plugins", "install", "--profile", world["profile"], "--dir",
                    str(target), path)
    assert os.listdir(str(target)) == []
    return [verify, install]


def test_control_characters_in_member_names_are_escaped_in_one_line(world, tmp_path):
    key = signing_key(world["key"])
    files = plugin_files(world["plugin"])
    cases = [
        # Under files/: refused by the path rules.
        ("files/evil\n" + ESCAPE + "red.sh", "unsafe-path", "files/evil\\n\\x1b[31mred.sh"),
        # Elsewhere: not in the signed list.
        ("evil\n" + ESCAPE + "red", "not-in-manifest", "evil\\n\\x1b[31mred"),
        # A C1 control (CSI, U+009B) and a byte that is not UTF-8.
        ("files/x\u009b31m\udcff", "unsafe-path", "files/x\\xc2\\x9b31m\\xff"),
    ]
    for name, reason, shown in cases:
        data = package(key, files, extra=[member(name, b"x")])
        for result in refusals(world, tmp_path, data):
            assert result.returncode == 1, name
            text = result.stderr
            assert len(text.rstrip("\n").split("\n")) == 1, repr(text)
            assert "\x1b" not in text and "\x9b" not in text, repr(text)
            assert all(c >= " " or c == "\n" for c in text), repr(text)
            assert reason + ":" in text and shown in text, repr(text)


def test_a_signed_list_naming_files_that_differ_only_in_case_is_refused(world, tmp_path):
    key = signing_key(world["key"])
    files = plugin_files(world["plugin"])
    files["Detect.sh"] = (files["detect.sh"][0].replace(b"exit 1", b"exit 0"), True)
    for result in refusals(world, tmp_path, package(key, files)):
        assert result.returncode == 1
        assert "duplicate: Detect.sh and detect.sh differ only in letter case" in result.stderr
