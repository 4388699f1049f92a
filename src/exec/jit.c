/* jit.c — the JIT's arch-neutral glue: public API, lazy compilation, code
 * memory, the block plan, and the C half of the native code's slow paths.
 *
 * A program is compiled at most once (bpfvm_prog_jit(), or the first run in
 * BPFVM_EXEC_JIT mode); threads racing to compile wait for the winner.  A
 * compile that fails is not tried again: its errno and message are kept and
 * every later request gets them at once (a tail call into a program the JIT
 * refuses runs it in the interpreter without recompiling it each time).  Code
 * lives in memory that is writable while it is filled and executable (never
 * both) afterwards.  The runtime functions below are what native code calls
 * when something unusual happens; they produce exactly the checked
 * interpreter's faults and messages.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "exec/jit.h"

enum { JIT_NONE = 0, JIT_BUSY = 1, JIT_DONE = 2, JIT_FAILED = 3 };

static atomic_int jit_harden;			/* bpfvm_jit_set_harden() */
_Atomic unsigned long jit_compile_cnt;		/* exec/jit.h */

static void jlog(char *log, size_t log_sz, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
static void jlog(char *log, size_t log_sz, const char *fmt, ...)
{
	if (!log || !log_sz)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(log, log_sz, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ plan */

/* the register an access's address is based on */
static unsigned int access_base(const struct vm_insn *in)
{
	uint8_t fmt = isa_ops[in->op].fmt;
	return fmt == FMT_LDX || fmt == FMT_LOAD_ACQ ? in->src : in->dst;
}

bool jit_access_static_ok(const struct vm_insn *in)
{
	/* r10 is always stack + VM_STACK_TOTAL - depth * BPFVM_STACK_SIZE with
	 * depth < BPFVM_MAX_CALL_FRAMES, and the stack is 16-byte aligned: an
	 * access inside [r10 - BPFVM_STACK_SIZE, r10) is in bounds at any depth,
	 * and aligned exactly when its offset is */
	uint8_t fmt = isa_ops[in->op].fmt;
	int64_t size = isa_access_size((enum bpf_op)in->op), off = in->off;
	if (access_base(in) != BPF_REG_10 || off < -BPFVM_STACK_SIZE || off + size > 0)
		return false;
	if ((fmt == FMT_ATOMIC || fmt == FMT_LOAD_ACQ || fmt == FMT_STORE_REL) && off % size)
		return false;
	return true;
}

/* does a basic block end after this instruction? */
static bool ends_block(const struct vm_insn *in, bool checked)
{
	switch (isa_ops[in->op].fmt) {
	case FMT_JA: case FMT_JA32: case FMT_JMP_IMM: case FMT_JMP_REG: case FMT_MAY_GOTO:
	case FMT_CALL: case FMT_CALL_LOCAL: case FMT_CALL_KFUNC: case FMT_CALLX: case FMT_EXIT:
	case FMT_LDABS: case FMT_LDIND:
		return true;
	case FMT_LDX: case FMT_ST: case FMT_STX: case FMT_ATOMIC:
	case FMT_LOAD_ACQ: case FMT_STORE_REL:
		/* checked code: an access that may fault, or that changes memory
		 * the caller can see, is the last thing its block does, so a block
		 * charged in advance never skips an effect the interpreter has */
		return checked && !jit_access_static_ok(in);
	default:
		return false;
	}
}

static void plan_free(struct jit_plan *plan)
{
	free(plan->leader);
	free(plan->block_cnt);
	free(plan->charge);
	free(plan->live_after);
}

#define REGS_ARGS 0x3eu		/* r1..r5 */
#define REGS_ALL 0x7ffu		/* r0..r10 */

/* Registers instruction `in` reads (returned) and surely writes (*def).
 * `subprogs`: the program has functions, so an exit may return r1..r5 to a
 * caller that reads them. */
static uint16_t uses(const struct vm_insn *in, bool subprogs, uint16_t *def)
{
	const struct bpf_opinfo *r = &isa_ops[in->op];
	uint16_t d = (uint16_t)(1u << in->dst), s = (uint16_t)(1u << in->src);
	bool mov = BPF_OP(r->code) == BPF_MOV;
	*def = 0;
	switch (r->fmt) {
	case FMT_ALU_IMM: *def = d; return mov ? 0 : d;
	case FMT_ALU_REG: *def = d; return mov ? s : d | s;
	case FMT_NEG: case FMT_END: *def = d; return d;
	case FMT_JMP_IMM: return d;
	case FMT_JMP_REG: return d | s;
	case FMT_CALL: case FMT_CALL_KFUNC: *def = 1; return REGS_ARGS;
	case FMT_CALL_LOCAL: case FMT_CALLX: return REGS_ALL; /* the callee sees everything */
	case FMT_EXIT: return subprogs ? 1 | REGS_ARGS : 1;
	case FMT_LDDW: *def = d; return 0;
	case FMT_LDABS: *def = 1; return 0;
	case FMT_LDIND: *def = 1; return s;
	case FMT_LDX: case FMT_LOAD_ACQ: *def = d; return s;
	case FMT_ST: return d;
	case FMT_STX: case FMT_STORE_REL: return d | s;
	case FMT_ATOMIC:
		if ((int32_t)in->imm == BPF_CMPXCHG) {
			*def = 1;
			return 1 | d | s;
		}
		*def = (in->imm & BPF_FETCH) ? s : 0;
		return d | s;
	default: /* ja, may_goto; lddw's second half (callx only: faults) */
		return 0;
	}
}

/* Backward liveness over the whole program, iterated to a fixed point; for
 * each helper call, which of r1..r5 may be read afterwards.  Returns 0 or
 * -ENOMEM. */
static int plan_liveness(const struct bpfvm_prog *prog, struct jit_plan *plan)
{
	size_t cnt = prog->insn_cnt;
	const struct vm_insn *code = prog->code;
	uint16_t *live_in = calloc(cnt, sizeof(*live_in));
	plan->live_after = calloc(cnt, 1);
	if (!live_in || !plan->live_after) {
		free(live_in);
		return -ENOMEM;
	}
	bool subprogs = false;
	for (size_t pc = 0; pc < cnt; pc++) {
		uint8_t fmt = isa_ops[code[pc].op].fmt;
		subprogs |= fmt == FMT_CALL_LOCAL || fmt == FMT_CALLX || code[pc].op == OP_LDDW_FUNC;
	}
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t pc = cnt; pc-- > 0;) {
			const struct vm_insn *in = &code[pc];
			if (in->op == OP_INVALID)
				continue;
			uint8_t fmt = isa_ops[in->op].fmt;
			size_t next = pc + (fmt == FMT_LDDW ? 2 : 1);
			uint16_t out = 0, def;
			if (fmt != FMT_JA && fmt != FMT_JA32 && fmt != FMT_EXIT && next < cnt)
				out |= live_in[next];
			if (isa_is_jump((enum bpf_op)in->op))
				out |= live_in[(size_t)((long)pc + 1 + in->off)];
			if ((fmt == FMT_CALL || fmt == FMT_CALLX) && subprogs)
				out |= REGS_ARGS; /* a tail call leaves the function at once */
			uint16_t in_set = uses(in, subprogs, &def) | (uint16_t)(out & ~def);
			if (fmt == FMT_CALL || fmt == FMT_CALL_KFUNC || fmt == FMT_CALLX)
				plan->live_after[pc] = (uint8_t)(out & REGS_ARGS);
			if (in_set != live_in[pc]) {
				live_in[pc] = in_set;
				changed = true;
			}
		}
	}
	free(live_in);
	return 0;
}

/* Find the basic blocks of prog: leaders are instruction 0, every jump,
 * call and function target, and every instruction after one that ends a
 * block.  Each block counts its instructions (an lddw is one); charge[pc] is
 * what entering at pc (through callx) costs: the rest of pc's block.
 * Returns 0 or -ENOMEM. */
static int plan_build(const struct bpfvm_prog *prog, bool checked, bool blind,
		      struct jit_plan *plan)
{
	size_t cnt = prog->insn_cnt;
	const struct vm_insn *code = prog->code;
	plan->checked = checked;
	plan->blind = blind;
	plan->live_after = NULL;
	plan->leader = calloc(cnt, 1);
	plan->block_cnt = calloc(cnt, sizeof(uint32_t));
	plan->charge = calloc(cnt, sizeof(uint32_t));
	if (!plan->leader || !plan->block_cnt || !plan->charge) {
		plan_free(plan);
		return -ENOMEM;
	}
	plan->leader[0] = 1;
	for (size_t pc = 0; pc < cnt; pc++) {
		const struct vm_insn *in = &code[pc];
		if (in->op == OP_INVALID)
			continue;
		uint8_t fmt = isa_ops[in->op].fmt;
		long target = -1;
		if (isa_is_jump((enum bpf_op)in->op) || fmt == FMT_CALL_LOCAL)
			target = (long)pc + 1 + in->off;
		else if (in->op == OP_LDDW_FUNC)
			target = (const struct vm_insn *)(uintptr_t)in->imm - code;
		if (target >= 0 && (size_t)target < cnt)
			plan->leader[target] = 1;
		if (ends_block(in, checked) && pc + 1 < cnt)
			plan->leader[pc + 1] = 1;
	}
	/* backwards: tail[pc] = instructions counted from pc to its block's end */
	for (size_t i = cnt; i-- > 0;) {
		if (code[i].op == OP_INVALID) {
			plan->charge[i] = 1; /* reached only through callx, then faults */
			continue;
		}
		size_t next = i + (isa_ops[code[i].op].fmt == FMT_LDDW ? 2 : 1);
		uint32_t rest = next < cnt && !plan->leader[next] ? plan->block_cnt[next] : 0;
		plan->block_cnt[i] = 1 + rest;
		plan->charge[i] = plan->leader[i] ? 0 : plan->block_cnt[i];
	}
	if (plan_liveness(prog, plan)) {
		plan_free(plan);
		return -ENOMEM;
	}
	return 0;
}

/* ---------------------------------------------------------- code memory */

/* Compile prog (its constants blinded when `blind`): plan, back end, then
 * copy into fresh memory that becomes read+execute only once filled.
 * Publishes prog->jit* on success. */
static int jit_compile(struct bpfvm_prog *prog, bool blind, char *log, size_t log_sz)
{
	struct jit_plan plan;
	struct jit_code out = { 0 };
	bool checked = !prog->verified;
	atomic_fetch_add_explicit(&jit_compile_cnt, 1, memory_order_relaxed);
	int err = plan_build(prog, checked, blind, &plan);
	if (err) {
		jlog(log, log_sz, "JIT: out of memory");
		return err;
	}
	err = jit_arch_compile(prog, &plan, &out, log, log_sz);
	if (err) {
		plan_free(&plan);
		return err;
	}
	long page = sysconf(_SC_PAGESIZE);
	size_t sz = (out.len + (size_t)page - 1) & ~((size_t)page - 1);
	struct jit_aux *aux = malloc(sizeof(*aux));
	void *mem = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || !aux) {
		if (mem != MAP_FAILED)
			munmap(mem, sz);
		free(aux);
		free(out.buf);
		free(out.insn_off);
		free(out.code_off);
		plan_free(&plan);
		jlog(log, log_sz, "JIT: out of memory for %zu bytes of code", out.len);
		return -ENOMEM;
	}
	memcpy(mem, out.buf, out.len);
	free(out.buf);
	if (mprotect(mem, sz, PROT_READ | PROT_EXEC)) {
		err = -errno;
		munmap(mem, sz);
		free(aux);
		free(out.insn_off);
		free(out.code_off);
		plan_free(&plan);
		jlog(log, log_sz, "JIT: cannot make code executable: %s", strerror(-err));
		return err;
	}
	aux->insn_off = out.insn_off;
	aux->code_off = out.code_off;
	aux->code_sz = out.len;
	aux->callin_off = out.callin_off;
	aux->charge = plan.charge;
	plan.charge = NULL;
	plan_free(&plan);
	prog->jit = mem;
	prog->jit_sz = sz;
	prog->jit_aux = aux;
	prog->jit_checked = checked;
	prog->jit_blinded = blind;
	prog->jit_entry = (uint64_t (*)(uint64_t, uint64_t, struct bpfvm_run *))(uintptr_t)mem;
	return 0;
}

