/*
 * Anonymous memory: zero-filled on first touch, private, copy-on-write.
 *
 * A page is allocated when first touched (or at creation with prealloc)
 * and cleared unless the region is uninitialized (privileged callers only).
 * Whether a page may be mapped writable is decided per page: only when its
 * block has one reference. A write fault on a block with more references
 * (after fork) copies the frame into a new block for the writer; a write
 * fault on a block that has become private again just maps it writable.
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
 * blocks and both sides lose write access. Shared regions stay shared; so
 * that a page neither side has touched yet is shared too, the parent's
 * region is made fully resident first.
 */
static int anon_copy(struct vir_region *src, struct vir_region *dst)
{
	if ((src->flags & VR_SHARED) &&
	    map_handle_memory(src->parent, src, src->vaddr, src->length, false) != VM_OK)
		return ENOMEM;
	return map_copy_refs(src, dst);
}

static uint32_t frame_flags(const struct vir_region *r)
{
	uint32_t f = (r->flags & VR_UNINITIALIZED) ? 0 : PAF_CLEAR;
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

static enum pf_result anon_pagefault(struct vmproc *vmp, struct vir_region *r,
				     struct phys_region *pr, vir_bytes v, bool write)
{
	if (pr == NULL)
		return anon_newpage(vmp, r, v, NULL);
	if (write && !anon_writable(pr))
		return anon_newpage(vmp, r, v, pr);
	if (write && !(r->flags & VR_SHARED))
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
