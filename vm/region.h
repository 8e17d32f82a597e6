/*
 * Regions: what a process has mapped (struct vir_region, in an AVL tree
 * keyed by start address), the pages that are resident in them
 * (struct phys_region, one per resident page, found through the process's
 * sparse page map) and the frames behind those (struct phys_block,
 * refcounted, knowing every phys_region that references it).
 */
#ifndef VM_REGION_H
#define VM_REGION_H

#include <stdbool.h>
#include <stdint.h>
#include <vmscope/errno.h>
#include <vmscope/types.h>
#include <vmscope/vminfo.h>

#include "avl.h"
#include "vmproc.h"

struct mem_type;
struct vir_region;

/* A frame and everyone that maps it. */
struct phys_block {
	phys_bytes phys;
	uint32_t refcount;               /* phys_regions on the list below */
	struct phys_region *firstregion; /* list through next_ph_list */
	uint32_t flags;                  /* PBF_* */
	uint32_t cacheref;               /* of refcount, references held by cached blocks */
};

#define PBF_DEVICE 0x1 /* device memory: not from the pool, never freed or cleared */

/* One resident page of a region. */
struct phys_region {
	struct phys_block *ph;
	struct vir_region *parent;
	vir_bytes vaddr;                  /* the page's address in parent's process */
	struct phys_region *next_ph_list; /* next reference to ph */
};

/* Region flags. The protection bits equal VM_PROT_*. */
#define VR_READABLE 0x001
#define VR_WRITABLE 0x002
#define VR_EXEC 0x004
#define VR_SHARED 0x010        /* stays shared across fork */
#define VR_UNINITIALIZED 0x020 /* fresh pages are not cleared */
#define VR_LOWER16MB 0x040     /* frames below 16 MB */
#define VR_CONTIG 0x080        /* physically contiguous */
#define VR_PREALLOC 0x100      /* every page allocated at creation */
#define VR_HEAP 0x200          /* made by brk */
#define VR_SAFEMAP 0x400       /* mapped through a grant (region.grant) */
#define VR_NEWSHARED 0x800     /* shared by the call in progress (undone if it fails) */
#define VR_PROTMASK (VR_READABLE | VR_WRITABLE | VR_EXEC)

/* The debug call exports these flags under their own names. */
_Static_assert(VR_READABLE == VMI_VR_READ && VR_WRITABLE == VMI_VR_WRITE &&
		   VR_EXEC == VMI_VR_EXEC && VR_SHARED == VMI_VR_SHARED &&
		   VR_UNINITIALIZED == VMI_VR_UNINITIALIZED && VR_LOWER16MB == VMI_VR_LOWER16MB &&
		   VR_CONTIG == VMI_VR_CONTIG && VR_PREALLOC == VMI_VR_PREALLOC &&
		   VR_HEAP == VMI_VR_HEAP && VR_SAFEMAP == VMI_VR_SAFEMAP,
	       "VR_* and VMI_VR_* differ");

struct vir_region {
	struct avl_node node; /* key: vaddr */
	vir_bytes vaddr;
	vir_bytes length;
	struct vmproc *parent;
	const struct mem_type *memtype;
	uint32_t flags;    /* VR_* */
	uint32_t resident; /* pages present */
	phys_bytes phys;   /* MT_DIRECTPHYS: frame of vaddr when created */
	/* Regions that share pages lazily (a shared region and its copies in
	 * fork relatives): a circular list, and the offset of vaddr in the
	 * memory they share. A region alone is its own list. */
	struct vir_region *grp_next, *grp_prev;
	vir_bytes grp_off;
	uint32_t grant; /* VR_SAFEMAP: the grant it was mapped through */
	/* The region tree is augmented (avl_init_augmented), as Linux's
	 * rb_subtree_gap: each region knows the free bytes between the end of
	 * the region before it and its start (0 for the lowest region), and
	 * the largest such gap in its subtree, so that map_find_free finds a
	 * free range in O(log n). */
	vir_bytes gap_before, sub_gap;
};

/* Whether fresh pages of r may keep old contents: only for a region
 * asked for uninitialized by a privileged process, and only while a
 * privileged process owns it (a fork child never is one). */
static inline bool region_uninit(const struct vir_region *r)
{
	return (r->flags & VR_UNINITIALIZED) && (r->parent->vm_flags & VMF_PRIV);
}

/* Make vmp's region tree empty (augmented with the free-range summary). */
void map_init_tree(struct vmproc *vmp);

/* Region of vmp containing addr, or NULL. */
struct vir_region *map_lookup(struct vmproc *vmp, vir_bytes addr);

/* First region of vmp ending above addr, or NULL. */
struct vir_region *map_lookup_above(struct vmproc *vmp, vir_bytes addr);

/* Start of the highest free range of len bytes within [minv, maxv) (VM
 * places mappings top-down), or 0 if there is none. */
vir_bytes map_find_free(struct vmproc *vmp, vir_bytes minv, vir_bytes maxv, vir_bytes len);

/* Whether [v, v + len) is free in vmp and inside user space. */
bool map_range_free(struct vmproc *vmp, vir_bytes v, vir_bytes len);

/* New region [v, v + len) of memtype with flags; v must be free. phys is
 * for MT_DIRECTPHYS (0 otherwise). Calls the type's ev_new (which may
 * allocate, e.g. prealloc). Returns the region or NULL (ENOMEM; nothing
 * changed). */
