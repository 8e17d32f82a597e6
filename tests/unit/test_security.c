/*
 * Security (docs/reliability.md): who may call what, forged messages, and
 * memory a process was never given.
 *
 * - permission_matrix: every call of VM's dispatch table (walked through
 *   vm_call_name/vm_call_class, so a new call is in it at once) made by an
 *   unprivileged process, a privileged (system) process and the kernel.
 *   The dispatcher must refuse exactly where the call's class forbids the
 *   caller (EPERM for a kernel call from a process; EINVAL for a process
 *   call from the kernel, which is no process), counting the refusal in
 *   bad_calls and forged and running no handler; elsewhere the handler
 *   must run (the call is counted as handled). A call without a declared
 *   class fails the test. Prints the matrix.
 * - privileged_flags: what privilege changes instead (VM_MAP_PHYS).
 * - forged: page faults not from the kernel, stale endpoints (an exited
 *   process's, an old generation of a reused slot), sources that cannot be
 *   a process; each refused with its errno, counted (the debug call's
 *   forged), and nothing changes for anyone.
 * - never_written_reads_zero, freed_frame_cleared: a page a process never
 *   wrote reads zero, whatever the frame held, for every way of getting
 *   memory (lazy, preallocated, contiguous, uninit asked by an unprivileged
 *   process, the heap, a privileged parent's uninit region in its fork
 *   child); a frame is followed by its physical address from one process
 *   to the next, so the check is on the very frame that held the data.
 * - revoked_grant_gives_nothing: after revoke, copies and maps through the
 *   grant are refused, mappings made through it are gone, and an id whose
 *   slot was reused is not honoured.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/mman.h>
#include <vmscope/vminfo.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "../../kernel-stubs/hosted/machine.h"
#include "alloc.h"
#include "glo.h"
#include "proto.h"
#include "vm.h"

#define PAGE VM_PAGE_SIZE
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define A0 0x20000000u
#define B0 0x30000000u

static endpoint_t user, sys;

static message msg(endpoint_t src, int type)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = src;
	m.m_type = type;
	return m;
}

static endpoint_t spawn(const char *name, bool priv)
{
	endpoint_t ep = NONE;

	assert_int_equal(hosted_spawn(name, priv, &ep), 0);
	return ep;
}

static struct vmi_stats stats(void)
{
	static uint8_t buf[HOSTED_INFO_BUFLEN];
	struct vmi_request req = { 0 };
	struct vmi_stats s;
	uint32_t len;

	assert_int_equal(hosted_info(VMI_STATS, &req, buf, &len), 0);
	assert_int_equal(len, sizeof(s));
	memcpy(&s, buf, sizeof(s));
	return s;
}

static uint32_t resident(endpoint_t ep)
{
	message m = msg(KERNEL, VM_QUERY);

	m.m_query.what = VMQ_RESIDENT;
	m.m_query.ep = ep;
	assert_int_equal(hosted_call(&m), 0);
	return m.m_query.val[0];
}

static int access_(endpoint_t ep, vir_bytes va, void *buf, size_t len, bool write)
{
	return mmu_access(hosted_proc(ep), va, buf, len, write);
}

/* The frame holding ep's page at va (which must be mapped). */
static phys_bytes frame_of(endpoint_t ep, vir_bytes va)
{
	phys_bytes pa;

	assert_int_equal(mmu_translate(hosted_proc(ep), va, &pa), 0);
	return pa & ~(phys_bytes)(PAGE - 1);
}

/* Whether ep reads len zero bytes at va (faulting pages in). */
static bool reads_zero(endpoint_t ep, vir_bytes va, size_t len)
{
	static uint8_t buf[PAGE];

	for (size_t off = 0; off < len; off += PAGE) {
		size_t n = len - off < PAGE ? len - off : PAGE;
		if (access_(ep, va + off, buf, n, false) != 0)
			return false;
		for (size_t i = 0; i < n; i++)
			if (buf[i] != 0)
				return false;
	}
	return true;
}

/* ep writes the byte pattern p over [va, va + len). */
static void dirty(endpoint_t ep, vir_bytes va, size_t len, uint8_t p)
{
	static uint8_t buf[PAGE];

	memset(buf, p, sizeof(buf));
	for (size_t off = 0; off < len; off += PAGE)
		assert_int_equal(access_(ep, va + off, buf, PAGE, true), 0);
}

