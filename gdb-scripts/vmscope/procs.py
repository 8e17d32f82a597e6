"""vm procs: the process table with usage, as `vmstat -P` prints it."""
from . import constants as C
from . import utils
from .utils import out


def grant_count(vmp):
    g = utils.u(vmp["vm_grants"])
    return int(vmp["vm_grants"].dereference()["count"]) if g else 0


def cache_blocks(vmp):
    """Blocks vmp has in the cache: its list through pnext."""
    n, b, seen = 0, vmp["vm_yielded"], set()
    while utils.u(b):
        if utils.u(b) in seen:
            raise utils.VmError("%s: cache block list loops at 0x%x" % (utils.proc_name(vmp), utils.u(b)))
        seen.add(utils.u(b))
        n += 1
        b = b.dereference()["pnext"]
    return n


def usage(vmp):
    """What the debug call reports for a process (struct vmi_proc), read
    from VM's counters as VM keeps them."""
    return {
        "endpoint": int(vmp["vm_endpoint"]),
        "name": utils.proc_name(vmp),
        "flags": int(vmp["vm_flags"]) & C.VMF_PRIV,
        "resident": int(vmp["vm_pages"]["count"]),
        "shared": int(vmp["vm_shared"]),
        "cow": int(vmp["vm_cow"]),
        "virtual_pages": int(vmp["vm_virtual"]),
        "regions": int(vmp["vm_regions_avl"]["count"]),
        "minflt": int(vmp["vm_minflt"]),
        "brk": int(vmp["vm_brk"]),
        "pss_1k": int(vmp["vm_pss_1k"]),
        "cache_blocks": cache_blocks(vmp),
        "grants": grant_count(vmp),
    }


def kib(pages):
    return pages * (C.VM_PAGE_SIZE // 1024)


class VmProcs(utils.VmCommand):
    """List VM's processes with their memory, as vmstat -P does.

Usage: vm procs

Memory columns are in KiB: RSS resident, SHR of that shared with another
shared mapping, COW shared copy-on-write, VSZ mapped, PSS proportional
set (each page divided by its mappings). REG regions, MINFLT faults
resolved, BRK the break, CBLK blocks in the cache, GRANTS grants made,
FLAGS `priv` for a system process. Read from memory: works on a stopped
VM and a core file."""

    NAME = "vm procs"

    def run(self, argv):
        if argv:
            raise utils.VmError("usage: vm procs")
        out("%6s %-16s %8s %8s %8s %8s %8s %4s %8s %10s %5s %6s %s" % (
            "EP", "NAME", "RSS", "SHR", "COW", "VSZ", "PSS", "REG", "MINFLT", "BRK", "CBLK",
            "GRANTS", "FLAGS"))
        for _, vmp in utils.procs():
            p = usage(vmp)
            pss = (p["pss_1k"] * (C.VM_PAGE_SIZE // 1024) + 512) // 1024
            out("%6d %-16s %8d %8d %8d %8d %8d %4d %8d %#10x %5d %6d %s" % (
                p["endpoint"], p["name"], kib(p["resident"]), kib(p["shared"]), kib(p["cow"]),
                kib(p["virtual_pages"]), pss, p["regions"], p["minflt"], p["brk"],
                p["cache_blocks"], p["grants"], "priv" if p["flags"] & C.VMF_PRIV else "-"))


COMMANDS = [VmProcs]
