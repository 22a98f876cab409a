# kefu: a real PostgreSQL 15 server for the case-store tests, in a temporary folder. SPDX-License-Identifier: MIT
#
# initdb makes a cluster in a folder of the test's own; the server listens only on a
# Unix socket in that folder (no TCP port at all), as an unprivileged user when the
# tests run as root (PostgreSQL refuses to run as root), and is stopped by its PID.
# The technician's role has a password that the console reads from a password file
# (PGPASSFILE), never from its command line or configuration.
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

PG_BIN = "/usr/lib/postgresql/15/bin"
PASSWORD = "team-secret-for-tests"
ROLE = "kefu"


def _as_server_user(args):
    if os.geteuid() != 0:
        return args
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + args


class PostgresServer:
    def __init__(self, folder):
        self.folder = folder
        self.data = os.path.join(folder, "data")
        self.socket_dir = os.path.join(folder, "socket")
        self.passfile = os.path.join(folder, "pgpass")
        self.port = "5432"
        self.proc = None
        self.log = os.path.join(folder, "server.log")

    @property
    def uri(self):
        return "postgresql:///postgres?host=%s&port=%s&user=%s&sslmode=disable" % (
            self.socket_dir, self.port, ROLE)

    def env(self):
        env = dict(os.environ)
        env["PGPASSFILE"] = self.passfile
        return env

    def init(self):
        os.makedirs(self.socket_dir)
        pwfile = os.path.join(self.folder, "initdb-password")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.folder, "nobody", "nogroup")
            shutil.chown(self.socket_dir, "nobody", "nogroup")
            shutil.chown(pwfile, "nobody", "nogroup")
        subprocess.run(_as_server_user([
            os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", ROLE, "--pwfile", pwfile,
            "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8",
            "--locale=C.UTF-8"]), check=True, timeout=120, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        os.unlink(pwfile)
        fd = os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("*:*:*:%s:%s\n" % (ROLE, PASSWORD))

    def enable_tls(self):
        """Also listen on 127.0.0.1 (a free port) with TLS, a certificate for "localhost"
        from a CA of the test's own (self.ca)."""
        def openssl(*args):
            subprocess.run(["openssl"] + list(args), check=True, timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tls = os.path.join(self.folder, "tls")
        os.makedirs(tls)
        self.ca = os.path.join(tls, "ca.pem")
        ca_key = os.path.join(tls, "ca.key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", ca_key, "-out", self.ca, "-days", "2", "-subj", "/CN=test database CA",
                "-addext", "basicConstraints=critical,CA:TRUE")
        key, csr, cert = (os.path.join(tls, n) for n in ("server.key", "server.csr", "server.pem"))
        ext = os.path.join(tls, "server.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key, "-CAcreateserial",
                "-out", cert, "-days", "2", "-extfile", ext)
        os.chmod(key, 0o600)
        if os.geteuid() == 0:
            for name in (tls, key, cert):
                shutil.chown(name, "nobody", "nogroup")
        import socket
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.tcp_port = probe.getsockname()[1]
        self.tls_options = ["-c", "ssl=on", "-c", "ssl_cert_file=" + cert, "-c",
                            "ssl_key_file=" + key, "-c", "listen_addresses=127.0.0.1"]
        self.port = str(self.tcp_port)

    def tls_uri(self, root_cert=None, mode="verify-full"):
        return "postgresql://localhost:%d/postgres?user=%s&sslmode=%s&sslrootcert=%s" % (
            self.tcp_port, ROLE, mode, root_cert or self.ca)

    def start(self):
        log = open(self.log, "a")
        listen = getattr(self, "tls_options", ["-c", "listen_addresses="])
        self.proc = subprocess.Popen(_as_server_user([
            os.path.join(PG_BIN, "postgres"), "-D", self.data, "-k", self.socket_dir,
            "-p", self.port, "-c", "fsync=off"] + listen),
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        for _ in range(300):
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited: " + open(self.log).read()[-2000:])
            if subprocess.run([os.path.join(PG_BIN, "pg_isready"), "-q", "-h", self.socket_dir,
                               "-p", self.port], timeout=10).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("postgres did not start in 30 s")

    def stop(self):
        """A fast shutdown (SIGINT) of the server we started, by its PID."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def sql(self, statement):
        """Runs SQL as the team's role; returns the rows as lists of strings."""
        out = subprocess.run(
            ["psql", "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h",
             self.socket_dir, "-p", self.port, "-U", ROLE, "-d", "postgres", "-c", statement],
            env=self.env(), check=True, timeout=60, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]


@pytest.fixture
def postgres_tls():
    """The same server, also on 127.0.0.1 with TLS."""
    folder = tempfile.mkdtemp(prefix="kefu-pg-")
    os.chmod(folder, 0o755)
    server = PostgresServer(folder)
    try:
        server.init()
        server.enable_tls()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres():
    folder = tempfile.mkdtemp(prefix="kefu-pg-")
    os.chmod(folder, 0o755)
    server = PostgresServer(folder)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
