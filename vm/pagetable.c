/*
 * i386 page tables.
 *
 * Each process has a page directory; page tables are allocated the first
 * time something is mapped in their 4 MB and kept until the process exits
 * (as MINIX does), which keeps unmapping free of allocation. The kernel is
 * mapped in every directory with 4 MB global supervisor pages, the same
 * entries copied from one template. PDEs for user page tables allow
 * everything (present, writable, user); the PTE decides.
 */
#include <string.h>
#include <vmscope/kernel.h>

#include "../sanity/report.h"
#include "alloc.h"
#include "glo.h"
#include "pagetable.h"
#include "util.h"

static uint32_t kern_pde_first, kern_pde_count;

/*
 * TLB flushes are batched: a call that rewrites many entries (fork, a
 * large munmap) asks the kernel once per address space, when the call is
 * done (pt_flush_pending, before the kernel resumes anybody).
 */
#define FLUSH_QUEUE 8
static endpoint_t flush_queue[FLUSH_QUEUE];
static unsigned nflush;
static bool flush_everyone;

static void queue_flush(const struct pt *pt)
{
	for (unsigned i = 0; i < nflush; i++)
		if (flush_queue[i] == pt->pt_ep)
			return;
	if (nflush < FLUSH_QUEUE)
		flush_queue[nflush++] = pt->pt_ep;
	else
		flush_everyone = true;
}

void pt_flush_pending(void)
{
	if (flush_everyone) {
		for (int i = 0; i < VM_NR_PROCS; i++)
			if (vmproc[i].vm_flags & VMF_INUSE)
				sys_vmctl(vmproc[i].vm_endpoint, VMCTL_FLUSHTLB, 0);
	} else {
		/* An address space freed meanwhile is simply not there any more. */
		for (unsigned i = 0; i < nflush; i++)
			sys_vmctl(flush_queue[i], VMCTL_FLUSHTLB, 0);
	}
	nflush = 0;
	flush_everyone = false;
}

void pt_init(void)
{
	nflush = 0;
	flush_everyone = false;
	kern_pde_first = I386_VM_PDE(vm_kinfo.kern_vaddr);
	kern_pde_count = vm_kinfo.kern_len / I386_BIG_PAGE_SIZE;
}

static uint32_t kern_pde(uint32_t i)
{
	return (vm_kinfo.kern_paddr + (i - kern_pde_first) * I386_BIG_PAGE_SIZE) | I386_VM_PRESENT |
	       I386_VM_WRITE | I386_VM_BIGPAGE | I386_VM_GLOBAL;
}

static bool is_kern_pde(uint32_t i)
{
	return i >= kern_pde_first && i - kern_pde_first < kern_pde_count;
}

int pt_new(struct pt *pt, endpoint_t ep)
{
	phys_bytes dir = alloc_mem(1, PAF_CLEAR);
	if (dir == NO_MEM)
		return ENOMEM;
	pt->pt_dir_phys = dir;
	pt->pt_dir = sys_directmap(dir);
	pt->pt_ep = ep;
	pt->pt_npt = 0;
	vm_stats.pagetables++;
	for (uint32_t i = kern_pde_first; i < kern_pde_first + kern_pde_count; i++)
		pt->pt_dir[i] = kern_pde(i);
	return VM_OK;
}

void pt_free(struct pt *pt)
{
	for (uint32_t i = 0; i < I386_VM_PT_ENTRIES; i++) {
		uint32_t pde = pt->pt_dir[i];
		if ((pde & I386_VM_PRESENT) && !is_kern_pde(i)) {
			free_mem(pde & I386_VM_ADDR_MASK, 1);
			pt->pt_npt--;
			vm_stats.pagetables--;
		}
	}
	free_mem(pt->pt_dir_phys, 1);
	vm_stats.pagetables--;
	pt->pt_dir = NULL;
	pt->pt_dir_phys = 0;
}

