/*
 * The i386 hardware as the kernel sees it: the virtual layout, page table
 * bits, control registers and port I/O. Hardware facts only; the kernel
 * interface that VM uses is include/vmscope/kernel.h.
 */
#ifndef I386_X86_H
#define I386_X86_H

#include <stdint.h>

/* Virtual layout: all physical memory is mapped at KERN_VBASE by 4 MB
 * global supervisor pages (the kinfo kernel mapping); the kernel image is
 * linked there too, at KERN_VBASE + 1 MB. Processes own [USER_LO, USER_HI). */
#define KERN_VBASE 0xC0000000u
#define KERN_MAX_MEM (1024u << 20) /* the direct map ends at 4 GB */
#define USER_LO 0x00400000u
#define USER_HI KERN_VBASE
#define USER_BRK_BASE 0x10000000u

#define BIG_PAGE_SIZE (4u << 20)

/* Page directory and page table entry bits. */
#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PTE_PS 0x080u /* a 4 MB page (in a PDE) */
#define PTE_G 0x100u
#define PTE_ADDR 0xFFFFF000u
#define PDE_BIG_ADDR 0xFFC00000u
#define PDE_INDEX(v) ((v) >> 22)
#define PTE_INDEX(v) (((v) >> 12) & 0x3FFu)

#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PGE (1u << 7)

/* Page fault error code bits (the same values as VM_PF_*). */
#define PF_P 0x1u
#define PF_W 0x2u
#define PF_U 0x4u

/* Segment selectors (cpu.c's GDT). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B
#define SEL_UDATA 0x23
#define SEL_TSS 0x28

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t read_cr0(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline uint32_t read_cr2(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint32_t read_cr3(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint32_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline uint32_t read_cr4(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(uint32_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline void invlpg(uint32_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void *phys_to_virt(uint32_t p)
{
	return (void *)(uintptr_t)(p + KERN_VBASE);
}

static inline uint32_t virt_to_phys(const void *v)
{
	return (uint32_t)(uintptr_t)v - KERN_VBASE;
}

#endif
