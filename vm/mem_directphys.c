/*
 * Direct physical mappings: device memory (the PC's device hole) mapped
 * into a privileged process at a physical address it names. The frames
 * are not the pool's: they are never cleared, never freed when the last
 * mapping goes, and the consistency check counts them as device memory.
 * Shared with the child on fork, like the device itself.
 */
#include "../sanity/report.h"
#include "glo.h"
#include "memtype.h"
#include "slab.h"
#include "util.h"

static int phys_new(struct vir_region *r)
{
	struct vmproc *vmp = r->parent;

	if (pt_ptalloc_in_range(&vmp->vm_pt, r->vaddr, r->length) != VM_OK)
		return ENOMEM;
	for (vir_bytes off = 0; off < r->length; off += VM_PAGE_SIZE) {
		struct phys_block *pb = pb_new(r->phys + off);
		struct phys_region *pr = pb ? pb_reference(pb, r, r->vaddr + off) : NULL;
		if (pr == NULL) {
			if (pb)
				SLABFREE(pb);
			return ENOMEM;
		}
		USE(pb, pb->flags |= PBF_DEVICE);
		if (map_ph_writept(vmp, pr) != VM_OK)
			panic("%s: page table for 0x%x vanished", __func__, pr->vaddr);
	}
	return VM_OK;
}

static uint32_t phys_sanitycheck(const struct phys_region *pr)
{
	if (pr->ph->flags & PBF_DEVICE)
		return 0;
	sanity_report(SK_REGION, pr->ph->phys,
		      "%s: direct-physical page 0x%x has a pool frame 0x%x",
		      pr->parent->parent->vm_name, pr->vaddr, pr->ph->phys);
	return 1;
}

const struct mem_type mem_type_directphys = {
	.name = "physical",
	.id = MT_DIRECTPHYS,
	.ev_new = phys_new,
	.ev_copy = map_copy_refs,
	.ev_pagefault = mt_pagefault_resident,
	.writable = mt_writable_always,
	.ev_sanitycheck = phys_sanitycheck,
};
