/*
 * The hosted machine's half of read-only slab locking (VM_SANITY build):
 * VM protects its slab pages with sys_protect (mprotect of the pool), so a
 * stray write raises SIGSEGV at the faulting instruction. The handler asks
 * VM to describe the object written (vm_locked_write), names the faulting
 * code from the executable's symbol table (libelf), and stops VM with
 * sys_abort: a core dump to open in GDB. A fault anywhere else goes to
 * the handler that was there before (the default, or ASan's).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "../../vm/vm.h"
#include "machine.h"

static struct sigaction previous;
static bool installed;

static uintptr_t fault_pc(void *uc)
{
	const ucontext_t *u = uc;
#if defined(__x86_64__)
	return (uintptr_t)u->uc_mcontext.gregs[REG_RIP];
#elif defined(__i386__)
	return (uintptr_t)u->uc_mcontext.gregs[REG_EIP];
#elif defined(__aarch64__)
	return (uintptr_t)u->uc_mcontext.pc;
#else
	(void)u;
	return 0;
#endif
}

/* The function of file containing offset off (a PIE's address minus its
 * load base), from its symbol table. */
static bool symbol_at(const char *file, uintptr_t off, char *name, size_t n, uintptr_t *start)
{
	bool found = false;
	int fd = open(file, O_RDONLY);

	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	Elf_Scn *scn = NULL;
	while (e && !found && (scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t count = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; d && i < count; i++) {
			GElf_Sym sym;
			if (gelf_getsym(d, (int)i, &sym) == NULL ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC || off < sym.st_value ||
			    off >= sym.st_value + (sym.st_size ? sym.st_size : 1))
				continue;
			const char *s = elf_strptr(e, sh.sh_link, sym.st_name);
			snprintf(name, n, "%s", s ? s : "?");
			*start = sym.st_value;
			found = true;
			break;
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return found;
}

/* "map_free+0x2a (vm+0x1b34a)" for pc. */
static void describe_code(uintptr_t pc, char *buf, size_t n)
{
	Dl_info di;
	char name[128];
	uintptr_t start;

	if (pc == 0 || dladdr((void *)pc, &di) == 0 || di.dli_fname == NULL) {
		snprintf(buf, n, "the code at %#lx", (unsigned long)pc);
		return;
	}
	uintptr_t off = pc - (uintptr_t)di.dli_fbase;
	const char *file = di.dli_fname[0] == '/' ? di.dli_fname : "/proc/self/exe";
	const char *base = strrchr(di.dli_fname, '/');
	base = base ? base + 1 : di.dli_fname;
	if (symbol_at(file, off, name, sizeof(name), &start) ||
	    (file != di.dli_fname && symbol_at("/proc/self/exe", off, name, sizeof(name), &start)))
		snprintf(buf, n, "%s+%#lx (%s+%#lx)", name, (unsigned long)(off - start),
			 base[0] ? base : "program", (unsigned long)off);
	else
		snprintf(buf, n, "%s+%#lx", base[0] ? base : "program", (unsigned long)off);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	if (hm.phys != NULL && a >= (uintptr_t)hm.phys && a - (uintptr_t)hm.phys < hm.mem_bytes) {
		char code[256];
		describe_code(fault_pc(uc), code, sizeof(code));
		if (vm_locked_write((phys_bytes)(a - (uintptr_t)hm.phys), code)) {
			fprintf(stdout, "VM: stopped at a write to a locked object (core dump for "
					"GDB: docs/sanity.md)\n");
			sys_abort();
		}
	}
	/* Not ours: the previous handler sees the fault when it recurs. */
	(void)sig;
	sigaction(SIGSEGV, &previous, NULL);
}

void hosted_lockfault_install(void)
{
	struct sigaction sa, now;

	/* Again when someone (a test framework) took SIGSEGV since. */
	if (installed && sigaction(SIGSEGV, NULL, &now) == 0 && (now.sa_flags & SA_SIGINFO) &&
	    now.sa_sigaction == on_segv)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &previous) == 0)
		installed = true;
}
