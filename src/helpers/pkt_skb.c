/* pkt_skb.c — the sk_buff helpers of TC, socket filter and cgroup skb
 * programs: loads and stores, growing and shrinking at the head, tail and
 * inside (adjust_room), VLAN tags, protocol and packet type changes, the flow
 * hash, redirects to a peer or neighbour, tunnel keys, the (socketless)
 * cgroup test.
 *
 * Each works on the run's struct pkt_ctx (hooks/pkt.h) with the kernel's
 * checks and errno values (net/core/filter.c, net/core/skbuff.c).  bpfvm's
 * skbs are linear with room to grow on both sides, so the kernel's
 * pskb_expand_head/skb_cow never fail here; what a program can observe
 * (lengths, bytes, header offsets, protocol, checksum state) follows the
 * kernel.  After a change the __sk_buff fields and the checked run's packet
 * region are refreshed (changed()).
 */
#include <errno.h>
#include <string.h>

#include "exec/vm.h"
#include "helpers/helpers.h"
#include "helpers/util.h"
#include "hooks/pkt.h"

#define BPF_F_RECOMPUTE_CSUM (1ull << 0)
#define BPF_F_INVALIDATE_HASH (1ull << 1)
#define BPF_HDR_START_MAC 0
#define BPF_HDR_START_NET 1
#define INT_MAX_ 0x7fffffffu

#define ADJ_FIXED_GSO (1ull << 0)
#define ADJ_ENCAP_L3_IPV4 (1ull << 1)
#define ADJ_ENCAP_L3_IPV6 (1ull << 2)
#define ADJ_ENCAP_L4_GRE (1ull << 3)
#define ADJ_ENCAP_L4_UDP (1ull << 4)
#define ADJ_NO_CSUM_RESET (1ull << 5)
#define ADJ_ENCAP_L2_ETH (1ull << 6)
#define ADJ_DECAP_L3_IPV4 (1ull << 7)
#define ADJ_DECAP_L3_IPV6 (1ull << 8)
#define ADJ_ENCAP_L2_SHIFT 56
#define ADJ_ENCAP_L3_MASK (ADJ_ENCAP_L3_IPV4 | ADJ_ENCAP_L3_IPV6)
#define ADJ_DECAP_L3_MASK (ADJ_DECAP_L3_IPV4 | ADJ_DECAP_L3_IPV6)
#define ADJ_MASK                                                                           \
	(ADJ_FIXED_GSO | ADJ_ENCAP_L3_MASK | ADJ_ENCAP_L4_GRE | ADJ_ENCAP_L4_UDP |          \
	 ADJ_ENCAP_L2_ETH | (0xffull << ADJ_ENCAP_L2_SHIFT) | ADJ_DECAP_L3_MASK)

#define SKB(name, ctx)                                              \
	struct pkt_ctx *pc = pkt_from_run(run, PKT_SKB, name, ctx); \
	if (!pc)                                                    \
		return 0;                                           \
	struct pkt_skb *skb = &pc->skb

static void changed(struct pkt_ctx *pc)
{
	skb_sync_ctx(pc);
	pkt_update_regions(pc);
}

static uint8_t *data_of(struct pkt_skb *skb)
{
	return skb->head + skb->data;
}

static int32_t net_off(const struct pkt_skb *skb)
{
	return skb->net - (int32_t)skb->data;	/* skb_network_offset */
}

static bool is_vlan_proto(uint16_t p)
{
	return p == ETH_P_8021Q_BE || p == ETH_P_8021AD_BE;
}

/* ------------------------------------------------------- loads, stores */

uint64_t helper_skb_load_bytes(uint64_t ctx, uint64_t offset, uint64_t to, uint64_t len,
			       uint64_t r5, struct bpfvm_run *run)
{
	(void)r5;
	SKB("skb_load_bytes", ctx);
	uint32_t o = (uint32_t)offset, n = (uint32_t)len;
	if (!HELPER_MEM_OK(run, to, n, 1))
		return helper_bad_ptr(run, "skb_load_bytes", 3, to, n);
	if (o > INT_MAX_ || (uint64_t)o + n > skb->len) {
		memset((void *)(uintptr_t)to, 0, n);
		return (uint64_t)-EFAULT;
	}
	memcpy((void *)(uintptr_t)to, data_of(skb) + o, n);
	return 0;
}

