# kefu: signed plugin packages, from kefu-plugin keygen to kefu-agentd scan, and every hostile
# archive refused before anything is written. SPDX-License-Identifier: MIT
import base64
import gzip
import hashlib
import io
import json
import os
import stat
import subprocess
import tarfile

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import program, run

CONTEXT = b"kefu package signature 1\n"
PUBLISHER = "Acme Printers"
PLUGIN = "printer-paused"


def plugin_tool(*args, **kwargs):
    return run([program("kefu-plugin")] + list(args), **kwargs)


def agent(env, *args):
    return run([program("kefu-agentd")] + list(args), env=env)


@pytest.fixture
def world(tmp_path):
    """A publisher key, a profile trusting it, a scaffolded plugin and the agent's folders."""
    w = {"dir": tmp_path}
    result = plugin_tool("keygen", "--out", str(tmp_path / "acme.key"), PUBLISHER)
    assert result.returncode == 0, result.stderr
    w["entry"] = json.loads(result.stdout)
    w["key"] = str(tmp_path / "acme.key")
    ca = str(tmp_path / "ca")
    assert run([program("kefu-console"), "ca", "init", "--dir", ca, "--org", "Acme"]).returncode == 0
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "h")],
                   check=True)
    host_key = " ".join(open(str(tmp_path / "h.pub")).read().split()[:2])
    profile = json.loads(run([program("kefu-console"), "ca", "profile", "--dir", ca, "--relay",
                              "relay.example.com", "--host-key", host_key]).stdout)
    profile["plugin_publishers"] = [w["entry"]]
    w["profile"] = str(tmp_path / "profile.json")
    json.dump(profile, open(w["profile"], "w"))
    result = plugin_tool("new", "--publisher", PUBLISHER, "--dir", str(tmp_path), PLUGIN)
    assert result.returncode == 0, result.stderr
    w["plugin"] = str(tmp_path / PLUGIN)
    w["env"] = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"),
                    XDG_STATE_HOME=str(tmp_path / "state"))
    w["installed"] = str(tmp_path / "data" / "kefu" / "plugins")
    return w


def signing_key(path):
    return serialization.load_pem_private_key(open(path, "rb").read(), password=None)


def plugin_files(plugin):
    """The files kefu-plugin pack would put in: path -> (bytes, executable)."""
    files = {}
    for name in ("plugin.json", "detect.sh", "repair.sh"):
        path = os.path.join(plugin, name)
        files[name] = (open(path, "rb").read(), bool(os.stat(path).st_mode & 0o100))
    return files


