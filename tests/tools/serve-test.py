#!/usr/bin/env python3
"""Tests of `vm serve` (docs/serve.md): the socket, the protocol's error
paths, many clients, signals, and the demo and scenario workloads.

    serve-test.py VM_BINARY [TEST...]

TEST is one of basic, robust, concurrent, stall, socket, signal, scenario (all of
them when none is given). Each starts its own servers on sockets in a
fresh temporary directory and takes well under 30 seconds. The client is
a raw one written from docs/debug-call.md, not libvminfo, so that it can
also send what a good client never would.
"""
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

VMI_MAGIC = 0x4E494D56
VMI_VERSION = 1
HDR = struct.Struct("<IHHIII")  # magic, version, subcall, status, seq, len
REQ = struct.Struct("<iIII")  # endpoint, cursor, addr, flags
LIST = struct.Struct("<IIII")  # count, entry_size, more, next
STATS = struct.Struct("<10I12Q49QQ")  # ..., calls[49], forged
PROC = struct.Struct("<i16s11I")
CACHE = struct.Struct("<II5Q")
SANITY = struct.Struct("<IIQQ")
VMI_STATS, VMI_PROCS, VMI_CACHE, VMI_SANITY = 1, 2, 5, 8
EINVAL = 22

STATS_FIELDS = ("page_size pages_total pages_free largest_free pages_cached pages_slab "
                "pages_pagetables pages_vm nprocs grants pf_zerofill pf_cowcopy pf_cowreuse "
                "pf_shared pf_refused pf_nomem spawns forks execs exits evictions "
                "bad_calls").split()

VM = None
TMP = None
failures = []


def check(cond, what):
    if cond:
        print("  ok:", what)
    else:
        print("  FAILED:", what)
        failures.append(what)
    return cond