uint64_t helper_skb_load_bytes_relative(uint64_t ctx, uint64_t offset, uint64_t to,
					uint64_t len, uint64_t start_header, struct bpfvm_run *run)
{
	SKB("skb_load_bytes_relative", ctx);
	uint32_t o = (uint32_t)offset, n = (uint32_t)len;
	const uint8_t *end = data_of(skb) + skb->len, *start;

	if (!HELPER_MEM_OK(run, to, n, 1))
		return helper_bad_ptr(run, "skb_load_bytes_relative", 3, to, n);
	if (o > 0xffff)
		goto err;
	switch ((uint32_t)start_header) {
	case BPF_HDR_START_MAC:
		if (skb->mac < 0)
			goto err;
		start = skb->head + skb->mac;
		break;
	case BPF_HDR_START_NET:
		start = skb->head + skb->net;
		break;
	default:
		goto err;
	}
	if (start + o + n <= end) {
		memcpy((void *)(uintptr_t)to, start + o, n);
		return 0;
	}
err:
	memset((void *)(uintptr_t)to, 0, n);
	return (uint64_t)-EFAULT;
}

uint64_t helper_skb_store_bytes(uint64_t ctx, uint64_t offset, uint64_t from, uint64_t len,
				uint64_t flags, struct bpfvm_run *run)
{
	SKB("skb_store_bytes", ctx);
	uint32_t o = (uint32_t)offset, n = (uint32_t)len;

	if (!HELPER_MEM_OK(run, from, n, 0))
		return helper_bad_ptr(run, "skb_store_bytes", 3, from, n);
	if (flags & ~(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH))
		return (uint64_t)-EINVAL;
	if (o > INT_MAX_ || (uint64_t)o + n > skb->len)
		return (uint64_t)-EFAULT;
	uint8_t *p = data_of(skb) + o;
	if ((flags & BPF_F_RECOMPUTE_CSUM) && skb->ip_summed == PKT_CSUM_COMPLETE)
		skb->csum = csum_block_sub_k(skb->csum, csum_partial_k(p, n, 0), o);
	memmove(p, (const void *)(uintptr_t)from, n);
	if ((flags & BPF_F_RECOMPUTE_CSUM) && skb->ip_summed == PKT_CSUM_COMPLETE)
		skb->csum = csum_block_add_k(skb->csum, csum_partial_k(p, n, 0), o);
	if (flags & BPF_F_INVALIDATE_HASH) {
		skb_clear_hash(pc);
		changed(pc);
	}
	return 0;
}

uint64_t helper_skb_pull_data(uint64_t ctx, uint64_t len, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	SKB("skb_pull_data", ctx);
	/* everything is linear already: only the length is checked */
	if ((uint32_t)len > skb->len)
		return (uint64_t)-ENOMEM;
	return 0;
}

/* --------------------------------------------------- head, tail, room */

/* __bpf_skb_min_len */
static uint32_t skb_min_len(const struct pkt_skb *skb)
{
	uint32_t min = (uint32_t)net_off(skb);
	if (skb->trans >= 0)
		min = (uint32_t)(skb->trans - (int32_t)skb->data);
	return min;
}

static void gso_reset(struct pkt_skb *skb)
{
	skb->gso_size = skb->gso_segs = skb->gso_type = 0;
}

