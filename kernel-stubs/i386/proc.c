/*
 * Ring-3 processes and their scheduler (see proc.h).
 *
 * One kernel stack serves every process: a trap from ring 3 lands on the
 * TSS's esp0 with the process's registers in a struct uframe, utrap()
 * copies them into the process's record, handles the trap with the
 * kernel's page directory loaded, and then copies the registers of
 * whichever process runs next over the frame and loads that process's
 * page directory before the iret. So switching processes is copying a
 * frame, and a blocked process is simply one that is not picked.
 *
 * Page faults from ring 3 go to VM as VM_PAGEFAULT (the error code has
 * the user bit from the hardware). Resolved: the instruction runs again.
 * Refused: the process is ended as MINIX's PM ends it on VM's signal,
 * SIGSEGV for an access it may not make, SIGBUS when VM had no memory;
 * the console says so and the parent's wait sees 128 + the signal. Other
 * exceptions from ring 3 end the process the same way (SIGILL, SIGFPE,
 * SIGSEGV). Ring 0 faults keep boot.S's meaning (trap()).
 */
#include "proc.h"

#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/kernel.h>

#include "console.h"
#include "cpu.h"
#include "exec.h"
#include "multiboot.h"
#include "paging.h"
#include "syscall.h"
#include "uaccess.h"
#include "user/sysnr.h"
#include "x86.h"

#define SIGILL 4
#define SIGFPE 8
#define INIT_PID 1

void utrap(struct uframe *uf);
_Noreturn void user_enter(const struct uframe *f);
extern const uint32_t utrap_vectors[33];

static struct uproc procs[VM_NR_PROCS];
static struct uproc *current;
static int next_pid = INIT_PID;
static int init_status = -1;
static bool yielded;
static uint32_t free_at_boot;

bool proc_init_requested(const char *cmdline, char *name, size_t size)
{
	for (const char *s = cmdline; *s; s++) {
		if ((s == cmdline || s[-1] == ' ') && strncmp(s, "init=", 5) == 0) {
			size_t n = 0;
			for (s += 5; s[n] && s[n] != ' ' && n + 1 < size; n++)
				name[n] = s[n];
			name[n] = '\0';
			return n > 0;
		}
	}
	return false;
}

void proc_yield(void)
{
	yielded = true;
}

struct uproc *proc_current(void)
{
	return current;
}

struct uproc *proc_new(endpoint_t ep, int ppid, const struct uframe *f)
{
	for (int i = 0; i < VM_NR_PROCS; i++) {
		struct uproc *p = &procs[i];
		if (p->state != US_FREE)
			continue;
		memset(p, 0, sizeof(*p));
		p->state = US_RUNNABLE;
		p->pid = next_pid++;
		p->ppid = ppid;
		p->ep = ep;
		p->frame = *f;
		return p;
	}
	return NULL;
}

const struct mb_module *proc_module(const char *name)
{
	for (uint32_t i = 0; i < mb_boot.nmodules; i++) {
		const struct mb_module *m = &mb_boot.modules[i];
		if (strcmp(m->name, name) == 0 || strcmp(m->path, name) == 0)
			return m;
	}
	return NULL;
}

void proc_start_frame(struct uframe *f, vir_bytes entry, vir_bytes stack_top)
{
	memset(f, 0, sizeof(*f));
	f->gs = f->fs = f->es = f->ds = f->ss = SEL_UDATA;
	f->cs = SEL_UCODE;
	f->eip = entry;
	f->esp = stack_top;
	f->eflags = 0x2; /* IF off: the kernel polls; IOPL 0: no ports */
}

static struct uproc *by_pid(int pid)
{
	for (int i = 0; i < VM_NR_PROCS; i++)
		if (procs[i].state != US_FREE && procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

/* Hand zombie child c to its waiting parent w: w runs again with c's pid
 * and, if it asked, the status in its memory; c's record is free. */
static void reap(struct uproc *w, struct uproc *c)
{
	w->frame.eax = (uint32_t)c->pid;
	if (w->wait_status) {
		struct kproc *kp = machine_proc(w->ep);
		int32_t st = c->status;
		if (kp == NULL || uaccess_user(kp, w->wait_status, &st, sizeof(st), true) != 0)
			w->frame.eax = (uint32_t)-EFAULT;
	}
	w->state = US_RUNNABLE;
	w->wait_status = 0;
	c->state = US_FREE;
}

void proc_end(struct uproc *p, int status)
{
	if (machine_proc(p->ep) != NULL && machine_exit(p->ep) != 0)
		kpanic("%s: VM refused the exit of pid %d (endpoint %ld)", __func__, p->pid,
		       (long)p->ep);
	p->ep = -1;
	p->status = status;
	p->state = US_ZOMBIE;
	for (int i = 0; i < VM_NR_PROCS; i++) {
		struct uproc *c = &procs[i];
		if (c->state == US_FREE || c == p || c->ppid != p->pid)
			continue;
		c->ppid = INIT_PID;
		if (c->state == US_ZOMBIE && p->pid == INIT_PID)
			c->state = US_FREE; /* nobody left to wait for it */
	}
	if (p->pid == INIT_PID) {
		init_status = status;
		p->state = US_FREE;
		return;
	}
	struct uproc *parent = by_pid(p->ppid);
	if (parent == NULL || parent->state == US_ZOMBIE)
		p->state = US_FREE; /* orphaned and init is gone */
	else if (parent->state == US_WAITING)
		reap(parent, p);
}

int proc_wait(struct uproc *p, vir_bytes status_addr)
{
	bool children = false;

	p->wait_status = status_addr;
	for (int i = 0; i < VM_NR_PROCS; i++) {
		struct uproc *c = &procs[i];
		if (c->state == US_FREE || c == p || c->ppid != p->pid)
			continue;
		if (c->state == US_ZOMBIE) {
			reap(p, c);
			return 0;
		}
		children = true;
	}
	p->wait_status = 0;
	if (!children)
		return -ECHILD;
	p->wait_status = status_addr;
	p->state = US_WAITING;
	return 1;
}

/* VM's count of free pages. */
static uint32_t free_pages(void)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_QUERY;
	m.m_query.what = VMQ_FREE;
	if (machine_call(&m) != VM_OK)
		kpanic("%s: VM_QUERY failed with %d", __func__, m.m_type);
	return m.m_query.val[0];
}

/* Every process has ended: VM must have every page back and be
 * consistent; leave QEMU as init's status says. */
static _Noreturn void finish(void)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_SANITY;
	int r = machine_call(&m);
	uint32_t free_now = free_pages();
	console_printf("vmkernel: init exited with status %d; VM: %lu page faults, %lu free pages "
		       "(%lu at boot), consistency check: %s, %lu findings\n",
		       init_status, (unsigned long)km.faults_delivered, (unsigned long)free_now,
		       (unsigned long)free_at_boot, r == VM_OK ? "ran" : "failed",
		       (unsigned long)m.m_sanity.findings);
	bool clean = r == VM_OK && m.m_sanity.findings == 0 && free_now == free_at_boot;
	cpu_exit(init_status == 0 && clean ? KEXIT_PASSED : KEXIT_FAILED);
}

