/*
 * The physical usage map: during a consistency check every frame of the
 * machine is claimed by exactly one owner (or as free). A frame claimed
 * twice is an overlap; a frame nobody claims is a leak. The map belongs to
 * the caller (one byte per frame); findings go to the caller's callback so
 * that this machinery stays independent of how VM prints.
 */
#ifndef SANITY_PHYSUSAGE_H
#define SANITY_PHYSUSAGE_H

#include <stddef.h>
#include <stdint.h>

enum pu_owner {
	PU_NONE = 0,  /* not claimed (yet) */
	PU_FREE,      /* in the allocator's free runs */
	PU_KERNEL,    /* the kernel's image and data */
	PU_DEVICE,    /* device memory (never in the pool) */
	PU_VMSELF,    /* VM's own metadata */
	PU_SLAB,      /* a slab page (VM's objects) */
	PU_PAGEDIR,   /* a page directory */
	PU_PAGETABLE, /* a page table */
	PU_REGION,    /* a page of a region */
	PU_CACHE,     /* a block held by the cache */
	PU_NOWNERS
};

enum pu_finding_kind {
	PU_OVERLAP, /* frame claimed by owner and already by prev */
	PU_LEAK,    /* frames [frame, frame + count) claimed by nobody */
};

struct pu_finding {
	enum pu_finding_kind kind;
	uint32_t frame;
	uint32_t count;
	enum pu_owner owner;
	enum pu_owner prev;
	const char *who; /* the claimant, e.g. a process name; may be NULL */
	uint32_t where;  /* e.g. the virtual address it is mapped at */
};

struct physusage {
	uint8_t *map; /* enum pu_owner per frame */
	uint32_t nframes;
	uint32_t findings;
	uint32_t per_owner[PU_NOWNERS]; /* frames per owner, at pu_end */
	void (*report)(const struct pu_finding *f, void *arg);
	void *arg;
};

/* Name of an owner kind as a phrase ("a page table", "free"). */
const char *pu_owner_name(enum pu_owner o);

/* Start a check over nframes frames with map (nframes bytes). */
void pu_begin(struct physusage *pu, uint8_t *map, uint32_t nframes,
	      void (*report)(const struct pu_finding *f, void *arg), void *arg);

/* Claim count frames from frame for owner; overlaps are reported. */
void pu_claim(struct physusage *pu, uint32_t frame, uint32_t count, enum pu_owner owner,
	      const char *who, uint32_t where);

/* Who has claimed frame so far (PU_NONE: nobody, or beyond memory). */
enum pu_owner pu_owner_at(const struct physusage *pu, uint32_t frame);

/* Report unclaimed frames as leaks, total per owner; returns the number of
 * findings of the whole check. */
uint32_t pu_end(struct physusage *pu);

#endif
