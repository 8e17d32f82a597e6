/*
 * The consistency check, compiled into every build and run on request
 * (VM_SANITY call, the scenario `sanity` command) or after every call when
 * switched on. It accounts for every frame of the machine through the
 * physical usage map (sanity/physusage.c): reserved ranges, VM's own
 * metadata, the allocator's free runs, slab pages, page directories and
 * tables, and the frames of region pages; an overlap or a frame nobody
 * claims is a finding. Structural checks (region trees, refcounts, page
 * tables against regions, slab bitmaps) are done by the modules that own
 * the structures.
 */
#include <vmscope/errno.h>

#include "../sanity/physusage.h"
#include "alloc.h"
#include "cache.h"
#include "glo.h"
#include "grant.h"
#include "proto.h"
#include "region.h"
#include "slab.h"
#include "util.h"

static uint8_t *usage_map;
static uint32_t usage_frames;

size_t sanity_map_bytes(uint32_t nframes)
{
	return nframes;
}

void sanity_init(void *map, uint32_t nframes)
{
	usage_map = map;
	usage_frames = nframes;
}

static void report(const struct pu_finding *f, void *arg)
{
	(void)arg;
	if (f->kind == PU_LEAK)
		vm_printf("sanity: leak: frames 0x%08x-0x%08x (%u page%s) are neither free nor "
			  "owned\n",
			  f->frame << VM_PAGE_SHIFT, (f->frame + f->count) << VM_PAGE_SHIFT,
			  f->count, f->count == 1 ? "" : "s");
	else
		vm_printf("sanity: overlap: frame 0x%08x is %s and also %s (%s%s0x%x)\n",
			  f->frame << VM_PAGE_SHIFT, pu_owner_name(f->prev),
			  pu_owner_name(f->owner), f->who ? f->who : "", f->who ? " at " : "",
			  f->where);
}

static struct physusage pu;

static void claim_free(uint32_t first, uint32_t count, void *arg)
{
	(void)arg;
	pu_claim(&pu, first, count, PU_FREE, "free run", first << VM_PAGE_SHIFT);
}

static void claim_slab(phys_bytes page, void *arg)
{
	(void)arg;
	pu_claim(&pu, page >> VM_PAGE_SHIFT, 1, PU_SLAB, "slab", page);
}

/* A frame only cached blocks hold; a frame two blocks hold (yielded by
 * fork relatives) is claimed once. */
static void claim_cached(const struct phys_block *pb, void *arg)
{
	(void)arg;
	uint32_t f = pb->phys >> VM_PAGE_SHIFT;
	if (pb->flags & PBF_DEVICE)
		return;
	if (pb->cacheref > 1 && pu_owner_at(&pu, f) == PU_CACHE)
		return;
	pu_claim(&pu, f, 1, PU_CACHE, "cache", pb->phys);
}

static void claim_pt(phys_bytes frame, int is_dir, void *arg)
{
	struct vmproc *vmp = arg;
	pu_claim(&pu, frame >> VM_PAGE_SHIFT, 1, is_dir ? PU_PAGEDIR : PU_PAGETABLE, vmp->vm_name,
		 frame);
}

/* Device frames are claimed as device memory already (reserved ranges
 * come first); any other frame of a block belongs to its region. */
static void claim_block(const struct phys_block *pb, void *arg)
{
	uint32_t *findings = arg;
	const struct phys_region *pr = pb->firstregion;
	const char *who = pr->parent->parent->vm_name;

	if (!(pb->flags & PBF_DEVICE)) {
		pu_claim(&pu, pb->phys >> VM_PAGE_SHIFT, 1, PU_REGION, who, pr->vaddr);
	} else if (pu_owner_at(&pu, pb->phys >> VM_PAGE_SHIFT) != PU_DEVICE) {
		vm_printf("sanity: %s: device page 0x%x maps frame 0x%x, which is %s\n", who,
			  pr->vaddr, pb->phys,
			  pu_owner_name(pu_owner_at(&pu, pb->phys >> VM_PAGE_SHIFT)));
		(*findings)++;
	}
}

uint32_t sanity_check(void)
{
	uint32_t findings = 0, pagetables = 0;

	pu_begin(&pu, usage_map, usage_frames, report, NULL);
	for (uint32_t i = 0; i < vm_kinfo.nr_reserved; i++) {
		const struct kinfo_range *k = &vm_kinfo.reserved[i];
		pu_claim(&pu, k->base >> VM_PAGE_SHIFT, k->len >> VM_PAGE_SHIFT,
			 k->owner == KRES_DEVICE ? PU_DEVICE : PU_KERNEL, "reserved", k->base);
	}
	phys_bytes self;
	uint32_t selfpages;
	phys_self_range(&self, &selfpages);
	pu_claim(&pu, self >> VM_PAGE_SHIFT, selfpages, PU_VMSELF, "VM", self);
	findings += phys_sanitycheck(claim_free, NULL);
	findings += slab_sanitycheck(claim_slab, NULL);
	findings += cache_sanitycheck(claim_cached, NULL);
	findings += grant_sanitycheck();
	for (int i = 0; i < VM_NR_PROCS; i++) {
		struct vmproc *vmp = &vmproc[i];
		if (!(vmp->vm_flags & VMF_INUSE))
			continue;
		if (VM_ENDPOINT_SLOT(vmp->vm_endpoint) != i) {
			vm_printf("sanity: slot %d holds endpoint %d\n", i, vmp->vm_endpoint);
			findings++;
		}
		pt_frames(&vmp->vm_pt, claim_pt, vmp);
		pagetables += vmp->vm_pt.pt_npt + 1;
		findings += map_sanitycheck(vmp, claim_block, &findings);
	}
	if (pagetables != vm_stats.pagetables) {
		vm_printf("sanity: %u page-table frames counted, %u recorded\n", pagetables,
			  vm_stats.pagetables);
		findings++;
	}
	findings += pu_end(&pu);
	uint64_t calls = 0;
	for (int i = 0; i < VM_RQ_LAST - VM_RQ_BASE + 1; i++)
		calls += vm_stats.calls[i];
	vm_sanity_result.runs++;
	vm_sanity_result.last_findings = findings;
	vm_sanity_result.last_call = calls;
	vm_sanity_result.total_findings += findings;
	return findings;
}

int do_sanity(message *m)
{
	m->m_sanity.findings = sanity_check();
	return VM_OK;
}
