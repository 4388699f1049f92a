/* test_tnum.c — the verifier's value domains against brute force.
 *
 * Soundness is the property that matters: whatever concrete values the
 * operands take within what the abstraction says, the concrete result must
 * lie within the abstract result.  Checked exhaustively where it is cheap:
 *   - tnum_range over every 8-bit [min, max];
 *   - every binary tnum operation over every pair of 5-bit tnums (3^5 each)
 *     and every pair of their members; shifts over every 8-bit tnum;
 *   - the scalar ALU (tnum + signed/unsigned 64/32-bit ranges, bounds.c)
 *     over every pair of ranges of a 16-value universe {-8..7} and every
 *     pair of members, in 64-bit and 32-bit ALU;
 *   - branch refinement and branch-taken decisions for every condition,
 *     64- and 32-bit, over the same universe.
 * Plus random 8-bit and 64-bit tnum pairs.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "verifier/tnum.h"
#include "verifier/verifier_int.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* all tnums over the low `bits` bits */
static int all_tnums(int bits, struct tnum *out)
{
	int n = 1;
	for (int i = 0; i < bits; i++)
		n *= 3;
	for (int k = 0; k < n; k++) {
		uint64_t v = 0, m = 0;
		int x = k;
		for (int b = 0; b < bits; b++, x /= 3) {
			if (x % 3 == 1)
				v |= 1ull << b;
			else if (x % 3 == 2)
				m |= 1ull << b;
		}
		out[k] = TNUM(v, m);
	}
	return n;
}

/* members of t: x = value | subset of mask */
static int members(struct tnum t, uint64_t *out)
{
	int n = 0;
	uint64_t s = 0;
	do {
		out[n++] = t.value | s;
		s = (s - t.mask) & t.mask;
	} while (s);
	return n;
}

enum { T_ADD, T_SUB, T_MUL, T_AND, T_OR, T_XOR, T_OPS };

static uint64_t conc(int op, uint64_t a, uint64_t b)
{
	switch (op) {
	case T_ADD: return a + b;
	case T_SUB: return a - b;
	case T_MUL: return a * b;
	case T_AND: return a & b;
	case T_OR: return a | b;
	default: return a ^ b;
	}
}

static struct tnum abst(int op, struct tnum a, struct tnum b)
{
	switch (op) {
	case T_ADD: return tnum_add(a, b);
	case T_SUB: return tnum_sub(a, b);
	case T_MUL: return tnum_mul(a, b);
	case T_AND: return tnum_and(a, b);
	case T_OR: return tnum_or(a, b);
	default: return tnum_xor(a, b);
	}
}

static void test_tnum_range(void)
{
	int bad = 0;
	for (uint64_t lo = 0; lo < 256; lo++)
		for (uint64_t hi = lo; hi < 256; hi++) {
			struct tnum t = tnum_range(lo, hi);
			for (uint64_t x = lo; x <= hi; x++)
				bad += !tnum_contains(t, x);
		}
	CHECK_EQ(bad, 0);
}

static void test_tnum_binary(void)
{
	static struct tnum ts[243];
	static uint64_t ma[32], mb[32];
	int n = all_tnums(5, ts), bad = 0;
	for (int op = 0; op < T_OPS; op++)
		for (int i = 0; i < n; i++) {
			int na = members(ts[i], ma);
			for (int j = 0; j < n; j++) {
				struct tnum r = abst(op, ts[i], ts[j]);
				int nb = members(ts[j], mb);
				for (int x = 0; x < na; x++)
					for (int y = 0; y < nb; y++)
						bad += !tnum_contains(r, conc(op, ma[x], mb[y]));
			}
		}
	CHECK_EQ(bad, 0);
	/* intersect/union and tnum_in on the same pairs */
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			struct tnum u = tnum_union(ts[i], ts[j]);
			bad += !tnum_in(u, ts[i]) || !tnum_in(u, ts[j]);
			int na = members(ts[i], ma);
			for (int x = 0; x < na; x++) {
				bool in_b = tnum_contains(ts[j], ma[x]);
				if (in_b)
					bad += !tnum_contains(tnum_intersect(ts[i], ts[j]), ma[x]);
			}
		}
	CHECK_EQ(bad, 0);
	/* random wide pairs, random members */
	for (int k = 0; k < 200000; k++) {
		int wide = k & 1;
		uint64_t mask = wide ? ~0ull : 0xff;
		struct tnum a = TNUM(0, rnd() & rnd() & mask), b = TNUM(0, rnd() & rnd() & mask);
		a.value = rnd() & mask & ~a.mask;
		b.value = rnd() & mask & ~b.mask;
		uint64_t x = a.value | (rnd() & a.mask), y = b.value | (rnd() & b.mask);
		for (int op = 0; op < T_OPS; op++)
			bad += !tnum_contains(abst(op, a, b), conc(op, x, y));
	}
	CHECK_EQ(bad, 0);
}

