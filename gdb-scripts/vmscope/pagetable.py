"""vm pt PROC [VADDR]: a process's i386 page tables, decoded from
physical memory.

The walk starts at the page directory's physical address (vmp.vm_pt.
pt_dir_phys) and reads only physical memory through memory.phys_reader(),
never VM's pointers, so the same decoder serves the hosted machine, a core
file and QEMU. The functions here (entry decoding, PDE/PTE lookup, the
present user mappings) are what vm phys reuses.
"""
import gdb

from . import constants as C
from . import memory, utils
from .utils import VmError, out

# Short names of the entry bits, in the order the Intel manual lists them
# (the values come from the constants; the words are the usual ones).
ENTRY_BITS = [
    ("I386_VM_PRESENT", "P"),
    ("I386_VM_WRITE", "W"),
    ("I386_VM_USER", "U"),
    ("I386_VM_PWT", "PWT"),
    ("I386_VM_PCD", "PCD"),
    ("I386_VM_ACC", "A"),
    ("I386_VM_DIRTY", "D"),
    ("I386_VM_BIGPAGE", "PS"),
    ("I386_VM_GLOBAL", "G"),
]

ENTRY_SIZE = 4
PAGE = 1 << C.VM_PAGE_SHIFT
PAGE_MASK = PAGE - 1
BIG_MASK = C.I386_BIG_PAGE_SIZE - 1
# Bits 9-11 are free for the OS; anything else left over is printed in hex.
AVAIL_BITS = 0xE00


def entry_flags(e, big_ok=True):
    """The bits of a PDE or PTE as words: "P W U A D" ("-" when none).
    PS means a 4 MB page only in a PDE; in a PTE that bit is PAT, printed
    as PAT (big_ok False)."""
    words = []
    for name, word in ENTRY_BITS:
        bit = getattr(C, name)
        if e & bit:
            if name == "I386_VM_BIGPAGE" and not big_ok:
                word = "PAT"
            words.append(word)
    if e & AVAIL_BITS:
        words.append("avl=0x%x" % ((e & AVAIL_BITS) >> 9))
    return " ".join(words) if words else "-"


def frame_of(e):
    return e & C.I386_VM_ADDR_MASK


def pde_index(v):
    return v >> 22


def pte_index(v):
    return (v >> C.VM_PAGE_SHIFT) & (C.I386_VM_PT_ENTRIES - 1)


def is_present(e):
    return bool(e & C.I386_VM_PRESENT)


def is_big(pde):
    return bool(pde & C.I386_VM_BIGPAGE)


def pdir_phys(vmp):
    """Physical address of vmp's page directory (checked)."""
    pd = int(vmp["vm_pt"]["pt_dir_phys"])
    if pd == 0 or pd & PAGE_MASK:
        raise VmError("process %s has no page directory (pt_dir_phys 0x%x)"
                      % (utils.proc_name(vmp), pd))
    return pd


def read_dir(reader, pdir):
    """The 1024 PDEs at physical address pdir."""
    return reader.u32s(pdir, C.I386_VM_PT_ENTRIES)


def table_in_memory(reader, pde):
    return frame_of(pde) + PAGE <= reader.size()


def effective(pde, pte):
    """What a user access may do through both levels: "user read-write",
    "user read-only", "supervisor read-write", ..."""
    both = pde & pte if pte is not None else pde
    who = "user" if both & C.I386_VM_USER else "supervisor"
    what = "read-write" if both & C.I386_VM_WRITE else "read-only"
    return "%s %s" % (who, what)


def user_tables(reader, pdir, dir_entries=None):
    """(PDE index, PDE) of every present page-table PDE (no 4 MB pages)."""
    pdes = dir_entries if dir_entries is not None else read_dir(reader, pdir)
    for i, pde in enumerate(pdes):
        if is_present(pde) and not is_big(pde):
            yield i, pde


def big_runs(pdes):
    """Runs of consecutive present 4 MB PDEs: (first index, count, first
    PDE)."""
    runs, i = [], 0
    n = len(pdes)
    while i < n:
        if is_present(pdes[i]) and is_big(pdes[i]):
            j = i
            while j + 1 < n and is_present(pdes[j + 1]) and is_big(pdes[j + 1]):
                j += 1
            runs.append((i, j - i + 1, pdes[i]))
            i = j + 1
        else:
            i += 1
    return runs


