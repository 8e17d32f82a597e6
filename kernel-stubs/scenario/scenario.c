/*
 * The scenario runner. See docs/scenario-format.md for the format as this
 * project implements it and shared/specs/scenario.md for the contract.
 *
 * A scenario is run one line at a time: the line is cut at its comment,
 * split into words (a double-quoted string is one word), and the command
 * it names is carried out on the machine at once. There is no separate
 * parse pass, so a syntax error on line 20 stops the run after lines 1-19
 * have happened; the runner then still tears the machine down as at a
 * normal end (every process exits, VM's sanity check runs, the machine
 * halts), because a scenario must leave nothing behind either way.
 *
 * Outcomes. A check (check, checkfill, segv, expect, assert, sanity) passes
 * or fails and the run goes on. A command that is not a check but fails
 * (mmap answered ENOMEM, a write refused, ...) counts as one failed check,
 * since the contract says a failing command fails the scenario. Anything
 * that means the scenario cannot run as written (syntax, unknown names,
 * a limit below, a feature VM answers ENOSYS for) is an error: it is
 * reported as FILE:LINE: error: ... and ends the run with SCN_ERROR.
 *
 * A name whose command failed unexpectedly (the VAR of a failed mmap, the
 * C of a failed fork) is remembered as "lost": a later command that uses
 * it is not run and counts as one failed check, instead of an "unknown
 * variable" error, because the scenario itself was fine — the failure it
 * reports has been counted already and the rest is its consequence.
 *
 * The runner links into the freestanding i386 kernel as it is: no C
 * library beyond string.h, no allocation (all state is in one static
 * struct with the limits below, so scn_run is not reentrant), no 64-bit
 * division, and all output goes through m->print.
 */
#include "scenario.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/ipc.h>
#include <vmscope/mman.h>
#include <vmscope/types.h>

#include "fmt.h"

/* Limits; exceeding one is an error at the line that does. */
#define SCN_MAX_LINE 4096                        /* characters in a line, without its newline */
#define SCN_MAX_WORDS 32                         /* words in a line */
#define SCN_MAX_PROCS 64                         /* processes alive at once (and lost names) */
#define SCN_MAX_VARS 256                         /* variables */
#define SCN_MAX_VAR_NAME 31                      /* characters in a variable name */
#define SCN_MAX_PROC_NAME (VM_PROC_NAME_LEN - 1) /* ... in a process name */
#define SCN_MAX_BYTES 4096                       /* bytes of a STRING or 0xHEXBYTES */
#define SCN_MAX_PATH 4096                        /* characters in exec's path, joined */
#define SCN_CHUNK 4096                           /* fill and checkfill access this much at a time */
#define SCN_MAX_DUMP 65536                       /* regions dump asks for before giving up */
#define SCN_DEFAULT_MEM (64u << 20)

/* Control results of the functions below, besides 0 and positive errnos. */
#define STOP (-1) /* an error was reported: the scenario cannot go on */
#define SKIP (-2) /* a lost name was used: reported and counted as failed */

enum name_state { NS_FREE, NS_SET, NS_LOST };
enum val_kind { VK_COUNT, VK_ADDR }; /* how a value is best printed */

struct proc {
	enum name_state state;
	char name[SCN_MAX_PROC_NAME + 1];
	endpoint_t ep;
	unsigned lost_line; /* NS_LOST: where and by what it was lost */
	const char *lost_by;
};

struct var {
	enum name_state state;
	char name[SCN_MAX_VAR_NAME + 1];
	uint32_t val;
	enum val_kind kind;
	unsigned lost_line;
	const char *lost_by;
};

struct word {
	const char *s; /* NUL-terminated; a string keeps its quotes */
	bool quoted;
};

struct cmd {
	const char *name;
	int min_args, max_args;
	/* Returns 0 or the errno the command failed with, or STOP / SKIP. */
	int (*run)(struct word *a, int n);
	bool expectable; /* may follow `expect ERRNAME` */
	const char *usage;
};

static struct {
	bool keep; /* SCN_KEEP: leave the machine running at the end */
	const struct scn_machine *m;
	const char *file;
	unsigned line;         /* 0 after the last line: messages say "end" */
	const char *cmdtext;   /* the current command as written */
	const struct cmd *cmd; /* ... and what it is (the inner one of expect) */
	bool error, booted, started, mem_set, no_sanity;
	bool expecting; /* running the COMMAND of an expect */
	uint32_t mem_bytes;
	unsigned mem_line;
	unsigned passed, failed;
	/* Set by a command for the dispatcher: the name to mark lost if it
	 * failed unexpectedly, and the address an access failed at. */
	const char *lose_var, *lose_proc;
	bool fail_at_set;
	uint32_t fail_at;
	struct proc procs[SCN_MAX_PROCS];
	struct var vars[SCN_MAX_VARS];
	char linebuf[SCN_MAX_LINE + 1];
	char wordbuf[SCN_MAX_LINE + 1];
	struct word words[SCN_MAX_WORDS];
	int nwords;
	uint8_t bytes[SCN_MAX_BYTES];
	uint8_t chunk[SCN_CHUNK];
	char path[SCN_MAX_PATH + 1];
	char out[256];
	size_t outlen;
	char errbuf[24];
	char sizebuf[2][16];
} st;

/* ---- Output ---- */

static void out_flush(void)
{
	if (!st.outlen)
		return;
	st.out[st.outlen] = '\0';
	st.m->print(st.m->ctx, st.out);
	st.outlen = 0;
}

/* One print per line keeps the machine's log readable; long lines go out
 * in pieces. */
static void out_putc(void *arg, char c)
{
	(void)arg;
	st.out[st.outlen++] = c;
	if (c == '\n' || st.outlen == sizeof(st.out) - 1)
		out_flush();
}

SCN_PRINTF(1, 0) static void out_v(const char *fmt, va_list ap)
{
	scn_vformat(out_putc, NULL, fmt, ap);
}

SCN_PRINTF(1, 2) static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_v(fmt, ap);
	va_end(ap);
}

/* Bytes as a quoted scenario string: what a check expected or read. */
static void out_quoted(const uint8_t *b, size_t n)
{
	out_putc(NULL, '"');
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '"' || b[i] == '\\')
			out("\\%c", b[i]);
		else if (b[i] >= 0x20 && b[i] < 0x7f)
			out_putc(NULL, (char)b[i]);
		else
			out("\\x%02x", b[i]);
	}
	out_putc(NULL, '"');
}

/* "FILE:LINE: " or, once the lines are done, "FILE: end: ". */
static void out_where(void)
{
	if (st.line)
		out("%s:%u: ", st.file, st.line);
	else
		out("%s: end: ", st.file);
}

/* Name of errno e for messages ("EINVAL", "OK"). */
static const char *errname(int e)
{
	const char *n = vm_strerrno(e);

	if (n)
		return n;
	scn_snprintf(st.errbuf, sizeof(st.errbuf), "error %d", e);
	return st.errbuf;
}

/* A length as a scenario would write it: 8K, 4M, 1G or plain bytes. Two
 * buffers, so that one message can hold two sizes. */
static const char *size_str(uint32_t v, int buf)
{
	char *b = st.sizebuf[buf];

	if (v && !(v & ((1u << 30) - 1)))
		scn_snprintf(b, sizeof(st.sizebuf[0]), "%uG", (unsigned)(v >> 30));
	else if (v && !(v & ((1u << 20) - 1)))
		scn_snprintf(b, sizeof(st.sizebuf[0]), "%uM", (unsigned)(v >> 20));
	else if (v && !(v & ((1u << 10) - 1)))
		scn_snprintf(b, sizeof(st.sizebuf[0]), "%uK", (unsigned)(v >> 10));
	else
		scn_snprintf(b, sizeof(st.sizebuf[0]), "%u", (unsigned)v);
	return b;
}

/* Report an error at the current line; the scenario stops. Returns STOP. */
SCN_PRINTF(1, 2) static int error(const char *fmt, ...)
{
	va_list ap;

	out_where();
	out("error: ");
	va_start(ap, fmt);
	out_v(fmt, ap);
	va_end(ap);
	out("\n");
	st.error = true;
	return STOP;
}

/* VM (or the machine) answered ENOSYS: the feature is not there yet, and a
 * scenario that needs it must not pass silently. */
static int unsupported(const char *what)
{
	return error("%s: not supported yet", what);
}

/* Start the line of a failed check: "FILE:LINE: <command>: ". */
static void fail_begin(void)
{
	out_where();
	out("%s: ", st.cmdtext);
}

/* End the line of a failed check and count it. */
static void fail_end(void)
{
	out("\n");
	st.failed++;
}

/* ---- The machine ---- */

