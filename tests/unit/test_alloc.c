/*
 * Unit tests for vm/alloc.c, the physical page allocator, on a booted hosted machine.
 *
 * Every test boots a fresh machine (the real VM takes over its memory in vm_init), drives
 * alloc_mem/free_mem directly and compares the allocator against a reference model: a byte
 * per frame saying whether the frame is free, built from the machine's physical layout (not
 * from the allocator), from which free counts, the largest run and the exact list of maximal
 * free runs are computed. Run one test by name with `test_alloc NAME` (wildcards allowed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vmscope/errno.h>

#include "../../kernel-stubs/hosted/machine.h"
#include "alloc.h"
#include "death.h"
#include "glo.h"
#include "proto.h"
#include "rng.h"

#define MB (1u << 20)
#define PAGE VM_PAGE_SIZE
#define FRAME(a) ((uint32_t)(a) >> VM_PAGE_SHIFT)
#define ADDR(f) ((phys_bytes)(f) << VM_PAGE_SHIFT)
#define LOW16_FRAMES FRAME(16u * MB)
#define GARBAGE 0xDB /* what the hosted machine fills memory with at boot */

/* ---- The reference model ---- */

/*
 * The hosted machine's reserved ranges, restated here rather than read from VM so that a
 * wrong kinfo or a phys_init that ignores one shows up as a mismatch.
 */
static const struct {
	phys_bytes base, end;
} reserved_ranges[] = {
	{ 0, PAGE },            /* frame 0 */
	{ 0xA0000, 0x100000 },  /* device hole */
	{ 0x100000, 0x200000 }, /* kernel image */
};

static bool frame_reserved(uint32_t f)
{
	for (size_t i = 0; i < sizeof(reserved_ranges) / sizeof(reserved_ranges[0]); i++)
		if (ADDR(f) >= reserved_ranges[i].base && ADDR(f) < reserved_ranges[i].end)
			return true;
	return false;
}

static struct {
	uint32_t nframes;
	uint8_t *pool; /* 1: the frame is in the allocator's pool */
	uint8_t *free; /* 1: free, as far as the model knows */
	uint32_t nfree;
	phys_bytes self_base;
	uint32_t self_pages;
} M;

static uint32_t boot_free, boot_largest, boot_total;

static bool frame_self(uint32_t f)
{
	return f >= FRAME(M.self_base) && f < FRAME(M.self_base) + M.self_pages;
}

static void model_init(void)
{
	M.nframes = hm.mem_bytes / PAGE;
	M.pool = calloc(M.nframes, 1);
	M.free = calloc(M.nframes, 1);
	assert_non_null(M.pool);
	assert_non_null(M.free);
	phys_self_range(&M.self_base, &M.self_pages);
	M.nfree = 0;
	for (uint32_t f = 0; f < M.nframes; f++) {
		M.pool[f] = !frame_reserved(f) && !frame_self(f);
		M.free[f] = M.pool[f];
		M.nfree += M.free[f];
	}
}

static void model_fini(void)
{
	free(M.pool);
	free(M.free);
	memset(&M, 0, sizeof(M));
}

