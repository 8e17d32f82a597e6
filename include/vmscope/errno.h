/*
 * Error numbers used across the vmscope ABI. They are positive and have the
 * values Linux uses, so that hosted code that also includes <errno.h> sees
 * identical definitions, and a number printed by a tool means what a Linux
 * user expects.
 */
#ifndef VMSCOPE_ERRNO_H
#define VMSCOPE_ERRNO_H

#define VM_OK 0

#ifndef EPERM
#define EPERM 1
#endif
#ifndef ENOENT
#define ENOENT 2
#endif
#ifndef ESRCH
#define ESRCH 3
#endif
#ifndef EIO
#define EIO 5
#endif
#ifndef E2BIG
#define E2BIG 7
#endif
#ifndef ENOEXEC
#define ENOEXEC 8
#endif
#ifndef EAGAIN
#define EAGAIN 11
#endif
#ifndef ENOMEM
#define ENOMEM 12
#endif
#ifndef EACCES
#define EACCES 13
#endif
#ifndef EFAULT
#define EFAULT 14
#endif
#ifndef EBUSY
#define EBUSY 16
#endif
#ifndef EEXIST
#define EEXIST 17
#endif
#ifndef EINVAL
#define EINVAL 22
#endif
#ifndef ENOSPC
#define ENOSPC 28
#endif
#ifndef ENOSYS
#define ENOSYS 38
#endif
#ifndef EOVERFLOW
#define EOVERFLOW 75
#endif

/* The names scenarios and tools use for the numbers above. */
struct vm_errname {
	int num;
	const char *name;
};

static const struct vm_errname vm_errnames[] = {
	{ VM_OK, "OK" },
	{ EPERM, "EPERM" },
	{ ENOENT, "ENOENT" },
	{ ESRCH, "ESRCH" },
	{ EIO, "EIO" },
	{ E2BIG, "E2BIG" },
	{ ENOEXEC, "ENOEXEC" },
	{ EAGAIN, "EAGAIN" },
	{ ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" },
	{ EFAULT, "EFAULT" },
	{ EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" },
	{ EINVAL, "EINVAL" },
	{ ENOSPC, "ENOSPC" },
	{ ENOSYS, "ENOSYS" },
	{ EOVERFLOW, "EOVERFLOW" },
};

/* Name of error number num ("EINVAL"), or NULL if it has none. */
static inline const char *vm_strerrno(int num)
{
	for (unsigned i = 0; i < sizeof(vm_errnames) / sizeof(vm_errnames[0]); i++)
		if (vm_errnames[i].num == num)
			return vm_errnames[i].name;
	return 0;
}

#endif
