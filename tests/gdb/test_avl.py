#!/usr/bin/env python3
"""gdb.avl: `vm avl` draws and checks region trees.

Fixtures (tests/gdb/avl_fixtures.c, built with VM's vm/avl.c): every sound
tree must give `tree ok` with the node count and height the program
computed by itself, drawn in key order with exactly the regions the
program made; every broken tree must give exactly its findings, naming
the node the program broke. Then a real VM at a scenario's checkpoint:
`vm avl A` must list the regions `dump A` prints, in that order, and find
a balance factor broken by hand.

    test_avl.py BUILD_DIR
"""
import os
import re
import subprocess

import gdbtest as T

SOUND = ["fx_empty", "fx_one", "fx_ascending", "fx_random", "fx_deep"]
# Their region arrays in avl_fixtures.c (a removed region has length 0).
ARRAYS = {
    "fx_one": "one_regions",
    "fx_ascending": "ascending_regions",
    "fx_random": "random_regions",
    "fx_deep": "deep_regions",
}
DRAW_LIMIT = 200  # avl.DRAW_LIMIT: fx_large must be cut there

LINE = re.compile(
    r"^[ |.`-]*(0x[0-9a-f]{8}) \[(0x[0-9a-f]{8}), (0x[0-9a-f]{8,9})\) \S+ bal (0|[+-]\d+) "
    r"node (0x[0-9a-f]+)(  <-- !)?$"
)


def mark(name):
    return ["echo @@%s\\n" % name]


def block(out, name):
    return T.section(out, "@@" + name, "@@end")


def drawn(lines):
    """(key, vaddr, end, marked, node) of each drawn line."""
    got = []
    for line in lines:
        m = LINE.match(line)
        if m:
            got.append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16),
                        bool(m.group(6)), int(m.group(5), 16)))
    return got


def values(out, tag):
    """{name: [ints]} of the lines `@@tag name v...` printed."""
    res = {}
    for line in out.splitlines():
        if line.startswith("@@%s " % tag):
            words = line.split()
            res[words[1]] = [int(w, 0) for w in words[2:]]
    return res


