/* test_asm.c — the assembler and disassembler against opcodes.def and each other.
 *
 * Every row of isa_ops is built with non-trivial operands, disassembled (with
 * every flag combination, and one instruction at a time), reassembled and
 * compared byte for byte; programs with labels print exactly as expected; the
 * conformance suite's spellings encode as its assembler does; every assembler
 * error message is checked word for word; random bytes, valid or not,
 * survive asm(disasm(x)) unchanged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "isa/disasm.h"
#include "isa/isa.h"
#include "testutil.h"

/* assemble; NULL (and the message in err) on failure */
static struct bpf_insn *assemble(const char *text, size_t *cnt, char *err, size_t err_sz)
{
	struct bpf_insn *insns = NULL;
	int ret = bpfvm_asm(text, &insns, cnt, err, err_sz);
	return ret ? NULL : insns;
}

static bool same_insns(const struct bpf_insn *a, size_t na, const struct bpf_insn *b, size_t nb)
{
	return na == nb && !memcmp(a, b, na * sizeof(*a));
}

static void dump(const char *what, const struct bpf_insn *p, size_t n)
{
	fprintf(stderr, "  %s:", what);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *b = (const uint8_t *)&p[i];
		fprintf(stderr, " ");
		for (int j = 0; j < 8; j++)
			fprintf(stderr, "%02x", b[j]);
	}
	fprintf(stderr, "\n");
}

/* asm(disasm(p, flags)) == p; returns the text (caller frees) for more checks */
static char *roundtrip(const struct bpf_insn *p, size_t n, unsigned flags, const char *ctx)
{
	char *text = bpfvm_disasm(p, n, flags);
	CHECK(text != NULL);
	if (!text)
		return NULL;
	char err[256] = "";
	size_t cnt = 0;
	struct bpf_insn *back = assemble(text, &cnt, err, sizeof(err));
	bool ok = back && same_insns(p, n, back, cnt);
	CHECK(ok);
	if (!ok) {
		fprintf(stderr, "  round trip of %s (flags %u) failed: %s\n%s", ctx, flags, err, text);
		dump("original", p, n);
		if (back)
			dump("reassembled", back, cnt);
	}
	free(back);
	return text;
}

/* ------------------------------------------------------- every row -- */

/* Fill the fields the row's format makes operands with non-trivial values
 * (variant 0 and 1 differ in every one), the selector from the row; `rel`
 * is the jump/call offset that reaches index 0 or the program's end. */
static int make_insn(enum bpf_op op, int variant, int32_t rel, struct bpf_insn *out)
{
	const struct bpf_opinfo *r = &isa_ops[op];
	struct bpf_insn in = { .code = r->code };
	unsigned dst = variant ? 9 : 3, src = variant ? 1 : 7;
	int16_t off = variant ? -12 : 40;
	int32_t imm = variant ? -100000 : 0x1234;
	int slots = 1;

	switch ((enum bpf_fmt)r->fmt) {
	case FMT_ALU_IMM: in.dst_reg = dst; in.imm = imm; break;
	case FMT_ALU_REG: in.dst_reg = dst; in.src_reg = src; break;
	case FMT_NEG: case FMT_END: case FMT_CALLX: in.dst_reg = dst; break;
	case FMT_JA: case FMT_MAY_GOTO: in.off = (int16_t)rel; break;
	case FMT_JA32: case FMT_CALL_LOCAL: in.imm = rel; break;
	case FMT_JMP_IMM: in.dst_reg = dst; in.imm = imm; in.off = (int16_t)rel; break;
	case FMT_JMP_REG: in.dst_reg = dst; in.src_reg = src; in.off = (int16_t)rel; break;
	case FMT_CALL: in.imm = variant ? 1 : 5000; break;
	case FMT_CALL_KFUNC: in.imm = imm; in.off = variant ? 3 : 0; break;
	case FMT_EXIT: break;
	case FMT_LDDW:
		in.dst_reg = dst;
		in.imm = op == OP_LDDW_FUNC ? rel : imm;
		out[1] = (struct bpf_insn){ .imm = op == OP_LDDW ? 0x11223344 * (variant ? -1 : 1)
						   : variant ? 16 : 0 };
		slots = 2;
		break;
	case FMT_LDABS: in.imm = variant ? -4 : 12; break;
	case FMT_LDIND: in.src_reg = src; in.imm = imm; break;
	case FMT_LDX: case FMT_LOAD_ACQ: in.dst_reg = dst; in.src_reg = src; in.off = off; break;
	case FMT_ST: in.dst_reg = dst; in.off = off; in.imm = imm; break;
	case FMT_STX: case FMT_ATOMIC: case FMT_STORE_REL:
		in.dst_reg = dst; in.src_reg = src; in.off = off; break;
	}
	switch (r->sel) {
	case SEL_OFF: in.off = (int16_t)r->selval; break;
	case SEL_IMM: in.imm = r->selval; break;
	case SEL_SRC: in.src_reg = (unsigned)r->selval; break;
	default: break;
	}
	out[0] = in;
	return slots;
}

