/* The hosted machine's struct scn_machine (see scnhost.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vm/vm.h"
#include "machine.h"
#include "scnhost.h"

static int m_boot(void *ctx, uint32_t mem_bytes)
{
	struct scn_host *h = ctx;
	int r = hosted_boot(h->mem_bytes ? h->mem_bytes : mem_bytes);
	if (r == 0) {
		vm_set_sanity(h->sanity_every, h->sanity_stop);
		vm_leak_nth_free(h->inject_leak);
	}
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

int hosted_slurp(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return errno == ENOENT ? ENOENT : EIO;
	size_t cap = 1 << 16, n = 0, k;
	char *buf = malloc(cap);
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
	struct scn_host *h = ctx;
	char *buf;
	int r = hosted_slurp(path, &buf, len);
	if (r != 0)
		return r;
	free(h->filebuf);
	h->filebuf = buf;
	*data = buf;
	return 0;
}

static void m_print(void *ctx, const char *text)
{
	(void)ctx;
	fputs(text, stdout);
	fflush(stdout);
}

void scn_host_machine(struct scn_host *h, struct scn_machine *m)
{
	memset(m, 0, sizeof(*m));
	m->ctx = h;
	m->boot = m_boot;
	m->halt = m_halt;
	m->spawn = m_spawn;
	m->fork = m_fork;
	m->exec = m_exec;
	m->exit = m_exit;
	m->call = m_call;
	m->access = m_access;
	m->umap = m_umap;
	m->readfile = m_readfile;
	m->print = m_print;
}

void scn_host_done(struct scn_host *h)
{
	free(h->filebuf);
	h->filebuf = NULL;
}

bool scn_host_parse_sanity(const char *mode, uint32_t *every)
{
	if (strcmp(mode, "off") == 0) {
		*every = 0;
		return true;
	}
	if (strcmp(mode, "every-call") == 0) {
		*every = 1;
		return true;
	}
	if (strncmp(mode, "every-", 6) != 0 || mode[6] < '1' || mode[6] > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long n = strtoul(mode + 6, &end, 10);
	if (errno || *end != '\0' || n == 0 || n > UINT32_MAX)
		return false;
	*every = (uint32_t)n;
	return true;
}

int scn_host_sanity_option(struct scn_host *h, const char *arg, const char *prog)
{
	if (strcmp(arg, "--sanity-every-call") == 0) {
		h->sanity_every = 1;
		h->sanity_stop = true;
		return 1;
	}
	if (strcmp(arg, "--sanity-stop") == 0) {
		h->sanity_stop = true;
		return 1;
	}
	if (strncmp(arg, "--inject-leak=", 14) == 0) {
		char *end;
		errno = 0;
		h->inject_leak = strtoul(arg + 14, &end, 10);
		if (errno || *end || end == arg + 14 || arg[14] == '-' || h->inject_leak == 0) {
			fprintf(stderr, "%s: bad --inject-leak count '%s'\n", prog, arg + 14);
			return -1;
		}
		return 1;
	}
	if (strncmp(arg, "--sanity=", 9) != 0)
		return 0;
	if (!scn_host_parse_sanity(arg + 9, &h->sanity_every)) {
		fprintf(stderr, "%s: bad --sanity mode '%s' (off, every-call or every-N)\n", prog,
			arg + 9);
		return -1;
	}
	return 1;
}
