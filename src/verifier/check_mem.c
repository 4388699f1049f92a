/* check_mem.c — every load and store, by the type of the pointer.
 *
 * A memory access is [ptr + off, ptr + off + size) where ptr's value is known
 * as a fixed offset plus a variable part (its bounds).  Each pointer type has
 * its rule: the stack (within the frame's 512 bytes, aligned, spills keep
 * whole register states, privileged programs may read bytes never written),
 * map values (within value_size for every offset the bounds allow), packets
 * (within the range proven against data_end), ring buffer memory (its size),
 * the context (the per-type field table).  Helpers that take memory
 * arguments check their [ptr, ptr + size) the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "verifier/verifier_int.h"

#define MAX_VAR_OFF (1 << 29)

bool is_ctx_reg(const struct venv *env, int regno)
{
	return cur_regs(env)[regno].type == PTR_TO_CTX;
}

bool pkt_access_allowed(const struct venv *env, bool write)
{
	switch (env->prog_type) {
	case 8:	/* CGROUP_SKB: read-only */
		return !write;
	case 6:	/* XDP */
	case 3:	/* SCHED_CLS */
	case 4:	/* SCHED_ACT */
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------- liveness -- */

void mark_slot_read(struct venv *env, int frameno, int slot)
{
	struct vstate *st = env->cur;
	struct vframe *f = st->frame[frameno];
	if (slot < f->slot_cnt && (f->stack[slot].live & LIVE_WRITTEN))
		return;
	for (struct vstate *p = st->parent; p; p = p->parent) {
		if (p->curframe < frameno)
			return;
		struct vframe *pf = p->frame[frameno];
		if (slot >= pf->slot_cnt)
			return;
		struct vslot *s = &pf->stack[slot];
		if (s->live & LIVE_READ)
			return;
		s->live |= LIVE_READ;
		env->mark_read++;
		if (s->live & LIVE_WRITTEN)
			return;
	}
}

void mark_reg_read(struct venv *env, const struct vreg *r, int frameno, int regno)
{
	(void)env;
	(void)r;
	(void)frameno;
	(void)regno;	/* register liveness is static (cfg.c) */
}

int check_reg_read(struct venv *env, int regno)
{
	if (regno < 0 || regno >= V_REGS) {
		verbose(env, "R%d is invalid\n", regno);
		return -EINVAL;
	}
	if (cur_regs(env)[regno].type == NOT_INIT) {
		verbose(env, "R%d !read_ok\n", regno);
		return -EACCES;
	}
	return 0;
}

/* -------------------------------------------------------------- helpers -- */

static void update_stack_depth(struct venv *env, int frameno, int off)
{
	struct vframe *f = env->cur->frame[frameno];
	struct vsubprog *sp = &env->subprogs[f->subprog];
	if (-off > sp->stack_depth)
		sp->stack_depth = -off;
}

static int grow_to(struct venv *env, int frameno, int min_off)
{
	int slots = (-min_off + V_SLOT - 1) / V_SLOT;
	update_stack_depth(env, frameno, min_off);
	return frame_grow_stack(env->cur->frame[frameno], slots);
}

/* byte at stack offset off (negative) of a frame */
static uint8_t *slot_byte(struct vframe *f, int off, int *slot)
{
	int spi = (-off - 1) / V_SLOT;
	int byte = (off + (spi + 1) * V_SLOT);	/* 0 = lowest address */
	*slot = spi;
	return &f->stack[spi].type[byte];
}

static void scrub_slot(struct vslot *s)
{
	for (int i = 0; i < V_SLOT; i++)
		if (s->type[i] != STACK_INVALID && s->type[i] != STACK_ZERO)
			s->type[i] = STACK_MISC;
	reg_mark_not_init(&s->spilled);
}

static bool reg_is_zero(const struct vreg *r)
{
	return r->type == SCALAR_VALUE && tnum_equals_const(r->var_off, 0);
}

