// SPDX-License-Identifier: GPL-2.0
/* pkt_tc.bpf.c — TC (sched_cls) programs for the kernel-differential test
 * (tests/unit/test_kdiff_pkt.c): every readable and writable struct
 * __sk_buff field and every skb helper, driven by parameters p[] the test
 * writes into .bss before each run; results go to res[] (compared after each
 * run), the packet, cb[]/mark/priority (ctx_out) and the return value. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* p[0..7]: parameters, res[0..15]: results (one array: a fixed layout) */
__u64 io[24];
#define p (io)
#define res (io + 8)
/* one 32-bit context load (clang would merge neighbours into an 8-byte load,
 * which the kernel refuses) */
#define RD(ctx, f) (*(volatile __u32 *)&(ctx)->f)

static __always_inline void after(struct __sk_buff *skb, int i)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;

	res[i] = RD(skb, len) | (__u64)RD(skb, protocol) << 32 | (__u64)RD(skb, pkt_type) << 48;
	res[i + 1] = (end - data) | (__u64)RD(skb, vlan_present) << 32 | (__u64)RD(skb, vlan_tci) << 40;
	res[i + 2] = RD(skb, vlan_proto) | (__u64)(data - (void *)(long)skb->data_meta) << 32;
	if (data + 16 <= end)
		res[i + 3] = *(__u64 *)data ^ *(__u64 *)(data + 8);
}

/* every readable field; writes to every writable one */
SEC("tc")
int tc_ctx(struct __sk_buff *skb)
{
	res[0] = RD(skb, len) | (__u64)RD(skb, pkt_type) << 32;
	res[1] = RD(skb, mark) | (__u64)RD(skb, queue_mapping) << 32;
	res[2] = RD(skb, protocol) | (__u64)RD(skb, vlan_present) << 32;
	res[3] = RD(skb, vlan_tci) | (__u64)RD(skb, vlan_proto) << 32;
	res[4] = RD(skb, priority) | (__u64)RD(skb, ingress_ifindex) << 32;
	res[5] = RD(skb, ifindex) | (__u64)RD(skb, tc_index) << 32;
	res[6] = RD(skb, cb[0]) ^ RD(skb, cb[1]) ^ RD(skb, cb[2]) ^ RD(skb, cb[3]) ^ ((__u64)RD(skb, cb[4]) << 32);
	res[7] = RD(skb, hash) | (__u64)RD(skb, tc_classid) << 32;
	res[8] = (skb->data_end - skb->data) | (__u64)(skb->data - skb->data_meta) << 32;
	res[9] = RD(skb, napi_id) | (__u64)RD(skb, wire_len) << 32;
	res[10] = skb->tstamp;
	res[11] = RD(skb, gso_segs) | (__u64)RD(skb, gso_size) << 32;
	res[12] = skb->hwtstamp;
	res[13] = *(__u16 *)((void *)skb + 16) | (__u64)*(__u8 *)((void *)skb + 4) << 32;
	skb->mark = p[0];
	skb->priority = p[1];
	switch (p[2] & 3) {
	case 0: skb->cb[0] = p[3]; break;
	case 1: skb->cb[1] = p[3]; break;
	case 2: skb->cb[2] = p[3]; break;
	default: skb->cb[3] = p[3]; break;
	}
	skb->cb[4] = p[4];
	skb->tstamp = p[5];
	skb->tc_index = p[6];
	skb->tc_classid = p[6] >> 16;
	skb->queue_mapping = p[7] & 0xff;
	return p[7] >> 8;
}

/* loads and stores */
SEC("tc")
int tc_bytes(struct __sk_buff *skb)
{
	__u8 buf[32] = {};

	res[0] = bpf_skb_load_bytes(skb, p[0], buf, 16);
	res[1] = *(__u64 *)buf;
	res[2] = bpf_skb_load_bytes_relative(skb, p[1], buf, 8, p[2] & 3);
	res[3] = *(__u64 *)buf;
	buf[3] ^= 0xa5;
	res[4] = bpf_skb_store_bytes(skb, p[3], buf, 16, p[4] & 7);
	res[5] = bpf_skb_pull_data(skb, p[5]);
	res[6] = bpf_skb_load_bytes(skb, p[0] + 1, buf, 1);
	res[7] = bpf_skb_load_bytes_relative(skb, 2, buf + 8, 24, BPF_HDR_START_NET);
	res[8] = *(__u64 *)(buf + 8);
	after(skb, 9);
	return 0;
}

