/*
 * Allocation-failure injection: for each VM operation in the table below,
 * make the Nth allocation VM makes during it fail (vm_fail_nth_alloc), for
 * N = 1, 2, ... until the operation makes fewer than N allocations (it then
 * ran to completion without a failure). After every injected failure:
 *
 * - the result is success (VM may absorb a failure, e.g. drop a deletion
 *   notice) or ENOMEM, nothing else; a page fault is resolved or refused
 *   with SIGBUS (mmu_access's ENOMEM);
 * - the consistency check has no finding;
 * - the caller sees what docs/calls.md promises for a failed call (a failed
 *   mmap leaves no region, a failed fork no child, a failed exec no
 *   half-built process, a failed getblock keeps the block, ...); where the
 *   docs say nothing is left behind, free memory is as before the call;
 * - where it makes sense, the same call made again without injection
 *   succeeds (a failure leaves nothing in the way);
 * - once every process has exited, free memory is back to its level right
 *   after boot: nothing leaked.
 *
 * Each operation gets a fresh machine for every N (booting one is cheap),
 * built by the operation's setup without injection. Each is its own test:
 * `test_failinject fork` runs one (a cmocka filter pattern: `'pf_*'`).
 * Each prints how many injection points it reached (each one a failure
 * injected) and the distinct allocating lines among them (vm_fail_site).
 *
 * The last test, `coverage`, fails when a call of VM's dispatch table
 * (vm_call_name) is made by no operation, or a kind of page fault is never
 * seen, so a new call cannot be forgotten here; it prints the totals
 * (docs/reliability.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/mman.h>
#include <vmscope/vminfo.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <elf.h>

#include "../../kernel-stubs/hosted/machine.h"
#include "proto.h"
#include "region.h"
#include "vm.h"

#define MEM (16u << 20)
#define PAGE VM_PAGE_SIZE
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define BRK0 HOSTED_BRK_BASE
#define NOID VM_BLOCKID_NONE

/* Where the operations put things: fixed addresses keep the setups short
 * and the failure messages readable. */
#define A0 0x20000000u
#define A1 0x20100000u
#define A2 0x20200000u
#define A3 0x20300000u
#define A4 0x20400000u
#define A5 0x20500000u
#define A6 0x20600000u
#define A7 0x20700000u
#define B0 0x30000000u

/* The operation and N under test, for failure messages. */
static const char *cur_op;
static unsigned long cur_n;

#define expect(cond)                                                                               \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fail_msg("%s, N=%lu: line %d: %s", cur_op, cur_n, __LINE__, #cond);        \
	} while (0)

/* a == b, both shown when not. */
#define expect_eq(a, b)                                                                            \
	do {                                                                                       \
		unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);     \
		if (a_ != b_)                                                                      \
			fail_msg("%s, N=%lu: line %d: %s == %s: 0x%llx != 0x%llx", cur_op, cur_n,  \
				 __LINE__, #a, #b, a_, b_);                                        \
	} while (0)

/* A setup step: must succeed. */
#define must(call) expect_eq((call), 0)

/* What the setups made, for perform and the checks. Zeroed at each boot. */
static struct {
	endpoint_t a, b, c;
	vir_bytes v, w;     /* addresses VM chose */
	uint32_t id, id2;   /* grant ids */
	uint32_t regions;   /* a process's region count before the call */
	uint32_t resident;  /* a process's resident pages before the call */
	uint32_t resident2; /* another one's */
	uint32_t procs;     /* live processes before the call */
	endpoint_t parent;  /* fork, exec: the process the call is about */
	bool killed;        /* exec: the machine ended the process */
	endpoint_t newborn; /* spawn, fork: the new process */
} st;

/* ---- Driving VM ---- */

static message msg(endpoint_t src, int type)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_source = src;
	m.m_type = type;
	return m;
}

/* A fixed mapping the setup needs. */
static void map(endpoint_t ep, vir_bytes addr, vir_bytes len, int prot, int flags)
{
	must(hosted_mmap(ep, addr, len, prot, flags | VM_MAP_FIXED, 0, NULL));
}

static int vm_brk(endpoint_t ep, vir_bytes addr)
{
	message m = msg(ep, VM_BRK);

	m.m_brk.addr = addr;
	return hosted_call(&m);
}

static int vm_remap(endpoint_t src, vir_bytes addr, endpoint_t dst, vir_bytes *out)
{
	message m = msg(KERNEL, VM_REMAP);

	m.m_remap.src = src;
	m.m_remap.src_addr = addr;
	m.m_remap.dst = dst;
	int r = hosted_call(&m);
	if (r == 0)
		*out = m.m_remap.dst_addr;
	return r;
}

/* The combined cache call; NOID for a half not wanted. */
static int vm_yb(endpoint_t ep, vir_bytes addr, vir_bytes len, uint64_t yid, uint64_t gid)
{
	message m = msg(ep, VM_YIELDBLOCKGETBLOCK);

	m.m_yb.addr = addr;
	m.m_yb.len = len;
	m.m_yb.yield_lo = (uint32_t)yid;
	m.m_yb.yield_hi = (uint32_t)(yid >> 32);
	m.m_yb.get_lo = (uint32_t)gid;
	m.m_yb.get_hi = (uint32_t)(gid >> 32);
	return hosted_call(&m);
}

static int vm_forget(endpoint_t ep, uint64_t id)
{
	message m = msg(ep, VM_FORGETBLOCK);

	m.m_forget.id_lo = (uint32_t)id;
	m.m_forget.id_hi = (uint32_t)(id >> 32);
	return hosted_call(&m);
}

static int vm_grant(endpoint_t from, endpoint_t to, vir_bytes addr, vir_bytes len, uint32_t access,
		    uint32_t *id)
{
	message m = msg(from, VM_GRANT);

	m.m_grant.grantee = to;
	m.m_grant.addr = addr;
	m.m_grant.len = len;
	m.m_grant.access = access;
	int r = hosted_call(&m);
	if (r == 0)
		*id = m.m_grant.id;
	return r;
}

/* VM_REVOKE or VM_SAFEREVMAP. */
static int vm_grantcall(endpoint_t from, int type, uint32_t id)
{
	message m = msg(from, type);

	m.m_grant.id = id;
	return hosted_call(&m);
}

static int vm_safecopy(endpoint_t ep, uint32_t id, vir_bytes off, vir_bytes len, vir_bytes addr,
		       uint32_t dir)
{
	message m = msg(ep, VM_SAFECOPY);

	m.m_safecopy.id = id;
	m.m_safecopy.off = off;
	m.m_safecopy.len = len;
	m.m_safecopy.addr = addr;
	m.m_safecopy.dir = dir;
	return hosted_call(&m);
}

static int vm_safemap(endpoint_t ep, uint32_t id, vir_bytes off, vir_bytes len, vir_bytes *out)
{
	message m = msg(ep, VM_SAFEMAP);

	m.m_safemap.id = id;
	m.m_safemap.off = off;
	m.m_safemap.len = len;
	int r = hosted_call(&m);
	if (r == 0 && out)
		*out = m.m_safemap.addr;
	return r;
}

/* A data-store call; *m holds the reply. */
static int vm_ds(endpoint_t ep, int type, const char *name, uint32_t dtype, endpoint_t label,
		 uint32_t grant, vir_bytes len, message *m)
{
	*m = msg(ep, type);
	snprintf(m->m_ds.name, sizeof(m->m_ds.name), "%s", name);
	m->m_ds.type = dtype;
	m->m_ds.ep = label;
	m->m_ds.grant = grant;
	m->m_ds.len = len;
	return hosted_call(m);
}

static endpoint_t spawn(const char *name, bool priv)
{
	endpoint_t ep = NONE;

	must(hosted_spawn(name, priv, &ep));
	return ep;
}

static endpoint_t fork_of(endpoint_t parent, const char *name)
{
	endpoint_t ep = NONE;

	must(hosted_fork(parent, name, &ep));
	return ep;
}

/* One figure of VM_QUERY (must be answered). */
static uint32_t query(int what, endpoint_t ep)
{
	message m = msg(KERNEL, VM_QUERY);

	m.m_query.what = what;
	m.m_query.ep = ep;
	expect_eq(hosted_call(&m), 0);
	return m.m_query.val[0];
}

/* The region of ep holding addr, as VMQ_REGION tells it: val[0] start,
 * [1] length, [3] VR_* flags, [4] mem type, [5] resident. False if none. */
static bool region_of(endpoint_t ep, vir_bytes addr, uint32_t val[8])
{
	for (uint32_t i = 0;; i++) {
		message m = msg(KERNEL, VM_QUERY);
		m.m_query.what = VMQ_REGION;
		m.m_query.ep = ep;
		m.m_query.index = i;
		int r = hosted_call(&m);
		if (r == ESRCH)
			return false;
		expect_eq(r, 0);
		if (addr - m.m_query.val[0] < m.m_query.val[1]) {
			memcpy(val, m.m_query.val, sizeof(m.m_query.val));
			return true;
		}
	}
}

/* Whether the region at addr of ep is flagged shared (it must exist). */
static bool region_shared(endpoint_t ep, vir_bytes addr)
{
	uint32_t val[8];

	expect(region_of(ep, addr, val));
	return (val[3] & VR_SHARED) != 0;
}

static uint8_t info_buf[HOSTED_INFO_BUFLEN];

static int info(uint32_t subcall, endpoint_t ep, uint32_t addr, uint32_t flags, uint32_t *len)
{
	struct vmi_request req = { .endpoint = ep, .addr = addr, .flags = flags };

	return hosted_info(subcall, &req, info_buf, len);
}

static struct vmi_stats stats(void)
{
	struct vmi_stats s;
	uint32_t len;

	expect_eq(info(VMI_STATS, 0, 0, 0, &len), 0);
	expect_eq(len, sizeof(s));
	memcpy(&s, info_buf, sizeof(s));
	return s;
}

/* Grants ep made or holds (VMI_GRANTS). */
static uint32_t grants_of(endpoint_t ep)
{
	struct vmi_list l;
	uint32_t len;

	expect_eq(info(VMI_GRANTS, ep, 0, 0, &len), 0);
	memcpy(&l, info_buf, sizeof(l));
	return l.count;
}

/* Live processes of the hosted machine. */
static uint32_t nprocs(void)
{
	uint32_t n = 0;

	for (int i = 0; i < VM_NR_PROCS; i++)
		n += hm.proc[i].inuse;
	return n;
}

/* ---- Memory contents ---- */

/* The byte a fill with seed puts at address v (seed 0: zero). Depends on
 * the address, so any part of a filled range can be checked. */
static uint8_t pat(uint8_t seed, vir_bytes v)
{
	if (seed == 0)
		return 0;
	return (uint8_t)(seed * 37u + v * 7u + (v >> 12) + 1u);
}

