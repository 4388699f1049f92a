/* run.c — one execution of a program: regions, faults and the public run API.
 *
 * bpfvm_prog_run() sets up a struct bpfvm_run (stack, regions, budget), picks
 * the execution mode and reports the result.  The region list is what the
 * checked interpreter and bpfvm_run_check_mem() accept as memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec/vm.h"

void vm_run_init(struct bpfvm_run *run, const struct bpfvm_prog *prog, bool checked)
{
	run->prog = prog;
	run->user = NULL;
	run->cpu = 0;
	run->checked = checked;
	run->budget = BPFVM_DEFAULT_INSN_BUDGET;
	run->executed = 0;
	run->may_goto_left = VM_MAX_LOOPS;
	run->region_cnt = 0;
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
	return false;
}

int vm_fault(struct bpfvm_run *run, int err, size_t pc, const char *fmt, ...)
{
	(void)pc;
	run->err = err;
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
	const uint64_t near = 1 << 16;
	for (int i = 0; i < run->region_cnt; i++) {
		const struct vm_region *r = &run->region[i];
		if (addr + near < r->start || addr >= r->end + near)
			continue;
		if (r->start == (uintptr_t)run->stack) {
			/* stack addresses are best read relative to the frame pointer */
			if (addr <= fp)
				snprintf(buf, size, "r10-%" PRIu64, fp - addr);
			else
				snprintf(buf, size, "r10+%" PRIu64, addr - fp);
		} else if (addr >= r->start) {
			snprintf(buf, size, "%s+%" PRIu64 " (%s is %" PRIu64 " bytes)", r->name,
				 addr - r->start, r->name, (uint64_t)(r->end - r->start));
		} else {
			snprintf(buf, size, "%s-%" PRIu64 " (%s is %" PRIu64 " bytes)", r->name,
				 r->start - addr, r->name, (uint64_t)(r->end - r->start));
		}
		return;
	}
	snprintf(buf, size, "0x%" PRIx64, addr);
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

BPFVM_API int bpfvm_prog_run(struct bpfvm_prog *prog, struct bpfvm_run_opts *opts)
{
	if (!prog || !opts || opts->sz < offsetof(struct bpfvm_run_opts, insn_executed))
		return -EINVAL;
	int mode = opts->mode;
	if (mode == BPFVM_EXEC_AUTO)
		mode = prog->jit && prog->verified ? BPFVM_EXEC_JIT
		       : prog->verified ? BPFVM_EXEC_INTERP : BPFVM_EXEC_CHECKED;
	if (mode == BPFVM_EXEC_JIT && !prog->jit_entry)
		return set_err(opts, -EOPNOTSUPP, "no JIT code for this program");
	if (mode < BPFVM_EXEC_CHECKED || mode > BPFVM_EXEC_JIT)
		return set_err(opts, -EINVAL, "unknown execution mode");

	struct bpfvm_run *run = malloc(sizeof(*run));
	if (!run)
		return -ENOMEM;
	uint32_t repeat = opts->repeat ? opts->repeat : 1;
	uint64_t r0 = 0, t0 = now_ns();
	int err = 0;
	for (uint32_t i = 0; i < repeat && !err; i++) {
		vm_run_init(run, prog, mode == BPFVM_EXEC_CHECKED);
		run->user = opts->user;
		run->cpu = opts->cpu;
		run->err_buf = opts->err_buf;
		run->err_size = opts->err_size;
		if (opts->insn_budget)
			run->budget = opts->insn_budget;
		vm_add_region(run, opts->mem, opts->mem_sz, "mem", true);
		run->pkt = opts->mem;
		run->pkt_len = opts->mem_sz > UINT32_MAX ? UINT32_MAX : (uint32_t)opts->mem_sz;
		uint64_t r1 = (uint64_t)(uintptr_t)opts->mem, r2 = opts->mem_sz;
		if (mode == BPFVM_EXEC_JIT)
			r0 = prog->jit_entry(r1, r2, run);
		else if (mode == BPFVM_EXEC_INTERP)
			r0 = vm_interp_fast(run, r1, r2);
		else
			r0 = vm_interp_checked(run, r1, r2);
		err = run->err;
	}
	uint64_t t1 = now_ns();
	opts->retval = r0;
	opts->duration_ns = (t1 - t0) / repeat;
	opts->insn_executed = run->executed;
	free(run);
	return err;
}
