/* test_jit.c — the JIT against the interpreters.
 *
 * Every program runs in the fast interpreter, the checked interpreter, JIT
 * code with checks (the program as loaded: nobody verified it) and JIT code
 * without (the same bytecode marked verified); r0, the memory, the stack and,
 * between the two checked modes, the error, its message and the executed
 * instruction count must agree.  Hand-written grids put every ALU, jump and
 * memory operation through every register combination (x86 encodings have
 * special cases per register); seeded random programs (valid by construction:
 * bounded loops, forward jumps, in-bounds memory unless faults are wanted)
 * cover the rest; fault cases compare messages with BPFVM_EXEC_CHECKED, also
 * for every budget that stops a program early.  Tail calls and callbacks
 * (bpf_loop, for_each_map_elem) go through the same comparisons, and a helper
 * that knows native code from an interpreter by its return address shows
 * they run native.  Then the same again with constant blinding on, and
 * blinded images checked for the program's constants; a failed compile is
 * remembered.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "bpfvm/jit.h"
#include "exec/jit.h"
#include "exec/vm.h"
#include "testutil.h"

#define MEM_SZ 512
#define H_MIX 1000
#define H_DUMP 1001
#define H_ABORT 1002
#define H_CHECKMEM 1003
#define H_NATIVE 1004
#define H_LOOP 181 /* bpf_loop */

/* ------------------------------------------------------------ helpers */

static uint8_t g_stack[512];	/* the depth-0 frame when the program called H_DUMP */
static bool g_dumped;

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
	memcpy(g_stack, run->stack + VM_STACK_TOTAL - 512, 512);
	g_dumped = true;
	return 0;
}

static uint64_t h_abort(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			struct bpfvm_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	bpfvm_run_abort(run, -EPERM, "aborted by helper, r1=%" PRIu64, r1);
	return 7;
}

static uint64_t h_checkmem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			   struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	return (uint64_t)(int64_t)bpfvm_run_check_mem(run, (const void *)(uintptr_t)r1, r2, 1);
}

/* 1 when called from the running program's native code (the return address
 * is in its image), 0 from an interpreter */
static uint64_t h_native(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			 struct bpfvm_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	const uint8_t *ra = __builtin_return_address(0), *code = run->prog->jit;
	return code && ra >= code && ra < code + run->prog->jit_sz;
}

static const struct bpfvm_helper test_helpers[] = {
	{ H_MIX, "mix", h_mix },
	{ H_DUMP, "dump", h_dump },
	{ H_ABORT, "abort", h_abort },
	{ H_CHECKMEM, "checkmem", h_checkmem },
	{ H_NATIVE, "native", h_native },
};

/* ------------------------------------------------------------ running */

struct outcome {
	int err;
	uint64_t r0, executed;
	char msg[256];
	uint8_t mem[MEM_SZ];
	uint8_t stack[512];
	bool dumped;
};

static struct bpfvm_prog *load(const struct bpf_insn *v, size_t n, bool verified)
{
	char log[256] = "";
	struct bpfvm_prog_opts o = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	o.helpers = test_helpers;
	o.helper_cnt = sizeof(test_helpers) / sizeof(test_helpers[0]);
	o.log_buf = log;
	o.log_size = sizeof(log);
	struct bpfvm_prog *p = bpfvm_prog_from_insns(v, n, &o);
	if (!p) {
		fprintf(stderr, "load failed: %s\n", log);
		return NULL;
	}
	p->verified = verified;
	return p;
}

static _Alignas(16) uint8_t g_mem[MEM_SZ];
static int g_run_cpu;	/* bpfvm_run_opts.cpu of run1() */
static bool g_blind;	/* JIT runs must have blinded code (bpfvm_jit_set_harden(1)) */

static void run1(struct bpfvm_prog *p, int mode, const uint8_t *mem0, uint64_t budget,
		 struct outcome *o)
{
	memcpy(g_mem, mem0, MEM_SZ);
	memset(o, 0, sizeof(*o));
	g_dumped = false;
	struct bpfvm_run_opts r = BPFVM_OPTS_INIT(bpfvm_run_opts);
	r.mem = g_mem;
	r.mem_sz = MEM_SZ;
	r.mode = mode;
	r.insn_budget = budget;
	r.cpu = g_run_cpu;
	r.err_buf = o->msg;
	r.err_size = sizeof(o->msg);
	o->err = bpfvm_prog_run(p, &r);
	if (mode == BPFVM_EXEC_JIT)
		CHECK_EQ(p->jit_blinded, g_blind);
	o->r0 = r.retval;
	o->executed = r.insn_executed;
	memcpy(o->mem, g_mem, MEM_SZ);
	o->dumped = g_dumped;
	if (g_dumped)
		memcpy(o->stack, g_stack, 512);
}

static int mismatches;
static bool skip_msg; /* messages that name heap addresses differ from run to run */

/* compare b with the reference a; stack bytes [512 - stack_cmp, 512) */
static bool same(const char *what, uint64_t seed, const struct outcome *a, const struct outcome *b,
		 size_t stack_cmp, bool cmp_exec)
{
	bool ok = a->err == b->err && a->r0 == b->r0 && !memcmp(a->mem, b->mem, MEM_SZ) &&
		  a->dumped == b->dumped && (skip_msg || strcmp(a->msg, b->msg) == 0) &&
		  (!a->dumped || !memcmp(a->stack + 512 - stack_cmp, b->stack + 512 - stack_cmp, stack_cmp)) &&
		  (!cmp_exec || a->executed == b->executed);
	test_checks++;
	if (!ok) {
		test_failed++;
		if (mismatches++ < 20) {
			fprintf(stderr, "%s (seed/case %" PRIu64 "): err %d/%d r0 0x%" PRIx64 "/0x%" PRIx64
				" exec %" PRIu64 "/%" PRIu64 " mem %s stack %s\n  '%s'\n  '%s'\n",
				what, seed, a->err, b->err, a->r0, b->r0, a->executed, b->executed,
				memcmp(a->mem, b->mem, MEM_SZ) ? "differs" : "same",
				a->dumped != b->dumped ? "dump differs" :
				a->dumped && memcmp(a->stack + 512 - stack_cmp, b->stack + 512 - stack_cmp, stack_cmp) ? "differs" : "same",
				a->msg, b->msg);
			for (size_t i = 512 - stack_cmp; i < 512 && a->dumped && b->dumped; i += 8)
				if (memcmp(a->stack + i, b->stack + i, 8)) {
					uint64_t x, y;
					memcpy(&x, a->stack + i, 8);
					memcpy(&y, b->stack + i, 8);
					fprintf(stderr, "  r10-%zu: 0x%" PRIx64 " vs 0x%" PRIx64 "\n", 512 - i, x, y);
				}
		}
	}
	return ok;
}

/* Run v in all four modes and compare.  `safe`: the program stays in bounds
 * and does not read r1-r5 after helper calls (else only the checked modes are
 * compared).  Returns the checked interpreter's outcome in *ref when given. */
static void compare_modes(const char *what, uint64_t seed, const struct bpf_insn *v, size_t n,
			  const uint8_t *mem0, bool safe, size_t stack_cmp, uint64_t budget,
			  struct outcome *ref)
{
	static struct outcome oc, oj, oi, ov;
	struct bpfvm_prog *p = load(v, n, false), *pv = safe ? load(v, n, true) : NULL;
	CHECK(p != NULL);
	if (!p)
		return;
	run1(p, BPFVM_EXEC_CHECKED, mem0, budget, &oc);
	run1(p, BPFVM_EXEC_JIT, mem0, budget, &oj);
	char name[128];
	snprintf(name, sizeof(name), "%s: checked vs jit", what);
	same(name, seed, &oc, &oj, stack_cmp, true);
	if (safe && pv) {
		run1(p, BPFVM_EXEC_INTERP, mem0, budget, &oi);
		run1(pv, BPFVM_EXEC_JIT, mem0, budget, &ov);
		snprintf(name, sizeof(name), "%s: interp vs checked", what);
		same(name, seed, &oi, &oc, stack_cmp, false);
		snprintf(name, sizeof(name), "%s: interp vs jit(verified)", what);
		same(name, seed, &oi, &ov, stack_cmp, false);
	}
	if (ref)
		*ref = oc;
	bpfvm_prog_free(p);
	bpfvm_prog_free(pv);
}

/* ------------------------------------------------------ building code */

struct prog_buf {
	struct bpf_insn v[40000];
	size_t n;
};

static size_t put(struct prog_buf *b, uint8_t code, int dst, int src, int off, int32_t imm)
{
	struct bpf_insn in = { code, (unsigned)dst & 15, (unsigned)src & 15, (int16_t)off, imm };
	b->v[b->n] = in;
	return b->n++;
}

