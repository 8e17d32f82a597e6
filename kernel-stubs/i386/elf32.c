/* Reading an i386 executable's program headers (see elf32.h). */
#include "elf32.h"

#include <string.h>
#include <vmscope/errno.h>
#include <vmscope/mman.h>

/* The ELF definitions used here (System V ABI, ELF32). */
#define EI_NIDENT 16
#define ELFCLASS32 1
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PF_X 0x1u
#define PF_W 0x2u
#define PF_R 0x4u

struct elf32_ehdr {
	uint8_t e_ident[EI_NIDENT];
	uint16_t e_type, e_machine;
	uint32_t e_version, e_entry, e_phoff, e_shoff, e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf32_phdr {
	uint32_t p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align;
};

int elf32_read(const void *image, size_t len, struct exec_info *ei)
{
	const uint8_t *base = image;
	struct elf32_ehdr eh;

	if (len < sizeof(eh))
		return ENOEXEC;
	memcpy(&eh, base, sizeof(eh));
	if (memcmp(eh.e_ident, "\177ELF", 4) != 0 || eh.e_ident[4] != ELFCLASS32 ||
	    eh.e_ident[5] != ELFDATA2LSB || eh.e_ident[6] != EV_CURRENT)
		return ENOEXEC;
	if (eh.e_machine != EM_386 || eh.e_type != ET_EXEC || eh.e_phnum == 0 ||
	    eh.e_phentsize != sizeof(struct elf32_phdr) || eh.e_phoff > len ||
	    (size_t)eh.e_phnum * sizeof(struct elf32_phdr) > len - eh.e_phoff)
		return ENOEXEC;
	ei->entry = eh.e_entry;
	ei->nsegs = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct elf32_phdr ph;
		memcpy(&ph, base + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
			return ENOEXEC; /* dynamically linked: not for this machine */
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ei->nsegs == EXEC_MAXSEGS || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset)
			return ENOEXEC;
		struct exec_segment *s = &ei->segs[ei->nsegs++];
		s->vaddr = ph.p_vaddr;
		s->memsz = ph.p_memsz;
		s->filesz = ph.p_filesz;
		s->data = base + ph.p_offset;
		s->prot = ((ph.p_flags & PF_R) ? VM_PROT_READ : 0) |
			  ((ph.p_flags & PF_W) ? VM_PROT_WRITE : 0) |
			  ((ph.p_flags & PF_X) ? VM_PROT_EXEC : 0);
	}
	return ei->nsegs > 0 ? 0 : ENOEXEC;
}
