/* disasm.c — eBPF bytecode to text, in the assembler's dialect.
 *
 * Every instruction prints from its row of opcodes.def: the mnemonic is the
 * row's, the operands are the fields the row's format names.  The printer
 * notes which fields it showed; bytes whose other fields are not exactly what
 * the row implies (a reserved field set, a register above r10, an lddw
 * without a proper second half, an unknown opcode) could not be written back
 * from their text, so they print as a raw `.insn 0x...` word instead, with a
 * comment saying what is wrong.  That is what makes asm(disasm(x)) == x hold
 * for any bytes, valid or not.  bpfvm_disasm() prints whole programs with
 * labels at jump and call targets; disasm_insn() prints one instruction with
 * relative offsets, for the verifier log and `prog dump`.
 */
#include "isa/disasm.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "helpers/helpers.h"

/* ------------------------------------------------------ lddw keywords -- */

static char lddw_kind[OP_CNT][24];
static pthread_once_t kind_once = PTHREAD_ONCE_INIT;

/* OP_LDDW_MAP_FD's row is named "LDDW_MAP_FD": its keyword is "map_fd" */
static void build_kinds(void)
{
	for (int op = OP_INVALID + 1; op < OP_CNT; op++) {
		const struct bpf_opinfo *r = &isa_ops[op];
		if (r->fmt != FMT_LDDW || strncmp(r->name, "LDDW_", 5) != 0)
			continue;
		size_t i = 0;
		for (const char *p = r->name + 5; *p && i + 1 < sizeof(lddw_kind[op]); p++)
			lddw_kind[op][i++] = (char)tolower((unsigned char)*p);
		lddw_kind[op][i] = 0;
	}
}

const char *disasm_lddw_kind(enum bpf_op op)
{
	if (op <= OP_INVALID || op >= OP_CNT)
		return NULL;
	pthread_once(&kind_once, build_kinds);
	return lddw_kind[op][0] ? lddw_kind[op] : NULL;
}

/* ------------------------------------------------- one instruction -- */

enum { F_DST = 1, F_SRC = 2, F_OFF = 4, F_IMM = 8 };

struct dis_line {
	char text[96];		/* the instruction, or `.insn 0x...` */
	char note[80];		/* comment without the '#', or "" */
	int slots;		/* 1, or 2 for an lddw */
	long target;		/* jump or call target index, -1 if none */
	bool func;		/* the target is a function entry */
};

/* the instruction as the 64-bit little-endian word of the file formats */
static uint64_t insn_word(const struct bpf_insn *in)
{
	return (uint64_t)in->code | (uint64_t)(in->dst_reg | in->src_reg << 4) << 8 |
	       (uint64_t)(uint16_t)in->off << 16 | (uint64_t)(uint32_t)in->imm << 32;
}

/* numbers: small ones in decimal, others in hex; always with their sign, so
 * that `mov %r0, -0x10000` reads as the sign-extended value it is */
static const char *num(char *b, size_t n, int64_t v)
{
	if (v > -65536 && v < 65536)
		snprintf(b, n, "%" PRId64, v);
	else if (v < 0)
		snprintf(b, n, "-0x%" PRIx64, -(uint64_t)v);
	else
		snprintf(b, n, "0x%" PRIx64, (uint64_t)v);
	return b;
}

/* a target: its label when there is one, else the relative offset */
static const char *target(char *b, size_t n, const uint8_t *labels, size_t cnt, long t,
			  int64_t rel)
{
	if (labels && t >= 0 && (size_t)t < cnt && labels[t])
		snprintf(b, n, "%c%ld", labels[t], t);
	else
		snprintf(b, n, "%s%" PRId64, rel < 0 ? "" : "+", rel);
	return b;
}

static const char *memref(char *b, size_t n, unsigned reg, int16_t off)
{
	if (off)
		snprintf(b, n, "[%%r%u%+d]", reg, off);
	else
		snprintf(b, n, "[%%r%u]", reg);
	return b;
}

