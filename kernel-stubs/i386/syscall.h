/*
 * The system calls of ring-3 processes (numbers and conventions in
 * user/sysnr.h): console output, fork, exec, exit and wait handled by the
 * kernel, mmap, munmap and brk forwarded to VM as the process's own
 * VM_MMAP, VM_MUNMAP and VM_BRK messages.
 */
#ifndef I386_SYSCALL_H
#define I386_SYSCALL_H

#include "proc.h"

/* Carry out the call in p's saved registers: the result goes into its
 * EAX, or p blocks (wait) or ends (exit, a failed exec). */
void syscall_dispatch(struct uproc *p);

#endif