static uint32_t model_largest(void)
{
	uint32_t best = 0, run = 0;

	for (uint32_t f = 0; f < M.nframes; f++) {
		run = M.free[f] ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

/* Length of the maximal free run starting at f (0 if f does not start one). */
static uint32_t model_run_at(uint32_t f)
{
	uint32_t n = 0;

	if (f >= M.nframes || !M.free[f] || (f > 0 && M.free[f - 1]))
		return 0;
	while (f + n < M.nframes && M.free[f + n])
		n++;
	return n;
}

/* The size class of a run of len frames: floor(log2(len)), as alloc.c keeps its lists. */
static unsigned size_class(uint32_t len)
{
	return 31u - (unsigned)__builtin_clz(len);
}

/* The model takes [f, f + n): every frame must be a pool frame the model has free. */
static void model_take(phys_bytes base, uint32_t n)
{
	assert_int_not_equal(base, NO_MEM);
	assert_int_equal(base & VM_PAGE_MASK, 0);
	assert_true(FRAME(base) < M.nframes && n <= M.nframes - FRAME(base));
	for (uint32_t f = FRAME(base); f < FRAME(base) + n; f++) {
		if (!M.pool[f])
			fail_msg("frame 0x%x handed out but not in the pool (%s)", f,
				 frame_reserved(f) ? "reserved" : "VM's own metadata");
		if (!M.free[f])
			fail_msg("frame 0x%x handed out twice", f);
		M.free[f] = 0;
	}
	M.nfree -= n;
}

static void model_give(phys_bytes base, uint32_t n)
{
	for (uint32_t f = FRAME(base); f < FRAME(base) + n; f++) {
		assert_true(M.pool[f] && !M.free[f]);
		M.free[f] = 1;
	}
	M.nfree += n;
}

/* Runs phys_sanitycheck reports, collected through its callback. */
struct runs_seen {
	uint8_t *starts; /* run length at its first frame (capped), 0 elsewhere */
	uint32_t *len;
	uint32_t count, frames;
	bool bad;
};

static void collect_run(uint32_t first, uint32_t count, void *arg)
{
	struct runs_seen *rs = arg;

	if (first >= M.nframes || count > M.nframes - first || rs->len[first] != 0) {
		rs->bad = true;
		return;
	}
	rs->len[first] = count;
	rs->count++;
	rs->frames += count;
}

/*
 * The allocator agrees with the model exactly: free count, largest run, every frame's
 * state, phys_sanitycheck clean, and the free runs it keeps are exactly the model's maximal
 * runs (which is what coalescing must produce).
 */
static void model_check(void)
{
	struct runs_seen rs = { 0 };

	assert_int_equal(phys_free_pages(), M.nfree);
	assert_int_equal(phys_largest_run(), model_largest());
	for (uint32_t f = 0; f < M.nframes; f++)
		if (phys_frame_free(f) != (M.free[f] != 0))
			fail_msg("frame 0x%x: allocator says %s, model says %s", f,
				 phys_frame_free(f) ? "free" : "used", M.free[f] ? "free" : "used");
	rs.len = calloc(M.nframes, sizeof(*rs.len));
	assert_non_null(rs.len);
	assert_int_equal(phys_sanitycheck(collect_run, &rs), 0);
	assert_false(rs.bad);
	assert_int_equal(rs.frames, M.nfree);
	uint32_t nruns = 0;
	for (uint32_t f = 0; f < M.nframes; f++) {
		uint32_t want = model_run_at(f);
		if (want != rs.len[f])
			fail_msg("free run at frame 0x%x: allocator has %u frames, model %u", f,
				 rs.len[f], want);
		nruns += want != 0;
	}
	assert_int_equal(rs.count, nruns);
	free(rs.len);
}

/* Whether the model has n contiguous free frames ending at or below frame `limit`. */
static bool model_fits(uint32_t n, uint32_t limit)
{
	uint32_t run = 0;

	for (uint32_t f = 0; f < M.nframes && f < limit; f++) {
		run = M.free[f] ? run + 1 : 0;
		if (run >= n)
			return true;
	}
	return false;
}

/*
 * Allocate through the model: the allocator must succeed exactly when the model has room.
 * Returns the base or NO_MEM. Room is judged after the call, since a shrinker may free
 * frames (through model_free) while alloc_mem runs.
 */
static phys_bytes model_alloc(uint32_t n, uint32_t flags)
{
	uint32_t limit = (flags & PAF_LOWER16MB) ? LOW16_FRAMES : M.nframes;
	phys_bytes b = alloc_mem(n, flags);
	bool fits = n > 0 && model_fits(n, limit);

	if (b == NO_MEM) {
		if (fits)
			fail_msg("alloc_mem(%u, 0x%x) failed, but %u free frames in a row exist%s",
				 n, flags, n, (flags & PAF_LOWER16MB) ? " below 16 MB" : "");
		return NO_MEM;
	}
	if (!fits)
		fail_msg("alloc_mem(%u, 0x%x) returned 0x%x, but the model has no room", n, flags,
			 b);
	model_take(b, n);
	if (FRAME(b) + n > limit)
		fail_msg("alloc_mem(%u, PAF_LOWER16MB) returned 0x%x, ending above 16 MB", n, b);
	return b;
}

static void model_free(phys_bytes b, uint32_t n)
{
	free_mem(b, n);
	model_give(b, n);
}

/* ---- Fixtures ---- */

static int boot(uint32_t mem)
{
	if (hosted_boot(mem) != 0)
		return -1;
	model_init();
	boot_free = phys_free_pages();
	boot_largest = phys_largest_run();
	boot_total = phys_total_pages();
	return 0;
}

static int setup16(void **state)
{
	(void)state;
	return boot(16 * MB);
}

static int setup32(void **state)
{
	(void)state;
	return boot(32 * MB);
}

static int teardown(void **state)
{
	(void)state;
	phys_set_shrinker(NULL);
	model_fini();
	hosted_halt();
	return 0;
}

/* Everything given back: the counters are at their boot values and VM's own whole-machine
 * check (which accounts for every frame) is clean. */
static void assert_back_to_boot(void)
{
	assert_int_equal(phys_free_pages(), boot_free);
	assert_int_equal(phys_largest_run(), boot_largest);
	assert_int_equal(phys_total_pages(), boot_total);
	assert_int_equal(sanity_check(), 0);
}

/* Death tests: death.h. */

/* ---- Tests ---- */

/* phys_init took over exactly the pool: reserved ranges and VM's metadata are not free,
 * everything else is, in maximal runs. */
static void test_boot_state(void **state)
{
	(void)state;
	assert_int_equal(phys_nframes(), M.nframes);
	assert_int_equal(boot_total, boot_free);
	assert_int_equal(boot_free, M.nfree);
	assert_true(M.self_pages > 0);
	assert_int_equal(M.self_base & VM_PAGE_MASK, 0);
	for (uint32_t f = FRAME(M.self_base); f < FRAME(M.self_base) + M.self_pages; f++)
		assert_false(frame_reserved(f));
	/* VM's copy of the layout says the same as ours. */
	assert_int_equal(vm_kinfo.mem_bytes, hm.mem_bytes);
	for (uint32_t i = 0; i < vm_kinfo.nr_reserved; i++)
		for (phys_bytes a = vm_kinfo.reserved[i].base;
		     a < vm_kinfo.reserved[i].base + vm_kinfo.reserved[i].len; a += PAGE)
			assert_true(frame_reserved(FRAME(a)));
	assert_false(phys_frame_free(0));
	assert_false(phys_frame_free(FRAME(0xA0000)));
	assert_false(phys_frame_free(FRAME(0xFF000)));
	assert_false(phys_frame_free(FRAME(0x100000)));
	assert_false(phys_frame_free(FRAME(0x1FF000)));
	assert_true(phys_frame_free(FRAME(0x200000)));
	assert_false(phys_frame_free(M.nframes)); /* past the end */
	model_check();
	assert_back_to_boot();
}

/*
 * Single pages until memory runs out: each one a page-aligned pool frame taken from the low
 * end of a run of the smallest size class there is (what makes a single page O(1) and
 * keeps long runs for contiguous requests); then NO_MEM, not a crash; then everything back.
 */
static void test_single_pages_exhaust(void **state)
{
	phys_bytes *got = malloc(M.nframes * sizeof(*got));
	uint32_t n = 0;

	(void)state;
	assert_non_null(got);
	for (;;) {
		/* The smallest class (floor(log2(length))) of any free run, from the model. */
		unsigned minclass = 99;
		for (uint32_t f = 0; f < M.nframes; f++) {
			uint32_t len = model_run_at(f);
			if (len && size_class(len) < minclass)
				minclass = size_class(len);
		}
		phys_bytes b = model_alloc(1, 0);
		if (b == NO_MEM)
			break;
		/* It was the first frame of a free run of that class (the model has already
		 * taken it, so look at the run as it was). */
		M.free[FRAME(b)] = 1;
		uint32_t len = model_run_at(FRAME(b));
		M.free[FRAME(b)] = 0;
		if (len == 0 || size_class(len) != minclass)
			fail_msg("page 0x%x: not the low end of a run of class %u (run of %u)", b,
				 minclass, len);
		got[n++] = b;
		if (n % 512 == 0)
			model_check();
	}
	assert_int_equal(n, boot_free);
	assert_int_equal(phys_free_pages(), 0);
	assert_int_equal(phys_largest_run(), 0);
	assert_int_equal(alloc_mem(1, 0), NO_MEM);
	assert_int_equal(alloc_mem(1, PAF_CLEAR | PAF_LOWER16MB), NO_MEM);
	model_check();
	/* Back in a scrambled order, so that runs merge from every side. */
	rng_seed(0xA110C);
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = rng_below(i);
		phys_bytes t = got[i - 1];
		got[i - 1] = got[j];
		got[j] = t;
	}
	for (uint32_t i = 0; i < n; i++) {
		model_free(got[i], 1);
		if (i % 512 == 0)
			model_check();
	}
	model_check();
	assert_back_to_boot();
	free(got);
}

/* Contiguous requests, one test each. */
struct contig_case {
	const char *name;
	uint32_t pages;
	uint32_t flags;
};

static const struct contig_case contig_cases[] = {
	{ "contig_1", 1, 0 },
	{ "contig_2", 2, 0 },
	{ "contig_3", 3, 0 },
	{ "contig_7", 7, 0 },
	{ "contig_8", 8, 0 },
	{ "contig_64", 64, 0 },
	{ "contig_137", 137, 0 }, /* about the size of the run below the device hole */
	{ "contig_138", 138, 0 },
	{ "contig_1024", 1024, 0 },
	{ "contig_3000_clear", 3000, PAF_CLEAR },
	{ "contig_largest", 0, 0 }, /* 0: the largest run there is */
	{ "contig_5_lower16mb", 5, PAF_LOWER16MB },
};

/*
 * alloc_mem(n) returns n pool frames that were free, contiguous, taken from the low end of
 * a free run; largest+1 pages fail; and freeing restores the boot state. Twice, with a
 * fragmented pool the second time.
 */
static void test_contig(void **state)
{
	const struct contig_case *c = *state;

	for (int round = 0; round < 2; round++) {
		uint32_t n = c->pages ? c->pages : phys_largest_run();
		uint32_t before = phys_free_pages();
		phys_bytes b = model_alloc(n, c->flags);
		assert_int_not_equal(b, NO_MEM);
		assert_int_equal(phys_free_pages(), before - n);
		/* Low end: the frame before it is not free (or it starts a reserved gap). */
		assert_true(FRAME(b) == 0 || !M.free[FRAME(b) - 1]);
		if (c->flags & PAF_LOWER16MB)
			assert_true(FRAME(b) + n <= LOW16_FRAMES);
		if (c->flags & PAF_CLEAR)
			for (uint32_t i = 0; i < n * PAGE; i++)
				if (hm.phys[b + i] != 0)
					fail_msg("PAF_CLEAR: byte 0x%x is 0x%x", b + i,
						 hm.phys[b + i]);
		model_check();
		assert_int_equal(model_alloc(model_largest() + 1, c->flags), NO_MEM);
		model_free(b, n);
		model_check();
		if (round == 0) {
			/* Fragment: every fourth page of a stretch taken. */
			phys_bytes s = model_alloc(400, 0);
			for (uint32_t i = 0; i < 400; i++)
				if (i % 4 != 0)
					model_free(s + i * PAGE, 1);
			model_check();
		}
	}
	/* Undo the fragmentation. */
	for (uint32_t f = 0; f < M.nframes; f++)
		if (M.pool[f] && !M.free[f])
			model_free(ADDR(f), 1);
	model_check();
	assert_back_to_boot();
}

/* Requests that cannot be met fail cleanly and change nothing. */
static void test_impossible_requests(void **state)
{
	(void)state;
	assert_int_equal(alloc_mem(0, 0), NO_MEM);
	assert_int_equal(alloc_mem(boot_largest + 1, 0), NO_MEM);
	assert_int_equal(alloc_mem(M.nframes, 0), NO_MEM);
	assert_int_equal(alloc_mem(M.nframes + 1, 0), NO_MEM);
	assert_int_equal(alloc_mem(0xFFFFFFFFu, PAF_CLEAR), NO_MEM);
	model_check();
	assert_back_to_boot();
}

/*
 * PAF_LOWER16MB on a 32 MB machine: every frame below 16 MB can be had, none above; then the
 * request fails although half of memory is free, and a plain request still succeeds. A run
 * that straddles 16 MB serves a low request from its part below 16 MB, and no more.
 */
static void test_lower16mb(void **state)
{
	static const uint32_t sizes[] = { 16, 3, 1 };
	phys_bytes *got = malloc(M.nframes * sizeof(*got));
	uint32_t *len = malloc(M.nframes * sizeof(*len));
	uint32_t n = 0, low_free = 0, straddle = UINT32_MAX;

	(void)state;
	assert_non_null(got);
	assert_non_null(len);
	assert_true(M.nframes > LOW16_FRAMES);
	for (uint32_t f = 0; f < LOW16_FRAMES; f++)
		low_free += M.free[f];
	/* Larger requests first, then smaller ones to mop up what is left below 16 MB. */
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		phys_bytes b;
		while ((b = model_alloc(sizes[s], PAF_LOWER16MB)) != NO_MEM) {
			if (FRAME(b) + sizes[s] == LOW16_FRAMES)
				straddle = n;
			got[n] = b;
			len[n++] = sizes[s];
		}
	}
	uint32_t taken = 0;
	for (uint32_t i = 0; i < n; i++)
		taken += len[i];
	assert_int_equal(taken, low_free);
	for (uint32_t f = 0; f < LOW16_FRAMES; f++)
		assert_false(M.free[f]);
	assert_true(phys_free_pages() > 0);
	assert_int_equal(alloc_mem(1, PAF_LOWER16MB | PAF_CLEAR), NO_MEM);
	phys_bytes hi = model_alloc(1, 0);
	assert_true(FRAME(hi) >= LOW16_FRAMES);
	model_free(hi, 1);
	model_check();

	/* Give back the block that ends at 16 MB: it joins the run above. */
	assert_int_not_equal(straddle, UINT32_MAX);
	uint32_t k = len[straddle];
	model_free(got[straddle], k);
	assert_int_equal(model_run_at(FRAME(got[straddle])), M.nfree);
	assert_int_equal(model_alloc(k + 1, PAF_LOWER16MB), NO_MEM);
	assert_int_equal(model_alloc(k, PAF_LOWER16MB), got[straddle]);
	model_check();

	while (n > 0) {
		n--;
		model_free(got[n], len[n]);
	}
	model_check();
	assert_back_to_boot();
	free(got);
	free(len);
}

