/* jit.h — the JIT's internal interface: arch-neutral glue and back ends.
 *
 * jit.c does what every architecture shares: the public bpfvm_prog_jit(),
 * lazy thread-safe compilation for bpfvm_prog_run(), W^X code memory, the
 * basic-block plan (which instructions start a block, what each block charges
 * against the budget) and the C side of the native code's slow paths (fault
 * messages identical to the interpreter's, callx resolution).  A back end
 * (jit_x86_64.c) turns a planned program into machine code.
 *
 * Guarded ("checked") code is what programs nobody verified get: it keeps the
 * checked interpreter's observable behaviour exactly, budget and executed
 * count included.  To make budget faults exact, a block ends after every
 * instruction that can stop the run or has effects outside the stack (calls,
 * ld_abs, accesses that are not provably inside the stack frame), and is
 * charged on entry: when it does not fit, the interpreter too would have
 * stopped inside it, before any effect the caller could see.  Code for a
 * verified program has no guards and, as the kernel's, lets helper calls
 * clobber r1..r5.
 *
 * Helpers that call back into eBPF (bpf_loop, for_each_map_elem, tail
 * calls: vm_call_func(), vm_tail_call()) do so in native code during a
 * native run: jit_exec_at() enters the image through its C-callable entry
 * (jit_callin_fn) at the function's code.  Verified code inlines bpf_loop
 * with a known callback altogether, as the kernel does.
 */
#ifndef BPFVM_EXEC_JIT_H
#define BPFVM_EXEC_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/vm.h"

/* What the arch-neutral analysis hands the back end; arrays have insn_cnt entries. */
struct jit_plan {
	bool checked;		/* compile in memory, alignment and budget checks */
	bool blind;		/* blind the program's constants (bpfvm/jit.h) */
	uint8_t *leader;	/* 1 where a basic block starts */
	uint32_t *block_cnt;	/* at a leader: instructions the block counts */
	uint32_t *charge;	/* callx entry here: count to the block's end (0 at leaders) */
	uint8_t *live_after;	/* at a helper call: bit r set when r1..r5's rR may be
				 * read before written afterwards (checked code keeps
				 * r1..r5 across calls, as the interpreter does) */
};

/* Kept with the compiled program for the runtime (callx) and for dumps. */
struct jit_aux {
	uint32_t *insn_off;	/* native offset of each instruction's entry */
	uint32_t *charge;	/* plan.charge, for callx into a block's middle */
	uint32_t *code_off;	/* jit_code.code_off, for bpfvm_prog_jited() */
	size_t code_sz;		/* bytes of code (prog->jit_sz is whole pages) */
	uint32_t callin_off;	/* jit_code.callin_off */
};

/* A back end's output: code (malloc'd; position-independent but for the
 * absolute addresses of the C functions it calls) and insn_off (malloc'd,
 * insn_cnt entries: where a run or callx enters each instruction; that may
 * be a standalone copy outside the body).  The code's entry point is offset
 * 0.  code_off (malloc'd, insn_cnt + 1 entries, never decreasing) is the
 * in-line layout for dumps: instruction i's code in the body is
 * [code_off[i], code_off[i + 1]), empty when it was merged into an earlier
 * instruction's (lddw's second half, fused pairs); [0, code_off[0]) is the
 * prologue and shared routines, [code_off[insn_cnt], len) out-of-line code. */
struct jit_code {
	uint8_t *buf;
	size_t len;
	uint32_t *insn_off;
	uint32_t *code_off;
	uint32_t callin_off;	/* the jit_callin_fn */
};

/* The C entry into a function of the native code other than the program's
 * start (callbacks, tail calls): r1..r5 = args, r10 = fp (a frame pointer of
 * the run's stack), r0 and r6..r9 zero; checked code takes its budget from
 * run->budget less `charge` (at most run->budget: what entering `code` in the
 * middle of a block costs) and stores it back unless it aborts, as the
 * checked interpreter does.  Calls `code` (an entry from insn_off, in this
 * image) and returns its r0, or 0 when it aborted (run->err set).  Frames
 * count from the stack top, as in the interpreter: fp's depth is taken from
 * fp. */
typedef uint64_t (*jit_callin_fn)(const uint64_t args[5], uint64_t fp, struct bpfvm_run *run,
				  uint64_t code, uint64_t charge);

