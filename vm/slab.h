/*
 * VM's allocator for its own objects. Slab pages come from the physical
 * allocator, so VM's heap is memory VM manages and accounts for.
 */
#ifndef VM_SLAB_H
#define VM_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <vmscope/types.h>

/* A zeroed object of bytes (at most SLAB_MAXSIZE), or NULL when memory is
 * exhausted. */
void *slaballoc(size_t bytes);

/* Free obj, allocated by slaballoc with the same bytes. */
void slabfree(void *obj, size_t bytes);

#define SLABALLOC(p) ((p) = slaballoc(sizeof(*(p))))
#define SLABFREE(p) slabfree((p), sizeof(*(p)))

#define SLAB_MAXSIZE 2048 /* largest object */
#define SLAB_GRAIN 8      /* sizes are rounded up to this */

/* Forget every slab (VM boots again). */
void slab_init(void);

/* Statistics of the cache for objects of `size` bytes (rounded). */
struct slab_stats {
	uint32_t size;
	uint32_t pages;
	uint32_t objects; /* capacity of those pages */
	uint32_t inuse;
};

/* Fill st for the i-th size that has pages (from 0); false past the last. */
bool slab_stats_at(uint32_t i, struct slab_stats *st);

/* Pages held by the slab allocator. */
uint32_t slab_pages(void);

/* Check every slab page's header and bitmap; calls cb with each slab
 * page's physical address. Returns the number of findings (printed). */
uint32_t slab_sanitycheck(void (*cb)(phys_bytes page, void *arg), void *arg);

#endif
