/* check_insn.c — ALU, jumps, loads and stores, lddw, ld_abs, atomics.
 *
 * ALU on scalars goes to the value domain (bounds.c); ALU on pointers follows
 * the kernel's pointer arithmetic rules (add or subtract a bounded scalar,
 * fixed offsets accumulate in `off`, anything else is refused or, for
 * privileged programs, turns the pointer into a scalar).  A conditional jump
 * whose outcome the bounds decide follows that outcome only; otherwise the
 * other outcome is pushed as a new path and both are refined: scalar bounds
 * (with every register linked to them), NULL checks of maybe-NULL pointers
 * (with every copy of the pointer), and packet ranges proven by comparing a
 * packet pointer against data_end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/verifier_int.h"

#define MAX_VAR_OFF (1 << 29)
#define MAX_PACKET_OFF 0xffff

static const char *const alu_str[16] = {
	"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=",
	"endian", "?", "?",
};

void mark_reg_written(struct venv *env, int regno)
{
	env->scratched_regs |= (uint16_t)(1u << regno);
}

static struct vreg *reg_of(struct venv *env, int regno)
{
	return &cur_regs(env)[regno];
}

static bool is_pointer(const struct vreg *r)
{
	return r->type != SCALAR_VALUE && r->type != NOT_INIT;
}

static void set_unknown(struct venv *env, int regno)
{
	struct vreg *r = reg_of(env, regno);
	uint8_t live = r->live;
	reg_mark_unknown_scalar(r);
	r->live = live;
	mark_reg_written(env, regno);
}

/* -------------------------------------------------- pointer arithmetic -- */

static bool sane_offset(struct venv *env, const struct vreg *r, const struct vreg *ptr)
{
	char tb[64];
	reg_type_str(ptr, tb, sizeof(tb));
	bool known = tnum_is_const(r->var_off);
	int64_t val = (int64_t)r->var_off.value;
	if (known && (val >= MAX_VAR_OFF || val <= -MAX_VAR_OFF)) {
		verbose(env, "math between %s pointer and %lld is not allowed\n", tb, (long long)val);
		return false;
	}
	if (r->off >= MAX_VAR_OFF || r->off <= -MAX_VAR_OFF) {
		verbose(env, "%s pointer offset %d is not allowed\n", tb, r->off);
		return false;
	}
	if (r->smin == INT64_MIN) {
		verbose(env, "math between %s pointer and register with unbounded min value is not allowed\n",
			tb);
		return false;
	}
	if (r->smin >= MAX_VAR_OFF || r->smin <= -MAX_VAR_OFF) {
		verbose(env, "value %lld makes %s pointer be out of bounds\n", (long long)r->smin, tb);
		return false;
	}
	return true;
}

