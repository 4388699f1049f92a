/* hooks/pkt.h — the state of one packet program run: the kernel's xdp_buff or
 * sk_buff as bpfvm models it, the uapi context the program sees, and the
 * redirect target helpers record.
 *
 * Memory.  A struct pkt_ctx owns one mapping in the low 4 GiB (pkt_low_alloc):
 *   [0, 4K)           the context: struct xdp_md or struct __sk_buff
 *   [4K, 8K)          XDP: the frame page (headroom 256, data, tailroom 320)
 *   [8K, 8K + 17*4K)  XDP: fragment pages of a multi-buffer packet
 *   [4K, PKT_LOW_SZ)  skb: the head buffer, data placed at PKT_SKB_DATA_OFF
 * so the 32-bit context fields data/data_end/data_meta hold real pointers.
 *
 * The context is real memory.  For XDP it is written from the buffer pointers
 * (xdp_sync_ctx) after setup and after each helper that moves them.  For skb
 * programs the fields the program may write (mark, priority, queue_mapping,
 * tc_index, cb[], tc_classid, tstamp) live in the context itself; the others
 * are written from struct pkt_skb (skb_sync_ctx) after setup and after each
 * helper that changes them; skb_finish() applies the kernel's field widths
 * (16-bit tc_index/tc_classid/queue_mapping, queue_mapping >= 0xffff ignored).
 *
 * Checked runs get regions: the context's writable fields first, then the
 * whole context read-only, then the packet (pkt_attach); helpers that move the
 * packet call pkt_update_regions().  ld_abs/ld_ind read run->pkt/pkt_len, kept
 * at skb->data/len.
 */
#ifndef BPFVM_HOOKS_PKT_H
#define BPFVM_HOOKS_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfvm.h"
#include "bpfvm/pkt.h"

struct bpfvm_run;

/* the kernel's numbers (x86-64, 4K pages) */
#define PKT_PAGE 4096u
#define PKT_ETH_HLEN 14u
#define PKT_VLAN_HLEN 4u
#define XDP_HEADROOM 256u		/* XDP_PACKET_HEADROOM */
#define XDP_FRAME_SZ 40u		/* sizeof(struct xdp_frame): not usable headroom */
#define PKT_SHINFO_SZ 320u		/* SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) */
#define XDP_MAX_FRAGS 17u		/* MAX_SKB_FRAGS */
#define XDP_MAX_META 216u		/* test_run: ctx_in data (meta length) limit, measured */
#define SKB_TEST_HEADROOM 64u		/* NET_SKB_PAD + NET_IP_ALIGN */
#define SKB_MAX_ALLOC_LEN 16064u	/* BPF_SKB_MAX_LEN = SKB_MAX_ALLOC */
#define SKB_RUNNER_MAX 65535u

#define PKT_LOW_SZ (256u * 1024)
#define PKT_CTX_SZ 4096u
#define PKT_SKB_HEAD_SZ (PKT_LOW_SZ - PKT_CTX_SZ)
#define PKT_SKB_DATA_OFF (96u * 1024)	/* plenty of room for change_head/adjust_room */

/* hook kinds: enum bpfvm_pkt_hook, plus the test-run flavours */
enum pkt_kind {
	PKT_XDP,
	PKT_SKB,
};

/* kernel constants the helpers use */
#define PKT_ENOTSUPP 524		/* the kernel's internal ENOTSUPP */
/* a 16-bit protocol number as it reads from packet bytes with a native load
 * (the representation of skb->protocol and __be16 helper arguments) */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define PKT_BE16(x) ((uint16_t)(x))
#else
#define PKT_BE16(x) ((uint16_t)((((x) >> 8) & 0xff) | (((x) & 0xff) << 8)))
#endif
#define ETH_P_IP_BE PKT_BE16(0x0800)
#define ETH_P_IPV6_BE PKT_BE16(0x86dd)
#define ETH_P_8021Q_BE PKT_BE16(0x8100)
#define ETH_P_8021AD_BE PKT_BE16(0x88a8)
#define ETH_P_802_3_BE PKT_BE16(0x0001)
#define ETH_P_802_2_BE PKT_BE16(0x0004)

/* checksum state of an skb (skb->ip_summed) */
enum {
	PKT_CSUM_NONE = 0,
	PKT_CSUM_UNNECESSARY = 1,
	PKT_CSUM_COMPLETE = 2,
	PKT_CSUM_PARTIAL = 3,
};

/* the uapi contexts (include/uapi/linux/bpf.h layouts) */
struct pkt_xdp_md {
	uint32_t data, data_end, data_meta;
	uint32_t ingress_ifindex, rx_queue_index, egress_ifindex;
};

