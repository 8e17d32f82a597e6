/*
 * The debug call over COM2 (docs/qemu.md, "The debug call"): the i386
 * kernel's counterpart of `vm serve`'s socket. QEMU exposes COM2 as a Unix
 * socket (scripts/qemu --serve), which carries the same bytes as `vm
 * serve`'s, so libvminfo, vmstat and vmtop connect to it unchanged.
 */
#ifndef I386_DEBUGPORT_H
#define I386_DEBUGPORT_H

#include <stdint.h>
#include <vmscope/vminfo.h>

/* Set up COM2 (115200 8N1, FIFO, polled) and the clock that times out a
 * half-received request. */
void debugport_init(void);

/* Ask VM (VM_INFO from KERNEL) with the reply buffer in kernel memory:
 * VM's status (0 or an errno); the payload is at *out, *len bytes. */
int debugport_ask(uint16_t subcall, const struct vmi_request *req, const uint8_t **out,
		  uint32_t *len);

struct scn_machine;

/* Serve mode: run the scenario modules, keep the machine the last one
 * leaves, print its statistics on COM1 and serve it on COM2 for ever. */
_Noreturn void debugport_run(const struct scn_machine *m);

/* Serve requests from COM2 for ever (the machine is the one VM runs). */
_Noreturn void debugport_serve(void);

#endif
