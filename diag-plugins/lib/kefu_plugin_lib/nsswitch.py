# kefu plugin library: /etc/nsswitch.conf read as glibc (2.33 and later) reads it. SPDX-License-Identifier: MIT
"""glibc's nss_database.c and nss_action_parse.c, in Python:
- one entry a line (getline; there is no line continuation); a line is `DATABASE[:] SOURCES`,
  the name ending at a blank or ':'; a line without a name and a value is skipped;
- lines naming no known database are ignored ('#...' lines among them); '#' starts a
  comment anywhere (glibc before 2.33 stripped them, and writers rely on it);
- for a database named twice, the LAST line counts (each line replaces the entry);
- SOURCES: `( SOURCE ( '[' ( '!'? STATUS '=' ACTION )+ ']' )? )*`, keywords in any case;
  a source starts with SUCCESS=return and every other status continue; `!STATUS=ACTION`
  sets ACTION on every status but STATUS; a syntax error makes glibc stop reading the file
  and fail every lookup;
- a database without a line gets glibc's default: hosts `dns [!UNAVAIL=return] files`.
"""
import re

STATUSES = ("success", "notfound", "unavail", "tryagain")
ACTIONS = ("return", "continue", "merge")
DATABASES = ("aliases", "ethers", "group", "group_compat", "gshadow", "hosts", "initgroups",
             "netgroup", "networks", "passwd", "passwd_compat", "protocols", "publickey",
             "rpc", "services", "shadow", "shadow_compat")
DEFAULTS = {"hosts": "dns [!UNAVAIL=return] files", "networks": "dns [!UNAVAIL=return] files",
            "passwd": "files", "group": "files", "shadow": "files", "gshadow": "files",
            "publickey": "nis nisplus", "initgroups": ""}


class SyntaxErr(ValueError):
    pass


class Source:
    def __init__(self, name):
        self.name = name
        self.actions = {s: "continue" for s in STATUSES}
        self.actions["success"] = "return"
        self.items = []  # the bracket items as written, e.g. "[NOTFOUND=return]"

    def __repr__(self):
        return "Source(%r, %r)" % (self.name, self.actions)


def parse_sources(text):
    """The sources of one entry's value, as glibc parses them; raises SyntaxErr."""
    sources = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return sources
        start = i
        while i < n and not text[i].isspace() and text[i] != "[":
            i += 1
        if i == start:  # a '[' with no source before it
            raise SyntaxErr("an action item without a source before it")
        source = Source(text[start:i])
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] == "[":
            item_start = i
            i += 1
            while True:
                while i < n and text[i].isspace():
                    i += 1
                negate = i < n and text[i] == "!"
                if negate:
                    i += 1
                m = re.match(r"[^\s=\]]*", text[i:])
                status = m.group(0).lower()
                i += len(m.group(0))
                if status not in STATUSES:
                    raise SyntaxErr("unknown status %r in an action item" % m.group(0))
                while i < n and text[i].isspace():
                    i += 1
                if i >= n or text[i] != "=":
                    raise SyntaxErr("'=' expected after %s" % status.upper())
                i += 1
                while i < n and text[i].isspace():
                    i += 1
                m = re.match(r"[^\s=\]]*", text[i:])
                action = m.group(0).lower()
                i += len(m.group(0))
                if action not in ACTIONS:
                    raise SyntaxErr("unknown action %r in an action item" % m.group(0))
                if negate:
                    saved = source.actions[status]
                    for s in STATUSES:
                        source.actions[s] = action
                    source.actions[status] = saved
                else:
                    source.actions[status] = action
                while i < n and text[i].isspace():
                    i += 1
                if i >= n:
                    raise SyntaxErr("']' missing")
                if text[i] == "]":
                    i += 1
                    break
            source.items.append(text[item_start:i])
        sources.append(source)


class Entry:
    def __init__(self, database, value, lineno, sources, error):
        self.database, self.value, self.lineno = database, value, lineno
        self.sources, self.error = sources, error


