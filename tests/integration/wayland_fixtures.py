# kefu: a headless GNOME Wayland desktop for tests and benchmarks (mutter, PipeWire, portals).
# SPDX-License-Identifier: MIT
#
#   reason = missing()                    None, or why this machine cannot run one
#   desktop = Desktop(processes, 1920, 1080)
#   desktop.env                           the environment of a program on that desktop
#   clicker = desktop.click_dialog()      accepts the portal's dialog over AT-SPI
#   desktop.cpu_seconds()                 CPU time of mutter and PipeWire so far
#   desktop.cleanup()
#
# The desktop tests/integration/test_wayland_screen.py and the benchmark use: its own session and
# system buses (dbus-daemon), PipeWire and WirePlumber, mutter 43 headless with one
# virtual monitor, xdg-desktop-portal with the GNOME backend, all stopped by PID.
import os
import shutil
import signal
import subprocess
import tempfile
import time

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <standard_session_servicedirs/>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# Clicks through the portal's dialog over AT-SPI: the first monitor, "Allow remote
# interaction" when asked for, then Share. Prints "dialog NAME" then "shared", or "none".
# Mode "look" only watches the dialog: "dialog NAME", then "gone" or "still there".
CLICKER = r"""
import sys, time
import pyatspi
wait, interact = float(sys.argv[1]), sys.argv[2] == "control"
def find(node, pred):
    try:
        if pred(node):
            return node
        for child in node:
            if child is not None:
                found = find(child, pred)
                if found is not None:
                    return found
    except Exception:
        pass
    return None
deadline = time.time() + wait
dialog = None
while dialog is None and time.time() < deadline:
    dialog = find(pyatspi.Registry.getDesktop(0), lambda n: n.getRoleName() == "frame" and
                  n.name in ("Screen Share", "Remote desktop"))
    if dialog is None:
        time.sleep(0.2)
if dialog is None:
    print("none", flush=True)
    sys.exit(0)
print("dialog " + dialog.name, flush=True)
if sys.argv[2] == "look":
    name = dialog.name
    deadline = time.time() + wait
    while time.time() < deadline:
        if find(pyatspi.Registry.getDesktop(0), lambda n: n.getRoleName() == "frame" and
                n.name == name) is None:
            print("gone", flush=True)
            sys.exit(0)
        time.sleep(0.2)
    print("still there", flush=True)
    sys.exit(0)
time.sleep(0.5)
screen = find(dialog, lambda n: n.name == "Entire Screen")
find(screen, lambda n: n.getRoleName() == "list").querySelection().selectChild(0)
box = find(dialog, lambda n: n.getRoleName() == "check box" and
           n.name == "Allow remote interaction")
if box is not None and interact:
    for _ in range(50):
        if box.getState().contains(pyatspi.STATE_CHECKED):
            break
        box.queryAction().doAction(0)
        time.sleep(0.2)
    assert box.getState().contains(pyatspi.STATE_CHECKED)
    print("interaction allowed", flush=True)
time.sleep(0.3)
find(dialog, lambda n: n.getRoleName() == "push button" and "Share" in n.name
     ).queryAction().doAction(0)
print("shared", flush=True)
"""

PORTALS = ("/usr/libexec/xdg-desktop-portal", "/usr/libexec/xdg-desktop-portal-gnome")


