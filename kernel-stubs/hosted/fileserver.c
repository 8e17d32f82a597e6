/*
 * The simulated file server (see fileserver.h).
 *
 * Two levels of cache sit above the disk. The primary cache is `nbuf`
 * buffers of one block each in one private anonymous region of the
 * server's process, replaced least recently used first. The secondary
 * cache is VM's: a buffer's block is yielded to VM under its block number
 * when the buffer is reused, and asked back on a primary miss. Asking and
 * yielding is one VM_YIELDBLOCKGETBLOCK: the victim goes out and the
 * wanted block comes in to the same buffer, its frames mapped without a
 * copy.
 *
 * Only the disk is the truth: writes go through to it at once, so a block
 * in VM's cache is always clean and a forgotten block costs a disk read,
 * never data. The server keeps one bit per block, "VM may hold a copy",
 * so that it never asks VM for a block VM cannot have, and so that a
 * write can take the block's old copy out of VM before it goes stale.
 * That bit errs on the side of "may": where a failed call leaves it
 * unknown whether VM took a block, the server assumes it did, which costs
 * at most an ESRCH later.
 *
 * A failure of the caching machinery (VM out of memory for the buffers,
 * say) never fails a read or a write: the block is served from the disk
 * and the failure counted in cache_errors. The server touches its
 * buffers only through the simulated MMU, as its process, so VM sees
 * every fault and every page it maps.
 */
#include "fileserver.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <vmscope/callnr.h>
#include <vmscope/errno.h>
#include <vmscope/mman.h>

#include "machine.h"

#define NOBLK UINT32_MAX /* a free buffer */
#define NOBUF UINT32_MAX /* a block in no buffer */

struct buffer {
	uint32_t blk;  /* block held, or NOBLK */
	uint64_t used; /* clock of the last access, for LRU */
};

struct fileserver {
	endpoint_t ep;
	uint32_t nblocks, bsize, nbuf;
	vir_bytes base;     /* the buffers: buffer i at base + i * bsize */
	uint8_t *disk;      /* nblocks * bsize bytes of host memory */
	struct buffer *buf; /* nbuf */
	uint32_t *where;    /* per block: its buffer, or NOBUF */
	bool *in_vm;        /* per block: VM may hold a copy */
	uint64_t clock;
	struct fs_stats st;
};

/* One VM call from the server's process; the reply's result. */
static int fs_call(struct fileserver *fs, message *m)
{
	m->m_source = fs->ep;
	return hosted_call(m);
}

/* VM_YIELDBLOCKGETBLOCK on buffer i: yield yid (VM_BLOCKID_NONE: none) and
 * get gid (likewise) in one call. The result as VM replied. */
static int yield_get(struct fileserver *fs, uint32_t i, uint64_t yid, uint64_t gid)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_type = VM_YIELDBLOCKGETBLOCK;
	m.m_yb.addr = fs->base + i * fs->bsize;
	m.m_yb.len = fs->bsize;
	m.m_yb.yield_lo = (uint32_t)yid;
	m.m_yb.yield_hi = (uint32_t)(yid >> 32);
	m.m_yb.get_lo = (uint32_t)gid;
	m.m_yb.get_hi = (uint32_t)(gid >> 32);
	return fs_call(fs, &m);
}

/* VM_FORGETBLOCK of blk; VM_OK also when VM had no such block. */
static int forget_block(struct fileserver *fs, uint32_t blk)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_type = VM_FORGETBLOCK;
	m.m_forget.id_lo = blk; /* block numbers are ids; the high half is 0 */
	int r = fs_call(fs, &m);
	if (r == VM_OK)
		fs->in_vm[blk] = false;
	return r;
}

/* Copy between host memory and buffer i, as the server's process (so
 * faults go to VM). 0, or what the MMU said (ENOMEM: VM had no memory). */
static int buf_access(struct fileserver *fs, uint32_t i, void *data, bool write)
{
	struct hosted_proc *p = hosted_proc(fs->ep);

	if (p == NULL)
		return ESRCH;
	return mmu_access(p, fs->base + i * fs->bsize, data, fs->bsize, write);
}

/* Block blk on the disk (host memory: the machine never sees the disk). */
static const uint8_t *disk_block(const struct fileserver *fs, uint32_t blk)
{
	return fs->disk + (size_t)blk * fs->bsize;
}

