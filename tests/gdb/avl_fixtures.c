/*
 * Region trees for gdb.avl (tests/gdb/test_avl.py), built with VM's own
 * vm/avl.c. The test stops at fixtures_ready(), where the fx_* trees are
 * sound, and at corrupted_ready(), where the fx_bad* trees (fresh small
 * trees, each broken in one known way) exist too.
 *
 * For every sound tree, fx_NAME_expect holds its node count and its
 * height, computed here by a plain recursion over the links (not by
 * avl.c and not by the GDB scripts). For every broken tree, fx_NAME_at is
 * the node the finding must name. Every tree is also put to VM's own
 * avl_check_at (and, for what that does not check, the region checks
 * below), and the program says what they found: a fixture that is not
 * what it claims to be exits 1 before its breakpoint.
 */
#include <stdio.h>
#include <stdlib.h>

#include "avl.h"
#include "region.h"

#ifdef VMSCOPE_SANITY_BUILD
/* avl.c unlocks each node it writes (sanity/lock.h): these nodes are in
 * ordinary host memory, never locked. */
void lock_page_unlock(const void *obj)
{
	(void)obj;
}

void lock_page_lock(const void *obj)
{
	(void)obj;
}
#endif

struct fx_expect {
	size_t count;
	int height;
};

#define N_ASCENDING 100
#define N_RANDOM 1000
#define N_RANDOM_REMOVED 300
#define DEEP_ORDER 14 /* Fibonacci tree of height 14: 986 nodes */
#define N_DEEP 986
#define N_LARGE 100000
#define N_SMALL 31 /* each broken tree */

struct avl_tree fx_empty, fx_one, fx_ascending, fx_random, fx_deep, fx_large;
struct fx_expect fx_empty_expect, fx_one_expect, fx_ascending_expect, fx_random_expect,
    fx_deep_expect, fx_large_expect;

struct avl_tree fx_badbalance, fx_badorder, fx_badparent, fx_overlap, fx_badcount, fx_cycle,
    fx_badkey;
/* The node each finding is about (fx_badorder: the two swapped nodes). */
struct avl_node *fx_badbalance_at, *fx_badorder_at, *fx_badorder_at2, *fx_badparent_at,
    *fx_overlap_at, *fx_cycle_at, *fx_badkey_at;

static struct vir_region one_regions[1];
static struct vir_region ascending_regions[N_ASCENDING];
static struct vir_region random_regions[N_RANDOM];
static struct vir_region deep_regions[N_DEEP];
static struct vir_region large_regions[N_LARGE];
static struct vir_region bad_regions[7][N_SMALL];

static void fail(const char *what, const char *why)
{
	printf("avl_fixtures: %s: %s\n", what, why);
	fflush(stdout);
	exit(1);
}

static void insert(struct avl_tree *t, struct vir_region *r, vir_bytes vaddr, vir_bytes length,
		   const char *what)
{
	r->vaddr = vaddr;
	r->length = length;
	r->node.key = vaddr;
	if (avl_insert(t, &r->node) != 0)
		fail(what, "avl_insert refused a key");
}

/* Height by plain recursion (these trees are at most a few dozen high). */
static int height(const struct avl_node *n)
{
	int hl, hr;

	if (n == NULL)
		return 0;
	hl = height(n->left);
	hr = height(n->right);
	return 1 + (hl > hr ? hl : hr);
}

static size_t count(const struct avl_node *n)
{
	return n == NULL ? 0 : 1 + count(n->left) + count(n->right);
}

/* Region checks avl_check does not make: key == vaddr, neighbours apart.
 * Walks with avl_next, so only for trees whose links are sound. */
static int region_problems(const struct avl_tree *t)
{
	const struct avl_node *n, *next;
	int problems = 0;

	for (n = avl_first(t); n != NULL; n = next) {
		const struct vir_region *r = avl_entry(n, struct vir_region, node);

		next = avl_next(n);
		if (n->key != r->vaddr)
			problems++;
		if (next != NULL &&
		    r->vaddr + r->length > avl_entry(next, struct vir_region, node)->vaddr)
			problems++;
	}
	return problems;
}

/* A sound tree: VM's checker and the region checks find nothing; its
 * expectation is filled in. */
