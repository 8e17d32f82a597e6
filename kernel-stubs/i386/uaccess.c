/*
 * Touching a process's memory (see uaccess.h).
 *
 * One page at a time: load the process's CR3, copy with uaccess_copy
 * (boot.S), load the kernel's CR3 again. A fault inside the copy is
 * caught by trap(), which records CR2 and the error code and makes the
 * copy return -1. For a process's own access the fault, with the user
 * bit added (the process made the access; the kernel only carried it
 * out), becomes a VM_PAGEFAULT message; VM answers through sys_vmctl
 * (VMCTL_CLEAR_PAGEFAULT: retry) or sys_kill (refuse), exactly the
 * protocol of the hosted MMU (kernel-stubs/hosted/mmu.c).
 */
#include "uaccess.h"

#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>

#include "../../vm/vm.h"
#include "console.h"
#include "paging.h"
#include "x86.h"

#define MAX_RETRIES 4

int uaccess_copy(void *dst, const void *src, size_t n);
extern const char uaccess_copy_insn[], uaccess_fixup[];

static struct {
	bool armed;
	uint32_t addr, err;
} fault;

bool uaccess_fault(struct trapframe *tf, uint32_t addr)
{
	if (!fault.armed || tf->eip != (uint32_t)(uintptr_t)uaccess_copy_insn)
		return false;
	fault.addr = addr;
	fault.err = tf->err;
	tf->eip = (uint32_t)(uintptr_t)uaccess_fixup;
	return true;
}

/* Copy chunk bytes (within one page) between buf and va in p's address
 * space. 0, or -1 with the fault in fault.addr and fault.err. */
static int copy_page(struct kproc *p, vir_bytes va, void *buf, size_t chunk, bool write)
{
	static uint8_t scratch[VM_PAGE_SIZE];
	void *uva = (void *)(uintptr_t)va;

	if (buf == NULL)
		buf = scratch; /* a read that only probes */
	paging_load(p->cr3);
	fault.armed = true;
	int r = write ? uaccess_copy(uva, buf, chunk) : uaccess_copy(buf, uva, chunk);
	fault.armed = false;
	paging_load(paging_kernel_cr3());
	return r;
}

/* The entries for va in p's tables, through the direct map: *pde, and
 * *pte (the PDE itself for a 4 MB page). False when either level is not
 * present. */
static bool lookup(struct kproc *p, vir_bytes va, uint32_t **pde, uint32_t **pte)
{
	uint32_t *dir = phys_to_virt(p->cr3);

	*pde = &dir[PDE_INDEX(va)];
	if (!(**pde & PTE_P))
		return false;
	if (**pde & PTE_PS) {
		*pte = *pde;
		return true;
	}
	phys_bytes pt = **pde & PTE_ADDR;
	if (pt >= km.mem_bytes)
		return false;
	*pte = (uint32_t *)phys_to_virt(pt) + PTE_INDEX(va);
	return (**pte & PTE_P) != 0;
}

int uaccess_deliver_fault(struct kproc *p, vir_bytes va, uint32_t err)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_PAGEFAULT;
	m.m_pagefault.ep = p->ep;
	m.m_pagefault.addr = va;
	m.m_pagefault.err = err;
	p->pf = KPF_PENDING;
	p->sig = 0;
	km.faults_delivered++;
	paging_load(paging_kernel_cr3());
	if (vm_handle(&m)) {
		console_printf("vmkernel: VM answered the page fault of %s at 0x%08lx with %d\n",
			       p->name, (unsigned long)va, m.m_type);
		p->pf = KPF_NONE;
		return EIO;
	}
	int sig = p->sig;
	enum kpf pf = p->pf;
	p->pf = KPF_NONE;
	p->sig = 0;
	if (sig == VM_SIGSEGV)
		return EFAULT;
	if (sig == VM_SIGBUS)
		return ENOMEM;
	if (sig != 0 || pf != KPF_CLEARED) {
		console_printf("vmkernel: VM neither resolved nor refused the page fault of %s at "
			       "0x%08lx (signal %d)\n",
			       p->name, (unsigned long)va, sig);
		return EIO;
	}
	return 0;
}

/* Whether len bytes at va wrap around the address space. */
static bool wraps(vir_bytes va, size_t len)
{
	return len > 0 && (vir_bytes)(len - 1) > 0xFFFFFFFFu - va;
}

int uaccess_user(struct kproc *p, vir_bytes va, void *buf, size_t len, bool write)
{
	uint8_t *b = buf;

	if (wraps(va, len))
		return EFAULT;
	if (p->cr3 == 0) {
		console_printf("vmkernel: %s has no address space\n", p->name);
		return EIO;
	}
	while (len > 0) {
		size_t chunk = VM_PAGE_SIZE - (va & VM_PAGE_MASK);
		int tries = 0;

		if (chunk > len)
			chunk = len;
		for (;;) {
			uint32_t *pde, *pte, addr = va, err;
			if (lookup(p, va, &pde, &pte) && !(*pde & *pte & PTE_U)) {
				/* Present, but the process may not touch it: the
				 * fault user mode would take. */
				err = PF_P | PF_U | (write ? PF_W : 0);
			} else if (copy_page(p, va, b, chunk, write) == 0) {
				break;
			} else {
				addr = fault.addr;
				err = (fault.err & (PF_P | PF_W)) | PF_U;
			}
			if (tries++ == MAX_RETRIES) {
				console_printf(
				    "vmkernel: VM resolved the fault of %s at 0x%08lx %d "
				    "times but the page is still not accessible (error "
				    "0x%lx)\n",
				    p->name, (unsigned long)va, MAX_RETRIES, (unsigned long)err);
				return EIO;
			}
			int r = uaccess_deliver_fault(p, addr, err);
			if (r != 0)
				return r;
		}
		va += (vir_bytes)chunk;
		if (b)
			b += chunk;
		len -= chunk;
	}
	return 0;
}

int uaccess_kernel(struct kproc *p, vir_bytes va, void *buf, size_t len, bool write)
{
	uint8_t *b = buf;

	if (wraps(va, len))
		return EFAULT;
	if (p->cr3 == 0)
		return EFAULT;
	while (len > 0) {
		size_t chunk = VM_PAGE_SIZE - (va & VM_PAGE_MASK);

		if (chunk > len)
			chunk = len;
		if (copy_page(p, va, b, chunk, write) != 0)
			return EFAULT;
		va += (vir_bytes)chunk;
		if (b)
			b += chunk;
		len -= chunk;
	}
	return 0;
}

int uaccess_translate(struct kproc *p, vir_bytes va, phys_bytes *pa)
{
	uint32_t *pde, *pte;

	if (p->cr3 == 0 || !lookup(p, va, &pde, &pte))
		return EFAULT;
	*pde |= PTE_A;
	*pte |= PTE_A;
	if (pte == pde)
		*pa = (*pde & PDE_BIG_ADDR) | (va & ~PDE_BIG_ADDR);
	else
		*pa = (*pte & PTE_ADDR) | (va & VM_PAGE_MASK);
	return 0;
}