/*
 * PAF_CLEAR zeroes exactly the frames handed out. Without it the boot pattern (or what was
 * written before the free) is still there, which proves the check can see garbage. Earlier
 * rounds stay allocated so that every round starts on frames nobody touched.
 */
static void test_clear(void **state)
{
	static const uint32_t sizes[] = { 1, 2, 5, 33 };
	phys_bytes kept[4];

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t n = sizes[s];
		phys_bytes b = model_alloc(n, 0);
		for (uint32_t i = 0; i < n * PAGE; i++)
			if (hm.phys[b + i] != GARBAGE)
				fail_msg("fresh frame byte 0x%x is 0x%x, not the boot pattern",
					 b + i, hm.phys[b + i]);
		memset(hm.phys + b, 0x5A, n * PAGE);
		model_free(b, n);
		/* The same frames come back (low end of the same run), now cleared. */
		phys_bytes c = model_alloc(n, PAF_CLEAR);
		assert_int_equal(c, b);
		for (uint32_t i = 0; i < n * PAGE; i++)
			if (hm.phys[c + i] != 0)
				fail_msg("PAF_CLEAR left byte 0x%x = 0x%x", c + i, hm.phys[c + i]);
		/* ... and nothing beyond them. */
		assert_true(M.free[FRAME(c) + n]);
		assert_int_equal(hm.phys[c + n * PAGE], GARBAGE);
		kept[s] = c;
	}
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		model_free(kept[s], sizes[s]);
	model_check();
	assert_back_to_boot();
}

