/*
 * vmstat: VM's statistics, processes, regions, slab caches, cache, grants
 * and consistency check, through the debug call (libvminfo). The layout
 * follows procps vmstat, pmap -x and slabtop where they fit; every mode
 * also prints JSON (json-c), one document per line. docs/vmstat.md is the
 * manual: columns, units, exit codes.
 */
#define _GNU_SOURCE /* getopt_long */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <vmscope/callnr.h>

#include "vminfo.h"

/* Exit codes (docs/vmstat.md). */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

enum mode { M_STATS_ROWS, M_COUNTERS, M_PROCS, M_REGIONS, M_GRANTS, M_SLAB, M_CACHE, M_SANITY };

static struct options {
	enum mode mode;
	const char *proc; /* -r, -g */
	const char *socket;
	bool pages;      /* -p */
	bool run;        /* --run */
	bool wide;       /* -w */
	bool timestamp;  /* -t */
	bool one_header; /* -n */
	bool in_pages;   /* -S */
	bool json;
	int timeout_ms;
	double delay; /* 0: one row */
	long count;   /* rows; 0: for ever (with a delay) */
} opt;

static uint32_t page_size; /* bytes, from the server */

static const char usage_text[] =
    "usage: vmstat [options] [delay [count]]\n"
    "       vmstat -s | -P | -m | -c | -r PROC [-p] | -g PROC | --sanity [--run]\n"
    "\n"
    "VM's memory and events, through the debug call of a running VM (`vm serve`).\n"
    "\n"
    "Modes (one at most; the default is a row of statistics per delay seconds):\n"
    "  -s, --stats          every counter, one per line\n"
    "  -P, --procs          processes and their memory\n"
    "  -r, --regions PROC   the regions of a process (PROC: an endpoint or a name)\n"
    "  -p, --pages          with -r: every resident page too\n"
    "  -g, --grants PROC    the grants a process made and holds\n"
    "  -m, --slab           VM's slab caches\n"
    "  -c, --cache          the cache of yielded blocks\n"
    "      --sanity         the last consistency check\n"
    "      --run            with --sanity: run the check now\n"
    "Rows:\n"
    "  -w, --wide           wide output, with more columns\n"
    "  -t, --timestamp      a timestamp on each row\n"
    "  -n, --one-header     the header once, not every screenful\n"
    "Everywhere:\n"
    "  -S, --unit-pages     memory in pages, not KiB\n"
    "      --json           JSON, one document per line\n"
    "      --socket PATH    the server's socket (default: %s)\n"
    "      --target T       where VM runs: qemu:PATH, the debug socket of an i386\n"
    "                       guest (scripts/qemu --serve PATH), or a socket PATH;\n"
    "                       the same as --socket PATH\n"
    "      --timeout MS     give up on a reply after MS milliseconds (default: %d)\n"
    "  -h, --help           this help\n"
    "  -V, --version        the version\n"
    "\n"
    "Exit status: 0 ok, 1 VM not running or an error, 2 a usage error.\n"
    "Manual: docs/vmstat.md\n";

