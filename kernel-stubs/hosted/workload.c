/*
 * The demo workload (see workload.h and docs/serve.md).
 *
 * A handful of actors, each a small state machine over one or more
 * simulated processes:
 *
 *   sh   a shell with a small heap. It forks jobs: short-lived tools (they
 *        dirty a heap page, which copies it, exec the demo executable, grow
 *        their break and exit) and compilers ("cc": exec, then map arenas
 *        and grow them page by page and through brk, free some, exit).
 *   fs   the file server (fileserver.h) reading and writing blocks over a
 *        working set larger than its buffers and than free memory, so
 *        VM's cache yields, hits, misses and evicts under the compilers'
 *        pressure. The hot part of the disk drifts, so the mix changes.
 *   db   a process with a shared mapping and a forked worker writing to it
 *        in turns; a monitor ("mon") maps the same pages now through
 *        VM_REMAP, now through a grant and VM_SAFEMAP, reads, and unmaps.
 *   drv  a privileged driver with the VGA text page mapped (VM_MAP_PHYS)
 *        and a contiguous DMA buffer below 16 MB that it reallocates now
 *        and then at another size.
 *
 * Everything written is checked when read back (block contents against
 * their version, shared pages against the last value written, arena pages
 * against their tag, DMA frames for contiguity), so the demo also watches
 * VM while it runs: a difference is logged on stderr as a mismatch.
 * Operations refused for lack of memory are counted and retried later;
 * anything else VM refuses is logged (rate-limited) and the actor moves
 * on, so the workload never stops the server.
 */
#include "workload.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/mman.h>

#include "fileserver.h"
#include "machine.h"

#define PAGE VM_PAGE_SIZE

#define MAX_JOBS 8   /* the shell's children alive at once */
#define MAX_CC 3     /* of those, compilers */
#define CC_CHUNKS 16 /* arenas a compiler maps */
#define SH_HEAP (64 * 1024)
#define FS_BLOCK (8 * 1024)
#define FS_BUFFERS 32
#define FS_OPS 6                 /* file server operations per step */
#define FS_MAX_BYTES (96u << 20) /* the disk's host memory stays bounded */
#define SHM_PAGES 32
#define VGA_TEXT 0xB8000u
#define DRV_EVERY 5     /* steps between the driver's turns */
#define RETRY_STEPS 50  /* before starting a failed long-lived actor again */
#define LOG_ERRORS 20   /* refusals logged in full, then every 1000th */
#define LOG_MISMATCH 20 /* likewise for data mismatches */

/* A job: a child of the shell. */
enum job_kind { JOB_TOOL, JOB_CC };
enum job_state { J_FORKED, J_RUN };

struct chunk {
	vir_bytes addr;
	uint32_t pages;   /* mapped */
	uint32_t touched; /* pages written, from the start */
};

struct job {
	bool alive;
	enum job_kind kind;
	enum job_state state;
	endpoint_t ep;
	uint32_t age, life; /* steps lived, and to live */
	uint32_t tag;       /* written into its pages with their address */
	uint32_t target;    /* compiler: bytes of arena to reach */
	uint32_t bytes;     /* arena bytes mapped (chunks and break) */
	struct chunk chunk[CC_CHUNKS];
	vir_bytes brk0, brk; /* break at exec (or fork) and now; pages between are tagged */
};

struct workload {
	struct workload_counts c;
	uint64_t rng;
	uint32_t sanity_every;
	uint32_t cycle_steps, cycle_step; /* with cycles: its length, and where in it */
	uint32_t resting;                 /* steps of rest left after a cycle */
	uint32_t mem_bytes;
	uint8_t *image; /* the executable jobs exec, or NULL */
	size_t image_len;

	/* sh */
	endpoint_t sh;
	vir_bytes sh_heap; /* where its heap starts */
	uint32_t sh_retry;
	uint32_t sh_heap_gen; /* changes the shell's heap pattern */
	struct job job[MAX_JOBS];
	uint32_t cc_max; /* bytes a compiler may reach */

	/* fs */
	struct fileserver *fs;
	uint32_t fs_retry;
	uint32_t *version; /* per block: writes so far (0: never written) */
	uint32_t nblocks, hot;
	uint8_t block[FS_BLOCK], want[FS_BLOCK]; /* read, and what it should be */

	/* db, its worker, the monitor */
	endpoint_t db, worker, mon;
	uint32_t db_retry;
	vir_bytes shm;
	uint32_t shm_val[SHM_PAGES]; /* last value written at the start of each page */
	uint32_t shm_seq;
	uint32_t worker_life;
	enum { MON_IDLE, MON_REMAP, MON_SAFEMAP } mon_state;
	vir_bytes mon_addr;
	uint32_t mon_grant, mon_life, mon_rounds;

