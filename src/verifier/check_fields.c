/* check_fields.c — the encoding of an instruction a path reaches.
 *
 * The kernel checks little of a program before walking it (isa.c's
 * isa_validate_early(): opcodes, lddw pairs, targets); the reserved fields
 * and registers of an instruction are checked only when a path reaches it
 * (check_alu_op(), do_check_insn(), check_cond_jmp_op(), check_atomic()...),
 * so code no path reaches may hold anything.  check_fields() makes those
 * checks, in the kernel's order and words, before the instruction's own
 * check runs: after it, every register the instruction names is r0..r10,
 * the ones it reads are initialised where the kernel reads them first, and
 * the instruction decodes to a row of opcodes.def.  (BPF_LD_[ABS|IND] checks
 * its fields in check_ld_abs(), after the program type, as the kernel.)
 */
#include <errno.h>

#include "verifier/verifier_int.h"

enum { OPC_NEG = 0x80, OPC_MOV = 0xb0, OPC_END = 0xd0, OPC_DIV = 0x30, OPC_MOD = 0x90,
       OPC_CALL = 0x80, OPC_EXIT = 0x90, OPC_JCOND = 0xe0 };

static int reserved(struct venv *env, const char *what)
{
	verbose(env, "%s uses reserved fields\n", what);
	return -EINVAL;
}

/* a register the instruction writes (the kernel's DST_OP) */
static int check_reg_dst(struct venv *env, int regno)
{
	if (regno >= V_REGS) {
		verbose(env, "R%d is invalid\n", regno);
		return -EINVAL;
	}
	return check_reg_arg_write(env, regno);
}

/* a register the instruction names, checked later by its own check */
static int check_reg_valid(struct venv *env, int regno)
{
	if (regno >= V_REGS) {
		verbose(env, "R%d is invalid\n", regno);
		return -EINVAL;
	}
	return 0;
}

/* check_alu_op() up to its operands */
static int check_alu_fields(struct venv *env, const struct bpf_insn *in)
{
	uint8_t opc = BPF_OP(in->code);
	bool x = BPF_SRC(in->code) == BPF_X, alu64 = BPF_CLASS(in->code) == BPF_ALU64;
	int err;
	if (opc == OPC_NEG || opc == OPC_END) {
		if (opc == OPC_NEG && (x || in->src_reg || in->off || in->imm))
			return reserved(env, "BPF_NEG");
		if (opc == OPC_END && (in->src_reg || in->off ||
				       (in->imm != 16 && in->imm != 32 && in->imm != 64) ||
				       (alu64 && x)))
			return reserved(env, "BPF_END");
		if ((err = check_reg_read(env, in->dst_reg)))
			return err;
		return check_reg_dst(env, in->dst_reg);
	}
	if (opc == OPC_MOV) {
		if (x) {
			if (!alu64) {
				if ((in->off != 0 && in->off != 8 && in->off != 16) || in->imm)
					return reserved(env, "BPF_MOV");
			} else if (in->off == 1) { /* BPF_ADDR_SPACE_CAST: arenas */
				if (in->imm != 1 && in->imm != 1 << 16)
					verbose(env, "addr_space_cast insn can only convert between address space 1 and 0\n");
				else
					verbose(env, "addr_space_cast insn can only be used in a program that has an associated arena\n");
				return -EINVAL;
			} else if ((in->off != 0 && in->off != 8 && in->off != 16 && in->off != 32) ||
				   in->imm) {
				return reserved(env, "BPF_MOV");
			}
			if ((err = check_reg_read(env, in->src_reg)))
				return err;
		} else if (in->src_reg || in->off) {
			return reserved(env, "BPF_MOV");
		}
		return check_reg_dst(env, in->dst_reg);
	}
	if (opc > OPC_END) {
		verbose(env, "invalid BPF_ALU opcode %x\n", opc);
		return -EINVAL;
	}
	bool off_ok = in->off == 0 || (in->off == 1 && (opc == OPC_DIV || opc == OPC_MOD));
	if (x ? in->imm || !off_ok : in->src_reg || !off_ok)
		return reserved(env, "BPF_ALU");
	if (x && (err = check_reg_read(env, in->src_reg)))
		return err;
	return check_reg_read(env, in->dst_reg); /* r10 as dst: check_alu(), later */
}

