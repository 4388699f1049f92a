// SPDX-License-Identifier: GPL-2.0
/* globals.bpf.c — global variables in every section the loader maps:
 * .data (initialised), .bss (zeroed), .rodata (constant tables) and
 * .rodata through `const volatile` configuration a host sets before load.
 * A TC program samples packets and records totals in those globals. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 cfg_sample_rate = 4;	/* keep 1 in N packets */
const volatile __u32 cfg_min_len = 64;
const volatile __u8 cfg_verbose;

static const char greeting[] = "sampled len=%u\n";
static const __u32 len_buckets[4] = { 128, 512, 1024, 1500 };

__u64 sampled = 0;			/* .bss: zero-initialised */
__u64 seen;				/* .bss */
__u64 bucket_hits[5] = { 0, 0, 0, 0, 0 };	/* .bss as well */
__u32 generation = 7;			/* .data */
char tag[8] = "bpfvm";			/* .data */

SEC("tc")
int tc_sample(struct __sk_buff *skb)
{
	__u32 len = skb->len, i;

	seen++;
	if (len < cfg_min_len)
		return TC_ACT_OK;
	if (cfg_sample_rate && seen % cfg_sample_rate)
		return TC_ACT_OK;
	sampled++;
	for (i = 0; i < 4; i++) {
		if (len <= len_buckets[i])
			break;
	}
	bucket_hits[i]++;
	if (cfg_verbose)
		bpf_trace_printk(greeting, sizeof(greeting), len);
	skb->mark = generation;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
