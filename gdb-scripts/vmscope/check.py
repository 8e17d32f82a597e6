"""`vm check`: VM's consistency check (vm/sanitycheck.c) done from memory
by the scripts themselves, so that it works on a core file of a VM that
crashed as well as on a live one, without calling into VM.

Every frame of the machine is claimed exactly once, as VM's physical
usage map does (sanity/physusage.c): reserved ranges, VM's own metadata
(pm.self_base), free frames (pm.freemap), slab pages (slab.c's cache
lists, cross-checked by scanning frames for slab headers), frames only
the cache holds, page directories and tables, and the frames of every
process's resident pages (one claim per phys_block; device blocks must
lie in reserved device memory). A frame claimed twice is an overlap,
one nobody claims a leak (reported as runs, worded as VM words them).

Structural checks: each phys_block's refcount against its list of
phys_regions, the cache's references and the page maps; every page
record inside its region of its process; region resident counts and the
per-process counters; PTEs against page records both ways; region trees
(avl.validate when avl.py is there, else a minimal check here); the
page-table counters.

Everything is read in bulk (a page table, the free bitmap, a structure
at a time) and unpacked in Python.
"""
import struct

from . import constants as C
from . import memory, slab, utils
from .cache import blocks as cache_blocks
from .slab import RawStruct
from .utils import VmError, out, u

phys_block = RawStruct("struct phys_block")
phys_region = RawStruct("struct phys_region")
vir_region = RawStruct("struct vir_region")

PAGE = C.VM_PAGE_SIZE
SHIFT = C.VM_PAGE_SHIFT

# Owners as VM names them (sanity/physusage.c owner_names), by PU_ value.
OWNER_NAMES = {
    C.PU_NONE: "nobody's",
    C.PU_FREE: "free",
    C.PU_KERNEL: "kernel memory",
    C.PU_DEVICE: "device memory",
    C.PU_VMSELF: "VM metadata",
    C.PU_SLAB: "a slab page",
    C.PU_PAGEDIR: "a page directory",
    C.PU_PAGETABLE: "a page table",
    C.PU_REGION: "a region page",
    C.PU_CACHE: "a cache block",
}