/* Take everything in the largest pieces there are, fail, give it all back. */
static void test_exhaust_and_restore(void **state)
{
	phys_bytes base[64];
	uint32_t len[64], n = 0;

	(void)state;
	while (phys_free_pages() > 0) {
		assert_true(n < 64);
		len[n] = phys_largest_run();
		base[n] = model_alloc(len[n], n % 2 ? PAF_CLEAR : 0);
		assert_int_not_equal(base[n], NO_MEM);
		n++;
	}
	assert_int_equal(phys_largest_run(), 0);
	assert_int_equal(alloc_mem(1, 0), NO_MEM);
	assert_int_equal(alloc_mem(2, PAF_CLEAR), NO_MEM);
	assert_int_equal(alloc_mem(1, PAF_LOWER16MB), NO_MEM);
	model_check();
	while (n > 0) {
		n--;
		model_free(base[n], len[n]);
	}
	model_check();
	assert_back_to_boot();
}

/*
 * Coalescing: four neighbouring blocks (1, 2, 3 and 4 pages) between two pinned pages are
 * freed in each of the 24 orders; after every free the runs are exactly the model's maximal
 * runs, and at the end the four make one run of 10. Then the pins go and everything merges
 * back into the boot runs.
 */
static void test_coalesce_all_orders(void **state)
{
	static const uint32_t sz[4] = { 1, 2, 3, 4 };
	int perm[4] = { 0, 1, 2, 3 };

	(void)state;
	for (int k = 0; k < 24; k++) {
		/* k-th permutation (factorial number system). */
		int avail[4] = { 0, 1, 2, 3 }, m = 4, code = k;
		for (int i = 0; i < 4; i++) {
			int j = code % m;
			code /= m;
			perm[i] = avail[j];
			avail[j] = avail[--m];
		}
		phys_bytes all = model_alloc(12, 0);
		phys_bytes blk[4];
		phys_bytes p = all + PAGE; /* all[0] and all[11] stay as pins */
		for (int i = 0; i < 4; i++) {
			blk[i] = p;
			p += sz[i] * PAGE;
		}
		for (int i = 0; i < 4; i++) {
			model_free(blk[perm[i]], sz[perm[i]]);
			model_check();
		}
		assert_int_equal(model_run_at(FRAME(all) + 1), 10);
		model_free(all, 1);
		model_free(all + 11 * PAGE, 1);
		model_check();
		assert_int_equal(phys_largest_run(), boot_largest);
		assert_int_equal(phys_free_pages(), boot_free);
	}
	/* Freeing a block whose both neighbours are free runs merges all three. */
	phys_bytes a = model_alloc(30, 0);
	model_free(a, 10);
	model_free(a + 20 * PAGE, 10);
	model_check();
	model_free(a + 10 * PAGE, 10);
	model_check();
	assert_back_to_boot();
}

