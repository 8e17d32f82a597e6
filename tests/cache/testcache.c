/*
 * testcache: a randomized consistency test of VM's block cache and of the
 * file server that uses it, in the manner of MINIX's testcache/testvm.
 *
 * A block's contents are a function of (seed, block number), so a model
 * in host memory needs only the seed of each block's last write. The same
 * access pattern as MINIX's dotest() (sequential writes, permutations,
 * interleaved write/check passes, random write/check pairs, each followed
 * by full verification passes) runs against two stores:
 *
 *   vmcache  processes yield blocks to VM and get them back directly. A
 *            block read back is exactly its last write, or ESRCH when VM
 *            forgot it. Beyond the contents the test checks what else it
 *            can know: a block is never lost while VM has evicted nothing
 *            since its yield, eviction is oldest first (a block yielded
 *            before one VM evicted never comes back), a forgotten or
 *            evicted block never comes back, ids are per process, a
 *            yield leaves zeroed memory, and a yielded page that a fork
 *            child still maps is not changed by the child's writes.
 *   fs       the simulated file server (kernel-stubs/hosted/fileserver.c)
 *            with VM's cache behind its buffers: every read equals the
 *            last write, never gone.
 *
 * Working sets go from 10 pages to 1.5 times the machine's memory, so that
 * VM must evict. Every few hundred VM calls the full consistency check
 * runs; after each round every process exits and the machine must have as
 * many free pages as at boot, no cached pages, and a clean check.
 *
 *   testcache [-s SEED] [-m MB] [-v]
 *
 * (-v: print every failure, not only the first few) prints one line of
 * figures per round and exits 0 when nothing was wrong, 1 otherwise.
 */
#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/mman.h>

#include "../../kernel-stubs/hosted/fileserver.h"
#include "../../kernel-stubs/hosted/machine.h"
#include "alloc.h"
#include "cache.h"
#include "proto.h"

#define GONE 1           /* a store's read: the block was forgotten */
#define SANITY_EVERY 400 /* VM calls between consistency checks */
#define MAX_REPORTS 20   /* failures printed in full */
#define MAX_BLOCK (VM_CACHE_MAXPAGES * VM_PAGE_SIZE)

static bool verbose;
static uint64_t failures;

