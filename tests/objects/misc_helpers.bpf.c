// SPDX-License-Identifier: GPL-2.0
/* misc_helpers.bpf.c — one XDP program touching what other test objects do
 * not: .kconfig externs, the bpf_for iterator kfuncs, bpf_loop with a
 * callback, a subprogram taking pointers to the caller's stack, snprintf /
 * strtol / strncmp, queue / stack / bloom filter maps, for_each_map_elem,
 * perf_event_output, and the time / CPU / random helpers.  Results land in
 * .bss so the host can check them after a run. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef __kconfig
#define __kconfig __attribute__((section(".kconfig")))
#endif
#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif

struct bpf_iter_num_ {
	__u64 opaque[1];
} __attribute__((aligned(8)));

extern int bpf_iter_num_new(struct bpf_iter_num_ *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num_ *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num_ *it) __ksym;

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig __attribute__((weak));

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u32);
} fifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 8);
	__type(value, __u32);
} lifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
	__uint(map_extra, 3);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} nums SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} events SEC(".maps");

__u32 kver, hz;
__u64 iter_sum, loop_sum, each_sum, pair_sum;
__u32 fifo_first, lifo_first, bloom_hit, bloom_miss;
long parsed, cmp_eq, cmp_ne, printed_len;
char printed[32];
__u32 cpu, rnd_nonzero, time_nonzero;

static const char number[] = "  -1234xyz";
static const char word[] = "bpfvm";

struct pair {
	__u64 a, b;
};

static __attribute__((noinline)) __u64 add_pair(struct pair *p, __u64 *out)
{
	*out = p->a + p->b;
	return *out * 2;
}

static long loop_cb(__u32 i, void *ctx)
{
	__u64 *sum = ctx;

	*sum += i;
	return i == 9; /* stop after index 9 */
}

static long each_cb(void *map, __u32 *key, __u64 *val, void *ctx)
{
	*(__u64 *)ctx += *key * 100 + *val;
	return 0;
}

SEC("xdp")
int misc(struct xdp_md *ctx)
{
	struct bpf_iter_num_ it;
	int *v;
	__u64 s = 0, out = 0;
	__u32 x;

	kver = LINUX_KERNEL_VERSION;
	hz = CONFIG_HZ;

	bpf_iter_num_new(&it, 0, 5);
	while ((v = bpf_iter_num_next(&it)))
		s += *v;
	bpf_iter_num_destroy(&it);
	iter_sum = s;	/* 0+1+2+3+4 */

	s = 0;
	bpf_loop(100, loop_cb, &s, 0);
	loop_sum = s;	/* 0..9 */

	struct pair p = { 40, 2 };
	pair_sum = add_pair(&p, &out) + out;	/* 84 + 42 */

	for (__u32 k = 0; k < 4; k++) {
		__u64 val = k + 1;
		bpf_map_update_elem(&nums, &k, &val, BPF_ANY);
	}
	s = 0;
	bpf_for_each_map_elem(&nums, each_cb, &s, 0);
	each_sum = s;	/* sum k*100 + (k+1) */

	/* (a loop pushing &x would reload x from the stack after each call and
	 * lose its bound: unrolled, as the kernel's verifier needs it too) */
	__u32 one = 1, two = 2, three = 3;
	bpf_map_push_elem(&fifo, &one, 0);
	bpf_map_push_elem(&lifo, &one, 0);
	bpf_map_push_elem(&fifo, &two, 0);
	bpf_map_push_elem(&lifo, &two, 0);
	bpf_map_push_elem(&fifo, &three, 0);
	bpf_map_push_elem(&lifo, &three, 0);
	bpf_map_pop_elem(&fifo, &fifo_first);	/* 1 */
	bpf_map_pop_elem(&lifo, &lifo_first);	/* 3 */
	x = 77;
	bpf_map_push_elem(&seen, &x, 0);
	bloom_hit = bpf_map_peek_elem(&seen, &x) == 0;
	x = 78;
	bloom_miss = bpf_map_peek_elem(&seen, &x) != 0;	/* almost surely */

	bpf_strtol(number, sizeof(number), 0, &parsed);	/* -1234 */
	cmp_eq = bpf_strncmp(word, sizeof(word), "bpfvm");
	cmp_ne = bpf_strncmp(word, sizeof(word), "bpfvn");
	__u64 args[2] = { 7, 0x2a };
	printed_len = bpf_snprintf(printed, sizeof(printed), "n=%d h=%x", args, sizeof(args));

	cpu = bpf_get_smp_processor_id();
	time_nonzero = bpf_ktime_get_ns() != 0;
	rnd_nonzero = (bpf_get_prandom_u32() | bpf_get_prandom_u32()) != 0;

	struct pair ev = { 0xabcdef, iter_sum };
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &ev, sizeof(ev));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
