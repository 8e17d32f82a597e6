/*
 * VM_INFO: the debug call (docs/debug-call.md, include/vmscope/vminfo.h).
 *
 * The kernel names a subcall, its arguments and a buffer in its own memory
 * (by physical address); VM writes the reply payload there. Everything a
 * reply needs is kept up to date as VM works — counters, per-process
 * resident, shared and copy-on-write pages, proportional set — so
 * statistics and the process list never walk pages. Only what is asked
 * about one region (its pages, its shared and copy-on-write counts) walks
 * that region's pages.
 */
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/vminfo.h>

#include "../sanity/report.h"
#include "alloc.h"
#include "cache.h"
#include "glo.h"
#include "grant.h"
#include "memtype.h"
#include "proto.h"
#include "region.h"
#include "slab.h"
#include "util.h"

struct vmi_sanity vm_sanity_result;

/* The reply buffer: kernel memory the kernel named, never a pool frame,
 * aligned for the replies' 64-bit fields. */
static void *reply_buffer(phys_bytes buf, uint32_t len)
{
	if (buf & 7)
		return NULL;
	for (uint32_t i = 0; i < vm_kinfo.nr_reserved; i++) {
		const struct kinfo_range *k = &vm_kinfo.reserved[i];
		if (k->owner == KRES_KERNEL && buf >= k->base && buf - k->base <= k->len &&
		    len <= k->len - (buf - k->base))
			return sys_directmap(buf);
	}
	return NULL;
}

void info_fill_stats(struct vmi_stats *s)
{
	phys_bytes self;
	uint32_t selfpages;

	memset(s, 0, sizeof(*s));
	phys_self_range(&self, &selfpages);
	s->page_size = VM_PAGE_SIZE;
	s->pages_total = phys_total_pages();
	s->pages_free = phys_free_pages();
	s->largest_free = phys_largest_run();
	s->pages_cached = cache_stats.pages;
	s->pages_slab = slab_pages();
	s->pages_pagetables = vm_stats.pagetables;
	s->pages_vm = selfpages;
	for (int i = 0; i < VM_NR_PROCS; i++)
		s->nprocs += (vmproc[i].vm_flags & VMF_INUSE) != 0;
	s->grants = grant_stats.grants;
	s->pf_zerofill = vm_stats.pf_zerofill;
	s->pf_cowcopy = vm_stats.pf_cowcopy;
	s->pf_cowreuse = vm_stats.pf_cowreuse;
	s->pf_shared = vm_stats.pf_shared;
	s->pf_refused = vm_stats.pf_refused;
	s->pf_nomem = vm_stats.pf_nomem;
	s->spawns = vm_stats.spawns;
	s->forks = vm_stats.forks;
	s->execs = vm_stats.execs;
	s->exits = vm_stats.exits;
	s->evictions = cache_stats.evictions;
	s->bad_calls = vm_stats.bad_calls;
	s->forged = vm_stats.forged;
	for (int i = 0; i < VMI_NCALLS; i++)
		s->calls[i] = vm_stats.calls[i];
}

static uint32_t count_blocks(const struct vmproc *vmp)
{
	uint32_t n = 0;

	for (const struct cached_block *b = vmp->vm_yielded; b; b = cache_block_next(b))
		n++;
	return n;
}

void info_fill_proc(struct vmproc *vmp, struct vmi_proc *p)
{
	memset(p, 0, sizeof(*p));
	p->endpoint = vmp->vm_endpoint;
	memcpy(p->name, vmp->vm_name, sizeof(p->name));
	p->flags = vmp->vm_flags & VMF_PRIV;
	p->resident = vmproc_resident(vmp);
	p->shared = vmp->vm_shared;
	p->cow = vmp->vm_cow;
	p->virtual_pages = vmp->vm_virtual;
	p->regions = (uint32_t)vmp->vm_regions_avl.count;
	p->minflt = vmp->vm_minflt;
	p->brk = vmp->vm_brk;
	p->pss_1k = vmp->vm_pss_1k;
	p->cache_blocks = count_blocks(vmp);
	p->grants = vmp->vm_grants ? vmp->vm_grants->count : 0;
}

void info_fill_region(struct vmproc *vmp, const struct vir_region *r, struct vmi_region *e)
{
	memset(e, 0, sizeof(*e));
	e->start = r->vaddr;
	e->length = r->length;
	e->flags = r->flags;
	e->memtype = r->memtype->id;
	e->resident = r->resident;
	map_count_shared(vmp, r->vaddr, r->vaddr + r->length, &e->shared, &e->cow);
	e->grant = (r->flags & VR_SAFEMAP) ? r->grant : 0;
}

