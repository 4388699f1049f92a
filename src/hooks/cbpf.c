/* cbpf.c — classic BPF socket filters: check, translate to eBPF, run; the input
 * forms (tcpdump -dd/-ddd text, raw arrays, libpcap expressions).
 *
 * The checker is the kernel's bpf_check_classic() and the translator its
 * bpf_convert_filter(), rewritten here: the same register assignment (A = r0,
 * X = r7, ctx = r6, temporary r2, M[k] at r10 - 4*(k+1)), the same expansions
 * (division by X guarded to return 0, jumps with both branches split into a
 * conditional jump and a `ja`, negative immediates compared through r2,
 * `ldxb 4*([k]&0xf)` as seven instructions).  One difference: packet loads stay
 * eBPF ld_abs/ld_ind (which bpfvm executes against the run's packet) where the
 * kernel now calls load helpers; the result is the same.  Ancillary loads read
 * struct bpfvm_cbpf_ctx (bpfvm/cbpf.h) where the kernel reads the sk_buff.
 *
 * libpcap is optional and never linked: bpfvm_cbpf_from_expr() dlopen()s it the
 * first time it is needed.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/vm.h"
#include "hooks/cbpf.h"

_Static_assert(sizeof(struct bpfvm_sock_filter) == 8, "struct sock_filter is 8 bytes");
_Static_assert(offsetof(struct bpfvm_cbpf_ctx, protocol) == 4 &&
		       offsetof(struct bpfvm_cbpf_ctx, pkt_type) == 6 &&
		       offsetof(struct bpfvm_cbpf_ctx, ifindex) == 8 &&
		       offsetof(struct bpfvm_cbpf_ctx, hatype) == 12 &&
		       offsetof(struct bpfvm_cbpf_ctx, mark) == 16 &&
		       offsetof(struct bpfvm_cbpf_ctx, vlan_tci) == 24 &&
		       offsetof(struct bpfvm_cbpf_ctx, net_off) == 28 &&
		       sizeof(struct bpfvm_cbpf_ctx) == 32,
	       "struct bpfvm_cbpf_ctx has the documented layout");

#define REG_A BPF_REG_0
#define REG_X BPF_REG_7
#define REG_CTX BPF_REG_6
#define REG_TMP BPF_REG_2
#define REG_FP BPF_REG_10

static void logf_(char *buf, size_t size, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
static void logf_(char *buf, size_t size, const char *fmt, ...)
{
	if (!buf || !size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------ classic opcodes */

/* every opcode the kernel accepts (chk_code_allowed), with its mnemonic */
static const struct {
	uint16_t code;
	const char *mnem;
} cbpf_ops[] = {
#define ALU_ROW(op, m) { BPF_ALU | op | BPF_K, m }, { BPF_ALU | op | BPF_X, m }
	ALU_ROW(BPF_ADD, "add"), ALU_ROW(BPF_SUB, "sub"), ALU_ROW(BPF_MUL, "mul"),
	ALU_ROW(BPF_DIV, "div"), ALU_ROW(BPF_MOD, "mod"), ALU_ROW(BPF_AND, "and"),
	ALU_ROW(BPF_OR, "or"),	 ALU_ROW(BPF_XOR, "xor"), ALU_ROW(BPF_LSH, "lsh"),
	ALU_ROW(BPF_RSH, "rsh"), { BPF_ALU | BPF_NEG, "neg" },
#undef ALU_ROW
	{ BPF_LD | BPF_W | BPF_ABS, "ld" },	{ BPF_LD | BPF_H | BPF_ABS, "ldh" },
	{ BPF_LD | BPF_B | BPF_ABS, "ldb" },	{ BPF_LD | BPF_W | BPF_IND, "ld" },
	{ BPF_LD | BPF_H | BPF_IND, "ldh" },	{ BPF_LD | BPF_B | BPF_IND, "ldb" },
	{ BPF_LD | BPF_W | BPF_LEN, "ld" },	{ BPF_LD | BPF_IMM, "ld" },
	{ BPF_LD | BPF_MEM, "ld" },		{ BPF_LDX | BPF_W | BPF_LEN, "ldx" },
	{ BPF_LDX | BPF_B | BPF_MSH, "ldxb" },	{ BPF_LDX | BPF_IMM, "ldx" },
	{ BPF_LDX | BPF_MEM, "ldx" },		{ BPF_ST, "st" },
	{ BPF_STX, "stx" },			{ BPF_MISC | BPF_TAX, "tax" },
	{ BPF_MISC | BPF_TXA, "txa" },		{ BPF_RET | BPF_K, "ret" },
	{ BPF_RET | BPF_A, "ret" },		{ BPF_JMP | BPF_JA, "ja" },
	{ BPF_JMP | BPF_JEQ | BPF_K, "jeq" },	{ BPF_JMP | BPF_JEQ | BPF_X, "jeq" },
	{ BPF_JMP | BPF_JGE | BPF_K, "jge" },	{ BPF_JMP | BPF_JGE | BPF_X, "jge" },
	{ BPF_JMP | BPF_JGT | BPF_K, "jgt" },	{ BPF_JMP | BPF_JGT | BPF_X, "jgt" },
	{ BPF_JMP | BPF_JSET | BPF_K, "jset" }, { BPF_JMP | BPF_JSET | BPF_X, "jset" },
};

const char *cbpf_mnemonic(uint16_t code)
{
	for (size_t i = 0; i < sizeof(cbpf_ops) / sizeof(cbpf_ops[0]); i++)
		if (cbpf_ops[i].code == code)
			return cbpf_ops[i].mnem;
	return code == CBPF_LDX_W_ABS ? "ld" : NULL;
}

static bool is_cond_jump(uint16_t code)
{
	return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA;
}

/* ancillary name for k (bpf_asm's spelling), or NULL */
static const char *anc_name(uint32_t k)
{
	static const char *const names[] = {
		"proto", "type", "ifidx", "nla", "nlan", "mark", "queue", "hatype",
		"rxhash", "cpu", "xor_x", "vlan_tci", "vlan_avail", "poff", "rand", "vlan_tpid",
	};
	uint32_t off = k - (uint32_t)SKF_AD_OFF;
	if (k < (uint32_t)SKF_AD_OFF || off >= SKF_AD_MAX || off % 4)
		return NULL;
	return names[off / 4];
}

/* ------------------------------------------------------------ checker */

