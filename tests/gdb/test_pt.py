"""vm pt against the hosted machine's MMU: at pt.scn's checkpoint, `vm pt
P` for every process, each printed mapping checked against
mmu_debug_translate (frame and effective permissions), the number of
mappings against mmu_debug_count (no present page missed), and `vm pt P
VADDR` for a mapped address, one whose page table is present but not its
PTE, one with no page table, copy-on-write and read-only pages, a kernel
address and bad arguments.

    python3 test_pt.py BUILD_DIR
"""
import re

import gdbtest
import pt_common as pc

BUILD = gdbtest.build_dir()
C = pc.constants(BUILD)
PERM = C.I386_VM_PRESENT | C.I386_VM_WRITE | C.I386_VM_USER
LOW_BITS = 0x1FF  # the bits vm pt names (P .. G)
HEX = r"0x[0-9a-f]{8}"

# (process, address, tag) for vm pt P VADDR.
VTOP = [
    ("A", 0x20000123, "mapped"),
    ("A", 0x20010000, "nopte"),
    ("A", 0x08000000, "notable"),
    ("A", 0x20800000, "ro"),
    ("A", 0xC0001000, "kernel"),
    ("B", 0x30000000, "cowB"),
    ("C", 0x30000000, "cowC"),
    ("B", 0x30002000, "cowB2"),
    ("C", 0x30001000, "copied"),
]


def parse_pt(name, lines):
    """(header match, kernel match, [(pde index, pde, [(va, frame, pte,
    flag words)])], total match) of `vm pt NAME`."""
    head = re.fullmatch(r"process (\S+) \(endpoint (\d+)\): page directory at phys (%s)" % HEX,
                        lines[0])
    if not head:
        gdbtest.fail("vm pt %s: header %r" % (name, lines[0]))
    kernel, tables, total = None, [], None
    for line in lines[1:]:
        m = re.fullmatch(r"kernel: (%s)-(%s) 4M pages \((\d+) PDEs\) -> phys (%s)-(%s), (.*)"
                         % (HEX, HEX, HEX, HEX), line)
        if m:
            kernel = m
            continue
        m = re.fullmatch(r"PDE (0x[0-9a-f]{3}) -> table at phys (%s), flags (.*) \((%s)\), "
                         r"(%s)-(%s)" % (HEX, HEX, HEX, HEX), line)
        if m:
            tables.append((int(m.group(1), 16), int(m.group(4), 16), []))
            if int(m.group(2), 16) != int(m.group(4), 16) & C.I386_VM_ADDR_MASK:
                gdbtest.fail("vm pt %s: table address of %r" % (name, line))
            continue
        m = re.fullmatch(r"  (%s) -> (%s)  pte (%s)  (.*)" % (HEX, HEX, HEX), line)
        if m:
            if not tables:
                gdbtest.fail("vm pt %s: a mapping before any PDE: %r" % (name, line))
            tables[-1][2].append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16),
                                  m.group(4).split()))
            continue
        m = re.fullmatch(r"(\d+) present pages, (\d+) page tables", line)
        if m:
            total = m
            continue
        if line != "  (no present entries)":
            gdbtest.fail("vm pt %s: unexpected line %r" % (name, line))
    if kernel is None or total is None:
        gdbtest.fail("vm pt %s: no kernel or total line in:\n%s" % (name, "\n".join(lines)))
    return head, kernel, tables, total


def check_pt(name, ep, cr3, lines, tr, count):
    head, kernel, tables, total = parse_pt(name, lines)
    gdbtest.expect_equal("vm pt %s: endpoint and directory as the machine has them" % name,
                         (int(head.group(2)), int(head.group(3), 16)), (ep, cr3))
    # The kernel's 4 MB pages: the MMU translates them for the supervisor only.
    lo, hi, n = int(kernel.group(1), 16), int(kernel.group(2), 16), int(kernel.group(3))
    gdbtest.expect_equal("vm pt %s: kernel range is its PDE count of 4 MB" % name,
                         hi - lo + 1, n * C.I386_BIG_PAGE_SIZE)
    mapped = {}
    for pde_i, pde, ptes in tables:
        for va, frame, pte, words in ptes:
            what = "vm pt %s: %#010x" % (name, va)
            if va >> 22 != pde_i:
                gdbtest.fail("%s is listed under PDE %#x" % (what, pde_i))
            if frame != pte & C.I386_VM_ADDR_MASK:
                gdbtest.fail("%s: frame %#x is not the PTE's %#x" % (what, frame, pte))
            if pc.flag_value(C, words) != pte & LOW_BITS:
                gdbtest.fail("%s: flags %s do not decode PTE %#x" % (what, words, pte))
            got = tr.get((ep, va))
            if got is None or got == pc.NONE:
                gdbtest.fail("%s: the MMU does not translate it (%r)" % (what, got))
            if got & 0xFFFFFFFF != frame:
                gdbtest.fail("%s: frame %#x, the MMU says %#x" % (what, frame, got & 0xFFFFFFFF))
            if got >> 32 != pde & pte & PERM:
                gdbtest.fail("%s: effective bits %#x (PDE %#x, PTE %#x), the MMU says %#x"
                             % (what, pde & pte & PERM, pde, pte, got >> 32))
            mapped[va] = (frame, pte)
    print("ok: vm pt %s: %d mappings agree with the MMU (frame and permissions)"
          % (name, len(mapped)))
    gdbtest.expect_equal("vm pt %s: total line counts the printed mappings and tables" % name,
                         (int(total.group(1)), int(total.group(2))), (len(mapped), len(tables)))
    gdbtest.expect_equal("vm pt %s: mappings == mmu_debug_count" % name, len(mapped), count)
    return mapped


