/*
 * VM's entry points: the only part of vm/ a machine (kernel-stubs/) calls.
 */
#ifndef VM_VM_H
#define VM_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <vmscope/ipc.h>

/* Who may make a call, as VM's dispatch table declares it (docs/calls.md). */
enum vm_caller_class {
	VM_CALLER_NONE = 0, /* not declared: refused to everyone (EPERM) */
	VM_CALLER_PROC,     /* any live process, about itself (m_source) */
	VM_CALLER_KERNEL,   /* only the kernel (m_source == KERNEL) */
};

/* The dispatch table, for tests: the name of call number nr and its
 * caller class; NULL and VM_CALLER_NONE when VM serves no such call. */
const char *vm_call_name(int nr);
enum vm_caller_class vm_call_class(int nr);

/* Boot VM on the machine described by sys_getkinfo(): set up the physical
 * allocator, the slab and the process table. Also resets every bit of VM's
 * state, so a machine may boot VM again. Returns VM_OK or an errno. */
int vm_init(void);

/* Handle one message. Returns true when *m now holds the reply, false when
 * the call gets no reply (a page fault: VM answers it through sys_vmctl or
 * sys_kill, as MINIX's VM does). */
bool vm_handle(message *m);

/* Fault injection for tests: make the nth memory allocation VM makes from
 * now on (a frame or a slab object) fail as if memory were exhausted, and
 * every later one succeed; 0 turns it off. Returns the number of
 * allocations made since the last call. */
unsigned long vm_fail_nth_alloc(unsigned long n);

/* The allocating line ("vm/region.c:123") of the allocation the injection
 * made fail, or NULL when none has failed since vm_fail_nth_alloc. */
const char *vm_fail_site(void);

/* Leak injection, for trying the sanity check (docs/chasing-leaks.md):
 * the nth frame free VM makes from now on is not done, and the frame is
 * owned by nobody; 0 turns it off. Returns the frees made since the last
 * call. */
unsigned long vm_leak_nth_free(unsigned long n);

/* Run the full consistency check after every n-th call (1: every call,
 * 0: never). Findings are printed and counted (the debug call's sanity
 * record); with stop, VM stops at the first finding through sys_abort (a
 * core dump on the hosted machine). */
void vm_set_sanity(uint32_t every, bool stop);

/* Findings of every consistency check since boot. */
uint64_t vm_sanity_findings(void);

/* A write to read-only memory at physical address p faulted (VM_SANITY
 * build: a locked slab object). Print the report, naming code as the
 * faulting code, and return true; false when p is no locked memory of
 * VM's. The machine then stops VM. */
bool vm_locked_write(phys_bytes p, const char *code);

#endif
