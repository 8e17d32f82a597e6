/*
 * The terminal (crt.h). Every colour vmtop draws is a role in the table
 * below, and the pairs are made in one place (crt_init) from it; the
 * monochrome column is what the role looks like without colours, with
 * attributes only.
 *
 * Restoring the terminal: atexit covers exit(); SIGTERM, SIGINT and
 * SIGHUP only set a flag, since the main loop wakes at least ten times a
 * second and ends cleanly; a crash cannot go on, so its handler calls
 * endwin (not async-signal-safe, but the process is dying and a broken
 * terminal is worse, as htop reasons) and re-raises the signal with the
 * default action so a core dump and the exit status are as they would be.
 */
#define _POSIX_C_SOURCE 200809L
#include "crt.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct crt_style {
	short fg, bg;  /* -1: the terminal's default */
	int attr;      /* with colours */
	int mono_attr; /* without */
};

static const struct crt_style styles[CRT_NROLES] = {
	[CRT_DEFAULT] = { -1, -1, A_NORMAL, A_NORMAL },
	[CRT_TITLE] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
	[CRT_LABEL] = { COLOR_CYAN, -1, A_NORMAL, A_NORMAL },
	[CRT_VALUE] = { -1, -1, A_BOLD, A_BOLD },
	[CRT_MEM_PRIVATE] = { COLOR_GREEN, -1, A_BOLD, A_BOLD },
	[CRT_MEM_SHARED] = { COLOR_MAGENTA, -1, A_BOLD, A_BOLD },
	[CRT_MEM_CACHE] = { COLOR_YELLOW, -1, A_NORMAL, A_NORMAL },
	[CRT_MEM_SLAB] = { COLOR_BLUE, -1, A_BOLD, A_NORMAL },
	[CRT_MEM_PTBL] = { COLOR_CYAN, -1, A_NORMAL, A_NORMAL },
	[CRT_MEM_VM] = { COLOR_RED, -1, A_NORMAL, A_NORMAL },
	[CRT_MEM_FREE] = { -1, -1, A_DIM, A_DIM },
	[CRT_TABLE_HEAD] = { COLOR_BLACK, COLOR_GREEN, A_NORMAL, A_REVERSE },
	[CRT_SORTED] = { COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD | A_UNDERLINE },
	[CRT_CURSOR] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
	[CRT_CHANGED] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
	[CRT_NEW] = { COLOR_GREEN, -1, A_BOLD, A_UNDERLINE },
	[CRT_KEY] = { -1, -1, A_BOLD, A_BOLD },
	[CRT_KEYTEXT] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
	[CRT_PROMPT] = { COLOR_BLACK, COLOR_YELLOW, A_NORMAL, A_REVERSE | A_BOLD },
	[CRT_OK] = { COLOR_GREEN, -1, A_BOLD, A_NORMAL },
	[CRT_WARN] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
	[CRT_ERROR] = { COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD },
	[CRT_PAGE_NONE] = { -1, -1, A_DIM, A_DIM },
	[CRT_PAGE_PRIVATE] = { COLOR_GREEN, -1, A_NORMAL, A_NORMAL },
	[CRT_PAGE_COW] = { COLOR_YELLOW, -1, A_NORMAL, A_NORMAL },
	[CRT_PAGE_SHARED] = { COLOR_MAGENTA, -1, A_NORMAL, A_NORMAL },
	[CRT_PAGE_CACHE] = { COLOR_CYAN, -1, A_NORMAL, A_NORMAL },
};

static int attrs[CRT_NROLES];
static bool active, colour;
static volatile sig_atomic_t stop_signal;

void crt_done(void)
{
	if (!active)
		return;
	active = false;
	curs_set(1);
	endwin();
}

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void on_crash(int sig)
{
	if (active)
		endwin();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

int crt_init(bool mono)
{
	if (newterm(NULL, stdout, stdin) == NULL) {
		fprintf(stderr, "vmtop: cannot use the terminal (TERM=%s)\n",
			getenv("TERM") ? getenv("TERM") : "");
		return -1;
	}
	active = true;
	atexit(crt_done);
	/* After newterm: curses installs its own handlers for these. */
	handle(SIGTERM, on_stop, 0);
	handle(SIGINT, on_stop, 0);
	handle(SIGHUP, on_stop, 0);
	handle(SIGSEGV, on_crash, SA_RESETHAND);
	handle(SIGBUS, on_crash, SA_RESETHAND);
	handle(SIGABRT, on_crash, SA_RESETHAND);
	handle(SIGFPE, on_crash, SA_RESETHAND);
	handle(SIGILL, on_crash, SA_RESETHAND);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);

	colour = !mono && has_colors() && start_color() == OK;
	if (colour)
		use_default_colors();
	for (int r = 0; r < CRT_NROLES; r++) {
		if (!colour || (styles[r].fg == -1 && styles[r].bg == -1)) {
			attrs[r] = colour ? styles[r].attr : styles[r].mono_attr;
			continue;
		}
		/* The one init_pair site: pair r + 1 is role r. */
		init_pair((short)(r + 1), styles[r].fg, styles[r].bg);
		attrs[r] = (int)COLOR_PAIR(r + 1) | styles[r].attr;
	}
	return 0;
}

int crt_attr(enum crt_role role)
{
	return attrs[role];
}

bool crt_colour(void)
{
	return colour;
}

int crt_getkey(int timeout_ms)
{
	timeout(timeout_ms);
	int ch = getch();
	return ch == ERR ? CRT_KEY_NONE : ch;
}

int crt_signalled(void)
{
	return stop_signal;
}

void crt_reraise(void)
{
	if (stop_signal == 0)
		return;
	signal(stop_signal, SIG_DFL);
	raise(stop_signal);
}
