/*
 * The debug call over COM2 (see debugport.h and docs/debug-call.md).
 *
 * The byte stream is the one `vm serve` reads from a client's socket
 * (kernel-stubs/hosted/serve.c), validated the same way: a request reaches
 * VM only whole and valid. A serial line has no connections to drop,
 * though, and QEMU's socket chardev says nothing to the UART when a client
 * comes or goes, so "drop the connection" becomes "drop the bytes":
 *
 * - wrong magic or a length other than 16: the bytes are discarded one at
 *   a time until a request header can start (resynchronising on the
 *   magic), so the next client's requests are found again;
 * - another version: the reply the protocol promises (our version, status
 *   EINVAL, no payload), then the header is discarded and the rest resyncs
 *   as above;
 * - part of a request, then nothing for GAP_MS: the part is discarded (its
 *   client went away; the next one must not be read as its tail).
 *
 * Interrupts are off: the kernel polls the UART and does nothing else.
 */
#include "debugport.h"

#include <stdbool.h>
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/ipc.h>

#include "../scenario/scenario.h"
#include "console.h"
#include "cpu.h"
#include "machine.h"
#include "multiboot.h"
#include "x86.h"

#define COM2 0x2F8
#define LSR_DR 0x01   /* a received byte waits */
#define LSR_THRE 0x20 /* room to send */

#define HDR_LEN ((uint32_t)sizeof(struct vmi_header))
#define REQ_LEN ((uint32_t)sizeof(struct vmi_request))
#define GAP_MS 1000 /* a half request, then silence: dropped */

_Static_assert(HDR_LEN == 20 && REQ_LEN == 16, "the wire layout");

/* The reply buffer VM writes to: kernel .bss, inside the kernel's
 * reserved range (1 MB to the image's end), which reply_buffer() in
 * vm/info.c requires. */
static uint8_t reply[VMI_MAX_PAYLOAD] __attribute__((aligned(4096)));
static uint8_t in[HDR_LEN + REQ_LEN];
static uint32_t in_len;
static uint32_t dropped; /* bytes discarded since the last report */
static uint64_t tsc_per_ms;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* TSC ticks per millisecond, measured against 10 ms of PIT channel 2
 * (1.193182 MHz, gated through port 0x61; its output shows in bit 5). */
static void calibrate(void)
{
	const uint32_t latch = 11932; /* 10 ms */
	uint8_t p61 = inb(0x61);

	outb(0x61, (uint8_t)((p61 & ~0x02) | 0x01)); /* gate on, speaker off */
	outb(0x43, 0xB0);                            /* channel 2, lo/hi, mode 0 */
	outb(0x42, latch & 0xFF);
	outb(0x42, latch >> 8);
	uint64_t t0 = rdtsc();
	uint32_t spins = 0;
	while (!(inb(0x61) & 0x20) && ++spins < 50000000)
		;
	uint64_t t1 = rdtsc();
	outb(0x61, p61);
	tsc_per_ms = (t1 - t0) / 10;
	if (tsc_per_ms == 0 || spins >= 50000000)
		tsc_per_ms = 1000000; /* no PIT: guess 1 GHz */
}

void debugport_init(void)
{
	outb(COM2 + 1, 0x00); /* no interrupts */
	outb(COM2 + 3, 0x80); /* divisor latch */
	outb(COM2 + 0, 0x01); /* 115200 baud */
	outb(COM2 + 1, 0x00);
	outb(COM2 + 3, 0x03); /* 8N1 */
	outb(COM2 + 2, 0xC7); /* FIFO on, cleared */
	outb(COM2 + 4, 0x03); /* DTR, RTS */
	calibrate();
}

static void put(uint8_t c)
{
	while (!(inb(COM2 + 5) & LSR_THRE))
		;
	outb(COM2, c);
}

static void put_le(uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		put((uint8_t)(v >> (8 * i)));
}

