/*
 * Batch mode (top's -b): snapshots as text, for scripts and CI. Each
 * snapshot is a header (memory by owner, fault rates, cache, sanity)
 * and the process table sorted as -s says, separated by a blank line.
 * Rates need two samples: the first snapshot's are 0.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "columns.h"
#include "vmtop.h"

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void print_header(const struct vt_sample *v, const char *target)
{
	const struct vt_memory *m = &v->mem;
	uint32_t ps = v->page_size;
	char when[64];
	time_t t = time(NULL);

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
	printf("vmtop %s  %s\n", when, target);
	printf("Mem: %lluK total, %lluK free, %lluK private, %lluK shared, %lluK cache, "
	       "%lluK slab, %lluK ptbl, %lluK vm\n",
	       vt_kib(m->total, ps), vt_kib(m->free, ps), vt_kib(m->private_, ps),
	       vt_kib(m->shared, ps), vt_kib(m->cache, ps), vt_kib(m->slab, ps),
	       vt_kib(m->pagetables, ps), vt_kib(m->vm, ps));
	printf("Faults/s: %.1f total, %.1f zero-fill, %.1f cow copy, %.1f cow reuse, %.1f shared, "
	       "%.1f segv, %.1f nomem; calls/s: %.1f\n",
	       v->faults_rate, v->pf_zerofill_rate, v->pf_cowcopy_rate, v->pf_cowreuse_rate,
	       v->pf_shared_rate, v->pf_refused_rate, v->pf_nomem_rate, v->calls_rate);
	if (v->cache_hit_ratio < 0)
		printf("Cache: %u blocks, %lluK, hit ratio -", v->cache.blocks,
		       vt_kib(v->cache.pages, ps));
	else
		printf("Cache: %u blocks, %lluK, hit ratio %.1f%%", v->cache.blocks,
		       vt_kib(v->cache.pages, ps), 100 * v->cache_hit_ratio);
	if (v->have_sanity)
		printf("; sanity: %u checks, %u findings in the last, %llu since boot\n",
		       v->sanity.runs, v->sanity.last_findings,
		       (unsigned long long)v->sanity.total_findings);
	else
		printf("; sanity: -\n");
	printf("Processes: %zu\n\n", v->nprocs);
}

static void print_table(const struct vt_sample *v, enum vt_colid sort)
{
	const struct vt_proc **order = malloc((v->nprocs ? v->nprocs : 1) * sizeof(*order));
	char cell[64];

	if (order == NULL)
		return;
	for (size_t i = 0; i < v->nprocs; i++)
		order[i] = &v->procs[i];
	vt_sort(order, v->nprocs, sort, false);
	for (int c = 0; c < C_NCOLS; c++)
		printf(c ? " %*s" : "%*s",
		       vt_columns[c].left ? -vt_columns[c].width : vt_columns[c].width,
		       vt_columns[c].title);
	printf("\n");
	for (size_t i = 0; i < v->nprocs; i++) {
		for (int c = 0; c < C_NCOLS; c++) {
			vt_cell(order[i], c, v->page_size, cell, sizeof(cell));
			printf(c ? " %*s" : "%*s",
			       vt_columns[c].left ? -vt_columns[c].width : vt_columns[c].width,
			       cell);
		}
		printf("\n");
	}
	free(order);
}

int batch_run(struct sampler *s, const struct vmtop_opts *o)
{
	enum vt_colid sort = o->sort ? (enum vt_colid)vt_column_by_key(o->sort) : C_RSS;

	for (long i = 0; i < o->count; i++) {
		const struct vt_sample *v;
		if (i > 0)
			sleep_s(o->delay);
		enum vt_state st = sampler_take(s, &v);
		if (st != VT_CONNECTED) {
			fprintf(stderr, "vmtop: %s\n", sampler_error(s));
			return 1;
		}
		if (i > 0)
			printf("\n");
		print_header(v, sampler_target(s));
		print_table(v, sort);
		fflush(stdout);
	}
	return 0;
}
