/*
 * The kernel interface: everything vm/ asks of the machine it runs on.
 * kernel-stubs/hosted/ and kernel-stubs/i386/ both implement it; vm/ calls
 * nothing else outside itself. Calls return VM_OK or a positive errno.
 */
#ifndef VMSCOPE_KERNEL_H
#define VMSCOPE_KERNEL_H

#include <stddef.h>
#include <vmscope/errno.h>
#include <vmscope/ipc.h>
#include <vmscope/types.h>

#define VM_KINFO_MAX_RESERVED 8

enum kinfo_owner {
	KRES_KERNEL = 1, /* the kernel's (and VM's) image and data */
	KRES_DEVICE,     /* device memory (the PC hole): never in the pool */
};

/* A physical range the page pool must not hand out. */
struct kinfo_range {
	phys_bytes base;
	phys_bytes len;
	uint32_t owner; /* enum kinfo_owner */
};

/* What VM learns about the machine at boot. */
struct kinfo {
	phys_bytes mem_bytes;  /* physical memory, a multiple of 4 MB */
	vir_bytes kern_vaddr;  /* kernel mapping: 4 MB global supervisor pages */
	phys_bytes kern_paddr; /* ... of physical memory from here */
	vir_bytes kern_len;    /* ... this long (a multiple of 4 MB) */
	vir_bytes user_lo;     /* lowest address a process may map */
	vir_bytes user_hi;     /* one past the highest */
	vir_bytes brk_base;    /* where a new process's break starts */
	uint32_t nr_reserved;
	struct kinfo_range reserved[VM_KINFO_MAX_RESERVED];
};

/* Fill in *ki. */
int sys_getkinfo(struct kinfo *ki);

/* Pointer through which VM reads and writes physical address p (its direct
 * map of all physical memory). */
void *sys_directmap(phys_bytes p);

enum vmctl_req {
	VMCTL_SETADDRSPACE = 1, /* ep's page directory is at pdir */
	VMCTL_FLUSHTLB,         /* ep's page tables changed */
	VMCTL_CLEAR_PAGEFAULT,  /* ep's page fault is resolved: retry it */
};

/* Tell the kernel about ep's address space. */
int sys_vmctl(endpoint_t ep, enum vmctl_req req, phys_bytes pdir);

enum memset_mode {
	MEMSET_PHYS, /* addr is a physical address; ep is ignored */
	MEMSET_VIR,  /* addr is a virtual address in ep */
};

/* Set len bytes at addr to c. */
int sys_memset(enum memset_mode mode, endpoint_t ep, uint32_t addr, int c, size_t len);

/* Copy len bytes between physical addresses. */
int sys_physcopy(phys_bytes src, phys_bytes dst, size_t len);

/* Copy len bytes from src in process sep to dst in process dep, through
 * their page tables (EFAULT if a page is not present). */
int sys_vircopy(endpoint_t sep, vir_bytes src, endpoint_t dep, vir_bytes dst, size_t len);

/* Physical address that vaddr translates to in ep's page tables. */
int sys_umap(endpoint_t ep, vir_bytes vaddr, phys_bytes *paddr);

#define VM_SIGKILL 9
#define VM_SIGBUS 7   /* a fault VM could not back for lack of memory */
#define VM_SIGSEGV 11 /* an access the process may not make */

/* Send ep signal sig. For a pending page fault, SIGSEGV and SIGBUS refuse
 * the faulting access (the process survives, as with a handler). */
int sys_kill(endpoint_t ep, int sig);

enum protect_mode { PROTECT_RO, PROTECT_RW };

/* Make VM's own view of [p, p+len) read-only or writable again. */
int sys_protect(phys_bytes p, size_t len, enum protect_mode mode);

/* Write text to the machine's diagnostics console. */
void sys_diagprint(const char *s, size_t len);

/* Leave VM's exit path after a panic: a core dump on the hosted machine,
 * a halt on the i386 machine. */
_Noreturn void sys_abort(void);

#endif