static uint32_t get_le(const uint8_t *p, int bytes)
{
	uint32_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A reply: the header (struct vmi_header's wire layout), then len bytes. */
static void send_reply(uint16_t subcall, uint32_t status, uint32_t seq, const uint8_t *data,
		       uint32_t len)
{
	put_le(VMI_MAGIC, 4);
	put_le(VMI_VERSION, 2);
	put_le(subcall, 2);
	put_le(status, 4);
	put_le(seq, 4);
	put_le(len, 4);
	for (uint32_t i = 0; i < len; i++)
		put(data[i]);
}

int debugport_ask(uint16_t subcall, const struct vmi_request *req, const uint8_t **out,
		  uint32_t *len)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = KERNEL;
	m.m_type = VM_INFO;
	m.m_info.subcall = subcall;
	m.m_info.endpoint = req->endpoint;
	m.m_info.cursor = req->cursor;
	m.m_info.addr = req->addr;
	m.m_info.flags = req->flags;
	m.m_info.buf = virt_to_phys(reply);
	m.m_info.buflen = sizeof(reply);
	int r = machine_call(&m);
	*out = reply;
	*len = 0;
	if (r != VM_OK)
		return r;
	if (m.m_info.len > sizeof(reply)) {
		console_printf("vmkernel: VM_INFO reply of %lu bytes\n",
			       (unsigned long)m.m_info.len);
		return EIO;
	}
	*len = m.m_info.len;
	return 0;
}

/* Discard the first n bytes of the input. */
static void consume(uint32_t n, bool drop)
{
	in_len -= n;
	memmove(in, in + n, in_len);
	if (drop)
		dropped += n;
}

static void report_dropped(const char *why)
{
	if (dropped > 0)
		console_printf("vmkernel: debug port: dropped %lu bytes (%s)\n",
			       (unsigned long)dropped, why);
	dropped = 0;
}

/* Answer what the input holds: every whole valid request; garbage is
 * dropped (resynchronising on the magic); a half request waits. */
static void serve_input(void)
{
	static const uint8_t magic[4] = { VMI_MAGIC & 0xFF, (VMI_MAGIC >> 8) & 0xFF,
					  (VMI_MAGIC >> 16) & 0xFF, VMI_MAGIC >> 24 };

	while (in_len > 0) {
		uint32_t n = in_len < 4 ? in_len : 4;
		if (memcmp(in, magic, n) != 0) {
			consume(1, true); /* not a request (yet): resync */
			continue;
		}
		if (in_len < HDR_LEN)
			return;
		uint16_t version = (uint16_t)get_le(in + 4, 2),
			 subcall = (uint16_t)get_le(in + 6, 2);
		uint32_t seq = get_le(in + 12, 4), len = get_le(in + 16, 4);
		if (version != VMI_VERSION) {
			report_dropped("not a request");
			console_printf("vmkernel: debug port: a client speaks version %u, not %u: "
				       "told so\n",
				       (unsigned)version, (unsigned)VMI_VERSION);
			send_reply(subcall, EINVAL, seq, NULL, 0);
			consume(HDR_LEN, false); /* what follows resyncs */
			continue;
		}
		if (len != REQ_LEN) {
			consume(1, true);
			continue;
		}
		if (in_len < HDR_LEN + REQ_LEN)
			return;
		report_dropped("not a request");
		const uint8_t *p = in + HDR_LEN;
		struct vmi_request req = {
			.endpoint = (int32_t)get_le(p, 4),
			.cursor = get_le(p + 4, 4),
			.addr = get_le(p + 8, 4),
			.flags = get_le(p + 12, 4),
		};
		const uint8_t *out;
		uint32_t olen;
		/* VM checks the subcall and every argument itself. */
		int r = debugport_ask(subcall, &req, &out, &olen);
		send_reply(subcall, (uint32_t)r, seq, out, olen);
		consume(HDR_LEN + REQ_LEN, false);
	}
}

_Noreturn void debugport_serve(void)
{
	uint64_t last = rdtsc();

	for (;;) {
		if (inb(COM2 + 5) & LSR_DR) {
			in[in_len++] = inb(COM2);
			last = rdtsc();
			serve_input();
		} else if (in_len > 0 || dropped > 0) {
			if ((rdtsc() - last) / tsc_per_ms >= GAP_MS) {
				/* The client went away in the middle of a
				 * request, or garbage has stopped coming. */
				dropped += in_len;
				in_len = 0;
				report_dropped(dropped == 0 ? "" : "a half request or garbage");
			}
		}
	}
}

/*
 * Serve mode (the kernel argument `serve`): run the modules as scenario
 * files, the last one keeping the machine as it left it (SCN_KEEP, as `vm
 * serve --workload FILE`), then serve that machine on COM2 until QEMU is
 * stopped. The earlier files run as in the normal mode, each on a fresh
 * machine, so that one boot may still check several.
 */
_Noreturn void debugport_run(const struct scn_machine *m)
{
	enum scn_status worst = SCN_PASSED;

	for (uint32_t i = 0; i < mb_boot.nmodules; i++) {
		const struct mb_module *mod = &mb_boot.modules[i];
		bool last = i + 1 == mb_boot.nmodules;
		enum scn_status s =
		    scn_run_opts(m, mod->name, mod->data, mod->len, last ? SCN_KEEP : 0);
		debugcon_printf("result %lu %d %lu\n", (unsigned long)i, (int)s,
				(unsigned long)console_offset());
		if (s > worst)
			worst = s;
	}
	if (!km.booted) {
		console_printf("vmkernel: the scenario left no machine to serve\n");
		cpu_exit(KEXIT_ERROR);
	}
	if (worst != SCN_PASSED)
		console_printf("vmkernel: a scenario did not pass (status %d); serving what it "
			       "left\n",
			       (int)worst);
	/* What the served machine looks like now, for comparing with what a
	 * client is told. */
	struct vmi_request req = { 0 };
	const uint8_t *out;
	uint32_t len;
	struct vmi_stats st;
	if (debugport_ask(VMI_STATS, &req, &out, &len) == 0 && len == sizeof(st)) {
		memcpy(&st, out, sizeof(st));
		console_printf("vmkernel: serving the debug call on COM2 (%lu MB): pages total %lu "
			       "free %lu largest %lu cached %lu slab %lu pagetables %lu vm %lu, "
			       "%lu processes, %lu grants\n",
			       (unsigned long)(km.mem_bytes >> 20), (unsigned long)st.pages_total,
			       (unsigned long)st.pages_free, (unsigned long)st.largest_free,
			       (unsigned long)st.pages_cached, (unsigned long)st.pages_slab,
			       (unsigned long)st.pages_pagetables, (unsigned long)st.pages_vm,
			       (unsigned long)st.nprocs, (unsigned long)st.grants);
	}
	debugport_serve();
}
