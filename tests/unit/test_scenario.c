/*
 * Tests of the scenario runner (kernel-stubs/scenario/) against a fake
 * machine: an in-memory model of processes, regions and pages that
 * answers the runner's messages the way VM does (addresses from mmap,
 * EFAULT outside a region or against its protection, pages made present
 * on first touch, copy-on-write counted after fork). Bytes really are
 * stored and read back, and several tests look at the fake's memory
 * directly, so a runner that decodes a string or an address wrongly fails
 * here rather than agreeing with itself. It also has a few files (see
 * fk_files) for exec, and answers VM_REMAP by copying the region (enough
 * to see which region was meant, not real sharing).
 *
 * Run one case by name: test_scenario 'escapes*'.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/ipc.h>
#include <vmscope/mman.h>

#include "fmt.h"
#include "scenario.h"

/* ---- The fake machine ---- */

#define FK_PROCS 80 /* more than the runner's limit, so the runner's shows */
#define FK_REGIONS 32
#define FK_BASE 0x40000000u
#define FK_SLOT0 10
#define FK_DEAD 8
#define FK_LOG 16
#define FK_ELF "\177ELF"     /* an image starts with it */
#define FK_TEXT 0x08048000u  /* where the fake's exec puts the image */
#define FK_STACK 0xbfffc000u /* ... and a 16K stack */
#define PG 4096u

struct fk_region {
	uint32_t start, len;
	int32_t prot, flags;
	uint32_t type;
	uint8_t *data;    /* len bytes */
	uint8_t *present; /* a byte per page */
	uint8_t *cow;     /* a byte per page: shared copy-on-write since fork */
};

struct fk_proc {
	bool used;
	char name[VM_PROC_NAME_LEN];
	endpoint_t ep;
	int priv;
	struct fk_region r[FK_REGIONS];
	int nr;
	uint32_t next, brk, minflt;
};

static struct fake {
	bool booted;
	uint32_t mem;
	int boot_tries, boots, halts, spawns, exits, sanities, forks;
	int gen;
	struct fk_proc p[FK_PROCS];
	/* Processes that exited, memory and all, for tests to look at. */
	struct fk_proc dead[FK_DEAD];
	int ndead;
	/* Knobs a test turns. */
	int fork_errno, exit_errno, umap_errno, exec_errno;
	bool cached_enosys, sanity_enosys, broken_cow, remap_enosys;
	const struct scn_machine *machine; /* NULL: fake */
	uint32_t findings, findings_at_end;
	/* What a test looks at. */
	message mmap_log[FK_LOG];
	int mmaps;
	message remap_log[FK_LOG], shmunmap_log[FK_LOG];
	int remaps, shmunmaps;
	message cache_log[FK_LOG]; /* yield/getblock/forget/forgetall */
	int cache_calls;
	int cache_errno; /* what the fake answers them */
	int reads, execs, exec_kills;
	char read_path[8192]; /* the path readfile was asked for last */
	size_t exec_len;      /* the image exec got last */
	uint8_t exec_image[64];
	size_t max_access;
	unsigned accesses;
	char *out;
	size_t outlen, outcap;
} F;

static uint32_t pages(uint32_t len)
{
	return (uint32_t)(((uint64_t)len + PG - 1) / PG);
}

static struct fk_proc *fk_proc(endpoint_t ep)
{
	for (int i = 0; i < FK_PROCS; i++)
		if (F.p[i].used && F.p[i].ep == ep)
			return &F.p[i];
	return NULL;
}

static struct fk_proc *fk_proc_named(const char *name)
{
	for (int i = 0; i < FK_PROCS; i++)
		if (F.p[i].used && !strcmp(F.p[i].name, name))
			return &F.p[i];
	return NULL;
}

static struct fk_region *fk_region(struct fk_proc *p, uint32_t addr)
{
	for (int i = 0; i < p->nr; i++)
		if (addr - p->r[i].start < p->r[i].len)
			return &p->r[i];
	return NULL;
}

static void fk_region_free(struct fk_region *r)
{
	free(r->data);
	free(r->present);
	free(r->cow);
	memset(r, 0, sizeof(*r));
}

static void fk_region_remove(struct fk_proc *p, int i)
{
	fk_region_free(&p->r[i]);
	p->r[i] = p->r[--p->nr];
	memset(&p->r[p->nr], 0, sizeof(p->r[0]));
}

static void fk_proc_free(struct fk_proc *p)
{
	while (p->nr)
		fk_region_remove(p, 0);
	memset(p, 0, sizeof(*p));
}

/* p is gone: keep it among the dead (the oldest dead is freed). */
static void fk_proc_bury(struct fk_proc *p)
{
	if (F.ndead == FK_DEAD) {
		fk_proc_free(&F.dead[0]);
		memmove(&F.dead[0], &F.dead[1], sizeof(F.dead[0]) * (FK_DEAD - 1));
		F.ndead--;
	}
	F.dead[F.ndead] = *p;
	F.dead[F.ndead++].used = false;
	memset(p, 0, sizeof(*p));
}

static uint32_t fk_resident(const struct fk_proc *p, bool cow_only)
{
	uint32_t n = 0;

	for (int i = 0; i < p->nr; i++)
		for (uint32_t pg = 0; pg < pages(p->r[i].len); pg++)
			n += p->r[i].present[pg] && (!cow_only || p->r[i].cow[pg]);
	return n;
}

static uint32_t fk_total(void)
{
	return F.mem / PG;
}

static uint32_t fk_free(void)
{
	uint32_t used = 0;

	for (int i = 0; i < FK_PROCS; i++)
		if (F.p[i].used)
			used += fk_resident(&F.p[i], false);
	return used > fk_total() ? 0 : fk_total() - used;
}

static int fk_boot(void *ctx, uint32_t mem)
{
	(void)ctx;
	assert_false(F.booted);
	F.boot_tries++;
	if (!mem || mem % (4u << 20))
		return EINVAL;
	F.boots++;
	F.booted = true;
	F.mem = mem;
	return 0;
}

static void fk_halt(void *ctx)
{
	(void)ctx;
	assert_true(F.booted);
	for (int i = 0; i < FK_PROCS; i++)
		if (F.p[i].used)
			fk_proc_bury(&F.p[i]);
	F.booted = false;
	F.halts++;
}

static struct fk_proc *fk_new_proc(const char *name)
{
	for (int i = 0; i < FK_PROCS; i++) {
		if (F.p[i].used)
			continue;
		F.p[i].used = true;
		snprintf(F.p[i].name, sizeof(F.p[i].name), "%s", name);
		F.p[i].ep = VM_ENDPOINT(++F.gen, FK_SLOT0 + i);
		F.p[i].next = FK_BASE;
		F.p[i].brk = 0x08100000;
		return &F.p[i];
	}
	return NULL;
}

static int fk_spawn(void *ctx, const char *name, int priv, endpoint_t *ep)
{
	struct fk_proc *p;

	(void)ctx;
	assert_true(F.booted);
	assert_null(fk_proc_named(name));
	p = fk_new_proc(name);
	if (!p)
		return EAGAIN;
	F.spawns++;
	p->priv = priv;
	*ep = p->ep;
	return 0;
}

static int fk_fork(void *ctx, endpoint_t parent, const char *name, endpoint_t *child)
{
	struct fk_proc *pp = fk_proc(parent), *c;

	(void)ctx;
	if (F.fork_errno)
		return F.fork_errno;
	if (!pp)
		return ESRCH;
	c = fk_new_proc(name);
	if (!c)
		return EAGAIN;
	F.forks++;
	c->priv = pp->priv;
	c->next = pp->next;
	c->brk = pp->brk;
	c->nr = pp->nr;
	for (int i = 0; i < pp->nr; i++) {
		struct fk_region *s = &pp->r[i], *d = &c->r[i];
		uint32_t np = pages(s->len);

		*d = *s;
		d->data = malloc(s->len);
		d->present = malloc(np);
		d->cow = malloc(np);
		memcpy(d->data, s->data, s->len);
		memcpy(d->present, s->present, np);
		for (uint32_t pg = 0; pg < np; pg++)
			s->cow[pg] = d->cow[pg] = s->present[pg] && !(s->flags & VM_MAP_SHARED);
	}
	*child = c->ep;
	return 0;
}

static int fk_exit(void *ctx, endpoint_t ep)
{
	struct fk_proc *p = fk_proc(ep);

	(void)ctx;
	if (F.exit_errno)
		return F.exit_errno;
	if (!p)
		return ESRCH;
	fk_proc_bury(p);
	F.exits++;
	return 0;
}

static bool fk_range_free(struct fk_proc *p, uint32_t addr, uint32_t len)
{
	for (int i = 0; i < p->nr; i++)
		if (addr < p->r[i].start + p->r[i].len && p->r[i].start < addr + len)
			return false;
	return true;
}

static int fk_mmap(struct fk_proc *p, message *m)
{
	uint64_t np = pages(m->m_mmap.len);
	uint32_t len = (uint32_t)(np * PG), addr = m->m_mmap.addr;
	int32_t fl = m->m_mmap.flags;
	struct fk_region *r;

	if (F.mmaps < FK_LOG)
		F.mmap_log[F.mmaps] = *m;
	F.mmaps++;
	if (!m->m_mmap.len || (fl & VM_MAP_FIXED && addr % PG))
		return EINVAL;
	if (fl & (VM_MAP_PHYS | VM_MAP_UNINIT) && !p->priv)
		return EPERM;
	if (np > fk_total() || p->nr == FK_REGIONS)
		return ENOMEM;
	if (fl & VM_MAP_FIXED) {
		for (int i = p->nr - 1; i >= 0; i--)
			if (!fk_range_free(p, p->r[i].start, p->r[i].len) &&
			    addr < p->r[i].start + p->r[i].len && p->r[i].start < addr + len)
				fk_region_remove(p, i);
	} else if (!addr || addr % PG || !fk_range_free(p, addr, len)) {
		/* Leave a page's gap after each region: segv tests touch it. */
		addr = p->next;
		p->next += len + PG;
	}
	r = &p->r[p->nr++];
	r->start = addr;
	r->len = len;
	r->prot = m->m_mmap.prot;
	r->flags = fl;
	r->type = fl & VM_MAP_PHYS ? 3 : fl & VM_MAP_CONTIG ? 2 : fl & VM_MAP_SHARED ? 4 : 1;
	r->data = calloc(1, len);
	r->present = calloc(1, len / PG);
	r->cow = calloc(1, len / PG);
	if (fl & VM_MAP_PREALLOC)
		memset(r->present, 1, len / PG);
	m->m_mmap.addr = addr;
	return 0;
}

