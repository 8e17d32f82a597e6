/*
 * VM's main loop: boot, and one dispatch table that says for each call who
 * may make it and which handler serves it.
 */
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/kernel.h>

#include "../sanity/report.h"
#include "alloc.h"
#include "cache.h"
#include "glo.h"
#include "grant.h"
#include "pagetable.h"
#include "proto.h"
#include "slab.h"
#include "util.h"
#include "vm.h"

struct kinfo vm_kinfo;
struct vm_stats vm_stats;
struct vmproc vmproc[VM_NR_PROCS];
uint32_t vm_sanity_every;
static bool sanity_stop;
static uint32_t calls_since_check;

/* Who may make a call (enum vm_caller_class, vm.h): CALLER_PROC, any live
 * process about itself; CALLER_KERNEL, only the kernel. A call whose class
 * is not declared (0) is refused to everyone. */
#define CALLER_PROC VM_CALLER_PROC
#define CALLER_KERNEL VM_CALLER_KERNEL

struct vm_call {
	const char *name;
	int (*handler)(message *m);
	enum vm_caller_class who;
};

#define CALL(nr) [(nr)-VM_RQ_BASE]
static const struct vm_call vm_calls[VM_RQ_LAST - VM_RQ_BASE + 1] = {
	CALL(VM_MMAP) = { "mmap", do_mmap, CALLER_PROC },
	CALL(VM_MUNMAP) = { "munmap", do_munmap, CALLER_PROC },
	CALL(VM_BRK) = { "brk", do_brk, CALLER_PROC },
	CALL(VM_SPAWN) = { "spawn", do_spawn, CALLER_KERNEL },
	CALL(VM_REMAP) = { "remap", do_remap, CALLER_KERNEL },
	CALL(VM_SHM_UNMAP) = { "shmunmap", do_shared_unmap, CALLER_PROC },
	CALL(VM_YIELDBLOCKGETBLOCK) = { "yieldblockgetblock", do_yieldblockgetblock, CALLER_PROC },
	CALL(VM_FORGETBLOCK) = { "forgetblock", do_forgetblock, CALLER_PROC },
	CALL(VM_FORGETBLOCKS) = { "forgetblocks", do_forgetblocks, CALLER_PROC },
	CALL(VM_GRANT) = { "grant", do_grant, CALLER_PROC },
	CALL(VM_REVOKE) = { "revoke", do_revoke, CALLER_PROC },
	CALL(VM_SAFECOPY) = { "safecopy", do_safecopy, CALLER_PROC },
	CALL(VM_SAFEMAP) = { "safemap", do_safemap, CALLER_PROC },
	CALL(VM_SAFEREVMAP) = { "saferevmap", do_saferevmap, CALLER_PROC },
	CALL(VM_DS_PUBLISH) = { "ds_publish", do_ds_publish, CALLER_PROC },
	CALL(VM_DS_RETRIEVE) = { "ds_retrieve", do_ds_retrieve, CALLER_PROC },
	CALL(VM_DS_DELETE) = { "ds_delete", do_ds_delete, CALLER_PROC },
	CALL(VM_DS_SUBSCRIBE) = { "ds_subscribe", do_ds_subscribe, CALLER_PROC },
	CALL(VM_DS_CHECK) = { "ds_check", do_ds_check, CALLER_PROC },
	CALL(VM_EXIT) = { "exit", do_exit, CALLER_KERNEL },
	CALL(VM_FORK) = { "fork", do_fork, CALLER_KERNEL },
	CALL(VM_EXEC) = { "exec", do_exec, CALLER_KERNEL },
	CALL(VM_PAGEFAULT) = { "pagefault", do_pagefaults, CALLER_KERNEL },
	CALL(VM_QUERY) = { "query", do_query, CALLER_KERNEL },
	CALL(VM_SANITY) = { "sanity", do_sanity, CALLER_KERNEL },
	CALL(VM_INFO) = { "info", do_info, CALLER_KERNEL },
};

static const struct vm_call *vm_call_of(int nr)
{
	if (nr < VM_RQ_BASE || nr > VM_RQ_LAST || vm_calls[nr - VM_RQ_BASE].handler == NULL)
		return NULL;
	return &vm_calls[nr - VM_RQ_BASE];
}

const char *vm_call_name(int nr)
{
	const struct vm_call *c = vm_call_of(nr);
	return c ? c->name : NULL;
}

enum vm_caller_class vm_call_class(int nr)
{
	const struct vm_call *c = vm_call_of(nr);
	return c ? c->who : VM_CALLER_NONE;
}

int vm_isokendpt(endpoint_t ep, struct vmproc **vmp)
{
	if (ep < 0 || VM_ENDPOINT_GEN(ep) == 0)
		return EINVAL;
	struct vmproc *p = &vmproc[VM_ENDPOINT_SLOT(ep)];
	if (!(p->vm_flags & VMF_INUSE) || p->vm_endpoint != ep)
		return ESRCH;
	*vmp = p;
	return VM_OK;
}

