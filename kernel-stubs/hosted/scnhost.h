/*
 * The hosted machine as the scenario runner drives it: the struct
 * scn_machine that `vm run`, `vm serve --workload FILE` and the tests
 * share.
 */
#ifndef HOSTED_SCNHOST_H
#define HOSTED_SCNHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../scenario/scenario.h"

struct scn_host {
	bool sanity_every_call; /* vm_set_sanity(true) after boot */
	uint32_t mem_bytes;     /* when nonzero, boot with this, not the scenario's size */
	char *filebuf;          /* the last file readfile gave the runner */
};

/* The operations, with h as their context (m->ctx). */
void scn_host_machine(struct scn_host *h, struct scn_machine *m);

/* Forget the buffers the operations kept. */
void scn_host_done(struct scn_host *h);

/* Read path into a malloc'd buffer (the caller frees it): 0, ENOENT or
 * EIO. */
int hosted_slurp(const char *path, char **data, size_t *len);

#endif
