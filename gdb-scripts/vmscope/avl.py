"""`vm avl`: draw an AVL tree (a process's regions) and check it from memory.

VM keeps each process's regions in an intrusive AVL tree (vm/avl.h): a
struct avl_node inside every struct vir_region, keyed by the region's
start address. This module reads such a tree straight from memory, one
raw read per node, and checks every invariant VM's own avl_check checks
(key order, balance factors, parent links, the count) plus what only a
region tree has (key == vaddr, no overlap between neighbours).

Nothing here trusts the tree: the walk is iterative, remembers every node
it has seen (a child pointer back to a seen node is a cycle, reported and
not followed), stops after max_nodes nodes, and a node that cannot be read
is a finding, not an exception.

For other modules (`vm check`):

    walk_tree(tree, regions=True, max_nodes=MAX_NODES) -> TreeWalk
    validate(tree, regions=True, max_nodes=MAX_NODES) -> [Finding]

tree is a gdb.Value: a struct avl_tree, a struct vmproc (its
vm_regions_avl), or a pointer to either. A Finding is a str (one line,
naming the node by address and key) with .node (node address or None)
and .key (the node's key or None).
"""
import struct

import gdb

from . import utils
from .utils import VmError, field_offset, out, u

# Stop walking after this many nodes: a corrupted tree may point into
# garbage that never repeats.
MAX_NODES = 1 << 21
# Lines `vm avl` draws unless -a is given; the rest is still checked.
DRAW_LIMIT = 200

avl_node_type = utils.CachedType("struct avl_node")
avl_tree_type = utils.CachedType("struct avl_tree")


class Finding(str):
    """One problem of a tree: the line to print, and the node it is about
    (.node: its address, .key: its key; both None for the whole tree)."""

    def __new__(cls, text, node=None, key=None):
        s = super().__new__(cls, text)
        s.node = node
        s.key = key
        return s


class Node:
    """One node as read from memory. For a region tree, vaddr and length
    of the struct vir_region around it (None otherwise)."""

    __slots__ = ("addr", "left", "right", "parent", "key", "balance", "vaddr", "length",
                 "depth", "side", "up", "height", "hl", "hr")

    def name(self):
        return "node 0x%x (key 0x%08x)" % (self.addr, self.key)


class TreeWalk:
    """What walk_tree found.

    tree_addr: address of the struct avl_tree (None if not in memory)
    root, count: the tree's fields
    nodes: Node list in the order the links give (in-order: keys should
        ascend); each has depth (root 0), side ("root", "left", "right")
        and height (of its subtree as the links give it, cut links left out)
    height: of the whole tree (0 when empty)
    findings: what the walk itself met (cycles, unreadable nodes, the
        node limit); validate adds the invariants
    complete: False when max_nodes cut the walk
    regions: whether nodes were read as struct vir_region
    """

    def __init__(self):
        self.tree_addr = None
        self.root = 0
        self.count = 0
        self.nodes = []
        self.height = 0
        self.findings = []
        self.complete = True
        self.regions = False


class _Layout:
    """Where a node's fields are, read once per walk from the types."""

    def __init__(self, regions):
        nt = avl_node_type.get()
        psize = utils.ptr_size()
        pfmt = "Q" if psize == 8 else "I"
        self.fields = []  # (name, offset from the read's start, struct format)
        base = 0
        if regions:
            vr = utils.vir_region_type.get()
            base = field_offset(vr, "node")
            for name in ("vaddr", "length"):
                size = _field_type(vr, name).sizeof
                self.fields.append((name, field_offset(vr, name), "I" if size == 4 else "Q"))
        for name, fmt in (("left", pfmt), ("right", pfmt), ("parent", pfmt), ("key", "I"),
                          ("balance", "b")):
            self.fields.append((name, base + field_offset(nt, name), fmt))
        self.base = base  # node address - base = where a read starts
        self.size = max(off + struct.calcsize(fmt) for _, off, fmt in self.fields)
        self.regions = regions

    def read(self, addr):
        """The Node at addr, or None if its memory cannot be read."""
        try:
            raw = bytes(gdb.selected_inferior().read_memory(addr - self.base, self.size))
        except (gdb.MemoryError, gdb.error, OverflowError, ValueError):
            return None
        n = Node()
        n.addr = addr
        n.vaddr = n.length = None
        for name, off, fmt in self.fields:
            setattr(n, name, struct.unpack_from("<" + fmt, raw, off)[0])
        return n