static void put_lddw(struct prog_buf *b, int dst, uint64_t v)
{
	put(b, 0x18, dst, 0, 0, (int32_t)(uint32_t)v);
	put(b, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

static int op_row(enum bpf_op op, int *off, int32_t *imm)
{
	const struct bpf_opinfo *r = &isa_ops[op];
	*off = r->sel == SEL_OFF ? r->selval : 0;
	if (r->sel == SEL_IMM)
		*imm = r->selval;
	return r->code;
}

/* xorshift64* */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static const int32_t special32[] = {
	0, 1, -1, 2, -2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256,
	0x7fff, 0x8000, 0xffff, 0x10000, INT32_MAX, INT32_MIN, INT32_MIN + 1, -128, -129,
	0x12345678, -0x12345678,
};
static const uint64_t special64[] = {
	0, 1, (uint64_t)-1, 2, 0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffull,
	0x100000000ull, 0x80000000ull, 0xffffffff80000000ull, 0x7fffffffull, 0xffff, 0xff,
	0x8000, 0x80, 0x123456789abcdef0ull, 0xfedcba9876543210ull, 0xffffffff7fffffffull,
	0x00000000ffff8000ull, 63, 64, 31, 32,
};
#define NSPEC32 (sizeof(special32) / sizeof(special32[0]))
#define NSPEC64 (sizeof(special64) / sizeof(special64[0]))

static int32_t pick32(uint64_t *s)
{
	uint64_t r = rnd(s);
	return r & 1 ? special32[(r >> 8) % NSPEC32] : (int32_t)(r >> 32);
}

static uint64_t pick64(uint64_t *s)
{
	uint64_t r = rnd(s);
	return r & 1 ? special64[(r >> 8) % NSPEC64] : rnd(s);
}

/* ops of a format family, from opcodes.def */
static enum bpf_op ops_alu[OP_CNT], ops_jmp[OP_CNT], ops_mem[OP_CNT];
static size_t n_alu, n_jmp, n_mem;
static unsigned int op_used[OP_CNT];

static void collect_ops(void)
{
	for (int op = 1; op < OP_CNT; op++) {
		switch (isa_ops[op].fmt) {
		case FMT_ALU_IMM: case FMT_ALU_REG: case FMT_NEG: case FMT_END:
			ops_alu[n_alu++] = (enum bpf_op)op;
			break;
		case FMT_JMP_IMM: case FMT_JMP_REG: case FMT_JA: case FMT_JA32:
			ops_jmp[n_jmp++] = (enum bpf_op)op;
			break;
		case FMT_LDX: case FMT_ST: case FMT_STX: case FMT_ATOMIC:
		case FMT_LOAD_ACQ: case FMT_STORE_REL:
			ops_mem[n_mem++] = (enum bpf_op)op;
			break;
		default:
			break;
		}
	}
}

/* put ALU op `op` with dst d, src s (or imm) */
static void put_alu(struct prog_buf *b, enum bpf_op op, int d, int s, int32_t imm)
{
	int off;
	int32_t sel_imm = 0;
	uint8_t code = (uint8_t)op_row(op, &off, &sel_imm);
	switch (isa_ops[op].fmt) {
	case FMT_ALU_IMM: put(b, code, d, 0, off, imm); break;
	case FMT_ALU_REG: put(b, code, d, s, off, 0); break;
	case FMT_NEG: put(b, code, d, 0, 0, 0); break;
	default: put(b, code, d, 0, 0, sel_imm); break; /* END */
	}
	op_used[op]++;
}

/* -------------------------------------------- grids: every register pair */

/* regs r0..r9 = vals, body, then r0..r9 stored at r10-8..r10-80, dumped */
static void grid_prologue(struct prog_buf *b, const uint64_t vals[10])
{
	b->n = 0;
	put(b, 0x7a, 10, 0, -88, 0);				/* stdw [r10-88], 0 */
	for (int r = 0; r < 10; r++)
		put_lddw(b, r, vals[r]);
}

static void grid_epilogue(struct prog_buf *b)
{
	for (int r = 0; r < 10; r++)
		put(b, 0x7b, 10, r, -8 * (r + 1), 0);		/* stxdw [r10-8(r+1)], rR */
	put(b, 0x85, 0, 0, 0, H_DUMP);				/* call dump */
	put(b, 0x79, 0, 10, -24, 0);				/* ldxdw r0, [r10-24] */
	put(b, 0x95, 0, 0, 0, 0);				/* exit */
}

static void test_alu_grid(void)
{
	static struct prog_buf b;
	static const uint8_t mem0[MEM_SZ];
	uint64_t seed = 1;
	size_t cases = 0;
	for (size_t i = 0; i < n_alu; i++) {
		enum bpf_op op = ops_alu[i];
		for (int d = 0; d < 10; d++) {
			for (int s = 0; s < 10; s++) {
				if (isa_ops[op].fmt != FMT_ALU_REG && s > 0)
					break;
				for (int k = 0; k < 3; k++) {
					uint64_t vals[10];
					for (int r = 0; r < 10; r++)
						vals[r] = pick64(&seed);
					grid_prologue(&b, vals);
					put_alu(&b, op, d, s, pick32(&seed));
					grid_epilogue(&b);
					compare_modes(isa_ops[op].name, (uint64_t)(d * 100 + s), b.v, b.n, mem0,
						      true, 88, 0, NULL);
					cases++;
				}
			}
		}
	}
	printf("alu grid: %zu programs\n", cases);
}

static void test_jmp_grid(void)
{
	static struct prog_buf b;
	static const uint8_t mem0[MEM_SZ];
	uint64_t seed = 2;
	size_t cases = 0;
	for (size_t i = 0; i < n_jmp; i++) {
		enum bpf_op op = ops_jmp[i];
		for (int d = 0; d < 10; d++) {
			for (int s = 0; s < 10; s++) {
				uint8_t fmt = isa_ops[op].fmt;
				if (fmt != FMT_JMP_REG && s > 0)
					break;
				if ((fmt == FMT_JA || fmt == FMT_JA32) && d > 0)
					break;
				for (int k = 0; k < 4; k++) {
					uint64_t vals[10];
					for (int r = 0; r < 10; r++)
						vals[r] = pick64(&seed);
					if (k == 1)
						vals[s] = vals[d];
					int32_t imm = k == 2 ? (int32_t)vals[d] : pick32(&seed);
					grid_prologue(&b, vals);
					int off;
					int32_t sel;
					uint8_t code = (uint8_t)op_row(op, &off, &sel);
					if (fmt == FMT_JA32)
						put(&b, code, 0, 0, 0, 1);
					else if (fmt == FMT_JA)
						put(&b, code, 0, 0, 1, 0);
					else
						put(&b, code, d, fmt == FMT_JMP_REG ? s : 0, 1,
						    fmt == FMT_JMP_REG ? 0 : imm);
					put(&b, 0x7a, 10, 0, -88, 1);		/* stdw [r10-88], 1 (not taken) */
					grid_epilogue(&b);
					op_used[op]++;
					compare_modes(isa_ops[op].name, (uint64_t)(d * 100 + s), b.v, b.n, mem0,
						      true, 88, 0, NULL);
					cases++;
				}
			}
		}
	}
	printf("jump grid: %zu programs\n", cases);
}

/* every memory op with every base/value register, on the stack and on mem */
static void test_mem_grid(void)
{
	static struct prog_buf b;
	static uint8_t mem0[MEM_SZ];
	uint64_t seed = 3;
	size_t cases = 0;
	for (size_t i = 0; i < MEM_SZ; i++)
		mem0[i] = (uint8_t)rnd(&seed);
	for (size_t i = 0; i < n_mem; i++) {
		enum bpf_op op = ops_mem[i];
		uint8_t fmt = isa_ops[op].fmt;
		int size = (int)isa_access_size(op);
		bool loads = fmt == FMT_LDX || fmt == FMT_LOAD_ACQ;
		for (int base = 0; base <= 10; base++) {
			for (int val = 0; val < 10; val++) {
				if (val == base || (fmt == FMT_ST && val > 0))
					continue;
				for (int where = 0; where < 2; where++) {
					if (base == 10 && where == 1)
						continue;
					uint64_t vals[10];
					for (int r = 0; r < 10; r++)
						vals[r] = pick64(&seed);
					grid_prologue(&b, vals);
					for (int o = 96; o <= 256; o += 8)
						put(&b, 0x7a, 10, 0, -o, (int32_t)rnd(&seed));	/* init the stack */
					int32_t off = (int32_t)(rnd(&seed) % 8) * size - 32;
					if (base != 10) {
						if (where == 0) {
							put(&b, 0xbf, base, 10, 0, 0);		/* mov base, r10 */
							put(&b, 0x07, base, 0, 0, -160);	/* add base, -160 */
						} else {
							put(&b, 0x79, base, 10, -8, 0);		/* placeholder, fixed below */
							b.n--;
							put_lddw(&b, base, (uint64_t)(uintptr_t)g_mem + 64);
						}
					} else {
						off -= 160;
					}
					int dreg = loads ? val : base, sreg = loads ? base : val;
					int32_t imm = 0;
					int o2;
					uint8_t code = (uint8_t)op_row(op, &o2, &imm);
					if (fmt == FMT_ST)
						imm = pick32(&seed);
					put(&b, code, dreg, sreg, off, imm);
					op_used[op]++;
					if (base != 10 && !(loads && val == base))
						put(&b, 0xb7, base, 0, 0, 0);			/* mov base, 0 */
					grid_epilogue(&b);
					char name[64];
					snprintf(name, sizeof(name), "%s base r%d val r%d %s", isa_ops[op].name,
						 base, val, where ? "mem" : "stack");
					compare_modes(name, (uint64_t)off, b.v, b.n, mem0, true, 256, 0, NULL);
					cases++;
				}
			}
		}
	}
	printf("memory grid: %zu programs\n", cases);
}

/* ------------------------------------------------- random programs */

struct gen {
	struct prog_buf *b;
	uint64_t s;
	bool safe;		/* in-bounds memory, aligned atomics */
	bool kernel;		/* r1-r5 are written after every helper call */
	int func, nfunc;	/* current function, functions in the program */
	int loop_depth;
	size_t fix_at[512];	/* call/lddw-func sites and their target function */
	int fix_fn[512];
	size_t nfix;
};

static unsigned int rn(struct gen *g, unsigned int n)
{
	return (unsigned int)(rnd(&g->s) % n);
}

static void gen_stmts(struct gen *g, int count);

static void gen_mem_stmt(struct gen *g)
{
	struct prog_buf *b = g->b;
	enum bpf_op op = ops_mem[rn(g, (unsigned)n_mem)];
	uint8_t fmt = isa_ops[op].fmt;
	int size = (int)isa_access_size(op);
	bool atomicish = fmt == FMT_ATOMIC || fmt == FMT_LOAD_ACQ || fmt == FMT_STORE_REL;
	bool loads = fmt == FMT_LDX || fmt == FMT_LOAD_ACQ;
	unsigned int kind = rn(g, g->func == 0 ? 3 : 2); /* r10, stack pointer, mem pointer */
	int32_t a; /* offset from r10, or from mem */
	if (kind == 2)
		a = (int32_t)rn(g, (unsigned)(MEM_SZ - size + 1));
	else if (g->func == 0)
		a = -40 - size - (int32_t)rn(g, (unsigned)(512 - 40 - size + 1)); /* in [-512, -40) */
	else
		a = -64 + (int32_t)rn(g, (unsigned)(64 - size + 1));
	if (atomicish)
		a &= ~(size - 1);
	if (!g->safe) {
		if (rn(g, 48) == 0)
			a += (int32_t)rn(g, 1200) - 600;
		if (atomicish && rn(g, 16) == 0)
			a += (int32_t)rn(g, (unsigned)size);
	}
	int base = 10, off = a;
	if (kind != 0) {
		base = (int)rn(g, 10);
		off = (int32_t)rn(g, 65) - 32;
		if (atomicish)
			off &= ~(size - 1);
		if (kind == 1) {
			put(b, 0xbf, base, 10, 0, 0);				/* mov base, r10 */
		} else {
			put(b, 0x79, base, 10, -8, 0);				/* ldxdw base, [r10-8] (mem) */
		}
		put(b, 0x07, base, 0, 0, a - off);				/* add base, a - off */
	}
	int val = (int)rn(g, 10);
	while (val == base)
		val = (int)rn(g, 10);
	int o2;
	int32_t imm = 0;
	uint8_t code = (uint8_t)op_row(op, &o2, &imm);
	if (fmt == FMT_ST)
		imm = pick32(&g->s);
	if (loads)
		put(b, code, val, base, off, imm);
	else
		put(b, code, base, fmt == FMT_ST ? 0 : val, off, imm);
	op_used[op]++;
	if (base != 10 && !(loads && val == base))
		put(b, 0xb7, base, 0, 0, pick32(&g->s));			/* mov base, imm: no pointer left */
}

/* forward jump (or may_goto) over a nested block */
static void gen_fwd_jump(struct gen *g, int depth)
{
	struct prog_buf *b = g->b;
	size_t at;
	bool ja32 = false;
	if (rn(g, 8) == 0) {
		at = put(b, 0xe5, 0, 0, 0, 0);					/* may_goto */
		op_used[OP_MAY_GOTO]++;
	} else {
		enum bpf_op op = ops_jmp[rn(g, (unsigned)n_jmp)];
		int off;
		int32_t sel;
		uint8_t code = (uint8_t)op_row(op, &off, &sel);
		uint8_t fmt = isa_ops[op].fmt;
		ja32 = fmt == FMT_JA32;
		if (fmt == FMT_JA || fmt == FMT_JA32)
			at = put(b, code, 0, 0, 0, 0);
		else if (fmt == FMT_JMP_REG)
			at = put(b, code, (int)rn(g, 10), (int)rn(g, 10), 0, 0);
		else
			at = put(b, code, (int)rn(g, 10), 0, 0, pick32(&g->s));
		op_used[op]++;
	}
	gen_stmts(g, (int)rn(g, 4) + depth * 0);
	int d = (int)(b->n - at - 1);
	if (ja32)
		b->v[at].imm = d;
	else
		b->v[at].off = (int16_t)d;
}

static void gen_loop(struct gen *g)
{
	struct prog_buf *b = g->b;
	int slot = -16 - 8 * g->loop_depth;
	put(b, 0x62, 10, 0, slot, (int32_t)rn(g, 5) + 1);			/* stw [r10+slot], n */
	size_t top = b->n;
	g->loop_depth++;
	gen_stmts(g, (int)rn(g, 8) + 1);
	g->loop_depth--;
	int t = (int)rn(g, 10);
	put(b, 0x61, t, 10, slot, 0);						/* ldxw t, [r10+slot] */
	put(b, 0x14, t, 0, 0, 1);						/* sub32 t, 1 */
	put(b, 0x63, 10, t, slot, 0);						/* stxw [r10+slot], t */
	size_t j = put(b, 0x55, t, 0, 0, 0);					/* jne t, 0, top */
	b->v[j].off = (int16_t)((long)top - (long)j - 1);
}

static void gen_call(struct gen *g)
{
	struct prog_buf *b = g->b;
	unsigned int k = rn(g, 5);
	if (k < 2 || g->func + 1 >= g->nfunc) {
		put(b, 0x85, 0, 0, 0, H_MIX);					/* call mix */
		if (g->kernel)
			for (int r = 1; r <= 5; r++)
				put(b, 0xb7, r, 0, 0, pick32(&g->s));		/* mov rR, imm */
		return;
	}
	int fn = g->func + 1 + (int)rn(g, (unsigned)(g->nfunc - g->func - 1));
	if (k == 2) {
		g->fix_at[g->nfix] = put(b, 0x85, 0, 1, 0, 0);			/* call local fn */
		g->fix_fn[g->nfix++] = fn;
		op_used[OP_CALL_LOCAL]++;
	} else if (k == 4) {
		put(b, 0xb7, 1, 0, 0, (int32_t)rn(g, 4));			/* mov r1, 0..3 */
		g->fix_at[g->nfix] = put(b, 0x18, 2, 4, 0, 0);			/* lddw r2, func fn */
		g->fix_fn[g->nfix++] = fn;
		put(b, 0, 0, 0, 0, 0);
		put(b, 0xb7, 3, 0, 0, pick32(&g->s));				/* mov r3, imm (ctx) */
		put(b, 0xb7, 4, 0, 0, 0);					/* mov r4, 0 */
		put(b, 0x85, 0, 0, 0, H_LOOP);					/* call bpf_loop */
		put(b, 0xb7, 2, 0, 0, pick32(&g->s));				/* mov r2, imm (no pointer) */
		if (g->kernel)
			for (int r = 1; r <= 5; r++)
				put(b, 0xb7, r, 0, 0, pick32(&g->s));		/* mov rR, imm */
		op_used[OP_LDDW_FUNC]++;
	} else {
		g->fix_at[g->nfix] = put(b, 0x18, 9, 4, 0, 0);			/* lddw r9, func fn */
		g->fix_fn[g->nfix++] = fn;
		put(b, 0, 0, 0, 0, 0);
		put(b, 0x8d, 9, 0, 0, 0);					/* callx r9 */
		put(b, 0xb7, 9, 0, 0, pick32(&g->s));				/* mov r9, imm */
		op_used[OP_CALLX]++;
		op_used[OP_LDDW_FUNC]++;
	}
}

static void gen_stmts(struct gen *g, int count)
{
	struct prog_buf *b = g->b;
	for (int i = 0; i < count && b->n < 30000; i++) {
		unsigned int k = rn(g, 100);
		if (k < 45) {
			put_alu(b, ops_alu[rn(g, (unsigned)n_alu)], (int)rn(g, 10), (int)rn(g, 10), pick32(&g->s));
		} else if (k < 65) {
			gen_mem_stmt(g);
		} else if (k < 75) {
			gen_fwd_jump(g, 0);
		} else if (k < 79 && g->func == 0 && g->loop_depth < 3) {
			gen_loop(g);
		} else if (k < 85) {
			gen_call(g);
		} else if (k < 88) {
			put_lddw(b, (int)rn(g, 10), pick64(&g->s));
			op_used[OP_LDDW]++;
		} else if (k < 90 && g->func == 0) {
			if (rn(g, 2)) {
				enum bpf_op op = (enum bpf_op)(OP_LDABS_W + rn(g, 3));
				put(b, isa_ops[op].code, 0, 0, 0, (int32_t)rn(g, MEM_SZ + 8) - 2);
				op_used[op]++;
			} else {
				enum bpf_op op = (enum bpf_op)(OP_LDIND_W + rn(g, 3));
				int s = (int)rn(g, 10);
				put(b, 0xb4, s, 0, 0, (int32_t)rn(g, MEM_SZ));		/* mov32 s, small */
				put(b, isa_ops[op].code, 0, s, 0, (int32_t)rn(g, 12) - 4);
				op_used[op]++;
			}
		} else {
			/* a 32-bit op and a test of its result: the flags-reuse path */
			int d = (int)rn(g, 10);
			enum bpf_op op = (enum bpf_op)(rn(g, 2) ? OP_AND32_IMM : OP_SUB64_REG);
			put_alu(b, op, d, (int)rn(g, 10), pick32(&g->s));
			size_t at = put(b, rn(g, 2) ? 0x15 : 0x56, d, 0, 0, 0);	/* jeq d, 0 / jne32 d, 0 */
			gen_stmts(g, (int)rn(g, 3));
			b->v[at].off = (int16_t)(b->n - at - 1);
		}
	}
}

/* One random program: main (prologue, statements, register dump) and up to
 * three functions main may call (each calls only later ones). */
static size_t gen_program(struct prog_buf *b, uint64_t seed, bool safe, bool kernel)
{
	struct gen g = { .b = b, .s = seed * 0x9e3779b97f4a7c15ull + 1, .safe = safe, .kernel = kernel };
	size_t fn_start[4];
	b->n = 0;
	g.nfunc = 1 + (int)rn(&g, 4);
	for (g.func = 0; g.func < g.nfunc; g.func++) {
		fn_start[g.func] = b->n;
		if (g.func == 0) {
			if (!safe) {
				/* stray accesses may read below this frame: zero the whole stack */
				put(b, 0xbf, 2, 10, 0, 0);			/* mov r2, r10 */
				put(b, 0x07, 2, 0, 0, -VM_STACK_TOTAL);		/* add r2, -4096 */
				put(b, 0x7a, 2, 0, 0, 0);			/* l: stdw [r2], 0 */
				put(b, 0x07, 2, 0, 0, 8);			/* add r2, 8 */
				put(b, 0xbf, 3, 10, 0, 0);			/* mov r3, r10 */
				put(b, 0xad, 2, 3, -4, 0);			/* jlt r2, r3, l */
			}
			put(b, 0x7b, 10, 1, -8, 0);				/* stxdw [r10-8], r1 (mem) */
			for (int o = 16; o <= 512; o += 8)
				put(b, 0x7a, 10, 0, -o, (int32_t)rnd(&g.s));	/* stdw [r10-o], imm */
			for (int r = 0; r < 10; r++)
				put_lddw(b, r, pick64(&g.s));
		} else {
			for (int o = 8; o <= 64; o += 8)
				put(b, 0x7a, 10, 0, -o, (int32_t)rnd(&g.s));
			put(b, 0xb7, 9, 0, 0, pick32(&g.s));			/* mov r9, imm (no callx pointer) */
			/* verified code: a function reads only r1 and r2 (bpf_loop's
			 * callback gets no more), what the JIT's inlined bpf_loop
			 * leaves in the others is not the interpreter's 0 */
			for (int r = 0; r <= 8 && kernel; r++)
				if (r != 1 && r != 2)
					put(b, 0xb7, r, 0, 0, pick32(&g.s));	/* mov rR, imm */
		}
		gen_stmts(&g, 20 + (int)rn(&g, g.func ? 20 : 60));
		if (g.func == 0) {
			for (int r = 0; r < 10; r++)
				put(b, 0x7b, 10, r, -264 - 8 * r, 0);		/* stxdw [r10-264-8r], rR */
			put(b, 0x85, 0, 0, 0, H_DUMP);				/* call dump */
			put(b, 0x79, 0, 10, -264, 0);				/* ldxdw r0, [r10-264] */
		}
		put(b, 0x95, 0, 0, 0, 0);					/* exit */
	}
	for (size_t i = 0; i < g.nfix; i++)
		b->v[g.fix_at[i]].imm = (int32_t)((long)fn_start[g.fix_fn[i]] - (long)g.fix_at[i] - 1);
	return b->n;
}

static void test_random(int count, bool bmi2)
{
	static struct prog_buf b;
	static uint8_t mem0[MEM_SZ];
	jit_x86_64_no_bmi2 = !bmi2;
	for (int i = 0; i < count; i++) {
		uint64_t seed = (uint64_t)i + (bmi2 ? 0 : 1000000);
		uint64_t s = seed + 77;
		for (size_t k = 0; k < MEM_SZ; k++)
			mem0[k] = (uint8_t)rnd(&s);
		gen_program(&b, seed, true, true);
		compare_modes(bmi2 ? "random" : "random (no bmi2)", seed, b.v, b.n, mem0, true, 512, 0, NULL);
		gen_program(&b, seed, true, false);
		compare_modes("random, r1-r5 kept", seed, b.v, b.n, mem0, false, 512, 0, NULL);
	}
	jit_x86_64_no_bmi2 = false;
	printf("random%s: %d programs x 2\n", bmi2 ? "" : " (no bmi2)", count);
}

/* programs with out-of-bounds and misaligned accesses: same faults */
static void test_random_faults(int count)
{
	static struct prog_buf b;
	static uint8_t mem0[MEM_SZ];
	int faulted = 0;
	for (int i = 0; i < count; i++) {
		uint64_t seed = (uint64_t)i + 5000000, s = seed;
		for (size_t k = 0; k < MEM_SZ; k++)
			mem0[k] = (uint8_t)rnd(&s);
		gen_program(&b, seed, false, false);
		struct outcome ref;
		compare_modes("faults", seed, b.v, b.n, mem0, false, 512, 100000, &ref);
		faulted += ref.err != 0;
	}
	printf("random faults: %d programs, %d faulted\n", count, faulted);
}

/* every budget that stops a program early: same message, count, memory */
static void test_budget_sweep(int count)
{
	static struct prog_buf b;
	static uint8_t mem0[MEM_SZ];
	size_t runs = 0;
	for (int i = 0; i < count; i++) {
		uint64_t seed = (uint64_t)i + 9000000;
		gen_program(&b, seed, true, false);
		struct bpfvm_prog *p = load(b.v, b.n, false);
		CHECK(p != NULL);
		if (!p)
			continue;
		static struct outcome full, oc, oj;
		run1(p, BPFVM_EXEC_CHECKED, mem0, 0, &full);
		uint64_t total = full.executed, s = seed;
		for (uint64_t budget = 1; budget <= total + 2; budget++) {
			if (budget > 64 && budget < total - 64 && rnd(&s) % 16)
				continue;
			run1(p, BPFVM_EXEC_CHECKED, mem0, budget, &oc);
			run1(p, BPFVM_EXEC_JIT, mem0, budget, &oj);
			same("budget sweep", seed * 100000 + budget, &oc, &oj, 512, true);
			runs++;
		}
		bpfvm_prog_free(p);
	}
	printf("budget sweep: %d programs, %zu runs\n", count, runs);
}

/* ------------------------------------------------- hand-written cases */

static struct bpfvm_prog *load_asm(const char *text, bool verified)
{
	struct bpf_insn *v;
	size_t n;
	char err[256] = "";
	if (bpfvm_asm(text, &v, &n, err, sizeof(err))) {
		fprintf(stderr, "asm: %s\n", err);
		return NULL;
	}
	struct bpfvm_prog *p = load(v, n, verified);
	free(v);
	return p;
}

/* run text in checked interpreter and JIT; both must give want_err/msg/r0 */
static void asm_case(const char *name, const char *text, uint64_t budget, int want_err,
		     const char *want_msg, uint64_t want_r0)
{
	static const uint8_t mem0[MEM_SZ];
	static struct outcome oc, oj;
	struct bpfvm_prog *p = load_asm(text, false);
	CHECK(p != NULL);
	if (!p)
		return;
	run1(p, BPFVM_EXEC_CHECKED, mem0, budget, &oc);
	run1(p, BPFVM_EXEC_JIT, mem0, budget, &oj);
	same(name, 0, &oc, &oj, 0, true);
	CHECK_EQ(oj.err, want_err);
	if (want_msg)
		CHECK_STR(oj.msg, want_msg);
	else
		CHECK_EQ(oj.r0, want_r0);
	bpfvm_prog_free(p);
}

static void test_cases(void)
{
	/* callx into a function's middle skips instructions whose facts the body
	 * code after the entry relies on (fuzz_jit_diff found the first): an
	 * upper half known zero two instructions back, flags set two back */
	asm_case("callx entry after a zero-extension",
		 "lddw %r2, 0x1234567890abcdef\nlddw %r9, func f\nadd %r9, 16\ncallx %r9\nexit\n"
		 "f:\nle32 %r2\nmov %r3, 1\nmov %r0, %r2\nle32 %r2\nmov %r0, %r2\nexit\n",
		 0, 0, NULL, 0x90abcdef);
	asm_case("callx entry at an lddw after a zero-extension",
		 "lddw %r2, 0x1234567890abcdef\nlddw %r9, func f\nadd %r9, 16\ncallx %r9\nexit\n"
		 "f:\nle32 %r2\nlddw %r3, 5\nle32 %r2\nmov %r0, %r2\nexit\n",
		 0, 0, NULL, 0x90abcdef);
	asm_case("callx entry after flags were set",
		 "mov %r1, 5\nlddw %r9, func g\nadd %r9, 16\ncallx %r9\nexit\n"
		 "g:\nand %r1, 0\nmov %r2, 7\nmov %r3, %r1\njeq %r1, 0, L\nmov %r0, 1\nexit\n"
		 "L:\nmov %r0, 2\nexit\n",
		 0, 0, NULL, 1);
	asm_case("r0", "mov %r0, 42\nexit\n", 0, 0, NULL, 42);
	asm_case("r1 is mem, r2 its size", "mov %r0, %r2\nexit\n", 0, 0, NULL, MEM_SZ);
	asm_case("div by zero", "mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit\n", 0, 0, NULL, 0);
	asm_case("mod by zero", "mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit\n", 0, 0, NULL, 7);
	asm_case("mod32 by zero zero-extends", "lddw %r0, 0x100000007\nmov32 %r1, 0\nmod32 %r0, %r1\nexit\n",
		 0, 0, NULL, 7);
	asm_case("sdiv INT_MIN/-1", "lddw %r0, 0x8000000000000000\nmov %r1, -1\nsdiv %r0, %r1\nexit\n",
		 0, 0, NULL, 0x8000000000000000ull);
	asm_case("smod INT_MIN%-1", "lddw %r0, 0x8000000000000000\nmov %r1, -1\nsmod %r0, %r1\nexit\n",
		 0, 0, NULL, 0);
	asm_case("sdiv32 INT_MIN/-1", "mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit\n", 0, 0, NULL,
		 0x80000000ull);
	asm_case("shift count 0 zero-extends", "lddw %r0, 0xffffffff00000005\nmov %r1, 0\nlsh32 %r0, %r1\nexit\n",
		 0, 0, NULL, 5);
	asm_case("arsh32 by reg 0", "lddw %r0, 0xffffffff80000005\nmov %r4, 32\narsh32 %r0, %r4\nexit\n",
		 0, 0, NULL, 0x80000005);

	/* calls */
	asm_case("local call keeps r6-r9", "mov %r6, 1\nmov %r7, 2\nmov %r8, 3\nmov %r9, 4\ncall local f\n"
		 "mov %r0, %r6\nadd %r0, %r7\nadd %r0, %r8\nadd %r0, %r9\nexit\n"
		 "f:\nmov %r6, 100\nmov %r7, 100\nmov %r8, 100\nmov %r9, 100\nexit\n", 0, 0, NULL, 10);
	asm_case("local call: r1-r5 from callee", "mov %r1, 1\ncall local f\nmov %r0, %r1\nexit\n"
		 "f:\nmov %r1, 55\nexit\n", 0, 0, NULL, 55);
	asm_case("frames are 512 bytes apart", "stdw [%r10-8], 11\ncall local f\nldxdw %r0, [%r10-8]\nexit\n"
		 "f:\nstdw [%r10-8], 22\nldxdw %r0, [%r10+504]\nexit\n", 0, 0, NULL, 11);
	asm_case("8 frames", "mov %r1, 7\ncall local f\nexit\n"
		 "f:\njeq %r1, 1, done\nsub %r1, 1\ncall local f\ndone:\nmov %r0, %r1\nexit\n", 0, 0, NULL, 1);
	asm_case("9 frames", "mov %r1, 8\ncall local f\nexit\n"
		 "f:\njeq %r1, 1, done\nsub %r1, 1\ncall local f\ndone:\nmov %r0, %r1\nexit\n", 0, -EINVAL,
		 "insn 5: call local: call stack too deep (more than 8 frames)", 0);
	asm_case("callx recursion too deep", "lddw %r9, func f\ncallx %r9\nexit\n"
		 "f:\ncallx %r9\nexit\n", 0, -EINVAL,
		 "insn 4: callx: call stack too deep (more than 8 frames)", 0);
	asm_case("callx helper id", "mov %r1, 20\nmov %r2, 1000\ncallx %r2\nexit\n", 0, 0, NULL,
		 h_mix(20, 1000, 0, 0, 0, NULL));
	asm_case("callx garbage", "mov %r3, 12345\ncallx %r3\nexit\n", 0, -EINVAL,
		 "insn 1: callx: r3 = 0x3039 is neither a helper nor a function", 0);
	asm_case("callx into lddw's second half", "lddw %r9, func f\nadd %r9, 16\ncallx %r9\nexit\n"
		 "f:\nlddw %r0, 5\nexit\n", 0, -EINVAL, "insn 6: invalid instruction reached", 0);
	asm_case("callx mid-block", "lddw %r9, func f\nadd %r9, 16\nmov %r0, 1\ncallx %r9\nexit\n"
		 "f:\nmov %r0, 10\nmov %r0, 20\nadd %r0, 1\nexit\n", 0, 0, NULL, 21);
	/* callx into an instruction whose body code leans on the one before */
	asm_case("callx entry: jump reusing flags", "lddw %r9, func f\nadd %r9, 16\nmov %r1, 5\ncallx %r9\n"
		 "exit\nf:\nand %r1, 0\njne %r1, 0, +2\nmov %r0, 1\nexit\nmov %r0, 2\nexit\n", 0, 0, NULL, 2);
	asm_case("callx entry: zero-extension skipped", "lddw %r9, func f\nadd %r9, 16\n"
		 "lddw %r1, 0xffffffff00000005\ncallx %r9\nexit\n"
		 "f:\nmov32 %r1, 7\nmov32 %r1, %r1\nmov %r0, %r1\nexit\n", 0, 0, NULL, 5);
	asm_case("callx entry: second of lsh/rsh 32", "lddw %r9, func f\nadd %r9, 16\n"
		 "lddw %r1, 0xffffffff00000005\ncallx %r9\nexit\n"
		 "f:\nlsh %r1, 32\nrsh %r1, 32\nmov %r0, %r1\nexit\n", 0, 0, NULL, 0xffffffff);
	asm_case("callx entry: second of mov/add", "lddw %r9, func f\nadd %r9, 16\nmov %r1, 40\n"
		 "mov %r2, 1000\ncallx %r9\nexit\nf:\nmov %r1, %r2\nadd %r1, 2\nmov %r0, %r1\nexit\n",
		 0, 0, NULL, 42);
	for (int r = 0; r < 10; r++) {
		char text[256];
		snprintf(text, sizeof(text), "lddw %%r%d, func f\ncallx %%r%d\nexit\nf:\nmov %%r0, 9\nexit\n", r, r);
		asm_case("callx each register", text, 0, 0, NULL, 9);
	}
	asm_case("helper abort", "mov %r1, 3\ncall 1002\nmov %r0, 1\nexit\n", 0, -EPERM,
		 "aborted by helper, r1=3", 0);
	asm_case("helper abort in a function", "call local f\nmov %r0, 1\nexit\nf:\nmov %r1, 4\ncall 1002\nexit\n",
		 0, -EPERM, "aborted by helper, r1=4", 0);
	asm_case("helpers check pointers in checked code", "mov %r1, 4096\nmov %r2, 8\ncall 1003\nexit\n", 0, 0,
		 NULL, (uint64_t)-EFAULT);
	asm_case("bpf_loop runs a callback", "mov %r1, 10\nlddw %r2, func cb\nmov %r3, %r10\nadd %r3, -8\n"
		 "stdw [%r10-8], 0\nmov %r4, 0\ncall 181\nldxdw %r1, [%r10-8]\nlsh %r0, 32\nor %r0, %r1\nexit\n"
		 "cb:\nldxdw %r3, [%r2]\nadd %r3, %r1\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n", 0, 0, NULL,
		 (10ull << 32) | 45);

	/* faults */
	asm_case("oob load mem", "ldxw %r0, [%r1+510]\nexit\n", 0, -EFAULT, NULL, 0);
	asm_case("oob store below stack", "stdw [%r10-4100], 1\nexit\n", 0, -EFAULT,
		 "insn 0: stdw: out-of-bounds store of 8 bytes at r10-4100", 0);
	asm_case("oob above stack top", "ldxb %r0, [%r10+0]\nexit\n", 0, -EFAULT, NULL, 0);
	asm_case("null", "mov %r1, 0\nldxdw %r0, [%r1+16]\nexit\n", 0, -EFAULT,
		 "insn 1: ldxdw: out-of-bounds load of 8 bytes at 0x10", 0);
	asm_case("misaligned atomic", "stdw [%r10-16], 0\nmov %r1, 1\nlock add [%r10-12], %r1\nexit\n", 0,
		 -EFAULT, "insn 2: lock add: misaligned 8-byte atomic access at r10-12", 0);
	asm_case("misaligned atomic on mem", "mov %r2, 1\nlock fetch add32 [%r1+2], %r2\nexit\n", 0,
		 -EFAULT, NULL, 0);
	asm_case("misaligned ldacq", "ldacqw %r0, [%r10-6]\nexit\n", 0, -EFAULT,
		 "insn 0: ldacqw: misaligned 4-byte atomic access at r10-6", 0);
	asm_case("endless loop", "mov %r0, 0\nloop:\nadd %r0, 1\nja loop\n", 100000, -ELOOP,
		 "insn 2: instruction budget of 100000 exhausted", 0);
	asm_case("self loop", "ja -1\nexit\n", 5000, -ELOOP, "insn 0: instruction budget of 5000 exhausted", 0);
	asm_case("may_goto ends a loop", "mov %r0, 0\nloop:\nadd %r0, 1\nmay_goto +1\nja loop\nexit\n",
		 0, 0, NULL, VM_MAX_LOOPS + 1);
	asm_case("ld_abs outside the packet returns 0", "mov %r0, 5\nldabsw 510\nexit\n", 0, 0, NULL, 0);
	asm_case("ld_abs in a function, outside", "call local f\nmov %r0, 5\nexit\nf:\nldabsb 512\nexit\n",
		 0, 0, NULL, 0);
	asm_case("ld_ind", "mov %r0, 5\nmov %r3, 4\nldindh %r3, 2\nexit\n", 0, 0, NULL, 0);
}

/* map values (checked code asks vm_mem_ok() beyond the regions), tail
 * calls (they leave the calling function), kfuncs */
static void test_maps_and_calls(void)
{
	struct bpfvm_map *arr = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "arr", 4, 16, 2, NULL);
	struct bpfvm_map *progs = bpfvm_map_create(BPFVM_MAP_TYPE_PROG_ARRAY, "progs", 4, 4, 4, NULL);
	CHECK(arr && progs);
	if (!arr || !progs)
		return;
	char text[1024];
	snprintf(text, sizeof(text),
		 "stw [%%r10-4], 1\nlddw %%r1, map_fd %d\nmov %%r2, %%r10\nadd %%r2, -4\n"
		 "call 1\njeq %%r0, 0, out\nstdw [%%r0+8], 40\nldxdw %%r1, [%%r0+8]\n"
		 "lock add [%%r0+8], %%r1\nldxdw %%r0, [%%r0+8]\nexit\nout:\nmov %%r0, 1\nexit\n",
		 bpfvm_map_fd(arr));
	asm_case("map value access", text, 0, 0, NULL, 80);
	snprintf(text, sizeof(text),
		 "stw [%%r10-4], 1\nlddw %%r1, map_fd %d\nmov %%r2, %%r10\nadd %%r2, -4\n"
		 "call 1\njeq %%r0, 0, out\nldxdw %%r0, [%%r0+16]\nexit\nout:\nmov %%r0, 1\nexit\n",
		 bpfvm_map_fd(arr));
	skip_msg = true; /* "r10-N": the value lies within 64 KiB of the run's stack */
	asm_case("map value out of bounds", text, 0, -EFAULT, NULL, 0);
	skip_msg = false;

	struct bpfvm_prog *target = load_asm("mov %r0, 42\nexit\n", false);
	uint32_t key = 2;
	int fd = bpfvm_prog_fd(target);
	CHECK_EQ(bpfvm_map_update_elem(progs, &key, &fd, 0), 0);
	snprintf(text, sizeof(text),
		 "lddw %%r2, map_fd %d\nmov %%r3, 2\ncall 12\nmov %%r0, 99\nexit\n", bpfvm_map_fd(progs));
	asm_case("tail call", text, 0, 0, NULL, 42);
	snprintf(text, sizeof(text),
		 "lddw %%r2, map_fd %d\nmov %%r3, 3\ncall 12\nmov %%r0, 99\nexit\n", bpfvm_map_fd(progs));
	asm_case("tail call to an empty slot", text, 0, 0, NULL, 99);
	snprintf(text, sizeof(text),
		 "mov %%r6, 1\ncall local f\nadd %%r0, %%r6\nexit\n"
		 "f:\nmov %%r6, 5\nlddw %%r2, map_fd %d\nmov %%r3, 2\ncall 12\nmov %%r0, 99\nexit\n",
		 bpfvm_map_fd(progs));
	asm_case("tail call from a function leaves it", text, 0, 0, NULL, 43);
	bpfvm_prog_free(target);
	bpfvm_map_free(progs);
	bpfvm_map_free(arr);

	asm_case("kfunc iterator", "mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\nmov %r3, 5\ncall kfunc 1\n"
		 "mov %r6, 0\nloop:\nmov %r1, %r10\nadd %r1, -8\ncall kfunc 2\njeq %r0, 0, done\n"
		 "ldxw %r2, [%r0+0]\nadd %r6, %r2\nja loop\ndone:\nmov %r1, %r10\nadd %r1, -8\n"
		 "call kfunc 3\nmov %r0, %r6\nexit\n", 0, 0, NULL, 10);
}

/* ------------------------------------ tail calls and callbacks, native */

/* Run text in the checked interpreter and checked JIT code and, when `safe`,
 * in the fast interpreter and unchecked JIT code of the same text marked
 * verified; all must agree (the checked pair also on the executed count) and
 * give want_err and want_msg or want_r0.  With `progs`, each copy is first put
 * in slot 0 of that PROG_ARRAY (programs that tail-call themselves).  With
 * `sweep`, the checked pair also agrees for every budget that stops the
 * program early. */
static void modes_case(const char *name, const char *text, bool safe, struct bpfvm_map *progs,
		       bool sweep, int want_err, const char *want_msg, uint64_t want_r0)
{
	static const uint8_t mem0[MEM_SZ];
	static struct outcome oc, oj, oi, ov;
	char what[160];
	struct bpfvm_prog *p = load_asm(text, false), *pv = safe ? load_asm(text, true) : NULL;
	CHECK(p != NULL && (!safe || pv != NULL));
	if (!p || (safe && !pv))
		goto out;
	uint32_t key = 0;
	int fd = bpfvm_prog_fd(p), fdv = pv ? bpfvm_prog_fd(pv) : -1;
	if (progs)
		CHECK_EQ(bpfvm_map_update_elem(progs, &key, &fd, 0), 0);
	run1(p, BPFVM_EXEC_CHECKED, mem0, 0, &oc);
	run1(p, BPFVM_EXEC_JIT, mem0, 0, &oj);
	snprintf(what, sizeof(what), "%s: checked vs jit", name);
	same(what, 0, &oc, &oj, 0, true);
	CHECK_EQ(oj.err, want_err);
	if (want_msg)
		CHECK_STR(oj.msg, want_msg);
	else
		CHECK_EQ(oj.r0, want_r0);
	for (uint64_t budget = 1; sweep && budget <= oc.executed + 1; budget++) {
		static struct outcome bc, bj;
		run1(p, BPFVM_EXEC_CHECKED, mem0, budget, &bc);
		run1(p, BPFVM_EXEC_JIT, mem0, budget, &bj);
		snprintf(what, sizeof(what), "%s: budget sweep", name);
		same(what, budget, &bc, &bj, 0, true);
	}
	if (safe) {
		run1(p, BPFVM_EXEC_INTERP, mem0, 0, &oi);
		if (progs)
			CHECK_EQ(bpfvm_map_update_elem(progs, &key, &fdv, 0), 0);
		run1(pv, BPFVM_EXEC_JIT, mem0, 0, &ov);
		snprintf(what, sizeof(what), "%s: interp vs checked", name);
		if (oc.err != -ELOOP) /* only checked code counts the caller's instructions */
			same(what, 0, &oi, &oc, 0, false);
		snprintf(what, sizeof(what), "%s: interp vs jit(verified)", name);
		same(what, 0, &oi, &ov, 0, false);
	}
out:
	if (progs)
		bpfvm_map_delete_elem(progs, &key);
	bpfvm_prog_free(p);
	bpfvm_prog_free(pv);
}

/* r0 of text run in `mode`, the copy loaded as `verified` */
static uint64_t run_text(const char *text, bool verified, int mode, int *err)
{
	static const uint8_t mem0[MEM_SZ];
	static struct outcome o;
	struct bpfvm_prog *p = load_asm(text, verified);
	CHECK(p != NULL);
	if (!p)
		return UINT64_MAX;
	run1(p, mode, mem0, 0, &o);
	*err = o.err;
	bpfvm_prog_free(p);
	return o.r0;
}

/* bpf_tail_call: a chain to the limit, empty slots, calls from functions,
 * faults and budgets inside targets, targets checked or not */
static void test_tail_calls(void)
{
	struct bpfvm_map *progs = bpfvm_map_create(BPFVM_MAP_TYPE_PROG_ARRAY, "progs", 4, 4, 8, NULL);
	CHECK(progs != NULL);
	if (!progs)
		return;
	int pfd = bpfvm_map_fd(progs);
	char text[2048];
	/* mem[0] counts the runs: the first and 33 tail calls */
	snprintf(text, sizeof(text),
		 "ldxdw %%r2, [%%r1+0]\nadd %%r2, 1\nstxdw [%%r1+0], %%r2\nmov %%r6, %%r1\n"
		 "lddw %%r2, map_fd %d\nmov %%r3, 0\ncall 12\nldxdw %%r0, [%%r6+0]\nexit\n", pfd);
	modes_case("tail call chain to the limit", text, true, progs, true, 0, NULL, 1 + VM_MAX_TAIL_CALLS);
	/* the same from a function: each target starts on its caller's frame,
	 * so the frames add up until there is none left */
	snprintf(text, sizeof(text),
		 "mov %%r6, %%r1\ncall local f\nexit\n"
		 "f:\nldxdw %%r2, [%%r6+0]\nadd %%r2, 1\nstxdw [%%r6+0], %%r2\nmov %%r1, %%r6\n"
		 "lddw %%r2, map_fd %d\nmov %%r3, 0\ncall 12\nmov %%r0, 5\nexit\n", pfd);
	modes_case("tail call chain from a function", text, true, progs, true, -EINVAL,
		   "insn 1: call local: call stack too deep (more than 8 frames)", 0);
	/* a target's frame is its caller's: it sees the caller's stack */
	snprintf(text, sizeof(text),
		 "ldxdw %%r2, [%%r1+0]\njne %%r2, 0, second\nstdw [%%r1+0], 1\nstdw [%%r10-8], 77\n"
		 "lddw %%r2, map_fd %d\nmov %%r3, 0\ncall 12\nmov %%r0, 1\nexit\n"
		 "second:\nldxdw %%r0, [%%r10-8]\nexit\n", pfd);
	modes_case("tail call target shares the frame", text, true, progs, true, 0, NULL, 77);
	snprintf(text, sizeof(text),
		 "lddw %%r2, map_fd %d\nmov %%r3, 5\ncall 12\nmov %%r6, %%r0\nlddw %%r2, map_fd %d\n"
		 "mov %%r3, 100\ncall 12\nmul %%r6, 1000\nadd %%r0, %%r6\nexit\n", pfd, pfd);
	modes_case("tail call: empty slot, index out of range", text, true, progs, true, 0, NULL,
		   (uint64_t)(-ENOENT * 1000 - EINVAL));

	/* targets of their own; each copy of the caller runs once with a target
	 * not proven safe (checked code) and once with one proven safe (checked
	 * code only when the caller's is) */
	static const struct {
		const char *name, *target;
		int err;
		const char *msg;
		uint64_t r0;
	} targets[] = {
		{ "returns", "mov %r0, 42\nexit\n", 0, NULL, 42 },
		{ "uses its frame and functions",
		  "stdw [%r10-16], 40\ncall local g\nldxdw %r1, [%r10-16]\nadd %r0, %r1\nexit\n"
		  "g:\nmov %r0, 2\nstdw [%r10-16], 1\nexit\n", 0, NULL, 42 },
		{ "faults in a function", "call local g\nexit\ng:\nstdw [%r10-4100], 1\nexit\n", -EFAULT,
		  "insn 2: stdw: out-of-bounds store of 8 bytes at r10-4100", 0 },
		{ "aborts in a helper", "mov %r1, 9\ncall 1002\nexit\n", -EPERM, "aborted by helper, r1=9", 0 },
		{ "runs out of budget", "mov %r0, 0\nl:\nadd %r0, 1\nja l\n", -ELOOP, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		for (int tv = 0; tv < 2; tv++) {
			struct bpfvm_prog *t = load_asm(targets[i].target, tv);
			CHECK(t != NULL);
			if (!t)
				continue;
			uint32_t key = 3;
			int fd = bpfvm_prog_fd(t);
			CHECK_EQ(bpfvm_map_update_elem(progs, &key, &fd, 0), 0);
			/* unchecked code of a verified target must not fault */
			bool safe = !tv || targets[i].err == 0 || targets[i].err == -EPERM;
			bool endless = targets[i].err == -ELOOP;
			char name[160];
			/* from main and from a function two calls deep (checked
			 * code: the fault unwinds frames of both programs) */
			snprintf(text, sizeof(text),
				 "mov %%r6, 1\nlddw %%r2, map_fd %d\nmov %%r3, 3\ncall 12\nmov %%r0, 99\nexit\n",
				 pfd);
			snprintf(name, sizeof(name), "tail call to a %s target that %s",
				 tv ? "verified" : "unverified", targets[i].name);
			modes_case(name, text, safe, NULL, !endless, targets[i].err, targets[i].msg,
				   targets[i].r0);
			snprintf(text, sizeof(text),
				 "mov %%r6, 1\ncall local f\nadd %%r0, %%r6\nexit\nf:\ncall local g\nexit\n"
				 "g:\nmov %%r6, 5\nlddw %%r2, map_fd %d\nmov %%r3, 3\ncall 12\nmov %%r0, 99\nexit\n",
				 pfd);
			snprintf(name, sizeof(name), "tail call from depth 2 to a %s target that %s",
				 tv ? "verified" : "unverified", targets[i].name);
			modes_case(name, text, safe, NULL, !endless, targets[i].err, targets[i].msg,
				   targets[i].err ? 0 : targets[i].r0 + 1);
			bpfvm_map_delete_elem(progs, &key);
			bpfvm_prog_free(t);
		}
	}

	/* the target's code runs native: it sees itself called from its image */
	struct bpfvm_prog *t = load_asm("call 1004\nexit\n", true);
	uint32_t key = 3;
	int fd = bpfvm_prog_fd(t), err = 0;
	CHECK_EQ(bpfvm_map_update_elem(progs, &key, &fd, 0), 0);
	snprintf(text, sizeof(text), "lddw %%r2, map_fd %d\nmov %%r3, 3\ncall 12\nexit\n", pfd);
	CHECK_EQ(run_text(text, true, BPFVM_EXEC_JIT, &err), 1);
	CHECK_EQ(run_text(text, true, BPFVM_EXEC_INTERP, &err), 0);
	/* a checked run keeps a verified target checked: the interpreter */
	CHECK_EQ(run_text(text, false, BPFVM_EXEC_JIT, &err), 0);
	bpfvm_prog_free(t);
	t = load_asm("call 1004\nexit\n", false);
	fd = bpfvm_prog_fd(t);
	CHECK_EQ(bpfvm_map_update_elem(progs, &key, &fd, 0), 0);
	CHECK_EQ(run_text(text, true, BPFVM_EXEC_JIT, &err), 1);
	CHECK_EQ(run_text(text, false, BPFVM_EXEC_JIT, &err), 1);
	CHECK_EQ(run_text(text, false, BPFVM_EXEC_CHECKED, &err), 0);
	CHECK_EQ(err, 0);
	bpfvm_prog_free(t);
	bpfvm_map_free(progs);
}

/* bpf_loop and bpf_for_each_map_elem callbacks */
static void test_callbacks(void)
{
	/* sum of 3i over 1000 iterations, in the caller's frame */
	static const char loop[] =
		"mov %r1, 1000\nlddw %r2, func cb\nmov %r3, %r10\nadd %r3, -8\nstdw [%r10-8], 0\n"
		"mov %r4, 0\ncall 181\nldxdw %r1, [%r10-8]\nlsh %r0, 32\nor %r0, %r1\nexit\n"
		"cb:\nldxdw %r3, [%r2]\nmul %r1, 3\nadd %r3, %r1\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n";
	modes_case("bpf_loop 1000", loop, true, NULL, false, 0, NULL, (1000ull << 32) | 1498500);
	modes_case("bpf_loop stopping early",
		   "mov %r1, 100\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n"
		   "cb:\nmov %r0, 0\njne %r1, 17, +1\nmov %r0, 1\nexit\n", true, NULL, true, 0, NULL, 18);
	/* bpf_loop from a function two deep, the callback calling a function
	 * and using its frames (the callback's is the one below its caller's) */
	modes_case("bpf_loop at depth 2",
		   "mov %r6, 3\ncall local f\nadd %r0, %r6\nexit\nf:\ncall local g\nexit\n"
		   "g:\nmov %r6, 1000\nstdw [%r10-8], 0\nmov %r1, 20\nlddw %r2, func cb\nmov %r3, %r10\n"
		   "add %r3, -8\nmov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nexit\n"
		   "cb:\nstxdw [%r10-8], %r2\nmov %r6, %r1\ncall local h\nldxdw %r2, [%r10-8]\n"
		   "ldxdw %r3, [%r2]\nadd %r3, %r0\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n"
		   "h:\nstxdw [%r10-8], %r6\nldxdw %r0, [%r10-8]\nadd %r0, %r0\nexit\n",
		   true, NULL, true, 0, NULL, 3 + 380);
	/* the helper's refusals; no calls; the caller's r6..r9 survive a loop
	 * whose callback writes them; loops in callbacks (the inlined loop
	 * keeps its state per frame) */
	modes_case("bpf_loop flags", "mov %r1, 3\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 1\ncall 181\n"
		   "exit\ncb:\nmov %r0, 0\nexit\n", true, NULL, true, 0, NULL, (uint64_t)-EINVAL);
	modes_case("bpf_loop too many", "lddw %r1, 0x800001\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\n"
		   "call 181\nexit\ncb:\nmov %r0, 0\nexit\n", true, NULL, true, 0, NULL, (uint64_t)-E2BIG);
	modes_case("bpf_loop none", "mov %r0, 5\nmov %r1, 0\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\n"
		   "call 181\nexit\ncb:\nmov %r0, 1\nexit\n", true, NULL, true, 0, NULL, 0);
	modes_case("bpf_loop keeps r6-r9",
		   "mov %r6, 1\nmov %r7, 20\nmov %r8, 300\nmov %r9, 4000\nmov %r1, 7\nlddw %r2, func cb\n"
		   "mov %r3, 0\nmov %r4, 0\ncall 181\nadd %r0, %r6\nadd %r0, %r7\nadd %r0, %r8\n"
		   "add %r0, %r9\nexit\n"
		   "cb:\nmov %r6, 9\nmov %r7, 9\nmov %r8, 9\nmov %r9, 9\nstdw [%r10-8], 9\nmov %r0, 0\nexit\n",
		   true, NULL, true, 0, NULL, 7 + 4321);
	modes_case("bpf_loop in a callback",
		   "stdw [%r10-8], 0\nmov %r1, 3\nlddw %r2, func outer\nmov %r3, %r10\nadd %r3, -8\n"
		   "mov %r4, 0\ncall 181\nldxdw %r1, [%r10-8]\nlsh %r0, 16\nor %r0, %r1\nexit\n"
		   "outer:\nmov %r6, %r1\nmov %r7, %r2\nmov %r1, 4\nlddw %r2, func inner\nmov %r3, %r7\n"
		   "mov %r4, 0\ncall 181\nldxdw %r1, [%r7+0]\nadd %r1, %r6\nstxdw [%r7+0], %r1\n"
		   "mov %r0, 0\nexit\n"
		   "inner:\nldxdw %r3, [%r2+0]\nadd %r3, 100\nstxdw [%r2+0], %r3\nmov %r0, 0\nexit\n",
		   true, NULL, true, 0, NULL, (3ull << 16) | (1200 + 3));
	/* callbacks calling bpf_loop until no frame is left */
	modes_case("bpf_loop recursion too deep",
		   "mov %r1, 1\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n"
		   "cb:\nmov %r1, 1\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n",
		   true, NULL, true, -EINVAL, "callback: call stack too deep (more than 8 frames)", 0);
	modes_case("callback faults at depth 3",
		   "call local f\nexit\nf:\ncall local g\nexit\n"
		   "g:\nmov %r1, 4\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n"
		   "cb:\njeq %r1, 2, +2\nmov %r0, 0\nexit\nstdw [%r10-3000], 1\nexit\n",
		   false, NULL, true, -EFAULT, "insn 14: stdw: out-of-bounds store of 8 bytes at r10-3000", 0);
	modes_case("callback aborts in a helper",
		   "mov %r1, 4\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n"
		   "cb:\ncall 1002\nexit\n", true, NULL, true, -EPERM, "aborted by helper, r1=0", 0);
	modes_case("callback runs out of budget",
		   "mov %r1, 4\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n"
		   "cb:\nja -1\nexit\n", false, NULL, false, -ELOOP, NULL, 0);
	/* checked code only: a callback pointer into a block, or into an lddw */
	modes_case("callback entered mid-block",
		   "mov %r1, 3\nlddw %r2, func cb\nadd %r2, 16\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n"
		   "cb:\nmov %r0, 1\nmov %r0, 5\nmov %r0, 0\nadd %r0, 0\nexit\n", false, NULL, true, 0, NULL, 3);
	modes_case("callback entered in an lddw",
		   "mov %r1, 3\nlddw %r2, func cb\nadd %r2, 16\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n"
		   "cb:\nlddw %r0, 0\nexit\n", false, NULL, true, -EINVAL, "insn 9: invalid instruction reached", 0);

	/* a callback that tail-calls: the target's r0 is the callback's */
	struct bpfvm_map *progs = bpfvm_map_create(BPFVM_MAP_TYPE_PROG_ARRAY, "progs", 4, 4, 4, NULL);
	struct bpfvm_map *arr = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "arr", 4, 8, 8, NULL);
	CHECK(progs && arr);
	if (!progs || !arr)
		goto out;
	char text[2048];
	for (uint32_t k = 0; k < 8; k++) {
		uint64_t v = 100 + k * k;
		CHECK_EQ(bpfvm_map_update_elem(arr, &k, &v, 0), 0);
	}
	/* mem[8] = 0 the first time: bpf_loop; then the same program as the
	 * target: mem[0]++ (the callback finds r1 of main in its ctx) */
	snprintf(text, sizeof(text),
		 "ldxdw %%r2, [%%r1+8]\njne %%r2, 0, target\nstdw [%%r1+8], 1\nstxdw [%%r10-8], %%r1\n"
		 "mov %%r1, 5\nlddw %%r2, func cb\nmov %%r3, %%r10\nadd %%r3, -8\nmov %%r4, 0\n"
		 "call 181\nexit\n"
		 "cb:\nldxdw %%r1, [%%r2]\nlddw %%r2, map_fd %d\nmov %%r3, 0\ncall 12\nmov %%r0, 1\nexit\n"
		 "target:\nldxdw %%r2, [%%r1+0]\nadd %%r2, 1\nstxdw [%%r1+0], %%r2\nmov %%r0, 0\nexit\n",
		 bpfvm_map_fd(progs));
	modes_case("callback tail-calls", text, true, progs, true, 0, NULL, 5);
	/* for_each over an array: (map, key, value, ctx); the value until
	 * 125 (key 5) summed (checked runs accept no key: it is on the C stack) */
	snprintf(text, sizeof(text),
		 "lddw %%r1, map_fd %d\nlddw %%r2, func cb\nmov %%r3, %%r10\nadd %%r3, -8\n"
		 "stdw [%%r10-8], 0\nmov %%r4, 0\ncall 164\nldxdw %%r1, [%%r10-8]\nlsh %%r0, 32\n"
		 "or %%r0, %%r1\nexit\n"
		 "cb:\nldxdw %%r0, [%%r3+0]\nldxdw %%r5, [%%r4+0]\nadd %%r5, %%r0\nstxdw [%%r4+0], %%r5\n"
		 "mov %%r5, %%r0\nmov %%r0, 0\njne %%r5, 125, +1\nmov %%r0, 1\nexit\n",
		 bpfvm_map_fd(arr));
	uint64_t want = 0;
	for (uint64_t k = 0; k <= 5; k++)
		want += 100 + k * k;
	modes_case("for_each_map_elem", text, true, NULL, true, 0, NULL, (6ull << 32) | want);

	/* callbacks run native: each iteration sees itself called from the image */
	static const char native[] =
		"mov %r1, 10\nlddw %r2, func cb\nmov %r3, %r10\nadd %r3, -8\nstdw [%r10-8], 0\n"
		"mov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nexit\n"
		"cb:\nmov %r6, %r2\ncall 1004\nldxdw %r3, [%r6]\nadd %r3, %r0\nstxdw [%r6], %r3\n"
		"mov %r0, 0\nexit\n";
	int err = 0;
	CHECK_EQ(run_text(native, true, BPFVM_EXEC_JIT, &err), 10);
	CHECK_EQ(run_text(native, false, BPFVM_EXEC_JIT, &err), 10);
	CHECK_EQ(run_text(native, true, BPFVM_EXEC_INTERP, &err), 0);
	CHECK_EQ(run_text(native, false, BPFVM_EXEC_CHECKED, &err), 0);
	CHECK_EQ(err, 0);
out:
	bpfvm_map_free(progs);
	bpfvm_map_free(arr);
}

/* tests/objects/callbacks.bpf.o, as clang compiles callbacks and tail calls:
 * each program once interpreted and once native, on fresh copies of the
 * object; return values, globals and map values must agree */
struct obj_outcome {
	uint32_t retval[6];
	uint64_t globals[5];
	uint64_t vals[16];
};

static void run_callbacks_object(int mode, struct obj_outcome *o)
{
	static const char *const progs[] = { "loop1000", "each", "tail_entry", "tail_chain", "tail_sub" };
	static const char *const globals[] = { "loop_out", "each_out", "work_out", "chain_cnt", "sub_out" };
	char log[1024] = "";
	struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
	oo.log_buf = log;
	oo.log_size = sizeof(log);
	memset(o, 0xff, sizeof(*o));
	struct bpfvm_object *obj = bpfvm_object_open("tests/objects/callbacks.bpf.o", &oo);
	int err = obj ? bpfvm_object_load(obj) : -ENOENT;
	CHECK_EQ(err, 0);
	if (err) {
		fprintf(stderr, "callbacks.bpf.o: %s\n", log);
		bpfvm_object_close(obj);
		return;
	}
	struct bpfvm_map *vals = bpfvm_object_find_map(obj, "vals");
	for (uint32_t k = 0; k < 16; k++) {
		uint64_t v = 1000 + 3 * k;
		CHECK_EQ(bpfvm_map_update_elem(vals, &k, &v, 0), 0);
	}
	uint8_t pkt[64] = { 0 };
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpfvm_prog *p = bpfvm_object_find_prog(obj, progs[i]);
		CHECK(p && bpfvm_prog_is_verified(p));
		struct bpfvm_test_run_opts t = BPFVM_OPTS_INIT(bpfvm_test_run_opts);
		t.data_in = pkt;
		t.data_size_in = sizeof(pkt);
		t.mode = mode;
		CHECK_EQ(p ? bpfvm_prog_test_run(p, &t) : -ENOENT, 0);
		o->retval[i] = t.retval;
	}
	for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
		CHECK_EQ(bpfvm_object_get_global(obj, globals[i], &o->globals[i], 8), 8);
	for (uint32_t k = 0; k < 16; k++)
		CHECK_EQ(bpfvm_map_lookup_elem(vals, &k, &o->vals[k]), 0);
	bpfvm_object_close(obj);
}

