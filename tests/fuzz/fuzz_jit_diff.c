/* fuzz_jit_diff.c — libFuzzer: the checked interpreter against checked JIT code.
 *
 * The input is read as 4-byte records [sel, regs, lo, hi]; each becomes one
 * instruction of opcodes.def (sel picks the row) or a short fixed sequence,
 * so a mutation of the input is a local change of the program.  Programs
 * are valid by construction and touch only the run's stack (zeroed by a
 * prologue, so nothing reads garbage), through r10 or through a pointer made
 * from r10 and overwritten right after use, so no address ever reaches r0 or
 * memory (r9 is callx's alone and reset after it).  Jumps (both ways),
 * local calls, callx and bpf_loop callbacks go to any statement; callx and
 * bpf_loop may also get a computed address (into the middle of a statement,
 * or lddw's second half).
 * Faults are welcome: out-of-bounds and misaligned accesses, too deep call
 * chains, the instruction budget.  Both modes must give the same error,
 * message, r0, executed count and final stack.
 *
 *   make fuzz && build-fuzz/fuzz_jit_diff -max_total_time=600
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "exec/vm.h"

#define MAX_STMTS 512
#define H_MIX 1000
#define H_DUMP 1001
#define H_ABORT 1002

static uint8_t dumped_stack[VM_STACK_TOTAL];
static bool dumped;

static uint64_t h_mix(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
		      struct bpfvm_run *run)
{
	(void)run;
	return (r1 * 0x9e3779b97f4a7c15ull) ^ (r2 + 3) ^ (r3 << 7) ^ (r4 >> 3) ^ (r5 * 5);
}

static uint64_t h_dump(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
		       struct bpfvm_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	memcpy(dumped_stack, run->stack, VM_STACK_TOTAL);
	dumped = true;
	return 0;
}

static uint64_t h_abort(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			struct bpfvm_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	if (r1 & 1)
		bpfvm_run_abort(run, -EPERM, "helper gave up, r1=%" PRIu64, r1);
	return r1 + 1;
}

static const struct bpfvm_helper helpers[] = {
	{ H_MIX, "mix", h_mix },
	{ H_DUMP, "dump", h_dump },
	{ H_ABORT, "abort", h_abort },
};

/* ------------------------------------------------------ program building */

struct build {
	struct bpf_insn v[MAX_STMTS * 8 + 64];
	size_t n;
	size_t stmt_start[MAX_STMTS + 1];	/* first instruction of each statement */
	size_t nstmt;
	/* jumps, calls and lddw func to fix: instruction, target statement */
	size_t fix_at[MAX_STMTS];
	size_t fix_stmt[MAX_STMTS];
	size_t nfix;
};

static void put(struct build *b, uint8_t code, int dst, int src, int off, int32_t imm)
{
	b->v[b->n++] = (struct bpf_insn){ code, (unsigned)dst & 15, (unsigned)src & 15, (int16_t)off, imm };
}

static void fix(struct build *b, size_t stmt)
{
	b->fix_at[b->nfix] = b->n;
	b->fix_stmt[b->nfix++] = stmt;
}

static const int32_t specials[] = { 0, 1, -1, 2, 31, 32, 63, 64, INT32_MIN, INT32_MAX, 0x8000, 0xffff, -2, 7 };

static int32_t imm_of(uint8_t lo, uint8_t hi)
{
	int16_t v = (int16_t)(lo | hi << 8);
	if ((hi & 0xf0) == 0xf0)
		return specials[lo % (sizeof(specials) / sizeof(specials[0]))];
	return v;
}

/* the rows a statement can be, from opcodes.def */
static enum bpf_op rows[OP_CNT];
static size_t nrows;

static void collect_rows(void)
{
	for (int op = 1; op < OP_CNT; op++) {
		uint8_t fmt = isa_ops[op].fmt;
		if (fmt == FMT_CALL_KFUNC || fmt == FMT_EXIT)
			continue;
		if (fmt == FMT_LDDW && op != OP_LDDW && op != OP_LDDW_FUNC)
			continue;
		rows[nrows++] = (enum bpf_op)op;
	}
}

