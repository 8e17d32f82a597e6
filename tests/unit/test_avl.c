/*
 * Unit tests for vm/avl.c: fixed shapes, a long random run against a
 * sorted-array reference model, duplicate inserts, and avl_check's ability
 * to find deliberately broken trees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sanity/lock.h"
#include "avl.h"

/* avl.c changes objects inside USE (sanity/lock.h), which in the VM_SANITY
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

/* The object a node is embedded in; key_copy lets us notice if keys move between nodes. */
struct item {
	uint64_t before;
	struct avl_node node;
	uint32_t key_copy;
	int in_tree;
	/* For the augmented tree: the item's weight, and its subtree's node
	 * count and total weight as the tree keeps them. */
	uint32_t weight, sub_count;
	uint64_t sub_weight;
};

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed != 0 ? seed : 0x9e3779b97f4a7c15ull;
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

static struct item *item_of(struct avl_node *n)
{
	return n == NULL ? NULL : avl_entry(n, struct item, node);
}

static void item_set(struct item *it, uint32_t key)
{
	memset(it, 0, sizeof(*it));
	it->before = 0x1122334455667788ull;
	it->node.key = key;
	it->key_copy = key;
}

static void assert_check_ok(const struct avl_tree *t)
{
	char why[160];
	int bad = avl_check(t, why, sizeof(why));

	if (bad != 0)
		fail_msg("avl_check: %d violations, first: %s", bad, why);
}

static void assert_check_bad(const struct avl_tree *t)
{
	char why[160];
	int bad;

	memset(why, 'X', sizeof(why));
	bad = avl_check(t, why, sizeof(why));
	assert_true(bad > 0);
	assert_non_null(memchr(why, '\0', sizeof(why)));
	assert_true(strlen(why) > 0);
}

/* Every node's key is the one its object was created with, and in-order keys are ascending. */
static void assert_inorder(const struct avl_tree *t, const uint32_t *keys, size_t n)
{
	struct avl_node *x;
	size_t i = 0;

	for (x = avl_first(t); x != NULL; x = avl_next(x)) {
		assert_true(i < n);
		assert_int_equal(x->key, keys[i]);
		assert_int_equal(item_of(x)->key_copy, x->key);
		assert_int_equal(item_of(x)->before, 0x1122334455667788ull);
		i++;
	}
	assert_int_equal(i, n);
	for (x = avl_last(t); x != NULL; x = avl_prev(x)) {
		assert_true(i > 0);
		i--;
		assert_int_equal(x->key, keys[i]);
	}
	assert_int_equal(i, 0);
	assert_int_equal(t->count, n);
}

