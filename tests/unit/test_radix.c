/*
 * Unit tests for vm/radix.c, with a calloc/free slab that counts live nodes
 * and can be told to fail, against a sorted-array reference model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <vmscope/errno.h>

#include "radix.h"
#include "slab.h"

/*
 * The slab, for this test: calloc/free, counting live objects. Once
 * fail_after is >= 0, that many more allocations succeed, then all fail.
 */
/* The height of a tree holding UINT32_MAX. */
#define MAXH ((32 + RADIX_BITS - 1) / RADIX_BITS)

static long live_allocs;
static long total_allocs;
static long fail_after = -1;

void *slaballoc_at(size_t bytes, const char *type, const char *where)
{
	void *p;

	(void)type;
	(void)where;
	assert_int_equal(bytes, sizeof(struct radix_node));
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	p = calloc(1, bytes);
	assert_non_null(p);
	live_allocs++;
	total_allocs++;
	return p;
}

void slabfree_at(void *obj, size_t bytes, const char *where)
{
	(void)where;
	assert_non_null(obj);
	assert_int_equal(bytes, sizeof(struct radix_node));
	assert_true(live_allocs > 0);
	live_allocs--;
	free(obj);
}

/* radix.c changes objects inside USE (sanity/lock.h), which in the VM_SANITY
 * build unlocks the slab page holding them. This test's objects are its
 * own memory, which the real lock leaves alone: so do these. */
void lock_page_unlock(const void *obj)
{
	(void)obj;
}

void lock_page_lock(const void *obj)
{
	(void)obj;
}

static int setup(void **state)
{
	(void)state;
	live_allocs = 0;
	total_allocs = 0;
	fail_after = -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fail_after = -1;
	assert_int_equal(live_allocs, 0);
	return 0;
}

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed;
}

/* xorshift64* */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t rng32(void)
{
	return (uint32_t)(rng() >> 32);
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)((rng() >> 32) % n);
}

/* A distinct, non-NULL value per key (and a second one, for replace). */
static void *val_of(uint32_t key)
{
	return (void *)(uintptr_t)(((uint64_t)key << 2) | 1);
}

static void *val2_of(uint32_t key)
{
	return (void *)(uintptr_t)(((uint64_t)key << 2) | 2);
}

/* Height a tree holding at most max_key needs: smallest h >= 1 with max_key < 64^h. */
static uint32_t height_for(uint32_t max_key)
{
	uint32_t h = 1;
	uint64_t cap = RADIX_FANOUT;

	while (max_key >= cap) {
		h++;
		cap *= RADIX_FANOUT;
	}
	return h;
}

static void assert_bytes_live(const struct radix *r)
{
	assert_int_equal(radix_bytes(r), (size_t)live_allocs * sizeof(struct radix_node));
}

static void assert_empty(const struct radix *r)
{
	uint32_t k = 0;

	assert_null(r->root);
	assert_int_equal(r->height, 0);
	assert_int_equal(r->count, 0);
	assert_int_equal(radix_bytes(r), 0);
	assert_null(radix_next(r, &k));
	assert_int_equal(live_allocs, 0);
}

/* Sorted-array reference model. */
#define MODEL_MAX 40000

static uint32_t model[MODEL_MAX];
static size_t model_n;

