/*
 * Unit tests for vm/slab.c, VM's allocator for its own objects, on a booted hosted machine.
 *
 * Slab pages come from the real physical allocator and are reached through the machine's
 * direct map (hm.phys), so a slab page's physical address is the object pointer rounded
 * down to 4K minus hm.phys. Objects are stamped with a pattern derived from an id so that
 * two objects sharing bytes, or an object changing under its owner, is seen. Run one test
 * by name with `test_slab NAME` (wildcards allowed).
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
#include <unistd.h>

#include <vmscope/errno.h>

#include "../../kernel-stubs/hosted/machine.h"
#include "../../sanity/report.h"
#include "alloc.h"
#include "death.h"
#include "glo.h"
#include "proto.h"
#include "rng.h"
#include "slab.h"

#define MB (1u << 20)
#define PAGE VM_PAGE_SIZE
#define SLAB_MAGIC 0x51ab51abu /* a slab page's first word (vm/slab.c) */

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static uintptr_t page_of(const void *obj)
{
	return (uintptr_t)obj & ~(uintptr_t)VM_PAGE_MASK;
}

/* Physical address of the slab page holding obj. */
static phys_bytes phys_of_page(const void *obj)
{
	return (phys_bytes)(page_of(obj) - (uintptr_t)hm.phys);
}

/* ---- Stamps: each live object is filled with bytes derived from its id ---- */

static uint8_t stamp_byte(uint32_t id, size_t i)
{
	return (uint8_t)((id * 2654435761u + (uint32_t)i * 40503u) >> 13) | 1; /* never 0 */
}

static void stamp(void *obj, size_t bytes, uint32_t id)
{
	/* Slab pages are read-only outside USE in the VM_SANITY build. */
	USE(obj, for (size_t i = 0; i < bytes; i++)((uint8_t *)obj)[i] = stamp_byte(id, i));
}

static void check_stamp(const void *obj, size_t bytes, uint32_t id)
{
	for (size_t i = 0; i < bytes; i++)
		if (((const uint8_t *)obj)[i] != stamp_byte(id, i))
			fail_msg("object %u (%zu bytes at %p) changed at byte %zu", id, bytes, obj,
				 i);
}

/*
 * What every new object must be: non-NULL, zeroed over its requested size, 8-byte aligned,
 * wholly inside one page that is an allocated frame of the pool (past the slab header,
 * whose first word is the magic).
 */
static void check_new_object(const void *obj, size_t bytes)
{
	assert_non_null(obj);
	assert_int_equal((uintptr_t)obj % 8, 0);
	assert_true((uintptr_t)obj >= (uintptr_t)hm.phys &&
		    (uintptr_t)obj < (uintptr_t)hm.phys + hm.mem_bytes);
	uintptr_t pg = page_of(obj);
	assert_true((uintptr_t)obj - pg >= 16); /* the header is before the first object */
	assert_true((uintptr_t)obj + round8(bytes) <= pg + PAGE);
	assert_int_equal(*(const uint32_t *)pg, SLAB_MAGIC);
	assert_false(phys_frame_free(phys_of_page(obj) >> VM_PAGE_SHIFT));
	for (size_t i = 0; i < bytes; i++)
		if (((const uint8_t *)obj)[i] != 0)
			fail_msg("new %zu-byte object %p: byte %zu is 0x%x, not 0", bytes, obj, i,
				 ((const uint8_t *)obj)[i]);
}

/* The statistics entry for objects of `size` bytes (rounded), or false if none. */
static bool stats_for(size_t size, struct slab_stats *out)
{
	struct slab_stats st = { 0 };

	for (uint32_t i = 0; slab_stats_at(i, &st); i++)
		if (st.size == size) {
			*out = st;
			return true;
		}
	return false;
}

/*
 * slab_stats_at is consistent: sizes ascending and distinct, each with pages, capacity a
 * whole number of objects per page that fits a page, in use within capacity, and the pages
 * add up to slab_pages().
 */