class Server:
    """A `vm serve` child process with its stdout and stderr in files."""

    def __init__(self, name, *args, wait=True):
        self.sock = os.path.join(TMP, name + ".sock")
        self.out = open(os.path.join(TMP, name + ".out"), "w+")
        self.err = open(os.path.join(TMP, name + ".err"), "w+")
        self.proc = subprocess.Popen([VM, "serve", "--socket", self.sock] + list(args),
                                     stdout=self.out, stderr=self.err)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("vm serve exited with %d: %s" %
                                   (self.proc.returncode, self.stderr()))
            try:
                connect(self.sock).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("vm serve did not listen on %s within %d s" % (self.sock, timeout))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def stderr(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def stdout(self):
        self.out.flush()
        self.out.seek(0)
        return self.out.read()


def connect(path, timeout=5):
    """A connected socket. A full listen backlog (EAGAIN: many clients at
    once) is retried, as a real client would."""
    for attempt in range(100):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            time.sleep(0.01)
    raise TimeoutError("connect %s: the backlog stays full" % path)


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def send_request(s, subcall, endpoint=0, cursor=0, addr=0, flags=0, seq=1, version=VMI_VERSION):
    s.sendall(HDR.pack(VMI_MAGIC, version, subcall, 0, seq, REQ.size) +
              REQ.pack(endpoint, cursor, addr, flags))


def read_reply(s):
    magic, version, subcall, status, seq, length = HDR.unpack(recv_exact(s, HDR.size))
    return dict(magic=magic, version=version, subcall=subcall, status=status, seq=seq,
                len=length, payload=recv_exact(s, length) if length else b"")


def call(s, subcall, seq=1, **kw):
    send_request(s, subcall, seq=seq, **kw)
    return read_reply(s)


def stats(s):
    r = call(s, VMI_STATS)
    return dict(zip(STATS_FIELDS, STATS.unpack(r["payload"])[:len(STATS_FIELDS)]))


def procs(s):
    out, cursor = [], 0
    while True:
        r = call(s, VMI_PROCS, cursor=cursor)
        count, size, more, nxt = LIST.unpack(r["payload"][:LIST.size])
        for i in range(count):
            e = PROC.unpack_from(r["payload"], LIST.size + i * size)
            out.append(dict(endpoint=e[0], name=e[1].split(b"\0")[0].decode(), flags=e[2],
                            resident=e[3]))
        if not more:
            return out
        cursor = nxt


def wait_for(s, cond, timeout=10):
    """Poll VMI_STATS on s until cond(stats) holds or timeout; the last
    stats."""
    end = time.time() + timeout
    while True:
        st = stats(s)
        if cond(st) or time.time() > end:
            return st
        time.sleep(0.2)


def is_closed(s, timeout=3):
    """True when the server closes s (EOF or reset) within timeout."""
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(4096):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def still_serves(path):
    with connect(path) as s:
        r = call(s, VMI_STATS, seq=77)
        return r["magic"] == VMI_MAGIC and r["status"] == 0 and r["seq"] == 77


# --- the tests -------------------------------------------------------------


def test_basic():
    """A valid request, the reply's header, counters growing while the demo
    runs, the demo's processes and cache, a clean SIGTERM."""
    srv = Server("basic", "--seconds", "30", "--workload", "demo")
    with connect(srv.sock) as s:
        r = call(s, VMI_STATS, seq=1234)
        check(r["magic"] == VMI_MAGIC and r["version"] == VMI_VERSION, "reply magic and version")
        check(r["subcall"] == VMI_STATS and r["seq"] == 1234 and r["status"] == 0,
              "reply echoes subcall and seq, status 0")
        check(r["len"] == STATS.size, "reply length %d == sizeof(struct vmi_stats) %d" %
              (r["len"], STATS.size))
        a = stats(s)
        check(a["page_size"] == 4096 and a["pages_total"] > 0, "pages_total %d > 0" %
              a["pages_total"])
        # The demo makes 50 steps a second; give a loaded machine time.
        b = wait_for(s, lambda b: b["forks"] > a["forks"] and b["exits"] > a["exits"] and
                     b["pf_zerofill"] > a["pf_zerofill"])
        check(b["forks"] > a["forks"], "forks grow: %d -> %d" % (a["forks"], b["forks"]))
        check(b["pf_zerofill"] > a["pf_zerofill"], "zero-fill faults grow: %d -> %d" %
              (a["pf_zerofill"], b["pf_zerofill"]))
        check(b["exits"] > a["exits"], "exits grow: %d -> %d" % (a["exits"], b["exits"]))
        names = {p["name"] for p in procs(s)}
        check({"sh", "fs", "db", "drv"} <= names, "demo processes present: %s" % sorted(names))
        c = CACHE.unpack(call(s, VMI_CACHE)["payload"])
        check(c[2] > 0, "the file server yields blocks to VM's cache (%d yields)" % c[2])
        san = SANITY.unpack(call(s, VMI_SANITY, flags=1)["payload"])
        check(san[0] > 0 and san[1] == 0, "consistency check on request: %d runs, %d findings" %
              (san[0], san[1]))
        r = call(s, 99)
        check(r["status"] != 0 and r["len"] == 0, "unknown subcall: status %d, no payload" %
              r["status"])
        check(still_serves(srv.sock), "the connection survives an unknown subcall")
    rc = srv.stop()
    check(rc == 0, "SIGTERM: exit status %s" % rc)
    check(not os.path.exists(srv.sock), "socket removed on exit")
    err = srv.stderr()
    check("MISMATCH" not in err and "consistency check:" not in err,
          "the demo saw no mismatches or findings")


def test_robust():
    """Garbage, a wrong version, a bad length, a disconnect mid-request and a
    client that does not read: each is dropped or answered, the server goes
    on and VM loses nothing."""
    srv = Server("robust", "--seconds", "30")
    with connect(srv.sock) as s:
        before = stats(s)

    with connect(srv.sock) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n" + os.urandom(64))
        check(is_closed(s), "garbage: connection dropped")
    check(still_serves(srv.sock), "serves another client after garbage")

    with connect(srv.sock) as s:
        send_request(s, VMI_STATS, version=7, seq=42)
        r = read_reply(s)
        check(r["magic"] == VMI_MAGIC and r["version"] == VMI_VERSION and
              r["status"] == EINVAL and r["len"] == 0 and r["seq"] == 42,
              "wrong version: EINVAL, the server's version, no payload (%s)" %
              {k: v for k, v in r.items() if k != "payload"})
        check(is_closed(s), "wrong version: closed after the reply")

    with connect(srv.sock) as s:
        s.sendall(HDR.pack(VMI_MAGIC, VMI_VERSION, VMI_STATS, 0, 1, 1000) + b"x" * 1000)
        check(is_closed(s), "bad length: connection dropped")

    for cut in (3, HDR.size, HDR.size + 5):
        s = connect(srv.sock)
        s.sendall((HDR.pack(VMI_MAGIC, VMI_VERSION, VMI_STATS, 0, 1, REQ.size) +
                   REQ.pack(0, 0, 0, 0))[:cut])
        s.close()
    check(still_serves(srv.sock), "serves after clients left mid-request")

    # A client that sends many requests and never reads: the server stops
    # reading it and keeps answering others promptly.
    hog = connect(srv.sock)
    hog.setblocking(False)
    req = HDR.pack(VMI_MAGIC, VMI_VERSION, VMI_PROCS, 0, 1, REQ.size) + REQ.pack(0, 0, 0, 0)
    sent = 0
    try:
        for _ in range(20000):
            sent += hog.send(req)
    except BlockingIOError:
        pass
    t0 = time.time()
    ok = all(still_serves(srv.sock) for _ in range(20))
    check(ok and time.time() - t0 < 2, "a client that does not read stalls nobody "
          "(%d bytes queued by it, 20 requests of others in %.2f s)" % (sent, time.time() - t0))
    hog.close()

    with connect(srv.sock) as s:
        after = wait_for(s, lambda st: st["forks"] > before["forks"])
        check(after["forks"] > before["forks"], "the demo kept running")
        check(after["bad_calls"] == before["bad_calls"], "VM saw no bad call (%d)" %
              after["bad_calls"])
        san = SANITY.unpack(call(s, VMI_SANITY, flags=1)["payload"])
        check(san[1] == 0, "consistency check after the abuse: %d findings" % san[1])
    check(srv.stop() == 0, "SIGTERM: exit 0")


def test_concurrent():
    """20 clients at once, each with its own sequence numbers; more clients
    than the server takes are refused, not queued forever."""
    srv = Server("concurrent", "--seconds", "30")
    errors = []

    def client(n):
        try:
            with connect(srv.sock, timeout=10) as s:
                for i in range(50):
                    seq = n * 1000 + i
                    sub = (VMI_STATS, VMI_PROCS, VMI_CACHE)[i % 3]
                    r = call(s, sub, seq=seq)
                    if r["seq"] != seq or r["status"] != 0 or r["subcall"] != sub:
                        errors.append("client %d: reply %s" % (n, r))
                        return
        except Exception as e:  # noqa: BLE001 - any failure of a client is a test failure
            errors.append("client %d: %r" % (n, e))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, "20 concurrent clients x 50 requests in %.2f s %s" %
          (time.time() - t0, errors[:3]))

    held = [connect(srv.sock) for _ in range(70)]
    time.sleep(0.5)
    closed = 0
    for s in held:
        s.setblocking(False)
        try:
            closed += s.recv(1) == b""
        except BlockingIOError:
            pass  # open, nothing to read
        except ConnectionResetError:
            closed += 1
    check(closed == 6, "70 connections: the 6 beyond 64 are closed (%d closed)" % closed)
    for s in held:
        s.close()
    time.sleep(0.3)
    check(still_serves(srv.sock), "serves once they have gone")
    check(srv.stop() == 0, "SIGTERM: exit 0")