def _field_type(t, name):
    for f in t.strip_typedefs().fields():
        if f.name == name:
            return f.type
    raise VmError("%s has no field %s: the scripts do not match this VM" % (t, name))


def tree_of(value):
    """(struct avl_tree value, struct vmproc value or None) for a value that
    is a tree, a process, or a pointer to either; None for another type."""
    t = value.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR:
        target = t.target().strip_typedefs()
        if target.code != gdb.TYPE_CODE_STRUCT:
            return None
        if u(value) == 0:
            raise VmError("%s is a NULL pointer" % value.type)
        value, t = value.dereference(), target
    if t.code != gdb.TYPE_CODE_STRUCT:
        return None
    if t.tag == "avl_tree":
        return value, None
    if t.tag == "vmproc":
        return value["vm_regions_avl"], value
    return None


def walk_tree(tree, regions=True, max_nodes=MAX_NODES):
    """Walk tree (see tree_of for what it may be) by its links, without
    recursion; returns a TreeWalk. Raises VmError only when the tree's own
    root and count cannot be read."""
    got = tree_of(tree)
    if got is None:
        raise VmError("%s is not a struct avl_tree or struct vmproc" % tree.type)
    tree = got[0]
    w = TreeWalk()
    w.regions = regions
    if tree.address is not None:
        w.tree_addr = u(tree.address)
    try:
        w.root = u(tree["root"])
        w.count = int(tree["count"])
    except gdb.MemoryError:
        raise VmError("cannot read struct avl_tree at 0x%x" % (w.tree_addr or 0))
    layout = _Layout(regions)
    if w.root == 0:
        return w

    def finding(text, n=None):
        w.findings.append(Finding(text, n.addr if n else None, n.key if n else None))

    root = layout.read(w.root)
    if root is None:
        finding("root 0x%x cannot be read" % w.root)
        return w
    root.depth, root.side, root.up = 0, "root", None
    seen = {root.addr}
    # Each frame: [node, stage]; stage 0 = go left, 1 = visit and go right,
    # 2 = done (compute height). A cut child is absent (height 0).
    stack = [[root, 0, 0, 0]]  # node, stage, height(left), height(right)

    def child(n, side):
        a = n.left if side == "left" else n.right
        if a == 0:
            return None
        if a in seen:
            finding("%s: %s child 0x%x points back at a node already in the tree (a cycle): "
                    "not followed" % (n.name(), side, a), n)
            return None
        if len(seen) >= max_nodes:
            if w.complete:
                finding("more than %d nodes: walk stopped (a cycle through garbage?)"
                        % max_nodes)
            w.complete = False
            return None
        c = layout.read(a)
        if c is None:
            finding("%s: %s child 0x%x cannot be read" % (n.name(), side, a), n)
            return None
        seen.add(a)
        c.depth, c.side, c.up = n.depth + 1, side, n.addr
        return c

    while stack:
        f = stack[-1]
        n = f[0]
        if f[1] == 0:
            f[1] = 1
            c = child(n, "left")
            if c is not None:
                stack.append([c, 0, 0, 0])
        elif f[1] == 1:
            f[1] = 2
            w.nodes.append(n)
            c = child(n, "right")
            if c is not None:
                stack.append([c, 0, 0, 0])
        else:
            stack.pop()
            n.hl, n.hr = f[2], f[3]
            n.height = 1 + max(n.hl, n.hr)
            if stack:
                parent = stack[-1]
                if n.side == "left":
                    parent[2] = n.height
                else:
                    parent[3] = n.height
    w.height = root.height
    return w