static uint8_t iobuf[64 * 1024];

/* ep writes [v, v + len) with the bytes seed's pattern has at [as, ...),
 * as its own stores: the same memory mapped elsewhere (remap, safemap,
 * safecopy) is checked with the address it was filled at. */
static int fill_as(endpoint_t ep, vir_bytes v, vir_bytes len, uint8_t seed, vir_bytes as)
{
	expect(len <= sizeof(iobuf));
	for (vir_bytes i = 0; i < len; i++)
		iobuf[i] = pat(seed, as + i);
	return mmu_access(hosted_proc(ep), v, iobuf, len, true);
}

static int fill_r(endpoint_t ep, vir_bytes v, vir_bytes len, uint8_t seed)
{
	return fill_as(ep, v, len, seed, v);
}

static void fill(endpoint_t ep, vir_bytes v, vir_bytes len, uint8_t seed)
{
	must(fill_r(ep, v, len, seed));
}

/* Whether ep reads at [v, v + len) what seed's pattern has at [as, ...)
 * (faulting pages in as its own loads). */
static bool holds_as(endpoint_t ep, vir_bytes v, vir_bytes len, uint8_t seed, vir_bytes as)
{
	expect(len <= sizeof(iobuf));
	if (mmu_access(hosted_proc(ep), v, iobuf, len, false) != 0)
		return false;
	for (vir_bytes i = 0; i < len; i++)
		if (iobuf[i] != pat(seed, as + i))
			return false;
	return true;
}

static bool holds(endpoint_t ep, vir_bytes v, vir_bytes len, uint8_t seed)
{
	return holds_as(ep, v, len, seed, v);
}

/* Page by page: each page of [v, v + len) holds seed a or seed b. */
static bool holds_either(endpoint_t ep, vir_bytes v, vir_bytes len, uint8_t a, uint8_t b)
{
	for (vir_bytes off = 0; off < len; off += PAGE)
		if (!holds(ep, v + off, PAGE, a) && !holds(ep, v + off, PAGE, b))
			return false;
	return true;
}

/* Whether ep's read at v is refused (SIGSEGV: nothing mapped). */
static bool unmapped(endpoint_t ep, vir_bytes v)
{
	uint8_t b;

	return mmu_access(hosted_proc(ep), v, &b, 1, false) == EFAULT;
}

/* ---- A small i386 executable, made in memory ----
 *
 * Laid out like tests/elf/hello.elf (tests/elf/test.ld): text at
 * 0x08048000, known bytes in rodata (0x08050000) and data (0x08060000),
 * 64 KB of bss after the data. Built here so that the test needs no file.
 */
#define EXE_TEXT 0x08048000u
#define EXE_RODATA 0x08050000u
#define EXE_DATA 0x08060000u
#define EXE_BSS (64u * 1024)

static const char exe_rodata[] = "vmscope rodata";
static const char exe_data[] = "vmscope data";

static union {
	Elf32_Ehdr eh;
	uint8_t bytes[1024];
} exe;

static void make_exe(void)
{
	static const uint8_t text[] = { 0xEB, 0xFE }; /* jmp . */
	struct {
		uint32_t vaddr, off, filesz, memsz, flags;
		const void *data;
	} segs[] = {
		{ EXE_TEXT, 0x100, sizeof(text), sizeof(text), PF_R | PF_X, text },
		{ EXE_RODATA, 0x200, sizeof(exe_rodata), sizeof(exe_rodata), PF_R, exe_rodata },
		{ EXE_DATA, 0x300, sizeof(exe_data), sizeof(exe_data) + EXE_BSS, PF_R | PF_W,
		  exe_data },
	};
	Elf32_Ehdr *eh = &exe.eh;
	Elf32_Phdr *ph = (Elf32_Phdr *)(exe.bytes + sizeof(*eh));

	memset(&exe, 0, sizeof(exe));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_386;
	eh->e_version = EV_CURRENT;
	eh->e_entry = EXE_TEXT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 3;
	for (int i = 0; i < 3; i++) {
		ph[i].p_type = PT_LOAD;
		ph[i].p_offset = segs[i].off;
		ph[i].p_vaddr = ph[i].p_paddr = segs[i].vaddr;
		ph[i].p_filesz = segs[i].filesz;
		ph[i].p_memsz = segs[i].memsz;
		ph[i].p_flags = segs[i].flags;
		ph[i].p_align = PAGE;
		memcpy(exe.bytes + segs[i].off, segs[i].data, segs[i].filesz);
	}
}

/* ---- The operations ---- */

/* spawn: a page directory. */
static void setup_none(void)
{
}

static int do_spawn_(void)
{
	return hosted_spawn("new", false, &st.newborn);
}

static void spawn_failed(void)
{
	expect_eq(nprocs(), 0);
	expect_eq(stats().nprocs, 0);
}

/* mmap of each kind, into an empty address space. */
static void setup_a(void)
{
	st.a = spawn("A", false);
}

static void setup_a_priv(void)
{
	st.a = spawn("A", true);
}

static int mmap_plain(void)
{
	return hosted_mmap(st.a, 0, 64 * 1024, RW, 0, 0, &st.v);
}

static int mmap_prealloc(void)
{
	return hosted_mmap(st.a, 0, 64 * 1024, RW, VM_MAP_PREALLOC, 0, &st.v);
}

static int mmap_contig(void)
{
	return hosted_mmap(st.a, 0, 64 * 1024, RW, VM_MAP_PREALLOC | VM_MAP_CONTIG, 0, &st.v);
}

static int mmap_phys(void)
{
	return hosted_mmap(st.a, 0, 16 * 1024, RW, VM_MAP_PHYS, 0xA0000, &st.v);
}

/* A failed mmap leaves no region, no page, nothing mapped. */
static void mmap_failed(void)
{
	expect_eq(query(VMQ_REGIONS, st.a), 0);
	expect_eq(query(VMQ_VIRTUAL, st.a), 0);
	expect_eq(query(VMQ_RESIDENT, st.a), 0);
}

static void mmap_ok(void)
{
	uint32_t val[8];

	expect(region_of(st.a, st.v, val));
	expect(holds(st.a, st.v, 16 * 1024, 0) || (val[3] & VR_SHARED)); /* device: as it was */
	fill(st.a, st.v, 16 * 1024, 1);
	expect(holds(st.a, st.v, 16 * 1024, 1));
}

/* Resident mappings across a 4 MB boundary, below which a page table
 * exists (it holds a page) and above which none does: a failure must free
 * the new table and only it. */
#define CROSS (A4 - 0x8000)

static void setup_cross(void)
{
	st.a = spawn("A", false);
	map(st.a, A4 - 0x10000, 0x1000, RW, 0);
	fill(st.a, A4 - 0x10000, 0x1000, 1);
}

static int mmap_prealloc_cross(void)
{
	return hosted_mmap(st.a, CROSS, 0x10000, RW, VM_MAP_FIXED | VM_MAP_PREALLOC, 0, NULL);
}

static int mmap_contig_cross(void)
{
	return hosted_mmap(st.a, CROSS, 0x10000, RW, VM_MAP_FIXED | VM_MAP_PREALLOC | VM_MAP_CONTIG,
			   0, NULL);
}

static void cross_failed(void)
{
	expect_eq(query(VMQ_REGIONS, st.a), 1);
	expect_eq(query(VMQ_RESIDENT, st.a), 1);
	expect_eq(stats().pages_pagetables, 2); /* the directory and the old table */
	expect(holds(st.a, A4 - 0x10000, 0x1000, 1));
	expect(unmapped(st.a, CROSS));
	expect(unmapped(st.a, A4));
}

static void cross_ok(void)
{
	expect_eq(query(VMQ_RESIDENT, st.a), 17);
	expect(holds(st.a, CROSS, 0x10000, 0));
	fill(st.a, CROSS, 0x10000, 2);
	expect(holds(st.a, A4 - 0x10000, 0x1000, 1));
}

/* mmap FIXED, resident, over the middle of a region: the old one must be
 * split (a new region struct) before the new one is made. */
static void setup_fixed(void)
{
	st.a = spawn("A", false);
	map(st.a, A0, 64 * 1024, RW, 0);
	fill(st.a, A0, 64 * 1024, 1);
}

static int mmap_fixed(void)
{
	return hosted_mmap(st.a, A0 + 0x4000, 0x4000, RW, VM_MAP_FIXED | VM_MAP_PREALLOC, 0, NULL);
}

/* Around the range nothing changed. In it: either the old mapping with
 * its data (failed before the unmap) or nothing (calls.md: a FIXED
 * mapping has already removed what was there), never a half-made one. */
static void mmap_fixed_failed(void)
{
	expect(holds(st.a, A0, 0x4000, 1));
	expect(holds(st.a, A0 + 0x8000, 0x8000, 1));
	uint32_t val[8];
	if (region_of(st.a, A0 + 0x4000, val)) {
		expect_eq(val[0], A0);
		expect_eq(val[1], 64 * 1024);
		expect(holds(st.a, A0 + 0x4000, 0x4000, 1));
	} else {
		expect(unmapped(st.a, A0 + 0x4000));
		expect(unmapped(st.a, A0 + 0x7000));
	}
}

static void mmap_fixed_ok(void)
{
	expect(holds(st.a, A0, 0x4000, 1));
	expect(holds(st.a, A0 + 0x4000, 0x4000, 0));
	expect(holds(st.a, A0 + 0x8000, 0x8000, 1));
}

/* munmap of the middle of a region: split, needs a new region struct. */
static int munmap_split(void)
{
	return hosted_munmap(st.a, A0 + 0x4000, 0x4000);
}

static void munmap_failed(void)
{
	expect_eq(query(VMQ_REGIONS, st.a), 1);
	expect_eq(query(VMQ_RESIDENT, st.a), 16);
	expect(holds(st.a, A0, 64 * 1024, 1));
}

static void munmap_ok(void)
{
	expect_eq(query(VMQ_REGIONS, st.a), 2);
	expect(unmapped(st.a, A0 + 0x4000));
	expect(holds(st.a, A0, 0x4000, 1));
	expect(holds(st.a, A0 + 0x8000, 0x8000, 1));
}

/* brk: a first heap region; growing one. */
static int brk_first(void)
{
	return vm_brk(st.a, BRK0 + 0x3000);
}

static void brk_first_failed(void)
{
	expect_eq(query(VMQ_BRK, st.a), BRK0);
	expect_eq(query(VMQ_REGIONS, st.a), 0);
}

static void brk_ok(void)
{
	expect_eq(query(VMQ_BRK, st.a), BRK0 + 0x3000);
	fill(st.a, BRK0, 0x3000, 2);
	expect(holds(st.a, BRK0, 0x3000, 2));
}

