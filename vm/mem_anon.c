/*
 * Anonymous memory: zero-filled on first touch, private, copy-on-write.
 *
 * A page is allocated when first touched (or at creation with prealloc)
 * and cleared unless the region is uninitialized (privileged callers only).
 * Whether a page may be mapped writable is decided per page: only when its
 * block has one reference. A write fault on a block with more references
 * (after fork) copies the frame into a new block for the writer; a write
 * fault on a block that has become private again just maps it writable.
 *
 * Shared regions (mmap shared, remapped sources) share their pages with
 * their copies in fork relatives: the copies form a group (region.c), and
 * a page first touched in any member is allocated once and entered in
 * every member that covers it, so sharing needs no page to exist at fork.
 */
#include "alloc.h"
#include "glo.h"
#include "memtype.h"
#include "slab.h"
#include "util.h"

static int anon_new(struct vir_region *r)
{
	if (!(r->flags & VR_PREALLOC))
		return VM_OK;
	return map_handle_memory(r->parent, r, r->vaddr, r->length, false);
}

/* Private pages are writable when nobody else references them; pages of
 * shared regions are shared on purpose and always writable. */
static bool anon_writable(const struct phys_region *pr)
{
	return pr->ph->refcount == 1 || (pr->parent->flags & VR_SHARED);
}

/*
 * Fork. Private pages become copy-on-write: the child references the same
 * blocks and both sides lose write access. A shared region's copy joins
 * its group, so the pages neither side has touched yet are shared too.
 */
static int anon_copy(struct vir_region *src, struct vir_region *dst)
{
	if (src->flags & VR_SHARED)
		map_group_join(dst, src);
	return map_copy_refs(src, dst);
}

static uint32_t frame_flags(const struct vir_region *r)
{
	uint32_t f = region_uninit(r) ? 0 : PAF_CLEAR;
	return f | ((r->flags & VR_LOWER16MB) ? PAF_LOWER16MB : 0);
}

/* Give page v of r a new frame: a cleared one for a new page, or a copy of
 * cow's frame for cow, which then leaves its shared block. */
static enum pf_result anon_newpage(struct vmproc *vmp, struct vir_region *r, vir_bytes v,
				   struct phys_region *cow)
{
	struct phys_block *pb;
	struct phys_region *pr = cow;

	/* The page table first, so that a page once recorded is mapped. */
	if (pt_ptalloc_in_range(&vmp->vm_pt, v, VM_PAGE_SIZE) != VM_OK)
		return PF_NOMEM;
	phys_bytes frame = alloc_mem(1, cow ? (frame_flags(r) & ~PAF_CLEAR) : frame_flags(r));
	if (frame == NO_MEM)
		return PF_NOMEM;
	if ((pb = pb_new(frame)) == NULL) {
		free_mem(frame, 1);
		return PF_NOMEM;
	}
	if (cow) {
		sys_physcopy(cow->ph->phys, frame, VM_PAGE_SIZE);
		pb_move(cow, pb);
		vm_stats.pf_cowcopy++;
	} else if ((pr = pb_reference(pb, r, v)) == NULL) {
		SLABFREE(pb);
		free_mem(frame, 1);
		return PF_NOMEM;
	} else {
		vm_stats.pf_zerofill++;
	}
	if (map_ph_writept(vmp, pr) != VM_OK)
		panic("%s: page table for 0x%x vanished", __func__, v);
	return PF_RESOLVED;
}

/* Page v of r, a shared region in a group of several: the page a member
 * already has there, or one new frame, entered in every member that
 * covers it and lacks it (or, for lack of memory, in none). */
/* Members lacking page v of r get pb, which another member has. */
static enum pf_result anon_group_share(struct vir_region *r, vir_bytes v, struct phys_block *pb)
{
	struct vir_region *m = r;

	do {
		vir_bytes mv = map_group_addr(m, r, v);
		struct phys_region *pr;
		if (!mv || map_phys_at(m->parent, mv))
			continue;
		if (pt_ptalloc_in_range(&m->parent->vm_pt, mv, VM_PAGE_SIZE) != VM_OK ||
		    (pr = pb_reference(pb, m, mv)) == NULL)
			return PF_NOMEM; /* those that have it keep it: consistent */
		if (map_ph_writept(m->parent, pr) != VM_OK)
			panic("%s: page table for 0x%x vanished", __func__, mv);
	} while ((m = m->grp_next) != r);
	vm_stats.pf_shared++;
	return PF_RESOLVED;
}

static enum pf_result anon_newpage_group(struct vir_region *r, vir_bytes v)
{
	struct vir_region *m = r;
	phys_bytes frame;
	struct phys_block *pb;

	do {
		vir_bytes mv = map_group_addr(m, r, v);
		struct phys_region *pr = mv ? map_phys_at(m->parent, mv) : NULL;
		if (pr)
			return anon_group_share(r, v, pr->ph);
		if (mv && pt_ptalloc_in_range(&m->parent->vm_pt, mv, VM_PAGE_SIZE) != VM_OK)
			return PF_NOMEM;
	} while ((m = m->grp_next) != r);
	/* Old contents only if every member may see them (privileged). */
	uint32_t flags = frame_flags(r);
	do
		if (!region_uninit(m))
			flags |= PAF_CLEAR;
	while ((m = m->grp_next) != r);
	if ((frame = alloc_mem(1, flags)) == NO_MEM)
		return PF_NOMEM;
	if ((pb = pb_new(frame)) == NULL) {
		free_mem(frame, 1);
		return PF_NOMEM;
	}
	do {
		vir_bytes mv = map_group_addr(m, r, v);
		if (mv && pb_reference(pb, m, mv) == NULL) {
			/* Undo: dropping the last reference frees pb and frame. */
			uint32_t refs = pb->refcount;
			if (refs == 0) {
				SLABFREE(pb);
				free_mem(frame, 1);
			}
			for (uint32_t i = 0; i < refs; i++)
				pb_unreference(pb->firstregion);
			return PF_NOMEM;
		}
	} while ((m = m->grp_next) != r);
	for (struct phys_region *pr = pb->firstregion; pr; pr = pr->next_ph_list)
		if (map_ph_writept(pr->parent->parent, pr) != VM_OK)
			panic("%s: page table for 0x%x vanished", __func__, pr->vaddr);
	vm_stats.pf_zerofill++;
	return PF_RESOLVED;
}

static enum pf_result anon_pagefault(struct vmproc *vmp, struct vir_region *r,
				     struct phys_region *pr, vir_bytes v, bool write)
{
	if (pr == NULL && r->grp_next != r)
		return anon_newpage_group(r, v);
	if (pr == NULL)
		return anon_newpage(vmp, r, v, NULL);
	if (write && !anon_writable(pr))
		return anon_newpage(vmp, r, v, pr);
	if (r->flags & VR_SHARED)
		vm_stats.pf_shared++; /* a page the group already had */
	else if (write)
		vm_stats.pf_cowreuse++; /* copy-on-write, but nobody else has it now */
	return map_ph_writept(vmp, pr) == VM_OK ? PF_RESOLVED : PF_NOMEM;
}

const struct mem_type mem_type_anon = {
	.name = "anonymous",
	.id = MT_ANON,
	.ev_new = anon_new,
	.ev_copy = anon_copy,
	.ev_pagefault = anon_pagefault,
	.writable = anon_writable,
};