/* The list header at the start of the buffer and room for entries. */
struct lister {
	struct vmi_list *list;
	uint8_t *next;
	uint32_t room; /* entries that still fit */
	uint32_t size;
};

static void list_start(struct lister *l, void *buf, uint32_t buflen, uint32_t size)
{
	l->list = buf;
	memset(l->list, 0, sizeof(*l->list));
	l->list->entry_size = size;
	l->next = (uint8_t *)buf + sizeof(struct vmi_list);
	l->room = (buflen - (uint32_t)sizeof(struct vmi_list)) / size;
	l->size = size;
}

/* Room for one more entry (zeroed), or NULL: then the list has more,
 * from cursor. */
static void *list_add(struct lister *l, uint32_t cursor)
{
	if (l->room == 0) {
		l->list->more = 1;
		l->list->next = cursor;
		return NULL;
	}
	void *e = l->next;
	memset(e, 0, l->size);
	l->next += l->size;
	l->room--;
	l->list->count++;
	return e;
}

static uint32_t list_len(const struct lister *l)
{
	return (uint32_t)(l->next - (uint8_t *)l->list);
}

static int info_procs(message *m, void *buf, uint32_t buflen)
{
	struct lister l;

	list_start(&l, buf, buflen, sizeof(struct vmi_proc));
	for (uint32_t i = m->m_info.cursor; i < VM_NR_PROCS; i++) {
		struct vmproc *vmp = &vmproc[i];
		if (!(vmp->vm_flags & VMF_INUSE))
			continue;
		struct vmi_proc *p = list_add(&l, i);
		if (p == NULL)
			break;
		info_fill_proc(vmp, p);
	}
	m->m_info.len = list_len(&l);
	return VM_OK;
}

static int info_regions(message *m, struct vmproc *vmp, void *buf, uint32_t buflen)
{
	struct lister l;
	struct avl_node *n = avl_lookup_ge(&vmp->vm_regions_avl, m->m_info.cursor);

	list_start(&l, buf, buflen, sizeof(struct vmi_region));
	for (; n; n = avl_next(n)) {
		struct vir_region *r = avl_entry(n, struct vir_region, node);
		struct vmi_region *e = list_add(&l, r->vaddr);
		if (e == NULL)
			break;
		info_fill_region(vmp, r, e);
	}
	m->m_info.len = list_len(&l);
	return VM_OK;
}

static int info_pages(message *m, struct vmproc *vmp, void *buf, uint32_t buflen)
{
	struct vir_region *r = map_lookup(vmp, m->m_info.addr);
	struct lister l;
	struct phys_region *pr;

	if (r == NULL)
		return EINVAL;
	vir_bytes from = m->m_info.cursor > r->vaddr ? m->m_info.cursor : r->vaddr;
	uint32_t key = from >> VM_PAGE_SHIFT, last = (r->vaddr + r->length - 1) >> VM_PAGE_SHIFT;
	list_start(&l, buf, buflen, sizeof(struct vmi_page));
	while (from < r->vaddr + r->length && (pr = radix_next(&vmp->vm_pages, &key)) != NULL &&
	       key <= last) {
		struct vmi_page *e = list_add(&l, key << VM_PAGE_SHIFT);
		if (e == NULL)
			break;
		e->vaddr = key << VM_PAGE_SHIFT;
		e->phys = pr->ph->phys;
		e->refcount = pr->ph->refcount;
		e->cacheref = pr->ph->cacheref;
		e->pte = pt_lookup(&vmp->vm_pt, e->vaddr);
		key++;
	}
	m->m_info.len = list_len(&l);
	return VM_OK;
}

static int info_slab(message *m, void *buf, uint32_t buflen)
{
	struct lister l;
	struct slab_stats st;

	list_start(&l, buf, buflen, sizeof(struct vmi_slab));
	for (uint32_t i = m->m_info.cursor; slab_stats_at(i, &st); i++) {
		struct vmi_slab *e = list_add(&l, i);
		if (e == NULL)
			break;
		e->size = st.size;
		e->pages = st.pages;
		e->objects = st.objects;
		e->inuse = st.inuse;
	}
	m->m_info.len = list_len(&l);
	return VM_OK;
}

