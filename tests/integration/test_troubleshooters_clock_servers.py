# kefu: clock-unsynced's reading of the time servers, cases written from timesyncd.conf(5)
# (drop-ins by name across folders, [Time] only, an empty NTP= resets) and chrony.conf(5)
# (server/pool lines, confdir/sourcedir). SPDX-License-Identifier: MIT
import os
import subprocess

import pytest

from plugin_trees import CHRONY_UNIT, PLUGINS, base_tree, link, write

TIMESYNC = os.path.join(PLUGINS, "clock-unsynced", "timesync.py")


def servers(root):
    p = subprocess.run(["/usr/bin/python3", TIMESYNC, "servers"], cwd=os.path.dirname(TIMESYNC),
                       env={"KEFU_ROOT": root, "PATH": "/usr/bin:/bin"}, stdout=subprocess.PIPE,
                       universal_newlines=True, timeout=30)
    assert p.returncode == 0
    return p.stdout.split()


CASES = {
    "main-file": ({"/etc/systemd/timesyncd.conf": "[Time]\nNTP=ntp1.example.org ntp2.example.org\n"},
                  ["ntp1.example.org", "ntp2.example.org"]),
    "fallback-only": ({"/etc/systemd/timesyncd.conf": "[Time]\n#NTP=\nFallbackNTP=time.example.org\n"},
                      ["time.example.org"]),
    "nothing-set": ({"/etc/systemd/timesyncd.conf": "[Time]\n#NTP=\n"},
                    ["0.debian.pool.ntp.org", "1.debian.pool.ntp.org", "2.debian.pool.ntp.org",
                     "3.debian.pool.ntp.org"]),
    "drop-in-adds": ({"/etc/systemd/timesyncd.conf": "[Time]\nNTP=a.example.org\n",
                      "/etc/systemd/timesyncd.conf.d/50-more.conf": "[Time]\nNTP=b.example.org\n"},
                     ["a.example.org", "b.example.org"]),
    "empty-resets": ({"/etc/systemd/timesyncd.conf": "[Time]\nNTP=a.example.org\n",
                      "/usr/lib/systemd/timesyncd.conf.d/10-reset.conf": "[Time]\nNTP=\nNTP=c.example.org\n"},
                     ["c.example.org"]),
    "etc-hides-same-name": ({"/etc/systemd/timesyncd.conf.d/x.conf": "[Time]\nNTP=etc.example.org\n",
                             "/usr/lib/systemd/timesyncd.conf.d/x.conf": "[Time]\nNTP=usr.example.org\n"},
                            ["etc.example.org"]),
    "other-section-ignored": ({"/etc/systemd/timesyncd.conf": "[Other]\nNTP=wrong.example.org\n"
                               "[Time]\n; comment\nNTP = right.example.org\n"},
                              ["right.example.org"]),
    "order-by-name-across-folders": ({"/run/systemd/timesyncd.conf.d/20-b.conf": "[Time]\nNTP=\nNTP=b\n",
                                      "/etc/systemd/timesyncd.conf.d/10-a.conf": "[Time]\nNTP=a\n"},
                                     ["b"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_timesyncd_servers_follow_the_manual(tmp_path, name):
    root = base_tree(tmp_path)
    os.unlink(os.path.join(root, "etc/systemd/timesyncd.conf"))
    files, expected = CASES[name]
    for path, text in files.items():
        write(root, path, text)
    assert servers(root) == expected


def test_chrony_servers_when_chrony_is_on(tmp_path):
    root = base_tree(tmp_path)
    write(root, "/usr/lib/systemd/system/chrony.service", CHRONY_UNIT)
    link(root, "/etc/systemd/system/multi-user.target.wants/chrony.service",
         "/lib/systemd/system/chrony.service")
    write(root, "/etc/chrony/chrony.conf", "# Debian\npool 2.debian.pool.ntp.org iburst\n"
          "confdir /etc/chrony/conf.d\nsourcedir /etc/chrony/sources.d\n! server off.example.org\n")
    write(root, "/etc/chrony/conf.d/local.conf", "server 192.168.1.1 iburst\n")
    write(root, "/etc/chrony/sources.d/dhcp.sources", "server 10.0.0.1 iburst\n")
    write(root, "/etc/chrony/sources.d/ignored.txt", "server 10.9.9.9\n")
    assert servers(root) == ["2.debian.pool.ntp.org", "192.168.1.1", "10.0.0.1"]
