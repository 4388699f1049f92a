/* test_jit_random.c — random programs shaped for the JIT's optimised paths
 * (mov/add/access folding, 32-bit lea, a conditional jump over a jump, short
 * block copies, flag reuse, loops, bpf-to-bpf calls), each run four ways:
 * fast interpreter and JIT code with the program marked verified (the
 * programs are safe by construction: they touch only their stack and a
 * buffer), checked interpreter and checked JIT code.  r0, the error, the
 * buffer and the stack must agree, and the executed count between the two
 * checked modes.
 *
 *   build/tests/test_jit_random [COUNT]      (SEED=first seed; DIS=1 prints
 *   each program, SHOW=1 the differing bytes of a mismatch; the second half
 *   of the programs runs with constant blinding, BLIND=1: all of them)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bpfvm.h"
#include "bpfvm/jit.h"
#include "exec/vm.h"
#include "exec/jit.h"

#define MEM_SZ 512
static uint8_t g_stack[512];
static int g_dumped;
static uint64_t h_dump(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, struct bpfvm_run *run)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	memcpy(g_stack, run->stack + VM_STACK_TOTAL - 512, 512);
	g_dumped = 1;
	return 0;
}
static const struct bpfvm_helper helpers[] = { { 1001, "dump", h_dump } };

static struct bpf_insn v[4096];
static size_t n;
static uint64_t S;
static uint64_t rnd(void) { S ^= S >> 12; S ^= S << 25; S ^= S >> 27; return S * 0x2545f4914f6cdd1dull; }
static unsigned R(unsigned k) { return (unsigned)(rnd() % k); }
static size_t put(uint8_t code, int dst, int src, int off, int32_t imm)
{
	v[n] = (struct bpf_insn){ code, (unsigned)dst, (unsigned)src, (int16_t)off, imm };
	return n++;
}
static const int data_regs[] = { 0, 2, 3, 4, 5, 6, 7, 8 };
static int dreg(void) { return data_regs[R(8)]; }

static void alu(void)
{
	static const uint8_t imm_ops[] = { 0x07, 0x17, 0x27, 0x47, 0x57, 0xa7, 0xb7, 0x04, 0x14, 0x24, 0x44, 0x54, 0xa4, 0xb4, 0x77, 0x67, 0xc7, 0x74, 0x64 };
	static const uint8_t reg_ops[] = { 0x0f, 0x1f, 0x2f, 0x4f, 0x5f, 0xaf, 0xbf, 0x0c, 0x1c, 0x2c, 0x4c, 0x5c, 0xac, 0xbc };
	int d = dreg();
	if (R(2)) {
		uint8_t op = imm_ops[R(sizeof(imm_ops))];
		int32_t imm = R(3) ? (int32_t)R(300) - 150 : (int32_t)rnd();
		if (op == 0x77 || op == 0x67 || op == 0xc7) imm &= 63;
		if (op == 0x74 || op == 0x64) imm &= 31;
		put(op, d, 0, 0, imm);
	} else {
		put(reg_ops[R(sizeof(reg_ops))], d, dreg(), 0, 0);
	}
}

/* mov t, base; add t, idx|imm; access [t+off]; maybe use t after */
static void access(void)
{
	int t = dreg(), b;
	do b = dreg(); while (b == t);
	bool stack = R(3) == 0, x = R(2);
	static const uint8_t sz[] = { 0x00, 0x08, 0x10, 0x18 }; /* W H B DW */
	int size_code = sz[R(4)], size = size_code == 0x18 ? 8 : size_code == 0 ? 4 : size_code == 0x08 ? 2 : 1;
	int32_t imm = 0;
	if (x) {
		put(0x57, b, 0, 0, stack ? 0xf8 : 0xff);	/* and b, mask */
		if (stack) put(0x87, b, 0, 0, 0);		/* neg b */
	} else {
		imm = stack ? -(int32_t)R(31) * 8 : (int32_t)R(256);
	}
	bool w32 = !stack && R(6) == 0; /* lea32 form on a pointer: then no access */
	if (w32) {
		put(0xbc, t, 1, 0, 0);
		put(x ? 0x0c : 0x04, t, x ? b : 0, 0, imm);
		return;
	}
	put(0xbf, t, stack ? 10 : 1, 0, 0);			/* mov t, base */
	put(x ? 0x0f : 0x07, t, x ? b : 0, 0, imm);			/* add t, b|imm */
	int off = stack ? -8 - 8 * (int)R(28) : (int)R(32) * 7 % 240;
	if (size > 1) off &= ~(size - 1);
	if (stack) off &= ~7;
	int d;
	switch (R(4)) {
	case 0: put(0x61 | size_code, t, t, off, 0); break;		/* ldx t, [t+off] */
	case 1: do d = dreg(); while (d == t); put(0x61 | size_code, d, t, off, 0); break;
	case 2: do d = dreg(); while (d == t); put(0x63 | size_code, t, d, off, 0); break; /* stx */
	default: put(0x62 | size_code, t, 0, off, (int32_t)rnd()); break;		/* st */
	}
	switch (stack ? 1 : R(3)) {
	case 0: put(0x0f, 0, t, 0, 0); break;			/* add r0, t (t live) */
	case 1: put(0xb7, t, 0, 0, (int32_t)R(100)); break;	/* t dead */
	default: break;
	}
}

