/*
 * Unit tests for vm/pagetable.c: i386 page tables written by VM, walked by the hosted
 * machine's software MMU (kernel-stubs/hosted/mmu.c).
 *
 * Every test boots a machine and spawns one process, so VM makes it a page directory and
 * tells the machine (cr3). Tests map frames they allocate themselves at user addresses where
 * VM has no region, then look through the MMU: mmu_translate and mmu_kaccess walk the
 * tables as the kernel would (no faults, CR0.WP on); mmu_access is a user access through
 * the process's TLB, whose faults go to VM, which refuses them (no region there), so a
 * refused user access is EFAULT with one more fault delivered. Everything mapped is unmapped
 * and freed again, so that VM's whole-machine check is clean and the process's exit gives
 * back every frame. pt_writemap only queues TLB flushes; VM sends them when a call is done
 * (pt_flush_pending), so the tests call pt_flush_pending where a call would end.
 * Run one test by name with `test_pagetable NAME` (wildcards allowed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmscope/errno.h>

#include "../../kernel-stubs/hosted/machine.h"
#include "alloc.h"
#include "death.h"
#include "glo.h"
#include "pagetable.h"
#include "proto.h"

#define MB (1u << 20)
#define PAGE VM_PAGE_SIZE
#define GARBAGE 0xDB /* what the hosted machine fills memory with at boot */
#define KERN_PDE0 (HOSTED_KERN_VADDR >> 22)
#define UVA 0x00800000u /* a user address where VM has no region (PDE 2) */
#define P I386_VM_PRESENT
#define W I386_VM_WRITE
#define U I386_VM_USER
#define A I386_VM_ACC
#define D I386_VM_DIRTY

/* ---- Fixture: a machine with one process ---- */

static struct {
	uint32_t boot_free; /* free frames before the process existed */
	endpoint_t ep;
	struct hosted_proc *p;
	struct vmproc *vmp;
	struct pt *pt; /* the process's page directory, VM's record of it */
	/* Frames the test took, to be freed at the end. */
	phys_bytes frames[64];
	uint32_t nframes_taken;
} F;

static int boot(uint32_t mem)
{
	memset(&F, 0, sizeof(F));
	if (hosted_boot(mem) != 0)
		return -1;
	F.boot_free = phys_free_pages();
	if (hosted_spawn("pttest", false, &F.ep) != 0)
		return -1;
	F.p = hosted_proc(F.ep);
	F.vmp = &vmproc[VM_ENDPOINT_SLOT(F.ep)];
	F.pt = &F.vmp->vm_pt;
	return F.p != NULL && F.vmp->vm_endpoint == F.ep ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	return boot(16 * MB);
}

static int teardown(void **state)
{
	(void)state;
	hosted_halt();
	return 0;
}

/* A fresh frame whose bytes are all `fill`, remembered for finish(). */
static phys_bytes take_frame(uint8_t fill)
{
	phys_bytes f = alloc_mem(1, 0);

	assert_int_not_equal(f, NO_MEM);
	assert_true(F.nframes_taken < 64);
	F.frames[F.nframes_taken++] = f;
	memset(hm.phys + f, fill, PAGE);
	return f;
}

/*
 * The end of every test: the mappings are gone, VM's whole-machine check is clean (page
 * tables accounted, no stray PTE), and after the process exits every frame is free again.
 */
static void finish(void)
{
	for (uint32_t i = 0; i < F.nframes_taken; i++)
		free_mem(F.frames[i], 1);
	F.nframes_taken = 0;
	assert_int_equal(pt_sanitycheck(F.pt, "test"), 0);
	assert_int_equal(sanity_check(), 0);
	assert_int_equal(hosted_exit(F.ep), 0);
	assert_int_equal(phys_free_pages(), F.boot_free);
	assert_int_equal(vm_stats.pagetables, 0);
	assert_int_equal(sanity_check(), 0);
}

static phys_bytes translate(vir_bytes va)
{
	phys_bytes pa = 0xFFFFFFFFu;

	if (mmu_translate(F.p, va, &pa) != 0)
		return 0xFFFFFFFFu;
	return pa;
}

/* Death tests: death.h. */

/* ---- The kernel's mappings ---- */

struct kcase {
	const char *name;
	uint32_t mem;
};

static const struct kcase kcases[] = {
	{ "kernel_pdes_4mb", 4 * MB },
	{ "kernel_pdes_16mb", 16 * MB },
	{ "kernel_pdes_64mb", 64 * MB },
};

static int setup_kcase(void **state)
{
	const struct kcase *c = *state;

	return boot(c->mem);
}

/* Every PDE of dir: 4 MB global supervisor pages mapping all of memory from 0xC0000000,
 * and nothing else (a new address space has no user page tables). */
static void check_kernel_only(const uint32_t *dir, uint32_t mem)
{
	uint32_t nk = mem / (4 * MB);

	for (uint32_t i = 0; i < I386_VM_PT_ENTRIES; i++) {
		uint32_t pde = dir[i];
		if (i >= KERN_PDE0 && i < KERN_PDE0 + nk) {
			uint32_t want =
			    (i - KERN_PDE0) * 4 * MB | P | W | I386_VM_BIGPAGE | I386_VM_GLOBAL;
			/* The MMU may have set A (and D) by now; nothing else may differ. */
			if ((pde & ~(A | D)) != want)
				fail_msg("kernel PDE %u is 0x%08x, want 0x%08x", i, pde, want);
			assert_int_equal(pde & U, 0);
		} else if (pde != 0) {
			fail_msg("PDE %u of a new address space is 0x%08x", i, pde);
		}
	}
}

/*
 * pt_new maps the kernel with 4 MB global supervisor pages covering all of memory from
 * 0xC0000000 (kern_len is the memory size here): check the bits, then look through the MMU:
 * the kernel reads physical memory through them, a user access is refused, and nothing is
 * mapped past the end of memory.
 */