static int boot(void **state)
{
	(void)state;
	assert_int_equal(hosted_boot(8u << 20), 0);
	user = spawn("user", false);
	sys = spawn("sys", true);
	return 0;
}

static int halt(void **state)
{
	(void)state;
	hosted_halt();
	return 0;
}

/* ---- Who may call what ---- */

enum caller { C_USER, C_SYS, C_KERNEL, NCALLERS };
static const char *const caller_name[NCALLERS] = { "process", "system process", "kernel" };

static endpoint_t source_of(enum caller c)
{
	return c == C_USER ? user : c == C_SYS ? sys : KERNEL;
}

/* Whether the class lets the caller through the dispatcher. */
static bool allowed(enum vm_caller_class cls, enum caller c)
{
	switch (cls) {
	case VM_CALLER_PROC:
		return c != C_KERNEL;
	case VM_CALLER_KERNEL:
		return c == C_KERNEL;
	default:
		return false;
	}
}

static void test_every_call_declared(void **state)
{
	unsigned n = 0;

	(void)state;
	for (int nr = VM_RQ_BASE; nr <= VM_RQ_LAST; nr++) {
		if (vm_call_name(nr) == NULL)
			continue;
		n++;
		enum vm_caller_class cls = vm_call_class(nr);
		if (cls != VM_CALLER_PROC && cls != VM_CALLER_KERNEL)
			fail_msg("call %s (0x%x) has no declared caller class", vm_call_name(nr),
				 nr);
	}
	/* Numbers outside the table have neither a name nor a class. */
	assert_null(vm_call_name(VM_RQ_BASE - 1));
	assert_null(vm_call_name(VM_RQ_LAST + 1));
	assert_int_equal(vm_call_class(VM_RQ_LAST + 1), VM_CALLER_NONE);
	assert_true(n >= 26);
}

static void test_permission_matrix(void **state)
{
	unsigned cells = 0, refused = 0, ncalls = 0;

	(void)state;
	print_message("%-20s %-8s %-9s %-15s %-9s\n", "call", "class", caller_name[0],
		      caller_name[1], caller_name[2]);
	for (int nr = VM_RQ_BASE; nr <= VM_RQ_LAST; nr++) {
		const char *name = vm_call_name(nr);
		if (name == NULL)
			continue;
		enum vm_caller_class cls = vm_call_class(nr);
		char row[NCALLERS][16];
		ncalls++;
		for (enum caller c = 0; c < NCALLERS; c++) {
			struct vmi_stats s0 = stats();
			uint32_t free0 = phys_free_pages();
			uint64_t handled0 = vm_stats.calls[nr - VM_RQ_BASE];
			/* Arguments all zero: what matters here is whether a
			 * handler runs, not what it answers. */
			message m = msg(source_of(c), nr);
			int r = vm_handle(&m) ? m.m_type : SUSPEND;
			uint64_t handled = vm_stats.calls[nr - VM_RQ_BASE] - handled0;
			struct vmi_stats s1 = stats();
			cells++;
			if (allowed(cls, c)) {
				if (handled != 1 || s1.bad_calls != s0.bad_calls ||
				    s1.forged != s0.forged)
					fail_msg(
					    "%s from a %s: refused by the dispatcher (reply %d)",
					    name, caller_name[c], r);
				snprintf(row[c], sizeof(row[c]), "ok");
			} else {
				int want = cls == VM_CALLER_PROC ? EINVAL : EPERM;
				if (r != want || handled != 0 || s1.bad_calls != s0.bad_calls + 1 ||
				    s1.forged != s0.forged + 1 || phys_free_pages() != free0)
					fail_msg("%s from a %s: reply %d (want %d), handled %llu, "
						 "bad calls +%llu, forged +%llu",
						 name, caller_name[c], r, want,
						 (unsigned long long)handled,
						 (unsigned long long)(s1.bad_calls - s0.bad_calls),
						 (unsigned long long)(s1.forged - s0.forged));
				snprintf(row[c], sizeof(row[c]), "%s",
					 want == EPERM ? "EPERM" : "EINVAL");
				refused++;
			}
			/* A zero page fault from the kernel may have ended
			 * nobody; the callers must still be alive. */
			assert_non_null(hosted_proc(user));
			assert_non_null(hosted_proc(sys));
			if (sanity_check() != 0)
				fail_msg("%s from a %s: consistency findings", name,
					 caller_name[c]);
		}
		print_message("%-20s %-8s %-9s %-15s %-9s\n", name,
			      cls == VM_CALLER_KERNEL ? "kernel" : "process", row[0], row[1],
			      row[2]);
	}
	print_message("permission matrix: %u calls x %u callers = %u cells, %u refused\n", ncalls,
		      NCALLERS, cells, refused);
}

