/* run.c — one execution of a program: regions, faults and the public run API.
 *
 * bpfvm_prog_run() sets up a struct bpfvm_run (stack, regions, budget), picks
 * the execution mode and reports the result.  The region list is what the
 * checked interpreter and bpfvm_run_check_mem() accept as memory.
 *
 * Every run is an RCU read-side section (maps/rcu.h): vm_exec(), which the
 * hooks and test runs go through, and bpfvm_prog_run() open one, so maps and
 * programs the run reaches without a reference of its own (inner maps,
 * tail-call targets) are not freed before it ends.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec/jit.h"
#include "exec/vm.h"
#include "maps/map.h"
#include "maps/rcu.h"

void vm_run_init(struct bpfvm_run *run, const struct bpfvm_prog *prog, bool checked)
{
	run->prog = prog;
	run->user = NULL;
	run->cpu = 0;
	run->checked = checked;
	run->jit = false;
	run->budget = run->budget_total = BPFVM_DEFAULT_INSN_BUDGET;
	run->may_goto_left = VM_MAX_LOOPS;
	run->tail_call_cnt = 0;
	run->stop = false;
	run->cur_fp = (uint64_t)(uintptr_t)(run->stack + VM_STACK_TOTAL);
	run->cur_depth = 0;
	run->region_cnt = 0;
	run->inner_cnt = 0;
	run->hook = NULL;
	run->pkt = NULL;
	run->pkt_len = 0;
	run->err = 0;
	run->err_buf = NULL;
	run->err_size = 0;
	vm_add_region(run, run->stack, sizeof(run->stack), "stack", true);
}

int vm_add_region(struct bpfvm_run *run, const void *start, size_t size,
		  const char *name, bool writable)
{
	if (run->region_cnt == VM_MAX_REGIONS)
		return -E2BIG;
	if (!start || !size)
		return 0;
	struct vm_region *r = &run->region[run->region_cnt++];
	r->start = (uintptr_t)start;
	r->end = (uintptr_t)start + size;
	r->name = name;
	r->writable = writable;
	return 0;
}

bool vm_mem_ok(const struct bpfvm_run *run, uint64_t addr, uint64_t size, bool write)
{
	for (int i = 0; i < run->region_cnt; i++) {
		const struct vm_region *r = &run->region[i];
		if (addr >= r->start && addr < r->end && size <= r->end - addr)
			return !write || r->writable;
	}
	/* a value of one of the program's maps (or a ring buffer sample) */
	const struct bpfvm_prog *prog = run->prog;
	for (size_t i = 0; i < prog->map_cnt; i++)
		if (map_check_access(prog->maps[i], (const void *)(uintptr_t)addr, size, write) == 0)
			return true;
	for (int i = 0; i < run->inner_cnt; i++)
		if (map_check_access(run->inner[i], (const void *)(uintptr_t)addr, size, write) == 0)
			return true;
	return false;
}

int vm_fault(struct bpfvm_run *run, int err, size_t pc, const char *fmt, ...)
{
	(void)pc;
	run->err = err;
	run->stop = true;
	if (run->err_buf && run->err_size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(run->err_buf, run->err_size, fmt, ap);
		va_end(ap);
	}
	return err;
}

void vm_describe_addr(const struct bpfvm_run *run, uint64_t addr, uint64_t fp,
		      char *buf, size_t size)
{
	/* the region nearest to the address, when it is within 64 KiB */
	const struct vm_region *best = NULL;
	uint64_t best_dist = (uint64_t)1 << 16;
	for (int i = 0; i < run->region_cnt; i++) {
		const struct vm_region *r = &run->region[i];
		uint64_t d = addr < r->start ? r->start - addr : addr >= r->end ? addr - r->end + 1 : 0;
		if (d < best_dist || (d == 0 && best_dist == 0 && r->end - r->start < best->end - best->start)) {
			best = r;
			best_dist = d;
		}
	}
	if (!best) {
		snprintf(buf, size, "0x%" PRIx64, addr);
	} else if (best->start == (uintptr_t)run->stack) {
		/* stack addresses are best read relative to the frame pointer */
		if (addr <= fp)
			snprintf(buf, size, "r10-%" PRIu64, fp - addr);
		else
			snprintf(buf, size, "r10+%" PRIu64, addr - fp);
	} else if (addr >= best->start) {
		snprintf(buf, size, "%s+%" PRIu64 " (%s is %" PRIu64 " bytes)", best->name,
			 addr - best->start, best->name, (uint64_t)(best->end - best->start));
	} else {
		snprintf(buf, size, "%s-%" PRIu64 " (%s is %" PRIu64 " bytes)", best->name,
			 best->start - addr, best->name, (uint64_t)(best->end - best->start));
	}
}