static void test_kernel_pdes(void **state)
{
	const struct kcase *c = *state;
	uint32_t mem = c->mem;

	assert_int_equal(F.p->cr3, F.pt->pt_dir_phys);
	assert_ptr_equal(F.pt->pt_dir, (void *)(hm.phys + F.pt->pt_dir_phys));
	assert_int_equal(F.pt->pt_npt, 0);
	check_kernel_only(F.pt->pt_dir, mem);
	assert_int_equal(pt_sanitycheck(F.pt, "test"), 0);

	/* A second, separate address space gets the same kernel entries. */
	struct pt other;
	uint32_t before = phys_free_pages();
	assert_int_equal(pt_new(&other, F.ep), VM_OK);
	assert_int_not_equal(other.pt_dir_phys, F.pt->pt_dir_phys);
	assert_int_equal(phys_free_pages(), before - 1);
	check_kernel_only(other.pt_dir, mem);
	assert_int_equal(pt_sanitycheck(&other, "other"), 0);
	pt_free(&other);
	assert_int_equal(phys_free_pages(), before);

	/* Kernel addresses translate to physical addresses one to one, to the last byte. */
	const phys_bytes probes[] = { 0, 0x1234, 4 * MB - 1, 4 * MB, mem / 2 + 0x567, mem - 1 };
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (probes[i] >= mem)
			continue;
		assert_int_equal(translate(HOSTED_KERN_VADDR + probes[i]), probes[i]);
	}
	assert_int_equal(translate(HOSTED_KERN_VADDR + mem), 0xFFFFFFFFu);
	assert_int_equal(translate(HOSTED_KERN_VADDR - 1), 0xFFFFFFFFu);

	/* The kernel reads and writes a frame through its mapping; a user may do neither. */
	phys_bytes f = take_frame(0x33);
	uint8_t buf[16];
	assert_int_equal(mmu_kaccess(F.p, HOSTED_KERN_VADDR + f + 8, buf, sizeof(buf), false), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0x33);
	memset(buf, 0x44, sizeof(buf));
	assert_int_equal(mmu_kaccess(F.p, HOSTED_KERN_VADDR + f, buf, sizeof(buf), true), 0);
	assert_int_equal(hm.phys[f], 0x44);
	uint64_t faults = hm.faults_delivered;
	assert_int_equal(mmu_access(F.p, HOSTED_KERN_VADDR + f, buf, 4, false), EFAULT);
	assert_int_equal(mmu_access(F.p, HOSTED_KERN_VADDR + f + 64, buf, 4, true), EFAULT);
	assert_int_equal(hm.faults_delivered, faults + 2);
	assert_int_equal(hm.phys[f + 64], 0x33);
	/* The kernel's use set A on its PDE, which the check accepts. */
	assert_true(F.pt->pt_dir[KERN_PDE0] & A);
	assert_int_equal(pt_sanitycheck(F.pt, "test"), 0);
	finish();
}

/* ---- Mapping user pages ---- */

/*
 * pt_writemap of single pages and of a contiguous range that crosses a 4 MB boundary (two
 * page tables): every page translates to its frame at every offset, the PTEs carry exactly
 * the flags, the kernel and the process see the frames' contents, and unmapping clears the
 * entries (the page tables stay until the process exits).
 */
