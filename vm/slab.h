/*
 * VM's allocator for its own objects. Slab pages come from the physical
 * allocator, so VM's heap is memory VM manages and accounts for.
 *
 * Freed objects are filled with SLAB_JUNK, and the consistency check
 * reports a free object that was written (write after free). Freeing
 * checks the pointer (a slab page, an object boundary, allocated): a
 * double free or a bad pointer is reported as a finding and the free is
 * ignored, so nothing is lost. In the VM_SANITY build every object records
 * its type and where it was allocated and freed, and slab pages are
 * read-only outside USE (sanity/lock.h).
 */
#ifndef VM_SLAB_H
#define VM_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <vmscope/types.h>

#include "../sanity/lock.h"
#include "../sanity/site.h"

/* A zeroed object of bytes (at most SLAB_MAXSIZE), or NULL when memory is
 * exhausted. type names it in reports (NULL: "N-byte object"); where is
 * the allocating line (VM_HERE). */
void *slaballoc_at(size_t bytes, const char *type, const char *where);

/* Free obj, allocated with the same bytes. */
void slabfree_at(void *obj, size_t bytes, const char *where);

#define slaballoc(bytes) slaballoc_at((bytes), NULL, VM_HERE)
#define slaballoc_typed(bytes, type) slaballoc_at((bytes), (type), VM_HERE)
#define slabfree(obj, bytes) slabfree_at((obj), (bytes), VM_HERE)

/* The types VM allocates by pointer, named for reports. */
struct phys_block;
struct phys_region;
struct vir_region;
struct grant_table;
struct ds_entry;
struct ds_sub;
struct ds_notice;
/* clang-format off */
#define SLAB_TYPE(p)                                                        \
	_Generic((p),                                                       \
		struct phys_block *: "struct phys_block",                   \
		struct phys_region *: "struct phys_region",                 \
		struct vir_region *: "struct vir_region",                   \
		struct grant_table *: "struct grant_table",                 \
		struct ds_entry *: "struct ds_entry",                       \
		struct ds_sub *: "struct ds_sub",                           \
		struct ds_notice *: "struct ds_notice",                     \
		default: NULL)
/* clang-format on */

#define SLABALLOC(p) ((p) = slaballoc_at(sizeof(*(p)), SLAB_TYPE(p), VM_HERE))
#define SLABFREE(p) slabfree_at((p), sizeof(*(p)), VM_HERE)

#define SLAB_MAXSIZE 2048 /* largest object */
#define SLAB_GRAIN 8      /* sizes are rounded up to this */
#define SLAB_JUNK 0x6b    /* fills free objects (as Linux's POISON_FREE) */

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

/* Bytes an object of bytes takes in its page (with its trailer). */
size_t slab_stride(size_t bytes);

/* Pages held by the slab allocator. */
uint32_t slab_pages(void);

/* Whether obj is an allocated object of bytes (rounded) in a slab page,
 * at an object boundary. */
bool slab_valid(const void *obj, size_t bytes);

/* For an allocated object: its slab page, and in the VM_SANITY build its
 * type name and sites (else NULL). False when obj is no allocated object
 * (slab_valid without the size). */
bool slab_object_info(const void *obj, phys_bytes *page, const char **type,
		      const struct site_pair **sites);

/* Whether frame is a slab page (the ones kept locked). */
bool slab_is_page(phys_bytes frame);

/* A write to locked slab memory at physical address p faulted: report
 * the object there (finding SK_LOCKED_WRITE); code names the faulting
 * code. False when p is not in a slab page. */
bool slab_describe_write(phys_bytes p, const char *code);

/* Check every slab page's header, bitmap and free objects; calls cb with
 * each slab page's physical address. Returns the number of findings. */
uint32_t slab_sanitycheck(void (*cb)(phys_bytes page, void *arg), void *arg);

#endif