static void coerce_to_size(struct vreg *r, int size, bool sign)
{
	if (size >= 8)
		return;
	int bits = size * 8;
	if (sign) {
		int64_t lo = -((int64_t)1 << (bits - 1)), hi = ((int64_t)1 << (bits - 1)) - 1;
		if (r->smin >= lo && r->smax <= hi)
			return;
		uint8_t live = r->live;
		reg_mark_unknown_scalar(r);
		r->live = live;
		r->smin = lo;
		r->smax = hi;
		reg_bounds_sync(r);
		return;
	}
	uint64_t max = (1ull << bits) - 1;
	if (r->umax <= max)
		return;
	uint8_t live = r->live;
	struct tnum t = tnum_cast(r->var_off, (uint8_t)size);
	reg_mark_unknown_scalar(r);
	r->live = live;
	r->var_off = t;
	r->umax = max;
	reg_bounds_sync(r);
}

static void set_loaded_unknown(struct venv *env, int regno, int size, bool sign)
{
	struct vreg *r = &cur_regs(env)[regno];
	uint8_t live = r->live;
	reg_mark_unknown_scalar(r);
	r->live = live;
	coerce_to_size(r, size, sign);
	mark_reg_written(env, regno);
}

/* ----------------------------------------------------------------- stack -- */

static int check_stack_bounds(struct venv *env, int regno, const struct vreg *reg, int off,
			      int size, const char *what, int64_t *min_off, int64_t *max_off)
{
	if (tnum_is_const(reg->var_off)) {
		*min_off = (int64_t)reg->var_off.value + off;
		*max_off = *min_off + size;
	} else {
		if (reg->smax >= MAX_VAR_OFF || reg->smin <= -MAX_VAR_OFF) {
			verbose(env, "invalid unbounded variable-offset%s stack R%d\n", what, regno);
			return -EACCES;
		}
		*min_off = reg->smin + off;
		*max_off = reg->smax + off + size;
	}
	if (*min_off < -V_STACK_MAX || *min_off > -1 || *max_off > 0 || size < 0) {
		if (tnum_is_const(reg->var_off)) {
			verbose(env, "invalid%s stack R%d off=%d size=%d\n", what, regno, off, size);
		} else {
			char tn[48];
			tnum_strn(tn, sizeof(tn), reg->var_off);
			verbose(env, "invalid variable-offset%s stack R%d var_off=%s off=%d size=%d\n",
				what, regno, tn, off, size);
		}
		return -EACCES;
	}
	return 0;
}

static void save_spill(struct venv *env, struct vframe *f, int spi, const struct vreg *r,
		       int size)
{
	struct vslot *s = &f->stack[spi];
	uint8_t live = s->live;
	s->spilled = *r;
	s->spilled.live = 0;
	s->type[0] = STACK_SPILL;
	for (int i = 0; i < V_SLOT; i++) {
		if (i < size)
			s->type[i] = STACK_SPILL;
		else if (s->type[i] != STACK_INVALID && s->type[i] != STACK_ZERO)
			s->type[i] = STACK_MISC;
	}
	s->live = live;
	if (size == V_SLOT)
		s->live |= LIVE_WRITTEN;
	if (spi < 64)
		env->scratched_slots |= 1ull << spi;
}