/* check_load_and_stores(): no path reads M[k] before writing it */
static int check_mem_init(const struct bpfvm_sock_filter *f, size_t cnt, char *log, size_t log_sz)
{
	uint16_t *masks = malloc(cnt * sizeof(*masks)), valid = 0;
	if (!masks) {
		logf_(log, log_sz, "out of memory");
		return -ENOMEM;
	}
	memset(masks, 0xff, cnt * sizeof(*masks));
	int ret = 0;
	for (size_t pc = 0; pc < cnt && !ret; pc++) {
		valid &= masks[pc];
		uint16_t code = f[pc].code;
		uint32_t k = f[pc].k;
		if (code == BPF_ST || code == BPF_STX) {
			valid |= (uint16_t)(1u << k);
		} else if (code == (BPF_LD | BPF_MEM) || code == (BPF_LDX | BPF_MEM)) {
			if (!(valid & (1u << k))) {
				logf_(log, log_sz,
				      "insn %zu: %s M[%u] reads scratch memory that is not written on "
				      "every path to it",
				      pc, cbpf_mnemonic(code), k);
				ret = -EINVAL;
			}
		} else if (code == (BPF_JMP | BPF_JA)) {
			masks[pc + 1 + k] &= valid;
			valid = 0xffff;
		} else if (is_cond_jump(code)) {
			masks[pc + 1 + f[pc].jt] &= valid;
			masks[pc + 1 + f[pc].jf] &= valid;
			valid = 0xffff;
		}
	}
	free(masks);
	return ret;
}

int cbpf_check(const struct bpfvm_sock_filter *f, size_t cnt, char *log, size_t log_sz)
{
	if (!f || cnt == 0 || cnt > BPFVM_CBPF_MAX_INSNS) {
		logf_(log, log_sz, "program has %zu instructions (1 to %d allowed)", cnt,
		      BPFVM_CBPF_MAX_INSNS);
		return -EINVAL;
	}
	for (size_t pc = 0; pc < cnt; pc++) {
		uint16_t code = f[pc].code;
		uint32_t k = f[pc].k;
		const char *m = code == CBPF_LDX_W_ABS ? NULL : cbpf_mnemonic(code);
		if (!m) {
			logf_(log, log_sz, "insn %zu: unknown opcode 0x%02x", pc, code);
			return -EINVAL;
		}
		switch (code) {
		case BPF_ALU | BPF_DIV | BPF_K:
		case BPF_ALU | BPF_MOD | BPF_K:
			if (k == 0) {
				logf_(log, log_sz, "insn %zu: %s #0: division by constant 0", pc, m);
				return -EINVAL;
			}
			break;
		case BPF_ALU | BPF_LSH | BPF_K:
		case BPF_ALU | BPF_RSH | BPF_K:
			if (k >= 32) {
				logf_(log, log_sz, "insn %zu: %s #%u: shift of 32 or more", pc, m, k);
				return -EINVAL;
			}
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS) {
				logf_(log, log_sz,
				      "insn %zu: %s M[%u]: scratch memory has %d words (M[0] to M[%d])",
				      pc, m, k, BPF_MEMWORDS, BPF_MEMWORDS - 1);
				return -EINVAL;
			}
			break;
		case BPF_JMP | BPF_JA:
			if (k >= cnt - pc - 1) {
				logf_(log, log_sz,
				      "insn %zu: ja +%u jumps past the last instruction (%zu)", pc, k,
				      cnt - 1);
				return -EINVAL;
			}
			break;
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
			if (k >= (uint32_t)SKF_AD_OFF && !anc_name(k)) {
				logf_(log, log_sz, "insn %zu: %s [%d]: unknown ancillary load SKF_AD_OFF%+d",
				      pc, m, (int32_t)k, (int32_t)(k - (uint32_t)SKF_AD_OFF));
				return -EINVAL;
			}
			break;
		default:
			if (is_cond_jump(code) &&
			    (pc + f[pc].jt + 1 >= cnt || pc + f[pc].jf + 1 >= cnt)) {
				logf_(log, log_sz,
				      "insn %zu: %s jt %u jf %u jumps past the last instruction (%zu)",
				      pc, m, f[pc].jt, f[pc].jf, cnt - 1);
				return -EINVAL;
			}
			break;
		}
	}
	if (BPF_CLASS(f[cnt - 1].code) != BPF_RET) {
		logf_(log, log_sz, "insn %zu: the last instruction must be ret, not %s", cnt - 1,
		      cbpf_mnemonic(f[cnt - 1].code));
		return -EINVAL;
	}
	return check_mem_init(f, cnt, log, log_sz);
}

/* ---------------------------------------------------------- translator */

struct xlat {
	struct bpf_insn *out;	/* NULL in the sizing pass */
	size_t n;		/* instructions emitted so far */
	const size_t *addrs;	/* first eBPF index of each classic insn (final pass) */
	size_t pc;		/* classic insn being translated */
	char *log;
	size_t log_sz;
	int err;
};

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i = { .code = code, .dst_reg = dst & 0xf, .src_reg = src & 0xf,
			      .off = off, .imm = imm };
	return i;
}

static void emit(struct xlat *x, struct bpf_insn i)
{
	if (x->out)
		x->out[x->n] = i;
	x->n++;
}

#define ALU32_IMM(op, dst, imm) insn(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define ALU32_REG(op, dst, src) insn(BPF_ALU | (op) | BPF_X, dst, src, 0, 0)
#define MOV64_REG(dst, src) insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define LDX_MEM(sz, dst, src, off) insn(BPF_LDX | BPF_MEM | (sz), dst, src, off, 0)
#define STX_MEM(sz, dst, src, off) insn(BPF_STX | BPF_MEM | (sz), dst, src, off, 0)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define CALL(id) insn(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define BE16(dst) insn(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, 16)

/* a jump to the start of classic instruction `target` */
static void emit_jmp(struct xlat *x, uint8_t code, uint8_t dst, uint8_t src, int32_t imm,
		     size_t target)
{
	long off = 0;
	if (x->addrs) {
		off = (long)x->addrs[target] - (long)(x->n + 1);
		if (off < INT16_MIN || off > INT16_MAX) {
			if (!x->err)
				logf_(x->log, x->log_sz,
				      "insn %zu: the jump to insn %zu spans %ld eBPF instructions "
				      "after translation (at most %d)",
				      x->pc, target, off, INT16_MAX);
			x->err = -EINVAL;
			off = 0;
		}
	}
	emit(x, insn(code, dst, src, (int16_t)off, imm));
}