/* Record a failure; the first few are printed. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (failures++ >= MAX_REPORTS && !verbose)
		return;
	va_start(ap, fmt);
	fputs("testcache: FAIL: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
}

/* splitmix64: small, fast, and the same on every host. */
static uint64_t mix(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t rng_state;

/* A random number below n (n > 0). */
static uint32_t rnd(uint32_t n)
{
	return (uint32_t)(mix(&rng_state) % n);
}

/* The contents of block g as written with seed (seed 0: never written,
 * which the file server's fresh disk reads as zeroes). */
static void genblock(uint32_t seed, uint32_t g, uint8_t *data, uint32_t len)
{
	uint64_t st = ((uint64_t)seed << 32) ^ g ^ 0x5EEDB10Cull;

	if (seed == 0) {
		memset(data, 0, len);
		return;
	}
	for (uint32_t i = 0; i < len; i += 8) {
		uint64_t v = mix(&st);
		memcpy(data + i, &v, 8);
	}
}

/* A random seed for a pass of writes; never 0. */
static uint32_t newseed(void)
{
	return rnd(UINT32_MAX - 1) + 1;
}

/*
 * A store of numbered blocks. read returns 0 with the data or GONE (only
 * for a store that may lose blocks); problems the store itself detects it
 * reports through fail().
 */
struct store {
	const char *name;
	uint32_t nblocks;
	bool may_lose;
	uint32_t (*bytes)(struct store *s, uint32_t g);
	void (*write)(struct store *s, uint32_t g, const uint8_t *data);
	int (*read)(struct store *s, uint32_t g, uint8_t *data);
	void (*chaos)(struct store *s); /* a random extra event, now and then */
};

/* The model: the seed of each block's last write, and the one before
 * (to tell a stale block from a garbled one). */
static uint32_t *seed_now, *seed_prev;

static struct {
	uint64_t reads, writes, gone, wrong, stale;
} tally;

static void writeblock(struct store *s, uint32_t g, uint32_t seed)
{
	static uint8_t data[MAX_BLOCK];
	uint32_t len = s->bytes(s, g);

	genblock(seed, g, data, len);
	s->write(s, g, data);
	seed_prev[g] = seed_now[g];
	seed_now[g] = seed;
	tally.writes++;
}

static void checkblock(struct store *s, uint32_t g)
{
	static uint8_t data[MAX_BLOCK], expect[MAX_BLOCK];
	uint32_t len = s->bytes(s, g);

	tally.reads++;
	if (s->read(s, g, data) == GONE) {
		tally.gone++;
		if (!s->may_lose)
			fail("%s: block %u reported gone", s->name, g);
		return;
	}
	genblock(seed_now[g], g, expect, len);
	if (memcmp(data, expect, len) == 0)
		return;
	genblock(seed_prev[g], g, expect, len);
	if (seed_prev[g] != seed_now[g] && memcmp(data, expect, len) == 0) {
		tally.stale++;
		fail("%s: block %u is stale (the write before the last)", s->name, g);
	} else {
		tally.wrong++;
		fail("%s: block %u is wrong (neither its last write nor the one before)", s->name,
		     g);
	}
}

static void chaos(struct store *s)
{
	if (s->chaos && rnd(64) == 0)
		s->chaos(s);
}

/* A random permutation of 0..n-1 (Fisher-Yates). */
static void permute(uint32_t *perm, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		perm[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = rnd(i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
}

/* Every block in order, 3n at random, in order again, in a permutation. */
static void checkblocks(struct store *s, uint32_t *perm)
{
	uint32_t n = s->nblocks;

	permute(perm, n);
	for (uint32_t g = 0; g < n; g++)
		checkblock(s, g);
	for (uint32_t i = 0; i < 3 * n; i++) {
		checkblock(s, rnd(n));
		chaos(s);
	}
	for (uint32_t g = 0; g < n; g++)
		checkblock(s, g);
	for (uint32_t i = 0; i < n; i++)
		checkblock(s, perm[i]);
}

/* MINIX's dotest() access pattern over the store's blocks. */
static void dotest(struct store *s, unsigned iterations)
{
	uint32_t n = s->nblocks, seed = newseed();
	uint32_t *perm1 = malloc(n * sizeof(*perm1)), *perm2 = malloc(n * sizeof(*perm2));

	if (!perm1 || !perm2) {
		fprintf(stderr, "testcache: out of host memory\n");
		exit(2);
	}
	for (uint32_t g = 0; g < n; g++) {
		writeblock(s, g, seed);
		checkblock(s, g);
	}
	checkblocks(s, perm1);
	permute(perm1, n);
	for (uint32_t i = 0; i < n; i++) {
		writeblock(s, perm1[i], seed);
		checkblock(s, perm1[i]);
	}
	checkblocks(s, perm1);
	for (unsigned it = 0; it < iterations; it++) {
		permute(perm1, n);
		permute(perm2, n);
		seed = newseed();
		for (uint32_t i = 0; i < n; i++) {
			writeblock(s, perm1[i], seed);
			checkblock(s, perm2[i]);
			chaos(s);
		}
		checkblocks(s, perm1);
	}
	seed = newseed();
	for (uint32_t i = 0; i < n * iterations; i++) {
		writeblock(s, rnd(n), seed);
		checkblock(s, rnd(n));
		chaos(s);
	}
	checkblocks(s, perm1);
	free(perm1);
	free(perm2);
}

/* The machine. */

static uint32_t boot_free, vm_calls, sanity_runs, sanity_findings;

static int call(endpoint_t from, message *m)
{
	m->m_source = from;
	return hosted_call(m);
}

/* The full consistency check now and then (every call would take too
 * long at these sizes; the scenarios do that). */
static void tick(void)
{
	if (++vm_calls % SANITY_EVERY == 0) {
		sanity_runs++;
		sanity_findings += sanity_check();
	}
}

static vir_bytes map_anon(endpoint_t ep, uint32_t len)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_type = VM_MMAP;
	m.m_mmap.len = len;
	m.m_mmap.prot = VM_PROT_READ | VM_PROT_WRITE;
	if (call(ep, &m) != VM_OK) {
		fprintf(stderr, "testcache: mmap of %u bytes failed: %d\n", len, m.m_type);
		exit(2);
	}
	return m.m_mmap.addr;
}

static int yieldget(endpoint_t ep, vir_bytes addr, uint32_t len, uint64_t yid, uint64_t gid)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_type = VM_YIELDBLOCKGETBLOCK;
	m.m_yb.addr = addr;
	m.m_yb.len = len;
	m.m_yb.yield_lo = (uint32_t)yid;
	m.m_yb.yield_hi = (uint32_t)(yid >> 32);
	m.m_yb.get_lo = (uint32_t)gid;
	m.m_yb.get_hi = (uint32_t)(gid >> 32);
	tick();
	return call(ep, &m);
}

static int forget(endpoint_t ep, bool all, uint64_t id)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_type = all ? VM_FORGETBLOCKS : VM_FORGETBLOCK;
	m.m_forget.id_lo = (uint32_t)id;
	m.m_forget.id_hi = (uint32_t)(id >> 32);
	tick();
	return call(ep, &m);
}