	/* drv */
	endpoint_t drv;
	uint32_t drv_retry;
	vir_bytes vga, dma;
	uint32_t dma_pages, dma_life;
};

/* --- small helpers ------------------------------------------------------ */

static uint64_t rnd64(struct workload *w)
{
	/* xorshift64*: tiny, fast, and good enough for choosing actions. */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n); n > 0. */
static uint32_t rnd(struct workload *w, uint32_t n)
{
	return (uint32_t)((rnd64(w) >> 32) % n);
}

static uint32_t rnd_between(struct workload *w, uint32_t lo, uint32_t hi)
{
	return lo + rnd(w, hi - lo + 1);
}

static void logmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("vm serve: demo: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *errname(int r)
{
	const char *s = vm_strerrno(r);
	return s ? s : "unknown error";
}

/*
 * Account for result r of what (a process's action): ENOMEM is expected
 * and only counted; anything else is logged, the first LOG_ERRORS and then
 * every 1000th, so a VM that refuses everything cannot flood stderr.
 * Returns r.
 */
static int note(struct workload *w, int r, const char *what, endpoint_t ep)
{
	if (r == VM_OK)
		return r;
	if (r == ENOMEM) {
		w->c.enomem++;
		return r;
	}
	w->c.errors++;
	if (w->c.errors <= LOG_ERRORS || w->c.errors % 1000 == 0)
		logmsg("step %llu: %s (endpoint %d): %s (%llu such refusals so far)",
		       (unsigned long long)w->c.steps, what, ep, errname(r),
		       (unsigned long long)w->c.errors);
	return r;
}

static void mismatch(struct workload *w, const char *fmt, ...)
{
	va_list ap;

	w->c.mismatches++;
	if (w->c.mismatches > LOG_MISMATCH && w->c.mismatches % 1000 != 0)
		return;
	fprintf(stderr, "vm serve: demo: step %llu: MISMATCH: ", (unsigned long long)w->c.steps);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* One VM call from process ep; the reply replaces *m. */
static int vcall(endpoint_t ep, message *m)
{
	m->m_source = ep;
	return hosted_call(m);
}

static int vm_mmap(endpoint_t ep, vir_bytes len, int flags, phys_bytes phys, vir_bytes *addr)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_type = VM_MMAP;
	m.m_mmap.len = len;
	m.m_mmap.prot = VM_PROT_READ | VM_PROT_WRITE;
	m.m_mmap.flags = flags;
	m.m_mmap.phys = phys;
	int r = vcall(ep, &m);
	if (r == VM_OK)
		*addr = m.m_mmap.addr;
	return r;
}

static int vm_munmap(endpoint_t ep, vir_bytes addr, vir_bytes len)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_type = VM_MUNMAP;
	m.m_munmap.addr = addr;
	m.m_munmap.len = len;
	return vcall(ep, &m);
}

/* Set ep's break to addr (0: only ask); *now gets the break. */
static int vm_brk(endpoint_t ep, vir_bytes addr, vir_bytes *now)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_type = VM_BRK;
	m.m_brk.addr = addr;
	int r = vcall(ep, &m);
	if (r == VM_OK)
		*now = m.m_brk.addr;
	return r;
}

/* ep loads or stores through the MMU, faults going to VM. */
static int mem(endpoint_t ep, vir_bytes va, void *buf, size_t len, bool write)
{
	struct hosted_proc *p = hosted_proc(ep);
	return p ? mmu_access(p, va, buf, len, write) : ESRCH;
}

static int put32(endpoint_t ep, vir_bytes va, uint32_t v)
{
	return mem(ep, va, &v, sizeof(v), true);
}

static int get32(endpoint_t ep, vir_bytes va, uint32_t *v)
{
	return mem(ep, va, v, sizeof(*v), false);
}

static bool alive(endpoint_t ep)
{
	return ep != NONE && hosted_proc(ep) != NULL;
}

static void end_proc(struct workload *w, endpoint_t *ep)
{
	if (*ep == NONE)
		return;
	if (hosted_proc(*ep) != NULL && note(w, hosted_exit(*ep), "exit", *ep) != VM_OK)
		return; /* VM refused: try again on the next stop */
	w->c.exits++;
	*ep = NONE;
}

/* --- the shell and its jobs --------------------------------------------- */

static const char *const tool_names[] = { "ls", "cat", "grep", "sed", "awk", "make", "date" };

/* The value a job keeps in the page at va: its tag and the address. */
static uint32_t job_word(const struct job *j, vir_bytes va)
{
	return j->tag ^ (uint32_t)va;
}

