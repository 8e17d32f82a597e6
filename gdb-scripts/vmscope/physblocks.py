"""vm phys PADDR: who references a physical frame.

The answer comes from VM's page maps: every resident page of every
process whose phys_block holds the frame, grouped by block, each with the
PTE the page tables have there (decoded as vm pt does). The block's own
list of references (firstregion -> next_ph_list) is walked too and
compared with what the page maps say. A frame no region maps is
classified from VM's other books: a page directory or page table, a slab
page, VM's own metadata, a reserved range, the cache, the free map.
"""
import struct

from . import constants as C
from . import memory, pagetable, utils
from .utils import VmError, out

LIST_LIMIT = 1 << 16  # a longer list is a cycle

slabheader_type = utils.CachedType("struct slabheader")
cached_block_type = utils.CachedType("struct cached_block")


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def pbf_words(flags):
    names = utils.flag_names(flags, C.PBF, "PBF_")
    return " ".join(n.lower() for n in names) if names else "-"


def kres_name(owner):
    for name in C.KRES:
        if getattr(C, name) == owner:
            return name[len("KRES_"):].lower()
    return "owner %d" % owner


# ---- what VM's page maps say ------------------------------------------------


def referencing_pages(frame):
    """{phys_block address: (block value, [(vmp, vaddr, phys_region)])}
    of every resident page, in any process, whose block holds frame."""
    found = {}
    for _, vmp in utils.procs():
        for v, pr in utils.pages(vmp):
            pb_addr = utils.u(pr["ph"])
            if pb_addr == 0:
                continue
            pb = utils.deref(pb_addr, utils.phys_block_type.get())
            if int(pb["phys"]) != frame:
                continue
            found.setdefault(pb_addr, (pb, []))[1].append((vmp, v, pr))
    return found


def block_list(pb):
    """Addresses of the phys_regions on pb's own list."""
    addrs, p = [], utils.u(pb["firstregion"])
    pr_t = utils.phys_region_type.get()
    while p:
        if len(addrs) >= LIST_LIMIT:
            raise VmError("phys_block %#x: more than %d references on its list: a cycle?"
                          % (utils.u(pb.address), LIST_LIMIT))
        addrs.append(p)
        p = utils.u(utils.deref(p, pr_t)["next_ph_list"])
    return addrs


def describe_pr(pr):
    """'A (endpoint 1024) 0x20000000 in 0x20000000-0x20010000 rw-p anon'
    for a phys_region, read through its parent region."""
    r = pr["parent"].dereference()
    vmp = r["parent"].dereference()
    return "%s %#010x in %s" % (pagetable.proc_label(vmp), int(pr["vaddr"]),
                                pagetable.region_label(r))


def pte_words(reader, vmp, v, frame):
    try:
        pte = pagetable.pte_at(reader, vmp, v)
    except VmError as e:
        return "PTE unreadable: %s" % e
    if pte is None:
        return "no page table"
    text = "PTE %#010x %s" % (pte, pagetable.entry_flags(pte, big_ok=False))
    if not pagetable.is_present(pte):
        return text + " (not present: mapped on the next fault)"
    if pagetable.frame_of(pte) != frame:
        return text + " DISAGREES: the PTE maps frame %#010x" % pagetable.frame_of(pte)
    return text


