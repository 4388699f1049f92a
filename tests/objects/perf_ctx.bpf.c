// SPDX-License-Identifier: GPL-2.0
/* perf_ctx.bpf.c — bpf_perf_event_output with BPF_F_CTXLEN_MASK for
 * tests/unit/test_perf_ctx.c: each program sends a small header followed by
 * as many packet bytes as the flags' upper 32 bits ask (the skb and XDP
 * variants of the helper), and stores the helper's result in res.  The test
 * writes the flags into params[0] before each run. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__s64 res;

struct hdr {
	__u32 magic;
	__u32 len;	/* the packet length the program saw */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} params SEC(".maps");

static __always_inline __u64 flags(void)
{
	__u32 k = 0;
	__u64 *f = bpf_map_lookup_elem(&params, &k);

	return f ? *f : 0;
}

SEC("xdp.frags")
int xdp_out(struct xdp_md *ctx)
{
	struct hdr h = { 0x58445021, (__u32)bpf_xdp_get_buff_len(ctx) };

	res = bpf_perf_event_output(ctx, &events, flags(), &h, sizeof(h));
	return XDP_PASS;
}

SEC("tc")
int tc_out(struct __sk_buff *skb)
{
	struct hdr h = { 0x54432121, skb->len };

	res = bpf_perf_event_output(skb, &events, flags(), &h, sizeof(h));
	return 0;
}

SEC("socket")
int sock_out(struct __sk_buff *skb)
{
	struct hdr h = { 0x534f4321, skb->len };

	res = bpf_perf_event_output(skb, &events, flags(), &h, sizeof(h));
	return skb->len;
}

SEC("kprobe/do_nanosleep")
int kprobe_out(void *ctx)
{
	struct hdr h = { 0x4b505221, 0 };

	res = bpf_perf_event_output(ctx, &events, flags(), &h, sizeof(h));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