/* dst = ptr OP off_reg (ptr and off_reg are copies) */
static int ptr_alu(struct venv *env, int dstno, const struct vreg *ptr, const struct vreg *off_reg,
		   uint8_t opn, bool alu32, bool dst_is_scalar)
{
	struct vreg *dst = reg_of(env, dstno);
	char tb[64];
	bool known = tnum_is_const(off_reg->var_off);
	int64_t smin_val = off_reg->smin, smax_val = off_reg->smax;
	uint64_t umin_val = off_reg->umin, umax_val = off_reg->umax;

	if (alu32) {
		if (opn == 0x10) { /* privileged: a meaningless scalar */
			set_unknown(env, dstno);
			reg_zext32(reg_of(env, dstno));
			return 0;
		}
		verbose(env, "R%d 32-bit pointer arithmetic prohibited\n", dstno);
		return -EACCES;
	}
	if (ptr->flags & PTR_MAYBE_NULL) {
		verbose(env, "R%d pointer arithmetic on %s prohibited, null-check it first\n", dstno,
			reg_type_str(ptr, tb, sizeof(tb)));
		return -EACCES;
	}
	switch (ptr->type) {
	case PTR_TO_CTX:
	case PTR_TO_MAP_VALUE:
	case PTR_TO_MAP_KEY:
	case PTR_TO_STACK:
	case PTR_TO_PACKET_META:
	case PTR_TO_PACKET:
	case PTR_TO_MEM:
	case PTR_TO_FUNC:
		break;
	case CONST_PTR_TO_MAP:
		if (known && smin_val == 0 && opn == 0x00)
			break;
		/* fallthrough */
	default:
		verbose(env, "R%d pointer arithmetic on %s prohibited\n", dstno,
			reg_type_str(ptr, tb, sizeof(tb)));
		return -EACCES;
	}
	if ((known && (smin_val != smax_val || umin_val != umax_val)) || smin_val > smax_val ||
	    umin_val > umax_val) {
		set_unknown(env, dstno);
		return 0;
	}
	if (opn == 0x50 || opn == 0x40 || opn == 0xa0) {
		verbose(env, "R%d bitwise operator %s on pointer prohibited\n", dstno,
			alu_str[opn >> 4]);
		return -EACCES;
	}
	if (opn != 0x00 && opn != 0x10) {
		verbose(env, "R%d pointer arithmetic with %s operator prohibited\n", dstno,
			alu_str[opn >> 4]);
		return -EACCES;
	}
	if (opn == 0x10 && dst_is_scalar) {
		verbose(env, "R%d tried to subtract pointer from scalar\n", dstno);
		return -EACCES;
	}
	if (opn == 0x10 && ptr->type == PTR_TO_STACK) {
		verbose(env, "R%d subtraction from stack pointer prohibited\n", dstno);
		return -EACCES;
	}
	if (!sane_offset(env, off_reg, ptr) || !sane_offset(env, ptr, ptr))
		return -EACCES;

	struct vreg r = *ptr;
	r.live = dst->live;
	r.precise = false;
	bool pkt = ptr->type == PTR_TO_PACKET || ptr->type == PTR_TO_PACKET_META;
	/* add (0x00) or sub (0x10): a known offset moves r.off; anything else
	 * goes into the variable part, computed as the scalar operation */
	int64_t noff = opn == 0x00 ? (int64_t)ptr->off + smin_val : (int64_t)ptr->off - smin_val;
	if (known && noff == (int64_t)(int32_t)noff) {
		r.off = (int32_t)noff;
	} else {
		struct vreg v = *ptr, o = *off_reg;
		v.type = SCALAR_VALUE;
		scalar_alu(&v, &o, opn, false);
		r.var_off = v.var_off;
		r.smin = v.smin;
		r.smax = v.smax;
		r.umin = v.umin;
		r.umax = v.umax;
		r.s32_min = v.s32_min;
		r.s32_max = v.s32_max;
		r.u32_min = v.u32_min;
		r.u32_max = v.u32_max;
		if (pkt) {
			r.id = env_new_id(env);
			/* adding may move past the proven range; subtracting a
			 * non-negative value only moves back into it */
			if (opn == 0x00 || smin_val < 0)
				r.range = 0;
		}
	}
	if (!sane_offset(env, &r, ptr))
		return -EACCES;
	reg_bounds_sync(&r);
	*dst = r;
	mark_reg_written(env, dstno);
	return 0;
}

/* ------------------------------------------------------------------ ALU -- */

