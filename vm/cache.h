/*
 * The cache of yielded blocks: memory processes hand to VM under a 64-bit
 * id and may ask back; VM may forget blocks (oldest first) when memory
 * runs short.
 */
#ifndef VM_CACHE_H
#define VM_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <vmscope/ipc.h>

#include "vmproc.h"

struct cache_stats {
	uint32_t blocks; /* held now */
	uint32_t pages;  /* held now */
	uint64_t yields;
	uint64_t hits;      /* blocks got back */
	uint64_t misses;    /* asked for but not there (forgotten or never) */
	uint64_t evictions; /* forgotten by VM under memory pressure */
	uint64_t forgets;   /* dropped on request or at exit */
};

extern struct cache_stats cache_stats;

/* Bytes of VM metadata the cache wants for nframes of memory. */
size_t cache_meta_bytes(uint32_t nframes);

/* Start empty, with the metadata memory; registers the shrinker. */
void cache_init(void *meta, uint32_t nframes);

/* Drop every block vmp yielded (exit, exec). */
void cache_forgetall(struct vmproc *vmp);

/* The next block of the same owner (for listing). */
const struct cached_block *cache_block_next(const struct cached_block *b);

/* Findings in the cache (printed); claims frames only the cache holds. */
struct phys_block;
uint32_t cache_sanitycheck(void (*claim)(const struct phys_block *pb, void *arg), void *arg);

#endif
