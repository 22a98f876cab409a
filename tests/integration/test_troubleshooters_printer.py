# kefu: printer-device-gone against the real cupsd of test_plugins_printer.py (private
# socket); USB printers as sysfs describes them under the root; device URIs written from
# lpadmin(8) and the CUPS backends. The queue's URI is read back with lpstat -v.
# SPDX-License-Identifier: MIT
import json
import os
import socket

import pytest

from conftest import program, run
from plugin_trees import PLUGINS, report, write
from test_plugins_printer import add_queue, cups, lp  # noqa: F401 (the fixture)

PLUGIN = "printer-device-gone"


# CUPS checks that a queue's URI scheme has a backend in ServerBin; the packages of this
# machine may lack some (cups-filters, printer-driver-*). These stand in: never called, as
# no document is printed here.
STAND_IN = "#!/bin/sh\n[ $# -eq 0 ] && exit 0\nexit 1\n"


@pytest.fixture
def backends(cups):
    root, server = cups
    folder = os.path.join(os.path.dirname(root), "serverbin", "backend")
    for scheme in ("usb", "socket", "parallel", "serial", "ipp", "lpd"):
        path = os.path.join(folder, scheme)
        if not os.path.lexists(path):
            write("/", path, STAND_IN, 0o755)
    return cups


def usb_printer(root, port, make, model, serial):
    base = "/sys/bus/usb/devices/" + port
    write(root, base + "/manufacturer", make + "\n")
    write(root, base + "/product", model + "\n")
    write(root, base + "/serial", serial + "\n")
    write(root, base + "/idVendor", "04b8\n")


def device_of(server, queue):
    for line in lp("lpstat", server, "-v").stdout.splitlines():
        if line.startswith("device for %s: " % queue):
            return line.split(": ", 1)[1]
    return None


def scan(tmp_path, root, *extra):
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    result = run([program("kefu-agentd"), "scan", "--json", "--root", root, "--report",
                  report(tmp_path), "--plugins", PLUGINS, "--only", PLUGIN, *extra], env=env,
                 timeout=120)
    check, = json.loads(result.stdout)["checks"]
    return check


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    return port


def test_usb_printer_with_a_new_serial_is_found_again(tmp_path, backends):
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")
    root, server = backends
    add_queue(server, "office", "usb://EPSON/ET-2750%20Series?serial=OLD123")
    usb_printer(root, "1-4", "EPSON", "ET-2750 Series", "X5CP012345")
    assert scan(tmp_path, root)["state"] == "problem"
    check = scan(tmp_path, root, "--fix", "--yes")
    assert check["state"] == "fixed", check
    assert device_of(server, "office") == "usb://EPSON/ET-2750%20Series?serial=X5CP012345"


GONE = {
    "usb-unplugged": lambda r, s: "usb://HP/LaserJet%20P1102?serial=ABC",
    "usb-other-model-only": lambda r, s: (usb_printer(r, "1-2", "HP", "DeskJet 2700", "Q1"),
                                          "usb://HP/LaserJet%20P1102?serial=ABC")[1],
    "parallel-port-gone": lambda r, s: "parallel:/dev/lp0",
    "serial-port-gone": lambda r, s: "serial:/dev/ttyS3?baud=9600",
    "network-printer-silent": lambda r, s: "socket://127.0.0.1:%d" % closed_port(),
    "ipp-printer-silent": lambda r, s: "ipp://127.0.0.1:%d/ipp/print" % closed_port(),
}


@pytest.mark.parametrize("name", sorted(GONE))
def test_printer_that_is_gone_is_found_and_left_to_the_customer(tmp_path, backends, name):
    if os.geteuid() != 0:
        pytest.skip("the repair declares root")
    root, server = backends
    uri = GONE[name](root, server)
    add_queue(server, "office", uri)
    check = scan(tmp_path, root, "--fix", "--yes")
    assert check["state"] == "problem (fix failed)", check
    assert device_of(server, "office") == uri  # nothing guessed


def test_printers_that_are_there_are_left_alone(tmp_path, backends):
    root, server = backends
    usb_printer(root, "1-4", "EPSON", "ET-2750 Series", "X5CP012345")
    usb_printer(root, "1-5", "Brother", "HL-L2350DW series", "E78")
    write(root, "/dev/lp0", "")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    queues = {"epson": "usb://EPSON/ET-2750%20Series?serial=X5CP012345",
              "brother": "usb://Brother/HL-L2350DW%20series?serial=E78&interface=1",
              "anyserial": "usb://EPSON/ET-2750%20Series",
              "lp": "parallel:/dev/lp0",
              "net": "socket://127.0.0.1:%d" % listener.getsockname()[1],
              "pdf": "file:///dev/null"}
    for q, uri in queues.items():
        add_queue(server, q, uri)
    try:
        before = {q: device_of(server, q) for q in queues}
        assert scan(tmp_path, root, "--fix", "--yes")["state"] == "healthy"
        assert {q: device_of(server, q) for q in queues} == before
    finally:
        listener.close()