static void test_callbacks_object(void)
{
	static struct obj_outcome oi, oj;
	run_callbacks_object(BPFVM_EXEC_INTERP, &oi);
	run_callbacks_object(BPFVM_EXEC_JIT, &oj);
	CHECK(!memcmp(&oi, &oj, sizeof(oi)));
	uint64_t acc = 1, each = 0;
	for (uint64_t i = 0; i < 1000; i++)
		acc = acc * 31 + (i ^ (acc >> 7));
	for (uint64_t k = 0; k <= 11; k++)
		each += (1000 + 3 * k) * (k + 1);
	CHECK_EQ(oj.globals[0], acc);
	CHECK_EQ(oj.globals[1], each);
	CHECK_EQ(oj.globals[3], 1 + VM_MAX_TAIL_CALLS);	/* chain_cnt */
	CHECK_EQ(oj.globals[4], 4 + 1);			/* sub_out: slots 3 and 0 */
	CHECK_EQ(oj.retval[2], 3);			/* XDP_TX from tail_work */
	CHECK_EQ(oj.retval[3], 1);			/* XDP_DROP after the last */
	CHECK_EQ(oj.retval[4], 3 + 4);			/* tail_work's + sub_out & 7 then */
	CHECK_EQ(oj.vals[11], 1000 + 33 + 1);
	CHECK_EQ(oj.vals[12], 1000 + 36);
}

