/* The system-call library (see ulib.h). */
#include "ulib.h"

#include <stdarg.h>

static int32_t syscall4(int nr, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	int32_t r;
	__asm__ volatile("int $0x80"
			 : "=a"(r)
			 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d)
			 : "memory");
	return r;
}

void _start(void);
void _start(void)
{
	exit(main());
}

_Noreturn void exit(int status)
{
	syscall4(SYS_EXIT, (uint32_t)status, 0, 0, 0);
	for (;;)
		;
}

int write(int fd, const void *buf, size_t len)
{
	return syscall4(SYS_WRITE, (uint32_t)fd, (uint32_t)(uintptr_t)buf, len, 0);
}

int getpid(void)
{
	return syscall4(SYS_GETPID, 0, 0, 0, 0);
}

int fork(void)
{
	return syscall4(SYS_FORK, 0, 0, 0, 0);
}

int wait(int *status)
{
	return syscall4(SYS_WAIT, (uint32_t)(uintptr_t)status, 0, 0, 0);
}

int exec(const char *name)
{
	return syscall4(SYS_EXEC, (uint32_t)(uintptr_t)name, 0, 0, 0);
}

void *mmap(void *addr, size_t len, int prot, int flags)
{
	return (void *)(intptr_t)syscall4(SYS_MMAP, (uint32_t)(uintptr_t)addr, len, (uint32_t)prot,
					  (uint32_t)flags);
}

int munmap(void *addr, size_t len)
{
	return syscall4(SYS_MUNMAP, (uint32_t)(uintptr_t)addr, len, 0, 0);
}

intptr_t brk(void *addr)
{
	return syscall4(SYS_BRK, (uint32_t)(uintptr_t)addr, 0, 0, 0);
}

int yield(void)
{
	return syscall4(SYS_YIELD, 0, 0, 0, 0);
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

/* Append the digits of v in base to out at *n. */
static void number(char *out, size_t *n, size_t size, uint32_t v, unsigned base)
{
	char digits[12];
	int k = 0;
	do {
		digits[k++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (k > 0 && *n < size)
		out[(*n)++] = digits[--k];
}

void printf(const char *fmt, ...)
{
	char out[256];
	size_t n = 0;
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt && n < sizeof(out); fmt++) {
		if (*fmt != '%') {
			out[n++] = *fmt;
			continue;
		}
		switch (*++fmt) {
		case 'd': {
			int v = va_arg(ap, int);
			if (v < 0 && n < sizeof(out)) {
				out[n++] = '-';
				v = -v;
			}
			number(out, &n, sizeof(out), (uint32_t)v, 10);
			break;
		}
		case 'u':
			number(out, &n, sizeof(out), va_arg(ap, uint32_t), 10);
			break;
		case 'x':
			number(out, &n, sizeof(out), va_arg(ap, uint32_t), 16);
			break;
		case 's':
			for (const char *s = va_arg(ap, const char *); *s && n < sizeof(out); s++)
				out[n++] = *s;
			break;
		case 'c':
			out[n++] = (char)va_arg(ap, int);
			break;
		case '\0':
			fmt--;
			break;
		default:
			out[n++] = *fmt;
			break;
		}
	}
	va_end(ap);
	write(1, out, n);
}
