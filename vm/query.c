/*
 * VM_QUERY: one statistic at a time, for the scenario runner and tests.
 * (The debug call, VM_INFO, is the tools' interface.)
 */
#include <vmscope/callnr.h>
#include <vmscope/errno.h>

#include "alloc.h"
#include "cache.h"
#include "glo.h"
#include "memtype.h"
#include "proto.h"
#include "region.h"

int do_query(message *m)
{
	struct vmproc *vmp = NULL;
	uint32_t *val = m->m_query.val;
	int r;

	switch (m->m_query.what) {
	case VMQ_FREE:
		val[0] = phys_free_pages();
		return VM_OK;
	case VMQ_TOTAL:
		val[0] = phys_total_pages();
		return VM_OK;
	case VMQ_LARGEST:
		val[0] = phys_largest_run();
		return VM_OK;
	case VMQ_CACHED:
		val[0] = cache_stats.pages;
		return VM_OK;
	default:
		break;
	}
	if ((r = vm_isokendpt(m->m_query.ep, &vmp)) != VM_OK)
		return r;
	switch (m->m_query.what) {
	case VMQ_RESIDENT:
		val[0] = vmproc_resident(vmp);
		return VM_OK;
	case VMQ_SHARED:
		val[0] = vmp->vm_shared;
		return VM_OK;
	case VMQ_COW:
		val[0] = vmp->vm_cow;
		return VM_OK;
	case VMQ_VIRTUAL:
		val[0] = vmp->vm_virtual;
		return VM_OK;
	case VMQ_REGIONS:
		val[0] = (uint32_t)vmp->vm_regions_avl.count;
		return VM_OK;
	case VMQ_MINFLT:
		val[0] = vmp->vm_minflt;
		return VM_OK;
	case VMQ_BRK:
		val[0] = vmp->vm_brk;
		return VM_OK;
	case VMQ_REGION: {
		struct vir_region *reg = map_region_at(vmp, m->m_query.index);
		if (reg == NULL)
			return ESRCH;
		val[0] = reg->vaddr;
		val[1] = reg->length;
		val[2] = reg->flags & VR_PROTMASK;
		val[3] = reg->flags;
		val[4] = reg->memtype->id;
		val[5] = reg->resident;
		return VM_OK;
	}
	default:
		return EINVAL;
	}
}
