# kefu: the customer's window and terminal in Simplified Chinese (LANGUAGE=zh_CN), with the
# plural forms of English. SPDX-License-Identifier: MIT
import os
import subprocess

from conftest import program
from session_fixtures import next_event, private_state, send, support  # noqa: F401
from window_fixtures import Desktop, artifacts, viewable  # noqa: F401


def test_window_in_chinese_asks_allows_and_stops(support, private_state, processes, artifacts):
    desktop = Desktop(processes, artifacts)
    helper = desktop.start_helper("--profile", support.profile, language="zh_CN")
    code = desktop.wait_text("您的验证码", "label", r"^\d{4}( \d{4})+$")
    note = desktop.wait_text("您的验证码", "label", ".")  # the code itself
    assert note == code
    desktop.screenshot("1-code-zh")
    console = support.start_console(code, "--json")
    next_event(console, "connected")
    desktop.wait_text("您的技术人员", "label", "Example Support 的 Alice Tan 已经为您连线")
    send(console, "request view 查看打印机设置")
    card = desktop.find("允许：查看您的屏幕", "push button")
    assert card["showing"]
    desktop.screenshot("2-request-zh")
    desktop.click("允许：查看您的屏幕")
    assert next_event(console, "consent")["granted"] is True
    desktop.wait_until(lambda: viewable(desktop.display, "kefu sharing frame"), "the frame")
    desktop.find("停止共享", "push button")
    desktop.screenshot("3-sharing-zh")
    desktop.click("停止")
    next_event(console, "ended")
    assert desktop.wait_text("会话已结束", "label", "^会话已结束：您已停止会话$")
    assert not viewable(desktop.display, "kefu sharing frame")
    summary = desktop.wait_text("会话摘要", "text", "客服会话摘要")
    # The summary as the customer reads it: the names in bold, no Markdown marks.
    assert "为您提供帮助的是 Alice Tan（Example Support）。" in summary
    assert "**" not in summary and "\\" not in summary and "# " not in summary
    assert "已允许查看您的屏幕（由您决定）" in summary
    assert "已收回（由您决定）：查看您的屏幕" in summary  # Stop took it back
    desktop.screenshot("4-summary-zh")
    desktop.click("关闭")
    assert helper.wait(timeout=20) == 0


def test_terminal_in_chinese_shows_code_and_request(support, private_state):
    env = dict(os.environ, LANG="C.UTF-8", LANGUAGE="zh_CN")
    agent = subprocess.Popen([program("kefu-agentd"), "share", "--terminal", "--profile",
                              support.profile], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, env=env, start_new_session=True)
    try:
        lines = []
        code = None
        for _ in range(40):
            line = agent.stdout.readline()
            lines.append(line)
            if "您的验证码：" in line:
                code = line.split("：", 1)[1].strip()
                break
        assert code, lines
        line = agent.stdout.readline() + agent.stdout.readline()
        assert "请把它念给 Example Support 的技术人员。它只能使用一次，10 分钟内有效。" in line
        console = support.start_console(code, "--json")
        next_event(console, "connected")
        send(console, "request diagnose 检查驱动")
        seen = []
        for _ in range(20):
            seen.append(agent.stdout.readline())
            if "秒内未回答即视为拒绝" in seen[-1]:
                break
        text = "".join(seen)
        assert "已连接：Example Support 的 Alice Tan 已经为您连线。" in text
        assert ">>> 您的技术人员请求收集有关您电脑设备和驱动程序的报告" in text
        assert "原因：检查驱动" in text
        agent.stdin.write("y\n")
        agent.stdin.flush()
        assert next_event(console, "consent")["granted"] is True
        agent.stdin.write("/stop\n")
        agent.stdin.flush()
        out, _ = agent.communicate(timeout=20)
        assert "会话已结束：" in out
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()


def test_terminal_plural_forms_in_english(support, private_state):
    agent = subprocess.Popen([program("kefu-agentd"), "share", "--profile", support.profile,
                              "--code-minutes", "1"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, start_new_session=True,
                             env=dict(os.environ, LANG="C.UTF-8", LANGUAGE="en"))
    try:
        lines = [agent.stdout.readline() for _ in range(6)]
        assert any("It works once, for 1 minute." in line for line in lines), lines
    finally:
        agent.kill()
        agent.wait()