static void setup_heap(void)
{
	st.a = spawn("A", false);
	must(vm_brk(st.a, BRK0 + 0x2000));
	fill(st.a, BRK0, 0x2000, 1);
}

static int brk_grow(void)
{
	return vm_brk(st.a, BRK0 + 0x10000);
}

static void brk_grow_failed(void)
{
	expect_eq(query(VMQ_BRK, st.a), BRK0 + 0x2000);
	expect(holds(st.a, BRK0, 0x2000, 1));
	expect(unmapped(st.a, BRK0 + 0x2000));
}

/* brk shrinking into the middle of a mapping laid over the heap: the
 * pages above the break are unmapped, which splits that mapping. */
static void setup_brk_over(void)
{
	setup_heap();
	map(st.a, BRK0, 0x8000, RW, 0);
	fill(st.a, BRK0, 0x8000, 2);
}

static int brk_shrink(void)
{
	return vm_brk(st.a, BRK0 + 0x1000);
}

static void brk_shrink_failed(void)
{
	expect_eq(query(VMQ_BRK, st.a), BRK0 + 0x2000);
	expect_eq(query(VMQ_REGIONS, st.a), 1);
	expect(holds(st.a, BRK0, 0x8000, 2));
}

static void brk_shrink_ok(void)
{
	expect_eq(query(VMQ_BRK, st.a), BRK0 + 0x1000);
	expect(unmapped(st.a, BRK0 + 0x1000));
	expect(holds(st.a, BRK0, 0x1000, 2));
	expect(holds(st.a, BRK0 + 0x2000, 0x6000, 2));
}

/*
 * A shared heap regrown by brk (tests/scenarios/shared/brk-regrow.scn): A's
 * heap is shared (a remap source) and B, its fork child, shares it as a
 * group. B shrinks its break; A writes a page there; B grows its break
 * again and must get A's pages over the regrown part (new references).
 */
static void setup_group_heap(void)
{
	st.a = spawn("A", false);
	must(vm_brk(st.a, BRK0 + 0x4000));
	fill(st.a, BRK0, 0x4000, 1);
	must(vm_remap(st.a, BRK0, st.a, &st.v));
	st.b = fork_of(st.a, "B");
	must(vm_brk(st.b, BRK0 + 0x1000));
	fill(st.a, BRK0 + 0x2000, 0x1000, 2);
}

static int brk_regrow(void)
{
	return vm_brk(st.b, BRK0 + 0x4000);
}

static void brk_regrow_failed(void)
{
	uint32_t val[8];

	expect_eq(query(VMQ_BRK, st.b), BRK0 + 0x1000);
	expect(region_of(st.b, BRK0, val));
	expect_eq(val[1], 0x1000);
	expect(unmapped(st.b, BRK0 + 0x1000));
	expect(holds(st.b, BRK0, 0x1000, 1));
	expect(holds(st.a, BRK0, 0x2000, 1));
	expect(holds(st.a, BRK0 + 0x2000, 0x1000, 2));
	expect(holds(st.a, BRK0 + 0x3000, 0x1000, 1));
}

static void brk_regrow_ok(void)
{
	expect(holds(st.b, BRK0 + 0x2000, 0x1000, 2));
	expect(holds(st.b, BRK0 + 0x3000, 0x1000, 1));
	fill(st.b, BRK0 + 0x1000, 0x1000, 3); /* shared: A sees it */
	expect(holds(st.a, BRK0 + 0x1000, 0x1000, 3));
}

/*
 * fork of a process with every kind of region: private pages (touched
 * and not), a shared region (a group: some pages touched), contiguous
 * memory (copied into new frames), device memory, a read-only resident
 * region, a remapped region, a heap, a safemapped region and yielded
 * blocks.
 */
static void setup_fork(void)
{
	st.a = spawn("P", true);
	st.b = spawn("Q", false);
	map(st.a, A0, 0x8000, RW, 0);
	fill(st.a, A0, 0x8000, 1);
	map(st.a, A1, 0x8000, RW, 0);
	fill(st.a, A1, 0x4000, 2);
	map(st.a, A2, 0x4000, RW, VM_MAP_SHARED);
	fill(st.a, A2, 0x2000, 3);
	map(st.a, A3, 0x4000, RW, VM_MAP_PREALLOC | VM_MAP_CONTIG);
	fill(st.a, A3, 0x4000, 4);
	must(hosted_mmap(st.a, A4, 0x2000, RW, VM_MAP_FIXED | VM_MAP_PHYS, 0xA0000, NULL));
	fill(st.a, A4, 0x2000, 5);
	map(st.a, A5, 0x2000, VM_PROT_READ, VM_MAP_PREALLOC);
	map(st.a, A6, 0x2000, RW, 0);
	fill(st.a, A6, 0x2000, 6);
	must(vm_remap(st.a, A6, st.a, &st.v));
	must(vm_brk(st.a, BRK0 + 0x4000));
	fill(st.a, BRK0, 0x3000, 7);
	map(st.a, A7, 0x4000, RW, 0);
	fill(st.a, A7, 0x4000, 8);
	must(vm_yb(st.a, A7, 0x2000, 1, NOID));
	must(vm_yb(st.a, A7 + 0x2000, 0x2000, 2, NOID));
	fill(st.a, A7, 0x2000, 9);
	map(st.b, B0, 0x2000, RW, 0);
	fill(st.b, B0, 0x2000, 10);
	must(vm_grant(st.b, st.a, B0, 0x2000, VM_GRANT_READ | VM_GRANT_WRITE, &st.id));
	must(vm_safemap(st.a, st.id, 0, 0x2000, &st.w));
	/* A region split in two (a munmap hole): both halves are copied. */
	must(hosted_munmap(st.a, A1 + 0x6000, 0x1000));
	st.parent = st.a;
	st.regions = query(VMQ_REGIONS, st.a);
	st.resident = query(VMQ_RESIDENT, st.a);
	st.procs = nprocs();
}

/* The same, forked from a fork child: its private pages are copy-on-write
 * already (a third reference), its shared region's group gets a third
 * member, its safemapped region a second mapping through the grant. */
static void setup_fork_again(void)
{
	setup_fork();
	st.c = fork_of(st.a, "C");
	fill(st.c, A1 + 0x4000, 0x1000, 14); /* a page only C has */
	fill(st.a, A1 + 0x4000, 0x1000, 15); /* and its own in P */
	st.parent = st.c;
	st.regions = query(VMQ_REGIONS, st.c);
	st.resident = query(VMQ_RESIDENT, st.c);
	st.procs = nprocs();
}

static int fork_(void)
{
	return hosted_fork(st.parent, "child", &st.newborn);
}

/* Every byte of P as setup_fork left it. */
static bool fork_parent_intact(endpoint_t p)
{
	return holds(p, A0, 0x8000, 1) && holds(p, A1, 0x4000, 2) && holds(p, A2, 0x2000, 3) &&
	       holds(p, A3, 0x4000, 4) && holds(p, A4, 0x2000, 5) && holds(p, A5, 0x2000, 0) &&
	       holds(p, A6, 0x2000, 6) && holds_as(p, st.v, 0x2000, 6, A6) &&
	       holds(p, BRK0, 0x3000, 7) && holds(p, A7, 0x2000, 9) &&
	       holds(p, A7 + 0x2000, 0x2000, 0) && holds_as(p, st.w, 0x2000, 10, B0);
}

/* No child; the parent as it was (calls.md: only write access lost). */
static void fork_failed(void)
{
	endpoint_t p = st.parent;

	expect_eq(nprocs(), st.procs);
	expect_eq(stats().nprocs, st.procs);
	expect_eq(query(VMQ_REGIONS, p), st.regions);
	expect_eq(query(VMQ_RESIDENT, p), st.resident);
	expect_eq(query(VMQ_CACHED, 0), 4);
	expect(fork_parent_intact(p));
	expect(holds(p, A1 + 0x5000, 0x1000, 0));
	expect(unmapped(p, A1 + 0x6000));
	/* A page that lost write access to the torn-down child is writable
	 * again on the next write, without a copy (calls.md). */
	if (p == st.a) {
		uint64_t copies = stats().pf_cowcopy;
		fill(p, A0, 0x1000, 16);
		expect_eq(stats().pf_cowcopy, copies);
		expect_eq(query(VMQ_COW, p), 0);
	}
}

static void fork_ok(void)
{
	endpoint_t c = st.newborn;

	expect(fork_parent_intact(c));
	expect(fork_parent_intact(st.parent));
	fill(c, A0, 0x1000, 11); /* private: the parent keeps its page */
	expect(holds(st.parent, A0, 0x1000, 1));
	fill(c, A2 + 0x3000, 0x1000, 12); /* shared, untouched at fork: all see it */
	expect(holds(st.parent, A2 + 0x3000, 0x1000, 12));
	expect(holds(st.a, A2 + 0x3000, 0x1000, 12));
	fill(st.parent, A3, 0x1000, 13); /* contiguous: each its own frames */
	expect(holds(c, A3, 0x1000, 4));
}

/*
 * exec of the in-memory executable by a process with regions, a heap, a
 * yielded block, a grant another process has safemapped and a published
 * entry someone subscribed to (its deletion notice is an allocation VM may
 * drop). Every allocation comes after the old image is gone, so a failure
 * must end the process.
 */
static void setup_exec(void)
{
	message m;

	st.a = st.parent = spawn("P", false);
	st.b = spawn("Q", false);
	map(st.a, A0, 0x8000, RW, 0);
	fill(st.a, A0, 0x8000, 1);
	must(vm_brk(st.a, BRK0 + 0x2000));
	fill(st.a, BRK0, 0x2000, 2);
	must(vm_yb(st.a, A0, 0x2000, 1, NOID));
	must(vm_grant(st.a, st.b, A0 + 0x4000, 0x4000, VM_GRANT_READ | VM_GRANT_WRITE, &st.id));
	must(vm_safemap(st.b, st.id, 0, 0x4000, &st.w));
	must(vm_ds(st.b, VM_DS_SUBSCRIBE, "p*", 0, 0, 0, 0, &m));
	must(vm_ds(st.a, VM_DS_PUBLISH, "p.label", VM_DS_LABEL, st.a, 0, 0, &m));
}

/* exec of a fork child whose pages are copy-on-write with its parent, and
 * which shares a group region with it: the parent must not notice. */
static void setup_exec_forked(void)
{
	st.a = spawn("P", false);
	map(st.a, A0, 0x8000, RW, 0);
	fill(st.a, A0, 0x8000, 1);
	map(st.a, A1, 0x4000, RW, VM_MAP_SHARED);
	fill(st.a, A1, 0x2000, 2);
	st.b = fork_of(st.a, "C");
	fill(st.b, A0, 0x1000, 3);
	st.parent = st.b;
}

static int exec_(void)
{
	return hosted_exec(st.parent, exe.bytes, sizeof(exe.bytes), &st.killed);
}