/* Unmaps the regions wholly inside the range: enough for these tests. */
static int fk_munmap(struct fk_proc *p, message *m)
{
	uint32_t addr = m->m_munmap.addr, len = m->m_munmap.len;

	if (!len || addr % PG)
		return EINVAL;
	for (int i = p->nr - 1; i >= 0; i--)
		if (p->r[i].start >= addr && p->r[i].start + p->r[i].len <= addr + len)
			fk_region_remove(p, i);
	return 0;
}

/* VM_REMAP: the whole region of src at src_addr appears in dst, where
 * the fake chooses, with a copy of its bytes. */
static int fk_remap(message *m)
{
	struct fk_proc *src = fk_proc(m->m_remap.src), *dst = fk_proc(m->m_remap.dst);
	struct fk_region *r, *d;

	if (F.remaps < FK_LOG)
		F.remap_log[F.remaps] = *m;
	F.remaps++;
	if (m->m_source != KERNEL)
		return EPERM;
	if (!src || !dst)
		return ESRCH;
	r = fk_region(src, m->m_remap.src_addr);
	if (!r)
		return EINVAL;
	if (dst->nr == FK_REGIONS)
		return ENOMEM;
	d = &dst->r[dst->nr++];
	d->start = dst->next;
	dst->next += r->len + PG;
	d->len = r->len;
	d->prot = m->m_remap.flags & VM_REMAP_RO ? VM_PROT_READ : r->prot;
	d->flags = VM_MAP_SHARED;
	d->type = 4;
	d->data = malloc(r->len);
	memcpy(d->data, r->data, r->len);
	d->present = calloc(1, r->len / PG);
	d->cow = calloc(1, r->len / PG);
	m->m_remap.dst_addr = d->start;
	return 0;
}

/* VM_SHM_UNMAP: the shared region that starts at addr goes. */
static int fk_shmunmap(struct fk_proc *p, message *m)
{
	if (F.shmunmaps < FK_LOG)
		F.shmunmap_log[F.shmunmaps] = *m;
	F.shmunmaps++;
	for (int i = 0; i < p->nr; i++) {
		if (p->r[i].start == m->m_munmap.addr && p->r[i].type == 4) {
			fk_region_remove(p, i);
			return 0;
		}
	}
	return EINVAL;
}

/* Region number index of p in address order. */
static struct fk_region *fk_region_nth(struct fk_proc *p, uint32_t index)
{
	for (int i = 0; i < p->nr; i++) {
		uint32_t below = 0;

		for (int j = 0; j < p->nr; j++)
			below += p->r[j].start < p->r[i].start;
		if (below == index)
			return &p->r[i];
	}
	return NULL;
}

static int fk_query(message *m)
{
	struct fk_proc *p = fk_proc(m->m_query.ep);
	uint32_t *v = m->m_query.val;
	struct fk_region *r;

	if (m->m_source != KERNEL)
		return EPERM;
	switch (m->m_query.what) {
	case VMQ_FREE:
		v[0] = fk_free();
		return 0;
	case VMQ_TOTAL:
		v[0] = fk_total();
		return 0;
	case VMQ_LARGEST:
		v[0] = fk_free();
		return 0;
	case VMQ_CACHED:
		v[0] = 0;
		return F.cached_enosys ? ENOSYS : 0;
	default:
		break;
	}
	if (!p)
		return ESRCH;
	switch (m->m_query.what) {
	case VMQ_RESIDENT:
		v[0] = fk_resident(p, false);
		return 0;
	case VMQ_SHARED:
		v[0] = 0;
		return 0;
	case VMQ_COW:
		v[0] = fk_resident(p, true);
		return 0;
	case VMQ_VIRTUAL:
		v[0] = 0;
		for (int i = 0; i < p->nr; i++)
			v[0] += p->r[i].len / PG;
		return 0;
	case VMQ_REGIONS:
		v[0] = (uint32_t)p->nr;
		return 0;
	case VMQ_MINFLT:
		v[0] = p->minflt;
		return 0;
	case VMQ_BRK:
		v[0] = p->brk;
		return 0;
	case VMQ_REGION:
		r = fk_region_nth(p, m->m_query.index);
		if (!r)
			return ESRCH;
		v[0] = r->start;
		v[1] = r->len;
		v[2] = (uint32_t)r->prot;
		v[3] = 0;
		v[4] = r->type;
		v[5] = 0;
		for (uint32_t pg = 0; pg < r->len / PG; pg++)
			v[5] += r->present[pg];
		return 0;
	}
	return EINVAL;
}

static int fk_call(void *ctx, message *m)
{
	struct fk_proc *p = fk_proc(m->m_source);
	int r;

	(void)ctx;
	assert_true(F.booted);
	switch (m->m_type) {
	case VM_MMAP:
		r = p ? fk_mmap(p, m) : ESRCH;
		break;
	case VM_MUNMAP:
		r = p ? fk_munmap(p, m) : ESRCH;
		break;
	case VM_BRK:
		if (p)
			p->brk = m->m_brk.addr;
		r = p ? 0 : ESRCH;
		break;
	case VM_REMAP:
		r = F.remap_enosys ? ENOSYS : fk_remap(m);
		break;
	case VM_SHM_UNMAP:
		r = F.remap_enosys ? ENOSYS : p ? fk_shmunmap(p, m) : ESRCH;
		break;
	case VM_YIELDBLOCKGETBLOCK:
	case VM_FORGETBLOCK:
	case VM_FORGETBLOCKS:
		if (F.cache_calls < FK_LOG)
			F.cache_log[F.cache_calls] = *m;
		F.cache_calls++;
		r = F.cache_errno;
		break;
	case VM_QUERY:
		r = fk_query(m);
		break;
	case VM_SANITY:
		F.sanities++;
		r = m->m_source != KERNEL ? EPERM : F.sanity_enosys ? ENOSYS : 0;
		m->m_sanity.findings = F.findings;
		for (int i = 0; i < FK_PROCS; i++)
			if (F.p[i].used)
				goto out;
		m->m_sanity.findings += F.findings_at_end;
		break;
	default:
		r = ENOSYS;
	}
out:
	m->m_type = r;
	return r;
}

static void fk_store(struct fk_region *r, uint32_t off, uint8_t b)
{
	r->data[off] = b;
	r->cow[off / PG] = 0;
}

static int fk_access(void *ctx, endpoint_t ep, vir_bytes vaddr, void *buf, size_t len, int write)
{
	struct fk_proc *p = fk_proc(ep);
	uint8_t *b = buf;

	(void)ctx;
	assert_true(F.booted);
	assert_non_null(p);
	F.accesses++;
	if (len > F.max_access)
		F.max_access = len;
	if ((uint64_t)vaddr + len > 0x100000000ull)
		return EFAULT;
	for (size_t i = 0; i < len; i++) {
		uint32_t a = vaddr + (uint32_t)i;
		struct fk_region *r = fk_region(p, a);
		uint32_t off, pg;

		if (!r || !(r->prot & (write ? VM_PROT_WRITE : VM_PROT_READ)))
			return EFAULT;
		off = a - r->start;
		pg = off / PG;
		if (!r->present[pg]) {
			if (!fk_free())
				return ENOMEM;
			r->present[pg] = 1;
			p->minflt++;
		}
		if (!write) {
			b[i] = r->data[off];
			continue;
		}
		fk_store(r, off, b[i]);
		/* A machine whose copy-on-write is broken: the store lands in
		 * every process that maps the address. */
		for (int j = 0; F.broken_cow && j < FK_PROCS; j++) {
			struct fk_region *o;

			if (!F.p[j].used || &F.p[j] == p || !(o = fk_region(&F.p[j], a)))
				continue;
			fk_store(o, a - o->start, b[i]);
		}
	}
	return 0;
}

static int fk_umap(void *ctx, endpoint_t ep, vir_bytes vaddr, phys_bytes *pa)
{
	struct fk_proc *p = fk_proc(ep);
	struct fk_region *r = p ? fk_region(p, vaddr) : NULL;

	(void)ctx;
	if (F.umap_errno)
		return F.umap_errno;
	if (!r || !r->present[(vaddr - r->start) / PG])
		return EFAULT;
	*pa = 0x01000000u | (vaddr & 0x00ffffffu);
	return 0;
}

/* The fake's files. An image is "\x7fELF" and a word the fake's exec
 * acts on: "big" runs out of memory after the old image is gone (the
 * process is killed), "huge" before (nothing changes). */
static const struct {
	const char *path, *data;
} fk_files[] = {
	{ "dir/sub/prog.elf", FK_ELF " sub" }, { "dir/sub/my prog.elf", FK_ELF " spaced" },
	{ "/abs/prog.elf", FK_ELF " abs" },    { "prog.elf", FK_ELF " top" },
	{ "big.elf", FK_ELF " big" },          { "huge.elf", FK_ELF " huge" },
	{ "notelf.bin", "#!/bin/sh" },
};

static int fk_readfile(void *ctx, const char *path, const void **data, size_t *len)
{
	(void)ctx;
	assert_true(F.booted);
	F.reads++;
	snprintf(F.read_path, sizeof(F.read_path), "%s", path);
	for (size_t i = 0; i < sizeof(fk_files) / sizeof(fk_files[0]); i++) {
		if (strcmp(path, fk_files[i].path))
			continue;
		*data = fk_files[i].data;
		*len = strlen(fk_files[i].data);
		return 0;
	}
	return ENOENT;
}

/* A region of p at start, len bytes with prot, holding data[0..n). */
static void fk_add_region(struct fk_proc *p, uint32_t start, uint32_t len, int32_t prot,
			  const void *data, size_t n)
{
	struct fk_region *r = &p->r[p->nr++];

	r->start = start;
	r->len = len;
	r->prot = prot;
	r->type = 1;
	r->data = calloc(1, len);
	r->present = calloc(1, len / PG);
	r->cow = calloc(1, len / PG);
	memcpy(r->data, data, n);
}

