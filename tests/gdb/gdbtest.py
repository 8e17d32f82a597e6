"""What the GDB tests share: running gdb -batch on the vm binary of a
build, stopped at a scenario's checkpoint, attached to a server, or on a
core file, with vmscope's scripts auto-loaded as a user would have them.

Each test is tests/gdb/test_NAME.py BUILD_DIR (CTest: gdb.NAME). It
prints what it checks and exits non-zero on the first difference.
"""
import os
import re
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(SRC, "tests", "gdb")


def build_dir():
    if len(sys.argv) < 2:
        sys.exit("usage: %s BUILD_DIR" % sys.argv[0])
    return os.path.abspath(sys.argv[1])


def env():
    e = dict(os.environ)
    # LeakSanitizer cannot run under ptrace; the ASan build's vm would
    # report that at exit instead of leaks.
    e["ASAN_OPTIONS"] = "detect_leaks=0:" + e.get("ASAN_OPTIONS", "")
    e.pop("DEBUGINFOD_URLS", None)
    return e


def gdb_argv(build, commands):
    argv = [
        "gdb", "-batch", "-nx",
        "-iex", "set debuginfod enabled off",
        "-iex", "add-auto-load-safe-path %s" % build,
        "-iex", "set pagination off",
        "-iex", "set width 0",
        "-iex", "set confirm off",
    ]
    for c in commands:
        argv += ["-ex", c]
    return argv


def gdb(build, commands, target_args=(), timeout=300, check=True):
    """Run gdb -batch with commands; target_args follow (e.g. ["--args",
    vm, "run", FILE], ["-p", PID], [vm, core]). Returns stdout + stderr as
    GDB printed them."""
    argv = gdb_argv(build, commands) + list(target_args)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout, env=env())
    if check and p.returncode != 0:
        fail("gdb exited %d\n%s" % (p.returncode, p.stdout))
    if "Traceback" in p.stdout or "Python Exception" in p.stdout:
        fail("a Python traceback escaped:\n" + p.stdout)
    return p.stdout


def at_checkpoint(build, scenario, name, commands, vm_args=(), **kw):
    """Run `vm run [vm_args] scenario` under GDB, stop at `checkpoint name`
    and run commands there."""
    vm = os.path.join(build, "vm")
    stop = ["break scn_checkpoint if $_streq(name, \"%s\")" % name, "run"]
    return gdb(build, stop + list(commands),
               ["--args", vm, "run"] + list(vm_args) + [scenario], **kw)


def section(output, begin, end):
    """The lines of output between the marker lines begin and end
    (echo them from GDB: `echo @@A\\n`)."""
    lines = output.splitlines()
    try:
        i = lines.index(begin)
        j = lines.index(end, i + 1)
    except ValueError:
        fail("markers %s..%s not in GDB's output:\n%s" % (begin, end, output))
    return lines[i + 1:j]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def expect_equal(what, got, want):
    if got != want:
        fail("%s:\n  got  %r\n  want %r" % (what, got, want))
    print("ok: %s" % what)


def mask_addresses(text):
    """Host addresses (0x5555..., 0x7fff...) change between builds: mask
    them to 0xADDR for comparisons of printer output."""
    return re.sub(r"0x[0-9a-f]{9,16}", "0xADDR", text)
