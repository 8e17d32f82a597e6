/* Read-only locking of VM's objects (see lock.h). */
#include <vmscope/kernel.h>

#include "../vm/util.h"
#include "lock.h"

#define LOCK_MAXNEST 16 /* pages unlocked at once */

static struct {
	char *base;
	phys_bytes mem_bytes;
	bool (*is_locked)(phys_bytes frame);
	unsigned n;
	struct {
		phys_bytes frame;
		unsigned count;
	} open[LOCK_MAXNEST];
} lk;

void lock_init(void *base, phys_bytes mem_bytes, bool (*is_locked)(phys_bytes frame))
{
	/* Only the VM_SANITY build locks: elsewhere every object is left
	 * alone (and slab.c's own unlocks cost nothing). */
#ifdef VMSCOPE_SANITY_BUILD
	lk.base = base;
#else
	lk.base = NULL;
	(void)base;
#endif
	lk.mem_bytes = mem_bytes;
	lk.is_locked = is_locked;
	lk.n = 0;
}

/* The frame obj is in, if it is a locked page; else NO_FRAME. */
#define NO_FRAME 0xFFFFFFFFu
static phys_bytes locked_frame(const void *obj)
{
	uintptr_t off = (uintptr_t)obj - (uintptr_t)lk.base;

	if (lk.base == NULL || (uintptr_t)obj < (uintptr_t)lk.base || off >= lk.mem_bytes)
		return NO_FRAME;
	phys_bytes frame = (phys_bytes)off & ~(phys_bytes)VM_PAGE_MASK;
	return lk.is_locked(frame) ? frame : NO_FRAME;
}

static void protect(phys_bytes frame, enum protect_mode mode)
{
	int r = sys_protect(frame, VM_PAGE_SIZE, mode);
	if (r != VM_OK)
		panic("%s: sys_protect(0x%x, %s) failed: %d", __func__, frame,
		      mode == PROTECT_RO ? "read-only" : "writable", r);
}

void lock_page_unlock(const void *obj)
{
	phys_bytes frame = locked_frame(obj);

	if (frame == NO_FRAME)
		return;
	for (unsigned i = 0; i < lk.n; i++)
		if (lk.open[i].frame == frame) {
			lk.open[i].count++;
			return;
		}
	if (lk.n == LOCK_MAXNEST)
		panic("%s: more than %d pages unlocked at once (USE nested too deep)", __func__,
		      LOCK_MAXNEST);
	protect(frame, PROTECT_RW);
	lk.open[lk.n].frame = frame;
	lk.open[lk.n].count = 1;
	lk.n++;
}

void lock_page_lock(const void *obj)
{
	uintptr_t off = (uintptr_t)obj - (uintptr_t)lk.base;
	phys_bytes frame = (phys_bytes)off & ~(phys_bytes)VM_PAGE_MASK;

	/* Not locked_frame(): the page may have been retired inside USE. */
	for (unsigned i = 0; i < lk.n; i++) {
		if (lk.open[i].frame != frame)
			continue;
		if (--lk.open[i].count == 0) {
			protect(frame, PROTECT_RO);
			lk.open[i] = lk.open[--lk.n];
		}
		return;
	}
}

void lock_page_new(phys_bytes frame)
{
	protect(frame, PROTECT_RO);
}

void lock_page_retire(phys_bytes frame)
{
	for (unsigned i = 0; i < lk.n; i++)
		if (lk.open[i].frame == frame) {
			lk.open[i] = lk.open[--lk.n];
			break;
		}
	protect(frame, PROTECT_RW);
}

unsigned lock_unlocked_pages(void)
{
	return lk.n;
}
