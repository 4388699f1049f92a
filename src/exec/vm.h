/* vm.h — internal shape of a program and of one run of it.
 *
 * A struct bpfvm_prog holds the original bytecode and a pre-decoded copy the
 * interpreter and JIT execute (struct vm_insn: op resolved from opcodes.def,
 * immediates widened, helper calls bound to slots).  A struct bpfvm_run holds
 * everything one execution needs: registers at entry, the stack for all call
 * frames, the memory regions a checked run may touch, and the error report.
 */
#ifndef BPFVM_VM_H
#define BPFVM_VM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfvm.h"
#include "isa/isa.h"

struct vm_insn {
	uint16_t op;		/* enum bpf_op */
	uint8_t dst, src;
	int32_t off;		/* jump offset (also ja32/call local: from imm) */
	uint64_t imm;		/* sign-extended imm, lddw's 64-bit value, helper slot */
};

/* a C source line an instruction came from (BTF line info) */
struct vm_line {
	uint32_t pc;
	uint32_t line, col;
	char *file;
	char *text;
};

struct vm_helper {
	uint32_t id;
	const char *name;
	bpfvm_helper_fn fn;
};

struct bpfvm_map;
struct fd_obj_ops;

struct bpfvm_prog {
	char name[64];
	_Atomic int refcnt;		/* the user's handle, PROG_ARRAY slots */
	int fd;				/* bpfvm fd (fdtable), for PROG_ARRAY updates */
	uint32_t id;
	uint32_t type;			/* BPF_PROG_TYPE_* (0: unspecified) */
	uint32_t expected_attach_type;
	struct bpfvm_map **maps;	/* maps the program references (one ref each) */
	size_t map_cnt;
	char *sec_name;			/* ELF section it came from, or NULL */
	struct vm_line *lines;		/* BTF line info by pc, sorted; may be NULL */
	size_t line_cnt;
	struct bpf_insn *insns;		/* original bytecode */
	size_t insn_cnt;
	struct vm_insn *code;		/* pre-decoded, same indices as insns */
	struct vm_helper *helpers;	/* every helper the program may call, by id */
	size_t helper_cnt;
	bool verified;			/* a verifier proved it safe */
	void *jit;			/* native code (exec/jit), NULL if none */
	size_t jit_sz;
	uint64_t (*jit_entry)(uint64_t r1, uint64_t r2, struct bpfvm_run *run);
	bool jit_checked;		/* the code checks memory, alignment and budget */
	bool jit_blinded;		/* the code's constants are blinded */
	atomic_int jit_state;		/* lazy compilation, see exec/jit.c */
	int jit_err;			/* JIT_FAILED: the compile's errno ... */
	char *jit_msg;			/* ... and its message (malloc'd, may be NULL) */
	struct jit_aux *jit_aux;	/* per-insn entry points for callx (exec/jit.h) */
};

/* a memory range a checked run may access */
struct vm_region {
	uintptr_t start, end;	/* [start, end) */
	const char *name;	/* for messages: "mem", "stack", "ctx", ... */
	bool writable;
};

#define VM_MAX_REGIONS 16
#define VM_STACK_TOTAL (BPFVM_STACK_SIZE * BPFVM_MAX_CALL_FRAMES)
#define VM_MAX_LOOPS (8u * 1024 * 1024)	/* may_goto budget, as the kernel's BPF_MAX_LOOPS */
#define VM_MAX_TAIL_CALLS 33		/* MAX_TAIL_CALL_CNT */
#define VM_MAX_INNER_MAPS 16

struct vm_frame {
	const struct vm_insn *ret;	/* instruction after the call */
	uint64_t saved[5];		/* r6..r10 of the caller */
};

