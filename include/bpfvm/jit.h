/* bpfvm/jit.h — compiling a program to native code.
 *
 * bpfvm_prog_run() with mode BPFVM_EXEC_JIT compiles a program the first time
 * it is run that way; bpfvm_prog_jit() does it ahead of time (to see errors
 * early, or to keep compilation out of a timed loop).  The native code gives
 * the interpreter's results: the same r0, memory, faults and fault messages.
 * Included by bpfvm.h; usable on its own.
 */
#ifndef BPFVM_JIT_H
#define BPFVM_JIT_H

#include <stddef.h>

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
 * while other threads run the program) return 0 at once.
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

#ifdef __cplusplus
}
#endif

#endif