static void check_stats(void)
{
	struct slab_stats st = { 0 };
	uint32_t pages = 0, prev = 0, i;

	for (i = 0; slab_stats_at(i, &st); i++) {
		assert_true(i < SLAB_MAXSIZE / SLAB_GRAIN);
		assert_true(st.size > prev && st.size <= SLAB_MAXSIZE && st.size % SLAB_GRAIN == 0);
		assert_true(st.pages > 0);
		assert_int_equal(st.objects % st.pages, 0);
		uint32_t per = st.objects / st.pages;
		assert_true(per >= 1 && per * slab_stride(st.size) <= PAGE - 16);
		assert_true(st.inuse <= st.objects);
		/* No page is empty (an empty page goes back to the allocator at once), so each
		 * holds at least one object. */
		assert_true(st.inuse >= st.pages);
		prev = st.size;
		pages += st.pages;
	}
	assert_false(slab_stats_at(i, &st));
	assert_false(slab_stats_at(i + 100, &st));
	assert_int_equal(pages, slab_pages());
}

/* ---- Fixtures ---- */

static uint32_t boot_free;

static int setup(void **state)
{
	(void)state;
	if (hosted_boot(16 * MB) != 0)
		return -1;
	boot_free = phys_free_pages();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hosted_halt();
	return 0;
}

/* Every object freed: every slab page is back with the physical allocator. */
static void assert_all_returned(void)
{
	struct slab_stats st = { 0 };

	assert_int_equal(slab_pages(), 0);
	assert_false(slab_stats_at(0, &st));
	assert_int_equal(phys_free_pages(), boot_free);
	assert_int_equal(slab_sanitycheck(NULL, NULL), 0);
	assert_int_equal(sanity_check(), 0);
}

/* Death tests: death.h. */

/* ---- Tests ---- */

/* One test per object size: the cache for that size, filled over several pages. */
struct size_case {
	const char *name;
	size_t bytes;
};

static const struct size_case size_cases[] = {
	{ "size_1", 1 },       { "size_7", 7 },       { "size_8", 8 },       { "size_9", 9 },
	{ "size_16", 16 },     { "size_24", 24 },     { "size_100", 100 },   { "size_511", 511 },
	{ "size_512", 512 },   { "size_1000", 1000 }, { "size_2000", 2000 }, { "size_2047", 2047 },
	{ "size_2048", 2048 },
};

/*
 * Allocate enough objects of one size to fill three pages and start a fourth: each is a
 * zeroed, aligned, distinct object inside a slab page; the statistics and page counts follow
 * exactly; a freed slot is reused zeroed; freeing everything (in a scrambled order) gives
 * every page back.
 */
