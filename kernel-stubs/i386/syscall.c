/* System calls of ring-3 processes (see syscall.h). */
#include "syscall.h"

#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/kernel.h>

#include "console.h"
#include "exec.h"
#include "machine.h"
#include "multiboot.h"
#include "uaccess.h"
#include "user/sysnr.h"

#define NAME_MAX_LEN 64

/* Copy a NUL-terminated string of at most size - 1 characters from p's
 * va. 0, EFAULT, or ENAMETOOLONG (as E2BIG here). */
static int copy_string(struct kproc *kp, vir_bytes va, char *buf, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		int r = uaccess_user(kp, va + i, &buf[i], 1, false);
		if (r != 0)
			return r;
		if (buf[i] == '\0')
			return 0;
	}
	return E2BIG;
}

static int32_t sys_write(struct kproc *kp, vir_bytes buf, uint32_t len)
{
	char chunk[256];

	for (uint32_t done = 0; done < len;) {
		uint32_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		int r = uaccess_user(kp, buf + done, chunk, n, false);
		if (r != 0)
			return -r;
		console_write(chunk, n);
		done += n;
	}
	return (int32_t)len;
}

static int32_t sys_fork(struct uproc *p)
{
	endpoint_t child;
	struct uframe f = p->frame;
	int r = machine_fork(p->ep, machine_proc(p->ep)->name, &child);
	if (r != 0)
		return -r;
	f.eax = 0;
	struct uproc *c = proc_new(child, p->pid, &f);
	if (c == NULL) {
		machine_exit(child);
		return -EAGAIN;
	}
	return c->pid;
}

/* exec NAME: a boot module. On success p starts the new image; a
 * failure after the old image was gone ends p (SIGKILL). */
static int32_t sys_exec(struct uproc *p, struct kproc *kp, vir_bytes name_va)
{
	char name[NAME_MAX_LEN];
	vir_bytes entry, sp;
	bool killed;
	int r;

	if ((r = copy_string(kp, name_va, name, sizeof(name))) != 0)
		return -r;
	const struct mb_module *m = proc_module(name);
	if (m == NULL)
		return -ENOENT;
	r = machine_exec(p->ep, m->data, m->len, &killed, &entry, &sp);
	if (killed) {
		proc_kill(p, VM_SIGKILL, "exec failed after the old image was gone", 0);
		return 0;
	}
	if (r != 0)
		return -r;
	strncpy(kp->name, name, sizeof(kp->name) - 1);
	proc_start_frame(&p->frame, entry, sp);
	return 0;
}

/* A VM call made by p itself. */
static int32_t vm_call(struct uproc *p, message *m)
{
	m->m_source = p->ep;
	return machine_call(m);
}

void syscall_dispatch(struct uproc *p)
{
	struct uframe *f = &p->frame;
	struct kproc *kp = machine_proc(p->ep);
	uint32_t a1 = f->ebx, a2 = f->ecx, a3 = f->edx, a4 = f->esi;
	int32_t r;
	message m;

	memset(&m, 0, sizeof(m));
	switch (f->eax) {
	case SYS_EXIT:
		proc_end(p, (int)(a1 & 0xFF));
		return;
	case SYS_WRITE:
		r = sys_write(kp, a2, a3);
		break;
	case SYS_GETPID:
		r = p->pid;
		break;
	case SYS_FORK:
		r = sys_fork(p);
		break;
	case SYS_WAIT:
		r = proc_wait(p, a1);
		if (r >= 0)
			return; /* reaped (EAX set) or blocked */
		break;
	case SYS_EXEC:
		r = sys_exec(p, kp, a1);
		if (r == 0)
			return; /* a new image, or ended */
		break;
	case SYS_MMAP:
		m.m_type = VM_MMAP;
		m.m_mmap.addr = a1;
		m.m_mmap.len = a2;
		m.m_mmap.prot = (int32_t)a3;
		m.m_mmap.flags = (int32_t)a4;
		r = vm_call(p, &m);
		r = r == VM_OK ? (int32_t)m.m_mmap.addr : -r;
		break;
	case SYS_MUNMAP:
		m.m_type = VM_MUNMAP;
		m.m_munmap.addr = a1;
		m.m_munmap.len = a2;
		r = -vm_call(p, &m);
		break;
	case SYS_BRK:
		m.m_type = VM_BRK;
		m.m_brk.addr = a1;
		r = vm_call(p, &m);
		r = r == VM_OK ? (int32_t)m.m_brk.addr : -r;
		break;
	case SYS_YIELD:
		proc_yield();
		r = 0;
		break;
	default:
		r = -ENOSYS;
		break;
	}
	f->eax = (uint32_t)r;
}
