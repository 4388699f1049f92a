/* build.c — lay a generated case out as a complete program for one side.
 *
 *   prologue   r9 = the input/output bytes: for the kernel the packet (data,
 *              bounds-checked for KD_IO_SIZE bytes), for bpfvm r1; then the
 *              stack area and r0-r8 from constants or from those bytes
 *   body       the shared units (plus variant instructions, kernel only)
 *   epilogue   store r0-r8 and the stack area through r9; return XDP_PASS
 *              (kernel) or 0 (bpfvm)
 *   subprogram its init unit, body and exit
 *
 * Only the first instructions of the prologue and the return value differ
 * between the sides.  Jump offsets are resolved from unit indices after
 * layout, and local calls from the subprogram's position.
 */
#include <string.h>

#include "kdiff.h"

struct fixup {
	size_t pos;		/* instruction to patch */
	int target;		/* unit index in its sequence */
	bool sub;		/* which sequence */
};

struct layout {
	struct bpf_insn *out;
	size_t n, cap;
	bool overflow;
	struct fixup fix[2 * KD_MAX_INSNS];
	size_t nfix;
	size_t body_start[KD_MAX_INSNS + 1], sub_start[KD_MAX_INSNS + 1];
	size_t call_pos[KD_MAX_INSNS];
	size_t ncall;
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

static void put(struct layout *l, struct bpf_insn in)
{
	if (l->n == l->cap) {
		l->overflow = true;
		return;
	}
	l->out[l->n++] = in;
}

static void put_const(struct layout *l, uint8_t dst, uint64_t v)
{
	if ((uint64_t)(int64_t)(int32_t)v == v) {
		put(l, mk(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, (int32_t)v));
		return;
	}
	put(l, mk(BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, (int32_t)(uint32_t)v));
	put(l, mk(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
}

static uint64_t input_word(const struct kd_case *c, int i)
{
	uint64_t v;
	memcpy(&v, c->input + 8 * i, 8);
	return v;
}

/* ------------------------------------------------------------- prologue */

/* kernel: r9 = data with KD_IO_SIZE bytes proven accessible, else return 0 */
static void kernel_packet(struct layout *l)
{
	put(l, mk(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));	/* data */
	put(l, mk(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 4, 0));	/* data_end */
	put(l, mk(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0));
	put(l, mk(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, KD_IO_SIZE));
	put(l, mk(BPF_JMP | BPF_JLE | BPF_X, BPF_REG_4, BPF_REG_3, 2, 0));
	put(l, mk(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));	/* XDP_ABORTED */
	put(l, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	put(l, mk(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_9, BPF_REG_2, 0, 0));
}

static void prologue_stack(struct layout *l, const struct kd_case *c)
{
	for (int j = 0; j < KD_STACK / 8; j++) {
		int16_t off = (int16_t)(-KD_STACK + 8 * j);
		uint64_t v = input_word(c, KD_NREGS + j);
		if (c->slot_loaded & (1u << j)) {
			put(l, mk(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_9,
				  (int16_t)(KD_STACK_BASE + 8 * j), 0));
		} else if ((c->slot_st & (1u << j)) && (uint64_t)(int64_t)(int32_t)v == v) {
			put(l, mk(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, off, (int32_t)v));
			continue;
		} else {
			put_const(l, BPF_REG_0, v);
		}
		put(l, mk(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_0, off, 0));
	}
}

static void prologue_regs(struct layout *l, const struct kd_case *c)
{
	for (uint8_t r = 0; r < KD_NREGS; r++) {
		if (c->reg_loaded & (1u << r))
			put(l, mk(BPF_LDX | BPF_MEM | BPF_DW, r, BPF_REG_9, (int16_t)(8 * r), 0));
		else
			put_const(l, r, input_word(c, r));
	}
}

static void prologue(struct layout *l, const struct kd_case *c, enum kd_side side)
{
	if (side == KD_KERNEL)
		kernel_packet(l);
	else
		put(l, mk(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_9, BPF_REG_1, 0, 0));
	prologue_stack(l, c);
	prologue_regs(l, c);
}

/* ------------------------------------------------------------- epilogue */

/* r0-r8 and the stack area through r9; the kernel's program returns XDP_PASS */
static void epilogue(struct layout *l, enum kd_side side)
{
	for (uint8_t r = 0; r < KD_NREGS; r++)
		put(l, mk(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_9, r, (int16_t)(8 * r), 0));
	for (int j = 0; j < KD_STACK / 8; j++) {
		put(l, mk(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_10,
			  (int16_t)(-KD_STACK + 8 * j), 0));
		put(l, mk(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_9, BPF_REG_0,
			  (int16_t)(KD_STACK_BASE + 8 * j), 0));
	}
	put(l, mk(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, side == KD_KERNEL ? 2 : 0));
	put(l, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

/* ---------------------------------------------------------------- units */

/* bug 2 variant: the verifier forgets the slot's value (a non-fetching
 * atomic add of 0 makes it unknown), the run-time value stays the same */
static void launder(struct layout *l, int16_t slot, bool sub)
{
	int16_t spill = sub ? KD_SUB_SPILL_OFF : KD_SPILL_OFF;
	put(l, mk(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_1, spill, 0));
	put(l, mk(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 0));
	put(l, mk(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_10, BPF_REG_1, slot, BPF_ADD));
	put(l, mk(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_10, spill, 0));
}

static void put_unit(struct layout *l, const struct kd_unit *u, bool sub, unsigned variant)
{
	if ((variant & KD_VAR_LAUNDER) && (u->flags & KD_U_FETCH))
		launder(l, u->slot, sub);
	for (int i = 0; i < u->n; i++) {
		if (i == u->jump && l->nfix < sizeof(l->fix) / sizeof(l->fix[0]))
			l->fix[l->nfix++] = (struct fixup){ l->n, u->target, sub };
		if (i == u->call && l->ncall < KD_MAX_INSNS)
			l->call_pos[l->ncall++] = l->n;
		put(l, u->insn[i]);
	}
	if ((variant & KD_VAR_ZEXT) && (u->flags & KD_U_CMPXCHG32))
		put(l, mk(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_0, 0, 0));
}

static void put_seq(struct layout *l, const struct kd_seq *s, bool sub, unsigned variant,
		    size_t *start)
{
	for (int i = 0; i < s->n && i < KD_MAX_INSNS; i++) {
		start[i] = l->n;
		put_unit(l, &s->u[i], sub, variant);
	}
	start[s->n < KD_MAX_INSNS ? s->n : KD_MAX_INSNS] = l->n;
}

static void resolve(struct layout *l, size_t sub_pos)
{
	for (size_t i = 0; i < l->nfix; i++) {
		const struct fixup *f = &l->fix[i];
		size_t to = f->sub ? l->sub_start[f->target] : l->body_start[f->target];
		struct bpf_insn *in = &l->out[f->pos];
		int32_t rel = (int32_t)to - (int32_t)(f->pos + 1);
		if (in->code == (BPF_JMP32 | BPF_JA))
			in->imm = rel;
		else
			in->off = (int16_t)rel;
	}
	for (size_t i = 0; i < l->ncall; i++)
		l->out[l->call_pos[i]].imm = (int32_t)sub_pos - (int32_t)(l->call_pos[i] + 1);
}

size_t kd_build(const struct kd_case *c, enum kd_side side, unsigned variant,
		struct bpf_insn *out, size_t cap)
{
	static struct layout l;	/* large; the test is single-threaded */
	memset(&l, 0, offsetof(struct layout, fix));
	l.nfix = l.ncall = 0;
	l.out = out;
	l.cap = cap;
	if (side == KD_BPFVM)
		variant = 0;
	prologue(&l, c, side);
	put_seq(&l, &c->body, false, variant, l.body_start);
	epilogue(&l, side);
	size_t sub_pos = l.n;
	if (c->has_sub)
		put_seq(&l, &c->sub, true, variant, l.sub_start);
	if (l.overflow)
		return 0;
	resolve(&l, sub_pos);
	return l.n;
}
