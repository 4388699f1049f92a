// SPDX-License-Identifier: GPL-2.0
/* pkt_xdp.bpf.c — XDP programs for the kernel-differential test
 * (tests/unit/test_kdiff_pkt.c): every struct xdp_md field and every XDP
 * packet helper, driven by parameters p[] the test writes into .bss before
 * each run; results go to res[] (compared after each run), the packet and
 * the return value. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* p[0..7]: parameters, res[0..15]: results (one array: a fixed layout) */
__u64 io[24];
#define p (io)
#define res (io + 8)
/* one 32-bit context load (clang would merge neighbours into an 8-byte load,
 * which the kernel refuses) */
#define RD(ctx, f) (*(volatile __u32 *)&(ctx)->f)

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 8);
} devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 8);
} devhash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 4);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 4);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
} seen SEC(".maps");

/* every field, and the packet's first bytes */
SEC("xdp")
int xdp_ctx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	void *meta = (void *)(long)ctx->data_meta;
	__u32 key = ctx->data_end - ctx->data;

	res[0] = ctx->data_end - ctx->data;
	res[1] = ctx->data - ctx->data_meta;
	res[2] = ctx->ingress_ifindex;
	res[3] = ctx->rx_queue_index;
	res[4] = bpf_xdp_get_buff_len(ctx);
	if (data + 14 <= end) {
		res[5] = *(__u64 *)data;
		res[6] = *(__u16 *)(data + 12);
		((__u8 *)data)[0] ^= (__u8)p[0];
	}
	if (meta + 4 <= data)
		res[7] = *(__u32 *)meta;
	res[8] = (__u64)bpf_map_update_elem(&seen, &key, &p[1], BPF_ANY);
	return p[2];
}

/* bpf_xdp_adjust_head / _meta / _tail in the order p[3] says */
SEC("xdp")
int xdp_adjust(struct xdp_md *ctx)
{
	int order = p[3];

	for (int i = 0; i < 3; i++) {
		int which = (order >> (2 * i)) & 3;
		long r;
		if (which == 0)
			r = bpf_xdp_adjust_head(ctx, (int)p[0]);
		else if (which == 1)
			r = bpf_xdp_adjust_meta(ctx, (int)p[1]);
		else
			r = bpf_xdp_adjust_tail(ctx, (int)p[2]);
		res[i] = r;
	}
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	void *meta = (void *)(long)ctx->data_meta;
	res[3] = end - data;
	res[4] = data - meta;
	res[5] = bpf_xdp_get_buff_len(ctx);
	if (meta + 8 <= data) {
		res[6] = *(__u64 *)meta;
		*(__u32 *)meta = 0xfeedbeef;
	}
	if (data + 16 <= end) {
		res[7] = *(__u64 *)data;
		res[8] = *(__u64 *)(data + 8);
	}
	return 2;
}

/* bpf_xdp_load_bytes / _store_bytes across fragments */
SEC("xdp")
int xdp_bytes(struct xdp_md *ctx)
{
	__u8 buf[64] = {};
	__u32 n = p[2] & 63;

	if (n == 0)
		n = 1;
	res[0] = bpf_xdp_load_bytes(ctx, p[0], buf, n);
	res[1] = *(__u64 *)buf;
	res[2] = *(__u64 *)(buf + 56);
	buf[0] ^= 0x5a;
	res[3] = bpf_xdp_store_bytes(ctx, p[1], buf, n);
	res[4] = bpf_xdp_load_bytes(ctx, p[0], buf, 64);
	res[5] = bpf_xdp_store_bytes(ctx, p[3], buf, 9);
	res[6] = bpf_xdp_get_buff_len(ctx);
	return 2;
}

/* redirects: p[0] picks the helper, p[1] the ifindex/key, p[2] the flags */
SEC("xdp")
int xdp_redir(struct xdp_md *ctx)
{
	switch (p[0] & 7) {
	case 0:
		return bpf_redirect(p[1], p[2]);
	case 1:
		return bpf_redirect_map(&devs, p[1], p[2]);
	case 2:
		return bpf_redirect_map(&devhash, p[1], p[2]);
	case 3:
		return bpf_redirect_map(&cpus, p[1], p[2]);
	case 4:
		return bpf_redirect_map(&xsks, p[1], p[2]);
	default:
		res[0] = bpf_redirect(p[1], 0);
		res[1] = bpf_redirect_map(&devs, p[1] + 1, 2);
		return res[1];
	}
}

/* bpf_csum_diff over packet windows and the stack */
SEC("xdp")
int xdp_csum(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 a[8], b[4];

	if (data + 48 > end)
		return 1;
	__builtin_memcpy(a, data, 32);
	__builtin_memcpy(b, data + 32, 16);
	res[0] = bpf_csum_diff(a, 32, b, 16, p[0]);
	res[1] = bpf_csum_diff(0, 0, a, 4 * (p[1] & 7), p[0]);
	res[2] = bpf_csum_diff(b, 4 * (p[2] & 3), 0, 0, 0);
	res[3] = bpf_csum_diff(a, 3, b, 4, 0);
	res[4] = bpf_csum_diff(data, 16, data + 16, 16, p[3]);
	return 2;
}

char LICENSE[] SEC("license") = "GPL";
