/* ref.c — an independent reference evaluator for the generated programs.
 *
 * Written from the ISA text (RFC 9669 and the kernel's instruction-set
 * document), sharing no code with bpfvm, it runs a bpfvm-side program (r1 =
 * mem) over the instruction forms the generator produces.  It is the third
 * vote when the kernel and bpfvm disagree: a mismatch can only be classified
 * as a known kernel bug when this evaluator agrees with bpfvm.  Memory
 * accesses are checked against the stack frames and the memory buffer.
 */
#include <stdio.h>
#include <string.h>

#include "kdiff.h"

#define REF_FRAMES 8
#define REF_FRAME 512
#define REF_BUDGET 100000

struct ref {
	const struct bpf_insn *insns;
	size_t cnt;
	uint64_t r[11];
	uint8_t stack[REF_FRAMES * REF_FRAME];
	uint8_t *mem;
	size_t mem_sz;
	struct {
		size_t ret;
		uint64_t saved[4];
	} frame[REF_FRAMES];
	int depth;
	char *err;
	size_t err_size;
};

struct kd_ref_stats kd_ref_stats;

static int fail(struct ref *s, size_t pc, const char *what)
{
	snprintf(s->err, s->err_size, "reference: insn %zu: %s", pc, what);
	return -1;
}

static void *addr_of(struct ref *s, uint64_t addr, unsigned size)
{
	uintptr_t st = (uintptr_t)s->stack, m = (uintptr_t)s->mem;
	if (addr >= st && addr + size <= st + sizeof(s->stack))
		return (void *)(uintptr_t)addr;
	if (addr >= m && addr + size <= m + s->mem_sz)
		return (void *)(uintptr_t)addr;
	return NULL;
}

static unsigned size_of(uint8_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B: return 1;
	case BPF_H: return 2;
	case BPF_W: return 4;
	default: return 8;
	}
}

static uint64_t load_n(const void *p, unsigned size)
{
	uint8_t b1; uint16_t b2; uint32_t b4; uint64_t b8;
	switch (size) {
	case 1: memcpy(&b1, p, 1); return b1;
	case 2: memcpy(&b2, p, 2); return b2;
	case 4: memcpy(&b4, p, 4); return b4;
	default: memcpy(&b8, p, 8); return b8;
	}
}

static void store_n(void *p, unsigned size, uint64_t v)
{
	uint8_t b1 = (uint8_t)v; uint16_t b2 = (uint16_t)v; uint32_t b4 = (uint32_t)v;
	switch (size) {
	case 1: memcpy(p, &b1, 1); break;
	case 2: memcpy(p, &b2, 2); break;
	case 4: memcpy(p, &b4, 4); break;
	default: memcpy(p, &v, 8); break;
	}
}

static uint64_t sext(uint64_t v, unsigned bits)
{
	uint64_t m = 1ull << (bits - 1);
	v &= bits == 64 ? ~0ull : (1ull << bits) - 1;
	return (v ^ m) - m;
}

/* ------------------------------------------------------------------ ALU */

static uint64_t udiv(uint64_t a, uint64_t b) { return b ? a / b : 0; }
static uint64_t umod(uint64_t a, uint64_t b) { return b ? a % b : a; }

static uint64_t sdiv64(uint64_t a, uint64_t b)
{
	int64_t x = (int64_t)a, y = (int64_t)b;
	if (!y)
		return 0;
	if (y == -1)
		return 0 - a;	/* INT64_MIN / -1 wraps to INT64_MIN */
	return (uint64_t)(x / y);
}

static uint64_t smod64(uint64_t a, uint64_t b)
{
	int64_t x = (int64_t)a, y = (int64_t)b;
	if (!y)
		return a;
	if (y == -1)
		return 0;
	return (uint64_t)(x % y);
}

static uint64_t bswap(uint64_t v, unsigned bits)
{
	uint64_t r = 0;
	for (unsigned i = 0; i < bits / 8; i++)
		r = r << 8 | ((v >> (8 * i)) & 0xff);
	return r;
}

/* a 64-bit op; b is the sign-extended imm or the source register */
static uint64_t alu64(uint8_t op, int16_t off, uint64_t a, uint64_t b)
{
	switch (op) {
	case BPF_ADD: return a + b;
	case BPF_SUB: return a - b;
	case BPF_MUL: return a * b;
	case BPF_DIV: return off ? sdiv64(a, b) : udiv(a, b);
	case BPF_MOD: return off ? smod64(a, b) : umod(a, b);
	case BPF_OR: return a | b;
	case BPF_AND: return a & b;
	case BPF_XOR: return a ^ b;
	case BPF_LSH: return a << (b & 63);
	case BPF_RSH: return a >> (b & 63);
	case BPF_ARSH: return (uint64_t)((int64_t)a >> (b & 63));
	case BPF_NEG: return 0 - a;
	default: return off ? sext(b, (unsigned)off) : b;	/* MOV, MOVSX */
	}
}

