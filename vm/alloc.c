/*
 * Physical page allocator.
 *
 * Free memory is kept as maximal runs of free frames. Each run is tagged at
 * both ends (its length at its first frame, its first frame at its last),
 * so freeing a frame finds and merges its free neighbours in O(1). Runs are
 * kept in lists by size class (floor(log2(length))) with a bit per
 * non-empty class, so a single page is taken in O(1) from the smallest run
 * there is, which leaves long runs intact for contiguous requests. Frames
 * are always taken from the low end of a run: the side the search scans
 * from, so that successive allocations stay together. A histogram of run
 * lengths keeps the largest free run known without scanning.
 *
 * The metadata (five words and a bit per frame) lives in physical memory
 * VM takes for itself at boot, so VM's own memory is accounted for.
 */
#include <string.h>

#include "../sanity/report.h"
#include "alloc.h"
#include "util.h"

#define NIL 0xFFFFFFFFu
#define NBUCKETS 32
#define LOWER16MB_FRAMES ((16u << 20) >> VM_PAGE_SHIFT)

static struct {
	uint32_t nframes; /* frames of the machine */
	uint32_t npool;   /* frames handed out or free */
	uint32_t nfree;
	uint32_t largest;
	uint32_t *run_len;   /* at a run's first frame: its length; else 0 */
	uint32_t *run_first; /* at a run's last frame: its first frame */
	uint32_t *next;      /* size-class list links, at a run's first frame */
	uint32_t *prev;
	uint32_t *nruns;   /* number of runs of each length, [0..nframes] */
	uint32_t *freemap; /* one bit per frame, set when free */
	uint32_t bucket[NBUCKETS];
	uint32_t nonempty; /* bit b set when bucket b has a run */
	phys_bytes self_base;
	uint32_t self_pages;
	uint32_t nreserved;
	struct kinfo_range reserved[VM_KINFO_MAX_RESERVED];
	phys_shrinker_fn shrinker;
#ifdef VMSCOPE_SANITY_BUILD
	struct site_pair *site; /* per frame */
#endif
} pm;

#ifdef VMSCOPE_SANITY_BUILD
#define SITE_BYTES(n) ((size_t)(n) * sizeof(struct site_pair))
#else
#define SITE_BYTES(n) 0
#endif

const struct site_pair *phys_frame_sites(uint32_t frame)
{
#ifdef VMSCOPE_SANITY_BUILD
	if (frame < pm.nframes && pm.site)
		return &pm.site[frame];
#endif
	(void)frame;
	return NULL;
}

static unsigned bucket_of(uint32_t len)
{
	return 31u - (unsigned)__builtin_clz(len);
}

bool phys_frame_free(uint32_t f)
{
	return f < pm.nframes && (pm.freemap[f / 32] >> (f % 32)) & 1;
}

static void freemap_set(uint32_t first, uint32_t n, bool free)
{
	for (uint32_t f = first; f < first + n; f++) {
		if (free)
			pm.freemap[f / 32] |= 1u << (f % 32);
		else
			pm.freemap[f / 32] &= ~(1u << (f % 32));
	}
}

static void run_insert(uint32_t first, uint32_t len)
{
	unsigned b = bucket_of(len);

	pm.run_len[first] = len;
	pm.run_first[first + len - 1] = first;
	pm.prev[first] = NIL;
	pm.next[first] = pm.bucket[b];
	if (pm.bucket[b] != NIL)
		pm.prev[pm.bucket[b]] = first;
	pm.bucket[b] = first;
	pm.nonempty |= 1u << b;
	pm.nruns[len]++;
	if (len > pm.largest)
		pm.largest = len;
}

static void run_remove(uint32_t first)
{
	uint32_t len = pm.run_len[first];
	unsigned b = bucket_of(len);

	if (pm.prev[first] != NIL)
		pm.next[pm.prev[first]] = pm.next[first];
	else
		pm.bucket[b] = pm.next[first];
	if (pm.next[first] != NIL)
		pm.prev[pm.next[first]] = pm.prev[first];
	if (pm.bucket[b] == NIL)
		pm.nonempty &= ~(1u << b);
	pm.run_len[first] = 0;
	pm.nruns[len]--;
}

/*
 * After runs were removed and inserted: if no run of the recorded largest
 * length is left, walk down to the next length in use. Callers insert
 * before they fix, so after taking n pages from the largest run the walk
 * stops at the remainder within n steps, and after a merge it does not
 * walk at all: the cost stays proportional to the pages handed out.
 */
