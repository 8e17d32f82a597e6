"""vm stats: VM's counters, as `vmstat -s` prints them, read from the
variables VM keeps them in."""
from . import constants as C
from . import procs, utils
from .utils import out

# (field of struct vmi_stats, vmstat -s label, in pages?)
FIELDS = [
    ("pages_total", "total memory (the page pool)", True),
    ("pages_free", "free memory", True),
    ("largest_free", "largest free run", True),
    ("pages_cached", "cached memory (yielded blocks)", True),
    ("pages_slab", "slab memory (VM's objects)", True),
    ("pages_pagetables", "page tables", True),
    ("pages_vm", "VM metadata", True),
    ("nprocs", "processes", False),
    ("grants", "grants", False),
    ("pf_zerofill", "zero-fill page faults", False),
    ("pf_cowcopy", "copy-on-write faults, copied", False),
    ("pf_cowreuse", "copy-on-write faults, reused", False),
    ("pf_shared", "shared-memory page faults", False),
    ("pf_refused", "refused page faults (SIGSEGV)", False),
    ("pf_nomem", "page faults out of memory (SIGBUS)", False),
    ("spawns", "spawns", False),
    ("forks", "forks", False),
    ("execs", "execs", False),
    ("exits", "exits", False),
    ("evictions", "cache evictions", False),
    ("bad_calls", "bad calls", False),
    ("forged", "forged calls (of the bad ones)", False),
]


def read_stats():
    """The values of struct vmi_stats, from VM's variables (info.c's
    info_fill_stats does the same in VM)."""
    pm = utils.symbol("pm")
    vs = utils.symbol("vm_stats")
    cs = utils.symbol("cache_stats")
    s = {
        "pages_total": int(pm["npool"]),
        "pages_free": int(pm["nfree"]),
        "largest_free": int(pm["largest"]),
        "pages_cached": int(cs["pages"]),
        "pages_slab": int(utils.symbol("total_pages")),
        "pages_pagetables": int(vs["pagetables"]),
        "pages_vm": int(pm["self_pages"]),
        "nprocs": sum(1 for _ in utils.procs()),
        "grants": int(utils.symbol("grant_stats")["grants"]),
        "evictions": int(cs["evictions"]),
    }
    for f in ("pf_zerofill", "pf_cowcopy", "pf_cowreuse", "pf_shared", "pf_refused",
              "pf_nomem", "spawns", "forks", "execs", "exits", "bad_calls", "forged"):
        s[f] = int(vs[f])
    calls = vs["calls"]
    n = C.VM_RQ_LAST - C.VM_RQ_BASE + 1
    s["calls"] = [int(calls[i]) for i in range(n)]
    return s


class VmStats(utils.VmCommand):
    """Print VM's counters, as vmstat -s does.

Usage: vm stats

Memory in KiB (K), then counts since boot, then every call VM knows by
name (include/vmscope/callnr.h: mmap is VM_MMAP); a call number without
a name only if it was made. Read from VM's variables (pm, vm_stats,
cache_stats, ...), so it works on a stopped VM and a core file."""

    NAME = "vm stats"

    def run(self, argv):
        if argv:
            raise utils.VmError("usage: vm stats")
        s = read_stats()
        for field, label, pages in FIELDS:
            if pages:
                out("%13d K %s" % (procs.kib(s[field]), label))
            else:
                out("%13d %s" % (s[field], label))
        names = utils.call_names()
        for i, n in enumerate(s["calls"]):
            if i in names:
                out("%13d %s calls" % (n, names[i]))
            elif n:
                out("%13d calls 0x%x" % (n, C.VM_RQ_BASE + i))


COMMANDS = [VmStats]