/* Does access `in` (a load, store or atomic) provably stay inside the current
 * stack frame, aligned when it must be?  Such accesses need no check. */
bool jit_access_static_ok(const struct vm_insn *in);

/* Back end (jit_<arch>.c): compile prog following plan.  Returns 0 or a
 * negative errno with a message in log. */
int jit_arch_compile(const struct bpfvm_prog *prog, const struct jit_plan *plan,
		     struct jit_code *out, char *log, size_t log_sz);

/* tests: make the x86-64 back end avoid BMI2 (shlx/shrx/sarx) */
extern bool jit_x86_64_no_bmi2;
/* tests: the largest image the x86-64 back end makes (-E2BIG beyond) */
extern size_t jit_x86_64_max_len;
/* tests: how many compiles have been started (jit.c) */
extern _Atomic unsigned long jit_compile_cnt;

/* jit.c: make sure prog has native code, compiling it now if needed (its
 * constants blinded when bpfvm_jit_set_harden() says so).  A failed compile
 * is remembered: later calls return its error and message at once. */
int jit_prog_ensure(struct bpfvm_prog *prog, char *err, size_t err_sz);
/* run.c: has prog's native code been compiled (for EXEC_AUTO)? */
bool jit_prog_ready(const struct bpfvm_prog *prog);
/* prog.c: release the native code */
void jit_prog_free(struct bpfvm_prog *prog);

/* jit.c: may a call from a helper into prog (a callback, a tail call) in a
 * run of native code (run->jit) run prog's native code?  Yes when prog has
 * code (compiled now if need be) that is checked exactly when the run is;
 * else the interpreter runs it. */
bool jit_can_enter(struct bpfvm_run *run, const struct bpfvm_prog *prog);
/* jit.c: run prog's native code from instruction pc as a function on frame
 * fp with r1..r5 = args (jit_can_enter() said yes); entering a block in its
 * middle charges its rest, as callx does.  Returns r0, or 0 with run->err
 * set. */
uint64_t jit_exec_at(struct bpfvm_run *run, const struct bpfvm_prog *prog, size_t pc,
		     const uint64_t args[5], uint64_t fp);

/* ---- runtime: C functions the native code calls on its slow paths.  pc is
 * the instruction's index, fp the frame pointer (r10) at the time. ---- */

/* is [addr, addr+size) memory the program may access?  (vm_mem_ok) */
bool jit_rt_mem_ok(struct bpfvm_run *run, uint64_t addr, uint64_t size, uint64_t write);
/* record an out-of-bounds access at pc */
void jit_rt_fault_mem(struct bpfvm_run *run, uint64_t pc, uint64_t addr, uint64_t fp);
/* record a misaligned atomic access at pc */
void jit_rt_fault_align(struct bpfvm_run *run, uint64_t pc, uint64_t addr, uint64_t fp);
/* record the budget running out in the block entered at pc with `left` instructions left */
void jit_rt_fault_budget(struct bpfvm_run *run, uint64_t pc, uint64_t left);
/* record a call at pc that needs more than BPFVM_MAX_CALL_FRAMES frames */
void jit_rt_fault_deep(struct bpfvm_run *run, uint64_t pc);
/* record that a callback needs more than BPFVM_MAX_CALL_FRAMES frames (the
 * fault of vm_call_func(), which calls this too) */
void jit_rt_fault_callback_deep(struct bpfvm_run *run);
/* record that the second half of an lddw at pc was reached (through callx) */
void jit_rt_fault_invalid(struct bpfvm_run *run, uint64_t pc);

enum jit_callx_kind { JIT_CALLX_FAULT = 0, JIT_CALLX_LOCAL = 1, JIT_CALLX_HELPER = 2 };
struct jit_callx_res {
	uint64_t kind;		/* enum jit_callx_kind */
	uint64_t addr;		/* native entry (LOCAL) or helper function (HELPER) */
};
/* Resolve callx at pc with target `value`: a function of the program (checks
 * the depth and, in checked code, charges *budget for the target's block) or
 * a helper ID; anything else is recorded as the interpreter's fault. */
struct jit_callx_res jit_rt_callx(struct bpfvm_run *run, uint64_t pc, uint64_t value,
				  uint64_t fp, uint64_t *budget);

#endif
