/*
 * The hosted machine: a simulated i386 PC inside a Linux process.
 * Physical memory is one host mapping; processes are entries in a process
 * table; every load and store of a process goes through the software MMU
 * (mmu.c), which walks the page tables VM wrote into that memory.
 */
#ifndef HOSTED_MACHINE_H
#define HOSTED_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vmscope/ipc.h>
#include <vmscope/kernel.h>

#define HOSTED_DEFAULT_MEM (64u << 20)
#define HOSTED_MAX_MEM (1024u << 20) /* all of it under the kernel's 1 GB map */
#define HOSTED_KERN_VADDR 0xC0000000u
#define HOSTED_USER_LO 0x00400000u
#define HOSTED_USER_HI HOSTED_KERN_VADDR
#define HOSTED_BRK_BASE 0x10000000u
#define HOSTED_TLB_SIZE 64

enum hosted_pf { HPF_NONE, HPF_PENDING, HPF_CLEARED };

struct hosted_tlb {
	bool valid;
	bool writable;
	bool dirty; /* D is already set in the PTE */
	uint32_t vpn;
	uint32_t pfn;
};

struct hosted_proc {
	bool inuse;
	bool priv;
	uint32_t gen; /* generation of the slot's last endpoint */
	endpoint_t ep;
	char name[VM_PROC_NAME_LEN];
	phys_bytes cr3; /* page directory, as VM set it */
	enum hosted_pf pf;
	int sig; /* pending signal from VM (0: none) */
	struct hosted_tlb tlb[HOSTED_TLB_SIZE];
};

struct hosted_machine {
	uint8_t *phys; /* physical memory */
	uint32_t mem_bytes;
	struct hosted_proc proc[VM_NR_PROCS];
	uint64_t tlb_flushes;
	uint64_t faults_delivered;
};

extern struct hosted_machine hm;

/* Boot a machine with mem_bytes of memory (a multiple of 4 MB, 4 MB to
 * 1 GB) and VM on it, halting the machine running if any (a machine of the
 * same size keeps its host memory). Returns 0 or an errno (EINVAL: bad
 * size; ENOMEM: the host could not give the memory, or VM could not
 * boot). */
int hosted_boot(uint32_t mem_bytes);

/* Stop the machine and free its memory. */
void hosted_halt(void);

/* VM_SANITY build: catch writes to VM's locked slab pages (lockfault.c).
 * Done at boot; call it again after something else took SIGSEGV. */
void hosted_lockfault_install(void);

/* The process table entry for ep, or NULL if ep is not alive. */
struct hosted_proc *hosted_proc(endpoint_t ep);

/* Create a process (VM gets VM_SPAWN). 0 or an errno. */
int hosted_spawn(const char *name, bool priv, endpoint_t *ep);

/* A copy of parent named name (VM gets VM_FORK). 0 or an errno. */
int hosted_fork(endpoint_t parent, const char *name, endpoint_t *child);

/* Replace ep's image with the i386 ELF executable image[0..len) (exec.c).
 * 0 or an errno: ENOEXEC (nothing changed), ENOMEM; *killed when the old
 * image was gone at the failure and the process was made to exit. */
int hosted_exec(endpoint_t ep, const void *image, size_t len, bool *killed);

/* The process exits (VM gets VM_EXIT). 0 or an errno. */
int hosted_exit(endpoint_t ep);

/* Deliver m to VM; the reply replaces it. Returns the reply's m_type. */
int hosted_call(message *m);

/* ep's VM_MMAP (phys: VM_MAP_PHYS's frame) and VM_MUNMAP, through
 * hosted_call: 0 (and *out, if not NULL, the address) or VM's errno. */
int hosted_mmap(endpoint_t ep, vir_bytes addr, vir_bytes len, uint32_t prot, uint32_t flags,
		phys_bytes phys, vir_bytes *out);
int hosted_munmap(endpoint_t ep, vir_bytes addr, vir_bytes len);

/* Where the kernel keeps the debug call's reply buffer (kernel memory). */
#define HOSTED_INFO_BUF 0x00180000u
#define HOSTED_INFO_BUFLEN 0x00010000u /* VMI_MAX_PAYLOAD */

/* Ask VM for debug-call subcall with req; the reply payload (at most
 * HOSTED_INFO_BUFLEN bytes) is copied to out and its length to *len.
 * Returns 0 or the errno VM answered. */
struct vmi_request;
int hosted_info(uint32_t subcall, const struct vmi_request *req, void *out, uint32_t *len);

/* p loads or stores len bytes at va through the MMU, faults going to VM.
 * 0, EFAULT (refused: SIGSEGV), ENOMEM (VM had no memory: SIGBUS), or EIO
 * (VM broke the fault protocol; printed). */
int mmu_access(struct hosted_proc *p, vir_bytes va, void *buf, size_t len, bool write);

/* The kernel's own access to a process's memory: no faults delivered;
 * EFAULT if a page is not present or not allowed (CR0.WP is on). */
int mmu_kaccess(struct hosted_proc *p, vir_bytes va, void *buf, size_t len, bool write);

/* Physical address of va in p, as the page tables say (EFAULT if none). */
int mmu_translate(struct hosted_proc *p, vir_bytes va, phys_bytes *pa);

/* Forget p's cached translations. */
void mmu_flush(struct hosted_proc *p);

/*
 * For debuggers and tests: GDB calls these (`print mmu_debug_translate(ep,
 * va)`), so they are an oracle independent of the GDB scripts' own page
 * table decoder. They walk ep's page tables with the MMU's own code, but
 * neither use nor change the TLB nor set accessed or dirty bits.
 */

/* mmu_debug_translate's answer when va has no translation. */
#define MMU_DEBUG_NONE UINT64_MAX

/* The physical address of va in ep's address space (a supervisor read,
 * so kernel pages translate too) in the low 32 bits, and the effective
 * I386_VM_PRESENT, _WRITE and _USER bits (page directory and table
 * entries agreeing) in the high 32 bits; MMU_DEBUG_NONE when va is not
 * present, its frame is beyond memory, or ep is not alive. */
__attribute__((used, noinline)) uint64_t mmu_debug_translate(endpoint_t ep, uint32_t va);

/* How many 4 KB pages of ep's user range [HOSTED_USER_LO, HOSTED_USER_HI)
 * a user-mode read would translate (0 when ep is not alive). */
__attribute__((used, noinline)) uint32_t mmu_debug_count(endpoint_t ep);

#endif
