/* Protection and flags of VM_MMAP. */
#ifndef VMSCOPE_MMAN_H
#define VMSCOPE_MMAN_H

#define VM_PROT_NONE 0x0
#define VM_PROT_READ 0x1
#define VM_PROT_WRITE 0x2
#define VM_PROT_EXEC 0x4
#define VM_PROT_ALL (VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC)

#define VM_MAP_FIXED 0x0001    /* exactly at addr, replacing what is there */
#define VM_MAP_SHARED 0x0002   /* stays shared across fork */
#define VM_MAP_PREALLOC 0x0004 /* allocate every page now */
#define VM_MAP_CONTIG 0x0008   /* physically contiguous (needs PREALLOC) */
#define VM_MAP_UNINIT 0x0010   /* do not clear (privileged callers only) */
#define VM_MAP_PHYS 0x0020     /* map physical range at phys (privileged) */
#define VM_MAP_LOWER16M 0x0040 /* frames below 16 MB (with PREALLOC) */
#define VM_MAP_ALLFLAGS 0x007f

#endif
