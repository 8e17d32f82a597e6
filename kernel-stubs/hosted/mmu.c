/*
 * The software MMU of the hosted machine.
 *
 * Every access a simulated process makes is translated by walking the i386
 * page directory and page table that VM wrote into physical memory,
 * checking the present, user and write bits of both levels and setting the
 * accessed and dirty bits as the hardware does. A small per-process TLB
 * caches translations until VM flushes it, so a VM that changes a present
 * entry without a flush is caught as it would be on real hardware. A miss
 * or a protection fault becomes a VM_PAGEFAULT message to VM with the
 * i386 error code; VM answers through sys_vmctl (retry) or sys_kill
 * (refuse), and the access is retried or refused.
 */
#include <stdio.h>
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>

#include "../../vm/pagetable.h"
#include "../../vm/vm.h"
#include "machine.h"

#define MAX_RETRIES 4

static uint32_t *phys_word(phys_bytes pa)
{
	return (uint32_t *)(void *)(hm.phys + pa);
}

/* Whether a walk is an access (sets the accessed and dirty bits, as the
 * hardware does) or a debugger's look that leaves memory as it was. */
enum walk_mode {
	WALK_ACCESS,
	WALK_PEEK,
};

/*
 * Walk p's page tables for va. Returns true with *pa set and *perm the
 * effective I386_VM_PRESENT, _WRITE and _USER bits (both levels agreeing),
 * or false with *err the i386 page-fault error code.
 */
static bool walk(struct hosted_proc *p, vir_bytes va, bool write, bool user, enum walk_mode mode,
		 phys_bytes *pa, uint32_t *err, uint32_t *perm)
{
	uint32_t code = (write ? VM_PF_WRITE : 0) | (user ? VM_PF_USER : 0);
	uint32_t *pde = phys_word(p->cr3 + I386_VM_PDE(va) * 4);
	bool touch = mode == WALK_ACCESS;

	if (!(*pde & I386_VM_PRESENT)) {
		*err = code;
		return false;
	}
	if (*pde & I386_VM_BIGPAGE) {
		if ((user && !(*pde & I386_VM_USER)) || (write && !(*pde & I386_VM_WRITE))) {
			*err = code | VM_PF_PROT;
			return false;
		}
		if (touch)
			*pde |= I386_VM_ACC | (write ? I386_VM_DIRTY : 0);
		*pa = (*pde & 0xFFC00000u) | (va & 0x3FFFFFu);
		*perm = *pde & (I386_VM_PRESENT | I386_VM_WRITE | I386_VM_USER);
		return *pa < hm.mem_bytes || (*err = code | VM_PF_PROT, false);
	}
	phys_bytes pt = *pde & I386_VM_ADDR_MASK;
	if (pt >= hm.mem_bytes) {
		*err = code | VM_PF_PROT;
		return false;
	}
	uint32_t *pte = phys_word(pt + I386_VM_PTE(va) * 4);
	if (!(*pte & I386_VM_PRESENT)) {
		*err = code;
		return false;
	}
	uint32_t both = *pde & *pte;
	if ((user && !(both & I386_VM_USER)) || (write && !(both & I386_VM_WRITE))) {
		*err = code | VM_PF_PROT;
		return false;
	}
	if (touch) {
		*pde |= I386_VM_ACC;
		*pte |= I386_VM_ACC | (write ? I386_VM_DIRTY : 0);
	}
	*pa = (*pte & I386_VM_ADDR_MASK) | (va & VM_PAGE_MASK);
	*perm = both & (I386_VM_PRESENT | I386_VM_WRITE | I386_VM_USER);
	if (*pa >= hm.mem_bytes) {
		*err = code | VM_PF_PROT;
		return false;
	}
	return true;
}

void mmu_flush(struct hosted_proc *p)
{
	memset(p->tlb, 0, sizeof(p->tlb));
	hm.tlb_flushes++;
}

/* Translate through the TLB, walking on a miss (user accesses). */
static bool translate(struct hosted_proc *p, vir_bytes va, bool write, phys_bytes *pa,
		      uint32_t *err)
{
	uint32_t vpn = va >> VM_PAGE_SHIFT;
	struct hosted_tlb *t = &p->tlb[vpn % HOSTED_TLB_SIZE];
	uint32_t perm;

	if (t->valid && t->vpn == vpn) {
		if (write && !t->writable) {
			/* As on the i386: a cached read-only entry faults. */
			*err = VM_PF_PROT | VM_PF_WRITE | VM_PF_USER;
			t->valid = false;
			return false;
		}
		if (!write || t->dirty) {
			*pa = (t->pfn << VM_PAGE_SHIFT) | (va & VM_PAGE_MASK);
			return true;
		}
		/* A first write through a clean entry walks to set D. */
	}
	if (!walk(p, va, write, true, WALK_ACCESS, pa, err, &perm)) {
		t->valid = false;
		return false;
	}
	t->valid = true;
	t->vpn = vpn;
	t->pfn = *pa >> VM_PAGE_SHIFT;
	t->writable = (perm & I386_VM_WRITE) != 0;
	t->dirty = write;
	return true;
}

