/*
 * The interactive screen (docs/vmtop.md): the loop that samples VM every
 * delay seconds, draws the current screen, and reads keys in between.
 * Keys every screen shares are here; a screen's own are in its file.
 * The loop wakes at least every 100 ms, so a stop signal (crt.h) and a
 * new delay take effect at once.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crt.h"
#include "ui.h"
#include "vmtop.h"

#define CTRL(c) ((c)&0x1f)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int ui_put(int y, int x, int role, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (y < 0 || y >= LINES || x >= COLS)
		return x;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	int n = (int)strlen(buf);
	if (n > COLS - x)
		n = COLS - x;
	attrset(crt_attr(role));
	mvaddnstr(y, x, buf, n);
	attrset(A_NORMAL);
	return x + n;
}

bool ui_cursor_key(int ch, size_t n, size_t step, size_t page, size_t *sel)
{
	size_t s = *sel, last = n ? n - 1 : 0;

	switch (ch) {
	case KEY_UP:
	case 'k':
		s = s >= step ? s - step : s;
		break;
	case KEY_DOWN:
	case 'j':
		s = s + step < n ? s + step : s;
		break;
	case KEY_PPAGE:
		s = s > page ? s - page : 0;
		break;
	case KEY_NPAGE:
		s = s + page < n ? s + page : last;
		break;
	case KEY_HOME:
		s = 0;
		break;
	case KEY_END:
		s = last;
		break;
	default:
		return false;
	}
	*sel = s;
	return true;
}

bool ui_match(const char *name, size_t len, const char *needle)
{
	size_t n = strlen(needle), l = strnlen(name, len);

	if (n == 0)
		return true;
	for (size_t i = 0; i + n <= l; i++) {
		size_t k = 0;
		while (k < n &&
		       tolower((unsigned char)name[i + k]) == tolower((unsigned char)needle[k]))
			k++;
		if (k == n)
			return true;
	}
	return false;
}

struct footer_key {
	const char *key, *label;
};

static const struct footer_key procs_keys[] = {
	{ "F1", "Help" },  { "F3", "Search" },   { "F4", "Filter" }, { "F6", "Sort" },
	{ "I", "Invert" }, { "Ent", "Regions" }, { "Tab", "Next" },  { "d", "Delay" },
	{ "Z", "Pause" },  { "q", "Quit" },      { NULL, NULL },
};
static const struct footer_key regions_keys[] = {
	{ "F1", "Help" }, { "Ent", "PageMap" }, { "Esc", "Back" }, { "Tab", "Next" },
	{ "d", "Delay" }, { "Z", "Pause" },     { "q", "Quit" },   { NULL, NULL },
};
static const struct footer_key pages_keys[] = {
	{ "F1", "Help" }, { "Arrows", "Page" }, { "Esc", "Back" }, { "Tab", "Next" },
	{ "d", "Delay" }, { "Z", "Pause" },     { "q", "Quit" },   { NULL, NULL },
};
static const struct footer_key other_keys[] = {
	{ "F1", "Help" }, { "Tab", "Next" }, { "Esc", "Processes" }, { "d", "Delay" },
	{ "Z", "Pause" }, { "q", "Quit" },   { NULL, NULL },
};
static const struct footer_key help_keys[] = { { "any key", "Back" }, { NULL, NULL } };
static const struct footer_key mismatch_keys[] = { { "q", "Quit" }, { NULL, NULL } };
static const struct footer_key input_keys[] = {
	{ "Enter", "Done" }, { "Esc", "Cancel" }, { "F3", "Next" }, { NULL, NULL }
};

static void draw_footer(struct ui *u)
{
	const struct footer_key *k;
	int y = LINES - 1, x = 0;

	move(y, 0);
	clrtoeol();
	if (u->input != IN_NONE) {
		static const char *const prompts[] = { "", "Search: ", "Filter: ", "Delay (s): " };
		x = ui_put(y, 0, CRT_PROMPT, "%s%s", prompts[u->input], u->inbuf);
		x = ui_put(y, x, CRT_PROMPT, "_");
		x = ui_put(y, x, CRT_DEFAULT, "  ");
		for (k = input_keys; k->key && (u->input == IN_SEARCH || k != &input_keys[2]);
		     k++) {
			x = ui_put(y, x, CRT_KEY, "%s", k->key);
			x = ui_put(y, x, CRT_KEYTEXT, "%s", k->label);
			x = ui_put(y, x, CRT_DEFAULT, " ");
		}
		return;
	}
	if (u->state == VT_VERSION_MISMATCH)
		k = mismatch_keys;
	else if (u->screen == UI_HELP)
		k = help_keys;
	else if (u->screen == UI_PROCS)
		k = procs_keys;
	else if (u->screen == UI_REGIONS)
		k = regions_keys;
	else if (u->screen == UI_PAGES)
		k = pages_keys;
	else
		k = other_keys;
	for (; k->key; k++) {
		x = ui_put(y, x, CRT_KEY, "%s", k->key);
		x = ui_put(y, x, CRT_KEYTEXT, "%s", k->label);
		x = ui_put(y, x, CRT_DEFAULT, " ");
	}
}

static void draw_title(struct ui *u)
{
	char right[96], when[16];
	time_t t = time(NULL);
	int n = 0;

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
	if (u->paused)
		n += snprintf(right + n, sizeof(right) - (size_t)n, "PAUSED  ");
	if (u->screen == UI_PROCS)
		n += snprintf(right + n, sizeof(right) - (size_t)n, "sort:%s%s  ",
			      vt_columns[u->sort].key, u->reverse ? "(inv)" : "");
	if (u->filter[0])
		n += snprintf(right + n, sizeof(right) - (size_t)n, "filter:%s  ", u->filter);
	snprintf(right + n, sizeof(right) - (size_t)n, "every %gs  %s", u->delay, when);
	move(0, 0);
	attrset(crt_attr(CRT_TITLE));
	hline(' ', COLS);
	attrset(A_NORMAL);
	int w = (int)strlen(right);
	ui_put(0, 0, CRT_TITLE, "vmtop  %s", sampler_target(u->s));
	if (w + 1 < COLS)
		ui_put(0, COLS - w - 1, CRT_TITLE, "%s", right);
}

/* A message in the middle of the screen, cut into lines that fit. */
static void draw_notice(int y, int role, const char *text)
{
	size_t len = strlen(text);
	size_t w = COLS > 4 ? (size_t)COLS - 4 : 1;

	for (size_t i = 0; i < len && y < LINES - 1; i += w, y++)
		ui_put(y, 2, role, "%.*s", (int)w, text + i);
}