def print_blocks(reader, frame, found):
    for pb_addr, (pb, refs) in found.items():
        out("phys_block %#x: frame %#010x refcount %d cacheref %d flags %s"
            % (pb_addr, int(pb["phys"]), int(pb["refcount"]), int(pb["cacheref"]),
               pbf_words(int(pb["flags"]))))
        for vmp, v, pr in refs:
            r = pr["parent"].dereference()
            out("  %s %#010x in %s  phys_region %#x  %s"
                % (pagetable.proc_label(vmp), v, pagetable.region_label(r),
                   utils.u(pr.address), pte_words(reader, vmp, v, frame)))
        listed = block_list(pb)
        mapped = [utils.u(pr.address) for _, _, pr in refs]
        problems = []
        only_list = [a for a in listed if a not in mapped]
        only_map = [a for a in mapped if a not in listed]
        for a in only_list:
            pr = utils.deref(a, utils.phys_region_type.get())
            problems.append("phys_region %#x (%s) is on the list but in no page map"
                            % (a, describe_pr(pr)))
        for a in only_map:
            problems.append("phys_region %#x is in a page map but not on the list" % a)
        if len(listed) != len(set(listed)):
            problems.append("the list has a phys_region twice")
        if int(pb["refcount"]) - int(pb["cacheref"]) != len(listed):
            problems.append("refcount %d less cacheref %d is not the %d on the list"
                            % (int(pb["refcount"]), int(pb["cacheref"]), len(listed)))
        if problems:
            out("  block list: %s; DISAGREES with the page maps:" % plural(len(listed), "phys_region"))
            for p in problems:
                out("    " + p)
        else:
            out("  block list: %s, agrees with the page maps" % plural(len(listed), "phys_region"))


# ---- what else a frame can be ------------------------------------------------


def pagetable_owners(reader, frame):
    """What the page tables say the frame is: ['page directory of A (...)',
    'page table of A (...) for PDE 0x080 (0x20000000-0x203fffff)']."""
    owners = []
    for _, vmp in utils.procs():
        pdir = int(vmp["vm_pt"]["pt_dir_phys"])
        if pdir == 0:
            continue
        if pdir == frame:
            owners.append("page directory of %s" % pagetable.proc_label(vmp))
        for i, pde in pagetable.user_tables(reader, pdir):
            if pagetable.frame_of(pde) == frame:
                owners.append("page table of %s for PDE %#05x (%#010x-%#010x)"
                              % (pagetable.proc_label(vmp), i, i << 22, ((i + 1) << 22) - 1))
    return owners


def slab_owner(reader, frame):
    try:
        sh = slabheader_type.get()
    except VmError:
        return None
    raw = reader.read(frame, sh.sizeof)
    magic = int.from_bytes(raw[utils.field_offset(sh, "magic"):][:4], "little")
    phys = int.from_bytes(raw[utils.field_offset(sh, "phys"):][:4], "little")
    if magic != C.SLAB_MAGIC or phys != frame:
        return None

    def u16(name):
        return int.from_bytes(raw[utils.field_offset(sh, name):][:2], "little")

    return "a slab page of VM's: objects of %d bytes, %d of %d in use" % (
        u16("size"), u16("nused"), u16("nobjs"))


def alloc_state():
    try:
        return utils.symbol("pm")
    except VmError:
        return None


