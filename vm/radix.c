/*
 * Sparse radix tree (see radix.h). A tree of height h has its root at level
 * h and its leaf nodes at level 1; the slots of a level-1 node hold values,
 * every other slot holds a child node. Level l indexes the key with bits
 * RADIX_BITS*(l-1) .. RADIX_BITS*l-1. A 32-bit key needs at most RADIX_MAXHEIGHT levels.
 *
 * Nothing here recurses: the paths are at most RADIX_MAXHEIGHT nodes long
 * and kept in small arrays on the stack.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmscope/errno.h>

#include "radix.h"
#include "slab.h"

#define RADIX_MAXHEIGHT ((32 + RADIX_BITS - 1) / RADIX_BITS)
#define RADIX_MASK (RADIX_FANOUT - 1)

/* Nodes radix_insert may need at once: a new root chain plus a new path. */
#define RADIX_MAXNEW (2 * RADIX_MAXHEIGHT)

static inline unsigned int shift_of(uint32_t level)
{
	return RADIX_BITS * (level - 1);
}

static inline unsigned int index_of(uint32_t key, uint32_t level)
{
	return (key >> shift_of(level)) & RADIX_MASK;
}

/* Smallest height whose tree can hold key (at least 1). */
static uint32_t height_for(uint32_t key)
{
	uint32_t h = 1;

	while (h < RADIX_MAXHEIGHT && (key >> (RADIX_BITS * h)) != 0)
		h++;
	return h;
}

/* Does a tree of height h (>= 1) cover key? */
static inline bool covers(uint32_t h, uint32_t key)
{
	return h >= RADIX_MAXHEIGHT || (key >> (RADIX_BITS * h)) == 0;
}

/* key with its bits below bit number bits (0 .. 36) cleared. */
static inline uint32_t clear_low(uint32_t key, unsigned int bits)
{
	if (bits >= 32)
		return 0;
	return key & ~(((uint32_t)1 << bits) - 1);
}

void radix_init(struct radix *r)
{
	r->root = NULL;
	r->height = 0;
	r->count = 0;
	r->hint = NULL;
	r->hint_key = 0;
}

/* The hinted leaf if it holds key's slot, else NULL. */
static inline struct radix_node *hinted(const struct radix *r, uint32_t key)
{
	return r->hint != NULL && (key & ~RADIX_MASK) == r->hint_key ? r->hint : NULL;
}

/* The level-1 node holding key's slot, or NULL if there is none. */
static struct radix_node *leaf_of(const struct radix *r, uint32_t key)
{
	struct radix_node *node = hinted(r, key);
	uint32_t level;

	if (node != NULL)
		return node;
	node = r->root;
	if (node == NULL || !covers(r->height, key))
		return NULL;
	for (level = r->height; level > 1; level--) {
		node = node->slot[index_of(key, level)];
		if (node == NULL)
			return NULL;
	}
	return node;
}

void *radix_lookup(const struct radix *r, uint32_t key)
{
	struct radix_node *leaf = leaf_of(r, key);

	return leaf != NULL ? leaf->slot[index_of(key, 1)] : NULL;
}

/*
 * All nodes are allocated before the tree is touched, so that a failed
 * allocation leaves it as it was. A key that is already mapped (against the
 * contract) gets EEXIST and changes nothing.
 */
int radix_insert(struct radix *r, uint32_t key, void *val)
{
	struct radix_node *pool[RADIX_MAXNEW];
	struct radix_node *node;
	uint32_t need = 0, used = 0, nh, level, i;

	if ((node = hinted(r, key)) != NULL) {
		if (node->slot[index_of(key, 1)] != NULL)
			return EEXIST;
		USE(node, node->slot[index_of(key, 1)] = val; node->count++);
		r->count++;
		return 0;
	}

	nh = height_for(key);
	if (r->root == NULL) {
		need = nh;
	} else if (nh > r->height) {
		/*
		 * New roots for levels height+1 .. nh, and since key's top digit
		 * is not 0 (nh is minimal), a new path for levels nh-1 .. 1.
		 */
		need = (nh - r->height) + (nh - 1);
	} else {
		node = r->root;
		for (level = r->height; level > 1; level--) {
			node = node->slot[index_of(key, level)];
			if (node == NULL) {
				need = level - 1;
				break;
			}
		}
		if (node != NULL && node->slot[index_of(key, 1)] != NULL)
			return EEXIST;
	}

	for (i = 0; i < need; i++) {
		pool[i] = slaballoc(sizeof(struct radix_node));
		if (pool[i] == NULL) {
			while (i-- > 0)
				slabfree(pool[i], sizeof(struct radix_node));
			return ENOMEM;
		}
	}

	if (r->root == NULL) {
		r->root = pool[used++];
		r->height = nh;
	}
	while (r->height < nh) {
		node = pool[used++];
		USE(node, node->slot[0] = r->root; node->count = 1);
		r->root = node;
		r->height++;
	}
	node = r->root;
	for (level = r->height; level > 1; level--) {
		unsigned int idx = index_of(key, level);

		if (node->slot[idx] == NULL)
			USE(node, node->slot[idx] = pool[used++]; node->count++);
		node = node->slot[idx];
	}
	USE(node, node->slot[index_of(key, 1)] = val; node->count++);
	r->count++;
	r->hint = node;
	r->hint_key = key & ~RADIX_MASK;
	return 0;
}