/*
 * A few thousand random allocations and frees of mixed sizes against the model, checking
 * the whole allocator after every step: phys_sanitycheck, counts, largest run, the runs.
 */
static void test_random_model(void **state)
{
	enum { MAXLIVE = 2048, STEPS = 3000 };
	static phys_bytes base[MAXLIVE];
	static uint32_t len[MAXLIVE];
	uint32_t live = 0, fails = 0;

	(void)state;
	rng_seed(0x5eed0001);
	for (int step = 0; step < STEPS; step++) {
		bool do_alloc = live == 0 || (live < MAXLIVE && rng_below(100) < 55);
		if (do_alloc) {
			uint32_t r = rng_below(100), n;
			if (r < 60)
				n = 1;
			else if (r < 90)
				n = 2 + rng_below(15);
			else
				n = 17 + rng_below(300);
			uint32_t flags = rng_below(8) == 0 ? PAF_CLEAR : 0;
			phys_bytes b = model_alloc(n, flags);
			if (b == NO_MEM) {
				fails++;
			} else {
				base[live] = b;
				len[live++] = n;
			}
		} else {
			uint32_t i = rng_below(live);
			model_free(base[i], len[i]);
			base[i] = base[--live];
			len[i] = len[live];
		}
		model_check();
	}
	print_message("random: %u live at the end, %u requests refused\n", live, fails);
	while (live > 0) {
		live--;
		model_free(base[live], len[live]);
	}
	model_check();
	assert_back_to_boot();
}

