/*
 * libvminfo (see vminfo.h): requests, replies and the checks that make a
 * reply safe to use.
 *
 * One request is in flight at a time: the client writes a header and a
 * struct vmi_request, then reads a header and its payload into a buffer of
 * VMI_MAX_PAYLOAD bytes. The header is checked in the order that gives the
 * most useful message: a wrong magic means the peer is not a vmscope server
 * at all; a wrong version means it is one we cannot talk to (and the rest
 * of the header may not mean what we think); only then are the echoed
 * subcall and sequence number and the length checked.
 */
#define _GNU_SOURCE /* program_invocation_short_name */
#include "vminfo.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "libvminfo copies the little-endian wire format as it is");
_Static_assert(VM_RQ_LAST - VM_RQ_BASE + 1 == VMI_NCALLS, "calls[] covers every call number");

/* A list longer than this is a server gone wrong, not a big machine (VM
 * has far fewer processes, regions or pages): it bounds what a client
 * spends on one. */
#define MAX_ENTRIES (1u << 20)

struct vminfo {
	int fd; /* -1 once closed after an error */
	uint32_t seq;
	int timeout_ms;
	uint32_t page_size; /* from the handshake */
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	struct vminfo_error err;
	uint8_t payload[VMI_MAX_PAYLOAD];
};

static const char *const subcall_names[VMI_NSUBCALLS] = {
	[VMI_STATS] = "stats",   [VMI_PROCS] = "procs",   [VMI_REGIONS] = "regions",
	[VMI_PAGES] = "pages",   [VMI_CACHE] = "cache",   [VMI_SLAB] = "slab",
	[VMI_GRANTS] = "grants", [VMI_SANITY] = "sanity", [VMI_FINDINGS] = "findings",
};

/* Fills err (which may be NULL) and returns code. */
__attribute__((format(printf, 3, 4))) static int
set_error(struct vminfo_error *err, enum vminfo_errcode code, const char *fmt, ...)
{
	if (err == NULL)
		return code;
	memset(err, 0, sizeof(*err));
	err->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

/* strerror, starting lowercase as it does inside our messages. */
static void lower_strerror(int e, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(e));
	buf[0] = (char)tolower((unsigned char)buf[0]);
}

/* An I/O error: the stream is out of step from here on, so close it. */
static int io_error(struct vminfo *vi, int sys_errno, const char *what)
{
	char why[128];

	if (sys_errno == ETIMEDOUT)
		snprintf(why, sizeof(why), "no reply within %d ms", vi->timeout_ms);
	else if (sys_errno != 0)
		lower_strerror(sys_errno, why, sizeof(why));
	set_error(&vi->err, VMINFO_EIO, "lost the connection to VM at %s: %s", vi->name,
		  sys_errno != 0 ? why : what);
	vi->err.sys_errno = sys_errno;
	if (vi->fd >= 0)
		close(vi->fd);
	vi->fd = -1;
	return VMINFO_EIO;
}

/* A malformed reply: as an I/O error, the stream cannot be trusted. */
__attribute__((format(printf, 2, 3))) static int proto_error(struct vminfo *vi, const char *fmt,
							     ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	set_error(&vi->err, VMINFO_EPROTO, "malformed reply from VM at %s: %s", vi->name, what);
	if (vi->fd >= 0)
		close(vi->fd);
	vi->fd = -1;
	return VMINFO_EPROTO;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes. Returns 0, or
 * an errno (ETIMEDOUT at the deadline). */
static int wait_ready(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return errno;
	}
}

/* Both try the socket first and wait only when it is not ready: a
 * request goes out at once, and a reply's payload has usually arrived
 * with its header (a poll less each, in a round trip of a few syscalls). */
static int send_all(struct vminfo *vi, const void *data, size_t len, int64_t deadline)
{
	const uint8_t *p = data;

	while (len > 0) {
		/* MSG_NOSIGNAL: a server that went away is an error, not SIGPIPE. */
		ssize_t k = send(vi->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return io_error(vi, errno, "");
			int e = wait_ready(vi->fd, POLLOUT, deadline);
			if (e != 0)
				return io_error(vi, e, "");
			continue;
		}
		p += k;
		len -= (size_t)k;
	}
	return VMINFO_OK;
}

