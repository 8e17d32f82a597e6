/*
 * model: the model-based random test of VM.
 *
 * Random sequences of spawn, fork, exit, exec, mmap (every option),
 * munmap (any range), brk, remap, shmunmap, grant, revoke, safecopy,
 * safemap, saferevmap, writes and reads run on the hosted machine and,
 * side by side, on a reference model of every process's memory. Every
 * read is compared byte for byte with the model, VM's full consistency
 * check (sanity_check) runs after every step, and every few hundred steps
 * every page VM has present is compared with the model as well (a sweep
 * through the page tables, which changes nothing).
 *
 * The model is deliberately naive, so that it is easy to believe: a
 * process is a sorted array of regions, a region an array of pointers to
 * page objects (NULL: never touched, reads as zero). A page object is
 * refcounted; a private region treats a page with more than one reference
 * as copy-on-write (semantically the snapshot copy fork promises), a shared
 * region writes it in place. Shared anonymous memory is an object of its
 * own that the region and its fork copies are windows on. Device memory
 * (0xA0000-0xFFFFF) is one global set of page objects that never goes
 * away. A grant is a range, checked when it is used; a safecopy is a
 * byte copy in the model, whatever VM shares copy-on-write; a safemap is
 * a remap of the granted pages that remembers its grant.
 *
 * Every step is logged as a concrete operation (pids, addresses, lengths,
 * data seeds). On the first difference the log is shrunk (delta debugging
 * on fresh machines) and the smallest failing sequence is written as a
 * scenario file, which is then run through the scenario runner to show
 * that it fails there too. See README.md beside this file.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/mman.h>

#include "../../kernel-stubs/hosted/machine.h"
#include "../../kernel-stubs/hosted/scnhost.h"
#include "../../kernel-stubs/scenario/scenario.h"
struct vmproc; /* proto.h names it in prototypes this test does not use */
/* grant.h for grant_stats: pages safecopies shared copy-on-write (a figure) */
#include "grant.h"
#include "proto.h"
#include "vm.h"

#define PAGE VM_PAGE_SIZE
#define PAGES(len) ((len) >> VM_PAGE_SHIFT)
#define USER_LO HOSTED_USER_LO
#define USER_HI HOSTED_USER_HI
#define BRK_BASE HOSTED_BRK_BASE
#define DEV_BASE 0xA0000u /* the PC's device hole, as the hosted machine has it */
#define DEV_END 0x100000u
#define DEV_PAGES PAGES(DEV_END - DEV_BASE)
#define STACK_SIZE (64u * 1024) /* libexec's EXEC_STACK_SIZE */

#define MAX_GEN_PROCS 8    /* the generator keeps at most this many alive */
#define MAX_PROCS 64       /* the scenario runner's limit; a shrunk replay may get near */
#define MAX_GEN_REGIONS 24 /* above this the generator prefers munmap */
#define CHUNK 1024         /* bytes per write/check line in a scenario (lines <= 4096) */

static uint32_t roundup_page(uint32_t v)
{
	return (v + PAGE - 1) & ~(PAGE - 1);
}

static uint32_t rounddown_page(uint32_t v)
{
	return v & ~(PAGE - 1);
}

/* ---- Random numbers: splitmix64, seeded, the same everywhere. ---- */

static uint64_t rng;

static uint64_t rnd64(void)
{
	uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* A number in [0, n), n > 0. */
static uint32_t below(uint32_t n)
{
	return (uint32_t)(((rnd64() >> 32) * (uint64_t)n) >> 32);
}

/* True with probability pct percent. */
static bool chance(uint32_t pct)
{
	return below(100) < pct;
}

/* The bytes a write op stores: a function of its seed only, so that a
 * replay (and the scenario) stores the same ones. */
static void op_bytes(uint32_t seed, uint8_t *buf, uint32_t len)
{
	uint32_t x = seed | 1;
	for (uint32_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)(x >> 11);
	}
}

/* ---- The model ---- */

/* A page's contents. undef marks bytes whose value the model does not
 * know: fresh `uninit` memory of a privileged process holds whatever the
 * frame held. The first time such bytes are read the model adopts what VM
 * shows, and from then on they must stay as they are. */
struct mpage {
	uint32_t refs;
	uint32_t devaddr; /* device memory at this physical address: never freed */
	uint8_t *undef;   /* NULL: every byte known; else 1 per unknown byte */
	uint8_t data[PAGE];
};

enum rtype { RT_ANON = 1, RT_CONTIG, RT_PHYS, RT_SHARED }; /* VM's mem type ids */

/*
 * The memory behind a shared anonymous region and its copies in fork
 * relatives (VM's region group): each of them is a window on it at a page
 * offset, and a page at offset k, whoever touched it first, is seen by
 * every window covering k. A page no window covers any more is gone: a
 * window that grows over k again (brk) finds fresh memory there.
 */
struct mobj {
	uint32_t refs;     /* windows on it */
	uint32_t n;        /* slots in pg */
	struct mpage **pg; /* by page offset; NULL: never touched */
};

struct mregion {
	uint32_t start, len;
	uint8_t prot; /* VM_PROT_* */
	uint8_t type; /* enum rtype */
	bool shared;  /* VR_SHARED: writes seen by every holder, shared across fork */
	bool heap;    /* made by brk: brk extends it */
	bool uninit;  /* fresh pages hold garbage (privileged uninit) */
	/* A shared anonymous region's pages are in obj from page offset off;
	 * every other region's in pg: PAGES(len) entries, NULL: untouched
	 * (reads as zero). Pages of contig, device and remapped regions all
	 * exist from the start, so refcounts alone share them. */
	struct mobj *obj;
	uint32_t off;
	struct mpage **pg;
	int32_t grant; /* safemapped through this grant (its model name), or 0 */
};

struct mproc {
	int pid; /* the model's name for it: P<pid> in scenarios */
	endpoint_t ep;
	bool priv;
	uint32_t brk, brk_base;
	struct mregion *r; /* sorted by start, never overlapping */
	int nr, cap;
};

static struct mproc *procs[MAX_PROCS];
static int nprocs;
static struct mpage *devpage[DEV_PAGES];

/*
 * Grants, by their model name (g<N> in a scenario, N from 1, the op's
 * arg): who granted what to whom, and VM's id for it. A grant ends (DEAD)
 * when it is revoked or its granter exits or execs; its id is kept, for
 * steps that must find it refused. NONE: not made in this replay (the
 * step was shrunk away or failed), so steps naming it are skipped.
 */
enum { G_NONE, G_LIVE, G_DEAD };

struct mgrant {
	uint8_t state;
	uint8_t access;           /* VM_GRANT_READ | VM_GRANT_WRITE */
	int32_t granter, grantee; /* pids */
	uint32_t addr, len;
	uint32_t id; /* VM's */
};

#define DEAD_RING 32 /* recently ended grants the generator remembers */

static struct mgrant *grants;
static uint32_t grants_cap;
static int32_t live_grant[MAX_PROCS * GRANTS_PER_PROC]; /* names of the LIVE ones */
static int nlive;
static int32_t dead_grant[DEAD_RING];
static unsigned ndead;

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (p == NULL) {
		fprintf(stderr, "model: out of host memory\n");
		exit(3);
	}
	return p;
}

static struct mpage *page_new(bool garbage)
{
	struct mpage *pg = xmalloc(sizeof(*pg));
	pg->refs = 1;
	if (garbage) {
		pg->undef = xmalloc(PAGE);
		memset(pg->undef, 1, PAGE);
	}
	return pg;
}

static struct mpage *page_copy(const struct mpage *src)
{
	struct mpage *pg = page_new(false);
	memcpy(pg->data, src->data, PAGE);
	if (src->undef) {
		pg->undef = xmalloc(PAGE);
		memcpy(pg->undef, src->undef, PAGE);
	}
	return pg;
}

static void page_unref(struct mpage *pg)
{
	if (pg && --pg->refs == 0) {
		if (pg->devaddr) {
			fprintf(stderr, "model: internal error: device page freed\n");
			abort();
		}
		free(pg->undef);
		free(pg);
	}
}

static struct mobj *obj_new(void)
{
	struct mobj *o = xmalloc(sizeof(*o));
	o->refs = 1;
	return o;
}

/* The slot of page i of r, made if need be (a store, a fault). */
static struct mpage **slot(struct mregion *r, uint32_t i)
{
	if (r->obj == NULL)
		return &r->pg[i];
	struct mobj *o = r->obj;
	uint32_t k = r->off + i;
	if (k >= o->n) {
		uint32_t n = k + 1 > 2 * o->n ? k + 1 : 2 * o->n;
		struct mpage **pg = xmalloc(n * sizeof(*pg));
		if (o->n)
			memcpy(pg, o->pg, o->n * sizeof(*pg));
		free(o->pg);
		o->pg = pg;
		o->n = n;
	}
	return &o->pg[k];
}

/* Page i of r, or NULL if untouched (a look). */
static struct mpage *peek(const struct mregion *r, uint32_t i)
{
	if (r->obj == NULL)
		return r->pg[i];
	return r->off + i < r->obj->n ? r->obj->pg[r->off + i] : NULL;
}

static struct mproc *proc_by_pid(int pid)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->pid == pid)
			return procs[i];
	return NULL;
}

/* Window offsets [lo, hi) of o that a region stopped covering. */
struct drop {
	struct mobj *o;
	uint32_t lo, hi;
};

/* After regions stopped covering the offsets in d[0..n): the pages there
 * that no window covers any more go, and so does an object nobody uses. */
static void drops_apply(struct drop *d, int n)
{
	for (int i = 0; i < n; i++) {
		struct mobj *o = d[i].o;
		if (o == NULL)
			continue;
		if (o->refs == 0) {
			for (uint32_t k = 0; k < o->n; k++)
				page_unref(o->pg[k]);
			free(o->pg);
			free(o);
			for (int j = i + 1; j < n; j++)
				if (d[j].o == o)
					d[j].o = NULL;
			continue;
		}
		for (uint32_t k = d[i].lo; k < d[i].hi && k < o->n; k++) {
			bool covered = false;
			if (o->pg[k] == NULL)
				continue;
			for (int a = 0; a < nprocs && !covered; a++)
				for (int b = 0; b < procs[a]->nr && !covered; b++) {
					const struct mregion *w = &procs[a]->r[b];
					covered = w->obj == o && k >= w->off &&
						  k - w->off < PAGES(w->len);
				}
			if (!covered) {
				page_unref(o->pg[k]);
				o->pg[k] = NULL;
			}
		}
	}
}

static void proc_clear(struct mproc *p)
{
	struct drop *d = xmalloc(((size_t)p->nr + 1) * sizeof(*d));
	int nd = 0;
	for (int i = 0; i < p->nr; i++) {
		struct mregion *r = &p->r[i];
		if (r->obj) {
			r->obj->refs--;
			d[nd++] = (struct drop){ r->obj, r->off, r->off + PAGES(r->len) };
		} else {
			for (uint32_t k = 0; k < PAGES(r->len); k++)
				page_unref(r->pg[k]);
		}
		free(r->pg);
	}
	p->nr = 0;
	drops_apply(d, nd);
	free(d);
}

static void proc_remove(struct mproc *p)
{
	proc_clear(p);
	free(p->r);
	for (int i = 0; i < nprocs; i++)
		if (procs[i] == p) {
			procs[i] = procs[--nprocs];
			break;
		}
	free(p);
}

static struct mproc *proc_add(int pid, endpoint_t ep, bool priv)
{
	struct mproc *p = xmalloc(sizeof(*p));
	p->pid = pid;
	p->ep = ep;
	p->priv = priv;
	p->brk = p->brk_base = BRK_BASE;
	procs[nprocs++] = p;
	return p;
}

static void model_reset(void)
{
	while (nprocs > 0)
		proc_remove(procs[0]);
	if (grants)
		memset(grants, 0, grants_cap * sizeof(*grants));
	nlive = 0;
	ndead = 0;
	/* The hosted machine boots with the device hole zeroed. */
	for (uint32_t i = 0; i < DEV_PAGES; i++) {
		if (devpage[i] == NULL) {
			devpage[i] = page_new(false);
			devpage[i]->devaddr = DEV_BASE + i * PAGE;
		}
		memset(devpage[i]->data, 0, PAGE);
	}
}