/* A = packet bytes at classic absolute offset k: SKF_LL_OFF + n is byte n,
 * SKF_NET_OFF + n is byte net_off + n (kernel: bpf_internal_load_pointer_neg_helper) */
static void emit_ld_abs(struct xlat *x, uint8_t size, uint32_t k)
{
	int32_t sk = (int32_t)k;
	if (sk >= SKF_LL_OFF && sk < SKF_NET_OFF) {
		emit(x, insn(BPF_LD | BPF_ABS | size, 0, 0, 0, sk - SKF_LL_OFF));
	} else if (sk >= SKF_NET_OFF && sk < 0) {
		emit(x, LDX_MEM(BPF_W, REG_TMP, REG_CTX, offsetof(struct bpfvm_cbpf_ctx, net_off)));
		emit(x, insn(BPF_LD | BPF_IND | size, 0, REG_TMP, 0, sk - SKF_NET_OFF));
	} else {
		emit(x, insn(BPF_LD | BPF_ABS | size, 0, 0, 0, sk)); /* < SKF_LL_OFF: ends with 0 */
	}
}

/* ld [SKF_AD_OFF + n] (kernel: convert_bpf_extensions) */
static void emit_ancillary(struct xlat *x, uint32_t k)
{
	switch ((int32_t)(k - (uint32_t)SKF_AD_OFF)) {
	case SKF_AD_PROTOCOL:
		emit(x, LDX_MEM(BPF_H, REG_A, REG_CTX, offsetof(struct bpfvm_cbpf_ctx, protocol)));
		emit(x, BE16(REG_A));
		break;
	case SKF_AD_PKTTYPE:
		emit(x, LDX_MEM(BPF_B, REG_A, REG_CTX, offsetof(struct bpfvm_cbpf_ctx, pkt_type)));
		emit(x, ALU32_IMM(BPF_AND, REG_A, 7)); /* PKT_TYPE_MAX */
		break;
	case SKF_AD_IFINDEX:
		emit(x, LDX_MEM(BPF_W, REG_A, REG_CTX, offsetof(struct bpfvm_cbpf_ctx, ifindex)));
		break;
	case SKF_AD_HATYPE:
		emit(x, LDX_MEM(BPF_H, REG_A, REG_CTX, offsetof(struct bpfvm_cbpf_ctx, hatype)));
		break;
	case SKF_AD_MARK:
		emit(x, LDX_MEM(BPF_W, REG_A, REG_CTX, offsetof(struct bpfvm_cbpf_ctx, mark)));
		break;
	case SKF_AD_RXHASH:
		emit(x, LDX_MEM(BPF_W, REG_A, REG_CTX, offsetof(struct bpfvm_cbpf_ctx, hash)));
		break;
	case SKF_AD_QUEUE:
		emit(x, LDX_MEM(BPF_H, REG_A, REG_CTX,
				offsetof(struct bpfvm_cbpf_ctx, queue_mapping)));
		break;
	case SKF_AD_VLAN_TAG:
		emit(x, LDX_MEM(BPF_H, REG_A, REG_CTX, offsetof(struct bpfvm_cbpf_ctx, vlan_tci)));
		break;
	case SKF_AD_VLAN_TAG_PRESENT:
		emit(x, LDX_MEM(BPF_B, REG_A, REG_CTX,
				offsetof(struct bpfvm_cbpf_ctx, vlan_present)));
		emit(x, ALU32_IMM(BPF_AND, REG_A, 1));
		break;
	case SKF_AD_VLAN_TPID:
		emit(x, LDX_MEM(BPF_H, REG_A, REG_CTX, offsetof(struct bpfvm_cbpf_ctx, vlan_proto)));
		emit(x, BE16(REG_A));
		break;
	case SKF_AD_ALU_XOR_X:
		emit(x, ALU32_REG(BPF_XOR, REG_A, REG_X));
		break;
	default: { /* calls with (ctx, A, X) */
		int32_t id = 0;
		switch ((int32_t)(k - (uint32_t)SKF_AD_OFF)) {
		case SKF_AD_PAY_OFFSET: id = CBPF_HELPER_PAY_OFFSET; break;
		case SKF_AD_NLATTR: id = CBPF_HELPER_NLATTR; break;
		case SKF_AD_NLATTR_NEST: id = CBPF_HELPER_NLATTR_NEST; break;
		case SKF_AD_CPU: id = 8; break;		/* bpf_get_smp_processor_id */
		case SKF_AD_RANDOM: id = 7; break;	/* bpf_get_prandom_u32 */
		}
		emit(x, MOV64_REG(BPF_REG_1, REG_CTX));
		emit(x, MOV64_REG(BPF_REG_2, REG_A));
		emit(x, MOV64_REG(BPF_REG_3, REG_X));
		emit(x, CALL(id));
		break;
	}
	}
}

