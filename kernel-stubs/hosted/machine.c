/*
 * The hosted machine: memory, process table, and the kernel interface
 * (include/vmscope/kernel.h) that VM calls.
 *
 * Physical memory is laid out like a PC's: frame 0 and 1-2 MB hold the
 * (simulated) kernel image, 0xA0000-0xFFFFF is the device hole (VGA
 * memory that keeps what is written, never in the page pool), the rest is
 * the page pool. At boot the pool is filled with a pattern so that a page
 * VM forgets to clear shows garbage instead of reading as zero by luck.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/vminfo.h>

#include "../../vm/vm.h"
#include "machine.h"

#define DEVICE_BASE 0xA0000u
#define DEVICE_END 0x100000u
#define KIMAGE_BASE 0x100000u
#define KIMAGE_END 0x200000u
#define GARBAGE 0xDB

struct hosted_machine hm;

int hosted_boot(uint32_t mem_bytes)
{
	if (mem_bytes < (4u << 20) || mem_bytes > HOSTED_MAX_MEM || (mem_bytes & ((4u << 20) - 1)))
		return EINVAL;
	void *p;
	if (hm.phys != NULL && hm.mem_bytes == mem_bytes &&
	    mprotect(hm.phys, mem_bytes, PROT_READ | PROT_WRITE) == 0) {
		/* Booted again with the same size (a fuzzer does it for every
		 * input): keep the host memory, which is filled anew below,
		 * rather than unmapping it and faulting it all in again. */
		p = hm.phys;
	} else {
		hosted_halt();
		p = mmap(NULL, mem_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return ENOMEM;
	}
	memset(&hm, 0, sizeof(hm));
	hm.phys = p;
	hm.mem_bytes = mem_bytes;
	memset(hm.phys, GARBAGE, mem_bytes);
	memset(hm.phys + DEVICE_BASE, 0, DEVICE_END - DEVICE_BASE);
#ifdef VMSCOPE_SANITY_BUILD
	hosted_lockfault_install(); /* slab pages are read-only from now on */
#endif
	int r = vm_init();
	if (r != VM_OK) {
		hosted_halt();
		return r;
	}
	return 0;
}

void hosted_halt(void)
{
	if (hm.phys)
		munmap(hm.phys, hm.mem_bytes);
	memset(&hm, 0, sizeof(hm));
}

struct hosted_proc *hosted_proc(endpoint_t ep)
{
	if (ep < 0)
		return NULL;
	struct hosted_proc *p = &hm.proc[VM_ENDPOINT_SLOT(ep)];
	return p->inuse && p->ep == ep ? p : NULL;
}

int hosted_call(message *m)
{
	if (!vm_handle(m)) {
		fprintf(stderr, "hosted: VM did not reply to call %d from %d\n", m->m_type,
			m->m_source);
		return EIO;
	}
	return m->m_type;
}

int hosted_mmap(endpoint_t ep, vir_bytes addr, vir_bytes len, uint32_t prot, uint32_t flags,
		phys_bytes phys, vir_bytes *out)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = ep;
	m.m_type = VM_MMAP;
	m.m_mmap.addr = addr;
	m.m_mmap.len = len;
	m.m_mmap.prot = prot;
	m.m_mmap.flags = flags;
	m.m_mmap.phys = phys;
	int r = hosted_call(&m);
	if (r == 0 && out)
		*out = m.m_mmap.addr;
	return r;
}

int hosted_munmap(endpoint_t ep, vir_bytes addr, vir_bytes len)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = ep;
	m.m_type = VM_MUNMAP;
	m.m_munmap.addr = addr;
	m.m_munmap.len = len;
	return hosted_call(&m);
}

/* A new process table entry (not yet known to VM), or NULL if full. */
static struct hosted_proc *proc_new(const char *name, bool priv)
{
	int slot;

	for (slot = 0; slot < VM_NR_PROCS && hm.proc[slot].inuse; slot++)
		;
	if (slot == VM_NR_PROCS)
		return NULL;
	struct hosted_proc *p = &hm.proc[slot];
	uint32_t gen = p->gen >= VM_MAX_GEN ? 1 : p->gen + 1;
	memset(p, 0, sizeof(*p));
	p->gen = gen;
	p->ep = VM_ENDPOINT(gen, slot);
	p->priv = priv;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->inuse = true;
	return p;
}

int hosted_spawn(const char *name, bool priv, endpoint_t *ep)
{
	struct hosted_proc *p = proc_new(name, priv);
	message m;

	if (p == NULL)
		return EAGAIN;
	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_SPAWN;
	m.m_spawn.ep = p->ep;
	m.m_spawn.flags = priv ? VM_SPAWN_PRIV : 0;
	memcpy(m.m_spawn.name, p->name, sizeof(m.m_spawn.name));
	int r = hosted_call(&m);
	if (r != VM_OK) {
		p->inuse = false;
		return r;
	}
	*ep = p->ep;
	return 0;
}

int hosted_fork(endpoint_t parent, const char *name, endpoint_t *child)
{
	struct hosted_proc *p;
	message m;

	if (hosted_proc(parent) == NULL)
		return ESRCH;
	if ((p = proc_new(name, false)) == NULL)
		return EAGAIN;
	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_FORK;
	m.m_fork.parent = parent;
	m.m_fork.child = p->ep;
	memcpy(m.m_fork.name, p->name, sizeof(m.m_fork.name));
	int r = hosted_call(&m);
	if (r != VM_OK) {
		p->inuse = false;
		return r;
	}
	*child = p->ep;
	return 0;
}

int hosted_exit(endpoint_t ep)
{
	struct hosted_proc *p = hosted_proc(ep);
	message m;

	if (p == NULL)
		return ESRCH;
	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_EXIT;
	m.m_exit.ep = ep;
	int r = hosted_call(&m);
	if (r != VM_OK)
		return r;
	p->inuse = false;
	p->cr3 = 0;
	mmu_flush(p);
	return 0;
}

