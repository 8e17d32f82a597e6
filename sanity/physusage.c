/* The physical usage map (see physusage.h). */
#include <string.h>

#include "physusage.h"

static const char *const owner_names[PU_NOWNERS] = {
	[PU_NONE] = "nobody's",
	[PU_FREE] = "free",
	[PU_KERNEL] = "kernel memory",
	[PU_DEVICE] = "device memory",
	[PU_VMSELF] = "VM metadata",
	[PU_SLAB] = "a slab page",
	[PU_PAGEDIR] = "a page directory",
	[PU_PAGETABLE] = "a page table",
	[PU_REGION] = "a region page",
	[PU_CACHE] = "a cache block",
};

const char *pu_owner_name(enum pu_owner o)
{
	return (unsigned)o < PU_NOWNERS ? owner_names[o] : "?";
}

void pu_begin(struct physusage *pu, uint8_t *map, uint32_t nframes,
	      void (*report)(const struct pu_finding *f, void *arg), void *arg)
{
	memset(pu, 0, sizeof(*pu));
	pu->map = map;
	pu->nframes = nframes;
	pu->report = report;
	pu->arg = arg;
	memset(map, PU_NONE, nframes);
}

void pu_claim(struct physusage *pu, uint32_t frame, uint32_t count, enum pu_owner owner,
	      const char *who, uint32_t where)
{
	for (uint32_t f = frame; f - frame < count; f++) {
		if (f >= pu->nframes) {
			struct pu_finding fd = { PU_OVERLAP, f, 1, owner, PU_NONE, who, where };
			pu->findings++;
			pu->report(&fd, pu->arg); /* a claim beyond memory */
			return;
		}
		if (pu->map[f] == PU_NONE) {
			pu->map[f] = (uint8_t)owner;
			continue;
		}
		struct pu_finding fd = { PU_OVERLAP, f,    1, owner, (enum pu_owner)pu->map[f],
					 who,        where };
		pu->findings++;
		pu->report(&fd, pu->arg);
	}
}

enum pu_owner pu_owner_at(const struct physusage *pu, uint32_t frame)
{
	return frame < pu->nframes ? (enum pu_owner)pu->map[frame] : PU_NONE;
}

uint32_t pu_end(struct physusage *pu)
{
	uint32_t f = 0;

	while (f < pu->nframes) {
		if (pu->map[f] != PU_NONE) {
			pu->per_owner[pu->map[f]]++;
			f++;
			continue;
		}
		uint32_t start = f;
		while (f < pu->nframes && pu->map[f] == PU_NONE)
			f++;
		struct pu_finding fd = { PU_LEAK, start, f - start, PU_NONE, PU_NONE, NULL, 0 };
		pu->findings++;
		pu->report(&fd, pu->arg);
	}
	return pu->findings;
}