/* why no row matches: the validator's words, without the "insn N: " */
static void explain_invalid(const struct bpf_insn *in, char *b, size_t n)
{
	const struct bpf_opinfo *r = NULL;
	for (int op = OP_INVALID + 1; op < OP_CNT && !r; op++)
		if (isa_ops[op].code == in->code)
			r = &isa_ops[op];
	if (!r)
		snprintf(b, n, "unknown opcode 0x%02x", in->code);
	else if (r->sel == SEL_OFF)
		snprintf(b, n, "%s: invalid off %d", r->mnem, in->off);
	else if (r->sel == SEL_IMM)
		snprintf(b, n, "opcode 0x%02x: invalid imm %d", in->code, in->imm);
	else if (r->sel == SEL_SRC)
		snprintf(b, n, "%s: invalid src_reg %d", r->mnem, in->src_reg);
	else
		snprintf(b, n, "%s: off must be 0, not %d", r->mnem, in->off);
}

/* Format insns[pc] into *l.  labels (may be NULL) maps an index to its label
 * letter ('L' or 'f') or 0.  Fields the text does not show must hold exactly
 * what the row implies; otherwise the slot prints as a raw `.insn`. */
static void dis_one(const struct bpf_insn *insns, size_t cnt, size_t pc,
		    const uint8_t *labels, struct dis_line *l)
{
	const struct bpf_insn *in = &insns[pc];
	enum bpf_op op = isa_decode(in);
	char a[40], b[40];
	unsigned used = 0;

	l->text[0] = l->note[0] = 0;
	l->slots = 1;
	l->target = -1;
	l->func = false;
	if (op == OP_INVALID) {
		explain_invalid(in, l->note, sizeof(l->note));
		goto raw;
	}
	const struct bpf_opinfo *r = &isa_ops[op];
	const char *m = r->mnem;
	unsigned d = in->dst_reg, s = in->src_reg;
	int16_t off = in->off;
	int32_t imm = in->imm;
	char *t = l->text;
	size_t tn = sizeof(l->text);

	switch ((enum bpf_fmt)r->fmt) {
	case FMT_ALU_IMM:
		snprintf(t, tn, "%s %%r%u, %s", m, d, num(a, sizeof(a), imm));
		used = F_DST | F_IMM;
		break;
	case FMT_ALU_REG:
		snprintf(t, tn, "%s %%r%u, %%r%u", m, d, s);
		used = F_DST | F_SRC;
		break;
	case FMT_NEG:
	case FMT_END:
	case FMT_CALLX:
		snprintf(t, tn, "%s %%r%u", m, d);
		used = F_DST;
		break;
	case FMT_JA:
	case FMT_MAY_GOTO:
		l->target = isa_target(in, pc, op);
		snprintf(t, tn, "%s %s", m, target(a, sizeof(a), labels, cnt, l->target, off));
		used = F_OFF;
		break;
	case FMT_JA32:
	case FMT_CALL_LOCAL:
		l->target = isa_target(in, pc, op);
		l->func = r->fmt == FMT_CALL_LOCAL;
		snprintf(t, tn, "%s %s", m, target(a, sizeof(a), labels, cnt, l->target, imm));
		used = F_IMM;
		break;
	case FMT_JMP_IMM:
		l->target = isa_target(in, pc, op);
		snprintf(t, tn, "%s %%r%u, %s, %s", m, d, num(a, sizeof(a), imm),
			 target(b, sizeof(b), labels, cnt, l->target, off));
		used = F_DST | F_IMM | F_OFF;
		break;
	case FMT_JMP_REG:
		l->target = isa_target(in, pc, op);
		snprintf(t, tn, "%s %%r%u, %%r%u, %s", m, d, s,
			 target(b, sizeof(b), labels, cnt, l->target, off));
		used = F_DST | F_SRC | F_OFF;
		break;
	case FMT_CALL:
		snprintf(t, tn, "%s %s", m, num(a, sizeof(a), imm));
		used = F_IMM;
		break;
	case FMT_CALL_KFUNC:
		if (off)
			snprintf(t, tn, "%s %s, %d", m, num(a, sizeof(a), imm), off);
		else
			snprintf(t, tn, "%s %s", m, num(a, sizeof(a), imm));
		used = F_IMM | F_OFF;
		break;
	case FMT_EXIT:
		snprintf(t, tn, "%s", m);
		break;
	case FMT_LDDW: {
		if (pc + 1 >= cnt) {
			snprintf(l->note, sizeof(l->note), "lddw: missing second half");
			goto raw;
		}
		const struct bpf_insn *hi = &insns[pc + 1];
		if (hi->code || hi->dst_reg || hi->src_reg || hi->off) {
			snprintf(l->note, sizeof(l->note), "lddw: second half must have only imm set");
			goto raw;
		}
		const char *kind = disasm_lddw_kind(op);
		if (!kind) {
			uint64_t v = (uint64_t)(uint32_t)imm | (uint64_t)(uint32_t)hi->imm << 32;
			snprintf(t, tn, "%s %%r%u, %s", m, d, num(a, sizeof(a), (int64_t)v));
		} else {
			const char *first;
			if (op == OP_LDDW_FUNC) {
				l->target = isa_target(in, pc, op);
				l->func = true;
				first = target(a, sizeof(a), labels, cnt, l->target, imm);
			} else {
				first = num(a, sizeof(a), imm);
			}
			if (hi->imm)
				snprintf(t, tn, "%s %%r%u, %s %s, %s", m, d, kind, first,
					 num(b, sizeof(b), hi->imm));
			else
				snprintf(t, tn, "%s %%r%u, %s %s", m, d, kind, first);
		}
		l->slots = 2;
		used = F_DST | F_IMM;
		break;
	}
	case FMT_LDABS:
		snprintf(t, tn, "%s %s", m, num(a, sizeof(a), imm));
		used = F_IMM;
		break;
	case FMT_LDIND:
		snprintf(t, tn, "%s %%r%u, %s", m, s, num(a, sizeof(a), imm));
		used = F_SRC | F_IMM;
		break;
	case FMT_LDX:
	case FMT_LOAD_ACQ:
		snprintf(t, tn, "%s %%r%u, %s", m, d, memref(a, sizeof(a), s, off));
		used = F_DST | F_SRC | F_OFF;
		break;
	case FMT_ST:
		snprintf(t, tn, "%s %s, %s", m, memref(a, sizeof(a), d, off), num(b, sizeof(b), imm));
		used = F_DST | F_OFF | F_IMM;
		break;
	case FMT_STX:
	case FMT_ATOMIC:
	case FMT_STORE_REL:
		snprintf(t, tn, "%s %s, %%r%u", m, memref(a, sizeof(a), d, off), s);
		used = F_DST | F_SRC | F_OFF;
		break;
	}

	/* can the text be written back exactly? */
	if (((used & F_DST) && d > BPF_REG_10) || ((used & F_SRC) && s > BPF_REG_10)) {
		snprintf(l->note, sizeof(l->note), "%s: invalid register r%u", m,
			 (used & F_DST) && d > BPF_REG_10 ? d : s);
		goto raw;
	}
	if (!(used & F_DST) && d) {
		snprintf(l->note, sizeof(l->note), "%s: dst_reg must be 0, not %u", m, d);
		goto raw;
	}
	if (!(used & F_SRC) && r->sel != SEL_SRC && s) {
		snprintf(l->note, sizeof(l->note), "%s: src_reg must be 0, not %u", m, s);
		goto raw;
	}
	if (!(used & F_OFF) && r->sel != SEL_OFF && off) {
		snprintf(l->note, sizeof(l->note), "%s: off must be 0, not %d", m, off);
		goto raw;
	}
	if (!(used & F_IMM) && r->sel != SEL_IMM && imm) {
		snprintf(l->note, sizeof(l->note), "%s: imm must be 0, not %d", m, imm);
		goto raw;
	}
	if (r->fmt == FMT_CALL && imm >= 0) {
		const struct helper_proto *p = helper_proto((uint32_t)imm);
		if (p)
			snprintf(l->note, sizeof(l->note), "bpf_%s", p->name);
	} else if (r->fmt == FMT_CALL_KFUNC && imm >= 0 && !off) {
		const struct helper_proto *p = kfunc_by_id((uint32_t)imm);
		if (p)
			snprintf(l->note, sizeof(l->note), "%s", p->name);
	}
	return;
raw:
	l->slots = 1;
	l->target = -1;
	l->func = false;
	snprintf(l->text, sizeof(l->text), ".insn 0x%016" PRIx64, insn_word(in));
}

