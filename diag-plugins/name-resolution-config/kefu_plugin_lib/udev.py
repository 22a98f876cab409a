# kefu plugin library: udev rules gathered and applied to one device as systemd-udevd does. SPDX-License-Identifier: MIT
"""udev(7):
- files ending in .rules in /etc/udev/rules.d, /run/udev/rules.d, /usr/local/lib/udev/rules.d,
  /usr/lib/udev/rules.d and /lib/udev/rules.d; a name in an earlier folder hides the same
  name in later ones (a link to /dev/null disables it); all are read in lexical name order;
- a rule is one line ('\\' at the end continues it), blank lines and '#' lines are ignored;
  it is comma-separated `KEY OP "VALUE"`; OP `==`/`!=` match, `=` `+=` `-=` `:=` assign;
  every match key must match for the rule's assignments to apply;
- match values are shell patterns (`*`, `?`, `[...]`) with `|` between alternatives;
- MODE, OWNER, GROUP: the last assignment counts unless one was made with `:=` (final);
  TAG: `+=` adds, `-=` removes, `=` replaces the list, `:=` also makes it final;
  GOTO jumps to the LABEL of the same file; OPTIONS+="last_rule" stops all later rules;
- TAG "uaccess" gives the signed-in user an ACL on the node when systemd's
  73-seat-late.rules (`TAG=="uaccess", ... RUN{builtin}+="uaccess"`) sees it, so it must be
  set by a rule read before that one; a MODE set afterwards does not take the ACL away (the
  builtin recomputes the ACL mask).
Match keys this module cannot know for a device (PROGRAM, TEST, RESULT, unknown ATTR{...},
DRIVERS) make a rule not match; an unset ENV{...} is the empty string, as in udev.
"""
import fnmatch
import re

FOLDERS = ("/etc/udev/rules.d", "/run/udev/rules.d", "/usr/local/lib/udev/rules.d",
           "/usr/lib/udev/rules.d", "/lib/udev/rules.d")
SEAT_LATE = "73-seat-late.rules"
SEAT_LATE_RULE = 'TAG=="uaccess", ENV{MAJOR}!="", RUN{builtin}+="uaccess"'
MATCH_OPS = ("==", "!=")
TOKEN = re.compile(r'\s*([A-Za-z_]+(?:\{[^}]*\})?)\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')


class Rule:
    def __init__(self, path, lineno, keys):
        self.path, self.lineno, self.keys = path, lineno, keys  # keys: [(key, op, value)]

    def get(self, key):
        return [v for k, o, v in self.keys if k == key]

    def __repr__(self):
        return "%s:%d" % (self.path, self.lineno)


def parse(text, path):
    """The rules of one file; a line that is not a rule is skipped, as udevd skips it."""
    rules = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        first = i
        buf = lines[i]
        while buf.endswith("\\") and i + 1 < len(lines):
            i += 1
            buf = buf[:-1] + lines[i]
        i += 1
        line = buf.strip()
        if not line or line.startswith("#"):
            continue
        keys, pos = [], 0
        while pos < len(line):
            m = TOKEN.match(line, pos)
            if m is None:
                keys = None
                break
            keys.append((m.group(1), m.group(2), m.group(3).replace('\\"', '"')))
            pos = m.end()
        if keys:
            rules.append(Rule(path, first + 1, keys))
    return rules


def rule_files(root):
    """[(name, system path)] in the order udevd reads them, same-name override applied."""
    chosen = {}
    for folder in FOLDERS:
        for name in root.listdir(folder):
            if name.startswith(".") or not name.endswith(".rules") or name in chosen:
                continue
            path = folder + "/" + name
            if root.is_link(path) and root.readlink(path) == "/dev/null" or \
                    root.link_target(path) == "/dev/null":
                chosen[name] = None
            elif root.is_file(path):
                chosen[name] = path
    return [(n, chosen[n]) for n in sorted(chosen) if chosen[n] is not None]


def read(root, extra=None):
    """[(name, [Rule])] for ROOT, with EXTRA {name: text} added as if in /etc/udev/rules.d
    (a rule file a repair is about to write). Without any rule running the uaccess builtin,
    systemd's 73-seat-late.rules is assumed in its place."""
    files = {name: (path, root.read_text(path) or "") for name, path in rule_files(root)}
    for name, text in (extra or {}).items():
        files[name] = ("/etc/udev/rules.d/" + name, text)
    parsed = [(name, parse(text, path)) for name, (path, text) in sorted(files.items())]
    if not any(is_uaccess_builtin(r) for _n, rules in parsed for r in rules):
        parsed.append((SEAT_LATE, parse(SEAT_LATE_RULE, "(systemd) " + SEAT_LATE)))
        parsed.sort(key=lambda item: item[0])
    return parsed