static void test_tnum_shifts(void)
{
	static struct tnum ts[6561];
	static uint64_t m[256];
	int n = all_tnums(8, ts), bad = 0;
	for (int i = 0; i < n; i++) {
		int nm = members(ts[i], m);
		for (uint8_t s = 0; s < 64; s += 3) {
			struct tnum l = tnum_lshift(ts[i], s), r = tnum_rshift(ts[i], s);
			struct tnum a64 = tnum_arshift(TNUM(ts[i].value << 56, ts[i].mask << 56), s, 64);
			struct tnum a32 = tnum_arshift(TNUM(ts[i].value << 24, ts[i].mask << 24),
						       (uint8_t)(s & 31), 32);
			for (int x = 0; x < nm; x++) {
				bad += !tnum_contains(l, m[x] << s);
				bad += !tnum_contains(r, m[x] >> s);
				bad += !tnum_contains(a64, (uint64_t)((int64_t)(m[x] << 56) >> s));
				bad += !tnum_contains(a32, (uint32_t)((int32_t)(uint32_t)(m[x] << 24) >> (s & 31)));
			}
		}
		struct tnum c = tnum_cast(ts[i], 1), neg = tnum_neg(ts[i]);
		for (int x = 0; x < nm; x++) {
			bad += !tnum_contains(c, m[x] & 0xff);
			bad += !tnum_contains(neg, -m[x]);
		}
	}
	CHECK_EQ(bad, 0);
}

/* ----------------------------------------------------- scalar domain -- */

#define U_LO (-8)
#define U_HI 7

static struct vreg range_reg(int64_t lo, int64_t hi)
{
	struct vreg r;
	memset(&r, 0, sizeof(r));
	reg_mark_unknown_scalar(&r);
	r.smin = lo;
	r.smax = hi;
	reg_bounds_sync(&r);
	return r;
}

static bool reg_contains(const struct vreg *r, uint64_t x)
{
	if (!tnum_contains(r->var_off, x))
		return false;
	if (x < r->umin || x > r->umax || (int64_t)x < r->smin || (int64_t)x > r->smax)
		return false;
	uint32_t lo = (uint32_t)x;
	if (lo < r->u32_min || lo > r->u32_max || (int32_t)lo < r->s32_min || (int32_t)lo > r->s32_max)
		return false;
	return true;
}

static uint64_t alu_conc(uint8_t opn, uint64_t a, uint64_t b, bool alu32)
{
	if (alu32) {
		uint32_t x = (uint32_t)a, y = (uint32_t)b;
		switch (opn) {
		case 0x00: return (uint32_t)(x + y);
		case 0x10: return (uint32_t)(x - y);
		case 0x20: return (uint32_t)(x * y);
		case 0x40: return x | y;
		case 0x50: return x & y;
		case 0xa0: return x ^ y;
		case 0x60: return (uint32_t)(x << (y & 31));
		case 0x70: return x >> (y & 31);
		case 0xc0: return (uint32_t)((int32_t)x >> (y & 31));
		default: return (uint32_t)-x;
		}
	}
	switch (opn) {
	case 0x00: return a + b;
	case 0x10: return a - b;
	case 0x20: return a * b;
	case 0x40: return a | b;
	case 0x50: return a & b;
	case 0xa0: return a ^ b;
	case 0x60: return a << (b & 63);
	case 0x70: return a >> (b & 63);
	case 0xc0: return (uint64_t)((int64_t)a >> (b & 63));
	default: return -a;
	}
}

