/*
 * vmbench: the hosted VM and Linux doing the same work on the same
 * machine, in one run (docs/performance.md). Each figure is the median of
 * REPS repetitions with the min and max, and the ratio to its baseline
 * (Linux, or the physical floor) with the goal of issue 11 beside it. Not
 * a test: nothing here fails on speed.
 *
 *     vmbench [--reps N] [--quick] [--json] [--only NAME,...]
 *             [--sanity-model PLAIN SANITY]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vmscope/callnr.h>
#include <vmscope/mman.h>
#include <vmscope/vminfo.h>

#include "../kernel-stubs/hosted/machine.h"
#include "vminfo.h"

#define PAGE 4096u

static int reps = 5;
static bool quick, json;
static const char *only;                       /* --only: the groups to run */
static const char *model_plain, *model_sanity; /* --sanity-model */

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

/* A read-write mapping where VM chooses. */
static int vm_mmap(endpoint_t ep, uint32_t len, uint32_t flags, uint32_t *addr)
{
	return hosted_mmap(ep, 0, len, VM_PROT_READ | VM_PROT_WRITE, flags, 0, addr);
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

/* The same over `pages` pages each (the fault and COW figures' working
 * set, far larger than the caches): what clearing or copying a page
 * costs when it is not in a cache, as every fresh frame of a fault is. */
static void cold_floors(uint32_t pages, struct stat3 *set, struct stat3 *cpy)
{
	size_t bytes = (size_t)pages * PAGE;
	uint8_t *a = linux_map(bytes), *b = linux_map(bytes);
	double s[64], c[64];

	memset(a, 1, bytes); /* resident, so that only the stores are timed */
	memset(b, 1, bytes);
	for (int r = 0; r < reps; r++) {
		double t0 = now_ns();
		for (uint32_t i = 0; i < pages; i++) {
			memset(a + (size_t)i * PAGE, (int)i, PAGE);
			__asm__ volatile("" : : "r"(a) : "memory");
		}
		double t1 = now_ns();
		for (uint32_t i = 0; i < pages; i++) {
			memcpy(b + (size_t)i * PAGE, a + (size_t)i * PAGE, PAGE);
			__asm__ volatile("" : : "r"(b) : "memory");
		}
		double t2 = now_ns();
		s[r] = (t1 - t0) / pages;
		c[r] = (t2 - t1) / pages;
	}
	munmap(a, bytes);
	munmap(b, bytes);
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

/* A fresh machine with a process holding `regions` one-page regions. */
static endpoint_t boot_regions(uint32_t regions)
{
	endpoint_t ep;
	uint32_t a;

	boot(256);
	if (hosted_spawn("bench", false, &ep))
		die("spawn", 0);
	for (uint32_t i = 0; i < regions; i++)
		if (vm_mmap(ep, PAGE, 0, &a))
			die("mmap (regions)", 0);
	return ep;
}

/* mmap + munmap of one page with `regions` regions present, ns per op. */
static struct stat3 vm_mmap_ops(uint32_t regions)
{
	double v[64];
	for (int r = 0; r < reps; r++) {
		endpoint_t ep = boot_regions(regions);
		uint32_t a;
		double t0 = now_ns();
		for (int i = 0; i < OPS; i++)
			if (vm_mmap(ep, PAGE, 0, &a) || hosted_munmap(ep, a, PAGE))
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

/* safecopy of `bytes` from a grant into the grantee, MB/s: the byte copy
 * (the granted memory is shared, so it is always copied) or the
 * copy-on-write path (private anonymous memory, page-aligned alike). */
static struct stat3 vm_safecopy(uint32_t bytes, bool cow)
{
	double v[64];
	const uint32_t span = 4u << 20;
	uint32_t iters = (16u << 20) / bytes;
	if (quick)
		iters = iters / 8 + 1;
	for (int r = 0; r < reps; r++) {
		boot(128);
		endpoint_t g, d;
		uint32_t src, dst;
		if (hosted_spawn("granter", false, &g) || hosted_spawn("grantee", false, &d) ||
		    vm_mmap(g, span, cow ? 0 : VM_MAP_SHARED, &src) || vm_mmap(d, span, 0, &dst))
			die("spawn/mmap (safecopy)", 0);
		touch(g, src, span / PAGE);
		touch(d, dst, span / PAGE);
		message m;
		memset(&m, 0, sizeof(m));
		m.m_source = g;
		m.m_type = VM_GRANT;
		m.m_grant.grantee = d;
		m.m_grant.addr = src;
		m.m_grant.len = span;
		m.m_grant.access = VM_GRANT_READ;
		int rr = hosted_call(&m);
		if (rr)
			die("grant", rr);
		uint32_t id = m.m_grant.id;
		double ns = 0;
		for (uint32_t i = 0; i < iters; i++) {
			uint32_t off = (uint32_t)(((uint64_t)i * bytes) % span);
			if (off + bytes > span)
				off = 0;
			/* Untimed: the grantee writes its pages, so that each copy
			 * finds them private (a copy-on-write copy shares them
			 * again; copying onto pages shared by the last copy of
			 * the same bytes would cost next to nothing). */
			touch(d, dst + off, (bytes + PAGE - 1) / PAGE);
			memset(&m, 0, sizeof(m));
			m.m_source = d;
			m.m_type = VM_SAFECOPY;
			m.m_safecopy.id = id;
			m.m_safecopy.off = off;
			m.m_safecopy.len = bytes;
			m.m_safecopy.addr = dst + off;
			m.m_safecopy.dir = VM_SAFECOPY_FROM;
			double t0 = now_ns();
			rr = hosted_call(&m);
			ns += now_ns() - t0;
			if (rr != 0)
				die("safecopy", rr);
		}
		ns /= iters;
		v[r] = bytes / ns * 1e3; /* bytes per ns = GB/s; MB/s */
		hosted_halt();
	}
	return summarize(v, reps);
}

static void safecopy_rows(void)
{
	static const uint32_t sizes[] = { 4096, 16384, 65536, 262144, 1u << 20, 4u << 20 };
	uint32_t crossover = 0;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char what[64];
		struct stat3 byte = vm_safecopy(sizes[i], false), cow = vm_safecopy(sizes[i], true);
		snprintf(what, sizeof(what), "safecopy %u KB, byte copy", sizes[i] / 1024);
		row(what, byte, "-", (struct stat3){ 0, 0, 0 }, "MB/s", 0);
		snprintf(what, sizeof(what), "safecopy %u KB, copy-on-write path", sizes[i] / 1024);
		row(what, cow, "byte", byte, "MB/s", 0);
		if (crossover == 0 && cow.med > byte.med && sizes[i] >= 16384)
			crossover = sizes[i];
	}
	double c = crossover;
	row("safecopy: copy-on-write overtakes byte copy at", (struct stat3){ c, c, c }, "-",
	    (struct stat3){ 0, 0, 0 }, "B", 0);
}

/* A machine with `procs` processes, each with a touched region; for
 * VM_INFO of usage. */
static void boot_procs(uint32_t procs)
{
	boot(256);
	for (uint32_t i = 0; i < procs; i++) {
		endpoint_t ep;
		uint32_t a;
		char name[16];
		snprintf(name, sizeof(name), "p%u", i);
		if (hosted_spawn(name, false, &ep) || vm_mmap(ep, 4 * PAGE, 0, &a))
			die("spawn/mmap (procs)", 0);
		touch(ep, a, 2);
	}
}

/* VM's side of one whole listing (every page of it), ns. */
static double info_listing(uint32_t subcall, int32_t ep, uint32_t *entries)
{
	static uint8_t buf[HOSTED_INFO_BUFLEN];
	struct vmi_request req;
	memset(&req, 0, sizeof(req));
	req.endpoint = ep;
	*entries = 0;
	double t0 = now_ns();
	for (;;) {
		uint32_t len;
		int rr = hosted_info(subcall, &req, buf, &len);
		if (rr)
			die("info listing", rr);
		const struct vmi_list *l = (const void *)buf;
		*entries += l->count;
		if (!l->more)
			break;
		req.cursor = l->next;
	}
	return now_ns() - t0;
}

static struct stat3 vm_info_usage(uint32_t procs)
{
	double v[64];
	boot_procs(procs);
	for (int r = 0; r < reps; r++) {
		uint32_t n;
		v[r] = info_listing(VMI_PROCS, 0, &n);
		if (n < procs)
			die("usage listing short", (int)n);
	}
	hosted_halt();
	return summarize(v, reps);
}

static struct stat3 vm_info_regions(uint32_t regions)
{
	double v[64];
	endpoint_t ep = boot_regions(regions);
	for (int r = 0; r < reps; r++) {
		uint32_t n;
		v[r] = info_listing(VMI_REGIONS, ep, &n) / 1e6;
		if (n != regions)
			die("regions listing", (int)n);
	}
	hosted_halt();
	return summarize(v, reps);
}

/* ---- a client of `vm serve` ----------------------------------------- */

static pid_t server;
static char sock_path[64], scn_path[64];

static void stop_server(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = 0;
	}
	unlink(sock_path);
	unlink(scn_path);
}

/* `vm serve` (beside bench/ in the build) on a scenario that leaves
 * `procs` processes with a touched region each and `regions` one-page
 * regions in one more; a client connected to it. */
static struct vminfo *start_server(uint32_t procs, uint32_t regions)
{
	char self[PATH_MAX], vm[PATH_MAX + 8];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		die("readlink /proc/self/exe", errno);
	self[n] = 0;
	snprintf(vm, sizeof(vm), "%s/../vm", dirname(self));
	snprintf(sock_path, sizeof(sock_path), "/tmp/vmbench.%d.sock", (int)getpid());
	snprintf(scn_path, sizeof(scn_path), "/tmp/vmbench.%d.scn", (int)getpid());
	FILE *f = fopen(scn_path, "w");
	if (f == NULL)
		die("scenario file", errno);
	fprintf(f, "mem 256M\n");
	for (uint32_t i = 0; i < procs; i++)
		fprintf(f, "spawn p%u\nmmap p%u a 16K\nwrite p%u a \"x\"\n", i, i, i);
	if (regions) {
		fprintf(f, "spawn big\n");
		for (uint32_t i = 0; i < regions; i++)
			fprintf(f, "mmap big r 4K prot=%s\n", i % 2 ? "r" : "rw");
	}
	fclose(f);
	server = fork();
	if (server == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execl(vm, vm, "serve", "--socket", sock_path, "--workload", scn_path, (char *)NULL);
		_exit(127);
	}
	atexit(stop_server);
	struct vminfo_error err;
	for (int i = 0; i < 6000; i++) {
		struct vminfo *vi = vminfo_open(sock_path, 5000, &err);
		if (vi)
			return vi;
		int st;
		if (waitpid(server, &st, WNOHANG) == server) {
			server = 0;
			die("vm serve exited", st);
		}
		usleep(10000);
	}
	die("vm serve did not answer", 0);
	return NULL;
}

/* The floor of a round trip: a bare ping-pong of a request and a reply
 * of the debug call's sizes over a Unix socket to another process, which
 * waits in poll as vm serve does, ns. */
static struct stat3 socket_floor(void)
{
	double v[64];
	enum { N = 5000 };
	size_t qlen = sizeof(struct vmi_header) + sizeof(struct vmi_request),
	       alen = sizeof(struct vmi_header) + sizeof(struct vmi_stats);
	static uint8_t buf[4096];
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair", errno);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		for (;;) {
			struct pollfd p = { .fd = sv[1], .events = POLLIN };
			if (poll(&p, 1, -1) < 0 || recv(sv[1], buf, qlen, MSG_WAITALL) <= 0)
				_exit(0);
			if (send(sv[1], buf, alen, MSG_NOSIGNAL) < 0)
				_exit(0);
		}
	}
	close(sv[1]);
	for (int r = 0; r < reps; r++) {
		double t0 = now_ns();
		for (int i = 0; i < N; i++) {
			struct pollfd p = { .fd = sv[0], .events = POLLIN };
			if (send(sv[0], buf, qlen, MSG_NOSIGNAL) < 0 || poll(&p, 1, -1) < 0 ||
			    recv(sv[0], buf, alen, MSG_WAITALL) <= 0)
				die("ping-pong", errno);
		}
		v[r] = (now_ns() - t0) / N;
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
	return summarize(v, reps);
}

static void roundtrip_rows(void)
{
	double v[64];
	/* A scenario has at most 64 processes (docs/scenario-format.md). */
	uint32_t procs = 60, regions = quick ? 10000 : 100000;
	struct vminfo *vi = start_server(procs, regions);
	enum { N = 5000 };
	struct vmi_stats st;
	for (int r = 0; r < reps; r++) {
		double t0 = now_ns();
		for (int i = 0; i < N; i++)
			if (vminfo_stats(vi, &st))
				die("vminfo_stats", 0);
		v[r] = (now_ns() - t0) / N;
	}
	struct stat3 rt = summarize(v, reps), fl = socket_floor();
	row("Unix socket ping-pong (floor)", fl, "-", (struct stat3){ 0, 0, 0 }, "ns", 0);
	row("debug call stats, client round trip", rt, "30 us",
	    (struct stat3){ 30000, 30000, 30000 }, "ns", 1);
	row("debug call stats round trip against the floor", rt, "ping", fl, "ns", 0);
	for (int r = 0; r < reps; r++) {
		struct vmi_proc *p;
		size_t n;
		double t0 = now_ns();
		if (vminfo_procs(vi, &p, &n) || n < procs)
			die("vminfo_procs", (int)n);
		v[r] = (now_ns() - t0) / 1e3;
		free(p);
	}
	char what[64];
	snprintf(what, sizeof(what), "usage of %u processes, client round trip", procs);
	row(what, summarize(v, reps), "-", (struct stat3){ 0, 0, 0 }, "us", 0);
	struct vmi_proc big;
	if (vminfo_find_proc(vi, "big", &big))
		die("no process big", 0);
	for (int r = 0; r < reps; r++) {
		struct vmi_region *rg;
		size_t n;
		double t0 = now_ns();
		if (vminfo_regions(vi, big.endpoint, &rg, &n) || n != regions)
			die("vminfo_regions", (int)n);
		v[r] = (now_ns() - t0) / 1e6;
		free(rg);
	}
	snprintf(what, sizeof(what), "regions of a %u-region process, round trip", regions);
	row(what, summarize(v, reps), "-", (struct stat3){ 0, 0, 0 }, "ms", 0);
	vminfo_close(vi);
	stop_server();
}

/* The VM_SANITY build's slowdown on the model test: the same run (seed
 * 1, every call checked) of the plain and the VM_SANITY build's model
 * binaries (bench/run.sh builds both), wall ms. */
static struct stat3 model_run(const char *model)
{
	double v[64];
	char elf[PATH_MAX + 64], dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", model);
	snprintf(elf, sizeof(elf), "%s/../scenarios-exec/hello.elf", dirname(dir));
	const char *ops = quick ? "4000" : "20000";
	for (int r = 0; r < reps; r++) {
		double t0 = now_ns();
		pid_t pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			execl(model, model, "--seed", "1", "--ops", ops, "--every-call", "--elf",
			      elf, (char *)NULL);
			_exit(127);
		}
		int st;
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die(model, st);
		v[r] = (now_ns() - t0) / 1e6;
	}
	return summarize(v, reps);
}