/* ---- The shrinker ---- */

static struct {
	phys_bytes pages[64]; /* single pages the "cache" holds */
	uint32_t held;
	uint32_t calls;
	uint32_t last_request;
	uint32_t per_call; /* pages it gives back per call */
} cache;

static uint32_t shrink(uint32_t pages)
{
	uint32_t freed = 0;

	cache.calls++;
	cache.last_request = pages;
	while (freed < cache.per_call && cache.held > 0) {
		phys_bytes b = cache.pages[--cache.held];
		model_free(b, 1);
		freed++;
	}
	return freed;
}

/* Fill memory: the cache holds `keep` single pages (taken last, so the contiguous ones at the
 * end of the last run), everything else is in one list the caller frees. */
static uint32_t fill_memory(phys_bytes *base, uint32_t *len, uint32_t max, uint32_t keep)
{
	uint32_t n = 0;

	while (phys_free_pages() > keep) {
		assert_true(n < max);
		uint32_t want = phys_free_pages() - keep;
		len[n] = want < phys_largest_run() ? want : phys_largest_run();
		base[n] = model_alloc(len[n], 0);
		n++;
	}
	cache.held = 0;
	while (phys_free_pages() > 0)
		cache.pages[cache.held++] = model_alloc(1, 0);
	/* Held in reverse, so the shrinker gives back the lowest first. */
	for (uint32_t i = 0; i < cache.held / 2; i++) {
		phys_bytes t = cache.pages[i];
		cache.pages[i] = cache.pages[cache.held - 1 - i];
		cache.pages[cache.held - 1 - i] = t;
	}
	return n;
}

