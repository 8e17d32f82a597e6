/*
 * fuzz_vm_calls: VM's message handler (docs/fuzzing.md).
 *
 * Each input boots a fresh small hosted machine with five processes (a
 * system process, users, one exited so that its endpoint is stale) and
 * decodes into a sequence of operations (calls.h): messages from the
 * kernel, from live, stale and made-up endpoints, with every call number
 * and wild arguments (also addresses at and near the regions the
 * processes have), loads and stores through the MMU (page faults to VM),
 * spawns, forks, exits and execs. Any of these is a finding:
 *   - VM panics (abort through sys_abort) or a sanitizer reports;
 *   - the consistency check finds anything, after the input (and after
 *     each operation with the header's check bit), and again after every
 *     process has exited;
 *   - VM gives no reply to a call that is not a valid page fault, or
 *     breaks the page-fault protocol (the MMU answers EIO);
 *   - a process VM and the machine know cannot exit.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/ipc.h>

#include "../kernel-stubs/hosted/machine.h"
#include "../vm/vm.h"
#include "calls.h"
#include "input.h"

#define MEM_BYTES (8u << 20) /* one size: a boot keeps the host memory */
#define MAX_PROCS 48
#define MAX_OPS 400
#define NADDR 16
#define MAX_ACCESS (64u * 1024)

static endpoint_t procs[MAX_PROCS]; /* every endpoint seen, live or not */
static int nprocs;
static uint32_t addrs[NADDR]; /* addresses and ids VM replied with */
static unsigned naddrs;