static void sh_start(struct workload *w)
{
	vir_bytes now = 0;
	int r;

	if ((r = hosted_spawn("sh", false, &w->sh)) != 0) {
		note(w, r, "spawn sh", NONE);
		w->sh = NONE;
		w->sh_retry = RETRY_STEPS;
		return;
	}
	w->c.spawns++;
	/* The shell's heap: its environment and history, copied into every
	 * child by fork. */
	if (note(w, vm_brk(w->sh, 0, &w->sh_heap), "sh brk", w->sh) == VM_OK &&
	    note(w, vm_brk(w->sh, w->sh_heap + SH_HEAP, &now), "sh brk", w->sh) == VM_OK) {
		for (vir_bytes va = w->sh_heap; va < w->sh_heap + SH_HEAP; va += PAGE)
			if (note(w, put32(w->sh, va, va), "sh heap", w->sh) != VM_OK)
				break;
	}
}

/* Drop a job whose process is gone (exited, or killed by a failed exec). */
static void job_forget(struct job *j)
{
	memset(j, 0, sizeof(*j));
	j->ep = NONE;
}

/* Check a few of the job's tagged pages, then exit it. */
static void job_end(struct workload *w, struct job *j)
{
	for (int k = 0; k < 4; k++) {
		struct chunk *ch = &j->chunk[rnd(w, CC_CHUNKS)];
		if (ch->touched == 0)
			continue;
		vir_bytes va = ch->addr + rnd(w, ch->touched) * PAGE;
		uint32_t v;
		if (note(w, get32(j->ep, va, &v), "arena read", j->ep) == VM_OK &&
		    v != job_word(j, va))
			mismatch(w, "arena page 0x%08x of endpoint %d holds 0x%08x, not 0x%08x", va,
				 j->ep, v, job_word(j, va));
	}
	if (j->brk > j->brk0) {
		vir_bytes va = j->brk0 + rnd(w, (j->brk - j->brk0) / PAGE) * PAGE;
		uint32_t v;
		if (note(w, get32(j->ep, va, &v), "heap read", j->ep) == VM_OK &&
		    v != job_word(j, va))
			mismatch(w, "heap page 0x%08x of endpoint %d holds 0x%08x, not 0x%08x", va,
				 j->ep, v, job_word(j, va));
	}
	endpoint_t ep = j->ep;
	end_proc(w, &ep);
	if (ep == NONE)
		job_forget(j);
}

/* Grow the job's break by pages and write them. */
static int job_grow_brk(struct workload *w, struct job *j, uint32_t pages)
{
	vir_bytes now = 0;
	int r = note(w, vm_brk(j->ep, j->brk + pages * PAGE, &now), "brk", j->ep);

	if (r != VM_OK)
		return r;
	for (; j->brk < now; j->brk += PAGE) {
		if ((r = note(w, put32(j->ep, j->brk, job_word(j, j->brk)), "heap write", j->ep)))
			return r;
		j->bytes += PAGE;
	}
	return VM_OK;
}

static void sh_fork(struct workload *w)
{
	struct job *j = NULL;
	int ncc = 0;

	for (int i = 0; i < MAX_JOBS; i++) {
		if (!w->job[i].alive && j == NULL)
			j = &w->job[i];
		else if (w->job[i].alive && w->job[i].kind == JOB_CC)
			ncc++;
	}
	if (j == NULL)
		return;
	enum job_kind kind = ncc < MAX_CC && rnd(w, 3) == 0 ? JOB_CC : JOB_TOOL;
	/* One compiler job in eight is a link, which wants far more: three
	 * at once do not fit, and the last to grow runs out of memory. */
	bool link = kind == JOB_CC && rnd(w, 8) == 0;
	const char *name = link ? "ld" : "cc";
	if (kind == JOB_TOOL)
		name = tool_names[rnd(w, sizeof(tool_names) / sizeof(tool_names[0]))];
	/* The shell writes its history before forking: after the first
	 * fork, a copy-on-write fault (copied or reused). */
	vir_bytes va = w->sh_heap + rnd(w, SH_HEAP / PAGE) * PAGE;
	note(w, put32(w->sh, va, ++w->sh_heap_gen), "sh heap", w->sh);
	endpoint_t ep;
	if (note(w, hosted_fork(w->sh, name, &ep), "fork", w->sh) != VM_OK)
		return;
	w->c.forks++;
	job_forget(j);
	j->alive = true;
	j->kind = kind;
	j->state = J_FORKED;
	j->ep = ep;
	j->tag = (uint32_t)rnd64(w);
	if (kind == JOB_CC) {
		j->life = rnd_between(w, 100, 500);
		j->target = link ? rnd_between(w, w->mem_bytes / 8, w->mem_bytes / 3)
				 : rnd_between(w, w->cc_max / 4, w->cc_max);
	} else {
		j->life = rnd_between(w, 5, 50);
	}
}