def check_walk(w):
    """The findings of a TreeWalk: the walk's own, then every invariant."""
    found = list(w.findings)

    def finding(text, n=None):
        found.append(Finding(text, n.addr if n else None, n.key if n else None))

    by_addr = {n.addr: n for n in w.nodes}
    prev = None
    for n in w.nodes:
        if n.side == "root":
            if n.parent != 0:
                finding("%s: root has parent 0x%x (should be NULL)" % (n.name(), n.parent), n)
        else:
            p = by_addr[n.up]
            if n.parent != p.addr:
                finding("%s: parent link 0x%x, but it is the %s child of %s"
                        % (n.name(), n.parent, n.side, p.name()), n)
        hl, hr = n.hl, n.hr
        diff = hr - hl
        if n.balance != diff:
            finding("%s: balance factor %s, but height(right) - height(left) = %d - %d = %s"
                    % (n.name(), _signed(n.balance), hr, hl, _signed(diff)), n)
        if diff > 1 or diff < -1:
            finding("%s: unbalanced: height(right) - height(left) = %s" % (n.name(), _signed(diff)),
                    n)
        if prev is not None and prev.key >= n.key:
            finding("%s: key order: comes after %s in the tree but its key is not greater"
                    % (n.name(), prev.name()), n)
        if w.regions:
            end = n.vaddr + n.length
            if n.key != n.vaddr:
                finding("%s: key is not the region's start 0x%08x" % (n.name(), n.vaddr), n)
            if n.length == 0:
                finding("%s: region [0x%08x, 0x%08x) is empty" % (n.name(), n.vaddr, end), n)
            if end > 1 << 32:
                finding("%s: region 0x%08x + 0x%x wraps around the address space"
                        % (n.name(), n.vaddr, n.length), n)
            if prev is not None and prev.vaddr < n.vaddr < prev.vaddr + prev.length:
                finding("%s: region [0x%08x, 0x%08x) overlaps the next region [0x%08x, 0x%08x) "
                        "at %s" % (prev.name(), prev.vaddr, prev.vaddr + prev.length, n.vaddr,
                                   end, n.name()), prev)
        prev = n
    if w.complete and len(w.nodes) != w.count:
        finding("tree: count is %d but %d nodes were found" % (w.count, len(w.nodes)))
    return found


def validate(tree, regions=True, max_nodes=MAX_NODES):
    """Findings of tree (a gdb.Value: struct avl_tree, struct vmproc or a
    pointer to either) as a list of Finding strings; [] when it is sound.
    regions: the nodes are struct vir_region's (key == vaddr, no overlap
    are checked too). Prints nothing."""
    return check_walk(walk_tree(tree, regions, max_nodes))


def _signed(v):
    return "%+d" % v if v else "0"


def summary(w, findings):
    """The last line of `vm avl`: `tree ok: 7 nodes, height 3`, or
    `tree BROKEN: 2 findings (7 nodes walked, height 3)`."""
    if findings:
        return "tree BROKEN: %d finding%s (%d node%s walked, height %d)" % (
            len(findings), "" if len(findings) == 1 else "s", len(w.nodes),
            "" if len(w.nodes) == 1 else "s", w.height)
    return "tree ok: %d node%s, height %d" % (len(w.nodes), "" if len(w.nodes) == 1 else "s",
                                              w.height)


def _size(n):
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return "%d%s" % (n >> shift, unit)
    return "%d" % n


def _label(n, w, marked):
    text = "0x%08x" % n.key
    if w.regions:
        text += " [0x%08x, 0x%08x) %s" % (n.vaddr, n.vaddr + n.length, _size(n.length))
    text += " bal %s node 0x%x" % (_signed(n.balance), n.addr)
    if n.addr in marked:
        text += "  <-- !"
    return text


def draw_lines(w, findings=(), limit=DRAW_LIMIT):
    """The tree drawn sideways, one node a line in key order (lowest at the
    top; a left child above its parent, a right child below), nodes with a
    finding marked `<-- !`, at most limit lines (None: all). Returns
    (lines, number of nodes left out)."""
    marked = {f.node for f in findings if getattr(f, "node", None) is not None}
    by_addr = {n.addr: n for n in w.nodes}
    # base[n]: what comes before n's connector. The link from a node up to
    # its parent is a bar in the column of the node's connector, on the
    # rows between the two: a left child's right subtree, a right child's
    # left subtree.
    base = {}
    for n in sorted(w.nodes, key=lambda n: n.depth):
        if n.up is None:
            base[n.addr] = ""
            continue
        p = by_addr[n.up]
        if p.up is None:
            base[n.addr] = ""
        else:
            bar = (p.side, n.side) in (("left", "right"), ("right", "left"))
            base[n.addr] = base[p.addr] + ("|   " if bar else "    ")
    connector = {"root": "", "left": ".-- ", "right": "`-- "}
    lines = []
    for n in w.nodes:
        if limit is not None and len(lines) >= limit:
            break
        lines.append(base[n.addr] + connector[n.side] + _label(n, w, marked))
    return lines, len(w.nodes) - len(lines)


# ---- vm avl --------------------------------------------------------------


