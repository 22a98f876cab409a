# kefu plugin library: systemd unit state as `systemctl --root` sees it. SPDX-License-Identifier: MIT
"""systemd.unit(5), systemctl(1):
- unit files are looked up in /etc/systemd/system, /run/systemd/system,
  /usr/local/lib/systemd/system, /usr/lib/systemd/system, /lib/systemd/system; the first
  folder that has the name wins;
- a unit is masked when its name in /etc/systemd/system or /run/systemd/system (`--runtime`)
  is a link to /dev/null (or an empty file);
- it is enabled when a `*.wants/` or `*.requires/` folder of those places holds a link of its
  name (or of an alias) leading to a unit file of the root: a link's absolute target is taken
  inside the root (`systemctl enable` writes absolute links);
- `[Install]` WantedBy=, RequiredBy= say where `enable` puts the links.
"""
import os
import re

UNIT_PATH = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
             "/usr/lib/systemd/system", "/lib/systemd/system")
MASK_PATH = ("/etc/systemd/system", "/run/systemd/system")


def _is_null(root, path):
    if root.is_link(path):
        target = root.readlink(path)
        return target == "/dev/null" or root.link_target(path) == "/dev/null"
    try:
        return root.is_file(path) and root.stat(path).st_size == 0
    except OSError:
        return False


def unit_file(root, name):
    """The system path of unit NAME's file (links followed inside the root), else None."""
    for folder in UNIT_PATH:
        path = folder + "/" + name
        if _is_null(root, path):
            return None
        if root.is_file(path):
            return root.system(root.host(path))
    return None


def masked(root, name):
    """The mask's path when unit NAME is masked, else None."""
    for folder in MASK_PATH:
        path = folder + "/" + name
        if root.lexists(path) and _is_null(root, path):
            return path
    return None


def install_section(root, name):
    """{key: [values]} of the unit's [Install] section."""
    path = unit_file(root, name)
    text = root.read_text(path) if path else None
    section, out = None, {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        m = re.fullmatch(r"\[(.+)\]", line)
        if m:
            section = m.group(1)
            continue
        if section == "Install" and "=" in line:
            key, value = (s.strip() for s in line.split("=", 1))
            if value == "":
                out[key] = []
            else:
                out.setdefault(key, []).extend(value.split())
    return out


def enablement_links(root, name):
    """The links that enable unit NAME and lead to a unit file inside the root."""
    names = {name} | set(install_section(root, name).get("Alias", []))
    found = []
    for folder in UNIT_PATH:
        for sub in root.listdir(folder):
            if not (sub.endswith(".wants") or sub.endswith(".requires")):
                continue
            for n in names:
                path = "%s/%s/%s" % (folder, sub, n)
                if not root.lexists(path) or _is_null(root, path):
                    continue
                if root.is_file(path) or unit_file(root, name):
                    found.append(path)
    return found


def state(root, name):
    """'not-found', 'masked', 'enabled' or 'disabled'."""
    if masked(root, name):
        return "masked"
    if unit_file(root, name) is None:
        return "not-found"
    return "enabled" if enablement_links(root, name) else "disabled"


def enable(root, name):
    """What `systemctl enable NAME` writes: a mask in /etc or /run removed, then a link in
    each WantedBy=/RequiredBy= target's folder to the unit file (an absolute path, as
    systemctl writes it). Returns the links written."""
    for folder in MASK_PATH:
        path = folder + "/" + name
        if root.lexists(path) and _is_null(root, path):
            os.unlink(root.host_nofollow(path))
    target = unit_file(root, name)
    if target is None:
        raise FileNotFoundError("no unit file for " + name)
    install = install_section(root, name)
    written = []
    for key, suffix in (("WantedBy", ".wants"), ("RequiredBy", ".requires")):
        for wanted in install.get(key, []):
            folder = "/etc/systemd/system/%s%s" % (wanted, suffix)
            host = root.host(folder)
            os.makedirs(host, exist_ok=True)
            link = root.host_nofollow(folder + "/" + name)
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(target, link)
            written.append(folder + "/" + name)
    return written


def systemctl(root, *args):
    """Runs systemctl on the examined system: `--root` on a tree, the running manager on
    `/`. Returns (exit code, output); (None, why) when systemctl is not there."""
    import subprocess
    tool = "/usr/bin/systemctl" if os.path.exists("/usr/bin/systemctl") else "/bin/systemctl"
    if not os.path.exists(tool):
        return None, "systemctl is not installed"
    command = [tool] + (["--root=" + root.top] if root.top != "/" else []) + list(args)
    try:
        p = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60, universal_newlines=True)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    return p.returncode, p.stdout.strip()


def switch_on(root, name):
    """Unmasks and enables unit NAME with systemctl (started too on the running system);
    the library's own enable() when systemctl cannot work on this tree. Returns why not,
    or None."""
    for folder in MASK_PATH:
        path = folder + "/" + name
        if root.lexists(path) and _is_null(root, path):
            code, out = systemctl(root, "unmask", name)
            if code != 0 and root.lexists(path):
                os.unlink(root.host_nofollow(path))
    if state(root, name) == "enabled" and root.top != "/":
        return None
    args = ["enable", "--now", name] if root.top == "/" else ["enable", name]
    code, out = systemctl(root, *args)
    if code != 0 and root.top != "/":
        try:
            enable(root, name)
        except OSError as e:
            return str(e)
    elif code != 0:
        return out
    return None if state(root, name) == "enabled" else "systemctl did not enable " + name


def is_active(root, name):
    """On the running system: whether the unit is active; on a tree: whether it is enabled
    (a tree has no running units, so enabled is what it would run)."""
    if root.top == "/":
        code, _ = systemctl(root, "is-active", "--quiet", name)
        if code is not None:
            return code == 0
    return state(root, name) == "enabled"
