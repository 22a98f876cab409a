# kefu: drives kefu-helper's window by accessible names with dogtail, inside the test's own
# D-Bus session (run as `dbus-run-session -- python3 window_driver.py`).
# SPDX-License-Identifier: MIT
#
# Prints "bus ADDRESS" first, then answers one JSON request per line on stdin with one
# JSON line: {"op": "find", "name": N, "role": R, "timeout": S} -> {"ok": true, "text": T,
# "showing": B}; "click", "type" (with "text"), "exists" (no wait), "texts" (every showing
# name and text: {"texts": [...]}) and "quit".
import json
import os
import sys
import time

print("bus " + os.environ["DBUS_SESSION_BUS_ADDRESS"], flush=True)
# The application appears on the accessibility bus only after it starts: dogtail is
# imported once the test says the helper runs.
request = json.loads(sys.stdin.readline())
assert request["op"] == "start", request

# Accessibility on for this session's bus (dogtail refuses to start otherwise); GNOME
# sets the same property when a screen reader is switched on.
import gi  # noqa: E402
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402
Gio.bus_get_sync(Gio.BusType.SESSION, None).call_sync(
    "org.a11y.Bus", "/org/a11y/bus", "org.freedesktop.DBus.Properties", "Set",
    GLib.Variant("(ssv)", ("org.a11y.Status", "IsEnabled", GLib.Variant("b", True))),
    None, Gio.DBusCallFlags.NONE, 10000, None)

# A notification server on this bus when the test asks for one: it records each Notify
# and CloseNotification, and invokes an action on request, as a desktop's would.
NOTIFICATIONS_XML = """<node><interface name="org.freedesktop.Notifications">
<method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/>
<arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
<arg type="as" direction="in"/><arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
<arg type="u" direction="out"/></method>
<method name="CloseNotification"><arg type="u" direction="in"/></method>
<method name="GetCapabilities"><arg type="as" direction="out"/></method>
<method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
<arg type="s" direction="out"/><arg type="s" direction="out"/></method>
<signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
</interface></node>"""
notifications = {"shown": {}, "closed": [], "next": 1}
session_bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)


def on_notification_call(connection, sender, path, interface, method, parameters, invocation):
    if method == "Notify":
        (app, replaces, icon, summary, body, actions, hints, timeout) = parameters.unpack()
        number = notifications["next"]
        notifications["next"] += 1
        notifications["shown"][number] = {"summary": summary, "body": body,
                                          "actions": actions, "timeout": timeout,
                                          "resident": bool(hints.get("resident")),
                                          "sender": sender}
        invocation.return_value(GLib.Variant("(u)", (number,)))
    elif method == "CloseNotification":
        notifications["closed"].append(parameters.unpack()[0])
        invocation.return_value(None)
    elif method == "GetCapabilities":
        invocation.return_value(GLib.Variant("(as)", (["actions", "persistence", "body"],)))
    else:
        invocation.return_value(GLib.Variant("(ssss)", ("test", "kefu", "1", "1.2")))


def serve_notifications(ready):
    """The server's own thread and main context, so that it answers while dogtail waits."""
    context = GLib.MainContext()
    context.push_thread_default()
    node = Gio.DBusNodeInfo.new_for_xml(NOTIFICATIONS_XML)
    session_bus.register_object("/org/freedesktop/Notifications", node.interfaces[0],
                                on_notification_call, None, None)
    Gio.bus_own_name_on_connection(session_bus, "org.freedesktop.Notifications",
                                   Gio.BusNameOwnerFlags.NONE, None, None)
    ready.set()
    GLib.MainLoop(context).run()


if request.get("notifications"):
    import threading

    ready = threading.Event()
    threading.Thread(target=serve_notifications, args=(ready,), daemon=True).start()
    ready.wait(10)


def pump(seconds):
    time.sleep(seconds)


from dogtail import config  # noqa: E402

config.config.searchShowingOnly = False
config.config.logDebugToFile = False
config.config.logDebugToStdOut = False
config.config.searchCutoffCount = 3
config.config.defaultDelay = 0.2
from dogtail import tree  # noqa: E402
from dogtail.predicate import GenericPredicate  # noqa: E402


def application(timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            for app in tree.root.applications():
                if app.name == request["app"]:
                    return app
        except Exception:
            pass
        time.sleep(0.2)
    raise LookupError("the application %r is not on the accessibility bus" % request["app"])


app = application(30)
print("reply " + json.dumps({"ok": True}), flush=True)


def find(name, role=None, timeout=10, showing=True):
    deadline = time.monotonic() + timeout
    while True:
        try:
            for node in app.findChildren(GenericPredicate(name=name, roleName=role),
                                         recursive=True):
                if not showing or node.showing:
                    return node
        except Exception:
            pass
        if time.monotonic() >= deadline:
            raise LookupError("no %s named %r is showing" % (role or "widget", name))
        time.sleep(0.2)


def describe(node):
    text = None
    try:
        text = node.text
    except Exception:
        pass
    return {"ok": True, "text": text, "showing": bool(node.showing),
            "checked": bool(node.checked) if node.roleName in ("toggle button", "switch")
            else None}


for line in sys.stdin:
    request = json.loads(line)
    try:
        op = request["op"]
        if op == "quit":
            break
        if op == "notifications":
            pump(request.get("seconds", 0.5))
            print("reply " + json.dumps({"ok": True, "shown": {str(k): v for k, v in
                                         notifications["shown"].items()},
                                         "closed": notifications["closed"]}), flush=True)
            continue
        if op == "invoke":
            pump(0.2)
            shown = notifications["shown"][int(request["id"])]
            session_bus.emit_signal(shown["sender"], "/org/freedesktop/Notifications",
                                    "org.freedesktop.Notifications", "ActionInvoked",
                                    GLib.Variant("(us)", (int(request["id"]),
                                                          request["action"])))
            session_bus.flush_sync(None)
            print("reply " + json.dumps({"ok": True}), flush=True)
            continue
        if op == "texts":
            # Everything the customer can read now: each showing widget's name and text,
            # in every window of the application (the sharing bar too).
            seen = []
            for node in app.findChildren(GenericPredicate(), recursive=True):
                if not node.showing:
                    continue
                for value in (node.name, describe(node)["text"]):
                    if value and value not in seen:
                        seen.append(value)
            print("reply " + json.dumps({"ok": True, "texts": seen}), flush=True)
            continue
        if op == "exists":
            found = [n for n in app.findChildren(
                GenericPredicate(name=request["name"], roleName=request.get("role")),
                recursive=True) if n.showing]
            reply = {"ok": True, "exists": bool(found)}
        else:
            node = find(request["name"], request.get("role"), request.get("timeout", 10))
            if op in ("click", "toggle"):
                actions = node.actions
                for name in ("click", "toggle", "press", "activate"):
                    if name in actions:
                        node.doActionNamed(name)
                        break
                else:
                    node.click()
            elif op == "type":
                node.text = request["text"]
                node.grabFocus()
            reply = describe(node)
    except Exception as error:  # the test reads the reason
        reply = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
    print("reply " + json.dumps(reply), flush=True)
