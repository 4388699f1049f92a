/* prune.c — state pruning: stop walking a path that an explored one covers.
 *
 * At prune points (jump targets, branch fall-throughs, calls) the current
 * state is compared with the states already explored from that instruction.
 * If an explored state is at least as general — every register and stack
 * slot it depends on holds a subset of what it held there, with the same
 * pointer types and the same relations between ids — then every path from
 * the current state was already proven safe, and the current path stops.
 *
 * What "depends on" means: registers dead at the instruction (a static
 * backward pass, cfg.c) are ignored; stack slots are ignored unless the
 * explored state's future read them (read marks propagated up the chain of
 * checkpoints, cleared of slots a later write screened).  Scalars compare by
 * range and known bits: the explored range must contain the current one.
 * Scalars an explored state never needed precisely (precise.c) are not
 * compared at all.  Only explored states whose whole future is known (no
 * path below them is still running) can prune.  A state still running at
 * the same instruction means a loop: equal states there are an infinite
 * loop; at the heads of iterator, callback and may_goto loops the loop
 * invariant is found by widening the scalars that changed around the loop,
 * and the current state is pruned once the explored one covers it (the
 * states inside that iteration then never prune: precise.c).  Explored
 * states that rarely prune are dropped, and recycled once finished.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/verifier_int.h"

enum cmp_mode {
	CMP_RANGE,	/* old covers cur (pruning) */
	CMP_EXACT,	/* identical (infinite loop detection) */
	CMP_SHAPE,	/* same types; scalars may differ (widening) */
};

#define IDMAP_MAX 256

struct idmap {
	uint32_t old[IDMAP_MAX], cur[IDMAP_MAX];
	int cnt;
	uint32_t tmp;
};

static bool check_ids(struct idmap *m, uint32_t old, uint32_t cur)
{
	if (!old && !cur)
		return true;
	if (!old || !cur)
		return false;
	for (int i = 0; i < m->cnt; i++) {
		if (m->old[i] == old)
			return m->cur[i] == cur;
		if (m->cur[i] == cur)
			return false;
	}
	if (m->cnt >= IDMAP_MAX)
		return false;
	m->old[m->cnt] = old;
	m->cur[m->cnt] = cur;
	m->cnt++;
	return true;
}

static bool check_scalar_ids(struct idmap *m, uint32_t old, uint32_t cur)
{
	if (!old)
		return true;
	if (!cur)
		cur = 0x80000000u | ++m->tmp;	/* a fresh id nothing else has */
	return check_ids(m, old, cur);
}

static bool range_within(const struct vreg *o, const struct vreg *c)
{
	return o->umin <= c->umin && o->umax >= c->umax && o->smin <= c->smin &&
	       o->smax >= c->smax && o->u32_min <= c->u32_min && o->u32_max >= c->u32_max &&
	       o->s32_min <= c->s32_min && o->s32_max >= c->s32_max;
}

static bool same_value(const struct vreg *o, const struct vreg *c)
{
	return o->umin == c->umin && o->umax == c->umax && o->smin == c->smin &&
	       o->smax == c->smax && o->u32_min == c->u32_min && o->u32_max == c->u32_max &&
	       o->s32_min == c->s32_min && o->s32_max == c->s32_max &&
	       o->var_off.value == c->var_off.value && o->var_off.mask == c->var_off.mask;
}

static bool scalar_unknown(const struct vreg *r)
{
	return r->type == SCALAR_VALUE && tnum_is_unknown(r->var_off) && r->smin == INT64_MIN &&
	       r->smax == INT64_MAX && r->umin == 0 && r->umax == UINT64_MAX && !r->id;
}

/* prec: old's precision marks are final (no path below it still runs), so
 * an imprecise scalar of old stands for any scalar */
