/*
 * Regions, the pages resident in them, and the frames behind those.
 *
 * A process's regions are an AVL tree keyed by start address. Its
 * resident pages are not stored per region but in one sparse map per
 * process (a radix tree keyed by virtual page number), so VM's memory grows
 * with resident pages, not with region sizes, and trimming or splitting a
 * region never moves or allocates page records: the pages of the part
 * that becomes a new region just get a new parent. (MINIX keeps an array
 * per region, which costs memory for every page of a large sparse region.)
 *
 * This file is generic: a region's behaviour comes from its mem type.
 */
#include <string.h>

#include "../sanity/report.h"
#include "alloc.h"
#include "glo.h"
#include "memtype.h"
#include "region.h"
#include "slab.h"
#include "util.h"

#define REGION(n) avl_entry((n), struct vir_region, node)

static void region_delete(struct vmproc *vmp, struct vir_region *r);
#define PAGES(len) ((len) >> VM_PAGE_SHIFT)

struct vir_region *map_lookup(struct vmproc *vmp, vir_bytes addr)
{
	struct avl_node *n = avl_lookup_le(&vmp->vm_regions_avl, addr);
	if (n == NULL)
		return NULL;
	struct vir_region *r = REGION(n);
	return addr - r->vaddr < r->length ? r : NULL;
}

struct vir_region *map_lookup_above(struct vmproc *vmp, vir_bytes addr)
{
	struct vir_region *r = map_lookup(vmp, addr);
	if (r)
		return r;
	struct avl_node *n = avl_lookup_ge(&vmp->vm_regions_avl, addr);
	return n ? REGION(n) : NULL;
}

bool map_range_free(struct vmproc *vmp, vir_bytes v, vir_bytes len)
{
	if (len == 0 || v < vm_kinfo.user_lo || v > vm_kinfo.user_hi || len > vm_kinfo.user_hi - v)
		return false;
	struct vir_region *r = map_lookup_above(vmp, v);
	return r == NULL || r->vaddr >= v + len;
}

/* The largest gap of r's subtree: its own, or one of its children's. */
static vir_bytes subtree_gap(const struct vir_region *r)
{
	const struct avl_node *l = r->node.left, *g = r->node.right;
	vir_bytes gap = r->gap_before;

	if (l && REGION(l)->sub_gap > gap)
		gap = REGION(l)->sub_gap;
	if (g && REGION(g)->sub_gap > gap)
		gap = REGION(g)->sub_gap;
	return gap;
}

static bool region_augment(struct avl_node *n)
{
	struct vir_region *r = REGION(n);
	vir_bytes gap = subtree_gap(r);

	if (gap == r->sub_gap)
		return false;
	USE(r, r->sub_gap = gap);
	return true;
}

void map_init_tree(struct vmproc *vmp)
{
	avl_init_augmented(&vmp->vm_regions_avl, region_augment);
}

static vir_bytes region_end(const struct avl_node *n)
{
	return n ? REGION(n)->vaddr + REGION(n)->length : 0;
}

/* The free bytes between prev's end and r, which follows it; 0 for the
 * lowest region (the range below it is searched apart, last). */
static vir_bytes gap_after(const struct avl_node *prev, const struct vir_region *r)
{
	return prev ? r->vaddr - region_end(prev) : 0;
}

/* r now follows prev: record its gap, and the subtree gaps above it as
 * far as they change. */
static void set_gap(struct vmproc *vmp, struct vir_region *r, const struct avl_node *prev)
{
	vir_bytes gap = gap_after(prev, r);

	if (r->gap_before == gap)
		return;
	USE(r, r->gap_before = gap);
	avl_augment_path(&vmp->vm_regions_avl, &r->node);
}

/* Put r (vaddr and length set) into vmp's tree; -1 if its key is taken. */
static int region_link(struct vmproc *vmp, struct vir_region *r)
{
	vir_bytes gap = gap_after(avl_lookup_le(&vmp->vm_regions_avl, r->vaddr), r);

	USE(r, r->gap_before = gap; r->sub_gap = gap);
	if (avl_insert(&vmp->vm_regions_avl, &r->node) != 0)
		return -1;
	struct avl_node *next = avl_next(&r->node);
	if (next)
		set_gap(vmp, REGION(next), &r->node);
	return 0;
}

/* Take r out of vmp's tree: the region after it now follows the one
 * before it. */
static void region_unlink(struct vmproc *vmp, struct vir_region *r)
{
	struct avl_node *prev = avl_prev(&r->node), *next = avl_next(&r->node);

	avl_remove(&vmp->vm_regions_avl, &r->node);
	if (next)
		set_gap(vmp, REGION(next), prev);
}

/* r's length changed: the gap before the region after it. */
static void region_resized(struct vmproc *vmp, struct vir_region *r)
{
	struct avl_node *next = avl_next(&r->node);

	if (next)
		set_gap(vmp, REGION(next), &r->node);
}