static size_t lower_bound(const uint32_t *a, size_t n, uint32_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int model_has(uint32_t key)
{
	size_t i = lower_bound(model, model_n, key);

	return i < model_n && model[i] == key;
}

static void model_insert(uint32_t key)
{
	size_t i = lower_bound(model, model_n, key);

	assert_true(model_n < MODEL_MAX);
	memmove(&model[i + 1], &model[i], (model_n - i) * sizeof(model[0]));
	model[i] = key;
	model_n++;
}

static void model_remove(uint32_t key)
{
	size_t i = lower_bound(model, model_n, key);

	assert_true(i < model_n && model[i] == key);
	memmove(&model[i], &model[i + 1], (model_n - i - 1) * sizeof(model[0]));
	model_n--;
}

/* Iterating r with radix_next yields exactly the model's keys, in order. */
static void assert_iter_matches(const struct radix *r)
{
	uint32_t k = 0;
	size_t i = 0;
	void *v;

	for (;;) {
		v = radix_next(r, &k);
		if (v == NULL)
			break;
		assert_true(i < model_n);
		assert_int_equal(k, model[i]);
		assert_ptr_equal(v, val_of(k));
		i++;
		if (k == UINT32_MAX)
			break;
		k++;
	}
	assert_int_equal(i, model_n);
	assert_int_equal(r->count, model_n);
	if (model_n > 0)
		assert_int_equal(r->height, height_for(model[model_n - 1]));
	else
		assert_int_equal(r->height, 0);
	assert_bytes_live(r);
}

/* radix_next from an arbitrary key agrees with the model. */
static void assert_next_from(const struct radix *r, uint32_t from)
{
	size_t i = lower_bound(model, model_n, from);
	uint32_t k = from;
	void *v = radix_next(r, &k);

	if (i == model_n) {
		assert_null(v);
		assert_int_equal(k, from); /* untouched when there is none */
	} else {
		assert_ptr_equal(v, val_of(model[i]));
		assert_int_equal(k, model[i]);
	}
}

static void assert_lookup_matches(const struct radix *r, uint32_t key)
{
	if (model_has(key))
		assert_ptr_equal(radix_lookup(r, key), val_of(key));
	else
		assert_null(radix_lookup(r, key));
}

static void do_insert(struct radix *r, uint32_t key)
{
	assert_int_equal(radix_insert(r, key, val_of(key)), 0);
	model_insert(key);
}

static void do_remove(struct radix *r, uint32_t key)
{
	assert_ptr_equal(radix_remove(r, key), val_of(key));
	model_remove(key);
}

static void test_radix_empty(void **state)
{
	struct radix r;

	(void)state;
	radix_init(&r);
	assert_empty(&r);
	assert_null(radix_lookup(&r, 0));
	assert_null(radix_lookup(&r, UINT32_MAX));
	assert_null(radix_remove(&r, 0));
	assert_null(radix_remove(&r, 12345));
	assert_null(radix_replace(&r, 7, val_of(7)));
	radix_done(&r);
	assert_empty(&r);
}

/* Each special key alone: right height, right number of nodes, found, and fully freed. */
static void test_radix_single_keys(void **state)
{
	static const uint32_t keys[] = {
		0,          1,          62,         63,         64,         65,
		4095,       4096,       262143,     262144,     0x00ffffff, 0x01000000,
		0x3fffffff, 0x40000000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
	};
	struct radix r;
	size_t i;

	(void)state;
	radix_init(&r);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		uint32_t key = keys[i], k;

		assert_int_equal(radix_insert(&r, key, val_of(key)), 0);
		assert_int_equal(r.count, 1);
		assert_int_equal(r.height, height_for(key));
		/* One node per level. */
		assert_int_equal(live_allocs, (long)r.height);
		assert_bytes_live(&r);
		assert_ptr_equal(radix_lookup(&r, key), val_of(key));
		assert_null(radix_lookup(&r, key - 1));
		assert_null(radix_lookup(&r, key + 1));
		assert_null(radix_lookup(&r, key ^ 0x80000000u));
		k = 0;
		assert_ptr_equal(radix_next(&r, &k), val_of(key));
		assert_int_equal(k, key);
		k = key;
		assert_ptr_equal(radix_next(&r, &k), val_of(key));
		assert_int_equal(k, key);
		if (key != UINT32_MAX) {
			k = key + 1;
			assert_null(radix_next(&r, &k));
			assert_int_equal(k, key + 1);
		}
		assert_null(radix_remove(&r, key + 1));
		assert_null(radix_remove(&r, key - 1));
		assert_ptr_equal(radix_remove(&r, key), val_of(key));
		assert_empty(&r);
	}
}

