/*
 * What the multiboot v1 loader hands the kernel: the memory size and the
 * modules (scenario files, passed by QEMU's -initrd), copied into kernel
 * memory at boot so nothing depends on the loader's structures afterwards.
 */
#ifndef I386_MULTIBOOT_H
#define I386_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB_LOADER_MAGIC 0x2BADB002u
#define MB_MAX_MODULES 64
#define MB_NAME_LEN 256

struct mb_module {
	const char *data; /* through the direct map */
	size_t len;
	uint32_t start, end;    /* physical */
	char path[MB_NAME_LEN]; /* the module's first word: its file */
	char name[MB_NAME_LEN]; /* the second word if given, else the path */
	bool file;              /* third word "file": data for exec, not a scenario */
};

struct mb_boot {
	uint32_t ram_bytes; /* contiguous memory from 0, rounded down to 4 MB */
	uint32_t nmodules;
	struct mb_module modules[MB_MAX_MODULES];
	uint32_t modules_end;      /* one past the last module byte (physical) */
	char cmdline[MB_NAME_LEN]; /* the kernel's command line (QEMU -append) */
};

extern struct mb_boot mb_boot;

/* Read the loader's information at physical address info (magic checked),
 * through the boot page directory's identity map of the first 4 MB.
 * Panics when it is not a multiboot v1 loader or something is missing. */
void multiboot_read(uint32_t magic, uint32_t info);

/* Move the modules to the top of RAM (below ram_bytes, through the
 * direct map), so that the memory right after the kernel image is the
 * pool as on the hosted machine whatever the modules' size (an
 * executable of several MB). Returns the lowest physical address they
 * now use; modules_end becomes 0. */
uint32_t multiboot_relocate(uint32_t ram_bytes);

#endif