static void test_every_row(void)
{
	const struct bpf_insn mov0 = { .code = 0xb7 }, exit_ = { .code = 0x95 };
	int rows = 0;
	for (int op = OP_INVALID + 1; op < OP_CNT; op++) {
		for (int variant = 0; variant < 2; variant++) {
			/* variant 0: X, 3 movs, exit (targets forward to the exit);
			 * variant 1: 3 movs, X, exit (targets back to index 0) */
			struct bpf_insn p[8], x[2];
			size_t n = 0, at;
			int slots = make_insn((enum bpf_op)op, variant, 0, x);
			if (variant) {
				p[n++] = mov0, p[n++] = mov0, p[n++] = mov0;
				at = n;
				make_insn((enum bpf_op)op, variant, -(int32_t)at - 1, x);
			} else {
				at = 0;
				make_insn((enum bpf_op)op, variant, 3, x);
			}
			for (int i = 0; i < slots; i++)
				p[n++] = x[i];
			if (!variant)
				p[n++] = mov0, p[n++] = mov0, p[n++] = mov0;
			p[n++] = exit_;

			char ctx[64];
			snprintf(ctx, sizeof(ctx), "%s variant %d", isa_ops[op].name, variant);
			CHECK_EQ(isa_decode(&p[at]), op);
			for (unsigned flags = 0; flags < 4; flags++) {
				char *text = roundtrip(p, n, flags, ctx);
				if (!text)
					continue;
				CHECK(strstr(text, ".insn") == NULL);
				if (strstr(text, ".insn"))
					fprintf(stderr, "  %s printed as raw:\n%s", ctx, text);
				free(text);
			}

			/* one instruction alone, with its numeric offsets */
			char line[DISASM_INSN_MAX], err[256] = "";
			CHECK_EQ(disasm_insn(p, n, at, line, sizeof(line)), slots);
			CHECK(strstr(line, ".insn") == NULL);
			size_t cnt = 0;
			struct bpf_insn *back = assemble(line, &cnt, err, sizeof(err));
			bool ok = back && same_insns(&p[at], (size_t)slots, back, cnt) &&
				  (int)isa_decode(back) == op;
			CHECK(ok);
			if (!ok)
				fprintf(stderr, "  %s: '%s' does not reassemble: %s\n", ctx, line, err);
			free(back);
		}
		rows++;
	}
	CHECK_EQ(rows, OP_CNT - 1);
}

/* ------------------------------------------------- programs, labels -- */

static void check_disasm(const char *src, unsigned flags, const char *want)
{
	char err[256] = "";
	size_t cnt = 0;
	struct bpf_insn *p = assemble(src, &cnt, err, sizeof(err));
	CHECK(p != NULL);
	if (!p) {
		fprintf(stderr, "  cannot assemble: %s\n", err);
		return;
	}
	char *text = roundtrip(p, cnt, flags, "labelled program");
	CHECK_STR(text, want);
	free(text);
	free(p);
}

