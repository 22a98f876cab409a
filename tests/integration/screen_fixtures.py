# kefu: shared pieces of the screen-sharing tests (Xvfb, screen-pipe, pixels). SPDX-License-Identifier: MIT
import os
import queue
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import BUILD_DIR

WIDTH, HEIGHT = 640, 480


def tool(name):
    return os.path.join(BUILD_DIR, "tools", name)


def require(*programs):
    for name in programs:
        if shutil.which(name) is None:
            pytest.skip("%s is not installed (scripts/deps test)" % name)


def lock_owner(number):
    """The PID in display number's lock file, or None."""
    try:
        with open("/tmp/.X%d-lock" % number) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return None


def start_xvfb(processes, width=WIDTH, height=HEIGHT):
    """Starts Xvfb on a free display number; returns ':N'.

    Other test runs on the machine pick from the same numbers: a display is
    ours only once its lock file names our server, so a number taken between
    the look and the start is never mistaken for ours."""
    require("Xvfb")
    for number in range(140, 240):
        if os.path.exists("/tmp/.X11-unix/X%d" % number) or os.path.exists(
                "/tmp/.X%d-lock" % number):
            continue
        proc = processes.start(["Xvfb", ":%d" % number, "-screen", "0",
                                "%dx%dx24" % (width, height), "-noreset", "-nolisten", "tcp"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if (os.path.exists("/tmp/.X11-unix/X%d" % number)
                    and lock_owner(number) == proc.pid):
                return ":%d" % number
            time.sleep(0.05)
    pytest.fail("could not start Xvfb")


class LineReader:
    """Reads a process's stdout lines on a thread so that waits can be bounded."""

    def __init__(self, proc):
        self.lines = queue.Queue()
        self.seen = []
        thread = threading.Thread(target=self._pump, args=(proc.stdout,), daemon=True)
        thread.start()

    def _pump(self, stream):
        for line in iter(stream.readline, ""):
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, predicate, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out; lines so far: %r" % self.seen)
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("the process ended; lines: %r" % self.seen)
            self.seen.append(line)
            if predicate(line):
                return line


class ScreenPipe:
    """The agent's screen server and the console's view, joined by screen-pipe."""

    def __init__(self, processes, display, *args):
        self.proc = processes.start([tool("screen-pipe"), "--display", display] + list(args),
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
        self.reader = LineReader(self.proc)
        self.info = {}
        self.reader.wait_for(self._note)
        self.address = self.info["address"]
        self.port = int(self.address.rsplit(":", 1)[1])
        self.password = self.info["password"]
        self.password_file = self.info["password-file"]
        self.url = self.info.get("url")

    def _note(self, line):
        key, _, value = line.partition(" ")
        self.info[key] = value
        return line == "ready"

    def saw(self, wanted, after=-1, timeout=20):
        """Waits for the line wanted after line number after (it may already have gone by);
        returns its line number."""
        for index in range(after + 1, len(self.reader.seen)):
            if self.reader.seen[index] == wanted:
                return index
        self.reader.wait_for(lambda l: l == wanted, timeout)
        return len(self.reader.seen) - 1

    def command(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        if text == "viewers":
            line = self.reader.wait_for(lambda l: l.startswith("viewers "))
            return tuple(int(n) for n in line.split()[1:])
        return self.reader.wait_for(lambda l: l == "ok " + text)


def block_colour(x, y):
    """The colour x-draw's pattern puts at pixel (x, y)."""
    bx, by = x // 32, y // 32
    return ((bx * 40 + by * 7) % 256, (by * 40 + bx * 11) % 256, (bx * by * 13 + 60) % 256)


def draw_pattern(processes, display):
    proc = processes.start([tool("x-draw"), "--display", display, "pattern"],
                           stdout=subprocess.PIPE, text=True)
    LineReader(proc).wait_for(lambda l: l == "ready")
    return proc


def vnc_bench(*args, timeout=60):
    return subprocess.run([tool("vnc-bench")] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def is_port_open(port):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_port(port, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_port_open(port):
            return
        time.sleep(0.1)
    raise AssertionError("nothing listens on port %d" % port)


def web_port(url):
    """The port of a view's browser address (http://127.0.0.1:PORT/...)."""
    return int(url.split(":")[2].split("/")[0])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """Headless Chromium driven through chromedriver's WebDriver HTTP API (stdlib only).

    Screenshots are taken in real time, so a page that connects over the network is
    simply looked at again until it shows what is expected.
    """

    def __init__(self, processes, tmp_path):
        require("chromium", "chromedriver")
        self.port = free_port()
        processes.start(["chromedriver", "--port=%d" % self.port],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        options = {"binary": shutil.which("chromium"),
                   "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            "--window-size=1000,900",
                            "--user-data-dir=%s" % (tmp_path / "chromium-profile")]}
        reply = self._call("POST", "/session", {
            "capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}})
        self.session = reply["sessionId"]

    def _call(self, method, path, body=None):
        import json
        import urllib.request
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data,
                                         method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())["value"]

    def open(self, url):
        self._call("POST", "/session/%s/url" % self.session, {"url": url})

    def screenshot(self):
        import base64
        import io
        from PIL import Image
        png = base64.b64decode(self._call("GET", "/session/%s/screenshot" % self.session))
        return Image.open(io.BytesIO(png)).convert("RGB")

    def close(self):
        self._call("DELETE", "/session/%s" % self.session)


def find_pattern(image):
    """The top-left corner of x-draw's pattern in image, or None."""
    (width, height), pixels = image.size, image.load()
    return next(((x, y) for y in range(height - HEIGHT + 1) for x in range(width - WIDTH + 1)
                 if pixels[x, y] == block_colour(0, 0)
                 and pixels[x + 31, y + 31] == block_colour(0, 0)
                 and pixels[x + 32, y] == block_colour(32, 0)), None)


def browser_pattern_errors(processes, url, tmp_path, timeout=60):
    """Opens url in headless Chromium and checks the test pattern on the page.

    Returns the blocks whose colour is wrong; fails if the pattern never shows.
    """
    wait_port(web_port(url))
    browser = Browser(processes, tmp_path)
    try:
        browser.open(url)
        deadline = time.monotonic() + timeout
        origin = None
        while origin is None and time.monotonic() < deadline:
            image = browser.screenshot()
            origin = find_pattern(image)
            if origin is None:
                time.sleep(0.5)
        image.save(str(tmp_path / "page.png"))
    finally:
        browser.close()
    assert origin is not None, "the pattern is not on the page (see %s)" % (tmp_path / "page.png")
    pixels = image.load()
    wrong = []
    for by in range(HEIGHT // 32):
        for bx in range(WIDTH // 32):
            x, y = bx * 32 + 16, by * 32 + 16
            if (x, y) == (WIDTH // 2 + 16, HEIGHT // 2 + 16):
                continue
            got = pixels[origin[0] + x, origin[1] + y]
            if max(abs(a - b) for a, b in zip(got, block_colour(x, y))) > 8:
                wrong.append((bx, by, got))
    return wrong


def customer_clipboard(display, wanted, seconds):
    """The desktop's clipboard once it holds wanted, or what it holds after seconds."""
    deadline = time.monotonic() + seconds
    text = None
    while time.monotonic() < deadline and text != wanted:
        text = subprocess.run(["xclip", "-display", display, "-selection", "clipboard", "-o"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, timeout=10).stdout
        time.sleep(0.1)
    return text


def customer_copy_reaches_viewer(processes, display, address, password):
    """The customer copies a text; a viewer connected to address sees it arrive."""
    watcher = processes.start([tool("vnc-bench"), "watch", address, "--password", password,
                               "--seconds", "30"], stdout=subprocess.PIPE, text=True)
    reader = LineReader(watcher)
    reader.wait_for(lambda l: l == "update")
    copy = processes.start(["xclip", "-display", display, "-selection", "clipboard", "-i"],
                           stdin=subprocess.PIPE, text=True)
    copy.stdin.write("from the customer")
    copy.stdin.close()
    reader.wait_for(lambda l: l == "cut from the customer")


class Drawer:
    """x-draw rects: rectangles on the root window, pointer moves, cursor shapes."""

    def __init__(self, processes, display):
        self.proc = processes.start([tool("x-draw"), "--display", display, "rects"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.reader = LineReader(self.proc)
        self.reader.wait_for(lambda l: l == "ready")

    def _say(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        self.reader.wait_for(lambda l: l == "ok" or l.startswith("error"))
        assert self.reader.seen[-1] == "ok", "x-draw refused %r" % text

    def fill(self, x, y, width, height, colour):
        self._say("fill %d %d %d %d %06x" % (x, y, width, height, colour & 0xffffff))

    def pointer(self, x, y):
        self._say("pointer %d %d" % (x, y))

    def cursor(self, glyph):
        self._say("cursor %d" % glyph)

    def photo(self, x, y, width, height, seed=1):
        """Gradients with grain: the kind of picture a lossy encoding changes."""
        self._say("photo %d %d %d %d %d" % (x, y, width, height, seed))


class Follower:
    """A viewer that stays connected and compares its picture with the X display's.

    check() waits until the viewer shows exactly what XGetImage reads from the
    root window (or the area given), or until timeout_ms; it returns the
    number of pixels that still differ with the sizes and the box around them.
    """

    def __init__(self, processes, address, password, display, area=None, extra=()):
        """extra: more vnc-bench options (--encodings, --quality: what the viewer asks)."""
        args = [tool("vnc-bench"), "follow", address, "--display", display] + list(extra)
        if password:
            args += ["--password", password]
        if area:
            args += ["--area", area]
        self.proc = processes.start(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True)
        self.reader = LineReader(self.proc)
        ready = self.reader.wait_for(lambda l: l.startswith("ready "), timeout=30)
        self.size = tuple(int(n) for n in ready.split()[1:])

    def check(self, timeout_ms=3000):
        self.proc.stdin.write("check %d\n" % timeout_ms)
        self.proc.stdin.flush()
        line = self.reader.wait_for(lambda l: l.startswith("diff "),
                                    timeout=timeout_ms / 1000 + 20)
        words = line.split()
        return {"diff": int(words[1]), "size": words[3], "display": words[5],
                "ms": int(words[7]), "box": words[9], "line": line}


def damage_cases(width, height):
    """Rectangles of every awkward width and height, at odd places and against the edges
    of a width x height screen."""
    sizes = [1, 31, 32, 33, 100]
    cases = []
    for w in sizes + [width]:
        for h in sizes + [height]:
            for x, y in ((1, 1), (37, 19), (width - w, height - h), (width - w - 3, 5)):
                x, y = max(0, min(x, width - w)), max(0, min(y, height - h))
                if (x, y, w, h) not in cases:
                    cases.append((x, y, w, h))
    return cases


def colour_for(index):
    """A different, never black, colour for each step."""
    return (index * 0x3b5f17 + 0x102030) & 0xffffff or 0x010101
