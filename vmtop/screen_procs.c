/*
 * The process table: vt_columns as batch mode prints them, sorted by the
 * chosen column, cut to the rows the filter lets through, with the cells
 * that changed since the last refresh and the new processes highlighted.
 * The cursor follows a process (its endpoint), not a row, so it stays on
 * it when the order changes.
 */
#include <stdlib.h>
#include <string.h>

#include "crt.h"
#include "ui.h"

/* The rows to show, in order, into u->rows. */
static void build_rows(struct ui *u)
{
	const struct vt_sample *v = u->v;
	const struct vt_proc **rows = realloc(u->rows, (v->nprocs ? v->nprocs : 1) * sizeof(*rows));

	if (rows == NULL)
		return; /* keep the old rows: a draw is not worth dying for */
	u->rows = rows;
	u->nrows = 0;
	for (size_t i = 0; i < v->nprocs; i++)
		if (ui_match(v->procs[i].p.name, sizeof(v->procs[i].p.name), u->filter))
			rows[u->nrows++] = &v->procs[i];
	vt_sort(rows, u->nrows, u->sort, u->reverse);
}

/* The cursor's row; the first if its process is not shown. */
static size_t cursor_row(struct ui *u)
{
	for (size_t i = 0; i < u->nrows; i++)
		if (u->rows[i]->p.endpoint == u->sel_ep)
			return i;
	if (u->nrows)
		u->sel_ep = u->rows[0]->p.endpoint;
	return 0;
}

/* The width of column c at this terminal's width: the name gives way. */
static int col_width(enum vt_colid c)
{
	if (c != C_NAME)
		return vt_columns[c].width;
	int fixed = 0;
	for (int i = 0; i < C_NCOLS; i++)
		fixed += i == C_NAME ? 0 : vt_columns[i].width + 1;
	int w = COLS - fixed;
	return w > vt_columns[C_NAME].width ? vt_columns[C_NAME].width : w < 4 ? 4 : w;
}

void procs_draw(struct ui *u, int y0, int y1)
{
	char cell[64];
	int x = 0;

	build_rows(u);
	size_t sel = cursor_row(u);
	move(y0, 0);
	attrset(crt_attr(CRT_TABLE_HEAD));
	hline(' ', COLS);
	for (int c = 0; c < C_NCOLS; c++) {
		int w = col_width(c);
		x = ui_put(y0, x, c == (int)u->sort ? CRT_SORTED : CRT_TABLE_HEAD, "%*s",
			   vt_columns[c].left ? -w : w, vt_columns[c].title);
		x = ui_put(y0, x, CRT_TABLE_HEAD, " ");
	}
	size_t visible = y1 - y0 - 1 > 0 ? (size_t)(y1 - y0 - 1) : 1;
	if (sel < u->top)
		u->top = sel;
	if (sel >= u->top + visible)
		u->top = sel - visible + 1;
	if (u->top > 0 && u->top + visible > u->nrows)
		u->top = u->nrows > visible ? u->nrows - visible : 0;
	for (size_t i = u->top; i < u->nrows && i < u->top + visible; i++) {
		const struct vt_proc *p = u->rows[i];
		int y = y0 + 1 + (int)(i - u->top);
		int base = i == sel ? CRT_CURSOR : p->is_new ? CRT_NEW : CRT_DEFAULT;
		if (i == sel) {
			attrset(crt_attr(CRT_CURSOR));
			mvhline(y, 0, ' ', COLS);
		}
		x = 0;
		for (int c = 0; c < C_NCOLS; c++) {
			int w = col_width(c);
			int role = base;
			if (base == CRT_DEFAULT && vt_columns[c].changed >= 0 &&
			    (p->changed & (1u << vt_columns[c].changed)))
				role = CRT_CHANGED;
			vt_cell(p, c, u->v->page_size, cell, sizeof(cell));
			x = ui_put(y, x, role, "%*.*s", vt_columns[c].left ? -w : w, w, cell);
			x = ui_put(y, x, base, " ");
		}
	}
	if (u->nrows == 0)
		ui_put(y0 + 1, 1, CRT_WARN,
		       u->filter[0] ? "no process matches the filter \"%s\"" : "no processes%s",
		       u->filter);
}

void procs_search(struct ui *u, bool next)
{
	if (u->v == NULL || u->search[0] == '\0')
		return;
	build_rows(u);
	size_t start = cursor_row(u) + (next ? 1 : 0);
	for (size_t k = 0; k < u->nrows; k++) {
		const struct vt_proc *p = u->rows[(start + k) % u->nrows];
		if (ui_match(p->p.name, sizeof(p->p.name), u->search)) {
			u->sel_ep = p->p.endpoint;
			return;
		}
	}
}

bool procs_key(struct ui *u, int ch)
{
	if (u->v == NULL)
		return false;
	build_rows(u);
	size_t sel = cursor_row(u), n = u->nrows;
	size_t page = LINES > 10 ? (size_t)LINES - 10 : 1;

	switch (ch) {
	case KEY_F(6):
	case '>':
	case '.':
		u->sort = (enum vt_colid)((u->sort + 1) % C_NCOLS);
		return true;
	case '<':
	case ',':
		u->sort = (enum vt_colid)((u->sort + C_NCOLS - 1) % C_NCOLS);
		return true;
	case 'I':
		u->reverse = !u->reverse;
		return true;
	case CRT_KEY_ESC:
		u->filter[0] = '\0';
		return true;
	case '\n':
	case '\r':
	case KEY_ENTER:
	case KEY_RIGHT:
		if (n == 0)
			return true;
		regions_open(u, u->rows[sel]->p.endpoint, u->rows[sel]->p.name);
		return true;
	default:
		if (!ui_cursor_key(ch, n, 1, page, &sel))
			return false;
	}
	if (n)
		u->sel_ep = u->rows[sel]->p.endpoint;
	return true;
}

void procs_done(struct ui *u)
{
	free(u->rows);
	u->rows = NULL;
	u->nrows = 0;
}
