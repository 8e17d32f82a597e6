/* The kernel's address space (see paging.h). */
#include "paging.h"

#include <stddef.h>
#include <vmscope/types.h>

#include "cpu.h"
#include "x86.h"

static uint32_t kpgdir[1024] __attribute__((aligned(4096)));
static uint32_t mapped_bytes;

/* Page tables for the parts of the direct map that sys_protect splits
 * into 4 KB pages (VM's slab pages, in the VM_SANITY build only: the
 * plain build never asks, and keeps the kernel image as small as the
 * hosted layout wants). Each covers 4 MB. */
#ifdef VMSCOPE_SANITY_BUILD
#define SPLIT_TABLES 32
#else
#define SPLIT_TABLES 0
#endif
#if SPLIT_TABLES
static uint32_t split_pool[SPLIT_TABLES][1024] __attribute__((aligned(4096)));
static unsigned split_used;
#endif

void paging_init(uint32_t ram_bytes)
{
	if (ram_bytes == 0 || ram_bytes > KERN_MAX_MEM || (ram_bytes & (BIG_PAGE_SIZE - 1)))
		kpanic("%s: cannot map 0x%lx bytes of memory", __func__, (unsigned long)ram_bytes);
	for (uint32_t i = 0; i < ram_bytes / BIG_PAGE_SIZE; i++)
		kpgdir[PDE_INDEX(KERN_VBASE) + i] =
		    i * BIG_PAGE_SIZE | PTE_P | PTE_W | PTE_PS | PTE_G;
	mapped_bytes = ram_bytes;
	/* The boot page directory's global 4 MB page at KERN_VBASE is the
	 * same mapping, so a CR3 load that keeps it in the TLB is harmless. */
	write_cr3(virt_to_phys(kpgdir));
}

uint32_t paging_kernel_cr3(void)
{
	return virt_to_phys(kpgdir);
}

void paging_load(uint32_t cr3)
{
	if (read_cr3() != cr3)
		write_cr3(cr3);
}

void paging_flush(void)
{
	write_cr3(read_cr3());
}

/* The global entries too: CR3 reloads keep them. */
__attribute__((unused)) static void flush_global(void)
{
	uint32_t cr4 = read_cr4();
	write_cr4(cr4 & ~CR4_PGE);
	write_cr4(cr4);
}

/* The page table mapping va in 4 KB pages, splitting its 4 MB page. */
static uint32_t *table_of(uint32_t va)
{
	uint32_t *pde = &kpgdir[PDE_INDEX(va)];

	if (!(*pde & PTE_PS))
		return phys_to_virt(*pde & PTE_ADDR);
#if SPLIT_TABLES
	if (split_used == SPLIT_TABLES)
		return NULL;
	uint32_t *pt = split_pool[split_used++];
	uint32_t base = *pde & PTE_ADDR;
	for (uint32_t j = 0; j < 1024; j++)
		pt[j] = (base + j * VM_PAGE_SIZE) | PTE_P | PTE_W | PTE_G;
	*pde = virt_to_phys(pt) | PTE_P | PTE_W;
	flush_global();
	return pt;
#else
	return NULL; /* the plain build never locks anything */
#endif
}

int paging_protect(uint32_t pa, uint32_t len, bool ro)
{
	if (pa >= mapped_bytes || len > mapped_bytes - pa)
		return -1;
	for (uint32_t p = pa & PTE_ADDR; p < pa + len; p += VM_PAGE_SIZE) {
		uint32_t va = KERN_VBASE + p;
		uint32_t *pt = table_of(va);
		if (pt == NULL)
			return -1;
		uint32_t *pte = &pt[PTE_INDEX(va)];
		*pte = ro ? *pte & ~PTE_W : *pte | PTE_W;
		invlpg(va);
	}
	return 0;
}

bool paging_is_protected(uint32_t va)
{
	if (va < KERN_VBASE || va - KERN_VBASE >= mapped_bytes)
		return false;
	uint32_t pde = kpgdir[PDE_INDEX(va)];
	if (pde & PTE_PS)
		return false;
	const uint32_t *pt = phys_to_virt(pde & PTE_ADDR);
	return !(pt[PTE_INDEX(va)] & PTE_W);
}