def fixtures(build):
    prog = os.path.join(build, "tests", "gdb", "avl_fixtures")
    if not os.path.exists(prog):
        T.fail("no %s: build it first" % prog)
    cmds = ["source %s" % os.path.join(build, "vm-gdb.py"), "break fixtures_ready",
            "break corrupted_ready", "run"]
    for name in SOUND:
        cmds += mark(name) + ["vm avl -a %s" % name, "echo @@end\\n"]
        cmds.append('printf "@@expect %s %%lu %%d\\n", (unsigned long)%s_expect.count, '
                    "%s_expect.height" % (name, name, name))
    for name, arr in ARRAYS.items():
        cmds.append(
            'python a = gdb.parse_and_eval("%s"); print("@@regions %s " + " ".join('
            '"%%d %%d" %% (int(a[i]["vaddr"]), int(a[i]["length"])) '
            'for i in range(a.type.range()[1] + 1) if int(a[i]["length"])))' % (arr, name))
    cmds += mark("fx_large") + ["vm avl fx_large", "echo @@end\\n"]
    cmds.append('printf "@@expect fx_large %lu %d\\n", (unsigned long)fx_large_expect.count, '
                "fx_large_expect.height")
    cmds += mark("errors") + ["vm avl main", "vm avl", "vm avl -z fx_one", "echo @@end\\n"]
    cmds += ["continue"]
    broken = ["fx_badbalance", "fx_badorder", "fx_badparent", "fx_overlap", "fx_badcount",
              "fx_cycle", "fx_badkey"]
    for name in broken:
        cmds += mark(name) + ["vm avl %s" % name, "echo @@end\\n"]
    for name in ["fx_badbalance", "fx_badorder", "fx_badorder_at2", "fx_badparent",
                 "fx_overlap", "fx_cycle", "fx_badkey"]:
        at = name if name.endswith("_at2") else name + "_at"
        cmds.append('printf "@@at %s %%lu %%u\\n", (unsigned long)%s, %s->key' % (name, at, at))
    for name in ["fx_badparent", "fx_cycle"]:
        cmds.append('printf "@@root %s %%lu\\n", (unsigned long)%s.root' % (name, name))
    # The API `vm check` uses: findings as strings, nothing printed.
    cmds += [
        "python from vmscope.avl import validate",
        'python print("@@validate fx_random", len(validate(gdb.parse_and_eval("fx_random"))))',
        'python print("@@validate fx_badcount", '
        'len(validate(gdb.parse_and_eval("&fx_badcount"))))',
        'python print("@@validate fx_badkey", '
        'len(validate(gdb.parse_and_eval("fx_badkey"), regions=False)))',
        'python f = validate(gdb.parse_and_eval("fx_badbalance"))[0]; '
        'print("@@finding", f.node, f.key, isinstance(f, str))',
    ]
    out = T.gdb(build, cmds, [prog], check=False)
    for line in out.splitlines():
        if line.startswith("avl_fixtures: "):
            T.fail("the fixtures are not what they claim: " + line)
    expect = values(out, "expect")
    regions = values(out, "regions")

    for name in SOUND:
        lines = block(out, name)
        count, height = expect[name]
        T.expect_equal("%s summary" % name, lines[-1:],
                       ["tree ok: %d node%s, height %d" % (count, "" if count == 1 else "s",
                                                           height)])
        got = drawn(lines)
        T.expect_equal("%s: one drawn line a node" % name, len(got), count)
        keys = [g[0] for g in got]
        T.expect_equal("%s: drawn in key order" % name, keys, sorted(set(keys)))
        if name in regions:
            flat = regions[name]
            want = sorted((flat[i], flat[i] + flat[i + 1]) for i in range(0, len(flat), 2))
            T.expect_equal("%s: drawn regions are the program's" % name,
                           [(g[1], g[2]) for g in got], want)
            T.expect_equal("%s: key is vaddr" % name, keys, [g[1] for g in got])

    lines = block(out, "fx_large")
    count, height = expect["fx_large"]
    T.expect_equal("fx_large summary", lines[-1], "tree ok: %d nodes, height %d" % (count, height))
    got = drawn(lines)
    T.expect_equal("fx_large: drawing cut at the limit", len(got), DRAW_LIMIT)
    T.expect_equal("fx_large: the lowest keys drawn, in order",
                   [g[0] for g in got], [0x01000000 + i * 0x1000 for i in range(DRAW_LIMIT)])
    T.expect_equal("fx_large: says what it cut", lines[-2].startswith(
        "... %d more nodes not drawn" % (count - DRAW_LIMIT)), True)

    errs = block(out, "errors")
    T.expect_equal("a wrong type is named", any("main has type int (void)" in e for e in errs),
                   True)
    T.expect_equal("no argument: usage", any(e.startswith("usage: vm avl") for e in errs), True)
    T.expect_equal("unknown option", any("unknown option -z" in e for e in errs), True)

    at = values(out, "at")
    root = values(out, "root")

    def node(name):
        a, k = at[name]
        return "node 0x%x (key 0x%08x)" % (a, k)

    def findings(name):
        lines = block(out, name)
        return [l for l in lines if l.startswith("node ") or l.startswith("tree")][:-1], lines

    def marked(lines):
        return [g[4] for g in drawn(lines) if g[3]]

    f, lines = findings("fx_badbalance")
    T.expect_equal("fx_badbalance findings",
                   [l.startswith(node("fx_badbalance") + ": balance factor ") for l in f], [True])
    T.expect_equal("fx_badbalance marks its node", marked(lines), [at["fx_badbalance"][0]])
    T.expect_equal("fx_badbalance summary", lines[-1].startswith("tree BROKEN: 1 finding "), True)

    f, lines = findings("fx_badorder")
    T.expect_equal("fx_badorder: two key order findings",
                   [": key order: comes after " in l for l in f], [True, True])
    for name in ("fx_badorder", "fx_badorder_at2"):
        T.expect_equal("fx_badorder names %s" % name,
                       any(node(name) in l for l in f), True)
    T.expect_equal("fx_badorder summary", lines[-1].startswith("tree BROKEN: 2 findings "), True)

    f, lines = findings("fx_badparent")
    T.expect_equal("fx_badparent findings", [l.split(", but")[0] for l in f],
                   ["%s: parent link 0x%x" % (node("fx_badparent"), root["fx_badparent"][0])])
    T.expect_equal("fx_badparent marks its node", marked(lines), [at["fx_badparent"][0]])

    f, lines = findings("fx_overlap")
    T.expect_equal("fx_overlap findings", [l.split(" overlaps")[0] for l in f],
                   ["%s: region [0x%08x, 0x%08x)" % (node("fx_overlap"), at["fx_overlap"][1],
                                                     at["fx_overlap"][1] + 0x3000)])
    T.expect_equal("fx_overlap: says overlaps", "overlaps the next region" in f[0], True)

    f, lines = findings("fx_badcount")
    T.expect_equal("fx_badcount findings", f, ["tree: count is 32 but 31 nodes were found"])

    f, lines = findings("fx_cycle")
    T.expect_equal("fx_cycle findings", [l.split(" points")[0] for l in f],
                   ["%s: left child 0x%x" % (node("fx_cycle"), root["fx_cycle"][0])])
    T.expect_equal("fx_cycle: says cycle", "(a cycle)" in f[0], True)
    T.expect_equal("fx_cycle: walk ends, every node once", len(drawn(lines)), 31)

    f, lines = findings("fx_badkey")
    T.expect_equal("fx_badkey findings", f, ["%s: key is not the region's start 0x%08x"
                                             % (node("fx_badkey"), at["fx_badkey"][1] - 0x10)])

    v = values(out, "validate")
    T.expect_equal("validate: sound tree", v["fx_random"], [0])
    T.expect_equal("validate: pointer to a broken tree", v["fx_badcount"], [1])
    T.expect_equal("validate: keys only ignores vaddr", v["fx_badkey"], [0])
    fl = [l for l in out.splitlines() if l.startswith("@@finding ")]
    T.expect_equal("validate: a Finding names its node",
                   fl, ["@@finding %d %d True" % tuple(at["fx_badbalance"])])