/* Forget which block buffer i holds (its contents are no longer trusted);
 * the block stays on disk. */
static void drop_buffer(struct fileserver *fs, uint32_t i)
{
	if (fs->buf[i].blk != NOBLK)
		fs->where[fs->buf[i].blk] = NOBUF;
	fs->buf[i].blk = NOBLK;
}

/* The buffer to reuse: a free one, else the least recently used. */
static uint32_t pick_victim(const struct fileserver *fs)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < fs->nbuf; i++) {
		if (fs->buf[i].blk == NOBLK)
			return i;
		if (fs->buf[i].used < fs->buf[v].used)
			v = i;
	}
	return v;
}

/* Where take_buffer found a block's data. */
enum source {
	SRC_VM,     /* VM gave it back: the buffer holds it */
	SRC_FORGOT, /* VM had it once but forgot it: the caller fills the buffer */
	SRC_NONE,   /* VM cannot have it (never had it, or it was dropped) */
};

/*
 * Give blk (not in any buffer) a buffer: the victim's block goes to VM
 * and, if VM may have blk, blk comes back from VM in the same call.
 * Returns VM_OK with *idx and *src set (unless *src is SRC_VM the buffer's
 * contents are undefined), or an errno with nothing held for blk and the
 * victim's buffer freed.
 */
static int take_buffer(struct fileserver *fs, uint32_t blk, uint32_t *idx, enum source *src)
{
	uint32_t i = pick_victim(fs), victim = fs->buf[i].blk;
	uint64_t yid = victim == NOBLK ? VM_BLOCKID_NONE : victim;
	uint64_t gid = fs->in_vm[blk] ? blk : VM_BLOCKID_NONE;
	int r = VM_OK;

	if (yid != VM_BLOCKID_NONE || gid != VM_BLOCKID_NONE)
		r = yield_get(fs, i, yid, gid);
	drop_buffer(fs, i);
	if (victim != NOBLK) {
		/* Yielded, or (when VM refused) maybe yielded: VM may hold a
		 * copy, clean either way. */
		fs->in_vm[victim] = true;
	}
	if (r != VM_OK && r != ESRCH) {
		fs->st.cache_errors++;
		return r; /* blk may still be in VM: in_vm[blk] stays */
	}
	if (victim != NOBLK)
		fs->st.yields++;
	/* A block got back has left VM's cache; ESRCH: VM forgot it. */
	fs->in_vm[blk] = false;
	*src = gid == VM_BLOCKID_NONE ? SRC_NONE : r == VM_OK ? SRC_VM : SRC_FORGOT;
	fs->buf[i].blk = blk;
	fs->where[blk] = i;
	*idx = i;
	return VM_OK;
}

int fs_start(uint32_t nblocks, uint32_t block_bytes, uint32_t buffers, struct fileserver **out)
{
	struct fileserver *fs;
	message m;
	int r;

	if (nblocks == 0 || buffers == 0 || block_bytes == 0 || block_bytes % VM_PAGE_SIZE ||
	    block_bytes > VM_CACHE_MAXPAGES * VM_PAGE_SIZE || nblocks == NOBUF ||
	    buffers > UINT32_MAX / block_bytes || (uint64_t)nblocks * block_bytes > SIZE_MAX)
		return EINVAL;
	if ((fs = calloc(1, sizeof(*fs))) == NULL)
		return ENOMEM;
	fs->nblocks = nblocks;
	fs->bsize = block_bytes;
	fs->nbuf = buffers;
	fs->disk = calloc(nblocks, block_bytes); /* a fresh disk reads as zero */
	fs->buf = calloc(buffers, sizeof(*fs->buf));
	fs->where = malloc(nblocks * sizeof(*fs->where));
	fs->in_vm = calloc(nblocks, sizeof(*fs->in_vm));
	if (!fs->disk || !fs->buf || !fs->where || !fs->in_vm) {
		r = ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < buffers; i++)
		fs->buf[i].blk = NOBLK;
	for (uint32_t b = 0; b < nblocks; b++)
		fs->where[b] = NOBUF;
	if ((r = hosted_spawn("fs", false, &fs->ep)) != 0)
		goto fail;
	/* The buffers: one private anonymous region, the kind of memory VM
	 * takes yields from; pages come on first touch. */
	memset(&m, 0, sizeof(m));
	m.m_type = VM_MMAP;
	m.m_mmap.len = buffers * block_bytes;
	m.m_mmap.prot = VM_PROT_READ | VM_PROT_WRITE;
	if ((r = fs_call(fs, &m)) != VM_OK) {
		hosted_exit(fs->ep);
		goto fail;
	}
	fs->base = m.m_mmap.addr;
	*out = fs;
	return 0;
fail:
	free(fs->disk);
	free(fs->buf);
	free(fs->where);
	free(fs->in_vm);
	free(fs);
	return r;
}

