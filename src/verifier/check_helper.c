/* check_helper.c — calls: helpers, kfuncs, bpf-to-bpf calls, callbacks, exits.
 *
 * A helper call is checked against its row of helpers.def (the table the
 * runtime dispatches from): may this program type call it, does each
 * argument register hold what the prototype asks (a map, memory of the
 * key/value size, a pointer + size pair, a constant, a callback), what does
 * r0 become.  References (ring buffer memory, iterators) are acquired and
 * released here, the spin lock is taken and dropped, packet pointers die
 * when a helper may move the packet.  bpf_loop and bpf_for_each_map_elem
 * callbacks are walked as if called any number of times: the callback's exit
 * returns to the calling instruction, which runs again until the states
 * converge.  The bpf_iter_num kfuncs (bpf_for) fork at every next() into
 * "drained" (NULL) and "one more element".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/verifier_int.h"

#define MAX_VAR_SIZ (1 << 29)

enum {
	F_MAP_LOOKUP = 1, F_MAP_UPDATE = 2, F_TAIL_CALL = 12, F_PERF_OUT = 25,
	F_SKB_UNDER_CGROUP = 33, F_TASK_UNDER_CGROUP = 37, F_REDIRECT_MAP = 51,
	F_PUSH = 87, F_POP = 88, F_PEEK = 89, F_SPIN_LOCK = 93, F_SPIN_UNLOCK = 94,
	F_RB_OUTPUT = 130, F_RB_RESERVE = 131, F_RB_SUBMIT = 132, F_RB_DISCARD = 133,
	F_RB_QUERY = 134, F_FOR_EACH = 164, F_LOOP = 181, F_LOOKUP_PERCPU = 195,
};

/* ------------------------------------------------------- availability -- */

struct avail {
	uint16_t id;
	uint8_t col[9];
};

static const struct avail avail_rows[] = {
#define AVAIL(id, a, b, c, d, e, f, g, h, i) { id, { a, b, c, d, e, f, g, h, i } },
#include "verifier/helper_avail.def"
#undef AVAIL
};

bool helper_allowed(uint32_t prog_type, uint32_t id)
{
	int col;
	switch (prog_type) {
	case 1: col = 0; break;	/* socket_filter */
	case 3: col = 1; break;	/* sched_cls */
	case 4: col = 2; break;	/* sched_act */
	case 6: col = 3; break;	/* xdp */
	case 2: col = 4; break;	/* kprobe */
	case 5: col = 5; break;	/* tracepoint */
	case 7: col = 6; break;	/* perf_event */
	case 8: col = 7; break;	/* cgroup_skb */
	case 17: col = 8; break;	/* raw_tracepoint */
	default: col = -1; break;
	}
	for (size_t i = 0; i < sizeof(avail_rows) / sizeof(avail_rows[0]); i++) {
		if (avail_rows[i].id != id)
			continue;
		if (col >= 0)
			return avail_rows[i].col[col];
		for (int c = 0; c < 9; c++)
			if (!avail_rows[i].col[c])
				return false;
		return true;
	}
	return false;
}

/* does this helper accept maps of this type (and the reverse)? */
static bool map_func_ok(uint32_t func, uint32_t mt)
{
	switch (func) {
	case F_TAIL_CALL:
		return mt == BPFVM_MAP_TYPE_PROG_ARRAY;
	case F_PERF_OUT:
	case 22: case 55: case 111: case 121:
		return mt == BPFVM_MAP_TYPE_PERF_EVENT_ARRAY;
	case F_RB_OUTPUT: case F_RB_RESERVE: case F_RB_QUERY:
		return mt == BPFVM_MAP_TYPE_RINGBUF;
	case F_REDIRECT_MAP:
		return mt == BPFVM_MAP_TYPE_DEVMAP || mt == BPFVM_MAP_TYPE_DEVMAP_HASH ||
		       mt == BPFVM_MAP_TYPE_CPUMAP || mt == BPFVM_MAP_TYPE_XSKMAP;
	case F_PUSH: case F_PEEK:
		return mt == BPFVM_MAP_TYPE_QUEUE || mt == BPFVM_MAP_TYPE_STACK ||
		       mt == BPFVM_MAP_TYPE_BLOOM_FILTER;
	case F_POP:
		return mt == BPFVM_MAP_TYPE_QUEUE || mt == BPFVM_MAP_TYPE_STACK;
	case F_FOR_EACH:
		return mt == BPFVM_MAP_TYPE_ARRAY || mt == BPFVM_MAP_TYPE_PERCPU_ARRAY ||
		       mt == BPFVM_MAP_TYPE_HASH || mt == BPFVM_MAP_TYPE_PERCPU_HASH ||
		       mt == BPFVM_MAP_TYPE_LRU_HASH || mt == BPFVM_MAP_TYPE_LRU_PERCPU_HASH;
	case F_LOOKUP_PERCPU:
		return mt == BPFVM_MAP_TYPE_PERCPU_ARRAY || mt == BPFVM_MAP_TYPE_PERCPU_HASH ||
		       mt == BPFVM_MAP_TYPE_LRU_PERCPU_HASH;
	case F_SKB_UNDER_CGROUP: case F_TASK_UNDER_CGROUP:
		return mt == BPFVM_MAP_TYPE_CGROUP_ARRAY;
	default:
		break;
	}
	/* the other direction: special maps take only their own helpers */
	switch (mt) {
	case BPFVM_MAP_TYPE_PROG_ARRAY:
	case BPFVM_MAP_TYPE_PERF_EVENT_ARRAY:
	case BPFVM_MAP_TYPE_RINGBUF:
	case BPFVM_MAP_TYPE_CPUMAP:
		return false;
	case BPFVM_MAP_TYPE_QUEUE:
	case BPFVM_MAP_TYPE_STACK:
	case BPFVM_MAP_TYPE_BLOOM_FILTER:
		return false;
	case BPFVM_MAP_TYPE_ARRAY_OF_MAPS:
	case BPFVM_MAP_TYPE_HASH_OF_MAPS:
		return func == F_MAP_LOOKUP;
	case BPFVM_MAP_TYPE_CGROUP_ARRAY:
		return false;	/* only the two helpers above */
	case BPFVM_MAP_TYPE_DEVMAP:
	case BPFVM_MAP_TYPE_DEVMAP_HASH:
	case BPFVM_MAP_TYPE_XSKMAP:
		return func == F_MAP_LOOKUP;
	default:
		return true;
	}
}