static void test_avl_empty(void **state)
{
	struct avl_tree t;
	char why[16];

	(void)state;
	avl_init(&t);
	assert_null(t.root);
	assert_int_equal(t.count, 0);
	assert_int_equal(avl_check(&t, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(avl_check(&t, NULL, 0), 0);
	assert_null(avl_lookup(&t, 0));
	assert_null(avl_lookup_le(&t, 0xffffffffu));
	assert_null(avl_lookup_ge(&t, 0));
	assert_null(avl_first(&t));
	assert_null(avl_last(&t));
}

static void test_avl_single(void **state)
{
	struct avl_tree t;
	struct item a;

	(void)state;
	avl_init(&t);
	item_set(&a, 100);
	assert_int_equal(avl_insert(&t, &a.node), 0);
	assert_check_ok(&t);
	assert_ptr_equal(avl_lookup(&t, 100), &a.node);
	assert_null(avl_lookup(&t, 99));
	assert_null(avl_lookup_le(&t, 99));
	assert_ptr_equal(avl_lookup_le(&t, 100), &a.node);
	assert_ptr_equal(avl_lookup_le(&t, 0xffffffffu), &a.node);
	assert_ptr_equal(avl_lookup_ge(&t, 0), &a.node);
	assert_ptr_equal(avl_lookup_ge(&t, 100), &a.node);
	assert_null(avl_lookup_ge(&t, 101));
	assert_ptr_equal(avl_first(&t), &a.node);
	assert_ptr_equal(avl_last(&t), &a.node);
	assert_null(avl_next(&a.node));
	assert_null(avl_prev(&a.node));
	avl_remove(&t, &a.node);
	assert_null(t.root);
	assert_int_equal(t.count, 0);
	assert_check_ok(&t);
}

#define SEQ_N 2000

/* Ascending, descending and zig-zag inserts, then removals in several orders. */
static void test_avl_sequences(void **state)
{
	static struct item items[SEQ_N];
	static uint32_t keys[SEQ_N];
	struct avl_tree t;
	int order, i;

	(void)state;
	for (order = 0; order < 4; order++) {
		avl_init(&t);
		for (i = 0; i < SEQ_N; i++) {
			int k;

			switch (order) {
			case 0:
				k = i;
				break;
			case 1:
				k = SEQ_N - 1 - i;
				break;
			case 2:
				k = i % 2 == 0 ? i / 2 : SEQ_N - 1 - i / 2;
				break;
			default:
				k = (i * 7919) % SEQ_N; /* 7919 is prime, coprime to SEQ_N */
				break;
			}
			item_set(&items[k], (uint32_t)k * 3 + 1);
			assert_int_equal(avl_insert(&t, &items[k].node), 0);
			assert_check_ok(&t);
		}
		for (i = 0; i < SEQ_N; i++)
			keys[i] = (uint32_t)i * 3 + 1;
		assert_inorder(&t, keys, SEQ_N);
		for (i = 0; i < SEQ_N; i++) {
			assert_ptr_equal(avl_lookup(&t, (uint32_t)i * 3 + 1), &items[i].node);
			assert_null(avl_lookup(&t, (uint32_t)i * 3));
			assert_ptr_equal(avl_lookup_le(&t, (uint32_t)i * 3 + 3), &items[i].node);
			assert_ptr_equal(avl_lookup_ge(&t, (uint32_t)i * 3), &items[i].node);
		}
		/* Remove: always the root (two children most of the time), or in key order. */
		for (i = 0; i < SEQ_N; i++) {
			struct avl_node *victim = order % 2 == 0 ? t.root : &items[i].node;

			avl_remove(&t, victim);
			assert_null(victim->parent);
			assert_null(victim->left);
			assert_null(victim->right);
			assert_int_equal(t.count, (size_t)(SEQ_N - 1 - i));
			if (i < 500 || i % 97 == 0)
				assert_check_ok(&t);
		}
		assert_null(t.root);
		assert_check_ok(&t);
	}
}

/* Remove a node with two children whose successor is (a) its right child, (b) deeper. */
static void test_avl_remove_two_children(void **state)
{
	static const uint32_t shape[] = { 50, 30, 70, 20, 40, 60, 80, 65, 35 };
	struct item items[9];
	struct avl_tree t;
	struct avl_node *n;
	size_t i;

	(void)state;
	avl_init(&t);
	for (i = 0; i < 9; i++) {
		item_set(&items[i], shape[i]);
		assert_int_equal(avl_insert(&t, &items[i].node), 0);
	}
	assert_check_ok(&t);
	/* 70 has children 60 (whose right child is 65) and 80: its successor is its right child. */
	n = avl_lookup(&t, 70);
	assert_ptr_equal(n, &items[2].node);
	assert_non_null(n->left);
	assert_non_null(n->right);
	avl_remove(&t, n);
	assert_check_ok(&t);
	assert_null(avl_lookup(&t, 70));
	/*
	 * Removing 70 rotated its subtree to 65 (60, 80): the root 50's successor
	 * is now 60, deeper in its right subtree.
	 */
	n = avl_lookup(&t, 50);
	assert_non_null(n->left);
	assert_non_null(n->right);
	avl_remove(&t, n);
	assert_check_ok(&t);
	assert_null(avl_lookup(&t, 50));
	/* The successor object moved as a whole: its key stayed with it. */
	for (i = 0; i < 9; i++) {
		if (shape[i] == 70 || shape[i] == 50)
			continue;
		n = avl_lookup(&t, shape[i]);
		assert_ptr_equal(n, &items[i].node);
		assert_int_equal(items[i].key_copy, n->key);
	}
	assert_int_equal(t.count, 7);
	{
		static const uint32_t left[] = { 20, 30, 35, 40, 60, 65, 80 };

		assert_inorder(&t, left, 7);
	}
}

/* Snapshot of the whole tree, to prove an operation changed nothing. */
struct snap {
	const struct avl_node *node, *left, *right, *parent;
	uint32_t key;
	int balance;
};

static size_t snapshot(const struct avl_tree *t, struct snap *s, size_t max)
{
	struct avl_node *x;
	size_t n = 0;

	for (x = avl_first(t); x != NULL; x = avl_next(x)) {
		assert_true(n < max);
		s[n].node = x;
		s[n].left = x->left;
		s[n].right = x->right;
		s[n].parent = x->parent;
		s[n].key = x->key;
		s[n].balance = x->balance;
		n++;
	}
	return n;
}

static void test_avl_duplicate_insert(void **state)
{
	static struct item items[300], dup;
	static struct snap before[300], after[300];
	struct avl_tree t;
	const struct avl_node *root;
	size_t i, nb, na;

	(void)state;
	avl_init(&t);
	for (i = 0; i < 300; i++) {
		item_set(&items[i], (uint32_t)(i * 2654435761u));
		assert_int_equal(avl_insert(&t, &items[i].node), 0);
	}
	for (i = 0; i < 300; i += 7) {
		nb = snapshot(&t, before, 300);
		root = t.root;
		item_set(&dup, items[i].node.key);
		dup.node.left = dup.node.right = dup.node.parent = (struct avl_node *)0x1;
		assert_int_equal(avl_insert(&t, &dup.node), -1);
		assert_ptr_equal(t.root, root);
		assert_int_equal(t.count, 300);
		na = snapshot(&t, after, 300);
		assert_int_equal(na, nb);
		assert_memory_equal(before, after, nb * sizeof(before[0]));
		assert_ptr_equal(avl_lookup(&t, items[i].node.key), &items[i].node);
		assert_check_ok(&t);
		/* Re-inserting a node that is already in the tree is a duplicate too. */
		assert_int_equal(avl_insert(&t, &items[i].node), -1);
		assert_check_ok(&t);
	}
}

/*
 * Random run against a reference: a sorted array of the keys present. Keys
 * come from a fixed pool (so duplicates happen), one item per pool key.
 */
#define POOL 30000
#define OPS 100000
#define CHECK_EVERY_UNTIL 4000
#define CHECK_PERIOD 1000

static uint32_t pool[POOL];
static struct item pool_items[POOL];
static uint32_t model[POOL];
static size_t model_n;

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Index of the first element >= key in a[0..n). */
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

static struct item *pool_item(uint32_t key)
{
	size_t i = lower_bound(pool, POOL, key);

	assert_true(i < POOL && pool[i] == key);
	return &pool_items[i];
}

static void model_insert(uint32_t key)
{
	size_t i = lower_bound(model, model_n, key);

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

/* Compare every query on one probe key with the model. */
static void probe(const struct avl_tree *t, uint32_t key)
{
	size_t i = lower_bound(model, model_n, key);
	int present = i < model_n && model[i] == key;
	struct avl_node *n;

	n = avl_lookup(t, key);
	if (present) {
		assert_non_null(n);
		assert_ptr_equal(n, &pool_item(key)->node);
	} else {
		assert_null(n);
	}

	n = avl_lookup_ge(t, key);
	if (i == model_n) {
		assert_null(n);
	} else {
		assert_non_null(n);
		assert_int_equal(n->key, model[i]);
	}

	n = avl_lookup_le(t, key);
	if (present) {
		assert_non_null(n);
		assert_int_equal(n->key, key);
	} else if (i == 0) {
		assert_null(n);
	} else {
		assert_non_null(n);
		assert_int_equal(n->key, model[i - 1]);
	}
}

/* Neighbours of a key that is present. */
static void probe_neighbours(const struct avl_tree *t, uint32_t key)
{
	size_t i = lower_bound(model, model_n, key);
	struct avl_node *n = avl_lookup(t, key), *x;

	assert_non_null(n);
	x = avl_next(n);
	if (i + 1 < model_n)
		assert_int_equal(x->key, model[i + 1]);
	else
		assert_null(x);
	x = avl_prev(n);
	if (i > 0)
		assert_int_equal(x->key, model[i - 1]);
	else
		assert_null(x);
}

static void full_compare(const struct avl_tree *t)
{
	assert_check_ok(t);
	assert_inorder(t, model, model_n);
	if (model_n > 0) {
		assert_int_equal(avl_first(t)->key, model[0]);
		assert_int_equal(avl_last(t)->key, model[model_n - 1]);
	} else {
		assert_null(avl_first(t));
		assert_null(avl_last(t));
	}
}

static void test_avl_random_model(void **state)
{
	struct avl_tree t;
	size_t i, n;
	long op;
	unsigned long inserts = 0, removes = 0, dups = 0;

	(void)state;
	rng_seed(0x5eed0001u);
	/* Distinct pool keys, with the extremes included. */
	pool[0] = 0;
	pool[1] = 1;
	pool[2] = 0x80000000u;
	pool[3] = 0xfffffffeu;
	pool[4] = 0xffffffffu;
	n = 5;
	while (n < POOL) {
		/* Half clustered (small keys, many neighbours), half spread over 32 bits. */
		while (n < POOL) {
			pool[n] = n % 2 == 0 ? rng_below(4 * POOL) : rng32();
			n++;
		}
		qsort(pool, n, sizeof(pool[0]), cmp_u32);
		for (i = 1, n = 1; i < POOL; i++)
			if (pool[i] != pool[n - 1])
				pool[n++] = pool[i];
	}
	for (i = 0; i < POOL; i++)
		item_set(&pool_items[i], pool[i]);

	avl_init(&t);
	model_n = 0;
	for (op = 0; op < OPS; op++) {
		/* Grow for the first 40%, churn, then drain. */
		uint32_t insert_pct = op < OPS * 4 / 10 ? 75 : op < OPS * 7 / 10 ? 50 : 25;
		uint32_t key;

		if (model_n == 0 || rng_below(100) < insert_pct) {
			struct item *it;

			key = pool[rng_below(POOL)];
			it = pool_item(key);
			if (it->in_tree) {
				struct item dup;

				item_set(&dup, key);
				assert_int_equal(avl_insert(&t, &dup.node), -1);
				assert_ptr_equal(avl_lookup(&t, key), &it->node);
				dups++;
			} else {
				assert_int_equal(avl_insert(&t, &it->node), 0);
				it->in_tree = 1;
				model_insert(key);
				inserts++;
				probe_neighbours(&t, key);
			}
		} else {
			struct item *it;

			key = model[rng_below((uint32_t)model_n)];
			it = pool_item(key);
			assert_true(it->in_tree);
			avl_remove(&t, &it->node);
			it->in_tree = 0;
			model_remove(key);
			removes++;
		}
		assert_int_equal(t.count, model_n);
		probe(&t, key);
		probe(&t, key - 1);
		probe(&t, key + 1);
		probe(&t, rng32());
		if (op < CHECK_EVERY_UNTIL)
			assert_check_ok(&t);
		if (op % CHECK_PERIOD == 0)
			full_compare(&t);
	}
	full_compare(&t);

	/* Drain what is left, checking as we go. */
	while (model_n > 0) {
		uint32_t key = model[rng_below((uint32_t)model_n)];

		avl_remove(&t, &pool_item(key)->node);
		pool_item(key)->in_tree = 0;
		model_remove(key);
		if (model_n % 500 == 0)
			full_compare(&t);
	}
	assert_null(t.root);
	assert_int_equal(t.count, 0);
	/* The run must have exercised all three paths substantially. */
	assert_true(inserts > 20000);
	assert_true(removes > 20000);
	assert_true(dups > 1000);
}

/* A valid tree of n items with keys 10, 20, ... */
static void build(struct avl_tree *t, struct item *items, size_t n)
{
	size_t i;

	avl_init(t);
	for (i = 0; i < n; i++) {
		item_set(&items[i], (uint32_t)(i + 1) * 10);
		assert_int_equal(avl_insert(t, &items[i].node), 0);
	}
	assert_check_ok(t);
}

/* A node of t with two children below the root, for corrupting. */
static struct avl_node *inner_node(const struct avl_tree *t)
{
	struct avl_node *x = t->root->left;

	assert_non_null(x);
	assert_non_null(x->left);
	assert_non_null(x->right);
	return x;
}

static void test_avl_check_detects_corruption(void **state)
{
	static struct item items[100];
	struct avl_tree t;
	struct avl_node *x, *saved;
	char why[160];
	char tiny[6];
	int8_t b;
	uint32_t k;
	size_t c;

	(void)state;
	build(&t, items, 100);

	/* Balance factor off by one (still in range). */
	x = inner_node(&t);
	b = x->balance;
	x->balance = (int8_t)(b == 1 ? 0 : b + 1);
	assert_check_bad(&t);
	assert_true(avl_check(&t, why, sizeof(why)) > 0);
	assert_non_null(strstr(why, "balance"));
	x->balance = b;
	assert_check_ok(&t);

	/* Balance factor on a leaf. */
	x = avl_first(&t);
	x->balance = -1;
	assert_check_bad(&t);
	x->balance = 0;
	assert_check_ok(&t);

	/* Parent link pointing elsewhere. */
	x = inner_node(&t)->right;
	saved = x->parent;
	x->parent = t.root;
	assert_check_bad(&t);
	assert_true(avl_check(&t, why, sizeof(why)) > 0);
	assert_non_null(strstr(why, "parent"));
	x->parent = NULL;
	assert_check_bad(&t);
	x->parent = saved;
	assert_check_ok(&t);

	/* Root with a parent. */
	t.root->parent = &items[0].node;
	assert_check_bad(&t);
	t.root->parent = NULL;
	assert_check_ok(&t);

	/* Key order: a leaf key moved beyond its neighbour, and equal keys. */
	x = avl_first(&t);
	k = x->key;
	x->key = avl_next(x)->key + 1;
	assert_check_bad(&t);
	assert_true(avl_check(&t, why, sizeof(why)) > 0);
	assert_non_null(strstr(why, "order"));
	x->key = avl_next(x)->key;
	assert_check_bad(&t);
	x->key = k;
	assert_check_ok(&t);
	/* Order broken across a subtree: the root's rightmost-left descendant > root. */
	x = avl_prev(t.root);
	k = x->key;
	x->key = t.root->key + 1;
	assert_check_bad(&t);
	x->key = k;
	assert_check_ok(&t);

	/* Count too high and too low. */
	c = t.count;
	t.count = c + 1;
	assert_check_bad(&t);
	assert_true(avl_check(&t, why, sizeof(why)) > 0);
	assert_non_null(strstr(why, "count"));
	t.count = c - 1;
	assert_check_bad(&t);
	t.count = 0;
	assert_check_bad(&t);
	t.count = c;
	assert_check_ok(&t);

	/* A lost subtree: count and balance both wrong. */
	x = inner_node(&t);
	saved = x->left;
	x->left = NULL;
	assert_true(avl_check(&t, why, sizeof(why)) >= 2);
	x->left = saved;
	assert_check_ok(&t);

	/* A cycle must not hang the check. */
	x = avl_first(&t);
	x->left = t.root;
	assert_check_bad(&t);
	x->left = NULL;
	assert_check_ok(&t);

	/* Tiny and absent message buffers. */
	x = inner_node(&t);
	x->balance = (int8_t)(x->balance == 0 ? 1 : 0);
	memset(tiny, 'X', sizeof(tiny));
	assert_true(avl_check(&t, tiny, sizeof(tiny)) > 0);
	assert_int_equal(tiny[sizeof(tiny) - 1], '\0');
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_true(avl_check(&t, tiny, 1) > 0);
	assert_int_equal(tiny[0], '\0');
	assert_true(avl_check(&t, NULL, 0) > 0);
}

/* A hand-built chain whose balance fields honestly record a height difference of 2. */
static void test_avl_check_unbalanced(void **state)
{
	struct item a, b, c;
	struct avl_tree t;
	char why[160];

	(void)state;
	item_set(&a, 1);
	item_set(&b, 2);
	item_set(&c, 3);
	a.node.right = &b.node;
	b.node.parent = &a.node;
	b.node.right = &c.node;
	c.node.parent = &b.node;
	a.node.balance = 2;
	b.node.balance = 1;
	t.root = &a.node;
	t.count = 3;
	assert_int_equal(avl_check(&t, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "unbalanced"));
	assert_non_null(strstr(why, "0x00000001"));
}

/* The augmentation under test: subtree node count and total weight. */
static unsigned augment_calls;

static bool count_augment(struct avl_node *n)
{
	struct item *it = item_of(n), *l = item_of(n->left), *r = item_of(n->right);
	uint32_t count = 1 + (l ? l->sub_count : 0) + (r ? r->sub_count : 0);
	uint64_t weight = it->weight + (l ? l->sub_weight : 0) + (r ? r->sub_weight : 0);

	augment_calls++;
	if (count == it->sub_count && weight == it->sub_weight)
		return false;
	it->sub_count = count;
	it->sub_weight = weight;
	return true;
}

/* Every node's summary equals its subtree recounted; returns the count. */
static uint32_t verify_summaries(struct avl_node *n, uint64_t *weight)
{
	uint64_t wl = 0, wr = 0;

	if (n == NULL) {
		*weight = 0;
		return 0;
	}
	uint32_t c = 1 + verify_summaries(n->left, &wl) + verify_summaries(n->right, &wr);
	struct item *it = item_of(n);
	*weight = it->weight + wl + wr;
	if (it->sub_count != c || it->sub_weight != *weight)
		fail_msg("key 0x%x: summary %u nodes / weight %llu, subtree has %u / %llu", n->key,
			 it->sub_count, (unsigned long long)it->sub_weight, c,
			 (unsigned long long)*weight);
	return c;
}

/* Random inserts, removes and weight changes: after each, every node's
 * summary is right, and each operation recomputes O(log n) summaries. */
static void test_avl_augmented(void **state)
{
	enum { N = 2000, NOPS = 20000 };
	static struct item items[N];
	struct avl_tree t;
	uint64_t total;
	unsigned worst = 0;

	(void)state;
	rng_seed(0xa11a0001u);
	avl_init_augmented(&t, count_augment);
	for (uint32_t i = 0; i < N; i++)
		item_set(&items[i], i * 7 + 3);
	for (int op = 0; op < NOPS; op++) {
		struct item *it = &items[rng_below(N)];
		augment_calls = 0;
		if (!it->in_tree) {
			it->weight = rng_below(1000);
			assert_int_equal(avl_insert(&t, &it->node), 0);
			it->in_tree = 1;
		} else if (rng_below(3) == 0) {
			it->weight = rng_below(1000);
			avl_augment_path(&t, &it->node);
		} else {
			avl_remove(&t, &it->node);
			it->in_tree = 0;
		}
		if (augment_calls > worst)
			worst = augment_calls;
		assert_int_equal(verify_summaries(t.root, &total), t.count);
		assert_check_ok(&t);
	}
	/* A tree of 2000 nodes is at most 15 high: a path and a few rotations. */
	assert_true(worst <= 2 * 16 + 8);
	uint64_t want = 0;
	for (uint32_t i = 0; i < N; i++)
		want += items[i].in_tree ? items[i].weight : 0;
	assert_int_equal(total, want);
	/* A plain tree never calls one. */
	struct avl_tree plain;
	struct item a;
	avl_init(&plain);
	item_set(&a, 1);
	augment_calls = 0;
	assert_int_equal(avl_insert(&plain, &a.node), 0);
	avl_augment_path(&plain, &a.node);
	avl_remove(&plain, &a.node);
	assert_int_equal(augment_calls, 0);
}

/* A summary that often stays the same, as a largest gap does: the
 * largest weight in the subtree. Removing a node that does not hold it
 * changes nothing above, and the tree stops going up; where a successor
 * moves into the removed node's place it must not. */
static bool max_augment(struct avl_node *n)
{
	struct item *it = item_of(n), *l = item_of(n->left), *r = item_of(n->right);
	uint64_t m = it->weight;

	augment_calls++;
	if (l && l->sub_weight > m)
		m = l->sub_weight;
	if (r && r->sub_weight > m)
		m = r->sub_weight;
	if (m == it->sub_weight)
		return false;
	it->sub_weight = m;
	return true;
}

static uint64_t verify_max(struct avl_node *n)
{
	if (n == NULL)
		return 0;
	uint64_t l = verify_max(n->left), r = verify_max(n->right);
	struct item *it = item_of(n);
	uint64_t m = it->weight > l ? it->weight : l;
	m = m > r ? m : r;
	if (it->sub_weight != m)
		fail_msg("key 0x%x: largest weight %llu kept, subtree has %llu", n->key,
			 (unsigned long long)it->sub_weight, (unsigned long long)m);
	return m;
}

static void test_avl_augmented_max(void **state)
{
	enum { N = 500, NOPS = 20000 };
	static struct item items[N];
	struct avl_tree t;

	(void)state;
	rng_seed(0xa11a0002u);
	avl_init_augmented(&t, max_augment);
	for (uint32_t i = 0; i < N; i++)
		item_set(&items[i], i * 3 + 1);
	for (int op = 0; op < NOPS; op++) {
		struct item *it = &items[rng_below(N)];
		if (!it->in_tree) {
			it->weight = rng_below(50);
			assert_int_equal(avl_insert(&t, &it->node), 0);
			it->in_tree = 1;
		} else if (rng_below(3) == 0) {
			it->weight = rng_below(50);
			avl_augment_path(&t, &it->node);
		} else {
			avl_remove(&t, &it->node);
			it->in_tree = 0;
		}
		verify_max(t.root);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_avl_empty),
		cmocka_unit_test(test_avl_single),
		cmocka_unit_test(test_avl_sequences),
		cmocka_unit_test(test_avl_remove_two_children),
		cmocka_unit_test(test_avl_duplicate_insert),
		cmocka_unit_test(test_avl_random_model),
		cmocka_unit_test(test_avl_check_detects_corruption),
		cmocka_unit_test(test_avl_check_unbalanced),
		cmocka_unit_test(test_avl_augmented),
		cmocka_unit_test(test_avl_augmented_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
