/*
 * The first ring-3 process (scripts/qemu --init build/user/init.elf):
 * it checks, through the system calls, what VM does for real processes
 * on the i386 machine and prints one line per check, "ok: WHAT" or
 * "FAIL: WHAT (detail)", then "init: N checks, M failed", and exits 0
 * when all passed. tests/qemu/test_ring3.py reads these lines.
 */
#include "ulib.h"

#define PAGE 4096
#define NCHILDREN 5

static int checks, failures;
static int cow_var = 1; /* .data: private, copy-on-write after fork */

static void check(const char *what, int ok, int detail)
{
	checks++;
	if (ok) {
		printf("ok: %s\n", what);
	} else {
		failures++;
		printf("FAIL: %s (%d)\n", what, detail);
	}
}

/* Fork a child that runs fn and exits with its result; the child's wait
 * status, or -1000 + the errno of fork or wait. */
static int run_child(int (*fn)(void *), void *arg)
{
	int pid = fork(), status = -1;
	if (pid < 0)
		return -1000 + pid;
	if (pid == 0)
		exit(fn(arg));
	int w = wait(&status);
	return w == pid ? status : -1000 + w;
}

static int child_cow(void *arg)
{
	char *page = arg;
	int saw = cow_var == 1 && page[0] == 'P';
	cow_var = 2;
	page[0] = 'C';
	return saw && cow_var == 2 && page[0] == 'C' ? 0 : 1;
}

static int child_shared(void *arg)
{
	char *page = arg;
	int saw = memcmp(page, "parent", 7) == 0;
	page[0] = 'c', page[1] = 'h', page[2] = 'i', page[3] = 'l', page[4] = 'd', page[5] = 0;
	return saw ? 0 : 1;
}

static int child_exec(void *arg)
{
	int r = exec(arg);
	printf("init: exec %s returned %d\n", (const char *)arg, r);
	return 100;
}

static int child_touch_unmapped(void *arg)
{
	volatile char *p = arg;
	*p = 1; /* VM refuses: no region */
	return 0;
}

static int child_write_text(void *arg)
{
	*(volatile char *)arg = 0; /* text is read-only */
	return 0;
}

static int child_work(void *arg)
{
	int n = (int)(intptr_t)arg;
	char *m = mmap(0, (size_t)n * PAGE, VM_PROT_READ | VM_PROT_WRITE, 0);
	if (mmap_failed(m))
		return 99;
	for (int i = 0; i < n; i++)
		m[i * PAGE] = (char)i;
	for (int i = 0; i < n; i++)
		if (m[i * PAGE] != (char)i)
			return 98;
	return n; /* exit without munmap: exit frees it */
}

int main(void)
{
	printf("init: pid %d, running in ring 3\n", getpid());
	check("getpid", getpid() == 1, getpid());

	/* mmap, touch every page (each a page fault VM resolves), munmap. */
	char *m = mmap(0, 3 * PAGE, VM_PROT_READ | VM_PROT_WRITE, 0);
	int ok = !mmap_failed(m);
	for (int i = 0; ok && i < 3 * PAGE; i += 512)
		m[i] = (char)(i / 512);
	for (int i = 0; ok && i < 3 * PAGE; i += 512)
		ok = m[i] == (char)(i / 512);
	check("mmap touch", ok, (int)(intptr_t)m);
	check("munmap", munmap(m, 3 * PAGE) == 0, 0);
	int st = run_child(child_touch_unmapped, m);
	check("touch after munmap kills (SIGSEGV)", st == 128 + 11, st);

	/* brk */
	intptr_t cur = brk(0), grown = brk((char *)cur + 2 * PAGE);
	ok = cur > 0 && grown == cur + 2 * PAGE;
	for (int i = 0; ok && i < 2 * PAGE; i += 1024)
		((char *)cur)[i] = 'b';
	check("brk", ok && ((char *)cur)[2 * PAGE - 1024] == 'b', (int)grown);

	/* Copy-on-write after fork: the child's writes stay its own. */
	char *priv = mmap(0, PAGE, VM_PROT_READ | VM_PROT_WRITE, 0);
	priv[0] = 'P';
	st = run_child(child_cow, priv);
	check("cow", st == 0 && cow_var == 1 && priv[0] == 'P', st);

	/* MAP_SHARED stays shared across fork. */
	char *shm = mmap(0, PAGE, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_SHARED);
	memset(shm, 0, 16);
	shm[0] = 'p', shm[1] = 'a', shm[2] = 'r', shm[3] = 'e', shm[4] = 'n', shm[5] = 't';
	st = run_child(child_shared, shm);
	check("shared", st == 0 && memcmp(shm, "child", 6) == 0, st);

	/* exec in a child, and its exit status. */
	st = run_child(child_exec, "greet.elf");
	check("exec", st == 42, st);
	check("exec of no module is ENOENT", exec("no-such-program") == -ENOENT, 0);
	check("exec of a non-executable is ENOEXEC", exec("notelf.txt") == -ENOEXEC, 0);

	/* The kernel ends a process whose fault VM refuses. */
	st = run_child(child_write_text, (void *)main);
	check("write to text kills (SIGSEGV)", st == 128 + 11, st);

	/* Several children at once, each with its own memory. */
	int sum = 0, reaped = 0, want = 0;
	for (int i = 1; i <= NCHILDREN; i++) {
		want += i;
		int pid = fork();
		if (pid == 0)
			exit(child_work((void *)(intptr_t)i));
	}
	for (;;) {
		int status, pid = wait(&status);
		if (pid < 0)
			break;
		reaped++;
		sum += status;
	}
	check("fork x5, wait for all", reaped == NCHILDREN && sum == want, sum);
	check("wait without children is ECHILD", wait(0) == -ECHILD, 0);

	printf("init: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
