/* gen.c — the seeded random program generator.
 *
 * A body is generated as a block of an exact number of units, so every jump
 * target (a later unit, or the end of the body) is known when the jump is
 * made.  Unconditional jumps (ja, gotol) only appear inside if/else diamonds,
 * where the code they skip is the target of the diamond's conditional jump:
 * the kernel refuses code no edge reaches.  Everything the verifier refuses
 * is avoided by construction: division by an immediate 0, shifts by an
 * immediate >= the width, misaligned stack accesses (the verifier requires
 * stack accesses aligned to their size, even with BPF_F_ANY_ALIGNMENT; the
 * scratch memory behind r9 is a packet, where any offset is accepted), reads
 * of uninitialised registers or stack (r0-r8 are set by the prologue, r1-r5
 * again after each call, and the subprogram sets r0, r6-r9 and its stack
 * before use).
 */
#include <stdlib.h>
#include <string.h>

#include "kdiff.h"

struct gen {
	struct kd_rng r;
	struct kd_case *c;
	struct kd_seq *seq;
	int end;		/* unit index of the end of the sequence */
	int stack_lo;		/* lowest offset of the stack area (r10-relative) */
	bool sub;		/* generating the subprogram */
	int depth;		/* diamond nesting */
};

static struct bpf_insn mk(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn in;
	memset(&in, 0, sizeof(in));
	in.code = code;
	in.dst_reg = dst & 0xf;
	in.src_reg = src & 0xf;
	in.off = off;
	in.imm = imm;
	return in;
}

static struct kd_unit *new_unit(struct gen *g)
{
	struct kd_seq *s = g->seq;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 32;
		s->u = realloc(s->u, (size_t)s->cap * sizeof(*s->u));
		if (!s->u)
			abort();
	}
	struct kd_unit *u = &s->u[s->n++];
	memset(u, 0, sizeof(*u));
	u->jump = -1;
	u->call = -1;
	return u;
}

static void emit(struct kd_unit *u, struct bpf_insn in)
{
	u->insn[u->n++] = in;
}

