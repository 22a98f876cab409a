# kefu: a whole session under LANGUAGE=zh_CN with every permission used (chat, files both
# ways, diagnostics, plugins' checks and repairs, drivers, firmware, the screen, history),
# and every line the customer saw (the terminal, the window's widgets through AT-SPI, the
# summary) checked: each is an instance of a Chinese translation whose slots hold only what
# the session carried (names, reasons, paths, what the system reported) or numbers.
# SPDX-License-Identifier: MIT
import glob
import json
import os
import queue
import subprocess
import threading
import time

from conftest import program
from diag_fixtures import umockdev_dir  # noqa: F401 (pytest fixture)
from drivers_fixtures import make_driver_machine
from firmware_fixtures import FirmwareBench, Publisher, firmware_package, make_root
from session_fixtures import next_event, private_state, send, support  # noqa: F401
from translation_check import Catalogue, html_lines, summary_lines
from window_fixtures import Desktop, artifacts, viewable  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
PO = os.path.join(HERE, "..", "..", "agentd", "po", "zh_CN.po")
# The names the customer types to take a permission back (/revoke NAME): identifiers.
CAPABILITIES = ["view", "control", "diagnose", "repair", "firmware", "files", "history"]
REASONS = {"diagnose": "检查驱动", "repair": "修复标记", "files": "传送日志", "view": "查看屏幕",
           "firmware": "更新固件", "history": "查看以往记录"}
ADVICE = "请把扫描仪接到带电源的集线器上"
PLUGIN = {"format": 1, "id": "quick", "version": "1.0.0", "name": "Marker quick",
          "publisher": "Example Support", "applies_to": [{"always": True}],
          "checks": [{"id": "marker", "title": "A broken marker is left in /etc",
                      "fix": "Remove the marker",
                      "detect": {"run": "detect.sh", "timeout": 10},
                      "repair": [{"run": "repair.sh", "timeout": 20,
                                  "privileges": {"root": True, "writes": ["/etc"]}}],
                      "verify": {"run": "detect.sh", "timeout": 10}}],
          # The troubleshooter's own words, in Chinese: what the customer reads of it.
          "translations": {"zh_CN": {"name": "标记快检", "checks": {"marker": {
              "title": "/etc 中留下了一个损坏的标记", "fix": "删除这个标记"}}}}}


def test_the_checker_tells_untranslated_lines_from_translated_ones_with_data():
    catalogue = Catalogue(PO)
    data = {"Alice Tan", "Example Support", "reseat the memory", "/tmp/a b.txt"}
    good = ["已连接：Example Support 的 Alice Tan 已经为您连线。", "会话已结束：reseat the memory",
            "技术人员查看了您的屏幕", "已允许查看您的屏幕（由您决定）", "会话时间 00:12",
            "Alice Tan 给您发送了一个文件：/tmp/a b.txt", "1234 5678 9012"]
    bad = ["The technician viewed your screen", "会话已结束：the technician ended it",
           "Alice Tan sent you a file: /tmp/a b.txt", "已允许查看您的屏幕（by you）",
           "Refused to show the screen: it needs your permission to 查看您的屏幕"]
    assert catalogue.untranslated(good, data) == []
    assert catalogue.untranslated(bad, data) == bad