static void fix_largest(void)
{
	while (pm.largest > 0 && pm.nruns[pm.largest] == 0)
		pm.largest--;
}

/* First frame of a free run of at least n frames that ends at or below
 * limit (a frame number), or NIL. */
static uint32_t find_run(uint32_t n, uint32_t limit)
{
	unsigned b0 = bucket_of(n);
	uint32_t mask = pm.nonempty & ~((1u << b0) - 1);

	while (mask != 0) {
		unsigned b = (unsigned)__builtin_ctz(mask);
		mask &= mask - 1;
		for (uint32_t r = pm.bucket[b]; r != NIL; r = pm.next[r]) {
			/* Above the request's own class any run fits. */
			if (pm.run_len[r] >= n && r + n <= limit)
				return r;
		}
	}
	return NIL;
}

/* The n-th event from now on (an allocation to fail, a free to skip):
 * events counted since set, and the one wanted (0: none). */
struct nth_event {
	unsigned long seen, target;
};

static bool nth_event_hit(struct nth_event *e)
{
	if (++e->seen != e->target)
		return false;
	e->target = 0;
	return true;
}

static unsigned long nth_event_set(struct nth_event *e, unsigned long target)
{
	unsigned long seen = e->seen;

	e->seen = 0;
	e->target = target;
	return seen;
}

/* Fault injection (vm_fail_nth_alloc), shared with the slab so that a
 * sweep reaches every site; leak injection (vm_leak_nth_free). */
static struct nth_event fail_alloc, leak_free;
static const char *fail_where; /* the allocating line of the injected failure */

bool alloc_injected_failure(const char *where)
{
	if (!nth_event_hit(&fail_alloc))
		return false;
	fail_where = where;
	return true;
}

unsigned long vm_fail_nth_alloc(unsigned long n)
{
	fail_where = NULL;
	return nth_event_set(&fail_alloc, n);
}

const char *vm_fail_site(void)
{
	return fail_where;
}

unsigned long vm_leak_nth_free(unsigned long n)
{
	return nth_event_set(&leak_free, n);
}

phys_bytes alloc_mem_at(uint32_t pages, uint32_t flags, const char *where)
{
	uint32_t limit = (flags & PAF_LOWER16MB) ? LOWER16MB_FRAMES : pm.nframes;
	uint32_t r;

	if (pages == 0 || pages > pm.nframes || alloc_injected_failure(where))
		return NO_MEM;
	/* The shrinker frees frames wherever they are: a single page is found
	 * as soon as any is freed, but a run may need luck. A multi-page
	 * request gives up once the shrinker has freed eight times what it
	 * asked for, rather than empty the cache for nothing. */
	uint32_t freed = 0;
	while ((r = find_run(pages, limit)) == NIL) {
		uint32_t got;
		if (pm.shrinker == NULL || (pages > 1 && freed >= 8 * pages) ||
		    (got = pm.shrinker(pages)) == 0)
			return NO_MEM;
		freed += got;
	}
	uint32_t len = pm.run_len[r];
	run_remove(r);
	if (len > pages)
		run_insert(r + pages, len - pages);
	fix_largest();
	freemap_set(r, pages, false);
	pm.nfree -= pages;
	phys_bytes base = (phys_bytes)r << VM_PAGE_SHIFT;
#ifdef VMSCOPE_SANITY_BUILD
	for (uint32_t f = r; f < r + pages; f++) {
		site_set(&pm.site[f].alloc, where);
		pm.site[f].freed.where = NULL;
	}
#else
	(void)where;
#endif
	if (flags & PAF_CLEAR)
		sys_memset(MEMSET_PHYS, NONE, base, 0, (size_t)pages << VM_PAGE_SHIFT);
	return base;
}

/* Whether frames [first, first + n) are all pool frames: not reserved by
 * the machine and not VM's own metadata. */
static bool in_pool(uint32_t first, uint32_t n)
{
	uint32_t self = pm.self_base >> VM_PAGE_SHIFT;

	if (first < self + pm.self_pages && self < first + n)
		return false;
	for (uint32_t i = 0; i < pm.nreserved; i++) {
		uint32_t rb = pm.reserved[i].base >> VM_PAGE_SHIFT;
		uint32_t rn = (pm.reserved[i].len + VM_PAGE_MASK) >> VM_PAGE_SHIFT;
		if (first < rb + rn && rb < first + n)
			return false;
	}
	return true;
}

