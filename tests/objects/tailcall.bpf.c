// SPDX-License-Identifier: GPL-2.0
/* tailcall.bpf.c — map-in-map and tail calls: a prog array statically
 * initialised with two programs through `.values`, an array of maps
 * initialised with an inner map, and a hash of maps that only declares its
 * inner map template.  The dispatcher tail-calls by EtherType. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct inner_counts {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} counts_a SEC(".maps");

SEC("xdp")
int handle_ipv4(struct xdp_md *ctx);
SEC("xdp")
int handle_ipv6(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, int (void *));
} jump_table SEC(".maps") = {
	.values = {
		[0] = (void *)&handle_ipv4,
		[1] = (void *)&handle_ipv6,
	},
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_counts);
} per_family SEC(".maps") = {
	.values = { [1] = &counts_a },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 16);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 64);
		__type(key, __u64);
		__type(value, __u32);
	});
} per_tenant SEC(".maps");

static __always_inline void bump(__u32 family, __u32 slot)
{
	void *inner = bpf_map_lookup_elem(&per_family, &family);
	__u64 *v;

	if (!inner)
		return;
	v = bpf_map_lookup_elem(inner, &slot);
	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int handle_ipv4(struct xdp_md *ctx)
{
	bump(1, 0);
	return XDP_PASS;
}

SEC("xdp")
int handle_ipv6(struct xdp_md *ctx)
{
	bump(1, 1);
	return XDP_PASS;
}

SEC("xdp")
int dispatch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 tenant = ctx->ingress_ifindex;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (bpf_map_lookup_elem(&per_tenant, &tenant))
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		bpf_tail_call(ctx, &jump_table, 0);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		bpf_tail_call(ctx, &jump_table, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