static void rot(void)
{
	int r = dreg(), t;
	do t = dreg(); while (t == r);
	bool w = R(2);
	unsigned bits = w ? 64 : 32, sh = 1 + R(bits - 1);
	bool rfirst = R(2);
	put(w ? 0xbf : 0xbc, t, r, 0, 0);
	put(w ? (rfirst ? 0x77 : 0x67) : (rfirst ? 0x74 : 0x64), t, 0, 0, (int32_t)sh);
	put(w ? (rfirst ? 0x67 : 0x77) : (rfirst ? 0x64 : 0x74), r, 0, 0, (int32_t)(bits - sh));
	put(w ? 0x4f : 0x4c, r, t, 0, 0);
	if (R(2)) put(0x0f, 0, t, 0, 0); else if (R(2)) put(0xb7, t, 0, 0, 5);
}

static size_t exit_jumps[64], n_exit;
static size_t call_sites[64], n_call;
static int call_fn[64];
#define NF 4

static void chunk(int depth);

static void jump_over_ja(void)
{
	static const uint8_t jops[] = { 0x15, 0x55, 0x25, 0x35, 0xa5, 0xb5, 0x65, 0x75, 0xc5, 0xd5, 0x45, 0x1d, 0x5d, 0x2d, 0xad, 0x6d, 0x16, 0x56, 0x26, 0xa6, 0x66, 0xc6, 0x4d };
	uint8_t op = jops[R(sizeof(jops))];
	if (op & 8) put(op, dreg(), dreg(), 1, 0); else put(op, dreg(), 0, 1, R(2) ? (int32_t)R(20) - 10 : (int32_t)rnd());
	int k = 1 + R(3);
	put(0x05, 0, 0, k, 0);
	for (int i = 0; i < k; i++) alu();
}

/* flags: an ALU op, flag-neutral insns, a jump on zero */
static void flags(void)
{
	int d = dreg();
	static const uint8_t ops[] = { 0x07, 0x17, 0x57, 0x47, 0xa7, 0x04, 0x14, 0x54, 0x44, 0xa4, 0x0f, 0x1f, 0x5f, 0x4f, 0xaf, 0x87, 0x84 };
	uint8_t op = ops[R(sizeof(ops))];
	if (op == 0x87 || op == 0x84) put(op, d, 0, 0, 0); else if (op & 8) put(op, d, dreg(), 0, 0); else put(op, d, 0, 0, (int32_t)R(16) - 8);
	int k = R(3);
	for (int i = 0; i < k; i++) {
		int e; do e = dreg(); while (e == d && R(4));
		switch (R(5)) {
		case 0: put(0xbf, e, dreg(), 0, 0); break;
		case 1: put(0xb7, e, 0, 0, (int32_t)R(5)); break;
		case 2: put(0x7b, 10, dreg(), -8 - 8 * (int)R(8), 0); break;
		case 3: put(0x79, e, 10, -8 - 8 * (int)R(8), 0); break;
		default: put(0xbc, e, dreg(), 0, 0); break;
		}
	}
	static const uint8_t jz[] = { 0x15, 0x55, 0x16, 0x56, 0x65, 0xc5, 0x66, 0xc6, 0x25, 0x45 };
	uint8_t j = jz[R(sizeof(jz))];
	put(j, d, 0, 1 + R(2), 0);
	alu();
	alu();
}

