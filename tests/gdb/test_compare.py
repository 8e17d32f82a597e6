"""The scripts against the debug call, for the same state: `vm serve`
runs tests/gdb/state.scn and waits; vmstat asks it (-P, -r PROC, -s, and
--json for the numbers), then GDB attaches to the server (as
`scripts/vm-gdb --pid` does) and `vm procs`, `vm regions PROC` and `vm
stats` must print the same, field by field.

    python3 test_compare.py BUILD_DIR
"""
import os
import signal
import subprocess
import tempfile
import time

import gdbtest

BUILD = gdbtest.build_dir()
VM = os.path.join(BUILD, "vm")
VMSTAT = os.path.join(BUILD, "vmstat", "vmstat")
SCN = os.path.join(gdbtest.HERE, "state.scn")
PROCS = ["A", "B", "C", "D"]


def start_server(tmp):
    sock = os.path.join(tmp, "vm.sock")
    err = open(os.path.join(tmp, "err"), "w+")
    p = subprocess.Popen([VM, "serve", "--socket", sock, "--workload", SCN, "--seconds", "300"],
                         stdout=subprocess.DEVNULL, stderr=err, env=gdbtest.env())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        err.seek(0)
        if "serving the debug call" in err.read():
            return p, sock
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    err.seek(0)
    gdbtest.fail("vm serve did not start: " + err.read())


def vmstat(sock, *args):
    p = subprocess.run([VMSTAT, "--socket", sock] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    if p.returncode != 0:
        gdbtest.fail("vmstat %s: %s" % (" ".join(args), p.stderr))
    return p.stdout


def table(lines, what):
    """Rows of a whitespace-separated table as dicts by the header's names
    (the last column, FLAGS/Flags, takes the rest of the line)."""
    head = lines[0].split()
    rows = []
    for line in lines[1:]:
        if line.startswith("--------"):
            break
        cells = line.split(None, len(head) - 1)
        cells += [""] * (len(head) - len(cells))
        rows.append(dict(zip(head, cells)))
    if not rows and what != "empty":
        gdbtest.fail("%s: no rows in %r" % (what, lines))
    return rows


def compare_rows(what, key, got, want):
    gdbtest.expect_equal("%s: rows" % what, [r[key] for r in got], [r[key] for r in want])
    for g, w in zip(got, want):
        for col in w:
            if g.get(col) != w[col]:
                gdbtest.fail("%s: %s %s: field %s: GDB says %r, the debug call %r"
                             % (what, key, w[key], col, g.get(col), w[col]))
    print("ok: %s: %d rows, %d fields each" % (what, len(want), len(want[0])))


def main():
    with tempfile.TemporaryDirectory(prefix="gdb-compare-") as tmp:
        server, sock = start_server(tmp)
        try:
            want_P = vmstat(sock, "-P").splitlines()
            want_r = {p: vmstat(sock, "-r", p).splitlines() for p in PROCS}
            want_s = vmstat(sock, "-s").splitlines()  # last: it counts itself
            cmds = []
            for name, c in [("P", "vm procs")] + [("r" + p, "vm regions " + p) for p in PROCS] + \
                    [("s", "vm stats")]:
                cmds += ["echo @@%s\\n" % name, c, "echo @@end\\n"]
            out = gdbtest.gdb(BUILD, cmds + ["detach"], ["-p", str(server.pid), VM])
            # The server still serves after GDB detached.
            vmstat(sock, "-c")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

    got_P = gdbtest.section(out, "@@P", "@@end")
    compare_rows("vm procs vs vmstat -P", "EP", table(got_P, "P"), table(want_P, "P"))
    for p in PROCS:
        got = gdbtest.section(out, "@@r" + p, "@@end")
        gdbtest.expect_equal("vm regions %s: process line" % p, got[0], want_r[p][0])
        compare_rows("vm regions %s vs vmstat -r %s" % (p, p), "Address", table(got[1:], p),
                     table(want_r[p][1:], p))
        gdbtest.expect_equal("vm regions %s: totals" % p, got[-1], want_r[p][-1])
    got_s = gdbtest.section(out, "@@s", "@@end")
    gdbtest.expect_equal("vm stats: lines", len(got_s), len(want_s))
    for g, w in zip(got_s, want_s):
        gn, gl = g.split(None, 1)
        wn, wl = w.split(None, 1)
        gdbtest.expect_equal("vm stats: %s" % wl, (gn, gl), (wn, wl))


main()
