// SPDX-License-Identifier: GPL-2.0
/* callbacks.bpf.c — helpers that call back into eBPF, as clang compiles
 * them: bpf_loop and bpf_for_each_map_elem callbacks, a tail call to another
 * program, a program tail-calling itself to the limit, and a tail call from
 * a subprogram.  Results land in .bss; the JIT test runs every program
 * interpreted and native and compares (and `bpfvm run --prog loop1000` is the
 * callback benchmark). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

SEC("xdp")
int tail_work(struct xdp_md *ctx);
SEC("xdp")
int tail_chain(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} jt SEC(".maps") = {
	.values = {
		[0] = (void *)&tail_work,
		[1] = (void *)&tail_chain,
	},
};

__u64 loop_out, each_out, work_out, chain_cnt, sub_out;

struct loop_ctx {
	__u64 acc;
};

static long loop_body(__u64 i, void *data)
{
	struct loop_ctx *c = data;

	c->acc = c->acc * 31 + (i ^ (c->acc >> 7));
	return 0;
}

/* bpf_loop over 1000 iterations of a small body */
SEC("xdp")
int loop1000(struct xdp_md *ctx)
{
	struct loop_ctx c = { .acc = 1 };

	bpf_loop(1000, loop_body, &c, 0);
	loop_out = c.acc;
	return XDP_PASS;
}

static long each_body(void *map, __u32 *key, __u64 *val, void *data)
{
	struct loop_ctx *c = data;

	c->acc += *val * (*key + 1);
	*val += 1;
	return *key == 11;	/* stop after key 11 */
}

SEC("xdp")
int each(struct xdp_md *ctx)
{
	struct loop_ctx c = { .acc = 0 };

	bpf_for_each_map_elem(&vals, each_body, &c, 0);
	each_out = c.acc;
	return XDP_PASS;
}

/* the target: some work of its own */
SEC("xdp")
int tail_work(struct xdp_md *ctx)
{
	__u64 h = 14695981039346656037ull;

	for (int i = 0; i < 64; i++)
		h = (h ^ (__u64)i) * 1099511628211ull;
	work_out = h;
	return XDP_TX;
}

SEC("xdp")
int tail_entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jt, 0);
	return XDP_ABORTED;
}

/* runs 1 + 33 times, then the tail call fails and it returns */
SEC("xdp")
int tail_chain(struct xdp_md *ctx)
{
	chain_cnt++;
	bpf_tail_call(ctx, &jt, 1);
	return XDP_DROP;
}

static __attribute__((noinline)) int sub_tail(struct xdp_md *ctx, __u32 slot)
{
	sub_out += slot + 1;
	bpf_tail_call(ctx, &jt, slot);
	return (int)(sub_out & 7);	/* not a constant clang could fold */
}

/* a tail call from a subprogram: slot 3 is empty, slot 0 is not */
SEC("xdp")
int tail_sub(struct xdp_md *ctx)
{
	int a = sub_tail(ctx, 3);

	return sub_tail(ctx, 0) + a;
}

char _license[] SEC("license") = "GPL";