/* A result outside "0 or a positive errno" would be taken for STOP or
 * SKIP below; it is the machine's bug, reported as such. */
static int machine_result(int r, const char *what)
{
	if (r == ENOSYS)
		return unsupported(what);
	if (r < 0)
		return error("%s: the machine returned %d", what, r);
	return r;
}

static int vm_call(message *msg, const char *what)
{
	return machine_result(st.m->call(st.m->ctx, msg), what);
}

static int vm_access(endpoint_t ep, uint32_t addr, void *buf, size_t len, int write)
{
	return machine_result(st.m->access(st.m->ctx, ep, addr, buf, len, write), st.cmd->name);
}

/* VM_QUERY subcall what about ep (NONE for the machine-wide ones). */
static int vm_query(int32_t what, endpoint_t ep, uint32_t index, message *msg, const char *name)
{
	memset(msg, 0, sizeof(*msg));
	msg->m_source = KERNEL;
	msg->m_type = VM_QUERY;
	msg->m_query.what = what;
	msg->m_query.ep = ep;
	msg->m_query.index = index;
	return vm_call(msg, name);
}

/* Run VM's consistency check; *findings gets the count. 0 or an errno. */
static int vm_sanity(uint32_t *findings)
{
	message msg;
	int r;

	memset(&msg, 0, sizeof(msg));
	msg.m_source = KERNEL;
	msg.m_type = VM_SANITY;
	r = vm_call(&msg, "sanity");
	if (r == STOP)
		st.no_sanity = true;
	*findings = msg.m_sanity.findings;
	return r;
}

static int boot(void)
{
	int r = st.m->boot(st.m->ctx, st.mem_bytes);

	if (r) {
		if (st.mem_line)
			st.line = st.mem_line;
		return error("cannot boot a machine with mem %s: %s", size_str(st.mem_bytes, 0),
			     errname(r));
	}
	st.booted = true;
	return 0;
}

/* ---- Words ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Length of the [A-Za-z_][A-Za-z0-9_]* prefix of s. */
static size_t ident_len(const char *s)
{
	size_t n = 0;

	if (!is_ident_start(s[0]))
		return 0;
	while (is_ident_start(s[n]) || is_digit(s[n]))
		n++;
	return n;
}

static bool is_ident(const char *s)
{
	size_t n = ident_len(s);

	return n && !s[n];
}

/*
 * The number at s[0..len): decimal or 0x hex, with an optional K, M or G
 * suffix, at most max. Returns 0, or STOP after reporting why not. The
 * overflow tests divide only by constants, so i386 needs no libgcc.
 */
static int parse_number(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	const char *p = s, *end = s + len;
	uint64_t n = 0;
	bool hex = false;
	int shift = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		hex = true;
		p += 2;
	}
	if (p == end || (hex ? hex_digit(*p) < 0 : !is_digit(*p)))
		return error("bad number \"%.*s\"", (int)len, s);
	for (; p < end && (hex ? hex_digit(*p) >= 0 : is_digit(*p)); p++) {
		uint64_t d = (uint64_t)(hex ? hex_digit(*p) : *p - '0');

		if (n > (hex ? UINT64_MAX / 16 : UINT64_MAX / 10))
			goto range;
		n = hex ? n << 4 : n * 10;
		if (n > UINT64_MAX - d)
			goto range;
		n += d;
	}
	if (p < end) {
		if (*p == 'K')
			shift = 10;
		else if (*p == 'M')
			shift = 20;
		else if (*p == 'G')
			shift = 30;
		if (!shift || p + 1 != end)
			return error("bad number \"%.*s\"", (int)len, s);
	}
	if (n > (UINT64_MAX >> shift))
		goto range;
	n <<= shift;
	if (n > max)
		goto range;
	*v = n;
	return 0;
range:
	return error("number out of range: %.*s", (int)len, s);
}

static int number32(const char *s, size_t len, uint32_t *v)
{
	uint64_t n;

	if (parse_number(s, len, UINT32_MAX, &n))
		return STOP;
	*v = (uint32_t)n;
	return 0;
}

/* The bytes of a quoted word, escapes decoded, into st.bytes. */
static int decode_string(const char *w, size_t *len)
{
	size_t n = 0;
	const char *p;

	/* The splitter guarantees the closing quote. */
	for (p = w + 1; *p != '"'; p++) {
		uint8_t c = (uint8_t)*p;

		if (c == '\\') {
			p++;
			switch (*p) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case '\\':
			case '"':
				c = (uint8_t)*p;
				break;
			case 'x':
				if (hex_digit(p[1]) < 0 || hex_digit(p[2]) < 0)
					return error(
					    "bad escape in string: \\x needs two hex digits");
				c = (uint8_t)(hex_digit(p[1]) << 4 | hex_digit(p[2]));
				p += 2;
				break;
			default:
				return error("unknown escape in string: \\%c", *p);
			}
		}
		if (n == SCN_MAX_BYTES)
			return error("string longer than %d bytes", SCN_MAX_BYTES);
		st.bytes[n++] = c;
	}
	*len = n;
	return 0;
}

/* STRING or 0xHEXBYTES into st.bytes. */
static int decode_data(const struct word *w, size_t *len)
{
	const char *s = w->s;
	size_t n = 0, digits;

	if (w->quoted)
		return decode_string(s, len);
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return error("expected a string or 0xHEXBYTES, got %s", s);
	digits = strlen(s + 2);
	if (!digits || digits % 2)
		return error("0xHEXBYTES needs an even number of hex digits: %s", s);
	for (const char *p = s + 2; *p; p += 2) {
		if (hex_digit(p[0]) < 0 || hex_digit(p[1]) < 0)
			return error("bad hex bytes: %s", s);
		if (n == SCN_MAX_BYTES)
			return error("more than %d hex bytes", SCN_MAX_BYTES);
		st.bytes[n++] = (uint8_t)(hex_digit(p[0]) << 4 | hex_digit(p[1]));
	}
	*len = n;
	return 0;
}

/* BYTE: a number up to 255, or a string of one byte ("A"). */
static int parse_byte(const struct word *w, uint8_t *b)
{
	uint32_t v;
	size_t n;

	if (w->quoted) {
		if (decode_string(w->s, &n))
			return STOP;
		if (n != 1)
			return error("a BYTE string must hold one byte: %s", w->s);
		*b = st.bytes[0];
		return 0;
	}
	if (number32(w->s, strlen(w->s), &v))
		return STOP;
	if (v > 0xff)
		return error("not a byte: %s", w->s);
	*b = (uint8_t)v;
	return 0;
}

/* Whether the word is one of the choices in the NULL-terminated list;
 * returns the index, or STOP after reporting. */
static int parse_choice(const struct word *w, const char *what, const char *const *choices)
{
	for (int i = 0; choices[i]; i++)
		if (!w->quoted && !strcmp(w->s, choices[i]))
			return i;
	return error("%s: expected %s, got %s", st.cmd->name, what, w->s);
}

/* ---- Names ---- */

/* The NS_LOST name was used: the command does not run. */
static int lost(const char *what, const char *name, const char *how, const char *by, unsigned line)
{
	fail_begin();
	out("not run: %s %s %s, its %s failed at line %u", what, name, how, by, line);
	fail_end();
	return SKIP;
}

static int check_proc_name(const char *s)
{
	if (!is_ident(s))
		return error("bad process name: %s", s);
	if (strlen(s) > SCN_MAX_PROC_NAME)
		return error("process name longer than %d characters: %s", SCN_MAX_PROC_NAME, s);
	return 0;
}

static struct proc *proc_find(const char *name)
{
	for (int i = 0; i < SCN_MAX_PROCS; i++)
		if (st.procs[i].state != NS_FREE && !strcmp(st.procs[i].name, name))
			return &st.procs[i];
	return NULL;
}

/* The living process named by w. 0, STOP or SKIP. */
static int proc_get(const struct word *w, struct proc **pp)
{
	struct proc *p;

	if (check_proc_name(w->s))
		return STOP;
	p = proc_find(w->s);
	if (!p)
		return error("unknown process %s", w->s);
	if (p->state == NS_LOST)
		return lost("process", p->name, "does not exist", p->lost_by, p->lost_line);
	*pp = p;
	return 0;
}

/* A slot for a new process name (not alive): its lost entry or a free
 * one. NULL after reporting. */
static struct proc *proc_slot(const char *name)
{
	struct proc *p = proc_find(name);

	if (p && p->state == NS_SET) {
		error("process %s exists already", name);
		return NULL;
	}
	if (p)
		return p;
	for (int i = 0; i < SCN_MAX_PROCS; i++)
		if (st.procs[i].state == NS_FREE) {
			strcpy(st.procs[i].name, name);
			return &st.procs[i];
		}
	error("too many processes (the limit is %d)", SCN_MAX_PROCS);
	return NULL;
}