def main():
    order = ["A", "B", "C", "D", "E"]
    cmds = ["python oracle_pt(%r)" % name for name in order]
    for name, va, tag in VTOP:
        cmds += ["echo @@vtop %s\\n" % tag, "vm pt %s %#x" % (name, va), "echo @@end\\n"]
    cmds += ["echo @@bad1\\n", "vm pt A 0x100000000", "echo @@end\\n",
             "echo @@bad2\\n", "vm pt Z", "echo @@end\\n",
             "echo @@bad3\\n", "vm pt", "echo @@end\\n"]
    cmds += ["python oracle_tr('A', 0x20010000)", "python oracle_tr('A', 0xc0001000)"]
    # Last, as it breaks the state: A's PTE for 0x20001000 made to map the
    # frame of 0x20000000; VM's page there no longer agrees.
    cmds += ["python corrupt_pte('A', 0x20001000, 0x20000000)",
             "echo @@vtop corrupt\\n", "vm pt A 0x20001000", "echo @@end\\n"]
    text = pc.run(BUILD, cmds)
    procs = pc.procs(text)
    tr = pc.translations(text)
    counts = {int(m.group(1)): int(m.group(2))
              for m in re.finditer(r"^@@count (\d+) (\d+)$", text, re.M)}
    maps = {}
    for name in order:
        ep, cr3 = procs[name]
        if ep not in counts:
            gdbtest.fail("vm pt %s: the oracle ran for other endpoints %s than %d"
                         % (name, sorted(counts), ep))
        maps[name] = check_pt(name, ep, cr3, pc.block(text, "@@pt " + name), tr, counts[ep])

    # What the scenario made must be there.
    a, b, c = maps["A"], maps["B"], maps["C"]
    for va in (0x203FE000, 0x203FF000, 0x20400000, 0x20401000):
        if va not in a:
            gdbtest.fail("vm pt A: %#x (the region across 0x20400000) not listed" % va)
    print("ok: vm pt A: the region across a page-table boundary is in both tables")
    if a[0x20800000][1] & C.I386_VM_WRITE:
        gdbtest.fail("vm pt A: the read-only page 0x20800000 is writable: %#x" % a[0x20800000][1])
    print("ok: vm pt A: the read-only page is read-only")
    for off in (0, 0x2000, 0x3000):
        va = 0x30000000 + off
        if b[va][0] != c[va][0] or (b[va][1] | c[va][1]) & C.I386_VM_WRITE:
            gdbtest.fail("B/C %#x: not one read-only frame (%r, %r)" % (va, b[va], c[va]))
    if b[0x30001000][0] == c[0x30001000][0] or not c[0x30001000][1] & C.I386_VM_WRITE:
        gdbtest.fail("C 0x30001000: not C's own writable copy (%r, %r)"
                     % (b[0x30001000], c[0x30001000]))
    print("ok: vm pt B, C: copy-on-write pages shared read-only, C's written page its own")
    gdbtest.expect_equal("vm pt E: nothing mapped (all yielded)", len(maps["E"]), 0)

    lines = vtop(text, "corrupt")
    pc.expect_line("vtop corrupt: VM's page disagrees with the corrupted PTE", lines,
                   r"VM page: .* frame %#010x refcount 2: DISAGREES with the PTE "
                   r"\(frame %#010x\)" % (a[0x20001000][0], a[0x20000000][0]))

    check_vtop(text, procs, tr, maps)


def vtop(text, tag):
    return pc.block(text, "@@vtop " + tag)


