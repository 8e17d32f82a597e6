"""vmstat against a real `vm serve` (docs/serve.md): the numbers of every
mode against what a scenario made happen (test_vmstat_serve.scn), JSON
parsed back, the error cases, clients that misbehave beside vmstat, and
the live demo workload.

    python3 test_vmstat_serve.py --vmstat PATH --vm PATH [--sanity-build] [unittest args]

Exits 77 (a skip, for CTest) when the vm binary has no `serve` command.
"""

import json
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "test_vmstat_serve.scn")
LEAK_SCENARIO = os.path.join(HERE, "test_vmstat_leak.scn")
DOC = os.path.join(HERE, "..", "..", "docs", "vmstat.md")
VMSTAT = VM = None
SANITY_BUILD = False  # --sanity-build: VM records allocation sites

MAGIC, VERSION = 0x4E494D56, 1
HDR = struct.Struct("<IHHIII")
REQ = struct.Struct("<iIII")
EINVAL = 22


class Server:
    """`vm serve` on a socket in a fresh directory, stopped by stop()."""

    def __init__(self, workload, seconds=120, extra=()):
        self.dir = tempfile.TemporaryDirectory(prefix="vmstat-serve-")
        self.path = os.path.join(self.dir.name, "vm.sock")
        self.out = open(os.path.join(self.dir.name, "out"), "w+")
        self.err = open(os.path.join(self.dir.name, "err"), "w+")
        self.proc = subprocess.Popen([VM, "serve", "--socket", self.path, "--workload", workload,
                                      "--seconds", str(seconds)] + list(extra),
                                     stdout=self.out, stderr=self.err)
        # The socket is bound before the scenario runs; a client that
        # connects early waits in the backlog. Wait for the "serving" line
        # so that nothing here races with the scenario.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.err.seek(0)
            if "serving the debug call" in self.err.read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("vm serve did not start: " + self.log())

    def log(self):
        self.out.seek(0)
        self.err.seek(0)
        return self.out.read() + self.err.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            status = self.proc.wait()
        self.out.close()
        self.err.close()
        self.dir.cleanup()
        return status


