/* bpfvm.h — the public interface of libbpfvm.
 *
 * bpfvm runs eBPF programs in userspace with the Linux kernel's semantics.  This
 * header is the whole public API.  Conventions (libbpf's):
 *   - handles are opaque; functions are named bpfvm_<object>_<verb>;
 *   - functions returning int return 0 (or a count) on success and a negative
 *     errno on failure; constructors return NULL and set errno;
 *   - options structs start with their own size (`sz`); initialise them with
 *     BPFVM_OPTS(type, .field = value, ...) or BPFVM_OPTS_INIT(type) so that
 *     old callers keep working when a struct grows;
 *   - human-readable detail goes into a buffer the caller owns (log_buf /
 *     err_buf), never straight to stderr.
 */
#ifndef BPFVM_H
#define BPFVM_H

#include <stddef.h>
#include <stdint.h>

#include "bpfvm/insn.h"
#include "bpfvm/map.h"
#include "bpfvm/object.h"
#include "bpfvm/pkt.h"
#include "bpfvm/verifier.h"
#include "bpfvm/jit.h"
#include "bpfvm/cbpf.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define BPFVM_API __attribute__((visibility("default")))
#else
#define BPFVM_API
#endif

#define BPFVM_OPTS_INIT(type) { .sz = sizeof(struct type) }
#define BPFVM_OPTS(type, ...) ((struct type){ .sz = sizeof(struct type), __VA_ARGS__ })

/* Version string, e.g. "0.1.0". */
BPFVM_API const char *bpfvm_version(void);

struct bpfvm_map;

/* ---------------------------------------------------------------- helpers --
 * A helper is called with the program's r1..r5 and the run it belongs to; its
 * return value becomes r0.  IDs are the kernel's (BPF_FUNC_*): registering a
 * helper under an ID that bpfvm already implements replaces it for that program.
 */
struct bpfvm_run;
typedef uint64_t (*bpfvm_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3,
				    uint64_t r4, uint64_t r5, struct bpfvm_run *run);

struct bpfvm_helper {
	uint32_t id;		/* helper ID the program calls (call imm) */
	const char *name;	/* shown by the disassembler and in errors */
	bpfvm_helper_fn fn;
};

/* Largest helper ID a program may call (built-in or registered). */
#define BPFVM_MAX_HELPER_ID 4095

/* For helper implementations: the `user` pointer the run was started with. */
BPFVM_API void *bpfvm_run_user(struct bpfvm_run *run);
/* The "CPU" (worker index) this run executes on. */
BPFVM_API int bpfvm_run_cpu(const struct bpfvm_run *run);
/* Is [ptr, ptr+size) memory the program may read (write=0) or write (write=1)?
 * Returns 0 when it is, -EFAULT when not.  Helpers that take pointers from an
 * unverified program must check them with this before touching them. */
BPFVM_API int bpfvm_run_check_mem(struct bpfvm_run *run, const void *ptr,
				  uint64_t size, int write);
/* Stop the program after the current helper returns; bpfvm_prog_run() then
 * returns `err` (negative errno) and the message is put into err_buf. */
