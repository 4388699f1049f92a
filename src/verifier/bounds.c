/* bounds.c — the scalar value domain: what is known of a number.
 *
 * A scalar register carries five views of the same unknown value: its bits
 * (a tnum), its range as a signed and as an unsigned 64-bit number, and the
 * same two ranges for its low 32 bits.  Every view is sound on its own; after
 * each operation reg_bounds_sync() lets them sharpen one another (a
 * non-negative signed range is also an unsigned one, known high bits bound
 * the range, a range bounds the unknown bits, ...).
 *
 * Arithmetic is done in 128 bits so that "did it wrap?" is a comparison: a
 * range whose ends wrap by the same amount stays a range, one that wraps at
 * one end only becomes unbounded.  Division and modulo are not tracked, and
 * shifts only by a known amount (as the kernel).  Branch refinement narrows
 * both operands of a comparison for the outcome taken; an outcome that leaves
 * an empty range is impossible and reported so.
 */
#include <string.h>

#include "verifier/verifier_int.h"

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/* one width's ranges: w = 32 holds s32/u32 values (sign / zero extended) */
struct bnd {
	int64_t smin, smax;
	uint64_t umin, umax;
};

static uint64_t umax_w(int w)
{
	return w == 64 ? UINT64_MAX : UINT32_MAX;
}

static int64_t smin_w(int w)
{
	return w == 64 ? INT64_MIN : INT32_MIN;
}

static int64_t smax_w(int w)
{
	return w == 64 ? INT64_MAX : INT32_MAX;
}

static struct bnd bnd_get(const struct vreg *r, int w)
{
	if (w == 64)
		return (struct bnd){ r->smin, r->smax, r->umin, r->umax };
	return (struct bnd){ r->s32_min, r->s32_max, r->u32_min, r->u32_max };
}

static void bnd_set(struct vreg *r, struct bnd b, int w)
{
	if (w == 64) {
		r->smin = b.smin;
		r->smax = b.smax;
		r->umin = b.umin;
		r->umax = b.umax;
	} else {
		r->s32_min = (int32_t)b.smin;
		r->s32_max = (int32_t)b.smax;
		r->u32_min = (uint32_t)b.umin;
		r->u32_max = (uint32_t)b.umax;
	}
}

static struct bnd bnd_full(int w)
{
	return (struct bnd){ smin_w(w), smax_w(w), 0, umax_w(w) };
}

/* a signed 128-bit range of results, folded back into width w */
static void fold_s(struct bnd *out, i128 lo, i128 hi, int w)
{
	i128 mn = smin_w(w), mx = smax_w(w), span = (i128)1 << w;
	if (lo >= mn && hi <= mx) {
		out->smin = (int64_t)lo;
		out->smax = (int64_t)hi;
	} else if (hi - lo < span && lo > mx && hi > mx && hi - span <= mx) {
		out->smin = (int64_t)(lo - span);
		out->smax = (int64_t)(hi - span);
	} else if (hi - lo < span && lo < mn && hi < mn && lo + span >= mn) {
		out->smin = (int64_t)(lo + span);
		out->smax = (int64_t)(hi + span);
	} else {
		out->smin = smin_w(w);
		out->smax = smax_w(w);
	}
}

static void fold_u(struct bnd *out, i128 lo, i128 hi, int w)
{
	i128 mx = (i128)umax_w(w), span = (i128)1 << w;
	if (lo >= 0 && hi <= mx) {
		out->umin = (uint64_t)lo;
		out->umax = (uint64_t)hi;
	} else if (hi - lo < span && lo > mx && hi - span <= mx) {
		out->umin = (uint64_t)(lo - span);
		out->umax = (uint64_t)(hi - span);
	} else if (hi - lo < span && hi < 0 && lo + span >= 0) {
		out->umin = (uint64_t)(lo + span);
		out->umax = (uint64_t)(hi + span);
	} else {
		out->umin = 0;
		out->umax = umax_w(w);
	}
}