class Config:
    """entries: database -> the Entry that counts; lines: the file's lines; error: the first
    syntax error glibc stops at (an Entry), else None."""

    def __init__(self, text):
        self.lines = text.splitlines(keepends=True) if text is not None else []
        self.present = text is not None
        self.entries = {}
        self.error = None
        for lineno, raw in enumerate(self.lines, 1):
            line = raw.split("#", 1)[0]
            m = re.match(r"\s*([^\s:]+)[\s:]+(.*)$", line.rstrip("\n"))
            if m is None or m.group(1) not in DATABASES:
                continue
            try:
                sources, error = parse_sources(m.group(2)), None
            except SyntaxErr as e:
                sources, error = None, str(e)
            entry = Entry(m.group(1), m.group(2).strip(), lineno, sources, error)
            if error is not None:
                self.error = entry
                break  # glibc stops reading here
            self.entries[m.group(1)] = entry

    def sources(self, database):
        """The sources glibc uses for DATABASE (its default when no line names it)."""
        entry = self.entries.get(database)
        if entry is not None:
            return entry.sources
        return parse_sources(DEFAULTS.get(database, "files"))

    def explicit(self, database):
        return self.entries.get(database)


def read(root):
    """The Config of ROOT's /etc/nsswitch.conf (a rootfs.Root); a missing file has none."""
    return Config(root.read_text("/etc/nsswitch.conf"))


# What a source answers for a name on the internet (say example.com), per its documentation:
# files (/etc/hosts), myhostname (nss-myhostname(8)), mymachines (nss-mymachines(8)) and
# other local databases say NOTFOUND; nss-mdns's *_minimal modules answer only .local names
# and say UNAVAIL (nss-mdns README "minimal"); a module that is not installed is UNAVAIL.
DNS_SOURCES = ("dns", "resolve")
MDNS_MINIMAL = ("mdns_minimal", "mdns4_minimal", "mdns6_minimal")
BUILT_IN = ("files", "dns")  # part of libc since glibc 2.34


def internet_statuses(source, installed):
    if not installed:
        return ("unavail",)
    if source.name in MDNS_MINIMAL:
        return ("unavail",)
    if source.name == "mymachines":
        return ("notfound", "unavail")  # unavail when systemd-machined is not running
    return ("notfound",)


def dns_reachable(sources, installed=lambda name: True):
    """Whether a lookup of an internet name through SOURCES reaches a DNS source: the index
    of the first source that asks DNS, or None, and why not (for a finding)."""
    for index, source in enumerate(sources):
        if source.name in DNS_SOURCES:
            if installed(source.name):
                return index, None
            continue  # not installed: UNAVAIL, and the actions below decide
        for status in internet_statuses(source, installed(source.name)):
            if source.actions[status] == "return":
                return None, "%s answers %s for a name on the internet and %s stops the " \
                    "lookup there" % (source.name, status.upper(),
                                      " ".join(source.items) or "its action")
    dns = [s.name for s in sources if s.name in DNS_SOURCES]
    if dns:
        return None, "%s is listed but not installed" % " and ".join(dns)
    return None, "no source asks a name server (dns or resolve)"


def format_sources(sources):
    out = []
    for s in sources:
        out.append(s.name)
        out.extend(s.items)
    return " ".join(out)


def module_installed(root):
    """A function telling whether libnss_NAME.so.2 is in ROOT's library folders. A tree with
    no C library in those folders (a bare test tree) is taken to have every module."""
    folders = ["/lib", "/usr/lib", "/lib64", "/usr/lib64"]
    for base in ("/lib", "/usr/lib"):
        for name in root.listdir(base):
            if re.fullmatch(r"[a-z0-9_]+-linux-gnu[a-z0-9_]*", name):
                folders.append(base + "/" + name)
    have_libc = any(root.exists(f + "/libc.so.6") for f in folders)

    def installed(name):
        if not have_libc or name in BUILT_IN:
            return True
        return any(root.exists("%s/libnss_%s.so.2" % (f, name)) for f in folders)
    return installed