static void access_mem(endpoint_t ep, vir_bytes va, void *buf, uint32_t len, bool write)
{
	int r = mmu_access(hosted_proc(ep), va, buf, len, write);
	if (r != 0)
		fail("%s of %u bytes at 0x%08x by %d refused: %d", write ? "store" : "load", len,
		     va, ep, r);
}

/* Whether [va, va + len) of ep reads as zeroes. */
static bool is_zero(endpoint_t ep, vir_bytes va, uint32_t len)
{
	static uint8_t data[MAX_BLOCK];

	access_mem(ep, va, data, len, false);
	for (uint32_t i = 0; i < len; i++)
		if (data[i])
			return false;
	return true;
}

/*
 * The vmcache store: block g belongs to process g % nproc, under a 64-bit
 * id made from g / nproc; each process has one buffer of its block size
 * and keeps the block it last touched there ("held") until the next one
 * needs the buffer: then one call yields the held block and gets the
 * wanted one, as a file server would.
 */
enum where { D_NEVER, D_HELD, D_INVM, D_GONE, D_FORGOTTEN };

struct dproc {
	endpoint_t ep, child;
	vir_bytes buf;
	uint32_t pages;
	uint32_t held; /* block in the buffer, or UINT32_MAX */
};

static struct {
	struct store s;
	unsigned nproc;
	struct dproc proc[4];
	uint8_t *where;   /* per block: enum where */
	uint64_t *age;    /* per block in VM: its yield's place in the age order */
	uint64_t *ev_at;  /* per block in VM: VM's eviction count at its yield */
	uint64_t agenow;  /* yields so far */
	uint64_t gone_at; /* newest age of a block found evicted */
	uint64_t forks, forgets;
	uint64_t evicted; /* reads that found a block VM had evicted */
} vc;

#define NOHELD UINT32_MAX

static uint64_t vc_id(uint32_t g)
{
	/* Both halves used, so that an id mixed up with another in either
	 * half shows; never VM_BLOCKID_NONE. */
	uint32_t local = g / vc.nproc;
	return ((uint64_t)(local + 1) << 32) | (local ^ 0xA5A5A5A5u);
}

static struct dproc *vc_proc(uint32_t g)
{
	return &vc.proc[g % vc.nproc];
}

static uint32_t vc_bytes(struct store *s, uint32_t g)
{
	(void)s;
	return vc_proc(g)->pages * VM_PAGE_SIZE;
}

/* Bookkeeping for a yield of block g that VM accepted. */
static void vc_yielded(uint32_t g)
{
	vc.where[g] = D_INVM;
	vc.age[g] = ++vc.agenow;
	vc.ev_at[g] = cache_stats.evictions;
}

/* Yield p's held block alone; its buffer must then read as zero. */
static void vc_yield_held(struct dproc *p)
{
	uint32_t len = p->pages * VM_PAGE_SIZE;
	int r = yieldget(p->ep, p->buf, len, vc_id(p->held), VM_BLOCKID_NONE);

	if (r != VM_OK) {
		fail("vmcache: yield of block %u: %d", p->held, r);
		vc.where[p->held] = D_FORGOTTEN;
	} else {
		vc_yielded(p->held);
	}
	p->held = NOHELD;
	if (!is_zero(p->ep, p->buf, len))
		fail("vmcache: memory after a yield is not zero");
}

static void vc_write(struct store *s, uint32_t g, const uint8_t *data)
{
	struct dproc *p = vc_proc(g);

	(void)s;
	if (p->held != NOHELD && p->held != g)
		vc_yield_held(p);
	/* VM may hold an older copy of g: the yield that will take this one
	 * there replaces it. */
	access_mem(p->ep, p->buf, (void *)data, vc_bytes(s, g), true);
	p->held = g;
	vc.where[g] = D_HELD;
}

static int vc_read(struct store *s, uint32_t g, uint8_t *data)
{
	struct dproc *p = vc_proc(g);
	uint32_t len = vc_bytes(s, g), had = p->held;
	int r;

	if (had == g) {
		access_mem(p->ep, p->buf, data, len, false);
		return 0;
	}
	r = yieldget(p->ep, p->buf, len, had == NOHELD ? VM_BLOCKID_NONE : vc_id(had), vc_id(g));
	if (r != VM_OK && r != ESRCH) {
		fail("vmcache: yield %u / get %u: %d", had, g, r);
		exit(1); /* the model no longer knows what VM holds */
	}
	if (had != NOHELD)
		vc_yielded(had);
	p->held = NOHELD;
	if (r == ESRCH) {
		if (vc.where[g] == D_INVM) {
			if (cache_stats.evictions == vc.ev_at[g])
				fail("vmcache: block %u gone, but VM evicted nothing since its "
				     "yield",
				     g);
			if (vc.age[g] > vc.gone_at)
				vc.gone_at = vc.age[g];
			vc.evicted++;
			vc.where[g] = D_GONE;
		} else if (vc.where[g] == D_HELD) {
			fail("vmcache: block %u: where did it go?", g);
		}
		/* Nothing was got: the buffer is what the yield left, or was. */
		if (!is_zero(p->ep, p->buf, len))
			fail("vmcache: buffer not zero after a failed get of block %u", g);
		return GONE;
	}
	if (vc.where[g] != D_INVM)
		fail("vmcache: block %u came back from VM although it was %s", g,
		     vc.where[g] == D_GONE        ? "evicted before"
		     : vc.where[g] == D_FORGOTTEN ? "forgotten"
						  : "never yielded");
	else if (vc.age[g] < vc.gone_at)
		fail("vmcache: block %u came back although a newer block was evicted before it "
		     "(not oldest first)",
		     g);
	p->held = g;
	vc.where[g] = D_HELD;
	access_mem(p->ep, p->buf, data, len, false);
	return 0;
}