/* The job's first step: dirty an inherited page, then exec. */
static void job_exec(struct workload *w, struct job *j)
{
	vir_bytes va = w->sh_heap + rnd(w, SH_HEAP / PAGE) * PAGE;

	note(w, put32(j->ep, va, j->tag), "child heap", j->ep);
	j->state = J_RUN;
	if (w->image != NULL) {
		bool killed;
		int r = hosted_exec(j->ep, w->image, w->image_len, &killed);
		if (killed) {
			note(w, r, "exec", j->ep);
			w->c.exits++;
			job_forget(j);
			return;
		}
		if (r == ENOEXEC) {
			/* Not an executable this machine runs: say so once. */
			logmsg("the jobs' executable is not an i386 ELF: they only map memory");
			free(w->image);
			w->image = NULL;
		} else if (note(w, r, "exec", j->ep) != VM_OK) {
			job_end(w, j); /* the child reports failure and exits */
			return;
		} else {
			w->c.execs++;
		}
	}
	if (note(w, vm_brk(j->ep, 0, &j->brk), "brk", j->ep) != VM_OK) {
		job_end(w, j);
		return;
	}
	/* Pages below the break came from the image or the shell: only
	 * those the job grows from here on, from the next page up, are
	 * tagged. */
	j->brk = (j->brk + PAGE - 1) & ~(vir_bytes)(PAGE - 1);
	j->brk0 = j->brk;
}

/* A compiler's step: grow its arenas towards its target, now and then
 * freeing one as a pass finishes with it. VM_OK, or the error that
 * stopped it. */
static int cc_step(struct workload *w, struct job *j)
{
	uint32_t k = rnd(w, 100);
	int r;

	if (k < 10) {
		/* A pass is done: free one arena. */
		struct chunk *ch = &j->chunk[rnd(w, CC_CHUNKS)];
		if (ch->pages == 0)
			return VM_OK;
		r = note(w, vm_munmap(j->ep, ch->addr, ch->pages * PAGE), "munmap", j->ep);
		if (r == VM_OK) {
			j->bytes -= ch->pages * PAGE;
			memset(ch, 0, sizeof(*ch));
		}
		return r;
	}
	if (j->bytes >= j->target)
		return VM_OK;
	if (k < 25)
		return job_grow_brk(w, j, rnd_between(w, 4, 16));
	/* Grow an arena in place by touching more of it, or map a new one. */
	struct chunk *grow = NULL, *fresh = NULL;
	for (int i = 0; i < CC_CHUNKS; i++) {
		struct chunk *c = &j->chunk[i];
		if (grow == NULL && c->touched < c->pages)
			grow = c;
		if (fresh == NULL && c->pages == 0)
			fresh = c;
	}
	if ((grow == NULL || k < 40) && fresh != NULL) {
		uint32_t pages = rnd_between(w, 16, 128);
		r = note(w, vm_mmap(j->ep, pages * PAGE, 0, 0, &fresh->addr), "mmap", j->ep);
		if (r != VM_OK)
			return r;
		fresh->pages = pages;
		fresh->touched = 0;
		j->bytes += pages * PAGE;
		grow = fresh;
	}
	if (grow == NULL)
		return VM_OK; /* nothing to grow: wait for a pass to free an arena */
	for (uint32_t n = rnd_between(w, 4, 32); n > 0 && grow->touched < grow->pages; n--) {
		vir_bytes va = grow->addr + grow->touched * PAGE;
		if ((r = note(w, put32(j->ep, va, job_word(j, va)), "arena write", j->ep)))
			return r;
		grow->touched++;
	}
	return VM_OK;
}

