// SPDX-License-Identifier: GPL-2.0
/* xdp_lb.bpf.c — a large XDP load balancer, for bench/bench_verifier.c.
 *
 * Shaped like the big public XDP load balancers (Katran's balancer_kern.c):
 * Ethernet with up to two VLAN tags; IPv4 (options skipped, fragments
 * dropped, ICMP echo answered in place, ICMP errors matched on the embedded
 * header) and IPv6 (up to four extension headers walked); TCP (options
 * walked for MSS, window scale and timestamps) and UDP (QUIC long and short
 * headers: the server id in the connection id picks the real); the VIP
 * looked up with and without its port; an LRU connection table, else a
 * consistent-hash ring indexed by a jhash of the 5-tuple; per-VIP and
 * per-real statistics; IP-in-IP or IPv6-in-IPv6 encapsulation with the outer
 * IPv4 checksum computed in an unrolled loop.  Every header walk is unrolled,
 * so the verifier explores many paths: the point of the program.  It is not
 * meant to be run on traffic.
 *
 * Build (from the repository root; the .o is committed):
 *   clang -O2 -g -target bpf -mcpu=v3 -I /usr/include/x86_64-linux-gnu \
 *         -c bench/objects/xdp_lb.bpf.c -o bench/objects/xdp_lb.bpf.o
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MAX_VIPS 512
#define RING_SIZE 65537
#define MAX_REALS 4096
#define LRU_SIZE 100000
#ifndef MAX_EXT_HDRS
#define MAX_EXT_HDRS 3
#endif
#ifndef MAX_TCP_OPTS
#define MAX_TCP_OPTS 6
#endif
#define MAX_QUIC_IDS 65536

#define F_NO_PORT (1u << 0)	/* VIP matches any port */
#define F_NO_LRU (1u << 1)	/* hash every packet */
#define F_QUIC (1u << 2)	/* UDP VIP speaking QUIC */
#define F_SRC_ONLY (1u << 3)	/* hash the source address only */
#define F_REAL_V6 (1u << 0)

/* <linux/icmp.h> drags in libc headers: the two fields used here */
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 rest;
};
#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct flow_key {
	union {
		__be32 src;
		__be32 srcv6[4];
	};
	union {
		__be32 dst;
		__be32 dstv6[4];
	};
	union {
		__u32 ports;
		__u16 port16[2];
	};
	__u8 proto;
	__u8 pad[3];
};

struct pkt_desc {
	struct flow_key flow;
	__u16 l4_off;
	__u16 mss;
	__u8 wscale;
	__u8 tos;
	__u8 flags;
	__u8 is_v6;
	__u32 tsval;
	__u32 quic_id;
};

struct vip_key {
	union {
		__be32 vip;
		__be32 vipv6[4];
	};
	__u16 port;
	__u8 proto;
	__u8 pad;
};

struct vip_meta {
	__u32 flags;
	__u32 vip_num;
};

struct real_def {
	union {
		__be32 dst;
		__be32 dstv6[4];
	};
	__u8 flags;
	__u8 pad[3];
};

struct real_pos {
	__u32 pos;
	__u64 atime;
};

struct lb_stats {
	__u64 v1;
	__u64 v2;
};

struct ctl_value {
	__u8 mac[6];
	__u8 pad[2];
	__be32 src4;
	__be32 src6[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_VIPS);
	__type(key, struct vip_key);
	__type(value, struct vip_meta);
} vip_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LRU_SIZE);
	__type(key, struct flow_key);
	__type(value, struct real_pos);
} lru_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RING_SIZE * 4);
	__type(key, __u32);
	__type(value, __u32);
} ch_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_REALS);
	__type(key, __u32);
	__type(value, struct real_def);
} reals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_VIPS * 2);
	__type(key, __u32);
	__type(value, struct lb_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_REALS);
	__type(key, __u32);
	__type(value, struct lb_stats);
} reals_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_QUIC_IDS);
	__type(key, __u32);
	__type(value, __u32);
} quic_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct ctl_value);
} ctl_array SEC(".maps");

/* ------------------------------------------------------------- jhash -- */