def missing():
    """Why no Wayland desktop can be started here, or None."""
    for name in ("mutter", "pipewire", "wireplumber", "dbus-daemon"):
        if shutil.which(name) is None:
            return "%s is not installed (scripts/deps test)" % name
    for path in PORTALS:
        if not os.path.exists(path):
            return "%s is not installed (scripts/deps test)" % path
    probe = subprocess.run(["/usr/bin/python3", "-c", "import pyatspi"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    if probe.returncode != 0:
        return "python3-pyatspi is not installed (scripts/deps test)"
    return None


def group_cpu_seconds(group):
    """CPU time of every live process in a process group."""
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Desktop:
    def __init__(self, processes, width, height):
        self.processes = processes
        self.procs = []
        self.named = {}
        self.logs = []
        # Socket paths must stay short.
        self.dir = tempfile.mkdtemp(prefix="kefu-wlb-", dir="/tmp")
        try:
            self._start(width, height)
        except BaseException:
            self.cleanup()
            raise

    def _start(self, width, height):
        run_dir = os.path.join(self.dir, "run")
        home = os.path.join(self.dir, "home")
        os.makedirs(run_dir, mode=0o700)
        os.makedirs(home)
        # portal-gnome asks the system bus; a private one stands in for it.
        self.system_bus = "unix:path=" + os.path.join(run_dir, "system")
        self.session_bus = "unix:path=" + os.path.join(run_dir, "bus")
        config = os.path.join(self.dir, "session.conf")
        with open(config, "w") as f:
            f.write(BUS_CONFIG % os.path.join(run_dir, "bus"))
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "SESSION_MANAGER")}
        self.env.update(HOME=home, XDG_RUNTIME_DIR=run_dir, XDG_CURRENT_DESKTOP="GNOME",
                        XDG_SESSION_TYPE="wayland", WAYLAND_DISPLAY="wayland-kefu",
                        XDG_CONFIG_HOME=os.path.join(home, "config"),
                        XDG_CACHE_HOME=os.path.join(home, "cache"),
                        XDG_STATE_HOME=os.path.join(home, "state"),
                        XDG_DATA_HOME=os.path.join(home, "data"),
                        DBUS_SYSTEM_BUS_ADDRESS=self.system_bus,
                        DBUS_SESSION_BUS_ADDRESS=self.session_bus, GDK_BACKEND="wayland",
                        NO_AT_BRIDGE="0", GTK_A11Y="atspi")
        self.start("system", ["dbus-daemon", "--session", "--nofork", "--nopidfile",
                              "--address=" + self.system_bus])
        self.start("session", ["dbus-daemon", "--config-file=" + config, "--nofork",
                               "--nopidfile"])
        self.wait_path(os.path.join(run_dir, "bus"))
        self.start("pipewire", ["pipewire"])
        self.wait_path(os.path.join(run_dir, "pipewire-0"))
        self.start("wireplumber", ["wireplumber"])
        self.start("mutter", ["mutter", "--headless", "--virtual-monitor",
                              "%dx%d" % (width, height), "--wayland", "--no-x11",
                              "--wayland-display=wayland-kefu"])
        self.wait_path(os.path.join(run_dir, "wayland-kefu"))
        self.start("portal", ["/usr/libexec/xdg-desktop-portal", "-r", "-v"])
        self.wait_log("portal", "org.freedesktop.portal.Desktop acquired")

    def start(self, name, args, **kwargs):
        log = open(os.path.join(self.dir, name + ".log"), "w")
        self.logs.append(log)
        kwargs.setdefault("stdout", log)
        kwargs.setdefault("stderr", subprocess.STDOUT)
        proc = self.processes.start(args, env=self.env, **kwargs)
        self.procs.append(proc)
        self.named[name] = proc
        return proc

    def wait_path(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise RuntimeError("%s never appeared" % path)
            time.sleep(0.1)

    def wait_log(self, name, text, timeout=30):
        deadline = time.monotonic() + timeout
        path = os.path.join(self.dir, name + ".log")
        while text not in open(path).read():
            if time.monotonic() > deadline:
                raise RuntimeError("%s never said %r" % (name, text))
            time.sleep(0.1)

    def click_dialog(self, wait=60, control=True, mode=None):
        """The clicker's process; it prints "dialog NAME", "shared" (or "none").
        mode "look" only watches the dialog come and go."""
        return self.processes.start(["/usr/bin/python3", "-c", CLICKER, str(wait),
                                     mode or ("control" if control else "view")],
                                    env=self.env, stdout=subprocess.PIPE, text=True)

    def cpu_seconds(self):
        """What the desktop spends to show and cast the screen: mutter and PipeWire."""
        return sum(group_cpu_seconds(self.named[name].pid)
                   for name in ("mutter", "pipewire") if name in self.named)

    def cleanup(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        # The document portal may mount in the runtime folder; it goes with the portal.
        doc = os.path.join(self.dir, "run", "doc")
        for _ in range(50):
            if not os.path.ismount(doc):
                break
            time.sleep(0.1)
        for log in self.logs:
            log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
