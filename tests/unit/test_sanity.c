/*
 * The consistency check must find what is broken, and exactly that: each
 * case builds a healthy machine, breaks one thing on purpose and expects
 * exactly the findings it should cause (as Linux's slub_kunit does for
 * SLUB): their number, their kinds and frames, and in the VM_SANITY build
 * where the memory came from. Slab objects are changed through USE, since
 * the VM_SANITY build keeps them read-only. (Double frees, writes after
 * free and stray writes to locked objects: test_slab.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/mman.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>

#include "../../kernel-stubs/hosted/machine.h"
#include "../../sanity/lock.h"
#include "../../sanity/report.h"
#include "alloc.h"
#include "glo.h"
#include "proto.h"
#include "region.h"

static endpoint_t ep;
static vir_bytes buf;

#define HERE_LINE(n) snprintf(n, sizeof(n), "tests/unit/test_sanity.c:%d", __LINE__)

/* The finding of kind about frame in the last check's log, or NULL. */
static const struct sanity_finding *find(enum sanity_kind kind, phys_bytes frame)
{
	for (uint32_t i = 0; i < sanity_log_count() && i < SANITY_LOG; i++) {
		const struct sanity_finding *f = sanity_log(i);
		if (f->kind == kind && f->frame == frame)
			return f;
	}
	return NULL;
}

static const struct sanity_finding *expect(enum sanity_kind kind, phys_bytes frame)
{
	const struct sanity_finding *f = find(kind, frame);
	if (f == NULL)
		fail_msg("no %s finding about frame 0x%08x among the %u of the last check",
			 sanity_kind_name(kind), frame, sanity_log_count());
	return f;
}

/* VM_SANITY build: the frame's site is where (a VM_HERE string), made during
 * call `call` (0: do not check) for our process. */
static void expect_site(const struct vm_site *s, const char *where, uint16_t call)
{
#ifdef VMSCOPE_SANITY_BUILD
	assert_non_null(s->where);
	if (where && strcmp(s->where, where) != 0)
		fail_msg("site %s, expected %s", s->where, where);
	if (call) {
		assert_int_equal(s->ctx.call, call);
		assert_int_equal(s->ctx.ep, ep);
	}
#else
	(void)s, (void)where, (void)call;
#endif
}

/* VM_SANITY build: the site was made by vm/ code serving a page fault of
 * our process at addr. */
static void expect_fault_site(const struct vm_site *s, vir_bytes addr)
{
#ifdef VMSCOPE_SANITY_BUILD
	assert_non_null(s->where);
	assert_memory_equal(s->where, "vm/", 3);
	assert_int_equal(s->ctx.call, VM_PAGEFAULT);
	assert_int_equal(s->ctx.ep, ep);
	assert_int_equal(s->ctx.addr, addr);
#else
	(void)s, (void)addr;
#endif
}

static struct vmproc *proc(void)
{
	return &vmproc[VM_ENDPOINT_SLOT(ep)];
}

/* A machine with process A: 4 pages mapped at buf, 2 of them touched,
 * and a second region above them. */