static void test_shrinker(void **state)
{
	phys_bytes base[64], got[8];
	uint32_t len[64];

	(void)state;
	memset(&cache, 0, sizeof(cache));
	cache.per_call = 1;
	phys_set_shrinker(shrink);

	/* Not asked while memory is free. */
	model_free(model_alloc(1, 0), 1);
	assert_int_equal(cache.calls, 0);

	uint32_t n = fill_memory(base, len, 64, 8);
	assert_int_equal(cache.held, 8);
	assert_int_equal(phys_free_pages(), 0);

	/* Asked for one page; the page it freed is the one handed out. */
	phys_bytes expect = cache.pages[cache.held - 1];
	cache.calls = 0;
	got[0] = model_alloc(1, 0);
	assert_int_equal(got[0], expect);
	assert_int_equal(cache.calls, 1);
	assert_int_equal(cache.last_request, 1);

	/* Three contiguous pages: asked (for 3) until a run of 3 is free, one page a time. */
	cache.calls = 0;
	got[1] = model_alloc(3, 0);
	assert_int_not_equal(got[1], NO_MEM);
	assert_int_equal(cache.last_request, 3);
	assert_true(cache.calls >= 3 && cache.calls <= 7);

	/* An empty cache: asked once more, then NO_MEM. */
	model_free(got[0], 1);
	model_free(got[1], 3);
	while (phys_free_pages() > 0)
		cache.pages[cache.held++] = model_alloc(1, 0);
	cache.per_call = 0;
	cache.calls = 0;
	assert_int_equal(alloc_mem(1, 0), NO_MEM);
	assert_int_equal(cache.calls, 1);

	/* Freeing more than asked: the rest stays free. */
	cache.per_call = 64;
	cache.calls = 0;
	uint32_t held = cache.held;
	got[2] = model_alloc(1, 0);
	assert_int_equal(cache.calls, 1);
	assert_int_equal(phys_free_pages(), held - 1);
	model_check();

	phys_set_shrinker(NULL);
	model_free(got[2], 1);
	while (n > 0) {
		n--;
		model_free(base[n], len[n]);
	}
	model_check();
	assert_back_to_boot();
}