/* bpf_map_lookup_elem on an ARRAY or PERCPU_ARRAY map is inlined in verified code (the
 * kernel's array_map_gen_lookup): the same pointer as the helper's, NULL for
 * key >= max_entries or (PERCPU_ARRAY) a run.cpu >= nr_cpus; r1 not known at
 * the call keeps the helper */
static bool image_has(const struct bpfvm_prog *p, uint64_t v)
{
	const uint8_t *b = p->jit;
	for (size_t i = 0; b && i + 8 <= p->jit_sz; i++)
		if (!memcmp(b + i, &v, 8))
			return true;
	return false;
}

static void lookup_case(const char *what, struct bpfvm_map *m, const char *pre, uint32_t key,
			bool want_inline)
{
	static const uint8_t mem0[MEM_SZ];
	static struct outcome oi, oc, ov, o0;
	char text[1024], name[160];
	/* r0 = the value pointer (or 0); the value's first word gets key + 7 */
	snprintf(text, sizeof(text),
		 "mov %%r6, %u\nstxw [%%r10-4], %%r6\nlddw %%r1, map_fd %d\nmov %%r2, %%r10\n"
		 "add %%r2, -4\n%scall 1\njeq %%r0, 0, out\nmov %%r1, %u\nstxw [%%r0+0], %%r1\n"
		 "out:\nexit\n", key, bpfvm_map_fd(m), pre, key + 7);
	struct bpfvm_prog *p = load_asm(text, false), *pv = load_asm(text, true);
	snprintf(text, sizeof(text),
		 "mov %%r6, 0\nstxw [%%r10-4], %%r6\nlddw %%r1, map_fd %d\nmov %%r2, %%r10\n"
		 "add %%r2, -4\ncall 1\nexit\n", bpfvm_map_fd(m));
	struct bpfvm_prog *p0 = load_asm(text, false);
	CHECK(p && pv && p0);
	if (!p || !pv || !p0)
		goto out;
	run1(p, BPFVM_EXEC_INTERP, mem0, 0, &oi);
	run1(p, BPFVM_EXEC_CHECKED, mem0, 0, &oc);
	run1(pv, BPFVM_EXEC_JIT, mem0, 0, &ov);
	int cpu = g_run_cpu;
	g_run_cpu = 0;
	run1(p0, BPFVM_EXEC_INTERP, mem0, 0, &o0);	/* the values' base */
	g_run_cpu = cpu;
	snprintf(name, sizeof(name), "lookup %s key %u: interp vs checked", what, key);
	same(name, key, &oi, &oc, 0, false);
	snprintf(name, sizeof(name), "lookup %s key %u: interp vs jit(verified)", what, key);
	same(name, key, &oi, &ov, 0, false);
	CHECK_EQ(ov.err, 0);
	CHECK_EQ(ov.r0 == 0, key >= bpfvm_map_max_entries(m) ||
				(bpfvm_map_type(m) == BPFVM_MAP_TYPE_PERCPU_ARRAY &&
				 (uint32_t)g_run_cpu >= (uint32_t)bpfvm_nr_cpus()));
	CHECK(o0.r0 != 0);
	CHECK_EQ(image_has(pv, o0.r0), want_inline);
	if (ov.r0) {
		uint8_t v[64] = { 0 };
		uint32_t got;
		if (bpfvm_map_type(m) == BPFVM_MAP_TYPE_ARRAY) {
			CHECK_EQ(bpfvm_map_lookup_elem(m, &key, v), 0);
			memcpy(&got, v, 4);
			CHECK_EQ(got, key + 7);
		}
	}
out:
	bpfvm_prog_free(p);
	bpfvm_prog_free(pv);
	bpfvm_prog_free(p0);
}

