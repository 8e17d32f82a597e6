#!/usr/bin/env python3
"""Soak `vm serve --workload demo` (docs/reliability.md).

    soak.py --vm VM --vmstat VMSTAT --vmtop VMTOP [--seconds N] [--mem SIZE]
            [--tick MS] [--cycle STEPS] [--sanity N] [--curve FILE] [--json FILE]

Starts `vm serve --workload demo --cycle STEPS --sanity=every-N` on a
private socket, then, all at once and for the whole run:

- a monitor: a client of its own polling VMI_STATS (every 20 ms), which
  finds the demo's cycle boundaries (the rest between two cycles, when no
  process is alive: nprocs 0) and records the machine there (free pages,
  slab, page tables, cache, grants), and times every reply;
- vmstat clients (-s, -P, -m, -c, --sanity, a row every 0.1 s);
- `vmtop -b` clients;
- rude clients: garbage, half a request then disconnect, another version,
  a wrong length, connect and disconnect in the middle of a request, and
  a burst of requests then disconnect without reading;
- a staller: connects, sends requests and never reads its replies (the
  server drops it after 10 s without progress; it comes back);
- an idle client that connects and never sends anything (kept).

It checks:

- memory stays flat: at every cycle boundary, free pages are what they
  were at the first one (and slab pages too; page tables, cached pages and
  grants 0), and at least 2 boundaries were seen;
- no consistency finding: the sanity record's total is 0 (VM checks every
  N calls), and a check run at the end finds nothing;
- no client stalls VM: the demo keeps calling VM while the staller holds
  its connection (the call counters grow between the monitor's samples),
  and no reply to the monitor took longer than 2 s;
- every vmstat and vmtop run exits 0;
- at the end the server still answers, exits 0 on SIGTERM, and its demo
  saw no mismatch and no finding.

Exit 0 when all hold, 1 otherwise (what failed on stderr). The memory
curve (one line per boundary) goes to --curve, the figures to --json.
Python 3 standard library only.
"""
import argparse
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

MAGIC = 0x4E494D56
VERSION = 1
HDR = struct.Struct("<IHHIII")  # magic, version, subcall, status, seq, len
REQ = struct.Struct("<iIII")  # endpoint, cursor, addr, flags
STATS_HEAD = struct.Struct("<10I12Q")  # the fixed part of struct vmi_stats
NCALLS = 49
SANITY = struct.Struct("<IIQQ")  # runs, last_findings, last_call, total_findings
VMI_STATS, VMI_PROCS, VMI_CACHE, VMI_SANITY = 1, 2, 5, 8
VMI_SANITY_RUN = 1
STATS_FIELDS = ("page_size pages_total pages_free largest_free pages_cached pages_slab "
                "pages_pagetables pages_vm nprocs grants pf_zerofill pf_cowcopy pf_cowreuse "
                "pf_shared pf_refused pf_nomem spawns forks execs exits evictions "
                "bad_calls").split()

failures = []
lock = threading.Lock()
stop = threading.Event()


def fail(what):
    with lock:
        failures.append(what)
    print("soak: FAILED:", what, file=sys.stderr, flush=True)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def call(s, subcall, flags=0, seq=1):
    s.sendall(HDR.pack(MAGIC, VERSION, subcall, 0, seq, REQ.size) + REQ.pack(0, 0, 0, flags))
    magic, version, sub, status, rseq, length = HDR.unpack(recv_exact(s, HDR.size))
    if magic != MAGIC or version != VERSION or sub != subcall or rseq != seq:
        raise ConnectionError("bad reply header")
    return status, recv_exact(s, length)


def stats_of(payload):
    head = STATS_HEAD.unpack_from(payload)
    st = dict(zip(STATS_FIELDS, head))
    calls = struct.unpack_from("<%dQ" % NCALLS, payload, STATS_HEAD.size)
    st["calls"] = sum(calls)
    off = STATS_HEAD.size + 8 * NCALLS
    st["forged"] = struct.unpack_from("<Q", payload, off)[0] if len(payload) >= off + 8 else 0
    return st


