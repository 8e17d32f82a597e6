/*
 * Every VM call answers bad arguments with an errno and changes nothing:
 * a table of (caller, message) -> expected reply, run against a real
 * hosted machine, with the consistency check and the free-page count
 * compared after each case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
#include "slab.h"
#include "vm.h"

static endpoint_t user, sys, stale;

enum who { USER, SYS, STALE, KERN, BOGUS_NEG, BOGUS_GEN0, BOGUS_FREE_SLOT };

static endpoint_t endpoint_of(enum who w)
{
	switch (w) {
	case USER:
		return user;
	case SYS:
		return sys;
	case STALE:
		return stale;
	case KERN:
		return KERNEL;
	case BOGUS_NEG:
		return -77;
	case BOGUS_GEN0:
		return VM_ENDPOINT(0, 5);
	case BOGUS_FREE_SLOT:
		return VM_ENDPOINT(1, 900);
	}
	return NONE;
}

struct call_case {
	const char *name;
	enum who source;
	int type;
	/* Fields of the message; `target` names the endpoint a kernel call
	 * is about. */
	enum who target;
	uint32_t a, b;
	int32_t c, d;
	int expect;
};

#define RW (VM_PROT_READ | VM_PROT_WRITE)

static const struct call_case cases[] = {
	/* mmap: a, b, c, d = addr, len, prot, flags */
	{ "mmap len 0", USER, VM_MMAP, USER, 0, 0, RW, 0, EINVAL },
	{ "mmap len wraps", USER, VM_MMAP, USER, 0, 0xFFFFFFFFu, RW, 0, EINVAL },
	{ "mmap bad prot", USER, VM_MMAP, USER, 0, 4096, 0x80, 0, EINVAL },
	{ "mmap bad flags", USER, VM_MMAP, USER, 0, 4096, RW, 0x10000, EINVAL },
	{ "mmap contig alone", USER, VM_MMAP, USER, 0, 4096, RW, VM_MAP_CONTIG, EINVAL },
	{ "mmap fixed unaligned", USER, VM_MMAP, USER, 0x40000001, 4096, RW, VM_MAP_FIXED, EINVAL },
	{ "mmap fixed wraps", USER, VM_MMAP, USER, 0xFFFFF000u, 8192, RW, VM_MAP_FIXED, EINVAL },
	{ "mmap fixed in kernel", USER, VM_MMAP, USER, 0xC0000000u, 4096, RW, VM_MAP_FIXED,
	  ENOMEM },
	{ "mmap fixed below user", USER, VM_MMAP, USER, 0x1000, 4096, RW, VM_MAP_FIXED, ENOMEM },
	{ "mmap too big", USER, VM_MMAP, USER, 0, 0xF0000000u, RW, 0, ENOMEM },
	{ "mmap prealloc > memory", USER, VM_MMAP, USER, 0, 64u << 20, RW, VM_MAP_PREALLOC,
	  ENOMEM },
	{ "mmap phys unprivileged", USER, VM_MMAP, USER, 0, 4096, RW, VM_MAP_PHYS, EPERM },
	{ "mmap from stale", STALE, VM_MMAP, USER, 0, 4096, RW, 0, ESRCH },
	{ "mmap from bogus", BOGUS_NEG, VM_MMAP, USER, 0, 4096, RW, 0, EINVAL },
	{ "mmap from gen 0", BOGUS_GEN0, VM_MMAP, USER, 0, 4096, RW, 0, EINVAL },
	{ "mmap from free slot", BOGUS_FREE_SLOT, VM_MMAP, USER, 0, 4096, RW, 0, ESRCH },
	/* munmap: a, b = addr, len */
	{ "munmap len 0", USER, VM_MUNMAP, USER, 0x40000000, 0, 0, 0, EINVAL },
	{ "munmap unaligned", USER, VM_MUNMAP, USER, 0x40000004, 4096, 0, 0, EINVAL },
	{ "munmap wraps", USER, VM_MUNMAP, USER, 0xFFFFF000u, 8192, 0, 0, EINVAL },
	{ "munmap kernel", USER, VM_MUNMAP, USER, 0xC0000000u, 4096, 0, 0, EINVAL },
	{ "munmap nothing there", USER, VM_MUNMAP, USER, 0x40000000, 8192, 0, 0, 0 },
	/* brk: a = new break */
	{ "brk below base", USER, VM_BRK, USER, 0x0FFFF000, 0, 0, 0, EINVAL },
	{ "brk at top", USER, VM_BRK, USER, 0xBFFFFFFFu, 0, 0, 0, EINVAL },
	{ "brk query", USER, VM_BRK, USER, 0, 0, 0, 0, 0 },
	{ "brk from stale", STALE, VM_BRK, USER, 0x10001000, 0, 0, 0, ESRCH },
	/* kernel-only calls from a process */
	{ "spawn from process", USER, VM_SPAWN, USER, 0, 0, 0, 0, EPERM },
	{ "exit from process", USER, VM_EXIT, USER, 0, 0, 0, 0, EPERM },
	{ "pagefault from process", USER, VM_PAGEFAULT, USER, 0x40000000, 0, 0, 0, EPERM },
	{ "query from process", SYS, VM_QUERY, USER, 0, 0, VMQ_FREE, 0, EPERM },
	{ "sanity from process", SYS, VM_SANITY, USER, 0, 0, 0, 0, EPERM },
	/* kernel calls about bad endpoints */
	{ "spawn in a used slot", KERN, VM_SPAWN, USER, 0, 0, 0, 0, EEXIST },
	{ "spawn bogus", KERN, VM_SPAWN, BOGUS_NEG, 0, 0, 0, 0, EINVAL },
	{ "exit stale", KERN, VM_EXIT, STALE, 0, 0, 0, 0, ESRCH },
	{ "exit bogus", KERN, VM_EXIT, BOGUS_GEN0, 0, 0, 0, 0, EINVAL },
	{ "pagefault of stale", KERN, VM_PAGEFAULT, STALE, 0x40000000, 0, 0, 0, ESRCH },
	{ "query of stale", KERN, VM_QUERY, STALE, 0, 0, VMQ_RESIDENT, 0, ESRCH },
	{ "query unknown", KERN, VM_QUERY, USER, 0, 0, 999, 0, EINVAL },
	{ "query region past end", KERN, VM_QUERY, USER, 5, 0, VMQ_REGION, 0, ESRCH },
	/* unknown and not yet implemented calls */
	{ "call below base", USER, 17, USER, 0, 0, 0, 0, ENOSYS },
	{ "call above last", USER, VM_RQ_LAST + 1, USER, 0, 0, 0, 0, ENOSYS },
	{ "negative call", USER, -1, USER, 0, 0, 0, 0, ENOSYS },
	/* fork: target = parent, a = child slot (0: the user's own slot) */
	{ "fork from process", USER, VM_FORK, USER, 100, 0, 0, 0, EPERM },
	{ "fork of stale", KERN, VM_FORK, STALE, 100, 0, 0, 0, ESRCH },
	{ "fork into used slot", KERN, VM_FORK, USER, 0, 0, 0, 0, EEXIST },
	{ "fork bogus parent", KERN, VM_FORK, BOGUS_NEG, 100, 0, 0, 0, EINVAL },
	/* remap: target = source process, a = source address; dst = user */
	{ "remap from process", USER, VM_REMAP, USER, 0x40000000, 0, 0, 0, EPERM },
	{ "remap no region", KERN, VM_REMAP, USER, 0x40000000, 0, 0, 0, EINVAL },
	{ "remap of stale", KERN, VM_REMAP, STALE, 0x40000000, 0, 0, 0, ESRCH },
	{ "remap bad flags", KERN, VM_REMAP, USER, 0x40000000, 0, 0, 0x100, EINVAL },
	{ "shmunmap not shared", USER, VM_SHM_UNMAP, USER, 0x40000000, 0, 0, 0, EINVAL },
	/* exec: target = process, c = op, a, b = addr, len */
	{ "exec from process", USER, VM_EXEC, USER, 0, 0, VM_EXEC_CLEAR, 0, EPERM },
	{ "exec bad op", KERN, VM_EXEC, USER, 0, 0, 99, 0, EINVAL },
	{ "exec map unaligned", KERN, VM_EXEC, USER, 0x08048001, 4096, VM_EXEC_MAP, 0, EINVAL },
	{ "exec map len 0", KERN, VM_EXEC, USER, 0x08048000, 0, VM_EXEC_MAP, 0, EINVAL },
	{ "exec map kernel", KERN, VM_EXEC, USER, 0xC0000000u, 4096, VM_EXEC_MAP, 0, EINVAL },
	{ "exec map wraps", KERN, VM_EXEC, USER, 0xFFFFF000u, 8192, VM_EXEC_MAP, 0, EINVAL },
	{ "exec of stale", KERN, VM_EXEC, STALE, 0, 0, VM_EXEC_CLEAR, 0, ESRCH },
	{ "exec brk in kernel", KERN, VM_EXEC, USER, 0xC0001000u, 0, VM_EXEC_DONE, 0, EINVAL },
};