/* packet data may move: every packet pointer becomes unusable */
static bool changes_pkt_data(uint32_t id)
{
	switch (id) {
	case 9: case 10: case 11: case 18: case 19: case 31: case 38: case 39: case 43:
	case 44: case 50: case 54: case 63: case 65: case 73: case 74: case 75: case 76:
	case 90: case 91:
		return true;
	default:
		return false;
	}
}

static void clear_pkt_one(struct venv *env, struct vreg *r, void *ctx)
{
	(void)env;
	(void)ctx;
	if (r->type == PTR_TO_PACKET || r->type == PTR_TO_PACKET_META ||
	    r->type == PTR_TO_PACKET_END) {
		uint8_t live = r->live;
		reg_mark_unknown_scalar(r);
		r->live = live;
	}
}

static int check_leaks(struct venv *env, const char *prefix);

/* ------------------------------------------------------------ arguments -- */

struct call_meta {
	const struct vmap *map;
	int map_regno;
	uint32_t release_ref;
	uint64_t alloc_size;
	bool has_alloc_size;
	int subprog;
	bool const_key;
	uint64_t key;
};

static const char *const mem_expected =
	"fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_";

static int type_err(struct venv *env, int regno, const struct vreg *r, const char *expected)
{
	char tb[64];
	verbose(env, "R%d type=%s expected=%s\n", regno, reg_type_str(r, tb, sizeof(tb)), expected);
	return -EACCES;
}

static bool is_mem_ptr(const struct vreg *r)
{
	switch (r->type) {
	case PTR_TO_STACK: case PTR_TO_PACKET: case PTR_TO_PACKET_META: case PTR_TO_MAP_KEY:
	case PTR_TO_MAP_VALUE: case PTR_TO_MEM:
		return true;
	default:
		return false;
	}
}

/* a map key on the stack that is a known constant */
static bool const_stack_key(struct venv *env, const struct vreg *r, uint32_t key_size, uint64_t *key)
{
	if (r->type != PTR_TO_STACK || !tnum_is_const(r->var_off))
		return false;
	int off = r->off + (int)r->var_off.value;
	if (off >= 0 || off < -V_STACK_MAX)
		return false;
	struct vframe *f = env->cur->frame[r->frameno];
	int spi = (-off - 1) / V_SLOT, first = off + (spi + 1) * V_SLOT;
	if (spi >= f->slot_cnt || first + (int)key_size > V_SLOT)
		return false;
	const struct vslot *s = &f->stack[spi];
	int zero = 0;
	for (uint32_t i = 0; i < key_size; i++)
		zero += s->type[first + i] == STACK_ZERO;
	if (zero == (int)key_size) {
		*key = 0;
		return true;
	}
	/*
	 * As the kernel: a scalar spill whose bytes run from the key's first
	 * byte to exactly key_size bytes (so a 4-byte key at fp-4 of an 8-byte
	 * spill at fp-8 counts), and the key is the spilled register's whole
	 * value, not the bytes read.  That is sound for the in-range test: the
	 * bytes read, as a number, never exceed the whole (non-negative) value.
	 */
	if (!is_spilled_scalar(s))
		return false;
	int spill = 0;
	while (first + spill < V_SLOT && s->type[first + spill] == STACK_SPILL)
		spill++;
	if (spill != (int)key_size || !tnum_is_const(s->spilled.var_off))
		return false;
	*key = s->spilled.var_off.value;
	return true;
}

