/* list.h — the compute benchmarks by name and their sizes, for the three
 * files that need them: algos.h (the algorithms), compute.bpf.c (one XDP
 * program per benchmark) and bench/bench_jit.c (the host side, which fills
 * the maps and declares the native functions).
 *
 * JIT_BENCHES(X) calls X(name, map) for each benchmark: algo_<name>() runs
 * over the value of ARRAY map <map> (one element), and the XDP program is
 * bench_<name>.
 */
#ifndef BENCH_JIT_LIST_H
#define BENCH_JIT_LIST_H

#define JIT_BENCHES(X)		\
	X(loop_sum, input)	\
	X(fnv1a, input)		\
	X(murmur, input)	\
	X(checksum, input)	\
	X(sieve, scratch)	\
	X(bubble, input)	\
	X(parse, text)		\
	X(calls, input)		\
	X(lookup, input)

/* Sizes: both verifiers walk every loop iteration (bounded loops), so trip
 * count x body stays under the 1M-instruction budget, and a loop with a
 * data-dependent branch leaves one pending jump per iteration on the first
 * path it follows (limit 8,192): parse, sieve and bubble are kept small. */
#define INPUT_SZ 65536		/* the `input` map's value: pseudo-random bytes */
#define TEXT_SZ 4096		/* the `text` map's value: ASCII words and numbers */
#define SCRATCH_SZ 4096		/* the `scratch` map's value: sieve flags */
#define TABLE_N 1024		/* the `table` map: TABLE_N u64 values */

#define LOOP_N 32768
#define FNV_N 16384
#define CSUM_WORDS 8192		/* 32 KiB */
#define MURMUR_WORDS 8192	/* 64 KiB */
#define SIEVE_N SCRATCH_SZ
#define SORT_N 96
#define CALL_WORDS 4096
#define LOOKUP_N 4096

#endif
