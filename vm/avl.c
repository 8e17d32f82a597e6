/*
 * Intrusive AVL tree (see avl.h). Insert, remove and the lookups are
 * iterative; only avl_check recurses, and it bounds its depth.
 *
 * balance is height(right) - height(left). Rotations update the balance
 * factors with the general formulas, so they are right for any input
 * balances, not only for the cases a particular caller produces.
 *
 * Nodes live inside VM's slab objects, which are read-only outside USE in
 * the VM_SANITY build (sanity/lock.h): every write to a node is in USE.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../sanity/lock.h"
#include "avl.h"

/* An AVL tree of 2^32 nodes is less than 1.45 * 33 high; deeper means a broken tree. */
#define AVL_MAXDEPTH 64

void avl_init(struct avl_tree *t)
{
	t->root = NULL;
	t->count = 0;
	t->augment = NULL;
}

void avl_init_augmented(struct avl_tree *t, bool (*augment)(struct avl_node *n))
{
	avl_init(t);
	t->augment = augment;
}

void avl_augment_path(const struct avl_tree *t, struct avl_node *n)
{
	if (t->augment == NULL)
		return;
	/* Nothing else below changed: an unchanged summary leaves every
	 * one above it as it is. */
	for (; n != NULL; n = n->parent)
		if (!t->augment(n))
			break;
}

/* Recompute every summary from n to the root. */
static void augment_all(const struct avl_tree *t, struct avl_node *n)
{
	if (t->augment == NULL)
		return;
	for (; n != NULL; n = n->parent)
		t->augment(n);
}

/* A rotation moved x under z: their subtrees changed (z's now holds what
 * x's held, so nothing above them changes). */
static void augment_rotated(const struct avl_tree *t, struct avl_node *x, struct avl_node *z)
{
	if (t->augment) {
		t->augment(x);
		t->augment(z);
	}
}

static inline int max_int(int a, int b)
{
	return a > b ? a : b;
}

static inline int min_int(int a, int b)
{
	return a < b ? a : b;
}

/* Make whatever pointed to old (parent's child link or the root) point to new. */
static void replace_child(struct avl_tree *t, struct avl_node *parent, struct avl_node *old,
			  struct avl_node *new)
{
	if (parent == NULL)
		t->root = new;
	else if (parent->left == old)
		USE(parent, parent->left = new);
	else
		USE(parent, parent->right = new);
}

/* Rotate left around x (x->right rises); returns the new subtree root. */
static struct avl_node *rotate_left(struct avl_tree *t, struct avl_node *x)
{
	struct avl_node *z = x->right;
	struct avl_node *p = x->parent;
	struct avl_node *b = z->left; /* moves from z to x */
	int xb = x->balance, zb = z->balance;

	xb = xb - 1 - max_int(zb, 0);
	zb = zb - 1 + min_int(xb, 0);
	USE(x, x->right = b; x->parent = z; x->balance = (int8_t)xb);
	if (b != NULL)
		USE(b, b->parent = x);
	USE(z, z->left = x; z->parent = p; z->balance = (int8_t)zb);
	replace_child(t, p, x, z);
	augment_rotated(t, x, z);
	return z;
}

/* Rotate right around x (x->left rises); returns the new subtree root. */
static struct avl_node *rotate_right(struct avl_tree *t, struct avl_node *x)
{
	struct avl_node *z = x->left;
	struct avl_node *p = x->parent;
	struct avl_node *b = z->right; /* moves from z to x */
	int xb = x->balance, zb = z->balance;

	xb = xb + 1 - min_int(zb, 0);
	zb = zb + 1 + max_int(xb, 0);
	USE(x, x->left = b; x->parent = z; x->balance = (int8_t)xb);
	if (b != NULL)
		USE(b, b->parent = x);
	USE(z, z->right = x; z->parent = p; z->balance = (int8_t)zb);
	replace_child(t, p, x, z);
	augment_rotated(t, x, z);
	return z;
}

/* x has balance +2 or -2: rotate it back into shape; returns the new subtree root. */
static struct avl_node *rebalance(struct avl_tree *t, struct avl_node *x)
{
	if (x->balance > 0) {
		if (x->right->balance < 0)
			rotate_right(t, x->right);
		return rotate_left(t, x);
	}
	if (x->left->balance > 0)
		rotate_left(t, x->left);
	return rotate_right(t, x);
}

