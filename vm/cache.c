/*
 * The cache of yielded blocks (MINIX's "yielded" memory).
 *
 * A process yields the pages of a range of one private anonymous region
 * under an id: the pages leave its address space without being copied
 * (the cache takes a reference on each page's block, counted in
 * phys_block.cacheref) and the process finds fresh zero-fill memory
 * there. Getting the block back maps those very blocks again. A block a
 * fork relative still maps stays shared copy-on-write, so nobody ever
 * writes to a cached page. Blocks are found by (process, id) in a hash
 * table whose buckets are VM metadata, and kept on a list from oldest to
 * newest: when the physical allocator runs short it calls cache_shrink,
 * which forgets the oldest blocks first. A process's blocks are listed
 * from its vmproc and dropped when it exits or execs.
 */
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>

#include "../sanity/report.h"
#include "alloc.h"
#include "cache.h"
#include "glo.h"
#include "memtype.h"
#include "proto.h"
#include "region.h"
#include "slab.h"
#include "util.h"

struct cached_block {
	uint64_t id;
	endpoint_t owner;
	uint32_t pages;
	bool busy;                          /* being got back: the shrinker leaves it alone */
	struct cached_block *hnext;         /* hash chain */
	struct cached_block *older, *newer; /* age list */
	struct cached_block *pnext, *pprev; /* the owner's blocks */
	struct phys_block *pb[];            /* the pages, in order */
};

struct cache_stats cache_stats;

static struct {
	struct cached_block **hash;
	uint32_t nbuckets; /* a power of two */
	struct cached_block *oldest, *newest;
} cache;

static size_t block_size(uint32_t pages)
{
	return sizeof(struct cached_block) + pages * sizeof(struct phys_block *);
}

static uint32_t buckets_for(uint32_t nframes)
{
	uint32_t n = 16;
	while (n < nframes / 4)
		n <<= 1;
	return n;
}

size_t cache_meta_bytes(uint32_t nframes)
{
	return buckets_for(nframes) * sizeof(struct cached_block *);
}

static uint32_t hash_of(endpoint_t owner, uint64_t id)
{
	uint64_t h = (id ^ ((uint64_t)(uint32_t)owner << 32)) * 0x9E3779B97F4A7C15ull;
	return (uint32_t)(h >> 32) & (cache.nbuckets - 1);
}

static struct cached_block *lookup(endpoint_t owner, uint64_t id)
{
	for (struct cached_block *b = cache.hash[hash_of(owner, id)]; b; b = b->hnext)
		if (b->owner == owner && b->id == id)
			return b;
	return NULL;
}

/* Enter b in the hash, as the newest, and on its owner's list. */
static void link_block(struct vmproc *vmp, struct cached_block *b)
{
	struct cached_block **h = &cache.hash[hash_of(b->owner, b->id)];

	USE(b, b->hnext = *h; b->older = cache.newest; b->newer = NULL; b->pprev = NULL;
	    b->pnext = vmp->vm_yielded);
	*h = b;
	if (cache.newest)
		USE(cache.newest, cache.newest->newer = b);
	else
		cache.oldest = b;
	cache.newest = b;
	if (b->pnext)
		USE(b->pnext, b->pnext->pprev = b);
	vmp->vm_yielded = b;
	cache_stats.blocks++;
	cache_stats.pages += b->pages;
}

static void unlink_block(struct cached_block *b)
{
	struct cached_block **h = &cache.hash[hash_of(b->owner, b->id)];
	struct vmproc *vmp = &vmproc[VM_ENDPOINT_SLOT(b->owner)];

	while (*h != b)
		h = &(*h)->hnext;
	USE(h, *h = b->hnext); /* a hash bucket, or the block before b */
	if (b->older)
		USE(b->older, b->older->newer = b->newer);
	else
		cache.oldest = b->newer;
	if (b->newer)
		USE(b->newer, b->newer->older = b->older);
	else
		cache.newest = b->older;
	if (b->pprev)
		USE(b->pprev, b->pprev->pnext = b->pnext);
	else
		vmp->vm_yielded = b->pnext;
	if (b->pnext)
		USE(b->pnext, b->pnext->pprev = b->pprev);
	cache_stats.blocks--;
	cache_stats.pages -= b->pages;
}

