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
#include "slab.h"
#include "util.h"

/* Whether [p, p + len) lies inside one device range of the machine. */
static bool device_range(phys_bytes p, vir_bytes len)
{
	for (uint32_t i = 0; i < vm_kinfo.nr_reserved; i++) {
		const struct kinfo_range *k = &vm_kinfo.reserved[i];
		if (k->owner == KRES_DEVICE && p >= k->base && p - k->base <= k->len &&
		    len <= k->len - (p - k->base))
			return true;
	}
	return false;
}

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
	if (!page_len(m->m_mmap.len, &len) || (flags & ~VM_MAP_ALLFLAGS) || (prot & ~VM_PROT_ALL))
		return EINVAL;
	if ((flags & VM_MAP_CONTIG) && !(flags & VM_MAP_PREALLOC))
		return EINVAL;
	if ((flags & VM_MAP_FIXED) && ((addr & VM_PAGE_MASK) || (uint64_t)addr + len > 1ull << 32))
		return EINVAL;
	if ((flags & VM_MAP_PHYS) && !(vmp->vm_flags & VMF_PRIV))
		return EPERM;
	const struct mem_type *type = &mem_type_anon;
	phys_bytes phys = 0;
	uint32_t vrflags = (uint32_t)prot & VR_PROTMASK;
	if (flags & VM_MAP_PHYS) {
		/* Device memory only: frames the pool never hands out. */
		phys = m->m_mmap.phys;
		if ((phys & VM_PAGE_MASK) || (flags & VM_MAP_CONTIG) || !device_range(phys, len))
			return EINVAL;
		type = &mem_type_directphys;
		vrflags |= VR_SHARED; /* a device is shared by whoever maps it */
	} else if (flags & VM_MAP_CONTIG) {
		type = &mem_type_anon_contig;
		vrflags |= VR_CONTIG;
	}
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
	if (map_page_region(vmp, v, len, vrflags, type, phys) == NULL)
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
					   VR_READABLE | VR_WRITABLE | VR_HEAP, &mem_type_anon,
					   0) == NULL) {
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

/*
 * remap: map the whole region of src containing src_addr into dst as
 * shared memory. The source region becomes shared itself (a private
 * region's pages are made resident and private first: a page still
 * copy-on-write with a fork relative gets its own copy), so both sides
 * see each other's writes from then on. The new region references every
 * page and never needs the source again.
 */
int do_remap(message *m)
{
	struct vmproc *svmp, *dvmp;
	struct vir_region *src, *dst;
	int r;

	if ((r = vm_isokendpt(m->m_remap.src, &svmp)) != VM_OK ||
	    (r = vm_isokendpt(m->m_remap.dst, &dvmp)) != VM_OK)
		return r;
	if (m->m_remap.flags & ~VM_REMAP_RO)
		return EINVAL;
	if ((src = map_lookup(svmp, m->m_remap.src_addr)) == NULL)
		return EINVAL;
	if ((src->memtype != &mem_type_anon && src->memtype != &mem_type_anon_contig &&
	     src->memtype != &mem_type_directphys && src->memtype != &mem_type_shared) ||
	    (src->flags & VR_SAFEMAP))
		return EINVAL; /* a grant's mapping is not to be passed on past revocation */
	vir_bytes len = src->length, v = m->m_remap.dst_addr;
	if (v == 0 || (v & VM_PAGE_MASK) || !map_range_free(dvmp, v, len))
		v = map_find_free(dvmp, vm_kinfo.user_lo, vm_kinfo.user_hi, len);
	if (v == 0)
		return ENOMEM;
	/* Pages the source still shares copy-on-write are copied for it (a
	 * write fault's work); missing ones are made. The source stays
	 * private until the new mapping exists. */
	bool was_shared = (src->flags & VR_SHARED) != 0;
	if (map_handle_memory(svmp, src, src->vaddr, src->length, !was_shared) != VM_OK)
		return ENOMEM;
	uint32_t flags = (src->flags & VR_PROTMASK) | VR_SHARED;
	if (m->m_remap.flags & VM_REMAP_RO)
		flags &= ~(uint32_t)VR_WRITABLE;
	if ((dst = map_page_region(dvmp, v, len, flags, &mem_type_shared, 0)) == NULL)
		return ENOMEM;
	USE(src, src->flags |= VR_SHARED);
	if (map_copy_refs(src, dst) != VM_OK) {
		map_delete_region(dvmp, dst);
		if (!was_shared)
			USE(src, src->flags &= ~(uint32_t)VR_SHARED);
		return ENOMEM;
	}
	m->m_remap.dst_addr = v;
	return VM_OK;
}

/* shmunmap: unmap the shared region (made by remap) containing addr. */
int do_shared_unmap(message *m)
{
	struct vmproc *vmp;
	struct vir_region *r;
	int res;

	if ((res = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return res;
	if ((r = map_lookup(vmp, m->m_munmap.addr)) == NULL || r->memtype != &mem_type_shared)
		return EINVAL;
	map_delete_region(vmp, r);
	return VM_OK;
}