static int stack_write_fixed(struct venv *env, int frameno, int off, int size, int value_regno,
			     const struct vreg *imm_reg)
{
	struct vstate *st = env->cur;
	struct vframe *f = st->frame[frameno];
	int err = grow_to(env, frameno, off);
	if (err)
		return err;
	int spi = (-off - 1) / V_SLOT;
	struct vslot *s = &f->stack[spi];
	const struct vreg *reg = value_regno >= 0 ? &cur_regs(env)[value_regno] : NULL;
	bool aligned = (off % V_SLOT) == 0;

	if (s->type[0] == STACK_ITER || s->type[V_SLOT - 1] == STACK_ITER) {
		verbose(env, "cannot overwrite referenced iterator\n");
		return -EACCES;
	}
	if (reg && aligned && reg->type == SCALAR_VALUE) {
		struct vreg copy = *reg;
		/* a value wider than the store does not stay linked */
		if (size < 8 && copy.umax >= (1ull << (size * 8)))
			copy.id = 0;
		if (size == 8 && !copy.id && !reg_is_const(&copy)) {
			/* link the spill with the register (both change on a check) */
			struct vreg *src = &cur_regs(env)[value_regno];
			src->id = env_new_id(env);
			copy.id = src->id;
		}
		save_spill(env, f, spi, &copy, size);
		return hist_push(env, HIST_STACK_FLAGS(frameno, spi), 0);
	}
	if (!reg && aligned && imm_reg) {
		save_spill(env, f, spi, imm_reg, size);
		return hist_push(env, HIST_STACK_FLAGS(frameno, spi), 0);
	}
	if (reg && reg->type != SCALAR_VALUE) {
		if (size != V_SLOT) {
			verbose(env, "invalid size of register spill\n");
			return -EACCES;
		}
		if (frameno != st->curframe && reg->type == PTR_TO_STACK) {
			verbose(env, "cannot spill pointers to stack into stack frame of the caller\n");
			return -EINVAL;
		}
		save_spill(env, f, spi, reg, size);
		return hist_push(env, HIST_STACK_FLAGS(frameno, spi), 0);
	}
	/* plain bytes */
	uint8_t type = STACK_MISC;
	if ((reg && reg_is_zero(reg)) || (imm_reg && reg_is_zero(imm_reg)))
		type = STACK_ZERO;
	/* STACK_ZERO is compared exactly: the register had to be zero */
	if (reg && type == STACK_ZERO && (err = mark_precise_reg(env, value_regno)))
		return err;
	if (is_spilled_reg(s))
		scrub_slot(s);
	reg_mark_not_init(&s->spilled);
	int first = off + (spi + 1) * V_SLOT;
	for (int i = 0; i < size; i++)
		s->type[first + i] = type;
	if (size == V_SLOT)
		s->live |= LIVE_WRITTEN;
	if (spi < 64)
		env->scratched_slots |= 1ull << spi;
	return 0;
}

static int stack_write_var(struct venv *env, int frameno, int64_t min_off, int64_t max_off,
			   int value_regno, const struct vreg *imm_reg)
{
	struct vframe *f = env->cur->frame[frameno];
	int err = grow_to(env, frameno, (int)min_off);
	if (err)
		return err;
	const struct vreg *reg = value_regno >= 0 ? &cur_regs(env)[value_regno] : imm_reg;
	bool zero = reg && reg_is_zero(reg);
	if (zero && value_regno >= 0 && (err = mark_precise_reg(env, value_regno)))
		return err;
	for (int64_t o = min_off; o < max_off; o++) {
		int spi;
		uint8_t *b = slot_byte(f, (int)o, &spi);
		struct vslot *s = &f->stack[spi];
		if (s->type[0] == STACK_ITER) {
			verbose(env, "cannot overwrite referenced iterator\n");
			return -EACCES;
		}
		if (is_spilled_reg(s))
			scrub_slot(s);
		*b = (zero && *b == STACK_ZERO) ? STACK_ZERO : STACK_MISC;
		if (spi < 64)
			env->scratched_slots |= 1ull << spi;
	}
	return 0;
}

