// SPDX-License-Identifier: GPL-2.0
/* tc_prio.bpf.c — TC classifiers that mark traffic by IP protocol and keep
 * per-protocol byte counters under a bpf_spin_lock.  Two programs: the
 * legacy SEC("tc") form and the tcx SEC("tcx/ingress") form. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct proto_counter {
	__u64 packets;
	struct bpf_spin_lock lock;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u8);
	__type(value, struct proto_counter);
	__uint(max_entries, 256);
} proto_bytes SEC(".maps");

static __always_inline int ip_proto(struct __sk_buff *skb)
{
	__u8 proto;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return -1;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + 9, &proto, 1) < 0)
		return -1;
	return proto;
}

SEC("tc")
int tc_mark(struct __sk_buff *skb)
{
	int proto = ip_proto(skb);

	if (proto == IPPROTO_TCP)
		skb->priority = 1;
	else if (proto == IPPROTO_UDP)
		skb->priority = 2;
	skb->mark = proto < 0 ? 0 : proto;
	return TC_ACT_OK;
}

SEC("tcx/ingress")
int tc_count(struct __sk_buff *skb)
{
	struct proto_counter init = {}, *c;
	int proto = ip_proto(skb);
	__u8 key;

	if (proto < 0)
		return TC_ACT_OK;
	key = proto;
	c = bpf_map_lookup_elem(&proto_bytes, &key);
	if (!c) {
		bpf_map_update_elem(&proto_bytes, &key, &init, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&proto_bytes, &key);
		if (!c)
			return TC_ACT_OK;
	}
	bpf_spin_lock(&c->lock);
	c->packets++;
	c->bytes += skb->len;
	bpf_spin_unlock(&c->lock);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