class Check:
    """One run of the check: the usage map and the findings."""

    def __init__(self):
        ki = utils.symbol("vm_kinfo")
        self.ki = ki
        self.mem = int(ki["mem_bytes"])
        self.nframes = self.mem >> SHIFT
        self.owner = bytearray(self.nframes)
        self.who = {}  # frame -> "A at 0x..." for single-frame claims
        self.findings = []
        self.phys = memory.phys_reader()
        self.blocks = {}  # phys_block address -> dict, one claim each
        self.mapped = {}  # phys_block address -> page records pointing at it
        self.cacherefs = {}  # phys_block address -> references from cached blocks
        self.prs = {}  # phys_region address -> dict, each read once

    def find(self, kind, text):
        self.findings.append("%s: %s" % (kind, text))

    def claim(self, first, count, kind, who, where):
        for f in range(first, first + count):
            label = "%s%s0x%x" % (who or "", " at " if who else "", where)
            if f >= self.nframes or f < 0:
                self.find("overlap", "frame 0x%08x is beyond memory and %s (%s)"
                          % (f << SHIFT, OWNER_NAMES[kind], label))
                return
            prev = self.owner[f]
            if prev == C.PU_NONE:
                self.owner[f] = kind
                if count == 1:
                    self.who[f] = label
                continue
            pw = self.who.get(f)
            self.find("overlap", "frame 0x%08x is %s%s and also %s (%s)"
                      % (f << SHIFT, OWNER_NAMES[prev], " (%s)" % pw if pw else "",
                         OWNER_NAMES[kind], label))

    # ---- the claims ------------------------------------------------------

    def reserved(self):
        for i in range(int(self.ki["nr_reserved"])):
            k = self.ki["reserved"][i]
            base, ln = int(k["base"]), int(k["len"])
            kind = C.PU_DEVICE if int(k["owner"]) == C.KRES_DEVICE else C.PU_KERNEL
            self.claim(base >> SHIFT, ln >> SHIFT, kind, "reserved", base)

    def vm_self(self):
        pm = utils.symbol("pm")
        base, pages = int(pm["self_base"]), int(pm["self_pages"])
        self.claim(base >> SHIFT, pages, C.PU_VMSELF, "VM", base)

    def free(self):
        pm = utils.symbol("pm")
        n = int(pm["nframes"])
        if n != self.nframes:
            self.find("allocator", "allocator has %u frames, the machine %u" % (n, self.nframes))
        words = (n + 31) // 32
        raw = utils.read(u(pm["freemap"]), 4 * words)
        bits = struct.unpack("<%dI" % words, raw)
        nfree, f = 0, 0
        while f < n:
            w = bits[f >> 5] >> (f & 31)
            if w == 0:
                f = (f | 31) + 1
                continue
            if not w & 1:
                f += 1
                continue
            start = f
            while f < n and (bits[f >> 5] >> (f & 31)) & 1:
                f += 1
            self.claim(start, f - start, C.PU_FREE, "free run", start << SHIFT)
            nfree += f - start
        if nfree != int(pm["nfree"]):
            self.find("allocator", "%u free frames recorded, %u in the bitmap"
                      % (int(pm["nfree"]), nfree))
        return nfree

    def slab(self):
        listed = set()
        counts = {}
        full = slab.slab_list("SLAB_FULL")
        for size, lst, addr, h in slab.slab_pages():
            frame = h["phys"]
            if (h["magic"] != C.SLAB_MAGIC or h["size"] != size or h["list"] != lst
                    or h["stride"] != slab.stride_of(size) or h["nobjs"] != slab.objs_per_page(size)
                    or frame & C.VM_PAGE_MASK or frame >= self.mem):
                self.find("slab", "page at 0x%x of the %u-byte cache has a corrupt header "
                          "(magic 0x%x size %u phys 0x%x)" % (addr, size, h["magic"], h["size"],
                                                             frame))
                continue
            vp = memory.vm_phys_of(addr)
            if vp is not None and vp != frame:
                self.find("slab", "page at 0x%x (physical 0x%08x) says it is frame 0x%08x"
                          % (addr, vp, frame))
            nused = bin(slab.used_bits(addr)).count("1")
            if nused != h["nused"] or h["nused"] == 0 or (lst == full) != (
                    h["nused"] == h["nobjs"]):
                self.find("slab", "page 0x%08x (%u-byte objects): %u in use, bitmap has %u, "
                          "%u objects, on the %s list" % (frame, size, h["nused"], nused,
                                                          h["nobjs"], "full" if lst == full else
                                                          "partial"))
            c = counts.setdefault(size, [0, 0])
            c[0] += 1
            c[1] += h["nused"]
            listed.add(frame >> SHIFT)
            self.claim(frame >> SHIFT, 1, C.PU_SLAB, "slab", frame)
        total = 0
        for size, c in slab.caches():
            got = counts.get(size, [0, 0])
            if [int(c["pages"]), int(c["inuse"])] != got:
                self.find("slab", "%u-byte cache counts %u pages/%u objects, lists have %u/%u"
                          % (size, int(c["pages"]), int(c["inuse"]), got[0], got[1]))
            total += int(c["pages"])
        tp = int(utils.symbol("total_pages"))
        if tp != sum(c[0] for c in counts.values()):
            self.find("slab", "%u pages counted, lists have %u"
                      % (tp, sum(c[0] for c in counts.values())))
        return listed

    def slab_scan(self, listed):
        """Cross-check: frames whose first bytes are a live slab header
        (magic, and phys naming the frame) must be on a list."""
        off_phys = slab.slabheader.offset("phys")
        chunk = 256 * PAGE
        for base in range(0, self.mem, chunk):
            raw = self.phys.read(base, min(chunk, self.mem - base))
            for o in range(0, len(raw), PAGE):
                if struct.unpack_from("<I", raw, o)[0] != C.SLAB_MAGIC:
                    continue
                f = (base + o) >> SHIFT
                if struct.unpack_from("<I", raw, o + off_phys)[0] != base + o or f in listed:
                    continue
                if self.owner[f] in (C.PU_KERNEL, C.PU_DEVICE):
                    continue
                self.find("slab", "frame 0x%08x holds a slab header but is on no cache's list "
                          "(it is %s)" % (base + o, OWNER_NAMES[self.owner[f]]))

    def cache(self):
        nblocks = npages = 0
        for addr, h, pbs in cache_blocks():
            nblocks += 1
            npages += h["pages"]
            for i, p in enumerate(pbs):
                if not p:
                    self.find("cache", "block 0x%x of %d: page %u has no phys_block"
                              % (h["id"], h["owner"], i))
                    continue
                self.cacherefs[p] = self.cacherefs.get(p, 0) + 1
                pb = self.block(p)
                if pb["cacheref"] == 0 or pb["refcount"] < pb["cacheref"]:
                    self.find("refcount", "cache: block 0x%x page %u: frame 0x%x has refcount "
                              "%u, cache references %u" % (h["id"], i, pb["phys"],
                                                           pb["refcount"], pb["cacheref"]))
        st = utils.symbol("cache_stats")
        if nblocks != int(st["blocks"]) or npages != int(st["pages"]):
            self.find("counter", "cache: %u blocks / %u pages counted, %u / %u recorded"
                      % (nblocks, npages, int(st["blocks"]), int(st["pages"])))
        # Frames only the cache holds are the cache's; one a region maps
        # too is claimed with the region.
        for p in self.cacherefs:
            pb = self.block(p)
            if pb["firstregion"] == 0 and not pb["flags"] & C.PBF_DEVICE:
                self.claim(pb["phys"] >> SHIFT, 1, C.PU_CACHE, "cache", pb["phys"])

    def block(self, p):
        pb = self.blocks.get(p)
        if pb is None:
            pb = self.blocks[p] = phys_block.read(p)
        return pb

    # ---- per process ---------------------------------------------------------

    def page_tables(self, vmp, who):
        """Claim vmp's directory and tables; returns {vaddr: pte} of its
        present user PTEs and the number of tables."""
        pt = vmp["vm_pt"]
        dir_pa = int(pt["pt_dir_phys"])
        self.claim(dir_pa >> SHIFT, 1, C.PU_PAGEDIR, who, dir_pa)
        if dir_pa & C.VM_PAGE_MASK or dir_pa + PAGE > self.mem:
            self.find("page table", "%s: page directory at 0x%x is not a frame" % (who, dir_pa))
            return {}, 0
        pdes = self.phys.u32s(dir_pa, C.I386_VM_PT_ENTRIES)
        kfirst = int(self.ki["kern_vaddr"]) >> 22
        kcount = int(self.ki["kern_len"]) // C.I386_BIG_PAGE_SIZE
        ptes, ntables = {}, 0
        for i, pde in enumerate(pdes):
            if not pde & C.I386_VM_PRESENT:
                continue
            if kfirst <= i < kfirst + kcount:
                if not pde & C.I386_VM_BIGPAGE:
                    self.find("page table", "%s: kernel PDE %u is 0x%08x (not a 4 MB page)"
                              % (who, i, pde))
                continue
            ntables += 1
            tab = pde & C.I386_VM_ADDR_MASK
            want = C.I386_VM_USER | C.I386_VM_WRITE
            if pde & (C.I386_VM_BIGPAGE | want) != want:
                self.find("page table", "%s: PDE %u is 0x%08x (user page tables are 4K, user, "
                          "writable)" % (who, i, pde))
            if tab + PAGE > self.mem:
                self.find("page table", "%s: PDE %u points past memory: 0x%08x" % (who, i, pde))
                continue
            if pde & C.I386_VM_BIGPAGE:
                continue
            self.claim(tab >> SHIFT, 1, C.PU_PAGETABLE, who, i << 22)
            for j, pte in enumerate(self.phys.u32s(tab, C.I386_VM_PT_ENTRIES)):
                if pte & C.I386_VM_PRESENT:
                    ptes[(i << 22) | (j << 12)] = pte
                    if not pte & C.I386_VM_USER:
                        self.find("pte", "%s: PTE for 0x%08x (0x%08x) is not a user page"
                                  % (who, (i << 22) | (j << 12), pte))
        if ntables != int(pt["pt_npt"]):
            self.find("counter", "%s: %u page tables present, %u recorded"
                      % (who, ntables, int(pt["pt_npt"])))
        return ptes, ntables

    def regions(self, vmp, who):
        """{region address: dict} of vmp in address order, after the tree
        was validated; None when the tree cannot be walked."""
        tree = vmp["vm_regions_avl"]
        problems = avl_problems(tree)
        for p in problems:
            self.find("avl", "%s: region tree: %s" % (who, p))
        if problems:
            return None
        off = vir_region.offset("node")
        regs, virt, prev_end = {}, 0, 0
        vmp_addr = u(vmp.address)
        for n in utils.avl_inorder(tree["root"]):
            a = n - off
            r = vir_region.read(a)
            regs[a] = r
            v, ln = r["vaddr"], r["length"]
            if (r["parent"] != vmp_addr or ln == 0 or (v | ln) & C.VM_PAGE_MASK
                    or v < int(self.ki["user_lo"]) or ln > int(self.ki["user_hi"]) - v):
                self.find("region", "%s: region 0x%x+0x%x is malformed, outside user space or "
                          "not this process's" % (who, v, ln))
            if v < prev_end:
                self.find("region", "%s: region 0x%x+0x%x overlaps the one before (ending "
                          "0x%x)" % (who, v, ln, prev_end))
            prev_end = v + ln
            virt += ln >> SHIFT
        if virt != int(vmp["vm_virtual"]):
            self.find("counter", "%s: %u virtual pages recorded, regions have %u"
                      % (who, int(vmp["vm_virtual"]), virt))
        return regs

    def process(self, vmp):
        who = utils.proc_name(vmp)
        ptes, ntables = self.page_tables(vmp, who)
        regs = self.regions(vmp, who)
        resident = {}
        npages = 0
        for key, pr_addr in utils.radix_items(vmp["vm_pages"]):
            npages += 1
            v = key << SHIFT
            pr = self.prs[pr_addr] = phys_region.read(pr_addr)
            pb_addr = pr["ph"]
            if pb_addr == 0:
                self.find("region", "%s: page 0x%08x has no phys_block" % (who, v))
                continue
            pb = self.block(pb_addr)
            self.mapped.setdefault(pb_addr, []).append((pr_addr, who, v))
            if pb_addr not in self.claimed:
                self.claimed.add(pb_addr)
                frame = pb["phys"] >> SHIFT
                if not pb["flags"] & C.PBF_DEVICE:
                    self.claim(frame, 1, C.PU_REGION, who, v)
                elif frame >= self.nframes or self.owner[frame] != C.PU_DEVICE:
                    self.find("region", "%s: device page 0x%x maps frame 0x%x, which is %s"
                              % (who, v, pb["phys"], OWNER_NAMES[self.owner[frame]]
                                 if frame < self.nframes else "beyond memory"))
            r = regs.get(pr["parent"]) if regs is not None else None
            if regs is not None:
                if pr["vaddr"] != v or r is None or not r["vaddr"] <= v < r["vaddr"] + r["length"]:
                    self.find("region", "%s: page 0x%08x: record says 0x%08x, region 0x%x%s"
                              % (who, v, pr["vaddr"], pr["parent"],
                                 " is not one of this process's" if r is None else
                                 " is 0x%x+0x%x" % (r["vaddr"], r["length"])))
                else:
                    resident[pr["parent"]] = resident.get(pr["parent"], 0) + 1
            pte = ptes.pop(v, 0)
            if r is None:
                continue
            if r["flags"] & C.VR_READABLE:
                if (not pte & C.I386_VM_PRESENT or pte & C.I386_VM_ADDR_MASK != pb["phys"]
                        or (pte & C.I386_VM_WRITE and not r["flags"] & C.VR_WRITABLE)):
                    self.find("pte", "%s: page 0x%08x: PTE 0x%08x, VM has frame 0x%x (%s)"
                              % (who, v, pte, pb["phys"],
                                 "writable" if r["flags"] & C.VR_WRITABLE else "read-only"))
            elif pte & C.I386_VM_PRESENT:
                self.find("pte", "%s: page 0x%08x of a PROT_NONE region is mapped (PTE 0x%08x)"
                          % (who, v, pte))
        for v, pte in sorted(ptes.items()):
            self.find("pte", "%s: PTE maps 0x%08x -> 0x%08x but VM has no page there"
                      % (who, v, pte & C.I386_VM_ADDR_MASK))
        if regs is not None:
            for a, r in regs.items():
                if r["resident"] != resident.get(a, 0):
                    self.find("counter", "%s: region 0x%x+0x%x records %u resident pages, the "
                              "page map has %u" % (who, r["vaddr"], r["length"], r["resident"],
                                                   resident.get(a, 0)))
        count = int(vmp["vm_pages"]["count"])
        if npages != count:
            self.find("counter", "%s: %u resident pages recorded, the page map has %u"
                      % (who, count, npages))
        return ntables + 1

    def refcounts(self):
        """Each mapped block's list against its refcount, the cache's
        references and the page maps."""
        for pb_addr, maps in self.mapped.items():
            pb = self.block(pb_addr)
            refs, seen, q = 0, set(), pb["firstregion"]
            limit = pb["refcount"] + len(maps) + 16
            while q and refs <= limit:
                refs += 1
                seen.add(q)
                qr = self.prs.get(q) or phys_region.read(q)
                if qr["ph"] != pb_addr:
                    self.find("refcount", "block 0x%x lists a page record of block at 0x%x"
                              % (pb["phys"], qr["ph"]))
                q = qr["next_ph_list"]
            who, v = maps[0][1], maps[0][2]
            missing = [m for m in maps if m[0] not in seen]
            cref = self.cacherefs.get(pb_addr, 0)
            if refs + pb["cacheref"] != pb["refcount"] or missing:
                self.find("refcount", "%s: page 0x%08x: block 0x%x has refcount %u, %u "
                          "references and %u from the cache%s"
                          % (who, v, pb["phys"], pb["refcount"], refs, pb["cacheref"],
                             "" if not missing else ", and not %s at 0x%08x"
                             % (missing[0][1], missing[0][2])))
            if refs != len(maps):
                self.find("refcount", "block 0x%x: %u references on its list, %u page records "
                          "in the page maps" % (pb["phys"], refs, len(maps)))
            if cref != pb["cacheref"]:
                self.find("refcount", "block 0x%x: %u cache references recorded, cached blocks "
                          "hold %u" % (pb["phys"], pb["cacheref"], cref))
        for pb_addr, cref in self.cacherefs.items():
            if pb_addr in self.mapped:
                continue
            pb = self.block(pb_addr)
            if pb["firstregion"] != 0 or pb["refcount"] != pb["cacheref"] or pb["cacheref"] != cref:
                self.find("refcount", "cache: frame 0x%x has refcount %u, cache references %u "
                          "(%u cached pages), and %s" % (pb["phys"], pb["refcount"],
                                                         pb["cacheref"], cref,
                                                         "no page maps it" if not pb["firstregion"]
                                                         else "a list but no page record"))

    def leaks(self):
        owner, n, f = self.owner, self.nframes, 0
        while f < n:
            f = owner.find(0, f)
            if f < 0:
                break
            start = f
            while f < n and owner[f] == C.PU_NONE:
                f += 1
            cnt = f - start
            self.find("leak", "frames 0x%08x-0x%08x (%u page%s) are neither free nor owned"
                      % (start << SHIFT, f << SHIFT, cnt, "" if cnt == 1 else "s"))
            sites = slab.frame_sites(start)
            if sites is not None:
                self.findings.append("    allocated at %s" % slab.site_format(sites["alloc"]))

    def run(self):
        self.claimed = set()
        self.reserved()
        self.vm_self()
        self.free()
        listed = self.slab()
        self.cache()
        tables = 0
        for slot, vmp in utils.procs():
            ep = int(vmp["vm_endpoint"])
            if ep & ((1 << C.VM_ENDPOINT_GEN_SHIFT) - 1) != slot:
                self.find("other", "slot %d holds endpoint %d" % (slot, ep))
            tables += self.process(vmp)
        recorded = int(utils.symbol("vm_stats")["pagetables"])
        if tables != recorded:
            self.find("counter", "%u page-table frames counted, %u recorded" % (tables, recorded))
        self.refcounts()
        self.slab_scan(listed)
        self.leaks()

    def per_owner(self):
        return [self.owner.count(bytes([k])) for k in range(max(OWNER_NAMES) + 1)]