def test_stall():
    """A client that sends half a request and one that does not read its
    replies are dropped after 10 s without progress; idle ones are not."""
    srv = Server("stall", "--seconds", "30")
    idle = connect(srv.sock)
    half = connect(srv.sock)
    half.sendall(HDR.pack(VMI_MAGIC, VMI_VERSION, VMI_STATS, 0, 1, REQ.size))
    # The hog sends until both its socket and the server's are full: the
    # kernel holds as many replies as it can, then the server holds one
    # and stops reading the hog.
    hog = connect(srv.sock)
    hog.setblocking(False)
    req = HDR.pack(VMI_MAGIC, VMI_VERSION, VMI_PROCS, 0, 1, REQ.size) + REQ.pack(0, 0, 0, 0)
    end = time.time() + 3
    while time.time() < end:
        try:
            while True:
                hog.send(req)
        except BlockingIOError:
            time.sleep(0.05)
    time.sleep(10.5)
    check(is_closed(half, timeout=1), "half a request, then silence: dropped")
    check("not reading its replies" in srv.stderr(), "a client that does not read: dropped")
    check(not is_closed(idle, timeout=0.2), "an idle client is kept")
    check(call(idle, VMI_STATS, seq=5)["seq"] == 5, "and served")
    for s in (idle, half, hog):
        s.close()
    check(srv.stop() == 0, "SIGTERM: exit 0")