/* The image's bytes at FK_TEXT (r-x), a stack at FK_STACK. */
static int fk_exec(void *ctx, endpoint_t ep, const void *image, size_t len, int *killed)
{
	struct fk_proc *p = fk_proc(ep);

	(void)ctx;
	assert_true(F.booted);
	assert_non_null(p);
	assert_int_equal(*killed, 0);
	F.execs++;
	F.exec_len = len;
	memcpy(F.exec_image, image, len < sizeof(F.exec_image) ? len : sizeof(F.exec_image));
	if (F.exec_errno)
		return F.exec_errno;
	if (len < 4 || memcmp(image, FK_ELF, 4) || len > PG)
		return ENOEXEC;
	if (len == 9 && !memcmp(image, FK_ELF " huge", 9))
		return ENOMEM;
	while (p->nr)
		fk_region_remove(p, 0);
	if (len == 8 && !memcmp(image, FK_ELF " big", 8)) {
		fk_proc_bury(p);
		F.exec_kills++;
		*killed = 1;
		return ENOMEM;
	}
	fk_add_region(p, FK_TEXT, PG, VM_PROT_READ | VM_PROT_EXEC, image, len);
	fk_add_region(p, FK_STACK, 4 * PG, VM_PROT_READ | VM_PROT_WRITE, "", 0);
	p->brk = FK_TEXT + PG;
	return 0;
}

static void fk_print(void *ctx, const char *text)
{
	size_t n = strlen(text);

	(void)ctx;
	if (F.outlen + n + 1 > F.outcap) {
		F.outcap = (F.outlen + n + 1) * 2;
		F.out = realloc(F.out, F.outcap);
	}
	memcpy(F.out + F.outlen, text, n + 1);
	F.outlen += n;
}

static const struct scn_machine fake = {
	.ctx = &F,
	.boot = fk_boot,
	.halt = fk_halt,
	.spawn = fk_spawn,
	.fork = fk_fork,
	.exec = fk_exec,
	.exit = fk_exit,
	.call = fk_call,
	.access = fk_access,
	.umap = fk_umap,
	.readfile = fk_readfile,
	.print = fk_print,
};

/* The fake without exec, and the fake without files. */
static const struct scn_machine fake_no_exec = {
	.ctx = &F,
	.boot = fk_boot,
	.halt = fk_halt,
	.spawn = fk_spawn,
	.fork = fk_fork,
	.exit = fk_exit,
	.call = fk_call,
	.access = fk_access,
	.umap = fk_umap,
	.readfile = fk_readfile,
	.print = fk_print,
};

static const struct scn_machine fake_no_files = {
	.ctx = &F,
	.boot = fk_boot,
	.halt = fk_halt,
	.spawn = fk_spawn,
	.fork = fk_fork,
	.exec = fk_exec,
	.exit = fk_exit,
	.call = fk_call,
	.access = fk_access,
	.umap = fk_umap,
	.print = fk_print,
};

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	F.out = calloc(1, 1);
	F.outcap = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < FK_PROCS; i++)
		if (F.p[i].used)
			fk_proc_free(&F.p[i]);
	for (int i = 0; i < F.ndead; i++)
		fk_proc_free(&F.dead[i]);
	free(F.out);
	return 0;
}

/* Run text as the scenario named name on a fresh fake (F.machine if
 * set), which must be halted afterwards exactly when it was booted. */
static enum scn_status run_named(const char *name, const char *text)
{
	enum scn_status s;

	F.outlen = 0;
	F.out[0] = '\0';
	s = scn_run(F.machine ? F.machine : &fake, name, text, strlen(text));
	assert_false(F.booted);
	assert_int_equal(F.halts, F.boots);
	return s;
}

/* Run text as "t.scn". */
static enum scn_status run(const char *text)
{
	return run_named("t.scn", text);
}

/* Run text; the status and the whole output must be these. */
static void run_expect(const char *text, enum scn_status status, const char *out)
{
	enum scn_status s = run(text);

	assert_string_equal(F.out, out);
	assert_int_equal(s, status);
}

/* The fake process named name that exited last. */
static struct fk_proc *dead_named(const char *name)
{
	for (int i = F.ndead - 1; i >= 0; i--)
		if (!strcmp(F.dead[i].name, name))
			return &F.dead[i];
	fail_msg("no dead process %s", name);
	return NULL;
}

/* The bytes at addr in the process named name that exited last. */
static const uint8_t *peek(const char *name, uint32_t addr)
{
	struct fk_proc *p = dead_named(name);
	struct fk_region *r;

	r = fk_region(p, addr);
	assert_non_null(r);
	return r->data + (addr - r->start);
}

/* ---- The formatter ---- */

static void test_fmt(void **state)
{
	char buf[64], libc[64];

	(void)state;
	scn_snprintf(buf, sizeof(buf), "%s|%d|%u|%x|%08x|%c|%lu|%%", "ab", -42, 42u, 0xbeefu, 0xabu,
		     'z', 4000000000ul);
	assert_string_equal(buf, "ab|-42|42|beef|000000ab|z|4000000000|%");
	scn_snprintf(buf, sizeof(buf), "[%5s][%-5s][%5d][%-4u][%05d][%X]", "ab", "ab", -7, 3u, -7,
		     0xabcu);
	assert_string_equal(buf, "[   ab][ab   ][   -7][3   ][-0007][ABC]");
	scn_snprintf(buf, sizeof(buf), "%.*s|%.2s|%ld|%d|%i", 3, "abcdef", "xyz", -2147483647L - 1,
		     0, 12);
	assert_string_equal(buf, "abc|xy|-2147483648|0|12");
	/* Truncation keeps the NUL and reports the whole length. */
	assert_int_equal(scn_snprintf(buf, 5, "%s", "abcdefgh"), 8);
	assert_string_equal(buf, "abcd");
	assert_int_equal(scn_snprintf(NULL, 0, "%d", 12345), 5);
	/* It agrees with the C library on what both do. */
	scn_snprintf(buf, sizeof(buf), "%08lx %-6s %6s %x", 0x1234ul, "anon", "8K", 0u);
	snprintf(libc, sizeof(libc), "%08lx %-6s %6s %x", 0x1234ul, "anon", "8K", 0u);
	assert_string_equal(buf, libc);
}

/* ---- Whole scenarios ---- */

static const char cow_scn[] = "# cow.scn — a write after fork is private to the writer\n"
			      "mem 16M\n"
			      "spawn A\n"
			      "mmap A buf 8K\n"
			      "write A buf \"before\"\n"
			      "fork A B\n"
			      "assert B.cow == 1\n"
			      "write B buf \"after!\"\n"
			      "check A buf \"before\"\n"
			      "check B buf \"after!\"\n"
			      "expect EINVAL munmap A buf+1 4K\n"
			      "segv A buf+8K read\n"
			      "sanity\n";

/* The contract's example, as it is written there. */
static void test_contract_example(void **state)
{
	(void)state;
	run_expect(cow_scn, SCN_PASSED, "6 passed, 0 failed\n");
	assert_int_equal(F.mem, 16u << 20);
	assert_int_equal(F.boots, 1);
	assert_int_equal(F.forks, 1);
	/* A and B were left running: the runner exited both, then checked. */
	assert_int_equal(F.exits, 2);
	assert_int_equal(F.sanities, 2);
	assert_memory_equal(peek("A", FK_BASE), "before", 6);
	assert_memory_equal(peek("B", FK_BASE), "after!", 6);
}

/* The same on a machine whose copy-on-write is broken. (The contract
 * says line 10 where its own example has the check on line 9.) */
static void test_contract_example_failing(void **state)
{
	(void)state;
	F.broken_cow = true;
	run_expect(cow_scn, SCN_FAILED,
		   "t.scn:9: check A buf \"before\": expected \"before\", read \"after!\"\n"
		   "5 passed, 1 failed\n");
}

static void test_mem_and_empty(void **state)
{
	(void)state;
	/* Even an empty scenario gets a machine and its end-of-run check. */
	run_expect("", SCN_PASSED, "0 passed, 0 failed\n");
	assert_int_equal(F.mem, 64u << 20);
	assert_int_equal(F.sanities, 1);
	run_expect("# nothing\n\n   \n\t# still nothing", SCN_PASSED, "0 passed, 0 failed\n");
	run_expect("mem 8M\n", SCN_PASSED, "0 passed, 0 failed\n");
	assert_int_equal(F.mem, 8u << 20);
	run_expect("mem 0x1M\n", SCN_ERROR,
		   "t.scn:1: error: cannot boot a machine with mem 1M: EINVAL\n"
		   "0 passed, 0 failed\n");
	/* The machine boots when the first other command comes; the error
	 * names the mem line. */
	run_expect("# c\nmem 6M\n\nspawn A\n", SCN_ERROR,
		   "t.scn:2: error: cannot boot a machine with mem 6M: EINVAL\n"
		   "0 passed, 0 failed\n");
	assert_int_equal(F.spawns, 0);
}

static void test_escapes(void **state)
{
	static const uint8_t want[] = { 'a', '\t', 'b', '\n', 'c', '\\', 'd', '"', 'e', 0, 0xff };

	(void)state;
	run_expect("spawn A\n"
		   "mmap A buf 4K\n"
		   "write A buf \"a\\tb\\nc\\\\d\\\"e\\x00\\xff\"\n"
		   "check A buf 0x6109620a635c64226500ff\n"
		   "check A buf \"a\\x09b\\x0A\"\n"
		   "check A buf \"x\\x01\\\"\\\\\"\n"
		   "check A buf 0X6109\n"
		   "check A buf \"\"\n",
		   SCN_FAILED,
		   "t.scn:6: check A buf \"x\\x01\\\"\\\\\": expected \"x\\x01\\\"\\\\\", "
		   "read \"a\\x09b\\x0a\"\n"
		   "4 passed, 1 failed\n");
	/* What landed in memory, seen without the runner's help. */
	assert_memory_equal(peek("A", FK_BASE), want, sizeof(want));
	assert_int_equal(peek("A", FK_BASE)[sizeof(want)], 0);
}

/* A message longer than the runner's output buffer arrives whole. */
static void test_long_message(void **state)
{
	static char text[2048], want[2048], a[301], b[301];

	(void)state;
	memset(a, 'a', 300);
	memset(b, 'b', 300);
	snprintf(text, sizeof(text),
		 "spawn A\nmmap A buf 4K\nwrite A buf \"%s\"\ncheck A buf \"%s\"\n", a, b);
	snprintf(want, sizeof(want),
		 "t.scn:4: check A buf \"%s\": expected \"%s\", read \"%s\"\n0 passed, 1 failed\n",
		 b, b, a);
	run_expect(text, SCN_FAILED, want);
}

