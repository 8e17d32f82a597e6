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

static void anon_unreference(struct phys_block *pb)
{
	free_mem(pb->phys, 1);
}

static bool anon_writable(const struct phys_region *pr)
{
	return pr->ph->refcount == 1;
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
	if (write && pr->ph->refcount > 1)
		return anon_newpage(vmp, r, v, pr);
	if (write)
		vm_stats.pf_cowreuse++;
	return map_ph_writept(vmp, pr) == VM_OK ? PF_RESOLVED : PF_NOMEM;
}

const struct mem_type mem_type_anon = {
	.name = "anonymous",
	.id = MT_ANON,
	.ev_new = anon_new,
	.ev_unreference = anon_unreference,
	.ev_pagefault = anon_pagefault,
	.writable = anon_writable,
};