static bool regsafe(const struct vreg *o, const struct vreg *c, struct idmap *m, enum cmp_mode mode,
		    bool prec)
{
	if (o->type == NOT_INIT)
		return mode != CMP_EXACT || c->type == NOT_INIT;
	if (c->type == NOT_INIT)
		return false;
	if (o->type != c->type || o->flags != c->flags)
		return false;
	switch (o->type) {
	case SCALAR_VALUE:
		if (mode == CMP_SHAPE)
			return true;
		if (mode == CMP_EXACT)
			return same_value(o, c) && check_scalar_ids(m, o->id, c->id) &&
			       ((o->id & ID_ADD_CONST) ? o->off == c->off : true);
		if (prec && !o->precise)
			return true;
		if (!range_within(o, c) || !tnum_in(o->var_off, c->var_off))
			return false;
		if (o->id && !check_scalar_ids(m, o->id, c->id))
			return false;
		if ((o->id & ID_ADD_CONST) && ((c->id & ID_ADD_CONST) == 0 || o->off != c->off))
			return false;
		return true;
	case PTR_TO_PACKET:
	case PTR_TO_PACKET_META:
		if (o->range > c->range || o->off != c->off)
			return false;
		if (!check_ids(m, o->id, c->id))
			return false;
		if (mode == CMP_EXACT)
			return o->range == c->range && same_value(o, c);
		return range_within(o, c) && tnum_in(o->var_off, c->var_off);
	case PTR_TO_MAP_VALUE:
	case PTR_TO_MAP_KEY:
	case PTR_TO_MEM:
		if (o->map != c->map || o->off != c->off || o->mem_size != c->mem_size)
			return false;
		if (!check_ids(m, o->id, c->id) || !check_ids(m, o->ref_obj_id, c->ref_obj_id))
			return false;
		if (mode == CMP_EXACT)
			return same_value(o, c);
		return range_within(o, c) && tnum_in(o->var_off, c->var_off);
	default:
		/* ctx, stack, map pointers, pkt_end, functions: exactly the same */
		return o->off == c->off && o->map == c->map && o->frameno == c->frameno &&
		       o->subprog == c->subprog && o->mem_size == c->mem_size && same_value(o, c) &&
		       check_ids(m, o->id, c->id) && check_ids(m, o->ref_obj_id, c->ref_obj_id);
	}
}

static bool slotsafe(const struct vslot *o, const struct vslot *c, struct idmap *m,
		     enum cmp_mode mode, bool prec)
{
	static const struct vslot invalid;
	if (!c)
		c = &invalid;
	if (mode == CMP_EXACT)
		if (memcmp(o->type, c->type, sizeof(o->type)))
			return false;
	if (is_spilled_reg(o)) {
		if (is_spilled_reg(c)) {
			int os = 0, cs = 0;
			while (os < V_SLOT && o->type[os] == STACK_SPILL)
				os++;
			while (cs < V_SLOT && c->type[cs] == STACK_SPILL)
				cs++;
			if (os == cs && regsafe(&o->spilled, &c->spilled, m, mode, prec))
				return true;
		}
		/* an unknown (or imprecise) scalar spill says no more than
		 * plain bytes */
		bool any = scalar_unknown(&o->spilled) || mode == CMP_SHAPE ||
			   (prec && mode == CMP_RANGE && !o->spilled.precise);
		if (mode == CMP_EXACT || !any || o->spilled.type != SCALAR_VALUE)
			return false;
		if (is_spilled_reg(c) && c->spilled.type != SCALAR_VALUE)
			return mode == CMP_SHAPE ? false : true;
		for (int i = 0; i < V_SLOT; i++)
			if (c->type[i] == STACK_ITER)
				return false;
		return true;
	}
	for (int i = 0; i < V_SLOT; i++) {
		uint8_t ot = o->type[i], ct = c->type[i];
		if (ct == STACK_ITER && ot != STACK_ITER)
			return false;
		switch (ot) {
		case STACK_INVALID:
		case STACK_MISC:
			continue;
		case STACK_ZERO:
			if (ct == STACK_ZERO)
				continue;
			if (is_spilled_reg(c) && c->spilled.type == SCALAR_VALUE &&
			    tnum_equals_const(c->spilled.var_off, 0) && ct == STACK_SPILL)
				continue;
			if (mode == CMP_SHAPE && ct != STACK_ITER)
				continue;
			return false;
		case STACK_ITER:
			if (ct != STACK_ITER || o->iter_state != c->iter_state ||
			    !check_ids(m, o->iter_ref, c->iter_ref))
				return false;
			if (mode == CMP_EXACT && o->iter_depth != c->iter_depth)
				return false;
			continue;
		default:
			return false;
		}
	}
	return true;
}

/* registers of frame fi that matter at this point of the state */
static uint16_t live_mask(const struct venv *env, const struct vstate *st, int fi, int insn_idx)
{
	if (fi == st->curframe)
		return env->aux[insn_idx].live_regs;
	const struct vframe *callee = st->frame[fi + 1];
	int resume = callee->in_callback ? callee->callsite : callee->callsite + 1;
	uint16_t live = env->aux[resume].live_regs;
	if (!callee->in_callback)
		live &= 0x7c0;	/* r6..r10 survive the call */
	return live | (1u << 10);
}

/* use_live: old's liveness and precision marks are final (it has no
 * running path below it): slots it never read and imprecise scalars are
 * not compared */
