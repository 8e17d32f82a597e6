"""Host side of test_pt.py and test_phys.py: run GDB at pt.scn's
checkpoint with pt_oracle.py sourced, and read back what it printed."""
import importlib.util
import os
import re

import gdbtest

SCN = os.path.join(gdbtest.HERE, "pt.scn")
ORACLE = os.path.join(gdbtest.HERE, "pt_oracle.py")
NONE = (1 << 64) - 1  # MMU_DEBUG_NONE


def constants(build):
    """The generated vmscope/constants.py of the build (no GDB needed)."""
    path = os.path.join(build, "gdb-scripts", "vmscope", "constants.py")
    spec = importlib.util.spec_from_file_location("vmscope_constants", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(build, commands, **kw):
    """GDB at `checkpoint pt` of pt.scn: the process table first, then
    commands (GDB commands; `python oracle_...(...)` calls pt_oracle.py)."""
    cmds = ["source " + ORACLE, "python oracle_procs()"] + list(commands) + ["echo @@done\\n"]
    text = gdbtest.at_checkpoint(build, SCN, "pt", cmds, **kw)
    if "@@done" not in text:
        gdbtest.fail("GDB did not get to the end:\n" + text)
    return text


def procs(text):
    """{name: (endpoint, cr3)} from the machine's process table."""
    out = {}
    for m in re.finditer(r"^@@proc (\S+) (\d+) (\d+) (0x[0-9a-f]+)$", text, re.M):
        out[m.group(1)] = (int(m.group(2)), int(m.group(4), 16))
    if sorted(out) != ["A", "B", "C", "D", "E"]:
        gdbtest.fail("the machine's processes are %s, not A-E:\n%s" % (sorted(out), text))
    return out


def translations(text):
    """{(ep, va): mmu_debug_translate's answer}."""
    return {(int(m.group(1)), int(m.group(2), 16)): int(m.group(3), 16)
            for m in re.finditer(r"^@@tr (\d+) (0x[0-9a-f]+) (0x[0-9a-f]+)$", text, re.M)}


def exprs(text):
    return {m.group(1): int(m.group(2), 16)
            for m in re.finditer(r"^@@expr (\S+) (0x[0-9a-f]+)$", text, re.M)}


def block(text, begin):
    """The lines after marker line begin up to the next @@end."""
    return gdbtest.section(text, begin, "@@end")


def flag_value(c, words):
    """The entry bits a list of vm pt's flag words stands for (P W U ...),
    with the values from the constants."""
    names = {"P": "I386_VM_PRESENT", "W": "I386_VM_WRITE", "U": "I386_VM_USER",
             "PWT": "I386_VM_PWT", "PCD": "I386_VM_PCD", "A": "I386_VM_ACC",
             "D": "I386_VM_DIRTY", "PS": "I386_VM_BIGPAGE", "G": "I386_VM_GLOBAL"}
    v = 0
    for w in words:
        if w == "-":
            continue
        if w not in names:
            gdbtest.fail("unknown flag word %r" % w)
        v |= getattr(c, names[w])
    return v


def expect_line(what, lines, pattern):
    """The match of the first line matching regular expression pattern."""
    for line in lines:
        m = re.fullmatch(pattern, line)
        if m:
            print("ok: %s" % what)
            return m
    gdbtest.fail("%s: no line matches %r in:\n%s" % (what, pattern, "\n".join(lines)))


def expect_no_line(what, lines, pattern):
    for line in lines:
        if re.search(pattern, line):
            gdbtest.fail("%s: unexpected line %r" % (what, line))
    print("ok: %s" % what)
