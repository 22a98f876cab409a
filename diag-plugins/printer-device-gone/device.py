#!/usr/bin/python3
# kefu plugin printer-device-gone: each CUPS queue's device URI against the printers that are
# there; `repair` points the queue at the same printer where it is now (lpadmin -v).
# SPDX-License-Identifier: MIT
"""CUPS device URIs (lpadmin(8), the usb, parallel, serial and socket backends):
usb://MAKE/MODEL?serial=SERIAL (make and model from the printer's IEEE 1284 device ID,
percent-encoded; `interface=N` may follow), parallel:/dev/lpN, serial:/dev/ttySN?baud=...,
socket://HOST[:9100], ipp://HOST[:631]/..., ipps://, lpd://HOST[:515]/QUEUE, file:/path.
A USB printer is there when a USB device under /sys/bus/usb/devices has that manufacturer
and product (and serial, when the URI names one); a network printer when its port answers.
dnssd://, implicitclass:// and the local server are found by CUPS itself and not judged."""
import os
import re
import socket
import subprocess
import sys
import urllib.parse

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

PORTS = {"socket": 9100, "ipp": 631, "ipps": 631, "http": 631, "https": 631, "lpd": 515}
USB = "/sys/bus/usb/devices"


def server(root):
    name = ""
    for line in (root.read_text("/etc/cups/client.conf") or "").splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].lower() == "servername":
            name = words[1]
    if name.startswith("/") and "/../" not in name + "/":
        return root.host(name)
    return name or root.host("/run/cups/cups.sock")


def lp(tool, srv, *args):
    p = subprocess.run([tool, "-h", srv] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                       timeout=20, env={"PATH": "/usr/sbin:/usr/bin", "LANG": "C"})
    return p.returncode, p.stdout


def queues(srv):
    code, out = lp("lpstat", srv, "-v")
    return re.findall(r"(?m)^device for (\S+): (\S+)$", out) if code == 0 else None


def simple(text):
    return re.sub(r"[^a-z0-9]", "", urllib.parse.unquote(text or "").lower())


def usb_printers(root):
    out = []
    for name in root.listdir(USB):
        base = USB + "/" + name
        read = lambda f: (root.read_text(base + "/" + f) or "").strip()  # noqa: E731
        if read("manufacturer") or read("product"):
            out.append({"make": read("manufacturer"), "model": read("product"),
                        "serial": read("serial")})
    return out


def usb_uri(p):
    quote = lambda s: urllib.parse.quote(s, safe="-_.")  # noqa: E731
    uri = "usb://%s/%s" % (quote(p["make"]), quote(p["model"]))
    return uri + ("?serial=" + quote(p["serial"]) if p["serial"] else "")


def judge(root, uri):
    """(None, None) when the device is there, else (why, a URI for the same printer now)."""
    parsed = urllib.parse.urlsplit(uri)
    scheme = parsed.scheme
    if scheme == "usb":
        make, model = parsed.netloc, parsed.path.lstrip("/")
        serial = urllib.parse.parse_qs(parsed.query).get("serial", [""])[0]
        same = [p for p in usb_printers(root) if simple(p["make"]) == simple(make) and
                simple(p["model"]) == simple(model)]
        if any(not serial or p["serial"] == serial for p in same):
            return None, None
        why = "the USB printer %s %s%s is not connected" % (
            urllib.parse.unquote(make), urllib.parse.unquote(model),
            " (serial %s)" % serial if serial else "")
        return why, usb_uri(same[0]) if len(same) == 1 else None
    if scheme in ("parallel", "serial"):
        path = uri.split(":", 1)[1].split("?", 1)[0]
        return (None, None) if root.exists(path) else \
            ("the port %s is not there" % path, None)
    if scheme == "file":
        path = uri.split(":", 1)[1]
        return (None, None) if root.is_dir(os.path.dirname(path) or "/") else \
            ("the folder of %s is not there" % path, None)
    if scheme in PORTS:
        host = parsed.hostname
        port = parsed.port or PORTS[scheme]
        if not host or (host in ("localhost", "127.0.0.1", "::1") and port == 631):
            return None, None  # this computer's own print server
        try:
            with socket.create_connection((host, port), timeout=3):
                return None, None
        except OSError as e:
            return "the network printer at %s does not answer (%s)" % (
                parsed.netloc, e.strerror or e), None
    return None, None


def problems(root, srv):
    found = []
    for queue, uri in queues(srv) or []:
        why, now = judge(root, uri)
        if why:
            found.append((queue, uri, why, now))
    return found


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    srv = server(root)
    if queues(srv) is None:
        result("not-applicable", "no print server answers")
        return NOT_APPLICABLE
    found = problems(root, srv)
    if mode != "repair":
        if not found:
            result("ok", "every printer queue reaches its printer")
            return OK
        for queue, uri, why, now in found:
            finding("error", "The printer %s is not connected: %s" % (queue, why),
                    "the queue sends documents to %s%s" % (
                        uri, "; the same printer is now at %s" % now if now else
                        "; plug the printer in and switch it on"))
        result("problem")
        return PROBLEM
    failures = []
    for queue, uri, why, now in found:
        if now is None:
            failures.append("%s: %s; plug it in and switch it on" % (queue, why))
            continue
        code, out = lp("lpadmin", srv, "-p", queue, "-v", now)
        if code != 0:
            failures.append("%s: lpadmin: %s" % (queue, out.strip()))
    if failures:
        result("failed", "; ".join(failures))
        return PROBLEM
    result("fixed", "the queues point at their printers")
    return OK


if __name__ == "__main__":
    sys.exit(main())