uint64_t helper_skb_change_tail(uint64_t ctx, uint64_t new_len, uint64_t flags, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r4, (void)r5;
	SKB("skb_change_tail", ctx);
	uint32_t nl = (uint32_t)new_len;

	if (flags || nl > SKB_MAX_ALLOC_LEN || nl < skb_min_len(skb))
		return (uint64_t)-EINVAL;
	if (skb->encapsulation)
		return (uint64_t)-PKT_ENOTSUPP;
	if (skb->data + (uint64_t)nl > skb->head_sz)
		return (uint64_t)-ENOMEM;
	if (nl != skb->len && skb->ip_summed == PKT_CSUM_COMPLETE)
		skb->ip_summed = PKT_CSUM_NONE;
	if (nl > skb->len)
		memset(data_of(skb) + skb->len, 0, nl - skb->len);
	skb->len = nl;
	if (skb->gso_size)
		gso_reset(skb);
	changed(pc);
	return 0;
}

uint64_t helper_skb_change_head(uint64_t ctx, uint64_t head_room, uint64_t flags, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r4, (void)r5;
	SKB("skb_change_head", ctx);
	uint32_t room = (uint32_t)head_room, nl = skb->len + room;

	if (flags || (!skb->gso_size && nl > SKB_MAX_ALLOC_LEN) || nl < skb->len)
		return (uint64_t)-EINVAL;
	if (room > skb->data)
		return (uint64_t)-ENOMEM;	/* skb_cow: no memory for that much */
	skb->data -= room;
	skb->len = nl;
	memset(data_of(skb), 0, room);
	skb->mac = (int32_t)skb->data;
	changed(pc);
	return 0;
}

/* bpf_skb_net_hdr_push / _pop: open or close len bytes at data + off */
static void net_hdr_push(struct pkt_skb *skb, uint32_t off, uint32_t len)
{
	bool trans_same = skb->trans == skb->net;
	skb->data -= len;
	skb->len += len;
	memmove(data_of(skb), data_of(skb) + len, off);
	memset(data_of(skb) + off, 0, len);
	skb->mac -= (int32_t)len;
	skb->net -= (int32_t)len;
	if (trans_same)
		skb->trans = skb->net;
}

static int net_hdr_pop(struct pkt_ctx *pc, uint32_t off, uint32_t len)
{
	struct pkt_skb *skb = &pc->skb;
	bool trans_same = skb->trans == skb->net;
	if ((uint64_t)off + len > skb->len)
		return -ENOMEM;	/* pskb_may_pull */
	skb_postpull_rcsum(pc, data_of(skb) + off, len);
	memmove(data_of(skb) + len, data_of(skb), off);
	skb->data += len;
	skb->len -= len;
	skb->mac += (int32_t)len;
	skb->net += (int32_t)len;
	if (trans_same)
		skb->trans = skb->net;
	return 0;
}

static uint32_t net_base_len(uint16_t proto)
{
	return proto == ETH_P_IP_BE ? 20 : proto == ETH_P_IPV6_BE ? 40 : ~0u;
}

