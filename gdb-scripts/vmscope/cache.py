"""The cache of yielded blocks read from memory: `vm cache` prints
cache_stats as `vmstat -c` does, then the blocks VM holds, oldest first.

vm/cache.c keeps the blocks (struct cached_block: owner, id, pages and
the phys_block of each page) in a hash table and on an age list from
cache.oldest to cache.newest, linked through `newer`.
"""
import struct

from . import constants as C
from . import utils
from .slab import RawStruct
from .utils import VmError, out, u

cached_block = RawStruct("struct cached_block")
phys_block = RawStruct("struct phys_block")


def blocks(limit=1 << 20):
    """(address, block dict, [phys_block address of each page]) of every
    cached block, oldest first."""
    cache = utils.symbol("cache")
    b, n = u(cache["oldest"]), 0
    psize, fmt = utils.ptr_size(), utils.ptr_fmt()
    pb_off = cached_block.offset("pb")
    while b:
        h = cached_block.read(b)
        pages = h["pages"]
        if pages > (1 << 20):
            raise VmError("cached block at 0x%x claims %u pages: corrupt" % (b, pages))
        raw = utils.read(b + pb_off, pages * psize) if pages else b""
        pbs = [struct.unpack_from(fmt, raw, i * psize)[0] for i in range(pages)]
        yield b, h, pbs
        b = h["newer"]
        n += 1
        if n > limit:
            raise VmError("the cache's age list does not end: a cycle?")


def runs(frames):
    """"0x1000-0x3000, 0x8000" for a list of frame addresses (page runs in
    the order given)."""
    parts, start, prev = [], None, None
    for f in frames:
        if start is not None and f == prev + C.VM_PAGE_SIZE:
            prev = f
            continue
        if start is not None:
            parts.append(_run(start, prev))
        start = prev = f
    if start is not None:
        parts.append(_run(start, prev))
    return ", ".join(parts)


def _run(a, b):
    if a == b:
        return "0x%08x" % a
    return "0x%08x-0x%08x" % (a, b + C.VM_PAGE_SIZE)


class VmCache(utils.VmCommand):
    """The cache of yielded blocks: its statistics as vmstat -c prints them, then the blocks.

Usage: vm cache

The blocks are listed oldest first (the order in which VM forgets them
under memory pressure): owner endpoint and name, the 64-bit id, pages,
and the frames that hold them. Works on a core file.

Example:
  (gdb) vm cache"""

    NAME = "vm cache"

    def run(self, argv):
        if argv:
            raise VmError("usage: vm cache")
        st = utils.symbol("cache_stats")
        hits, misses = int(st["hits"]), int(st["misses"])
        out("%13u blocks held" % int(st["blocks"]))
        out("%13u K held" % (int(st["pages"]) * C.VM_PAGE_SIZE // 1024))
        out("%13u yields" % int(st["yields"]))
        out("%13u hits (blocks got back)" % hits)
        out("%13u misses (asked for, not there)" % misses)
        out("%13u evictions (forgotten under memory pressure)" % int(st["evictions"]))
        out("%13u forgets (forgotten on request)" % int(st["forgets"]))
        if hits + misses:
            out("%12.1f%% hit ratio" % (100.0 * hits / (hits + misses)))
        else:
            out("%13s hit ratio (nothing asked for yet)" % "-")
        out()
        names = {int(v["vm_endpoint"]): utils.proc_name(v) for _, v in utils.procs()}
        rows = list(blocks())
        if not rows:
            out("no blocks held")
            return
        out("%4s %10s %-16s %18s %5s  %s" % ("AGE", "OWNER", "NAME", "ID", "PAGES", "FRAMES"))
        for i, (addr, h, pbs) in enumerate(rows):
            owner = h["owner"] & 0xFFFFFFFF
            if owner & 0x80000000:
                owner -= 1 << 32
            frames = [phys_block.read(p)["phys"] for p in pbs]
            out("%4d %10d %-16s %#18x %5u  %s%s"
                % (i, owner, names.get(owner, "(gone)"), h["id"], h["pages"], runs(frames),
                   " (busy)" if h.get("busy") else ""))


COMMANDS = [VmCache]