int fs_read(struct fileserver *fs, uint32_t blk, void *out)
{
	enum source src;
	uint32_t i;

	if (blk >= fs->nblocks)
		return EINVAL;
	fs->st.reads++;
	if ((i = fs->where[blk]) != NOBUF) {
		fs->st.buf_hits++;
	} else {
		if (take_buffer(fs, blk, &i, &src) != VM_OK)
			goto from_disk;
		if (src == SRC_VM) {
			fs->st.vm_hits++;
		} else {
			if (src == SRC_FORGOT)
				fs->st.vm_misses++;
			else
				fs->st.cold++;
			fs->st.disk_reads++;
			if (buf_access(fs, i, (void *)disk_block(fs, blk), true) != 0) {
				drop_buffer(fs, i);
				fs->st.cache_errors++;
				goto copy_disk;
			}
		}
	}
	fs->buf[i].used = ++fs->clock;
	/* Read through the process's memory, not from the disk: that is
	 * where a VM that lost or mixed up pages would show. */
	if (buf_access(fs, i, out, false) == 0)
		return 0;
	drop_buffer(fs, i);
	fs->st.cache_errors++;
from_disk:
	fs->st.disk_reads++;
copy_disk:
	memcpy(out, disk_block(fs, blk), fs->bsize);
	return 0;
}

int fs_write(struct fileserver *fs, uint32_t blk, const void *in)
{
	enum source src;
	uint32_t i;

	if (blk >= fs->nblocks)
		return EINVAL;
	fs->st.writes++;
	/* Write-through: from here on the disk has it, whatever happens to
	 * the cached copies. */
	memcpy(fs->disk + (size_t)blk * fs->bsize, in, fs->bsize);
	fs->st.disk_writes++;
	if ((i = fs->where[blk]) != NOBUF) {
		fs->st.buf_hits++;
	} else if (take_buffer(fs, blk, &i, &src) != VM_OK) {
		/* VM may still hold the old contents: drop them, or a later
		 * read would get them back. */
		goto drop_old;
	}
	/* When the old copy came back from VM (the get half of the call,
	 * made so that it cannot go stale there), its frames take the new
	 * data: no page is freed and allocated again. */
	if (buf_access(fs, i, (void *)in, true) == 0) {
		fs->buf[i].used = ++fs->clock;
		return 0;
	}
	drop_buffer(fs, i);
	fs->st.cache_errors++;
drop_old:
	if (fs->in_vm[blk] && forget_block(fs, blk) != VM_OK)
		fs->st.cache_errors++;
	return 0;
}

int fs_forget(struct fileserver *fs, uint32_t blk)
{
	if (blk >= fs->nblocks)
		return EINVAL;
	/* Sent even when VM should not have blk: forgetting an id VM does not
	 * hold is no error, and that keeps the bit honest. */
	return forget_block(fs, blk);
}

int fs_forget_all(struct fileserver *fs)
{
	message m;

	memset(&m, 0, sizeof(m));
	m.m_type = VM_FORGETBLOCKS;
	int r = fs_call(fs, &m);
	if (r == VM_OK)
		memset(fs->in_vm, 0, fs->nblocks * sizeof(*fs->in_vm));
	return r;
}

struct fs_stats fs_stats(const struct fileserver *fs)
{
	return fs->st;
}

endpoint_t fs_endpoint(const struct fileserver *fs)
{
	return fs->ep;
}

uint32_t fs_nblocks(const struct fileserver *fs)
{
	return fs->nblocks;
}

uint32_t fs_block_bytes(const struct fileserver *fs)
{
	return fs->bsize;
}

void fs_stop(struct fileserver *fs)
{
	if (fs == NULL)
		return;
	if (hosted_proc(fs->ep))
		hosted_exit(fs->ep);
	free(fs->disk);
	free(fs->buf);
	free(fs->where);
	free(fs->in_vm);
	free(fs);
}