static void draw(struct ui *u)
{
	erase();
	if (LINES < 6 || COLS < 30) {
		ui_put(0, 0, CRT_WARN, "vmtop: the window is too small");
		refresh();
		return;
	}
	draw_title(u);
	int y0 = 1, y1 = LINES - 1; /* the screen's lines are [y0, y1) */
	if (u->state == VT_VERSION_MISMATCH) {
		char msg[512];
		/* libvminfo's message says "version mismatch: ..." itself. */
		snprintf(msg, sizeof(msg), "%s", sampler_error(u->s));
		draw_notice(y0 + 1, CRT_ERROR, msg);
		draw_notice(y0 + 4, CRT_DEFAULT,
			    "vmtop and this VM speak different versions of the debug call; "
			    "use the vmtop built with it. Press q to quit.");
	} else if (u->screen == UI_HELP) {
		help_draw(u);
	} else if (u->v == NULL) {
		char msg[512];
		if (u->state == VT_DISCONNECTED)
			snprintf(msg, sizeof(msg), "disconnected, retrying every %gs: %s", u->delay,
				 sampler_error(u->s));
		else
			snprintf(msg, sizeof(msg), "connecting to %s", sampler_target(u->s));
		draw_notice(y0 + 1, CRT_ERROR, msg);
	} else {
		y0 += meters_draw(u, y0);
		switch (u->screen) {
		case UI_PROCS:
			procs_draw(u, y0, y1);
			break;
		case UI_REGIONS:
			regions_draw(u, y0, y1);
			break;
		case UI_PAGES:
			pages_draw(u, y0, y1);
			break;
		case UI_CACHE:
			cache_draw(u, y0, y1);
			break;
		case UI_SLAB:
			slab_draw(u, y0, y1);
			break;
		case UI_COUNTERS:
			counters_draw(u, y0, y1);
			break;
		case UI_HELP:
			break;
		}
	}
	draw_footer(u);
	refresh();
}

/* One refresh: a sample, and the current screen's extra requests. */
static void tick(struct ui *u)
{
	const struct vt_sample *v;

	if (u->state == VT_VERSION_MISMATCH)
		return; /* VM will not change its version: stay on the message */
	if (u->v) {
		u->last_stats = u->v->stats;
		u->have_last_stats = true;
	} else {
		u->have_last_stats = false;
	}
	u->state = sampler_take(u->s, &v);
	if (u->state != VT_CONNECTED) {
		u->v = NULL;
		return;
	}
	u->v = v;
	if (u->screen == UI_REGIONS || u->screen == UI_PAGES ||
	    (u->screen == UI_HELP && (u->back == UI_REGIONS || u->back == UI_PAGES)))
		regions_fetch(u);
}

static void input_start(struct ui *u, enum ui_input in)
{
	u->input = in;
	u->inbuf[0] = '\0';
	if (in == IN_FILTER)
		snprintf(u->inbuf, sizeof(u->inbuf), "%s", u->filter);
}