int check_alu(struct venv *env, int idx)
{
	const struct bpf_insn *in = &env->insns[idx];
	enum bpf_op op = env->ops[idx];
	const struct bpf_opinfo *info = &isa_ops[op];
	uint8_t opn = OPN(in->code);
	bool alu32 = (in->code & 0x07) == 0x04;
	int dstno = in->dst_reg, err;
	struct vreg *dst = reg_of(env, dstno);

	/* fields and operands in the kernel's order (check_alu_op()): reserved
	 * fields, source, destination read, div by zero, shift, r10 written;
	 * check_fields() has checked the first ones */
	if (info->fmt == FMT_NEG || info->fmt == FMT_END) {
		if ((err = check_reg_read(env, dstno)) || (err = check_reg_arg_write(env, dstno)))
			return err;
		if (is_pointer(dst)) {
			set_unknown(env, dstno);
			return 0;
		}
		if (info->fmt == FMT_NEG) {
			scalar_alu(dst, NULL, 0x80, alu32);
		} else {
			int bits = in->imm;
			bool swap = op == OP_BE16 || op == OP_BE32 || op == OP_BE64 ||
				    op == OP_BSWAP16 || op == OP_BSWAP32 || op == OP_BSWAP64;
			scalar_bswap(dst, bits, swap, op >= OP_BSWAP16 && op <= OP_BSWAP64);
		}
		dst->id = 0;
		mark_reg_written(env, dstno);
		return 0;
	}

	struct vreg srcbuf;
	const struct vreg *src;
	bool src_is_reg = info->fmt == FMT_ALU_REG;
	if (src_is_reg) {
		if ((err = check_reg_read(env, in->src_reg)))
			return err;
		src = reg_of(env, in->src_reg);
	} else {
		reg_mark_known(&srcbuf, alu32 ? (uint64_t)(uint32_t)in->imm : (uint64_t)(int64_t)in->imm);
		src = &srcbuf;
	}

	if (opn == 0xb0) { /* mov */
		if ((err = check_reg_arg_write(env, dstno)))
			return err;
		struct vreg *s = src_is_reg ? reg_of(env, in->src_reg) : NULL;
		uint8_t live = dst->live;
		if (!src_is_reg) {
			reg_mark_known(dst, srcbuf.var_off.value);
			dst->live = live;
		} else if (in->off) { /* movsx */
			if (s->type != SCALAR_VALUE) {
				set_unknown(env, dstno);
				if (alu32)
					reg_zext32(dst);
				return 0;
			}
			struct vreg copy = *s;
			scalar_movsx(dst, &copy, in->off, alu32);
			dst->live = live;
			dst->id = 0;
		} else if (!alu32) {
			if (s->type == SCALAR_VALUE && !s->id && !tnum_is_const(s->var_off))
				s->id = env_new_id(env);
			*dst = *s;
			dst->live = live;
		} else {
			if (s->type != SCALAR_VALUE) {
				set_unknown(env, dstno);
				reg_zext32(dst);
				return 0;
			}
			bool fits = s->umax <= UINT32_MAX;
			if (fits && !s->id && !tnum_is_const(s->var_off))
				s->id = env_new_id(env);
			*dst = *s;
			dst->live = live;
			if (!fits) {
				dst->id = 0;
				dst->off = 0;
			}
			if (dst->id & ID_ADD_CONST) {
				dst->id = 0;
				dst->off = 0;
			}
			reg_zext32(dst);
		}
		mark_reg_written(env, dstno);
		return 0;
	}

	if ((err = check_reg_read(env, dstno)))
		return err;
	if ((opn == 0x30 || opn == 0x90) && !src_is_reg && in->imm == 0) {
		verbose(env, "div by zero\n");
		return -EINVAL;
	}
	if ((opn == 0x60 || opn == 0x70 || opn == 0xc0) && !src_is_reg) {
		int size = alu32 ? 32 : 64;
		if (in->imm < 0 || in->imm >= size) {
			verbose(env, "invalid shift %d\n", in->imm);
			return -EINVAL;
		}
	}
	if ((err = check_reg_arg_write(env, dstno)))
		return err;

	struct vreg s = *src;
	if (is_pointer(&s) || is_pointer(dst)) {
		if (is_pointer(&s) && is_pointer(dst)) {
			if (opn == 0x10) { /* privileged: pointer - pointer is a scalar */
				set_unknown(env, dstno);
				if (alu32)
					reg_zext32(dst);
				return 0;
			}
			verbose(env, "R%d pointer %s pointer prohibited\n", dstno, alu_str[opn >> 4]);
			return -EACCES;
		}
		/* the scalar's range becomes the pointer's: it must be exact */
		if (is_pointer(dst)) {
			if (src_is_reg && (err = mark_precise_reg(env, in->src_reg)))
				return err;
			return ptr_alu(env, dstno, dst, &s, opn, alu32, false);
		}
		if ((err = mark_precise_reg(env, dstno)))
			return err;
		struct vreg d = *dst;
		return ptr_alu(env, dstno, &s, &d, opn, alu32, true);
	}

	/* both scalars */
	uint32_t old_id = dst->id;
	int32_t old_off = dst->off;
	scalar_alu(dst, &s, opn, alu32);
	mark_reg_written(env, dstno);
	/* rX += const keeps rX linked to its copies, with a known delta */
	if (!alu32 && (opn == 0x00 || opn == 0x10) && old_id && tnum_is_const(s.var_off) &&
	    !(old_id & ID_ADD_CONST)) {
		int64_t v = (int64_t)s.var_off.value;
		if (opn == 0x10)
			v = -v;
		if (v >= INT32_MIN + 1 && v <= INT32_MAX && !old_off) {
			dst->id = old_id | ID_ADD_CONST;
			dst->off = (int32_t)v;
		}
	}
	return 0;
}

/* --------------------------------------------------------------- states -- */

