/*
 * The tiny system-call library of the i386 machine's ring-3 programs:
 * one wrapper per call of sysnr.h (a negative errno on failure) and a few
 * console helpers. A program defines main(); _start calls exit(main()).
 */
#ifndef I386_USER_ULIB_H
#define I386_USER_ULIB_H

#include <stddef.h>
#include <stdint.h>
#include <vmscope/errno.h>
#include <vmscope/mman.h>

#include "sysnr.h"

int main(void);

_Noreturn void exit(int status);
int write(int fd, const void *buf, size_t len);
int getpid(void);
int fork(void);
int wait(int *status);
int exec(const char *name);
/* The address, or a negative errno (test with mmap_failed()). */
void *mmap(void *addr, size_t len, int prot, int flags);
int munmap(void *addr, size_t len);
/* The new break (0: the current one), or a negative errno. */
intptr_t brk(void *addr);
int yield(void);

/* Whether mmap's result is an errno. */
static inline int mmap_failed(const void *r)
{
	return (uintptr_t)r >= (uintptr_t)-4096;
}

size_t strlen(const char *s);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* printf to the console: %d %u %x %s %c and %%. */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
