# kefu: print-queue-stopped against a real cupsd the test starts on a private socket. SPDX-License-Identifier: MIT
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import SOURCE_DIR, program, run

PLUGIN = os.path.join(SOURCE_DIR, "diag-plugins", "print-queue-stopped")

# A backend like a printer that jams on every document: CUPS_BACKEND_STOP (4)
# pauses the queue and keeps the document.
JAMMED_BACKEND = """#!/bin/sh
if [ $# -eq 0 ]; then
	echo 'direct jammed "Unknown" "printer that jams"'
	exit 0
fi
echo "STATE: +media-jam-error" >&2
echo "INFO: Paper jam" >&2
exit 4
"""


@pytest.fixture
def cups(processes):
    if shutil.which("cupsd") is None or shutil.which("lpadmin") is None:
        pytest.skip("cups-daemon and cups-client are not installed")
    base = tempfile.mkdtemp(prefix="kefu-cups-")  # cupsd's lp user must reach its files
    os.chmod(base, 0o755)
    root = os.path.join(base, "root")
    for folder in ("etc/cups", "run/cups", "var/spool/cups/tmp", "var/cache/cups",
                   "var/log/cups"):
        os.makedirs(os.path.join(root, folder))
    # ServerBin: CUPS's own programs, plus the jammed backend
    serverbin = os.path.join(base, "serverbin")
    os.makedirs(os.path.join(serverbin, "backend"))
    for name in os.listdir("/usr/lib/cups"):
        if name != "backend":
            os.symlink(os.path.join("/usr/lib/cups", name), os.path.join(serverbin, name))
    for name in os.listdir("/usr/lib/cups/backend"):
        os.symlink(os.path.join("/usr/lib/cups/backend", name),
                   os.path.join(serverbin, "backend", name))
    with open(os.path.join(serverbin, "backend", "jammed"), "w") as f:
        f.write(JAMMED_BACKEND)
    os.chmod(os.path.join(serverbin, "backend", "jammed"), 0o755)
    socket_path = os.path.join(root, "run", "cups", "cups.sock")
    with open(os.path.join(root, "etc", "cups", "cupsd.conf"), "w") as f:
        f.write("Listen %s\nLogLevel warn\nWebInterface No\nErrorPolicy stop-printer\n"
                "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n" % socket_path)
    with open(os.path.join(root, "etc", "cups", "cups-files.conf"), "w") as f:
        f.write("ServerRoot {r}/etc/cups\nStateDir {r}/run/cups\nCacheDir {r}/var/cache/cups\n"
                "RequestRoot {r}/var/spool/cups\nTempDir {r}/var/spool/cups/tmp\n"
                "ServerBin {sb}\nDataDir /usr/share/cups\nErrorLog {r}/var/log/cups/error_log\n"
                "AccessLog {r}/var/log/cups/access_log\nPageLog {r}/var/log/cups/page_log\n"
                "FileDevice Yes\nUser lp\nGroup lp\nSystemGroup root\n".format(r=root,
                                                                              sb=serverbin))
    # what the customer's programs read to find the server, as on a real system
    with open(os.path.join(root, "etc", "cups", "client.conf"), "w") as f:
        f.write("ServerName /run/cups/cups.sock\n")
    processes.start(["cupsd", "-f", "-c", os.path.join(root, "etc", "cups", "cupsd.conf"),
                     "-s", os.path.join(root, "etc", "cups", "cups-files.conf")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if lp("lpstat", socket_path, "-r").stdout.strip() == "scheduler is running":
            break
        time.sleep(0.1)
    else:
        pytest.fail("cupsd did not start")
    yield root, socket_path
    shutil.rmtree(base, ignore_errors=True)


def lp(tool, server, *args):
    return run([tool, "-h", server, *args])


def add_queue(server, name, uri):
    assert lp("lpadmin", server, "-p", name, "-E", "-v", uri).returncode == 0


def submit(server, queue, count):
    for _ in range(count):
        assert lp("lp", server, "-d", queue, "/etc/hostname").returncode == 0


def waiting(server, queue):
    return [line for line in lp("lpstat", server, "-o", queue).stdout.splitlines()
            if line.startswith(queue + "-")]


def plugin_test(root, *extra):
    result = run([program("kefu-plugin"), "test", "--json", "--root", root, *extra, PLUGIN],
                 timeout=120)
    return [(s["step"], s["outcome"]) for s in json.loads(result.stdout)["steps"]], \
        json.loads(result.stdout)["steps"]


def test_paused_printer_is_resumed_and_its_documents_print(cups):
    root, server = cups
    add_queue(server, "office", "file:///dev/null")
    assert lp("cupsdisable", server, "office").returncode == 0
    submit(server, "office", 2)
    outcomes, steps = plugin_test(root)
    assert outcomes == [("detect", "problem")]
    assert steps[0]["events"][0]["summary"] == \
        "The printer office is paused, so nothing prints (2 document(s) waiting)"
    outcomes, steps = plugin_test(root, "--fix")
    assert outcomes == [("detect", "problem"), ("repair", "ok"), ("verify", "ok")]
    assert waiting(server, "office") == []
    completed = lp("lpstat", server, "-W", "completed", "-o", "office").stdout
    assert completed.count("office-") == 2  # printed, not cancelled
    assert "disabled" not in lp("lpstat", server, "-p", "office").stdout


def test_printer_that_jams_again_gets_its_stuck_documents_cancelled(cups):
    root, server = cups
    add_queue(server, "jammed", "jammed:/")
    submit(server, "jammed", 1)
    for _ in range(100):  # the first try pauses the queue by itself
        if "disabled" in lp("lpstat", server, "-p", "jammed").stdout:
            break
        time.sleep(0.1)
    outcomes, steps = plugin_test(root, "--fix")
    assert outcomes == [("detect", "problem"), ("repair", "ok"), ("verify", "problem"),
                        ("repair", "ok"), ("verify", "ok")]
    assert "media-jam-error" in steps[2]["events"][0]["detail"]
    assert steps[3]["events"][0]["summary"] == \
        "Cancelled 1 document(s) stuck in jammed; print them again"
    assert waiting(server, "jammed") == []
    assert "disabled" not in lp("lpstat", server, "-p", "jammed").stdout


def test_ready_printer_reports_nothing_and_is_left_alone(cups):
    root, server = cups
    add_queue(server, "office", "file:///dev/null")
    assert lp("cupsreject", server, "office").returncode == 0
    assert plugin_test(root)[0] == [("detect", "problem")]  # refusing jobs is found too
    assert lp("cupsaccept", server, "office").returncode == 0
    before = lp("lpstat", server, "-l", "-p", "office").stdout
    outcomes, _ = plugin_test(root, "--fix")
    assert outcomes == [("detect", "ok")]
    assert lp("lpstat", server, "-l", "-p", "office").stdout == before
