/* precise.c — precision tracking: which scalars' exact values decide safety.
 *
 * Most scalars a program computes never reach a decision the verifier makes
 * on their value: a counter only returned, a flag only stored into a map.
 * Pruning may treat two such scalars as equal whatever their ranges, and
 * loops whose iterations differ only in them converge (the kernel's idea,
 * mark_chain_precision).  A scalar becomes precise where its range matters:
 * it is added to a pointer, it is a helper's size or constant argument, a
 * conditional jump's outcome was decided by it, or it was written as
 * STACK_ZERO bytes.  From there the demand is walked back along the path
 * (each state keeps the history of the path since its parent checkpoint,
 * struct vhist) through the instructions that produced the value — moves,
 * ALU operands, spills and fills, subprogram arguments and results, linked
 * scalars of a conditional jump — and each checkpoint passed gets the
 * registers and spilled slots the demand reaches marked precise.  A walk
 * stops where nothing is left to mark: at a checkpoint where it is all
 * precise already, or at a history entry it was already walked back from
 * (else a loop would walk every iteration since its checkpoint at every
 * jump).  A checkpoint prunes only once every path below it ended, so its
 * marks are complete then (prune.c compares only its precise scalars by
 * range).  When the walk meets something it does not follow, every scalar
 * of every checkpoint on the path becomes precise: slower, never unsound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/verifier_int.h"

#define NOTSUPP 1	/* backtrack_insn: give up, mark everything precise */

struct bt {
	int frame;			/* the frame the walk is in */
	uint16_t regs[V_MAX_FRAMES];
	uint64_t slots[V_MAX_FRAMES];
};

static bool bt_empty(const struct bt *bt)
{
	for (int f = 0; f <= bt->frame; f++)
		if (bt->regs[f] || bt->slots[f])
			return false;
	return true;
}

static bool bt_reg(const struct bt *bt, int r)
{
	return bt->regs[bt->frame] & (1u << r);
}

static void bt_set(struct bt *bt, int r)
{
	if (r != 10)
		bt->regs[bt->frame] |= (uint16_t)(1u << r);
}

static void bt_clear(struct bt *bt, int r)
{
	bt->regs[bt->frame] &= (uint16_t) ~(1u << r);
}

/* ------------------------------------------------------------- history -- */

int natural_pred(const struct venv *env, int idx)
{
	if (idx >= 2 && env->ops[idx - 1] == OP_INVALID)
		return idx - 2;
	return idx - 1;
}