/* Privilege gates flags, not calls: device memory only for a system
 * process (an unprivileged one's uninit request is ignored: below). */
static void test_privileged_flags(void **state)
{
	vir_bytes v;

	(void)state;
	uint64_t forged0 = stats().forged;
	assert_int_equal(hosted_mmap(user, 0, PAGE, RW, VM_MAP_PHYS, 0xA0000, &v), EPERM);
	assert_int_equal(hosted_mmap(sys, 0, PAGE, RW, VM_MAP_PHYS, 0xA0000, &v), 0);
	assert_int_equal(stats().forged, forged0); /* a refused flag is no forgery */
}

/* ---- Forged messages ---- */

static void test_forged(void **state)
{
	(void)state;
	endpoint_t a = spawn("A", false), b = spawn("B", false);
	vir_bytes v;
	uint8_t byte = 0x5A;

	assert_int_equal(hosted_mmap(a, A0, 4 * PAGE, RW, VM_MAP_FIXED, 0, NULL), 0);
	uint64_t forged = stats().forged;
	uint32_t free0 = phys_free_pages();

	/* Page faults from processes (about themselves, about another) and
	 * from VM itself: refused, nothing mapped, nobody resumed or killed. */
	endpoint_t pf_from[] = { a, b, sys, VM_PROC_NR, NONE };
	for (size_t i = 0; i < sizeof(pf_from) / sizeof(pf_from[0]); i++) {
		message m = msg(pf_from[i], VM_PAGEFAULT);
		m.m_pagefault.ep = a;
		m.m_pagefault.addr = A0;
		m.m_pagefault.err = VM_PF_WRITE | VM_PF_USER;
		assert_true(vm_handle(&m));
		assert_int_equal(m.m_type, EPERM);
		assert_int_equal(stats().forged, ++forged);
	}
	assert_int_equal(resident(a), 0);
	assert_int_equal(hosted_proc(a)->pf, HPF_NONE);
	assert_int_equal(hosted_proc(a)->sig, 0);

	/* The other kernel calls from a process, about someone else. */
	message m = msg(b, VM_EXIT);
	m.m_exit.ep = a;
	assert_int_equal(hosted_call(&m), EPERM);
	m = msg(b, VM_REMAP);
	m.m_remap.src = a;
	m.m_remap.src_addr = A0;
	m.m_remap.dst = b;
	assert_int_equal(hosted_call(&m), EPERM);
	m = msg(b, VM_FORK);
	m.m_fork.parent = a;
	m.m_fork.child = VM_ENDPOINT(1, 77);
	assert_int_equal(hosted_call(&m), EPERM);
	forged += 3;
	assert_int_equal(stats().forged, forged);
	assert_non_null(hosted_proc(a));
	assert_int_equal(phys_free_pages(), free0);

	/* Stale endpoints: an exited process's; its slot reused by another
	 * process (the old generation must not reach the new one). */
	endpoint_t c = spawn("C", false);
	assert_int_equal(hosted_exit(c), 0);
	assert_int_equal(hosted_mmap(c, 0, PAGE, RW, 0, 0, &v), ESRCH);
	forged++;
	endpoint_t d = spawn("D", false);
	assert_int_equal(VM_ENDPOINT_SLOT(d), VM_ENDPOINT_SLOT(c));
	assert_int_not_equal(d, c);
	free0 = phys_free_pages();
	assert_int_equal(hosted_mmap(c, 0, PAGE, RW, 0, 0, &v), ESRCH);
	assert_int_equal(hosted_munmap(c, A0, PAGE), ESRCH);
	m = msg(c, VM_GRANT);
	m.m_grant.grantee = a;
	m.m_grant.addr = A0;
	m.m_grant.len = PAGE;
	m.m_grant.access = VM_GRANT_READ;
	assert_int_equal(hosted_call(&m), ESRCH);
	forged += 3;
	/* A later generation of a live slot (not issued yet). */
	endpoint_t future = VM_ENDPOINT(VM_ENDPOINT_GEN(d) + 1, VM_ENDPOINT_SLOT(d));
	assert_int_equal(hosted_mmap(future, 0, PAGE, RW, 0, 0, &v), ESRCH);
	forged++;
	assert_int_equal(stats().forged, forged);
	assert_int_equal(stats().nprocs, 5);
	m = msg(KERNEL, VM_QUERY);
	m.m_query.what = VMQ_REGIONS;
	m.m_query.ep = d;
	assert_int_equal(hosted_call(&m), 0);
	assert_int_equal(m.m_query.val[0], 0); /* nothing reached D */

	/* Sources that cannot be a process, claiming a process call: the
	 * kernel, VM itself, nobody, generation 0, a negative one, a free
	 * slot. */
	endpoint_t bogus[] = { KERNEL, VM_PROC_NR, NONE, VM_ENDPOINT(0, VM_ENDPOINT_SLOT(a)), -77 };
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		assert_int_equal(hosted_mmap(bogus[i], 0, PAGE, RW, 0, 0, &v), EINVAL);
		assert_int_equal(stats().forged, ++forged);
	}
	assert_int_equal(hosted_mmap(VM_ENDPOINT(1, 900), 0, PAGE, RW, 0, 0, &v), ESRCH);
	assert_int_equal(stats().forged, ++forged);
	assert_int_equal(phys_free_pages(), free0);

	/* Not forgeries: a live process naming another in its arguments is
	 * checked by the call itself (EPERM, but not counted as forged). */
	m = msg(a, VM_GRANT);
	m.m_grant.grantee = b;
	m.m_grant.addr = A0;
	m.m_grant.len = PAGE;
	m.m_grant.access = VM_GRANT_READ;
	assert_int_equal(hosted_call(&m), 0);
	uint32_t id = m.m_grant.id;
	m = msg(b, VM_REVOKE); /* only the granter revokes */
	m.m_grant.id = id;
	assert_int_equal(hosted_call(&m), EPERM);
	m = msg(d, VM_SAFECOPY); /* only the grantee copies */
	m.m_safecopy.id = id;
	m.m_safecopy.len = 1;
	m.m_safecopy.addr = A0;
	m.m_safecopy.dir = VM_SAFECOPY_FROM;
	assert_int_equal(hosted_call(&m), EPERM);
	assert_int_equal(stats().forged, forged);

	/* A still works as ever. */
	assert_int_equal(access_(a, A0, &byte, 1, true), 0);
	assert_int_equal(sanity_check(), 0);
}