static int check_size_arg(struct venv *env, int regno, int mem_regno, bool zero_ok, bool write,
			  bool raw)
{
	const struct vreg *r = &cur_regs(env)[regno];
	if (r->type != SCALAR_VALUE)
		return type_err(env, regno, r, "scalar");
	if (r->smin < 0) {
		verbose(env, "R%d min value is negative, either use unsigned or 'var &= const'\n",
			regno);
		return -EACCES;
	}
	if (r->umin == 0 && !zero_ok) {
		verbose(env, "R%d invalid zero-sized read: u64=[%llu,%llu]\n", regno,
			(unsigned long long)r->umin, (unsigned long long)r->umax);
		return -EACCES;
	}
	if (r->umax >= MAX_VAR_SIZ) {
		verbose(env, "R%d unbounded memory access, use 'var &= const' or 'if (var < const)'\n",
			regno);
		return -EACCES;
	}
	int err = check_helper_mem_access(env, mem_regno, (int64_t)r->umin, (int64_t)r->umax,
					  zero_ok, write, raw);
	return err ? err : mark_precise_reg(env, regno);
}

static int check_spin_lock_arg(struct venv *env, int regno, bool lock)
{
	struct vstate *st = env->cur;
	const struct vreg *r = &cur_regs(env)[regno];
	if (r->type != PTR_TO_MAP_VALUE || (r->flags & PTR_MAYBE_NULL))
		return type_err(env, regno, r, "map_value");
	if (!tnum_is_const(r->var_off)) {
		verbose(env, "R%d doesn't have constant offset. bpf_spin_lock has to be at the constant offset\n",
			regno);
		return -EINVAL;
	}
	const struct vmap *m = r->map;
	if (m->spin_lock_off < 0) {
		verbose(env, "map '%s' has to have BTF in order to use bpf_spin_lock\n",
			m->map ? m->map->name : "");
		return -EINVAL;
	}
	int64_t off = (int64_t)r->var_off.value + r->off;
	if (off != m->spin_lock_off) {
		verbose(env, "off %lld doesn't point to 'struct bpf_spin_lock' that is at %d\n",
			(long long)off, m->spin_lock_off);
		return -EINVAL;
	}
	if (lock) {
		if (st->lock_id) {
			verbose(env, "Locking two bpf_spin_locks are not allowed\n");
			return -EINVAL;
		}
		st->lock_id = r->id ? r->id : 0xffffffffu;
		st->lock_map = m;
		st->lock_off = (int32_t)off;
	} else {
		if (!st->lock_id) {
			verbose(env, "bpf_spin_unlock without taking a lock\n");
			return -EINVAL;
		}
		if (st->lock_map != m || (r->id ? r->id : 0xffffffffu) != st->lock_id) {
			verbose(env, "bpf_spin_unlock of different lock\n");
			return -EINVAL;
		}
		st->lock_id = 0;
		st->lock_map = NULL;
	}
	return 0;
}