/* one classic instruction */
static void xlat_one(struct xlat *x, const struct bpfvm_sock_filter *fp)
{
	uint16_t code = fp->code;
	uint32_t k = fp->k;
	size_t pc = x->pc;
	switch (BPF_CLASS(code)) {
	case BPF_ALU:
		if (BPF_OP(code) == BPF_NEG) {
			emit(x, insn(BPF_ALU | BPF_NEG, REG_A, 0, 0, 0));
		} else if (BPF_SRC(code) == BPF_X) {
			if (BPF_OP(code) == BPF_DIV || BPF_OP(code) == BPF_MOD) {
				/* classic BPF returns 0 on division by zero */
				emit(x, insn(BPF_ALU | BPF_MOV | BPF_X, REG_X, REG_X, 0, 0));
				emit(x, insn(BPF_JMP | BPF_JNE | BPF_K, REG_X, 0, 2, 0));
				emit(x, ALU32_REG(BPF_XOR, REG_A, REG_A));
				emit(x, EXIT());
			}
			emit(x, ALU32_REG(BPF_OP(code), REG_A, REG_X));
		} else {
			emit(x, ALU32_IMM(BPF_OP(code), REG_A, (int32_t)k));
		}
		break;
	case BPF_LD:
		switch (BPF_MODE(code)) {
		case BPF_ABS:
			if (k >= (uint32_t)SKF_AD_OFF)
				emit_ancillary(x, k);
			else
				emit_ld_abs(x, BPF_SIZE(code), k);
			break;
		case BPF_IND:
			emit(x, insn(BPF_LD | BPF_IND | BPF_SIZE(code), 0, REG_X, 0, (int32_t)k));
			break;
		case BPF_LEN:
			emit(x, LDX_MEM(BPF_W, REG_A, REG_CTX, offsetof(struct bpfvm_cbpf_ctx, len)));
			break;
		case BPF_IMM:
			emit(x, ALU32_IMM(BPF_MOV, REG_A, (int32_t)k));
			break;
		case BPF_MEM:
			emit(x, LDX_MEM(BPF_W, REG_A, REG_FP, (int16_t)(-(int32_t)(k * 4 + 4))));
			break;
		}
		break;
	case BPF_LDX:
		switch (BPF_MODE(code)) {
		case BPF_MSH: /* X = 4 * (pkt[k] & 0xf), A kept */
			emit(x, MOV64_REG(REG_X, REG_A));
			emit_ld_abs(x, BPF_B, k);
			emit(x, ALU32_IMM(BPF_AND, REG_A, 0xf));
			emit(x, ALU32_IMM(BPF_LSH, REG_A, 2));
			emit(x, MOV64_REG(REG_TMP, REG_X));
			emit(x, MOV64_REG(REG_X, REG_A));
			emit(x, MOV64_REG(REG_A, REG_TMP));
			break;
		case BPF_LEN:
			emit(x, LDX_MEM(BPF_W, REG_X, REG_CTX, offsetof(struct bpfvm_cbpf_ctx, len)));
			break;
		case BPF_IMM:
			emit(x, ALU32_IMM(BPF_MOV, REG_X, (int32_t)k));
			break;
		case BPF_MEM:
			emit(x, LDX_MEM(BPF_W, REG_X, REG_FP, (int16_t)(-(int32_t)(k * 4 + 4))));
			break;
		case BPF_ABS: /* seccomp: A = *(u32 *)(ctx + k) */
			emit(x, LDX_MEM(BPF_W, REG_A, REG_CTX, (int16_t)k));
			break;
		}
		break;
	case BPF_ST:
	case BPF_STX:
		emit(x, STX_MEM(BPF_W, REG_FP, BPF_CLASS(code) == BPF_ST ? REG_A : REG_X,
				(int16_t)(-(int32_t)(k * 4 + 4))));
		break;
	case BPF_MISC:
		if (BPF_MISCOP(code) == BPF_TAX)
			emit(x, MOV64_REG(REG_X, REG_A));
		else
			emit(x, MOV64_REG(REG_A, REG_X));
		break;
	case BPF_RET:
		if (BPF_RVAL(code) == BPF_K)
			emit(x, ALU32_IMM(BPF_MOV, REG_A, (int32_t)k));
		emit(x, EXIT());
		break;
	case BPF_JMP: {
		if (BPF_OP(code) == BPF_JA) {
			emit_jmp(x, BPF_JMP | BPF_JA, 0, 0, 0, pc + 1 + k);
			break;
		}
		uint8_t src = 0, op = BPF_OP(code);
		uint8_t srcbit = BPF_SRC(code);
		int32_t imm = 0;
		if (srcbit == BPF_K && (int32_t)k < 0) {
			/* eBPF sign-extends immediates: compare with a zero-extended copy */
			emit(x, ALU32_IMM(BPF_MOV, REG_TMP, (int32_t)k));
			src = REG_TMP;
			srcbit = BPF_X;
		} else if (srcbit == BPF_X) {
			src = REG_X;
		} else {
			imm = (int32_t)k;
		}
		if (fp->jf == 0) {
			emit_jmp(x, BPF_JMP | op | srcbit, REG_A, src, imm, pc + 1 + fp->jt);
			break;
		}
		if (fp->jt == 0 && op != BPF_JSET) {
			uint8_t inv = op == BPF_JEQ ? BPF_JNE : op == BPF_JGT ? BPF_JLE : BPF_JLT;
			emit_jmp(x, BPF_JMP | inv | srcbit, REG_A, src, imm, pc + 1 + fp->jf);
			break;
		}
		emit_jmp(x, BPF_JMP | op | srcbit, REG_A, src, imm, pc + 1 + fp->jt);
		emit_jmp(x, BPF_JMP | BPF_JA, 0, 0, 0, pc + 1 + fp->jf);
		break;
	}
	}
}

static void xlat_pass(struct xlat *x, const struct bpfvm_sock_filter *f, size_t cnt, size_t *addrs)
{
	x->n = 0;
	/* A and X start at 0; the context moves to callee-saved r6 */
	emit(x, ALU32_REG(BPF_XOR, REG_A, REG_A));
	emit(x, ALU32_REG(BPF_XOR, REG_X, REG_X));
	emit(x, MOV64_REG(REG_CTX, BPF_REG_1));
	for (size_t pc = 0; pc < cnt; pc++) {
		if (addrs)
			addrs[pc] = x->n;
		x->pc = pc;
		xlat_one(x, &f[pc]);
	}
}

int cbpf_translate(const struct bpfvm_sock_filter *f, size_t cnt, struct bpf_insn **out,
		   size_t *out_cnt, char *log, size_t log_sz)
{
	struct xlat x = { .log = log, .log_sz = log_sz };
	size_t *addrs = malloc(cnt * sizeof(*addrs));
	if (!addrs)
		goto nomem;
	xlat_pass(&x, f, cnt, addrs); /* sizes: no output, offsets not yet known */
	x.out = malloc(x.n * sizeof(*x.out));
	if (!x.out) {
		free(addrs);
		goto nomem;
	}
	x.addrs = addrs;
	xlat_pass(&x, f, cnt, NULL);
	free(addrs);
	if (x.err) {
		free(x.out);
		return x.err;
	}
	*out = x.out;
	*out_cnt = x.n;
	return 0;
nomem:
	logf_(log, log_sz, "out of memory");
	return -ENOMEM;
}

/* ------------------------------------------------ ancillary-load helpers */

static uint16_t be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* offset of the transport payload as the kernel's skb_get_poff() finds it (0
 * when the headers cannot be dissected) */
