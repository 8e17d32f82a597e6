/*
 * A process's regions (as vmstat -r, asked again at every refresh) and
 * the page map of one of them: a cell per page of the region.
 *
 * A cell's character says who holds the page, from its reference count
 * (mappings plus cache references) and the region's sharing:
 *   .  not resident
 *   p  private: mapped here only
 *   c  copy-on-write: mapped more than once in a private region
 *   s  shared: mapped more than once in a shared region
 *   k  cache-held: mapped here once and held by the cache too
 * and its PTE bits how it was used: upper case (P, C, S, K) when the
 * dirty bit is set, dim when the accessed bit is clear. The line under
 * the map shows the page under the cursor in full.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "crt.h"
#include "ui.h"
#include "vminfo.h"

#define PTE_WRITE 0x02
#define PTE_ACCESSED 0x20
#define PTE_DIRTY 0x40

static void free_pages(struct ui *u)
{
	free(u->pages);
	u->pages = NULL;
	u->npages = 0;
}

static int by_vaddr(const void *a, const void *b)
{
	const struct vmi_page *p = a, *q = b;
	return p->vaddr < q->vaddr ? -1 : p->vaddr > q->vaddr;
}

static uint32_t page_size(const struct ui *u)
{
	return u->v && u->v->page_size ? u->v->page_size : 4096;
}

static size_t region_pages(const struct ui *u, const struct vmi_region *r)
{
	return ((size_t)r->length + page_size(u) - 1) / page_size(u);
}

static void fetch_pages(struct ui *u)
{
	free_pages(u);
	u->pg_err[0] = '\0';
	/* The region as it is now: it may have grown, shrunk or gone. */
	size_t i;
	for (i = 0; i < u->nregs && u->regs[i].start != u->pg_region.start; i++)
		;
	if (i == u->nregs) {
		snprintf(u->pg_err, sizeof(u->pg_err), "the region at %08x is gone",
			 u->pg_region.start);
		return;
	}
	u->pg_region = u->regs[i];
	if (sampler_pages(u->s, u->reg_ep, u->pg_region.start, &u->pages, &u->npages) != 0) {
		snprintf(u->pg_err, sizeof(u->pg_err), "%s", sampler_error(u->s));
		u->pages = NULL;
		u->npages = 0;
		return;
	}
	qsort(u->pages, u->npages, sizeof(*u->pages), by_vaddr);
	size_t n = region_pages(u, &u->pg_region);
	if (u->pg_sel >= n)
		u->pg_sel = n ? n - 1 : 0;
}

void regions_fetch(struct ui *u)
{
	free(u->regs);
	u->regs = NULL;
	u->nregs = 0;
	u->reg_err[0] = '\0';
	if (sampler_regions(u->s, u->reg_ep, &u->regs, &u->nregs) != 0) {
		snprintf(u->reg_err, sizeof(u->reg_err), "%s", sampler_error(u->s));
		u->regs = NULL;
		u->nregs = 0;
	}
	if (u->screen == UI_PAGES || (u->screen == UI_HELP && u->back == UI_PAGES))
		fetch_pages(u);
}

void regions_open(struct ui *u, int32_t ep, const char *name)
{
	u->reg_ep = ep;
	snprintf(u->reg_name, sizeof(u->reg_name), "%.16s", name);
	u->reg_sel = 0;
	u->reg_top = 0;
	u->screen = UI_REGIONS;
	regions_fetch(u);
	if (u->nregs)
		u->reg_sel = u->regs[0].start;
}

/* The cursor's region; the first if its region is gone. */
static size_t region_row(struct ui *u)
{
	for (size_t i = 0; i < u->nregs; i++)
		if (u->regs[i].start == u->reg_sel)
			return i;
	if (u->nregs)
		u->reg_sel = u->regs[0].start;
	return 0;
}

static unsigned long long kib(const struct ui *u, uint32_t pages)
{
	return vt_kib(pages, page_size(u));
}