static void test_radix_grow_and_shrink(void **state)
{
	struct radix r;

	(void)state;
	radix_init(&r);
	assert_int_equal(radix_insert(&r, 5, val_of(5)), 0);
	assert_int_equal(r.height, 1);
	assert_int_equal(live_allocs, 1);

	/* 5 stays where it was, under a new chain of roots. */
	assert_int_equal(radix_insert(&r, 70, val_of(70)), 0);
	assert_int_equal(r.height, 2);
	assert_int_equal(live_allocs, 3);
	assert_int_equal(radix_insert(&r, UINT32_MAX, val_of(UINT32_MAX)), 0);
	assert_int_equal(r.height, MAXH);
	/* roots for levels 3..MAXH, path for levels MAXH-1..1, plus the 3 before. */
	assert_int_equal(live_allocs, (MAXH - 2) + (MAXH - 1) + 3);
	assert_bytes_live(&r);
	assert_ptr_equal(radix_lookup(&r, 5), val_of(5));
	assert_ptr_equal(radix_lookup(&r, 70), val_of(70));
	assert_ptr_equal(radix_lookup(&r, UINT32_MAX), val_of(UINT32_MAX));

	/* Removing the big key collapses the height back to 2. */
	assert_ptr_equal(radix_remove(&r, UINT32_MAX), val_of(UINT32_MAX));
	assert_int_equal(r.height, 2);
	assert_int_equal(live_allocs, 3);
	assert_ptr_equal(radix_lookup(&r, 5), val_of(5));
	assert_ptr_equal(radix_lookup(&r, 70), val_of(70));

	/* Removing 5 leaves 70 (not in slot 0): height stays 2, 5's leaf is freed. */
	assert_ptr_equal(radix_remove(&r, 5), val_of(5));
	assert_int_equal(r.height, 2);
	assert_int_equal(live_allocs, 2);
	assert_ptr_equal(radix_lookup(&r, 70), val_of(70));

	/* Put 5 back, remove 70: only slot 0 of the root is left, so the height drops. */
	assert_int_equal(radix_insert(&r, 5, val_of(5)), 0);
	assert_int_equal(live_allocs, 3);
	assert_ptr_equal(radix_remove(&r, 70), val_of(70));
	assert_int_equal(r.height, 1);
	assert_int_equal(live_allocs, 1);
	assert_ptr_equal(radix_lookup(&r, 5), val_of(5));
	assert_null(radix_lookup(&r, 70));
	assert_null(radix_lookup(&r, UINT32_MAX));

	/* Key 0 in a tall tree: removing the top key shrinks all the way to 1. */
	assert_int_equal(radix_insert(&r, 0, val_of(0)), 0);
	assert_int_equal(radix_insert(&r, 0x80000000u, val_of(0x80000000u)), 0);
	assert_int_equal(r.height, MAXH);
	assert_ptr_equal(radix_remove(&r, 0x80000000u), val_of(0x80000000u));
	assert_int_equal(r.height, 1);
	assert_int_equal(live_allocs, 1);
	assert_ptr_equal(radix_remove(&r, 0), val_of(0));
	assert_ptr_equal(radix_remove(&r, 5), val_of(5));
	assert_empty(&r);
}

static void test_radix_replace(void **state)
{
	struct radix r;
	uint32_t k;

	(void)state;
	radix_init(&r);
	assert_int_equal(radix_insert(&r, 1000, val_of(1000)), 0);
	assert_int_equal(radix_insert(&r, UINT32_MAX, val_of(UINT32_MAX)), 0);
	assert_ptr_equal(radix_replace(&r, 1000, val2_of(1000)), val_of(1000));
	assert_ptr_equal(radix_lookup(&r, 1000), val2_of(1000));
	assert_ptr_equal(radix_replace(&r, UINT32_MAX, val2_of(UINT32_MAX)), val_of(UINT32_MAX));
	assert_ptr_equal(radix_lookup(&r, UINT32_MAX), val2_of(UINT32_MAX));
	assert_int_equal(r.count, 2);
	k = 1001;
	assert_ptr_equal(radix_next(&r, &k), val2_of(UINT32_MAX));
	assert_int_equal(k, UINT32_MAX);
	assert_ptr_equal(radix_remove(&r, 1000), val2_of(1000));
	radix_done(&r);
	assert_empty(&r);
}

