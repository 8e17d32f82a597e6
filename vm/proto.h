/* Call handlers, one file each as in MINIX's VM. Each returns VM_OK or an
 * errno for the reply, or SUSPEND for no reply. */
#ifndef VM_PROTO_H
#define VM_PROTO_H

#include <stdbool.h>
#include <vmscope/ipc.h>

#define SUSPEND (-998)

struct vmproc;

int do_mmap(message *m); /* mmap.c */
int do_munmap(message *m);
int do_brk(message *m);
int do_remap(message *m);
int do_shared_unmap(message *m);
int do_yieldblockgetblock(message *m); /* cache.c */
int do_forgetblock(message *m);
int do_forgetblocks(message *m);
int do_grant(message *m); /* grant.c */
int do_revoke(message *m);
int do_safecopy(message *m);
int do_safemap(message *m);
int do_saferevmap(message *m);
int do_ds_publish(message *m); /* ds.c */
int do_ds_retrieve(message *m);
int do_ds_delete(message *m);
int do_ds_subscribe(message *m);
int do_ds_check(message *m);
int do_spawn(message *m); /* exit.c */
int do_exit(message *m);
int do_fork(message *m);       /* fork.c */
int do_exec(message *m);       /* exec.c */
int do_pagefaults(message *m); /* pagefaults.c */
int do_query(message *m);      /* query.c */
int do_sanity(message *m);     /* sanitycheck.c */
int do_info(message *m);       /* info.c */

/* The debug call's figures, also used by VM_QUERY (info.c). */
struct vmi_stats;
struct vmi_proc;
struct vmi_region;
struct vir_region;
void info_fill_stats(struct vmi_stats *s);
void info_fill_proc(struct vmproc *vmp, struct vmi_proc *p);
void info_fill_region(struct vmproc *vmp, const struct vir_region *r, struct vmi_region *e);

/* The data store: empty it (boot); drop what a process published (exit,
 * exec) and, when it exits, what it subscribed to. */
void ds_init(void);
struct vmproc;
void ds_release(struct vmproc *vmp, bool exiting);

/* Run every consistency check; returns the number of findings, each
 * printed on the diagnostics console. */
uint32_t sanity_check(void);

/* Bytes sanity_check needs for its map of physical memory. */
size_t sanity_map_bytes(uint32_t nframes);

/* Give the sanity check its map (VM's own memory, from phys_init). */
void sanity_init(void *map, uint32_t nframes);

#endif
