"""Pretty-printers for VM's structures.

Each printer's to_string is a one-line summary with flags decoded by
name ([VR_READABLE | VR_WRITABLE]); the children are the structure's real
fields, so `print *r` still shows every raw value (and `print/r` the
plain structure). A region tree (struct avl_tree) shows its regions in
address order. Registered per objfile by register().
"""
import gdb
import gdb.printing

from . import constants as C
from . import utils


def _flags(value, family, prefix=None):
    return "[%s]" % " | ".join(utils.flag_names(value, family, prefix))


def _fields(val):
    for f in val.type.strip_typedefs().fields():
        if f.name is not None:
            yield f.name, val[f.name]


def _owner(vmp_ptr):
    """`A (ep 1024)` for a struct vmproc pointer, without failing."""
    try:
        if not utils.u(vmp_ptr):
            return "no process"
        vmp = vmp_ptr.dereference()
        return "%s (ep %d)" % (utils.proc_name(vmp), int(vmp["vm_endpoint"]))
    except gdb.error:
        return "process at 0x%x (unreadable)" % utils.u(vmp_ptr)


def _size(n):
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n and n % (1 << shift) == 0:
            return "%d%s" % (n >> shift, unit)
    return "%d" % n


class StructPrinter:
    """Summary plus the real fields as children."""

    def __init__(self, val):
        self.val = val

    def children(self):
        return _fields(self.val)

    def to_string(self):
        try:
            return self.summary()
        except gdb.error as e:
            return "(%s: %s)" % (self.val.type, e)


class VmprocPrinter(StructPrinter):
    def summary(self):
        v = self.val
        return "vmproc %s (ep %d) %s: %d regions, %d resident, brk 0x%x" % (
            utils.proc_name(v), int(v["vm_endpoint"]), _flags(int(v["vm_flags"]), C.VMF),
            int(v["vm_regions_avl"]["count"]), int(v["vm_pages"]["count"]), int(v["vm_brk"]))


class VirRegionPrinter(StructPrinter):
    def summary(self):
        v = self.val
        start, length, flags = int(v["vaddr"]), int(v["length"]), int(v["flags"])
        mt = v["memtype"]
        typ = utils.memtype_short(int(mt["id"])) if utils.u(mt) else "no type"
        return "vir_region 0x%08x-0x%08x (%s) %s %s %s resident %d of %s" % (
            start, start + length, _size(length), utils.region_mode(flags), typ,
            _flags(flags, C.VR), int(v["resident"]), _owner(v["parent"]))


class PhysRegionPrinter(StructPrinter):
    def summary(self):
        v = self.val
        ph = v["ph"]
        frame = "0x%08x" % int(ph["phys"]) if utils.u(ph) else "none"
        parent = v["parent"]
        who = _owner(parent["parent"]) if utils.u(parent) else "no region"
        return "phys_region %s 0x%08x -> frame %s" % (who, int(v["vaddr"]), frame)


class PhysBlockPrinter(StructPrinter):
    def summary(self):
        v = self.val
        refs, seen, pr = [], 0, v["firstregion"]
        while utils.u(pr) and seen < 8:
            p = pr.dereference()
            who = _owner(p["parent"]["parent"]) if utils.u(p["parent"]) else "?"
            refs.append("%s@0x%08x" % (who.split(" ")[0], int(p["vaddr"])))
            pr, seen = p["next_ph_list"], seen + 1
        if utils.u(pr):
            refs.append("...")
        return "phys_block frame 0x%08x refcount %d (cache %d) %s mapped by %s" % (
            int(v["phys"]), int(v["refcount"]), int(v["cacheref"]),
            _flags(int(v["flags"]), C.PBF), ", ".join(refs) or "nobody")


class MemTypePrinter(StructPrinter):
    def summary(self):
        v = self.val
        mt_id = int(v["id"])
        names = [n for n in C.MT if getattr(C, n) == mt_id]
        return "mem_type %s (%s)" % (v["name"].string(), names[0] if names else mt_id)