static void build(const struct call_case *c, message *m)
{
	memset(m, 0, sizeof(*m));
	m->m_source = endpoint_of(c->source);
	m->m_type = c->type;
	switch (c->type) {
	case VM_MMAP:
		m->m_mmap.addr = c->a;
		m->m_mmap.len = c->b;
		m->m_mmap.prot = c->c;
		m->m_mmap.flags = c->d;
		break;
	case VM_MUNMAP:
		m->m_munmap.addr = c->a;
		m->m_munmap.len = c->b;
		break;
	case VM_BRK:
		m->m_brk.addr = c->a;
		break;
	case VM_SPAWN:
		m->m_spawn.ep = endpoint_of(c->target);
		break;
	case VM_EXIT:
		m->m_exit.ep = endpoint_of(c->target);
		break;
	case VM_PAGEFAULT:
		m->m_pagefault.ep = endpoint_of(c->target);
		m->m_pagefault.addr = c->a;
		break;
	case VM_FORK:
		m->m_fork.parent = endpoint_of(c->target);
		m->m_fork.child = c->a ? VM_ENDPOINT(1, c->a) : user;
		break;
	case VM_REMAP:
		m->m_remap.src = endpoint_of(c->target);
		m->m_remap.src_addr = c->a;
		m->m_remap.dst = user;
		m->m_remap.flags = (uint32_t)c->d;
		break;
	case VM_SHM_UNMAP:
		m->m_munmap.addr = c->a;
		break;
	case VM_EXEC:
		m->m_exec.ep = endpoint_of(c->target);
		m->m_exec.op = (uint32_t)c->c;
		m->m_exec.addr = c->a;
		m->m_exec.len = c->b;
		m->m_exec.brk = c->a;
		m->m_exec.prot = VM_PROT_READ;
		break;
	case VM_QUERY:
		m->m_query.what = c->c;
		m->m_query.ep = endpoint_of(c->target);
		m->m_query.index = c->a;
		break;
	}
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(hosted_boot(16u << 20), 0);
	/* A process whose slot is then reused: its endpoint goes stale. */
	assert_int_equal(hosted_spawn("gone", false, &stale), 0);
	assert_int_equal(hosted_exit(stale), 0);
	assert_int_equal(hosted_spawn("user", false, &user), 0);
	assert_int_equal(VM_ENDPOINT_SLOT(user), VM_ENDPOINT_SLOT(stale));
	assert_int_not_equal(user, stale);
	assert_int_equal(hosted_spawn("sys", true, &sys), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hosted_halt();
	return 0;
}

static void test_bad_calls(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct call_case *c = &cases[i];
		uint32_t free0 = phys_free_pages();
		uint32_t virt0 = vmproc[VM_ENDPOINT_SLOT(user)].vm_virtual;
		message m;
		build(c, &m);
		int got = vm_handle(&m) ? m.m_type : -1;
		if (got != c->expect)
			fail_msg("%s: expected %d, got %d", c->name, c->expect, got);
		if (phys_free_pages() != free0 ||
		    vmproc[VM_ENDPOINT_SLOT(user)].vm_virtual != virt0)
			fail_msg("%s: changed something (free %u -> %u)", c->name, free0,
				 phys_free_pages());
		if (sanity_check() != 0)
			fail_msg("%s: consistency findings", c->name);
	}
}

