/* Allocation sites (see site.h). */
#include "site.h"
#include "../vm/util.h"

struct site_ctx site_now;

char *site_format(char *buf, size_t n, const struct vm_site *s)
{
	if (s == NULL || s->where == NULL) {
		vm_snprintf(buf, n, "unknown");
		return buf;
	}
	const struct site_ctx *c = &s->ctx;
	if (c->seq == 0) {
		vm_snprintf(buf, n, "%s (boot)", s->where);
		return buf;
	}
	const char *who = site_proc_name(c->ep);
	int len =
	    vm_snprintf(buf, n, "%s (call %u: %s by %s%sep 0x%x", s->where, c->seq,
			site_call_name(c->call), who ? who : "", who ? ", " : "", (unsigned)c->ep);
	if (c->addr && len >= 0 && (size_t)len < n)
		len += vm_snprintf(buf + len, n - (size_t)len, ", at 0x%08x", c->addr);
	if (len >= 0 && (size_t)len < n)
		vm_snprintf(buf + len, n - (size_t)len, ")");
	return buf;
}

char *site_format_here(char *buf, size_t n, const char *where)
{
	struct vm_site now;

	site_set(&now, where);
	return site_format(buf, n, &now);
}
