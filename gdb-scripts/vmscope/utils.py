"""What every module of the vmscope GDB scripts shares.

Types are looked up once and cached until GDB loads new objfiles (a
rebuilt vm, a core file, the i386 kernel). Commands derive from
VmCommand, which turns every failure into a gdb.GdbError with a clear
message (a memory read that fails names the address), never a Python
traceback. The walks here (processes, regions in address order, a
process's page map) are the ones several commands need.
"""
import struct

import gdb

from . import constants as C


class VmError(gdb.GdbError):
    """A failure the user sees as one line, without a traceback."""


class CachedType:
    """A type looked up on first use, forgotten when objfiles change."""

    _all = []

    def __init__(self, name):
        self.name = name
        self._type = None
        CachedType._all.append(self)

    def get(self):
        if self._type is None:
            try:
                self._type = gdb.lookup_type(self.name)
            except gdb.error:
                raise VmError("no type %s here: is this VM's binary, built with -g?" % self.name)
        return self._type

    @classmethod
    def clear_all(cls, event=None):
        for t in cls._all:
            t._type = None


gdb.events.new_objfile.connect(CachedType.clear_all)

vmproc_type = CachedType("struct vmproc")
vir_region_type = CachedType("struct vir_region")
phys_region_type = CachedType("struct phys_region")
phys_block_type = CachedType("struct phys_block")
radix_node_type = CachedType("struct radix_node")
uint32_type = CachedType("uint32_t")


def ptr_size():
    return gdb.lookup_type("void").pointer().sizeof


def ptr_fmt():
    """struct format of one pointer of the inferior."""
    return "<Q" if ptr_size() == 8 else "<I"


def u(v):
    """A gdb.Value (integer, enum or pointer) as a Python int."""
    if v.type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
        return int(v.cast(gdb.lookup_type("unsigned long")))
    return int(v)


def field_offset(t, name):
    """Byte offset of field name in struct type t."""
    for f in t.strip_typedefs().fields():
        if f.name == name:
            return f.bitpos // 8
    raise VmError("%s has no field %s: the scripts do not match this VM" % (t, name))


def symbol(name):
    """The value of VM's global or file-static variable name."""
    sym = gdb.lookup_global_symbol(name)
    if sym is None:
        sym = gdb.lookup_static_symbol(name)
    if sym is None:
        raise VmError("no symbol %s: load VM's binary (vm, or the i386 kernel) first" % name)
    try:
        return sym.value()
    except gdb.error as e:
        raise VmError("cannot read %s: %s (is VM running, or a core file loaded?)" % (name, e))


def read(addr, n):
    """n bytes of VM's own memory at addr."""
    try:
        return bytes(gdb.selected_inferior().read_memory(addr, n))
    except gdb.MemoryError:
        raise VmError("cannot read %d bytes of VM's memory at 0x%x" % (n, addr))


def deref(ptr, typ):
    """*(typ *)ptr, checked: a pointer that cannot be read is an error
    naming its address."""
    v = gdb.Value(ptr).cast(typ.pointer()).dereference()
    try:
        v.fetch_lazy()
    except gdb.MemoryError:
        raise VmError("cannot read %s at 0x%x" % (typ, ptr))
    return v


def cstring(chars):
    """A char array field as a Python string (up to its NUL)."""
    n = chars.type.strip_typedefs().range()[1] + 1
    raw = bytes(int(chars[i]) & 0xFF for i in range(n))
    return raw.split(b"\0", 1)[0].decode("latin-1")


# ---- processes ---------------------------------------------------------


def procs():
    """(slot, struct vmproc value) for every process in use."""
    table = symbol("vmproc")
    for i in range(C.VM_NR_PROCS):
        vmp = table[i]
        if int(vmp["vm_flags"]) & C.VMF_INUSE:
            yield i, vmp


def proc_name(vmp):
    return cstring(vmp["vm_name"])


