/*
 * exec on the hosted machine: read an i386 ELF executable with libelf and
 * hand its loadable segments to libexec, whose callbacks are VM_EXEC calls
 * (the address space) and physical copies through the process's page
 * tables (the contents), as MINIX's VFS does with VM and sys_physcopy.
 */
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/mman.h>

#include "../../vm/libexec.h"
#include "machine.h"

static int exec_call(struct exec_info *ei, uint32_t op, vir_bytes addr, vir_bytes len, int prot,
		     uint32_t flags, vir_bytes brk)
{
	const struct hosted_proc *p = ei->arg;
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_EXEC;
	m.m_exec.ep = p->ep;
	m.m_exec.op = op;
	m.m_exec.addr = addr;
	m.m_exec.len = len;
	m.m_exec.prot = prot;
	m.m_exec.flags = flags;
	m.m_exec.brk = brk;
	return hosted_call(&m);
}

static int cb_clearproc(struct exec_info *ei)
{
	return exec_call(ei, VM_EXEC_CLEAR, 0, 0, 0, 0, 0);
}

static int cb_allocmem(struct exec_info *ei, vir_bytes vaddr, vir_bytes len, int prot,
		       bool resident)
{
	return exec_call(ei, VM_EXEC_MAP, vaddr, len, prot, resident ? VM_EXEC_PREALLOC : 0, 0);
}

/* Write len bytes (src, or zeroes when src is NULL) into resident memory
 * of the process through its page tables. */
static int physwrite(struct hosted_proc *p, vir_bytes vaddr, const void *src, vir_bytes len)
{
	const uint8_t *s = src;

	while (len > 0) {
		vir_bytes chunk = VM_PAGE_SIZE - (vaddr & VM_PAGE_MASK);
		phys_bytes pa;
		if (chunk > len)
			chunk = len;
		if (mmu_translate(p, vaddr, &pa) != 0)
			return EFAULT;
		if (s) {
			memcpy(hm.phys + pa, s, chunk);
			s += chunk;
		} else {
			memset(hm.phys + pa, 0, chunk);
		}
		vaddr += chunk;
		len -= chunk;
	}
	return 0;
}

static int cb_copymem(struct exec_info *ei, vir_bytes vaddr, const void *src, vir_bytes len)
{
	return physwrite(ei->arg, vaddr, src, len);
}

static int cb_clearmem(struct exec_info *ei, vir_bytes vaddr, vir_bytes len)
{
	return physwrite(ei->arg, vaddr, NULL, len);
}

static int cb_finish(struct exec_info *ei, vir_bytes brk)
{
	return exec_call(ei, VM_EXEC_DONE, 0, 0, 0, 0, brk);
}

/* The loadable segments of an i386 executable, or ENOEXEC. */
static int read_elf(const void *image, size_t len, struct exec_info *ei)
{
	int r = ENOEXEC;
	Elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return ENOEXEC;
	/* libelf only reads an image given with ELF_C_READ (elf_memory). */
	if ((e = elf_memory((char *)(uintptr_t)image, len)) == NULL)
		return ENOEXEC;
	Elf32_Ehdr *eh = elf_kind(e) == ELF_K_ELF ? elf32_getehdr(e) : NULL;
	Elf32_Phdr *ph = eh ? elf32_getphdr(e) : NULL;
	if (ph == NULL || eh->e_machine != EM_386 || eh->e_type != ET_EXEC)
		goto out;
	ei->entry = eh->e_entry;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP || ph[i].p_type == PT_DYNAMIC)
			goto out; /* dynamically linked: not for this machine */
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
			continue;
		if (ei->nsegs == EXEC_MAXSEGS || ph[i].p_offset > len ||
		    ph[i].p_filesz > len - ph[i].p_offset)
			goto out;
		struct exec_segment *s = &ei->segs[ei->nsegs++];
		s->vaddr = ph[i].p_vaddr;
		s->memsz = ph[i].p_memsz;
		s->filesz = ph[i].p_filesz;
		s->data = (const uint8_t *)image + ph[i].p_offset;
		s->prot = ((ph[i].p_flags & PF_R) ? VM_PROT_READ : 0) |
			  ((ph[i].p_flags & PF_W) ? VM_PROT_WRITE : 0) |
			  ((ph[i].p_flags & PF_X) ? VM_PROT_EXEC : 0);
	}
	r = ei->nsegs > 0 ? 0 : ENOEXEC;
out:
	elf_end(e);
	return r;
}

int hosted_exec(endpoint_t ep, const void *image, size_t len, bool *killed)
{
	struct hosted_proc *p = hosted_proc(ep);
	struct exec_info ei;
	int r;

	*killed = false;
	if (p == NULL)
		return ESRCH;
	memset(&ei, 0, sizeof(ei));
	ei.arg = p;
	ei.user_lo = HOSTED_USER_LO;
	ei.user_hi = HOSTED_USER_HI;
	ei.clearproc = cb_clearproc;
	ei.allocmem = cb_allocmem;
	ei.copymem = cb_copymem;
	ei.clearmem = cb_clearmem;
	ei.finish = cb_finish;
	if ((r = read_elf(image, len, &ei)) != 0)
		return r;
	r = libexec_load(&ei);
	if (r != 0 && ei.cleared) {
		/* The old image is gone: end the process rather than leave it
		 * half built. */
		hosted_exit(ep);
		*killed = true;
	}
	return r;
}
