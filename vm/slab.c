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
 *
 * Free objects hold SLAB_JUNK. In the VM_SANITY build each object is
 * followed by a trailer (its type and where it was allocated and freed)
 * and every slab page is read-only outside USE: the functions here unlock
 * the headers they change, as any other code does.
 */
#include <stdint.h>
#include <string.h>

#include "../sanity/report.h"
#include "alloc.h"
#include "glo.h"
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
	uint16_t stride; /* object size and trailer */
	phys_bytes phys; /* this page */
	struct slabheader *next;
	struct slabheader *prev;
	uint64_t used[SLAB_BITWORDS]; /* bit set: object allocated */
};

#define SLAB_OBJ0 ((sizeof(struct slabheader) + 15) & ~(size_t)15)

#ifdef VMSCOPE_SANITY_BUILD
struct slab_trailer {
	struct site_pair sites;
	const char *type; /* NULL: unnamed */
};
#define TRAILER_BYTES sizeof(struct slab_trailer)
#else
#define TRAILER_BYTES 0
#endif

struct slabcache {
	struct slabheader *list[3]; /* indexed by enum slab_list */
	uint32_t pages;
	uint32_t inuse;
};

static struct slabcache caches[NCACHES];
static uint32_t total_pages;
static char *directmap; /* VM's view of physical address 0 */

static bool is_slab_page(phys_bytes frame)
{
	const struct slabheader *s = (const void *)(directmap + frame);
	return s->magic == SLAB_MAGIC && s->phys == frame;
}

void slab_init(void)
{
	memset(caches, 0, sizeof(caches));
	total_pages = 0;
	directmap = sys_directmap(0);
	lock_init(directmap, vm_kinfo.mem_bytes, is_slab_page);
}

bool slab_is_page(phys_bytes frame)
{
	return (frame & VM_PAGE_MASK) == 0 && frame < vm_kinfo.mem_bytes && is_slab_page(frame);
}

static size_t stride_of(size_t size)
{
	return (size + TRAILER_BYTES + SLAB_GRAIN - 1) & ~(size_t)(SLAB_GRAIN - 1);
}

static uint16_t objs_per_page(size_t size)
{
	size_t n = (VM_PAGE_SIZE - SLAB_OBJ0) / stride_of(size);
	return (uint16_t)(n > SLAB_BITWORDS * 64 ? SLAB_BITWORDS * 64 : n);
}

static void *object(const struct slabheader *s, unsigned i)
{
	return (char *)s + SLAB_OBJ0 + (size_t)i * s->stride;
}

#ifdef VMSCOPE_SANITY_BUILD
static struct slab_trailer *trailer(const struct slabheader *s, unsigned i)
{
	return (void *)((char *)object(s, i) + s->size);
}
#endif

static bool in_use(const struct slabheader *s, unsigned i)
{
	return (s->used[i / 64] >> (i % 64)) & 1;
}

static void list_add(struct slabcache *c, struct slabheader *s, enum slab_list l)
{
	USE(s, s->list = (uint16_t)l; s->prev = NULL; s->next = c->list[l]);
	if (s->next)
		USE(s->next, s->next->prev = s);
	c->list[l] = s;
}

static void list_del(struct slabcache *c, struct slabheader *s)
{
	if (s->prev)
		USE(s->prev, s->prev->next = s->next);
	else
		c->list[s->list] = s->next;
	if (s->next)
		USE(s->next, s->next->prev = s->prev);
	USE(s, s->next = s->prev = NULL);
}

static struct slabheader *slab_newpage(struct slabcache *c, uint16_t size)
{
	phys_bytes p = alloc_mem(1, 0);
	if (p == NO_MEM)
		return NULL;
	struct slabheader *s = sys_directmap(p);
	memset(s, 0, SLAB_OBJ0);
	memset((char *)s + SLAB_OBJ0, SLAB_JUNK, VM_PAGE_SIZE - SLAB_OBJ0);
	s->magic = SLAB_MAGIC;
	s->size = size;
	s->stride = (uint16_t)stride_of(size);
	s->nobjs = objs_per_page(size);
	s->phys = p;
#ifdef VMSCOPE_SANITY_BUILD
	for (unsigned i = 0; i < s->nobjs; i++)
		memset(trailer(s, i), 0, TRAILER_BYTES);
	lock_page_new(p);
#endif
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

void *slaballoc_at(size_t bytes, const char *type, const char *where)
{
	size_t size = round_size(bytes);
	struct slabcache *c = &caches[size / SLAB_GRAIN];
	struct slabheader *s = c->list[SLAB_PARTIAL];

	(void)type;
	(void)where;
	if (alloc_injected_failure(where))
		return NULL;
	if (s == NULL && (s = slab_newpage(c, (uint16_t)size)) == NULL)
		return NULL;
	for (unsigned w = 0; w < SLAB_BITWORDS; w++) {
		if (s->used[w] == ~0ULL)
			continue;
		unsigned i = w * 64 + (unsigned)__builtin_ctzll(~s->used[w]);
		if (i >= s->nobjs)
			break;
		void *obj = object(s, i);
		/* One unlock for all the writes to this page below (the USEs
		 * inside nest without a system call). */
		USE_BEGIN(s);
		USE(s, s->used[w] |= 1ULL << (i % 64); s->nused++; memset(obj, 0, size));
#ifdef VMSCOPE_SANITY_BUILD
		struct slab_trailer *t = trailer(s, i);
		USE(s, site_set(&t->sites.alloc, where); t->sites.freed.where = NULL;
		    t->type = type);
#endif
		c->inuse++;
		if (s->nused == s->nobjs) {
			list_del(c, s);
			list_add(c, s, SLAB_FULL);
		}
		USE_END(s);
		return obj;
	}
	panic("%s: slab 0x%x on the partial list is full (%u of %u)", __func__, s->phys, s->nused,
	      s->nobjs);
}

/* The slab page of obj and its index there, or NULL with *why said. */
static struct slabheader *slab_of(const void *obj, unsigned *index, const char **why)
{
	uintptr_t off = (uintptr_t)obj - (uintptr_t)directmap;