/* change_tail / change_head / adjust_room / change_proto / change_type */
SEC("tc")
int tc_resize(struct __sk_buff *skb)
{
	for (int i = 0; i < 3; i++) {
		int op = (p[0] >> (4 * i)) & 15;
		long r = 0;
		if (op == 1)
			r = bpf_skb_change_tail(skb, p[1], p[6] & 1);
		else if (op == 2)
			r = bpf_skb_change_head(skb, p[2], p[6] & 2);
		else if (op == 3)
			r = bpf_skb_adjust_room(skb, (int)p[3], p[4] & 3, p[5]);
		else if (op == 4)
			r = bpf_skb_change_proto(skb, p[4] >> 16, 0);
		else if (op == 5)
			r = bpf_skb_change_type(skb, p[4] & 7);
		else if (op == 6)
			r = bpf_skb_adjust_room(skb, -(int)p[3], p[4] & 1, p[5] & 0x1e1);
		res[i] = r;
	}
	after(skb, 3);
	res[7] = RD(skb, pkt_type);
	return 0;
}

/* VLAN tags: p[0] is a sequence of push (1) / pop (2), 2 bits each */
SEC("tc")
int tc_vlan(struct __sk_buff *skb)
{
	for (int i = 0; i < 4; i++) {
		int op = (p[0] >> (2 * i)) & 3;
		long r = 0;
		if (op == 1)
			r = bpf_skb_vlan_push(skb, p[1] >> (16 * i), p[2] >> (16 * i));
		else if (op == 2)
			r = bpf_skb_vlan_pop(skb);
		res[i] = r;
	}
	after(skb, 4);
	return 0;
}

/* checksums and hashes */
SEC("tc")
int tc_csum(struct __sk_buff *skb)
{
	__u32 a[4] = { p[2], p[3], p[2] >> 32, p[3] >> 32 };

	res[0] = bpf_l3_csum_replace(skb, p[0] & 0xffff, p[2], p[3], p[1] & 0xff);
	res[1] = bpf_l4_csum_replace(skb, (p[0] >> 16) & 0xffff, p[2], p[3], (p[1] >> 8) & 0xff);
	res[2] = bpf_csum_diff(a, 8, a + 2, 8, p[4]);
	res[3] = bpf_csum_update(skb, p[4]);
	res[4] = bpf_csum_level(skb, p[5] & 7);
	res[5] = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
	if (p[6] & 1) {
		res[6] = bpf_set_hash(skb, p[6]);
		res[7] = bpf_get_hash_recalc(skb);
		res[8] = RD(skb, hash);
	}
	bpf_set_hash_invalid(skb);
	res[9] = 1;
	res[10] = RD(skb, hash);
	after(skb, 11);
	return 0;
}

/* redirects and tunnels */
SEC("tc")
int tc_redir(struct __sk_buff *skb)
{
	struct bpf_tunnel_key key = {};
	struct bpf_redir_neigh nh = {};

	res[0] = bpf_skb_get_tunnel_key(skb, &key, sizeof(key), 0);
	res[1] = key.tunnel_id;
	if (p[3] & 1)
		res[2] = bpf_redirect_neigh(p[1], &nh, sizeof(nh), p[2] & 1);
	else
		res[2] = bpf_redirect_neigh(p[1], 0, 0, p[2] & 1);
	res[3] = bpf_redirect_peer(p[1], p[2] & 2);
	switch (p[0] & 3) {
	case 0:
		return bpf_redirect(p[1], p[2]);
	case 1:
		return bpf_redirect(p[1], 0);
	default:
		return p[0] >> 2;
	}
}

char LICENSE[] SEC("license") = "GPL";
