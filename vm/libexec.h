/*
 * libexec: build a process's address space from an executable's segments
 * through callbacks, so that any caller can use it (the hosted machine's
 * exec, the i386 kernel loading boot processes). Reading the executable
 * file is the caller's job: it hands over the segments. Freestanding.
 */
#ifndef VM_LIBEXEC_H
#define VM_LIBEXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <vmscope/types.h>

#define EXEC_MAXSEGS 8
#define EXEC_STACK_SIZE (64u * 1024)

struct exec_segment {
	vir_bytes vaddr;
	vir_bytes memsz;  /* bytes in memory */
	vir_bytes filesz; /* of those, from data (the rest is zero: bss) */
	int prot;         /* VM_PROT_* */
	const void *data; /* filesz bytes, the caller's */
};

struct exec_info {
	void *arg; /* the caller's */
	vir_bytes entry;
	unsigned nsegs;
	struct exec_segment segs[EXEC_MAXSEGS];
	vir_bytes user_lo, user_hi; /* the machine's user space */

	/* Drop the old image: from here on a failure must end the process. */
	int (*clearproc)(struct exec_info *ei);
	/* Fresh zeroed memory [vaddr, vaddr + len), page-aligned, with prot;
	 * resident when the loader will copy into it. */
	int (*allocmem)(struct exec_info *ei, vir_bytes vaddr, vir_bytes len, int prot,
			bool resident);
	/* Copy len bytes from src to vaddr in the process (resident memory). */
	int (*copymem)(struct exec_info *ei, vir_bytes vaddr, const void *src, vir_bytes len);
	/* Zero [vaddr, vaddr + len) in the process (resident memory). */
	int (*clearmem)(struct exec_info *ei, vir_bytes vaddr, vir_bytes len);
	/* The image is complete: the break starts at brk. */
	int (*finish)(struct exec_info *ei, vir_bytes brk);

	/* Results. */
	bool cleared;        /* clearproc ran: on failure the caller must end it */
	vir_bytes brk;       /* end of the highest segment */
	vir_bytes stack_top; /* initial stack pointer */
};

/* Check the segments: inside user space, not wrapping, filesz <= memsz,
 * no two overlapping except within a shared page, a stack that fits.
 * Returns 0 or ENOEXEC. Changes nothing. */
int libexec_check(const struct exec_info *ei);

/* Build the image: check, clear the process, allocate and fill each
 * segment, a stack below user_hi, and set the break. Returns 0 or an
 * errno (ENOEXEC before anything changed; later ones with ei->cleared set). */
int libexec_load(struct exec_info *ei);

#endif