/* ------------------------------------------- calls from helpers into eBPF */

/* Run prog from pc as a function on frame fp (depth frames in use): native
 * code in a native run where prog has code of the run's kind, else the
 * interpreter of the run's kind.  Inlined: a chain of tail calls nests C
 * frames, and the fewer, the fewer returns the CPU mispredicts. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline uint64_t exec_at(struct bpfvm_run *run, const struct bpfvm_prog *prog, size_t pc,
			       const uint64_t args[5], uint64_t fp, int depth)
{
	if (run->jit && jit_can_enter(run, prog))
		return jit_exec_at(run, prog, pc, args, fp);
	if (run->checked)
		return vm_interp_checked(run, prog, pc, args, fp, depth);
	return vm_interp_fast(run, prog, pc, args, fp, depth);
}

uint64_t vm_call_func(struct bpfvm_run *run, uint64_t func, uint64_t a1, uint64_t a2,
		      uint64_t a3, uint64_t a4, uint64_t a5)
{
	const struct bpfvm_prog *prog = run->prog;
	const struct vm_insn *t = (const struct vm_insn *)(uintptr_t)func;
	if (t < prog->code || t >= prog->code + prog->insn_cnt ||
	    ((uintptr_t)t - (uintptr_t)prog->code) % sizeof(*t)) {
		vm_fault(run, -EINVAL, 0, "callback 0x%" PRIx64 " is not a function of %s",
			 func, prog->name);
		return 0;
	}
	int depth = run->cur_depth + 1;
	if (depth >= BPFVM_MAX_CALL_FRAMES) {
		jit_rt_fault_callback_deep(run);
		return 0;
	}
	uint64_t saved_fp = run->cur_fp;
	int saved_depth = run->cur_depth;
	const uint64_t args[5] = { a1, a2, a3, a4, a5 };
	uint64_t r0 = exec_at(run, prog, (size_t)(t - prog->code), args,
			      saved_fp - BPFVM_STACK_SIZE, depth);
	run->cur_fp = saved_fp;
	run->cur_depth = saved_depth;
	return r0;
}

int vm_tail_call(struct bpfvm_run *run, const struct bpfvm_prog *target, uint64_t ctx,
		 uint64_t *r0)
{
	if (!target)
		return -ENOENT;
	if (run->tail_call_cnt >= VM_MAX_TAIL_CALLS)
		return -E2BIG;
	run->tail_call_cnt++;
	const struct bpfvm_prog *caller = run->prog;
	const uint64_t args[5] = { ctx, 0, 0, 0, 0 };
	bool was_checked = run->checked;
	/* a program nobody proved safe runs checked, whoever called it */
	run->checked = was_checked || !target->verified;
	run->prog = target;
	*r0 = exec_at(run, target, 0, args, run->cur_fp, run->cur_depth);
	run->prog = caller;
	run->checked = was_checked;
	if (!run->err)
		run->stop = true; /* the caller's function returns *r0 */
	return 0;
}

/* ---------------------------------------------------- public, for helpers */

BPFVM_API void *bpfvm_run_user(struct bpfvm_run *run)
{
	return run->user;
}

BPFVM_API int bpfvm_run_cpu(const struct bpfvm_run *run)
{
	return run->cpu;
}

BPFVM_API int bpfvm_run_check_mem(struct bpfvm_run *run, const void *ptr, uint64_t size,
				  int write)
{
	if (!run->checked)
		return 0; /* the program was proven safe */
	if (size == 0)
		return 0;
	return vm_mem_ok(run, (uint64_t)(uintptr_t)ptr, size, write != 0) ? 0 : -EFAULT;
}

BPFVM_API void bpfvm_run_abort(struct bpfvm_run *run, int err, const char *fmt, ...)
{
	run->err = err < 0 ? err : -EINVAL;
	run->stop = true;
	if (run->err_buf && run->err_size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(run->err_buf, run->err_size, fmt, ap);
		va_end(ap);
	}
}

/* -------------------------------------------------------- public run API */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int set_err(struct bpfvm_run_opts *opts, int err, const char *msg)
{
	if (opts->err_buf && opts->err_size)
		snprintf(opts->err_buf, opts->err_size, "%s", msg);
	return err;
}

