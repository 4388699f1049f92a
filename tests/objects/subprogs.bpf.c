// SPDX-License-Identifier: GPL-2.0
/* subprogs.bpf.c — bpf-to-bpf calls: a static noinline helper and a global
 * (separately verified) function, both called from an XDP program, plus a
 * second program sharing the static helper.  Produces R_BPF_64_32 call
 * relocations and several func_info records per section. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

static __noinline __u32 fold16(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	return (sum & 0xffff) + (sum >> 16);
}

/* a global function: the verifier checks it once, on its own, from its BTF
 * prototype; a NULL ctx must be handled */
__noinline int frame_len(struct xdp_md *ctx)
{
	if (!ctx)
		return 0;
	return ctx->data_end - ctx->data;
}

SEC("xdp")
int xdp_calls(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 sum;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	sum = fold16(eth->h_proto + frame_len(ctx));
	return sum & 1 ? XDP_PASS : XDP_DROP;
}

SEC("xdp.frags")
int xdp_frags_len(struct xdp_md *ctx)
{
	return fold16(frame_len(ctx)) > 1500 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