class Machine:
    """The customer's computer: a recorded tree with a camera lacking its driver and a
    wireless card lacking firmware, a broken marker a plugin repairs, and an emulated
    firmware device at 1.2.2 with an update to 1.2.5 from a trusted publisher."""

    def __init__(self, tmp_path, processes, support, umockdev_dir):  # noqa: F811
        self.machine = make_driver_machine(str(tmp_path / "machine"), umockdev_dir)
        self.root = make_root(self.machine.root)
        os.makedirs(os.path.join(self.root, "etc"), exist_ok=True)
        with open(os.path.join(self.root, "etc", "broken-quick"), "w") as f:
            f.write("x")
        self.plugins = str(tmp_path / "plugins")
        plugin = os.path.join(self.plugins, "quick")
        os.makedirs(plugin)
        with open(os.path.join(plugin, "plugin.json"), "w") as f:
            json.dump(PLUGIN, f)
        scripts = {"detect.sh": "if [ -e \"$KEFU_ROOT/etc/broken-quick\" ]; then\n"
                   "  echo '{\"type\":\"finding\",\"severity\":\"error\","
                   "\"summary\":\"the marker is there\"}'\n  exit 1\nfi\nexit 0\n",
                   "repair.sh": "rm -f \"$KEFU_ROOT/etc/broken-quick\"\n"}
        for name, body in scripts.items():
            with open(os.path.join(plugin, name), "w") as f:
                f.write("#!/bin/sh\n" + body)
            os.chmod(os.path.join(plugin, name), 0o755)
        publisher = Publisher(str(tmp_path / "publisher"))
        with open(support.profile) as f:
            profile = json.load(f)
        profile["firmware_publishers"] = [publisher.entry]
        profile["contact"] = "+44 20 7946 0000, support@example.com"
        with open(support.profile, "w") as f:
            json.dump(profile, f)
        (tmp_path / "bench").mkdir()
        self.bench = FirmwareBench(tmp_path / "bench", processes, [], [publisher.entry])
        self.bench.start_factory_device()
        self.package = firmware_package(str(tmp_path), "0x1020005", "1.2.5",
                                        publisher=publisher)
        self.apt_config = self.machine.apt_conf

    def args(self):
        return ["--root", self.root, "--plugins", self.plugins]


def report_data(report):
    """What the system told about itself: every string in the report but the problems'
    summaries (those are the helper's words, translated)."""
    found = []

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key != "summary":
            found.append(value)

    # A device is named by its vendor and its name, as the report gives them.
    for device in report.get("devices", []):
        if device.get("vendor_name") and device.get("name"):
            found.append(device["vendor_name"] + " " + device["name"])
    for key, value in report.items():
        if key == "problems":
            for problem in value:
                walk(problem.get("evidence", []))
                if problem.get("device"):
                    found.append(problem["device"])
        else:
            walk(value)
    return found


def technician_does_everything(console, answer, machine, tmp_path, with_view):
    """The technician uses every permission; answer(capability) makes the customer allow
    each request. Returns what the session carried (data, not the helper's words)."""
    data = ["Alice Tan", "Example Support", ADVICE, "你好，我来帮您看看", "+44 20 7946 0000, "
            "support@example.com", "标记快检", "/etc 中留下了一个损坏的标记", "删除这个标记",
            "the marker is there"] + CAPABILITIES + list(REASONS.values())
    send(console, "chat 你好，我来帮您看看")
    for capability in ["diagnose", "repair", "files", "firmware", "history"] + \
            (["view"] if with_view else []):
        send(console, "request %s %s" % (capability, REASONS[capability]))
        answer(capability)
        assert next_event(console, "consent")["granted"] is True
    report = tmp_path / "report.json"
    send(console, "report %s" % report)
    next_event(console, "report")
    with open(report) as f:
        data += report_data(json.load(f))
    send(console, "run quick")
    assert next_event(console, "plugin-result")
    send(console, "repair quick")
    assert next_event(console, "plugin-result")
    if os.geteuid() == 0:
        send(console, "drivers")
        next_event(console, "drivers")
        send(console, "drivers install kefu-test-camera-dkms")
        result = next_event(console, "drivers-result", limit=2000)
        assert result["ok"] is True, result
        data.append("kefu-test-camera-dkms")
    local = tmp_path / "driver-fix.txt"
    local.write_text("fix\n")
    send(console, "send %s" % local)
    sent = next_event(console, "file", "error")
    assert sent["event"] == "file", sent
    data += [sent["saved"], sent["sha256"]]
    log = tmp_path / "Xorg.0.log"
    log.write_text("(EE) no screens found\n")
    into = tmp_path / "fetched"
    into.mkdir()
    send(console, "fetch %s %s" % (log, into))
    answer("fetch")
    fetched = next_event(console, "file", "error")
    assert fetched["event"] == "file", fetched
    data.append(str(log))
    send(console, "firmware list")
    next_event(console, "firmware-devices")
    send(console, "firmware apply %s" % machine.package)
    assert next_event(console, "firmware-result", limit=2000)["ok"] is True
    data.append(os.path.basename(machine.package))
    send(console, "history")
    next_event(console, "history", "error")
    if with_view:
        send(console, "view --no-viewer")
        next_event(console, "view")
    return data