/* The failed compile's errno, with its message in log. */
static int failed(const struct bpfvm_prog *prog, char *log, size_t log_sz)
{
	if (prog->jit_msg)
		jlog(log, log_sz, "%s", prog->jit_msg);
	else
		jlog(log, log_sz, "JIT: %s", strerror(-prog->jit_err));
	return prog->jit_err;
}

/* jit_prog_ensure() with constant blinding: 1 asks for it (-EBUSY when the
 * program already has code without it), -1 takes bpfvm_jit_set_harden()'s
 * setting for a compile now and any code there is. */
static int prog_ensure(struct bpfvm_prog *prog, int blind, char *log, size_t log_sz)
{
	for (;;) {
		int st = atomic_load_explicit(&prog->jit_state, memory_order_acquire);
		if (st == JIT_DONE) {
			if (blind > 0 && !prog->jit_blinded) {
				jlog(log, log_sz, "JIT: the program was compiled without constant blinding");
				return -EBUSY;
			}
			return 0;
		}
		if (st == JIT_FAILED)
			return failed(prog, log, log_sz);
		if (st == JIT_NONE &&
		    atomic_compare_exchange_strong(&prog->jit_state, &st, JIT_BUSY)) {
			bool b = blind > 0 || atomic_load_explicit(&jit_harden, memory_order_relaxed);
			char msg[256] = "";
			int ret = jit_compile(prog, b, msg, sizeof(msg));
			if (ret == -ENOMEM) { /* passing: a later call may try again */
				jlog(log, log_sz, "%s", msg[0] ? msg : "JIT: out of memory");
				atomic_store_explicit(&prog->jit_state, JIT_NONE, memory_order_release);
				return ret;
			}
			if (ret) {
				free(prog->jit_msg);
				prog->jit_err = ret;
				prog->jit_msg = msg[0] ? strdup(msg) : NULL;
			}
			atomic_store_explicit(&prog->jit_state, ret ? JIT_FAILED : JIT_DONE,
					      memory_order_release);
			return ret ? failed(prog, log, log_sz) : 0;
		}
		sched_yield(); /* another thread is compiling it */
	}
}