static void usage(FILE *f)
{
	char path[256];

	if (vminfo_default_path(path, sizeof(path)) != 0)
		snprintf(path, sizeof(path), "(too long)");
	fprintf(f, usage_text, path, VMINFO_TIMEOUT_MS);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("vmstat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'vmstat --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* The error of the last call on vi, as one line; returns EXIT_RUNTIME. */
static int fail(struct vminfo *vi)
{
	fprintf(stderr, "vmstat: %s\n", vminfo_strerror(vminfo_last_error(vi)));
	return EXIT_RUNTIME;
}

/* Memory of n pages in the unit asked for: KiB, or pages with -S. */
static uint64_t mem(uint64_t n)
{
	return opt.in_pages ? n : n * (page_size / 1024);
}

static const char *mem_unit(void)
{
	return opt.in_pages ? "pages" : "K";
}

/* A process's name as a string (the wire's is not NUL-terminated when it
 * fills all 16 bytes). */
static const char *proc_name(const struct vmi_proc *p, char buf[17])
{
	snprintf(buf, 17, "%.*s", (int)sizeof(p->name), p->name);
	return buf;
}

/*
 * JSON helpers: json-c owns the objects; a document is printed as one
 * line and freed.
 */
static void jput(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static void jput_u(json_object *o, const char *key, uint64_t v)
{
	jput(o, key, json_object_new_uint64(v));
}

static void jput_i(json_object *o, const char *key, int64_t v)
{
	jput(o, key, json_object_new_int64(v));
}

static void jput_s(json_object *o, const char *key, const char *s)
{
	jput(o, key, json_object_new_string(s));
}

static void jprint(json_object *doc)
{
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
}

/*
 * The statistics: one table drives `vmstat -s`, its JSON and the JSON of a
 * row, so that a counter cannot be in one and missing from another.
 */
enum stat_kind { K_PAGES, K_COUNT };

static const struct stat_field {
	const char *key; /* the field's name in struct vmi_stats and in JSON */
	const char *label;
	size_t offset;
	size_t size;
	enum stat_kind kind;
} stat_fields[] = {
#define F(field, label, kind)                                                                      \
	{                                                                                          \
#field, label, offsetof(struct vmi_stats, field),                                  \
		    sizeof(((struct vmi_stats *)0)->field), kind                                   \
	}
	F(pages_total, "total memory (the page pool)", K_PAGES),
	F(pages_free, "free memory", K_PAGES),
	F(largest_free, "largest free run", K_PAGES),
	F(pages_cached, "cached memory (yielded blocks)", K_PAGES),
	F(pages_slab, "slab memory (VM's objects)", K_PAGES),
	F(pages_pagetables, "page tables", K_PAGES),
	F(pages_vm, "VM metadata", K_PAGES),
	F(nprocs, "processes", K_COUNT),
	F(grants, "grants", K_COUNT),
	F(pf_zerofill, "zero-fill page faults", K_COUNT),
	F(pf_cowcopy, "copy-on-write faults, copied", K_COUNT),
	F(pf_cowreuse, "copy-on-write faults, reused", K_COUNT),
	F(pf_shared, "shared-memory page faults", K_COUNT),
	F(pf_refused, "refused page faults (SIGSEGV)", K_COUNT),
	F(pf_nomem, "page faults out of memory (SIGBUS)", K_COUNT),
	F(spawns, "spawns", K_COUNT),
	F(forks, "forks", K_COUNT),
	F(execs, "execs", K_COUNT),
	F(exits, "exits", K_COUNT),
	F(evictions, "cache evictions", K_COUNT),
	F(bad_calls, "bad calls", K_COUNT),
	F(forged, "forged calls (of the bad ones)", K_COUNT),
#undef F
};

#define NFIELDS (sizeof(stat_fields) / sizeof(stat_fields[0]))

static uint64_t field_value(const struct vmi_stats *s, const struct stat_field *f)
{
	const char *p = (const char *)s + f->offset;

	if (f->size == sizeof(uint32_t)) {
		uint32_t v;
		memcpy(&v, p, sizeof(v));
		return v;
	}
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static json_object *stats_json(const struct vmi_stats *s)
{
	json_object *o = json_object_new_object(), *calls = json_object_new_object();

	jput_u(o, "page_size", s->page_size);
	for (size_t i = 0; i < NFIELDS; i++)
		jput_u(o, stat_fields[i].key, field_value(s, &stat_fields[i]));
	for (unsigned i = 0; i < VMI_NCALLS; i++) {
		const char *name = vminfo_callname(i);
		char num[16];
		if (name == NULL) {
			if (s->calls[i] == 0)
				continue;
			snprintf(num, sizeof(num), "0x%x", VM_RQ_BASE + i);
			name = num;
		}
		jput_u(calls, name, s->calls[i]);
	}
	jput(o, "calls", calls);
	return o;
}

static int cmd_counters(struct vminfo *vi)
{
	struct vmi_stats s;

	if (vminfo_stats(vi, &s) != VMINFO_OK)
		return fail(vi);
	if (opt.json) {
		jprint(stats_json(&s));
		return EXIT_OK;
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct stat_field *f = &stat_fields[i];
		uint64_t v = field_value(&s, f);
		if (f->kind == K_PAGES)
			printf("%13llu %s %s\n", (unsigned long long)mem(v), mem_unit(), f->label);
		else
			printf("%13llu %s\n", (unsigned long long)v, f->label);
	}
	/* Calls without a name are not in the ABI; they show only if made. */
	for (unsigned i = 0; i < VMI_NCALLS; i++) {
		const char *name = vminfo_callname(i);
		if (name)
			printf("%13llu %s calls\n", (unsigned long long)s.calls[i], name);
		else if (s.calls[i])
			printf("%13llu calls 0x%x\n", (unsigned long long)s.calls[i],
			       VM_RQ_BASE + i);
	}
	return EXIT_OK;
}

/*
 * Rows of statistics (the default mode). Memory columns are what is there
 * now; event columns are per second over the interval, and in the first
 * row, which has no interval, the totals since boot (VM has no clock to
 * average over, unlike procps which divides by the uptime).
 */
enum group { G_PROCS, G_MEMORY, G_FAULTS, G_CALLS, NGROUPS };

static const char *const group_label[NGROUPS] = { "procs", "memory", "faults/s", "calls/s" };

enum value {
	V_N,
	V_FREE,
	V_CACHE,
	V_SLAB,
	V_PTBL,
	V_TOTAL,
	V_VM,
	V_LARGEST,
	V_FLT,
	V_COW,
	V_REUSE,
	V_SHARED,
	V_SEGV,
	V_NOMEM,
	V_CALLS,
	V_FORK,
	V_EXEC,
	V_SPAWN,
	V_EXIT
};

static const struct column {
	enum group group;
	const char *name;
	int width, wide_width; /* width 0: only in -w */
	enum value value;
} columns[] = {
	/* One column a line: the table reads as one. */
	/* clang-format off */
	{ G_PROCS, "n", 5, 5, V_N },
	{ G_MEMORY, "free", 8, 10, V_FREE },
	{ G_MEMORY, "cache", 8, 10, V_CACHE },
	{ G_MEMORY, "slab", 8, 10, V_SLAB },
	{ G_MEMORY, "ptbl", 8, 10, V_PTBL },
	{ G_MEMORY, "total", 0, 10, V_TOTAL },
	{ G_MEMORY, "vm", 0, 10, V_VM },
	{ G_MEMORY, "largest", 0, 10, V_LARGEST },
	{ G_FAULTS, "flt", 6, 8, V_FLT },
	{ G_FAULTS, "cow", 6, 8, V_COW },
	{ G_FAULTS, "reuse", 0, 8, V_REUSE },
	{ G_FAULTS, "shared", 0, 8, V_SHARED },
	{ G_FAULTS, "segv", 0, 8, V_SEGV },
	{ G_FAULTS, "nomem", 0, 8, V_NOMEM },
	{ G_CALLS, "all", 7, 8, V_CALLS },
	{ G_CALLS, "fork", 5, 8, V_FORK },
	{ G_CALLS, "exec", 5, 8, V_EXEC },
	{ G_CALLS, "spawn", 0, 8, V_SPAWN },
	{ G_CALLS, "exit", 0, 8, V_EXIT },
	/* clang-format on */
};

#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

static int col_width(const struct column *c)
{
	return opt.wide ? c->wide_width : c->width;
}

/* Every page fault VM handled, whatever came of it. */
static uint64_t all_faults(const struct vmi_stats *s)
{
	return s->pf_zerofill + s->pf_cowcopy + s->pf_cowreuse + s->pf_shared + s->pf_refused +
	       s->pf_nomem;
}

/* Calls made to VM, but page faults (the flt column) and the debug call
 * (vmstat's own requests, and those of vmtop, would count themselves). */
static uint64_t all_calls(const struct vmi_stats *s)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < VMI_NCALLS; i++)
		if (i != VM_PAGEFAULT - VM_RQ_BASE && i != VM_INFO - VM_RQ_BASE)
			n += s->calls[i];
	return n;
}

/* The event counters of the rows, by value. */
static uint64_t event(const struct vmi_stats *s, enum value v)
{
	switch (v) {
	case V_FLT:
		return all_faults(s);
	case V_COW:
		return s->pf_cowcopy;
	case V_REUSE:
		return s->pf_cowreuse;
	case V_SHARED:
		return s->pf_shared;
	case V_SEGV:
		return s->pf_refused;
	case V_NOMEM:
		return s->pf_nomem;
	case V_CALLS:
		return all_calls(s);
	case V_FORK:
		return s->forks;
	case V_EXEC:
		return s->execs;
	case V_SPAWN:
		return s->spawns;
	case V_EXIT:
		return s->exits;
	default:
		return 0;
	}
}

/* A counter's rate over dt seconds, or its total without a previous
 * sample. Counters only grow; one that went back (VM restarted behind the
 * socket) counts from zero. */
static uint64_t rate(uint64_t cur, const uint64_t *prev, double dt)
{
	if (prev == NULL)
		return cur;
	uint64_t d = cur >= *prev ? cur - *prev : cur;
	return (uint64_t)llround((double)d / dt);
}

static uint64_t row_value(const struct vmi_stats *s, const struct vmi_stats *prev, double dt,
			  enum value v)
{
	switch (v) {
	case V_N:
		return s->nprocs;
	case V_FREE:
		return mem(s->pages_free);
	case V_CACHE:
		return mem(s->pages_cached);
	case V_SLAB:
		return mem(s->pages_slab);
	case V_PTBL:
		return mem(s->pages_pagetables);
	case V_TOTAL:
		return mem(s->pages_total);
	case V_VM:
		return mem(s->pages_vm);
	case V_LARGEST:
		return mem(s->largest_free);
	default: {
		uint64_t p = prev ? event(prev, v) : 0;
		return rate(event(s, v), prev ? &p : NULL, dt);
	}
	}
}

#define TIMESTAMP_WIDTH 19 /* YYYY-MM-DD HH:MM:SS */

/* A group's label centred in dashes over width columns, procps style. */
static void print_group(const char *label, int width)
{
	int n = (int)strlen(label), left = (width - n) / 2, right = width - n - left;

	if (n >= width) {
		printf("%.*s", width, label);
		return;
	}
	printf("%.*s%s%.*s", left, "--------------------------------------------", label, right,
	       "--------------------------------------------");
}

static void print_header(void)
{
	for (int g = 0; g < NGROUPS; g++) {
		int width = -1;
		for (size_t i = 0; i < NCOLUMNS; i++)
			if (columns[i].group == (enum group)g && col_width(&columns[i]))
				width += col_width(&columns[i]) + 1;
		char label[32];
		snprintf(label, sizeof(label), "%s", group_label[g]);
		if (g == G_MEMORY)
			snprintf(label, sizeof(label), "memory (%s)",
				 opt.in_pages ? "pages" : "KiB");
		if (g > 0)
			putchar(' ');
		print_group(label, width);
	}
	if (opt.timestamp) {
		putchar(' ');
		print_group("timestamp", TIMESTAMP_WIDTH);
	}
	putchar('\n');
	bool first = true;
	for (size_t i = 0; i < NCOLUMNS; i++) {
		if (!col_width(&columns[i]))
			continue;
		printf("%s%*s", first ? "" : " ", col_width(&columns[i]), columns[i].name);
		first = false;
	}
	if (opt.timestamp) {
		char tz[16];
		time_t t = time(NULL);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(tz, sizeof(tz), "%Z", &tm);
		printf(" %*s", TIMESTAMP_WIDTH, tz);
	}
	putchar('\n');
}

static void print_row(const struct vmi_stats *s, const struct vmi_stats *prev, double dt,
		      const struct tm *when)
{
	bool first = true;

	for (size_t i = 0; i < NCOLUMNS; i++) {
		if (!col_width(&columns[i]))
			continue;
		printf("%s%*llu", first ? "" : " ", col_width(&columns[i]),
		       (unsigned long long)row_value(s, prev, dt, columns[i].value));
		first = false;
	}
	if (opt.timestamp) {
		char buf[32];
		strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", when);
		printf(" %s", buf);
	}
	putchar('\n');
}

static json_object *row_json(const struct vmi_stats *s, const struct vmi_stats *prev, double dt,
			     const struct tm *when)
{
	json_object *o = json_object_new_object();

	if (opt.timestamp) {
		char buf[40];
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", when);
		jput_s(o, "timestamp", buf);
	}
	jput(o, "interval", prev ? json_object_new_double(dt) : NULL);
	jput(o, "stats", stats_json(s));
	if (prev == NULL) {
		jput(o, "per_second", NULL);
		return o;
	}
	json_object *ps = json_object_new_object();
	jput_u(ps, "faults", rate(all_faults(s), &(uint64_t){ all_faults(prev) }, dt));
	jput_u(ps, "calls", rate(all_calls(s), &(uint64_t){ all_calls(prev) }, dt));
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct stat_field *f = &stat_fields[i];
		uint64_t p = field_value(prev, f);
		if (f->size == sizeof(uint64_t))
			jput_u(ps, f->key, rate(field_value(s, f), &p, dt));
	}
	jput(o, "per_second", ps);
	return o;
}

/* Rows per header: a screenful on a terminal, else procps's 22. */
static long header_every(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 3)
		return ws.ws_row - 3;
	return 22;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps until the monotonic time t, so that rows do not drift. */
static void sleep_until(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t,
			       .tv_nsec = (long)((t - (double)(time_t)t) * 1e9) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int cmd_rows(struct vminfo *vi)
{
	struct vmi_stats cur, prev;
	long rows = opt.delay > 0 ? opt.count : 1, every = header_every();
	double start = now_s(), t_prev = 0;

	for (long i = 0; rows == 0 || i < rows; i++) {
		if (i > 0)
			sleep_until(start + (double)i * opt.delay);
		if (vminfo_stats(vi, &cur) != VMINFO_OK)
			return fail(vi);
		double t = now_s(), dt = t - t_prev;
		time_t wall = time(NULL);
		struct tm when;
		localtime_r(&wall, &when);
		const struct vmi_stats *p = i > 0 ? &prev : NULL;
		if (dt <= 0)
			dt = 1e-9;
		if (opt.json) {
			jprint(row_json(&cur, p, dt, &when));
		} else {
			if (i == 0 || (!opt.one_header && i % every == 0))
				print_header();
			print_row(&cur, p, dt, &when);
		}
		fflush(stdout);
		prev = cur;
		t_prev = t;
	}
	return EXIT_OK;
}

/* Processes: ps with memory columns. */
static int cmd_procs(struct vminfo *vi)
{
	struct vmi_proc *procs;
	size_t n;
	char name[17];

	if (vminfo_procs(vi, &procs, &n) != VMINFO_OK)
		return fail(vi);
	if (opt.json) {
		json_object *doc = json_object_new_object(), *arr = json_object_new_array();
		jput_u(doc, "page_size", page_size);
		for (size_t i = 0; i < n; i++) {
			const struct vmi_proc *p = &procs[i];
			json_object *o = json_object_new_object();
			jput_i(o, "endpoint", p->endpoint);
			jput_s(o, "name", proc_name(p, name));
			jput_u(o, "flags", p->flags);
			jput(o, "privileged", json_object_new_boolean((p->flags & 0x2) != 0));
			jput_u(o, "resident", p->resident);
			jput_u(o, "shared", p->shared);
			jput_u(o, "cow", p->cow);
			jput_u(o, "virtual_pages", p->virtual_pages);
			jput_u(o, "regions", p->regions);
			jput_u(o, "minflt", p->minflt);
			jput_u(o, "brk", p->brk);
			jput_u(o, "pss_1k", p->pss_1k);
			jput_u(o, "cache_blocks", p->cache_blocks);
			jput_u(o, "grants", p->grants);
			json_object_array_add(arr, o);
		}
		jput(doc, "processes", arr);
		jprint(doc);
		free(procs);
		return EXIT_OK;
	}
	printf("%6s %-16s %8s %8s %8s %8s %8s %4s %8s %10s %5s %6s %s\n", "EP", "NAME", "RSS",
	       "SHR", "COW", "VSZ", "PSS", "REG", "MINFLT", "BRK", "CBLK", "GRANTS", "FLAGS");
	for (size_t i = 0; i < n; i++) {
		const struct vmi_proc *p = &procs[i];
		/* pss_1k is in 1/1024 pages: round to the unit shown. */
		uint64_t pss = opt.in_pages
				   ? ((uint64_t)p->pss_1k + 512) / 1024
				   : ((uint64_t)p->pss_1k * (page_size / 1024) + 512) / 1024;
		printf("%6d %-16s %8llu %8llu %8llu %8llu %8llu %4u %8u %#10x %5u %6u %s\n",
		       p->endpoint, proc_name(p, name), (unsigned long long)mem(p->resident),
		       (unsigned long long)mem(p->shared), (unsigned long long)mem(p->cow),
		       (unsigned long long)mem(p->virtual_pages), (unsigned long long)pss,
		       p->regions, p->minflt, p->brk, p->cache_blocks, p->grants,
		       p->flags & 0x2 ? "priv" : "-");
	}
	free(procs);
	return EXIT_OK;
}

/* The i386 PTE bits that matter here: present, writable, user, accessed,
 * dirty. */
static const char *pte_bits(uint32_t pte, char buf[6])
{
	buf[0] = pte & 0x01 ? 'P' : '-';
	buf[1] = pte & 0x02 ? 'W' : '-';
	buf[2] = pte & 0x04 ? 'U' : '-';
	buf[3] = pte & 0x20 ? 'A' : '-';
	buf[4] = pte & 0x40 ? 'D' : '-';
	buf[5] = '\0';
	return buf;
}

static json_object *region_json(const struct vmi_region *r)
{
	json_object *o = json_object_new_object(), *names = json_object_new_array();
	const char *type = vminfo_memtype_name(r->memtype);
	char mode[5], flags[128];

	jput_u(o, "start", r->start);
	jput_u(o, "end", (uint64_t)r->start + r->length);
	jput_u(o, "length", r->length);
	jput_u(o, "flags", r->flags);
	jput_s(o, "mode", vminfo_region_mode(r->flags, mode));
	vminfo_region_flags(r->flags, flags, sizeof(flags));
	for (char *save, *f = strtok_r(flags, ",", &save); f; f = strtok_r(NULL, ",", &save))
		json_object_array_add(names, json_object_new_string(f));
	jput(o, "flag_names", names);
	jput_u(o, "memtype", r->memtype);
	jput(o, "type", type ? json_object_new_string(type) : NULL);
	jput_u(o, "resident", r->resident);
	jput_u(o, "shared", r->shared);
	jput_u(o, "cow", r->cow);
	jput_u(o, "grant", r->grant);
	return o;
}

static json_object *page_json(const struct vmi_page *pg)
{
	json_object *o = json_object_new_object();
	char bits[6];

	jput_u(o, "vaddr", pg->vaddr);
	jput_u(o, "phys", pg->phys);
	jput_u(o, "refcount", pg->refcount);
	jput_u(o, "cacheref", pg->cacheref);
	jput_u(o, "pte", pg->pte);
	jput_s(o, "pte_bits", pte_bits(pg->pte, bits));
	return o;
}

static void print_region(const struct vmi_region *r)
{
	const char *type = vminfo_memtype_name(r->memtype);
	char mode[5], flags[128], tbuf[16];
	size_t k;

	if (type == NULL) {
		snprintf(tbuf, sizeof(tbuf), "type%u", r->memtype);
		type = tbuf;
	}
	vminfo_region_mode(r->flags, mode);
	vminfo_region_flags(r->flags, flags, sizeof(flags));
	k = strlen(flags);
	if (r->flags & VMINFO_VR_SAFEMAP)
		snprintf(flags + k, sizeof(flags) - k, " grant=%u", r->grant);
	/* pmap's Kbytes is the size in KiB; with -S, pages (rounded up). */
	uint64_t size = opt.in_pages ? ((uint64_t)r->length + page_size - 1) / page_size
				     : ((uint64_t)r->length + 1023) / 1024;
	/* No padding after the last column: lines without flags end clean. */
	printf("%08x %8llu %8llu %8llu %8llu %s %-*s%s%s\n", r->start, (unsigned long long)size,
	       (unsigned long long)mem(r->resident), (unsigned long long)mem(r->shared),
	       (unsigned long long)mem(r->cow), mode, flags[0] ? 6 : 0, type, flags[0] ? " " : "",
	       flags);
}

static int cmd_regions(struct vminfo *vi)
{
	struct vmi_proc p;
	struct vmi_region *regs;
	size_t n;
	char name[17];
	int status = EXIT_OK;

	if (vminfo_find_proc(vi, opt.proc, &p) != VMINFO_OK)
		return fail(vi);
	if (vminfo_regions(vi, p.endpoint, &regs, &n) != VMINFO_OK)
		return fail(vi);

	uint64_t t_len = 0, t_res = 0, t_shr = 0, t_cow = 0;
	json_object *doc = NULL, *arr = NULL;
	if (opt.json) {
		doc = json_object_new_object();
		arr = json_object_new_array();
		jput_i(doc, "endpoint", p.endpoint);
		jput_s(doc, "name", proc_name(&p, name));
		jput_u(doc, "page_size", page_size);
	} else {
		printf("%d:   %s\n", p.endpoint, proc_name(&p, name));
		printf("%-8s %8s %8s %8s %8s %-4s %-6s %s\n", "Address",
		       opt.in_pages ? "Pages" : "Kbytes", "RSS", "Shared", "COW", "Mode", "Type",
		       "Flags");
	}
	for (size_t i = 0; i < n; i++) {
		const struct vmi_region *r = &regs[i];
		json_object *o = NULL;
		t_len += r->length;
		t_res += r->resident;
		t_shr += r->shared;
		t_cow += r->cow;
		if (opt.json) {
			o = region_json(r);
			json_object_array_add(arr, o);
		} else {
			print_region(r);
		}
		if (!opt.pages)
			continue;
		struct vmi_page *pages;
		size_t np;
		int e = vminfo_pages(vi, p.endpoint, r->start, &pages, &np);
		if (e == VMINFO_EVM && vminfo_last_error(vi)->vm_errno == EINVAL) {
			/* The region went between the two requests (the
			 * process is alive and working): say so, go on. */
			if (opt.json)
				jput(o, "pages", NULL);
			else
				printf("  (unmapped while listed)\n");
			continue;
		}
		if (e != VMINFO_OK) {
			status = fail(vi);
			break;
		}
		json_object *parr = opt.json ? json_object_new_array() : NULL;
		for (size_t k = 0; k < np; k++) {
			char bits[6];
			if (opt.json)
				json_object_array_add(parr, page_json(&pages[k]));
			else
				printf("  %08x phys %08x refs %u cache %u pte %08x %s\n",
				       pages[k].vaddr, pages[k].phys, pages[k].refcount,
				       pages[k].cacheref, pages[k].pte,
				       pte_bits(pages[k].pte, bits));
		}
		if (opt.json)
			jput(o, "pages", parr);
		free(pages);
	}
	free(regs);
	if (status != EXIT_OK) {
		json_object_put(doc);
		return status;
	}
	uint64_t t_size =
	    opt.in_pages ? (t_len + page_size - 1) / page_size : (t_len + 1023) / 1024;
	if (opt.json) {
		json_object *t = json_object_new_object();
		jput(doc, "regions", arr);
		jput_u(t, "regions", n);
		jput_u(t, "length", t_len);
		jput_u(t, "resident", t_res);
		jput_u(t, "shared", t_shr);
		jput_u(t, "cow", t_cow);
		jput(doc, "total", t);
		jprint(doc);
	} else {
		printf("-------- -------- -------- -------- --------\n");
		printf("%-8s %8llu %8llu %8llu %8llu\n", opt.in_pages ? "total p" : "total kB",
		       (unsigned long long)t_size, (unsigned long long)mem(t_res),
		       (unsigned long long)mem(t_shr), (unsigned long long)mem(t_cow));
	}
	return EXIT_OK;
}

static const char *access_str(uint32_t access)
{
	static const char *const s[] = { "--", "r-", "-w", "rw" };

	return s[access & 3];
}

static int cmd_grants(struct vminfo *vi)
{
	struct vmi_proc p;
	struct vmi_grant *g;
	size_t n;
	char name[17];

	if (vminfo_find_proc(vi, opt.proc, &p) != VMINFO_OK)
		return fail(vi);
	if (vminfo_grants(vi, p.endpoint, &g, &n) != VMINFO_OK)
		return fail(vi);
	if (opt.json) {
		json_object *doc = json_object_new_object(), *arr = json_object_new_array();
		jput_i(doc, "endpoint", p.endpoint);
		jput_s(doc, "name", proc_name(&p, name));
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_new_object();
			jput_u(o, "id", g[i].id);
			jput_i(o, "granter", g[i].granter);
			jput_i(o, "grantee", g[i].grantee);
			jput_u(o, "addr", g[i].addr);
			jput_u(o, "len", g[i].len);
			jput_u(o, "access", g[i].access);
			jput_u(o, "mapped", g[i].mapped);
			jput_s(o, "direction", g[i].granter == p.endpoint ? "made" : "held");
			json_object_array_add(arr, o);
		}
		jput(doc, "grants", arr);
		jprint(doc);
		free(g);
		return EXIT_OK;
	}
	printf("%d:   %s\n", p.endpoint, proc_name(&p, name));
	printf("%10s %4s %8s %8s %-8s %10s %-6s %6s\n", "ID", "DIR", "GRANTER", "GRANTEE",
	       "Address", "Bytes", "Access", "Mapped");
	for (size_t i = 0; i < n; i++) {
		char grantee[16];
		/* -3 is VM itself: the data store holds grants to it. */
		if (g[i].grantee == -3)
			snprintf(grantee, sizeof(grantee), "VM");
		else
			snprintf(grantee, sizeof(grantee), "%d", g[i].grantee);
		printf("%10u %4s %8d %8s %08x %10u %-6s %6u\n", g[i].id,
		       g[i].granter == p.endpoint ? "made" : "held", g[i].granter, grantee,
		       g[i].addr, g[i].len, access_str(g[i].access), g[i].mapped);
	}
	printf("%zu grants\n", n);
	free(g);
	return EXIT_OK;
}

/* Slab caches, slabtop -o style. */
static int cmd_slab(struct vminfo *vi)
{
	struct vmi_slab *s;
	size_t n;
	uint64_t objs = 0, inuse = 0, pages = 0, used_bytes = 0, min = 0, max = 0;

	if (vminfo_slab(vi, &s, &n) != VMINFO_OK)
		return fail(vi);
	for (size_t i = 0; i < n; i++) {
		objs += s[i].objects;
		inuse += s[i].inuse;
		pages += s[i].pages;
		used_bytes += (uint64_t)s[i].inuse * s[i].size;
		if (i == 0 || s[i].size < min)
			min = s[i].size;
		if (s[i].size > max)
			max = s[i].size;
	}
	if (opt.json) {
		json_object *doc = json_object_new_object(), *arr = json_object_new_array();
		jput_u(doc, "page_size", page_size);
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_new_object();
			jput_u(o, "size", s[i].size);
			jput_u(o, "pages", s[i].pages);
			jput_u(o, "objects", s[i].objects);
			jput_u(o, "inuse", s[i].inuse);
			json_object_array_add(arr, o);
		}
		jput(doc, "caches", arr);
		json_object *t = json_object_new_object();
		jput_u(t, "caches", n);
		jput_u(t, "pages", pages);
		jput_u(t, "objects", objs);
		jput_u(t, "inuse", inuse);
		jput_u(t, "inuse_bytes", used_bytes);
		jput(doc, "total", t);
		jprint(doc);
		free(s);
		return EXIT_OK;
	}
	uint64_t total_bytes = pages * page_size;
	printf(" Active / Total Objects (%% used)    : %llu / %llu (%.1f%%)\n",
	       (unsigned long long)inuse, (unsigned long long)objs,
	       objs ? 100.0 * (double)inuse / (double)objs : 0.0);
	printf(" Active / Total Size (%% used)       : %.2fK / %.2fK (%.1f%%)\n",
	       (double)used_bytes / 1024, (double)total_bytes / 1024,
	       total_bytes ? 100.0 * (double)used_bytes / (double)total_bytes : 0.0);
	printf(" Caches / Pages                     : %zu / %llu\n", n, (unsigned long long)pages);
	printf(" Minimum / Average / Maximum Object : %lluB / %.0fB / %lluB\n",
	       (unsigned long long)min, inuse ? (double)used_bytes / (double)inuse : 0.0,
	       (unsigned long long)max);
	putchar('\n');
	printf("%8s %8s %4s %8s %6s %8s %10s %s\n", "OBJS", "ACTIVE", "USE", "OBJ SIZE", "PAGES",
	       "OBJ/PAGE", opt.in_pages ? "PAGES" : "CACHE SIZE", "NAME");
	for (size_t i = 0; i < n; i++) {
		unsigned use = s[i].objects ? (unsigned)(100ull * s[i].inuse / s[i].objects) : 0;
		printf("%8u %8u %3u%% %7uB %6u %8u %9llu%s size-%u\n", s[i].objects, s[i].inuse,
		       use, s[i].size, s[i].pages, s[i].pages ? s[i].objects / s[i].pages : 0,
		       (unsigned long long)mem(s[i].pages), opt.in_pages ? " " : "K", s[i].size);
	}
	free(s);
	return EXIT_OK;
}