struct vstate *push_stack(struct venv *env, int insn_idx, int prev_idx)
{
	struct vstack_elem *e = env->elem_pool;
	if (e)
		env->elem_pool = e->next;
	else if (!(e = calloc(1, sizeof(*e))))
		return NULL;
	e->st = state_get(env, env->cur);
	if (!e->st) {
		free(e);
		return NULL;
	}
	e->insn_idx = insn_idx;
	e->prev_insn_idx = prev_idx;
	e->log_pos = vlog_pos(&env->log);
	e->next = env->head;
	env->head = e;
	env->stack_size++;
	if (e->st->parent)
		e->st->parent->branches++;
	return e->st;
}

/* drop the path pushed last (it turned out impossible) */
static void drop_pushed(struct venv *env)
{
	struct vstack_elem *e = env->head;
	env->head = e->next;
	env->stack_size--;
	if (e->st->parent)
		prune_update_branches(env, e->st->parent);
	state_put(env, e->st);
	e->next = env->elem_pool;
	env->elem_pool = e;
}

struct nullctx {
	uint32_t id;
	bool is_null;
};

static void null_one(struct venv *env, struct vreg *r, void *ctx)
{
	(void)env;
	const struct nullctx *n = ctx;
	if (r->id != n->id || !(r->flags & PTR_MAYBE_NULL))
		return;
	if (n->is_null) {
		uint8_t live = r->live;
		reg_mark_known(r, 0);
		r->live = live;
		return;
	}
	r->flags &= (uint8_t)~PTR_MAYBE_NULL;
	if (r->type == PTR_TO_MAP_VALUE && r->map && r->map->inner) {
		r->type = CONST_PTR_TO_MAP;
		r->map = r->map->inner;
		r->off = 0;
	}
	if (!r->ref_obj_id)
		r->id = 0;
}

void mark_ptr_or_null_regs(struct venv *env, struct vstate *st, uint32_t id, bool is_null)
{
	struct vstate *saved = env->cur;
	env->cur = st;
	uint32_t ref = 0;
	for (int i = 0; i <= st->curframe && !ref; i++)
		for (int r = 0; r < V_REGS; r++)
			if (st->frame[i]->regs[r].id == id && st->frame[i]->regs[r].ref_obj_id)
				ref = st->frame[i]->regs[r].ref_obj_id;
	struct nullctx n = { id, is_null };
	for_each_reg(env, st, null_one, &n);
	if (is_null && ref) {
		for (int i = 0; i < st->ref_cnt; i++) {
			if (st->refs[i].id == ref) {
				st->refs[i] = st->refs[st->ref_cnt - 1];
				st->ref_cnt--;
				break;
			}
		}
	}
	env->cur = saved;
}

struct linkctx {
	const struct vreg *known;
};

static void link_one(struct venv *env, struct vreg *r, void *ctx)
{
	(void)env;
	const struct vreg *k = ((const struct linkctx *)ctx)->known;
	if (r == k || r->type != SCALAR_VALUE || !r->id)
		return;
	if ((r->id & ~ID_ADD_CONST) != (k->id & ~ID_ADD_CONST))
		return;
	uint8_t live = r->live;
	uint32_t id = r->id;
	int32_t off = r->off;
	bool precise = r->precise;
	int32_t kd = (k->id & ID_ADD_CONST) ? k->off : 0;
	int32_t rd = (id & ID_ADD_CONST) ? off : 0;
	*r = *k;
	if (rd != kd) {
		struct vreg delta;
		reg_mark_known(&delta, (uint64_t)((int64_t)rd - kd));
		r->id = 0;
		scalar_alu(r, &delta, 0x00, false);
	}
	r->live = live;
	r->id = id;
	r->off = off;
	r->precise = precise || k->precise;
}

void sync_linked_regs(struct venv *env, struct vstate *st, const struct vreg *known)
{
	if (known->type != SCALAR_VALUE || !known->id)
		return;
	struct vreg k = *known;
	struct linkctx c = { &k };
	for_each_reg(env, st, link_one, &c);
}

/* ------------------------------------------------------------- branches -- */

static bool is_init_pkt(const struct vreg *r)
{
	return r->type == PTR_TO_PACKET && r->off == 0 && tnum_equals_const(r->var_off, 0);
}

struct pktctx {
	const struct vreg *p;
	uint32_t range;
};