int jit_prog_ensure(struct bpfvm_prog *prog, char *err, size_t err_sz)
{
	return prog_ensure(prog, -1, err, err_sz);
}

bool jit_prog_ready(const struct bpfvm_prog *prog)
{
	return atomic_load_explicit(&((struct bpfvm_prog *)prog)->jit_state,
				    memory_order_acquire) == JIT_DONE;
}

void jit_prog_free(struct bpfvm_prog *prog)
{
	if (prog->jit)
		munmap(prog->jit, prog->jit_sz);
	if (prog->jit_aux) {
		free(prog->jit_aux->insn_off);
		free(prog->jit_aux->code_off);
		free(prog->jit_aux->charge);
		free(prog->jit_aux);
	}
	free(prog->jit_msg);
	prog->jit = NULL;
	prog->jit_aux = NULL;
	prog->jit_entry = NULL;
	prog->jit_msg = NULL;
}

bool jit_can_enter(struct bpfvm_run *run, const struct bpfvm_prog *prog)
{
	/* a tail call's target may be compiled here for the first time (the
	 * kernel would have compiled it when it was loaded) */
	if (!jit_prog_ready(prog) && jit_prog_ensure((struct bpfvm_prog *)prog, NULL, 0))
		return false;
	return prog->jit_checked == run->checked;
}