static uint32_t payload_offset(const uint8_t *p, uint32_t len)
{
	if (len < 14)
		return 0;
	uint32_t off = 14;
	uint16_t proto = be16_at(p + 12);
	for (int i = 0; i < 2 && (proto == 0x8100 || proto == 0x88a8); i++) {
		if (len - off < 4)
			return 0;
		proto = be16_at(p + off + 2);
		off += 4;
	}
	uint8_t ipp;
	if (proto == 0x0800) {
		if (len - off < 20 || (p[off] & 0xf) < 5)
			return 0;
		ipp = p[off + 9];
		uint16_t frag = be16_at(p + off + 6);
		off += (uint32_t)(p[off] & 0xf) * 4;
		if (off > len)
			off = len;
		if (frag & 0x1fff)
			return off; /* not the first fragment: no transport header */
	} else if (proto == 0x86dd) {
		if (len - off < 40)
			return 0;
		ipp = p[off + 6];
		off += 40;
		while (ipp == 0 || ipp == 43 || ipp == 60 || ipp == 44) {
			if (off > len || len - off < (ipp == 44 ? 8u : 2u))
				return 0;
			if (ipp == 44) { /* fragment header */
				bool later = (be16_at(p + off + 2) & 0xfff8) != 0;
				ipp = p[off];
				off += 8;
				if (later)
					return off > len ? len : off;
				break;
			}
			/* hop-by-hop, routing, destination options */
			uint32_t hl = ((uint32_t)p[off + 1] + 1) * 8;
			ipp = p[off];
			off += hl;
		}
		if (off > len)
			off = len;
	} else if (proto == 0x0806 || proto == 0x8035) { /* ARP, RARP */
		return off;
	} else {
		return 0;
	}
	switch (ipp) {
	case 6: { /* TCP */
		if (len - off < 13)
			return off;
		uint32_t doff = (uint32_t)(p[off + 12] & 0xf0) >> 2;
		return off + (doff > 20 ? doff : 20);
	}
	case 17:
	case 136: return off + 8;	/* UDP, UDP-Lite */
	case 1: return off + 8;		/* ICMP */
	case 58: return off + 4;	/* ICMPv6 */
	case 2: return off + 8;		/* IGMP */
	case 33: return off + 16;	/* DCCP */
	case 132: return off + 12;	/* SCTP */
	default: return off;
	}
}

static uint64_t helper_pay_offset(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				  uint64_t r5, struct bpfvm_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return run->pkt ? payload_offset(run->pkt, run->pkt_len) : 0;
}

/* nla_find(): offset of the first attribute of type `type` in [start, start+rem) */
static uint64_t nla_find_off(const uint8_t *p, uint32_t start, int64_t rem, uint32_t type)
{
	uint32_t off = start;
	while (rem >= 4) {
		uint16_t nla_len, nla_type;
		memcpy(&nla_len, p + off, 2);
		memcpy(&nla_type, p + off + 2, 2);
		if (nla_len < 4 || nla_len > rem)
			break;
		if ((nla_type & 0x3fff) == type)
			return off;
		uint32_t step = ((uint32_t)nla_len + 3) & ~3u;
		rem -= step;
		off += step;
	}
	return 0;
}

static uint64_t helper_nlattr(uint64_t r1, uint64_t a, uint64_t x, uint64_t r4, uint64_t r5,
			      struct bpfvm_run *run)
{
	(void)r1, (void)r4, (void)r5;
	uint32_t len = run->pkt_len, A = (uint32_t)a;
	if (!run->pkt || len < 4 || A > len - 4)
		return 0;
	return nla_find_off(run->pkt, A, (int64_t)len - A, (uint32_t)x);
}

static uint64_t helper_nlattr_nest(uint64_t r1, uint64_t a, uint64_t x, uint64_t r4,
				   uint64_t r5, struct bpfvm_run *run)
{
	(void)r1, (void)r4, (void)r5;
	uint32_t len = run->pkt_len, A = (uint32_t)a;
	if (!run->pkt || len < 4 || A > len - 4)
		return 0;
	uint16_t nla_len;
	memcpy(&nla_len, run->pkt + A, 2);
	if (nla_len > len - A)
		return 0;
	return nla_find_off(run->pkt, A + 4, (int64_t)nla_len - 4, (uint32_t)x);
}

/* ------------------------------------------------------- programs, runs */

struct bpfvm_prog *cbpf_prog_new(const struct bpf_insn *insns, size_t cnt, const char *name,
				 char *log, size_t log_sz)
{
	static const struct bpfvm_helper helpers[] = {
		{ CBPF_HELPER_PAY_OFFSET, "skb_get_pay_offset", helper_pay_offset },
		{ CBPF_HELPER_NLATTR, "skb_get_nlattr", helper_nlattr },
		{ CBPF_HELPER_NLATTR_NEST, "skb_get_nlattr_nest", helper_nlattr_nest },
	};
	struct bpfvm_prog_opts po = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	po.name = name;
	po.helpers = helpers;
	po.helper_cnt = sizeof(helpers) / sizeof(helpers[0]);
	po.log_buf = log;
	po.log_size = log_sz;
	return bpfvm_prog_from_insns(insns, cnt, &po);
}

int cbpf_exec(struct bpfvm_prog *prog, const void *ctx, size_t ctx_sz, const uint8_t *pkt,
	      uint32_t pkt_len, bool checked, uint64_t *r0, char *err, size_t err_sz)
{
	struct bpfvm_run run;
	/* only our own translations are known to stay inside ctx and the stack */
	const struct vm_helper *mark = vm_find_helper(prog, CBPF_HELPER_PAY_OFFSET);
	if (!mark || mark->fn != helper_pay_offset)
		checked = true;
	vm_run_init(&run, prog, checked);
	vm_add_region(&run, ctx, ctx_sz, "ctx", false);
	run.pkt = pkt;
	run.pkt_len = pkt ? pkt_len : 0;
	run.err_buf = err;
	run.err_size = err_sz;
	const uint64_t args[5] = { (uint64_t)(uintptr_t)ctx, 0, 0, 0, 0 };
	if (checked)
		*r0 = vm_interp_checked(&run, prog, 0, args, run.cur_fp, 0);
	else
		*r0 = vm_interp_fast(&run, prog, 0, args, run.cur_fp, 0);
	return run.err;
}

/* ------------------------------------------------------------ public API */

