"""vmscope's GDB scripts: pretty-printers and `vm ...` commands that read
VM's data structures straight from memory (docs/gdb.md).

Nothing is registered on import: the loader (vm-gdb.py beside the vm
binary, or `source`) calls register(objfile) for each objfile it loads.
Printers are registered with that objfile; commands and convenience
functions once per GDB session.
"""
import importlib

import gdb

# One module per subject; each may define COMMANDS (gdb.Command classes),
# FUNCTIONS (gdb.Function classes) and add_printers(pp).
SUBJECTS = [
    "printers",
    "procs",
    "regions",
    "stats",
    "avl",
    "pagetable",
    "physblocks",
    "slab",
    "cache",
    "check",
    "functions",
]

_session_done = False


def _modules():
    mods = []
    for name in SUBJECTS:
        try:
            mods.append(importlib.import_module("." + name, __name__))
        except ImportError as e:
            if getattr(e, "name", None) != __name__ + "." + name:
                raise
    return mods


def register(objfile=None):
    """Register the printers with objfile (the progspace when None), and
    the commands and functions if this session has not got them yet."""
    global _session_done
    from . import printers, utils

    printers.register(objfile)
    if _session_done:
        return
    _session_done = True
    utils.VmPrefix()
    for mod in _modules():
        for cls in getattr(mod, "COMMANDS", []):
            cls()
        for cls in getattr(mod, "FUNCTIONS", []):
            cls()