static int net_grow(struct pkt_skb *skb, uint32_t off, uint32_t diff, uint64_t flags)
{
	uint8_t inner_mac_len = (uint8_t)(flags >> ADJ_ENCAP_L2_SHIFT);
	bool encap = flags & ADJ_ENCAP_L3_MASK;
	int32_t mac_len = 0;

	if (flags & ADJ_DECAP_L3_MASK)
		return -EINVAL;
	if (skb->gso_size && !(skb->gso_type & 3))	/* gso but not TCP */
		return -PKT_ENOTSUPP;	/* bpfvm's gso skbs have no gso type (UDP_L4) */
	if (diff > skb->data)
		return -ENOMEM;
	if (encap) {
		if (skb->protocol != ETH_P_IP_BE && skb->protocol != ETH_P_IPV6_BE)
			return -PKT_ENOTSUPP;
		if ((flags & ADJ_ENCAP_L3_IPV4) && (flags & ADJ_ENCAP_L3_IPV6))
			return -EINVAL;
		if ((flags & ADJ_ENCAP_L4_GRE) && (flags & ADJ_ENCAP_L4_UDP))
			return -EINVAL;
		if ((flags & ADJ_ENCAP_L2_ETH) && inner_mac_len < PKT_ETH_HLEN)
			return -EINVAL;
		if (skb->encapsulation)
			return -EALREADY;
		mac_len = skb->net - skb->mac;
		if (inner_mac_len > diff)
			return -EINVAL;
	}
	net_hdr_push(skb, off, diff);
	if (encap) {
		skb->encapsulation = true;
		skb->net = skb->mac + mac_len;
		if (flags & (ADJ_ENCAP_L4_GRE | ADJ_ENCAP_L4_UDP))
			skb->trans = skb->net + ((flags & ADJ_ENCAP_L3_IPV6) ? 40 : 20);
		if (skb->protocol == ETH_P_IP_BE && (flags & ADJ_ENCAP_L3_IPV6))
			skb->protocol = ETH_P_IPV6_BE;
		else if (skb->protocol == ETH_P_IPV6_BE && (flags & ADJ_ENCAP_L3_IPV4))
			skb->protocol = ETH_P_IP_BE;
	}
	if (skb->gso_size) {
		if (!(flags & ADJ_FIXED_GSO))
			skb->gso_size = skb->gso_size > diff ? skb->gso_size - diff : 0;
		skb->gso_segs = 0;
	}
	return 0;
}

static int net_shrink(struct pkt_ctx *pc, uint32_t off, uint32_t diff, uint64_t flags)
{
	struct pkt_skb *skb = &pc->skb;
	if (flags & ~(ADJ_FIXED_GSO | ADJ_DECAP_L3_MASK | ADJ_NO_CSUM_RESET))
		return -EINVAL;
	if (skb->gso_size && !(skb->gso_type & 3))
		return -PKT_ENOTSUPP;
	int err = net_hdr_pop(pc, off, diff);
	if (err)
		return err;
	if (skb->protocol == ETH_P_IP_BE && (flags & ADJ_DECAP_L3_IPV6))
		skb->protocol = ETH_P_IPV6_BE;
	else if (skb->protocol == ETH_P_IPV6_BE && (flags & ADJ_DECAP_L3_IPV4))
		skb->protocol = ETH_P_IP_BE;
	if (skb->gso_size) {
		if (!(flags & ADJ_FIXED_GSO))
			skb->gso_size += diff;
		skb->gso_segs = 0;
	}
	return 0;
}

uint64_t helper_skb_adjust_room(uint64_t ctx, uint64_t len_diff, uint64_t mode, uint64_t flags,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r5;
	SKB("skb_adjust_room", ctx);
	int32_t d = (int32_t)len_diff;
	uint32_t abs_d = d < 0 ? (uint32_t)0 - (uint32_t)d : (uint32_t)d;
	uint32_t len_min = net_base_len(skb->protocol), len_cur, off;
	bool shrink = d < 0;
	int err;

	if (flags & ~(ADJ_MASK | ADJ_NO_CSUM_RESET))
		return (uint64_t)-EINVAL;
	if (abs_d > 0xfff)
		return (uint64_t)-EFAULT;
	if (skb->protocol != ETH_P_IP_BE && skb->protocol != ETH_P_IPV6_BE)
		return (uint64_t)-PKT_ENOTSUPP;
	off = (uint32_t)(skb->net - skb->mac);	/* skb_mac_header_len */
	switch ((uint32_t)mode) {
	case 0:	/* BPF_ADJ_ROOM_NET */
		off += net_base_len(skb->protocol);
		break;
	case 1:	/* BPF_ADJ_ROOM_MAC */
		break;
	default:
		return (uint64_t)-PKT_ENOTSUPP;
	}
	if (flags & ADJ_DECAP_L3_MASK) {
		if (!shrink)
			return (uint64_t)-EINVAL;
		switch (flags & ADJ_DECAP_L3_MASK) {
		case ADJ_DECAP_L3_IPV4:
			len_min = 20;
			break;
		case ADJ_DECAP_L3_IPV6:
			len_min = 40;
			break;
		default:
			return (uint64_t)-EINVAL;
		}
	}
	len_cur = skb->len - (uint32_t)net_off(skb);
	if ((shrink && (abs_d >= len_cur || len_cur - abs_d < len_min)) ||
	    (!shrink && skb->len + abs_d > SKB_MAX_ALLOC_LEN && !skb->gso_size))
		return (uint64_t)-PKT_ENOTSUPP;
	err = shrink ? net_shrink(pc, off, abs_d, flags) : net_grow(skb, off, abs_d, flags);
	if (!err && !(flags & ADJ_NO_CSUM_RESET) && skb->ip_summed == PKT_CSUM_UNNECESSARY) {
		skb->ip_summed = PKT_CSUM_NONE;
		skb->csum_level = 0;
	}
	changed(pc);
	return (uint64_t)(int64_t)err;
}

