/* VM's global state. */
#ifndef VM_GLO_H
#define VM_GLO_H

#include <stdint.h>
#include <vmscope/callnr.h>
#include <vmscope/kernel.h>
#include <vmscope/vminfo.h>

#include "vmproc.h"

/* Counters kept as VM works (exported by the debug call). */
struct vm_stats {
	uint32_t pagetables; /* frames holding page directories and tables */
	uint64_t calls[VM_RQ_LAST - VM_RQ_BASE + 1]; /* by call number */
	uint64_t pf_zerofill;                        /* faults that mapped a fresh zeroed page */
	uint64_t pf_cowcopy;                         /* copy-on-write faults that copied */
	uint64_t pf_cowreuse;                        /* copy-on-write faults that kept the page */
	uint64_t pf_shared;  /* faults that mapped a page shared memory had */
	uint64_t pf_refused; /* faults answered with a signal */
	uint64_t pf_nomem;   /* faults refused for lack of memory */
	uint64_t spawns, forks, execs, exits;
	uint64_t bad_calls; /* rejected: unknown call, wrong caller */
	uint64_t forged;    /* of those, from a source that may not make the call */
};

extern struct kinfo vm_kinfo;
extern struct vm_stats vm_stats;
extern struct vmproc vmproc[VM_NR_PROCS];
extern uint32_t vm_sanity_every;           /* check after every n-th call; 0: never */
extern struct vmi_sanity vm_sanity_result; /* the last check's (info.c) */

#endif
