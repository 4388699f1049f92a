/* pkt_xdp.c — the XDP helpers: moving the buffer's head, tail and metadata,
 * reading and writing across fragments, redirects.
 *
 * Each works on the run's struct pkt_ctx (hooks/pkt.h), with the kernel's
 * bounds and errno values (net/core/filter.c); after moving a pointer it
 * rewrites struct xdp_md and the checked run's packet region.
 */
#include <errno.h>
#include <string.h>

#include "exec/vm.h"
#include "helpers/helpers.h"
#include "helpers/util.h"
#include "hooks/pkt.h"
#include "maps/map.h"

#define XDP_ABORTED 0
#define XDP_REDIRECT 4
#define BPF_F_BROADCAST (1ull << 3)
#define BPF_F_EXCLUDE_INGRESS (1ull << 4)

static void moved(struct pkt_ctx *pc)
{
	xdp_sync_ctx(pc);
	pkt_update_regions(pc);
}

uint64_t helper_xdp_adjust_head(uint64_t ctx, uint64_t offset, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	struct pkt_ctx *pc = pkt_from_run(run, PKT_XDP, "xdp_adjust_head", ctx);
	if (!pc)
		return 0;
	int32_t off = (int32_t)offset;
	uint32_t metalen = (uint32_t)(pc->data - pc->data_meta);
	uint8_t *data_start = pc->hard_start + XDP_FRAME_SZ + metalen;
	/* pointer arithmetic on intptr_t: out-of-range values must compare */
	intptr_t data = (intptr_t)pc->data + off;

	if (data < (intptr_t)data_start || data > (intptr_t)(pc->data_end - PKT_ETH_HLEN))
		return (uint64_t)-EINVAL;
	if (metalen)
		memmove(pc->data_meta + off, pc->data_meta, metalen);
	pc->data_meta += off;
	pc->data += off;
	moved(pc);
	return 0;
}

uint64_t helper_xdp_adjust_meta(uint64_t ctx, uint64_t offset, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	struct pkt_ctx *pc = pkt_from_run(run, PKT_XDP, "xdp_adjust_meta", ctx);
	if (!pc)
		return 0;
	intptr_t meta = (intptr_t)pc->data_meta + (int32_t)offset;

	if (meta < (intptr_t)(pc->hard_start + XDP_FRAME_SZ) || meta > (intptr_t)pc->data)
		return (uint64_t)-EINVAL;
	uintptr_t metalen = (uintptr_t)pc->data - (uintptr_t)meta;
	/* xdp_metalen_invalid: 4-byte multiples up to 255 (meta_len is a u8) */
	if ((metalen & 3) || metalen > 255)
		return (uint64_t)-EACCES;
	pc->data_meta = (uint8_t *)meta;
	moved(pc);
	return 0;
}

