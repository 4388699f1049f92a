/* csum.c — Internet checksum arithmetic with the kernel's exact results, and
 * the helpers built only on it: bpf_csum_diff, bpf_csum_update,
 * bpf_csum_level, bpf_l3_csum_replace, bpf_l4_csum_replace.
 *
 * The kernel's csum_partial() returns a 32-bit partial sum whose exact value
 * (not only its class modulo 0xffff) reaches programs through bpf_csum_diff.
 * (bpf_csum_diff folds it to 16 bits since Linux 6.13, but bpf_csum_update and
 * skb->csum keep 32.)  On x86-64 it is the one's-complement (end-around carry) sum of the buffer's
 * little-endian 64-bit words, the tail zero-padded, plus the seed, folded to
 * 32 bits.  That value is the unique number in [1, 2^32-1] congruent to the
 * sum modulo 2^32-1 (0 only when every input is 0), so summing 32-bit words
 * with end-around carry gives the same bits; that is what csum_partial_k does.
 * Values are handled in memory order (a checksum field is loaded with a native
 * 16-bit load), as the kernel's __sum16/__wsum are.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "exec/vm.h"
#include "helpers/helpers.h"
#include "helpers/util.h"
#include "hooks/pkt.h"

/* ------------------------------------------------------------ arithmetic */

