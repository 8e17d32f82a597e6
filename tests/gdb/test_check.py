#!/usr/bin/env python3
"""gdb.check: `vm check` (VM's consistency check done from memory by the
scripts) against VM's own view.

- Healthy scenarios stopped at a checkpoint: 0 findings, and the frames
  it counts free, slab and page tables equal what VM says
  (phys_free_pages(), slab_pages(), vm_stats.pagetables); VM's own
  sanity_check() finds nothing either.
- Memory corrupted from GDB (a refcount, a PTE, the free bitmap, a
  counter, a region tree's balance): the specific finding appears, and
  sanity_check() agrees something is wrong.
- A leak injected with --inject-leak=1: exactly one leak run, the one
  VM's check prints.

    test_check.py BUILD_DIR
"""
import os
import re

import gdbtest
from gdbtest import HERE, expect_equal, fail

SUMMARY = re.compile(
    r"^vm check: (\d+) findings? \((\d+) frames: free (\d+), regions (\d+), slab (\d+), "
    r"page tables (\d+), cache (\d+), VM (\d+), reserved (\d+)\)$")

HEALTHY = [("check-fork.scn", "forked"), ("check-cache.scn", "cached"),
           ("check-share.scn", "shared"), ("smoke.scn", "here")]

# Python run inside GDB: $pr, $pb, $va, $frame: the first resident page of
# process A (its record, block, address and frame); $pte_pa: the physical
# address of its PTE.
PICK = ("python exec(\"from vmscope import utils, memory\\n"
        "vmp = utils.find_proc('A')\\n"
        "v, pr = next(iter(utils.pages(vmp)))\\n"
        "gdb.set_convenience_variable('pr', pr.address)\\n"
        "gdb.set_convenience_variable('pb', pr['ph'])\\n"
        "gdb.set_convenience_variable('va', v)\\n"
        "f = int(pr['ph']['phys'])\\n"
        "gdb.set_convenience_variable('frame', f)\\n"
        "ph = memory.phys_reader()\\n"
        "pde = ph.u32(int(vmp['vm_pt']['pt_dir_phys']) + 4 * (v >> 22))\\n"
        "gdb.set_convenience_variable('pte_pa', (pde & ~0xfff) + 4 * ((v >> 12) & 0x3ff))\\n"
        "\")")


def scn(name):
    return os.path.join(HERE, name)


def summary(text):
    for line in text.splitlines():
        m = SUMMARY.match(line)
        if m:
            return [int(x) for x in m.groups()]
    fail("no vm check summary in:\n" + text)


def value(text, marker):
    """The value GDB printed after `echo @@marker\\n` and a print."""
    lines = text.splitlines()
    i = lines.index("@@" + marker)
    for line in lines[i + 1:]:  # VM's own check prints before the value
        m = re.match(r"^\$\d+ = (\d+)", line)
        if m:
            return int(m.group(1))
    fail("no value after %s:\n%s" % (marker, "\n".join(lines[i:])))


def findings(text):
    """vm check's finding lines (kind: text), between the markers."""
    out = []
    for line in gdbtest.section(text, "@@check", "@@checkend"):
        if SUMMARY.match(line) or line.startswith(" "):
            continue
        out.append(line)
    return out


def check_cmds():
    return ["echo @@check\\n", "vm check", "echo @@checkend\\n",
            "echo @@sanity\\n", "print sanity_check()"]


def healthy(build):
    for name, cp in HEALTHY:
        text = gdbtest.at_checkpoint(build, scn(name), cp, check_cmds() + [
            "echo @@free\\n", "print phys_free_pages()",
            "echo @@slab\\n", "print slab_pages()",
            "echo @@pt\\n", "print vm_stats.pagetables",
            "echo @@cachepages\\n", "print cache_stats.pages",
        ])
        s = summary(text)
        expect_equal("%s: findings" % name, (s[0], findings(text)), (0, []))
        expect_equal("%s: VM's own check" % name, value(text, "sanity"), 0)
        expect_equal("%s: free frames" % name, s[2], value(text, "free"))
        expect_equal("%s: slab pages" % name, s[4], value(text, "slab"))
        expect_equal("%s: page-table frames" % name, s[5], value(text, "pt"))
        if s[6] > value(text, "cachepages"):
            fail("%s: %d frames only the cache holds, but it holds %d pages"
                 % (name, s[6], value(text, "cachepages")))
        if sum(s[2:]) != s[1]:
            fail("%s: owners add up to %d of %d frames" % (name, sum(s[2:]), s[1]))
    print("ok: healthy scenarios")


