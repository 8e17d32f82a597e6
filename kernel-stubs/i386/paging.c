/* The kernel's address space (see paging.h). */
#include "paging.h"

#include "cpu.h"
#include "x86.h"

static uint32_t kpgdir[1024] __attribute__((aligned(4096)));

void paging_init(uint32_t ram_bytes)
{
	if (ram_bytes == 0 || ram_bytes > KERN_MAX_MEM || (ram_bytes & (BIG_PAGE_SIZE - 1)))
		kpanic("%s: cannot map 0x%lx bytes of memory", __func__, (unsigned long)ram_bytes);
	for (uint32_t i = 0; i < ram_bytes / BIG_PAGE_SIZE; i++)
		kpgdir[PDE_INDEX(KERN_VBASE) + i] =
		    i * BIG_PAGE_SIZE | PTE_P | PTE_W | PTE_PS | PTE_G;
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
