/* cfg.c — the program's shape, before any path is walked.
 *
 * Splits the program into subprograms (targets of `call local` and of
 * `lddw func`), checks that jumps stay inside their subprogram and that each
 * subprogram ends in an exit or a jump, finds instructions no path reaches
 * (the kernel refuses them), marks the prune points (jump targets, branch
 * fall-throughs, calls), computes which registers are live before each
 * instruction (a backward data-flow pass; pruning ignores dead registers),
 * and, after the walk, checks the combined stack of every call chain.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/verifier_int.h"

static int add_subprog(struct venv *env, int start)
{
	for (int i = 0; i < env->subprog_cnt; i++)
		if (env->subprogs[i].start == start)
			return 0;
	if (env->subprog_cnt >= V_MAX_SUBPROGS) {
		verbose(env, "too many subprograms\n");
		return -E2BIG;
	}
	env->subprogs[env->subprog_cnt++].start = start;
	return 0;
}

static int cmp_subprog(const void *a, const void *b)
{
	const struct vsubprog *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

int cfg_subprog_of(const struct venv *env, int insn_idx)
{
	int lo = 0, hi = env->subprog_cnt - 1;
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (env->subprogs[mid].start <= insn_idx)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static bool is_cond_jmp(enum bpf_op op)
{
	return isa_is_jump(op) && op != OP_JA && op != OP_JA32;
}

static int find_subprogs(struct venv *env)
{
	int cnt = (int)env->insn_cnt;
	env->subprog_cnt = 0;
	int err = add_subprog(env, 0);
	for (int i = 0; i < cnt && !err; i++) {
		enum bpf_op op = env->ops[i];
		if (op == OP_CALL_LOCAL || op == OP_LDDW_FUNC) {
			long t = isa_target(&env->insns[i], (size_t)i, op);
			if (t < 0 || t >= cnt) {
				verbose(env, op == OP_CALL_LOCAL ? "call to invalid destination\n"
								 : "invalid func target\n");
				return -EINVAL;
			}
			err = add_subprog(env, (int)t);
		}
	}
	if (err)
		return err;
	qsort(env->subprogs, (size_t)env->subprog_cnt, sizeof(env->subprogs[0]), cmp_subprog);
	for (int i = 0; i < env->subprog_cnt; i++)
		env->subprogs[i].end = i + 1 < env->subprog_cnt ? env->subprogs[i + 1].start : cnt;
	env->subprogs[env->subprog_cnt].start = cnt;
	/* jumps stay inside; the last instruction leaves */
	for (int s = 0; s < env->subprog_cnt; s++) {
		struct vsubprog *sp = &env->subprogs[s];
		for (int i = sp->start; i < sp->end; i++) {
			enum bpf_op op = env->ops[i];
			env->aux[i].subprog = s;
			if (op == OP_INVALID)
				continue;
			if (op == OP_LDABS_B || op == OP_LDABS_H || op == OP_LDABS_W ||
			    op == OP_LDIND_B || op == OP_LDIND_H || op == OP_LDIND_W)
				sp->has_ld_abs = true;
			if (op == OP_CALL && env->insns[i].imm == 12)
				sp->has_tail_call = true;
			if (!isa_is_jump(op))
				continue;
			long t = isa_target(&env->insns[i], (size_t)i, op);
			if (t < sp->start || t >= sp->end) {
				verbose(env, "jump out of range from insn %d to %ld\n", i, t);
				return -EINVAL;
			}
		}
		int last = sp->end - 1;
		enum bpf_op lop = env->ops[last];
		if (lop == OP_INVALID && last > sp->start)
			lop = env->ops[last - 1] == OP_LDDW ? OP_LDDW : OP_INVALID;
		if (lop != OP_EXIT && lop != OP_JA && lop != OP_JA32) {
			verbose(env, "last insn is not an exit or jmp\n");
			return -EINVAL;
		}
	}
	return 0;
}

static void mark_prune(struct venv *env, long t)
{
	if (t >= 0 && (size_t)t < env->insn_cnt)
		env->aux[t].prune_point = 1;
}

/* depth-first walk from insn 0 over jumps, fall-throughs and calls:
 * every instruction must be reached */
