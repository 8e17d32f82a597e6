#!/usr/bin/env python3
"""gdb.slab_cache: `vm slab` and `vm cache` print what VM reports.

At the checkpoint of check-cache.scn (blocks yielded, got back, missed,
forgotten), `vm slab`'s rows equal slab_stats_at() called in VM, field by
field, and `vm cache`'s numbers equal cache_stats; the blocks are the ones
the scenario left, oldest first. `vm slab ADDR` names the object a region
is (in the VM_SANITY build with its type and allocation site).

    test_slab_cache.py BUILD_DIR
"""
import os
import re

import gdbtest
from gdbtest import HERE, expect_equal, fail

# slab_stats_at(i, st) for every i, into memory malloc'd in VM.
VM_SLAB = ("python exec(\"st = gdb.parse_and_eval('(struct slab_stats *) malloc(16)')\\n"
           "i = 0\\n"
           "while int(gdb.parse_and_eval('slab_stats_at(%d, (struct slab_stats *) %d)' "
           "% (i, int(st)))):\\n"
           "    s = st.dereference()\\n"
           "    gdb.write('VMSLAB %d %d %d %d\\\\n' % (int(s['size']), int(s['pages']), "
           "int(s['objects']), int(s['inuse'])))\\n"
           "    i += 1\\n"
           "\")")

# $freeobj: a free object of some slab page (the first clear bit).
FREE_OBJ = ("python exec(\"from vmscope import slab\\n"
            "for size, lst, a, h in slab.slab_pages():\\n"
            "    bits = slab.used_bits(a)\\n"
            "    free = [i for i in range(h['nobjs']) if not (bits >> i) & 1]\\n"
            "    if free:\\n"
            "        gdb.set_convenience_variable('freeobj', a + slab.obj0() + free[0] * h['stride'])\\n"
            "        break\\n"
            "\")")

ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)%\s+(\d+)B\s+(\d+)\s+(\d+)\s+(\d+)K size-(\d+)$")
TOTAL = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)%\s+(\d+)\s+(\d+)K total$")


def slab(build, text):
    rows = []
    for line in gdbtest.section(text, "@@slab", "@@slabend"):
        m = ROW.match(line)
        if m:
            objs, active, _, size, pages = (int(x) for x in m.groups()[:5])
            rows.append((size, pages, objs, active))
    vm = [tuple(int(x) for x in line.split()[1:]) for line in text.splitlines()
          if line.startswith("VMSLAB ")]
    if not vm:
        fail("VM reported no slab caches:\n" + text)
    expect_equal("vm slab rows = slab_stats_at (size, pages, objects, inuse)", rows, vm)
    tot = [TOTAL.match(line) for line in gdbtest.section(text, "@@slab", "@@slabend")]
    tot = [m for m in tot if m]
    if len(tot) != 1:
        fail("no total line in vm slab")
    t = [int(x) for x in tot[0].groups()]
    expect_equal("vm slab total (objects, inuse, pages)", (t[0], t[1], t[3]),
                 (sum(r[2] for r in vm), sum(r[3] for r in vm), sum(r[1] for r in vm)))
    expect_equal("vm slab total pages = slab_pages()", t[3], value(text, "slabpages"))


def value(text, marker):
    lines = text.splitlines()
    i = lines.index("@@" + marker)
    m = re.match(r"^\$\d+ = (\d+)", lines[i + 1])
    if not m:
        fail("no value after %s: %r" % (marker, lines[i + 1]))
    return int(m.group(1))


def cache(text):
    lines = gdbtest.section(text, "@@cache", "@@cacheend")
    nums = {}
    for line in lines:
        m = re.match(r"^\s*(\d+) (blocks held|K held|yields|hits|misses|evictions|forgets)", line)
        if m:
            nums[m.group(2)] = int(m.group(1))
    st = {}
    for f in ("blocks", "pages", "yields", "hits", "misses", "evictions", "forgets"):
        st[f] = value(text, "cs_" + f)
    expect_equal("vm cache = cache_stats",
                 [nums.get(k) for k in ("blocks held", "K held", "yields", "hits", "misses",
                                        "evictions", "forgets")],
                 [st["blocks"], st["pages"] * 4, st["yields"], st["hits"], st["misses"],
                  st["evictions"], st["forgets"]])
    expect_equal("the scenario's cache statistics (yields, hits, misses, forgets)",
                 (st["yields"], st["hits"], st["misses"], st["forgets"]), (4, 1, 1, 1))
    i = [k for k, line in enumerate(lines) if line.lstrip().startswith("AGE")]
    if not i:
        fail("no block table in vm cache:\n" + "\n".join(lines))
    blocks = []
    for line in lines[i[0] + 1:]:
        w = line.split()
        blocks.append((w[2], int(w[3], 16), int(w[4]), len(w[5:])))
    expect_equal("vm cache blocks, oldest first (name, id, pages)",
                 [b[:3] for b in blocks], [("A", 1, 2), ("C", 0x100000007, 3)])
    expect_equal("blocks' pages = cache_stats.pages", sum(b[2] for b in blocks), st["pages"])


def object_of(text, sanity):
    lines = gdbtest.section(text, "@@obj", "@@objend")
    if not lines or not re.search(r"is in slab page 0x[0-9a-f]{8} \(\d+-byte objects", lines[0]):
        fail("vm slab ADDR of a region:\n" + "\n".join(lines))
    if not re.search(r"object \d+ at 0x[0-9a-f]+, offset 0: in use", "\n".join(lines)):
        fail("vm slab ADDR: not an object in use:\n" + "\n".join(lines))
    if sanity:
        if "  type struct vir_region" not in lines or not any(
                re.match(r"  allocated at vm/region\.c:\d+ \(call \d+: mmap by [AC], ep 0x", x)
                for x in lines):
            fail("vm slab ADDR: no type or allocation site:\n" + "\n".join(lines))
    print("ok: vm slab ADDR: " + " / ".join(x.strip() for x in lines))
    free = gdbtest.section(text, "@@free", "@@freeend")
    if not any(": free" in x for x in free):
        fail("vm slab ADDR of a free object:\n" + "\n".join(free))
    print("ok: vm slab ADDR of a free object: " + " / ".join(x.strip() for x in free))


def main():
    build = gdbtest.build_dir()
    sanity = "VM_SANITY:BOOL=ON" in open(os.path.join(build, "CMakeCache.txt")).read()
    cmds = ["echo @@slab\\n", "vm slab", "echo @@slabend\\n", VM_SLAB,
            "echo @@slabpages\\n", "print slab_pages()",
            "echo @@cache\\n", "vm cache", "echo @@cacheend\\n"]
    for f in ("blocks", "pages", "yields", "hits", "misses", "evictions", "forgets"):
        cmds += ["echo @@cs_%s\\n" % f, "print cache_stats.%s" % f]
    # A region of C (slot 2), and the object after the last one in use in
    # its page (free: the 96-byte page is far from full here).
    cmds += ["echo @@obj\\n", "vm slab vmproc[2].vm_regions_avl.root", "echo @@objend\\n",
             FREE_OBJ, "echo @@free\\n", "vm slab $freeobj", "echo @@freeend\\n"]
    text = gdbtest.at_checkpoint(build, os.path.join(HERE, "check-cache.scn"), "cached", cmds)
    slab(build, text)
    cache(text)
    object_of(text, sanity)
    print("gdb.slab_cache: all passed")


main()