/* ---- Panics ---- */

struct bad_free {
	const char *name;
	uint32_t alloc;              /* the child allocates this many pages at b */
	uint32_t pre_off, pre_pages; /* then frees these (pages from b; 0: nothing) */
	uint32_t bad_off, bad_pages; /* then makes this bad free (bytes from b) */
	const char *message;         /* what the panic must say */
};

static const struct bad_free bad_frees[] = {
	{ "panic_double_free_page", 1, 0, 1, 0, 1, "freed twice" },
	{ "panic_double_free_run", 8, 0, 8, 0, 8, "freed twice" },
	/* Only the tail of the range is free: the whole range must still be refused. */
	{ "panic_double_free_overlap", 4, 2, 2, 0, 4, "freed twice" },
	{ "panic_free_unaligned", 1, 0, 0, 12, 1, "bad range" },
	{ "panic_free_zero_pages", 1, 0, 0, 0, 0, "bad range" },
	{ "panic_free_past_memory", 1, 0, 0, 0, 0x100000, "bad range" },
};

static void do_bad_free(void *arg)
{
	const struct bad_free *c = arg;
	phys_bytes b = alloc_mem(c->alloc, 0);

	if (b == NO_MEM)
		_exit(3);
	if (c->pre_pages)
		free_mem(b + c->pre_off * PAGE, c->pre_pages);
	free_mem(b + c->bad_off, c->bad_pages);
}

/* free_mem of a frame that is free (or of a range that is not one) must panic: VM stops
 * rather than hand the frame out twice. Run in a child, which must die of SIGABRT. */
static void test_bad_free_panics(void **state)
{
	const struct bad_free *c = *state;
	struct death d;

	run_in_child(do_bad_free, (void *)c, &d);
	assert_panicked(&d, c->message);
	/* The parent's allocator is untouched. */
	model_check();
	assert_back_to_boot();
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		CMUnitTestFunction fn;
		CMFixtureFunction setup;
	} plain[] = {
		{ "boot_state", test_boot_state, setup16 },
		{ "single_pages_exhaust", test_single_pages_exhaust, setup16 },
		{ "impossible_requests", test_impossible_requests, setup16 },
		{ "lower16mb", test_lower16mb, setup32 },
		{ "clear", test_clear, setup16 },
		{ "exhaust_and_restore", test_exhaust_and_restore, setup16 },
		{ "coalesce_all_orders", test_coalesce_all_orders, setup16 },
		{ "random_model", test_random_model, setup16 },
		{ "shrinker", test_shrinker, setup16 },
	};
	enum {
		NPLAIN = sizeof(plain) / sizeof(plain[0]),
		NCONTIG = sizeof(contig_cases) / sizeof(contig_cases[0]),
		NBAD = sizeof(bad_frees) / sizeof(bad_frees[0]),
	};
	struct CMUnitTest tests[NPLAIN + NCONTIG + NBAD];
	size_t n = 0;

	for (size_t i = 0; i < NPLAIN; i++)
		tests[n++] = (struct CMUnitTest){ plain[i].name, plain[i].fn, plain[i].setup,
						  teardown, NULL };
	for (size_t i = 0; i < NCONTIG; i++)
		tests[n++] = (struct CMUnitTest){ contig_cases[i].name, test_contig, setup16,
						  teardown, (void *)&contig_cases[i] };
	for (size_t i = 0; i < NBAD; i++)
		tests[n++] = (struct CMUnitTest){ bad_frees[i].name, test_bad_free_panics, setup16,
						  teardown, (void *)&bad_frees[i] };
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return _cmocka_run_group_tests("alloc", tests, n, NULL, NULL);
}
