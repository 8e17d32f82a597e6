/*
 * Intrusive AVL tree keyed by a 32-bit unsigned key (a region's start
 * address). The node lives inside the object it orders; the tree allocates
 * nothing. Keys are unique.
 */
#ifndef VM_AVL_H
#define VM_AVL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct avl_node {
	struct avl_node *left;
	struct avl_node *right;
	struct avl_node *parent;
	uint32_t key;
	int8_t balance; /* height(right) - height(left): -1, 0 or 1 */
};

struct avl_tree {
	struct avl_node *root;
	size_t count;
	/* Augmented trees: recomputes what n keeps about its subtree from n
	 * and its children (whose summaries are up to date); returns whether
	 * it changed. The tree calls it, bottom-up, on the nodes whose subtree
	 * changes, and stops going up where a summary stays the same. NULL:
	 * none. */
	bool (*augment)(struct avl_node *n);
};

/* Make t an empty tree. */
void avl_init(struct avl_tree *t);

/* Make t an empty tree whose nodes keep a summary of their subtree,
 * recomputed by augment. */
void avl_init_augmented(struct avl_tree *t, bool (*augment)(struct avl_node *n));

/* n's own part of its summary changed (not its key): recompute the
 * summaries from n up, as far as they change. */
void avl_augment_path(const struct avl_tree *t, struct avl_node *n);

/* Insert n, whose key is set. Returns 0, or -1 (t unchanged) if a node with
 * the same key is already in t. */
int avl_insert(struct avl_tree *t, struct avl_node *n);

/* Remove n, which must be in t. */
void avl_remove(struct avl_tree *t, struct avl_node *n);

/* Node with exactly key, or NULL. */
struct avl_node *avl_lookup(const struct avl_tree *t, uint32_t key);
/* Node with the greatest key <= key, or NULL. */
struct avl_node *avl_lookup_le(const struct avl_tree *t, uint32_t key);
/* Node with the smallest key >= key, or NULL. */
struct avl_node *avl_lookup_ge(const struct avl_tree *t, uint32_t key);

/* In-order traversal: first/last node, successor/predecessor (NULL at the
 * end). */
struct avl_node *avl_first(const struct avl_tree *t);
struct avl_node *avl_last(const struct avl_tree *t);
struct avl_node *avl_next(const struct avl_node *n);
struct avl_node *avl_prev(const struct avl_node *n);

/* Check every invariant: strict key order, balance factors equal to the
 * real height difference and within -1..1, parent links, count. Returns the
 * number of violations found; describes the first in why (if whylen > 0). */
int avl_check(const struct avl_tree *t, char *why, size_t whylen);

/* avl_check, and *bad set to the node of the first violation (NULL when
 * none, or when it concerns the whole tree). */
int avl_check_at(const struct avl_tree *t, char *why, size_t whylen, const struct avl_node **bad);

#define avl_entry(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
