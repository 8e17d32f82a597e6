/*
 * fuzz_mkseeds: seed corpora for the fuzzers, made from the test
 * scenarios (docs/fuzzing.md). fuzz/run.sh runs it.
 *
 *   fuzz_mkseeds calls OUTDIR FILE.scn...    fuzz_vm_calls inputs: each
 *       scenario run on the hosted machine, its spawns, forks, exits,
 *       calls and memory accesses recorded in the format of calls.h
 *   fuzz_mkseeds replies OUTDIR FILE.scn...  fuzz_vminfo_reply inputs:
 *       VM's real replies, after each scenario, to the requests the fuzzer
 *       makes, in its list-of-replies format
 *   fuzz_mkseeds requests OUTDIR             fuzz_debug_request inputs:
 *       each subcall as a client's byte stream and as a VM_INFO message
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/vminfo.h>

#include "../kernel-stubs/hosted/machine.h"
#include "../kernel-stubs/hosted/scnhost.h"
#include "calls.h"

#define OUT_MAX (1u << 20)

static uint8_t out[OUT_MAX];
static size_t out_len;

static void put8(uint32_t v)
{
	if (out_len < OUT_MAX)
		out[out_len++] = (uint8_t)v;
}

static void put16(uint32_t v)
{
	put8(v);
	put8(v >> 8);
}

static void put32(uint32_t v)
{
	put16(v);
	put16(v >> 16);
}

static void put_bytes(const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(((const uint8_t *)p)[i]);
}

static void save(const char *dir, const char *scn, const char *suffix)
{
	const char *base = strrchr(scn, '/');
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s%s", dir, base ? base + 1 : scn, suffix);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(out, 1, out_len, f) != out_len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* calls: the recording machine. */

static struct scn_machine host;
static endpoint_t procs[64];
static int nprocs, nops;

static int proc_index(endpoint_t ep)
{
	for (int i = nprocs - 1; i >= 0; i--)
		if (procs[i] == ep)
			return i;
	return -1;
}

static void add_proc(endpoint_t ep)
{
	if (nprocs < 64)
		procs[nprocs++] = ep;
}

static void op(uint8_t kind)
{
	put8(kind);
	nops++;
}

static int r_spawn(void *ctx, const char *name, int priv, endpoint_t *ep)
{
	int r = host.spawn(ctx, name, priv, ep);
	if (r == 0) {
		op(OP_HOSTED);
		put8(HOSTED_SPAWN | (priv ? 0x80 : 0));
		put8(0);
		add_proc(*ep);
	}
	return r;
}

static int r_fork(void *ctx, endpoint_t parent, const char *name, endpoint_t *child)
{
	int r = host.fork(ctx, parent, name, child);
	if (r == 0 && proc_index(parent) >= 0) {
		op(OP_HOSTED);
		put8(HOSTED_FORK);
		put8((uint32_t)proc_index(parent));
		add_proc(*child);
	}
	return r;
}

static int r_exit(void *ctx, endpoint_t ep)
{
	if (proc_index(ep) >= 0) {
		op(OP_HOSTED);
		put8(HOSTED_EXIT);
		put8((uint32_t)proc_index(ep));
	}
	return host.exit(ctx, ep);
}

static int r_exec(void *ctx, endpoint_t ep, const void *image, size_t len, int *killed)
{
	if (proc_index(ep) >= 0 && len <= 0xFFFF) {
		op(OP_HOSTED);
		put8(HOSTED_EXEC);
		put8((uint32_t)proc_index(ep));
		put16((uint32_t)len);
		put_bytes(image, len);
	}
	return host.exec(ctx, ep, image, len, killed);
}

/* Which words of a call's message hold endpoints. */
static uint32_t endpoint_words(int type)
{
	switch (type) {
	case VM_SPAWN:
	case VM_EXIT:
	case VM_EXEC:
	case VM_PAGEFAULT:
	case VM_GRANT:
		return 1u << 0;
	case VM_FORK:
		return 3u << 0;
	case VM_REMAP:
		return 1u << 0 | 1u << 2;
	case VM_QUERY:
	case VM_INFO:
		return 1u << 1;
	case VM_DS_PUBLISH:
		return 1u << 5;
	default:
		return 0;
	}
}

