"""GDB in QEMU: the i386 machine runs tests/gdb/state.scn (with two
accesses appended after its checkpoint) under scripts/qemu-gdb.

- At the checkpoint: `vm procs` and `vm regions` print what vmstat
  (the debug call) prints for the same scenario, `vm check` finds
  nothing, `vm pt` decodes A and D (neither is current: the kernel's
  own address space is loaded).
- At the kernel's copy into A's memory (uaccess_copy, with A's CR3
  loaded): QEMU's `monitor info tlb` — an oracle independent of the
  scripts — lists exactly the user mappings `vm pt A` printed.
- At the copy into D's memory: the same for D, against what `vm pt D`
  printed while D was not current.

    python3 test_qemu.py BUILD_DIR
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import gdbtest

BUILD = gdbtest.build_dir()
QEMU_GDB = os.path.join(gdbtest.SRC, "scripts", "qemu-gdb")
STATE = os.path.join(gdbtest.HERE, "state.scn")
PROCS = ["A", "B", "C", "D"]


def cache_has(flag):
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        return re.search(r"^%s:BOOL=ON$" % flag, f.read(), re.M) is not None


def locked_write():
    """VM_SANITY build: a write to a slab object outside USE, made from GDB
    by calling the kernel's memset on a region's field, faults on the
    read-only page; VM names the object and where it was allocated, and
    the kernel stops."""
    argv = [QEMU_GDB, "--build", BUILD, "--batch", "-ex",
            'call memset(&$vm_region("A", 0x10000000).resident, 0, 4)', STATE, "state"]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=300, env=gdbtest.env())
    out = p.stdout
    want = [r"^vmkernel: a write to locked memory at 0x[0-9a-f]{8} \(eip 0x[0-9a-f]{8}\)$",
            r"^sanity: locked write: write to allocated struct vir_region \d+ at offset \d+ of "
            r"slab page 0x[0-9a-f]{8} \(\d+-byte objects\) outside USE, by eip 0x[0-9a-f]{8}$",
            r"^sanity:   frame 0x[0-9a-f]{8} allocated at vm/region\.c:\d+ \(call \d+: brk by A",
            r"^scripts/qemu: the kernel stopped"]
    for w in want:
        if not re.search(w, out, re.M):
            gdbtest.fail("locked write in QEMU: no line like %s in:\n%s" % (w, out))
    print("ok: VM_SANITY: a write to a locked slab object is caught and named in QEMU")


def mappings(lines):
    """{vaddr: (frame, writable, user)} of `vm pt` lines."""
    out = {}
    for l in lines:
        m = re.match(r"^  0x([0-9a-f]{8}) -> 0x([0-9a-f]{8})  pte 0x[0-9a-f]{8}  (.*)$", l)
        if m:
            bits = m.group(3).split()
            out[int(m.group(1), 16)] = (int(m.group(2), 16), "W" in bits, "U" in bits)
    return out


def tlb(lines):
    """{vaddr: (frame, writable, user)} of `monitor info tlb`'s user part."""
    out = {}
    for l in lines:
        m = re.match(r"^([0-9a-f]{16}): ([0-9a-f]{16}) (\S{9})$", l)
        if m and int(m.group(1), 16) < 0xC0000000:
            flags = m.group(3)
            out[int(m.group(1), 16)] = (int(m.group(2), 16), flags[8] == "W", flags[7] == "U")
    return out


def vmstat_regions():
    """vmstat -r for each process of state.scn, served by the hosted vm."""
    tmp = tempfile.mkdtemp(prefix="gdb-qemu-")
    sock = os.path.join(tmp, "s")
    err = open(os.path.join(tmp, "err"), "w+")
    srv = subprocess.Popen([os.path.join(BUILD, "vm"), "serve", "--socket", sock, "--workload",
                            STATE, "--seconds", "120"], stdout=subprocess.DEVNULL, stderr=err,
                           env=gdbtest.env())
    try:
        for _ in range(600):
            err.seek(0)
            if "serving the debug call" in err.read():
                break
            time.sleep(0.05)
        return {p: subprocess.run([os.path.join(BUILD, "vmstat", "vmstat"), "--socket", sock,
                                   "-r", p], stdout=subprocess.PIPE, text=True,
                                  check=True).stdout.splitlines() for p in PROCS}
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=30)
        shutil.rmtree(tmp)


