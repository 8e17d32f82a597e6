"""docs/gdb.md's examples are real: every `(gdb) CMD` shown there is run
at tests/gdb/state.scn's checkpoint, and what the page shows must be
what GDB prints (host addresses masked; a line `...` in the page stands
for lines left out; a line ending in `...}` or `...` for the rest of a
line; lines marked `# VM_SANITY build` only in that build). Physical
addresses in the page are the plain build's; the VM_SANITY build keeps
more metadata and places frames elsewhere, so there the test is skipped.

    python3 test_docs.py BUILD_DIR
"""
import os
import re
import sys

import gdbtest

BUILD = gdbtest.build_dir()
DOC = os.path.join(gdbtest.SRC, "docs", "gdb.md")


def cache_has(flag):
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        return re.search(r"^%s:BOOL=ON$" % flag, f.read(), re.M) is not None


def examples():
    """(command, expected lines) of every `(gdb) CMD` in an indented block."""
    out, cur = [], None
    for line in open(DOC).read().splitlines():
        if not line.strip():  # a blank line inside a block, or after it
            if cur is not None:
                cur[1].append("")
            continue
        if not line.startswith("    "):
            cur = None
            continue
        text = line[4:]
        if text.startswith("(gdb) "):
            cmd = text[6:]
            cur = None
            if "#" in cmd:  # needs a stop elsewhere: not at the checkpoint
                continue
            cur = (cmd, [])
            out.append(cur)
        elif cur is not None:
            cur[1].append(text)
    for _, want in out:
        while want and not want[-1]:
            want.pop()
    return out


def norm(line):
    line = gdbtest.mask_addresses(line.rstrip())
    return re.sub(r"^\$\d+ = ", "$N = ", line)


def matches(got, want):
    """want against got: lines equal, `...` skips lines, a trailing `...`
    or `...}` in a line matches any rest of it."""
    g = 0
    skipping = False
    for w in want:
        if w.strip() == "...":
            skipping = True
            continue
        m = re.match(r"^(.*?)(\.\.\.\}?)$", w)
        ok = (lambda x: x.startswith(m.group(1))) if m else (lambda x: x == w)
        while g < len(got) and not ok(got[g]):
            if not skipping:
                return "expected %r, GDB printed %r" % (w, got[g])
            g += 1
        if g == len(got):
            return "expected %r, not printed" % w
        g += 1
        skipping = False
    if g != len(got) and not skipping:
        return "GDB printed more: %r" % got[g:]
    return None


def main():
    if cache_has("VM_SANITY"):
        print("skipped: VM_SANITY build (the page shows the plain build's frames)")
        return
    ex = examples()
    if len(ex) < 10:
        gdbtest.fail("only %d examples found in %s" % (len(ex), DOC))
    cmds = []
    for i, (cmd, _) in enumerate(ex):
        cmds += ["echo @@%d\\n" % i, cmd]
    cmds.append("echo @@%d\\n" % len(ex))
    out = gdbtest.at_checkpoint(BUILD, os.path.join(gdbtest.HERE, "state.scn"), "state", cmds)
    for i, (cmd, want) in enumerate(ex):
        got = [norm(l) for l in gdbtest.section(out, "@@%d" % i, "@@%d" % (i + 1))]
        want = [norm(w) for w in want if not w.rstrip().endswith("# VM_SANITY build")]
        why = matches(got, want)
        if why:
            gdbtest.fail("docs/gdb.md: (gdb) %s: %s\nGDB printed:\n%s" % (cmd, why, "\n".join(got)))
        print("ok: (gdb) %s" % cmd)


main()
