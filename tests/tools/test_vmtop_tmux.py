"""vmtop's interactive screen driven for real under tmux (docs/vmtop.md),
against `vm serve` running test_vmstat_serve.scn (processes A, B, C whose
numbers docs/vmstat.md shows).

    python3 test_vmtop_tmux.py --vmtop PATH --vm PATH --vmstat PATH [unittest args]

Every step waits for the text it expects on the screen (polling
capture-pane, with a deadline) and fails with the screen it last saw.
vmtop runs in the pane as

    sh -c 'vmtop ...; st=$?; stty -a > OUT; echo exited $st >> OUT'

so that the test sees the terminal's modes after vmtop is gone (icanon
and echo on again) and how vmtop ended. Exits 77 (a skip) without tmux
or without `vm serve`.
"""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "test_vmstat_serve.scn")
VMTOP = VM = VMSTAT = None
TIMEOUT = 20  # seconds a step may take before it fails (ASan is slow)
# ncurses keeps memory until exit on purpose: no leak report on the
# terminal; and vmtop's own crash handler, not ASan's, must see SIGSEGV.
ASAN = "detect_leaks=0:handle_segv=0:handle_abort=0:handle_sigbus=0:allow_user_segv_handler=1"


class Server:
    """`vm serve` with the scenario on path, stopped by stop()."""

    def __init__(self, path, workdir):
        self.err = open(os.path.join(workdir, "serve.err"), "w+")
        self.proc = subprocess.Popen([VM, "serve", "--socket", path, "--workload", SCENARIO,
                                      "--seconds", "300"],
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.err.seek(0)
            if "serving the debug call" in self.err.read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("vm serve did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


class Pane:
    """vmtop in a detached tmux session on a private tmux server."""

    count = 0

    def __init__(self, workdir, args, x=80, y=24):
        Pane.count += 1
        self.server = "vmtop-test-%d-%d" % (os.getpid(), Pane.count)
        self.out = os.path.join(workdir, "stty-%d" % Pane.count)
        cmd = "env ASAN_OPTIONS=%s %s %s; st=$?; stty -a > %s; echo exited $st >> %s" % (
            ASAN, shlex.quote(VMTOP), " ".join(shlex.quote(a) for a in args),
            shlex.quote(self.out), shlex.quote(self.out))
        self.tmux("new-session", "-d", "-x", str(x), "-y", str(y), "-s", "t",
                  "sh -c %s" % shlex.quote(cmd))
        self.shell = int(self.tmux("display-message", "-p", "-t", "t",
                                   "#{pane_pid}").strip())

    def tmux(self, *args, check=True):
        r = subprocess.run(["tmux", "-L", self.server, "-f", "/dev/null"] + list(args),
                           capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError("tmux %s: %s" % (" ".join(args), r.stderr))
        return r.stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "t", check=False)

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "t", *keys)

    def literal(self, text):
        self.tmux("send-keys", "-t", "t", "-l", text)

    def wait(self, test, what):
        """The screen once test(screen) holds and the screen is drawn whole
        (two captures 50 ms apart agree: a capture can land in the middle
        of vmtop's output); fails after TIMEOUT."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            s = self.screen()
            if test(s):
                time.sleep(0.05)
                if self.screen() == s:
                    return s
            if time.monotonic() > deadline:
                raise AssertionError("waited for %s; the screen:\n%s" % (what, s))
            time.sleep(0.1)

    def wait_text(self, text):
        return self.wait(lambda s: text in s, repr(text))

    def wait_re(self, pattern):
        return self.wait(lambda s: re.search(pattern, s, re.M), repr(pattern))

    def vmtop_pid(self):
        """The pid of the shell's child: vmtop."""
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.shell:
                return int(d)
        raise AssertionError("vmtop is not running: %s" % self.screen())

    def result(self):
        """(stty -a tokens, the exit status) once the shell wrote them."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            if os.path.exists(self.out):
                with open(self.out) as f:
                    text = f.read()
                m = re.search(r"^exited (\d+)$", text, re.M)
                if m:
                    return set(re.split(r"[\s;]+", text)), int(m.group(1))
            if time.monotonic() > deadline:
                raise AssertionError("vmtop did not exit; the screen:\n%s" % self.screen())
            time.sleep(0.1)

    def kill(self):
        self.tmux("kill-server", check=False)


def rows(screen):
    """The process table's rows: name -> fields, and the names in order."""
    found = [l.split() for l in screen.splitlines() if re.match(r"^\s+\d+ [ABC] ", l)]
    return {r[1]: r for r in found}, [r[1] for r in found]


class Base(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="vmtop-tmux-")
        self.sock = os.path.join(self.dir.name, "vm.sock")
        self.servers = []
        self.panes = []

    def tearDown(self):
        for p in self.panes:
            p.kill()
        for s in self.servers:
            s.stop()
        self.dir.cleanup()

    def serve(self):
        s = Server(self.sock, self.dir.name)
        self.servers.append(s)
        return s

    def vmtop(self, *args, x=80, y=24):
        p = Pane(self.dir.name, ["--socket", self.sock] + list(args), x, y)
        self.panes.append(p)
        return p

    def assert_restored(self, tokens):
        for mode in ("icanon", "echo"):
            self.assertIn(mode, tokens)
            self.assertNotIn("-" + mode, tokens)


class Interactive(Base):
    """One session through every screen, as a user would go."""

    def test_session(self):
        server = self.serve()
        p = self.vmtop("-d", "0.3")

        # The header and the table: RSS in KiB as docs/vmstat.md shows.
        s = p.wait(lambda s: len(rows(s)[0]) == 3, "A, B and C")
        self.assertRegex(s, r"(?m)^Mem\[")
        self.assertIn("Faults/s", s)
        self.assertRegex(s, r"Cache 4K hit -")
        self.assertRegex(s, r"Sanity (\d+ checks \d+ findings|-)")
        self.assertRegex(s, r"Procs 3")
        self.assertIn("F1Help", s.splitlines()[-1])
        r, order = rows(s)
        self.assertEqual([r[n][2] for n in "ABC"], ["20", "12", "12"])
        self.assertEqual(order, ["A", "B", "C"])  # by RSS, ties by endpoint
        self.assertEqual(r["B"][3:7], ["6", "4", "8", "24"])  # PSS SHR COW VSZ

        # Sort: back to the endpoint column, then inverted.
        p.keys("<", "<")
        p.wait_text("sort:ep ")
        p.keys("I")
        s = p.wait(lambda s: rows(s)[1] == ["C", "B", "A"], "C, B, A")
        self.assertIn("sort:ep(inv)", s)
        p.keys("I", "F6")  # F6: the next column, the name
        p.wait(lambda s: "sort:name " in s and rows(s)[1] == ["A", "B", "C"], "by name")

        # Filter: only C; Esc on the table drops it.
        p.keys("\\")
        p.wait_text("Filter: _")
        p.literal("c")
        p.wait(lambda s: rows(s)[1] == ["C"], "only C")
        p.keys("Enter")
        s = p.wait_text("filter:c ")
        self.assertEqual(rows(s)[1], ["C"])
        p.keys("Escape")
        p.wait(lambda s: rows(s)[1] == ["A", "B", "C"] and "filter:" not in s, "all again")

        # Search moves the cursor: from A (the first row) to C, whose
        # regions Enter then opens.
        p.keys("/")
        p.wait_text("Search: _")
        p.literal("C")
        p.wait_text("Search: C_")
        p.keys("Enter")
        p.wait_text("F3Search")
        p.keys("Enter")
        p.wait_text("Regions of C (endpoint")
        p.keys("Escape")
        p.wait_text("F3Search")
        p.keys("F3")
        p.literal("b")
        p.keys("Enter", "Enter")

        # B's regions, as vmstat -r B shows them.
        s = p.wait_text("Regions of B (endpoint")
        self.assertRegex(s, r"(?m)^20000000\s+16\s+8\s+0\s+8 rw-p anon")
        self.assertRegex(s, r"(?m)^30000000\s+8\s+4\s+4\s+0 rw-s anon")
        self.assertRegex(s, r"(?m)^total kB\s+24\s+12\s+4\s+8")

        # The heap's page map: 2 copy-on-write pages (clean: fork
        # write-protected them), 2 not resident.
        p.keys("Enter")
        s = p.wait_text("Page map of B 20000000-20004000")
        self.assertRegex(s, r"(?m)^20000000 cc\.\.\s*$")
        self.assertRegex(s, r"(?m)^20000000: copy-on-write phys [0-9a-f]{8} refs 2 cache 0 ")
        p.keys("Right", "Right")
        p.wait_text("20002000: not resident")
        p.keys("Escape")
        p.wait_text("Regions of B")
        # The shared region: one page, written (dirty: upper case).
        p.keys("Down", "Enter")
        s = p.wait_text("Page map of B 30000000-30002000")
        self.assertRegex(s, r"(?m)^30000000 S\.\s*$")
        self.assertRegex(s, r"30000000: shared, dirty phys [0-9a-f]{8} refs 2 cache 0 .* PWUAD")
        p.keys("Escape", "Escape")
        p.wait(lambda s: len(rows(s)[0]) == 3, "the table again")

        # The other screens.
        p.keys("Tab")
        s = p.wait_text("Cache: ")
        self.assertRegex(s, r"(?m)^ Blocks\s+1$")
        self.assertRegex(s, r"(?m)^ Yields\s+1$")
        p.keys("Tab")
        s = p.wait_text("Slab caches: ")
        slabs = re.findall(r"(?m)^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s+\d+$", s)
        self.assertGreater(len(slabs), 0)
        n = int(re.search(r"Slab caches: (\d+),", s).group(1))
        self.assertEqual(len(slabs), n)
        p.keys("Tab")
        s = p.wait_text("Counters since boot")
        vs = subprocess.run([VMSTAT, "--socket", self.sock, "-s"], capture_output=True,
                            text=True, check=True).stdout
        mmaps = re.search(r"(\d+) mmap calls", vs).group(1)
        self.assertRegex(s, r"\bmmap\s+%s\s" % mmaps)
        self.assertRegex(s, r"(?m)^ zero-fill\s+\d+")
        forged = re.search(r"(\d+) forged calls", vs).group(1)
        self.assertRegex(s, r"(?m)^ forged\s+%s\s" % forged)
        p.keys("Tab")
        p.wait(lambda s: len(rows(s)[0]) == 3, "the table after Tab")

        # Help, and any key leaves it.
        p.keys("h")
        s = p.wait_text("this help")
        self.assertIn("F10 q", s)
        p.keys("x")
        p.wait(lambda s: len(rows(s)[0]) == 3, "the table after help")

        # Resize: the screen follows the window.
        p.tmux("resize-window", "-t", "t", "-x", "100", "-y", "30")
        s = p.wait(lambda s: len(s.splitlines()) == 30 and "F1Help" in s.splitlines()[-1]
                   and len(s.splitlines()[0]) == 99, "a 100x30 screen")
        self.assertEqual(len(rows(s)[0]), 3)
        p.tmux("resize-window", "-t", "t", "-x", "80", "-y", "24")
        p.wait(lambda s: len(s.splitlines()) == 24 and "F1Help" in s.splitlines()[-1]
               and len(s.splitlines()[0]) == 79, "an 80x24 screen")

        # VM goes away, and comes back on the same socket.
        server.stop()
        self.servers.remove(server)
        p.wait_text("disconnected, retrying")
        self.serve()
        s = p.wait(lambda s: len(rows(s)[0]) == 3, "A, B and C after reconnecting")
        self.assertNotIn("disconnected", s)

        p.keys("q")
        tokens, status = p.result()
        self.assert_restored(tokens)
        self.assertEqual(status, 0)


class Exits(Base):
    """Every way out restores the terminal."""

    def test_sigterm(self):
        self.serve()
        p = self.vmtop("-d", "0.3")
        p.wait(lambda s: len(rows(s)[0]) == 3, "A, B and C")
        os.kill(p.vmtop_pid(), signal.SIGTERM)
        tokens, status = p.result()
        self.assert_restored(tokens)
        self.assertEqual(status, 128 + signal.SIGTERM)

    def test_crash(self):
        self.serve()
        p = self.vmtop("-d", "0.3")
        p.wait(lambda s: len(rows(s)[0]) == 3, "A, B and C")
        os.kill(p.vmtop_pid(), signal.SIGSEGV)
        tokens, status = p.result()
        self.assert_restored(tokens)
        self.assertEqual(status, 128 + signal.SIGSEGV)

    def test_count_and_mono(self):
        """-n: quits by itself after N refreshes; --mono draws the same."""
        self.serve()
        p = self.vmtop("-d", "0.2", "-n", "5", "--mono")
        tokens, status = p.result()
        self.assert_restored(tokens)
        self.assertEqual(status, 0)

    def test_help_keys_no_server(self):
        """Without VM: the message, and still the keys; q quits 0."""
        p = self.vmtop("-d", "0.3")
        p.wait_text("disconnected, retrying")
        p.keys("F1")
        p.wait_text("this help")
        p.keys("x", "F10")
        tokens, status = p.result()
        self.assert_restored(tokens)
        self.assertEqual(status, 0)

    def test_version_mismatch(self):
        sys.path.insert(0, HERE)
        import test_vmstat_fakeserver as fake
        srv = fake.FakeServer(self.sock, "version")
        try:
            p = self.vmtop("-d", "0.3")
            # The whole screen: its last line says how to leave.
            s = p.wait_text("Press q to quit")
            self.assertIn("version mismatch: vmtop speaks 1, the server speaks", s)
            p.keys("q")
            tokens, status = p.result()
            self.assert_restored(tokens)
            self.assertEqual(status, 1)
        finally:
            srv.close()


def main():
    global VMTOP, VM, VMSTAT
    args = sys.argv[1:]
    if len(args) < 6 or args[0] != "--vmtop" or args[2] != "--vm" or args[4] != "--vmstat":
        sys.exit("usage: test_vmtop_tmux.py --vmtop PATH --vm PATH --vmstat PATH "
                 "[unittest args]")
    VMTOP, VM, VMSTAT = (os.path.abspath(a) for a in args[1:6:2])
    if shutil.which("tmux") is None:
        print("test_vmtop_tmux: no tmux: skipped")
        sys.exit(77)
    r = subprocess.run([VM, "serve", "--help"], capture_output=True, text=True)
    if r.returncode != 0 or "vm serve" not in r.stdout:
        print("test_vmtop_tmux: %s has no `serve` command: skipped" % VM)
        sys.exit(77)
    unittest.main(argv=[sys.argv[0]] + args[6:], verbosity=2)


if __name__ == "__main__":
    main()
