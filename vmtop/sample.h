/*
 * vmtop's data: one sample of VM per refresh, taken through libvminfo,
 * with rates and changes against the previous sample. The sampler owns
 * the connection: it connects on first use, and after VM went away it
 * reconnects on the next sampler_take, so the screen can say
 * "disconnected, retrying" and carry on.
 */
#ifndef VMTOP_SAMPLE_H
#define VMTOP_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vmscope/vminfo.h>

/* Columns of the process table whose change since the last sample is
 * shown (vt_proc.changed has a bit per column). */
enum vt_col {
	VT_COL_RESIDENT,
	VT_COL_PSS,
	VT_COL_SHARED,
	VT_COL_COW,
	VT_COL_VIRTUAL,
	VT_COL_REGIONS,
	VT_COL_FAULTS,
	VT_NCOLS
};

struct vt_proc {
	struct vmi_proc p; /* as VM reports it */
	double flt_rate;   /* faults resolved per second since the last sample */
	bool is_new;       /* not in the last sample (a new process) */
	uint32_t changed;  /* 1u << VT_COL_* for each column that changed */
};

/* Physical memory by owner, in pages: the segments of the header's bar.
 * private + shared + cache + slab + pagetables + free = total (the page
 * pool); vm, VM's fixed metadata, is taken before the pool. */
struct vt_memory {
	uint32_t total; /* the page pool */
	uint32_t free;
	uint32_t private_;   /* frames one process maps (anonymous, private) */
	uint32_t shared;     /* frames mapped more than once (shared memory, copy-on-write) */
	uint32_t cache;      /* frames only the cache holds (the rest of the pool) */
	uint32_t slab;       /* VM's objects */
	uint32_t pagetables; /* page directories and tables */
	uint32_t vm;         /* VM's fixed metadata (outside the pool) */
};

struct vt_sample {
	double time;     /* CLOCK_MONOTONIC, seconds */
	double interval; /* since the last sample; 0 in the first */
	uint32_t page_size;
	struct vmi_stats stats;
	struct vmi_cache cache;
	struct vmi_sanity sanity;
	bool have_sanity;
	struct vt_memory mem;
	struct vmi_slab *slab; /* by size */
	size_t nslab;
	struct vt_proc *procs; /* in VM's order (by slot) */
	size_t nprocs;
	/* Per second since the last sample (0 in the first). */
	double pf_zerofill_rate, pf_cowcopy_rate, pf_cowreuse_rate, pf_shared_rate;
	double pf_refused_rate, pf_nomem_rate, faults_rate, calls_rate;
	double cache_hit_ratio; /* hits / (hits + misses) since boot; < 0: none asked yet */
};

enum vt_state {
	VT_CONNECTED,        /* *out is a fresh sample */
	VT_DISCONNECTED,     /* VM is not there (or went away): try again later */
	VT_VERSION_MISMATCH, /* VM speaks another protocol version: give up */
};

struct sampler;

/* A sampler for the server at socket_path (NULL: vminfo_default_path). */
struct sampler *sampler_new(const char *socket_path, int timeout_ms);
void sampler_free(struct sampler *s);

/* Take a sample, (re)connecting first if needed. On VT_CONNECTED *out is
 * valid until the next sampler_take; otherwise sampler_error() says why
 * and the last good sample is kept for the next rates. */
enum vt_state sampler_take(struct sampler *s, const struct vt_sample **out);

/* The last error, for the user (one line). */
const char *sampler_error(const struct sampler *s);

/* The socket path. */
const char *sampler_target(const struct sampler *s);

/* A process's regions, and the resident pages of its region at addr,
 * asked now; the caller frees *out. 0, or -1 (sampler_error says why;
 * the connection is dropped when VM went away). */
int sampler_regions(struct sampler *s, int32_t ep, struct vmi_region **out, size_t *n);
int sampler_pages(struct sampler *s, int32_t ep, uint32_t addr, struct vmi_page **out, size_t *n);

#endif