static void put_endpoint_sel(endpoint_t ep)
{
	int i = proc_index(ep);
	put8(i >= 0 && i < EP_SPECIAL ? (uint32_t)i : EP_SPECIAL + 7);
	if (i < 0 || i >= EP_SPECIAL)
		put32((uint32_t)ep);
}

static int r_call(void *ctx, message *m)
{
	uint32_t w[sizeof(m->raw) / 4];
	int n = 0;

	memcpy(w, m->raw, sizeof(w));
	for (int i = 0; i < (int)(sizeof(w) / 4); i++)
		if (w[i] != 0)
			n = i + 1;
	op(OP_MSG);
	if (m->m_source == KERNEL) {
		put8(SRC_KERNEL);
	} else {
		int i = proc_index(m->m_source);
		put8(i >= 0 && i < EP_SPECIAL ? (uint32_t)i << 2 | 1 : (EP_SPECIAL + 7) << 2 | 1);
		if (i < 0 || i >= EP_SPECIAL)
			put32((uint32_t)m->m_source);
	}
	put8((uint32_t)(m->m_type - VM_RQ_BASE));
	put8((uint32_t)n);
	uint32_t eps = endpoint_words(m->m_type);
	for (int i = 0; i < n; i++) {
		if (eps & (1u << i)) {
			put8(W_EP);
			put_endpoint_sel((endpoint_t)w[i]);
		} else if (w[i] < 32) {
			put8(W_SMALL | w[i] << 3);
		} else {
			put8(W_U32);
			put32(w[i]);
		}
	}
	return host.call(ctx, m);
}

static int r_access(void *ctx, endpoint_t ep, vir_bytes va, void *buf, size_t len, int write)
{
	int i = proc_index(ep);
	if (i >= 0 && len > 0) {
		op(write ? OP_WRITE : OP_READ);
		put8((uint32_t)i);
		put8(W_U32);
		put32(va);
		size_t pages = (len + VM_PAGE_SIZE - 1) / VM_PAGE_SIZE;
		put8(len <= 0x80 ? (uint32_t)len - 1
				 : (uint32_t)(0x7F + (pages > 0x80 ? 0x80 : pages)));
		if (write)
			put8(((uint8_t *)buf)[0]);
	}
	return host.access(ctx, ep, va, buf, len, write);
}

static void r_print(void *ctx, const char *text)
{
	(void)ctx;
	(void)text;
}

static char *slurp(const char *path, size_t *len)
{
	char *text;
	if (hosted_slurp(path, &text, len) != 0) {
		fprintf(stderr, "fuzz_mkseeds: cannot read %s\n", path);
		exit(1);
	}
	return text;
}

static void seed_calls(const char *dir, int n, char **files)
{
	static struct scn_host h;
	struct scn_machine rec;

	scn_host_machine(&h, &host);
	rec = host;
	rec.spawn = r_spawn;
	rec.fork = r_fork;
	rec.exit = r_exit;
	rec.exec = r_exec;
	rec.call = r_call;
	rec.access = r_access;
	rec.print = r_print;
	for (int i = 0; i < n; i++) {
		size_t len;
		char *text = slurp(files[i], &len);
		out_len = 0;
		nops = 0;
		nprocs = NR_FIXED_PROCS; /* the fuzzer's own processes come first */
		memset(procs, 0, sizeof(procs));
		put8(0);
		scn_run(&rec, files[i], text, len);
		free(text);
		if (nops > 0)
			save(dir, files[i], ".calls");
	}
	scn_host_done(&h);
}

/* replies: what VM answers after a scenario, as fuzz_vminfo_reply's list
 * of replies for the requests it makes in order (from its first call). */

static uint8_t payload[HOSTED_INFO_BUFLEN];

static void reply(uint32_t subcall, struct vmi_request *req, bool *more)
{
	uint32_t len;
	int r = hosted_info(subcall, req, payload, &len);

	*more = false;
	if (len > 0xFFFF)
		len = 0xFFFF; /* the format's limit: the decoder sees a short list */
	put8(r ? 8 : 0);
	if (r)
		put32((uint32_t)r);
	put16(len);
	put_bytes(payload, len);
	if (r == 0 && len >= sizeof(struct vmi_list) && subcall != VMI_STATS &&
	    subcall != VMI_CACHE && subcall != VMI_SANITY) {
		struct vmi_list l;
		memcpy(&l, payload, sizeof(l));
		if (l.more) {
			*more = true;
			req->cursor = l.next;
		}
	}
}