struct find_free {
	vir_bytes minv, maxv, len;
};

/* Highest start of a free range of f->len bytes inside [lo, hi) and
 * [minv, maxv), or 0. */
static vir_bytes fit(const struct find_free *f, vir_bytes lo, vir_bytes hi)
{
	if (lo < f->minv)
		lo = f->minv;
	if (hi > f->maxv)
		hi = f->maxv;
	return hi > lo && hi - lo >= f->len ? hi - f->len : 0;
}

/*
 * The highest fit among the gaps before the regions of n's subtree:
 * those of its right subtree are higher than n's own, which is higher
 * than its left subtree's. A subtree whose largest gap is too small, or
 * whose gaps all lie outside [minv, maxv), is skipped whole; the
 * recursion is as deep as the tree (AVL: < 1.45 log2 n).
 */
static vir_bytes find_free_in(const struct find_free *f, const struct avl_node *n)
{
	if (n == NULL)
		return 0;
	const struct vir_region *r = REGION(n);
	vir_bytes v, prev_end = r->vaddr - r->gap_before;
	if (r->sub_gap < f->len)
		return 0;
	if (r->vaddr + r->length < f->maxv && (v = find_free_in(f, n->right)) != 0)
		return v;
	if ((v = fit(f, prev_end, r->vaddr)) != 0)
		return v;
	return prev_end > f->minv ? find_free_in(f, n->left) : 0;
}

vir_bytes map_find_free(struct vmproc *vmp, vir_bytes minv, vir_bytes maxv, vir_bytes len)
{
	struct find_free f = { minv, maxv, len };

	if (len == 0 || maxv < minv || maxv - minv < len)
		return 0;
	/* Above the last region first, then the gaps between regions, then
	 * below the first. */
	const struct avl_tree *t = &vmp->vm_regions_avl;
	vir_bytes v = fit(&f, region_end(avl_last(t)), maxv);
	if (v == 0)
		v = find_free_in(&f, t->root);
	if (v == 0 && t->root)
		v = fit(&f, 0, REGION(avl_first(t))->vaddr);
	return v;
}

struct phys_region *map_phys_at(struct vmproc *vmp, vir_bytes v)
{
	return radix_lookup(&vmp->vm_pages, v >> VM_PAGE_SHIFT);
}

struct phys_block *pb_new(phys_bytes phys)
{
	struct phys_block *pb;

	if (SLABALLOC(pb) == NULL)
		return NULL;
	USE(pb, pb->phys = phys);
	return pb;
}

/*
 * Per-process counts of pages shared with other mappings, kept as blocks
 * gain and lose mappings (the cache's references do not count), so that
 * usage is served without walking pages: a page counts while its block
 * has two mappings or more, as shared memory when its region is shared,
 * else as copy-on-write.
 */
static void count_page(const struct phys_region *pr, int delta)
{
	struct vmproc *vmp = pr->parent->parent;

	if (pr->parent->flags & VR_SHARED)
		vmp->vm_shared += (uint32_t)delta;
	else
		vmp->vm_cow += (uint32_t)delta;
}

static uint32_t mappings(const struct phys_block *pb)
{
	return pb->refcount - pb->cacheref;
}

/* A page's share of its process's proportional set, in 1/1024 pages,
 * when its frame has n mappings. */
static uint32_t pss_share(uint32_t n)
{
	return 1024 / n;
}

/* pr was just put at the head of its block's list. Every other mapping's
 * share shrinks from 1/(n-1) to 1/n. */
static void count_added(struct phys_region *pr)
{
	uint32_t n = mappings(pr->ph);

	if (n == 2)
		count_page(pr->next_ph_list ? pr->next_ph_list : pr, +1);
	if (n >= 2)
		count_page(pr, +1);
	pr->parent->parent->vm_pss_1k += pss_share(n);
	for (struct phys_region *q = pr->next_ph_list; q; q = q->next_ph_list)
		q->parent->parent->vm_pss_1k -= pss_share(n - 1) - pss_share(n);
}

/* pr is about to leave its block's list: the others' shares grow. */
static void count_removed(struct phys_region *pr)
{
	struct phys_block *pb = pr->ph;
	uint32_t n = mappings(pb);

	if (n >= 2)
		count_page(pr, -1);
	if (n == 2)
		count_page(pb->firstregion != pr ? pb->firstregion : pr->next_ph_list, -1);
	pr->parent->parent->vm_pss_1k -= pss_share(n);
	for (struct phys_region *q = pb->firstregion; q; q = q->next_ph_list)
		if (q != pr)
			q->parent->parent->vm_pss_1k += pss_share(n - 1) - pss_share(n);
}

/* pb has no references left: free it, and its frame unless device memory. */
static void pb_free(struct phys_block *pb)
{
	if (!(pb->flags & PBF_DEVICE))
		free_mem(pb->phys, 1);
	SLABFREE(pb);
}