static void pkt_one(struct venv *env, struct vreg *r, void *ctx)
{
	(void)env;
	const struct pktctx *c = ctx;
	if (r->type == c->p->type && r->id == c->p->id && r->range < c->range)
		r->range = c->range;
}

static void find_good_pkt_pointers(struct venv *env, struct vstate *st, const struct vreg *p,
				   bool right_open)
{
	if (p->off < 0 || (p->off == 0 && right_open))
		return;
	if (p->umax > MAX_PACKET_OFF || p->umax + (uint64_t)p->off > MAX_PACKET_OFF)
		return;
	struct vreg copy = *p;
	struct pktctx c = { &copy, (uint32_t)p->off + (right_open ? 1 : 0) };
	struct vstate *saved = env->cur;
	env->cur = st;
	for_each_reg(env, st, pkt_one, &c);
	env->cur = saved;
}

/* dst OP src with packet pointers: grow ranges in the branch that proves it */
static bool try_pkt(struct venv *env, struct vstate *taken, struct vstate *fall, int dstno,
		    int srcno, uint8_t opn)
{
	const struct vreg *d = &taken->frame[taken->curframe]->regs[dstno];
	const struct vreg *s = &taken->frame[taken->curframe]->regs[srcno];
	bool d_is_p = (d->type == PTR_TO_PACKET && s->type == PTR_TO_PACKET_END) ||
		      (d->type == PTR_TO_PACKET_META && is_init_pkt(s));
	bool s_is_p = (s->type == PTR_TO_PACKET && d->type == PTR_TO_PACKET_END) ||
		      (s->type == PTR_TO_PACKET_META && is_init_pkt(d));
	if (!d_is_p && !s_is_p)
		return false;
	/* normalise to "p OP end" */
	const struct vreg *p = d_is_p ? d : s;
	uint8_t o = d_is_p ? opn : jmp_flip(opn);
	struct vreg pc = *p;
	switch (o) {
	case 0x20: /* p > end: fall-through has p <= end */
		find_good_pkt_pointers(env, fall, &pc, false);
		break;
	case 0x30: /* p >= end: fall-through has p < end */
		find_good_pkt_pointers(env, fall, &pc, true);
		break;
	case 0xa0: /* p < end: taken */
		find_good_pkt_pointers(env, taken, &pc, true);
		break;
	case 0xb0: /* p <= end: taken */
		find_good_pkt_pointers(env, taken, &pc, false);
		break;
	default:
		return false;
	}
	return true;
}