static void test_size(void **state)
{
	const struct size_case *c = *state;
	size_t size = round8(c->bytes);
	struct slab_stats st = { 0 };
	void *first;

	/* The capacity of a page, from the statistics once the first page exists. */
	first = slaballoc(c->bytes);
	check_new_object(first, c->bytes);
	assert_true(stats_for(size, &st));
	assert_int_equal(st.pages, 1);
	assert_int_equal(st.inuse, 1);
	uint32_t per = st.objects;
	assert_true(per <= 512); /* the header's bitmap */
	/* Room for no more than the page minus a header of at most a few hundred bytes. */
	size_t stride = slab_stride(size); /* with the VM_SANITY build's trailer */
	assert_true(per * stride <= PAGE - 16 && (per + 1) * stride > PAGE - 256);

	uint32_t n = 3 * per + 1;
	void **obj = calloc(n, sizeof(*obj));
	assert_non_null(obj);
	obj[0] = first;
	stamp(obj[0], c->bytes, 0);
	for (uint32_t i = 1; i < n; i++) {
		obj[i] = slaballoc(c->bytes);
		check_new_object(obj[i], c->bytes);
		stamp(obj[i], c->bytes, i);
		uint32_t pages = i / per + 1;
		assert_int_equal(slab_pages(), pages);
		assert_int_equal(phys_free_pages(), boot_free - pages);
		if (i == per - 1 && per > 1) {
			/* The first page is full: a slot freed on it is the only room there is,
			 * so it must be handed out again, and zeroed although it was written. */
			void *victim = obj[per / 2];
			slabfree(victim, c->bytes);
			assert_int_equal(slab_pages(), 1);
			void *again = slaballoc(c->bytes);
			assert_ptr_equal(again, victim);
			check_new_object(again, c->bytes);
			stamp(again, c->bytes, per / 2);
			assert_int_equal(slab_pages(), 1);
		}
	}
	for (uint32_t i = 0; i < n; i++)
		check_stamp(obj[i], c->bytes, i);
	/* Distinct objects, no two closer than the object size. */
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++) {
			uintptr_t a = (uintptr_t)obj[i], b = (uintptr_t)obj[j];
			if ((a < b ? b - a : a - b) < size)
				fail_msg("objects %u and %u overlap: %p, %p", i, j, obj[i], obj[j]);
		}
	assert_true(stats_for(size, &st));
	assert_int_equal(st.pages, 4);
	assert_int_equal(st.inuse, n);
	assert_int_equal(st.objects, 4 * per);
	check_stats();
	assert_int_equal(slab_sanitycheck(NULL, NULL), 0);
	assert_int_equal(sanity_check(), 0); /* slab pages are accounted as VM's */

	/* Whatever object comes after a dirty one was freed, it is zeroed. */
	slabfree(obj[per + 1], c->bytes);
	obj[per + 1] = slaballoc(c->bytes);
	check_new_object(obj[per + 1], c->bytes);
	stamp(obj[per + 1], c->bytes, per + 1);
	assert_int_equal(slab_pages(), 4);

	rng_seed(0x51ab0000u + (uint32_t)c->bytes);
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = rng_below(i);
		void *t = obj[i - 1];
		obj[i - 1] = obj[j];
		obj[j] = t;
	}
	for (uint32_t i = 0; i < n; i++) {
		slabfree(obj[i], c->bytes);
		if (i % 97 == 0)
			assert_int_equal(slab_sanitycheck(NULL, NULL), 0);
		assert_int_equal(phys_free_pages() + slab_pages(), boot_free);
	}
	assert_all_returned();
	free(obj);
}

/* Requests of different sizes that round to the same 8 bytes share a cache. */
static void test_rounding_shares_cache(void **state)
{
	void *a, *b, *c;
	struct slab_stats st = { 0 };

	(void)state;
	a = slaballoc(17);
	b = slaballoc(20);
	c = slaballoc(24);
	check_new_object(a, 17);
	check_new_object(b, 20);
	check_new_object(c, 24);
	assert_int_equal(page_of(a), page_of(b));
	assert_int_equal(page_of(a), page_of(c));
	assert_true(stats_for(24, &st));
	assert_int_equal(st.inuse, 3);
	assert_false(stats_for(16, &st));
	assert_false(stats_for(32, &st));
	assert_int_equal(slab_pages(), 1);
	slabfree(b, 24); /* any size in the class frees it */
	slabfree(a, 18);
	slabfree(c, 21);
	assert_all_returned();
}

/*
 * Statistics with several caches at once: entries in size order, exact pages and in-use
 * counts for known numbers of objects per size, and consistent after partial frees.
 */
static void test_stats(void **state)
{
	static const struct {
		size_t bytes;
		uint32_t count;
	} load[] = { { 8, 1200 }, { 24, 5 }, { 1000, 9 }, { 2048, 3 }, { 300, 40 } };
	enum { NLOAD = sizeof(load) / sizeof(load[0]) };
	void **obj[NLOAD];
	struct slab_stats st = { 0 };

	(void)state;
	for (int k = 0; k < NLOAD; k++) {
		obj[k] = calloc(load[k].count, sizeof(void *));
		assert_non_null(obj[k]);
		for (uint32_t i = 0; i < load[k].count; i++) {
			obj[k][i] = slaballoc(load[k].bytes);
			check_new_object(obj[k][i], load[k].bytes);
		}
	}
	check_stats();
	uint32_t i = 0, total = 0;
	while (slab_stats_at(i, &st))
		i++;
	assert_int_equal(i, NLOAD);
	for (int k = 0; k < NLOAD; k++) {
		assert_true(stats_for(round8(load[k].bytes), &st));
		uint32_t per = st.objects / st.pages;
		assert_int_equal(st.inuse, load[k].count);
		assert_int_equal(st.pages, (load[k].count + per - 1) / per);
		total += st.pages;
	}
	assert_int_equal(slab_pages(), total);
	assert_int_equal(phys_free_pages(), boot_free - total);

	/* Free every other object: in-use halves, pages stay (none becomes empty). */
	for (int k = 0; k < NLOAD; k++)
		for (uint32_t j = 0; j < load[k].count; j += 2) {
			slabfree(obj[k][j], load[k].bytes);
			obj[k][j] = NULL;
		}
	check_stats();
	for (int k = 0; k < NLOAD; k++) {
		assert_true(stats_for(round8(load[k].bytes), &st));
		assert_int_equal(st.inuse, load[k].count / 2);
	}
	assert_int_equal(slab_sanitycheck(NULL, NULL), 0);
	for (int k = 0; k < NLOAD; k++) {
		for (uint32_t j = 0; j < load[k].count; j++)
			if (obj[k][j])
				slabfree(obj[k][j], load[k].bytes);
		free(obj[k]);
		check_stats();
	}
	assert_all_returned();
}

