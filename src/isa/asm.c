/* asm.c — text to eBPF bytecode, driven by opcodes.def.
 *
 * The dialect is the eBPF conformance suite's (`mov32 %r0, 1`,
 * `ldxw %r0, [%r1+4]`, `lock fetch add [%r10-8], %r1`, `call local f`,
 * `jeq %r1, 5, label`, labels `name:`, `#` comments, `exit` as an implicit
 * label), plus a text form for every other row of opcodes.def: `call kfunc N`,
 * `callx %rN`, `may_goto +off`, `ldabsw`, `ldindh`, `ldxsw`, `ldacqw`,
 * `strelw`, the pseudo lddw forms (`lddw %r1, map_value 3, 16`), helper
 * and kfunc names (`call bpf_map_lookup_elem`, `call kfunc bpf_rcu_read_lock`)
 * and `.insn 0x...` for any raw 64-bit word.  A leading `12:` (the index bpfvm_disasm() prints) is ignored.
 *
 * The mnemonic finds its rows of isa_ops in a table built on first use; the
 * operands' shape picks among rows that share a mnemonic (`add %r0, 1` and
 * `add %r0, %r1`); the row's format says where each operand goes and its
 * selector fills the rest.  Labels are resolved after the last line.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "helpers/helpers.h"
#include "isa/disasm.h"
#include "isa/isa.h"

/* ------------------------------------------------------ mnemonic table -- */

#define MNEM_ROWS 8	/* most rows sharing one mnemonic ("lddw": 7) */

struct mnem {
	const char *name;
	uint16_t rows[MNEM_ROWS];
	uint8_t row_cnt;
};

static struct mnem mnems[OP_CNT];
static size_t mnem_cnt;
static uint16_t callx_row;	/* `call %rN` is the suite's spelling of callx */
static pthread_once_t mnem_once = PTHREAD_ONCE_INIT;

/* other spellings the suite's assembler (or habit) uses */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{ "call helper", "call" },	{ "call runtime", "call kfunc" },
	{ "swap16", "bswap16" },	{ "swap32", "bswap32" },
	{ "swap64", "bswap64" },	{ "movsx8", "movsx864" },
	{ "movsx16", "movsx1664" },	{ "movsx32", "movsx3264" },
};

static int cmp_mnem(const void *a, const void *b)
{
	return strcmp(((const struct mnem *)a)->name, ((const struct mnem *)b)->name);
}

static void build_mnems(void)
{
	for (int op = OP_INVALID + 1; op < OP_CNT; op++) {
		const struct bpf_opinfo *r = &isa_ops[op];
		size_t i = 0;
		if (r->fmt == FMT_CALLX)
			callx_row = (uint16_t)op;
		while (i < mnem_cnt && strcmp(mnems[i].name, r->mnem))
			i++;
		if (i == mnem_cnt)
			mnems[mnem_cnt++].name = r->mnem;
		if (mnems[i].row_cnt < MNEM_ROWS) /* test_asm walks every row: it would notice */
			mnems[i].rows[mnems[i].row_cnt++] = (uint16_t)op;
	}
	qsort(mnems, mnem_cnt, sizeof(mnems[0]), cmp_mnem);
}

static const struct mnem *lookup(const char *name)
{
	struct mnem key = { .name = name };
	return bsearch(&key, mnems, mnem_cnt, sizeof(mnems[0]), cmp_mnem);
}

static bool fmt_takes_64_suffix(uint8_t fmt)
{
	return fmt == FMT_ALU_IMM || fmt == FMT_ALU_REG || fmt == FMT_NEG ||
	       fmt == FMT_JMP_IMM || fmt == FMT_JMP_REG;
}

/* exact name, an alias, or an ALU/jump mnemonic with an explicit "64" */
static const struct mnem *find_mnem(const char *name)
{
	const struct mnem *m = lookup(name);
	if (m)
		return m;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(name, aliases[i].alias))
			return lookup(aliases[i].name);
	size_t n = strlen(name);
	char base[32];
	if (n > 2 && n - 2 < sizeof(base) && !strcmp(name + n - 2, "64")) {
		memcpy(base, name, n - 2);
		base[n - 2] = 0;
		m = lookup(base);
		if (m && fmt_takes_64_suffix(isa_ops[m->rows[0]].fmt))
			return m;
	}
	return NULL;
}