BPFVM_API void bpfvm_cbpf_ctx_init(struct bpfvm_cbpf_ctx *ctx, const void *pkt, size_t caplen,
				   size_t wire_len)
{
	const uint8_t *p = pkt;
	memset(ctx, 0, sizeof(*ctx));
	ctx->len = wire_len > UINT32_MAX ? UINT32_MAX : (uint32_t)wire_len;
	ctx->ifindex = 1;
	ctx->hatype = 1; /* ARPHRD_ETHER */
	ctx->net_off = 14;
	if (!p || caplen < 14)
		return;
	/* eth_type_trans() */
	if (p[0] & 1)
		ctx->pkt_type = memcmp(p, "\xff\xff\xff\xff\xff\xff", 6) ? 2 : 1;
	uint16_t type = be16_at(p + 12), proto;
	if (type >= 0x600)
		proto = type;
	else if (caplen >= 16 && p[14] == 0xff && p[15] == 0xff)
		proto = 0x0001; /* ETH_P_802_3: raw IPX */
	else
		proto = 0x0004; /* ETH_P_802_2 */
	uint8_t b[2] = { (uint8_t)(proto >> 8), (uint8_t)proto }; /* network byte order */
	memcpy(&ctx->protocol, b, 2);
	uint32_t off = 14;
	while ((type == 0x8100 || type == 0x88a8) && caplen >= off + 4) {
		type = be16_at(p + off + 2);
		off += 4;
	}
	ctx->net_off = off;
}

BPFVM_API struct bpfvm_prog *bpfvm_cbpf_compile(const struct bpfvm_sock_filter *insns,
						size_t insn_cnt,
						const struct bpfvm_cbpf_opts *opts)
{
	char *log = opts ? opts->log_buf : NULL;
	size_t log_sz = opts ? opts->log_size : 0;
	if (opts && opts->sz < offsetof(struct bpfvm_cbpf_opts, log_size)) {
		errno = EINVAL;
		return NULL;
	}
	int err = cbpf_check(insns, insn_cnt, log, log_sz);
	if (err) {
		errno = insn_cnt > BPFVM_CBPF_MAX_INSNS ? E2BIG : -err;
		return NULL;
	}
	struct bpf_insn *ebpf;
	size_t cnt;
	err = cbpf_translate(insns, insn_cnt, &ebpf, &cnt, log, log_sz);
	if (err) {
		errno = -err;
		return NULL;
	}
	struct bpfvm_prog *prog = cbpf_prog_new(ebpf, cnt, opts && opts->name ? opts->name : "cbpf",
						log, log_sz);
	int e = errno;
	free(ebpf);
	errno = e;
	return prog;
}

BPFVM_API int bpfvm_cbpf_run_ctx(struct bpfvm_prog *prog, const struct bpfvm_cbpf_ctx *ctx,
				 const void *pkt, size_t caplen, uint32_t *ret)
{
	if (!prog || !ctx || !ret)
		return -EINVAL;
	/* 64 bytes, as a seccomp_data: a seccomp filter run here stays inside it */
	union {
		struct bpfvm_cbpf_ctx c;
		uint8_t bytes[64];
	} u;
	memset(&u, 0, sizeof(u));
	u.c = *ctx;
	uint64_t r0 = 0;
	int err = cbpf_exec(prog, &u, sizeof(u), pkt,
			    caplen > UINT32_MAX ? UINT32_MAX : (uint32_t)caplen, false, &r0, NULL, 0);
	*ret = (uint32_t)r0;
	return err;
}

BPFVM_API int bpfvm_cbpf_run(struct bpfvm_prog *prog, const void *pkt, size_t len, uint32_t *ret)
{
	struct bpfvm_cbpf_ctx ctx;
	bpfvm_cbpf_ctx_init(&ctx, pkt, len, len);
	return bpfvm_cbpf_run_ctx(prog, &ctx, pkt, len, ret);
}

/* -------------------------------------------------------------- parsing */

static bool looks_like_text(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isprint(p[i]) && !isspace(p[i]))
			return false;
	return true;
}

/* a number at *s (decimal, 0x hex, 0 octal, optional '-' for k); advances *s */
static bool parse_num(const char **s, int64_t min, int64_t max, int64_t *v)
{
	const char *p = *s;
	while (*p == ' ' || *p == '\t')
		p++;
	bool neg = *p == '-';
	if (neg)
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	char *end;
	errno = 0;
	unsigned long long u = strtoull(p, &end, 0);
	if (errno || u > (unsigned long long)INT64_MAX)
		return false;
	int64_t x = neg ? -(int64_t)u : (int64_t)u;
	if (x < min || x > max)
		return false;
	*v = x;
	*s = end;
	return true;
}

static int line_of(const char *text, const char *p)
{
	int line = 1;
	for (const char *q = text; q < p; q++)
		line += *q == '\n';
	return line;
}