/* Keys straddling every digit boundary, so radix_next has to climb and carry. */
static void test_radix_next_boundaries(void **state)
{
	struct radix r;
	uint32_t shift, k;
	size_t i;

	(void)state;
	rng_seed(0x0b0d0a1e5u);
	radix_init(&r);
	model_n = 0;
	for (shift = 6; shift < 32; shift += 6) {
		uint32_t b = (uint32_t)1 << shift;

		/* b - 1 stays out: the walk from it must climb out of a full-digit carry. */
		do_insert(&r, b - 2);
		do_insert(&r, b);
		do_insert(&r, b + 1);
		do_insert(&r, 2 * b - 2);
		do_insert(&r, 3 * b - 1); /* last key of a subtree whose digit is 2 */
	}
	do_insert(&r, 0);
	do_insert(&r, 0xffffffc0u);
	do_insert(&r, UINT32_MAX);
	assert_iter_matches(&r);
	for (i = 0; i < model_n; i++) {
		assert_next_from(&r, model[i]);
		assert_next_from(&r, model[i] + 1);
		assert_next_from(&r, model[i] - 1);
	}
	for (k = 0; k < 5000; k++)
		assert_next_from(&r, rng32());

	/* Only the two ends: the walk from 1 must skip the whole middle. */
	radix_done(&r);
	model_n = 0;
	assert_empty(&r);
	do_insert(&r, 0);
	do_insert(&r, UINT32_MAX);
	k = 1;
	assert_ptr_equal(radix_next(&r, &k), val_of(UINT32_MAX));
	assert_int_equal(k, UINT32_MAX);

	/* A leaf full to its last slot, then the next key in the next leaf's last slot. */
	radix_done(&r);
	model_n = 0;
	for (k = 0; k < 64; k++)
		do_insert(&r, 0x1000 * 63 + 64 * 63 + k);
	do_insert(&r, 0x40000 + 63);
	assert_iter_matches(&r);
	assert_next_from(&r, 0x1000 * 63 + 64 * 63 + 64);
	assert_next_from(&r, 0x1000 * 64);
	radix_done(&r);
	model_n = 0;
	assert_empty(&r);
}

/* Dense ranges fill whole leaves; removing all of them frees every node. */
static void test_radix_dense_ranges(void **state)
{
	struct radix r;
	uint32_t k, base[] = { 0, 0x12345, 0x7fffff00u, 0xffffe000u };
	size_t i;

	(void)state;
	rng_seed(41);
	radix_init(&r);
	model_n = 0;
	for (i = 0; i < 4; i++)
		for (k = 0; k < 5000 && base[i] + k >= base[i]; k++)
			do_insert(&r, base[i] + k);
	assert_iter_matches(&r);
	for (i = 0; i < 20000; i++)
		assert_lookup_matches(&r, rng_below(2) ? rng32() : rng_below(0x20000));
	/* Remove in random order. */
	while (model_n > 0) {
		do_remove(&r, model[rng_below((uint32_t)model_n)]);
		if (model_n % 1000 == 0)
			assert_iter_matches(&r);
	}
	assert_empty(&r);
}

/*
 * Random operations against the model, over three key mixes: small keys,
 * keys spread over all 32 bits, and a few dense clusters.
 */
static uint32_t random_key(int mix)
{
	switch (mix) {
	case 0:
		return rng_below(20000);
	case 1:
		switch (rng_below(16)) {
		case 0:
			return UINT32_MAX - rng_below(70);
		case 1:
			return 0x80000000u + rng_below(70) - 35;
		default:
			return rng32();
		}
	default:
		return (rng_below(4) << 30) + (rng_below(3) << 18) + rng_below(3000);
	}
}