static int check_arg(struct venv *env, uint32_t func, int argno, const struct helper_proto *p,
		     struct call_meta *meta)
{
	int regno = argno + 1;
	uint8_t t = p->arg[argno];
	struct vreg *r = &cur_regs(env)[regno];
	char tb[64];
	int err;
	if (t == ARG_NONE)
		return 0;
	if ((err = check_reg_read(env, regno)))
		return err;
	switch (t) {
	case ARG_ANYTHING:
		return 0;
	case ARG_CONST_MAP_PTR:
		if (r->type != CONST_PTR_TO_MAP)
			return type_err(env, regno, r, "map_ptr");
		meta->map = r->map;
		meta->map_regno = regno;
		return 0;
	case ARG_PTR_TO_MAP_KEY:
		if (!meta->map) {
			verbose(env, "invalid map_ptr to access map->key\n");
			return -EACCES;
		}
		if (!is_mem_ptr(r) || (r->flags & PTR_MAYBE_NULL))
			return type_err(env, regno, r, mem_expected);
		if (!meta->map->key_size) {
			verbose(env, "invalid zero-sized read\n");
			return -EACCES;
		}
		err = check_helper_mem_access(env, regno, meta->map->key_size, meta->map->key_size,
					      false, false, false);
		if (!err)
			meta->const_key = const_stack_key(env, r, meta->map->key_size, &meta->key);
		if (!err && meta->const_key) {
			/* the key's value may decide that the lookup is not NULL */
			int off = r->off + (int)r->var_off.value;
			int spi = (-off - 1) / V_SLOT;
			struct vframe *f = env->cur->frame[r->frameno];
			if (is_spilled_scalar(&f->stack[spi]))
				err = mark_precise_slot(env, r->frameno, spi);
		}
		return err;
	case ARG_PTR_TO_MAP_VALUE:
	case ARG_PTR_TO_UNINIT_MAP_VALUE:
		if (!meta->map) {
			verbose(env, "invalid map_ptr to access map->value\n");
			return -EACCES;
		}
		if (!is_mem_ptr(r) || (r->flags & PTR_MAYBE_NULL))
			return type_err(env, regno, r, mem_expected);
		return check_helper_mem_access(env, regno, meta->map->value_size,
					       meta->map->value_size, false,
					       t == ARG_PTR_TO_UNINIT_MAP_VALUE,
					       t == ARG_PTR_TO_UNINIT_MAP_VALUE);
	case ARG_PTR_TO_MEM:
	case ARG_PTR_TO_UNINIT_MEM: {
		uint8_t nt = argno + 1 < 5 ? p->arg[argno + 1] : ARG_NONE;
		bool zero_ok = nt == ARG_CONST_SIZE_OR_ZERO;
		if (r->type == SCALAR_VALUE && zero_ok && tnum_equals_const(r->var_off, 0))
			return mark_precise_reg(env, regno);	/* NULL, size 0: checked with the size */
		if (!is_mem_ptr(r) || (r->flags & PTR_MAYBE_NULL))
			return type_err(env, regno, r, mem_expected);
		return 0;	/* the size argument checks the range */
	}
	case ARG_CONST_SIZE:
	case ARG_CONST_SIZE_OR_ZERO: {
		bool zero_ok = t == ARG_CONST_SIZE_OR_ZERO;
		uint8_t pt = p->arg[argno - 1];
		bool write = pt == ARG_PTR_TO_UNINIT_MEM;
		const struct vreg *mr = &cur_regs(env)[regno - 1];
		if (mr->type == SCALAR_VALUE) {
			/* NULL buffer: only with a zero size */
			if (r->type != SCALAR_VALUE || !tnum_equals_const(r->var_off, 0) || !zero_ok)
				return type_err(env, regno - 1, mr, mem_expected);
			return mark_precise_reg(env, regno);
		}
		return check_size_arg(env, regno, regno - 1, zero_ok, write, write);
	}
	case ARG_CONST_ALLOC_SIZE_OR_ZERO:
		if (r->type != SCALAR_VALUE || !tnum_is_const(r->var_off)) {
			verbose(env, "R%d is not a known constant'\n", regno);
			return -EACCES;
		}
		meta->alloc_size = r->var_off.value;
		meta->has_alloc_size = true;
		return mark_precise_reg(env, regno);
	case ARG_PTR_TO_CTX:
		if (r->type != PTR_TO_CTX)
			return type_err(env, regno, r, "ctx");
		if (r->off || !tnum_equals_const(r->var_off, 0)) {
			verbose(env, "dereference of modified ctx ptr R%d off=%d disallowed\n", regno,
				r->off);
			return -EACCES;
		}
		return 0;
	case ARG_PTR_TO_STACK:
		if (r->type == SCALAR_VALUE && tnum_equals_const(r->var_off, 0))
			return mark_precise_reg(env, regno);
		if (r->type != PTR_TO_STACK)
			return type_err(env, regno, r, "fp");
		return 0;
	case ARG_PTR_TO_FUNC:
		if (r->type != PTR_TO_FUNC)
			return type_err(env, regno, r, "func");
		meta->subprog = r->subprog;
		return 0;
	case ARG_PTR_TO_CONST_STR: {
		if (r->type != PTR_TO_MAP_VALUE || (r->flags & PTR_MAYBE_NULL))
			return type_err(env, regno, r, "map_value");
		const struct vmap *m = r->map;
		if (!m->map || !(m->flags & BPFVM_F_RDONLY_PROG) ||
		    !atomic_load(&((struct bpfvm_map *)m->map)->frozen)) {
			verbose(env, "R%d does not point to a readonly map'\n", regno);
			return -EACCES;
		}
		if (!tnum_is_const(r->var_off)) {
			verbose(env, "R%d is not a constant address'\n", regno);
			return -EACCES;
		}
		int64_t off = (int64_t)r->var_off.value + r->off;
		uint32_t key = 0;
		const char *base = map_lookup((struct bpfvm_map *)m->map, &key, 0);
		if (!base || off < 0 || (uint64_t)off >= m->value_size ||
		    !memchr(base + off, 0, m->value_size - (size_t)off)) {
			verbose(env, "string is not zero-terminated\n");
			return -EINVAL;
		}
		return 0;
	}
	case ARG_PTR_TO_SPIN_LOCK:
		return check_spin_lock_arg(env, regno, func == F_SPIN_LOCK);
	case ARG_PTR_TO_RINGBUF_MEM:
		if (r->type != PTR_TO_MEM || !(r->flags & MEM_RINGBUF) || (r->flags & PTR_MAYBE_NULL))
			return type_err(env, regno, r, "ringbuf_mem");
		if (!r->ref_obj_id) {
			verbose(env, "R%d must be referenced when passed to release function\n", regno);
			return -EINVAL;
		}
		if (r->off || !tnum_equals_const(r->var_off, 0)) {
			verbose(env, "R%d must have zero offset when passed to release func or trusted arg to kfunc\n",
				regno);
			return -EINVAL;
		}
		meta->release_ref = r->ref_obj_id;
		return 0;
	case ARG_PTR_TO_LONG:
	case ARG_PTR_TO_INT: {
		int size = t == ARG_PTR_TO_LONG ? 8 : 4;
		if (!is_mem_ptr(r) || (r->flags & PTR_MAYBE_NULL))
			return type_err(env, regno, r, mem_expected);
		if (r->type == PTR_TO_STACK) {
			struct tnum a = tnum_add(r->var_off, tnum_const((uint64_t)(int64_t)r->off));
			if (!tnum_is_aligned(a, (uint64_t)size)) {
				verbose(env, "misaligned stack access off %d size %d\n", r->off, size);
				return -EACCES;
			}
		}
		return check_helper_mem_access(env, regno, size, size, false, true, true);
	}
	default:
		verbose(env, "R%d: helper argument of type %u is not checked by bpfvm\n", regno, t);
		(void)tb;
		return -EINVAL;
	}
}