static int walk(struct venv *env)
{
	int cnt = (int)env->insn_cnt;
	int *stack = malloc((size_t)cnt * 2 * sizeof(int));
	if (!stack)
		return -ENOMEM;
	int sp = 0;
	stack[sp++] = 0;
	env->aux[0].seen = 1;
#define PUSH(t)                                                                 \
	do {                                                                    \
		long t_ = (t);                                                  \
		if (t_ >= 0 && t_ < cnt && !env->aux[t_].seen) {                \
			env->aux[t_].seen = 1;                                  \
			stack[sp++] = (int)t_;                                  \
		}                                                               \
	} while (0)
	while (sp) {
		int i = stack[--sp];
		enum bpf_op op = env->ops[i];
		const struct bpf_insn *in = &env->insns[i];
		if (op == OP_EXIT)
			continue;
		if (op == OP_JA || op == OP_JA32) {
			long t = isa_target(in, (size_t)i, op);
			mark_prune(env, t);
			PUSH(t);
			continue;
		}
		if (is_cond_jmp(op) || op == OP_MAY_GOTO) {
			long t = isa_target(in, (size_t)i, op);
			mark_prune(env, t);
			mark_prune(env, i + 1);
			if (op == OP_MAY_GOTO) {
				env->aux[i].prune_point = 1;
				env->aux[i].force_checkpoint = 1;
			}
			PUSH(t);
			PUSH(i + 1);
			continue;
		}
		if (op == OP_CALL_LOCAL) {
			long t = isa_target(in, (size_t)i, op);
			mark_prune(env, i);
			mark_prune(env, t);
			mark_prune(env, i + 1);
			PUSH(t);
			PUSH(i + 1);
			continue;
		}
		if (op == OP_CALL || op == OP_CALL_KFUNC || op == OP_CALLX) {
			mark_prune(env, i);
			mark_prune(env, i + 1);
			if (op == OP_CALL && (in->imm == 181 || in->imm == 164))
				env->aux[i].force_checkpoint = env->aux[i].calls_cb = 1;
			if (op == OP_CALL_KFUNC && in->imm > 0) {
				const struct helper_proto *k = kfunc_by_id((uint32_t)in->imm);
				if (k && !strcmp(k->name, "bpf_iter_num_next"))
					env->aux[i].force_checkpoint = env->aux[i].iter_next = 1;
			}
			PUSH(i + 1);
			continue;
		}
		if (op == OP_LDDW_FUNC) {
			long t = isa_target(in, (size_t)i, op);
			mark_prune(env, t);
			PUSH(t);
		}
		if (op == OP_LDDW || op == OP_LDDW_MAP_FD || op == OP_LDDW_MAP_VALUE ||
		    op == OP_LDDW_MAP_IDX || op == OP_LDDW_MAP_IDX_VALUE || op == OP_LDDW_BTF_ID ||
		    op == OP_LDDW_FUNC) {
			if (i + 1 < cnt)
				env->aux[i + 1].seen = 1;
			PUSH(i + 2);
			continue;
		}
		PUSH(i + 1);
	}
#undef PUSH
	free(stack);
	for (int i = 0; i < cnt; i++) {
		if (!env->aux[i].seen) {
			verbose(env, "unreachable insn %d\n", i);
			return -EINVAL;
		}
	}
	return 0;
}

int cfg_check(struct venv *env)
{
	int err = find_subprogs(env);
	if (err)
		return err;
	err = walk(env);
	if (err)
		return err;
	cfg_compute_live_regs(env);
	return 0;
}

/* ------------------------------------------------------------- liveness -- */

/* the argument registers a helper or kfunc reads: those its prototype
 * declares (as the kernel's liveness), r1..r5 when it has none */
static uint16_t call_args(enum bpf_op op, const struct bpf_insn *in)
{
	const struct helper_proto *p = NULL;
	if (op == OP_CALL && in->imm >= 0)
		p = helper_proto((uint32_t)in->imm);
	else if (op == OP_CALL_KFUNC && in->imm > 0)
		p = kfunc_by_id((uint32_t)in->imm);
	if (!p)
		return 0x3e;
	uint16_t use = 0;
	for (int i = 0; i < 5; i++) {
		if (p->arg[i] == ARG_UNKNOWN)
			return 0x3e;
		if (p->arg[i] != ARG_NONE)
			use |= (uint16_t)(1u << (i + 1));
	}
	return use;
}