static int recv_all(struct vminfo *vi, void *data, size_t len, int64_t deadline)
{
	uint8_t *p = data;

	while (len > 0) {
		ssize_t k = recv(vi->fd, p, len, MSG_DONTWAIT);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return io_error(vi, errno, "");
			int e = wait_ready(vi->fd, POLLIN, deadline);
			if (e != 0)
				return io_error(vi, e, "");
			continue;
		}
		if (k == 0)
			return io_error(vi, 0, "the server closed the connection");
		p += k;
		len -= (size_t)k;
	}
	return VMINFO_OK;
}

static const char *subcall_name(unsigned subcall)
{
	return subcall < VMI_NSUBCALLS && subcall_names[subcall] ? subcall_names[subcall] : "?";
}

/* Sends one request and reads its reply into vi->payload. Returns 0 with
 * the payload's length in *len, or an error code. */
static int transact(struct vminfo *vi, uint16_t subcall, const struct vmi_request *req,
		    uint32_t *len)
{
	struct {
		struct vmi_header h;
		struct vmi_request r;
	} out;
	struct vmi_header in;
	int r;

	memset(&vi->err, 0, sizeof(vi->err));
	if (vi->fd < 0)
		return set_error(&vi->err, VMINFO_EIO, "lost the connection to VM at %s: %s",
				 vi->name, "closed after an earlier error");
	_Static_assert(sizeof(out) == sizeof(struct vmi_header) + sizeof(struct vmi_request),
		       "request sent as one block");
	memset(&out, 0, sizeof(out));
	out.h.magic = VMI_MAGIC;
	out.h.version = VMI_VERSION;
	out.h.subcall = subcall;
	out.h.seq = ++vi->seq;
	out.h.len = sizeof(out.r);
	out.r = *req;

	int64_t deadline = now_ms() + vi->timeout_ms;
	if ((r = send_all(vi, &out, sizeof(out), deadline)) != VMINFO_OK)
		return r;
	if ((r = recv_all(vi, &in, sizeof(in), deadline)) != VMINFO_OK)
		return r;
	if (in.magic != VMI_MAGIC)
		return proto_error(vi, "bad magic 0x%08x", in.magic);
	if (in.version != VMI_VERSION) {
		set_error(&vi->err, VMINFO_EVERSION,
			  "version mismatch: %s speaks %d, the server speaks %u",
			  program_invocation_short_name, VMI_VERSION, in.version);
		vi->err.server_version = in.version;
		close(vi->fd);
		vi->fd = -1;
		return VMINFO_EVERSION;
	}
	if (in.subcall != subcall)
		return proto_error(vi, "answer to subcall %u, asked %s (%u)", in.subcall,
				   subcall_name(subcall), subcall);
	if (in.seq != out.h.seq)
		return proto_error(vi, "answer to request %u, asked %u", in.seq, out.h.seq);
	if (in.len > VMI_MAX_PAYLOAD)
		return proto_error(vi, "payload of %u bytes (at most %u)", in.len, VMI_MAX_PAYLOAD);
	if ((r = recv_all(vi, vi->payload, in.len, deadline)) != VMINFO_OK)
		return r;
	if (in.status != 0) {
		const char *name = in.status <= 0x7fffffff ? vm_strerrno((int)in.status) : NULL;
		char num[24];
		snprintf(num, sizeof(num), "errno %u", in.status);
		set_error(&vi->err, VMINFO_EVM, "VM answered %s to %s", name ? name : num,
			  subcall_name(subcall));
		vi->err.vm_errno = (int)in.status;
		return VMINFO_EVM;
	}
	*len = in.len;
	return VMINFO_OK;
}

/* A reply that is one structure of size bytes (or, from a server that has
 * added fields, more: those are ignored). */
/* A structure of size bytes; a server may send more (fields appended
 * after this client was built: ignored) or, down to min bytes, fewer (an
 * older server: the fields it does not have read as 0). */
static int get_struct_min(struct vminfo *vi, uint16_t subcall, const struct vmi_request *req,
			  void *out, size_t size, size_t min)
{
	uint32_t len;
	int r = transact(vi, subcall, req, &len);

	if (r != VMINFO_OK)
		return r;
	if (len < min)
		return proto_error(vi, "%s payload of %u bytes (want %zu)", subcall_name(subcall),
				   len, min);
	memset(out, 0, size);
	memcpy(out, vi->payload, len < size ? len : size);
	return VMINFO_OK;
}