static void emit_const(struct kd_unit *u, uint8_t dst, uint64_t v, bool force_lddw)
{
	if (!force_lddw && (uint64_t)(int64_t)(int32_t)v == v) {
		emit(u, mk(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, (int32_t)v));
		return;
	}
	emit(u, mk(BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, (int32_t)(uint32_t)v));
	emit(u, mk(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
}

static uint8_t reg(struct gen *g)
{
	return (uint8_t)kd_below(&g->r, KD_NREGS);
}

/* ------------------------------------------------------------- ALU units */

static const uint8_t simple_ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_OR, BPF_AND,
				      BPF_XOR, BPF_MOV };

static void gen_alu_simple(struct gen *g, struct kd_unit *u, uint8_t cls)
{
	uint8_t op = simple_ops[kd_below(&g->r, sizeof(simple_ops))];
	if (kd_chance(&g->r, 45))
		emit(u, mk(cls | op | BPF_K, reg(g), 0, 0, kd_imm32(&g->r)));
	else
		emit(u, mk(cls | op | BPF_X, reg(g), reg(g), 0, 0));
}

static void gen_divmod(struct gen *g, struct kd_unit *u, uint8_t cls)
{
	uint8_t op = kd_chance(&g->r, 50) ? BPF_DIV : BPF_MOD;
	int16_t sign = kd_chance(&g->r, 50);
	if (kd_chance(&g->r, 40)) {
		int32_t imm = kd_imm32(&g->r);
		emit(u, mk(cls | op | BPF_K, reg(g), 0, sign, imm ? imm : -1));
	} else {
		emit(u, mk(cls | op | BPF_X, reg(g), reg(g), sign, 0));
	}
}

static void gen_shift(struct gen *g, struct kd_unit *u, uint8_t cls)
{
	static const uint8_t ops[] = { BPF_LSH, BPF_RSH, BPF_ARSH };
	uint8_t op = ops[kd_below(&g->r, 3)];
	uint32_t width = cls == BPF_ALU64 ? 64 : 32;
	if (kd_chance(&g->r, 50))
		emit(u, mk(cls | op | BPF_K, reg(g), 0, 0, (int32_t)kd_below(&g->r, width)));
	else
		emit(u, mk(cls | op | BPF_X, reg(g), reg(g), 0, 0));
}

static void gen_movsx(struct gen *g, struct kd_unit *u, uint8_t cls)
{
	static const int16_t w64[] = { 8, 16, 32 }, w32[] = { 8, 16 };
	int16_t off = cls == BPF_ALU64 ? w64[kd_below(&g->r, 3)] : w32[kd_below(&g->r, 2)];
	emit(u, mk(cls | BPF_MOV | BPF_X, reg(g), reg(g), off, 0));
}

static void gen_end(struct gen *g, struct kd_unit *u)
{
	static const int32_t widths[] = { 16, 32, 64 };
	int32_t w = widths[kd_below(&g->r, 3)];
	switch (kd_below(&g->r, 3)) {
	case 0:
		emit(u, mk(BPF_ALU | BPF_END | BPF_TO_LE, reg(g), 0, 0, w));
		break;
	case 1:
		emit(u, mk(BPF_ALU | BPF_END | BPF_TO_BE, reg(g), 0, 0, w));
		break;
	default:
		emit(u, mk(BPF_ALU64 | BPF_END | BPF_TO_LE, reg(g), 0, 0, w)); /* bswap */
		break;
	}
}

static void gen_alu(struct gen *g, struct kd_unit *u)
{
	uint8_t cls = kd_chance(&g->r, 55) ? BPF_ALU64 : BPF_ALU;
	uint32_t k = kd_below(&g->r, 20);
	if (k < 9)
		gen_alu_simple(g, u, cls);
	else if (k < 12)
		gen_divmod(g, u, cls);
	else if (k < 15)
		gen_shift(g, u, cls);
	else if (k < 16)
		emit(u, mk(cls | BPF_NEG | BPF_K, reg(g), 0, 0, 0));
	else if (k < 18)
		gen_movsx(g, u, cls);
	else
		gen_end(g, u);
}

/* ---------------------------------------------------------- memory units */

static const uint8_t sizes[] = { BPF_B, BPF_H, BPF_W, BPF_DW };

static int size_bytes(uint8_t size)
{
	return size == BPF_B ? 1 : size == BPF_H ? 2 : size == BPF_W ? 4 : 8;
}

/* an offset in the stack area aligned to the access size */
static int16_t stack_off(struct gen *g, int bytes)
{
	uint32_t slots = (uint32_t)(-g->stack_lo / bytes);
	return (int16_t)(g->stack_lo + bytes * (int)kd_below(&g->r, slots));
}

/* an aligned stack slot, or (main program only) any offset in the scratch
 * memory behind r9; *base gets r10 or r9 */
static int16_t mem_off(struct gen *g, int bytes, uint8_t *base)
{
	if (g->sub || kd_chance(&g->r, 60)) {
		*base = BPF_REG_10;
		return stack_off(g, bytes);
	}
	*base = BPF_REG_9;
	return (int16_t)(KD_SCRATCH_BASE + (int)kd_below(&g->r, (uint32_t)(KD_SCRATCH - bytes + 1)));
}

static void gen_ldx(struct gen *g, struct kd_unit *u)
{
	uint8_t size = sizes[kd_below(&g->r, 4)], base;
	uint8_t mode = size != BPF_DW && kd_chance(&g->r, 40) ? BPF_MEMSX : BPF_MEM;
	int16_t off = mem_off(g, size_bytes(size), &base);
	emit(u, mk(BPF_LDX | mode | size, reg(g), base, off, 0));
}

static void gen_store(struct gen *g, struct kd_unit *u)
{
	uint8_t size = sizes[kd_below(&g->r, 4)], base;
	int16_t off = mem_off(g, size_bytes(size), &base);
	if (kd_chance(&g->r, 40))
		emit(u, mk(BPF_ST | BPF_MEM | size, base, 0, off, kd_imm32(&g->r)));
	else
		emit(u, mk(BPF_STX | BPF_MEM | size, base, reg(g), off, 0));
}

static const int32_t atomic_ops[] = {
	BPF_ADD, BPF_OR, BPF_AND, BPF_XOR,
	BPF_ADD | BPF_FETCH, BPF_OR | BPF_FETCH, BPF_AND | BPF_FETCH, BPF_XOR | BPF_FETCH,
	BPF_XCHG, BPF_CMPXCHG,
};

static void emit_atomic(struct gen *g, struct kd_unit *u, uint8_t size, int32_t op,
			int16_t off, uint8_t src)
{
	emit(u, mk(BPF_STX | BPF_ATOMIC | size, BPF_REG_10, src, off, op));
	if (op & BPF_FETCH) {
		u->flags |= KD_U_FETCH;
		u->slot = (int16_t)(off & ~7);
	}
	if (op == BPF_CMPXCHG && size == BPF_W)
		u->flags |= KD_U_CMPXCHG32;
	g->c->flags |= u->flags;
}

static void gen_atomic(struct gen *g, struct kd_unit *u)
{
	uint8_t size = kd_chance(&g->r, 50) ? BPF_W : BPF_DW;
	int32_t op = atomic_ops[kd_below(&g->r, sizeof(atomic_ops) / sizeof(atomic_ops[0]))];
	int16_t off = stack_off(g, size_bytes(size));
	if (op == BPF_CMPXCHG && kd_chance(&g->r, 50)) {
		/* r0 = the slot: the exchange succeeds (and a 32-bit one at an 8-aligned
		 * offset leaves r0's upper half to be zeroed) */
		off = stack_off(g, 8);
		emit(u, mk(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_10, off, 0));
	}
	emit_atomic(g, u, size, op, off, reg(g));
}

/* ------------------------------------------------------------ jump units */

static const uint8_t conds[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
				 BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE };

static struct bpf_insn cond_jump(struct gen *g)
{
	uint8_t cls = kd_chance(&g->r, 50) ? BPF_JMP : BPF_JMP32;
	uint8_t op = conds[kd_below(&g->r, sizeof(conds))];
	uint8_t dst = reg(g);
	if (kd_chance(&g->r, 50))
		return mk(cls | op | BPF_K, dst, 0, 0, kd_imm32(&g->r));
	return mk(cls | op | BPF_X, dst, kd_chance(&g->r, 15) ? dst : reg(g), 0, 0);
}

static void gen_cond(struct gen *g, struct kd_unit *u, int idx)
{
	int span = g->end - idx;	/* targets idx+1 .. end */
	emit(u, cond_jump(g));
	u->jump = 0;
	u->target = idx + 1 + (int)kd_below(&g->r, (uint32_t)(span < 12 ? span : 12));
}

static struct bpf_insn uncond_jump(struct gen *g)
{
	if (kd_chance(&g->r, 50))
		return mk(BPF_JMP32 | BPF_JA, 0, 0, 0, 0);	/* gotol, offset in imm */
	return mk(BPF_JMP | BPF_JA, 0, 0, 0, 0);
}

/* ja +0 or gotol +0: a jump to the next unit */
static void gen_nop_jump(struct gen *g, struct kd_unit *u, int idx)
{
	emit(u, uncond_jump(g));
	u->jump = 0;
	u->target = idx + 1;
}

static void gen_lddw(struct gen *g, struct kd_unit *u)
{
	emit_const(u, reg(g), kd_val64(&g->r), true);
}

/* call the subprogram; r1-r5 are unreadable afterwards, so set them again */
static void gen_call(struct gen *g, struct kd_unit *u)
{
	emit(u, mk(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0));
	u->call = 0;
	for (uint8_t r = BPF_REG_1; r <= BPF_REG_5; r++)
		emit_const(u, r, kd_val64(&g->r), kd_chance(&g->r, 20));
}

/* ---------------------------------------------------------------- blocks */

static void gen_block(struct gen *g, int count);

static void gen_unit(struct gen *g)
{
	int idx = g->seq->n;
	struct kd_unit *u = new_unit(g);
	uint32_t k = kd_below(&g->r, 100);
	if (k < 48)
		gen_alu(g, u);
	else if (k < 52)
		gen_lddw(g, u);
	else if (k < 62)
		gen_ldx(g, u);
	else if (k < 72)
		gen_store(g, u);
	else if (k < 82)
		gen_atomic(g, u);
	else if (k < 96)
		gen_cond(g, u, idx);
	else if (k < 97)
		gen_nop_jump(g, u, idx);
	else if (!g->sub && g->c->has_sub)
		gen_call(g, u);
	else
		gen_alu(g, u);
}

/* if (cond) goto else; then...; goto end; else: else...; end: */
static void gen_diamond(struct gen *g, int count)
{
	int then_n = 1 + (int)kd_below(&g->r, (uint32_t)(count - 3));
	int else_n = count - 2 - then_n;
	int idx = g->seq->n;
	struct kd_unit *u = new_unit(g);
	emit(u, cond_jump(g));
	u->jump = 0;
	u->target = idx + 2 + then_n;
	g->depth++;
	gen_block(g, then_n);
	u = new_unit(g);
	emit(u, uncond_jump(g));
	u->jump = 0;
	u->target = idx + 2 + then_n + else_n;
	gen_block(g, else_n);
	g->depth--;
}

static void gen_block(struct gen *g, int count)
{
	int stop = g->seq->n + count;
	while (g->seq->n < stop) {
		int left = stop - g->seq->n;
		if (left >= 4 && g->depth < 3 && kd_chance(&g->r, 6)) {
			int n = 4 + (int)kd_below(&g->r, (uint32_t)(left - 3 < 10 ? left - 3 : 10));
			gen_diamond(g, n);
		} else {
			gen_unit(g);
		}
	}
}

/* --------------------------------------------------------- bug scenarios
 * Shapes that reach the two known kernel bugs, placed at the start of a body
 * (registers still hold their input values).  In both, a diamond's condition
 * is true at run time but unknown to the verifier, which explores the
 * fall-through side first and may then prune the taken side at the join.
 */

static struct kd_unit *jump_unit(struct gen *g, struct bpf_insn in, int target)
{
	struct kd_unit *u = new_unit(g);
	emit(u, in);
	u->jump = 0;
	u->target = target;
	return u;
}

/* true at run time; rU comes from the input so the verifier cannot tell */
static struct bpf_insn true_cond(struct gen *g)
{
	uint8_t r = reg(g);
	uint64_t v;
	g->c->reg_loaded |= (uint16_t)(1u << r);
	memcpy(&v, g->c->input + 8 * r, 8);
	if (kd_chance(&g->r, 50))
		return mk(BPF_JMP32 | BPF_JEQ | BPF_K, r, 0, 0, (int32_t)(uint32_t)v);
	return mk(BPF_JMP | BPF_JNE | BPF_K, r, 0, 0, (int32_t)((uint32_t)v ^ 1));
}

/* bug 1: the taken side does a succeeding 32-bit cmpxchg; r0 is then read
 * as 64 bits (at the latest by the epilogue) */
static int scenario_cmpxchg32(struct gen *g)
{
	int i = g->seq->n;
	int16_t slot = stack_off(g, 8);
	jump_unit(g, true_cond(g), i + 3);
	gen_alu(g, new_unit(g));
	jump_unit(g, uncond_jump(g), i + 4);
	struct kd_unit *u = new_unit(g);
	emit(u, mk(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_10, slot, 0));
	emit_atomic(g, u, BPF_W, BPF_CMPXCHG, slot, (uint8_t)(1 + kd_below(&g->r, KD_NREGS - 1)));
	return 4;
}

/* bug 2: the slot holds C1 or C2 depending on the side; an atomic fetch
 * reads it and a diamond branches on the fetched value */
static int scenario_fetch(struct gen *g)
{
	static const int32_t fetch_ops[] = { BPF_ADD | BPF_FETCH, BPF_OR | BPF_FETCH,
					     BPF_AND | BPF_FETCH, BPF_XOR | BPF_FETCH, BPF_XCHG,
					     BPF_CMPXCHG };
	int i = g->seq->n;
	int16_t slot = stack_off(g, 8);
	int32_t c1 = kd_imm32(&g->r), c2 = kd_imm32(&g->r);
	c2 = c1 == c2 ? c1 ^ 1 : c2;
	jump_unit(g, true_cond(g), i + 3);
	emit(new_unit(g), mk(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, slot, c1));
	jump_unit(g, uncond_jump(g), i + 4);
	emit(new_unit(g), mk(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, slot, c2));
	int32_t op = fetch_ops[kd_below(&g->r, sizeof(fetch_ops) / sizeof(fetch_ops[0]))];
	uint8_t src = (uint8_t)(1 + kd_below(&g->r, KD_NREGS - 1));
	struct kd_unit *u = new_unit(g);
	emit_const(u, src, kd_val64(&g->r), false);
	emit_atomic(g, u, BPF_DW, op, slot, src);
	uint8_t fetched = op == BPF_CMPXCHG ? BPF_REG_0 : src;
	jump_unit(g, mk(BPF_JMP | BPF_JEQ | BPF_K, fetched, 0, 0, c2), i + 8);
	gen_alu(g, new_unit(g));
	jump_unit(g, uncond_jump(g), i + 9);
	gen_alu(g, new_unit(g));
	return 9;
}

/* ------------------------------------------------------------- the case */

static void gen_input(struct gen *g)
{
	struct kd_case *c = g->c;
	for (int i = 0; i < KD_IO_SIZE / 8; i++) {
		uint64_t v = kd_val64(&g->r);
		memcpy(c->input + 8 * i, &v, 8);
	}
	switch (kd_below(&g->r, 3)) {
	case 0:
		c->reg_loaded = 0;
		c->slot_loaded = 0;
		break;
	case 1:
		c->reg_loaded = (1u << KD_NREGS) - 1;
		c->slot_loaded = 0xff;
		break;
	default:
		c->reg_loaded = (uint16_t)(kd_rand(&g->r) & ((1u << KD_NREGS) - 1));
		c->slot_loaded = (uint8_t)kd_rand(&g->r);
		break;
	}
	c->slot_st = (uint8_t)kd_rand(&g->r);
}

static void gen_sub(struct gen *g)
{
	g->seq = &g->c->sub;
	g->sub = true;
	g->stack_lo = -KD_SUB_STACK;
	int body = 2 + (int)kd_below(&g->r, 14);
	g->end = 1 + body;	/* the fold-and-exit unit */
	struct kd_unit *u = new_unit(g);
	emit_const(u, BPF_REG_0, kd_val64(&g->r), false);
	for (uint8_t r = BPF_REG_6; r <= BPF_REG_9; r++)	/* the caller's are preserved */
		emit_const(u, r, kd_val64(&g->r), false);
	for (int off = -KD_SUB_STACK; off < 0; off += 8)
		emit(u, mk(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, (int16_t)off, kd_imm32(&g->r)));
	gen_block(g, body);
	/* only r0 leaves the subprogram: fold r1-r8 and its stack into it */
	u = new_unit(g);
	for (uint8_t r = BPF_REG_1; r <= BPF_REG_8; r++)
		emit(u, mk(BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_0, r, 0, 0));
	for (int off = -KD_SUB_STACK; off < 0; off += 8) {
		emit(u, mk(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_10, (int16_t)off, 0));
		emit(u, mk(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_0, BPF_REG_1, 0, 0));
	}
	emit(u, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

static bool has_call(const struct kd_seq *s)
{
	for (int i = 0; i < s->n; i++)
		if (s->u[i].call >= 0)
			return true;
	return false;
}

void kd_generate(struct kd_case *c, uint64_t seed, uint64_t index)
{
	struct gen g;
	memset(c, 0, sizeof(*c));
	memset(&g, 0, sizeof(g));
	kd_rng_seed(&g.r, seed, index);
	g.c = c;
	gen_input(&g);
	c->has_sub = kd_chance(&g.r, 40);
	g.seq = &c->body;
	g.stack_lo = -KD_STACK;
	g.end = 12 + (int)kd_below(&g.r, 180);
	int used = 0;
	uint32_t k = kd_below(&g.r, 100);
	if (k < 8)
		used = scenario_cmpxchg32(&g);
	else if (k < 16)
		used = scenario_fetch(&g);
	gen_block(&g, g.end - used);
	if (c->has_sub && !has_call(&c->body))
		c->has_sub = false;
	if (c->has_sub)
		gen_sub(&g);
}

void kd_case_free(struct kd_case *c)
{
	free(c->body.u);
	free(c->sub.u);
	c->body.u = c->sub.u = NULL;
}