def _resolve(spec):
    """(tree value, vmproc value or None, what to call it) for EXPR."""
    try:
        v = gdb.parse_and_eval(spec)
    except gdb.error:
        v = None
    if v is not None:
        got = tree_of(v)
        if got is not None:
            return got[0], got[1], spec
    # Not an expression of a tree's or process's type: a process name or
    # endpoint (find_proc also takes expressions, which failed above).
    try:
        vmp = utils.find_proc(spec)
    except VmError:
        if v is None or v.type.strip_typedefs().code == gdb.TYPE_CODE_INT:
            raise
        raise VmError("%s has type %s: give a struct avl_tree, a struct vmproc (or a pointer to "
                      "either), a process name or an endpoint" % (spec, v.type))
    return vmp["vm_regions_avl"], vmp, spec


def _owner(tree, vmp):
    """`process NAME (endpoint N)` when the tree is a process's regions."""
    if vmp is None and tree.address is not None:
        sym = gdb.lookup_global_symbol("vmproc")
        if sym is not None:
            try:
                table = sym.value()
                off = field_offset(utils.vmproc_type.get(), "vm_regions_avl")
                first = u(table.address)
                size = utils.vmproc_type.get().sizeof
                rel = u(tree.address) - off - first
                if rel >= 0 and rel % size == 0 and rel // size < table.type.sizeof // size:
                    vmp = table[rel // size]
            except (gdb.error, VmError):
                vmp = None
    if vmp is None:
        return ""
    return " of process %s (endpoint %d)" % (utils.proc_name(vmp), int(vmp["vm_endpoint"]))


class VmAvl(utils.VmCommand):
    """Draw an AVL tree (a process's regions) and check it from memory.

Usage: vm avl [-n] [-a] [-k] EXPR

EXPR is a struct avl_tree, a struct vmproc (its vm_regions_avl) or a
pointer to either; if EXPR is not an expression of one of those types, it
is a process: an endpoint (1024) or a name (A). A name that is also a C
variable of such a type means the variable.

The tree is drawn sideways in key (address) order, lowest at the top: a
left child is above its parent, a right child below (.-- / `--). Each line:
key, the region [vaddr, vaddr+length) and its size, the balance factor
(height(right) - height(left)) and the node's address; a node with a
finding is marked <-- !. Then every finding, one a line, naming the node
(address and key): key order, balance factors (equal to the real height
difference, within -1..1), parent links, the count, key == vaddr, empty or
wrapping regions, overlapping neighbours, cycles, unreadable nodes. Last, a
summary: `tree ok: 7 nodes, height 3` or `tree BROKEN: 2 findings (...)`.

  -n  check only, do not draw
  -a  draw every node (default: the first %d lines in key order; all
      nodes are checked either way)
  -k  keys only: the nodes are not in struct vir_region's (no region
      checks). VM's only AVL trees are region trees, so that is the default.

Examples:
  vm avl A
  vm avl 1024
  vm avl vmproc[0].vm_regions_avl
  vm avl -n &vmproc[3]"""

    NAME = "vm avl"
    NEEDS_VM = False  # any program's trees (the test fixtures)
    __doc__ = __doc__ % DRAW_LIMIT

    def invoke(self, arg, from_tty):
        # Options are parsed from the raw text: string_to_argv would eat the
        # quotes of an expression like $vm_proc("A").
        self._raw = arg
        super().invoke(arg, from_tty)

    def run(self, argv):
        words = self._raw.strip().split(None, 1)
        draw, limit, regions = True, DRAW_LIMIT, True
        while words and words[0].startswith("-") and len(words[0]) > 1:
            for ch in words[0][1:]:
                if ch == "n":
                    draw = False
                elif ch == "a":
                    limit = None
                elif ch == "k":
                    regions = False
                else:
                    raise VmError("vm avl: unknown option -%s (see help vm avl)" % ch)
            words = words[1].split(None, 1) if len(words) > 1 else []
        if not words:
            raise VmError("usage: vm avl [-n] [-a] [-k] EXPR (see help vm avl)")
        spec = " ".join(words)
        tree, vmp, what = _resolve(spec)
        w = walk_tree(tree, regions)
        findings = check_walk(w)
        where = " at 0x%x" % w.tree_addr if w.tree_addr is not None else ""
        out("%s tree%s%s: root 0x%x, count %d" % ("region" if regions else "AVL", where,
                                                   _owner(tree, vmp), w.root, w.count))
        if draw:
            lines, cut = draw_lines(w, findings, limit)
            for line in lines:
                out(line)
            if cut:
                last = w.nodes[-1]
                out("... %d more node%s not drawn (keys up to 0x%08x): vm avl -a %s draws all"
                    % (cut, "" if cut == 1 else "s", last.key, spec))
        for f in findings:
            out(f)
        out(summary(w, findings))


COMMANDS = [VmAvl]