/* Index of the region containing va, or -1. */
static int reg_find(const struct mproc *p, uint32_t va)
{
	int lo = 0, hi = p->nr - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct mregion *r = &p->r[mid];
		if (va < r->start)
			hi = mid - 1;
		else if (va - r->start >= r->len)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

static struct mregion *reg_at(struct mproc *p, uint32_t va)
{
	int i = reg_find(p, va);
	return i < 0 ? NULL : &p->r[i];
}

/* Insert r (its pages array owned by the process from now on); returns
 * its index. The caller has made room. */
static int reg_insert(struct mproc *p, const struct mregion *r)
{
	int i = 0;
	if (p->nr == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		struct mregion *n = realloc(p->r, (size_t)p->cap * sizeof(*n));
		if (n == NULL) {
			fprintf(stderr, "model: out of host memory\n");
			exit(3);
		}
		p->r = n;
	}
	while (i < p->nr && p->r[i].start < r->start)
		i++;
	memmove(&p->r[i + 1], &p->r[i], (size_t)(p->nr - i) * sizeof(*r));
	p->r[i] = *r;
	p->nr++;
	return i;
}

static struct mregion *reg_new(struct mproc *p, uint32_t start, uint32_t len, uint8_t prot,
			       uint8_t type, struct mobj *obj)
{
	struct mregion r = { .start = start, .len = len, .prot = prot, .type = type, .obj = obj };
	if (obj == NULL)
		r.pg = xmalloc(PAGES(len) * sizeof(*r.pg));
	int i = reg_insert(p, &r); /* may move p->r */
	return &p->r[i];
}

/* Unmap [start, start + len) whatever it covers, as map_unmap_range does:
 * whole regions go, partly covered ones are trimmed or split. */
static void reg_unmap(struct mproc *p, uint32_t start, uint32_t len)
{
	uint32_t end = start + len;
	struct drop *d = xmalloc(((size_t)p->nr + 1) * sizeof(*d));
	int nd = 0;

	for (int i = 0; i < p->nr;) {
		struct mregion *r = &p->r[i];
		uint32_t rs = r->start, re = r->start + r->len;
		if (re <= start || rs >= end) {
			i++;
			continue;
		}
		uint32_t a = rs > start ? rs : start, b = re < end ? re : end;
		if (r->obj) {
			d[nd++] =
			    (struct drop){ r->obj, r->off + PAGES(a - rs), r->off + PAGES(b - rs) };
		} else {
			for (uint32_t v = a; v < b; v += PAGE) {
				page_unref(r->pg[PAGES(v - rs)]);
				r->pg[PAGES(v - rs)] = NULL;
			}
		}
		if (a == rs && b == re) {
			if (r->obj)
				r->obj->refs--;
			free(r->pg);
			memmove(&p->r[i], &p->r[i + 1], (size_t)(p->nr - i - 1) * sizeof(*r));
			p->nr--;
			continue;
		}
		if (a == rs) { /* the head goes */
			if (r->obj)
				r->off += PAGES(b - rs);
			else
				memmove(r->pg, r->pg + PAGES(b - rs),
					PAGES(re - b) * sizeof(*r->pg));
			r->start = b;
			r->len = re - b;
		} else if (b == re) { /* the tail goes */
			r->len = a - rs;
		} else { /* the middle goes: the upper part is a new region */
			struct mregion up = *r;
			up.start = b;
			up.len = re - b;
			if (r->obj) {
				up.off = r->off + PAGES(b - rs);
				r->obj->refs++;
			} else {
				up.pg = xmalloc(PAGES(up.len) * sizeof(*up.pg));
				memcpy(up.pg, r->pg + PAGES(b - rs),
				       PAGES(up.len) * sizeof(*up.pg));
			}
			r->len = a - rs;
			reg_insert(p, &up);
			i++;
		}
		i++;
	}
	drops_apply(d, nd);
	free(d);
}

/* Split the region containing at into [start, at) and [at, end), as
 * map_isolate does: both keep everything (a shared window's upper part
 * looks at its memory further on); nothing if at is its start or in no
 * region. */
static void reg_split(struct mproc *p, uint32_t at)
{
	int i = reg_find(p, at);
	if (i < 0 || p->r[i].start == at)
		return;
	struct mregion *r = &p->r[i], up = *r;
	uint32_t k = PAGES(at - r->start);
	up.start = at;
	up.len = r->start + r->len - at;
	if (r->obj) {
		up.off = r->off + k;
		r->obj->refs++;
	} else {
		up.pg = xmalloc(PAGES(up.len) * sizeof(*up.pg));
		memcpy(up.pg, r->pg + k, PAGES(up.len) * sizeof(*up.pg));
	}
	r->len = at - r->start;
	reg_insert(p, &up);
}

/* The grant named n (made NONE if new to the table). */
static struct mgrant *grant_get(int32_t n)
{
	if ((uint32_t)n >= grants_cap) {
		uint32_t cap = grants_cap ? grants_cap : 256;
		while (cap <= (uint32_t)n)
			cap *= 2;
		struct mgrant *g = xmalloc(cap * sizeof(*g));
		if (grants_cap)
			memcpy(g, grants, grants_cap * sizeof(*g));
		free(grants);
		grants = g;
		grants_cap = cap;
	}
	return &grants[n];
}

/* Every region mapped through grant n goes, in every process. */
static void unmap_grant(int32_t n)
{
	for (int k = 0; k < nprocs; k++) {
		struct mproc *p = procs[k];
		for (int i = 0; i < p->nr;) {
			if (p->r[i].grant == n)
				reg_unmap(p, p->r[i].start, p->r[i].len);
			else
				i++;
		}
	}
}

/* Grant n ends: its id is refused from now on, its mappings go. */
static void grant_end(int32_t n)
{
	struct mgrant *g = grant_get(n);
	g->state = G_DEAD;
	for (int i = 0; i < nlive; i++)
		if (live_grant[i] == n) {
			live_grant[i] = live_grant[--nlive];
			break;
		}
	dead_grant[ndead++ % DEAD_RING] = n;
	unmap_grant(n);
}

/* A process exits or execs: every grant it made ends. Returns whether
 * there were any (other processes may have lost mappings). */
static bool grants_release(int32_t pid)
{
	bool any = false;
	for (int i = 0; i < nlive;) {
		int32_t n = live_grant[i];
		if (grants[n].granter == pid) {
			grant_end(n); /* moves the last one to i */
			any = true;
		} else {
			i++;
		}
	}
	return any;
}

static int grants_of(int32_t pid)
{
	int k = 0;
	for (int i = 0; i < nlive; i++)
		k += grants[live_grant[i]].granter == pid;
	return k;
}

/* Whether [v, v + len) is free and inside user space (map_range_free). */
static bool range_free(const struct mproc *p, uint32_t v, uint32_t len)
{
	if (len == 0 || v < USER_LO || v > USER_HI || len > USER_HI - v)
		return false;
	for (int i = 0; i < p->nr; i++) {
		const struct mregion *r = &p->r[i];
		if (r->start < v + len && v < r->start + r->len)
			return false;
	}
	return true;
}

/* The highest free range of len bytes in user space (VM places mappings
 * top-down, map_find_free), or 0. */
static uint32_t find_free(const struct mproc *p, uint32_t len)
{
	uint32_t hi = USER_HI;
	int n = p->nr - 1;

	for (;;) {
		uint32_t lo = USER_LO;
		if (n >= 0) {
			uint32_t end = p->r[n].start + p->r[n].len;
			if (end > lo)
				lo = end;
		}
		if (hi >= lo && hi - lo >= len)
			return hi - len;
		if (n < 0)
			return 0;
		hi = p->r[n].start;
		if (hi < USER_LO || hi - USER_LO < len)
			return 0;
		n--;
	}
}

/* Give every untouched page of r a page, as VM makes a region resident
 * (prealloc, remap); garbage in an uninit region. */
static void reg_materialize(struct mregion *r)
{
	for (uint32_t i = 0; i < PAGES(r->len); i++) {
		struct mpage **s = slot(r, i);
		if (*s == NULL)
			*s = page_new(r->uninit);
	}
}

static uint32_t proc_virtual(const struct mproc *p)
{
	uint32_t n = 0;
	for (int i = 0; i < p->nr; i++)
		n += PAGES(p->r[i].len);
	return n;
}

/* ---- The executable exec loads (hello.elf), parsed once. ---- */

struct seg {
	uint32_t vaddr, memsz, filesz;
	uint8_t prot;
	const uint8_t *data;
};

static struct {
	const char *path; /* absolute, for the scenario */
	uint8_t *image;
	size_t len;
	struct seg seg[8];
	unsigned nseg;
} elf;

static int load_elf(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "model: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	elf.image = xmalloc((size_t)n);
	if (n <= 0 || fread(elf.image, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		fprintf(stderr, "model: %s: cannot read\n", path);
		return -1;
	}
	fclose(f);
	elf.len = (size_t)n;
	Elf32_Ehdr eh;
	memcpy(&eh, elf.image, elf.len < sizeof(eh) ? elf.len : sizeof(eh));
	if (elf.len < sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS32 || eh.e_machine != EM_386 ||
	    eh.e_phoff + (size_t)eh.e_phnum * sizeof(Elf32_Phdr) > elf.len) {
		fprintf(stderr, "model: %s: not an i386 ELF executable\n", path);
		return -1;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr ph;
		memcpy(&ph, elf.image + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (elf.nseg == 8 || ph.p_offset + (size_t)ph.p_filesz > elf.len) {
			fprintf(stderr, "model: %s: unexpected segments\n", path);
			return -1;
		}
		struct seg *s = &elf.seg[elf.nseg++];
		s->vaddr = ph.p_vaddr;
		s->memsz = ph.p_memsz;
		s->filesz = ph.p_filesz;
		s->data = elf.image + ph.p_offset;
		s->prot = (uint8_t)(((ph.p_flags & PF_R) ? VM_PROT_READ : 0) |
				    ((ph.p_flags & PF_W) ? VM_PROT_WRITE : 0) |
				    ((ph.p_flags & PF_X) ? VM_PROT_EXEC : 0));
	}
	char *abs = realpath(path, NULL);
	elf.path = abs ? abs : path;
	return elf.nseg ? 0 : -1;
}

/* Protection of the page at v: the union of the segments covering it, or
 * -1 (libexec's prot_of). */
static int seg_prot(uint32_t v)
{
	int prot = -1;
	for (unsigned i = 0; i < elf.nseg; i++) {
		const struct seg *s = &elf.seg[i];
		if (rounddown_page(s->vaddr) <= v && v < roundup_page(s->vaddr + s->memsz))
			prot = (prot < 0 ? 0 : prot) | s->prot;
	}
	return prot;
}

/* Whether the page at v holds file data (libexec's has_data): such pages
 * are resident, and a run of them is a region of its own. */
static bool seg_data(uint32_t v)
{
	for (unsigned i = 0; i < elf.nseg; i++) {
		const struct seg *s = &elf.seg[i];
		if (s->filesz && rounddown_page(s->vaddr) <= v &&
		    v < roundup_page(s->vaddr + s->filesz))
			return true;
	}
	return false;
}

/* p's image becomes the executable's, laid out as libexec documents it:
 * page runs of equal protection and residency are regions, file bytes in
 * place, the rest zero, a 64 KB stack below USER_HI, the break at the end
 * of the highest segment. */
static void model_exec(struct mproc *p)
{
	uint32_t lo = UINT32_MAX, hi = 0;

	proc_clear(p);
	for (unsigned i = 0; i < elf.nseg; i++) {
		uint32_t a = rounddown_page(elf.seg[i].vaddr);
		uint32_t b = roundup_page(elf.seg[i].vaddr + elf.seg[i].memsz);
		lo = a < lo ? a : lo;
		hi = b > hi ? b : hi;
	}
	uint32_t run = lo;
	for (uint32_t v = lo; v <= hi; v += PAGE) {
		int prot = v < hi ? seg_prot(v) : -1;
		bool res = v < hi && seg_data(v);
		int rprot = seg_prot(run);
		bool rres = seg_data(run);
		if (v == hi || prot != rprot || res != rres) {
			if (rprot >= 0 && v > run)
				reg_new(p, run, v - run, (uint8_t)rprot, RT_ANON, NULL);
			run = v;
		}
		if (v == hi)
			break;
	}
	for (unsigned i = 0; i < elf.nseg; i++) {
		const struct seg *s = &elf.seg[i];
		for (uint32_t off = 0; off < s->filesz;) {
			uint32_t va = s->vaddr + off, n = PAGE - (va & (PAGE - 1));
			if (n > s->filesz - off)
				n = s->filesz - off;
			struct mregion *r = reg_at(p, va);
			struct mpage **pg = &r->pg[PAGES(va - r->start)];
			if (*pg == NULL)
				*pg = page_new(false);
			memcpy((*pg)->data + (va & (PAGE - 1)), s->data + off, n);
			off += n;
		}
	}
	reg_new(p, USER_HI - STACK_SIZE, STACK_SIZE, VM_PROT_READ | VM_PROT_WRITE, RT_ANON, NULL);
	p->brk = p->brk_base = hi;
}

/* ---- Operations: the log, what the generator makes and replays run ---- */

enum opkind {
	OP_SPAWN,
	OP_FORK,
	OP_EXIT,
	OP_EXEC,
	OP_MMAP,
	OP_MUNMAP,
	OP_BRK,
	OP_REMAP,
	OP_SHMUNMAP,
	OP_GRANT,
	OP_REVOKE,
	OP_SAFECOPY,
	OP_SAFEMAP,
	OP_SAFEREVMAP,
	OP_WRITE,
	OP_FILL,
	OP_READ,
	OP_KINDS
};

static const char *const opname[OP_KINDS] = {
	"spawn",   "fork",       "exit",     "exec",  "mmap",   "munmap",
	"brk",     "remap",      "shmunmap", "grant", "revoke", "safecopy",
	"safemap", "saferevmap", "write",    "fill",  "read",
};

/* One step, concrete enough to be replayed on a fresh machine whatever
 * steps are removed around it: a step naming a process that is not alive
 * is skipped. */
struct op {
	uint8_t kind;
	uint8_t x;    /* spawn: priv; remap, safemap: ro; mmap: prot; grant:
		       * access; safecopy: VM_SAFECOPY_TO or _FROM */
	int32_t p, q; /* pids: the process; fork's child, remap's destination,
		       * the grantee */
	uint32_t addr, len;
	uint32_t flags; /* mmap: VM_MAP_*; safecopy, safemap: offset in the grant */
	uint32_t arg;   /* mmap: phys; write: data seed; fill: byte; grant
			 * steps: the grant's name */
	uint32_t res;   /* mmap, safemap: the address VM gave when it was logged */
};

enum { R_OK, R_SKIP, R_FAIL };

static struct stats {
	uint64_t ops, checks, reads, pages, mismatches, findings;
	uint64_t kind[OP_KINDS], efault, enomem, errs, sweeps, maxprocs;
	uint64_t copies, copies_cut, copy_bytes, cow_pages, maps; /* grants */
} st;

static struct {
	uint32_t mem; /* bytes of the machine */
	bool every_call;
	bool recording; /* writing the scenario */
	bool sweep_every_op;
	uint32_t sweep_every;
	uint32_t boot_free;
	int verbose;
} cfg;

/* The scenario being written (recording only). */
static struct {
	char *s;
	size_t len, cap;
} scn;

static void emit(const char *fmt, ...)
{
	va_list ap;
	if (!cfg.recording)
		return;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(scn.s + scn.len, scn.cap - scn.len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n + 1 < scn.cap - scn.len) {
			scn.len += (size_t)n;
			scn.s[scn.len++] = '\n';
			scn.s[scn.len] = '\0';
			return;
		}
		scn.cap = scn.cap ? 2 * scn.cap : 1 << 16;
		scn.s = realloc(scn.s, scn.cap);
		if (scn.s == NULL) {
			fprintf(stderr, "model: out of host memory\n");
			exit(3);
		}
	}
}

static char failmsg[4096];
static bool failed;

static int fail(const char *fmt, ...)
{
	va_list ap;
	if (!failed) {
		va_start(ap, fmt);
		vsnprintf(failmsg, sizeof(failmsg), fmt, ap);
		va_end(ap);
		failed = true;
	}
	return R_FAIL;
}

static const char *errname(int r)
{
	const char *n = vm_strerrno(r);
	static char buf[32];
	if (n)
		return n;
	snprintf(buf, sizeof(buf), "error %d", r);
	return buf;
}

/* Hex of len bytes into out (2 * len + 1 bytes). */
static void hex(const uint8_t *b, uint32_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (uint32_t i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Emit `cmd P ADDR 0xHEX` lines for len bytes, CHUNK at a time (prefix
 * is "" or "expect ENOMEM "). */
static void emit_bytes(const char *prefix, const char *cmd, int pid, uint32_t va, const uint8_t *b,
		       uint32_t len)
{
	static char h[2 * CHUNK + 1];
	if (!cfg.recording)
		return;
	for (uint32_t off = 0; off < len; off += CHUNK) {
		uint32_t n = len - off < CHUNK ? len - off : CHUNK;
		hex(b + off, n, h);
		emit("%s%s P%d 0x%08x 0x%s", prefix, cmd, pid, va + off, h);
	}
}

static int vm_query(int what, endpoint_t ep, uint32_t index, uint32_t *val)
{
	message m;
	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_QUERY;
	m.m_query.what = what;
	m.m_query.ep = ep;
	m.m_query.index = index;
	int r = hosted_call(&m);
	if (r == 0)
		memcpy(val, m.m_query.val, sizeof(m.m_query.val));
	return r;
}

static uint32_t vm_free_pages(void)
{
	uint32_t v[8] = { 0 };
	vm_query(VMQ_FREE, NONE, 0, v);
	return v[0];
}

/* Whether an ENOMEM the model did not predict is believable: the machine
 * is short of about `need` pages (plus what VM needs for page tables and
 * its own records), or of a run of `run` consecutive ones. A VM that says
 * ENOMEM with plenty free is wrong. */
static bool nomem_plausible(uint32_t need, uint32_t run)
{
	uint32_t v[8] = { 0 }, slack = 48 + PAGES(cfg.mem) / 64;
	vm_query(VMQ_FREE, NONE, 0, v);
	if (v[0] < need + slack)
		return true;
	if (run) {
		vm_query(VMQ_LARGEST, NONE, 0, v);
		if (v[0] < run + 8)
			return true;
	}
	return false;
}

/* Processes whose layout is compared with VM's after the step (all of
 * them after a step that may unmap grants' mappings anywhere). */
static int touched[2], ntouched;
static bool touched_all;

static void touch(const struct mproc *p)
{
	if (p && ntouched < 2)
		touched[ntouched++] = p->pid;
}

/* ---- Steps ---- */

static int step_spawn(struct op *o)
{
	endpoint_t ep;
	if (proc_by_pid(o->p) || nprocs == MAX_PROCS)
		return R_SKIP;
	char name[16];
	snprintf(name, sizeof(name), "P%d", o->p);
	int r = hosted_spawn(name, o->x != 0, &ep);
	if (r == ENOMEM && nomem_plausible(2, 0)) {
		emit("expect ENOMEM spawn P%d%s", o->p, o->x ? " priv" : "");
		st.enomem++;
		return R_OK;
	}
	emit("spawn P%d%s", o->p, o->x ? " priv" : "");
	if (r != 0)
		return fail("spawn P%d: VM answered %s", o->p, errname(r));
	touch(proc_add(o->p, ep, o->x != 0));
	return R_OK;
}

/* The child gets a copy of every region: private pages as a snapshot
 * (copy-on-write, or a copy for contig: the same to the model), a shared
 * anonymous region as another window on its memory, every other shared
 * region's pages shared. Privilege is not inherited, so neither is
 * uninit: the child's fresh pages must read as zero. */
static void model_fork(struct mproc *parent, struct mproc *child)
{
	child->brk = parent->brk;
	child->brk_base = parent->brk_base;
	for (int i = 0; i < parent->nr; i++) {
		struct mregion *r = &parent->r[i];
		struct mregion c = *r;
		c.uninit = false;
		if (r->obj) {
			r->obj->refs++;
		} else {
			c.pg = xmalloc(PAGES(r->len) * sizeof(*c.pg));
			for (uint32_t k = 0; k < PAGES(r->len); k++) {
				c.pg[k] = r->pg[k];
				if (c.pg[k])
					c.pg[k]->refs++;
			}
		}
		reg_insert(child, &c);
	}
}

/* What a fork might need: contig copies, shared regions made resident,
 * page tables and records. */
static uint32_t fork_need(const struct mproc *p)
{
	uint32_t need = 16 + proc_virtual(p) / 256;
	for (int i = 0; i < p->nr; i++) {
		const struct mregion *r = &p->r[i];
		if (r->type == RT_CONTIG)
			need += PAGES(r->len);
		need += PAGES(r->len) / 64;
	}
	return need;
}

static int step_fork(struct op *o)
{
	struct mproc *p = proc_by_pid(o->p);
	endpoint_t ep;
	if (p == NULL || proc_by_pid(o->q) || nprocs == MAX_PROCS)
		return R_SKIP;
	char name[16];
	snprintf(name, sizeof(name), "P%d", o->q);
	int r = hosted_fork(p->ep, name, &ep);
	if (r == ENOMEM && nomem_plausible(fork_need(p), 0)) {
		/* The child is torn down; the parent keeps its memory. */
		emit("expect ENOMEM fork P%d P%d", o->p, o->q);
		st.enomem++;
		return R_OK;
	}
	emit("fork P%d P%d", o->p, o->q);
	if (r != 0)
		return fail("fork P%d P%d: VM answered %s", o->p, o->q, errname(r));
	struct mproc *c = proc_add(o->q, ep, false);
	model_fork(p, c);
	touch(p);
	touch(c);
	return R_OK;
}

static int check_all_free(void);

static int step_exit(struct op *o)
{
	struct mproc *p = proc_by_pid(o->p);
	if (p == NULL)
		return R_SKIP;
	int r = hosted_exit(p->ep);
	emit("exit P%d", o->p);
	if (r != 0)
		return fail("exit P%d: VM answered %s", o->p, errname(r));
	touched_all |= grants_release(p->pid); /* before its memory goes, as VM does it */
	proc_remove(p);
	return check_all_free();
}

static int step_exec(struct op *o)
{
	struct mproc *p = proc_by_pid(o->p);
	bool killed;
	if (p == NULL || elf.nseg == 0)
		return R_SKIP;
	int r = hosted_exec(p->ep, elf.image, elf.len, &killed);
	if (r == ENOMEM && nomem_plausible(24, 0)) {
		emit("expect ENOMEM exec P%d \"%s\"", o->p, elf.path);
		st.enomem++;
		if (killed) { /* the old image was gone: the machine ended it */
			touched_all |= grants_release(p->pid);
			proc_remove(p);
			return check_all_free();
		}
		return R_OK;
	}
	emit("exec P%d \"%s\"", o->p, elf.path);
	if (r != 0)
		return fail("exec P%d: the machine answered %s%s", o->p, errname(r),
			    killed ? " (and ended the process)" : "");
	touched_all |= grants_release(p->pid);
	model_exec(p);
	touch(p);
	return R_OK;
}

static const char *prot_name(uint8_t prot)
{
	switch (prot) {
	case VM_PROT_NONE:
		return "none";
	case VM_PROT_READ:
		return "r";
	case VM_PROT_READ | VM_PROT_WRITE:
		return "rw";
	case VM_PROT_READ | VM_PROT_EXEC:
		return "rx";
	default:
		return "rwx";
	}
}

/* The mmap command for o; at_fixed: `at=ADDR fixed` instead of what o
 * asked (the address VM chose, made reproducible). */
static void emit_mmap(const char *prefix, const struct op *o, bool at_fixed, uint32_t at)
{
	char opts[256];
	int n = 0;
	uint32_t f = o->flags;
	if (!cfg.recording)
		return;
	opts[0] = '\0';
	if (at_fixed)
		n += snprintf(opts + n, sizeof(opts) - n, " at=0x%08x fixed", at);
	else if (o->addr || (f & VM_MAP_FIXED))
		n += snprintf(opts + n, sizeof(opts) - n, " at=0x%08x%s", o->addr,
			      (f & VM_MAP_FIXED) ? " fixed" : "");
	n += snprintf(opts + n, sizeof(opts) - n, " prot=%s", prot_name(o->x));
	if (f & VM_MAP_SHARED)
		n += snprintf(opts + n, sizeof(opts) - n, " shared");
	if (f & VM_MAP_PREALLOC)
		n += snprintf(opts + n, sizeof(opts) - n, " prealloc");
	if (f & VM_MAP_CONTIG)
		n += snprintf(opts + n, sizeof(opts) - n, " contig");
	if (f & VM_MAP_UNINIT)
		n += snprintf(opts + n, sizeof(opts) - n, " uninit");
	if (f & VM_MAP_LOWER16M)
		n += snprintf(opts + n, sizeof(opts) - n, " lower16m");
	if (f & VM_MAP_PHYS)
		snprintf(opts + n, sizeof(opts) - n, " phys=0x%x", o->arg);
	emit("%smmap P%d m 0x%x%s", prefix, o->p, o->len, opts);
}

/* What do_mmap answers for o in p: an errno, or 0 with *v the address. */
static int mmap_expect(const struct mproc *p, const struct op *o, uint32_t *v)
{
	uint32_t f = o->flags, addr = o->addr, len;
	if (o->len == 0 || o->len > 0u - PAGE)
		return EINVAL;
	len = roundup_page(o->len);
	if ((f & VM_MAP_CONTIG) && !(f & VM_MAP_PREALLOC))
		return EINVAL;
	if ((f & VM_MAP_FIXED) && ((addr & (PAGE - 1)) || (uint64_t)addr + len > 1ull << 32))
		return EINVAL;
	if ((f & VM_MAP_PHYS) && !p->priv)
		return EPERM;
	if ((f & VM_MAP_PHYS) && ((o->arg & (PAGE - 1)) || (f & VM_MAP_CONTIG) ||
				  o->arg < DEV_BASE || o->arg >= DEV_END || len > DEV_END - o->arg))
		return EINVAL;
	if (f & VM_MAP_FIXED) {
		if (addr < USER_LO || addr > USER_HI || len > USER_HI - addr)
			return ENOMEM;
		*v = addr;
	} else if (addr != 0 && range_free(p, rounddown_page(addr), len)) {
		*v = rounddown_page(addr);
	} else if ((*v = find_free(p, len)) == 0) {
		return ENOMEM;
	}
	return 0;
}

static void model_mmap(struct mproc *p, const struct op *o, uint32_t v)
{
	uint32_t f = o->flags, len = roundup_page(o->len);
	if (f & VM_MAP_FIXED)
		reg_unmap(p, v, len);
	uint8_t type = (f & VM_MAP_PHYS) ? RT_PHYS : (f & VM_MAP_CONTIG) ? RT_CONTIG : RT_ANON;
	bool shared = (f & (VM_MAP_SHARED | VM_MAP_PHYS)) != 0;
	struct mregion *r =
	    reg_new(p, v, len, o->x, type, shared && type == RT_ANON ? obj_new() : NULL);
	r->shared = shared;
	r->uninit = (f & VM_MAP_UNINIT) && p->priv && type != RT_PHYS;
	if (type == RT_PHYS) /* device memory: everyone mapping it sees the same bytes */
		for (uint32_t i = 0; i < PAGES(len); i++) {
			r->pg[i] = devpage[PAGES(o->arg - DEV_BASE) + i];
			r->pg[i]->refs++;
		}
	/* Contig pages exist from the start, so a shared contig region's
	 * pages are shared by a fork child; and garbage VM allocated now is
	 * garbage a fork child sees too. */
	if (type == RT_CONTIG || (r->uninit && (f & VM_MAP_PREALLOC)))
		reg_materialize(r);
}

static int step_mmap(struct op *o)
{
	struct mproc *p = proc_by_pid(o->p);
	uint32_t v = 0;
	message m;
	if (p == NULL)
		return R_SKIP;
	int want = mmap_expect(p, o, &v);
	memset(&m, 0, sizeof(m));
	m.m_source = p->ep;
	m.m_type = VM_MMAP;
	m.m_mmap.addr = o->addr;
	m.m_mmap.len = o->len;
	m.m_mmap.prot = o->x;
	m.m_mmap.flags = (int32_t)o->flags;
	m.m_mmap.phys = o->arg;
	int r = hosted_call(&m);
	touch(p);
	if (r == 0 && want == 0) {
		o->res = m.m_mmap.addr;
		if (m.m_mmap.addr != v) {
			emit_mmap("", o, false, 0);
			emit("assert m == 0x%08x", v);
			return fail("mmap P%d len 0x%x flags 0x%x at 0x%x: VM chose 0x%08x, the "
				    "model 0x%08x",
				    o->p, o->len, o->flags, o->addr, m.m_mmap.addr, v);
		}
		emit_mmap("", o, true, v);
		model_mmap(p, o, v);
		return R_OK;
	}
	if (r == want) {
		emit_mmap(r == EINVAL  ? "expect EINVAL "
			  : r == EPERM ? "expect EPERM "
				       : "expect ENOMEM ",
			  o, false, 0);
		st.errs++;
		return R_OK;
	}
	uint32_t pages = PAGES(roundup_page(o->len));
	bool big = o->flags & (VM_MAP_PREALLOC | VM_MAP_CONTIG);
	if (r == ENOMEM && want == 0 &&
	    nomem_plausible(big ? pages : 2, (o->flags & VM_MAP_CONTIG) ? pages : 0)) {
		/* Out of memory; a fixed mmap has already removed what was
		 * in its range (as on Linux). */
		emit_mmap("expect ENOMEM ", o, false, 0);
		if (o->flags & VM_MAP_FIXED)
			reg_unmap(p, v, roundup_page(o->len));
		st.enomem++;
		return R_OK;
	}
	if (want == 0)
		emit_mmap("", o, false, 0);
	else
		emit_mmap(want == EINVAL  ? "expect EINVAL "
			  : want == EPERM ? "expect EPERM "
					  : "expect ENOMEM ",
			  o, false, 0);
	return fail("mmap P%d len 0x%x prot %s flags 0x%x at 0x%x phys 0x%x: VM answered %s, "
		    "the model expects %s",
		    o->p, o->len, prot_name(o->x), o->flags, o->addr, o->arg, errname(r),
		    errname(want));
}

static int step_munmap(struct op *o)
{
	struct mproc *p = proc_by_pid(o->p);
	message m;
	int want = 0;
	if (p == NULL)
		return R_SKIP;
	uint32_t a = o->addr, len = o->len ? roundup_page(o->len) : 0;
	if ((a & (PAGE - 1)) || o->len == 0 || o->len > 0u - PAGE || len > 0u - a || a < USER_LO ||
	    a > USER_HI || len > USER_HI - a)
		want = EINVAL;
	memset(&m, 0, sizeof(m));
	m.m_source = p->ep;
	m.m_type = VM_MUNMAP;
	m.m_munmap.addr = a;
	m.m_munmap.len = o->len;
	int r = hosted_call(&m);
	touch(p);
	if (r == want) {
		emit("%smunmap P%d 0x%08x 0x%x", want ? "expect EINVAL " : "", o->p, a, o->len);
		if (want == 0)
			reg_unmap(p, a, len);
		else
			st.errs++;
		return R_OK;
	}
	/* Splitting a region needs a new one: the only way munmap can run
	 * out of memory (and then nothing changed). */
	if (r == ENOMEM && want == 0 && nomem_plausible(2, 0)) {
		emit("expect ENOMEM munmap P%d 0x%08x 0x%x", o->p, a, o->len);
		st.enomem++;
		return R_OK;
	}
	emit("%smunmap P%d 0x%08x 0x%x", want ? "expect EINVAL " : "", o->p, a, o->len);
	return fail("munmap P%d 0x%08x 0x%x: VM answered %s, the model expects %s", o->p, a, o->len,
		    errname(r), errname(want));
}

/* What do_brk answers (and does, when apply) for want in p. */
static int brk_model(struct mproc *p, uint32_t want, bool apply)
{
	if (want == 0)
		return 0;
	if (want < p->brk_base || want > USER_HI - PAGE)
		return EINVAL;
	uint32_t old_end = roundup_page(p->brk), new_end = roundup_page(want);
	if (new_end > old_end) {
		if (!range_free(p, old_end, new_end - old_end))
			return ENOMEM;
		if (!apply)
			return 0;
		int i = old_end > 0 ? reg_find(p, old_end - 1) : -1;
		struct mregion *r = i >= 0 ? &p->r[i] : NULL;
		if (r && r->heap && r->start + r->len == old_end) {
			/* The heap region that ends at the break grows (a shared
			 * one over more of its memory). */
			if (r->obj == NULL) {
				uint32_t n = PAGES(new_end - r->start);
				struct mpage **pg = xmalloc(n * sizeof(*pg));
				memcpy(pg, r->pg, PAGES(r->len) * sizeof(*pg));
				free(r->pg);
				r->pg = pg;
			}
			r->len = new_end - r->start;
		} else {
			r = reg_new(p, old_end, new_end - old_end, VM_PROT_READ | VM_PROT_WRITE,
				    RT_ANON, NULL);
			r->heap = true;
		}
	} else if (new_end < old_end && apply) {
		reg_unmap(p, new_end, old_end - new_end);
	}
	if (apply)
		p->brk = want;
	return 0;
}

static int step_brk(struct op *o)
{
	struct mproc *p = proc_by_pid(o->p);
	message m;
	if (p == NULL)
		return R_SKIP;
	int want = brk_model(p, o->addr, false);
	memset(&m, 0, sizeof(m));
	m.m_source = p->ep;
	m.m_type = VM_BRK;
	m.m_brk.addr = o->addr;
	int r = hosted_call(&m);
	touch(p);
	if (r == want) {
		emit("%sbrk P%d 0x%08x",
		     want ? (want == EINVAL ? "expect EINVAL " : "expect ENOMEM ") : "", o->p,
		     o->addr);
		if (want)
			st.errs++;
		uint32_t expect = o->addr ? o->addr : p->brk;
		if (r == 0 && m.m_brk.addr != expect) {
			emit("assert P%d.brk == 0x%08x", o->p, expect);
			return fail("brk P%d 0x%08x: VM replied 0x%08x, the model 0x%08x", o->p,
				    o->addr, m.m_brk.addr, expect);
		}
		if (r == 0)
			brk_model(p, o->addr, true);
		return R_OK;
	}
	if (r == ENOMEM && want == 0 && nomem_plausible(4, 0)) {
		emit("expect ENOMEM brk P%d 0x%08x", o->p, o->addr);
		st.enomem++;
		return R_OK;
	}
	emit("%sbrk P%d 0x%08x", want ? (want == EINVAL ? "expect EINVAL " : "expect ENOMEM ") : "",
	     o->p, o->addr);
	return fail("brk P%d 0x%08x (break 0x%08x): VM answered %s, the model expects %s", o->p,
		    o->addr, p->brk, errname(r), errname(want));
}

/* The source region becomes shared: every page resident, and a page
 * still copy-on-write with a fork relative copied first (VM does that so
 * no frame is both shared and copy-on-write). */
static void make_shared(struct mregion *r)
{
	for (uint32_t i = 0; i < PAGES(r->len); i++) {
		struct mpage **s = slot(r, i);
		if (*s == NULL) {
			*s = page_new(r->uninit);
		} else if (!r->shared && (*s)->refs > 1) {
			struct mpage *c = page_copy(*s);
			page_unref(*s);
			*s = c;
		}
	}
	if (r->type == RT_ANON && r->obj == NULL) {
		/* Its memory becomes what its fork copies will share. */
		struct mobj *o = obj_new();
		o->pg = r->pg;
		o->n = PAGES(r->len);
		r->pg = NULL;
		r->obj = o;
		r->off = 0;
	}
	r->shared = true;
}

/* remap: VM looks for room in the destination first, then makes the
 * source resident and shared, then maps its pages into the destination.
 * If it runs out of memory on the way the source is as it was (to the
 * model: pages it made resident or copied read the same). */
static int step_remap(struct op *o)
{
	struct mproc *s = proc_by_pid(o->p), *d = proc_by_pid(o->q);
	message m;
	if (s == NULL || d == NULL)
		return R_SKIP;
	int si = reg_find(s, o->addr);
	uint32_t v = 0;
	/* A region mapped through a grant is not passed on: it must go when
	 * the grant does. */
	int want = si < 0 || s->r[si].grant                ? EINVAL
		   : (v = find_free(d, s->r[si].len)) == 0 ? ENOMEM
							   : 0;
	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_REMAP;
	m.m_remap.src = s->ep;
	m.m_remap.src_addr = o->addr;
	m.m_remap.dst = d->ep;
	m.m_remap.flags = o->x ? VM_REMAP_RO : 0;
	int r = hosted_call(&m);
	touch(s);
	touch(d);
	const char *ro = o->x ? " ro" : "";
	const char *pre = want == EINVAL ? "expect EINVAL " : want ? "expect ENOMEM " : "";
	if (r == want) {
		emit("%sremap P%d 0x%08x P%d r%s", pre, o->p, o->addr, o->q, ro);
		if (want) {
			st.errs++;
			return R_OK;
		}
		emit("assert r == 0x%08x", v);
		if (m.m_remap.dst_addr != v)
			return fail("remap P%d 0x%08x P%d%s: VM put it at 0x%08x, the model at "
				    "0x%08x",
				    o->p, o->addr, o->q, ro, m.m_remap.dst_addr, v);
		make_shared(&s->r[si]);
		struct mregion src = s->r[si]; /* d may be s: copy before inserting */
		struct mregion *n = reg_new(d, v, src.len, src.prot, RT_SHARED, NULL);
		if (o->x)
			n->prot &= (uint8_t)~VM_PROT_WRITE;
		n->shared = true;
		for (uint32_t i = 0; i < PAGES(src.len); i++) {
			n->pg[i] = peek(&src, i);
			n->pg[i]->refs++;
		}
		return R_OK;
	}
	if (r == ENOMEM && want == 0 && nomem_plausible(PAGES(s->r[si].len) + 4, 0)) {
		emit("expect ENOMEM remap P%d 0x%08x P%d r%s", o->p, o->addr, o->q, ro);
		st.enomem++;
		return R_OK;
	}
	emit("%sremap P%d 0x%08x P%d r%s", pre, o->p, o->addr, o->q, ro);
	return fail("remap P%d 0x%08x P%d%s: VM answered %s, the model expects %s", o->p, o->addr,
		    o->q, ro, errname(r), errname(want));
}

static int step_shmunmap(struct op *o)
{
	struct mproc *p = proc_by_pid(o->p);
	message m;
	if (p == NULL)
		return R_SKIP;
	int i = reg_find(p, o->addr);
	int want = i >= 0 && p->r[i].type == RT_SHARED ? 0 : EINVAL;
	memset(&m, 0, sizeof(m));
	m.m_source = p->ep;
	m.m_type = VM_SHM_UNMAP;
	m.m_munmap.addr = o->addr;
	int r = hosted_call(&m);
	touch(p);
	emit("%sshmunmap P%d 0x%08x", want ? "expect EINVAL " : "", o->p, o->addr);
	if (r != want)
		return fail("shmunmap P%d 0x%08x: VM answered %s, the model expects %s", o->p,
			    o->addr, errname(r), errname(want));
	if (want == 0)
		reg_unmap(p, p->r[i].start, p->r[i].len);
	else
		st.errs++;
	return R_OK;
}

/* What an access to the page at va may do: 0 allowed, EFAULT refused. */
static int access_model(struct mproc *p, uint32_t va, bool write)
{
	struct mregion *r = reg_at(p, va);
	if (r == NULL || !(r->prot & VM_PROT_READ) || (write && !(r->prot & VM_PROT_WRITE)))
		return EFAULT;
	return 0;
}

/* The model's page at va for a store: a fresh one if untouched, a private
 * copy if it is copy-on-write. */
static struct mpage *page_for_write(struct mproc *p, uint32_t va)
{
	struct mregion *r = reg_at(p, va);
	struct mpage **pg = slot(r, PAGES(va - r->start));
	if (*pg == NULL) {
		*pg = page_new(r->uninit);
	} else if (!r->shared && (*pg)->refs > 1) {
		struct mpage *c = page_copy(*pg);
		page_unref(*pg);
		*pg = c;
	}
	return *pg;
}

/* Compare n bytes VM showed for page pg (NULL: untouched) at offset off
 * with the model, adopting bytes the model does not know. Returns the
 * offset of the first difference, or -1. */
static int page_compare(struct mpage *pg, uint32_t off, const uint8_t *got, uint32_t n)
{
	static const uint8_t zero[PAGE];
	const uint8_t *want = pg ? pg->data + off : zero;
	if (memcmp(want, got, n) == 0)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (want[i] == got[i])
			continue;
		if (pg && pg->undef && pg->undef[off + i]) {
			pg->data[off + i] = got[i];
			pg->undef[off + i] = 0;
			continue;
		}
		return (int)i;
	}
	return -1;
}

/* A store or load of [va, va + len), a page at a time as the MMU does it,
 * stopping at the first refused page. kind: OP_WRITE, OP_FILL, OP_READ. */
static int step_access(struct op *o)
{
	struct mproc *p = proc_by_pid(o->p);
	static uint8_t buf[4 * PAGE + 2 * CHUNK], got[PAGE];
	bool write = o->kind != OP_READ;
	if (p == NULL || o->len == 0 || o->len > sizeof(buf) || o->len - 1 > 0xFFFFFFFFu - o->addr)
		return R_SKIP;
	struct hosted_proc *hp = hosted_proc(p->ep);
	if (hp == NULL)
		return fail("P%d: the machine does not know it", o->p);
	if (o->kind == OP_WRITE)
		op_bytes(o->arg, buf, o->len);
	else if (o->kind == OP_FILL)
		memset(buf, (int)o->arg, o->len);
	if (o->kind == OP_READ)
		st.reads++;

	uint32_t done = 0;
	while (done < o->len) {
		uint32_t va = o->addr + done, off = va & (PAGE - 1);
		uint32_t n = PAGE - off < o->len - done ? PAGE - off : o->len - done;
		int want = access_model(p, va, write);
		int r = mmu_access(hp, va, write ? buf + done : got, n, write);
		if (r == 0 && want == 0) {
			if (write) {
				struct mpage *pg = page_for_write(p, va);
				memcpy(pg->data + off, buf + done, n);
				if (pg->undef)
					memset(pg->undef + off, 0, n);
			} else {
				struct mregion *rg = reg_at(p, va);
				struct mpage *pgv = peek(rg, PAGES(va - rg->start));
				struct mpage **pg = &pgv;
				if (pgv == NULL && rg->uninit) /* VM gave it a frame as it was */
					*(pg = slot(rg, PAGES(va - rg->start))) = page_new(true);
				int d = page_compare(*pg, off, got, n);
				st.pages++;
				if (d >= 0) {
					st.mismatches++;
					emit_bytes("", "check", o->p, o->addr, buf, done);
					uint8_t *exp = buf + done;
					if (*pg)
						memcpy(exp, (*pg)->data + off, n);
					else
						memset(exp, 0, n);
					emit_bytes("", "check", o->p, va, exp, n);
					return fail("read P%d 0x%08x: byte 0x%08x is 0x%02x, the "
						    "model says 0x%02x",
						    o->p, va, va + (uint32_t)d, got[d], exp[d]);
				}
				memcpy(buf + done, got, n);
			}
			done += n;
			continue;
		}
		/* The part that went through is one command of the scenario. */
		if (o->kind == OP_FILL && done && cfg.recording)
			emit("fill P%d 0x%08x 0x%x 0x%02x", o->p, o->addr, done, o->arg);
		else
			emit_bytes("", write ? "write" : "check", o->p, o->addr, buf, done);
		if (r == EFAULT && want == EFAULT) {
			emit("segv P%d 0x%08x %s", o->p, va, write ? "write" : "read");
			st.efault++;
			return R_OK;
		}
		if (r == ENOMEM && want == 0 && nomem_plausible(3, 0)) {
			/* VM could not back the page: nothing stored there. */
			if (!write)
				memset(buf + done, 0, n); /* the check fails anyway */
			if (o->kind == OP_FILL)
				emit("expect ENOMEM fill P%d 0x%08x 0x%x 0x%02x", o->p, va, n,
				     o->arg);
			else
				emit_bytes("expect ENOMEM ", write ? "write" : "check", o->p, va,
					   buf + done, n);
			st.enomem++;
			return R_OK;
		}
		if (!write && want == 0) { /* what the check expects: the model's bytes */
			struct mregion *rg = reg_at(p, va);
			struct mpage *pg = peek(rg, PAGES(va - rg->start));
			if (pg)
				memcpy(buf + done, pg->data + off, n);
			else
				memset(buf + done, 0, n);
		}
		if (want == EFAULT)
			emit("segv P%d 0x%08x %s", o->p, va, write ? "write" : "read");
		else if (o->kind == OP_FILL)
			emit("fill P%d 0x%08x 0x%x 0x%02x", o->p, va, n, o->arg);
		else
			emit_bytes("", write ? "write" : "check", o->p, va, buf + done, n);
		return fail("%s P%d 0x%08x: the MMU answered %s, the model expects %s",
			    write ? "store" : "load", o->p, va, errname(r), errname(want));
	}
	if (o->kind == OP_FILL)
		emit("fill P%d 0x%08x 0x%x 0x%02x", o->p, o->addr, o->len, o->arg);
	else
		emit_bytes("", write ? "write" : "check", o->p, o->addr, buf, o->len);
	return R_OK;
}

/* ---- Grant steps ---- */

static const char *const access_name[4] = { "?", "r", "w", "rw" };

static const char *expect_prefix(int err)
{
	static char buf[64];
	if (err == 0)
		return "";
	snprintf(buf, sizeof(buf), "expect %.48s ", errname(err));
	return buf;
}

static void emit_grant(int err, const struct op *o)
{
	emit("%sgrant P%d g%u 0x%08x 0x%x P%d %s", expect_prefix(err), o->p, o->arg, o->addr,
	     o->len, o->q, access_name[o->x & 3]);
}

/* grant: P gives Q access to [addr, addr + len). Checked when used, not
 * now: only the length, a wrapping range and a full table are refused. */
static int step_grant(struct op *o)
{
	struct mproc *p = proc_by_pid(o->p), *c = proc_by_pid(o->q);
	message m;
	if (p == NULL || c == NULL || grant_get((int32_t)o->arg)->state != G_NONE)
		return R_SKIP;
	int want = 0;
	if (o->len == 0 || o->len - 1 > 0xFFFFFFFFu - o->addr)
		want = EINVAL;
	else if (grants_of(p->pid) >= GRANTS_PER_PROC)
		want = ENOSPC;
	memset(&m, 0, sizeof(m));
	m.m_source = p->ep;
	m.m_type = VM_GRANT;
	m.m_grant.grantee = c->ep;
	m.m_grant.addr = o->addr;
	m.m_grant.len = o->len;
	m.m_grant.access = o->x;
	int r = hosted_call(&m);
	if (r == want) {
		emit_grant(want, o);
		if (want) {
			st.errs++;
			return R_OK;
		}
		/* A new id is none of the live ones nor one recently ended. */
		for (int i = 0; i < nlive + (int)(ndead < DEAD_RING ? ndead : DEAD_RING); i++) {
			int32_t n = i < nlive ? live_grant[i] : dead_grant[i - nlive];
			if (grants[n].id == m.m_grant.id) {
				emit("assert g%u != g%d", o->arg, n);
				return fail("grant P%d g%u: VM's id 0x%x is that of g%d (%s)", o->p,
					    o->arg, m.m_grant.id, n,
					    grants[n].state == G_LIVE ? "live" : "ended");
			}
		}
		struct mgrant *g = grant_get((int32_t)o->arg);
		*g = (struct mgrant){ .state = G_LIVE,
				      .access = o->x,
				      .granter = p->pid,
				      .grantee = c->pid,
				      .addr = o->addr,
				      .len = o->len,
				      .id = m.m_grant.id };
		live_grant[nlive++] = (int32_t)o->arg;
		return R_OK;
	}
	if (r == ENOMEM && want == 0 && nomem_plausible(2, 0)) {
		emit_grant(ENOMEM, o);
		st.enomem++;
		return R_OK;
	}
	emit_grant(want, o);
	return fail("grant P%d g%u 0x%08x 0x%x P%d %s: VM answered %s, the model expects %s", o->p,
		    o->arg, o->addr, o->len, o->q, access_name[o->x & 3], errname(r),
		    errname(want));
}

/* revoke (the grant ends, its mappings go everywhere) and saferevmap (the
 * mappings go, the grant stays): only the granter, only a live grant. */
static int step_revoke(struct op *o)
{
	struct mproc *p = proc_by_pid(o->p);
	struct mgrant *g = grant_get((int32_t)o->arg);
	bool revoke = o->kind == OP_REVOKE;
	const char *cmd = revoke ? "revoke" : "saferevmap";
	message m;
	if (p == NULL || g->state == G_NONE)
		return R_SKIP;
	int want = g->state == G_LIVE && g->granter == p->pid ? 0 : EPERM;
	memset(&m, 0, sizeof(m));
	m.m_source = p->ep;
	m.m_type = revoke ? VM_REVOKE : VM_SAFEREVMAP;
	m.m_grant.id = g->id;
	int r = hosted_call(&m);
	emit("%s%s P%d g%u", expect_prefix(want), cmd, o->p, o->arg);
	if (r != want)
		return fail("%s P%d g%u (%s, granted by P%d): VM answered %s, the model expects %s",
			    cmd, o->p, o->arg, g->state == G_LIVE ? "live" : "ended", g->granter,
			    errname(r), errname(want));
	if (want) {
		st.errs++;
		return R_OK;
	}
	if (revoke)
		grant_end((int32_t)o->arg);
	else
		unmap_grant((int32_t)o->arg);
	touched_all = true;
	return R_OK;
}

/* The bytes of [sv, sv + len) in sp that a copy of len bytes to dv in dp
 * gets through before a page either side refuses (VM copies in chunks
 * that end at either side's page boundaries, the destination's page
 * first; a page shared copy-on-write instead is a chunk too). */
static uint32_t copy_reach(struct mproc *sp, uint32_t sv, struct mproc *dp, uint32_t dv,
			   uint32_t len)
{
	for (uint32_t done = 0; done < len;) {
		uint32_t s = sv + done, d = dv + done;
		uint32_t n = PAGE - (s & (PAGE - 1));
		if (n > PAGE - (d & (PAGE - 1)))
			n = PAGE - (d & (PAGE - 1));
		if (n > len - done)
			n = len - done;
		if (access_model(dp, d, true) || access_model(sp, s, false))
			return done;
		done += n;
	}
	return len;
}

/* Copy len bytes from sv in sp to dv in dp in the model, chunk by chunk
 * as VM does (each chunk read whole before it is written: overlapping
 * copies come out as VM's do). Whether VM shared a page copy-on-write or
 * copied it makes no difference here: that is the point. unknown: the
 * copy may have stopped anywhere (ENOMEM): the bytes become unknown. */
static void copy_apply(struct mproc *sp, uint32_t sv, struct mproc *dp, uint32_t dv, uint32_t len,
		       bool unknown)
{
	static uint8_t tmp[PAGE], tundef[PAGE];
	for (uint32_t done = 0; done < len;) {
		uint32_t s = sv + done, d = dv + done, soff = s & (PAGE - 1), doff = d & (PAGE - 1);
		uint32_t n = PAGE - soff < PAGE - doff ? PAGE - soff : PAGE - doff;
		if (n > len - done)
			n = len - done;
		struct mregion *rs = reg_at(sp, s);
		struct mpage *spg = peek(rs, PAGES(s - rs->start));
		if (spg == NULL && rs->uninit) /* VM gives it a frame as it was */
			spg = *slot(rs, PAGES(s - rs->start)) = page_new(true);
		bool undef = unknown || (spg && spg->undef);
		if (spg)
			memcpy(tmp, spg->data + soff, n);
		else
			memset(tmp, 0, n);
		if (spg && spg->undef && !unknown)
			memcpy(tundef, spg->undef + soff, n);
		else
			memset(tundef, unknown, n);
		struct mpage *dpg = page_for_write(dp, d);
		memcpy(dpg->data + doff, tmp, n);
		if (undef && dpg->undef == NULL)
			dpg->undef = xmalloc(PAGE);
		if (dpg->undef)
			memcpy(dpg->undef + doff, tundef, n);
		done += n;
	}
}

/* A copy that stopped at the chunk at done: if the destination's page
 * was fine (it was the source's that refused), VM had already made it
 * resident (and private) for the store, unless it was sharing whole
 * pages copy-on-write there. Invisible but for the garbage an uninit
 * page gets, which a fork child then sees too. */
static void copy_fault(struct mproc *sp, uint32_t sv, struct mproc *dp, uint32_t dv, uint32_t len,
		       uint32_t done)
{
	uint32_t s = sv + done, d = dv + done;
	if (access_model(dp, d, true) != 0)
		return;
	bool cow = len >= SAFECOPY_COW_MIN && (sv & (PAGE - 1)) == (dv & (PAGE - 1)) &&
		   !(s & (PAGE - 1)) && len - done >= PAGE;
	const struct mregion *rs = reg_at(sp, s), *rd = reg_at(dp, d);
	if (cow && (rs == NULL ||
		    (rs->type == RT_ANON && !rs->shared && rd->type == RT_ANON && !rd->shared)))
		return; /* VM looked at both sides first */
	page_for_write(dp, d);
}

static void emit_safecopy(int err, const struct op *o)
{
	emit("%ssafecopy P%d g%u 0x%x 0x%x %s 0x%08x", expect_prefix(err), o->p, o->arg, o->flags,
	     o->len, o->x == VM_SAFECOPY_TO ? "to" : "from", o->addr);
}

/* safecopy: the grantee copies between its memory and the grant, as a
 * byte copy (whatever VM shares copy-on-write must be indistinguishable
 * from one). A fault stops it at the faulting chunk, what came before
 * copied. */
static int step_safecopy(struct op *o)
{
	struct mproc *c = proc_by_pid(o->p), *gp = NULL;
	struct mgrant *g = grant_get((int32_t)o->arg);
	message m;
	if (c == NULL || g->state == G_NONE)
		return R_SKIP;
	bool to = o->x == VM_SAFECOPY_TO;
	uint32_t off = o->flags, len = o->len, need = to ? VM_GRANT_WRITE : VM_GRANT_READ;
	uint32_t reach = 0;
	struct mproc *sp = NULL, *dp = NULL;
	uint32_t sv = 0, dv = 0;
	int want = 0;
	if (g->state != G_LIVE || g->grantee != c->pid || !(g->access & need) || off > g->len ||
	    len > g->len - off) {
		want = EPERM;
	} else if (len > 0 && len - 1 > 0xFFFFFFFFu - o->addr) {
		want = EFAULT;
	} else {
		gp = proc_by_pid(g->granter);
		sp = to ? c : gp;
		dp = to ? gp : c;
		sv = to ? o->addr : g->addr + off;
		dv = to ? g->addr + off : o->addr;
		reach = copy_reach(sp, sv, dp, dv, len);
		want = reach < len ? EFAULT : 0;
	}
	memset(&m, 0, sizeof(m));
	m.m_source = c->ep;
	m.m_type = VM_SAFECOPY;
	m.m_safecopy.id = g->id;
	m.m_safecopy.off = off;
	m.m_safecopy.len = len;
	m.m_safecopy.addr = o->addr;
	m.m_safecopy.dir = o->x;
	int r = hosted_call(&m);
	if (r == want) {
		emit_safecopy(want, o);
		if (sp)
			copy_apply(sp, sv, dp, dv, reach, false);
		if (sp && want == EFAULT)
			copy_fault(sp, sv, dp, dv, len, reach);
		st.copies += want == 0;
		st.copies_cut += want == EFAULT && reach > 0;
		st.copy_bytes += reach;
		if (want)
			st.errs++;
		return R_OK;
	}
	if (r == ENOMEM && sp && nomem_plausible(PAGES(len) + 4, 0)) {
		emit_safecopy(ENOMEM, o);
		copy_apply(sp, sv, dp, dv, reach, true);
		st.enomem++;
		return R_OK;
	}
	emit_safecopy(want, o);
	return fail("safecopy P%d g%u (P%d's 0x%08x 0x%x %s to P%d, %s) off 0x%x len 0x%x %s "
		    "0x%08x: VM answered %s, the model expects %s%s",
		    o->p, o->arg, g->granter, g->addr, g->len, access_name[g->access & 3],
		    g->grantee, g->state == G_LIVE ? "live" : "ended", off, len, to ? "to" : "from",
		    o->addr, errname(r), errname(want),
		    want == EFAULT && sp ? " (a page either side refuses)" : "");
}

static void emit_safemap(int err, const struct op *o)
{
	emit("%ssafemap P%d s g%u 0x%x 0x%x%s", expect_prefix(err), o->p, o->arg, o->flags, o->len,
	     o->x ? " ro" : "");
}

/*
 * safemap: the granted pages, mapped into the grantee as shared memory
 * (a region remembering the grant) where VM places mappings. In the
 * granter the granted range becomes regions of their own (split off where
 * it starts or ends inside one), resident and shared from then on, like a
 * remap source. The mapping's protection is what every granted region
 * allows, without write for ro.
 */
static int step_safemap(struct op *o)
{
	struct mproc *c = proc_by_pid(o->p), *gp = NULL;
	struct mgrant *g = grant_get((int32_t)o->arg);
	message m;
	if (c == NULL || g->state == G_NONE)
		return R_SKIP;
	bool ro = o->x != 0;
	uint32_t off = o->flags, len = o->len, ga = 0, v = 0;
	uint8_t prot = VM_PROT_ALL;
	int want = 0;
	if (g->state != G_LIVE || g->grantee != c->pid) {
		want = EPERM;
	} else if (((off | len) & (PAGE - 1)) || len == 0 || ((g->addr + off) & (PAGE - 1))) {
		want = EINVAL;
	} else if (off > g->len || len > g->len - off || !(g->access & VM_GRANT_READ) ||
		   (!ro && !(g->access & VM_GRANT_WRITE))) {
		want = EPERM;
	} else {
		gp = proc_by_pid(g->granter);
		ga = g->addr + off;
		/* Every granted page in a region, none mapped through a grant
		 * itself (revoking that grant must reach every mapping of the
		 * memory): the first region that is not decides. */
		if (ga < USER_LO || ga > USER_HI || len > USER_HI - ga)
			want = EFAULT;
		for (uint32_t a = ga; a - ga < len && !want;) {
			struct mregion *r = reg_at(gp, a);
			if (r == NULL)
				want = EFAULT;
			else if (r->grant)
				want = EPERM;
			else
				prot &= r->prot, a = r->start + r->len;
		}
		if (!want && (v = find_free(c, len)) == 0)
			want = ENOMEM;
	}
	if (ro)
		prot &= (uint8_t)~VM_PROT_WRITE;
	memset(&m, 0, sizeof(m));
	m.m_source = c->ep;
	m.m_type = VM_SAFEMAP;
	m.m_safemap.id = g->id;
	m.m_safemap.off = off;
	m.m_safemap.len = len;
	m.m_safemap.flags = ro ? VM_SAFEMAP_RO : 0;
	int r = hosted_call(&m);
	touch(c);
	touch(gp);
	if (r == want && want) {
		emit_safemap(want, o);
		st.errs++;
		return R_OK;
	}
	if (r == 0 && want == 0) {
		o->res = m.m_safemap.addr;
		emit_safemap(0, o);
		emit("assert s == 0x%08x", v);
		if (m.m_safemap.addr != v)
			return fail("safemap P%d g%u 0x%x 0x%x%s: VM put it at 0x%08x, the model "
				    "at 0x%08x",
				    o->p, o->arg, off, len, ro ? " ro" : "", m.m_safemap.addr, v);
		reg_split(gp, ga);
		reg_split(gp, ga + len);
		for (int i = 0; i < gp->nr; i++)
			if (gp->r[i].start >= ga && gp->r[i].start - ga < len)
				make_shared(&gp->r[i]);
		struct mpage **pg = xmalloc(PAGES(len) * sizeof(*pg));
		for (uint32_t k = 0; k < PAGES(len); k++) {
			struct mregion *s = reg_at(gp, ga + k * PAGE);
			pg[k] = peek(s, PAGES(ga + k * PAGE - s->start));
		}
		struct mregion *n = reg_new(c, v, len, prot, RT_SHARED, NULL); /* c may be gp */
		n->shared = true;
		n->grant = (int32_t)o->arg;
		for (uint32_t k = 0; k < PAGES(len); k++) {
			n->pg[k] = pg[k];
			pg[k]->refs++;
		}
		free(pg);
		st.maps++;
		return R_OK;
	}
	if (r == ENOMEM && want == 0 && nomem_plausible(PAGES(len) + 8, 0)) {
		/* Nothing mapped; but the granter's regions may have been split
		 * already (map_isolate comes before the pages are made
		 * resident): the region count tells. */
		uint32_t cnt[8] = { 0 };
		int lo = reg_find(gp, ga), hi = reg_find(gp, ga + len - 1);
		int splits = (lo >= 0 && gp->r[lo].start < ga) +
			     (hi >= 0 && gp->r[hi].start + gp->r[hi].len - ga > len);
		emit_safemap(ENOMEM, o);
		if (splits && vm_query(VMQ_REGIONS, gp->ep, 0, cnt) == 0 &&
		    cnt[0] == (uint32_t)(gp->nr + splits)) {
			reg_split(gp, ga);
			reg_split(gp, ga + len);
		}
		st.enomem++;
		return R_OK;
	}
	emit_safemap(want, o);
	return fail("safemap P%d g%u (P%d's 0x%08x 0x%x %s to P%d, %s) off 0x%x len 0x%x%s: VM "
		    "answered %s, the model expects %s",
		    o->p, o->arg, g->granter, g->addr, g->len, access_name[g->access & 3],
		    g->grantee, g->state == G_LIVE ? "live" : "ended", off, len, ro ? " ro" : "",
		    errname(r), errname(want));
}

static int run_op(struct op *o)
{
	ntouched = 0;
	touched_all = false;
	switch (o->kind) {
	case OP_SPAWN:
		return step_spawn(o);
	case OP_FORK:
		return step_fork(o);
	case OP_EXIT:
		return step_exit(o);
	case OP_EXEC:
		return step_exec(o);
	case OP_MMAP:
		return step_mmap(o);
	case OP_MUNMAP:
		return step_munmap(o);
	case OP_BRK:
		return step_brk(o);
	case OP_REMAP:
		return step_remap(o);
	case OP_SHMUNMAP:
		return step_shmunmap(o);
	case OP_GRANT:
		return step_grant(o);
	case OP_REVOKE:
	case OP_SAFEREVMAP:
		return step_revoke(o);
	case OP_SAFECOPY:
		return step_safecopy(o);
	case OP_SAFEMAP:
		return step_safemap(o);
	default:
		return step_access(o);
	}
}

/* ---- Checks after a step ---- */

static int check_sanity(void)
{
	st.checks++;
	uint32_t findings = sanity_check();
	if (findings) {
		st.findings += findings;
		emit("sanity");
		return fail("VM's consistency check has %u findings (printed above)", findings);
	}
	return R_OK;
}

/* With no process left every page must be free again. */
static int check_all_free(void)
{
	if (nprocs > 0)
		return R_OK;
	uint32_t f = vm_free_pages();
	emit("assert free == boot");
	if (f != cfg.boot_free)
		return fail("every process has exited, but %u pages are free, %u at boot", f,
			    cfg.boot_free);
	return R_OK;
}

/* Regions, mapped pages and break of p as VM counts them. */
static int check_layout(struct mproc *p)
{
	uint32_t v[8] = { 0 };
	uint32_t want[3] = { (uint32_t)p->nr, proc_virtual(p), p->brk };
	static const int what[3] = { VMQ_REGIONS, VMQ_VIRTUAL, VMQ_BRK };
	static const char *const stat[3] = { "regions", "virtual", "brk" };
	for (int i = 0; i < 3; i++) {
		int r = vm_query(what[i], p->ep, 0, v);
		if (r != 0 || v[0] != want[i]) {
			emit(i == 2 ? "assert P%d.%s == 0x%08x" : "assert P%d.%s == %u", p->pid,
			     stat[i], want[i]);
			return fail("P%d.%s is %u (query: %s), the model says %u", p->pid, stat[i],
				    v[0], errname(r), want[i]);
		}
	}
	return R_OK;
}

/* Compare every page VM has present with the model, through the page
 * tables (no fault, nothing changes in VM); device pages must be mapped
 * at their own physical address. */
static int sweep(void)
{
	static uint8_t exp[PAGE];
	st.sweeps++;
	for (int k = 0; k < nprocs; k++) {
		struct mproc *p = procs[k];
		struct hosted_proc *hp = hosted_proc(p->ep);
		if (hp == NULL)
			return fail("P%d: the machine does not know it", p->pid);
		for (int i = 0; i < p->nr; i++) {
			struct mregion *r = &p->r[i];
			if (!(r->prot & VM_PROT_READ))
				continue;
			for (uint32_t j = 0; j < PAGES(r->len); j++) {
				uint32_t va = r->start + j * PAGE;
				phys_bytes pa;
				if (mmu_translate(hp, va, &pa) != 0)
					continue;
				pa &= ~(PAGE - 1);
				struct mpage *pg = peek(r, j);
				if (pg && pg->devaddr) {
					uint32_t want = pg->devaddr;
					if (pa != want) {
						emit("phys P%d 0x%08x x", p->pid, va);
						emit("assert x == 0x%08x", want);
						return fail("P%d: device page 0x%08x is mapped to "
							    "0x%08x, not 0x%08x",
							    p->pid, va, pa, want);
					}
				}
				if (pg == NULL && r->uninit)
					*slot(r, j) = pg = page_new(true);
				st.pages++;
				int d = page_compare(pg, 0, hm.phys + pa, PAGE);
				if (d >= 0) {
					st.mismatches++;
					if (pg)
						memcpy(exp, pg->data, PAGE);
					else
						memset(exp, 0, PAGE);
					/* One check: the 1 KB holding the first difference. */
					uint32_t c = (uint32_t)d & ~(CHUNK - 1);
					emit_bytes("", "check", p->pid, va + c, exp + c, CHUNK);
					return fail("P%d: page 0x%08x (frame 0x%08x) byte 0x%08x "
						    "is 0x%02x, the model says 0x%02x",
						    p->pid, va, pa, va + (uint32_t)d,
						    hm.phys[pa + (uint32_t)d], exp[d]);
				}
			}
		}
	}
	return R_OK;
}

/* Everything after one step: the consistency check, the layout of the
 * processes it touched, sometimes the sweep. */
static int after_op(uint64_t n)
{
	if (check_sanity() == R_FAIL)
		return R_FAIL;
	for (int i = 0; i < (touched_all ? nprocs : ntouched); i++) {
		struct mproc *p = touched_all ? procs[i] : proc_by_pid(touched[i]);
		if (p && check_layout(p) == R_FAIL)
			return R_FAIL;
	}
	if (cfg.sweep_every_op || n % cfg.sweep_every == 0)
		return sweep();
	return R_OK;
}

/* The end of a run: every process exits, then the consistency check and
 * the free-page count must be as at boot. */
static int finish_run(void)
{
	if (nprocs == 0)
		return check_all_free();
	while (nprocs > 0) { /* the last exit checks the free pages */
		struct op o = { .kind = OP_EXIT, .p = procs[nprocs - 1]->pid };
		if (run_op(&o) == R_FAIL || check_sanity() == R_FAIL)
			return R_FAIL;
	}
	return R_OK;
}

/* ---- Surviving a VM panic (abort) or crash, to shrink it too ---- */

static sigjmp_buf crash_jmp;
static volatile sig_atomic_t crash_armed;

static void crash_handler(int sig)
{
	if (crash_armed) {
		crash_armed = 0;
		siglongjmp(crash_jmp, sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void boot(void)
{
	int r = hosted_boot(cfg.mem);
	if (r != 0) {
		fprintf(stderr, "model: the hosted machine did not boot with %u bytes: %s\n",
			cfg.mem, errname(r));
		exit(3);
	}
	vm_set_sanity(cfg.every_call ? 1 : 0, true);
	model_reset();
	cfg.boot_free = vm_free_pages();
	failed = false;
	failmsg[0] = '\0';
}

/* Run ops[0..n) on a fresh machine (replay or recording). Returns the
 * index of the failing step, n if the failure came at the end of the run,
 * or -1 if everything passed. */
static long replay(struct op *ops, long n)
{
	volatile long i = 0, res = -1;
	boot();
	int sig = sigsetjmp(crash_jmp, 1);
	if (sig) {
		fail("crashed with signal %d (a VM panic is SIGABRT, printed above)", sig);
		emit("sanity");
		hosted_halt();
		return i;
	}
	crash_armed = 1;
	for (i = 0; i < n; i++) {
		int r = run_op(&ops[i]);
		if (r == R_SKIP)
			continue;
		if (r == R_FAIL || after_op((uint64_t)i) == R_FAIL) {
			res = i;
			break;
		}
	}
	if (res < 0 && (sweep() == R_FAIL || finish_run() == R_FAIL))
		res = n;
	crash_armed = 0;
	model_reset();
	hosted_halt();
	return res;
}

/* ---- The generator ---- */

static int next_pid;
static int next_gid; /* the next grant's name */

static struct mproc *any_proc(void)
{
	return procs[below((uint32_t)nprocs)];
}

/* An address in one of a few zones: low user space, the heap, the
 * middle, and the top where VM places mappings (few page tables, many
 * collisions). */
static uint32_t zone_addr(void)
{
	static const uint32_t base[] = { USER_LO, BRK_BASE, 0x40000000u, USER_HI - (8u << 20) };
	static const uint32_t size[] = { 4u << 20, 1u << 20, 4u << 20, 8u << 20 };
	uint32_t z = below(4);
	return base[z] + below(PAGES(size[z])) * PAGE;
}

static struct mregion *any_region(struct mproc *p)
{
	return p->nr ? &p->r[below((uint32_t)p->nr)] : NULL;
}

/* Pages for a new mapping: mostly small, now and then large. */
static uint32_t gen_pages(void)
{
	uint32_t r = below(100);
	if (r < 60)
		return 1 + below(4);
	if (r < 88)
		return 5 + below(28);
	return 33 + below(224);
}

static void gen_mmap(struct op *o, struct mproc *p)
{
	uint32_t pages = gen_pages();
	static const uint8_t prots[] = { VM_PROT_NONE, VM_PROT_READ,
					 VM_PROT_READ, VM_PROT_READ | VM_PROT_EXEC,
					 VM_PROT_ALL,  VM_PROT_ALL };
	o->kind = OP_MMAP;
	o->p = p->pid;
	o->x = chance(55) ? VM_PROT_READ | VM_PROT_WRITE : prots[below(sizeof(prots))];
	if (chance(8) && !(cfg.mem < (24u << 20) && chance(50)))
		pages = 1024 + below(16384); /* 4-64 MB, never touched much */
	else if (chance(12) && pages <= 32)
		o->flags |= VM_MAP_SHARED;
	if (pages <= 64 && chance(15))
		o->flags |= VM_MAP_PREALLOC;
	if (pages <= 32 && chance(8))
		o->flags |= VM_MAP_PREALLOC | VM_MAP_CONTIG;
	if (chance(p->priv ? 25 : 5))
		o->flags |= VM_MAP_UNINIT;
	/* Frames below 16 MB can run out while the machine has plenty free
	 * above: only where all of memory is below 16 MB can the model tell
	 * a right ENOMEM from a wrong one. */
	if (cfg.mem <= (16u << 20) && chance(3))
		o->flags |= VM_MAP_LOWER16M;
	if (p->priv && chance(20)) {
		pages = 1 + below(16);
		o->flags &= ~(uint32_t)(VM_MAP_CONTIG | VM_MAP_PREALLOC);
		o->flags |= VM_MAP_PHYS | (chance(20) ? VM_MAP_PREALLOC : 0);
		o->arg = DEV_BASE + below(DEV_PAGES - pages + 1) * PAGE;
	}
	o->len = pages * PAGE;
	if (chance(25))
		o->len -= below(PAGE - 1); /* rounded up by VM */
	uint32_t r = below(100);
	if (r < 40) {
		/* VM chooses */
	} else if (r < 55) {
		o->addr = zone_addr() + (chance(20) ? below(PAGE) : 0); /* a hint */
	} else if (r < 94) {
		o->flags |= VM_MAP_FIXED;
		struct mregion *g = any_region(p);
		if (g && chance(60)) /* on or around an existing mapping */
			o->addr = g->start + below(g->len + 2 * o->len) - o->len;
		else
			o->addr = zone_addr();
		o->addr = rounddown_page(o->addr);
		if (o->addr < USER_LO || (uint64_t)o->addr + o->len > USER_HI)
			o->addr = zone_addr();
	} else {
		/* Mistakes VM must refuse without changing anything. */
		switch (below(7)) {
		case 0:
			o->len = 0;
			break;
		case 1:
			o->flags |= VM_MAP_FIXED;
			o->addr = zone_addr() + 1 + below(PAGE - 1);
			break;
		case 2:
			o->flags |= VM_MAP_FIXED;
			o->addr = chance(50) ? PAGE : USER_HI;
			break;
		case 3:
			o->flags =
			    (o->flags & ~(uint32_t)(VM_MAP_PREALLOC | VM_MAP_PHYS)) | VM_MAP_CONTIG;
			break;
		case 4:
			o->flags |= VM_MAP_PHYS;
			o->arg = chance(50) ? DEV_BASE + 1 : DEV_END - PAGE;
			o->len = 2 * PAGE;
			break;
		case 5:
			o->len = 0xFFFFF001u;
			break;
		default:
			o->len = 0xF0000000u; /* no room */
			o->flags &= ~(uint32_t)(VM_MAP_PREALLOC | VM_MAP_CONTIG | VM_MAP_PHYS);
			break;
		}
	}
}

static void gen_munmap(struct op *o, struct mproc *p)
{
	struct mregion *g = any_region(p);
	uint32_t r = below(100);
	o->kind = OP_MUNMAP;
	o->p = p->pid;
	if (g && r < 55) {
		uint32_t pages = PAGES(g->len);
		switch (below(5)) {
		case 0: /* whole */
			o->addr = g->start;
			o->len = g->len;
			break;
		case 1: /* head */
			o->addr = g->start;
			o->len = (1 + below(pages)) * PAGE;
			break;
		case 2: /* tail */
			o->len = (1 + below(pages)) * PAGE;
			o->addr = g->start + g->len - o->len;
			break;
		case 3: { /* middle */
			uint32_t a = below(pages);
			o->addr = g->start + a * PAGE;
			o->len = (1 + below(pages - a)) * PAGE;
			break;
		}
		default: /* around it, holes included */
			o->addr = g->start - below(8) * PAGE;
			o->len = g->len + (below(8) + 1) * PAGE + (g->start - o->addr);
			break;
		}
	} else if (g && r < 75) {
		/* From somewhere in one region to somewhere in a later one. */
		int i = (int)below((uint32_t)p->nr), j = i + (int)below((uint32_t)(p->nr - i));
		const struct mregion *a = &p->r[i], *b = &p->r[j];
		o->addr = a->start + below(PAGES(a->len)) * PAGE;
		o->len = b->start + b->len - o->addr - below(PAGES(b->len)) * PAGE;
		if (o->len == 0 || o->len > USER_HI)
			o->len = PAGE;
	} else if (r < 95) {
		o->addr = zone_addr();
		o->len = (1 + below(64)) * PAGE;
		if (chance(20))
			o->len -= below(PAGE - 1);
	} else {
		switch (below(3)) {
		case 0:
			o->addr = zone_addr() + 1 + below(PAGE - 1);
			o->len = PAGE;
			break;
		case 1:
			o->addr = zone_addr();
			o->len = 0;
			break;
		default:
			o->addr = chance(50) ? PAGE : USER_HI - PAGE;
			o->len = 2 * PAGE;
			break;
		}
	}
	if ((uint64_t)o->addr + o->len > USER_HI && chance(80))
		o->len = USER_HI - o->addr;
}

static void gen_brk(struct op *o, struct mproc *p)
{
	uint32_t cur = p->brk;
	o->kind = OP_BRK;
	o->p = p->pid;
	switch (below(20)) {
	case 0:
		o->addr = 0; /* ask */
		break;
	case 1:
		o->addr = p->brk_base > USER_LO ? p->brk_base - 1 - below(PAGE) : PAGE;
		return;
	case 2:
		o->addr = USER_HI - PAGE + 1 + below(PAGE - 1);
		return;
	case 3: {
		/* Into the next mapping above the break. */
		for (int i = 0; i < p->nr; i++)
			if (p->r[i].start >= cur) {
				o->addr = p->r[i].start + 1 + below(p->r[i].len);
				return;
			}
		o->addr = cur + below(64 * PAGE);
		break;
	}
	case 4:
	case 5:
	case 6:
	case 7:
	case 8:
	case 9:
		/* Shrink to somewhere between the base and the break. */
		o->addr = p->brk_base + below(cur - p->brk_base + 1);
		break;
	case 10:
		o->addr = cur + below(256) * PAGE + below(PAGE);
		break;
	default:
		o->addr = cur + below(16 * PAGE);
		break;
	}
	if (o->addr > USER_HI - PAGE && chance(90))
		o->addr = cur;
}

static void gen_remap(struct op *o, struct mproc *s)
{
	o->kind = OP_REMAP;
	o->p = s->pid;
	o->q = chance(30) ? s->pid : any_proc()->pid;
	o->x = chance(30);
	struct mregion *g = any_region(s);
	/* Remap makes the whole source region resident: not a huge one. */
	if (g && g->len <= 128 * PAGE && chance(95))
		o->addr = g->start + below(g->len);
	else
		o->addr = zone_addr() + below(PAGE);
}

static void gen_shmunmap(struct op *o, struct mproc *p)
{
	o->kind = OP_SHMUNMAP;
	o->p = p->pid;
	int n = 0;
	for (int i = 0; i < p->nr; i++)
		n += p->r[i].type == RT_SHARED;
	if (n && chance(85)) {
		int k = (int)below((uint32_t)n);
		for (int i = 0; i < p->nr; i++)
			if (p->r[i].type == RT_SHARED && k-- == 0)
				o->addr = p->r[i].start + below(p->r[i].len);
	} else {
		struct mregion *g = any_region(p);
		o->addr = g && chance(70) ? g->start + below(g->len) : zone_addr();
	}
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* A grant by p: mostly a range inside one of its mappings (page-aligned
 * more often than not, so that it can be safemapped), sometimes running
 * past its end or across several mappings, sometimes anywhere; r, w or
 * rw; to any process, itself now and then. */
static void gen_grant(struct op *o, struct mproc *p)
{
	o->kind = OP_GRANT;
	o->p = p->pid;
	o->q = chance(8) ? p->pid : any_proc()->pid;
	o->arg = (uint32_t)next_gid++;
	struct mregion *g = any_region(p);
	for (int t = 0; t < 3 && g && !(g->prot & VM_PROT_READ); t++)
		g = any_region(p);
	/* Mostly what the memory allows: a grant checks nothing, its use
	 * does (EFAULT). */
	uint32_t a = below(100);
	if (g && !(g->prot & VM_PROT_WRITE) && a < 80)
		o->x = VM_GRANT_READ;
	else
		o->x = a < 25   ? VM_GRANT_READ
		       : a < 37 ? VM_GRANT_WRITE
				: VM_GRANT_READ | VM_GRANT_WRITE;
	uint32_t r = below(100);
	if (g && r < 72) {
		uint32_t first = below(PAGES(min_u32(g->len, 64 * PAGE)));
		uint32_t avail = PAGES(g->len) - first;
		o->addr = g->start + first * PAGE;
		o->len = (1 + below(min_u32(avail, 24))) * PAGE;
		if (chance(15)) {
			uint32_t d = below(PAGE);
			o->addr += d;
			o->len -= d;
		} else if (chance(15)) {
			o->len -= below(PAGE);
		}
		if (chance(12)) /* partly outside */
			o->len += (1 + below(4)) * PAGE;
	} else if (g && r < 86) {
		/* From the end of one mapping into a later one. */
		int i = (int)below((uint32_t)p->nr);
		int j = i + (int)below(min_u32((uint32_t)(p->nr - i), 3));
		const struct mregion *ra = &p->r[i], *rb = &p->r[j];
		o->addr = ra->start + ra->len - (1 + below(min_u32(PAGES(ra->len), 8))) * PAGE;
		uint32_t end = rb->start + (1 + below(min_u32(PAGES(rb->len), 8))) * PAGE;
		o->len = end > o->addr ? end - o->addr : PAGE;
		if (o->len > 96 * PAGE)
			o->len = 96 * PAGE;
	} else if (r < 97) {
		o->addr = zone_addr() + (chance(30) ? below(PAGE) : 0);
		o->len = (1 + below(16)) * PAGE - (chance(30) ? below(PAGE) : 0);
	} else {
		switch (below(3)) {
		case 0: /* EINVAL */
			o->addr = zone_addr();
			o->len = 0;
			break;
		case 1: /* wraps: EINVAL */
			o->addr = 0u - (1 + below(2)) * PAGE;
			o->len = 3 * PAGE;
			break;
		default: /* up to the last byte: fine, though nothing is there */
			o->addr = 0u - (1 + below(2)) * PAGE;
			o->len = 0u - o->addr;
			break;
		}
	}
}

/* A live grant, or 0: preferably one whose grantee is alive, with
 * `access`, and whose memory is still (partly) there. */
static int32_t pick_live(bool grantee_alive, uint8_t access)
{
	if (nlive == 0)
		return 0;
	uint32_t first = below((uint32_t)nlive);
	for (int pass = chance(90) ? 0 : 1; pass < 3; pass++)
		for (int t = 0; t < nlive; t++) {
			int32_t n = live_grant[(first + (uint32_t)t) % (uint32_t)nlive];
			const struct mgrant *g = &grants[n];
			struct mproc *gp = proc_by_pid(g->granter);
			if ((grantee_alive && !proc_by_pid(g->grantee)) ||
			    (pass < 1 &&
			     !(reg_at(gp, g->addr) || reg_at(gp, g->addr + g->len - 1))))
				continue;
			if ((g->access & access) == access || pass == 2)
				return n;
		}
	/* None: a grant nobody can use, now and then; else a new one. */
	return chance(15) ? live_grant[first] : 0;
}

/* A grant that ended lately, or 0. */
static int32_t pick_dead(void)
{
	return ndead ? dead_grant[below(min_u32(ndead, DEAD_RING))] : 0;
}

/* A safecopy, mostly by the grantee in the grant's mode, within the
 * grant, between a mapping of the grantee that allows it; long ones
 * (4-32 pages) often with the same offset in a page on both sides, so
 * that VM shares pages copy-on-write. Now and then a stale grant, another
 * caller, the other direction, a range outside the grant. */
static void gen_safecopy(struct op *o, struct mproc *p)
{
	uint32_t r = below(100);
	int32_t n = r < 4 ? pick_dead() : 0;
	if (n == 0)
		n = pick_live(true, 0);
	if (n == 0) {
		gen_grant(o, p);
		return;
	}
	const struct mgrant *g = &grants[n];
	struct mproc *c = proc_by_pid(g->grantee);
	if (c == NULL || (r >= 4 && r < 9))
		c = p;
	o->kind = OP_SAFECOPY;
	o->p = c->pid;
	o->arg = (uint32_t)n;
	bool to = g->access == (VM_GRANT_READ | VM_GRANT_WRITE) ? chance(50)
								: g->access == VM_GRANT_WRITE;
	if (chance(5))
		to = !to;
	o->x = to ? VM_SAFECOPY_TO : VM_SAFECOPY_FROM;
	uint32_t glen = g->len, off, len, k = below(100);
	if (k < 48) {
		off = below(glen);
		len = 1 + below(min_u32(glen - off, 600));
	} else if (k < 78 && glen >= 4 * PAGE) {
		len = 4 * PAGE + below(min_u32(glen, 32 * PAGE) - 4 * PAGE + 1);
		off = below(glen - len + 1);
		uint32_t al = (PAGE - ((g->addr + off) & (PAGE - 1))) & (PAGE - 1);
		if (chance(60) && al <= glen - len - off)
			off += al; /* page-aligned in the granter */
	} else if (k < 90) {
		off = 0;
		len = min_u32(glen, 32 * PAGE);
	} else if (k < 93) {
		off = below(glen + 1);
		len = 0;
	} else {
		switch (below(3)) { /* outside the grant: EPERM */
		case 0:
			off = below(glen + 1);
			len = glen - off + 1 + below(64);
			break;
		case 1:
			off = glen + 1 + below(PAGE);
			len = 1 + below(64);
			break;
		default:
			off = below(glen);
			len = 0xFFFFFFFFu - below(16);
			break;
		}
	}
	o->flags = off;
	o->len = len;
	/* The caller's side: a mapping that allows the access, mostly. */
	bool cwrite = !to;
	if (c->nr && chance(92)) {
		struct mregion *cr = NULL;
		for (int t = 0; t < 6; t++) {
			cr = any_region(c);
			if ((cr->prot & VM_PROT_READ) && (!cwrite || (cr->prot & VM_PROT_WRITE)) &&
			    (cr->len >= len || t >= 3))
				break;
		}
		o->addr = cr->start + below(min_u32(cr->len, 64 * PAGE));
		if (len <= cr->len && o->addr - cr->start > cr->len - len && chance(75))
			o->addr = cr->start + cr->len - len;
	} else {
		o->addr = zone_addr() + below(PAGE);
	}
	if (len >= 4 * PAGE && len < 0x10000000u && chance(70))
		o->addr = rounddown_page(o->addr) + ((g->addr + off) & (PAGE - 1));
	if (chance(1))
		o->addr = 0u - 1 - below(PAGE); /* wraps, if long enough: EFAULT */
}

/* A safemap, mostly by the grantee of a page-aligned part of the grant;
 * sometimes misaligned, past the grant, stale or by someone else. */
static void gen_safemap(struct op *o, struct mproc *p)
{
	int32_t n = chance(4) ? pick_dead() : 0;
	if (n == 0)
		n = pick_live(true, VM_GRANT_READ);
	if (n == 0) {
		gen_grant(o, p);
		return;
	}
	const struct mgrant *g = &grants[n];
	struct mproc *c = proc_by_pid(g->grantee);
	if (c == NULL || chance(4))
		c = p;
	o->kind = OP_SAFEMAP;
	o->p = c->pid;
	o->arg = (uint32_t)n;
	o->x = chance(g->access & VM_GRANT_WRITE ? 30 : 90); /* ro */
	/* The first page boundary in the grant. */
	uint32_t first = (PAGE - (g->addr & (PAGE - 1))) & (PAGE - 1);
	uint32_t pages = first < g->len ? PAGES(g->len - first) : 0;
	if (pages && chance(93)) {
		uint32_t k = below(pages);
		o->flags = first + k * PAGE;
		o->len = (1 + below(min_u32(pages - k, 64))) * PAGE;
		if (chance(4))
			o->len += PAGE; /* past the end, maybe */
	} else {
		o->flags = below(g->len);
		o->len = (1 + below(4)) * PAGE - (chance(50) ? below(PAGE) : 0);
	}
}

/* revoke or saferevmap, mostly by the granter of a live grant. */
static void gen_revoke(struct op *o, struct mproc *p, int kind)
{
	int32_t n = chance(6) ? pick_dead() : 0;
	/* Mostly one nobody can use any more (its grantee has exited). */
	for (int t = 0; t < 4 && n == 0 && nlive && chance(60); t++) {
		int32_t k = live_grant[below((uint32_t)nlive)];
		if (proc_by_pid(grants[k].grantee) == NULL)
			n = k;
	}
	if (n == 0)
		n = pick_live(false, 0);
	if (n == 0) {
		gen_grant(o, p);
		return;
	}
	struct mproc *gp = proc_by_pid(grants[n].granter);
	o->kind = (uint8_t)kind;
	o->p = gp && chance(92) ? gp->pid : p->pid;
	o->arg = (uint32_t)n;
}

/* An access: mostly inside a mapping that allows it, sometimes anywhere.
 * Cut so that it either goes through entirely or is refused at its first
 * byte: a scenario says either as one command. */
static void gen_access(struct op *o, struct mproc *p, int kind)
{
	bool write = kind != OP_READ;
	o->kind = (uint8_t)kind;
	o->p = p->pid;
	if (kind == OP_WRITE) {
		uint32_t r = below(100);
		o->len = r < 70 ? 1 + below(64) : r < 97 ? 65 + below(1436) : 1501 + below(2000);
		o->arg = (uint32_t)rnd64();
	} else if (kind == OP_FILL) {
		o->len = 1 + below(4 * PAGE);
		o->arg = below(256);
	} else {
		o->len = chance(60) ? 1 + below(64) : 1 + below(3 * PAGE);
	}
	struct mregion *g = NULL;
	if (p->nr && chance(90)) {
		/* Prefer a mapping that allows the access. */
		for (int t = 0; t < 4; t++) {
			g = any_region(p);
			if ((g->prot & VM_PROT_READ) && (!write || (g->prot & VM_PROT_WRITE)))
				break;
		}
		/* Pages with data are more interesting than far corners of
		 * a 64 MB mapping. */
		uint32_t span = g->len > 64 * PAGE && chance(97) ? 64 * PAGE : g->len;
		o->addr = g->start + below(span);
		if (chance(10)) /* across the start or end */
			o->addr = chance(50) ? g->start - below(64) : g->start + g->len - below(64);
	} else {
		o->addr = zone_addr() + below(PAGE);
	}
	if ((uint64_t)o->addr + o->len > 0x100000000ull)
		o->len = 0u - o->addr;
	if (o->len == 0)
		o->len = 1;
	/* Cut where the model says the access would be refused. */
	for (uint32_t done = 0; done < o->len;) {
		uint32_t va = o->addr + done, n = PAGE - (va & (PAGE - 1));
		if (access_model(p, va, write) != 0) {
			if (done == 0 || chance(20)) {
				o->addr = va;
				o->len = 1;
			} else {
				o->len = done;
			}
			break;
		}
		done += n;
	}
}

/* Choose the next step from the model's state. */
static void gen_op(struct op *o)
{
	memset(o, 0, sizeof(*o));
	if (nprocs == 0) {
		o->kind = OP_SPAWN;
		o->p = next_pid++;
		o->x = chance(30);
		return;
	}
	struct mproc *p = any_proc();
	uint32_t free_pages = vm_free_pages(), total = PAGES(cfg.mem);
	bool tight = free_pages < total / 3, very = free_pages < total / 6;
	bool many = p->nr > MAX_GEN_REGIONS;
	uint32_t w[OP_KINDS] = {
		[OP_SPAWN] = nprocs < MAX_GEN_PROCS && !tight ? 25 : 0,
		[OP_FORK] = nprocs < MAX_GEN_PROCS && !tight ? 35 : 0,
		[OP_EXIT] = very         ? 400
			    : tight      ? 80
			    : nprocs > 1 ? 20
					 : 4,
		[OP_EXEC] = elf.nseg ? 8 : 0,
		[OP_MMAP] = many ? 10 : 110,
		[OP_MUNMAP] = many || tight ? 150 : 60,
		[OP_BRK] = 45,
		[OP_REMAP] = many || tight ? 5 : 30,
		[OP_SHMUNMAP] = 15,
		[OP_GRANT] = nlive < 2 * nprocs + 2 ? 22 : 6,
		[OP_REVOKE] = nlive > 3 * nprocs ? 40
			      : nlive            ? 8
						 : 0,
		[OP_SAFECOPY] = nlive ? 50 : 0,
		[OP_SAFEMAP] = !nlive || very ? 0
			       : many         ? 4
					      : 16,
		[OP_SAFEREVMAP] = nlive ? 5 : 0,
		[OP_WRITE] = 220,
		[OP_FILL] = 50,
		[OP_READ] = 320,
	};
	uint32_t sum = 0, k;
	for (k = 0; k < OP_KINDS; k++)
		sum += w[k];
	uint32_t x = below(sum);
	for (k = 0; x >= w[k]; k++)
		x -= w[k];
	switch (k) {
	case OP_SPAWN:
		o->kind = OP_SPAWN;
		o->p = next_pid++;
		o->x = chance(30);
		break;
	case OP_FORK:
		o->kind = OP_FORK;
		o->p = p->pid;
		o->q = next_pid++;
		break;
	case OP_EXIT:
	case OP_EXEC:
		o->kind = (uint8_t)k;
		o->p = p->pid;
		break;
	case OP_MMAP:
		gen_mmap(o, p);
		break;
	case OP_MUNMAP:
		gen_munmap(o, p);
		break;
	case OP_BRK:
		gen_brk(o, p);
		break;
	case OP_REMAP:
		gen_remap(o, p);
		break;
	case OP_SHMUNMAP:
		gen_shmunmap(o, p);
		break;
	case OP_GRANT:
		gen_grant(o, p);
		break;
	case OP_REVOKE:
	case OP_SAFEREVMAP:
		gen_revoke(o, p, (int)k);
		break;
	case OP_SAFECOPY:
		gen_safecopy(o, p);
		break;
	case OP_SAFEMAP:
		gen_safemap(o, p);
		break;
	default:
		gen_access(o, p, (int)k);
		break;
	}
}

/* ---- Shrinking ---- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Replays and keeps ops[0..*n) failing while removing as much as it can:
 * cut after the failure, then delta debugging (remove chunks, halving
 * their size), within a time budget. */
static void shrink(struct op *ops, long *n, double budget)
{
	double t0 = now();
	struct op *tmp = xmalloc((size_t)*n * sizeof(*tmp));
	long runs = 0;

	/* Sweeping after every step finds a wrong page at the step that made
	 * it, but costs too much on a long history. */
	cfg.sweep_every_op = *n <= 4000;
	cfg.sweep_every = 64;
	long f = replay(ops, *n);
	runs++;
	if (f < 0) {
		printf("model: the failure does not reproduce on a fresh machine; not shrunk\n");
		free(tmp);
		return;
	}
	*n = f < *n ? f + 1 : *n;
	/* Steps that VM placed where it chose, pinned there by a hint: a
	 * shorter history would move them. */
	memcpy(tmp, ops, (size_t)*n * sizeof(*ops));
	for (long i = 0; i < *n; i++)
		if (tmp[i].kind == OP_MMAP && !(tmp[i].flags & VM_MAP_FIXED) && tmp[i].res)
			tmp[i].addr = tmp[i].res;
	if ((f = replay(tmp, *n)) >= 0) {
		memcpy(ops, tmp, (size_t)*n * sizeof(*ops));
		*n = f < *n ? f + 1 : *n;
	}
	runs++;
	for (long chunk = *n / 2; chunk >= 1 && now() - t0 < budget;) {
		bool removed = false;
		for (long i = 0; i + 1 <= *n && now() - t0 < budget;) {
			long k = chunk < *n - i ? chunk : *n - i;
			memcpy(tmp, ops, (size_t)i * sizeof(*ops));
			memcpy(tmp + i, ops + i + k, (size_t)(*n - i - k) * sizeof(*ops));
			runs++;
			f = replay(tmp, *n - k);
			if (f >= 0) {
				long m = f < *n - k ? f + 1 : *n - k;
				memcpy(ops, tmp, (size_t)m * sizeof(*ops));
				*n = m;
				removed = true;
				if (cfg.verbose)
					printf("model: shrinking: %ld steps\n", *n);
			} else {
				i += k;
			}
		}
		if (!removed || chunk > *n / 2)
			chunk = chunk > *n / 2 ? *n / 2 : chunk / 2;
		cfg.sweep_every_op = *n <= 4000;
	}
	/* A fork whose child could as well be its parent: drop the fork and
	 * let the parent do what the child did. */
	for (long i = 0; i < *n && now() - t0 < budget; i++) {
		if (ops[i].kind != OP_FORK)
			continue;
		int32_t parent = ops[i].p, child = ops[i].q;
		memcpy(tmp, ops, (size_t)i * sizeof(*ops));
		memcpy(tmp + i, ops + i + 1, (size_t)(*n - i - 1) * sizeof(*ops));
		for (long j = i; j < *n - 1; j++) {
			if (tmp[j].p == child)
				tmp[j].p = parent;
			if (tmp[j].q == child &&
			    (tmp[j].kind == OP_REMAP || tmp[j].kind == OP_GRANT))
				tmp[j].q = parent;
		}
		runs++;
		if ((f = replay(tmp, *n - 1)) >= 0) {
			long m = f < *n - 1 ? f + 1 : *n - 1;
			memcpy(ops, tmp, (size_t)m * sizeof(*ops));
			*n = m;
			i--;
		}
	}
	/* Shorter accesses make a shorter scenario. */
	for (long i = 0; i < *n && now() - t0 < budget; i++) {
		struct op *o = &ops[i];
		if (o->kind < OP_WRITE && o->kind != OP_SAFECOPY)
			continue;
		while (o->len > 1 && now() - t0 < budget) {
			uint32_t len = o->len;
			o->len = len / 2;
			runs++;
			if ((f = replay(ops, *n)) < 0 || f < i) {
				o->len = len; /* needed, or the failure moved before it */
				break;
			}
			*n = f < *n ? f + 1 : *n;
		}
	}
	printf("model: shrunk to %ld steps in %ld replays (%.1f s)%s\n", *n, runs, now() - t0,
	       now() - t0 >= budget ? ", time budget reached" : "");
	free(tmp);
}

/* ---- Running the saved scenario through the scenario runner ---- */

/* The hosted machine's operations (scnhost.c), but files come from
 * memory: the one ELF image the run loaded. */
static int sm_readfile(void *ctx, const char *path, const void **data, size_t *len)
{
	(void)ctx;
	if (elf.path == NULL || strcmp(path, elf.path) != 0)
		return ENOENT;
	*data = elf.image;
	*len = elf.len;
	return 0;
}

/* Write the scenario for ops[0..n) to path and run it: it must fail. */
static int save_scenario(struct op *ops, long n, const char *path, uint64_t seed)
{
	char mem[32];
	scn.len = 0;
	cfg.recording = true;
	snprintf(mem, sizeof(mem), "%uM", cfg.mem >> 20);
	emit("# Made by the model-based random test (tests/model): seed %" PRIu64
	     ", shrunk to %ld steps.",
	     seed, n);
	emit("# Reproduce the run: model --seed %" PRIu64 " --mem %s", seed, mem);
	emit("# Every command below passed on VM except the last check(s).");
	emit("mem %s", mem);
	emit("let boot free");
	cfg.sweep_every_op = true;
	long f = replay(ops, n);
	cfg.recording = false;
	if (f < 0) {
		printf("model: the shrunk steps no longer fail; nothing saved\n");
		return -1;
	}
	printf("model: failure: %s\n", failmsg);
	/* The scenario ends with the consistency check; the runner exits
	 * whatever is left and checks again. */
	if (scn.len < 8 || strcmp(scn.s + scn.len - 7, "sanity\n") != 0)
		emit("sanity");
	FILE *fp = fopen(path, "w");
	if (fp == NULL || fwrite(scn.s, 1, scn.len, fp) != scn.len || fclose(fp) != 0) {
		fprintf(stderr, "model: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	printf("model: wrote %s (%ld steps); the scenario runner says:\n", path, n);
	int sig = sigsetjmp(crash_jmp, 1);
	if (sig) {
		printf("model: VM crashed (signal %d) running it: `vm run %s` fails\n", sig, path);
		hosted_halt();
		return 0;
	}
	struct scn_host host = { 0 };
	struct scn_machine machine;
	scn_host_machine(&host, &machine);
	machine.readfile = sm_readfile;
	crash_armed = 1;
	enum scn_status s = scn_run(&machine, path, scn.s, scn.len);
	crash_armed = 0;
	scn_host_done(&host);
	if (s == SCN_FAILED) {
		printf("model: `vm run %s` fails as it should\n", path);
		return 0;
	}
	printf("model: warning: `vm run %s` does not fail (status %d)\n", path, (int)s);
	return -1;
}

/* One machine's worth of generated steps, logged in *ops: until max_ops
 * in all, round steps on this machine, or the time is up; then every
 * process exits and the end checks run. Returns the failing step's index
 * (*n: the end of the run, for a failure there), or -1. Its state is
 * static because a crash comes back through siglongjmp. */
static struct op **g_ops;
static size_t *g_cap;
static long *g_n;
static volatile long g_fail;

static long run_round(struct op **ops, size_t *cap, long *n, uint64_t max_ops, uint64_t round,
		      double seconds, double t0)
{
	g_ops = ops;
	g_cap = cap;
	g_n = n;
	g_fail = -1;
	boot();
	int sig = sigsetjmp(crash_jmp, 1);
	if (sig) {
		fail("crashed with signal %d (a VM panic is SIGABRT, printed above)", sig);
		hosted_halt();
		return *g_n - 1;
	}
	crash_armed = 1;
	for (;;) {
		if ((max_ops && st.ops >= max_ops) || (uint64_t)*g_n >= round ||
		    (seconds > 0 && (st.ops & 255) == 0 && now() - t0 >= seconds))
			break;
		if ((size_t)*g_n == *g_cap) {
			*g_cap *= 2;
			struct op *o2 = realloc(*g_ops, *g_cap * sizeof(**g_ops));
			if (o2 == NULL) {
				fprintf(stderr, "model: out of host memory\n");
				exit(3);
			}
			*g_ops = o2;
		}
		struct op *o = &(*g_ops)[*g_n];
		gen_op(o);
		++*g_n;
		st.ops++;
		st.kind[o->kind]++;
		if (cfg.verbose)
			printf("model: step %ld: %s P%d/P%d addr 0x%08x len 0x%x flags 0x%x x %u "
			       "arg 0x%x\n",
			       *g_n - 1, opname[o->kind], o->p, o->q, o->addr, o->len, o->flags,
			       o->x, o->arg);
		int r = run_op(o);
		if ((uint64_t)nprocs > st.maxprocs)
			st.maxprocs = (uint64_t)nprocs;
		if (r == R_FAIL || after_op((uint64_t)*g_n) == R_FAIL) {
			g_fail = *g_n - 1;
			break;
		}
	}
	if (g_fail < 0 && (sweep() == R_FAIL || finish_run() == R_FAIL))
		g_fail = *g_n;
	crash_armed = 0;
	st.cow_pages += grant_stats.safecopy_cow_pages;
	model_reset();
	hosted_halt();
	return g_fail;
}

/* ---- Command line ---- */

static int parse_size(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	if (*end == 'K')
		v <<= 10, end++;
	else if (*end == 'M')
		v <<= 20, end++;
	else if (*end == 'G')
		v <<= 30, end++;
	if (*end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int usage(FILE *f, int status)
{
	fprintf(f,
		"usage: model [--seed N] [--ops N] [--seconds S] [--mem SIZE] [--elf PATH]\n"
		"             [--save FILE] [--every-call] [--round N] [--shrink-seconds S] [-v]\n"
		"  random steps on the hosted machine and on a reference model, compared\n"
		"  byte for byte, with VM's consistency check after every step\n"
		"  --seed N           the run (default 1); the same seed, the same run\n"
		"  --ops N            steps (default 200000; 0: until --seconds)\n"
		"  --seconds S        stop after S seconds (default: no limit)\n"
		"  --mem SIZE         machine memory, 16M-32M (default: from the seed)\n"
		"  --elf PATH         the i386 executable exec loads (tests/elf/hello.c's\n"
		"                     build); without it no exec steps\n"
		"  --save FILE        where a failing run's shrunk scenario goes\n"
		"                     (default model-failure.scn)\n"
		"  --every-call       VM checks itself after every message, faults too\n"
		"  --round N          steps per machine: then every process exits, the\n"
		"                     end checks run, and a fresh machine boots with the\n"
		"                     next seed (default 500000)\n"
		"  --shrink-seconds S time for shrinking a failure (default 300)\n"
		"  -v                 print every step\n");
	return status;
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, max_ops = 200000, round = 500000;
	double seconds = 0, shrink_budget = 300;
	const char *save = "model-failure.scn", *elfpath = NULL;
	uint32_t mem = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(stdout, 0);
		if (!strcmp(a, "--every-call")) {
			cfg.every_call = true;
			continue;
		}
		if (!strcmp(a, "-v")) {
			cfg.verbose++;
			continue;
		}
		if (v == NULL)
			return usage(stderr, 2);
		i++;
		char *end = NULL;
		if (!strcmp(a, "--seed"))
			seed = strtoull(v, &end, 0);
		else if (!strcmp(a, "--ops"))
			max_ops = strtoull(v, &end, 0);
		else if (!strcmp(a, "--round"))
			round = strtoull(v, &end, 0);
		else if (!strcmp(a, "--seconds"))
			seconds = strtod(v, &end);
		else if (!strcmp(a, "--shrink-seconds"))
			shrink_budget = strtod(v, &end);
		else if (!strcmp(a, "--mem")) {
			if (parse_size(v, &mem) || mem < (4u << 20) || (mem & ((4u << 20) - 1))) {
				fprintf(stderr, "model: --mem wants a multiple of 4M\n");
				return 2;
			}
			continue;
		} else if (!strcmp(a, "--elf")) {
			elfpath = v;
			continue;
		} else if (!strcmp(a, "--save")) {
			save = v;
			continue;
		} else {
			fprintf(stderr, "model: unknown option %s\n", a);
			return usage(stderr, 2);
		}
		if (end == v || *end) {
			fprintf(stderr, "model: bad number for %s: %s\n", a, v);
			return 2;
		}
	}
	if (round == 0)
		round = UINT64_MAX;
	if (max_ops == 0 && seconds <= 0) {
		fprintf(stderr, "model: --ops 0 needs --seconds\n");
		return 2;
	}
	if (elfpath && load_elf(elfpath) != 0)
		return 2;
	if (!elfpath)
		printf("model: no --elf: exec is not exercised\n");
	signal(SIGABRT, crash_handler);
	signal(SIGSEGV, crash_handler);
	setvbuf(stdout, NULL, _IOLBF, 0);

	size_t cap = 1 << 16;
	struct op *ops = xmalloc(cap * sizeof(*ops));
	double t0 = now();
	int status = 0;

	for (uint64_t rnd_i = 0;; rnd_i++) {
		uint64_t rseed = seed + rnd_i;
		cfg.mem = mem ? mem : (16u + 4u * (uint32_t)(rseed % 5)) << 20;
		cfg.sweep_every = 256;
		cfg.sweep_every_op = false;
		rng = rseed;
		next_pid = 1;
		next_gid = 1;
		long n = 0;
		long fail_at = run_round(&ops, &cap, &n, max_ops, round, seconds, t0);
		if (fail_at >= 0) {
			struct stats saved = st; /* shrinking replays: not the run's figures */
			printf("model: FAILED: seed %" PRIu64
			       " (mem %uM), step %ld of this run: %s\n",
			       rseed, cfg.mem >> 20, fail_at, failmsg);
			printf("model: reproduce with: model --seed %" PRIu64
			       " --mem %uM --ops %ld%s%s\n",
			       rseed, cfg.mem >> 20, fail_at < n ? fail_at + 1 : n,
			       elfpath ? " --elf " : "", elfpath ? elfpath : "");
			n = fail_at >= n ? n : fail_at + 1;
			shrink(ops, &n, shrink_budget);
			save_scenario(ops, n, save, rseed);
			st = saved;
			status = 1;
			break;
		}
		if ((max_ops && st.ops >= max_ops) || (seconds > 0 && now() - t0 >= seconds))
			break;
	}
	double secs = now() - t0;
	printf("model: seed %" PRIu64 " ops %" PRIu64 " checks %" PRIu64 " reads %" PRIu64
	       " pages compared %" PRIu64 " mismatches %" PRIu64 " findings %" PRIu64 "\n",
	       seed, st.ops, st.checks, st.reads, st.pages, st.mismatches, st.findings);
	printf("model: %.1f s; steps:", secs);
	for (int k = 0; k < OP_KINDS; k++)
		printf(" %s %" PRIu64, opname[k], st.kind[k]);
	printf("; refused accesses %" PRIu64 ", errors expected %" PRIu64 ", ENOMEM %" PRIu64
	       ", sweeps %" PRIu64 ", most processes %" PRIu64 "\n",
	       st.efault, st.errs, st.enomem, st.sweeps, st.maxprocs);
	printf("model: grants: safecopies %" PRIu64 " (%" PRIu64 " bytes, %" PRIu64
	       " pages shared copy-on-write by VM, %" PRIu64
	       " cut short by EFAULT), safemaps %" PRIu64 "\n",
	       st.copies, st.copy_bytes, st.cow_pages, st.copies_cut, st.maps);
	free(ops);
	return status;
}
