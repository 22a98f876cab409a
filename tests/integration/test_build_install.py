# kefu: `make install` puts the programs, the shipped plugins and the relay files under PREFIX,
# and the installed helper finds its shipped plugins there. SPDX-License-Identifier: MIT
import json
import os
import subprocess

from conftest import SOURCE_DIR


def test_installed_helper_runs_the_plugins_shipped_under_its_prefix(tmp_path):
    prefix = tmp_path / "prefix"
    # A build tree of its own: PREFIX is compiled in, the tests' build keeps its own.
    result = subprocess.run(["make", "-C", SOURCE_DIR, "--no-print-directory", "-j2", "install",
                             "B=%s" % (tmp_path / "build"), "PREFIX=%s" % prefix],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("kefu-agentd", "kefu-console", "kefu-plugin"):
        assert os.access(str(prefix / "bin" / name), os.X_OK)
    shipped = sorted(os.listdir(str(prefix / "share" / "kefu" / "plugins")))
    assert "name-resolution-config" in shipped and len(shipped) >= 7
    assert (prefix / "share" / "kefu" / "relay" / "kefu-relay-setup").exists()
    # No --plugins: the helper looks in PREFIX/share/kefu/plugins by itself.
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "nsswitch.conf").write_text("hosts: files myhostname\n")
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"system": {}, "devices": [], "problems": []}))
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    scan = subprocess.run([str(prefix / "bin" / "kefu-agentd"), "scan", "--root", str(root),
                           "--report", str(report), "--json"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, env=env)
    checks = json.loads(scan.stdout)["checks"]
    assert [c["state"] for c in checks if c["plugin"] == "name-resolution-config"] == ["problem"]