static void test_labels(void)
{
	check_disasm("lddw %r2, func fn\n"
		     "mov %r0, 0\n"
		     "loop:\n"
		     "add %r0, 1\n"
		     "jlt %r0, 10, loop\n"
		     "call local fn\n"
		     "callx %r2\n"
		     "call 5\n"
		     "ja exit\n"
		     "exit\n"
		     "fn:\n"
		     "mov %r0, 7\n"
		     "exit\n",
		     0,
		     "lddw %r2, func f10\n"
		     "mov %r0, 0\n"
		     "L3:\n"
		     "add %r0, 1\n"
		     "jlt %r0, 10, L3\n"
		     "call local f10\n"
		     "callx %r2\n"
		     "call 5  # bpf_ktime_get_ns\n"
		     "ja L9\n"
		     "L9:\n"
		     "exit\n"
		     "f10:\n"
		     "mov %r0, 7\n"
		     "exit\n");
	check_disasm("mov %r0, 0\n"
		     "top: jeq %r0, 3, out\n"
		     "add32 %r0, -1\n"
		     "ja32 top\n"
		     "out: lddw %r1, -0x123456789\n"
		     "ldxdw %r0, [%r10-8]\n"
		     "stxw [%r1+4], %r0\n"
		     "lock fetch add32 [%r10-8], %r1\n"
		     "call 1\n"
		     "exit\n",
		     BPFVM_DISASM_INDEX,
		     "    0: mov %r0, 0\n"
		     "L1:\n"
		     "    1: jeq %r0, 3, L4\n"
		     "    2: add32 %r0, -1\n"
		     "    3: ja32 L1\n"
		     "L4:\n"
		     "    4: lddw %r1, -0x123456789\n"
		     "    6: ldxdw %r0, [%r10-8]\n"
		     "    7: stxw [%r1+4], %r0\n"
		     "    8: lock fetch add32 [%r10-8], %r1\n"
		     "    9: call 1  # bpf_map_lookup_elem\n"
		     "   10: exit\n");
	/* a jump into the middle of an lddw and one out of the program keep
	 * their numeric offsets; raw bytes as a trailing comment */
	check_disasm("ja +1\nlddw %r0, 1\njeq %r0, 0, -100\nexit\n", BPFVM_DISASM_RAW,
		     "ja +1                                # 05 00 01 00 00 00 00 00\n"
		     "lddw %r0, 1                          # 18 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00\n"
		     "jeq %r0, 0, -100                     # 15 00 9c ff 00 00 00 00\n"
		     "exit                                 # 95 00 00 00 00 00 00 00\n");
	/* invalid bytes: raw words with the reason */
	check_disasm(".insn 0xff\n.insn 0x0000000100001007\n.insn 0x18\n", 0,
		     ".insn 0x00000000000000ff  # unknown opcode 0xff\n"
		     ".insn 0x0000000100001007  # add: src_reg must be 0, not 1\n"
		     ".insn 0x0000000000000018  # lddw: missing second half\n");
	check_disasm(".insn 0x0000000000000bb7\n.insn 0x0000000000020037\n.insn 0x000000000000003c\n"
		     ".insn 0x00000002000000db\n.insn 0x0000000000003085\n", 0,
		     ".insn 0x0000000000000bb7  # mov: invalid register r11\n"
		     ".insn 0x0000000000020037  # div: invalid off 2\n"
		     "div32 %r0, %r0\n"
		     ".insn 0x00000002000000db  # opcode 0xdb: invalid imm 2\n"
		     ".insn 0x0000000000003085  # call: invalid src_reg 3\n");
}

/* ------------------------------------------------- the suite's dialect -- */

/* two texts that must assemble to the same bytes */
static void check_same(const char *a, const char *b)
{
	char ea[256] = "", eb[256] = "";
	size_t na = 0, nb = 0;
	struct bpf_insn *pa = assemble(a, &na, ea, sizeof(ea)), *pb = assemble(b, &nb, eb, sizeof(eb));
	bool ok = pa && pb && same_insns(pa, na, pb, nb);
	CHECK(ok);
	if (!ok)
		fprintf(stderr, "  '%s' (%s) != '%s' (%s)\n", a, ea, b, eb);
	free(pa);
	free(pb);
}