int hosted_info(uint32_t subcall, const struct vmi_request *req, void *out, uint32_t *len)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_INFO;
	m.m_info.subcall = subcall;
	m.m_info.endpoint = req->endpoint;
	m.m_info.cursor = req->cursor;
	m.m_info.addr = req->addr;
	m.m_info.flags = req->flags;
	m.m_info.buf = HOSTED_INFO_BUF;
	m.m_info.buflen = HOSTED_INFO_BUFLEN;
	int r = hosted_call(&m);
	*len = 0;
	if (r != VM_OK)
		return r;
	if (m.m_info.len > HOSTED_INFO_BUFLEN) {
		fprintf(stderr, "hosted: VM_INFO reply of %u bytes\n", m.m_info.len);
		return EIO;
	}
	memcpy(out, hm.phys + HOSTED_INFO_BUF, m.m_info.len);
	*len = m.m_info.len;
	return 0;
}

/* The kernel interface. */

int sys_getkinfo(struct kinfo *ki)
{
	memset(ki, 0, sizeof(*ki));
	ki->mem_bytes = hm.mem_bytes;
	ki->kern_vaddr = HOSTED_KERN_VADDR;
	ki->kern_paddr = 0;
	ki->kern_len = hm.mem_bytes;
	ki->user_lo = HOSTED_USER_LO;
	ki->user_hi = HOSTED_USER_HI;
	ki->brk_base = HOSTED_BRK_BASE;
	ki->reserved[0] = (struct kinfo_range){ 0, VM_PAGE_SIZE, KRES_KERNEL };
	ki->reserved[1] =
	    (struct kinfo_range){ DEVICE_BASE, DEVICE_END - DEVICE_BASE, KRES_DEVICE };
	ki->reserved[2] =
	    (struct kinfo_range){ KIMAGE_BASE, KIMAGE_END - KIMAGE_BASE, KRES_KERNEL };
	ki->nr_reserved = 3;
	return VM_OK;
}

static void check_phys(phys_bytes p, size_t len, const char *what)
{
	if (p > hm.mem_bytes || len > hm.mem_bytes - p) {
		fprintf(stderr, "hosted: %s of 0x%zx bytes at 0x%08x is beyond memory (%u bytes)\n",
			what, len, p, hm.mem_bytes);
		abort();
	}
}

void *sys_directmap(phys_bytes p)
{
	check_phys(p, 1, "direct map");
	return hm.phys + p;
}

int sys_vmctl(endpoint_t ep, enum vmctl_req req, phys_bytes pdir)
{
	struct hosted_proc *p = hosted_proc(ep);

	if (p == NULL)
		return ESRCH;
	switch (req) {
	case VMCTL_SETADDRSPACE:
		check_phys(pdir, VM_PAGE_SIZE, "page directory");
		p->cr3 = pdir;
		mmu_flush(p);
		return VM_OK;
	case VMCTL_FLUSHTLB:
		mmu_flush(p);
		return VM_OK;
	case VMCTL_CLEAR_PAGEFAULT:
		if (p->pf != HPF_PENDING)
			return EINVAL;
		p->pf = HPF_CLEARED;
		return VM_OK;
	}
	return EINVAL;
}

int sys_memset(enum memset_mode mode, endpoint_t ep, uint32_t addr, int c, size_t len)
{
	if (mode == MEMSET_PHYS) {
		check_phys(addr, len, "memset");
		memset(hm.phys + addr, c, len);
		return VM_OK;
	}
	struct hosted_proc *p = hosted_proc(ep);
	if (p == NULL)
		return ESRCH;
	uint8_t buf[VM_PAGE_SIZE];
	memset(buf, c, sizeof(buf));
	while (len > 0) {
		size_t chunk = len < sizeof(buf) ? len : sizeof(buf);
		int r = mmu_kaccess(p, addr, buf, chunk, true);
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
	memmove(hm.phys + dst, hm.phys + src, len);
	return VM_OK;
}

int sys_vircopy(endpoint_t sep, vir_bytes src, endpoint_t dep, vir_bytes dst, size_t len)
{
	struct hosted_proc *sp = hosted_proc(sep), *dp = hosted_proc(dep);
	uint8_t buf[VM_PAGE_SIZE];

	if (sp == NULL || dp == NULL)
		return ESRCH;
	while (len > 0) {
		size_t chunk = len < sizeof(buf) ? len : sizeof(buf);
		int r = mmu_kaccess(sp, src, buf, chunk, false);
		if (r == 0)
			r = mmu_kaccess(dp, dst, buf, chunk, true);
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
	struct hosted_proc *p = hosted_proc(ep);

	if (p == NULL)
		return ESRCH;
	return mmu_translate(p, vaddr, paddr);
}

int sys_kill(endpoint_t ep, int sig)
{
	struct hosted_proc *p = hosted_proc(ep);

	if (p == NULL)
		return ESRCH;
	p->sig = sig;
	return VM_OK;
}

int sys_protect(phys_bytes p, size_t len, enum protect_mode mode)
{
	check_phys(p, len, "protect");
	if ((p & VM_PAGE_MASK) || (len & VM_PAGE_MASK))
		return EINVAL;
	if (mprotect(hm.phys + p, len, mode == PROTECT_RO ? PROT_READ : PROT_READ | PROT_WRITE))
		return EINVAL;
	return VM_OK;
}

void sys_diagprint(const char *s, size_t len)
{
	fwrite(s, 1, len, stdout);
	fflush(stdout);
}

_Noreturn void sys_abort(void)
{
	fflush(stdout);
	fflush(stderr);
	abort();
}