uint64_t helper_xdp_adjust_tail(uint64_t ctx, uint64_t offset, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	struct pkt_ctx *pc = pkt_from_run(run, PKT_XDP, "xdp_adjust_tail", ctx);
	if (!pc)
		return 0;
	int32_t off = (int32_t)offset;

	if (pc->has_frags) {
		if (off < 0) {
			/* bpf_xdp_frags_shrink_tail; -INT_MIN stays negative there
			 * too, and shrinks nothing */
			int32_t shrink = (int32_t)(0u - (uint32_t)off);
			if (shrink > (int32_t)xdp_buff_len(pc) - (int32_t)PKT_ETH_HLEN)
				return (uint64_t)-EINVAL;
			while (pc->nr_frags && shrink > 0) {
				struct pkt_frag *f = &pc->frags[pc->nr_frags - 1];
				uint32_t n = (uint32_t)shrink < f->size ? (uint32_t)shrink : f->size;
				shrink -= (int32_t)n;
				pc->frags_size -= n;
				if (n == f->size)
					pc->nr_frags--;
				else {
					f->size -= n;
					break;
				}
			}
			if (!pc->nr_frags) {
				pc->has_frags = false;
				pc->data_end -= shrink;
			}
		} else {
			/* bpf_xdp_frags_increase_tail: room left in the last page */
			struct pkt_frag *f = &pc->frags[pc->nr_frags - 1];
			if ((uint32_t)off > PKT_PAGE - f->size)
				return (uint64_t)-EINVAL;
			memset(f->page + f->size, 0, (uint32_t)off);
			f->size += (uint32_t)off;
			pc->frags_size += (uint32_t)off;
		}
		moved(pc);
		return 0;
	}
	intptr_t end = (intptr_t)pc->data_end + off;
	intptr_t hard_end = (intptr_t)(pc->hard_start + PKT_PAGE - PKT_SHINFO_SZ);
	if (end > hard_end)
		return (uint64_t)-EINVAL;
	if (end < (intptr_t)(pc->data + PKT_ETH_HLEN))
		return (uint64_t)-EINVAL;
	if (off > 0)
		memset(pc->data_end, 0, (uint32_t)off);
	pc->data_end = (uint8_t *)end;
	moved(pc);
	return 0;
}

uint64_t helper_xdp_get_buff_len(uint64_t ctx, uint64_t r2, uint64_t r3, uint64_t r4,
				 uint64_t r5, struct bpfvm_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	struct pkt_ctx *pc = pkt_from_run(run, PKT_XDP, "xdp_get_buff_len", ctx);
	return pc ? xdp_buff_len(pc) : 0;
}

/* bpf_xdp_copy_buf: len bytes at packet offset off, across fragments */
static void xdp_copy(struct pkt_ctx *pc, uint32_t off, uint8_t *buf, uint32_t len, bool store)
{
	uint8_t *ptr = pc->data;
	uint32_t ptr_len = (uint32_t)(pc->data_end - pc->data), ptr_off = 0, next = 0;

	for (;;) {
		if (off < ptr_off + ptr_len) {
			uint32_t o = off - ptr_off;
			uint32_t n = len < ptr_len - o ? len : ptr_len - o;
			if (store)
				memcpy(ptr + o, buf, n);
			else
				memcpy(buf, ptr + o, n);
			off += n;
			len -= n;
			buf += n;
		}
		if (!len || next == pc->nr_frags)
			break;
		ptr_off += ptr_len;
		ptr = pc->frags[next].page;
		ptr_len = pc->frags[next].size;
		next++;
	}
}

static uint64_t xdp_bytes(struct bpfvm_run *run, const char *name, uint64_t ctx, uint64_t offset,
			  uint64_t buf, uint64_t len, bool store)
{
	struct pkt_ctx *pc = pkt_from_run(run, PKT_XDP, name, ctx);
	uint32_t o = (uint32_t)offset, n = (uint32_t)len;
	if (!pc)
		return 0;
	if (!HELPER_MEM_OK(run, buf, n, !store))
		return helper_bad_ptr(run, name, 3, buf, n);
	if (o > 0xffff || n > 0xffff)
		return (uint64_t)-EFAULT;
	if (o + n > xdp_buff_len(pc))
		return (uint64_t)-EINVAL;
	xdp_copy(pc, o, (uint8_t *)(uintptr_t)buf, n, store);
	return 0;
}

uint64_t helper_xdp_load_bytes(uint64_t ctx, uint64_t offset, uint64_t buf, uint64_t len,
			       uint64_t r5, struct bpfvm_run *run)
{
	(void)r5;
	return xdp_bytes(run, "xdp_load_bytes", ctx, offset, buf, len, false);
}

uint64_t helper_xdp_store_bytes(uint64_t ctx, uint64_t offset, uint64_t buf, uint64_t len,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r5;
	return xdp_bytes(run, "xdp_store_bytes", ctx, offset, buf, len, true);
}

/* ------------------------------------------------------------- redirects */