static int setup(void **state)
{
	(void)state;
	message m;
	uint8_t b = 1;

	assert_int_equal(hosted_boot(16u << 20), 0);
	assert_int_equal(hosted_spawn("A", false, &ep), 0);
	for (int i = 0; i < 2; i++) {
		memset(&m, 0, sizeof(m));
		m.m_source = ep;
		m.m_type = VM_MMAP;
		m.m_mmap.len = 4 * VM_PAGE_SIZE;
		m.m_mmap.prot = VM_PROT_READ | VM_PROT_WRITE;
		assert_int_equal(hosted_call(&m), 0);
		buf = m.m_mmap.addr;
	}
	assert_int_equal(mmu_access(hosted_proc(ep), buf, &b, 1, true), 0);
	assert_int_equal(mmu_access(hosted_proc(ep), buf + VM_PAGE_SIZE, &b, 1, true), 0);
	assert_int_equal(sanity_check(), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hosted_halt();
	return 0;
}

static void test_healthy_after_exit(void **state)
{
	(void)state;
	assert_int_equal(hosted_exit(ep), 0);
	assert_int_equal(sanity_check(), 0);
}

/* A leaked page: allocated and owned by nobody. One finding, naming the
 * frame and the line that allocated it. */
static void test_leaked_frame(void **state)
{
	char here[64];
	(void)state;
	phys_bytes p = alloc_mem(1, 0);
	HERE_LINE(here);
	assert_int_equal(sanity_check(), 1);
	expect_site(&expect(SK_LEAK, p)->site, NULL, 0);
	char want[64];
	snprintf(want, sizeof(want), "tests/unit/test_sanity.c:%d",
		 atoi(strchr(here, ':') + 1) - 1);
	expect_site(&expect(SK_LEAK, p)->site, want, 0);
	free_mem(p, 1);
	assert_int_equal(sanity_check(), 0);
}

static void test_leaked_run_is_one_finding(void **state)
{
	(void)state;
	phys_bytes p = alloc_mem(3, 0);
	assert_int_equal(sanity_check(), 1);
	expect(SK_LEAK, p);
	free_mem(p, 3);
	assert_int_equal(sanity_check(), 0);
}

/* A frame freed while still mapped: it is free and a region page at once,
 * one overlap, naming the fault that allocated it and the line that freed
 * it. */
static void test_mapped_frame_freed(void **state)
{
	char freed_at[64];
	(void)state;
	struct phys_region *pr = map_phys_at(proc(), buf);
	assert_non_null(pr);
	free_mem(pr->ph->phys, 1);
	HERE_LINE(freed_at);
	assert_int_equal(sanity_check(), 1);
	const struct sanity_finding *f = expect(SK_OVERLAP, pr->ph->phys);
	expect_fault_site(&f->site, buf);
#ifdef VMSCOPE_SANITY_BUILD
	assert_non_null(f->freed.where);
	assert_int_equal(atoi(strchr(f->freed.where, ':') + 1),
			 atoi(strchr(freed_at, ':') + 1) - 1);
#endif
}

/* One page referenced twice: the block of the second page names the frame
 * of the first. The frame is claimed twice (overlap), the second page's own
 * frame is held by nobody (leak), and its PTE disagrees with VM: exactly
 * those three. */
static void test_page_referenced_twice(void **state)
{
	(void)state;
	struct phys_region *p0 = map_phys_at(proc(), buf);
	struct phys_region *p1 = map_phys_at(proc(), buf + VM_PAGE_SIZE);
	phys_bytes f0 = p0->ph->phys, f1 = p1->ph->phys;
	USE(p1->ph, p1->ph->phys = f0);
	assert_int_equal(sanity_check(), 3);
	expect_fault_site(&expect(SK_OVERLAP, f0)->site, buf);
	expect_fault_site(&expect(SK_LEAK, f1)->site, buf + VM_PAGE_SIZE);
	expect(SK_PTE, f0);
	USE(p1->ph, p1->ph->phys = f1);
	assert_int_equal(sanity_check(), 0);
}

static void test_refcount_off(void **state)
{
	(void)state;
	struct phys_region *pr = map_phys_at(proc(), buf);
	USE(pr->ph, pr->ph->refcount++);
	/* The refcount disagrees with the references, the page is mapped
	 * writable although it no longer counts as private, and it now looks
	 * copy-on-write (and half A's) although A's counts of such pages and
	 * of its proportional set say otherwise. */
	assert_int_equal(sanity_check(), 4);
	expect_fault_site(&expect(SK_REFCOUNT, pr->ph->phys)->site, buf);
	expect(SK_PTE, pr->ph->phys);
	assert_non_null(find(SK_COUNTER, SANITY_NO_FRAME));
	USE(pr->ph, pr->ph->refcount--);
	assert_int_equal(sanity_check(), 0);
}

static void test_pte_without_page(void **state)
{
	(void)state;
	struct vmproc *vmp = proc();
	vir_bytes hole = buf + 2 * VM_PAGE_SIZE; /* mapped but never touched */
	phys_bytes frame = map_phys_at(vmp, buf)->ph->phys;
	assert_int_equal(pt_writemap(&vmp->vm_pt, hole, frame, VM_PAGE_SIZE,
				     I386_VM_PRESENT | I386_VM_USER, WMF_OVERWRITE),
			 0);
	assert_int_equal(sanity_check(), 1);
	expect(SK_PTE, frame);
	pt_writemap(&vmp->vm_pt, hole, 0, VM_PAGE_SIZE, 0, WMF_OVERWRITE);
	assert_int_equal(sanity_check(), 0);
}

/* A PTE left pointing at a frame that was freed: one finding, naming the
 * frame and the line that freed it. */
static void test_pte_to_freed_frame(void **state)
{
	char freed_at[64];
	(void)state;
	struct vmproc *vmp = proc();
	vir_bytes hole = buf + 3 * VM_PAGE_SIZE; /* mapped but never touched */
	phys_bytes frame = alloc_mem(1, 0);
	assert_int_equal(pt_writemap(&vmp->vm_pt, hole, frame, VM_PAGE_SIZE,
				     I386_VM_PRESENT | I386_VM_USER | I386_VM_WRITE, WMF_OVERWRITE),
			 0);
	free_mem(frame, 1);
	HERE_LINE(freed_at);
	assert_int_equal(sanity_check(), 1);
	const struct sanity_finding *f = expect(SK_PTE, frame);
#ifdef VMSCOPE_SANITY_BUILD
	assert_non_null(f->freed.where);
	assert_int_equal(atoi(strchr(f->freed.where, ':') + 1),
			 atoi(strchr(freed_at, ':') + 1) - 1);
#endif
	(void)f;
	pt_writemap(&vmp->vm_pt, hole, 0, VM_PAGE_SIZE, 0, WMF_OVERWRITE);
	assert_int_equal(sanity_check(), 0);
}

static void test_pte_wrong_frame(void **state)
{
	(void)state;
	struct vmproc *vmp = proc();
	struct phys_region *pr = map_phys_at(vmp, buf);
	uint32_t pte = pt_lookup(&vmp->vm_pt, buf);
	pt_writemap(&vmp->vm_pt, buf, pr->ph->phys + VM_PAGE_SIZE, VM_PAGE_SIZE,
		    pte & (I386_VM_PRESENT | I386_VM_USER | I386_VM_WRITE), WMF_OVERWRITE);
	assert_int_equal(sanity_check(), 1);
	expect(SK_PTE, pr->ph->phys);
}

static void test_kernel_pde_damaged(void **state)
{
	(void)state;
	uint32_t *pde = &proc()->vm_pt.pt_dir[HOSTED_KERN_VADDR >> 22];
	*pde |= I386_VM_USER;
	assert_int_equal(sanity_check(), 1);
	expect(SK_PAGETABLE, SANITY_NO_FRAME);
	*pde &= ~(uint32_t)I386_VM_USER;
	assert_int_equal(sanity_check(), 0);
}

/* An AVL node with a wrong balance: one finding. */
static void test_avl_balance_broken(void **state)
{
	(void)state;
	struct avl_node *root = proc()->vm_regions_avl.root;
	int8_t saved = root->balance;
	USE(root, root->balance = (int8_t)(saved == 1 ? -1 : 1));
	assert_int_equal(sanity_check(), 1);
	/* The finding names the region's slab page, and where mmap made it. */
	phys_bytes page =
	    (phys_bytes)(((uintptr_t)root - (uintptr_t)hm.phys) & ~(uintptr_t)VM_PAGE_MASK);
	const struct sanity_finding *f = expect(SK_AVL, page);
	expect_site(&f->site, NULL, VM_MMAP);
	USE(root, root->balance = saved);
	assert_int_equal(sanity_check(), 0);
}

static void test_regions_overlap(void **state)
{
	(void)state;
	struct vir_region *lo = map_lookup(proc(), buf);
	assert_non_null(lo);
	USE(lo, lo->length += VM_PAGE_SIZE); /* now runs into the region above */
	/* The overlap, the virtual page count that no longer adds up, and
	 * the tree's free-range summary that did not see the change. */
	assert_int_equal(sanity_check(), 3);
	expect(SK_REGION, SANITY_NO_FRAME);
	expect(SK_COUNTER, SANITY_NO_FRAME);
	expect(SK_AVL, SANITY_NO_FRAME);
	USE(lo, lo->length -= VM_PAGE_SIZE);
	assert_int_equal(sanity_check(), 0);
}

static void test_region_summary_stale(void **state)
{
	(void)state;
	struct vir_region *r = avl_entry(proc()->vm_regions_avl.root, struct vir_region, node);
	vir_bytes saved = r->sub_gap;
	/* A gap the subtree does not have: map_find_free would trust it. */
	USE(r, r->sub_gap = saved + VM_PAGE_SIZE);
	assert_int_equal(sanity_check(), 1);
	expect(SK_AVL, SANITY_NO_FRAME);
	USE(r, r->sub_gap = saved);
	assert_int_equal(sanity_check(), 0);
}

static void test_counters_off(void **state)
{
	(void)state;
	proc()->vm_virtual++;
	assert_int_equal(sanity_check(), 1);
	expect(SK_COUNTER, SANITY_NO_FRAME);
	proc()->vm_virtual--;
	vm_stats.pagetables++;
	assert_int_equal(sanity_check(), 1);
	expect(SK_COUNTER, SANITY_NO_FRAME);
	vm_stats.pagetables--;
	assert_int_equal(sanity_check(), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_healthy_after_exit),        T(test_leaked_frame),
		T(test_leaked_run_is_one_finding), T(test_mapped_frame_freed),
		T(test_page_referenced_twice),     T(test_refcount_off),
		T(test_pte_without_page),          T(test_pte_to_freed_frame),
		T(test_pte_wrong_frame),           T(test_kernel_pde_damaged),
		T(test_avl_balance_broken),        T(test_regions_overlap),
		T(test_region_summary_stale),      T(test_counters_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