struct vir_region *map_page_region(struct vmproc *vmp, vir_bytes v, vir_bytes len, uint32_t flags,
				   const struct mem_type *memtype, phys_bytes phys);

/* A copy of region src (of another process) in dst at the same address,
 * without pages: the caller's mem type fills it. NULL on ENOMEM. */
struct vir_region *map_region_clone(struct vmproc *dst, const struct vir_region *src);

/* Give dst (a clone of src, or a shared mapping of it at another address)
 * a reference to every resident page of src, at the same offset, and
 * rewrite both sides' PTEs as their mem types want. VM_OK or ENOMEM
 * (references made so far stay; the caller deletes dst). */
int map_copy_refs(struct vir_region *src, struct vir_region *dst);

/* dst (a fork copy of src) shares src's memory lazily from now on: a page
 * first touched in either appears in both. */
void map_group_join(struct vir_region *dst, struct vir_region *src);

/* Address in m of the page at v in r (same group), or 0 when m does not
 * cover that part of the shared memory. */
vir_bytes map_group_addr(const struct vir_region *m, const struct vir_region *r, vir_bytes v);

/* Delete region r of vmp (all its pages unreferenced). */
void map_delete_region(struct vmproc *vmp, struct vir_region *r);

/* Unmap [start, start + len) whatever regions and holes it covers:
 * whole regions are freed, partly covered ones trimmed or split. Returns
 * VM_OK or ENOMEM (before anything changed). */
int map_unmap_range(struct vmproc *vmp, vir_bytes start, vir_bytes len);

/* Grow region r at its end to newlen (the range must be free). */
int map_region_extend(struct vmproc *vmp, struct vir_region *r, vir_bytes newlen);

/* Free every region of vmp. */
void map_free_proc(struct vmproc *vmp);

/* map_free_proc and pt_free, for a process whose address space goes
 * whole (exit, a failed fork): its PTEs are not cleared one by one first. */
void map_exit_proc(struct vmproc *vmp);

enum pf_result {
	PF_RESOLVED, /* mapped: retry the access */
	PF_SEGV,     /* the access is not allowed: SIGSEGV */
	PF_NOMEM,    /* allowed, but no memory to back it */
};

/* Resolve a fault at addr in r (write: a store). */
enum pf_result map_pf(struct vmproc *vmp, struct vir_region *r, vir_bytes addr, bool write);

/* Make every page of [v, v + len) in r resident (prealloc), VM_OK or
 * ENOMEM. */
int map_handle_memory(struct vmproc *vmp, struct vir_region *r, vir_bytes v, vir_bytes len,
		      bool write);

/* The phys_region of vmp at page address v, or NULL. */
struct phys_region *map_phys_at(struct vmproc *vmp, vir_bytes v);

/* Add a reference to pb: a new phys_region of r at page address v, entered
 * in the process's page map. Returns it, or NULL (ENOMEM; unchanged). */
struct phys_region *pb_reference(struct phys_block *pb, struct vir_region *r, vir_bytes v);

/* Drop pr: remove it from its process's page map and pb's list, unmap it,
 * and let its mem type free the frame when it was the last reference. */
void pb_unreference(struct phys_region *pr);

/* Move pr from its block to pb (a copy-on-write copy, or a page that
 * safecopy shares). The old block is freed if that was its last
 * reference. Allocates nothing. */
void pb_move(struct phys_region *pr, struct phys_block *pb);

/* Split regions of vmp so that start and start + len are region
 * boundaries: [start, start + len) is then made of whole regions. Returns
 * VM_OK or ENOMEM (nothing changed). */
int map_isolate(struct vmproc *vmp, vir_bytes start, vir_bytes len);

/* map_copy_refs, src's start going to address at of dst. */
int map_copy_refs_at(struct vir_region *src, struct vir_region *dst, vir_bytes at);

/* The cache takes a reference on pb. */
void pb_take_cacheref(struct phys_block *pb);

/* The cache drops its reference on pb; frees the block (and its frame)
 * when that was the last. Returns the number of frames freed (0 or 1). */
uint32_t pb_drop_cacheref(struct phys_block *pb);

/* Unreference every resident page of vmp in [v, end). */
void map_unreference_range(struct vmproc *vmp, vir_bytes v, vir_bytes end);

/* New phys_block for frame phys, no references yet (NULL on ENOMEM). */
struct phys_block *pb_new(phys_bytes phys);

/* Write the PTE for pr as its region and mem type want it. VM_OK/ENOMEM. */
int map_ph_writept(struct vmproc *vmp, struct phys_region *pr);

/* Resident pages of [v, end) in vmp that other mappings map too: through
 * shared memory (*shared) or copy-on-write (*cow). Walks the pages. */
void map_count_shared(struct vmproc *vmp, vir_bytes v, vir_bytes end, uint32_t *shared,
		      uint32_t *cow);

/* Findings in vmp's regions, pages and page tables (printed). Calls claim
 * once for each phys_block whose first reference is in vmp. */
uint32_t map_sanitycheck(struct vmproc *vmp, void (*claim)(const struct phys_block *pb, void *arg),
			 void *arg);

/* The i-th region of vmp in address order, or NULL. */
struct vir_region *map_region_at(struct vmproc *vmp, uint32_t i);

#endif
