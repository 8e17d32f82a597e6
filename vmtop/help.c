/* The help screen: the keys, the columns, the page map's legend. */
#include "crt.h"
#include "ui.h"

static const char *const keys[][2] = {
	{ "Up Down PgUp PgDn", "move the cursor; Home, End: first, last" },
	{ "Enter (Right)", "processes: the regions of one; regions: a region's page map" },
	{ "Esc (Bksp)", "back; on the process table Esc clears the filter" },
	{ "F6 > <   I", "sort by the next / previous column; I inverts the order" },
	{ "F3 /", "search a name as you type (F3 again: the next match)" },
	{ "F4 \\", "filter by name as you type (Enter keeps it, Esc drops it)" },
	{ "Tab Shift-Tab", "next / previous screen: processes, cache, slab, counters" },
	{ "d", "set the refresh delay (seconds)" },
	{ "Z Space", "pause / resume refreshing" },
	{ "F1 h ?  F10 q", "this help (any key leaves it); quit.  Ctrl-L: redraw" },
};

void help_draw(struct ui *u)
{
	int y = 1;

	ui_put(y++, 0, CRT_VALUE, "vmtop: VM's memory, live. Sorted by %s%s; refresh every %gs.",
	       vt_columns[u->sort].title, u->reverse ? " (inverted)" : "", u->delay);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && y < LINES - 1; i++, y++) {
		ui_put(y, 1, CRT_KEY, "%-18s", keys[i][0]);
		ui_put(y, 20, CRT_DEFAULT, "%s", keys[i][1]);
	}
	y++;
	for (int c = 0; c < C_NCOLS && y < LINES - 1; c++, y++) {
		ui_put(y, 1, CRT_LABEL, "%-6s", vt_columns[c].title);
		ui_put(y, 8, CRT_DEFAULT, "%s", vt_columns[c].doc);
	}
	if (y < LINES - 1)
		ui_put(y, 1, CRT_DEFAULT,
		       "Page map: . none, p private, c copy-on-write, s shared, k cache-held;"
		       " UPPER dirty");
}
