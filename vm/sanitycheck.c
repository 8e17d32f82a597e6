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
#include "../sanity/report.h"
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

const struct site_pair *sanity_frame_sites(phys_bytes frame)
{
	return phys_frame_sites(frame >> VM_PAGE_SHIFT);
}

/* A leaked run whose frames came from more than one place: name the
 * others too (a few). */
static void more_leak_sites(uint32_t frame, uint32_t count)
{
	const struct site_pair *prev = phys_frame_sites(frame);
	char buf[160];
	int shown = 0;

	for (uint32_t f = frame + 1; prev && f < frame + count && shown < 4; f++) {
		const struct site_pair *sp = phys_frame_sites(f);
		if (sp->alloc.where == prev->alloc.where &&
		    sp->alloc.ctx.seq == prev->alloc.ctx.seq)
			continue;
		vm_printf("sanity:   frame 0x%08x allocated at %s\n", f << VM_PAGE_SHIFT,
			  site_format(buf, sizeof(buf), &sp->alloc));
		prev = sp;
		shown++;
	}
}

static void report(const struct pu_finding *f, void *arg)
{
	(void)arg;
	if (f->kind == PU_LEAK) {
		sanity_report(SK_LEAK, f->frame << VM_PAGE_SHIFT,
			      "frames 0x%08x-0x%08x (%u page%s) are neither free nor owned",
			      f->frame << VM_PAGE_SHIFT, (f->frame + f->count) << VM_PAGE_SHIFT,
			      f->count, f->count == 1 ? "" : "s");
		more_leak_sites(f->frame, f->count);
	} else {
		sanity_report(SK_OVERLAP, f->frame << VM_PAGE_SHIFT,
			      "frame 0x%08x is %s and also %s (%s%s0x%x)",
			      f->frame << VM_PAGE_SHIFT, pu_owner_name(f->prev),
			      pu_owner_name(f->owner), f->who ? f->who : "", f->who ? " at " : "",
			      f->where);
	}
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
		sanity_report(SK_REGION, pb->phys,
			      "%s: device page 0x%x maps frame 0x%x, which is %s", who, pr->vaddr,
			      pb->phys, pu_owner_name(pu_owner_at(&pu, pb->phys >> VM_PAGE_SHIFT)));
		(*findings)++;
	}
}

uint32_t sanity_check(void)
{
	uint32_t findings = 0, pagetables = 0;

	sanity_log_begin();
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
			sanity_report(SK_OTHER, SANITY_NO_FRAME, "slot %d holds endpoint %d", i,
				      vmp->vm_endpoint);
			findings++;
		}
		pt_frames(&vmp->vm_pt, claim_pt, vmp);
		pagetables += vmp->vm_pt.pt_npt + 1;
		findings += map_sanitycheck(vmp, claim_block, &findings);
	}
	if (pagetables != vm_stats.pagetables) {
		sanity_report(SK_COUNTER, SANITY_NO_FRAME,
			      "%u page-table frames counted, %u recorded", pagetables,
			      vm_stats.pagetables);
		findings++;
	}
	findings += pu_end(&pu);
	/* Every finding was reported; those reported since the last check (a
	 * double free) count too. */
	findings = sanity_log_count();
	sanity_log_end();
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

uint64_t vm_sanity_findings(void)
{
	return vm_sanity_result.total_findings;
}

bool vm_locked_write(phys_bytes p, const char *code)
{
	return slab_describe_write(p, code);
}
