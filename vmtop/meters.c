/*
 * The header (htop's meters): physical memory as a bar split by owner
 * with the numbers under it, fault rates by kind, calls, the cache and
 * the sanity check. Each segment of the bar has its own character as
 * well as its colour, so the bar reads the same in monochrome.
 */
#include <stdio.h>

#include "crt.h"
#include "ui.h"

struct segment {
	const char *name;
	char ch;
	int role;
	uint32_t pages;
};

/* Memory in KiB, shortened to M or G above 99999K to stay narrow. */
static const char *size_str(unsigned long long kib, char *buf, size_t len)
{
	if (kib < 100000)
		snprintf(buf, len, "%lluK", kib);
	else if (kib < 100000ull * 1024)
		snprintf(buf, len, "%.1fM", kib / 1024.0);
	else
		snprintf(buf, len, "%.1fG", kib / 1048576.0);
	return buf;
}

static int draw_bar(const struct vt_sample *v, int y)
{
	const struct vt_memory *m = &v->mem;
	const struct segment segs[] = {
		{ "priv", '#', CRT_MEM_PRIVATE, m->private_ },
		{ "shr", '=', CRT_MEM_SHARED, m->shared },
		{ "cache", 'c', CRT_MEM_CACHE, m->cache },
		{ "slab", 's', CRT_MEM_SLAB, m->slab },
		{ "ptbl", 't', CRT_MEM_PTBL, m->pagetables },
		{ "vm", 'v', CRT_MEM_VM, m->vm },
		{ "free", ' ', CRT_MEM_FREE, m->free },
	};
	const int nsegs = (int)(sizeof(segs) / sizeof(segs[0]));
	char total[16], used[16], num[16];
	uint32_t ps = v->page_size;

	size_str(vt_kib(m->total, ps), total, sizeof(total));
	size_str(vt_kib(m->total - m->free, ps), used, sizeof(used));
	char tail[40];
	int tl = snprintf(tail, sizeof(tail), "] %s/%s", used, total);
	int x = ui_put(y, 0, CRT_LABEL, "Mem");
	x = ui_put(y, x, CRT_DEFAULT, "[");
	int width = COLS - x - tl;
	int left = width;
	for (int i = 0; i < nsegs - 1 && width > 0 && m->total > 0; i++) {
		/* A segment that is there gets a cell even if it rounds to none. */
		int n = (int)(((unsigned long long)segs[i].pages * (unsigned)width + m->total / 2) /
			      m->total);
		if (n == 0 && segs[i].pages > 0)
			n = 1;
		if (n > left)
			n = left;
		attrset(crt_attr(segs[i].role));
		for (int k = 0; k < n; k++)
			mvaddch(y, x++, (chtype)segs[i].ch);
		left -= n;
	}
	attrset(A_NORMAL);
	x += left > 0 ? left : 0;
	ui_put(y, x, CRT_DEFAULT, "%s", tail);

	/* The legend, with the numbers. */
	x = 0;
	for (int i = 0; i < nsegs; i++) {
		x = ui_put(y + 1, x, segs[i].role, "%c", segs[i].ch == ' ' ? '_' : segs[i].ch);
		x = ui_put(y + 1, x, CRT_LABEL, "%s ", segs[i].name);
		x = ui_put(y + 1, x, CRT_VALUE, "%s ",
			   size_str(vt_kib(segs[i].pages, ps), num, sizeof(num)));
	}
	return 2;
}

int meters_draw(struct ui *u, int y)
{
	const struct vt_sample *v = u->v;
	int n = draw_bar(v, y);
	int x;

	y += n;
	x = ui_put(y, 0, CRT_LABEL, "Faults/s ");
	x = ui_put(y, x, CRT_VALUE, "%.1f", v->faults_rate);
	x = ui_put(y, x, CRT_LABEL, ": zero ");
	x = ui_put(y, x, CRT_VALUE, "%.1f", v->pf_zerofill_rate);
	x = ui_put(y, x, CRT_LABEL, " cow ");
	x = ui_put(y, x, CRT_VALUE, "%.1f", v->pf_cowcopy_rate);
	x = ui_put(y, x, CRT_LABEL, " reuse ");
	x = ui_put(y, x, CRT_VALUE, "%.1f", v->pf_cowreuse_rate);
	x = ui_put(y, x, CRT_LABEL, " shr ");
	x = ui_put(y, x, CRT_VALUE, "%.1f", v->pf_shared_rate);
	x = ui_put(y, x, CRT_LABEL, " segv ");
	x = ui_put(y, x, v->pf_refused_rate > 0 ? CRT_WARN : CRT_VALUE, "%.1f", v->pf_refused_rate);
	x = ui_put(y, x, CRT_LABEL, " nomem ");
	x = ui_put(y, x, v->pf_nomem_rate > 0 ? CRT_WARN : CRT_VALUE, "%.1f", v->pf_nomem_rate);
	y++;

	/* Most important first: a narrow screen cuts the end. */
	x = ui_put(y, 0, CRT_LABEL, "Procs ");
	x = ui_put(y, x, CRT_VALUE, "%zu", v->nprocs);
	x = ui_put(y, x, CRT_LABEL, "  Sanity ");
	if (!v->have_sanity) {
		x = ui_put(y, x, CRT_VALUE, "-");
	} else {
		x = ui_put(y, x, CRT_VALUE, "%u", v->sanity.runs);
		x = ui_put(y, x, CRT_LABEL, " checks ");
		x = ui_put(y, x, v->sanity.last_findings ? CRT_ERROR : CRT_OK, "%u",
			   v->sanity.last_findings);
		x = ui_put(y, x, CRT_LABEL, " findings");
		if (v->sanity.total_findings)
			x = ui_put(y, x, CRT_WARN, " (%llu since boot)",
				   (unsigned long long)v->sanity.total_findings);
	}
	char num[16];
	x = ui_put(y, x, CRT_LABEL, "  Calls/s ");
	x = ui_put(y, x, CRT_VALUE, "%.1f", v->calls_rate);
	/* The number of blocks is on the cache screen (Tab). */
	x = ui_put(y, x, CRT_LABEL, "  Cache ");
	x = ui_put(y, x, CRT_VALUE, "%s",
		   size_str(vt_kib(v->cache.pages, v->page_size), num, sizeof(num)));
	x = ui_put(y, x, CRT_LABEL, " hit ");
	if (v->cache_hit_ratio < 0)
		x = ui_put(y, x, CRT_VALUE, "-");
	else
		x = ui_put(y, x, CRT_VALUE, "%.0f%%", 100 * v->cache_hit_ratio);
	return n + 2;
}