/* ---- Memory a process was never given ---- */

/*
 * D dirties every frame it can get (data pages across many page tables),
 * then exits; U then gets memory every way there is, and the privileged S
 * an uninit region that its fork child touches first. Every page must
 * read zero, and at least some of each kind must be on D's old frames.
 */
static uint8_t was_dirty[(8u << 20) / PAGE];

static void test_never_written_reads_zero(void **state)
{
	(void)state;
	endpoint_t d = spawn("D", false);
	/* Most of memory: leave room for its page tables and slab objects
	 * (more of them in the VM_SANITY build). */
	uint32_t nframes = phys_free_pages() - phys_free_pages() / 8;
	vir_bytes base = 0;

	/* A page in each of 16 4 MB ranges (16 page tables), the rest in
	 * one big region. */
	memset(was_dirty, 0, sizeof(was_dirty));
	for (uint32_t i = 0; i < 16; i++) {
		vir_bytes va = B0 + i * (4u << 20);
		assert_int_equal(hosted_mmap(d, va, PAGE, RW, VM_MAP_FIXED, 0, NULL), 0);
		dirty(d, va, PAGE, 0xEE);
		was_dirty[frame_of(d, va) / PAGE] = 1;
	}
	nframes -= 16 + 16;
	assert_int_equal(hosted_mmap(d, 0, (vir_bytes)nframes * PAGE, RW, 0, 0, &base), 0);
	for (uint32_t i = 0; i < nframes; i++) {
		dirty(d, base + i * PAGE, PAGE, 0xEE);
		was_dirty[frame_of(d, base + i * PAGE) / PAGE] = 1;
	}
	assert_int_equal(hosted_exit(d), 0);

	endpoint_t u = spawn("U", false), s = spawn("S", true);
	struct {
		const char *what;
		int flags;
		vir_bytes len;
	} kinds[] = {
		{ "lazy", 0, 64 * PAGE },
		{ "prealloc", VM_MAP_PREALLOC, 64 * PAGE },
		{ "contig", VM_MAP_PREALLOC | VM_MAP_CONTIG, 16 * PAGE },
		{ "lower16m", VM_MAP_PREALLOC | VM_MAP_CONTIG | VM_MAP_LOWER16M, 16 * PAGE },
		{ "uninit (unprivileged)", VM_MAP_UNINIT, 64 * PAGE },
		{ "uninit prealloc (unprivileged)", VM_MAP_UNINIT | VM_MAP_PREALLOC, 64 * PAGE },
	};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		vir_bytes v = 0;
		unsigned reused = 0;
		assert_int_equal(hosted_mmap(u, 0, kinds[k].len, RW, kinds[k].flags, 0, &v), 0);
		if (!reads_zero(u, v, kinds[k].len))
			fail_msg("%s memory of an unprivileged process is not zero", kinds[k].what);
		for (vir_bytes off = 0; off < kinds[k].len; off += PAGE)
			reused += was_dirty[frame_of(u, v + off) / PAGE];
		if (reused == 0)
			fail_msg("%s: no frame of D's came back (the check proves nothing)",
				 kinds[k].what);
	}
	/* The heap. */
	message m = msg(u, VM_BRK);
	m.m_brk.addr = HOSTED_BRK_BASE + 32 * PAGE;
	assert_int_equal(hosted_call(&m), 0);
	assert_true(reads_zero(u, HOSTED_BRK_BASE, 32 * PAGE));
	/* A write-first touch: the rest of the page is zero. */
	vir_bytes w = 0;
	uint8_t z = 'z';
	assert_int_equal(hosted_mmap(u, 0, PAGE, RW, 0, 0, &w), 0);
	assert_int_equal(access_(u, w + 100, &z, 1, true), 0);
	assert_true(was_dirty[frame_of(u, w) / PAGE]);
	assert_true(reads_zero(u, w, 100));
	assert_true(reads_zero(u, w + 101, PAGE - 101));

	/* Control: a system process's uninit memory is as the frames were
	 * (so the frames handed out above really held D's bytes)... */
	vir_bytes sv = 0;
	uint8_t b = 0;
	assert_int_equal(hosted_mmap(s, 0, 16 * PAGE, RW, VM_MAP_UNINIT | VM_MAP_PREALLOC, 0, &sv),
			 0);
	unsigned dirty_seen = 0;
	for (unsigned i = 0; i < 16; i++) {
		assert_int_equal(access_(s, sv + i * PAGE, &b, 1, false), 0);
		dirty_seen += b == 0xEE;
	}
	assert_true(dirty_seen > 0);
	/* ...but its fork child is no system process: an uninit region
	 * untouched at the fork reads zero there. */
	vir_bytes lazy = 0;
	endpoint_t child;
	assert_int_equal(hosted_mmap(s, 0, 64 * PAGE, RW, VM_MAP_UNINIT, 0, &lazy), 0);
	assert_int_equal(hosted_fork(s, "child", &child), 0);
	assert_true(reads_zero(child, lazy, 64 * PAGE));
	unsigned reused = 0;
	for (unsigned i = 0; i < 64; i++)
		reused += was_dirty[frame_of(child, lazy + i * PAGE) / PAGE];
	assert_true(reused > 0);
	assert_int_equal(sanity_check(), 0);
}