def connect(path, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


class Monitor(threading.Thread):
    """Polls the statistics; finds cycle boundaries; times the replies."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.boundaries = []  # the machine at each rest between cycles
        self.samples = 0
        self.max_latency = 0.0
        self.progress_gaps = 0  # consecutive samples 1 s apart without a VM call
        self.last = None
        self.error = None
        # Between two boundaries: the lowest free pages, the most cached,
        # the most processes (the curve shows memory used, then returned).
        self.cycle = {"min_free": None, "max_cached": 0, "max_procs": 0}

    def run(self):
        try:
            s = connect(self.path)
            in_rest = False
            last_calls, last_calls_t = None, time.time()
            seq = 0
            while not stop.is_set():
                seq += 1
                t0 = time.time()
                status, payload = call(s, VMI_STATS, seq=seq)
                dt = time.time() - t0
                self.max_latency = max(self.max_latency, dt)
                if status != 0:
                    raise ConnectionError("VMI_STATS status %d" % status)
                st = stats_of(payload)
                st["t"] = t0
                self.last = st
                self.samples += 1
                if st["nprocs"] == 0 and not in_rest:
                    in_rest = True
                    st.update(self.cycle)  # the cycle that ended here
                    self.boundaries.append(st)
                    self.cycle = {"min_free": None, "max_cached": 0, "max_procs": 0}
                elif st["nprocs"] != 0:
                    in_rest = False
                    c = self.cycle
                    if c["min_free"] is None or st["pages_free"] < c["min_free"]:
                        c["min_free"] = st["pages_free"]
                    c["max_cached"] = max(c["max_cached"], st["pages_cached"])
                    c["max_procs"] = max(c["max_procs"], st["nprocs"])
                # The demo calls VM on every step; only during a rest
                # (50 steps) may the counters stand still.
                if last_calls is None or st["calls"] != last_calls:
                    last_calls, last_calls_t = st["calls"], t0
                elif t0 - last_calls_t > 3.0:
                    self.progress_gaps += 1
                    last_calls_t = t0
                time.sleep(0.02)
            s.close()
        except Exception as e:  # noqa: BLE001 - reported as a failure
            self.error = "monitor: %s: %s" % (type(e).__name__, e)


def run_tool(argv, name, counts):
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    with lock:
        counts[name] = counts.get(name, 0) + 1
    if r.returncode != 0:
        fail("%s exited %d: %s" % (" ".join(argv[1:]), r.returncode,
                                   r.stderr.decode(errors="replace").strip()[:200]))


def vmstat_client(args, path, counts):
    modes = [["-s"], ["-P"], ["-m"], ["-c"], ["--sanity"], ["-w", "0.1", "3"], ["--json", "-P"]]
    i = 0
    while not stop.is_set():
        run_tool([args.vmstat, "--socket", path] + modes[i % len(modes)], "vmstat", counts)
        i += 1
        time.sleep(0.05)


def vmtop_client(args, path, counts):
    while not stop.is_set():
        run_tool([args.vmtop, "-b", "-n", "3", "-d", "0.2", "--socket", path], "vmtop", counts)
        time.sleep(0.1)


def rude_client(path, counts, seed):
    """Every way of misbehaving that serve.md lists, in turns."""
    rng = random.Random(seed)
    good = HDR.pack(MAGIC, VERSION, VMI_STATS, 0, 9, REQ.size) + REQ.pack(0, 0, 0, 0)
    kinds = ["garbage", "half", "version", "badlen", "midreq", "burst", "random"]
    i = 0
    while not stop.is_set():
        kind = kinds[i % len(kinds)]
        i += 1
        try:
            s = connect(path, timeout=5)
            if kind == "garbage":
                s.sendall(os.urandom(rng.randint(1, 600)))
            elif kind == "half":
                s.sendall(good[:rng.randint(1, len(good) - 1)])
            elif kind == "version":
                s.sendall(HDR.pack(MAGIC, rng.choice([0, 2, 7, 0xFFFF]), VMI_STATS, 0, 1,
                                   REQ.size) + REQ.pack(0, 0, 0, 0))
                try:
                    s.recv(HDR.size)
                except OSError:
                    pass
            elif kind == "badlen":
                s.sendall(HDR.pack(MAGIC, VERSION, VMI_STATS, 0, 1, rng.choice([0, 15, 17, 4096]))
                          + b"\0" * 16)
            elif kind == "midreq":
                s.sendall(good + good[:rng.randint(1, len(good) - 1)])
                time.sleep(rng.random() * 0.05)
            elif kind == "burst":
                s.sendall(good * rng.randint(2, 30))
            else:
                sub = rng.randint(0, 12)
                s.sendall(HDR.pack(MAGIC, VERSION, sub, 0, 1, REQ.size) +
                          REQ.pack(rng.randint(-5, 70000), rng.getrandbits(32),
                                   rng.getrandbits(32), rng.getrandbits(32) & 3))
                try:
                    s.recv(70000)
                except OSError:
                    pass
            s.close()
        except OSError:
            pass  # a full backlog or a dropped connection: go on
        with lock:
            counts["rude"] = counts.get("rude", 0) + 1
        time.sleep(0.01)


def staller(path, counts):
    """Sends requests and never reads a reply; comes back when dropped."""
    req = HDR.pack(MAGIC, VERSION, VMI_PROCS, 0, 1, REQ.size) + REQ.pack(0, 0, 0, 0)
    while not stop.is_set():
        try:
            s = connect(path, timeout=1)
            s.setblocking(False)
            with lock:
                counts["staller"] = counts.get("staller", 0) + 1
            while not stop.is_set():
                try:
                    s.send(req)
                except BlockingIOError:
                    time.sleep(0.2)  # both buffers full: stalled, as meant
                except OSError:
                    break  # dropped by the server: connect again
            s.close()
        except OSError:
            time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vm", required=True)
    ap.add_argument("--vmstat", required=True)
    ap.add_argument("--vmtop", required=True)
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--mem", default="16M")
    ap.add_argument("--tick", type=int, default=2)
    ap.add_argument("--cycle", type=int, default=500, help="demo steps per cycle")
    ap.add_argument("--sanity", type=int, default=1000, help="VM's check every N calls")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--serve-arg", action="append", default=[],
                    help="one more argument for vm serve (e.g. --inject-leak=N, to see "
                    "the soak fail)")
    ap.add_argument("--curve", help="write the memory curve here")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="soak-")
    path = os.path.join(tmp, "vm.sock")
    out = open(os.path.join(tmp, "serve.out"), "w+")
    err = open(os.path.join(tmp, "serve.err"), "w+")
    argv = [args.vm, "serve", "--socket", path, "--workload", "demo", "--mem", args.mem,
            "--tick", str(args.tick), "--cycle", str(args.cycle), "--seed", str(args.seed),
            "--sanity=every-%d" % args.sanity] + args.serve_arg
    print("soak:", " ".join(argv), "for %g s" % args.seconds, flush=True)
    srv = subprocess.Popen(argv, stdout=out, stderr=err)
    end = time.time() + 15
    while not os.path.exists(path) and time.time() < end and srv.poll() is None:
        time.sleep(0.02)
    if not os.path.exists(path):
        err.seek(0)
        sys.exit("soak: the server did not start: %s" % err.read())

    counts = {}
    mon = Monitor(path)
    threads = [mon]
    threads += [threading.Thread(target=vmstat_client, args=(args, path, counts), daemon=True)
                for _ in range(2)]
    threads += [threading.Thread(target=vmtop_client, args=(args, path, counts), daemon=True)]
    threads += [threading.Thread(target=rude_client, args=(path, counts, k), daemon=True)
                for k in range(2)]
    threads += [threading.Thread(target=staller, args=(path, counts), daemon=True)]
    idle = connect(path)
    t_start = time.time()
    for t in threads:
        t.start()
    try:
        while time.time() - t_start < args.seconds and srv.poll() is None:
            time.sleep(0.2)
            if mon.error:
                break
    finally:
        stop.set()
    for t in threads:
        t.join(timeout=70)
    elapsed = time.time() - t_start

    # The end: the server still answers, with the idle client's connection
    # kept all along, and its consistency check finds nothing.
    if srv.poll() is not None:
        fail("the server exited during the run (%d)" % srv.returncode)
    if mon.error:
        fail(mon.error)
    final = None
    try:
        status, payload = call(idle, VMI_STATS, seq=2)
        final = stats_of(payload)
        status, payload = call(idle, VMI_SANITY, flags=VMI_SANITY_RUN, seq=3)
        runs, last_findings, _, total_findings = SANITY.unpack_from(payload)
        if status != 0 or last_findings != 0 or total_findings != 0:
            fail("consistency check: %d findings now, %d in %d checks" %
                 (last_findings, total_findings, runs))
    except (OSError, ConnectionError, struct.error) as e:
        fail("the idle client's connection: %s" % e)
        runs = total_findings = None
    idle.close()

    # Memory flat at the cycle boundaries.
    b = mon.boundaries
    if len(b) < 2:
        fail("only %d cycle boundaries seen (need 2)" % len(b))
    else:
        ref = b[0]
        for i, x in enumerate(b):
            for key in ("pages_pagetables", "pages_cached", "grants"):
                if x[key] != 0:
                    fail("boundary %d: %s %d, not 0" % (i, key, x[key]))
            for key in ("pages_free", "pages_slab"):
                if x[key] != ref[key]:
                    fail("boundary %d: %s %d, not %d as at the first" %
                         (i, key, x[key], ref[key]))
    if mon.progress_gaps:
        fail("%d times VM made no call for 3 s (stalled?)" % mon.progress_gaps)
    if mon.max_latency > 2.0:
        fail("a stats reply took %.2f s" % mon.max_latency)
    for who in ("vmstat", "vmtop", "rude", "staller"):
        if counts.get(who, 0) == 0:
            fail("no %s client ran" % who)

    srv.send_signal(signal.SIGTERM)
    try:
        rc = srv.wait(timeout=30)
    except subprocess.TimeoutExpired:
        srv.kill()
        rc = "hung"
    if rc != 0:
        fail("the server's exit status on SIGTERM: %s" % rc)
    err.seek(0)
    log = err.read()
    demo = [line for line in log.splitlines() if "vm serve: demo: " in line and "steps" in line]
    if not demo:
        fail("no demo summary on stderr")
    elif " 0 mismatches" not in demo[-1] or "with 0 findings" not in demo[-1]:
        fail("demo: %s" % demo[-1])
    if "MISMATCH" in log:
        fail("the demo logged a mismatch")
    out.seek(0)
    if "sanity:" in out.read():
        fail("VM printed consistency findings on stdout (%s)" % out.name)

    # One line per boundary: the machine there, and what the cycle before
    # it went through (- for the first, which may have been seen late).
    curve = ["# boundary  t(s)  free  slab  total | the cycle before: lowest free, "
             "most cached, most processes"]
    for i, x in enumerate(b):
        before = ("%6d %6d %4d" % (x["min_free"], x["max_cached"], x["max_procs"])
                  if i > 0 and x.get("min_free") is not None else "     -      -    -")
        curve.append("%9d %6.1f %6d %5d %6d | %s" % (i, x["t"] - t_start, x["pages_free"],
                                                    x["pages_slab"], x["pages_total"], before))
    figures = {
        "seconds": round(elapsed, 1),
        "argv": argv,
        "cycles_seen": len(b),
        "free_at_boundaries": sorted(set(x["pages_free"] for x in b)),
        "stats_samples": mon.samples,
        "max_stats_latency_ms": round(mon.max_latency * 1000, 1),
        "clients": counts,
        "vm_calls": final["calls"] if final else None,
        "bad_calls": final["bad_calls"] if final else None,
        "sanity_checks": runs,
        "sanity_findings": total_findings,
        "demo": demo[-1].split("demo: ", 1)[1] if demo else None,
    }
    if args.curve:
        with open(args.curve, "w") as f:
            f.write("\n".join(curve) + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
    print("\n".join(curve[:4] + (["    ..."] if len(curve) > 8 else []) + curve[-4:]
                    if len(curve) > 8 else curve))
    print(json.dumps(figures, indent=1))
    if failures:
        print("soak: %d failures (server log in %s)" % (len(failures), tmp), file=sys.stderr)
        return 1
    print("soak: passed: %.0f s, %d cycles, free pages at every boundary %s" %
          (elapsed, len(b), figures["free_at_boundaries"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