/* VM's objects: the bytes of slab objects in use (not the slab pages
 * they sit in), and the page tables' bytes. */
static void vm_meta(double *objects, double *tables)
{
	static uint8_t buf[HOSTED_INFO_BUFLEN];
	struct vmi_request req;
	struct vmi_stats st;
	uint32_t len;

	memset(&req, 0, sizeof(req));
	if (hosted_info(VMI_STATS, &req, &st, &len))
		die("info stats", 0);
	*tables = (double)st.pages_pagetables * PAGE;
	*objects = 0;
	for (;;) {
		if (hosted_info(VMI_SLAB, &req, buf, &len))
			die("info slab", 0);
		const struct vmi_list *l = (const void *)buf;
		const struct vmi_slab *e = (const void *)(l + 1);
		for (uint32_t i = 0; i < l->count; i++)
			*objects += (double)e[i].inuse * e[i].size;
		if (!l->more)
			break;
		req.cursor = l->next;
	}
}

/* VM's metadata per resident page (objects and page tables), and for a
 * 1 GiB region with one page touched (objects; page tables apart). */
static void metadata(double *per_page, double *sparse_obj, double *sparse_pt)
{
	double o0, t0, o1, t1;
	endpoint_t ep;
	uint32_t a, pages = 16384;

	boot(128);
	if (hosted_spawn("bench", false, &ep))
		die("spawn", 0);
	vm_meta(&o0, &t0); /* from here on: what the pages cost */
	if (vm_mmap(ep, pages * PAGE, 0, &a))
		die("mmap", 0);
	touch(ep, a, pages);
	vm_meta(&o1, &t1);
	*per_page = (o1 - o0 + t1 - t0) / pages;
	hosted_halt();

	boot(64);
	if (hosted_spawn("bench", false, &ep))
		die("spawn", 0);
	vm_meta(&o0, &t0);
	if (vm_mmap(ep, 1u << 30, 0, &a))
		die("mmap 1G", 0);
	touch(ep, a, 1);
	vm_meta(&o1, &t1);
	*sparse_obj = o1 - o0;
	*sparse_pt = t1 - t0;
	hosted_halt();
}