static int cmd_cache(struct vminfo *vi)
{
	struct vmi_cache c;

	if (vminfo_cache(vi, &c) != VMINFO_OK)
		return fail(vi);
	if (opt.json) {
		json_object *o = json_object_new_object();
		jput_u(o, "blocks", c.blocks);
		jput_u(o, "pages", c.pages);
		jput_u(o, "yields", c.yields);
		jput_u(o, "hits", c.hits);
		jput_u(o, "misses", c.misses);
		jput_u(o, "evictions", c.evictions);
		jput_u(o, "forgets", c.forgets);
		jput_u(o, "page_size", page_size);
		jprint(o);
		return EXIT_OK;
	}
	printf("%13u blocks held\n", c.blocks);
	printf("%13llu %s held\n", (unsigned long long)mem(c.pages), mem_unit());
	printf("%13llu yields\n", (unsigned long long)c.yields);
	printf("%13llu hits (blocks got back)\n", (unsigned long long)c.hits);
	printf("%13llu misses (asked for, not there)\n", (unsigned long long)c.misses);
	printf("%13llu evictions (forgotten under memory pressure)\n",
	       (unsigned long long)c.evictions);
	printf("%13llu forgets (forgotten on request)\n", (unsigned long long)c.forgets);
	if (c.hits + c.misses)
		printf("%12.1f%% hit ratio\n",
		       100.0 * (double)c.hits / (double)(c.hits + c.misses));
	else
		printf("%13s hit ratio (nothing asked for yet)\n", "-");
	return EXIT_OK;
}