/* A page fault VM refuses goes back through sys_kill, not a reply. */
static void test_fault_outside_regions_is_segv(void **state)
{
	(void)state;
	uint8_t b;
	assert_int_equal(mmu_access(hosted_proc(user), 0x40000000, &b, 1, false), EFAULT);
	assert_int_equal(mmu_access(hosted_proc(user), 0xC0000000u, &b, 1, false), EFAULT);
	assert_int_equal(mmu_access(hosted_proc(user), 0xFFFFFFFFu, &b, 2, false), EFAULT);
	assert_int_equal(sanity_check(), 0);
}

/* The unprivileged caller's uninit request is ignored, so its memory is
 * zero although the machine filled memory with garbage at boot. */
static void test_uninit_only_for_system(void **state)
{
	(void)state;
	uint8_t page[VM_PAGE_SIZE], zero[VM_PAGE_SIZE] = { 0 };
	message m;
	endpoint_t who[2] = { user, sys };

	for (int i = 0; i < 2; i++) {
		memset(&m, 0, sizeof(m));
		m.m_source = who[i];
		m.m_type = VM_MMAP;
		m.m_mmap.len = VM_PAGE_SIZE;
		m.m_mmap.prot = RW;
		m.m_mmap.flags = VM_MAP_UNINIT;
		assert_int_equal(hosted_call(&m), 0);
		assert_int_equal(
		    mmu_access(hosted_proc(who[i]), m.m_mmap.addr, page, sizeof(page), false), 0);
		if (who[i] == user)
			assert_memory_equal(page, zero, sizeof(page));
		else
			assert_memory_not_equal(page, zero, sizeof(page)); /* 0xDB garbage */
	}
}