uint64_t jit_exec_at(struct bpfvm_run *run, const struct bpfvm_prog *prog, size_t pc,
		     const uint64_t args[5], uint64_t fp)
{
	const struct jit_aux *aux = prog->jit_aux;
	/* not a block's start (a helper given a pointer into a function):
	 * the rest of the block, charged by the native code */
	uint32_t charge = prog->jit_checked ? aux->charge[pc] : 0;
	if (run->budget < charge) {
		jit_rt_fault_budget(run, pc, run->budget);
		return 0;
	}
	jit_callin_fn callin = (jit_callin_fn)(uintptr_t)((uint8_t *)prog->jit + aux->callin_off);
	/* last: a sibling call, no C frame of its own under the callee */
	return callin(args, fp, run, (uint64_t)(uintptr_t)prog->jit + aux->insn_off[pc], charge);
}

BPFVM_API int bpfvm_prog_jit(struct bpfvm_prog *prog, char *log, size_t log_sz)
{
	if (!prog)
		return -EINVAL;
	return jit_prog_ensure(prog, log, log_sz);
}

BPFVM_API int bpfvm_prog_jit_opts(struct bpfvm_prog *prog, const struct bpfvm_jit_opts *opts,
				  char *log, size_t log_sz)
{
	if (!prog || (opts && opts->sz < offsetof(struct bpfvm_jit_opts, flags) + sizeof(opts->flags)))
		return -EINVAL;
	unsigned int flags = opts ? opts->flags : 0;
	if (flags & ~(unsigned int)BPFVM_JIT_BLIND)
		return -EINVAL;
	return prog_ensure(prog, flags & BPFVM_JIT_BLIND ? 1 : -1, log, log_sz);
}

BPFVM_API int bpfvm_jit_set_harden(int on)
{
	return atomic_exchange(&jit_harden, on != 0);
}

BPFVM_API int bpfvm_prog_jited(const struct bpfvm_prog *prog, const void **code,
			       size_t *code_sz, const uint32_t **insn_off, size_t *insn_cnt)
{
	if (!prog)
		return -EINVAL;
	if (!jit_prog_ready(prog))
		return -ENOENT;
	if (code)
		*code = prog->jit;
	if (code_sz)
		*code_sz = prog->jit_aux->code_sz;
	if (insn_off)
		*insn_off = prog->jit_aux->code_off;
	if (insn_cnt)
		*insn_cnt = prog->insn_cnt;
	return 0;
}

/* ------------------------------------------------------------- runtime */

