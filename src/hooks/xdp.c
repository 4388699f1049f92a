/* xdp.c — the XDP buffer as the kernel's test_run builds it.
 *
 * One 4 KiB frame page: XDP_PACKET_HEADROOM (256) bytes of headroom, of which
 * the first 40 hold the kernel's struct xdp_frame and are out of reach of
 * bpf_xdp_adjust_head/meta; then the metadata (from ctx_in's data field) and
 * the frame; the last 320 bytes are struct skb_shared_info.  So the linear
 * part holds at most 3,520 + meta bytes; the rest of a longer input goes into
 * up to 17 fragment pages of 4 KiB (a multi-buffer packet, whatever the
 * program's xdp.frags flag says, as the kernel's test_run does).
 *
 * A runner reuses the page for every packet: the headroom is cleared again only
 * as far down as the previous run moved data_meta/data (pc->xdp_zero), which
 * xdp_sync_ctx, called after every move, keeps track of.
 */
#include <errno.h>
#include <string.h>

#include "hooks/pkt.h"

int xdp_setup(struct pkt_ctx *pc, const uint8_t *in, uint32_t len, uint32_t meta,
	      uint32_t linear_cap)
{
	uint32_t headroom = XDP_HEADROOM - meta;
	uint32_t max_linear = PKT_PAGE - headroom - PKT_SHINFO_SZ;
	uint32_t linear = len < max_linear ? len : max_linear;

	if (linear > linear_cap)
		linear = linear_cap;

	if (len > linear && (len - linear + PKT_PAGE - 1) / PKT_PAGE > XDP_MAX_FRAGS)
		return -ENOMEM;
	pc->hard_start = pc->low + PKT_CTX_SZ;
	/* the kernel's buffer is zeroed: headroom bytes a program grows into
	 * must read as 0.  Only what the last run could reach (down to the
	 * lowest data_meta/data it had) is cleared again. */
	if (pc->xdp_zero < headroom)
		memset(pc->hard_start + pc->xdp_zero, 0, headroom - pc->xdp_zero);
	pc->xdp_zero = headroom;
	memcpy(pc->hard_start + headroom, in, linear);
	pc->data_meta = pc->hard_start + headroom;
	pc->data = pc->data_meta + meta;
	pc->data_end = pc->data_meta + linear;
	pc->nr_frags = 0;
	pc->frags_size = 0;
	pc->has_frags = false;
	for (uint32_t off = linear; off < len;) {
		struct pkt_frag *f = &pc->frags[pc->nr_frags];
		uint32_t n = len - off < PKT_PAGE ? len - off : PKT_PAGE;
		f->page = pc->low + PKT_CTX_SZ + PKT_PAGE * (1 + pc->nr_frags);
		f->size = n;
		memcpy(f->page, in + off, n);
		pc->nr_frags++;
		pc->frags_size += n;
		off += n;
		pc->has_frags = true;
	}
	pc->redir.set = false;
	xdp_sync_ctx(pc);
	return 0;
}

void xdp_sync_ctx(struct pkt_ctx *pc)
{
	struct pkt_xdp_md *md = pc->ctx;
	const uint8_t *low = pc->data_meta < pc->data ? pc->data_meta : pc->data;
	/* every pointer move passes here: below `low` the program cannot write */
	if ((uint32_t)(low - pc->hard_start) < pc->xdp_zero)
		pc->xdp_zero = (uint32_t)(low - pc->hard_start);
	md->data = (uint32_t)(uintptr_t)pc->data;
	md->data_end = (uint32_t)(uintptr_t)pc->data_end;
	md->data_meta = (uint32_t)(uintptr_t)pc->data_meta;
	md->ingress_ifindex = pc->ingress_ifindex;
	md->rx_queue_index = pc->rx_queue_index;
	md->egress_ifindex = 0;
}

uint32_t xdp_buff_len(const struct pkt_ctx *pc)
{
	return (uint32_t)(pc->data_end - pc->data) + pc->frags_size;
}

uint32_t xdp_copy_out(const struct pkt_ctx *pc, uint8_t *out, uint32_t cap, bool with_meta)
{
	const uint8_t *start = with_meta ? pc->data_meta : pc->data;
	uint32_t lin = (uint32_t)(pc->data_end - start);
	uint32_t total = lin + pc->frags_size, off;

	if (!out)
		return total;
	off = lin < cap ? lin : cap;
	memcpy(out, start, off);
	for (uint32_t i = 0; i < pc->nr_frags && off < cap; i++) {
		uint32_t n = pc->frags[i].size;
		if (n > cap - off)
			n = cap - off;
		memcpy(out + off, pc->frags[i].page, n);
		off += n;
	}
	return total;
}