static void test_writemap_translate(void **state)
{
	enum { NSINGLE = 8, NRUN = 6 };
	phys_bytes single[NSINGLE];
	const uint32_t flags = P | W | U;

	(void)state;
	/* Single frames at scattered pages of one table, mapped in reverse order. */
	for (int i = 0; i < NSINGLE; i++)
		single[i] = take_frame((uint8_t)(0x10 + i));
	for (int i = NSINGLE - 1; i >= 0; i--)
		assert_int_equal(pt_writemap(F.pt, UVA + (uint32_t)i * 3 * PAGE, single[i], PAGE,
					     flags, WMF_OVERWRITE),
				 VM_OK);
	assert_int_equal(F.pt->pt_npt, 1);
	assert_int_equal(vm_stats.pagetables, 2); /* the directory and this table */

	/* A contiguous run across the 4 MB boundary at 12 MB. */
	phys_bytes run = alloc_mem(NRUN, 0);
	assert_int_not_equal(run, NO_MEM);
	for (int i = 0; i < NRUN; i++)
		memset(hm.phys + run + (uint32_t)i * PAGE, 0x60 + i, PAGE);
	const vir_bytes rv = 12 * MB - 3 * PAGE;
	assert_int_equal(pt_writemap(F.pt, rv, run, NRUN * PAGE, flags, WMF_OVERWRITE), VM_OK);
	assert_int_equal(F.pt->pt_npt, 2); /* PDE 2 was there, PDE 3 is new */
	assert_int_equal(pt_sanitycheck(F.pt, "test"), 0);

	static const vir_bytes offs[] = { 0, 1, 0x7FF, PAGE - 1 };
	uint64_t faults = hm.faults_delivered;
	for (int i = 0; i < NSINGLE; i++) {
		vir_bytes v = UVA + (uint32_t)i * 3 * PAGE;
		assert_int_equal(pt_lookup(F.pt, v), single[i] | flags);
		for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++)
			assert_int_equal(translate(v + offs[o]), single[i] + offs[o]);
		/* The pages between are not mapped. */
		assert_int_equal(pt_lookup(F.pt, v + PAGE), 0);
		assert_int_equal(translate(v + PAGE), 0xFFFFFFFFu);
		uint8_t b = 0;
		assert_int_equal(mmu_access(F.p, v + 100, &b, 1, false), 0);
		assert_int_equal(b, 0x10 + i);
	}
	for (int i = 0; i < NRUN; i++) {
		vir_bytes v = rv + (uint32_t)i * PAGE;
		assert_int_equal(pt_lookup(F.pt, v) & ~(A | D), (run + (uint32_t)i * PAGE) | flags);
		assert_int_equal(translate(v + 5), run + (uint32_t)i * PAGE + 5);
	}
	/* One user access across the boundary reads both tables' pages. */
	uint8_t span[2 * PAGE];
	assert_int_equal(mmu_access(F.p, rv + 2 * PAGE, span, sizeof(span), false), 0);
	assert_int_equal(span[0], 0x62);
	assert_int_equal(span[PAGE], 0x63);
	/* And a user store lands in the frame. */
	memset(span, 0xEE, 8);
	assert_int_equal(mmu_access(F.p, rv + 3 * PAGE + 8, span, 8, true), 0);
	assert_int_equal(hm.phys[run + 3 * PAGE + 8], 0xEE);
	assert_int_equal(hm.phys[run + 3 * PAGE + 16], 0x63);
	assert_int_equal(hm.faults_delivered, faults); /* all present: no fault */

	/* Unmap everything: entries cleared, nothing translates, the tables stay. */
	for (int i = 0; i < NSINGLE; i++)
		assert_int_equal(
		    pt_writemap(F.pt, UVA + (uint32_t)i * 3 * PAGE, 0, PAGE, 0, WMF_OVERWRITE),
		    VM_OK);
	assert_int_equal(pt_writemap(F.pt, rv, 0, NRUN * PAGE, 0, WMF_OVERWRITE), VM_OK);
	for (int i = 0; i < NSINGLE; i++) {
		assert_int_equal(pt_lookup(F.pt, UVA + (uint32_t)i * 3 * PAGE), 0);
		assert_int_equal(translate(UVA + (uint32_t)i * 3 * PAGE), 0xFFFFFFFFu);
		uint8_t b;
		assert_int_equal(mmu_kaccess(F.p, UVA + (uint32_t)i * 3 * PAGE, &b, 1, false),
				 EFAULT);
	}
	for (int i = 0; i < NRUN; i++)
		assert_int_equal(pt_lookup(F.pt, rv + (uint32_t)i * PAGE), 0);
	pt_flush_pending();
	assert_int_equal(mmu_access(F.p, rv + 2 * PAGE, span, 1, false), EFAULT);
	assert_int_equal(F.pt->pt_npt, 2);
	/* Unmapping where there is no page table at all is fine and allocates nothing. */
	uint32_t before = phys_free_pages();
	assert_int_equal(pt_writemap(F.pt, 0x40000000u, 0, 16 * PAGE, 0, WMF_OVERWRITE), VM_OK);
	assert_int_equal(phys_free_pages(), before);
	assert_int_equal(pt_lookup(F.pt, 0x40000000u), 0);
	free_mem(run, NRUN);
	finish();
}

/* What each kind of access may do to a page with these PTE flags. */
struct prot_case {
	const char *name;
	uint32_t flags;
	bool kread, kwrite; /* the kernel (supervisor, CR0.WP on) */
	bool uread, uwrite; /* the process (user mode) */
};

static const struct prot_case prot_cases[] = {
	{ "prot_user_rw", P | W | U, true, true, true, true },
	{ "prot_user_ro", P | U, true, false, true, false },
	{ "prot_super_rw", P | W, true, true, false, false },
	{ "prot_super_ro", P, true, false, false, false },
	{ "prot_not_present", W | U, false, false, false, false },
};

/*
 * The PTE's bits decide: a read-only page refuses stores (the kernel's too, as with CR0.WP),
 * a supervisor page refuses the process; a refused store leaves the frame unchanged; a
 * refused user access reaches VM as a fault with the right error code bits.
 */
static void test_prot(void **state)
{
	const struct prot_case *c = *state;
	phys_bytes f = take_frame(0x21);
	const vir_bytes v = UVA + 5 * PAGE;
	uint8_t buf[8], w[8];

	assert_int_equal(pt_writemap(F.pt, v, f, PAGE, c->flags, WMF_OVERWRITE), VM_OK);
	assert_int_equal(pt_lookup(F.pt, v), f | c->flags);

	memset(buf, 0, sizeof(buf));
	assert_int_equal(mmu_kaccess(F.p, v + 16, buf, sizeof(buf), false), c->kread ? 0 : EFAULT);
	if (c->kread)
		assert_int_equal(buf[0], 0x21);
	memset(w, 0x4B, sizeof(w));
	assert_int_equal(mmu_kaccess(F.p, v + 32, w, sizeof(w), true), c->kwrite ? 0 : EFAULT);
	assert_int_equal(hm.phys[f + 32], c->kwrite ? 0x4B : 0x21);

	uint64_t faults = hm.faults_delivered, refused = vm_stats.pf_refused;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(mmu_access(F.p, v + 48, buf, sizeof(buf), false), c->uread ? 0 : EFAULT);
	if (c->uread)
		assert_int_equal(buf[0], 0x21);
	memset(w, 0x5C, sizeof(w));
	assert_int_equal(mmu_access(F.p, v + 64, w, sizeof(w), true), c->uwrite ? 0 : EFAULT);
	assert_int_equal(hm.phys[f + 64], c->uwrite ? 0x5C : 0x21);
	uint32_t nrefused = (uint32_t)!c->uread + (uint32_t)!c->uwrite;
	assert_int_equal(hm.faults_delivered - faults, nrefused);
	assert_int_equal(vm_stats.pf_refused - refused, nrefused);

	assert_int_equal(pt_writemap(F.pt, v, 0, PAGE, 0, WMF_OVERWRITE), VM_OK);
	finish();
}

