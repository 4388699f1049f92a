/* rng.c — the seeded random source of the kernel-differential test.
 *
 * splitmix64, seeded from (seed, index) so that one program of a run can be
 * regenerated alone with --only INDEX.  Values and immediates are biased
 * towards the edge cases where implementations differ: 0, ±1, the signed
 * minimum and maximum of each width, all-ones halves, powers of two.
 */
#include "kdiff.h"

void kd_rng_seed(struct kd_rng *r, uint64_t seed, uint64_t index)
{
	r->s = seed * 0x9e3779b97f4a7c15ull ^ (index + 1) * 0xd1b54a32d192ed03ull;
	(void)kd_rand(r);
}

uint64_t kd_rand(struct kd_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint32_t kd_below(struct kd_rng *r, uint32_t n)
{
	return n ? (uint32_t)((kd_rand(r) >> 32) * n >> 32) : 0;
}

bool kd_chance(struct kd_rng *r, uint32_t percent)
{
	return kd_below(r, 100) < percent;
}

static const uint64_t edge64[] = {
	0, 1, 2, 3, 7, 8, 31, 32, 63, 64,
	0xffffffffffffffffull, 0xfffffffffffffffeull,
	0x8000000000000000ull, 0x7fffffffffffffffull,
	0x80000000ull, 0x7fffffffull, 0xffffffffull, 0x100000000ull,
	0xffffffff80000000ull, 0xffffffff7fffffffull, 0x00000000ffff8000ull,
	0x8000ull, 0x7fffull, 0xffffull, 0x80ull, 0x7full, 0xffull,
	0xffffffffffff8000ull, 0xffffffffffffff80ull,
};

uint64_t kd_val64(struct kd_rng *r)
{
	switch (kd_below(r, 6)) {
	case 0:
	case 1:
		return edge64[kd_below(r, sizeof(edge64) / sizeof(edge64[0]))];
	case 2:
		return (uint64_t)(int64_t)(int32_t)kd_rand(r);	/* sign-extended 32 */
	case 3:
		return kd_rand(r) & 0xffffffffull;
	case 4:
		return kd_below(r, 2) ? kd_below(r, 256) : -(uint64_t)kd_below(r, 256);
	default:
		return kd_rand(r);
	}
}

int32_t kd_imm32(struct kd_rng *r)
{
	switch (kd_below(r, 4)) {
	case 0:
		return (int32_t)(uint32_t)edge64[kd_below(r, sizeof(edge64) / sizeof(edge64[0]))];
	case 1:
		return (int32_t)kd_below(r, 64) - 32;
	default:
		return (int32_t)(uint32_t)kd_rand(r);
	}
}