/* Hand VM the fault and see what it did. 0 to retry, or an errno. */
static int deliver_fault(struct hosted_proc *p, vir_bytes va, uint32_t err)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_PAGEFAULT;
	m.m_pagefault.ep = p->ep;
	m.m_pagefault.addr = va;
	m.m_pagefault.err = err;
	p->pf = HPF_PENDING;
	p->sig = 0;
	hm.faults_delivered++;
	if (vm_handle(&m)) {
		fprintf(stderr, "hosted: VM answered the page fault of %s at 0x%08x with %d\n",
			p->name, va, m.m_type);
		p->pf = HPF_NONE;
		return EIO;
	}
	int sig = p->sig;
	enum hosted_pf pf = p->pf;
	p->pf = HPF_NONE;
	p->sig = 0;
	if (sig == VM_SIGSEGV)
		return EFAULT;
	if (sig == VM_SIGBUS)
		return ENOMEM;
	if (sig != 0 || pf != HPF_CLEARED) {
		fprintf(stderr,
			"hosted: VM neither resolved nor refused the page fault of %s at 0x%08x "
			"(signal %d)\n",
			p->name, va, sig);
		return EIO;
	}
	return 0;
}

int mmu_access(struct hosted_proc *p, vir_bytes va, void *buf, size_t len, bool write)
{
	uint8_t *b = buf;

	if (len > 0 && (vir_bytes)(len - 1) > 0xFFFFFFFFu - va)
		return EFAULT; /* wraps around the address space */
	while (len > 0) {
		size_t chunk = VM_PAGE_SIZE - (va & VM_PAGE_MASK);
		phys_bytes pa;
		uint32_t err;
		int tries = 0;

		if (chunk > len)
			chunk = len;
		while (!translate(p, va, write, &pa, &err)) {
			if (tries++ == MAX_RETRIES) {
				fprintf(stderr,
					"hosted: VM resolved the fault of %s at 0x%08x %d times "
					"but the page is still not accessible (error 0x%x)\n",
					p->name, va, MAX_RETRIES, err);
				return EIO;
			}
			int r = deliver_fault(p, va, err);
			if (r != 0)
				return r;
		}
		if (write)
			memcpy(hm.phys + pa, b, chunk);
		else
			memcpy(b, hm.phys + pa, chunk);
		va += (vir_bytes)chunk;
		b += chunk;
		len -= chunk;
	}
	return 0;
}

int mmu_kaccess(struct hosted_proc *p, vir_bytes va, void *buf, size_t len, bool write)
{
	uint8_t *b = buf;

	if (len > 0 && (vir_bytes)(len - 1) > 0xFFFFFFFFu - va)
		return EFAULT;
	while (len > 0) {
		size_t chunk = VM_PAGE_SIZE - (va & VM_PAGE_MASK);
		phys_bytes pa;
		uint32_t err, perm;

		if (chunk > len)
			chunk = len;
		if (!walk(p, va, write, false, WALK_ACCESS, &pa, &err, &perm))
			return EFAULT;
		if (write)
			memcpy(hm.phys + pa, b, chunk);
		else if (buf)
			memcpy(b, hm.phys + pa, chunk);
		va += (vir_bytes)chunk;
		b += chunk;
		len -= chunk;
	}
	return 0;
}

int mmu_translate(struct hosted_proc *p, vir_bytes va, phys_bytes *pa)
{
	uint32_t err, perm;

	return walk(p, va, false, false, WALK_ACCESS, pa, &err, &perm) ? 0 : EFAULT;
}

uint64_t mmu_debug_translate(endpoint_t ep, uint32_t va)
{
	struct hosted_proc *p = hosted_proc(ep);
	phys_bytes pa;
	uint32_t err, perm;

	if (p == NULL || p->cr3 == 0 || p->cr3 >= hm.mem_bytes)
		return MMU_DEBUG_NONE;
	if (!walk(p, va, false, false, WALK_PEEK, &pa, &err, &perm))
		return MMU_DEBUG_NONE;
	return (uint64_t)perm << 32 | pa;
}

uint32_t mmu_debug_count(endpoint_t ep)
{
	struct hosted_proc *p = hosted_proc(ep);
	uint32_t n = 0;

	if (p == NULL || p->cr3 == 0 || p->cr3 >= hm.mem_bytes)
		return 0;
	for (uint64_t va = HOSTED_USER_LO; va < HOSTED_USER_HI; va += VM_PAGE_SIZE) {
		phys_bytes pa;
		uint32_t err, perm;
		uint32_t pde = *phys_word(p->cr3 + I386_VM_PDE((vir_bytes)va) * 4);

		if (pde & I386_VM_BIGPAGE)
			continue; /* a 4 MB page is not a 4K mapping */
		if (walk(p, (vir_bytes)va, false, true, WALK_PEEK, &pa, &err, &perm))
			n++;
	}
	return n;
}
