"""VM's slab allocator read from memory: `vm slab` (the caches, as
`vmstat -m` prints them) and `vm slab ADDR` (which object an address is
in, and in the VM_SANITY build its type and where it was allocated).

A slab page starts with a struct slabheader (vm/slab.c): magic, object
size, stride, a bitmap of objects in use and list links; the objects
follow at SLAB_OBJ0, each `stride` bytes apart (in the VM_SANITY build
an object is followed by a struct slab_trailer). The caches are the
static caches[] of slab.c, each with a partial and a full list.

Raw reads: walks that visit every object of VM (vm check) read structures
as bytes and unpack them (RawStruct) rather than field by field through
gdb.Value, which is orders of magnitude slower.
"""
import struct

import gdb

from . import constants as C
from . import utils
from .utils import VmError, out, u



def slab_list(name):
    """A member of slab.c's enum slab_list (SLAB_PARTIAL, SLAB_FULL), from
    VM's debug info: no header has it for gen_constants.py."""
    try:
        return int(gdb.parse_and_eval(name))
    except gdb.error:
        raise VmError("no %s in VM's debug info: is this VM's binary, built with -g?" % name)


class RawStruct:
    """A struct type read as bytes: read(addr) gives {field: int} for its
    integer and pointer fields (arrays and nested structs are left out;
    offset() and size() let a caller unpack them)."""

    _FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}

    def __init__(self, type_name):
        self.type_name = type_name
        self._ct = utils.CachedType(type_name)
        self._key = None

    def _layout(self):
        t = self._ct.get().strip_typedefs()
        if self._key is not t:
            fields = []
            for f in t.fields():
                ft = f.type.strip_typedefs()
                if ft.code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_ENUM,
                               gdb.TYPE_CODE_BOOL, gdb.TYPE_CODE_CHAR) and f.bitsize == 0:
                    fmt = self._FMT.get(ft.sizeof)
                    if fmt:
                        fields.append((f.name, f.bitpos // 8, "<" + fmt))
            self._fields, self._size, self._key = fields, t.sizeof, t
            self._offsets = {f.name: f.bitpos // 8 for f in t.fields()}
        return self._fields

    def size(self):
        self._layout()
        return self._size

    def offset(self, name):
        self._layout()
        if name not in self._offsets:
            raise VmError("%s has no field %s: the scripts do not match this VM"
                          % (self.type_name, name))
        return self._offsets[name]

    def unpack(self, raw, at=0):
        return {name: struct.unpack_from(fmt, raw, at + off)[0]
                for name, off, fmt in self._layout()}

    def read(self, addr):
        if addr == 0:
            raise VmError("NULL %s" % self.type_name)
        return self.unpack(utils.read(addr, self.size()))


slabheader = RawStruct("struct slabheader")
avl_node = RawStruct("struct avl_node")


def trailer_type():
    """struct slab_trailer of the VM_SANITY build, or None."""
    try:
        return gdb.lookup_type("struct slab_trailer")
    except gdb.error:
        return None


def obj0():
    """Offset of the first object in a slab page (SLAB_OBJ0)."""
    return (slabheader.size() + 15) & ~15


def stride_of(size):
    t = trailer_type()
    return (size + (t.sizeof if t else 0) + C.SLAB_GRAIN - 1) & ~(C.SLAB_GRAIN - 1)


def objs_per_page(size):
    n = (C.VM_PAGE_SIZE - obj0()) // stride_of(size)
    return min(n, C.SLAB_BITWORDS * 64)


def caches():
    """(size, struct slabcache value) of every cache, by size."""
    arr = utils.symbol("caches")
    lo, hi = arr.type.strip_typedefs().range()
    for k in range(lo, hi + 1):
        yield k * C.SLAB_GRAIN, arr[k]


def slab_pages(limit=1 << 22):
    """(size, list, header address, header dict) of every slab page on the
    caches' lists; a broken list raises VmError naming the page."""
    lists = (slab_list("SLAB_PARTIAL"), slab_list("SLAB_FULL"))
    for size, c in caches():
        for lst in lists:
            s, n = u(c["list"][lst]), 0
            while s:
                h = slabheader.read(s)
                yield size, lst, s, h
                s = h["next"]
                n += 1
                if n > limit:
                    raise VmError("the %u-byte cache's list does not end: a cycle?" % size)


def directmap():
    return u(utils.symbol("directmap"))


def used_bits(addr):
    """The in-use bitmap of the slab header at addr, as one integer."""
    raw = utils.read(addr + slabheader.offset("used"), 8 * C.SLAB_BITWORDS)
    words = struct.unpack("<%dQ" % C.SLAB_BITWORDS, raw)
    return sum(w << (64 * i) for i, w in enumerate(words))


# ---- allocation sites (sanity/site.h) -----------------------------------

_call_names = None


def call_name(call):
    """site_call_name: the name VM gives a call number."""
    global _call_names
    if call == 0:
        return "boot"
    try:
        table = utils.symbol("vm_calls")
        i = call - C.VM_RQ_BASE
        if 0 <= i <= C.VM_RQ_LAST - C.VM_RQ_BASE:
            p = u(table[i]["name"])
            if p:
                return table[i]["name"].string()
    except (VmError, gdb.error):
        if _call_names is None:
            _call_names = utils.call_names()
        name = _call_names.get(call - C.VM_RQ_BASE)
        if name:
            return name
    return "unknown call"


def proc_name_of(ep):
    for _, vmp in utils.procs():
        if int(vmp["vm_endpoint"]) == ep:
            return utils.proc_name(vmp)
    return None


def site_format(site):
    """A struct vm_site value as VM's site_format prints it: "vm/x.c:12
    (call 4: pagefault by A, ep 0x400, at 0x40001000)"."""
    where = u(site["where"])
    if where == 0:
        return "unknown"
    try:
        text = site["where"].string()
    except gdb.error:
        text = "0x%x" % where
    ctx = site["ctx"]
    seq = int(ctx["seq"])
    if seq == 0:
        return "%s (boot)" % text
    ep = int(ctx["ep"]) & 0xFFFFFFFF
    who = proc_name_of(int(ctx["ep"]))
    s = "%s (call %u: %s by %s%sep 0x%x" % (text, seq, call_name(int(ctx["call"])),
                                           who or "", ", " if who else "", ep)
    if int(ctx["addr"]):
        s += ", at 0x%08x" % int(ctx["addr"])
    return s + ")"


def frame_sites(frame):
    """struct site_pair value of a frame (VM_SANITY build), or None."""
    try:
        pm = utils.symbol("pm")
        if "site" not in [f.name for f in pm.type.strip_typedefs().fields()]:
            return None
        if u(pm["site"]) == 0 or frame >= int(pm["nframes"]):
            return None
        return pm["site"][frame]
    except VmError:
        return None


# ---- which object an address is in --------------------------------------


def describe(addr):
    """Lines that say which slab object addr (a pointer into VM's direct
    map, or a physical address) is in."""
    base = directmap()
    mem = int(utils.symbol("vm_kinfo")["mem_bytes"])
    if base <= addr < base + mem:
        pa, va = addr - base, addr
    elif addr < mem:
        pa, va = addr, base + addr
    else:
        raise VmError("0x%x is neither in VM's view of memory (0x%x+0x%x) nor a physical "
                      "address" % (addr, base, mem))
    frame = pa & ~C.VM_PAGE_MASK
    h = slabheader.read(base + frame)
    if h["magic"] != C.SLAB_MAGIC or h["phys"] != frame:
        return ["0x%x (physical 0x%08x) is not in a slab page (frame 0x%08x has no slab "
                "header)" % (va, pa, frame)]
    off = pa & C.VM_PAGE_MASK
    head = "0x%x (physical 0x%08x) is in slab page 0x%08x (%u-byte objects, %u of %u in use)" % (
        va, pa, frame, h["size"], h["nused"], h["nobjs"])
    if off < obj0():
        return [head, "  in the page's header (offset %u)" % off]
    stride = h["stride"] or 1
    i, at = (off - obj0()) // stride, (off - obj0()) % stride
    if i >= h["nobjs"]:
        return [head, "  past the last object (offset %u of the page)" % off]
    used = (used_bits(base + frame) >> i) & 1
    obj = base + frame + obj0() + i * stride
    lines = [head]
    where = "offset %u" % at if at < h["size"] else "its trailer (offset %u)" % at
    lines.append("  object %u at 0x%x, %s: %s" % (i, obj, where, "in use" if used else "free"))
    tt = trailer_type()
    if tt is not None:
        t = utils.deref(obj + h["size"], tt)
        tname = t["type"].string() if u(t["type"]) else "unnamed"
        lines.append("  type %s" % tname)
        lines.append("  allocated at %s" % site_format(t["sites"]["alloc"]))
        if not used:
            lines.append("  freed at %s" % site_format(t["sites"]["freed"]))
    return lines


# ---- the command ----------------------------------------------------------


def stats():
    """(size, pages, objects, inuse) of the caches that have pages, as
    slab_stats_at gives them."""
    rows = []
    for size, c in caches():
        pages = int(c["pages"])
        if pages == 0:
            continue
        rows.append((size, pages, pages * objs_per_page(size), int(c["inuse"])))
    return rows


class VmSlab(utils.VmCommand):
    """VM's slab caches, as vmstat -m prints them; or which object an address is in.

Usage: vm slab
       vm slab ADDR

Without ADDR: one line per object size (OBJS room, ACTIVE in use, USE,
OBJ SIZE, PAGES, OBJ/PAGE, CACHE SIZE) and the totals, read from slab.c's
caches[] (works on a core file).
ADDR is a pointer into VM's view of memory (a struct phys_region *, say)
or a physical address: prints the slab page, the object's index, whether
it is in use, and in the VM_SANITY build its type and allocation site.

Example:
  (gdb) vm slab
  (gdb) vm slab vmproc[1].vm_regions_avl.root"""

    NAME = "vm slab"

    def run(self, argv):
        if argv:
            for line in describe(utils.parse_number(self.raw, "vm slab")):
                out(line)
            return
        rows = stats()
        objs = sum(r[2] for r in rows)
        inuse = sum(r[3] for r in rows)
        pages = sum(r[1] for r in rows)
        used_bytes = sum(r[3] * r[0] for r in rows)
        total_bytes = pages * C.VM_PAGE_SIZE
        sizes = [r[0] for r in rows]
        out(" Active / Total Objects (%% used)    : %d / %d (%.1f%%)"
            % (inuse, objs, 100.0 * inuse / objs if objs else 0.0))
        out(" Active / Total Size (%% used)       : %.2fK / %.2fK (%.1f%%)"
            % (used_bytes / 1024, total_bytes / 1024,
               100.0 * used_bytes / total_bytes if total_bytes else 0.0))
        out(" Caches / Pages                     : %d / %d" % (len(rows), pages))
        out(" Minimum / Average / Maximum Object : %dB / %.0fB / %dB"
            % (min(sizes) if sizes else 0, used_bytes / inuse if inuse else 0.0,
               max(sizes) if sizes else 0))
        out()
        out("%8s %8s %4s %8s %6s %8s %10s %s"
            % ("OBJS", "ACTIVE", "USE", "OBJ SIZE", "PAGES", "OBJ/PAGE", "CACHE SIZE", "NAME"))
        for size, pg, ob, act in rows:
            use = 100 * act // ob if ob else 0
            out("%8u %8u %3u%% %7uB %6u %8u %9uK size-%u"
                % (ob, act, use, size, pg, ob // pg if pg else 0,
                   pg * C.VM_PAGE_SIZE // 1024, size))
        out("%8u %8u %3u%% %8s %6u %8s %9uK total"
            % (objs, inuse, 100 * inuse // objs if objs else 0, "", pages, "",
               total_bytes // 1024))


COMMANDS = [VmSlab]