	if ((uintptr_t)obj < (uintptr_t)directmap || off >= vm_kinfo.mem_bytes) {
		*why = "is not in VM's view of memory";
		return NULL;
	}
	phys_bytes frame = (phys_bytes)off & ~(phys_bytes)VM_PAGE_MASK;
	struct slabheader *s = (void *)(directmap + frame);
	size_t in = (size_t)(off & VM_PAGE_MASK);
	if (!is_slab_page(frame)) {
		*why = "is not in a slab page";
		return NULL;
	}
	if (in < SLAB_OBJ0 || (in - SLAB_OBJ0) % s->stride != 0 ||
	    (in - SLAB_OBJ0) / s->stride >= s->nobjs) {
		*why = "is not at an object boundary";
		return NULL;
	}
	*index = (unsigned)((in - SLAB_OBJ0) / s->stride);
	return s;
}

bool slab_valid(const void *obj, size_t bytes)
{
	const char *why;
	unsigned i;
	struct slabheader *s = slab_of(obj, &i, &why);

	return s != NULL && bytes > 0 && bytes <= SLAB_MAXSIZE && s->size == round_size(bytes) &&
	       in_use(s, i);
}

bool slab_object_info(const void *obj, phys_bytes *page, const char **type,
		      const struct site_pair **sites)
{
	const char *why;
	unsigned i;
	struct slabheader *s = slab_of(obj, &i, &why);

	if (s == NULL || !in_use(s, i))
		return false;
	*page = s->phys;
	*type = NULL;
	*sites = NULL;
#ifdef VMSCOPE_SANITY_BUILD
	*type = trailer(s, i)->type;
	*sites = &trailer(s, i)->sites;
#endif
	return true;
}

/* Free objects are junk; report one that is not. */
static uint32_t check_junk(const struct slabheader *s, unsigned i)
{
	const uint8_t *b = object(s, i);

	for (unsigned k = 0; k < s->size; k++) {
		if (b[k] == SLAB_JUNK)
			continue;
		const struct vm_site *alloc = NULL, *freed = NULL;
		const char *type = NULL;
#ifdef VMSCOPE_SANITY_BUILD
		alloc = &trailer(s, i)->sites.alloc;
		freed = &trailer(s, i)->sites.freed;
		type = trailer(s, i)->type;
#endif
		sanity_report_sites(SK_WRITE_AFTER_FREE, s->phys, alloc, freed,
				    "free object %u (%s, %u bytes) of slab page 0x%08x was written "
				    "at offset %u (0x%02x)",
				    i, type ? type : "unnamed", s->size, s->phys, k, b[k]);
		return 1;
	}
	return 0;
}

void slabfree_at(void *obj, size_t bytes, const char *where)
{
	size_t size = round_size(bytes);
	struct slabcache *c = &caches[size / SLAB_GRAIN];
	const char *why;
	unsigned i;
	struct slabheader *s = slab_of(obj, &i, &why);
	char here[160]; /* formatted only for a report */

	if (s == NULL || s->size != size) {
		site_format_here(here, sizeof(here), where);
		if (s != NULL)
			sanity_report(SK_BAD_FREE, s->phys,
				      "free of %p (%zu bytes) at %s: the pointer is in a slab of "
				      "%u-byte objects; ignored",
				      obj, bytes, here, s->size);
		else
			sanity_report(SK_BAD_FREE, SANITY_NO_FRAME,
				      "free of %p (%zu bytes) at %s: the pointer %s; ignored", obj,
				      bytes, here, why);
		return;
	}
	const struct vm_site *alloc = NULL, *freed = NULL;
	const char *type = NULL;
#ifdef VMSCOPE_SANITY_BUILD
	struct slab_trailer *t = trailer(s, i);
	alloc = &t->sites.alloc;
	freed = &t->sites.freed;
	type = t->type;
#endif
	if (!in_use(s, i)) {
		site_format_here(here, sizeof(here), where);
		sanity_report_sites(SK_DOUBLE_FREE, s->phys, alloc, freed,
				    "object %u (%s, %zu bytes) of slab page 0x%08x freed again at "
				    "%s; ignored",
				    i, type ? type : "unnamed", size, s->phys, here);
		return;
	}
	USE_BEGIN(s); /* as in slaballoc */
	USE(s, s->used[i / 64] &= ~(1ULL << (i % 64)); memset(obj, SLAB_JUNK, size));
#ifdef VMSCOPE_SANITY_BUILD
	USE(s, site_set(&t->sites.freed, where));
#endif
	(void)freed;
	(void)alloc;
	(void)type;
	c->inuse--;
	if (s->nused == s->nobjs) {
		list_del(c, s);
		list_add(c, s, SLAB_PARTIAL);
	}
	USE(s, s->nused--);
	USE_END(s);
	if (s->nused == 0) {
		list_del(c, s);
		USE(s, s->magic = 0);
#ifdef VMSCOPE_SANITY_BUILD
		lock_page_retire(s->phys);
#endif
		c->pages--;
		total_pages--;
		free_mem(s->phys, 1);
	}
}

bool slab_describe_write(phys_bytes p, const char *code)
{
	phys_bytes frame = p & ~(phys_bytes)VM_PAGE_MASK;

	if (!slab_is_page(frame))
		return false;
	const struct slabheader *s = (const void *)(directmap + frame);
	uint32_t in = p & VM_PAGE_MASK;
	if (in < SLAB_OBJ0) {
		sanity_report(SK_LOCKED_WRITE, frame,
			      "write to the header of slab page 0x%08x (%u-byte objects), "
			      "offset %u, outside USE, by %s",
			      frame, s->size, in, code);
		return true;
	}
	unsigned i = (unsigned)((in - SLAB_OBJ0) / s->stride);
	uint32_t at = (uint32_t)((in - SLAB_OBJ0) % s->stride);
	bool used = i < s->nobjs && in_use(s, i);
	const struct vm_site *alloc = NULL, *freed = NULL;
	const char *type = NULL;
#ifdef VMSCOPE_SANITY_BUILD
	if (i < s->nobjs) {
		alloc = &trailer(s, i)->sites.alloc;
		freed = used ? NULL : &trailer(s, i)->sites.freed;
		type = trailer(s, i)->type;
	}
#endif
	sanity_report_sites(SK_LOCKED_WRITE, frame, alloc, freed,
			    "write to %s %s %u at offset %u of slab page 0x%08x (%u-byte "
			    "objects) outside USE, by %s",
			    used ? "allocated" : "free", type ? type : "object", i, at, frame,
			    s->size, code);
	return true;
}

size_t slab_stride(size_t bytes)
{
	return stride_of(round_size(bytes));
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
		st->size = k * SLAB_GRAIN;
		st->pages = caches[k].pages;
		st->objects = caches[k].pages * objs_per_page(k * SLAB_GRAIN);
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
				    s->stride != stride_of(s->size) ||
				    s->nobjs != objs_per_page(s->size) || s->prev != prev ||
				    s->list != l) {
					sanity_report(SK_SLAB, SANITY_NO_FRAME,
						      "page %p of the %u-byte cache has a corrupt "
						      "header (magic 0x%x size %u)",
						      (void *)s, k * SLAB_GRAIN, s->magic, s->size);
					return findings + 1;
				}
				if (bits != s->nused || s->nused == 0 ||
				    (l == SLAB_FULL) != (s->nused == s->nobjs)) {
					sanity_report(SK_SLAB, s->phys,
						      "page 0x%08x (%u-byte objects): %u in use, "
						      "bitmap has %u, %u objects, on the %s list",
						      s->phys, s->size, s->nused, bits, s->nobjs,
						      l == SLAB_FULL ? "full" : "partial");
					findings++;
				}
				for (unsigned i = 0; i < s->nobjs; i++)
					if (!in_use(s, i))
						findings += check_junk(s, i);
				cpages++;
				inuse += s->nused;
				if (cb)
					cb(s->phys, arg);
			}
		}
		if (cpages != c->pages || inuse != c->inuse) {
			sanity_report(SK_SLAB, SANITY_NO_FRAME,
				      "%u-byte cache counts %u pages/%u objects, lists have %u/%u",
				      k * SLAB_GRAIN, c->pages, c->inuse, cpages, inuse);
			findings++;
		}
		pages += cpages;
	}
	if (pages != total_pages) {
		sanity_report(SK_SLAB, SANITY_NO_FRAME, "%u pages counted, lists have %u",
			      total_pages, pages);
		findings++;
	}
	return findings;
}