/* A statistic's name would shadow the variable in assert and let. */
static bool is_stat_name(const char *s)
{
	return !strcmp(s, "free") || !strcmp(s, "total") || !strcmp(s, "largest") ||
	       !strcmp(s, "cached");
}

static struct var *var_find(const char *name, size_t len)
{
	for (int i = 0; i < SCN_MAX_VARS; i++)
		if (st.vars[i].state != NS_FREE && strlen(st.vars[i].name) == len &&
		    !memcmp(st.vars[i].name, name, len))
			return &st.vars[i];
	return NULL;
}

/* The slot VAR w will be bound in (checked before the command runs, so
 * that a full table stops the scenario before the machine is touched). */
static int var_slot(const struct word *w, struct var **vp)
{
	struct var *v;

	if (!is_ident(w->s))
		return error("bad variable name: %s", w->s);
	if (strlen(w->s) > SCN_MAX_VAR_NAME)
		return error("variable name longer than %d characters: %s", SCN_MAX_VAR_NAME, w->s);
	if (is_stat_name(w->s))
		return error("%s is a statistic, not a variable name", w->s);
	v = var_find(w->s, strlen(w->s));
	for (int i = 0; !v && i < SCN_MAX_VARS; i++)
		if (st.vars[i].state == NS_FREE)
			v = &st.vars[i];
	if (!v)
		return error("too many variables (the limit is %d)", SCN_MAX_VARS);
	*vp = v;
	return 0;
}

static void var_set(struct var *v, const char *name, uint32_t val, enum val_kind kind)
{
	strcpy(v->name, name);
	v->state = NS_SET;
	v->val = val;
	v->kind = kind;
}

/* Remember that name's command failed: later uses of it are not run. */
static int mark_lost(void)
{
	struct var *v;
	struct proc *p;

	if (st.lose_var) {
		struct word w = { st.lose_var, false };

		if (var_slot(&w, &v))
			return STOP;
		strcpy(v->name, st.lose_var);
		v->state = NS_LOST;
		v->lost_line = st.line;
		v->lost_by = st.cmd->name;
	}
	if (st.lose_proc) {
		p = proc_slot(st.lose_proc);
		if (!p)
			return STOP;
		p->state = NS_LOST;
		p->lost_line = st.line;
		p->lost_by = st.cmd->name;
	}
	return 0;
}

/*
 * ADDR: a number, VAR, VAR+N or VAR-N. The sum wraps around 32 bits, as
 * the addresses do, so a scenario can make a range that wraps on purpose.
 */
static int eval_value(const char *s, uint32_t *val, enum val_kind *kind)
{
	size_t n = ident_len(s);
	struct var *v;
	uint32_t off = 0;

	*kind = VK_COUNT;
	if (is_digit(s[0]))
		return number32(s, strlen(s), val);
	if (!n || (s[n] && s[n] != '+' && s[n] != '-'))
		return error("bad value: %s (a number, VAR, VAR+N or VAR-N)", s);
	if (s[n] && number32(s + n + 1, strlen(s + n + 1), &off))
		return STOP;
	v = var_find(s, n);
	if (!v)
		return error("unknown variable %.*s", (int)n, s);
	if (v->state == NS_LOST)
		return lost("variable", v->name, "has no value", v->lost_by, v->lost_line);
	*val = s[n] == '-' ? v->val - off : v->val + off;
	*kind = v->kind;
	return 0;
}

static int value(const struct word *w, uint32_t *val)
{
	enum val_kind kind;

	return eval_value(w->s, val, &kind);
}

/* ---- Statistics ---- */

static const struct {
	const char *name;
	int32_t what;
} machine_stats[] = {
	{ "free", VMQ_FREE },
	{ "total", VMQ_TOTAL },
	{ "largest", VMQ_LARGEST },
	{ "cached", VMQ_CACHED },
};

static const struct {
	const char *name;
	int32_t what;
} proc_stats[] = {
	{ "resident", VMQ_RESIDENT }, { "shared", VMQ_SHARED },   { "cow", VMQ_COW },
	{ "virtual", VMQ_VIRTUAL },   { "regions", VMQ_REGIONS }, { "minflt", VMQ_MINFLT },
	{ "brk", VMQ_BRK },
};

/*
 * A STAT or an ADDR: the value of s. Returns 0, STOP, SKIP or the errno
 * VM answered a query with.
 */
static int eval_operand(const char *s, uint32_t *val, enum val_kind *kind)
{
	const char *dot = strchr(s, '.');
	message msg;
	char pname[SCN_MAX_PROC_NAME + 1];
	struct word pw = { pname, false };
	struct proc *p;
	size_t plen;
	int r;

	*kind = VK_COUNT;
	for (size_t i = 0; i < sizeof(machine_stats) / sizeof(machine_stats[0]); i++) {
		if (strcmp(s, machine_stats[i].name))
			continue;
		r = vm_query(machine_stats[i].what, NONE, 0, &msg, s);
		*val = msg.m_query.val[0];
		return r;
	}
	if (!dot)
		return eval_value(s, val, kind);
	plen = (size_t)(dot - s);
	if (!plen || plen > SCN_MAX_PROC_NAME || ident_len(s) != plen)
		return error("bad statistic: %s", s);
	memcpy(pname, s, plen);
	pname[plen] = '\0';
	for (size_t i = 0; i < sizeof(proc_stats) / sizeof(proc_stats[0]); i++) {
		if (strcmp(dot + 1, proc_stats[i].name))
			continue;
		r = proc_get(&pw, &p);
		if (r)
			return r;
		r = vm_query(proc_stats[i].what, p->ep, 0, &msg, s);
		*val = msg.m_query.val[0];
		if (proc_stats[i].what == VMQ_BRK)
			*kind = VK_ADDR;
		return r;
	}
	if (!strcmp(dot + 1, "ep")) { /* (vmscope) the endpoint, known here */
		if ((r = proc_get(&pw, &p)) != 0)
			return r;
		*val = (uint32_t)p->ep;
		return 0;
	}
	return error("unknown statistic: %s", s);
}

static void out_value(uint32_t v, enum val_kind kind)
{
	if (kind == VK_ADDR)
		out("0x%08lx", (unsigned long)v);
	else
		out("%lu", (unsigned long)v);
}

/* ---- Commands ---- */

static int cmd_mem(struct word *a, int n)
{
	(void)n;
	if (st.started)
		return error("mem: only before the first other command");
	if (st.mem_set)
		return error("mem: given twice");
	if (number32(a[0].s, strlen(a[0].s), &st.mem_bytes))
		return STOP;
	st.mem_set = true;
	st.mem_line = st.line;
	return 0;
}

static int cmd_spawn(struct word *a, int n)
{
	static const char *const priv[] = { "priv", NULL };
	struct proc *p;
	endpoint_t ep;
	int r;

	if (check_proc_name(a[0].s))
		return STOP;
	if (n == 2 && parse_choice(&a[1], "priv", priv) < 0)
		return STOP;
	p = proc_slot(a[0].s);
	if (!p)
		return STOP;
	r = machine_result(st.m->spawn(st.m->ctx, a[0].s, n == 2, &ep), "spawn");
	if (r == 0) {
		p->state = NS_SET;
		p->ep = ep;
	} else {
		st.lose_proc = a[0].s;
	}
	return r;
}

static int cmd_fork(struct word *a, int n)
{
	struct proc *parent, *child;
	endpoint_t ep;
	int r;

	(void)n;
	r = proc_get(&a[0], &parent);
	if (r)
		return r;
	if (check_proc_name(a[1].s))
		return STOP;
	child = proc_slot(a[1].s);
	if (!child)
		return STOP;
	r = machine_result(st.m->fork(st.m->ctx, parent->ep, a[1].s, &ep), "fork");
	if (r == 0) {
		child->state = NS_SET;
		child->ep = ep;
	} else {
		st.lose_proc = a[1].s;
	}
	return r;
}

static int cmd_exit(struct word *a, int n)
{
	struct proc *p;
	int r;

	(void)n;
	r = proc_get(&a[0], &p);
	if (r)
		return r;
	r = machine_result(st.m->exit(st.m->ctx, p->ep), "exit");
	/* A process whose exit failed is still there for VM; the end of the
	 * run tries again. */
	if (r == 0)
		memset(p, 0, sizeof(*p));
	return r;
}

