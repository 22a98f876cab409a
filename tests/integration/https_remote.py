# kefu: an HTTPS firmware remote on loopback for the tests (python's http.server with ssl), with
# a TLS CA of the test's own and the misbehaviours the downloader must refuse.
# SPDX-License-Identifier: MIT
#
# Run as a program: https_remote.py FOLDER CERT KEY PORT_FILE LOG_FILE
# serves FOLDER with ETag and Last-Modified (304 on If-None-Match / If-Modified-Since), and:
#   /redirect-http/NAME    302 to http://127.0.0.1:PORT/NAME
#   /redirect-https/NAME   302 to https://127.0.0.1:PORT/NAME (allowed)
#   /loop/N/NAME           302 to /loop/N+1/NAME, without end
#   /declared-huge/NAME    says Content-Length: 1 TiB, sends a few bytes
#   /stream/BYTES/NAME     BYTES bytes with no Content-Length (chunked)
#   /stall/NAME            answers nothing for 60 seconds
# Every request is one JSON line in LOG_FILE: path and the conditional headers it sent.
import email.utils
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)


class TlsCA:
    """A CA for TLS and a server certificate it issued for 127.0.0.1 and localhost."""

    def __init__(self, folder, name="kefu test TLS CA"):
        os.makedirs(folder, exist_ok=True)
        self.ca = os.path.join(folder, "tls-ca.pem")
        self.cert = os.path.join(folder, "server.pem")
        self.key = os.path.join(folder, "server.key")
        ca_key = os.path.join(folder, "tls-ca.key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", ca_key, "-out", self.ca, "-subj", "/CN=" + name, "-days", "30",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                "keyUsage=critical,keyCertSign,cRLSign")
        csr = os.path.join(folder, "server.csr")
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", self.key, "-out", csr, "-subj", "/CN=127.0.0.1")
        ext = os.path.join(folder, "server.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                    "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key, "-CAcreateserial",
                "-out", self.cert, "-days", "30", "-extfile", ext)

    def pem(self):
        with open(self.ca) as f:
            return f.read()


class Remote:
    """This file run as a server by the test's process group; stopped by its PID."""

    def __init__(self, processes, folder, tls, work):
        self.folder = folder
        self.log = os.path.join(work, "requests.jsonl")
        port_file = os.path.join(work, "port")
        for path in (self.log, port_file):
            if os.path.exists(path):
                os.unlink(path)
        self.proc = processes.start([sys.executable, os.path.abspath(__file__), folder, tls.cert,
                                     tls.key, port_file, self.log], stderr=subprocess.DEVNULL)
        for _ in range(500):
            if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                with open(port_file) as f:
                    self.port = int(f.read())
                break
            if self.proc.poll() is not None:
                raise AssertionError("the HTTPS remote exited")
            time.sleep(0.01)
        else:
            raise AssertionError("the HTTPS remote did not start")
        self.base = "https://127.0.0.1:%d" % self.port

    def url(self, path):
        return self.base + "/" + path.lstrip("/")

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        with self.server.lock, open(self.server.log, "a") as f:
            f.write(json.dumps({"path": self.path,
                                "if_none_match": self.headers.get("If-None-Match"),
                                "if_modified_since": self.headers.get("If-Modified-Since")})
                    + "\n")

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def file(self, name):
        path = os.path.join(self.server.folder, os.path.basename(name))
        if not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.write(b"not found")
            return None
        with open(path, "rb") as f:
            return f.read()

    def do_GET(self):
        self.record()
        parts = self.path.lstrip("/").split("/")
        port = self.server.server_address[1]
        if parts[0] == "redirect-http":
            return self.redirect("http://127.0.0.1:%d/%s" % (port, "/".join(parts[1:])))
        if parts[0] == "redirect-https":
            return self.redirect("https://127.0.0.1:%d/%s" % (port, "/".join(parts[1:])))
        if parts[0] == "loop":
            return self.redirect("/loop/%d/%s" % (int(parts[1]) + 1, "/".join(parts[2:])))
        if parts[0] == "stall":
            time.sleep(60)
            return None
        if parts[0] == "declared-huge":
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 40))
            self.end_headers()
            self.wfile.write(b"x" * 16)
            return None
        if parts[0] == "stream":
            count = int(parts[1])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"y" * 65536
            sent = 0
            try:
                while sent < count:
                    n = min(len(chunk), count - sent)
                    self.wfile.write(b"%x\r\n" % n + chunk[:n] + b"\r\n")
                    sent += n
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass
            return None
        data = self.file(parts[-1])
        if data is None:
            return None
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:16]
        mtime = os.path.getmtime(os.path.join(self.server.folder, os.path.basename(parts[-1])))
        modified = email.utils.formatdate(mtime, usegmt=True)
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return None
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.end_headers()
        self.wfile.write(data)
        return None


def main():
    folder, cert, key, port_file, log = sys.argv[1:6]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.folder, server.log, server.lock = folder, log, threading.Lock()
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    shutil.move(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
