#!/usr/bin/env python3
"""gdb.core: the vm commands on a core file of a VM that crashed.

VM runs check-leak.scn with a leak injected and the consistency check
after every call, stopping at the first finding (`--sanity-stop`: VM
aborts with SIGABRT). Under GDB, at that SIGABRT, `gcore` writes a core
file (independent of the system's core_pattern). A second `gdb -batch vm
CORE` runs vm check (it must report the leak VM reported), vm slab,
vm cache, vm regions A and vm procs. If the kernel writes plain `core`
files (core_pattern `core`) and the core limit can be raised, the same
is done with a core the kernel wrote.

The ASan build is skipped (ASan reserves terabytes of shadow memory, so
a core is not workable): the test says so and passes.

    test_core.py BUILD_DIR
"""
import glob
import os
import re
import resource
import shutil
import subprocess
import tempfile

import gdbtest
from gdbtest import HERE, expect_equal, fail

SCENARIO = os.path.join(HERE, "check-leak.scn")
VM_ARGS = ["run", "--inject-leak=1", "--sanity=every-call", "--sanity-stop", SCENARIO]

# The regions of A as the core has them (for vm regions A).
A_REGIONS = ("python exec(\"from vmscope import utils\\n"
             "for r in utils.regions(utils.find_proc('A')):\\n"
             "    gdb.write('AREGION %x %x\\\\n' % (int(r['vaddr']), utils.region_end(r)))\\n"
             "\")")


def vm_leak_lines(text):
    """VM's own leak finding (and its allocation site) before it aborted."""
    leaks = [line[len("sanity: "):] for line in text.splitlines()
             if line.startswith("sanity: leak: ")]
    if len(leaks) != 1:
        fail("VM did not report exactly one leak before aborting:\n" + text)
    return leaks


def on_core(build, core, vm_output, what):
    vm = os.path.join(build, "vm")
    cmds = ["echo @@check\\n", "vm check", "echo @@checkend\\n",
            "echo @@slab\\n", "vm slab", "echo @@slabend\\n",
            "echo @@cache\\n", "vm cache", "echo @@cacheend\\n",
            A_REGIONS,
            "echo @@regions\\n", "vm regions A", "echo @@regionsend\\n",
            "echo @@procs\\n", "vm procs", "echo @@procsend\\n"]
    text = gdbtest.gdb(build, cmds, [vm, core], check=False)
    check = gdbtest.section(text, "@@check", "@@checkend")
    findings = [line for line in check if not line.startswith(("vm check:", " "))]
    expect_equal("%s: vm check's findings = VM's before it aborted" % what, findings,
                 vm_leak_lines(vm_output))
    if not re.match(r"^vm check: 1 finding \(\d+ frames: ", check[-1]):
        fail("%s: vm check summary: %r" % (what, check[-1]))
    site = re.search(r"^sanity:   frame 0x[0-9a-f]{8} allocated at (.*)$", vm_output, re.M)
    if site:
        expect_equal("%s: the leak's allocation site" % what,
                     [line.strip() for line in check if line.startswith(" ")],
                     ["allocated at " + site.group(1)])
    print("ok: %s: %s" % (what, check[-1]))
    slab = gdbtest.section(text, "@@slab", "@@slabend")
    if not any(re.search(r"\d+K size-\d+$", line) for line in slab):
        fail("%s: vm slab printed no cache:\n%s" % (what, "\n".join(slab)))
    cache = gdbtest.section(text, "@@cache", "@@cacheend")
    if not cache or not re.match(r"^\s+0 blocks held$", cache[0]) or "no blocks held" not in cache:
        fail("%s: vm cache:\n%s" % (what, "\n".join(cache)))
    print("ok: %s: vm slab and vm cache print" % what)
    regions = [tuple(int(x, 16) for x in line.split()[1:]) for line in text.splitlines()
               if line.startswith("AREGION ")]
    if len(regions) != 1:
        fail("%s: A should have one region (buf):\n%s" % (what, text))
    for name in ("regions", "procs"):
        lines = gdbtest.section(text, "@@" + name, "@@%send" % name)
        body = "\n".join(lines)
        if not lines or re.search(r"error|cannot|internal", body, re.I):
            fail("%s: vm %s:\n%s" % (what, name, body))
        if name == "regions":
            for start, end in regions:
                if not re.search(r"0x0*%x\b|\b0*%x\b" % (start, start), body):
                    fail("%s: vm regions A does not list 0x%x-0x%x:\n%s"
                         % (what, start, end, body))
        elif not re.search(r"\bA\b", body):
            fail("%s: vm procs does not list A:\n%s" % (what, body))
        print("ok: %s: vm %s" % (what, name))


def gcore(build, tmp):
    core = os.path.join(tmp, "vm.gcore")
    text = gdbtest.gdb(build, ["run", "gcore " + core],
                       ["--args", os.path.join(build, "vm")] + VM_ARGS, check=False)
    if "SIGABRT" not in text:
        fail("VM did not stop with SIGABRT:\n" + text)
    if not os.path.exists(core):
        fail("gcore wrote no core file:\n" + text)
    on_core(build, core, text, "gcore")


def kernel_core(build, tmp):
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
    except OSError:
        pattern = "?"
    if pattern != "core":
        print("skipped: kernel core: core_pattern is %r, not plain core" % pattern)
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
        if hard != resource.RLIM_INFINITY:
            raise ValueError("hard limit %d" % hard)
    except (ValueError, OSError) as e:
        print("skipped: kernel core: ulimit -c unlimited is not allowed (%s)" % e)
        return

    def unlimited():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    p = subprocess.run([os.path.join(build, "vm")] + VM_ARGS, cwd=tmp, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, env=gdbtest.env(),
                       preexec_fn=unlimited, timeout=300)
    if p.returncode != -6:
        fail("VM should abort (SIGABRT), exited %d:\n%s" % (p.returncode, p.stdout))
    cores = glob.glob(os.path.join(tmp, "core")) + glob.glob(os.path.join(tmp, "core.*"))
    if not cores:
        print("skipped: kernel core: the kernel wrote none (a container's limits?)")
        return
    on_core(build, cores[0], p.stdout, "kernel core")


def main():
    build = gdbtest.build_dir()
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        if "VM_ASAN:BOOL=ON" in f.read():
            print("skipped: ASan build (its shadow memory makes cores unworkable)")
            return
    tmp = tempfile.mkdtemp(prefix="vmscope-core-")
    try:
        gcore(build, tmp)
        kernel_core(build, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("gdb.core: all passed")


main()