struct pkt_sk_buff {
	uint32_t len, pkt_type, mark, queue_mapping, protocol;
	uint32_t vlan_present, vlan_tci, vlan_proto, priority;
	uint32_t ingress_ifindex, ifindex, tc_index;
	uint32_t cb[5];
	uint32_t hash, tc_classid, data, data_end, napi_id;
	uint32_t family, remote_ip4, local_ip4, remote_ip6[4], local_ip6[4];
	uint32_t remote_port, local_port;
	uint32_t data_meta;
	uint64_t flow_keys;
	uint64_t tstamp;
	uint32_t wire_len, gso_segs;
	uint64_t sk;
	uint32_t gso_size;
	uint8_t tstamp_type;
	uint8_t pad[3];
	uint64_t hwtstamp;
};

_Static_assert(sizeof(struct pkt_xdp_md) == 24, "struct xdp_md is 24 bytes");
_Static_assert(sizeof(struct pkt_sk_buff) == 192, "struct __sk_buff is 192 bytes");
_Static_assert(offsetof(struct pkt_sk_buff, data_meta) == 140, "__sk_buff.data_meta");
_Static_assert(offsetof(struct pkt_sk_buff, tstamp) == 152, "__sk_buff.tstamp");
_Static_assert(offsetof(struct pkt_sk_buff, gso_size) == 176, "__sk_buff.gso_size");
_Static_assert(offsetof(struct pkt_sk_buff, hwtstamp) == 184, "__sk_buff.hwtstamp");

struct pkt_frag {
	uint8_t *page;		/* PKT_PAGE bytes; the fragment starts at offset 0 */
	uint32_t size;
};

/* the sk_buff fields bpfvm models; offsets are from `head` */
struct pkt_skb {
	uint8_t *head;
	uint32_t head_sz;
	uint32_t data;		/* skb->data - head */
	uint32_t len;		/* linear length (skbs are always linear here) */
	int32_t mac, net, trans;	/* header offsets from head; -1: unset */
	uint16_t protocol;	/* network order, as skb->protocol */
	uint8_t pkt_type;
	bool tc_at_ingress;
	bool vlan_present;
	uint16_t vlan_proto;	/* network order */
	uint16_t vlan_tci;
	uint32_t hash;
	bool l4_hash, sw_hash;
	uint8_t ip_summed, csum_level;
	uint32_t csum;
	bool encapsulation;
	uint32_t gso_size, gso_segs, gso_type;
	uint32_t ifindex, skb_iif;
	uint32_t wire_len;	/* qdisc_skb_cb pkt_len */
	uint64_t hwtstamp;
	uint16_t queue_mapping;	/* the value before the run, for ignored writes */
};

struct pkt_ctx {
	int kind;			/* enum pkt_kind */
	int hook;			/* enum bpfvm_pkt_hook */
	uint32_t prog_type;
	uint8_t *low;			/* PKT_LOW_SZ bytes below 4 GiB */
	void *ctx;			/* low: struct xdp_md or struct __sk_buff */
	uint32_t ctx_sz;
	/* XDP (struct xdp_buff) */
	uint8_t *hard_start;
	uint8_t *data_meta, *data, *data_end;
	uint32_t xdp_zero;		/* the frame page's first xdp_zero bytes are 0 */
	uint32_t ingress_ifindex, rx_queue_index;
	struct pkt_frag frags[XDP_MAX_FRAGS];
	uint32_t nr_frags, frags_size;
	bool has_frags;
	/* skb */
	struct pkt_skb skb;
	/* bpf_redirect_info */
	struct {
		bool set;
		uint32_t ifindex;	/* bpf_redirect ifindex / map key */
		uint64_t flags;
		struct bpfvm_map *map;
		uint32_t map_type;
		const void *value;
	} redir;
	/* checked runs: where the packet region is in run->region, -1 if none */
	int region_pkt;
	bool pkt_writable;
	struct bpfvm_run *run;
	uint8_t *linear;		/* scratch for a multi-buffer output, or NULL */
	size_t linear_sz;
};

/* ---- pkt.c ---- */

/* zeroed, cache-line aligned memory, a whole number of lines (free()) */
void *pkt_line_alloc(size_t size);
/* mmap `size` bytes below 4 GiB (MAP_32BIT, or address hints elsewhere);
 * NULL with errno set when none is free */
void *pkt_low_alloc(size_t size);
void pkt_low_free(void *p, size_t size);
/* A context for `kind` with its low memory; NULL with errno set. */
struct pkt_ctx *pkt_ctx_new(int kind);
void pkt_ctx_free(struct pkt_ctx *pc);
/* Make run use pc: run->hook, ld_abs data and (checked runs) the regions.
 * Call after vm_run_init().  Returns 0 or -E2BIG (too many regions). */
