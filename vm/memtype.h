/*
 * Mem types: what a region's pages are and how they behave. The region
 * code is generic and calls a region's type only through this table; only
 * the code that creates a region names a type.
 */
#ifndef VM_MEMTYPE_H
#define VM_MEMTYPE_H

#include <stdbool.h>

#include "region.h"

enum mem_type_id {
	MT_ANON = 1,
	MT_ANON_CONTIG,
	MT_DIRECTPHYS,
	MT_SHARED,
	MT_CACHE,
};

struct mem_type {
	const char *name;
	enum mem_type_id id;
	/* The region was just made: set it up (e.g. preallocate). VM_OK or
	 * ENOMEM (the caller then deletes the region). */
	int (*ev_new)(struct vir_region *r);
	/* The region is going away (its pages are already unreferenced). */
	void (*ev_delete)(struct vir_region *r);
	/* pr's block lost its last reference: free its frame (or not). */
	void (*ev_unreference)(struct phys_block *pb);
	/* Resolve a fault at page address v of r (pr: the page, or NULL). */
	enum pf_result (*ev_pagefault)(struct vmproc *vmp, struct vir_region *r,
				       struct phys_region *pr, vir_bytes v, bool write);
	/* The region grows to len at its end (brk); VM_OK or ENOMEM. */
	int (*ev_resize)(struct vmproc *vmp, struct vir_region *r, vir_bytes len);
	/* r was split into r (lower part) and r2 (upper part). */
	void (*ev_split)(struct vmproc *vmp, struct vir_region *r, struct vir_region *r2);
	/* Whether pr may be mapped writable (no other process sees it). */
	bool (*writable)(const struct phys_region *pr);
	/* Type-specific findings for pr (printed); 0 if fine. */
	uint32_t (*ev_sanitycheck)(const struct phys_region *pr);
};

extern const struct mem_type mem_type_anon;

#endif