static bool exec_parent_intact(void)
{
	return holds(st.a, A0, 0x8000, 1) && holds(st.a, A1, 0x2000, 2) &&
	       holds(st.a, A1 + 0x2000, 0x2000, 0) && query(VMQ_COW, st.a) == 0;
}

static void exec_forked_failed(void)
{
	expect(st.killed);
	expect(hosted_proc(st.b) == NULL);
	expect_eq(nprocs(), 1);
	expect(exec_parent_intact());
}

static void exec_forked_ok(void)
{
	expect(holds(st.b, EXE_DATA + sizeof(exe_data), 0x1000, 0));
	expect(exec_parent_intact());
}

/* The old image went first: the process must be gone, all of it. */
static void exec_failed(void)
{
	expect(st.killed);
	expect(hosted_proc(st.a) == NULL);
	message m = msg(KERNEL, VM_QUERY);
	m.m_query.what = VMQ_REGIONS;
	m.m_query.ep = st.a;
	expect_eq(hosted_call(&m), ESRCH);
	expect_eq(nprocs(), 1);
	expect_eq(query(VMQ_REGIONS, st.b), 0); /* its grant ended with it */
	expect_eq(query(VMQ_CACHED, 0), 0);
}

static void exec_ok(void)
{
	char buf[32];

	expect(!st.killed);
	expect_eq(mmu_access(hosted_proc(st.a), EXE_RODATA, buf, sizeof(exe_rodata), false), 0);
	expect(!memcmp(buf, exe_rodata, sizeof(exe_rodata)));
	expect_eq(mmu_access(hosted_proc(st.a), EXE_DATA, buf, sizeof(exe_data), false), 0);
	expect(!memcmp(buf, exe_data, sizeof(exe_data)));
	expect(holds(st.a, EXE_DATA + sizeof(exe_data), EXE_BSS, 0));
	expect_eq(query(VMQ_BRK, st.a), EXE_DATA + 0x11000);
	expect(unmapped(st.a, A0));
	expect_eq(query(VMQ_REGIONS, st.b), 0);
	expect_eq(query(VMQ_CACHED, 0), 0);
}

/*
 * remap of a private region, two pages of which are still copy-on-write
 * with a fork child (copied for the source first) and two untouched (made
 * resident), into another process.
 */
static void setup_remap(void)
{
	st.a = spawn("A", false);
	st.b = spawn("B", false);
	map(st.a, A0, 0x4000, RW, 0);
	fill(st.a, A0, 0x2000, 1);
	st.c = fork_of(st.a, "C");
}

static int remap_(void)
{
	return vm_remap(st.a, A0, st.b, &st.v);
}

static void remap_failed(void)
{
	expect_eq(query(VMQ_REGIONS, st.b), 0);
	expect(!region_shared(st.a, A0));
	expect(holds(st.a, A0, 0x2000, 1));
	expect(holds(st.a, A0 + 0x2000, 0x2000, 0));
	expect(holds(st.c, A0, 0x2000, 1));
	fill(st.a, A0, 0x1000, 2); /* private still: C keeps its copy */
	expect(holds(st.c, A0, 0x1000, 1));
}

static void remap_ok(void)
{
	expect(holds_as(st.b, st.v, 0x2000, 1, A0));
	must(fill_as(st.b, st.v, 0x4000, 2, A0));
	expect(holds(st.a, A0, 0x4000, 2));
	expect(holds(st.c, A0, 0x2000, 1));
}

/* remap of a shared region in a group with a fork child: its untouched
 * pages are made resident in both members. */
static void setup_remap_group(void)
{
	st.a = spawn("A", false);
	st.b = spawn("B", false);
	map(st.a, A0, 0x4000, RW, VM_MAP_SHARED);
	fill(st.a, A0, 0x1000, 1);
	st.c = fork_of(st.a, "C");
	st.resident = query(VMQ_RESIDENT, st.a);
}

static void remap_group_failed(void)
{
	expect_eq(query(VMQ_REGIONS, st.b), 0);
	/* Pages made resident on the way are the group's, in both. */
	expect_eq(query(VMQ_RESIDENT, st.a), query(VMQ_RESIDENT, st.c));
	expect(holds(st.c, A0, 0x1000, 1));
	fill(st.c, A0 + 0x1000, 0x3000, 2);
	expect(holds(st.a, A0 + 0x1000, 0x3000, 2));
}

static void remap_group_ok(void)
{
	expect(holds_as(st.b, st.v, 0x1000, 1, A0));
	must(fill_as(st.b, st.v, 0x4000, 2, A0));
	expect(holds(st.a, A0, 0x4000, 2));
	expect(holds(st.c, A0, 0x4000, 2));
}

static void setup_shmunmap(void)
{
	setup_remap();
	must(vm_remap(st.a, A0, st.b, &st.v));
}

static int shmunmap_(void)
{
	message m = msg(st.b, VM_SHM_UNMAP);

	m.m_munmap.addr = st.v;
	return hosted_call(&m);
}

/* Cache: a yield of a range half untouched (made resident first). */
static void setup_yield(void)
{
	st.a = spawn("A", false);
	map(st.a, A0, 0x8000, RW, 0);
	fill(st.a, A0, 0x4000, 1);
	map(st.a, A1, 0x8000, RW, 0);
}

static int yield_(void)
{
	return vm_yb(st.a, A0, 0x8000, 7, NOID);
}

/* Nothing yielded, the memory as it was. */
static void yield_failed(void)
{
	expect_eq(query(VMQ_CACHED, 0), 0);
	expect(holds(st.a, A0, 0x4000, 1));
	expect(holds(st.a, A0 + 0x4000, 0x4000, 0));
	expect_eq(vm_yb(st.a, A1, 0x8000, NOID, 7), ESRCH);
}

static void yield_ok(void)
{
	expect_eq(query(VMQ_CACHED, 0), 8);
	expect(holds(st.a, A0, 0x8000, 0));
	must(vm_yb(st.a, A1, 0x8000, NOID, 7));
	expect(holds(st.a, A1, 0x4000, 1));
}

/* A yield of pages copy-on-write with a fork child: the cache references
 * them, the child keeps them. */
static void setup_yield_cow(void)
{
	setup_yield();
	st.b = fork_of(st.a, "B");
}

static void yield_cow_failed(void)
{
	yield_failed();
	expect(holds(st.b, A0, 0x4000, 1));
}

static void yield_cow_ok(void)
{
	yield_ok();
	expect(holds(st.b, A0, 0x4000, 1));
}

/*
 * The combined call, both halves: yield the range (touched) under 2 and
 * get block 1 back into it. A failure of the yield half changes nothing;
 * a failure of the get half leaves the yield done (cache.md) and block 1
 * in the cache.
 */
static void setup_yield_get(void)
{
	st.a = spawn("A", false);
	map(st.a, A0, 0x4000, RW, 0);
	fill(st.a, A0, 0x4000, 1);
	must(vm_yb(st.a, A0, 0x4000, 1, NOID));
	fill(st.a, A0, 0x4000, 2);
	map(st.a, A1, 0x4000, RW, 0);
}

static int yield_get(void)
{
	return vm_yb(st.a, A0, 0x4000, 2, 1);
}

static void yield_get_failed(void)
{
	uint32_t cached = query(VMQ_CACHED, 0);

	if (cached == 4) { /* the yield half failed: nothing changed */
		expect(holds(st.a, A0, 0x4000, 2));
		expect_eq(vm_yb(st.a, A1, 0x4000, NOID, 2), ESRCH);
	} else { /* the get half failed: block 2 is yielded */
		expect_eq(cached, 8);
		must(vm_yb(st.a, A1, 0x4000, NOID, 2));
		expect(holds(st.a, A1, 0x4000, 2));
	}
	must(vm_yb(st.a, A0, 0x4000, NOID, 1)); /* block 1 stayed */
	expect(holds(st.a, A0, 0x4000, 1));
}

static void yield_get_ok(void)
{
	expect(holds(st.a, A0, 0x4000, 1));
	expect_eq(query(VMQ_CACHED, 0), 4);
	must(vm_yb(st.a, A1, 0x4000, NOID, 2));
	expect(holds(st.a, A1, 0x4000, 2));
}

/* getblock into a range that has pages of its own. */
static void setup_getblock(void)
{
	st.a = spawn("A", false);
	map(st.a, A0, 0x4000, RW, 0);
	fill(st.a, A0, 0x4000, 1);
	must(vm_yb(st.a, A0, 0x4000, 5, NOID));
	fill(st.a, A0, 0x2000, 2);
}

static int getblock(void)
{
	return vm_yb(st.a, A0, 0x4000, NOID, 5);
}

/* The block stays in the cache, whole. (What the range held before the
 * call is not checked: calls.md promises nothing about it for a failed
 * get, and VM drops those pages before it maps the block's.) */
static void getblock_failed(void)
{
	expect_eq(query(VMQ_CACHED, 0), 4);
	must(vm_yb(st.a, A0, 0x4000, NOID, 5));
	expect(holds(st.a, A0, 0x4000, 1));
}

static void getblock_ok(void)
{
	expect_eq(query(VMQ_CACHED, 0), 0);
	expect(holds(st.a, A0, 0x4000, 1));
}

/*
 * A failed get must not make the block young: eviction is oldest first by
 * the time of the yield (cache.md). Block 5 is yielded before block 6; after
 * the failed get of 5, memory is used up page by page until the shrinker
 * forgets one block: it must be 5.
 */
static void setup_getblock_age(void)
{
	setup_getblock();
	map(st.a, A1, 0x4000, RW, 0);
	map(st.a, A3, 0x4000, RW, 0);
	fill(st.a, A3, 0x4000, 3);
	must(vm_yb(st.a, A3, 0x4000, 6, NOID));
}

static void getblock_age_failed(void)
{
	vir_bytes v;

	expect_eq(query(VMQ_CACHED, 0), 8);
	must(hosted_mmap(st.a, 0, MEM - (1u << 20), RW, 0, 0, &v));
	while (query(VMQ_CACHED, 0) == 8)
		must(fill_r(st.a, (v += PAGE) - PAGE, 1, 4));
	expect_eq(query(VMQ_CACHED, 0), 4);
	expect_eq(vm_yb(st.a, A1, 0x4000, NOID, 6), 0); /* the younger one stayed */
	expect(holds_as(st.a, A1, 0x4000, 3, A3));
	expect_eq(vm_yb(st.a, A0, 0x4000, NOID, 5), ESRCH);
}

static void setup_forget(void)
{
	setup_getblock();
}

static int forget(void)
{
	return vm_forget(st.a, 5);
}

/* Grants: the first grant makes the table. */
static void setup_ab(void)
{
	st.a = spawn("A", false);
	st.b = spawn("B", false);
	map(st.a, A0, 0x4000, RW, 0);
	fill(st.a, A0, 0x4000, 1);
}

