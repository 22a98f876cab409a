# kefu: an SSH firmware appliance for the tests: a real OpenSSH sshd on loopback whose user's
# ForceCommand speaks kefu's appliance contract (proto/firmware/DEVICE.md) on the emulated device.
# SPDX-License-Identifier: MIT
#
#   appliance = Appliance(processes, version="0x1020002")
#   appliance.target                "kefu-fw-appliance@127.0.0.1:PORT"
#   appliance.fingerprint           "SHA256:..." of its host key, as ssh-keygen -lf prints it
#   appliance.password              the user's password
#   appliance.boot()                which slot the device boots, and does it verify
#   appliance.set_update_options(...)  e.g. "--power-loss-at", "1000" for the next update
#   appliance.cleanup()
#
# sshd runs as root (as CI runs the tests) and the appliance user is a real account with a
# password. Its files live in a private folder under /run with world-readable copies of the
# programs it runs, because CI's checkout is readable by root only.
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from firmware_fixtures import FW_EMU

USER = "kefu-fw-appliance"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"

WRAPPER = """#!/bin/sh
# The appliance's side of kefu's SSH contract, on the emulated device.
set -f
DIR='{dir}'
EMU="$DIR/bin/fw-emu"
case "$SSH_ORIGINAL_COMMAND" in
kefu-fw-info)
	exec "$EMU" info "$DIR/device" ;;
"kefu-fw-update "*)
	set -- $SSH_ORIGINAL_COMMAND
	if [ $# -ne 3 ]; then
		echo '{{"ok": false, "error": "usage: kefu-fw-update PATH SHA256"}}'
		exit 2
	fi
	"$EMU" update "$DIR/device" "$2" "$3" $(cat "$DIR/update-options" 2>/dev/null)
	status=$?
	rm -f -- "$2"
	# The appliance restarts: the connection ends with it, whatever the client expected.
	# The first sshd above this script is the connection's unprivileged process.
	sleep 0.3
	pid=$PPID
	while [ "${{pid:-1}}" -gt 1 ]; do
		case "$(ps -o comm= -p "$pid")" in
		sshd*) kill -KILL "$pid"; break ;;
		esac
		pid=$(ps -o ppid= -p "$pid" | tr -d ' ')
	done
	exit $status ;;
{sftp})
	exec {sftp} ;;
*)
	echo "this appliance runs kefu-fw-info and kefu-fw-update only" >&2
	exit 127 ;;
esac
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fingerprint_of(pub):
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", pub], check=True,
                         capture_output=True, text=True, timeout=30).stdout
    return out.split()[1]


class Appliance:
    def __init__(self, processes, version="0x1020002", password="correct horse 42"):
        if os.geteuid() != 0:
            pytest.skip("the appliance tests run sshd as root (CI does); run them as root")
        if not os.path.exists("/usr/sbin/sshd") or not os.path.exists(SFTP_SERVER):
            pytest.skip("openssh-server (with sftp-server) is not installed")
        self.processes = processes
        self.password = password
        self.dir = tempfile.mkdtemp(prefix="kefu-appliance-", dir="/run")
        os.chmod(self.dir, 0o755)
        self.home = os.path.join(self.dir, "home")
        self.device = os.path.join(self.dir, "device")
        bin_dir = os.path.join(self.dir, "bin")
        os.makedirs(bin_dir, mode=0o755)
        shutil.copy(FW_EMU, os.path.join(bin_dir, "fw-emu"))
        os.chmod(os.path.join(bin_dir, "fw-emu"), 0o755)
        self.wrapper = os.path.join(bin_dir, "appliance")
        with open(self.wrapper, "w") as f:
            f.write(WRAPPER.format(dir=self.dir, sftp=SFTP_SERVER))
        os.chmod(self.wrapper, 0o755)
        self._ensure_user()
        uid, gid = pwd.getpwnam(USER).pw_uid, pwd.getpwnam(USER).pw_gid
        os.makedirs(self.home, mode=0o700)
        os.chown(self.home, uid, gid)
        subprocess.run(["usermod", "-d", self.home, USER], check=True, timeout=30,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([FW_EMU, "init", self.device, "--version", version], check=True,
                       timeout=30)
        for root, dirs, files in os.walk(self.device):
            os.chown(root, uid, gid)
            for name in files:
                os.chown(os.path.join(root, name), uid, gid)
        self.host_key = os.path.join(self.dir, "host_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.host_key],
                       check=True, timeout=30)
        self.fingerprint = fingerprint_of(self.host_key + ".pub")
        self.port = free_port()
        self.target = "%s@127.0.0.1:%d" % (USER, self.port)
        self.config = os.path.join(self.dir, "sshd_config")
        with open(self.config, "w") as f:
            f.write("\n".join([
                "Port %d" % self.port,
                "ListenAddress 127.0.0.1",
                "HostKey %s" % self.host_key,
                "PidFile %s" % os.path.join(self.dir, "sshd.pid"),
                "UsePAM no",
                "PasswordAuthentication yes",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication no",
                "PermitRootLogin no",
                "AllowUsers %s" % USER,
                "MaxAuthTries 3",
                "Subsystem sftp %s" % SFTP_SERVER,
                "ForceCommand %s" % self.wrapper,
                "LogLevel VERBOSE",
                ""]))
        self.log = os.path.join(self.dir, "sshd.log")
        self.proc = None
        self.start()

    def _ensure_user(self):
        try:
            pwd.getpwnam(USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", self.home,
                            "--shell", "/bin/sh", USER], check=True, timeout=30)
        subprocess.run(["chpasswd"], input="%s:%s\n" % (USER, self.password), text=True,
                       check=True, timeout=30)

    def start(self):
        self.proc = self.processes.start(
            ["/usr/sbin/sshd", "-D", "-e", "-f", self.config, "-E", self.log])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited: %s" % open(self.log).read())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start within 10 s")

    def set_update_options(self, *options):
        path = os.path.join(self.dir, "update-options")
        with open(path, "w") as f:
            f.write(" ".join(options) + "\n")
        os.chmod(path, 0o644)

    def boot(self):
        import json
        out = subprocess.run([FW_EMU, "boot", self.device], capture_output=True, text=True,
                             timeout=30)
        return json.loads(out.stdout)

    def uploads(self):
        return os.listdir(self.home)

    def sshd_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)
