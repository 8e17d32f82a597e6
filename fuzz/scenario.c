/*
 * fuzz_scenario: the scenario parser and runner (docs/fuzzing.md).
 *
 * The input up to its first NUL byte is a scenario file (a scenario cannot
 * hold a NUL: the runner refuses it); what follows the NUL is the one file
 * the machine has: every `exec P FILE` reads those bytes, whatever FILE
 * names, so the fuzzer never reads the host's files (and the runner
 * writes none). The runner drives the hosted machine as `vm run` does,
 * with its output thrown away and memory capped at 16 MB (a bigger `mem`
 * boots 16 MB; a size the machine refuses is still refused). Findings: a
 * crash, a sanitizer report, a VM panic, a consistency-check finding (VM
 * stops at the first, as with `vm run --sanity-stop`: the check runs at
 * every `sanity` and at the end), VM breaking the page-fault protocol (an
 * access answered EIO), and a status other than passed, failed or error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vmscope/errno.h>

#include "../kernel-stubs/hosted/machine.h"
#include "../kernel-stubs/hosted/scnhost.h"

#define MEM_CAP (16u << 20)

static const uint8_t *file_data;
static size_t file_len;
static int (*host_boot)(void *ctx, uint32_t mem_bytes);

static int boot(void *ctx, uint32_t mem_bytes)
{
	bool valid = mem_bytes >= (4u << 20) && mem_bytes <= HOSTED_MAX_MEM &&
		     (mem_bytes & ((4u << 20) - 1)) == 0;
	return host_boot(ctx, valid && mem_bytes > MEM_CAP ? MEM_CAP : mem_bytes);
}

static int readfile(void *ctx, const char *path, const void **data, size_t *len)
{
	(void)ctx;
	(void)path;
	if (file_data == NULL)
		return ENOENT;
	*data = file_data;
	*len = file_len;
	return 0;
}

static int (*host_access)(void *ctx, endpoint_t ep, vir_bytes va, void *buf, size_t len, int write);

static int access_checked(void *ctx, endpoint_t ep, vir_bytes va, void *buf, size_t len, int write)
{
	int r = host_access(ctx, ep, va, buf, len, write);
	if (r == EIO) {
		fprintf(stderr, "fuzz_scenario: VM broke the page-fault protocol at 0x%08x\n", va);
		abort();
	}
	return r;
}

/* The machine stays up after a run: the next boot of the same size
 * reuses its memory (hosted_boot), which is many times faster. */
static void halt(void *ctx)
{
	(void)ctx;
}

static void print(void *ctx, const char *text)
{
	(void)ctx;
	(void)text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scn_host h;
	struct scn_machine m;
	const uint8_t *nul = memchr(data, 0, size);
	size_t text_len = nul ? (size_t)(nul - data) : size;

	file_data = nul ? nul + 1 : NULL;
	file_len = nul ? size - text_len - 1 : 0;
	memset(&h, 0, sizeof(h));
	h.sanity_stop = true;
	scn_host_machine(&h, &m);
	host_boot = m.boot;
	m.boot = boot;
	host_access = m.access;
	m.access = access_checked;
	m.halt = halt;
	m.readfile = readfile;
	if (getenv("FUZZ_VERBOSE") == NULL)
		m.print = print;
	/* The text in a buffer of its own size, so that reading past it is
	 * caught. */
	char *text = malloc(text_len ? text_len : 1);
	memcpy(text, data, text_len);
	enum scn_status s = scn_run(&m, "fuzz.scn", text, text_len);
	free(text);
	scn_host_done(&h);
	if (s != SCN_PASSED && s != SCN_FAILED && s != SCN_ERROR) {
		fprintf(stderr, "fuzz_scenario: scn_run returned %d\n", (int)s);
		abort();
	}
	return 0;
}
