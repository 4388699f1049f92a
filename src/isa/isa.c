/* isa.c — decode and structurally validate eBPF bytecode.
 *
 * The decoder maps an instruction to its row of opcodes.def; the validator
 * checks what can be checked without following values: opcodes, reserved
 * fields, register numbers, jump targets and lddw pairs.  Proving memory
 * safety is the verifier's job; running unproven code safely is the checked
 * interpreter's.  For a program that will be verified, the early validator
 * checks only what the kernel checks before its verifier runs, and leaves
 * the rest to the verifier (code no path reaches is never checked there).
 */
#include "isa/isa.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const struct bpf_opinfo isa_ops[OP_CNT] = {
	[OP_INVALID] = { "INVALID", "(invalid)", 0, SEL_NONE, FMT_NONE, 0 },
#define OP(name, code, sel, val, mnem, fmt) \
	[OP_##name] = { #name, mnem, code, SEL_##sel, FMT_##fmt, val },
#include "isa/opcodes.def"
#undef OP
};

/* rows by opcode byte: first[code] is the first row, next[row] the following
 * row with the same opcode (0 ends the chain) */
static uint16_t first_row[256], next_row[OP_CNT];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void build_index(void)
{
	for (int op = OP_CNT - 1; op > 0; op--) {
		uint8_t code = isa_ops[op].code;
		next_row[op] = first_row[code];
		first_row[code] = (uint16_t)op;
	}
}

static bool fmt_is_alu(uint8_t fmt)
{
	return fmt == FMT_ALU_IMM || fmt == FMT_ALU_REG || fmt == FMT_NEG;
}

enum bpf_op isa_decode(const struct bpf_insn *insn)
{
	pthread_once(&index_once, build_index);
	for (uint16_t op = first_row[insn->code]; op; op = next_row[op]) {
		const struct bpf_opinfo *r = &isa_ops[op];
		switch (r->sel) {
		case SEL_NONE:
			if (fmt_is_alu(r->fmt) && insn->off != 0)
				continue;
			return (enum bpf_op)op;
		case SEL_OFF:
			if (insn->off == r->selval)
				return (enum bpf_op)op;
			break;
		case SEL_IMM:
			if (insn->imm == r->selval)
				return (enum bpf_op)op;
			break;
		case SEL_SRC:
			if (insn->src_reg == r->selval)
				return (enum bpf_op)op;
			break;
		}
	}
	return OP_INVALID;
}

unsigned int isa_access_size(enum bpf_op op)
{
	switch (isa_ops[op].fmt) {
	case FMT_LDX: case FMT_ST: case FMT_STX: case FMT_ATOMIC:
	case FMT_LOAD_ACQ: case FMT_STORE_REL:
	case FMT_LDABS: case FMT_LDIND:
		break;
	default:
		return 0;
	}
	switch (isa_ops[op].code & 0x18) {
	case 0x00: return 4;
	case 0x08: return 2;
	case 0x10: return 1;
	default: return 8;
	}
}

bool isa_writes_dst(enum bpf_op op)
{
	switch (isa_ops[op].fmt) {
	case FMT_ALU_IMM: case FMT_ALU_REG: case FMT_NEG: case FMT_END:
	case FMT_LDX: case FMT_LDDW: case FMT_LOAD_ACQ:
		return true;
	default:
		return false;
	}
}

bool isa_is_jump(enum bpf_op op)
{
	switch (isa_ops[op].fmt) {
	case FMT_JA: case FMT_JA32: case FMT_JMP_IMM: case FMT_JMP_REG:
	case FMT_MAY_GOTO:
		return true;
	default:
		return false;
	}
}

long isa_target(const struct bpf_insn *insn, size_t pc, enum bpf_op op)
{
	uint8_t fmt = isa_ops[op].fmt;
	if (fmt == FMT_JA32 || fmt == FMT_CALL_LOCAL || fmt == FMT_LDDW)
		return (long)pc + 1 + insn->imm;
	return (long)pc + 1 + insn->off;
}