def main():
    if shutil.which("qemu-system-i386") is None:
        gdbtest.fail("qemu-system-i386 is not installed (scripts/setup.sh installs it)")
    if cache_has("VM_SANITY"):
        locked_write()
    want_r = vmstat_regions()
    with tempfile.TemporaryDirectory(prefix="gdb-qemu-") as tmp:
        scn = os.path.join(tmp, "qemu.scn")
        with open(scn, "w") as f:
            f.write(open(STATE).read())
            f.write("check A 0x20000000 0x5a5a\ncheck D abuf 0x5a5a\n")
        cmds = ["echo @@procs\\n", "vm procs"]
        for p in PROCS:
            cmds += ["echo @@r%s\\n" % p, "vm regions " + p]
        cmds += ["echo @@check\\n", "vm check",
                 "echo @@ptA\\n", "vm pt A", "echo @@ptD\\n", "vm pt D",
                 "echo @@cr3A\\n", "p/x $vm_proc(\"A\").vm_pt.pt_dir_phys",
                 "echo @@cr3D\\n", "p/x $vm_proc(\"D\").vm_pt.pt_dir_phys",
                 "break uaccess_copy", "continue",
                 "echo @@stopA\\n", "p/x $cr3", "monitor info tlb", "vm pt A",
                 "echo @@cur\\n", "vm pt", "echo @@curend\\n",
                 "continue",
                 "echo @@stopD\\n", "p/x $cr3", "monitor info tlb", "echo @@end\\n"]
        argv = [QEMU_GDB, "--build", BUILD, "--batch"]
        for c in cmds:
            argv += ["-ex", c]
        p = subprocess.run(argv + [scn, "state"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=300, env=gdbtest.env())
    out = p.stdout
    if p.returncode != 0 or "Traceback" in out:
        gdbtest.fail("qemu-gdb exited %d:\n%s" % (p.returncode, out))
    procs = gdbtest.section(out, "@@procs", "@@rA")
    gdbtest.expect_equal("vm procs in QEMU: processes", [l.split()[1] for l in procs[1:]], PROCS)
    for i, name in enumerate(PROCS):
        nxt = "@@r" + PROCS[i + 1] if i + 1 < len(PROCS) else "@@check"
        got = gdbtest.section(out, "@@r" + name, nxt)
        gdbtest.expect_equal("vm regions %s in QEMU = vmstat -r %s" % (name, name), got,
                             want_r[name])
    check = gdbtest.section(out, "@@check", "@@ptA")
    gdbtest.expect_equal("vm check in QEMU", bool(re.match(r"^vm check: 0 findings", check[-1])),
                         True)
    ptA = mappings(gdbtest.section(out, "@@ptA", "@@ptD"))
    ptD = mappings(gdbtest.section(out, "@@ptD", "@@cr3A"))
    cr3A = gdbtest.section(out, "@@cr3A", "@@cr3D")[-1].split()[-1]
    cr3D = gdbtest.section(out, "@@cr3D", "@@stopA")
    cr3D = [l for l in cr3D if l.startswith("$")][-1].split()[-1]
    stopA = gdbtest.section(out, "@@stopA", "@@cur")
    cur_pt = gdbtest.section(out, "@@cur", "@@curend")
    stopD = gdbtest.section(out, "@@stopD", "@@end")
    cur = [l for l in stopA if re.match(r"^\$\d+ = ", l)][0].split()[-1]
    gdbtest.expect_equal("stopped with A's page directory loaded", int(cur, 16) & ~0xFFF,
                         int(cr3A, 16))
    gdbtest.expect_equal("vm pt A has mappings", len(ptA) > 10, True)
    gdbtest.expect_equal("vm pt A (decoded while not current) = monitor info tlb", ptA,
                         tlb(stopA))
    gdbtest.expect_equal("vm pt A (current) = monitor info tlb", mappings(stopA), tlb(stopA))
    gdbtest.expect_equal("vm pt without PROC: the process CR3 holds (A)", cur_pt[0],
                         [l for l in stopA if l.startswith("process A")][0])
    gdbtest.expect_equal("vm pt without PROC = vm pt A", mappings(cur_pt), mappings(stopA))
    cur = [l for l in stopD if re.match(r"^\$\d+ = ", l)][0].split()[-1]
    gdbtest.expect_equal("stopped with D's page directory loaded", int(cur, 16) & ~0xFFF,
                         int(cr3D, 16))
    gdbtest.expect_equal("vm pt D (decoded while not current) = monitor info tlb", ptD,
                         tlb(stopD))


main()