static void test_inline_lookup(void)
{
	static const uint32_t keys[] = { 0, 1, 4, 5, 6, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff };
	/* strides 8, 16 (shift) and 24 (imul); ARRAY and PERCPU_ARRAY */
	struct bpfvm_map *a8 = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "a8", 4, 8, 5, NULL);
	struct bpfvm_map *a24 = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "a24", 4, 20, 5, NULL);
	struct bpfvm_map *pc = bpfvm_map_create(BPFVM_MAP_TYPE_PERCPU_ARRAY, "pc", 4, 16, 5, NULL);
	struct bpfvm_map *pc24 = bpfvm_map_create(BPFVM_MAP_TYPE_PERCPU_ARRAY, "pc24", 4, 24, 5, NULL);
	CHECK(a8 && a24 && pc && pc24);
	if (!a8 || !a24 || !pc || !pc24)
		goto out;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		lookup_case("array/8", a8, "", keys[i], true);
		lookup_case("array/24", a24, "", keys[i], true);
		/* the run's CPU: in range, and not (the helper's NULL) */
		int cpus[] = { 0, 1, bpfvm_nr_cpus() - 1, bpfvm_nr_cpus(), -1 };
		for (size_t k = 0; k < sizeof(cpus) / sizeof(cpus[0]); k++) {
			g_run_cpu = cpus[k];
			lookup_case("percpu_array", pc, "", keys[i], true);
			lookup_case("percpu_array/24", pc24, "", keys[i], true);
		}
		g_run_cpu = 0;
		/* r1 written (or maybe written) between the lddw and the call */
		lookup_case("array/8, r1 copied", a8, "mov %r7, %r1\nmov %r1, %r7\n", keys[i], false);
		lookup_case("array/8, a jump in between", a8, "ja +0\n", keys[i], false);
		lookup_case("array/24, other regs written", a24,
			    "mov %r3, 1\nlddw %r4, 5\nstdw [%r10-16], 3\n", keys[i], true);
	}