static struct bnd bnd_add(struct bnd a, struct bnd b, int w)
{
	struct bnd r;
	fold_s(&r, (i128)a.smin + b.smin, (i128)a.smax + b.smax, w);
	fold_u(&r, (i128)a.umin + b.umin, (i128)a.umax + b.umax, w);
	return r;
}

static struct bnd bnd_sub(struct bnd a, struct bnd b, int w)
{
	struct bnd r;
	fold_s(&r, (i128)a.smin - b.smax, (i128)a.smax - b.smin, w);
	fold_u(&r, (i128)a.umin - (i128)b.umax, (i128)a.umax - (i128)b.umin, w);
	return r;
}

static struct bnd bnd_mul(struct bnd a, struct bnd b, int w)
{
	struct bnd r = bnd_full(w);
	u128 hi = (u128)a.umax * b.umax;
	if (hi <= umax_w(w)) {
		r.umin = a.umin * b.umin;
		r.umax = (uint64_t)hi;
	}
	i128 c[4] = { (i128)a.smin * b.smin, (i128)a.smin * b.smax, (i128)a.smax * b.smin,
		      (i128)a.smax * b.smax };
	i128 lo = c[0], hh = c[0];
	for (int i = 1; i < 4; i++) {
		if (c[i] < lo)
			lo = c[i];
		if (c[i] > hh)
			hh = c[i];
	}
	if (lo >= smin_w(w) && hh <= smax_w(w)) {
		r.smin = (int64_t)lo;
		r.smax = (int64_t)hh;
	}
	return r;
}

/* ------------------------------------------------------- register marks -- */

static void reg_clear(struct vreg *r)
{
	uint8_t live = r->live;
	memset(r, 0, sizeof(*r));
	r->live = live;
}

void reg_bounds_unbounded(struct vreg *r)
{
	r->smin = INT64_MIN;
	r->smax = INT64_MAX;
	r->umin = 0;
	r->umax = UINT64_MAX;
	r->s32_min = INT32_MIN;
	r->s32_max = INT32_MAX;
	r->u32_min = 0;
	r->u32_max = UINT32_MAX;
}

void reg_mark_known(struct vreg *r, uint64_t v)
{
	reg_clear(r);
	r->type = SCALAR_VALUE;
	r->var_off = tnum_const(v);
	r->smin = (int64_t)v;
	r->smax = (int64_t)v;
	r->umin = v;
	r->umax = v;
	r->s32_min = (int32_t)(uint32_t)v;
	r->s32_max = (int32_t)(uint32_t)v;
	r->u32_min = (uint32_t)v;
	r->u32_max = (uint32_t)v;
}

void reg_mark_unknown_scalar(struct vreg *r)
{
	reg_clear(r);
	r->type = SCALAR_VALUE;
	r->var_off = tnum_unknown;
	reg_bounds_unbounded(r);
}

void reg_mark_not_init(struct vreg *r)
{
	reg_mark_unknown_scalar(r);
	r->type = NOT_INIT;
}

bool reg_is_const(const struct vreg *r)
{
	return r->type == SCALAR_VALUE && tnum_is_const(r->var_off);
}

bool reg_is_const32(const struct vreg *r)
{
	return r->type == SCALAR_VALUE && tnum_subreg_is_const(r->var_off);
}

/* ---------------------------------------------------------------- sync -- */

