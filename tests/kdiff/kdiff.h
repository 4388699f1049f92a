/* kdiff.h — shared declarations of the kernel-differential test.
 *
 * A test case is a random program body (struct kd_case) made of "units": short
 * instruction sequences that jumps never land inside (an lddw pair, a call and
 * the re-initialisation of r1-r5 after it, ...).  The body is shared; what
 * differs per side is the prologue (r9 = ctx/mem, initial registers and stack
 * from constants or from the input bytes) and the epilogue (copy r0-r8 and the
 * stack area into the packet or into bpfvm's memory).  kd_build() lays a case
 * out for one side, optionally with an ISA-neutral variant that defeats a known
 * kernel bug, and patches jump and call offsets.
 *
 * Both sides run the body with r9 pointing at the same bytes: the kernel's
 * prologue turns ctx into a bounds-checked packet pointer, bpfvm's r1 is its
 * memory.  Layout of those bytes (input, then output, in place): r0..r8 as 9
 * little-endian u64, the KD_STACK bytes of the stack area [r10-KD_STACK, r10),
 * then KD_SCRATCH bytes the body loads and stores at any (also unaligned)
 * offset: the verifier requires stack accesses aligned, not packet accesses.
 */
#ifndef KDIFF_H
#define KDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __LINUX_BPF_H__
/* kernel.c includes <linux/bpf.h> first; bpfvm/insn.h would define the
 * instruction encoding a second time (it recognises only the kernel-tree
 * guard _UAPI__LINUX_BPF_H__, not the installed header's __LINUX_BPF_H__) */
struct bpfvm_prog;
#else
#include "bpfvm.h"
#endif

#define KD_NREGS 9			/* r0..r8 are compared; r9 is the harness's */
#define KD_STACK 64			/* main program's random stack area */
#define KD_SUB_STACK 16			/* the subprogram's own stack area */
#define KD_SCRATCH 64			/* memory area behind r9 */
#define KD_STACK_BASE (KD_NREGS * 8)	/* where the stack area is copied */
#define KD_SCRATCH_BASE (KD_STACK_BASE + KD_STACK)
#define KD_IO_SIZE (KD_SCRATCH_BASE + KD_SCRATCH)
#define KD_SPILL_OFF (-(KD_STACK) - 8)	/* bug-2 variant: temp spill, main frame */
#define KD_SUB_SPILL_OFF (-(KD_SUB_STACK) - 8)	/* same, subprogram frame */
#define KD_UNIT_MAX 16
#define KD_MAX_INSNS 4096

/* ------------------------------------------------------------------ rng.c */
struct kd_rng {
	uint64_t s;
};
void kd_rng_seed(struct kd_rng *r, uint64_t seed, uint64_t index);
uint64_t kd_rand(struct kd_rng *r);
uint32_t kd_below(struct kd_rng *r, uint32_t n);	/* uniform in [0, n) */
bool kd_chance(struct kd_rng *r, uint32_t percent);
uint64_t kd_val64(struct kd_rng *r);		/* 64-bit value biased to edge cases */
int32_t kd_imm32(struct kd_rng *r);		/* immediate biased to edge cases */

/* ------------------------------------------------------------------ gen.c */
enum kd_unit_flags {
	KD_U_CMPXCHG32 = 1u << 0,	/* contains a 32-bit cmpxchg (bug 1) */
	KD_U_FETCH = 1u << 1,		/* atomic fetch/xchg/cmpxchg on the stack (bug 2) */
};

struct kd_unit {
	struct bpf_insn insn[KD_UNIT_MAX];
	uint8_t n;		/* instructions in the unit */
	int8_t jump;		/* index of the insn jumping to unit `target`, or -1 */
	int8_t call;		/* index of a local call to the subprogram, or -1 */
	uint8_t flags;		/* enum kd_unit_flags */
	int16_t slot;		/* KD_U_FETCH: r10-relative offset of the 8-byte slot */
	int target;		/* unit index; == unit count means "end of the sequence" */
};

struct kd_seq {
	struct kd_unit *u;
	int n, cap;
};

struct kd_case {
	uint8_t input[KD_IO_SIZE];	/* initial r0..r8 and stack area */
	uint16_t reg_loaded;		/* bit i: ri comes from the input, else a constant */
	uint8_t slot_loaded;		/* bit j: stack slot j comes from the input */
	uint8_t slot_st;		/* bit j: constant slot j written with st imm */
	struct kd_seq body, sub;
	bool has_sub;
	unsigned flags;			/* union of the units' flags */
};

void kd_generate(struct kd_case *c, uint64_t seed, uint64_t index);
void kd_case_free(struct kd_case *c);