int avl_insert(struct avl_tree *t, struct avl_node *n)
{
	struct avl_node *parent = NULL, *child, *p;
	struct avl_node **link = &t->root;

	while (*link != NULL) {
		parent = *link;
		if (n->key < parent->key)
			link = &parent->left;
		else if (n->key > parent->key)
			link = &parent->right;
		else
			return -1;
	}
	USE(n, n->left = NULL; n->right = NULL; n->parent = parent; n->balance = 0);
	USE(link, *link = n); /* t->root, or a child link of parent */
	t->count++;
	/* Summaries first, for the tree as it is now: each rotation below
	 * then only recomputes the two nodes it moves. n's is new whatever
	 * it held; above it, as far as they change. */
	if (t->augment) {
		t->augment(n);
		avl_augment_path(t, parent);
	}

	/* Retrace: the subtree rooted at child grew by one level. */
	child = n;
	for (p = parent; p != NULL; p = child->parent) {
		if (child == p->left)
			USE(p, p->balance--);
		else
			USE(p, p->balance++);
		if (p->balance == 0)
			break;
		if (p->balance == 2 || p->balance == -2) {
			/* The rotation restores the height p had before the insert. */
			rebalance(t, p);
			break;
		}
		child = p;
	}
	return 0;
}

void avl_remove(struct avl_tree *t, struct avl_node *n)
{
	struct avl_node *p;     /* lowest node whose subtree may have shrunk... */
	bool left_side = false; /* ...on this side */
	bool moved = false;     /* n's successor took its place */

	if (n->left != NULL && n->right != NULL) {
		/* Relink the successor s (which has no left child) into n's place. */
		struct avl_node *s = n->right;

		while (s->left != NULL)
			s = s->left;
		if (s == n->right) {
			p = s;
			left_side = false;
		} else {
			p = s->parent;
			left_side = true;
			USE(p, p->left = s->right);
			if (s->right != NULL)
				USE(s->right, s->right->parent = p);
			USE(s, s->right = n->right);
			USE(n->right, n->right->parent = s);
		}
		moved = true;
		USE(s, s->left = n->left; s->parent = n->parent; s->balance = n->balance);
		USE(n->left, n->left->parent = s);
		replace_child(t, n->parent, n, s);
	} else {
		struct avl_node *child = n->left != NULL ? n->left : n->right;

		p = n->parent;
		if (child != NULL)
			USE(child, child->parent = p);
		if (p == NULL) {
			t->root = child;
		} else if (p->left == n) {
			USE(p, p->left = child);
			left_side = true;
		} else {
			USE(p, p->right = child);
			left_side = false;
		}
	}
	t->count--;
	USE(n, n->left = NULL; n->right = NULL; n->parent = NULL; n->balance = 0);
	/* p is the lowest node whose subtree lost something. Where n's
	 * successor moved up into n's place, its old summary is no guide to
	 * what the nodes above had from n: recompute the whole path. */
	if (moved)
		augment_all(t, p);
	else
		avl_augment_path(t, p);

	/* Retrace: p's subtree on left_side got one level lower. */
	while (p != NULL) {
		struct avl_node *q;

		if (left_side)
			USE(p, p->balance++);
		else
			USE(p, p->balance--);
		if (p->balance == 1 || p->balance == -1)
			break; /* p's height did not change */
		if (p->balance != 0) {
			p = rebalance(t, p);
			if (p->balance != 0)
				break; /* single rotation kept the height */
		}
		/* p's subtree is one level lower than before. */
		q = p->parent;
		if (q == NULL)
			break;
		left_side = q->left == p;
		p = q;
	}
}

struct avl_node *avl_lookup(const struct avl_tree *t, uint32_t key)
{
	struct avl_node *n = t->root;

	while (n != NULL) {
		if (key < n->key)
			n = n->left;
		else if (key > n->key)
			n = n->right;
		else
			return n;
	}
	return NULL;
}

struct avl_node *avl_lookup_le(const struct avl_tree *t, uint32_t key)
{
	struct avl_node *n = t->root, *best = NULL;

	while (n != NULL) {
		if (key < n->key) {
			n = n->left;
		} else if (key > n->key) {
			best = n;
			n = n->right;
		} else {
			return n;
		}
	}
	return best;
}

struct avl_node *avl_lookup_ge(const struct avl_tree *t, uint32_t key)
{
	struct avl_node *n = t->root, *best = NULL;

	while (n != NULL) {
		if (key < n->key) {
			best = n;
			n = n->left;
		} else if (key > n->key) {
			n = n->right;
		} else {
			return n;
		}
	}
	return best;
}

struct avl_node *avl_first(const struct avl_tree *t)
{
	struct avl_node *n = t->root;

	if (n == NULL)
		return NULL;
	while (n->left != NULL)
		n = n->left;
	return n;
}

struct avl_node *avl_last(const struct avl_tree *t)
{
	struct avl_node *n = t->root;

	if (n == NULL)
		return NULL;
	while (n->right != NULL)
		n = n->right;
	return n;
}

struct avl_node *avl_next(const struct avl_node *n)
{
	const struct avl_node *p;

	if (n->right != NULL) {
		n = n->right;
		while (n->left != NULL)
			n = n->left;
		return (struct avl_node *)n;
	}
	for (p = n->parent; p != NULL && n == p->right; p = p->parent)
		n = p;
	return (struct avl_node *)p;
}