/* Drop b (already unlinked) and its references; returns frames freed. */
static uint32_t free_block(struct cached_block *b)
{
	uint32_t freed = 0;

	for (uint32_t i = 0; i < b->pages; i++)
		freed += pb_drop_cacheref(b->pb[i]);
	slabfree(b, block_size(b->pages));
	return freed;
}

/* The shrinker: forget the oldest blocks until `pages` frames are free
 * again or nothing is left. */
static uint32_t cache_shrink(uint32_t pages)
{
	uint32_t freed = 0;

	struct cached_block *b = cache.oldest;

	while (b && freed < pages) {
		struct cached_block *newer = b->newer;
		if (!b->busy) {
			unlink_block(b);
			freed += free_block(b);
			cache_stats.evictions++;
		}
		b = newer;
	}
	return freed;
}

void cache_init(void *meta, uint32_t nframes)
{
	memset(&cache_stats, 0, sizeof(cache_stats));
	cache.nbuckets = buckets_for(nframes);
	cache.hash = meta;
	memset(cache.hash, 0, cache_meta_bytes(nframes));
	cache.oldest = cache.newest = NULL;
	phys_set_shrinker(cache_shrink);
}

const struct cached_block *cache_block_next(const struct cached_block *b)
{
	return b->pnext;
}

void cache_forgetall(struct vmproc *vmp)
{
	while (vmp->vm_yielded) {
		struct cached_block *b = vmp->vm_yielded;
		unlink_block(b);
		free_block(b);
		cache_stats.forgets++;
	}
}

/* The region of vmp that holds all of [addr, addr + len) as private
 * anonymous memory, with the arguments checked; NULL with *err set. */
static struct vir_region *block_region(struct vmproc *vmp, vir_bytes addr, vir_bytes len, int *err)
{
	struct vir_region *r;

	*err = EINVAL;
	if ((addr | len) & VM_PAGE_MASK || len == 0 || len > VM_CACHE_MAXPAGES * VM_PAGE_SIZE ||
	    len > 0u - addr)
		return NULL;
	*err = EFAULT;
	if ((r = map_lookup(vmp, addr)) == NULL || len > r->vaddr + r->length - addr)
		return NULL;
	if (r->memtype != &mem_type_anon || (r->flags & VR_SHARED))
		return NULL;
	return r;
}

static int cache_yield(struct vmproc *vmp, struct vir_region *r, vir_bytes addr, vir_bytes len,
		       uint64_t id)
{
	uint32_t pages = len >> VM_PAGE_SHIFT;
	struct cached_block *b = slaballoc(block_size(pages));

	if (b == NULL)
		return ENOMEM;
	/* Every page of a block exists: untouched ones are yielded as zero. */
	if (map_handle_memory(vmp, r, addr, len, false) != VM_OK) {
		slabfree(b, block_size(pages));
		return ENOMEM;
	}
	USE(b, {
		b->id = id;
		b->owner = vmp->vm_endpoint;
		b->pages = pages;
		for (uint32_t i = 0; i < pages; i++) {
			struct phys_region *pr = map_phys_at(vmp, addr + (i << VM_PAGE_SHIFT));
			b->pb[i] = pr->ph;
			pb_take_cacheref(pr->ph);
			pb_unreference(pr);
		}
	});
	struct cached_block *old = lookup(b->owner, id);
	if (old) {
		/* A yield under an id already held replaces that block. */
		unlink_block(old);
		free_block(old);
		cache_stats.forgets++;
	}
	link_block(vmp, b);
	cache_stats.yields++;
	return VM_OK;
}

static int cache_get(struct vmproc *vmp, struct vir_region *r, vir_bytes addr, vir_bytes len,
		     uint64_t id)
{
	struct cached_block *b = lookup(vmp->vm_endpoint, id);
	uint32_t i;

	if (b == NULL) {
		cache_stats.misses++;
		return ESRCH;
	}
	if (b->pages != len >> VM_PAGE_SHIFT)
		return EFAULT;
	/* Busy while memory is allocated below, so that the shrinker cannot
	 * forget it under our feet; it keeps its age if the get fails. */
	USE(b, b->busy = true);
	if (pt_ptalloc_in_range(&vmp->vm_pt, addr, len) != VM_OK)
		goto nomem;
	map_unreference_range(vmp, addr, addr + len);
	for (i = 0; i < b->pages; i++)
		if (pb_reference(b->pb[i], r, addr + (i << VM_PAGE_SHIFT)) == NULL)
			break;
	if (i < b->pages) {
		map_unreference_range(vmp, addr, addr + len);
		goto nomem;
	}
	unlink_block(b);
	for (i = 0; i < b->pages; i++) {
		struct phys_region *pr = map_phys_at(vmp, addr + (i << VM_PAGE_SHIFT));
		pb_drop_cacheref(b->pb[i]);
		if (map_ph_writept(vmp, pr) != VM_OK)
			panic("%s: page table for 0x%x vanished", __func__, pr->vaddr);
	}
	slabfree(b, block_size(b->pages));
	cache_stats.hits++;
	return VM_OK;
nomem:
	USE(b, b->busy = false);
	return ENOMEM;
}

static uint64_t id64(uint32_t lo, uint32_t hi)
{
	return ((uint64_t)hi << 32) | lo;
}

int do_yieldblockgetblock(message *m)
{
	struct vmproc *vmp;
	struct vir_region *r;
	uint64_t yid = id64(m->m_yb.yield_lo, m->m_yb.yield_hi);
	uint64_t gid = id64(m->m_yb.get_lo, m->m_yb.get_hi);
	int res;

	if ((res = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return res;
	if ((r = block_region(vmp, m->m_yb.addr, m->m_yb.len, &res)) == NULL)
		return res;
	if (yid == VM_BLOCKID_NONE && gid == VM_BLOCKID_NONE)
		return EINVAL;
	if (yid != VM_BLOCKID_NONE &&
	    (res = cache_yield(vmp, r, m->m_yb.addr, m->m_yb.len, yid)) != VM_OK)
		return res;
	if (gid != VM_BLOCKID_NONE)
		return cache_get(vmp, r, m->m_yb.addr, m->m_yb.len, gid);
	return VM_OK;
}

int do_forgetblock(message *m)
{
	struct vmproc *vmp;
	struct cached_block *b;
	int res;

	if ((res = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return res;
	b = lookup(vmp->vm_endpoint, id64(m->m_forget.id_lo, m->m_forget.id_hi));
	if (b) {
		/* Forgetting a block VM has already forgotten is no error. */
		unlink_block(b);
		free_block(b);
		cache_stats.forgets++;
	}
	return VM_OK;
}

int do_forgetblocks(message *m)
{
	struct vmproc *vmp;
	int res;

	if ((res = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return res;
	cache_forgetall(vmp);
	return VM_OK;
}

uint32_t cache_sanitycheck(void (*claim)(const struct phys_block *pb, void *arg), void *arg)
{
	uint32_t findings = 0, blocks = 0, pages = 0;

	for (struct cached_block *b = cache.oldest; b; b = b->newer) {
		struct vmproc *vmp = &vmproc[VM_ENDPOINT_SLOT(b->owner)];
		if (!(vmp->vm_flags & VMF_INUSE) || vmp->vm_endpoint != b->owner ||
		    lookup(b->owner, b->id) != b || (b->newer && b->newer->older != b)) {
			sanity_report(SK_CACHE, SANITY_NO_FRAME,
				      "cache: block 0x%x%08x of %d is not where it belongs "
				      "(owner gone, or hash or age list broken)",
				      (uint32_t)(b->id >> 32), (uint32_t)b->id, b->owner);
			findings++;
		}
		for (uint32_t i = 0; i < b->pages; i++) {
			struct phys_block *pb = b->pb[i];
			if (pb->cacheref == 0 || pb->refcount < pb->cacheref) {
				sanity_report(SK_REFCOUNT, pb->phys,
					      "cache: block 0x%x page %u: frame 0x%x has "
					      "refcount %u, cache references %u",
					      (uint32_t)b->id, i, pb->phys, pb->refcount,
					      pb->cacheref);
				findings++;
			}
			/* A frame only the cache holds is the cache's; one a
			 * region maps too is claimed with the region. */
			if (pb->firstregion == NULL && claim)
				claim(pb, arg);
		}
		blocks++;
		pages += b->pages;
	}
	if (blocks != cache_stats.blocks || pages != cache_stats.pages) {
		sanity_report(SK_COUNTER, SANITY_NO_FRAME,
			      "cache: %u blocks / %u pages counted, %u / %u recorded", blocks,
			      pages, cache_stats.blocks, cache_stats.pages);
		findings++;
	}
	return findings;
}
