/*
 * Endpoints and the fixed-size message every VM call travels in.
 *
 * An endpoint names a process slot together with a generation that grows
 * each time the slot is reused, so that a message naming a process that has
 * exited (a stale endpoint) is told apart from one naming the slot's new
 * owner, as MINIX's _ENDPOINT() does.
 */
#ifndef VMSCOPE_IPC_H
#define VMSCOPE_IPC_H

#include <vmscope/types.h>

#define VM_NR_PROCS 1024 /* process slots on every machine */
#define VM_ENDPOINT_GEN_SHIFT 10
#define VM_ENDPOINT(gen, slot)                                                                     \
	((endpoint_t)(((uint32_t)(gen) << VM_ENDPOINT_GEN_SHIFT) | (uint32_t)(slot)))
#define VM_ENDPOINT_SLOT(ep) ((int)((uint32_t)(ep) & (VM_NR_PROCS - 1)))
#define VM_ENDPOINT_GEN(ep) ((int)((uint32_t)(ep) >> VM_ENDPOINT_GEN_SHIFT))
#define VM_MAX_GEN ((1 << (31 - VM_ENDPOINT_GEN_SHIFT)) - 1)

/* Endpoints that are not process slots. */
#define KERNEL ((endpoint_t)-2)     /* the machine's kernel (and process manager) */
#define VM_PROC_NR ((endpoint_t)-3) /* VM itself */
#define NONE ((endpoint_t)-4)       /* nobody */

#define VM_PROC_NAME_LEN 16
#define VM_DS_NAME_LEN 16
#define VM_MSG_SIZE 64

/* Page-fault error code bits, as the i386 pushes them. */
#define VM_PF_PROT 0x1  /* the page was present: a protection fault */
#define VM_PF_WRITE 0x2 /* the access was a write */
#define VM_PF_USER 0x4  /* the access came from user mode */

typedef struct {
	endpoint_t m_source; /* sender, filled in by the machine */
	int32_t m_type;      /* call number in a request, result in a reply */
	union {
		uint8_t raw[VM_MSG_SIZE - 8];
		struct {                /* VM_MMAP */
			vir_bytes addr; /* hint or fixed address; result in reply */
			vir_bytes len;
			int32_t prot;    /* VM_PROT_* */
			int32_t flags;   /* VM_MAP_* */
			phys_bytes phys; /* with VM_MAP_PHYS */
		} m_mmap;
		struct { /* VM_MUNMAP, VM_SHM_UNMAP */
			vir_bytes addr;
			vir_bytes len;
		} m_munmap;
		struct {                /* VM_BRK */
			vir_bytes addr; /* new break; current break in reply */
		} m_brk;
		struct { /* VM_SPAWN */
			endpoint_t ep;
			uint32_t flags; /* VM_SPAWN_* */
			char name[VM_PROC_NAME_LEN];
		} m_spawn;
		struct { /* VM_EXIT */
			endpoint_t ep;
		} m_exit;
		struct { /* VM_FORK */
			endpoint_t parent;
			endpoint_t child;
			char name[VM_PROC_NAME_LEN];
		} m_fork;
		struct {                    /* VM_REMAP (from KERNEL) */
			endpoint_t src;     /* whose region */
			vir_bytes src_addr; /* an address inside it */
			endpoint_t dst;     /* who gets the shared mapping */
			vir_bytes dst_addr; /* hint (0: VM chooses); result */
			uint32_t flags;     /* VM_REMAP_* */
		} m_remap;
		struct { /* VM_EXEC (from KERNEL), one step of building an image */
			endpoint_t ep;
			uint32_t op; /* VM_EXEC_* */
			vir_bytes addr;
			vir_bytes len;
			int32_t prot;   /* VM_PROT_* */
			uint32_t flags; /* VM_EXEC_PREALLOC */
			vir_bytes brk;  /* VM_EXEC_DONE: where the break starts */
		} m_exec;
		struct {                             /* VM_YIELDBLOCKGETBLOCK */
			vir_bytes addr;              /* the block's place in the caller */
			vir_bytes len;               /* its length (whole pages) */
			uint32_t yield_lo, yield_hi; /* id to yield under, or none */
			uint32_t get_lo, get_hi;     /* id to get back, or none */
		} m_yb;
		struct { /* VM_FORGETBLOCK */
			uint32_t id_lo, id_hi;
		} m_forget;
		struct {                    /* VM_GRANT, VM_REVOKE, VM_SAFEREVMAP */
			endpoint_t grantee; /* VM_GRANT: who may use it */
			vir_bytes addr;     /* VM_GRANT: the granter's range */
			vir_bytes len;
			uint32_t access; /* VM_GRANT_READ | VM_GRANT_WRITE */
			uint32_t id;     /* result of VM_GRANT, argument of the others */
		} m_grant;
		struct { /* VM_SAFECOPY (from the grantee) */
			uint32_t id;
			vir_bytes off; /* offset in the grant */
			vir_bytes len;
			vir_bytes addr; /* in the caller */
			uint32_t dir;   /* VM_SAFECOPY_TO (into the grant) or _FROM */
		} m_safecopy;
		struct { /* VM_SAFEMAP (from the grantee) */
			uint32_t id;
			vir_bytes off;  /* page-aligned offset in the grant */
			vir_bytes len;  /* page-aligned */
			uint32_t flags; /* VM_SAFEMAP_RO */
			vir_bytes addr; /* hint (0: VM chooses); result */
		} m_safemap;
		struct { /* VM_DS_* */
			char name[VM_DS_NAME_LEN];
			uint32_t type;  /* VM_DS_LABEL, VM_DS_MEM, VM_DS_MAP */
			endpoint_t ep;  /* a label's value */
			uint32_t grant; /* MEM and MAP: a grant to VM_PROC_NR */
			vir_bytes len;
			vir_bytes addr; /* MAP retrieve: result */
			uint32_t flags; /* MAP retrieve: VM_SAFEMAP_RO */
		} m_ds;
		struct {                  /* VM_INFO (from KERNEL), see vminfo.h */
			uint32_t subcall; /* enum vmi_subcall */
			int32_t endpoint; /* struct vmi_request's fields */
			uint32_t cursor;
			uint32_t addr;
			uint32_t flags;
			phys_bytes buf;  /* where VM writes the reply payload: */
			uint32_t buflen; /* kernel memory, at most this long */
			uint32_t len;    /* reply: bytes written */
		} m_info;
		struct { /* VM_PAGEFAULT (from KERNEL) */
			endpoint_t ep;
			vir_bytes addr;
			uint32_t err; /* VM_PF_* */
		} m_pagefault;
		struct {              /* VM_QUERY (from KERNEL) */
			int32_t what; /* VMQ_* */
			endpoint_t ep;
			uint32_t index;
			uint32_t val[8]; /* results */
		} m_query;
		struct {                   /* VM_SANITY (from KERNEL) */
			uint32_t findings; /* result */
		} m_sanity;
	};
} message;

_Static_assert(sizeof(message) == VM_MSG_SIZE, "message must be VM_MSG_SIZE bytes");

#endif
