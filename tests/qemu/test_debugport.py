#!/usr/bin/env python3
"""The debug call over the i386 machine's COM2 (scripts/qemu --serve,
kernel-stubs/i386/debugport.c, docs/qemu.md).

    test_debugport.py --vm VM --vmstat VMSTAT --vmtop VMTOP --build DIR

Boots tests/tools/test_vmstat_serve.scn in serve mode and serves the same
scenario with the hosted `vm serve`, then asks both the same things in the
same order:
- vmstat -P, -r PROC, -g PROC, -c, --sanity print the same on both;
- vmstat -r PROC -p the same except physical addresses (see below);
- vmstat -s --json: the same numbers except pages_total, pages_free,
  pages_slab, pages_vm and calls.info, and those differ only as they must:
  VM's objects and metadata are smaller in a 32-bit build (fewer slab and
  metadata pages, so more pool and free pages, and frames handed out a
  page or two lower), and the guest kernel asked VM_INFO once itself;
- the guest's statistics equal the line the kernel printed on its console
  at the end of the scenario;
- garbage, a half request and a client of another version get what the
  protocol promises and do not disturb the server or the next client;
- every vmstat run is a new connection to QEMU's chardev server;
- vmtop -b -n 2 --target qemu:SOCK shows A, B and C;
- the socket is owner-only; SIGTERM stops scripts/qemu (exit 0) and QEMU.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCN = os.path.join(ROOT, "tests", "tools", "test_vmstat_serve.scn")
MAGIC, VERSION, EINVAL = 0x4E494D56, 1, 22

failures = []


def check(what, cond, detail=""):
    print("%s  %s%s" % ("ok  " if cond else "FAIL", what, "" if cond else ": " + detail),
          flush=True)
    if not cond:
        failures.append(what)
    return cond


def wait_for(pred, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    sys.exit("test_debugport: timed out waiting for %s" % what)


def children(pid):
    """The processes whose parent is pid."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def inet_sockets(pid):
    """The TCP and UDP sockets (IPv4 and IPv6) process pid has open, as
    "tcp:PORT" strings: the inodes of its socket fds that the kernel's
    tables for those protocols list."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    found = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, proto)) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[9] in inodes:
                found.append("%s:%d" % (proto, int(cols[1].rsplit(":", 1)[1], 16)))
    return found


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vm", required=True)
    ap.add_argument("--vmstat", required=True)
    ap.add_argument("--vmtop", required=True)
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="dbgport-")
    guest_sock, host_sock = os.path.join(tmp, "g.sock"), os.path.join(tmp, "h.sock")
    con, hout = os.path.join(tmp, "console"), os.path.join(tmp, "host")
    procs = []
    try:
        with open(con, "w") as c, open(hout, "w") as h:
            guest = subprocess.Popen(
                [sys.executable, os.path.join(ROOT, "scripts", "qemu"), "--build", args.build,
                 "--serve", guest_sock, SCN], stdin=subprocess.DEVNULL, stdout=c,
                stderr=subprocess.STDOUT)
            procs.append(guest)
            host = subprocess.Popen([args.vm, "serve", "--workload", SCN, "--socket", host_sock],
                                    stdin=subprocess.DEVNULL, stdout=h, stderr=subprocess.STDOUT)
            procs.append(host)
        wait_for(lambda: "serving the debug call" in read(con) or guest.poll() is not None,
                 120, "the guest to serve")
        wait_for(lambda: "serving the debug call" in read(hout) or host.poll() is not None,
                 30, "vm serve to serve")
        console = read(con)
        check("the guest ran the scenario and serves", console.startswith("3 passed, 0 failed\n")
              and guest.poll() is None, repr(console))
        mode = stat.S_IMODE(os.stat(guest_sock).st_mode)
        check("the guest's socket is owner-only", mode == 0o600, oct(mode))
        # Host-side only: QEMU (scripts/qemu's child) and vm serve listen on
        # nothing but their Unix sockets; no TCP or UDP port is open.
        qemus = [c for c in children(guest.pid)
                 if "qemu-system" in read("/proc/%d/cmdline" % c)]
        check("scripts/qemu runs one QEMU", len(qemus) == 1, repr(qemus))
        for who, pid in [("QEMU", q) for q in qemus] + [("vm serve", host.pid)]:
            ports = inet_sockets(pid)
            check("%s has no network socket" % who, ports == [], repr(ports))

        def vmstat(sock, *a, target=False):
            where = ["--target", "qemu:" + sock] if target else ["--socket", sock]
            r = subprocess.run([args.vmstat] + where + list(a), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=60)
            return r.returncode, r.stdout + r.stderr

        def both(*a):
            """The same request to the guest and to the hosted server."""
            return vmstat(guest_sock, *a, target=True), vmstat(host_sock, *a)

        # The guest's stats, before anything else asks: as its console says.
        (grc, gjs), (hrc, hjs) = both("-s", "--json")
        g, hs = json.loads(gjs), json.loads(hjs)
        m = re.search(r"pages total (\d+) free (\d+) largest (\d+) cached (\d+) slab (\d+) "
                      r"pagetables (\d+) vm (\d+), (\d+) processes, (\d+) grants", console)
        fields = ["pages_total", "pages_free", "largest_free", "pages_cached", "pages_slab",
                  "pages_pagetables", "pages_vm", "nprocs", "grants"]
        check("vmstat -s over COM2 shows what the kernel printed on COM1",
              grc == 0 and m is not None and
              [g[f] for f in fields] == [int(x) for x in m.groups()],
              "%s / %s" % (m and m.groups(), [g.get(f) for f in fields]))
        differ = sorted(k for k in set(g) | set(hs) if g.get(k) != hs.get(k) and k != "calls")
        cdiff = sorted(k for k in set(g["calls"]) | set(hs["calls"])
                       if g["calls"].get(k) != hs["calls"].get(k))
        check("vmstat -s: only slab, metadata and the pool's size differ from vm serve",
              hrc == 0 and set(differ) <= {"pages_total", "pages_free", "pages_slab",
                                           "pages_vm"} and cdiff == ["info"],
              "%s %s" % (differ, cdiff))
        check("... and as a 32-bit VM's smaller objects make them differ",
              g["pages_slab"] <= hs["pages_slab"] and g["pages_vm"] <= hs["pages_vm"] and
              g["pages_total"] - hs["pages_total"] == hs["pages_vm"] - g["pages_vm"] and
              g["pages_total"] - g["pages_free"] - g["pages_slab"] ==
              hs["pages_total"] - hs["pages_free"] - hs["pages_slab"],
              "guest %s, host %s" % ([g[f] for f in fields], [hs[f] for f in fields]))
        check("... and the guest kernel's own VM_INFO is the one more info call",
              g["calls"]["info"] == hs["calls"]["info"] + 1,
              "%d %d" % (g["calls"]["info"], hs["calls"]["info"]))

        for a in (["-P"], ["-r", "A"], ["-r", "B"], ["-r", "C"], ["-g", "B"], ["-c"],
                  ["--sanity"], ["--sanity", "--run"]):
            (grc, gout), (hrc, hout_) = both(*a)
            if a[-1] == "--run":
                # "calls handled when it ran": the kernel's own VM_INFO.
                n = re.search(r"(\d+) calls handled", hout_)
                hout_ = hout_.replace(n.group(0), "%d calls handled" % (int(n.group(1)) + 1))
            check("vmstat --target qemu:SOCK %s: as vm serve" % " ".join(a),
                  grc == hrc == 0 and gout == hout_, "\n--- guest\n%s--- host\n%s" % (gout, hout_))
        for p in ("A", "B", "C"):
            (grc, gout), (hrc, hout_) = both("-r", p, "-p")
            def unphys(s):
                return re.sub(r"(phys|pte) [0-9a-f]{5}", r"\1 .....", s)
            check("vmstat -r %s -p: as vm serve but for the frames" % p,
                  grc == hrc == 0 and unphys(gout) == unphys(hout_),
                  "\n--- guest\n%s--- host\n%s" % (gout, hout_))
        rc, out = vmstat(guest_sock, "-P", target=True)
        check("vmstat -P shows A with 5 resident pages",
              rc == 0 and re.search(r"\n +\d+ A +20 ", out) is not None, out)
        rc, out = vmstat(guest_sock, "-P")
        check("--socket works on the guest's socket too", rc == 0 and " A " in out, out)

        def raw(data, reply_len=0, wait=0.0):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect(guest_sock)
            s.sendall(data)
            got = b""
            while len(got) < reply_len:
                chunk = s.recv(reply_len - len(got))
                if not chunk:
                    break
                got += chunk
            time.sleep(wait)
            s.close()
            return got

        def console_grew(pattern):
            """The console's lines after those already seen match pattern."""
            start = len(read(con))
            wait_for(lambda: re.search(pattern, read(con)[seen[0]:]), 10, pattern)
            seen[0] = start
            return True
        seen = [len(read(con))]

        # Garbage, then at once a real client: resynchronised on the magic.
        # (QEMU's chardev forgets what a client sent but the UART has not
        # taken when the client goes, so the client stays a moment.)
        raw(b"\x00garbage!" * 100, wait=0.3)
        rc, out = vmstat(guest_sock, "-P", target=True)
        check("garbage, then a client at once: served", rc == 0 and " C " in out, out)
        check("... and the garbage dropped, nothing reaching VM",
              console_grew(r"debug port: dropped 900 bytes \(not a request\)"))
        # A header that says another length: dropped too.
        raw(struct.pack("<IHHIII", MAGIC, VERSION, 1, 0, 7, 4) + b"abcd")
        rc, out = vmstat(guest_sock, "-c", target=True)
        check("a request with a bad length, then a client: served",
              rc == 0 and "1 blocks held" in out, out)
        # Half a request, then the client goes: dropped after a second of
        # silence, so the next client is not read as its tail.
        raw(struct.pack("<IHHIII", MAGIC, VERSION, 1, 0, 9, 16) + b"\0" * 8, wait=0.3)
        console_grew(r"dropped 28 bytes \(a half request or garbage\)")
        rc, out = vmstat(guest_sock, "-P", target=True)
        check("half a request, then a client: served", rc == 0 and " B " in out, out)
        # Another version: the promised reply, then the next client.
        got = raw(struct.pack("<IHHIII", MAGIC, 7, 1, 0, 1234, 16) + b"\0" * 16, 20)
        check("another version: our version, EINVAL, no payload, seq echoed",
              len(got) == 20 and struct.unpack("<IHHIII", got) ==
              (MAGIC, VERSION, 1, EINVAL, 1234, 0), repr(got))
        rc, out = vmstat(guest_sock, "-P", target=True)
        check("... then a client: served", rc == 0 and " A " in out, out)
        (grc, gout), (hrc, hout_) = both("-P")
        check("the server is still well: the same processes as vm serve",
              grc == hrc == 0 and gout == hout_, gout + hout_)

        r = subprocess.run([args.vmtop, "-b", "-n", "2", "-d", "0.2", "--target",
                            "qemu:" + guest_sock], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        rows = re.findall(r"^ +\d+ ([ABC]) ", r.stdout, re.M)
        check("vmtop -b -n 2 --target qemu:SOCK shows A, B and C twice",
              r.returncode == 0 and r.stdout.count("Processes: 3") == 2 and
              sorted(rows) == ["A", "A", "B", "B", "C", "C"], r.stdout + r.stderr)

        guest.send_signal(signal.SIGTERM)
        try:
            rc = guest.wait(30)
        except subprocess.TimeoutExpired:
            rc = None
        check("SIGTERM stops scripts/qemu --serve, exit 0", rc == 0, "%r" % rc)
        out = subprocess.run(["pgrep", "-f", "path=" + guest_sock], stdout=subprocess.PIPE,
                             text=True).stdout
        check("... and QEMU", out == "", out)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if failures:
            print("--- guest console\n" + read(con))
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