def test_socket():
    """Permissions, a second server on the same socket, a stale socket, a
    path that is not a socket."""
    srv = Server("sock", "--seconds", "30")
    mode = stat.S_IMODE(os.stat(srv.sock).st_mode)
    check(mode == 0o600, "socket mode %o == 600" % mode)

    second = subprocess.run([VM, "serve", "--socket", srv.sock, "--seconds", "5"],
                            capture_output=True, text=True, timeout=20)
    check(second.returncode == 1, "a second server on the same socket exits 1 (%d)" %
          second.returncode)
    check("already serving" in second.stderr, "with a clear message: %r" % second.stderr.strip())
    check(still_serves(srv.sock), "the first server still serves")

    srv.proc.kill()  # SIGKILL: no clean-up, the socket file stays
    srv.proc.wait()
    check(os.path.exists(srv.sock), "a killed server leaves its socket file")
    again = Server("sock", "--seconds", "30")
    check("stale" in again.stderr(), "the stale socket is detected: %r" %
          again.stderr().splitlines()[:1])
    check(still_serves(again.sock), "and replaced by a live server")
    check(again.stop() == 0, "SIGTERM: exit 0")

    path = os.path.join(TMP, "plain-file")
    with open(path, "w") as f:
        f.write("not a socket\n")
    r = subprocess.run([VM, "serve", "--socket", path, "--seconds", "5"],
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 1 and "not a socket" in r.stderr,
          "a path that is not a socket is refused (%d, %r)" % (r.returncode, r.stderr.strip()))
    with open(path) as f:
        check(f.read() == "not a socket\n", "and left alone")

    r = subprocess.run([VM, "serve", "--bogus"], capture_output=True, text=True, timeout=20)
    check(r.returncode == 2 and "usage" in r.stderr, "an unknown option is a usage error")


def test_signal():
    """SIGTERM and SIGINT: exit 0, the socket removed, clients closed."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        srv = Server("sig", "--seconds", "30")
        s = connect(srv.sock)
        call(s, VMI_STATS)
        t0 = time.time()
        rc = srv.stop(sig)
        check(rc == 0, "%s: exit 0 (%s) in %.2f s" % (sig.name, rc, time.time() - t0))
        check(not os.path.exists(srv.sock), "%s: socket removed" % sig.name)
        check(is_closed(s, timeout=1), "%s: clients closed" % sig.name)
        s.close()
    srv = Server("secs", "--seconds", "1")
    check(srv.proc.wait(10) == 0 and not os.path.exists(srv.sock),
          "--seconds 1: exits 0 by itself and removes the socket")


def test_scenario():
    """--workload FILE: the scenario's processes stay and are served."""
    scn = os.path.join(TMP, "five.scn")
    with open(scn, "w") as f:
        f.write("# a process with exactly 5 resident pages\n"
                "mem 16M\n"
                "spawn A\n"
                "mmap A buf 32K\n"
                "fill A buf 20K 0x5A\n"
                "assert A.resident == 5\n"
                "spawn B\n")
    srv = Server("scn", "--seconds", "30", "--workload", scn)
    with connect(srv.sock) as s:
        ps = {p["name"]: p for p in procs(s)}
        check("A" in ps and ps["A"]["resident"] == 5,
              "VMI_PROCS shows A with resident 5 (%s)" % ps.get("A"))
        check("B" in ps and ps["B"]["resident"] == 0, "and B, empty")
        st = stats(s)
        check(st["pages_total"] < 4096, "the scenario's mem 16M is the machine (%d pages)" %
              st["pages_total"])
        time.sleep(0.5)
        check(stats(s)["forks"] == st["forks"] == 0, "no demo runs beside the scenario")
    check(srv.stop() == 0, "SIGTERM: exit 0")
    check("1 passed, 0 failed" in srv.stdout(), "the tally is printed: %r" %
          srv.stdout().strip()[-40:])

    bad = os.path.join(TMP, "bad.scn")
    with open(bad, "w") as f:
        f.write("frobnicate\n")
    r = subprocess.run([VM, "serve", "--socket", os.path.join(TMP, "bad.sock"), "--workload",
                        bad, "--seconds", "5"], capture_output=True, text=True, timeout=20)
    check(r.returncode == 1 and not os.path.exists(os.path.join(TMP, "bad.sock")),
          "a scenario that cannot run: exit 1, socket removed (%d)" % r.returncode)


TESTS = dict(basic=test_basic, robust=test_robust, concurrent=test_concurrent,
             stall=test_stall, socket=test_socket, signal=test_signal, scenario=test_scenario)


def main():
    global VM, TMP
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    VM = os.path.abspath(sys.argv[1])
    names = sys.argv[2:] or list(TESTS)
    with tempfile.TemporaryDirectory(prefix="vmserve-") as TMP:
        for name in names:
            print("serve-test:", name)
            t0 = time.time()
            try:
                TESTS[name]()
            except Exception as e:  # noqa: BLE001 - report and go on to the next test
                check(False, "%s raised %r" % (name, e))
            print("  (%.1f s)" % (time.time() - t0))
            for f in os.listdir(TMP):
                if f.endswith(".err") and os.path.getsize(os.path.join(TMP, f)) and failures:
                    with open(os.path.join(TMP, f)) as e:
                        print("  --- %s:\n%s" % (f, e.read()[-3000:]))
    print("serve-test: %s" % ("FAILED: %d" % len(failures) if failures else "all passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