uint64_t helper_skb_change_proto(uint64_t ctx, uint64_t proto, uint64_t flags, uint64_t r4,
				 uint64_t r5, struct bpfvm_run *run)
{
	(void)r4, (void)r5;
	SKB("skb_change_proto", ctx);
	uint16_t to = (uint16_t)proto;
	uint32_t off = (uint32_t)(skb->net - skb->mac);
	int err = -PKT_ENOTSUPP;

	if (flags)
		return (uint64_t)-EINVAL;
	if (skb->protocol == ETH_P_IP_BE && to == ETH_P_IPV6_BE) {
		if (skb->data < 20)
			return (uint64_t)-ENOMEM;
		net_hdr_push(skb, off, 20);
		skb->protocol = ETH_P_IPV6_BE;
		skb_clear_hash(pc);
		err = 0;
	} else if (skb->protocol == ETH_P_IPV6_BE && to == ETH_P_IP_BE) {
		err = net_hdr_pop(pc, off, 20);
		if (!err) {
			skb->protocol = ETH_P_IP_BE;
			skb_clear_hash(pc);
		}
	}
	changed(pc);
	return (uint64_t)(int64_t)err;
}

uint64_t helper_skb_change_type(uint64_t ctx, uint64_t type, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	SKB("skb_change_type", ctx);
	/* skb_pkt_type_ok: PACKET_HOST .. PACKET_OTHERHOST */
	if (skb->pkt_type > 3 || (uint32_t)type > 3)
		return (uint64_t)-EINVAL;
	skb->pkt_type = (uint8_t)type;
	changed(pc);
	return 0;
}

/* bpf_skb_under_cgroup: the kernel asks the skb's socket (skb_to_full_sk)
 * first and answers -ENOENT without one, before looking at the map or the
 * index.  bpfvm's packets never belong to a socket. */
uint64_t helper_skb_under_cgroup(uint64_t ctx, uint64_t map, uint64_t index, uint64_t r4,
				 uint64_t r5, struct bpfvm_run *run)
{
	(void)map, (void)index, (void)r4, (void)r5;
	if (!pkt_from_run(run, PKT_SKB, "skb_under_cgroup", ctx))
		return 0;
	return (uint64_t)-ENOENT;
}

/* ------------------------------------------------------------ VLAN tags */

/* __vlan_insert_tag with a 14-byte MAC header */
static void vlan_insert(struct pkt_skb *skb, uint16_t proto, uint16_t tci)
{
	skb->data -= PKT_VLAN_HLEN;
	skb->len += PKT_VLAN_HLEN;
	uint8_t *d = data_of(skb);
	memmove(d, d + PKT_VLAN_HLEN, 12);
	if (skb->mac >= 0)
		skb->mac -= PKT_VLAN_HLEN;
	memcpy(d + 12, &proto, 2);
	d[14] = (uint8_t)(tci >> 8);
	d[15] = (uint8_t)tci;
}