int pt_ptalloc_in_range(struct pt *pt, vir_bytes v, vir_bytes bytes)
{
	if (bytes == 0)
		return VM_OK;
	/* Within one table that is there already: nothing to do. */
	uint32_t pde = pt->pt_dir[I386_VM_PDE(v)];
	if (I386_VM_PDE(v) == I386_VM_PDE(v + bytes - 1) &&
	    (pde & (I386_VM_PRESENT | I386_VM_BIGPAGE)) == I386_VM_PRESENT &&
	    !is_kern_pde(I386_VM_PDE(v)))
		return VM_OK;
	uint32_t last = I386_VM_PDE(v + bytes - 1);
	for (uint32_t i = I386_VM_PDE(v); i <= last; i++) {
		if (is_kern_pde(i))
			panic("%s: mapping 0x%x+0x%x into the kernel's PDE %u", __func__, v, bytes,
			      i);
		if (pt->pt_dir[i] & I386_VM_PRESENT)
			continue;
		phys_bytes t = alloc_mem(1, PAF_CLEAR);
		if (t == NO_MEM)
			return ENOMEM;
		pt->pt_dir[i] = t | I386_VM_PRESENT | I386_VM_WRITE | I386_VM_USER;
		pt->pt_npt++;
		vm_stats.pagetables++;
	}
	return VM_OK;
}

void pt_snapshot(const struct pt *pt, vir_bytes v, vir_bytes bytes, struct pt_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	if (bytes == 0)
		return;
	for (uint32_t i = I386_VM_PDE(v); i <= I386_VM_PDE(v + bytes - 1); i++)
		if (pt->pt_dir[i] & I386_VM_PRESENT)
			snap->present[i / 32] |= 1u << (i % 32);
}

void pt_free_new_empty(struct pt *pt, const struct pt_snapshot *snap, vir_bytes v, vir_bytes bytes)
{
	bool flush = false;

	if (bytes == 0)
		return;
	uint32_t last = I386_VM_PDE(v + bytes - 1);
	for (uint32_t i = I386_VM_PDE(v); i <= last; i++) {
		uint32_t pde = pt->pt_dir[i];
		if (!(pde & I386_VM_PRESENT) || is_kern_pde(i) ||
		    (snap->present[i / 32] >> (i % 32)) & 1)
			continue;
		const uint32_t *tab = sys_directmap(pde & I386_VM_ADDR_MASK);
		uint32_t j = 0;
		while (j < I386_VM_PT_ENTRIES && tab[j] == 0)
			j++;
		if (j < I386_VM_PT_ENTRIES)
			continue;
		pt->pt_dir[i] = 0;
		free_mem(pde & I386_VM_ADDR_MASK, 1);
		pt->pt_npt--;
		vm_stats.pagetables--;
		flush = true;
	}
	if (flush)
		queue_flush(pt);
}

static uint32_t *pte_ptr(const struct pt *pt, vir_bytes v)
{
	uint32_t pde = pt->pt_dir[I386_VM_PDE(v)];
	if (!(pde & I386_VM_PRESENT) || (pde & I386_VM_BIGPAGE))
		return NULL;
	uint32_t *tab = sys_directmap(pde & I386_VM_ADDR_MASK);
	return &tab[I386_VM_PTE(v)];
}

/* Write one PTE as pt_writemap says; whether a present entry changed
 * (the TLB may hold it). */
static bool write_pte(uint32_t *e, phys_bytes p, uint32_t flags, enum wmf how)
{
	uint32_t old = *e;
	if (how == WMF_WRITEFLAGSONLY && !(old & I386_VM_PRESENT))
		return false; /* no frame to keep */
	uint32_t frame = how == WMF_WRITEFLAGSONLY ? (old & I386_VM_ADDR_MASK) : p;
	uint32_t val = flags ? (frame | flags) : 0;
	if ((old & ~(I386_VM_ACC | I386_VM_DIRTY)) == val && val != 0)
		return false; /* unchanged: keep the accessed and dirty bits */
	*e = val;
	return (old & I386_VM_PRESENT) != 0;
}

/* pt_writemap over a range, or where the table is not there yet. */
static __attribute__((noinline)) int writemap_range(struct pt *pt, vir_bytes v, phys_bytes p,
						    vir_bytes bytes, uint32_t flags, enum wmf how)
{
	bool flush = false;

	if ((v | p | bytes) & VM_PAGE_MASK)
		panic("%s: unaligned 0x%x -> 0x%x, 0x%x bytes", __func__, v, p, bytes);
	if (flags != 0) {
		int r = pt_ptalloc_in_range(pt, v, bytes);
		if (r != VM_OK)
			return r;
	}
	for (vir_bytes off = 0; off < bytes; off += VM_PAGE_SIZE) {
		uint32_t *e = pte_ptr(pt, v + off);
		if (e == NULL)
			continue; /* unmapping where nothing was ever mapped */
		flush |= write_pte(e, p + off, flags, how);
	}
	if (flush)
		queue_flush(pt);
	return VM_OK;
}