/*
 * exec's FILE as the machine is to read it, into st.path: relative to the
 * directory of the scenario's name (its part up to the last '/'; none, if
 * the name has no '/'), or as it is if it starts with '/'. The path is
 * joined as text, nothing is normalised ("../" stays). A quoted FILE has
 * its escapes decoded. Returns 0 or STOP.
 */
static int exec_path(const struct word *w)
{
	const char *file = w->s, *slash;
	size_t flen, dlen = 0;

	if (w->quoted) {
		if (decode_string(w->s, &flen))
			return STOP;
		if (memchr(st.bytes, '\0', flen))
			return error("exec: a NUL byte in the file name");
		file = (const char *)st.bytes;
	} else {
		flen = strlen(file);
	}
	if (!flen)
		return error("exec: empty file name");
	if (file[0] != '/') {
		slash = strrchr(st.file, '/');
		if (slash)
			dlen = (size_t)(slash - st.file) + 1;
	}
	if (dlen + flen > SCN_MAX_PATH)
		return error("exec: path longer than %d characters", SCN_MAX_PATH);
	memcpy(st.path, st.file, dlen);
	memcpy(st.path + dlen, file, flen);
	st.path[dlen + flen] = '\0';
	return 0;
}

/*
 * exec P FILE. A file that cannot be read is an error (the scenario cannot
 * run), even under expect; what the machine answers about the image is
 * the command's result. When the machine says the failure killed P, P is
 * gone: its name is unknown again, as after exit (and the end of the run
 * does not exit it), or lost if the failure was not the expected one.
 */
static int cmd_exec(struct word *a, int n)
{
	const void *image;
	struct proc *p;
	size_t len;
	int r, killed = 0;

	(void)n;
	if ((r = proc_get(&a[0], &p)))
		return r;
	if (exec_path(&a[1]))
		return STOP;
	if (!st.m->exec)
		return unsupported("exec");
	if (!st.m->readfile)
		return error("exec: cannot read %s: the machine has no files", st.path);
	r = machine_result(st.m->readfile(st.m->ctx, st.path, &image, &len), "exec");
	if (r > 0)
		return error("exec: cannot read %s: %s", st.path, errname(r));
	if (r < 0)
		return r;
	r = st.m->exec(st.m->ctx, p->ep, image, len, &killed);
	if (killed) {
		memset(p, 0, sizeof(*p));
		st.lose_proc = a[0].s;
	}
	return machine_result(r, "exec");
}

/* The prot= values, in the order of their VM_PROT_* bits below. */
static const char *const prot_names[] = { "none", "r", "rw", "rx", "rwx", NULL };
static const int32_t prot_bits[] = {
	VM_PROT_NONE, VM_PROT_READ, VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ | VM_PROT_EXEC,
	VM_PROT_ALL,
};

static const struct {
	const char *name;
	int32_t flag;
} map_flags[] = {
	{ "fixed", VM_MAP_FIXED },   { "shared", VM_MAP_SHARED },
	{ "contig", VM_MAP_CONTIG }, { "prealloc", VM_MAP_PREALLOC },
	{ "uninit", VM_MAP_UNINIT }, { "lower16m", VM_MAP_LOWER16M },
};

/* One OPT of mmap into msg; seen collects what was given already. */
static int mmap_option(const struct word *w, message *msg, uint32_t *seen)
{
	const char *s = w->s;
	struct word pw = { NULL, false };
	int i;

	for (size_t f = 0; f < sizeof(map_flags) / sizeof(map_flags[0]); f++) {
		if (strcmp(s, map_flags[f].name))
			continue;
		if (msg->m_mmap.flags & map_flags[f].flag)
			return error("mmap: option %s given twice", s);
		msg->m_mmap.flags |= map_flags[f].flag;
		return 0;
	}
	/* Options with a value; the bits of seen are private to here. */
	if (!strncmp(s, "at=", 3)) {
		if (*seen & 1)
			return error("mmap: option at= given twice");
		*seen |= 1;
		pw.s = s + 3;
		return value(&pw, &msg->m_mmap.addr);
	}
	if (!strncmp(s, "phys=", 5)) {
		if (*seen & 2)
			return error("mmap: option phys= given twice");
		*seen |= 2;
		msg->m_mmap.flags |= VM_MAP_PHYS;
		pw.s = s + 5;
		return value(&pw, &msg->m_mmap.phys);
	}
	if (!strncmp(s, "prot=", 5)) {
		if (*seen & 4)
			return error("mmap: option prot= given twice");
		*seen |= 4;
		pw.s = s + 5;
		i = parse_choice(&pw, "prot=none|r|rw|rx|rwx", prot_names);
		if (i < 0)
			return STOP;
		msg->m_mmap.prot = prot_bits[i];
		return 0;
	}
	return error("mmap: unknown option %s", s);
}

static int cmd_mmap(struct word *a, int n)
{
	struct proc *p;
	struct var *v;
	message msg;
	uint32_t seen = 0;
	int r;

	r = proc_get(&a[0], &p);
	if (r)
		return r;
	if (var_slot(&a[1], &v))
		return STOP;
	memset(&msg, 0, sizeof(msg));
	msg.m_source = p->ep;
	msg.m_type = VM_MMAP;
	msg.m_mmap.prot = VM_PROT_READ | VM_PROT_WRITE;
	r = value(&a[2], &msg.m_mmap.len);
	for (int i = 3; !r && i < n; i++)
		r = mmap_option(&a[i], &msg, &seen);
	if (r)
		return r;
	r = vm_call(&msg, "mmap");
	if (r == 0)
		var_set(v, a[1].s, msg.m_mmap.addr, VK_ADDR);
	else
		st.lose_var = a[1].s;
	return r;
}

static int cmd_munmap(struct word *a, int n)
{
	struct proc *p;
	message msg;
	int r;

	(void)n;
	memset(&msg, 0, sizeof(msg));
	if ((r = proc_get(&a[0], &p)) || (r = value(&a[1], &msg.m_munmap.addr)) ||
	    (r = value(&a[2], &msg.m_munmap.len)))
		return r;
	msg.m_source = p->ep;
	msg.m_type = VM_MUNMAP;
	return vm_call(&msg, "munmap");
}

static int cmd_brk(struct word *a, int n)
{
	struct proc *p;
	message msg;
	int r;

	(void)n;
	memset(&msg, 0, sizeof(msg));
	if ((r = proc_get(&a[0], &p)) || (r = value(&a[1], &msg.m_brk.addr)))
		return r;
	msg.m_source = p->ep;
	msg.m_type = VM_BRK;
	return vm_call(&msg, "brk");
}

/* remap SRC ADDR DST VAR [ro]: the kernel asks VM to share SRC's region
 * at ADDR with DST, at an address VM chooses. */
static int cmd_remap(struct word *a, int n)
{
	static const char *const ro[] = { "ro", NULL };
	struct proc *src, *dst;
	struct var *v;
	message msg;
	int r;

	if (n == 5 && parse_choice(&a[4], "ro", ro) < 0)
		return STOP;
	memset(&msg, 0, sizeof(msg));
	if ((r = proc_get(&a[0], &src)) || (r = value(&a[1], &msg.m_remap.src_addr)) ||
	    (r = proc_get(&a[2], &dst)))
		return r;
	if (var_slot(&a[3], &v))
		return STOP;
	msg.m_source = KERNEL;
	msg.m_type = VM_REMAP;
	msg.m_remap.src = src->ep;
	msg.m_remap.dst = dst->ep;
	msg.m_remap.dst_addr = 0;
	msg.m_remap.flags = n == 5 ? VM_REMAP_RO : 0;
	r = vm_call(&msg, "remap");
	if (r == 0)
		var_set(v, a[3].s, msg.m_remap.dst_addr, VK_ADDR);
	else
		st.lose_var = a[3].s;
	return r;
}

static int cmd_shmunmap(struct word *a, int n)
{
	struct proc *p;
	message msg;
	int r;

	(void)n;
	memset(&msg, 0, sizeof(msg));
	if ((r = proc_get(&a[0], &p)) || (r = value(&a[1], &msg.m_munmap.addr)))
		return r;
	msg.m_source = p->ep;
	msg.m_type = VM_SHM_UNMAP;
	return vm_call(&msg, "shmunmap");
}

static int cmd_write(struct word *a, int n)
{
	struct proc *p;
	uint32_t addr;
	size_t len;
	int r;

	(void)n;
	if ((r = proc_get(&a[0], &p)) || (r = value(&a[1], &addr)) ||
	    (r = decode_data(&a[2], &len)))
		return r;
	return len ? vm_access(p->ep, addr, st.bytes, len, 1) : 0;
}