uint32_t csum_partial_k(const void *buf, uint32_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = sum;
	uint32_t w;

	while (len >= 4) {
		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len) {
		uint8_t tail[4] = { 0, 0, 0, 0 };
		memcpy(tail, p, len);
		memcpy(&w, tail, 4);
		acc += w;
	}
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint32_t csum_add_k(uint32_t a, uint32_t b)
{
	uint32_t r = a + b;
	return r + (r < b);
}

uint32_t csum_sub_k(uint32_t a, uint32_t b)
{
	return csum_add_k(a, ~b);
}

uint16_t csum_fold_k(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t csum_block_add_k(uint32_t csum, uint32_t csum2, uint32_t offset)
{
	if (offset & 1)
		csum2 = (csum2 >> 8) | (csum2 << 24);	/* ror32(csum2, 8) */
	return csum_add_k(csum, csum2);
}

uint32_t csum_block_sub_k(uint32_t csum, uint32_t csum2, uint32_t offset)
{
	return csum_block_add_k(csum, ~csum2, offset);
}

static uint16_t csum16_add(uint16_t a, uint16_t b)
{
	uint16_t r = (uint16_t)(a + b);
	return (uint16_t)(r + (r < b));
}

static uint16_t ld16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static void st16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

void csum_replace_by_diff_k(uint8_t *p, uint32_t diff)
{
	st16(p, csum_fold_k(csum_add_k(diff, ~(uint32_t)ld16(p))));
}

void csum_replace2_k(uint8_t *p, uint16_t from, uint16_t to)
{
	uint16_t s = (uint16_t)~ld16(p);
	s = csum16_add(s, (uint16_t)~from);	/* csum16_sub */
	st16(p, (uint16_t)~csum16_add(s, to));
}

void csum_replace4_k(uint8_t *p, uint32_t from, uint32_t to)
{
	uint32_t tmp = csum_sub_k(~(uint32_t)ld16(p), from);
	st16(p, csum_fold_k(csum_add_k(tmp, to)));
}

/* inet_proto_csum_replace4/2/_by_diff: the L4 field, and skb->csum for a
 * pseudo-header change on a CHECKSUM_COMPLETE skb */
static void proto_replace4(struct pkt_skb *skb, uint8_t *p, uint32_t from, uint32_t to,
			   bool pseudo)
{
	if (skb->ip_summed != PKT_CSUM_PARTIAL) {
		csum_replace4_k(p, from, to);
		if (skb->ip_summed == PKT_CSUM_COMPLETE && pseudo)
			skb->csum = ~csum_add_k(csum_sub_k(~skb->csum, from), to);
	} else if (pseudo) {
		st16(p, (uint16_t)~csum_fold_k(csum_add_k(csum_sub_k(ld16(p), from), to)));
	}
}

static void proto_replace_by_diff(struct pkt_skb *skb, uint8_t *p, uint32_t diff, bool pseudo,
				  bool ipv6)
{
	if (skb->ip_summed != PKT_CSUM_PARTIAL) {
		csum_replace_by_diff_k(p, diff);
		if (skb->ip_summed == PKT_CSUM_COMPLETE && pseudo && !ipv6)
			skb->csum = ~csum_sub_k(diff, skb->csum);
	} else if (pseudo) {
		st16(p, (uint16_t)~csum_fold_k(csum_add_k(diff, ld16(p))));
	}
}

/* --------------------------------------------------------------- helpers */

#define BPF_F_HDR_FIELD_MASK 0xfull
#define BPF_F_PSEUDO_HDR (1ull << 4)
#define BPF_F_MARK_MANGLED_0 (1ull << 5)
#define BPF_F_MARK_ENFORCE (1ull << 6)
#define BPF_F_IPV6 (1ull << 7)
#define CSUM_MANGLED_0 0xffff

/* Linux 6.18 (measured): no alignment or size limit any more; the partial
 * sums are combined as below and folded to 16 bits (not complemented), the
 * same on every architecture. */
uint64_t helper_csum_diff(uint64_t from, uint64_t from_size, uint64_t to, uint64_t to_size,
			  uint64_t seed, struct bpfvm_run *run)
{
	uint32_t fs = (uint32_t)from_size, ts = (uint32_t)to_size, sum;

	if (fs && !HELPER_MEM_OK(run, from, fs, 0))
		return helper_bad_ptr(run, "csum_diff", 1, from, fs);
	if (ts && !HELPER_MEM_OK(run, to, ts, 0))
		return helper_bad_ptr(run, "csum_diff", 3, to, ts);
	const void *f = (const void *)(uintptr_t)from, *t = (const void *)(uintptr_t)to;
	if (!ts)	/* pulling data: the seed minus the old bytes */
		sum = ~csum_partial_k(f, fs, ~(uint32_t)seed);
	else if (!fs)	/* pushing data */
		sum = csum_partial_k(t, ts, (uint32_t)seed);
	else
		sum = csum_sub_k(csum_partial_k(t, ts, (uint32_t)seed), csum_partial_k(f, fs, 0));
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint64_t helper_csum_update(uint64_t ctx, uint64_t csum, uint64_t r3, uint64_t r4, uint64_t r5,
			    struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	struct pkt_ctx *pc = pkt_from_run(run, PKT_SKB, "csum_update", ctx);
	if (!pc)
		return 0;
	if (pc->skb.ip_summed == PKT_CSUM_COMPLETE)
		return pc->skb.csum = csum_add_k(pc->skb.csum, (uint32_t)csum);
	return (uint64_t)-PKT_ENOTSUPP;
}

uint64_t helper_csum_level(uint64_t ctx, uint64_t level, uint64_t r3, uint64_t r4, uint64_t r5,
			   struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	struct pkt_ctx *pc = pkt_from_run(run, PKT_SKB, "csum_level", ctx);
	if (!pc)
		return 0;
	struct pkt_skb *skb = &pc->skb;
	switch (level) {
	case 0:	/* BPF_CSUM_LEVEL_QUERY */
		return skb->ip_summed == PKT_CSUM_UNNECESSARY ? skb->csum_level
							       : (uint64_t)-EACCES;
	case 1:	/* INC: __skb_incr_checksum_unnecessary */
		if (skb->ip_summed == PKT_CSUM_UNNECESSARY) {
			if (skb->csum_level < 3)	/* SKB_MAX_CSUM_LEVEL */
				skb->csum_level++;
		} else if (skb->ip_summed == PKT_CSUM_NONE) {
			skb->ip_summed = PKT_CSUM_UNNECESSARY;
			skb->csum_level = 0;
		}
		return 0;
	case 2:	/* DEC */
		if (skb->ip_summed == PKT_CSUM_UNNECESSARY) {
			if (skb->csum_level == 0)
				skb->ip_summed = PKT_CSUM_NONE;
			else
				skb->csum_level--;
		}
		return 0;
	case 3:	/* RESET */
		if (skb->ip_summed == PKT_CSUM_UNNECESSARY) {
			skb->ip_summed = PKT_CSUM_NONE;
			skb->csum_level = 0;
		}
		return 0;
	default:
		return (uint64_t)-EINVAL;
	}
}

/* the 2 bytes at skb->data + offset, after the kernel's checks; NULL with
 * *err set otherwise */
static uint8_t *csum_field(struct pkt_ctx *pc, uint64_t offset, int *err)
{
	if ((uint32_t)offset > 0xffff || (offset & 1)) {
		*err = -EFAULT;
		return NULL;
	}
	/* bpf_try_make_writable: pskb_may_pull(offset + 2) */
	if ((uint32_t)offset + 2 > pc->skb.len) {
		*err = -EFAULT;
		return NULL;
	}
	return skb_data(pc) + (uint32_t)offset;
}

uint64_t helper_l3_csum_replace(uint64_t ctx, uint64_t offset, uint64_t from, uint64_t to,
				uint64_t flags, struct bpfvm_run *run)
{
	struct pkt_ctx *pc = pkt_from_run(run, PKT_SKB, "l3_csum_replace", ctx);
	int err = 0;
	if (!pc)
		return 0;
	if (flags & ~BPF_F_HDR_FIELD_MASK)
		return (uint64_t)-EINVAL;
	uint8_t *p = csum_field(pc, offset, &err);
	if (!p)
		return (uint64_t)(int64_t)err;
	switch (flags & BPF_F_HDR_FIELD_MASK) {
	case 0:
		if (from != 0)
			return (uint64_t)-EINVAL;
		csum_replace_by_diff_k(p, (uint32_t)to);
		break;
	case 2:
		csum_replace2_k(p, (uint16_t)from, (uint16_t)to);
		break;
	case 4:
		csum_replace4_k(p, (uint32_t)from, (uint32_t)to);
		break;
	default:
		return (uint64_t)-EINVAL;
	}
	return 0;
}

uint64_t helper_l4_csum_replace(uint64_t ctx, uint64_t offset, uint64_t from, uint64_t to,
				uint64_t flags, struct bpfvm_run *run)
{
	struct pkt_ctx *pc = pkt_from_run(run, PKT_SKB, "l4_csum_replace", ctx);
	bool pseudo = flags & BPF_F_PSEUDO_HDR, mmzero = flags & BPF_F_MARK_MANGLED_0;
	bool mforce = flags & BPF_F_MARK_ENFORCE, ipv6 = flags & BPF_F_IPV6;
	int err = 0;

	if (!pc)
		return 0;
	if (flags & ~(BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR |
		      BPF_F_HDR_FIELD_MASK | BPF_F_IPV6))
		return (uint64_t)-EINVAL;
	uint8_t *p = csum_field(pc, offset, &err);
	if (!p)
		return (uint64_t)(int64_t)err;
	if (mmzero && !mforce && ld16(p) == 0)
		return 0;
	switch (flags & BPF_F_HDR_FIELD_MASK) {
	case 0:
		if (from != 0)
			return (uint64_t)-EINVAL;
		proto_replace_by_diff(&pc->skb, p, (uint32_t)to, pseudo, ipv6);
		break;
	case 2:
		proto_replace4(&pc->skb, p, (uint16_t)from, (uint16_t)to, pseudo);
		break;
	case 4:
		proto_replace4(&pc->skb, p, (uint32_t)from, (uint32_t)to, pseudo);
		break;
	default:
		return (uint64_t)-EINVAL;
	}
	if (mmzero && ld16(p) == 0)
		st16(p, CSUM_MANGLED_0);
	return 0;
}