static int get_struct(struct vminfo *vi, uint16_t subcall, const struct vmi_request *req, void *out,
		      size_t size)
{
	return get_struct_min(vi, subcall, req, out, size, size);
}

/* Gathers a paginated list whose entries are size bytes into a malloc'd
 * array. Each page is checked: entries at least as big as we know them,
 * no more of them than the payload holds, and progress when more follow. */
static int get_list(struct vminfo *vi, uint16_t subcall, struct vmi_request req, size_t size,
		    void **out, size_t *n)
{
	uint8_t *arr = NULL;
	size_t total = 0, cap = 0;
	int r;

	*out = NULL;
	*n = 0;
	req.cursor = 0;
	for (;;) {
		struct vmi_list list;
		uint32_t len;

		if ((r = transact(vi, subcall, &req, &len)) != VMINFO_OK)
			goto fail;
		if (len < sizeof(list)) {
			r = proto_error(vi, "%s list of %u bytes", subcall_name(subcall), len);
			goto fail;
		}
		memcpy(&list, vi->payload, sizeof(list));
		if (list.entry_size < size) {
			r = proto_error(vi, "%s entries of %u bytes (want at least %zu)",
					subcall_name(subcall), list.entry_size, size);
			goto fail;
		}
		if (list.count > (len - sizeof(list)) / list.entry_size) {
			r = proto_error(vi, "%u %s entries of %u bytes in %u bytes", list.count,
					subcall_name(subcall), list.entry_size, len);
			goto fail;
		}
		if (list.count > MAX_ENTRIES - total) {
			r = proto_error(vi, "%s list longer than %u entries", subcall_name(subcall),
					MAX_ENTRIES);
			goto fail;
		}
		if (total + list.count > cap) {
			size_t ncap = cap ? cap : 64;
			while (ncap < total + list.count)
				ncap *= 2;
			uint8_t *na = realloc(arr, ncap * size);
			if (na == NULL) {
				r = set_error(&vi->err, VMINFO_ENOMEM, "out of memory");
				goto fail;
			}
			arr = na;
			cap = ncap;
		}
		const uint8_t *e = vi->payload + sizeof(list);
		for (uint32_t i = 0; i < list.count; i++, e += list.entry_size)
			memcpy(arr + (total + i) * size, e, size);
		total += list.count;
		if (!list.more)
			break;
		/* Every cursor (slot, address, index) names where the next
		 * entry is, after those sent: one that does not advance would
		 * have us ask for ever. */
		if (list.count == 0 || list.next <= req.cursor) {
			r = proto_error(vi,
					"%s list does not advance (cursor %u, next %u, %u entries)",
					subcall_name(subcall), req.cursor, list.next, list.count);
			goto fail;
		}
		req.cursor = list.next;
	}
	*out = arr;
	*n = total;
	return VMINFO_OK;
fail:
	free(arr);
	return r;
}

int vminfo_default_path(char *buf, size_t size)
{
	const char *env = getenv("VMSCOPE_SOCKET"), *dir = getenv("XDG_RUNTIME_DIR");
	int k;

	/* The places `vm serve` looks, in its order (docs/serve.md). A
	 * relative XDG_RUNTIME_DIR is ignored, as the XDG spec says. */
	if (env != NULL && env[0] != '\0')
		k = snprintf(buf, size, "%s", env);
	else if (dir != NULL && dir[0] == '/')
		k = snprintf(buf, size, "%s/vmscope.sock", dir);
	else
		k = snprintf(buf, size, "/tmp/vmscope-%u.sock", (unsigned)getuid());
	return k >= 0 && (size_t)k < size ? 0 : -1;
}

/* Checks the version with a first request, so that a client learns at
 * once that it cannot talk to this server. */
static struct vminfo *handshake(struct vminfo *vi, struct vminfo_error *err)
{
	struct vmi_stats st;

	if (vminfo_stats(vi, &st) != VMINFO_OK)
		goto fail;
	/* Tools divide by it and convert with it: it must be sane. */
	if (st.page_size < 1024 || (st.page_size & (st.page_size - 1)) != 0) {
		proto_error(vi, "page size %u", st.page_size);
		goto fail;
	}
	vi->page_size = st.page_size;
	return vi;
fail:
	if (err)
		*err = vi->err;
	vminfo_close(vi);
	return NULL;
}