static int stack_read_fixed(struct venv *env, int frameno, int off, int size, int dst_regno,
			    bool sign)
{
	struct vframe *f = env->cur->frame[frameno];
	int spi = (-off - 1) / V_SLOT;
	update_stack_depth(env, frameno, off);
	if (spi >= f->slot_cnt) {
		/* never written: privileged programs read an unknown value */
		if (dst_regno >= 0)
			set_loaded_unknown(env, dst_regno, size, sign);
		mark_slot_read(env, frameno, spi);
		return 0;
	}
	struct vslot *s = &f->stack[spi];
	int first = off + (spi + 1) * V_SLOT;
	mark_slot_read(env, frameno, spi);
	if (s->type[0] == STACK_ITER) {
		verbose(env, "invalid read from stack off %d+0 size %d\n", off, size);
		return -EACCES;
	}
	if (is_spilled_reg(s)) {
		const struct vreg *sp = &s->spilled;
		int spill_size = 0;
		while (spill_size < V_SLOT && s->type[spill_size] == STACK_SPILL)
			spill_size++;
		if (size == V_SLOT && spill_size == V_SLOT) {
			if (dst_regno >= 0) {
				struct vreg *d = &cur_regs(env)[dst_regno];
				uint8_t live = d->live;
				*d = *sp;
				d->live = live;
				if (sign && d->type == SCALAR_VALUE)
					coerce_to_size(d, size, true);
				mark_reg_written(env, dst_regno);
				return hist_push(env, HIST_STACK_FLAGS(frameno, spi), 0);
			}
			return 0;
		}
		if (sp->type != SCALAR_VALUE) {
			verbose(env, "invalid size of register fill\n");
			return -EACCES;
		}
		if (dst_regno < 0)
			return 0;
		if (first == 0 && size <= spill_size) {
			struct vreg *d = &cur_regs(env)[dst_regno];
			uint8_t live = d->live;
			*d = *sp;
			d->live = live;
			if (size < 8 && d->umax >= (1ull << (size * 8)))
				d->id = 0;
			coerce_to_size(d, size, false);
			if (sign)
				coerce_to_size(d, size, true);
			mark_reg_written(env, dst_regno);
			return hist_push(env, HIST_STACK_FLAGS(frameno, spi), 0);
		}
		/* bytes of several kinds */
		int spill_cnt = 0, zero_cnt = 0;
		for (int i = 0; i < size; i++) {
			uint8_t t = s->type[first + i];
			spill_cnt += t == STACK_SPILL;
			zero_cnt += t == STACK_ZERO;
		}
		struct vreg *d = &cur_regs(env)[dst_regno];
		if ((spill_cnt == size && reg_is_zero(sp)) || zero_cnt == size) {
			uint8_t live = d->live;
			reg_mark_known(d, 0);
			d->live = live;
			mark_reg_written(env, dst_regno);
			if (spill_cnt)	/* zero because the spilled value is */
				return hist_push(env, HIST_STACK_FLAGS(frameno, spi), 0);
		} else {
			set_loaded_unknown(env, dst_regno, size, sign);
		}
		return 0;
	}
	if (dst_regno < 0)
		return 0;
	int zero_cnt = 0;
	for (int i = 0; i < size; i++)
		zero_cnt += s->type[first + i] == STACK_ZERO;
	if (zero_cnt == size) {
		struct vreg *d = &cur_regs(env)[dst_regno];
		uint8_t live = d->live;
		reg_mark_known(d, 0);
		d->live = live;
		mark_reg_written(env, dst_regno);
	} else {
		set_loaded_unknown(env, dst_regno, size, sign);
	}
	return 0;
}

static int stack_read_var(struct venv *env, int frameno, int64_t min_off, int64_t max_off,
			  int dst_regno, int size, bool sign)
{
	struct vframe *f = env->cur->frame[frameno];
	update_stack_depth(env, frameno, (int)min_off);
	bool all_zero = true;
	for (int64_t o = min_off; o < max_off; o++) {
		int spi = (int)((-o - 1) / V_SLOT);
		mark_slot_read(env, frameno, spi);
		if (spi >= f->slot_cnt) {
			all_zero = false;
			continue;
		}
		int spi2;
		uint8_t *b = slot_byte(f, (int)o, &spi2);
		if (*b == STACK_ITER) {
			verbose(env, "invalid read from stack off %lld+0 size %d\n", (long long)o,
				size);
			return -EACCES;
		}
		if (*b != STACK_ZERO)
			all_zero = false;
	}
	if (dst_regno < 0)
		return 0;
	if (all_zero) {
		struct vreg *d = &cur_regs(env)[dst_regno];
		uint8_t live = d->live;
		reg_mark_known(d, 0);
		d->live = live;
		mark_reg_written(env, dst_regno);
	} else {
		set_loaded_unknown(env, dst_regno, size, sign);
	}
	return 0;
}