static int cmd_fill(struct word *a, int n)
{
	struct proc *p;
	uint32_t addr, len, done, part;
	uint8_t b;
	int r;

	(void)n;
	if ((r = proc_get(&a[0], &p)) || (r = value(&a[1], &addr)) || (r = value(&a[2], &len)) ||
	    (r = parse_byte(&a[3], &b)))
		return r;
	memset(st.chunk, b, sizeof(st.chunk));
	for (done = 0; done < len; done += part) {
		part = len - done < SCN_CHUNK ? len - done : SCN_CHUNK;
		r = vm_access(p->ep, addr + done, st.chunk, part, 1);
		if (r) {
			st.fail_at_set = true;
			st.fail_at = addr + done;
			return r;
		}
	}
	return 0;
}

/* A load for check or checkfill was refused. Under expect that is the
 * command's result; otherwise the check fails here. */
static int load_failed(int r, uint32_t at, const uint8_t *exp, size_t len, bool fill)
{
	if (r < 0 || st.expecting)
		return r;
	fail_begin();
	if (fill) {
		out("expected every byte 0x%02x, got %s at 0x%08lx", exp[0], errname(r),
		    (unsigned long)at);
	} else {
		out("expected ");
		out_quoted(exp, len);
		out(", got %s", errname(r));
	}
	fail_end();
	return 0;
}

static int cmd_check(struct word *a, int n)
{
	struct proc *p;
	uint32_t addr;
	size_t len;
	int r;

	(void)n;
	if ((r = proc_get(&a[0], &p)) || (r = value(&a[1], &addr)) ||
	    (r = decode_data(&a[2], &len)))
		return r;
	r = len ? vm_access(p->ep, addr, st.chunk, len, 0) : 0;
	if (r)
		return load_failed(r, addr, st.bytes, len, false);
	if (st.expecting)
		return 0;
	if (!memcmp(st.chunk, st.bytes, len)) {
		st.passed++;
		return 0;
	}
	fail_begin();
	out("expected ");
	out_quoted(st.bytes, len);
	out(", read ");
	out_quoted(st.chunk, len);
	fail_end();
	return 0;
}

static int cmd_checkfill(struct word *a, int n)
{
	struct proc *p;
	uint32_t addr, len, done, part;
	uint8_t b;
	int r;

	(void)n;
	if ((r = proc_get(&a[0], &p)) || (r = value(&a[1], &addr)) || (r = value(&a[2], &len)) ||
	    (r = parse_byte(&a[3], &b)))
		return r;
	for (done = 0; done < len; done += part) {
		part = len - done < SCN_CHUNK ? len - done : SCN_CHUNK;
		r = vm_access(p->ep, addr + done, st.chunk, part, 0);
		if (r) {
			st.fail_at_set = true;
			st.fail_at = addr + done;
			return load_failed(r, addr + done, &b, 1, true);
		}
		if (st.expecting)
			continue;
		for (uint32_t i = 0; i < part; i++) {
			if (st.chunk[i] == b)
				continue;
			fail_begin();
			out("expected every byte 0x%02x, read 0x%02x at 0x%08lx (offset %lu)", b,
			    st.chunk[i], (unsigned long)(addr + done + i),
			    (unsigned long)(done + i));
			fail_end();
			return 0;
		}
	}
	if (!st.expecting)
		st.passed++;
	return 0;
}

static int cmd_segv(struct word *a, int n)
{
	static const char *const modes[] = { "read", "write", NULL };
	struct proc *p;
	uint32_t addr;
	uint8_t b = 0;
	int r, write;

	(void)n;
	if ((r = proc_get(&a[0], &p)) || (r = value(&a[1], &addr)))
		return r;
	write = parse_choice(&a[2], "read or write", modes);
	if (write < 0)
		return STOP;
	/* A store that is wrongly allowed writes a zero byte: the check has
	 * failed by then, and reading the byte first to store it back would
	 * fault the page in and change the statistics of every check. */
	r = vm_access(p->ep, addr, &b, 1, write);
	if (r < 0)
		return r;
	if (r == EFAULT) {
		st.passed++;
		return 0;
	}
	fail_begin();
	if (r == 0)
		out("expected the %s to be refused, it succeeded", modes[write]);
	else
		out("expected the %s to be refused, got %s", modes[write], errname(r));
	fail_end();
	return 0;
}

static int cmd_let(struct word *a, int n)
{
	enum val_kind kind;
	struct var *v;
	uint32_t val;
	int r;

	(void)n;
	if (var_slot(&a[0], &v))
		return STOP;
	r = eval_operand(a[1].s, &val, &kind);
	if (r == 0)
		var_set(v, a[0].s, val, kind);
	else if (r > 0)
		st.lose_var = a[0].s;
	return r;
}

/* assert's operators; ops[] has their spellings in the same order. */
enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
static const char *const ops[] = { "==", "!=", "<", "<=", ">", ">=", NULL };

/* Values are compared as the unsigned 32-bit numbers addresses are. */
static bool compare(enum cmp_op op, uint32_t x, uint32_t y)
{
	switch (op) {
	case OP_EQ:
		return x == y;
	case OP_NE:
		return x != y;
	case OP_LT:
		return x < y;
	case OP_LE:
		return x <= y;
	case OP_GT:
		return x > y;
	case OP_GE:
		return x >= y;
	}
	return false;
}

static int cmd_assert(struct word *a, int n)
{
	enum val_kind xk, yk;
	uint32_t x, y;
	int op, r;

	(void)n;
	op = parse_choice(&a[1], "an operator (== != < <= > >=)", ops);
	if (op < 0)
		return STOP;
	r = eval_operand(a[0].s, &x, &xk);
	if (r == 0)
		r = eval_operand(a[2].s, &y, &yk);
	if (r < 0)
		return r;
	if (r > 0) {
		fail_begin();
		out("expected %s %s %s, the query failed with %s", a[0].s, ops[op], a[2].s,
		    errname(r));
		fail_end();
		return 0;
	}
	if (compare((enum cmp_op)op, x, y)) {
		st.passed++;
		return 0;
	}
	fail_begin();
	out("expected %s %s %s, %s is ", a[0].s, ops[op], a[2].s, a[0].s);
	out_value(x, xk);
	/* A literal on the right says itself; anything else is worth its
	 * value. */
	if (!is_digit(a[2].s[0])) {
		out(", %s is ", a[2].s);
		out_value(y, yk);
	}
	fail_end();
	return 0;
}

static int cmd_phys(struct word *a, int n)
{
	struct proc *p;
	struct var *v;
	uint32_t addr;
	phys_bytes pa = 0;
	int r;

	(void)n;
	if ((r = proc_get(&a[0], &p)) || (r = value(&a[1], &addr)))
		return r;
	if (var_slot(&a[2], &v))
		return STOP;
	r = machine_result(st.m->umap(st.m->ctx, p->ep, addr, &pa), "phys");
	if (r == 0)
		var_set(v, a[2].s, pa, VK_ADDR);
	else if (r > 0)
		st.lose_var = a[2].s;
	return r;
}

static int cmd_sanity(struct word *a, int n)
{
	uint32_t findings;
	int r;

	(void)a;
	(void)n;
	r = vm_sanity(&findings);
	if (r < 0)
		return r;
	if (r == 0 && findings == 0) {
		st.passed++;
		return 0;
	}
	fail_begin();
	if (r)
		out("VM answered %s", errname(r));
	else
		out("%lu findings", (unsigned long)findings);
	fail_end();
	return 0;
}

static int cmd_echo(struct word *a, int n)
{
	const char *s = st.cmdtext + 4;

	(void)a;
	(void)n;
	while (is_space(*s))
		s++;
	out("%s\n", s);
	return 0;
}

/* Where a debugger stops: `checkpoint NAME` calls this with the machine
 * as the scenario left it (scripts/vm-gdb breaks here). Never inlined,
 * and the empty asm keeps the call from being optimised away. */
__attribute__((noinline)) void scn_checkpoint(const char *name)
{
	__asm__ volatile("" : : "r"(name) : "memory");
}

static int cmd_checkpoint(struct word *a, int n)
{
	(void)n;
	scn_checkpoint(a[0].s);
	return 0;
}

/* A region's mem type by the id VM reports (vm/memtype.h's numbering, part
 * of what dump prints): 1 anon, 2 contig, 3 phys, 4 shared, 5 cache. */
static const char *mem_type_name(uint32_t id)
{
	static const char *const names[] = { NULL, "anon", "contig", "phys", "shared", "cache" };

	if (id && id < sizeof(names) / sizeof(names[0]))
		return names[id];
	scn_snprintf(st.errbuf, sizeof(st.errbuf), "type %lu", (unsigned long)id);
	return st.errbuf;
}

