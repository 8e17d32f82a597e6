/*
 * Page faults, forwarded by the kernel as messages. The handler decides a
 * result (resolved, SIGSEGV, out of memory) and this file alone turns it
 * into what the kernel is told: resume the process, or signal it.
 */
#include <vmscope/errno.h>

#include "glo.h"
#include "proto.h"
#include "region.h"
#include "util.h"

int do_pagefaults(message *m)
{
	struct vmproc *vmp;
	endpoint_t ep = m->m_pagefault.ep;
	vir_bytes addr = m->m_pagefault.addr;
	bool write = (m->m_pagefault.err & VM_PF_WRITE) != 0;
	enum pf_result res = PF_SEGV;
	int r;

	if ((r = vm_isokendpt(ep, &vmp)) != VM_OK)
		return r; /* the kernel gets a reply: it named a dead process */
	struct vir_region *region = map_lookup(vmp, addr);
	if (region != NULL)
		res = map_pf(vmp, region, addr, write);
	switch (res) {
	case PF_RESOLVED:
		sys_vmctl(ep, VMCTL_CLEAR_PAGEFAULT, 0);
		break;
	case PF_SEGV:
		vm_stats.pf_refused++;
		sys_kill(ep, VM_SIGSEGV);
		break;
	case PF_NOMEM:
		vm_stats.pf_nomem++;
		sys_kill(ep, VM_SIGBUS);
		break;
	}
	return SUSPEND;
}
