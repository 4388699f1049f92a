// SPDX-License-Identifier: GPL-2.0
/* pkt_sock.bpf.c — socket filter and cgroup skb programs for the
 * kernel-differential test (tests/unit/test_kdiff_pkt.c): the fields each may
 * read, ld_abs/ld_ind, skb_load_bytes(_relative), cb[]/mark/priority writes,
 * and return values that exercise the "bytes to keep" rule. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* p[0..7]: parameters, res[0..15]: results (one array: a fixed layout) */
__u64 io[24];
#define p (io)
#define res (io + 8)
/* one 32-bit context load (clang would merge neighbours into an 8-byte load,
 * which the kernel refuses) */
#define RD(ctx, f) (*(volatile __u32 *)&(ctx)->f)

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int sock_filter(struct __sk_buff *skb)
{
	__u8 buf[8] = {};

	res[0] = RD(skb, len) | (__u64)RD(skb, pkt_type) << 32;
	res[1] = RD(skb, mark) | (__u64)RD(skb, queue_mapping) << 32;
	res[2] = RD(skb, protocol) | (__u64)RD(skb, vlan_present) << 32;
	res[3] = RD(skb, priority) | (__u64)RD(skb, ingress_ifindex) << 32;
	res[4] = RD(skb, ifindex) | (__u64)RD(skb, hash) << 32;
	res[5] = RD(skb, cb[0]) ^ RD(skb, cb[4]);
	res[6] = RD(skb, gso_segs) | (__u64)RD(skb, gso_size) << 32;
	res[7] = bpf_skb_load_bytes(skb, p[0], buf, 4);
	res[8] = *(__u64 *)buf;
	res[9] = bpf_skb_load_bytes_relative(skb, p[1], buf, 8, p[2] & 1);
	res[10] = *(__u64 *)buf;
	skb->cb[1] = p[4];
	skb->cb[3] = p[4] ^ p[3];
	return p[5];
}

SEC("socket")
int sock_ldabs(struct __sk_buff *skb)
{
	__u64 a = load_byte(skb, 0);

	a += load_half(skb, 2) << 8;
	a += load_word(skb, p[0] & 63) << 24;
	res[0] = a;
	return RD(skb, len) - (p[1] & 15);
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

	res[0] = RD(skb, len) | (__u64)RD(skb, pkt_type) << 32;
	res[1] = RD(skb, protocol) | (__u64)RD(skb, ifindex) << 32;
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