/* A page's refcount never wraps: a reference that would overflow it is
 * refused (ENOMEM for the fork that wanted it), and nothing is left
 * behind. The count is raised artificially: 4 billion processes are not. */
static void test_refcount_saturates(void **state)
{
	(void)state;
	message m;
	uint8_t b = 7;
	endpoint_t child;

	memset(&m, 0, sizeof(m));
	m.m_source = user;
	m.m_type = VM_MMAP;
	m.m_mmap.len = VM_PAGE_SIZE;
	m.m_mmap.prot = RW;
	assert_int_equal(hosted_call(&m), 0);
	assert_int_equal(mmu_access(hosted_proc(user), m.m_mmap.addr, &b, 1, true), 0);
	struct phys_region *pr = map_phys_at(&vmproc[VM_ENDPOINT_SLOT(user)], m.m_mmap.addr);
	uint32_t free0 = phys_free_pages();
	USE(pr->ph, pr->ph->refcount = UINT32_MAX);
	assert_int_equal(hosted_fork(user, "child", &child), ENOMEM);
	USE(pr->ph, pr->ph->refcount = 1);
	assert_int_equal(phys_free_pages(), free0);
	assert_int_equal(sanity_check(), 0);
	assert_int_equal(hosted_fork(user, "child", &child), 0);
	assert_int_equal(pr->ph->refcount, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_outside_regions_is_segv, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uninit_only_for_system, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refcount_saturates, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
