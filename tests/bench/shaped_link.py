# kefu benchmark helper: a home link in a network namespace, made and removed by the bench.
# SPDX-License-Identifier: MIT
#
#   link = ShapedLink(down_kbit=5000, up_kbit=1000, rtt_ms=40, loss=0.01)
#   link.namespace          the namespace's name ("kefu-hl-PID-N"): run the customer's side in
#                           it with ["ip", "netns", "exec", link.namespace, ...]
#   link.host_ip            this side's address (the technician and the relay listen here)
#   link.inside_ip          the namespace's address
#   link.method             "netem" or "tun" (below)
#   link.close()            removes the namespace and the devices it made, by name
#
# "down" is towards this side (the technician's), "up" towards the namespace (the customer's):
# the screen travels down. With sch_netem in the kernel, a veth pair is shaped by `tc netem`
# (rate, delay, loss) on each end. Kernels built without it (CONFIG_NET_SCH_NETEM unset) get
# the same link from a tun device on each side and this process moving the packets between
# them: each direction drops a packet with the given probability, holds a queue of at most
# 100 ms at its rate (a home router's buffer; a packet that finds it full is dropped), sends at
# its rate and delivers after half the round trip. Both kernels see an ordinary IP link, so
# TCP's own loss recovery and congestion control are what is measured.
import collections
import fcntl
import os
import random
import select
import struct
import subprocess
import threading
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
SEQUENCE = [0]