static int grow(struct bpfvm_sock_filter **v, size_t *cap, size_t n)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 64;
	struct bpfvm_sock_filter *nv = realloc(*v, nc * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

/* tcpdump -dd: "{ code, jt, jf, k }," groups anywhere in the text */
static int parse_dd(const char *text, struct bpfvm_sock_filter **out, size_t *cnt, char *err,
		    size_t err_sz)
{
	struct bpfvm_sock_filter *v = NULL;
	size_t n = 0, cap = 0;
	for (const char *p = strchr(text, '{'); p; p = strchr(p, '{')) {
		const char *q = p + 1;
		while (isspace((unsigned char)*q))
			q++;
		if (*q == '{' || *q == '}') { /* an enclosing initializer's brace */
			p = q;
			continue;
		}
		int64_t f[4];
		static const int64_t lo[4] = { 0, 0, 0, INT32_MIN };
		static const int64_t hi[4] = { 0xffff, 0xff, 0xff, UINT32_MAX };
		for (int i = 0; i < 4; i++) {
			while (isspace((unsigned char)*q))
				q++;
			if (!parse_num(&q, lo[i], hi[i], &f[i]))
				goto bad;
			while (isspace((unsigned char)*q))
				q++;
			if (*q != (i < 3 ? ',' : '}'))
				goto bad;
			q++;
		}
		if (n == BPFVM_CBPF_MAX_INSNS) {
			free(v);
			logf_(err, err_sz, "line %d: more than %d instructions", line_of(text, p),
			      BPFVM_CBPF_MAX_INSNS);
			return -E2BIG;
		}
		if (grow(&v, &cap, n)) {
			free(v);
			return -ENOMEM;
		}
		v[n++] = (struct bpfvm_sock_filter){ (uint16_t)f[0], (uint8_t)f[1], (uint8_t)f[2],
						     (uint32_t)f[3] };
		p = q;
		continue;
bad:
		free(v);
		logf_(err, err_sz,
		      "line %d: expected `{ code, jt, jf, k }` (code up to 0xffff, jt/jf up to 255, "
		      "k 32 bits)",
		      line_of(text, q));
		return -EINVAL;
	}
	if (!n) {
		logf_(err, err_sz, "no `{ code, jt, jf, k }` instructions found");
		return -EINVAL;
	}
	*out = v;
	*cnt = n;
	return 0;
}

/* tcpdump -ddd / bpf_asm: a count, then `code jt jf k` groups; whitespace and
 * commas separate numbers, '#' starts a comment line */
static int parse_ddd(const char *text, struct bpfvm_sock_filter **out, size_t *cnt, char *err,
		     size_t err_sz)
{
	int64_t count = -1, f[4];
	int nf = 0;
	struct bpfvm_sock_filter *v = NULL;
	size_t n = 0, cap = 0;
	const char *p = text;
	for (;;) {
		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (*p == '#') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (!*p)
			break;
		int64_t x;
		const char *at = p;
		static const int64_t lo[4] = { 0, 0, 0, INT32_MIN };
		static const int64_t hi[4] = { 0xffff, 0xff, 0xff, UINT32_MAX };
		bool ok = count < 0 ? parse_num(&p, 1, BPFVM_CBPF_MAX_INSNS, &x)
				    : parse_num(&p, lo[nf], hi[nf], &x);
		if (!ok || (*p && !isspace((unsigned char)*p) && *p != ',')) {
			free(v);
			int len = 0;
			while (at[len] && !isspace((unsigned char)at[len]) && at[len] != ',' && len < 20)
				len++;
			if (count < 0)
				logf_(err, err_sz,
				      "line %d: '%.*s': expected the instruction count (1 to %d) "
				      "first",
				      line_of(text, at), len, at, BPFVM_CBPF_MAX_INSNS);
			else
				logf_(err, err_sz, "line %d: '%.*s' is not a valid %s", line_of(text, at),
				      len, at,
				      nf == 0 ? "opcode (0 to 0xffff)" : nf == 3 ? "k (32 bits)"
									 : "jump offset (0 to 255)");
			return -EINVAL;
		}
		if (count < 0) {
			count = x;
			continue;
		}
		f[nf++] = x;
		if (nf < 4)
			continue;
		nf = 0;
		if ((int64_t)n == count) {
			free(v);
			logf_(err, err_sz, "line %d: more instructions than the count %" PRId64 " says",
			      line_of(text, at), count);
			return -EINVAL;
		}
		if (grow(&v, &cap, n)) {
			free(v);
			return -ENOMEM;
		}
		v[n++] = (struct bpfvm_sock_filter){ (uint16_t)f[0], (uint8_t)f[1], (uint8_t)f[2],
						     (uint32_t)f[3] };
	}
	if (count < 0 || nf || (int64_t)n != count) {
		free(v);
		if (count < 0)
			logf_(err, err_sz, "empty program text");
		else
			logf_(err, err_sz,
			      "the count says %" PRId64 " instructions but %zu%s follow", count, n,
			      nf ? " and a partial one" : "");
		return -EINVAL;
	}
	*out = v;
	*cnt = n;
	return 0;
}

BPFVM_API int bpfvm_cbpf_parse(const void *buf, size_t size, struct bpfvm_sock_filter **insns,
			       size_t *insn_cnt, char *err_buf, size_t err_size)
{
	const uint8_t *p = buf;
	if (!buf || !size) {
		logf_(err_buf, err_size, "empty input");
		return -EINVAL;
	}
	if (looks_like_text(p, size)) {
		char *text = malloc(size + 1);
		if (!text)
			return -ENOMEM;
		memcpy(text, p, size);
		text[size] = 0;
		int ret = strchr(text, '{') ? parse_dd(text, insns, insn_cnt, err_buf, err_size)
					    : parse_ddd(text, insns, insn_cnt, err_buf, err_size);
		free(text);
		return ret;
	}
	if (size % sizeof(struct bpfvm_sock_filter)) {
		logf_(err_buf, err_size,
		      "%zu bytes is not a whole number of 8-byte classic instructions", size);
		return -EINVAL;
	}
	size_t n = size / sizeof(struct bpfvm_sock_filter);
	if (n > BPFVM_CBPF_MAX_INSNS) {
		logf_(err_buf, err_size, "%zu instructions; classic BPF allows at most %d", n,
		      BPFVM_CBPF_MAX_INSNS);
		return -E2BIG;
	}
	struct bpfvm_sock_filter *v = malloc(size);
	if (!v)
		return -ENOMEM;
	memcpy(v, buf, size);
	*insns = v;
	*insn_cnt = n;
	return 0;
}

/* --------------------------------------------------------------- libpcap */

/* libpcap's struct bpf_program; its struct bpf_insn is our struct bpfvm_sock_filter */
struct lp_program {
	unsigned int bf_len;
	struct bpfvm_sock_filter *bf_insns;
};

static struct {
	void *handle;
	void *(*open_dead)(int linktype, int snaplen);
	int (*compile)(void *p, struct lp_program *prog, const char *expr, int optimize,
		       uint32_t netmask);
	char *(*geterr)(void *p);
	void (*freecode)(struct lp_program *prog);
	void (*close)(void *p);
} lp;
static pthread_once_t lp_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lp_lock = PTHREAD_MUTEX_INITIALIZER; /* pcap_compile is not reentrant everywhere */

/* dlsym into a function pointer without the object-to-function cast ISO C lacks */
static bool lp_sym(void *fnptr, size_t fnptr_sz, const char *name)
{
	void *sym = dlsym(lp.handle, name);
	if (!sym || fnptr_sz != sizeof(sym))
		return false;
	memcpy(fnptr, &sym, sizeof(sym));
	return true;
}

static void lp_load(void)
{
	/* BPFVM_LIBPCAP=path picks a library; BPFVM_LIBPCAP=none pretends there is none */
	const char *env = getenv("BPFVM_LIBPCAP");
	static const char *const names[] = { "libpcap.so.0.8", "libpcap.so.1", "libpcap.so" };
	if (env && *env) {
		if (strcmp(env, "none"))
			lp.handle = dlopen(env, RTLD_NOW | RTLD_LOCAL);
	} else {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !lp.handle; i++)
			lp.handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	}
	if (!lp.handle)
		return;
	if (!lp_sym(&lp.open_dead, sizeof(lp.open_dead), "pcap_open_dead") ||
	    !lp_sym(&lp.compile, sizeof(lp.compile), "pcap_compile") ||
	    !lp_sym(&lp.geterr, sizeof(lp.geterr), "pcap_geterr") ||
	    !lp_sym(&lp.freecode, sizeof(lp.freecode), "pcap_freecode") ||
	    !lp_sym(&lp.close, sizeof(lp.close), "pcap_close")) {
		dlclose(lp.handle);
		lp.handle = NULL;
	}
}

