/*
 * vmtop's terminal (htop's CRT.c): the one module that talks to curses
 * about colours, keys and the terminal's state. Colours are semantic
 * roles; the table in crt.c says how each looks in colour and in
 * monochrome. The terminal is restored on every way out: crt_done, exit,
 * SIGTERM/SIGINT/SIGHUP (which end the main loop, see crt_signalled) and
 * crashes (SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL: endwin, then the
 * default action).
 */
#ifndef VMTOP_CRT_H
#define VMTOP_CRT_H

#include <stdbool.h>

#include <curses.h>

enum crt_role {
	CRT_DEFAULT,
	CRT_TITLE,       /* the top line */
	CRT_LABEL,       /* a meter's name */
	CRT_VALUE,       /* a meter's number */
	CRT_MEM_PRIVATE, /* the memory bar's segments, by owner */
	CRT_MEM_SHARED,
	CRT_MEM_CACHE,
	CRT_MEM_SLAB,
	CRT_MEM_PTBL,
	CRT_MEM_VM,
	CRT_MEM_FREE,
	CRT_TABLE_HEAD, /* a table's column titles */
	CRT_SORTED,     /* the title of the sort column */
	CRT_CURSOR,     /* the selected row or cell */
	CRT_CHANGED,    /* a cell that changed since the last refresh */
	CRT_NEW,        /* a process that was not there at the last refresh */
	CRT_KEY,        /* a key in the footer */
	CRT_KEYTEXT,    /* what it does */
	CRT_PROMPT,     /* search, filter, delay input */
	CRT_OK,
	CRT_WARN,
	CRT_ERROR,
	CRT_PAGE_NONE, /* page map cells */
	CRT_PAGE_PRIVATE,
	CRT_PAGE_COW,
	CRT_PAGE_SHARED,
	CRT_PAGE_CACHE,
	CRT_NROLES
};

/* Keys crt_getkey returns beyond curses' own. */
#define CRT_KEY_NONE (-1) /* nothing typed before the timeout */
#define CRT_KEY_ESC 27

/* Starts curses (monochrome if mono or the terminal has no colours) and
 * installs the handlers that restore the terminal. Returns 0, or -1 if
 * the terminal cannot be used (a message is on stderr). */
int crt_init(bool mono);

/* Restores the terminal; safe to call more than once. */
void crt_done(void);

/* The attributes that draw role. */
int crt_attr(enum crt_role role);

/* Whether colours are in use (not --mono, and the terminal has them). */
bool crt_colour(void);

/* The next key, waiting at most timeout_ms; CRT_KEY_NONE if none came.
 * KEY_RESIZE comes through when the window's size changed. */
int crt_getkey(int timeout_ms);

/* The signal (SIGTERM, SIGINT, SIGHUP) that asked vmtop to stop, or 0.
 * The main loop ends when it is set, calls crt_done, then
 * crt_reraise. */
int crt_signalled(void);

/* Dies of the signal crt_signalled reports, with its default action, so
 * that the parent sees how vmtop ended. Returns if there was none. */
void crt_reraise(void);

#endif
