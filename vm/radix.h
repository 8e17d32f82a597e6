/*
 * A sparse map from a 32-bit key (a virtual page number) to a non-NULL
 * pointer: a radix tree whose height grows with the largest key stored, so
 * that its memory grows with the number of entries, not with the key range.
 * Nodes come from VM's slab (slaballoc/slabfree).
 */
#ifndef VM_RADIX_H
#define VM_RADIX_H

#include <stddef.h>
#include <stdint.h>

#define RADIX_BITS 4
#define RADIX_FANOUT (1u << RADIX_BITS)

struct radix_node {
	uint32_t count; /* non-NULL slots */
	void *slot[RADIX_FANOUT];
};

struct radix {
	struct radix_node *root;
	uint32_t height; /* 0: empty; keys < RADIX_FANOUT^height */
	uint32_t count;  /* entries */
	/* The leaf last inserted into, holding keys hint_key .. hint_key +
	 * RADIX_FANOUT - 1 (NULL: none): runs of neighbouring keys (a fault
	 * after a fault, fork copying a region, exit freeing one) skip the
	 * walk from the root. Forgotten whenever a node is freed. */
	struct radix_node *hint;
	uint32_t hint_key;
};

/* Make r empty. */
void radix_init(struct radix *r);

/* Map key to val (non-NULL); key must not be mapped yet. Returns 0 or
 * ENOMEM (r unchanged). */
int radix_insert(struct radix *r, uint32_t key, void *val);

/* Value of key, or NULL. */
void *radix_lookup(const struct radix *r, uint32_t key);

/* Replace the value of key, which must be mapped; returns the old one. */
void *radix_replace(struct radix *r, uint32_t key, void *val);

/* Unmap key; returns its value or NULL if it was not mapped. Frees nodes
 * that become empty and shrinks the height when it can. */
void *radix_remove(struct radix *r, uint32_t key);

/* First entry with key >= *key: stores its key in *key and returns its
 * value, or returns NULL if there is none. */
void *radix_next(const struct radix *r, uint32_t *key);

/* Free every node (the values are the caller's); r becomes empty. */
void radix_done(struct radix *r);

/* Bytes of nodes r holds. */
size_t radix_bytes(const struct radix *r);

#endif