static void job_step(struct workload *w, struct job *j)
{
	int r = VM_OK;

	if (!alive(j->ep)) {
		job_forget(j);
		return;
	}
	if (j->state == J_FORKED) {
		job_exec(w, j);
		if (j->alive && w->image == NULL && j->kind == JOB_TOOL) {
			/* Nothing to exec: the tool maps a buffer of its own. */
			struct chunk *ch = &j->chunk[0];
			if (note(w, vm_mmap(j->ep, 8 * PAGE, 0, 0, &ch->addr), "mmap", j->ep) == 0)
				ch->pages = 8;
		}
		return;
	}
	if (++j->age >= j->life) {
		job_end(w, j);
		return;
	}
	if (j->kind == JOB_CC) {
		r = cc_step(w, j);
	} else if (rnd(w, 4) == 0 && j->bytes < 16 * PAGE) {
		r = job_grow_brk(w, j, rnd_between(w, 1, 4));
	} else if (j->chunk[0].touched < j->chunk[0].pages) {
		struct chunk *ch = &j->chunk[0];
		vir_bytes va = ch->addr + ch->touched * PAGE;
		if ((r = note(w, put32(j->ep, va, job_word(j, va)), "write", j->ep)) == 0)
			ch->touched++;
	}
	/* Out of memory, the job fails (a compiler's malloc returns NULL, or
	 * a page fault gets SIGBUS) and exits, giving its memory back. */
	if (r == ENOMEM)
		job_end(w, j);
}

static void sh_step(struct workload *w)
{
	if (w->sh == NONE) {
		if (w->sh_retry == 0 || --w->sh_retry == 0)
			sh_start(w);
		return;
	}
	if (rnd(w, 100) < 15)
		sh_fork(w);
	for (int i = 0; i < MAX_JOBS; i++)
		if (w->job[i].alive)
			job_step(w, &w->job[i]);
}

/* --- the file server ---------------------------------------------------- */

/* Block blk's contents at version v: a header, then a word per 512 bytes,
 * all derived from (blk, v), so any mix-up of blocks or versions shows. */
static void fill_block(uint8_t *b, uint32_t blk, uint32_t v)
{
	memset(b, 0, FS_BLOCK);
	for (uint32_t off = 0; off < FS_BLOCK; off += 512) {
		uint32_t word = blk * 2654435761u ^ v ^ off;
		memcpy(b + off, &word, sizeof(word));
	}
	memcpy(b + 4, &blk, sizeof(blk));
	memcpy(b + 8, &v, sizeof(v));
}

static void fs_begin(struct workload *w)
{
	uint32_t bytes = w->mem_bytes / 4 * 3;

	if (bytes > FS_MAX_BYTES)
		bytes = FS_MAX_BYTES;
	w->nblocks = bytes / FS_BLOCK;
	if (w->version == NULL && (w->version = calloc(w->nblocks, sizeof(uint32_t))) == NULL) {
		logmsg("no host memory for the file server's model");
		w->fs_retry = RETRY_STEPS;
		return;
	}
	int r = fs_start(w->nblocks, FS_BLOCK, FS_BUFFERS, &w->fs);
	if (r != 0) {
		note(w, r, "start fs", NONE);
		w->fs = NULL;
		w->fs_retry = RETRY_STEPS;
		return;
	}
	/* A fresh disk reads as zeroes: forget the last server's versions. */
	memset(w->version, 0, w->nblocks * sizeof(uint32_t));
	w->c.spawns++;
}

static void fs_step(struct workload *w)
{
	if (w->fs == NULL) {
		if (w->fs_retry == 0 || --w->fs_retry == 0)
			fs_begin(w);
		return;
	}
	/* The hot eighth of the disk drifts, one 64th every 50 steps: the
	 * cache keeps having to follow it. */
	if (w->c.steps % 50 == 0)
		w->hot = (w->hot + w->nblocks / 64 + 1) % w->nblocks;
	/* Now and then the administrator drops the caches. */
	if (rnd(w, 5000) == 0)
		note(w, fs_forget_all(w->fs), "forget blocks", fs_endpoint(w->fs));
	for (int i = 0; i < FS_OPS; i++) {
		uint32_t blk = rnd(w, 10) < 7 ? (w->hot + rnd(w, w->nblocks / 8 + 1)) % w->nblocks
					      : rnd(w, w->nblocks);
		if (rnd(w, 4) == 0) {
			fill_block(w->block, blk, ++w->version[blk]);
			note(w, fs_write(w->fs, blk, w->block), "fs write", fs_endpoint(w->fs));
			continue;
		}
		if (note(w, fs_read(w->fs, blk, w->block), "fs read", fs_endpoint(w->fs)) != 0)
			continue;
		uint8_t *want = w->want;
		uint32_t v = w->version[blk];
		if (v == 0)
			memset(want, 0, FS_BLOCK);
		else
			fill_block(want, blk, v);
		if (memcmp(want, w->block, FS_BLOCK) != 0) {
			uint32_t got_blk, got_v;
			memcpy(&got_blk, w->block + 4, 4);
			memcpy(&got_v, w->block + 8, 4);
			mismatch(w, "fs block %u: expected version %u, read block %u version %u",
				 blk, v, got_blk, got_v);
		}
	}
}