def avl_problems(tree):
    """Findings of a region tree, from avl.validate if avl.py is there."""
    try:
        from . import avl
        validate = avl.validate
    except (ImportError, AttributeError):
        validate = None
    if validate is not None:
        return list(validate(tree, regions=True))
    return _avl_minimal(tree)


def _avl_minimal(tree):
    """Order, parent links, balance factors and count of an AVL tree
    (until avl.validate is there)."""
    problems = []
    root = u(tree["root"])
    count = [0]

    def walk(n, parent, lo, hi, depth):
        if n == 0:
            return 0
        if depth > 64:
            raise VmError("region tree deeper than 64: a cycle?")
        node = slab.avl_node.read(n)
        count[0] += 1
        if node["parent"] != parent:
            problems.append("node 0x%x (key 0x%x): parent 0x%x, should be 0x%x"
                            % (n, node["key"], node["parent"], parent))
        if (lo is not None and node["key"] <= lo) or (hi is not None and node["key"] >= hi):
            problems.append("node 0x%x: key 0x%x out of order" % (n, node["key"]))
        hl = walk(node["left"], n, lo, node["key"], depth + 1)
        hr = walk(node["right"], n, node["key"], hi, depth + 1)
        bal = node["balance"] - 256 if node["balance"] > 127 else node["balance"]
        if bal != hr - hl or abs(hr - hl) > 1:
            problems.append("node 0x%x (key 0x%x): balance %d, heights %d/%d"
                            % (n, node["key"], bal, hl, hr))
        return 1 + max(hl, hr)

    walk(root, 0, None, None, 0)
    if count[0] != int(tree["count"]):
        problems.append("%u nodes, count says %u" % (count[0], int(tree["count"])))
    return problems


