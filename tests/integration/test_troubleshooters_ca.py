# kefu: ca-store with certificates made here (python3-cryptography), the store laid out as
# update-ca-certificates(8) describes it; the repair is checked by loading the bundle and by
# `openssl verify` of a server certificate against it. SPDX-License-Identifier: MIT
import datetime
import os
import shutil
import subprocess

import pytest

from plugin_trees import base_tree, fix_only, healthy_only, link, write

PLUGIN = "ca-store"
x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

NOW = datetime.datetime.utcnow()


def cert(name, days=3650, expired=False, issuer=None):
    key = ec.generate_private_key(ec.SECP256R1())
    start = NOW - datetime.timedelta(days=800 if expired else 1)
    end = NOW - datetime.timedelta(days=30) if expired else NOW + datetime.timedelta(days=days)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signer_key, signer_name = (issuer[1], issuer[0].subject) if issuer else (key, subject)
    builder = x509.CertificateBuilder().subject_name(subject).issuer_name(signer_name) \
        .public_key(key.public_key()).serial_number(x509.random_serial_number()) \
        .not_valid_before(start).not_valid_after(end) \
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), True)
    c = builder.sign(signer_key, hashes.SHA256())
    return c, key


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM).decode()


class Store:
    def __init__(self, tmp_path):
        self.root = base_tree(tmp_path)
        self.tmp = tmp_path
        self.certs = {}
        for name, expired in (("Good_Root", False), ("Other_Root", False), ("Old_Root", True)):
            self.certs[name] = cert(name.replace("_", " "), expired=expired)
            write(self.root, "/usr/share/ca-certificates/mozilla/%s.crt" % name,
                  pem(self.certs[name][0]))
        self.conf = ["# ca-certificates.conf", "mozilla/Good_Root.crt", "mozilla/Other_Root.crt",
                     "!mozilla/Old_Root.crt"]
        self.local = {}

    def add_local(self, name, expired=False, folder=""):
        self.certs[name] = cert(name, expired=expired)
        self.local[name] = "/usr/local/share/ca-certificates/%s%s.crt" % (folder, name)
        write(self.root, self.local[name], pem(self.certs[name][0]))

    def build(self, skip=()):
        """The store as update-ca-certificates leaves it (without OpenSSL's hash links)."""
        write(self.root, "/etc/ca-certificates.conf", "\n".join(self.conf) + "\n")
        bundle = []
        chosen = [line for line in self.conf if line and line[0] not in "#!"]
        for rel in chosen:
            name = rel.split("/")[-1][:-4]
            bundle.append(pem(self.certs[name][0]))
            if name not in skip:
                link(self.root, "/etc/ssl/certs/%s.pem" % name, "/usr/share/ca-certificates/" + rel)
        for name, path in sorted(self.local.items()):
            if name not in skip:
                bundle.append(pem(self.certs[name][0]))
                link(self.root, "/etc/ssl/certs/%s.pem" % name, path)
        write(self.root, "/etc/ssl/certs/ca-certificates.crt", "".join(bundle))

    def bundle(self):
        return open(os.path.join(self.root, "etc/ssl/certs/ca-certificates.crt")).read()

    def trusts(self, name):
        """openssl verify of a server certificate issued by NAME, against the bundle."""
        server, _ = cert("www.example.org", days=30, issuer=self.certs[name])
        path = str(self.tmp / ("server-%s.pem" % name))
        open(path, "w").write(pem(server))
        p = subprocess.run(["openssl", "verify", "-CAfile",
                            os.path.join(self.root, "etc/ssl/certs/ca-certificates.crt"), path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return p.returncode == 0

    def holds(self, name):
        return pem(self.certs[name][0]) in self.bundle()


def need_tools():
    if os.geteuid() != 0 or shutil.which("update-ca-certificates") is None:
        pytest.skip("needs root and update-ca-certificates")


def missing(s):
    s.build()
    os.unlink(os.path.join(s.root, "etc/ssl/certs/ca-certificates.crt"))


def empty(s):
    s.build()
    write(s.root, "/etc/ssl/certs/ca-certificates.crt", "")


def damaged(s):
    s.build()
    write(s.root, "/etc/ssl/certs/ca-certificates.crt",
          "-----BEGIN CERTIFICATE-----\nMIIB!!!notbase64\n-----END CERTIFICATE-----\n")


def local_not_added(s):
    s.build()
    s.add_local("Company_CA")  # copied in, update-ca-certificates never run


def local_expired(s):
    s.add_local("Company_Old", expired=True)
    s.build()


def conf_expired(s):
    s.conf[-1] = "mozilla/Old_Root.crt"
    s.build()


def deselected_still_trusted(s):
    s.build()
    s.conf[2] = "!mozilla/Other_Root.crt"
    write(s.root, "/etc/ca-certificates.conf", "\n".join(s.conf) + "\n")


def expired_pem_dropped_in(s):
    s.build()
    old, _ = cert("Dropped In", expired=True)
    write(s.root, "/etc/ssl/certs/dropped-in.pem", pem(old))


FAULTS = {f.__name__: f for f in (missing, empty, damaged, local_not_added, local_expired,
                                    conf_expired, deselected_still_trusted,
                                    expired_pem_dropped_in)}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_broken_certificate_store_is_rebuilt(tmp_path, name):
    need_tools()
    s = Store(tmp_path)
    FAULTS[name](s)
    fix_only(tmp_path, s.root, PLUGIN)
    assert s.trusts("Good_Root")
    assert not s.holds("Old_Root")
    if name == "local_not_added":
        assert s.trusts("Company_CA")
    if name == "deselected_still_trusted":
        assert not s.holds("Other_Root")
    else:
        assert s.trusts("Other_Root")
    if name == "local_expired":
        assert not s.holds("Company_Old")
    for entry in os.listdir(os.path.join(s.root, "etc/ssl/certs")):
        path = os.path.join(s.root, "etc/ssl/certs", entry)
        if os.path.islink(path):
            assert not os.readlink(path).startswith(s.root)  # links name the system's paths


def healthy_local_in_folder(s):
    s.add_local("Company_CA", folder="company/")
    s.build()


def healthy_valid_pem_added(s):
    s.build()
    extra, _ = cert("Java Extra")
    write(s.root, "/etc/ssl/certs/java-extra.pem", pem(extra))


def healthy_comments_and_blank(s):
    s.conf.insert(1, "")
    s.conf.insert(1, "# local comment")
    s.build()


HEALTHY = {f.__name__: f for f in (Store.build, healthy_local_in_folder,
                                     healthy_valid_pem_added, healthy_comments_and_blank)}


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_store_in_order_is_left_alone(tmp_path, name):
    s = Store(tmp_path)
    HEALTHY[name](s)
    assert s.trusts("Good_Root")
    healthy_only(tmp_path, s.root, PLUGIN)
