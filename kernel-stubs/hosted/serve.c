/*
 * `vm serve` (see serve.h and docs/serve.md): the hosted machine, a
 * workload, and the debug call on a Unix socket.
 *
 * VM and the hosted machine are single-threaded, so everything happens in
 * one poll() loop: the listening socket, the clients, a self-pipe that
 * the SIGINT/SIGTERM handler writes to, and a timer that advances the
 * demo workload one small step per tick. A request is answered as soon as
 * it has arrived whole, between two workload steps, so every reply shows
 * VM between calls, never in the middle of one.
 *
 * Clients cannot hurt the server: sockets are non-blocking; a client
 * whose first bytes are not a request (wrong magic or length) is dropped;
 * a wrong version gets the reply the protocol promises and the connection
 * is closed after it; a client that does not read its replies stops being
 * read (at most one reply waits for it beyond what the kernel buffers),
 * and one that makes no progress for CLIENT_STALL_MS with a request half
 * sent or a reply unsent is dropped. None of this touches VM: a request
 * reaches VM only whole and valid.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* for the BSD/POSIX socket and signal calls under -std=c11 */
#endif
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <vmscope/errno.h>
#include <vmscope/vminfo.h>

#include "../../vm/vm.h"
#include "../scenario/scenario.h"
#include "machine.h"
#include "scnhost.h"
#include "workload.h"

#define MAX_CLIENTS 64
#define CLIENT_STALL_MS 10000 /* a half request or an unsent reply, no progress */
#define CLIENT_LOG_RATE 10    /* lines a second about clients */
#define HDR_LEN ((uint32_t)sizeof(struct vmi_header))
#define REQ_LEN ((uint32_t)sizeof(struct vmi_request))
#define MAX_REPLY (HDR_LEN + VMI_MAX_PAYLOAD)
#define OUT_CAP (2 * MAX_REPLY) /* a client's queued replies, at most */
#define IN_CAP (16 * (HDR_LEN + REQ_LEN))
#define DEFAULT_TICK_MS 20
#define DEFAULT_SANITY_STEPS 500 /* the demo's consistency check: every 10 s at 20 ms */

_Static_assert(HOSTED_INFO_BUFLEN == VMI_MAX_PAYLOAD, "a reply payload fits the kernel buffer");

struct client {
	int fd;
	unsigned id; /* for log lines */
	uint8_t in[IN_CAP];
	size_t in_len;
	uint8_t *out; /* queued reply bytes: out[out_off .. out_len) */
	size_t out_off, out_len, out_cap;
	bool closing;           /* send what is queued, then close */
	uint64_t last_progress; /* ms: the last byte read or written */
};

struct opts {
	uint32_t mem_bytes;
	bool mem_given;
	const char *socket;
	const char *workload; /* "demo" or a scenario file */
	uint32_t seconds;     /* 0: until a signal */
	uint64_t seed;
	uint32_t tick_ms;
	uint32_t cycle_steps;   /* --cycle: the demo's cycle (0: none) */
	struct scn_host sanity; /* --sanity=MODE, --sanity-stop */
};

static struct opts opt;
static struct client *clients[MAX_CLIENTS];
static unsigned nclients, next_client_id;
static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t got_signal;
static uint8_t payload[VMI_MAX_PAYLOAD]; /* one reply's payload, copied out of the machine */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("vm serve: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Whether the first command of a scenario is `mem` (comments and blank
 * lines skipped): then its size is the machine's, not --mem's. */
static bool first_command_is_mem(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'))
			i++;
		if (i < len && text[i] != '\n' && text[i] != '#')
			return len - i >= 3 && memcmp(text + i, "mem", 3) == 0 &&
			       (len - i == 3 || strchr(" \t\r\n#", text[i + 3]) != NULL);
		while (i < len && text[i] != '\n')
			i++;
		i++;
	}
	return false;
}