/* The number of P's regions, by asking for them until VM says ESRCH. */
static int dump_count(struct proc *p, uint32_t *count)
{
	message msg;
	int r = 0;

	for (*count = 0; *count < SCN_MAX_DUMP; (*count)++) {
		r = vm_query(VMQ_REGION, p->ep, *count, &msg, "dump");
		if (r)
			break;
	}
	return r == ESRCH ? 0 : r;
}

static int cmd_dump(struct word *a, int n)
{
	struct proc *p;
	message msg;
	uint32_t count;
	int r;

	(void)n;
	r = proc_get(&a[0], &p);
	if (r)
		return r;
	r = dump_count(p, &count);
	if (r < 0)
		return r;
	out("dump %s (endpoint %ld): %lu regions", p->name, (long)p->ep, (unsigned long)count);
	/* dump never fails the scenario: VM's trouble is only shown. */
	if (r)
		out(" (VM answered %s at region %lu)", errname(r), (unsigned long)count);
	out("\n");
	for (uint32_t i = 0; i < count; i++) {
		uint32_t *v = msg.m_query.val;

		r = vm_query(VMQ_REGION, p->ep, i, &msg, "dump");
		if (r < 0)
			return r;
		if (r) {
			out("  region %lu: VM answered %s\n", (unsigned long)i, errname(r));
			continue;
		}
		out("  0x%08lx-0x%08lx %6s %c%c%c  %-6s resident %lu", (unsigned long)v[0],
		    (unsigned long)(uint32_t)(v[0] + v[1]), size_str(v[1], 0),
		    v[2] & VM_PROT_READ ? 'r' : '-', v[2] & VM_PROT_WRITE ? 'w' : '-',
		    v[2] & VM_PROT_EXEC ? 'x' : '-', mem_type_name(v[4]), (unsigned long)v[5]);
		if (v[3])
			out(" flags 0x%lx", (unsigned long)v[3]);
		out("\n");
	}
	return 0;
}

/* ---- The cache ---- */

/* A cache ID: a number of up to 64 bits, or a variable (32 bits). */
static int id_value(const struct word *w, uint64_t *id)
{
	uint32_t v;

	if (is_digit(w->s[0]))
		return parse_number(w->s, strlen(w->s), UINT64_MAX, id);
	if (value(w, &v))
		return STOP;
	*id = v;
	return 0;
}

/* yield P ADDR LEN ID and getblock P ADDR LEN ID: the two halves of VM's
 * combined yield-and-get call, the other id being VM_BLOCKID_NONE. (An ID
 * of all ones is VM_BLOCKID_NONE itself: VM refuses it with EINVAL.) */
static int cmd_block(struct word *a, int n)
{
	bool get = !strcmp(st.cmd->name, "getblock");
	uint64_t id, none = VM_BLOCKID_NONE;
	struct proc *p;
	message msg;
	int r;

	(void)n;
	memset(&msg, 0, sizeof(msg));
	if ((r = proc_get(&a[0], &p)) || (r = value(&a[1], &msg.m_yb.addr)) ||
	    (r = value(&a[2], &msg.m_yb.len)) || (r = id_value(&a[3], &id)))
		return r;
	uint64_t yid = get ? none : id, gid = get ? id : none;
	msg.m_source = p->ep;
	msg.m_type = VM_YIELDBLOCKGETBLOCK;
	msg.m_yb.yield_lo = (uint32_t)yid;
	msg.m_yb.yield_hi = (uint32_t)(yid >> 32);
	msg.m_yb.get_lo = (uint32_t)gid;
	msg.m_yb.get_hi = (uint32_t)(gid >> 32);
	return vm_call(&msg, st.cmd->name);
}

/* forget P ID and forgetall P. */
static int cmd_forget(struct word *a, int n)
{
	struct proc *p;
	uint64_t id = 0;
	message msg;
	int r;

	memset(&msg, 0, sizeof(msg));
	if ((r = proc_get(&a[0], &p)) || (n > 1 && (r = id_value(&a[1], &id))))
		return r;
	msg.m_source = p->ep;
	msg.m_type = n > 1 ? VM_FORGETBLOCK : VM_FORGETBLOCKS;
	msg.m_forget.id_lo = (uint32_t)id;
	msg.m_forget.id_hi = (uint32_t)(id >> 32);
	return vm_call(&msg, st.cmd->name);
}

/* ---- Grants ---- */

/* grant P VAR ADDR LEN C r|w|rw: P grants C access to [ADDR, ADDR+LEN). */
static int cmd_grant(struct word *a, int n)
{
	static const char *const modes[] = { "r", "w", "rw", NULL };
	static const uint32_t access[] = { VM_GRANT_READ, VM_GRANT_WRITE,
					   VM_GRANT_READ | VM_GRANT_WRITE };
	struct proc *p, *c;
	struct var *v;
	message msg;
	int mode, r;

	(void)n;
	if ((mode = parse_choice(&a[5], "r, w or rw", modes)) < 0)
		return STOP;
	memset(&msg, 0, sizeof(msg));
	if ((r = proc_get(&a[0], &p)) || (r = value(&a[2], &msg.m_grant.addr)) ||
	    (r = value(&a[3], &msg.m_grant.len)) || (r = proc_get(&a[4], &c)))
		return r;
	if (var_slot(&a[1], &v))
		return STOP;
	msg.m_source = p->ep;
	msg.m_type = VM_GRANT;
	msg.m_grant.grantee = c->ep;
	msg.m_grant.access = access[mode];
	r = vm_call(&msg, "grant");
	if (r == 0)
		var_set(v, a[1].s, msg.m_grant.id, VK_ADDR);
	else
		st.lose_var = a[1].s;
	return r;
}

/* revoke P G and saferevmap P G: the granter's calls about its grant. */
static int cmd_revoke(struct word *a, int n)
{
	bool revmap = !strcmp(st.cmd->name, "saferevmap");
	struct proc *p;
	message msg;
	int r;

	(void)n;
	memset(&msg, 0, sizeof(msg));
	if ((r = proc_get(&a[0], &p)) || (r = value(&a[1], &msg.m_grant.id)))
		return r;
	msg.m_source = p->ep;
	msg.m_type = revmap ? VM_SAFEREVMAP : VM_REVOKE;
	return vm_call(&msg, st.cmd->name);
}

/* safecopy C G OFF LEN to|from ADDR. */
static int cmd_safecopy(struct word *a, int n)
{
	static const char *const dirs[] = { "to", "from", NULL };
	struct proc *c;
	message msg;
	int dir, r;

	(void)n;
	if ((dir = parse_choice(&a[4], "to or from", dirs)) < 0)
		return STOP;
	memset(&msg, 0, sizeof(msg));
	if ((r = proc_get(&a[0], &c)) || (r = value(&a[1], &msg.m_safecopy.id)) ||
	    (r = value(&a[2], &msg.m_safecopy.off)) || (r = value(&a[3], &msg.m_safecopy.len)) ||
	    (r = value(&a[5], &msg.m_safecopy.addr)))
		return r;
	msg.m_source = c->ep;
	msg.m_type = VM_SAFECOPY;
	msg.m_safecopy.dir = dir == 0 ? VM_SAFECOPY_TO : VM_SAFECOPY_FROM;
	return vm_call(&msg, "safecopy");
}

/* safemap C VAR G OFF LEN [ro]. */
static int cmd_safemap(struct word *a, int n)
{
	static const char *const ro[] = { "ro", NULL };
	struct proc *c;
	struct var *v;
	message msg;
	int r;

	if (n > 5 && parse_choice(&a[5], "ro", ro) < 0)
		return STOP;
	memset(&msg, 0, sizeof(msg));
	if ((r = proc_get(&a[0], &c)) || (r = value(&a[2], &msg.m_safemap.id)) ||
	    (r = value(&a[3], &msg.m_safemap.off)) || (r = value(&a[4], &msg.m_safemap.len)))
		return r;
	if (var_slot(&a[1], &v))
		return STOP;
	msg.m_source = c->ep;
	msg.m_type = VM_SAFEMAP;
	msg.m_safemap.flags = n > 5 ? VM_SAFEMAP_RO : 0;
	r = vm_call(&msg, "safemap");
	if (r == 0)
		var_set(v, a[1].s, msg.m_safemap.addr, VK_ADDR);
	else
		st.lose_var = a[1].s;
	return r;
}

/* ---- The data store (vmscope commands) ---- */

/* The bytes of NAME into a message's name field. */
static int ds_name(const struct word *w, char *name)
{
	size_t len;

	if (w->quoted) {
		if (decode_data(w, &len))
			return STOP;
	} else {
		len = strlen(w->s);
		memcpy(st.bytes, w->s, len);
	}
	if (len == 0 || len >= VM_DS_NAME_LEN || memchr(st.bytes, '\0', len))
		return error("bad data-store name: %s (1 to %d bytes)", w->s, VM_DS_NAME_LEN - 1);
	memset(name, 0, VM_DS_NAME_LEN);
	memcpy(name, st.bytes, len);
	return 0;
}