static bool states_equal(struct venv *env, const struct vstate *old, const struct vstate *cur,
			 int insn_idx, enum cmp_mode mode, bool use_live)
{
	struct idmap m;
	m.cnt = 0;
	m.tmp = 0;
	if (old->curframe != cur->curframe)
		return false;
	if (!!old->lock_id != !!cur->lock_id)
		return false;
	if (old->lock_id && (old->lock_map != cur->lock_map || old->lock_off != cur->lock_off ||
			     !check_ids(&m, old->lock_id, cur->lock_id)))
		return false;
	if (old->ref_cnt != cur->ref_cnt)
		return false;
	for (int i = 0; i < old->ref_cnt; i++)
		if (old->refs[i].kind != cur->refs[i].kind ||
		    !check_ids(&m, old->refs[i].id, cur->refs[i].id))
			return false;
	for (int fi = 0; fi <= old->curframe; fi++) {
		const struct vframe *of = old->frame[fi], *cf = cur->frame[fi];
		if (of->callsite != cf->callsite || of->in_callback != cf->in_callback)
			return false;
		uint16_t live = mode == CMP_EXACT ? 0x7ff : live_mask(env, cur, fi, insn_idx);
		for (int r = 0; r < V_REGS; r++) {
			if (!(live & (1u << r)))
				continue;
			if (!regsafe(&of->regs[r], &cf->regs[r], &m, mode, use_live))
				return false;
		}
		for (int s = 0; s < of->slot_cnt; s++) {
			const struct vslot *os = &of->stack[s];
			if (use_live && mode == CMP_RANGE && !(os->live & LIVE_READ))
				continue;
			if (!slotsafe(os, s < cf->slot_cnt ? &cf->stack[s] : NULL, &m, mode, use_live))
				return false;
		}
		if (mode != CMP_RANGE) {
			for (int s = of->slot_cnt; s < cf->slot_cnt; s++) {
				static const struct vslot invalid;
				if (mode == CMP_EXACT ? memcmp(cf->stack[s].type, invalid.type, V_SLOT) != 0
						      : cf->stack[s].type[0] == STACK_ITER)
					return false;
			}
		}
	}
	return true;
}

/* ------------------------------------------------------------- widening -- */

static void widen_reg(struct vreg *c, const struct vreg *o)
{
	if (c->type != SCALAR_VALUE || o->type != SCALAR_VALUE)
		return;
	if (same_value(o, c))
		return;
	uint8_t live = c->live;
	reg_mark_unknown_scalar(c);
	c->live = live;
}

static void widen(struct vstate *cur, const struct vstate *old)
{
	for (int fi = 0; fi <= cur->curframe; fi++) {
		struct vframe *cf = cur->frame[fi];
		const struct vframe *of = old->frame[fi];
		for (int r = 0; r < V_REGS; r++)
			widen_reg(&cf->regs[r], &of->regs[r]);
		for (int s = 0; s < cf->slot_cnt; s++) {
			struct vslot *cs = &cf->stack[s];
			if (s >= of->slot_cnt) {
				if (is_spilled_scalar(cs))
					reg_mark_unknown_scalar(&cs->spilled);
				continue;
			}
			const struct vslot *os = &of->stack[s];
			if (is_spilled_scalar(cs)) {
				if (is_spilled_scalar(os)) {
					widen_reg(&cs->spilled, &os->spilled);
				} else {
					reg_mark_unknown_scalar(&cs->spilled);
				}
			}
			for (int i = 0; i < V_SLOT; i++)
				if (cs->type[i] == STACK_ZERO && os->type[i] != STACK_ZERO)
					cs->type[i] = STACK_MISC;
		}
	}
}

/* ----------------------------------------------------------------- visit -- */

void prune_update_branches(struct venv *env, struct vstate *st)
{
	(void)env;
	while (st) {
		if (st->branches)
			st->branches--;
		if (st->branches)
			break;
		st = st->parent;
	}
}

static void propagate_live(struct venv *env, const struct vstate *old)
{
	for (int fi = 0; fi <= old->curframe && fi <= env->cur->curframe; fi++) {
		const struct vframe *of = old->frame[fi];
		for (int s = 0; s < of->slot_cnt; s++)
			if (of->stack[s].live & LIVE_READ)
				mark_slot_read(env, fi, s);
	}
}

static void clear_live(struct vstate *st)
{
	for (int fi = 0; fi <= st->curframe; fi++) {
		struct vframe *f = st->frame[fi];
		for (int r = 0; r < V_REGS; r++)
			f->regs[r].live = 0;
		for (int s = 0; s < f->slot_cnt; s++)
			f->stack[s].live = 0;
	}
}

/* Take *pp out of its list.  A state no path below runs any more is never
 * looked at again (nothing walks up a finished chain): it is recycled.  One
 * still running stays alive for its paths' parent chains, in the graveyard
 * slot explored[insn_cnt], until the end. */