static int check_stack_access(struct venv *env, int regno, int off, int size, enum access t,
			      int value_regno, bool sign, const struct vreg *imm_reg)
{
	const struct vreg *reg = &cur_regs(env)[regno];
	int64_t min_off, max_off;
	int err = check_stack_bounds(env, regno, reg, off, size,
				     t == ACC_READ ? " read from" : " write to", &min_off, &max_off);
	if (err)
		return err;
	int frameno = reg->frameno;
	if (tnum_is_const(reg->var_off)) {
		int o = (int)min_off;
		if (t == ACC_WRITE)
			return stack_write_fixed(env, frameno, o, size, value_regno, imm_reg);
		return stack_read_fixed(env, frameno, o, size, value_regno, sign);
	}
	if (t == ACC_WRITE)
		return stack_write_var(env, frameno, min_off, max_off, value_regno, imm_reg);
	return stack_read_var(env, frameno, min_off, max_off, value_regno, size, sign);
}

/* helper memory on the stack: [reg + off, + size) for a size range */
int check_stack_range_init(struct venv *env, int regno, int off, int size, bool raw)
{
	const struct vreg *reg = &cur_regs(env)[regno];
	int64_t min_off, max_off;
	int err = check_stack_bounds(env, regno, reg, off, size, raw ? " write to" : " read from",
				     &min_off, &max_off);
	if (err)
		return err;
	int frameno = reg->frameno;
	if (size == 0)
		return 0;
	err = grow_to(env, frameno, (int)min_off);
	if (err)
		return err;
	struct vframe *f = env->cur->frame[frameno];
	for (int64_t o = min_off; o < max_off; o++) {
		int spi;
		uint8_t *b = slot_byte(f, (int)o, &spi);
		struct vslot *s = &f->stack[spi];
		if (*b == STACK_ITER) {
			verbose(env, "invalid indirect read from stack R%d off %lld+%lld size %d\n",
				regno, (long long)min_off, (long long)(o - min_off), size);
			return -EACCES;
		}
		if (!raw) {
			mark_slot_read(env, frameno, spi);
			continue;
		}
		/* the helper writes these bytes */
		if (is_spilled_reg(s)) {
			reg_mark_not_init(&s->spilled);
			for (int i = 0; i < V_SLOT; i++)
				if (s->type[i] == STACK_SPILL)
					s->type[i] = STACK_MISC;
		}
		*b = STACK_MISC;
		if (spi < 64)
			env->scratched_slots |= 1ull << spi;
	}
	return 0;
}

/* ------------------------------------------------------- regions (maps) -- */

static int region_msg(struct venv *env, int regno, const struct vreg *reg, int64_t off, int size,
		      uint64_t mem_size)
{
	switch (reg->type) {
	case PTR_TO_MAP_VALUE:
		verbose(env, "invalid access to map value, value_size=%llu off=%lld size=%d\n",
			(unsigned long long)mem_size, (long long)off, size);
		break;
	case PTR_TO_MAP_KEY:
		verbose(env, "invalid access to map key, key_size=%llu off=%lld size=%d\n",
			(unsigned long long)mem_size, (long long)off, size);
		break;
	case PTR_TO_PACKET:
	case PTR_TO_PACKET_META:
		verbose(env, "invalid access to packet, off=%lld size=%d, R%d(id=%u,off=%lld,r=%u)\n",
			(long long)off, size, regno, reg->id, (long long)off, reg->range);
		break;
	default:
		verbose(env, "invalid access to memory, mem_size=%llu off=%lld size=%d\n",
			(unsigned long long)mem_size, (long long)off, size);
		break;
	}
	return -EACCES;
}

