/*
 * Anonymous contiguous memory: physically consecutive frames, all
 * allocated (and cleared, unless uninitialized) when the region is made,
 * as a driver needs for a DMA buffer. The frames never move: the owner
 * keeps them across fork whoever writes first, because the child gets a
 * copy of its own at fork time (MINIX panics on this path). A contiguous
 * region mapped shared stays shared across fork instead.
 */
#include "../sanity/report.h"
#include "alloc.h"
#include "glo.h"
#include "memtype.h"
#include "slab.h"
#include "util.h"

/* Back every page of r with one run of fresh frames, cleared if asked. */
static int contig_alloc(struct vir_region *r, bool clear)
{
	struct vmproc *vmp = r->parent;
	uint32_t pages = r->length >> VM_PAGE_SHIFT;
	uint32_t flags = clear ? PAF_CLEAR : 0;

	if (r->flags & VR_LOWER16MB)
		flags |= PAF_LOWER16MB;
	if (pt_ptalloc_in_range(&vmp->vm_pt, r->vaddr, r->length) != VM_OK)
		return ENOMEM;
	phys_bytes base = alloc_mem(pages, flags);
	if (base == NO_MEM)
		return ENOMEM;
	for (uint32_t i = 0; i < pages; i++) {
		phys_bytes frame = base + (i << VM_PAGE_SHIFT);
		struct phys_block *pb = pb_new(frame);
		struct phys_region *pr =
		    pb ? pb_reference(pb, r, r->vaddr + (i << VM_PAGE_SHIFT)) : NULL;
		if (pr == NULL) {
			/* The pages referenced so far are freed with the region. */
			if (pb)
				SLABFREE(pb);
			free_mem(frame, pages - i);
			return ENOMEM;
		}
		if (map_ph_writept(vmp, pr) != VM_OK)
			panic("%s: page table for 0x%x vanished", __func__, pr->vaddr);
	}
	return VM_OK;
}

static int contig_new(struct vir_region *r)
{
	return contig_alloc(r, !region_uninit(r));
}

/* Fork: the child's region gets frames of its own, copied. */
static int contig_copy(struct vir_region *src, struct vir_region *dst)
{
	if (src->flags & VR_SHARED)
		return map_copy_refs(src, dst);
	int r = contig_alloc(dst, false); /* every byte is copied below */
	if (r != VM_OK)
		return r;
	for (vir_bytes off = 0; off < src->length; off += VM_PAGE_SIZE) {
		struct phys_region *s = map_phys_at(src->parent, src->vaddr + off);
		struct phys_region *d = map_phys_at(dst->parent, dst->vaddr + off);
		if (s == NULL || d == NULL)
			panic("%s: contiguous page 0x%x is not resident", __func__,
			      src->vaddr + off);
		sys_physcopy(s->ph->phys, d->ph->phys, VM_PAGE_SIZE);
	}
	return VM_OK;
}

/* A contiguous region stays fully resident and its frames consecutive. */
static uint32_t contig_sanitycheck(const struct phys_region *pr)
{
	const struct vir_region *r = pr->parent;
	const struct phys_region *first = map_phys_at(r->parent, r->vaddr);

	if (first && pr->ph->phys - first->ph->phys == pr->vaddr - r->vaddr)
		return 0;
	sanity_report(SK_REGION, pr->ph->phys,
		      "%s: contiguous region 0x%x: page 0x%x has frame 0x%x, the first "
		      "page 0x%x",
		      r->parent->vm_name, r->vaddr, pr->vaddr, pr->ph->phys,
		      first ? first->ph->phys : 0);
	return 1;
}

const struct mem_type mem_type_anon_contig = {
	.name = "contiguous",
	.id = MT_ANON_CONTIG,
	.ev_new = contig_new,
	.ev_copy = contig_copy,
	.ev_pagefault = mt_pagefault_resident,
	.writable = mt_writable_always,
	.ev_sanitycheck = contig_sanitycheck,
};