def find_proc(spec):
    """The struct vmproc that spec names: an endpoint (decimal or 0x hex),
    a process name, or an expression of type struct vmproc or a pointer to
    one ($vm_proc("A"), &vmproc[3])."""
    spec = spec.strip()
    if not spec:
        raise VmError("which process? Give an endpoint, a name or an expression")
    try:
        ep = int(spec, 0)
    except ValueError:
        ep = None
    if ep is not None:
        for _, vmp in procs():
            if int(vmp["vm_endpoint"]) == ep:
                return vmp
        raise VmError("no such process: endpoint %d" % ep)
    found = [vmp for _, vmp in procs() if proc_name(vmp) == spec]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        eps = ", ".join(str(int(v["vm_endpoint"])) for v in found)
        raise VmError(
            "%d processes are called %s (endpoints %s): give the endpoint" % (len(found), spec, eps)
        )
    try:
        v = gdb.parse_and_eval(spec)
    except gdb.error:
        raise VmError("no such process: %s" % spec)
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR:
        v, t = v.dereference(), t.target().strip_typedefs()
    if t != vmproc_type.get().strip_typedefs():
        raise VmError("%s is a %s, not a process" % (spec, v.type))
    return v


# ---- regions: the AVL tree in address order -----------------------------


def avl_inorder(root_ptr, limit=1 << 20):
    """Node addresses of an AVL tree in key order (iterative; stops with an
    error on a cycle rather than looping)."""
    node_t = gdb.lookup_type("struct avl_node")
    stack, n, seen = [], u(root_ptr), 0
    while stack or n:
        while n:
            stack.append(n)
            n = u(deref(n, node_t)["left"])
            seen += 1
            if seen > limit:
                raise VmError("region tree has more than %d nodes: a cycle?" % limit)
        n = stack.pop()
        yield n
        n = u(deref(n, node_t)["right"])


def regions(vmp):
    """struct vir_region values of vmp in address order."""
    vr = vir_region_type.get()
    off = field_offset(vr, "node")
    for n in avl_inorder(vmp["vm_regions_avl"]["root"]):
        yield deref(n - off, vr)


def region_containing(vmp, addr):
    for r in regions(vmp):
        if int(r["vaddr"]) <= addr < int(r["vaddr"]) + int(r["length"]):
            return r
        if int(r["vaddr"]) > addr:
            break
    return None


def region_end(r):
    return int(r["vaddr"]) + int(r["length"])


# ---- a process's page map (struct radix) --------------------------------


def radix_items(radix, first=0, last=0xFFFFFFFF):
    """(key, value address) of a struct radix in key order, keys in
    [first, last]: a process's pages are (virtual page number, struct
    phys_region *). Reads each node whole."""
    height = int(radix["height"])
    root = u(radix["root"])
    if height == 0 or root == 0:
        return
    node_t = radix_node_type.get()
    slot_off = field_offset(node_t, "slot")
    psize, fmt = ptr_size(), ptr_fmt()
    fan, bits = C.RADIX_FANOUT, C.RADIX_BITS

    def walk(node, level, base):
        raw = read(node + slot_off, fan * psize)
        shift = bits * (level - 1)
        for i in range(fan):
            p = struct.unpack_from(fmt, raw, i * psize)[0]
            if not p:
                continue
            key = base | (i << shift)
            span_last = key | ((1 << shift) - 1)
            if span_last < first or key > last:
                continue
            if level == 1:
                yield key, p
            else:
                yield from walk(p, level - 1, key)

    yield from walk(root, height, 0)


def pages(vmp, start=0, end=1 << 32):
    """(virtual address, struct phys_region value) of vmp's resident
    pages in [start, end)."""
    if end <= start:
        return
    pr_t = phys_region_type.get()
    for key, p in radix_items(vmp["vm_pages"], start >> C.VM_PAGE_SHIFT, (end - 1) >> C.VM_PAGE_SHIFT):
        yield key << C.VM_PAGE_SHIFT, deref(p, pr_t)


def block_mappings(pb):
    """Number of region references to phys_block pb (refcount less the
    cache's references), as VM counts mappings."""
    return int(pb["refcount"]) - int(pb["cacheref"])


# ---- names ---------------------------------------------------------------

