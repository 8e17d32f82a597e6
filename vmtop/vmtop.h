/* vmtop: a live curses view of VM's memory (docs/vmtop.md). */
#ifndef VMTOP_H
#define VMTOP_H

#include <stdbool.h>

#include "sample.h"

struct vmtop_opts {
	double delay;       /* seconds between refreshes (-d) */
	bool batch;         /* -b: text snapshots, no curses */
	long count;         /* -n: snapshots (batch) or refreshes before quitting; 0: until quit */
	const char *socket; /* --socket; NULL: the default path */
	bool mono;          /* --mono: no colours */
	const char *sort;   /* -s: initial sort column name, NULL: resident */
};

/* Batch mode (batch.c): opts->count snapshots as text on stdout. Returns
 * the exit status. */
int batch_run(struct sampler *s, const struct vmtop_opts *opts);

/* The interactive screen (ui.c). Returns the exit status. */
int ui_run(struct sampler *s, const struct vmtop_opts *opts);

#endif