/* A grant from p to VM (the data store's side of a copy or mapping). */
static int ds_grant(struct proc *p, uint32_t addr, uint32_t len, uint32_t access, uint32_t *id)
{
	message msg;
	int r;

	memset(&msg, 0, sizeof(msg));
	msg.m_source = p->ep;
	msg.m_type = VM_GRANT;
	msg.m_grant.grantee = VM_PROC_NR;
	msg.m_grant.addr = addr;
	msg.m_grant.len = len;
	msg.m_grant.access = access;
	r = vm_call(&msg, "grant");
	*id = msg.m_grant.id;
	return r;
}

static void ds_revoke(struct proc *p, uint32_t id)
{
	message msg;

	memset(&msg, 0, sizeof(msg));
	msg.m_source = p->ep;
	msg.m_type = VM_REVOKE;
	msg.m_grant.id = id;
	st.m->call(st.m->ctx, &msg);
}

/*
 * dspublish P NAME label | mem ADDR LEN | map ADDR LEN. A memory range is
 * copied through a grant to VM made (and revoked) here; a mapped range
 * keeps its grant, which retrievers map.
 */
static int cmd_dspublish(struct word *a, int n)
{
	static const char *const types[] = { "label", "mem", "map", NULL };
	struct proc *p;
	message msg;
	uint32_t addr = 0, len = 0;
	int type, r;

	memset(&msg, 0, sizeof(msg));
	if ((type = parse_choice(&a[2], "label, mem or map", types)) < 0)
		return STOP;
	if (n != (type == 0 ? 3 : 5))
		return error("usage: dspublish P NAME label | mem ADDR LEN | map ADDR LEN");
	if ((r = proc_get(&a[0], &p)) || ds_name(&a[1], msg.m_ds.name))
		return r ? r : STOP;
	if (type > 0 && ((r = value(&a[3], &addr)) || (r = value(&a[4], &len))))
		return r;
	msg.m_source = p->ep;
	msg.m_type = VM_DS_PUBLISH;
	msg.m_ds.type = type == 0 ? VM_DS_LABEL : type == 1 ? VM_DS_MEM : VM_DS_MAP;
	msg.m_ds.ep = p->ep;
	msg.m_ds.len = len;
	if (type > 0) {
		uint32_t access = type == 1 ? VM_GRANT_READ : VM_GRANT_READ | VM_GRANT_WRITE;
		if ((r = ds_grant(p, addr, len, access, &msg.m_ds.grant)) != 0)
			return r;
	}
	uint32_t id = msg.m_ds.grant;
	r = vm_call(&msg, "dspublish");
	if (type == 1 || (type == 2 && r != 0))
		ds_revoke(p, id);
	return r;
}

/* dsretrieve C NAME label VAR | mem ADDR LEN | map VAR [ro]. */
static int cmd_dsretrieve(struct word *a, int n)
{
	static const char *const types[] = { "label", "mem", "map", NULL };
	static const char *const ro[] = { "ro", NULL };
	struct proc *c;
	struct var *v = NULL;
	message msg;
	uint32_t addr = 0, len = 0;
	int type, r;

	memset(&msg, 0, sizeof(msg));
	if ((type = parse_choice(&a[2], "label, mem or map", types)) < 0)
		return STOP;
	if ((type == 0 && n != 4) || (type == 1 && n != 5) || (type == 2 && n != 4 && n != 5) ||
	    (type == 2 && n == 5 && parse_choice(&a[4], "ro", ro) < 0))
		return error("usage: dsretrieve C NAME label VAR | mem ADDR LEN | map VAR [ro]");
	if ((r = proc_get(&a[0], &c)) || ds_name(&a[1], msg.m_ds.name))
		return r ? r : STOP;
	if (type == 1 && ((r = value(&a[3], &addr)) || (r = value(&a[4], &len))))
		return r;
	if (type != 1 && var_slot(&a[3], &v))
		return STOP;
	msg.m_source = c->ep;
	msg.m_type = VM_DS_RETRIEVE;
	msg.m_ds.type = type == 0 ? VM_DS_LABEL : type == 1 ? VM_DS_MEM : VM_DS_MAP;
	msg.m_ds.flags = n == 5 && type == 2 ? VM_SAFEMAP_RO : 0;
	if (type == 1 && (r = ds_grant(c, addr, len, VM_GRANT_WRITE, &msg.m_ds.grant)) != 0)
		return r;
	uint32_t id = msg.m_ds.grant;
	r = vm_call(&msg, "dsretrieve");
	if (type == 1)
		ds_revoke(c, id);
	if (v && r == 0)
		var_set(v, a[3].s, type == 0 ? (uint32_t)msg.m_ds.ep : msg.m_ds.addr,
			type == 0 ? VK_COUNT : VK_ADDR);
	else if (v)
		st.lose_var = a[3].s;
	return r;
}

/* dsdelete P NAME and dssubscribe C PATTERN. */
static int cmd_dsname(struct word *a, int n)
{
	bool sub = !strcmp(st.cmd->name, "dssubscribe");
	struct proc *p;
	message msg;
	int r;

	(void)n;
	memset(&msg, 0, sizeof(msg));
	if ((r = proc_get(&a[0], &p)) || ds_name(&a[1], msg.m_ds.name))
		return r ? r : STOP;
	msg.m_source = p->ep;
	msg.m_type = sub ? VM_DS_SUBSCRIBE : VM_DS_DELETE;
	return vm_call(&msg, st.cmd->name);
}

/* dscheck C NAME: C's next deletion notice must be about NAME (a check;
 * ESRCH when C has none). */
static int cmd_dscheck(struct word *a, int n)
{
	char want[VM_DS_NAME_LEN];
	struct proc *c;
	message msg;
	int r;

	(void)n;
	memset(&msg, 0, sizeof(msg));
	if ((r = proc_get(&a[0], &c)) || ds_name(&a[1], want))
		return r ? r : STOP;
	msg.m_source = c->ep;
	msg.m_type = VM_DS_CHECK;
	if ((r = vm_call(&msg, "dscheck")) != 0)
		return r;
	msg.m_ds.name[VM_DS_NAME_LEN - 1] = '\0';
	if (st.expecting)
		return 0;
	if (!strcmp(msg.m_ds.name, want)) {
		st.passed++;
		return 0;
	}
	fail_begin();
	out("expected a notice for \"%s\", got one for \"%s\"", want, msg.m_ds.name);
	fail_end();
	return 0;
}

#define ANY SCN_MAX_WORDS

static const struct cmd cmds[] = {
	{ "mem", 1, 1, cmd_mem, false, "mem SIZE" },
	{ "spawn", 1, 2, cmd_spawn, true, "spawn P [priv]" },
	{ "fork", 2, 2, cmd_fork, true, "fork P C" },
	{ "exit", 1, 1, cmd_exit, true, "exit P" },
	{ "exec", 2, 2, cmd_exec, true, "exec P FILE" },
	{ "mmap", 3, ANY, cmd_mmap, true, "mmap P VAR LEN [OPT...]" },
	{ "munmap", 3, 3, cmd_munmap, true, "munmap P ADDR LEN" },
	{ "brk", 2, 2, cmd_brk, true, "brk P ADDR" },
	{ "remap", 4, 5, cmd_remap, true, "remap SRC ADDR DST VAR [ro]" },
	{ "shmunmap", 2, 2, cmd_shmunmap, true, "shmunmap P ADDR" },
	{ "yield", 4, 4, cmd_block, true, "yield P ADDR LEN ID" },
	{ "getblock", 4, 4, cmd_block, true, "getblock P ADDR LEN ID" },
	{ "forget", 2, 2, cmd_forget, true, "forget P ID" },
	{ "forgetall", 1, 1, cmd_forget, true, "forgetall P" },
	{ "grant", 6, 6, cmd_grant, true, "grant P VAR ADDR LEN C r|w|rw" },
	{ "revoke", 2, 2, cmd_revoke, true, "revoke P G" },
	{ "safecopy", 6, 6, cmd_safecopy, true, "safecopy C G OFF LEN to|from ADDR" },
	{ "safemap", 5, 6, cmd_safemap, true, "safemap C VAR G OFF LEN [ro]" },
	{ "saferevmap", 2, 2, cmd_revoke, true, "saferevmap P G" },
	{ "dspublish", 3, 5, cmd_dspublish, true,
	  "dspublish P NAME label | mem ADDR LEN | map ADDR LEN" },
	{ "dsretrieve", 4, 5, cmd_dsretrieve, true,
	  "dsretrieve C NAME label VAR | mem ADDR LEN | map VAR [ro]" },
	{ "dsdelete", 2, 2, cmd_dsname, true, "dsdelete P NAME" },
	{ "dssubscribe", 2, 2, cmd_dsname, true, "dssubscribe C PATTERN" },
	{ "dscheck", 2, 2, cmd_dscheck, true, "dscheck C NAME" },
	{ "write", 3, 3, cmd_write, true, "write P ADDR STRING|0xHEXBYTES" },
	{ "fill", 4, 4, cmd_fill, true, "fill P ADDR LEN BYTE" },
	{ "check", 3, 3, cmd_check, true, "check P ADDR STRING|0xHEXBYTES" },
	{ "checkfill", 4, 4, cmd_checkfill, true, "checkfill P ADDR LEN BYTE" },
	{ "segv", 3, 3, cmd_segv, false, "segv P ADDR read|write" },
	{ "expect", 2, ANY, NULL, false, "expect ERRNAME COMMAND..." },
	{ "let", 2, 2, cmd_let, false, "let VAR STAT" },
	{ "assert", 3, 3, cmd_assert, false, "assert X OP ADDR" },
	{ "phys", 3, 3, cmd_phys, true, "phys P ADDR VAR" },
	{ "sanity", 0, 0, cmd_sanity, false, "sanity" },
	{ "echo", 0, ANY, cmd_echo, false, "echo TEXT..." },
	{ "dump", 1, 1, cmd_dump, false, "dump P" },
	{ "checkpoint", 1, 1, cmd_checkpoint, false, "checkpoint NAME" },
};

