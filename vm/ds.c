/*
 * The data store (MINIX's DS, inside VM here): named entries a process
 * publishes and others retrieve — labels (a name for an endpoint), memory
 * ranges (copied in through a grant to VM when published, copied out
 * through a grant to VM when retrieved) and mapped ranges (the publisher's
 * grant, safemapped into each retriever). Subscribers to a name, or to a
 * prefix written "prefix*", get a notice, fetched with VM_DS_CHECK, when a
 * matching entry is deleted — by its publisher, or because the publisher
 * exited. Entries and notices are VM objects (slab memory).
 */
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>

#include "glo.h"
#include "grant.h"
#include "proto.h"
#include "slab.h"
#include "util.h"

#define DS_MAX_NOTICES 64 /* per subscriber; later ones are dropped */

struct ds_entry {
	char name[VM_DS_NAME_LEN];
	uint32_t type;
	endpoint_t owner;
	endpoint_t label; /* VM_DS_LABEL */
	uint32_t grant;   /* VM_DS_MAP: the publisher's grant to VM */
	vir_bytes len;    /* VM_DS_MEM and VM_DS_MAP */
	uint8_t *data;    /* VM_DS_MEM: len bytes */
	struct ds_entry *next;
};

struct ds_sub {
	endpoint_t ep;
	char pattern[VM_DS_NAME_LEN];
	struct ds_sub *next;
};

struct ds_notice {
	endpoint_t ep;
	char name[VM_DS_NAME_LEN];
	uint32_t type;
	struct ds_notice *next;
};

static struct ds_entry *entries;
static struct ds_sub *subs;
static struct ds_notice *notices, **notices_tail;

void ds_init(void)
{
	entries = NULL;
	subs = NULL;
	notices = NULL;
	notices_tail = &notices;
}

/* A name from a message: non-empty and terminated within the field. */
static bool good_name(const char *name)
{
	return name[0] != '\0' && memchr(name, '\0', VM_DS_NAME_LEN) != NULL;
}

static struct ds_entry **find(const char *name)
{
	struct ds_entry **e;

	for (e = &entries; *e; e = &(*e)->next)
		if (!strcmp((*e)->name, name))
			break;
	return e;
}

static bool matches(const char *pattern, const char *name)
{
	size_t n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '*')
		return !strncmp(pattern, name, n - 1);
	return !strcmp(pattern, name);
}

static unsigned pending(endpoint_t ep)
{
	unsigned n = 0;

	for (struct ds_notice *q = notices; q; q = q->next)
		n += q->ep == ep;
	return n;
}

/* Remove *e, telling its subscribers. A mapped range's grant was handed
 * to the store with the entry: it ends with it, unmapping the range from
 * every retriever. */
static void delete_entry(struct ds_entry **e)
{
	struct ds_entry *d = *e;

	USE(e, *e = d->next); /* entries, or the entry before d */
	if (d->type == VM_DS_MAP)
		grant_revoke(d->grant);
	for (struct ds_sub *s = subs; s; s = s->next) {
		struct ds_notice *q;
		if (!matches(s->pattern, d->name) || pending(s->ep) >= DS_MAX_NOTICES ||
		    SLABALLOC(q) == NULL)
			continue; /* a notice that cannot be kept is dropped */
		USE(q, q->ep = s->ep; q->type = d->type; memcpy(q->name, d->name, VM_DS_NAME_LEN));
		USE(notices_tail, *notices_tail = q);
		notices_tail = &q->next;
	}
	if (d->data)
		slabfree(d->data, d->len);
	SLABFREE(d);
}

/* The caller's own grant to VM with access and at least len bytes. */
static bool grant_to_vm(struct vmproc *vmp, uint32_t id, uint32_t access, vir_bytes len,
			struct grant **gp)
{
	struct vmproc *granter;
	struct grant *g;

	if (grant_lookup(id, &granter, &g) != VM_OK || granter != vmp || g->grantee != VM_PROC_NR ||
	    (g->access & access) != access || g->len < len)
		return false;
	*gp = g;
	return true;
}

