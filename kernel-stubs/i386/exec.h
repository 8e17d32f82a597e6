/*
 * exec on the i386 machine: an ELF image (a multiboot module) becomes a
 * process's new address space, built by VM's libexec with VM_EXEC
 * messages, exactly as on the hosted machine (kernel-stubs/hosted/exec.c).
 */
#ifndef I386_EXEC_H
#define I386_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <vmscope/types.h>

/* Replace ep's image with the executable image[0..len); on success *entry
 * and *stack_top (when not NULL) say where it starts. Returns 0, ESRCH,
 * ENOEXEC (nothing changed), or an errno after the old image was gone, in
 * which case the process has exited and *killed is set. */
int machine_exec(endpoint_t ep, const void *image, size_t len, bool *killed, vir_bytes *entry,
		 vir_bytes *stack_top);

#endif
