/*
 * Memory grants.
 *
 * A grant gives one other process read, write or read-write access to a
 * byte range of the granter's memory. The tables are kept by VM (MINIX
 * keeps them in the granter's memory for the kernel to read; here VM is
 * the one place both machines share, so it checks them itself). A grant
 * id is generation << 16 | slot << 6 | index: the generation of a table
 * entry grows each time the entry is freed, so an id is never honoured
 * for a later grant that reuses the entry (for 65,535 reuses of one entry).
 *
 * safecopy copies between the grant and the grantee's memory. Whole pages
 * of private anonymous memory, when the copy is long enough and both sides
 * are page-aligned alike, are shared copy-on-write instead of copied; a
 * page of shared memory (safemapped, remapped, mmap shared) is always
 * copied byte for byte, so nobody can tell the difference afterwards.
 * safemap maps granted pages into the grantee like remap does (the granted
 * range becomes a region of its own in the granter, shared from then on);
 * revoking a grant, or saferevmap, unmaps every region mapped through it.
 */
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>

#include "../sanity/report.h"
#include "glo.h"
#include "grant.h"
#include "memtype.h"
#include "proto.h"
#include "region.h"
#include "slab.h"
#include "util.h"

#define ID_INDEX(id) ((id) & (GRANTS_PER_PROC - 1))
#define ID_SLOT(id) (((id) >> 6) & (VM_NR_PROCS - 1))
#define ID_GEN(id) ((id) >> 16)
#define MAKE_ID(gen, slot, index) (((uint32_t)(gen) << 16) | ((uint32_t)(slot) << 6) | (index))

struct grant_stats grant_stats;
static uint16_t grant_gen[VM_NR_PROCS][GRANTS_PER_PROC];

void grant_init(void)
{
	memset(&grant_stats, 0, sizeof(grant_stats));
	memset(grant_gen, 0, sizeof(grant_gen));
}

int grant_lookup(uint32_t id, struct vmproc **granter, struct grant **g)
{
	struct vmproc *vmp = &vmproc[ID_SLOT(id)];
	unsigned i = ID_INDEX(id);

	if (!(vmp->vm_flags & VMF_INUSE) || vmp->vm_grants == NULL || !vmp->vm_grants->g[i].inuse ||
	    grant_gen[ID_SLOT(id)][i] != ID_GEN(id))
		return EPERM;
	*granter = vmp;
	*g = &vmp->vm_grants->g[i];
	return VM_OK;
}

/* Unmap every region mapped through grant id, in every process. */
static void unmap_grant(uint32_t id)
{
	for (int i = 0; i < VM_NR_PROCS; i++) {
		struct vmproc *vmp = &vmproc[i];
		if (!(vmp->vm_flags & VMF_INUSE))
			continue;
		struct avl_node *n = avl_first(&vmp->vm_regions_avl);
		while (n) {
			struct vir_region *r = avl_entry(n, struct vir_region, node);
			n = avl_next(n);
			if ((r->flags & VR_SAFEMAP) && r->grant == id)
				map_delete_region(vmp, r);
		}
	}
}

/* Free entry i of vmp's table: its id is dead from now on. */
static void grant_free(struct vmproc *vmp, unsigned i)
{
	unsigned slot = (unsigned)VM_ENDPOINT_SLOT(vmp->vm_endpoint);

	unmap_grant(MAKE_ID(grant_gen[slot][i], slot, i));
	USE(vmp->vm_grants, vmp->vm_grants->g[i].inuse = false; vmp->vm_grants->count--);
	grant_gen[slot][i]++; /* wraps after 65,535 reuses of this entry */
	grant_stats.grants--;
	grant_stats.revoked++;
}

void grant_release(struct vmproc *vmp)
{
	if (vmp->vm_grants == NULL)
		return;
	for (unsigned i = 0; i < GRANTS_PER_PROC; i++)
		if (vmp->vm_grants->g[i].inuse)
			grant_free(vmp, i);
	SLABFREE(vmp->vm_grants);
	vmp->vm_grants = NULL;
}

