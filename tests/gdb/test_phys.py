"""vm phys at pt.scn's checkpoint, against the machine: a copy-on-write
frame lists both processes, a shared (remap) frame both, a page
directory and a page table (read from the machine's CR3 and PDE) are
named, a slab page and a frame held only by the cache are named, every
frame of a sample is free exactly when the allocator's phys_frame_free
says so and no in-use frame is "nobody's", and an address beyond memory
is one clear error.

    python3 test_phys.py BUILD_DIR
"""
import re

import gdbtest
import pt_common as pc

BUILD = gdbtest.build_dir()
C = pc.constants(BUILD)
HEX = r"0x[0-9a-f]{8}"
MEM = 16 << 20  # pt.scn: mem 16M
PAGE = 1 << C.VM_PAGE_SHIFT


def frames_sample():
    """Every frame of the low 1 MB past the PC hole's start, where VM's
    allocations are, and every 64th above."""
    low = list(range(0, 0x100000, PAGE))
    return low + list(range(0x100000, MEM, 64 * PAGE))


def phys_blocks(text):
    """{frame: (free per phys_frame_free, [lines of vm phys])}."""
    out = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.fullmatch(r"@@phys (0x[0-9a-f]+) ([01])", line)
        if m:
            j = lines.index("@@end", i + 1)
            out[int(m.group(1), 16)] = (m.group(2) == "1", lines[i + 1:j])
    return out


# (tag, C expression) of frames, from the machine's view (its MMU, CR3,
# page directory) or VM's variables read by GDB itself.
FRAMES = [
    ("cow", "mmu_debug_translate({ep:B}, 0x30000000) & 0xfffff000"),
    ("cowown", "mmu_debug_translate({ep:B}, 0x30001000) & 0xfffff000"),
    ("shared", "mmu_debug_translate({ep:A}, 0x20002000) & 0xfffff000"),
    ("pdir", "hm.proc[{slot:A}].cr3"),
    ("ptab", "*(unsigned int *)(hm.phys + hm.proc[{slot:A}].cr3 + 0x81 * 4) & 0xfffff000"),
    ("slab", "((unsigned long)vmproc[0].vm_regions_avl.root - (unsigned long)hm.phys) & ~0xfffUL"),
    ("cached", "cache.oldest->pb[1]->phys"),
]


def main():
    cmds = []
    for tag, expr in FRAMES:
        # At an offset into the frame: vm phys takes any byte of it.
        cmds += ["python oracle_expr(%r, %r)" % (tag, expr),
                 "python oracle_named(%r, 0x123)" % tag]
    cmds.append("python oracle_phys(%r)" % frames_sample())
    cmds += ["echo @@beyond\\n", "vm phys %#x" % MEM, "echo @@end\\n",
             "echo @@beyond2\\n", "vm phys 0xffffffff", "echo @@end\\n",
             "echo @@bad\\n", "vm phys nosuchsymbol", "echo @@end\\n"]
    # Last, as they break the state: A's PTE for 0x20001000 made to map
    # another frame; the list of the block behind B's 0x30000000 cut.
    cmds += ["python oracle_expr('a1', 'mmu_debug_translate({ep:A}, 0x20001000) & 0xfffff000')",
             "python oracle_expr('a0', 'mmu_debug_translate({ep:A}, 0x20000000) & 0xfffff000')",
             "python corrupt_pte('A', 0x20001000, 0x20000000)",
             "python oracle_named('a1', 0)",
             "python corrupt_list('B', 0x30000000)",
             "python _values['cow2'] = _values['cow']", "python oracle_named('cow2', 0)"]
    text = pc.run(BUILD, cmds)
    procs = pc.procs(text)
    vals = pc.exprs(text)
    check_named(text, procs, vals)
    check_sample(phys_blocks(text))
    check_corrupt(text, procs, vals)
    for tag, want in (("beyond", "physical address 0x1000000 is beyond the machine's memory "
                                 "(16 MB, up to 0xffffff)"),
                      ("beyond2", "physical address 0xffffffff is beyond the machine's memory "
                                  "(16 MB, up to 0xffffff)"),
                      ("bad", "PADDR: not a number or expression: nosuchsymbol")):
        gdbtest.expect_equal("vm phys %s: one line of error" % tag, pc.block(text, "@@" + tag),
                             [want])


def pte_re(frame):
    """A PTE on frame, whatever its low bits."""
    return "0x%05x[0-9a-f]{3}" % (frame >> 12)


def named(text, tag):
    return pc.block(text, "@@named " + tag)


