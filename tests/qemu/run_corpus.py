#!/usr/bin/env python3
"""Run scenario files on the i386 machine (QEMU) and on the hosted machine
and require the same result from both.

    run_corpus.py --vm VM --kernel KERNEL [--batch N] [--root DIR] PATH...

PATH is a scenario file or a directory (its *.scn); files listed in
known-differences.txt are skipped with their reason. Each scenario must end
with the same exit status and print the same text in QEMU as `vm run` does
on the hosted machine, run the way tests/CMakeLists.txt runs it: from
tests/scenarios (or --root DIR: the exec corpus runs from the build tree,
where its executables are) by its relative path, or, when a NAME.expect is beside it,
from its own directory by its file name and compared with the expect file
(tests/scenarios/expect.sh). Up to N files share one boot of QEMU (each
still runs on a freshly booted VM: the kernel boots and halts VM per
file); the kernel's debugcon records say where each file's output ends.
The files a scenario execs go along as modules (scripts/qemu's
with_exec_files).
A boot that dies (panic, timeout) fails the file it died in, and the rest
of the batch is booted again.
"""
import argparse
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCENARIOS = os.path.join(ROOT, "tests", "scenarios")


def load_qemu_script():
    path = os.path.join(ROOT, "scripts", "qemu")
    loader = importlib.machinery.SourceFileLoader("vmscope_qemu", path)
    spec = importlib.util.spec_from_loader("vmscope_qemu", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


qemu = load_qemu_script()


def known_differences():
    """{path relative to tests/scenarios: reason} (known-differences.txt)."""
    known = {}
    with open(os.path.join(HERE, "known-differences.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                path, _, reason = line.strip().partition(" ")
                known[path] = reason
    return known


class Scenario:
    def __init__(self, path, root=SCENARIOS):
        self.path = os.path.abspath(path)
        expect = self.path[:-len(".scn")] + ".expect"
        self.expect = expect if os.path.exists(expect) else None
        if self.expect:
            self.cwd = os.path.dirname(self.path)
            self.name = os.path.basename(self.path)
        else:
            self.cwd = root
            self.name = os.path.relpath(self.path, root)
        # QEMU runs from root; the kernel calls the file name.
        self.module = (os.path.relpath(self.path, root), self.name)

    def reference(self, vm):
        """(status, output) the hosted machine gives."""
        if self.expect:
            with open(self.expect) as f:
                first, _, rest = f.read().partition("\n")
            return int(first.split()[1]), rest
        r = subprocess.run([vm, "run", self.name], cwd=self.cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, timeout=300)
        return r.returncode, r.stdout


def boot(kernel, batch, timeout, root):
    """Boot QEMU once on batch. Returns ([(status, output)] for the files
    that finished, how the boot ended, seconds)."""
    with tempfile.TemporaryDirectory(prefix="vmscope-qemu.") as tmp:
        records = os.path.join(tmp, "results")
        modules = qemu.with_exec_files([s.module for s in batch], root)
        argv = qemu.qemu_argv(kernel, modules, debugcon=records)
        start = time.monotonic()
        try:
            r = subprocess.run(argv, cwd=root, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
            out, rc = r.stdout, r.returncode
            ending = qemu.status_of(rc)[1] or ""
            if r.stderr.strip():
                ending += " (stderr: %s)" % r.stderr.decode(errors="replace").strip()
        except subprocess.TimeoutExpired as e:
            out, ending = e.stdout or b"", "timed out after %g s" % timeout
        secs = time.monotonic() - start
        lines = open(records).read().splitlines() if os.path.exists(records) else []
    results, pos = [], 0
    for line in lines:
        _, index, status, end = line.split()
        assert int(index) == len(results), line
        results.append((int(status), out[pos:int(end)].decode(errors="replace")))
        pos = int(end)
    if len(results) < len(batch):
        ending = (ending or "the boot ended early") + "; output after the last file:\n" + \
            out[pos:].decode(errors="replace")
    return results, ending, secs


def tally(text):
    lines = [l for l in text.splitlines() if l.endswith(" failed")]
    return lines[-1] if lines else "(no tally)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vm", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--root", default=SCENARIOS,
                    help="run and name the scenarios from here (default tests/scenarios); "
                    "known-differences.txt names them DIRNAME/PATH then")
    ap.add_argument("paths", nargs="+")
    # A Scenario outside tests/scenarios (tests/qemu/scenarios) is named by
    # its path relative to tests/scenarios, ../qemu/scenarios/NAME.scn.
    args = ap.parse_args()

    files = []
    for p in args.paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".scn"))
        else:
            files.append(p)
    known = known_differences()
    root = os.path.abspath(args.root)
    todo = []
    for f in files:
        rel = os.path.relpath(os.path.abspath(f), root)
        if root != SCENARIOS:
            rel = os.path.join(os.path.basename(root), rel)
        if rel in known:
            print("skip  %s: %s" % (rel, known[rel]))
        else:
            todo.append(Scenario(f, root))
    todo_all = list(todo)
    failed, boots, qemu_secs = [], 0, 0.0
    while todo:
        batch = todo[:args.batch]
        results, ending, secs = boot(args.kernel, batch, args.timeout, root)
        boots += 1
        qemu_secs += secs
        for s, (status, output) in zip(batch, results):
            want_status, want = s.reference(args.vm)
            if status == want_status and output.rstrip("\n") == want.rstrip("\n"):
                print("ok    %s: exit %d, %s" % (s.name, status, tally(output)))
                continue
            failed.append(s.name)
            print("FAIL  %s: exit %d, hosted %d; %s, hosted %s" %
                  (s.name, status, want_status, tally(output), tally(want)))
            print("  --- hosted\n" + "".join("  " + l + "\n" for l in want.splitlines()) +
                  "  --- qemu\n" + "".join("  " + l + "\n" for l in output.splitlines()))
        done = len(results)
        if done < len(batch):
            s = batch[done]
            failed.append(s.name)
            print("FAIL  %s: the machine failed: %s" % (s.name, ending))
            done += 1
        todo = todo[done:]
    ran = len(todo_all)
    print("%d scenarios, %d boots, %.1f s in QEMU: %d as on the hosted machine, %d differ%s" %
          (ran, boots, qemu_secs, ran - len(failed), len(failed),
           (": " + " ".join(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
