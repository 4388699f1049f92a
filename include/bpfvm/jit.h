/* bpfvm/jit.h — compiling a program to native code.
 *
 * bpfvm_prog_run(), bpfvm_prog_test_run() and packet runners with mode
 * BPFVM_EXEC_JIT compile a program the first time it is run that way; bpfvm_prog_jit() does it ahead of time (to see errors
 * early, or to keep compilation out of a timed loop); bpfvm_prog_jited() shows
 * the result (`bpfvm prog dump --jited`).  The native code gives
 * the interpreter's results: the same r0, memory, faults and fault messages.
 * Included by bpfvm.h; usable on its own.
 */
#ifndef BPFVM_JIT_H
#define BPFVM_JIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef BPFVM_API
#if defined(__GNUC__) || defined(__clang__)
#define BPFVM_API __attribute__((visibility("default")))
#else
#define BPFVM_API
#endif
#endif

struct bpfvm_prog;

/* Compile `prog` to native code, once: later calls (from any thread, also
 * while other threads run the program) return 0 at once, or, when the
 * compile failed, its error and message at once (it is not tried again).
 *
 * A program no verifier has proven safe gets code with the checked
 * interpreter's guards compiled in: every load, store and atomic is checked
 * against the run's memory, atomics against misalignment, and basic blocks
 * against the instruction budget; a proven program gets code without them.
 *
 * Returns 0, -EOPNOTSUPP when this build has no JIT for the host (x86-64
 * only), -E2BIG when the code would not fit the JIT's limits, -ENOMEM, or
 * -EINVAL for a NULL prog.  On failure `log` (when given) says why. */
BPFVM_API int bpfvm_prog_jit(struct bpfvm_prog *prog, char *log, size_t log_sz);

/* Constant blinding, the kernel's bpf_jit_harden: a defence against JIT
 * spraying.  In blinded code no constant of the program appears verbatim:
 * each immediate operand of an ALU, jump, store, ld_abs/ld_ind and each plain
 * 64-bit constant (lddw of a number; not map, map value or function
 * addresses) is loaded as `mov scratch, imm ^ key ; xor scratch, key` with a
 * fresh random key, and the instruction uses the register.  Shift counts
 * (0..63) and the lea/shift/mask forms chosen for multiplying, dividing or
 * taking the remainder by a small constant or a power of two are left as they
 * are: they give an attacker no useful bytes.  Results are the same; the code
 * is larger and slower (bench_jit --harden measures it).
 *
 * bpfvm_jit_set_harden(1) blinds every program compiled afterwards in this
 * process, also those compiled lazily by a run or a tail call (the sysctl's
 * role); code compiled before stays as it is.  Returns the previous
 * setting. */
BPFVM_API int bpfvm_jit_set_harden(int on);

enum bpfvm_jit_flags {
	BPFVM_JIT_BLIND = 1u << 0,	/* blind constants, whatever bpfvm_jit_set_harden() says */
};

struct bpfvm_jit_opts {
	size_t sz;		/* sizeof(struct bpfvm_jit_opts): BPFVM_OPTS() */
	unsigned int flags;	/* enum bpfvm_jit_flags */
};

/* bpfvm_prog_jit() with options (opts may be NULL).  A program is compiled
 * once: when it already has code without blinding and BPFVM_JIT_BLIND is
 * asked for, returns -EBUSY (compile it this way before its first run in
 * JIT mode); code with blinding satisfies any request.  Also -EINVAL for
 * unknown flags. */
BPFVM_API int bpfvm_prog_jit_opts(struct bpfvm_prog *prog, const struct bpfvm_jit_opts *opts,
				  char *log, size_t log_sz);

/* The native code of a compiled program, for dumping it (as `bpftool prog
 * dump jited`): *code, *code_sz bytes (no page padding), and *insn_off,
 * *insn_cnt + 1 offsets into it that never decrease.  The code is laid out
 *
 *   [0, insn_off[0])                  prologue and shared routines
 *   [insn_off[i], insn_off[i + 1])    instruction i's code, in program order
 *   [insn_off[insn_cnt], code_sz)     out-of-line code: entry points for
 *                                     callx, slow paths, fault stubs
 *
 * An instruction may have no code of its own: the second half of an lddw,
 * an instruction fused into the one before it (compare and branch, address
 * computations folded into an access), a jump to the next instruction.
 * insn_cnt is the program's instruction count (bpfvm_prog_insn_cnt()).
 * Everything stays valid until the program is freed; out pointers may be
 * NULL.  Returns 0, -ENOENT when prog has no native code yet (see
 * bpfvm_prog_jit()), or -EINVAL for a NULL prog. */
BPFVM_API int bpfvm_prog_jited(const struct bpfvm_prog *prog, const void **code,
			       size_t *code_sz, const uint32_t **insn_off, size_t *insn_cnt);

#ifdef __cplusplus
}
#endif

#endif
