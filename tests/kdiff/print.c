/* print.c — showing programs and results when something disagrees.
 *
 * A program is printed as hex (one instruction per line, the kernel's byte
 * order) with a text form beside it from a small printer for the forms the
 * generator produces (jump targets as absolute indices), followed by
 * bpfvm_disasm()'s listing when that works: text `bpfvm asm` reads back.
 * Results are r0-r8, the stack area and the scratch memory; a diff marks
 * what differs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdiff.h"

static const char *alu_name(uint8_t op, int16_t off)
{
	static const char *names[16] = { "add", "sub", "mul", "div", "or", "and", "lsh", "rsh",
					 "neg", "mod", "xor", "mov", "arsh", "end", "?", "?" };
	if (off && op == BPF_DIV)
		return "sdiv";
	if (off && op == BPF_MOD)
		return "smod";
	if (off && op == BPF_MOV)
		return off == 8 ? "movsx8" : off == 16 ? "movsx16" : "movsx32";
	return names[op >> 4];
}

static const char *jmp_name(uint8_t op)
{
	static const char *names[16] = { "ja", "jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge",
					 "call", "exit", "jlt", "jle", "jslt", "jsle", "?", "?" };
	return names[op >> 4];
}

static const char *size_name(uint8_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B: return "b";
	case BPF_H: return "h";
	case BPF_W: return "w";
	default: return "dw";
	}
}

static const char *atomic_name(int32_t imm)
{
	switch (imm) {
	case BPF_ADD: return "add";
	case BPF_OR: return "or";
	case BPF_AND: return "and";
	case BPF_XOR: return "xor";
	case BPF_ADD | BPF_FETCH: return "fetch add";
	case BPF_OR | BPF_FETCH: return "fetch or";
	case BPF_AND | BPF_FETCH: return "fetch and";
	case BPF_XOR | BPF_FETCH: return "fetch xor";
	case BPF_XCHG: return "xchg";
	case BPF_CMPXCHG: return "cmpxchg";
	default: return "?";
	}
}

static void alu_text(const struct bpf_insn *in, char *buf, size_t size)
{
	uint8_t op = BPF_OP(in->code);
	const char *w = BPF_CLASS(in->code) == BPF_ALU ? "32" : "";
	if (op == BPF_END) {
		const char *n = BPF_CLASS(in->code) == BPF_ALU64 ? "bswap"
				: BPF_SRC(in->code) == BPF_TO_BE ? "be" : "le";
		snprintf(buf, size, "%s%d %%r%d", n, in->imm, in->dst_reg);
	} else if (op == BPF_NEG) {
		snprintf(buf, size, "neg%s %%r%d", w, in->dst_reg);
	} else if (BPF_SRC(in->code) == BPF_K) {
		snprintf(buf, size, "%s%s %%r%d, %d", alu_name(op, in->off), w, in->dst_reg, in->imm);
	} else {
		snprintf(buf, size, "%s%s %%r%d, %%r%d", alu_name(op, in->off), w, in->dst_reg,
			 in->src_reg);
	}
}

static void jmp_text(const struct bpf_insn *in, size_t pc, char *buf, size_t size)
{
	uint8_t op = BPF_OP(in->code);
	const char *w = BPF_CLASS(in->code) == BPF_JMP32 ? "32" : "";
	long to = (long)pc + 1 + in->off;
	if (op == BPF_EXIT)
		snprintf(buf, size, "exit");
	else if (op == BPF_CALL)
		snprintf(buf, size, "call local %ld", (long)pc + 1 + in->imm);
	else if (op == BPF_JA && *w)
		snprintf(buf, size, "gotol %ld", (long)pc + 1 + in->imm);
	else if (op == BPF_JA)
		snprintf(buf, size, "ja %ld", to);
	else if (BPF_SRC(in->code) == BPF_K)
		snprintf(buf, size, "%s%s %%r%d, %d, %ld", jmp_name(op), w, in->dst_reg, in->imm, to);
	else
		snprintf(buf, size, "%s%s %%r%d, %%r%d, %ld", jmp_name(op), w, in->dst_reg,
			 in->src_reg, to);
}

static void mem_text(const struct bpf_insn *in, char *buf, size_t size)
{
	const char *sz = size_name(in->code);
	switch (BPF_CLASS(in->code)) {
	case BPF_LDX:
		snprintf(buf, size, "ldx%s%s %%r%d, [%%r%d%+d]",
			 BPF_MODE(in->code) == BPF_MEMSX ? "s" : "", sz, in->dst_reg, in->src_reg,
			 in->off);
		break;
	case BPF_ST:
		snprintf(buf, size, "st%s [%%r%d%+d], %d", sz, in->dst_reg, in->off, in->imm);
		break;
	default:
		if (BPF_MODE(in->code) == BPF_ATOMIC)
			snprintf(buf, size, "lock%s %s [%%r%d%+d], %%r%d",
				 BPF_SIZE(in->code) == BPF_W ? "32" : "", atomic_name(in->imm),
				 in->dst_reg, in->off, in->src_reg);
		else
			snprintf(buf, size, "stx%s [%%r%d%+d], %%r%d", sz, in->dst_reg, in->off,
				 in->src_reg);
		break;
	}
}

void kd_insn_text(const struct bpf_insn *insns, size_t cnt, size_t pc, char *buf, size_t size)
{
	const struct bpf_insn *in = &insns[pc];
	switch (BPF_CLASS(in->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		alu_text(in, buf, size);
		break;
	case BPF_JMP:
	case BPF_JMP32:
		jmp_text(in, pc, buf, size);
		break;
	case BPF_LD:
		if (pc + 1 < cnt)
			snprintf(buf, size, "lddw %%r%d, 0x%" PRIx64, in->dst_reg,
				 (uint64_t)(uint32_t)in->imm | (uint64_t)(uint32_t)in[1].imm << 32);
		else
			snprintf(buf, size, "lddw (truncated)");
		break;
	default:
		mem_text(in, buf, size);
		break;
	}
}

static void print_hex(const struct bpf_insn *in, size_t pc, const char *text)
{
	const uint8_t *b = (const uint8_t *)in;
	printf("  %4zu: %02x %02x %02x %02x %02x %02x %02x %02x   %s\n", pc, b[0], b[1], b[2],
	       b[3], b[4], b[5], b[6], b[7], text);
}

void kd_print_prog(const struct bpf_insn *insns, size_t cnt)
{
	char text[128];
	bool second = false;	/* second half of an lddw */
	for (size_t pc = 0; pc < cnt; pc++) {
		if (second)
			text[0] = 0;
		else
			kd_insn_text(insns, cnt, pc, text, sizeof(text));
		second = !second && insns[pc].code == (BPF_LD | BPF_DW | BPF_IMM);
		print_hex(&insns[pc], pc, text);
	}
	char *dis = bpfvm_disasm(insns, cnt, BPFVM_DISASM_INDEX);
	if (dis) {
		printf("  bpfvm_disasm:\n%s", dis);
		free(dis);
	}
}