def support_id():
    return subprocess.run([program("kefu-agentd"), "support-id"], capture_output=True,
                          text=True, timeout=20).stdout.strip()


def summary_of(private_state):  # noqa: F811
    found = glob.glob(str(private_state / "data" / "kefu" / "sessions" / "*.md"))
    assert len(found) == 1, found
    session_id = os.path.basename(found[0])[:-3].split("-", 2)[2]
    with open(found[0]) as f:
        return found[0], session_id, f.read()


def assert_all_translated(lines, data):
    untranslated = Catalogue(PO).untranslated(lines, data)
    assert untranslated == [], "lines the customer read in English:\n" + "\n".join(untranslated)


class Terminal:
    """kefu-agentd share under LANGUAGE=zh_CN; every line it prints is kept."""

    def __init__(self, args, env):
        self.proc = subprocess.Popen([program("kefu-agentd"), "share"] + args,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env, start_new_session=True)
        self.lines, self.fresh = [], queue.Queue()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self.fresh.put(line)

    def wait_for(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.fresh.get(timeout=1)
            except queue.Empty:
                continue
            if text in line:
                return line
        raise AssertionError("the terminal never said %r: %r" % (text, self.lines[-10:]))

    def say(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()


def test_every_line_of_the_terminal_and_the_summary_is_chinese(support, private_state,  # noqa: F811
                                                               processes, tmp_path,
                                                               umockdev_dir):  # noqa: F811
    machine = Machine(tmp_path, processes, support, umockdev_dir)
    env = dict(os.environ, LANG="C.UTF-8", LANGUAGE="zh_CN",
               KEFU_DRIVERS_APT_CONFIG=machine.apt_config)
    terminal = Terminal(["--terminal", "--profile", support.profile, "--firmware-devices",
                         machine.bench.devices] + machine.args(), env)
    try:
        code = terminal.wait_for("您的验证码：").split("：", 1)[1].strip()
        console = support.start_console(code, "--json")
        next_event(console, "connected")

        def answer(capability):
            terminal.wait_for("是否允许")
            terminal.say("y")

        data = technician_does_everything(console, answer, machine, tmp_path, with_view=False)
        terminal.say("谢谢")
        assert next_event(console, "chat")["text"] == "谢谢"
        terminal.say("/status")
        terminal.say("/help")
        terminal.wait_for("/stop")
        send(console, "end " + ADVICE)
        next_event(console, "ended")
        assert terminal.proc.wait(timeout=30) == 0
    finally:
        if terminal.proc.poll() is None:
            terminal.proc.kill()
            terminal.proc.wait()
        machine.bench.cleanup()
    path, session_id, summary = summary_of(private_state)
    data += [code, support.relay.host, "%s:%d" % (support.relay.host, support.relay.port),
             path, session_id, "谢谢", support_id()]
    # A status line is the core's own, in brackets; the help's lines are indented.
    lines = [line.strip().strip("[]") for line in terminal.lines]
    assert any("技术人员复制了" in line for line in summary_lines(summary)), summary
    assert "标记快检：/etc 中留下了一个损坏的标记" in summary, summary
    with open(path[:-3] + ".html") as f:
        page = f.read()
    assert '<html lang="zh-CN">' in page
    assert any("技术人员复制了" in line for line in html_lines(page))
    assert_all_translated(lines + summary_lines(summary) + html_lines(page), data)


def test_every_line_of_the_window_and_the_summary_is_chinese(  # noqa: F811
        support, private_state, processes, tmp_path, artifacts, umockdev_dir, monkeypatch):
    machine = Machine(tmp_path, processes, support, umockdev_dir)
    monkeypatch.setenv("KEFU_DRIVERS_APT_CONFIG", machine.apt_config)
    desktop = Desktop(processes, artifacts)
    desktop.env["KEFU_DRIVERS_APT_CONFIG"] = machine.apt_config
    seen = []

    def look():
        seen.extend(t for text in desktop.texts() for t in text.split("\n"))

    helper = desktop.start_helper("--profile", support.profile, "--firmware-devices",
                                  machine.bench.devices, *machine.args(), language="zh_CN")
    try:
        code = desktop.wait_text("您的验证码", "label", r"^\d{4}( \d{4})+$")
        look()
        console = support.start_console(code, "--json")
        next_event(console, "connected")
        desktop.wait_text("您的技术人员", "label", "Alice Tan")

        clicked = []

        def answer(capability):
            # The card of this request: an Allow button not clicked before (the last
            # card may still be leaving the accessibility tree).
            prefix = "允许：复制 " if capability == "fetch" else "允许："
            deadline = time.monotonic() + 30
            while True:
                names = [t for t in desktop.texts() if t.startswith(prefix) and t not in clicked]
                if names or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            assert names, "no card for %s" % capability
            look()
            clicked.append(names[0])
            desktop.click(names[0])

        data = technician_does_everything(console, answer, machine, tmp_path, with_view=True)
        desktop.wait_until(lambda: viewable(desktop.display, "kefu sharing frame"), "the frame")
        look()
        desktop.type("发给技术人员的消息", "谢谢")
        desktop.click("发送")
        assert next_event(console, "chat")["text"] == "谢谢"
        look()
        send(console, "end " + ADVICE)
        next_event(console, "ended")
        desktop.wait_text("会话已结束", "label", "^会话已结束：")
        look()
        desktop.screenshot("summary-every-line")
        desktop.click("关闭")
        assert helper.wait(timeout=30) == 0
    finally:
        machine.bench.cleanup()
    path, session_id, summary = summary_of(private_state)
    data += [code, path, session_id, "谢谢", support_id(), support.relay.host,
             "%s:%d" % (support.relay.host, support.relay.port)]
    # The window shows the summary styled, without its Markdown marks.
    assert any("技术人员复制了" in line for line in summary_lines("\n".join(seen)))
    assert_all_translated(summary_lines("\n".join(seen)) + summary_lines(summary), data)


def test_refusals_expiry_take_backs_a_policy_and_the_customers_stop_are_chinese(
        support, private_state, tmp_path):  # noqa: F811
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"schema": "kefu.policy/1", "name": "Acme managed laptops",
                                  "description": "set by Acme IT",
                                  "capabilities": {"history": "allow", "control": "deny"}}))
    env = dict(os.environ, LANG="C.UTF-8", LANGUAGE="zh_CN")
    terminal = Terminal(["--profile", support.profile, "--policy", str(policy),
                         "--consent-timeout", "2"], env)
    (tmp_path / ".ssh").mkdir()
    secret = tmp_path / ".ssh" / "id_ed25519"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n")
    plain = tmp_path / "notes.txt"
    plain.write_text("notes\n")
    into = tmp_path / "fetched"
    into.mkdir()
    try:
        code = terminal.wait_for("您的验证码：").split("：", 1)[1].strip()
        # Someone on the relay host connects and says nothing: refused, the customer told.
        from test_session_availability import forwarded_port, stalled_tcp

        stall = stalled_tcp(forwarded_port(code))
        terminal.wait_for("已拒绝一个连接", timeout=30)
        stall.close()
        console = support.start_console(code, "--json")
        next_event(console, "connected")
        # Without a grant: refused by the core.
        send(console, "report %s" % (tmp_path / "report.json"))
        assert next_event(console, "error")["code"] == "denied"
        # The policy answers two; the customer refuses one; one is left to expire.
        send(console, "request history 查看以往记录")
        assert next_event(console, "consent")["granted"] is True
        send(console, "request control 操作鼠标")
        assert next_event(console, "consent")["granted"] is False
        send(console, "request view 查看屏幕")
        terminal.wait_for("是否允许")
        terminal.say("n")
        assert next_event(console, "consent")["granted"] is False
        send(console, "request diagnose 检查驱动")
        assert next_event(console, "consent")["by"] == "timeout"
        terminal.wait_for("已超时")
        terminal.say("y")  # too late
        terminal.wait_for("太迟了")
        # Files: one copy refused, a secret refused for want of its path typed back.
        send(console, "request files 传送日志")
        terminal.wait_for("是否允许")
        terminal.say("y")
        assert next_event(console, "consent")["granted"] is True
        send(console, "fetch %s %s" % (plain, into))
        terminal.wait_for("是否允许？y/n")
        terminal.say("n")
        assert next_event(console, "error", "file")["event"] == "error"
        send(console, "fetch %s %s" % (secret, into))
        terminal.wait_for("机密")
        terminal.say("y")
        assert next_event(console, "error", "file")["event"] == "error"
        # Taken back: by the customer, and given back by the technician.
        terminal.say("/revoke files")
        assert next_event(console, "revoked")["capability"] == "files"
        send(console, "release history")
        assert next_event(console, "revoked")["capability"] == "history"
        terminal.say("/revoke nonsense")
        terminal.say("/stop")
        next_event(console, "ended")
        assert terminal.proc.wait(timeout=30) == 0
    finally:
        if terminal.proc.poll() is None:
            terminal.proc.kill()
            terminal.proc.wait()
    path, session_id, summary = summary_of(private_state)
    data = ["Alice Tan", "Example Support", "Acme managed laptops", "set by Acme IT", code,
            support.relay.host, path, session_id, support_id(), str(plain), str(secret),
            "diag.request", "nonsense", "y"] + CAPABILITIES + list(REASONS.values()) + \
        ["操作鼠标"]
    lines = [line.strip().strip("[]") for line in terminal.lines]
    assert any("已拒绝复制" in line for line in summary_lines(summary)), summary
    assert_all_translated(lines + summary_lines(summary), data)


def test_a_refused_link_is_explained_in_chinese(support, tmp_path):  # noqa: F811
    from test_url_hostile import HOSTILE

    marker = str(tmp_path / "touched")
    links = [url.replace("{marker}", marker) for url, _ in HOSTILE] + [
        "kefu://join?org=Other%20Corp", "kefu://join?relay=relay.attacker.example",
        "kefu://join?org=a&org=b", "kefu://join?org=", "kefu://join?org=%zz"]
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env.update(LANG="C.UTF-8", LANGUAGE="zh_CN")
    catalogue = Catalogue(PO)
    for link in links:
        result = subprocess.run([program("kefu-helper"), "--profile", support.profile, "--url",
                                 link], capture_output=True, text=True, timeout=30, env=env)
        assert result.returncode == 1, (link, result)
        (line,) = result.stderr.splitlines()
        assert line.startswith("kefu-helper: ")
        # The link's own characters, fields and names are data; the sentence is Chinese.
        data = ["'%s'" % c for c in link] + [link] + [
            "Other Corp", "Example Support", "relay.attacker.example", "org", "relay", "case",
            "code", "profile"]
        assert catalogue.untranslated([line[len("kefu-helper: "):]], data) == [], line