/* A key while the footer reads text. */
static void input_key(struct ui *u, int ch)
{
	size_t n = strlen(u->inbuf);

	if (ch == CRT_KEY_ESC) {
		if (u->input == IN_FILTER)
			u->filter[0] = '\0';
		u->search[0] = '\0';
		u->input = IN_NONE;
		return;
	}
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		if (u->input == IN_DELAY) {
			char *end;
			double d = strtod(u->inbuf, &end);
			if (end != u->inbuf && *end == '\0' && isfinite(d) && d >= 0.05 &&
			    d <= 3600)
				u->delay = d;
		}
		u->search[0] = '\0';
		u->input = IN_NONE;
		return;
	}
	if (ch == KEY_F(3) && u->input == IN_SEARCH) {
		procs_search(u, true);
		return;
	}
	if (ch == KEY_BACKSPACE || ch == 127 || ch == CTRL('h')) {
		if (n > 0)
			u->inbuf[n - 1] = '\0';
	} else if (ch >= 32 && ch < 127 && n + 1 < sizeof(u->inbuf)) {
		if (u->input == IN_DELAY && !isdigit(ch) && ch != '.')
			return;
		u->inbuf[n] = (char)ch;
		u->inbuf[n + 1] = '\0';
	} else {
		return;
	}
	if (u->input == IN_SEARCH) {
		snprintf(u->search, sizeof(u->search), "%s", u->inbuf);
		procs_search(u, false);
	} else if (u->input == IN_FILTER) {
		snprintf(u->filter, sizeof(u->filter), "%s", u->inbuf);
	}
}

static void key(struct ui *u, int ch)
{
	if (u->input != IN_NONE) {
		input_key(u, ch);
		return;
	}
	if (u->screen == UI_HELP) {
		if (ch != KEY_RESIZE && ch != CRT_KEY_NONE)
			u->screen = u->back;
		return;
	}
	switch (ch) {
	case 'q':
	case KEY_F(10):
		u->quit = true;
		return;
	case KEY_RESIZE:
		return; /* the next draw fits the new size */
	case CTRL('l'):
		clearok(curscr, TRUE);
		return;
	}
	if (u->state == VT_VERSION_MISMATCH)
		return;
	switch (ch) {
	case 'h':
	case '?':
	case KEY_F(1):
		u->back = u->screen;
		u->screen = UI_HELP;
		return;
	case 'Z':
	case ' ':
		u->paused = !u->paused;
		return;
	case 'd':
		input_start(u, IN_DELAY);
		return;
	case '\t':
		u->screen = u->screen == UI_CACHE      ? UI_SLAB
			    : u->screen == UI_SLAB     ? UI_COUNTERS
			    : u->screen == UI_COUNTERS ? UI_PROCS
						       : UI_CACHE;
		return;
	case KEY_BTAB:
		u->screen = u->screen == UI_SLAB       ? UI_CACHE
			    : u->screen == UI_COUNTERS ? UI_SLAB
			    : u->screen == UI_PROCS    ? UI_COUNTERS
						       : UI_PROCS;
		return;
	}
	switch (u->screen) {
	case UI_PROCS:
		if (ch == '/' || ch == KEY_F(3))
			input_start(u, IN_SEARCH);
		else if (ch == '\\' || ch == KEY_F(4))
			input_start(u, IN_FILTER);
		else
			procs_key(u, ch);
		break;
	case UI_REGIONS:
		regions_key(u, ch);
		break;
	case UI_PAGES:
		pages_key(u, ch);
		break;
	default:
		if (ch == CRT_KEY_ESC || ch == KEY_LEFT || ch == KEY_BACKSPACE || ch == 127)
			u->screen = UI_PROCS;
		break;
	}
}

int ui_run(struct sampler *s, const struct vmtop_opts *opts)
{
	struct ui u;
	long ticks = 0;
	double last_tick = 0;

	memset(&u, 0, sizeof(u));
	u.s = s;
	u.delay = opts->delay;
	u.state = VT_DISCONNECTED;
	u.sort = opts->sort ? (enum vt_colid)vt_column_by_key(opts->sort) : C_RSS;
	u.sel_ep = INT32_MIN; /* the first row */
	if (crt_init(opts->mono) != 0)
		return 1;
	while (!u.quit && !crt_signalled()) {
		/* The first sample comes before the first draw. The next is
		 * due delay after the last, also when d changed the delay. */
		double t = now();
		bool last = false;
		if (!u.paused && (ticks == 0 || t >= last_tick + u.delay)) {
			tick(&u);
			ticks++;
			last_tick = t;
			last = opts->count > 0 && ticks >= opts->count;
		}
		draw(&u);
		if (last)
			break;
		double wait = u.paused ? 0.1 : last_tick + u.delay - now();
		int ms = wait <= 0 ? 0 : wait >= 0.1 ? 100 : (int)(wait * 1000) + 1;
		int ch = crt_getkey(ms);
		if (ch != CRT_KEY_NONE)
			key(&u, ch);
	}
	int status = u.state == VT_VERSION_MISMATCH ? 1 : 0;
	crt_done();
	procs_done(&u);
	regions_done(&u);
	crt_reraise();
	return status;
}
