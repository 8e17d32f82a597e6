/* COM1 and the debugcon port (see console.h). */
#include "console.h"

#include "../scenario/fmt.h"
#include "x86.h"

#define COM1 0x3F8
#define DEBUGCON 0xE9

static uint32_t written;

void console_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* divisor latch */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xC7); /* FIFO on, cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void com1_putc(void *arg, char c)
{
	(void)arg;
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
	written++;
}

static void debugcon_putc(void *arg, char c)
{
	(void)arg;
	outb(DEBUGCON, (uint8_t)c);
}

void console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		com1_putc(NULL, s[i]);
}

void console_vprintf(const char *fmt, va_list ap)
{
	scn_vformat(com1_putc, NULL, fmt, ap);
}

void console_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	scn_vformat(com1_putc, NULL, fmt, ap);
	va_end(ap);
}

uint32_t console_offset(void)
{
	return written;
}

void debugcon_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	scn_vformat(debugcon_putc, NULL, fmt, ap);
	va_end(ap);
}