struct phys_region *pb_reference(struct phys_block *pb, struct vir_region *r, vir_bytes v)
{
	struct phys_region *pr;

	if (pb->refcount == UINT32_MAX)
		return NULL;
	if (SLABALLOC(pr) == NULL)
		return NULL;
	if (radix_insert(&r->parent->vm_pages, v >> VM_PAGE_SHIFT, pr) != VM_OK) {
		SLABFREE(pr);
		return NULL;
	}
	USE(pr, pr->ph = pb; pr->parent = r; pr->vaddr = v; pr->next_ph_list = pb->firstregion);
	USE(pb, pb->firstregion = pr; pb->refcount++);
	USE(r, r->resident++);
	count_added(pr);
	return pr;
}

void pb_unreference(struct phys_region *pr)
{
	struct vir_region *r = pr->parent;
	struct vmproc *vmp = r->parent;
	struct phys_block *pb = pr->ph;
	struct phys_region **pp;

	count_removed(pr);
	if (radix_remove(&vmp->vm_pages, pr->vaddr >> VM_PAGE_SHIFT) != pr)
		panic("%s: page 0x%x of %s is not in its page map", __func__, pr->vaddr,
		      vmp->vm_name);
	if (!(vmp->vm_flags & VMF_EXITING))
		pt_writemap(&vmp->vm_pt, pr->vaddr, 0, VM_PAGE_SIZE, 0, WMF_OVERWRITE);
	for (pp = &pb->firstregion; *pp != pr; pp = &(*pp)->next_ph_list)
		if (*pp == NULL)
			panic("%s: page 0x%x of %s is not on block 0x%x's list", __func__,
			      pr->vaddr, vmp->vm_name, pb->phys);
	USE(pb, USE(pp, *pp = pr->next_ph_list); pb->refcount--);
	USE(r, r->resident--);
	SLABFREE(pr);
	if (pb->refcount == 0)
		pb_free(pb);
}

void pb_take_cacheref(struct phys_block *pb)
{
	if (pb->refcount == UINT32_MAX)
		panic("%s: block 0x%x: refcount would overflow", __func__, pb->phys);
	USE(pb, pb->refcount++; pb->cacheref++);
}

uint32_t pb_drop_cacheref(struct phys_block *pb)
{
	if (pb->cacheref == 0 || pb->refcount < pb->cacheref)
		panic("%s: block 0x%x: refcount %u, cache references %u", __func__, pb->phys,
		      pb->refcount, pb->cacheref);
	uint32_t left;
	USE(pb, pb->cacheref--; left = --pb->refcount);
	if (left > 0)
		return 0;
	bool frame = !(pb->flags & PBF_DEVICE);
	pb_free(pb);
	return frame ? 1 : 0;
}

void pb_move(struct phys_region *pr, struct phys_block *pb)
{
	struct phys_block *old = pr->ph;
	struct phys_region **pp;

	if (pb->refcount == UINT32_MAX)
		panic("%s: block 0x%x: refcount would overflow", __func__, pb->phys);
	count_removed(pr);
	for (pp = &old->firstregion; *pp != pr; pp = &(*pp)->next_ph_list)
		if (*pp == NULL)
			panic("%s: page 0x%x is not on block 0x%x's list", __func__, pr->vaddr,
			      old->phys);
	USE(pp, *pp = pr->next_ph_list);
	USE(pr, pr->ph = pb; pr->next_ph_list = pb->firstregion);
	USE(pb, pb->firstregion = pr; pb->refcount++);
	count_added(pr);
	uint32_t left;
	USE(old, left = --old->refcount);
	if (left == 0)
		pb_free(old);
}

int map_ph_writept(struct vmproc *vmp, struct phys_region *pr)
{
	struct vir_region *r = pr->parent;
	uint32_t flags = I386_VM_PRESENT | I386_VM_USER;

	if (!(r->flags & VR_READABLE))
		return VM_OK; /* PROT_NONE: every access faults */
	if ((r->flags & VR_WRITABLE) && r->memtype->writable(pr))
		flags |= I386_VM_WRITE;
	return pt_writemap(&vmp->vm_pt, pr->vaddr, pr->ph->phys, VM_PAGE_SIZE, flags,
			   WMF_OVERWRITE);
}

void map_unreference_range(struct vmproc *vmp, vir_bytes v, vir_bytes end)
{
	uint32_t key = v >> VM_PAGE_SHIFT;
	uint32_t last = (end - 1) >> VM_PAGE_SHIFT;
	struct phys_region *pr;

	if (end <= v)
		return;
	while ((pr = radix_next(&vmp->vm_pages, &key)) != NULL && key <= last) {
		pb_unreference(pr);
		key++;
	}
}

