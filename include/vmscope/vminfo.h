/*
 * The debug call: VM_INFO and its wire protocol (docs/debug-call.md).
 *
 * A client sends a request (header + request payload) and gets a reply
 * (header + reply payload). The machine's kernel carries them: it turns a
 * request into a VM_INFO message (subcall, arguments, and a buffer in the
 * kernel's memory, by physical address) and sends back the bytes VM wrote
 * there. Both machines carry the same bytes: the hosted one on a Unix
 * socket, the i386 one on a serial port. Every field is little-endian and
 * fixed-width; structures have no padding. A client refuses a version it
 * does not know.
 */
#ifndef VMSCOPE_VMINFO_H
#define VMSCOPE_VMINFO_H

#include <stdint.h>

#define VMI_MAGIC 0x4E494D56u /* "VMIN" */
#define VMI_VERSION 1
#define VMI_MAX_PAYLOAD 65536 /* either direction */

/* Subcalls. */
enum vmi_subcall {
	VMI_STATS = 1,    /* struct vmi_stats */
	VMI_PROCS = 2,    /* struct vmi_list of struct vmi_proc */
	VMI_REGIONS = 3,  /* struct vmi_list of struct vmi_region */
	VMI_PAGES = 4,    /* struct vmi_list of struct vmi_page */
	VMI_CACHE = 5,    /* struct vmi_cache */
	VMI_SLAB = 6,     /* struct vmi_list of struct vmi_slab */
	VMI_GRANTS = 7,   /* struct vmi_list of struct vmi_grant */
	VMI_SANITY = 8,   /* struct vmi_sanity */
	VMI_FINDINGS = 9, /* struct vmi_list of struct vmi_finding: the last check's */
	VMI_NSUBCALLS
};

/* Every request and reply starts with this. */
struct vmi_header {
	uint32_t magic;   /* VMI_MAGIC */
	uint16_t version; /* VMI_VERSION */
	uint16_t subcall; /* enum vmi_subcall */
	uint32_t status;  /* reply: 0 or an errno (include/vmscope/errno.h) */
	uint32_t seq;     /* the client's; echoed in the reply */
	uint32_t len;     /* payload bytes that follow */
};

/* Request payload (all subcalls; unused fields are 0). */
struct vmi_request {
	int32_t endpoint; /* REGIONS, PAGES, GRANTS: the process */
	uint32_t cursor;  /* where a paginated list goes on (0: start) */
	uint32_t addr;    /* PAGES: an address in the region */
	uint32_t flags;   /* SANITY: VMI_SANITY_RUN runs the check now */
};

#define VMI_SANITY_RUN 0x1

/* A paginated list: count entries of the subcall's type follow. When
 * more is set, ask again with cursor = next for the rest. */
struct vmi_list {
	uint32_t count;
	uint32_t entry_size; /* sizeof each entry, for forward compatibility */
	uint32_t more;
	uint32_t next;
};

#define VMI_NCALLS 49 /* call numbers VM_RQ_BASE .. VM_RQ_LAST */

struct vmi_stats {
	uint32_t page_size;
	uint32_t pages_total; /* in the page pool */
	uint32_t pages_free;
	uint32_t largest_free;     /* longest run of free pages */
	uint32_t pages_cached;     /* held by the cache */
	uint32_t pages_slab;       /* VM's objects */
	uint32_t pages_pagetables; /* page directories and tables */
	uint32_t pages_vm;         /* VM's own metadata (allocator, maps) */
	uint32_t nprocs;
	uint32_t grants; /* live grants */
	/* Counters since boot. Page faults by how they were resolved: */
	uint64_t pf_zerofill; /* a fresh zeroed page */
	uint64_t pf_cowcopy;  /* copy-on-write: copied */
	uint64_t pf_cowreuse; /* copy-on-write: the page was private again */
	uint64_t pf_shared;   /* shared memory: a page mapped that existed */
	uint64_t pf_refused;  /* SIGSEGV */
	uint64_t pf_nomem;    /* no memory (SIGBUS) */
	uint64_t spawns, forks, execs, exits;
	uint64_t evictions;         /* cache blocks forgotten under pressure */
	uint64_t bad_calls;         /* unknown call or caller */
	uint64_t calls[VMI_NCALLS]; /* by call number - VM_RQ_BASE */
	/* Appended later (version 1 still): an older server's reply ends
	 * before here, and libvminfo reads the missing fields as 0. */
	uint64_t forged; /* of bad_calls: from a source that may not make the call */
};

/* The size of struct vmi_stats before fields were appended to it. */
#define VMI_STATS_V1_SIZE (sizeof(struct vmi_stats) - sizeof(uint64_t))