/* --- shared memory: db, its worker, the monitor ------------------------- */

static void db_start(struct workload *w)
{
	int r;

	if ((r = hosted_spawn("db", false, &w->db)) != 0) {
		note(w, r, "spawn db", NONE);
		w->db = NONE;
		w->db_retry = RETRY_STEPS;
		return;
	}
	w->c.spawns++;
	r = note(w, vm_mmap(w->db, SHM_PAGES * PAGE, VM_MAP_SHARED, 0, &w->shm), "mmap shared",
		 w->db);
	if (r == 0 && note(w, r = hosted_spawn("mon", false, &w->mon), "spawn mon", NONE) == 0)
		w->c.spawns++;
	if (r != 0) {
		w->mon = NONE;
		end_proc(w, &w->db);
		w->db_retry = RETRY_STEPS;
		return;
	}
	memset(w->shm_val, 0, sizeof(w->shm_val));
	w->mon_state = MON_IDLE;
	w->mon_life = rnd_between(w, 20, 200);
}

/* who reads a random shared page through its mapping at base; it must
 * hold the last value written. */
static void shm_check(struct workload *w, endpoint_t who, vir_bytes base, const char *what)
{
	uint32_t p = rnd(w, SHM_PAGES), v;

	if (note(w, get32(who, base + p * PAGE, &v), what, who) == 0 && v != w->shm_val[p])
		mismatch(w, "%s: shared page %u reads 0x%08x, last written 0x%08x", what, p, v,
			 w->shm_val[p]);
}

/* The monitor maps the shared pages (VM_REMAP or a grant and
 * VM_SAFEMAP, in turns), reads them for a while, and unmaps them. */
static void mon_step(struct workload *w)
{
	message m;

	if (w->mon_state != MON_IDLE) {
		shm_check(w, w->mon, w->mon_addr, "mon read");
		if (--w->mon_life > 0)
			return;
		memset(&m, 0, sizeof(m));
		if (w->mon_state == MON_REMAP) {
			m.m_type = VM_SHM_UNMAP;
			m.m_munmap.addr = w->mon_addr;
			note(w, vcall(w->mon, &m), "shmunmap", w->mon);
		} else {
			/* Revoking unmaps the monitor's view too. */
			m.m_type = VM_REVOKE;
			m.m_grant.id = w->mon_grant;
			note(w, vcall(w->db, &m), "revoke", w->db);
		}
		w->mon_state = MON_IDLE;
		w->mon_life = rnd_between(w, 20, 100);
		return;
	}
	if (--w->mon_life > 0)
		return;
	w->mon_life = rnd_between(w, 50, 300);
	memset(&m, 0, sizeof(m));
	if (w->mon_rounds++ % 2 == 0) {
		m.m_type = VM_REMAP;
		m.m_remap.src = w->db;
		m.m_remap.src_addr = w->shm;
		m.m_remap.dst = w->mon;
		m.m_remap.flags = VM_REMAP_RO;
		if (note(w, vcall(KERNEL, &m), "remap", w->mon) == 0) {
			w->mon_addr = m.m_remap.dst_addr;
			w->mon_state = MON_REMAP;
		}
		return;
	}
	m.m_type = VM_GRANT;
	m.m_grant.grantee = w->mon;
	m.m_grant.addr = w->shm;
	m.m_grant.len = SHM_PAGES * PAGE;
	m.m_grant.access = VM_GRANT_READ;
	if (note(w, vcall(w->db, &m), "grant", w->db) != 0)
		return;
	w->mon_grant = m.m_grant.id;
	memset(&m, 0, sizeof(m));
	m.m_type = VM_SAFEMAP;
	m.m_safemap.id = w->mon_grant;
	m.m_safemap.len = SHM_PAGES * PAGE;
	m.m_safemap.flags = VM_SAFEMAP_RO;
	if (note(w, vcall(w->mon, &m), "safemap", w->mon) == 0) {
		w->mon_addr = m.m_safemap.addr;
		w->mon_state = MON_SAFEMAP;
		return;
	}
	memset(&m, 0, sizeof(m));
	m.m_type = VM_REVOKE;
	m.m_grant.id = w->mon_grant;
	note(w, vcall(w->db, &m), "revoke", w->db);
}