static void test_numbers(void **state)
{
	(void)state;
	run_expect("mem 0x20M\n"
		   "spawn A\n"
		   "mmap A a 0x10K\n"
		   "mmap A b 12289\n"
		   "mmap A c 1M\n"
		   "expect ENOMEM mmap A d 3G\n"
		   "expect ENOMEM mmap A e 0xffffffff\n"
		   "mmap A f 007\n"
		   "mmap A g 0xAbC\n",
		   SCN_PASSED, "2 passed, 0 failed\n");
	assert_int_equal(F.mem, 32u << 20);
	assert_int_equal(F.mmaps, 7);
	assert_int_equal(F.mmap_log[0].m_mmap.len, 16384);
	assert_int_equal(F.mmap_log[1].m_mmap.len, 12289);
	assert_int_equal(F.mmap_log[2].m_mmap.len, 1u << 20);
	assert_int_equal(F.mmap_log[3].m_mmap.len, 3u << 30);
	assert_int_equal(F.mmap_log[4].m_mmap.len, 0xffffffffu);
	assert_int_equal(F.mmap_log[5].m_mmap.len, 7);
	assert_int_equal(F.mmap_log[6].m_mmap.len, 0xabc);
}

static void test_address_arithmetic(void **state)
{
	(void)state;
	run_expect("spawn A\n"
		   "mmap A buf 8K\n"
		   "write A buf+4K \"x\"\n"
		   "check A buf+0x1000 \"x\"\n"
		   "write A buf+4097 \"y\"\n"
		   "let end buf+8K\n"
		   "check A end-4096 \"xy\"\n"
		   "assert end == buf+0x2000\n"
		   "assert end-8K == buf\n"
		   "let z 0\n"
		   "let w z-1\n"
		   "assert w == 0xffffffff\n"
		   "let v w+2\n"
		   "assert v == 1\n",
		   SCN_PASSED, "6 passed, 0 failed\n");
	assert_memory_equal(peek("A", FK_BASE + 4096), "xy", 2);
	assert_int_equal(peek("A", FK_BASE)[0], 0);
}

static void test_comments(void **state)
{
	(void)state;
	run_expect("# full line\n"
		   "   # indented\n"
		   "spawn A # trailing\n"
		   "mmap A buf 4K#no space needed\n"
		   "write A buf \"a#b\" # a # in a string is not a comment\n"
		   "check A buf \"a#b\"#\n"
		   "write A buf+8 \"\\\"#\" # an escaped quote does not end it\n",
		   SCN_PASSED, "1 passed, 0 failed\n");
	assert_memory_equal(peek("A", FK_BASE), "a#b\0", 4);
	assert_memory_equal(peek("A", FK_BASE + 8), "\"#\0", 3);
}

static void test_tabs_and_crlf(void **state)
{
	(void)state;
	run_expect("spawn\tA\r\n"
		   "mmap  A\tbuf 4K \r\n"
		   "write A buf \"z\"\r\n"
		   "check A buf \"z\"\r\n"
		   "check\tA buf \"q\"   # c\r\n",
		   SCN_FAILED,
		   "t.scn:5: check\tA buf \"q\": expected \"q\", read \"z\"\n"
		   "1 passed, 1 failed\n");
}

static void test_expect(void **state)
{
	(void)state;
	run_expect("spawn A\n"
		   "mmap A buf 4K\n"
		   "expect EINVAL munmap A buf+1 4K\n"
		   "expect ENOMEM munmap A buf+1 4K\n"
		   "expect EINVAL munmap A buf 4K\n"
		   "expect ENOMEM mmap A big 1G\n"
		   "expect ENOMEM mmap A x 4K\n"
		   "write A x \"ok\"\n"
		   "check A x \"ok\"\n"
		   "expect EFAULT write A 0x1000 \"z\"\n"
		   "expect EFAULT check A 0x1000 \"z\"\n"
		   "expect EFAULT check A x \"ok\"\n"
		   "expect EFAULT fill A x 8K 1\n"
		   "expect EPERM mmap A p 4K phys=0xB8000\n"
		   "expect EFAULT checkfill A x 8K 1\n",
		   SCN_FAILED,
		   "t.scn:4: expect ENOMEM munmap A buf+1 4K: expected ENOMEM, got EINVAL\n"
		   "t.scn:5: expect EINVAL munmap A buf 4K: expected EINVAL, got OK\n"
		   "t.scn:7: expect ENOMEM mmap A x 4K: expected ENOMEM, got OK\n"
		   "t.scn:12: expect EFAULT check A x \"ok\": expected EFAULT, got OK\n"
		   "8 passed, 4 failed\n");
	/* The fill stored its first 4K, then was refused. */
	assert_int_equal(peek("A", FK_BASE + 2 * 4096)[4095], 1);
	/* A failure that was expected leaves VAR without a value: using it
	 * is the scenario's mistake. */
	run_expect("spawn A\nexpect ENOMEM mmap A big 1G\nwrite A big \"x\"\n", SCN_ERROR,
		   "t.scn:3: error: unknown variable big\n1 passed, 0 failed\n");
}

static void test_assert(void **state)
{
	(void)state;
	run_expect("spawn A\n"
		   "let x 5\n"
		   "let y 6\n"
		   "assert x == 5\n"
		   "assert x != 6\n"
		   "assert x < y\n"
		   "assert x <= 5\n"
		   "assert y > x\n"
		   "assert y >= 6\n"
		   "assert x > 5\n"
		   "assert x == y\n"
		   "assert A.regions == 2\n"
		   "assert A.brk == 0x8100000\n"
		   "assert A.brk < 0x1000\n"
		   "assert free == total\n"
		   "mmap A buf 8K\n"
		   "write A buf \"x\"\n"
		   "assert A.resident == 1\n"
		   "assert A.virtual == 2\n"
		   "assert A.minflt == 1\n"
		   "assert free < total\n"
		   "assert largest == free\n"
		   "let f free\n"
		   "assert f == free\n"
		   "assert 0x80000000 > 1\n"
		   "assert A.shared == 0\n"
		   "assert cached == 0\n"
		   "assert A.cow == 0\n"
		   "brk A 0x8200000\n"
		   "let b A.brk\n"
		   "assert b <= 0x8100000\n"
		   "assert x >= y\n",
		   SCN_FAILED,
		   "t.scn:10: assert x > 5: expected x > 5, x is 5\n"
		   "t.scn:11: assert x == y: expected x == y, x is 5, y is 6\n"
		   "t.scn:12: assert A.regions == 2: expected A.regions == 2, A.regions is 0\n"
		   "t.scn:14: assert A.brk < 0x1000: expected A.brk < 0x1000, A.brk is 0x08100000\n"
		   "t.scn:31: assert b <= 0x8100000: expected b <= 0x8100000, b is 0x08200000\n"
		   "t.scn:32: assert x >= y: expected x >= y, x is 5, y is 6\n"
		   "18 passed, 6 failed\n");
}

static void test_write_and_fill_refused(void **state)
{
	(void)state;
	run_expect("spawn A\n"
		   "write A 0x1000 \"x\"\n"
		   "mmap A buf 4K prot=r\n"
		   "write A buf \"x\"\n"
		   "mmap A b2 4K\n"
		   "fill A b2 8K 0x11\n"
		   "check A 0x1000 \"x\"\n"
		   "checkfill A b2 8K 0x11\n"
		   "write A buf \"\"\n",
		   SCN_FAILED,
		   "t.scn:2: write A 0x1000 \"x\": expected success, got EFAULT\n"
		   "t.scn:4: write A buf \"x\": expected success, got EFAULT\n"
		   "t.scn:6: fill A b2 8K 0x11: expected success, got EFAULT at 0x40003000\n"
		   "t.scn:7: check A 0x1000 \"x\": expected \"x\", got EFAULT\n"
		   "t.scn:8: checkfill A b2 8K 0x11: expected every byte 0x11, got EFAULT at "
		   "0x40003000\n"
		   "0 passed, 5 failed\n");
}

static void test_large_fill(void **state)
{
	(void)state;
	run_expect("spawn A\n"
		   "mmap A buf 4M\n"
		   "fill A buf 4M 0xAB\n"
		   "checkfill A buf 4M 0xab\n"
		   "checkfill A buf+1 4095 \"\\xab\"\n"
		   "checkfill A buf 5M 0xab\n"
		   "let mid buf+3145733\n"
		   "write A mid 0x00\n"
		   "checkfill A buf 4M 0xAB\n"
		   "assert A.resident == 1024\n"
		   "fill A buf 0 0\n"
		   "checkfill A buf 0 0\n",
		   SCN_FAILED,
		   "t.scn:6: checkfill A buf 5M 0xab: expected every byte 0xab, got EFAULT at "
		   "0x40400000\n"
		   "t.scn:9: checkfill A buf 4M 0xAB: expected every byte 0xab, read 0x00 at "
		   "0x40300005 (offset 3145733)\n"
		   "4 passed, 2 failed\n");
	assert_true(F.max_access <= 4096);
	assert_true(F.accesses > 3 * 1024);
	assert_int_equal(peek("A", FK_BASE + (4u << 20) - 1)[0], 0xab);
}

static void test_segv(void **state)
{
	(void)state;
	run_expect("spawn A\n"
		   "mmap A buf 4K\n"
		   "mmap A ro 4K prot=r\n"
		   "segv A buf+4K read\n"
		   "segv A ro write\n"
		   "segv A buf read\n"
		   "segv A buf write\n"
		   "segv A ro read\n"
		   "mmap A none 4K prot=none\n"
		   "segv A none read\n",
		   SCN_FAILED,
		   "t.scn:6: segv A buf read: expected the read to be refused, it succeeded\n"
		   "t.scn:7: segv A buf write: expected the write to be refused, it succeeded\n"
		   "t.scn:8: segv A ro read: expected the read to be refused, it succeeded\n"
		   "3 passed, 3 failed\n");
	/* Out of memory is not the refusal segv wants. */
	run_expect("mem 4M\n"
		   "spawn A\n"
		   "mmap A all 4M prealloc\n"
		   "mmap A b 4K\n"
		   "segv A b read\n"
		   "expect ENOMEM write A b \"x\"\n"
		   "segv A b+4K write\n",
		   SCN_FAILED,
		   "t.scn:5: segv A b read: expected the read to be refused, got ENOMEM\n"
		   "2 passed, 1 failed\n");
}