struct vir_region *map_page_region(struct vmproc *vmp, vir_bytes v, vir_bytes len, uint32_t flags,
				   const struct mem_type *memtype, phys_bytes phys)
{
	struct vir_region *r;
	struct pt_snapshot snap;

	if (SLABALLOC(r) == NULL)
		return NULL;
	USE(r, r->vaddr = v; r->length = len; r->parent = vmp; r->memtype = memtype;
	    r->flags = flags; r->phys = phys; r->grp_next = r->grp_prev = r; r->node.key = v);
	if (region_link(vmp, r) != 0)
		panic("%s: %s already has a region at 0x%x", __func__, vmp->vm_name, v);
	vmp->vm_virtual += PAGES(len);
	pt_snapshot(&vmp->vm_pt, v, len, &snap);
	if (memtype->ev_new && memtype->ev_new(r) != VM_OK) {
		map_unreference_range(vmp, r->vaddr, r->vaddr + r->length);
		pt_free_new_empty(&vmp->vm_pt, &snap, v, len);
		region_unlink(vmp, r);
		vmp->vm_virtual -= PAGES(len);
		SLABFREE(r);
		return NULL;
	}
	return r;
}

struct vir_region *map_region_clone(struct vmproc *dst, const struct vir_region *src)
{
	struct vir_region *r;

	if (SLABALLOC(r) == NULL)
		return NULL;
	USE(r, r->vaddr = src->vaddr; r->length = src->length; r->parent = dst;
	    r->memtype = src->memtype; r->flags = src->flags; r->phys = src->phys;
	    r->grp_next = r->grp_prev = r; r->grp_off = src->grp_off; r->grant = src->grant;
	    r->node.key = src->vaddr);
	if (region_link(dst, r) != 0)
		panic("%s: %s already has a region at 0x%x", __func__, dst->vm_name, src->vaddr);
	dst->vm_virtual += PAGES(r->length);
	return r;
}

int map_copy_refs(struct vir_region *src, struct vir_region *dst)
{
	return map_copy_refs_at(src, dst, dst->vaddr);
}

int map_copy_refs_at(struct vir_region *src, struct vir_region *dst, vir_bytes at)
{
	struct vmproc *svmp = src->parent, *dvmp = dst->parent;
	uint32_t key = src->vaddr >> VM_PAGE_SHIFT;
	uint32_t last = (src->vaddr + src->length - 1) >> VM_PAGE_SHIFT;
	struct phys_region *pr;
	uint32_t table = UINT32_MAX; /* the PDE whose table is known there */

	while ((pr = radix_next(&svmp->vm_pages, &key)) != NULL && key <= last) {
		vir_bytes v = at + (pr->vaddr - src->vaddr);
		/* Page tables only where pages are: a big sparse region must
		 * not cost a table per 4 MB of it. */
		if (I386_VM_PDE(v) != table) {
			if (pt_ptalloc_in_range(&dvmp->vm_pt, v, VM_PAGE_SIZE) != VM_OK)
				return ENOMEM;
			table = I386_VM_PDE(v);
		}
		struct phys_region *npr = pb_reference(pr->ph, dst, v);
		if (npr == NULL)
			return ENOMEM;
		/* The source may lose write access (copy-on-write). */
		if (map_ph_writept(svmp, pr) != VM_OK || map_ph_writept(dvmp, npr) != VM_OK)
			panic("%s: page tables vanished", __func__);
		key++;
	}
	return VM_OK;
}

void map_delete_region(struct vmproc *vmp, struct vir_region *r)
{
	region_delete(vmp, r);
}

/* Put r into the group of `after`, just after it. */
static void group_insert(struct vir_region *r, struct vir_region *after)
{
	USE(r, r->grp_prev = after; r->grp_next = after->grp_next);
	/* after->grp_next is after itself when after is alone. */
	USE(after, USE(after->grp_next, after->grp_next->grp_prev = r); after->grp_next = r);
}

static void group_leave(struct vir_region *r)
{
	/* Nested: when r is alone, its neighbours are r itself. */
	USE(r, USE(r->grp_prev, r->grp_prev->grp_next = r->grp_next);
	    USE(r->grp_next, r->grp_next->grp_prev = r->grp_prev); r->grp_next = r->grp_prev = r);
}

void map_group_join(struct vir_region *dst, struct vir_region *src)
{
	USE(dst, dst->grp_off = src->grp_off);
	group_insert(dst, src);
}

vir_bytes map_group_addr(const struct vir_region *m, const struct vir_region *r, vir_bytes v)
{
	vir_bytes off = r->grp_off + (v - r->vaddr);

	if (off < m->grp_off || off - m->grp_off >= m->length)
		return 0;
	return m->vaddr + (off - m->grp_off);
}

static void region_delete(struct vmproc *vmp, struct vir_region *r)
{
	map_unreference_range(vmp, r->vaddr, r->vaddr + r->length);
	if (r->resident != 0)
		panic("%s: region 0x%x of %s still has %u pages", __func__, r->vaddr, vmp->vm_name,
		      r->resident);
	if (r->memtype->ev_delete)
		r->memtype->ev_delete(r);
	group_leave(r);
	region_unlink(vmp, r);
	vmp->vm_virtual -= PAGES(r->length);
	SLABFREE(r);
}