def is_uaccess_builtin(rule):
    return any(k == "RUN{builtin}" and o in ("+=", "=", ":=") and v.split()[:1] == ["uaccess"]
               for k, o, v in rule.keys)


def pattern_match(value, pattern):
    return any(fnmatch.fnmatchcase(value, alt) for alt in pattern.split("|"))


class Device:
    """What the rules can test about a device: its kernel name, subsystem, sysfs attributes
    (ATTR and ATTRS both see the device's own) and properties (ENV)."""

    def __init__(self, kernel, subsystem, attrs, env, action="add"):
        self.kernel, self.subsystem, self.attrs = kernel, subsystem, dict(attrs)
        self.env, self.action = dict(env), action


class Effect:
    def __init__(self):
        self.mode = self.owner = self.group = None
        self.final = set()
        self.tags = []
        self.uaccess = False  # the uaccess builtin ran with the tag set
        self.rules = []  # the rules that matched

    def __repr__(self):
        return "Effect(mode=%s owner=%s group=%s tags=%s uaccess=%s)" % (
            self.mode, self.owner, self.group, self.tags, self.uaccess)


def key_value(device, effect, key):
    """The device's value for match KEY, or None when it cannot be known."""
    if key in ("SUBSYSTEM", "SUBSYSTEMS"):
        return device.subsystem
    if key in ("KERNEL", "KERNELS"):
        return device.kernel
    if key == "ACTION":
        return device.action
    if key == "DRIVER":
        return ""
    m = re.fullmatch(r"(ATTRS?|ENV)\{(.+)\}", key)
    if m and m.group(1) == "ENV":
        return device.env.get(m.group(2), "")
    if m:
        return device.attrs.get(m.group(2))
    return None


def matches(rule, device, effect):
    for key, op, value in rule.keys:
        if op not in MATCH_OPS:
            continue
        if key == "TAG" or key == "TAGS":
            have = any(pattern_match(t, value) for t in effect.tags)
        else:
            actual = key_value(device, effect, key)
            if actual is None:
                return False
            have = pattern_match(actual, value) if value else actual == ""
        if have != (op == "=="):
            return False
    return True


def assign(effect, device, key, op, value):
    if key in ("MODE", "OWNER", "GROUP"):
        attr = key.lower()
        if attr in effect.final:
            return
        setattr(effect, attr, value)
        if op == ":=":
            effect.final.add(attr)
    elif key == "TAG":
        if "tag" in effect.final:
            return
        if op in ("=", ":="):
            effect.tags = [value] if value else []
        elif op == "+=":
            if value not in effect.tags:
                effect.tags.append(value)
        elif op == "-=":
            effect.tags = [t for t in effect.tags if t != value]
        if op == ":=":
            effect.final.add("tag")
    elif key.startswith("ENV{"):
        name = key[4:-1]
        if op == "+=":
            device.env[name] = device.env.get(name, "") + value
        elif op == "-=":
            device.env.pop(name, None)
        else:
            device.env[name] = value


def apply(rule_files_parsed, device):
    """The Effect of every rule on DEVICE, in udevd's order."""
    effect = Effect()
    for _name, rules in rule_files_parsed:
        labels = {v: i for i, r in enumerate(rules) for v in r.get("LABEL")}
        i = 0
        while i < len(rules):
            rule = rules[i]
            i += 1
            if not matches(rule, device, effect):
                continue
            effect.rules.append(rule)
            for key, op, value in rule.keys:
                if op not in MATCH_OPS:
                    assign(effect, device, key, op, value)
            if is_uaccess_builtin(rule) and "uaccess" in effect.tags:
                effect.uaccess = True
            if any(k == "OPTIONS" and "last_rule" in v.split(",") for k, _o, v in rule.keys):
                return effect
            for target in rule.get("GOTO"):
                if target in labels:
                    i = labels[target]  # the LABEL rule itself holds no matches
    return effect


def mode_of(effect):
    """The node mode udevd gives: MODE, else 0660 when a group is set, else 0600."""
    if effect.mode is not None:
        try:
            return int(effect.mode, 8)
        except ValueError:
            return None
    return 0o660 if effect.group is not None else 0o600
