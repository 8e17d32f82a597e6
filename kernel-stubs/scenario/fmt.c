/*
 * A small printf, see fmt.h. It formats straight into a callback so that
 * a caller can stream text of any length through a small buffer.
 */
#include "fmt.h"

#include <stdbool.h>
#include <stdint.h>

/* Emit n copies of c. */
static size_t put_pad(scn_putc_fn put, void *arg, char c, int n)
{
	size_t done = 0;

	for (; n > 0; n--, done++)
		put(arg, c);
	return done;
}

/*
 * Emit a converted field: an optional sign, then the digits or text s of
 * length len, padded to width. Zero padding goes between the sign and the
 * digits, as printf puts it.
 */
static size_t put_field(scn_putc_fn put, void *arg, const char *sign, const char *s, size_t len,
			int width, bool left, bool zero)
{
	size_t slen = sign ? 1 : 0;
	int pad = width - (int)(len + slen);
	size_t done = 0;

	if (!left && !zero)
		done += put_pad(put, arg, ' ', pad);
	if (sign) {
		put(arg, *sign);
		done++;
	}
	if (!left && zero)
		done += put_pad(put, arg, '0', pad);
	for (size_t i = 0; i < len; i++)
		put(arg, s[i]);
	done += len;
	if (left)
		done += put_pad(put, arg, ' ', pad);
	return done;
}

/* Length of s, but at most prec characters when prec >= 0 (the string
 * need not be NUL-terminated within them). */
static size_t str_len(const char *s, int prec)
{
	size_t n = 0;

	while ((prec < 0 || n < (size_t)prec) && s[n])
		n++;
	return n;
}

/* Digits of v in base (10 or 16) into the end of buf; returns the first. */
static char *utoa(char *end, unsigned long v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;

	do {
		*--p = digits[v % base];
		v /= base;
	} while (v);
	return p;
}

/* Format fmt with ap into put(arg, c); returns the characters produced. */
size_t scn_vformat(scn_putc_fn put, void *arg, const char *fmt, va_list ap)
{
	size_t done = 0;

	for (const char *f = fmt; *f; f++) {
		bool left = false, zero = false, lng = false;
		/* Values are at most long: no 64-bit division, which a
		 * freestanding i386 build would need libgcc for. */
		char num[24], *end = num + sizeof(num), *p;
		const char *s, *sign = NULL;
		unsigned long u;
		int width = 0, prec = -1;
		long d;
		char ch;

		if (*f != '%') {
			put(arg, *f);
			done++;
			continue;
		}
		for (f++; *f == '-' || *f == '0'; f++) {
			if (*f == '-')
				left = true;
			else
				zero = true;
		}
		for (; *f >= '0' && *f <= '9'; f++)
			width = width * 10 + (*f - '0');
		if (*f == '.') {
			prec = 0;
			if (*++f == '*') {
				prec = va_arg(ap, int);
				f++;
			} else {
				for (; *f >= '0' && *f <= '9'; f++)
					prec = prec * 10 + (*f - '0');
			}
		}
		if (*f == 'l') {
			lng = true;
			f++;
		}
		switch (*f) {
		case 'd':
		case 'i':
			d = lng ? va_arg(ap, long) : va_arg(ap, int);
			/* Negate in unsigned arithmetic so LONG_MIN survives. */
			u = d < 0 ? 0UL - (unsigned long)d : (unsigned long)d;
			if (d < 0)
				sign = "-";
			p = utoa(end, u, 10, false);
			done += put_field(put, arg, sign, p, (size_t)(end - p), width, left,
					  zero && !left);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			p = utoa(end, u, *f == 'u' ? 10 : 16, *f == 'X');
			done += put_field(put, arg, NULL, p, (size_t)(end - p), width, left,
					  zero && !left);
			break;
		case 'c':
			ch = (char)va_arg(ap, int);
			done += put_field(put, arg, NULL, &ch, 1, width, left, false);
			break;
		case 's':
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			done += put_field(put, arg, NULL, s, str_len(s, prec), width, left, false);
			break;
		case '%':
			put(arg, '%');
			done++;
			break;
		default:
			/* An unknown conversion is a bug in the caller: show it
			 * rather than guess at its argument. */
			put(arg, '%');
			done++;
			if (!*f)
				return done;
			put(arg, *f);
			done++;
			break;
		}
	}
	return done;
}

/* Where scn_vsnprintf's characters go. */
struct sink {
	char *buf;
	size_t size;
	size_t len;
};

static void sink_put(void *arg, char c)
{
	struct sink *k = arg;

	if (k->len + 1 < k->size)
		k->buf[k->len] = c;
	k->len++;
}

/* vsnprintf into buf[0..size); returns the whole text's length. */
size_t scn_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink k = { buf, size, 0 };

	scn_vformat(sink_put, &k, fmt, ap);
	if (size)
		buf[k.len < size ? k.len : size - 1] = '\0';
	return k.len;
}

/* snprintf into buf[0..size); returns the whole text's length. */
size_t scn_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = scn_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