/* r keeps [newstart, end). */
static void region_trim_head(struct vmproc *vmp, struct vir_region *r, vir_bytes newstart)
{
	map_unreference_range(vmp, r->vaddr, newstart);
	region_unlink(vmp, r);
	vmp->vm_virtual -= PAGES(newstart - r->vaddr);
	USE(r, r->grp_off += newstart - r->vaddr; r->length -= newstart - r->vaddr;
	    r->vaddr = newstart; r->node.key = newstart);
	if (region_link(vmp, r) != 0)
		panic("%s: key 0x%x taken in %s", __func__, newstart, vmp->vm_name);
}

/* r keeps [start, newend). */
static void region_trim_tail(struct vmproc *vmp, struct vir_region *r, vir_bytes newend)
{
	map_unreference_range(vmp, newend, r->vaddr + r->length);
	vmp->vm_virtual -= PAGES(r->vaddr + r->length - newend);
	USE(r, r->length = newend - r->vaddr);
	region_resized(vmp, r);
}

/* r loses [hole, hole_end) from its middle; r2 becomes [hole_end, end). */
static void region_split(struct vmproc *vmp, struct vir_region *r, vir_bytes hole,
			 vir_bytes hole_end, struct vir_region *r2)
{
	vir_bytes end = r->vaddr + r->length;
	struct phys_region *pr;

	map_unreference_range(vmp, hole, hole_end);
	USE(r2, *r2 = *r; memset(&r2->node, 0, sizeof(r2->node)); r2->vaddr = hole_end;
	    r2->length = end - hole_end; r2->node.key = hole_end; r2->resident = 0;
	    r2->grp_off = r->grp_off + (hole_end - r->vaddr));
	/* Only shared memory is shared lazily: a private region's parts stay
	 * alone, or a later share of one part would reach the other. */
	if (r->flags & VR_SHARED)
		group_insert(r2, r);
	else
		USE(r2, r2->grp_next = r2->grp_prev = r2);
	uint32_t key = hole_end >> VM_PAGE_SHIFT, moved = 0;
	while ((pr = radix_next(&vmp->vm_pages, &key)) != NULL &&
	       key <= (end - 1) >> VM_PAGE_SHIFT) {
		USE(pr, pr->parent = r2);
		moved++;
		key++;
	}
	USE(r, r->resident -= moved; r->length = hole - r->vaddr);
	region_resized(vmp, r);
	USE(r2, r2->resident += moved);
	vmp->vm_virtual -= PAGES(hole_end - hole);
	if (region_link(vmp, r2) != 0)
		panic("%s: key 0x%x taken in %s", __func__, hole_end, vmp->vm_name);
	if (r->memtype->ev_split)
		r->memtype->ev_split(vmp, r, r2);
}

int map_unmap_range(struct vmproc *vmp, vir_bytes start, vir_bytes len)
{
	vir_bytes end = start + len;
	struct vir_region *r = map_lookup_above(vmp, start);
	struct vir_region *spare = NULL;

	/* Only a range strictly inside one region needs a new region (the
	 * upper part of a split); get it first so that failure changes
	 * nothing. */
	if (r && r->vaddr < start && end < r->vaddr + r->length && SLABALLOC(spare) == NULL)
		return ENOMEM;
	while (r && r->vaddr < end) {
		struct avl_node *next = avl_next(&r->node);
		vir_bytes rend = r->vaddr + r->length;
		if (start <= r->vaddr && end >= rend)
			region_delete(vmp, r);
		else if (start <= r->vaddr)
			region_trim_head(vmp, r, end);
		else if (end >= rend)
			region_trim_tail(vmp, r, start);
		else {
			region_split(vmp, r, start, end, spare);
			spare = NULL;
			break;
		}
		r = next ? REGION(next) : NULL;
	}
	if (spare)
		SLABFREE(spare);
	return VM_OK;
}

int map_isolate(struct vmproc *vmp, vir_bytes start, vir_bytes len)
{
	vir_bytes end = start + len;
	struct vir_region *lo = map_lookup(vmp, start), *hi = map_lookup(vmp, end - 1);
	struct vir_region *spare_lo = NULL, *spare_hi = NULL;

	bool split_lo = lo && start > lo->vaddr, split_hi = hi && end < hi->vaddr + hi->length;
	if ((split_lo && SLABALLOC(spare_lo) == NULL) ||
	    (split_hi && SLABALLOC(spare_hi) == NULL)) {
		if (spare_lo)
			SLABFREE(spare_lo);
		return ENOMEM;
	}
	if (split_lo) {
		region_split(vmp, lo, start, start, spare_lo);
		if (hi == lo)
			hi = spare_lo; /* the upper part now holds end */
	}
	if (split_hi)
		region_split(vmp, hi, end, end, spare_hi);
	return VM_OK;
}

