// SPDX-License-Identifier: GPL-2.0
/* pkt_sock.bpf.c — socket filter and cgroup skb programs for the
 * kernel-differential test (tests/unit/test_kdiff_pkt.c): the fields each may
 * read, ld_abs/ld_ind, skb_load_bytes(_relative), cb[]/mark/priority writes,
 * and return values that exercise the "bytes to keep" rule. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 p[8];
__u64 res[16];

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int sock_filter(struct __sk_buff *skb)
{
	__u8 buf[8] = {};

	res[0] = skb->len | (__u64)skb->pkt_type << 32;
	res[1] = skb->mark | (__u64)skb->queue_mapping << 32;
	res[2] = skb->protocol | (__u64)skb->vlan_present << 32;
	res[3] = skb->priority | (__u64)skb->ingress_ifindex << 32;
	res[4] = skb->ifindex | (__u64)skb->hash << 32;
	res[5] = skb->cb[0] ^ skb->cb[4];
	res[6] = skb->gso_segs | (__u64)skb->gso_size << 32;
	res[7] = bpf_skb_load_bytes(skb, p[0], buf, 4);
	res[8] = *(__u64 *)buf;
	res[9] = bpf_skb_load_bytes_relative(skb, p[1], buf, 8, p[2] & 1);
	res[10] = *(__u64 *)buf;
	skb->cb[p[3] & 3] = p[4];
	return p[5];
}

SEC("socket")
int sock_ldabs(struct __sk_buff *skb)
{
	__u64 a = load_byte(skb, 0);

	a += load_half(skb, 2) << 8;
	a += load_word(skb, p[0] & 63) << 24;
	res[0] = a;
	return skb->len - (p[1] & 15);
}

SEC("socket")
int sock_ldind(struct __sk_buff *skb)
{
	__u64 off = p[0] & 0x7f;

	res[0] = load_byte(skb, off);
	res[1] = load_half(skb, off + 1);
	res[2] = load_word(skb, off + 3);
	return res[0] + res[1] + res[2];
}

SEC("cgroup_skb/ingress")
int cg_skb(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;

	res[0] = skb->len | (__u64)skb->pkt_type << 32;
	res[1] = skb->protocol | (__u64)skb->ifindex << 32;
	res[2] = end - data;
	if (data + 8 <= end)
		res[3] = *(__u64 *)data;
	res[4] = skb->tstamp;
	skb->mark = p[0];
	skb->priority = p[1];
	skb->cb[1] = p[2];
	return p[3] & 1;
}

char LICENSE[] SEC("license") = "GPL";
