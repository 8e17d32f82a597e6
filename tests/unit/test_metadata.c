/*
 * VM's metadata grows with resident pages, not with virtual size: a
 * 1 GiB region with one page touched costs a region, one page record and
 * a few radix nodes, not a pointer per virtual page (as MINIX's per-region
 * array would: 262,144 pointers, 1-2 MB).
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
#include "slab.h"

static vir_bytes map(endpoint_t ep, vir_bytes len)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = ep;
	m.m_type = VM_MMAP;
	m.m_mmap.len = len;
	m.m_mmap.prot = VM_PROT_READ | VM_PROT_WRITE;
	assert_int_equal(hosted_call(&m), 0);
	return m.m_mmap.addr;
}

static void test_sparse_region(void **state)
{
	(void)state;
	endpoint_t ep;
	uint8_t b = 0x5a;

	assert_int_equal(hosted_boot(64u << 20), 0);
	assert_int_equal(hosted_spawn("A", false, &ep), 0);
	uint32_t free0 = phys_free_pages(), slab0 = slab_pages();
	vir_bytes v = map(ep, 1u << 30);
	vir_bytes last = v + (1u << 30) - VM_PAGE_SIZE;
	assert_int_equal(mmu_access(hosted_proc(ep), last, &b, 1, true), 0);

	struct vmproc *vmp = &vmproc[VM_ENDPOINT_SLOT(ep)];
	assert_int_equal(vmp->vm_virtual, 262144);
	assert_int_equal(vmp->vm_pages.count, 1);
	/* One frame, one page table, and a slab page for each kind of object
	 * (region, page record, block, radix node) with a little slack —
	 * a pointer per virtual page would be 256 pages or more. */
	print_message("slab pages %u, pages used %u, radix bytes %zu\n", slab_pages() - slab0,
		      free0 - phys_free_pages(), radix_bytes(&vmp->vm_pages));
	assert_true(slab_pages() - slab0 <= 5);
	assert_true(free0 - phys_free_pages() <= 7);
	/* The page map is one path of nodes, root to leaf: under 1 KiB. */
	assert_true(radix_bytes(&vmp->vm_pages) <= 1024);
	assert_int_equal(sanity_check(), 0);

	/* Its fork costs the child's directory, one page table and records
	 * for one page: not a page table per 4 MB of the region. */
	endpoint_t child;
	uint32_t free1 = phys_free_pages();
	assert_int_equal(hosted_fork(ep, "B", &child), 0);
	print_message("fork: pages used %u\n", free1 - phys_free_pages());
	assert_true(free1 - phys_free_pages() <= 4);
	assert_int_equal(hosted_exit(child), 0);
	assert_int_equal(phys_free_pages(), free1);

	assert_int_equal(hosted_exit(ep), 0);
	assert_int_equal(phys_free_pages(), free0 + 1); /* A's page directory too */
	hosted_halt();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sparse_region),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
