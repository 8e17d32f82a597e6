/*
 * The consistency check must find what is broken, and exactly that: each
 * case builds a healthy machine, breaks one thing on purpose and expects
 * an exact number of findings (as Linux's slub_kunit does for SLUB).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/mman.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "../../kernel-stubs/hosted/machine.h"
#include "alloc.h"
#include "glo.h"
#include "proto.h"
#include "region.h"

static endpoint_t ep;
static vir_bytes buf;

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

static void test_leaked_frame(void **state)
{
	(void)state;
	phys_bytes p = alloc_mem(1, 0);
	assert_int_equal(sanity_check(), 1);
	free_mem(p, 1);
	assert_int_equal(sanity_check(), 0);
}

static void test_leaked_run_is_one_finding(void **state)
{
	(void)state;
	phys_bytes p = alloc_mem(3, 0);
	assert_int_equal(sanity_check(), 1);
	free_mem(p, 3);
	assert_int_equal(sanity_check(), 0);
}

static void test_mapped_frame_freed(void **state)
{
	(void)state;
	struct phys_region *pr = map_phys_at(proc(), buf);
	assert_non_null(pr);
	/* The frame is now free and a region page at once: one overlap. */
	free_mem(pr->ph->phys, 1);
	assert_int_equal(sanity_check(), 1);
}

static void test_refcount_off(void **state)
{
	(void)state;
	struct phys_region *pr = map_phys_at(proc(), buf);
	pr->ph->refcount++;
	/* The refcount disagrees with the references, the page is mapped
	 * writable although it no longer counts as private, and it now looks
	 * copy-on-write (and half A's) although A's counts of such pages and
	 * of its proportional set say otherwise. */
	assert_int_equal(sanity_check(), 4);
	pr->ph->refcount--;
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
}

static void test_kernel_pde_damaged(void **state)
{
	(void)state;
	uint32_t *pde = &proc()->vm_pt.pt_dir[HOSTED_KERN_VADDR >> 22];
	*pde |= I386_VM_USER;
	assert_int_equal(sanity_check(), 1);
	*pde &= ~(uint32_t)I386_VM_USER;
	assert_int_equal(sanity_check(), 0);
}

static void test_avl_balance_broken(void **state)
{
	(void)state;
	struct avl_node *root = proc()->vm_regions_avl.root;
	int8_t saved = root->balance;
	root->balance = (int8_t)(saved == 1 ? -1 : 1);
	assert_int_equal(sanity_check(), 1);
	root->balance = saved;
	assert_int_equal(sanity_check(), 0);
}

static void test_regions_overlap(void **state)
{
	(void)state;
	struct vir_region *lo = map_lookup(proc(), buf);
	assert_non_null(lo);
	lo->length += VM_PAGE_SIZE; /* now runs into the region above */
	/* The overlap, and the virtual page count that no longer adds up. */
	assert_int_equal(sanity_check(), 2);
	lo->length -= VM_PAGE_SIZE;
	assert_int_equal(sanity_check(), 0);
}

static void test_counters_off(void **state)
{
	(void)state;
	proc()->vm_virtual++;
	assert_int_equal(sanity_check(), 1);
	proc()->vm_virtual--;
	vm_stats.pagetables++;
	assert_int_equal(sanity_check(), 1);
	vm_stats.pagetables--;
	assert_int_equal(sanity_check(), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_healthy_after_exit),
		T(test_leaked_frame),
		T(test_leaked_run_is_one_finding),
		T(test_mapped_frame_freed),
		T(test_refcount_off),
		T(test_pte_without_page),
		T(test_pte_wrong_frame),
		T(test_kernel_pde_damaged),
		T(test_avl_balance_broken),
		T(test_regions_overlap),
		T(test_counters_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