static int grant_(void)
{
	return vm_grant(st.a, st.b, A0, 0x4000, VM_GRANT_READ | VM_GRANT_WRITE, &st.id);
}

static void grant_failed(void)
{
	expect_eq(grants_of(st.a), 0);
	expect_eq(grants_of(st.b), 0);
	expect_eq(stats().grants, 0);
}

static void grant_ok(void)
{
	expect_eq(grants_of(st.b), 1);
	must(vm_safemap(st.b, st.id, 0, 0x4000, &st.v));
	expect(holds_as(st.b, st.v, 0x4000, 1, A0));
}

static void setup_revoke(void)
{
	setup_ab();
	must(grant_());
	must(vm_safemap(st.b, st.id, 0, 0x4000, &st.v));
}

static int revoke(void)
{
	return vm_grantcall(st.a, VM_REVOKE, st.id);
}

static int saferevmap(void)
{
	return vm_grantcall(st.a, VM_SAFEREVMAP, st.id);
}

/*
 * safecopy byte by byte (offsets differ in the page): the source's
 * untouched page and the destination's untouched pages fault in.
 */
static void setup_copy(void)
{
	st.a = spawn("A", false);
	st.b = spawn("B", false);
	map(st.a, A0, 0x2000, RW, 0);
	fill(st.a, A0, 0x1000, 1);
	map(st.b, B0, 0x2000, RW, 0);
	must(vm_grant(st.a, st.b, A0, 0x2000, VM_GRANT_READ | VM_GRANT_WRITE, &st.id));
}

static int safecopy_bytes(void)
{
	return vm_safecopy(st.b, st.id, 0x100, 0x1800, B0 + 0x300, VM_SAFECOPY_FROM);
}

/* The source never changes; the grant stays. */
static void safecopy_from_failed(void)
{
	expect(holds(st.a, A0, 0x1000, 1));
	expect(holds(st.a, A0 + 0x1000, 0x1000, 0));
	expect_eq(grants_of(st.b), 1);
}

static void safecopy_bytes_ok(void)
{
	expect(holds_as(st.b, B0 + 0x300, 0xF00, 1, A0 + 0x100));
	expect(holds(st.b, B0 + 0x1200, 0x900, 0));
}

/*
 * safecopy into the grant where the granter's pages are copy-on-write with
 * its fork child (a write must copy them for the granter first).
 */
static void setup_copy_to(void)
{
	st.a = spawn("A", false);
	st.b = spawn("B", false);
	map(st.a, A0, 0x2000, RW, 0);
	fill(st.a, A0, 0x2000, 1);
	st.c = fork_of(st.a, "C");
	map(st.b, B0, 0x2000, RW, 0);
	fill(st.b, B0, 0x2000, 2);
	must(vm_grant(st.a, st.b, A0, 0x2000, VM_GRANT_WRITE, &st.id));
}

static int safecopy_to(void)
{
	return vm_safecopy(st.b, st.id, 0, 0x2000, B0, VM_SAFECOPY_TO);
}

/* The child keeps its copy; each of the granter's pages is old or new. */
static void safecopy_to_failed(void)
{
	expect(holds(st.c, A0, 0x2000, 1));
	expect(holds_either(st.a, A0, 0x2000, 1, 2));
	expect(holds(st.b, B0, 0x2000, 2));
}

static void safecopy_to_ok(void)
{
	expect(holds(st.c, A0, 0x2000, 1));
	expect(holds(st.a, A0, 0x2000, 2));
}

/*
 * safecopy of 32 KB, both sides page-aligned private memory: the pages are
 * shared copy-on-write. Half the destination has pages of its own (they
 * are replaced), half is untouched (new references).
 */
static void setup_copy_cow(void)
{
	st.a = spawn("A", false);
	st.b = spawn("B", false);
	map(st.a, A0, 0x8000, RW, 0);
	fill(st.a, A0, 0x8000, 1);
	map(st.b, B0, 0x8000, RW, 0);
	fill(st.b, B0, 0x4000, 2);
	must(vm_grant(st.a, st.b, A0, 0x8000, VM_GRANT_READ, &st.id));
}

static int safecopy_cow(void)
{
	return vm_safecopy(st.b, st.id, 0, 0x8000, B0, VM_SAFECOPY_FROM);
}

static void safecopy_cow_failed(void)
{
	expect(holds(st.a, A0, 0x8000, 1));
	expect(holds_either(st.b, B0, 0x4000, 1, 2));
	expect(holds_either(st.b, B0 + 0x4000, 0x4000, 1, 0));
	fill(st.b, B0, 0x8000, 3); /* shared pages are copy-on-write */
	expect(holds(st.a, A0, 0x8000, 1));
}

static void safecopy_cow_ok(void)
{
	expect(holds(st.b, B0, 0x8000, 1));
	fill(st.b, B0, 0x8000, 3);
	expect(holds(st.a, A0, 0x8000, 1));
}

/* The same where the source pages were never touched (made for the
 * granter first) and the destination's are copy-on-write with the
 * grantee's fork child (which keeps them). */
static void setup_copy_cow2(void)
{
	st.a = spawn("A", false);
	st.b = spawn("B", false);
	map(st.a, A0, 0x8000, RW, 0);
	fill(st.a, A0 + 0x4000, 0x4000, 1);
	map(st.b, B0, 0x8000, RW, 0);
	fill(st.b, B0, 0x8000, 2);
	st.c = fork_of(st.b, "C");
	must(vm_grant(st.a, st.b, A0, 0x8000, VM_GRANT_READ, &st.id));
}

static void safecopy_cow2_failed(void)
{
	expect(holds(st.a, A0, 0x4000, 0));
	expect(holds(st.a, A0 + 0x4000, 0x4000, 1));
	expect(holds(st.c, B0, 0x8000, 2));
	expect(holds_either(st.b, B0, 0x4000, 0, 2));
	expect(holds_either(st.b, B0 + 0x4000, 0x4000, 1, 2));
}

static void safecopy_cow2_ok(void)
{
	expect(holds(st.b, B0, 0x4000, 0));
	expect(holds(st.b, B0 + 0x4000, 0x4000, 1));
	expect(holds(st.c, B0, 0x8000, 2));
	fill(st.b, B0, 0x8000, 3);
	expect(holds(st.a, A0 + 0x4000, 0x4000, 1));
	expect(holds(st.c, B0, 0x8000, 2));
}

/* safecopy of 32 KB into a shared region (a group with the grantee's
 * fork child), untouched: byte by byte, every page made once for both. */
static void setup_copy_shared(void)
{
	setup_copy_cow();
	must(hosted_munmap(st.b, B0, 0x8000));
	map(st.b, B0, 0x8000, RW, VM_MAP_SHARED);
	st.c = fork_of(st.b, "C");
}

static void safecopy_shared_failed(void)
{
	expect(holds(st.a, A0, 0x8000, 1));
	expect_eq(query(VMQ_RESIDENT, st.b), query(VMQ_RESIDENT, st.c));
	expect(holds_either(st.c, B0, 0x8000, 1, 0));
	fill(st.c, B0, 0x8000, 3);
	expect(holds(st.b, B0, 0x8000, 3));
}

static void safecopy_shared_ok(void)
{
	expect(holds_as(st.c, B0, 0x8000, 1, A0));
	fill(st.b, B0, 0x8000, 3);
	expect(holds(st.c, B0, 0x8000, 3));
	expect(holds(st.a, A0, 0x8000, 1));
}

/*
 * safemap of the middle of a region (split off in the granter, made
 * resident: two pages copy-on-write with a fork child are copied, two
 * untouched are made) into another process.
 */
static void setup_safemap(void)
{
	st.a = spawn("A", false);
	st.b = spawn("B", false);
	map(st.a, A0, 0x8000, RW, 0);
	fill(st.a, A0, 0x4000, 1);
	st.c = fork_of(st.a, "C");
	must(vm_grant(st.a, st.b, A0 + 0x2000, 0x4000, VM_GRANT_READ | VM_GRANT_WRITE, &st.id));
}

static int safemap_(void)
{
	return vm_safemap(st.b, st.id, 0, 0x4000, &st.v);
}

/* No mapping in the grantee; the granter's memory private as before. */
static void safemap_failed(void)
{
	expect_eq(query(VMQ_REGIONS, st.b), 0);
	for (vir_bytes v = A0; v < A0 + 0x8000; v += PAGE)
		expect(!region_shared(st.a, v));
	expect(holds(st.a, A0, 0x4000, 1));
	expect(holds(st.a, A0 + 0x4000, 0x4000, 0));
	expect(holds(st.c, A0, 0x4000, 1));
	fill(st.a, A0, 0x8000, 2);
	expect(holds(st.c, A0, 0x4000, 1));
}

static void safemap_ok(void)
{
	expect(holds_as(st.b, st.v, 0x2000, 1, A0 + 0x2000));
	must(fill_as(st.b, st.v, 0x4000, 2, A0 + 0x2000));
	expect(holds(st.a, A0 + 0x2000, 0x4000, 2));
	expect(holds(st.c, A0 + 0x2000, 0x2000, 1));
	expect(holds(st.a, A0, 0x2000, 1));
}

/* safemap of the middle of a contiguous region (split off; resident
 * already): only the grantee's side allocates. */
static void setup_safemap_contig(void)
{
	st.a = spawn("A", false);
	st.b = spawn("B", false);
	map(st.a, A0, 0x8000, RW, VM_MAP_PREALLOC | VM_MAP_CONTIG);
	fill(st.a, A0, 0x8000, 1);
	must(vm_grant(st.a, st.b, A0 + 0x2000, 0x4000, VM_GRANT_READ | VM_GRANT_WRITE, &st.id));
}

static void safemap_contig_failed(void)
{
	expect_eq(query(VMQ_REGIONS, st.b), 0);
	for (vir_bytes v = A0; v < A0 + 0x8000; v += PAGE)
		expect(!region_shared(st.a, v));
	expect(holds(st.a, A0, 0x8000, 1));
}

static void safemap_contig_ok(void)
{
	must(fill_as(st.b, st.v, 0x4000, 2, A0 + 0x2000));
	expect(holds(st.a, A0 + 0x2000, 0x4000, 2));
	expect(holds(st.a, A0, 0x2000, 1));
}

/*
 * safemap of a granted range spanning three regions of the granter: the
 * end of one region, a region an earlier safemap split off (shared
 * already) and the private rest of a second region.
 */