struct vmi_proc {
	int32_t endpoint;
	char name[16];
	uint32_t flags;         /* 0x2: privileged */
	uint32_t resident;      /* pages present */
	uint32_t shared;        /* of those, shared through shared memory */
	uint32_t cow;           /* of those, shared copy-on-write */
	uint32_t virtual_pages; /* mapped */
	uint32_t regions;
	uint32_t minflt; /* page faults resolved */
	uint32_t brk;
	uint32_t pss_1k;       /* proportional set: sum of 1/refs per page, in 1/1024 pages */
	uint32_t cache_blocks; /* blocks it has in the cache */
	uint32_t grants;       /* grants it made */
};

/* vmi_region.flags: VM's region flags (vm/region.h's VR_*, which must
 * equal these). */
#define VMI_VR_READ 0x001
#define VMI_VR_WRITE 0x002
#define VMI_VR_EXEC 0x004
#define VMI_VR_SHARED 0x010 /* stays shared across fork */
#define VMI_VR_UNINITIALIZED 0x020
#define VMI_VR_LOWER16MB 0x040
#define VMI_VR_CONTIG 0x080
#define VMI_VR_PREALLOC 0x100
#define VMI_VR_HEAP 0x200    /* made by brk */
#define VMI_VR_SAFEMAP 0x400 /* mapped through a grant */

struct vmi_region {
	uint32_t start;
	uint32_t length;
	uint32_t flags;   /* VR_* (vm/region.h), the low 3 bits are r, w, x */
	uint32_t memtype; /* 1 anon, 2 contig, 3 phys, 4 shared */
	uint32_t resident;
	uint32_t shared; /* resident pages other shared mappings also map */
	uint32_t cow;    /* resident pages shared copy-on-write */
	uint32_t grant;  /* VR_SAFEMAP: the grant id */
};

struct vmi_page {
	uint32_t vaddr;
	uint32_t phys;
	uint32_t refcount; /* mappings + cache references */
	uint32_t cacheref;
	uint32_t pte; /* the i386 PTE as VM wrote it (A/D as the MMU set them) */
};

struct vmi_cache {
	uint32_t blocks;
	uint32_t pages;
	uint64_t yields, hits, misses, evictions, forgets;
};

struct vmi_slab {
	uint32_t size; /* object size */
	uint32_t pages;
	uint32_t objects; /* room in those pages */
	uint32_t inuse;
};

struct vmi_grant {
	uint32_t id;
	int32_t granter;
	int32_t grantee; /* -3: VM itself (the data store) */
	uint32_t addr;
	uint32_t len;
	uint32_t access; /* VM_GRANT_READ | VM_GRANT_WRITE */
	uint32_t mapped; /* regions mapped through it (every process) */
};

struct vmi_sanity {
	uint32_t runs;          /* checks since boot */
	uint32_t last_findings; /* of the last one */
	uint64_t last_call;     /* calls handled when it ran */
	uint64_t total_findings;
};

/* One finding of the last check (the first VMI_MAX_FINDINGS of them), as
 * VM printed it (docs/sanity.md). Strings are NUL-terminated. */
#define VMI_MAX_FINDINGS 32
struct vmi_finding {
	uint32_t kind;      /* VM's finding kind number; kind_name names it */
	uint32_t frame;     /* the frame concerned; 0xFFFFFFFF: none */
	char kind_name[24]; /* "leak", "overlap", "double free", ... */
	char text[160];     /* the report line after "sanity: KIND: " */
	char alloc[112];    /* where the memory was allocated (VM_SANITY build), or "" */
	char freed[112];    /* where it was freed, if it is free, or "" */
};

_Static_assert(sizeof(struct vmi_header) == 20, "vmi_header layout");
_Static_assert(sizeof(struct vmi_request) == 16, "vmi_request layout");
_Static_assert(sizeof(struct vmi_list) == 16, "vmi_list layout");
_Static_assert(sizeof(struct vmi_stats) == 40 + 12 * 8 + VMI_NCALLS * 8 + 8, "vmi_stats layout");
_Static_assert(VMI_STATS_V1_SIZE == 40 + 12 * 8 + VMI_NCALLS * 8, "vmi_stats v1 layout");
_Static_assert(sizeof(struct vmi_proc) == 64, "vmi_proc layout");
_Static_assert(sizeof(struct vmi_region) == 32, "vmi_region layout");
_Static_assert(sizeof(struct vmi_page) == 20, "vmi_page layout");
_Static_assert(sizeof(struct vmi_cache) == 48, "vmi_cache layout");
_Static_assert(sizeof(struct vmi_slab) == 16, "vmi_slab layout");
_Static_assert(sizeof(struct vmi_grant) == 28, "vmi_grant layout");
_Static_assert(sizeof(struct vmi_sanity) == 24, "vmi_sanity layout");
_Static_assert(sizeof(struct vmi_finding) == 416, "vmi_finding layout");

#endif
