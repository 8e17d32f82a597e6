/*
 * The scenario runner (format: docs/scenario-format.md, contract:
 * shared/specs/scenario.md). It is machine-independent: it drives
 * processes and VM only through struct scn_machine, which the hosted
 * machine and the i386 kernel each implement. It uses no host library
 * beyond the freestanding headers and string.h, so the i386 kernel links it
 * as it is.
 */
#ifndef SCENARIO_H
#define SCENARIO_H

#include <stddef.h>
#include <vmscope/ipc.h>
#include <vmscope/types.h>

/* Result of scn_run: the exit status of `vm run` for one file. */
enum scn_status {
	SCN_PASSED = 0, /* every check passed */
	SCN_FAILED = 1, /* a check failed */
	SCN_ERROR = 2,  /* the scenario could not run */
};

struct scn_machine {
	void *ctx;
	/* Start a fresh machine with mem_bytes of memory, VM booted. Returns
	 * 0 or an errno (e.g. EINVAL for a size the machine cannot have). */
	int (*boot)(void *ctx, uint32_t mem_bytes);
	/* Stop the machine started by boot. */
	void (*halt)(void *ctx);
	/* New process with an empty address space (VM gets VM_SPAWN from the
	 * kernel). Returns 0 or an errno. */
	int (*spawn)(void *ctx, const char *name, int priv, endpoint_t *ep);
	/* Child becomes a copy of parent (VM gets VM_FORK). 0 or errno. */
	int (*fork)(void *ctx, endpoint_t parent, const char *name, endpoint_t *child);
	/* Replace ep's memory with the i386 ELF executable image[0..len).
	 * Returns 0 or an errno: ENOEXEC (not an executable this machine
	 * runs; nothing changed), ENOMEM (out of memory). When the old image
	 * was already gone at the failure, the machine has made the process
	 * exit and sets *killed (the name is no longer alive). */
	int (*exec)(void *ctx, endpoint_t ep, const void *image, size_t len, int *killed);
	/* The process exits (VM gets VM_EXIT). 0 or errno. */
	int (*exit)(void *ctx, endpoint_t ep);
	/* Deliver *m to VM as sent by m->m_source (a process, or KERNEL for
	 * kernel-only calls) and wait: the reply replaces *m. Returns the
	 * reply's m_type (0 or an errno). */
	int (*call)(void *ctx, message *m);
	/* ep loads (write == 0) or stores len bytes at vaddr through its page
	 * tables, page faults going to VM as on hardware. Returns 0, EFAULT
	 * when the access is refused (the process would get SIGSEGV; it
	 * survives), or ENOMEM when VM could not resolve a fault for lack of
	 * memory. */
	int (*access)(void *ctx, endpoint_t ep, vir_bytes vaddr, void *buf, size_t len, int write);
	/* Physical address behind vaddr in ep (EFAULT if not present). */
	int (*umap)(void *ctx, endpoint_t ep, vir_bytes vaddr, phys_bytes *pa);
	/* Read file path (relative to the scenario file's directory is the
	 * caller's job) into a buffer the machine owns until the next call;
	 * ENOENT if missing. NULL if the machine has no files. */
	int (*readfile)(void *ctx, const char *path, const void **data, size_t *len);
	/* Print text (no newline added). */
	void (*print)(void *ctx, const char *text);
};

/* Run the scenario named name whose text is text[0..len). Prints failed
 * checks, errors and the final `N passed, M failed` line through m->print.
 * Boots the machine before the first command (after `mem`), exits every
 * process left at the end, runs VM's consistency check, and halts it. */
enum scn_status scn_run(const struct scn_machine *m, const char *name, const char *text,
			size_t len);

/* scn_run with flags: SCN_KEEP leaves the machine as the scenario left it
 * (no exits, no final check, no halt), for a server that goes on with the
 * scenario as its workload. */
#define SCN_KEEP 0x1
enum scn_status scn_run_opts(const struct scn_machine *m, const char *name, const char *text,
			     size_t len, unsigned flags);

/* Called by the `checkpoint NAME` command, and nothing else: a debugger
 * breaks here to look at the machine as the scenario left it. */
void scn_checkpoint(const char *name);

#endif