/* [reg + off, + size) inside [0, mem_size) for every value the bounds allow */
static int check_region(struct venv *env, int regno, int off, int size, uint64_t mem_size,
			bool zero_ok)
{
	const struct vreg *reg = &cur_regs(env)[regno];
	int64_t o = (int64_t)off;
	if (reg->smin < 0 &&
	    (reg->smin == INT64_MIN || o + reg->smin != (int64_t)(int32_t)(o + reg->smin) ||
	     reg->smin + o < 0)) {
		verbose(env, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.\n",
			regno);
		return -EACCES;
	}
	int64_t lo = reg->smin + o;
	if (lo < 0 || (size == 0 && !zero_ok) || (uint64_t)lo + (uint64_t)size > mem_size)
		return region_msg(env, regno, reg, lo, size, mem_size);
	if (reg->umax >= MAX_VAR_OFF) {
		verbose(env, "R%d unbounded memory access, make sure to bounds check any such access\n",
			regno);
		return -EACCES;
	}
	int64_t hi = (int64_t)reg->umax + o;
	if (hi < 0 || (uint64_t)hi + (uint64_t)size > mem_size)
		return region_msg(env, regno, reg, hi, size, mem_size);
	return 0;
}

static int check_map_value(struct venv *env, int regno, int off, int size, enum access t,
			   bool zero_ok)
{
	const struct vreg *reg = &cur_regs(env)[regno];
	const struct vmap *m = reg->map;
	int full = off + reg->off;
	/* a map-in-map "value" is the inner map object: never writable */
	bool of_maps = m->type == BPFVM_MAP_TYPE_ARRAY_OF_MAPS ||
		       m->type == BPFVM_MAP_TYPE_HASH_OF_MAPS;
	if (t == ACC_WRITE && ((m->flags & BPFVM_F_RDONLY_PROG) || of_maps)) {
		verbose(env, "write into map forbidden, value_size=%u off=%d size=%d\n",
			m->value_size, full, size);
		return -EACCES;
	}
	if (t == ACC_READ && (m->flags & BPFVM_F_WRONLY_PROG)) {
		verbose(env, "read from map forbidden, value_size=%u off=%d size=%d\n",
			m->value_size, full, size);
		return -EACCES;
	}
	int err = check_region(env, regno, full, size, m->value_size, zero_ok);
	if (err)
		return err;
	if (m->spin_lock_off >= 0) {
		int64_t lo = reg->smin + full, hi = (int64_t)reg->umax + full + size;
		if (lo < m->spin_lock_off + 4 && hi > m->spin_lock_off) {
			verbose(env, "bpf_spin_lock cannot be accessed directly by load/store\n");
			return -EACCES;
		}
	}
	return 0;
}

/* a read of a frozen read-only map at a known offset gives the value */
static bool map_direct_read(const struct vmap *m, const struct vreg *reg, int off, int size,
			    uint64_t *val)
{
	if (!m->map || !(m->flags & BPFVM_F_RDONLY_PROG) || !tnum_is_const(reg->var_off))
		return false;
	struct bpfvm_map *map = (struct bpfvm_map *)m->map;
	if (!atomic_load(&map->frozen) || map->type != BPFVM_MAP_TYPE_ARRAY || map->max_entries != 1)
		return false;
	uint32_t key = 0;
	const uint8_t *base = map_lookup(map, &key, 0);
	int64_t o = (int64_t)reg->var_off.value + reg->off + off;
	if (!base || o < 0 || (uint64_t)o + (uint64_t)size > map->value_size)
		return false;
	uint64_t v = 0;
	memcpy(&v, base + o, (size_t)size);
	*val = v;
	return true;
}

/* ------------------------------------------------------------ the switch -- */

static int check_alignment(struct venv *env, const struct vreg *reg, int off, int size,
			   bool strict)
{
	if (size == 1)
		return 0;
	if (reg->type == PTR_TO_STACK || strict) {
		struct tnum t = tnum_add(reg->var_off, tnum_const((uint64_t)(int64_t)(reg->off + off)));
		if (!tnum_is_aligned(t, (uint64_t)size)) {
			char tn[48];
			if (tnum_is_const(reg->var_off))
				snprintf(tn, sizeof(tn), "%lld", (long long)reg->var_off.value);
			else
				tnum_strn(tn, sizeof(tn), reg->var_off);
			const char *desc = reg->type == PTR_TO_STACK ? "stack " :
					   reg->type == PTR_TO_PACKET ? "packet " :
					   reg->type == PTR_TO_CTX ? "context " : "";
			verbose(env, "misaligned %saccess off %s+%d+%d size %d\n", desc, tn, reg->off,
				off, size);
			return -EACCES;
		}
	}
	return 0;
}