out:
	bpfvm_map_free(a8);
	bpfvm_map_free(a24);
	bpfvm_map_free(pc);
	bpfvm_map_free(pc24);
}

/* the code around an inlined lookup: the lddw of the map and `r2 = r10 +
 * K` left out when nothing else reads them (the key is read at its slot),
 * `if r0 == 0` / `if r0 != 0` after the call merged with the range check;
 * not when something else reads r1 or r2, or jumps to the test */
static void test_inline_lookup_forms(void)
{
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "a", 4, 8, 5, NULL);
	CHECK(m != NULL);
	if (!m)
		return;
	for (uint32_t k = 0; k < 5; k++) {
		uint64_t v = 1000 + k;
		CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
	}
	static const struct {
		const char *name, *pre, *post;
		bool key3;	/* the lookup sees key 3 */
		bool r1_read;	/* the lddw of the map stays */
	} forms[] = {
		{ "jeq", "", "", false, false },
		{ "jne", "", "jne", false, false },
		{ "key rewritten after r2", "stw [%r10-4], 3\n", "", true, false },
		{ "r2 read", "mov %r3, %r2\n", "", false, false },
		{ "r2 read, jne", "mov %r4, %r2\nmov %r3, %r4\n", "jne", false, false },
		{ "r1 read", "mov %r3, %r1\n", "", false, true },
		{ "r1 and r2 read", "mov %r3, %r1\nmov %r4, %r2\n", "jne", false, true },
		{ "test jumped to", "", "target", false, false },
	};
	static const uint32_t keys[] = { 0, 1, 4, 5, 0x80000000, 0xffffffff };
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			char text[1024], name[160];
			const char *post = forms[f].post;
			const char *test = !strcmp(post, "jne")
				? "jne %r0, 0, found\nadd %r0, 99\nexit\nfound:\nldxdw %r0, [%r0+0]\nexit\n"
				: "jeq %r0, 0, out\nldxdw %r0, [%r0+0]\nexit\nout:\nadd %r0, 99\nexit\n";
			snprintf(text, sizeof(text),
				 "mov %%r0, 0\n%s"
				 "start:\nmov %%r6, %u\nstxw [%%r10-4], %%r6\nlddw %%r1, map_fd %d\n"
				 "mov %%r2, %%r10\nadd %%r2, -4\n%scall 1\nchk:\n%s",
				 !strcmp(post, "target") ? "jne %r1, 0, start\nja chk\n" : "",
				 keys[i], bpfvm_map_fd(m), forms[f].pre, test);
			uint32_t key = forms[f].key3 ? 3 : keys[i];
			snprintf(name, sizeof(name), "inlined lookup, %s, key %u", forms[f].name, keys[i]);
			modes_case(name, text, true, NULL, false, 0, NULL, key < 5 ? 1000 + key : 99);
			/* the map's address is in the code only when r1 is read */
			struct bpfvm_prog *p = load_asm(text, true);
			CHECK(p && bpfvm_prog_jit(p, NULL, 0) == 0);
			if (p)
				CHECK_EQ(image_has(p, (uint64_t)(uintptr_t)m), forms[f].r1_read);
			bpfvm_prog_free(p);
		}
	}
	bpfvm_map_free(m);
}

