/*
 * xorshift64* for the unit tests: fixed seeds, so the random tests are
 * the same every run.
 */
#ifndef TESTS_RNG_H
#define TESTS_RNG_H

#include <stdint.h>

static uint64_t rng_state;

static inline void rng_seed(uint64_t seed)
{
	rng_state = seed;
}

/* A number in [0, n). */
static inline uint32_t rng_below(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32) % n;
}

#endif