static int64_t max_s(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min_s(int64_t a, int64_t b) { return a < b ? a : b; }
static uint64_t max_u(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t min_u(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* ranges from the known bits */
static void update_from_tnum(struct vreg *r)
{
	struct tnum t = r->var_off, t32 = tnum_subreg(t);
	r->smin = max_s(r->smin, (int64_t)(t.value | (t.mask & (1ull << 63))));
	r->smax = min_s(r->smax, (int64_t)(t.value | (t.mask & ~(1ull << 63))));
	r->umin = max_u(r->umin, t.value);
	r->umax = min_u(r->umax, t.value | t.mask);
	int32_t s32lo = (int32_t)(uint32_t)(t32.value | (t32.mask & 0x80000000u));
	int32_t s32hi = (int32_t)(uint32_t)(t32.value | (t32.mask & 0x7fffffffu));
	r->s32_min = r->s32_min > s32lo ? r->s32_min : s32lo;
	r->s32_max = r->s32_max < s32hi ? r->s32_max : s32hi;
	uint32_t u32lo = (uint32_t)t32.value, u32hi = (uint32_t)(t32.value | t32.mask);
	r->u32_min = r->u32_min > u32lo ? r->u32_min : u32lo;
	r->u32_max = r->u32_max < u32hi ? r->u32_max : u32hi;
}

static void deduce32(struct vreg *r)
{
	/* the 64-bit range may pin the low half */
	if ((r->umin >> 32) == (r->umax >> 32)) {
		uint32_t lo = (uint32_t)r->umin, hi = (uint32_t)r->umax;
		r->u32_min = r->u32_min > lo ? r->u32_min : lo;
		r->u32_max = r->u32_max < hi ? r->u32_max : hi;
		if ((int32_t)lo <= (int32_t)hi) {
			r->s32_min = r->s32_min > (int32_t)lo ? r->s32_min : (int32_t)lo;
			r->s32_max = r->s32_max < (int32_t)hi ? r->s32_max : (int32_t)hi;
		}
	}
	if ((r->smin >> 32) == (r->smax >> 32)) {
		uint32_t lo = (uint32_t)r->smin, hi = (uint32_t)r->smax;
		if (lo <= hi) {
			r->u32_min = r->u32_min > lo ? r->u32_min : lo;
			r->u32_max = r->u32_max < hi ? r->u32_max : hi;
		}
		if ((int32_t)lo <= (int32_t)hi) {
			r->s32_min = r->s32_min > (int32_t)lo ? r->s32_min : (int32_t)lo;
			r->s32_max = r->s32_max < (int32_t)hi ? r->s32_max : (int32_t)hi;
		}
	}
	/* the 64-bit range crosses one 2^32 boundary from a negative low half
	 * to a non-negative one (e.g. [-1, 255]): the low halves still form
	 * one s32 range, [(s32)min, (s32)max] (the kernel's special case) */
	if ((uint32_t)(r->umin >> 32) + 1 == (uint32_t)(r->umax >> 32) &&
	    (int32_t)r->umin < 0 && (int32_t)r->umax >= 0) {
		r->s32_min = r->s32_min > (int32_t)r->umin ? r->s32_min : (int32_t)r->umin;
		r->s32_max = r->s32_max < (int32_t)r->umax ? r->s32_max : (int32_t)r->umax;
	}
	if ((uint32_t)((uint64_t)r->smin >> 32) + 1 == (uint32_t)((uint64_t)r->smax >> 32) &&
	    (int32_t)r->smin < 0 && (int32_t)r->smax >= 0) {
		r->s32_min = r->s32_min > (int32_t)r->smin ? r->s32_min : (int32_t)r->smin;
		r->s32_max = r->s32_max < (int32_t)r->smax ? r->s32_max : (int32_t)r->smax;
	}
	/* signed and unsigned 32-bit views */
	if ((int32_t)r->u32_min <= (int32_t)r->u32_max) {
		r->s32_min = r->s32_min > (int32_t)r->u32_min ? r->s32_min : (int32_t)r->u32_min;
		r->s32_max = r->s32_max < (int32_t)r->u32_max ? r->s32_max : (int32_t)r->u32_max;
	}
	if ((uint32_t)r->s32_min <= (uint32_t)r->s32_max) {
		r->u32_min = r->u32_min > (uint32_t)r->s32_min ? r->u32_min : (uint32_t)r->s32_min;
		r->u32_max = r->u32_max < (uint32_t)r->s32_max ? r->u32_max : (uint32_t)r->s32_max;
	}
}

static void deduce64(struct vreg *r)
{
	if ((uint64_t)r->smin <= (uint64_t)r->smax) {
		r->umin = max_u(r->umin, (uint64_t)r->smin);
		r->umax = min_u(r->umax, (uint64_t)r->smax);
	}
	if ((int64_t)r->umin <= (int64_t)r->umax) {
		r->smin = max_s(r->smin, (int64_t)r->umin);
		r->smax = min_s(r->smax, (int64_t)r->umax);
	}
}

/* the low half's range bounds the whole: x >= (umin's high part | u32_min) */
static void deduce_mixed(struct vreg *r)
{
	uint64_t nu_min = (r->umin & ~0xffffffffull) | r->u32_min;
	uint64_t nu_max = (r->umax & ~0xffffffffull) | r->u32_max;
	r->umin = max_u(r->umin, nu_min);
	r->umax = min_u(r->umax, nu_max);
	int64_t ns_min = (int64_t)(((uint64_t)r->smin & ~0xffffffffull) | r->u32_min);
	int64_t ns_max = (int64_t)(((uint64_t)r->smax & ~0xffffffffull) | r->u32_max);
	r->smin = max_s(r->smin, ns_min);
	r->smax = min_s(r->smax, ns_max);
}

static void bound_offset(struct vreg *r)
{
	struct tnum t64 = tnum_intersect(r->var_off, tnum_range(r->umin, r->umax));
	struct tnum t32 = tnum_intersect(tnum_subreg(t64), tnum_range(r->u32_min, r->u32_max));
	r->var_off = tnum_or(tnum_clear_subreg(t64), t32);
}

bool reg_bounds_ok(const struct vreg *r)
{
	if (r->smin > r->smax || r->umin > r->umax || r->s32_min > r->s32_max ||
	    r->u32_min > r->u32_max)
		return false;
	/* the tnum must have a member inside the unsigned range */
	if (r->var_off.value > r->umax || (r->var_off.value | r->var_off.mask) < r->umin)
		return false;
	return true;
}

void reg_bounds_sync(struct vreg *r)
{
	update_from_tnum(r);
	for (int i = 0; i < 2; i++) {
		deduce32(r);
		deduce64(r);
		deduce_mixed(r);
	}
	if (reg_bounds_ok(r)) {
		bound_offset(r);
		update_from_tnum(r);
	}
}

void reg_zext32(struct vreg *r)
{
	r->var_off = tnum_subreg(r->var_off);
	r->umin = r->u32_min;
	r->umax = r->u32_max;
	r->smin = r->u32_min;
	r->smax = r->u32_max;
	reg_bounds_sync(r);
}

void reg_subreg_unknown(struct vreg *r)
{
	r->s32_min = INT32_MIN;
	r->s32_max = INT32_MAX;
	r->u32_min = 0;
	r->u32_max = UINT32_MAX;
}

/* after a 64-bit result: the 32-bit views start over from the tnum */
void reg_assign_32_into_64(struct vreg *r)
{
	reg_subreg_unknown(r);
	reg_bounds_sync(r);
}

/* ----------------------------------------------------------------- ALU -- */

/* ranges for and/or/xor come from the resulting bits; signed ranges only when
 * both operands are non-negative */
static struct bnd bnd_bitwise(struct bnd a, struct bnd b, struct tnum t, uint8_t opn, int w)
{
	struct bnd r = bnd_full(w);
	uint64_t tv = w == 64 ? t.value : (uint32_t)t.value;
	uint64_t tm = w == 64 ? t.mask : (uint32_t)t.mask;
	switch (opn) {
	case 0x50: /* and */
		r.umin = tv;
		r.umax = min_u(a.umax, b.umax);
		break;
	case 0x40: /* or */
		r.umin = max_u(a.umin, b.umin);
		r.umax = tv | tm;
		break;
	default: /* xor */
		r.umin = tv;
		r.umax = tv | tm;
		break;
	}
	if (a.smin >= 0 && b.smin >= 0 && r.umax <= (uint64_t)smax_w(w)) {
		r.smin = (int64_t)r.umin;
		r.smax = (int64_t)r.umax;
	}
	return r;
}

/* one width of dst OP src; *t receives the bits (already cut to w) */
static bool alu_width(struct bnd *out, struct tnum *t, struct bnd a, struct bnd b,
		      struct tnum ta, struct tnum tb, bool src_const, uint64_t k, uint8_t opn, int w)
{
	switch (opn) {
	case 0x00:
		*out = bnd_add(a, b, w);
		*t = tnum_add(ta, tb);
		break;
	case 0x10:
		*out = bnd_sub(a, b, w);
		*t = tnum_sub(ta, tb);
		break;
	case 0x80: { /* neg = 0 - a */
		struct bnd z = { 0, 0, 0, 0 };
		*out = bnd_sub(z, a, w);
		*t = tnum_neg(ta);
		break;
	}
	case 0x20:
		*out = bnd_mul(a, b, w);
		*t = tnum_mul(ta, tb);
		break;
	case 0x40:
		*t = tnum_or(ta, tb);
		*out = bnd_bitwise(a, b, w == 32 ? tnum_subreg(*t) : *t, opn, w);
		break;
	case 0x50:
		*t = tnum_and(ta, tb);
		*out = bnd_bitwise(a, b, w == 32 ? tnum_subreg(*t) : *t, opn, w);
		break;
	case 0xa0:
		*t = tnum_xor(ta, tb);
		*out = bnd_bitwise(a, b, w == 32 ? tnum_subreg(*t) : *t, opn, w);
		break;
	case 0x60: /* lsh */
		if (!src_const || k >= (uint64_t)w)
			return false;
		*out = bnd_full(w);
		if (a.umax <= (umax_w(w) >> k)) {
			out->umin = a.umin << k;
			out->umax = a.umax << k;
		}
		*t = tnum_lshift(ta, (uint8_t)k);
		break;
	case 0x70: /* rsh */
		if (!src_const || k >= (uint64_t)w)
			return false;
		*out = bnd_full(w);
		out->umin = a.umin >> k;
		out->umax = a.umax >> k;
		*t = tnum_rshift(w == 32 ? tnum_subreg(ta) : ta, (uint8_t)k);
		break;
	case 0xc0: /* arsh */
		if (!src_const || k >= (uint64_t)w)
			return false;
		*out = bnd_full(w);
		out->smin = a.smin >> k;
		out->smax = a.smax >> k;
		*t = tnum_arshift(ta, (uint8_t)k, (uint8_t)w);
		break;
	default: /* div, mod: not tracked */
		return false;
	}
	if (w == 32)
		*t = tnum_subreg(*t);
	return true;
}

void scalar_alu(struct vreg *dst, const struct vreg *src, uint8_t opn, bool alu32)
{
	bool sc = src && tnum_is_const(alu32 ? tnum_subreg(src->var_off) : src->var_off);
	uint64_t k = src ? (alu32 ? (uint32_t)src->var_off.value : src->var_off.value) : 0;
	struct tnum tb = src ? src->var_off : tnum_const(0);
	struct bnd b32 = src ? bnd_get(src, 32) : (struct bnd){ 0, 0, 0, 0 };
	struct bnd b64 = src ? bnd_get(src, 64) : (struct bnd){ 0, 0, 0, 0 };
	struct bnd r32, r64;
	struct tnum t32, t64;
	uint8_t precise = dst->precise;

	if (alu32) {
		if (!alu_width(&r32, &t32, bnd_get(dst, 32), b32, tnum_subreg(dst->var_off),
			       tnum_subreg(tb), sc, k, opn, 32)) {
			reg_mark_unknown_scalar(dst);
			dst->precise = precise;
			reg_zext32(dst);
			return;
		}
		reg_bounds_unbounded(dst);
		bnd_set(dst, r32, 32);
		dst->var_off = t32;
		dst->id = 0;
		dst->off = 0;
		reg_zext32(dst);
		return;
	}
	if (!alu_width(&r64, &t64, bnd_get(dst, 64), b64, dst->var_off, tb, sc, k, opn, 64)) {
		reg_mark_unknown_scalar(dst);
		dst->precise = precise;
		return;
	}
	/* the low half of add/sub/mul/neg/bitwise/lsh depends only on the
	 * low halves of the operands */
	bool low_ok = opn != 0x70 && opn != 0xc0;
	if (low_ok && (opn != 0x60 || k < 32) &&
	    alu_width(&r32, &t32, bnd_get(dst, 32), b32, tnum_subreg(dst->var_off),
		      tnum_subreg(tb), sc, k, opn, 32)) {
		if (opn == 0x60 && k >= 32)
			r32 = bnd_full(32);
	} else {
		r32 = bnd_full(32);
	}
	reg_bounds_unbounded(dst);
	bnd_set(dst, r64, 64);
	bnd_set(dst, r32, 32);
	dst->var_off = t64;
	dst->id = 0;
	dst->off = 0;
	reg_bounds_sync(dst);
}

void scalar_movsx(struct vreg *dst, const struct vreg *src, int bits, bool alu32)
{
	int64_t lo = -((int64_t)1 << (bits - 1)), hi = ((int64_t)1 << (bits - 1)) - 1;
	bool fits;
	if (alu32 || bits == 32)
		fits = bits == 32 ? src->smin >= lo && src->smax <= hi
				  : src->s32_min >= lo && src->s32_max <= hi;
	else
		fits = src->smin >= lo && src->smax <= hi;
	uint8_t live = dst->live;
	if (fits && (!alu32 || bits < 32)) {
		*dst = *src;
		dst->live = live;
		dst->id = 0;
		if (alu32)
			reg_zext32(dst);
		return;
	}
	reg_mark_unknown_scalar(dst);
	if (alu32) {
		dst->s32_min = (int32_t)lo;
		dst->s32_max = (int32_t)hi;
		reg_bounds_sync(dst);
		reg_zext32(dst);
	} else {
		dst->smin = lo;
		dst->smax = hi;
		reg_bounds_sync(dst);
	}
}

void scalar_bswap(struct vreg *dst, int bits, bool swap, bool is_bswap)
{
	(void)is_bswap;
	struct tnum t = dst->var_off;
	if (!swap) { /* le on a little-endian machine: truncation */
		uint64_t max = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
		if (dst->umax <= max && bits >= 32) {
			if (bits == 32)
				reg_zext32(dst);
			return;
		}
		if (dst->umax <= max)
			return;
		t = tnum_cast(t, (uint8_t)(bits / 8));
	} else {
		t = bits == 16 ? tnum_bswap16(t) : bits == 32 ? tnum_bswap32(t) : tnum_bswap64(t);
	}
	uint8_t precise = dst->precise;
	reg_mark_unknown_scalar(dst);
	dst->precise = precise;
	dst->var_off = t;
	reg_bounds_sync(dst);
}

/* -------------------------------------------------------------- branches -- */

uint8_t jmp_negate(uint8_t opn)
{
	switch (opn) {
	case 0x10: return 0x50;
	case 0x50: return 0x10;
	case 0x20: return 0xb0;	/* jgt -> jle */
	case 0xb0: return 0x20;
	case 0x30: return 0xa0;	/* jge -> jlt */
	case 0xa0: return 0x30;
	case 0x60: return 0xd0;	/* jsgt -> jsle */
	case 0xd0: return 0x60;
	case 0x70: return 0xc0;	/* jsge -> jslt */
	case 0xc0: return 0x70;
	case 0x40: return 0xf0;	/* jset -> "no common bit" */
	case 0xf0: return 0x40;
	default: return opn;
	}
}

uint8_t jmp_flip(uint8_t opn)
{
	switch (opn) {
	case 0x20: return 0xa0;
	case 0xa0: return 0x20;
	case 0x30: return 0xb0;
	case 0xb0: return 0x30;
	case 0x60: return 0xc0;
	case 0xc0: return 0x60;
	case 0x70: return 0xd0;
	case 0xd0: return 0x70;
	default: return opn;
	}
}

int scalar_branch_taken(const struct vreg *a, const struct vreg *b, uint8_t opn, bool is32)
{
	int w = is32 ? 32 : 64;
	struct bnd x = bnd_get(a, w), y = bnd_get(b, w);
	struct tnum ta = is32 ? tnum_subreg(a->var_off) : a->var_off;
	struct tnum tb = is32 ? tnum_subreg(b->var_off) : b->var_off;
	switch (opn) {
	case 0x10: /* jeq */
	case 0x50: { /* jne */
		int eq = -1;
		if (tnum_is_const(ta) && tnum_is_const(tb))
			eq = ta.value == tb.value;
		else if (x.umin > y.umax || x.umax < y.umin || x.smin > y.smax || x.smax < y.smin)
			eq = 0;
		else if ((ta.value ^ tb.value) & ~(ta.mask | tb.mask))
			eq = 0;
		if (eq < 0)
			return -1;
		return opn == 0x10 ? eq : !eq;
	}
	case 0x40: /* jset */
	case 0xf0: {
		struct tnum t = ta;
		uint64_t v;
		if (tnum_is_const(tb))
			v = tb.value;
		else if (tnum_is_const(ta)) {
			v = ta.value;
			t = tb;
		} else
			return -1;
		int set = -1;
		if (t.value & v)
			set = 1;
		else if (!((t.value | t.mask) & v))
			set = 0;
		if (set < 0)
			return -1;
		return opn == 0x40 ? set : !set;
	}
	case 0x20: /* a > b */
		if (x.umin > y.umax) return 1;
		if (x.umax <= y.umin) return 0;
		return -1;
	case 0x30:
		if (x.umin >= y.umax) return 1;
		if (x.umax < y.umin) return 0;
		return -1;
	case 0xa0:
		if (x.umax < y.umin) return 1;
		if (x.umin >= y.umax) return 0;
		return -1;
	case 0xb0:
		if (x.umax <= y.umin) return 1;
		if (x.umin > y.umax) return 0;
		return -1;
	case 0x60:
		if (x.smin > y.smax) return 1;
		if (x.smax <= y.smin) return 0;
		return -1;
	case 0x70:
		if (x.smin >= y.smax) return 1;
		if (x.smax < y.smin) return 0;
		return -1;
	case 0xc0:
		if (x.smax < y.smin) return 1;
		if (x.smin >= y.smax) return 0;
		return -1;
	case 0xd0:
		if (x.smax <= y.smin) return 1;
		if (x.smin > y.smax) return 0;
		return -1;
	}
	return -1;
}

static bool refine_width(struct bnd *x, struct bnd *y, struct tnum *ta, struct tnum *tb,
			 uint8_t opn, int w)
{
	switch (opn) {
	case 0x10: { /* equal: both get the intersection */
		x->umin = y->umin = max_u(x->umin, y->umin);
		x->umax = y->umax = min_u(x->umax, y->umax);
		x->smin = y->smin = max_s(x->smin, y->smin);
		x->smax = y->smax = min_s(x->smax, y->smax);
		*ta = *tb = tnum_intersect(*ta, *tb);
		break;
	}
	case 0x50: { /* not equal: a constant at an end of the other's range cuts it */
		for (int i = 0; i < 2; i++) {
			struct bnd *p = i ? y : x, *q = i ? x : y;
			struct tnum tq = i ? *ta : *tb;
			if (!tnum_is_const(tq))
				continue;
			uint64_t v = tq.value;
			int64_t sv = w == 64 ? (int64_t)v : (int64_t)(int32_t)(uint32_t)v;
			(void)q;
			if (p->umin == v && p->umin < p->umax)
				p->umin++;
			else if (p->umax == v && p->umin < p->umax)
				p->umax--;
			else if (p->umin == v && p->umax == v)
				return false;
			if (p->smin == sv && p->smin < p->smax)
				p->smin++;
			else if (p->smax == sv && p->smin < p->smax)
				p->smax--;
		}
		break;
	}
	case 0x40: /* some common bit: with a power-of-two constant it is known */
		if (tnum_is_const(*tb) && tb->value && !(tb->value & (tb->value - 1)))
			*ta = tnum_or(*ta, *tb);
		else if (tnum_is_const(*ta) && ta->value && !(ta->value & (ta->value - 1)))
			*tb = tnum_or(*tb, *ta);
		break;
	case 0xf0: /* no common bit */
		if (tnum_is_const(*tb))
			*ta = tnum_and(*ta, tnum_const(~tb->value));
		else if (tnum_is_const(*ta))
			*tb = tnum_and(*tb, tnum_const(~ta->value));
		break;
	case 0x20: /* x > y */
		if (y->umin == umax_w(w) || x->umax == 0)
			return false;
		x->umin = max_u(x->umin, y->umin + 1);
		y->umax = min_u(y->umax, x->umax - 1);
		break;
	case 0x30:
		x->umin = max_u(x->umin, y->umin);
		y->umax = min_u(y->umax, x->umax);
		break;
	case 0xa0:
		return refine_width(y, x, tb, ta, 0x20, w);
	case 0xb0:
		return refine_width(y, x, tb, ta, 0x30, w);
	case 0x60:
		if (y->smin == smax_w(w) || x->smax == smin_w(w))
			return false;
		x->smin = max_s(x->smin, y->smin + 1);
		y->smax = min_s(y->smax, x->smax - 1);
		break;
	case 0x70:
		x->smin = max_s(x->smin, y->smin);
		y->smax = min_s(y->smax, x->smax);
		break;
	case 0xc0:
		return refine_width(y, x, tb, ta, 0x60, w);
	case 0xd0:
		return refine_width(y, x, tb, ta, 0x70, w);
	}
	return x->umin <= x->umax && y->umin <= y->umax && x->smin <= x->smax &&
	       y->smin <= y->smax;
}

bool scalar_refine(struct vreg *a, struct vreg *b, uint8_t opn, bool is32)
{
	int w = is32 ? 32 : 64;
	struct bnd x = bnd_get(a, w), y = bnd_get(b, w);
	struct tnum ta = is32 ? tnum_subreg(a->var_off) : a->var_off;
	struct tnum tb = is32 ? tnum_subreg(b->var_off) : b->var_off;
	if (opn == 0x10 && ((ta.value ^ tb.value) & ~(ta.mask | tb.mask)))
		return false;
	if (opn == 0xf0 && (tnum_is_const(tb) || tnum_is_const(ta))) {
		/* jset not taken ("no common bit" with a constant): the kernel
		 * (regs_refine_cond_op) forgets the register's ranges, all
		 * widths, before narrowing its tnum "to avoid invariant
		 * violations if we're on a dead branch" — so it walks such a
		 * branch with the tnum's bounds only, and never finds it dead
		 * from the ranges.  Do the same: keeping the ranges made bpfvm
		 * prune branches the kernel verifies (and rejects), accepting
		 * programs it refuses (tests/verifier/br-jset-false-forgets-ranges.data). */
		bool bc = tnum_is_const(tb);
		struct vreg *r = bc ? a : b;
		uint64_t v = bc ? tb.value : ta.value;
		reg_bounds_unbounded(r);
		if (is32)
			r->var_off = tnum_with_subreg(r->var_off, tnum_and(tnum_subreg(r->var_off),
									    tnum_const(~v)));
		else
			r->var_off = tnum_and(r->var_off, tnum_const(~v));
		reg_bounds_sync(a);
		reg_bounds_sync(b);
		return reg_bounds_ok(a) && reg_bounds_ok(b);
	}
	if (!refine_width(&x, &y, &ta, &tb, opn, w))
		return false;
	bnd_set(a, x, w);
	bnd_set(b, y, w);
	if (is32) {
		a->var_off = tnum_with_subreg(a->var_off, ta);
		b->var_off = tnum_with_subreg(b->var_off, tb);
	} else {
		a->var_off = ta;
		b->var_off = tb;
	}
	reg_bounds_sync(a);
	reg_bounds_sync(b);
	return reg_bounds_ok(a) && reg_bounds_ok(b);
}
