/*
 * The i386 kernel's main: set up the processor, the direct map and the
 * machine, then run every multiboot module as a scenario file, each on a
 * fresh machine (the runner boots and halts VM per file through struct
 * scn_machine), and leave QEMU with the worst status, as `vm run FILE...`
 * exits. After each file a record `result INDEX STATUS OFFSET` goes to the
 * debugcon port: the file's status and where its output ends on COM1.
 *
 * The command line (QEMU -append) knows the words crash-test: execute an
 * invalid instruction at once, so that tests see the exception path (the
 * registers on the console, KEXIT_PANIC); and serve: keep the machine the
 * last file leaves and serve the debug call on COM2 (debugport.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <vmscope/errno.h>

#include "../scenario/scenario.h"
#include "console.h"
#include "cpu.h"
#include "debugport.h"
#include "exec.h"
#include "machine.h"
#include "multiboot.h"
#include "paging.h"
#include "proc.h"
#include "uaccess.h"
#include "x86.h"

#define INIT_MEM_BYTES (16u << 20) /* VM's memory for init=NAME */

void kmain(uint32_t magic, uint32_t info);

extern char __kernel_end[];

static int m_boot(void *ctx, uint32_t mem_bytes)
{
	(void)ctx;
	return machine_boot(mem_bytes);
}

static void m_halt(void *ctx)
{
	(void)ctx;
	machine_halt();
}

static int m_spawn(void *ctx, const char *name, int priv, endpoint_t *ep)
{
	(void)ctx;
	return machine_spawn(name, priv != 0, ep);
}

static int m_fork(void *ctx, endpoint_t parent, const char *name, endpoint_t *child)
{
	(void)ctx;
	return machine_fork(parent, name, child);
}

static int m_exit(void *ctx, endpoint_t ep)
{
	(void)ctx;
	return machine_exit(ep);
}

static int m_call(void *ctx, message *m)
{
	(void)ctx;
	return machine_call(m);
}

static int m_exec(void *ctx, endpoint_t ep, const void *image, size_t len, int *killed)
{
	(void)ctx;
	bool k;
	int r = machine_exec(ep, image, len, &k, NULL, NULL);
	*killed = k;
	return r;
}

static int m_access(void *ctx, endpoint_t ep, vir_bytes va, void *buf, size_t len, int write)
{
	(void)ctx;
	struct kproc *p = machine_proc(ep);
	return p ? uaccess_user(p, va, buf, len, write != 0) : ESRCH;
}

static int m_umap(void *ctx, endpoint_t ep, vir_bytes va, phys_bytes *pa)
{
	(void)ctx;
	struct kproc *p = machine_proc(ep);
	return p ? uaccess_translate(p, va, pa) : ESRCH;
}

/* Files are the multiboot modules, found by path or by name. */
static int m_readfile(void *ctx, const char *path, const void **data, size_t *len)
{
	(void)ctx;
	for (uint32_t i = 0; i < mb_boot.nmodules; i++) {
		const struct mb_module *mod = &mb_boot.modules[i];
		if (strcmp(mod->path, path) == 0 || strcmp(mod->name, path) == 0) {
			*data = mod->data;
			*len = mod->len;
			return 0;
		}
	}
	return ENOENT;
}

static void m_print(void *ctx, const char *text)
{
	(void)ctx;
	console_write(text, strlen(text));
}

static const struct scn_machine machine = {
	.boot = m_boot,
	.halt = m_halt,
	.spawn = m_spawn,
	.fork = m_fork,
	.exec = m_exec,
	.exit = m_exit,
	.call = m_call,
	.access = m_access,
	.umap = m_umap,
	.readfile = m_readfile,
	.print = m_print,
};

/* Whether the space-separated words of s include w. */
static bool has_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (const char *start = s; *s; s++) {
		if ((s == start || s[-1] == ' ') && strncmp(s, w, n) == 0 &&
		    (s[n] == ' ' || s[n] == '\0'))
			return true;
	}
	return false;
}

void kmain(uint32_t magic, uint32_t info)
{
	console_init();
	cpu_init();
	multiboot_read(magic, info);
	paging_init(mb_boot.ram_bytes);
	if (has_word(mb_boot.cmdline, "crash-test"))
		__asm__ volatile("ud2");
	/* The modules go to the top of RAM, out of every scenario's pool. */
	uint32_t mods_lo = multiboot_relocate(mb_boot.ram_bytes);
	machine_setup(mods_lo & ~(BIG_PAGE_SIZE - 1), virt_to_phys(__kernel_end));
	/* init=NAME: run boot-time programs in ring 3 instead (proc.c). */
	char init[MB_NAME_LEN];
	if (proc_init_requested(mb_boot.cmdline, init, sizeof(init)))
		proc_run_init(init, INIT_MEM_BYTES);
	if (mb_boot.nmodules == 0) {
		console_printf("vmkernel: no scenario files (pass them as multiboot modules: "
			       "-initrd FILE)\n");
		cpu_exit(KEXIT_ERROR);
	}
	/* Serve mode: the debug call on COM2 (debugport.c, docs/qemu.md). */
	if (has_word(mb_boot.cmdline, "serve")) {
		debugport_init();
		debugport_run(&machine);
	}
	enum scn_status worst = SCN_PASSED;
	for (uint32_t i = 0; i < mb_boot.nmodules; i++) {
		const struct mb_module *mod = &mb_boot.modules[i];
		if (mod->file)
			continue; /* read by exec, not run */
		enum scn_status s = scn_run(&machine, mod->name, mod->data, mod->len);
		debugcon_printf("result %lu %d %lu\n", (unsigned long)i, (int)s,
				(unsigned long)console_offset());
		if (s > worst)
			worst = s;
	}
	cpu_exit(KEXIT_PASSED + (int)worst);
}