/*
 * r (in a group) has just grown over [from, to): the pages other members
 * have at those offsets of the shared memory become r's too, so the grown
 * part shows what the group holds there. VM_OK or ENOMEM (the caller
 * undoes the growth).
 */
static int group_fill(struct vir_region *r, vir_bytes from, vir_bytes to)
{
	for (struct vir_region *m = r->grp_next; m != r; m = m->grp_next) {
		struct vmproc *mvmp = m->parent;
		if (!(m->flags & VR_SHARED) || !(r->flags & VR_SHARED))
			continue; /* groups hold shared regions only */
		uint32_t key = m->vaddr >> VM_PAGE_SHIFT;
		uint32_t last = (m->vaddr + m->length - 1) >> VM_PAGE_SHIFT;
		struct phys_region *pr;
		while ((pr = radix_next(&mvmp->vm_pages, &key)) != NULL && key <= last) {
			vir_bytes v = map_group_addr(r, m, pr->vaddr);
			key++;
			if (v < from || v >= to || map_phys_at(r->parent, v))
				continue;
			struct phys_region *npr = NULL;
			if (pt_ptalloc_in_range(&r->parent->vm_pt, v, VM_PAGE_SIZE) != VM_OK ||
			    (npr = pb_reference(pr->ph, r, v)) == NULL)
				return ENOMEM;
			if (map_ph_writept(r->parent, npr) != VM_OK)
				panic("%s: page table for 0x%x vanished", __func__, v);
		}
	}
	return VM_OK;
}

int map_region_extend(struct vmproc *vmp, struct vir_region *r, vir_bytes newlen)
{
	vir_bytes old_end = r->vaddr + r->length;

	if (r->memtype->ev_resize) {
		int res = r->memtype->ev_resize(vmp, r, newlen);
		if (res != VM_OK)
			return res;
	}
	vmp->vm_virtual += PAGES(newlen - r->length);
	USE(r, r->length = newlen);
	region_resized(vmp, r);
	if (r->grp_next != r && group_fill(r, old_end, r->vaddr + newlen) != VM_OK) {
		map_unreference_range(vmp, old_end, r->vaddr + newlen);
		vmp->vm_virtual -= PAGES(r->vaddr + newlen - old_end);
		USE(r, r->length = old_end - r->vaddr);
		region_resized(vmp, r);
		return ENOMEM;
	}
	return VM_OK;
}

void map_free_proc(struct vmproc *vmp)
{
	struct avl_node *n;

	while ((n = avl_first(&vmp->vm_regions_avl)) != NULL)
		region_delete(vmp, REGION(n));
	radix_done(&vmp->vm_pages);
}

void map_exit_proc(struct vmproc *vmp)
{
	vmp->vm_flags |= VMF_EXITING;
	map_free_proc(vmp);
	pt_free(&vmp->vm_pt);
	vmp->vm_flags &= ~VMF_EXITING;
}

enum pf_result mt_pagefault_resident(struct vmproc *vmp, struct vir_region *r,
				     struct phys_region *pr, vir_bytes v, bool write)
{
	(void)r;
	(void)v;
	(void)write;
	if (pr == NULL)
		return PF_SEGV;
	if (map_ph_writept(vmp, pr) != VM_OK)
		return PF_NOMEM;
	vm_stats.pf_shared++;
	return PF_RESOLVED;
}

bool mt_writable_always(const struct phys_region *pr)
{
	(void)pr;
	return true;
}

enum pf_result map_pf(struct vmproc *vmp, struct vir_region *r, vir_bytes addr, bool write)
{
	vir_bytes v = rounddown_page(addr);

	if (!(r->flags & VR_READABLE) || (write && !(r->flags & VR_WRITABLE)))
		return PF_SEGV;
	enum pf_result res = r->memtype->ev_pagefault(vmp, r, map_phys_at(vmp, v), v, write);
	if (res == PF_RESOLVED)
		vmp->vm_minflt++;
	return res;
}

int map_handle_memory(struct vmproc *vmp, struct vir_region *r, vir_bytes v, vir_bytes len,
		      bool write)
{
	for (vir_bytes off = 0; off < len; off += VM_PAGE_SIZE) {
		struct phys_region *pr = map_phys_at(vmp, v + off);
		if (pr && (!write || r->memtype->writable(pr)))
			continue;
		if (r->memtype->ev_pagefault(vmp, r, pr, v + off, write) != PF_RESOLVED)
			return ENOMEM;
	}
	return VM_OK;
}

struct vir_region *map_region_at(struct vmproc *vmp, uint32_t i)
{
	struct avl_node *n = avl_first(&vmp->vm_regions_avl);

	while (n && i-- > 0)
		n = avl_next(n);
	return n ? REGION(n) : NULL;
}

