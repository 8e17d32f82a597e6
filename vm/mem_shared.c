/*
 * Shared memory made by remap: a region of one process mapped into
 * another. The new region references every page of the source region
 * (which VM makes fully resident and shared first, see do_remap), so it
 * never needs the source again: pages stay valid after the source unmaps
 * or exits, held by their refcounts. Writes go to the same frames on both
 * sides; a read-only remap is a region without write permission. Stays
 * shared across fork.
 */
#include "glo.h"
#include "memtype.h"
#include "util.h"

const struct mem_type mem_type_shared = {
	.name = "shared",
	.id = MT_SHARED,
	.ev_copy = map_copy_refs,
	.ev_pagefault = mt_pagefault_resident,
	.writable = mt_writable_always,
};