static uint32_t alu32(uint8_t op, int16_t off, uint32_t a, uint32_t b)
{
	int32_t x = (int32_t)a, y = (int32_t)b;
	switch (op) {
	case BPF_ADD: return a + b;
	case BPF_SUB: return a - b;
	case BPF_MUL: return a * b;
	case BPF_DIV:
		if (!off)
			return b ? a / b : 0;
		return !y ? 0 : y == -1 ? 0 - a : (uint32_t)(x / y);
	case BPF_MOD:
		if (!off)
			return b ? a % b : a;
		return !y ? a : y == -1 ? 0 : (uint32_t)(x % y);
	case BPF_OR: return a | b;
	case BPF_AND: return a & b;
	case BPF_XOR: return a ^ b;
	case BPF_LSH: return a << (b & 31);
	case BPF_RSH: return a >> (b & 31);
	case BPF_ARSH: return (uint32_t)(x >> (b & 31));
	case BPF_NEG: return 0 - a;
	default: return off ? (uint32_t)sext(b, (unsigned)off) : b;
	}
}

static void count_divisor(uint64_t v, bool is64)
{
	bool minus1 = is64 ? v == ~0ull : v == 0xffffffffull;
	kd_ref_stats.div_by[v == 0 ? 0 : minus1 ? 1 : 2]++;
}

static int do_alu(struct ref *s, const struct bpf_insn *in, size_t pc)
{
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	uint64_t *d = &s->r[in->dst_reg];
	if (op == BPF_END) {
		unsigned bits = (unsigned)in->imm;
		if (bits != 16 && bits != 32 && bits != 64)
			return fail(s, pc, "bad byte-swap width");
		uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
		bool swap = cls == BPF_ALU64 || BPF_SRC(in->code) == BPF_TO_BE;
		*d = swap ? bswap(*d, bits) : *d & mask;
		return 0;
	}
	bool k = BPF_SRC(in->code) == BPF_K;
	uint64_t b = k ? (uint64_t)(int64_t)in->imm : s->r[in->src_reg];
	if ((op == BPF_DIV || op == BPF_MOD) && !k)
		count_divisor(cls == BPF_ALU64 ? b : (uint32_t)b, cls == BPF_ALU64);
	kd_ref_stats.executed++;
	if (cls == BPF_ALU64)
		*d = alu64(op, in->off, *d, b);
	else
		*d = alu32(op, in->off, (uint32_t)*d, (uint32_t)b);
	return 0;
}

/* ---------------------------------------------------------------- jumps */

static bool cond(uint8_t op, uint64_t a, uint64_t b, bool is32)
{
	if (is32) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	int64_t x = is32 ? (int32_t)a : (int64_t)a, y = is32 ? (int32_t)b : (int64_t)b;
	switch (op) {
	case BPF_JEQ: return a == b;
	case BPF_JNE: return a != b;
	case BPF_JGT: return a > b;
	case BPF_JGE: return a >= b;
	case BPF_JLT: return a < b;
	case BPF_JLE: return a <= b;
	case BPF_JSET: return (a & b) != 0;
	case BPF_JSGT: return x > y;
	case BPF_JSGE: return x >= y;
	case BPF_JSLT: return x < y;
	default: return x <= y;	/* BPF_JSLE */
	}
}

/* returns the next pc, or cnt to stop (exit of the main program) */
static long do_jmp(struct ref *s, const struct bpf_insn *in, size_t pc)
{
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	if (op == BPF_JA)
		return (long)pc + 1 + (cls == BPF_JMP32 ? in->imm : in->off);
	if (op == BPF_CALL) {
		if (in->src_reg != BPF_PSEUDO_CALL || s->depth + 1 >= REF_FRAMES)
			return fail(s, pc, "unsupported call"), -1;
		s->frame[s->depth].ret = pc + 1;
		memcpy(s->frame[s->depth].saved, &s->r[6], sizeof(s->frame[0].saved));
		s->depth++;
		s->r[10] -= REF_FRAME;
		return (long)pc + 1 + in->imm;
	}
	if (op == BPF_EXIT) {
		if (!s->depth)
			return (long)s->cnt;
		s->depth--;
		s->r[10] += REF_FRAME;
		memcpy(&s->r[6], s->frame[s->depth].saved, sizeof(s->frame[0].saved));
		return (long)s->frame[s->depth].ret;
	}
	uint64_t b = BPF_SRC(in->code) == BPF_K ? (uint64_t)(int64_t)in->imm : s->r[in->src_reg];
	bool taken = cond(op, s->r[in->dst_reg], b, cls == BPF_JMP32);
	kd_ref_stats.cond[taken]++;
	return (long)pc + 1 + (taken ? in->off : 0);
}

/* --------------------------------------------------------------- memory */

static int do_ldx(struct ref *s, const struct bpf_insn *in, size_t pc)
{
	unsigned size = size_of(in->code);
	void *p = addr_of(s, s->r[in->src_reg] + (uint64_t)(int64_t)in->off, size);
	if (!p)
		return fail(s, pc, "load out of bounds");
	uint64_t v = load_n(p, size);
	s->r[in->dst_reg] = BPF_MODE(in->code) == BPF_MEMSX ? sext(v, 8 * size) : v;
	return 0;
}

