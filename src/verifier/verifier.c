/* verifier.c — bpfvm_prog_verify(): the main loop of the verifier.
 *
 * After the structural pass (cfg.c) the program is walked from its first
 * instruction with the entry state (r1 = ctx, r10 = frame pointer).  Each
 * instruction is checked and applied to the current state; a branch the
 * bounds cannot decide pushes the other outcome on a stack of pending paths;
 * an exit (or a prune) ends the path and the next pending one is taken.  The
 * program is safe when every path ended well.  Limits are the kernel's:
 * 1,000,000 instructions processed over all paths, 8,192 pending branches,
 * 8 call frames, 512 bytes of stack per call chain.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verifier/verifier_int.h"

/* ------------------------------------------------------------------ maps -- */

static struct vmap *add_vmap(struct venv *env)
{
	if (env->map_cnt == env->map_cap)
		return NULL;
	struct vmap *v = &env->maps[env->map_cnt];
	memset(v, 0, sizeof(*v));
	v->idx = env->map_cnt++;
	v->spin_lock_off = -1;
	return v;
}

const struct vmap *env_map_template(struct venv *env, const struct map_meta *meta)
{
	for (int i = 0; i < env->map_cnt; i++) {
		const struct vmap *v = &env->maps[i];
		if (!v->map && v->type == meta->type && v->key_size == meta->key_size &&
		    v->value_size == meta->value_size && v->max_entries == meta->max_entries &&
		    v->flags == meta->map_flags && v->spin_lock_off == meta->spin_lock_off)
			return v;
	}
	struct vmap *v = add_vmap(env);
	if (!v)
		return NULL;
	v->type = meta->type;
	v->key_size = meta->key_size;
	v->value_size = meta->value_size;
	v->max_entries = meta->max_entries;
	v->flags = meta->map_flags;
	v->spin_lock_off = meta->spin_lock_off;
	return v;
}

const struct vmap *env_map_for(struct venv *env, const struct bpfvm_map *m)
{
	if (!m)
		return NULL;
	for (int i = 0; i < env->map_cnt; i++)
		if (env->maps[i].map == m)
			return &env->maps[i];
	const struct vmap *inner = m->inner_meta ? env_map_template(env, m->inner_meta) : NULL;
	struct vmap *v = add_vmap(env);
	if (!v)
		return NULL;
	v->type = m->type;
	v->key_size = m->key_size;
	v->value_size = m->value_size;
	v->max_entries = m->max_entries;
	v->flags = m->map_flags;
	v->spin_lock_off = m->spin_lock_off;
	v->map = m;
	v->inner = inner;
	return v;
}

/* ----------------------------------------------------------------- paths -- */

/* the current path ended: take the next pending one; 1 when none is left */
static int pop_path(struct venv *env)
{
	struct vstate *cur = env->cur;
	if (cur->parent)
		prune_update_branches(env, cur->parent);
	struct vstack_elem *e = env->head;
	if (!e)
		return 1;
	env->head = e->next;
	env->stack_size--;
	state_put(env, env->cur);
	env->cur = e->st;
	env->prev_insn_idx = e->prev_insn_idx;
	env->insn_idx = e->insn_idx;
	if (env->log.level == 1)
		vlog_reset(&env->log, e->log_pos);
	e->next = env->elem_pool;
	env->elem_pool = e;
	if (env->log.level) {
		verbose(env, "from %d to %d:", env->prev_insn_idx, env->insn_idx);
		print_state(env, cur_frame(env), true);
	}
	return 0;
}

