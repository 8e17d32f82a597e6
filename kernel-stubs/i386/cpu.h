/*
 * The processor: segments (GDT with ring 0 and ring 3 segments and a TSS,
 * so that ring 3 can come later), the exception table, and leaving QEMU
 * through its isa-debug-exit device.
 */
#ifndef I386_CPU_H
#define I386_CPU_H

#include <stdint.h>

/* What trap_entry (boot.S) leaves on the stack: pusha's registers, the
 * vector and error code, and the CPU's frame (ring 0: no ESP/SS). */
struct trapframe {
	uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
	uint32_t vector, err;
	uint32_t eip, cs, eflags;
};

/* Exit codes written to isa-debug-exit (port 0xf4); QEMU exits with
 * (code << 1) | 1, so 33, 35, 37 and 39. scripts/qemu maps them back. */
enum kexit {
	KEXIT_PASSED = 0x10, /* every scenario passed (vm run's 0) */
	KEXIT_FAILED = 0x11, /* a check failed (1) */
	KEXIT_ERROR = 0x12,  /* a scenario could not run (2) */
	KEXIT_PANIC = 0x13,  /* the kernel or VM stopped (a crash) */
};

/* Load the GDT, TSS and IDT. Interrupts stay off: the kernel only polls. */
void cpu_init(void);

/* Point interrupt gate vector at handler, callable from ring dpl (3: the
 * system-call gate). For ring-3 processes (proc.c). */
void cpu_set_gate(int vector, uint32_t handler, int dpl);

/* Leave QEMU with code; does not return. */
_Noreturn void cpu_exit(enum kexit code);

/* Print "panic: " and the message on the console and leave QEMU with
 * KEXIT_PANIC. */
_Noreturn void kpanic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Called from boot.S for every exception. */
void trap(struct trapframe *tf);

#endif
