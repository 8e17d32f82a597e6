/*
 * VM_EXEC: the steps a loader (libexec's caller) takes to give a process a
 * new image. CLEAR drops the whole old address space (regions, pages and
 * page tables), MAP makes a fixed range of fresh zeroed memory (all of it
 * resident with VM_EXEC_PREALLOC, so the loader can copy into it through
 * physical addresses), DONE sets where the break starts. A loader that
 * fails after CLEAR makes the process exit: VM never leaves a half-built
 * image running.
 */
#include <vmscope/callnr.h>
#include <vmscope/errno.h>

#include "cache.h"
#include "glo.h"
#include "grant.h"
#include "memtype.h"
#include "proto.h"
#include "region.h"
#include "util.h"

int do_exec(message *m)
{
	struct vmproc *vmp;
	vir_bytes addr = m->m_exec.addr, len = m->m_exec.len;
	int r;

	if ((r = vm_isokendpt(m->m_exec.ep, &vmp)) != VM_OK)
		return r;
	switch (m->m_exec.op) {
	case VM_EXEC_CLEAR: {
		struct pt_snapshot none = { { 0 } };
		ds_release(vmp, false);
		grant_release(vmp);
		cache_forgetall(vmp);
		map_free_proc(vmp);
		pt_free_new_empty(&vmp->vm_pt, &none, vm_kinfo.user_lo,
				  vm_kinfo.user_hi - vm_kinfo.user_lo);
		vmp->vm_brk_base = vmp->vm_brk = vm_kinfo.brk_base;
		vm_stats.execs++;
		return VM_OK;
	}
	case VM_EXEC_MAP: {
		uint32_t prot = (uint32_t)m->m_exec.prot;
		if ((addr | len) & VM_PAGE_MASK || len == 0 || (prot & ~VR_PROTMASK) ||
		    (m->m_exec.flags & ~VM_EXEC_PREALLOC))
			return EINVAL;
		if (!map_range_free(vmp, addr, len))
			return EINVAL; /* outside user space or overlapping */
		uint32_t flags = prot;
		if (m->m_exec.flags & VM_EXEC_PREALLOC)
			flags |= VR_PREALLOC;
		if (map_page_region(vmp, addr, len, flags, &mem_type_anon, 0) == NULL)
			return ENOMEM;
		return VM_OK;
	}
	case VM_EXEC_DONE:
		if (m->m_exec.brk < vm_kinfo.user_lo || m->m_exec.brk >= vm_kinfo.user_hi)
			return EINVAL;
		vmp->vm_brk_base = vmp->vm_brk = m->m_exec.brk;
		return VM_OK;
	default:
		return EINVAL;
	}
}
