/*
 * i386 two-level page tables, written by VM into physical memory.
 */
#ifndef VM_PAGETABLE_H
#define VM_PAGETABLE_H

#include <stdint.h>
#include <vmscope/ipc.h>
#include <vmscope/types.h>

/* i386 PDE/PTE bits. */
#define I386_VM_PRESENT 0x001
#define I386_VM_WRITE 0x002
#define I386_VM_USER 0x004
#define I386_VM_PWT 0x008
#define I386_VM_PCD 0x010
#define I386_VM_ACC 0x020
#define I386_VM_DIRTY 0x040
#define I386_VM_BIGPAGE 0x080 /* PS, in a PDE */
#define I386_VM_GLOBAL 0x100
#define I386_VM_ADDR_MASK 0xFFFFF000u
#define I386_VM_PT_ENTRIES 1024
#define I386_BIG_PAGE_SIZE (4u << 20)

#define I386_VM_PDE(v) ((v) >> 22)
#define I386_VM_PTE(v) (((v) >> 12) & 0x3FF)

/* A process's page directory. Page tables are found through it. */
struct pt {
	phys_bytes pt_dir_phys;
	uint32_t *pt_dir; /* VM's view of it (direct map) */
	endpoint_t pt_ep; /* whose TLB to flush */
	uint32_t pt_npt;  /* page tables allocated */
};

/* How pt_writemap treats an entry. */
enum wmf {
	WMF_OVERWRITE = 1,  /* map phys there, whatever was there */
	WMF_WRITEFLAGSONLY, /* keep the frame, set the flags */
};

/* Ask the kernel to flush the TLB of every address space whose present
 * entries changed since the last call (VM does this after each call). */
void pt_flush_pending(void);

/* Set up the kernel's global mappings (once per boot). */
void pt_init(void);

/* A new address space for ep with only the kernel mapped. Returns VM_OK or
 * ENOMEM. */
int pt_new(struct pt *pt, endpoint_t ep);

/* Free every page table and the directory. */
void pt_free(struct pt *pt);

/* Make sure page tables exist for [v, v + bytes). VM_OK or ENOMEM (any
 * tables already made stay; they are freed with the address space). */
int pt_ptalloc_in_range(struct pt *pt, vir_bytes v, vir_bytes bytes);

/* Which page tables exist: taken before a call that may fail half-way. */
struct pt_snapshot {
	uint32_t present[I386_VM_PT_ENTRIES / 32];
};

/* Record which page tables covering [v, v + bytes) pt has now. */
void pt_snapshot(const struct pt *pt, vir_bytes v, vir_bytes bytes, struct pt_snapshot *snap);

/* Free the page tables covering [v, v + bytes) that were made after snap
 * (taken of the same range) and map nothing, so that a failed call leaves no page tables behind. */
void pt_free_new_empty(struct pt *pt, const struct pt_snapshot *snap, vir_bytes v, vir_bytes bytes);

/* Write PTEs for [v, v + bytes) -> [p, ...) with flags (I386_VM_*; 0 to
 * unmap). Page tables must exist unless unmapping. When a present entry
 * changes, the TLB flush is queued (pt_flush_pending). Returns VM_OK or ENOMEM (no table could be
 * made). */
int pt_writemap(struct pt *pt, vir_bytes v, phys_bytes p, vir_bytes bytes, uint32_t flags,
		enum wmf how);

/* The PTE for v (0 when there is no page table). */
uint32_t pt_lookup(const struct pt *pt, vir_bytes v);

/* Calls cb for each present user PTE (in address order). */
void pt_walk(const struct pt *pt, void (*cb)(vir_bytes v, uint32_t pte, void *arg), void *arg);

/* Calls cb for the directory and each page table frame. */
void pt_frames(const struct pt *pt, void (*cb)(phys_bytes frame, int is_dir, void *arg), void *arg);

/* Findings in pt's kernel mappings and page-table entries (printed). */
uint32_t pt_sanitycheck(const struct pt *pt, const char *who);

#endif
