"""Pretty-printers for VM's structures (filled in below)."""
import gdb.printing


def build():
    pp = gdb.printing.RegexpCollectionPrettyPrinter("vmscope")
    return pp


def register(objfile):
    gdb.printing.register_pretty_printer(objfile, build(), replace=True)
