#!/usr/bin/python3
# kefu plugin name-resolution-config: whether a lookup of a web address ever reaches a name
# server, as glibc reads /etc/nsswitch.conf; `repair` makes it do so. SPDX-License-Identifier: MIT
import re
import sys

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import FAILED, NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib import nsswitch  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

CONF = "/etc/nsswitch.conf"


def diagnose(config, installed):
    """None when web addresses reach DNS, else the reason."""
    if config.error is not None:
        e = config.error
        return "line %d (%s) cannot be read: %s, so the C library stops reading the file " \
            "and every lookup fails" % (e.lineno, e.database, e.error)
    index, why = nsswitch.dns_reachable(config.sources("hosts"), installed)
    if index is not None:
        return None
    entry = config.explicit("hosts")
    return "hosts line %d (%s): %s" % (entry.lineno, entry.value or "empty", why) if entry \
        else why


def fixed_sources(sources, installed):
    """SOURCES changed as little as possible so that an internet name reaches DNS."""
    sources = list(sources)
    for _ in range(len(sources) + 2):
        index, _why = nsswitch.dns_reachable(sources, installed)
        if index is not None:
            return sources
        for i, s in enumerate(sources):
            if s.name in nsswitch.DNS_SOURCES and installed(s.name):
                break
            if any(s.actions[st] == "return"
                   for st in nsswitch.internet_statuses(s, installed(s.name))):
                sources[i] = nsswitch.Source(s.name)  # its action items dropped
                break
        else:
            sources.append(nsswitch.Source("dns"))
    return sources


def without_bad_items(value):
    """VALUE with every action item glibc cannot parse removed."""
    out = value
    for item in re.findall(r"\[[^\]]*\]?", value):
        try:
            nsswitch.parse_sources("x " + item)
        except nsswitch.SyntaxErr:
            out = out.replace(item, " ", 1)
    out = re.sub(r"^\s*\[[^\]]*\]?", "", out)  # an item with no source before it
    return " ".join(out.split())


def rewrite_line(line, value):
    m = re.match(r"([ \t]*[^\s:]+[ \t:]*)([^#\n]*)(#[^\n]*)?(\n?)$", line)
    prefix, comment, end = m.group(1), m.group(3), m.group(4) or "\n"
    if ":" not in prefix:
        prefix = prefix.rstrip() + ": "
    elif not prefix[-1].isspace():
        prefix += " "
    return prefix + value + (" " + comment if comment else "") + end


def main():
    root = Root(root_dir())
    text = root.read_text(CONF)
    if text is None:
        result("not-applicable", "no /etc/nsswitch.conf")
        return NOT_APPLICABLE
    installed = nsswitch.module_installed(root)
    config = nsswitch.Config(text)
    why = diagnose(config, installed)
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if mode == "detect":
        if why is None:
            result("ok", "the hosts line asks DNS")
            return OK
        finding("error", "The system never asks a name server for web addresses",
                "/etc/nsswitch.conf " + why)
        result("problem")
        return PROBLEM
    if why is None:
        result("fixed", "nothing to change")
        return OK
    lines = list(config.lines)
    for _ in range(4):  # a bad line fixed, then the hosts line
        config = nsswitch.Config("".join(lines))
        if config.error is not None:
            e = config.error
            lines[e.lineno - 1] = rewrite_line(lines[e.lineno - 1], without_bad_items(e.value))
            continue
        if diagnose(config, installed) is None:
            break
        entry = config.explicit("hosts")
        new = nsswitch.format_sources(fixed_sources(config.sources("hosts"), installed))
        if entry is None:
            lines.append("hosts:          %s\n" % new)
        else:
            lines[entry.lineno - 1] = rewrite_line(lines[entry.lineno - 1], new)
    new_text = "".join(lines)
    if diagnose(nsswitch.Config(new_text), installed) is not None:
        result("failed", "could not find a hosts line that reaches a name server")
        return PROBLEM
    try:
        root.write_text_atomic(CONF, new_text)  # the agent keeps the old one for undo
    except OSError as e:
        result("failed", "could not write the new configuration: %s" % e.strerror)
        return PROBLEM
    result("fixed", "the hosts line asks a name server")
    return OK


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as e:
        result("failed", str(e))
        sys.exit(FAILED)
