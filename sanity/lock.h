/*
 * Read-only locking of VM's objects (VM_SANITY build). Slab pages are kept
 * read-only in VM's own view of memory (sys_protect); code that changes an
 * object unlocks the object's page for as long as it needs:
 *
 *	USE(pb, pb->refcount++);
 *
 * A write anywhere else faults at once, and the machine's fault handler
 * asks VM to describe the object (slab_describe_write). Unlocks nest, per
 * page: the page is locked again when the last USE on it ends. In other
 * builds USE(obj, code) is just code.
 *
 * Rules: code must not leave USE by return, break, continue or goto; an
 * object may be freed inside USE only through slabfree (which knows).
 */
#ifndef SANITY_LOCK_H
#define SANITY_LOCK_H

#include <stdbool.h>
#include <vmscope/types.h>

#ifdef VMSCOPE_SANITY_BUILD
#define USE(obj, ...)                                                                              \
	do {                                                                                       \
		const void *use_obj_ = (obj);                                                      \
		lock_page_unlock(use_obj_);                                                        \
		__VA_ARGS__;                                                                       \
		lock_page_lock(use_obj_);                                                          \
	} while (0)
/* One unlock around several USEs of one page (they nest without a
 * system call); nothing in other builds. */
#define USE_BEGIN(obj) lock_page_unlock(obj)
#define USE_END(obj) lock_page_lock(obj)
#else
#define USE(obj, ...)                                                                              \
	do {                                                                                       \
		__VA_ARGS__;                                                                       \
	} while (0)
#define USE_BEGIN(obj) ((void)(obj))
#define USE_END(obj) ((void)(obj))
#endif

/* Start locking (boot): base is the direct map of physical address 0,
 * mem_bytes the memory it maps. is_locked says whether a frame is one
 * that is kept locked (a slab page). */
void lock_init(void *base, phys_bytes mem_bytes, bool (*is_locked)(phys_bytes frame));

/* Make obj's page writable (nesting), or lock it again. Objects that are
 * not in a locked page (a static, a stack variable) are left alone. */
void lock_page_unlock(const void *obj);
void lock_page_lock(const void *obj);

/* A locked page comes into use or goes back to the allocator: lock it
 * (writes only through USE from now on), or make it writable for good. */
void lock_page_new(phys_bytes frame);
void lock_page_retire(phys_bytes frame);

/* Pages unlocked right now (a USE is running on them). */
unsigned lock_unlocked_pages(void);

#endif