def manifest_of(files, publisher=PUBLISHER, kind="plugin"):
    entries = [{"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                "executable": executable}
               for path, (data, executable) in sorted(files.items())]
    return json.dumps({"format": 1, "kind": kind, "id": PLUGIN, "version": "0.1.0",
                       "publisher": publisher, "files": entries}, indent=2).encode()


def signature_of(key, manifest):
    public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
    return json.dumps({"format": 1, "algorithm": "ed25519",
                       "public_key": base64.b64encode(public).decode(),
                       "signature": base64.b64encode(key.sign(CONTEXT + manifest)).decode()
                       }).encode()


def member(name, data=b"", kind=tarfile.REGTYPE, link="", mode=0o644):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = mode
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        return info, data
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info, None


def archive(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def package(key, files, manifest=None, extra=(), skip=(), signature=True, replace=None):
    """A package built outside kefu: the list, its signature, the files, then extra members."""
    manifest = manifest if manifest is not None else manifest_of(files)
    members = [member("kefu-package.json", manifest)]
    if signature:
        members.append(member("kefu-package.sig", signature_of(key, manifest)))
    for path, (data, executable) in sorted(files.items()):
        if path in skip:
            continue
        if replace and path in replace:
            data = replace[path]
        members.append(member("files/" + path, data, mode=0o755 if executable else 0o644))
    members.extend(extra)
    return archive(members)


def hostile_cases(world):
    key = signing_key(world["key"])
    files = plugin_files(world["plugin"])
    good = package(key, files)
    big = dict(files, **{"big.bin": (b"\0" * (1024 * 1024 + 1), False)})
    tampered = manifest_of(files)
    signed_then_tampered = package(key, files, manifest=tampered)
    head, _, tail = signed_then_tampered.partition(b'"version": "0.1.0"')
    signed_then_tampered = head + b'"version": "0.1.1"' + tail
    many = [member("files/extra-%d" % i, b"x") for i in range(300)]
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb") as f:
        f.write(good)
    return [
        ("absolute path", package(key, files, extra=[member("/tmp/kefu-evil", b"x")]),
         "unsafe-path"),
        ("dot-dot path", package(key, files, extra=[member("files/../../kefu-evil", b"x")]),
         "unsafe-path"),
        ("symlink", package(key, files, extra=[member("files/link", kind=tarfile.SYMTYPE,
                                                      link="/etc/passwd")]), "link"),
        ("hard link", package(key, files, extra=[member("files/hard", kind=tarfile.LNKTYPE,
                                                        link="files/detect.sh")]), "link"),
        ("device node", package(key, files, extra=[member("files/null", kind=tarfile.CHRTYPE)]),
         "special-file"),
        ("fifo", package(key, files, extra=[member("files/pipe", kind=tarfile.FIFOTYPE)]),
         "special-file"),
        ("oversized member", package(key, big), "too-large"),
        ("too many members", package(key, files, extra=many), "too-large"),
        ("duplicate name", package(key, files, extra=[member("files/detect.sh",
                                                             files["detect.sh"][0])]),
         "duplicate"),
        ("file not in the manifest", package(key, files, extra=[member("files/extra.sh", b"x")]),
         "not-in-manifest"),
        ("missing file", package(key, files, skip=("repair.sh",)), "missing-file"),
        ("hash mismatch", package(key, files, replace={"detect.sh": files["detect.sh"][0]
                                                         .replace(b"exit 1", b"exit 0")}),
         "hash-mismatch"),
        ("manifest tampered after signing", signed_then_tampered, "bad-signature"),
        ("signature by an unknown key", package(Ed25519PrivateKey.generate(), files),
         "unknown-publisher"),
        ("no signature", package(key, files, signature=False), "unsigned"),
        ("truncated archive", good[:len(good) // 2], "damaged"),
        ("not an archive", b"#!/bin/sh\nrm -rf /\n" * 40, "not-an-archive"),
        ("compressed archive", gz.getvalue(), "not-an-archive"),
        ("another kind of package", package(key, files, manifest=manifest_of(
            files, kind="firmware")), "bad-manifest"),
    ]


def test_hostile_packages_are_refused_with_their_reason_and_nothing_is_written(world, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    sentinel = "/tmp/kefu-evil"
    for name, data, reason in hostile_cases(world):
        path = str(tmp_path / "hostile.kefupkg")
        open(path, "wb").write(data)
        verify = plugin_tool("verify", "--profile", world["profile"], path)
        assert verify.returncode == 1, name
        # verify checks a package as its own kind: a firmware package needs a firmware
        # publisher, and this profile trusts the key for plugins only.
        said = "unknown-publisher" if name == "another kind of package" else reason
        assert "refused: " + said + ":" in verify.stderr, (name, verify.stderr)
        assert len(verify.stderr.strip().splitlines()) == 1, name
        install = agent(world["env"], "plugins", "install", "--profile", world["profile"],
                        "--dir", str(target), path)
        assert install.returncode == 1, name
        assert "refused: " + reason + ":" in install.stderr, (name, install.stderr)
        assert os.listdir(str(target)) == [], name
        assert not os.path.exists(sentinel), name
    # Each refusal is in the customer's audit log.
    audit = [json.loads(line) for line in
             open(str(tmp_path / "state" / "kefu" / "audit.jsonl"))]
    refused = [e for e in audit if e["event"] == "plugin-refused"]
    assert len(refused) == len(hostile_cases(world))
    assert {e["reason"] for e in refused} >= {"link", "unsigned", "unknown-publisher"}


def test_package_built_outside_kefu_with_the_same_rules_is_accepted(world, tmp_path):
    """The hostile cases differ from this one by one thing each, so each refusal is real."""
    path = str(tmp_path / "good.kefupkg")
    open(path, "wb").write(package(signing_key(world["key"]), plugin_files(world["plugin"])))
    result = plugin_tool("verify", "--profile", world["profile"], path)
    assert result.returncode == 0, result.stderr
    assert 'verified: plugin printer-paused 0.1.0 from "Acme Printers"' in result.stdout


def test_keygen_writes_a_private_key_once(world):
    assert stat.S_IMODE(os.stat(world["key"]).st_mode) == 0o600
    assert "BEGIN PRIVATE KEY" in open(world["key"]).read()
    assert json.load(open(world["key"][:-4] + ".pub")) == world["entry"]
    before = open(world["key"]).read()
    again = plugin_tool("keygen", "--out", world["key"], PUBLISHER)
    assert again.returncode == 1 and "never overwritten" in again.stderr
    assert open(world["key"]).read() == before


def test_scaffold_passes_lint_and_its_own_test(world):
    assert plugin_tool("lint", world["plugin"]).returncode == 0
    result = run([os.path.join(world["plugin"], "tests", "run.sh")],
                 env=dict(os.environ, KEFU_PLUGIN=program("kefu-plugin")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all tests passed" in result.stdout
    assert plugin_tool("new", "--dir", str(world["dir"]), PLUGIN).returncode == 1
    assert plugin_tool("new", "Bad_Id").returncode == 1


def test_keygen_pack_verify_install_then_scan_finds_and_fixes(world, tmp_path):
    pkg = str(tmp_path / "printer-paused.kefupkg")
    result = plugin_tool("pack", world["plugin"], "-o", pkg, "--key", world["key"])
    assert result.returncode == 0, result.stderr
    with tarfile.open(pkg) as tar:
        names = tar.getnames()
    assert names == ["kefu-package.json", "kefu-package.sig", "files/detect.sh",
                     "files/plugin.json", "files/repair.sh"]  # tests/ is not packed
    # Packing is deterministic.
    again = str(tmp_path / "again.kefupkg")
    plugin_tool("pack", world["plugin"], "-o", again, "--key", world["key"])
    assert open(pkg, "rb").read() == open(again, "rb").read()

    result = plugin_tool("verify", "--publisher-key", world["entry"]["public_key"], pkg)
    assert result.returncode == 0, result.stderr
    assert "detect.sh" in result.stdout and "repair.sh" in result.stdout

    result = agent(world["env"], "plugins", "install", "--profile", world["profile"], pkg)
    assert result.returncode == 0, result.stderr
    installed = os.path.join(world["installed"], PLUGIN)
    assert "installed plugin printer-paused 0.1.0" in result.stdout
    assert os.access(os.path.join(installed, "detect.sh"), os.X_OK)
    listing = json.loads(agent(world["env"], "plugins", "list", "--profile", world["profile"],
                               "--json").stdout)
    assert listing[0]["plugin"] == PLUGIN and listing[0]["intact"] is True
    assert listing[0]["trusted"] is True
    assert listing[0]["publisher"] == PUBLISHER

    root = str(tmp_path / "root")
    os.makedirs(os.path.join(root, "etc"))
    conf = os.path.join(root, "etc", PLUGIN + ".conf")
    open(conf, "w").write("enabled=no\n")
    scan = agent(world["env"], "scan", "--root", root, "--profile", world["profile"], "--json")
    found = json.loads(scan.stdout)
    assert [c["state"] for c in found["checks"] if c["plugin"] == PLUGIN] == ["problem"]
    scan = agent(world["env"], "scan", "--root", root, "--profile", world["profile"], "--fix",
                 "--yes", "--json")
    assert [c["state"] for c in json.loads(scan.stdout)["checks"]
            if c["plugin"] == PLUGIN] == ["fixed"]
    assert "enabled=yes" in open(conf).read()

    # A file changed after installation: the plugin no longer runs and list says why.
    open(conf, "w").write("enabled=no\n")
    with open(os.path.join(installed, "detect.sh"), "a") as f:
        f.write("exit 0\n")
    listing = json.loads(agent(world["env"], "plugins", "list", "--json").stdout)
    assert listing[0]["intact"] is False and "detect.sh" in listing[0]["problem"]
    scan = json.loads(agent(world["env"], "scan", "--root", root, "--profile", world["profile"],
                            "--json").stdout)
    assert [c for c in scan["checks"] if c["plugin"] == PLUGIN] == []
    assert "detect.sh was changed" in scan["skipped"][0]["note"]

    # Installing again restores it.
    assert agent(world["env"], "plugins", "install", "--profile", world["profile"],
                 pkg).returncode == 0
    scan = json.loads(agent(world["env"], "scan", "--root", root, "--profile", world["profile"],
                            "--json").stdout)
    assert [c["state"] for c in scan["checks"] if c["plugin"] == PLUGIN] == ["problem"]
    events = [json.loads(line)["event"] for line in
              open(str(tmp_path / "state" / "kefu" / "audit.jsonl"))]
    assert events.count("plugin-installed") == 2


def test_unsigned_pack_is_refused_until_signed(world, tmp_path):
    pkg = str(tmp_path / "unsigned.kefupkg")
    result = plugin_tool("pack", world["plugin"], "-o", pkg)
    assert result.returncode == 0 and "NOT signed" in result.stdout
    result = plugin_tool("verify", "--profile", world["profile"], pkg)
    assert result.returncode == 1 and "refused: unsigned:" in result.stderr
    result = plugin_tool("sign", pkg, "--key", world["key"])
    assert result.returncode == 0, result.stderr
    assert plugin_tool("verify", "--profile", world["profile"], pkg).returncode == 0


def test_sign_refuses_a_package_whose_files_do_not_match(world, tmp_path):
    files = plugin_files(world["plugin"])
    path = str(tmp_path / "bad.kefupkg")
    open(path, "wb").write(package(None, files, signature=False,
                                   replace={"detect.sh": b"#!/bin/sh\nexit 0\n"}))
    result = plugin_tool("sign", path, "--key", world["key"])
    assert result.returncode == 1 and "hash-mismatch" in result.stderr


def test_publisher_named_in_plugin_must_own_the_signing_key(world, tmp_path):
    manifest_path = os.path.join(world["plugin"], "plugin.json")
    manifest = json.load(open(manifest_path))
    manifest["publisher"] = "Someone Else"
    json.dump(manifest, open(manifest_path, "w"))
    pkg = str(tmp_path / "other.kefupkg")
    assert plugin_tool("pack", world["plugin"], "-o", pkg, "--key",
                       world["key"]).returncode == 0
    result = agent(world["env"], "plugins", "install", "--profile", world["profile"], pkg)
    assert result.returncode == 1
    assert "unknown-publisher" in result.stderr and "Someone Else" in result.stderr
    assert not os.path.exists(world["installed"])


def test_pack_refuses_links_and_plugins_without_publisher(world, tmp_path):
    os.symlink("/etc/passwd", os.path.join(world["plugin"], "passwd"))
    result = plugin_tool("pack", world["plugin"], "-o", str(tmp_path / "x.kefupkg"))
    assert result.returncode == 1 and "links and special files" in result.stderr
    assert not os.path.exists(str(tmp_path / "x.kefupkg"))
    os.unlink(os.path.join(world["plugin"], "passwd"))
    manifest_path = os.path.join(world["plugin"], "plugin.json")
    manifest = json.load(open(manifest_path))
    del manifest["publisher"]
    json.dump(manifest, open(manifest_path, "w"))
    result = plugin_tool("pack", world["plugin"], "-o", str(tmp_path / "x.kefupkg"))
    assert result.returncode == 1 and "publisher" in result.stderr


def pack(world, tmp_path, name, version=None, publisher=None, key=None):
    """Packs the scaffolded plugin, optionally as another version or publisher."""
    manifest_path = os.path.join(world["plugin"], "plugin.json")
    manifest = json.load(open(manifest_path))
    if version is not None:
        manifest["version"] = version
    if publisher is not None:
        manifest["publisher"] = publisher
    json.dump(manifest, open(manifest_path, "w"))
    path = str(tmp_path / name)
    result = plugin_tool("pack", world["plugin"], "-o", path, "--key", key or world["key"])
    assert result.returncode == 0, result.stderr
    return path


def broken_fixture(tmp_path):
    root = str(tmp_path / "root")
    os.makedirs(os.path.join(root, "etc"))
    open(os.path.join(root, "etc", PLUGIN + ".conf"), "w").write("enabled=no\n")
    return root


def scan_json(world, root, profile):
    result = agent(world["env"], "scan", "--root", root, "--profile", profile, "--json")
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_plugins_of_a_publisher_taken_out_of_the_profile_are_not_run(world, tmp_path):
    pkg = pack(world, tmp_path, "p.kefupkg")
    assert agent(world["env"], "plugins", "install", "--profile", world["profile"],
                 pkg).returncode == 0
    root = broken_fixture(tmp_path)
    out = scan_json(world, root, world["profile"])
    assert [c["state"] for c in out["checks"] if c["plugin"] == PLUGIN] == ["problem"]
    assert out["skipped"] == []

    # The support organisation stops trusting the publisher: same files, same signature.
    profile = json.load(open(world["profile"]))
    profile["plugin_publishers"] = []
    without = str(tmp_path / "without.json")
    json.dump(profile, open(without, "w"))
    out = scan_json(world, root, without)
    assert [c for c in out["checks"] if c["plugin"] == PLUGIN] == []
    note = out["skipped"][0]["note"]
    assert note == ('printer-paused is not run: its publisher "Acme Printers" is no longer '
                    'trusted by the support profile')
    text = agent(world["env"], "scan", "--root", root, "--profile", without)
    assert "Note: " + note in text.stdout
    listing = json.loads(agent(world["env"], "plugins", "list", "--profile", without,
                               "--json").stdout)
    assert listing[0]["intact"] is True and listing[0]["trusted"] is False
    assert "no longer trusted" in listing[0]["problem"]

    # The same name with another key is another publisher.
    profile["plugin_publishers"] = [{"name": PUBLISHER, "public_key": base64.b64encode(
        bytes(range(32))).decode()}]
    json.dump(profile, open(without, "w"))
    assert [c for c in scan_json(world, root, without)["checks"] if c["plugin"] == PLUGIN] == []

    # The default profile (KEFU_PROFILE) is read too; without one, nothing installed runs.
    env = dict(world["env"], KEFU_PROFILE=world["profile"])
    out = json.loads(agent(env, "scan", "--root", root, "--json").stdout)
    assert [c["state"] for c in out["checks"] if c["plugin"] == PLUGIN] == ["problem"]
    env = dict(world["env"], KEFU_PROFILE=str(tmp_path / "missing.json"))
    out = json.loads(agent(env, "scan", "--root", root, "--json").stdout)
    assert [c for c in out["checks"] if c["plugin"] == PLUGIN] == []
    assert "run only with a support profile" in out["skipped"][0]["note"]


def test_tampered_kept_list_or_signature_stops_the_plugin(world, tmp_path):
    pkg = pack(world, tmp_path, "p.kefupkg")
    assert agent(world["env"], "plugins", "install", "--profile", world["profile"],
                 pkg).returncode == 0
    installed = os.path.join(world["installed"], PLUGIN)
    root = broken_fixture(tmp_path)
    # detect.sh changed and the kept list edited to match it: the signature no longer does
    detect = os.path.join(installed, "detect.sh")
    data = open(detect, "rb").read() + b"exit 0\n"
    open(detect, "wb").write(data)
    listed = json.load(open(os.path.join(installed, ".kefu-package.json")))
    for f in listed["files"]:
        if f["path"] == "detect.sh":
            f["size"], f["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    json.dump(listed, open(os.path.join(installed, ".kefu-package.json"), "w"))
    out = scan_json(world, root, world["profile"])
    assert [c for c in out["checks"] if c["plugin"] == PLUGIN] == []
    assert "bad-signature" in out["skipped"][0]["note"]
    # the signature file removed
    assert agent(world["env"], "plugins", "install", "--profile", world["profile"],
                 pkg).returncode == 0
    os.unlink(os.path.join(installed, ".kefu-package.sig"))
    out = scan_json(world, root, world["profile"])
    assert [c for c in out["checks"] if c["plugin"] == PLUGIN] == []
    assert "unsigned" in out["skipped"][0]["note"]


def test_older_version_is_refused_unless_downgrade(world, tmp_path):
    newer = pack(world, tmp_path, "newer.kefupkg", version="0.10.0")
    older = pack(world, tmp_path, "older.kefupkg", version="0.9.1")
    install = ["plugins", "install", "--profile", world["profile"]]
    assert agent(world["env"], *install, newer).returncode == 0
    result = agent(world["env"], *install, older)
    assert result.returncode == 1
    assert ("refused: older-version: printer-paused 0.10.0 is installed; this package is the "
            "older 0.9.1 (--downgrade installs it)") in result.stderr
    listing = json.loads(agent(world["env"], "plugins", "list", "--profile", world["profile"],
                               "--json").stdout)
    assert listing[0]["version"] == "0.10.0"
    # the same version again, or a newer one, needs nothing
    assert agent(world["env"], *install, newer).returncode == 0
    result = agent(world["env"], *install, "--downgrade", older)
    assert result.returncode == 0, result.stderr
    listing = json.loads(agent(world["env"], "plugins", "list", "--profile", world["profile"],
                               "--json").stdout)
    assert listing[0]["version"] == "0.9.1" and listing[0]["trusted"] is True
    audit = [json.loads(line) for line in open(str(tmp_path / "state" / "kefu" / "audit.jsonl"))]
    assert [e["reason"] for e in audit if e["event"] == "plugin-refused"] == ["older-version"]


def test_same_id_from_another_publisher_is_refused_unless_replace(world, tmp_path):
    result = plugin_tool("keygen", "--out", str(tmp_path / "other.key"), "Other Printers")
    assert result.returncode == 0, result.stderr
    profile = json.load(open(world["profile"]))
    profile["plugin_publishers"].append(json.loads(result.stdout))
    json.dump(profile, open(world["profile"], "w"))
    ours = pack(world, tmp_path, "ours.kefupkg")
    theirs = pack(world, tmp_path, "theirs.kefupkg", version="9.0.0", publisher="Other Printers",
                  key=str(tmp_path / "other.key"))
    install = ["plugins", "install", "--profile", world["profile"]]
    assert agent(world["env"], *install, ours).returncode == 0
    result = agent(world["env"], *install, theirs)
    assert result.returncode == 1
    assert ('refused: other-publisher: printer-paused is installed from "Acme Printers"; this '
            'package is from "Other Printers" (--replace installs it instead)') in result.stderr
    listing = json.loads(agent(world["env"], "plugins", "list", "--profile", world["profile"],
                               "--json").stdout)
    assert listing[0]["publisher"] == PUBLISHER
    assert agent(world["env"], *install, "--replace", theirs).returncode == 0
    listing = json.loads(agent(world["env"], "plugins", "list", "--profile", world["profile"],
                               "--json").stdout)
    assert listing[0]["publisher"] == "Other Printers" and listing[0]["trusted"] is True
