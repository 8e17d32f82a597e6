#!/usr/bin/env python3
"""The i386 kernel and scripts/qemu themselves: exit statuses as `vm run`
has them (0, 1, 2) and 3 for a machine that failed, output the same as
`vm run FILE...` for several files in one boot, the exception path (the
registers on the console), and a boot without scenario files.

    test_kernel.py --vm VM --build DIR
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCENARIOS = os.path.join(ROOT, "tests", "scenarios")
sys.path.insert(0, HERE)
from run_corpus import qemu  # noqa: E402 (scripts/qemu, loaded as a module)

failures = []


def check(what, cond, detail=""):
    print("%s  %s%s" % ("ok  " if cond else "FAIL", what, "" if cond else ": " + detail))
    if not cond:
        failures.append(what)


def run(argv, cwd=SCENARIOS):
    r = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vm", required=True)
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    script = [sys.executable, os.path.join(ROOT, "scripts", "qemu"), "--build", args.build]
    kernel = os.path.join(args.build, "kernel.elf")

    rc, out, _ = run(script + ["basic.scn"])
    check("basic.scn passes", rc == 0 and out == "10 passed, 0 failed\n", "%d %r" % (rc, out))

    files = ["basic.scn", "failing/assert-false.scn", "malformed/mem-twice.scn", "zero/read.scn"]
    files = [f for f in files if os.path.exists(os.path.join(SCENARIOS, f))]
    rc, out, _ = run(script + files)
    hrc, hout, _ = run([args.vm, "run"] + files)
    check("several files: the worst status and the output of vm run", rc == hrc == 2 and
          out == hout, "qemu %d, vm run %d\n--- qemu\n%s--- vm run\n%s" % (rc, hrc, out, hout))

    # The files a scenario execs go along as modules, relative to it, and
    # a scenario in another directory finds its own.
    exec_dir = os.path.join(args.build, "tests", "scenarios-exec")
    files = ["scenarios-exec/exec-errors.scn", "scenarios-exec/exec-nomem.scn"]
    rc, out, _ = run(script + files, cwd=os.path.dirname(exec_dir))
    hrc, hout, _ = run([args.vm, "run"] + files, cwd=os.path.dirname(exec_dir))
    check("exec: the executables go along, output as vm run", rc == hrc == 0 and out == hout,
          "qemu %d, vm run %d\n--- qemu\n%s--- vm run\n%s" % (rc, hrc, out, hout))

    rc, out, _ = run(script + ["failing/assert-false.scn"])
    check("a failed check exits 1", rc == 1, "%d" % rc)

    rc, out, err = run(script + ["no-such-file.scn"])
    check("a missing file exits 2", rc == 2 and "no-such-file.scn" in err, "%d %r" % (rc, err))

    argv = qemu.qemu_argv(kernel, ["basic.scn"], append="crash-test")
    rc, out, _ = run(argv)
    status, msg = qemu.status_of(rc)
    check("an exception prints the registers and stops the machine",
          status == 3 and "unexpected exception 6 (invalid opcode)" in out and
          "eip " in out and "cr3 " in out, "%d %r" % (rc, out))

    rc, out, _ = run(qemu.qemu_argv(kernel, []))
    check("a boot without scenario files is an error", qemu.status_of(rc)[0] == 2 and
          "no scenario files" in out, "%d %r" % (rc, out))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