/* check_atomic() up to its operands */
static int check_atomic_fields(struct venv *env, const struct bpf_insn *in)
{
	int err;
	switch (in->imm) {
	case BPF_ADD: case BPF_ADD | BPF_FETCH: case BPF_AND: case BPF_AND | BPF_FETCH:
	case BPF_OR: case BPF_OR | BPF_FETCH: case BPF_XOR: case BPF_XOR | BPF_FETCH:
	case BPF_XCHG: case BPF_CMPXCHG:
		if (BPF_SIZE(in->code) != BPF_W && BPF_SIZE(in->code) != BPF_DW) {
			verbose(env, "invalid atomic operand size\n");
			return -EINVAL;
		}
		if ((err = check_reg_read(env, in->src_reg)) || (err = check_reg_read(env, in->dst_reg)))
			return err;
		return 0;
	case BPF_LOAD_ACQ:
	case BPF_STORE_REL:
		if ((err = check_reg_valid(env, in->src_reg)))
			return err;
		return check_reg_valid(env, in->dst_reg);
	default:
		verbose(env, "BPF_ATOMIC uses invalid atomic opcode %02x\n", (unsigned)in->imm);
		return -EINVAL;
	}
}

/* do_check_insn()'s jump cases and check_cond_jmp_op() up to the operands */
static int check_jmp_fields(struct venv *env, const struct bpf_insn *in)
{
	uint8_t opc = BPF_OP(in->code);
	bool x = BPF_SRC(in->code) == BPF_X, jmp32 = BPF_CLASS(in->code) == BPF_JMP32;
	int err;
	switch (opc) {
	case OPC_CALL:
		if (x || (in->src_reg != BPF_PSEUDO_KFUNC_CALL && in->off) ||
		    (in->src_reg != 0 && in->src_reg != BPF_PSEUDO_CALL &&
		     in->src_reg != BPF_PSEUDO_KFUNC_CALL) ||
		    in->dst_reg || jmp32)
			return reserved(env, "BPF_CALL");
		return 0;
	case BPF_JA:
		if (x || in->src_reg || in->dst_reg || (!jmp32 && in->imm) || (jmp32 && in->off))
			return reserved(env, "BPF_JA");
		return 0;
	case OPC_EXIT: /* off is not looked at */
		if (x || in->imm || in->src_reg || in->dst_reg || jmp32)
			return reserved(env, "BPF_EXIT");
		return 0;
	case OPC_JCOND:
		if (in->code != (BPF_JMP | OPC_JCOND) || in->src_reg || in->dst_reg || in->imm) {
			verbose(env, "invalid may_goto imm %d\n", in->imm);
			return -EINVAL;
		}
		return 0;
	default:
		if (opc > OPC_JCOND) {
			verbose(env, "invalid BPF_JMP/JMP32 opcode %x\n", opc);
			return -EINVAL;
		}
		if ((err = check_reg_read(env, in->dst_reg)))
			return err;
		if (x ? in->imm != 0 : in->src_reg != 0)
			return reserved(env, "BPF_JMP/JMP32");
		return x ? check_reg_read(env, in->src_reg) : 0;
	}
}

int check_fields(struct venv *env, int idx)
{
	const struct bpf_insn *in = &env->insns[idx];
	int err;
	switch (BPF_CLASS(in->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		err = check_alu_fields(env, in);
		break;
	case BPF_LDX: /* reserved fields: isa_validate_early(), as the kernel */
		if (!(err = check_reg_read(env, in->src_reg)))
			err = check_reg_dst(env, in->dst_reg);
		break;
	case BPF_ST:
		if (BPF_MODE(in->code) != BPF_MEM || in->src_reg)
			return reserved(env, "BPF_ST");
		err = check_reg_read(env, in->dst_reg);
		break;
	case BPF_STX:
		if (BPF_MODE(in->code) == BPF_ATOMIC) {
			err = check_atomic_fields(env, in);
			break;
		}
		if (BPF_MODE(in->code) != BPF_MEM || in->imm)
			return reserved(env, "BPF_STX");
		if (!(err = check_reg_read(env, in->src_reg)))
			err = check_reg_read(env, in->dst_reg);
		break;
	case BPF_JMP:
	case BPF_JMP32:
		err = check_jmp_fields(env, in);
		break;
	default: /* BPF_LD */
		if (BPF_MODE(in->code) != BPF_IMM) {
			err = 0; /* ABS, IND: check_ld_abs() */
		} else if (in->off) {
			return reserved(env, "BPF_LD_IMM64");
		} else {
			err = check_reg_dst(env, in->dst_reg);
		}
		break;
	}
	if (err)
		return err;
	/* what the checks above let through, bpfvm can decode and run */
	if (env->isa_flags[idx] & ISA_UNDECODED) {
		char msg[128];
		isa_check_insn(in, (size_t)idx, OP_INVALID, msg, sizeof(msg));
		verbose(env, "%s\n", msg);
		return -EINVAL;
	}
	return 0;
}
