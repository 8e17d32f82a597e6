/*
 * vmtop [-b] [-n N] [-d SECS] [-s COLUMN] [--mono] [--socket PATH | --target T]
 *
 * A live view of VM's memory, as htop is of a Linux system's
 * (docs/vmtop.md). Options follow top where they fit: -b batch mode, -n
 * iterations, -d delay.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmtop.h"

static int usage(FILE *f, int status)
{
	fprintf(
	    f,
	    "usage: vmtop [-b] [-n N] [-d SECS] [-s COLUMN] [--mono] [--socket PATH | --target T]\n"
	    "  -b            batch mode: print snapshots as text (no curses)\n"
	    "  -n N          N snapshots (batch), or N refreshes, then exit\n"
	    "  -d SECS       seconds between refreshes (default 2; fractions allowed)\n"
	    "  -s COLUMN     sort by COLUMN: ep name rss pss shr cow vsz reg flt (default rss)\n"
	    "  --mono        no colours\n"
	    "  --socket PATH the server's socket (default: as vmstat, see docs/serve.md)\n"
	    "  --target T    where VM runs: qemu:PATH, the debug socket of an i386 guest\n"
	    "                (scripts/qemu --serve PATH), or a socket PATH (as --socket)\n"
	    "Keys: h or F1 in vmtop; docs/vmtop.md.\n");
	return status;
}

static const char *const sort_names[] = { "ep",  "name", "rss", "pss", "shr",
					  "cow", "vsz",  "reg", "flt", NULL };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "target", required_argument, NULL, 'T' },
		{ "mono", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vmtop_opts o = { .delay = 2.0 };
	int c;

	while ((c = getopt_long(argc, argv, "bn:d:s:h", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'b':
			o.batch = true;
			break;
		case 'n':
			errno = 0;
			o.count = strtol(optarg, &end, 10);
			if (errno || *end || o.count < 1) {
				fprintf(stderr, "vmtop: -n wants a count of 1 or more, not %s\n",
					optarg);
				return 2;
			}
			break;
		case 'd':
			errno = 0;
			o.delay = strtod(optarg, &end);
			if (errno || *end || !isfinite(o.delay) || o.delay < 0.05 ||
			    o.delay > 3600) {
				fprintf(stderr,
					"vmtop: -d wants seconds from 0.05 to 3600, not %s\n",
					optarg);
				return 2;
			}
			break;
		case 's': {
			bool ok = false;
			for (int i = 0; sort_names[i]; i++)
				ok |= strcmp(optarg, sort_names[i]) == 0;
			if (!ok) {
				fprintf(stderr, "vmtop: no column %s to sort by\n", optarg);
				return usage(stderr, 2);
			}
			o.sort = optarg;
			break;
		}
		case 'S':
			o.socket = optarg;
			break;
		case 'T':
			/* qemu:PATH: the guest's COM2 socket, the same protocol
			 * (docs/qemu.md), so an alias of --socket. */
			o.socket = strncmp(optarg, "qemu:", 5) == 0 ? optarg + 5 : optarg;
			if (o.socket[0] == '\0') {
				fprintf(stderr, "vmtop: --target wants qemu:PATH or PATH, not %s\n",
					optarg);
				return usage(stderr, 2);
			}
			break;
		case 'M':
			o.mono = true;
			break;
		case 'h':
			return usage(stdout, 0);
		default:
			return usage(stderr, 2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vmtop: unexpected argument %s\n", argv[optind]);
		return usage(stderr, 2);
	}
	if (o.batch && o.count == 0)
		o.count = 1;
	struct sampler *s = sampler_new(o.socket, 2000);
	if (s == NULL) {
		fprintf(stderr, "vmtop: out of memory\n");
		return 1;
	}
	int status = o.batch ? batch_run(s, &o) : ui_run(s, &o);
	sampler_free(s);
	return status;
}