def scenario(build):
    scn = os.path.join(T.HERE, "avl.scn")
    vm = os.path.join(build, "vm")
    p = subprocess.run([vm, "run", scn], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=T.env(), timeout=120)
    if p.returncode != 0:
        T.fail("vm run avl.scn exited %d:\n%s" % (p.returncode, p.stdout))
    dump = [(int(a, 16), int(b, 16)) for a, b in
            re.findall(r"^  0x([0-9a-f]+)-0x([0-9a-f]+) ", p.stdout, re.M)]
    if len(dump) < 5:
        T.fail("avl.scn's dump has too few regions:\n" + p.stdout)
    break_root = ('python t = __import__("vmscope.utils").utils.find_proc("A")["vm_regions_avl"]; '
                  'gdb.execute("set var ((struct avl_tree *)%d)->root->balance = 2" '
                  '% int(t.address))')
    out = T.at_checkpoint(build, scn, "avl", mark("byname") + ["vm avl A", "echo @@end\\n"]
                          + mark("byexpr") + ["vm avl -n vmproc[0].vm_regions_avl",
                                              "echo @@end\\n"]
                          + [break_root, 'printf "@@root %lu\\n", '
                             '(unsigned long)vmproc[0].vm_regions_avl.root']
                          + mark("broken") + ["vm avl -n 1024", "echo @@end\\n"], check=False)
    lines = block(out, "byname")
    T.expect_equal("A: header names the process", "of process A (endpoint 1024)" in lines[0],
                   True)
    got = drawn(lines)
    T.expect_equal("A: drawn regions are dump A's, in order", [(g[1], g[2]) for g in got], dump)
    T.expect_equal("A: summary", lines[-1].startswith("tree ok: %d nodes, height " % len(dump)),
                   True)
    lines = block(out, "byexpr")
    T.expect_equal("vmproc[0].vm_regions_avl: ok", lines[-1].startswith("tree ok: %d nodes"
                                                                        % len(dump)), True)
    lines = block(out, "broken")
    r = [int(l.split()[1]) for l in out.splitlines() if l.startswith("@@root ")]
    f = [l for l in lines if l.startswith("node ")]
    T.expect_equal("a broken balance factor in VM is named",
                   any(l.startswith("node 0x%x " % r[0]) and ": balance factor +2" in l
                       for l in f), True)
    T.expect_equal("broken summary", lines[-1].startswith("tree BROKEN: "), True)


def main():
    build = T.build_dir()
    fixtures(build)
    scenario(build)
    print("gdb.avl: all passed")


main()
