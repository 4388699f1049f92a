// SPDX-License-Identifier: GPL-2.0
/* xdp_firewall.bpf.c — the demo program: a small XDP firewall.
 *
 * Drops frames shorter than an Ethernet header, IPv4 packets whose source
 * address matches a prefix in the `blocklist` LPM trie, and (when the host
 * sets cfg_drop_icmp before load) ICMP; passes everything else.  Counts
 * packets and bytes per flow (5-tuple) in the `flows` LRU hash and per
 * verdict in the per-CPU `verdicts` array.  Handles one 802.1Q tag.
 *
 * Build: clang -O2 -g -target bpf -mcpu=v3 -c xdp_firewall.bpf.c
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct lpm_v4 {
	__u32 prefixlen;
	__u32 addr;		/* network byte order */
};

struct flow {
	__u32 saddr, daddr;	/* network byte order */
	__u16 sport, dport;	/* network byte order */
	__u8 proto;
	__u8 pad[3];
};

struct counters {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct lpm_v4);
	__type(value, __u8);
} blocklist SEC(".maps");

/* FIREWALL_PERCPU_FLOWS counts each flow per CPU (LRU_PERCPU_HASH, plain adds)
 * instead of in one shared value with atomic adds: how one writes it for many
 * CPUs; bench/objects/xdp_firewall_pcpu.bpf.c builds the demo that way. */
#ifdef FIREWALL_PERCPU_FLOWS
#define FLOWS_TYPE BPF_MAP_TYPE_LRU_PERCPU_HASH
#define FLOW_ADD(p, v) (*(p) += (v))
#else
#define FLOWS_TYPE BPF_MAP_TYPE_LRU_HASH
#define FLOW_ADD(p, v) __sync_fetch_and_add((p), (v))
#endif

struct {
	__uint(type, FLOWS_TYPE);
	__uint(max_entries, 16384);
	__type(key, struct flow);
	__type(value, struct counters);
} flows SEC(".maps");

enum { V_PASS, V_DROP_RUNT, V_DROP_BLOCKED, V_DROP_ICMP, V_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, V_MAX);
	__type(key, __u32);
	__type(value, struct counters);
} verdicts SEC(".maps");

const volatile __u8 cfg_drop_icmp = 0;

static __always_inline int count(__u32 verdict, __u64 len, int action)
{
	struct counters *c = bpf_map_lookup_elem(&verdicts, &verdict);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
	return action;
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u16 proto;
	void *l3;

	if ((void *)(eth + 1) > data_end)
		return count(V_DROP_RUNT, len, XDP_DROP);
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		__u16 *tag = l3;

		if ((void *)(tag + 2) > data_end)
			return count(V_DROP_RUNT, len, XDP_DROP);
		proto = tag[1];
		l3 = tag + 2;
	}
	if (proto != bpf_htons(ETH_P_IP))
		return count(V_PASS, len, XDP_PASS);
	ip = l3;
	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return count(V_DROP_RUNT, len, XDP_DROP);

	struct lpm_v4 key = { .prefixlen = 32, .addr = ip->saddr };
	if (bpf_map_lookup_elem(&blocklist, &key))
		return count(V_DROP_BLOCKED, len, XDP_DROP);
	if (cfg_drop_icmp && ip->protocol == IPPROTO_ICMP)
		return count(V_DROP_ICMP, len, XDP_DROP);

	struct flow f = { .saddr = ip->saddr, .daddr = ip->daddr, .proto = ip->protocol };
	void *l4 = (void *)ip + ip->ihl * 4;
	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		struct udphdr *ports = l4;	/* both start with the two ports */

		if ((void *)(ports + 1) <= data_end) {
			f.sport = ports->source;
			f.dport = ports->dest;
		}
	}
	struct counters *c = bpf_map_lookup_elem(&flows, &f);
	if (c) {
		FLOW_ADD(&c->packets, 1);
		FLOW_ADD(&c->bytes, len);
	} else {
		struct counters init = { 1, len };
		bpf_map_update_elem(&flows, &f, &init, BPF_NOEXIST);
	}
	return count(V_PASS, len, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