/* The findings of the last check, as printed. */
static int info_findings(message *m, void *buf, uint32_t buflen)
{
	struct lister l;
	const struct sanity_finding *f;

	list_start(&l, buf, buflen, sizeof(struct vmi_finding));
	for (uint32_t i = m->m_info.cursor; (f = sanity_log(i)) != NULL; i++) {
		struct vmi_finding *e = list_add(&l, i);
		if (e == NULL)
			break;
		e->kind = f->kind;
		e->frame = f->frame;
		vm_snprintf(e->kind_name, sizeof(e->kind_name), "%s", sanity_kind_name(f->kind));
		vm_snprintf(e->text, sizeof(e->text), "%s", f->text);
		if (f->site.where)
			site_format(e->alloc, sizeof(e->alloc), &f->site);
		if (f->freed.where)
			site_format(e->freed, sizeof(e->freed), &f->freed);
	}
	m->m_info.len = list_len(&l);
	return VM_OK;
}

/* Regions mapped through grant id, in every process. */
static uint32_t mapped_through(uint32_t id)
{
	uint32_t n = 0;

	for (int i = 0; i < VM_NR_PROCS; i++) {
		if (!(vmproc[i].vm_flags & VMF_INUSE))
			continue;
		for (struct avl_node *a = avl_first(&vmproc[i].vm_regions_avl); a;
		     a = avl_next(a)) {
			struct vir_region *r = avl_entry(a, struct vir_region, node);
			n += (r->flags & VR_SAFEMAP) && r->grant == id;
		}
	}
	return n;
}

/* The grants ep made and the grants it holds; cursor counts grants
 * already listed, in the order below. */
static int info_grants(message *m, struct vmproc *vmp, void *buf, uint32_t buflen)
{
	struct lister l;
	uint32_t seen = 0;

	list_start(&l, buf, buflen, sizeof(struct vmi_grant));
	for (int i = 0; i < VM_NR_PROCS; i++) {
		struct vmproc *p = &vmproc[i];
		if (!(p->vm_flags & VMF_INUSE) || p->vm_grants == NULL)
			continue;
		for (uint32_t k = 0; k < GRANTS_PER_PROC; k++) {
			struct grant *g = &p->vm_grants->g[k];
			if (!g->inuse || (p != vmp && g->grantee != vmp->vm_endpoint))
				continue;
			if (seen++ < m->m_info.cursor)
				continue;
			struct vmi_grant *e = list_add(&l, seen - 1);
			if (e == NULL)
				goto done;
			e->id = grant_id_of(p, k);
			e->granter = p->vm_endpoint;
			e->grantee = g->grantee;
			e->addr = g->addr;
			e->len = g->len;
			e->access = g->access;
			e->mapped = mapped_through(e->id);
		}
	}
done:
	m->m_info.len = list_len(&l);
	return VM_OK;
}

int do_info(message *m)
{
	uint32_t buflen = m->m_info.buflen;
	void *buf = reply_buffer(m->m_info.buf, buflen);
	struct vmproc *vmp = NULL;
	int r;

	if (buf == NULL || buflen < sizeof(struct vmi_stats))
		return EINVAL;
	m->m_info.len = 0;
	switch (m->m_info.subcall) {
	case VMI_REGIONS:
	case VMI_PAGES:
	case VMI_GRANTS:
		if ((r = vm_isokendpt(m->m_info.endpoint, &vmp)) != VM_OK)
			return r;
		break;
	default:
		break;
	}
	switch (m->m_info.subcall) {
	case VMI_STATS:
		info_fill_stats(buf);
		m->m_info.len = sizeof(struct vmi_stats);
		return VM_OK;
	case VMI_PROCS:
		return info_procs(m, buf, buflen);
	case VMI_REGIONS:
		return info_regions(m, vmp, buf, buflen);
	case VMI_PAGES:
		return info_pages(m, vmp, buf, buflen);
	case VMI_CACHE: {
		struct vmi_cache *c = buf;
		memset(c, 0, sizeof(*c));
		c->blocks = cache_stats.blocks;
		c->pages = cache_stats.pages;
		c->yields = cache_stats.yields;
		c->hits = cache_stats.hits;
		c->misses = cache_stats.misses;
		c->evictions = cache_stats.evictions;
		c->forgets = cache_stats.forgets;
		m->m_info.len = sizeof(*c);
		return VM_OK;
	}
	case VMI_SLAB:
		return info_slab(m, buf, buflen);
	case VMI_GRANTS:
		return info_grants(m, vmp, buf, buflen);
	case VMI_FINDINGS:
		return info_findings(m, buf, buflen);
	case VMI_SANITY:
		if (m->m_info.flags & ~(uint32_t)VMI_SANITY_RUN)
			return EINVAL;
		if (m->m_info.flags & VMI_SANITY_RUN)
			sanity_check();
		memcpy(buf, &vm_sanity_result, sizeof(vm_sanity_result));
		m->m_info.len = sizeof(vm_sanity_result);
		return VM_OK;
	default:
		return EINVAL;
	}
}
