# kefu: the customer's window, driven by accessible names against a real session.
# SPDX-License-Identifier: MIT
import json

from conftest import program, run
from session_fixtures import next_event, private_state, send, support  # noqa: F401
from window_fixtures import (Desktop, artifacts, input_rectangle_count, viewable,  # noqa: F401
                             window_id)

FRAME, BAR = "kefu sharing frame", "kefu sharing bar"


def test_window_code_request_allow_revoke_and_stop(support, private_state, processes,
                                                  artifacts):
    desktop = Desktop(processes, artifacts)
    helper = desktop.start_helper("--profile", support.profile)
    code = desktop.wait_text("Your code", "label", r"^\d{4}( \d{4})+$")
    assert len(code.replace(" ", "")) >= 8, code
    # The support ID shown is this installation's, the one `kefu-agentd support-id` prints.
    support_id = run([program("kefu-agentd"), "support-id"]).stdout.strip()
    assert support_id.startswith("KF-")
    assert desktop.find("Your support ID", "label")["text"].startswith(
        "Your support ID: %s " % support_id)
    desktop.screenshot("1-code")
    console = support.start_console(code, "--json")
    next_event(console, "connected")
    desktop.wait_text("Your technician", "label", "Alice Tan from Example Support")
    send(console, "request view to look at the printer settings")
    desktop.find("Allow: see your screen", "push button")
    assert not viewable(desktop.display, FRAME)
    desktop.screenshot("2-request")
    desktop.click("Allow: see your screen")
    answer = next_event(console, "consent")
    assert answer["capability"] == "view" and answer["granted"] is True
    desktop.wait_until(lambda: viewable(desktop.display, FRAME)
                       and viewable(desktop.display, BAR), "the frame and bar show")
    # The frame takes no click: its input shape is empty. The bar does take them.
    assert input_rectangle_count(desktop.display, window_id(desktop.display, FRAME)) == 0
    assert input_rectangle_count(desktop.display, window_id(desktop.display, BAR)) > 0
    desktop.screenshot("3-sharing")
    desktop.request({"op": "toggle", "name": "Allowed: see your screen", "role": None})
    revoked = next_event(console, "revoked")
    assert revoked["capability"] == "view"
    desktop.wait_until(lambda: not viewable(desktop.display, FRAME)
                       and not viewable(desktop.display, BAR), "the frame and bar go")
    desktop.click("Stop")
    next_event(console, "ended")
    desktop.wait_text("The session has ended", "label", "^The session has ended: you stopped it$")
    desktop.screenshot("4-summary")
    desktop.click("Close")
    assert helper.wait(timeout=20) == 0


def test_window_from_link_keeps_the_case_and_still_asks(support, private_state, processes,
                                                       artifacts):
    host = json.load(open(support.profile))["relays"][0]["host"]
    desktop = Desktop(processes, artifacts)
    helper = desktop.start_helper("--profile", support.profile, "--url",
                                  "kefu://join?org=Example%20Support&relay=" + host
                                  + "&case=CS-1234")
    code = desktop.wait_text("Your code", "label", r"^\d{4}( \d{4})+$")
    console = support.start_console(code, "--json")
    next_event(console, "connected")
    # A link grants nothing: the request waits for the customer's own answer.
    send(console, "request control")
    desktop.find("Deny: use your keyboard, mouse and clipboard", "push button")
    send(console, "ping")
    next_event(console, "pong")
    desktop.click("Deny: use your keyboard, mouse and clipboard")
    answer = next_event(console, "consent")
    assert answer["capability"] == "control" and answer["granted"] is False
    send(console, "end Your printer works again.")
    next_event(console, "ended")
    assert "CS-1234" in desktop.wait_text("Case number: CS-1234", "label", "CS-1234")
    path = desktop.wait_text("Where the summary is kept", "label", r"\.md")
    summary = path.split("kept in ", 1)[1].split(" (and", 1)[0].replace("\n", "")
    assert "Case number: CS-1234" in open(summary).read()
    desktop.screenshot("summary-with-case")
    desktop.click("Close")
    assert helper.wait(timeout=20) == 0


def test_notification_bar_and_chat_while_sharing(support, private_state, processes, artifacts):
    desktop = Desktop(processes, artifacts)
    helper = desktop.start_helper("--profile", support.profile, notifications=True)
    code = desktop.wait_text("Your code", "label", r"^\d{4}( \d{4})+$")
    console = support.start_console(code, "--json")
    next_event(console, "connected")
    send(console, "chat Hello, this is Alice.")
    desktop.wait_text("Conversation", "text", "Alice Tan: Hello, this is Alice.")
    desktop.type("Message to your technician", "My printer is stuck.")
    desktop.click("Send")
    assert next_event(console, "chat")["text"] == "My printer is stuck."
    assert desktop.request({"op": "notifications", "seconds": 0.3})["shown"] == {}
    send(console, "request view")
    desktop.click("Allow: see your screen")
    assert next_event(console, "consent")["granted"] is True
    shown = {}
    for _ in range(50):
        shown = desktop.request({"op": "notifications", "seconds": 0.2})["shown"]
        if shown:
            break
    assert len(shown) == 1, shown
    number, notice = next(iter(shown.items()))
    assert notice["summary"] == "Your screen is shared"
    assert notice["body"] == "Alice Tan can see your screen"
    assert notice["actions"] == ["stop", "Stop sharing"]
    assert notice["resident"] is True and notice["timeout"] == 0
    # The notification's Stop takes view back in the core; the console is told.
    desktop.request({"op": "invoke", "id": number, "action": "stop"})
    assert next_event(console, "revoked")["capability"] == "view"
    desktop.wait_until(lambda: not viewable(desktop.display, FRAME), "the frame goes")
    closed = desktop.request({"op": "notifications", "seconds": 0.3})["closed"]
    assert int(number) in closed
    # Again, and this time the bar's own button.
    send(console, "request view")
    desktop.click("Allow: see your screen")
    assert next_event(console, "consent")["granted"] is True
    desktop.wait_until(lambda: viewable(desktop.display, BAR), "the bar shows")
    desktop.click("Stop sharing")
    assert next_event(console, "revoked")["capability"] == "view"
    desktop.wait_until(lambda: not viewable(desktop.display, BAR), "the bar goes")
    desktop.click("Stop")
    next_event(console, "ended")
    desktop.click("Close")
    assert helper.wait(timeout=20) == 0
