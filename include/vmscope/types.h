/* Basic types of the vmscope ABI, the same width on every machine. */
#ifndef VMSCOPE_TYPES_H
#define VMSCOPE_TYPES_H

#include <stdint.h>

typedef int32_t endpoint_t;  /* a process: generation and slot, see ipc.h */
typedef uint32_t vir_bytes;  /* a virtual address or length (i386) */
typedef uint32_t phys_bytes; /* a physical address or length (i386) */

#define VM_PAGE_SHIFT 12
#define VM_PAGE_SIZE 4096u
#define VM_PAGE_MASK (VM_PAGE_SIZE - 1)

#endif