int hist_push(struct venv *env, uint32_t flags, uint64_t linked)
{
	struct vstate *st = env->cur;
	if (env->cur_hist >= 0 && (uint32_t)env->cur_hist < st->hist_cnt &&
	    st->hist[env->cur_hist].idx == env->insn_idx) {
		st->hist[env->cur_hist].flags |= flags;
		if (linked)
			st->hist[env->cur_hist].linked = linked;
		return 0;
	}
	if (st->hist_cnt == st->hist_cap) {
		uint32_t cap = st->hist_cap ? st->hist_cap * 2 : 8;
		struct vhist *h = realloc(st->hist, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		st->hist = h;
		st->hist_cap = cap;
	}
	st->hist[st->hist_cnt] = (struct vhist){
		.idx = env->insn_idx, .prev_idx = env->prev_insn_idx, .flags = flags, .linked = linked
	};
	env->cur_hist = (int)st->hist_cnt++;
	return 0;
}

/* ------------------------------------------------------- linked scalars -- */

static uint16_t linked_ent(int frameno, bool slot, int idx)
{
	return (uint16_t)((frameno & 7) | (slot ? 8 : 0) | (idx & 63) << 4);
}

static uint64_t linked_add(uint64_t packed, uint16_t ent)
{
	unsigned cnt = packed & 7;
	return (packed & ~7ull) | (uint64_t)ent << (3 + 10 * cnt) | (cnt + 1);
}

/* the scalars sharing a's (and b's) id: recorded with the jump, so that a
 * demand on one of them reaches all (they got their ranges together); past
 * LINKED_MAX the rest are unlinked, as the kernel does */
static void collect_linked(struct venv *env, uint32_t id, uint64_t *packed)
{
	struct vstate *st = env->cur;
	id &= ~ID_ADD_CONST;
	for (int fi = 0; fi <= st->curframe; fi++) {
		struct vframe *f = st->frame[fi];
		for (int r = 0; r < V_REGS + f->slot_cnt; r++) {
			bool slot = r >= V_REGS;
			struct vreg *reg = slot ? &f->stack[r - V_REGS].spilled : &f->regs[r];
			if (slot && !is_spilled_reg(&f->stack[r - V_REGS]))
				continue;
			if (reg->type != SCALAR_VALUE || (reg->id & ~ID_ADD_CONST) != id)
				continue;
			uint16_t ent = linked_ent(fi, slot, slot ? r - V_REGS : r);
			bool dup = false;
			for (unsigned k = 0; k < (*packed & 7); k++)
				if (((*packed >> (3 + 10 * k)) & 0x3ff) == ent)
					dup = true;
			if (dup)
				continue;
			if ((*packed & 7) < LINKED_MAX) {
				*packed = linked_add(*packed, ent);
			} else {
				reg->id = 0;
				reg->off = 0;
			}
		}
	}
}

int hist_push_linked(struct venv *env, const struct vreg *a, const struct vreg *b)
{
	uint64_t packed = 0;
	uint32_t ida = a && a->type == SCALAR_VALUE ? a->id : 0;
	uint32_t idb = b && b->type == SCALAR_VALUE ? b->id : 0;
	if (idb)
		collect_linked(env, idb, &packed);
	if (ida)
		collect_linked(env, ida, &packed);
	if ((packed & 7) < 2)
		return 0;
	return hist_push(env, 0, packed);
}

static void bt_sync_linked(struct bt *bt, const struct vhist *h)
{
	if (!h || !h->linked)
		return;
	unsigned cnt = h->linked & 7;
	bool any = false;
	for (unsigned k = 0; k < cnt && !any; k++) {
		unsigned e = (unsigned)(h->linked >> (3 + 10 * k)) & 0x3ff;
		int fr = e & 7, idx = (int)(e >> 4);
		any = (e & 8) ? (bt->slots[fr] >> idx) & 1 : (bt->regs[fr] >> idx) & 1;
	}
	if (!any)
		return;
	for (unsigned k = 0; k < cnt; k++) {
		unsigned e = (unsigned)(h->linked >> (3 + 10 * k)) & 0x3ff;
		int fr = e & 7, idx = (int)(e >> 4);
		if (e & 8)
			bt->slots[fr] |= 1ull << idx;
		else
			bt->regs[fr] |= (uint16_t)(1u << idx);
	}
}

/* -------------------------------------------------------- one step back -- */

/* Undo instruction i for the demand set: what had to be precise before i
 * for bt to be precise after it.  subseq: the instruction the path took
 * after i.  0, NOTSUPP, or <0. */
static int backtrack_insn(struct venv *env, int i, int subseq, const struct vhist *h, struct bt *bt)
{
	const struct bpf_insn *in = &env->insns[i];
	enum bpf_op op = env->ops[i];
	int d = in->dst_reg, s = in->src_reg;
	bool stack = h && (h->flags & HIST_STACK);
	int sfr = stack ? (int)HIST_FRAMENO(h->flags) : 0, spi = stack ? (int)HIST_SPI(h->flags) : 0;

	bt_sync_linked(bt, h);
	switch (isa_ops[op].fmt) {
	case FMT_ALU_IMM:
		if (bt_reg(bt, d) && (op == OP_MOV64_IMM || op == OP_MOV32_IMM))
			bt_clear(bt, d);
		break;
	case FMT_ALU_REG:
		if (!bt_reg(bt, d))
			break;
		if (op == OP_MOV64_REG || op == OP_MOV32_REG || op == OP_MOVSX8_64 ||
		    op == OP_MOVSX16_64 || op == OP_MOVSX32_64 || op == OP_MOVSX8_32 ||
		    op == OP_MOVSX16_32)
			bt_clear(bt, d);
		bt_set(bt, s);
		break;
	case FMT_NEG:
	case FMT_END:
		break;
	case FMT_LDX:
	case FMT_LOAD_ACQ:
		if (!bt_reg(bt, d))
			break;
		bt_clear(bt, d);
		if (stack)	/* a fill: the slot held the value */
			bt->slots[sfr] |= 1ull << spi;
		break;
	case FMT_ST:
	case FMT_STX:
	case FMT_STORE_REL:
		if (bt_reg(bt, d))
			return NOTSUPP;	/* a scalar used as an address */
		if (!stack || !((bt->slots[sfr] >> spi) & 1))
			break;
		bt->slots[sfr] &= ~(1ull << spi);
		if (isa_ops[op].fmt != FMT_ST)
			bt_set(bt, s);	/* a spill of s */
		break;
	case FMT_ATOMIC: {
		bool cmpxchg = op == OP_ATOMIC64_CMPXCHG || op == OP_ATOMIC32_CMPXCHG;
		int load = (in->imm & 1) ? (cmpxchg ? 0 : s) : -1;
		if (bt_reg(bt, d) || (stack && ((bt->slots[sfr] >> spi) & 1)))
			return NOTSUPP;
		if (load >= 0 && bt_reg(bt, load)) {
			bt_clear(bt, load);
			if (stack)	/* fetched from a spilled scalar */
				bt->slots[sfr] |= 1ull << spi;
		}
		break;
	}
	case FMT_JMP_REG:
		if (bt_reg(bt, d) || bt_reg(bt, s)) {
			bt_set(bt, d);
			bt_set(bt, s);
		}
		break;
	case FMT_JMP_IMM:
	case FMT_JA:
	case FMT_JA32:
	case FMT_MAY_GOTO:
		break;
	case FMT_LDDW:
		bt_clear(bt, d);
		break;
	case FMT_LDABS:
	case FMT_LDIND:
		/* r0's range comes from the size only; r1-r5 were clobbered */
		if (bt->regs[bt->frame] & 0x3e)
			return NOTSUPP;
		bt_clear(bt, 0);
		break;
	case FMT_CALL_LOCAL:
		/* walking out of the callee into its caller: only the
		 * arguments can still be wanted, they are the caller's */
		if ((bt->regs[bt->frame] & ~0x3eu) || bt->slots[bt->frame] || bt->frame == 0)
			return NOTSUPP;
		{
			uint16_t args = bt->regs[bt->frame];
			bt->regs[bt->frame] = 0;
			bt->frame--;
			bt->regs[bt->frame] |= args;
		}
		break;
	case FMT_CALL:
	case FMT_CALL_KFUNC:
	case FMT_CALLX:
		if (env->aux[i].calls_cb && subseq != i + 1 && op == OP_CALL) {
			/* out of a callback's first instruction into the helper
			 * call that started it: the callback's context argument
			 * is the caller's r3 (bpf_loop: r2, for_each: r4) */
			if ((bt->regs[bt->frame] & ~0x3eu) || bt->slots[bt->frame] || bt->frame == 0)
				return NOTSUPP;
			bool ctx = bt_reg(bt, in->imm == 181 ? 2 : 4);
			bt->regs[bt->frame] = 0;
			bt->frame--;
			if (ctx)
				bt_set(bt, 3);
			break;
		}
		bt_clear(bt, 0);
		if (bt->regs[bt->frame] & 0x3e)
			return NOTSUPP;	/* r1-r5 do not survive a call */
		break;
	case FMT_EXIT: {
		/* walking back into a callee from the instruction after its
		 * call (a subprogram: r0 is its result, r1-r5 are dead there)
		 * or from the helper call a callback returns to (the caller's
		 * registers are its own; r0 is not passed on) */
		bool cb = h && (h->flags & HIST_CB_EXIT);
		bool r0 = !cb && bt_reg(bt, 0);
		if (!cb) {
			if (bt->regs[bt->frame] & 0x3e)
				return NOTSUPP;
			bt_clear(bt, 0);
		}
		if (bt->frame + 1 >= V_MAX_FRAMES)
			return NOTSUPP;
		bt->frame++;
		bt->regs[bt->frame] = r0 ? 1 : 0;
		bt->slots[bt->frame] = 0;
		break;
	}
	default:
		return NOTSUPP;
	}
	bt_sync_linked(bt, h);
	return 0;
}

/* ------------------------------------------------------------- the walk -- */

static void mark_all(struct vstate *st)
{
	for (; st; st = st->parent) {
		for (int fi = 0; fi <= st->curframe; fi++) {
			struct vframe *f = st->frame[fi];
			for (int r = 0; r < V_REGS; r++)
				if (f->regs[r].type == SCALAR_VALUE)
					f->regs[r].precise = true;
			for (int s = 0; s < f->slot_cnt; s++)
				if (is_spilled_scalar(&f->stack[s]))
					f->stack[s].spilled.precise = true;
		}
	}
}

/* the instruction before i on st's path, -1 at its start */
static int prev_insn(const struct venv *env, const struct vstate *st, int i, uint32_t *h)
{
	if (i == st->first_insn_idx) {
		if (*h == 0)
			return -1;
		if (*h == 1 && st->hist[0].idx == i)
			return -1;
	}
	if (*h && st->hist[*h - 1].idx == i) {
		(*h)--;
		return st->hist[*h].prev_idx;
	}
	return natural_pred(env, i);
}

/* mark what bt wants in st's checkpoint; drop what is already there */
static bool mark_in(struct vstate *st, struct bt *bt)
{
	if (st->curframe != bt->frame)
		return false;
	for (int fi = 0; fi <= bt->frame; fi++) {
		struct vframe *f = st->frame[fi];
		for (int r = 0; r < V_REGS; r++) {
			if (!(bt->regs[fi] & (1u << r)))
				continue;
			struct vreg *reg = &f->regs[r];
			if (reg->type != SCALAR_VALUE || reg->precise)
				bt->regs[fi] &= (uint16_t) ~(1u << r);
			else
				reg->precise = true;
		}
		uint64_t m = bt->slots[fi];
		while (m) {
			int s = __builtin_ctzll(m);
			m &= m - 1;
			if (s >= f->slot_cnt || !is_spilled_scalar(&f->stack[s]) ||
			    f->stack[s].spilled.precise)
				bt->slots[fi] &= ~(1ull << s);
			else
				f->stack[s].spilled.precise = true;
		}
	}
	return true;
}

/* A history entry remembers the demand (of its own frame) already walked
 * back from it: a later walk reaching it with no more than that stops
 * there.  Sound because a walk is a union of per-scalar walks (undoing an
 * instruction, or giving up, is decided scalar by scalar), checkpoint marks
 * only grow, and the path before the entry never changes: what the earlier
 * walk marked, or its mark_all, covers the later one.  Without it every
 * jump in a loop walked all the iterations since the checkpoint (up to
 * ~100 instructions). */
static bool bt_walked(struct bt *bt, struct vhist *e)
{
	for (int f = 0; f < bt->frame; f++)
		if (bt->regs[f] || bt->slots[f])
			return false;	/* demands of callers: not remembered */
	uint16_t r = bt->regs[bt->frame];
	uint64_t s = bt->slots[bt->frame];
	if (!(r & ~e->walked_regs) && !(s & ~e->walked_slots))
		return true;
	e->walked_regs |= r;
	e->walked_slots |= s;
	return false;
}

/* Walk back from instruction i of st (skipping i itself when skip: i is
 * the instruction being checked, st the current state; else st is a
 * checkpoint and i its last instruction). */
static int walk(struct venv *env, struct vstate *st, int i, bool skip, struct bt *bt)
{
	struct vstate *start = st;
	int subseq = skip ? -1 : st->insn_idx;
	if (bt_empty(bt))
		return 0;
	for (;;) {
		uint32_t h = st->hist_cnt;
		while (i >= 0) {
			if (skip) {
				skip = false;
			} else {
				struct vhist *e = h && st->hist[h - 1].idx == i ? &st->hist[h - 1] : NULL;
				if (e && bt_walked(bt, e))
					return 0;
				int err = backtrack_insn(env, i, subseq, e, bt);
				if (err == NOTSUPP)
					goto all;
				if (err)
					return err;
				if (bt_empty(bt))
					return 0;
			}
			subseq = i;
			i = prev_insn(env, st, i, &h);
			if (i >= (int)env->insn_cnt)
				goto all;
		}
		st = st->parent;
		if (!st)
			break;
		if (!mark_in(st, bt))
			goto all;
		if (bt_empty(bt))
			return 0;
		i = st->last_insn_idx;
	}
all:
	if (!bt_empty(bt))
		mark_all(start);
	return 0;
}

static void bt_init(struct bt *bt, int frame)
{
	memset(bt, 0, sizeof(*bt));
	bt->frame = frame;
}

int mark_precise_reg(struct venv *env, int regno)
{
	struct bt bt;
	if (cur_regs(env)[regno].type != SCALAR_VALUE)
		return 0;
	bt_init(&bt, env->cur->curframe);
	bt_set(&bt, regno);
	return walk(env, env->cur, env->insn_idx, true, &bt);
}

int mark_precise_slot(struct venv *env, int frameno, int spi)
{
	struct bt bt;
	bt_init(&bt, env->cur->curframe);
	bt.slots[frameno] |= 1ull << spi;
	return walk(env, env->cur, env->insn_idx, true, &bt);
}

/* the demand set: every precise (or, all: every) scalar of st */
static void bt_from(struct bt *bt, const struct vstate *st, bool all)
{
	bt_init(bt, st->curframe);
	for (int fi = 0; fi <= st->curframe; fi++) {
		const struct vframe *f = st->frame[fi];
		for (int r = 0; r < 10; r++)
			if (f->regs[r].type == SCALAR_VALUE && (all || f->regs[r].precise))
				bt->regs[fi] |= (uint16_t)(1u << r);
		for (int s = 0; s < f->slot_cnt && s < 64; s++)
			if (is_spilled_scalar(&f->stack[s]) && (all || f->stack[s].spilled.precise))
				bt->slots[fi] |= 1ull << s;
	}
}

int propagate_precision(struct venv *env, const struct vstate *old)
{
	struct bt bt;
	bt_from(&bt, old, false);
	if (bt.frame != env->cur->curframe)
		return 0;
	return walk(env, env->cur, env->insn_idx, true, &bt);
}

/* slot s of frame fi read at st: the read reaches st's ancestors up to the
 * one whose path wrote the slot */
static void read_up(struct vstate *st, int fi, int s)
{
	for (struct vstate *p = st; p; p = p->parent) {
		if (p->curframe < fi || s >= p->frame[fi]->slot_cnt)
			return;
		struct vslot *ps = &p->frame[fi]->stack[s];
		if ((ps->live & LIVE_READ) && p != st)
			return;
		ps->live |= LIVE_READ;
		if (ps->live & LIVE_WRITTEN)
			return;
	}
}

/* The current state reached a loop head `old` still being explored and is
 * covered by it.  old's marks are not final yet, and whatever the rest of
 * its exploration finds would have to flow around the loop into the states
 * between old and the current one.  Instead: those states never prune, and
 * old takes every scalar as precise and every slot as read, which is what
 * pruning did before precision tracking. */
int precise_loop_hit(struct venv *env, struct vstate *old)
{
	for (struct vstate *st = env->cur->parent; st && st != old; st = st->parent)
		st->no_prune = true;
	if (old->all_precise)
		return 0;
	old->all_precise = true;
	struct bt bt;
	bt_from(&bt, old, true);
	for (int fi = 0; fi <= old->curframe; fi++) {
		struct vframe *f = old->frame[fi];
		for (int r = 0; r < V_REGS; r++)
			if (f->regs[r].type == SCALAR_VALUE)
				f->regs[r].precise = true;
		for (int s = 0; s < f->slot_cnt; s++) {
			if (is_spilled_scalar(&f->stack[s]))
				f->stack[s].spilled.precise = true;
			read_up(old, fi, s);
		}
	}
	return walk(env, old, old->last_insn_idx, false, &bt);
}

void clear_precise(struct vstate *st)
{
	for (int fi = 0; fi <= st->curframe; fi++) {
		struct vframe *f = st->frame[fi];
		for (int r = 0; r < V_REGS; r++)
			f->regs[r].precise = false;
		for (int s = 0; s < f->slot_cnt; s++)
			f->stack[s].spilled.precise = false;
	}
}