/* text that must assemble to one given instruction */
static void check_insn(const char *text, uint8_t code, unsigned dst, unsigned src, int16_t off,
		       int32_t imm)
{
	char err[256] = "";
	size_t n = 0;
	struct bpf_insn *p = assemble(text, &n, err, sizeof(err));
	struct bpf_insn want = { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
	bool ok = p && n >= 1 && !memcmp(p, &want, sizeof(want));
	CHECK(ok);
	if (!ok) {
		fprintf(stderr, "  '%s': %s\n", text, err);
		if (p)
			dump("got", p, n);
		dump("want", &want, 1);
	}
	free(p);
}

static void test_dialect(void)
{
	check_insn("mov32 %r0, 1", 0xb4, 0, 0, 0, 1);
	check_insn("mov32 %r0, 0xffffffff", 0xb4, 0, 0, 0, -1);
	check_insn("mov %r0, -0x80000000", 0xb7, 0, 0, 0, INT32_MIN);
	check_insn("add %r0, %r1", 0x0f, 0, 1, 0, 0);
	check_insn("add64 %r0, %r1", 0x0f, 0, 1, 0, 0);
	check_insn("ldxw %r0, [%r1+4]", 0x61, 0, 1, 4, 0);
	check_insn("ldxsw %r2, [%r3-0x10]", 0x81, 2, 3, -16, 0);
	check_insn("stxdw [%r10-8], %r1", 0x7b, 10, 1, -8, 0);
	check_insn("stw [%r1], 5", 0x62, 1, 0, 0, 5);
	check_insn("lock fetch add32 [%r10-8], %r1", 0xc3, 10, 1, -8, 0x01);
	check_insn("lock cmpxchg [%r1+8], %r2", 0xdb, 1, 2, 8, 0xf1);
	check_insn("lock xchg32 [%r1], %r2", 0xc3, 1, 2, 0, 0xe1);
	check_insn("le16 %r0", 0xd4, 0, 0, 0, 16);
	check_insn("be32 %r3", 0xdc, 3, 0, 0, 32);
	check_insn("bswap64 %r3", 0xd7, 3, 0, 0, 64);
	check_insn("swap16 %r3", 0xd7, 3, 0, 0, 16);
	check_insn("ja +3", 0x05, 0, 0, 3, 0);
	check_insn("ja -1", 0x05, 0, 0, -1, 0);
	check_insn("ja32 +70000", 0x06, 0, 0, 0, 70000);
	check_insn("jeq %r1, 5, +2", 0x15, 1, 0, 2, 5);
	check_insn("jsle32 %r1, %r2, -2", 0xde, 1, 2, -2, 0);
	check_insn("call 5", 0x85, 0, 0, 0, 5);
	check_insn("call helper 5", 0x85, 0, 0, 0, 5);
	check_insn("call bpf_map_lookup_elem", 0x85, 0, 0, 0, 1);
	check_insn("call map_update_elem", 0x85, 0, 0, 0, 2);
	check_insn("call local +4", 0x85, 0, 1, 0, 4);
	check_insn("call kfunc 77", 0x85, 0, 2, 0, 77);
	check_insn("call kfunc 77, 2", 0x85, 0, 2, 2, 77);
	check_insn("call runtime 77", 0x85, 0, 2, 0, 77);
	check_insn("call %r2", 0x8d, 2, 0, 0, 0);
	check_insn("callx %r2", 0x8d, 2, 0, 0, 0);
	check_insn("may_goto +5", 0xe5, 0, 0, 5, 0);
	check_insn("ldabsw 12", 0x20, 0, 0, 0, 12);
	check_insn("ldindh %r1, 14", 0x48, 0, 1, 0, 14);
	check_insn("ldacqw %r0, [%r1+0]", 0xc3, 0, 1, 0, 0x100);
	check_insn("strelw [%r1+0], %r2", 0xc3, 1, 2, 0, 0x110);
	check_insn("movsx832 %r1, %r2", 0xbc, 1, 2, 8, 0);
	check_insn("movsx1664 %r1, %r2", 0xbf, 1, 2, 16, 0);
	check_insn("movsx8 %r1, %r2", 0xbf, 1, 2, 8, 0);
	check_insn("sdiv %r1, 3", 0x37, 1, 0, 1, 3);
	check_insn("smod32 %r1, %r2", 0x9c, 1, 2, 1, 0);
	check_insn("sdiv64 %r1, %r2", 0x3f, 1, 2, 1, 0);
	check_insn("neg64 %r1", 0x87, 1, 0, 0, 0);
	check_insn("exit", 0x95, 0, 0, 0, 0);
	check_insn("lddw %r1, map_fd 3", 0x18, 1, 1, 0, 3);
	check_insn("lddw %r1, btf_id 7", 0x18, 1, 3, 0, 7);
	check_insn("lddw %r1, map_idx 0", 0x18, 1, 5, 0, 0);
	check_insn("lddw %r1, func +2", 0x18, 1, 4, 0, 2);
	check_insn(".insn 0x1122334455667788", 0x88, 7, 7, 0x5566, 0x11223344);
	check_insn("  12: mov %r0, 1", 0xb7, 0, 0, 0, 1);
	check_insn("mov %r0 1  # commas are optional, as in the suite", 0xb7, 0, 0, 0, 1);
	check_insn("ldxw %r0, [ %r1 + 4 ]", 0x61, 0, 1, 4, 0);
	check_insn("L: ja L", 0x05, 0, 0, -1, 0);

	check_same("lddw %r0, 0x1122334455667788\nexit",
		   ".insn 0x5566778800000018\n.insn 0x1122334400000000\n.insn 0x95");
	check_same("lddw %r1, map_value 3, 16", ".insn 0x0000000300002118\n.insn 0x0000001000000000");
	check_same("lddw %r1, map_idx_value 2, 8", ".insn 0x0000000200006118\n.insn 0x0000000800000000");
	check_same("lddw %r0, -1", "lddw %r0, 0xffffffffffffffff");
	check_same("lddw %r1, func f\nexit\nf: exit", "lddw %r1, func +2\nexit\nexit");
	check_same("call local f\nexit\nf:\nexit", "call local +1\nexit\nexit");
	/* `exit` is an implicit label for the first exit; an explicit one wins */
	check_same("ja exit\nmov %r0, 1\nexit\nexit", "ja +1\nmov %r0, 1\nexit\nexit");
	check_same("ja exit\nexit\nexit:\nexit", "ja +1\nexit\nexit");
	/* a line that is only digits and ':' is a label, as in the suite */
	check_same("ja 12\n12:\nexit", "ja +0\nexit");
	check_same("jeq %r1, 0, done\r\nmov %r0, 1\r\ndone:\r\nexit\r\n",
		   "jeq %r1, 0, +1\nmov %r0, 1\nexit");
}

/* ---------------------------------------------------------- errors -- */

static void check_err(const char *text, const char *want)
{
	char err[256] = "";
	size_t n = 0;
	struct bpf_insn *p = NULL;
	int ret = bpfvm_asm(text, &p, &n, err, sizeof(err));
	CHECK_EQ(ret, -EINVAL);
	CHECK_STR(err, want);
	if (!ret)
		free(p);
}

static void test_errors(void)
{
	check_err("mov %r0, 0\nfoo %r0\nexit", "line 2: unknown mnemonic 'foo'");
	check_err("lock foo [%r1], %r2", "line 1: unknown mnemonic 'lock foo'");
	check_err("exit\n\nmov %r11, 1", "line 3: bad register '%r11'");
	check_err("mov %r01, 1", "line 1: bad register '%r01'");
	check_err("mov r1, 1", "line 1: expected a register, got 'r1'");
	check_err("movsx864 %r0, 5", "line 1: expected a register, got '5'");
	check_err("mov %r0, 0\nja out\nexit", "line 2: unknown label 'out'");
	check_err("ja 5\nexit", "line 1: unknown label '5' (a relative target is written +5)");
	check_err("mov %r0, 1\nexit\nexit\nmov32 %r0, 0x1ffffffff",
		  "line 4: immediate out of 32-bit range: 0x1ffffffff");
	check_err("mov %r0, -0x80000001", "line 1: immediate out of 32-bit range: -0x80000001");
	check_err("lddw %r0, 0x10000000000000000",
		  "line 1: immediate out of 64-bit range: 0x10000000000000000");
	check_err("lddw %r0, -0x8000000000000001",
		  "line 1: immediate out of 64-bit range: -0x8000000000000001");
	check_err("ldxw %r0, [%r1+32768]", "line 1: offset out of 16-bit range: +32768");
	check_err("ja +32768", "line 1: offset out of 16-bit range: +32768");
	check_err("ldxw %r0, [%r1*4]", "line 1: bad memory operand '[%r1*4]'");
	check_err("ldxw %r0, [%r1+4", "line 1: bad memory operand '[%r1+4'");
	check_err("ldxw %r0, [%r1+]", "line 1: bad memory operand '[%r1+]'");
	check_err("stxw [%r12], %r1", "line 1: bad register '%r12'");
	check_err("add %r0", "line 1: add: expected 2 operands, got 1");
	check_err("exit %r0", "line 1: exit: expected 0 operands, got 1");
	check_err("jeq %r1, %r2", "line 1: jeq: expected 3 operands, got 2");
	check_err("call kfunc 1, 2, 3", "line 1: call kfunc: expected 1 to 2 operands, got 3");
	check_err("mov %r0, abc", "line 1: bad number 'abc'");
	check_err("mov %r0, 0x", "line 1: bad number '0x'");
	check_err("call nosuch", "line 1: unknown helper 'nosuch'");
	check_err("a:\nexit\na:\nexit", "line 3: duplicate label 'a'");
	check_err("a+b:\nexit", "line 1: bad label 'a+b'");
	check_err("ja a+b", "line 1: bad jump target 'a+b'");
	check_err("", "no instructions");
	check_err("  # only a comment\n\n", "no instructions");
	check_err("lddw %r1, foo 3",
		  "line 1: lddw: expected a number or one of map_fd, map_value, btf_id, func, "
		  "map_idx, map_idx_value, got 'foo'");
	check_err("lddw %r1, 1, 2", "line 1: lddw: expected 2 operands, got 3");
	check_err("lddw %r1, map_fd", "line 1: lddw map_fd: expected a value");
	check_err("mov %r0, 1, 2, 3, 4, 5, 6, 7, 8", "line 1: too many operands");
	check_err(".insn 0x1ffffffffffffffff", "line 1: immediate out of 64-bit range: 0x1ffffffffffffffff");

	/* a label too far for a 16-bit offset */
	size_t n = 40000;
	char *big = malloc(n * 11 + 64);
	CHECK(big != NULL);
	if (big) {
		char *p = big + sprintf(big, "ja   far\n");
		for (size_t i = 0; i < n; i++)
			p += sprintf(p, "mov %%r0, 0\n");
		sprintf(p, "far:\nexit\n");
		check_err(big, "line 1: jump to 'far' is out of 16-bit range (offset 40000)");
		memcpy(big, "ja32", 4);
		size_t cnt = 0;
		char err[128] = "";
		struct bpf_insn *prog = assemble(big, &cnt, err, sizeof(err));
		CHECK(prog && cnt == n + 2 && prog[0].imm == (int32_t)n);
		free(prog);
		free(big);
	}

	/* no error buffer, a tiny one */
	struct bpf_insn *p = NULL;
	size_t cnt;
	CHECK_EQ(bpfvm_asm("foo", &p, &cnt, NULL, 0), -EINVAL);
	char tiny[8];
	CHECK_EQ(bpfvm_asm("foo", &p, &cnt, tiny, sizeof(tiny)), -EINVAL);
	CHECK_STR(tiny, "line 1:");
	CHECK_EQ(bpfvm_asm(NULL, &p, &cnt, NULL, 0), -EINVAL);
}

/* ------------------------------------------------- disasm_insn, misc -- */

static void check_one(const struct bpf_insn *p, size_t n, size_t pc, int want_ret, const char *want)
{
	char buf[DISASM_INSN_MAX];
	CHECK_EQ(disasm_insn(p, n, pc, buf, sizeof(buf)), want_ret);
	CHECK_STR(buf, want);
}

static void test_disasm_insn(void)
{
	const struct bpf_insn p[] = {
		{ .code = 0x15, .dst_reg = 1, .off = 3, .imm = 5 },
		{ .code = 0x85, .imm = 1 },
		{ .code = 0x18, .dst_reg = 2, .src_reg = 4, .imm = -3 },
		{ .code = 0 },
		{ .code = 0xff },
		{ .code = 0x85, .src_reg = 1, .imm = -5 },
		{ .code = 0x18, .dst_reg = 1, .imm = 7 },
	};
	size_t n = sizeof(p) / sizeof(p[0]);
	check_one(p, n, 0, 1, "jeq %r1, 5, +3");
	check_one(p, n, 1, 1, "call 1  # bpf_map_lookup_elem");
	check_one(p, n, 2, 2, "lddw %r2, func -3");
	check_one(p, n, 4, 1, ".insn 0x00000000000000ff  # unknown opcode 0xff");
	check_one(p, n, 5, 1, "call local -5");
	check_one(p, n, 6, 1, ".insn 0x0000000700000118  # lddw: missing second half");
	char buf[8] = "x";
	CHECK_EQ(disasm_insn(p, n, n, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ(disasm_insn(p, n, 0, buf, sizeof(buf)), 1);
	CHECK_STR(buf, "jeq %r1");
	CHECK_STR(disasm_lddw_kind(OP_LDDW_MAP_VALUE), "map_value");
	CHECK(disasm_lddw_kind(OP_LDDW) == NULL);
	CHECK(disasm_lddw_kind(OP_ADD64_IMM) == NULL);

	char *t = bpfvm_disasm(NULL, 0, 0);
	CHECK_STR(t, "");
	free(t);
	errno = 0;
	CHECK(bpfvm_disasm(NULL, 1, 0) == NULL && errno == EINVAL);
}

/* --------------------------------------------------- random bytes -- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random words, half of them from real rows with small field values so that
 * labels, lddw pairs and near-valid instructions come up often. */
static void test_random(void)
{
	for (int iter = 0; iter < 20000; iter++) {
		struct bpf_insn p[24];
		size_t n = 1 + next_rand() % 24;
		for (size_t i = 0; i < n; i++) {
			uint64_t r = next_rand();
			if (r & 1) {
				memcpy(&p[i], &r, sizeof(p[i]));
				continue;
			}
			const struct bpf_opinfo *row = &isa_ops[1 + (r >> 8) % (OP_CNT - 1)];
			p[i] = (struct bpf_insn){ .code = row->code };
			p[i].dst_reg = (r >> 16) % 12;
			p[i].src_reg = (r >> 20) % 12;
			p[i].off = (int16_t)((int)((r >> 24) % 9) - 4);
			p[i].imm = (int32_t)((r >> 32) % 9) - 4;
			switch (row->sel) {
			case SEL_OFF: if (r & 2) p[i].off = (int16_t)row->selval; break;
			case SEL_IMM: if (r & 2) p[i].imm = row->selval; break;
			case SEL_SRC: if (r & 2) p[i].src_reg = (unsigned)row->selval; break;
			default: break;
			}
			if (r & 4)
				p[i].src_reg = 0;
			if (r & 8)
				p[i].off = 0;
			if ((r & 16) && row->sel != SEL_IMM)
				p[i].imm = 0;
		}
		free(roundtrip(p, n, (unsigned)iter & 3, "random program"));
		if (test_failed > 20)
			break;
	}
}

int main(void)
{
	test_every_row();
	test_labels();
	test_dialect();
	test_errors();
	test_disasm_insn();
	test_random();
	return TEST_DONE();
}
