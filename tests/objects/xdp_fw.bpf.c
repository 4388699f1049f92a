// SPDX-License-Identifier: GPL-2.0
/* xdp_fw.bpf.c — a small XDP firewall: drops IPv4 packets whose source address
 * is in a blocklist, counts verdicts per action, and remembers recently seen
 * sources in a bloom filter.  Exercises BTF map definitions of several kinds
 * (hash with flags and pinning, per-CPU array, bloom filter with map_extra,
 * LRU hash with numa_node, a perf event array given by sizes only). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct verdict_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);			/* IPv4 source, network order */
	__type(value, __u8);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} blocklist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct verdict_stats);
	__uint(max_entries, 5);			/* XDP_ABORTED .. XDP_REDIRECT */
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__type(value, __u32);
	__uint(max_entries, 4096);
	__uint(map_extra, 3);			/* number of hash functions */
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
	__uint(numa_node, 0);
} last_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

static __always_inline int account(struct xdp_md *ctx, __u32 action)
{
	struct verdict_stats *st = bpf_map_lookup_elem(&stats, &action);

	if (st) {
		st->packets++;
		st->bytes += ctx->data_end - ctx->data;
	}
	return action;
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 saddr;
	__u64 now;

	if ((void *)(eth + 1) > data_end)
		return account(ctx, XDP_PASS);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return account(ctx, XDP_PASS);
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return account(ctx, XDP_DROP);

	saddr = ip->saddr;
	if (bpf_map_lookup_elem(&blocklist, &saddr))
		return account(ctx, XDP_DROP);

	bpf_map_push_elem(&seen, &saddr, BPF_ANY);
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&last_seen, &saddr, &now, BPF_ANY);
	if (ip->ttl <= 1)
		bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &saddr, sizeof(saddr));
	return account(ctx, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