/* ----------------------------------------------------------- call frames -- */

static void clear_caller_saved(struct venv *env)
{
	struct vreg *regs = cur_regs(env);
	for (int r = 0; r <= 5; r++) {
		uint8_t live = regs[r].live;
		reg_mark_not_init(&regs[r]);
		regs[r].live = live;
		mark_reg_written(env, r);
	}
}

/* push a frame for subprogram sp called at insn callsite onto st */
static int enter_frame(struct venv *env, struct vstate *st, int callsite, int sp)
{
	if (st->curframe + 1 >= V_MAX_FRAMES) {
		verbose(env, "the call stack of %d frames is too deep\n", st->curframe + 2);
		return -E2BIG;
	}
	struct vframe *f = frame_new(st->curframe + 1, callsite, sp);
	if (!f)
		return -ENOMEM;
	frame_free(st->frame[st->curframe + 1]);
	st->frame[st->curframe + 1] = f;
	st->curframe++;
	return 0;
}

int check_subprog_call(struct venv *env, int insn_idx, int *next_idx)
{
	const struct bpf_insn *in = &env->insns[insn_idx];
	int target = (int)isa_target(in, (size_t)insn_idx, OP_CALL_LOCAL);
	int sp = cfg_subprog_of(env, target);
	struct vstate *st = env->cur;
	struct vframe *caller = cur_frame(env);
	int err;
	if (env->subprogs[sp].start != target) {
		verbose(env, "call to invalid destination\n");
		return -EINVAL;
	}
	err = enter_frame(env, st, insn_idx, sp);
	if (err)
		return err;
	struct vframe *callee = st->frame[st->curframe];
	for (int r = 1; r <= 5; r++)
		callee->regs[r] = caller->regs[r];
	for (int r = 1; r <= 5; r++)
		callee->regs[r].live = 0;
	/* the caller's r0..r5 are clobbered once the call returns */
	for (int r = 0; r <= 5; r++) {
		uint8_t live = caller->regs[r].live;
		reg_mark_not_init(&caller->regs[r]);
		caller->regs[r].live = live;
	}
	env->scratched_regs = 0x3f;
	*next_idx = target;
	return 0;
}

/* ------------------------------------------------------------ callbacks -- */

static int push_callback(struct venv *env, int insn_idx, int sp, uint32_t func,
			 const struct call_meta *meta)
{
	if (env->subprogs[sp].start < 0)
		return -EINVAL;
	struct vreg ctxarg = cur_regs(env)[func == F_LOOP ? 3 : 3];
	struct vstate *cb = push_stack(env, env->subprogs[sp].start, insn_idx);
	if (!cb)
		return -ENOMEM;
	int err = enter_frame(env, cb, insn_idx, sp);
	if (err)
		return err;
	struct vframe *f = cb->frame[cb->curframe];
	f->in_callback = true;
	f->cb_ret_min = 0;
	f->cb_ret_max = 1;
	cb->in_loop = true;
	if (func == F_LOOP) {
		reg_mark_unknown_scalar(&f->regs[1]);	/* the index: u32 */
		reg_zext32(&f->regs[1]);
		f->regs[2] = ctxarg;
		f->regs[2].live = 0;
	} else {
		reg_mark_known(&f->regs[1], 0);
		f->regs[1].type = CONST_PTR_TO_MAP;
		f->regs[1].map = meta->map;
		reg_mark_known(&f->regs[2], 0);
		f->regs[2].type = PTR_TO_MAP_KEY;
		f->regs[2].map = meta->map;
		reg_mark_known(&f->regs[3], 0);
		f->regs[3].type = PTR_TO_MAP_VALUE;
		f->regs[3].map = meta->map;
		f->regs[4] = ctxarg;
		f->regs[4].live = 0;
	}
	return 0;
}

