"""Convenience functions: $vm_proc("A") and $vm_region(PROC, ADDR)."""
import gdb

from . import utils


def _proc(arg):
    """A process from a function argument: a name (string), an endpoint
    (integer), or a struct vmproc value or pointer."""
    t = arg.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_ARRAY or (
            t.code == gdb.TYPE_CODE_PTR and t.target().strip_typedefs().code == gdb.TYPE_CODE_INT
            and t.target().sizeof == 1):
        return utils.find_proc(arg.string())
    if t.code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_ENUM):
        return utils.find_proc(str(int(arg)))
    if t.code == gdb.TYPE_CODE_PTR:
        arg, t = arg.dereference(), t.target().strip_typedefs()
    if t == utils.vmproc_type.get().strip_typedefs():
        return arg
    raise utils.VmError("not a process: a name, an endpoint or a struct vmproc (got %s)" % arg.type)


class VmProcFunction(gdb.Function):
    """$vm_proc(PROC): the struct vmproc of a process.

PROC is a name ("A") or an endpoint (1024). Example:
    print $vm_proc("A")
    print $vm_proc("A").vm_regions_avl
    vm avl &$vm_proc("A").vm_regions_avl"""

    def __init__(self):
        super().__init__("vm_proc")

    def invoke(self, proc):
        return _proc(proc)


class VmRegionFunction(gdb.Function):
    """$vm_region(PROC, ADDR): the struct vir_region of PROC containing ADDR.

PROC is a name, an endpoint or a struct vmproc (or pointer). Example:
    print $vm_region("A", 0x20001000)
    print $vm_region("A", 0x20001000).memtype->name
    print &$vm_region(1024, 0x20000000)"""

    def __init__(self):
        super().__init__("vm_region")

    def invoke(self, proc, addr):
        vmp = _proc(proc)
        a = int(addr) & 0xFFFFFFFF
        r = utils.region_containing(vmp, a)
        if r is None:
            raise utils.VmError("%s has no region at 0x%x" % (utils.proc_name(vmp), a))
        return r


FUNCTIONS = [VmProcFunction, VmRegionFunction]