/* Whether --only asks for group g (no --only: every group). */
static bool want(const char *g)
{
	if (only == NULL)
		return true;
	size_t n = strlen(g);
	for (const char *p = only; (p = strstr(p, g)) != NULL; p += n)
		if ((p == only || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
			return true;
	return false;
}

static struct stat3 one(double x)
{
	return (struct stat3){ x, x, x };
}

static const char *const groups[] = { "floors", "fault",  "cow",   "fork",     "mmap",   "safecopy",
				      "info",   "client", "check", "metadata", "sanity", NULL };

static int usage(void)
{
	fprintf(stderr, "usage: vmbench [--reps N] [--quick] [--json] [--only GROUP,...]\n"
			"               [--sanity-model PLAIN_MODEL SANITY_MODEL]\n"
			"groups:");
	for (int i = 0; groups[i]; i++)
		fprintf(stderr, " %s", groups[i]);
	fprintf(stderr, "\n");
	return 2;
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
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else if (!strcmp(argv[i], "--sanity-model") && i + 2 < argc) {
			model_plain = argv[++i];
			model_sanity = argv[++i];
		} else {
			return usage();
		}
	}
	if (only) {
		for (char *o = strdup(only), *t = strtok(o, ","); t; t = strtok(NULL, ",")) {
			int k = 0;
			while (groups[k] && strcmp(groups[k], t))
				k++;
			if (groups[k] == NULL) {
				fprintf(stderr, "vmbench: no group %s\n", t);
				return usage();
			}
		}
	}
	struct stat3 set = { 0, 0, 0 }, cpy = set, cset = set, ccpy = set, zero = set;
	uint32_t n = quick ? 2048 : 16384;
	if (want("floors") || want("fault") || want("cow")) {
		floors(&set, &cpy);
		cold_floors(n, &cset, &ccpy);
		row("memset of a 4 KB page (floor)", set, "-", zero, "ns", 0);
		row("memcpy of a 4 KB page (floor)", cpy, "-", zero, "ns", 0);
		row("memset of a 4 KB page, cold (floor)", cset, "-", zero, "ns", 0);
		row("memcpy of a 4 KB page, cold (floor)", ccpy, "-", zero, "ns", 0);
	}

	if (want("fault")) {
		struct stat3 vf = vm_fault(n), lf = linux_fault(n);
		row("anonymous first-touch fault, per page", vf, "Linux", lf, "ns", 0);
		row("anonymous fault against the memset floor", vf, "memset", set, "ns", 2);
		row("anonymous fault against the cold memset", vf, "cold set", cset, "ns", 2);
	}
	if (want("cow")) {
		struct stat3 vc = vm_cow(n), lc = linux_cow(n);
		row("copy-on-write break after fork, per page", vc, "Linux", lc, "ns", 0);
		row("copy-on-write break against the memcpy floor", vc, "memcpy", cpy, "ns", 2);
		row("copy-on-write break against the cold memcpy", vc, "cold cpy", ccpy, "ns", 2);
	}
	uint32_t forks[] = { 1024, quick ? 8192 : 65536 };
	for (int i = 0; i < 2 && want("fork"); i++) {
		char what[64];
		snprintf(what, sizeof(what), "fork+exit, per resident page (N=%u)", forks[i]);
		row(what, vm_fork(forks[i]), "Linux", linux_fork(forks[i]), "ns", 0.5);
	}
	uint32_t regs[] = { 10, 1000, quick ? 10000 : 100000 };
	struct stat3 m10 = zero;
	for (int i = 0; i < 3 && want("mmap"); i++) {
		char what[64];
		snprintf(what, sizeof(what), "mmap+munmap of a page, %u regions", regs[i]);
		struct stat3 vm = vm_mmap_ops(regs[i]);
		if (i == 0)
			m10 = vm;
		if (regs[i] < 60000)
			row(what, vm, "Linux", linux_mmap_ops(regs[i]), "ns", 0.1);
		else /* Linux's max_map_count is 65,530 */
			row(what, vm, "10 reg.", m10, "ns", 2);
	}
	if (want("safecopy"))
		safecopy_rows();
	if (want("info")) {
		uint32_t procs = quick ? 100 : 1000, regions = quick ? 10000 : 100000;
		row("debug call stats, VM's side", vm_info_stats(), "2 us", one(2000), "ns", 1);
		char what[64];
		snprintf(what, sizeof(what), "usage of %u processes, VM's side", procs);
		row(what, vm_info_usage(procs), "1 ms", one(1e6), "ns", 1);
		snprintf(what, sizeof(what), "regions of a %u-region process, VM's side", regions);
		row(what, vm_info_regions(regions), "-", zero, "ms", 0);
	}
	if (want("client"))
		roundtrip_rows();
	if (want("check"))
		row("full consistency check, per GiB", vm_check_gib(), "50 ms", one(50), "ms", 1);
	if (want("metadata")) {
		double pp, so, sp;
		metadata(&pp, &so, &sp);
		row("metadata per resident page", one(pp), "32 B", one(32), "B", 1);
		row("metadata, sparse 1 GiB region: VM's objects", one(so), "1 KiB", one(1024), "B",
		    1);
		row("metadata, sparse 1 GiB region: page tables", one(sp), "-", zero, "B", 0);
	}
	if (want("sanity")) {
		if (model_plain == NULL) {
			if (only) /* asked for, and cannot: say so */
				fprintf(stderr, "vmbench: the sanity figure needs --sanity-model "
						"(bench/run.sh gives it)\n");
		} else {
			struct stat3 p = model_run(model_plain), q = model_run(model_sanity);
			row("model test, plain build", p, "-", zero, "ms", 0);
			row("model test, VM_SANITY build (slowdown)", q, "plain", p, "ms", 3);
		}
	}
	if (json)
		printf("%s]\n", nrows ? "" : "[");
	return 0;
}
