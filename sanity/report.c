/* Findings (see report.h). */
#include <stdarg.h>
#include <string.h>

#include "../vm/util.h"
#include "report.h"

static const char *const kind_names[SK_NKINDS] = {
	[SK_LEAK] = "leak",
	[SK_OVERLAP] = "overlap",
	[SK_REFCOUNT] = "refcount",
	[SK_PTE] = "pte",
	[SK_PAGETABLE] = "page table",
	[SK_REGION] = "region",
	[SK_AVL] = "avl",
	[SK_SHARING] = "sharing",
	[SK_COUNTER] = "counter",
	[SK_ALLOCATOR] = "allocator",
	[SK_SLAB] = "slab",
	[SK_DOUBLE_FREE] = "double free",
	[SK_BAD_FREE] = "bad free",
	[SK_WRITE_AFTER_FREE] = "write after free",
	[SK_LOCKED_WRITE] = "locked write",
	[SK_CACHE] = "cache",
	[SK_GRANT] = "grant",
	[SK_OTHER] = "other",
};

static struct {
	uint32_t count;
	struct sanity_finding log[SANITY_LOG];
	bool abort;
	bool in_check; /* between sanity_log_begin and _end */
	bool checked;  /* a check ended and nothing was reported since */
} rp;

const char *sanity_kind_name(enum sanity_kind k)
{
	return (unsigned)k < SK_NKINDS ? kind_names[k] : "?";
}

void sanity_set_abort(bool on)
{
	rp.abort = on;
}

bool sanity_abort_enabled(void)
{
	return rp.abort;
}

void sanity_log_reset(void)
{
	memset(&rp, 0, sizeof(rp));
}

void sanity_log_begin(void)
{
	if (rp.checked)
		rp.count = 0;
	rp.checked = false;
	rp.in_check = true;
}

void sanity_log_end(void)
{
	rp.in_check = false;
	rp.checked = true;
}

uint32_t sanity_log_count(void)
{
	return rp.count;
}

const struct sanity_finding *sanity_log(uint32_t i)
{
	return i < rp.count && i < SANITY_LOG ? &rp.log[i] : NULL;
}

static void print_site(const char *what, phys_bytes frame, const struct vm_site *s)
{
	char buf[160];

	if (s == NULL || s->where == NULL)
		return;
	if (frame != SANITY_NO_FRAME)
		vm_printf("sanity:   frame 0x%08x %s at %s\n", frame, what,
			  site_format(buf, sizeof(buf), s));
	else
		vm_printf("sanity:   %s at %s\n", what, site_format(buf, sizeof(buf), s));
}

static void record(enum sanity_kind kind, phys_bytes frame, const struct vm_site *alloc,
		   const struct vm_site *freed, const char *fmt, va_list ap)
{
	char text[256];

	/* Outside a check only events are kept (for the next check to count):
	 * a module's check run on its own just prints. */
	bool event = kind == SK_DOUBLE_FREE || kind == SK_BAD_FREE || kind == SK_LOCKED_WRITE;
	bool keep = rp.in_check || event;
	if (event && rp.checked && !rp.in_check) {
		rp.count = 0; /* the first event since the last check */
		rp.checked = false;
	}
	vm_vsnprintf(text, sizeof(text), fmt, ap);
	vm_printf("sanity: %s: %s\n", sanity_kind_name(kind), text);
	print_site("allocated", frame, alloc);
	print_site("freed", frame, freed);
	if (keep && rp.count < SANITY_LOG) {
		struct sanity_finding *f = &rp.log[rp.count];
		memset(f, 0, sizeof(*f));
		f->kind = kind;
		f->frame = frame;
		if (alloc)
			f->site = *alloc;
		if (freed)
			f->freed = *freed;
		memcpy(f->text, text, sizeof(f->text) - 1);
	}
	if (keep)
		rp.count++;
	if (rp.abort)
		panic("stopping at the first consistency finding (%s)", sanity_kind_name(kind));
}

void sanity_report(enum sanity_kind kind, phys_bytes frame, const char *fmt, ...)
{
	const struct site_pair *sp = NULL;
	va_list ap;

	if (frame != SANITY_NO_FRAME)
		sp = sanity_frame_sites(frame & ~(phys_bytes)VM_PAGE_MASK);
	va_start(ap, fmt);
	record(kind, frame, sp ? &sp->alloc : NULL, sp && sp->freed.where ? &sp->freed : NULL, fmt,
	       ap);
	va_end(ap);
}

void sanity_report_sites(enum sanity_kind kind, phys_bytes frame, const struct vm_site *alloc,
			 const struct vm_site *freed, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(kind, frame, alloc, freed && freed->where ? freed : NULL, fmt, ap);
	va_end(ap);
}
