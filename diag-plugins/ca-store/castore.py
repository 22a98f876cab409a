#!/usr/bin/python3
# kefu plugin ca-store: the system's trusted certificates as update-ca-certificates builds
# them; `repair` sets expired ones aside and rebuilds with update-ca-certificates.
# SPDX-License-Identifier: MIT
"""update-ca-certificates(8): /etc/ca-certificates.conf lists certificates under
/usr/share/ca-certificates, one a line ('#' comments, a leading '!' deselects one); every
*.crt under /usr/local/share/ca-certificates (at any depth) is added too; the result is
/etc/ssl/certs/ca-certificates.crt (the bundle OpenSSL, GnuTLS and most programs read), a
NAME.pem link per certificate and OpenSSL's hash links. The bundle is right when it holds
exactly the selected certificates; a certificate past its notAfter date (RFC 5280 4.1.2.5)
no longer proves anything and, in a bundle, can make a chain end in it."""
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # the plugin folder is read-only, and must stay as signed
from kefu_plugin_lib import NOT_APPLICABLE, OK, PROBLEM, finding, result, root_dir  # noqa: E402
from kefu_plugin_lib import x509  # noqa: E402
from kefu_plugin_lib.rootfs import Root  # noqa: E402

CONF = "/etc/ca-certificates.conf"
CERTS = "/usr/share/ca-certificates"
LOCAL = "/usr/local/share/ca-certificates"
ETC = "/etc/ssl/certs"
BUNDLE = ETC + "/ca-certificates.crt"
TOOL = "/usr/sbin/update-ca-certificates"


def selected(root):
    """[(system path, where it was chosen)] of the certificates the configuration selects."""
    out = []
    for line in (root.read_text(CONF) or "").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")):
            if root.is_file(CERTS + "/" + line):
                out.append((CERTS + "/" + line, "conf"))
    if root.is_dir(LOCAL):
        out += sorted((p, "local") for p, _ in root.walk_files(LOCAL) if p.endswith(".crt"))
    return out


def read_certs(root, path):
    try:
        return x509.certificates(root.read_text(path) or "")
    except x509.BadCertificate:
        return []


def expired(der, now):
    try:
        return x509.validity(der)[1] < now
    except x509.BadCertificate:
        return False


def diagnose(root):
    now = time.time()
    text = root.read_text(BUNDLE)
    if text is None:
        return ["%s is missing" % BUNDLE], []
    try:
        bundle = x509.certificates(text)
    except x509.BadCertificate as e:
        return ["%s is damaged (%s)" % (BUNDLE, e)], []
    if not bundle:
        return ["%s holds no certificate" % BUNDLE], []
    problems, old = [], []
    have = {h for h, _ in bundle}
    wanted = {}
    for path, where in selected(root):
        for h, der in read_certs(root, path):
            wanted[h] = path
            if expired(der, now):
                old.append((path, where))
    missing = [p for h, p in wanted.items() if h not in have]
    if missing:
        problems.append("the bundle lacks %d certificates the configuration trusts (%s)" % (
            len(missing), ", ".join(sorted(missing)[:3])))
    extra = [h for h in have if h not in wanted]
    if extra and wanted:
        problems.append("the bundle still holds %d certificates no longer trusted" % len(extra))
    for name in root.listdir(ETC):
        path = ETC + "/" + name
        if name.endswith(".pem") and not root.is_link(path) and root.is_file(path):
            if any(expired(der, now) for _, der in read_certs(root, path)):
                old.append((path, "etc"))
    if old:
        problems.append("expired: %s" % ", ".join(p for p, _ in old))
    return problems, old


def set_aside(root, old):
    conf_lines = None
    for path, where in old:
        if where == "conf":
            if conf_lines is None:
                conf_lines = (root.read_text(CONF) or "").splitlines()
            rel = path[len(CERTS) + 1:]
            conf_lines = ["!" + rel if line.strip() == rel else line for line in conf_lines]
        else:  # update-ca-certificates and openssl rehash only take *.crt / *.pem
            os.rename(root.host_nofollow(path), root.host_nofollow(path) + ".expired")
    if conf_lines is not None:
        with open(root.host(CONF), "w") as f:  # in place: the file is bound on its own
            f.write("\n".join(conf_lines) + "\n")


def relink(root, to_host):
    """update-ca-certificates runs with the tree's folders: absolute links in /etc/ssl/certs
    are made to name them (to_host) and back to the examined system's own paths after."""
    if root.top == "/":
        return
    folder = root.host(ETC)
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if not os.path.islink(path):
            continue
        target = os.readlink(path)
        if to_host and target.startswith("/") and not target.startswith(root.top + "/"):
            new = root.top + target
        elif not to_host and target.startswith(root.top + "/"):
            new = target[len(root.top):]
        else:
            continue
        os.unlink(path)
        os.symlink(new, path)


def rebuild(root):
    if not os.path.exists(TOOL):
        return "update-ca-certificates is not installed"
    os.makedirs(root.host(ETC), exist_ok=True)
    relink(root, True)
    try:
        p = subprocess.run([TOOL, "--fresh", "--certsconf", root.host(CONF), "--certsdir",
                            root.host(CERTS), "--localcertsdir", root.host(LOCAL),
                            "--etccertsdir", root.host(ETC), "--hooksdir",
                            root.host("/etc/ca-certificates/update.d")],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, timeout=100)
    finally:
        relink(root, False)
    return None if p.returncode == 0 else (p.stdout.strip().splitlines() or ["failed"])[-1]


def main():
    root = Root(root_dir())
    mode = sys.argv[1] if len(sys.argv) > 1 else "detect"
    if not root.is_file(CONF):
        result("not-applicable", "ca-certificates is not installed")
        return NOT_APPLICABLE
    problems, old = diagnose(root)
    if mode != "repair":
        if not problems:
            result("ok", "the trusted certificates are in order")
            return OK
        finding("error", "Secure connections may fail: the system's trusted certificates "
                "are broken", "; ".join(problems))
        result("problem")
        return PROBLEM
    if not problems:
        result("fixed", "nothing to change")
        return OK
    try:
        set_aside(root, old)
        failure = rebuild(root)
    except OSError as e:
        failure = str(e)
    left, _ = diagnose(root)
    if failure or left:
        result("failed", failure or "; ".join(left))
        return PROBLEM
    result("fixed", "the trusted certificates were rebuilt")
    return OK


if __name__ == "__main__":
    sys.exit(main())