BPFVM_API bool bpfvm_cbpf_have_libpcap(void)
{
	pthread_once(&lp_once, lp_load);
	return lp.handle != NULL;
}

BPFVM_API int bpfvm_cbpf_from_expr(const char *expr, uint32_t linktype, uint32_t snaplen,
				   struct bpfvm_sock_filter **insns, size_t *insn_cnt,
				   char *err_buf, size_t err_size)
{
	if (!bpfvm_cbpf_have_libpcap()) {
		logf_(err_buf, err_size,
		      "filter expressions need libpcap (libpcap.so.0.8), which is not installed; "
		      "give the program with --dd or --raw instead");
		return -EOPNOTSUPP;
	}
	if (!expr || snaplen > INT32_MAX || linktype > INT32_MAX)
		return -EINVAL;
	pthread_mutex_lock(&lp_lock);
	int ret = 0;
	void *p = lp.open_dead((int)linktype, (int)snaplen);
	struct lp_program prog = { 0, NULL };
	if (!p) {
		logf_(err_buf, err_size, "libpcap: pcap_open_dead failed");
		ret = -ENOMEM;
	} else if (lp.compile(p, &prog, expr, 1, 0) != 0) {
		/* netmask 0 as tcpdump passes when reading a file */
		logf_(err_buf, err_size, "'%s': %s", expr, lp.geterr(p));
		ret = -EINVAL;
	} else if (prog.bf_len == 0 || prog.bf_len > BPFVM_CBPF_MAX_INSNS) {
		logf_(err_buf, err_size, "'%s': libpcap produced %u instructions (1 to %d allowed)",
		      expr, prog.bf_len, BPFVM_CBPF_MAX_INSNS);
		ret = -E2BIG;
		lp.freecode(&prog);
	} else {
		*insns = malloc(prog.bf_len * sizeof(**insns));
		if (!*insns) {
			ret = -ENOMEM;
		} else {
			memcpy(*insns, prog.bf_insns, prog.bf_len * sizeof(**insns));
			*insn_cnt = prog.bf_len;
		}
		lp.freecode(&prog);
	}
	if (p)
		lp.close(p);
	pthread_mutex_unlock(&lp_lock);
	return ret;
}

/* ------------------------------------------------------------- disasm */

/* one instruction in tcpdump -d's style */
static void insn_text(const struct bpfvm_sock_filter *f, size_t pc, char *buf, size_t sz)
{
	uint16_t c = f->code;
	uint32_t k = f->k;
	const char *m = cbpf_mnemonic(c);
	char arg[64] = "";
	if (!m) {
		snprintf(buf, sz, "(%03zu) .word    0x%04x %u %u 0x%x", pc, c, f->jt, f->jf, k);
		return;
	}
	switch (BPF_CLASS(c)) {
	case BPF_LD:
	case BPF_LDX:
		switch (BPF_MODE(c)) {
		case BPF_ABS:
			if (BPF_CLASS(c) == BPF_LDX)
				snprintf(arg, sizeof(arg), "[%u] (seccomp_data)", k);
			else if (anc_name(k))
				snprintf(arg, sizeof(arg), "#%s", anc_name(k));
			else
				snprintf(arg, sizeof(arg), "[%d]", (int32_t)k);
			break;
		case BPF_IND: snprintf(arg, sizeof(arg), "[x + %d]", (int32_t)k); break;
		case BPF_LEN: snprintf(arg, sizeof(arg), "#pktlen"); break;
		case BPF_IMM: snprintf(arg, sizeof(arg), "#0x%x", k); break;
		case BPF_MEM: snprintf(arg, sizeof(arg), "M[%u]", k); break;
		case BPF_MSH: snprintf(arg, sizeof(arg), "4*([%d]&0xf)", (int32_t)k); break;
		}
		break;
	case BPF_ST:
	case BPF_STX:
		snprintf(arg, sizeof(arg), "M[%u]", k);
		break;
	case BPF_ALU:
		if (BPF_OP(c) != BPF_NEG)
			snprintf(arg, sizeof(arg), BPF_SRC(c) == BPF_X ? "x" : "#%u", k);
		break;
	case BPF_RET:
		snprintf(arg, sizeof(arg), BPF_RVAL(c) == BPF_A ? "a" : "#%u", k);
		break;
	case BPF_JMP:
		if (BPF_OP(c) == BPF_JA) {
			snprintf(buf, sz, "(%03zu) %-8s %zu", pc, m, pc + 1 + k);
			return;
		}
		snprintf(arg, sizeof(arg), BPF_SRC(c) == BPF_X ? "x" : "#0x%x", k);
		snprintf(buf, sz, "(%03zu) %-8s %-16s jt %zu\tjf %zu", pc, m, arg, pc + 1 + f->jt,
			 pc + 1 + f->jf);
		return;
	default:
		break;
	}
	if (arg[0])
		snprintf(buf, sz, "(%03zu) %-8s %s", pc, m, arg);
	else
		snprintf(buf, sz, "(%03zu) %s", pc, m);
}

BPFVM_API char *bpfvm_cbpf_disasm(const struct bpfvm_sock_filter *insns, size_t insn_cnt)
{
	size_t cap = insn_cnt * 64 + 1, len = 0;
	char *out = malloc(cap);
	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	out[0] = 0;
	for (size_t pc = 0; pc < insn_cnt; pc++) {
		char line[96];
		insn_text(&insns[pc], pc, line, sizeof(line));
		int n = snprintf(out + len, cap - len, "%s\n", line);
		if (n < 0 || (size_t)n >= cap - len)
			break;
		len += (size_t)n;
	}
	return out;
}