def check_named(text, procs, vals):
    ep = {n: procs[n][0] for n in procs}

    lines = named(text, "cow")
    f = vals["cow"]
    pc.expect_line("cow: one block, two pages", lines,
                   r"frame %#010x: mapped by 2 pages of 1 phys_block" % f)
    pc.expect_line("cow: the block", lines,
                   r"phys_block 0x[0-9a-f]+: frame %#010x refcount 2 cacheref 0 flags -" % f)
    for n in ("B", "C"):
        pc.expect_line("cow: %s's page, read-only PTE on that frame" % n, lines,
                       r"  %s \(endpoint %d\) 0x30000000 in 0x30000000-0x30004000 rw-p anon  "
                       r"phys_region 0x[0-9a-f]+  PTE %s P U( A)?" % (n, ep[n], pte_re(f)))
    pc.expect_line("cow: the block's list agrees", lines,
                   r"  block list: 2 phys_regions, agrees with the page maps")

    lines = named(text, "cowown")
    pc.expect_line("cow, B's page after C copied it: B alone", lines,
                   r"frame %#010x: mapped by 1 page of 1 phys_block" % vals["cowown"])
    pc.expect_no_line("cow, B's page after C copied it: not C", lines, r"^  C ")

    lines = named(text, "shared")
    f = vals["shared"]
    pc.expect_line("shared: one block, two pages", lines,
                   r"frame %#010x: mapped by 2 pages of 1 phys_block" % f)
    pc.expect_line("shared: A's page", lines,
                   r"  A \(endpoint %d\) 0x20002000 in 0x20000000-0x20010000 rw-s anon  "
                   r"phys_region 0x[0-9a-f]+  PTE %s P W U.*" % (ep["A"], pte_re(f)))
    d = pc.expect_line("shared: D's page", lines,
                       r"  D \(endpoint %d\) (%s) in (%s)-(%s) rw-s shared  "
                       r"phys_region 0x[0-9a-f]+  PTE %s P W U.*" % (ep["D"], HEX, HEX, HEX,
                                                                     pte_re(f)))
    gdbtest.expect_equal("shared: D's page is 0x2000 into its region",
                         int(d.group(1), 16) - int(d.group(2), 16), 0x2000)
    pc.expect_line("shared: the block's list agrees", lines,
                   r"  block list: 2 phys_regions, agrees with the page maps")

    gdbtest.expect_equal("pdir: what it is", named(text, "pdir"),
                         ["frame %#010x: no region maps it; it is:" % vals["pdir"],
                          "  page directory of A (endpoint %d)" % ep["A"]])
    gdbtest.expect_equal("ptab: what it is", named(text, "ptab"),
                         ["frame %#010x: no region maps it; it is:" % vals["ptab"],
                          "  page table of A (endpoint %d) for PDE 0x081 (0x20400000-0x207fffff)"
                          % ep["A"]])
    lines = named(text, "slab")
    pc.expect_line("slab: a slab page", lines,
                   r"  a slab page of VM's: objects of \d+ bytes, \d+ of \d+ in use")
    gdbtest.expect_equal("cached: held by the cache only", named(text, "cached")[1:],
                         ["  held by the cache only: cached block id 7 of endpoint %d, page 1: "
                          "phys_block %s refcount 1 cacheref 1"
                          % (ep["E"], re.search(r"phys_block (0x[0-9a-f]+)",
                                                 "".join(named(text, "cached"))).group(1))])


def check_corrupt(text, procs, vals):
    lines = named(text, "a1")
    pc.expect_line("corrupt PTE: A's page says the PTE maps another frame", lines,
                   r"  A \(endpoint %d\) 0x20001000 in .*  PTE %s P W U.* DISAGREES: the PTE "
                   r"maps frame %#010x" % (procs["A"][0], pte_re(vals["a0"]), vals["a0"]))
    pc.expect_line("corrupt PTE: D's page still agrees", lines,
                   r"  D \(endpoint %d\) .*  PTE %s P W U( A)?( D)?" % (procs["D"][0],
                                                                       pte_re(vals["a1"])))
    lines = named(text, "cow2")
    pc.expect_line("cut list: the page maps still find both", lines,
                   r"frame %#010x: mapped by 2 pages of 1 phys_block" % vals["cow"])
    pc.expect_line("cut list: disagreement", lines,
                   r"  block list: 1 phys_region; DISAGREES with the page maps:")
    pc.expect_line("cut list: the cut-off phys_region is named", lines,
                   r"    phys_region 0x[0-9a-f]+ is in a page map but not on the list")
    pc.expect_line("cut list: refcount against the list", lines,
                   r"    refcount 2 less cacheref 0 is not the 1 on the list")


def check_sample(blocks):
    frames = frames_sample()
    gdbtest.expect_equal("sample: vm phys ran on every frame", sorted(blocks), frames)
    nfree = 0
    for f, (free, lines) in sorted(blocks.items()):
        said_free = "  free (the allocator's free map has it)" in lines
        if said_free != free:
            gdbtest.fail("vm phys %#x: says free: %s, phys_frame_free: %s\n%s"
                         % (f, said_free, free, "\n".join(lines)))
        if any("nobody owns it" in line or line.startswith("@@error") for line in lines):
            gdbtest.fail("vm phys %#x: %s" % (f, "\n".join(lines)))
        if not lines or not lines[0].startswith("frame %#010x: " % f):
            gdbtest.fail("vm phys %#x: first line %r" % (f, lines[:1]))
        nfree += free
    print("ok: sample: %d frames, %d free: vm phys agrees with phys_frame_free, "
          "and names every frame in use" % (len(frames), nfree))
    kinds = {}
    for f, (_, lines) in blocks.items():
        for line in lines[1:]:
            word = re.sub(r"[ :(].*", "", line.strip())
            kinds[word] = kinds.get(word, 0) + 1
    for want in ("page", "phys_block", "reserved", "VM's", "a", "free", "held"):
        if want not in kinds:
            gdbtest.fail("sample: no frame of kind %r (kinds %r)" % (want, kinds))
    print("ok: sample: every kind of frame seen: %s" % sorted(kinds))


main()
