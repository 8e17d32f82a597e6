/*
 * Entry from a multiboot v1 loader (QEMU -kernel), exception entry stubs,
 * and the one routine that touches a process's memory (uaccess_copy),
 * whose page faults are recoverable.
 *
 * At entry paging is off, EAX holds the multiboot magic and EBX the
 * physical address of the multiboot information. _start zeroes .bss,
 * maps the first 4 MB both at 0 and at KERN_VBASE with a boot page
 * directory (4 MB pages), turns on paging and jumps to the linked
 * (higher-half) addresses; kmain then builds the real direct map.
 */
#define KERN_VBASE 0xC0000000
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* modules page aligned, memory information */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.section .bss
	.align 4096
boot_pgdir:
	.skip 4096
	.align 16
boot_stack:
	.skip 65536
boot_stack_top:

	.text
	.globl _start
_start:
	cli
	cld
	mov %eax, %esi
	mov %ebx, %edx
	mov $(__bss_start - KERN_VBASE), %edi
	mov $(__bss_end - KERN_VBASE), %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl
	movl $0x00000083, (boot_pgdir - KERN_VBASE)
	movl $0x00000083, (boot_pgdir - KERN_VBASE + (KERN_VBASE >> 22) * 4)
	mov $(boot_pgdir - KERN_VBASE), %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x90, %eax /* PSE | PGE */
	mov %eax, %cr4
	mov %cr0, %eax
	or $0x80010000, %eax /* PG | WP */
	mov %eax, %cr0
	lea 1f, %eax
	jmp *%eax
1:	mov $boot_stack_top, %esp
	xor %ebp, %ebp
	push %edx /* multiboot information (physical) */
	push %esi /* magic */
	call kmain
2:	cli
	hlt
	jmp 2b

/* Exception entry: every stub leaves vector and error code (0 when the
 * CPU pushes none) on the stack, then trap_entry saves the registers and
 * calls trap(struct trapframe *). */
#define TRAP_NOERR(n) \
	.globl trap##n; trap##n: push $0; push $n; jmp trap_entry
#define TRAP_ERR(n) \
	.globl trap##n; trap##n: push $n; jmp trap_entry

TRAP_NOERR(0)
TRAP_NOERR(1)
TRAP_NOERR(2)
TRAP_NOERR(3)
TRAP_NOERR(4)
TRAP_NOERR(5)
TRAP_NOERR(6)
TRAP_NOERR(7)
TRAP_ERR(8)
TRAP_NOERR(9)
TRAP_ERR(10)
TRAP_ERR(11)
TRAP_ERR(12)
TRAP_ERR(13)
TRAP_ERR(14)
TRAP_NOERR(15)
TRAP_NOERR(16)
TRAP_ERR(17)
TRAP_NOERR(18)
TRAP_NOERR(19)
TRAP_NOERR(20)
TRAP_ERR(21)
TRAP_NOERR(22)
TRAP_NOERR(23)
TRAP_NOERR(24)
TRAP_NOERR(25)
TRAP_NOERR(26)
TRAP_NOERR(27)
TRAP_NOERR(28)
TRAP_ERR(29)
TRAP_ERR(30)
TRAP_NOERR(31)

trap_entry:
	pusha
	cld
	push %esp
	call trap
	add $4, %esp
	popa
	add $8, %esp /* vector and error code */
	iret

	.section .rodata
	.align 4
	.globl trap_vectors
trap_vectors:
	.long trap0, trap1, trap2, trap3, trap4, trap5, trap6, trap7
	.long trap8, trap9, trap10, trap11, trap12, trap13, trap14, trap15
	.long trap16, trap17, trap18, trap19, trap20, trap21, trap22, trap23
	.long trap24, trap25, trap26, trap27, trap28, trap29, trap30, trap31

/* int uaccess_copy(void *dst, const void *src, size_t n): 0, or -1 when
 * the copy page faulted (trap() then moved EIP to uaccess_fixup and
 * recorded the fault). */
	.text
	.globl uaccess_copy, uaccess_copy_insn, uaccess_fixup
uaccess_copy:
	push %esi
	push %edi
	mov 12(%esp), %edi
	mov 16(%esp), %esi
	mov 20(%esp), %ecx
uaccess_copy_insn:
	rep movsb
	xor %eax, %eax
uaccess_out:
	pop %edi
	pop %esi
	ret
uaccess_fixup:
	mov $-1, %eax
	jmp uaccess_out

	.section .note.GNU-stack, "", @progbits
