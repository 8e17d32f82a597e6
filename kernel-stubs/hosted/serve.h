/*
 * `vm serve`: the hosted machine running a workload while it serves the
 * debug call (docs/debug-call.md) on a Unix socket (docs/serve.md).
 */
#ifndef HOSTED_SERVE_H
#define HOSTED_SERVE_H

/*
 * Run `vm serve` with argv[0..argc) the words after "serve":
 *
 *   vm serve [--mem SIZE] [--socket PATH] [--workload demo|FILE]
 *            [--seconds N] [--seed N] [--tick MS] [--sanity-every-call]
 *
 * Boots the machine, starts the workload, and serves until SIGINT,
 * SIGTERM or SIGHUP (or N seconds), then closes every client, removes the
 * socket, halts the machine and returns 0. Returns 1 when it cannot serve (the
 * socket is in use by a live server or is not a socket, the machine does
 * not boot, a scenario workload leaves no machine), 2 for a usage error.
 * Installs handlers for SIGINT, SIGTERM and SIGHUP and ignores SIGPIPE.
 */
int serve_main(int argc, char **argv);

#endif