/* -------------------------------------------- API, memory, threads */

static void *race_thread(void *arg)
{
	struct bpfvm_prog *p = arg;
	struct bpfvm_run_opts r = BPFVM_OPTS_INIT(bpfvm_run_opts);
	r.mode = BPFVM_EXEC_JIT;
	uint64_t bad = 0;
	for (int i = 0; i < 200; i++)
		bad += bpfvm_prog_run(p, &r) != 0 || r.retval != 4950;
	return (void *)(uintptr_t)bad;
}

static void test_api(void)
{
	CHECK_EQ(bpfvm_prog_jit(NULL, NULL, 0), -EINVAL);
	struct bpfvm_prog *p = load_asm("mov %r0, 0\nmov %r1, 0\nl:\nadd %r0, %r1\nadd %r1, 1\n"
					"jlt %r1, 100, l\nexit\n", false);
	CHECK(p != NULL);
	if (!p)
		return;
	/* lazily compiled by racing threads: one compiles, all get it */
	pthread_t t[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, race_thread, p);
	for (int i = 0; i < 8; i++) {
		void *bad;
		pthread_join(t[i], &bad);
		CHECK_EQ((uintptr_t)bad, 0);
	}
	CHECK_EQ(bpfvm_prog_jit(p, NULL, 0), 0);
	CHECK(p->jit_checked);
	/* W^X: the code is not writable */
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perm[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) == 3 &&
		    (uintptr_t)p->jit >= lo && (uintptr_t)p->jit < hi) {
			found = true;
			CHECK_STR(perm, "r-xp");
		}
	}
	if (f)
		fclose(f);
	CHECK(found);
	/* AUTO picks the JIT for a verified program that has code */
	bpfvm_prog_free(p);
	p = load_asm("mov %r0, 3\nexit\n", true);
	CHECK_EQ(bpfvm_prog_jit(p, NULL, 0), 0);
	CHECK(!p->jit_checked);
	struct bpfvm_run_opts r = BPFVM_OPTS_INIT(bpfvm_run_opts);
	CHECK_EQ(bpfvm_prog_run(p, &r), 0);
	CHECK_EQ(r.retval, 3);
	bpfvm_prog_free(p);
}