void map_count_shared(struct vmproc *vmp, vir_bytes v, vir_bytes end, uint32_t *shared,
		      uint32_t *cow)
{
	uint32_t key = v >> VM_PAGE_SHIFT, last = (end - 1) >> VM_PAGE_SHIFT;
	struct phys_region *pr;

	*shared = *cow = 0;
	while (end > v && (pr = radix_next(&vmp->vm_pages, &key)) != NULL && key <= last) {
		if (mappings(pr->ph) > 1) {
			if (pr->parent->flags & VR_SHARED)
				(*shared)++;
			else
				(*cow)++;
		}
		key++;
	}
}

struct pte_check {
	struct vmproc *vmp;
	uint32_t findings;
};

static void check_pte(vir_bytes v, uint32_t pte, void *arg)
{
	struct pte_check *c = arg;
	struct phys_region *pr = map_phys_at(c->vmp, v);

	if (!(pte & I386_VM_USER)) {
		sanity_report(SK_PTE, pte & I386_VM_ADDR_MASK,
			      "%s: PTE for 0x%08x (0x%08x) is not a user page", c->vmp->vm_name, v,
			      pte);
		c->findings++;
	}
	if (pr == NULL) {
		sanity_report(SK_PTE, pte & I386_VM_ADDR_MASK,
			      "%s: PTE maps 0x%08x -> 0x%08x but VM has no page there",
			      c->vmp->vm_name, v, pte & I386_VM_ADDR_MASK);
		c->findings++;
	}
}

