/* state.c — abstract states: call frames, registers, stack slots, references.
 *
 * A state is what the verifier knows at one point of one path: a frame per
 * active call (registers r0..r10 and the frame's stack as 8-byte slots with a
 * type per byte), the references the path holds (ringbuf memory, iterators)
 * and the spin lock it holds.  States are copied at every branch and every
 * checkpoint, so a frame's stack grows only as far as the program wrote.
 * Ids name groups of registers that must change together: copies of one
 * maybe-NULL pointer, packet pointers with one range, linked scalars.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/verifier_int.h"

struct vframe *frame_new(int frameno, int callsite, int subprog)
{
	struct vframe *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->frameno = frameno;
	f->callsite = callsite;
	f->subprog = subprog;
	frame_init_regs(f);
	return f;
}

void frame_init_regs(struct vframe *f)
{
	for (int i = 0; i < V_REGS; i++) {
		reg_mark_not_init(&f->regs[i]);
		f->regs[i].live = 0;
	}
	struct vreg *fp = &f->regs[10];
	reg_mark_known(fp, 0);
	fp->type = PTR_TO_STACK;
	fp->frameno = (uint8_t)f->frameno;
}

void frame_free(struct vframe *f)
{
	if (!f)
		return;
	free(f->stack);
	free(f);
}

int frame_grow_stack(struct vframe *f, int slots)
{
	if (slots <= f->slot_cnt)
		return 0;
	if (slots > f->slot_cap) {
		struct vslot *n = realloc(f->stack, (size_t)slots * sizeof(*n));
		if (!n)
			return -ENOMEM;
		f->stack = n;
		f->slot_cap = slots;
	}
	memset(f->stack + f->slot_cnt, 0, (size_t)(slots - f->slot_cnt) * sizeof(*f->stack));
	for (int i = f->slot_cnt; i < slots; i++)
		reg_mark_not_init(&f->stack[i].spilled);
	f->slot_cnt = slots;
	return 0;
}

/* dst keeps its stack buffer when it is large enough */
static int frame_copy(struct vframe *dst, const struct vframe *src)
{
	struct vslot *stack = dst->stack;
	int cap = dst->slot_cap;
	*dst = *src;
	dst->stack = stack;
	dst->slot_cap = cap;
	if (cap < src->slot_cnt) {
		struct vslot *n = realloc(dst->stack, (size_t)src->slot_cnt * sizeof(*n));
		if (!n) {
			dst->slot_cnt = 0;
			return -ENOMEM;
		}
		dst->stack = n;
		dst->slot_cap = src->slot_cnt;
	}
	dst->slot_cnt = src->slot_cnt;
	if (src->slot_cnt)
		memcpy(dst->stack, src->stack, (size_t)src->slot_cnt * sizeof(*dst->stack));
	return 0;
}

struct vstate *state_new(void)
{
	return calloc(1, sizeof(struct vstate));
}

void state_free(struct vstate *st)
{
	if (!st)
		return;
	for (int i = 0; i < V_MAX_FRAMES; i++)
		frame_free(st->frame[i]);
	free(st->refs);
	free(st->hist);
	free(st);
}

int state_copy(struct vstate *dst, const struct vstate *src)
{
	if (dst->ref_cnt != src->ref_cnt || !dst->refs) {
		free(dst->refs);
		dst->refs = NULL;
		if (src->ref_cnt) {
			dst->refs = malloc((size_t)src->ref_cnt * sizeof(*dst->refs));
			if (!dst->refs)
				return -ENOMEM;
		}
	}
	if (src->ref_cnt)
		memcpy(dst->refs, src->refs, (size_t)src->ref_cnt * sizeof(*dst->refs));
	dst->ref_cnt = src->ref_cnt;
	for (int i = src->curframe + 1; i < V_MAX_FRAMES; i++) {
		frame_free(dst->frame[i]);
		dst->frame[i] = NULL;
	}
	for (int i = 0; i <= src->curframe; i++) {
		if (!dst->frame[i]) {
			dst->frame[i] = calloc(1, sizeof(struct vframe));
			if (!dst->frame[i])
				return -ENOMEM;
		}
		if (frame_copy(dst->frame[i], src->frame[i]))
			return -ENOMEM;
	}
	dst->curframe = src->curframe;
	dst->lock_id = src->lock_id;
	dst->lock_map = src->lock_map;
	dst->lock_off = src->lock_off;
	dst->parent = src->parent;
	dst->branches = src->branches;
	dst->insn_idx = src->insn_idx;
	dst->may_goto_depth = src->may_goto_depth;
	dst->dfs_depth = src->dfs_depth;
	dst->in_loop = src->in_loop;
	if (dst->hist_cap < src->hist_cnt) {
		struct vhist *h = realloc(dst->hist, (size_t)src->hist_cnt * sizeof(*h));
		if (!h)
			return -ENOMEM;
		dst->hist = h;
		dst->hist_cap = src->hist_cnt;
	}
	if (src->hist_cnt)
		memcpy(dst->hist, src->hist, (size_t)src->hist_cnt * sizeof(*dst->hist));
	dst->hist_cnt = src->hist_cnt;
	dst->first_insn_idx = src->first_insn_idx;
	dst->last_insn_idx = src->last_insn_idx;
	return 0;
}