bool jit_rt_mem_ok(struct bpfvm_run *run, uint64_t addr, uint64_t size, uint64_t write)
{
	return vm_mem_ok(run, addr, size, write != 0);
}

void jit_rt_fault_mem(struct bpfvm_run *run, uint64_t pc, uint64_t addr, uint64_t fp)
{
	enum bpf_op op = (enum bpf_op)run->prog->code[pc].op;
	uint8_t fmt = isa_ops[op].fmt;
	bool write = fmt != FMT_LDX && fmt != FMT_LOAD_ACQ;
	char where[64];
	vm_describe_addr(run, addr, fp, where, sizeof(where));
	vm_fault(run, -EFAULT, pc, "insn %zu: %s: out-of-bounds %s of %u bytes at %s",
		 (size_t)pc, isa_ops[op].mnem, write ? "store" : "load", isa_access_size(op), where);
}

void jit_rt_fault_align(struct bpfvm_run *run, uint64_t pc, uint64_t addr, uint64_t fp)
{
	enum bpf_op op = (enum bpf_op)run->prog->code[pc].op;
	char where[64];
	vm_describe_addr(run, addr, fp, where, sizeof(where));
	vm_fault(run, -EFAULT, pc, "insn %zu: %s: misaligned %u-byte atomic access at %s",
		 (size_t)pc, isa_ops[op].mnem, isa_access_size(op), where);
}

void jit_rt_fault_budget(struct bpfvm_run *run, uint64_t pc, uint64_t left)
{
	/* the interpreter charges each instruction before running it and stops
	 * at the first one that finds the budget at zero: with `left` left on
	 * entering pc's block, the `left`-th (from 0) counted instruction */
	const struct bpfvm_prog *prog = run->prog;
	size_t p = pc;
	while (left && p < prog->insn_cnt) {
		p += isa_ops[prog->code[p].op].fmt == FMT_LDDW ? 2 : 1;
		left--;
	}
	run->budget = 0;
	vm_fault(run, -ELOOP, p, "insn %zu: instruction budget of %" PRIu64 " exhausted",
		 p, run->budget_total);
}

void jit_rt_fault_deep(struct bpfvm_run *run, uint64_t pc)
{
	vm_fault(run, -EINVAL, pc, "insn %zu: %s: call stack too deep (more than %d frames)",
		 (size_t)pc, isa_ops[run->prog->code[pc].op].mnem, BPFVM_MAX_CALL_FRAMES);
}

void jit_rt_fault_callback_deep(struct bpfvm_run *run)
{
	vm_fault(run, -EINVAL, 0, "callback: call stack too deep (more than %d frames)",
		 BPFVM_MAX_CALL_FRAMES);
}

void jit_rt_fault_invalid(struct bpfvm_run *run, uint64_t pc)
{
	vm_fault(run, -EINVAL, pc, "insn %zu: invalid instruction reached", (size_t)pc);
}

struct jit_callx_res jit_rt_callx(struct bpfvm_run *run, uint64_t pc, uint64_t value,
				  uint64_t fp, uint64_t *budget)
{
	const struct bpfvm_prog *prog = run->prog;
	const struct vm_insn *code = prog->code;
	const struct vm_insn *t = (const struct vm_insn *)(uintptr_t)value;
	struct jit_callx_res res = { JIT_CALLX_FAULT, 0 };
	if (t >= code && t < code + prog->insn_cnt &&
	    ((uintptr_t)t - (uintptr_t)code) % sizeof(*t) == 0) {
		uint64_t top = (uint64_t)(uintptr_t)(run->stack + VM_STACK_TOTAL);
		if ((top - fp) / BPFVM_STACK_SIZE >= BPFVM_MAX_CALL_FRAMES - 1) {
			jit_rt_fault_deep(run, pc);
			return res;
		}
		size_t idx = (size_t)(t - code);
		uint32_t charge = prog->jit_aux->charge[idx];
		if (prog->jit_checked && charge) {
			if (*budget < charge) {
				jit_rt_fault_budget(run, idx, *budget);
				return res;
			}
			*budget -= charge;
		}
		res.kind = JIT_CALLX_LOCAL;
		res.addr = (uint64_t)(uintptr_t)prog->jit + prog->jit_aux->insn_off[idx];
		return res;
	}
	const struct vm_helper *h = vm_find_helper(prog, value);
	if (!h) {
		vm_fault(run, -EINVAL, pc, "insn %zu: callx: r%d = 0x%" PRIx64
			 " is neither a helper nor a function", (size_t)pc, code[pc].dst, value);
		return res;
	}
	res.kind = JIT_CALLX_HELPER;
	res.addr = (uint64_t)(uintptr_t)h->fn;
	return res;
}