/* does some mnemonic start with the word `w` followed by a space ("lock")? */
static bool is_mnem_prefix(const char *w)
{
	size_t n = strlen(w);
	for (size_t i = 0; i < mnem_cnt; i++)
		if (!strncmp(mnems[i].name, w, n) && mnems[i].name[n] == ' ')
			return true;
	return false;
}

/* ------------------------------------------------------ assembler state -- */

struct fixup {
	size_t slot, line;
	const char *label;
	bool in_imm;		/* the target goes into imm (ja32, call local, lddw func) */
};

struct label {
	const char *name;	/* NULL: free hash slot */
	size_t slot;
};

struct asm_state {
	char *err;
	size_t err_sz;
	size_t line;
	struct bpf_insn *insns;
	size_t cnt, cap;
	struct fixup *fix;
	size_t fix_cnt, fix_cap;
	struct label *lab;	/* open-addressing hash table, lab_cap a power of 2 */
	size_t lab_cnt, lab_cap;
	long first_exit;	/* the implicit label "exit", -1 if none */
};

static int fail(struct asm_state *s, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
static int fail(struct asm_state *s, const char *fmt, ...)
{
	if (s->err && s->err_sz) {
		int n = s->line ? snprintf(s->err, s->err_sz, "line %zu: ", s->line) : 0;
		if (n >= 0 && (size_t)n < s->err_sz) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(s->err + n, s->err_sz - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

static int oom(struct asm_state *s)
{
	if (s->err && s->err_sz)
		snprintf(s->err, s->err_sz, "out of memory");
	return -ENOMEM;
}

/* grow *p (n used of *cap elements of size sz) to hold one more */
static int grow(void **p, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 64;
	if (ncap > SIZE_MAX / sz)
		return -ENOMEM;
	void *np = realloc(*p, ncap * sz);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static int push_insn(struct asm_state *s, struct bpf_insn in)
{
	if (grow((void **)&s->insns, &s->cap, s->cnt, sizeof(in)))
		return oom(s);
	s->insns[s->cnt++] = in;
	return 0;
}

static uint64_t hash_str(const char *p)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	while (*p)
		h = (h ^ (unsigned char)*p++) * 1099511628211ull;
	return h;
}

static struct label *lab_slot(struct label *tab, size_t cap, const char *name)
{
	size_t i = (size_t)hash_str(name) & (cap - 1);
	while (tab[i].name && strcmp(tab[i].name, name))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static const struct label *lab_find(const struct asm_state *s, const char *name)
{
	if (!s->lab_cap)
		return NULL;
	const struct label *l = lab_slot(s->lab, s->lab_cap, name);
	return l->name ? l : NULL;
}

static int lab_add(struct asm_state *s, const char *name, size_t slot)
{
	if ((s->lab_cnt + 1) * 2 > s->lab_cap) {
		size_t cap = s->lab_cap ? s->lab_cap * 2 : 64;
		struct label *tab = calloc(cap, sizeof(*tab));
		if (!tab)
			return oom(s);
		for (size_t i = 0; i < s->lab_cap; i++)
			if (s->lab[i].name)
				*lab_slot(tab, cap, s->lab[i].name) = s->lab[i];
		free(s->lab);
		s->lab = tab;
		s->lab_cap = cap;
	}
	struct label *l = lab_slot(s->lab, s->lab_cap, name);
	if (l->name)
		return fail(s, "duplicate label '%s'", name);
	l->name = name;
	l->slot = slot;
	s->lab_cnt++;
	return 0;
}

/* ------------------------------------------------------------ operands -- */

static bool is_sep(char c)
{
	return c == ',' || isspace((unsigned char)c);
}

static bool all_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return false;
	return n > 0;
}

static bool valid_label(const char *p)
{
	if (!*p || *p == '+' || *p == '-')
		return false;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.$@", *p))
			return false;
	return true;
}

enum { NUM_OK, NUM_BAD, NUM_BIG };

/* [+-]?(0x[0-9a-fA-F]+|[0-9]+) into sign and magnitude */
static int parse_num(const char *tok, bool *neg, uint64_t *mag)
{
	const char *p = tok;
	unsigned base = 10;
	bool big = false;
	uint64_t v = 0;
	*neg = false;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return NUM_BAD;
	for (; *p; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && isxdigit((unsigned char)*p))
			d = (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
		else
			return NUM_BAD;
		if (v > (UINT64_MAX - d) / base)
			big = true;
		else
			v = v * base + d;
	}
	*mag = v;
	return big ? NUM_BIG : NUM_OK;
}

/* a signed number within [-lo_mag, hi] */
static int op_num(struct asm_state *s, const char *tok, uint64_t lo_mag, uint64_t hi,
		  const char *range_msg, uint64_t *out)
{
	bool neg;
	uint64_t mag;
	int r = parse_num(tok, &neg, &mag);
	if (r == NUM_BAD)
		return fail(s, "bad number '%s'", tok);
	if (r == NUM_BIG || (neg ? mag > lo_mag : mag > hi))
		return fail(s, "%s: %s", range_msg, tok);
	*out = neg ? 0 - mag : mag;
	return 0;
}

/* the suite's imm32: -2^31 .. 2^32-1 (0xffffffff and -1 are the same bits) */
static int op_imm32(struct asm_state *s, const char *tok, int32_t *v)
{
	uint64_t u;
	int r = op_num(s, tok, 1ull << 31, 0xffffffffull, "immediate out of 32-bit range", &u);
	*v = (int32_t)(uint32_t)u;
	return r;
}

static int op_imm64(struct asm_state *s, const char *tok, uint64_t *v)
{
	return op_num(s, tok, 1ull << 63, UINT64_MAX, "immediate out of 64-bit range", v);
}

static int op_off16(struct asm_state *s, const char *tok, int16_t *v)
{
	uint64_t u;
	int r = op_num(s, tok, 32768, 32767, "offset out of 16-bit range", &u);
	*v = (int16_t)(uint16_t)u;
	return r;
}

static int op_reg(struct asm_state *s, const char *tok, unsigned *reg)
{
	if (tok[0] != '%')
		return fail(s, "expected a register, got '%s'", tok);
	const char *p = tok + 2;
	if (tok[1] != 'r' || !isdigit((unsigned char)p[0]) ||
	    (p[1] && (!isdigit((unsigned char)p[1]) || p[2] || p[0] == '0')) ||
	    atoi(p) > BPF_REG_10)
		return fail(s, "bad register '%s'", tok);
	*reg = (unsigned)atoi(p);
	return 0;
}

/* [%rN], [%rN+off], [%rN-off] (spaces were removed by the tokenizer) */
static int op_mem(struct asm_state *s, char *tok, unsigned *reg, int16_t *off)
{
	size_t n = strlen(tok);
	if (n < 3 || tok[0] != '[' || tok[n - 1] != ']')
		return fail(s, "bad memory operand '%s'", tok);
	char inner[64];
	if (n - 2 >= sizeof(inner))
		return fail(s, "bad memory operand '%s'", tok);
	memcpy(inner, tok + 1, n - 2);
	inner[n - 2] = 0;
	char *sign = strpbrk(inner, "+-");
	char offtok[64] = "0";
	if (sign) {
		snprintf(offtok, sizeof(offtok), "%s", sign);
		*sign = 0;
		if (!sign[1])
			return fail(s, "bad memory operand '%s'", tok);
	}
	if (inner[0] != '%' || inner[1] != 'r' || !all_digits(inner + 2, strlen(inner + 2)))
		return fail(s, "bad memory operand '%s'", tok);
	int r = op_reg(s, inner, reg);
	return r ? r : op_off16(s, offtok, off);
}

/* A jump or call target: +N / -N relative to the next slot, or a label
 * (resolved at the end into the off or imm field of the instruction that
 * will be at `slot`). */
static int op_target(struct asm_state *s, const char *tok, bool in_imm, size_t slot,
		     int32_t *val)
{
	if (tok[0] == '+' || tok[0] == '-') {
		if (in_imm)
			return op_imm32(s, tok, val);
		int16_t off;
		int r = op_off16(s, tok, &off);
		*val = off;
		return r;
	}
	if (!valid_label(tok))
		return fail(s, "bad jump target '%s'", tok);
	if (grow((void **)&s->fix, &s->fix_cap, s->fix_cnt, sizeof(*s->fix)))
		return oom(s);
	s->fix[s->fix_cnt++] = (struct fixup){ slot, s->line, tok, in_imm };
	*val = 0;
	return 0;
}

/* `call 5`, `call bpf_map_lookup_elem`, `call map_lookup_elem` */
static int op_helper(struct asm_state *s, const char *tok, int32_t *id)
{
	if (isdigit((unsigned char)tok[0]) || tok[0] == '+' || tok[0] == '-')
		return op_imm32(s, tok, id);
	const char *name = strncmp(tok, "bpf_", 4) ? tok : tok + 4;
	for (uint32_t i = 0; i <= HELPER_MAX_LINUX_ID; i++) {
		const struct helper_proto *p = helper_proto(i);
		if (p && !strcmp(p->name, name)) {
			*id = (int32_t)i;
			return 0;
		}
	}
	return fail(s, "unknown helper '%s'", tok);
}

/* `call kfunc 4`, `call kfunc bpf_rcu_read_lock` */
static int op_kfunc(struct asm_state *s, const char *tok, int32_t *id)
{
	if (isdigit((unsigned char)tok[0]) || tok[0] == '+' || tok[0] == '-')
		return op_imm32(s, tok, id);
	const struct helper_proto *p = kfunc_by_name(tok);
	if (!p)
		return fail(s, "unknown kfunc '%s'", tok);
	*id = (int32_t)p->id;
	return 0;
}

/* ------------------------------------------------------- instructions -- */

static int want_ops(struct asm_state *s, const char *mnem, int n, int lo, int hi)
{
	if (n >= lo && n <= hi)
		return 0;
	if (lo == hi)
		return fail(s, "%s: expected %d operand%s, got %d", mnem, lo, lo == 1 ? "" : "s", n);
	return fail(s, "%s: expected %d to %d operands, got %d", mnem, lo, hi, n);
}

/* among rows sharing a mnemonic, the one the operands' shape asks for */
static uint16_t pick_row(const struct mnem *m, char **ops, int n)
{
	uint8_t fmt0 = isa_ops[m->rows[0]].fmt;
	if (fmt0 == FMT_CALL && n >= 1 && ops[0][0] == '%')
		return callx_row;
	for (int i = 0; i < m->row_cnt; i++) {
		uint16_t op = m->rows[i];
		bool reg2 = n > 1 && ops[1][0] == '%';
		const char *kind;
		switch (isa_ops[op].fmt) {
		case FMT_ALU_REG:
		case FMT_JMP_REG:
			if (reg2)
				return op;
			break;
		case FMT_ALU_IMM:
		case FMT_JMP_IMM:
			if (n > 1 && !reg2)
				return op;
			break;
		case FMT_LDDW:
			kind = disasm_lddw_kind((enum bpf_op)op);
			if (kind && n > 1 && !strcmp(kind, ops[1]))
				return op;
			break;
		default:
			return op;
		}
	}
	return m->rows[0];
}

/* the plain lddw's value, or a pseudo form's keyword that no row has */
static int lddw_value(struct asm_state *s, const struct mnem *m, char **ops, int n,
		      uint64_t *v)
{
	const char *t = ops[1];
	if (isdigit((unsigned char)t[0]) || t[0] == '+' || t[0] == '-') {
		int r = want_ops(s, "lddw", n, 2, 2);
		return r ? r : op_imm64(s, t, v);
	}
	char kinds[160] = "";
	for (int i = 0; i < m->row_cnt; i++) {
		const char *k = disasm_lddw_kind((enum bpf_op)m->rows[i]);
		if (k && strlen(kinds) + strlen(k) + 3 < sizeof(kinds))
			strcat(strcat(kinds, kinds[0] ? ", " : ""), k);
	}
	return fail(s, "lddw: expected a number or one of %s, got '%s'", kinds, t);
}

/* Encode one instruction of row `op` from its operand tokens and append it
 * (two slots for lddw). */
static int encode(struct asm_state *s, const struct mnem *m, uint16_t op, char **ops, int n)
{
	const struct bpf_opinfo *r = &isa_ops[op];
	const char *mn = r->mnem;
	struct bpf_insn in = { .code = r->code }, hi = { 0 };
	size_t slot = s->cnt;
	unsigned d = 0, sr = 0;
	int32_t v32 = 0;
	int ret = 0;
	bool alu = r->fmt == FMT_ALU_IMM || r->fmt == FMT_ALU_REG; /* else a jump: 3 operands */

	switch ((enum bpf_fmt)r->fmt) {
	case FMT_ALU_IMM:
	case FMT_JMP_IMM:
		if ((ret = want_ops(s, mn, n, alu ? 2 : 3, alu ? 2 : 3)) ||
		    (ret = op_reg(s, ops[0], &d)) || (ret = op_imm32(s, ops[1], &in.imm)))
			return ret;
		if (r->fmt == FMT_JMP_IMM && (ret = op_target(s, ops[2], false, slot, &v32)))
			return ret;
		in.off = (int16_t)v32;
		break;
	case FMT_ALU_REG:
	case FMT_JMP_REG:
		if ((ret = want_ops(s, mn, n, alu ? 2 : 3, alu ? 2 : 3)) ||
		    (ret = op_reg(s, ops[0], &d)) || (ret = op_reg(s, ops[1], &sr)))
			return ret;
		if (r->fmt == FMT_JMP_REG && (ret = op_target(s, ops[2], false, slot, &v32)))
			return ret;
		in.off = (int16_t)v32;
		break;
	case FMT_NEG:
	case FMT_END:
	case FMT_CALLX:
		if ((ret = want_ops(s, mn, n, 1, 1)) || (ret = op_reg(s, ops[0], &d)))
			return ret;
		break;
	case FMT_JA:
	case FMT_MAY_GOTO:
		if ((ret = want_ops(s, mn, n, 1, 1)) || (ret = op_target(s, ops[0], false, slot, &v32)))
			return ret;
		in.off = (int16_t)v32;
		break;
	case FMT_JA32:
	case FMT_CALL_LOCAL:
		if ((ret = want_ops(s, mn, n, 1, 1)) || (ret = op_target(s, ops[0], true, slot, &in.imm)))
			return ret;
		break;
	case FMT_CALL:
		if ((ret = want_ops(s, mn, n, 1, 1)) || (ret = op_helper(s, ops[0], &in.imm)))
			return ret;
		break;
	case FMT_CALL_KFUNC:
		if ((ret = want_ops(s, mn, n, 1, 2)) || (ret = op_kfunc(s, ops[0], &in.imm)) ||
		    (n > 1 && (ret = op_off16(s, ops[1], &in.off))))
			return ret;
		break;
	case FMT_EXIT:
		if ((ret = want_ops(s, mn, n, 0, 0)))
			return ret;
		if (s->first_exit < 0)
			s->first_exit = (long)slot;
		break;
	case FMT_LDDW: {
		const char *kind = disasm_lddw_kind((enum bpf_op)op);
		if ((ret = want_ops(s, mn, n, 2, 4)) || (ret = op_reg(s, ops[0], &d)))
			return ret;
		if (!kind) {
			uint64_t v;
			if ((ret = lddw_value(s, m, ops, n, &v)))
				return ret;
			in.imm = (int32_t)(uint32_t)v;
			hi.imm = (int32_t)(uint32_t)(v >> 32);
			break;
		}
		if (n < 3)
			return fail(s, "lddw %s: expected a value", kind);
		if (op == OP_LDDW_FUNC)
			ret = op_target(s, ops[2], true, slot, &in.imm);
		else
			ret = op_imm32(s, ops[2], &in.imm);
		if (ret || (n > 3 && (ret = op_imm32(s, ops[3], &hi.imm))))
			return ret;
		break;
	}
	case FMT_LDABS:
		if ((ret = want_ops(s, mn, n, 1, 1)) || (ret = op_imm32(s, ops[0], &in.imm)))
			return ret;
		break;
	case FMT_LDIND:
		if ((ret = want_ops(s, mn, n, 2, 2)) || (ret = op_reg(s, ops[0], &sr)) ||
		    (ret = op_imm32(s, ops[1], &in.imm)))
			return ret;
		break;
	case FMT_LDX:
	case FMT_LOAD_ACQ:
		if ((ret = want_ops(s, mn, n, 2, 2)) || (ret = op_reg(s, ops[0], &d)) ||
		    (ret = op_mem(s, ops[1], &sr, &in.off)))
			return ret;
		break;
	case FMT_ST:
		if ((ret = want_ops(s, mn, n, 2, 2)) || (ret = op_mem(s, ops[0], &d, &in.off)) ||
		    (ret = op_imm32(s, ops[1], &in.imm)))
			return ret;
		break;
	case FMT_STX:
	case FMT_ATOMIC:
	case FMT_STORE_REL:
		if ((ret = want_ops(s, mn, n, 2, 2)) || (ret = op_mem(s, ops[0], &d, &in.off)) ||
		    (ret = op_reg(s, ops[1], &sr)))
			return ret;
		break;
	}
	in.dst_reg = d & 0xf;
	in.src_reg = sr & 0xf;
	/* the selector field completes the instruction */
	switch (r->sel) {
	case SEL_OFF:
		in.off = (int16_t)r->selval;
		break;
	case SEL_IMM:
		in.imm = r->selval;
		break;
	case SEL_SRC:
		in.src_reg = (unsigned)r->selval & 0xf;
		break;
	default:
		break;
	}
	if ((ret = push_insn(s, in)))
		return ret;
	return r->fmt == FMT_LDDW ? push_insn(s, hi) : 0;
}

/* `.insn 0x...`: one raw 64-bit little-endian instruction word */
static int raw_insn(struct asm_state *s, char **ops, int n)
{
	uint64_t w;
	int ret;
	if ((ret = want_ops(s, ".insn", n, 1, 1)) || (ret = op_imm64(s, ops[0], &w)))
		return ret;
	struct bpf_insn in = {
		.code = (uint8_t)w,
		.dst_reg = (unsigned)(w >> 8) & 0xf,
		.src_reg = (unsigned)(w >> 12) & 0xf,
		.off = (int16_t)(uint16_t)(w >> 16),
		.imm = (int32_t)(uint32_t)(w >> 32),
	};
	return push_insn(s, in);
}

#define MAX_TOKENS 8

/* Split a line into tokens at whitespace and commas, in place.  A memory
 * operand `[...]` is one token, with any spaces inside it removed. */
static int tokenize(struct asm_state *s, char *p, char **tok, int *n)
{
	*n = 0;
	for (;;) {
		while (*p && is_sep(*p))
			p++;
		if (!*p)
			return 0;
		if (*n == MAX_TOKENS)
			return fail(s, "too many operands");
		tok[(*n)++] = p;
		if (*p != '[') {
			while (*p && !is_sep(*p))
				p++;
			if (*p)
				*p++ = 0;
			continue;
		}
		char *w = p;
		while (*p && *p != ']') {
			if (!isspace((unsigned char)*p))
				*w++ = *p;
			p++;
		}
		if (*p != ']' || (p[1] && !is_sep(p[1]))) {
			*w = 0;
			return fail(s, "bad memory operand '%s'", tok[*n - 1]);
		}
		*w++ = ']';
		p++;
		char c = *p;
		*w = 0;
		if (c)
			p++;
	}
}

static int do_insn(struct asm_state *s, char **tok, int n)
{
	if (!strcmp(tok[0], ".insn"))
		return raw_insn(s, tok + 1, n - 1);
	/* longest mnemonic first: "lock fetch add32", "call local" */
	const struct mnem *m = NULL;
	int k;
	for (k = n < 3 ? n : 3; k >= 1 && !m; k--) {
		char name[48] = "";
		size_t len = 0;
		for (int i = 0; i < k; i++)
			len += strlen(tok[i]) + 1;
		if (len > sizeof(name))
			continue;
		for (int i = 0; i < k; i++)
			strcat(strcat(name, i ? " " : ""), tok[i]);
		m = find_mnem(name);
	}
	if (!m) {
		if (n >= 2 && is_mnem_prefix(tok[0]))
			return fail(s, "unknown mnemonic '%s %s'", tok[0], tok[1]);
		return fail(s, "unknown mnemonic '%s'", tok[0]);
	}
	k++; /* the loop went one past */
	return encode(s, m, pick_row(m, tok + k, n - k), tok + k, n - k);
}

/* one line: [index:] [label: ...] [instruction] [# comment] */
static int do_line(struct asm_state *s, char *line)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = 0;
	char *tok[MAX_TOKENS];
	int n, t = 0, ret;
	if ((ret = tokenize(s, line, tok, &n)))
		return ret;
	/* "12: insn" is the disassembler's index; "12:" alone a label */
	size_t len0 = n ? strlen(tok[0]) : 0;
	if (n > 1 && len0 > 1 && tok[0][len0 - 1] == ':' && all_digits(tok[0], len0 - 1))
		t = 1;
	for (; t < n; t++) {
		size_t len = strlen(tok[t]);
		if (!len || tok[t][len - 1] != ':')
			break;
		tok[t][len - 1] = 0;
		if (!valid_label(tok[t]))
			return fail(s, "bad label '%s'", tok[t]);
		if ((ret = lab_add(s, tok[t], s->cnt)))
			return ret;
	}
	return t < n ? do_insn(s, tok + t, n - t) : 0;
}

static int resolve(struct asm_state *s)
{
	for (size_t i = 0; i < s->fix_cnt; i++) {
		const struct fixup *f = &s->fix[i];
		const struct label *l = lab_find(s, f->label);
		long long to;
		s->line = f->line;
		if (l)
			to = (long long)l->slot;
		else if (!strcmp(f->label, "exit") && s->first_exit >= 0)
			to = s->first_exit;
		else if (all_digits(f->label, strlen(f->label)))
			return fail(s, "unknown label '%s' (a relative target is written +%s)",
				    f->label, f->label);
		else
			return fail(s, "unknown label '%s'", f->label);
		long long rel = to - (long long)f->slot - 1;
		struct bpf_insn *in = &s->insns[f->slot];
		if (f->in_imm) {
			if (rel < INT32_MIN || rel > INT32_MAX)
				return fail(s, "target '%s' is out of 32-bit range", f->label);
			in->imm = (int32_t)rel;
		} else {
			if (rel < INT16_MIN || rel > INT16_MAX)
				return fail(s, "jump to '%s' is out of 16-bit range (offset %lld)",
					    f->label, rel);
			in->off = (int16_t)rel;
		}
	}
	return 0;
}

BPFVM_API int bpfvm_asm(const char *text, struct bpf_insn **insns, size_t *insn_cnt,
			char *err_buf, size_t err_size)
{
	struct asm_state s = { .err = err_buf, .err_sz = err_size, .first_exit = -1 };
	int ret = 0;

	if (err_buf && err_size)
		err_buf[0] = 0;
	if (!text || !insns || !insn_cnt)
		return fail(&s, "bpfvm_asm: NULL argument");
	pthread_once(&mnem_once, build_mnems);
	char *copy = strdup(text);
	if (!copy)
		return oom(&s);
	for (char *p = copy; p && !ret;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		s.line++;
		ret = do_line(&s, p);
		p = nl ? nl + 1 : NULL;
	}
	if (!ret && !s.cnt) {
		s.line = 0;
		ret = fail(&s, "no instructions");
	}
	if (!ret)
		ret = resolve(&s);
	free(copy);
	free(s.fix);
	free(s.lab);
	if (ret) {
		free(s.insns);
		return ret;
	}
	*insns = s.insns;
	*insn_cnt = s.cnt;
	return 0;
}