/* --------------------------------------------------------------- build.c */
enum kd_side { KD_KERNEL, KD_BPFVM };
enum kd_variant {
	KD_VAR_ZEXT = 1u << 0,		/* w0 = w0 after each 32-bit cmpxchg */
	KD_VAR_LAUNDER = 1u << 1,	/* make the slot unknown before each fetch */
};
/* Lay out the case for one side; returns the instruction count (0 if too long). */
size_t kd_build(const struct kd_case *c, enum kd_side side, unsigned variant,
		struct bpf_insn *out, size_t cap);

/* --------------------------------------------------------------- kernel.c */
/* 0 if the kernel loads and test-runs a trivial XDP program; else -errno and
 * a reason in why. */
int kd_kernel_probe(char *why, size_t size);
/* Load and run: returns 0 and fills out[KD_IO_SIZE]; KD_REFUSED when the
 * verifier refused the program (its log in log, if given); a negative errno
 * when the run failed (message in log). */
#define KD_REFUSED 1
/* BPF_F_TEST_STATE_FREQ of <linux/bpf.h> (checked in kernel.c): the verifier
 * takes state checkpoints at every jump, which changes what it prunes */
#define KD_F_TEST_STATE_FREQ (1u << 3)
int kd_kernel_run(const struct bpf_insn *insns, size_t cnt, unsigned prog_flags,
		  const uint8_t *input, uint8_t *out, char *log, size_t log_size);

/* -------------------------------------------------------------- vmside.c */
struct bpfvm_prog *kd_vm_load(const struct bpf_insn *insns, size_t cnt, char *log, size_t size);
/* 0 and out[KD_IO_SIZE] filled, or bpfvm_prog_run()'s error (message in err) */
int kd_vm_run(struct bpfvm_prog *prog, int mode, const uint8_t *input, uint8_t *out,
	      char *err, size_t size);
const char *kd_mode_name(int mode);
/* On a fatal signal, print what kd_crash_context() last said and exit 1. */
void kd_crash_guard(void);
void kd_crash_context(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

/* ---------------------------------------------------------------- ref.c */
/* Independent reference evaluation of a bpfvm-side program; 0 or -1 with a
 * reason in err. */
int kd_ref_run(const struct bpf_insn *insns, size_t cnt, uint8_t *mem,
	       char *err, size_t err_size);
/* r0-r10 when execution first reaches pc; -1 if it never does */
int kd_ref_regs_at(const struct bpf_insn *insns, size_t cnt, const uint8_t *input,
		   size_t pc, uint64_t regs[11]);
/* what the reference saw execute, over the whole run (for --verbose) */
struct kd_ref_stats {
	uint64_t executed;		/* ALU instructions */
	uint64_t cond[2];		/* conditional jumps not taken / taken */
	uint64_t cmpxchg[2];		/* failed / succeeded */
	uint64_t cmpxchg32_upper;	/* 32-bit successes with r0's upper half set */
	uint64_t div_by[3];		/* div/mod by register: 0, -1, other */
};
extern struct kd_ref_stats kd_ref_stats;

/* --------------------------------------------------------------- judge.c */
enum kd_verdict {
	KD_MATCH,
	KD_REFUSED_BY_KERNEL,
	KD_KNOWN_BUG1,		/* 32-bit cmpxchg: upper half of r0 not zeroed */
	KD_KNOWN_BUG2,		/* precision lost after atomic fetch: branch pruned */
	KD_KNOWN_BOTH,
	KD_KNOWN_PRUNING,	/* only BPF_F_TEST_STATE_FREQ makes the kernel agree */
	KD_FAIL,
	KD_VERDICT_N
};

struct kd_check_opts {
	bool verbose;		/* more detail in reports */
	bool show;		/* print the program and result even when they match */
	bool report;		/* print failures in detail */
	bool report_known;	/* one line for a known kernel bug (detail if verbose) */
	char *refusal_log;	/* receives the verifier log of a refused program */
	size_t refusal_log_size;
};

/* Generate program `index` of `seed`, run it everywhere, return the verdict;
 * *modes_ran gets bit m set for each bpfvm mode (checked, interp, jit) run. */
enum kd_verdict kd_check(uint64_t seed, uint64_t index, const struct kd_check_opts *o,
			 unsigned *modes_ran);
const char *kd_verdict_name(enum kd_verdict v);

/* --------------------------------------------------------------- print.c */
void kd_print_prog(const struct bpf_insn *insns, size_t cnt);
void kd_print_io(const char *label, const uint8_t *io);
void kd_print_diff(const char *la, const uint8_t *a, const char *lb, const uint8_t *b);
void kd_insn_text(const struct bpf_insn *insns, size_t cnt, size_t pc,
		  char *buf, size_t size);

#endif