def run(*args):
    subprocess.run(list(args), check=True, timeout=30, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def has_netem():
    """Whether this kernel can shape with netem: tried on a dummy-free veth pair of our own."""
    name = "kfnt%d" % os.getpid()
    try:
        run("ip", "link", "add", name + "a", "type", "veth", "peer", "name", name + "b")
    except subprocess.CalledProcessError:
        return False
    try:
        run("tc", "qdisc", "add", "dev", name + "a", "root", "netem", "delay", "1ms")
        return True
    except subprocess.CalledProcessError:
        return False
    finally:
        subprocess.run(["ip", "link", "del", name + "a"], timeout=30,
                       stderr=subprocess.DEVNULL)


class Direction:
    """One way of the link: loss, a bounded queue drained at the rate, then the delay."""

    def __init__(self, kbit, delay_s, loss, seed):
        self.rate = kbit * 1000 / 8.0  # bytes a second
        self.delay = delay_s
        self.loss = loss
        self.limit = max(16384, self.rate * 0.1)
        self.random = random.Random(seed)
        self.free_at = 0.0
        self.pending = collections.deque()  # (deliver at, packet)
        self.passed = self.dropped = 0

    def arrive(self, packet, now):
        if self.random.random() < self.loss:
            self.dropped += 1
            return
        start = max(now, self.free_at)
        if (start - now) * self.rate + len(packet) > self.limit:
            self.dropped += 1
            return
        self.free_at = start + len(packet) / self.rate
        self.pending.append((self.free_at + self.delay, packet))
        self.passed += 1


class ShapedLink:
    def __init__(self, down_kbit=5000, up_kbit=1000, rtt_ms=40, loss=0.01):
        SEQUENCE[0] += 1
        tag = "%d-%d" % (os.getpid(), SEQUENCE[0])
        self.namespace = "kefu-hl-" + tag
        # Device names are at most 15 characters.
        short = "%x%x" % (os.getpid() & 0xFFFFF, SEQUENCE[0])
        self.host_dev, self.inside_dev = "kfh" + short, "kfc" + short
        subnet = 64 + (os.getpid() + SEQUENCE[0]) % 160
        self.host_ip, self.inside_ip = "10.213.%d.1" % subnet, "10.213.%d.2" % subnet
        self.down_kbit, self.up_kbit, self.rtt_ms, self.loss = down_kbit, up_kbit, rtt_ms, loss
        self.thread = None
        self.fds = []
        self.stopping = threading.Event()
        self.method = "netem" if has_netem() else "tun"
        run("ip", "netns", "add", self.namespace)
        try:
            self.inside("ip", "link", "set", "lo", "up")
            if self.method == "netem":
                self.make_veth()
            else:
                self.make_tun()
        except BaseException:
            self.close()
            raise

    def inside(self, *args):
        run("ip", "netns", "exec", self.namespace, *args)

    def describe(self):
        return ("%g Mbit/s down, %g Mbit/s up, %d ms RTT, %g %% loss each way (%s)"
                % (self.down_kbit / 1000, self.up_kbit / 1000, self.rtt_ms, self.loss * 100,
                   "tc netem on a veth pair" if self.method == "netem"
                   else "tun pair shaped by the bench: this kernel has no sch_netem"))

    def make_veth(self):
        run("ip", "link", "add", self.host_dev, "type", "veth", "peer", "name", self.inside_dev)
        run("ip", "link", "set", self.inside_dev, "netns", self.namespace)
        self.address_both()
        half = "%gms" % (self.rtt_ms / 2)
        loss = "%g%%" % (self.loss * 100)
        run("tc", "qdisc", "add", "dev", self.host_dev, "root", "netem", "rate",
            "%dkbit" % self.up_kbit, "delay", half, "loss", loss)
        self.inside("tc", "qdisc", "add", "dev", self.inside_dev, "root", "netem", "rate",
                    "%dkbit" % self.down_kbit, "delay", half, "loss", loss)

    def open_tun(self, name):
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        self.fds.append(fd)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
        return fd

    def make_tun(self):
        host_fd = self.open_tun(self.host_dev)
        inside_fd = self.open_tun(self.inside_dev)
        # A tun device keeps its file when moved: this process serves both namespaces.
        run("ip", "link", "set", self.inside_dev, "netns", self.namespace)
        self.address_both()
        half = self.rtt_ms / 2000.0
        self.up = Direction(self.up_kbit, half, self.loss, 1)
        self.down = Direction(self.down_kbit, half, self.loss, 2)
        self.thread = threading.Thread(target=self.forward, args=(host_fd, inside_fd),
                                       daemon=True)
        self.thread.start()

    def address_both(self):
        run("ip", "addr", "add", self.host_ip + "/32", "peer", self.inside_ip, "dev",
            self.host_dev)
        run("ip", "link", "set", self.host_dev, "up")
        self.inside("ip", "addr", "add", self.inside_ip + "/32", "peer", self.host_ip, "dev",
                    self.inside_dev)
        self.inside("ip", "link", "set", self.inside_dev, "up")

    def forward(self, host_fd, inside_fd):
        # Packets the host sends go up into the namespace; the namespace's come down.
        ways = ((host_fd, self.up, inside_fd), (inside_fd, self.down, host_fd))
        while not self.stopping.is_set():
            now = time.monotonic()
            wait = 0.05
            for _, way, out in ways:
                while way.pending and way.pending[0][0] <= now:
                    try:
                        os.write(out, way.pending.popleft()[1])
                    except OSError:
                        pass  # the device going down at the end
                if way.pending:
                    wait = min(wait, way.pending[0][0] - now)
            try:
                ready, _, _ = select.select([host_fd, inside_fd], [], [], max(wait, 0))
            except (OSError, ValueError):
                return
            now = time.monotonic()
            for source, way, _ in ways:
                if source not in ready:
                    continue
                for _ in range(64):
                    try:
                        way.arrive(os.read(source, 65536), now)
                    except BlockingIOError:
                        break
                    except OSError:
                        return

    def statistics(self):
        if self.method != "tun":
            return None
        return {"down_packets": self.down.passed, "down_dropped": self.down.dropped,
                "up_packets": self.up.passed, "up_dropped": self.up.dropped}

    def close(self):
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
        subprocess.run(["ip", "netns", "del", self.namespace], timeout=30,
                       stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", self.host_dev], timeout=30,
                       stderr=subprocess.DEVNULL)
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds = []
