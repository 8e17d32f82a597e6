/*
 * Slab allocator for VM's own objects.
 *
 * One cache per object size (rounded up to 8 bytes). A slab is one page
 * taken from the physical allocator and reached through the machine's
 * direct map: a header at the start of the page (magic, object size, a
 * bitmap of objects in use, list links) and the objects after it. An
 * object's slab is found by rounding its address down to the page, so
 * freeing needs no lookup. A cache keeps its slabs on two lists, partial
 * (room left) and full; a slab whose last object is freed goes back to
 * the physical allocator at once, so free memory returns to its level when
 * VM's work is undone.
 */
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "slab.h"
#include "util.h"

#define SLAB_MAGIC 0x51ab51abu
#define SLAB_BITWORDS 8 /* up to 512 objects a page */
#define NCACHES (SLAB_MAXSIZE / SLAB_GRAIN + 1)

enum slab_list { SLAB_PARTIAL = 1, SLAB_FULL };

struct slabheader {
	uint32_t magic;
	uint16_t size;   /* object size */
	uint16_t nobjs;  /* objects in the page */
	uint16_t nused;  /* objects allocated */
	uint16_t list;   /* enum slab_list */
	phys_bytes phys; /* this page */
	struct slabheader *next;
	struct slabheader *prev;
	uint64_t used[SLAB_BITWORDS]; /* bit set: object allocated */
};

#define SLAB_OBJ0 ((sizeof(struct slabheader) + 15) & ~(size_t)15)

struct slabcache {
	struct slabheader *list[3]; /* indexed by enum slab_list */
	uint32_t pages;
	uint32_t inuse;
};

static struct slabcache caches[NCACHES];
static uint32_t total_pages;

void slab_init(void)
{
	memset(caches, 0, sizeof(caches));
	total_pages = 0;
}

static void list_add(struct slabcache *c, struct slabheader *s, enum slab_list l)
{
	s->list = (uint16_t)l;
	s->prev = NULL;
	s->next = c->list[l];
	if (s->next)
		s->next->prev = s;
	c->list[l] = s;
}

static void list_del(struct slabcache *c, struct slabheader *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->list[s->list] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static struct slabheader *slab_newpage(struct slabcache *c, uint16_t size)
{
	phys_bytes p = alloc_mem(1, 0);
	if (p == NO_MEM)
		return NULL;
	struct slabheader *s = sys_directmap(p);
	memset(s, 0, sizeof(*s));
	s->magic = SLAB_MAGIC;
	s->size = size;
	s->nobjs = (uint16_t)((VM_PAGE_SIZE - SLAB_OBJ0) / size);
	if (s->nobjs > SLAB_BITWORDS * 64)
		s->nobjs = SLAB_BITWORDS * 64;
	s->phys = p;
	list_add(c, s, SLAB_PARTIAL);
	c->pages++;
	total_pages++;
	return s;
}

static size_t round_size(size_t bytes)
{
	if (bytes == 0 || bytes > SLAB_MAXSIZE)
		panic("%s: object of %zu bytes (1..%d)", __func__, bytes, SLAB_MAXSIZE);
	return (bytes + SLAB_GRAIN - 1) & ~(size_t)(SLAB_GRAIN - 1);
}

void *slaballoc(size_t bytes)
{
	size_t size = round_size(bytes);
	struct slabcache *c = &caches[size / SLAB_GRAIN];
	struct slabheader *s = c->list[SLAB_PARTIAL];

	if (alloc_injected_failure())
		return NULL;
	if (s == NULL && (s = slab_newpage(c, (uint16_t)size)) == NULL)
		return NULL;
	for (unsigned w = 0; w < SLAB_BITWORDS; w++) {
		if (s->used[w] == ~0ULL)
			continue;
		unsigned i = w * 64 + (unsigned)__builtin_ctzll(~s->used[w]);
		if (i >= s->nobjs)
			break;
		s->used[w] |= 1ULL << (i % 64);
		s->nused++;
		c->inuse++;
		if (s->nused == s->nobjs) {
			list_del(c, s);
			list_add(c, s, SLAB_FULL);
		}
		void *obj = (char *)s + SLAB_OBJ0 + (size_t)i * size;
		memset(obj, 0, size);
		return obj;
	}
	panic("%s: slab 0x%x on the partial list is full (%u of %u)", __func__, s->phys, s->nused,
	      s->nobjs);
}

void slabfree(void *obj, size_t bytes)
{
	size_t size = round_size(bytes);
	struct slabcache *c = &caches[size / SLAB_GRAIN];
	struct slabheader *s = (void *)((uintptr_t)obj & ~(uintptr_t)VM_PAGE_MASK);
	size_t off = (size_t)((char *)obj - (char *)s);

	if (s->magic != SLAB_MAGIC || s->size != size)
		panic("%s: %p (%zu bytes) is not a slab object (magic 0x%x, size %u)", __func__,
		      obj, bytes, s->magic, s->size);
	if (off < SLAB_OBJ0 || (off - SLAB_OBJ0) % size != 0)
		panic("%s: %p is not at an object boundary of slab 0x%x", __func__, obj, s->phys);
	unsigned i = (unsigned)((off - SLAB_OBJ0) / size);
	if (!(s->used[i / 64] & (1ULL << (i % 64))))
		panic("%s: object %u of slab 0x%x (%zu bytes) freed twice", __func__, i, s->phys,
		      size);
	s->used[i / 64] &= ~(1ULL << (i % 64));
	c->inuse--;
	if (s->nused-- == s->nobjs) {
		list_del(c, s);
		list_add(c, s, SLAB_PARTIAL);
	}
	if (s->nused == 0) {
		list_del(c, s);
		s->magic = 0;
		c->pages--;
		total_pages--;
		free_mem(s->phys, 1);
	}
}

uint32_t slab_pages(void)
{
	return total_pages;
}

bool slab_stats_at(uint32_t i, struct slab_stats *st)
{
	for (uint32_t k = 0; k < NCACHES; k++) {
		if (caches[k].pages == 0 || i-- != 0)
			continue;
		uint32_t per = (uint32_t)((VM_PAGE_SIZE - SLAB_OBJ0) / (k * SLAB_GRAIN));
		if (per > SLAB_BITWORDS * 64)
			per = SLAB_BITWORDS * 64;
		st->size = k * SLAB_GRAIN;
		st->pages = caches[k].pages;
		st->objects = caches[k].pages * per;
		st->inuse = caches[k].inuse;
		return true;
	}
	return false;
}

uint32_t slab_sanitycheck(void (*cb)(phys_bytes page, void *arg), void *arg)
{
	uint32_t findings = 0, pages = 0;

	for (uint32_t k = 1; k < NCACHES; k++) {
		struct slabcache *c = &caches[k];
		uint32_t cpages = 0, inuse = 0;
		for (int l = SLAB_PARTIAL; l <= SLAB_FULL; l++) {
			struct slabheader *prev = NULL;
			for (struct slabheader *s = c->list[l]; s; prev = s, s = s->next) {
				uint32_t bits = 0;
				for (unsigned w = 0; w < SLAB_BITWORDS; w++)
					bits += (uint32_t)__builtin_popcountll(s->used[w]);
				if (s->magic != SLAB_MAGIC || s->size != k * SLAB_GRAIN ||
				    s->prev != prev || s->list != l) {
					vm_printf(
					    "sanity: slab: page %p of the %u-byte cache has a "
					    "corrupt header (magic 0x%x size %u)\n",
					    (void *)s, k * SLAB_GRAIN, s->magic, s->size);
					return findings + 1;
				}
				if (bits != s->nused || s->nused == 0 ||
				    (l == SLAB_FULL) != (s->nused == s->nobjs)) {
					vm_printf(
					    "sanity: slab: page 0x%x (%u-byte objects): %u in "
					    "use, bitmap has %u, %u objects, on the %s list\n",
					    s->phys, s->size, s->nused, bits, s->nobjs,
					    l == SLAB_FULL ? "full" : "partial");
					findings++;
				}
				cpages++;
				inuse += s->nused;
				if (cb)
					cb(s->phys, arg);
			}
		}
		if (cpages != c->pages || inuse != c->inuse) {
			vm_printf("sanity: slab: %u-byte cache counts %u pages/%u objects, lists "
				  "have %u/%u\n",
				  k * SLAB_GRAIN, c->pages, c->inuse, cpages, inuse);
			findings++;
		}
		pages += cpages;
	}
	if (pages != total_pages) {
		vm_printf("sanity: slab: %u pages counted, lists have %u\n", total_pages, pages);
		findings++;
	}
	return findings;
}