/* Paths fork and end by the hundred thousand on a large program: their
 * states (with their frames, stacks and histories) are recycled through a
 * free list instead of going back to malloc. */
struct vstate *state_get(struct venv *env, const struct vstate *src)
{
	struct vstate *st = env->state_pool;
	if (!st)
		return state_dup(src);
	env->state_pool = st->parent;
	st->parent = NULL;
	st->no_prune = false;
	st->all_precise = false;
	if (state_copy(st, src)) {
		state_free(st);
		return NULL;
	}
	return st;
}

void state_put(struct venv *env, struct vstate *st)
{
	if (!st)
		return;
	st->parent = env->state_pool;
	env->state_pool = st;
}

void state_pool_free(struct venv *env)
{
	while (env->state_pool) {
		struct vstate *st = env->state_pool;
		env->state_pool = st->parent;
		state_free(st);
	}
}

struct vstate *state_dup(const struct vstate *src)
{
	struct vstate *st = state_new();
	if (!st)
		return NULL;
	if (state_copy(st, src)) {
		state_free(st);
		return NULL;
	}
	return st;
}

uint32_t env_new_id(struct venv *env)
{
	env->id_gen++;
	if (env->id_gen >= ID_ADD_CONST)
		env->id_gen = 1;
	return env->id_gen;
}

int ref_acquire(struct venv *env, int kind, int insn_idx)
{
	struct vstate *st = env->cur;
	if (st->ref_cnt >= V_MAX_REFS)
		return -E2BIG;
	struct vref *n = realloc(st->refs, (size_t)(st->ref_cnt + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	st->refs = n;
	uint32_t id = env_new_id(env);
	n[st->ref_cnt++] = (struct vref){ id, insn_idx, (uint8_t)kind, (uint8_t)st->curframe };
	return (int)id;
}

bool ref_find(const struct vstate *st, uint32_t id)
{
	for (int i = 0; i < st->ref_cnt; i++)
		if (st->refs[i].id == id)
			return true;
	return false;
}

struct release_ctx {
	uint32_t id;
};

static void release_one(struct venv *env, struct vreg *r, void *ctx)
{
	(void)env;
	const struct release_ctx *rc = ctx;
	if (r->ref_obj_id == rc->id && r->type != NOT_INIT) {
		uint8_t live = r->live;
		reg_mark_unknown_scalar(r);
		r->live = live;
	}
}

void release_reg_references(struct venv *env, uint32_t ref_id)
{
	struct release_ctx rc = { ref_id };
	for_each_reg(env, env->cur, release_one, &rc);
}

int ref_release(struct venv *env, uint32_t id)
{
	struct vstate *st = env->cur;
	for (int i = 0; i < st->ref_cnt; i++) {
		if (st->refs[i].id != id)
			continue;
		st->refs[i] = st->refs[st->ref_cnt - 1];
		st->ref_cnt--;
		release_reg_references(env, id);
		return 0;
	}
	return -EINVAL;
}

bool is_spilled_reg(const struct vslot *s)
{
	return s->type[0] == STACK_SPILL;
}

bool is_spilled_scalar(const struct vslot *s)
{
	return is_spilled_reg(s) && s->spilled.type == SCALAR_VALUE;
}

void for_each_reg(struct venv *env, struct vstate *st, reg_fn fn, void *ctx)
{
	for (int i = 0; i <= st->curframe; i++) {
		struct vframe *f = st->frame[i];
		for (int r = 0; r < V_REGS; r++)
			fn(env, &f->regs[r], ctx);
		for (int s = 0; s < f->slot_cnt; s++)
			if (is_spilled_reg(&f->stack[s]))
				fn(env, &f->stack[s].spilled, ctx);
	}
}