/* Run the scenario file as the workload: it boots the machine and leaves
 * its processes alive. 0, or 1 when there is no machine to serve. */
static int run_scenario(const char *path)
{
	struct scn_host host = { 0 };
	struct scn_machine machine;
	char *text;
	size_t len;
	int r = hosted_slurp(path, &text, &len);

	if (r != 0) {
		say("%s: cannot read: %s", path, strerror(r));
		return 1;
	}
	/* The scenario's own `mem` wins over --mem. */
	bool scenario_sets_mem = first_command_is_mem(text, len);
	if (scenario_sets_mem && opt.mem_given)
		say("%s sets its own memory size: --mem is ignored", path);
	host.sanity_every = opt.sanity.sanity_every;
	host.sanity_stop = opt.sanity.sanity_stop;
	host.inject_leak = opt.sanity.inject_leak;
	host.mem_bytes = scenario_sets_mem ? 0 : opt.mem_bytes;
	scn_host_machine(&host, &machine);
	enum scn_status s = scn_run_opts(&machine, path, text, len, SCN_KEEP);
	free(text);
	scn_host_done(&host);
	if (hm.phys == NULL) {
		say("%s: the scenario left no machine to serve", path);
		return 1;
	}
	if (s != SCN_PASSED)
		say("%s: the scenario did not pass (status %d); serving what it left", path, s);
	return 0;
}

/* --- the socket --------------------------------------------------------- */

static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static dev_t sock_dev;
static ino_t sock_ino;
static bool sock_made;

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
	return 0;
}

/* The default socket (docs/serve.md; clients look in the same places):
 * $VMSCOPE_SOCKET, else $XDG_RUNTIME_DIR/vmscope.sock (a per-user,
 * owner-only directory) when that is set, else /tmp/vmscope-UID.sock. */
static void default_socket(char *buf, size_t len)
{
	const char *env = getenv("VMSCOPE_SOCKET"), *dir = getenv("XDG_RUNTIME_DIR");

	if (env != NULL && env[0] != '\0')
		snprintf(buf, len, "%s", env);
	else if (dir != NULL && dir[0] == '/')
		snprintf(buf, len, "%s/vmscope.sock", dir);
	else
		snprintf(buf, len, "/tmp/vmscope-%u.sock", (unsigned)getuid());
}

/*
 * Make sure path may be bound: nothing there, or a stale socket (one
 * nobody accepts on: left by a server that was killed), which is removed.
 * A live server's socket, a socket of another user, or anything that is
 * not a socket is left alone and refused. Returns true if path is free.
 */
static bool claim_path(const struct sockaddr_un *sa)
{
	const char *path = sa->sun_path;
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return true;
		say("%s: %s", path, strerror(errno));
		return false;
	}
	if (!S_ISSOCK(st.st_mode)) {
		say("%s exists and is not a socket: not replacing it", path);
		return false;
	}
	if (st.st_uid != getuid()) {
		say("%s belongs to another user (uid %u): not replacing it", path,
		    (unsigned)st.st_uid);
		return false;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || set_nonblock(fd) < 0) {
		say("socket: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	/* Non-blocking, so that a live server that is stopped and whose
	 * backlog is full makes us refuse (EAGAIN) rather than hang. */
	int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS) {
		say("another vm serve is already serving on %s (stop it first, or use --socket)",
		    path);
		return false;
	}
	if (e == ENOENT)
		return true; /* removed meanwhile */
	if (e != ECONNREFUSED) {
		say("cannot tell whether %s is in use: %s", path, strerror(e));
		return false;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		say("cannot remove the stale socket %s: %s", path, strerror(errno));
		return false;
	}
	say("removed the stale socket %s (left by a server that did not exit)", path);
	return true;
}