void regions_draw(struct ui *u, int y0, int y1)
{
	char mode[5], flags[128], tbuf[16];
	unsigned long long len = 0, res = 0, shr = 0, cow = 0;

	ui_put(y0, 0, CRT_LABEL, "Regions of ");
	ui_put(y0, 11, CRT_VALUE, "%s (endpoint %d): %zu", u->reg_name, u->reg_ep, u->nregs);
	move(y0 + 1, 0);
	attrset(crt_attr(CRT_TABLE_HEAD));
	hline(' ', COLS);
	ui_put(y0 + 1, 0, CRT_TABLE_HEAD,
	       "Address    Kbytes      RSS   Shared      COW Mode Type   Flags");
	if (u->reg_err[0]) {
		ui_put(y0 + 2, 1, CRT_ERROR, "%s", u->reg_err);
		return;
	}
	size_t sel = region_row(u);
	size_t visible = y1 - y0 - 3 > 0 ? (size_t)(y1 - y0 - 3) : 1;
	if (sel < u->reg_top)
		u->reg_top = sel;
	if (sel >= u->reg_top + visible)
		u->reg_top = sel - visible + 1;
	for (size_t i = 0; i < u->nregs; i++) {
		const struct vmi_region *r = &u->regs[i];
		len += r->length;
		res += r->resident;
		shr += r->shared;
		cow += r->cow;
		if (i < u->reg_top || i >= u->reg_top + visible)
			continue;
		int y = y0 + 2 + (int)(i - u->reg_top);
		const char *type = vminfo_memtype_name(r->memtype);
		if (type == NULL) {
			snprintf(tbuf, sizeof(tbuf), "type%u", r->memtype);
			type = tbuf;
		}
		vminfo_region_mode(r->flags, mode);
		vminfo_region_flags(r->flags, flags, sizeof(flags));
		size_t k = strlen(flags);
		if (r->flags & VMINFO_VR_SAFEMAP)
			snprintf(flags + k, sizeof(flags) - k, " grant=%u", r->grant);
		int role = i == sel ? CRT_CURSOR : CRT_DEFAULT;
		if (i == sel) {
			attrset(crt_attr(CRT_CURSOR));
			mvhline(y, 0, ' ', COLS);
		}
		ui_put(y, 0, role, "%08x %8llu %8llu %8llu %8llu %s %-6s %s", r->start,
		       ((unsigned long long)r->length + 1023) / 1024, kib(u, r->resident),
		       kib(u, r->shared), kib(u, r->cow), mode, type, flags);
	}
	int y = y0 + 2 + (int)(u->nregs < visible ? u->nregs : visible);
	ui_put(y, 0, CRT_LABEL, "total kB %8llu %8llu %8llu %8llu", (len + 1023) / 1024,
	       kib(u, (uint32_t)res), kib(u, (uint32_t)shr), kib(u, (uint32_t)cow));
}

bool regions_key(struct ui *u, int ch)
{
	size_t sel = region_row(u), n = u->nregs;

	switch (ch) {
	case CRT_KEY_ESC:
	case KEY_LEFT:
	case KEY_BACKSPACE:
	case 127:
		u->screen = UI_PROCS;
		return true;
	case '\n':
	case '\r':
	case KEY_ENTER:
	case KEY_RIGHT:
	case 'p':
		if (n == 0)
			return true;
		u->pg_region = u->regs[sel];
		u->pg_sel = 0;
		u->pg_top = 0;
		u->screen = UI_PAGES;
		fetch_pages(u);
		return true;
	default:
		/* PgUp/PgDn: a screenful of regions. */
		if (!ui_cursor_key(ch, n, 1, LINES > 10 ? (size_t)LINES - 10 : 1, &sel))
			return false;
	}
	if (n)
		u->reg_sel = u->regs[sel].start;
	return true;
}

/* The resident page at vaddr, or NULL. */
static const struct vmi_page *find_page(const struct ui *u, uint32_t vaddr)
{
	struct vmi_page key = { .vaddr = vaddr };
	return bsearch(&key, u->pages, u->npages, sizeof(*u->pages), by_vaddr);
}

/* A page's cell (see the top of the file), its role and attributes. */
static char page_cell(const struct vmi_region *r, const struct vmi_page *pg, int *attr)
{
	char ch;
	int role;

	if (pg == NULL) {
		*attr = crt_attr(CRT_PAGE_NONE);
		return '.';
	}
	uint32_t maps = pg->refcount > pg->cacheref ? pg->refcount - pg->cacheref : 0;
	bool shared_region = (r->flags & VMINFO_VR_SHARED) || r->memtype == 4;
	if (maps > 1) {
		ch = shared_region ? 's' : 'c';
		role = shared_region ? CRT_PAGE_SHARED : CRT_PAGE_COW;
	} else if (pg->cacheref > 0) {
		ch = 'k';
		role = CRT_PAGE_CACHE;
	} else {
		ch = 'p';
		role = CRT_PAGE_PRIVATE;
	}
	*attr = crt_attr(role);
	if (pg->pte & PTE_DIRTY)
		ch = (char)toupper(ch);
	if (!(pg->pte & PTE_ACCESSED))
		*attr |= A_DIM;
	return ch;
}

static const char *page_kind(char ch)
{
	switch (tolower(ch)) {
	case 'p':
		return "private";
	case 'c':
		return "copy-on-write";
	case 's':
		return "shared";
	case 'k':
		return "cache-held";
	default:
		return "not resident";
	}
}

/* Cells per row: a power of two that fits beside the address. */
static size_t cells_per_row(void)
{
	size_t n = 64;
	while (n > 4 && (int)n > COLS - 10)
		n /= 2;
	return n;
}