# (what, GDB commands that break something, pattern one finding must match)
CORRUPTIONS = [
    ("refcount", ["set var $pb->refcount = $pb->refcount + 1"],
     r"^refcount: A: page 0x[0-9a-f]{8}: block 0x[0-9a-f]+ has refcount \d+, \d+ references"),
    ("pte cleared", ["set var *(unsigned int *)(hm.phys + $pte_pa) = 0"],
     r"^pte: A: page 0x[0-9a-f]{8}: PTE 0x00000000, VM has frame 0x[0-9a-f]+"),
    ("frame marked free",
     ["set var pm.freemap[$frame >> 17] |= 1u << (($frame >> 12) & 31)"],
     r"^overlap: frame 0x[0-9a-f]{8} is free \(free run at 0x[0-9a-f]+\) and also a region "
     r"page \(A at 0x[0-9a-f]+\)$"),
    ("page-table counter", ["set var vm_stats.pagetables = vm_stats.pagetables + 1"],
     r"^counter: \d+ page-table frames counted, \d+ recorded$"),
    ("region tree balance",
     ["set var vmproc[0].vm_regions_avl.root->balance = 2"],
     r"^avl: A: region tree: "),
    ("resident counter", ["set var vmproc[0].vm_pages.count = vmproc[0].vm_pages.count + 1"],
     r"^counter: A: \d+ resident pages recorded, the page map has \d+$"),
]


def corrupted(build):
    for what, cmds, pattern in CORRUPTIONS:
        text = gdbtest.at_checkpoint(build, scn("check-fork.scn"), "forked",
                                     [PICK] + cmds + check_cmds())
        got = findings(text)
        if not any(re.search(pattern, f) for f in got):
            fail("%s: no finding matching %r in:\n%s" % (what, pattern, "\n".join(got)))
        n = summary(text)[0]
        if n != len(got) or n == 0:
            fail("%s: summary says %d findings, %d printed" % (what, n, len(got)))
        if value(text, "sanity") == 0:
            fail("%s: vm check found %d, VM's own check nothing" % (what, n))
        print("ok: %s: %s (VM's check: %d)" % (what, got[0], value(text, "sanity")))


def leak(build):
    text = gdbtest.at_checkpoint(build, scn("check-leak.scn"), "leaked", check_cmds(),
                                 vm_args=["--inject-leak=1"])
    got = findings(text)
    leaks = [f for f in got if f.startswith("leak: ")]
    expect_equal("injected leak: findings", (len(got), len(leaks)), (1, 1))
    vm = [line[len("sanity: "):] for line in text.splitlines()
          if line.startswith("sanity: leak: ")]
    expect_equal("injected leak: the run VM's check reports", leaks, vm)
    injected = re.search(r"inject: leaking frame (0x[0-9a-f]{8})", text)
    if not injected or not leaks[0].startswith("leak: frames %s-" % injected.group(1)):
        fail("the leak is not the injected frame:\n" + text)
    # The VM_SANITY build names where the frame was allocated; so do we.
    vm_site = re.search(r"^sanity:   frame 0x[0-9a-f]{8} allocated at (.*)$", text, re.M)
    ours = [line.strip() for line in gdbtest.section(text, "@@check", "@@checkend")
            if line.startswith("    allocated at ")]
    if vm_site:
        expect_equal("injected leak: allocation site", ours, ["allocated at " + vm_site.group(1)])


def main():
    build = gdbtest.build_dir()
    healthy(build)
    corrupted(build)
    leak(build)
    print("gdb.check: all passed")


main()
