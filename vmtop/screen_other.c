/*
 * The screens Tab cycles through besides the process table: the cache,
 * the slab caches and VM's counters (faults by kind, processes, calls by
 * name), each from the current sample.
 */
#include <stdio.h>

#include "crt.h"
#include "ui.h"
#include "vminfo.h"

static void title(int y, const char *text)
{
	move(y, 0);
	attrset(crt_attr(CRT_TABLE_HEAD));
	hline(' ', COLS);
	ui_put(y, 0, CRT_TABLE_HEAD, "%s", text);
}

static void row(int y, int x, const char *label, unsigned long long value)
{
	x = ui_put(y, x, CRT_LABEL, "%-14s", label);
	ui_put(y, x, CRT_VALUE, "%12llu", value);
}

void cache_draw(struct ui *u, int y0, int y1)
{
	const struct vmi_cache *c = &u->v->cache;
	int y = y0 + 1;

	(void)y1;
	title(y0, "Cache: blocks processes yielded to VM, to get back later");
	row(y++, 1, "Blocks", c->blocks);
	row(y++, 1, "Pages", c->pages);
	row(y++, 1, "KiB", vt_kib(c->pages, u->v->page_size));
	row(y++, 1, "Yields", c->yields);
	row(y++, 1, "Hits", c->hits);
	row(y++, 1, "Misses", c->misses);
	row(y++, 1, "Evictions", c->evictions);
	row(y++, 1, "Forgets", c->forgets);
	int x = ui_put(y, 1, CRT_LABEL, "%-14s", "Hit ratio");
	if (u->v->cache_hit_ratio < 0)
		ui_put(y, x, CRT_VALUE, "%12s", "-");
	else
		ui_put(y, x, CRT_VALUE, "%11.1f%%", 100 * u->v->cache_hit_ratio);
}

void slab_draw(struct ui *u, int y0, int y1)
{
	const struct vt_sample *v = u->v;
	unsigned long long pages = 0;

	for (size_t i = 0; i < v->nslab; i++)
		pages += v->slab[i].pages;
	char head[96];
	snprintf(head, sizeof(head), "Slab caches: %zu, %llu pages, %lluK", v->nslab, pages,
		 vt_kib(pages, v->page_size));
	title(y0, head);
	ui_put(y0 + 1, 0, CRT_LABEL, "%8s %8s %8s %8s %6s %8s", "SIZE", "PAGES", "OBJECTS", "INUSE",
	       "USE%", "KiB");
	for (size_t i = 0; i < v->nslab && y0 + 2 + (int)i < y1; i++) {
		const struct vmi_slab *s = &v->slab[i];
		ui_put(y0 + 2 + (int)i, 0, CRT_DEFAULT, "%8u %8u %8u %8u %5.0f%% %8llu", s->size,
		       s->pages, s->objects, s->inuse,
		       s->objects ? 100.0 * s->inuse / s->objects : 0.0,
		       vt_kib(s->pages, v->page_size));
	}
}

void counters_draw(struct ui *u, int y0, int y1)
{
	const struct vmi_stats *st = &u->v->stats;
	double dt = u->v->interval;
	int y = y0 + 1;

	title(y0, "Counters since boot                  Calls                  total     /s");
	ui_put(y++, 0, CRT_LABEL, "Page faults");
	row(y++, 1, "zero-fill", st->pf_zerofill);
	row(y++, 1, "cow copy", st->pf_cowcopy);
	row(y++, 1, "cow reuse", st->pf_cowreuse);
	row(y++, 1, "shared", st->pf_shared);
	row(y++, 1, "segv", st->pf_refused);
	row(y++, 1, "nomem", st->pf_nomem);
	ui_put(y++, 0, CRT_LABEL, "Processes");
	row(y++, 1, "spawns", st->spawns);
	row(y++, 1, "forks", st->forks);
	row(y++, 1, "execs", st->execs);
	row(y++, 1, "exits", st->exits);
	row(y++, 1, "evictions", st->evictions);
	row(y++, 1, "bad calls", st->bad_calls);
	row(y++, 1, "forged", st->forged);
	row(y++, 1, "grants", st->grants);

	/* Calls by name, those that happened, beside. */
	y = y0 + 1;
	for (unsigned i = 0; i < VMI_NCALLS && y < y1; i++) {
		if (st->calls[i] == 0)
			continue;
		const char *name = vminfo_callname(i);
		char nbuf[16];
		if (name == NULL) {
			snprintf(nbuf, sizeof(nbuf), "call%u", i);
			name = nbuf;
		}
		double rate = u->have_last_stats && dt > 0 && st->calls[i] >= u->last_stats.calls[i]
				  ? (double)(st->calls[i] - u->last_stats.calls[i]) / dt
				  : 0;
		int x = ui_put(y, 37, CRT_LABEL, "%-18s", name);
		ui_put(y++, x, CRT_VALUE, "%12llu %6.1f", (unsigned long long)st->calls[i], rate);
	}
}