class VmCheck(utils.VmCommand):
    """VM's consistency check, done from memory by the scripts (works on a core file).

Usage: vm check

Claims every frame of the machine exactly once (reserved, VM's metadata,
free, slab pages, cache blocks, page directories and tables, region
pages) and checks refcounts, page records, counters, PTEs against regions
and the region trees. Prints one finding a line with VM's kind prefix
(leak:, overlap:, refcount:, pte:, avl:, ...), then a summary:
  vm check: N findings (M frames: free F, regions R, slab S, page tables T,
  cache C, VM V, reserved K)
See docs/consistency-check.md for what VM's own check does.

Example:
  (gdb) vm check"""

    NAME = "vm check"

    def run(self, argv):
        if argv:
            raise VmError("usage: vm check")
        c = Check()
        c.run()
        for line in c.findings:
            out(line)
        n = sum(1 for line in c.findings if not line.startswith(" "))
        k = c.per_owner()
        out("vm check: %d finding%s (%d frames: free %d, regions %d, slab %d, page tables %d, "
            "cache %d, VM %d, reserved %d)"
            % (n, "" if n == 1 else "s", c.nframes, k[C.PU_FREE], k[C.PU_REGION], k[C.PU_SLAB],
               k[C.PU_PAGEDIR] + k[C.PU_PAGETABLE], k[C.PU_CACHE], k[C.PU_VMSELF],
               k[C.PU_KERNEL] + k[C.PU_DEVICE]))


COMMANDS = [VmCheck]