static void shm_step(struct workload *w)
{
	if (w->db == NONE) {
		if (w->db_retry == 0 || --w->db_retry == 0)
			db_start(w);
		return;
	}
	if (!alive(w->worker)) {
		/* The worker is forked with the mapping: the same frames. */
		endpoint_t ep;
		if (note(w, hosted_fork(w->db, "db-worker", &ep), "fork", w->db) != 0)
			return;
		w->c.forks++;
		w->worker = ep;
		w->worker_life = rnd_between(w, 100, 1000);
	} else if (--w->worker_life == 0) {
		end_proc(w, &w->worker);
		return;
	}
	/* One writes a page, the other reads one: both must see every
	 * write. */
	bool db_writes = rnd(w, 2) == 0;
	endpoint_t writer = db_writes ? w->db : w->worker;
	endpoint_t reader = db_writes ? w->worker : w->db;
	uint32_t p = rnd(w, SHM_PAGES), v = ++w->shm_seq;
	if (note(w, put32(writer, w->shm + p * PAGE, v), "shared write", writer) == 0)
		w->shm_val[p] = v;
	shm_check(w, reader, w->shm, "shared read");
	if (w->mon != NONE)
		mon_step(w);
}

/* --- the driver --------------------------------------------------------- */

/* A new DMA buffer (after freeing the old one) of a random size. */
static void drv_dma(struct workload *w)
{
	if (w->dma_pages != 0) {
		note(w, vm_munmap(w->drv, w->dma, w->dma_pages * PAGE), "munmap dma", w->drv);
		w->dma_pages = 0;
	}
	uint32_t pages = 4u << rnd(w, 5); /* 16 KB to 256 KB */
	int flags = VM_MAP_PREALLOC | VM_MAP_CONTIG | VM_MAP_LOWER16M;
	if (note(w, vm_mmap(w->drv, pages * PAGE, flags, 0, &w->dma), "mmap contig", w->drv) == 0)
		w->dma_pages = pages;
	w->dma_life = rnd_between(w, 50, 400);
}

static void drv_start(struct workload *w)
{
	int r;

	if ((r = hosted_spawn("drv", true, &w->drv)) != 0) {
		note(w, r, "spawn drv", NONE);
		w->drv = NONE;
		w->drv_retry = RETRY_STEPS;
		return;
	}
	w->c.spawns++;
	w->vga = 0;
	if (note(w, vm_mmap(w->drv, PAGE, VM_MAP_PHYS, VGA_TEXT, &w->vga), "mmap phys", w->drv))
		w->vga = 0;
	w->dma_pages = 0;
	drv_dma(w);
}

static void drv_step(struct workload *w)
{
	struct hosted_proc *p;

	if (w->drv == NONE) {
		if (w->drv_retry == 0 || --w->drv_retry == 0)
			drv_start(w);
		return;
	}
	if (w->vga != 0) {
		/* A status line in the text screen: character and attribute. */
		char line[80];
		uint8_t cells[2 * sizeof(line)];
		int n = snprintf(line, sizeof(line), "vmscope demo  step %llu  forks %llu  ",
				 (unsigned long long)w->c.steps, (unsigned long long)w->c.forks);
		for (int i = 0; i < n && i < (int)sizeof(line); i++) {
			cells[2 * i] = (uint8_t)line[i];
			cells[2 * i + 1] = 0x1F; /* white on blue */
		}
		note(w, mem(w->drv, w->vga, cells, 2 * (size_t)n, true), "vga write", w->drv);
	}
	if (w->dma_pages == 0 || --w->dma_life == 0) {
		drv_dma(w);
		return;
	}
	/* A transfer: the device writes by physical address, so the frames
	 * must be consecutive and below 16 MB, as VM promised. */
	if ((p = hosted_proc(w->drv)) == NULL)
		return;
	phys_bytes first, pa;
	uint32_t i = rnd(w, w->dma_pages);
	if (note(w, mmu_translate(p, w->dma, &first), "dma umap", w->drv) != 0 ||
	    note(w, mmu_translate(p, w->dma + i * PAGE, &pa), "dma umap", w->drv) != 0)
		return;
	if (pa != first + i * PAGE || pa + PAGE > (16u << 20))
		mismatch(w, "dma buffer page %u at 0x%08x, first page at 0x%08x", i, pa, first);
	uint32_t v = (uint32_t)w->c.steps;
	memcpy(hm.phys + pa, &v, sizeof(v)); /* the device's write */
	uint32_t got;
	if (note(w, get32(w->drv, w->dma + i * PAGE, &got), "dma read", w->drv) == 0 && got != v)
		mismatch(w, "dma page %u reads 0x%08x after the device wrote 0x%08x", i, got, v);
}

/* --- the whole ---------------------------------------------------------- */

static void sanity(struct workload *w)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_SANITY;
	int r = hosted_call(&m);
	w->c.sanity_runs++;
	if (r != VM_OK) {
		note(w, r, "sanity", KERNEL);
		return;
	}
	if (m.m_sanity.findings != 0) {
		w->c.sanity_findings += m.m_sanity.findings;
		logmsg("step %llu: consistency check: %u findings (printed on stdout)",
		       (unsigned long long)w->c.steps, m.m_sanity.findings);
	}
}