static void test_phys(void **state)
{
	(void)state;
	run_expect("spawn A\n"
		   "mmap A buf 8K\n"
		   "write A buf+5 \"x\"\n"
		   "phys A buf+5 p\n"
		   "assert p == 0x01000005\n"
		   "phys A buf+4K q\n"
		   "assert q == 0\n"
		   "expect EFAULT phys A buf+4K r\n"
		   "assert p == 0\n",
		   SCN_FAILED,
		   "t.scn:6: phys A buf+4K q: expected success, got EFAULT\n"
		   "t.scn:7: assert q == 0: not run: variable q has no value, its phys failed at "
		   "line 6\n"
		   "t.scn:9: assert p == 0: expected p == 0, p is 0x01000005\n"
		   "2 passed, 3 failed\n");
}

static void test_lost_names(void **state)
{
	(void)state;
	run_expect(
	    "mem 16M\n"
	    "spawn A\n"
	    "mmap A big 1G\n"
	    "write A big \"x\"\n"
	    "assert big == 0\n"
	    "mmap A big 4K\n"
	    "write A big \"x\"\n",
	    SCN_FAILED,
	    "t.scn:3: mmap A big 1G: expected success, got ENOMEM\n"
	    "t.scn:4: write A big \"x\": not run: variable big has no value, its mmap failed "
	    "at line 3\n"
	    "t.scn:5: assert big == 0: not run: variable big has no value, its mmap failed "
	    "at line 3\n"
	    "0 passed, 3 failed\n");
	F.fork_errno = ENOMEM;
	run_expect("spawn A\n"
		   "fork A B\n"
		   "check B 0 \"x\"\n"
		   "assert B.cow == 0\n"
		   "spawn B\n"
		   "exit B\n",
		   SCN_FAILED,
		   "t.scn:2: fork A B: expected success, got ENOMEM\n"
		   "t.scn:3: check B 0 \"x\": not run: process B does not exist, its fork failed "
		   "at line 2\n"
		   "t.scn:4: assert B.cow == 0: not run: process B does not exist, its fork "
		   "failed at line 2\n"
		   "0 passed, 3 failed\n");
}

static void test_dump_and_echo(void **state)
{
	(void)state;
	run_expect("spawn A\n"
		   "mmap A buf 8K\n"
		   "mmap A c 1M prot=rx prealloc\n"
		   "mmap A s 4K shared\n"
		   "write A buf \"x\"\n"
		   "dump A\n"
		   "spawn B\n"
		   "dump B\n"
		   "echo hello   world  # comment\n"
		   "echo\n"
		   "echo \"quoted # not a comment\" # c\n"
		   "\techo\tindented 100%\n",
		   SCN_PASSED,
		   "dump A (endpoint 1034): 3 regions\n"
		   "  0x40000000-0x40002000     8K rw-  anon   resident 1\n"
		   "  0x40003000-0x40103000     1M r-x  anon   resident 256\n"
		   "  0x40104000-0x40105000     4K rw-  shared resident 0\n"
		   "dump B (endpoint 2059): 0 regions\n"
		   "hello   world\n"
		   "\n"
		   "\"quoted # not a comment\"\n"
		   "indented 100%\n"
		   "0 passed, 0 failed\n");
}

static void test_mmap_options(void **state)
{
	const message *m = F.mmap_log;

	(void)state;
	run_expect("spawn A priv\n"
		   "mmap A x 4K at=0x50000000 fixed prot=rx shared contig prealloc uninit lower16m "
		   "phys=0xB8000\n"
		   "mmap A y 1\n"
		   "mmap A z 4K at=x+8K\n"
		   "mmap A n 4K prot=none\n"
		   "mmap A r 4K prot=r\n"
		   "mmap A w 4K prot=rw\n"
		   "mmap A a 4K prot=rwx\n",
		   SCN_PASSED, "0 passed, 0 failed\n");
	assert_int_equal(dead_named("A")->priv, 1);
	assert_int_equal(m[0].m_source, dead_named("A")->ep);
	assert_int_equal(m[0].m_type, VM_MMAP);
	assert_int_equal(m[0].m_mmap.addr, 0x50000000);
	assert_int_equal(m[0].m_mmap.len, 4096);
	assert_int_equal(m[0].m_mmap.prot, VM_PROT_READ | VM_PROT_EXEC);
	assert_int_equal(m[0].m_mmap.flags, VM_MAP_FIXED | VM_MAP_SHARED | VM_MAP_CONTIG |
						VM_MAP_PREALLOC | VM_MAP_UNINIT | VM_MAP_LOWER16M |
						VM_MAP_PHYS);
	assert_int_equal(m[0].m_mmap.phys, 0xB8000);
	assert_int_equal(m[1].m_mmap.addr, 0);
	assert_int_equal(m[1].m_mmap.len, 1);
	assert_int_equal(m[1].m_mmap.prot, VM_PROT_READ | VM_PROT_WRITE);
	assert_int_equal(m[1].m_mmap.flags, 0);
	assert_int_equal(m[1].m_mmap.phys, 0);
	assert_int_equal(m[2].m_mmap.addr, 0x50002000);
	assert_int_equal(m[3].m_mmap.prot, VM_PROT_NONE);
	assert_int_equal(m[4].m_mmap.prot, VM_PROT_READ);
	assert_int_equal(m[5].m_mmap.prot, VM_PROT_READ | VM_PROT_WRITE);
	assert_int_equal(m[6].m_mmap.prot, VM_PROT_ALL);
	assert_int_equal(dead_named("A")->r[2].start, 0x50002000);
}

static void test_processes(void **state)
{
	(void)state;
	run_expect("spawn A\n"
		   "exit A\n"
		   "spawn A\n"
		   "fork A B\n"
		   "exit A\n"
		   "fork B A\n"
		   "brk A 0x8200000\n"
		   "assert A.brk == 0x8200000\n"
		   "assert B.brk == 0x8100000\n",
		   SCN_PASSED, "2 passed, 0 failed\n");
	assert_int_equal(F.spawns, 2);
	assert_int_equal(F.forks, 2);
	assert_int_equal(F.exits, 4);
}

static void test_sanity_findings(void **state)
{
	(void)state;
	F.findings_at_end = 2;
	run_expect("spawn A\nsanity\n", SCN_FAILED,
		   "t.scn: end: sanity: 2 findings after every process exited\n"
		   "1 passed, 1 failed\n");
	F.findings_at_end = 0;
	F.findings = 3;
	run_expect("sanity # now\n", SCN_FAILED,
		   "t.scn:1: sanity: 3 findings\n"
		   "t.scn: end: sanity: 3 findings after every process exited\n"
		   "0 passed, 2 failed\n");
}

static void test_exit_fails(void **state)
{
	(void)state;
	F.exit_errno = EINVAL;
	run_expect("spawn A\nexit A\n", SCN_FAILED,
		   "t.scn:2: exit A: expected success, got EINVAL\n"
		   "t.scn: end: exit A: VM answered EINVAL\n"
		   "0 passed, 2 failed\n");
	run_expect("spawn A\nexpect EINVAL exit A\n", SCN_FAILED,
		   "t.scn: end: exit A: VM answered EINVAL\n"
		   "1 passed, 1 failed\n");
}

/* Features VM does not have yet stop the scenario, whatever asks. */
static void test_enosys(void **state)
{
	(void)state;
	F.cached_enosys = true;
	run_expect("spawn A\nassert cached == 0\nsanity\n", SCN_ERROR,
		   "t.scn:2: error: cached: not supported yet\n0 passed, 0 failed\n");
	assert_int_equal(F.exits, 1);
	assert_int_equal(F.sanities, 1);
	run_expect("let c cached\n", SCN_ERROR,
		   "t.scn:1: error: cached: not supported yet\n0 passed, 0 failed\n");
	F.fork_errno = ENOSYS;
	run_expect("spawn A\nfork A B\n", SCN_ERROR,
		   "t.scn:2: error: fork: not supported yet\n0 passed, 0 failed\n");
	run_expect("spawn A\nexpect ENOMEM fork A B\n", SCN_ERROR,
		   "t.scn:2: error: fork: not supported yet\n0 passed, 0 failed\n");
	F.umap_errno = ENOSYS;
	run_expect("spawn A\nphys A 0 p\n", SCN_ERROR,
		   "t.scn:2: error: phys: not supported yet\n0 passed, 0 failed\n");
	F.sanity_enosys = true;
	F.sanities = 0;
	/* Said once, though the end of the run asks again. */
	run_expect("sanity\n", SCN_ERROR,
		   "t.scn:1: error: sanity: not supported yet\n0 passed, 0 failed\n");
	assert_int_equal(F.sanities, 1);
	run_expect("spawn A\n", SCN_ERROR,
		   "t.scn: end: error: sanity: not supported yet\n0 passed, 0 failed\n");
	F.sanity_enosys = false;
	F.exit_errno = ENOSYS;
	F.sanities = 0;
	run_expect("spawn A\n", SCN_ERROR,
		   "t.scn: end: error: exit: not supported yet\n0 passed, 0 failed\n");
	assert_int_equal(F.sanities, 0);
	F.exit_errno = 0;
}

/* ---- exec, remap, shmunmap ---- */

/* FILE is read relative to the directory of the scenario's name; the
 * machine gets the whole file. */
static void test_exec_paths(void **state)
{
	static char name[4200], want[8192];

	(void)state;
	assert_int_equal(run_named("dir/sub/x.scn", "spawn A\n"
						    "mmap A buf 4K\n"
						    "exec A prog.elf\n"
						    "check A 0x08048000 \"\\x7fELF sub\"\n"
						    "assert A.regions == 2\n"
						    "segv A buf read\n"),
			 SCN_PASSED);
	assert_string_equal(F.out, "3 passed, 0 failed\n");
	assert_string_equal(F.read_path, "dir/sub/prog.elf");
	assert_int_equal(F.execs, 1);
	assert_int_equal(F.exec_len, 8);
	assert_memory_equal(F.exec_image, FK_ELF " sub", 8);
	assert_int_equal(F.exits, 1);
	/* An absolute path is left alone. */
	assert_int_equal(
	    run_named("dir/sub/x.scn",
		      "spawn A\nexec A /abs/prog.elf\ncheck A 0x08048000 \"\\x7fELF abs\"\n"),
	    SCN_PASSED);
	assert_string_equal(F.read_path, "/abs/prog.elf");
	/* A name without a directory: the path as written. */
	run_expect("spawn A\nexec A prog.elf\ncheck A 0x08048000 \"\\x7fELF top\"\n", SCN_PASSED,
		   "1 passed, 0 failed\n");
	assert_string_equal(F.read_path, "prog.elf");
	assert_int_equal(run_named(NULL, "spawn A\nexec A prog.elf\n"), SCN_PASSED);
	assert_string_equal(F.read_path, "prog.elf");
	/* A quoted FILE may hold spaces; nothing is normalised. */
	assert_int_equal(run_named("dir/sub/x.scn", "spawn A\nexec A \"my prog.elf\"\n"),
			 SCN_PASSED);
	assert_string_equal(F.read_path, "dir/sub/my prog.elf");
	assert_int_equal(run_named("/top/x.scn", "spawn A\nexec A ../sub/./prog.elf\n"), SCN_ERROR);
	assert_string_equal(F.read_path, "/top/../sub/./prog.elf");
	assert_string_equal(F.out, "/top/x.scn:2: error: exec: cannot read /top/../sub/./prog.elf: "
				   "ENOENT\n0 passed, 0 failed\n");
	/* A joined path of 4096 characters is read; 4097 is an error. */
	memset(name, 'd', 4088);
	strcpy(name + 4088, "/x.scn");
	F.reads = 0;
	assert_int_equal(run_named(name, "spawn A\nexec A prog.el\n"), SCN_ERROR);
	assert_int_equal(F.reads, 1);
	assert_int_equal(strlen(F.read_path), 4096);
	assert_int_equal(run_named(name, "spawn A\nexec A prog.elf\n"), SCN_ERROR);
	assert_int_equal(F.reads, 1);
	snprintf(want, sizeof(want), "%s:2: error: exec: path longer than 4096 characters\n", name);
	assert_string_equal(F.out, strcat(want, "0 passed, 0 failed\n"));
}