static struct vminfo *vminfo_new(int fd, const char *name, int timeout_ms, struct vminfo_error *err)
{
	struct vminfo *vi = calloc(1, sizeof(*vi));

	if (vi == NULL) {
		close(fd);
		set_error(err, VMINFO_ENOMEM, "out of memory");
		return NULL;
	}
	vi->fd = fd;
	vi->timeout_ms = timeout_ms > 0 ? timeout_ms : VMINFO_TIMEOUT_MS;
	snprintf(vi->name, sizeof(vi->name), "%s", name);
	return vi;
}

struct vminfo *vminfo_open_fd(int fd, const char *name, int timeout_ms, struct vminfo_error *err)
{
	struct vminfo *vi = vminfo_new(fd, name, timeout_ms, err);

	return vi ? handshake(vi, err) : NULL;
}

struct vminfo *vminfo_open(const char *path, int timeout_ms, struct vminfo_error *err)
{
	char defpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char why[128];

	if (path == NULL) {
		if (vminfo_default_path(defpath, sizeof(defpath)) != 0) {
			set_error(err, VMINFO_EINVAL, "the default socket path is too long");
			return NULL;
		}
		path = defpath;
	}
	if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		set_error(err, VMINFO_EINVAL, "bad socket path (empty or over %zu bytes): %s",
			  sizeof(sa.sun_path) - 1, path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		lower_strerror(errno, why, sizeof(why));
		set_error(err, VMINFO_EIO, "cannot make a socket: %s", why);
		if (err)
			err->sys_errno = errno;
		return NULL;
	}
	/* Bounds connect() too: it waits while a wedged server's backlog is
	 * full. */
	if (timeout_ms <= 0)
		timeout_ms = VMINFO_TIMEOUT_MS;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		lower_strerror(e, why, sizeof(why));
		if (e == ENOENT || e == ECONNREFUSED)
			set_error(err, VMINFO_ENOTRUNNING,
				  "VM is not running (no server at %s: %s)", path, why);
		else if (e == EAGAIN || e == EINPROGRESS)
			set_error(err, VMINFO_ENOTRUNNING,
				  "cannot connect to VM at %s: the server accepts no connection "
				  "(timed out after %d ms)",
				  path, timeout_ms);
		else
			set_error(err, VMINFO_ENOTRUNNING, "cannot connect to VM at %s: %s", path,
				  why);
		if (err)
			err->sys_errno = e;
		return NULL;
	}
	return vminfo_open_fd(fd, path, timeout_ms, err);
}

void vminfo_close(struct vminfo *vi)
{
	if (vi == NULL)
		return;
	if (vi->fd >= 0)
		close(vi->fd);
	free(vi);
}

void vminfo_set_timeout(struct vminfo *vi, int ms)
{
	if (ms > 0)
		vi->timeout_ms = ms;
}

uint32_t vminfo_page_size(const struct vminfo *vi)
{
	return vi->page_size;
}

const struct vminfo_error *vminfo_last_error(const struct vminfo *vi)
{
	return &vi->err;
}

const char *vminfo_strerror(const struct vminfo_error *err)
{
	if (err == NULL || err->code == VMINFO_OK)
		return "no error";
	return err->message[0] ? err->message : "unknown error";
}

int vminfo_stats(struct vminfo *vi, struct vmi_stats *out)
{
	struct vmi_request req = { 0 };

	return get_struct_min(vi, VMI_STATS, &req, out, sizeof(*out), VMI_STATS_V1_SIZE);
}

int vminfo_procs(struct vminfo *vi, struct vmi_proc **out, size_t *n)
{
	struct vmi_request req = { 0 };

	return get_list(vi, VMI_PROCS, req, sizeof(**out), (void **)out, n);
}

/* VM answers ESRCH or EINVAL for an endpoint that names no process. */
static int no_such_process(struct vminfo *vi, int r, int32_t endpoint)
{
	if (r == VMINFO_EVM && (vi->err.vm_errno == ESRCH || vi->err.vm_errno == EINVAL))
		return set_error(&vi->err, VMINFO_ENOPROC, "no such process: %d", endpoint);
	return r;
}

