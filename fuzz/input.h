/*
 * Reading a fuzzer's input: bytes taken from the front, zero once it is
 * used up (so that every input decodes to something, and a shorter input
 * is a prefix of a longer one's meaning).
 */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct input {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t in_u8(struct input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t in_u16(struct input *in)
{
	uint16_t lo = in_u8(in);
	return (uint16_t)(lo | in_u8(in) << 8);
}

static inline uint32_t in_u32(struct input *in)
{
	uint32_t lo = in_u16(in);
	return lo | (uint32_t)in_u16(in) << 16;
}

/* Up to n bytes into buf (the rest zero); returns how many were taken. */
static inline size_t in_bytes(struct input *in, void *buf, size_t n)
{
	size_t k = n < in->left ? n : in->left;
	memcpy(buf, in->p, k);
	memset((uint8_t *)buf + k, 0, n - k);
	in->p += k;
	in->left -= k;
	return k;
}

#endif