/* returns 0 to go on at *idx, 1 when the current path ends, <0 on error */
int check_cond_jmp(struct venv *env, int *idx)
{
	int i = *idx;
	const struct bpf_insn *in = &env->insns[i];
	enum bpf_op op = env->ops[i];
	const struct bpf_opinfo *info = &isa_ops[op];
	uint8_t opn = OPN(in->code);
	bool is32 = (in->code & 0x07) == 0x06;
	int target = (int)isa_target(in, (size_t)i, op);
	int err;

	if (op == OP_MAY_GOTO) {
		struct vstate *q = push_stack(env, i + 1, i);
		if (!q)
			return -ENOMEM;
		q->may_goto_depth++;
		*idx = target;
		return 0;
	}
	if ((err = check_reg_read(env, in->dst_reg)))
		return err;
	bool src_is_reg = info->fmt == FMT_JMP_REG;
	if (src_is_reg && (err = check_reg_read(env, in->src_reg)))
		return err;

	struct vreg *dst = reg_of(env, in->dst_reg);
	struct vreg immreg;
	const struct vreg *src;
	if (src_is_reg) {
		src = reg_of(env, in->src_reg);
	} else {
		reg_mark_known(&immreg, is32 ? (uint64_t)(uint32_t)in->imm : (uint64_t)(int64_t)in->imm);
		src = &immreg;
	}

	int taken = -1;
	if (dst->type == SCALAR_VALUE && src->type == SCALAR_VALUE) {
		taken = scalar_branch_taken(dst, src, opn, is32);
	} else if (!is32 && (opn == 0x10 || opn == 0x50)) {
		/* a pointer that cannot be NULL against 0 */
		const struct vreg *p = is_pointer(dst) ? dst : src;
		const struct vreg *o = is_pointer(dst) ? src : dst;
		bool not_null = !(p->flags & PTR_MAYBE_NULL) &&
				(p->type == PTR_TO_MAP_VALUE || p->type == PTR_TO_MAP_KEY ||
				 p->type == PTR_TO_MEM);
		if (not_null && o->type == SCALAR_VALUE && tnum_equals_const(o->var_off, 0))
			taken = opn == 0x50;
	}
	env->jmps_processed++;
	if (taken >= 0) {
		/* the other way is never walked because of these values */
		if (dst->type == SCALAR_VALUE && (err = mark_precise_reg(env, in->dst_reg)))
			return err;
		if (src_is_reg && src->type == SCALAR_VALUE &&
		    (err = mark_precise_reg(env, in->src_reg)))
			return err;
		*idx = taken ? target : i + 1;
		return 0;
	}

	/* scalars linked to the compared ones get their ranges here too */
	if (dst->type == SCALAR_VALUE && (src->type == SCALAR_VALUE || !src_is_reg) &&
	    (err = hist_push_linked(env, dst, src_is_reg ? src : NULL)))
		return err;
	struct vstate *other = push_stack(env, target, i);
	if (!other)
		return -ENOMEM;
	if (env->stack_size > V_JMP_SEQ_LIMIT) {
		verbose(env, "The sequence of %d jumps is too complex.\n", env->stack_size);
		return -E2BIG;
	}
	struct vstate *cur = env->cur;
	struct vreg *odst = &other->frame[other->curframe]->regs[in->dst_reg];
	bool other_ok = true, cur_ok = true;

	if (dst->type == SCALAR_VALUE && src->type == SCALAR_VALUE) {
		struct vreg *osrc = src_is_reg ? &other->frame[other->curframe]->regs[in->src_reg] : NULL;
		struct vreg imm1 = immreg, imm2 = immreg;
		other_ok = scalar_refine(odst, osrc ? osrc : &imm1, opn, is32);
		cur_ok = scalar_refine(dst, src_is_reg ? reg_of(env, in->src_reg) : &imm2,
				       jmp_negate(opn), is32);
		if (other_ok) {
			sync_linked_regs(env, other, odst);
			if (osrc)
				sync_linked_regs(env, other, osrc);
		}
		if (cur_ok) {
			sync_linked_regs(env, cur, dst);
			if (src_is_reg)
				sync_linked_regs(env, cur, reg_of(env, in->src_reg));
		}
		if (other_ok && !cur_ok && src_is_reg && dst->id && dst->id == src->id) {
			/* compared with itself: nothing learned */
		}
	} else if (!src_is_reg && in->imm == 0 && !is32 && (opn == 0x10 || opn == 0x50) &&
		   (dst->flags & PTR_MAYBE_NULL)) {
		uint32_t id = dst->id;
		/* jeq: the taken branch has NULL */
		mark_ptr_or_null_regs(env, other, id, opn == 0x10);
		mark_ptr_or_null_regs(env, cur, id, opn != 0x10);
	} else if (src_is_reg && !is32) {
		try_pkt(env, other, cur, in->dst_reg, in->src_reg, opn);
	}
	if ((!other_ok || !cur_ok) && dst->type == SCALAR_VALUE) {
		/* one way turned out impossible by the ranges */
		if ((err = mark_precise_reg(env, in->dst_reg)))
			return err;
		if (src_is_reg && (err = mark_precise_reg(env, in->src_reg)))
			return err;
	}
	if (!other_ok)
		drop_pushed(env);
	if (!cur_ok)
		return 1;
	*idx = i + 1;
	return 0;
}

/* ----------------------------------------------------------------- lddw -- */

