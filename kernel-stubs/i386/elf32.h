/*
 * A freestanding reader of i386 ELF executables: the kernel has no
 * libelf, only the ELF definitions it needs (the System V ABI's ELF32
 * header and program header). It judges a file the way the hosted
 * machine's libelf-based reader does (kernel-stubs/hosted/exec.c):
 * a 32-bit little-endian ET_EXEC for EM_386 with no interpreter and at
 * least one non-empty PT_LOAD segment inside the file.
 */
#ifndef I386_ELF32_H
#define I386_ELF32_H

#include <stddef.h>
#include <stdint.h>

#include "../../vm/libexec.h"

/* Fill ei->entry and ei->segs (data pointing into image) from the
 * executable image[0..len). Returns 0 or ENOEXEC; ei's callbacks and
 * user range are not touched. */
int elf32_read(const void *image, size_t len, struct exec_info *ei);

#endif