struct avl_node *avl_prev(const struct avl_node *n)
{
	const struct avl_node *p;

	if (n->left != NULL) {
		n = n->left;
		while (n->right != NULL)
			n = n->right;
		return (struct avl_node *)n;
	}
	for (p = n->parent; p != NULL && n == p->left; p = p->parent)
		n = p;
	return (struct avl_node *)p;
}

/*
 * avl_check
 */

struct check {
	char *why;
	size_t whylen;
	size_t pos; /* characters written to why */
	int errors;
	size_t nodes;                /* nodes visited */
	size_t limit;                /* stop descending after this many nodes (cycles) */
	bool stopped;                /* the limit or the depth bound was hit */
	const struct avl_node *prev; /* in-order predecessor of the node being visited */
	const struct avl_node *bad;  /* the node of the first violation */
};

static void put_str(struct check *c, const char *s)
{
	if (c->whylen == 0)
		return;
	while (*s != '\0' && c->pos + 1 < c->whylen)
		c->why[c->pos++] = *s++;
	c->why[c->pos] = '\0';
}

static void put_hex(struct check *c, uint32_t v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[11];
	int i;

	buf[0] = '0';
	buf[1] = 'x';
	for (i = 0; i < 8; i++)
		buf[2 + i] = digits[(v >> (28 - 4 * i)) & 0xf];
	buf[10] = '\0';
	put_str(c, buf);
}

/* size_t division is native on both i386 and x86_64: no libgcc helper needed. */
static void put_udec(struct check *c, size_t v)
{
	char buf[24];
	int i = (int)sizeof(buf) - 1;

	buf[i] = '\0';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put_str(c, buf + i);
}

static void put_sdec(struct check *c, int v)
{
	if (v < 0) {
		put_str(c, "-");
		put_udec(c, (size_t)0 - (size_t)v);
	} else {
		put_udec(c, (size_t)v);
	}
}

/* Count a violation; returns true if it is the first (so the caller describes it). */
static bool violation(struct check *c, const struct avl_node *at, const char *what)
{
	if (c->errors++ != 0)
		return false;
	c->bad = at;
	c->pos = 0;
	put_str(c, what);
	return true;
}

/* Check the subtree at n (at depth, parent expected); returns its real height. */
static int check_node(struct check *c, const struct avl_node *n, const struct avl_node *parent,
		      int depth)
{
	int hl, hr, diff;

	if (n == NULL)
		return 0;
	if (depth > AVL_MAXDEPTH || c->nodes >= c->limit) {
		if (!c->stopped && violation(c, n, "too deep, or more nodes than count, at key "))
			put_hex(c, n->key);
		c->stopped = true;
		return 0;
	}
	c->nodes++;
	if (n->parent != parent && violation(c, n, "wrong parent link at key "))
		put_hex(c, n->key);

	hl = check_node(c, n->left, n, depth + 1);

	if (c->prev != NULL && c->prev->key >= n->key && violation(c, n, "key order: ")) {
		put_hex(c, c->prev->key);
		put_str(c, " before ");
		put_hex(c, n->key);
	}
	c->prev = n;

	hr = check_node(c, n->right, n, depth + 1);

	diff = hr - hl;
	if (n->balance != diff && violation(c, n, "balance factor ")) {
		put_sdec(c, n->balance);
		put_str(c, " but height difference ");
		put_sdec(c, diff);
		put_str(c, " at key ");
		put_hex(c, n->key);
	}
	if ((diff > 1 || diff < -1) && violation(c, n, "unbalanced: height difference ")) {
		put_sdec(c, diff);
		put_str(c, " at key ");
		put_hex(c, n->key);
	}
	return 1 + max_int(hl, hr);
}

int avl_check(const struct avl_tree *t, char *why, size_t whylen)
{
	return avl_check_at(t, why, whylen, NULL);
}

int avl_check_at(const struct avl_tree *t, char *why, size_t whylen, const struct avl_node **bad)
{
	struct check c;

	memset(&c, 0, sizeof(c));
	c.why = why;
	c.whylen = whylen;
	c.limit = t->count;
	if (whylen > 0)
		why[0] = '\0';

	if (t->root != NULL && t->root->parent != NULL &&
	    violation(&c, t->root, "root has a parent, key "))
		put_hex(&c, t->root->key);
	/* The root's parent was checked just above; pass what it has so it is not counted twice. */
	check_node(&c, t->root, t->root != NULL ? t->root->parent : NULL, 0);
	if (!c.stopped && c.nodes != t->count && violation(&c, NULL, "count ")) {
		put_udec(&c, t->count);
		put_str(&c, " but ");
		put_udec(&c, c.nodes);
		put_str(&c, " nodes");
	}
	if (c.errors == 0 && whylen > 0)
		why[0] = '\0';
	if (bad)
		*bad = c.errors ? c.bad : NULL;
	return c.errors;
}
