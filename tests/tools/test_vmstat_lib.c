/*
 * Unit tests for libvminfo (lib/vminfo.h), the API vmstat and vmtop use:
 * against the fake server of test_vmstat_fakeserver.py (its canned machine
 * is described there), each case with a server of its own in the mode it
 * needs.
 *
 *   test_vmstat_lib PATH/test_vmstat_fakeserver.py
 */
#define _DEFAULT_SOURCE /* mkdtemp, setenv, usleep, kill */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vmscope/callnr.h>

#include "vminfo.h"

static const char *fakeserver;

struct fake {
	pid_t pid;
	char dir[64];
	char path[128];
};

/* Whether something accepts connections at path. */
static bool listening(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	bool ok;

	if (len >= sizeof(sa.sun_path))
		return false;
	memcpy(sa.sun_path, path, len + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Starts the fake server in mode on a socket in a fresh directory. */
static void fake_start(struct fake *f, const char *mode)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/vminfo-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/vm.sock", f->dir);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		/* Its greeting would only clutter the test's output. */
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execlp("python3", "python3", fakeserver, "--socket", f->path, "--mode", mode,
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !listening(f->path); i++)
		usleep(25000);
	assert_true(listening(f->path));
}

static void fake_stop(struct fake *f)
{
	kill(f->pid, SIGTERM);
	waitpid(f->pid, NULL, 0);
	unlink(f->path);
	rmdir(f->dir);
}

static struct vminfo *open_ok(struct fake *f)
{
	struct vminfo_error err;
	struct vminfo *vi = vminfo_open(f->path, 2000, &err);

	if (vi == NULL)
		fail_msg("vminfo_open: %s", vminfo_strerror(&err));
	return vi;
}

static void test_default_path(void **state)
{
	char buf[128], want[64];

	(void)state;
	unsetenv("VMSCOPE_SOCKET");
	setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
	assert_int_equal(vminfo_default_path(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/user/7/vmscope.sock");
	/* Too small for it: refused, not cut. */
	assert_int_equal(vminfo_default_path(buf, 10), -1);
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	snprintf(want, sizeof(want), "/tmp/vmscope-%u.sock", (unsigned)getuid());
	assert_int_equal(vminfo_default_path(buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	unsetenv("XDG_RUNTIME_DIR");
	assert_int_equal(vminfo_default_path(buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	setenv("VMSCOPE_SOCKET", "/x/y.sock", 1);
	assert_int_equal(vminfo_default_path(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/x/y.sock");
	unsetenv("VMSCOPE_SOCKET");
}

static void test_names(void **state)
{
	char mode[5], flags[64];

	(void)state;
	assert_string_equal(vminfo_callname(VM_MMAP - VM_RQ_BASE), "mmap");
	assert_string_equal(vminfo_callname(VM_INFO - VM_RQ_BASE), "info");
	assert_string_equal(vminfo_callname(VM_DS_CHECK - VM_RQ_BASE), "ds_check");
	assert_null(vminfo_callname(0));
	assert_null(vminfo_callname(14));
	assert_null(vminfo_callname(VMI_NCALLS));
	assert_string_equal(vminfo_memtype_name(1), "anon");
	assert_string_equal(vminfo_memtype_name(5), "cache");
	assert_null(vminfo_memtype_name(0));
	assert_null(vminfo_memtype_name(6));
	assert_string_equal(vminfo_region_mode(0x013, mode), "rw-s");
	assert_string_equal(vminfo_region_mode(0x005, mode), "r-xp");
	assert_string_equal(vminfo_region_flags(0x003, flags, sizeof(flags)), "");
	assert_string_equal(vminfo_region_flags(0x3c3, flags, sizeof(flags)),
			    "heap,prealloc,contig,lower16m");
	assert_string_equal(vminfo_region_flags(0x1423, flags, sizeof(flags)),
			    "uninit,safemap,0x1000");
	/* A buffer too small keeps the names that fit, whole. */
	assert_string_equal(vminfo_region_flags(0x300, flags, 14), "heap,prealloc");
	assert_string_equal(vminfo_region_flags(0x300, flags, 13), "heap");
}

static void test_lists(void **state)
{
	struct fake f;
	struct vminfo *vi;
	struct vmi_proc *procs;
	struct vmi_region *regs;
	struct vmi_page *pages;
	struct vmi_slab *slab;
	struct vmi_grant *grants;
	size_t n;

	(void)state;
	fake_start(&f, "normal");
	vi = open_ok(&f);
	assert_int_equal(vminfo_page_size(vi), 4096);
	assert_int_equal(vminfo_last_error(vi)->code, VMINFO_OK);

	/* Four processes, in two replies. */
	assert_int_equal(vminfo_procs(vi, &procs, &n), VMINFO_OK);
	assert_int_equal(n, 4);
	assert_int_equal(procs[1].endpoint, 1025);
	assert_memory_equal(procs[1].name, "A\0", 2);
	assert_int_equal(procs[1].brk, 0x20008000);
	assert_int_equal(procs[3].grants, 1);
	free(procs);

	/* Two regions, one per reply, in entries bigger than we know. */
	assert_int_equal(vminfo_regions(vi, 1025, &regs, &n), VMINFO_OK);
	assert_int_equal(n, 2);
	assert_int_equal(regs[0].start, 0x20000000);
	assert_int_equal(regs[0].grant, 0);
	assert_int_equal(regs[1].start, 0x30000000);
	assert_int_equal(regs[1].memtype, 4);
	free(regs);
	/* A process with no regions: an empty list, not an error. */
	assert_int_equal(vminfo_regions(vi, 1026, &regs, &n), VMINFO_OK);
	assert_int_equal(n, 0);
	assert_null(regs);

	assert_int_equal(vminfo_pages(vi, 1025, 0x20003000, &pages, &n), VMINFO_OK);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pages[i].phys, 0x400000 + 4096 * i);
	assert_int_equal(pages[4].refcount, 1);
	free(pages);

	assert_int_equal(vminfo_slab(vi, &slab, &n), VMINFO_OK);
	assert_int_equal(n, 3);
	assert_int_equal(slab[2].size, 256);
	free(slab);

	assert_int_equal(vminfo_grants(vi, 1027, &grants, &n), VMINFO_OK);
	assert_int_equal(n, 2);
	assert_int_equal(grants[0].grantee, -3);
	assert_int_equal(grants[1].granter, 1025);
	free(grants);
	vminfo_close(vi);
	fake_stop(&f);
}

static void test_structs(void **state)
{
	struct fake f;
	struct vminfo *vi;
	struct vmi_stats st;
	struct vmi_cache c;
	struct vmi_sanity s;

	(void)state;
	fake_start(&f, "normal");
	vi = open_ok(&f);
	assert_int_equal(vminfo_stats(vi, &st), VMINFO_OK);
	assert_int_equal(st.pages_free, 3000);
	assert_int_equal(st.calls[VM_MMAP - VM_RQ_BASE], 50);
	assert_int_equal(st.calls[45], 2);
	assert_int_equal(vminfo_cache(vi, &c), VMINFO_OK);
	assert_int_equal(c.pages, 12);
	assert_int_equal(c.forgets, 2);
	assert_int_equal(vminfo_sanity(vi, VMINFO_SANITY_LAST, &s), VMINFO_OK);
	assert_int_equal(s.runs, 4);
	assert_int_equal(vminfo_sanity(vi, VMINFO_SANITY_RUN, &s), VMINFO_OK);
	assert_int_equal(s.runs, 5);
	assert_int_equal(s.last_call, 1234);
	vminfo_close(vi);
	fake_stop(&f);
}

static void test_processes(void **state)
{
	struct fake f;
	struct vminfo *vi;
	struct vmi_proc p;
	struct vmi_region *regs;
	struct vmi_page *pages;
	struct vmi_stats st;
	size_t n;

	(void)state;
	fake_start(&f, "normal");
	vi = open_ok(&f);
	assert_int_equal(vminfo_find_proc(vi, "A", &p), VMINFO_OK);
	assert_int_equal(p.endpoint, 1025);
	assert_int_equal(vminfo_find_proc(vi, "1024", &p), VMINFO_OK);
	assert_memory_equal(p.name, "init", 5);
	assert_int_equal(vminfo_find_proc(vi, "0x403", &p), VMINFO_OK);
	assert_int_equal(p.endpoint, 1027);
	assert_int_equal(vminfo_find_proc(vi, "sh", &p), VMINFO_EAMBIGUOUS);
	assert_string_equal(vminfo_strerror(vminfo_last_error(vi)),
			    "2 processes are called sh (endpoints 1026, 1027): give the endpoint");
	assert_int_equal(vminfo_find_proc(vi, "ghost", &p), VMINFO_ENOPROC);
	assert_string_equal(vminfo_strerror(vminfo_last_error(vi)), "no such process: ghost");
	assert_int_equal(vminfo_find_proc(vi, "1024x", &p), VMINFO_ENOPROC);

	/* VM's ESRCH for the endpoint becomes "no such process". */
	assert_int_equal(vminfo_regions(vi, 999, &regs, &n), VMINFO_ENOPROC);
	assert_string_equal(vminfo_strerror(vminfo_last_error(vi)), "no such process: 999");
	/* EINVAL for PAGES is the address, not the process: VM's answer. */
	assert_int_equal(vminfo_pages(vi, 1025, 0x50000000, &pages, &n), VMINFO_EVM);
	assert_int_equal(vminfo_last_error(vi)->vm_errno, EINVAL);
	assert_string_equal(vminfo_strerror(vminfo_last_error(vi)), "VM answered EINVAL to pages");
	/* An errno answer leaves the connection usable. */
	assert_int_equal(vminfo_stats(vi, &st), VMINFO_OK);
	assert_int_equal(vminfo_last_error(vi)->code, VMINFO_OK);
	vminfo_close(vi);
	fake_stop(&f);
}

static void test_open_errors(void **state)
{
	struct fake f;
	struct vminfo_error err;
	char path[200];

	(void)state;
	assert_null(vminfo_open("/nonexistent/vm.sock", 0, &err));
	assert_int_equal(err.code, VMINFO_ENOTRUNNING);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_string_equal(vminfo_strerror(&err), "VM is not running (no server at "
						   "/nonexistent/vm.sock: no such file or "
						   "directory)");
	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_null(vminfo_open(path, 0, &err));
	assert_int_equal(err.code, VMINFO_EINVAL);
	/* err may be NULL. */
	assert_null(vminfo_open("/nonexistent/vm.sock", 0, NULL));

	fake_start(&f, "version");
	assert_null(vminfo_open(f.path, 0, &err));
	assert_int_equal(err.code, VMINFO_EVERSION);
	assert_int_equal(err.server_version, 2);
	assert_string_equal(vminfo_strerror(&err),
			    "version mismatch: test_vmstat_lib speaks 1, the server speaks 2");
	fake_stop(&f);

	fake_start(&f, "badmagic");
	assert_null(vminfo_open(f.path, 0, &err));
	assert_int_equal(err.code, VMINFO_EPROTO);
	fake_stop(&f);

	vminfo_close(NULL);
	assert_string_equal(vminfo_strerror(NULL), "no error");
}

static void test_broken_connection(void **state)
{
	struct fake f;
	struct vminfo *vi;
	struct vmi_proc *procs;
	struct vmi_stats st;
	size_t n;

	(void)state;
	/* A malformed list closes the connection: later calls say so. */
	fake_start(&f, "cycle");
	vi = open_ok(&f);
	assert_int_equal(vminfo_procs(vi, &procs, &n), VMINFO_EPROTO);
	assert_int_equal(vminfo_stats(vi, &st), VMINFO_EIO);
	assert_non_null(
	    strstr(vminfo_strerror(vminfo_last_error(vi)), "closed after an earlier error"));
	vminfo_close(vi);
	fake_stop(&f);

	/* A server that stops answering: the deadline, not a hang. */
	fake_start(&f, "silent-after-hello");
	struct vminfo_error err;
	vi = vminfo_open(f.path, 200, &err);
	assert_non_null(vi);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vminfo_procs(vi, &procs, &n), VMINFO_EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(vminfo_last_error(vi)->sys_errno, ETIMEDOUT);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_null(procs);
	assert_int_equal(n, 0);
	vminfo_close(vi);
	fake_stop(&f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_structs),
		cmocka_unit_test(test_processes),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_broken_connection),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: test_vmstat_lib PATH/test_vmstat_fakeserver.py\n");
		return 2;
	}
	fakeserver = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
