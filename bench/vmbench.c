/*
 * vmbench: the hosted VM and Linux doing the same work on the same
 * machine, in one run (docs/performance.md). Each figure is the median of
 * REPS repetitions with the min and max, and the ratio to its baseline
 * (Linux, or the physical floor) with the goal of issue 11 beside it. Not
 * a test: nothing here fails on speed.
 *
 *     vmbench [--reps N] [--quick] [--json]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vmscope/callnr.h>
#include <vmscope/mman.h>
#include <vmscope/vminfo.h>

#include "../kernel-stubs/hosted/machine.h"

#define PAGE 4096u

static int reps = 5;
static bool quick, json;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, int r)
{
	fprintf(stderr, "vmbench: %s: error %d\n", what, r);
	exit(1);
}

/* ---- results ------------------------------------------------------- */

struct stat3 {
	double med, min, max;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static struct stat3 summarize(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return (struct stat3){ n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[0], v[n - 1] };
}

static int nrows;

/* One line of the table: what, VM's figure, the baseline's, the unit,
 * the goal (ratio VM/baseline must be at most goal; 0: none). */
static void row(const char *what, struct stat3 vm, const char *base_name, struct stat3 base,
		const char *unit, double goal)
{
	double ratio = base.med > 0 ? vm.med / base.med : 0;
	const char *verdict = goal <= 0 ? "" : ratio <= goal ? "met" : "NOT met";

	if (json) {
		printf("%s{\"what\":\"%s\",\"unit\":\"%s\",\"vm\":{\"median\":%.1f,\"min\":%.1f,"
		       "\"max\":%.1f},\"baseline\":\"%s\",\"base\":{\"median\":%.1f,\"min\":%.1f,"
		       "\"max\":%.1f},\"ratio\":%.3f,\"goal\":%.3f}",
		       nrows ? ",\n " : "[", what, unit, vm.med, vm.min, vm.max, base_name,
		       base.med, base.min, base.max, ratio, goal);
	} else {
		if (nrows == 0)
			printf("%-44s %12s %21s %-8s %12s %7s %s\n", "figure", "VM median",
			       "(min-max)", "vs", "base median", "ratio", "goal");
		char range[40];
		snprintf(range, sizeof(range), "(%.0f-%.0f)", vm.min, vm.max);
		char g[32] = "";
		if (goal > 0)
			snprintf(g, sizeof(g), "<= %.2gx %s", goal, verdict);
		if (base.med <= 0)
			printf("%-44s %10.1f %-2s %19s\n", what, vm.med, unit, range);
		else
			printf("%-44s %10.1f %-2s %19s %-8s %10.1f %-2s %6.2fx %s\n", what, vm.med,
			       unit, range, base_name, base.med, unit, ratio, g);
	}
	nrows++;
}

/* ---- the hosted machine ---------------------------------------------- */

static int vm_mmap(endpoint_t ep, uint32_t len, int flags, uint32_t *addr)
{
	message m;
	memset(&m, 0, sizeof(m));
	m.m_source = ep;
	m.m_type = VM_MMAP;
	m.m_mmap.len = len;
	m.m_mmap.prot = VM_PROT_READ | VM_PROT_WRITE;
	m.m_mmap.flags = flags;
	int r = hosted_call(&m);
	if (r == 0)
		*addr = m.m_mmap.addr;
	return r;
}

static int vm_munmap(endpoint_t ep, uint32_t addr, uint32_t len)
{
	message m;
	memset(&m, 0, sizeof(m));
	m.m_source = ep;
	m.m_type = VM_MUNMAP;
	m.m_munmap.addr = addr;
	m.m_munmap.len = len;
	return hosted_call(&m);
}

static void touch(endpoint_t ep, uint32_t addr, uint32_t pages)
{
	struct hosted_proc *p = hosted_proc(ep);
	uint8_t b = 1;
	for (uint32_t i = 0; i < pages; i++) {
		int r = mmu_access(p, addr + i * PAGE, &b, 1, true);
		if (r)
			die("touch", r);
	}
}

static void boot(uint32_t mb)
{
	int r = hosted_boot(mb << 20);
	if (r)
		die("hosted_boot", r);
}

/* ---- Linux ---------------------------------------------------------- */

static uint8_t *linux_map(size_t bytes)
{
	uint8_t *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap", errno);
	madvise(p, bytes, MADV_NOHUGEPAGE);
	return p;
}

/* ---- figures -------------------------------------------------------- */

static void floors(struct stat3 *set, struct stat3 *cpy)
{
	static uint8_t a[PAGE] __attribute__((aligned(PAGE))),
	    b[PAGE] __attribute__((aligned(PAGE)));
	double s[64], c[64];
	enum { N = 20000 };

	for (int r = 0; r < reps; r++) {
		double t0 = now_ns();
		for (int i = 0; i < N; i++) {
			memset(a, i, PAGE);
			__asm__ volatile("" : : "r"(a) : "memory");
		}
		double t1 = now_ns();
		for (int i = 0; i < N; i++) {
			memcpy(b, a, PAGE);
			__asm__ volatile("" : : "r"(b) : "memory");
		}
		double t2 = now_ns();
		s[r] = (t1 - t0) / N;
		c[r] = (t2 - t1) / N;
	}
	*set = summarize(s, reps);
	*cpy = summarize(c, reps);
}

/* First touch of `pages` anonymous pages, ns per page. */
static struct stat3 vm_fault(uint32_t pages)
{
	double v[64];
	for (int r = 0; r < reps; r++) {
		boot(128);
		endpoint_t ep;
		uint32_t a;
		if (hosted_spawn("bench", false, &ep) || vm_mmap(ep, pages * PAGE, 0, &a))
			die("spawn/mmap", 0);
		double t0 = now_ns();
		touch(ep, a, pages);
		v[r] = (now_ns() - t0) / pages;
		hosted_halt();
	}
	return summarize(v, reps);
}

static struct stat3 linux_fault(uint32_t pages)
{
	double v[64];
	for (int r = 0; r < reps; r++) {
		uint8_t *p = linux_map((size_t)pages * PAGE);
		double t0 = now_ns();
		for (uint32_t i = 0; i < pages; i++)
			p[(size_t)i * PAGE] = 1;
		v[r] = (now_ns() - t0) / pages;
		munmap(p, (size_t)pages * PAGE);
	}
	return summarize(v, reps);
}

/* Copy-on-write break after fork: the child writes every page. */
static struct stat3 vm_cow(uint32_t pages)
{
	double v[64];
	for (int r = 0; r < reps; r++) {
		boot(256); /* the parent's pages and the child's copies */
		endpoint_t ep, child;
		uint32_t a;
		if (hosted_spawn("bench", false, &ep) || vm_mmap(ep, pages * PAGE, 0, &a))
			die("spawn/mmap", 0);
		touch(ep, a, pages);
		if (hosted_fork(ep, "child", &child))
			die("fork", 0);
		double t0 = now_ns();
		touch(child, a, pages);
		v[r] = (now_ns() - t0) / pages;
		hosted_halt();
	}
	return summarize(v, reps);
}

static struct stat3 linux_cow(uint32_t pages)
{
	double v[64];
	for (int r = 0; r < reps; r++) {
		uint8_t *p = linux_map((size_t)pages * PAGE);
		for (uint32_t i = 0; i < pages; i++)
			p[(size_t)i * PAGE] = 1;
		int fd[2];
		if (pipe(fd))
			die("pipe", errno);
		pid_t pid = fork();
		if (pid == 0) {
			double t0 = now_ns();
			for (uint32_t i = 0; i < pages; i++)
				p[(size_t)i * PAGE] = 2;
			double ns = (now_ns() - t0) / pages;
			if (write(fd[1], &ns, sizeof(ns)) != sizeof(ns))
				_exit(1);
			_exit(0);
		}
		if (read(fd[0], &v[r], sizeof(v[r])) != sizeof(v[r]))
			die("read", errno);
		waitpid(pid, NULL, 0);
		close(fd[0]);
		close(fd[1]);
		munmap(p, (size_t)pages * PAGE);
	}
	return summarize(v, reps);
}

/* Fork (and the child's exit) of a process with `pages` resident, ns per
 * resident page. */
static struct stat3 vm_fork(uint32_t pages)
{
	double v[64];
	uint32_t mb = pages * 4 / 1024 * 3 + 64;
	mb = (mb + 3) / 4 * 4;
	for (int r = 0; r < reps; r++) {
		boot(mb);
		endpoint_t ep, child;
		uint32_t a;
		if (hosted_spawn("bench", false, &ep) || vm_mmap(ep, pages * PAGE, 0, &a))
			die("spawn/mmap", 0);
		touch(ep, a, pages);
		double t0 = now_ns();
		if (hosted_fork(ep, "child", &child) || hosted_exit(child))
			die("fork/exit", 0);
		v[r] = (now_ns() - t0) / pages;
		hosted_halt();
	}
	return summarize(v, reps);
}

static struct stat3 linux_fork(uint32_t pages)
{
	double v[64];
	for (int r = 0; r < reps; r++) {
		uint8_t *p = linux_map((size_t)pages * PAGE);
		for (uint32_t i = 0; i < pages; i++)
			p[(size_t)i * PAGE] = 1;
		double t0 = now_ns();
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		waitpid(pid, NULL, 0);
		v[r] = (now_ns() - t0) / pages;
		munmap(p, (size_t)pages * PAGE);
	}
	return summarize(v, reps);
}

enum { OPS = 2000 };

/* mmap + munmap of one page with `regions` regions present, ns per op. */
static struct stat3 vm_mmap_ops(uint32_t regions)
{
	double v[64];
	for (int r = 0; r < reps; r++) {
		boot(256);
		endpoint_t ep;
		uint32_t a;
		if (hosted_spawn("bench", false, &ep))
			die("spawn", 0);
		for (uint32_t i = 0; i < regions; i++)
			if (vm_mmap(ep, PAGE, 0, &a))
				die("mmap (regions)", 0);
		double t0 = now_ns();
		for (int i = 0; i < OPS; i++)
			if (vm_mmap(ep, PAGE, 0, &a) || vm_munmap(ep, a, PAGE))
				die("mmap/munmap", 0);
		v[r] = (now_ns() - t0) / OPS;
		hosted_halt();
	}
	return summarize(v, reps);
}

static struct stat3 linux_mmap_ops(uint32_t regions)
{
	double v[64];
	for (int r = 0; r < reps; r++) {
		/* Alternate protections so that Linux cannot merge them. */
		uint8_t **keep = malloc(regions * sizeof(*keep));
		for (uint32_t i = 0; i < regions; i++) {
			keep[i] = mmap(NULL, PAGE, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (keep[i] == MAP_FAILED)
				die("mmap (regions)", errno);
		}
		double t0 = now_ns();
		for (int i = 0; i < OPS; i++) {
			void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED || munmap(p, PAGE))
				die("mmap/munmap", errno);
		}
		v[r] = (now_ns() - t0) / OPS;
		for (uint32_t i = 0; i < regions; i++)
			munmap(keep[i], PAGE);
		free(keep);
	}
	return summarize(v, reps);
}

/* VM's side of the debug call for stats, ns per call. */
static struct stat3 vm_info_stats(void)
{
	double v[64];
	static uint8_t buf[HOSTED_INFO_BUFLEN];
	enum { N = 20000 };
	for (int r = 0; r < reps; r++) {
		boot(64);
		struct vmi_request req;
		memset(&req, 0, sizeof(req));
		uint32_t len;
		double t0 = now_ns();
		for (int i = 0; i < N; i++)
			if (hosted_info(VMI_STATS, &req, buf, &len))
				die("info", 0);
		v[r] = (now_ns() - t0) / N;
		hosted_halt();
	}
	return summarize(v, reps);
}

/* The full consistency check, ms per GiB of machine memory, on a 1 GiB
 * machine with a process holding 64 MB. */
static struct stat3 vm_check_gib(void)
{
	double v[64];
	for (int r = 0; r < reps; r++) {
		boot(1024);
		endpoint_t ep;
		uint32_t a;
		if (hosted_spawn("bench", false, &ep) || vm_mmap(ep, 16384 * PAGE, 0, &a))
			die("spawn/mmap", 0);
		touch(ep, a, 16384);
		message m;
		memset(&m, 0, sizeof(m));
		m.m_source = KERNEL;
		m.m_type = VM_SANITY;
		double t0 = now_ns();
		if (hosted_call(&m) || m.m_sanity.findings)
			die("sanity", 0);
		v[r] = (now_ns() - t0) / 1e6;
		hosted_halt();
	}
	return summarize(v, reps);
}

/* VM's metadata (slab and page tables) per resident page, and for a
 * 1 GiB region with one page touched, in bytes. */
static void metadata(double *per_page, double *sparse)
{
	struct vmi_stats s0, s1;
	uint32_t len;
	struct vmi_request req;
	memset(&req, 0, sizeof(req));

	boot(128);
	endpoint_t ep;
	uint32_t a, pages = 16384;
	hosted_info(VMI_STATS, &req, &s0, &len);
	if (hosted_spawn("bench", false, &ep) || vm_mmap(ep, pages * PAGE, 0, &a))
		die("spawn/mmap", 0);
	touch(ep, a, pages);
	hosted_info(VMI_STATS, &req, &s1, &len);
	*per_page = (double)((s1.pages_slab - s0.pages_slab) +
			     (s1.pages_pagetables - s0.pages_pagetables)) *
		    PAGE / pages;
	hosted_halt();

	boot(64);
	hosted_info(VMI_STATS, &req, &s0, &len);
	if (hosted_spawn("bench", false, &ep) || vm_mmap(ep, 1u << 30, 0, &a))
		die("spawn/mmap 1G", 0);
	touch(ep, a, 1);
	hosted_info(VMI_STATS, &req, &s1, &len);
	*sparse = (double)((s1.pages_slab - s0.pages_slab) +
			   (s1.pages_pagetables - s0.pages_pagetables)) *
		  PAGE;
	hosted_halt();
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			reps = atoi(argv[++i]);
			if (reps < 1 || reps > 64) {
				fprintf(stderr, "vmbench: --reps 1 to 64\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--quick")) {
			quick = true;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else {
			fprintf(stderr, "usage: vmbench [--reps N] [--quick] [--json]\n");
			return 2;
		}
	}
	struct stat3 set, cpy, zero = { 0, 0, 0 };
	floors(&set, &cpy);
	row("memset of a 4 KB page (floor)", set, "-", zero, "ns", 0);
	row("memcpy of a 4 KB page (floor)", cpy, "-", zero, "ns", 0);

	uint32_t n = quick ? 2048 : 16384;
	struct stat3 vf = vm_fault(n), lf = linux_fault(n);
	row("anonymous first-touch fault, per page", vf, "Linux", lf, "ns", 0);
	row("anonymous fault against the memset floor", vf, "memset", set, "ns", 2);
	struct stat3 vc = vm_cow(n), lc = linux_cow(n);
	row("copy-on-write break after fork, per page", vc, "Linux", lc, "ns", 0);
	row("copy-on-write break against the memcpy floor", vc, "memcpy", cpy, "ns", 2);
	uint32_t forks[] = { 1024, quick ? 8192 : 65536 };
	for (int i = 0; i < 2; i++) {
		char what[64];
		snprintf(what, sizeof(what), "fork+exit, per resident page (N=%u)", forks[i]);
		row(what, vm_fork(forks[i]), "Linux", linux_fork(forks[i]), "ns", 0.5);
	}
	uint32_t regs[] = { 10, 1000, quick ? 10000 : 100000 };
	struct stat3 m10 = zero;
	for (int i = 0; i < 3; i++) {
		char what[64];
		snprintf(what, sizeof(what), "mmap+munmap of a page, %u regions", regs[i]);
		struct stat3 vm = vm_mmap_ops(regs[i]);
		if (i == 0)
			m10 = vm;
		if (regs[i] < 60000)
			row(what, vm, "Linux", linux_mmap_ops(regs[i]), "ns", 0.1);
		else
			row(what, vm, "10 reg.", m10, "ns",
			    2); /* Linux's max_map_count is 65,530 */
	}
	struct stat3 st = vm_info_stats(), goal_st = { 2000, 2000, 2000 };
	row("debug call stats, VM's side", st, "2 us", goal_st, "ns", 1);
	struct stat3 ck = vm_check_gib(), goal_ck = { 50, 50, 50 };
	row("full consistency check, per GiB", ck, "50 ms", goal_ck, "ms", 1);
	double pp, sp;
	metadata(&pp, &sp);
	row("metadata per resident page", (struct stat3){ pp, pp, pp }, "32 B",
	    (struct stat3){ 32, 32, 32 }, "B", 1);
	row("metadata, 1 GiB region with 1 page touched", (struct stat3){ sp, sp, sp }, "1 KiB",
	    (struct stat3){ 1024, 1024, 1024 }, "B", 1);
	if (json)
		printf("]\n");
	return 0;
}
