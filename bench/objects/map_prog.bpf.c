// SPDX-License-Identifier: GPL-2.0
/* map_prog.bpf.c — map operations from inside a program, for bench/bench_map_prog.c.
 *
 * For each map type (ARRAY, HASH, PERCPU_HASH, LRU_HASH, LPM_TRIE) at 1,024 and
 * 1,048,576 entries, one XDP program does K lookups and one K updates of
 * pseudo-random keys in a bounded loop.  Keys are ((seed + i) * 0x9e3779b1) mod
 * N: a permutation of the key space, with a fresh seed from
 * bpf_get_prandom_u32() per run so a large map is not walked through the same
 * few cache lines every repetition.  The host fills hash maps with keys
 * 0..N-1 (value 1) and the trie with the /32 prefixes {32, 0..N-1}, so every key hits.
 * Each run stores in `result` what it found (see below); `loop_only` is the
 * loop without a map access.
 *
 * Build (from the repository root):
 *   clang -O2 -g -target bpf -mcpu=v3 -c bench/objects/map_prog.bpf.c \
 *         -o bench/objects/map_prog.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define K 1000
#define MUL 0x9e3779b1u

struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

#define MAP(name, t, n, keyt, fl)                                               \
	struct {                                                                \
		__uint(type, t);                                                \
		__uint(max_entries, n);                                         \
		__uint(map_flags, fl);                                          \
		__type(key, keyt);                                              \
		__type(value, __u64);                                           \
	} name SEC(".maps")

MAP(array_1k, BPF_MAP_TYPE_ARRAY, 1024, __u32, 0);
MAP(array_1m, BPF_MAP_TYPE_ARRAY, 1048576, __u32, 0);
MAP(hash_1k, BPF_MAP_TYPE_HASH, 1024, __u32, 0);
MAP(hash_1m, BPF_MAP_TYPE_HASH, 1048576, __u32, 0);
MAP(percpu_hash_1k, BPF_MAP_TYPE_PERCPU_HASH, 1024, __u32, 0);
MAP(percpu_hash_1m, BPF_MAP_TYPE_PERCPU_HASH, 1048576, __u32, 0);
MAP(lru_hash_1k, BPF_MAP_TYPE_LRU_HASH, 1024, __u32, 0);
MAP(lru_hash_1m, BPF_MAP_TYPE_LRU_HASH, 1048576, __u32, 0);
MAP(lpm_trie_1k, BPF_MAP_TYPE_LPM_TRIE, 1024, struct lpm_key, BPF_F_NO_PREALLOC);
MAP(lpm_trie_1m, BPF_MAP_TYPE_LPM_TRIE, 1048576, struct lpm_key, BPF_F_NO_PREALLOC);

/* what the last run found: the sum of the values looked up (the host stores 1
 * in every element, so this is the number of hits), or the sum of the update
 * results (0 when all succeeded).  Sums of unknown values, never counters
 * incremented on a branch: those would be constants that differ on every path
 * and keep the verifier from pruning the 1,000-iteration loop. */
volatile __s64 result;

#define LOOKUP_U32(map, n)                                                      \
	SEC("xdp") int lookup_##map(struct xdp_md *ctx)                         \
	{                                                                       \
		__u32 seed = bpf_get_prandom_u32(); __u64 sum = 0;                   \
		_Pragma("clang loop unroll(disable)")                           \
		for (__u32 i = 0; i < K; i++) {                                 \
			__u32 key = ((seed + i) * MUL) & ((n) - 1);             \
			__u64 *v = bpf_map_lookup_elem(&map, &key);             \
			if (v)                                                  \
				sum += *v;                                      \
		}                                                               \
		result = sum;                                                   \
		return XDP_PASS;                                                \
	}

#define UPDATE_U32(map, n)                                                      \
	SEC("xdp") int update_##map(struct xdp_md *ctx)                         \
	{                                                                       \
		__u32 seed = bpf_get_prandom_u32(); __s64 err = 0;                     \
		_Pragma("clang loop unroll(disable)")                           \
		for (__u32 i = 0; i < K; i++) {                                 \
			__u32 key = ((seed + i) * MUL) & ((n) - 1);             \
			__u64 val = i;                                          \
			err += bpf_map_update_elem(&map, &key, &val, BPF_ANY);   \
		}                                                               \
		result = err;                                                   \
		return XDP_PASS;                                                \
	}

#define LOOKUP_LPM(map, n)                                                      \
	SEC("xdp") int lookup_##map(struct xdp_md *ctx)                         \
	{                                                                       \
		__u32 seed = bpf_get_prandom_u32(); __u64 sum = 0;                   \
		_Pragma("clang loop unroll(disable)")                           \
		for (__u32 i = 0; i < K; i++) {                                 \
			struct lpm_key key = { 32, ((seed + i) * MUL) & ((n) - 1) }; \
			__u64 *v = bpf_map_lookup_elem(&map, &key);             \
			if (v)                                                  \
				sum += *v;                                      \
		}                                                               \
		result = sum;                                                   \
		return XDP_PASS;                                                \
	}

#define UPDATE_LPM(map, n)                                                      \
	SEC("xdp") int update_##map(struct xdp_md *ctx)                         \
	{                                                                       \
		__u32 seed = bpf_get_prandom_u32(); __s64 err = 0;                     \
		_Pragma("clang loop unroll(disable)")                           \
		for (__u32 i = 0; i < K; i++) {                                 \
			struct lpm_key key = { 32, ((seed + i) * MUL) & ((n) - 1) }; \
			__u64 val = i;                                          \
			err += bpf_map_update_elem(&map, &key, &val, BPF_ANY);   \
		}                                                               \
		result = err;                                                   \
		return XDP_PASS;                                                \
	}

#define BOTH_U32(map, n) LOOKUP_U32(map, n) UPDATE_U32(map, n)
#define BOTH_LPM(map, n) LOOKUP_LPM(map, n) UPDATE_LPM(map, n)

BOTH_U32(array_1k, 1024)
BOTH_U32(array_1m, 1048576)
BOTH_U32(hash_1k, 1024)
BOTH_U32(hash_1m, 1048576)
BOTH_U32(percpu_hash_1k, 1024)
BOTH_U32(percpu_hash_1m, 1048576)
BOTH_U32(lru_hash_1k, 1024)
BOTH_U32(lru_hash_1m, 1048576)
BOTH_LPM(lpm_trie_1k, 1024)
BOTH_LPM(lpm_trie_1m, 1048576)

/* the loop and key computation alone, to see what the map access adds */
SEC("xdp") int loop_only(struct xdp_md *ctx)
{
	volatile __u32 sink = 0;
	__u32 seed = bpf_get_prandom_u32();
	_Pragma("clang loop unroll(disable)")
	for (__u32 i = 0; i < K; i++)
		sink = ((seed + i) * MUL) & 1023;
	result = sink;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
