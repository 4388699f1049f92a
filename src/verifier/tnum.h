/* tnum.h — tracked numbers: what the verifier knows about the bits of a value.
 *
 * A tnum is a pair (value, mask): every bit set in mask is unknown; every
 * other bit is known and equals the bit in value (value & mask == 0 always).
 * So a tnum stands for the set of 64-bit numbers x with x & ~mask == value.
 * The operations below return a tnum that holds every result of the concrete
 * operation applied to members of the operands (they are sound, and as
 * precise as a bitwise abstraction allows for the cheap cases).  Pure
 * functions on small structs; tests/unit/test_tnum.c checks them against
 * brute force.
 */
#ifndef BPFVM_VERIFIER_TNUM_H
#define BPFVM_VERIFIER_TNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tnum {
	uint64_t value;
	uint64_t mask;
};

#define TNUM(v, m) ((struct tnum){ .value = (v), .mask = (m) })

extern const struct tnum tnum_unknown;

struct tnum tnum_const(uint64_t value);
/* the smallest tnum holding every number of [min, max] (unsigned) */
struct tnum tnum_range(uint64_t min, uint64_t max);

struct tnum tnum_lshift(struct tnum a, uint8_t shift);
struct tnum tnum_rshift(struct tnum a, uint8_t shift);
/* arithmetic shift of the low insn_bitness (32 or 64) bits */
struct tnum tnum_arshift(struct tnum a, uint8_t min_shift, uint8_t insn_bitness);
struct tnum tnum_add(struct tnum a, struct tnum b);
struct tnum tnum_sub(struct tnum a, struct tnum b);
struct tnum tnum_neg(struct tnum a);
struct tnum tnum_and(struct tnum a, struct tnum b);
struct tnum tnum_or(struct tnum a, struct tnum b);
struct tnum tnum_xor(struct tnum a, struct tnum b);
struct tnum tnum_mul(struct tnum a, struct tnum b);
/* what both a and b say (members of both); undefined if they disagree */
struct tnum tnum_intersect(struct tnum a, struct tnum b);
/* members of either */
struct tnum tnum_union(struct tnum a, struct tnum b);
/* keep the low `size` bytes */
struct tnum tnum_cast(struct tnum a, uint8_t size);
struct tnum tnum_subreg(struct tnum a);		/* low 32 bits */
struct tnum tnum_clear_subreg(struct tnum a);	/* high 32 bits only */
struct tnum tnum_with_subreg(struct tnum reg, struct tnum subreg);
struct tnum tnum_const_subreg(struct tnum a, uint32_t value);
/* byte swaps of the low 16/32/64 bits (upper bits cleared) */
struct tnum tnum_bswap16(struct tnum a);
struct tnum tnum_bswap32(struct tnum a);
struct tnum tnum_bswap64(struct tnum a);

static inline bool tnum_is_const(struct tnum a)
{
	return !a.mask;
}

static inline bool tnum_equals_const(struct tnum a, uint64_t b)
{
	return tnum_is_const(a) && a.value == b;
}

static inline bool tnum_is_unknown(struct tnum a)
{
	return !~a.mask;
}

static inline bool tnum_subreg_is_const(struct tnum a)
{
	return !(uint32_t)a.mask;
}

/* is every member aligned to size (a power of two)? */
bool tnum_is_aligned(struct tnum a, uint64_t size);
/* is every member of b a member of a? */
bool tnum_in(struct tnum a, struct tnum b);
/* is x a member of a? */
static inline bool tnum_contains(struct tnum a, uint64_t x)
{
	return (x & ~a.mask) == a.value;
}

/* "(0x0; 0xff)" or the constant in hex; returns snprintf's result */
int tnum_sbin(char *str, size_t size, struct tnum a);
int tnum_strn(char *str, size_t size, struct tnum a);

#endif