static void vc_chaos(struct store *s)
{
	uint32_t g = rnd(s->nblocks);
	struct dproc *p = vc_proc(g);
	uint32_t len = vc_bytes(s, g);

	if (rnd(3) != 0) {
		/* Forget one block: gone for good (a held block is not in VM,
		 * except for an older copy that the forget drops too). */
		if (forget(p->ep, false, vc_id(g)) != VM_OK)
			fail("vmcache: forget of block %u refused", g);
		if (vc.where[g] != D_HELD)
			vc.where[g] = D_FORGOTTEN;
		vc.forgets++;
		return;
	}
	/* Fork: the child shares the parent's buffer copy-on-write. The
	 * parent yields its block; the child cannot get it (ids are per
	 * process), scribbles on its copy and yields that under the same id:
	 * the parent's block must not change. The child lives on, keeping
	 * references to yielded frames, until the next fork of this parent. */
	if (p->child != NONE && hosted_exit(p->child) != 0)
		fail("vmcache: exit of a child failed");
	p->child = NONE;
	if (hosted_fork(p->ep, "child", &p->child) != 0) {
		fail("vmcache: fork failed");
		p->child = NONE;
		return;
	}
	vc.forks++;
	if (p->held == NOHELD)
		return;
	uint64_t id = vc_id(p->held);
	vc_yield_held(p);
	if (yieldget(p->child, p->buf, len, VM_BLOCKID_NONE, id) != ESRCH)
		fail("vmcache: a fork child got its parent's block");
	static uint8_t junk[MAX_BLOCK];
	memset(junk, 0xEE, len);
	access_mem(p->child, p->buf, junk, len, true);
	if (yieldget(p->child, p->buf, len, id, VM_BLOCKID_NONE) != VM_OK)
		fail("vmcache: a child's yield failed");
}

/* The file-server store: block g is block g / nfs of server g % nfs. */
static struct {
	struct store s;
	unsigned nfs;
	struct fileserver *fs[4];
	uint64_t forgets;
} fsv;

static uint32_t fsv_bytes(struct store *s, uint32_t g)
{
	(void)s;
	return fs_block_bytes(fsv.fs[g % fsv.nfs]);
}

static void fsv_write(struct store *s, uint32_t g, const uint8_t *data)
{
	(void)s;
	tick();
	if (fs_write(fsv.fs[g % fsv.nfs], g / fsv.nfs, data) != 0)
		fail("fs: write of block %u refused", g);
}

static int fsv_read(struct store *s, uint32_t g, uint8_t *data)
{
	(void)s;
	tick();
	if (fs_read(fsv.fs[g % fsv.nfs], g / fsv.nfs, data) != 0)
		fail("fs: read of block %u refused", g);
	return 0;
}

static void fsv_chaos(struct store *s)
{
	uint32_t g = rnd(s->nblocks);
	struct fileserver *fs = fsv.fs[g % fsv.nfs];

	/* Dropping VM's copies costs disk reads, never data. */
	if ((rnd(500) == 0 ? fs_forget_all(fs) : fs_forget(fs, g / fsv.nfs)) != 0)
		fail("fs: forget refused");
	fsv.forgets++;
}

/* Write block b of fs with seed, in the model too. */
static void writeblock_fs(struct fileserver *fs, uint32_t b, uint32_t seed)
{
	static uint8_t data[MAX_BLOCK];

	genblock(seed, b, data, fs_block_bytes(fs));
	if (fs_write(fs, b, data) != 0)
		fail("fs: write of block %u refused", b);
	seed_prev[b] = seed_now[b];
	seed_now[b] = seed;
}

/* Rounds. */

static void model_new(uint32_t n)
{
	free(seed_now);
	free(seed_prev);
	seed_now = calloc(n, sizeof(*seed_now));
	seed_prev = calloc(n, sizeof(*seed_prev));
	if (!seed_now || !seed_prev) {
		fprintf(stderr, "testcache: out of host memory\n");
		exit(2);
	}
	memset(&tally, 0, sizeof(tally));
}