/*
 * Random allocations and frees of many sizes against a model of the live objects, each
 * stamped: slab_sanitycheck clean after every step, the statistics equal to the model's
 * counts, every page accounted for, every live object intact.
 */
static void test_random_model(void **state)
{
	enum { MAXLIVE = 3000, STEPS = 5000 };
	static const size_t sizes[] = { 1,   8,   12,  16,  24,  40,   64,   72,   100, 128,
					200, 256, 333, 512, 700, 1024, 1500, 2000, 2048 };
	enum { NSIZES = sizeof(sizes) / sizeof(sizes[0]) };
	static struct {
		void *p;
		size_t bytes;
		uint32_t id;
	} live[MAXLIVE];
	uint32_t nlive = 0, next_id = 0, per_size[NSIZES] = { 0 };

	(void)state;
	rng_seed(0x51ab5eedu);
	for (int step = 0; step < STEPS; step++) {
		/* Grow for the first half, then shrink, so caches fill and drain. */
		uint32_t grow = step < STEPS / 2 ? 65 : 35;
		if (nlive == 0 || (nlive < MAXLIVE && rng_below(100) < grow)) {
			uint32_t s = rng_below(NSIZES);
			/* Sometimes a size just under the class, which must share it. */
			size_t bytes = sizes[s] > 8 && rng_below(4) == 0 ? sizes[s] - 3 : sizes[s];
			void *p = slaballoc(bytes);
			check_new_object(p, bytes);
			stamp(p, bytes, next_id);
			live[nlive].p = p;
			live[nlive].bytes = bytes;
			live[nlive++].id = next_id++;
		} else {
			uint32_t i = rng_below(nlive);
			check_stamp(live[i].p, live[i].bytes, live[i].id);
			slabfree(live[i].p, live[i].bytes);
			live[i] = live[--nlive];
		}
		assert_int_equal(slab_sanitycheck(NULL, NULL), 0);
		assert_int_equal(phys_free_pages() + slab_pages(), boot_free);
		if (step % 250 == 0 || step == STEPS - 1) {
			/* Every object intact, and the statistics say what the model says. */
			memset(per_size, 0, sizeof(per_size));
			for (uint32_t i = 0; i < nlive; i++) {
				check_stamp(live[i].p, live[i].bytes, live[i].id);
				for (int s = 0; s < NSIZES; s++)
					if (round8(sizes[s]) == round8(live[i].bytes))
						per_size[s]++;
			}
			for (int s = 0; s < NSIZES; s++) {
				struct slab_stats st = { 0 };
				if (per_size[s] == 0)
					continue;
				assert_true(stats_for(round8(sizes[s]), &st));
				assert_int_equal(st.inuse, per_size[s]);
			}
			check_stats();
			assert_int_equal(sanity_check(), 0);
		}
	}
	print_message("random: %u objects live at the end, %u slab pages\n", nlive, slab_pages());
	while (nlive > 0) {
		nlive--;
		check_stamp(live[nlive].p, live[nlive].bytes, live[nlive].id);
		slabfree(live[nlive].p, live[nlive].bytes);
	}
	assert_all_returned();
}

static void note_page(phys_bytes page, void *arg)
{
	phys_bytes *want = arg;

	if (page == want[0])
		want[1]++;
}