static uint64_t word(const uint8_t *io, int i)
{
	uint64_t v;
	memcpy(&v, io + 8 * i, 8);
	return v;
}

static void word_name(int i, char *buf, size_t size)
{
	if (i < KD_NREGS)
		snprintf(buf, size, "r%d", i);
	else if (8 * i < KD_SCRATCH_BASE)
		snprintf(buf, size, "[r10%d]", -KD_STACK + 8 * i - KD_STACK_BASE);
	else
		snprintf(buf, size, "[r9+%d]", 8 * i);
}

void kd_print_io(const char *label, const uint8_t *io)
{
	char name[16];
	printf("  %s:\n", label);
	for (int i = 0; i < KD_IO_SIZE / 8; i++) {
		word_name(i, name, sizeof(name));
		printf("    %-9s 0x%016" PRIx64 "\n", name, word(io, i));
	}
}

void kd_print_diff(const char *la, const uint8_t *a, const char *lb, const uint8_t *b)
{
	char name[16];
	printf("  differences (%s vs %s):\n", la, lb);
	for (int i = 0; i < KD_IO_SIZE / 8; i++) {
		if (word(a, i) == word(b, i))
			continue;
		word_name(i, name, sizeof(name));
		printf("    %-9s 0x%016" PRIx64 "  0x%016" PRIx64 "\n", name, word(a, i), word(b, i));
	}
}
