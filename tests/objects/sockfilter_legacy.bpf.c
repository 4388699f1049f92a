// SPDX-License-Identifier: GPL-2.0
/* sockfilter_legacy.bpf.c — a socket filter that counts packets per IP
 * protocol and keeps only TCP.  Its maps use the legacy SEC("maps") form with
 * struct bpf_map_def (no BTF map definitions), as pre-BTF objects did. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

/* the layout libbpf < 1.0 and iproute2 read from SEC("maps") */
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") proto_count = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 256,
};

struct bpf_map_def SEC("maps") drop_count = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 1,
	.map_flags = 0,
};

/* LD_ABS byte load (BPF_LD | BPF_ABS | BPF_B), as samples/bpf declares it */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

SEC("socket")
int sock_tcp_only(struct __sk_buff *skb)
{
	__u32 proto = load_byte(skb, ETH_HLEN + 9), zero = 0;
	__u64 *cnt;

	cnt = bpf_map_lookup_elem(&proto_count, &proto);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	if (proto == IPPROTO_TCP)
		return skb->len;	/* keep the whole packet */
	cnt = bpf_map_lookup_elem(&drop_count, &zero);
	if (cnt)
		*cnt += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
