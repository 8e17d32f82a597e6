"""A fake debug-call server for the vmstat tests (docs/debug-call.md).

It speaks the wire protocol of include/vmscope/vminfo.h with canned
replies, and can misbehave on purpose (another version, a bad magic, a
list that claims more than it holds, silence, a hang-up), so that the
client's checks can be tested without a VM. The canned machine:

  processes  1024 init (privileged), 1025 A, 1026 sh, 1027 sh
             (listed two per reply, so the client must follow the cursor)
  regions    of A: 0x20000000 32K anon rw- heap, 5 resident, 3 of them
             copy-on-write; 0x30000000 4K shared rw-s, 1 resident, 1
             shared (one region per reply, entries 4 bytes bigger than
             struct vmi_region, as a newer server might send)
  pages      of A's first region: 5 pages at 0x20000000 + 4K*i,
             phys 0x00400000 + 4K*i, refcount 2 (but the last, 1)
  slab, cache, grants, sanity: see CANNED below.

Modes: normal; grow (counters grow by each stats request); vanish (A's
second region is gone when its pages are asked for); and the failures:
version, badmagic, badseq, toolong, hangup, shortstats, pagesize0,
shortlist, smallentry, cycle, truncated, silent, silent-after-hello (see
Handler.serve and Handler.answer).

Run it alone: python3 test_vmstat_fakeserver.py --socket PATH [--mode M].
"""

import argparse
import os
import socket
import struct
import threading

MAGIC = 0x4E494D56
VERSION = 1
HDR = struct.Struct("<IHHIII")
REQ = struct.Struct("<iIII")
LIST = struct.Struct("<IIII")
NCALLS = 49
STATS = struct.Struct("<10I12Q%dQ" % NCALLS)
PROC = struct.Struct("<i16s11I")
REGION = struct.Struct("<8I")
PAGE = struct.Struct("<5I")
CACHE = struct.Struct("<2I5Q")
SLAB = struct.Struct("<4I")
GRANT = struct.Struct("<IiiIIII")
SANITY = struct.Struct("<IIQQ")

(VMI_STATS, VMI_PROCS, VMI_REGIONS, VMI_PAGES, VMI_CACHE, VMI_SLAB, VMI_GRANTS,
 VMI_SANITY) = range(1, 9)
EINVAL, ESRCH = 22, 3

# struct vmi_stats: page_size, pages_total, free, largest_free, cached,
# slab, pagetables, vm, nprocs, grants; then the counters.
STATS_FIELDS = dict(page_size=4096, pages_total=4000, pages_free=3000, largest_free=2500,
                    pages_cached=12, pages_slab=7, pages_pagetables=9, pages_vm=20,
                    nprocs=4, grants=2)
COUNTERS = dict(pf_zerofill=100, pf_cowcopy=10, pf_cowreuse=5, pf_shared=3, pf_refused=1,
                pf_nomem=0, spawns=3, forks=1, execs=2, exits=0, evictions=4, bad_calls=6)
CALLS = {1: 50, 3: 7, 18: 1, 20: 119, 34: 1000, 45: 2}  # mmap, brk, fork, pagefault, info, 0xc2d

PROCS = [
    # endpoint, name, flags, resident, shared, cow, virtual, regions, minflt, brk,
    # pss_1k, cache_blocks, grants
    (1024, b"init", 2, 2, 0, 0, 4, 1, 2, 0, 2048, 0, 0),
    (1025, b"A", 0, 6, 1, 3, 9, 2, 6, 0x20008000, 4096, 1, 1),
    (1026, b"sh", 0, 1, 0, 0, 1, 1, 1, 0, 1024, 0, 0),
    (1027, b"sh", 0, 1, 0, 0, 1, 1, 1, 0, 1024, 0, 1),
]
REGIONS = {
    1025: [
        # start, length, flags, memtype, resident, shared, cow, grant
        (0x20000000, 32768, 0x203, 1, 5, 0, 3, 0),
        (0x30000000, 4096, 0x013, 4, 1, 1, 0, 0),
    ],
}
PAGES = [(0x20000000 + 4096 * i, 0x400000 + 4096 * i, 2 if i < 4 else 1, 0,
          0x400000 + 4096 * i + 0x25) for i in range(5)]
CACHE_REPLY = (3, 12, 40, 30, 10, 4, 2)
SLABS = [(32, 1, 128, 100), (64, 2, 128, 64), (256, 1, 16, 3)]
GRANTS = {
    1025: [(7, 1025, 1026, 0x20000000, 8192, 3, 1)],
    1027: [(9, 1027, -3, 0x1000, 4096, 1, 0), (7, 1025, 1027, 0x20000000, 8192, 1, 0)],
}
SANITY_REPLY = (4, 0, 1234, 0)


def stats_payload():
    calls = [CALLS.get(i, 0) for i in range(NCALLS)]
    return STATS.pack(*STATS_FIELDS.values(), *COUNTERS.values(), *calls)


def list_payload(entries, packer, cursor, per_reply, pad=0):
    """Entries from index cursor, per_reply of them; next is an index."""
    chunk = entries[cursor:cursor + per_reply]
    more = cursor + per_reply < len(entries)
    body = b"".join(packer.pack(*e) + b"\xee" * pad for e in chunk)
    return LIST.pack(len(chunk), packer.size + pad, int(more),
                     cursor + per_reply if more else 0) + body