static uint32_t total_pages(void)
{
	return phys_total_pages();
}

/* After a round: every process gone, the machine as it was at boot. */
static void check_clean(const char *round)
{
	uint32_t findings = sanity_check();

	sanity_runs++;
	sanity_findings += findings;
	if (findings)
		fail("%s: %u consistency findings at the end", round, findings);
	if (cache_stats.pages != 0 || cache_stats.blocks != 0)
		fail("%s: the cache holds %u blocks (%u pages) after every process exited", round,
		     cache_stats.blocks, cache_stats.pages);
	if (phys_free_pages() != boot_free)
		fail("%s: %u free pages after every process exited, %u at boot", round,
		     phys_free_pages(), boot_free);
}

/*
 * A vmcache round: nproc processes with blocks of pages[i] pages, about
 * ws_pages pages of blocks in all. expect_evictions: the working set is
 * larger than memory (else nothing may be evicted and nothing gone).
 */
static void round_vmcache(uint32_t ws_pages, unsigned nproc, const uint32_t *pages,
			  unsigned iterations, bool expect_evictions)
{
	char name[64];
	uint32_t sum = 0;
	struct cache_stats c0 = cache_stats;

	memset(&vc, 0, sizeof(vc));
	vc.nproc = nproc;
	for (unsigned i = 0; i < nproc; i++)
		sum += pages[i];
	uint32_t n = ws_pages * nproc / sum;
	n -= n % nproc; /* whole rows: every process the same count */
	snprintf(name, sizeof(name), "vmcache %up/%uproc", n / nproc * sum, nproc);
	vc.s = (struct store){ name, n, true, vc_bytes, vc_write, vc_read, vc_chaos };
	vc.where = calloc(n, 1);
	vc.age = calloc(n, sizeof(*vc.age));
	vc.ev_at = calloc(n, sizeof(*vc.ev_at));
	if (!vc.where || !vc.age || !vc.ev_at) {
		fprintf(stderr, "testcache: out of host memory\n");
		exit(2);
	}
	for (unsigned i = 0; i < nproc; i++) {
		struct dproc *p = &vc.proc[i];
		char pname[16];
		snprintf(pname, sizeof(pname), "cache%u", i);
		if (hosted_spawn(pname, false, &p->ep) != 0) {
			fprintf(stderr, "testcache: spawn failed\n");
			exit(2);
		}
		p->child = NONE;
		p->pages = pages[i];
		p->held = NOHELD;
		p->buf = map_anon(p->ep, p->pages * VM_PAGE_SIZE);
	}
	model_new(n);
	dotest(&vc.s, iterations);

	/* Forget everything of one process: nothing of it comes back. */
	struct dproc *p0 = &vc.proc[0];
	if (forget(p0->ep, true, 0) != VM_OK)
		fail("%s: forgetall refused", name);
	for (uint32_t g = 0; g < n; g += nproc)
		if (vc.where[g] != D_HELD)
			vc.where[g] = D_FORGOTTEN;
	for (uint32_t g = 0; g < n; g += nproc)
		checkblock(&vc.s, g);

	uint64_t evictions = cache_stats.evictions - c0.evictions;
	uint32_t cached_end = cache_stats.pages;
	for (unsigned i = 0; i < nproc; i++) {
		if (vc.proc[i].child != NONE)
			hosted_exit(vc.proc[i].child);
		hosted_exit(vc.proc[i].ep);
	}
	if (expect_evictions && evictions == 0)
		fail("%s: working set beyond memory but VM evicted nothing", name);
	if (!expect_evictions && (evictions || vc.evicted))
		fail("%s: %" PRIu64 " evictions, %" PRIu64 " blocks evicted with memory to spare",
		     name, evictions, vc.evicted);
	printf("%-22s %7" PRIu64 " writes %8" PRIu64 " reads %7" PRIu64 " gone (%" PRIu64
	       " evicted) %" PRIu64 " wrong %" PRIu64 " stale | VM %" PRIu64 " hits %" PRIu64
	       " misses %" PRIu64 " evictions, %u pages cached at the end; %" PRIu64
	       " forks %" PRIu64 " forgets\n",
	       name, tally.writes, tally.reads, tally.gone, vc.evicted, tally.wrong, tally.stale,
	       cache_stats.hits - c0.hits, cache_stats.misses - c0.misses, evictions, cached_end,
	       vc.forks, vc.forgets);
	check_clean(name);
	free(vc.where);
	free(vc.age);
	free(vc.ev_at);
}

/* A file-server round: nfs servers with the given block sizes and
 * buffers, about ws_pages pages of disk in all. */
