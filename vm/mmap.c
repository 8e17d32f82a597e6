/*
 * mmap, munmap and brk.
 *
 * Every argument is checked before anything changes: a length of zero, an
 * unaligned fixed or munmap address, a range that wraps around the 32-bit
 * address space and flags that make no sense are EINVAL; a range outside
 * user space is ENOMEM for mmap (no room there) and EINVAL for munmap, as
 * on Linux.
 */
#include <vmscope/errno.h>
#include <vmscope/mman.h>

#include "glo.h"
#include "memtype.h"
#include "proto.h"
#include "region.h"
#include "util.h"

/* Round len up to pages; false if it is zero or wraps. */
static bool page_len(vir_bytes len, vir_bytes *out)
{
	if (len == 0 || len > 0u - VM_PAGE_SIZE)
		return false;
	*out = roundup_page(len);
	return true;
}

int do_mmap(message *m)
{
	struct vmproc *vmp;
	vir_bytes addr = m->m_mmap.addr, len;
	int32_t flags = m->m_mmap.flags, prot = m->m_mmap.prot;
	int r;

	if ((r = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return r;
	if (!page_len(m->m_mmap.len, &len) || (flags & ~VM_MAP_ALLFLAGS) ||
	    (prot & ~VM_PROT_ALL))
		return EINVAL;
	if ((flags & VM_MAP_CONTIG) && !(flags & VM_MAP_PREALLOC))
		return EINVAL;
	if ((flags & VM_MAP_FIXED) && ((addr & VM_PAGE_MASK) || len > 0u - addr))
		return EINVAL;
	if ((flags & VM_MAP_PHYS) && !(vmp->vm_flags & VMF_PRIV))
		return EPERM;
	if (flags & (VM_MAP_PHYS | VM_MAP_CONTIG))
		return ENOSYS; /* direct-physical and contiguous types: not yet */

	uint32_t vrflags = (uint32_t)prot & VR_PROTMASK;
	if (flags & VM_MAP_SHARED)
		vrflags |= VR_SHARED;
	if (flags & VM_MAP_PREALLOC)
		vrflags |= VR_PREALLOC;
	if (flags & VM_MAP_LOWER16M)
		vrflags |= VR_LOWER16MB;
	/* Uninitialized memory could show another process's data: honoured
	 * for system processes only, everyone else gets zeroed pages. */
	if ((flags & VM_MAP_UNINIT) && (vmp->vm_flags & VMF_PRIV))
		vrflags |= VR_UNINITIALIZED;

	vir_bytes v;
	if (flags & VM_MAP_FIXED) {
		if (addr < vm_kinfo.user_lo || addr > vm_kinfo.user_hi ||
		    len > vm_kinfo.user_hi - addr)
			return ENOMEM;
		if ((r = map_unmap_range(vmp, addr, len)) != VM_OK)
			return r;
		v = addr;
	} else if (addr != 0 && map_range_free(vmp, rounddown_page(addr), len)) {
		v = rounddown_page(addr);
	} else if ((v = map_find_free(vmp, vm_kinfo.user_lo, vm_kinfo.user_hi, len)) == 0) {
		return ENOMEM;
	}
	if (map_page_region(vmp, v, len, vrflags, &mem_type_anon) == NULL)
		return ENOMEM;
	m->m_mmap.addr = v;
	return VM_OK;
}

int do_munmap(message *m)
{
	struct vmproc *vmp;
	vir_bytes addr = m->m_munmap.addr, len;
	int r;

	if ((r = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return r;
	if ((addr & VM_PAGE_MASK) || !page_len(m->m_munmap.len, &len) || len > 0u - addr)
		return EINVAL;
	if (addr < vm_kinfo.user_lo || addr > vm_kinfo.user_hi || len > vm_kinfo.user_hi - addr)
		return EINVAL;
	return map_unmap_range(vmp, addr, len);
}

/*
 * brk: the heap runs from the process's break base to its break, in
 * regions flagged VR_HEAP. Growing extends the heap region that ends at
 * the old break (or makes one); the new pages are zero-fill on demand.
 * Shrinking unmaps the whole pages above the new break. brk(0) only asks
 * for the current break; a break below the base is EINVAL.
 */
int do_brk(message *m)
{
	struct vmproc *vmp;
	vir_bytes want = m->m_brk.addr;
	int r;

	if ((r = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return r;
	if (want == 0) {
		m->m_brk.addr = vmp->vm_brk;
		return VM_OK;
	}
	if (want < vmp->vm_brk_base || want > vm_kinfo.user_hi - VM_PAGE_SIZE)
		return EINVAL;
	vir_bytes old_end = roundup_page(vmp->vm_brk);
	vir_bytes new_end = roundup_page(want);
	if (new_end > old_end) {
		if (!map_range_free(vmp, old_end, new_end - old_end))
			return ENOMEM;
		struct vir_region *r0 = old_end > 0 ? map_lookup(vmp, old_end - 1) : NULL;
		if (r0 && (r0->flags & VR_HEAP) && r0->vaddr + r0->length == old_end) {
			if ((r = map_region_extend(vmp, r0, new_end - r0->vaddr)) != VM_OK)
				return r;
		} else if (map_page_region(vmp, old_end, new_end - old_end,
					   VR_READABLE | VR_WRITABLE | VR_HEAP,
					   &mem_type_anon) == NULL) {
			return ENOMEM;
		}
	} else if (new_end < old_end) {
		if ((r = map_unmap_range(vmp, new_end, old_end - new_end)) != VM_OK)
			return r;
	}
	vmp->vm_brk = want;
	m->m_brk.addr = want;
	return VM_OK;
}