/*
 * Accessed and dirty bits: a fresh PTE has neither; the MMU sets A on any access and D on a
 * store, for the kernel's accesses and for the process's (whose first store through a clean
 * TLB entry must still walk to set D).
 */
static void test_accessed_dirty(void **state)
{
	phys_bytes k = take_frame(1), u = take_frame(2);
	const vir_bytes kv = UVA, uv = UVA + PAGE;
	uint8_t b = 0;

	(void)state;
	assert_int_equal(pt_writemap(F.pt, kv, k, PAGE, P | W | U, WMF_OVERWRITE), VM_OK);
	assert_int_equal(pt_writemap(F.pt, uv, u, PAGE, P | W | U, WMF_OVERWRITE), VM_OK);
	assert_int_equal(pt_lookup(F.pt, kv) & (A | D), 0);
	assert_int_equal(pt_lookup(F.pt, uv) & (A | D), 0);

	assert_int_equal(mmu_kaccess(F.p, kv, &b, 1, false), 0);
	assert_int_equal(pt_lookup(F.pt, kv) & (A | D), A);
	assert_true(F.pt->pt_dir[I386_VM_PDE(kv)] & A);
	assert_int_equal(mmu_kaccess(F.p, kv, &b, 1, true), 0);
	assert_int_equal(pt_lookup(F.pt, kv) & (A | D), A | D);
	assert_int_equal(pt_lookup(F.pt, uv) & (A | D), 0); /* the neighbour untouched */

	assert_int_equal(mmu_access(F.p, uv, &b, 1, false), 0);
	assert_int_equal(pt_lookup(F.pt, uv) & (A | D), A);
	assert_int_equal(mmu_access(F.p, uv + 1, &b, 1, false), 0); /* a TLB hit */
	assert_int_equal(pt_lookup(F.pt, uv) & (A | D), A);
	assert_int_equal(mmu_access(F.p, uv + 2, &b, 1, true), 0);
	assert_int_equal(pt_lookup(F.pt, uv) & (A | D), A | D);

	/* A and D do not count as a change of the entry for the check. */
	assert_int_equal(pt_sanitycheck(F.pt, "test"), 0);
	assert_int_equal(pt_writemap(F.pt, kv, 0, 2 * PAGE, 0, WMF_OVERWRITE), VM_OK);
	finish();
}

/*
 * WMF_WRITEFLAGSONLY changes the flags and keeps each page's own frame (the physical address
 * passed is ignored); dropping W that way takes effect at once for the process, whose TLB
 * had the page cached writable.
 */
static void test_writeflagsonly(void **state)
{
	enum { N = 4 };
	phys_bytes f[N];
	uint8_t b = 0x77;

	(void)state;
	for (int i = 0; i < N; i++) {
		f[i] = take_frame((uint8_t)i);
		assert_int_equal(pt_writemap(F.pt, UVA + (uint32_t)i * PAGE, f[i], PAGE, P | W | U,
					     WMF_OVERWRITE),
				 VM_OK);
	}
	assert_int_equal(mmu_access(F.p, UVA + 2 * PAGE, &b, 1, true), 0); /* cached, dirty */
	assert_int_equal(hm.phys[f[2]], 0x77);

	phys_bytes bogus = f[0] + 0x100000;
	assert_int_equal(pt_writemap(F.pt, UVA, bogus, N * PAGE, P | U, WMF_WRITEFLAGSONLY), VM_OK);
	pt_flush_pending();
	for (int i = 0; i < N; i++) {
		assert_int_equal(pt_lookup(F.pt, UVA + (uint32_t)i * PAGE), f[i] | P | U);
		assert_int_equal(translate(UVA + (uint32_t)i * PAGE + 9), f[i] + 9);
	}
	b = 0x88;
	assert_int_equal(mmu_access(F.p, UVA + 2 * PAGE, &b, 1, true), EFAULT);
	assert_int_equal(hm.phys[f[2]], 0x77);
	assert_int_equal(mmu_access(F.p, UVA + 2 * PAGE, &b, 1, false), 0);
	assert_int_equal(b, 0x77);

	/* And writable again. */
	assert_int_equal(pt_writemap(F.pt, UVA, 0, N * PAGE, P | W | U, WMF_WRITEFLAGSONLY), VM_OK);
	pt_flush_pending();
	for (int i = 0; i < N; i++)
		assert_int_equal(pt_lookup(F.pt, UVA + (uint32_t)i * PAGE) & ~(A | D),
				 f[i] | P | W | U);
	b = 0x99;
	assert_int_equal(mmu_access(F.p, UVA + 2 * PAGE, &b, 1, true), 0);
	assert_int_equal(hm.phys[f[2]], 0x99);

	assert_int_equal(pt_writemap(F.pt, UVA, 0, N * PAGE, 0, WMF_OVERWRITE), VM_OK);
	finish();
}

/*
 * Changing a present entry queues a TLB flush that pt_flush_pending sends, once per address
 * space however many entries changed: after it the process reads the new frame after a
 * remap, and faults after an unmap, instead of using its cached translation.
 */
