/*
 * Samples of VM for vmtop (sample.h). Two samples are kept, the current
 * and the last one, so that rates (faults per second) and changes (for
 * highlighting) come from consecutive refreshes.
 */
#define _POSIX_C_SOURCE 200809L
#include "sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmscope/callnr.h>

#include "vminfo.h"

struct sampler {
	char path[256];
	int timeout_ms;
	struct vminfo *vi;
	struct vt_sample cur, prev;
	bool have_prev;
	char error[400];
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct sampler *sampler_new(const char *socket_path, int timeout_ms)
{
	struct sampler *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if (socket_path)
		snprintf(s->path, sizeof(s->path), "%s", socket_path);
	else if (vminfo_default_path(s->path, sizeof(s->path)) != 0)
		s->path[0] = '\0';
	s->timeout_ms = timeout_ms;
	return s;
}

static void sample_clear(struct vt_sample *v)
{
	free(v->slab);
	free(v->procs);
	memset(v, 0, sizeof(*v));
}

static void disconnect(struct sampler *s)
{
	if (s->vi)
		vminfo_close(s->vi);
	s->vi = NULL;
}

void sampler_free(struct sampler *s)
{
	if (s == NULL)
		return;
	disconnect(s);
	sample_clear(&s->cur);
	sample_clear(&s->prev);
	free(s);
}

const char *sampler_error(const struct sampler *s)
{
	return s->error;
}

const char *sampler_target(const struct sampler *s)
{
	return s->path;
}

/* A request failed: keep the message; VM gone means reconnect later. */
static enum vt_state failed(struct sampler *s)
{
	const struct vminfo_error *e = vminfo_last_error(s->vi);
	enum vt_state st = e->code == VMINFO_EVERSION ? VT_VERSION_MISMATCH : VT_DISCONNECTED;

	snprintf(s->error, sizeof(s->error), "%s", e->message);
	if (e->code == VMINFO_EIO || e->code == VMINFO_EPROTO || e->code == VMINFO_EVERSION)
		disconnect(s);
	return st;
}

static enum vt_state connect_vm(struct sampler *s)
{
	struct vminfo_error err;

	if (s->vi)
		return VT_CONNECTED;
	if (s->path[0] == '\0') {
		snprintf(s->error, sizeof(s->error),
			 "no socket path (set VMSCOPE_SOCKET or --socket)");
		return VT_DISCONNECTED;
	}
	s->vi = vminfo_open(s->path, s->timeout_ms, &err);
	if (s->vi == NULL) {
		snprintf(s->error, sizeof(s->error), "%s", err.message);
		return err.code == VMINFO_EVERSION ? VT_VERSION_MISMATCH : VT_DISCONNECTED;
	}
	return VT_CONNECTED;
}

static double rate(uint64_t cur, uint64_t prev, double dt)
{
	/* A counter that went back is a new VM behind the socket. */
	return dt > 0 && cur >= prev ? (double)(cur - prev) / dt : 0;
}

static const struct vt_proc *find_prev(const struct vt_sample *prev, int32_t ep)
{
	for (size_t i = 0; i < prev->nprocs; i++)
		if (prev->procs[i].p.endpoint == ep)
			return &prev->procs[i];
	return NULL;
}

static void proc_changes(struct vt_proc *p, const struct vt_proc *old, double dt)
{
	if (old == NULL) {
		p->is_new = true;
		return;
	}
	const struct vmi_proc *a = &p->p, *b = &old->p;
	p->changed = (uint32_t)((a->resident != b->resident) << VT_COL_RESIDENT |
				(a->pss_1k != b->pss_1k) << VT_COL_PSS |
				(a->shared != b->shared) << VT_COL_SHARED |
				(a->cow != b->cow) << VT_COL_COW |
				(a->virtual_pages != b->virtual_pages) << VT_COL_VIRTUAL |
				(a->regions != b->regions) << VT_COL_REGIONS |
				(a->minflt != b->minflt) << VT_COL_FAULTS);
	p->flt_rate = rate(a->minflt, b->minflt, dt);
}

/* Frames by owner. Of the frames processes map, those one process maps
 * are the resident pages that are neither shared nor copy-on-write; the
 * proportional set counts every mapped frame once, so its sum less those
 * is the frames mapped more than once. The cache's segment is what is
 * left: frames only the cache holds (a cached page a process still maps
 * is the process's). */
static void memory_split(struct vt_sample *v)
{
	const struct vmi_stats *st = &v->stats;
	struct vt_memory *m = &v->mem;
	uint64_t unique = 0, pss_1k = 0;

	m->total = st->pages_total;
	m->free = st->pages_free;
	m->slab = st->pages_slab;
	m->pagetables = st->pages_pagetables;
	m->vm = st->pages_vm;
	/* VM's metadata is taken before the pool: not part of it. */
	uint64_t fixed = (uint64_t)m->free + m->slab + m->pagetables;
	uint64_t rest = fixed < m->total ? m->total - fixed : 0;
	for (size_t i = 0; i < v->nprocs; i++) {
		const struct vmi_proc *p = &v->procs[i].p;
		unique += p->resident - p->shared - p->cow;
		pss_1k += p->pss_1k;
	}
	uint64_t frames = (pss_1k + 512) / 1024;
	uint64_t shared = frames > unique ? frames - unique : 0;
	m->private_ = (uint32_t)(unique < rest ? unique : rest);
	m->shared = (uint32_t)(shared < rest - m->private_ ? shared : rest - m->private_);
	m->cache = (uint32_t)(rest - m->private_ - m->shared);
}

enum vt_state sampler_take(struct sampler *s, const struct vt_sample **out)
{
	struct vt_sample v;
	struct vmi_proc *procs = NULL;
	size_t n = 0;
	enum vt_state st = connect_vm(s);

