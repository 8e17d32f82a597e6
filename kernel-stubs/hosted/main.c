/*
 * `vm`: the hosted machine's command line.
 *
 *   vm run [--sanity=off|every-call|every-N] [--sanity-stop] FILE...
 *
 * runs each scenario file on a fresh hosted machine and exits with the
 * worst status: 0 all passed, 1 a check failed (or the consistency check
 * switched on by --sanity found something), 2 a scenario could not run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vmscope/errno.h>

#include "../../vm/vm.h"
#include "../scenario/scenario.h"
#include "machine.h"
#include "scnhost.h"
#include "serve.h"

static int usage(FILE *f, int status)
{
	fprintf(f, "usage: vm run [--sanity=off|every-call|every-N] [--sanity-stop]\n"
		   "              [--inject-leak=N] FILE...\n"
		   "  run scenario files, each on a fresh hosted machine\n"
		   "  (format: docs/scenario-format.md)\n"
		   "  --sanity=MODE    VM's consistency check after every call or every N\n"
		   "                   calls (docs/sanity.md); default off\n"
		   "  --sanity-stop    stop VM at the first finding, with a core dump\n"
		   "  --sanity-every-call  the same as --sanity=every-call --sanity-stop\n"
		   "  --inject-leak=N  VM forgets its N-th frame free (docs/chasing-leaks.md)\n"
		   "       vm serve [--mem SIZE] [--socket PATH] [--workload demo|FILE] ...\n"
		   "  run the machine and serve the debug call (vm serve --help)\n");
	return status;
}

static int cmd_run(int argc, char **argv)
{
	struct scn_host host = { 0 };
	struct scn_machine machine;
	int status = 0, nfiles = 0;

	scn_host_machine(&host, &machine);
	for (int i = 0; i < argc; i++) {
		int o = scn_host_sanity_option(&host, argv[i], "vm run");
		if (o < 0)
			return usage(stderr, 2);
		if (o > 0)
			continue;
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "vm run: unknown option %s\n", argv[i]);
			return usage(stderr, 2);
		}
		char *text;
		size_t len;
		nfiles++;
		int r = hosted_slurp(argv[i], &text, &len);
		if (r != 0) {
			fprintf(stderr, "%s: error: cannot read: %s\n", argv[i], strerror(r));
			status = 2;
			continue;
		}
		int s = scn_run(&machine, argv[i], text, len);
		free(text);
		uint64_t found = vm_sanity_findings();
		if (host.sanity_every && found) {
			printf("%s: sanity: %llu finding%s during the run (docs/sanity.md)\n",
			       argv[i], (unsigned long long)found, found == 1 ? "" : "s");
			if (s < 1)
				s = 1;
		}
		if (s > status)
			status = s;
	}
	scn_host_done(&host);
	if (nfiles == 0)
		return usage(stderr, 2);
	return status;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve_main(argc - 2, argv + 2);
	if (argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
			  strcmp(argv[1], "-h") == 0))
		return usage(stdout, 0);
	if (argc >= 2)
		fprintf(stderr, "vm: unknown command %s\n", argv[1]);
	return usage(stderr, 2);
}