def present_ptes(reader, pde_i, pde):
    """(virtual address, PTE) of the present entries of the table pde
    points at."""
    ptes = reader.u32s(frame_of(pde), C.I386_VM_PT_ENTRIES)
    for j, pte in enumerate(ptes):
        if is_present(pte):
            yield (pde_i << 22) | (j << C.VM_PAGE_SHIFT), pte


def lookup(reader, pdir, v):
    """The chain for virtual address v: a dict with pde_i, pde_pa, pde
    and, when the PDE points at a page table, table, pte_i, pte_pa and pte
    (pte None when there is no table to read)."""
    c = {"v": v, "pde_i": pde_index(v), "pte": None, "table": None}
    c["pde_pa"] = pdir + c["pde_i"] * ENTRY_SIZE
    c["pde"] = reader.u32(c["pde_pa"])
    if is_present(c["pde"]) and not is_big(c["pde"]) and table_in_memory(reader, c["pde"]):
        c["table"] = frame_of(c["pde"])
        c["pte_i"] = pte_index(v)
        c["pte_pa"] = c["table"] + c["pte_i"] * ENTRY_SIZE
        c["pte"] = reader.u32(c["pte_pa"])
    return c


def pte_at(reader, vmp, v):
    """vmp's PTE for page v, or None when v has no page table."""
    return lookup(reader, pdir_phys(vmp), v)["pte"]


def proc_label(vmp):
    return "%s (endpoint %d)" % (utils.proc_name(vmp), int(vmp["vm_endpoint"]))


def region_label(r):
    return "%#010x-%#010x %s %s" % (int(r["vaddr"]), utils.region_end(r),
                                    utils.region_mode(int(r["flags"])),
                                    utils.memtype_short(int(r["memtype"]["id"])))


# ---- vm pt PROC ------------------------------------------------------------


def print_all(vmp):
    reader = memory.phys_reader()
    pdir = pdir_phys(vmp)
    pdes = read_dir(reader, pdir)
    out("process %s: page directory at phys %#010x" % (proc_label(vmp), pdir))
    for first, count, pde in big_runs(pdes):
        lo = first << 22
        hi = ((first + count) << 22) - 1
        out("kernel: %#010x-%#010x 4M pages (%d PDEs) -> phys %#010x-%#010x, %s"
            % (lo, hi, count, frame_of(pde) & ~BIG_MASK,
               (frame_of(pde) & ~BIG_MASK) + (count << 22) - 1, entry_flags(pde)))
    npages = ntables = 0
    for i, pde in user_tables(reader, pdir, pdes):
        ntables += 1
        out("PDE %#05x -> table at phys %#010x, flags %s (%#010x), %#010x-%#010x"
            % (i, frame_of(pde), entry_flags(pde), pde, i << 22, ((i + 1) << 22) - 1))
        if not table_in_memory(reader, pde):
            out("  table beyond the machine's memory (%d MB): not read" % (reader.size() >> 20))
            continue
        n = 0
        for v, pte in present_ptes(reader, i, pde):
            out("  %#010x -> %#010x  pte %#010x  %s"
                % (v, frame_of(pte), pte, entry_flags(pte, big_ok=False)))
            n += 1
        if n == 0:
            out("  (no present entries)")
        npages += n
    out("%d present pages, %d page tables" % (npages, ntables))


# ---- vm pt PROC VADDR ---------------------------------------------------------


def vm_page_line(vmp, v, pte):
    """What VM's page map says about page v, checked against pte."""
    page = v & ~PAGE_MASK
    found = list(utils.pages(vmp, page, page + PAGE))
    if not found:
        if pte is not None and is_present(pte):
            return "VM page: none: VM has no phys_region at %#010x, but the PTE is present" % page
        return "VM page: none (no phys_region at %#010x)" % page
    _, pr = found[0]
    pb = pr["ph"].dereference()
    frame = int(pb["phys"])
    line = "VM page: phys_region %#x -> phys_block %#x frame %#010x refcount %d" % (
        utils.u(pr.address), utils.u(pr["ph"]), frame, int(pb["refcount"]))
    if pte is None or not is_present(pte):
        return line + ": the PTE is not present (mapped on the next fault)"
    if frame_of(pte) == frame:
        return line + ": agrees with the PTE"
    return line + ": DISAGREES with the PTE (frame %#010x)" % frame_of(pte)