int do_ds_publish(message *m)
{
	struct vmproc *vmp, *other;
	struct ds_entry *d;
	struct grant *g = NULL;
	int r;

	if ((r = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return r;
	if (!good_name(m->m_ds.name))
		return EINVAL;
	if (*find(m->m_ds.name))
		return EEXIST;
	switch (m->m_ds.type) {
	case VM_DS_LABEL:
		if ((r = vm_isokendpt(m->m_ds.ep, &other)) != VM_OK)
			return r;
		break;
	case VM_DS_MEM:
		if (m->m_ds.len == 0 || m->m_ds.len > VM_DS_MAXMEM)
			return EINVAL;
		if (!grant_to_vm(vmp, m->m_ds.grant, VM_GRANT_READ, m->m_ds.len, &g))
			return EPERM;
		break;
	case VM_DS_MAP:
		if (m->m_ds.len == 0)
			return EINVAL;
		if (!grant_to_vm(vmp, m->m_ds.grant, VM_GRANT_READ, m->m_ds.len, &g))
			return EPERM;
		break;
	default:
		return EINVAL;
	}
	if (SLABALLOC(d) == NULL)
		return ENOMEM;
	USE(d, memcpy(d->name, m->m_ds.name, VM_DS_NAME_LEN); d->type = m->m_ds.type;
	    d->owner = vmp->vm_endpoint; d->label = m->m_ds.ep; d->grant = m->m_ds.grant;
	    d->len = m->m_ds.len);
	if (d->type == VM_DS_MEM) {
		USE(d, d->data = slaballoc(d->len));
		if (d->data == NULL) {
			SLABFREE(d);
			return ENOMEM;
		}
		USE(d->data, r = grant_read(vmp, g->addr, d->data, d->len));
		if (r != VM_OK) {
			slabfree(d->data, d->len);
			SLABFREE(d);
			return r;
		}
	}
	USE(d, d->next = entries);
	entries = d;
	return VM_OK;
}

int do_ds_retrieve(message *m)
{
	struct vmproc *vmp;
	struct ds_entry *d;
	struct grant *g;
	int r;

	if ((r = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return r;
	if (!good_name(m->m_ds.name))
		return EINVAL;
	if ((d = *find(m->m_ds.name)) == NULL)
		return ESRCH;
	if (d->type != m->m_ds.type)
		return EINVAL;
	switch (d->type) {
	case VM_DS_LABEL:
		m->m_ds.ep = d->label;
		return VM_OK;
	case VM_DS_MEM:
		if (!grant_to_vm(vmp, m->m_ds.grant, VM_GRANT_WRITE, d->len, &g))
			return EPERM;
		m->m_ds.len = d->len;
		return grant_write(vmp, g->addr, d->data, d->len);
	default: { /* VM_DS_MAP: VM maps the publisher's grant to itself */
		vir_bytes addr = 0;
		r = grant_map(vmp, d->grant, 0, d->len, (m->m_ds.flags & VM_SAFEMAP_RO) != 0,
			      &addr);
		if (r == VM_OK) {
			m->m_ds.addr = addr;
			m->m_ds.len = d->len;
		}
		return r;
	}
	}
}

int do_ds_delete(message *m)
{
	struct vmproc *vmp;
	struct ds_entry **e;
	int r;

	if ((r = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return r;
	if (!good_name(m->m_ds.name))
		return EINVAL;
	if (*(e = find(m->m_ds.name)) == NULL)
		return ESRCH;
	if ((*e)->owner != vmp->vm_endpoint)
		return EPERM;
	delete_entry(e);
	return VM_OK;
}

int do_ds_subscribe(message *m)
{
	struct vmproc *vmp;
	struct ds_sub *s;
	int r;

	if ((r = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return r;
	if (!good_name(m->m_ds.name))
		return EINVAL;
	if (SLABALLOC(s) == NULL)
		return ENOMEM;
	USE(s, s->ep = vmp->vm_endpoint; memcpy(s->pattern, m->m_ds.name, VM_DS_NAME_LEN);
	    s->next = subs);
	subs = s;
	return VM_OK;
}

int do_ds_check(message *m)
{
	struct vmproc *vmp;
	struct ds_notice **q;
	int r;

	if ((r = vm_isokendpt(m->m_source, &vmp)) != VM_OK)
		return r;
	for (q = &notices; *q && (*q)->ep != vmp->vm_endpoint; q = &(*q)->next)
		;
	if (*q == NULL)
		return ESRCH;
	struct ds_notice *n = *q;
	memcpy(m->m_ds.name, n->name, VM_DS_NAME_LEN);
	m->m_ds.type = n->type;
	USE(q, *q = n->next); /* notices, or the notice before n */
	if (notices_tail == &n->next)
		notices_tail = q;
	SLABFREE(n);
	return VM_OK;
}

void ds_release(struct vmproc *vmp, bool exiting)
{
	endpoint_t ep = vmp->vm_endpoint;

	for (struct ds_entry **e = &entries; *e;)
		if ((*e)->owner == ep)
			delete_entry(e);
		else
			e = &(*e)->next;
	if (!exiting)
		return; /* exec: the process goes on subscribed */
	for (struct ds_sub **s = &subs; *s;) {
		struct ds_sub *d = *s;
		if (d->ep == ep) {
			USE(s, *s = d->next);
			SLABFREE(d);
		} else {
			s = &d->next;
		}
	}
	for (struct ds_notice **q = &notices; *q;) {
		struct ds_notice *n = *q;
		if (n->ep == ep) {
			USE(q, *q = n->next);
			SLABFREE(n);
		} else {
			q = &n->next;
		}
	}
	notices_tail = &notices;
	while (*notices_tail)
		notices_tail = &(*notices_tail)->next;
}