uint32_t map_sanitycheck(struct vmproc *vmp, void (*claim)(const struct phys_block *pb, void *arg),
			 void *arg)
{
	const char *who = vmp->vm_name;
	uint32_t findings = 0, virt = 0, resident = 0;
	char why[128];
	vir_bytes prev_end = 0;

	const struct avl_node *bad;
	if (avl_check_at(&vmp->vm_regions_avl, why, sizeof(why), &bad) != 0) {
		/* Name the region's slab page and where it was allocated. */
		phys_bytes page = SANITY_NO_FRAME;
		const char *type;
		const struct site_pair *sp = NULL;
		if (bad == NULL || !slab_object_info(REGION(bad), &page, &type, &sp))
			page = SANITY_NO_FRAME;
		sanity_report_sites(SK_AVL, page, sp ? &sp->alloc : NULL, NULL,
				    "%s: region tree: %s", who, why);
		/* Walking a broken tree is not safe, but the page map is
		 * intact: claim the frames so they are not reported as leaks. */
		uint32_t key = 0;
		struct phys_region *pr;
		while (claim && (pr = radix_next(&vmp->vm_pages, &key)) != NULL) {
			if (pr->ph->firstregion == pr)
				claim(pr->ph, arg);
			key++;
		}
		return 1;
	}
	const struct avl_node *lowest = avl_first(&vmp->vm_regions_avl);
	for (struct avl_node *n = avl_first(&vmp->vm_regions_avl); n; n = avl_next(n)) {
		struct vir_region *r = REGION(n);
		if (r->node.key != r->vaddr || r->parent != vmp || r->length == 0 ||
		    ((r->vaddr | r->length) & VM_PAGE_MASK) || r->vaddr < vm_kinfo.user_lo ||
		    r->length > vm_kinfo.user_hi - r->vaddr) {
			sanity_report(SK_REGION, SANITY_NO_FRAME,
				      "%s: region 0x%x+0x%x (key 0x%x) is malformed or "
				      "outside user space",
				      who, r->vaddr, r->length, r->node.key);
			findings++;
		}
		if (r->vaddr < prev_end) {
			sanity_report(SK_REGION, SANITY_NO_FRAME,
				      "%s: region 0x%x+0x%x overlaps the one before "
				      "(ending 0x%x)",
				      who, r->vaddr, r->length, prev_end);
			findings++;
		}
		vir_bytes gap = n == lowest ? 0 : r->vaddr - prev_end;
		if (r->gap_before != gap || r->sub_gap != subtree_gap(r)) {
			sanity_report(SK_AVL, SANITY_NO_FRAME,
				      "%s: region 0x%x+0x%x: free-range summary gap 0x%x, largest "
				      "0x%x; the tree has 0x%x, 0x%x",
				      who, r->vaddr, r->length, r->gap_before, r->sub_gap, gap,
				      subtree_gap(r));
			findings++;
		}
		prev_end = r->vaddr + r->length;
		virt += PAGES(r->length);
		resident += r->resident;
	}
	if (virt != vmp->vm_virtual || resident != vmp->vm_pages.count) {
		sanity_report(SK_COUNTER, SANITY_NO_FRAME,
			      "%s: %u virtual / %u resident pages recorded, regions have "
			      "%u / %u",
			      who, vmp->vm_virtual, vmp->vm_pages.count, virt, resident);
		findings++;
	}

	uint32_t key = 0;
	struct phys_region *pr;
	while ((pr = radix_next(&vmp->vm_pages, &key)) != NULL) {
		vir_bytes v = key << VM_PAGE_SHIFT;
		struct vir_region *r = map_lookup(vmp, v);
		struct phys_block *pb = pr->ph;
		if (pr->vaddr != v || r == NULL || pr->parent != r) {
			sanity_report(SK_REGION, pb->phys,
				      "%s: page 0x%08x: record says 0x%08x, region %p, "
				      "found region %p",
				      who, v, pr->vaddr, (void *)pr->parent, (void *)r);
			findings++;
			key++;
			continue;
		}
		uint32_t refs = 0;
		bool listed = false;
		for (struct phys_region *q = pb->firstregion; q && refs <= pb->refcount;
		     q = q->next_ph_list) {
			refs++;
			listed |= q == pr;
			if ((q->parent->flags & VR_SHARED) != (r->flags & VR_SHARED)) {
				sanity_report(SK_SHARING, pb->phys,
					      "%s: page 0x%08x: block 0x%x is in a shared and a "
					      "private region (%s at 0x%x)",
					      who, v, pb->phys, q->parent->parent->vm_name,
					      q->vaddr);
				findings++;
			}
			if (q->ph != pb) {
				sanity_report(SK_REFCOUNT, pb->phys,
					      "%s: block 0x%x lists a page of block 0x%x", who,
					      pb->phys, q->ph ? q->ph->phys : 0);
				findings++;
			}
		}
		if (!listed || refs + pb->cacheref != pb->refcount) {
			sanity_report(SK_REFCOUNT, pb->phys,
				      "%s: page 0x%08x: block 0x%x has refcount %u, %u "
				      "references and %u from the cache%s",
				      who, v, pb->phys, pb->refcount, refs, pb->cacheref,
				      listed ? "" : ", and not this page");
			findings++;
		}
		if (pb->firstregion == pr && claim)
			claim(pb, arg);
		uint32_t pte = pt_lookup(&vmp->vm_pt, v);
		if (r->flags & VR_READABLE) {
			bool may_write = (r->flags & VR_WRITABLE) && r->memtype->writable(pr);
			if (!(pte & I386_VM_PRESENT) || (pte & I386_VM_ADDR_MASK) != pb->phys ||
			    ((pte & I386_VM_WRITE) && !may_write)) {
				sanity_report(SK_PTE, pb->phys,
					      "%s: page 0x%08x: PTE 0x%08x, VM has frame 0x%x "
					      "(%s)",
					      who, v, pte, pb->phys,
					      may_write ? "writable" : "read-only");
				findings++;
			}
		} else if (pte & I386_VM_PRESENT) {
			sanity_report(SK_PTE, pte & I386_VM_ADDR_MASK,
				      "%s: page 0x%08x of a PROT_NONE region is mapped "
				      "(PTE 0x%08x)",
				      who, v, pte);
			findings++;
		}
		if (r->grp_next != r && !(r->flags & VR_SHARED)) {
			sanity_report(SK_SHARING, SANITY_NO_FRAME,
				      "%s: private region 0x%x is in a sharing group", who,
				      r->vaddr);
			findings++;
		}
		/* Members of a sharing group never hold different pages at the
		 * same offset of the memory they share. */
		for (struct vir_region *m = r->grp_next; m != r; m = m->grp_next) {
			vir_bytes mv = map_group_addr(m, r, v);
			struct phys_region *mpr = mv ? map_phys_at(m->parent, mv) : NULL;
			if (mpr && mpr->ph != pb) {
				sanity_report(SK_SHARING, pb->phys,
					      "%s: page 0x%08x has frame 0x%x, but %s has frame "
					      "0x%x at 0x%08x for the same shared page",
					      who, v, pb->phys, m->parent->vm_name, mpr->ph->phys,
					      mv);
				findings++;
			}
		}
		if (r->memtype->ev_sanitycheck)
			findings += r->memtype->ev_sanitycheck(pr);
		key++;
	}

	uint32_t shared, cow, pss = 0;
	map_count_shared(vmp, vm_kinfo.user_lo, vm_kinfo.user_hi, &shared, &cow);
	key = 0;
	while ((pr = radix_next(&vmp->vm_pages, &key)) != NULL) {
		pss += pss_share(mappings(pr->ph));
		key++;
	}
	if (pss != vmp->vm_pss_1k) {
		sanity_report(SK_COUNTER, SANITY_NO_FRAME,
			      "%s: proportional set %u/1024 pages counted, %u recorded", who, pss,
			      vmp->vm_pss_1k);
		findings++;
	}
	if (shared != vmp->vm_shared || cow != vmp->vm_cow) {
		sanity_report(SK_COUNTER, SANITY_NO_FRAME,
			      "%s: %u shared / %u copy-on-write pages counted, %u / %u "
			      "recorded",
			      who, shared, cow, vmp->vm_shared, vmp->vm_cow);
		findings++;
	}

	struct pte_check c = { vmp, 0 };
	pt_walk(&vmp->vm_pt, check_pte, &c);
	return findings + c.findings + pt_sanitycheck(&vmp->vm_pt, who);
}