/*
 * slab_sanitycheck reports each slab page to its callback, and finds a corrupted header:
 * a flipped magic, a wrong object size, a bitmap that disagrees with the use count.
 * Each corruption is undone and the check is clean again.
 */
static void test_sanitycheck_detects_corruption(void **state)
{
	void *o[3];

	(void)state;
	o[0] = slaballoc(64);
	o[1] = slaballoc(64);
	o[2] = slaballoc(200);
	phys_bytes want[2] = { phys_of_page(o[0]), 0 };
	assert_int_equal(slab_sanitycheck(note_page, want), 0);
	assert_int_equal(want[1], 1); /* the page holding o[0] was reported, once */
	assert_int_equal(sanity_check(), 0);

	uint32_t *hdr = (uint32_t *)page_of(o[0]);
	uint32_t saved = hdr[0];
	assert_int_equal(saved, SLAB_MAGIC);
	/* Unlocked by hand: with its magic gone the page is no slab page, so
	 * USE would not unlock it again to restore it. */
	lock_page_unlock(hdr);
	hdr[0] ^= 0x00010000u;
	assert_true(slab_sanitycheck(NULL, NULL) > 0);
	assert_true(sanity_check() > 0);
	hdr[0] = saved;
	lock_page_lock(hdr);
	assert_int_equal(slab_sanitycheck(NULL, NULL), 0);

	/* The object size, right after the magic (struct slabheader in vm/slab.c). */
	uint16_t *size = (uint16_t *)(hdr + 1);
	assert_int_equal(*size, 64);
	USE(size, *size = 72);
	assert_true(slab_sanitycheck(NULL, NULL) > 0);
	USE(size, *size = 64);
	assert_int_equal(slab_sanitycheck(NULL, NULL), 0);

	/* The use count (third 16-bit field) disagreeing with the bitmap. */
	uint16_t *nused = size + 2;
	assert_int_equal(*nused, 2);
	USE(nused, *nused = 3);
	assert_true(slab_sanitycheck(NULL, NULL) > 0);
	USE(nused, *nused = 2);
	assert_int_equal(slab_sanitycheck(NULL, NULL), 0);

	slabfree(o[0], 64);
	slabfree(o[1], 64);
	slabfree(o[2], 200);
	assert_all_returned();
}

/*
 * Out of memory: with every frame taken, a cache that has room still serves objects from
 * its page; one that needs a new page returns NULL (no crash), and so does the first one
 * once its page is full. Memory given back makes slaballoc work again.
 */
static void test_out_of_memory(void **state)
{
	phys_bytes runs[64];
	uint32_t lens[64], nruns = 0;
	void *o[600];
	uint32_t n = 0;

	(void)state;
	o[n++] = slaballoc(16); /* a page for 16-byte objects, with room left */
	struct slab_stats st = { 0 };
	assert_true(stats_for(16, &st));
	uint32_t per = st.objects;
	while (phys_free_pages() > 0) {
		assert_true(nruns < 64);
		lens[nruns] = phys_largest_run();
		runs[nruns] = alloc_mem(lens[nruns], 0);
		assert_int_not_equal(runs[nruns], NO_MEM);
		nruns++;
	}
	assert_null(slaballoc(32));
	assert_null(slaballoc(2048));
	while (n < per) {
		assert_true(n < 600);
		o[n] = slaballoc(16);
		check_new_object(o[n], 16);
		n++;
	}
	assert_null(slaballoc(16));
	assert_int_equal(slab_pages(), 1);
	assert_int_equal(slab_sanitycheck(NULL, NULL), 0);
	check_stats();

	/* One page back: the next object gets it. */
	free_mem(runs[0], 1);
	void *more = slaballoc(16);
	check_new_object(more, 16);
	assert_int_equal(slab_pages(), 2);
	assert_null(slaballoc(8));
	slabfree(more, 16);
	free_mem(runs[0] + PAGE, lens[0] - 1);
	for (uint32_t i = 1; i < nruns; i++)
		free_mem(runs[i], lens[i]);
	while (n > 0)
		slabfree(o[--n], 16);
	assert_all_returned();
}

/* ---- Bad frees, writes after free, stray writes ---- */