static int cmd_sanity(struct vminfo *vi)
{
	struct vmi_sanity s;
	struct vmi_finding *f = NULL;
	size_t nf = 0;

	if (vminfo_sanity(vi, opt.run ? VMINFO_SANITY_RUN : VMINFO_SANITY_LAST, &s) != VMINFO_OK)
		return fail(vi);
	/* The findings themselves (servers before VMI_FINDINGS: none). */
	int r;
	if (s.last_findings && (r = vminfo_findings(vi, &f, &nf)) != VMINFO_OK) {
		if (r != VMINFO_EVM || vminfo_last_error(vi)->vm_errno != 22 /* EINVAL */)
			return fail(vi);
		nf = 0;
	}
	if (opt.json) {
		json_object *o = json_object_new_object();
		jput_u(o, "runs", s.runs);
		jput_u(o, "last_findings", s.last_findings);
		jput_u(o, "last_call", s.last_call);
		jput_u(o, "total_findings", s.total_findings);
		jput(o, "ran_now", json_object_new_boolean(opt.run));
		json_object *a = json_object_new_array();
		for (size_t i = 0; i < nf; i++) {
			json_object *e = json_object_new_object();
			jput(e, "kind", json_object_new_string(f[i].kind_name));
			if (f[i].frame != 0xFFFFFFFFu)
				jput_u(e, "frame", f[i].frame);
			else
				jput(e, "frame", NULL);
			jput(e, "text", json_object_new_string(f[i].text));
			jput(e, "allocated",
			     f[i].alloc[0] ? json_object_new_string(f[i].alloc) : NULL);
			jput(e, "freed", f[i].freed[0] ? json_object_new_string(f[i].freed) : NULL);
			json_object_array_add(a, e);
		}
		jput(o, "findings", a);
		jprint(o);
		free(f);
		return EXIT_OK;
	}
	printf("%13u checks run\n", s.runs);
	printf("%13u findings in the last check\n", s.last_findings);
	printf("%13llu calls handled when it ran\n", (unsigned long long)s.last_call);
	printf("%13llu findings since boot\n", (unsigned long long)s.total_findings);
	for (size_t i = 0; i < nf; i++) {
		printf("%s: %s\n", f[i].kind_name, f[i].text);
		if (f[i].alloc[0])
			printf("    allocated at %s\n", f[i].alloc);
		if (f[i].freed[0])
			printf("    freed at %s\n", f[i].freed);
	}
	if (nf < s.last_findings)
		printf("(%llu more not kept: VM keeps the first %zu)\n",
		       (unsigned long long)(s.last_findings - nf), nf);
	free(f);
	return EXIT_OK;
}