static int do_store(struct ref *s, const struct bpf_insn *in, size_t pc)
{
	unsigned size = size_of(in->code);
	void *p = addr_of(s, s->r[in->dst_reg] + (uint64_t)(int64_t)in->off, size);
	if (!p)
		return fail(s, pc, "store out of bounds");
	uint64_t v = BPF_CLASS(in->code) == BPF_ST ? (uint64_t)(int64_t)in->imm : s->r[in->src_reg];
	store_n(p, size, v);
	return 0;
}

static int do_atomic(struct ref *s, const struct bpf_insn *in, size_t pc)
{
	unsigned size = size_of(in->code);
	void *p = addr_of(s, s->r[in->dst_reg] + (uint64_t)(int64_t)in->off, size);
	if (!p || (size != 4 && size != 8))
		return fail(s, pc, "bad atomic access");
	uint64_t mask = size == 8 ? ~0ull : 0xffffffffull;
	uint64_t old = load_n(p, size), src = s->r[in->src_reg] & mask, nv;
	if (in->imm == BPF_CMPXCHG) {
		bool ok = old == (s->r[0] & mask);
		kd_ref_stats.cmpxchg[ok]++;
		if (ok && size == 4 && s->r[0] >> 32)
			kd_ref_stats.cmpxchg32_upper++;
		if (ok)
			store_n(p, size, src);
		s->r[0] = old;
		return 0;
	}
	switch (in->imm & ~BPF_FETCH) {
	case BPF_ADD: nv = old + src; break;
	case BPF_OR: nv = old | src; break;
	case BPF_AND: nv = old & src; break;
	case BPF_XOR: nv = old ^ src; break;
	case BPF_XCHG & ~BPF_FETCH: nv = src; break;
	default: return fail(s, pc, "unknown atomic op");
	}
	store_n(p, size, nv);
	if (in->imm & BPF_FETCH)
		s->r[in->src_reg] = old;
	return 0;
}

/* ------------------------------------------------------------------ run */

static long step(struct ref *s, size_t pc)
{
	const struct bpf_insn *in = &s->insns[pc];
	switch (BPF_CLASS(in->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		return do_alu(s, in, pc) ? -1 : (long)pc + 1;
	case BPF_JMP:
	case BPF_JMP32:
		return do_jmp(s, in, pc);
	case BPF_LDX:
		return do_ldx(s, in, pc) ? -1 : (long)pc + 1;
	case BPF_ST:
		return do_store(s, in, pc) ? -1 : (long)pc + 1;
	case BPF_STX:
		if (BPF_MODE(in->code) == BPF_ATOMIC)
			return do_atomic(s, in, pc) ? -1 : (long)pc + 1;
		return do_store(s, in, pc) ? -1 : (long)pc + 1;
	case BPF_LD:
		if (in->code != (BPF_LD | BPF_DW | BPF_IMM) || pc + 1 >= s->cnt)
			return fail(s, pc, "unsupported load"), -1;
		s->r[in->dst_reg] = (uint32_t)in->imm | (uint64_t)(uint32_t)in[1].imm << 32;
		return (long)pc + 2;
	default:
		return fail(s, pc, "unsupported instruction class"), -1;
	}
}

static int run(struct ref *s, size_t stop_pc, uint64_t *regs)
{
	size_t pc = 0;
	for (int n = 0; n < REF_BUDGET; n++) {
		if (pc >= s->cnt)
			return fail(s, pc, "ran off the end");
		if (pc == stop_pc) {
			memcpy(regs, s->r, sizeof(s->r));
			return 0;
		}
		long next = step(s, pc);
		if (next < 0)
			return -1;
		if ((size_t)next == s->cnt && s->insns[pc].code == (BPF_JMP | BPF_EXIT))
			return stop_pc < s->cnt ? 1 : 0;
		pc = (size_t)next;
	}
	return fail(s, pc, "instruction budget exhausted");
}

static int start(const struct bpf_insn *insns, size_t cnt, uint8_t *mem, char *err,
		 size_t err_size, size_t stop_pc, uint64_t *regs)
{
	static struct ref s;
	memset(&s, 0, sizeof(s));
	s.insns = insns;
	s.cnt = cnt;
	s.mem = mem;
	s.mem_sz = KD_IO_SIZE;
	s.err = err;
	s.err_size = err_size;
	s.r[1] = (uint64_t)(uintptr_t)mem;
	s.r[2] = KD_IO_SIZE;
	s.r[10] = (uint64_t)(uintptr_t)(s.stack + sizeof(s.stack));
	return run(&s, stop_pc, regs);
}

int kd_ref_run(const struct bpf_insn *insns, size_t cnt, uint8_t *mem,
	       char *err, size_t err_size)
{
	return start(insns, cnt, mem, err, err_size, (size_t)-1, NULL);
}

int kd_ref_regs_at(const struct bpf_insn *insns, size_t cnt, const uint8_t *input,
		   size_t pc, uint64_t regs[11])
{
	uint8_t mem[KD_IO_SIZE];
	char err[128];
	memcpy(mem, input, sizeof(mem));
	return start(insns, cnt, mem, err, sizeof(err), pc, regs) == 0 ? 0 : -1;
}