static const struct cmd *cmd_find(const struct word *w)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!w->quoted && !strcmp(w->s, cmds[i].name))
			return &cmds[i];
	error("unknown command %s", w->s);
	return NULL;
}

/* The command named by words[i], with the checks every command has. */
static const struct cmd *cmd_prepare(int i)
{
	const struct cmd *c = cmd_find(&st.words[i]);
	int args = st.nwords - i - 1;

	if (!c)
		return NULL;
	if (args < c->min_args || args > c->max_args) {
		error("usage: %s", c->usage);
		return NULL;
	}
	st.cmd = c;
	return c;
}

/* The errno named s for expect; OK is not an error. */
static int errno_by_name(const char *s)
{
	for (size_t i = 0; i < sizeof(vm_errnames) / sizeof(vm_errnames[0]); i++)
		if (vm_errnames[i].num && !strcmp(s, vm_errnames[i].name))
			return vm_errnames[i].num;
	return error("unknown error name %s", s);
}

/* Count and report the result r of a command, run on its own line (want 0)
 * or as the COMMAND of an expect that wants errno want. */
static int settle(int r, int want)
{
	if (r < 0)
		return r;
	if (want && r == want) {
		st.passed++;
		return 0;
	}
	if (!want && r == 0)
		return 0;
	fail_begin();
	out("expected %s, got %s", want ? errname(want) : "success", errname(r));
	if (r && st.fail_at_set)
		out(" at 0x%08lx", (unsigned long)st.fail_at);
	fail_end();
	return r ? mark_lost() : 0;
}

static int run_command(void)
{
	const struct cmd *c = cmd_find(&st.words[0]);
	int want = 0, ci = 0, r;

	if (!c)
		return STOP;
	if (c->run != cmd_mem && !st.started) {
		st.started = true;
		if (boot())
			return STOP;
	}
	if (!c->run) {
		/* expect ERRNAME COMMAND...: the COMMAND is the command. */
		if (st.nwords < 3)
			return error("usage: %s", c->usage);
		want = errno_by_name(st.words[1].s);
		if (want < 0)
			return STOP;
		ci = 2;
	}
	c = cmd_prepare(ci);
	if (!c)
		return STOP;
	if (want && !c->expectable)
		return error("expect: %s is not a command that fails with an error number",
			     c->name);
	st.lose_var = st.lose_proc = NULL;
	st.fail_at_set = false;
	st.expecting = want != 0;
	r = c->run(&st.words[ci + 1], st.nwords - ci - 1);
	st.expecting = false;
	return settle(r, want);
}

/*
 * Cut line[0..len) at its comment and split it into st.words. A # inside
 * a string is not a comment; quotes must balance. Returns 0 (st.nwords 0
 * for a blank line) or STOP.
 */
static int split_line(const char *line, size_t len)
{
	char *s = st.linebuf, *end, *w;
	bool in_str = false;

	st.nwords = 0;
	if (len > SCN_MAX_LINE)
		return error("line longer than %d characters", SCN_MAX_LINE);
	if (memchr(line, '\0', len))
		return error("NUL byte in the line");
	memcpy(s, line, len);
	s[len] = '\0';
	for (char *p = s; *p; p++) {
		if (in_str && *p == '\\' && p[1])
			p++;
		else if (*p == '"')
			in_str = !in_str;
		else if (!in_str && *p == '#') {
			*p = '\0';
			break;
		}
	}
	if (in_str)
		return error("unterminated string");
	end = s + strlen(s);
	/* \r: a file written on Windows. */
	while (end > s && (is_space(end[-1]) || end[-1] == '\r'))
		*--end = '\0';
	while (is_space(*s))
		s++;
	st.cmdtext = s;
	memcpy(st.wordbuf, s, (size_t)(end - s) + 1);
	for (w = st.wordbuf; *w;) {
		struct word *word;

		if (is_space(*w)) {
			w++;
			continue;
		}
		if (st.nwords == SCN_MAX_WORDS)
			return error("more than %d words in the line", SCN_MAX_WORDS);
		word = &st.words[st.nwords++];
		word->s = w;
		word->quoted = *w == '"';
		if (word->quoted) {
			for (w++; *w != '"'; w++)
				if (*w == '\\')
					w++;
			w++;
			if (*w && !is_space(*w))
				return error("a space must follow the closing quote");
		} else {
			for (; *w && !is_space(*w); w++)
				if (*w == '"')
					return error("a quote inside a word");
		}
		if (*w)
			*w++ = '\0';
	}
	return 0;
}

/* Exit what is still running, run VM's sanity check, halt. */
static void finish(void)
{
	uint32_t findings;
	int r;

	st.line = 0;
	st.cmd = NULL;
	if (st.keep && st.booted)
		return; /* the machine goes on with the processes alive */
	if (!st.booted) {
		/* A scenario of only `mem` still gets its machine, so that the
		 * size is checked and a boot's own state is sanity checked. */
		if (st.error || boot())
			return;
	}
	for (int i = 0; i < SCN_MAX_PROCS; i++) {
		struct proc *p = &st.procs[i];

		if (p->state != NS_SET)
			continue;
		r = machine_result(st.m->exit(st.m->ctx, p->ep), "exit");
		if (r < 0)
			goto halt;
		if (r) {
			out_where();
			out("exit %s: VM answered %s\n", p->name, errname(r));
			st.failed++;
		}
	}
	if (st.no_sanity)
		goto halt;
	r = vm_sanity(&findings);
	if (r > 0 || (r == 0 && findings)) {
		out_where();
		if (r)
			out("sanity: VM answered %s after every process exited\n", errname(r));
		else
			out("sanity: %lu findings after every process exited\n",
			    (unsigned long)findings);
		st.failed++;
	}
halt:
	st.m->halt(st.m->ctx);
}

/* Run one scenario on the machine m; see scenario.h. */
enum scn_status scn_run(const struct scn_machine *m, const char *name, const char *text, size_t len)
{
	return scn_run_opts(m, name, text, len, 0);
}

enum scn_status scn_run_opts(const struct scn_machine *m, const char *name, const char *text,
			     size_t len, unsigned flags)
{
	size_t pos = 0;

	memset(&st, 0, sizeof(st));
	st.keep = (flags & SCN_KEEP) != 0;
	st.m = m;
	st.file = name ? name : "(scenario)";
	st.mem_bytes = SCN_DEFAULT_MEM;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t eol = nl ? (size_t)(nl - text) : len;

		st.line++;
		st.cmd = NULL;
		if (split_line(text + pos, eol - pos))
			break;
		if (st.nwords && run_command() == STOP)
			break;
		pos = eol + 1;
	}
	finish();
	/* The tally ends every run, an error too: it counts what ran, and
	 * the status tells the three outcomes apart. */
	out("%u passed, %u failed\n", st.passed, st.failed);
	out_flush();
	if (st.error)
		return SCN_ERROR;
	return st.failed ? SCN_FAILED : SCN_PASSED;
}