/* Create, bind (mode 0600) and listen on the socket; the fd or -1. */
static int open_socket(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		say("socket path too long (at most %zu bytes): %s", sizeof(sa.sun_path) - 1, path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (!claim_path(&sa))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || set_nonblock(fd) < 0) {
		say("socket: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Owner-only from the moment it exists: the umask, then chmod in
	 * case the umask is not honoured for sockets. */
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (r != 0) {
		say("bind %s: %s", path, strerror(e));
		close(fd);
		return -1;
	}
	strcpy(sock_path, path);
	sock_made = true;
	if (chmod(path, 0600) != 0 || stat(path, &st) != 0 || listen(fd, MAX_CLIENTS) != 0) {
		say("%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		sock_made = false;
		return -1;
	}
	sock_dev = st.st_dev;
	sock_ino = st.st_ino;
	return fd;
}

/* Remove our socket file, unless someone has replaced it since. */
static void remove_socket(void)
{
	struct stat st;

	if (sock_made && stat(sock_path, &st) == 0 && st.st_dev == sock_dev &&
	    st.st_ino == sock_ino)
		unlink(sock_path);
	sock_made = false;
}

/* --- clients ------------------------------------------------------------ */

/*
 * Log a line about a client, at most CLIENT_LOG_RATE a second: a client
 * that misbehaves in a loop must not fill the disk. What is held back is
 * counted in the next second's first line.
 */
static void client_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void client_log(const char *fmt, ...)
{
	static uint64_t window;
	static unsigned logged, held;
	uint64_t now = now_ms();
	va_list ap;

	if (now - window >= 1000) {
		if (held > 0)
			say("(%u more client messages not shown)", held);
		window = now;
		logged = held = 0;
	}
	if (logged++ >= CLIENT_LOG_RATE) {
		held++;
		return;
	}
	fputs("vm serve: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void drop(unsigned i, const char *why)
{
	struct client *c = clients[i];

	if (why != NULL)
		client_log("client %u: %s: dropped", c->id, why);
	close(c->fd);
	free(c->out);
	free(c);
	clients[i] = clients[--nclients];
	clients[nclients] = NULL;
}

static void accept_clients(int lfd, uint64_t now)
{
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				say("accept: %s", strerror(errno));
			return;
		}
		struct client *c = NULL;
		if (nclients == MAX_CLIENTS || set_nonblock(fd) < 0 ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			/* Closing at once tells the client, instead of leaving
			 * it waiting in the backlog. */
			client_log("refused a client: %s",
				   nclients == MAX_CLIENTS ? "too many clients" : "no memory");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->id = ++next_client_id;
		c->last_progress = now;
		clients[nclients++] = c;
	}
}

static size_t pending(const struct client *c)
{
	return c->out_len - c->out_off;
}

/* Whether the client may have another request answered now. */
static bool has_room(const struct client *c)
{
	return !c->closing && pending(c) + MAX_REPLY <= OUT_CAP;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	return get_le16(p) | (uint32_t)get_le16(p + 2) << 16;
}

/* Queue a reply; false if there is no memory for it. has_room() said
 * it fits OUT_CAP. */
static bool queue_reply(struct client *c, uint16_t subcall, uint32_t status, uint32_t seq,
			const void *data, uint32_t len)
{
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + HDR_LEN + len > c->out_cap) {
		uint8_t *n = realloc(c->out, OUT_CAP);
		if (n == NULL)
			return false;
		c->out = n;
		c->out_cap = OUT_CAP;
	}
	uint8_t *h = c->out + c->out_len;
	/* The wire layout of struct vmi_header, little-endian. */
	put_le32(h + 0, VMI_MAGIC);
	put_le16(h + 4, VMI_VERSION);
	put_le16(h + 6, subcall);
	put_le32(h + 8, status);
	put_le32(h + 12, seq);
	put_le32(h + 16, len);
	if (len > 0)
		memcpy(h + HDR_LEN, data, len);
	c->out_len += HDR_LEN + len;
	return true;
}

/*
 * Answer every whole request in c's input while there is room for the
 * replies. Returns NULL, or why the client must be dropped.
 */
static const char *serve_requests(struct client *c)
{
	static char why[96];

	while (c->in_len >= HDR_LEN && has_room(c)) {
		const uint8_t *h = c->in;
		uint32_t magic = get_le32(h), len = get_le32(h + 16), seq = get_le32(h + 12);
		uint16_t version = get_le16(h + 4), subcall = get_le16(h + 6);

		if (magic != VMI_MAGIC) {
			snprintf(why, sizeof(why), "not a request (magic 0x%08x)", magic);
			return why;
		}
		if (version != VMI_VERSION) {
			/* What follows may be laid out another way: answer
			 * with our version, then hang up. */
			client_log("client %u: speaks version %u, not %u: told so", c->id, version,
				   VMI_VERSION);
			if (!queue_reply(c, subcall, EINVAL, seq, NULL, 0))
				return "no memory for its reply";
			c->closing = true;
			c->in_len = 0;
			return NULL;
		}
		if (len != REQ_LEN) {
			snprintf(why, sizeof(why), "bad request length %u", len);
			return why;
		}
		if (c->in_len < HDR_LEN + REQ_LEN)
			break;
		const uint8_t *p = c->in + HDR_LEN;
		struct vmi_request req = {
			.endpoint = (int32_t)get_le32(p),
			.cursor = get_le32(p + 4),
			.addr = get_le32(p + 8),
			.flags = get_le32(p + 12),
		};
		uint32_t plen = 0;
		/* VM checks the subcall and every argument itself. */
		int r = hosted_info(subcall, &req, payload, &plen);
		if (!queue_reply(c, subcall, (uint32_t)r, seq, payload, plen))
			return "no memory for its reply";
		c->in_len -= HDR_LEN + REQ_LEN;
		memmove(c->in, c->in + HDR_LEN + REQ_LEN, c->in_len);
	}
	return NULL;
}

/* Read what c sent. NULL, or why it must be dropped ("" quietly). */
static const char *read_client(struct client *c, uint64_t now)
{
	ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? NULL
										 : strerror(errno);
	if (n == 0) {
		if (c->in_len > 0)
			return "disconnected in the middle of a request";
		if (pending(c) == 0)
			return ""; /* a normal goodbye */
		c->closing = true; /* half-closed: send the replies, then close */
		return NULL;
	}
	c->in_len += (size_t)n;
	c->last_progress = now;
	return NULL;
}

/* Send queued replies. NULL, or why c must be dropped. */
static const char *write_client(struct client *c, uint64_t now)
{
	while (pending(c) > 0) {
		ssize_t n = send(c->fd, c->out + c->out_off, pending(c), MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
				   ? NULL
				   : strerror(errno);
		c->out_off += (size_t)n;
		c->last_progress = now;
	}
	c->out_off = c->out_len = 0;
	return NULL;
}

/* Handle poll's events for client i; false if it was dropped. */
static bool client_event(unsigned i, short revents, uint64_t now)
{
	struct client *c = clients[i];
	const char *why = NULL;

	if (revents & POLLNVAL) {
		why = "invalid descriptor";
	} else if (revents & POLLIN) {
		why = read_client(c, now);
	} else if (revents & (POLLERR | POLLHUP)) {
		why = ""; /* gone without anything left to read */
	}
	if (why == NULL)
		why = serve_requests(c);
	if (why == NULL && pending(c) > 0)
		why = write_client(c, now);
	if (why == NULL && c->closing && pending(c) == 0)
		why = "";
	if (why == NULL && (c->in_len > 0 || pending(c) > 0) &&
	    now - c->last_progress > CLIENT_STALL_MS)
		why = c->in_len > 0 && pending(c) == 0 ? "half a request and no more for 10 s"
						       : "not reading its replies for 10 s";
	if (why == NULL)
		return true;
	drop(i, *why ? why : NULL);
	return false;
}

static void drop_all(void)
{
	while (nclients > 0)
		drop(nclients - 1, NULL);
}

/* --- signals ------------------------------------------------------------ */

static void on_signal(int sig)
{
	int saved = errno;

	got_signal = sig;
	if (write(sig_pipe[1], "x", 1) < 0) {
		/* The pipe is full: a wake-up is pending anyway. */
	}
	errno = saved;
}

static const char *sig_name(int sig)
{
	if (sig == SIGINT)
		return "SIGINT";
	if (sig == SIGHUP)
		return "SIGHUP";
	return "SIGTERM";
}

static int setup_signals(void)
{
	struct sigaction sa;

	if (pipe(sig_pipe) != 0 || set_nonblock(sig_pipe[0]) < 0 || set_nonblock(sig_pipe[1]) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* SIGHUP too: a closed terminal should not leave a stale socket. */
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0)
		return -1;
	/* A client that vanished makes send() fail with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* --- the loop ----------------------------------------------------------- */

/* Serve until a signal or the deadline. */
static void serve_loop(int lfd, struct workload *w)
{
	static struct pollfd pfd[2 + MAX_CLIENTS];
	uint64_t now = now_ms(), next_tick = now + opt.tick_ms;
	uint64_t deadline = opt.seconds ? now + (uint64_t)opt.seconds * 1000 : 0;

	while (!got_signal) {
		now = now_ms();
		if (deadline && now >= deadline)
			break;
		/* At most one workload step per poll, so clients are served
		 * even when steps take longer than a tick. */
		if (w != NULL && now >= next_tick) {
			workload_step(w);
			/* Late (a slow step, a busy client): skip the missed
			 * ticks rather than run them in a burst. */
			next_tick += opt.tick_ms;
			now = now_ms();
			if (next_tick <= now)
				next_tick = now + opt.tick_ms;
		}
		uint64_t wake = w != NULL ? next_tick : now + 1000;
		if (deadline && deadline < wake)
			wake = deadline;
		if (nclients > 0 && now + 1000 < wake)
			wake = now + 1000; /* look at stalled clients now and then */
		pfd[0] = (struct pollfd){ .fd = sig_pipe[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		unsigned n = nclients;
		for (unsigned i = 0; i < n; i++) {
			struct client *c = clients[i];
			short ev = 0;
			/* Read only when a reply would fit: a client that does
			 * not read its replies is not read either. */
			if (has_room(c) && c->in_len < sizeof(c->in))
				ev |= POLLIN;
			if (pending(c) > 0)
				ev |= POLLOUT;
			pfd[2 + i] = (struct pollfd){ .fd = c->fd, .events = ev };
		}
		int r = poll(pfd, 2 + n, (int)(wake > now ? wake - now : 0));
		if (r < 0) {
			if (errno != EINTR) {
				say("poll: %s", strerror(errno));
				break;
			}
			continue;
		}
		now = now_ms();
		if (pfd[0].revents & POLLIN) {
			char buf[16];
			while (read(sig_pipe[0], buf, sizeof(buf)) > 0)
				;
		}
		/* Clients from the last to the first, since drop() moves the
		 * last one into the freed slot. */
		for (unsigned i = n; i-- > 0;)
			client_event(i, pfd[2 + i].revents, now);
		if (pfd[1].revents & POLLIN)
			accept_clients(lfd, now);
	}
}

/* --- options ------------------------------------------------------------ */

static int usage(FILE *f, int status)
{
	fprintf(f, "usage: vm serve [--mem SIZE] [--socket PATH] [--workload demo|FILE]\n"
		   "                [--seconds N] [--seed N] [--tick MS] [--cycle STEPS]\n"
		   "                [--sanity=off|every-call|every-N] [--sanity-stop]\n"
		   "                [--inject-leak=N]\n"
		   "  run the hosted machine with a workload and serve the debug call\n"
		   "  (docs/debug-call.md) on a Unix socket until SIGINT or SIGTERM\n"
		   "  --mem SIZE       machine memory, 4M to 1G in steps of 4M (default 64M)\n"
		   "  --socket PATH    default $VMSCOPE_SOCKET, else\n"
		   "                   $XDG_RUNTIME_DIR/vmscope.sock, else /tmp/vmscope-UID.sock\n"
		   "  --workload demo  a live synthetic system (default)\n"
		   "  --workload FILE  run a scenario (docs/scenario-format.md), keep its\n"
		   "                   processes, and serve them\n"
		   "  --seconds N      stop after N seconds\n"
		   "  --seed N         the demo's random seed (default 1)\n"
		   "  --tick MS        a demo step every MS milliseconds (default 20)\n"
		   "  --cycle STEPS    the demo ends every process after STEPS steps, rests\n"
		   "                   50 steps with none alive, and starts again\n"
		   "  --sanity=MODE    VM's consistency check after every call or every N\n"
		   "                   calls (docs/sanity.md); default off (the demo checks\n"
		   "                   itself every 500 steps)\n"
		   "  --sanity-stop    stop VM at the first finding, with a core dump\n"
		   "  --sanity-every-call  the same as --sanity=every-call --sanity-stop\n"
		   "  --inject-leak=N  VM forgets its N-th frame free (docs/chasing-leaks.md)\n");
	return status;
}

/* A number with an optional K, M or G suffix (either case). */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);

	if (errno || end == s || *s == '-')
		return false;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10, end++;
		break;
	case 'm':
	case 'M':
		v <<= 20, end++;
		break;
	case 'g':
	case 'G':
		v <<= 30, end++;
		break;
	}
	if (*end != '\0' || v > UINT32_MAX)
		return false;
	*out = v;
	return true;
}

static bool parse_num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);

	if (errno || end == s || *end != '\0' || *s == '-' || v > max)
		return false;
	*out = v;
	return true;
}

/* Parse argv into opt; 0, or the exit status for a usage error (-1:
 * help was asked for). */
static int parse_args(int argc, char **argv, char *defsock, size_t defsock_len)
{
	memset(&opt, 0, sizeof(opt));
	opt.mem_bytes = HOSTED_DEFAULT_MEM;
	opt.workload = "demo";
	opt.seed = 1;
	opt.tick_ms = DEFAULT_TICK_MS;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t v = 0;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return -1;
		int o = scn_host_sanity_option(&opt.sanity, a, "vm serve");
		if (o < 0)
			return 2;
		if (o > 0)
			continue;
		if (strcmp(a, "--mem") && strcmp(a, "--socket") && strcmp(a, "--workload") &&
		    strcmp(a, "--seconds") && strcmp(a, "--seed") && strcmp(a, "--tick") &&
		    strcmp(a, "--cycle")) {
			fprintf(stderr, "vm serve: unknown argument %s\n", a);
			return 2;
		}
		if (val == NULL) {
			fprintf(stderr, "vm serve: %s needs a value\n", a);
			return 2;
		}
		i++;
		bool ok = true;
		if (strcmp(a, "--mem") == 0) {
			ok = parse_size(val, &v);
			opt.mem_bytes = (uint32_t)v;
			opt.mem_given = true;
		} else if (strcmp(a, "--socket") == 0) {
			ok = val[0] != '\0';
			opt.socket = val;
		} else if (strcmp(a, "--workload") == 0) {
			ok = val[0] != '\0';
			opt.workload = val;
		} else if (strcmp(a, "--seconds") == 0) {
			ok = parse_num(val, 1000000, &v) && v > 0;
			opt.seconds = (uint32_t)v;
		} else if (strcmp(a, "--seed") == 0) {
			ok = parse_num(val, UINT64_MAX, &v);
			opt.seed = v;
		} else if (strcmp(a, "--cycle") == 0) {
			ok = parse_num(val, 100000000, &v) && v > 0;
			opt.cycle_steps = (uint32_t)v;
		} else {
			ok = parse_num(val, 1000, &v) && v > 0;
			opt.tick_ms = (uint32_t)v;
		}
		if (!ok) {
			fprintf(stderr, "vm serve: bad value for %s: %s\n", a, val);
			return 2;
		}
	}
	if (opt.socket == NULL) {
		default_socket(defsock, defsock_len);
		opt.socket = defsock;
	}
	return 0;
}

int serve_main(int argc, char **argv)
{
	char defsock[4096];
	struct workload *w = NULL;
	int status = 1;

	int r = parse_args(argc, argv, defsock, sizeof(defsock));
	if (r != 0)
		return r < 0 ? usage(stdout, 0) : usage(stderr, r);
	bool demo = strcmp(opt.workload, "demo") == 0;
	if ((demo || opt.mem_given) &&
	    (opt.mem_bytes < (4u << 20) || opt.mem_bytes > HOSTED_MAX_MEM ||
	     opt.mem_bytes % (4u << 20))) {
		fprintf(stderr, "vm serve: --mem must be 4M to 1G in steps of 4M\n");
		return 2;
	}
	if (setup_signals() != 0) {
		say("signals: %s", strerror(errno));
		return 1;
	}
#ifdef PR_SET_PTRACER
	/* A server is there to be looked at: let the user's GDB attach
	 * (scripts/vm-gdb --pid) where Yama allows only descendants. Same user
	 * only, as ever; a failure (no Yama) changes nothing. */
	(void)prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
#endif
	/* The socket first: a second server gives up before it does anything. */
	int lfd = open_socket(opt.socket);
	if (lfd < 0)
		goto out;
	if (demo) {
		if ((r = hosted_boot(opt.mem_bytes)) != 0) {
			say("cannot boot a %u MB machine: %s", opt.mem_bytes >> 20, vm_strerrno(r));
			goto out;
		}
		vm_set_sanity(opt.sanity.sanity_every, opt.sanity.sanity_stop);
		vm_leak_nth_free(opt.sanity.inject_leak);
		struct workload_opts wo = {
			.seed = opt.seed,
			.sanity_every = DEFAULT_SANITY_STEPS,
			.cycle_steps = opt.cycle_steps,
		};
		if (workload_start(&wo, &w) != 0) {
			say("no memory for the workload");
			goto out;
		}
	} else if (run_scenario(opt.workload) != 0) {
		goto out;
	}
	say("serving the debug call on %s (%u MB, workload %s%s); SIGINT or SIGTERM stops",
	    opt.socket, hm.mem_bytes >> 20, opt.workload, demo ? "" : ", done");
	serve_loop(lfd, w);
	if (got_signal)
		say("%s: stopping", sig_name(got_signal));
	if (w != NULL) {
		struct workload_counts k = workload_counts(w);
		say("demo: %llu steps, %llu spawns, %llu forks, %llu execs, %llu exits, "
		    "%llu out of memory, %llu other refusals, %llu mismatches, "
		    "%llu consistency checks with %llu findings, %llu cycles",
		    (unsigned long long)k.steps, (unsigned long long)k.spawns,
		    (unsigned long long)k.forks, (unsigned long long)k.execs,
		    (unsigned long long)k.exits, (unsigned long long)k.enomem,
		    (unsigned long long)k.errors, (unsigned long long)k.mismatches,
		    (unsigned long long)k.sanity_runs, (unsigned long long)k.sanity_findings,
		    (unsigned long long)k.cycles);
	}
	status = 0;
out:
	drop_all();
	if (lfd >= 0)
		close(lfd);
	remove_socket();
	workload_stop(w);
	hosted_halt();
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	sig_pipe[0] = sig_pipe[1] = -1;
	return status;
}
