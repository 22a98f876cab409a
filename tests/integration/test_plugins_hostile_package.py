# kefu: signed plugin packages built by an attacker: names that would break the one-line
# refusal or reach the customer's terminal, names that differ only in case, and an install
# killed half way. SPDX-License-Identifier: MIT
import os
import signal
import subprocess
import time

from conftest import program, run
from test_plugins_package import (PLUGIN, agent, member, package, plugin_files, plugin_tool,
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


def hidden_leftovers(folder):
    return [name for name in os.listdir(folder) if name.startswith(".")]


def test_an_install_killed_half_way_leaves_nothing_hidden_after_the_next(world, tmp_path):
    key = signing_key(world["key"])
    files = plugin_files(world["plugin"])
    # Near the caps (4 MiB, 256 files), so that writing and fsyncing takes a while.
    for i in range(240):
        files["data/part-%03d.bin" % i] = (os.urandom(16 * 1024), False)
    path = str(tmp_path / "big.kefupkg")
    with open(path, "wb") as f:
        f.write(package(key, files))
    target = tmp_path / "plugins"
    target.mkdir()
    args = [program("kefu-agentd"), "plugins", "install", "--profile", world["profile"], "--dir",
            str(target), path]
    killed_mid_write = False
    for _ in range(40):
        process = subprocess.Popen(args, env=world["env"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            if hidden_leftovers(str(target)):
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=20)
        if process.returncode == -signal.SIGKILL and hidden_leftovers(str(target)):
            killed_mid_write = True
            break
    assert killed_mid_write, "never caught the install while it was writing"
    # The kill left a half-written staging folder; the next install sweeps it away.
    result = run(args, env=world["env"])
    assert result.returncode == 0, result.stderr
    assert hidden_leftovers(str(target)) == []
    assert sorted(os.listdir(str(target))) == [PLUGIN]
    assert run([program("kefu-agentd"), "plugins", "list", "--profile", world["profile"],
                "--dir", str(target)], env=world["env"]).returncode == 0
