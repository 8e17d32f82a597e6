/* Printing and panics inside VM (no host library here). */
#ifndef VM_UTIL_H
#define VM_UTIL_H

#include <stdarg.h>
#include <stddef.h>

/* Format into buf (always terminated when n > 0): %s %c %d %u %x %p, with
 * optional width, '0' and '-' flags and the 'l'/'ll'/'z' sizes. Returns
 * the length the full output would have. */
int vm_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int vm_snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Print to the machine's diagnostics console. */
void vm_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Corrupted state: print "VM: panic: <message>" and leave through
 * sys_abort(). Give the values that explain it, e.g.
 * panic("%s: frame 0x%x freed twice", __func__, frame). */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define roundup_page(x) (((x) + VM_PAGE_MASK) & ~VM_PAGE_MASK)
#define rounddown_page(x) ((x) & ~VM_PAGE_MASK)

#endif
