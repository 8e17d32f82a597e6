/* The process table's columns (columns.h). */
#include "columns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct vt_column vt_columns[C_NCOLS] = {
	[C_EP] = { "ep", "EP", 6, false, -1, "endpoint" },
	[C_NAME] = { "name", "NAME", 16, true, -1, "process name" },
	[C_RSS] = { "rss", "RSS", 8, false, VT_COL_RESIDENT, "resident memory (KiB)" },
	[C_PSS] = { "pss", "PSS", 8, false, VT_COL_PSS,
		    "proportional share: each page divided by its mappings (KiB)" },
	[C_SHR] = { "shr", "SHR", 8, false, VT_COL_SHARED,
		    "resident and shared with another mapping (KiB)" },
	[C_COW] = { "cow", "COW", 8, false, VT_COL_COW, "resident and shared copy-on-write (KiB)" },
	[C_VSZ] = { "vsz", "VSZ", 8, false, VT_COL_VIRTUAL, "mapped (KiB)" },
	[C_REG] = { "reg", "REG", 5, false, VT_COL_REGIONS, "regions" },
	[C_FLT] = { "flt", "FLT/S", 7, false, VT_COL_FAULTS, "page faults resolved per second" },
};

int vt_column_by_key(const char *key)
{
	for (int c = 0; c < C_NCOLS; c++)
		if (strcmp(vt_columns[c].key, key) == 0)
			return c;
	return -1;
}

unsigned long long vt_kib(unsigned long long pages, uint32_t page_size)
{
	return pages * (page_size / 1024);
}

static double value(const struct vt_proc *p, enum vt_colid c)
{
	switch (c) {
	case C_EP:
		return p->p.endpoint;
	case C_RSS:
		return p->p.resident;
	case C_PSS:
		return p->p.pss_1k;
	case C_SHR:
		return p->p.shared;
	case C_COW:
		return p->p.cow;
	case C_VSZ:
		return p->p.virtual_pages;
	case C_REG:
		return p->p.regions;
	case C_FLT:
		return p->flt_rate;
	default:
		return 0;
	}
}

static enum vt_colid sort_col;
static bool sort_reverse;

static int cmp(const void *a, const void *b)
{
	const struct vt_proc *p = *(const struct vt_proc *const *)a;
	const struct vt_proc *q = *(const struct vt_proc *const *)b;
	int r = 0;

	if (sort_col == C_NAME) {
		r = strncmp(p->p.name, q->p.name, sizeof(p->p.name));
	} else {
		double x = value(p, sort_col), y = value(q, sort_col);
		r = x < y ? -1 : x > y;
		if (sort_col != C_EP)
			r = -r; /* biggest first */
	}
	if (r == 0)
		r = p->p.endpoint < q->p.endpoint ? -1 : p->p.endpoint > q->p.endpoint;
	return sort_reverse ? -r : r;
}

void vt_sort(const struct vt_proc **v, size_t n, enum vt_colid c, bool reverse)
{
	sort_col = c;
	sort_reverse = reverse;
	qsort(v, n, sizeof(*v), cmp);
}

void vt_cell(const struct vt_proc *p, enum vt_colid c, uint32_t page_size, char *buf, size_t len)
{
	switch (c) {
	case C_EP:
		snprintf(buf, len, "%d", p->p.endpoint);
		break;
	case C_NAME:
		snprintf(buf, len, "%.*s", (int)sizeof(p->p.name), p->p.name);
		break;
	case C_PSS:
		/* pss_1k is in 1/1024 pages: round to KiB. */
		snprintf(buf, len, "%llu",
			 ((unsigned long long)p->p.pss_1k * (page_size / 1024) + 512) / 1024);
		break;
	case C_FLT:
		snprintf(buf, len, "%.1f", p->flt_rate);
		break;
	case C_REG:
		snprintf(buf, len, "%u", p->p.regions);
		break;
	default:
		snprintf(buf, len, "%llu", vt_kib((unsigned long long)value(p, c), page_size));
		break;
	}
}