/* registers an instruction reads (use) and writes (def) */
static void use_def(const struct venv *env, int i, uint16_t *use, uint16_t *def)
{
	enum bpf_op op = env->ops[i];
	const struct bpf_insn *in = &env->insns[i];
	const struct bpf_opinfo *info = &isa_ops[op];
	uint16_t d = (uint16_t)(1u << in->dst_reg), s = (uint16_t)(1u << in->src_reg);
	*use = *def = 0;
	switch (info->fmt) {
	case FMT_ALU_IMM:
		if (op == OP_MOV64_IMM || op == OP_MOV32_IMM) {
			*def = d;
		} else {
			*use = d;
			*def = d;
		}
		break;
	case FMT_ALU_REG:
		if (op == OP_MOV64_REG || op == OP_MOV32_REG || op == OP_MOVSX8_64 ||
		    op == OP_MOVSX16_64 || op == OP_MOVSX32_64 || op == OP_MOVSX8_32 ||
		    op == OP_MOVSX16_32) {
			*use = s;
		} else {
			*use = d | s;
		}
		*def = d;
		break;
	case FMT_NEG:
	case FMT_END:
		*use = *def = d;
		break;
	case FMT_JMP_IMM:
		*use = d;
		break;
	case FMT_JMP_REG:
		*use = d | s;
		break;
	case FMT_CALL:
	case FMT_CALL_KFUNC:
		*use = call_args(op, in);
		*def = 0x3f;
		break;
	case FMT_CALL_LOCAL:
		*use = 0x3e;	/* r1..r5: conservative */
		*def = 0x3f;
		break;
	case FMT_CALLX:
		*use = 0x3e | d;
		*def = 0x3f;
		break;
	case FMT_EXIT:
		*use = 1;	/* r0; callee-saved regs of callers: see prune.c */
		break;
	case FMT_LDDW:
		*def = d;
		break;
	case FMT_LDABS:
		*use = 1u << 6;
		*def = 0x3f;
		break;
	case FMT_LDIND:
		*use = (uint16_t)((1u << 6) | s);
		*def = 0x3f;
		break;
	case FMT_LDX:
	case FMT_LOAD_ACQ:
		*use = s;
		*def = d;
		break;
	case FMT_ST:
		*use = d;
		break;
	case FMT_STX:
	case FMT_STORE_REL:
		*use = d | s;
		break;
	case FMT_ATOMIC:
		*use = d | s;
		if (in->imm == 0xf1) { /* cmpxchg: reads r0, writes r0 */
			*use |= 1;
			*def = 1;
		} else if (in->imm & 1) {
			*def = s;
		}
		break;
	default:
		break;
	}
	*use &= 0x7ff;
	*def &= 0x3ff;	/* r10 is never dead */
}

void cfg_compute_live_regs(struct venv *env)
{
	int cnt = (int)env->insn_cnt;
	for (int i = 0; i < cnt; i++)
		env->aux[i].live_regs = 0;
	bool changed = true;
	while (changed) {
		changed = false;
		for (int i = cnt - 1; i >= 0; i--) {
			enum bpf_op op = env->ops[i];
			if (op == OP_INVALID)
				continue;
			uint16_t use, def, out = 0;
			use_def(env, i, &use, &def);
			const struct bpf_insn *in = &env->insns[i];
			int next = (op >= OP_LDDW && op <= OP_LDDW_MAP_IDX_VALUE) ? i + 2 : i + 1;
			if (op == OP_EXIT) {
				out = 0;
			} else if (op == OP_JA || op == OP_JA32) {
				long t = isa_target(in, (size_t)i, op);
				out = env->aux[t].live_regs;
			} else if (is_cond_jmp(op) || op == OP_MAY_GOTO) {
				long t = isa_target(in, (size_t)i, op);
				out = env->aux[t].live_regs;
				if (next < cnt)
					out |= env->aux[next].live_regs;
			} else if (next < cnt) {
				out = env->aux[next].live_regs;
			}
			uint16_t live = (uint16_t)(use | (out & ~def) | (1u << 10));
			if (live != env->aux[i].live_regs) {
				env->aux[i].live_regs = live;
				changed = true;
			}
		}
	}
}

/* ---------------------------------------------------------- stack depth -- */

static int round_depth(int d)
{
	return (d + 15) & ~15;	/* JIT rounding: 16 bytes */
}

/* deepest combined stack of the call chains starting in subprogram s */
static int chain_depth(struct venv *env, int s, int depth_frames, int *frames_out)
{
	struct vsubprog *sp = &env->subprogs[s];
	int own = round_depth(sp->stack_depth);
	int best = 0, best_frames = 0;
	if (depth_frames > V_MAX_FRAMES) {
		*frames_out = depth_frames;
		return own;
	}
	for (int i = sp->start; i < sp->end; i++) {
		if (env->ops[i] != OP_CALL_LOCAL)
			continue;
		long t = isa_target(&env->insns[i], (size_t)i, OP_CALL_LOCAL);
		int c = cfg_subprog_of(env, (int)t), fr = 0;
		if (c == s)
			continue;
		int d = chain_depth(env, c, depth_frames + 1, &fr);
		if (d > best)
			best = d;
		if (fr > best_frames)
			best_frames = fr;
	}
	*frames_out = best_frames > depth_frames ? best_frames : depth_frames;
	return own + best;
}

int cfg_check_stack_depth(struct venv *env)
{
	for (int s = 0; s < env->subprog_cnt; s++) {
		if (s != 0 && !env->subprogs[s].is_cb)
			continue;
		int frames = 0;
		int d = chain_depth(env, s, 1, &frames);
		if (frames > V_MAX_FRAMES) {
			verbose(env, "the call stack of %d frames is too deep !\n", frames);
			return -E2BIG;
		}
		if (d > V_STACK_MAX) {
			verbose(env, "combined stack size of %d calls is %d. Too large\n", frames, d);
			return -EACCES;
		}
	}
	return 0;
}
