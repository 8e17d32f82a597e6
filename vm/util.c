/*
 * A small formatter and VM's panic. VM runs freestanding on the i386
 * machine, so it brings its own printf subset instead of the host's.
 */
#include <stdint.h>
#include <string.h>
#include <vmscope/kernel.h>

#include "util.h"

struct out {
	char *buf;
	size_t n;
	size_t len;
};

static void out_c(struct out *o, char c)
{
	if (o->len + 1 < o->n)
		o->buf[o->len] = c;
	o->len++;
}

/* Digits of v; left-justification is done by the caller. */
static void out_num(struct out *o, unsigned long long v, unsigned base, int neg, int width,
		    char pad, int left)
{
	char tmp[24];
	int k = 0;

	do {
		tmp[k++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	if (neg)
		tmp[k++] = '-';
	if (!left)
		for (int i = k; i < width; i++)
			out_c(o, pad);
	while (k > 0)
		out_c(o, tmp[--k]);
}

int vm_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct out o = { buf, n, 0 };

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			out_c(&o, *p);
			continue;
		}
		p++;
		int left = 0;
		char pad = ' ';
		int width = 0;
		int lng = 0;
		if (*p == '-') {
			left = 1;
			p++;
		}
		if (*p == '0') {
			pad = '0';
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		while (*p == 'l' || *p == 'z') {
			lng += 1; /* size_t is unsigned long on both machines */
			p++;
		}
		size_t start = o.len;
		switch (*p) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			size_t sl = strlen(s ? s : "(null)");
			if (!left)
				for (size_t i = sl; i < (size_t)width; i++)
					out_c(&o, ' ');
			for (const char *q = s ? s : "(null)"; *q; q++)
				out_c(&o, *q);
			break;
		}
		case 'c':
			out_c(&o, (char)va_arg(ap, int));
			break;
		case 'd': {
			long long v = lng >= 2   ? va_arg(ap, long long)
				      : lng == 1 ? va_arg(ap, long)
						 : va_arg(ap, int);
			out_num(&o, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v,
				10, v < 0, width, pad, left);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = lng >= 2   ? va_arg(ap, unsigned long long)
					       : lng == 1 ? va_arg(ap, unsigned long)
							  : va_arg(ap, unsigned int);
			out_num(&o, v, *p == 'u' ? 10 : 16, 0, width, pad, left);
			break;
		}
		case 'p':
			out_c(&o, '0');
			out_c(&o, 'x');
			out_num(&o, (uintptr_t)va_arg(ap, void *), 16, 0, 0, ' ', 0);
			break;
		case '%':
			out_c(&o, '%');
			break;
		default:
			out_c(&o, '%');
			if (*p)
				out_c(&o, *p);
			else
				p--;
			break;
		}
		if (left)
			while (o.len - start < (size_t)width)
				out_c(&o, ' ');
	}
	if (n > 0)
		buf[o.len < n ? o.len : n - 1] = '\0';
	return (int)o.len;
}

int vm_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vm_vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

void vm_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int r = vm_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sys_diagprint(buf, (size_t)r < sizeof(buf) ? (size_t)r : sizeof(buf) - 1);
}

_Noreturn void panic(const char *fmt, ...)
{
	char buf[512];
	int k = vm_snprintf(buf, sizeof(buf), "VM: panic: ");
	va_list ap;
	va_start(ap, fmt);
	k += vm_vsnprintf(buf + k, sizeof(buf) - (size_t)k, fmt, ap);
	va_end(ap);
	if ((size_t)k >= sizeof(buf) - 1)
		k = (int)sizeof(buf) - 2;
	buf[k++] = '\n';
	sys_diagprint(buf, (size_t)k);
	sys_abort();
}
