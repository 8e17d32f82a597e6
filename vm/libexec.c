/*
 * libexec: lay out an executable's segments in a process.
 *
 * Segments are page-rounded; two segments whose pages touch (text ending
 * in the page where data starts, as small linkers make them) share that
 * page, which gets both protections. The pages holding file data are made
 * resident so the caller can copy into them through physical addresses;
 * pure bss pages stay zero-fill on demand, and the part of a file page
 * past the file data is cleared explicitly. The stack (EXEC_STACK_SIZE,
 * zero-fill) ends at user_hi; its top holds argc = 0 and empty argv and
 * envp (the memory is zero).
 */
#include <vmscope/errno.h>
#include <vmscope/mman.h>

#include "libexec.h"

#define PAGE_DOWN(x) ((x) & ~(vir_bytes)VM_PAGE_MASK)
#define PAGE_UP(x) (((x) + VM_PAGE_MASK) & ~(vir_bytes)VM_PAGE_MASK)

/* Page-rounded span of segment s. */
static void span(const struct exec_segment *s, vir_bytes *lo, vir_bytes *hi)
{
	*lo = PAGE_DOWN(s->vaddr);
	*hi = PAGE_UP(s->vaddr + s->memsz);
}

int libexec_check(const struct exec_info *ei)
{
	if (ei->nsegs == 0 || ei->nsegs > EXEC_MAXSEGS ||
	    ei->user_hi - ei->user_lo < EXEC_STACK_SIZE)
		return ENOEXEC;
	vir_bytes stack_lo = ei->user_hi - EXEC_STACK_SIZE;
	for (unsigned i = 0; i < ei->nsegs; i++) {
		const struct exec_segment *s = &ei->segs[i];
		if (s->memsz == 0 || s->filesz > s->memsz || (s->filesz && !s->data) ||
		    s->vaddr < ei->user_lo || s->vaddr > stack_lo ||
		    s->memsz > stack_lo - s->vaddr || (s->prot & ~VM_PROT_ALL))
			return ENOEXEC;
		for (unsigned j = 0; j < i; j++) {
			const struct exec_segment *t = &ei->segs[j];
			/* Byte ranges must not overlap; pages may. */
			if (s->vaddr < t->vaddr + t->memsz && t->vaddr < s->vaddr + s->memsz)
				return ENOEXEC;
		}
	}
	return 0;
}

/* Protection of page-aligned [lo, hi): the union of the segments in it,
 * or -1 when no segment covers it (a gap between segments). */
static int prot_of(const struct exec_info *ei, vir_bytes lo, vir_bytes hi)
{
	int prot = -1;

	for (unsigned i = 0; i < ei->nsegs; i++) {
		vir_bytes a, b;
		span(&ei->segs[i], &a, &b);
		if (a < hi && lo < b)
			prot = (prot < 0 ? 0 : prot) | ei->segs[i].prot;
	}
	return prot;
}

/* Whether any segment has file data in page-aligned [lo, hi). */
static bool has_data(const struct exec_info *ei, vir_bytes lo, vir_bytes hi)
{
	for (unsigned i = 0; i < ei->nsegs; i++) {
		const struct exec_segment *s = &ei->segs[i];
		if (s->filesz && PAGE_DOWN(s->vaddr) < hi && lo < PAGE_UP(s->vaddr + s->filesz))
			return true;
	}
	return false;
}

/*
 * Allocate every page some segment covers, page by page in runs of pages
 * with the same protection and residency: the runs become the regions.
 */
static int allocate(struct exec_info *ei)
{
	vir_bytes lo = ~(vir_bytes)0, hi = 0;

	for (unsigned i = 0; i < ei->nsegs; i++) {
		vir_bytes a, b;
		span(&ei->segs[i], &a, &b);
		lo = a < lo ? a : lo;
		hi = b > hi ? b : hi;
	}
	vir_bytes run = 0, v;
	int run_prot = -1;
	bool run_res = false;
	for (v = lo; v <= hi; v += VM_PAGE_SIZE) {
		int prot = v < hi ? prot_of(ei, v, v + VM_PAGE_SIZE) : -1;
		bool res = v < hi && has_data(ei, v, v + VM_PAGE_SIZE);
		if (v == hi || prot != run_prot || res != run_res) {
			if (run_prot >= 0) { /* not a gap */
				int r = ei->allocmem(ei, run, v - run, run_prot, run_res);
				if (r != 0)
					return r;
			}
			run = v;
			run_prot = prot;
			run_res = res;
		}
		if (v == hi)
			break;
	}
	ei->brk = hi;
	return 0;
}

int libexec_load(struct exec_info *ei)
{
	int r;

	ei->cleared = false;
	if ((r = libexec_check(ei)) != 0)
		return r;
	if ((r = ei->clearproc(ei)) != 0)
		return r;
	ei->cleared = true;
	if ((r = allocate(ei)) != 0)
		return r;
	for (unsigned i = 0; i < ei->nsegs; i++) {
		const struct exec_segment *s = &ei->segs[i];
		if (s->filesz && (r = ei->copymem(ei, s->vaddr, s->data, s->filesz)) != 0)
			return r;
		/* The rest of the last file page is bss: make sure it is zero. */
		vir_bytes end = s->vaddr + s->filesz, bss_end = s->vaddr + s->memsz;
		vir_bytes clear_end = PAGE_UP(end) < bss_end ? PAGE_UP(end) : bss_end;
		if (s->filesz && clear_end > end &&
		    (r = ei->clearmem(ei, end, clear_end - end)) != 0)
			return r;
	}
	vir_bytes stack_lo = ei->user_hi - EXEC_STACK_SIZE;
	if ((r = ei->allocmem(ei, stack_lo, EXEC_STACK_SIZE, VM_PROT_READ | VM_PROT_WRITE,
			      false)) != 0)
		return r;
	ei->stack_top = ei->user_hi - 16; /* argc, argv[0], envp[0]: all zero */
	return ei->finish(ei, ei->brk);
}
