/*
 * The demo workload of `vm serve`: a small simulated system that keeps the
 * hosted machine busy forever with a changing mix of processes, so that
 * vmtop and vmstat have something worth watching (docs/serve.md).
 *
 * It is a state machine advanced one small step at a time by the server's
 * timer; a step never blocks and makes a bounded number of VM calls and
 * memory accesses. Everything it creates it also destroys, so it runs on
 * a 64 MB machine indefinitely; VM running out of memory is expected now
 * and then and only makes an actor give up or try again later. The
 * machine is single-threaded: call these only from the thread that owns
 * it, between other uses of it.
 */
#ifndef HOSTED_WORKLOAD_H
#define HOSTED_WORKLOAD_H

#include <stdint.h>

struct workload;

struct workload_opts {
	uint64_t seed;          /* the PRNG's seed: a run is reproducible step by step */
	const char *exec_image; /* i386 ELF the shell's children exec; NULL: search */
	uint32_t sanity_every;  /* steps between consistency checks (0: never) */
	/* Steps of a cycle (0: no cycles, the demo runs on and on). After
	 * cycle_steps steps every process the demo made exits and nothing runs
	 * for WORKLOAD_REST_STEPS steps (no process alive: the machine as
	 * after boot, which a client sees as nprocs 0); then it starts anew. */
	uint32_t cycle_steps;
};

#define WORKLOAD_REST_STEPS 50

/* What the workload has done so far (for its log lines and tests). */
struct workload_counts {
	uint64_t steps;
	uint64_t spawns, forks, execs, exits;
	uint64_t enomem;     /* operations VM refused for lack of memory */
	uint64_t errors;     /* other refusals (each logged on stderr) */
	uint64_t mismatches; /* data read back that differed from what was written */
	uint64_t sanity_runs, sanity_findings;
	uint64_t cycles; /* cycles ended (with cycle_steps) */
};

/*
 * Start the demo on the booted hosted machine: the long-lived processes
 * (shell, file server, shared-memory pair, driver) are created on the
 * first steps. The executable for the shell's children is o->exec_image,
 * else $VMSCOPE_DEMO_ELF, else hello.elf beside the binary or in
 * tests/scenarios-exec/ under its directory (a build tree); without one the
 * children only map memory. Returns 0 with *out set, or ENOMEM (host
 * memory). Messages go to stderr, prefixed "vm serve: ".
 */
int workload_start(const struct workload_opts *o, struct workload **out);

/* Advance the workload by one small step. */
void workload_step(struct workload *w);

/* The counters since workload_start. */
struct workload_counts workload_counts(const struct workload *w);

/* Stop: every process the workload created exits and its host memory is
 * freed. w may be NULL. Call before halting the machine. */
void workload_stop(struct workload *w);

#endif
