"""scripts/vm-gdb, the documented entry point: stopped at a scenario's
checkpoint, attached to a running server, and its errors.

    python3 test_vmgdb.py BUILD_DIR
"""
import os
import signal
import subprocess
import tempfile
import time

import gdbtest

BUILD = gdbtest.build_dir()
VMGDB = os.path.join(gdbtest.SRC, "scripts", "vm-gdb")
SCN = os.path.join(gdbtest.HERE, "state.scn")


def vmgdb(*args, rc=0):
    p = subprocess.run([VMGDB, "--build", BUILD, "--batch"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300, env=gdbtest.env())
    if p.returncode != rc:
        gdbtest.fail("vm-gdb %s: exit %d, want %d\n%s" % (" ".join(args), p.returncode, rc, p.stdout))
    return p.stdout


def main():
    out = vmgdb("-ex", "vm procs", SCN, "state")
    rows = [l.split()[1] for l in out.splitlines() if l.strip().startswith("10")]
    gdbtest.expect_equal("vm-gdb FILE NAME: vm procs at the checkpoint", rows, ["A", "B", "C", "D"])
    out = vmgdb("-ex", "vm regions B", SCN)
    gdbtest.expect_equal("vm-gdb FILE: stops at the first checkpoint",
                         "total kB       24       12       12        0" in out, True)

    err = vmgdb(SCN, "nosuch", rc=1)
    gdbtest.expect_equal("a checkpoint the file lacks", err.strip(),
                         "vm-gdb: %s has no `checkpoint nosuch`" % SCN)
    err = vmgdb(os.path.join(gdbtest.HERE, "gdbtest.py"), rc=1)
    gdbtest.expect_equal("a file without checkpoints", "has no checkpoint" in err, True)
    err = vmgdb("--pid", "999999999", rc=1)
    gdbtest.expect_equal("no such pid", err.strip(), "vm-gdb: no process 999999999")

    with tempfile.TemporaryDirectory(prefix="vmgdb-") as tmp:
        sock = os.path.join(tmp, "s")
        errf = open(os.path.join(tmp, "err"), "w+")
        srv = subprocess.Popen([os.path.join(BUILD, "vm"), "serve", "--socket", sock,
                                "--workload", SCN, "--seconds", "300"],
                               stdout=subprocess.DEVNULL, stderr=errf, env=gdbtest.env())
        try:
            for _ in range(600):
                errf.seek(0)
                if "serving the debug call" in errf.read():
                    break
                time.sleep(0.05)
            out = vmgdb("--pid", str(srv.pid), "-ex", "vm stats")
            gdbtest.expect_equal("vm-gdb --pid: vm stats of the server",
                                 "            4 processes" in out.splitlines(), True)
            gdbtest.expect_equal("the server survives GDB", srv.poll(), None)
        finally:
            srv.send_signal(signal.SIGTERM)
            srv.wait(timeout=30)


main()
