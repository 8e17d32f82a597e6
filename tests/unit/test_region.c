/*
 * The region tree's free-range search (map_find_free, O(log n) through
 * the tree's free-range summaries) against a brute-force walk of the
 * regions, while random mmaps (fixed and placed), munmaps (whole regions,
 * heads, tails and holes that split a region) and brk change the tree.
 * After every call the consistency check, which also verifies every
 * summary, must be clean.
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
#include "proto.h"
#include "region.h"
#include "rng.h"

#define PAGE VM_PAGE_SIZE
/* A window of 1,024 pages where the random calls happen, so that regions
 * crowd and gaps of every size appear. */
#define WIN_LO 0x40000000u
#define WIN_PAGES 1024u

/* The highest v with [v, v + len) free in [minv, maxv): every gap, one by
 * one. */
static vir_bytes brute_find_free(struct vmproc *vmp, vir_bytes minv, vir_bytes maxv, vir_bytes len)
{
	vir_bytes best = 0, prev_end = 0;

	if (len == 0 || maxv < minv || maxv - minv < len)
		return 0;
	for (struct avl_node *n = avl_first(&vmp->vm_regions_avl);; n = avl_next(n)) {
		vir_bytes lo = prev_end > minv ? prev_end : minv;
		vir_bytes hi = n ? avl_entry(n, struct vir_region, node)->vaddr : maxv;
		if (hi > maxv)
			hi = maxv;
		if (hi > lo && hi - lo >= len)
			best = hi - len;
		if (n == NULL)
			break;
		struct vir_region *r = avl_entry(n, struct vir_region, node);
		prev_end = r->vaddr + r->length;
	}
	return best;
}

/* A mapping of a random protection (neighbours that differ never merge). */
static int call_mmap(endpoint_t ep, vir_bytes addr, vir_bytes len, uint32_t flags, vir_bytes *out)
{
	uint32_t prot = (rng_below(2) ? VM_PROT_WRITE : 0) | VM_PROT_READ;

	return hosted_mmap(ep, addr, len, prot, flags, 0, out);
}

static void check_queries(struct vmproc *vmp, int queries)
{
	for (int q = 0; q < queries; q++) {
		vir_bytes minv, maxv, len = (rng_below(8) + 1) * PAGE;
		switch (rng_below(3)) {
		case 0: /* all of user space, as mmap asks */
			minv = vm_kinfo.user_lo;
			maxv = vm_kinfo.user_hi;
			break;
		case 1: /* inside the crowded window */
			minv = WIN_LO + rng_below(WIN_PAGES) * PAGE;
			maxv = minv + rng_below(WIN_PAGES) * PAGE;
			break;
		default: /* around it */
			minv = WIN_LO - rng_below(64) * PAGE;
			maxv = WIN_LO + (WIN_PAGES + rng_below(64)) * PAGE;
			len = (rng_below(64) + 1) * PAGE;
			break;
		}
		vir_bytes want = brute_find_free(vmp, minv, maxv, len);
		vir_bytes got = map_find_free(vmp, minv, maxv, len);
		if (got != want)
			fail_msg("map_find_free(0x%x, 0x%x, 0x%x) = 0x%x, the gaps say 0x%x", minv,
				 maxv, len, got, want);
	}
}

static void test_find_free_model(void **state)
{
	(void)state;
	endpoint_t ep;
	vir_bytes v;

	rng_seed(0xf1ee0001u);
	assert_int_equal(hosted_boot(32u << 20), 0);
	assert_int_equal(hosted_spawn("A", false, &ep), 0);
	struct vmproc *vmp = &vmproc[VM_ENDPOINT_SLOT(ep)];
	check_queries(vmp, 50);
	for (int op = 0; op < 3000; op++) {
		vir_bytes at = WIN_LO + rng_below(WIN_PAGES) * PAGE;
		vir_bytes len = (rng_below(16) + 1) * PAGE;
		switch (rng_below(5)) {
		case 0:
		case 1: /* fixed, replacing whatever is there */
			assert_int_equal(call_mmap(ep, at, len, VM_MAP_FIXED, &v), 0);
			assert_int_equal(v, at);
			break;
		case 2: { /* placed by VM: the highest fit, as the gaps say */
			vir_bytes want =
			    brute_find_free(vmp, vm_kinfo.user_lo, vm_kinfo.user_hi, len);
			assert_int_equal(call_mmap(ep, 0, len, 0, &v), 0);
			assert_int_equal(v, want);
			if (rng_below(2)) /* keep the top from filling up */
				assert_int_equal(hosted_munmap(ep, v, len), 0);
			break;
		}
		default: /* whole regions, heads, tails, holes */
			assert_int_equal(hosted_munmap(ep, at, len), 0);
			break;
		}
		assert_int_equal(sanity_check(), 0);
		check_queries(vmp, 20);
	}
	print_message("%zu regions at the end\n", vmp->vm_regions_avl.count);
	assert_int_equal(hosted_exit(ep), 0);
	hosted_halt();
}

/* Many regions packed below the top, as 100,000 mmaps leave them: the
 * next placement is found below them all, and a hole opened in the
 * middle is found again. */
static void test_find_free_packed(void **state)
{
	(void)state;
	endpoint_t ep;
	vir_bytes v, first = 0, last = 0;

	assert_int_equal(hosted_boot(64u << 20), 0);
	assert_int_equal(hosted_spawn("A", false, &ep), 0);
	struct vmproc *vmp = &vmproc[VM_ENDPOINT_SLOT(ep)];
	for (int i = 0; i < 20000; i++) {
		assert_int_equal(call_mmap(ep, 0, PAGE, 0, &v), 0);
		if (i == 0)
			first = v;
		else
			assert_int_equal(v, last - PAGE);
		last = v;
	}
	/* Alternating protections keep them from merging. */
	assert_int_equal(vmp->vm_regions_avl.count, 20000);
	vir_bytes hole = first - 9999 * PAGE;
	assert_int_equal(hosted_munmap(ep, hole, PAGE), 0);
	assert_int_equal(map_find_free(vmp, vm_kinfo.user_lo, vm_kinfo.user_hi, PAGE), hole);
	assert_int_equal(map_find_free(vmp, vm_kinfo.user_lo, vm_kinfo.user_hi, 2 * PAGE),
			 last - 2 * PAGE);
	assert_int_equal(map_find_free(vmp, vm_kinfo.user_lo, hole, PAGE), last - PAGE);
	assert_int_equal(sanity_check(), 0);
	assert_int_equal(hosted_exit(ep), 0);
	hosted_halt();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_free_model),
		cmocka_unit_test(test_find_free_packed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