static void setup_safemap_span(void)
{
	st.a = spawn("A", false);
	st.b = spawn("B", false);
	map(st.a, A0, 0x4000, RW, 0);
	map(st.a, A0 + 0x4000, 0x4000, RW, 0);
	fill(st.a, A0, 0x6000, 1);
	must(vm_grant(st.a, st.b, A0 + 0x4000, 0x2000, VM_GRANT_READ | VM_GRANT_WRITE, &st.id2));
	must(vm_safemap(st.b, st.id2, 0, 0x2000, &st.w));
	must(vm_grant(st.a, st.b, A0 + 0x2000, 0x6000, VM_GRANT_READ | VM_GRANT_WRITE, &st.id));
}

static int safemap_span(void)
{
	return vm_safemap(st.b, st.id, 0, 0x6000, &st.v);
}

static void safemap_span_failed(void)
{
	expect_eq(query(VMQ_REGIONS, st.b), 1); /* the earlier safemap */
	expect(!region_shared(st.a, A0));
	expect(!region_shared(st.a, A0 + 0x2000));
	expect(region_shared(st.a, A0 + 0x4000));
	expect(region_shared(st.a, A0 + 0x5000));
	expect(!region_shared(st.a, A0 + 0x6000));
	expect(!region_shared(st.a, A0 + 0x7000));
	expect(holds(st.a, A0, 0x6000, 1));
	expect(holds(st.a, A0 + 0x6000, 0x2000, 0));
	expect(holds_as(st.b, st.w, 0x2000, 1, A0 + 0x4000));
}

static void safemap_span_ok(void)
{
	expect(holds_as(st.b, st.v, 0x4000, 1, A0 + 0x2000));
	must(fill_as(st.b, st.v, 0x6000, 2, A0 + 0x2000));
	expect(holds(st.a, A0 + 0x2000, 0x6000, 2));
	expect(holds_as(st.b, st.w, 0x2000, 2, A0 + 0x4000));
	expect(holds(st.a, A0, 0x2000, 1));
}

/*
 * The data store. A published memory range is read through A's grant to
 * VM from a page A never touched (it faults in); retrieving one writes
 * through B's grant into pages B never touched.
 */
static int ds_publish_label(void)
{
	message m;

	return vm_ds(st.a, VM_DS_PUBLISH, "lbl", VM_DS_LABEL, st.b, 0, 0, &m);
}

static void ds_setup_mem(void)
{
	setup_ab();
	map(st.a, A1, 0x2000, RW, 0);
	fill(st.a, A1, 0x1000, 2);
	must(vm_grant(st.a, VM_PROC_NR, A1 + 0xE00, 1024, VM_GRANT_READ, &st.id));
}

static int ds_publish_mem(void)
{
	message m;

	return vm_ds(st.a, VM_DS_PUBLISH, "mem", VM_DS_MEM, 0, st.id, 1024, &m);
}

static void ds_setup_map(void)
{
	st.a = spawn("A", false);
	st.b = spawn("B", false);
	map(st.a, A0, 0x4000, RW, 0);
	fill(st.a, A0, 0x2000, 1);
	st.c = fork_of(st.a, "C");
	must(vm_grant(st.a, VM_PROC_NR, A0, 0x4000, VM_GRANT_READ | VM_GRANT_WRITE, &st.id));
}

static int ds_publish_map(void)
{
	message m;

	return vm_ds(st.a, VM_DS_PUBLISH, "map", VM_DS_MAP, 0, st.id, 0x4000, &m);
}

/* The name is not published (and free to publish). */
static void ds_publish_failed(void)
{
	static const char *const names[] = { "lbl", "mem", "map" };
	message m;

	for (int i = 0; i < 3; i++)
		expect_eq(vm_ds(st.b, VM_DS_RETRIEVE, names[i], VM_DS_LABEL, 0, 0, 0, &m), ESRCH);
}

static void ds_setup_label(void)
{
	message m;

	setup_ab();
	must(vm_ds(st.a, VM_DS_PUBLISH, "lbl", VM_DS_LABEL, st.b, 0, 0, &m));
}

static int ds_retrieve_label(void)
{
	message m;
	int r = vm_ds(st.b, VM_DS_RETRIEVE, "lbl", VM_DS_LABEL, 0, 0, 0, &m);

	expect(r != 0 || m.m_ds.ep == st.b);
	return r;
}

static void ds_setup_retrieve_mem(void)
{
	message m;

	ds_setup_mem();
	must(vm_ds(st.a, VM_DS_PUBLISH, "mem", VM_DS_MEM, 0, st.id, 1024, &m));
	map(st.b, B0, 0x2000, RW, 0);
	must(vm_grant(st.b, VM_PROC_NR, B0 + 0xE00, 1024, VM_GRANT_WRITE, &st.id2));
}

static int ds_retrieve_mem(void)
{
	message m;

	return vm_ds(st.b, VM_DS_RETRIEVE, "mem", VM_DS_MEM, 0, st.id2, 0, &m);
}

/* The entry is still there: retrieving it again works. */
static void ds_retrieve_mem_failed(void)
{
	expect_eq(ds_retrieve_mem(), 0);
	expect(holds_as(st.b, B0 + 0xE00, 0x200, 2, A1 + 0xE00));
	expect(holds(st.b, B0 + 0x1000, 0x200, 0));
}

static void ds_retrieve_mem_ok(void)
{
	expect(holds_as(st.b, B0 + 0xE00, 0x200, 2, A1 + 0xE00));
	expect(holds(st.b, B0 + 0x1000, 0x200, 0));
}

static void ds_setup_retrieve_map(void)
{
	message m;

	ds_setup_map();
	must(vm_ds(st.a, VM_DS_PUBLISH, "map", VM_DS_MAP, 0, st.id, 0x4000, &m));
}

static int ds_retrieve_map(void)
{
	message m;
	int r = vm_ds(st.b, VM_DS_RETRIEVE, "map", VM_DS_MAP, 0, 0, 0, &m);

	if (r == 0)
		st.v = m.m_ds.addr;
	return r;
}

/* As a failed safemap: no mapping, the publisher's memory private. */
static void ds_retrieve_map_failed(void)
{
	expect_eq(query(VMQ_REGIONS, st.b), 0);
	expect(!region_shared(st.a, A0));
	expect(holds(st.a, A0, 0x2000, 1));
	expect(holds(st.c, A0, 0x2000, 1));
	fill(st.a, A0, 0x2000, 2);
	expect(holds(st.c, A0, 0x2000, 1));
}

static void ds_retrieve_map_ok(void)
{
	expect(holds_as(st.b, st.v, 0x2000, 1, A0));
	must(fill_as(st.b, st.v, 0x4000, 2, A0));
	expect(holds(st.a, A0, 0x4000, 2));
	expect(holds(st.c, A0, 0x2000, 1));
}

static int ds_subscribe(void)
{
	message m;

	return vm_ds(st.b, VM_DS_SUBSCRIBE, "l*", 0, 0, 0, 0, &m);
}

/* A failed subscription gets no notice. */
static void ds_subscribe_failed(void)
{
	message m;

	must(vm_ds(st.a, VM_DS_PUBLISH, "lbl", VM_DS_LABEL, st.b, 0, 0, &m));
	must(vm_ds(st.a, VM_DS_DELETE, "lbl", 0, 0, 0, 0, &m));
	expect_eq(vm_ds(st.b, VM_DS_CHECK, "x", 0, 0, 0, 0, &m), ESRCH);
}

/* A deletion with a subscriber: the notice is an allocation VM may fail
 * and drop (calls.md: at most so many are kept), never the deletion. */
static void ds_setup_delete(void)
{
	message m;

	ds_setup_label();
	must(vm_ds(st.b, VM_DS_SUBSCRIBE, "l*", 0, 0, 0, 0, &m));
}

static int ds_delete(void)
{
	message m;

	return vm_ds(st.a, VM_DS_DELETE, "lbl", 0, 0, 0, 0, &m);
}

static void ds_delete_ok(void)
{
	message m;

	expect_eq(vm_ds(st.b, VM_DS_RETRIEVE, "lbl", VM_DS_LABEL, 0, 0, 0, &m), ESRCH);
}

/* Every VM_INFO subcall and VM_QUERY figure about a busy process. */
static void setup_info(void)
{
	setup_ab();
	must(vm_grant(st.a, st.b, A0, 0x4000, VM_GRANT_READ | VM_GRANT_WRITE, &st.id));
	must(vm_safemap(st.b, st.id, 0, 0x4000, &st.v));
	map(st.a, A1, 0x4000, RW, 0);
	fill(st.a, A1, 0x4000, 2);
	must(vm_yb(st.a, A1, 0x4000, 3, NOID));
}

static int info_(void)
{
	static const uint32_t subcalls[] = { VMI_STATS, VMI_PROCS, VMI_REGIONS, VMI_PAGES,
					     VMI_CACHE, VMI_SLAB,  VMI_GRANTS,  VMI_SANITY };
	uint32_t len;
	int r;

	for (size_t i = 0; i < sizeof(subcalls) / sizeof(subcalls[0]); i++) {
		uint32_t flags = subcalls[i] == VMI_SANITY ? VMI_SANITY_RUN : 0;
		if ((r = info(subcalls[i], st.a, A0, flags, &len)) != 0)
			return r;
	}
	for (int what = VMQ_FREE; what <= VMQ_REGION; what++) {
		message m = msg(KERNEL, VM_QUERY);
		m.m_query.what = what;
		m.m_query.ep = st.a;
		if ((r = hosted_call(&m)) != 0)
			return r;
	}
	return 0;
}

/* ---- Page faults ---- */

/* A write that needs a new page (and the first page table of its 4 MB). */
static void setup_touch(void)
{
	st.a = spawn("A", false);
	map(st.a, A0, 0x4000, RW, 0);
}

static int pf_write_new(void)
{
	return fill_r(st.a, A0 + 0x1000, 8, 1);
}

static int pf_read_new(void)
{
	uint8_t b[8];

	return mmu_access(hosted_proc(st.a), A0 + 0x1000, b, sizeof(b), false);
}

/* Refused: no page, and a later access gets a fresh zero page. */
static void pf_new_failed(void)
{
	expect_eq(query(VMQ_RESIDENT, st.a), 0);
	expect(holds(st.a, A0 + 0x1000, 0x1000, 0));
}

static void pf_new_ok(void)
{
	expect_eq(query(VMQ_RESIDENT, st.a), 1);
}

/* A copy-on-write break after fork. */
static void setup_cow(void)
{
	st.a = spawn("A", false);
	map(st.a, A0, 0x2000, RW, 0);
	fill(st.a, A0, 0x2000, 1);
	st.b = fork_of(st.a, "B");
}

static int pf_cow(void)
{
	return fill_r(st.a, A0, 8, 2);
}

static void pf_cow_failed(void)
{
	expect(holds(st.a, A0, 0x2000, 1));
	expect(holds(st.b, A0, 0x2000, 1));
	expect_eq(query(VMQ_COW, st.a), 2);
}

