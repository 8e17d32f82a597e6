/*
 * The kernel's own address space: every page of RAM mapped at KERN_VBASE
 * by 4 MB global supervisor pages (the same mapping VM puts into every
 * process's page directory from kinfo), nothing else. The kernel and VM
 * run in it; a process's page directory is loaded only while the kernel
 * touches that process's memory (uaccess.c).
 */
#ifndef I386_PAGING_H
#define I386_PAGING_H

#include <stdbool.h>
#include <stdint.h>

/* Build the direct map of ram_bytes (a multiple of 4 MB, at most
 * KERN_MAX_MEM) and load it, leaving the boot page directory. */
void paging_init(uint32_t ram_bytes);

/* Physical address of the kernel's page directory. */
uint32_t paging_kernel_cr3(void);

/* Load page directory cr3 (physical) unless it is loaded already. */
void paging_load(uint32_t cr3);

/* Drop the TLB's non-global entries (a CR3 reload). */
void paging_flush(void);

/* Make the direct map of [pa, pa + len) read-only (ro) or writable
 * again, 4 KB at a time: the 4 MB page holding it is split into a page
 * table first (from a small static pool). 0, or -1 when the pool is out
 * of tables or the range is beyond the direct map. */
int paging_protect(uint32_t pa, uint32_t len, bool ro);

/* Whether a supervisor write fault at va hit the direct map made
 * read-only by paging_protect. */
bool paging_is_protected(uint32_t va);

#endif