/* a long program: jumps across thousands of instructions converge */
static void test_large(void)
{
	static struct prog_buf b;
	static const uint8_t mem0[MEM_SZ];
	b.n = 0;
	put(&b, 0xb7, 0, 0, 0, 0);				/* mov r0, 0 */
	put(&b, 0xb7, 1, 0, 0, 0);				/* mov r1, 0 */
	size_t top = b.n;
	size_t skip = put(&b, 0x25, 0, 0, 0, 1 << 30);		/* jgt r0, 1<<30, end */
	for (int i = 0; i < 20000; i++)
		put(&b, 0x07, 0, 0, 0, i & 7 ? 1 : 3);		/* add r0, 1|3 */
	put(&b, 0x07, 1, 0, 0, 1);				/* add r1, 1 */
	size_t back = put(&b, 0xa5, 1, 0, 0, 5);		/* jlt r1, 5, top */
	b.v[back].off = (int16_t)((long)top - (long)back - 1);
	b.v[skip].off = (int16_t)(b.n - skip - 1);
	put(&b, 0x95, 0, 0, 0, 0);				/* exit */
	compare_modes("large", 0, b.v, b.n, mem0, true, 0, 0, NULL);
}

/* ------------------------------------------------ constant blinding */

/* does the image of p hold the n bytes at v? */
static bool image_holds(const struct bpfvm_prog *p, const void *v, size_t n)
{
	const void *code;
	size_t sz;
	if (bpfvm_prog_jited(p, &code, &sz, NULL, NULL))
		return false;
	for (size_t i = 0; i + n <= sz; i++)
		if (!memcmp((const uint8_t *)code + i, v, n))
			return true;
	return false;
}

/* Distinctive constants in every form that takes one: unblinded they are in
 * the image, blinded they are not (for several compiles, each with its own
 * keys), and the results are the interpreter's. */
static void test_blind_image(void)
{
	static struct prog_buf b;
	static const uint8_t mem0[MEM_SZ];
	static const uint32_t k32[] = { 0x41424344, 0x3c3d3e3f, 0x12345678, 0x5a5b5c5d, 0x61626364,
					0x71727374, 0x2b2c2d2e, 0x0d0e0f10, 0x19283746 };
	const uint64_t k64 = 0x1122334455667788ull;
	b.n = 0;
	put(&b, 0xb7, 0, 0, 0, (int32_t)k32[0]);		/* mov r0, K0 */
	put(&b, 0xb7, 1, 0, 0, 0);				/* mov r1, 0 */
	put(&b, 0x07, 1, 0, 0, (int32_t)k32[1]);		/* add r1, K1 */
	put(&b, 0x15, 1, 0, 1, (int32_t)k32[2]);		/* jeq r1, K2, +1 */
	put(&b, 0x07, 0, 0, 0, 1);				/* add r0, 1 */
	put_lddw(&b, 2, k64);					/* lddw r2, K64 */
	put(&b, 0x62, 10, 0, -8, (int32_t)k32[3]);		/* stw [r10-8], K3 */
	put(&b, 0xb4, 3, 0, 0, (int32_t)k32[4]);		/* mov32 r3, K4 */
	put(&b, 0x2f, 3, 2, 0, 0);				/* mul r3, r2 */
	put(&b, 0x27, 3, 0, 0, (int32_t)k32[5]);		/* mul r3, K5 */
	put(&b, 0x37, 3, 0, 0, (int32_t)k32[6]);		/* div r3, K6 */
	put(&b, 0x45, 3, 0, 1, (int32_t)k32[7]);		/* jset r3, K7, +1 */
	put(&b, 0xa4, 3, 0, 0, (int32_t)k32[8]);		/* xor32 r3, K8 */
	put(&b, 0x61, 4, 10, -8, 0);				/* ldxw r4, [r10-8] */
	put(&b, 0x0f, 0, 1, 0, 0);				/* add r0, r1 */
	put(&b, 0x0f, 0, 2, 0, 0);				/* add r0, r2 */
	put(&b, 0x0f, 0, 3, 0, 0);				/* add r0, r3 */
	put(&b, 0x0f, 0, 4, 0, 0);				/* add r0, r4 */
	put(&b, 0x95, 0, 0, 0, 0);				/* exit */
	static struct outcome oi, oj;
	void *img[2][2] = { { NULL } };
	for (int verified = 0; verified < 2; verified++) {
		struct bpfvm_prog *p = load(b.v, b.n, verified);
		CHECK(p != NULL);
		if (!p)
			return;
		run1(p, BPFVM_EXEC_CHECKED, mem0, 0, &oi);
		CHECK_EQ(bpfvm_prog_jit(p, NULL, 0), 0);	/* the default: not blinded */
		CHECK(!p->jit_blinded);
		for (size_t i = 0; i < sizeof(k32) / sizeof(k32[0]); i++)
			CHECK(image_holds(p, &k32[i], 4));
		CHECK(image_holds(p, &k64, 8));
		/* compiled without blinding: too late to ask for it */
		struct bpfvm_jit_opts jo = BPFVM_OPTS(bpfvm_jit_opts, .flags = BPFVM_JIT_BLIND);
		char log[128] = "";
		CHECK_EQ(bpfvm_prog_jit_opts(p, &jo, log, sizeof(log)), -EBUSY);
		CHECK_CONTAINS(log, "without constant blinding");
		bpfvm_prog_free(p);
		for (int k = 0; k < 8; k++) {
			p = load(b.v, b.n, verified);
			CHECK(p != NULL);
			if (!p)
				return;
			CHECK_EQ(bpfvm_prog_jit_opts(p, &jo, NULL, 0), 0);
			CHECK(p->jit_blinded);
			CHECK_EQ(bpfvm_prog_jit_opts(p, NULL, NULL, 0), 0);
			CHECK_EQ(bpfvm_prog_jit_opts(p, &jo, NULL, 0), 0);
			for (size_t i = 0; i < sizeof(k32) / sizeof(k32[0]); i++)
				CHECK(!image_holds(p, &k32[i], 4));
			CHECK(!image_holds(p, &k64, 8));
			CHECK(!image_holds(p, (const uint8_t *)&k64 + 4, 4));
			CHECK(!image_holds(p, &k64, 4));
			g_blind = true;
			run1(p, BPFVM_EXEC_JIT, mem0, 0, &oj);
			g_blind = false;
			same("blinded constants", (uint64_t)k, &oi, &oj, 0, false);
			/* each compile draws its own keys */
			const void *code;
			size_t sz;
			CHECK_EQ(bpfvm_prog_jited(p, &code, &sz, NULL, NULL), 0);
			if (k < 2) {
				img[verified][k] = malloc(sz);
				if (img[verified][k])
					memcpy(img[verified][k], code, sz);
			}
			if (k == 1 && img[verified][0] && img[verified][1])
				CHECK(memcmp(img[verified][0], img[verified][1], sz) != 0);
			bpfvm_prog_free(p);
		}
		free(img[verified][0]);
		free(img[verified][1]);
	}
	struct bpfvm_jit_opts bad = BPFVM_OPTS(bpfvm_jit_opts, .flags = 0x80);
	struct bpfvm_prog *p = load(b.v, b.n, true);
	CHECK_EQ(bpfvm_prog_jit_opts(p, &bad, NULL, 0), -EINVAL);
	bpfvm_prog_free(p);
}

/* Everything that compares the JIT with the interpreters, again with every
 * program blinded (bpfvm_jit_set_harden): the same results, faults, messages
 * and executed counts. */
static void test_blinded(void)
{
	int old = bpfvm_jit_set_harden(1);
	CHECK_EQ(old, 0);
	g_blind = true;
	test_cases();
	test_maps_and_calls();
	test_tail_calls();
	test_callbacks();
	test_callbacks_object();
	test_inline_lookup();
	test_inline_lookup_forms();
	test_alu_grid();
	test_jmp_grid();
	test_mem_grid();
	test_random(1500, true);
	test_random(200, false);
	test_random_faults(1000);
	test_budget_sweep(40);
	test_large();
	g_blind = false;
	CHECK_EQ(bpfvm_jit_set_harden(old), 1);
	printf("blinded: done\n");
}

/* A compile that fails is remembered: the same error and message at once,
 * no second compile, also for a tail call into the program (which then runs
 * in the interpreter). */
static void test_failed_compile(void)
{
	struct bpfvm_map *progs = bpfvm_map_create(BPFVM_MAP_TYPE_PROG_ARRAY, "progs", 4, 4, 8, NULL);
	struct bpfvm_prog *t = load_asm("mov %r0, 42\nexit\n", true);
	CHECK(progs != NULL && t != NULL);
	if (!progs || !t)
		return;
	size_t max_len = jit_x86_64_max_len;
	jit_x86_64_max_len = 64;	/* less than any image: -E2BIG */
	unsigned long cnt = jit_compile_cnt;
	char log1[128] = "", log2[128] = "";
	CHECK_EQ(bpfvm_prog_jit(t, log1, sizeof(log1)), -E2BIG);
	CHECK_STR(log1, "JIT: program too large");
	CHECK_EQ(jit_compile_cnt, cnt + 1);
	jit_x86_64_max_len = max_len;	/* it would fit now: still not tried again */
	CHECK_EQ(bpfvm_prog_jit(t, log2, sizeof(log2)), -E2BIG);
	CHECK_STR(log2, log1);
	struct bpfvm_jit_opts jo = BPFVM_OPTS(bpfvm_jit_opts, .flags = BPFVM_JIT_BLIND);
	CHECK_EQ(bpfvm_prog_jit_opts(t, &jo, NULL, 0), -E2BIG);
	static const uint8_t mem0[MEM_SZ];
	static struct outcome o;
	run1(t, BPFVM_EXEC_JIT, mem0, 0, &o);
	CHECK_EQ(o.err, -E2BIG);
	CHECK_STR(o.msg, log1);
	CHECK_EQ(jit_compile_cnt, cnt + 1);
	/* tail calls into it: the interpreter runs it, every time */
	uint32_t key = 1;
	int fd = bpfvm_prog_fd(t);
	CHECK_EQ(bpfvm_map_update_elem(progs, &key, &fd, 0), 0);
	char text[256];
	snprintf(text, sizeof(text), "lddw %%r2, map_fd %d\nmov %%r3, 1\ncall 12\nmov %%r0, 7\nexit\n",
		 bpfvm_map_fd(progs));
	struct bpfvm_prog *p = load_asm(text, true);
	CHECK(p != NULL);
	for (int i = 0; p && i < 5; i++) {
		run1(p, BPFVM_EXEC_JIT, mem0, 0, &o);
		CHECK_EQ(o.err, 0);
		CHECK_EQ(o.r0, 42);
	}
	CHECK_EQ(jit_compile_cnt, cnt + 2);	/* the caller's only */
	bpfvm_prog_free(p);
	bpfvm_map_delete_elem(progs, &key);
	bpfvm_prog_free(t);
	bpfvm_map_free(progs);
}

int main(void)
{
	struct bpfvm_prog *probe = load_asm("mov %r0, 0\nexit\n", false);
	int jerr = probe ? bpfvm_prog_jit(probe, NULL, 0) : -EINVAL;
	bpfvm_prog_free(probe);
	if (jerr == -EOPNOTSUPP) {
		printf("no JIT for this architecture\n");
		return 77;
	}
	collect_ops();
	test_api();
	test_cases();
	test_maps_and_calls();
	test_tail_calls();
	test_callbacks();
	test_callbacks_object();
	test_inline_lookup();
	test_inline_lookup_forms();
	test_alu_grid();
	test_jmp_grid();
	test_mem_grid();
	test_random(3000, true);
	test_random(300, false);
	test_random_faults(2000);
	test_budget_sweep(100);
	test_large();
	test_blind_image();
	test_failed_compile();
	test_blinded();
	/* every row of opcodes.def went through the JIT (map/BTF lddw forms and
	 * kfunc calls need a loaded object; call and exit are in every program) */
	for (int op = 1; op < OP_CNT; op++) {
		uint8_t fmt = isa_ops[op].fmt;
		if (fmt == FMT_LDDW && op != OP_LDDW && op != OP_LDDW_FUNC)
			continue;
		if (fmt == FMT_CALL || fmt == FMT_CALL_KFUNC || fmt == FMT_EXIT)
			continue;
		if (!op_used[op])
			fprintf(stderr, "op %s never generated\n", isa_ops[op].name);
		CHECK(op_used[op] > 0);
	}
	return TEST_DONE();
}