const char *site_call_name(uint16_t call)
{
	if (call >= VM_RQ_BASE && call <= VM_RQ_LAST && vm_calls[call - VM_RQ_BASE].name)
		return vm_calls[call - VM_RQ_BASE].name;
	return call == 0 ? "boot" : "unknown call";
}

const char *site_proc_name(endpoint_t ep)
{
	struct vmproc *vmp;
	return vm_isokendpt(ep, &vmp) == VM_OK ? vmp->vm_name : NULL;
}

int vm_init(void)
{
	memset(&vm_stats, 0, sizeof(vm_stats));
	memset(&vm_sanity_result, 0, sizeof(vm_sanity_result));
	memset(vmproc, 0, sizeof(vmproc));
	vm_sanity_every = 0;
	sanity_stop = false;
	calls_since_check = 0;
	sanity_log_reset();
	memset(&site_now, 0, sizeof(site_now));
	vm_fail_nth_alloc(0);
	vm_leak_nth_free(0);
	sys_getkinfo(&vm_kinfo);
	if (vm_kinfo.mem_bytes == 0 || (vm_kinfo.mem_bytes & (I386_BIG_PAGE_SIZE - 1)) ||
	    vm_kinfo.user_lo == 0 || vm_kinfo.user_lo >= vm_kinfo.user_hi)
		panic("%s: bad machine: %u bytes, user space 0x%x-0x%x", __func__,
		      vm_kinfo.mem_bytes, vm_kinfo.user_lo, vm_kinfo.user_hi);
	void *meta;
	uint32_t nframes = vm_kinfo.mem_bytes >> VM_PAGE_SHIFT;
	/* VM's own metadata beside the allocator's: the sanity map, then the
	 * cache's hash table (pointer-aligned: the map is whole pages). */
	size_t map_bytes = roundup_page(sanity_map_bytes(nframes));
	int r = phys_init(&vm_kinfo, map_bytes + cache_meta_bytes(nframes), &meta);
	if (r != VM_OK)
		return r;
	sanity_init(meta, nframes);
	cache_init((char *)meta + map_bytes, nframes);
	slab_init();
	pt_init();
	grant_init();
	ds_init();
	return VM_OK;
}

void vm_set_sanity(uint32_t every, bool stop)
{
	vm_sanity_every = every;
	sanity_stop = stop;
	calls_since_check = 0;
	sanity_set_abort(stop);
}

/* The allocation-site context: which call, for whom. */
static void set_site(const message *m)
{
	site_now.seq++;
	site_now.call = (uint16_t)m->m_type;
	site_now.ep = m->m_source;
	site_now.addr = 0;
	if (m->m_source != KERNEL)
		return;
	/* The kernel's calls: the process they are about. */
	switch (m->m_type) {
	case VM_PAGEFAULT:
		site_now.ep = m->m_pagefault.ep;
		site_now.addr = m->m_pagefault.addr;
		break;
	case VM_SPAWN:
		site_now.ep = m->m_spawn.ep;
		break;
	case VM_EXIT:
		site_now.ep = m->m_exit.ep;
		break;
	case VM_FORK:
		site_now.ep = m->m_fork.child;
		break;
	case VM_REMAP:
		site_now.ep = m->m_remap.dst;
		break;
	case VM_EXEC:
		site_now.ep = m->m_exec.ep;
		break;
	}
}

bool vm_handle(message *m)
{
	int nr = m->m_type;
	const struct vm_call *c = vm_call_of(nr);
	struct vmproc *caller;
	int r;

	set_site(m);
	if (c == NULL) {
		vm_stats.bad_calls++;
		r = ENOSYS;
	} else if (c->who == CALLER_KERNEL ? m->m_source != KERNEL : c->who != CALLER_PROC) {
		/* A kernel call (a page fault, ...) from anyone but the kernel,
		 * or a call of no declared class. */
		vm_stats.bad_calls++;
		vm_stats.forged++;
		r = EPERM;
	} else if (c->who == CALLER_PROC && (r = vm_isokendpt(m->m_source, &caller)) != VM_OK) {
		/* A process call from a source that is no live process: a stale
		 * endpoint (an exited process's, an old generation of its slot),
		 * one that cannot be an endpoint, the kernel, VM itself. */
		vm_stats.bad_calls++;
		vm_stats.forged++;
	} else {
		vm_stats.calls[nr - VM_RQ_BASE]++;
		r = c->handler(m);
	}
	pt_flush_pending();
	if (vm_sanity_every && nr != VM_SANITY && ++calls_since_check >= vm_sanity_every) {
		calls_since_check = 0;
		uint32_t findings = sanity_check();
		if (findings)
			vm_printf("sanity: %u finding%s after call %u (%s for ep 0x%x)\n", findings,
				  findings == 1 ? "" : "s", site_now.seq,
				  c && c->name ? c->name : "unknown call", (unsigned)site_now.ep);
	}
	if (r == SUSPEND)
		return false;
	m->m_type = r;
	return true;
}