static void test_tlb_flush_on_change(void **state)
{
	phys_bytes f1 = take_frame(0xA1), f2 = take_frame(0xA2);
	uint8_t b = 0;

	(void)state;
	assert_int_equal(pt_writemap(F.pt, UVA, f1, 8 * PAGE, P | W | U, WMF_OVERWRITE), VM_OK);
	pt_flush_pending();
	assert_int_equal(mmu_access(F.p, UVA, &b, 1, false), 0); /* now in the TLB */
	assert_int_equal(b, 0xA1);

	/* Nothing changed: nothing to flush. */
	uint64_t flushes = hm.tlb_flushes;
	pt_flush_pending();
	assert_int_equal(hm.tlb_flushes, flushes);

	/* Several changes in one address space, one flush, sent when the call is done. */
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(
		    pt_writemap(F.pt, UVA + i * PAGE, f2, PAGE, P | W | U, WMF_OVERWRITE), VM_OK);
	assert_int_equal(hm.tlb_flushes, flushes);
	pt_flush_pending();
	assert_int_equal(hm.tlb_flushes, flushes + 1);
	assert_int_equal(mmu_access(F.p, UVA, &b, 1, false), 0);
	assert_int_equal(b, 0xA2);

	flushes = hm.tlb_flushes;
	assert_int_equal(pt_writemap(F.pt, UVA, 0, 8 * PAGE, 0, WMF_OVERWRITE), VM_OK);
	pt_flush_pending();
	assert_int_equal(hm.tlb_flushes, flushes + 1);
	uint64_t faults = hm.faults_delivered;
	assert_int_equal(mmu_access(F.p, UVA, &b, 1, false), EFAULT);
	assert_int_equal(hm.faults_delivered, faults + 1);
	finish();
}

/*
 * More address spaces changed in one call than the flush queue holds: every one of them
 * must still be flushed (each process had the old frame cached and must see the new one).
 */
static void test_tlb_flush_many_spaces(void **state)
{
	enum { NPROC = 12 };
	endpoint_t ep[NPROC];
	phys_bytes f1 = take_frame(0xB1), f2 = take_frame(0xB2);
	uint8_t b;

	(void)state;
	for (int i = 0; i < NPROC; i++) {
		assert_int_equal(hosted_spawn("many", false, &ep[i]), 0);
		struct pt *pt = &vmproc[VM_ENDPOINT_SLOT(ep[i])].vm_pt;
		assert_int_equal(pt_writemap(pt, UVA, f1, PAGE, P | U, WMF_OVERWRITE), VM_OK);
	}
	pt_flush_pending();
	for (int i = 0; i < NPROC; i++) {
		b = 0;
		assert_int_equal(mmu_access(hosted_proc(ep[i]), UVA, &b, 1, false), 0);
		assert_int_equal(b, 0xB1);
	}
	for (int i = 0; i < NPROC; i++) {
		struct pt *pt = &vmproc[VM_ENDPOINT_SLOT(ep[i])].vm_pt;
		assert_int_equal(pt_writemap(pt, UVA, f2, PAGE, P | U, WMF_OVERWRITE), VM_OK);
	}
	pt_flush_pending();
	for (int i = 0; i < NPROC; i++) {
		b = 0;
		assert_int_equal(mmu_access(hosted_proc(ep[i]), UVA, &b, 1, false), 0);
		if (b != 0xB2)
			fail_msg("process %d of %d still reads the old frame", i, NPROC);
	}
	for (int i = 0; i < NPROC; i++) {
		struct pt *pt = &vmproc[VM_ENDPOINT_SLOT(ep[i])].vm_pt;
		assert_int_equal(pt_writemap(pt, UVA, 0, PAGE, 0, WMF_OVERWRITE), VM_OK);
		assert_int_equal(hosted_exit(ep[i]), 0);
	}
	pt_flush_pending();
	finish();
}

/* ---- Page tables on demand, and freeing them ---- */

static void count_frame(phys_bytes frame, int is_dir, void *arg)
{
	uint32_t *c = arg;

	c[is_dir ? 0 : 1]++;
	(void)frame;
}

struct walked {
	vir_bytes v[16];
	uint32_t pte[16];
	uint32_t n;
};

static void note_pte(vir_bytes v, uint32_t pte, void *arg)
{
	struct walked *w = arg;

	if (w->n < 16) {
		w->v[w->n] = v;
		w->pte[w->n] = pte;
	}
	w->n++;
}

/*
 * A separate address space: pt_ptalloc_in_range makes one zeroed table per 4 MB touched
 * (user, writable, 4K PDEs), only once; pt_frames and pt_walk report what is there;
 * pt_free gives back the directory and every table.
 */