/* The machine's answer is the command's result; a process the failure
 * killed is gone. */
static void test_exec_failures(void **state)
{
	(void)state;
	/* Refused images leave the process as it was. */
	run_expect("spawn A\n"
		   "mmap A buf 4K\n"
		   "write A buf \"keep\"\n"
		   "expect ENOEXEC exec A notelf.bin\n"
		   "check A buf \"keep\"\n"
		   "expect ENOMEM exec A huge.elf\n"
		   "check A buf \"keep\"\n"
		   "expect ENOEXEC exec A prog.elf\n"
		   "exec A notelf.bin\n",
		   SCN_FAILED,
		   "t.scn:8: expect ENOEXEC exec A prog.elf: expected ENOEXEC, got OK\n"
		   "t.scn:9: exec A notelf.bin: expected success, got ENOEXEC\n"
		   "4 passed, 2 failed\n");
	assert_int_equal(F.exits, 1);
	/* Killed under expect: A is unknown, and not exited at the end. */
	F.exits = 0;
	run_expect("spawn A\n"
		   "spawn B\n"
		   "expect ENOMEM exec A big.elf\n"
		   "assert B.regions == 0\n"
		   "check A 0 \"x\"\n",
		   SCN_ERROR, "t.scn:5: error: unknown process A\n2 passed, 0 failed\n");
	assert_int_equal(F.exec_kills, 1);
	assert_int_equal(F.exits, 1);
	assert_string_equal(dead_named("B")->name, "B");
	/* ... so the name can be spawned again. */
	F.exits = 0;
	run_expect("spawn A\n"
		   "expect ENOMEM exec A big.elf\n"
		   "spawn A\n"
		   "assert A.regions == 0\n",
		   SCN_PASSED, "2 passed, 0 failed\n");
	assert_int_equal(F.exits, 1);
	/* Killed by an unexpected failure: A is lost, like the C of a
	 * failed fork. */
	F.exits = 0;
	run_expect(
	    "spawn A\n"
	    "exec A big.elf\n"
	    "check A 0 \"x\"\n"
	    "expect ENOEXEC exec A prog.elf\n",
	    SCN_FAILED,
	    "t.scn:2: exec A big.elf: expected success, got ENOMEM\n"
	    "t.scn:3: check A 0 \"x\": not run: process A does not exist, its exec failed "
	    "at line 2\n"
	    "t.scn:4: expect ENOEXEC exec A prog.elf: not run: process A does not exist, its "
	    "exec failed at line 2\n"
	    "0 passed, 3 failed\n");
	assert_int_equal(F.exits, 0);
	/* The wrong errno is unexpected too; a lost name can be spawned
	 * again. */
	run_expect("spawn A\n"
		   "expect ENOEXEC exec A big.elf\n"
		   "segv A 0 read\n"
		   "spawn A\n"
		   "segv A 0 read\n",
		   SCN_FAILED,
		   "t.scn:2: expect ENOEXEC exec A big.elf: expected ENOEXEC, got ENOMEM\n"
		   "t.scn:3: segv A 0 read: not run: process A does not exist, its exec failed at "
		   "line 2\n"
		   "1 passed, 2 failed\n");
	assert_int_equal(F.exits, 1);
}

/* No exec on the machine, or ENOSYS from it: not supported yet. */
static void test_exec_enosys(void **state)
{
	(void)state;
	F.exec_errno = ENOSYS;
	run_expect("spawn A\nexec A prog.elf\n", SCN_ERROR,
		   "t.scn:2: error: exec: not supported yet\n0 passed, 0 failed\n");
	run_expect("spawn A\nexpect ENOSYS exec A prog.elf\n", SCN_ERROR,
		   "t.scn:2: error: exec: not supported yet\n0 passed, 0 failed\n");
	F.exec_errno = -5;
	run_expect("spawn A\nexec A prog.elf\n", SCN_ERROR,
		   "t.scn:2: error: exec: the machine returned -5\n0 passed, 0 failed\n");
	F.exec_errno = 0;
	F.machine = &fake_no_exec;
	F.reads = 0;
	run_expect("spawn A\nexec A prog.elf\n", SCN_ERROR,
		   "t.scn:2: error: exec: not supported yet\n0 passed, 0 failed\n");
	assert_int_equal(F.reads, 0);
	F.machine = &fake_no_files;
	run_expect("spawn A\nexec A prog.elf\n", SCN_ERROR,
		   "t.scn:2: error: exec: cannot read prog.elf: the machine has no files\n"
		   "0 passed, 0 failed\n");
	assert_int_equal(F.execs, 3);
}

static void test_remap(void **state)
{
	const message *m = F.remap_log, *u = F.shmunmap_log;
	endpoint_t a, b;

	(void)state;
	run_expect("spawn A\n"
		   "spawn B\n"
		   "mmap A buf 8K\n"
		   "mmap B own 4K\n"
		   "write A buf+4K \"shared\"\n"
		   "remap A buf+4K B v\n"
		   "check B v+4K \"shared\"\n"
		   "write B v \"b\"\n"
		   "remap A buf B r ro\n"
		   "check B r+4K \"shared\"\n"
		   "segv B r write\n"
		   "assert v != r\n"
		   "dump B\n"
		   "shmunmap B r\n"
		   "segv B r read\n"
		   "expect EINVAL shmunmap B r\n"
		   "expect EINVAL remap A buf+8K B w\n"
		   "expect EINVAL remap A buf+8K B v\n"
		   "check B v \"b\"\n",
		   SCN_PASSED,
		   "dump B (endpoint 2059): 3 regions\n"
		   "  0x40000000-0x40001000     4K rw-  anon   resident 0\n"
		   "  0x40002000-0x40004000     8K rw-  shared resident 2\n"
		   "  0x40005000-0x40007000     8K r--  shared resident 1\n"
		   "9 passed, 0 failed\n");
	a = dead_named("A")->ep;
	b = dead_named("B")->ep;
	assert_int_equal(F.remaps, 4);
	assert_int_equal(m[0].m_source, KERNEL);
	assert_int_equal(m[0].m_type, VM_REMAP);
	assert_int_equal(m[0].m_remap.src, a);
	assert_int_equal(m[0].m_remap.src_addr, 0x40001000);
	assert_int_equal(m[0].m_remap.dst, b);
	assert_int_equal(m[0].m_remap.dst_addr, 0);
	assert_int_equal(m[0].m_remap.flags, 0);
	assert_int_equal(m[1].m_source, KERNEL);
	assert_int_equal(m[1].m_remap.src_addr, 0x40000000);
	assert_int_equal(m[1].m_remap.dst_addr, 0);
	assert_int_equal(m[1].m_remap.flags, VM_REMAP_RO);
	assert_int_equal(m[2].m_remap.src_addr, 0x40002000);
	assert_int_equal(F.shmunmaps, 2);
	assert_int_equal(u[0].m_source, b);
	assert_int_equal(u[0].m_type, VM_SHM_UNMAP);
	assert_int_equal(u[0].m_munmap.addr, 0x40005000);
	assert_int_equal(u[0].m_munmap.len, 0);
	/* The failed remap left v as it was. */
	assert_int_equal(dead_named("B")->nr, 2);
}

/* yield/getblock are the two halves of VM's combined call, the other id
 * being none; forget and forgetall have calls of their own; ENOSYS from
 * VM is not supported yet. */
static void test_cache_messages(void **state)
{
	(void)state;
	run_expect("spawn A\n"
		   "mmap A buf 8K\n"
		   "yield A buf 8K 0x123456789\n"
		   "getblock A buf+4K 4K 7\n"
		   "let id buf\n"
		   "forget A id\n"
		   "forgetall A\n"
		   "expect ESRCH getblock A buf 8K 1\n",
		   SCN_FAILED,
		   "t.scn:8: expect ESRCH getblock A buf 8K 1: expected ESRCH, got OK\n"
		   "0 passed, 1 failed\n");
	endpoint_t a = dead_named("A")->ep;
	message *m = F.cache_log;
	assert_int_equal(F.cache_calls, 5);
	assert_int_equal(m[0].m_source, a);
	assert_int_equal(m[0].m_type, VM_YIELDBLOCKGETBLOCK);
	assert_int_equal(m[0].m_yb.addr, 0x40000000);
	assert_int_equal(m[0].m_yb.len, 8192);
	assert_int_equal(m[0].m_yb.yield_lo, 0x23456789);
	assert_int_equal(m[0].m_yb.yield_hi, 1);
	assert_int_equal(m[0].m_yb.get_lo, 0xFFFFFFFF);
	assert_int_equal(m[0].m_yb.get_hi, 0xFFFFFFFF);
	assert_int_equal(m[1].m_yb.addr, 0x40001000);
	assert_int_equal(m[1].m_yb.yield_lo, 0xFFFFFFFF);
	assert_int_equal(m[1].m_yb.yield_hi, 0xFFFFFFFF);
	assert_int_equal(m[1].m_yb.get_lo, 7);
	assert_int_equal(m[1].m_yb.get_hi, 0);
	assert_int_equal(m[2].m_type, VM_FORGETBLOCK);
	assert_int_equal(m[2].m_forget.id_lo, 0x40000000);
	assert_int_equal(m[2].m_forget.id_hi, 0);
	assert_int_equal(m[3].m_type, VM_FORGETBLOCKS);
	assert_int_equal(m[3].m_source, a);

	F.cache_errno = ENOSYS;
	run_expect("spawn A\nmmap A buf 4K\nexpect ENOSYS yield A buf 4K 1\n", SCN_ERROR,
		   "t.scn:3: error: yield: not supported yet\n"
		   "0 passed, 0 failed\n");
}

