/*
 * A simulated file server on the hosted machine, with VM's cache as its
 * second-level block cache.
 *
 * The server is a process ("fs") with a simulated disk of fixed-size
 * blocks in host memory (outside the machine, as a real disk is) and a
 * small primary cache of block buffers in its own address space. A block
 * that leaves the primary cache is yielded to VM under its block number;
 * a primary miss asks VM for the block back and reads the disk only when
 * VM has forgotten it. Writes go through to the disk at once, so every
 * block the server hands VM is clean and VM may forget any of them at any
 * time without losing data: whatever VM evicts, a read returns what was
 * last written.
 *
 * The machine must be booted (hosted_boot) before fs_start and stay up
 * until fs_stop. One thread; several servers may run side by side (block
 * ids are per process in VM).
 */
#ifndef HOSTED_FILESERVER_H
#define HOSTED_FILESERVER_H

#include <stdint.h>
#include <vmscope/ipc.h>

struct fileserver;

struct fs_stats {
	uint64_t reads;    /* fs_read calls */
	uint64_t writes;   /* fs_write calls */
	uint64_t buf_hits; /* reads and writes that found the block in a buffer */
	/* Reads that missed the buffers, by where the block came from: */
	uint64_t vm_hits;      /* VM gave it back */
	uint64_t vm_misses;    /* VM had been given it but had forgotten it: disk */
	uint64_t cold;         /* VM could not have it (never given, or dropped): disk */
	uint64_t yields;       /* blocks handed to VM as they left the primary cache */
	uint64_t disk_reads;   /* blocks read from the disk */
	uint64_t disk_writes;  /* blocks written to the disk */
	uint64_t cache_errors; /* VM calls or buffer accesses that failed (served from disk) */
};

/*
 * Start a file server: spawn its process, give it a zeroed disk of nblocks
 * blocks of block_bytes each, and map `buffers` block buffers in its
 * address space. block_bytes must be a multiple of 4 KB and at most
 * VM_CACHE_MAXPAGES pages; nblocks and buffers at least 1. Returns 0 with
 * *out set, or an errno: EINVAL (bad sizes), ENOMEM (no host or machine
 * memory), or what spawning the process returned. Nothing is left behind
 * on failure.
 */
int fs_start(uint32_t nblocks, uint32_t block_bytes, uint32_t buffers, struct fileserver **out);

/*
 * Read block blk into out (block_bytes bytes): what the last fs_write of
 * blk wrote, zeroes if none, whatever VM has forgotten. Returns 0, or
 * EINVAL if blk is out of range. When the caching machinery fails (VM out
 * of memory for the server's buffers, say) the block is read from the
 * disk and the failure counted in cache_errors.
 */
int fs_read(struct fileserver *fs, uint32_t blk, void *out);

/*
 * Write in (block_bytes bytes) as block blk: to the disk at once, then to
 * the block's buffer. Returns 0, or EINVAL if blk is out of range. Caching
 * failures are counted as for fs_read; the disk has the data regardless.
 */
int fs_write(struct fileserver *fs, uint32_t blk, const void *in);

/*
 * Drop VM's copy of blk, if VM has one (VM_FORGETBLOCK); a copy in the
 * primary cache stays. Returns 0 or an errno from VM. Data is never lost:
 * the disk has it.
 */
int fs_forget(struct fileserver *fs, uint32_t blk);

/* Drop every block VM holds for the server (VM_FORGETBLOCKS). 0 or an
 * errno from VM. */
int fs_forget_all(struct fileserver *fs);

/* The server's counters since fs_start. */
struct fs_stats fs_stats(const struct fileserver *fs);

/* The server process's endpoint (to query VM about it). */
endpoint_t fs_endpoint(const struct fileserver *fs);

/* Geometry, as given to fs_start. */
uint32_t fs_nblocks(const struct fileserver *fs);
uint32_t fs_block_bytes(const struct fileserver *fs);

/*
 * Stop the server: its process exits (VM releases its buffers and every
 * block it yielded) and the disk is freed. fs may be NULL. If the machine
 * was halted first, only host memory is freed.
 */
void fs_stop(struct fileserver *fs);

#endif
