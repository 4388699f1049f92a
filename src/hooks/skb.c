/* skb.c — the sk_buff as bpfvm models it for TC, socket filter and cgroup skb
 * programs: layout after eth_type_trans, the __sk_buff fields the kernel
 * derives from it, receive-side VLAN untagging, and the small pieces of skb
 * state (hash, checksum) that helpers share.
 *
 * An skb here is always linear.  Offsets (data, mac, net, trans) count from
 * `head`, a buffer in the packet context's low memory; the data starts deep
 * inside it (PKT_SKB_DATA_OFF) so that pushes never need the kernel's
 * pskb_expand_head: nothing a program can observe depends on the headroom.
 */
#include <string.h>

#include "hooks/pkt.h"

#define PACKET_HOST 0
#define PACKET_BROADCAST 1
#define PACKET_MULTICAST 2
#define PACKET_OTHERHOST 3

uint16_t skb_eth_proto(const uint8_t *eth, uint32_t avail)
{
	uint16_t proto;
	memcpy(&proto, eth + 12, 2);	/* network order, as skb->protocol */
	if (((eth[12] << 8) | eth[13]) >= 0x0600)	/* eth_proto_is_802_3 */
		return proto;
	/* Novell raw 802.3 (IPX) is spotted by an 0xffff SAP */
	if (avail >= PKT_ETH_HLEN + 2 && eth[14] == 0xff && eth[15] == 0xff)
		return ETH_P_802_3_BE;
	return ETH_P_802_2_BE;
}