int check_mem_access(struct venv *env, int insn_idx, int regno, int off, int size,
		     enum access t, int value_regno, bool sign_ext, bool is_atomic)
{
	struct vreg *regs = cur_regs(env);
	const struct vreg *reg = &regs[regno];
	const struct bpf_insn *in = &env->insns[insn_idx];
	char tb[64];
	int err = check_alignment(env, reg, off, size, is_atomic);
	if (err)
		return err;
	if (reg->flags & PTR_MAYBE_NULL) {
		verbose(env, "R%d invalid mem access '%s'\n", regno, reg_type_str(reg, tb, sizeof(tb)));
		return -EACCES;
	}
	switch (reg->type) {
	case PTR_TO_STACK: {
		struct vreg imm;
		const struct vreg *imm_reg = NULL;
		if (t == ACC_WRITE && value_regno < 0 && (in->code & 0x07) == 0x02) {
			/* BPF_ST: the immediate is a known constant */
			reg_mark_known(&imm, (uint64_t)(int64_t)in->imm);
			imm_reg = &imm;
		}
		return check_stack_access(env, regno, off + reg->off, size, t, value_regno,
					  sign_ext, imm_reg);
	}
	case PTR_TO_MAP_VALUE: {
		err = check_map_value(env, regno, off, size, t, false);
		if (err)
			return err;
		if (t == ACC_READ && value_regno >= 0) {
			uint64_t v;
			if (map_direct_read(reg->map, reg, off, size, &v)) {
				if (sign_ext && size < 8) {
					int sh = 64 - size * 8;
					v = (uint64_t)((int64_t)(v << sh) >> sh);
				}
				struct vreg *d = &regs[value_regno];
				uint8_t live = d->live;
				reg_mark_known(d, v);
				d->live = live;
				mark_reg_written(env, value_regno);
			} else {
				set_loaded_unknown(env, value_regno, size, sign_ext);
			}
		}
		return 0;
	}
	case PTR_TO_MAP_KEY:
		if (t == ACC_WRITE) {
			verbose(env, "write to change key R%d not allowed\n", regno);
			return -EACCES;
		}
		err = check_region(env, regno, off + reg->off, size, reg->map->key_size, false);
		if (err)
			return err;
		if (value_regno >= 0)
			set_loaded_unknown(env, value_regno, size, sign_ext);
		return 0;
	case PTR_TO_MEM:
		if (t == ACC_WRITE && (reg->flags & MEM_RDONLY)) {
			verbose(env, "R%d cannot write into %s\n", regno, reg_type_str(reg, tb, sizeof(tb)));
			return -EACCES;
		}
		err = check_region(env, regno, off + reg->off, size, reg->mem_size, false);
		if (err)
			return err;
		if (t == ACC_READ && value_regno >= 0)
			set_loaded_unknown(env, value_regno, size, sign_ext);
		return 0;
	case PTR_TO_CTX: {
		if (reg->off) {
			verbose(env, "dereference of modified ctx ptr R%d off=%d disallowed\n", regno,
				reg->off);
			return -EACCES;
		}
		if (!tnum_is_const(reg->var_off) || reg->var_off.value) {
			char tn[48];
			tnum_strn(tn, sizeof(tn), reg->var_off);
			verbose(env, "variable ctx access var_off=%s disallowed\n", tn);
			return -EACCES;
		}
		int ptype;
		err = check_ctx_access(env, insn_idx, off, size, t, &ptype);
		if (!err && sign_ext && ptype != NOT_INIT) { /* a packet pointer, sign-extended */
			verbose(env, "invalid bpf_context access off=%d size=%d\n", off, size);
			err = -EACCES;
		}
		if (err)
			return err;
		if (t == ACC_READ && value_regno >= 0) {
			struct vreg *d = &regs[value_regno];
			if (ptype == NOT_INIT) {
				set_loaded_unknown(env, value_regno, size, sign_ext);
			} else {
				uint8_t live = d->live;
				reg_mark_known(d, 0);
				d->live = live;
				d->type = (uint8_t)ptype;
				mark_reg_written(env, value_regno);
			}
		}
		return 0;
	}
	case PTR_TO_PACKET:
	case PTR_TO_PACKET_META:
		if (!pkt_access_allowed(env, t == ACC_WRITE)) {
			verbose(env, "cannot %s into packet\n", t == ACC_WRITE ? "write" : "read");
			return -EACCES;
		}
		if (reg->smin < 0) {
			verbose(env, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.\n",
				regno);
			return -EACCES;
		}
		if (off + reg->off < 0 || (int64_t)off + reg->off + size > (int64_t)reg->range) {
			region_msg(env, regno, reg, (int64_t)off + reg->off, size, reg->range);
			verbose(env, "R%d offset is outside of the packet\n", regno);
			return -EACCES;
		}
		if (t == ACC_WRITE)
			env->seen_direct_write = true;
		if (t == ACC_READ && value_regno >= 0)
			set_loaded_unknown(env, value_regno, size, sign_ext);
		return 0;
	default:
		verbose(env, "R%d invalid mem access '%s'\n", regno, reg_type_str(reg, tb, sizeof(tb)));
		return -EACCES;
	}
}