int check_ld_imm64(struct venv *env, int idx)
{
	const struct bpf_insn *in = &env->insns[idx];
	enum bpf_op op = env->ops[idx];
	int dstno = in->dst_reg;
	struct vreg *dst = reg_of(env, dstno);
	uint8_t live = dst->live;
	if (dstno == 10) {
		verbose(env, "frame pointer is read only\n");
		return -EACCES;
	}
	switch (op) {
	case OP_LDDW:
		reg_mark_known(dst, (uint64_t)(uint32_t)in->imm | (uint64_t)(uint32_t)in[1].imm << 32);
		break;
	case OP_LDDW_MAP_FD:
	case OP_LDDW_MAP_IDX: {
		const struct vmap *m = env_map_for(env, (const struct bpfvm_map *)(uintptr_t)env->code[idx].imm);
		if (!m)
			return -ENOMEM;
		reg_mark_known(dst, 0);
		dst->type = CONST_PTR_TO_MAP;
		dst->map = m;
		break;
	}
	case OP_LDDW_MAP_VALUE:
	case OP_LDDW_MAP_IDX_VALUE: {
		uint32_t off = (uint32_t)in[1].imm;
		uintptr_t base = (uintptr_t)env->code[idx].imm - off;
		const struct bpfvm_map *found = NULL;
		for (size_t k = 0; k < env->prog->map_cnt && !found; k++) {
			struct bpfvm_map *m = env->prog->maps[k];
			uint32_t key = 0;
			if (m->type == BPFVM_MAP_TYPE_ARRAY && m->max_entries == 1 &&
			    (uintptr_t)map_lookup(m, &key, 0) == base)
				found = m;
		}
		const struct vmap *vm = found ? env_map_for(env, found) : NULL;
		if (!vm) {
			verbose(env, "direct value access on map not found\n");
			return -EINVAL;
		}
		reg_mark_known(dst, 0);
		dst->type = PTR_TO_MAP_VALUE;
		dst->map = vm;
		dst->off = (int32_t)off;
		break;
	}
	case OP_LDDW_FUNC: {
		int t = (int)isa_target(in, (size_t)idx, op);
		int sp = cfg_subprog_of(env, t);
		if (env->subprogs[sp].start != t) {
			verbose(env, "invalid func target\n");
			return -EINVAL;
		}
		env->subprogs[sp].is_cb = true;
		reg_mark_known(dst, 0);
		dst->type = PTR_TO_FUNC;
		dst->subprog = sp;
		break;
	}
	default:
		verbose(env, "invalid bpf_ld_imm64 insn\n");
		return -EINVAL;
	}
	dst->live = live;
	mark_reg_written(env, dstno);
	return 0;
}

/* --------------------------------------------------------------- ld_abs -- */

int check_ld_abs(struct venv *env, int idx)
{
	const struct bpf_insn *in = &env->insns[idx];
	enum bpf_op op = env->ops[idx];
	uint32_t t = env->prog_type;
	int err;
	if (t != 1 && t != 3 && t != 4) {
		verbose(env, "BPF_LD_[ABS|IND] instructions not allowed for this program type\n");
		return -EINVAL;
	}
	if (in->dst_reg || in->off || BPF_SIZE(in->code) == BPF_DW ||
	    (BPF_MODE(in->code) == BPF_ABS && in->src_reg)) {
		verbose(env, "BPF_LD_[ABS|IND] uses reserved fields\n");
		return -EINVAL;
	}
	if ((err = check_reg_read(env, 6)))
		return err;
	if (env->cur->ref_cnt) {
		verbose(env, "BPF_LD_[ABS|IND] cannot be mixed with socket references\n");
		return -EINVAL;
	}
	if (env->cur->lock_id) {
		verbose(env, "BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region\n");
		return -EINVAL;
	}
	if (reg_of(env, 6)->type != PTR_TO_CTX) {
		verbose(env, "at the time of BPF_LD_ABS|IND R6 != pointer to skb\n");
		return -EINVAL;
	}
	if (op == OP_LDIND_B || op == OP_LDIND_H || op == OP_LDIND_W) {
		if ((err = check_reg_read(env, in->src_reg)))
			return err;
	}
	for (int r = 1; r <= 5; r++) {
		reg_mark_not_init(reg_of(env, r));
		mark_reg_written(env, r);
	}
	int size = op == OP_LDABS_B || op == OP_LDIND_B ? 1 : op == OP_LDABS_H || op == OP_LDIND_H ? 2 : 4;
	struct vreg *r0 = reg_of(env, 0);
	uint8_t live = r0->live;
	reg_mark_unknown_scalar(r0);
	r0->live = live;
	r0->var_off = tnum_cast(tnum_unknown, (uint8_t)size);
	r0->umax = (1ull << (size * 8)) - 1;
	reg_bounds_sync(r0);
	mark_reg_written(env, 0);
	return 0;
}

/* ------------------------------------------------------- loads, stores -- */

