// SPDX-License-Identifier: GPL-2.0
/* ringbuf.bpf.c — streams a small record per packet to user space through a
 * BPF ring buffer (reserve/submit, with output as the fallback), from a
 * socket filter. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pkt_event {
	__u64 ts_ns;
	__u32 len;
	__u32 ifindex;
	__u8 head[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

__u64 dropped;

SEC("socket")
int sock_ringbuf(struct __sk_buff *skb)
{
	struct pkt_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		struct pkt_event small = { .len = skb->len };

		if (bpf_ringbuf_output(&events, &small, sizeof(small), 0))
			dropped++;
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->len = skb->len;
	e->ifindex = skb->ifindex;
	if (bpf_skb_load_bytes(skb, 0, e->head, sizeof(e->head)) < 0)
		__builtin_memset(e->head, 0, sizeof(e->head));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