/* bpf_push_mac_rcsum / bpf_pull_mac_rcsum: only at TC ingress */
static void mac_rcsum(struct pkt_ctx *pc, bool push)
{
	struct pkt_skb *skb = &pc->skb;
	if (!skb->tc_at_ingress || skb->mac < 0 || skb->net < skb->mac)
		return;
	if (push)
		skb_postpush_rcsum(pc, skb->head + skb->mac, (uint32_t)(skb->net - skb->mac));
	else
		skb_postpull_rcsum(pc, skb->head + skb->mac, (uint32_t)(skb->net - skb->mac));
}

uint64_t helper_skb_vlan_push(uint64_t ctx, uint64_t vlan_proto, uint64_t vlan_tci, uint64_t r4,
			      uint64_t r5, struct bpfvm_run *run)
{
	(void)r4, (void)r5;
	SKB("skb_vlan_push", ctx);
	uint16_t proto = (uint16_t)vlan_proto;
	int err = 0;

	if (!is_vlan_proto(proto))
		proto = ETH_P_8021Q_BE;
	mac_rcsum(pc, true);
	if (skb->vlan_present) {
		if (skb->data != (uint32_t)skb->mac) {
			err = -EINVAL;
		} else if (skb->data < PKT_VLAN_HLEN) {
			err = -ENOMEM;
		} else {
			vlan_insert(skb, skb->vlan_proto, skb->vlan_tci);
			skb->protocol = skb->vlan_proto;
			skb->net -= PKT_VLAN_HLEN;
			skb_postpush_rcsum(pc, data_of(skb) + 12, PKT_VLAN_HLEN);
		}
	}
	if (!err) {
		skb->vlan_present = true;
		skb->vlan_proto = proto;
		skb->vlan_tci = (uint16_t)vlan_tci;
	}
	mac_rcsum(pc, false);
	changed(pc);
	return (uint64_t)(int64_t)err;
}

/* __skb_vlan_pop: take the tag after the MAC addresses out of the packet */
static int vlan_pop_data(struct pkt_ctx *pc, uint16_t *tci)
{
	struct pkt_skb *skb = &pc->skb;
	if (skb->data != (uint32_t)skb->mac)
		return -EINVAL;
	if (skb->len < PKT_ETH_HLEN + PKT_VLAN_HLEN)
		return -ENOMEM;	/* skb_ensure_writable(VLAN_ETH_HLEN) */
	uint8_t *d = data_of(skb);
	skb_postpull_rcsum(pc, d + 12, PKT_VLAN_HLEN);
	uint8_t vhdr[PKT_VLAN_HLEN + 2];
	uint32_t avail = skb->len - PKT_ETH_HLEN < 6 ? skb->len - PKT_ETH_HLEN : 6;
	memset(vhdr, 0, sizeof(vhdr));
	memcpy(vhdr, d + PKT_ETH_HLEN, avail);
	*tci = (uint16_t)((vhdr[0] << 8) | vhdr[1]);
	memmove(d + PKT_VLAN_HLEN, d, 12);
	skb->data += PKT_VLAN_HLEN;
	skb->len -= PKT_VLAN_HLEN;
	/* vlan_set_encap_proto */
	uint16_t enc;
	memcpy(&enc, vhdr + 2, 2);
	if (((vhdr[2] << 8) | vhdr[3]) >= 0x0600)
		skb->protocol = enc;
	else if (avail >= 6 && vhdr[4] == 0xff && vhdr[5] == 0xff)
		skb->protocol = ETH_P_802_3_BE;
	else
		skb->protocol = ETH_P_802_2_BE;
	skb->mac += PKT_VLAN_HLEN;
	if (net_off(skb) < (int32_t)PKT_ETH_HLEN)
		skb->net = (int32_t)skb->data + (int32_t)PKT_ETH_HLEN;
	return 0;
}