BPFVM_API void bpfvm_run_abort(struct bpfvm_run *run, int err, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* ---------------------------------------------------------------- programs --
 * A program is created from bytecode and is immutable afterwards: any number of
 * threads may run it at once.
 */
struct bpfvm_prog;

enum bpfvm_prog_flags {
	/* only the helpers given in opts->helpers exist, no built-in ones */
	BPFVM_PROG_NO_BUILTIN_HELPERS = 1u << 0,
	/* the program is for bpfvm_prog_verify(): check only what the kernel
	 * checks before its verifier runs (opcodes, lddw pairs, jump and call
	 * targets), in its words; reserved fields and registers are the
	 * verifier's, where a path reaches them, and code no path reaches may
	 * hold anything, as in Linux.  Until verified, an instruction that is
	 * not well-formed faults if run; verification turns code no path
	 * reaches into `ja -1`. */
	BPFVM_PROG_DEFER_CHECKS = 1u << 1,
};

struct bpfvm_prog_opts {
	size_t sz;
	const char *name;		/* for messages; default "prog" */
	const struct bpfvm_helper *helpers;	/* extra or replacing helpers */
	size_t helper_cnt;
	unsigned int flags;		/* enum bpfvm_prog_flags */
	char *log_buf;			/* why the program was refused */
	size_t log_size;
	/* maps for lddw src_reg BPF_PSEUDO_MAP_IDX / _IDX_VALUE (the kernel's
	 * fd_array); lddw BPF_PSEUDO_MAP_FD / _VALUE take bpfvm map fds */
	struct bpfvm_map *const *maps;
	size_t map_cnt;
};

/* Check the bytecode's structure (opcodes, reserved fields, registers, jump
 * and call targets, lddw pairs, helper IDs; less with BPFVM_PROG_DEFER_CHECKS)
 * and build a runnable program.
 * On failure returns NULL with errno set (EINVAL for bad bytecode, ENOMEM) and,
 * when given, log_buf names the instruction index and the problem. */
BPFVM_API struct bpfvm_prog *bpfvm_prog_from_insns(const struct bpf_insn *insns,
						   size_t insn_cnt,
						   const struct bpfvm_prog_opts *opts);
/* Drop the caller's handle (a PROG_ARRAY holding the program keeps it alive). */
BPFVM_API void bpfvm_prog_free(struct bpfvm_prog *prog);
/* The program's bpfvm fd: what userspace stores into a PROG_ARRAY. */
BPFVM_API int bpfvm_prog_fd(const struct bpfvm_prog *prog);
BPFVM_API const char *bpfvm_prog_name(const struct bpfvm_prog *prog);
BPFVM_API size_t bpfvm_prog_insn_cnt(const struct bpfvm_prog *prog);
BPFVM_API const struct bpf_insn *bpfvm_prog_insns(const struct bpfvm_prog *prog);

/* How a run executes.  AUTO picks the fastest mode that is safe: the checked
 * interpreter for a program no verifier has proven safe.  INTERP runs the
 * fast interpreter without memory checks: the caller vouches that the program
 * is safe (it was verified, or it is trusted). */
enum bpfvm_exec_mode {
	BPFVM_EXEC_AUTO = 0,
	BPFVM_EXEC_CHECKED,	/* every load/store checked, instruction budget */
	BPFVM_EXEC_INTERP,	/* fast interpreter, no checks */
	BPFVM_EXEC_JIT,		/* native code (x86-64) */
};

#define BPFVM_DEFAULT_INSN_BUDGET 100000000ull

struct bpfvm_run_opts {
	size_t sz;
	/* input: the program gets r1 = mem, r2 = mem_sz (mem may be NULL) */
	void *mem;
	size_t mem_sz;
	uint32_t repeat;		/* run this many times (default 1) */
	int mode;			/* enum bpfvm_exec_mode */
	uint64_t insn_budget;		/* checked mode: max instructions per run; 0 = default */
	int cpu;			/* "CPU" index the run executes on */
	void *user;			/* returned by bpfvm_run_user() */
	char *err_buf;			/* why a run stopped with an error */
	size_t err_size;
	/* output */
	uint64_t retval;		/* r0 at exit (of the last repetition) */
	uint64_t duration_ns;		/* mean wall time per repetition */
	uint64_t insn_executed;		/* checked mode: instructions executed (last run) */
};

/* Run the program.  Returns 0 when it reached `exit` (r0 in opts->retval) or a
 * negative errno when it was stopped: -EFAULT for an out-of-bounds access,
 * -ELOOP when the instruction budget ran out, -EINVAL for a call to an
 * unavailable helper or too deep a call chain, -EOPNOTSUPP for a mode this
 * build lacks; err_buf names the instruction index and the cause. */
BPFVM_API int bpfvm_prog_run(struct bpfvm_prog *prog, struct bpfvm_run_opts *opts);

/* ------------------------------------------------------ assembler, disasm --
 * Text form: the dialect of the eBPF conformance suite (`mov32 %r0, 1`,
 * `ldxw %r0, [%r1+4]`, `lock fetch add [%r10-8], %r1`, `call local f`, labels
 * `name:`), which is also what the disassembler prints.
 */

/* Assemble `text`.  On success *insns (malloc'd, caller frees) and *insn_cnt are
 * set and 0 returned.  On failure *insns is untouched and -EINVAL (or -ENOMEM)
 * returned, with "line N: <why>" in err_buf ("no instructions" for empty
 * text).  Besides instructions the text may hold labels (`name:`), an index
 * prefix as the disassembler prints it (`  12: add %r0, 1`), `#` comments and
 * `.insn 0x<64-bit word>` for raw instruction words. */
BPFVM_API int bpfvm_asm(const char *text, struct bpf_insn **insns, size_t *insn_cnt,
			char *err_buf, size_t err_size);

enum bpfvm_disasm_flags {
	BPFVM_DISASM_INDEX = 1u << 0,	/* prefix each line with its instruction index */
	BPFVM_DISASM_RAW = 1u << 1,	/* append the raw instruction bytes */
};

/* Disassemble into a malloc'd, NUL-terminated text (caller frees) that
 * bpfvm_asm() turns back into the same bytes.  Jump targets become labels
 * `L<index>:`, local-call and `lddw func` targets `f<index>:`; helper calls
 * get a `# bpf_<name>` comment; bytes that are no valid instruction print as
 * `.insn 0x<word>  # <why>`.  insn_cnt 0 gives "".  NULL with errno set on
 * failure (ENOMEM). */
BPFVM_API char *bpfvm_disasm(const struct bpf_insn *insns, size_t insn_cnt,
			     unsigned int flags);

/* Name of a Linux helper ID ("map_lookup_elem"), or NULL when unknown. */
BPFVM_API const char *bpfvm_helper_name(uint32_t id);

/* ---------------------------------------------------------------- trace --
 * Where bpf_trace_printk / bpf_trace_vprintk output goes.  Each message is one
 * line in the kernel's trace_pipe format:
 *   "            comm-1234    [000] ..... 12345.678901: bpf_trace_printk: msg"
 * Default: written to file descriptor 2 (stderr).  The setting is process-wide. */
typedef void (*bpfvm_trace_fn)(void *ctx, int cpu, const char *msg, const char *line);
/* write lines to fd (-1 discards them) */
BPFVM_API void bpfvm_trace_set_fd(int fd);
/* call fn for each message instead (msg: the formatted text; line: with the
 * trace_pipe prefix, without a newline); NULL restores the fd sink */
BPFVM_API void bpfvm_trace_set_callback(bpfvm_trace_fn fn, void *ctx);

/* ---------------------------------------------------------------- CPUs --
 * bpfvm models CPUs as worker indices 0..nr_cpus-1 (per-CPU maps,
 * bpf_get_smp_processor_id).  Default: the number of online CPUs. */
BPFVM_API int bpfvm_nr_cpus(void);
/* Set the CPU count; only before the first map is created.  Returns 0 or -EINVAL. */
BPFVM_API int bpfvm_set_nr_cpus(int n);

#ifdef __cplusplus
}
#endif

#endif