/*
 * One frame followed from one process to the next: A dirties a page and
 * frees it; B, whose region and page table exist already, touches pages of
 * a big lazy region one by one until that very frame comes back (the
 * allocator's own order decides when) and must read zero there, as on
 * every page it got on the way. VM may take the frame for itself first (a
 * slab page, a page table: VM's own memory, never a process's); then the
 * round is repeated with another frame. Through munmap, through exit, and
 * for a page table's frame (it held A's PTE) reused as B's data page.
 */
struct follower {
	endpoint_t b;
	vir_bytes base; /* B's region, 4 MB */
	uint32_t next;  /* its next untouched page */
	unsigned followed, taken_by_vm;
};

/* Touch B's pages until each of the n frames f[] (free now) has come back
 * to B or been taken by VM for itself; returns how many came back to B. */
static unsigned follow_frames(struct follower *fw, const phys_bytes *f, unsigned n, const char *how)
{
	bool done[4] = { false };
	unsigned left = n, back = 0;

	assert_true(n <= 4);
	for (unsigned i = 0; i < n; i++)
		assert_true(phys_frame_free((uint32_t)(f[i] / PAGE)));
	while (left > 0) {
		if (fw->next >= 1024)
			fail_msg("%s: B's region is used up", how);
		vir_bytes va = fw->base + fw->next++ * PAGE;
		if (!reads_zero(fw->b, va, PAGE))
			fail_msg("%s: page 0x%x of B (frame 0x%x) is not zero", how, (unsigned)va,
				 (unsigned)frame_of(fw->b, va));
		phys_bytes got = frame_of(fw->b, va);
		for (unsigned i = 0; i < n; i++) {
			if (done[i])
				continue;
			if (got == f[i]) {
				done[i] = true, left--, back++;
				fw->followed++;
			} else if (!phys_frame_free((uint32_t)(f[i] / PAGE))) {
				done[i] = true, left--;
				fw->taken_by_vm++;
			}
		}
	}
	return back;
}

