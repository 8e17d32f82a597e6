/*
 * The i386 machine's process table and the kernel interface (see
 * machine.h). VM runs inside the kernel, in the kernel's address space:
 * its view of physical memory is the direct map at KERN_VBASE.
 */
#include "machine.h"

#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>

#include "../../vm/vm.h"
#include "console.h"
#include "cpu.h"
#include "paging.h"
#include "uaccess.h"
#include "x86.h"

#define GARBAGE 0xDB

struct kmachine km;
static uint32_t ram_bytes;

void machine_setup(uint32_t ram, uint32_t kimage_end)
{
	ram_bytes = ram;
	km.kimage_end = kimage_end < KIMAGE_MIN_END ? KIMAGE_MIN_END : kimage_end;
	km.kimage_end = (km.kimage_end + VM_PAGE_MASK) & ~VM_PAGE_MASK;
}

int machine_boot(uint32_t mem_bytes)
{
	if (mem_bytes < BIG_PAGE_SIZE || (mem_bytes & (BIG_PAGE_SIZE - 1)))
		return EINVAL;
	if (mem_bytes > ram_bytes)
		return ENOMEM;
	if (km.kimage_end > mem_bytes)
		return ENOMEM; /* the kernel and its modules do not fit */
	machine_halt();
	uint32_t kend = km.kimage_end;
	memset(&km, 0, sizeof(km));
	km.kimage_end = kend;
	km.mem_bytes = mem_bytes;
	/* The pool shows garbage until VM clears what it hands out, as on
	 * the hosted machine; VGA memory starts zeroed there too. */
	memset(phys_to_virt(VM_PAGE_SIZE), GARBAGE, DEVICE_BASE - VM_PAGE_SIZE);
	memset(phys_to_virt(kend), GARBAGE, mem_bytes - kend);
	memset(phys_to_virt(DEVICE_BASE), 0, 0xC0000u - DEVICE_BASE);
	int r = vm_init();
	if (r != VM_OK) {
		machine_halt();
		return r;
	}
	km.booted = true;
	return 0;
}

void machine_halt(void)
{
	uint32_t kend = km.kimage_end;

	paging_load(paging_kernel_cr3());
	memset(&km, 0, sizeof(km));
	km.kimage_end = kend;
}

struct kproc *machine_proc(endpoint_t ep)
{
	if (ep < 0)
		return NULL;
	struct kproc *p = &km.proc[VM_ENDPOINT_SLOT(ep)];
	return p->inuse && p->ep == ep ? p : NULL;
}

int machine_call(message *m)
{
	paging_load(paging_kernel_cr3());
	if (!vm_handle(m)) {
		console_printf("vmkernel: VM did not reply to call %d from %ld\n", m->m_type,
			       (long)m->m_source);
		return EIO;
	}
	return m->m_type;
}

/* A new process table entry (not yet known to VM), or NULL if full. */
static struct kproc *proc_new(const char *name, bool priv)
{
	int slot;

	for (slot = 0; slot < VM_NR_PROCS && km.proc[slot].inuse; slot++)
		;
	if (slot == VM_NR_PROCS)
		return NULL;
	struct kproc *p = &km.proc[slot];
	uint32_t gen = p->gen >= VM_MAX_GEN ? 1 : p->gen + 1;
	memset(p, 0, sizeof(*p));
	p->gen = gen;
	p->ep = VM_ENDPOINT(gen, slot);
	p->priv = priv;
	strncpy(p->name, name, sizeof(p->name) - 1);
	p->inuse = true;
	return p;
}

int machine_spawn(const char *name, bool priv, endpoint_t *ep)
{
	struct kproc *p = proc_new(name, priv);
	message m;

	if (p == NULL)
		return EAGAIN;
	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_SPAWN;
	m.m_spawn.ep = p->ep;
	m.m_spawn.flags = priv ? VM_SPAWN_PRIV : 0;
	memcpy(m.m_spawn.name, p->name, sizeof(m.m_spawn.name));
	int r = machine_call(&m);
	if (r != VM_OK) {
		p->inuse = false;
		return r;
	}
	*ep = p->ep;
	return 0;
}

int machine_fork(endpoint_t parent, const char *name, endpoint_t *child)
{
	struct kproc *p;
	message m;

	if (machine_proc(parent) == NULL)
		return ESRCH;
	if ((p = proc_new(name, false)) == NULL)
		return EAGAIN;
	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_FORK;
	m.m_fork.parent = parent;
	m.m_fork.child = p->ep;
	memcpy(m.m_fork.name, p->name, sizeof(m.m_fork.name));
	int r = machine_call(&m);
	if (r != VM_OK) {
		p->inuse = false;
		return r;
	}
	*child = p->ep;
	return 0;
}

int machine_exit(endpoint_t ep)
{
	struct kproc *p = machine_proc(ep);
	message m;

	if (p == NULL)
		return ESRCH;
	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_EXIT;
	m.m_exit.ep = ep;
	int r = machine_call(&m);
	if (r != VM_OK)
		return r;
	p->inuse = false;
	p->cr3 = 0;
	return 0;
}

/* The kernel interface. */