void *radix_replace(struct radix *r, uint32_t key, void *val)
{
	struct radix_node *leaf = leaf_of(r, key);
	unsigned int idx = index_of(key, 1);
	void *old;

	if (leaf == NULL || leaf->slot[idx] == NULL)
		return NULL; /* not mapped: against the contract, change nothing */
	old = leaf->slot[idx];
	USE(leaf, leaf->slot[idx] = val);
	return old;
}

void *radix_remove(struct radix *r, uint32_t key)
{
	struct radix_node *path[RADIX_MAXHEIGHT + 1]; /* path[level] */
	struct radix_node *node = r->root;
	uint32_t level;
	void *val;

	struct radix_node *leaf = hinted(r, key);
	if (leaf != NULL && leaf->count > 1) {
		/* The leaf keeps other entries: no node is freed. */
		if ((val = leaf->slot[index_of(key, 1)]) == NULL)
			return NULL;
		USE(leaf, leaf->slot[index_of(key, 1)] = NULL; leaf->count--);
		r->count--;
		return val;
	}
	if (node == NULL || !covers(r->height, key))
		return NULL;
	for (level = r->height; level > 1; level--) {
		path[level] = node;
		node = node->slot[index_of(key, level)];
		if (node == NULL)
			return NULL;
	}
	path[1] = node;
	val = node->slot[index_of(key, 1)];
	if (val == NULL)
		return NULL;

	/* Clear the slot, then free the nodes it leaves empty, bottom up. */
	r->count--;
	if (path[1]->count == 1)
		r->hint = NULL; /* the leaf goes */
	for (level = 1; level <= r->height; level++) {
		uint32_t left;
		node = path[level];
		USE(node, node->slot[index_of(key, level)] = NULL; left = --node->count);
		if (left != 0)
			break;
		slabfree(node, sizeof(struct radix_node));
		if (level == r->height) {
			r->root = NULL;
			r->height = 0;
			return val;
		}
	}

	/* A root using only slot 0 is a needless level: drop it. */
	while (r->height > 1 && r->root->count == 1 && r->root->slot[0] != NULL) {
		node = r->root; /* never a leaf: the hint stays good */
		r->root = node->slot[0];
		r->height--;
		slabfree(node, sizeof(struct radix_node));
	}
	return val;
}

void *radix_next(const struct radix *r, uint32_t *key)
{
	const struct radix_node *path[RADIX_MAXHEIGHT + 1]; /* path[level] */
	const struct radix_node *node = hinted(r, *key);
	uint32_t k = *key, level = r->height;

	if (node != NULL) {
		/* The rest of the hinted leaf first. */
		for (unsigned int idx = index_of(k, 1); idx < RADIX_FANOUT; idx++)
			if (node->slot[idx] != NULL) {
				*key = (k & ~RADIX_MASK) | idx;
				return node->slot[idx];
			}
		if ((k | RADIX_MASK) == UINT32_MAX)
			return NULL;
		k = (k | RADIX_MASK) + 1;
	}
	node = r->root;
	if (node == NULL || !covers(r->height, k))
		return NULL;
	for (;;) {
		unsigned int shift = shift_of(level);
		unsigned int start = (k >> shift) & RADIX_MASK, idx = start;

		while (idx < RADIX_FANOUT && node->slot[idx] == NULL)
			idx++;
		if (idx == RADIX_FANOUT) {
			/*
			 * Nothing at or after k below node: move k to the first key of
			 * the next subtree. Where that carries out of a level's digit,
			 * the node at that level is exhausted too: climb past it.
			 */
			uint32_t span, base;

			if (level == r->height)
				return NULL;
			span = (uint32_t)1 << (shift + RADIX_BITS); /* keys under node */
			base = clear_low(k, shift + RADIX_BITS);
			if (base > UINT32_MAX - span)
				return NULL;
			k = base + span;
			do {
				level++;
				if (level > r->height)
					return NULL;
			} while (index_of(k, level) == 0);
			node = path[level];
			continue;
		}
		if (idx != start) {
			/* Skipped to a later slot: k becomes the first key under it. */
			k = clear_low(k, shift + RADIX_BITS) | ((uint32_t)idx << shift);
		}
		if (level == 1) {
			/* The next call most likely goes on in this leaf. The
			 * hint is a cache, not part of what r holds: setting it
			 * through a const r is how lookups stay const. */
			((struct radix *)r)->hint = (struct radix_node *)node;
			((struct radix *)r)->hint_key = k & ~RADIX_MASK;
			*key = k;
			return node->slot[idx];
		}
		path[level] = node;
		node = node->slot[idx];
		level--;
	}
}

/* Count the nodes of r and, if release, free them (post-order). */
static size_t walk(struct radix_node *root, uint32_t height, bool release)
{
	struct radix_node *node[RADIX_MAXHEIGHT + 1]; /* node[level] */
	unsigned int next[RADIX_MAXHEIGHT + 1];       /* next slot to visit */
	uint32_t level = height;
	size_t n = 0;

	if (root == NULL)
		return 0;
	node[level] = root;
	next[level] = 0;
	for (;;) {
		if (level > 1 && next[level] < RADIX_FANOUT) {
			struct radix_node *child = node[level]->slot[next[level]++];

			if (child != NULL) {
				level--;
				node[level] = child;
				next[level] = 0;
			}
			continue;
		}
		n++;
		if (release)
			slabfree(node[level], sizeof(struct radix_node));
		if (level == height)
			break;
		level++;
	}
	return n;
}

void radix_done(struct radix *r)
{
	walk(r->root, r->height, true);
	radix_init(r);
}

size_t radix_bytes(const struct radix *r)
{
	return walk(r->root, r->height, false) * sizeof(struct radix_node);
}