/* ----------------------------------------------------------------- call -- */

int check_helper_call(struct venv *env, int insn_idx)
{
	const struct bpf_insn *in = &env->insns[insn_idx];
	uint32_t func = (uint32_t)in->imm;
	const struct helper_proto *p = in->imm >= 0 ? helper_proto(func) : NULL;
	struct call_meta meta = { .map_regno = -1, .subprog = -1 };
	int err;

	if (!p) {
		verbose(env, "invalid func unknown#%d\n", in->imm);
		return -EINVAL;
	}
	if (!helper_allowed(env->prog_type, func)) {
		verbose(env, "program of this type cannot use helper bpf_%s#%d\n", p->name, in->imm);
		return -EINVAL;
	}
	if (p->ret == RET_UNKNOWN) {
		verbose(env, "helper bpf_%s#%d has no prototype in bpfvm's table; cannot verify it\n",
			p->name, in->imm);
		return -EINVAL;
	}
	for (int i = 0; i < 5; i++) {
		if (p->arg[i] == ARG_UNKNOWN) {
			verbose(env, "helper bpf_%s#%d has no prototype in bpfvm's table; cannot verify it\n",
				p->name, in->imm);
			return -EINVAL;
		}
	}
	if (env->cur->lock_id && func != F_SPIN_UNLOCK) {
		verbose(env, "function calls are not allowed while holding a lock\n");
		return -EINVAL;
	}
	for (int i = 0; i < 5; i++) {
		err = check_arg(env, func, i, p, &meta);
		if (err)
			return err;
	}
	if (func == F_TAIL_CALL && meta.map && meta.map->type != BPFVM_MAP_TYPE_PROG_ARRAY) {
		verbose(env, "expected prog array map for tail call\n");
		return -EINVAL;
	}
	if (meta.map && !map_func_ok(func, meta.map->type)) {
		verbose(env, "cannot pass map_type %u into func bpf_%s#%d\n", meta.map->type, p->name,
			in->imm);
		return -EINVAL;
	}
	if (func == F_TAIL_CALL) {
		err = check_leaks(env, "tail_call");
		if (err)
			return err;
		env->has_tail_call = true;
	}
	if (meta.release_ref) {
		if (ref_release(env, meta.release_ref)) {
			verbose(env, "reference has not been acquired before\n");
			return -EINVAL;
		}
	}
	if ((func == F_LOOP || func == F_FOR_EACH) && meta.subprog >= 0) {
		err = push_callback(env, insn_idx, meta.subprog, func, &meta);
		if (err)
			return err;
	}
	clear_caller_saved(env);
	struct vreg *r0 = &cur_regs(env)[0];
	uint8_t live = r0->live;
	switch (p->ret) {
	case RET_INTEGER:
		reg_mark_unknown_scalar(r0);
		break;
	case RET_VOID:
		reg_mark_not_init(r0);
		break;
	case RET_PTR_TO_MAP_VALUE_OR_NULL: {
		const struct vmap *m = meta.map;
		reg_mark_known(r0, 0);
		r0->type = PTR_TO_MAP_VALUE;
		r0->map = m;
		/* a constant in-range key makes an array lookup non-null, as the
		 * kernel's can_elide_value_nullness: ARRAY and PERCPU_ARRAY only
		 * (an ARRAY_OF_MAPS slot may be empty: its lookup can be NULL) */
		bool nonnull = func == F_MAP_LOOKUP && meta.const_key &&
			       (m->type == BPFVM_MAP_TYPE_ARRAY || m->type == BPFVM_MAP_TYPE_PERCPU_ARRAY) &&
			       meta.key < m->max_entries;
		if (!nonnull) {
			r0->flags = PTR_MAYBE_NULL;
			r0->id = env_new_id(env);
		} else if (m->spin_lock_off >= 0) {
			r0->id = env_new_id(env);
		}
		break;
	}
	case RET_PTR_TO_MEM_OR_NULL: {
		if (!meta.has_alloc_size) {
			verbose(env, "R2 is not a known constant'\n");
			return -EACCES;
		}
		int id = ref_acquire(env, REF_PTR, insn_idx);
		if (id < 0)
			return id;
		reg_mark_known(r0, 0);
		r0->type = PTR_TO_MEM;
		r0->flags = PTR_MAYBE_NULL | MEM_RINGBUF;
		/* the low 32 bits, as the kernel (int meta.mem_size into u32
		 * mem_size): a size of 2^32 or more (-1 too) never reserves,
		 * the helper returns NULL, so the truncated size is never used */
		r0->mem_size = (uint32_t)meta.alloc_size;
		r0->id = (uint32_t)id;
		r0->ref_obj_id = (uint32_t)id;
		break;
	}
	default:
		verbose(env, "helper bpf_%s#%d: return type %u is not handled by bpfvm\n", p->name,
			in->imm, p->ret);
		return -EINVAL;
	}
	r0->live = live;
	mark_reg_written(env, 0);
	if (changes_pkt_data(func))
		for_each_reg(env, env->cur, clear_pkt_one, NULL);
	return 0;
}