void free_mem_at(phys_bytes base, uint32_t pages, const char *where)
{
	uint32_t first = base >> VM_PAGE_SHIFT;
	char buf[160];

	if ((base & VM_PAGE_MASK) || pages == 0 || first >= pm.nframes ||
	    pages > pm.nframes - first || !in_pool(first, pages))
		panic("%s: bad range 0x%x, %u pages (outside the pool)", __func__, base, pages);
	for (uint32_t f = first; f < first + pages; f++)
		if (phys_frame_free(f))
			panic("%s: frame 0x%x freed twice (range 0x%x, %u pages) at %s", __func__,
			      f << VM_PAGE_SHIFT, base, pages,
			      site_format_here(buf, sizeof(buf), where));
	if (nth_event_hit(&leak_free)) {
		vm_printf("inject: leaking frame 0x%08x (%u page%s): not freed at %s\n", base,
			  pages, pages == 1 ? "" : "s", site_format_here(buf, sizeof(buf), where));
		return;
	}
#ifdef VMSCOPE_SANITY_BUILD
	for (uint32_t f = first; f < first + pages; f++)
		site_set(&pm.site[f].freed, where);
#endif
	freemap_set(first, pages, true);
	pm.nfree += pages;

	uint32_t len = pages;
	if (first > 0 && phys_frame_free(first - 1)) {
		uint32_t lf = pm.run_first[first - 1];
		len += pm.run_len[lf];
		run_remove(lf);
		first = lf;
	}
	uint32_t right = (base >> VM_PAGE_SHIFT) + pages;
	if (right < pm.nframes && phys_frame_free(right)) {
		len += pm.run_len[right];
		run_remove(right);
	}
	run_insert(first, len);
	fix_largest();
}

void phys_set_shrinker(phys_shrinker_fn fn)
{
	pm.shrinker = fn;
}

uint32_t phys_free_pages(void)
{
	return pm.nfree;
}

uint32_t phys_total_pages(void)
{
	return pm.npool;
}

uint32_t phys_largest_run(void)
{
	return pm.largest;
}

uint32_t phys_nframes(void)
{
	return pm.nframes;
}

void phys_self_range(phys_bytes *base, uint32_t *pages)
{
	*base = pm.self_base;
	*pages = pm.self_pages;
}

static bool reserved(const struct kinfo *ki, uint32_t f)
{
	phys_bytes a = (phys_bytes)f << VM_PAGE_SHIFT;

	for (uint32_t i = 0; i < ki->nr_reserved; i++)
		if (a >= ki->reserved[i].base && a - ki->reserved[i].base < ki->reserved[i].len)
			return true;
	return false;
}

int phys_init(const struct kinfo *ki, size_t extra_bytes, void **extra)
{
	uint32_t n = ki->mem_bytes >> VM_PAGE_SHIFT;
	size_t words = (size_t)n * 5 + 1 + (n + 31) / 32;
	/* The caller's part starts 16-byte aligned, for whatever it keeps. */
	size_t sites = (words * sizeof(uint32_t) + 15) & ~(size_t)15;
	size_t meta = sites + SITE_BYTES(n);
	size_t bytes = meta + extra_bytes;
	uint32_t self = (uint32_t)((bytes + VM_PAGE_MASK) >> VM_PAGE_SHIFT);

	memset(&pm, 0, sizeof(pm));
	pm.nframes = n;
	pm.nreserved =
	    ki->nr_reserved < VM_KINFO_MAX_RESERVED ? ki->nr_reserved : VM_KINFO_MAX_RESERVED;
	memcpy(pm.reserved, ki->reserved, pm.nreserved * sizeof(pm.reserved[0]));

	/* The metadata goes into the first stretch of pool frames long enough. */
	uint32_t start = NIL, run = 0;
	for (uint32_t f = 0; f < n && start == NIL; f++) {
		run = reserved(ki, f) ? 0 : run + 1;
		if (run == self)
			start = f + 1 - self;
	}
	if (start == NIL)
		return ENOMEM;
	pm.self_base = (phys_bytes)start << VM_PAGE_SHIFT;
	pm.self_pages = self;
	uint32_t *w = sys_directmap(pm.self_base);
	memset(w, 0, (size_t)self << VM_PAGE_SHIFT);
	pm.run_len = w;
	pm.run_first = w + n;
	pm.next = w + 2 * (size_t)n;
	pm.prev = w + 3 * (size_t)n;
	pm.nruns = w + 4 * (size_t)n;
	pm.freemap = w + 5 * (size_t)n + 1;
#ifdef VMSCOPE_SANITY_BUILD
	pm.site = (void *)((char *)w + sites);
#endif
	*extra = (char *)w + meta;
	for (unsigned b = 0; b < NBUCKETS; b++)
		pm.bucket[b] = NIL;

	/* Every other pool frame is free, in maximal runs. */
	uint32_t rs = NIL;
	for (uint32_t f = 0; f <= n; f++) {
		bool pool = f < n && !reserved(ki, f) && (f < start || f >= start + self);
		if (pool && rs == NIL)
			rs = f;
		if (!pool && rs != NIL) {
			freemap_set(rs, f - rs, true);
			run_insert(rs, f - rs);
			pm.nfree += f - rs;
			rs = NIL;
		}
	}
	pm.npool = pm.nfree;
	return VM_OK;
}