static void sound(const char *what, const struct avl_tree *t, struct fx_expect *e)
{
	char why[160];

	if (avl_check_at(t, why, sizeof(why), NULL) != 0)
		fail(what, why);
	if (region_problems(t) != 0)
		fail(what, "regions out of shape");
	e->count = count(t->root);
	e->height = height(t->root);
	if (e->count != t->count)
		fail(what, "count field differs");
	printf("%s: avl_check ok, %zu nodes, height %d\n", what, e->count, e->height);
}

/* A broken tree: VM's checker (or, for what it does not check, the region
 * checks) sees the problem. */
static void broken(const char *what, const struct avl_tree *t, bool region_only)
{
	char why[160];
	int errors = avl_check_at(t, why, sizeof(why), NULL);

	if (region_only) {
		if (errors != 0)
			fail(what, "avl_check should find nothing");
		if (region_problems(t) == 0)
			fail(what, "region checks should find it");
		printf("%s: avl_check ok (not its invariant), region checks: broken\n", what);
		return;
	}
	if (errors == 0)
		fail(what, "avl_check finds nothing");
	printf("%s: avl_check broken: %s\n", what, why);
}

/* xorshift32: the same numbers on every host. */
static uint32_t rnd_state = 0x2545f491;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void build_random(void)
{
	/* Slot s is [base + s * 64K, + 64K): a region inside its slot never
	 * overlaps another. N_RANDOM distinct slots out of 4 * N_RANDOM. */
	static uint32_t slot[4 * N_RANDOM];
	size_t i, removed;

	for (i = 0; i < 4 * N_RANDOM; i++)
		slot[i] = (uint32_t)i;
	for (i = 4 * N_RANDOM - 1; i > 0; i--) {
		size_t j = rnd() % (i + 1);
		uint32_t tmp = slot[i];

		slot[i] = slot[j];
		slot[j] = tmp;
	}
	avl_init(&fx_random);
	for (i = 0; i < N_RANDOM; i++)
		insert(&fx_random, &random_regions[i], 0x10000000u + slot[i] * 0x10000u,
		       (1 + rnd() % 16) * 0x1000u, "fx_random");
	/* Remove every other region of a random order until enough are gone. */
	for (removed = 0; removed < N_RANDOM_REMOVED;) {
		struct vir_region *r = &random_regions[rnd() % N_RANDOM];

		if (r->length == 0)
			continue;
		avl_remove(&fx_random, &r->node);
		r->length = 0;
		removed++;
	}
}

/* The Fibonacci tree of height h (left subtree h-1 high, right h-2): the
 * fewest nodes an AVL tree of that height can have. Numbers its nodes in
 * key order from *next and records each one's depth. */
static void fib_shape(int h, int d, int *next, int *depth)
{
	int me;

	if (h <= 0)
		return;
	fib_shape(h - 1, d + 1, next, depth);
	me = (*next)++;
	depth[me] = d;
	fib_shape(h - 2, d + 1, next, depth);
}

static void build_deep(void)
{
	static int depth[N_DEEP];
	int next = 0, d, i;

	fib_shape(DEEP_ORDER, 0, &next, depth);
	if (next != N_DEEP)
		fail("fx_deep", "N_DEEP is not the Fibonacci tree's size");
	/* Inserted level by level, every intermediate tree is balanced, so
	 * avl_insert never rotates and the shape stays the Fibonacci tree. */
	avl_init(&fx_deep);
	for (d = 0; d < DEEP_ORDER; d++)
		for (i = 0; i < N_DEEP; i++)
			if (depth[i] == d)
				insert(&fx_deep, &deep_regions[i],
				       0x20000000u + (uint32_t)i * 0x2000u, 0x2000, "fx_deep");
}

/* A fresh sound tree of N_SMALL regions, 8K apart, 4K long. */
static void build_small(struct avl_tree *t, struct vir_region *r, const char *what)
{
	int i;

	avl_init(t);
	for (i = 0; i < N_SMALL; i++)
		insert(t, &r[i], 0x00400000u + (uint32_t)i * 0x2000u, 0x1000, what);
}