static void round_fs(uint32_t ws_pages, unsigned nfs, const uint32_t *pages, uint32_t buffers,
		     unsigned iterations, bool expect_evictions)
{
	char name[64];
	uint32_t sum = 0;
	struct cache_stats c0 = cache_stats;

	memset(&fsv, 0, sizeof(fsv));
	fsv.nfs = nfs;
	for (unsigned i = 0; i < nfs; i++)
		sum += pages[i];
	uint32_t n = ws_pages * nfs / sum;
	n -= n % nfs;
	for (unsigned i = 0; i < nfs; i++) {
		int r = fs_start(n / nfs, pages[i] * VM_PAGE_SIZE, buffers, &fsv.fs[i]);
		if (r != 0) {
			fprintf(stderr, "testcache: fs_start failed: %d\n", r);
			exit(2);
		}
	}
	snprintf(name, sizeof(name), "fs %up/%ufs", n / nfs * sum, nfs);
	fsv.s = (struct store){ name, n, false, fsv_bytes, fsv_write, fsv_read, fsv_chaos };
	model_new(n);
	dotest(&fsv.s, iterations);

	struct fs_stats t;
	memset(&t, 0, sizeof(t));
	for (unsigned i = 0; i < nfs; i++) {
		struct fs_stats st = fs_stats(fsv.fs[i]);
		t.buf_hits += st.buf_hits;
		t.vm_hits += st.vm_hits;
		t.vm_misses += st.vm_misses;
		t.cold += st.cold;
		t.disk_reads += st.disk_reads;
		t.yields += st.yields;
		t.cache_errors += st.cache_errors;
		fs_stop(fsv.fs[i]);
	}
	uint64_t evictions = cache_stats.evictions - c0.evictions;
	if (t.cache_errors)
		fail("%s: %" PRIu64 " caching failures in the file server", name, t.cache_errors);
	if (t.vm_hits == 0)
		fail("%s: VM's cache never served the file server", name);
	if (expect_evictions && (evictions == 0 || t.vm_misses == 0))
		fail("%s: working set beyond memory but nothing evicted", name);
	if (!expect_evictions && (evictions || t.vm_misses))
		fail("%s: evictions with memory to spare", name);
	printf("%-22s %7" PRIu64 " writes %8" PRIu64 " reads %" PRIu64 " wrong %" PRIu64
	       " stale | %" PRIu64 " buffer hits, VM %" PRIu64 " hits %" PRIu64 " misses, %" PRIu64
	       " cold, %" PRIu64 " disk reads, %" PRIu64 " evictions; %" PRIu64 " forgets\n",
	       name, tally.writes, tally.reads, tally.wrong, tally.stale, t.buf_hits, t.vm_hits,
	       t.vm_misses, t.cold, t.disk_reads, evictions, fsv.forgets);
	check_clean(name);
}

/*
 * Directed checks the scenarios cannot make: ids that differ only in one
 * half are different blocks, a yield under a held id replaces the block,
 * and exec drops the blocks (the image is made here, not read from disk).
 */
