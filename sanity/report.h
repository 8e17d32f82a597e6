/*
 * Findings: every problem the consistency check (or the slab, between
 * checks) finds is reported here, printed in one format (docs/sanity.md)
 *
 *	sanity: KIND: text
 *	sanity:   frame 0x00812000 allocated at vm/mem_anon.c:61 (call ...)
 *
 * and kept in a log that tests and the debug call read: the kind, the
 * frame and the allocation site of the first findings of the last check.
 */
#ifndef SANITY_REPORT_H
#define SANITY_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <vmscope/types.h>

#include "site.h"

enum sanity_kind {
	SK_LEAK,             /* frames neither free nor owned */
	SK_OVERLAP,          /* a frame claimed twice */
	SK_REFCOUNT,         /* refcount against references */
	SK_PTE,              /* a page-table entry against VM's records */
	SK_PAGETABLE,        /* a page directory or table itself */
	SK_REGION,           /* a region or a page record */
	SK_AVL,              /* a region tree's invariants */
	SK_SHARING,          /* sharing groups */
	SK_COUNTER,          /* a counter against what it counts */
	SK_ALLOCATOR,        /* the physical allocator's runs */
	SK_SLAB,             /* a slab header or bitmap */
	SK_DOUBLE_FREE,      /* a slab object freed twice */
	SK_BAD_FREE,         /* a pointer freed that is no slab object */
	SK_WRITE_AFTER_FREE, /* a free slab object was written */
	SK_LOCKED_WRITE,     /* a write to a locked slab object outside USE */
	SK_CACHE,            /* the block cache */
	SK_GRANT,            /* grants */
	SK_OTHER,
	SK_NKINDS
};

#define SANITY_NO_FRAME 0xFFFFFFFFu
#define SANITY_LOG 32 /* findings kept per check */

struct sanity_finding {
	enum sanity_kind kind;
	phys_bytes frame;     /* the frame concerned, or SANITY_NO_FRAME */
	struct vm_site site;  /* where it was allocated (VM_SANITY build) */
	struct vm_site freed; /* where it was freed, if it was */
	char text[160];       /* what was printed after "sanity: KIND: " */
};

/* Name of a kind as it is printed ("double free"). */
const char *sanity_kind_name(enum sanity_kind k);

/* Where frames come from: VM gives the allocator's records (NULL when
 * none are kept). */
const struct site_pair *sanity_frame_sites(phys_bytes frame);

/* Report a finding about frame (or SANITY_NO_FRAME). The frame's sites are
 * printed under it when known. */
void sanity_report(enum sanity_kind kind, phys_bytes frame, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Report a finding about a slab object at frame, with the object's own
 * sites (either may be NULL). */
void sanity_report_sites(enum sanity_kind kind, phys_bytes frame, const struct vm_site *alloc,
			 const struct vm_site *freed, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A check starts: the last check's findings are dropped, and events
 * reported since (a double free, a bad free, a locked write) stay and
 * count as this check's. Other findings reported outside a check (a
 * module's check run on its own) are printed, not kept. */
void sanity_log_begin(void);
void sanity_log_end(void);

/* Forget everything, abort mode included (VM boots). */
void sanity_log_reset(void);

/* Findings since sanity_log_begin (the log holds the first SANITY_LOG). */
uint32_t sanity_log_count(void);
const struct sanity_finding *sanity_log(uint32_t i);

/* Stop VM (sys_abort: a core dump on the hosted machine) at the first
 * finding, after printing it. */
void sanity_set_abort(bool on);
bool sanity_abort_enabled(void);

#endif
