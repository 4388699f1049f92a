/* isa.h — the eBPF instruction set as data.
 *
 * Everything that needs to know what an instruction is — decoder, validator,
 * interpreter, JIT, assembler, disassembler, verifier — asks here.  The facts
 * live once, in opcodes.def; this header turns the rows into an enum of
 * operations (OP_ADD64_IMM, ...) and a table of their properties.
 */
#ifndef BPFVM_ISA_H
#define BPFVM_ISA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfvm/insn.h"

/* which instruction field selects between rows sharing one opcode byte */
enum bpf_sel { SEL_NONE, SEL_OFF, SEL_IMM, SEL_SRC };

/* operand layout: which fields are operands, which must be zero, how it prints */
enum bpf_fmt {
	FMT_ALU_IMM,	/* op dst, imm            src=0                  */
	FMT_ALU_REG,	/* op dst, src            imm=0                  */
	FMT_NEG,	/* neg dst                src=0 imm=0            */
	FMT_END,	/* le16 dst               src=0 off=0            */
	FMT_JA,		/* ja +off                dst=0 src=0 imm=0      */
	FMT_JA32,	/* ja32 +imm              dst=0 src=0 off=0      */
	FMT_JMP_IMM,	/* jeq dst, imm, +off     src=0                  */
	FMT_JMP_REG,	/* jeq dst, src, +off     imm=0                  */
	FMT_CALL,	/* call imm (helper id)   dst=0 off=0            */
	FMT_CALL_LOCAL,	/* call local +imm        dst=0 off=0            */
	FMT_CALL_KFUNC,	/* call kfunc imm (btf id) dst=0                 */
	FMT_CALLX,	/* callx dst              src=0 off=0 imm=0      */
	FMT_EXIT,	/* exit                   all zero               */
	FMT_MAY_GOTO,	/* may_goto +off          dst=0 imm=0            */
	FMT_LDDW,	/* lddw dst, imm64        off=0; 2nd slot: only imm */
	FMT_LDABS,	/* ldabsw imm             dst=0 src=0 off=0      */
	FMT_LDIND,	/* ldindw src, imm        dst=0 off=0            */
	FMT_LDX,	/* ldxw dst, [src+off]    imm=0                  */
	FMT_ST,		/* stw [dst+off], imm     src=0                  */
	FMT_STX,	/* stxw [dst+off], src    imm=0                  */
	FMT_ATOMIC,	/* lock add [dst+off], src                       */
	FMT_LOAD_ACQ,	/* ldacqw dst, [src+off]                         */
	FMT_STORE_REL,	/* strelw [dst+off], src                         */
};
/* the format of OP_INVALID, which is no instruction (lddw's second half, a
 * trap): outside enum bpf_fmt, so switches over the formats of real rows
 * stay exhaustive and a consumer that meets it takes its default */
#define FMT_NONE 0xff

enum bpf_op {
	OP_INVALID = 0,
#define OP(name, code, sel, val, mnem, fmt) OP_##name,
#include "opcodes.def"
#undef OP
	OP_CNT
};

struct bpf_opinfo {
	const char *name;	/* "ADD64_IMM" */
	const char *mnem;	/* "add" */
	uint8_t code;		/* opcode byte */
	uint8_t sel;		/* enum bpf_sel */
	uint8_t fmt;		/* enum bpf_fmt */
	int32_t selval;
};

extern const struct bpf_opinfo isa_ops[OP_CNT];

/* The operation of one instruction, or OP_INVALID when no row matches. */
enum bpf_op isa_decode(const struct bpf_insn *insn);

/* Bytes a load/store/atomic of this op accesses (0 for other ops). */
unsigned int isa_access_size(enum bpf_op op);

/* Does the op write its dst register (ALU, loads)? */
bool isa_writes_dst(enum bpf_op op);

/* Is op a jump (conditional or not) whose target is pc + 1 + off/imm? */
bool isa_is_jump(enum bpf_op op);

/* Jump/call target of the instruction at pc (pc + 1 + off, or + imm for
 * ja32, call local and lddw func); only meaningful for jumps, local calls and
 * OP_LDDW_FUNC. */
long isa_target(const struct bpf_insn *insn, size_t pc, enum bpf_op op);

/* Check a whole program's structure: every opcode known, reserved fields zero,
 * registers valid and r10 never written, jump and local-call targets inside
 * the program and not into the second half of an lddw, lddw pairs complete,
 * last instruction an exit or jump.  Fills ops[0..cnt) with each slot's op
 * (OP_INVALID for the second half of an lddw).  Returns 0 or -EINVAL with a
 * message naming the instruction index in err. */
int isa_validate(const struct bpf_insn *insns, size_t cnt, uint16_t *ops,
		 char *err, size_t err_sz);

/* Per-slot facts isa_validate_early() reports. */
enum {
	ISA_UNDECODED = 1u << 0,	/* no row matches: ops[] holds its opcode's first row */
	ISA_MALFORMED = 1u << 1,	/* isa_validate() would refuse it (reserved fields,
					 * registers, r10 written, or ISA_UNDECODED) */
};

/* Check a program as the Linux kernel does before its verifier walks it
 * (add_subprog_and_kfunc, check_subprogs, resolve_pseudo_ldimm64 and the
 * lddw rule of check_cfg), with the kernel's messages: local-call and
 * function targets inside the program, jumps inside their subprogram, each
 * subprogram ending in an exit or a jump, ldx reserved fields, lddw pairs,
 * opcodes the kernel knows, no jump into the second half of an lddw.  The
 * reserved fields and registers of every other instruction are the
 * verifier's to check, where a path reaches it: code no path reaches may hold
 * anything.  Fills ops[0..cnt) as isa_validate() does, except that an
 * instruction no row matches gets its opcode's first row (the structure is
 * followed by opcode, as the kernel does), and flags[0..cnt) with ISA_*.
 * Returns 0, or -EINVAL with the kernel's message in err and the instruction
 * it is about in *err_pc. */
int isa_validate_early(const struct bpf_insn *insns, size_t cnt, uint16_t *ops,
		       uint8_t *flags, size_t *err_pc, char *err, size_t err_sz);

/* isa_validate()'s verdict on the instruction at pc alone (op: its
 * isa_decode()): 0, or -EINVAL with a message naming pc in err. */
int isa_check_insn(const struct bpf_insn *insn, size_t pc, enum bpf_op op,
		   char *err, size_t err_sz);

#endif
