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
	/* Fork: dst is a page-less clone of src in the child; give it the
	 * child's view of src's pages. VM_OK or ENOMEM (the caller then
	 * deletes the child). */
	int (*ev_copy)(struct vir_region *src, struct vir_region *dst);
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

/* For types whose pages are all resident from the start: a fault on a
 * missing page is SIGSEGV, on a present one a mapping to rewrite. */
enum pf_result mt_pagefault_resident(struct vmproc *vmp, struct vir_region *r,
				     struct phys_region *pr, vir_bytes v, bool write);

/* For types that are never copy-on-write (shared only on purpose). */
bool mt_writable_always(const struct phys_region *pr);

extern const struct mem_type mem_type_anon;
extern const struct mem_type mem_type_anon_contig;
extern const struct mem_type mem_type_directphys;
extern const struct mem_type mem_type_shared;

#endif
