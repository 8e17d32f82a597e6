/* Reading the multiboot v1 information (see multiboot.h). */
#include "multiboot.h"

#include <string.h>

#include "cpu.h"
#include "x86.h"

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
};

struct mb_mod {
	uint32_t mod_start, mod_end, string, reserved;
};

#define MB_INFO_MEM 0x1u
#define MB_INFO_CMDLINE 0x4u
#define MB_INFO_MODS 0x8u

struct mb_boot mb_boot;

/* The loader's structures lie in the first 4 MB, identity mapped while
 * the boot page directory is loaded. */
static const void *low(uint32_t p)
{
	if (p >= BIG_PAGE_SIZE)
		kpanic("multiboot: structure at 0x%lx is beyond the first 4 MB", (unsigned long)p);
	return (const void *)(uintptr_t)p;
}

/* Copy word index w (0, 1 or 2) of the module string s into out. */
static void word(const char *s, int w, char *out)
{
	while (*s == ' ')
		s++;
	for (; w > 0; w--) {
		while (*s && *s != ' ')
			s++;
		while (*s == ' ')
			s++;
	}
	size_t n = 0;
	while (s[n] && s[n] != ' ' && n < MB_NAME_LEN - 1) {
		out[n] = s[n];
		n++;
	}
	out[n] = '\0';
}

void multiboot_read(uint32_t magic, uint32_t info)
{
	if (magic != MB_LOADER_MAGIC)
		kpanic("not started by a multiboot loader (magic 0x%lx)", (unsigned long)magic);
	const struct mb_info *mi = low(info);
	if (!(mi->flags & MB_INFO_MEM))
		kpanic("multiboot: no memory size");
	uint32_t ram = (mi->mem_upper + 1024) * 1024u;
	if (mi->mem_upper > (KERN_MAX_MEM >> 10))
		ram = KERN_MAX_MEM;
	mb_boot.ram_bytes = ram & ~(BIG_PAGE_SIZE - 1);
	mb_boot.modules_end = 0;
	if (mi->flags & MB_INFO_CMDLINE) {
		strncpy(mb_boot.cmdline, low(mi->cmdline), MB_NAME_LEN - 1);
		mb_boot.cmdline[MB_NAME_LEN - 1] = '\0';
	}
	if (!(mi->flags & MB_INFO_MODS) || mi->mods_count == 0)
		return;
	if (mi->mods_count > MB_MAX_MODULES)
		kpanic("multiboot: %lu modules, at most %d", (unsigned long)mi->mods_count,
		       MB_MAX_MODULES);
	const struct mb_mod *mods = low(mi->mods_addr);
	for (uint32_t i = 0; i < mi->mods_count; i++) {
		struct mb_module *m = &mb_boot.modules[i];
		m->start = mods[i].mod_start;
		m->end = mods[i].mod_end;
		m->len = m->end - m->start;
		m->data = phys_to_virt(m->start);
		const char *s = mods[i].string ? low(mods[i].string) : "";
		word(s, 0, m->path);
		word(s, 1, m->name);
		char kind[MB_NAME_LEN];
		word(s, 2, kind);
		m->file = strcmp(kind, "file") == 0;
		if (m->name[0] == '\0')
			strcpy(m->name, m->path);
		if (m->end > mb_boot.modules_end)
			mb_boot.modules_end = m->end;
	}
	mb_boot.nmodules = mi->mods_count;
}

uint32_t multiboot_relocate(uint32_t ram_bytes)
{
	uint32_t top = ram_bytes;

	/* Highest first: each module moves up (top is above every module),
	 * and never over one that has not moved yet. */
	for (uint32_t n = mb_boot.nmodules; n > 0; n--) {
		struct mb_module *m = NULL;
		for (uint32_t i = 0; i < mb_boot.nmodules; i++) {
			struct mb_module *c = &mb_boot.modules[i];
			if (c->start < top && (m == NULL || c->start > m->start))
				m = c;
		}
		if (m == NULL)
			break;
		uint32_t to = (top - (uint32_t)m->len) & ~0xFFFu;
		if (m->len > top || to < m->start)
			kpanic("multiboot: no room for %s (%lu bytes) at the top of memory",
			       m->path, (unsigned long)m->len);
		memmove(phys_to_virt(to), m->data, m->len);
		m->data = phys_to_virt(to);
		m->start = to;
		m->end = to + (uint32_t)m->len;
		top = to;
	}
	mb_boot.modules_end = 0;
	return top;
}
