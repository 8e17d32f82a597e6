/*
 * Ring-3 processes (boot-time programs): the kernel command line's
 * init=NAME boots VM, spawns init from the module NAME and runs it in
 * ring 3; it forks, execs and maps through system calls (syscall.c).
 * The scheduler runs a process until it blocks or ends (interrupts stay
 * off: no preemption), then the next runnable one in slot order.
 */
#ifndef I386_PROC_H
#define I386_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vmscope/types.h>

#include "machine.h"

struct mb_module;

/* What userentry.S saves on the kernel stack: the data segments, pusha's
 * registers, vector and error code, and the CPU's frame (ESP and SS only
 * from ring 3). From edi on it is boot.S's struct trapframe. */
struct uframe {
	uint32_t gs, fs, es, ds;
	uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
	uint32_t vector, err;
	uint32_t eip, cs, eflags;
	uint32_t esp, ss;
};

enum ustate { US_FREE, US_RUNNABLE, US_WAITING, US_ZOMBIE };

struct uproc {
	enum ustate state;
	int pid, ppid;
	endpoint_t ep;         /* the machine's and VM's process (until it ends) */
	struct uframe frame;   /* the registers while it is not running */
	int status;            /* US_ZOMBIE: what wait returns (sysnr.h) */
	vir_bytes wait_status; /* US_WAITING: where wait puts the status */
};

/* The init=NAME word of the kernel command line cmdline: NAME copied to
 * name (size bytes), or false when there is none. */
bool proc_init_requested(const char *cmdline, char *name, size_t size);

/* Boot VM on mem_bytes, spawn init, exec module name in it and run it
 * and its descendants in ring 3 until every process has ended; then
 * leave QEMU: KEXIT_PASSED when init exited 0, KEXIT_FAILED otherwise,
 * KEXIT_ERROR when init could not start. Does not return. */
_Noreturn void proc_run_init(const char *name, uint32_t mem_bytes);

/* The running process. */
struct uproc *proc_current(void);

/* A new process record with a fresh pid and parent ppid for endpoint ep,
 * runnable with frame f; NULL when the table is full. */
struct uproc *proc_new(endpoint_t ep, int ppid, const struct uframe *f);

/* The multiboot module called name (path or name), or NULL. */
const struct mb_module *proc_module(const char *name);

/* Point p's frame at the start of a freshly exec'd image. */
void proc_start_frame(struct uframe *f, vir_bytes entry, vir_bytes stack_top);

/* p ends with wait status status (its VM process already gone or not):
 * its children go to init, its parent is told or it waits as a zombie. */
void proc_end(struct uproc *p, int status);

/* The running process gives way: the next runnable one runs (it, if
 * there is no other). */
void proc_yield(void);

/* The kernel ends p with signal sig (printed with why and addr). */
void proc_kill(struct uproc *p, int sig, const char *why, uint32_t addr);

/* p waits for a child: 0 when one had ended already (reaped, p's EAX
 * set), -ECHILD when it has none, 1 when p now blocks. */
int proc_wait(struct uproc *p, vir_bytes status_addr);

#endif