static void test_radix_random_model(void **state)
{
	struct radix r;
	int mix;
	long op;

	(void)state;
	for (mix = 0; mix < 3; mix++) {
		rng_seed(0xabcdef01u + (uint64_t)mix);
		radix_init(&r);
		model_n = 0;
		for (op = 0; op < 60000; op++) {
			uint32_t key, action = rng_below(100);
			uint32_t insert_pct = op < 30000 ? 60 : 35;

			if (action < insert_pct || model_n == 0) {
				key = random_key(mix);
				if (!model_has(key))
					do_insert(&r, key);
			} else if (action < 85) {
				key = model[rng_below((uint32_t)model_n)];
				do_remove(&r, key);
				assert_null(radix_remove(&r, key));
			} else if (action < 90) {
				/* Replace, then put the canonical value back. */
				key = model[rng_below((uint32_t)model_n)];
				assert_ptr_equal(radix_replace(&r, key, val2_of(key)), val_of(key));
				assert_ptr_equal(radix_lookup(&r, key), val2_of(key));
				assert_ptr_equal(radix_replace(&r, key, val_of(key)), val2_of(key));
			} else {
				key = random_key(mix);
				assert_null(model_has(key) ? NULL : radix_remove(&r, key));
			}
			assert_int_equal(r.count, model_n);
			assert_lookup_matches(&r, key);
			assert_lookup_matches(&r, key + 1);
			assert_lookup_matches(&r, random_key(mix));
			assert_next_from(&r, key);
			assert_next_from(&r, key + 1);
			assert_next_from(&r, random_key(mix));
			if (op % 2000 == 0)
				assert_iter_matches(&r);
		}
		assert_iter_matches(&r);
		if (mix == 1) {
			/* Free the rest at once. */
			radix_done(&r);
			model_n = 0;
		} else {
			while (model_n > 0)
				do_remove(&r, model[rng_below((uint32_t)model_n)]);
		}
		assert_empty(&r);
	}
}

/* Everything observable about r, compared with the model. */
static void assert_unchanged(const struct radix *r, uint32_t height, long live)
{
	size_t i;

	assert_int_equal(r->height, height);
	assert_int_equal(live_allocs, live);
	assert_int_equal(r->count, model_n);
	for (i = 0; i < model_n; i++)
		assert_ptr_equal(radix_lookup(r, model[i]), val_of(model[i]));
	assert_iter_matches(r);
}

/*
 * For each key, make the insert fail at every allocation it needs: ENOMEM,
 * and the tree exactly as before (same entries, height, live nodes).
 */
static void check_insert_failures(struct radix *r, uint32_t key)
{
	uint32_t height = r->height;
	long live = live_allocs, needed, n;

	/* Learn how many nodes the insert takes, then undo it. */
	assert_int_equal(radix_insert(r, key, val_of(key)), 0);
	needed = live_allocs - live;
	assert_ptr_equal(radix_remove(r, key), val_of(key));
	assert_unchanged(r, height, live);

	for (n = 0; n < needed; n++) {
		long before_total = total_allocs;

		fail_after = n;
		assert_int_equal(radix_insert(r, key, val_of(key)), ENOMEM);
		fail_after = -1;
		assert_int_equal(total_allocs - before_total, n);
		assert_null(radix_lookup(r, key));
		assert_unchanged(r, height, live);
	}
	/* With no node needed, exhaustion does not matter. */
	fail_after = 0;
	if (needed == 0) {
		do_insert(r, key);
	} else {
		assert_int_equal(radix_insert(r, key, val_of(key)), ENOMEM);
		fail_after = -1;
		do_insert(r, key);
	}
	fail_after = -1;
	assert_iter_matches(r);
}