/* Read path into w->image; false if it cannot be read. */
static bool read_image(struct workload *w, const char *path)
{
	FILE *f = fopen(path, "rb");
	long len = -1;
	bool ok = false;

	if (f == NULL)
		return false;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && len < (64l << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (w->image = malloc((size_t)len)) != NULL)
		ok = fread(w->image, 1, (size_t)len, f) == (size_t)len;
	fclose(f);
	if (!ok) {
		free(w->image);
		w->image = NULL;
		return false;
	}
	w->image_len = (size_t)len;
	logmsg("jobs exec %s", path);
	return true;
}

/* Find the executable the jobs exec: path if given, else
 * $VMSCOPE_DEMO_ELF, else hello.elf beside the running binary or where a
 * build tree puts it (tests/scenarios-exec/ under the binary's directory). */
static void load_image(struct workload *w, const char *path)
{
	const char *env = getenv("VMSCOPE_DEMO_ELF");
	char dir[4096], cand[4096 + 64];

	if (path == NULL && env != NULL && *env != '\0')
		path = env;
	if (path != NULL) {
		if (!read_image(w, path))
			logmsg("cannot read %s: the jobs only map memory", path);
		return;
	}
	ssize_t len = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (len > 0) {
		dir[len] = '\0';
		char *slash = strrchr(dir, '/');
		if (slash != NULL)
			*slash = '\0';
		snprintf(cand, sizeof(cand), "%s/hello.elf", dir);
		if (read_image(w, cand))
			return;
		snprintf(cand, sizeof(cand), "%s/tests/scenarios-exec/hello.elf", dir);
		if (read_image(w, cand))
			return;
	}
	logmsg("no hello.elf beside the binary (set VMSCOPE_DEMO_ELF): the jobs only map memory");
}

int workload_start(const struct workload_opts *o, struct workload **out)
{
	struct workload *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return ENOMEM;
	w->rng = o->seed ? o->seed : 0x9E3779B97F4A7C15ull; /* xorshift needs a non-zero state */
	w->sanity_every = o->sanity_every;
	w->cycle_steps = o->cycle_steps;
	w->mem_bytes = hm.mem_bytes;
	w->cc_max = w->mem_bytes / 8;
	w->sh = w->db = w->worker = w->mon = w->drv = NONE;
	for (int i = 0; i < MAX_JOBS; i++)
		job_forget(&w->job[i]);
	load_image(w, o->exec_image);
	*out = w;
	return 0;
}

/* Every process the demo made exits (the host memory it keeps stays). */
static void end_all(struct workload *w)
{
	for (int i = 0; i < MAX_JOBS; i++)
		if (w->job[i].alive)
			end_proc(w, &w->job[i].ep);
	end_proc(w, &w->worker);
	end_proc(w, &w->mon);
	end_proc(w, &w->db);
	end_proc(w, &w->drv);
	end_proc(w, &w->sh);
	if (w->fs != NULL) {
		fs_stop(w->fs);
		w->fs = NULL;
		w->c.exits++;
	}
}

/* The end of a cycle: everything ends, and starts again after the rest
 * (each actor on its first step, as after workload_start). */
static void end_cycle(struct workload *w)
{
	end_all(w);
	for (int i = 0; i < MAX_JOBS; i++)
		job_forget(&w->job[i]);
	w->sh_retry = w->fs_retry = w->db_retry = w->drv_retry = 0;
	w->mon_state = MON_IDLE;
	w->dma = w->vga = 0;
	w->dma_pages = 0;
	w->c.cycles++;
	w->resting = WORKLOAD_REST_STEPS;
	w->cycle_step = 0;
}

void workload_step(struct workload *w)
{
	w->c.steps++;
	if (w->resting > 0) {
		w->resting--;
		return;
	}
	if (w->cycle_steps != 0 && ++w->cycle_step > w->cycle_steps) {
		end_cycle(w);
		return;
	}
	sh_step(w);
	fs_step(w);
	shm_step(w);
	if (w->c.steps % DRV_EVERY == 0)
		drv_step(w);
	if (w->sanity_every != 0 && w->c.steps % w->sanity_every == 0)
		sanity(w);
}

struct workload_counts workload_counts(const struct workload *w)
{
	return w->c;
}

void workload_stop(struct workload *w)
{
	if (w == NULL)
		return;
	end_all(w);
	free(w->version);
	free(w->image);
	free(w);
}
