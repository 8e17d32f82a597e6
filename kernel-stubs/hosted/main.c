/*
 * `vm`: the hosted machine's command line.
 *
 *   vm run [--sanity-every-call] FILE...
 *
 * runs each scenario file on a fresh hosted machine and exits with the
 * worst status: 0 all passed, 1 a check failed, 2 a scenario could not run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vmscope/errno.h>

#include "../../vm/vm.h"
#include "../scenario/scenario.h"
#include "machine.h"

static bool sanity_every_call;

static int m_boot(void *ctx, uint32_t mem_bytes)
{
	(void)ctx;
	int r = hosted_boot(mem_bytes);
	if (r == 0)
		vm_set_sanity(sanity_every_call);
	return r;
}

static void m_halt(void *ctx)
{
	(void)ctx;
	hosted_halt();
}

static int m_spawn(void *ctx, const char *name, int priv, endpoint_t *ep)
{
	(void)ctx;
	return hosted_spawn(name, priv != 0, ep);
}

static int m_fork(void *ctx, endpoint_t parent, const char *name, endpoint_t *child)
{
	(void)ctx;
	return hosted_fork(parent, name, child);
}

static int m_exec(void *ctx, endpoint_t ep, const void *image, size_t len, int *killed)
{
	(void)ctx;
	bool k;
	int r = hosted_exec(ep, image, len, &k);
	*killed = k;
	return r;
}

static int m_exit(void *ctx, endpoint_t ep)
{
	(void)ctx;
	return hosted_exit(ep);
}

static int m_call(void *ctx, message *m)
{
	(void)ctx;
	return hosted_call(m);
}

static int m_access(void *ctx, endpoint_t ep, vir_bytes va, void *buf, size_t len, int write)
{
	(void)ctx;
	struct hosted_proc *p = hosted_proc(ep);
	return p ? mmu_access(p, va, buf, len, write != 0) : ESRCH;
}

static int m_umap(void *ctx, endpoint_t ep, vir_bytes va, phys_bytes *pa)
{
	(void)ctx;
	struct hosted_proc *p = hosted_proc(ep);
	return p ? mmu_translate(p, va, pa) : ESRCH;
}

static char *filebuf;

/* Read path into a malloc'd buffer; 0 or an errno. */
static int slurp(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return errno == ENOENT ? ENOENT : EIO;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	size_t k;
	while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
		n += k;
		if (n == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (nb == NULL)
				free(buf);
			buf = nb;
		}
	}
	int err = ferror(f);
	fclose(f);
	if (buf == NULL || err) {
		free(buf);
		return EIO;
	}
	*data = buf;
	*len = n;
	return 0;
}

static int m_readfile(void *ctx, const char *path, const void **data, size_t *len)
{
	(void)ctx;
	char *buf;
	int r = slurp(path, &buf, len);
	if (r != 0)
		return r;
	free(filebuf);
	filebuf = buf;
	*data = buf;
	return 0;
}

static void m_print(void *ctx, const char *text)
{
	(void)ctx;
	fputs(text, stdout);
	fflush(stdout);
}

static const struct scn_machine hosted_scn = {
	.boot = m_boot,
	.halt = m_halt,
	.spawn = m_spawn,
	.fork = m_fork,
	.exec = m_exec,
	.exit = m_exit,
	.call = m_call,
	.access = m_access,
	.umap = m_umap,
	.readfile = m_readfile,
	.print = m_print,
};

static int usage(FILE *f, int status)
{
	fprintf(f, "usage: vm run [--sanity-every-call] FILE...\n"
		   "  run scenario files, each on a fresh hosted machine\n"
		   "  (format: docs/scenario-format.md)\n");
	return status;
}

static int cmd_run(int argc, char **argv)
{
	int status = 0, nfiles = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--sanity-every-call") == 0) {
			sanity_every_call = true;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "vm run: unknown option %s\n", argv[i]);
			return usage(stderr, 2);
		}
		char *text;
		size_t len;
		nfiles++;
		int r = slurp(argv[i], &text, &len);
		if (r != 0) {
			fprintf(stderr, "%s: error: cannot read: %s\n", argv[i], strerror(r));
			status = 2;
			continue;
		}
		int s = scn_run(&hosted_scn, argv[i], text, len);
		free(text);
		if (s > status)
			status = s;
	}
	free(filebuf);
	filebuf = NULL;
	if (nfiles == 0)
		return usage(stderr, 2);
	return status;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
			  strcmp(argv[1], "-h") == 0))
		return usage(stdout, 0);
	if (argc >= 2)
		fprintf(stderr, "vm: unknown command %s\n", argv[1]);
	return usage(stderr, 2);
}
