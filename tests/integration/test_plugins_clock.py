# kefu: clock-unsynced on a root prefix, against a time server the test runs in its own
# network namespace, 2 hours ahead of this clock. SPDX-License-Identifier: MIT
import json
import os
import shutil

import pytest

from conftest import SOURCE_DIR, program, run

PLUGIN = os.path.join(SOURCE_DIR, "diag-plugins", "clock-unsynced")

# An NTP server (mode 4, stratum 2) whose clock runs sys.argv[1] seconds off ours;
# answers at most 50 requests, for at most 60 seconds.
SERVER = """import socket, struct, sys, time
off = float(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 123))
s.settimeout(60)
open(sys.argv[2], "w").close()
for _ in range(50):
    try:
        data, peer = s.recvfrom(512)
    except socket.timeout:
        break
    now = time.time() + off + 2208988800
    stamp = struct.pack("!II", int(now), int((now % 1) * 2**32))
    s.sendto(b"\\x24\\x02\\x06\\xec" + bytes(8) + b"LOCL" + stamp + data[40:48] + stamp + stamp,
             peer)
"""

# Inside `unshare -n`: loopback up, the server started, then kefu-plugin test.
SCRIPT = """ip link set lo up || exit 1
python3 "$SERVER" "$OFFSET" "$READY" </dev/null >/dev/null &
i=0
while [ ! -e "$READY" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
"$@"
status=$?
kill $!
exit $status
"""

UNIT = """[Unit]
Description=Network Time Synchronization

[Service]
ExecStart=!!/lib/systemd/systemd-timesyncd

[Install]
WantedBy=sysinit.target
"""


def fixture(tmp_path, enabled, masked=False):
    os.chmod(tmp_path, 0o755)
    root = tmp_path / "root"
    units = root / "usr" / "lib" / "systemd" / "system"
    units.mkdir(parents=True)
    (units / "systemd-timesyncd.service").write_text(UNIT)
    etc = root / "etc" / "systemd"
    (etc / "system").mkdir(parents=True)
    (etc / "timesyncd.conf").write_text("[Time]\nNTP=127.0.0.1\n#FallbackNTP=0.debian.pool.ntp.org\n")
    if enabled:
        (etc / "system" / "sysinit.target.wants").mkdir()
        os.symlink("/usr/lib/systemd/system/systemd-timesyncd.service",
                   etc / "system" / "sysinit.target.wants" / "systemd-timesyncd.service")
    if masked:
        os.symlink("/dev/null", etc / "system" / "systemd-timesyncd.service")
    return str(root)


def plugin_test(tmp_path, root, offset, *extra):
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare for a private network")
    server = tmp_path / "ntp-server.py"
    server.write_text(SERVER)
    env = dict(os.environ, SERVER=str(server), OFFSET=str(offset),
               READY=str(tmp_path / "ready"))
    if os.path.exists(env["READY"]):
        os.unlink(env["READY"])
    result = run(["unshare", "-n", "sh", "-c", SCRIPT, "sh", program("kefu-plugin"), "test",
                  "--json", "--root", root, *extra, PLUGIN], env=env, timeout=120)
    steps = json.loads(result.stdout)["steps"]
    return [(s["step"], s["outcome"]) for s in steps], steps


def listing(root):
    return sorted((d, sorted(files + dirs)) for d, dirs, files in os.walk(root))


def test_clock_hours_off_with_time_sync_masked_is_found_and_sync_switched_on(tmp_path):
    root = fixture(tmp_path, enabled=False, masked=True)
    outcomes, steps = plugin_test(tmp_path, root, 7200, "--fix")
    assert outcomes == [("detect", "problem"), ("repair", "ok"), ("verify", "ok")]
    finding = steps[0]["events"][0]
    assert finding["severity"] == "error"
    assert finding["summary"] == ("The clock is 2 hour(s) 0 minute(s) behind the time server "
                                  "127.0.0.1 and is not set automatically")
    assert finding["detail"] == "systemd-timesyncd is masked"
    system = os.path.join(root, "etc", "systemd", "system")
    assert not os.path.lexists(os.path.join(system, "systemd-timesyncd.service"))
    assert os.readlink(os.path.join(system, "sysinit.target.wants",
                                    "systemd-timesyncd.service")) == \
        "/usr/lib/systemd/system/systemd-timesyncd.service"
    assert "2 hour(s)" in steps[2]["events"][0]["summary"]  # still off until sync runs


def test_disabled_sync_with_a_right_clock_is_a_warning(tmp_path):
    root = fixture(tmp_path, enabled=False)
    outcomes, steps = plugin_test(tmp_path, root, 0.3)
    assert outcomes == [("detect", "problem")]
    assert steps[0]["events"][0]["severity"] == "warning"
    assert "systemd-timesyncd is disabled. The clock is right to the minute" in \
        steps[0]["events"][0]["detail"]


def test_clock_with_sync_on_reports_nothing_and_changes_nothing(tmp_path):
    root = fixture(tmp_path, enabled=True)
    before = listing(root)
    outcomes, steps = plugin_test(tmp_path, root, 0.3, "--fix")
    assert outcomes == [("detect", "ok")]
    assert "right to the minute" in steps[0]["events"][0]["summary"]
    assert listing(root) == before
