/* algos.h — the compute benchmarks' algorithms, written once for two compilers.
 *
 * bench/jit/compute.bpf.c includes this under clang -target bpf, where each
 * algorithm is inlined into an XDP program that the kernel and bpfvm both run;
 * bench/jit/native.c includes it under gcc -O2 for the native column, where
 * each algorithm is an out-of-line function.  So the three columns run one
 * source.  The includer defines TABLE_LOOKUP(keyp): bpf_map_lookup_elem on the
 * `table` ARRAY map, or its C equivalent (NULL for a key >= TABLE_N).
 *
 * Shapes: a tight ALU loop, two hashes, a checksum, array indexing (sieve), a
 * sort, a branchy parser, a bpf-to-bpf call per element, and a map lookup per
 * element.  Every loop has a constant trip count the verifier can walk (it
 * tracks each iteration: trip count x body stays well under its 1M-instruction
 * budget); memory is indexed by the loop counter within the buffers below.
 */
#ifndef BENCH_JIT_ALGOS_H
#define BENCH_JIT_ALGOS_H

#ifdef __bpf__
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
#define ALGO static __always_inline	/* inlined into its XDP program */
#define SUBFN static __attribute__((noinline))
#define NO_UNROLL _Pragma("clang loop unroll(disable)")
#else
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#define ALGO __attribute__((noinline))	/* one function per benchmark */
#define SUBFN static __attribute__((noinline))
#define NO_UNROLL
#endif
/* keeps a store loop a loop (clang -target bpf cannot call memset) */
#define STORE_BARRIER() __asm__ volatile("" ::: "memory")

#include "list.h"

/* a 64-bit LCG step and sum of its top bits: no memory, 5 ALU ops */
ALGO u64 algo_loop_sum(u8 *in)
{
	u64 x = *(const u64 *)in, s = 0;
	NO_UNROLL
	for (u32 i = 0; i < LOOP_N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		s += x >> 40;
	}
	return s;
}

/* FNV-1a over FNV_N bytes: a load, xor and multiply per byte */
ALGO u64 algo_fnv1a(u8 *in)
{
	u64 h = 0xcbf29ce484222325ull;
	NO_UNROLL
	for (u32 i = 0; i < FNV_N; i++) {
		h ^= in[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* MurmurHash64A's inner loop over MURMUR_WORDS words */
ALGO u64 algo_murmur(u8 *in)
{
	const u64 m = 0xc6a4a7935bd1e995ull;
	const u64 *w = (const u64 *)in;
	u64 h = 0x9e3779b97f4a7c15ull ^ (MURMUR_WORDS * 8 * m);
	NO_UNROLL
	for (u32 i = 0; i < MURMUR_WORDS; i++) {
		u64 k = w[i];
		k *= m;
		k ^= k >> 47;
		k *= m;
		h ^= k;
		h *= m;
	}
	h ^= h >> 47;
	h *= m;
	return h ^ (h >> 47);
}

/* the Internet checksum (RFC 1071) of CSUM_WORDS 32-bit words: a 64-bit
 * accumulator, folded at the end */
ALGO u64 algo_checksum(u8 *in)
{
	const u32 *w = (const u32 *)in;
	u64 s = 0;
	NO_UNROLL
	for (u32 i = 0; i < CSUM_WORDS; i++)
		s += w[i];
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* primes below SIEVE_N: clear a byte array, then strike out multiples */
ALGO u64 algo_sieve(u8 *flags)
{
	u64 *words = (u64 *)flags;
	u64 count = 0;
	NO_UNROLL
	for (u32 i = 0; i < SIEVE_N / 8; i++) {
		words[i] = 0;
		STORE_BARRIER();
	}
	NO_UNROLL
	for (u32 i = 2; i < SIEVE_N; i++) {
		if (flags[i])
			continue;
		count += i;
		NO_UNROLL
		for (u32 j = i * i; j < SIEVE_N; j += i)
			flags[j] = 1;
	}
	return count;
}

/* bubble sort of SORT_N 32-bit numbers on the stack (an LCG seeded from the
 * input), then a weighted sum.  The compare-exchange is branch-free: the
 * kernel's verifier cannot prune the two sides of a data-dependent swap
 * inside a loop (the states differ in the ranges the compare gave), so a
 * branching one would not load for any useful size. */
ALGO u64 algo_bubble(u8 *in)
{
	u32 a[SORT_N];
	u32 x = *(const u32 *)in;
	NO_UNROLL
	for (u32 i = 0; i < SORT_N; i++) {
		x = x * 1103515245u + 12345u;
		a[i] = x;
	}
	NO_UNROLL
	for (u32 len = SORT_N - 1; len != 0; len--) {
		NO_UNROLL
		for (u32 j = 0; j < len; j++) {
			u64 u = a[j], v = a[j + 1];
			u64 d = (u ^ v) & -((v - u) >> 63);	/* u ^ v when u > v, else 0 */
			a[j] = (u32)(u ^ d);
			a[j + 1] = (u32)(v ^ d);
		}
	}
	u64 s = 0;
	NO_UNROLL
	for (u32 i = 0; i < SORT_N; i++)
		s += (u64)a[i] * (i + 1);
	return s;
}

/* a tokenizer over TEXT_SZ bytes of text: sums the numbers, hashes the words,
 * counts the lines: a data-dependent branch or two per byte */
ALGO u64 algo_parse(u8 *text)
{
	u64 num = 0, sum = 0, words = 0, hash = 0, lines = 0;
	NO_UNROLL
	for (u32 i = 0; i < TEXT_SZ; i++) {
		u32 c = text[i];
		if (c - '0' < 10) {
			num = num * 10 + (c - '0');
		} else {
			sum += num;
			num = 0;
			if ((c | 0x20) - 'a' < 26) {
				hash = (hash ^ c) * 0x100000001b3ull;
			} else if (c == '\n') {
				lines++;
			} else if (c == ' ' || c == ',') {
				words += hash & 0xff;
				hash = 0;
			}
		}
	}
	return sum + num + (words << 20) + (lines << 40);
}

/* one mixing step, deliberately out of line: a bpf-to-bpf call */
SUBFN u64 mix(u64 h, u64 k)
{
	k *= 0x87c37b91114253d5ull;
	k = (k << 31) | (k >> 33);
	k *= 0x4cf5ad432745937full;
	h ^= k;
	return ((h << 27) | (h >> 37)) * 5 + 0x52dce729;
}

/* a call per word over CALL_WORDS words */
ALGO u64 algo_calls(u8 *in)
{
	const u64 *w = (const u64 *)in;
	u64 h = 0;
	NO_UNROLL
	for (u32 i = 0; i < CALL_WORDS; i++)
		h = mix(h, w[i]);
	return h;
}

/* a `table` lookup per input byte pair: the key is 10 bits of input */
ALGO u64 algo_lookup(u8 *in)
{
	u64 s = 0;
	NO_UNROLL
	for (u32 i = 0; i < LOOKUP_N; i++) {
		u32 key = (in[2 * i] | (u32)in[2 * i + 1] << 8) & (TABLE_N - 1);
		u64 *v = TABLE_LOOKUP(&key);
		if (v)
			s += *v;
	}
	return s;
}

#endif