static struct vir_region *region_of(struct avl_node *n)
{
	return avl_entry(n, struct vir_region, node);
}

static void build_broken(void)
{
	struct avl_node *n, *m;
	struct vir_region *a, *b;
	vir_bytes v;

	/* A balance factor that is not the height difference. */
	build_small(&fx_badbalance, bad_regions[0], "fx_badbalance");
	n = fx_badbalance.root->left;
	n->balance = n->balance == 0 ? 1 : (int8_t)-n->balance;
	fx_badbalance_at = n;
	broken("fx_badbalance", &fx_badbalance, false);

	/* Two regions (key, vaddr, length) swapped between two nodes. */
	build_small(&fx_badorder, bad_regions[1], "fx_badorder");
	n = fx_badorder.root->left->left;
	m = fx_badorder.root->right->right;
	a = region_of(n);
	b = region_of(m);
	v = a->vaddr;
	a->vaddr = b->vaddr;
	b->vaddr = v;
	n->key = (uint32_t)a->vaddr;
	m->key = (uint32_t)b->vaddr;
	fx_badorder_at = n;
	fx_badorder_at2 = m;
	broken("fx_badorder", &fx_badorder, false);

	/* A leaf whose parent link names the root instead of its parent. */
	build_small(&fx_badparent, bad_regions[2], "fx_badparent");
	n = avl_first(&fx_badparent);
	n->parent = fx_badparent.root;
	fx_badparent_at = n;
	broken("fx_badparent", &fx_badparent, false);

	/* A region that runs into the next one. */
	build_small(&fx_overlap, bad_regions[3], "fx_overlap");
	n = fx_overlap.root->left->right;
	region_of(n)->length = 0x3000;
	fx_overlap_at = n;
	broken("fx_overlap", &fx_overlap, true);

	/* A count field one too high. */
	build_small(&fx_badcount, bad_regions[4], "fx_badcount");
	fx_badcount.count++;
	broken("fx_badcount", &fx_badcount, false);

	/* The last leaf's left child pointing back at the root. */
	build_small(&fx_cycle, bad_regions[5], "fx_cycle");
	n = avl_last(&fx_cycle);
	n->left = fx_cycle.root;
	fx_cycle_at = n;
	broken("fx_cycle", &fx_cycle, false);

	/* A key that is not the region's start (order unchanged). */
	build_small(&fx_badkey, bad_regions[6], "fx_badkey");
	n = fx_badkey.root->right;
	n->key += 0x10;
	fx_badkey_at = n;
	broken("fx_badkey", &fx_badkey, true);
}

/* Breakpoints for the test: the trees are ready. */
__attribute__((noinline)) void fixtures_ready(void)
{
	__asm__ volatile("" : : : "memory");
}

__attribute__((noinline)) void corrupted_ready(void)
{
	__asm__ volatile("" : : : "memory");
}

int main(void)
{
	int i;

	avl_init(&fx_empty);
	sound("fx_empty", &fx_empty, &fx_empty_expect);

	avl_init(&fx_one);
	insert(&fx_one, &one_regions[0], 0x08048000u, 0x3000, "fx_one");
	sound("fx_one", &fx_one, &fx_one_expect);

	avl_init(&fx_ascending);
	for (i = 0; i < N_ASCENDING; i++)
		insert(&fx_ascending, &ascending_regions[i], 0x08048000u + (uint32_t)i * 0x2000u,
		       0x1000, "fx_ascending");
	sound("fx_ascending", &fx_ascending, &fx_ascending_expect);

	build_random();
	sound("fx_random", &fx_random, &fx_random_expect);

	build_deep();
	sound("fx_deep", &fx_deep, &fx_deep_expect);
	if (fx_deep_expect.height != DEEP_ORDER)
		fail("fx_deep", "not of the Fibonacci tree's height");

	avl_init(&fx_large);
	for (i = 0; i < N_LARGE; i++)
		insert(&fx_large, &large_regions[i], 0x01000000u + (uint32_t)i * 0x1000u, 0x1000,
		       "fx_large");
	sound("fx_large", &fx_large, &fx_large_expect);

	fflush(stdout);
	fixtures_ready();

	build_broken();
	fflush(stdout);
	corrupted_ready();
	return 0;
}