static void test_scalar_alu(void)
{
	static const uint8_t ops[] = { 0x00, 0x10, 0x20, 0x40, 0x50, 0xa0, 0x60, 0x70, 0xc0, 0x80 };
	int bad = 0, checks = 0;
	for (int alu32 = 0; alu32 < 2; alu32++)
		for (size_t o = 0; o < sizeof(ops); o++)
			for (int64_t alo = U_LO; alo <= U_HI; alo++)
				for (int64_t ahi = alo; ahi <= U_HI; ahi++)
					for (int64_t blo = U_LO; blo <= U_HI; blo++)
						for (int64_t bhi = blo; bhi <= U_HI; bhi++) {
							uint8_t opn = ops[o];
							bool shift = opn == 0x60 || opn == 0x70 || opn == 0xc0;
							if (shift && (blo != bhi || blo < 0))
								continue; /* shifts by a known amount only */
							struct vreg a = range_reg(alo, ahi), b = range_reg(blo, bhi);
							struct vreg r = a;
							scalar_alu(&r, opn == 0x80 ? NULL : &b, opn, alu32);
							for (int64_t x = alo; x <= ahi; x++)
								for (int64_t y = blo; y <= bhi; y++) {
									uint64_t c = alu_conc(opn, (uint64_t)x, (uint64_t)y, alu32);
									checks++;
									if (!reg_contains(&r, c)) {
										if (bad < 5)
											fprintf(stderr, "alu op %#x%s [%lld,%lld] [%lld,%lld]: %lld,%lld -> %#llx not in result\n",
												opn, alu32 ? "32" : "", (long long)alo, (long long)ahi,
												(long long)blo, (long long)bhi, (long long)x, (long long)y,
												(unsigned long long)c);
										bad++;
									}
								}
						}
	CHECK_EQ(bad, 0);
	test_checks += 0 * checks;
}

static bool cond_conc(uint8_t opn, uint64_t a, uint64_t b, bool is32)
{
	if (is32) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	int64_t sa = is32 ? (int32_t)(uint32_t)a : (int64_t)a, sb = is32 ? (int32_t)(uint32_t)b : (int64_t)b;
	switch (opn) {
	case 0x10: return a == b;
	case 0x50: return a != b;
	case 0x20: return a > b;
	case 0x30: return a >= b;
	case 0xa0: return a < b;
	case 0xb0: return a <= b;
	case 0x60: return sa > sb;
	case 0x70: return sa >= sb;
	case 0xc0: return sa < sb;
	case 0xd0: return sa <= sb;
	case 0x40: return (a & b) != 0;
	default: return (a & b) == 0;	/* 0xf0 */
	}
}

static void test_branches(void)
{
	static const uint8_t ops[] = { 0x10, 0x50, 0x20, 0x30, 0xa0, 0xb0, 0x60, 0x70, 0xc0, 0xd0, 0x40, 0xf0 };
	int bad = 0;
	for (int is32 = 0; is32 < 2; is32++)
		for (size_t o = 0; o < sizeof(ops); o++)
			for (int64_t alo = U_LO; alo <= U_HI; alo++)
				for (int64_t ahi = alo; ahi <= U_HI; ahi++)
					for (int64_t blo = U_LO; blo <= U_HI; blo++)
						for (int64_t bhi = blo; bhi <= U_HI; bhi++) {
							uint8_t opn = ops[o];
							struct vreg a = range_reg(alo, ahi), b = range_reg(blo, bhi);
							int taken = scalar_branch_taken(&a, &b, opn, is32);
							struct vreg ra = a, rb = b;
							bool possible = scalar_refine(&ra, &rb, opn, is32);
							for (int64_t x = alo; x <= ahi; x++)
								for (int64_t y = blo; y <= bhi; y++) {
									bool c = cond_conc(opn, (uint64_t)x, (uint64_t)y, is32);
									if (taken == 1 && !c)
										bad++;
									if (taken == 0 && c)
										bad++;
									if (!c)
										continue;
									if (!possible || !reg_contains(&ra, (uint64_t)x) ||
									    !reg_contains(&rb, (uint64_t)y)) {
										if (bad < 5)
											fprintf(stderr, "branch %#x%s [%lld,%lld] [%lld,%lld]: %lld,%lld lost\n",
												opn, is32 ? "32" : "", (long long)alo, (long long)ahi,
												(long long)blo, (long long)bhi, (long long)x, (long long)y);
										bad++;
									}
								}
						}
	CHECK_EQ(bad, 0);
	/* negation and flipping are what the refinement relies on */
	for (size_t o = 0; o < sizeof(ops); o++)
		for (int x = -2; x <= 2; x++)
			for (int y = -2; y <= 2; y++) {
				uint8_t opn = ops[o];
				bool c = cond_conc(opn, (uint64_t)(int64_t)x, (uint64_t)(int64_t)y, false);
				CHECK(cond_conc(jmp_negate(opn), (uint64_t)(int64_t)x, (uint64_t)(int64_t)y, false) == !c);
				CHECK(cond_conc(jmp_flip(opn), (uint64_t)(int64_t)y, (uint64_t)(int64_t)x, false) == c);
			}
}

int main(void)
{
	test_tnum_range();
	test_tnum_binary();
	test_tnum_shifts();
	test_scalar_alu();
	test_branches();
	return TEST_DONE();
}
