"""vmstat against a fake server (test_vmstat_fakeserver.py): every mode's
numbers and JSON, the usage errors, and every way a server can fail.

    python3 test_vmstat.py --vmstat PATH [unittest args, e.g. -k json]

The fake server's canned machine is described at the top of
test_vmstat_fakeserver.py; the numbers below come from it.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_vmstat_fakeserver import FakeServer  # noqa: E402

VMSTAT = None


def run(args, env=None, timeout=20):
    return subprocess.run([VMSTAT] + args, capture_output=True, text=True, timeout=timeout,
                          env=env)


class FakeCase(unittest.TestCase):
    mode = "normal"

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="vmstat-test-")
        self.path = os.path.join(self.dir.name, "vm.sock")
        self.server = FakeServer(self.path, self.mode)

    def tearDown(self):
        self.server.close()
        self.dir.cleanup()

    def vmstat(self, *args, status=0, timeout=20):
        r = run(["--socket", self.path] + list(args), timeout=timeout)
        self.assertEqual(r.returncode, status, "vmstat %s: %s%s" % (" ".join(args), r.stdout,
                                                                      r.stderr))
        if status == 0:
            self.assertEqual(r.stderr, "")
        return r

    def json(self, *args):
        out = self.vmstat("--json", *args).stdout
        lines = out.splitlines()
        self.assertEqual(len(lines), 1, out)
        return json.loads(lines[0])

    def table(self, out, header):
        """The rows after the line starting with header, split in words."""
        lines = out.splitlines()
        start = next(i for i, l in enumerate(lines) if l.split()[:1] == [header])
        return [l.split() for l in lines[start + 1:]]


class Rows(FakeCase):
    def test_one_row(self):
        out = self.vmstat().stdout.splitlines()
        self.assertEqual(len(out), 3)
        self.assertTrue(out[0].startswith("procs ---"), out[0])
        self.assertIn("memory (KiB)", out[0])
        self.assertEqual(out[1].split(),
                         ["n", "free", "cache", "slab", "ptbl", "flt", "cow", "all", "fork",
                          "exec"])
        # 3000 free pages of 4K; the first row's events are totals since
        # boot: 119 faults of all kinds, 10 copied, calls but pagefault (119)
        # and info (1000): 50 + 7 + 1 + 2 = 60.
        self.assertEqual(out[2].split(), ["4", "12000", "48", "28", "36", "119", "10", "60",
                                          "1", "2"])
        # Columns line up under their names.
        for name, value in zip(re.finditer(r"\S+", out[1]), re.finditer(r"\S+", out[2])):
            self.assertEqual(name.end(), value.end(), out)

    def test_pages_unit(self):
        out = self.vmstat("-S").stdout.splitlines()
        self.assertIn("memory (pages)", out[0])
        self.assertEqual(out[2].split()[:5], ["4", "3000", "12", "7", "9"])

    def test_wide(self):
        out = self.vmstat("-w").stdout.splitlines()
        names = out[1].split()
        for col in ("total", "vm", "largest", "reuse", "shared", "segv", "nomem", "spawn",
                    "exit"):
            self.assertIn(col, names)
        row = dict(zip(names, out[2].split()))
        self.assertEqual(row["total"], "16000")
        self.assertEqual(row["largest"], "10000")
        self.assertEqual(row["segv"], "1")
        self.assertEqual(row["spawn"], "3")
        for name, value in zip(re.finditer(r"\S+", out[1]), re.finditer(r"\S+", out[2])):
            self.assertEqual(name.end(), value.end(), out)

    def test_timestamp(self):
        out = self.vmstat("-t").stdout.splitlines()
        self.assertIn("timestamp", out[0])
        self.assertRegex(out[2], r" \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")

    def test_header_repeats_unless_n(self):
        # Not a terminal: a header every 22 rows, as procps.
        out = self.vmstat("0.01", "25").stdout
        self.assertEqual(out.count("procs -"), 2)
        self.assertEqual(len(out.splitlines()), 25 + 4)
        out = self.vmstat("-n", "0.01", "25").stdout
        self.assertEqual(out.count("procs -"), 1)
        self.assertEqual(len(out.splitlines()), 25 + 2)

    def test_json_rows(self):
        out = self.vmstat("--json", "-t", "0.01", "3").stdout.splitlines()
        self.assertEqual(len(out), 3)
        rows = [json.loads(l) for l in out]
        self.assertIsNone(rows[0]["interval"])
        self.assertIsNone(rows[0]["per_second"])
        self.assertEqual(rows[0]["stats"]["pages_free"], 3000)
        self.assertEqual(rows[0]["stats"]["calls"]["mmap"], 50)
        self.assertRegex(rows[0]["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$")
        for r in rows[1:]:
            self.assertGreater(r["interval"], 0)
            self.assertEqual(r["per_second"]["forks"], 0)


class Rates(FakeCase):
    # Each stats request adds 10 zero-fill faults, 2 forks and 1 exec.
    mode = "grow"

    def test_rates_per_second(self):
        rows = [json.loads(l) for l in
                self.vmstat("--json", "0.2", "3").stdout.splitlines()]
        for r in rows[1:]:
            dt = r["interval"]
            self.assertAlmostEqual(dt, 0.2, delta=0.15)
            self.assertEqual(r["per_second"]["pf_zerofill"], round(10 / dt))
            self.assertEqual(r["per_second"]["faults"], round(10 / dt))
            self.assertEqual(r["per_second"]["forks"], round(2 / dt))
            self.assertEqual(r["per_second"]["execs"], round(1 / dt))

    def test_rate_columns(self):
        out = self.vmstat("0.25", "3").stdout.splitlines()
        self.assertEqual(len(out), 5)
        for line in out[3:]:
            n, free, cache, slab, ptbl, flt, cow, calls, fork, exec_ = map(int, line.split())
            self.assertLess(free, 12000)  # free memory goes down
            self.assertTrue(25 <= flt <= 60, line)  # 10 per 0.25 s: 40/s
            self.assertTrue(5 <= fork <= 12, line)
            self.assertTrue(2 <= exec_ <= 6, line)
            self.assertEqual(cow, 0)


class Counters(FakeCase):
    def test_text(self):
        lines = self.vmstat("-s").stdout.splitlines()
        self.assertIn("12000 K free memory", [l.strip() for l in lines])
        self.assertIn("16000 K total memory (the page pool)", [l.strip() for l in lines])
        self.assertIn("100 zero-fill page faults", [l.strip() for l in lines])
        self.assertIn("50 mmap calls", [l.strip() for l in lines])
        self.assertIn("0 munmap calls", [l.strip() for l in lines])
        self.assertIn("2 calls 0xc2d", [l.strip() for l in lines])  # a number with no name
        for l in lines:
            self.assertRegex(l, r"^ *\d+ ")
            self.assertEqual(len(l) - len(l.lstrip()) + len(l.split()[0]), 13, l)
        self.assertIn("3000 pages free memory", [l.strip() for l in
                                                 self.vmstat("-s", "-S").stdout.splitlines()])

    def test_json(self):
        s = self.json("-s")
        self.assertEqual(s["page_size"], 4096)
        self.assertEqual(s["pages_total"], 4000)
        self.assertEqual(s["pf_cowcopy"], 10)
        self.assertEqual(s["bad_calls"], 6)
        self.assertEqual(s["calls"]["brk"], 7)
        self.assertEqual(s["calls"]["0xc2d"], 2)
        self.assertEqual(len(s["calls"]), 27)  # 26 named, 1 unnamed but made


class Procs(FakeCase):
    def test_text(self):
        out = self.vmstat("-P").stdout
        rows = self.table(out, "EP")
        self.assertEqual([r[:2] for r in rows],
                         [["1024", "init"], ["1025", "A"], ["1026", "sh"], ["1027", "sh"]])
        a = rows[1]
        # RSS SHR COW VSZ PSS in KiB, regions, minflt, brk, blocks, grants, flags
        self.assertEqual(a[2:], ["24", "4", "12", "36", "16", "2", "6", "0x20008000", "1", "1",
                                 "-"])
        self.assertEqual(rows[0][-1], "priv")
        rows = self.table(self.vmstat("-P", "-S").stdout, "EP")
        self.assertEqual(rows[1][2:7], ["6", "1", "3", "9", "4"])

    def test_json(self):
        d = self.json("-P")
        self.assertEqual(len(d["processes"]), 4)  # from two replies
        a = d["processes"][1]
        self.assertEqual(a["name"], "A")
        self.assertEqual(a["resident"], 6)
        self.assertEqual(a["brk"], 0x20008000)
        self.assertTrue(d["processes"][0]["privileged"])
        self.assertFalse(a["privileged"])
        # The client followed the cursor: slots 0, then 2.
        cursors = [req[1] for sub, req in self.server.requests if sub == 2]
        self.assertEqual(cursors, [0, 2])


class Regions(FakeCase):
    def test_text(self):
        out = self.vmstat("-r", "A").stdout.splitlines()
        self.assertEqual(out[0], "1025:   A")
        self.assertEqual(out[1].split(), ["Address", "Kbytes", "RSS", "Shared", "COW", "Mode",
                                          "Type", "Flags"])
        self.assertEqual(out[2].split(), ["20000000", "32", "20", "0", "12", "rw-p", "anon",
                                          "heap"])
        self.assertEqual(out[3].split(), ["30000000", "4", "4", "4", "0", "rw-s", "shared"])
        self.assertEqual(out[5].split(), ["total", "kB", "36", "24", "4", "12"])
        self.assertEqual(len(out), 6)
        # By endpoint, the same; entries bigger than known were cut to size.
        self.assertEqual(self.vmstat("-r", "1025").stdout.splitlines(), out)
        self.assertEqual(self.vmstat("-r", "0x401").stdout.splitlines(), out)
        cursors = [req[1] for sub, req in self.server.requests if sub == 3]
        self.assertEqual(cursors, [0, 0x30000000] * 3)

    def test_pages(self):
        out = self.vmstat("-r", "A", "-p").stdout.splitlines()
        pages = [l.split() for l in out if l.startswith("  ")]
        self.assertEqual(len(pages), 6)
        self.assertEqual(pages[0], ["20000000", "phys", "00400000", "refs", "2", "cache", "0",
                                    "pte", "00400025", "P-UA-"])
        self.assertEqual(pages[4][:5], ["20004000", "phys", "00404000", "refs", "1"])
        self.assertEqual(pages[5][-1], "PWUAD")
        # One PAGES request per region, asked by the region's address.
        asked = [(req[0], req[2]) for sub, req in self.server.requests if sub == 4]
        self.assertEqual(asked, [(1025, 0x20000000), (1025, 0x20000000), (1025, 0x30000000)])

    def test_json(self):
        d = self.json("-r", "A", "-p")
        self.assertEqual(d["endpoint"], 1025)
        self.assertEqual(d["name"], "A")
        r0, r1 = d["regions"]
        self.assertEqual((r0["start"], r0["end"], r0["length"]), (0x20000000, 0x20008000, 32768))
        self.assertEqual((r0["mode"], r0["type"], r0["flag_names"]), ("rw-p", "anon", ["heap"]))
        self.assertEqual((r0["resident"], r0["shared"], r0["cow"]), (5, 0, 3))
        self.assertEqual([p["phys"] for p in r0["pages"]], [0x400000 + 4096 * i for i in range(5)])
        self.assertEqual([p["refcount"] for p in r0["pages"]], [2, 2, 2, 2, 1])
        self.assertEqual(r1["type"], "shared")
        self.assertEqual(d["total"], {"regions": 2, "length": 36864, "resident": 6, "shared": 1,
                                      "cow": 3})
        self.assertNotIn("pages", self.json("-r", "A")["regions"][0])

    def test_in_pages(self):
        out = self.vmstat("-r", "A", "-S").stdout.splitlines()
        self.assertEqual(out[1].split()[1], "Pages")
        self.assertEqual(out[2].split()[:5], ["20000000", "8", "5", "0", "3"])
        self.assertEqual(out[-1].split(), ["total", "p", "9", "6", "1", "3"])

    def test_no_such_process(self):
        for proc in ("nobody", "999", "0x7fff"):
            r = self.vmstat("-r", proc, status=1)
            self.assertEqual(r.stderr, "vmstat: no such process: %s\n" % proc)
            self.assertEqual(r.stdout, "")
        r = self.vmstat("-r", "nobody", "--json", status=1)
        self.assertEqual(r.stdout, "")

    def test_ambiguous_name(self):
        r = self.vmstat("-r", "sh", status=1)
        self.assertEqual(r.stderr, "vmstat: 2 processes are called sh (endpoints 1026, 1027): "
                                   "give the endpoint\n")
        self.vmstat("-r", "1026")


class Vanish(FakeCase):
    # A's second region is gone by the time its pages are asked for.
    mode = "vanish"

    def test_region_gone(self):
        out = self.vmstat("-r", "A", "-p").stdout.splitlines()
        self.assertEqual(out[-4:-2], ["30000000        4        4        4        0 rw-s shared",
                                      "  (unmapped while listed)"])
        d = self.json("-r", "A", "-p")
        self.assertEqual(len(d["regions"][0]["pages"]), 5)
        self.assertIsNone(d["regions"][1]["pages"])


class Others(FakeCase):
    def test_grants(self):
        out = self.vmstat("-g", "1027").stdout.splitlines()
        self.assertEqual(out[0], "1027:   sh")
        self.assertEqual(out[2].split(), ["9", "made", "1027", "VM", "00001000", "4096", "r-",
                                          "0"])
        self.assertEqual(out[3].split(), ["7", "held", "1025", "1027", "20000000", "8192", "r-",
                                          "0"])
        self.assertEqual(out[4], "2 grants")
        d = self.json("-g", "A")
        self.assertEqual(d["grants"], [{"id": 7, "granter": 1025, "grantee": 1026,
                                        "addr": 0x20000000, "len": 8192, "access": 3,
                                        "mapped": 1, "direction": "made"}])
        self.assertEqual(self.vmstat("-g", "x", status=1).stderr, "vmstat: no such process: x\n")

    def test_slab(self):
        out = self.vmstat("-m").stdout
        self.assertIn("Active / Total Objects (% used)    : 167 / 272 (61.4%)", out)
        rows = self.table(out, "OBJS")
        self.assertEqual(rows[0], ["128", "100", "78%", "32B", "1", "128", "4K", "size-32"])
        self.assertEqual(rows[2], ["16", "3", "18%", "256B", "1", "16", "4K", "size-256"])
        d = self.json("-m")
        self.assertEqual(d["caches"][1], {"size": 64, "pages": 2, "objects": 128, "inuse": 64})
        self.assertEqual(d["total"]["objects"], 272)
        self.assertEqual(d["total"]["inuse_bytes"], 100 * 32 + 64 * 64 + 3 * 256)

    def test_cache(self):
        lines = [l.strip() for l in self.vmstat("-c").stdout.splitlines()]
        self.assertIn("3 blocks held", lines)
        self.assertIn("48 K held", lines)
        self.assertIn("75.0% hit ratio", lines)
        self.assertEqual(self.json("-c"), {"blocks": 3, "pages": 12, "yields": 40, "hits": 30,
                                           "misses": 10, "evictions": 4, "forgets": 2,
                                           "page_size": 4096})

    def test_sanity(self):
        lines = [l.strip() for l in self.vmstat("--sanity").stdout.splitlines()]
        self.assertEqual(lines, ["4 checks run", "0 findings in the last check",
                                 "1234 calls handled when it ran", "0 findings since boot"])
        self.assertEqual(self.json("--sanity", "--run")["runs"], 5)
        flags = [req[3] for sub, req in self.server.requests if sub == 8]
        self.assertEqual(flags, [0, 1])


class Usage(unittest.TestCase):
    def check(self, args, message):
        r = run(args)
        self.assertEqual(r.returncode, 2, r)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr.splitlines(),
                         ["vmstat: " + message, "Try 'vmstat --help' for more information."])

    def test_errors(self):
        self.check(["-x"], "unknown option -x")
        self.check(["--frob"], "unknown option --frob")
        self.check(["-r"], "option -r needs an argument")
        self.check(["--socket"], "option --socket needs an argument")
        self.check(["-s", "-P"], "choose one of -s, -P, -r, -g, -m, -c and --sanity")
        self.check(["-p"], "-p goes with -r PROC")
        self.check(["--run"], "--run goes with --sanity")
        self.check(["-s", "-w"], "-w, -t and -n are for rows of statistics")
        self.check(["-P", "1"], "unexpected argument: 1")
        self.check(["1", "2", "3"], "unexpected argument: 3")
        self.check(["0"], "bad delay: 0 (seconds, more than 0)")
        self.check(["x"], "bad delay: x (seconds, more than 0)")
        self.check(["1", "0"], "bad count: 0 (1 or more)")
        self.check(["--timeout", "0"], "bad timeout: 0 (milliseconds, 1 or more)")

    def test_help_version(self):
        r = run(["--help"])
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("usage: vmstat"))
        for opt in ("-s,", "-P,", "-r,", "-p,", "-g,", "-m,", "-c,", "--sanity", "--run",
                    "-w,", "-t,", "-n,", "-S,", "--json", "--socket", "--timeout"):
            self.assertIn(opt, r.stdout)
        r = run(["-V"])
        self.assertEqual((r.returncode, r.stdout),
                         (0, "vmstat (vmscope), debug-call protocol version 1\n"))


class NotRunning(unittest.TestCase):
    def test_no_socket(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "none.sock")
            r = run(["--socket", path])
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stderr, "vmstat: VM is not running (no server at %s: no such "
                                       "file or directory)\n" % path)
            self.assertEqual(r.stdout, "")

    def test_stale_socket(self):
        # A socket file whose server is gone: connection refused.
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "stale.sock")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.close()
            for mode in ([], ["-P"], ["-r", "A"], ["--sanity"], ["--json"]):
                r = run(["--socket", path] + mode)
                self.assertEqual(r.returncode, 1)
                self.assertEqual(r.stderr, "vmstat: VM is not running (no server at %s: "
                                           "connection refused)\n" % path)

    def test_default_path(self):
        clean = {k: v for k, v in os.environ.items()
                 if k not in ("XDG_RUNTIME_DIR", "VMSCOPE_SOCKET")}
        with tempfile.TemporaryDirectory() as d:
            env = dict(clean, XDG_RUNTIME_DIR=d)
            r = run([], env=env)
            self.assertEqual(r.returncode, 1)
            self.assertIn("no server at %s/vmscope.sock:" % d, r.stderr)
            srv = FakeServer(os.path.join(d, "vmscope.sock"))
            try:
                r = run(["-S"], env=env)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout.splitlines()[2].split()[1], "3000")
            finally:
                srv.close()
            # $VMSCOPE_SOCKET comes first.
            env["VMSCOPE_SOCKET"] = os.path.join(d, "other.sock")
            self.assertIn("no server at %s/other.sock:" % d, run([], env=env).stderr)
        for xdg in ({}, {"XDG_RUNTIME_DIR": ""}, {"XDG_RUNTIME_DIR": "relative/dir"}):
            r = run(["--help"], env=dict(clean, **xdg))
            self.assertIn("(default: /tmp/vmscope-%d.sock)" % os.getuid(), r.stdout)

    def test_path_too_long(self):
        r = run(["--socket", "/tmp/" + "x" * 200])
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.startswith("vmstat: bad socket path (empty or over 107 bytes)"))


class BadServers(unittest.TestCase):
    """A server that misbehaves: one clear line and exit 1, never a hang or
    a crash, whatever the mode."""

    cases = {
        "version": "version mismatch: vmstat speaks 1, the server speaks 2",
        "badmagic": "malformed reply from VM at {}: bad magic 0x12345678",
        "badseq": "malformed reply from VM at {}: answer to request 2, asked 1",
        "toolong": "malformed reply from VM at {}: payload of 70000 bytes (at most 65536)",
        "shortstats": "malformed reply from VM at {}: stats payload of 100 bytes (want 528)",
        "pagesize0": "malformed reply from VM at {}: page size 0",
        "hangup": "lost the connection to VM at {}: the server closed the connection",
        "silent": "lost the connection to VM at {}: no reply within 300 ms",
    }
    list_cases = {
        "shortlist": "malformed reply from VM at {}: 5 procs entries of 64 bytes in 80 bytes",
        "smallentry": "malformed reply from VM at {}: procs entries of 8 bytes (want at least 64)",
        "cycle": "malformed reply from VM at {}: procs list does not advance (cursor 0, next 0, "
                 "1 entries)",
        "truncated": "lost the connection to VM at {}: the server closed the connection",
        "silent-after-hello": "lost the connection to VM at {}: no reply within 300 ms",
    }

    def check(self, mode, args, message):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.sock")
            srv = FakeServer(path, mode)
            try:
                t = time.monotonic()
                r = run(["--socket", path, "--timeout", "300"] + args)
                self.assertLess(time.monotonic() - t, 5, mode)
                self.assertEqual(r.returncode, 1, (mode, r))
                self.assertEqual(r.stderr, "vmstat: " + message.format(path) + "\n", mode)
                self.assertEqual(r.stdout, "")
            finally:
                srv.close()

    def test_handshake(self):
        for mode, message in self.cases.items():
            with self.subTest(mode=mode):
                self.check(mode, ["-c"], message)

    def test_lists(self):
        for mode, message in self.list_cases.items():
            with self.subTest(mode=mode):
                self.check(mode, ["-P"], message)
        # A name is looked up in the process list too.
        self.check("shortlist", ["-r", "A"], self.list_cases["shortlist"])


def main():
    global VMSTAT
    args = sys.argv[1:]
    if len(args) < 2 or args[0] != "--vmstat":
        sys.exit("usage: test_vmstat.py --vmstat PATH [unittest args]")
    VMSTAT = os.path.abspath(args[1])
    unittest.main(argv=[sys.argv[0]] + args[2:], verbosity=2)


if __name__ == "__main__":
    main()
