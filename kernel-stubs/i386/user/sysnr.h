/*
 * The i386 machine's system calls, shared by the kernel (syscall.c) and
 * the user library (ulib.c): `int $0x80` with the number in EAX and the
 * arguments in EBX, ECX, EDX, ESI; the result comes back in EAX, a
 * negative errno on failure (Linux's convention).
 */
#ifndef I386_USER_SYSNR_H
#define I386_USER_SYSNR_H

#define SYSCALL_VECTOR 0x80

enum sysnr {
	SYS_EXIT = 1,   /* (status): does not return */
	SYS_WRITE = 2,  /* (fd, buf, len): to the console whatever fd is */
	SYS_GETPID = 3, /* (): the process id */
	SYS_FORK = 4,   /* (): child's pid in the parent, 0 in the child */
	SYS_WAIT = 5,   /* (int *status): pid of an ended child, -ECHILD */
	SYS_EXEC = 6,   /* (name): a boot module; returns only on failure */
	SYS_MMAP = 7,   /* (addr, len, prot, flags): VM_MMAP */
	SYS_MUNMAP = 8, /* (addr, len): VM_MUNMAP */
	SYS_BRK = 9,    /* (addr): VM_BRK, the new (or with 0 the current) break */
	SYS_YIELD = 10, /* (): let the next runnable process run */
};

/* wait's status: the exit status (0-255), or 128 + the signal number
 * for a process the kernel ended (a refused page fault: SIGSEGV 11, out
 * of memory: SIGBUS 7, another exception, a failed exec: SIGKILL 9). */
#define WAIT_SIGNALLED(s) ((s) >= 128)
#define WAIT_SIGNAL(s) ((s)-128)

#ifndef ECHILD
#define ECHILD 10
#endif

#endif
