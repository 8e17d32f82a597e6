/*
 * A small printf for code that has no C library: the scenario runner
 * formats its messages with it on both machines. It knows the subset the
 * runner needs, with printf's meaning: flags '-' and '0', a field width,
 * a precision for %s ('.N' or '.*'), the length modifier 'l', and the
 * conversions d i u x X c s %. Nothing wider than long is formatted, so
 * an i386 build needs no 64-bit division from libgcc.
 */
#ifndef SCN_FMT_H
#define SCN_FMT_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __GNUC__
#define SCN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SCN_PRINTF(f, a)
#endif

/* Receives the formatted text one character at a time. */
typedef void (*scn_putc_fn)(void *arg, char c);

/* Format fmt with ap, handing each character to put(arg, c). Returns the
 * number of characters produced. */
size_t scn_vformat(scn_putc_fn put, void *arg, const char *fmt, va_list ap);

/* Like vsnprintf: writes at most size - 1 characters and a NUL to buf
 * (nothing if size is 0); returns the length the whole text has. */
size_t scn_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* Like snprintf, see scn_vsnprintf. */
size_t scn_snprintf(char *buf, size_t size, const char *fmt, ...) SCN_PRINTF(3, 4);

#endif
