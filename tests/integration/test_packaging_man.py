# kefu: every program's man page (packaging/man/*.scd) lists exactly the commands and
# options its --help and COMMAND --help print, so that the two cannot drift apart; they
# build with scdoc and cover every option README shows. SPDX-License-Identifier: MIT
import os
import re
import subprocess

import pytest

from conftest import SOURCE_DIR, program, run

MAN_DIR = os.path.join(SOURCE_DIR, "packaging", "man")
RELAY_SETUP = os.path.join(SOURCE_DIR, "packaging", "relay", "kefu-relay-setup")
# An option in a usage line: "-o" or "--name", not the "-ed25519" of "ssh-ed25519".
OPTION = re.compile(r"(?<![\w.-])(--?[a-z][a-z0-9-]*)")
# A definition in a man page: a line that starts with the bold option or command.
TERM = re.compile(r"^\*([-/]{0,2}[a-z][a-z0-9-]*)\*")


def man_source(name):
    path = os.path.join(MAN_DIR, name)
    assert os.path.exists(path), "no man page source %s" % path
    with open(path) as f:
        return f.read()


def sections(text):
    """{'# TITLE': {'': lines before any '##', '## name': lines}} of an scdoc page."""
    result, top, sub = {}, None, ""
    for line in text.splitlines():
        if line.startswith("# "):
            top, sub = line[2:].strip(), ""
            result[top] = {"": []}
        elif line.startswith("## ") and top is not None:
            sub = line[3:].strip()
            result[top][sub] = []
        elif top is not None:
            result[top][sub].append(line)
    return result


def terms(lines):
    return {m.group(1) for m in (TERM.match(line) for line in lines) if m}


def listed_commands(name):
    """The commands PROGRAM --help lists."""
    result = run([program(name), "--help"])
    assert result.returncode == 0, result.stderr
    body = result.stdout.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in body.splitlines() if line.startswith("  ")]


def usage_options(name, command):
    result = run([program(name), command, "--help"])
    assert result.returncode == 0, result.stderr
    usage = result.stdout.splitlines()[0]
    assert usage.startswith("usage: %s %s" % (name, command)), usage
    return set(OPTION.findall(usage[len("usage: %s %s" % (name, command)):])), result.stdout


@pytest.mark.parametrize("name", ["kefu-agentd", "kefu-console", "kefu-plugin"])
def test_man_page_lists_every_command_and_exactly_its_options(name):
    page = sections(man_source(name + ".1.scd"))
    commands = listed_commands(name)
    documented = [c for c in page["COMMANDS"] if c != ""]
    missing = [c for c in commands if c not in documented]
    assert not missing, "%s(1) does not describe the commands %s" % (name, missing)
    for command in documented:
        options, help_text = usage_options(name, command)
        if command not in commands:
            # Only an internal command (not listed by --help) may be described beyond them.
            assert "(internal)" in help_text, "%s(1) describes an unknown command %s" % (
                name, command)
        described = {t for t in terms(page["COMMANDS"][command]) if t.startswith("-")}
        assert described == options, (
            "%s %s: --help has %s, the man page %s; only in --help: %s, only in the man "
            "page: %s" % (name, command, sorted(options), sorted(described),
                          sorted(options - described), sorted(described - options)))


def test_console_man_page_describes_every_session_command():
    with open(os.path.join(SOURCE_DIR, "console", "session", "command.c")) as f:
        rows = re.findall(r'^\t\{"([a-z]+)", (?:"([a-z]+)"|NULL),', f.read(), re.M)
    assert len(rows) >= 10, "the join command table was not found"
    page = man_source("kefu-console.1.scd")
    described = terms(sections(page)["SESSION COMMANDS"][""])
    names = {name for name, _ in rows}
    assert described == names, "only in the table: %s, only in the man page: %s" % (
        sorted(names - described), sorted(described - names))
    for _, alias in rows:
        if alias:
            assert "*%s*" % alias in page, "kefu-console(1) does not name the alias %s" % alias


def test_agentd_man_page_describes_every_customer_command():
    with open(os.path.join(SOURCE_DIR, "agentd", "session", "share-terminal.c")) as f:
        code = f.read()
    commands = set(re.findall(r'"(/[a-z]+)[ "]', code))
    assert {"/stop", "/revoke", "/status"} <= commands
    described = {t for t in terms(sections(man_source("kefu-agentd.1.scd"))
                                  ["DURING A SESSION"][""]) if t.startswith("/")}
    assert described == commands, "only in the code: %s, only in the man page: %s" % (
        sorted(commands - described), sorted(described - commands))


def test_relay_setup_man_page_lists_its_commands_and_options():
    result = run(["sh", RELAY_SETUP, "--help"])
    assert result.returncode == 2
    commands = {line.split()[1].strip("[]") for line in result.stderr.splitlines() if line.strip()}
    options = set(OPTION.findall(result.stderr))
    page = sections(man_source("kefu-relay-setup.8.scd"))
    assert {c for c in page["COMMANDS"] if c} == commands
    assert terms(page["OPTIONS"][""]) == options


def test_helper_man_page_lists_exactly_its_options():
    helper = program("kefu-helper")
    if not os.path.exists(helper):
        pytest.skip("kefu-helper (the customer's window) is not built in this tree")
    result = run([helper, "--help"])
    assert result.returncode == 0, result.stderr
    options = set(OPTION.findall(result.stdout)) - {"--help"}
    described = terms(sections(man_source("kefu-helper.1.scd"))["OPTIONS"][""]) - {"--help"}
    assert described == options, "only in --help: %s, only in the man page: %s" % (
        sorted(options - described), sorted(described - options))


def test_every_option_readme_shows_is_in_a_man_page():
    pages = " ".join(man_source(n) for n in os.listdir(MAN_DIR) if n.endswith(".scd"))
    documented = set(OPTION.findall(pages))
    with open(os.path.join(SOURCE_DIR, "README.md")) as f:
        readme = f.read()
    missing = set()
    for line in readme.splitlines():
        if "kefu-" in line or "kefu>" in line:
            missing |= {o for o in re.findall(r"(?<![\w.-])(--[a-z][a-z0-9-]*)", line)
                        if o not in documented}
    assert not missing, "README shows options no man page describes: %s" % sorted(missing)


@pytest.mark.parametrize("name", sorted(n for n in os.listdir(MAN_DIR) if n.endswith(".scd")))
def test_man_page_builds_with_scdoc_and_renders(name, tmp_path):
    with open(os.path.join(MAN_DIR, name)) as source:
        page = subprocess.run(["scdoc"], stdin=source, capture_output=True, timeout=30)
    assert page.returncode == 0, page.stderr
    title, section = name[:-len(".scd")].rsplit(".", 1)
    assert page.stdout.startswith(b'.\\" Generated by scdoc')
    assert ('.TH "%s" "%s"' % (title, section)).encode() in page.stdout
    roff = tmp_path / name[:-len(".scd")]
    roff.write_bytes(page.stdout)
    text = run(["man", "-l", str(roff)], env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING=""))
    assert text.returncode == 0 and "NAME" in text.stdout and title in text.stdout
