"""Errors are one clear line, never a Python traceback (gdbtest.gdb fails
on one): no VM yet, VM not booted, no such process, a name two processes
have, bad arguments, and a pointer into nowhere named by its address.

    python3 test_errors.py BUILD_DIR
"""
import os

import gdbtest

BUILD = gdbtest.build_dir()
VM = os.path.join(BUILD, "vm")


def lines_of(out):
    return [l for l in out.splitlines() if l.startswith(("@", "usage", "no ", "VM ", "cannot",
                                                          "2 processes", "A has", "vm "))]


def main():
    out = gdbtest.gdb(BUILD, ["vm procs", "vm regions A"], [VM], check=False)
    gdbtest.expect_equal("no process: vm procs", "VM is not running: run it, attach to it "
                         "(scripts/vm-gdb --pid PID) or load a core file" in out.splitlines(), True)
    out = gdbtest.gdb(BUILD, ["break main", "run", "vm stats"], ["--args", VM, "run", "/dev/null"],
                      check=False)
    gdbtest.expect_equal("before boot: vm stats",
                         "VM has not booted yet (vm_kinfo is empty): stop it later" in out.splitlines(),
                         True)

    cmds = [
        # VM does not mind two processes with one name (the runner does):
        # twin2 becomes a second twin.
        "set var $vm_proc(\"twin2\").vm_name[4] = 0",
        "echo @1\\n", "vm regions", "echo @2\\n", "vm regions Z",
        "echo @3\\n", "vm regions 4242", "echo @4\\n", "vm regions twin",
        "echo @5\\n", "vm regions vm_kinfo", "echo @6\\n", "vm procs extra",
        "echo @7\\n", 'print $vm_region("A", 0x1000)',
        "echo @8\\n", 'print $vm_proc(1.5)',
        # A region tree whose root points nowhere.
        "set var vmproc[0].vm_regions_avl.root = (struct avl_node *)0x10",
        "echo @9\\n", "vm regions A", "echo @end\\n",
    ]
    out = gdbtest.at_checkpoint(BUILD, os.path.join(gdbtest.HERE, "errors.scn"), "here", cmds)
    got = []
    for i in range(1, 10):
        sec = gdbtest.section(out, "@%d" % i, "@%d" % (i + 1) if i < 9 else "@end")
        got.append(sec[-1] if sec else "")
    want = [
        "usage: vm regions PROC",
        "no such process: Z",
        "no such process: endpoint 4242",
        "2 processes are called twin (endpoints 1025, 1026): give the endpoint",
        "vm_kinfo is a struct kinfo, not a process",
        "usage: vm procs",
        "A has no region at 0x1000",
        "not a process: a name, an endpoint or a struct vmproc (got double)",
        "cannot read struct avl_node at 0x10",
    ]
    for g, w in zip(got, want):
        gdbtest.expect_equal("error: " + w, g, w)


main()