static void reply_all(uint32_t subcall, int32_t ep, uint32_t addr, uint32_t flags)
{
	struct vmi_request req = { ep, 0, addr, flags };
	bool more;

	do
		reply(subcall, &req, &more);
	while (more);
}

static void seed_replies(const char *dir, int n, char **files)
{
	static struct scn_host h;
	struct scn_machine m;

	scn_host_machine(&h, &m);
	m.print = r_print;
	for (int i = 0; i < n; i++) {
		size_t len;
		char *text = slurp(files[i], &len);
		enum scn_status s = scn_run_opts(&m, files[i], text, len, SCN_KEEP);
		free(text);
		if (s == SCN_ERROR || hm.phys == NULL)
			continue;
		out_len = 0;
		put8(0);                       /* a list of replies */
		put8(0);                       /* from the first call: the order below */
		reply_all(VMI_STATS, 0, 0, 0); /* the handshake */
		reply_all(VMI_STATS, 0, 0, 0);
		reply_all(VMI_PROCS, 0, 0, 0);
		reply_all(VMI_REGIONS, 1024, 0, 0);
		reply_all(VMI_PAGES, 1024, 0x40000000u, 0);
		reply_all(VMI_CACHE, 0, 0, 0);
		reply_all(VMI_SLAB, 0, 0, 0);
		reply_all(VMI_GRANTS, 1024, 0, 0);
		reply_all(VMI_SANITY, 0, 0, 0);
		reply_all(VMI_SANITY, 0, 0, VMI_SANITY_RUN);
		reply_all(VMI_FINDINGS, 0, 0, 0);
		reply_all(VMI_PROCS, 0, 0, 0);
		reply_all(VMI_PROCS, 0, 0, 0);
		save(dir, files[i], ".replies");
		hosted_halt();
	}
	scn_host_done(&h);
}

/* requests */

static void request(uint16_t version, uint16_t subcall, int32_t ep, uint32_t cursor, uint32_t addr,
		    uint32_t flags)
{
	put32(VMI_MAGIC);
	put16(version);
	put16(subcall);
	put32(0);
	put32(7); /* seq */
	put32(sizeof(struct vmi_request));
	put32((uint32_t)ep);
	put32(cursor);
	put32(addr);
	put32(flags);
}

static void seed_requests(const char *dir)
{
	char name[32];

	for (uint16_t s = 0; s <= VMI_NSUBCALLS; s++) {
		/* The byte stream of a client, 36 bytes at a time. */
		out_len = 0;
		put8(0);
		put8(35);
		request(VMI_VERSION, s, 1024, 0, 0x40000000u, s == VMI_SANITY ? VMI_SANITY_RUN : 0);
		request(VMI_VERSION, s, 1025, 0x40000000u, 0x40002000u, 0);
		snprintf(name, sizeof(name), "stream-%u", s);
		save(dir, name, "");
		/* The message VM gets. */
		out_len = 0;
		put8(1);
		put8(0);            /* from the kernel */
		put8(s);            /* subcall */
		put8(0);            /* the first process */
		put8(0);            /* cursor: */
		put8(0);            /* 0 */
		put32(0x40000000u); /* addr */
		put8(s == VMI_SANITY ? VMI_SANITY_RUN : 0);
		put8(0);  /* the kernel's buffer */
		put16(0); /* at its start */
		put16(0); /* all of it */
		snprintf(name, sizeof(name), "message-%u", s);
		save(dir, name, "");
	}
	out_len = 0;
	put8(0);
	put8(63);
	request(2, VMI_STATS, 0, 0, 0, 0);
	save(dir, "stream-version2", "");
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "calls") == 0)
		seed_calls(argv[2], argc - 3, argv + 3);
	else if (argc >= 3 && strcmp(argv[1], "replies") == 0)
		seed_replies(argv[2], argc - 3, argv + 3);
	else if (argc == 3 && strcmp(argv[1], "requests") == 0)
		seed_requests(argv[2]);
	else {
		fprintf(stderr, "usage: fuzz_mkseeds calls|replies OUTDIR FILE.scn...\n"
				"       fuzz_mkseeds requests OUTDIR\n");
		return 2;
	}
	return 0;
}
