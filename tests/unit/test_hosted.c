/*
 * The hosted machine's kernel interface, as VM relies on it: memset by
 * physical address and in a process's address space, copies, address
 * resolution, CR0.WP for the kernel's own writes, and a TLB that really
 * caches until VM flushes it.
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
#include "glo.h"
#include "pagetable.h"
#include "proto.h"

static endpoint_t a, b;
static vir_bytes abuf, bbuf, aro;

static vir_bytes map(endpoint_t ep, int prot, int flags)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = ep;
	m.m_type = VM_MMAP;
	m.m_mmap.len = 2 * VM_PAGE_SIZE;
	m.m_mmap.prot = prot;
	m.m_mmap.flags = flags;
	assert_int_equal(hosted_call(&m), 0);
	return m.m_mmap.addr;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(hosted_boot(8u << 20), 0);
	assert_int_equal(hosted_spawn("A", false, &a), 0);
	assert_int_equal(hosted_spawn("B", false, &b), 0);
	abuf = map(a, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_PREALLOC);
	bbuf = map(b, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_PREALLOC);
	aro = map(a, VM_PROT_READ, VM_MAP_PREALLOC);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hosted_halt();
	return 0;
}

static void test_memset_modes(void **state)
{
	(void)state;
	uint8_t buf[2 * VM_PAGE_SIZE], want[2 * VM_PAGE_SIZE];
	phys_bytes pa;

	/* Virtual: across the page boundary of A's buffer. */
	assert_int_equal(sys_memset(MEMSET_VIR, a, abuf + 100, 0x5A, VM_PAGE_SIZE), 0);
	assert_int_equal(mmu_access(hosted_proc(a), abuf, buf, sizeof(buf), false), 0);
	memset(want, 0, sizeof(want));
	memset(want + 100, 0x5A, VM_PAGE_SIZE);
	assert_memory_equal(buf, want, sizeof(buf));

	/* Physical: the frame behind B's first page. */
	assert_int_equal(sys_umap(b, bbuf, &pa), 0);
	assert_int_equal(sys_memset(MEMSET_PHYS, NONE, pa + 8, 0x77, 16), 0);
	assert_int_equal(mmu_access(hosted_proc(b), bbuf, buf, 32, false), 0);
	memset(want, 0, 32);
	memset(want + 8, 0x77, 16);
	assert_memory_equal(buf, want, 32);

	/* Not present, not allowed (the kernel honours read-only PTEs), no
	 * such process. */
	assert_int_equal(sys_memset(MEMSET_VIR, a, 0x40000000, 0, 1), EFAULT);
	assert_int_equal(sys_memset(MEMSET_VIR, a, aro, 0, 1), EFAULT);
	assert_int_equal(sys_memset(MEMSET_VIR, VM_ENDPOINT(9, 9), abuf, 0, 1), ESRCH);
	assert_int_equal(sanity_check(), 0);
}

static void test_copies(void **state)
{
	(void)state;
	uint8_t buf[16];
	phys_bytes pa, pb;

	assert_int_equal(mmu_access(hosted_proc(a), abuf + 4090, "crossing page", 14, true), 0);
	assert_int_equal(sys_vircopy(a, abuf + 4090, b, bbuf + 10, 14), 0);
	assert_int_equal(mmu_access(hosted_proc(b), bbuf + 10, buf, 14, false), 0);
	assert_memory_equal(buf, "crossing page", 14);

	assert_int_equal(sys_umap(a, abuf + VM_PAGE_SIZE, &pa), 0);
	assert_int_equal(sys_umap(b, bbuf + VM_PAGE_SIZE, &pb), 0);
	assert_int_equal(pa & VM_PAGE_MASK, 0);
	assert_int_not_equal(pa, pb);
	assert_int_equal(sys_physcopy(pa, pb, VM_PAGE_SIZE), 0);
	assert_int_equal(mmu_access(hosted_proc(b), bbuf + VM_PAGE_SIZE, buf, 7, false), 0);
	assert_memory_equal(buf, "ng page", 7); /* the tail that crossed into page 2 */

	assert_int_equal(sys_vircopy(a, abuf, b, 0x40000000, 4), EFAULT);
	assert_int_equal(sys_umap(a, 0x40000000, &pa), EFAULT);
}

/* A translation cached in the TLB outlives a PTE change until VM asks for
 * a flush, as on hardware: this is what makes a missing flush in VM
 * visible in tests. */
static void test_tlb_caches_until_flush(void **state)
{
	(void)state;
	struct vmproc *vmp = &vmproc[VM_ENDPOINT_SLOT(a)];
	uint8_t x = 1;
	uint32_t pte = pt_lookup(&vmp->vm_pt, abuf);

	assert_int_equal(mmu_access(hosted_proc(a), abuf, &x, 1, true), 0); /* cached, dirty */
	/* Behind VM's back (no flush): make the page read-only. */
	uint32_t *tab = sys_directmap(vmp->vm_pt.pt_dir[abuf >> 22] & I386_VM_ADDR_MASK);
	tab[(abuf >> 12) & 1023] &= ~(uint32_t)I386_VM_WRITE;
	assert_int_equal(mmu_kaccess(hosted_proc(a), abuf, &x, 1, true), EFAULT); /* walks */
	uint64_t faults = hm.faults_delivered;
	assert_int_equal(mmu_access(hosted_proc(a), abuf, &x, 1, true), 0); /* stale TLB */
	assert_int_equal(hm.faults_delivered, faults);
	sys_vmctl(a, VMCTL_FLUSHTLB, 0);
	/* Now the write faults to VM, which maps the page writable again. */
	assert_int_equal(mmu_access(hosted_proc(a), abuf, &x, 1, true), 0);
	assert_int_equal(hm.faults_delivered, faults + 1);
	assert_int_equal(pt_lookup(&vmp->vm_pt, abuf) & ~(uint32_t)(I386_VM_ACC | I386_VM_DIRTY),
			 pte & ~(uint32_t)(I386_VM_ACC | I386_VM_DIRTY));
	assert_int_equal(sanity_check(), 0);
}

/* The MMU sets accessed and dirty bits as it walks. */
static void test_accessed_dirty(void **state)
{
	(void)state;
	struct vmproc *vmp = &vmproc[VM_ENDPOINT_SLOT(b)];
	vir_bytes second = bbuf + VM_PAGE_SIZE;
	uint8_t x;

	assert_int_equal(pt_lookup(&vmp->vm_pt, second) & (I386_VM_ACC | I386_VM_DIRTY), 0);
	assert_int_equal(mmu_access(hosted_proc(b), second, &x, 1, false), 0);
	assert_int_equal(pt_lookup(&vmp->vm_pt, second) & (I386_VM_ACC | I386_VM_DIRTY),
			 I386_VM_ACC);
	assert_int_equal(mmu_access(hosted_proc(b), second, &x, 1, true), 0);
	assert_int_equal(pt_lookup(&vmp->vm_pt, second) & (I386_VM_ACC | I386_VM_DIRTY),
			 I386_VM_ACC | I386_VM_DIRTY);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_memset_modes),
		T(test_copies),
		T(test_tlb_caches_until_flush),
		T(test_accessed_dirty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