static void pf_cow_ok(void)
{
	expect(holds(st.b, A0, 0x2000, 1));
	expect(holds(st.a, A0 + 8, 0x2000 - 8, 1));
}

/* A page of a shared region first touched after two forks: one new frame
 * entered in all three members of the group, or in none. */
static void setup_group(void)
{
	st.a = spawn("A", false);
	map(st.a, A0, 0x4000, RW, VM_MAP_SHARED);
	fill(st.a, A0, 0x1000, 1);
	st.b = fork_of(st.a, "B");
	st.c = fork_of(st.a, "C");
}

static int pf_group(void)
{
	return fill_r(st.c, A0 + 0x2000, 0x1000, 2);
}

static void pf_group_failed(void)
{
	expect_eq(query(VMQ_RESIDENT, st.a), 1);
	expect_eq(query(VMQ_RESIDENT, st.b), 1);
	expect_eq(query(VMQ_RESIDENT, st.c), 1);
	fill(st.b, A0 + 0x2000, 0x1000, 3); /* still one page for all */
	expect(holds(st.a, A0 + 0x2000, 0x1000, 3));
	expect(holds(st.c, A0 + 0x2000, 0x1000, 3));
}

static void pf_group_ok(void)
{
	expect(holds(st.a, A0 + 0x2000, 0x1000, 2));
	expect(holds(st.b, A0 + 0x2000, 0x1000, 2));
}

/* A page of a shared heap regrown by brk by both group members, first
 * touched by one: it must appear in both. */
static void setup_group_brk(void)
{
	setup_group_heap();
	must(vm_brk(st.b, BRK0 + 0x8000));
	must(vm_brk(st.a, BRK0 + 0x8000));
	st.resident = query(VMQ_RESIDENT, st.a);
	st.resident2 = query(VMQ_RESIDENT, st.b);
}

static int pf_group_brk(void)
{
	return fill_r(st.b, BRK0 + 0x6000, 0x1000, 4);
}

static void pf_group_brk_failed(void)
{
	expect_eq(query(VMQ_RESIDENT, st.a), st.resident);
	expect_eq(query(VMQ_RESIDENT, st.b), st.resident2);
	fill(st.a, BRK0 + 0x6000, 0x1000, 5);
	expect(holds(st.b, BRK0 + 0x6000, 0x1000, 5));
}

static void pf_group_brk_ok(void)
{
	expect(holds(st.a, BRK0 + 0x6000, 0x1000, 4));
}

/* A copy-on-write fault on a page the other side has given up (the fork
 * child exited): no copy, the page is made writable again. */
static void setup_cow_reuse(void)
{
	setup_cow();
	must(hosted_exit(st.b));
}

static void pf_cow_reuse_ok(void)
{
	expect(holds(st.a, A0 + 8, 0x2000 - 8, 1));
	expect_eq(query(VMQ_COW, st.a), 0);
}

/* A fault on a page the process has already (a shared page its group
 * made; the fork copied the PTE): what the kernel sends when the faulting
 * CPU's TLB was stale. VM maps it again; the kernel here is the test,
 * which marks the fault pending as the MMU would. */
static int pf_shared_have(void)
{
	struct hosted_proc *p = hosted_proc(st.c);
	message m = msg(KERNEL, VM_PAGEFAULT);

	m.m_pagefault.ep = st.c;
	m.m_pagefault.addr = A0 + 8;
	m.m_pagefault.err = VM_PF_PROT | VM_PF_WRITE | VM_PF_USER;
	p->pf = HPF_PENDING;
	bool replied = vm_handle(&m);
	expect(!replied);
	if (p->pf == HPF_CLEARED) {
		p->pf = HPF_NONE;
		return 0;
	}
	expect(p->sig == VM_SIGBUS);
	p->sig = 0;
	p->pf = HPF_NONE;
	return ENOMEM;
}

static void pf_shared_have_ok(void)
{
	fill(st.c, A0, 0x1000, 2);
	expect(holds(st.a, A0, 0x1000, 2));
}

/* A fault VM refuses (SIGSEGV): outside every region, and a write to a
 * read-only one. Must not allocate; must change nothing. */
static void setup_refused(void)
{
	st.a = spawn("A", false);
	map(st.a, A0, 0x2000, VM_PROT_READ, 0);
}

static int pf_refused(void)
{
	uint8_t b = 1;

	if (mmu_access(hosted_proc(st.a), A1, &b, 1, false) != EFAULT ||
	    mmu_access(hosted_proc(st.a), A0, &b, 1, true) != EFAULT)
		return EIO;
	return 0;
}

static void pf_refused_ok(void)
{
	expect_eq(query(VMQ_RESIDENT, st.a), 0);
	expect(holds(st.a, A0, 0x2000, 0));
}

/* forgetblocks: every block of the caller goes. */
static void setup_forgetblocks(void)
{
	setup_getblock();
	map(st.a, A1, 0x4000, RW, 0);
	fill(st.a, A1, 0x4000, 3);
	must(vm_yb(st.a, A1, 0x4000, 6, NOID));
}

static int forgetblocks(void)
{
	message m = msg(st.a, VM_FORGETBLOCKS);

	return hosted_call(&m);
}

static void forgetblocks_ok(void)
{
	expect_eq(query(VMQ_CACHED, 0), 0);
	expect_eq(vm_yb(st.a, A0, 0x4000, NOID, 5), ESRCH);
}

/* ds_check: the oldest deletion notice of a subscriber. */
static void ds_setup_check(void)
{
	message m;

	ds_setup_delete();
	must(vm_ds(st.a, VM_DS_DELETE, "lbl", 0, 0, 0, 0, &m));
}

static int ds_check(void)
{
	message m;
	int r = vm_ds(st.b, VM_DS_CHECK, "x", 0, 0, 0, 0, &m);

	expect(r != 0 || strcmp(m.m_ds.name, "lbl") == 0);
	return r;
}

/* exit of a process with every kind of region, a fork child sharing its
 * pages, a grant safemapped by another, cached blocks and a published
 * entry with a subscriber (whose deletion notice is an allocation VM may
 * drop). An exit must never fail. */
static void setup_exit(void)
{
	message m;

	setup_fork();
	st.c = fork_of(st.a, "C");
	must(vm_grant(st.a, st.b, A1, 0x2000, VM_GRANT_READ | VM_GRANT_WRITE, &st.id2));
	must(vm_safemap(st.b, st.id2, 0, 0x2000, &st.v));
	must(vm_ds(st.b, VM_DS_SUBSCRIBE, "p*", 0, 0, 0, 0, &m));
	must(vm_ds(st.a, VM_DS_PUBLISH, "p.label", VM_DS_LABEL, st.a, 0, 0, &m));
}

static int exit_(void)
{
	return hosted_exit(st.a);
}

static void exit_ok(void)
{
	expect(hosted_proc(st.a) == NULL);
	expect(fork_parent_intact(st.c));
	expect(unmapped(st.b, st.v));
	expect_eq(query(VMQ_CACHED, 0), 0);
}

/* VM_SANITY, the consistency check on request: allocates nothing. */
static int sanity_(void)
{
	message m = msg(KERNEL, VM_SANITY);
	int r = hosted_call(&m);

	expect(r != 0 || m.m_sanity.findings == 0);
	return r;
}

/* ---- The sweep ---- */

struct op {
	const char *name;
	void (*setup)(void);
	int (*perform)(void); /* 0 or an errno */
	void (*failed)(void); /* checks after ENOMEM (NULL: none) */
	void (*ok)(void);     /* checks after success (NULL: none) */
	unsigned flags;       /* RETRY, CLEAN */
};

/* After ENOMEM, the same call made again (no injection) must succeed:
 * the failure left nothing in its way. */
#define RETRY 0x1
/* After ENOMEM, free memory is what it was before the call: calls.md says
 * nothing is left behind (or the call fails before it changes anything). */
#define CLEAN 0x2