/* bpf_redirect: XDP and TC differ (bpf_xdp_redirect / bpf_redirect) */
uint64_t helper_redirect(uint64_t ifindex, uint64_t flags, uint64_t r3, uint64_t r4,
			 uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	struct pkt_ctx *pc = run->hook;
	if (!pc) {
		bpfvm_run_abort(run, -EINVAL, "helper bpf_redirect needs a packet: run the program "
				"with bpfvm_prog_test_run() or a packet runner");
		return 0;
	}
	if (pc->kind == PKT_XDP) {
		if (flags)
			return XDP_ABORTED;
		pc->redir.set = true;
		pc->redir.ifindex = (uint32_t)ifindex;
		pc->redir.flags = 0;
		pc->redir.map = NULL;
		pc->redir.map_type = 0;
		pc->redir.value = NULL;
		return XDP_REDIRECT;
	}
	/* TC: BPF_F_INGRESS only */
	if (flags & ~1ull)
		return 2;	/* TC_ACT_SHOT */
	pc->redir.set = true;
	pc->redir.ifindex = (uint32_t)ifindex;
	pc->redir.flags = flags;
	pc->redir.map = NULL;
	pc->redir.map_type = 0;
	pc->redir.value = NULL;
	return 7;	/* TC_ACT_REDIRECT */
}

uint64_t helper_redirect_map(uint64_t map, uint64_t key, uint64_t flags, uint64_t r4,
			     uint64_t r5, struct bpfvm_run *run)
{
	(void)r4, (void)r5;
	struct pkt_ctx *pc = pkt_from_run(run, PKT_XDP, "redirect_map", PKT_NO_CTX_ARG);
	struct bpfvm_map *m = (struct bpfvm_map *)(uintptr_t)map;
	const uint64_t action_mask = 3;	/* XDP_ABORTED | DROP | PASS | TX */
	uint64_t flag_mask = 0;

	if (!pc)
		return 0;
	if (run->checked) {
		bool known = false;
		for (size_t i = 0; i < run->prog->map_cnt && !known; i++)
			known = run->prog->maps[i] == m;
		for (int i = 0; i < run->inner_cnt && !known; i++)
			known = run->inner[i] == m;
		if (!known) {
			bpfvm_run_abort(run, -EINVAL, "helper bpf_redirect_map: argument 1 is not a "
					"map of program '%s'", run->prog->name);
			return 0;
		}
	}
	switch (m->type) {
	case BPFVM_MAP_TYPE_DEVMAP:
	case BPFVM_MAP_TYPE_DEVMAP_HASH:
		flag_mask = BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS;
		break;
	case BPFVM_MAP_TYPE_CPUMAP:
	case BPFVM_MAP_TYPE_XSKMAP:
		break;
	default:
		bpfvm_run_abort(run, -EINVAL, "helper bpf_redirect_map: map '%s' is not a DEVMAP, "
				"DEVMAP_HASH, CPUMAP or XSKMAP", m->name);
		return 0;
	}
	if (flags & ~(action_mask | flag_mask))
		return XDP_ABORTED;
	uint32_t k = (uint32_t)key;
	const void *v = map_lookup(m, &k, run->cpu);
	if (!v && !(flags & BPF_F_BROADCAST)) {
		/* a failed lookup leaves an ifindex-style target (map_id
		 * INT_MAX, type UNSPEC) with the previous index, as the kernel */
		pc->redir.map = NULL;
		pc->redir.map_type = 0;
		pc->redir.value = NULL;
		return flags & action_mask;
	}
	pc->redir.set = true;
	pc->redir.ifindex = k;
	pc->redir.map = m;
	pc->redir.map_type = m->type;
	pc->redir.value = (flags & BPF_F_BROADCAST) ? NULL : v;
	pc->redir.flags = (flags & BPF_F_BROADCAST) ? flags : 0;
	return XDP_REDIRECT;
}
