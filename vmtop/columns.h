/* The process table's columns, shared by the screen and batch mode. */
#ifndef VMTOP_COLUMNS_H
#define VMTOP_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>

#include "sample.h"

enum vt_colid { C_EP, C_NAME, C_RSS, C_PSS, C_SHR, C_COW, C_VSZ, C_REG, C_FLT, C_NCOLS };

struct vt_column {
	const char *key;   /* for -s and the sort menu */
	const char *title; /* header */
	int width;
	bool left;       /* left-aligned (the name) */
	int changed;     /* VT_COL_* whose change highlights it, or -1 */
	const char *doc; /* for the help screen */
};

extern const struct vt_column vt_columns[C_NCOLS];

/* The column called key, or -1. */
int vt_column_by_key(const char *key);

/* Sort v (pointers into a sample) by column c: numbers biggest first,
 * the endpoint and the name in ascending order; reverse flips it. Ties
 * go by endpoint. */
void vt_sort(const struct vt_proc **v, size_t n, enum vt_colid c, bool reverse);

/* Column c of p as text (memory in KiB), without padding. */
void vt_cell(const struct vt_proc *p, enum vt_colid c, uint32_t page_size, char *buf, size_t len);

/* Kibibytes of pages. */
unsigned long long vt_kib(unsigned long long pages, uint32_t page_size);

#endif
