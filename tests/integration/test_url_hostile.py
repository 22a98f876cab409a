# kefu: kefu-helper --url with hostile and foreign links: nothing runs, one clear line,
# a non-zero exit; a good link picks only what the installed profile lists.
# SPDX-License-Identifier: MIT
import json
import os
import subprocess

import pytest

from conftest import program
from session_fixtures import support  # noqa: F401


def helper(*args, env_extra=None, cwd=None):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env.update(env_extra or {})
    return subprocess.run([program("kefu-helper")] + list(args), capture_output=True, text=True,
                          timeout=30, env=env, cwd=cwd)


HOSTILE = [
    ("kefu://join?code=1&x=$(touch {marker})", "character a kefu link never has ('$'"),
    ("kefu://join?org=`touch {marker}`", "'`'"),
    ("kefu://join?org=\";touch {marker};\"", "'\"'"),
    ("kefu://join?org=';touch {marker}'", "'''"),
    ("kefu://join?org=a%00b", "control characters"),
    ("kefu://join?org=%0Atouch%20x", "control characters"),
    ("kefu://join?org=a/b", "fields hold '/' or '?'"),
    ("kefu://join?org=" + "A" * 3000, "too long (at most 2048 bytes)"),
    ("kefu://join?case=" + "1" * 40, "too long (at most 32"),
    ("https://example.com/?org=x", "not a kefu link"),
    ("file:///etc/passwd", "not a kefu link"),
    ("kefu://join?profile=%2Ftmp%2Fevil.json", "does not know ('profile')"),
    ("kefu://join?relay=-oProxyCommand=touch", "not a host name"),
    ("--profile=/tmp/evil.json", "not a kefu link"),
]


@pytest.mark.parametrize("url,words", HOSTILE)
def test_hostile_link_runs_nothing_and_says_why(support, tmp_path, url, words):
    marker = tmp_path / "touched"
    url = url.replace("{marker}", str(marker))
    result = helper("--profile", support.profile, "--url", url, cwd=str(tmp_path))
    assert result.returncode == 1, result
    assert not marker.exists()
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kefu-helper: "), lines
    assert words in lines[0], lines[0]
    assert result.stdout == ""


def test_link_for_another_organisation_is_refused(support):
    result = helper("--profile", support.profile, "--url", "kefu://join?org=Other%20Corp")
    assert result.returncode == 1
    assert "this link is for Other Corp, but this helper is set up for Example Support" \
        in result.stderr


def test_link_cannot_choose_a_relay_the_profile_does_not_list(support):
    result = helper("--profile", support.profile, "--url",
                    "kefu://join?relay=relay.attacker.example")
    assert result.returncode == 1
    assert "names the relay relay.attacker.example, which this helper's support profile " \
           "does not list" in result.stderr


def test_text_after_the_link_is_never_an_option(support, tmp_path):
    # The desktop file passes one URL after --url; a second word is refused, not read.
    result = helper("--url", "kefu://join", "--profile", str(tmp_path / "evil.json"))
    assert result.returncode == 2
    assert "--url takes one link and must come last" in result.stderr
    # "--url -- URL" is the same link.
    result = helper("--profile", support.profile, "--url", "--", "kefu://join?org=Other")
    assert result.returncode == 1 and "this link is for Other" in result.stderr
    # An option-looking link is a link, and a bad one.
    result = helper("--profile", support.profile, "--url", "--fix=clock")
    assert result.returncode == 1 and "not a kefu link" in result.stderr


def test_good_link_without_a_screen_says_so(support):
    host = json.load(open(support.profile))["relays"][0]["host"]
    result = helper("--profile", support.profile, "--url",
                    "kefu://join?org=Example%20Support&relay=" + host + "&case=CS-1")
    assert result.returncode == 1
    assert "there is no screen to open the window on" in result.stderr


def test_desktop_file_hands_the_link_to_url_last():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "packaging", "desktop",
                        "kefu-helper.desktop")
    entries = dict(line.split("=", 1) for line in open(path).read().splitlines()
                   if "=" in line)
    assert entries["Exec"] == "kefu-helper --url %u"
    assert entries["MimeType"] == "x-scheme-handler/kefu;"
    subprocess.run(["desktop-file-validate", path], check=True, timeout=30)