/* A positive number of seconds (a fraction allowed, unlike procps, so
 * that tests need not wait whole seconds). */
static bool parse_delay(const char *s, double *out)
{
	char *end;

	errno = 0;
	double d = strtod(s, &end);
	if (errno || end == s || *end || !(d > 0) || d > 86400 * 365)
		return false;
	*out = d;
	return true;
}

static bool parse_count(const char *s, long *out, long min)
{
	char *end;

	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min)
		return false;
	*out = v;
	return true;
}

static int set_mode(enum mode m)
{
	if (opt.mode != M_STATS_ROWS && opt.mode != m)
		return -1;
	opt.mode = m;
	return 0;
}

enum { O_JSON = 256, O_SOCKET, O_SANITY, O_RUN, O_TIMEOUT, O_TARGET };

static const struct option long_options[] = {
	{ "stats", no_argument, NULL, 's' },
	{ "procs", no_argument, NULL, 'P' },
	{ "regions", required_argument, NULL, 'r' },
	{ "pages", no_argument, NULL, 'p' },
	{ "grants", required_argument, NULL, 'g' },
	{ "slab", no_argument, NULL, 'm' },
	{ "cache", no_argument, NULL, 'c' },
	{ "sanity", no_argument, NULL, O_SANITY },
	{ "run", no_argument, NULL, O_RUN },
	{ "wide", no_argument, NULL, 'w' },
	{ "timestamp", no_argument, NULL, 't' },
	{ "one-header", no_argument, NULL, 'n' },
	{ "unit-pages", no_argument, NULL, 'S' },
	{ "json", no_argument, NULL, O_JSON },
	{ "socket", required_argument, NULL, O_SOCKET },
	{ "target", required_argument, NULL, O_TARGET },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Parses the command line into opt. Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv)
{
	int c, conflict = 0;
	long ms;

	opt.timeout_ms = VMINFO_TIMEOUT_MS;
	opterr = 0;
	/* ':' first: a missing argument is told apart from an unknown option. */
	while ((c = getopt_long(argc, argv, ":sPr:pg:mcwtnShV", long_options, NULL)) != -1) {
		switch (c) {
		case 's':
			conflict |= set_mode(M_COUNTERS);
			break;
		case 'P':
			conflict |= set_mode(M_PROCS);
			break;
		case 'r':
			conflict |= set_mode(M_REGIONS);
			opt.proc = optarg;
			break;
		case 'g':
			conflict |= set_mode(M_GRANTS);
			opt.proc = optarg;
			break;
		case 'm':
			conflict |= set_mode(M_SLAB);
			break;
		case 'c':
			conflict |= set_mode(M_CACHE);
			break;
		case O_SANITY:
			conflict |= set_mode(M_SANITY);
			break;
		case 'p':
			opt.pages = true;
			break;
		case O_RUN:
			opt.run = true;
			break;
		case 'w':
			opt.wide = true;
			break;
		case 't':
			opt.timestamp = true;
			break;
		case 'n':
			opt.one_header = true;
			break;
		case 'S':
			opt.in_pages = true;
			break;
		case O_JSON:
			opt.json = true;
			break;
		case O_SOCKET:
			opt.socket = optarg;
			break;
		case O_TARGET:
			/* qemu:PATH is the guest's COM2 socket, which carries
			 * the same protocol (docs/qemu.md): an alias of --socket. */
			opt.socket = strncmp(optarg, "qemu:", 5) == 0 ? optarg + 5 : optarg;
			if (opt.socket[0] == '\0')
				return usage_error("bad target: %s (qemu:PATH or PATH)", optarg);
			break;
		case O_TIMEOUT:
			if (!parse_count(optarg, &ms, 1) || ms > 3600 * 1000)
				return usage_error("bad timeout: %s (milliseconds, 1 or more)",
						   optarg);
			opt.timeout_ms = (int)ms;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("vmstat (vmscope), debug-call protocol version %d\n", VMI_VERSION);
			return EXIT_OK;
		case ':':
			return usage_error("option %s needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return usage_error("unknown option -%c", optopt);
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (conflict)
		return usage_error("choose one of -s, -P, -r, -g, -m, -c and --sanity");
	if (opt.pages && opt.mode != M_REGIONS)
		return usage_error("-p goes with -r PROC");
	if (opt.run && opt.mode != M_SANITY)
		return usage_error("--run goes with --sanity");
	if (opt.mode != M_STATS_ROWS && (opt.wide || opt.timestamp || opt.one_header))
		return usage_error("-w, -t and -n are for rows of statistics");
	int rest = argc - optind;
	if (opt.mode != M_STATS_ROWS && rest > 0)
		return usage_error("unexpected argument: %s", argv[optind]);
	if (rest > 2)
		return usage_error("unexpected argument: %s", argv[optind + 2]);
	if (rest >= 1 && !parse_delay(argv[optind], &opt.delay))
		return usage_error("bad delay: %s (seconds, more than 0)", argv[optind]);
	if (rest == 2 && !parse_count(argv[optind + 1], &opt.count, 1))
		return usage_error("bad count: %s (1 or more)", argv[optind + 1]);
	return -1;
}

int main(int argc, char **argv)
{
	int status = parse_args(argc, argv);
	struct vminfo_error err;

	if (status >= 0)
		return status;
	struct vminfo *vi = vminfo_open(opt.socket, opt.timeout_ms, &err);
	if (vi == NULL) {
		fprintf(stderr, "vmstat: %s\n", vminfo_strerror(&err));
		return EXIT_RUNTIME;
	}
	page_size = vminfo_page_size(vi);
	switch (opt.mode) {
	case M_STATS_ROWS:
		status = cmd_rows(vi);
		break;
	case M_COUNTERS:
		status = cmd_counters(vi);
		break;
	case M_PROCS:
		status = cmd_procs(vi);
		break;
	case M_REGIONS:
		status = cmd_regions(vi);
		break;
	case M_GRANTS:
		status = cmd_grants(vi);
		break;
	case M_SLAB:
		status = cmd_slab(vi);
		break;
	case M_CACHE:
		status = cmd_cache(vi);
		break;
	case M_SANITY:
		status = cmd_sanity(vi);
		break;
	}
	vminfo_close(vi);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "vmstat: cannot write the output: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	return status;
}
