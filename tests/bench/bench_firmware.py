# kefu: firmware verification of a 100 MB cabinet next to sha256sum + openssl cms -verify,
# and write throughput to the emulated device. SPDX-License-Identifier: MIT
#
# kefu's figure is `kefu-agentd firmware check` on a signed cabinet: reading the cabinet,
# the signed metainfo, the payload's Jcat checksum and PKCS#7 signature and the metainfo's
# checksum. The peer does only the payload's part with the stock tools on the payload
# already extracted: `sha256sum` and `openssl cms -verify`. The write figure is `firmware
# apply` (write, read back, restart) into the emulated device, next to `cp` of the same
# payload into a file with fsync.
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

SIZE = 100 * 1000 * 1000
RUNS = 3


def timed(args, env=None, check=True):
    start = time.perf_counter()
    result = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            timeout=600)
    elapsed = time.perf_counter() - start
    if check and result.returncode != 0:
        raise RuntimeError("%s failed: %s" % (args[0], result.stderr.decode()[-300:]))
    return elapsed


def median(fn):
    return statistics.median(fn() for _ in range(RUNS))


def main(build_dir):
    os.environ["KEFU_BUILD"] = build_dir
    import firmware_fixtures as ff
    ff.FW_EMU = os.path.join(build_dir, "tools", "fw-emu")
    kefu = os.path.join(build_dir, "kefu-agentd")
    work = tempfile.mkdtemp(prefix="kfwb")
    emu = None
    try:
        ca = ff.FirmwareCA(os.path.join(work, "ca"))
        cab = ff.signed_cab(ca, os.path.join(work, "cab"), "0x1020005", "1.2.5", size=SIZE)
        payload = os.path.join(work, "cab", "emu.bin")
        sig = os.path.join(work, "payload.p7")
        with open(sig, "w") as f:
            f.write(ca.sign(payload))
        profile = ff.write_profile(os.path.join(work, "profile.json"), [ca.ca])
        root = ff.make_root(os.path.join(work, "root"))
        devices = os.path.join(work, "d")
        os.makedirs(devices)
        device = os.path.join(work, "device")
        env = dict(os.environ, XDG_STATE_HOME=os.path.join(work, "state"), HOME=work)

        def start_device():
            sock = os.path.join(devices, "emu0.sock")
            if os.path.exists(sock):
                os.unlink(sock)
            subprocess.run([ff.FW_EMU, "init", device, "--version", "0x1020002", "--capacity",
                            str(128 * 1024 * 1024)], check=True)
            proc = subprocess.Popen([ff.FW_EMU, "serve", device, "--socket", sock],
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            for _ in range(500):
                if os.path.exists(sock):
                    break
                time.sleep(0.01)
            return proc

        emu = start_device()
        common = ["--profile", profile, "--devices", devices, "--root", root]
        kefu_check = median(lambda: timed([kefu, "firmware", "check", cab] + common, env))
        peer_sha = median(lambda: timed(["sha256sum", payload]))
        peer_cms = median(lambda: timed(["openssl", "cms", "-verify", "-binary", "-inform", "PEM",
                                         "-in", sig, "-content", payload, "-CAfile", ca.ca,
                                         "-purpose", "any", "-out", "/dev/null"]))
        writes = []
        for _ in range(RUNS):
            emu.terminate()
            emu.wait(timeout=10)
            emu = start_device()
            writes.append(timed([kefu, "firmware", "apply", cab, "--yes"] + common, env))
        write = statistics.median(writes)
        copy_target = os.path.join(work, "copy.bin")
        peer_copy = median(lambda: timed(["dd", "if=" + payload, "of=" + copy_target, "bs=1M",
                                          "conv=fsync", "status=none"]))
        mb = SIZE / 1e6
        peer = peer_sha + peer_cms
        print("%-52s %10s %10s" % ("100 MB payload", "median s", "MB/s"))
        print("%-52s %10.2f %10.0f" % ("kefu-agentd firmware check (cabinet, 3 hashes, CMS)",
                                       kefu_check, mb / kefu_check))
        print("%-52s %10.2f %10.0f" % ("sha256sum + openssl cms -verify (payload only)",
                                       peer, mb / peer))
        print("  ratio kefu / peer: %.2f" % (kefu_check / peer))
        print("%-52s %10.2f %10.0f" % ("kefu-agentd firmware apply (emulated device, with "
                                       "verify + restart)", write, mb / write))
        print("%-52s %10.2f %10.0f" % ("dd of the payload into a file, fsync", peer_copy,
                                       mb / peer_copy))
    finally:
        if emu is not None and emu.poll() is None:
            emu.terminate()
            emu.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/default")