enum bad_kind { BAD_DOUBLE, BAD_DOUBLE_LAST, BAD_WRONG_SIZE, BAD_MISALIGNED, BAD_NOT_SLAB };

struct bad_free {
	const char *name;
	enum bad_kind kind;
	enum sanity_kind want;
	bool has_frame; /* the finding names a's slab page */
};

static const struct bad_free bad_frees[] = {
	/* The page stays (another object lives on it), so its bitmap catches it. */
	{ "double_free", BAD_DOUBLE, SK_DOUBLE_FREE, true },
	/* The page went back with the first free: it is no slab page any more. */
	{ "double_free_last_object", BAD_DOUBLE_LAST, SK_BAD_FREE, false },
	{ "free_wrong_size", BAD_WRONG_SIZE, SK_BAD_FREE, true },
	{ "free_misaligned", BAD_MISALIGNED, SK_BAD_FREE, false },
	{ "free_not_slab", BAD_NOT_SLAB, SK_BAD_FREE, false },
};

/*
 * Freeing what is not a live object is reported as exactly one finding of the right kind,
 * naming the page (and, in the VM_SANITY build, where the object was allocated and first
 * freed), is counted by the next check and only that one, and changes nothing: the
 * allocator's state stays consistent and every page comes back.
 */
static void test_bad_free_reported(void **state)
{
	const struct bad_free *c = *state;
	char *a = slaballoc(48);
	int alloc_line = __LINE__ - 1;
	char *b = slaballoc(48);
	phys_bytes page = phys_of_page(a), p = NO_MEM;
	int free_line = 0;

	assert_int_equal(slab_sanitycheck(NULL, NULL), 0);
	switch (c->kind) {
	case BAD_DOUBLE:
		slabfree(a, 48);
		free_line = __LINE__ - 1;
		slabfree(a, 48);
		break;
	case BAD_DOUBLE_LAST:
		slabfree(b, 48);
		slabfree(a, 48);
		slabfree(a, 48);
		break;
	case BAD_WRONG_SIZE:
		slabfree(a, 64);
		break;
	case BAD_MISALIGNED:
		slabfree(a + 8, 48);
		break;
	case BAD_NOT_SLAB:
		/* A page VM owns but that is no slab: a fresh frame from the allocator. */
		p = alloc_mem(1, PAF_CLEAR);
		slabfree(hm.phys + p + 128, 48);
		break;
	}
	assert_int_equal(sanity_log_count(), 1);
	const struct sanity_finding *f = sanity_log(0);
	assert_int_equal(f->kind, c->want);
	assert_int_equal(f->frame, c->has_frame ? page : SANITY_NO_FRAME);
#ifdef VMSCOPE_SANITY_BUILD
	if (c->kind == BAD_DOUBLE) {
		char want[64];
		snprintf(want, sizeof(want), "tests/unit/test_slab.c:%d", alloc_line);
		assert_string_equal(f->site.where, want);
		snprintf(want, sizeof(want), "tests/unit/test_slab.c:%d", free_line);
		assert_string_equal(f->freed.where, want);
	}
#endif
	(void)alloc_line;
	(void)free_line;
	if (p != NO_MEM)
		free_mem(p, 1);
	assert_int_equal(sanity_check(), 1); /* the event counts in the next check, once */
	assert_int_equal(sanity_log(0)->kind, c->want);
	assert_int_equal(sanity_check(), 0);
	if (c->kind != BAD_DOUBLE && c->kind != BAD_DOUBLE_LAST)
		slabfree(a, 48);
	if (c->kind != BAD_DOUBLE_LAST)
		slabfree(b, 48);
	assert_int_equal(sanity_check(), 0);
	assert_all_returned();
}

/*
 * A free object keeps its junk: a write into it is found by the next check as a write
 * after free, naming the page and (VM_SANITY build) where the object was freed.
 */
