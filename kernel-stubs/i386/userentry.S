/*
 * Entry and exit of ring-3 processes (see proc.c). Once the first process
 * runs, every exception and the system-call gate (int $0x80, DPL 3) come
 * here: the stubs push the vector and error code like boot.S's, then the
 * general registers and the data segments, load the kernel's segments
 * and call utrap(struct uframe *). A trap from ring 0 (the kernel's own
 * uaccess faults, kernel bugs) leaves the same frame minus ESP/SS, and
 * utrap hands its trapframe part to boot.S's trap(). user_enter starts a
 * process from a prepared frame.
 */
#define SEL_KDATA 0x10

#define UTRAP_NOERR(n) \
	.globl utrap##n; utrap##n: push $0; push $n; jmp uentry
#define UTRAP_ERR(n) \
	.globl utrap##n; utrap##n: push $n; jmp uentry

	.text
UTRAP_NOERR(0)
UTRAP_NOERR(1)
UTRAP_NOERR(2)
UTRAP_NOERR(3)
UTRAP_NOERR(4)
UTRAP_NOERR(5)
UTRAP_NOERR(6)
UTRAP_NOERR(7)
UTRAP_ERR(8)
UTRAP_NOERR(9)
UTRAP_ERR(10)
UTRAP_ERR(11)
UTRAP_ERR(12)
UTRAP_ERR(13)
UTRAP_ERR(14)
UTRAP_NOERR(15)
UTRAP_NOERR(16)
UTRAP_ERR(17)
UTRAP_NOERR(18)
UTRAP_NOERR(19)
UTRAP_NOERR(20)
UTRAP_ERR(21)
UTRAP_NOERR(22)
UTRAP_NOERR(23)
UTRAP_NOERR(24)
UTRAP_NOERR(25)
UTRAP_NOERR(26)
UTRAP_NOERR(27)
UTRAP_NOERR(28)
UTRAP_ERR(29)
UTRAP_ERR(30)
UTRAP_NOERR(31)
UTRAP_NOERR(128)

uentry:
	pusha
	push %ds
	push %es
	push %fs
	push %gs
	mov $SEL_KDATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	cld
	push %esp
	call utrap
	add $4, %esp
uexit:
	pop %gs
	pop %fs
	pop %es
	pop %ds
	popa
	add $8, %esp /* vector and error code */
	iret

/* void user_enter(const struct uframe *f): load f and iret to ring 3. */
	.globl user_enter
user_enter:
	mov 4(%esp), %esp
	jmp uexit

	.section .rodata
	.align 4
	.globl utrap_vectors
utrap_vectors:
	.long utrap0, utrap1, utrap2, utrap3, utrap4, utrap5, utrap6, utrap7
	.long utrap8, utrap9, utrap10, utrap11, utrap12, utrap13, utrap14, utrap15
	.long utrap16, utrap17, utrap18, utrap19, utrap20, utrap21, utrap22, utrap23
	.long utrap24, utrap25, utrap26, utrap27, utrap28, utrap29, utrap30, utrap31
	.long utrap128

	.section .note.GNU-stack, "", @progbits