/* ------------------------------------------------------- helper memory -- */

int check_helper_mem_access(struct venv *env, int regno, int64_t size_min, int64_t size_max,
			    bool zero_ok, bool write, bool raw)
{
	const struct vreg *reg = &cur_regs(env)[regno];
	char tb[64];
	(void)size_min;
	if (reg->flags & PTR_MAYBE_NULL) {
		if (zero_ok && size_max == 0)
			return 0;
		verbose(env, "R%d type=%s expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_\n",
			regno, reg_type_str(reg, tb, sizeof(tb)));
		return -EACCES;
	}
	int size = (int)size_max;
	switch (reg->type) {
	case PTR_TO_STACK:
		return check_stack_range_init(env, regno, reg->off, size, raw || write);
	case PTR_TO_MAP_VALUE:
		return check_map_value(env, regno, 0, size, write ? ACC_WRITE : ACC_READ, zero_ok);
	case PTR_TO_MAP_KEY:
		if (write) {
			verbose(env, "R%d cannot write into %s\n", regno, reg_type_str(reg, tb, sizeof(tb)));
			return -EACCES;
		}
		return check_region(env, regno, reg->off, size, reg->map->key_size, zero_ok);
	case PTR_TO_MEM:
		if (write && (reg->flags & MEM_RDONLY)) {
			verbose(env, "R%d cannot write into %s\n", regno, reg_type_str(reg, tb, sizeof(tb)));
			return -EACCES;
		}
		return check_region(env, regno, reg->off, size, reg->mem_size, zero_ok);
	case PTR_TO_PACKET:
	case PTR_TO_PACKET_META:
		if (!pkt_access_allowed(env, write)) {
			verbose(env, "helper access to the packet is not allowed\n");
			return -EACCES;
		}
		if (reg->smin < 0) {
			verbose(env, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.\n",
				regno);
			return -EACCES;
		}
		if (reg->off < 0 || (int64_t)reg->off + size > (int64_t)reg->range) {
			region_msg(env, regno, reg, reg->off, size, reg->range);
			verbose(env, "R%d offset is outside of the packet\n", regno);
			return -EACCES;
		}
		if (write)
			env->seen_direct_write = true;
		return 0;
	case SCALAR_VALUE:
		if (zero_ok && size_max == 0 && tnum_equals_const(reg->var_off, 0))
			return 0;
		/* fallthrough */
	default:
		verbose(env, "R%d type=%s expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_\n",
			regno, reg_type_str(reg, tb, sizeof(tb)));
		return -EACCES;
	}
}