int pkt_attach(struct pkt_ctx *pc, struct bpfvm_run *run);
/* After a helper moved the packet: regions and ld_abs data follow. */
void pkt_update_regions(struct pkt_ctx *pc);
/* The run's packet context when the program's type has one of `kind`, else
 * NULL after stopping the run with a message naming helper `name`.  In
 * checked mode `ctx_arg` must be the context pointer. */
struct pkt_ctx *pkt_from_run(struct bpfvm_run *run, int kind, const char *name,
			     uint64_t ctx_arg);
/* ctx_arg for helpers that take no context argument */
#define PKT_NO_CTX_ARG UINT64_MAX

/* ---- xdp.c ---- */

/* Lay out an XDP buffer: `meta` bytes of metadata then the frame, `len`
 * bytes in all from `in`; bytes past the linear part (PKT_PAGE - headroom -
 * tailroom, and at most `linear_cap` bytes counting the metadata: test_run's
 * ctx_in data_end) go to fragments.  -ENOMEM when more than 17 are needed. */
int xdp_setup(struct pkt_ctx *pc, const uint8_t *in, uint32_t len, uint32_t meta,
	      uint32_t linear_cap);
/* write struct xdp_md from the buffer pointers */
void xdp_sync_ctx(struct pkt_ctx *pc);
/* total length: linear + fragments (bpf_xdp_get_buff_len) */
uint32_t xdp_buff_len(const struct pkt_ctx *pc);
/* Copy [data_meta, end of last fragment) to out (at most cap bytes); returns
 * the full length. */
uint32_t xdp_copy_out(const struct pkt_ctx *pc, uint8_t *out, uint32_t cap, bool with_meta);

/* ---- skb.c ---- */

/* Lay out an skb the way the kernel's test_run / receive path does: the
 * frame copied at PKT_SKB_DATA_OFF, eth_type_trans (protocol, pkt_type
 * against dev_addr and ff:ff:ff:ff:ff:ff; NULL: loopback, whose address and
 * broadcast address are both zero), then data left at the MAC header (`l2`)
 * or pulled to the network header.  len >= 14. */
void skb_setup(struct pkt_ctx *pc, const uint8_t *in, uint32_t len, bool l2,
	       const uint8_t *dev_addr, bool unicast_is_host);
/* write the kernel-owned __sk_buff fields from pc->skb */
void skb_sync_ctx(struct pkt_ctx *pc);
/* apply field widths to the program-written fields after a run */
void skb_finish(struct pkt_ctx *pc);
/* skb->data as a pointer, and the tail */
static inline uint8_t *skb_data(const struct pkt_ctx *pc)
{
	return pc->skb.head + pc->skb.data;
}
/* the kernel's skb_vlan_untag on receive (outer tag into the vlan fields) */
void skb_vlan_untag(struct pkt_ctx *pc);
/* eth_type_trans's protocol for the frame at p (>= 14 bytes + 2 peeked) */
uint16_t skb_eth_proto(const uint8_t *eth, uint32_t avail);
/* flow hash for bpf_get_hash_recalc (deterministic; the kernel's is seeded
 * randomly at boot and cannot be reproduced) */
uint32_t skb_flow_hash(const struct pkt_ctx *pc);

/* skb state changes shared by helpers (skb.c) */
void skb_clear_hash(struct pkt_ctx *pc);
void skb_postpull_rcsum(struct pkt_ctx *pc, const uint8_t *start, uint32_t len);
void skb_postpush_rcsum(struct pkt_ctx *pc, const uint8_t *start, uint32_t len);

/* ---- csum.c: the kernel's checksum arithmetic (x86-64 results) ---- */
uint32_t csum_partial_k(const void *buf, uint32_t len, uint32_t sum);
uint32_t csum_add_k(uint32_t a, uint32_t b);
uint32_t csum_sub_k(uint32_t a, uint32_t b);
uint16_t csum_fold_k(uint32_t sum);
uint32_t csum_block_add_k(uint32_t csum, uint32_t csum2, uint32_t offset);
uint32_t csum_block_sub_k(uint32_t csum, uint32_t csum2, uint32_t offset);
/* in-place updates of a 16-bit checksum field at p (network order) */
void csum_replace_by_diff_k(uint8_t *p, uint32_t diff);
void csum_replace2_k(uint8_t *p, uint16_t from, uint16_t to);
void csum_replace4_k(uint8_t *p, uint32_t from, uint32_t to);

#endif