uint32_t grant_id_of(const struct vmproc *vmp, uint32_t index)
{
	unsigned slot = (unsigned)VM_ENDPOINT_SLOT(vmp->vm_endpoint);
	return MAKE_ID(grant_gen[slot][index], slot, index);
}

int do_grant(message *m)
{
	struct vmproc *vmp, *grantee;
	endpoint_t to = m->m_grant.grantee;
	uint32_t access = m->m_grant.access;
	int r;

	if ((r = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return r;
	if (to != VM_PROC_NR && (r = vm_isokendpt(to, &grantee)) != VM_OK)
		return r;
	if (access == 0 || (access & ~(uint32_t)(VM_GRANT_READ | VM_GRANT_WRITE)) ||
	    m->m_grant.len == 0 || m->m_grant.len - 1 > 0xFFFFFFFFu - m->m_grant.addr)
		return EINVAL;
	if (vmp->vm_grants == NULL && SLABALLOC(vmp->vm_grants) == NULL)
		return ENOMEM;
	unsigned i;
	for (i = 0; i < GRANTS_PER_PROC && vmp->vm_grants->g[i].inuse; i++)
		;
	if (i == GRANTS_PER_PROC)
		return ENOSPC;
	struct grant *g = &vmp->vm_grants->g[i];
	USE(vmp->vm_grants, g->inuse = true; g->access = (uint8_t)access; g->grantee = to;
	    g->addr = m->m_grant.addr; g->len = m->m_grant.len; vmp->vm_grants->count++);
	unsigned slot = (unsigned)VM_ENDPOINT_SLOT(vmp->vm_endpoint);
	m->m_grant.id = MAKE_ID(grant_gen[slot][i], slot, i);
	grant_stats.grants++;
	grant_stats.made++;
	return VM_OK;
}

/* The caller's own grant id, or EPERM. */
static int own_grant(message *m, struct vmproc **vmp, struct grant **g)
{
	struct vmproc *granter;
	int r;

	if ((r = vm_isokendpt(m->m_source, vmp)) != VM_OK)
		return r;
	if (grant_lookup(m->m_grant.id, &granter, g) != VM_OK || granter != *vmp) {
		grant_stats.refused++;
		return EPERM;
	}
	return VM_OK;
}

void grant_revoke(uint32_t id)
{
	struct vmproc *granter;
	struct grant *g;

	if (grant_lookup(id, &granter, &g) == VM_OK)
		grant_free(granter, ID_INDEX(id));
}

int do_revoke(message *m)
{
	struct vmproc *vmp;
	struct grant *g;
	int r;

	if ((r = own_grant(m, &vmp, &g)) != VM_OK)
		return r;
	grant_free(vmp, ID_INDEX(m->m_grant.id));
	return VM_OK;
}

int do_saferevmap(message *m)
{
	struct vmproc *vmp;
	struct grant *g;
	int r;

	if ((r = own_grant(m, &vmp, &g)) != VM_OK)
		return r;
	unmap_grant(m->m_grant.id);
	return VM_OK;
}

/*
 * The physical address of the byte at v in vmp, made resident (and
 * private, for a write) as the process's own access would: EFAULT where
 * the process could not make that access.
 */
static int resident(struct vmproc *vmp, vir_bytes v, bool write, phys_bytes *pa)
{
	struct vir_region *r = map_lookup(vmp, v);
	struct phys_region *pr;

	if (r == NULL)
		return EFAULT;
	pr = map_phys_at(vmp, rounddown_page(v));
	if (pr == NULL || (write && !r->memtype->writable(pr))) {
		enum pf_result res = map_pf(vmp, r, v, write);
		if (res != PF_RESOLVED)
			return res == PF_NOMEM ? ENOMEM : EFAULT;
		pr = map_phys_at(vmp, rounddown_page(v));
	} else if (!(r->flags & VR_READABLE) || (write && !(r->flags & VR_WRITABLE))) {
		return EFAULT;
	}
	*pa = pr->ph->phys + (v & VM_PAGE_MASK);
	return VM_OK;
}

/*
 * Share the page at sv (svmp) copy-on-write at dv (dvmp), both page
 * aligned: 1 if done, 0 if this page must be copied byte for byte (shared
 * memory, or another mem type), or an errno (as negative).
 */
static int cow_page(struct vmproc *svmp, vir_bytes sv, struct vmproc *dvmp, vir_bytes dv)
{
	struct vir_region *sr = map_lookup(svmp, sv), *dr = map_lookup(dvmp, dv);
	phys_bytes pa;
	int r;

	if (sr == NULL || dr == NULL)
		return -EFAULT;
	if (sr->memtype != &mem_type_anon || dr->memtype != &mem_type_anon ||
	    ((sr->flags | dr->flags) & VR_SHARED) || !(dr->flags & VR_WRITABLE))
		return 0;
	if ((r = resident(svmp, sv, false, &pa)) != VM_OK)
		return -r;
	struct phys_region *spr = map_phys_at(svmp, sv), *dpr = map_phys_at(dvmp, dv);
	struct phys_block *pb = spr->ph;
	if (pb->refcount == UINT32_MAX)
		return 0;
	if (dpr && dpr->ph == pb)
		return 1; /* already the same page */
	if (dpr) {
		pb_move(dpr, pb); /* the old page goes when nobody else has it */
	} else {
		if (pt_ptalloc_in_range(&dvmp->vm_pt, dv, VM_PAGE_SIZE) != VM_OK ||
		    (dpr = pb_reference(pb, dr, dv)) == NULL)
			return -ENOMEM;
	}
	if (map_ph_writept(svmp, spr) != VM_OK || map_ph_writept(dvmp, dpr) != VM_OK)
		panic("%s: page tables vanished", __func__);
	grant_stats.safecopy_cow_pages++;
	return 1;
}

int grant_copy(struct vmproc *svmp, vir_bytes sv, struct vmproc *dvmp, vir_bytes dv, vir_bytes len,
	       bool cow)
{
	phys_bytes spa, dpa;
	int r;

	cow = cow && len >= SAFECOPY_COW_MIN && (sv & VM_PAGE_MASK) == (dv & VM_PAGE_MASK);
	while (len > 0) {
		if (cow && !(sv & VM_PAGE_MASK) && len >= VM_PAGE_SIZE) {
			r = cow_page(svmp, sv, dvmp, dv);
			if (r < 0)
				return -r;
			if (r == 1) {
				sv += VM_PAGE_SIZE;
				dv += VM_PAGE_SIZE;
				len -= VM_PAGE_SIZE;
				continue;
			}
		}
		vir_bytes chunk = VM_PAGE_SIZE - (sv & VM_PAGE_MASK);
		if (chunk > VM_PAGE_SIZE - (dv & VM_PAGE_MASK))
			chunk = VM_PAGE_SIZE - (dv & VM_PAGE_MASK);
		if (chunk > len)
			chunk = len;
		if ((r = resident(dvmp, dv, true, &dpa)) != VM_OK ||
		    (r = resident(svmp, sv, false, &spa)) != VM_OK)
			return r;
		sys_physcopy(spa, dpa, chunk);
		sv += chunk;
		dv += chunk;
		len -= chunk;
	}
	return VM_OK;
}

/* Copy between vmp's memory and buf (write: into vmp). */
static int grant_rw(struct vmproc *vmp, vir_bytes v, void *buf, vir_bytes len, bool write)
{
	uint8_t *b = buf;

	while (len > 0) {
		vir_bytes chunk = VM_PAGE_SIZE - (v & VM_PAGE_MASK);
		phys_bytes pa;
		int r;
		if (chunk > len)
			chunk = len;
		if ((r = resident(vmp, v, write, &pa)) != VM_OK)
			return r;
		if (write)
			memcpy(sys_directmap(pa), b, chunk);
		else
			memcpy(b, sys_directmap(pa), chunk);
		v += chunk;
		b += chunk;
		len -= chunk;
	}
	return VM_OK;
}

int grant_read(struct vmproc *vmp, vir_bytes v, void *buf, vir_bytes len)
{
	return grant_rw(vmp, v, buf, len, false);
}

int grant_write(struct vmproc *vmp, vir_bytes v, const void *buf, vir_bytes len)
{
	return grant_rw(vmp, v, (void *)(uintptr_t)buf, len, true);
}

int do_safecopy(message *m)
{
	struct vmproc *caller, *granter;
	struct grant *g;
	vir_bytes off = m->m_safecopy.off, len = m->m_safecopy.len;
	uint32_t dir = m->m_safecopy.dir;
	int r;

	if ((r = vm_isokendpt(m->m_source, &caller)) != VM_OK)
		return r;
	if (dir != VM_SAFECOPY_TO && dir != VM_SAFECOPY_FROM)
		return EINVAL;
	uint32_t need = dir == VM_SAFECOPY_TO ? VM_GRANT_WRITE : VM_GRANT_READ;
	if (grant_lookup(m->m_safecopy.id, &granter, &g) != VM_OK ||
	    g->grantee != caller->vm_endpoint || !(g->access & need) || off > g->len ||
	    len > g->len - off) {
		grant_stats.refused++;
		return EPERM;
	}
	if (len > 0 && len - 1 > 0xFFFFFFFFu - m->m_safecopy.addr)
		return EFAULT;
	vir_bytes ga = g->addr + off;
	grant_stats.safecopies++;
	grant_stats.safecopy_bytes += len;
	if (dir == VM_SAFECOPY_TO)
		return grant_copy(caller, m->m_safecopy.addr, granter, ga, len, true);
	return grant_copy(granter, ga, caller, m->m_safecopy.addr, len, true);
}

/* The region after r in its process, or NULL. */
static struct vir_region *next_region(struct vir_region *r)
{
	struct avl_node *n = avl_next(&r->node);
	return n ? avl_entry(n, struct vir_region, node) : NULL;
}

int grant_map(struct vmproc *vmp, uint32_t id, vir_bytes off, vir_bytes len, bool ro,
	      vir_bytes *addr)
{
	struct vmproc *granter;
	struct grant *g;
	struct vir_region *src, *dst;
	int r;

	if (grant_lookup(id, &granter, &g) != VM_OK)
		return EPERM;
	if ((off | len) & VM_PAGE_MASK || len == 0 || ((g->addr + off) & VM_PAGE_MASK))
		return EINVAL;
	if (off > g->len || len > g->len - off || !(g->access & VM_GRANT_READ) ||
	    (!ro && !(g->access & VM_GRANT_WRITE)))
		return EPERM;
	/* The granted range: whole pages of consecutive regions that can be
	 * shared (earlier safemaps may have split it into several). */
	vir_bytes ga = g->addr + off, gend = ga + len;
	uint32_t prot = VR_READABLE | VR_WRITABLE | VR_EXEC;
	if (ga < vm_kinfo.user_lo || ga > vm_kinfo.user_hi || len > vm_kinfo.user_hi - ga)
		return EFAULT; /* outside user space: nothing there to map */
	for (vir_bytes a = ga; a < gend;) {
		struct vir_region *s = map_lookup(granter, a);
		if (s == NULL ||
		    (s->memtype != &mem_type_anon && s->memtype != &mem_type_anon_contig &&
		     s->memtype != &mem_type_directphys && s->memtype != &mem_type_shared))
			return EFAULT;
		/* Memory mapped through a grant is not granted on: revoking the
		 * first grant must reach every mapping of it. */
		if (s->flags & VR_SAFEMAP)
			return EPERM;
		prot &= s->flags;
		a = s->vaddr + s->length;
	}
	vir_bytes v = *addr;
	if (v == 0 || (v & VM_PAGE_MASK) || !map_range_free(vmp, v, len))
		v = map_find_free(vmp, vm_kinfo.user_lo, vm_kinfo.user_hi, len);
	if (v == 0)
		return ENOMEM;
	/* Only the granted pages turn shared: they become regions of their
	 * own in the granter, made resident (and private first: a page still
	 * copy-on-write with a fork relative is copied for the granter). */
	if ((r = map_isolate(granter, ga, len)) != VM_OK)
		return r;
	for (src = map_lookup(granter, ga); src && src->vaddr < gend; src = next_region(src))
		if (map_handle_memory(granter, src, src->vaddr, src->length,
				      !(src->flags & VR_SHARED)) != VM_OK)
			return ENOMEM;
	uint32_t flags = (prot & VR_PROTMASK) | VR_SHARED | VR_SAFEMAP;
	if (ro)
		flags &= ~(uint32_t)VR_WRITABLE;
	if ((dst = map_page_region(vmp, v, len, flags, &mem_type_shared, 0)) == NULL)
		return ENOMEM;
	USE(dst, dst->grant = id);
	r = VM_OK;
	for (src = map_lookup(granter, ga); src && src->vaddr < gend; src = next_region(src)) {
		if (!(src->flags & VR_SHARED))
			USE(src, src->flags |= VR_SHARED | VR_NEWSHARED);
		if (r == VM_OK)
			r = map_copy_refs_at(src, dst, v + (src->vaddr - ga));
	}
	if (r != VM_OK)
		map_delete_region(vmp, dst);
	/* Sources shared by this call stay so only if it worked. */
	for (src = map_lookup(granter, ga); src && src->vaddr < gend; src = next_region(src)) {
		uint32_t f = src->flags & ~(uint32_t)VR_NEWSHARED;
		if ((src->flags & VR_NEWSHARED) && r != VM_OK)
			f &= ~(uint32_t)VR_SHARED;
		USE(src, src->flags = f);
	}
	if (r != VM_OK)
		return r;
	grant_stats.safemaps++;
	*addr = v;
	return VM_OK;
}

int do_safemap(message *m)
{
	struct vmproc *caller, *granter;
	struct grant *g;
	int r;

	if ((r = vm_isokendpt(m->m_source, &caller)) != VM_OK)
		return r;
	if (m->m_safemap.flags & ~VM_SAFEMAP_RO)
		return EINVAL;
	if (grant_lookup(m->m_safemap.id, &granter, &g) != VM_OK ||
	    g->grantee != caller->vm_endpoint) {
		grant_stats.refused++;
		return EPERM;
	}
	vir_bytes addr = m->m_safemap.addr;
	r = grant_map(caller, m->m_safemap.id, m->m_safemap.off, m->m_safemap.len,
		      (m->m_safemap.flags & VM_SAFEMAP_RO) != 0, &addr);
	if (r == EPERM)
		grant_stats.refused++;
	if (r == VM_OK)
		m->m_safemap.addr = addr;
	return r;
}

uint32_t grant_sanitycheck(void)
{
	uint32_t findings = 0, grants = 0;

	for (int i = 0; i < VM_NR_PROCS; i++) {
		struct vmproc *vmp = &vmproc[i];
		if (!(vmp->vm_flags & VMF_INUSE))
			continue;
		if (vmp->vm_grants) {
			uint32_t n = 0;
			for (unsigned k = 0; k < GRANTS_PER_PROC; k++)
				n += vmp->vm_grants->g[k].inuse;
			if (n != vmp->vm_grants->count) {
				sanity_report(SK_COUNTER, SANITY_NO_FRAME,
					      "%s: %u grants in use, %u recorded", vmp->vm_name, n,
					      vmp->vm_grants->count);
				findings++;
			}
			grants += n;
		}
		for (struct avl_node *n = avl_first(&vmp->vm_regions_avl); n; n = avl_next(n)) {
			struct vir_region *r = avl_entry(n, struct vir_region, node);
			struct vmproc *granter;
			struct grant *g;
			if (!(r->flags & VR_SAFEMAP))
				continue;
			if (grant_lookup(r->grant, &granter, &g) != VM_OK) {
				sanity_report(SK_GRANT, SANITY_NO_FRAME,
					      "%s: region 0x%x is mapped through grant 0x%x, "
					      "which is gone",
					      vmp->vm_name, r->vaddr, r->grant);
				findings++;
			}
		}
	}
	if (grants != grant_stats.grants) {
		sanity_report(SK_COUNTER, SANITY_NO_FRAME,
			      "grants: %u grants in tables, %u recorded", grants,
			      grant_stats.grants);
		findings++;
	}
	return findings;
}
