/*
 * The interactive screen's state, shared by its screens (ui.c runs the
 * loop; meters.c draws the header, screen_*.c and help.c one screen
 * each). Every screen draws between two lines it is given and takes the
 * keys the loop does not.
 */
#ifndef VMTOP_UI_H
#define VMTOP_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "columns.h"
#include "sample.h"

enum ui_screen { UI_PROCS, UI_CACHE, UI_SLAB, UI_COUNTERS, UI_REGIONS, UI_PAGES, UI_HELP };

/* What the footer's input line is reading. */
enum ui_input { IN_NONE, IN_SEARCH, IN_FILTER, IN_DELAY };

#define UI_TEXT 32

struct ui {
	struct sampler *s;
	const struct vt_sample *v; /* the last good sample; NULL while disconnected */
	enum vt_state state;
	double delay;
	bool paused;
	bool quit;
	enum ui_screen screen;
	enum ui_screen back; /* where help returns to */
	enum ui_input input;
	char inbuf[UI_TEXT];
	char message[128]; /* a one-off note on the footer line ("delay 1.0s") */

	/* The process table. */
	enum vt_colid sort;
	bool reverse;
	int32_t sel_ep; /* the cursor, by endpoint (rows move when resorted) */
	size_t top;     /* the first row shown */
	char filter[UI_TEXT];
	char search[UI_TEXT];
	const struct vt_proc **rows; /* shown, in order; rebuilt each draw */
	size_t nrows;

	/* A process's regions (UI_REGIONS), asked at each refresh. */
	int32_t reg_ep;
	char reg_name[17];
	struct vmi_region *regs;
	size_t nregs;
	uint32_t reg_sel; /* the cursor, by start address */
	size_t reg_top;
	char reg_err[400];

	/* The page map of a region (UI_PAGES). */
	struct vmi_region pg_region;
	struct vmi_page *pages;
	size_t npages;
	size_t pg_sel; /* page index in the region */
	size_t pg_top; /* first row of cells shown */
	char pg_err[400];
	struct vmi_stats last_stats; /* the counters at the sample before (UI_COUNTERS) */
	bool have_last_stats;
	double last_stats_dt;
};

/* The header: memory bar, faults, cache, sanity. Returns the lines used. */
int meters_draw(struct ui *u, int y);

void procs_draw(struct ui *u, int y0, int y1);
bool procs_key(struct ui *u, int ch);
/* Moves the cursor to the first shown row from the cursor (after it if
 * next) whose name has u->search, wrapping around. */
void procs_search(struct ui *u, bool next);
void procs_done(struct ui *u);

/* Asks for the regions (and, on UI_PAGES, the pages) again. */
void regions_fetch(struct ui *u);
void regions_open(struct ui *u, int32_t ep, const char *name);
void regions_draw(struct ui *u, int y0, int y1);
bool regions_key(struct ui *u, int ch);
void pages_draw(struct ui *u, int y0, int y1);
bool pages_key(struct ui *u, int ch);
void regions_done(struct ui *u);

void cache_draw(struct ui *u, int y0, int y1);
void slab_draw(struct ui *u, int y0, int y1);
void counters_draw(struct ui *u, int y0, int y1);

void help_draw(struct ui *u);

/* Text at (y, x) in role, cut at the right edge; returns the x after it. */
int ui_put(int y, int x, int role, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Name contains needle, ignoring case. */
bool ui_match(const char *name, size_t len, const char *needle);

/* The cursor keys every list shares: Up/k and Down/j move *sel by step
 * (one row, or one row of page cells), PgUp/PgDn by page, Home/End to
 * the ends, within [0, n). False for any other key (*sel unchanged). */
bool ui_cursor_key(int ch, size_t n, size_t step, size_t page, size_t *sel);

#endif
