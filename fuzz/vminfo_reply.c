/*
 * fuzz_vminfo_reply: libvminfo's reply decoder (docs/fuzzing.md).
 *
 * libvminfo talks to a fake server on a socketpair: a thread that answers
 * each request with bytes from the input. The main thread opens the
 * connection (the handshake is a VMI_STATS request) and then calls every
 * request function of the library, starting with the one the input's
 * second byte names, and the helpers the tools use on what it decoded.
 * By the input's first byte:
 *   odd:  the rest of the input is the server's byte stream, as it is;
 *   even: the rest is a list of replies, one per request:
 *           ctl:u8 [magic:u32 if ctl&1] [version:u16 if ctl&2]
 *           [subcall:u16 if ctl&4] [status:u32 if ctl&8] [seq:u32 if ctl&16]
 *           paylen:u16 [len:u32 if ctl&32] payload[paylen]
 *         a field not given is right (the request's subcall and sequence
 *         number echoed), len is paylen unless given; with ctl&32 or
 *         ctl&64 the server hangs up after that reply.
 * The server hangs up when the input is used up, so the client never
 * waits for its deadline. Findings: a crash, a sanitizer report (leaks
 * included), a call that succeeds with more entries than the replies
 * held.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vminfo.h>

#include "input.h"

struct server {
	int fd;
	bool raw;
	struct input in;
};

static bool read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t k = read(fd, p, len);
		if (k <= 0)
			return false;
		p += k;
		len -= (size_t)k;
	}
	return true;
}

static bool write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
		if (k <= 0)
			return false;
		p += k;
		len -= (size_t)k;
	}
	return true;
}

static void *serve(void *arg)
{
	struct server *s = arg;
	static uint8_t payload[65536];
	struct {
		struct vmi_header h;
		struct vmi_request r;
	} req;

	if (s->raw) {
		write_full(s->fd, s->in.p, s->in.left);
		shutdown(s->fd, SHUT_WR);
		while (read(s->fd, &req, sizeof(req)) > 0)
			;
	} else {
		while (s->in.left > 0 && read_full(s->fd, &req, sizeof(req))) {
			struct input *in = &s->in;
			uint8_t ctl = in_u8(in);
			struct vmi_header h = {
				.magic = ctl & 1 ? in_u32(in) : VMI_MAGIC,
				.version = ctl & 2 ? in_u16(in) : VMI_VERSION,
				.subcall = ctl & 4 ? in_u16(in) : req.h.subcall,
				.status = ctl & 8 ? in_u32(in) : 0,
				.seq = ctl & 16 ? in_u32(in) : req.h.seq,
			};
			uint16_t paylen = in_u16(in);
			h.len = ctl & 32 ? in_u32(in) : paylen;
			size_t n = in_bytes(in, payload, paylen);
			if (!write_full(s->fd, &h, sizeof(h)) || !write_full(s->fd, payload, n) ||
			    (ctl & 96))
				break;
		}
	}
	close(s->fd);
	return NULL;
}

static void check_count(size_t n, size_t entry_size, size_t input_size)
{
	/* Every entry came from the input: no more of them than it held. */
	if (n > 0 && n * entry_size > input_size) {
		fprintf(stderr, "fuzz_vminfo_reply: %zu entries from %zu input bytes\n", n,
			input_size);
		abort();
	}
}

#define LIST(call, type)                                                                           \
	do {                                                                                       \
		type *arr = NULL;                                                                  \
		size_t n = 0;                                                                      \
		if ((call) == VMINFO_OK)                                                           \
			check_count(n, sizeof(type), size);                                        \
		else if (n != 0 || arr != NULL)                                                    \
			abort();                                                                   \
		use_##type(arr, n);                                                                \
		free(arr);                                                                         \
	} while (0)

typedef struct vmi_proc proc_t;
typedef struct vmi_region region_t;
typedef struct vmi_page page_t;
typedef struct vmi_slab slab_t;
typedef struct vmi_grant grant_t;
typedef struct vmi_finding finding_t;

static volatile size_t sink;

/* What the tools do with the entries: names, modes, flags, strings. */
static void use_proc_t(const proc_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink += strnlen(a[i].name, sizeof(a[i].name));
}

static void use_region_t(const region_t *a, size_t n)
{
	char mode[5], flags[64];
	for (size_t i = 0; i < n; i++) {
		const char *t = vminfo_memtype_name(a[i].memtype);
		sink += strlen(vminfo_region_mode(a[i].flags, mode)) +
			strlen(vminfo_region_flags(a[i].flags, flags, sizeof(flags))) +
			(t ? strlen(t) : 0);
	}
}

static void use_page_t(const page_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink += a[i].refcount;
}

static void use_slab_t(const slab_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink += a[i].inuse;
}

static void use_grant_t(const grant_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink += a[i].len;
}

static void use_finding_t(const finding_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink += strnlen(a[i].kind_name, sizeof(a[i].kind_name)) +
			strnlen(a[i].text, sizeof(a[i].text)) +
			strnlen(a[i].alloc, sizeof(a[i].alloc)) +
			strnlen(a[i].freed, sizeof(a[i].freed));
}

#define NCALLS 12

static void one_call(struct vminfo *vi, int k, size_t size)
{
	struct vmi_stats st;
	struct vmi_cache c;
	struct vmi_sanity sa;
	struct vmi_proc p;

	switch (k) {
	case 0:
		if (vminfo_stats(vi, &st) == VMINFO_OK)
			for (unsigned i = 0; i < VMI_NCALLS; i++)
				sink += st.calls[i] && vminfo_callname(i) != NULL;
		break;
	case 1:
		LIST(vminfo_procs(vi, &arr, &n), proc_t);
		break;
	case 2:
		LIST(vminfo_regions(vi, 1024, &arr, &n), region_t);
		break;
	case 3:
		LIST(vminfo_pages(vi, 1024, 0x40000000u, &arr, &n), page_t);
		break;
	case 4:
		vminfo_cache(vi, &c);
		break;
	case 5:
		LIST(vminfo_slab(vi, &arr, &n), slab_t);
		break;
	case 6:
		LIST(vminfo_grants(vi, 1024, &arr, &n), grant_t);
		break;
	case 7:
		vminfo_sanity(vi, VMINFO_SANITY_LAST, &sa);
		break;
	case 8:
		vminfo_sanity(vi, VMINFO_SANITY_RUN, &sa);
		break;
	case 9:
		LIST(vminfo_findings(vi, &arr, &n), finding_t);
		break;
	case 10:
		vminfo_find_proc(vi, "A", &p);
		break;
	default:
		vminfo_find_proc(vi, "0x400", &p);
		break;
	}
	sink += strlen(vminfo_strerror(vminfo_last_error(vi)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	int sv[2];
	pthread_t t;
	struct vminfo_error err;

	uint8_t mode = in_u8(&in), first = in_u8(&in);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	struct server s = { sv[1], mode & 1, in };
	if (pthread_create(&t, NULL, serve, &s) != 0)
		abort();
	/* The server never leaves the client waiting; the deadline is there
	 * in case it does (a fuzzer timeout then says so). */
	struct vminfo *vi = vminfo_open_fd(sv[0], "fuzz", 20000, &err);
	if (vi == NULL) {
		sink += strlen(vminfo_strerror(&err));
	} else {
		sink += vminfo_page_size(vi);
		for (int i = 0; i < NCALLS; i++)
			one_call(vi, (first + i) % NCALLS, size);
		vminfo_close(vi);
	}
	pthread_join(t, NULL);
	return 0;
}