/* eth_skb_pkt_type; loopback's address and broadcast address are all zero */
static uint8_t eth_pkt_type(const uint8_t *dst, const uint8_t *dev_addr, bool unicast_is_host)
{
	static const uint8_t zero[6], ones[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t *own = dev_addr ? dev_addr : zero, *bcast = dev_addr ? ones : zero;

	if (memcmp(dst, own, 6) == 0)
		return PACKET_HOST;
	if (dst[0] & 1)
		return memcmp(dst, bcast, 6) == 0 ? PACKET_BROADCAST : PACKET_MULTICAST;
	return unicast_is_host ? PACKET_HOST : PACKET_OTHERHOST;
}

void skb_setup(struct pkt_ctx *pc, const uint8_t *in, uint32_t len, bool l2,
	       const uint8_t *dev_addr, bool unicast_is_host)
{
	struct pkt_skb *skb = &pc->skb;
	uint8_t *frame = pc->low + PKT_CTX_SZ + PKT_SKB_DATA_OFF;

	memcpy(frame, in, len);
	skb->head = pc->low + PKT_CTX_SZ;
	skb->head_sz = PKT_SKB_HEAD_SZ;
	skb->mac = (int32_t)PKT_SKB_DATA_OFF;
	skb->net = skb->mac + (int32_t)PKT_ETH_HLEN;
	skb->trans = -1;
	skb->protocol = skb_eth_proto(frame, len);
	skb->pkt_type = eth_pkt_type(frame, dev_addr, unicast_is_host);
	skb->data = l2 ? PKT_SKB_DATA_OFF : PKT_SKB_DATA_OFF + PKT_ETH_HLEN;
	skb->len = l2 ? len : len - PKT_ETH_HLEN;
	skb->tc_at_ingress = false;
	skb->vlan_present = false;
	skb->vlan_proto = 0;
	skb->vlan_tci = 0;
	skb->hash = 0;
	skb->l4_hash = skb->sw_hash = false;
	skb->ip_summed = PKT_CSUM_NONE;
	skb->csum_level = 0;
	skb->csum = 0;
	skb->encapsulation = false;
	skb->gso_size = skb->gso_segs = skb->gso_type = 0;
	skb->ifindex = 1;
	skb->skb_iif = 0;
	skb->wire_len = 0;
	skb->hwtstamp = 0;
	skb->queue_mapping = 0;
	memset(pc->ctx, 0, sizeof(struct pkt_sk_buff));
	pc->redir.set = false;
}

void skb_sync_ctx(struct pkt_ctx *pc)
{
	struct pkt_skb *skb = &pc->skb;
	struct pkt_sk_buff *c = pc->ctx;
	uint32_t data = (uint32_t)(uintptr_t)(skb->head + skb->data);

	c->len = skb->len;
	c->pkt_type = skb->pkt_type;
	c->protocol = skb->protocol;
	c->vlan_present = skb->vlan_present;
	c->vlan_tci = skb->vlan_tci;
	c->vlan_proto = skb->vlan_proto;
	c->ingress_ifindex = skb->skb_iif;
	c->ifindex = skb->ifindex;
	c->hash = skb->hash;
	c->data = data;
	c->data_end = data + skb->len;
	c->data_meta = data;
	c->napi_id = 0;
	c->wire_len = skb->wire_len;
	c->gso_segs = skb->gso_segs;
	c->gso_size = skb->gso_size;
	c->hwtstamp = skb->hwtstamp;
}

void skb_finish(struct pkt_ctx *pc)
{
	struct pkt_sk_buff *c = pc->ctx;

	/* the kernel stores these as 16-bit fields; a queue_mapping of 0xffff
	 * or more (NO_QUEUE_MAPPING) is not stored at all */
	c->tc_index &= 0xffff;
	c->tc_classid &= 0xffff;
	if (c->queue_mapping >= 0xffff)
		c->queue_mapping = pc->skb.queue_mapping;
	pc->skb.queue_mapping = (uint16_t)c->queue_mapping;
}

/* vlan_set_encap_proto: the protocol after a VLAN header at vhdr */
static uint16_t vlan_encap_proto(const uint8_t *vhdr, const uint8_t *tail)
{
	uint16_t proto;
	memcpy(&proto, vhdr + 2, 2);
	if (((vhdr[2] << 8) | vhdr[3]) >= 0x0600)
		return proto;
	if (vhdr + 6 <= tail && vhdr[4] == 0xff && vhdr[5] == 0xff)
		return ETH_P_802_3_BE;
	return ETH_P_802_2_BE;
}

void skb_vlan_untag(struct pkt_ctx *pc)
{
	struct pkt_skb *skb = &pc->skb;
	uint8_t *mac = skb->head + skb->mac;
	uint8_t *tail = skb->head + skb->data + skb->len;

	if (skb->vlan_present ||
	    (skb->protocol != ETH_P_8021Q_BE && skb->protocol != ETH_P_8021AD_BE))
		return;
	/* the data must start at the MAC header and hold a whole tag + type */
	if (skb->data != (uint32_t)skb->mac || skb->len < PKT_ETH_HLEN + PKT_VLAN_HLEN + 2)
		return;
	uint8_t *vhdr = mac + PKT_ETH_HLEN;
	skb->vlan_present = true;
	skb->vlan_proto = skb->protocol;
	skb->vlan_tci = (uint16_t)((vhdr[0] << 8) | vhdr[1]);
	skb->protocol = vlan_encap_proto(vhdr, tail);
	/* skb_reorder_vlan_header: the addresses move up over the tag */
	memmove(mac + PKT_VLAN_HLEN, mac, 12);
	skb->mac += PKT_VLAN_HLEN;
	skb->data += PKT_VLAN_HLEN;
	skb->len -= PKT_VLAN_HLEN;
	skb->net = skb->mac + (int32_t)PKT_ETH_HLEN;
}

/* ------------------------------------------------------------ flow hash */

static uint32_t fnv(uint32_t h, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

uint32_t skb_flow_hash(const struct pkt_ctx *pc)
{
	const struct pkt_skb *skb = &pc->skb;
	const uint8_t *net = skb->head + skb->net;
	const uint8_t *tail = skb->head + skb->data + skb->len;
	uint32_t h = 2166136261u;
	uint8_t proto = 0;
	const uint8_t *l4 = NULL;

	if (skb->net < 0 || net > tail)
		return 1;
	if (skb->protocol == ETH_P_IP_BE && tail - net >= 20) {
		uint32_t ihl = (net[0] & 0xf) * 4u;
		h = fnv(h, net + 12, 8);
		proto = net[9];
		if (ihl >= 20 && (uint32_t)(tail - net) >= ihl && !(net[6] & 0x3f) && !net[7])
			l4 = net + ihl;
	} else if (skb->protocol == ETH_P_IPV6_BE && tail - net >= 40) {
		h = fnv(h, net + 8, 32);
		proto = net[6];
		l4 = net + 40;
	} else {
		h = fnv(h, (const uint8_t *)&skb->protocol, 2);
	}
	h = fnv(h, &proto, 1);
	if (l4 && tail - l4 >= 4 && (proto == 6 || proto == 17 || proto == 132 || proto == 136))
		h = fnv(h, l4, 4);
	return h ? h : 1;
}

void skb_clear_hash(struct pkt_ctx *pc)
{
	pc->skb.hash = 0;
	pc->skb.sw_hash = false;
	pc->skb.l4_hash = false;
}

void skb_postpull_rcsum(struct pkt_ctx *pc, const uint8_t *start, uint32_t len)
{
	if (pc->skb.ip_summed == PKT_CSUM_COMPLETE)
		pc->skb.csum = csum_sub_k(pc->skb.csum, csum_partial_k(start, len, 0));
}

void skb_postpush_rcsum(struct pkt_ctx *pc, const uint8_t *start, uint32_t len)
{
	if (pc->skb.ip_summed == PKT_CSUM_COMPLETE)
		pc->skb.csum = csum_add_k(pc->skb.csum, csum_partial_k(start, len, 0));
}