static int do_check(struct venv *env)
{
	int cnt = (int)env->insn_cnt;
	for (;;) {
		int idx = env->insn_idx;
		int err = 0, next = idx + 1;
		if (idx < 0 || idx >= cnt) {
			verbose(env, "invalid insn idx %d insn_cnt %d\n", idx, cnt);
			return -EFAULT;
		}
		if (++env->insn_processed > V_INSN_LIMIT) {
			verbose(env, "BPF program is too large. Processed %llu insn\n",
				(unsigned long long)env->insn_processed);
			return -E2BIG;
		}
		env->cur_hist = -1;
		err = prune_visit(env, idx);
		if (err < 0)
			return err;
		if (err == 1) {
			if (env->log.level >= 2)
				verbose(env, "%d: safe\n", idx);
			if (pop_path(env))
				return 0;
			continue;
		}
		/* reached other than by falling through: the path's history
		 * keeps how (precise.c walks it back) */
		if (env->prev_insn_idx >= 0 && env->prev_insn_idx != natural_pred(env, idx) &&
		    (err = hist_push(env, 0, 0)))
			return err;
		if (env->log.level >= 2) {
			verbose(env, "%d:", idx);
			print_state(env, cur_frame(env), true);
		}
		print_line_info(env, idx);
		print_insn(env, idx);
		size_t after_insn = vlog_pos(&env->log);
		env->scratched_regs = 0;
		env->scratched_slots = 0;

		env->aux[idx].visited = 1;
		if ((err = check_fields(env, idx)))
			return err;
		enum bpf_op op = env->ops[idx];
		const struct bpf_opinfo *info = &isa_ops[op];
		bool path_done = false;
		switch (info->fmt) {
		case FMT_ALU_IMM:
		case FMT_ALU_REG:
		case FMT_NEG:
		case FMT_END:
			err = check_alu(env, idx);
			break;
		case FMT_JA:
		case FMT_JA32:
			next = (int)isa_target(&env->insns[idx], (size_t)idx, op);
			env->jmps_processed++;
			break;
		case FMT_JMP_IMM:
		case FMT_JMP_REG:
		case FMT_MAY_GOTO:
			next = idx;
			err = check_cond_jmp(env, &next);
			if (err == 1) {
				err = 0;
				path_done = true;
			}
			break;
		case FMT_CALL:
			err = check_helper_call(env, idx);
			env->jmps_processed++;
			break;
		case FMT_CALL_LOCAL:
			err = check_subprog_call(env, idx, &next);
			env->jmps_processed++;
			break;
		case FMT_CALL_KFUNC:
			err = check_kfunc_call(env, idx);
			env->jmps_processed++;
			break;
		case FMT_EXIT:
			err = check_exit(env, &next, &path_done);
			env->jmps_processed++;
			break;
		case FMT_LDDW:
			err = check_ld_imm64(env, idx);
			env->aux[idx + 1].visited = 1;
			next = idx + 2;
			break;
		case FMT_LDABS:
		case FMT_LDIND:
			err = check_ld_abs(env, idx);
			break;
		case FMT_LDX:
		case FMT_ST:
		case FMT_STX:
		case FMT_LOAD_ACQ:
		case FMT_STORE_REL:
			err = check_load_store(env, idx);
			break;
		case FMT_ATOMIC:
			err = check_atomic(env, idx);
			break;
		default:
			verbose(env, "unknown opcode %02x\n", env->insns[idx].code);
			err = -EINVAL;
			break;
		}
		if (err)
			return err;
		if (env->log.level && vlog_pos(&env->log) == after_insn &&
		    (env->scratched_regs || env->scratched_slots) && !path_done) {
			vlog_reset(&env->log, after_insn - 1);
			verbose(env, "\t;");
			print_state(env, cur_frame(env), false);
		}
		if (path_done) {
			if (pop_path(env))
				return 0;
			continue;
		}
		env->prev_insn_idx = idx;
		env->insn_idx = next;
	}
}