int sys_getkinfo(struct kinfo *ki)
{
	memset(ki, 0, sizeof(*ki));
	ki->mem_bytes = km.mem_bytes;
	ki->kern_vaddr = KERN_VBASE;
	ki->kern_paddr = 0;
	ki->kern_len = km.mem_bytes;
	ki->user_lo = USER_LO;
	ki->user_hi = USER_HI;
	ki->brk_base = USER_BRK_BASE;
	ki->reserved[0] = (struct kinfo_range){ 0, VM_PAGE_SIZE, KRES_KERNEL };
	ki->reserved[1] =
	    (struct kinfo_range){ DEVICE_BASE, DEVICE_END - DEVICE_BASE, KRES_DEVICE };
	ki->reserved[2] =
	    (struct kinfo_range){ KIMAGE_BASE, km.kimage_end - KIMAGE_BASE, KRES_KERNEL };
	ki->nr_reserved = 3;
	return VM_OK;
}

static void check_phys(phys_bytes p, size_t len, const char *what)
{
	if (p > km.mem_bytes || len > km.mem_bytes - p)
		kpanic("%s of 0x%lx bytes at 0x%08lx is beyond memory (%lu bytes)", what,
		       (unsigned long)len, (unsigned long)p, (unsigned long)km.mem_bytes);
}

void *sys_directmap(phys_bytes p)
{
	check_phys(p, 1, "direct map");
	return phys_to_virt(p);
}

int sys_vmctl(endpoint_t ep, enum vmctl_req req, phys_bytes pdir)
{
	struct kproc *p = machine_proc(ep);

	if (p == NULL)
		return ESRCH;
	switch (req) {
	case VMCTL_SETADDRSPACE:
		check_phys(pdir, VM_PAGE_SIZE, "page directory");
		if (p->cr3 != 0 && read_cr3() == p->cr3)
			write_cr3(pdir);
		p->cr3 = pdir;
		return VM_OK;
	case VMCTL_FLUSHTLB:
		/* VM runs in the kernel's address space and uaccess.c loads a
		 * process's CR3 afresh for every access, so its TLB entries
		 * are gone already; flush anyway if it is loaded. */
		if (p->cr3 != 0 && read_cr3() == p->cr3)
			paging_flush();
		return VM_OK;
	case VMCTL_CLEAR_PAGEFAULT:
		if (p->pf != KPF_PENDING)
			return EINVAL;
		p->pf = KPF_CLEARED;
		return VM_OK;
	}
	return EINVAL;
}

int sys_memset(enum memset_mode mode, endpoint_t ep, uint32_t addr, int c, size_t len)
{
	if (mode == MEMSET_PHYS) {
		check_phys(addr, len, "memset");
		memset(phys_to_virt(addr), c, len);
		return VM_OK;
	}
	struct kproc *p = machine_proc(ep);
	if (p == NULL)
		return ESRCH;
	static uint8_t buf[VM_PAGE_SIZE];
	memset(buf, c, sizeof(buf));
	while (len > 0) {
		size_t chunk = len < sizeof(buf) ? len : sizeof(buf);
		int r = uaccess_kernel(p, addr, buf, chunk, true);
		if (r != 0)
			return r;
		addr += (uint32_t)chunk;
		len -= chunk;
	}
	return VM_OK;
}

int sys_physcopy(phys_bytes src, phys_bytes dst, size_t len)
{
	check_phys(src, len, "copy source");
	check_phys(dst, len, "copy destination");
	memmove(phys_to_virt(dst), phys_to_virt(src), len);
	return VM_OK;
}

int sys_vircopy(endpoint_t sep, vir_bytes src, endpoint_t dep, vir_bytes dst, size_t len)
{
	struct kproc *sp = machine_proc(sep), *dp = machine_proc(dep);
	static uint8_t buf[VM_PAGE_SIZE];

	if (sp == NULL || dp == NULL)
		return ESRCH;
	while (len > 0) {
		size_t chunk = len < sizeof(buf) ? len : sizeof(buf);
		int r = uaccess_kernel(sp, src, buf, chunk, false);
		if (r == 0)
			r = uaccess_kernel(dp, dst, buf, chunk, true);
		if (r != 0)
			return r;
		src += (vir_bytes)chunk;
		dst += (vir_bytes)chunk;
		len -= chunk;
	}
	return VM_OK;
}

int sys_umap(endpoint_t ep, vir_bytes vaddr, phys_bytes *paddr)
{
	struct kproc *p = machine_proc(ep);

	if (p == NULL)
		return ESRCH;
	return uaccess_translate(p, vaddr, paddr);
}

int sys_kill(endpoint_t ep, int sig)
{
	struct kproc *p = machine_proc(ep);

	if (p == NULL)
		return ESRCH;
	p->sig = sig;
	return VM_OK;
}

/* VM's view of memory is made of 4 MB pages; the part holding p is split
 * into 4 KB pages the first time (paging.c). Only the VM_SANITY build calls
 * this (sanity/lock.c: read-only slab pages); a write to a locked page
 * faults in trap() (cpu.c), which has VM describe the object. */
int sys_protect(phys_bytes p, size_t len, enum protect_mode mode)
{
	if (paging_protect(p, (uint32_t)len, mode == PROTECT_RO) != 0) {
		console_printf("vmkernel: sys_protect 0x%lx+0x%lx: no page table left to split the "
			       "direct map\n",
			       (unsigned long)p, (unsigned long)len);
		return ENOMEM;
	}
	return VM_OK;
}

void sys_diagprint(const char *s, size_t len)
{
	console_write(s, len);
}

_Noreturn void sys_abort(void)
{
	console_printf("vmkernel: VM aborted\n");
	cpu_exit(KEXIT_PANIC);
}