class AvlTreePrinter:
    """A region tree: its regions in address order."""

    LIMIT = 200

    def __init__(self, val):
        self.val = val

    def to_string(self):
        return "region tree: %d regions" % int(self.val["count"])

    def display_hint(self):
        return "array"

    def children(self):
        vr = utils.vir_region_type.get()
        off = utils.field_offset(vr, "node")
        for i, n in enumerate(utils.avl_inorder(self.val["root"])):
            if i == self.LIMIT:
                return
            yield "[%d]" % i, gdb.Value(n - off).cast(vr.pointer()).dereference()


def _call_name(n):
    for name in C.CALLS:
        if name not in C.CALLRANGE and getattr(C, name) == n:
            return name
    return None


# The union member of each call's arguments (include/vmscope/ipc.h).
MESSAGE_MEMBER = {
    "VM_MMAP": "m_mmap", "VM_MUNMAP": "m_munmap", "VM_SHM_UNMAP": "m_munmap",
    "VM_BRK": "m_brk", "VM_REMAP": "m_remap", "VM_YIELDBLOCKGETBLOCK": "m_yb",
    "VM_FORGETBLOCK": "m_forget", "VM_FORGETBLOCKS": "m_forget", "VM_GRANT": "m_grant",
    "VM_REVOKE": "m_grant", "VM_SAFEREVMAP": "m_grant", "VM_SAFECOPY": "m_safecopy",
    "VM_SAFEMAP": "m_safemap", "VM_SPAWN": "m_spawn", "VM_EXIT": "m_exit",
    "VM_FORK": "m_fork", "VM_EXEC": "m_exec", "VM_PAGEFAULT": "m_pagefault",
    "VM_QUERY": "m_query", "VM_SANITY": "m_sanity", "VM_INFO": "m_info",
    "VM_DS_PUBLISH": "m_ds", "VM_DS_RETRIEVE": "m_ds", "VM_DS_DELETE": "m_ds",
    "VM_DS_SUBSCRIBE": "m_ds", "VM_DS_CHECK": "m_ds",
}


def _endpoint(ep):
    names = {-2: "KERNEL", -3: "VM", -4: "NONE"}
    if ep in names:
        return names[ep]
    for _, vmp in utils.procs():
        if int(vmp["vm_endpoint"]) == ep:
            return "%d (%s)" % (ep, utils.proc_name(vmp))
    return str(ep)


class MessagePrinter:
    """A message: the call by name, the sender, and the arguments of that
    call (a reply, whose m_type is a result, shows the raw union)."""

    def __init__(self, val):
        self.val = val

    def call(self):
        return _call_name(int(self.val["m_type"]))

    def to_string(self):
        t = int(self.val["m_type"])
        name = self.call()
        src = _endpoint(int(self.val["m_source"]))
        if name:
            return "message %s from %s" % (name, src)
        return "message m_type %d from %s (a reply, or not a call)" % (t, src)

    def children(self):
        yield "m_source", self.val["m_source"]
        yield "m_type", self.val["m_type"]
        member = MESSAGE_MEMBER.get(self.call())
        if member:
            yield member, self.val[member]


class SlabHeaderPrinter(StructPrinter):
    def summary(self):
        v = self.val
        lists = {1: "partial", 2: "full"}
        bad = "" if int(v["magic"]) == C.SLAB_MAGIC else " BAD MAGIC 0x%x" % int(v["magic"])
        return "slab page 0x%08x: %d-byte objects (stride %d), %d of %d in use, %s list%s" % (
            int(v["phys"]), int(v["size"]), int(v["stride"]), int(v["nused"]), int(v["nobjs"]),
            lists.get(int(v["list"]), "no"), bad)


def build():
    pp = gdb.printing.RegexpCollectionPrettyPrinter("vmscope")
    pp.add_printer("vmproc", "^vmproc$", VmprocPrinter)
    pp.add_printer("vir_region", "^vir_region$", VirRegionPrinter)
    pp.add_printer("phys_region", "^phys_region$", PhysRegionPrinter)
    pp.add_printer("phys_block", "^phys_block$", PhysBlockPrinter)
    pp.add_printer("mem_type", "^mem_type$", MemTypePrinter)
    pp.add_printer("avl_tree", "^avl_tree$", AvlTreePrinter)
    pp.add_printer("message", "^message$", MessagePrinter)
    pp.add_printer("slabheader", "^slabheader$", SlabHeaderPrinter)
    return pp


def register(objfile):
    gdb.printing.register_pretty_printer(objfile, build(), replace=True)