#define rol32(w, s) (((w) << (s)) | ((w) >> (32 - (s))))
#define jmix(a, b, c)                                                   \
	do {                                                            \
		a -= c; a ^= rol32(c, 4); c += b;                       \
		b -= a; b ^= rol32(a, 6); a += c;                       \
		c -= b; c ^= rol32(b, 8); b += a;                       \
		a -= c; a ^= rol32(c, 16); c += b;                      \
		b -= a; b ^= rol32(a, 19); a += c;                      \
		c -= b; c ^= rol32(b, 4); b += a;                       \
	} while (0)
#define jfinal(a, b, c)                                                 \
	do {                                                            \
		c ^= b; c -= rol32(b, 14);                              \
		a ^= c; a -= rol32(c, 11);                              \
		b ^= a; b -= rol32(a, 25);                              \
		c ^= b; c -= rol32(b, 16);                              \
		a ^= c; a -= rol32(c, 4);                               \
		b ^= a; b -= rol32(a, 14);                              \
		c ^= b; c -= rol32(b, 24);                              \
	} while (0)
#define JHASH_INIT 0xdeadbeef

static __always_inline __u32 jhash_3words(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	a += JHASH_INIT + initval;
	b += JHASH_INIT + initval;
	c += JHASH_INIT + initval;
	jfinal(a, b, c);
	return c;
}

static __always_inline __u32 jhash_6words(const __u32 *k, __u32 initval)
{
	__u32 a, b, c;
	a = b = c = JHASH_INIT + 24 + initval;
	a += k[0];
	b += k[1];
	c += k[2];
	jmix(a, b, c);
	a += k[3];
	b += k[4];
	c += k[5];
	jfinal(a, b, c);
	return c;
}

static __always_inline __u32 flow_hash(const struct pkt_desc *d, __u32 vflags)
{
	__u32 ports = vflags & F_SRC_ONLY ? 0 : d->flow.ports;
	if (d->is_v6) {
		__u32 k[6];
		k[0] = d->flow.srcv6[0];
		k[1] = d->flow.srcv6[1];
		k[2] = d->flow.srcv6[2];
		k[3] = d->flow.srcv6[3];
		k[4] = ports;
		k[5] = d->flow.proto;
		return jhash_6words(k, MAX_VIPS);
	}
	return jhash_3words(d->flow.src, ports, d->flow.proto, RING_SIZE);
}

/* ------------------------------------------------------------ helpers -- */

static __always_inline void count(void *map, __u32 key, __u64 bytes)
{
	struct lb_stats *s = bpf_map_lookup_elem(map, &key);
	if (s) {
		s->v1 += 1;
		s->v2 += bytes;
	}
}

static __always_inline __u16 csum_fold(__u64 csum)
{
#pragma clang loop unroll(full)
	for (int i = 0; i < 4; i++)
		if (csum >> 16)
			csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)~csum;
}

static __always_inline void ipv4_csum(struct iphdr *iph)
{
	__u16 *w = (__u16 *)iph;
	__u64 csum = 0;
	iph->check = 0;
#pragma clang loop unroll(full)
	for (int i = 0; i < (int)sizeof(*iph) / 2; i++)
		csum += w[i];
	iph->check = csum_fold(csum);
}

/* ------------------------------------------------------------- parsing -- */

/* TCP options: MSS, window scale, timestamps; at most MAX_TCP_OPTS */
static __always_inline int parse_tcp_opts(struct tcphdr *th, void *data_end, struct pkt_desc *d)
{
	__u8 *p = (__u8 *)(th + 1);
	__u32 len = th->doff * 4;
	if (len <= sizeof(*th))
		return 0;
	__u8 *end = (__u8 *)th + (len & 0x3c);
#pragma clang loop unroll(full)
	for (int i = 0; i < MAX_TCP_OPTS; i++) {
		if (p + 1 > (__u8 *)data_end || p >= end)
			break;
		__u8 kind = p[0];
		if (kind == 0)
			break;
		if (kind == 1) {
			p++;
			continue;
		}
		if (p + 2 > (__u8 *)data_end)
			return -1;
		__u8 olen = p[1];
		if (olen < 2)
			return -1;
		if (kind == 2 && olen == 4) {
			if (p + 4 > (__u8 *)data_end)
				return -1;
			d->mss = (__u16)(p[2] << 8 | p[3]);
		} else if (kind == 3 && olen == 3) {
			if (p + 3 > (__u8 *)data_end)
				return -1;
			d->wscale = p[2];
		} else if (kind == 8 && olen == 10) {
			if (p + 10 > (__u8 *)data_end)
				return -1;
			d->tsval = (__u32)p[2] << 24 | (__u32)p[3] << 16 | (__u32)p[4] << 8 | p[5];
		}
		p += olen & 0x3f;
	}
	return 0;
}

