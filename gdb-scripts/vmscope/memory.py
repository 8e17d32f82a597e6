"""Reading memory: VM's own (virtual) and the machine's (physical).

VM's structures are read at their virtual addresses in VM (utils.read,
gdb.Value). Page directories and tables hold physical addresses, so the
page-table decoder reads physical memory through a PhysReader:

- HostedPhys: the hosted machine keeps physical memory in one host
  mapping, hm.phys, hm.mem_bytes long; physical address p is hm.phys + p
  in the vm process (live or core file).

Another machine adds a reader class and a probe to READERS (the QEMU
machine reads physical memory through the gdbstub) without touching the
decoders: they only call phys_reader().
"""
import struct

import gdb

from .utils import VmError, symbol, u


class PhysReader:
    """Physical memory of the machine VM runs on."""

    name = "physical memory"

    def size(self):
        raise NotImplementedError

    def read(self, pa, n):
        raise NotImplementedError

    def check(self, pa, n):
        if pa < 0 or pa + n > self.size():
            raise VmError(
                "physical address 0x%x is beyond the machine's memory (%d MB)"
                % (pa, self.size() >> 20)
            )

    def u32(self, pa):
        return struct.unpack("<I", self.read(pa, 4))[0]

    def u32s(self, pa, count):
        return struct.unpack("<%dI" % count, self.read(pa, 4 * count))


class HostedPhys(PhysReader):
    """The hosted machine's memory: hm.phys in the vm process."""

    name = "hosted machine memory (hm.phys)"

    def __init__(self):
        hm = symbol("hm")
        self.base = u(hm["phys"])
        self.bytes = int(hm["mem_bytes"])
        if self.base == 0 or self.bytes == 0:
            raise VmError("the hosted machine has no memory (not booted yet, or halted)")

    def size(self):
        return self.bytes

    def read(self, pa, n):
        self.check(pa, n)
        try:
            return bytes(gdb.selected_inferior().read_memory(self.base + pa, n))
        except gdb.MemoryError:
            raise VmError(
                "cannot read physical address 0x%x (host address 0x%x)" % (pa, self.base + pa)
            )


class QemuPhys(PhysReader):
    """The i386 machine under QEMU: physical reads through the gdbstub's
    PhyMemMode (virtual reads use the current CR3, so another process's
    page tables must be read physically). The mode is switched on for
    each read and off again, so GDB's own reads stay virtual."""

    name = "QEMU physical memory (Qqemu.PhyMemMode)"

    def __init__(self):
        self.bytes = int(symbol("vm_kinfo")["mem_bytes"])
        if self.bytes == 0:
            raise VmError("VM has not booted yet (vm_kinfo is empty)")

    def size(self):
        return self.bytes

    def read(self, pa, n):
        self.check(pa, n)
        gdb.execute("maintenance packet Qqemu.PhyMemMode:1", to_string=True)
        try:
            gdb.execute("maintenance flush dcache", to_string=True)
            return bytes(gdb.selected_inferior().read_memory(pa, n))
        except gdb.MemoryError:
            raise VmError("cannot read physical address 0x%x through QEMU" % pa)
        finally:
            gdb.execute("maintenance packet Qqemu.PhyMemMode:0", to_string=True)
            gdb.execute("maintenance flush dcache", to_string=True)


def _hosted_probe():
    return gdb.lookup_global_symbol("hm") is not None


def _qemu_probe():
    conn = getattr(gdb.selected_inferior(), "connection", None)
    return conn is not None and conn.type == "remote"


# (probe, class): the first whose probe is true reads physical memory.
READERS = [(_hosted_probe, HostedPhys), (_qemu_probe, QemuPhys)]


def phys_reader():
    for probe, cls in READERS:
        if probe():
            return cls()
    raise VmError("no way to read physical memory here: neither the hosted machine nor QEMU")


def vm_phys_of(ptr):
    """Physical address of a pointer into VM's direct map (a slab object,
    a page directory), or None. VM's view of physical address 0 is its
    slab's directmap (set at boot on every machine)."""
    base = u(symbol("directmap"))
    size = int(symbol("vm_kinfo")["mem_bytes"])
    if base and base <= ptr < base + size:
        return ptr - base
    return None