def is_free(pm, frame):
    """Whether the allocator's free map has frame free (None: unknown)."""
    if pm is None:
        return None
    f = frame >> C.VM_PAGE_SHIFT
    if f >= int(pm["nframes"]):
        return False
    word = utils.read(utils.u(pm["freemap"]) + (f // 32) * 4, 4)
    return bool((int.from_bytes(word, "little") >> (f % 32)) & 1)


def self_owner(pm, frame):
    if pm is None:
        return None
    base, n = int(pm["self_base"]), int(pm["self_pages"])
    if base <= frame < base + (n << C.VM_PAGE_SHIFT):
        return "VM's own metadata (the allocator's maps, %d pages from %#010x)" % (n, base)
    return None


def reserved_owner(frame):
    ki = utils.symbol("vm_kinfo")
    slots = ki["reserved"].type.strip_typedefs().range()[1] + 1
    for i in range(min(int(ki["nr_reserved"]), slots)):
        r = ki["reserved"][i]
        base, length = int(r["base"]), int(r["len"])
        if base <= frame < base + length:
            return "reserved for the %s: %#010x-%#010x" % (
                kres_name(int(r["owner"])), base, base + length - 1)
    return None


def cache_holders(frame):
    """Cached blocks that hold frame: ['block id 42 of endpoint 1025,
    page 0: phys_block 0x... refcount 1 cacheref 1']."""
    try:
        cache = utils.symbol("cache")
        cb_t = cached_block_type.get()
    except VmError:
        return []
    pb_off = utils.field_offset(cb_t, "pb")
    psize, fmt = utils.ptr_size(), utils.ptr_fmt()
    holders, b, seen = [], utils.u(cache["oldest"]), 0
    while b:
        seen += 1
        if seen > LIST_LIMIT:
            raise VmError("the cache's age list is longer than %d: a cycle?" % LIST_LIMIT)
        cb = utils.deref(b, cb_t)
        n = int(cb["pages"])
        raw = utils.read(b + pb_off, n * psize) if n else b""
        for i in range(n):
            p = struct.unpack_from(fmt, raw, i * psize)[0]
            if not p:
                continue
            pb = utils.deref(p, utils.phys_block_type.get())
            if int(pb["phys"]) == frame:
                holders.append("cached block id %d of endpoint %d, page %d: phys_block %#x "
                               "refcount %d cacheref %d"
                               % (int(cb["id"]), int(cb["owner"]), i, p, int(pb["refcount"]),
                                  int(pb["cacheref"])))
        b = utils.u(cb["newer"])
    return holders


def classify(reader, frame):
    """Lines saying what a frame no region maps is."""
    lines = ["%s" % o for o in pagetable_owners(reader, frame)]
    s = slab_owner(reader, frame)
    if s:
        lines.append(s)
    pm = alloc_state()
    m = self_owner(pm, frame)
    if m:
        lines.append(m)
    res = reserved_owner(frame)
    if res:
        lines.append(res)
    cached = cache_holders(frame)
    for c in cached:
        lines.append("held by the cache only: " + c)
    free = is_free(pm, frame)
    if free:
        lines.append("free (the allocator's free map has it)")
    return lines, free


class VmPhys(utils.VmCommand):
    """Who references a physical frame.

Usage: vm phys PADDR

PADDR is a physical address (any byte of the frame). For every process's
resident pages whose phys_block holds that frame: the phys_block (address,
refcount, cacheref, flags), then one line per phys_region referencing it:
process and endpoint, virtual address, the region (start-end, mode, mem
type), the phys_region's address and the PTE there, decoded as vm pt
does. The block's own list (firstregion -> next_ph_list) is checked
against the page maps; a disagreement is printed.

A frame no region maps is named from VM's other books: page directory or
page table of a process, a slab page, VM's own metadata, a reserved range
(kernel, device), a block held by the cache only, or free; otherwise
"nobody owns it (a leak?)".

Examples:
    vm phys 0x3a000
    vm phys $pa"""

    NAME = "vm phys"

    def run(self, argv):
        if not argv:
            raise VmError("usage: vm phys PADDR")
        pa = utils.parse_number(self.raw, "PADDR")
        reader = memory.phys_reader()
        if pa < 0 or pa >= reader.size():
            raise VmError("physical address %#x is beyond the machine's memory (%d MB, up to %#x)"
                          % (pa, reader.size() >> 20, reader.size() - 1))
        frame = pa & ~pagetable.PAGE_MASK
        found = referencing_pages(frame)
        if found:
            npages = sum(len(refs) for _, refs in found.values())
            out("frame %#010x: mapped by %s of %s"
                % (frame, plural(npages, "page"), plural(len(found), "phys_block")))
            print_blocks(reader, frame, found)
            if is_free(alloc_state(), frame):
                out("  BUT the allocator's free map has it free")
            return
        lines, _ = classify(reader, frame)
        if not lines:
            out("frame %#010x: no region maps it; nobody owns it (a leak?)" % frame)
            return
        out("frame %#010x: no region maps it; it is:" % frame)
        for line in lines:
            out("  " + line)


COMMANDS = [VmPhys]
