// SPDX-License-Identifier: GPL-2.0
/* compute.bpf.c — the compute benchmarks of bench/bench_jit.c as XDP programs
 * that the kernel and bpfvm both load.
 *
 * One program per algorithm of algos.h (named bench_<algo>); each finds its
 * data in ARRAY map values the host fills (the packet is ignored), stores the
 * algorithm's 64-bit result in the global `result` and returns XDP_PASS.  The
 * result goes to memory, not to r0, so the verifier need not track it
 * precisely (which would keep it from pruning the loops).
 *
 * Build (from the repository root): sh bench/jit/build.sh
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ARRAY1(name, bytes)                                                     \
	struct {                                                                \
		__uint(type, BPF_MAP_TYPE_ARRAY);                               \
		__uint(max_entries, 1);                                         \
		__type(key, __u32);                                             \
		__type(value, __u8[bytes]);                                     \
	} name SEC(".maps")

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} table SEC(".maps");

#define TABLE_LOOKUP(keyp) ((__u64 *)bpf_map_lookup_elem(&table, keyp))
#include "algos.h"

ARRAY1(input, INPUT_SZ);
ARRAY1(text, TEXT_SZ);
ARRAY1(scratch, SCRATCH_SZ);

volatile __u64 result;

/* an XDP program running algo_<name> over map `map`'s value */
#define BENCH(name, map)                                                        \
	SEC("xdp") int bench_##name(struct xdp_md *ctx)                         \
	{                                                                       \
		__u32 zero = 0;                                                 \
		__u8 *p = bpf_map_lookup_elem(&map, &zero);                     \
		if (!p)                                                         \
			return XDP_ABORTED;                                     \
		result = algo_##name(p);                                        \
		return XDP_PASS;                                                \
	}

JIT_BENCHES(BENCH)

char LICENSE[] SEC("license") = "GPL";
