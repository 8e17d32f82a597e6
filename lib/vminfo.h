/*
 * libvminfo: the client side of the debug call (docs/debug-call.md).
 *
 * A client opens a connection (vminfo_open), which also checks that the
 * server speaks VMI_VERSION, then asks with one function per subcall. Lists
 * that the server sends in pages (processes, regions, pages, slab caches,
 * grants) are gathered into one malloc'd array that the caller frees.
 *
 * Every function returns 0 or an enum vminfo_errcode; the details (which
 * errno, which version, a message for the user) are in the connection's
 * last error (vminfo_last_error). A reply is never trusted: lengths, counts
 * and entry sizes are checked against what arrived, and entries are copied
 * into the structures of include/vmscope/vminfo.h. Every read and write has
 * a deadline, so a wedged server cannot hang the caller. After an I/O or
 * protocol error the connection is closed and later calls fail with
 * VMINFO_EIO: the byte stream can no longer be trusted to be in step.
 *
 * The wire format is little-endian and the library copies it as it is, so
 * it builds only for little-endian hosts (checked at compile time).
 */
#ifndef VMINFO_H
#define VMINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vmscope/vminfo.h>

enum vminfo_errcode {
	VMINFO_OK = 0,
	VMINFO_ENOTRUNNING, /* cannot connect: no server at the path (sys_errno) */
	VMINFO_EVERSION,    /* the server speaks another version (server_version) */
	VMINFO_EPROTO,      /* a malformed reply */
	VMINFO_EIO,         /* a read or write failed, timed out, or the server hung up */
	VMINFO_EVM,         /* VM answered an errno (vm_errno) */
	VMINFO_ENOPROC,     /* no such process */
	VMINFO_EAMBIGUOUS,  /* a process name that several processes have */
	VMINFO_ENOMEM,      /* out of memory in the client */
	VMINFO_EINVAL,      /* a bad argument (a socket path too long, say) */
};

struct vminfo_error {
	enum vminfo_errcode code;
	int sys_errno;           /* ENOTRUNNING, EIO: the host's errno, or 0 */
	int vm_errno;            /* EVM: the errno VM answered */
	unsigned server_version; /* EVERSION: the version the server speaks */
	char message[320];       /* for the user, without a trailing newline */
};

/* The default timeout of a request, in milliseconds. */
#define VMINFO_TIMEOUT_MS 5000

struct vminfo;

/* Writes the socket path `vm serve` listens on by default into buf
 * (docs/serve.md): $VMSCOPE_SOCKET if set and not empty, else
 * $XDG_RUNTIME_DIR/vmscope.sock if that is an absolute path, else
 * /tmp/vmscope-UID.sock. Returns 0, or -1 if it does not fit in size
 * bytes. */
int vminfo_default_path(char *buf, size_t size);

/* Connects to the server at path (NULL: the default path) and checks its
 * version with one VMI_STATS request; every request, this one included,
 * must be answered within timeout_ms (0: VMINFO_TIMEOUT_MS). Returns a
 * connection to close with vminfo_close, or NULL with *err (may be NULL)
 * filled in. */
struct vminfo *vminfo_open(const char *path, int timeout_ms, struct vminfo_error *err);

/* As vminfo_open, on a connected stream socket fd (which the connection
 * then owns and closes, also on failure); name is for messages. */
struct vminfo *vminfo_open_fd(int fd, const char *name, int timeout_ms, struct vminfo_error *err);

/* Closes the connection and frees it; NULL is allowed. */
void vminfo_close(struct vminfo *vi);

/* Sets the deadline of each later request (ms > 0). */
void vminfo_set_timeout(struct vminfo *vi, int ms);

/* The server's page size in bytes (a power of two, at least 1024), as
 * the handshake of vminfo_open reported it. */
uint32_t vminfo_page_size(const struct vminfo *vi);

/* The error of the last call on vi that failed (code VMINFO_OK if none). */
const struct vminfo_error *vminfo_last_error(const struct vminfo *vi);

/* The message of err, for the user: "VM is not running (no server at
 * /run/user/1000/vmscope.sock: connection refused)". Never NULL. */
const char *vminfo_strerror(const struct vminfo_error *err);

/* VMI_STATS into *out. Returns 0 or an error code. */
int vminfo_stats(struct vminfo *vi, struct vmi_stats *out);