static const struct op ops[] = {
	{ "spawn", setup_none, do_spawn_, spawn_failed, NULL, RETRY | CLEAN },
	{ "mmap_plain", setup_a, mmap_plain, mmap_failed, mmap_ok, RETRY | CLEAN },
	{ "mmap_prealloc", setup_a, mmap_prealloc, mmap_failed, mmap_ok, RETRY | CLEAN },
	{ "mmap_contig", setup_a, mmap_contig, mmap_failed, mmap_ok, RETRY | CLEAN },
	{ "mmap_phys", setup_a_priv, mmap_phys, mmap_failed, mmap_ok, RETRY | CLEAN },
	{ "mmap_prealloc_4M", setup_cross, mmap_prealloc_cross, cross_failed, cross_ok,
	  RETRY | CLEAN },
	{ "mmap_contig_4M", setup_cross, mmap_contig_cross, cross_failed, cross_ok, RETRY | CLEAN },
	{ "mmap_fixed_over", setup_fixed, mmap_fixed, mmap_fixed_failed, mmap_fixed_ok, RETRY },
	{ "munmap_split", setup_fixed, munmap_split, munmap_failed, munmap_ok, RETRY | CLEAN },
	{ "brk_first", setup_a, brk_first, brk_first_failed, brk_ok, RETRY | CLEAN },
	{ "brk_grow", setup_heap, brk_grow, brk_grow_failed, NULL, RETRY | CLEAN },
	{ "brk_shrink_split", setup_brk_over, brk_shrink, brk_shrink_failed, brk_shrink_ok,
	  RETRY | CLEAN },
	{ "brk_regrow_shared", setup_group_heap, brk_regrow, brk_regrow_failed, brk_regrow_ok,
	  RETRY | CLEAN },
	{ "fork", setup_fork, fork_, fork_failed, fork_ok, RETRY | CLEAN },
	{ "fork_of_child", setup_fork_again, fork_, fork_failed, fork_ok, RETRY | CLEAN },
	{ "exec", setup_exec, exec_, exec_failed, exec_ok, 0 },
	{ "exec_forked", setup_exec_forked, exec_, exec_forked_failed, exec_forked_ok, 0 },
	{ "remap", setup_remap, remap_, remap_failed, remap_ok, RETRY },
	{ "remap_group", setup_remap_group, remap_, remap_group_failed, remap_group_ok, RETRY },
	{ "shmunmap", setup_shmunmap, shmunmap_, NULL, NULL, RETRY },
	{ "yield", setup_yield, yield_, yield_failed, yield_ok, RETRY },
	{ "yield_cow", setup_yield_cow, yield_, yield_cow_failed, yield_cow_ok, RETRY },
	{ "yield_get", setup_yield_get, yield_get, yield_get_failed, yield_get_ok, 0 },
	{ "getblock_age", setup_getblock_age, getblock, getblock_age_failed, NULL, 0 },
	{ "getblock", setup_getblock, getblock, getblock_failed, getblock_ok, 0 },
	{ "forget", setup_forget, forget, NULL, NULL, RETRY },
	{ "grant", setup_ab, grant_, grant_failed, grant_ok, RETRY | CLEAN },
	{ "revoke", setup_revoke, revoke, NULL, NULL, RETRY },
	{ "saferevmap", setup_revoke, saferevmap, NULL, NULL, RETRY },
	{ "safecopy_bytes", setup_copy, safecopy_bytes, safecopy_from_failed, safecopy_bytes_ok,
	  RETRY },
	{ "safecopy_to_cow", setup_copy_to, safecopy_to, safecopy_to_failed, safecopy_to_ok,
	  RETRY },
	{ "safecopy_share", setup_copy_cow, safecopy_cow, safecopy_cow_failed, safecopy_cow_ok,
	  RETRY },
	{ "safecopy_share_cow", setup_copy_cow2, safecopy_cow, safecopy_cow2_failed,
	  safecopy_cow2_ok, RETRY },
	{ "safecopy_to_group", setup_copy_shared, safecopy_cow, safecopy_shared_failed,
	  safecopy_shared_ok, RETRY },
	{ "safemap", setup_safemap, safemap_, safemap_failed, safemap_ok, RETRY },
	{ "safemap_contig", setup_safemap_contig, safemap_, safemap_contig_failed,
	  safemap_contig_ok, RETRY },
	{ "safemap_span", setup_safemap_span, safemap_span, safemap_span_failed, safemap_span_ok,
	  RETRY },
	{ "ds_publish_label", setup_ab, ds_publish_label, ds_publish_failed, NULL, RETRY | CLEAN },
	{ "ds_publish_mem", ds_setup_mem, ds_publish_mem, ds_publish_failed, NULL, RETRY },
	{ "ds_publish_map", ds_setup_map, ds_publish_map, ds_publish_failed, NULL, RETRY | CLEAN },
	{ "ds_retrieve_label", ds_setup_label, ds_retrieve_label, NULL, NULL, RETRY },
	{ "ds_retrieve_mem", ds_setup_retrieve_mem, ds_retrieve_mem, ds_retrieve_mem_failed,
	  ds_retrieve_mem_ok, 0 },
	{ "ds_retrieve_map", ds_setup_retrieve_map, ds_retrieve_map, ds_retrieve_map_failed,
	  ds_retrieve_map_ok, RETRY },
	{ "ds_subscribe", setup_ab, ds_subscribe, ds_subscribe_failed, NULL, CLEAN },
	{ "ds_delete_notice", ds_setup_delete, ds_delete, NULL, ds_delete_ok, RETRY },
	{ "ds_check", ds_setup_check, ds_check, NULL, NULL, RETRY },
	{ "forgetblocks", setup_forgetblocks, forgetblocks, NULL, forgetblocks_ok, RETRY },
	{ "exit", setup_exit, exit_, NULL, exit_ok, 0 },
	{ "info", setup_info, info_, NULL, NULL, RETRY },
	{ "sanity", setup_info, sanity_, NULL, NULL, RETRY },
	{ "pf_write_new", setup_touch, pf_write_new, pf_new_failed, pf_new_ok, RETRY },
	{ "pf_read_new", setup_touch, pf_read_new, pf_new_failed, pf_new_ok, RETRY },
	{ "pf_cow_break", setup_cow, pf_cow, pf_cow_failed, pf_cow_ok, RETRY },
	{ "pf_shared_group", setup_group, pf_group, pf_group_failed, pf_group_ok, RETRY },
	{ "pf_shared_heap", setup_group_brk, pf_group_brk, pf_group_brk_failed, pf_group_brk_ok,
	  RETRY },
	{ "pf_shared_have", setup_group, pf_shared_have, NULL, pf_shared_have_ok, RETRY },
	{ "pf_cow_reuse", setup_cow_reuse, pf_cow, NULL, pf_cow_reuse_ok, RETRY },
	{ "pf_refused", setup_refused, pf_refused, NULL, pf_refused_ok, RETRY },
};

#define NOPS (sizeof(ops) / sizeof(ops[0]))

/* Every process exits; then free memory must be back at its boot level. */
static void exit_all(uint32_t free0, uint32_t slab0)
{
	for (int i = 0; i < VM_NR_PROCS; i++)
		if (hm.proc[i].inuse)
			expect_eq(hosted_exit(hm.proc[i].ep), 0);
	expect_eq(sanity_check(), 0);
	struct vmi_stats s = stats();
	expect_eq(s.pages_free, free0);
	expect_eq(s.pages_slab, slab0);
	expect_eq(s.pages_cached, 0);
	expect_eq(s.pages_pagetables, 0);
	expect_eq(s.grants, 0);
}

/*
 * What the sweeps reached, for the report and the coverage check: the
 * allocating lines (VM_HERE) made to fail, per operation and overall; the
 * calls each operation made when it ran whole; the kinds of page fault
 * seen (pf_nomem only under injection).
 */
#define MAX_SITES 512
static struct sitelist {
	const char *where[MAX_SITES];
	unsigned n;
} all_sites;
static bool call_covered[VMI_NCALLS];
static bool ran[NOPS];
static unsigned long total_points, total_absorbed;

enum { K_ZEROFILL, K_COWCOPY, K_COWREUSE, K_SHARED, K_REFUSED, K_NOMEM, NPF };
static const char *const pf_kind[NPF] = { "zero-fill", "cow copy", "cow reuse",
					  "shared",    "refused",  "no memory" };
static bool pf_seen[NPF];

static void site_add(struct sitelist *l, const char *where)
{
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->where[i], where) == 0)
			return;
	if (l->n == MAX_SITES)
		fail_msg("more than %d allocation sites", MAX_SITES);
	l->where[l->n++] = where;
}

static void pf_note(const struct vmi_stats *a, const struct vmi_stats *b)
{
	const uint64_t before[NPF] = { a->pf_zerofill, a->pf_cowcopy, a->pf_cowreuse,
				       a->pf_shared,   a->pf_refused, a->pf_nomem };
	const uint64_t after[NPF] = { b->pf_zerofill, b->pf_cowcopy, b->pf_cowreuse,
				      b->pf_shared,   b->pf_refused, b->pf_nomem };

	for (int k = 0; k < NPF; k++)
		pf_seen[k] |= after[k] != before[k];
}

static void sweep(void **state)
{
	const struct op *op = *state;
	unsigned long points = 0, absorbed = 0;
	struct sitelist sites = { .n = 0 };

	cur_op = op->name;
	for (cur_n = 1;; cur_n++) {
		if (cur_n > 10000)
			fail_msg("%s: still allocating after 10000 injections", cur_op);
		expect_eq(hosted_boot(MEM), 0);
		memset(&st, 0, sizeof(st));
		struct vmi_stats s0 = stats();
		op->setup();
		expect_eq(sanity_check(), 0);

		struct vmi_stats before = stats();
		uint32_t free_before = before.pages_free;
		vm_fail_nth_alloc(cur_n);
		int r = op->perform();
		const char *site = vm_fail_site();
		bool injected = vm_fail_nth_alloc(0) >= cur_n;
		struct vmi_stats after = stats();

		pf_note(&before, &after);
		if (injected != (site != NULL))
			fail_msg("%s, N=%lu: an injection without its site", cur_op, cur_n);
		if (site) {
			site_add(&sites, site);
			site_add(&all_sites, site);
		}
		if (!injected) /* it ran whole: the calls it makes */
			for (int i = 0; i < VMI_NCALLS; i++)
				call_covered[i] |= after.calls[i] != before.calls[i];
		if (r != 0 && r != ENOMEM)
			fail_msg("%s, N=%lu: the call returned %d, not 0 or ENOMEM", cur_op, cur_n,
				 r);
		if (!injected && r != 0)
			fail_msg("%s, N=%lu: the call failed (%d) without an injected failure",
				 cur_op, cur_n, r);
		expect_eq(sanity_check(), 0);
		if (r == ENOMEM && (op->flags & CLEAN))
			expect_eq(stats().pages_free, free_before);
		if (r == ENOMEM && op->failed)
			op->failed();
		else if (r == 0 && op->ok)
			op->ok();
		expect_eq(sanity_check(), 0);
		if (r == ENOMEM && (op->flags & RETRY)) {
			expect_eq(op->perform(), 0);
			expect_eq(sanity_check(), 0);
		}
		absorbed += injected && r == 0;
		exit_all(s0.pages_free, s0.pages_slab);
		if (!injected)
			break;
		points++;
	}
	/* Every allocation the operation makes is an injection point; each
	 * was made to fail once (absorbed: the call still succeeded). */
	print_message("%-18s %3lu injection points = failures injected, %2lu absorbed, %2u sites\n",
		      op->name, points, absorbed, sites.n);
	total_points += points;
	total_absorbed += absorbed;
	ran[op - ops] = true;
	hosted_halt();
}

/*
 * Run last: every call of VM's dispatch table must have been made by some
 * operation (a new call without an operation in the table above fails
 * here), and every kind of page fault seen. Skipped when a filter ran only
 * some operations.
 */
static void coverage(void **state)
{
	unsigned ncalls = 0, missing = 0, uncalled = 0;

	(void)state;
	for (size_t i = 0; i < NOPS; i++)
		if (!ran[i])
			skip();
	for (int nr = VM_RQ_BASE; nr <= VM_RQ_LAST; nr++) {
		if (vm_call_name(nr) == NULL)
			continue;
		ncalls++;
		if (!call_covered[nr - VM_RQ_BASE]) {
			print_error("call %s (0x%x) is in VM's dispatch table but no operation of "
				    "the sweep makes it\n",
				    vm_call_name(nr), nr);
			missing++;
			uncalled++;
		}
	}
	for (int k = 0; k < NPF; k++)
		if (!pf_seen[k]) {
			print_error("no page fault of kind %s in the sweep\n", pf_kind[k]);
			missing++;
		}
	print_message(
	    "total: %zu operations, %u of %u calls, %d kinds of page fault; %lu injection "
	    "points = failures injected (%lu absorbed), %u distinct allocation sites\n",
	    NOPS, ncalls - uncalled, ncalls, NPF, total_points, total_absorbed, all_sites.n);
	for (unsigned i = 0; i < all_sites.n; i++)
		print_message("  site %s\n", all_sites.where[i]);
	if (missing)
		fail_msg("%u calls or page-fault kinds not covered", missing);
}

int main(int argc, char **argv)
{
	static struct CMUnitTest tests[NOPS + 1];

	make_exe();
	for (size_t i = 0; i < NOPS; i++) {
		tests[i].name = ops[i].name;
		tests[i].test_func = sweep;
		tests[i].initial_state = (void *)(uintptr_t)&ops[i];
	}
	tests[NOPS].name = "coverage";
	tests[NOPS].test_func = coverage;
	/* A pattern (cmocka's * and ?) runs only the operations it matches. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