int vm_pick_mode(const struct bpfvm_prog *prog, int mode)
{
	if (mode == BPFVM_EXEC_AUTO)
		mode = jit_prog_ready(prog) && prog->verified ? BPFVM_EXEC_JIT
		       : prog->verified ? BPFVM_EXEC_INTERP : BPFVM_EXEC_CHECKED;
	if (mode < BPFVM_EXEC_CHECKED || mode > BPFVM_EXEC_JIT)
		return -EINVAL;
	return mode;
}

uint64_t vm_exec(struct bpfvm_run *run, const struct bpfvm_prog *prog, int mode, uint64_t r1,
		 uint64_t r2)
{
	const uint64_t args[5] = { r1, r2, 0, 0, 0 };
	uint64_t r0;

	if (mode == BPFVM_EXEC_JIT && !jit_prog_ready(prog)) {
		/* compiled on first use (a program is const only to its users) */
		char msg[128] = "";
		int err = jit_prog_ensure((struct bpfvm_prog *)prog, msg, sizeof(msg));
		if (err) {
			vm_fault(run, err, 0, "%s", msg);
			return 0;
		}
	}
	run->jit = mode == BPFVM_EXEC_JIT;
	rcu_read_lock();
	if (mode == BPFVM_EXEC_JIT)
		r0 = prog->jit_entry(r1, r2, run);
	else
		r0 = exec_at(run, prog, 0, args, run->cur_fp, 0);
	rcu_read_unlock();
	return r0;
}

BPFVM_API int bpfvm_prog_run(struct bpfvm_prog *prog, struct bpfvm_run_opts *opts)
{
	if (!prog || !opts || opts->sz < offsetof(struct bpfvm_run_opts, insn_executed))
		return -EINVAL;
	int mode = opts->mode;
	/* A verified program of a type with a context (XDP, skb, ...) assumes a
	 * real context: it dereferences its pointer fields.  Raw memory is no
	 * such context, so AUTO runs it checked; bpfvm_prog_test_run and the
	 * packet runners give it the real one. */
	if (mode == BPFVM_EXEC_AUTO && prog->type != 0)
		mode = BPFVM_EXEC_CHECKED;
	if (mode == BPFVM_EXEC_AUTO)
		mode = jit_prog_ready(prog) && prog->verified ? BPFVM_EXEC_JIT
		       : prog->verified ? BPFVM_EXEC_INTERP : BPFVM_EXEC_CHECKED;
	if (mode == BPFVM_EXEC_JIT) {
		int jerr = jit_prog_ensure(prog, opts->err_buf, opts->err_size);
		if (jerr)
			return jerr;
	}
	if (mode < BPFVM_EXEC_CHECKED || mode > BPFVM_EXEC_JIT)
		return set_err(opts, -EINVAL, "unknown execution mode");

	struct bpfvm_run *run = malloc(sizeof(*run));
	if (!run)
		return -ENOMEM;
	uint32_t repeat = opts->repeat ? opts->repeat : 1;
	uint64_t r0 = 0, t0 = now_ns();
	int err = 0;
	for (uint32_t i = 0; i < repeat && !err; i++) {
		vm_run_init(run, prog, mode == BPFVM_EXEC_CHECKED ||
				       (mode == BPFVM_EXEC_JIT && prog->jit_checked));
		run->jit = mode == BPFVM_EXEC_JIT;
		run->user = opts->user;
		run->cpu = opts->cpu;
		run->err_buf = opts->err_buf;
		run->err_size = opts->err_size;
		if (opts->insn_budget)
			run->budget = run->budget_total = opts->insn_budget;
		vm_add_region(run, opts->mem, opts->mem_sz, "mem", true);
		run->pkt = opts->mem;
		run->pkt_len = opts->mem_sz > UINT32_MAX ? UINT32_MAX : (uint32_t)opts->mem_sz;
		const uint64_t args[5] = { (uint64_t)(uintptr_t)opts->mem, opts->mem_sz, 0, 0, 0 };
		/* vm_exec() without its compile check: done above */
		rcu_read_lock();
		if (mode == BPFVM_EXEC_JIT)
			r0 = prog->jit_entry(args[0], args[1], run);
		else
			r0 = exec_at(run, prog, 0, args, run->cur_fp, 0);
		rcu_read_unlock();
		err = run->err;
	}
	uint64_t t1 = now_ns();
	opts->retval = r0;
	opts->duration_ns = (t1 - t0) / repeat;
	opts->insn_executed = run->checked ? run->budget_total - run->budget : 0;
	free(run);
	return err;
}