static _Noreturn void finding(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static _Noreturn void finding(const char *fmt, ...)
{
	va_list ap;
	fputs("fuzz_vm_calls: finding: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void add_proc(endpoint_t ep)
{
	if (nprocs < MAX_PROCS)
		procs[nprocs++] = ep;
}

static void remember(uint32_t v)
{
	addrs[naddrs++ % NADDR] = v;
}

static endpoint_t pick_endpoint(uint8_t sel, struct input *in)
{
	if (sel < EP_SPECIAL)
		return procs[sel % nprocs];
	switch ((sel - EP_SPECIAL) % 10) {
	case 0:
		return KERNEL;
	case 1:
		return VM_PROC_NR;
	case 2:
		return NONE;
	case 3:
		return -1;
	case 4:
		return VM_ENDPOINT(0, in_u8(in)); /* generation 0: never an endpoint */
	case 5:
		return VM_ENDPOINT(1, VM_NR_PROCS - 1 - in_u8(in)); /* a free slot */
	case 6: /* a live slot with another generation */
		return VM_ENDPOINT(VM_MAX_GEN - in_u8(in),
				   VM_ENDPOINT_SLOT(procs[in_u8(in) % nprocs]));
	case 7:
		return (endpoint_t)in_u32(in);
	case 8:
		return INT32_MIN;
	default:
		return VM_ENDPOINT(VM_MAX_GEN, VM_NR_PROCS - 1);
	}
}

static const uint32_t specials[] = {
	0,
	HOSTED_USER_LO,
	HOSTED_USER_HI - VM_PAGE_SIZE,
	HOSTED_USER_HI,
	HOSTED_BRK_BASE,
	0xFFFFF000u,
	0xFFFFFFFFu,
	0x80000000u,
	0x7FFFFFFFu,
	VM_PAGE_SIZE,
	VM_PAGE_SIZE - 1,
	VM_PAGE_SIZE + 1,
	0x40000000u,
	0xA0000u, /* the machine's device memory */
	0xFF000u,
	HOSTED_INFO_BUF,
	HOSTED_INFO_BUFLEN,
	0x100000u,
	16u << 20,
	1024,
	64 * VM_PAGE_SIZE,
	65 * VM_PAGE_SIZE,
	0xFFFFFFFEu,
	HOSTED_USER_HI - HOSTED_USER_LO,
};

/* Region idx of ep (start and length), through VM_QUERY; false if none. */
static bool region_of(endpoint_t ep, uint32_t idx, uint32_t *start, uint32_t *len)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_QUERY;
	m.m_query.what = VMQ_REGION;
	m.m_query.ep = ep;
	m.m_query.index = idx;
	if (!vm_handle(&m) || m.m_type != VM_OK)
		return false;
	*start = m.m_query.val[0];
	*len = m.m_query.val[1];
	return true;
}

static uint32_t decode_word(struct input *in)
{
	uint8_t mode = in_u8(in);
	uint32_t start, len;

	switch (mode & 7) {
	case W_SMALL:
		return mode >> 3;
	case W_U32:
		return in_u32(in);
	case W_EP:
		return (uint32_t)pick_endpoint(in_u8(in), in);
	case W_ADDR: {
		uint32_t base = addrs[(mode >> 3) % NADDR];
		return base + (uint32_t)(int8_t)in_u8(in) * VM_PAGE_SIZE;
	}
	case W_REGION: {
		endpoint_t ep = procs[in_u8(in) % nprocs];
		int8_t delta = (int8_t)in_u8(in);
		if (!region_of(ep, mode >> 4, &start, &len))
			return HOSTED_USER_LO + (uint32_t)delta * VM_PAGE_SIZE;
		return ((mode & 8) ? start + len : start) + (uint32_t)delta * VM_PAGE_SIZE;
	}
	case W_SPECIAL:
		return specials[(mode >> 3) % (sizeof(specials) / sizeof(specials[0]))];
	case W_PAGES:
		return ((uint32_t)in_u8(in) + 1) * VM_PAGE_SIZE + ((mode >> 3) & 1);
	default:
		return in_u8(in) | (uint32_t)(mode >> 3) << 8;
	}
}

/* The machine's side of a kernel call that makes a process: the kernel
 * has the slot before VM hears of it. Returns the entry made, or NULL. */
static struct hosted_proc *machine_new(endpoint_t ep, bool priv)
{
	if (ep < 0 || VM_ENDPOINT_GEN(ep) == 0)
		return NULL;
	struct hosted_proc *p = &hm.proc[VM_ENDPOINT_SLOT(ep)];
	if (p->inuse)
		return NULL; /* VM must refuse it: the slot is taken */
	memset(p, 0, sizeof(*p));
	p->inuse = true;
	p->ep = ep;
	p->gen = (uint32_t)VM_ENDPOINT_GEN(ep);
	p->priv = priv;
	snprintf(p->name, sizeof(p->name), "k%d", VM_ENDPOINT_SLOT(ep));
	return p;
}

static void op_msg(struct input *in)
{
	message m;
	uint8_t src = in_u8(in), t = in_u8(in);

	memset(&m, 0, sizeof(m));
	m.m_source = (src & 3) == SRC_KERNEL ? KERNEL : pick_endpoint(src >> 2, in);
	if (t < 0xF0)
		m.m_type = VM_RQ_BASE + t % (VM_RQ_LAST - VM_RQ_BASE + 2);
	else
		m.m_type = (int32_t)in_u32(in);
	int nwords = in_u8(in) % (sizeof(m.raw) / 4 + 1);
	for (int i = 0; i < nwords; i++) {
		uint32_t w = decode_word(in);
		memcpy(m.raw + 4 * i, &w, 4);
	}

	/* Keep the machine in step with what the kernel tells VM. */
	struct hosted_proc *made = NULL, *faulting = NULL;
	bool kernel = m.m_source == KERNEL;
	if (kernel && m.m_type == VM_SPAWN)
		made = machine_new(m.m_spawn.ep, (m.m_spawn.flags & VM_SPAWN_PRIV) != 0);
	else if (kernel && m.m_type == VM_FORK)
		made = machine_new(m.m_fork.child, false);
	else if (kernel && m.m_type == VM_PAGEFAULT) {
		faulting = hosted_proc(m.m_pagefault.ep);
		if (faulting) {
			faulting->pf = HPF_PENDING;
			faulting->sig = 0;
		}
	}
	int type = m.m_type;
	bool replied = vm_handle(&m);
	if (faulting) {
		faulting->pf = HPF_NONE;
		faulting->sig = 0;
	}
	if (!replied) {
		if (kernel && type == VM_PAGEFAULT && faulting)
			return;
		finding("no reply to call %d from %d", type, m.m_source);
	}
	if (made) {
		if (m.m_type == VM_OK) {
			add_proc(made->ep);
		} else {
			made->inuse = false;
			made->cr3 = 0;
			mmu_flush(made);
		}
	}
	if (m.m_type != VM_OK)
		return;
	switch (type) {
	case VM_EXIT:
		if (kernel) {
			struct hosted_proc *p = hosted_proc(m.m_exit.ep);
			if (p) {
				p->inuse = false;
				p->cr3 = 0;
				mmu_flush(p);
			}
		}
		break;
	case VM_MMAP:
		remember(m.m_mmap.addr);
		break;
	case VM_BRK:
		remember(m.m_brk.addr);
		break;
	case VM_REMAP:
		remember(m.m_remap.dst_addr);
		break;
	case VM_SAFEMAP:
		remember(m.m_safemap.addr);
		break;
	case VM_GRANT:
		remember(m.m_grant.id);
		break;
	case VM_DS_RETRIEVE:
		remember(m.m_ds.addr);
		break;
	}
}

static void op_access(struct input *in, bool write)
{
	static uint8_t buf[MAX_ACCESS];
	struct hosted_proc *p = hosted_proc(procs[in_u8(in) % nprocs]);
	uint32_t va = decode_word(in);
	uint8_t l = in_u8(in);
	size_t len = l < 0x80 ? (size_t)l + 1 : (size_t)(l - 0x7F) * VM_PAGE_SIZE;

	if (len > MAX_ACCESS)
		len = MAX_ACCESS;
	if (write)
		memset(buf, in_u8(in), len);
	if (p == NULL)
		return;
	int r = mmu_access(p, va, buf, len, write);
	if (r != 0 && r != EFAULT && r != ENOMEM)
		finding("%s of %zu bytes at 0x%08x by %s: %d (VM broke the fault protocol)",
			write ? "store" : "load", len, va, p->name, r);
}

static void op_hosted(struct input *in)
{
	static uint8_t image[65536];
	uint8_t what = in_u8(in);
	endpoint_t ep = procs[in_u8(in) % nprocs], nep;
	bool killed;

	switch (what % HOSTED_NOPS) {
	case HOSTED_SPAWN:
		if (hosted_spawn("s", (what & 0x80) != 0, &nep) == 0)
			add_proc(nep);
		break;
	case HOSTED_FORK:
		if (hosted_fork(ep, "f", &nep) == 0)
			add_proc(nep);
		break;
	case HOSTED_EXIT:
		if (hosted_proc(ep) && hosted_exit(ep) != 0)
			finding("VM refused the exit of live process %d", ep);
		break;
	case HOSTED_EXEC: {
		size_t len = in_bytes(in, image, in_u16(in));
		if (hosted_proc(ep))
			hosted_exec(ep, image, len, &killed);
		break;
	}
	}
}

static void check(const char *when)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_SANITY;
	if (!vm_handle(&m) || m.m_type != VM_OK)
		finding("VM_SANITY from the kernel: %d", m.m_type);
	if (m.m_sanity.findings)
		finding("%u consistency findings %s (printed above)", m.m_sanity.findings, when);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint8_t hdr = in_u8(&in);
	endpoint_t ep;

	if (hosted_boot(MEM_BYTES) != 0)
		finding("the machine did not boot");
	nprocs = 0;
	naddrs = 0;
	memset(addrs, 0, sizeof(addrs));
	static const char *const names[] = { "sys", "u1", "u2", "dead", "u3" };
	for (int i = 0; i < NR_FIXED_PROCS; i++) {
		if (hosted_spawn(names[i], i == 0, &ep) != 0)
			finding("spawn %s failed", names[i]);
		add_proc(ep);
		if (i == 3 && hosted_exit(ep) != 0)
			finding("exit %s failed", names[i]);
	}
	for (int n = 0; in.left > 0 && n < MAX_OPS; n++) {
		uint8_t op = in_u8(&in);
		switch (op & 7) {
		case OP_READ:
			op_access(&in, false);
			break;
		case OP_WRITE:
			op_access(&in, true);
			break;
		case OP_HOSTED:
			op_hosted(&in);
			break;
		case OP_CHECK:
			check("at a check operation");
			break;
		default:
			op_msg(&in);
			break;
		}
		if (hdr & 4)
			check("after an operation");
	}
	check("after the input");
	for (int slot = 0; slot < VM_NR_PROCS; slot++)
		if (hm.proc[slot].inuse && hosted_exit(hm.proc[slot].ep) != 0)
			finding("VM refused the exit of live process %d", hm.proc[slot].ep);
	check("after every process exited");
	/* The machine stays: the next input's boot reuses its memory. */
	return 0;
}
