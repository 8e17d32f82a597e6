/*
 * Death tests for the unit tests: run code in a forked child that must die
 * of SIGABRT (VM's panic), and check what it printed.
 */
#ifndef TESTS_DEATH_H
#define TESTS_DEATH_H

struct death {
	int status;
	char out[2048]; /* what the child printed (VM prints panics on stdout) */
};

/* Run fn(arg) in a child (no core file; its output captured in d). */
void run_in_child(void (*fn)(void *), void *arg, struct death *d);

/* The child died of SIGABRT and printed "VM: panic" and what. */
void assert_panicked(const struct death *d, const char *what);

#endif
