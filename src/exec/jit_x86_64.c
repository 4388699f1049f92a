/* jit_x86_64.c — the x86-64 back end: eBPF bytecode to machine code.
 *
 * Layers, bottom up, as in arch/x86/net/bpf_jit_comp.c: byte emitters; the
 * REX/ModRM encoders; one helper per instruction form, each commented with the
 * assembly it emits; one generator per eBPF instruction family; then the
 * image: entry, shared routines, body, cold stubs.
 *
 * Registers (the kernel's map): r0 rax, r1 rdi, r2 rsi, r3 rdx, r4 rcx, r5 r8,
 * r6 rbx, r7 r13, r8 r14, r9 r15, r10 rbp.  r12 holds run->stack, and the
 * run's other fields are addressed from it; in checked code r9 holds the
 * instruction budget (the interpreter's `budget`); r10 and r11 are scratch.
 * r1..r5 already sit in the SysV argument registers of a helper call.
 *
 * Frames.  The entry saves the callee-saved registers and calls the body, so
 * `exit` is a plain `ret` at every depth.  A local call pushes r6..r10 and a
 * return address (48 bytes) and lowers r10 by 512, so the depth is always
 * (stack top - r10) / 512 and a fault unwinds the machine stack by depth * 48
 * without walking frames.  No temporaries are on the machine stack where a
 * fault can be raised.  Callbacks and tail calls enter through a second
 * entry (callin) that starts at a given frame: it lowers the machine stack by
 * 48 bytes per frame above that one, so the same unwinding holds.
 *
 * Checked code (programs no verifier has proven) keeps the checked
 * interpreter's behaviour exactly.  An access not provably inside the current
 * stack frame is compared with the stack inline (4 instructions); a miss goes
 * to a cold stub that tries region[1] (the run's input), then a shared native
 * loop over all regions, then vm_mem_ok() (map values), then faults with the
 * interpreter's message.  Blocks are charged against the budget on entry
 * (exec/jit.h says why that is exact).  r1..r5 survive helper calls where
 * they are read later, as in the interpreter; unchecked code lets helpers
 * clobber them, as the kernel does.  Entry points for callx exist for every
 * instruction: where the body's code for an instruction relies on what the
 * one before left (known-zero upper halves, flags), a cold "standalone" copy
 * without that assumption is the entry.
 *
 * Constant blinding (plan->blind, bpfvm/jit.h) happens here, where
 * immediates become bytes: the emit_blind_* forms put a constant into a
 * scratch register as `mov r, imm ^ key ; xor r, key` and the generators use
 * the register form of the instruction.  At an instruction's start r10 and
 * r11 hold nothing live (a guard's r10 is consumed before the access it
 * guards), so either can take the constant.  Blinded forms have one size
 * whatever the key, so every pass may draw fresh keys and still converge.
 *
 * Layout: entry | shared routines | body | standalone entries | stubs.  Jump
 * sizes come from the previous pass's layout; passes repeat until no offset
 * changes (the kernel's scheme: sizes only shrink; should it ever not settle,
 * every jump becomes rel32, which does).
 */
#if defined(__x86_64__)

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "exec/jit.h"
#include "helpers/helpers.h"
#include "maps/map.h"

bool jit_x86_64_no_bmi2; /* tests: generate the code for CPUs without BMI2 */
size_t jit_x86_64_max_len = INT32_MAX / 2; /* rel32 reaches across the image */

/* ------------------------------------------------------------ registers */

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* eBPF register -> machine register */
static const uint8_t reg_map[11] = {
	RAX, RDI, RSI, RDX, RCX, R8, RBX, R13, R14, R15, RBP,
};

#define BUDGET R9	/* checked code: instructions left (the interpreter's `budget`) */
#define AX R10		/* scratch */
#define AUX R11		/* scratch */
#define STK R12		/* run->stack */

/* displacement from r12 (run->stack) of a field of struct bpfvm_run */
#define RUN(field) ((int32_t)offsetof(struct bpfvm_run, field) - \
		    (int32_t)offsetof(struct bpfvm_run, stack))
#define RUN_BASE RUN(prog)	/* r12 + RUN_BASE is the run itself */

_Static_assert(offsetof(struct bpfvm_run, prog) == 0, "the run starts with prog");
_Static_assert(sizeof(((struct bpfvm_run *)0)->budget) == 8, "budget is 64-bit");
_Static_assert(sizeof(((struct bpfvm_run *)0)->cur_fp) == 8, "cur_fp is 64-bit");
_Static_assert(sizeof(((struct bpfvm_run *)0)->cur_depth) == 4, "cur_depth is an int");
_Static_assert(sizeof(((struct bpfvm_run *)0)->may_goto_left) == 4, "may_goto_left is 32-bit");
_Static_assert(sizeof(((struct bpfvm_run *)0)->stop) == 1, "stop is a bool");
_Static_assert(sizeof(((struct bpfvm_run *)0)->checked) == 1, "checked is a bool");
_Static_assert(sizeof(((struct bpfvm_run *)0)->err) == 4, "err is an int");
_Static_assert(sizeof(((struct bpfvm_run *)0)->region_cnt) == 4, "region_cnt is an int");
_Static_assert(sizeof(((struct bpfvm_run *)0)->pkt_len) == 4, "pkt_len is 32-bit");
_Static_assert(sizeof(((struct vm_region *)0)->start) == 8 && sizeof(((struct vm_region *)0)->end) == 8 &&
	       sizeof(((struct vm_region *)0)->writable) == 1, "region layout");
_Static_assert(VM_STACK_TOTAL == BPFVM_STACK_SIZE * BPFVM_MAX_CALL_FRAMES && BPFVM_STACK_SIZE == 512,
	       "depth arithmetic assumes 512-byte frames");

/* condition codes (the low nibble of jcc) */
enum { CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5, CC_BE = 0x6, CC_A = 0x7,
       CC_S = 0x8, CC_L = 0xc, CC_GE = 0xd, CC_LE = 0xe, CC_G = 0xf };

/* ALU group-1 opcodes: `op r/m, r` and the /digit of `op r/m, imm` */
enum { OPC_ADD = 0x01, OPC_OR = 0x09, OPC_AND = 0x21, OPC_SUB = 0x29, OPC_XOR = 0x31,
       OPC_CMP = 0x39, OPC_TEST = 0x85, OPC_MOV = 0x89 };
enum { EXT_ADD = 0, EXT_OR = 1, EXT_AND = 4, EXT_SUB = 5, EXT_XOR = 6, EXT_CMP = 7 };
/* shift group (C1/D1/D3 /digit) and F7 group */
enum { SH_ROL = 0, SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };
enum { F7_TEST = 0, F7_NEG = 3, F7_DIV = 6, F7_IDIV = 7 };

#define OFF_UNKNOWN UINT32_MAX
#define FN_ADDR(f) ((uint64_t)(uintptr_t)(f))	/* a C function's address, for movabs */
#define MAX_PASSES 24		/* then every jump becomes rel32 */

/* ---------------------------------------------------------------- state */

enum stub_kind {
	STUB_MEM,	/* address missed the stack: ask the regions, else fault */
	STUB_ALIGN,	/* misaligned atomic: fault */
	STUB_BUDGET,	/* the block does not fit the budget: fault */
	STUB_DEEP,	/* no call frame left: fault */
	STUB_NULL,	/* an inlined lookup found nothing: r0 = 0, jump to insn `arg` */
	STUB_CB_DEEP,	/* an inlined bpf_loop has no frame for its callback: fault */
};

struct stub {
	uint8_t kind;
	uint8_t size;		/* STUB_MEM: access size */
	bool write;		/* STUB_MEM: a store (needs a writable region) */
	bool atomic;		/* STUB_MEM: redo r10 for the alignment test */
	uint32_t pc;
	uint32_t arg;		/* STUB_BUDGET: the block's count; STUB_NULL: the target */
	uint32_t ret;		/* STUB_MEM: where the access continues */
};

/* shared routines, emitted once per image */
enum label { L_EPILOGUE, L_ABORT, L_STOP, L_MEMFAULT, L_ALIGN, L_BUDGET, L_DEEP,
	     L_INVALID, L_CHK_LD, L_CHK_ST, L_CNT };

enum { FL_NONE, FL_ARITH, FL_LOGIC };	/* what the flags say about flags_reg */

/* fn_info at a function's first instruction: bits 0-3, the callee-saved
 * r6..r9 it writes; FN_FRAME, it needs a frame of its own (it may abort or
 * call, or uses r10) */
enum { FN_WRITES = 0xf, FN_FRAME = 0x10 };

struct jctx {
	const struct bpfvm_prog *prog;
	const struct jit_plan *plan;
	bool checked, bmi2;
	bool blind;		/* constant blinding */
	uint64_t rng;		/* blinding keys: xorshift64 state, never 0 */
	bool long_jumps;	/* convergence fallback: every jump rel32 */
	int pass;
	int err;
	/* output */
	uint8_t *buf;
	size_t len, cap;
	/* layout: this pass (n...) and the previous one */
	uint32_t *naddr;		/* per insn: entry offset, this pass */
	uint32_t *bpos, *nbpos;		/* per insn: offset of its body code, last pass and this */
	uint32_t *code_off;		/* per insn + end: its body code, fused ones empty (dumps) */
	uint32_t *stub_off, *nstub_off;	/* per stub */
	struct stub *stubs;
	size_t stub_cnt, stub_cap, prev_stub_cnt, prev_len;
	uint32_t lbl[L_CNT];
	uint32_t callin;		/* offset of the jit_callin_fn */
	/* code-generation state, valid within a basic block */
	size_t cur_pc;
	bool in_cold;		/* emitting after the body: its offsets are final */
	bool standalone;	/* emitting a callx entry: no assumptions, no fusion */
	uint8_t *dep;		/* per insn: body code relies on earlier insns */
	uint8_t *jump_in;	/* per insn: a jump, call or function address targets it */
	uint8_t *fn_info;	/* per function start: FN_* */
	uint8_t *skip;		/* per insn: an lddw whose map only an inlined lookup reads */
	int16_t *key_off;	/* per call: an inlined lookup's key is at [r10 + key_off] (0: at [r2]) */
	uint16_t zext;		/* bit r: upper half of eBPF register r known zero */
	uint32_t zext_at[16];	/* ... since the instruction that last made it so */
	int8_t flags_reg;	/* eBPF register the flags describe, or -1 */
	uint32_t flags_at;	/* ... since the instruction that set them */
	uint8_t flags_kind;
	bool flags_w;		/* ... for a 64-bit result */
};

/* --------------------------------------------------------- byte emitters */

#define MAX_EMIT 1024	/* bytes any one generator call emits at most */

/* Make room for MAX_EMIT more bytes; the emitters below then need no checks.
 * Out of memory: note it and start overwriting the buffer (the image is
 * dropped anyway). */
static void reserve(struct jctx *c)
{
	if (c->len + MAX_EMIT <= c->cap)
		return;
	size_t cap = c->cap ? c->cap * 2 : 65536;
	while (cap < c->len + MAX_EMIT)
		cap *= 2;
	uint8_t *p = realloc(c->buf, cap);
	if (!p) {
		c->err = -ENOMEM;
		c->len = 0;
		return;
	}
	c->buf = p;
	c->cap = cap;
}

static inline void emit1(struct jctx *c, uint8_t b)
{
	c->buf[c->len++] = b;
}

static void emit2(struct jctx *c, uint16_t v)
{
	emit1(c, (uint8_t)v);
	emit1(c, (uint8_t)(v >> 8));
}

static void emit4(struct jctx *c, uint32_t v)
{
	emit2(c, (uint16_t)v);
	emit2(c, (uint16_t)(v >> 16));
}

static void emit8(struct jctx *c, uint64_t v)
{
	emit4(c, (uint32_t)v);
	emit4(c, (uint32_t)(v >> 32));
}

/* an opcode of 1-3 bytes, written big-endian in opc (0x0faf is 0f af) */
static void emit_opc(struct jctx *c, uint32_t opc)
{
	if (opc > 0xffff)
		emit1(c, (uint8_t)(opc >> 16));
	if (opc > 0xff)
		emit1(c, (uint8_t)(opc >> 8));
	emit1(c, (uint8_t)opc);
}

/* ------------------------------------------------------------- encoders */

static bool is_byte_reg_needing_rex(int r)
{
	return r >= RSP && r <= RDI; /* spl bpl sil dil, which are ah ch dh bh without REX */
}

#define NO_INDEX (-1)	/* a memory operand without an index register */

/* REX 0100WRXB when needed: 64-bit operand (W), an extended ModRM.reg (R),
 * SIB.index (X) or ModRM.rm/base (B), or a byte access to spl/bpl/sil/dil */
static void emit_rexx(struct jctx *c, bool w, int reg, int index, int rm, bool byte)
{
	uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | (reg & 8 ? 4 : 0) |
				(index != NO_INDEX && (index & 8) ? 2 : 0) | (rm & 8 ? 1 : 0));
	if (rex != 0x40 || (byte && (is_byte_reg_needing_rex(reg) || is_byte_reg_needing_rex(rm))))
		emit1(c, rex);
}

static void emit_rex(struct jctx *c, bool w, int reg, int rm, bool byte)
{
	emit_rexx(c, w, reg, NO_INDEX, rm, byte);
}