/* QUIC: long header (version, dcid length, dcid) or short header (dcid at 1) */
static __always_inline void parse_quic(__u8 *q, void *data_end, struct pkt_desc *d)
{
	if (q + 1 > (__u8 *)data_end)
		return;
	__u8 first = q[0];
	__u8 *cid;
	if (first & 0x80) {
		if (q + 6 > (__u8 *)data_end)
			return;
		__u32 version = (__u32)q[1] << 24 | (__u32)q[2] << 16 | (__u32)q[3] << 8 | q[4];
		__u8 cid_len = q[5];
		if ((first & 0x30) == 0x00 && version == 1 && cid_len >= 8)
			return;	/* Initial: no server id yet */
		if (cid_len < 4)
			return;
		cid = q + 6;
	} else {
		cid = q + 1;
	}
	if (cid + 4 > (__u8 *)data_end)
		return;
	__u8 ver = cid[0] >> 6;
	if (ver == 1)
		d->quic_id = ((__u32)(cid[0] & 0x3f) << 10) | ((__u32)cid[1] << 2) | (cid[2] >> 6);
	else if (ver == 2)
		d->quic_id = (__u32)cid[1] << 16 | (__u32)cid[2] << 8 | cid[3];
	else if (ver == 3)
		d->quic_id = (__u32)cid[1] << 8 | cid[2];
}

static __always_inline int parse_l4(void *l4, void *data_end, struct pkt_desc *d)
{
	if (d->flow.proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		if ((void *)(th + 1) > data_end)
			return -1;
		d->flow.port16[0] = th->source;
		d->flow.port16[1] = th->dest;
		if (th->syn)
			d->flags |= 1;
		if (th->rst)
			d->flags |= 2;
		if (th->syn && parse_tcp_opts(th, data_end, d))
			return -1;
	} else if (d->flow.proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;
		if ((void *)(uh + 1) > data_end)
			return -1;
		d->flow.port16[0] = uh->source;
		d->flow.port16[1] = uh->dest;
		if (uh->dest == bpf_htons(443))
			parse_quic((__u8 *)(uh + 1), data_end, d);
	}
	return 0;
}

/* an ICMP error quoting one of our flows: the flow of the quoted header,
 * reversed */
static __always_inline int parse_icmp4(struct icmphdr *ic, void *data_end, struct pkt_desc *d)
{
	if ((void *)(ic + 1) > data_end)
		return -1;
	if (ic->type == ICMP_ECHO)
		return 1;
	if (ic->type != ICMP_DEST_UNREACH && ic->type != ICMP_TIME_EXCEEDED)
		return -1;
	struct iphdr *in = (struct iphdr *)(ic + 1);
	if ((void *)(in + 1) > data_end || in->ihl != 5)
		return -1;
	d->flow.proto = in->protocol;
	d->flow.src = in->daddr;
	d->flow.dst = in->saddr;
	__u16 *ports = (__u16 *)(in + 1);
	if ((void *)(ports + 2) > data_end)
		return -1;
	d->flow.port16[0] = ports[1];
	d->flow.port16[1] = ports[0];
	return 0;
}

static __always_inline int parse_ipv6(struct ipv6hdr *ip6, void *data_end, struct pkt_desc *d)
{
	if ((void *)(ip6 + 1) > data_end)
		return -1;
	__u8 next = ip6->nexthdr;
	__u8 *p = (__u8 *)(ip6 + 1);
	d->is_v6 = 1;
	d->tos = (__u8)((ip6->priority << 4) | (ip6->flow_lbl[0] >> 4));
	__builtin_memcpy(d->flow.srcv6, &ip6->saddr, 16);
	__builtin_memcpy(d->flow.dstv6, &ip6->daddr, 16);
#pragma clang loop unroll(full)
	for (int i = 0; i < MAX_EXT_HDRS; i++) {
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_FRAGMENT)
			break;
		if (p + 8 > (__u8 *)data_end)
			return -1;
		if (next == IPPROTO_FRAGMENT)
			return -1;	/* fragments are not balanced */
		next = p[0];
		p += ((__u32)p[1] + 1) * 8;
	}
	d->flow.proto = next;
	d->l4_off = (__u16)(p - (__u8 *)ip6);
	return parse_l4(p, data_end, d);
}

