# kefu: every shipped troubleshooter lints, packs and signs as a product team's plugin would,
# verifies against its publisher's key, and installs and runs from its package.
# SPDX-License-Identifier: MIT
import json
import os
import subprocess

import pytest

from conftest import program, run
from plugin_trees import PLUGINS, base_tree, report

SHIPPED = sorted(p for p in os.listdir(PLUGINS)
                 if os.path.exists(os.path.join(PLUGINS, p, "plugin.json")))


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    folder = tmp_path_factory.mktemp("key")
    result = run([program("kefu-plugin"), "keygen", "kefu"], cwd=str(folder))
    assert result.returncode == 0, result.stderr
    entry = json.loads(open(folder / "kefu.pub").read())
    return str(folder / "kefu.key"), entry


def test_at_least_nineteen_troubleshooters_ship():
    assert len(SHIPPED) >= 19, SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_troubleshooter_lints_packs_signs_and_verifies(tmp_path, key, name):
    path, entry = key
    folder = os.path.join(PLUGINS, name)
    assert run([program("kefu-plugin"), "lint", folder]).returncode == 0
    out = str(tmp_path / (name + ".kefupkg"))
    result = run([program("kefu-plugin"), "pack", folder, "-o", out, "--key", path])
    assert result.returncode == 0, result.stderr
    result = run([program("kefu-plugin"), "verify", "--publisher-key", entry["public_key"], out])
    assert result.returncode == 0, result.stderr
    assert "kefu_plugin_lib/__init__.py" in result.stdout  # the library travels signed


def test_packages_install_and_run_from_the_installed_folder(tmp_path, key):
    path, entry = key
    # A support profile as the console's CA makes it, trusting the key as publisher "kefu".
    ca = str(tmp_path / "ca")
    assert run([program("kefu-console"), "ca", "init", "--dir", ca, "--org", "kefu"]).returncode == 0
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "h")],
                   check=True)
    host_key = " ".join(open(str(tmp_path / "h.pub")).read().split()[:2])
    made = json.loads(run([program("kefu-console"), "ca", "profile", "--dir", ca, "--relay",
                           "relay.example.com", "--host-key", host_key]).stdout)
    made["plugin_publishers"] = [entry]
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(made))
    installed = tmp_path / "installed"
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    for name in ("hosts-loopback", "resolver-config", "tmp-folder"):
        out = str(tmp_path / (name + ".kefupkg"))
        assert run([program("kefu-plugin"), "pack", os.path.join(PLUGINS, name), "-o", out,
                    "--key", path]).returncode == 0
        result = run([program("kefu-agentd"), "plugins", "install", "--profile", str(profile),
                      "--dir", str(installed), out], env=env)
        assert result.returncode == 0, result.stderr
    root = base_tree(tmp_path)
    os.makedirs(str(tmp_path / "none-shipped"))  # only the installed packages
    result = run([program("kefu-agentd"), "scan", "--json", "--root", root, "--report",
                  report(tmp_path), "--packages", str(installed), "--profile", str(profile),
                  "--plugins", str(tmp_path / "none-shipped")], env=env)
    out = json.loads(result.stdout)
    assert {c["plugin"] for c in out["checks"]} == {"hosts-loopback", "resolver-config",
                                                   "tmp-folder"}, out
    assert {c["state"] for c in out["checks"]} == {"healthy"}