static void directed(void)
{
	endpoint_t a;
	uint8_t b = 0;
	uint64_t lo = 0x00000001ull, hi = 0x100000000ull;

	if (hosted_spawn("directed", false, &a) != 0)
		exit(2);
	vir_bytes buf = map_anon(a, 2 * VM_PAGE_SIZE);
	b = 1;
	access_mem(a, buf, &b, 1, true);
	if (yieldget(a, buf, VM_PAGE_SIZE, lo, VM_BLOCKID_NONE) != VM_OK)
		fail("directed: yield lo");
	b = 2;
	access_mem(a, buf, &b, 1, true);
	if (yieldget(a, buf, VM_PAGE_SIZE, hi, VM_BLOCKID_NONE) != VM_OK)
		fail("directed: yield hi");
	b = 3;
	access_mem(a, buf, &b, 1, true);
	if (yieldget(a, buf, VM_PAGE_SIZE, hi, VM_BLOCKID_NONE) != VM_OK)
		fail("directed: second yield under hi");
	if (cache_stats.blocks != 2 || cache_stats.pages != 2)
		fail("directed: %u blocks, %u pages cached; expected 2 and 2", cache_stats.blocks,
		     cache_stats.pages);
	if (yieldget(a, buf, VM_PAGE_SIZE, VM_BLOCKID_NONE, lo) != VM_OK)
		fail("directed: get lo");
	access_mem(a, buf, &b, 1, false);
	if (b != 1)
		fail("directed: id 1 read %u, expected 1", b);
	if (yieldget(a, buf, VM_PAGE_SIZE, VM_BLOCKID_NONE, hi) != VM_OK)
		fail("directed: get hi");
	access_mem(a, buf, &b, 1, false);
	if (b != 3)
		fail("directed: the second yield under an id did not replace the first (%u)", b);
	if (yieldget(a, buf, VM_PAGE_SIZE, VM_BLOCKID_NONE, VM_BLOCKID_NONE) != EINVAL)
		fail("directed: neither a yield nor a get is not EINVAL");

	/* The combined call: the yield half is done even when the get half
	 * then fails (here: a block of another length), and the block asked
	 * for stays in the cache. */
	b = 4;
	access_mem(a, buf, &b, 1, true);
	if (yieldget(a, buf, 2 * VM_PAGE_SIZE, 20, VM_BLOCKID_NONE) != VM_OK)
		fail("directed: yield of a 2-page block");
	b = 5;
	access_mem(a, buf, &b, 1, true);
	if (yieldget(a, buf, VM_PAGE_SIZE, 21, 20) != EFAULT)
		fail("directed: yield + get of a block of another length is not EFAULT");
	if (!is_zero(a, buf, VM_PAGE_SIZE))
		fail("directed: the yield half of a failed combined call was not done");
	if (yieldget(a, buf, VM_PAGE_SIZE, VM_BLOCKID_NONE, 21) != VM_OK)
		fail("directed: the block yielded by a failed combined call is not there");
	access_mem(a, buf, &b, 1, false);
	if (b != 5)
		fail("directed: block 21 read %u, expected 5", b);
	/* Yield and get the same id: the block goes and comes straight back. */
	if (yieldget(a, buf, VM_PAGE_SIZE, 21, 21) != VM_OK)
		fail("directed: yield + get of the same id");
	access_mem(a, buf, &b, 1, false);
	if (b != 5 || cache_stats.blocks != 1)
		fail("directed: yield + get of one id: read %u, %u blocks cached (expected 5, 1)",
		     b, cache_stats.blocks);
	if (yieldget(a, buf, 2 * VM_PAGE_SIZE, VM_BLOCKID_NONE, 20) != VM_OK)
		fail("directed: get of the 2-page block");
	access_mem(a, buf, &b, 1, false);
	if (b != 4)
		fail("directed: block 20 read %u, expected 4", b);

	/* exec drops the blocks. */
	if (yieldget(a, buf, 2 * VM_PAGE_SIZE, 42, VM_BLOCKID_NONE) != VM_OK)
		fail("directed: yield before exec");
	struct {
		Elf32_Ehdr eh;
		Elf32_Phdr ph;
	} img;
	memset(&img, 0, sizeof(img));
	memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
	img.eh.e_ident[EI_CLASS] = ELFCLASS32;
	img.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img.eh.e_ident[EI_VERSION] = EV_CURRENT;
	img.eh.e_type = ET_EXEC;
	img.eh.e_machine = EM_386;
	img.eh.e_version = EV_CURRENT;
	img.eh.e_entry = 0x08048000;
	img.eh.e_phoff = sizeof(img.eh);
	img.eh.e_ehsize = sizeof(img.eh);
	img.eh.e_phentsize = sizeof(img.ph);
	img.eh.e_phnum = 1;
	img.ph.p_type = PT_LOAD;
	img.ph.p_vaddr = img.ph.p_paddr = 0x08048000;
	img.ph.p_filesz = sizeof(img);
	img.ph.p_memsz = VM_PAGE_SIZE;
	img.ph.p_flags = PF_R | PF_X;
	img.ph.p_align = VM_PAGE_SIZE;
	bool killed;
	int r = hosted_exec(a, &img, sizeof(img), &killed);
	if (r != 0)
		fail("directed: exec of the made-up image: %d", r);
	else if (cache_stats.blocks != 0 || cache_stats.pages != 0)
		fail("directed: %u blocks still cached after exec", cache_stats.blocks);
	buf = map_anon(a, 2 * VM_PAGE_SIZE);
	if (yieldget(a, buf, 2 * VM_PAGE_SIZE, VM_BLOCKID_NONE, 42) != ESRCH)
		fail("directed: a block came back after exec");
	hosted_exit(a);
	check_clean("directed");
	printf("%-22s 64-bit ids, replacing yields, combined-call halves, exec: done\n",
	       "directed");
}

/*
 * The file server starved of memory: another process takes every free
 * page (the cache gives its pages up to it), so the server's buffers
 * cannot be faulted in. Reads and writes must still be right, served from
 * the disk, with the failures counted; once the memory is back the server
 * caches again.
 */
