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
	uint32_t sanity_every; /* vm_set_sanity(sanity_every, sanity_stop) after boot */
	bool sanity_stop;
	unsigned long inject_leak; /* vm_leak_nth_free(inject_leak) after boot */
	uint32_t mem_bytes;        /* when nonzero, boot with this, not the scenario's size */
	char *filebuf;             /* the last file readfile gave the runner */
};

/* The operations, with h as their context (m->ctx). */
void scn_host_machine(struct scn_host *h, struct scn_machine *m);

/* Forget the buffers the operations kept. */
void scn_host_done(struct scn_host *h);

/* Parse the value of --sanity=MODE: "off", "every-call" or "every-N"
 * (N >= 1) into *every (0 off). False when it is none of those. */
bool scn_host_parse_sanity(const char *mode, uint32_t *every);

/* The options --sanity=MODE, --sanity-stop, --sanity-every-call (the two
 * together) and --inject-leak=N of vm run and vm serve: 1 when arg is one
 * of them (h set), 0 when it is not, -1 for a bad value (reported on
 * stderr). */
int scn_host_sanity_option(struct scn_host *h, const char *arg, const char *prog);

/* Read path into a malloc'd buffer (the caller frees it): 0, ENOENT or
 * EIO. */
int hosted_slurp(const char *path, char **data, size_t *len);

#endif