static void test_ptalloc_and_free(void **state)
{
	struct pt pt;
	uint32_t free0 = phys_free_pages(), stats0 = vm_stats.pagetables;

	(void)state;
	assert_int_equal(pt_new(&pt, F.ep), VM_OK);
	assert_int_equal(phys_free_pages(), free0 - 1);
	assert_int_equal(vm_stats.pagetables, stats0 + 1);

	static const struct {
		vir_bytes v, bytes;
		uint32_t new_tables; /* tables this call must add */
	} steps[] = {
		{ 0x00400000u, 12 * MB, 3 },  /* PDEs 1-3 */
		{ 0x00400000u, 12 * MB, 0 },  /* again: nothing new */
		{ 0x00BFF000u, 2 * PAGE, 0 }, /* straddles PDEs 2 and 3, both there */
		{ 0x00FFF000u, 2 * PAGE, 1 }, /* straddles PDEs 3 and 4: 4 is new */
		{ 0xBFFFF000u, PAGE, 1 },     /* the last user PDE, 767 */
		{ 0x20000000u, 0, 0 },        /* nothing at all */
		{ 0x20000000u, 1, 1 },        /* one byte needs a table */
	};
	uint32_t npt = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		uint32_t before = phys_free_pages();
		assert_int_equal(pt_ptalloc_in_range(&pt, steps[i].v, steps[i].bytes), VM_OK);
		npt += steps[i].new_tables;
		assert_int_equal(pt.pt_npt, npt);
		assert_int_equal(phys_free_pages(), before - steps[i].new_tables);
	}
	assert_int_equal(npt, 6);
	assert_int_equal(vm_stats.pagetables, stats0 + 1 + npt);
	static const uint32_t pdes[] = { 1, 2, 3, 4, 128, 767 };
	for (size_t i = 0; i < sizeof(pdes) / sizeof(pdes[0]); i++) {
		uint32_t pde = pt.pt_dir[pdes[i]];
		assert_int_equal(pde & (P | W | U | I386_VM_BIGPAGE), P | W | U);
		const uint8_t *tab = hm.phys + (pde & I386_VM_ADDR_MASK);
		for (uint32_t j = 0; j < PAGE; j++)
			if (tab[j] != 0)
				fail_msg("new page table of PDE %u: byte %u is 0x%x", pdes[i], j,
					 tab[j]);
		assert_false(phys_frame_free((pde & I386_VM_ADDR_MASK) >> VM_PAGE_SHIFT));
	}
	assert_int_equal(pt.pt_dir[0], 0);
	assert_int_equal(pt.pt_dir[5], 0);
	assert_int_equal(pt_sanitycheck(&pt, "other"), 0);

	/* Map a few pages, out of order, and see them walked in address order. */
	phys_bytes f = take_frame(0), g = take_frame(0);
	assert_int_equal(pt_writemap(&pt, 0xBFFFF000u, f, PAGE, P | U, WMF_OVERWRITE), VM_OK);
	assert_int_equal(pt_writemap(&pt, 0x00401000u, g, PAGE, P | W | U, WMF_OVERWRITE), VM_OK);
	assert_int_equal(pt_writemap(&pt, 0x00C00000u, f, PAGE, P | U, WMF_OVERWRITE), VM_OK);
	struct walked w = { 0 };
	pt_walk(&pt, note_pte, &w);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.v[0], 0x00401000u);
	assert_int_equal(w.pte[0], g | P | W | U);
	assert_int_equal(w.v[1], 0x00C00000u);
	assert_int_equal(w.pte[1], f | P | U);
	assert_int_equal(w.v[2], 0xBFFFF000u);
	assert_int_equal(w.pte[2], f | P | U);
	uint32_t counts[2] = { 0, 0 };
	pt_frames(&pt, count_frame, counts);
	assert_int_equal(counts[0], 1);
	assert_int_equal(counts[1], npt);

	/* Through the MMU, with a stand-in process whose cr3 is this directory. */
	struct hosted_proc other = { .inuse = true, .cr3 = pt.pt_dir_phys };
	phys_bytes pa = 0;
	assert_int_equal(mmu_translate(&other, 0x00401234u, &pa), 0);
	assert_int_equal(pa, g + 0x234);
	assert_int_equal(mmu_translate(&other, 0x00402000u, &pa), EFAULT);
	/* This directory is not the process's: its own tables do not see the mapping. */
	assert_int_equal(translate(0x00401234u), 0xFFFFFFFFu);

	pt_free(&pt);
	assert_int_equal(phys_free_pages(), free0 - 2); /* only f and g are still out */
	assert_int_equal(vm_stats.pagetables, stats0);
	pt_flush_pending();
	finish();
}

/*
 * Out of memory: pt_ptalloc_in_range makes what tables it can and says ENOMEM; what it made
 * stays and is freed with the address space. pt_writemap needing a table it cannot get says
 * ENOMEM and maps nothing; unmapping needs no memory.
 */
static void test_ptalloc_enomem(void **state)
{
	struct pt pt;
	uint32_t free0 = phys_free_pages(), stats0 = vm_stats.pagetables;
	phys_bytes runs[64];
	uint32_t lens[64], n = 0;

	(void)state;
	assert_int_equal(pt_new(&pt, F.ep), VM_OK);
	phys_bytes f = take_frame(0x12);
	assert_int_equal(pt_writemap(&pt, UVA, f, PAGE, P | W | U, WMF_OVERWRITE), VM_OK);
	assert_int_equal(pt.pt_npt, 1);
	/* Leave exactly one free frame. */
	while (phys_free_pages() > 1) {
		assert_true(n < 64);
		uint32_t want = phys_free_pages() - 1;
		lens[n] = want < phys_largest_run() ? want : phys_largest_run();
		runs[n] = alloc_mem(lens[n], 0);
		assert_int_not_equal(runs[n], NO_MEM);
		n++;
	}
	assert_int_equal(pt_ptalloc_in_range(&pt, 0x10000000u, 8 * MB), ENOMEM);
	assert_int_equal(pt.pt_npt, 2); /* one of the two was made */
	assert_int_equal(phys_free_pages(), 0);
	assert_int_equal(pt_writemap(&pt, 0x20000000u, f, PAGE, P | U, WMF_OVERWRITE), ENOMEM);
	assert_int_equal(pt_lookup(&pt, 0x20000000u), 0);
	assert_int_equal(pt.pt_dir[I386_VM_PDE(0x20000000u)], 0);
	/* Where a table exists, mapping and unmapping need no memory. */
	assert_int_equal(pt_writemap(&pt, UVA + PAGE, f, PAGE, P | U, WMF_OVERWRITE), VM_OK);
	assert_int_equal(pt_writemap(&pt, UVA, 0, 2 * PAGE, 0, WMF_OVERWRITE), VM_OK);
	assert_int_equal(pt_writemap(&pt, 0x30000000u, 0, 4 * MB, 0, WMF_OVERWRITE), VM_OK);
	assert_int_equal(pt_sanitycheck(&pt, "other"), 0);

	pt_free(&pt);
	while (n > 0) {
		n--;
		free_mem(runs[n], lens[n]);
	}
	assert_int_equal(phys_free_pages(), free0 - 1); /* f is still out */
	assert_int_equal(vm_stats.pagetables, stats0);
	pt_flush_pending();
	finish();
}

/* ---- pt_sanitycheck ---- */

struct corrupt_case {
	const char *name;
	int which; /* see corrupt() */
};

