/*
 * The console: COM1 (QEMU -serial stdio) carries what `vm run` prints on
 * stdout; the debugcon port 0xe9 (QEMU -debugcon) carries one result
 * record per scenario for test drivers (see docs/qemu.md).
 */
#ifndef I386_CONSOLE_H
#define I386_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Set up COM1 (115200 8N1, polled). */
void console_init(void);

/* Write s[0..len) to COM1. */
void console_write(const char *s, size_t len);

/* printf to COM1 (the scenario runner's formatter: d i u x X c s, l). */
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_vprintf(const char *fmt, va_list ap);

/* Bytes written to COM1 since boot. */
uint32_t console_offset(void);

/* printf to the debugcon port. */
void debugcon_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
