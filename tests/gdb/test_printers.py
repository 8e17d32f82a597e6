"""The pretty-printers, line by line: `vm run tests/gdb/state.scn`
stopped at its checkpoint, then at the next message VM handles (the
scenario's end exits A). Host addresses (0x7fff..., 0x5555...) change
between builds and runs: they are masked. Frame numbers differ between
builds (the sanity build keeps more metadata): they are masked in the
summaries and checked against the structures' own fields instead.

    python3 test_printers.py BUILD_DIR
"""
import re

import gdbtest

BUILD = gdbtest.build_dir()
SCN = gdbtest.HERE + "/state.scn"

# (expression, its printer's summary), frames as 0xFRAME.
SUMMARIES = [
    ('$vm_proc("A")', "vmproc A (ep 1024) [VMF_INUSE]: 5 regions, 15 resident, brk 0x10003000"),
    ('$vm_proc("D")', "vmproc D (ep 1027) [VMF_INUSE | VMF_PRIV]: 2 regions, 8 resident, brk 0x10000000"),
    ('$vm_region("A", 0x10000000)',
     "vir_region 0x10000000-0x10003000 (12K) rw-p anon [VR_READABLE | VR_WRITABLE | VR_HEAP]"
     " resident 2 of A (ep 1024)"),
    ('$vm_region("A", 0xbfffc000)',
     "vir_region 0xbfffc000-0xc0000000 (16K) rw-p contig [VR_READABLE | VR_WRITABLE |"
     " VR_LOWER16MB | VR_CONTIG | VR_PREALLOC] resident 4 of A (ep 1024)"),
    ('$vm_region("C", 0xbfffe000)',
     "vir_region 0xbfffe000-0xc0000000 (8K) rw-s shared [VR_READABLE | VR_WRITABLE | VR_SHARED"
     " | VR_SAFEMAP] resident 2 of C (ep 1026)"),
    ('$vm_region("D", 0xbfffe000)',
     "vir_region 0xbfffe000-0xc0000000 (8K) rw-p anon [VR_READABLE | VR_WRITABLE |"
     " VR_UNINITIALIZED] resident 0 of D (ep 1027)"),
    ('*$vm_region("A", 0x20000000).memtype', "mem_type anonymous (MT_ANON)"),
    ('*$vm_region("A", 0xbfffc000).memtype', "mem_type contiguous (MT_ANON_CONTIG)"),
    ('*$vm_region("C", 0xbfffe000).memtype', "mem_type shared (MT_SHARED)"),
    ('*(struct phys_region *)radix_lookup(&$vm_proc("B").vm_pages, 0x30000)',
     "phys_region B (ep 1025) 0x30000000 -> frame 0xFRAME"),
    # B's shared page: C has it too (fork keeps shared memory shared).
    ('*((struct phys_region *)radix_lookup(&$vm_proc("B").vm_pages, 0x30000))->ph',
     "phys_block frame 0xFRAME refcount 2 (cache 0) [] mapped by C@0x30000000, B@0x30000000"),
    ('$vm_proc("B").vm_regions_avl', "region tree: 3 regions"),
]

# The full print of a region tree: children are the regions in address
# order, each with its summary and raw fields.
TREE = (
    "$NUM = region tree: 3 regions = {"
    "vir_region 0x20000000-0x20002000 (8K) rw-s anon [VR_READABLE | VR_WRITABLE | VR_SHARED]"
    " resident 2 of B (ep 1025) = {node = {left = 0x0, right = 0x0, parent = 0xADDR,"
    " key = 536870912, balance = 0 '\\000'}, vaddr = 536870912, length = 8192,"
    " parent = 0xADDR <vmproc+OFF>, memtype = 0xADDR <mem_type_anon>, flags = 19, resident = 2,"
    " phys = 0, grp_next = 0xADDR, grp_prev = 0xADDR, grp_off = 0, grant = 0, gap_before = 0, sub_gap = 0}, "
    "vir_region 0x20002000-0x20004000 (8K) rw-p anon [VR_READABLE | VR_WRITABLE]"
    " resident 0 of B (ep 1025) = {node = {left = 0xADDR, right = 0xADDR, parent = 0x0,"
    " key = 536879104, balance = 0 '\\000'}, vaddr = 536879104, length = 8192,"
    " parent = 0xADDR <vmproc+OFF>, memtype = 0xADDR <mem_type_anon>, flags = 3, resident = 0,"
    " phys = 0, grp_next = 0xADDR, grp_prev = 0xADDR, grp_off = 8192, grant = 0, gap_before = 0, sub_gap = 268419072}, "
    "vir_region 0x30000000-0x30002000 (8K) rw-s anon [VR_READABLE | VR_WRITABLE | VR_SHARED]"
    " resident 1 of B (ep 1025) = {node = {left = 0x0, right = 0x0, parent = 0xADDR,"
    " key = 805306368, balance = 0 '\\000'}, vaddr = 805306368, length = 8192,"
    " parent = 0xADDR <vmproc+OFF>, memtype = 0xADDR <mem_type_anon>, flags = 19, resident = 1,"
    " phys = 0, grp_next = 0xADDR, grp_prev = 0xADDR, grp_off = 0, grant = 0, gap_before = 268419072, sub_gap = 268419072}}"
)

MESSAGE = "$NUM = message VM_EXIT from KERNEL = {m_source = -2, m_type = 3089, m_exit = {ep = 1024}}"


def mask(line):
    line = gdbtest.mask_addresses(line)
    line = re.sub(r"frame 0x[0-9a-f]{8}", "frame 0xFRAME", line)
    line = re.sub(r"<vmproc\+\d+>", "<vmproc+OFF>", line)
    return re.sub(r"^\$\d+", "$NUM", line)


def main():
    cmds = []
    for i, (expr, _) in enumerate(SUMMARIES):
        cmds.append("python v = gdb.parse_and_eval('%s'); "
                    "print('@%d ' + gdb.default_visualizer(v).to_string())" % (expr, i))
    # Frames in summaries against the raw fields.
    cmds.append("python pr = gdb.parse_and_eval('*(struct phys_region *)radix_lookup("
                "&$vm_proc(\"B\").vm_pages, 0x30000)'); "
                "print('@frame 0x%08x' % int(pr['ph']['phys']))")
    cmds += ["echo @@tree\\n", 'print $vm_proc("B").vm_regions_avl', "echo @@end\\n",
             "break vm_handle", "continue", "echo @@msg\\n", "print *m", "echo @@end\\n"]
    out = gdbtest.at_checkpoint(BUILD, SCN, "state", cmds)
    lines = out.splitlines()
    frame = [l for l in lines if l.startswith("@frame ")][0].split()[1]
    for i, (expr, want) in enumerate(SUMMARIES):
        got = [l for l in lines if l.startswith("@%d " % i)]
        if not got:
            gdbtest.fail("no summary for %s:\n%s" % (expr, out))
        text = got[0][len("@%d " % i):]
        if "-> frame" in text:
            gdbtest.expect_equal("%s: frame is ph->phys" % expr, text.split()[-1], frame)
        gdbtest.expect_equal("print %s" % expr, mask(text), want)
    tree = gdbtest.section(out, "@@tree", "@@end")
    gdbtest.expect_equal("print of a region tree", [mask(l) for l in tree], [TREE])
    msg = gdbtest.section(out, "@@msg", "@@end")
    gdbtest.expect_equal("print of a message", [mask(l) for l in msg], [MESSAGE])


main()