/* The next runnable process after current, in slot order. */
static struct uproc *pick(void)
{
	int start = current ? (int)(current - procs) : VM_NR_PROCS - 1;
	bool waiting = false;

	for (int n = 1; n <= VM_NR_PROCS; n++) {
		struct uproc *p = &procs[(start + n) % VM_NR_PROCS];
		if (p->state == US_RUNNABLE)
			return p;
		waiting |= p->state == US_WAITING;
	}
	if (waiting)
		kpanic("%s: every process waits for a child", __func__);
	finish();
}

/* Load p's address space (VM must have given it one). */
static void load(struct uproc *p)
{
	struct kproc *kp = machine_proc(p->ep);
	if (kp == NULL || kp->cr3 == 0)
		kpanic("%s: pid %d (endpoint %ld) has no address space", __func__, p->pid,
		       (long)p->ep);
	paging_load(kp->cr3);
}

static const char *signame(int sig)
{
	switch (sig) {
	case SIGILL:
		return "SIGILL";
	case SIGFPE:
		return "SIGFPE";
	case VM_SIGBUS:
		return "SIGBUS";
	case VM_SIGKILL:
		return "SIGKILL";
	default:
		return "SIGSEGV";
	}
}

void proc_kill(struct uproc *p, int sig, const char *why, uint32_t addr)
{
	console_printf("vmkernel: pid %d killed (%s): %s at 0x%08lx\n", p->pid, signame(sig), why,
		       (unsigned long)addr);
	proc_end(p, 128 + sig);
}

/* An exception in ring 3. */
static void user_exception(struct uproc *p, uint32_t cr2)
{
	struct uframe *f = &p->frame;

	if (f->vector == 14) {
		struct kproc *kp = machine_proc(p->ep);
		int r = uaccess_deliver_fault(kp, cr2, f->err & (PF_P | PF_W | PF_U));
		if (r == 0)
			return; /* resolved: the instruction runs again */
		proc_kill(p, r == ENOMEM ? VM_SIGBUS : VM_SIGSEGV,
			  r == ENOMEM ? "page fault VM could not back" : "page fault VM refused",
			  cr2);
		return;
	}
	int sig = f->vector == 0 ? SIGFPE : f->vector == 6 ? SIGILL : VM_SIGSEGV;
	console_printf("vmkernel: pid %d: exception %lu, error code 0x%lx\n", p->pid,
		       (unsigned long)f->vector, (unsigned long)f->err);
	proc_kill(p, sig, "exception", f->eip);
}

void utrap(struct uframe *uf)
{
	if ((uf->cs & 3) == 0) {
		trap((struct trapframe *)&uf->edi);
		return;
	}
	uint32_t cr2 = read_cr2();
	paging_load(paging_kernel_cr3());
	struct uproc *p = current;
	p->frame = *uf;
	if (uf->vector == SYSCALL_VECTOR)
		syscall_dispatch(p);
	else
		user_exception(p, cr2);
	if (p->state != US_RUNNABLE || yielded)
		p = pick();
	yielded = false;
	current = p;
	*uf = p->frame;
	load(p);
}

_Noreturn void proc_run_init(const char *name, uint32_t mem_bytes)
{
	const struct mb_module *m = proc_module(name);
	endpoint_t ep;
	bool killed;
	vir_bytes entry, sp;
	int r;

	if (m == NULL) {
		console_printf("vmkernel: init: no module %s\n", name);
		cpu_exit(KEXIT_ERROR);
	}
	if ((r = machine_boot(mem_bytes)) == 0)
		free_at_boot = free_pages();
	if (r != 0 || (r = machine_spawn("init", false, &ep)) != 0 ||
	    (r = machine_exec(ep, m->data, m->len, &killed, &entry, &sp)) != 0) {
		console_printf("vmkernel: init: cannot start %s: error %d\n", name, r);
		cpu_exit(KEXIT_ERROR);
	}
	for (int v = 0; v < 32; v++)
		cpu_set_gate(v, utrap_vectors[v], 0);
	cpu_set_gate(SYSCALL_VECTOR, utrap_vectors[32], 3);
	struct uframe f;
	proc_start_frame(&f, entry, sp);
	current = proc_new(ep, 0, &f);
	static struct uframe start;
	start = current->frame;
	load(current);
	user_enter(&start);
}