static void fs_starved(void)
{
	static uint8_t data[4 * VM_PAGE_SIZE], expect[4 * VM_PAGE_SIZE];
	const uint32_t nblocks = 64, bytes = sizeof(data);
	struct fileserver *fs, *bad;
	endpoint_t hog;
	message m;
	int r;

	if ((r = fs_start(nblocks, bytes, 4, &fs)) != 0) {
		fprintf(stderr, "testcache: fs_start failed: %d\n", r);
		exit(2);
	}
	if (fs_start(1, 6000, 1, &bad) != EINVAL ||
	    fs_start(1, (VM_CACHE_MAXPAGES + 1) * VM_PAGE_SIZE, 1, &bad) != EINVAL ||
	    fs_start(0, bytes, 1, &bad) != EINVAL || fs_start(1, bytes, 0, &bad) != EINVAL)
		fail("fs: a bad geometry was not EINVAL");
	if (fs_read(fs, nblocks, data) != EINVAL || fs_write(fs, nblocks, data) != EINVAL)
		fail("fs: a block past the disk was not EINVAL");
	model_new(nblocks);
	for (uint32_t b = 0; b < nblocks; b++)
		writeblock_fs(fs, b, newseed());

	/* Take every page: big preallocated pieces, then single pages. */
	if (hosted_spawn("hog", false, &hog) != 0)
		exit(2);
	for (uint32_t len = 1u << 30; len >= VM_PAGE_SIZE;) {
		memset(&m, 0, sizeof(m));
		m.m_type = VM_MMAP;
		m.m_mmap.len = len;
		m.m_mmap.prot = VM_PROT_READ | VM_PROT_WRITE;
		m.m_mmap.flags = VM_MAP_PREALLOC;
		if (call(hog, &m) != VM_OK)
			len /= 2;
	}
	if (cache_stats.pages != 0)
		fail("fs: the cache kept %u pages from a process that needed them",
		     cache_stats.pages);
	/* The machine is starved: whether a yield or get then fails depends on
	 * room left in VM's slab pages; what must hold is that every read
	 * stays right, and that caching works again once memory is back. */
	if (phys_free_pages() != 0)
		fail("fs: the hog left %u pages free", phys_free_pages());
	uint64_t errors0 = fs_stats(fs).cache_errors;
	for (uint32_t i = 0; i < 4 * nblocks; i++) {
		uint32_t b = rnd(nblocks);
		if (rnd(2))
			writeblock_fs(fs, b, newseed());
		fs_read(fs, b, data);
		genblock(seed_now[b], b, expect, bytes);
		if (memcmp(data, expect, bytes))
			fail("fs: starved of memory, block %u read wrong", b);
	}
	uint64_t starved = fs_stats(fs).cache_errors - errors0;
	if (sanity_check() != 0)
		fail("fs: consistency findings while starved");

	/* Memory back: caching works again. */
	hosted_exit(hog);
	errors0 = fs_stats(fs).cache_errors;
	for (uint32_t b = 0; b < nblocks; b++) {
		fs_read(fs, b, data);
		genblock(seed_now[b], b, expect, bytes);
		if (memcmp(data, expect, bytes))
			fail("fs: after starving, block %u read wrong", b);
	}
	if (fs_stats(fs).cache_errors != errors0)
		fail("fs: caching failures with memory to spare");
	struct fs_stats st = fs_stats(fs);
	fs_stop(fs);
	check_clean("fs starved");
	printf("%-22s %" PRIu64 " caching failures while starved, 0 wrong; %" PRIu64
	       " VM hits after\n",
	       "fs starved", starved, st.vm_hits);
}

static void usage(void)
{
	fprintf(stderr, "usage: testcache [-s SEED] [-m MB] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = 20240611;
	uint32_t mb = 16;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-m") && i + 1 < argc)
			mb = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-v"))
			verbose = true;
		else
			usage();
	}
	rng_state = seed;
	if (hosted_boot(mb << 20) != 0) {
		fprintf(stderr, "testcache: cannot boot a %u MB machine\n", mb);
		return 2;
	}
	boot_free = phys_free_pages();
	/* The middle working set must fit with room to spare (nothing may be
	 * evicted); the big one is 1.5 times the pool. */
	uint32_t total = total_pages(), big = total + total / 2;
	uint32_t mid = total / 4 < 1000 ? total / 4 : 1000;
	printf("testcache: seed %" PRIu64 ", %u MB machine, %u pages in the pool, "
	       "working sets up to %u pages\n",
	       seed, mb, total, big);

	static const uint32_t one[] = { 1, 1, 1 }, mixed[] = { 1, 3, 8 }, fsmix[] = { 2, 3 };
	directed();
	fs_starved();
	round_vmcache(10, 1, one, 3, false);
	round_vmcache(mid, 2, one, 3, false);
	round_vmcache(big, 3, one, 3, true);
	round_vmcache(big, 3, mixed, 3, true);
	round_fs(mid, 1, one, 16, 3, false);
	round_fs(big, 1, one, 32, 3, true);
	round_fs(big, 2, fsmix, 8, 3, true);

	printf("testcache: %u consistency checks, %u findings; %" PRIu64 " failures\n", sanity_runs,
	       sanity_findings, failures);
	hosted_halt();
	free(seed_now);
	free(seed_prev);
	return failures || sanity_findings ? 1 : 0;
}
