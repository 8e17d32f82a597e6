/*
 * fork: the child gets a copy of every region of the parent. How a
 * region's pages are copied is its mem type's business (copy-on-write for
 * private anonymous memory, shared references for shared memory and
 * devices, fresh frames for contiguous memory). If memory runs out the
 * child is torn down and the parent is as before, except that some of its
 * pages may have lost write access: they become writable again on the next
 * write fault, without a copy.
 */
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>

#include "glo.h"
#include "memtype.h"
#include "proto.h"
#include "region.h"
#include "util.h"

int do_fork(message *m)
{
	struct vmproc *parent, *child;
	endpoint_t cep = m->m_fork.child;
	int r;

	if ((r = vm_isokendpt(m->m_fork.parent, &parent)) != VM_OK)
		return r;
	if (cep < 0 || VM_ENDPOINT_GEN(cep) == 0)
		return EINVAL;
	child = &vmproc[VM_ENDPOINT_SLOT(cep)];
	if (child->vm_flags & VMF_INUSE)
		return EEXIST;
	memset(child, 0, sizeof(*child));
	if ((r = pt_new(&child->vm_pt, cep)) != VM_OK)
		return r;
	/* Privilege is given by spawn, not inherited: the child of a system
	 * process is an ordinary process. */
	child->vm_flags = VMF_INUSE;
	child->vm_endpoint = cep;
	memcpy(child->vm_name, m->m_fork.name, VM_PROC_NAME_LEN);
	child->vm_name[VM_PROC_NAME_LEN - 1] = '\0';
	map_init_tree(child);
	radix_init(&child->vm_pages);
	child->vm_brk_base = parent->vm_brk_base;
	child->vm_brk = parent->vm_brk;

	for (struct avl_node *n = avl_first(&parent->vm_regions_avl); n; n = avl_next(n)) {
		struct vir_region *src = avl_entry(n, struct vir_region, node);
		struct vir_region *dst = map_region_clone(child, src);
		if (dst == NULL || src->memtype->ev_copy(src, dst) != VM_OK) {
			map_exit_proc(child);
			memset(child, 0, sizeof(*child));
			return ENOMEM;
		}
	}
	sys_vmctl(cep, VMCTL_SETADDRSPACE, child->vm_pt.pt_dir_phys);
	vm_stats.forks++;
	return VM_OK;
}