/* ---------------------------------------------------------------- kfuncs -- */

/* the iterator slot r1 points to: frame and slot index, or -1 */
static int iter_slot(struct venv *env, struct vframe **fp)
{
	const struct vreg *r = &cur_regs(env)[1];
	if (r->type != PTR_TO_STACK || !tnum_is_const(r->var_off))
		return -1;
	int off = r->off + (int)r->var_off.value;
	if (off >= 0 || off < -V_STACK_MAX || (off % V_SLOT))
		return -1;
	*fp = env->cur->frame[r->frameno];
	return (-off - 1) / V_SLOT;
}

int check_kfunc_call(struct venv *env, int insn_idx)
{
	const struct bpf_insn *in = &env->insns[insn_idx];
	const struct helper_proto *k = in->imm > 0 ? kfunc_by_id((uint32_t)in->imm) : NULL;
	int err;
	if (!k) {
		verbose(env, "calling kernel function %d is not allowed\n", in->imm);
		return -EACCES;
	}
	if (env->cur->lock_id) {
		verbose(env, "function calls are not allowed while holding a lock\n");
		return -EINVAL;
	}
	const char *n = k->name;
	bool iter_new = !strcmp(n, "bpf_iter_num_new");
	bool iter_next = !strcmp(n, "bpf_iter_num_next");
	bool iter_destroy = !strcmp(n, "bpf_iter_num_destroy");
	struct vreg *r0;
	if (iter_new || iter_next || iter_destroy) {
		if ((err = check_reg_read(env, 1)))
			return err;
		if (iter_new) {
			if ((err = check_reg_read(env, 2)) || (err = check_reg_read(env, 3)))
				return err;
		}
		struct vframe *f;
		int spi = iter_slot(env, &f);
		if (spi < 0) {
			const struct vreg *r = &cur_regs(env)[1];
			char tb[64];
			verbose(env, "arg#0 expected pointer to an iterator on stack\n");
			(void)r;
			(void)tb;
			return -EINVAL;
		}
		const struct vreg *r1 = &cur_regs(env)[1];
		int frameno = r1->frameno;
		if (iter_new) {
			err = frame_grow_stack(f, spi + 1);
			if (err)
				return err;
			if (f->stack[spi].type[0] == STACK_ITER) {
				verbose(env, "expected uninitialized iter_num as arg #0\n");
				return -EINVAL;
			}
			int id = ref_acquire(env, REF_ITER, insn_idx);
			if (id < 0)
				return id;
			struct vslot *s = &f->stack[spi];
			reg_mark_not_init(&s->spilled);
			memset(s->type, STACK_ITER, sizeof(s->type));
			s->iter_state = ITER_ACTIVE;
			s->iter_depth = 0;
			s->iter_ref = (uint32_t)id;
			s->live |= LIVE_WRITTEN;
			struct vsubprog *sp = &env->subprogs[f->subprog];
			if ((spi + 1) * V_SLOT > sp->stack_depth)
				sp->stack_depth = (spi + 1) * V_SLOT;
			if (spi < 64)
				env->scratched_slots |= 1ull << spi;
		} else {
			if (spi >= f->slot_cnt || f->stack[spi].type[0] != STACK_ITER) {
				verbose(env, "expected an initialized iter_num as arg #0\n");
				return -EINVAL;
			}
			mark_slot_read(env, frameno, spi);
		}
		clear_caller_saved(env);
		r0 = &cur_regs(env)[0];
		if (iter_new) {
			reg_mark_unknown_scalar(r0);
		} else if (iter_destroy) {
			struct vslot *s = &f->stack[spi];
			uint32_t ref = s->iter_ref;
			memset(s->type, STACK_INVALID, sizeof(s->type));
			s->iter_state = 0;
			s->iter_ref = 0;
			if (ref_release(env, ref)) {
				verbose(env, "reference has not been acquired before\n");
				return -EINVAL;
			}
		} else {
			struct vslot *s = &f->stack[spi];
			if (s->iter_state == ITER_ACTIVE) {
				struct vstate *q = push_stack(env, insn_idx + 1, insn_idx);
				if (!q)
					return -ENOMEM;
				struct vslot *qs = &q->frame[frameno]->stack[spi];
				qs->iter_depth++;
				struct vreg *q0 = &q->frame[q->curframe]->regs[0];
				reg_mark_known(q0, 0);
				q0->type = PTR_TO_MEM;
				q0->flags = MEM_RDONLY;
				q0->mem_size = 4;
				q->in_loop = true;
			}
			s->iter_state = ITER_DRAINED;
			reg_mark_known(r0, 0);
		}
		mark_reg_written(env, 0);
		return 0;
	}
	/* argument-less kfuncs (RCU, preemption): nothing to check */
	for (int i = 0; i < 5; i++) {
		if (k->arg[i] != ARG_NONE) {
			verbose(env, "kfunc %s: argument %d is not checked by bpfvm\n", n, i + 1);
			return -EINVAL;
		}
	}
	clear_caller_saved(env);
	r0 = &cur_regs(env)[0];
	if (k->ret == RET_VOID)
		reg_mark_not_init(r0);
	else
		reg_mark_unknown_scalar(r0);
	mark_reg_written(env, 0);
	return 0;
}