static __always_inline int parse_ipv4(struct iphdr *iph, void *data_end, struct pkt_desc *d)
{
	if ((void *)(iph + 1) > data_end)
		return -1;
	if (iph->ihl < 5)
		return -1;
	if (iph->frag_off & bpf_htons(0x3fff))
		return -1;
	d->tos = iph->tos;
	d->flow.src = iph->saddr;
	d->flow.dst = iph->daddr;
	d->flow.proto = iph->protocol;
	__u8 *l4 = (__u8 *)iph + ((iph->ihl * 4) & 0x3c);
	d->l4_off = (__u16)(l4 - (__u8 *)iph);
	if (iph->protocol == IPPROTO_ICMP) {
		int r = parse_icmp4((struct icmphdr *)l4, data_end, d);
		if (r)
			return r;
		return 0;
	}
	return parse_l4(l4, data_end, d);
}

/* ------------------------------------------------------------- actions -- */

/* answer an ICMP echo in place */
static __always_inline int icmp_reply(struct ethhdr *eth, struct iphdr *iph, void *data_end)
{
	struct icmphdr *ic = (struct icmphdr *)(iph + 1);
	if ((void *)(ic + 1) > data_end)
		return XDP_DROP;
	__u8 mac[ETH_ALEN];
	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
	__be32 a = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = a;
	iph->ttl = 64;
	ipv4_csum(iph);
	ic->type = ICMP_ECHOREPLY;
	__u32 c = (__u32)(__u16)~ic->checksum + (__u16)~bpf_htons(ICMP_ECHO << 8) +
		  bpf_htons(ICMP_ECHOREPLY << 8);
	ic->checksum = csum_fold(c);
	return XDP_TX;
}

