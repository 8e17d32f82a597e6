/*
 * Memory grants: a process grants another (or VM itself, for the data
 * store) access to a byte range of its memory; the grantee copies through
 * the grant (safecopy) or maps the granted pages (safemap).
 */
#ifndef VM_GRANT_H
#define VM_GRANT_H

#include <stdbool.h>
#include <stdint.h>
#include <vmscope/ipc.h>

#include "vmproc.h"

#define GRANTS_PER_PROC 64
#define SAFECOPY_COW_MIN (16u * 1024) /* copies at least this long map pages */

struct grant {
	bool inuse;
	uint8_t access; /* VM_GRANT_READ | VM_GRANT_WRITE */
	endpoint_t grantee;
	vir_bytes addr;
	vir_bytes len;
};

/* A process's grant table (slab memory, made at its first grant). */
struct grant_table {
	struct grant g[GRANTS_PER_PROC];
	uint32_t count; /* in use */
};

struct grant_stats {
	uint32_t grants; /* live */
	uint64_t made, revoked;
	uint64_t safemaps; /* regions mapped through grants */
	uint64_t safecopies, safecopy_bytes, safecopy_cow_pages;
	uint64_t refused; /* calls refused with EPERM */
};

extern struct grant_stats grant_stats;

/* Forget every grant table (boot). */
void grant_init(void);

/* vmp exits or execs: revoke its grants (undoing their mappings) and free
 * its table. */
void grant_release(struct vmproc *vmp);

/* The grant with id, checked: VM_OK and the granter and grant, or EPERM
 * (no such grant, revoked, or a reused slot's old id). */
int grant_lookup(uint32_t id, struct vmproc **granter, struct grant **g);

/* Copy len bytes from (svmp, sv) to (dvmp, dv) through both page tables,
 * faulting pages in as a process's access would; whole pages of private
 * memory may be shared copy-on-write instead of copied (cow). VM_OK,
 * EFAULT (a page the access may not touch) or ENOMEM. */
int grant_copy(struct vmproc *svmp, vir_bytes sv, struct vmproc *dvmp, vir_bytes dv, vir_bytes len,
	       bool cow);

/* Map [off, off + len) of grant id (granter's memory) into vmp as shared
 * memory (read-only with ro); the address in *addr (a hint on entry).
 * Bypasses the grantee check (the data store uses it for a retriever). */
int grant_map(struct vmproc *vmp, uint32_t id, vir_bytes off, vir_bytes len, bool ro,
	      vir_bytes *addr);

/* Read or write len bytes of vmp's memory at v (VM's own buffer on the
 * other side), faulting pages in as the process's access would. */
int grant_read(struct vmproc *vmp, vir_bytes v, void *buf, vir_bytes len);
int grant_write(struct vmproc *vmp, vir_bytes v, const void *buf, vir_bytes len);

/* The id of entry index of vmp's grant table. */
uint32_t grant_id_of(const struct vmproc *vmp, uint32_t index);

/* Revoke grant id, whoever made it (the data store ends the grants its
 * mapped entries were published with). Nothing if it is gone already. */
void grant_revoke(uint32_t id);

/* Findings in the grant tables (printed). */
uint32_t grant_sanitycheck(void);

#endif