static const struct corrupt_case corrupt_cases[] = {
	{ "sanity_kernel_pde_user", 0 },
	{ "sanity_kernel_pde_not_global", 1 },
	{ "sanity_kernel_pde_wrong_frame", 2 },
	{ "sanity_kernel_pde_missing", 3 },
	{ "sanity_kernel_pde_4k", 4 },
	{ "sanity_user_pde_bigpage", 5 },
	{ "sanity_user_pde_supervisor", 6 },
	{ "sanity_user_pde_past_memory", 7 },
	{ "sanity_npt_wrong", 8 },
};

/*
 * pt_sanitycheck is clean on a good directory (kernel entries with A set included) and
 * finds each kind of corruption; VM's whole-machine check finds it too. Every corruption is
 * undone and the checks are clean again.
 */
static void test_sanitycheck(void **state)
{
	const struct corrupt_case *c = *state;
	uint32_t *dir = F.pt->pt_dir;
	const uint32_t last_kernel = KERN_PDE0 + hm.mem_bytes / (4 * MB) - 1;
	uint8_t b;

	/* A user table (PDE 2, mapping nothing, so that VM's own view stays consistent) and a
	 * kernel access, so A is set on a kernel PDE. Both checks are clean before. */
	assert_int_equal(pt_ptalloc_in_range(F.pt, UVA, PAGE), VM_OK);
	assert_int_equal(mmu_kaccess(F.p, HOSTED_KERN_VADDR + 0x300000, &b, 1, false), 0);
	assert_true(dir[KERN_PDE0] & A);
	assert_int_equal(pt_sanitycheck(F.pt, "test"), 0);
	assert_int_equal(sanity_check(), 0);

	uint32_t *slot, saved_npt = F.pt->pt_npt;
	switch (c->which) {
	case 0:
		slot = &dir[KERN_PDE0];
		break;
	case 1:
		slot = &dir[last_kernel];
		break;
	case 2:
		slot = &dir[KERN_PDE0 + 1];
		break;
	case 3:
		slot = &dir[last_kernel];
		break;
	case 4:
		slot = &dir[KERN_PDE0];
		break;
	default:
		slot = &dir[I386_VM_PDE(UVA)];
		break;
	}
	uint32_t saved = *slot;
	switch (c->which) {
	case 0:
		*slot |= U;
		break;
	case 1:
		*slot &= ~(uint32_t)I386_VM_GLOBAL;
		break;
	case 2:
		*slot += 4 * MB;
		break;
	case 3:
		*slot = 0;
		break;
	case 4:
		*slot &= ~(uint32_t)I386_VM_BIGPAGE;
		break;
	case 5:
		*slot |= I386_VM_BIGPAGE;
		break;
	case 6:
		*slot &= ~(uint32_t)U;
		break;
	case 7:
		*slot = (hm.mem_bytes + 0x10000u) | P | W | U;
		break;
	case 8:
		F.pt->pt_npt++;
		break;
	}
	assert_true(pt_sanitycheck(F.pt, "test") > 0);
	if (c->which != 7) /* see test_sanity_check_survives_bad_pde */
		assert_true(sanity_check() > 0);
	*slot = saved;
	F.pt->pt_npt = saved_npt;
	assert_int_equal(pt_sanitycheck(F.pt, "test"), 0);
	finish();
}

/*
 * pt_snapshot / pt_free_new_empty, the undo of a call that fails half-way: of the tables in
 * the range, those made after the snapshot that map nothing are freed; those that existed
 * before, or that now hold an entry, stay.
 */
static void test_snapshot_free_new_empty(void **state)
{
	struct pt_snapshot snap;
	const vir_bytes v = 0x01000000u, len = 16 * MB; /* PDEs 4-7 */
	phys_bytes f = take_frame(0x5E);

	(void)state;
	/* PDE 5 exists before the snapshot (and maps nothing). */
	assert_int_equal(pt_ptalloc_in_range(F.pt, v + 4 * MB, PAGE), VM_OK);
	pt_snapshot(F.pt, v, len, &snap);
	uint32_t free0 = phys_free_pages(), npt0 = F.pt->pt_npt, stats0 = vm_stats.pagetables;
	assert_int_equal(pt_ptalloc_in_range(F.pt, v, len), VM_OK);
	assert_int_equal(F.pt->pt_npt, npt0 + 3);
	/* PDE 6 gets a mapping; PDE 7 an entry that is not present (still not empty). */
	assert_int_equal(pt_writemap(F.pt, v + 8 * MB + 5 * PAGE, f, PAGE, P | U, WMF_OVERWRITE),
			 VM_OK);
	assert_int_equal(pt_writemap(F.pt, v + 12 * MB, f, PAGE, U, WMF_OVERWRITE), VM_OK);
	/* A table outside the range, made after the snapshot, is not the undo's business. */
	assert_int_equal(pt_ptalloc_in_range(F.pt, 0x08000000u, PAGE), VM_OK);

	pt_free_new_empty(F.pt, &snap, v, len);
	assert_int_equal(F.pt->pt_dir[4], 0); /* new and empty: gone */
	assert_true(F.pt->pt_dir[5] & P);     /* older than the snapshot */
	assert_true(F.pt->pt_dir[6] & P);     /* maps a page */
	assert_true(F.pt->pt_dir[7] & P);     /* holds an entry */
	assert_true(F.pt->pt_dir[I386_VM_PDE(0x08000000u)] & P);
	assert_int_equal(F.pt->pt_npt, npt0 + 3);
	assert_int_equal(phys_free_pages(), free0 - 3);
	assert_int_equal(vm_stats.pagetables, stats0 + 3);
	assert_int_equal(translate(v + 8 * MB + 5 * PAGE), f);
	assert_int_equal(pt_sanitycheck(F.pt, "test"), 0);

	assert_int_equal(pt_writemap(F.pt, v, 0, len, 0, WMF_OVERWRITE), VM_OK);
	pt_flush_pending();
	finish();
}