class Handler:
    """Answers one connection; mode chooses how it behaves."""

    def __init__(self, conn, mode, server):
        self.conn, self.mode, self.server = conn, mode, server
        self.stats_asked = 0

    def recv_exact(self, n):
        data = b""
        while len(data) < n:
            k = self.conn.recv(n - len(data))
            if not k:
                return None
            data += k
        return data

    def reply(self, hdr, status, payload, version=VERSION, magic=MAGIC, subcall=None, seq=None,
              length=None):
        self.conn.sendall(HDR.pack(magic, version, hdr[2] if subcall is None else subcall,
                                   status, hdr[4] if seq is None else seq,
                                   len(payload) if length is None else length) + payload)

    def answer(self, hdr, req):
        sub = hdr[2]
        ep, cursor, addr, flags = req
        mode = self.mode
        if sub == VMI_STATS:
            self.stats_asked += 1
            payload = stats_payload()
            if mode == "pagesize0":
                payload = struct.pack("<I", 0) + payload[4:]
            if mode == "grow" and self.stats_asked > 1:
                # Later samples: 10 more zero-fill faults, 2 forks, 1 exec
                # per request, and less free memory.
                s = list(STATS.unpack(payload))
                k = self.stats_asked - 1
                s[2] -= 10 * k
                s[10] += 10 * k
                s[17] += 2 * k
                s[18] += k
                payload = STATS.pack(*s)
            if mode == "shortstats":
                payload = payload[:100]
            return 0, payload
        if sub == VMI_PROCS:
            if mode == "shortlist":
                return 0, LIST.pack(5, PROC.size, 0, 0) + PROC.pack(*PROCS[0])
            if mode == "smallentry":
                return 0, LIST.pack(1, 8, 0, 0) + b"\0" * 8
            if mode == "cycle":
                return 0, LIST.pack(1, PROC.size, 1, cursor) + PROC.pack(*PROCS[0])
            return 0, list_payload(PROCS, PROC, cursor, 2)
        if sub in (VMI_REGIONS, VMI_PAGES, VMI_GRANTS) and not any(p[0] == ep for p in PROCS):
            return ESRCH, b""
        if sub == VMI_REGIONS:
            regs = REGIONS.get(ep, [])
            # The cursor is an address: the first region at or after it.
            start = next((i for i, r in enumerate(regs) if r[0] >= cursor), len(regs))
            chunk = regs[start:start + 1]
            more = start + 1 < len(regs)
            body = b"".join(REGION.pack(*r) + b"\xee" * 4 for r in chunk)
            return 0, LIST.pack(len(chunk), REGION.size + 4, int(more),
                                regs[start + 1][0] if more else 0) + body
        if sub == VMI_PAGES:
            if ep != 1025 or not 0x20000000 <= addr < 0x20008000:
                if ep == 1025 and 0x30000000 <= addr < 0x30001000 and mode != "vanish":
                    return 0, list_payload([(0x30000000, 0x500000, 2, 0, 0x500067)], PAGE, 0, 9)
                return EINVAL, b""
            return 0, list_payload(PAGES, PAGE, cursor, 3)
        if sub == VMI_CACHE:
            return 0, CACHE.pack(*CACHE_REPLY)
        if sub == VMI_SLAB:
            return 0, list_payload(SLABS, SLAB, cursor, 9)
        if sub == VMI_GRANTS:
            return 0, list_payload(GRANTS.get(ep, []), GRANT, cursor, 9)
        if sub == VMI_SANITY:
            if flags & ~1:
                return EINVAL, b""
            runs, last, call, total = SANITY_REPLY
            if flags & 1:
                self.server.sanity_runs += 1
            return 0, SANITY.pack(runs + self.server.sanity_runs, last, call, total)
        return EINVAL, b""

    def serve(self):
        while True:
            raw = self.recv_exact(HDR.size)
            if raw is None:
                return
            hdr = HDR.unpack(raw)
            if hdr[0] != MAGIC or hdr[5] != REQ.size:
                return  # garbage: drop the connection, as the server does
            body = self.recv_exact(REQ.size)
            if body is None:
                return
            req = REQ.unpack(body)
            self.server.requests.append((hdr[2], req))
            if hdr[1] != VERSION:
                self.reply(hdr, EINVAL, b"")
                continue
            mode = self.mode
            if mode == "version":
                self.reply(hdr, EINVAL, b"", version=2)
                continue
            if mode == "badmagic":
                self.reply(hdr, 0, b"", magic=0x12345678)
                continue
            if mode == "badseq":
                self.reply(hdr, 0, stats_payload(), seq=hdr[4] + 1)
                continue
            if mode == "toolong":
                self.reply(hdr, 0, b"", length=70000)
                continue
            if mode == "hangup":
                return
            if mode == "silent" or (mode == "silent-after-hello" and hdr[2] != VMI_STATS):
                threading.Event().wait(30)
                return
            if mode == "truncated" and hdr[2] == VMI_PROCS:
                self.conn.sendall(HDR.pack(MAGIC, VERSION, hdr[2], 0, hdr[4], 100) + b"\0" * 10)
                return
            status, payload = self.answer(hdr, req)
            self.reply(hdr, status, payload)


class FakeServer:
    """A fake server on a Unix socket at path, in a thread."""

    def __init__(self, path, mode="normal"):
        self.path, self.mode = path, mode
        self.requests = []
        self.sanity_runs = 0
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        try:
            Handler(conn, self.mode, self).serve()
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--mode", default="normal")
    args = ap.parse_args()
    srv = FakeServer(args.socket, args.mode)
    print("fake server on %s (mode %s); Ctrl-C stops it" % (args.socket, args.mode), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        srv.close()


if __name__ == "__main__":
    main()