struct bpfvm_run {
	const struct bpfvm_prog *prog;
	void *user;
	int cpu;
	bool checked;
	bool jit;			/* native code runs: tail calls and callbacks run
					 * native too where they can (exec/jit.h) */
	uint64_t budget;		/* checked mode: instructions left */
	uint64_t budget_total;		/* ... at the start of the run */
	uint32_t may_goto_left;
	uint32_t tail_call_cnt;
	/* set by a helper: stop the current function (err != 0: stop the run) */
	bool stop;
	/* frame of the instruction calling the current helper (for callbacks) */
	uint64_t cur_fp;
	int cur_depth;
	struct vm_region region[VM_MAX_REGIONS];
	int region_cnt;
	/* inner maps a map-in-map lookup handed to the program in this run:
	 * checked mode accepts them (and their values) like the program's own */
	struct bpfvm_map *inner[VM_MAX_INNER_MAPS];
	int inner_cnt;
	void *hook;			/* packet hook state (hooks/pkt.h), or NULL */
	/* native code's inlined bpf_loop, per call frame: n, ctx and the
	 * caller's r6 and r7 (exec/jit_x86_64.c) */
	uint64_t jit_loop[BPFVM_MAX_CALL_FRAMES][4];
	const uint8_t *pkt;		/* ld_abs/ld_ind data */
	uint32_t pkt_len;
	/* error report */
	int err;			/* 0 or negative errno */
	char *err_buf;
	size_t err_size;
	_Alignas(16) uint8_t stack[VM_STACK_TOTAL];
};

/* interp.c: run prog from instruction `start` with r1..r5 = args, r10 = fp,
 * `depth` call frames already in use; return r0 when that function exits.
 * On a fault run->err is set, the message written, and 0 returned. */
uint64_t vm_interp_fast(struct bpfvm_run *run, const struct bpfvm_prog *prog, size_t start,
			const uint64_t args[5], uint64_t fp, int depth);
uint64_t vm_interp_checked(struct bpfvm_run *run, const struct bpfvm_prog *prog, size_t start,
			   const uint64_t args[5], uint64_t fp, int depth);

/* Call an eBPF function from a helper (bpf_loop callbacks, for_each_map_elem):
 * `func` is the value of an `lddw func` (a pointer into prog->code); runs it in
 * the run's mode on the next call frame; returns its r0, or 0 with run->err set. */
uint64_t vm_call_func(struct bpfvm_run *run, uint64_t func, uint64_t a1, uint64_t a2,
		      uint64_t a3, uint64_t a4, uint64_t a5);
/* Run another program as a tail call from the current helper call: its r0
 * (in *r0) becomes the current function's return value (run->stop is set so
 * the interpreter or native code leaves the function: the helper must return
 * *r0).  In a native run the target runs native where it can (exec/jit.h).
 * Returns -ENOENT/-E2BIG when the call does not happen (then the caller
 * continues, as in the kernel). */
int vm_tail_call(struct bpfvm_run *run, const struct bpfvm_prog *target, uint64_t ctx,
		 uint64_t *r0);

/* prog.c: references (the fd table and PROG_ARRAY slots hold them) */
void vm_prog_get(struct bpfvm_prog *prog);
void vm_prog_put(struct bpfvm_prog *prog);
extern const struct fd_obj_ops prog_fd_ops;

/* run.c */
void vm_run_init(struct bpfvm_run *run, const struct bpfvm_prog *prog, bool checked);
int vm_add_region(struct bpfvm_run *run, const void *start, size_t size,
		  const char *name, bool writable);
/* the mode a run of prog uses when `mode` (enum bpfvm_exec_mode) is asked
 * for: AUTO resolved; -EINVAL for an unknown mode */
int vm_pick_mode(const struct bpfvm_prog *prog, int mode);
/* run prog from its first instruction with r1, r2 on a run set up with
 * vm_run_init (+ regions); returns r0, or 0 with run->err set */
uint64_t vm_exec(struct bpfvm_run *run, const struct bpfvm_prog *prog, int mode, uint64_t r1,
		 uint64_t r2);
/* is [addr, addr+size) inside one region (writable when write)? */
bool vm_mem_ok(const struct bpfvm_run *run, uint64_t addr, uint64_t size, bool write);
/* record a fault at instruction pc; returns err */
int vm_fault(struct bpfvm_run *run, int err, size_t pc, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 4, 5)))
#endif
	;
/* "mem+8", "r10-520" or "0x1234" for messages */
void vm_describe_addr(const struct bpfvm_run *run, uint64_t addr, uint64_t fp,
		      char *buf, size_t size);
/* the helper callx resolves a register value to, or NULL */
const struct vm_helper *vm_find_helper(const struct bpfvm_prog *prog, uint64_t id);

#endif