def print_chain(vmp, v):
    reader = memory.phys_reader()
    pdir = pdir_phys(vmp)
    c = lookup(reader, pdir, v)
    out("vaddr %#010x in process %s: page directory at phys %#010x"
        % (v, proc_label(vmp), pdir))
    pde = c["pde"]
    out("PDE %#05x at phys %#010x: %#010x %s"
        % (c["pde_i"], c["pde_pa"], pde, entry_flags(pde)))
    pte = None
    if not is_present(pde):
        out("stop: PDE not present: no page table for %#010x-%#010x"
            % (c["pde_i"] << 22, ((c["pde_i"] + 1) << 22) - 1))
    elif is_big(pde):
        pa = (frame_of(pde) & ~BIG_MASK) | (v & BIG_MASK)
        out("4M page at phys %#010x -> phys %#010x (%s)"
            % (frame_of(pde) & ~BIG_MASK, pa, effective(pde, None)))
        out("stop: a 4M page: the PDE maps it, there is no page table")
    elif c["table"] is None:
        out("stop: page table at phys %#010x is beyond the machine's memory (%d MB)"
            % (frame_of(pde), reader.size() >> 20))
    else:
        pte = c["pte"]
        out("table at phys %#010x" % c["table"])
        out("PTE %#05x at phys %#010x: %#010x %s"
            % (c["pte_i"], c["pte_pa"], pte, entry_flags(pte, big_ok=False)))
        if not is_present(pte):
            out("stop: PTE not present: %#010x is not mapped" % (v & ~PAGE_MASK))
        else:
            out("frame %#010x -> phys %#010x (%s)"
                % (frame_of(pte), frame_of(pte) | (v & PAGE_MASK), effective(pde, pte)))
    r = utils.region_containing(vmp, v)
    if r is None:
        out("region: none")
    else:
        note = ""
        if (pte is not None and is_present(pte) and int(r["flags"]) & C.VR_WRITABLE
                and not (pde & pte & C.I386_VM_WRITE)):
            note = " (writable region, read-only PTE: copy-on-write or not written yet)"
        out("region: %s%s" % (region_label(r), note))
    out(vm_page_line(vmp, v, pte))


def current_proc():
    """The process whose page directory the CPU's CR3 holds (QEMU's
    gdbstub has CR3; the hosted machine has no CPU to ask)."""
    try:
        cr3 = int(gdb.parse_and_eval("$cr3")) & C.I386_VM_ADDR_MASK
    except (gdb.error, TypeError, ValueError):
        raise VmError("usage: vm pt PROC [VADDR]")  # no CPU to ask (hosted)
    for _, vmp in utils.procs():
        if int(vmp["vm_pt"]["pt_dir_phys"]) == cr3:
            return vmp
    raise VmError("CR3 0x%08x is no process's page directory (the kernel's own?): give PROC"
                  % cr3)


class VmPt(utils.VmCommand):
    """Decode a process's i386 page tables from physical memory.

Usage: vm pt PROC [VADDR]
       vm pt            (the process whose page directory CR3 holds: QEMU)

PROC is an endpoint, a process name, or an expression of type struct
vmproc or a pointer to one ($vm_proc("A"), &vmproc[2]). The walk starts
at the page directory's physical address (vm_pt.pt_dir_phys) and reads
physical memory only.

Without VADDR: a summary line of the kernel's 4 MB global pages, then
each page table (PDE index, table's physical address, PDE flags) with
every present PTE, one per line:
    0x20000000 -> 0x00456000  pte 0x00456067  P W U A D
and the total "N present pages, M page tables".

With VADDR: the translation chain, as crash's vtop prints it: the PDE
(index, physical address, value, flags), the page table, the PTE, the
frame and the physical address with the effective permission; a line
"stop: ..." says where the chain ends when a level is not present. Then
the region containing VADDR and VM's phys_region for that page, checked
against the PTE.

Flags: P present, W writable, U user, PWT write-through, PCD cache
disabled, A accessed, D dirty, PS 4 MB page, G global.

Examples:
    vm pt A
    vm pt 1024 0x20000123"""

    NAME = "vm pt"

    def run(self, argv):
        if not argv:
            print_all(current_proc())
            return
        # PROC may be an expression with spaces ($vm_proc("A")); VADDR is
        # the last word when there are two or more.
        words = self.raw.rsplit(None, 1)
        if len(argv) == 1 or len(words) == 1:
            print_all(utils.find_proc(self.raw))
            return
        vmp = utils.find_proc(words[0])
        v = utils.parse_number(words[1], "VADDR")
        if not 0 <= v <= 0xFFFFFFFF:
            raise VmError("VADDR %#x is not a 32-bit address" % v)
        print_chain(vmp, v)


COMMANDS = [VmPt]