int disasm_insn(const struct bpf_insn *insns, size_t cnt, size_t pc, char *buf, size_t size)
{
	struct dis_line l;
	if (!insns || pc >= cnt)
		return -EINVAL;
	dis_one(insns, cnt, pc, NULL, &l);
	if (size) {
		if (l.note[0])
			snprintf(buf, size, "%s  # %s", l.text, l.note);
		else
			snprintf(buf, size, "%s", l.text);
	}
	return l.slots;
}

/* ------------------------------------------------------ whole programs -- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	for (int tries = 0; tries < 2 && !sb->oom; tries++) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(sb->p + sb->len, sb->cap - sb->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->oom = true;
			return;
		}
		if ((size_t)n < sb->cap - sb->len) {
			sb->len += (size_t)n;
			return;
		}
		size_t cap = sb->cap * 2 + (size_t)n + 1;
		char *p = realloc(sb->p, cap);
		if (!p) {
			sb->oom = true;
			return;
		}
		sb->p = p;
		sb->cap = cap;
	}
}

/* per-slot marks collected in the first pass */
enum { M_START = 1, M_JUMP = 2, M_FUNC = 4 };

BPFVM_API char *bpfvm_disasm(const struct bpf_insn *insns, size_t insn_cnt, unsigned int flags)
{
	if (!insns && insn_cnt) {
		errno = EINVAL;
		return NULL;
	}
	uint8_t *mark = calloc(insn_cnt ? insn_cnt : 1, 1);
	struct sbuf sb = { .cap = insn_cnt < (1u << 20) ? 48 * insn_cnt + 64 : 48u << 20 };
	sb.p = mark ? malloc(sb.cap) : NULL;
	if (!sb.p) {
		free(mark);
		errno = ENOMEM;
		return NULL;
	}
	sb.p[0] = 0;

	/* pass 1: where instructions start, which of them are targets */
	struct dis_line l;
	for (size_t pc = 0; pc < insn_cnt; pc += (size_t)l.slots) {
		dis_one(insns, insn_cnt, pc, NULL, &l);
		mark[pc] |= M_START;
		if (l.target >= 0 && (size_t)l.target < insn_cnt)
			mark[l.target] |= l.func ? M_FUNC : M_JUMP;
	}
	/* a label only where an instruction starts: a jump into the middle of
	 * an lddw keeps its numeric offset */
	for (size_t pc = 0; pc < insn_cnt; pc++)
		mark[pc] = !(mark[pc] & M_START) ? 0 : (mark[pc] & M_FUNC) ? 'f'
			   : (mark[pc] & M_JUMP) ? 'L' : 0;

	/* pass 2: print */
	for (size_t pc = 0; pc < insn_cnt && !sb.oom; pc += (size_t)l.slots) {
		dis_one(insns, insn_cnt, pc, mark, &l);
		if (mark[pc])
			sb_printf(&sb, "%c%zu:\n", mark[pc], pc);
		if (flags & BPFVM_DISASM_INDEX)
			sb_printf(&sb, "%5zu: ", pc);
		if (flags & BPFVM_DISASM_RAW) {
			sb_printf(&sb, "%-36s #", l.text);
			for (size_t i = 0; i < (size_t)l.slots; i++) {
				uint64_t w = insn_word(&insns[pc + i]);
				for (int j = 0; j < 8; j++)
					sb_printf(&sb, " %02x", (unsigned)(w >> (8 * j)) & 0xff);
			}
			if (l.note[0])
				sb_printf(&sb, "  %s", l.note);
		} else if (l.note[0]) {
			sb_printf(&sb, "%s  # %s", l.text, l.note);
		} else {
			sb_printf(&sb, "%s", l.text);
		}
		sb_printf(&sb, "\n");
	}
	free(mark);
	if (sb.oom) {
		free(sb.p);
		errno = ENOMEM;
		return NULL;
	}
	return sb.p;
}