static void do_sanity_bad_pde(void *arg)
{
	(void)arg;
	F.pt->pt_dir[I386_VM_PDE(UVA)] = (hm.mem_bytes + 0x10000u) | P | W | U;
	uint32_t findings = sanity_check();
	printf("sanity_check returned %u findings\n", findings);
	fflush(stdout);
	_exit(findings > 0 ? 0 : 1);
}

/*
 * VM's consistency check exists to report corruption, so a user PDE pointing past the end
 * of memory must be a finding, not a crash of the machine. Run in a child, which must
 * return from sanity_check with findings.
 */
static void test_sanity_check_survives_bad_pde(void **state)
{
	struct death d;

	(void)state;
	phys_bytes f = take_frame(0);
	assert_int_equal(pt_writemap(F.pt, UVA, f, PAGE, P | W | U, WMF_OVERWRITE), VM_OK);
	run_in_child(do_sanity_bad_pde, NULL, &d);
	if (!WIFEXITED(d.status) || WEXITSTATUS(d.status) != 0)
		fail_msg("sanity_check with a PDE past memory: child %s %d; it printed: %s",
			 WIFSIGNALED(d.status) ? "died of signal" : "exited with",
			 WIFSIGNALED(d.status) ? WTERMSIG(d.status) : WEXITSTATUS(d.status), d.out);
	assert_int_equal(pt_writemap(F.pt, UVA, 0, PAGE, 0, WMF_OVERWRITE), VM_OK);
	finish();
}

/* ---- Panics ---- */

static void do_unaligned(void *arg)
{
	(void)arg;
	phys_bytes f = alloc_mem(1, 0);
	pt_writemap(F.pt, UVA + 0x10, f, PAGE, P | W | U, WMF_OVERWRITE);
}

static void do_unaligned_phys(void *arg)
{
	(void)arg;
	phys_bytes f = alloc_mem(1, 0);
	pt_writemap(F.pt, UVA, f + 0x800, PAGE, P | W | U, WMF_OVERWRITE);
}

/* An unaligned address or frame is a VM bug: panic. */
static void test_unaligned_panics(void **state)
{
	struct death d;

	(void)state;
	run_in_child(do_unaligned, NULL, &d);
	assert_panicked(&d, "unaligned");
	run_in_child(do_unaligned_phys, NULL, &d);
	assert_panicked(&d, "unaligned");
	finish();
}

static void do_map_kernel(void *arg)
{
	(void)arg;
	phys_bytes f = alloc_mem(1, 0);
	int r = pt_writemap(F.pt, HOSTED_KERN_VADDR + 0x200000, f, PAGE, P | W | U, WMF_OVERWRITE);
	phys_bytes pa = 0;
	printf("pt_writemap returned %d; 0x%x now translates to 0x%x, not the frame 0x%x\n", r,
	       HOSTED_KERN_VADDR + 0x200000,
	       mmu_translate(F.p, HOSTED_KERN_VADDR + 0x200000, &pa) ? 0 : pa, f);
}

/*
 * Mapping user pages into the kernel's range must panic (pt_ptalloc_in_range has the check:
 * "mapping ... into the kernel's PDE"): the kernel's PDEs are 4 MB pages, and pt_writemap
 * cannot honour the request, so returning VM_OK would make the caller believe in a mapping
 * that does not exist.
 */
static void test_map_into_kernel_panics(void **state)
{
	struct death d;

	(void)state;
	run_in_child(do_map_kernel, NULL, &d);
	assert_panicked(&d, "kernel's PDE");
	finish();
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		CMUnitTestFunction fn;
	} plain[] = {
		{ "writemap_translate", test_writemap_translate },
		{ "accessed_dirty", test_accessed_dirty },
		{ "writeflagsonly", test_writeflagsonly },
		{ "tlb_flush_on_change", test_tlb_flush_on_change },
		{ "tlb_flush_many_spaces", test_tlb_flush_many_spaces },
		{ "snapshot_free_new_empty", test_snapshot_free_new_empty },
		{ "sanity_check_survives_pde_past_memory", test_sanity_check_survives_bad_pde },
		{ "ptalloc_and_free", test_ptalloc_and_free },
		{ "ptalloc_enomem", test_ptalloc_enomem },
		{ "unaligned_panics", test_unaligned_panics },
		{ "map_into_kernel_panics", test_map_into_kernel_panics },
	};
	enum {
		NPLAIN = sizeof(plain) / sizeof(plain[0]),
		NK = sizeof(kcases) / sizeof(kcases[0]),
		NPROT = sizeof(prot_cases) / sizeof(prot_cases[0]),
		NCOR = sizeof(corrupt_cases) / sizeof(corrupt_cases[0]),
	};
	struct CMUnitTest tests[NK + NPLAIN + NPROT + NCOR];
	size_t n = 0;

	for (size_t i = 0; i < NK; i++)
		tests[n++] = (struct CMUnitTest){ kcases[i].name, test_kernel_pdes, setup_kcase,
						  teardown, (void *)&kcases[i] };
	for (size_t i = 0; i < NPLAIN; i++)
		tests[n++] =
		    (struct CMUnitTest){ plain[i].name, plain[i].fn, setup, teardown, NULL };
	for (size_t i = 0; i < NPROT; i++)
		tests[n++] = (struct CMUnitTest){ prot_cases[i].name, test_prot, setup, teardown,
						  (void *)&prot_cases[i] };
	for (size_t i = 0; i < NCOR; i++)
		tests[n++] = (struct CMUnitTest){ corrupt_cases[i].name, test_sanitycheck, setup,
						  teardown, (void *)&corrupt_cases[i] };
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return _cmocka_run_group_tests("pagetable", tests, n, NULL, NULL);
}