/* one statement from a record */
static void stmt(struct build *b, const uint8_t rec[4], size_t nstmt_total)
{
	enum bpf_op op = rows[rec[0] % nrows];
	const struct bpf_opinfo *r = &isa_ops[op];
	/* r9 is callx's alone: a callee must not see code addresses */
	int dst = (rec[1] & 15) % 9, src = (rec[1] >> 4) % 9;
	int32_t imm = imm_of(rec[2], rec[3]);
	int off = r->sel == SEL_OFF ? r->selval : 0;
	int32_t selimm = r->sel == SEL_IMM ? r->selval : 0;
	size_t target = (size_t)(rec[2] | rec[3] << 8) % nstmt_total;

	switch (r->fmt) {
	case FMT_ALU_IMM: put(b, r->code, dst, 0, off, imm); return;
	case FMT_ALU_REG: put(b, r->code, dst, src, off, 0); return;
	case FMT_NEG: put(b, r->code, dst, 0, 0, 0); return;
	case FMT_END: put(b, r->code, dst, 0, 0, selimm); return;
	case FMT_JA: case FMT_JMP_IMM: case FMT_JMP_REG: case FMT_MAY_GOTO: {
		int32_t cmp = specials[rec[1] % (sizeof(specials) / sizeof(specials[0]))];
		fix(b, target);
		if (r->fmt == FMT_JMP_IMM)
			put(b, r->code, dst, 0, 0, cmp);
		else if (r->fmt == FMT_JMP_REG)
			put(b, r->code, dst, src, 0, 0);
		else
			put(b, r->code, 0, 0, 0, 0);
		return;
	}
	case FMT_JA32:
		fix(b, target);
		put(b, r->code, 0, 0, 0, 0);
		return;
	case FMT_CALL:
		put(b, r->code, 0, 0, 0, (rec[2] & 3) == 3 ? H_ABORT : H_MIX);
		return;
	case FMT_CALL_LOCAL:
		fix(b, target);
		put(b, r->code, 0, 1, 0, 0);
		return;
	case FMT_CALLX:
		if (rec[1] & 0x40) {
			/* bpf_loop with a callback, perhaps moved a few instructions on */
			put(b, 0xb7, 1, 0, 0, rec[3] & 3);			/* mov r1, 0..3 */
			fix(b, target);
			put(b, 0x18, 2, BPF_PSEUDO_FUNC, 0, 0);			/* lddw r2, func */
			put(b, 0, 0, 0, 0, 0);
			if (rec[1] & 0x80)
				put(b, 0x07, 2, 0, 0, 16 * ((rec[3] & 7) - 2));	/* add r2, 16k */
			put(b, 0xb7, 3, 0, 0, imm);				/* mov r3, imm (ctx) */
			put(b, 0xb7, 4, 0, 0, 0);				/* mov r4, 0 */
			put(b, 0x85, 0, 0, 0, 181);				/* call bpf_loop */
			put(b, 0xb7, 2, 0, 0, imm);				/* mov r2, imm */
			return;
		}
		/* a function pointer, perhaps moved a few instructions on */
		fix(b, target);
		put(b, 0x18, 9, BPF_PSEUDO_FUNC, 0, 0);				/* lddw r9, func */
		put(b, 0, 0, 0, 0, 0);
		if (rec[1] & 0x80)
			put(b, 0x07, 9, 0, 0, 16 * ((rec[3] & 7) - 2));		/* add r9, 16k */
		put(b, r->code, 9, 0, 0, 0);					/* callx r9 */
		put(b, 0xb7, 9, 0, 0, imm);					/* mov r9, imm */
		return;
	case FMT_LDDW:
		if (op == OP_LDDW_FUNC) {
			/* a code address may not leak: compare it instead */
			fix(b, target);
			put(b, 0x18, dst, BPF_PSEUDO_FUNC, 0, 0);
			put(b, 0, 0, 0, 0, 0);
			put(b, 0xb7, dst, 0, 0, imm);
			return;
		}
		put(b, r->code, dst, 0, 0, (int32_t)((uint32_t)imm * 0x10001u));
		put(b, 0, 0, 0, 0, imm ^ 0x5a5a);
		return;
	case FMT_LDABS:
		put(b, r->code, 0, 0, 0, imm & 0x3f);
		return;
	case FMT_LDIND:
		put(b, r->code, 0, src, 0, imm & 0x3f);
		return;
	default:
		break;
	}
	/* memory: through r10, or a pointer made from r10 and killed after */
	bool loads = r->fmt == FMT_LDX || r->fmt == FMT_LOAD_ACQ;
	int base = 10;
	uint16_t raw = (uint16_t)(rec[2] | rec[3] << 8);
	/* mostly inside the current frame, sometimes anywhere near the stack */
	int moff = (rec[3] & 0xe0) == 0xe0 ? 100 - raw % 4300 : -(int)(raw % 513);
	if (rec[1] & 0x80 && dst != src) {
		base = loads ? src : dst;
		put(b, 0xbf, base, 10, 0, 0);				/* mov base, r10 */
		put(b, 0x07, base, 0, 0, moff + (rec[3] & 0x1f));	/* add base, moff + k */
		moff = -(rec[3] & 0x1f);
	}
	int val = loads ? dst : src;
	if (val == base)
		val = (val + 1) % 9;
	if (loads)
		put(b, r->code, val, base, moff, selimm);
	else if (r->fmt == FMT_ST)
		put(b, r->code, base, 0, moff, imm);
	else
		put(b, r->code, base, val, moff, selimm);
	if (base != 10 && !(loads && val == base))
		put(b, 0xb7, base, 0, 0, imm);				/* mov base, imm */
}