/* VMI_PROCS: every process, in slot order, into a malloc'd array *out of
 * *n entries (free() it; NULL when *n is 0). Returns 0 or an error code. */
int vminfo_procs(struct vminfo *vi, struct vmi_proc **out, size_t *n);

/* VMI_REGIONS of process endpoint, in address order, as vminfo_procs.
 * Returns 0, VMINFO_ENOPROC or another error code. */
int vminfo_regions(struct vminfo *vi, int32_t endpoint, struct vmi_region **out, size_t *n);

/* VMI_PAGES: the resident pages of the region of endpoint containing addr,
 * as vminfo_procs. Returns 0, VMINFO_EVM (EINVAL: no region there) or
 * another error code. */
int vminfo_pages(struct vminfo *vi, int32_t endpoint, uint32_t addr, struct vmi_page **out,
		 size_t *n);

/* VMI_CACHE into *out. Returns 0 or an error code. */
int vminfo_cache(struct vminfo *vi, struct vmi_cache *out);

/* VMI_SLAB: one entry per object size in use, as vminfo_procs. */
int vminfo_slab(struct vminfo *vi, struct vmi_slab **out, size_t *n);

/* VMI_GRANTS: the grants endpoint made, then those it holds, as
 * vminfo_procs. Returns 0, VMINFO_ENOPROC or another error code. */
int vminfo_grants(struct vminfo *vi, int32_t endpoint, struct vmi_grant **out, size_t *n);

/* Whether vminfo_sanity runs the check or only reads the last result. */
enum vminfo_sanity_mode {
	VMINFO_SANITY_LAST,
	VMINFO_SANITY_RUN,
};

/* VMI_SANITY into *out; with VMINFO_SANITY_RUN VM runs the check first.
 * Returns 0 or an error code. */
int vminfo_sanity(struct vminfo *vi, enum vminfo_sanity_mode mode, struct vmi_sanity *out);

/* VMI_FINDINGS: the findings of VM's last check (at most
 * VMI_MAX_FINDINGS), as vminfo_procs. A server older than this subcall
 * answers VMINFO_EVM (EINVAL). */
int vminfo_findings(struct vminfo *vi, struct vmi_finding **out, size_t *n);

/* Finds the process spec names: an endpoint (decimal or 0x hex) or a
 * process name, into *out. Returns 0, VMINFO_ENOPROC, VMINFO_EAMBIGUOUS
 * (a name several processes have: give the endpoint) or another code. */
int vminfo_find_proc(struct vminfo *vi, const char *spec, struct vmi_proc *out);

/*
 * Names for what the protocol carries as numbers, shared by the tools.
 */

/* The name of call VM_RQ_BASE + index ("mmap"), or NULL for a number that
 * names no call. */
const char *vminfo_callname(unsigned index);

/* The name of mem type id ("anon", "contig", "phys", "shared", "cache"),
 * or NULL for an id it does not know. */
const char *vminfo_memtype_name(uint32_t memtype);

/* Region flags (vmi_region.flags; docs/debug-call.md). */
#define VMINFO_VR_READ VMI_VR_READ
#define VMINFO_VR_WRITE VMI_VR_WRITE
#define VMINFO_VR_EXEC VMI_VR_EXEC
#define VMINFO_VR_SHARED VMI_VR_SHARED
#define VMINFO_VR_UNINITIALIZED VMI_VR_UNINITIALIZED
#define VMINFO_VR_LOWER16MB VMI_VR_LOWER16MB
#define VMINFO_VR_CONTIG VMI_VR_CONTIG
#define VMINFO_VR_PREALLOC VMI_VR_PREALLOC
#define VMINFO_VR_HEAP VMI_VR_HEAP
#define VMINFO_VR_SAFEMAP VMI_VR_SAFEMAP

/* Writes the mode of a region with flags into buf (5 bytes): "rwxs", with
 * '-' for what is missing and 'p' (private) for not shared. Returns buf. */
char *vminfo_region_mode(uint32_t flags, char buf[5]);

/* Writes the names of the flags beyond the mode (heap, prealloc, contig,
 * lower16m, uninit, safemap, and 0xN for unknown bits), separated by ',',
 * into buf of size bytes ("" for none; names that do not fit are left
 * out whole). Returns buf. */
char *vminfo_region_flags(uint32_t flags, char *buf, size_t size);

#endif