static int fail(char *err, size_t err_sz, const char *fmt, ...)
{
	if (err && err_sz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, err_sz, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* reserved-field rules per format: bit 0 dst, 1 src, 2 off, 3 imm must be 0 */
enum { Z_DST = 1, Z_SRC = 2, Z_OFF = 4, Z_IMM = 8 };
static const uint8_t fmt_zero[] = {
	[FMT_ALU_IMM] = Z_SRC,		[FMT_ALU_REG] = Z_IMM,
	[FMT_NEG] = Z_SRC | Z_IMM,	[FMT_END] = Z_SRC | Z_OFF,
	[FMT_JA] = Z_DST | Z_SRC | Z_IMM, [FMT_JA32] = Z_DST | Z_SRC | Z_OFF,
	[FMT_JMP_IMM] = Z_SRC,		[FMT_JMP_REG] = Z_IMM,
	[FMT_CALL] = Z_DST | Z_OFF,	[FMT_CALL_LOCAL] = Z_DST | Z_OFF,
	[FMT_CALL_KFUNC] = Z_DST,	[FMT_CALLX] = Z_SRC | Z_OFF | Z_IMM,
	[FMT_EXIT] = Z_DST | Z_SRC | Z_OFF | Z_IMM,
	[FMT_MAY_GOTO] = Z_DST | Z_IMM,	[FMT_LDDW] = Z_OFF,
	[FMT_LDABS] = Z_DST | Z_SRC | Z_OFF, [FMT_LDIND] = Z_DST | Z_OFF,
	[FMT_LDX] = Z_IMM,		[FMT_ST] = Z_SRC,
	[FMT_STX] = Z_IMM,		[FMT_ATOMIC] = 0,
	[FMT_LOAD_ACQ] = 0,		[FMT_STORE_REL] = 0,
};

/* Per-instruction checks: known opcode, reserved fields, registers. */
int isa_check_insn(const struct bpf_insn *in, size_t pc, enum bpf_op op, char *err,
		   size_t err_sz)
{
	if (op == OP_INVALID) {
		pthread_once(&index_once, build_index);
		uint16_t row = first_row[in->code];
		if (!row)
			return fail(err, err_sz, "insn %zu: unknown opcode 0x%02x", pc, in->code);
		const struct bpf_opinfo *r = &isa_ops[row];
		switch (r->sel) {
		case SEL_OFF:
			return fail(err, err_sz, "insn %zu: %s: invalid off %d", pc, r->mnem, in->off);
		case SEL_IMM:
			return fail(err, err_sz, "insn %zu: opcode 0x%02x: invalid imm %d", pc,
				    in->code, in->imm);
		case SEL_SRC:
			return fail(err, err_sz, "insn %zu: %s: invalid src_reg %d", pc, r->mnem,
				    in->src_reg);
		default:
			return fail(err, err_sz, "insn %zu: %s: off must be 0, not %d", pc,
				    r->mnem, in->off);
		}
	}
	const struct bpf_opinfo *r = &isa_ops[op];
	uint8_t z = fmt_zero[r->fmt];
	if ((z & Z_DST) && in->dst_reg)
		return fail(err, err_sz, "insn %zu: %s: dst_reg must be 0, not %d", pc, r->mnem, in->dst_reg);
	if ((z & Z_SRC) && in->src_reg)
		return fail(err, err_sz, "insn %zu: %s: src_reg must be 0, not %d", pc, r->mnem, in->src_reg);
	if ((z & Z_OFF) && in->off)
		return fail(err, err_sz, "insn %zu: %s: off must be 0, not %d", pc, r->mnem, in->off);
	if ((z & Z_IMM) && in->imm)
		return fail(err, err_sz, "insn %zu: %s: imm must be 0, not %d", pc, r->mnem, in->imm);
	if (in->dst_reg > BPF_REG_10)
		return fail(err, err_sz, "insn %zu: %s: invalid register r%d", pc, r->mnem, in->dst_reg);
	if (in->src_reg > BPF_REG_10 && r->sel != SEL_SRC)
		return fail(err, err_sz, "insn %zu: %s: invalid register r%d", pc, r->mnem, in->src_reg);
	if (isa_writes_dst(op) && in->dst_reg == BPF_REG_10)
		return fail(err, err_sz, "insn %zu: %s: r10 is read-only", pc, r->mnem);
	if (r->fmt == FMT_ATOMIC && (in->imm & BPF_FETCH) && in->src_reg == BPF_REG_10)
		return fail(err, err_sz, "insn %zu: %s: r10 is read-only", pc, r->mnem);
	return 0;
}

int isa_validate(const struct bpf_insn *insns, size_t cnt, uint16_t *ops,
		 char *err, size_t err_sz)
{
	if (cnt == 0)
		return fail(err, err_sz, "empty program");
	/* pass 1: decode, per-instruction checks, lddw pairs */
	for (size_t pc = 0; pc < cnt; pc++) {
		enum bpf_op op = isa_decode(&insns[pc]);
		int ret = isa_check_insn(&insns[pc], pc, op, err, err_sz);
		if (ret)
			return ret;
		ops[pc] = (uint16_t)op;
		if (isa_ops[op].fmt != FMT_LDDW)
			continue;
		if (pc + 1 >= cnt)
			return fail(err, err_sz, "insn %zu: lddw: missing second half", pc);
		const struct bpf_insn *hi = &insns[pc + 1];
		if (hi->code || hi->dst_reg || hi->src_reg || hi->off)
			return fail(err, err_sz,
				    "insn %zu: lddw: second half must have only imm set", pc + 1);
		if (op != OP_LDDW && op != OP_LDDW_MAP_VALUE && op != OP_LDDW_MAP_IDX_VALUE &&
		    hi->imm)
			return fail(err, err_sz,
				    "insn %zu: lddw: second half's imm must be 0 for this src_reg", pc + 1);
		ops[++pc] = OP_INVALID;
	}
	/* pass 2: jump and call targets */
	for (size_t pc = 0; pc < cnt; pc++) {
		enum bpf_op op = (enum bpf_op)ops[pc];
		if (op == OP_INVALID)
			continue; /* second half of lddw */
		uint8_t fmt = isa_ops[op].fmt;
		if (!isa_is_jump(op) && fmt != FMT_CALL_LOCAL && op != OP_LDDW_FUNC)
			continue;
		long t = isa_target(&insns[pc], pc, op);
		const char *what = fmt == FMT_CALL_LOCAL ? "call" : op == OP_LDDW_FUNC ? "function" : "jump";
		if (t < 0 || (size_t)t >= cnt)
			return fail(err, err_sz, "insn %zu: %s: %s target %ld is outside the program (0..%zu)",
				    pc, isa_ops[op].mnem, what, t, cnt - 1);
		if (ops[t] == OP_INVALID)
			return fail(err, err_sz,
				    "insn %zu: %s: %s target %ld is the second half of lddw",
				    pc, isa_ops[op].mnem, what, t);
	}
	size_t last = cnt - 1;
	enum bpf_op lop = (enum bpf_op)ops[last];
	if (lop != OP_EXIT && lop != OP_JA && lop != OP_JA32)
		return fail(err, err_sz, "insn %zu: last insn is not an exit or jmp", last);
	return 0;
}

/* ------------------------------------------------------------ early -- */

/* Opcodes the kernel knows (bpf_opcode_in_insntable): every row's, except
 * callx, which Linux does not have. */
static bool kernel_knows(uint8_t code)
{
	pthread_once(&index_once, build_index);
	return first_row[code] && code != (BPF_JMP | BPF_CALL | BPF_X);
}

/* a jump as check_subprogs() sees one: JMP/JMP32 class, not call or exit */
static bool early_is_jump(uint8_t code)
{
	uint8_t cls = BPF_CLASS(code), opc = BPF_OP(code);
	return (cls == BPF_JMP || cls == BPF_JMP32) && opc != BPF_CALL && opc != 0x90;
}

static long early_target(const struct bpf_insn *in, size_t pc)
{
	if (in->code == (BPF_JMP32 | BPF_JA))
		return (long)pc + 1 + in->imm;
	return (long)pc + 1 + in->off;
}

/* a local call or an lddw of a function: its target starts a subprogram */
static bool early_is_pseudo(const struct bpf_insn *in)
{
	return (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL) ||
	       (in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg == BPF_PSEUDO_FUNC);
}

static int early_fail(size_t *err_pc, size_t pc, char *err, size_t err_sz, const char *msg)
{
	*err_pc = pc;
	return fail(err, err_sz, "%s", msg);
}

/* add_subprog_and_kfunc() and check_subprogs(): kfunc calls to vmlinux,
 * subprogram starts, jumps inside their subprogram, every subprogram ending
 * in an exit or a jump */
static int early_subprogs(const struct bpf_insn *insns, size_t cnt, uint8_t *start,
			  size_t *err_pc, char *err, size_t err_sz)
{
	start[0] = 1;
	for (size_t pc = 0; pc < cnt; pc++) {
		const struct bpf_insn *in = &insns[pc];
		if (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_KFUNC_CALL &&
		    in->off) /* off: a module's BTF in fd_array, which bpfvm has not */
			return early_fail(err_pc, pc, err, err_sz, in->off < 0
				? "negative offset disallowed for kernel module function call"
				: "kfunc offset > 0 without fd_array is invalid");
		if (!early_is_pseudo(in))
			continue;
		long t = (long)pc + 1 + insns[pc].imm;
		if (t < 0 || (size_t)t >= cnt)
			return early_fail(err_pc, pc, err, err_sz, "call to invalid destination");
		start[t] = 1;
	}
	size_t sub_start = 0, sub_end = 1;
	while (sub_end < cnt && !start[sub_end])
		sub_end++;
	for (size_t pc = 0; pc < cnt; pc++) {
		uint8_t code = insns[pc].code;
		if (early_is_jump(code)) {
			long t = early_target(&insns[pc], pc);
			if (t < (long)sub_start || t >= (long)sub_end) {
				*err_pc = pc;
				return fail(err, err_sz, "jump out of range from insn %zu to %ld", pc, t);
			}
		}
		if (pc != sub_end - 1)
			continue;
		if (code != (BPF_JMP | 0x90) && code != (BPF_JMP32 | BPF_JA) &&
		    code != (BPF_JMP | BPF_JA))
			return early_fail(err_pc, pc, err, err_sz, "last insn is not an exit or jmp");
		sub_start = sub_end++;
		while (sub_end < cnt && !start[sub_end])
			sub_end++;
	}
	return 0;
}

/* resolve_pseudo_ldimm64()'s checks of one instruction (lddw: of the pair) */
static int early_insn(const struct bpf_insn *insns, size_t cnt, size_t pc, size_t *err_pc,
		      char *err, size_t err_sz)
{
	const struct bpf_insn *in = &insns[pc];
	uint8_t mode = BPF_MODE(in->code);
	if (BPF_CLASS(in->code) == BPF_LDX &&
	    ((mode != BPF_MEM && mode != BPF_MEMSX) || in->imm))
		return early_fail(err_pc, pc, err, err_sz, "BPF_LDX uses reserved fields");
	if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
		const struct bpf_insn *hi = &in[1];
		if (pc + 1 >= cnt || hi->code || hi->dst_reg || hi->src_reg || hi->off)
			return early_fail(err_pc, pc, err, err_sz, "invalid bpf_ld_imm64 insn");
		switch (in->src_reg) {
		case 0:
		case BPF_PSEUDO_BTF_ID:
		case BPF_PSEUDO_FUNC:
		case BPF_PSEUDO_MAP_VALUE:
		case BPF_PSEUDO_MAP_IDX_VALUE:
			return 0;
		case BPF_PSEUDO_MAP_FD:
		case BPF_PSEUDO_MAP_IDX:
			if (!hi->imm)
				return 0;
			break;
		default:
			break;
		}
		return early_fail(err_pc, pc, err, err_sz, "unrecognized bpf_ld_imm64 insn");
	}
	if (!kernel_knows(in->code)) {
		*err_pc = pc;
		return fail(err, err_sz, "unknown opcode %02x", in->code);
	}
	return 0;
}

int isa_validate_early(const struct bpf_insn *insns, size_t cnt, uint16_t *ops,
		       uint8_t *flags, size_t *err_pc, char *err, size_t err_sz)
{
	*err_pc = 0;
	if (cnt == 0)
		return fail(err, err_sz, "empty program");
	uint8_t *start = calloc(cnt, 1);
	if (!start)
		return -ENOMEM;
	int ret = early_subprogs(insns, cnt, start, err_pc, err, err_sz);
	free(start);
	if (ret)
		return ret;
	for (size_t pc = 0; pc < cnt; pc++) {
		ret = early_insn(insns, cnt, pc, err_pc, err, err_sz);
		if (ret)
			return ret;
		enum bpf_op op = isa_decode(&insns[pc]);
		flags[pc] = 0;
		if (op == OP_INVALID) {
			op = (enum bpf_op)first_row[insns[pc].code];
			flags[pc] = ISA_UNDECODED | ISA_MALFORMED;
		} else if (isa_check_insn(&insns[pc], pc, op, NULL, 0)) {
			flags[pc] = ISA_MALFORMED;
		}
		ops[pc] = (uint16_t)op;
		if (isa_ops[op].fmt == FMT_LDDW) {
			ops[++pc] = OP_INVALID;
			flags[pc] = 0;
		}
	}
	/* check_cfg(): nothing lands on the second half of an lddw */
	for (size_t pc = 0; pc < cnt; pc++) {
		enum bpf_op op = (enum bpf_op)ops[pc];
		if (op == OP_INVALID || (!isa_is_jump(op) && isa_ops[op].fmt != FMT_CALL_LOCAL &&
					 op != OP_LDDW_FUNC))
			continue;
		long t = isa_target(&insns[pc], pc, op);
		if (t > 0 && (size_t)t < cnt && ops[t] == OP_INVALID) {
			*err_pc = (size_t)t - 1;
			return fail(err, err_sz, "jump into the middle of ldimm64 insn %ld", t - 1);
		}
	}
	return 0;
}