/* A remap that fails unexpectedly loses its VAR; ENOSYS is not supported
 * yet, whatever the scenario expects. */
static void test_remap_failures(void **state)
{
	(void)state;
	run_expect(
	    "spawn A\n"
	    "spawn B\n"
	    "remap A 0x1000 B w\n"
	    "write B w \"x\"\n"
	    "shmunmap B 0x1000\n",
	    SCN_FAILED,
	    "t.scn:3: remap A 0x1000 B w: expected success, got EINVAL\n"
	    "t.scn:4: write B w \"x\": not run: variable w has no value, its remap failed at "
	    "line 3\n"
	    "t.scn:5: shmunmap B 0x1000: expected success, got EINVAL\n"
	    "0 passed, 3 failed\n");
	F.remap_enosys = true;
	run_expect("spawn A\nspawn B\nmmap A buf 4K\nremap A buf B v\n", SCN_ERROR,
		   "t.scn:4: error: remap: not supported yet\n0 passed, 0 failed\n");
	run_expect("spawn A\nspawn B\nexpect ENOSYS remap A 0 B v ro\n", SCN_ERROR,
		   "t.scn:3: error: remap: not supported yet\n0 passed, 0 failed\n");
	run_expect("spawn A\nexpect EINVAL shmunmap A 0\n", SCN_ERROR,
		   "t.scn:2: error: shmunmap: not supported yet\n0 passed, 0 failed\n");
}

/* An error stops the run, yet the machine is cleaned up and checked, and
 * the tally counts what ran. */
static void test_error_cleanup(void **state)
{
	(void)state;
	run_expect("spawn A\nspawn B\nassert free > 0\nfrob\nassert free == 0\n", SCN_ERROR,
		   "t.scn:4: error: unknown command frob\n1 passed, 0 failed\n");
	assert_int_equal(F.exits, 2);
	assert_int_equal(F.sanities, 1);
	assert_int_equal(F.halts, 1);
	/* Before anything booted, nothing is booted for the cleanup. */
	run_expect("mem 16M\nfrob\n", SCN_ERROR,
		   "t.scn:2: error: unknown command frob\n0 passed, 0 failed\n");
	assert_int_equal(F.boots, 1);
}

static void test_limits(void **state)
{
	static char text[64 * 1024], want[256];
	size_t n = 0;

	(void)state;
	/* 4096 characters is a line; 4097 is not. */
	n = (size_t)sprintf(text, "echo ");
	memset(text + n, 'x', 4091);
	text[n + 4091] = '\n';
	text[n + 4092] = '\0';
	run(text);
	assert_int_equal(strlen(F.out), 4091 + 1 + strlen("0 passed, 0 failed\n"));
	n = (size_t)sprintf(text, "spawn A\necho ");
	memset(text + n, 'x', 4092);
	strcpy(text + n + 4092, "\nsanity\n");
	run_expect(text, SCN_ERROR,
		   "t.scn:2: error: line longer than 4096 characters\n0 passed, 0 failed\n");
	/* 32 words. */
	run_expect("echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 "
		   "28 29 30 31\n",
		   SCN_PASSED,
		   "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 "
		   "30 31\n0 passed, 0 failed\n");
	run_expect("echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 "
		   "28 29 30 31 32\n",
		   SCN_ERROR,
		   "t.scn:1: error: more than 32 words in the line\n0 passed, 0 failed\n");
	/* 256 variables. */
	n = 0;
	for (int i = 0; i < 257; i++)
		n += (size_t)sprintf(text + n, "let v%d %d\n", i, i);
	run_expect(text, SCN_ERROR,
		   "t.scn:257: error: too many variables (the limit is 256)\n0 passed, 0 failed\n");
	/* 64 processes; an exited one makes room. */
	n = 0;
	for (int i = 0; i < 64; i++)
		n += (size_t)sprintf(text + n, "spawn p%d\n", i);
	n += (size_t)sprintf(text + n, "exit p3\nspawn q\nspawn r\n");
	F.exits = 0;
	run_expect(text, SCN_ERROR,
		   "t.scn:67: error: too many processes (the limit is 64)\n0 passed, 0 failed\n");
	assert_int_equal(F.exits, 65);
	/* A NUL byte in the text. */
	snprintf(want, sizeof(want), "spawn A\nec%cho\n", 0);
	F.outlen = 0;
	assert_int_equal(scn_run(&fake, "t.scn", want, 13), SCN_ERROR);
	assert_string_equal(F.out, "t.scn:2: error: NUL byte in the line\n0 passed, 0 failed\n");
}

/* ---- Errors, one case each ---- */

struct error_case {
	const char *name;
	const char *text;
	const char *out; /* without the tally */
};