void pages_draw(struct ui *u, int y0, int y1)
{
	const struct vmi_region *r = &u->pg_region;
	char mode[5];
	size_t n = region_pages(u, r), cpr = cells_per_row();
	uint32_t ps = page_size(u);

	ui_put(y0, 0, CRT_LABEL, "Page map of ");
	ui_put(y0, 12, CRT_VALUE, "%s %08x-%08x %lluK %zu pages %s, %zu resident", u->reg_name,
	       r->start, r->start + r->length, ((unsigned long long)r->length + 1023) / 1024, n,
	       vminfo_region_mode(r->flags, mode), u->npages);
	int x = 0;
	static const struct {
		char ch;
		int role;
		const char *text;
	} legend[] = {
		{ '.', CRT_PAGE_NONE, "none " },   { 'p', CRT_PAGE_PRIVATE, "private " },
		{ 'c', CRT_PAGE_COW, "cow " },     { 's', CRT_PAGE_SHARED, "shared " },
		{ 'k', CRT_PAGE_CACHE, "cache " },
	};
	for (size_t i = 0; i < sizeof(legend) / sizeof(legend[0]); i++) {
		x = ui_put(y0 + 1, x, legend[i].role, "%c", legend[i].ch);
		x = ui_put(y0 + 1, x, CRT_DEFAULT, " %s", legend[i].text);
	}
	ui_put(y0 + 1, x, CRT_LABEL, " UPPER dirty, dim unaccessed");
	if (u->pg_err[0]) {
		ui_put(y0 + 3, 1, CRT_ERROR, "%s", u->pg_err);
		return;
	}
	size_t rows = (n + cpr - 1) / cpr;
	size_t visible = y1 - y0 - 4 > 0 ? (size_t)(y1 - y0 - 4) : 1;
	size_t selrow = u->pg_sel / cpr;
	if (selrow < u->pg_top)
		u->pg_top = selrow;
	if (selrow >= u->pg_top + visible)
		u->pg_top = selrow - visible + 1;
	for (size_t row = u->pg_top; row < rows && row < u->pg_top + visible; row++) {
		int y = y0 + 2 + (int)(row - u->pg_top);
		ui_put(y, 0, CRT_LABEL, "%08x ", r->start + (uint32_t)(row * cpr) * ps);
		for (size_t k = 0; k < cpr && row * cpr + k < n; k++) {
			size_t i = row * cpr + k;
			int attr;
			char ch = page_cell(r, find_page(u, r->start + (uint32_t)i * ps), &attr);
			attrset(i == u->pg_sel ? crt_attr(CRT_CURSOR) : attr);
			mvaddch(y, 9 + (int)k, (chtype)(unsigned char)ch);
		}
		attrset(A_NORMAL);
	}
	/* The page under the cursor, in full. */
	uint32_t va = r->start + (uint32_t)u->pg_sel * ps;
	const struct vmi_page *pg = find_page(u, va);
	int attr;
	char ch = page_cell(r, pg, &attr);
	int y = y1 - 1;
	if (pg == NULL) {
		ui_put(y, 0, CRT_VALUE, "%08x: not resident", va);
		return;
	}
	ui_put(y, 0, CRT_VALUE, "%08x: %s%s phys %08x refs %u cache %u pte %08x %c%c%c%c%c", va,
	       page_kind(ch), isupper((unsigned char)ch) ? ", dirty" : "", pg->phys, pg->refcount,
	       pg->cacheref, pg->pte, pg->pte & 0x01 ? 'P' : '-', pg->pte & PTE_WRITE ? 'W' : '-',
	       pg->pte & 0x04 ? 'U' : '-', pg->pte & PTE_ACCESSED ? 'A' : '-',
	       pg->pte & PTE_DIRTY ? 'D' : '-');
}

bool pages_key(struct ui *u, int ch)
{
	size_t n = region_pages(u, &u->pg_region), cpr = cells_per_row();
	size_t sel = u->pg_sel, page = cpr * (LINES > 12 ? (size_t)LINES - 12 : 1);

	switch (ch) {
	case KEY_LEFT:
		sel = sel > 0 ? sel - 1 : 0;
		break;
	case KEY_RIGHT:
		sel = sel + 1 < n ? sel + 1 : sel;
		break;
	case CRT_KEY_ESC:
	case KEY_BACKSPACE:
	case 127:
		u->screen = UI_REGIONS;
		free_pages(u);
		return true;
	default:
		/* Up and Down go a row of cells. */
		if (!ui_cursor_key(ch, n, cpr, page, &sel))
			return false;
	}
	u->pg_sel = sel;
	return true;
}

void regions_done(struct ui *u)
{
	free(u->regs);
	u->regs = NULL;
	u->nregs = 0;
	free_pages(u);
}