/* Returns the number of instructions. */
static size_t build_program(struct build *b, const uint8_t *data, size_t size)
{
	size_t nrec = size / 4;
	if (nrec > MAX_STMTS)
		nrec = MAX_STMTS;
	b->n = b->nfix = 0;
	/* zero the whole stack, then registers */
	put(b, 0xbf, 2, 10, 0, 0);			/* mov r2, r10 */
	put(b, 0x07, 2, 0, 0, -VM_STACK_TOTAL);		/* add r2, -4096 */
	put(b, 0x7a, 2, 0, 0, 0);			/* l: stdw [r2], 0 */
	put(b, 0x07, 2, 0, 0, 8);			/* add r2, 8 */
	put(b, 0xbf, 3, 10, 0, 0);			/* mov r3, r10 */
	put(b, 0xad, 2, 3, -4, 0);			/* jlt r2, r3, l */
	for (int r = 0; r < 10; r++) {
		uint64_t v = 0x0123456789abcdefull * (uint64_t)(r + 1);
		put(b, 0x18, r, 0, 0, (int32_t)(uint32_t)v);	/* lddw rR, v */
		put(b, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
	}
	for (size_t i = 0; i < nrec; i++) {
		b->stmt_start[i] = b->n;
		stmt(b, data + 4 * i, nrec + 1);
	}
	/* the last statement: registers to the stack, dump, exit */
	b->stmt_start[nrec] = b->n;
	for (int r = 0; r < 10; r++)
		put(b, 0x7b, 10, r, -8 * (r + 1), 0);	/* stxdw [r10-8(r+1)], rR */
	put(b, 0x85, 0, 0, 0, H_DUMP);			/* call dump */
	put(b, 0x79, 0, 10, -8, 0);			/* ldxdw r0, [r10-8] */
	put(b, 0x95, 0, 0, 0, 0);			/* exit */
	for (size_t i = 0; i < b->nfix; i++) {
		size_t at = b->fix_at[i];
		long rel = (long)b->stmt_start[b->fix_stmt[i]] - (long)at - 1;
		struct bpf_insn *in = &b->v[at];
		if (in->code == 0x18 || in->code == 0x06 || in->code == 0x85)
			in->imm = (int32_t)rel;		/* lddw func, ja32, call local */
		else
			in->off = (int16_t)rel;
	}
	return b->n;
}

struct outcome {
	int err;
	uint64_t r0, executed;
	char msg[256];
	bool dumped;
	uint8_t stack[VM_STACK_TOTAL];
};

static void run(struct bpfvm_prog *p, int mode, struct outcome *o)
{
	static uint8_t mem[64];
	for (size_t i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(i * 37 + 1);
	memset(o, 0, sizeof(*o));
	dumped = false;
	struct bpfvm_run_opts r = BPFVM_OPTS_INIT(bpfvm_run_opts);
	r.mem = mem;
	r.mem_sz = sizeof(mem);
	r.mode = mode;
	r.insn_budget = 20000;
	r.err_buf = o->msg;
	r.err_size = sizeof(o->msg);
	o->err = bpfvm_prog_run(p, &r);
	o->r0 = r.retval;
	o->executed = r.insn_executed;
	o->dumped = dumped;
	if (dumped)
		memcpy(o->stack, dumped_stack, VM_STACK_TOTAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct build b;
	static struct outcome oc, oj;
	if (!nrows)
		collect_rows();
	size_t n = build_program(&b, data, size);
	struct bpfvm_prog_opts o = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	o.helpers = helpers;
	o.helper_cnt = sizeof(helpers) / sizeof(helpers[0]);
	struct bpfvm_prog *p = bpfvm_prog_from_insns(b.v, n, &o);
	if (!p)
		return 0; /* e.g. a jump into an lddw's second half */
	run(p, BPFVM_EXEC_CHECKED, &oc);
	run(p, BPFVM_EXEC_JIT, &oj);
	if (oc.err != oj.err || oc.r0 != oj.r0 || oc.executed != oj.executed ||
	    strcmp(oc.msg, oj.msg) != 0 || oc.dumped != oj.dumped ||
	    (oc.dumped && memcmp(oc.stack, oj.stack, VM_STACK_TOTAL) != 0)) {
		fprintf(stderr, "checked: err %d r0 0x%" PRIx64 " executed %" PRIu64 " '%s'\n",
			oc.err, oc.r0, oc.executed, oc.msg);
		fprintf(stderr, "jit:     err %d r0 0x%" PRIx64 " executed %" PRIu64 " '%s'\n",
			oj.err, oj.r0, oj.executed, oj.msg);
		fprintf(stderr, "stack %s\n", oc.dumped && oj.dumped &&
			memcmp(oc.stack, oj.stack, VM_STACK_TOTAL) ? "differs" : "same or not dumped");
		/* the differing words, by their distance below the stack's top */
		for (size_t i = 0, shown = 0; oc.dumped && oj.dumped && i < VM_STACK_TOTAL && shown < 16;
		     i += 8) {
			uint64_t a, j;
			memcpy(&a, oc.stack + i, 8);
			memcpy(&j, oj.stack + i, 8);
			if (a != j && ++shown)
				fprintf(stderr, "  top-%zu: checked 0x%" PRIx64 " jit 0x%" PRIx64 "\n",
					(size_t)VM_STACK_TOTAL - i, a, j);
		}
		char *text = bpfvm_disasm(b.v, n, BPFVM_DISASM_INDEX);
		if (text)
			fprintf(stderr, "%s", text);
		free(text);
		abort();
	}
	bpfvm_prog_free(p);
	return 0;
}
