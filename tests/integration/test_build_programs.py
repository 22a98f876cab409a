# kefu: every program answers --help, --version and bad commands properly. SPDX-License-Identifier: MIT
import pytest

from conftest import program, run

PROGRAMS = ["kefu-agentd", "kefu-console", "kefu-plugin"]


@pytest.mark.parametrize("name", PROGRAMS)
def test_help_lists_commands_and_exits_zero(name):
    result = run([program(name), "--help"])
    assert result.returncode == 0
    assert "usage: %s COMMAND" % name in result.stdout


@pytest.mark.parametrize("name", PROGRAMS)
def test_version_prints_program_and_version(name):
    result = run([program(name), "--version"])
    assert result.returncode == 0
    assert result.stdout.startswith(name + " ")


@pytest.mark.parametrize("name", PROGRAMS)
def test_unknown_command_is_one_line_error_and_exit_2(name):
    result = run([program(name), "no-such-command"])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown command 'no-such-command'" in lines[0]


@pytest.mark.parametrize("name", PROGRAMS)
def test_no_arguments_prints_usage_and_exit_2(name):
    result = run([program(name)])
    assert result.returncode == 2
    assert "usage:" in result.stderr
