/* Death tests (see death.h). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "death.h"

void run_in_child(void (*fn)(void *), void *arg, struct death *d)
{
	int fds[2];

	memset(d, 0, sizeof(*d));
	fflush(stdout);
	fflush(stderr);
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit nocore = { 0, 0 };
		setrlimit(RLIMIT_CORE, &nocore); /* the abort is expected: no core file */
		signal(SIGABRT, SIG_DFL);
		close(fds[0]);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		fn(arg);
		printf("(the call returned)\n");
		fflush(stdout);
		_exit(0); /* survived: the parent reports it */
	}
	close(fds[1]);
	size_t got = 0;
	ssize_t r;
	while ((r = read(fds[0], d->out + got, sizeof(d->out) - 1 - got)) > 0)
		got += (size_t)r;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &d->status, 0), pid);
}

void assert_panicked(const struct death *d, const char *what)
{
	if (!WIFSIGNALED(d->status) || WTERMSIG(d->status) != SIGABRT)
		fail_msg("expected a panic (SIGABRT), child %s %d; it printed: %s",
			 WIFSIGNALED(d->status) ? "died of signal" : "exited with",
			 WIFSIGNALED(d->status) ? WTERMSIG(d->status) : WEXITSTATUS(d->status),
			 d->out);
	if (strstr(d->out, "VM: panic") == NULL || strstr(d->out, what) == NULL)
		fail_msg("panic message lacks \"%s\": %s", what, d->out);
}