int pt_writemap(struct pt *pt, vir_bytes v, phys_bytes p, vir_bytes bytes, uint32_t flags,
		enum wmf how)
{
	/* One aligned page whose table is there (a fault, fork, exit): no
	 * table loop, and little to save around the call. */
	uint32_t pde = pt->pt_dir[I386_VM_PDE(v)];
	if (bytes == VM_PAGE_SIZE && !((v | p) & VM_PAGE_MASK) &&
	    (pde & (I386_VM_PRESENT | I386_VM_BIGPAGE)) == I386_VM_PRESENT &&
	    !is_kern_pde(I386_VM_PDE(v))) {
		uint32_t *tab = sys_directmap(pde & I386_VM_ADDR_MASK);
		if (write_pte(&tab[I386_VM_PTE(v)], p, flags, how))
			queue_flush(pt);
		return VM_OK;
	}
	return writemap_range(pt, v, p, bytes, flags, how);
}

uint32_t pt_lookup(const struct pt *pt, vir_bytes v)
{
	uint32_t *e = pte_ptr(pt, v);
	return e ? *e : 0;
}

void pt_walk(const struct pt *pt, void (*cb)(vir_bytes v, uint32_t pte, void *arg), void *arg)
{
	for (uint32_t i = 0; i < I386_VM_PT_ENTRIES; i++) {
		uint32_t pde = pt->pt_dir[i];
		/* A table past memory is reported by pt_sanitycheck, not read. */
		if (!(pde & I386_VM_PRESENT) || is_kern_pde(i) ||
		    (pde & I386_VM_ADDR_MASK) >= vm_kinfo.mem_bytes)
			continue;
		uint32_t *tab = sys_directmap(pde & I386_VM_ADDR_MASK);
		for (uint32_t j = 0; j < I386_VM_PT_ENTRIES; j++)
			if (tab[j] & I386_VM_PRESENT)
				cb((i << 22) | (j << 12), tab[j], arg);
	}
}

void pt_frames(const struct pt *pt, void (*cb)(phys_bytes frame, int is_dir, void *arg), void *arg)
{
	cb(pt->pt_dir_phys, 1, arg);
	for (uint32_t i = 0; i < I386_VM_PT_ENTRIES; i++)
		if ((pt->pt_dir[i] & I386_VM_PRESENT) && !is_kern_pde(i))
			cb(pt->pt_dir[i] & I386_VM_ADDR_MASK, 0, arg);
}

uint32_t pt_sanitycheck(const struct pt *pt, const char *who)
{
	uint32_t findings = 0, npt = 0;

	for (uint32_t i = 0; i < I386_VM_PT_ENTRIES; i++) {
		uint32_t pde = pt->pt_dir[i];
		if (is_kern_pde(i)) {
			if ((pde & ~(I386_VM_ACC | I386_VM_DIRTY)) != kern_pde(i)) {
				sanity_report(SK_PAGETABLE, SANITY_NO_FRAME,
					      "%s: kernel PDE %u is 0x%08x, should be 0x%08x", who,
					      i, pde, kern_pde(i));
				findings++;
			}
			continue;
		}
		if (!(pde & I386_VM_PRESENT))
			continue;
		npt++;
		if ((pde & (I386_VM_BIGPAGE | I386_VM_USER | I386_VM_WRITE)) !=
		    (I386_VM_USER | I386_VM_WRITE)) {
			sanity_report(SK_PAGETABLE, pde & I386_VM_ADDR_MASK,
				      "%s: PDE %u is 0x%08x (user page tables are 4K, "
				      "user, writable)",
				      who, i, pde);
			findings++;
		}
		if ((pde & I386_VM_ADDR_MASK) >= vm_kinfo.mem_bytes) {
			sanity_report(SK_PAGETABLE, SANITY_NO_FRAME,
				      "%s: PDE %u points past memory: 0x%08x", who, i, pde);
			findings++;
		}
	}
	if (npt != pt->pt_npt) {
		sanity_report(SK_COUNTER, SANITY_NO_FRAME,
			      "%s: %u page tables present, %u recorded", who, npt, pt->pt_npt);
		findings++;
	}
	return findings;
}