static void drop_explored(struct venv *env, struct vexplored **pp)
{
	struct vexplored *e = *pp;
	*pp = e->next;
	if (env->cur_states)
		env->cur_states--;
	if (!e->st->branches) {
		state_put(env, e->st);
		free(e);
		return;
	}
	e->next = env->explored[env->insn_cnt];
	env->explored[env->insn_cnt] = e;
}

/* the current path arrived at insn_idx: into its history unless it fell
 * through (before a pruned path's precision is walked back) */
static int arrive(struct venv *env, int insn_idx)
{
	if (env->prev_insn_idx < 0 || env->prev_insn_idx == natural_pred(env, insn_idx))
		return 0;
	return hist_push(env, 0, 0);
}

int prune_visit(struct venv *env, int insn_idx)
{
	struct vinsn_aux *aux = &env->aux[insn_idx];
	struct vstate *cur = env->cur;
	if (!aux->prune_point)
		return 0;
	bool loop_head = aux->force_checkpoint || aux->iter_next;
	/* a path's history must not grow without bound (it is copied at
	 * every branch): past 40 entries a checkpoint is due, as the kernel's */
	bool force = aux->force_checkpoint || cur->hist_cnt > 40;
	bool add = force || loop_head || (env->jmps_processed - env->prev_jmps_processed >= 2 &&
				 env->insn_processed - env->prev_insn_processed >= 8);
	uint32_t n = 0;
	struct vexplored **pp = &env->explored[insn_idx];
	bool widened = false;
	while (*pp) {
		struct vexplored *e = *pp;
		bool hit = false;
		n++;
		if (e->st->no_prune && !e->st->branches) {
			drop_explored(env, pp);	/* it never prunes */
			continue;
		}
		if (e->st->branches) {
			if (loop_head) {
				if (states_equal(env, e->st, cur, insn_idx, CMP_RANGE, false)) {
					hit = true;
					int err = arrive(env, insn_idx);
					if (!err)
						err = precise_loop_hit(env, e->st);
					if (err)
						return err;
				} else if (!widened &&
					   states_equal(env, e->st, cur, insn_idx, CMP_SHAPE, false)) {
					widen(cur, e->st);
					widened = true;
				}
			} else if (states_equal(env, e->st, cur, insn_idx, CMP_EXACT, false)) {
				verbose(env, "infinite loop detected at insn %d\n", insn_idx);
				return -EINVAL;
			}
			/* a loop: add states only now and then, every iteration
			 * differs from the others */
			if (!hit && !force &&
			    env->jmps_processed - env->prev_jmps_processed < 20 &&
			    env->insn_processed - env->prev_insn_processed < 100)
				add = false;
		} else if (states_equal(env, e->st, cur, insn_idx, CMP_RANGE, true)) {
			propagate_live(env, e->st);
			int err = arrive(env, insn_idx);
			if (!err)
				err = propagate_precision(env, e->st);
			if (err)
				return err;
			hit = true;
		}
		if (hit) {
			e->hit++;
			return 1;
		}
		if (add)
			e->miss++;
		/* a state that rarely helps is dropped from the list (kept alive
		 * for the parent chains until the end) */
		uint32_t k = loop_head && e->st->branches ? 64 : 3;
		if (e->miss > e->hit * k + k) {
			drop_explored(env, pp);
			continue;
		}
		pp = &e->next;
	}
	if (!add)
		return 0;
	struct vexplored *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	clear_precise(cur);	/* the checkpoint's marks come from below it */
	e->st = state_get(env, cur);
	if (!e->st) {
		free(e);
		return -ENOMEM;
	}
	e->st->branches = 1;
	e->st->insn_idx = insn_idx;
	e->st->last_insn_idx = env->prev_insn_idx;
	cur->first_insn_idx = insn_idx;
	cur->hist_cnt = 0;
	e->next = env->explored[insn_idx];
	env->explored[insn_idx] = e;
	cur->parent = e->st;
	clear_live(cur);
	env->prev_jmps_processed = env->jmps_processed;
	env->prev_insn_processed = env->insn_processed;
	env->total_states++;
	env->cur_states++;
	if (env->cur_states > env->peak_states)
		env->peak_states = env->cur_states;
	if (n + 1 > env->max_states_per_insn)
		env->max_states_per_insn = n + 1;
	return 0;
}

void prune_free_all(struct venv *env)
{
	if (!env->explored)
		return;
	for (size_t i = 0; i <= env->insn_cnt; i++) {
		struct vexplored *e = env->explored[i];
		while (e) {
			struct vexplored *next = e->next;
			state_free(e->st);
			free(e);
			e = next;
		}
	}
	free(env->explored);
	env->explored = NULL;
}

void prune_propagate_read(struct venv *env)
{
	(void)env;
}