/* a counted loop whose paths meet at a latch */
static void loop(int depth)
{
	if (depth > 0) { chunk(depth + 1); return; }
	put(0xb7, 9, 0, 0, 1 + R(4));			/* mov r9, N */
	size_t head = n;
	alu();
	size_t j = put(0x15 | (R(2) << 4), dreg(), 0, 0, (int32_t)R(4));	/* jeq/jgt d, imm, +? */
	alu();
	size_t ja = put(0x05, 0, 0, 0, 0);		/* ja latch */
	v[j].off = (int16_t)(n - j - 1);
	if (R(2)) access(); else alu();
	alu();
	size_t latch = n;
	v[ja].off = (int16_t)(latch - ja - 1);
	for (int i = R(3); i > 0; i--) alu();
	put(0x07, 9, 0, 0, -1);				/* add r9, -1 */
	put(0x55, 9, 0, (int)head - (int)n - 1, 0);	/* jne r9, 0, head */
}

static void chunk(int depth)
{
	switch (R(8)) {
	case 0: alu(); break;
	case 6: rot(); break;
	case 1: access(); break;
	case 2: jump_over_ja(); break;
	case 3: flags(); break;
	case 4: loop(depth); break;
	case 5:
		if (n_call < 64) {
			call_fn[n_call] = R(NF);
			call_sites[n_call++] = put(0x85, 0, 1, 0, 0);	/* call local f */
			put(0x79, 1, 10, -512, 0);			/* r1 = the memory again */
			for (int r = 2; r <= 5; r++) put(0xb7, r, 0, 0, (int32_t)rnd());	/* r2..r5: no longer defined */
		}
		break;
	default:
		if (n_exit < 64) {
			put(0x15 | (R(2) << 4), dreg(), 0, 1, (int32_t)R(3));
			exit_jumps[n_exit++] = put(0x05, 0, 0, 0, 0);	/* ja exit block */
		}
		break;
	}
}

static struct bpfvm_prog *load(bool verified)
{
	char log[256] = "";
	struct bpfvm_prog_opts o = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	o.helpers = helpers;
	o.helper_cnt = 1;
	o.log_buf = log;
	o.log_size = sizeof(log);
	struct bpfvm_prog *p = bpfvm_prog_from_insns(v, n, &o);
	if (!p) { fprintf(stderr, "load: %s\n", log); exit(1); }
	p->verified = verified;
	return p;
}