int check_load_store(struct venv *env, int idx)
{
	const struct bpf_insn *in = &env->insns[idx];
	enum bpf_op op = env->ops[idx];
	const struct bpf_opinfo *info = &isa_ops[op];
	int size = (int)isa_access_size(op);
	int err;
	char tb[64];
	switch (info->fmt) {
	case FMT_LDX:
	case FMT_LOAD_ACQ: {
		if ((err = check_reg_read(env, in->src_reg)))
			return err;
		if (in->dst_reg == 10) {
			verbose(env, "frame pointer is read only\n");
			return -EACCES;
		}
		const struct vreg *s = reg_of(env, in->src_reg);
		if (info->fmt == FMT_LOAD_ACQ &&
		    (s->type == PTR_TO_CTX || s->type == PTR_TO_PACKET || s->type == PTR_TO_PACKET_META)) {
			verbose(env, "BPF_ATOMIC loads from R%d %s is not allowed\n", in->src_reg,
				reg_type_str(s, tb, sizeof(tb)));
			return -EACCES;
		}
		bool sx = op == OP_LDXS_B || op == OP_LDXS_H || op == OP_LDXS_W;
		int off = info->fmt == FMT_LOAD_ACQ ? in->off : in->off;
		return check_mem_access(env, idx, in->src_reg, off, size, ACC_READ, in->dst_reg, sx,
					info->fmt == FMT_LOAD_ACQ);
	}
	case FMT_STX:
	case FMT_STORE_REL: {
		if ((err = check_reg_read(env, in->src_reg)))
			return err;
		if ((err = check_reg_read(env, in->dst_reg)))
			return err;
		const struct vreg *d = reg_of(env, in->dst_reg);
		if (info->fmt == FMT_STORE_REL &&
		    (d->type == PTR_TO_CTX || d->type == PTR_TO_PACKET || d->type == PTR_TO_PACKET_META)) {
			verbose(env, "BPF_ATOMIC stores into R%d %s is not allowed\n", in->dst_reg,
				reg_type_str(d, tb, sizeof(tb)));
			return -EACCES;
		}
		return check_mem_access(env, idx, in->dst_reg, in->off, size, ACC_WRITE, in->src_reg,
					false, info->fmt == FMT_STORE_REL);
	}
	case FMT_ST: {
		if ((err = check_reg_read(env, in->dst_reg)))
			return err;
		return check_mem_access(env, idx, in->dst_reg, in->off, size, ACC_WRITE, -1, false,
					false);
	}
	default:
		return -EINVAL;
	}
}

int check_atomic(struct venv *env, int idx)
{
	const struct bpf_insn *in = &env->insns[idx];
	enum bpf_op op = env->ops[idx];
	int size = (int)isa_access_size(op);
	int err;
	char tb[64];
	if ((err = check_reg_read(env, in->src_reg)))
		return err;
	if ((err = check_reg_read(env, in->dst_reg)))
		return err;
	bool cmpxchg = op == OP_ATOMIC64_CMPXCHG || op == OP_ATOMIC32_CMPXCHG;
	if (cmpxchg && (err = check_reg_read(env, 0)))
		return err;
	const struct vreg *d = reg_of(env, in->dst_reg);
	if (d->type == PTR_TO_CTX || d->type == PTR_TO_PACKET || d->type == PTR_TO_PACKET_META) {
		verbose(env, "BPF_ATOMIC stores into R%d %s is not allowed\n", in->dst_reg,
			reg_type_str(d, tb, sizeof(tb)));
		return -EACCES;
	}
	int load_reg = -1;
	if (in->imm & 1)
		load_reg = cmpxchg ? 0 : in->src_reg;
	if (load_reg == 10) {
		verbose(env, "frame pointer is read only\n");
		return -EACCES;
	}
	err = check_mem_access(env, idx, in->dst_reg, in->off, size, ACC_READ, -1, false, true);
	if (!err && load_reg >= 0)
		err = check_mem_access(env, idx, in->dst_reg, in->off, size, ACC_READ, load_reg, false,
				       true);
	if (!err)
		err = check_mem_access(env, idx, in->dst_reg, in->off, size, ACC_WRITE, -1, false, true);
	if (!err && load_reg >= 0 && reg_of(env, load_reg)->type != SCALAR_VALUE) {
		/* a fetched spilled pointer: the memory changed under it */
		set_unknown(env, load_reg);
	}
	return err;
}

int check_reg_arg_write(struct venv *env, int regno)
{
	if (regno == 10) {
		verbose(env, "frame pointer is read only\n");
		return -EACCES;
	}
	return 0;
}