/* ----------------------------------------------------------------- exit -- */

static int check_leaks(struct venv *env, const char *prefix)
{
	struct vstate *st = env->cur;
	if (st->lock_id) {
		verbose(env, "%s cannot be used inside bpf_spin_lock-ed region\n", prefix);
		return -EINVAL;
	}
	if (st->ref_cnt) {
		for (int i = 0; i < st->ref_cnt; i++)
			verbose(env, "Unreleased reference id=%u alloc_insn=%d\n", st->refs[i].id,
				st->refs[i].insn_idx);
		verbose(env, "%s would lead to reference leak\n", prefix);
		return -EINVAL;
	}
	return 0;
}

/* *path_done: the path ended (main exit); else continue at *next_idx */
int check_exit(struct venv *env, int *next_idx, bool *path_done)
{
	struct vstate *st = env->cur;
	int err;
	*path_done = false;
	if (st->curframe == 0) {
		err = check_leaks(env, "BPF_EXIT instruction in main prog");
		if (err)
			return err;
		if ((err = check_reg_read(env, 0)))
			return err;
		*path_done = true;
		return 0;
	}
	struct vframe *callee = st->frame[st->curframe];
	struct vframe *caller = st->frame[st->curframe - 1];
	if ((err = check_reg_read(env, 0)))
		return err;
	struct vreg *r0 = &callee->regs[0];
	if (callee->in_callback) {
		if (r0->type != SCALAR_VALUE) {
			verbose(env, "R0 not a scalar value\n");
			return -EACCES;
		}
		/* the return value's range is checked; and the walk back
		 * must know this exit goes to the helper call, not after it */
		if ((err = mark_precise_reg(env, 0)) || (err = hist_push(env, HIST_CB_EXIT, 0)))
			return err;
		if (r0->smin < callee->cb_ret_min || r0->smax > callee->cb_ret_max) {
			char tn[48];
			if (!tnum_is_unknown(r0->var_off)) {
				tnum_strn(tn, sizeof(tn), r0->var_off);
				verbose(env, "At callback return the register R0 has value %s", tn);
			} else {
				verbose(env, "At callback return the register R0 has unknown scalar value");
			}
			verbose(env, " should have been in [%d, %d]\n", callee->cb_ret_min,
				callee->cb_ret_max);
			return -EINVAL;
		}
		for (int i = 0; i < st->ref_cnt; i++) {
			if (st->refs[i].frameno == st->curframe) {
				verbose(env, "Unreleased reference id=%u alloc_insn=%d\n",
					st->refs[i].id, st->refs[i].insn_idx);
				return -EINVAL;
			}
		}
		*next_idx = callee->callsite;	/* the helper may call it again */
	} else {
		if (r0->type == PTR_TO_STACK && r0->frameno == callee->frameno) {
			verbose(env, "cannot return stack pointer to the caller frame\n");
			return -EINVAL;
		}
		uint8_t live = caller->regs[0].live;
		caller->regs[0] = *r0;
		caller->regs[0].live = live;
		*next_idx = callee->callsite + 1;
	}
	/* pointers into the dying frame's stack become unusable */
	int dying = callee->frameno;
	for (int i = 0; i < st->curframe; i++) {
		struct vframe *f = st->frame[i];
		for (int r = 0; r < V_REGS; r++)
			if (f->regs[r].type == PTR_TO_STACK && f->regs[r].frameno == dying)
				reg_mark_unknown_scalar(&f->regs[r]);
		for (int s = 0; s < f->slot_cnt; s++)
			if (is_spilled_reg(&f->stack[s]) && f->stack[s].spilled.type == PTR_TO_STACK &&
			    f->stack[s].spilled.frameno == dying)
				reg_mark_unknown_scalar(&f->stack[s].spilled);
	}
	frame_free(callee);
	st->frame[st->curframe] = NULL;
	st->curframe--;
	env->scratched_regs = 1;
	return 0;
}