# Short names of mem types, as vmstat -r prints them (by MT_ constant).
MEMTYPE_SHORT = {
    "MT_ANON": "anon",
    "MT_ANON_CONTIG": "contig",
    "MT_DIRECTPHYS": "phys",
    "MT_SHARED": "shared",
    "MT_CACHE": "cache",
}


def memtype_short(mt_id):
    for name in C.MT:
        if getattr(C, name) == mt_id:
            return MEMTYPE_SHORT.get(name, name[3:].lower())
    return "type%d" % mt_id


def flag_names(value, family, prefix):
    """[A | B | 0x40] for the bits of value, named from a constants family
    (masks, names ending in MASK, are skipped)."""
    names, rest = [], value
    for name in family:
        bit = getattr(C, name)
        if name.endswith("MASK") or bit == 0 or bit & (bit - 1):
            continue
        if rest & bit:
            names.append(name if prefix is None else name[len(prefix):])
            rest &= ~bit
    if rest:
        names.append("0x%x" % rest)
    return names


def region_mode(flags):
    return "%s%s%s%s" % (
        "r" if flags & C.VR_READABLE else "-",
        "w" if flags & C.VR_WRITABLE else "-",
        "x" if flags & C.VR_EXEC else "-",
        "s" if flags & C.VR_SHARED else "p",
    )


def call_names():
    """{index: name} of VM's calls, named as vmstat -s names them
    (VM_SHM_UNMAP: shm_unmap)."""
    out = {}
    for name in C.CALLS:
        if name in C.CALLRANGE:
            continue
        out[getattr(C, name) - C.VM_RQ_BASE] = name[3:].lower()
    return out


# ---- commands ------------------------------------------------------------


class VmPrefix(gdb.Command):
    """Inspect VM's data structures from memory: a live vm, a core file, QEMU.

Commands: vm procs, vm regions PROC, vm pt PROC [VADDR], vm phys PADDR,
vm avl EXPR, vm slab, vm cache, vm stats, vm check.
PROC is an endpoint, a process name or an expression ($vm_proc("A")).
See docs/gdb.md."""

    def __init__(self):
        super().__init__("vm", gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)


class VmCommand(gdb.Command):
    """Base of the `vm ...` commands: subclasses set NAME and define
    run(argv); errors become one clear line. self.raw is the argument
    text as typed, for a PROC that is an expression ($vm_proc("A"):
    string_to_argv would drop its quotes)."""

    NAME = None
    NEEDS_VM = True  # False: works on any program (vm avl on a tree)

    def __init__(self):
        super().__init__(self.NAME, gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        self.raw = arg.strip()
        try:
            argv = gdb.string_to_argv(arg)
            if self.NEEDS_VM:
                require_vm()
            self.run(argv)
        except gdb.GdbError:
            raise
        except gdb.MemoryError as e:
            raise VmError("%s: cannot read memory: %s" % (self.NAME, e))
        except gdb.error as e:
            raise VmError("%s: %s" % (self.NAME, e))
        except KeyboardInterrupt:
            raise VmError("%s: interrupted" % self.NAME)
        except Exception as e:  # a bug in the scripts: still one line
            raise VmError("%s: internal error: %s: %s" % (self.NAME, type(e).__name__, e))

    def run(self, argv):
        raise NotImplementedError


def require_vm():
    """Fail clearly unless there is a booted VM to look at: a live vm
    process, a core file, or (QEMU) a target."""
    if gdb.selected_inferior().pid == 0:
        raise VmError("VM is not running: run it, attach to it (scripts/vm-gdb --pid PID) "
                      "or load a core file")
    symbol("vmproc")  # VM's binary is loaded
    if int(symbol("vm_kinfo")["mem_bytes"]) == 0:
        raise VmError("VM has not booted yet (vm_kinfo is empty): stop it later")


def parse_number(s, what):
    try:
        v = gdb.parse_and_eval(s)
        if v.type.strip_typedefs().code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
            v = v.address  # a structure stands for where it is
        if v is None:
            raise ValueError
        return u(v)
    except (gdb.error, ValueError):
        raise VmError("%s: not a number or expression: %s" % (what, s))


def out(text=""):
    gdb.write(text + "\n")
