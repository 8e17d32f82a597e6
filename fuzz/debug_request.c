/*
 * fuzz_debug_request: the debug call's request side (docs/fuzzing.md).
 *
 * One hosted machine is booted once, with a workload that leaves
 * processes, regions, resident and copy-on-write pages, a grant, a cache
 * block and a shared mapping behind. Then each input is, by its first
 * byte:
 *   even: the bytes a client sends on `vm serve`'s socket, fed in chunks
 *         of the second byte's size to the server's own request decoder
 *         (serve_requests in kernel-stubs/hosted/serve.c, included here
 *         because it is static), which hands each whole request to VM;
 *   odd:  one VM_INFO message with every field from the input (subcall,
 *         endpoint, cursor, address, flags, the reply buffer's physical
 *         address and length), from the kernel or from a process: VM's
 *         own request decoder (do_info).
 * Findings: a crash, a sanitizer report, a VM panic, a reply longer than
 * the buffer it was given, a call from a process that is not refused, and
 * a consistency finding (VMI_SANITY can run the check).
 */
#include "../kernel-stubs/hosted/serve.c"

#include <vmscope/callnr.h>

#include "input.h"

static const char workload[] = "mem 16M\n"
			       "spawn A\n"
			       "spawn S priv\n"
			       "mmap A buf 64K\n"
			       "write A buf \"hello\"\n"
			       "fill A buf+8K 16K 1\n"
			       "fork A B\n"
			       "write B buf \"x\"\n"
			       "grant A g buf 8K B rw\n"
			       "mmap A blk 8K\n"
			       "fill A blk 8K 2\n"
			       "yield A blk 8K 7\n"
			       "remap A buf S sh\n"
			       "mmap S dev 4K phys=0xA0000\n"
			       "sanity\n";

static endpoint_t eps[8];
static int neps;
static struct client fc;

static _Noreturn void finding(const char *what, unsigned a, unsigned b)
{
	fprintf(stderr, "fuzz_debug_request: finding: %s (%u, %u)\n", what, a, b);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct scn_host h;
	static struct scn_machine m;

	(void)argc;
	(void)argv;
	scn_host_machine(&h, &m);
	if (scn_run_opts(&m, "workload", workload, sizeof(workload) - 1, SCN_KEEP) != SCN_PASSED)
		finding("the workload failed", 0, 0);
	for (int slot = 0; slot < VM_NR_PROCS && neps < 8; slot++)
		if (hm.proc[slot].inuse)
			eps[neps++] = hm.proc[slot].ep;
	return 0;
}

static void feed_stream(struct input *in)
{
	size_t chunk = in_u8(in) % 64 + 1;

	fc.in_len = 0;
	fc.closing = false;
	fc.out_off = fc.out_len = 0;
	for (;;) {
		size_t room = sizeof(fc.in) - fc.in_len, k = chunk < room ? chunk : room;
		k = in_bytes(in, fc.in + fc.in_len, k);
		fc.in_len += k;
		size_t before = fc.in_len;
		if (serve_requests(&fc) != NULL || fc.closing)
			break;
		/* The client read its replies. */
		fc.out_off = fc.out_len = 0;
		if (k == 0 && fc.in_len == before)
			break;
	}
}

static void raw_message(struct input *in)
{
	message m;
	uint8_t src = in_u8(in), sel = in_u8(in);

	memset(&m, 0, sizeof(m));
	m.m_source = src & 1 ? eps[src % neps] : KERNEL;
	m.m_type = VM_INFO;
	m.m_info.subcall = sel & 0x80 ? in_u32(in) : sel % (VMI_NSUBCALLS + 1);
	uint8_t e = in_u8(in);
	m.m_info.endpoint = e & 0x80 ? (int32_t)in_u32(in) : eps[e % neps];
	m.m_info.cursor = in_u8(in) & 1 ? in_u32(in) : in_u8(in);
	m.m_info.addr = in_u32(in);
	m.m_info.flags = in_u8(in);
	uint8_t b = in_u8(in);
	m.m_info.buf = b & 1 ? in_u32(in) : HOSTED_INFO_BUF + (uint32_t)in_u16(in);
	m.m_info.buflen = b & 2 ? in_u32(in) : HOSTED_INFO_BUFLEN - (uint32_t)in_u16(in);
	m.m_info.len = in_u32(in);
	phys_bytes buf = m.m_info.buf;
	uint32_t buflen = m.m_info.buflen;
	if (!vm_handle(&m))
		finding("no reply", 0, 0);
	if (m.m_source != KERNEL && m.m_type != EPERM)
		finding("VM_INFO from a process answered", (unsigned)m.m_source,
			(unsigned)m.m_type);
	if (m.m_type == VM_OK && m.m_info.len > buflen)
		finding("reply longer than its buffer", m.m_info.len, buflen);
	/* The hosted machine's kernel memory: frame 0 and 1-2 MB (machine.c). */
	uint64_t end = (uint64_t)buf + buflen;
	bool kernel_mem = end <= VM_PAGE_SIZE || (buf >= 0x100000u && end <= 0x200000u);
	if (m.m_type == VM_OK && !kernel_mem)
		finding("reply buffer outside kernel memory", buf, buflen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	if (in_u8(&in) & 1)
		raw_message(&in);
	else
		feed_stream(&in);
	if (vm_sanity_findings() != 0)
		finding("consistency findings", (unsigned)vm_sanity_findings(), 0);
	return 0;
}