	if (st != VT_CONNECTED)
		return st;
	memset(&v, 0, sizeof(v));
	v.time = now();
	v.page_size = vminfo_page_size(s->vi);
	if (vminfo_stats(s->vi, &v.stats) != VMINFO_OK ||
	    vminfo_procs(s->vi, &procs, &n) != VMINFO_OK)
		return failed(s);
	v.procs = calloc(n ? n : 1, sizeof(*v.procs));
	if (v.procs == NULL) {
		free(procs);
		snprintf(s->error, sizeof(s->error), "out of memory");
		return VT_DISCONNECTED;
	}
	for (size_t i = 0; i < n; i++)
		v.procs[i].p = procs[i];
	v.nprocs = n;
	free(procs);
	if (vminfo_cache(s->vi, &v.cache) != VMINFO_OK ||
	    vminfo_slab(s->vi, &v.slab, &v.nslab) != VMINFO_OK) {
		sample_clear(&v);
		return failed(s);
	}
	if (vminfo_sanity(s->vi, VMINFO_SANITY_LAST, &v.sanity) == VMINFO_OK)
		v.have_sanity = true;
	else if (s->vi == NULL || vminfo_last_error(s->vi)->code != VMINFO_EVM) {
		sample_clear(&v);
		return failed(s);
	}

	/* Rates against the last good sample. */
	const struct vt_sample *p = s->have_prev ? &s->cur : NULL;
	if (p) {
		double dt = v.time - p->time;
		v.interval = dt;
		const struct vmi_stats *a = &v.stats, *b = &p->stats;
		v.pf_zerofill_rate = rate(a->pf_zerofill, b->pf_zerofill, dt);
		v.pf_cowcopy_rate = rate(a->pf_cowcopy, b->pf_cowcopy, dt);
		v.pf_cowreuse_rate = rate(a->pf_cowreuse, b->pf_cowreuse, dt);
		v.pf_shared_rate = rate(a->pf_shared, b->pf_shared, dt);
		v.pf_refused_rate = rate(a->pf_refused, b->pf_refused, dt);
		v.pf_nomem_rate = rate(a->pf_nomem, b->pf_nomem, dt);
		v.faults_rate = v.pf_zerofill_rate + v.pf_cowcopy_rate + v.pf_cowreuse_rate +
				v.pf_shared_rate + v.pf_refused_rate + v.pf_nomem_rate;
		uint64_t ca = 0, cb = 0;
		for (int i = 0; i < VMI_NCALLS; i++) {
			/* As vmstat's `all`: not page faults, not the debug
			 * call (vmtop's own requests would count themselves). */
			if (i == VM_PAGEFAULT - VM_RQ_BASE || i == VM_INFO - VM_RQ_BASE)
				continue;
			ca += a->calls[i];
			cb += b->calls[i];
		}
		v.calls_rate = rate(ca, cb, dt);
	}
	for (size_t i = 0; i < v.nprocs; i++)
		proc_changes(&v.procs[i], p ? find_prev(p, v.procs[i].p.endpoint) : NULL,
			     v.interval);
	if (p == NULL)
		for (size_t i = 0; i < v.nprocs; i++)
			v.procs[i].is_new = false; /* the first sample: nothing is new */
	uint64_t asked = v.cache.hits + v.cache.misses;
	v.cache_hit_ratio = asked ? (double)v.cache.hits / (double)asked : -1;
	memory_split(&v);

	sample_clear(&s->prev);
	s->prev = s->cur;
	s->cur = v;
	s->have_prev = true;
	s->error[0] = '\0';
	*out = &s->cur;
	return VT_CONNECTED;
}

int sampler_regions(struct sampler *s, int32_t ep, struct vmi_region **out, size_t *n)
{
	if (connect_vm(s) != VT_CONNECTED)
		return -1;
	if (vminfo_regions(s->vi, ep, out, n) != VMINFO_OK) {
		failed(s);
		return -1;
	}
	return 0;
}

int sampler_pages(struct sampler *s, int32_t ep, uint32_t addr, struct vmi_page **out, size_t *n)
{
	if (connect_vm(s) != VT_CONNECTED)
		return -1;
	if (vminfo_pages(s->vi, ep, addr, out, n) != VMINFO_OK) {
		failed(s);
		return -1;
	}
	return 0;
}
