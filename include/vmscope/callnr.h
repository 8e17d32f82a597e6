/*
 * VM call numbers. The numbering is part of the ABI: never renumber, only
 * append. A call the VM does not implement yet is answered with ENOSYS.
 */
#ifndef VMSCOPE_CALLNR_H
#define VMSCOPE_CALLNR_H

#define VM_RQ_BASE 0xC00

/* Calls a process makes for itself (but VM_REMAP: from the kernel). */
#define VM_MMAP (VM_RQ_BASE + 1)
#define VM_MUNMAP (VM_RQ_BASE + 2)
#define VM_BRK (VM_RQ_BASE + 3)
#define VM_REMAP (VM_RQ_BASE + 4)     /* share a region of one process with another */
#define VM_SHM_UNMAP (VM_RQ_BASE + 5) /* m_munmap.addr: start of a remapped region */
#define VM_YIELDBLOCKGETBLOCK (VM_RQ_BASE + 6)
#define VM_FORGETBLOCK (VM_RQ_BASE + 7)
#define VM_FORGETBLOCKS (VM_RQ_BASE + 8)

/* Memory grants (m_grant, m_safecopy, m_safemap). */
#define VM_GRANT (VM_RQ_BASE + 9)       /* make a grant; id in reply */
#define VM_REVOKE (VM_RQ_BASE + 10)     /* granter revokes a grant */
#define VM_SAFECOPY (VM_RQ_BASE + 11)   /* grantee copies to/from a grant */
#define VM_SAFEMAP (VM_RQ_BASE + 12)    /* grantee maps granted pages */
#define VM_SAFEREVMAP (VM_RQ_BASE + 13) /* granter undoes a grant's mappings */

#define VM_GRANT_READ 0x1
#define VM_GRANT_WRITE 0x2
#define VM_SAFECOPY_TO 1   /* caller's memory into the grant */
#define VM_SAFECOPY_FROM 2 /* the grant into the caller's memory */
#define VM_SAFEMAP_RO 0x1

/*
 * The data store (m_ds): named entries of three types. A label is an
 * endpoint. A memory range is copied (through a grant to VM_PROC_NR) when
 * published and copied out (through a grant to VM_PROC_NR the retriever
 * makes) when retrieved. A mapped range is shared: retrieving it safemaps
 * the publisher's grant into the retriever. Subscribers to a name (or a
 * prefix ending in '*') are told, through VM_DS_CHECK, when an entry goes.
 */
#define VM_DS_LABEL 1
#define VM_DS_MEM 2
#define VM_DS_MAP 3
#define VM_DS_MAXMEM 1024 /* bytes of a memory range */
#define VM_DS_PUBLISH (VM_RQ_BASE + 40)
#define VM_DS_RETRIEVE (VM_RQ_BASE + 41)
#define VM_DS_DELETE (VM_RQ_BASE + 42)
#define VM_DS_SUBSCRIBE (VM_RQ_BASE + 43)
#define VM_DS_CHECK (VM_RQ_BASE + 44) /* next deletion notice for the caller */

/* Calls from the kernel / process manager about processes. */
#define VM_SPAWN (VM_RQ_BASE + 16) /* new, empty address space */
#define VM_EXIT (VM_RQ_BASE + 17)
#define VM_FORK (VM_RQ_BASE + 18)
#define VM_EXEC (VM_RQ_BASE + 19)
#define VM_PAGEFAULT (VM_RQ_BASE + 20)

/* Introspection. */
#define VM_QUERY (VM_RQ_BASE + 32)  /* one statistic, see VMQ_* */
#define VM_SANITY (VM_RQ_BASE + 33) /* run the consistency check */
#define VM_INFO (VM_RQ_BASE + 34)   /* the debug call */

#define VM_RQ_LAST (VM_RQ_BASE + 48)

/*
 * The cache. VM_YIELDBLOCKGETBLOCK yields the caller's pages at
 * [addr, addr + len) to VM under a 64-bit id (unless the yield id is
 * VM_BLOCKID_NONE; the caller gets fresh zeroed memory there), then gets
 * the block with the get id back into the same place (unless that is
 * VM_BLOCKID_NONE), replacing what is there. Ids are per process.
 */
#define VM_BLOCKID_NONE 0xFFFFFFFFFFFFFFFFull
#define VM_CACHE_MAXPAGES 64 /* largest block */

/* VM_REMAP flags. */
#define VM_REMAP_RO 0x1 /* the shared mapping is read-only */

/*
 * VM_EXEC steps, made by whoever loads an executable (libexec's caller):
 * CLEAR drops every region of the process (the old image is gone), MAP
 * makes [addr, addr + len) fresh zeroed memory with prot (fixed; resident
 * with VM_EXEC_PREALLOC so the loader can copy into it), DONE sets the
 * break. A loader that fails after CLEAR must exit the process.
 */
#define VM_EXEC_CLEAR 1
#define VM_EXEC_MAP 2
#define VM_EXEC_DONE 3
#define VM_EXEC_PREALLOC 0x1 /* MAP: every page resident now */

/* VM_SPAWN flags. */
#define VM_SPAWN_PRIV 0x1 /* a system process: may use privileged calls */

/*
 * VM_QUERY subcalls. Machine-wide ones ignore the endpoint. VMQ_REGION
 * returns region number `index` of the process in address order:
 * val[0] start, val[1] length, val[2] VM_PROT_*, val[3] VR_* flags,
 * val[4] mem type id, val[5] resident pages; ESRCH past the last region.
 */
enum vm_query {
	VMQ_FREE = 1, /* free pages */
	VMQ_TOTAL,    /* pages in the page pool */
	VMQ_LARGEST,  /* largest run of free pages */
	VMQ_CACHED,   /* pages held by the cache */
	VMQ_RESIDENT, /* pages the process has present */
	VMQ_SHARED,   /* of those, shared through shared memory */
	VMQ_COW,      /* of those, shared copy-on-write */
	VMQ_VIRTUAL,  /* pages mapped */
	VMQ_REGIONS,  /* number of regions */
	VMQ_MINFLT,   /* page faults resolved */
	VMQ_BRK,      /* current break */
	VMQ_REGION,   /* one region, see above */
};

#endif