static __always_inline int encap_v4(struct xdp_md *ctx, const struct real_def *r,
				    const struct ctl_value *ctl, const struct pkt_desc *d,
				    __u16 payload)
{
	if (bpf_xdp_adjust_head(ctx, 0 - (int)sizeof(struct iphdr)))
		return XDP_DROP;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *neth = data;
	struct ethhdr *oeth = data + sizeof(struct iphdr);
	struct iphdr *iph = data + sizeof(struct ethhdr);
	if ((void *)(oeth + 1) > data_end || (void *)(iph + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(neth->h_source, oeth->h_dest, ETH_ALEN);
	__builtin_memcpy(neth->h_dest, ctl->mac, ETH_ALEN);
	neth->h_proto = bpf_htons(ETH_P_IP);
	iph->version = 4;
	iph->ihl = 5;
	iph->tos = d->tos;
	iph->tot_len = bpf_htons(payload + sizeof(struct iphdr));
	iph->id = 0;
	iph->frag_off = 0;
	iph->ttl = 64;
	iph->protocol = d->is_v6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
	iph->saddr = ctl->src4 ^ (d->flow.src & bpf_htonl(0xffff));
	iph->daddr = r->dst;
	ipv4_csum(iph);
	return XDP_TX;
}

static __always_inline int encap_v6(struct xdp_md *ctx, const struct real_def *r,
				    const struct ctl_value *ctl, const struct pkt_desc *d,
				    __u16 payload)
{
	if (bpf_xdp_adjust_head(ctx, 0 - (int)sizeof(struct ipv6hdr)))
		return XDP_DROP;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *neth = data;
	struct ethhdr *oeth = data + sizeof(struct ipv6hdr);
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
	if ((void *)(oeth + 1) > data_end || (void *)(ip6 + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(neth->h_source, oeth->h_dest, ETH_ALEN);
	__builtin_memcpy(neth->h_dest, ctl->mac, ETH_ALEN);
	neth->h_proto = bpf_htons(ETH_P_IPV6);
	ip6->version = 6;
	ip6->priority = d->tos >> 4;
	ip6->flow_lbl[0] = (__u8)(d->tos << 4);
	ip6->flow_lbl[1] = 0;
	ip6->flow_lbl[2] = 0;
	ip6->payload_len = bpf_htons(payload);
	ip6->nexthdr = d->is_v6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
	ip6->hop_limit = 64;
	__builtin_memcpy(&ip6->saddr, ctl->src6, 16);
	ip6->saddr.s6_addr32[3] ^= d->flow.src & bpf_htonl(0xffff);
	__builtin_memcpy(&ip6->daddr, r->dstv6, 16);
	return XDP_TX;
}

/* the real for a flow: the QUIC server id, the connection table, or the
 * consistent-hash ring */
static __always_inline __u32 pick_real(const struct pkt_desc *d, const struct vip_meta *vm)
{
	__u32 key;
	if ((vm->flags & F_QUIC) && d->quic_id) {
		key = d->quic_id & (MAX_QUIC_IDS - 1);
		__u32 *id = bpf_map_lookup_elem(&quic_ids, &key);
		if (id && *id && *id < MAX_REALS)
			return *id;
	}
	struct real_pos *rp = NULL;
	if (!(vm->flags & F_NO_LRU) && !(d->flags & 1)) {
		rp = bpf_map_lookup_elem(&lru_map, &d->flow);
		if (rp && rp->pos < MAX_REALS) {
			rp->atime = bpf_ktime_get_ns();
			return rp->pos;
		}
	}
	__u32 hash = flow_hash(d, vm->flags) % RING_SIZE;
	key = (vm->vip_num & 3) * RING_SIZE + hash;
	__u32 *pos = bpf_map_lookup_elem(&ch_rings, &key);
	if (!pos || *pos >= MAX_REALS)
		return MAX_REALS;
	if (!(vm->flags & F_NO_LRU)) {
		struct real_pos np = { .pos = *pos, .atime = bpf_ktime_get_ns() };
		bpf_map_update_elem(&lru_map, &d->flow, &np, BPF_ANY);
	}
	return *pos;
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct pkt_desc d;
	__builtin_memset(&d, 0, sizeof(d));
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__be16 proto = eth->h_proto;
	void *l3 = eth + 1;
#pragma clang loop unroll(full)
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		struct vlan_hdr *vh = l3;
		if ((void *)(vh + 1) > data_end)
			return XDP_DROP;
		proto = vh->proto;
		l3 = vh + 1;
	}
	int r;
	__u16 pkt_len = (__u16)(data_end - l3);
	if (proto == bpf_htons(ETH_P_IP)) {
		r = parse_ipv4(l3, data_end, &d);
		if (r == 1) {
			struct iphdr *iph = l3;
			if ((void *)(iph + 1) > data_end || iph->ihl != 5)
				return XDP_DROP;
			return icmp_reply(eth, iph, data_end);
		}
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		r = parse_ipv6(l3, data_end, &d);
	} else {
		return XDP_PASS;
	}
	if (r)
		return XDP_DROP;

	struct vip_key vk;
	__builtin_memset(&vk, 0, sizeof(vk));
	if (d.is_v6)
		__builtin_memcpy(vk.vipv6, d.flow.dstv6, 16);
	else
		vk.vip = d.flow.dst;
	vk.port = d.flow.port16[1];
	vk.proto = d.flow.proto;
	struct vip_meta *vm = bpf_map_lookup_elem(&vip_map, &vk);
	if (!vm) {
		vk.port = 0;
		vm = bpf_map_lookup_elem(&vip_map, &vk);
		if (!vm || !(vm->flags & F_NO_PORT))
			return XDP_PASS;
	}
	__u32 vip_num = vm->vip_num & (MAX_VIPS - 1);
	count(&stats, vip_num, pkt_len);
	if (d.flags & 2)
		count(&stats, MAX_VIPS + vip_num, 1);

	__u32 real = pick_real(&d, vm);
	if (real >= MAX_REALS)
		return XDP_DROP;
	struct real_def *rd = bpf_map_lookup_elem(&reals, &real);
	if (!rd)
		return XDP_DROP;
	count(&reals_stats, real, pkt_len);
	__u32 zero = 0;
	struct ctl_value *ctl = bpf_map_lookup_elem(&ctl_array, &zero);
	if (!ctl)
		return XDP_DROP;
	if (rd->flags & F_REAL_V6)
		return encap_v6(ctx, rd, ctl, &d, pkt_len);
	return encap_v4(ctx, rd, ctl, &d, pkt_len);
}

char _license[] SEC("license") = "GPL";