static void test_freed_frame_cleared(void **state)
{
	(void)state;
	struct follower fw = { .b = spawn("B", false), .base = B0 };
	endpoint_t a = spawn("A", false);
	const vir_bytes pt_va = 0x40000000u;
	unsigned rounds = 0;

	assert_int_equal(hosted_mmap(fw.b, fw.base, 0x400000, RW, VM_MAP_FIXED, 0, NULL), 0);
	assert_true(reads_zero(fw.b, fw.base + fw.next++ * PAGE, PAGE));
	assert_int_equal(hosted_mmap(a, A0, 0x100000, RW, VM_MAP_FIXED, 0, NULL), 0);
	/* munmap */
	for (vir_bytes va = A0;; va += PAGE) {
		if (++rounds > 16)
			fail_msg("after munmap: VM took every frame for itself");
		dirty(a, va, PAGE, 0xA5);
		phys_bytes f = frame_of(a, va);
		assert_int_equal(hosted_munmap(a, va, PAGE), 0);
		if (follow_frames(&fw, &f, 1, "after munmap") == 1)
			break;
	}
	/* exit: a data page, and the page table that mapped it (its PTE is
	 * A's; the directory entry for the range names the table's frame). */
	assert_int_equal(hosted_mmap(a, pt_va, PAGE, RW, VM_MAP_FIXED, 0, NULL), 0);
	dirty(a, pt_va, PAGE, 0x5A);
	phys_bytes data = frame_of(a, pt_va);
	uint32_t pde;
	memcpy(&pde, hm.phys + hosted_proc(a)->cr3 + (pt_va >> 22) * 4, sizeof(pde));
	phys_bytes pt = pde & ~(phys_bytes)(PAGE - 1);
	assert_true((pde & I386_VM_PRESENT) && pt != 0);
	assert_int_equal(hosted_exit(a), 0);
	/* Both are free now; each must come back zero (or go to VM). */
	phys_bytes both[2] = { data, pt };
	unsigned back = follow_frames(&fw, both, 2, "after exit");
	print_message("frames followed to their next owner: %u (%u taken by VM itself first)\n",
		      fw.followed, fw.taken_by_vm);
	assert_true(back >= 1);
	assert_int_equal(sanity_check(), 0);
}

/* ---- Grants ---- */