uint64_t helper_skb_vlan_pop(uint64_t ctx, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			     struct bpfvm_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	SKB("skb_vlan_pop", ctx);
	uint16_t tci;
	int err = 0;

	mac_rcsum(pc, true);
	if (skb->vlan_present) {
		skb->vlan_present = false;
		skb->vlan_proto = 0;
		skb->vlan_tci = 0;
	} else if (!is_vlan_proto(skb->protocol)) {
		goto out;
	} else {
		err = vlan_pop_data(pc, &tci);
		if (err)
			goto out;
	}
	/* the next tag, if any, becomes the accelerated one */
	if (is_vlan_proto(skb->protocol)) {
		uint16_t proto = skb->protocol;
		err = vlan_pop_data(pc, &tci);
		if (!err) {
			skb->vlan_present = true;
			skb->vlan_proto = proto;
			skb->vlan_tci = tci;
		}
	}
out:
	mac_rcsum(pc, false);
	changed(pc);
	return (uint64_t)(int64_t)err;
}

/* ------------------------------------------------------------- hashes */

uint64_t helper_get_hash_recalc(uint64_t ctx, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	SKB("get_hash_recalc", ctx);
	if (!skb->l4_hash && !skb->sw_hash) {
		skb->hash = skb_flow_hash(pc);
		skb->sw_hash = true;
		changed(pc);
	}
	return skb->hash;
}

uint64_t helper_set_hash(uint64_t ctx, uint64_t hash, uint64_t r3, uint64_t r4, uint64_t r5,
			 struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	SKB("set_hash", ctx);
	skb->hash = (uint32_t)hash;
	skb->sw_hash = true;
	skb->l4_hash = true;
	changed(pc);
	return 0;
}

uint64_t helper_set_hash_invalid(uint64_t ctx, uint64_t r2, uint64_t r3, uint64_t r4,
				 uint64_t r5, struct bpfvm_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	SKB("set_hash_invalid", ctx);
	(void)skb;
	skb_clear_hash(pc);
	changed(pc);
	return 0;
}

/* ---------------------------------------------------- redirects, tunnels */

uint64_t helper_redirect_peer(uint64_t ifindex, uint64_t flags, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	SKB("redirect_peer", PKT_NO_CTX_ARG);
	(void)skb;
	if (flags)
		return 2;	/* TC_ACT_SHOT */
	pc->redir.set = true;
	pc->redir.ifindex = (uint32_t)ifindex;
	pc->redir.flags = 1ull << 2;	/* the kernel's internal BPF_F_PEER */
	pc->redir.map = NULL;
	return 7;	/* TC_ACT_REDIRECT */
}

uint64_t helper_redirect_neigh(uint64_t ifindex, uint64_t params, uint64_t plen, uint64_t flags,
			       uint64_t r5, struct bpfvm_run *run)
{
	(void)r5;
	SKB("redirect_neigh", PKT_NO_CTX_ARG);
	(void)skb;
	int32_t n = (int32_t)plen;
	if (n && !HELPER_MEM_OK(run, params, (uint32_t)n, 0))
		return helper_bad_ptr(run, "redirect_neigh", 2, params, (uint32_t)n);
	if ((n && n < 20) || flags)	/* sizeof(struct bpf_redir_neigh) */
		return 2;
	pc->redir.set = true;
	pc->redir.ifindex = (uint32_t)ifindex;
	pc->redir.flags = (1ull << 1) | (n ? 1ull << 3 : 0);	/* BPF_F_NEIGH, _NEXTHOP */
	pc->redir.map = NULL;
	return 7;
}

uint64_t helper_skb_get_tunnel_key(uint64_t ctx, uint64_t to, uint64_t size, uint64_t flags,
				   uint64_t r5, struct bpfvm_run *run)
{
	(void)flags, (void)r5;
	SKB("skb_get_tunnel_key", ctx);
	(void)skb;
	uint32_t n = (uint32_t)size;
	if (!HELPER_MEM_OK(run, to, n, 1))
		return helper_bad_ptr(run, "skb_get_tunnel_key", 2, to, n);
	/* bpfvm's skbs never carry tunnel metadata */
	memset((void *)(uintptr_t)to, 0, n);
	return (uint64_t)-EINVAL;
}
