/* Per-process VM state (MINIX's struct vmproc). */
#ifndef VM_VMPROC_H
#define VM_VMPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <vmscope/ipc.h>

#include "avl.h"
#include "pagetable.h"
#include "radix.h"

#define VMF_INUSE 0x1 /* slot holds a process */
#define VMF_PRIV 0x2  /* system process: privileged calls allowed */
/* Its address space is going away whole (map_exit_proc): its PTEs are
 * left for pt_free instead of being cleared page by page. */
#define VMF_EXITING 0x4

struct cached_block;
struct grant_table;

struct vmproc {
	uint32_t vm_flags; /* VMF_* */
	endpoint_t vm_endpoint;
	char vm_name[VM_PROC_NAME_LEN];
	struct pt vm_pt;                 /* page directory */
	struct avl_tree vm_regions_avl;  /* struct vir_region by start address */
	struct radix vm_pages;           /* virtual page number -> struct phys_region */
	vir_bytes vm_brk_base;           /* where the heap starts */
	vir_bytes vm_brk;                /* current break */
	uint32_t vm_virtual;             /* pages mapped by regions */
	uint32_t vm_minflt;              /* page faults resolved */
	uint32_t vm_shared;              /* resident pages other shared mappings map too */
	uint32_t vm_cow;                 /* resident private pages shared copy-on-write */
	uint32_t vm_pss_1k;              /* proportional set: 1/mappings a page, in 1/1024 pages */
	struct cached_block *vm_yielded; /* blocks this process yielded */
	struct grant_table *vm_grants;   /* grants it made (NULL: none yet) */
};

/* The process for endpoint ep: VM_OK and *vmp, EINVAL for an endpoint that
 * cannot name a process, ESRCH for one that is not (or no longer) alive. */
int vm_isokendpt(endpoint_t ep, struct vmproc **vmp);

/* Resident pages of vmp. */
static inline uint32_t vmproc_resident(const struct vmproc *vmp)
{
	return vmp->vm_pages.count;
}

#endif