static void free_paths(struct venv *env)
{
	while (env->head) {
		struct vstack_elem *e = env->head;
		env->head = e->next;
		state_free(e->st);
		free(e);
	}
	state_free(env->cur);
	env->cur = NULL;
	state_pool_free(env);
	while (env->elem_pool) {
		struct vstack_elem *e = env->elem_pool;
		env->elem_pool = e->next;
		free(e);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The code bpfvm runs, after a verification: as the kernel's
 * sanitize_dead_code(), each slot of an accepted program that no path
 * reached becomes `ja -1`, so neither the interpreter nor the JIT meets an
 * instruction the verifier did not check; the others run their own
 * instruction.  A refused program gets back what bpfvm_prog_from_insns()
 * built: its own instructions, traps (OP_INVALID) for malformed ones.  Only
 * op and off change (imm keeps lddw's map, dst and src stay). */
static void patch_code(struct venv *env, bool accepted)
{
	struct vm_insn *code = env->prog->code;
	for (size_t pc = 0; pc < env->insn_cnt; pc++) {
		const struct bpf_insn *in = &env->insns[pc];
		enum bpf_op op = env->ops[pc];
		uint8_t fmt = isa_ops[op].fmt;
		if (accepted ? !env->aux[pc].visited : (env->isa_flags[pc] & ISA_UNDECODED) != 0) {
			code[pc].op = accepted ? OP_JA : OP_INVALID;
			code[pc].off = accepted ? -1 : 0;
			continue;
		}
		code[pc].op = (uint16_t)(!accepted && (env->isa_flags[pc] & ISA_MALFORMED) ? OP_INVALID
											   : op);
		code[pc].off = op != OP_INVALID && (fmt == FMT_JA32 || fmt == FMT_CALL_LOCAL) ? in->imm
											     : in->off;
	}
}

static int verify(struct venv *env)
{
	char err[256];
	size_t err_pc;
	int ret;
	env->ops = malloc(env->insn_cnt * sizeof(*env->ops));
	env->isa_flags = malloc(env->insn_cnt);
	env->aux = calloc(env->insn_cnt, sizeof(*env->aux));
	env->explored = calloc(env->insn_cnt + 1, sizeof(*env->explored));
	env->map_cap = (int)env->prog->map_cnt * 2 + 4;
	env->maps = calloc((size_t)env->map_cap, sizeof(*env->maps));
	if (!env->ops || !env->isa_flags || !env->aux || !env->explored || !env->maps)
		return -ENOMEM;
	ret = isa_validate_early(env->insns, env->insn_cnt, env->ops, env->isa_flags, &err_pc, err,
				 sizeof(err));
	if (ret) {
		if (ret == -EINVAL)
			verbose(env, "%s\n", err);
		return ret;
	}
	env->structure_ok = true;
	for (size_t i = 0; i < env->prog->map_cnt; i++)
		env_map_for(env, env->prog->maps[i]);
	ret = cfg_check(env);
	if (ret)
		return ret;
	/* the entry state */
	env->cur = state_new();
	if (!env->cur)
		return -ENOMEM;
	env->cur->frame[0] = frame_new(0, -1, 0);
	if (!env->cur->frame[0])
		return -ENOMEM;
	env->prev_insn_idx = -1;
	env->cur_hist = -1;
	struct vreg *r1 = &env->cur->frame[0]->regs[1];
	reg_mark_known(r1, 0);
	r1->type = PTR_TO_CTX;
	if (env->log.level) {
		verbose(env, "0:");
		print_state(env, env->cur->frame[0], true);
	}
	ret = do_check(env);
	if (ret)
		return ret;
	return cfg_check_stack_depth(env);
}

BPFVM_API int bpfvm_prog_verify(struct bpfvm_prog *prog, const struct bpfvm_verify_opts *opts)
{
	struct venv env;
	memset(&env, 0, sizeof(env));
	if (!prog)
		return -EINVAL;
	unsigned level = opts ? opts->log_level : 0;
	char *buf = opts ? opts->log_buf : NULL;
	size_t size = opts ? opts->log_size : 0;
	if (level > 2 || (level && (!buf || size < 128)) || (!level && (buf || size)))
		return -EINVAL;
	uint64_t t0 = now_ns();
	env.prog = prog;
	env.insns = prog->insns;
	env.code = prog->code;
	env.insn_cnt = prog->insn_cnt;
	env.prog_type = prog->type;
	env.attach_type = prog->expected_attach_type;
	vlog_init(&env.log, level, buf, size);
	prog->verified = false;

	int ret = env.insn_cnt ? verify(&env) : -EINVAL;
	int error_insn = ret ? env.insn_idx : -1;
	if (!ret && level == 1)
		vlog_reset(&env.log, 0);	/* a safe program's paths are not shown */
	if (level)
		verbose(&env, "processed %llu insns (limit %u) max_states_per_insn %u total_states %u peak_states %u mark_read %u\n",
			(unsigned long long)env.insn_processed, V_INSN_LIMIT, env.max_states_per_insn,
			env.total_states, env.peak_states, env.mark_read);
	size_t true_len = 0;
	bool cut = vlog_finish(&env.log, &true_len);
	if (env.log.oom && !ret)
		ret = -ENOMEM;
	if (!ret && cut)
		ret = -ENOSPC;
	/* as the kernel's bpf_check_tail_call() at load: every PROG_ARRAY
	 * the program references is bound to its type, and one bound to
	 * another type refuses it (-EINVAL, after a clean verifier log) —
	 * or a tail call would hand this program's context to a program
	 * verified for another one (found by tests/vkdiff) */
	for (size_t i = 0; !ret && i < prog->map_cnt; i++)
		if (prog->maps[i] && map_prog_array_bind(prog->maps[i], prog->type))
			ret = -EINVAL;
	if (env.structure_ok)
		patch_code(&env, ret == 0);
	if (!ret)
		prog->verified = true;
	if (opts && opts->sz >= offsetof(struct bpfvm_verify_opts, stats) + sizeof(void *) &&
	    opts->stats) {
		struct bpfvm_verify_stats *s = opts->stats;
		s->log_true_size = true_len;
		s->insn_processed = env.insn_processed;
		s->total_states = env.total_states;
		s->peak_states = env.peak_states;
		s->max_states_per_insn = env.max_states_per_insn;
		s->duration_ns = now_ns() - t0;
		s->error_insn = error_insn;
	}
	free_paths(&env);
	prune_free_all(&env);
	vlog_free(&env.log);
	free(env.ops);
	free(env.isa_flags);
	free(env.aux);
	free(env.maps);
	return ret;
}

BPFVM_API int bpfvm_prog_is_verified(const struct bpfvm_prog *prog)
{
	return prog && prog->verified;
}