int vminfo_regions(struct vminfo *vi, int32_t endpoint, struct vmi_region **out, size_t *n)
{
	struct vmi_request req = { .endpoint = endpoint };
	int r = get_list(vi, VMI_REGIONS, req, sizeof(**out), (void **)out, n);

	return no_such_process(vi, r, endpoint);
}

int vminfo_pages(struct vminfo *vi, int32_t endpoint, uint32_t addr, struct vmi_page **out,
		 size_t *n)
{
	struct vmi_request req = { .endpoint = endpoint, .addr = addr };
	int r = get_list(vi, VMI_PAGES, req, sizeof(**out), (void **)out, n);

	/* EINVAL here means no region at addr; only ESRCH is the process. */
	if (r == VMINFO_EVM && vi->err.vm_errno == ESRCH)
		return set_error(&vi->err, VMINFO_ENOPROC, "no such process: %d", endpoint);
	return r;
}

int vminfo_cache(struct vminfo *vi, struct vmi_cache *out)
{
	struct vmi_request req = { 0 };

	return get_struct(vi, VMI_CACHE, &req, out, sizeof(*out));
}

int vminfo_slab(struct vminfo *vi, struct vmi_slab **out, size_t *n)
{
	struct vmi_request req = { 0 };

	return get_list(vi, VMI_SLAB, req, sizeof(**out), (void **)out, n);
}

int vminfo_grants(struct vminfo *vi, int32_t endpoint, struct vmi_grant **out, size_t *n)
{
	struct vmi_request req = { .endpoint = endpoint };
	int r = get_list(vi, VMI_GRANTS, req, sizeof(**out), (void **)out, n);

	return no_such_process(vi, r, endpoint);
}

int vminfo_sanity(struct vminfo *vi, enum vminfo_sanity_mode mode, struct vmi_sanity *out)
{
	struct vmi_request req = { .flags = mode == VMINFO_SANITY_RUN ? VMI_SANITY_RUN : 0 };

	return get_struct(vi, VMI_SANITY, &req, out, sizeof(*out));
}

/* Parses an endpoint: decimal (may be negative) or 0x hex, nothing else. */
static bool parse_endpoint(const char *s, int32_t *ep)
{
	char *end;

	if (!isdigit((unsigned char)s[s[0] == '-']))
		return false;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < INT32_MIN || v > INT32_MAX)
		return false;
	*ep = (int32_t)v;
	return true;
}

int vminfo_findings(struct vminfo *vi, struct vmi_finding **out, size_t *n)
{
	struct vmi_request req = { 0 };
	int r = get_list(vi, VMI_FINDINGS, req, sizeof(**out), (void **)out, n);

	/* The strings are VM's: make sure they end. */
	for (size_t i = 0; r == VMINFO_OK && i < *n; i++) {
		struct vmi_finding *f = &(*out)[i];
		f->kind_name[sizeof(f->kind_name) - 1] = '\0';
		f->text[sizeof(f->text) - 1] = '\0';
		f->alloc[sizeof(f->alloc) - 1] = '\0';
		f->freed[sizeof(f->freed) - 1] = '\0';
	}
	return r;
}

int vminfo_find_proc(struct vminfo *vi, const char *spec, struct vmi_proc *out)
{
	struct vmi_proc *procs;
	size_t n, found = 0;
	int32_t ep;
	bool by_ep = parse_endpoint(spec, &ep);
	char eps[160] = "";
	int r = vminfo_procs(vi, &procs, &n);

	if (r != VMINFO_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		char name[sizeof(procs[i].name) + 1];
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(procs[i].name), procs[i].name);
		if (by_ep ? procs[i].endpoint != ep : strcmp(name, spec) != 0)
			continue;
		if (found++ == 0)
			*out = procs[i];
		size_t k = strlen(eps);
		if (k < sizeof(eps) - 16)
			snprintf(eps + k, sizeof(eps) - k, "%s%d", k ? ", " : "",
				 procs[i].endpoint);
		else if (eps[k - 1] != '.')
			snprintf(eps + k, sizeof(eps) - k, ", ...");
	}
	free(procs);
	if (found == 0)
		return set_error(&vi->err, VMINFO_ENOPROC, "no such process: %s", spec);
	if (found > 1)
		return set_error(&vi->err, VMINFO_EAMBIGUOUS,
				 "%zu processes are called %s (endpoints %s): give the endpoint",
				 found, spec, eps);
	return VMINFO_OK;
}

