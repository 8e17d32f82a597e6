/*
 * The i386 machine: physical memory as VM sees it, the process table
 * (processes are kernel-side records for now: no ring-3 code runs), and
 * the kernel interface of include/vmscope/kernel.h on real paging.
 *
 * Physical layout, the same as the hosted machine's so that VM's page
 * pool, and so every physical address and out-of-memory point, is the
 * same on both: frame 0 (the real-mode IVT and BIOS data) and 1-2 MB
 * (the kernel image, its .bss and the multiboot modules) are the
 * kernel's, 0xA0000-0xFFFFF is the PC hole (VGA memory and ROMs), the
 * rest of [0, mem_bytes) is VM's pool. When the modules reach past 2 MB
 * the kernel range grows to cover them.
 */
#ifndef I386_MACHINE_H
#define I386_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vmscope/ipc.h>
#include <vmscope/kernel.h>

#define DEVICE_BASE 0xA0000u
#define DEVICE_END 0x100000u
#define KIMAGE_BASE 0x100000u
#define KIMAGE_MIN_END 0x200000u

enum kpf { KPF_NONE, KPF_PENDING, KPF_CLEARED };

struct kproc {
	bool inuse;
	bool priv;
	uint32_t gen; /* generation of the slot's last endpoint */
	endpoint_t ep;
	char name[VM_PROC_NAME_LEN];
	phys_bytes cr3; /* page directory, as VM set it (0: none yet) */
	enum kpf pf;
	int sig; /* signal VM sent during a page fault (0: none) */
};

struct kmachine {
	bool booted;
	uint32_t mem_bytes;  /* what VM manages: [0, mem_bytes) */
	uint32_t kimage_end; /* end of the kernel's reserved range at 1 MB */
	struct kproc proc[VM_NR_PROCS];
	uint64_t faults_delivered;
};

extern struct kmachine km;

/* Note the RAM the machine has (ram_bytes) and the end of the kernel
 * image and modules; called once at boot. */
void machine_setup(uint32_t ram_bytes, uint32_t kimage_end);

/* Boot VM on mem_bytes of memory (a multiple of 4 MB): the pool filled
 * with a garbage pattern, the VGA window zeroed, a fresh process table.
 * 0, EINVAL for a size that is not a multiple of 4 MB or below 4 MB,
 * ENOMEM for more than the machine has, or VM's errno. */
int machine_boot(uint32_t mem_bytes);

/* Forget VM and every process. */
void machine_halt(void);

/* The process table entry for ep, or NULL if ep is not alive. */
struct kproc *machine_proc(endpoint_t ep);

/* Create a process (VM gets VM_SPAWN). 0 or an errno. */
int machine_spawn(const char *name, bool priv, endpoint_t *ep);

/* A copy of parent named name (VM gets VM_FORK). 0 or an errno. */
int machine_fork(endpoint_t parent, const char *name, endpoint_t *child);

/* The process exits (VM gets VM_EXIT). 0 or an errno. */
int machine_exit(endpoint_t ep);

/* Deliver m to VM (in the kernel's address space); the reply replaces it.
 * Returns the reply's m_type, or EIO when VM gave no reply. */
int machine_call(message *m);

#endif
