/*
 * The kernel touching a process's memory with the process's page
 * directory loaded: real loads and stores through the MMU, as a kernel's
 * copyin/copyout. CR0.WP makes the supervisor honour read-only entries;
 * the user bit, which a supervisor access ignores, is checked in software
 * first, so a page the process may not touch is refused as on the hosted
 * machine.
 */
#ifndef I386_UACCESS_H
#define I386_UACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <vmscope/types.h>

#include "cpu.h"
#include "machine.h"

/* p loads or stores len bytes at va on its own behalf; a page fault goes
 * to VM as a VM_PAGEFAULT message and the access is retried when VM
 * resolved it. 0, EFAULT (refused: SIGSEGV), ENOMEM (VM had no memory:
 * SIGBUS), or EIO (VM broke the fault protocol; printed). */
int uaccess_user(struct kproc *p, vir_bytes va, void *buf, size_t len, bool write);

/* The kernel's own access to p's memory (sys_vircopy, sys_memset): no
 * faults delivered; EFAULT if a page is not present or not writable. */
int uaccess_kernel(struct kproc *p, vir_bytes va, void *buf, size_t len, bool write);

/* Physical address of va in p, as its page tables say (EFAULT if none).
 * Sets the accessed bits, as the hardware's walk would. */
int uaccess_translate(struct kproc *p, vir_bytes va, phys_bytes *pa);

/* Hand VM p's page fault at va (error code err, PF_* bits) as a
 * VM_PAGEFAULT message and see what it did: 0 (resolved: retry),
 * EFAULT (refused: SIGSEGV), ENOMEM (SIGBUS) or EIO (printed). */
int uaccess_deliver_fault(struct kproc *p, vir_bytes va, uint32_t err);

/* From trap(): a page fault at addr. True when it was uaccess_copy's
 * (recorded, and the copy made to return -1). */
bool uaccess_fault(struct trapframe *tf, uint32_t addr);

#endif
