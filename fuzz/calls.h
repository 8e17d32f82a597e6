/*
 * The input format of fuzz_vm_calls (docs/fuzzing.md), shared by the fuzzer
 * and the seed maker (mkseeds.c), which writes the scenarios' calls in it.
 *
 *   input  := header op*
 *   header := u8: b & 4: the consistency check after every op (an 8 MB machine)
 *   op     := u8 kind (kind & 7), then by kind:
 *     OP_MSG     src:u8 type:u8 [u32 if type >= 0xF0] nwords:u8 word*
 *     OP_READ    proc:u8 addr:word len:u8
 *     OP_WRITE   proc:u8 addr:word len:u8 byte:u8
 *     OP_HOSTED  what:u8 (spawn, fork, exit, exec) ...
 *     OP_CHECK   the consistency check now
 *   word   := mode:u8, then by mode & 7 (see decode_word in vm_calls.c)
 *
 * Processes are named by their index in the harness's table: 0 a system
 * process, 1 and 2 users, 3 an exited one (its endpoint is stale: the slot
 * now holds 4), 4 a user; later spawns and forks append.
 */
#ifndef FUZZ_CALLS_H
#define FUZZ_CALLS_H

enum {
	OP_MSG = 0,
	OP_READ = 4,
	OP_WRITE = 5,
	OP_HOSTED = 6,
	OP_CHECK = 7,
};

enum { HOSTED_SPAWN, HOSTED_FORK, HOSTED_EXIT, HOSTED_EXEC, HOSTED_NOPS };

enum {
	W_SMALL = 0,   /* mode >> 3 */
	W_U32 = 1,     /* u32 follows */
	W_EP = 2,      /* an endpoint: u8 selector (see pick_endpoint) */
	W_ADDR = 3,    /* a remembered address (mode >> 3) + s8 pages */
	W_REGION = 4,  /* start (or end, mode & 8) of region (mode >> 4) of proc u8, + s8 pages */
	W_SPECIAL = 5, /* special[mode >> 3] */
	W_PAGES = 6,   /* (u8 + 1) pages, + 1 byte if mode & 8 */
	W_MEDIUM = 7,  /* u8 | (mode >> 3) << 8 */
};

/* Source byte: (b & 3) == 0 is the kernel, else pick_endpoint(b >> 2). */
#define SRC_KERNEL 0
/* Endpoint selector: below EP_SPECIAL the process with that index (modulo
 * how many there are), else special endpoints. */
#define EP_SPECIAL 0x30

#define NR_FIXED_PROCS 5

#endif
