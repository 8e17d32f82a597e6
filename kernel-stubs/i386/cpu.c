/*
 * Segments, exceptions and the way out of QEMU.
 *
 * Every exception but one is a kernel bug here: the registers go to the
 * console and QEMU exits with KEXIT_PANIC. The exception is a page fault
 * at uaccess_copy's copy instruction: that is the kernel touching a
 * process's memory, the fault is recorded for uaccess.c and the copy
 * returns -1, as a kernel's copyin/copyout does.
 */
#include "cpu.h"

#include <stdarg.h>
#include <stddef.h>

#include "../../vm/vm.h"
#include "console.h"
#include "fmt.h"
#include "paging.h"
#include "uaccess.h"
#include "x86.h"

struct gdt_entry {
	uint16_t limit_lo, base_lo;
	uint8_t base_mid, access, flags_limit_hi, base_hi;
} __attribute__((packed));

struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

struct tss {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

static struct gdt_entry gdt[6];
static struct idt_entry idt[256];
static struct tss tss;
static uint8_t ring0_stack[16384] __attribute__((aligned(16)));

extern const uint32_t trap_vectors[32];

static struct gdt_entry segment(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (struct gdt_entry){
		.limit_lo = (uint16_t)limit,
		.base_lo = (uint16_t)base,
		.base_mid = (uint8_t)(base >> 16),
		.access = access,
		.flags_limit_hi = (uint8_t)((flags << 4) | ((limit >> 16) & 0xF)),
		.base_hi = (uint8_t)(base >> 24),
	};
}

void cpu_init(void)
{
	/* Flat 4 GB segments: 4 KB granularity, 32-bit. */
	gdt[1] = segment(0, 0xFFFFF, 0x9A, 0xC); /* ring 0 code */
	gdt[2] = segment(0, 0xFFFFF, 0x92, 0xC); /* ring 0 data */
	gdt[3] = segment(0, 0xFFFFF, 0xFA, 0xC); /* ring 3 code */
	gdt[4] = segment(0, 0xFFFFF, 0xF2, 0xC); /* ring 3 data */
	tss.ss0 = SEL_KDATA;
	tss.esp0 = (uint32_t)(uintptr_t)(ring0_stack + sizeof(ring0_stack));
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 gets no ports */
	gdt[5] = segment((uint32_t)(uintptr_t)&tss, sizeof(tss) - 1, 0x89, 0x0);

	struct desc_ptr gp = { sizeof(gdt) - 1, (uint32_t)(uintptr_t)gdt };
	__asm__ volatile("lgdt %0\n\t"
			 "ljmp %1, $1f\n"
			 "1:\tmov %2, %%ax\n\t"
			 "mov %%ax, %%ds\n\t"
			 "mov %%ax, %%es\n\t"
			 "mov %%ax, %%ss\n\t"
			 "mov %%ax, %%fs\n\t"
			 "mov %%ax, %%gs\n\t"
			 "mov %3, %%ax\n\t"
			 "ltr %%ax"
			 :
			 : "m"(gp), "i"(SEL_KCODE), "i"(SEL_KDATA), "i"(SEL_TSS)
			 : "eax", "memory");

	for (int v = 0; v < 32; v++) {
		uint32_t off = trap_vectors[v];
		idt[v] =
		    (struct idt_entry){ (uint16_t)off, SEL_KCODE, 0, 0x8E, (uint16_t)(off >> 16) };
	}
	struct desc_ptr ip = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(ip));

	/* Mask both PICs: the kernel polls and never enables interrupts. */
	outb(0x21, 0xFF);
	outb(0xA1, 0xFF);
}

void cpu_set_gate(int vector, uint32_t handler, int dpl)
{
	idt[vector] = (struct idt_entry){ (uint16_t)handler, SEL_KCODE, 0,
					  (uint8_t)(0x8E | (dpl << 5)), (uint16_t)(handler >> 16) };
}

_Noreturn void cpu_exit(enum kexit code)
{
	outb(0xF4, (uint8_t)code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

_Noreturn void kpanic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	console_printf("panic: ");
	console_vprintf(fmt, ap);
	console_printf("\n");
	va_end(ap);
	cpu_exit(KEXIT_PANIC);
}

static const char *const trap_names[32] = {
	"divide error",
	"debug",
	"NMI",
	"breakpoint",
	"overflow",
	"bound range",
	"invalid opcode",
	"device not available",
	"double fault",
	"coprocessor overrun",
	"invalid TSS",
	"segment not present",
	"stack fault",
	"general protection",
	"page fault",
	"reserved",
	"x87 error",
	"alignment check",
	"machine check",
	"SIMD error",
	"virtualization",
	"control protection",
};

void trap(struct trapframe *tf)
{
	if (tf->vector == 14 && uaccess_fault(tf, read_cr2()))
		return;
	if (tf->vector == 14 && (tf->cs & 3) == 0 && (tf->err & 3) == 3 &&
	    paging_is_protected(read_cr2())) {
		/* A write to a slab page VM keeps locked (the VM_SANITY build):
		 * VM names the object; then stop, as the hosted machine does. */
		char code[32];
		uint32_t pa = read_cr2() - KERN_VBASE;
		scn_snprintf(code, sizeof(code), "eip 0x%08lx", (unsigned long)tf->eip);
		console_printf("\nvmkernel: a write to locked memory at 0x%08lx (%s)\n",
			       (unsigned long)pa, code);
		vm_locked_write(pa, code);
		console_printf("VM: stopped at a write to a locked object (GDB: docs/qemu.md)\n");
		cpu_exit(KEXIT_PANIC);
	}
	const char *name =
	    tf->vector < 32 && trap_names[tf->vector] ? trap_names[tf->vector] : "reserved";
	console_printf("\nvmkernel: unexpected exception %lu (%s), error code 0x%lx\n",
		       (unsigned long)tf->vector, name, (unsigned long)tf->err);
	console_printf("  eip %08lx  cs %04lx  eflags %08lx  cr2 %08lx  cr3 %08lx\n",
		       (unsigned long)tf->eip, (unsigned long)tf->cs, (unsigned long)tf->eflags,
		       (unsigned long)read_cr2(), (unsigned long)read_cr3());
	console_printf("  eax %08lx  ebx %08lx  ecx %08lx  edx %08lx\n", (unsigned long)tf->eax,
		       (unsigned long)tf->ebx, (unsigned long)tf->ecx, (unsigned long)tf->edx);
	console_printf("  esi %08lx  edi %08lx  ebp %08lx  esp %08lx\n", (unsigned long)tf->esi,
		       (unsigned long)tf->edi, (unsigned long)tf->ebp,
		       (unsigned long)(tf->esp_at_pusha + 5 * 4));
	cpu_exit(KEXIT_PANIC);
}