static void test_write_after_free(void **state)
{
	uint8_t *a = slaballoc(40), *b = slaballoc(40);

	(void)state;
	slabfree(a, 40);
	int free_line = __LINE__ - 1;
	for (int i = 0; i < 40; i++)
		assert_int_equal(a[i], SLAB_JUNK);
	assert_int_equal(sanity_check(), 0);
	USE(a, a[17] = 0);
	assert_int_equal(sanity_check(), 1);
	const struct sanity_finding *f = sanity_log(0);
	assert_int_equal(f->kind, SK_WRITE_AFTER_FREE);
	assert_int_equal(f->frame, phys_of_page(b));
#ifdef VMSCOPE_SANITY_BUILD
	char want[64];
	snprintf(want, sizeof(want), "tests/unit/test_slab.c:%d", free_line);
	assert_string_equal(f->freed.where, want);
#endif
	(void)free_line;
	USE(a, a[17] = SLAB_JUNK);
	assert_int_equal(sanity_check(), 0);
	slabfree(b, 40);
	assert_all_returned();
}

#ifdef VMSCOPE_SANITY_BUILD
struct victim {
	uint64_t a, b, c;
};

/* The code that writes where it should not (its name is in the report). */
__attribute__((noinline)) void stray_write(struct victim *v)
{
	v->b = 42;
}

static void do_stray_write(void *arg)
{
	hosted_lockfault_install(); /* cmocka has its own SIGSEGV handler */
	stray_write(arg);
}

/*
 * VM_SANITY build: a write to a locked slab object outside USE faults at once; the report
 * names the kind, the object (its slab page and offset), where it was allocated and the
 * function that wrote, and VM stops (SIGABRT: a core dump for GDB). Through USE the same
 * write is fine.
 */
static void test_locked_write(void **state)
{
	struct death d;
	struct victim *v = slaballoc_typed(sizeof(*v), "struct victim");
	int alloc_line = __LINE__ - 1;
	char want[160];

	(void)state;
	run_in_child(do_stray_write, v, &d);
	assert_true(WIFSIGNALED(d.status) && WTERMSIG(d.status) == SIGABRT);
	snprintf(want, sizeof(want),
		 "sanity: locked write: write to allocated struct victim 0 at offset 8 of slab "
		 "page 0x%08x (24-byte objects) outside USE, by stray_write+",
		 phys_of_page(v));
	if (strstr(d.out, want) == NULL)
		fail_msg("want \"%s\" in:\n%s", want, d.out);
	snprintf(want, sizeof(want), "allocated at tests/unit/test_slab.c:%d (boot)", alloc_line);
	if (strstr(d.out, want) == NULL)
		fail_msg("want \"%s\" in:\n%s", want, d.out);
	assert_non_null(strstr(d.out, "VM: stopped at a write to a locked object"));
	USE(v, stray_write(v));
	assert_int_equal(v->b, 42);
	slabfree(v, sizeof(*v));
	assert_int_equal(sanity_check(), 0);
	assert_all_returned();
}
#endif

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		CMUnitTestFunction fn;
	} plain[] = {
		{ "rounding_shares_cache", test_rounding_shares_cache },
		{ "stats", test_stats },
		{ "random_model", test_random_model },
		{ "sanitycheck_detects_corruption", test_sanitycheck_detects_corruption },
		{ "out_of_memory", test_out_of_memory },
		{ "write_after_free", test_write_after_free },
#ifdef VMSCOPE_SANITY_BUILD
		{ "locked_write", test_locked_write },
#endif
	};
	enum {
		NPLAIN = sizeof(plain) / sizeof(plain[0]),
		NSIZE = sizeof(size_cases) / sizeof(size_cases[0]),
		NBAD = sizeof(bad_frees) / sizeof(bad_frees[0]),
	};
	struct CMUnitTest tests[NPLAIN + NSIZE + NBAD];
	size_t n = 0;

	for (size_t i = 0; i < NSIZE; i++)
		tests[n++] = (struct CMUnitTest){ size_cases[i].name, test_size, setup, teardown,
						  (void *)&size_cases[i] };
	for (size_t i = 0; i < NPLAIN; i++)
		tests[n++] =
		    (struct CMUnitTest){ plain[i].name, plain[i].fn, setup, teardown, NULL };
	for (size_t i = 0; i < NBAD; i++)
		tests[n++] = (struct CMUnitTest){ bad_frees[i].name, test_bad_free_reported, setup,
						  teardown, (void *)&bad_frees[i] };
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return _cmocka_run_group_tests("slab", tests, n, NULL, NULL);
}
