"""vmtop's batch mode (-b -n N -d SECS) against a real `vm serve`: the
numbers it prints equal the debug call's (vmstat --json) for a machine a
scenario set up, sorting works, errors are clear; and on the live demo
workload the rates add up.

    python3 test_vmtop_batch.py --vmtop PATH --vm PATH --vmstat PATH
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCN = os.path.join(HERE, "test_vmstat_serve.scn")
ARGS = None


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(what, got, want):
    if got != want:
        fail("%s: got %r, want %r" % (what, got, want))
    print("ok: %s" % what)


class Server:
    def __init__(self, tmp, workload):
        self.sock = os.path.join(tmp, "vm.sock")
        self.err = open(os.path.join(tmp, "err"), "w+")
        self.p = subprocess.Popen([ARGS.vm, "serve", "--socket", self.sock, "--workload", workload,
                                   "--seconds", "300"], stdout=subprocess.DEVNULL, stderr=self.err)
        for _ in range(600):
            self.err.seek(0)
            if "serving the debug call" in self.err.read():
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        fail("vm serve did not start")

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=30)


def run(*args, rc=0):
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:" + env.get("ASAN_OPTIONS", "")
    p = subprocess.run([ARGS.vmtop] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120, env=env)
    if p.returncode != rc:
        fail("vmtop %s: exit %d, want %d\n%s%s" % (" ".join(args), p.returncode, rc, p.stdout,
                                                    p.stderr))
    return p.stdout, p.stderr


def vmstat(sock, *args):
    p = subprocess.run([ARGS.vmstat, "--socket", sock, "--json"] + list(args),
                       stdout=subprocess.PIPE, text=True, timeout=60, check=True)
    return json.loads(p.stdout)


def snapshots(text):
    return [s for s in text.split("\nvmtop ") if s.strip()]


def table(snap):
    lines = snap.splitlines()
    i = [n for n, l in enumerate(lines) if l.split()[:2] == ["EP", "NAME"]][0]
    head = lines[i].split()
    return [dict(zip(head, l.split())) for l in lines[i + 1:] if l.strip()]


def header(snap, key):
    for l in snap.splitlines():
        if l.startswith(key):
            return l
    fail("no %s line in %r" % (key, snap))


def kib(pages, ps):
    return pages * ps // 1024


def scenario_machine(tmp):
    srv = Server(tmp, SCN)
    try:
        out, _ = run("-b", "-n", "2", "-d", "0.2", "--socket", srv.sock)
        P = vmstat(srv.sock, "-P")
        S = vmstat(srv.sock, "-s")
        Cc = vmstat(srv.sock, "-c")
        by_name, _ = run("-b", "-s", "name", "--socket", srv.sock)
        by_ep, _ = run("-b", "-s", "ep", "--socket", srv.sock)
    finally:
        srv.stop()
    snaps = snapshots(out)
    check("two snapshots", len(snaps), 2)
    ps = P["page_size"]
    rows = {r["NAME"]: r for r in table(snaps[1])}
    check("processes", sorted(rows), sorted(p["name"] for p in P["processes"]))
    for p in P["processes"]:
        r = rows[p["name"]]
        want = {"EP": str(p["endpoint"]), "NAME": p["name"],
                "RSS": str(kib(p["resident"], ps)),
                "PSS": str((p["pss_1k"] * (ps // 1024) + 512) // 1024),
                "SHR": str(kib(p["shared"], ps)), "COW": str(kib(p["cow"], ps)),
                "VSZ": str(kib(p["virtual_pages"], ps)), "REG": str(p["regions"]),
                "FLT/S": "0.0"}  # nothing runs on this machine
        check("row %s against vmstat -P" % p["name"], r, want)
    order = [r["NAME"] for r in table(snaps[1])]
    rss = [int(rows[n]["RSS"]) for n in order]
    check("sorted by RSS, biggest first", rss, sorted(rss, reverse=True))
    check("-s name", [r["NAME"] for r in table(by_name)], sorted(rows))
    eps = [int(r["EP"]) for r in table(by_ep)]
    check("-s ep", eps, sorted(eps))
    mem = header(snaps[1], "Mem:")
    nums = dict((k, int(v)) for v, k in re.findall(r"(\d+)K (\w+)", mem))
    check("Mem: total", nums["total"], kib(S["pages_total"], ps))
    check("Mem: free", nums["free"], kib(S["pages_free"], ps))
    check("Mem: slab", nums["slab"], kib(S["pages_slab"], ps))
    check("Mem: ptbl", nums["ptbl"], kib(S["pages_pagetables"], ps))
    check("Mem: vm", nums["vm"], kib(S["pages_vm"], ps))
    check("Mem: the pool's segments add up to its total",
          sum(nums[k] for k in ("free", "private", "shared", "cache", "slab", "ptbl")),
          nums["total"])
    # B's shared page (C maps it too) and the 2 heap pages B and C share
    # copy-on-write: 3 frames mapped twice.
    check("Mem: shared (frames mapped more than once)", nums["shared"], kib(3, ps))
    cache = header(snaps[1], "Cache:")
    check("Cache: blocks", re.match(r"Cache: (\d+) blocks", cache).group(1), str(Cc["blocks"]))
    check("Processes line", header(snaps[1], "Processes:"), "Processes: %d" % len(P["processes"]))
    check("first snapshot: no rates yet", "Faults/s: 0.0 total" in header(snaps[0], "Faults/s:"),
          True)


def demo_machine(tmp):
    srv = Server(tmp, "demo")
    try:
        out, _ = run("-b", "-n", "3", "-d", "0.5", "--socket", srv.sock)
    finally:
        srv.stop()
    for snap in snapshots(out)[1:]:
        f = header(snap, "Faults/s:")
        vals = [float(x) for x in re.findall(r"([\d.]+) (?:total|zero-fill|cow copy|cow reuse|"
                                              r"shared|segv|nomem)", f)]
        if abs(vals[0] - sum(vals[1:])) > 0.2:
            fail("fault rates do not add up: %s" % f)
    print("ok: demo: fault rates by kind add up to the total")
    last = snapshots(out)[-1]
    if not any(float(r["FLT/S"]) > 0 for r in table(last)):
        fail("demo: no process faulted in half a second:\n" + last)
    print("ok: demo: processes fault")


def errors(tmp):
    _, err = run("-b", "--socket", os.path.join(tmp, "none.sock"), rc=1)
    check("no server", err.startswith("vmtop: VM is not running"), True)
    _, err = run("-b", "-n", "0", rc=2)
    check("-n 0", err.strip(), "vmtop: -n wants a count of 1 or more, not 0")
    _, err = run("-b", "-d", "x", rc=2)
    check("-d x", err.strip(), "vmtop: -d wants seconds from 0.05 to 3600, not x")
    _, err = run("-b", "-s", "nope", rc=2)
    check("-s nope", err.splitlines()[0], "vmtop: no column nope to sort by")
    _, err = run("-b", "extra", rc=2)
    check("extra argument", err.splitlines()[0], "vmtop: unexpected argument extra")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmtop", required=True)
    ap.add_argument("--vm", required=True)
    ap.add_argument("--vmstat", required=True)
    ARGS = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vmtop-batch-") as tmp:
        scenario_machine(tmp)
    with tempfile.TemporaryDirectory(prefix="vmtop-batch-") as tmp:
        demo_machine(tmp)
    with tempfile.TemporaryDirectory(prefix="vmtop-batch-") as tmp:
        errors(tmp)
    print("tools.vmtop-batch: all passed")


main()
