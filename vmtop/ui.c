/* The interactive screen: placeholder until the curses screens land. */
#include <stdio.h>

#include "vmtop.h"

int ui_run(struct sampler *s, const struct vmtop_opts *opts)
{
	(void)s;
	(void)opts;
	fprintf(stderr, "vmtop: the interactive screen is not built yet; use -b\n");
	return 1;
}
