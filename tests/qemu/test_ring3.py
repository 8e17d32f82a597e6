#!/usr/bin/env python3
"""Ring-3 processes on the i386 machine: boot init (build/user/init.elf)
with scripts/qemu --init and check its console output line by line, in
order: each check init makes (fork, copy-on-write, MAP_SHARED, exec and
exit statuses, page faults VM refuses ending the process), the kernel's
own lines (kills, the final report: every page back, the consistency
check clean) and the exit status. Then a boot whose init cannot start.

    test_ring3.py --build DIR
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# What init and the kernel print, in order (regular expressions).
EXPECTED = [
    r"init: pid 1, running in ring 3",
    r"ok: getpid",
    r"ok: mmap touch",
    r"ok: munmap",
    r"vmkernel: pid \d+ killed \(SIGSEGV\): page fault VM refused at 0x[0-9a-f]{8}",
    r"ok: touch after munmap kills \(SIGSEGV\)",
    r"ok: brk",
    r"ok: cow",
    r"ok: shared",
    r"greet: hello from an exec'd image, pid \d+, data 41, bss zero",
    r"ok: exec",
    r"ok: exec of no module is ENOENT",
    r"ok: exec of a non-executable is ENOEXEC",
    r"vmkernel: pid \d+ killed \(SIGSEGV\): page fault VM refused at 0x0804[0-9a-f]{4}",
    r"ok: write to text kills \(SIGSEGV\)",
    r"ok: fork x5, wait for all",
    r"ok: wait without children is ECHILD",
    r"init: 13 checks, 0 failed",
    r"vmkernel: init exited with status 0; VM: [1-9]\d* page faults, (\d+) free pages "
    r"\((\d+) at boot\), consistency check: ran, 0 findings",
]

failures = []


def check(what, cond, detail=""):
    print("%s  %s%s" % ("ok  " if cond else "FAIL", what, "" if cond else ": " + detail))
    if not cond:
        failures.append(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    user = os.path.join(args.build, "user")
    script = [sys.executable, os.path.join(ROOT, "scripts", "qemu"), "--build", args.build,
              "--timeout", "120"]
    notelf = os.path.join(ROOT, "tests", "scenarios-exec", "notelf.txt")
    r = subprocess.run(script + ["--init", os.path.join(user, "init.elf"),
                                 os.path.join(user, "greet.elf"), notelf],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    lines = r.stdout.splitlines()
    for i, want in enumerate(EXPECTED):
        got = lines[i] if i < len(lines) else "(no line)"
        m = re.fullmatch(want, got)
        check("line %d: %s" % (i + 1, got), m is not None, "expected /%s/" % want)
        if m and i == len(EXPECTED) - 1:
            check("every page is free again", m.group(1) == m.group(2), got)
    check("nothing more on the console", len(lines) == len(EXPECTED),
          "\n".join(lines[len(EXPECTED):]))
    check("exit status 0", r.returncode == 0, "%d, stderr %r" % (r.returncode, r.stderr))

    r = subprocess.run(script + ["--init", notelf], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=300)
    check("an init that is not an executable cannot start (exit 2)", r.returncode == 2 and
          "vmkernel: init: cannot start notelf.txt: error 8" in r.stdout,
          "%d %r" % (r.returncode, r.stdout))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
