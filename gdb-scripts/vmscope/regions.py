"""vm regions PROC: a process's regions, as `vmstat -r` prints them
(pmap -x's layout), read from VM's region tree and page map."""
from . import constants as C
from . import procs, utils
from .utils import out

# vmstat's words for region flags, in its order (the values come from
# the constants; the words are the tools' vocabulary).
FLAG_WORDS = [
    ("VR_HEAP", "heap"),
    ("VR_PREALLOC", "prealloc"),
    ("VR_CONTIG", "contig"),
    ("VR_LOWER16MB", "lower16m"),
    ("VR_UNINITIALIZED", "uninit"),
    ("VR_SAFEMAP", "safemap"),
]


def flag_words(flags):
    rest = flags & ~(C.VR_READABLE | C.VR_WRITABLE | C.VR_EXEC | C.VR_SHARED)
    words = []
    for name, word in FLAG_WORDS:
        bit = getattr(C, name)
        if rest & bit:
            words.append(word)
            rest &= ~bit
    if rest:
        words.append("0x%x" % rest)
    return ",".join(words)


def shared_cow(vmp, r):
    """Resident pages of r that other mappings map too: (shared, cow), as
    VM's map_count_shared counts them."""
    shared = cow = 0
    for _, pr in utils.pages(vmp, int(r["vaddr"]), utils.region_end(r)):
        if utils.block_mappings(pr["ph"].dereference()) > 1:
            if int(pr["parent"]["flags"]) & C.VR_SHARED:
                shared += 1
            else:
                cow += 1
    return shared, cow


def region_info(vmp, r):
    """What the debug call reports for a region (struct vmi_region)."""
    flags = int(r["flags"])
    shared, cow = shared_cow(vmp, r)
    return {
        "start": int(r["vaddr"]),
        "length": int(r["length"]),
        "flags": flags,
        "memtype": int(r["memtype"]["id"]),
        "resident": int(r["resident"]),
        "shared": shared,
        "cow": cow,
        "grant": int(r["grant"]) if flags & C.VR_SAFEMAP else 0,
    }


def format_region(e):
    flags = flag_words(e["flags"])
    if e["flags"] & C.VR_SAFEMAP:
        flags += " grant=%d" % e["grant"]
    typ = utils.memtype_short(e["memtype"])
    size = (e["length"] + 1023) // 1024
    return "%08x %8d %8d %8d %8d %s %-*s%s%s" % (
        e["start"], size, procs.kib(e["resident"]), procs.kib(e["shared"]),
        procs.kib(e["cow"]), utils.region_mode(e["flags"]), 6 if flags else 0, typ,
        " " if flags else "", flags)


class VmRegions(utils.VmCommand):
    """List a process's regions, as vmstat -r does.

Usage: vm regions PROC

PROC is an endpoint, a process name, or an expression of type struct
vmproc or a pointer to one ($vm_proc("A"), &vmproc[2]).
Columns: start address (hex), size in KiB, resident, shared (with
another shared mapping) and copy-on-write memory in KiB, mode (rwx, then
s for shared across fork or p for private), mem type, and flags (heap,
prealloc, contig, lower16m, uninit, safemap grant=ID). Shared and COW
walk the region's pages, as VM does for the debug call."""

    NAME = "vm regions"

    def run(self, argv):
        if not argv:
            raise utils.VmError("usage: vm regions PROC")
        vmp = utils.find_proc(self.raw)
        out("%d:   %s" % (int(vmp["vm_endpoint"]), utils.proc_name(vmp)))
        out("%-8s %8s %8s %8s %8s %-4s %-6s %s" % (
            "Address", "Kbytes", "RSS", "Shared", "COW", "Mode", "Type", "Flags"))
        t_len = t_res = t_shr = t_cow = 0
        for r in utils.regions(vmp):
            e = region_info(vmp, r)
            t_len += e["length"]
            t_res += e["resident"]
            t_shr += e["shared"]
            t_cow += e["cow"]
            out(format_region(e))
        out("-------- -------- -------- -------- --------")
        out("%-8s %8d %8d %8d %8d" % ("total kB", (t_len + 1023) // 1024, procs.kib(t_res),
                                       procs.kib(t_shr), procs.kib(t_cow)))


COMMANDS = [VmRegions]
