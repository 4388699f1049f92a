/* bpfvm/verifier.h — proving a program safe before it runs.
 *
 * bpfvm_prog_verify() is the Linux verifier's decision for a program, as a
 * privileged (root) user gets it: every path is walked with an abstract
 * state, every memory access, helper call, reference and loop is checked,
 * and the program is accepted or refused with the kernel's messages.  An
 * accepted program is marked verified and runs without run-time checks.
 */
#ifndef BPFVM_VERIFIER_H
#define BPFVM_VERIFIER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpfvm_prog;

/* what a verification cost and found (the kernel's summary line) */
struct bpfvm_verify_stats {
	size_t log_true_size;		/* bytes the whole log needs, NUL included */
	uint64_t insn_processed;	/* instructions walked, over all paths */
	uint32_t total_states;		/* checkpoints created */
	uint32_t peak_states;		/* checkpoints alive at once, at most */
	uint32_t max_states_per_insn;
	uint64_t duration_ns;		/* wall time of the verification */
	int error_insn;			/* instruction of the rejection, or -1 */
};

struct bpfvm_verify_opts {
	size_t sz;
	/* 0: no log; 1: the failing path and the summary; 2: every
	 * instruction with its full state (the kernel's log levels) */
	unsigned int log_level;
	char *log_buf;			/* NUL-terminated log, may be NULL */
	size_t log_size;
	struct bpfvm_verify_stats *stats;	/* filled in when not NULL */
};

/* Verify prog (its type decides the context and the helpers it may use).
 * Returns 0 and sets the program's verified flag, or a negative errno as the
 * kernel's BPF_PROG_LOAD: -EACCES (unsafe), -EINVAL (malformed), -E2BIG (too
 * complex or too large), -ENOMEM.  Like the kernel, a log that did not fit
 * makes an otherwise successful verification fail with -ENOSPC (the program
 * is not marked verified; the buffer holds the log's last part and
 * stats->log_true_size the size it needs).  opts may be NULL. */
int bpfvm_prog_verify(struct bpfvm_prog *prog, const struct bpfvm_verify_opts *opts);

/* Has a verifier accepted prog? */
int bpfvm_prog_is_verified(const struct bpfvm_prog *prog);

#ifdef __cplusplus
}
#endif

#endif