static void test_radix_insert_enomem(void **state)
{
	static const uint32_t keys[] = {
		100, 0xffffffff, 101,  4096,       0x80000000, 0x80000001, 0x80001000,
		0,   262144,     0x3f, 0x7fffffff, 0xfffffffe, 0x40000000,
	};
	struct radix r;
	size_t i;

	(void)state;
	radix_init(&r);
	model_n = 0;
	/* From empty (needs a whole path), and growing from height 1 to 6 in one go. */
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		check_insert_failures(&r, keys[i]);
	/* Random keys into a populated tree. */
	rng_seed(7);
	for (i = 0; i < 300; i++) {
		uint32_t key = rng_below(2) ? rng32() : rng_below(1u << 20);

		if (!model_has(key))
			check_insert_failures(&r, key);
	}
	radix_done(&r);
	model_n = 0;
	assert_empty(&r);

	/* Height 1 to MAXH directly: MAXH-1 new roots plus MAXH-1 path
	 * nodes, each a failure point. */
	do_insert(&r, 1);
	check_insert_failures(&r, UINT32_MAX);
	assert_int_equal(r.height, MAXH);
	assert_int_equal(live_allocs, 1 + 2 * (MAXH - 1));
	radix_done(&r);
	model_n = 0;
	assert_empty(&r);
}

static void test_radix_done_frees_all(void **state)
{
	struct radix r;
	uint32_t i;

	(void)state;
	radix_init(&r);
	for (i = 0; i < 10000; i++) {
		uint32_t key = i * 2654435761u;

		assert_int_equal(radix_insert(&r, key, val_of(key)), 0);
	}
	assert_true(live_allocs > 1000);
	assert_int_equal(radix_bytes(&r), (size_t)live_allocs * sizeof(struct radix_node));
	radix_done(&r);
	assert_empty(&r);
	/* Usable again after radix_done. */
	assert_int_equal(radix_insert(&r, 3, val_of(3)), 0);
	assert_ptr_equal(radix_lookup(&r, 3), val_of(3));
	radix_done(&r);
	assert_empty(&r);
}

/* The leaf hint (radix.h): runs of neighbouring keys go through it, and
 * it is never used once its leaf is freed (ASan sees a use after free;
 * the model below sees a wrong answer). */
static void test_radix_hint(void **state)
{
	const uint32_t F = RADIX_FANOUT, far = 1000000;
	struct radix r;
	uint32_t k;

	(void)state;
	radix_init(&r);
	for (uint32_t key = F; key < 2 * F; key++)
		do_insert(&r, key);
	assert_int_equal(r.hint_key, F);
	long nodes = live_allocs;
	/* Within the leaf: no walk, no node. */
	k = F + 6;
	assert_ptr_equal(radix_next(&r, &k), val_of(F + 6));
	for (uint32_t key = F; key < 2 * F - 1; key++)
		do_remove(&r, key);
	assert_int_equal(live_allocs, nodes);
	assert_non_null(r.hint);
	/* The last entry takes the leaf with it, and the hint. */
	do_remove(&r, 2 * F - 1);
	assert_null(r.hint);
	assert_empty(&r);
	do_insert(&r, far);
	for (uint32_t key = F; key < 2 * F; key++)
		assert_null(radix_lookup(&r, key));
	k = F;
	assert_ptr_equal(radix_next(&r, &k), val_of(far));
	assert_int_equal(k, far);
	/* next moves the hint to the leaf it stops in; the leaf after a
	 * hinted one that ends empty is found by the walk. */
	do_insert(&r, 5);
	k = 0;
	assert_ptr_equal(radix_next(&r, &k), val_of(5));
	assert_int_equal(r.hint_key, 0);
	k = 6;
	assert_ptr_equal(radix_next(&r, &k), val_of(far));
	assert_int_equal(k, far);
	assert_int_equal(r.hint_key, far & ~(F - 1));
	do_remove(&r, 5);
	do_remove(&r, far);
	assert_empty(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_radix_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_radix_single_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_radix_grow_and_shrink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_radix_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_radix_next_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_radix_dense_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_radix_random_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_radix_insert_enomem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_radix_done_frees_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_radix_hint, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