static int grant(endpoint_t from, endpoint_t to, vir_bytes addr, vir_bytes len, uint32_t *id)
{
	message m = msg(from, VM_GRANT);

	m.m_grant.grantee = to;
	m.m_grant.addr = addr;
	m.m_grant.len = len;
	m.m_grant.access = VM_GRANT_READ | VM_GRANT_WRITE;
	int r = hosted_call(&m);
	*id = m.m_grant.id;
	return r;
}

static int grantcall(endpoint_t from, int type, uint32_t id)
{
	message m = msg(from, type);

	m.m_grant.id = id;
	return hosted_call(&m);
}

static int safecopy(endpoint_t ep, uint32_t id, vir_bytes addr, uint32_t dir)
{
	message m = msg(ep, VM_SAFECOPY);

	m.m_safecopy.id = id;
	m.m_safecopy.len = 16;
	m.m_safecopy.addr = addr;
	m.m_safecopy.dir = dir;
	return hosted_call(&m);
}

static int safemap(endpoint_t ep, uint32_t id, vir_bytes *out)
{
	message m = msg(ep, VM_SAFEMAP);

	m.m_safemap.id = id;
	m.m_safemap.len = PAGE;
	int r = hosted_call(&m);
	*out = m.m_safemap.addr;
	return r;
}

static void test_revoked_grant_gives_nothing(void **state)
{
	(void)state;
	endpoint_t a = spawn("A", false), b = spawn("B", false), c = spawn("C", false);
	uint32_t id, id2;
	vir_bytes mapped, v;
	uint8_t buf[16];

	assert_int_equal(hosted_mmap(a, A0, PAGE, RW, VM_MAP_FIXED, 0, NULL), 0);
	dirty(a, A0, PAGE, 0x42);
	assert_int_equal(hosted_mmap(b, B0, PAGE, RW, VM_MAP_FIXED, 0, NULL), 0);
	assert_int_equal(grant(a, b, A0, PAGE, &id), 0);
	assert_int_equal(safemap(b, id, &mapped), 0);
	assert_int_equal(access_(b, mapped, buf, 1, false), 0);
	assert_int_equal(buf[0], 0x42);
	assert_int_equal(safecopy(b, id, B0, VM_SAFECOPY_FROM), 0);

	assert_int_equal(grantcall(a, VM_REVOKE, id), 0);
	dirty(a, A0, PAGE, 0x43); /* what A writes now, B must not see */
	assert_int_equal(safecopy(b, id, B0, VM_SAFECOPY_FROM), EPERM);
	assert_int_equal(safecopy(b, id, B0, VM_SAFECOPY_TO), EPERM);
	assert_int_equal(safemap(b, id, &v), EPERM);
	assert_int_equal(access_(b, mapped, buf, 1, false), EFAULT); /* the mapping is gone */
	assert_int_equal(access_(b, B0, buf, 1, false), 0);
	assert_int_equal(buf[0], 0x42); /* the copy made before, not A's new bytes */

	/* A new grant in the same slot, to C: B's old id is not honoured, and
	 * neither is C's id for B. */
	assert_int_equal(grant(a, c, A0, PAGE, &id2), 0);
	assert_int_not_equal(id2, id);
	assert_int_equal(safecopy(b, id, B0, VM_SAFECOPY_FROM), EPERM);
	assert_int_equal(safecopy(b, id2, B0, VM_SAFECOPY_FROM), EPERM);
	assert_int_equal(safemap(b, id2, &v), EPERM);
	/* A granter's exit revokes too. */
	assert_int_equal(safemap(c, id2, &mapped), 0);
	assert_int_equal(hosted_exit(a), 0);
	assert_int_equal(access_(c, mapped, buf, 1, false), EFAULT);
	assert_int_equal(safemap(c, id2, &v), EPERM);
	assert_int_equal(sanity_check(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_call_declared),
		cmocka_unit_test_setup_teardown(test_permission_matrix, boot, halt),
		cmocka_unit_test_setup_teardown(test_privileged_flags, boot, halt),
		cmocka_unit_test_setup_teardown(test_forged, boot, halt),
		cmocka_unit_test_setup_teardown(test_never_written_reads_zero, boot, halt),
		cmocka_unit_test_setup_teardown(test_freed_frame_cleared, boot, halt),
		cmocka_unit_test_setup_teardown(test_revoked_grant_gives_nothing, boot, halt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
