/*
 * exec on the i386 machine (see exec.h): elf32.c reads the program
 * headers, libexec lays the segments out through callbacks that are
 * VM_EXEC calls (the address space) and writes through the direct map at
 * the physical addresses the process's page tables give (the contents;
 * libexec makes every page it fills resident first), as the hosted
 * machine does with its software MMU.
 */
#include "exec.h"

#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>

#include "../../vm/libexec.h"
#include "elf32.h"
#include "machine.h"
#include "uaccess.h"
#include "x86.h"

static int exec_call(struct exec_info *ei, uint32_t op, vir_bytes addr, vir_bytes len, int prot,
		     uint32_t flags, vir_bytes brk)
{
	const struct kproc *p = ei->arg;
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
	return machine_call(&m);
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
 * of the process at the physical addresses its page tables give. */
static int physwrite(struct kproc *p, vir_bytes vaddr, const void *src, vir_bytes len)
{
	const uint8_t *s = src;

	while (len > 0) {
		vir_bytes chunk = VM_PAGE_SIZE - (vaddr & VM_PAGE_MASK);
		phys_bytes pa;
		if (chunk > len)
			chunk = len;
		if (uaccess_translate(p, vaddr, &pa) != 0 || pa >= km.mem_bytes ||
		    chunk > km.mem_bytes - pa)
			return EFAULT;
		if (s) {
			memcpy(phys_to_virt(pa), s, chunk);
			s += chunk;
		} else {
			memset(phys_to_virt(pa), 0, chunk);
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

int machine_exec(endpoint_t ep, const void *image, size_t len, bool *killed, vir_bytes *entry,
		 vir_bytes *stack_top)
{
	struct kproc *p = machine_proc(ep);
	struct exec_info ei;
	int r;

	*killed = false;
	if (p == NULL)
		return ESRCH;
	memset(&ei, 0, sizeof(ei));
	ei.arg = p;
	ei.user_lo = USER_LO;
	ei.user_hi = USER_HI;
	ei.clearproc = cb_clearproc;
	ei.allocmem = cb_allocmem;
	ei.copymem = cb_copymem;
	ei.clearmem = cb_clearmem;
	ei.finish = cb_finish;
	if ((r = elf32_read(image, len, &ei)) != 0)
		return r;
	r = libexec_load(&ei);
	if (r != 0) {
		if (ei.cleared) {
			/* The old image is gone: end the process rather than
			 * leave it half built. */
			machine_exit(ep);
			*killed = true;
		}
		return r;
	}
	if (entry)
		*entry = ei.entry;
	if (stack_top)
		*stack_top = ei.stack_top;
	return 0;
}