uint32_t phys_sanitycheck(void (*cb)(uint32_t first, uint32_t count, void *arg), void *arg)
{
	uint32_t findings = 0, nfree = 0, nruns = 0, largest = 0;

	for (unsigned b = 0; b < NBUCKETS; b++) {
		if (((pm.nonempty >> b) & 1) != (pm.bucket[b] != NIL)) {
			sanity_report(SK_ALLOCATOR, SANITY_NO_FRAME,
				      "allocator: bucket %u non-empty bit wrong", b);
			findings++;
		}
		uint32_t prev = NIL;
		for (uint32_t r = pm.bucket[b]; r != NIL; prev = r, r = pm.next[r]) {
			uint32_t len = pm.run_len[r];
			if (r >= pm.nframes || len == 0 || len > pm.nframes - r ||
			    bucket_of(len) != b || pm.prev[r] != prev) {
				sanity_report(SK_ALLOCATOR, (phys_bytes)r << VM_PAGE_SHIFT,
					      "allocator: run at frame 0x%x (length %u) is corrupt "
					      "in bucket %u",
					      r, len, b);
				return findings + 1; /* the list cannot be trusted further */
			}
			if (pm.run_first[r + len - 1] != r) {
				sanity_report(SK_ALLOCATOR, (phys_bytes)r << VM_PAGE_SHIFT,
					      "allocator: run 0x%x+%u: end tag says 0x%x", r, len,
					      pm.run_first[r + len - 1]);
				findings++;
			}
			for (uint32_t f = r; f < r + len; f++)
				if (!phys_frame_free(f)) {
					sanity_report(SK_ALLOCATOR, (phys_bytes)f << VM_PAGE_SHIFT,
						      "allocator: frame 0x%x of free run 0x%x+%u "
						      "is not marked free",
						      f, r, len);
					findings++;
					break;
				}
			if ((r > 0 && phys_frame_free(r - 1)) ||
			    (r + len < pm.nframes && phys_frame_free(r + len))) {
				sanity_report(SK_ALLOCATOR, (phys_bytes)r << VM_PAGE_SHIFT,
					      "allocator: run 0x%x+%u has a free neighbour "
					      "(not merged)",
					      r, len);
				findings++;
			}
			nfree += len;
			nruns++;
			if (len > largest)
				largest = len;
			if (cb)
				cb(r, len, arg);
		}
	}
	uint32_t bits = 0;
	for (uint32_t i = 0; i < (pm.nframes + 31) / 32; i++)
		bits += (uint32_t)__builtin_popcount(pm.freemap[i]);
	if (nfree != pm.nfree || bits != pm.nfree) {
		sanity_report(SK_ALLOCATOR, SANITY_NO_FRAME,
			      "allocator: %u free frames counted, %u in runs, %u in bitmap",
			      pm.nfree, nfree, bits);
		findings++;
	}
	if (largest != pm.largest) {
		sanity_report(SK_ALLOCATOR, SANITY_NO_FRAME,
			      "allocator: largest run is %u, recorded %u", largest, pm.largest);
		findings++;
	}
	uint32_t hist = 0;
	for (uint32_t l = 1; l <= pm.nframes; l++)
		hist += pm.nruns[l];
	if (hist != nruns) {
		sanity_report(SK_ALLOCATOR, SANITY_NO_FRAME,
			      "allocator: %u runs, histogram says %u", nruns, hist);
		findings++;
	}
	return findings;
}
