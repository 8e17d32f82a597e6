/*
 * Allocation sites: where a page or a slab object came from. Every call
 * VM serves sets the context (which call, for whom); an allocation or a
 * free records the context with the source line that made it. Records are
 * kept only in the VM_SANITY build (they cost 2 records a frame and an
 * object); the other builds pass the line along and drop it.
 */
#ifndef SANITY_SITE_H
#define SANITY_SITE_H

#include <stddef.h>
#include <stdint.h>
#include <vmscope/types.h>

#define SITE_STR_(x) #x
#define SITE_STR(x) SITE_STR_(x)
/* The source line here, as one string: "vm/region.c:123" (the build maps
 * the source directory away from __FILE__). */
#define VM_HERE __FILE__ ":" SITE_STR(__LINE__)

/* The call VM is serving. */
struct site_ctx {
	uint32_t seq;   /* calls served before this one + 1; 0 at boot */
	uint16_t call;  /* call number, 0 at boot */
	endpoint_t ep;  /* for whom: the caller, or the faulting process */
	vir_bytes addr; /* a page fault's address, else 0 */
};

struct vm_site {
	const char *where; /* VM_HERE of the allocation or free; NULL: none */
	struct site_ctx ctx;
};

/* What happened last to a frame or an object: its allocation, and its
 * free if it is free now (an allocation clears freed). */
struct site_pair {
	struct vm_site alloc;
	struct vm_site freed;
};

extern struct site_ctx site_now;

/* Record here and now into s. */
static inline void site_set(struct vm_site *s, const char *where)
{
	s->where = where;
	s->ctx = site_now;
}

/* Format the site of the line where, here and now (site_format of a
 * site_set): for messages, so that nothing is formatted unless printed. */
char *site_format_here(char *buf, size_t n, const char *where);

/* Name of a call number, for reports ("pagefault"); VM gives it. */
const char *site_call_name(uint16_t call);
/* Name of a live process for reports, or NULL; VM gives it. */
const char *site_proc_name(endpoint_t ep);

/* Format a site: "vm/mem_anon.c:61 (call 123: pagefault by A, ep 0x10002,
 * at 0x40001000)"; "unknown" when none was recorded. Returns buf. */
char *site_format(char *buf, size_t n, const struct vm_site *s);

#endif
