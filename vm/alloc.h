/*
 * The physical page allocator: every page frame of the machine that is not
 * reserved (kernel, device hole) is free or handed out by it.
 */
#ifndef VM_ALLOC_H
#define VM_ALLOC_H

#include <stdbool.h>
#include <stdint.h>
#include <vmscope/kernel.h>
#include <vmscope/types.h>

#include "../sanity/site.h"

#define NO_MEM ((phys_bytes)0xFFFFFFFFu)

/* Allocation flags. */
#define PAF_CLEAR 0x1     /* zero the frames */
#define PAF_LOWER16MB 0x2 /* frames below 16 MB (ISA DMA) */

/* Called when an allocation cannot be satisfied: free about `pages` pages
 * and return how many were freed. The cache registers one. */
typedef uint32_t (*phys_shrinker_fn)(uint32_t pages);

/* Take over physical memory as ki describes it. The allocator's own
 * metadata, and extra_bytes more for the caller (returned in *extra), come
 * out of the first free memory and are accounted as VM's own. Returns
 * VM_OK or ENOMEM. */
int phys_init(const struct kinfo *ki, size_t extra_bytes, void **extra);

/* Allocate `pages` physically contiguous frames; returns the physical
 * address of the first, or NO_MEM. Single pages take O(1). where is the
 * allocating line (VM_HERE), kept per frame in the VM_SANITY build. */
phys_bytes alloc_mem_at(uint32_t pages, uint32_t flags, const char *where);
#define alloc_mem(pages, flags) alloc_mem_at((pages), (flags), VM_HERE)

/* Count an allocation for fault injection; true when this one must fail
 * (vm_fail_nth_alloc in vm.h). where is the allocating line (VM_HERE),
 * kept for vm_fail_site. */
bool alloc_injected_failure(const char *where);

/* Return frames [base, base + pages * 4K) to the pool; they must have been
 * allocated (a double free panics). */
void free_mem_at(phys_bytes base, uint32_t pages, const char *where);
#define free_mem(base, pages) free_mem_at((base), (pages), VM_HERE)

/* Where frame was allocated and freed last (VM_SANITY build; else NULL). */
const struct site_pair *phys_frame_sites(uint32_t frame);

/* Register the shrinker asked before an allocation fails. */
void phys_set_shrinker(phys_shrinker_fn fn);

uint32_t phys_free_pages(void);  /* free frames now */
uint32_t phys_total_pages(void); /* frames in the pool */
uint32_t phys_largest_run(void); /* longest run of free frames */
uint32_t phys_nframes(void);     /* frames of the machine, pool or not */

/* Where VM's own metadata pages are. */
void phys_self_range(phys_bytes *base, uint32_t *pages);

/* Whether frame is free. */
bool phys_frame_free(uint32_t frame);

/* Consistency of the free runs; calls cb for each free run; returns the
 * number of findings (printed). */
uint32_t phys_sanitycheck(void (*cb)(uint32_t first, uint32_t count, void *arg), void *arg);

#endif
