"""GDB side of test_pt.py and test_phys.py: sourced into GDB (`source
pt_oracle.py`) at the scenario's checkpoint. Asks the hosted machine (its
process table, its MMU through mmu_debug_translate/mmu_debug_count, the
allocator through phys_frame_free) and runs the vmscope commands, printing
everything between @@ markers for the test to compare outside GDB. The
oracle side never uses the vmscope package.
"""
import re

import gdb

MAPPING = re.compile(r"^  (0x[0-9a-f]{8}) -> ", re.M)


def oracle_procs():
    """@@proc NAME EP SLOT CR3 for every process of the machine's table."""
    table = gdb.parse_and_eval("hm.proc")
    n = table.type.strip_typedefs().range()[1] + 1
    for i in range(n):
        p = table[i]
        if not bool(p["inuse"]):
            continue
        name = p["name"].string()
        gdb.write("@@proc %s %d %d %#x\n" % (name, int(p["ep"]), i, int(p["cr3"])))


def machine_slot(name):
    """The slot of the machine's process called name."""
    table = gdb.parse_and_eval("hm.proc")
    for i in range(table.type.strip_typedefs().range()[1] + 1):
        p = table[i]
        if bool(p["inuse"]) and p["name"].string() == name:
            return i
    raise gdb.GdbError("the machine has no process %s" % name)


def machine_ep(name):
    return int(gdb.parse_and_eval("hm.proc[%d].ep" % machine_slot(name)))


def translate(ep, va):
    return int(gdb.parse_and_eval("mmu_debug_translate(%d, %#x)" % (ep, va)))


def oracle_pt(name):
    """vm pt NAME, then the MMU's answer for every mapping it printed and
    the MMU's count of user mappings."""
    ep = machine_ep(name)
    text = gdb.execute("vm pt %s" % name, to_string=True)
    gdb.write("@@pt %s\n%s@@end\n" % (name, text))
    for m in MAPPING.finditer(text):
        va = int(m.group(1), 16)
        gdb.write("@@tr %d %#x %#x\n" % (ep, va, translate(ep, va)))
    gdb.write("@@count %d %d\n" % (ep, int(gdb.parse_and_eval("mmu_debug_count(%d)" % ep))))


def oracle_tr(name, va):
    ep = machine_ep(name)
    gdb.write("@@tr %d %#x %#x\n" % (ep, va, translate(ep, va)))


def run(cmd):
    """A vmscope command's output, or its error as @@error MESSAGE."""
    try:
        return gdb.execute(cmd, to_string=True)
    except gdb.error as e:
        return "@@error %s\n" % e


def oracle_phys(frames):
    """vm phys on each frame, with the allocator's own word on whether
    it is free."""
    for f in frames:
        free = bool(gdb.parse_and_eval("phys_frame_free(%d)" % (f >> 12)))
        gdb.write("@@phys %#x %d\n%s@@end\n" % (f, int(free), run("vm phys %#x" % f)))


_values = {}


def oracle_expr(tag, expr):
    """Evaluate a C expression (with {ep:NAME} and {slot:NAME} replaced
    by the machine's endpoint and slot of process NAME), remember it as
    tag and print it."""
    expr = re.sub(r"\{ep:(\w+)\}", lambda m: str(machine_ep(m.group(1))), expr)
    expr = re.sub(r"\{slot:(\w+)\}", lambda m: str(machine_slot(m.group(1))), expr)
    v = int(gdb.parse_and_eval(expr))
    _values[tag] = v
    gdb.write("@@expr %s %#x\n" % (tag, v))


def oracle_named(tag, offset):
    """vm phys on the frame oracle_expr remembered as tag (plus offset)."""
    gdb.write("@@named %s\n%s@@end\n" % (tag, run("vm phys %#x" % (_values[tag] + offset))))


def vm_slot(name):
    """The slot of VM's vmproc called name (read with GDB's expressions)."""
    table = gdb.parse_and_eval("vmproc")
    for i in range(table.type.strip_typedefs().range()[1] + 1):
        p = table[i]
        if int(p["vm_flags"]) & 1 and p["vm_name"].string() == name:
            return i
    raise gdb.GdbError("VM has no process %s" % name)


def corrupt_pte(name, va, like):
    """Point name's PTE for va at the frame of its PTE for like (same page
    table), keeping the flags: a PTE that disagrees with VM's page."""
    slot = machine_slot(name)
    table = "(*(unsigned int *)(hm.phys + hm.proc[%d].cr3 + %d * 4) & 0xfffff000)" % (
        slot, va >> 22)
    pte = "*(unsigned int *)(hm.phys + %s + %d * 4)" % (table, (va >> 12) & 0x3FF)
    src = "*(unsigned int *)(hm.phys + %s + %d * 4)" % (table, (like >> 12) & 0x3FF)
    gdb.execute("set var %s = (%s & 0xfffff000) | (%s & 0xfff)" % (pte, src, pte))


def corrupt_list(name, va):
    """Cut the reference list of the block behind name's page va after its
    first phys_region (VM's own map_phys_at finds the page)."""
    gdb.execute("set var map_phys_at(&vmproc[%d], %#x)->ph->firstregion->next_ph_list = 0"
                % (vm_slot(name), va))
