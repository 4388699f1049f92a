/* native.c — the compute benchmarks' algorithms as native code, for the
 * "native" column of bench/bench_jit.c.
 *
 * Compiled on its own with -O2 (the Makefile's bench rule), whatever the
 * project's CFLAGS: algos.h makes each algo_<name>() an out-of-line function
 * here.  The `table` map becomes jit_native_table, filled by the bench with
 * the map's contents; a lookup past its end gives NULL, as the map would.
 */
#include <stddef.h>
#include <stdint.h>

uint64_t jit_native_table[1024];

static inline uint64_t *native_lookup(const uint32_t *key)
{
	return *key < sizeof(jit_native_table) / sizeof(jit_native_table[0]) ? &jit_native_table[*key]
									      : NULL;
}

#define TABLE_LOOKUP(keyp) native_lookup(keyp)
#include "algos.h"

_Static_assert(TABLE_N == sizeof(jit_native_table) / sizeof(jit_native_table[0]), "table size");