static const struct error_case error_cases[] = {
	{ "unknown_command", "frob A\n", "t.scn:1: error: unknown command frob\n" },
	{ "quoted_command", "\"spawn\" A\n", "t.scn:1: error: unknown command \"spawn\"\n" },
	{ "unknown_process", "spawn A\ncheck B 0 \"x\"\n", "t.scn:2: error: unknown process B\n" },
	{ "unknown_variable", "spawn A\ncheck A nowhere \"x\"\n",
	  "t.scn:2: error: unknown variable nowhere\n" },
	{ "unknown_variable_plus", "spawn A\ncheck A nowhere+4 \"x\"\n",
	  "t.scn:2: error: unknown variable nowhere\n" },
	{ "spawn_twice", "spawn A\nspawn A\n", "t.scn:2: error: process A exists already\n" },
	{ "fork_onto_living", "spawn A\nspawn B\nfork A B\n",
	  "t.scn:3: error: process B exists already\n" },
	{ "exited_process", "spawn A\nexit A\nmmap A b 4K\n",
	  "t.scn:3: error: unknown process A\n" },
	{ "mem_late", "spawn A\nmem 16M\n",
	  "t.scn:2: error: mem: only before the first other command\n" },
	{ "mem_twice", "mem 16M\nmem 32M\n", "t.scn:2: error: mem: given twice\n" },
	{ "mem_under_expect", "expect EINVAL mem 16M\n",
	  "t.scn:1: error: expect: mem is not a command that fails with an error number\n" },
	{ "usage_few", "spawn A\nmmap A\n", "t.scn:2: error: usage: mmap P VAR LEN [OPT...]\n" },
	{ "usage_many", "spawn A b c\n", "t.scn:1: error: usage: spawn P [priv]\n" },
	{ "usage_sanity", "sanity now\n", "t.scn:1: error: usage: sanity\n" },
	{ "spawn_not_priv", "spawn A root\n", "t.scn:1: error: spawn: expected priv, got root\n" },
	{ "bad_process_name", "spawn 9A\n", "t.scn:1: error: bad process name: 9A\n" },
	{ "long_process_name", "spawn abcdefghijklmnop\n",
	  "t.scn:1: error: process name longer than 15 characters: abcdefghijklmnop\n" },
	{ "bad_variable_name", "spawn A\nmmap A 1x 4K\n",
	  "t.scn:2: error: bad variable name: 1x\n" },
	{ "long_variable_name", "let abcdefghijklmnopqrstuvwxyz012345 1\n",
	  "t.scn:1: error: variable name longer than 31 characters: "
	  "abcdefghijklmnopqrstuvwxyz012345\n" },
	{ "statistic_as_variable", "spawn A\nmmap A free 4K\n",
	  "t.scn:2: error: free is a statistic, not a variable name\n" },
	{ "number_too_big", "spawn A\nmmap A b 4G\n", "t.scn:2: error: number out of range: 4G\n" },
	{ "number_too_big_hex", "spawn A\nmmap A b 0x100000000\n",
	  "t.scn:2: error: number out of range: 0x100000000\n" },
	{ "number_huge", "spawn A\nmmap A b 99999999999999999999999\n",
	  "t.scn:2: error: number out of range: 99999999999999999999999\n" },
	{ "number_suffix_wraps", "spawn A\nmmap A b 0x100000000000000G\n",
	  "t.scn:2: error: number out of range: 0x100000000000000G\n" },
	{ "number_lower_suffix", "spawn A\nmmap A b 4k\n", "t.scn:2: error: bad number \"4k\"\n" },
	{ "number_two_suffixes", "spawn A\nmmap A b 4KK\n",
	  "t.scn:2: error: bad number \"4KK\"\n" },
	{ "number_bare_0x", "spawn A\nmmap A b 0x\n", "t.scn:2: error: bad number \"0x\"\n" },
	{ "number_hex_g", "spawn A\nmmap A b 0x1g\n", "t.scn:2: error: bad number \"0x1g\"\n" },
	{ "bad_value", "spawn A\nmunmap A -4 4K\n",
	  "t.scn:2: error: bad value: -4 (a number, VAR, VAR+N or VAR-N)\n" },
	{ "bad_offset", "spawn A\nmmap A b 4K\nmunmap A b*2 4K\n",
	  "t.scn:3: error: bad value: b*2 (a number, VAR, VAR+N or VAR-N)\n" },
	{ "offset_is_variable", "spawn A\nmmap A b 4K\nmunmap A b+b 4K\n",
	  "t.scn:3: error: bad number \"b\"\n" },
	{ "unterminated_string", "spawn A\nwrite A 0 \"abc\n",
	  "t.scn:2: error: unterminated string\n" },
	{ "unterminated_by_escape", "spawn A\nwrite A 0 \"abc\\\"\n",
	  "t.scn:2: error: unterminated string\n" },
	{ "unknown_escape", "spawn A\nwrite A 0 \"a\\qb\"\n",
	  "t.scn:2: error: unknown escape in string: \\q\n" },
	{ "short_hex_escape", "spawn A\nwrite A 0 \"\\x4\"\n",
	  "t.scn:2: error: bad escape in string: \\x needs two hex digits\n" },
	{ "odd_hex_bytes", "spawn A\nwrite A 0 0xabc\n",
	  "t.scn:2: error: 0xHEXBYTES needs an even number of hex digits: 0xabc\n" },
	{ "bad_hex_bytes", "spawn A\ncheck A 0 0xzz\n", "t.scn:2: error: bad hex bytes: 0xzz\n" },
	{ "not_data", "spawn A\nwrite A 0 abc\n",
	  "t.scn:2: error: expected a string or 0xHEXBYTES, got abc\n" },
	{ "quote_in_word", "spawn A\nwrite A 0 ab\"c\"\n",
	  "t.scn:2: error: a quote inside a word\n" },
	{ "text_after_quote", "spawn A\nwrite A 0 \"a\"b\n",
	  "t.scn:2: error: a space must follow the closing quote\n" },
	{ "unknown_option", "spawn A\nmmap A b 4K huge\n",
	  "t.scn:2: error: mmap: unknown option huge\n" },
	{ "option_twice", "spawn A\nmmap A b 4K fixed at=0 fixed\n",
	  "t.scn:2: error: mmap: option fixed given twice\n" },
	{ "value_option_twice", "spawn A\nmmap A b 4K at=0 at=4K\n",
	  "t.scn:2: error: mmap: option at= given twice\n" },
	{ "bad_prot", "spawn A\nmmap A b 4K prot=wx\n",
	  "t.scn:2: error: mmap: expected prot=none|r|rw|rx|rwx, got wx\n" },
	{ "bad_at", "spawn A\nmmap A b 4K at=\n",
	  "t.scn:2: error: bad value:  (a number, VAR, VAR+N or VAR-N)\n" },
	{ "bad_byte", "spawn A\nmmap A b 4K\nfill A b 4K 256\n",
	  "t.scn:3: error: not a byte: 256\n" },
	{ "bad_byte_string", "spawn A\nmmap A b 4K\nfill A b 4K \"ab\"\n",
	  "t.scn:3: error: a BYTE string must hold one byte: \"ab\"\n" },
	{ "segv_mode", "spawn A\nsegv A 0 exec\n",
	  "t.scn:2: error: segv: expected read or write, got exec\n" },
	{ "assert_operator", "spawn A\nassert free <> 5\n",
	  "t.scn:2: error: assert: expected an operator (== != < <= > >=), got <>\n" },
	{ "unknown_statistic", "spawn A\nassert A.rss == 0\n",
	  "t.scn:2: error: unknown statistic: A.rss\n" },
	{ "statistic_of_nobody", "assert Z.cow == 0\n", "t.scn:1: error: unknown process Z\n" },
	{ "bad_statistic", "assert .cow == 0\n", "t.scn:1: error: bad statistic: .cow\n" },
	{ "expect_unknown_errno", "spawn A\nexpect EFOO munmap A 0 4K\n",
	  "t.scn:2: error: unknown error name EFOO\n" },
	{ "expect_quoted", "expect \"EINVAL\" spawn A\n",
	  "t.scn:1: error: unknown error name \"EINVAL\"\n" },
	{ "expect_ok", "expect OK spawn A\n", "t.scn:1: error: unknown error name OK\n" },
	{ "expect_alone", "expect EINVAL\n", "t.scn:1: error: usage: expect ERRNAME COMMAND...\n" },
	{ "expect_check", "expect EINVAL assert free > 0\n",
	  "t.scn:1: error: expect: assert is not a command that fails with an error number\n" },
	{ "expect_segv", "spawn A\nexpect EFAULT segv A 0 read\n",
	  "t.scn:2: error: expect: segv is not a command that fails with an error number\n" },
	{ "expect_expect", "expect EINVAL expect EINVAL spawn A\n",
	  "t.scn:1: error: expect: expect is not a command that fails with an error number\n" },
	{ "expect_unknown", "expect EINVAL frob\n", "t.scn:1: error: unknown command frob\n" },
	{ "expect_usage", "expect EINVAL munmap A\n",
	  "t.scn:1: error: usage: munmap P ADDR LEN\n" },
	{ "exec_unknown_process", "exec A prog.elf\n", "t.scn:1: error: unknown process A\n" },
	{ "exec_usage", "spawn A\nexec A\n", "t.scn:2: error: usage: exec P FILE\n" },
	{ "exec_missing", "spawn A\nexec A nothere.elf\n",
	  "t.scn:2: error: exec: cannot read nothere.elf: ENOENT\n" },
	/* A missing file is an error, even where the scenario expects one. */
	{ "exec_missing_expected", "spawn A\nexpect ENOENT exec A nothere.elf\n",
	  "t.scn:2: error: exec: cannot read nothere.elf: ENOENT\n" },
	{ "exec_empty_name", "spawn A\nexec A \"\"\n", "t.scn:2: error: exec: empty file name\n" },
	{ "exec_nul_in_name", "spawn A\nexec A \"a\\x00b\"\n",
	  "t.scn:2: error: exec: a NUL byte in the file name\n" },
	{ "exec_bad_escape", "spawn A\nexec A \"a\\qb\"\n",
	  "t.scn:2: error: unknown escape in string: \\q\n" },
	{ "remap_rw", "remap A 0x1000 B v rw\n", "t.scn:1: error: remap: expected ro, got rw\n" },
	{ "remap_unknown_src", "remap A 0x1000 B v ro\n", "t.scn:1: error: unknown process A\n" },
	{ "remap_unknown_dst", "spawn A\nremap A 0x1000 B v\n",
	  "t.scn:2: error: unknown process B\n" },
	{ "remap_bad_addr", "spawn A\nspawn B\nremap A x B v\n",
	  "t.scn:3: error: unknown variable x\n" },
	{ "remap_statistic", "spawn A\nspawn B\nremap A 0 B free\n",
	  "t.scn:3: error: free is a statistic, not a variable name\n" },
	{ "remap_usage", "remap A 0 B\n", "t.scn:1: error: usage: remap SRC ADDR DST VAR [ro]\n" },
	{ "shmunmap_unknown_process", "shmunmap A 0\n", "t.scn:1: error: unknown process A\n" },
	{ "shmunmap_unknown_variable", "spawn A\nshmunmap A v+4K\n",
	  "t.scn:2: error: unknown variable v\n" },
	/* The cache commands: syntax and names. */
	{ "yield_unknown_process", "yield A 0 4K 1\n", "t.scn:1: error: unknown process A\n" },
	{ "yield_id_too_big", "spawn A\nyield A 0 4K 0x10000000000000000\n",
	  "t.scn:2: error: number out of range: 0x10000000000000000\n" },
	{ "getblock_usage", "spawn A\ngetblock A 0 4K\n",
	  "t.scn:2: error: usage: getblock P ADDR LEN ID\n" },
	{ "forget_bad_id", "spawn A\nforget A 1x\n", "t.scn:2: error: bad number \"1x\"\n" },
	{ "forgetall_usage", "forgetall A 1\n", "t.scn:1: error: usage: forgetall P\n" },
	/* Grants and the data store: syntax, names, and ENOSYS from a VM
	 * without them (the fake). */
	{ "grant_enosys", "spawn A\nspawn B\ngrant A g 0 4K B rw\n",
	  "t.scn:3: error: grant: not supported yet\n" },
	{ "grant_mode", "grant A g 0 4K B rx\n",
	  "t.scn:1: error: grant: expected r, w or rw, got rx\n" },
	{ "grant_unknown_grantee", "spawn A\ngrant A g 0 4K B r\n",
	  "t.scn:2: error: unknown process B\n" },
	{ "revoke_unknown", "revoke A g\n", "t.scn:1: error: unknown process A\n" },
	{ "revoke_enosys", "spawn A\nrevoke A 5\n", "t.scn:2: error: revoke: not supported yet\n" },
	{ "safecopy_enosys", "spawn B\nsafecopy B 1 0 4K to 0x1000\n",
	  "t.scn:2: error: safecopy: not supported yet\n" },
	{ "safecopy_dir", "safecopy B g 0 4K into 0x1000\n",
	  "t.scn:1: error: safecopy: expected to or from, got into\n" },
	{ "safemap_enosys", "spawn B\nsafemap B v 1 0 4K ro\n",
	  "t.scn:2: error: safemap: not supported yet\n" },
	{ "saferevmap_enosys", "spawn A\nsaferevmap A 1\n",
	  "t.scn:2: error: saferevmap: not supported yet\n" },
	{ "dspublish_usage", "spawn A\ndspublish A n mem\n",
	  "t.scn:2: error: usage: dspublish P NAME label | mem ADDR LEN | map ADDR LEN\n" },
	/* Found by fuzz_scenario: an ADDR without its LEN read past the words. */
	{ "dspublish_no_len", "spawn A\ndspublish A n mem 0x1000\n",
	  "t.scn:2: error: usage: dspublish P NAME label | mem ADDR LEN | map ADDR LEN\n" },
	{ "dspublish_map_no_len", "spawn A\ndspublish A n map 0x1000\n",
	  "t.scn:2: error: usage: dspublish P NAME label | mem ADDR LEN | map ADDR LEN\n" },
	{ "ds_name_too_long", "spawn A\ndspublish A abcdefghijklmnop label\n",
	  "t.scn:2: error: bad data-store name: abcdefghijklmnop (1 to 15 bytes)\n" },
};

static void test_error_case(void **state)
{
	const struct error_case *c = *state;
	char want[1024];

	snprintf(want, sizeof(want), "%s0 passed, 0 failed\n", c->out);
	run_expect(c->text, SCN_ERROR, want);
}

static int setup_case(void **state)
{
	void *c = *state;

	setup(state);
	*state = c;
	return 0;
}

#define NCASES (sizeof(error_cases) / sizeof(error_cases[0]))

int main(int argc, char **argv)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test_setup_teardown(test_fmt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contract_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contract_example_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_arithmetic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tabs_and_crlf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_and_fill_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_fill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_and_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmap_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sanity_findings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enosys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_enosys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remap_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_cleanup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	};
	static struct CMUnitTest tests[sizeof(fixed) / sizeof(fixed[0]) + NCASES];
	static char names[NCASES][64];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	/* Each error case is a test of its own, named for it. */
	for (size_t i = 0; i < NCASES; i++) {
		snprintf(names[i], sizeof(names[i]), "error_%s", error_cases[i].name);
		tests[n].name = names[i];
		tests[n].test_func = test_error_case;
		tests[n].setup_func = setup_case;
		tests[n].teardown_func = teardown;
		tests[n].initial_state = (void *)&error_cases[i];
		n++;
	}
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return _cmocka_run_group_tests("scenario", tests, n, NULL, NULL);
}
