/*
 * A process's address space coming and going: spawn (an empty address
 * space for a process the kernel created) and exit (everything released).
 */
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>

#include "cache.h"
#include "glo.h"
#include "grant.h"
#include "proto.h"
#include "region.h"
#include "util.h"

int do_spawn(message *m)
{
	endpoint_t ep = m->m_spawn.ep;
	struct vmproc *vmp;
	int r;

	if (ep < 0 || VM_ENDPOINT_GEN(ep) == 0)
		return EINVAL;
	vmp = &vmproc[VM_ENDPOINT_SLOT(ep)];
	if (vmp->vm_flags & VMF_INUSE)
		return EEXIST;
	memset(vmp, 0, sizeof(*vmp));
	if ((r = pt_new(&vmp->vm_pt, ep)) != VM_OK)
		return r;
	vmp->vm_flags = VMF_INUSE | ((m->m_spawn.flags & VM_SPAWN_PRIV) ? VMF_PRIV : 0);
	vmp->vm_endpoint = ep;
	memcpy(vmp->vm_name, m->m_spawn.name, VM_PROC_NAME_LEN);
	vmp->vm_name[VM_PROC_NAME_LEN - 1] = '\0';
	map_init_tree(vmp);
	radix_init(&vmp->vm_pages);
	vmp->vm_brk_base = vmp->vm_brk = vm_kinfo.brk_base;
	sys_vmctl(ep, VMCTL_SETADDRSPACE, vmp->vm_pt.pt_dir_phys);
	vm_stats.spawns++;
	return VM_OK;
}

int do_exit(message *m)
{
	struct vmproc *vmp;
	int r;

	if ((r = vm_isokendpt(m->m_exit.ep, &vmp)) != VM_OK)
		return r;
	ds_release(vmp, true);
	grant_release(vmp);
	cache_forgetall(vmp);
	map_exit_proc(vmp);
	memset(vmp, 0, sizeof(*vmp));
	vm_stats.exits++;
	return VM_OK;
}