struct out { int err; uint64_t r0, exec; uint8_t mem[MEM_SZ], stack[512]; int dumped; char msg[256]; };
static uint8_t mem0[MEM_SZ], g_mem[MEM_SZ];
static void run(struct bpfvm_prog *p, int mode, struct out *o)
{
	memcpy(g_mem, mem0, MEM_SZ);
	memset(o, 0, sizeof(*o));
	g_dumped = 0;
	struct bpfvm_run_opts r = BPFVM_OPTS_INIT(bpfvm_run_opts);
	r.mem = g_mem; r.mem_sz = MEM_SZ; r.mode = mode; r.err_buf = o->msg; r.err_size = sizeof(o->msg);
	o->err = bpfvm_prog_run(p, &r);
	o->r0 = r.retval;
	o->exec = r.insn_executed;
	memcpy(o->mem, g_mem, MEM_SZ);
	o->dumped = g_dumped;
	if (g_dumped) memcpy(o->stack, g_stack, 512);
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 3000, bad = 0;
	int first = getenv("SEED") ? atoi(getenv("SEED")) : 1;
	bool blind_all = getenv("BLIND") != NULL;
	for (int seed = first; seed < first + count; seed++) {
		bpfvm_jit_set_harden(blind_all || seed - first >= count / 2);
		S = 0x9e3779b97f4a7c15ull * (uint64_t)seed + 1;
		for (int i = 0; i < MEM_SZ; i++) mem0[i] = (uint8_t)rnd();
		n = 0; n_exit = 0; n_call = 0;
		put(0x7a, 10, 0, -8, 0);
		for (int i = 0; i < 8; i++) {
			int r = data_regs[i];
			put(0x18, r, 0, 0, (int32_t)rnd()); put(0, 0, 0, 0, R(2) ? 0 : (int32_t)rnd());
		}
		for (int i = 1; i <= 63; i++) put(0x7b, 10, dreg(), -8 * i, 0);	/* init stack */
		put(0x7b, 10, 1, -512, 0);
		int chunks = 4 + R(20);
		for (int i = 0; i < chunks; i++) chunk(0);
		for (int r = 0; r < 10; r++) put(0x7b, 10, r == 1 ? 0 : r, -8 * (r + 1) - 256, 0);
		put(0x85, 0, 0, 0, 1001);
		put(0x79, 0, 10, -8 - 256, 0);
		put(0x95, 0, 0, 0, 0);
		size_t ex = n;
		put(0x0f, 0, 3, 0, 0);
		put(0x95, 0, 0, 0, 0);
		for (size_t i = 0; i < n_exit; i++) v[exit_jumps[i]].off = (int16_t)(ex - exit_jumps[i] - 1);
		/* the functions: ALU work on any register, maybe the stack, maybe a call of a later one */
		size_t fstart[NF];
		size_t inner_sites[NF]; int inner_fn[NF];
		for (int f = 0; f < NF; f++) {
			fstart[f] = n;
			inner_sites[f] = 0;
			int k = 1 + R(5);
			for (int i = 0; i < k; i++) {
				int d = R(10);
				if (R(2)) put(0xb7, d, 0, 0, (int32_t)R(1000)); else put(0x0f, d, R(10), 0, 0);
			}
			if (R(2)) { int sl = -8 * (1 + (int)R(4)); put(0x7b, 10, R(10), sl, 0); put(0x79, R(10), 10, sl, 0); }
			if (f + 1 < NF && R(2)) { inner_fn[f] = f + 1 + R(NF - f - 1); inner_sites[f] = put(0x85, 0, 1, 0, 0); }
			put(0x0f, 0, R(10), 0, 0);
			put(0x95, 0, 0, 0, 0);
		}
		for (int f = 0; f < NF; f++)
			if (inner_sites[f]) v[inner_sites[f]].imm = (int32_t)(fstart[inner_fn[f]] - inner_sites[f] - 1);
		for (size_t i = 0; i < n_call; i++) v[call_sites[i]].imm = (int32_t)(fstart[call_fn[i]] - call_sites[i] - 1);
		if (getenv("TRACE")) { fprintf(stderr, "seed %d\n", seed); }
		if (getenv("DIS")) { char *t = bpfvm_disasm(v, n, BPFVM_DISASM_INDEX); fprintf(stderr, "%s\n", t); free(t); }
		struct bpfvm_prog *pv = load(true), *pu = load(false);
		static struct out oi, oj, oc, ock;
		run(pv, BPFVM_EXEC_INTERP, &oi);
		run(pv, BPFVM_EXEC_JIT, &oj);
		run(pu, BPFVM_EXEC_JIT, &oc);
		run(pu, BPFVM_EXEC_CHECKED, &ock);
		bool ok1 = oi.err == oj.err && oi.r0 == oj.r0 && !memcmp(oi.mem, oj.mem, MEM_SZ) && oi.dumped == oj.dumped && (!oi.dumped || !memcmp(oi.stack, oj.stack, 512));
		bool ok2 = ock.err == oc.err && ock.r0 == oc.r0 && ock.exec == oc.exec && !memcmp(ock.mem, oc.mem, MEM_SZ) && ock.dumped == oc.dumped && (!ock.dumped || !memcmp(ock.stack, oc.stack, 512));
		if (oi.err) { fprintf(stderr, "seed %d: interp error %d %s\n", seed, oi.err, oi.msg); bad++; }
		if (!ok1 || !ok2) {
			if (bad++ < 5) {
				fprintf(stderr, "seed %d: %s%s r0 %" PRIx64 " %" PRIx64 " %" PRIx64 " err %d %d %d\n", seed, ok1 ? "" : "VERIFIED-JIT ", ok2 ? "" : "CHECKED-JIT ", oi.r0, oj.r0, oc.r0, oi.err, oj.err, oc.err);
				char *t = bpfvm_disasm(v, n, BPFVM_DISASM_INDEX);
				if (getenv("SHOW")) {
					fprintf(stderr, "%s\n", t);
					for (int i = 0; i < MEM_SZ; i++) if (oi.mem[i] != oc.mem[i] || oi.mem[i] != oj.mem[i]) fprintf(stderr, "mem[%d] %02x %02x %02x\n", i, oi.mem[i], oj.mem[i], oc.mem[i]);
					for (int i = 0; i < 512; i++) if (oi.stack[i] != oc.stack[i] || oi.stack[i] != oj.stack[i]) fprintf(stderr, "stack[%d] %02x %02x %02x\n", i - 512, oi.stack[i], oj.stack[i], oc.stack[i]);
				}
				free(t);
			}
		}
		bpfvm_prog_free(pv);
		bpfvm_prog_free(pu);
	}
	printf("%d programs, %d bad\n", count, bad);
	return bad != 0;
}
