/*
 * VM_QUERY: one figure at a time, for the scenario runner's statistics.
 * The figures come from the debug call's own code (info.c), so a scenario
 * and a tool never disagree about what, say, P.cow means.
 */
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/vminfo.h>

#include "glo.h"
#include "memtype.h"
#include "proto.h"
#include "region.h"

int do_query(message *m)
{
	struct vmproc *vmp = NULL;
	uint32_t *val = m->m_query.val;
	struct vmi_stats s;
	struct vmi_proc p;
	int r;

	switch (m->m_query.what) {
	case VMQ_FREE:
	case VMQ_TOTAL:
	case VMQ_LARGEST:
	case VMQ_CACHED:
		info_fill_stats(&s);
		val[0] = m->m_query.what == VMQ_FREE      ? s.pages_free
			 : m->m_query.what == VMQ_TOTAL   ? s.pages_total
			 : m->m_query.what == VMQ_LARGEST ? s.largest_free
							  : s.pages_cached;
		return VM_OK;
	default:
		break;
	}
	if ((r = vm_isokendpt(m->m_query.ep, &vmp)) != VM_OK)
		return r;
	info_fill_proc(vmp, &p);
	switch (m->m_query.what) {
	case VMQ_RESIDENT:
		val[0] = p.resident;
		return VM_OK;
	case VMQ_SHARED:
		val[0] = p.shared;
		return VM_OK;
	case VMQ_COW:
		val[0] = p.cow;
		return VM_OK;
	case VMQ_VIRTUAL:
		val[0] = p.virtual_pages;
		return VM_OK;
	case VMQ_REGIONS:
		val[0] = p.regions;
		return VM_OK;
	case VMQ_MINFLT:
		val[0] = p.minflt;
		return VM_OK;
	case VMQ_BRK:
		val[0] = p.brk;
		return VM_OK;
	case VMQ_REGION: {
		struct vir_region *reg = map_region_at(vmp, m->m_query.index);
		struct vmi_region e;
		if (reg == NULL)
			return ESRCH;
		info_fill_region(vmp, reg, &e);
		val[0] = e.start;
		val[1] = e.length;
		val[2] = e.flags & VR_PROTMASK;
		val[3] = e.flags;
		val[4] = e.memtype;
		val[5] = e.resident;
		return VM_OK;
	}
	default:
		return EINVAL;
	}
}