def vmstat(path, *args, status=0, timeout=30):
    r = subprocess.run([VMSTAT, "--socket", path] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != status:
        raise AssertionError("vmstat %s: exit %d, not %d: %s%s" % (
            " ".join(args), r.returncode, status, r.stdout, r.stderr))
    return r


def vmjson(path, *args):
    lines = vmstat(path, "--json", *args).stdout.splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def request(sock, subcall, endpoint=0, version=VERSION, seq=1):
    """A raw request, and its reply header and payload."""
    sock.sendall(HDR.pack(MAGIC, version, subcall, 0, seq, REQ.size) +
                 REQ.pack(endpoint, 0, 0, 0))
    head = recv_exact(sock, HDR.size)
    hdr = HDR.unpack(head)
    return hdr, recv_exact(sock, hdr[5])


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        k = sock.recv(n - len(data))
        if not k:
            raise EOFError("the server closed the connection")
        data += k
    return data


class Scenario(unittest.TestCase):
    """One server for the class: the scenario's machine does not change,
    but for the counters vmstat's own requests move."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(SCENARIO)
        cls.path = cls.server.path

    @classmethod
    def tearDownClass(cls):
        status = cls.server.stop()
        assert status == 0, "vm serve exited %d" % status

    def procs(self):
        return {p["name"]: p for p in vmjson(self.path, "-P")["processes"]}

    def test_procs(self):
        p = self.procs()
        self.assertEqual(sorted(p), ["A", "B", "C"])
        a, b, c = p["A"], p["B"], p["C"]
        self.assertEqual((a["resident"], a["shared"], a["cow"]), (5, 0, 0))
        self.assertEqual((a["virtual_pages"], a["regions"], a["minflt"]), (12, 2, 5))
        self.assertEqual(a["pss_1k"], 5 * 1024)
        # B: 2 heap pages copy-on-write with C, 1 shared page (the third
        # heap page was yielded to the cache).
        self.assertEqual((b["resident"], b["shared"], b["cow"]), (3, 1, 2))
        self.assertEqual((c["resident"], c["shared"], c["cow"]), (3, 1, 2))
        self.assertEqual(b["pss_1k"], 3 * 512)  # every page mapped twice
        self.assertEqual((b["grants"], b["cache_blocks"]), (1, 1))
        self.assertEqual((c["grants"], c["cache_blocks"], c["minflt"]), (0, 0, 0))
        # The table shows the same in KiB, and in pages with -S.
        rows = {l.split()[1]: l.split() for l in vmstat(self.path, "-P").stdout.splitlines()[1:]}
        self.assertEqual(rows["A"][2:7], ["20", "0", "0", "48", "20"])
        self.assertEqual(rows["B"][2:7], ["12", "4", "8", "24", "6"])
        rows = {l.split()[1]: l.split()
                for l in vmstat(self.path, "-P", "-S").stdout.splitlines()[1:]}
        self.assertEqual(rows["A"][2:7], ["5", "0", "0", "12", "5"])

    def test_regions_of_a(self):
        out = vmstat(self.path, "-r", "A").stdout.splitlines()
        ep = self.procs()["A"]["endpoint"]
        self.assertEqual(out[0], "%d:   A" % ep)
        self.assertEqual(out[2].split(), ["20000000", "32", "20", "0", "0", "rw-p", "anon"])
        self.assertEqual(out[3].split(), ["20100000", "16", "0", "0", "0", "rw-p", "anon"])
        self.assertEqual(out[5].split(), ["total", "kB", "48", "20", "0", "0"])
        self.assertEqual(vmstat(self.path, "-r", str(ep)).stdout.splitlines(), out)
        d = vmjson(self.path, "-r", "A", "-p")
        self.assertEqual(d["total"], {"regions": 2, "length": 48 * 1024, "resident": 5,
                                      "shared": 0, "cow": 0})
        buf, idle = d["regions"]
        self.assertEqual([p["vaddr"] for p in buf["pages"]],
                         [0x20000000 + 4096 * i for i in range(5)])
        self.assertEqual(idle["pages"], [])
        for p in buf["pages"]:
            self.assertEqual((p["refcount"], p["cacheref"]), (1, 0))
            self.assertEqual(p["pte"] & ~0xFFF, p["phys"])  # the PTE maps the frame
            self.assertEqual(p["pte_bits"], "PWUAD")  # written by fill: accessed, dirty
        self.assertEqual(len({p["phys"] for p in buf["pages"]}), 5)
        # -p in text: one line per page, under its region.
        lines = vmstat(self.path, "-r", "A", "-p").stdout.splitlines()
        self.assertEqual(len([l for l in lines if l.startswith("  2000")]), 5)

    def test_fork_shares_frames(self):
        b = vmjson(self.path, "-r", "B", "-p")
        c = vmjson(self.path, "-r", "C", "-p")
        for d in (b, c):
            heap, sh = d["regions"]
            self.assertEqual((heap["start"], heap["length"], heap["resident"], heap["cow"]),
                             (0x20000000, 16384, 2, 2))
            self.assertEqual((sh["start"], sh["mode"], sh["resident"], sh["shared"]),
                             (0x30000000, "rw-s", 1, 1))
            self.assertEqual([p["refcount"] for p in heap["pages"] + sh["pages"]], [2, 2, 2])
            # Copy-on-write pages are mapped read-only; the shared one is not.
            self.assertEqual([p["pte"] & 2 for p in heap["pages"]], [0, 0])
            self.assertEqual(sh["pages"][0]["pte"] & 2, 2)
        phys = [[p["phys"] for r in d["regions"] for p in r["pages"]] for d in (b, c)]
        self.assertEqual(phys[0], phys[1])

    def test_grants(self):
        p = self.procs()
        b, c = p["B"]["endpoint"], p["C"]["endpoint"]
        made = vmjson(self.path, "-g", "B")["grants"]
        self.assertEqual(len(made), 1)
        g = made[0]
        self.assertEqual((g["granter"], g["grantee"], g["addr"], g["len"], g["access"],
                          g["mapped"], g["direction"]), (b, c, 0x20000000, 8192, 3, 0, "made"))
        held = vmjson(self.path, "-g", "C")["grants"]
        self.assertEqual([(h["id"], h["direction"]) for h in held], [(g["id"], "held")])
        self.assertEqual(vmjson(self.path, "-g", "A")["grants"], [])
        out = vmstat(self.path, "-g", "C").stdout.splitlines()
        self.assertEqual(out[2].split(), [str(g["id"]), "held", str(b), str(c), "20000000", "8192",
                                          "rw", "0"])
        self.assertEqual(out[3], "1 grants")

    def test_cache(self):
        self.assertEqual(vmjson(self.path, "-c"), {"blocks": 1, "pages": 1, "yields": 1,
                                                   "hits": 0, "misses": 0, "evictions": 0,
                                                   "forgets": 0, "page_size": 4096})
        lines = [l.strip() for l in vmstat(self.path, "-c").stdout.splitlines()]
        self.assertIn("1 blocks held", lines)
        self.assertIn("4 K held", lines)

    def test_counters(self):
        s = vmjson(self.path, "-s")
        self.assertEqual((s["page_size"], s["nprocs"], s["grants"]), (4096, 3, 1))
        self.assertEqual((s["spawns"], s["forks"], s["execs"], s["exits"]), (2, 1, 0, 0))
        self.assertEqual((s["pf_cowcopy"], s["pf_refused"], s["pages_cached"]), (0, 0, 1))
        self.assertGreaterEqual(s["pf_zerofill"], 8)  # 5 in A, 3 in B
        self.assertTrue(0 < s["pages_total"] <= 4096)  # 16M, less what is not the pool
        calls = s["calls"]
        self.assertEqual((calls["mmap"], calls["spawn"], calls["fork"], calls["grant"],
                          calls["yieldblockgetblock"]), (4, 2, 1, 1, 1))
        self.assertGreater(calls["info"], 0)
        # The slab's pages are its caches' pages.
        m = vmjson(self.path, "-m")
        self.assertEqual(sum(c["pages"] for c in m["caches"]), s["pages_slab"])
        self.assertEqual(m["total"]["pages"], s["pages_slab"])
        for c in m["caches"]:
            self.assertLessEqual(c["inuse"], c["objects"])
        # The text says the same, in KiB.
        lines = [l.strip() for l in vmstat(self.path, "-s").stdout.splitlines()]
        self.assertIn("%d K free memory" % (s["pages_free"] * 4), lines)
        self.assertIn("4 mmap calls", lines)

    def test_rows(self):
        s = vmjson(self.path, "-s")
        out = vmstat(self.path, "-S").stdout.splitlines()
        n, free, cache, slab, ptbl, flt = map(int, out[2].split()[:6])
        self.assertEqual((n, free, cache, slab, ptbl),
                         (3, s["pages_free"], 1, s["pages_slab"], s["pages_pagetables"]))
        faults = sum(s[k] for k in ("pf_zerofill", "pf_cowcopy", "pf_cowreuse", "pf_shared",
                                    "pf_refused", "pf_nomem"))
        self.assertEqual(flt, faults)
        # Nothing runs: every rate is 0, vmstat's own debug calls included.
        out = vmstat(self.path, "-n", "0.2", "3").stdout.splitlines()
        self.assertEqual(len(out), 5)
        for line in out[3:]:
            self.assertEqual(line.split()[5:], ["0"] * 5, line)
        rows = [json.loads(l) for l in vmstat(self.path, "--json", "0.2", "2").stdout.splitlines()]
        self.assertEqual(set(rows[1]["per_second"].values()), {0})

    def test_sanity(self):
        before = vmjson(self.path, "--sanity")
        after = vmjson(self.path, "--sanity", "--run")
        self.assertEqual(after["runs"], before["runs"] + 1)
        self.assertEqual((after["last_findings"], after["total_findings"]), (0, 0))
        self.assertTrue(after["ran_now"])
        self.assertEqual(vmjson(self.path, "--sanity")["runs"], after["runs"])
        lines = [l.strip() for l in vmstat(self.path, "--sanity").stdout.splitlines()]
        self.assertEqual(lines[0], "%d checks run" % after["runs"])

    def test_no_such_process(self):
        for args in (["-r", "nobody"], ["-r", "9999"], ["-g", "nobody"], ["-r", "D", "-p"]):
            r = vmstat(self.path, *args, status=1)
            self.assertEqual(r.stderr, "vmstat: no such process: %s\n" % args[1])
            self.assertEqual(r.stdout, "")

    def test_garbage_client_does_not_disturb_others(self):
        # An idle client connected before, garbage from another, half a
        # request from a third: vmstat and the idle client are served.
        idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        idle.connect(self.path)
        half = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        half.connect(self.path)
        half.sendall(HDR.pack(MAGIC, VERSION, 1, 0, 1, REQ.size)[:10])
        bad = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        bad.connect(self.path)
        bad.settimeout(10)
        bad.sendall(b"GET / HTTP/1.0\r\n\r\n" + os.urandom(64))
        try:
            self.assertEqual(bad.recv(100), b"")  # dropped, nothing answered
        except ConnectionResetError:
            pass
        bad.close()
        before = self.procs()
        self.assertEqual(vmstat(self.path, "-r", "A").stdout.splitlines()[2].split()[2], "20")
        idle.settimeout(10)
        hdr, payload = request(idle, 1)
        self.assertEqual((hdr[0], hdr[1], hdr[3], len(payload)), (MAGIC, VERSION, 0, 536))  # vmi_stats with forged
        self.assertEqual(self.procs(), before)
        idle.close()
        half.close()

    def test_wrong_version_client(self):
        # The server answers another version with its own and EINVAL,
        # then closes; vmstat beside it is unaffected.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.path)
        s.settimeout(10)
        hdr, payload = request(s, 1, version=2, seq=7)
        self.assertEqual((hdr[0], hdr[1], hdr[3], hdr[5]), (MAGIC, VERSION, EINVAL, 0))
        s.close()
        vmstat(self.path, "-P")

    def test_many_clients_at_once(self):
        runs = [subprocess.Popen([VMSTAT, "--socket", self.path, "--json", "-r", "A", "-p"],
                                 stdout=subprocess.PIPE, text=True) for _ in range(8)]
        outs = [r.communicate(timeout=30)[0] for r in runs]
        self.assertEqual([r.returncode for r in runs], [0] * 8)
        self.assertEqual(len(set(outs)), 1)
        self.assertEqual(json.loads(outs[0])["total"]["resident"], 5)


    def test_doc_examples(self):
        """The examples docs/vmstat.md marks *checked* print exactly that."""
        if SANITY_BUILD:
            self.skipTest("the VM_SANITY build's metadata changes the free and slab pages the "
                          "examples show (checked in the other builds)")
        with open(DOC) as f:
            lines = f.read().splitlines()
        checked = 0
        for i, line in enumerate(lines):
            if not line.startswith("*checked*"):
                continue
            start = next(k for k in range(i + 1, len(lines)) if lines[k].startswith("    $ "))
            end = next((k for k in range(start + 1, len(lines))
                        if not lines[k].startswith("    ")), len(lines))
            args = shlex.split(lines[start][len("    $ "):])
            self.assertEqual(args[0], "vmstat")
            want = "".join(l[4:] + "\n" for l in lines[start + 1:end])
            r = subprocess.run([VMSTAT, "--socket", self.path] + args[1:], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(r.stdout + r.stderr, want, "docs/vmstat.md line %d" % (start + 1))
            checked += 1
        self.assertGreaterEqual(checked, 5)


class Lifecycle(unittest.TestCase):
    def test_stopped_server(self):
        srv = Server(SCENARIO)
        path = srv.path
        vmstat(path)
        self.assertEqual(srv.stop(), 0)
        r = vmstat(path, status=1)
        self.assertEqual(r.stderr, "vmstat: VM is not running (no server at %s: no such file or "
                                   "directory)\n" % path)

    def test_server_stops_during_rows(self):
        srv = Server(SCENARIO, seconds=2)
        r = vmstat(srv.path, "0.2", status=1)
        self.assertTrue(r.stderr.startswith("vmstat: lost the connection to VM at %s: "
                                            % srv.path), r.stderr)
        self.assertGreater(len(r.stdout.splitlines()), 3)
        srv.stop()


class Leak(unittest.TestCase):
    """A leak injected into VM (--inject-leak=1): vmstat --sanity --run
    shows the finding, its frame, and in the VM_SANITY build where the
    frame came from (docs/chasing-leaks.md)."""

    def test_leak_reported(self):
        srv = Server(LEAK_SCENARIO, extra=["--inject-leak=1"])
        try:
            p = srv.path
            m = re.search(r"inject: leaking frame (0x[0-9a-f]+) \(1 page\): not freed at "
                          r"vm/\S+\.c:\d+ \(call \d+: munmap by cc, ", srv.log())
            self.assertIsNotNone(m, srv.log())
            frame = int(m.group(1), 16)
            self.assertEqual(vmjson(p, "--sanity")["runs"], 0)
            d = vmjson(p, "--sanity", "--run")
            self.assertEqual((d["runs"], d["last_findings"], d["total_findings"]), (1, 1, 1))
            self.assertEqual(len(d["findings"]), 1)
            f = d["findings"][0]
            self.assertEqual((f["kind"], f["frame"]), ("leak", frame))
            self.assertEqual(f["text"], "frames 0x%08x-0x%08x (1 page) are neither free nor "
                             "owned" % (frame, frame + 4096))
            self.assertIsNone(f["freed"])
            if SANITY_BUILD:
                # The first page of cc's heap, allocated by the write's fault.
                self.assertRegex(f["allocated"], r"^vm/\S+\.c:\d+ \(call \d+: pagefault by cc, "
                                 r"ep 0x[0-9a-f]+, at 0x[0-9a-f]+000\)$")
            else:
                self.assertIsNone(f["allocated"])
            out = vmstat(p, "--sanity").stdout.splitlines()
            self.assertEqual(out[1].split(), ["1", "findings", "in", "the", "last", "check"])
            self.assertEqual(out[4], "leak: " + f["text"])
            if SANITY_BUILD:
                self.assertEqual(out[5], "    allocated at " + f["allocated"])
        finally:
            status = srv.stop()
        self.assertEqual(status, 0)


class Demo(unittest.TestCase):
    """The live demo: numbers move, and stay consistent with each other."""

    def test_demo(self):
        srv = Server("demo", seconds=60, extra=["--mem", "32M"])
        try:
            p = srv.path
            time.sleep(1)
            rows = [json.loads(l) for l in vmstat(p, "--json", "0.5", "5").stdout.splitlines()]
            for prev, cur in zip(rows, rows[1:]):
                for k, v in cur["per_second"].items():
                    if k in ("faults", "calls"):
                        continue
                    d = cur["stats"][k] - prev["stats"][k]
                    self.assertGreaterEqual(d, 0, k)
                    self.assertEqual(v, round(d / cur["interval"]), k)
            self.assertGreater(rows[-1]["stats"]["forks"], rows[0]["stats"]["forks"])
            last = rows[-1]["stats"]
            self.assertLessEqual(last["pages_free"], last["pages_total"])
            names = {q["name"] for q in vmjson(p, "-P")["processes"]}
            self.assertTrue({"sh", "fs", "db"} <= names, names)
            for proc in ("sh", "fs", "db"):
                d = vmjson(p, "-r", proc, "-p")
                for r in d["regions"]:
                    self.assertLessEqual(len(r["pages"]), r["length"] // 4096)
                out = vmstat(p, "-r", proc).stdout
                self.assertIn("total kB", out)
            for args in ([], ["-w", "-t"], ["-s"], ["-m"], ["-c"], ["--sanity"], ["-g", "db"]):
                vmstat(p, *args)
        finally:
            status = srv.stop()
        self.assertEqual(status, 0)


def main():
    global VMSTAT, VM
    args = sys.argv[1:]
    if len(args) < 4 or args[0] != "--vmstat" or args[2] != "--vm":
        sys.exit("usage: test_vmstat_serve.py --vmstat PATH --vm PATH [--sanity-build] "
                 "[unittest args]")
    VMSTAT, VM = os.path.abspath(args[1]), os.path.abspath(args[3])
    global SANITY_BUILD
    if len(args) > 4 and args[4] == "--sanity-build":
        SANITY_BUILD = True
        del args[4]
    r = subprocess.run([VM, "serve", "--help"], capture_output=True, text=True)
    if r.returncode != 0 or "vm serve" not in r.stdout:
        print("test_vmstat_serve: %s has no `serve` command: skipped" % VM)
        sys.exit(77)
    unittest.main(argv=[sys.argv[0]] + args[4:], verbosity=2)


if __name__ == "__main__":
    main()