def check_vtop(text, procs, tr, maps):
    ep_a, cr3_a = procs["A"]
    # A mapped address: the whole chain, ending at the MMU's physical address.
    lines = vtop(text, "mapped")
    got = tr[(ep_a, 0x20000000)]
    pc.expect_line("vtop mapped: PDE 0x080 at the directory's entry", lines,
                   r"PDE 0x080 at phys %#010x: (%s) P W U.*" % (cr3_a + 0x80 * 4, HEX))
    table = pc.expect_line("vtop mapped: page table", lines, r"table at phys (%s)" % HEX)
    tab = int(table.group(1), 16)
    pc.expect_line("vtop mapped: PTE 0x000 in that table", lines,
                   r"PTE 0x000 at phys %#010x: %#010x P W U.*" % (tab, maps["A"][0x20000000][1]))
    pc.expect_line("vtop mapped: physical address as the MMU translates it", lines,
                   r"frame %#010x -> phys %#010x \(user read-write\)"
                   % (got & 0xFFFFF000, (got & 0xFFFFF000) | 0x123))
    pc.expect_line("vtop mapped: its region", lines,
                   r"region: 0x20000000-0x20010000 rw-s anon")
    pc.expect_line("vtop mapped: VM's page agrees", lines,
                   r"VM page: phys_region 0x[0-9a-f]+ -> phys_block 0x[0-9a-f]+ frame %#010x "
                   r"refcount 2: agrees with the PTE" % (got & 0xFFFFF000))
    pc.expect_no_line("vtop mapped: no stop", lines, r"^stop:")

    # In a present page table, no PTE.
    lines = vtop(text, "nopte")
    gdbtest.expect_equal("vtop nopte: the MMU has no translation", tr[(ep_a, 0x20010000)], pc.NONE)
    pc.expect_line("vtop nopte: PTE index 0x010 read, zero", lines,
                   r"PTE 0x010 at phys %#010x: 0x00000000 -" % (tab + 0x10 * 4))
    pc.expect_line("vtop nopte: stops at the PTE", lines,
                   r"stop: PTE not present: 0x20010000 is not mapped")
    pc.expect_line("vtop nopte: no region", lines, r"region: none")
    pc.expect_line("vtop nopte: no VM page", lines, r"VM page: none \(no phys_region at 0x20010000\)")

    # No page table at all.
    lines = vtop(text, "notable")
    pc.expect_line("vtop notable: PDE 0x020 zero", lines,
                   r"PDE 0x020 at phys %#010x: 0x00000000 -" % (cr3_a + 0x20 * 4))
    pc.expect_line("vtop notable: stops at the PDE", lines,
                   r"stop: PDE not present: no page table for 0x08000000-0x083fffff")
    pc.expect_no_line("vtop notable: no table or PTE line", lines, r"^(table|PTE) ")

    # The read-only page.
    lines = vtop(text, "ro")
    pc.expect_line("vtop ro: user read-only", lines,
                   r"frame %#010x -> phys %#010x \(user read-only\)"
                   % (maps["A"][0x20800000][0], maps["A"][0x20800000][0]))
    pc.expect_line("vtop ro: a read-only region, no copy-on-write note", lines,
                   r"region: 0x20800000-0x20801000 r--p anon")

    # Copy-on-write: B and C map one frame read-only in a writable region.
    for tag, name, va in (("cowB", "B", 0x30000000), ("cowC", "C", 0x30000000),
                          ("cowB2", "B", 0x30002000)):
        lines = vtop(text, tag)
        frame = maps[name][va][0]
        pc.expect_line("vtop %s: read-only PTE" % tag, lines,
                       r"PTE %#05x at phys %s: %#010x P U.*" % ((va >> 12) & 0x3FF, HEX,
                                                                maps[name][va][1]))
        pc.expect_line("vtop %s: user read-only" % tag, lines,
                       r"frame %#010x -> phys %#010x \(user read-only\)" % (frame, frame))
        pc.expect_line("vtop %s: copy-on-write noted" % tag, lines,
                       r"region: 0x30000000-0x30004000 rw-p anon \(writable region, read-only "
                       r"PTE: copy-on-write or not written yet\)")
        pc.expect_line("vtop %s: the block has both references" % tag, lines,
                       r"VM page: .* frame %#010x refcount 2: agrees with the PTE" % frame)
    lines = vtop(text, "copied")
    pc.expect_line("vtop copied: C's own copy is writable", lines,
                   r"frame %#010x -> phys %#010x \(user read-write\)"
                   % (maps["C"][0x30001000][0], maps["C"][0x30001000][0]))
    pc.expect_line("vtop copied: its block is C's alone", lines,
                   r"VM page: .* refcount 1: agrees with the PTE")

    # A kernel address: a 4 MB page, translated by the MMU for the supervisor.
    lines = vtop(text, "kernel")
    got = tr[(ep_a, 0xC0001000)]
    pc.expect_line("vtop kernel: the 4M page and its address as the MMU has it", lines,
                   r"4M page at phys %s -> phys %#010x \(supervisor read-write\)"
                   % (HEX, got & 0xFFFFFFFF))
    gdbtest.expect_equal("vtop kernel: the MMU's bits (no U)", got >> 32,
                         C.I386_VM_PRESENT | C.I386_VM_WRITE)
    pc.expect_line("vtop kernel: stops at the PDE", lines,
                   r"stop: a 4M page: the PDE maps it, there is no page table")

    for tag, want in (("bad1", "VADDR 0x100000000 is not a 32-bit address"),
                      ("bad2", "no such process: Z"), ("bad3", "usage: vm pt PROC [VADDR]")):
        gdbtest.expect_equal("%s: one line of error" % tag, pc.block(text, "@@" + tag), [want])


main()