/* ModRM for register-direct operands */
static void emit_modrm_reg(struct jctx *c, int reg, int rm)
{
	emit1(c, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

/* ModRM (+SIB, +disp) for [base + index + disp] (index NO_INDEX: none;
 * never rsp): rsp/r12 as base need a SIB byte, rbp/r13 have no disp-less form */
static void emit_modrm_memx(struct jctx *c, int reg, int base, int index, int32_t disp)
{
	int mod = disp == 0 && (base & 7) != RBP ? 0 : disp >= -128 && disp <= 127 ? 1 : 2;
	if (index != NO_INDEX) {
		emit1(c, (uint8_t)(mod << 6 | (reg & 7) << 3 | RSP));	/* ModRM: a SIB follows */
		emit1(c, (uint8_t)((index & 7) << 3 | (base & 7)));	/* SIB: scale 1 */
	} else {
		emit1(c, (uint8_t)(mod << 6 | (reg & 7) << 3 | (base & 7)));
		if ((base & 7) == RSP)
			emit1(c, 0x24); /* SIB: no index, base */
	}
	if (mod == 1)
		emit1(c, (uint8_t)(int8_t)disp);
	else if (mod == 2)
		emit4(c, (uint32_t)disp);
}

/* [pfx] [REX] opc ModRM(11, reg, rm); reg may be a /digit */
static void emit_rr(struct jctx *c, uint8_t pfx, bool w, uint32_t opc, int reg, int rm, bool byte)
{
	if (pfx)
		emit1(c, pfx);
	emit_rex(c, w, reg, rm, byte);
	emit_opc(c, opc);
	emit_modrm_reg(c, reg, rm);
}

/* [pfx] [REX] opc ModRM [base + index + disp]; reg may be a /digit */
static void emit_rmx(struct jctx *c, uint8_t pfx, bool w, uint32_t opc, int reg, int base,
		     int index, int32_t disp, bool byte)
{
	if (pfx)
		emit1(c, pfx);
	emit_rexx(c, w, reg, index, base, byte);
	emit_opc(c, opc);
	emit_modrm_memx(c, reg, base, index, disp);
}

/* [pfx] [REX] opc ModRM [base + disp]; reg may be a /digit */
static void emit_rm(struct jctx *c, uint8_t pfx, bool w, uint32_t opc, int reg, int base,
		    int32_t disp, bool byte)
{
	emit_rmx(c, pfx, w, opc, reg, base, NO_INDEX, disp, byte);
}

/* ------------------------------------------------- instruction forms */

/* mov dst, src */
static void emit_mov(struct jctx *c, bool w, int dst, int src)
{
	emit_rr(c, 0, w, OPC_MOV, src, dst, false);
}

/* add|or|and|sub|xor|cmp|test dst, src */
static void emit_alu(struct jctx *c, bool w, uint8_t opc, int dst, int src)
{
	emit_rr(c, 0, w, opc, src, dst, false);
}

/* add|or|and|sub|xor|cmp dst, imm  (sign-extended imm8 or imm32) */
static void emit_alu_imm(struct jctx *c, bool w, int ext, int dst, int32_t imm)
{
	if (imm >= -128 && imm <= 127) {
		emit_rr(c, 0, w, 0x83, ext, dst, false);	/* op dst, imm8 */
		emit1(c, (uint8_t)(int8_t)imm);
	} else {
		emit_rr(c, 0, w, 0x81, ext, dst, false);	/* op dst, imm32 */
		emit4(c, (uint32_t)imm);
	}
}

/* op dword|qword [base + disp], imm */
static void emit_alu_mem_imm(struct jctx *c, bool w, int ext, int base, int32_t disp, int32_t imm)
{
	if (imm >= -128 && imm <= 127) {
		emit_rm(c, 0, w, 0x83, ext, base, disp, false);
		emit1(c, (uint8_t)(int8_t)imm);
	} else {
		emit_rm(c, 0, w, 0x81, ext, base, disp, false);
		emit4(c, (uint32_t)imm);
	}
}

/* cmp r, qword [base + disp]   (3b /r: flags from r - mem) */
static void emit_cmp_mem(struct jctx *c, int r, int base, int32_t disp)
{
	emit_rm(c, 0, true, 0x3b, r, base, disp, false);
}

/* test dst, imm32 */
static void emit_test_imm(struct jctx *c, bool w, int dst, int32_t imm)
{
	emit_rr(c, 0, w, 0xf7, F7_TEST, dst, false);
	emit4(c, (uint32_t)imm);
}

/* xor dst32, dst32   (zero; also clears the upper half) */
static void emit_zero(struct jctx *c, int dst)
{
	emit_alu(c, false, OPC_XOR, dst, dst);
}

/* mov dst32, imm32   (zero-extends) */
static void emit_mov_imm32(struct jctx *c, int dst, uint32_t imm)
{
	emit_rex(c, false, 0, dst, false);
	emit1(c, (uint8_t)(0xb8 + (dst & 7)));
	emit4(c, imm);
}

/* the shortest load of a 64-bit constant */
static void emit_mov_imm64(struct jctx *c, int dst, uint64_t v)
{
	if (v == 0) {
		emit_zero(c, dst);				/* xor dst32, dst32 */
	} else if (v <= UINT32_MAX) {
		emit_mov_imm32(c, dst, (uint32_t)v);		/* mov dst32, imm32 */
	} else if ((int64_t)v >= INT32_MIN && (int64_t)v <= INT32_MAX) {
		emit_rr(c, 0, true, 0xc7, 0, dst, false);	/* mov dst, simm32 */
		emit4(c, (uint32_t)v);
	} else {
		emit_rex(c, true, 0, dst, false);		/* movabs dst, imm64 */
		emit1(c, (uint8_t)(0xb8 + (dst & 7)));
		emit8(c, v);
	}
}

/* shl|shr|sar|rol dst, n   (n != 0) */
static void emit_shift_imm(struct jctx *c, bool w, int ext, int dst, unsigned int n)
{
	if (n == 1) {
		emit_rr(c, 0, w, 0xd1, ext, dst, false);	/* op dst, 1 */
	} else {
		emit_rr(c, 0, w, 0xc1, ext, dst, false);	/* op dst, n */
		emit1(c, (uint8_t)n);
	}
}

/* shl|shr|sar dst, cl */
static void emit_shift_cl(struct jctx *c, bool w, int ext, int dst)
{
	emit_rr(c, 0, w, 0xd3, ext, dst, false);
}

/* shlx|shrx|sarx dst, src, cnt   (BMI2; VEX.LZ.{66,F2,F3}.0F38.W F7 /r) */
static void emit_shiftx(struct jctx *c, bool w, int ext, int dst, int src, int cnt)
{
	uint8_t pp = ext == SH_SHL ? 1 : ext == SH_SHR ? 3 : 2;
	emit1(c, 0xc4);
	emit1(c, (uint8_t)((dst & 8 ? 0 : 0x80) | 0x40 | (src & 8 ? 0 : 0x20) | 0x02));
	emit1(c, (uint8_t)((w ? 0x80 : 0) | ((~cnt & 15) << 3) | pp));
	emit1(c, 0xf7);
	emit_modrm_reg(c, dst, src);
}

/* imul dst, src */
static void emit_imul(struct jctx *c, bool w, int dst, int src)
{
	emit_rr(c, 0, w, 0x0faf, dst, src, false);
}

/* imul dst, src, imm */
static void emit_imul_imm(struct jctx *c, bool w, int dst, int src, int32_t imm)
{
	if (imm >= -128 && imm <= 127) {
		emit_rr(c, 0, w, 0x6b, dst, src, false);	/* imul dst, src, imm8 */
		emit1(c, (uint8_t)(int8_t)imm);
	} else {
		emit_rr(c, 0, w, 0x69, dst, src, false);	/* imul dst, src, imm32 */
		emit4(c, (uint32_t)imm);
	}
}

/* neg|div|idiv r   (F7 /digit) */
static void emit_f7(struct jctx *c, bool w, int ext, int r)
{
	emit_rr(c, 0, w, 0xf7, ext, r, false);
}

/* movzx dst32, src8|src16 */
static void emit_movzx(struct jctx *c, int size, int dst, int src)
{
	emit_rr(c, 0, false, size == 1 ? 0x0fb6 : 0x0fb7, dst, src, size == 1);
}

/* movsx dst, src8|src16 ; movsxd dst, src32 */
static void emit_movsx(struct jctx *c, bool w, int size, int dst, int src)
{
	if (size == 4)
		emit_rr(c, 0, true, 0x63, dst, src, false);
	else
		emit_rr(c, 0, w, size == 1 ? 0x0fbe : 0x0fbf, dst, src, size == 1);
}

/* bswap r */
static void emit_bswap(struct jctx *c, bool w, int r)
{
	emit_rex(c, w, 0, r, false);
	emit1(c, 0x0f);
	emit1(c, (uint8_t)(0xc8 + (r & 7)));
}

/* rol r16, 8   (swap the two low bytes) */
static void emit_rol16_8(struct jctx *c, int r)
{
	emit_rr(c, 0x66, false, 0xc1, SH_ROL, r, false);
	emit1(c, 8);
}

/* lea dst, [base + index + disp] */
static void emit_leax(struct jctx *c, bool w, int dst, int base, int index, int32_t disp)
{
	emit_rmx(c, 0, w, 0x8d, dst, base, index, disp, false);
}

/* lea dst, [base + disp] */
static void emit_lea(struct jctx *c, bool w, int dst, int base, int32_t disp)
{
	emit_leax(c, w, dst, base, NO_INDEX, disp);
}

/* mov dst, size [base + index + disp]: movzx for 1 and 2 bytes, movsx when sign */
static void emit_loadx(struct jctx *c, int size, bool sign, int dst, int base, int index,
		       int32_t disp)
{
	switch (size) {
	case 1: emit_rmx(c, 0, sign, sign ? 0x0fbe : 0x0fb6, dst, base, index, disp, false); break;
	case 2: emit_rmx(c, 0, sign, sign ? 0x0fbf : 0x0fb7, dst, base, index, disp, false); break;
	case 4: emit_rmx(c, 0, sign, sign ? 0x63 : 0x8b, dst, base, index, disp, false); break;
	default: emit_rmx(c, 0, true, 0x8b, dst, base, index, disp, false); break;
	}
}

static void emit_load(struct jctx *c, int size, bool sign, int dst, int base, int32_t disp)
{
	emit_loadx(c, size, sign, dst, base, NO_INDEX, disp);
}

/* mov size [base + index + disp], src */
static void emit_storex(struct jctx *c, int size, int base, int index, int32_t disp, int src)
{
	switch (size) {
	case 1: emit_rmx(c, 0, false, 0x88, src, base, index, disp, true); break;
	case 2: emit_rmx(c, 0x66, false, 0x89, src, base, index, disp, false); break;
	case 4: emit_rmx(c, 0, false, 0x89, src, base, index, disp, false); break;
	default: emit_rmx(c, 0, true, 0x89, src, base, index, disp, false); break;
	}
}

static void emit_store(struct jctx *c, int size, int base, int32_t disp, int src)
{
	emit_storex(c, size, base, NO_INDEX, disp, src);
}

/* mov size [base + index + disp], imm   (qword: sign-extended imm32) */
static void emit_store_immx(struct jctx *c, int size, int base, int index, int32_t disp,
			    int32_t imm)
{
	switch (size) {
	case 1:
		emit_rmx(c, 0, false, 0xc6, 0, base, index, disp, false);
		emit1(c, (uint8_t)imm);
		break;
	case 2:
		emit_rmx(c, 0x66, false, 0xc7, 0, base, index, disp, false);
		emit2(c, (uint16_t)imm);
		break;
	case 4:
		emit_rmx(c, 0, false, 0xc7, 0, base, index, disp, false);
		emit4(c, (uint32_t)imm);
		break;
	default:
		emit_rmx(c, 0, true, 0xc7, 0, base, index, disp, false);
		emit4(c, (uint32_t)imm);
		break;
	}
}

/* ---------------------------------------------------- constant blinding */

/* a fresh blinding key, never 0 */
static uint64_t blind_key(struct jctx *c)
{
	for (;;) {
		c->rng ^= c->rng << 13;
		c->rng ^= c->rng >> 7;
		c->rng ^= c->rng << 17;
		uint64_t k = c->rng * 0x2545f4914f6cdd1dull;
		if ((uint32_t)k && k >> 32)
			return k;
	}
}

/* r = imm, sign-extended (w) or zero-extended, imm never in the code:
 *   mov r, simm32 (imm ^ k) ; xor r, simm32 k       (w)
 *   mov r32, imm ^ k ; xor r32, k                   (!w)
 * sign extension commutes with xor, so the 64-bit form gives sext(imm).
 * Its size depends on r and w, never on the key.  Clobbers the flags. */
static void emit_blind_imm32(struct jctx *c, bool w, int r, int32_t imm)
{
	uint32_t k = (uint32_t)blind_key(c);
	if (w) {
		emit_rr(c, 0, true, 0xc7, 0, r, false);		/* mov r, simm32 */
		emit4(c, (uint32_t)imm ^ k);
	} else {
		emit_mov_imm32(c, r, (uint32_t)imm ^ k);	/* mov r32, imm32 */
	}
	emit_rr(c, 0, w, 0x81, EXT_XOR, r, false);		/* xor r, key */
	emit4(c, k);
}

/* r = v with v never in the code (r != r10, the key's register for a
 * constant that needs all 64 bits):
 *   movabs r, v ^ k ; movabs r10, k ; xor r, r10 */
static void emit_blind_imm64(struct jctx *c, int r, uint64_t v)
{
	if (v <= UINT32_MAX) {
		emit_blind_imm32(c, false, r, (int32_t)(uint32_t)v);
	} else if ((int64_t)v >= INT32_MIN && (int64_t)v <= INT32_MAX) {
		emit_blind_imm32(c, true, r, (int32_t)v);
	} else {
		uint64_t k = blind_key(c);
		emit_rex(c, true, 0, r, false);			/* movabs r, v ^ k */
		emit1(c, (uint8_t)(0xb8 + (r & 7)));
		emit8(c, v ^ k);
		emit_rex(c, true, 0, AX, false);		/* movabs r10, k */
		emit1(c, (uint8_t)(0xb8 + (AX & 7)));
		emit8(c, k);
		emit_alu(c, true, OPC_XOR, r, AX);		/* xor r, r10 */
	}
}

/* add|or|and|sub|xor|cmp dst, imm; blinded: through r11 */
static void emit_alu_k(struct jctx *c, bool w, int ext, int dst, int32_t imm)
{
	if (!c->blind) {
		emit_alu_imm(c, w, ext, dst, imm);		/* op dst, imm */
		return;
	}
	emit_blind_imm32(c, w, AUX, imm);			/* r11 = imm */
	emit_alu(c, w, (uint8_t)(ext << 3 | 1), dst, AUX);	/* op dst, r11 (/ext's `op r/m, r`) */
}

/* mov size [base + index + disp], imm; blinded: through r11 */
static void emit_store_k(struct jctx *c, int size, int base, int index, int32_t disp, int32_t imm)
{
	if (!c->blind) {
		emit_store_immx(c, size, base, index, disp, imm);	/* mov [base + index + disp], imm */
		return;
	}
	emit_blind_imm32(c, size == 8, AUX, imm);		/* r11 = imm */
	emit_storex(c, size, base, index, disp, AUX);		/* mov [base + index + disp], r11 */
}

/* push r ; pop r */
static void emit_push(struct jctx *c, int r)
{
	if (r & 8)
		emit1(c, 0x41);
	emit1(c, (uint8_t)(0x50 + (r & 7)));
}

static void emit_pop(struct jctx *c, int r)
{
	if (r & 8)
		emit1(c, 0x41);
	emit1(c, (uint8_t)(0x58 + (r & 7)));
}

/* call r */
static void emit_call_reg(struct jctx *c, int r)
{
	emit_rr(c, 0, false, 0xff, 2, r, false);
}

/* movabs rax, fn ; call rax   (C functions: out of rel32 reach in general) */
static void emit_call_abs(struct jctx *c, uint64_t fn)
{
	emit_mov_imm64(c, RAX, fn);
	emit_call_reg(c, RAX);
}

/* lea rdi, [run]  (first argument of the runtime functions) */
static void emit_run_arg(struct jctx *c, int r)
{
	emit_lea(c, true, r, STK, RUN_BASE);
}

/* ----------------------------------------------------------------- jumps */

/* jcc target   (7x rel8 | 0f 8x rel32); target is an image offset */
static void emit_jcc(struct jctx *c, int cc, uint32_t target)
{
	if (target != OFF_UNKNOWN && !c->long_jumps) {
		int64_t d = (int64_t)target - (int64_t)(c->len + 2);
		if (d >= -128 && d <= 127) {
			emit1(c, (uint8_t)(0x70 | cc));
			emit1(c, (uint8_t)(int8_t)d);
			return;
		}
	}
	int64_t d = target == OFF_UNKNOWN ? 0 : (int64_t)target - (int64_t)(c->len + 6);
	emit1(c, 0x0f);
	emit1(c, (uint8_t)(0x80 | cc));
	emit4(c, (uint32_t)(int32_t)d);
}

/* jmp target   (eb rel8 | e9 rel32) */
static void emit_jmp(struct jctx *c, uint32_t target)
{
	if (target != OFF_UNKNOWN && !c->long_jumps) {
		int64_t d = (int64_t)target - (int64_t)(c->len + 2);
		if (d >= -128 && d <= 127) {
			emit1(c, 0xeb);
			emit1(c, (uint8_t)(int8_t)d);
			return;
		}
	}
	int64_t d = target == OFF_UNKNOWN ? 0 : (int64_t)target - (int64_t)(c->len + 5);
	emit1(c, 0xe9);
	emit4(c, (uint32_t)(int32_t)d);
}

/* call target   (e8 rel32) */
static void emit_call_rel(struct jctx *c, uint32_t target)
{
	int64_t d = target == OFF_UNKNOWN ? 0 : (int64_t)target - (int64_t)(c->len + 5);
	emit1(c, 0xe8);
	emit4(c, (uint32_t)(int32_t)d);
}

/* Forward jumps inside one instruction's code: emit with a zero
 * displacement, remember where it ends, bind() when the label is reached. */
static size_t emit_jcc8_fwd(struct jctx *c, int cc)
{
	emit1(c, (uint8_t)(0x70 | cc));
	emit1(c, 0);
	return c->len;
}

static size_t emit_jmp8_fwd(struct jctx *c)
{
	emit1(c, 0xeb);
	emit1(c, 0);
	return c->len;
}

static size_t emit_jmp32_fwd(struct jctx *c)
{
	emit1(c, 0xe9);
	emit4(c, 0);
	return c->len;
}

static void bind8(struct jctx *c, size_t end)
{
	size_t d = c->len - end;
	if (c->err)
		return;
	if (d > 127) {
		c->err = -EFAULT; /* a generator's short jump is too short: a bug */
		return;
	}
	c->buf[end - 1] = (uint8_t)d;
}

static void bind32(struct jctx *c, size_t end)
{
	if (c->err)
		return;
	uint32_t d = (uint32_t)(c->len - end);
	memcpy(&c->buf[end - 4], &d, 4);
}

/* A forward target from the previous pass, moved by as much as the code
 * before the current instruction has shrunk since: the displacement is then
 * the previous layout's, so each pass picks jump sizes from one consistent
 * layout, sizes only shrink, and the passes converge (the kernel's way). */
static uint32_t prev_layout_target(const struct jctx *c, uint32_t prev)
{
	int64_t shift = (int64_t)c->bpos[c->cur_pc] - (int64_t)c->nbpos[c->cur_pc];
	int64_t t = (int64_t)prev - shift;
	return t < 0 || t >= OFF_UNKNOWN ? OFF_UNKNOWN : (uint32_t)t;
}

/* where instruction t's code starts: this pass's offset when already emitted
 * (backward jumps, cold code), else from the previous pass */
static uint32_t insn_target(struct jctx *c, size_t t)
{
	if (c->in_cold || t <= c->cur_pc)
		return c->naddr[t];
	return c->pass ? prev_layout_target(c, c->bpos[t]) : OFF_UNKNOWN;
}

/* where cold stub k starts (always forward of the body) */
static uint32_t stub_target(struct jctx *c, size_t k)
{
	if (!c->pass || k >= c->prev_stub_cnt)
		return OFF_UNKNOWN;
	return c->in_cold ? c->stub_off[k] : prev_layout_target(c, c->stub_off[k]);
}

/* queue a cold stub; returns its index */
static size_t new_stub(struct jctx *c, enum stub_kind kind, size_t pc, uint32_t arg)
{
	if (c->stub_cnt == c->stub_cap) {
		size_t cap = c->stub_cap ? c->stub_cap * 2 : 64;
		struct stub *s = realloc(c->stubs, cap * sizeof(*s));
		uint32_t *o = s ? realloc(c->stub_off, cap * sizeof(*o)) : NULL;
		if (o)
			c->stub_off = o;
		uint32_t *n = o ? realloc(c->nstub_off, cap * sizeof(*n)) : NULL;
		if (s)
			c->stubs = s;
		if (!n) {
			c->err = -ENOMEM;
			return 0;
		}
		c->nstub_off = n;
		c->stub_cap = cap;
	}
	c->stubs[c->stub_cnt] = (struct stub){ .kind = (uint8_t)kind, .pc = (uint32_t)pc, .arg = arg };
	return c->stub_cnt++;
}

/* ------------------------------------------------------ tracked facts */

static void state_reset(struct jctx *c)
{
	c->zext = 0;
	c->flags_reg = -1;
}

/* The body's code at the current instruction relies on a fact instruction
 * `since` established: a callx entry at any instruction after `since` up to
 * this one would run without it, so each gets a standalone entry (dep), and
 * those entries chain on to the next until the body no longer relies on
 * anything from before them. */
static void relies_since(struct jctx *c, size_t since)
{
	if (c->standalone)
		return;
	for (size_t k = since + 1; k <= c->cur_pc; k++)
		if (c->prog->code[k].op != OP_INVALID) /* an lddw's second half has its own */
			c->dep[k] = 1;
}

static bool zext_known(struct jctx *c, int breg)
{
	if (!(c->zext >> breg & 1))
		return false;
	relies_since(c, c->zext_at[breg]);
	return true;
}

static void zext_set(struct jctx *c, int breg, bool known)
{
	if (known) {
		c->zext |= (uint16_t)(1u << breg);
		c->zext_at[breg] = (uint32_t)c->cur_pc;
	} else {
		c->zext &= (uint16_t)~(1u << breg);
	}
}

static void flags_set(struct jctx *c, int breg, bool w, uint8_t kind)
{
	c->flags_reg = (int8_t)breg;
	c->flags_w = w;
	c->flags_kind = kind;
	c->flags_at = (uint32_t)c->cur_pc;
}

/* ------------------------------------------------------------- ALU */

/* dst op= src|imm for div, mod, sdiv, smod: zero divisor and INT_MIN / -1
 * as the interpreter (and kernel) define them; x86's div/idiv would trap */
static void gen_divmod(struct jctx *c, bool w, bool mod, bool sgn, bool x, int d, int s, int32_t imm)
{
	size_t j_nz = 0, j_zero_done = 0, j_neg_done = 0, j_do = 0;
	if (!x) {
		uint64_t v = w ? (uint64_t)(int64_t)imm : (uint32_t)imm;
		if (v == 0) {
			if (!mod)
				emit_zero(c, d);		/* xor d32, d32 */
			else if (!w)
				emit_mov(c, false, d, d);	/* mov d32, d32 */
			return;
		}
		if (sgn && imm == -1) {
			if (mod)
				emit_zero(c, d);		/* xor d32, d32 */
			else
				emit_f7(c, w, F7_NEG, d);	/* neg d */
			return;
		}
		if (!sgn && (v & (v - 1)) == 0) {
			unsigned int k = (unsigned int)__builtin_ctzll(v);
			if (mod)
				emit_alu_imm(c, w, EXT_AND, d, (int32_t)(v - 1));	/* and d, v-1 */
			else if (k)
				emit_shift_imm(c, w, SH_SHR, d, k);			/* shr d, k */
			else if (!w)
				emit_mov(c, false, d, d);				/* mov d32, d32 */
			return;
		}
		if (c->blind)
			emit_blind_imm32(c, w, AUX, imm);		/* r11 = imm */
		else if (w)
			emit_mov_imm64(c, AUX, (uint64_t)(int64_t)imm);	/* mov r11, imm */
		else
			emit_mov_imm32(c, AUX, (uint32_t)imm);		/* mov r11d, imm */
	} else {
		emit_mov(c, w, AUX, s);				/* mov r11, src */
		emit_alu(c, w, OPC_TEST, AUX, AUX);		/* test r11, r11 */
		j_nz = emit_jcc8_fwd(c, CC_NE);			/* jnz .nonzero */
		if (!mod)
			emit_zero(c, d);			/* xor d32, d32 */
		else if (!w)
			emit_mov(c, false, d, d);		/* mov d32, d32 */
		j_zero_done = emit_jmp8_fwd(c);			/* jmp .done */
		bind8(c, j_nz);				/* .nonzero: */
		if (sgn) {
			emit_alu_imm(c, w, EXT_CMP, AUX, -1);	/* cmp r11, -1 */
			j_do = emit_jcc8_fwd(c, CC_NE);		/* jne .do */
			if (mod)
				emit_zero(c, d);		/* xor d32, d32 */
			else
				emit_f7(c, w, F7_NEG, d);	/* neg d */
			j_neg_done = emit_jmp8_fwd(c);		/* jmp .done */
			bind8(c, j_do);			/* .do: */
		}
	}
	/* r11 = divisor, neither 0 nor (signed) -1 */
	if (d != RAX)
		emit_push(c, RAX);				/* push rax */
	if (d != RDX)
		emit_push(c, RDX);				/* push rdx */
	if (d != RAX)
		emit_mov(c, true, RAX, d);			/* mov rax, d */
	if (sgn) {
		if (w)
			emit1(c, 0x48);				/* cqo (REX.W cdq) */
		emit1(c, 0x99);					/* cdq */
	} else {
		emit_zero(c, RDX);				/* xor edx, edx */
	}
	emit_f7(c, w, sgn ? F7_IDIV : F7_DIV, AUX);		/* div|idiv r11 */
	emit_mov(c, w, AUX, mod ? RDX : RAX);			/* mov r11, rdx|rax */
	if (d != RDX)
		emit_pop(c, RDX);				/* pop rdx */
	if (d != RAX)
		emit_pop(c, RAX);				/* pop rax */
	emit_mov(c, true, d, AUX);				/* mov d, r11 */
	if (j_zero_done)
		bind8(c, j_zero_done);				/* .done: */
	if (j_neg_done)
		bind8(c, j_neg_done);
}

/* dst <<= src, >>= src, s>>= src: the count must be in cl without BMI2 */
static void gen_shift_reg(struct jctx *c, bool w, int ext, int d, int s)
{
	if (c->bmi2) {
		emit_shiftx(c, w, ext, d, d, s);		/* shlx d, d, s */
	} else if (s == RCX) {
		emit_shift_cl(c, w, ext, d);			/* shl d, cl */
	} else if (d == RCX) {
		emit_mov(c, true, AUX, RCX);			/* mov r11, rcx */
		emit_mov(c, true, RCX, s);			/* mov rcx, s */
		emit_shift_cl(c, w, ext, AUX);			/* shl r11, cl */
		emit_mov(c, true, RCX, AUX);			/* mov rcx, r11 */
	} else {
		emit_mov(c, true, AUX, RCX);			/* mov r11, rcx */
		emit_mov(c, true, RCX, s);			/* mov rcx, s */
		emit_shift_cl(c, w, ext, d);			/* shl d, cl */
		emit_mov(c, true, RCX, AUX);			/* mov rcx, r11 */
	}
}

/* Is `<<= 32` at pc followed by `>>= 32` or `s>>= 32` of the same register
 * in the same block?  Returns the second op, or OP_INVALID. */
static enum bpf_op zext_pair(const struct jctx *c, size_t pc)
{
	const struct vm_insn *in = &c->prog->code[pc];
	if (c->standalone || pc + 1 >= c->prog->insn_cnt || c->plan->leader[pc + 1] ||
	    in->op != OP_LSH64_IMM || (in->imm & 63) != 32)
		return OP_INVALID;
	const struct vm_insn *nx = in + 1;
	if ((nx->op != OP_RSH64_IMM && nx->op != OP_ARSH64_IMM) || nx->dst != in->dst ||
	    (nx->imm & 63) != 32)
		return OP_INVALID;
	return (enum bpf_op)nx->op;
}

/* Is eBPF register r dead after instruction pc: written before it is read
 * in the rest of pc's basic block?  False when the block ends first (or an
 * instruction other than a plain ALU op, load, store or lddw comes):
 * unknown, so live. */
static bool reg_dead_after(const struct jctx *c, size_t pc, unsigned int r)
{
	const struct vm_insn *code = c->prog->code;
	size_t cnt = c->prog->insn_cnt;
	for (size_t i = pc + 1; i < cnt && !c->plan->leader[i];) {
		const struct vm_insn *in = &code[i];
		const struct bpf_opinfo *o = &isa_ops[in->op];
		bool mov = BPF_OP(o->code) == BPF_MOV;
		switch (o->fmt) {
		case FMT_ALU_IMM:
			if (in->dst == r)
				return mov;
			break;
		case FMT_ALU_REG:
			if (in->src == r)
				return false;
			if (in->dst == r)
				return mov;
			break;
		case FMT_NEG: case FMT_END: case FMT_ST:
			if (in->dst == r)
				return false;
			break;
		case FMT_LDX:
			if (in->src == r)
				return false;
			if (in->dst == r)
				return true;
			break;
		case FMT_STX:
			if (in->dst == r || in->src == r)
				return false;
			break;
		case FMT_LDDW:
			if (in->dst == r)
				return true;
			i += 2;
			continue;
		default:
			return false;
		}
		i++;
	}
	return false;
}

/* Does instruction pc + k (k > 0) follow pc in the same basic block? */
static bool same_block(const struct jctx *c, size_t pc, size_t k)
{
	for (size_t i = pc + 1; i <= pc + k; i++)
		if (i >= c->prog->insn_cnt || c->plan->leader[i])
			return false;
	return true;
}

/* The access at pc + 2 after `t = a; t += b|k` at pc, when it can take
 * [a + b + k + off] as its address (verified code only: no guard wants t):
 * a load from t into t or into another register with t dead afterwards, a
 * store to t with t dead afterwards.  *disp is k + off. */
static bool fuse_access(const struct jctx *c, size_t pc, int64_t k, int32_t *disp)
{
	const struct vm_insn *in = &c->prog->code[pc], *acc = in + 2;
	unsigned int t = in->dst;
	if (c->checked || in->op != OP_MOV64_REG || !same_block(c, pc, 2))
		return false;
	int64_t d = k + acc->off;
	if (d < INT32_MIN || d > INT32_MAX)
		return false;
	*disp = (int32_t)d;
	switch (isa_ops[acc->op].fmt) {
	case FMT_LDX:
		return acc->src == t && (acc->dst == t || reg_dead_after(c, pc + 2, t));
	case FMT_STX:
		return acc->dst == t && acc->src != t && reg_dead_after(c, pc + 2, t);
	case FMT_ST:
		return acc->dst == t && reg_dead_after(c, pc + 2, t);
	default:
		return false;
	}
}

/* `t = r; t >>= n; r <<= w - n; r |= t` or the same with the shifts the
 * other way round, all of one width w in one block (the C rotate idiom): one
 * rol, and t computed only when it is read later.  Returns the slots
 * consumed, 0 when the pattern is not at pc. */
static size_t gen_rotate(struct jctx *c, size_t pc, const struct vm_insn *in)
{
	const struct vm_insn *sh1 = in + 1, *sh2 = in + 2, *orr = in + 3;
	bool w = in->op == OP_MOV64_REG;
	unsigned int bits = w ? 64 : 32, t = in->dst, r = in->src;
	enum bpf_op lsh = w ? OP_LSH64_IMM : OP_LSH32_IMM, rsh = w ? OP_RSH64_IMM : OP_RSH32_IMM;
	if (c->standalone || (!w && in->op != OP_MOV32_REG) || t == r || !same_block(c, pc, 3) ||
	    sh1->dst != t || sh2->dst != r || orr->op != (w ? OP_OR64_REG : OP_OR32_REG) ||
	    orr->dst != r || orr->src != t || sh1->imm == 0 || sh1->imm >= bits ||
	    sh1->imm + sh2->imm != bits || !((sh1->op == rsh && sh2->op == lsh) ||
					     (sh1->op == lsh && sh2->op == rsh)))
		return 0;
	unsigned int left = (unsigned int)(sh2->op == lsh ? sh2->imm : sh1->imm);
	int dt = reg_map[t], dr = reg_map[r];
	if (!reg_dead_after(c, pc + 3, t)) {
		emit_mov(c, w, dt, dr);					/* mov t, r */
		emit_shift_imm(c, w, sh1->op == lsh ? SH_SHL : SH_SHR, dt, (unsigned int)sh1->imm);	/* shl|shr t, n */
	}
	emit_shift_imm(c, w, SH_ROL, dr, left);				/* rol r, left */
	zext_set(c, t, !w);
	zext_set(c, r, !w);
	c->dep[pc + 1] = c->dep[pc + 2] = c->dep[pc + 3] = 1;
	return 4;
}

/* `t = a; t += b|k` (mov and add of one width, one block; t != b): one lea,
 * or, when the next instruction accesses memory at t (fuse_access), that
 * access at [a + b + k + off].  Returns the slots consumed, 0 when the
 * pattern is not at pc. */
static size_t gen_mov_add(struct jctx *c, size_t pc, const struct vm_insn *in)
{
	const struct vm_insn *add = in + 1, *acc = in + 2;
	bool w = in->op == OP_MOV64_REG;
	if (c->standalone || (!w && in->op != OP_MOV32_REG) || !same_block(c, pc, 1) ||
	    add->dst != in->dst)
		return 0;
	bool x = add->op == (w ? OP_ADD64_REG : OP_ADD32_REG);
	if ((!x && add->op != (w ? OP_ADD64_IMM : OP_ADD32_IMM)) || (x && add->src == in->dst) ||
	    (!x && c->blind))	/* a blinded constant is no displacement */
		return 0;
	int t = reg_map[in->dst], a = reg_map[in->src], b = x ? reg_map[add->src] : NO_INDEX;
	int64_t k = x ? 0 : (int64_t)add->imm;
	int32_t disp;
	c->dep[pc + 1] = 1;
	if (!fuse_access(c, pc, k, &disp)) {
		emit_leax(c, w, t, a, b, (int32_t)k);		/* lea t, [a + b + k] */
		zext_set(c, in->dst, !w);
		return 2;
	}
	int size = (int)isa_access_size((enum bpf_op)acc->op);
	c->dep[pc + 2] = 1;
	switch (isa_ops[acc->op].fmt) {
	case FMT_LDX: {
		bool sign = BPF_MODE(isa_ops[acc->op].code) == BPF_MEMSX;
		emit_loadx(c, size, sign, reg_map[acc->dst], a, b, disp);	/* mov d, [a + b + disp] */
		zext_set(c, in->dst, false);
		zext_set(c, acc->dst, !sign && size < 8);
		break;
	}
	case FMT_STX:
		emit_storex(c, size, a, b, disp, reg_map[acc->src]);	/* mov [a + b + disp], s */
		zext_set(c, in->dst, false);
		break;
	default:
		emit_store_k(c, size, a, b, disp, (int32_t)acc->imm);	/* mov [a + b + disp], imm */
		zext_set(c, in->dst, false);
		break;
	}
	return 3;
}

/* lea dst, [base + index * 2^scale] */
static void emit_lea_scaled(struct jctx *c, bool w, int dst, int base, int index, int scale)
{
	bool disp8 = (base & 7) == RBP;	/* rbp/r13 as base: no disp-less form */
	emit_rexx(c, w, dst, index, base, false);
	emit1(c, 0x8d);
	emit1(c, (uint8_t)((disp8 ? 0x40 : 0) | (dst & 7) << 3 | RSP));	/* ModRM: a SIB follows */
	emit1(c, (uint8_t)(scale << 6 | (index & 7) << 3 | (base & 7)));	/* SIB */
	if (disp8)
		emit1(c, 0);
}

/* d *= imm: small factors as the compilers do them, one-cycle lea and
 * shifts where imul takes three */
static void gen_mul_imm(struct jctx *c, bool w, int d, int32_t imm)
{
	int scale = 0;
	switch (imm) {
	case 3: case 6: scale = 1; break;
	case 5: case 10: scale = 2; break;
	case 9: case 18: scale = 3; break;
	default: break;
	}
	if (scale) {
		emit_lea_scaled(c, w, d, d, d, scale);		/* lea d, [d + d*2^scale] */
		if (imm % 2 == 0)
			emit_alu(c, w, OPC_ADD, d, d);		/* add d, d */
	} else if (imm > 1 && !(imm & (imm - 1))) {
		emit_shift_imm(c, w, SH_SHL, d, (unsigned int)__builtin_ctz((unsigned int)imm));	/* shl d, log2(imm) */
	} else if (c->blind) {
		emit_blind_imm32(c, w, AUX, imm);		/* r11 = imm */
		emit_imul(c, w, d, AUX);			/* imul d, r11 */
	} else {
		emit_imul_imm(c, w, d, d, imm);			/* imul d, d, imm */
	}
}

/* ALU and ALU64 classes; returns the instruction slots consumed */
static size_t gen_alu(struct jctx *c, size_t pc, const struct vm_insn *in, enum bpf_op op)
{
	uint8_t code = isa_ops[op].code;
	bool w = BPF_CLASS(code) == BPF_ALU64, x = BPF_SRC(code) == BPF_X;
	int bd = in->dst, d = reg_map[in->dst], s = reg_map[in->src];
	int32_t imm = (int32_t)in->imm;
	bool zext_after = !w; /* 32-bit results clear the upper half */

	switch (BPF_OP(code)) {
	case BPF_ADD: case BPF_SUB: case BPF_AND: case BPF_OR: case BPF_XOR: {
		static const uint8_t opc[] = { [BPF_ADD >> 4] = OPC_ADD, [BPF_SUB >> 4] = OPC_SUB,
			[BPF_AND >> 4] = OPC_AND, [BPF_OR >> 4] = OPC_OR, [BPF_XOR >> 4] = OPC_XOR };
		static const uint8_t ext[] = { [BPF_ADD >> 4] = EXT_ADD, [BPF_SUB >> 4] = EXT_SUB,
			[BPF_AND >> 4] = EXT_AND, [BPF_OR >> 4] = EXT_OR, [BPF_XOR >> 4] = EXT_XOR };
		unsigned int o = BPF_OP(code) >> 4;
		if (x)
			emit_alu(c, w, opc[o], d, s);		/* op d, s */
		else
			emit_alu_k(c, w, ext[o], d, imm);	/* op d, imm */
		bool logic = BPF_OP(code) != BPF_ADD && BPF_OP(code) != BPF_SUB;
		flags_set(c, bd, w, logic ? FL_LOGIC : FL_ARITH);
		if (w && BPF_OP(code) == BPF_AND)
			zext_after = (!x && imm >= 0) || (x && (zext_known(c, bd) || zext_known(c, in->src)));
		else if (w && (BPF_OP(code) == BPF_OR || BPF_OP(code) == BPF_XOR))
			zext_after = zext_known(c, bd) && (x ? zext_known(c, in->src) : imm >= 0);
		break;
	}
	case BPF_MUL:
		if (x)
			emit_imul(c, w, d, s);			/* imul d, s */
		else
			gen_mul_imm(c, w, d, imm);
		break;
	case BPF_LSH: case BPF_RSH: case BPF_ARSH: {
		int ext = BPF_OP(code) == BPF_LSH ? SH_SHL : BPF_OP(code) == BPF_RSH ? SH_SHR : SH_SAR;
		if (x) {
			gen_shift_reg(c, w, ext, d, s);
			break;
		}
		unsigned int n = (unsigned int)imm & (w ? 63 : 31);
		enum bpf_op pair = zext_pair(c, pc);
		if (pair == OP_RSH64_IMM) {
			/* r <<= 32; r >>= 32: zero-extend */
			if (!zext_known(c, bd))
				emit_mov(c, false, d, d);	/* mov d32, d32 */
			c->dep[pc + 1] = 1;
			zext_set(c, bd, true);
			return 2;
		}
		if (pair == OP_ARSH64_IMM) {
			/* r <<= 32; r s>>= 32: sign-extend */
			emit_movsx(c, true, 4, d, d);		/* movsxd d, d32 */
			c->dep[pc + 1] = 1;
			zext_set(c, bd, false);
			return 2;
		}
		if (n)
			emit_shift_imm(c, w, ext, d, n);	/* shl|shr|sar d, n */
		else if (!w)
			emit_mov(c, false, d, d);		/* mov d32, d32 */
		if (w && ext == SH_SHR)
			zext_after = n >= 32 || zext_known(c, bd);
		break;
	}
	case BPF_NEG:
		emit_f7(c, w, F7_NEG, d);			/* neg d */
		flags_set(c, bd, w, FL_ARITH);
		break;
	case BPF_MOV:
		if (!x) {
			if (imm && c->blind) {
				emit_blind_imm32(c, w, d, imm);	/* d = imm */
				zext_after = !w || imm >= 0;
			} else if (w) {
				emit_mov_imm64(c, d, (uint64_t)(int64_t)imm);
				zext_after = imm >= 0;
			} else if (imm == 0) {
				emit_zero(c, d);		/* xor d32, d32 */
			} else {
				emit_mov_imm32(c, d, (uint32_t)imm);	/* mov d32, imm */
			}
		} else if (in->off == 0) {
			size_t fused = gen_rotate(c, pc, in);
			if (!fused)
				fused = gen_mov_add(c, pc, in);
			if (fused)
				return fused;
			if (w) {
				if (d != s)
					emit_mov(c, true, d, s);	/* mov d, s */
				zext_after = zext_known(c, in->src);
			} else if (d == s && zext_known(c, bd)) {
				c->dep[pc] = 1;			/* already zero-extended */
			} else {
				emit_mov(c, false, d, s);	/* mov d32, s32 */
			}
		} else {
			emit_movsx(c, w, in->off / 8, d, s);	/* movsx d, s8|s16|s32 */
			zext_after = !w;
		}
		break;
	case BPF_DIV: case BPF_MOD: {
		bool sgn = isa_ops[op].selval == 1;
		gen_divmod(c, w, BPF_OP(code) == BPF_MOD, sgn, x, d, s, imm);
		if (w)
			zext_after = !sgn && zext_known(c, bd);
		break;
	}
	case BPF_END: {
		bool swap = w || BPF_SRC(code) == BPF_TO_BE;	/* bswap, or be on a little-endian host */
		switch (imm) {
		case 16:
			if (swap)
				emit_rol16_8(c, d);		/* rol d16, 8 */
			emit_movzx(c, 2, d, d);			/* movzx d32, d16 */
			zext_after = true;
			break;
		case 32:
			if (swap)
				emit_bswap(c, false, d);	/* bswap d32 */
			else if (zext_known(c, bd))
				c->dep[pc] = 1;
			else
				emit_mov(c, false, d, d);	/* mov d32, d32 */
			zext_after = true;
			break;
		default:
			if (swap)
				emit_bswap(c, true, d);		/* bswap d */
			zext_after = swap ? false : zext_known(c, bd);
			break;
		}
		break;
	}
	}
	zext_set(c, bd, zext_after);
	return 1;
}

/* ----------------------------------------------------------- jumps */

static int jump_cc(uint8_t bpf_op)
{
	switch (bpf_op) {
	case BPF_JEQ: return CC_E;
	case BPF_JGT: return CC_A;
	case BPF_JGE: return CC_AE;
	case BPF_JSET: return CC_NE;
	case BPF_JNE: return CC_NE;
	case BPF_JSGT: return CC_G;
	case BPF_JSGE: return CC_GE;
	case BPF_JLT: return CC_B;
	case BPF_JLE: return CC_BE;
	case BPF_JSLT: return CC_L;
	default: return CC_LE; /* BPF_JSLE */
	}
}

/* Is the conditional jump at pc one over a `ja` (`if cond goto +1; goto L`)
 * that nothing else jumps to?  Returns the ja's target, else SIZE_MAX.  The
 * pair is one jump on the opposite condition: a loop that stays in the loop
 * through such a pair takes one jump per iteration fewer.  (Not in checked
 * code: the ja is a block of its own there, charged to the budget.) */
static size_t jump_over_ja(const struct jctx *c, size_t pc, const struct vm_insn *in)
{
	const struct vm_insn *nx = in + 1;
	if (c->checked || c->standalone || in->off != 1 || pc + 2 >= c->prog->insn_cnt ||
	    c->jump_in[pc + 1] || (nx->op != OP_JA && nx->op != OP_JA32))
		return SIZE_MAX;
	long t = (long)pc + 2 + nx->off;
	return t == (long)pc + 2 ? SIZE_MAX : (size_t)t;
}

#define TAIL_MAX 6	/* instructions a jump's target block may have to be copied */

/* The length of the block at t when it is short and ends in a conditional
 * jump or an exit, with nothing but ALU ops, loads, stores and lddw before:
 * a block an unconditional jump may copy (gen_tail_copy).  0 otherwise. */
static size_t tail_len(const struct jctx *c, size_t t)
{
	const struct vm_insn *code = c->prog->code;
	size_t cnt = c->prog->insn_cnt;
	for (size_t i = t, k = 0; i < cnt && k < TAIL_MAX; k++) {
		if (i > t && c->plan->leader[i])
			return 0;
		switch (isa_ops[code[i].op].fmt) {
		case FMT_JMP_IMM: case FMT_JMP_REG: case FMT_EXIT:
			return i + 1 - t;
		case FMT_ALU_IMM: case FMT_ALU_REG: case FMT_NEG: case FMT_END:
		case FMT_LDX: case FMT_ST: case FMT_STX:
			i++;
			break;
		case FMT_LDDW:
			i += 2;
			break;
		default:
			return 0;
		}
	}
	return 0;
}

static size_t gen_insn(struct jctx *c, size_t pc);

/* `ja t` in verified code, t a short block ending in a conditional jump or
 * exit (tail_len): a copy of that block instead, then a jump to where it
 * falls through.  A loop whose paths rejoin at a latch block (`i++; if i < n
 * goto head`) then takes one jump per iteration, not two.  (Checked code
 * charges the budget on entering a block: no copies there.)  Returns false
 * when t does not qualify. */
static bool gen_tail_copy(struct jctx *c, size_t t)
{
	size_t n = tail_len(c, t);
	if (!n || c->checked || c->standalone)
		return false;
	c->standalone = true;	/* the copy assumes nothing and fuses nothing */
	state_reset(c);
	size_t i = t;
	while (i < t + n && !c->err)
		i += gen_insn(c, i);
	c->standalone = false;
	size_t next = t + n;
	if (isa_ops[c->prog->code[next - 1].op].fmt == FMT_EXIT || next >= c->prog->insn_cnt)
		return true;
	const struct vm_insn *nx = &c->prog->code[next];
	if (nx->op == OP_JA || nx->op == OP_JA32)
		next = (size_t)((long)next + 1 + nx->off);	/* jump_over_ja may have eaten it */
	emit_jmp(c, insn_target(c, next));			/* jmp fall-through */
	return true;
}

/* conditional and unconditional jumps; prev_* are the flags the previous
 * instruction of the block left.  Returns the instruction slots consumed. */
static size_t gen_jump(struct jctx *c, size_t pc, const struct vm_insn *in, enum bpf_op op,
		       int prev_reg, uint8_t prev_kind, bool prev_w)
{
	size_t t = (size_t)((long)pc + 1 + in->off);
	if (op == OP_JA || op == OP_JA32) {
		if (t != pc + 1 && !gen_tail_copy(c, t))
			emit_jmp(c, insn_target(c, t));		/* jmp target */
		return 1;
	}
	if (t == pc + 1)
		return 1; /* both ways lead to the next instruction */
	size_t over = jump_over_ja(c, pc, in);
	uint8_t code = isa_ops[op].code;
	bool w = BPF_CLASS(code) == BPF_JMP, x = BPF_SRC(code) == BPF_X;
	int d = reg_map[in->dst], s = reg_map[in->src], cc = jump_cc(BPF_OP(code));
	int32_t imm = (int32_t)in->imm;
	if (BPF_OP(code) == BPF_JSET) {
		if (x)
			emit_alu(c, w, OPC_TEST, d, s);		/* test d, s */
		else if (imm == 0)
			return 1;				/* never taken */
		else if (c->blind) {
			emit_blind_imm32(c, w, AUX, imm);	/* r11 = imm */
			emit_alu(c, w, OPC_TEST, d, AUX);	/* test d, r11 */
		} else
			emit_test_imm(c, w, d, imm);		/* test d, imm */
	} else if (x) {
		emit_alu(c, w, OPC_CMP, d, s);			/* cmp d, s */
	} else if (imm == 0) {
		/* the previous ALU op on d set the flags a test would */
		bool reuse = prev_reg == in->dst &&
			     ((prev_kind == FL_LOGIC && prev_w == w) ||
			      ((cc == CC_E || cc == CC_NE) && (prev_w == w || !prev_w)));
		if (reuse) {
			c->dep[pc] = 1;
			relies_since(c, c->flags_at);
		} else
			emit_alu(c, w, OPC_TEST, d, d);		/* test d, d */
	} else {
		emit_alu_k(c, w, EXT_CMP, d, imm);		/* cmp d, imm */
	}
	if (over != SIZE_MAX) {
		c->dep[pc + 1] = 1;
		emit_jcc(c, cc ^ 1, insn_target(c, over));	/* j!cc ja's target */
		return 2;
	}
	emit_jcc(c, cc, insn_target(c, t));			/* jcc target */
	return 1;
}

/* may_goto: jump when the run's may_goto budget is spent, else spend one */
static void gen_may_goto(struct jctx *c, size_t pc, const struct vm_insn *in)
{
	size_t t = (size_t)((long)pc + 1 + in->off);
	emit_alu_mem_imm(c, false, EXT_CMP, STK, RUN(may_goto_left), 0);	/* cmp dword [run.may_goto_left], 0 */
	emit_jcc(c, CC_E, insn_target(c, t));				/* je target */
	emit_rm(c, 0, false, 0xff, 1, STK, RUN(may_goto_left), false);	/* dec dword [run.may_goto_left] */
}

/* ------------------------------------------------------ memory access */

/* Checked code: make sure [base + off, +size) is memory the program may
 * access (a write: writable), and for atomics that it is aligned; on failure
 * the interpreter's fault.  Afterwards r10 = address - run->stack. */
static void gen_guard(struct jctx *c, size_t pc, const struct vm_insn *in, int base,
		      int size, bool write, bool atomic)
{
	if (!c->checked || jit_access_static_ok(in))
		return;
	emit_lea(c, true, AX, base, in->off);			/* lea r10, [base + off] */
	emit_alu(c, true, OPC_SUB, AX, STK);			/* sub r10, r12 */
	emit_alu_imm(c, true, EXT_CMP, AX, VM_STACK_TOTAL - size);	/* cmp r10, TOTAL - size */
	size_t k = new_stub(c, STUB_MEM, pc, 0);
	emit_jcc(c, CC_A, stub_target(c, k));			/* ja .not_stack */
	if (c->err)
		return;
	c->stubs[k].size = (uint8_t)size;
	c->stubs[k].write = write;
	c->stubs[k].atomic = atomic;
	c->stubs[k].ret = (uint32_t)c->len;
	if (atomic && size > 1) {
		emit_rr(c, 0, false, 0xf6, 0, AX, true);	/* test r10b, size-1 */
		emit1(c, (uint8_t)(size - 1));
		size_t a = new_stub(c, STUB_ALIGN, pc, 0);
		emit_jcc(c, CC_NE, stub_target(c, a));		/* jnz .misaligned */
	}
}

/* the fetch-and-op atomics x86 has no instruction for: a cmpxchg loop.
 * rax (r0) is cmpxchg's comparand, so r0 lives in r10 meanwhile. */
static void gen_atomic_loop(struct jctx *c, bool w, uint8_t opc, int base, int32_t off, int src)
{
	int b = base == RAX ? AX : base, s = src == RAX ? AX : src;
	emit_mov(c, true, AX, RAX);				/* mov r10, rax */
	emit_load(c, w ? 8 : 4, false, RAX, b, off);		/* mov rax, [b + off] */
	size_t loop = c->len;
	emit_mov(c, w, AUX, RAX);				/* .loop: mov r11, rax */
	emit_alu(c, w, opc, AUX, s);				/* op r11, s */
	emit_rm(c, 0xf0, w, 0x0fb1, AUX, b, off, false);	/* lock cmpxchg [b + off], r11 */
	emit1(c, 0x75);						/* jne .loop */
	emit1(c, (uint8_t)(int8_t)((int64_t)loop - (int64_t)(c->len + 1)));
	if (src != RAX) {
		emit_mov(c, true, src, RAX);			/* mov src, rax (old value) */
		emit_mov(c, true, RAX, AX);			/* mov rax, r10 */
	}
}

/* loads, stores, atomics, load-acquire and store-release */
static void gen_mem(struct jctx *c, size_t pc, const struct vm_insn *in, enum bpf_op op)
{
	uint8_t fmt = isa_ops[op].fmt;
	int size = (int)isa_access_size(op);
	int d = reg_map[in->dst], s = reg_map[in->src];
	int32_t off = in->off;
	bool w = size == 8;

	switch (fmt) {
	case FMT_LDX:
	case FMT_LOAD_ACQ: {
		bool sign = BPF_MODE(isa_ops[op].code) == BPF_MEMSX;
		gen_guard(c, pc, in, s, size, false, fmt == FMT_LOAD_ACQ);
		emit_load(c, size, sign, d, s, off);		/* mov|movzx|movsx d, [s + off] */
		zext_set(c, in->dst, !sign && size < 8);
		return;
	}
	case FMT_ST:
		gen_guard(c, pc, in, d, size, true, false);
		emit_store_k(c, size, d, NO_INDEX, off, (int32_t)in->imm);	/* mov [d + off], imm */
		return;
	case FMT_STX:
	case FMT_STORE_REL:
		gen_guard(c, pc, in, d, size, true, fmt == FMT_STORE_REL);
		emit_store(c, size, d, off, s);			/* mov [d + off], s */
		return;
	default:
		break;
	}
	/* FMT_ATOMIC */
	gen_guard(c, pc, in, d, size, true, true);
	switch ((int32_t)in->imm) {
	case BPF_ADD:
		emit_rm(c, 0xf0, w, OPC_ADD, s, d, off, false);	/* lock add [d + off], s */
		return;
	case BPF_OR:
		emit_rm(c, 0xf0, w, OPC_OR, s, d, off, false);	/* lock or [d + off], s */
		return;
	case BPF_AND:
		emit_rm(c, 0xf0, w, OPC_AND, s, d, off, false);	/* lock and [d + off], s */
		return;
	case BPF_XOR:
		emit_rm(c, 0xf0, w, OPC_XOR, s, d, off, false);	/* lock xor [d + off], s */
		return;
	case BPF_ADD | BPF_FETCH:
		emit_rm(c, 0xf0, w, 0x0fc1, s, d, off, false);	/* lock xadd [d + off], s */
		break;
	case BPF_OR | BPF_FETCH:
		gen_atomic_loop(c, w, OPC_OR, d, off, s);
		break;
	case BPF_AND | BPF_FETCH:
		gen_atomic_loop(c, w, OPC_AND, d, off, s);
		break;
	case BPF_XOR | BPF_FETCH:
		gen_atomic_loop(c, w, OPC_XOR, d, off, s);
		break;
	case BPF_XCHG:
		emit_rm(c, 0, w, 0x87, s, d, off, false);	/* xchg [d + off], s */
		break;
	case BPF_CMPXCHG:
		emit_rm(c, 0xf0, w, 0x0fb1, s, d, off, false);	/* lock cmpxchg [d + off], s */
		if (!w)
			emit_mov(c, false, RAX, RAX);		/* mov eax, eax */
		zext_set(c, BPF_REG_0, !w);
		return;
	}
	zext_set(c, in->src, !w);
}

/* ld_abs / ld_ind: r0 = big-endian packet bytes; outside the packet the
 * whole program returns 0 */
static void gen_ldpkt(struct jctx *c, const struct vm_insn *in, enum bpf_op op)
{
	int size = (int)isa_access_size(op);
	bool ind = isa_ops[op].fmt == FMT_LDIND;
	if (c->blind) {
		emit_blind_imm32(c, false, AUX, (int32_t)in->imm);		/* r11d = imm */
		if (ind)
			emit_leax(c, false, AUX, reg_map[in->src], AUX, 0);	/* lea r11d, [src + r11] */
	} else if (ind) {
		emit_lea(c, false, AUX, reg_map[in->src], (int32_t)in->imm);	/* lea r11d, [src + imm] */
	} else {
		emit_mov_imm32(c, AUX, (uint32_t)in->imm);			/* mov r11d, imm */
	}
	emit_alu(c, false, OPC_TEST, AUX, AUX);				/* test r11d, r11d */
	emit_jcc(c, CC_S, c->lbl[L_ABORT]);				/* js abort */
	emit_rm(c, 0, false, 0x8b, AX, STK, RUN(pkt_len), false);	/* mov r10d, [run.pkt_len] */
	emit_alu(c, false, OPC_SUB, AX, AUX);				/* sub r10d, r11d */
	emit_jcc(c, CC_B, c->lbl[L_ABORT]);				/* jb abort */
	emit_alu_imm(c, false, EXT_CMP, AX, size);			/* cmp r10d, size */
	emit_jcc(c, CC_B, c->lbl[L_ABORT]);				/* jb abort */
	emit_rm(c, 0, true, 0x8b, AX, STK, RUN(pkt), false);		/* mov r10, [run.pkt] */
	emit_alu(c, true, OPC_TEST, AX, AX);				/* test r10, r10 */
	emit_jcc(c, CC_E, c->lbl[L_ABORT]);				/* jz abort */
	emit_alu(c, true, OPC_ADD, AX, AUX);				/* add r10, r11 */
	emit_load(c, size, false, RAX, AX, 0);				/* mov|movzx eax, [r10] */
	if (size == 4)
		emit_bswap(c, false, RAX);				/* bswap eax */
	else if (size == 2)
		emit_rol16_8(c, RAX);					/* rol ax, 8 */
	zext_set(c, BPF_REG_0, true);
}

/* ----------------------------------------------------------- calls */

/* Call the helper at address fn (or, when fn is 0, in register fn_reg).
 * As the interpreter: run.cur_fp/cur_depth say where the call happens (for
 * callbacks and tail calls), the budget is shared through run.budget, r1..r5
 * survive the call in checked code (those in `keep`, the ones read later),
 * and run.stop afterwards means an error (abort) or a tail call (leave this
 * function; `stop_label`). */
static void gen_helper_call(struct jctx *c, int fn_reg, uint64_t fn, int stop_label, uint8_t keep)
{
	int kept[5], nkept = 0;
	for (int r = 1; r <= 5 && c->checked; r++)
		if (keep >> r & 1)
			kept[nkept++] = reg_map[r];
	emit_rm(c, 0, true, OPC_MOV, RBP, STK, RUN(cur_fp), false);	/* mov [run.cur_fp], rbp */
	emit_lea(c, true, AX, STK, VM_STACK_TOTAL);			/* lea r10, [stack top] */
	emit_alu(c, true, OPC_SUB, AX, RBP);				/* sub r10, rbp */
	emit_shift_imm(c, true, SH_SHR, AX, 9);				/* shr r10, 9 */
	emit_rm(c, 0, false, OPC_MOV, AX, STK, RUN(cur_depth), false);	/* mov [run.cur_depth], r10d */
	if (c->checked)
		emit_rm(c, 0, true, OPC_MOV, BUDGET, STK, RUN(budget), false);	/* mov [run.budget], r9 */
	for (int i = 0; i < nkept; i++)
		emit_push(c, kept[i]);					/* push r1..r5 read later */
	if (nkept & 1)
		emit_alu_imm(c, true, EXT_SUB, RSP, 8);			/* sub rsp, 8 (alignment) */
	emit_run_arg(c, R9);						/* lea r9, [run] */
	if (fn)
		emit_call_abs(c, fn);					/* movabs rax, fn ; call rax */
	else
		emit_call_reg(c, fn_reg);				/* call r11 */
	if (nkept & 1)
		emit_alu_imm(c, true, EXT_ADD, RSP, 8);			/* add rsp, 8 */
	for (int i = nkept; i-- > 0;)
		emit_pop(c, kept[i]);					/* pop them back */
	if (c->checked)
		emit_rm(c, 0, true, 0x8b, BUDGET, STK, RUN(budget), false);	/* mov r9, [run.budget] */
	emit_rm(c, 0, false, 0x80, EXT_CMP, STK, RUN(stop), false);	/* cmp byte [run.stop], 0 */
	emit1(c, 0);
	emit_jcc(c, CC_NE, c->lbl[stop_label]);				/* jne stop|abort */
}

/* A call to a function whose fn_info is `info`.  A new frame: r10 -= 512,
 * 48 bytes of machine stack (what L_ABORT unwinds per frame) holding r6..r9
 * where the callee writes them and r10.  A function that cannot abort and
 * does not use r10 (FN_FRAME clear) needs no frame: the call, with the
 * registers it writes pushed around it. */
static void gen_frame_call(struct jctx *c, int target_reg, uint32_t target, uint8_t info)
{
	static const int saved[4] = { RBX, R13, R14, R15 };
	if (!(info & FN_FRAME) || (info & FN_WRITES) != FN_WRITES) {
		bool frame = info & FN_FRAME;
		if (frame)
			emit_alu_imm(c, true, EXT_SUB, RSP, 40);	/* sub rsp, 40 */
		for (int i = 0; i < 4; i++)
			if (info >> i & 1) {
				if (frame)
					emit_rm(c, 0, true, OPC_MOV, saved[i], RSP, 8 * i, false);	/* mov [rsp+8i], r */
				else
					emit_push(c, saved[i]);				/* push r */
			}
		if (frame)
			emit_alu_imm(c, true, EXT_SUB, RBP, BPFVM_STACK_SIZE);	/* sub rbp, 512 */
		if (target_reg >= 0)
			emit_call_reg(c, target_reg);			/* call r11 */
		else
			emit_call_rel(c, target);			/* call target */
		if (frame)
			emit_alu_imm(c, true, EXT_ADD, RBP, BPFVM_STACK_SIZE);	/* add rbp, 512 */
		for (int i = 4; i-- > 0;)
			if (info >> i & 1) {
				if (frame)
					emit_rm(c, 0, true, 0x8b, saved[i], RSP, 8 * i, false);	/* mov r, [rsp+8i] */
				else
					emit_pop(c, saved[i]);				/* pop r */
			}
		if (frame)
			emit_alu_imm(c, true, EXT_ADD, RSP, 40);	/* add rsp, 40 */
		return;
	}
	emit_push(c, RBX);						/* push rbx */
	emit_push(c, R13);						/* push r13 */
	emit_push(c, R14);						/* push r14 */
	emit_push(c, R15);						/* push r15 */
	emit_push(c, RBP);						/* push rbp */
	emit_alu_imm(c, true, EXT_SUB, RBP, BPFVM_STACK_SIZE);		/* sub rbp, 512 */
	if (target_reg >= 0)
		emit_call_reg(c, target_reg);				/* call r11 */
	else
		emit_call_rel(c, target);				/* call target */
	emit_pop(c, RBP);						/* pop rbp */
	emit_pop(c, R15);						/* pop r15 */
	emit_pop(c, R14);						/* pop r14 */
	emit_pop(c, R13);						/* pop r13 */
	emit_pop(c, RBX);						/* pop rbx */
}

/* call local: fault when all frames are in use, else a frame call */
static void gen_call_local(struct jctx *c, size_t pc, const struct vm_insn *in)
{
	size_t t = (size_t)((long)pc + 1 + in->off);
	if (!(c->fn_info[t] & FN_FRAME)) {
		gen_frame_call(c, -1, insn_target(c, t), c->fn_info[t]);	/* uses no frame */
		return;
	}
	emit_mov(c, true, AUX, RBP);					/* mov r11, rbp */
	emit_alu(c, true, OPC_SUB, AUX, STK);				/* sub r11, r12 */
	emit_alu_imm(c, true, EXT_CMP, AUX, BPFVM_STACK_SIZE);		/* cmp r11, 512 (last frame) */
	size_t k = new_stub(c, STUB_DEEP, pc, 0);
	emit_jcc(c, CC_E, stub_target(c, k));				/* je .too_deep */
	gen_frame_call(c, -1, insn_target(c, t), c->fn_info[t]);
}

/* callx: jit_rt_callx() resolves the value (function of this program, or
 * helper ID, or fault) and, for a function, checks the depth and charges
 * the budget for entering its block in the middle */
static void gen_callx(struct jctx *c, size_t pc, const struct vm_insn *in)
{
	static const uint8_t saved[] = { RAX, RDI, RSI, RDX, RCX, R8, R9 };
	emit_mov(c, true, AUX, reg_map[in->dst]);			/* mov r11, dst */
	for (size_t i = 0; i < sizeof(saved); i++)
		emit_push(c, saved[i]);					/* push rax..r9 */
	emit_push(c, AUX);						/* push r11 (align) */
	emit_run_arg(c, RDI);						/* lea rdi, [run] */
	emit_mov_imm32(c, RSI, (uint32_t)pc);				/* mov esi, pc */
	emit_mov(c, true, RDX, AUX);					/* mov rdx, r11 */
	emit_mov(c, true, RCX, RBP);					/* mov rcx, rbp */
	emit_lea(c, true, R8, RSP, 8);					/* lea r8, [rsp+8] (saved r9) */
	emit_call_abs(c, FN_ADDR(jit_rt_callx));			/* call jit_rt_callx */
	emit_mov(c, true, AX, RAX);					/* mov r10, rax (kind) */
	emit_mov(c, true, AUX, RDX);					/* mov r11, rdx (address) */
	emit_alu_imm(c, true, EXT_ADD, RSP, 8);				/* add rsp, 8 */
	for (size_t i = sizeof(saved); i-- > 0;)
		emit_pop(c, saved[i]);					/* pop r9..rax */
	emit_alu(c, false, OPC_TEST, AX, AX);				/* test r10d, r10d */
	emit_jcc(c, CC_E, c->lbl[L_ABORT]);				/* jz abort */
	emit_alu_imm(c, false, EXT_CMP, AX, JIT_CALLX_LOCAL);		/* cmp r10d, LOCAL */
	size_t j_helper = emit_jcc8_fwd(c, CC_NE);			/* jne .helper */
	gen_frame_call(c, AUX, 0, FN_FRAME | FN_WRITES);	/* callee unknown */
	size_t j_done = emit_jmp32_fwd(c);				/* jmp .done */
	bind8(c, j_helper);						/* .helper: */
	gen_helper_call(c, AUX, 0, L_STOP, c->plan->live_after[pc]);
	bind32(c, j_done);						/* .done: */
}

/* Map helper calls in verified code, as the kernel's fixup_bpf_calls: when
 * the same basic block loads r1 with a map's address by lddw and nothing
 * writes r1 before the call, the map is known here.  A lookup in an ARRAY or
 * PERCPU_ARRAY is inlined (the kernel's array_map_gen_lookup); other map
 * operations call the map's own function directly (map_direct_fn), skipping
 * the helper's dispatch and the run bookkeeping only callbacks and tail calls
 * need. */

/* The built-in map helpers a direct call replaces (a slot bound to one of
 * them is that helper: an embedder's own helper has its own function);
 * argc: the helper's r1..rN (the running CPU follows them). */
static const struct {
	bpfvm_helper_fn fn;
	enum map_call call;
	uint8_t argc;
} map_helpers[] = {
	{ helper_map_lookup_elem, MAP_CALL_LOOKUP, 2 },
	{ helper_map_update_elem, MAP_CALL_UPDATE, 4 },
	{ helper_map_delete_elem, MAP_CALL_DELETE, 2 },
	{ helper_map_push_elem, MAP_CALL_PUSH, 3 },
	{ helper_map_pop_elem, MAP_CALL_POP, 2 },
	{ helper_map_peek_elem, MAP_CALL_PEEK, 2 },
};

/* The map_helpers row of the call at pc, or -1 (checked code, a callx entry,
 * another helper). */
static int map_helper_row(const struct jctx *c, size_t pc)
{
	const struct bpfvm_prog *prog = c->prog;
	const struct vm_insn *call = &prog->code[pc];
	if (c->checked || c->standalone || call->imm >= prog->helper_cnt)
		return -1;
	for (size_t i = 0; i < sizeof(map_helpers) / sizeof(map_helpers[0]); i++)
		if (prog->helpers[call->imm].fn == map_helpers[i].fn)
			return (int)i;
	return -1;
}

/* The lddw that gives register `reg` its value at the call at pc, when it
 * is in pc's basic block and nothing may write reg after it, or NULL; *at:
 * its index. */
static const struct vm_insn *block_lddw(const struct jctx *c, size_t pc, unsigned int reg,
					size_t *at)
{
	const struct bpfvm_prog *prog = c->prog;
	for (size_t i = pc; i-- > 0;) {
		if (c->plan->leader[i + 1])
			return NULL;				/* a jump lands in between */
		const struct vm_insn *in = &prog->code[i];
		if (in->op == OP_INVALID) {			/* lddw's second half */
			if (i == 0 || isa_ops[prog->code[i - 1].op].fmt != FMT_LDDW)
				return NULL;
			continue;
		}
		switch (isa_ops[in->op].fmt) {
		case FMT_ALU_IMM: case FMT_ALU_REG: case FMT_NEG: case FMT_END: case FMT_LDX:
			if (in->dst == reg)
				return NULL;
			continue;
		case FMT_ST: case FMT_STX:
			continue;
		case FMT_LDDW:
			if (in->dst != reg)
				continue;
			*at = i;
			return in;
		default:
			return NULL;				/* calls, atomics (fetch writes src), ... */
		}
	}
	return NULL;
}

/* The map r1 holds at the call at pc (see above), or NULL; *at: the lddw
 * that loads it. */
static struct bpfvm_map *call_map(const struct jctx *c, size_t pc, size_t *at)
{
	const struct bpfvm_prog *prog = c->prog;
	const struct vm_insn *in = block_lddw(c, pc, BPF_REG_1, at);
	if (!in || (in->op != OP_LDDW_MAP_FD && in->op != OP_LDDW_MAP_IDX))
		return NULL;
	for (size_t k = 0; k < prog->map_cnt; k++)
		if ((uint64_t)(uintptr_t)prog->maps[k] == in->imm)
			return prog->maps[k];
	return NULL;
}

/* The ARRAY or PERCPU_ARRAY map whose lookup the call at pc inlines, or
 * NULL; *at: the lddw that loads it into r1. */
static struct bpfvm_map *inline_lookup_map(const struct jctx *c, size_t pc, size_t *at)
{
	int row = map_helper_row(c, pc);
	if (row < 0 || map_helpers[row].call != MAP_CALL_LOOKUP)
		return NULL;
	struct bpfvm_map *m = call_map(c, pc, at);
	void *base;
	uint32_t stride, max, ncpus;
	if (!m || map_array_direct(m, &base, &stride, &max, &ncpus) || !stride || stride > INT32_MAX)
		return NULL;
	return m;
}

/* Before the passes, for each inlined lookup (verified code: a call leaves
 * r1..r5 unreadable), the code it makes unnecessary:
 *  - the lddw of its map, when nothing else reads r1 before the call (the
 *    inlined code knows the map): skip[] at the lddw;
 *  - `r2 = r10; r2 += K` just before, when nothing else reads r2: skip[] at
 *    the mov, and key_off[] at the call is K: the key is read from
 *    [r10 + K] directly (0: from [r2]). */
static void plan_lookups(struct jctx *c)
{
	const struct vm_insn *code = c->prog->code;
	size_t cnt = c->prog->insn_cnt;
	for (size_t pc = 0; pc < cnt; pc++) {
		size_t at = 0;
		if (isa_ops[code[pc].op].fmt != FMT_CALL || !inline_lookup_map(c, pc, &at))
			continue;
		bool r1_unused = true;
		for (size_t i = at + 2; i < pc; i++)
			r1_unused &= code[i].dst != BPF_REG_1 && code[i].src != BPF_REG_1;
		c->skip[at] = r1_unused;
		/* the last instruction writing r2 in the block, the add of the pair */
		size_t add = pc;
		while (add > 0 && !c->plan->leader[add] &&
		       code[add - 1].dst != BPF_REG_2 && code[add - 1].src != BPF_REG_2)
			add--;
		if (add < 2 || c->plan->leader[add] || c->plan->leader[add - 1])
			continue;
		const struct vm_insn *mov = &code[add - 2], *inc = &code[add - 1];
		if (mov->op == OP_MOV64_REG && mov->dst == BPF_REG_2 && mov->src == BPF_REG_10 &&
		    mov->off == 0 && inc->op == OP_ADD64_IMM && inc->dst == BPF_REG_2 &&
		    (int64_t)inc->imm >= -BPFVM_STACK_SIZE && (int64_t)inc->imm <= -4) {
			c->skip[add - 2] = 1;
			c->key_off[pc] = (int16_t)inc->imm;
		}
	}
}

/* The inlined ARRAY / PERCPU_ARRAY lookup: the helper's result exactly, NULL
 * for a key >= max_entries (PERCPU_ARRAY: or run.cpu >= nr_cpus), else the
 * element's storage (plan_lookups() says what code before it can go).  When
 * the call is followed by `if r0 == 0` or `if r0 != 0` (that nothing else
 * jumps to), the range check jumps there itself: a found element's address
 * is never 0.  Returns the instruction slots consumed (0: not inlined). */
static size_t gen_inline_lookup(struct jctx *c, size_t pc)
{
	size_t at;
	struct bpfvm_map *m = inline_lookup_map(c, pc, &at);
	void *base;
	uint32_t stride, max, ncpus;
	if (!m || map_array_direct(m, &base, &stride, &max, &ncpus))
		return 0;
	c->dep[pc] = 1;	/* a callx entry here cannot know r1: the helper, standalone */
	/* the null test that follows, fused */
	const struct vm_insn *nx = pc + 1 < c->prog->insn_cnt ? &c->prog->code[pc + 1] : NULL;
	bool fuse = nx && !c->jump_in[pc + 1] && nx->dst == BPF_REG_0 && nx->imm == 0 &&
		    (nx->op == OP_JEQ64_IMM || nx->op == OP_JNE64_IMM);
	size_t t = fuse ? (size_t)((long)pc + 2 + nx->off) : 0;
	bool jump_if_null = fuse && nx->op == OP_JEQ64_IMM;
	if (c->key_off[pc])
		emit_load(c, 4, false, RAX, RBP, c->key_off[pc]);	/* mov eax, [rbp + K] (key) */
	else
		emit_load(c, 4, false, RAX, RSI, 0);			/* mov eax, [rsi] (key) */
	emit_alu_imm(c, false, EXT_CMP, RAX, (int32_t)max);		/* cmp eax, max_entries */
	size_t k_null = 0, k_cpu = 0, j_null = 0, j_cpu = 0;
	if (jump_if_null) {
		k_null = new_stub(c, STUB_NULL, pc + 1, (uint32_t)t);
		emit_jcc(c, CC_AE, stub_target(c, k_null));		/* jae .null (r0 = 0, jmp target) */
	} else {
		j_null = emit_jcc8_fwd(c, CC_AE);			/* jae .null */
	}
	if (ncpus) {
		/* PERCPU_ARRAY: the run's CPU's slot; NULL for cpu >= nr_cpus */
		emit_load(c, 4, false, AX, STK, RUN(cpu));		/* mov r10d, [run.cpu] */
		emit_alu_imm(c, false, EXT_CMP, AX, (int32_t)ncpus);	/* cmp r10d, nr_cpus */
		if (jump_if_null) {
			k_cpu = new_stub(c, STUB_NULL, pc + 1, (uint32_t)t);
			emit_jcc(c, CC_AE, stub_target(c, k_cpu));	/* jae .null */
		} else {
			j_cpu = emit_jcc8_fwd(c, CC_AE);		/* jae .null */
		}
	}
	if (!ncpus && stride <= 8 && !(stride & (stride - 1))) {
		emit_mov_imm64(c, AX, (uint64_t)(uintptr_t)base);	/* mov r10, values */
		emit_lea_scaled(c, true, RAX, AX, RAX, __builtin_ctz(stride));	/* lea rax, [r10 + rax*stride] */
	} else {
		if (!(stride & (stride - 1)))
			emit_shift_imm(c, true, SH_SHL, RAX, (unsigned int)__builtin_ctz(stride));	/* shl rax, log2(stride) */
		else
			emit_imul_imm(c, true, RAX, RAX, (int32_t)stride);	/* imul rax, rax, stride */
		if (ncpus) {
			emit_mov_imm64(c, AUX, (uint64_t)max * stride);	/* mov r11, max_entries * stride */
			emit_imul(c, true, AX, AUX);			/* imul r10, r11 */
			emit_alu(c, true, OPC_ADD, RAX, AX);		/* add rax, r10 */
		}
		emit_mov_imm64(c, AX, (uint64_t)(uintptr_t)base);	/* mov r10, values */
		emit_alu(c, true, OPC_ADD, RAX, AX);			/* add rax, r10 */
	}
	if (jump_if_null) {
		c->dep[pc + 1] = 1;	/* a callx entry there tests r0 itself */
		return 2;		/* found: on to pc + 2 */
	}
	size_t j_done = 0;
	if (fuse)
		emit_jmp(c, insn_target(c, t));				/* jmp target (found) */
	else
		j_done = emit_jmp8_fwd(c);				/* jmp .done */
	bind8(c, j_null);						/* .null: */
	if (ncpus)
		bind8(c, j_cpu);
	emit_zero(c, RAX);						/* xor eax, eax */
	if (fuse) {
		c->dep[pc + 1] = 1;
		return 2;		/* not found: on to pc + 2 */
	}
	bind8(c, j_done);						/* .done: */
	return 1;
}

/* jcc rel32 forward inside one instruction's code; bind32() at the label */
static size_t emit_jcc32_fwd(struct jctx *c, int cc)
{
	emit1(c, 0x0f);
	emit1(c, (uint8_t)(0x80 | cc));
	emit4(c, 0);
	return c->len;
}

/* bpf_loop in verified code, as the kernel's inline_bpf_loop, when the same
 * basic block loads r2 with the callback (`lddw r2, func`): the loop runs
 * here and calls the callback as a local function (r1 = i, r2 = ctx, a
 * frame of its own), the helper's checks and results exactly: flags != 0
 * gives -EINVAL, more than BPF_MAX_LOOPS (VM_MAX_LOOPS) iterations -E2BIG,
 * no frame for the callback vm_call_func()'s fault; r0 is the number of
 * calls made, the last one returning non-zero.  The loop keeps its count in
 * r7 and a pointer to its slot of run.jit_loop (one per call frame: n, ctx,
 * the caller's r6 and r7) in r6, which the frame call preserves.  Returns
 * false when the call at pc is not such a bpf_loop. */
static bool gen_inline_loop(struct jctx *c, size_t pc)
{
	const struct bpfvm_prog *prog = c->prog;
	const struct vm_insn *call = &prog->code[pc];
	size_t at;
	if (c->checked || c->standalone || call->imm >= prog->helper_cnt ||
	    prog->helpers[call->imm].fn != helper_loop)
		return false;
	const struct vm_insn *fn = block_lddw(c, pc, BPF_REG_2, &at);
	if (!fn || fn->op != OP_LDDW_FUNC)
		return false;
	size_t t = (size_t)((const struct vm_insn *)(uintptr_t)fn->imm - prog->code);
	const int32_t slot = RUN(jit_loop);
	c->dep[pc] = 1;	/* a callx entry here cannot know r2: the helper, standalone */
	emit_mov_imm64(c, RAX, (uint64_t)-EINVAL);			/* mov rax, -EINVAL */
	emit_alu(c, true, OPC_TEST, RCX, RCX);				/* test rcx, rcx (flags) */
	size_t j_flags = emit_jcc32_fwd(c, CC_NE);			/* jnz .done */
	emit_mov_imm64(c, RAX, (uint64_t)-E2BIG);			/* mov rax, -E2BIG */
	emit_alu_imm(c, true, EXT_CMP, RDI, (int32_t)VM_MAX_LOOPS);	/* cmp rdi, BPF_MAX_LOOPS */
	size_t j_big = emit_jcc32_fwd(c, CC_A);				/* ja .done */
	emit_zero(c, RAX);						/* xor eax, eax */
	emit_alu(c, true, OPC_TEST, RDI, RDI);				/* test rdi, rdi */
	size_t j_none = emit_jcc32_fwd(c, CC_E);			/* jz .done */
	emit_mov(c, true, AUX, RBP);					/* mov r11, rbp */
	emit_alu(c, true, OPC_SUB, AUX, STK);				/* sub r11, r12 */
	emit_alu_imm(c, true, EXT_CMP, AUX, BPFVM_STACK_SIZE);		/* cmp r11, 512 (last frame) */
	size_t k = new_stub(c, STUB_CB_DEEP, pc, 0);
	emit_jcc(c, CC_E, stub_target(c, k));				/* je .too_deep */
	emit_lea(c, true, AX, STK, VM_STACK_TOTAL);			/* lea r10, [stack top] */
	emit_alu(c, true, OPC_SUB, AX, RBP);				/* sub r10, rbp */
	emit_shift_imm(c, true, SH_SHR, AX, 4);				/* shr r10, 4 (depth * 32) */
	emit_leax(c, true, AX, STK, AX, slot);				/* lea r10, [run.jit_loop + r10] */
	emit_store(c, 8, AX, 0, RDI);					/* mov [r10], rdi (n) */
	emit_store(c, 8, AX, 8, RDX);					/* mov [r10+8], rdx (ctx) */
	emit_store(c, 8, AX, 16, RBX);					/* mov [r10+16], rbx (r6) */
	emit_store(c, 8, AX, 24, R13);					/* mov [r10+24], r13 (r7) */
	emit_mov(c, true, RBX, AX);					/* mov rbx, r10 */
	emit_zero(c, R13);						/* xor r13d, r13d (i) */
	uint32_t loop = (uint32_t)c->len;
	emit_mov(c, true, RDI, R13);					/* .loop: mov rdi, r13 */
	emit_load(c, 8, false, RSI, RBX, 8);				/* mov rsi, [rbx+8] */
	gen_frame_call(c, -1, insn_target(c, t), c->fn_info[t]);	/* call callback */
	emit_alu_imm(c, true, EXT_ADD, R13, 1);				/* add r13, 1 */
	emit_alu(c, true, OPC_TEST, RAX, RAX);				/* test rax, rax */
	size_t j_stop = emit_jcc8_fwd(c, CC_NE);			/* jnz .stop */
	emit_cmp_mem(c, R13, RBX, 0);					/* cmp r13, [rbx] */
	emit_jcc(c, CC_B, loop);					/* jb .loop */
	bind8(c, j_stop);						/* .stop: */
	emit_mov(c, true, RAX, R13);					/* mov rax, r13 */
	emit_load(c, 8, false, R13, RBX, 24);				/* mov r13, [rbx+24] */
	emit_load(c, 8, false, RBX, RBX, 16);				/* mov rbx, [rbx+16] */
	bind32(c, j_flags);						/* .done: */
	bind32(c, j_big);
	bind32(c, j_none);
	return true;
}

/* A direct call of the map's function for the helper at pc: r1..rN are its
 * first arguments already, the run's CPU goes in the next one. */
static bool gen_direct_map_call(struct jctx *c, size_t pc)
{
	int row = map_helper_row(c, pc);
	size_t at;
	struct bpfvm_map *m = row >= 0 ? call_map(c, pc, &at) : NULL;
	uintptr_t fn = m ? map_direct_fn(m, map_helpers[row].call) : 0;
	if (!fn)
		return false;
	int cpu_reg = reg_map[map_helpers[row].argc + 1];
	c->dep[pc] = 1;	/* a callx entry here cannot know r1: the helper, standalone */
	emit_load(c, 4, false, cpu_reg, STK, RUN(cpu));			/* mov e(r3|r4|r5), [run.cpu] */
	emit_call_abs(c, fn);						/* movabs rax, fn ; call rax */
	return true;
}

/* --------------------------------------------------------- one insn */

/* Emit instruction pc; returns how many slots it used (lddw and fused pairs: 2). */
static size_t gen_insn_code(struct jctx *c, size_t pc)
{
	const struct vm_insn *in = &c->prog->code[pc];
	reserve(c);
	enum bpf_op op = (enum bpf_op)in->op;
	int prev_reg = c->flags_reg;
	uint8_t prev_kind = c->flags_kind;
	bool prev_w = c->flags_w;
	c->flags_reg = -1;

	if (c->skip[pc] && !c->standalone) {
		/* an lddw r1 = map or `r2 = r10; r2 += K` only an inlined lookup reads */
		zext_set(c, in->dst, false);
		if (isa_ops[op].fmt != FMT_LDDW)
			c->dep[pc + 1] = 1;	/* a callx entry at the add: standalone */
		return 2;
	}
	switch (isa_ops[op].fmt) {
	case FMT_ALU_IMM: case FMT_ALU_REG: case FMT_NEG: case FMT_END:
		return gen_alu(c, pc, in, op);
	case FMT_JA: case FMT_JA32: case FMT_JMP_IMM: case FMT_JMP_REG:
		return gen_jump(c, pc, in, op, prev_reg, prev_kind, prev_w);
	case FMT_MAY_GOTO:
		gen_may_goto(c, pc, in);
		return 1;
	case FMT_LDDW:
		if (op == OP_LDDW && in->imm && c->blind)
			emit_blind_imm64(c, reg_map[in->dst], in->imm);	/* dst = imm64 */
		else
			emit_mov_imm64(c, reg_map[in->dst], in->imm);	/* mov dst, imm64 */
		zext_set(c, in->dst, in->imm <= UINT32_MAX);
		return 2;
	case FMT_LDX: case FMT_ST: case FMT_STX: case FMT_ATOMIC:
	case FMT_LOAD_ACQ: case FMT_STORE_REL:
		gen_mem(c, pc, in, op);
		return 1;
	case FMT_LDABS: case FMT_LDIND:
		gen_ldpkt(c, in, op);
		return 1;
	case FMT_CALL: {
		if (gen_inline_loop(c, pc)) {
			state_reset(c);
			return 1;
		}
		size_t used = gen_inline_lookup(c, pc);
		if (used || gen_direct_map_call(c, pc)) {
			state_reset(c);
			return used ? used : 1;
		}
		gen_helper_call(c, -1, FN_ADDR(c->prog->helpers[in->imm].fn), L_STOP, c->plan->live_after[pc]);
		state_reset(c);
		return 1;
	}
	case FMT_CALL_KFUNC:
		gen_helper_call(c, -1, FN_ADDR(c->prog->helpers[in->imm].fn), L_ABORT, c->plan->live_after[pc]);
		state_reset(c);
		return 1;
	case FMT_CALL_LOCAL:
		gen_call_local(c, pc, in);
		state_reset(c);
		return 1;
	case FMT_CALLX:
		gen_callx(c, pc, in);
		state_reset(c);
		return 1;
	case FMT_EXIT:
		emit1(c, 0xc3);						/* ret */
		return 1;
	default:
		c->err = -EINVAL;
		return 1;
	}
}

/* Does the code for `in` leave the x86 flags alone, and the eBPF register r
 * they describe unwritten?  Register moves, loads and stores without a
 * guard, and constants other than 0 (that is an xor) do, unless the
 * constant is blinded (an xor too). */
static bool keeps_flags(const struct jctx *c, const struct vm_insn *in, int r)
{
	switch (isa_ops[in->op].fmt) {
	case FMT_ALU_IMM:
		return (in->op == OP_MOV64_IMM || in->op == OP_MOV32_IMM) && in->imm && in->dst != r &&
		       !c->blind;
	case FMT_ALU_REG:
		return BPF_OP(isa_ops[in->op].code) == BPF_MOV && in->dst != r;
	case FMT_LDDW:
		return in->imm && in->dst != r && !(c->blind && in->op == OP_LDDW);
	case FMT_LDX:
		return in->dst != r && (!c->checked || jit_access_static_ok(in));
	case FMT_ST:
		return (!c->checked || jit_access_static_ok(in)) && !c->blind;
	case FMT_STX:
		return !c->checked || jit_access_static_ok(in);
	default:
		return false;
	}
}

/* Emit instruction pc (gen_insn_code); what the flags say survives an
 * instruction that keeps them (keeps_flags), so `r &= m; r2 = r3; if r == 0`
 * tests nothing again.  Returns the slots used. */
static size_t gen_insn(struct jctx *c, size_t pc)
{
	const struct vm_insn *in = &c->prog->code[pc];
	int reg = c->flags_reg;
	uint8_t kind = c->flags_kind;
	bool w = c->flags_w;
	uint32_t at = c->flags_at;
	size_t used = gen_insn_code(c, pc);
	size_t plain = isa_ops[in->op].fmt == FMT_LDDW ? 2 : 1;	/* nothing fused */
	if (used == plain && reg >= 0 && c->flags_reg < 0 && keeps_flags(c, in, reg)) {
		flags_set(c, reg, w, kind);
		c->flags_at = at;	/* still the flags of the instruction that set them */
	}
	return used;
}

/* ------------------------------------------------- image: fixed parts */

/* uint64_t entry(r1 = rdi, r2 = rsi, run = rdx) */
static size_t gen_entry(struct jctx *c)
{
	static const uint8_t zeroed[] = { RAX, RDX, RCX, R8, RBX, R13, R14, R15 };
	reserve(c);
	emit_push(c, RBP);						/* push rbp */
	emit_push(c, RBX);						/* push rbx */
	emit_push(c, R12);						/* push r12 */
	emit_push(c, R13);						/* push r13 */
	emit_push(c, R14);						/* push r14 */
	emit_push(c, R15);						/* push r15 */
	emit_lea(c, true, STK, RDX, (int32_t)offsetof(struct bpfvm_run, stack));	/* lea r12, [run.stack] */
	emit_lea(c, true, RBP, STK, VM_STACK_TOTAL);			/* lea rbp, [r12 + TOTAL] */
	if (c->checked) {
		/* whoever started the run: helpers must check this program's pointers */
		emit_rm(c, 0, false, 0xc6, 0, STK, RUN(checked), false);	/* mov byte [run.checked], 1 */
		emit1(c, 1);
		emit_rm(c, 0, true, 0x8b, BUDGET, STK, RUN(budget), false);	/* mov r9, [run.budget] */
	}
	for (size_t i = 0; i < sizeof(zeroed); i++)
		emit_zero(c, zeroed[i]);				/* xor r32, r32 */
	emit1(c, 0xe8);							/* call body */
	emit4(c, 0);
	size_t body_call = c->len;
	if (c->checked)
		emit_rm(c, 0, true, OPC_MOV, BUDGET, STK, RUN(budget), false);	/* mov [run.budget], r9 */
	c->lbl[L_EPILOGUE] = (uint32_t)c->len;
	emit_pop(c, R15);						/* pop r15 */
	emit_pop(c, R14);						/* pop r14 */
	emit_pop(c, R13);						/* pop r13 */
	emit_pop(c, R12);						/* pop r12 */
	emit_pop(c, RBX);						/* pop rbx */
	emit_pop(c, RBP);						/* pop rbp */
	emit1(c, 0xc3);							/* ret */
	return body_call;
}

/* The depth of frame pointer rbp, in 48-byte units of machine stack: r10 =
 * (stack top - rbp) / 512 * 48.  Clobbers r10. */
static void gen_frames_size(struct jctx *c)
{
	emit_lea(c, true, AX, STK, VM_STACK_TOTAL);			/* lea r10, [stack top] */
	emit_alu(c, true, OPC_SUB, AX, RBP);				/* sub r10, rbp */
	emit_shift_imm(c, true, SH_SHR, AX, 9);				/* shr r10, 9 */
	emit_imul_imm(c, true, AX, AX, 48);				/* imul r10, r10, 48 */
}

/* uint64_t callin(args = rdi, fp = rsi, run = rdx, code = rcx, charge =
 * r8): see jit_callin_fn.  The frame is the entry's (L_EPILOGUE undoes it),
 * and the machine stack is lowered by 48 bytes for each frame above fp, as if
 * the calls that made them had been native: L_ABORT unwinds by fp's depth. */
static void gen_callin(struct jctx *c)
{
	static const uint8_t zeroed[] = { RAX, RBX, R13, R14, R15 };
	reserve(c);
	c->callin = (uint32_t)c->len;
	emit_push(c, RBP);						/* push rbp */
	emit_push(c, RBX);						/* push rbx */
	emit_push(c, R12);						/* push r12 */
	emit_push(c, R13);						/* push r13 */
	emit_push(c, R14);						/* push r14 */
	emit_push(c, R15);						/* push r15 */
	emit_lea(c, true, STK, RDX, (int32_t)offsetof(struct bpfvm_run, stack));	/* lea r12, [run.stack] */
	emit_mov(c, true, RBP, RSI);					/* mov rbp, rsi (fp) */
	emit_mov(c, true, AUX, RCX);					/* mov r11, rcx (code) */
	gen_frames_size(c);
	emit_alu(c, true, OPC_SUB, RSP, AX);				/* sub rsp, r10 */
	if (c->checked) {
		emit_rm(c, 0, true, 0x8b, BUDGET, STK, RUN(budget), false);	/* mov r9, [run.budget] */
		emit_alu(c, true, OPC_SUB, BUDGET, R8);				/* sub r9, r8 (charge) */
	}
	emit_mov(c, true, AX, RDI);					/* mov r10, rdi (args) */
	for (int r = 1; r <= 5; r++)
		emit_load(c, 8, false, reg_map[r], AX, 8 * (r - 1));	/* mov rR, [r10 + 8(R-1)] */
	for (size_t i = 0; i < sizeof(zeroed); i++)
		emit_zero(c, zeroed[i]);				/* xor r32, r32 */
	emit_call_reg(c, AUX);						/* call r11 */
	if (c->checked)
		emit_rm(c, 0, true, OPC_MOV, BUDGET, STK, RUN(budget), false);	/* mov [run.budget], r9 */
	gen_frames_size(c);						/* (rbp is fp again) */
	emit_alu(c, true, OPC_ADD, RSP, AX);				/* add rsp, r10 */
	emit_jmp(c, c->lbl[L_EPILOGUE]);				/* jmp epilogue */
}

/* call a runtime function (run, esi = pc, rdx, rcx as set), then abort */
static void gen_fault_tail(struct jctx *c, uint64_t fn)
{
	emit_run_arg(c, RDI);						/* lea rdi, [run] */
	emit_call_abs(c, fn);						/* call fn */
	emit_jmp(c, c->lbl[L_ABORT]);					/* jmp abort */
}

/* the routines every image shares */
static void gen_shared(struct jctx *c)
{
	reserve(c);
	/* abort: unwind depth * 48 bytes of frames and the body's return
	 * address; return 0 without touching run.budget */
	c->lbl[L_ABORT] = (uint32_t)c->len;
	gen_frames_size(c);
	emit_alu(c, true, OPC_ADD, RSP, AX);				/* add rsp, r10 */
	emit_alu_imm(c, true, EXT_ADD, RSP, 8);				/* add rsp, 8 */
	emit_zero(c, RAX);						/* xor eax, eax */
	emit_jmp(c, c->lbl[L_EPILOGUE]);				/* jmp epilogue */

	/* stop after a helper: an error aborts, a tail call leaves the function */
	c->lbl[L_STOP] = (uint32_t)c->len;
	emit_alu_mem_imm(c, false, EXT_CMP, STK, RUN(err), 0);		/* cmp dword [run.err], 0 */
	emit_jcc(c, CC_NE, c->lbl[L_ABORT]);				/* jne abort */
	emit_rm(c, 0, false, 0xc6, 0, STK, RUN(stop), false);		/* mov byte [run.stop], 0 */
	emit1(c, 0);
	emit1(c, 0xc3);							/* ret */

	c->lbl[L_INVALID] = (uint32_t)c->len;				/* esi = pc */
	gen_fault_tail(c, FN_ADDR(jit_rt_fault_invalid));
	c->lbl[L_DEEP] = (uint32_t)c->len;				/* esi = pc */
	gen_fault_tail(c, FN_ADDR(jit_rt_fault_deep));
	if (!c->checked)
		return;
	c->lbl[L_MEMFAULT] = (uint32_t)c->len;				/* esi = pc, r11 = address */
	emit_mov(c, true, RDX, AUX);					/* mov rdx, r11 */
	emit_mov(c, true, RCX, RBP);					/* mov rcx, rbp */
	gen_fault_tail(c, FN_ADDR(jit_rt_fault_mem));
	c->lbl[L_ALIGN] = (uint32_t)c->len;				/* esi = pc, r11 = address */
	emit_mov(c, true, RDX, AUX);					/* mov rdx, r11 */
	emit_mov(c, true, RCX, RBP);					/* mov rcx, rbp */
	gen_fault_tail(c, FN_ADDR(jit_rt_fault_align));
	c->lbl[L_BUDGET] = (uint32_t)c->len;				/* esi = pc, rdx = left */
	gen_fault_tail(c, FN_ADDR(jit_rt_fault_budget));

	/* chk_ld / chk_st: is [r11, r11 + r10) in a region (writable for
	 * chk_st)?  The first region containing it decides, as vm_mem_ok();
	 * none does: ask vm_mem_ok() (map values).  CF=0 yes, CF=1 no.
	 * Clobbers r10. */
	uint32_t ok = (uint32_t)c->len;
	emit_pop(c, RDX);						/* .ok: pop rdx */
	emit_pop(c, RCX);						/* pop rcx */
	emit_pop(c, RAX);						/* pop rax */
	emit1(c, 0xf8);							/* clc */
	emit1(c, 0xc3);							/* ret */
	uint32_t fail = (uint32_t)c->len;
	emit_pop(c, RDX);						/* .fail: pop rdx */
	emit_pop(c, RCX);						/* pop rcx */
	emit_pop(c, RAX);						/* pop rax */
	emit1(c, 0xf9);							/* stc */
	emit1(c, 0xc3);							/* ret */
	c->lbl[L_CHK_LD] = (uint32_t)c->len;
	emit_push(c, RAX);						/* push rax */
	emit_zero(c, RAX);						/* xor eax, eax (load) */
	size_t j_common = emit_jmp8_fwd(c);				/* jmp .common */
	c->lbl[L_CHK_ST] = (uint32_t)c->len;
	emit_push(c, RAX);						/* push rax */
	emit_mov_imm32(c, RAX, 1);					/* mov eax, 1 (store) */
	bind8(c, j_common);						/* .common: */
	emit_push(c, RCX);						/* push rcx */
	emit_push(c, RDX);						/* push rdx */
	emit_alu(c, true, OPC_ADD, AX, AUX);				/* add r10, r11 (end) */
	emit_rm(c, 0, false, 0x8b, RCX, STK, RUN(region_cnt), false);	/* mov ecx, [run.region_cnt] */
	emit_lea(c, true, RDX, STK, RUN(region));			/* lea rdx, [run.region] */
	emit_alu(c, false, OPC_TEST, RCX, RCX);				/* test ecx, ecx */
	size_t j_none = emit_jcc8_fwd(c, CC_LE);			/* jle .none */
	size_t loop = c->len;
	emit_cmp_mem(c, AUX, RDX, (int32_t)offsetof(struct vm_region, start));	/* .loop: cmp r11, [rdx.start] */
	size_t j_next1 = emit_jcc8_fwd(c, CC_B);			/* jb .next */
	emit_cmp_mem(c, AUX, RDX, (int32_t)offsetof(struct vm_region, end));	/* cmp r11, [rdx.end] */
	size_t j_next2 = emit_jcc8_fwd(c, CC_AE);			/* jae .next */
	emit_cmp_mem(c, AX, RDX, (int32_t)offsetof(struct vm_region, end));	/* cmp r10, [rdx.end] */
	size_t j_next3 = emit_jcc8_fwd(c, CC_A);			/* ja .next */
	emit_alu(c, false, OPC_TEST, RAX, RAX);				/* test eax, eax */
	emit_jcc(c, CC_E, ok);						/* jz .ok (a load) */
	emit_rm(c, 0, false, 0x80, EXT_CMP, RDX, (int32_t)offsetof(struct vm_region, writable), false);
	emit1(c, 0);							/* cmp byte [rdx.writable], 0 */
	emit_jcc(c, CC_NE, ok);						/* jne .ok */
	emit_jmp(c, fail);						/* jmp .fail */
	bind8(c, j_next1);						/* .next: */
	bind8(c, j_next2);
	bind8(c, j_next3);
	emit_alu_imm(c, true, EXT_ADD, RDX, (int32_t)sizeof(struct vm_region));	/* add rdx, sizeof(region) */
	emit_rr(c, 0, false, 0xff, 1, RCX, false);			/* dec ecx */
	emit_jcc(c, CC_NE, (uint32_t)loop);				/* jnz .loop */
	bind8(c, j_none);						/* .none: */
	emit_push(c, RDI);						/* push rdi */
	emit_push(c, RSI);						/* push rsi */
	emit_push(c, R8);						/* push r8 */
	emit_push(c, R9);						/* push r9 */
	emit_push(c, AX);						/* push r10 */
	emit_push(c, AUX);						/* push r11 */
	emit_mov(c, false, RCX, RAX);					/* mov ecx, eax (write) */
	emit_mov(c, true, RDX, AX);					/* mov rdx, r10 */
	emit_alu(c, true, OPC_SUB, RDX, AUX);				/* sub rdx, r11 (size) */
	emit_mov(c, true, RSI, AUX);					/* mov rsi, r11 */
	emit_run_arg(c, RDI);						/* lea rdi, [run] */
	emit_call_abs(c, FN_ADDR(jit_rt_mem_ok));			/* call jit_rt_mem_ok */
	emit_pop(c, AUX);						/* pop r11 */
	emit_pop(c, AX);						/* pop r10 */
	emit_pop(c, R9);						/* pop r9 */
	emit_pop(c, R8);						/* pop r8 */
	emit_pop(c, RSI);						/* pop rsi */
	emit_pop(c, RDI);						/* pop rdi */
	emit_rr(c, 0, false, 0x84, RAX, RAX, false);			/* test al, al */
	emit_jcc(c, CC_NE, ok);						/* jnz .ok */
	emit_jmp(c, fail);						/* jmp .fail */
}

/* the out-of-line code of stub k */
static void gen_stub(struct jctx *c, const struct stub *st)
{
	reserve(c);
	switch (st->kind) {
	case STUB_MEM: {
		/* not in the stack, region[0]: try region[1] (the input) here, as
		 * vm_mem_ok() would next; anything else in the chk routine */
		const int32_t r1 = RUN(region) + (int32_t)sizeof(struct vm_region);
		emit_mov(c, true, AUX, AX);				/* mov r11, r10 */
		emit_alu(c, true, OPC_ADD, AUX, STK);			/* add r11, r12 (address) */
		emit_alu_mem_imm(c, false, EXT_CMP, STK, RUN(region_cnt), 1);	/* cmp dword [run.region_cnt], 1 */
		size_t j_slow1 = emit_jcc8_fwd(c, CC_LE);		/* jle .slow */
		emit_cmp_mem(c, AUX, STK, r1 + (int32_t)offsetof(struct vm_region, start));
		size_t j_slow2 = emit_jcc8_fwd(c, CC_B);		/* cmp r11, [region1.start] ; jb .slow */
		emit_rm(c, 0, true, 0x8b, AX, STK, r1 + (int32_t)offsetof(struct vm_region, end), false);
		emit_alu(c, true, OPC_SUB, AX, AUX);			/* mov r10, [region1.end] ; sub r10, r11 */
		size_t j_slow3 = emit_jcc8_fwd(c, CC_B);		/* jb .slow */
		emit_alu_imm(c, true, EXT_CMP, AX, st->size);		/* cmp r10, size */
		size_t j_slow4 = emit_jcc8_fwd(c, CC_B);		/* jb .slow */
		size_t j_slow5 = 0;
		if (st->write) {
			emit_rm(c, 0, false, 0x80, EXT_CMP, STK, r1 + (int32_t)offsetof(struct vm_region, writable), false);
			emit1(c, 0);					/* cmp byte [region1.writable], 0 */
			j_slow5 = emit_jcc8_fwd(c, CC_E);		/* je .slow */
		}
		if (st->atomic) {
			emit_mov(c, true, AX, AUX);			/* mov r10, r11 */
			emit_alu(c, true, OPC_SUB, AX, STK);		/* sub r10, r12 */
		}
		emit_jmp(c, st->ret);					/* jmp back */
		bind8(c, j_slow1);					/* .slow: */
		bind8(c, j_slow2);
		bind8(c, j_slow3);
		bind8(c, j_slow4);
		if (j_slow5)
			bind8(c, j_slow5);
		emit_mov_imm32(c, AX, st->size);			/* mov r10d, size */
		emit_call_rel(c, c->lbl[st->write ? L_CHK_ST : L_CHK_LD]);	/* call chk */
		size_t j_fault = emit_jcc8_fwd(c, CC_B);		/* jc .fault */
		if (st->atomic) {
			emit_mov(c, true, AX, AUX);			/* mov r10, r11 */
			emit_alu(c, true, OPC_SUB, AX, STK);		/* sub r10, r12 */
		}
		emit_jmp(c, st->ret);					/* jmp back */
		bind8(c, j_fault);					/* .fault: */
		emit_mov_imm32(c, RSI, st->pc);				/* mov esi, pc */
		emit_jmp(c, c->lbl[L_MEMFAULT]);			/* jmp memfault */
		break;
	}
	case STUB_ALIGN:
		emit_mov(c, true, AUX, AX);				/* mov r11, r10 */
		emit_alu(c, true, OPC_ADD, AUX, STK);			/* add r11, r12 */
		emit_mov_imm32(c, RSI, st->pc);				/* mov esi, pc */
		emit_jmp(c, c->lbl[L_ALIGN]);				/* jmp align */
		break;
	case STUB_BUDGET:
		emit_lea(c, true, RDX, BUDGET, (int32_t)st->arg);	/* lea rdx, [r9 + n] (left) */
		emit_mov_imm32(c, RSI, st->pc);				/* mov esi, pc */
		emit_jmp(c, c->lbl[L_BUDGET]);				/* jmp budget */
		break;
	case STUB_DEEP:
		emit_mov_imm32(c, RSI, st->pc);				/* mov esi, pc */
		emit_jmp(c, c->lbl[L_DEEP]);				/* jmp deep */
		break;
	case STUB_NULL:
		emit_zero(c, RAX);					/* xor eax, eax */
		emit_jmp(c, insn_target(c, st->arg));			/* jmp target */
		break;
	case STUB_CB_DEEP:
		gen_fault_tail(c, FN_ADDR(jit_rt_fault_callback_deep));
		break;
	}
}

/* --------------------------------------------------------- one pass */

/* Emit the whole image with the previous pass's offsets for forward jumps. */
static void gen_image(struct jctx *c)
{
	const struct bpfvm_prog *prog = c->prog;
	size_t cnt = prog->insn_cnt;
	c->len = 0;
	c->stub_cnt = 0;
	c->in_cold = false;
	c->standalone = false;
	memset(c->dep, 0, cnt);
	size_t body_call = gen_entry(c);
	gen_shared(c);
	gen_callin(c);
	bind32(c, body_call);
	for (size_t pc = 0; pc < cnt && !c->err;) {
		c->cur_pc = pc;
		if (c->plan->leader[pc])
			state_reset(c);
		reserve(c);
		c->naddr[pc] = c->nbpos[pc] = (uint32_t)c->len;
		if (c->plan->leader[pc] && c->checked) {
			uint32_t n = c->plan->block_cnt[pc];
			emit_alu_imm(c, true, EXT_SUB, BUDGET, (int32_t)n);	/* sub r9, n */
			size_t k = new_stub(c, STUB_BUDGET, pc, n);
			emit_jcc(c, CC_B, stub_target(c, k));		/* jb .out_of_budget */
		}
		size_t n = gen_insn(c, pc);
		for (size_t k = 1; k < n && pc + k < cnt; k++)
			c->code_off[pc + k] = (uint32_t)c->len;	/* merged into pc's code */
		c->code_off[pc] = c->nbpos[pc];
		pc += n;
	}
	c->code_off[cnt] = (uint32_t)c->len;
	/* cold code: callx entries (last first: each may continue into the next) */
	c->in_cold = true;
	c->standalone = true;
	for (size_t pc = cnt; pc-- > 0 && !c->err;) {
		if (!c->dep[pc])
			continue;
		c->cur_pc = pc;
		reserve(c);
		c->naddr[pc] = (uint32_t)c->len;
		state_reset(c);
		size_t n = gen_insn(c, pc);	/* an lddw takes two slots */
		if (pc + n < cnt)
			emit_jmp(c, c->naddr[pc + n]);			/* jmp next insn */
	}
	for (size_t k = 0; k < c->stub_cnt && !c->err; k++) {
		c->nstub_off[k] = (uint32_t)c->len;
		gen_stub(c, &c->stubs[k]);
	}
	for (size_t pc = 0; pc < cnt && !c->err; pc++) {
		if (prog->code[pc].op != OP_INVALID)
			continue;
		reserve(c);
		c->naddr[pc] = (uint32_t)c->len;			/* lddw's second half */
		emit_mov_imm32(c, RSI, (uint32_t)pc);			/* mov esi, pc */
		emit_jmp(c, c->lbl[L_INVALID]);				/* jmp invalid */
	}
	c->standalone = false;
	if (!c->err && c->len > jit_x86_64_max_len)
		c->err = -E2BIG;
}

/* jump_in[t]: some jump, local call or function address (lddw) targets t */
static void mark_jump_targets(struct jctx *c)
{
	const struct vm_insn *code = c->prog->code;
	size_t cnt = c->prog->insn_cnt;
	for (size_t pc = 0; pc < cnt; pc++) {
		const struct vm_insn *in = &code[pc];
		long t = -1;
		if (in->op == OP_INVALID)
			continue;
		if (isa_is_jump((enum bpf_op)in->op) || isa_ops[in->op].fmt == FMT_CALL_LOCAL)
			t = (long)pc + 1 + in->off;
		else if (in->op == OP_LDDW_FUNC)
			t = (const struct vm_insn *)(uintptr_t)in->imm - code;
		if (t >= 0 && (size_t)t < cnt)
			c->jump_in[t] = 1;
	}
}

/* What instruction `in` means for a call to its function: FN_WRITES bits
 * for r6..r9 it writes, FN_FRAME when it needs the function to have a frame.
 * Checked code may fault anywhere, and nothing keeps its jumps inside their
 * function: there every function has a frame and saves r6..r9. */
static uint8_t fn_effect(const struct jctx *c, const struct vm_insn *in)
{
	const struct bpf_opinfo *o = &isa_ops[in->op];
	if (c->checked)
		return FN_FRAME | FN_WRITES;
	uint8_t e = in->dst == BPF_REG_10 || in->src == BPF_REG_10 ? FN_FRAME : 0;
	unsigned int w = 0;	/* the register written, when 6..9 */
	switch (o->fmt) {
	case FMT_ALU_IMM: case FMT_ALU_REG: case FMT_NEG: case FMT_END:
	case FMT_LDX: case FMT_LOAD_ACQ: case FMT_LDDW:
		w = in->dst;
		break;
	case FMT_ATOMIC:
		w = (in->imm & BPF_FETCH) || (int32_t)in->imm == BPF_XCHG ? in->src : 0;
		break;
	case FMT_CALL: case FMT_CALL_KFUNC: case FMT_CALL_LOCAL: case FMT_CALLX:
	case FMT_LDABS: case FMT_LDIND:
		e |= FN_FRAME;	/* helpers may abort or tail-call, ld_abs may abort */
		break;
	default:
		break;
	}
	if (w >= BPF_REG_6 && w <= BPF_REG_9)
		e |= (uint8_t)(1u << (w - BPF_REG_6));
	return e;
}

/* fn_info for each function: functions start at 0, at local call targets
 * and at `lddw func` targets, and run to the next start */
static void mark_functions(struct jctx *c)
{
	const struct vm_insn *code = c->prog->code;
	size_t cnt = c->prog->insn_cnt, start = 0;
	uint8_t *is_start = c->fn_info;	/* first: 1 at each start */
	is_start[0] = 1;
	for (size_t pc = 0; pc < cnt; pc++) {
		long t = -1;
		if (isa_ops[code[pc].op].fmt == FMT_CALL_LOCAL)
			t = (long)pc + 1 + code[pc].off;
		else if (code[pc].op == OP_LDDW_FUNC)
			t = (const struct vm_insn *)(uintptr_t)code[pc].imm - code;
		if (t >= 0 && (size_t)t < cnt)
			is_start[t] = 1;
	}
	uint8_t info = 0;
	for (size_t pc = 0; pc <= cnt; pc++) {
		if (pc == cnt || (pc > 0 && is_start[pc])) {
			c->fn_info[start] = info;
			start = pc;
			info = 0;
			if (pc == cnt)
				break;
		}
		if (pc != start)
			c->fn_info[pc] = 0;
		if (code[pc].op != OP_INVALID)
			info |= fn_effect(c, &code[pc]);
	}
}

int jit_arch_compile(const struct bpfvm_prog *prog, const struct jit_plan *plan,
		     struct jit_code *out, char *log, size_t log_sz)
{
	size_t cnt = prog->insn_cnt;
	struct jctx c = { .prog = prog, .plan = plan, .checked = plan->checked, .blind = plan->blind };
	c.bmi2 = !jit_x86_64_no_bmi2 && __builtin_cpu_supports("bmi2");
	if (c.blind && getrandom(&c.rng, sizeof(c.rng), GRND_NONBLOCK) != (ssize_t)sizeof(c.rng)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		c.rng = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec ^
			(uint64_t)(uintptr_t)&c;
	}
	c.rng |= 1;	/* xorshift state: never 0 */
	c.naddr = calloc(cnt, sizeof(uint32_t));
	c.bpos = calloc(cnt, sizeof(uint32_t));
	c.nbpos = calloc(cnt, sizeof(uint32_t));
	c.code_off = calloc(cnt + 1, sizeof(uint32_t));
	c.dep = calloc(cnt, 1);
	c.jump_in = calloc(cnt, 1);
	c.fn_info = calloc(cnt, 1);
	c.skip = calloc(cnt, 1);
	c.key_off = calloc(cnt, sizeof(int16_t));
	c.cap = cnt * 12 + 65536; /* typical code size: few reallocations */
	c.buf = malloc(c.cap);
	if (!c.naddr || !c.bpos || !c.nbpos || !c.code_off || !c.dep || !c.jump_in ||
	    !c.fn_info || !c.skip || !c.key_off || !c.buf) {
		c.err = -ENOMEM;
	} else {
		mark_jump_targets(&c);
		mark_functions(&c);
		plan_lookups(&c);
	}
	for (c.pass = 0; !c.err; c.pass++) {
		gen_image(&c);
		if (c.err)
			break;
		bool same = c.pass > 0 && c.len == c.prev_len && c.stub_cnt == c.prev_stub_cnt &&
			    !memcmp(c.bpos, c.nbpos, cnt * sizeof(uint32_t)) &&
			    (!c.stub_cnt || !memcmp(c.stub_off, c.nstub_off, c.stub_cnt * sizeof(uint32_t)));
		if (same)
			break;
		uint32_t *t = c.bpos;
		c.bpos = c.nbpos;
		c.nbpos = t;
		t = c.stub_off;
		c.stub_off = c.nstub_off;
		c.nstub_off = t;
		c.prev_len = c.len;
		c.prev_stub_cnt = c.stub_cnt;
		if (c.pass == MAX_PASSES)
			c.long_jumps = true;
		if (c.pass > MAX_PASSES + 4)
			c.err = -EFAULT;
	}
	free(c.bpos);
	free(c.nbpos);
	free(c.dep);
	free(c.jump_in);
	free(c.fn_info);
	free(c.skip);
	free(c.key_off);
	free(c.stubs);
	free(c.stub_off);
	free(c.nstub_off);
	if (c.err) {
		free(c.buf);
		free(c.naddr);
		free(c.code_off);
		if (log && log_sz)
			snprintf(log, log_sz, "JIT: %s", c.err == -ENOMEM ? "out of memory"
				 : c.err == -E2BIG ? "program too large"
				 : "internal error while generating code");
		return c.err;
	}
	out->buf = c.buf;
	out->len = c.len;
	out->insn_off = c.naddr;
	out->code_off = c.code_off;
	out->callin_off = c.callin;
	return 0;
}

#else /* not x86-64: no native code */

#include <errno.h>
#include <stdio.h>

#include "exec/jit.h"

bool jit_x86_64_no_bmi2;
size_t jit_x86_64_max_len;

int jit_arch_compile(const struct bpfvm_prog *prog, const struct jit_plan *plan,
		     struct jit_code *out, char *log, size_t log_sz)
{
	(void)prog, (void)plan, (void)out;
	if (log && log_sz)
		snprintf(log, log_sz, "JIT: no native code generator for this architecture");
	return -EOPNOTSUPP;
}
#endif