static const char *const call_names[VMI_NCALLS] = {
	[VM_MMAP - VM_RQ_BASE] = "mmap",
	[VM_MUNMAP - VM_RQ_BASE] = "munmap",
	[VM_BRK - VM_RQ_BASE] = "brk",
	[VM_REMAP - VM_RQ_BASE] = "remap",
	[VM_SHM_UNMAP - VM_RQ_BASE] = "shm_unmap",
	[VM_YIELDBLOCKGETBLOCK - VM_RQ_BASE] = "yieldblockgetblock",
	[VM_FORGETBLOCK - VM_RQ_BASE] = "forgetblock",
	[VM_FORGETBLOCKS - VM_RQ_BASE] = "forgetblocks",
	[VM_GRANT - VM_RQ_BASE] = "grant",
	[VM_REVOKE - VM_RQ_BASE] = "revoke",
	[VM_SAFECOPY - VM_RQ_BASE] = "safecopy",
	[VM_SAFEMAP - VM_RQ_BASE] = "safemap",
	[VM_SAFEREVMAP - VM_RQ_BASE] = "saferevmap",
	[VM_SPAWN - VM_RQ_BASE] = "spawn",
	[VM_EXIT - VM_RQ_BASE] = "exit",
	[VM_FORK - VM_RQ_BASE] = "fork",
	[VM_EXEC - VM_RQ_BASE] = "exec",
	[VM_PAGEFAULT - VM_RQ_BASE] = "pagefault",
	[VM_QUERY - VM_RQ_BASE] = "query",
	[VM_SANITY - VM_RQ_BASE] = "sanity",
	[VM_INFO - VM_RQ_BASE] = "info",
	[VM_DS_PUBLISH - VM_RQ_BASE] = "ds_publish",
	[VM_DS_RETRIEVE - VM_RQ_BASE] = "ds_retrieve",
	[VM_DS_DELETE - VM_RQ_BASE] = "ds_delete",
	[VM_DS_SUBSCRIBE - VM_RQ_BASE] = "ds_subscribe",
	[VM_DS_CHECK - VM_RQ_BASE] = "ds_check",
};

const char *vminfo_callname(unsigned index)
{
	return index < VMI_NCALLS ? call_names[index] : NULL;
}

const char *vminfo_memtype_name(uint32_t memtype)
{
	static const char *const names[] = { NULL, "anon", "contig", "phys", "shared", "cache" };

	return memtype < sizeof(names) / sizeof(names[0]) ? names[memtype] : NULL;
}

char *vminfo_region_mode(uint32_t flags, char buf[5])
{
	buf[0] = flags & VMINFO_VR_READ ? 'r' : '-';
	buf[1] = flags & VMINFO_VR_WRITE ? 'w' : '-';
	buf[2] = flags & VMINFO_VR_EXEC ? 'x' : '-';
	buf[3] = flags & VMINFO_VR_SHARED ? 's' : 'p';
	buf[4] = '\0';
	return buf;
}

char *vminfo_region_flags(uint32_t flags, char *buf, size_t size)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ VMINFO_VR_HEAP, "heap" },
		{ VMINFO_VR_PREALLOC, "prealloc" },
		{ VMINFO_VR_CONTIG, "contig" },
		{ VMINFO_VR_LOWER16MB, "lower16m" },
		{ VMINFO_VR_UNINITIALIZED, "uninit" },
		{ VMINFO_VR_SAFEMAP, "safemap" },
	};
	uint32_t rest = flags & ~(uint32_t)(VMINFO_VR_READ | VMINFO_VR_WRITE | VMINFO_VR_EXEC |
					    VMINFO_VR_SHARED);
	size_t k = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(rest & names[i].bit))
			continue;
		rest &= ~names[i].bit;
		int w = snprintf(buf + k, size - k, "%s%s", k ? "," : "", names[i].name);
		if (w < 0 || (size_t)w >= size - k) {
			buf[k] = '\0'; /* no name cut in half */
			return buf;
		}
		k += (size_t)w;
	}
	if (rest) {
		int w = snprintf(buf + k, size - k, "%s0x%x", k ? "," : "", rest);
		if (w < 0 || (size_t)w >= size - k)
			buf[k] = '\0';
	}
	return buf;
}
