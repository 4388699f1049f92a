/* vkdiff.c — differential fuzzing of bpfvm's verifier against the kernel's.
 *
 * A seeded generator composes random programs out of snippets aimed at the
 * verifier's decisions (stack accesses in and out of bounds, uninitialised
 * and variable-offset; map lookups with and without null checks and with
 * bounded/unbounded value offsets; packet accesses with and without data_end
 * checks; pointer arithmetic; division by zero; helper calls with right and
 * wrong argument types; ringbuf reserve/submit/discard; bounded and unbounded
 * loops; random jumps; uninitialised registers; ctx reads/writes).  Each is
 * verified by bpfvm (prog->type XDP or SOCKET_FILTER, maps by
 * BPF_PSEUDO_MAP_IDX) and loaded into the running kernel (same map
 * definitions, log level 1).  Prints the confusion matrix; every program that
 * bpfvm accepts and the kernel rejects is minimised (instruction deletion with
 * jump fix-up, keeping the kernel's message) and printed; programs both accept
 * run in bpfvm's checked interpreter on random packets, where a fault is a
 * soundness bug.  Needs root.
 *
 * Build (from the repository root, after `make`):
 *   cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Iinclude -Isrc \
 *      -o build/tests/vkdiff tests/vkdiff/vkdiff.c build/libbpfvm.a -lpthread -lm
 * Run:  build/tests/vkdiff [--count N] [--seed S] [--show-fr N] [--logs] [--only PS] [-v]
 *       build/tests/vkdiff --fields [--logs]
 *   --show-fr N  print the first N programs the kernel accepts and bpfvm
 *                rejects (false rejects)
 *   --logs       with each program shown, the last lines of both logs
 *   --only PS    generate and compare only the program of seed PS (as
 *                printed: "seed 31000175"), whatever --count and --seed say
 *   --fields     instead: every opcode with combinations of field values, in
 *                code no path reaches and reached (what the kernel checks
 *                before verifying and where its verifier goes); prints the
 *                verdicts and the messages that differ
 * bpfvm builds its programs with BPFVM_PROG_DEFER_CHECKS, as a loader that
 * verifies does.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpfvm.h"
#include "bpfvm/pkt.h"
#include "bpfvm/verifier.h"
#include "exec/vm.h"

#define MAXI 512
#define NMAPS 5

/* ------------------------------------------------------------------ rng -- */
static uint64_t rs;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}
static int R(int n) { return (int)(rnd() % (uint64_t)n); }
static bool P(int pct) { return R(100) < pct; }
#define PICK(a) ((a)[R((int)(sizeof(a) / sizeof((a)[0])))])

/* ------------------------------------------------------------- program -- */
static struct bpf_insn prog[MAXI];
static int n;
static int ptype;	/* 6 XDP, 1 SOCKET_FILTER */

static void E(uint8_t code, int d, int s, int off, int imm)
{
	if (n >= MAXI - 4)
		return;
	struct bpf_insn in;
	memset(&in, 0, sizeof(in));
	in.code = code;
	in.dst_reg = (unsigned)d & 15;
	in.src_reg = (unsigned)s & 15;
	in.off = (int16_t)off;
	in.imm = imm;
	prog[n++] = in;
}
static void lddw_map(int d, int idx)
{
	E(0x18, d, 5 /* BPF_PSEUDO_MAP_IDX */, 0, idx);
	E(0, 0, 0, 0, 0);
}
/* forward labels: jump placeholders patched by label() */
static int pend[32], npend;
static int jfwd(uint8_t code, int d, int s, int imm)
{
	E(code, d, s, 0, imm);
	if (npend < 32)
		pend[npend++] = n - 1;
	return n - 1;
}
static void label_all(void)
{
	for (int i = 0; i < npend; i++)
		prog[pend[i]].off = (int16_t)(n - pend[i] - 1);
	npend = 0;
}

enum { MOVK = 0xb7, MOVX = 0xbf, ADDK = 0x07, ADDX = 0x0f, ANDK = 0x57, CALL = 0x85, EXIT = 0x95 };
static const uint8_t LDX[] = { 0x71, 0x69, 0x61, 0x79 };	/* b h w dw */
static const uint8_t STK[] = { 0x72, 0x6a, 0x62, 0x7a };
static const uint8_t STX[] = { 0x73, 0x6b, 0x63, 0x7b };
static const int mapvs[NMAPS] = { 8, 8, 0, 48, 4 };

static void alu(uint8_t op, int d, int s, int imm)
{
	if ((op & 0xf0) == 0xd0) {
		if (P(97))
			s = 0;
	} else if (P(97)) {
		if (op & 8)
			imm = 0;
		else
			s = 0;
	}
	E(op, d, s, 0, imm);
}

static int rsz(void) { return R(4); }
static int scratch_reg(void) { return P(90) ? 7 + R(3) : R(6); }
static int any_reg(void) { return R(11); }

/* a load or store through base+off */
static void mem_access(int base, int off)
{
	int s = rsz();
	switch (R(4)) {
	case 0: case 1: E(LDX[s], P(80) ? 0 : scratch_reg(), base, off, 0); break;
	case 2: E(STK[s], base, 0, off, R(200) - 100); break;
	default: E(STX[s], base, P(70) ? 7 + R(3) : any_reg(), off, 0); break;
	}
}

static int stack_off(void)
{
	switch (R(6)) {
	case 0: return -8 * (1 + R(64));
	case 1: return -(1 + R(520));
	case 2: return -512 - R(16);
	case 3: return R(16);
	default: return -8 * (1 + R(8));
	}
}

/* a scalar in reg r: constant, random, packet/ctx/map-derived */
static int nocall;
static void make_scalar(int r)
{
	switch (nocall ? (P(50) ? 0 : 2 + R(3)) : R(5)) {
	case 0: E(MOVK, r, 0, 0, R(300) - 20); break;
	case 1: E(CALL, 0, 0, 0, 7 /* get_prandom_u32 */); if (r) E(MOVX, r, 0, 0, 0); break;
	case 2: E(LDX[P(90) ? 2 : R(3)], r, 6, ptype == 6 ? 12 : 0 /* rx_queue / len */, 0); break;
	case 3: E(0xb4, r, 0, 0, (int)rnd()); break;
	default: E(LDX[R(4)], r, 10, -8 * (1 + R(8)), 0); break;
	}
}

static void bound(int r)
{
	switch (R(5)) {
	case 0: E(ANDK, r, 0, 0, PICK(((int[]){ 7, 15, 0xff, 0x3f, -1, 0x7fffffff }))); break;
	case 1: E(0x77, r, 0, 0, 32 + R(40)); break;	/* rsh, maybe by >= 64 */
	case 2: jfwd(P(50) ? 0x25 : 0xa5, r, 0, R(64)); break;	/* jgt / jlt r, K, skip (as a guard) */
	case 3: E(0x54, r, 0, 0, R(64)); break;	/* and32 */
	default: break;	/* unbounded */
	}
}

/* ------------------------------------------------------------ snippets -- */
static void s_stack(void)
{
	int off = stack_off();
	if (P(50)) {
		int s = rsz();
		if (P(50))
			E(STK[s], 10, 0, off, R(100));
		else
			E(STX[s], 10, scratch_reg(), off, 0);
	}
	if (P(60))
		E(LDX[rsz()], scratch_reg(), 10, P(60) ? off : stack_off(), 0);
	if (P(10)) /* atomic add on the stack */
		E(P(50) ? 0xdb : 0xc3, 10, scratch_reg(), off, P(80) ? 0 : 1 /* fetch */);
}

static void s_stack_var(void)
{
	make_scalar(3);
	bound(3);
	E(MOVX, 2, 10, 0, 0);
	if (P(30))
		E(0x87, 3, 0, 0, 0);	/* neg */
	E(P(75) ? ADDX : 0x1f, 2, 3, 0, 0);
	if (P(60))
		E(ADDK, 2, 0, 0, -8 * (1 + R(12)));
	if (P(50))
		E(LDX[rsz()], 0, 2, R(3) * -8, 0);
	else
		E(STK[rsz()], 2, 0, R(3) * -8, 1);
	label_all();
}

/* r0 = lookup(map, key) ; optionally checked */
static void lookup(int m, bool *checked)
{
	if (P(90))
		E(STK[2], 10, 0, -4, R(6));
	lddw_map(1, m);
	if (P(92)) {
		E(MOVX, 2, 10, 0, 0);
		E(ADDK, 2, 0, 0, P(90) ? -4 : stack_off());
	} else if (P(50)) {
		E(MOVX, 2, 7 + R(3), 0, 0);
	}
	E(CALL, 0, 0, 0, 1);
	*checked = P(80);
	if (*checked) {
		if (P(90))
			jfwd(0x15, 0, 0, 0);	/* jeq r0, 0, skip */
		else
			jfwd(0x55, 0, 0, 0);	/* jne r0, 0, skip: wrong way round */
	}
}

static int pick_map(void)
{
	static const int ms[] = { 0, 0, 1, 1, 3, 3, 3, 2, 4 };
	return PICK(ms);
}

static void s_map(void)
{
	int m = pick_map();
	bool chk;
	lookup(m, &chk);
	int vs = mapvs[m] ? mapvs[m] : 8;
	int off = P(70) ? R(vs) & ~7 : R(vs + 16) - 4;
	mem_access(0, off);
	if (P(20))
		E(MOVX, 7 + R(3), 0, 0, 0);	/* keep the (maybe null) value pointer */
	label_all();
}

static void s_map_var(void)
{
	int m = P(60) ? 3 : pick_map();
	bool chk;
	lookup(m, &chk);
	int vs = mapvs[m] ? mapvs[m] : 8;
	if (P(50))
		E(LDX[R(4)], 3, 0, 0, 0);
	else
		nocall = 1, make_scalar(3), nocall = 0;
	switch (R(5)) {
	case 0: E(ANDK, 3, 0, 0, vs - 1 - R(2) * 7); break;
	case 1: E(ANDK, 3, 0, 0, vs); break;
	case 2: jfwd(0x25, 3, 0, vs - R(3) * 4); break;	/* if r3 > K skip */
	case 3: jfwd(0x65, 3, 0, vs - 8); break;	/* signed: negative slips through */
	default: break;
	}
	E(P(80) ? ADDX : 0x1f, 0, 3, 0, 0);
	mem_access(0, R(3) * (P(50) ? 1 : 4) - (P(10) ? 8 : 0));
	label_all();
}

static void pkt_ptrs(void)
{
	bool right = P(85);
	int d = ptype == 6 ? 0 : 76, de = ptype == 6 ? 4 : 80;
	if (!right) {
		int t = d;
		d = ptype == 6 ? 76 : 0;
		de = t ? 4 : 80;
		if (P(50))
			d = 8;	/* data_meta */
	}
	E(LDX[2], 2, 6, d, 0);
	E(LDX[2], 3, 6, de, 0);
	if (P(5))
		E(LDX[3], 2, 6, d, 0);	/* 8-byte read of a 4-byte field */
}

static void s_ldabs(void);
static void s_pkt(void)
{
	if (ptype == 1 && P(85)) { /* no direct packet access for socket filters */
		if (P(50)) {
			s_ldabs();
		} else {
			E(MOVX, 1, 6, 0, 0);
			E(MOVK, 2, 0, 0, R(40));
			E(MOVX, 3, 10, 0, 0);
			E(ADDK, 3, 0, 0, -8 * (1 + R(4)));
			E(MOVK, 4, 0, 0, P(80) ? 1 + R(8) : R(40) - 4);
			E(CALL, 0, 0, 0, 26);
			E(LDX[rsz()], 7 + R(3), 10, -8 * (1 + R(4)), 0);
		}
		return;
	}
	pkt_ptrs();
	int need = 1 + R(40), aoff = R(44) - (P(10) ? 4 : 0);
	E(MOVX, 4, 2, 0, 0);
	E(ADDK, 4, 0, 0, need);
	if (P(80)) {
		switch (R(6)) {
		case 0: jfwd(0x2d, 4, 3, 0); break;	/* if r4 > end skip  (right) */
		case 1: jfwd(0xad, 3, 4, 0); break;	/* if end < r4 skip  (right) */
		case 2: jfwd(0x3d, 4, 3, 0); break;	/* if r4 >= end skip (right, one short) */
		case 3: jfwd(0xad, 4, 3, 0); break;	/* if r4 < end skip  (wrong) */
		case 4: jfwd(0x2d, 2, 3, 0); break;	/* checks data itself */
		default: jfwd(0x2d, 4, 3, 0); break;
		}
	}
	if (P(25)) { /* a variable offset after the check */
		E(LDX[0], 5, 2, 0, 0);
		if (P(60))
			E(ANDK, 5, 0, 0, PICK(((int[]){ 7, 15, 63, 255 })));
		E(ADDX, 2, 5, 0, 0);
		if (P(50)) { /* re-check */
			E(MOVX, 4, 2, 0, 0);
			E(ADDK, 4, 0, 0, 8);
			jfwd(0x2d, 4, 3, 0);
			aoff = R(8);
		}
	}
	mem_access(2, aoff);
	if (P(10)) /* helper invalidating packet pointers, then use */
		E(MOVX, 1, 6, 0, 0), E(MOVK, 2, 0, 0, R(9) - 4),
			E(CALL, 0, 0, 0, ptype == 6 ? 44 : 26), E(LDX[0], 0, 2, 0, 0);
	label_all();
}

static void s_ptr_arith(void)
{
	int r = 5, p;
	switch (R(4)) {
	case 0: E(MOVX, r, 10, 0, 0); p = 0; break;
	case 1: E(MOVX, r, 6, 0, 0); p = 1; break;
	case 2: { bool c; lookup(pick_map(), &c); E(MOVX, r, 0, 0, 0); p = 2; break; }
	default: pkt_ptrs(); E(MOVX, r, 2, 0, 0); p = 3; break;
	}
	static const uint8_t ops[] = { 0x07, 0x0f, 0x17, 0x1f, 0x27, 0x57, 0x87, 0x04, 0x0c, 0xa7,
				       0x47, 0x67, 0x77, 0xc7, 0xdc, 0x97, 0x37, 0xbc };
	int k = 1 + R(2);
	for (int i = 0; i < k; i++) {
		uint8_t op = PICK(ops);
		int src = P(50) ? scratch_reg() : PICK(((int[]){ 10, 6, 0, 2 }));
		int imm = P(70) ? -8 * R(5) : R(100) - 50;
		if (op == 0xdc)
			imm = 16 << R(3);
		alu(op, r, src, imm);
	}
	switch (R(5)) {
	case 0: E(MOVX, 0, r, 0, 0); break;	/* leaked as return value (overwritten below usually) */
	case 1: E(STX[3], 10, r, -16, 0); E(LDX[3], 1, 10, -16, 0); E(LDX[0], 0, 1, 0, 0); break;
	case 2: E(STX[3], 10, r, -16 + (P(30) ? 4 : 0), 0); break;
	case 3: if (p == 2 && P(50)) { lddw_map(1, 0); E(STX[3], 0, 1, 0, 0); } else mem_access(r, -8 * R(3)); break;
	default: mem_access(r, p == 0 ? -8 : 0); break;
	}
	label_all();
}

static void s_div(void)
{
	static const uint8_t k_ops[] = { 0x37, 0x97, 0x34, 0x94 }, x_ops[] = { 0x3f, 0x9f, 0x3c, 0x9c };
	int d = scratch_reg();
	if (P(50)) {
		E(PICK(k_ops), d, 0, P(50) ? 1 : 0 /* off: sdiv */, P(40) ? 0 : R(10) - 3);
	} else {
		int s = scratch_reg();
		if (P(50))
			E(MOVK, s, 0, 0, R(3));
		E(PICK(x_ops), d, s, P(80) ? 0 : 1, 0);
	}
}

static void set_arg(int a, int kind)
{
	switch (kind) {
	case 0: E(MOVX, a, 6, 0, 0); break;		/* ctx */
	case 1: E(MOVX, a, 10, 0, 0); E(ADDK, a, 0, 0, stack_off() & ~7); break;	/* stack */
	case 2: E(MOVK, a, 0, 0, R(70) - 4); break;	/* small const */
	case 3: lddw_map(a, R(NMAPS)); break;		/* map */
	case 4: break;					/* left as is */
	default: E(MOVX, a, 7 + R(3), 0, 0); break;
	}
}

static void s_helper(void)
{
	/* helper id and its right argument kinds (0 ctx, 1 stack, 2 const, 3 map) */
	static const struct { int id; int nargs; int kinds[5]; } hs[] = {
		{ 1, 2, { 3, 1 } },	   { 2, 4, { 3, 1, 1, 2 } }, { 3, 2, { 3, 1 } },
		{ 5, 0, { 0 } },	   { 7, 0, { 0 } },	     { 8, 0, { 0 } },
		{ 6, 2, { 1, 2 } },	   { 26, 4, { 0, 2, 1, 2 } }, { 44, 2, { 0, 2 } },
		{ 65, 2, { 0, 2 } },	   { 130, 4, { 3, 1, 2, 2 } }, { 14, 0, { 0 } },
		{ 12, 3, { 0, 3, 2 } },	   { 51, 3, { 3, 2, 2 } },   { 4, 3, { 1, 2, 2 } },
		{ 181, 4, { 2, 1, 1, 2 } }, { 112, 3, { 1, 2, 2 } },
	};
	int h = R((int)(sizeof(hs) / sizeof(hs[0])));
	for (int a = 0; a < hs[h].nargs; a++) {
		int kind = P(80) ? hs[h].kinds[a] : R(6);
		set_arg(a + 1, kind);
		if (kind == 1 && P(70)) /* initialise what it points to */
			for (int k = 0; k < 2; k++)
				E(STK[3], a + 1, 0, k * 8, 0);
	}
	E(CALL, 0, 0, 0, hs[h].id);
	if (P(30))
		E(MOVX, 7 + R(3), 0, 0, 0);
}

static void s_ringbuf(void)
{
	lddw_map(1, P(90) ? 2 : R(NMAPS));
	int sz = P(80) ? 8 * (1 + R(4)) : PICK(((int[]){ 0, 3, 4096, 5000, -1 }));
	if (P(85))
		E(MOVK, 2, 0, 0, sz);
	else
		make_scalar(2), E(MOVX, 2, 2, 0, 0);
	E(MOVK, 3, 0, 0, P(90) ? 0 : 1);
	E(CALL, 0, 0, 0, 131);
	bool chk = P(85);
	if (chk)
		jfwd(0x15, 0, 0, 0);
	if (P(80))
		E(STK[rsz()], 0, 0, P(80) ? R(sz > 0 && sz < 64 ? sz : 8) & ~7 : R(40), 7);
	int fin = R(10);
	if (fin < 6) {
		E(MOVX, 1, 0, 0, 0), E(MOVK, 2, 0, 0, 0), E(CALL, 0, 0, 0, P(50) ? 132 : 133);
	} else if (fin == 6) {
		E(MOVX, 1, 0, 0, 0), E(MOVK, 2, 0, 0, 0), E(CALL, 0, 0, 0, 132);
		E(MOVX, 1, 0, 0, 0), E(MOVK, 2, 0, 0, 0), E(CALL, 0, 0, 0, 133);	/* r0 clobbered: r1 = scalar */
	} else if (fin == 7) {
		E(MOVX, 1, 0, 0, 0), E(ADDK, 1, 0, 0, 8), E(MOVK, 2, 0, 0, 0), E(CALL, 0, 0, 0, 132);
	}	/* else: leaked */
	label_all();
}

static void s_loop(void)
{
	int r = 5;
	int kind = R(5);
	if (kind == 4 && P(50))
		make_scalar(r), E(ANDK, r, 0, 0, 7);
	else
		E(MOVK, r, 0, 0, kind == 3 ? 100 + R(400) : 1 + R(12));
	int top = n;
	if (P(50))
		E(STK[rsz()], 10, 0, -8 * (1 + R(4)), 1);
	if (P(kind == 2 ? 5 : 30))
		E(ADDK, 7, 0, 0, 1);
	if (kind != 2)
		E(ADDK, r, 0, 0, -1);
	int back = top - n - 1;
	E(kind == 4 ? 0x65 : 0x55 /* jsgt / jne */, r, 0, back, 0);
	if (kind == 1 && P(30))
		E(0x05, 0, 0, -1, 0);	/* ja -1: a self loop */
}

static void s_jump(void)
{
	static const uint8_t jk[] = { 0x15, 0x25, 0x35, 0x45, 0x55, 0x65, 0x75, 0xa5, 0xb5, 0xc5, 0xd5, 0x16, 0x26, 0x56, 0xa6 };
	static const uint8_t jx[] = { 0x1d, 0x2d, 0x3d, 0x5d, 0x6d, 0xad, 0xbd, 0x1e, 0x5e };
	int skip = R(5);
	if (P(60))
		E(PICK(jk), scratch_reg(), 0, skip, R(20) - 5);
	else
		E(PICK(jx), P(80) ? scratch_reg() : any_reg(), P(70) ? scratch_reg() : any_reg(), skip, 0);
	if (P(15))
		prog[n - 1].off = (int16_t)-(1 + R(n > 4 ? 4 : n)); /* backward: maybe a loop */
	/* the skipped instructions come from the following snippets; keep the
	 * target inside the program with some filler */
	for (int i = 0; i < skip; i++)
		E(MOVK, scratch_reg(), 0, 0, i);
}

static void s_uninit(void)
{
	int s = R(10);
	switch (R(3)) {
	case 0: E(MOVX, 7 + R(3), s, 0, 0); break;
	case 1: E(ADDX, 7 + R(3), s, 0, 0); break;
	default: E(LDX[rsz()], 0, s, 0, 0); break;
	}
}

static void s_ctx(void)
{
	int lim = ptype == 6 ? 24 : 192;
	int off = P(70) ? R(lim / 4) * 4 : R(lim + 8);
	int s = P(80) ? 2 : rsz();
	if (ptype == 1 && P(40))
		off = 48 + 4 * R(5);	/* cb[]: writable */
	if (P(70))
		E(LDX[s], scratch_reg(), 6, off, 0);
	else if (P(50))
		E(STX[s], 6, scratch_reg(), off, 0);
	else
		E(STK[s], 6, 0, off, 1);
}

static void s_alu(void)
{
	static const uint8_t ops[] = { 0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x47, 0x4f, 0x57, 0x5f,
				       0x67, 0x6f, 0x77, 0x7f, 0x87, 0xa7, 0xaf, 0xc7, 0xcf, 0x04,
				       0x0c, 0x24, 0x54, 0x64, 0x74, 0x84, 0xc4, 0xd4, 0xd7, 0xbc, 0xb4 };
	int k = 1 + R(3);
	for (int i = 0; i < k; i++) {
		uint8_t op = PICK(ops);
		int imm = R(80) - 10;
		if ((op & 0xf0) == 0xd0)
			imm = 16 << R(3);
		alu(op, scratch_reg(), scratch_reg(), imm);
	}
}

static void s_ldabs(void)
{
	if (ptype == 6 && P(80))
		return;
	static const uint8_t abs[] = { 0x20, 0x28, 0x30, 0x40, 0x48, 0x50 };
	uint8_t c = PICK(abs);
	E(c, 0, c >= 0x40 ? scratch_reg() : 0, 0, R(40));
}

/* a scalar through random arithmetic and comparisons, then an offset */
static void s_bounds(void)
{
	bool chk;
	lookup(3, &chk);	/* r0: value of 48 bytes (maybe null) */
	E(MOVX, 9, 0, 0, 0);
	if (P(50))
		E(LDX[R(4)], 8, 0, 0, 0);
	else
		nocall = 1, make_scalar(8), nocall = 0;
	static const uint8_t ops[] = { 0x57, 0x54, 0x77, 0x74, 0x67, 0xc7, 0xc4, 0x07, 0x04, 0x17, 0x27,
				       0x47, 0xa7, 0x87, 0x84, 0x97, 0x37, 0xbc, 0xdc, 0xd4 };
	static const uint8_t jk[] = { 0x25, 0x35, 0xa5, 0xb5, 0x65, 0x75, 0xc5, 0xd5, 0x15, 0x55, 0x45,
				      0x26, 0x36, 0xa6, 0xb6, 0x66, 0x76, 0xc6, 0xd6, 0x16, 0x56 };
	int k = 1 + R(4);
	for (int i = 0; i < k; i++) {
		if (P(50)) {
			uint8_t op = PICK(ops);
			int imm = PICK(((int[]){ 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 47, 48, 63, -1, -8, -48, 0x7fffffff, (int)0x80000000 }));
			if ((op & 0xf0) == 0xd0)
				imm = 16 << R(3);
			if ((op & 0xf0) == 0x30 || (op & 0xf0) == 0x90)
				imm = imm ? imm : 3;
			if ((op & 0xf0) == 0x60 || (op & 0xf0) == 0x70 || (op & 0xf0) == 0xc0)
				imm &= 31;
			E(op, 8, 0, 0, imm);
		} else {
			int imm = PICK(((int[]){ 0, 1, 7, 8, 40, 47, 48, 64, -1, -48, 0x7fffffff }));
			if (P(70))
				jfwd(PICK(jk), 8, 0, imm);
			else
				E(MOVK, 7, 0, 0, imm), jfwd((uint8_t)(PICK(jk) | 8), 8, 7, 0);
		}
	}
	if (P(90)) {
		E(P(85) ? ADDX : 0x0c, 9, 8, 0, 0);
		E(LDX[rsz()], 0, 9, R(3) * (P(50) ? 8 : 1) - (P(10) ? 8 : 0), 0);
	} else {
		E(MOVX, 2, 10, 0, 0);
		E(ADDK, 2, 0, 0, -64);
		E(ADDX, 2, 8, 0, 0);
		E(LDX[rsz()], 0, 2, 0, 0);
	}
	label_all();
	if (P(80))
		E(MOVK, 9, 0, 0, 0);
}

static void gen(void)
{
	n = 0;
	npend = 0;
	ptype = P(60) ? 6 : 1;
	if (P(95))
		E(MOVX, 6, 1, 0, 0);
	if (P(70)) {
		int k = 1 + R(8);
		for (int i = 0; i < k; i++)
			E(STK[3], 10, 0, -8 * (i + 1), 0);
	}
	for (int r = 7; r <= 9; r++)
		if (P(93))
			make_scalar(r);
	static void (*const sn[])(void) = {
		s_stack, s_stack_var, s_map, s_map, s_map_var, s_map_var, s_pkt, s_pkt, s_pkt,
		s_ptr_arith, s_div, s_helper, s_helper, s_ringbuf, s_loop, s_jump, s_uninit, s_ctx,
		s_ctx, s_alu, s_ldabs, s_bounds, s_bounds, s_bounds,
	};
	int k = 1 + R(4);
	for (int i = 0; i < k; i++)
		PICK(sn)();
	if (P(93))
		E(MOVK, 0, 0, 0, R(4));
	E(EXIT, 0, 0, 0, 0);
}

/* --------------------------------------------------------------- kernel -- */
struct k_map_create {
	uint32_t map_type, key_size, value_size, max_entries, map_flags, inner_map_fd, numa_node;
	char map_name[16];
	uint8_t rest[64];
};
struct k_prog_load {
	uint32_t prog_type, insn_cnt;
	uint64_t insns, license;
	uint32_t log_level, log_size;
	uint64_t log_buf;
	uint32_t kern_version, prog_flags;
	char prog_name[16];
	uint32_t prog_ifindex, expected_attach_type;
	uint8_t rest[96];
};
static long sys_bpf(int cmd, void *attr, unsigned size) { return syscall(__NR_bpf, cmd, attr, size); }

static const uint32_t mdef[NMAPS][4] = {
	{ 2, 4, 8, 4 }, { 1, 4, 8, 16 }, { 27, 0, 0, 4096 }, { 2, 4, 48, 1 }, { 3, 4, 4, 4 },
};
static int kfd[NMAPS];
/* a PROG_ARRAY is bound to the type of the first program that uses it
 * (bpf_prog_map_compatible), in the kernel and in bpfvm: the socket filters
 * get their own, or their loads fail after verification */
static int kfd_pa_socket;
static struct bpfvm_map *vmaps[NMAPS], *vmaps_socket[NMAPS];

static char klog[1 << 18], vlog[1 << 18];

/* 1 accept, 0 reject, -1 error */
static int kload(const struct bpf_insn *in, int cnt, int type)
{
	static struct bpf_insn k[MAXI];
	memcpy(k, in, sizeof(*in) * (size_t)cnt);
	for (int i = 0; i < cnt; i++)
		if (k[i].code == 0x18 && k[i].src_reg == 5) {
			k[i].src_reg = 1;
			k[i].imm = k[i].imm == 4 && type == 1 ? kfd_pa_socket
				   : k[i].imm >= 0 && k[i].imm < NMAPS ? kfd[k[i].imm] : -1;
			i++;
		}
	struct k_prog_load a;
	memset(&a, 0, sizeof(a));
	a.prog_type = (uint32_t)type;
	a.insns = (uint64_t)(uintptr_t)k;
	a.insn_cnt = (uint32_t)cnt;
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.log_level = 1;
	a.log_size = sizeof(klog);
	a.log_buf = (uint64_t)(uintptr_t)klog;
	klog[0] = 0;
	int fd = (int)sys_bpf(5, &a, sizeof(a));
	if (fd < 0 && errno == ENOSPC) {
		a.log_level = 0, a.log_size = 0, a.log_buf = 0;
		fd = (int)sys_bpf(5, &a, sizeof(a));
		if (fd < 0)
			snprintf(klog, sizeof(klog), "(log too long) %s\n", strerror(errno));
	}
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (!klog[0])
		snprintf(klog, sizeof(klog), "errno %s\n", strerror(errno));
	return 0;
}

static struct bpfvm_prog *vload(const struct bpf_insn *in, int cnt, int type, int *verdict)
{
	struct bpfvm_prog_opts po = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	po.flags = BPFVM_PROG_DEFER_CHECKS;	/* verified, as the kernel's load */
	po.maps = type == 1 ? vmaps_socket : vmaps;
	po.map_cnt = NMAPS;
	po.log_buf = vlog;
	po.log_size = sizeof(vlog);
	vlog[0] = 0;
	struct bpfvm_prog *p = bpfvm_prog_from_insns(in, (size_t)cnt, &po);
	if (!p) {
		*verdict = 0;
		size_t l = strlen(vlog);
		snprintf(vlog + l, sizeof(vlog) - l, "\n(refused at load)\n");
		return NULL;
	}
	p->type = (uint32_t)type;
	struct bpfvm_verify_opts vo = { .sz = sizeof(vo), .log_level = 1, .log_buf = vlog,
					.log_size = sizeof(vlog) };
	int e = bpfvm_prog_verify(p, &vo);
	if (e == -ENOSPC) {
		struct bpfvm_verify_opts v0 = { .sz = sizeof(v0) };
		e = bpfvm_prog_verify(p, &v0);
		snprintf(vlog, sizeof(vlog), "(log too long) %d\n", e);
	}
	*verdict = e == 0;
	return p;
}

/* the rejection message: the first line after the last instruction line */
static void msg_of(const char *log, char *out, size_t size)
{
	const char *line = log, *after = NULL;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		int idx;
		char ch;
		if (sscanf(line, "%d: %c", &idx, &ch) == 2 &&
		    (ch == '(' || ch == 'R' || (ch == 'B' && strstr(line, ": BUG_"))))
			after = nl ? nl + 1 : NULL;
		line = nl ? nl + 1 : NULL;
	}
	const char *s = after && *after ? after : log;
	/* skip state-only lines */
	size_t l = strcspn(s, "\n");
	if (l >= size)
		l = size - 1;
	memcpy(out, s, l);
	out[l] = 0;
}

/* message with numbers blanked, for grouping */
static void norm(const char *in, char *out, size_t size)
{
	size_t j = 0;
	for (size_t i = 0; in[i] && j + 2 < size; i++) {
		if ((in[i] >= '0' && in[i] <= '9') || (in[i] == '-' && in[i + 1] >= '0' && in[i + 1] <= '9')) {
			out[j++] = 'N';
			while ((in[i + 1] >= '0' && in[i + 1] <= '9') || in[i + 1] == 'x' ||
			       (in[i + 1] >= 'a' && in[i + 1] <= 'f' && in[i] != ' '))
				i++;
		} else {
			out[j++] = in[i];
		}
	}
	out[j] = 0;
}

/* ------------------------------------------------------------- grouping -- */
#define NGRP 512
struct grp { char key[200]; int count; uint64_t seed; int type; };
static struct grp fr[NGRP], fa[NGRP], rr[NGRP];
static int nfr, nfa, nrr;
static void bump(struct grp *g, int *ng, const char *key, uint64_t seed, int type)
{
	for (int i = 0; i < *ng; i++)
		if (!strcmp(g[i].key, key)) {
			g[i].count++;
			return;
		}
	if (*ng < NGRP) {
		snprintf(g[*ng].key, sizeof(g[*ng].key), "%s", key);
		g[*ng].count = 1;
		g[*ng].seed = seed;
		g[*ng].type = type;
		(*ng)++;
	}
}
static int gcmp(const void *a, const void *b) { return ((const struct grp *)b)->count - ((const struct grp *)a)->count; }

/* ------------------------------------------------------------ minimiser -- */
static int remove_insn(const struct bpf_insn *in, int cnt, int at, struct bpf_insn *out)
{
	int w = (in[at].code == 0x18 && at + 1 < cnt) ? 2 : 1;
	int m = 0;
	for (int i = 0; i < cnt; i++) {
		if (i >= at && i < at + w)
			continue;
		struct bpf_insn x = in[i];
		uint8_t cls = x.code & 7;
		bool isj = (cls == 5 || cls == 6) && (x.code & 0xf0) != 0x80 && (x.code & 0xf0) != 0x90;
		bool call_local = x.code == 0x85 && x.src_reg == 1;
		if (isj || call_local) {
			int off = call_local ? x.imm : (x.code == 0x06 ? x.imm : x.off);
			int tgt = i + off + 1;
			int ni = i > at ? i - w : i;
			int nt = tgt > at ? (tgt >= at + w ? tgt - w : at) : tgt;
			int noff = nt - ni - 1;
			if (call_local || x.code == 0x06)
				x.imm = noff;
			else
				x.off = (int16_t)noff;
		}
		out[m++] = x;
	}
	return m;
}

static bool still_fa(const struct bpf_insn *in, int cnt, int type, const char *kkey)
{
	int v;
	struct bpfvm_prog *p = vload(in, cnt, type, &v);
	if (p)
		bpfvm_prog_free(p);
	if (!v)
		return false;
	if (kload(in, cnt, type) != 0)
		return false;
	char m[256], k[256];
	msg_of(klog, m, sizeof(m));
	norm(m, k, sizeof(k));
	return !strcmp(k, kkey);
}

static int minimise(struct bpf_insn *in, int cnt, int type, const char *kkey)
{
	static struct bpf_insn tmp[MAXI];
	bool progress = true;
	while (progress) {
		progress = false;
		for (int at = cnt - 1; at >= 0; at--) {
			if (at > 0 && in[at - 1].code == 0x18)
				continue;	/* second half of lddw */
			int m = remove_insn(in, cnt, at, tmp);
			if (m > 0 && still_fa(tmp, m, type, kkey)) {
				memcpy(in, tmp, sizeof(*in) * (size_t)m);
				cnt = m;
				progress = true;
			}
		}
	}
	return cnt;
}

/* --------------------------------------------------------------- running -- */
static int run_checked(struct bpfvm_prog *p, uint64_t seed, char *err, size_t esz)
{
	static const uint32_t lens[] = { 14, 34, 60, 64, 128, 200 };
	uint8_t pkt[256], out[1024];
	uint64_t h = seed * 0x9e3779b97f4a7c15ull + 1;
	for (int k = 0; k < 4; k++) {
		for (size_t i = 0; i < sizeof(pkt); i++) {
			h = h * 6364136223846793005ull + 1442695040888963407ull;
			pkt[i] = (uint8_t)(h >> 56);
		}
		struct bpfvm_test_run_opts o;
		memset(&o, 0, sizeof(o));
		o.sz = sizeof(o);
		o.data_in = pkt;
		o.data_size_in = lens[(h >> 20) % 6];
		o.data_out = out;
		o.data_size_out = sizeof(out);
		o.mode = BPFVM_EXEC_CHECKED;
		o.err_buf = err;
		o.err_size = esz;
		err[0] = 0;
		int e = bpfvm_prog_test_run(p, &o);
		if (e == -EFAULT || e == -ELOOP || e == -EACCES)
			return e;
	}
	return 0;
}

static void print_prog(const struct bpf_insn *in, int cnt)
{
	char *t = bpfvm_disasm(in, (size_t)cnt, 0);
	printf("%s", t ? t : "(disasm failed)\n");
	free(t);
}

/* the last `lines` lines of a log, indented */
static void print_tail(const char *who, const char *log, int lines)
{
	const char *p = log + strlen(log);
	while (p > log && (p[-1] == '\n' || p[-1] == 0))
		p--;
	const char *end = p;
	int cnt = 0;
	while (p > log && cnt < lines) {
		p--;
		if (*p == '\n' && ++cnt == lines) {
			p++;
			break;
		}
	}
	printf("  %s log (tail):\n", who);
	for (const char *l = p; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		int len = (int)((nl ? nl : end) - l);
		printf("    | %.*s\n", len, l);
		l = nl ? nl + 1 : end;
	}
}

static void quiet_trace(void *ctx, int cpu, const char *msg, const char *line)
{
	(void)ctx, (void)cpu, (void)msg, (void)line;
}

/* ---------------------------------------------------------- field sweep -- */

/* the message without bpfvm's "insn N: " prefix of a load-time refusal */
static void msg_plain(const char *log, char *out, size_t size)
{
	char m[256];
	msg_of(log, m, sizeof(m));
	const char *s = m;
	unsigned pc;
	int len = 0;
	if (sscanf(m, "insn %u: %n", &pc, &len) == 1 && len > 0)
		s = m + len;
	snprintf(out, size, "%s", s);
}

/* --fields: every opcode the kernel or bpfvm knows, with each combination of
 * some values of its fields, once where no path reaches it (the kernel checks
 * little there: unknown opcodes, lddw pairs, targets, ldx fields) and once
 * reached with r0..r9 initialised (reserved fields and registers checked,
 * in the kernel's words).  Prints every verdict that differs and the
 * messages that differ, grouped; returns the number of verdicts that differ. */
static int fields_sweep(int logs)
{
	static const int offs[] = { 0, 1, -1, 8, 16, 32 };
	static const int imms[] = { 0, 1, 16, 32, 64, -1, 0x100, 0x110, 0xe1, 0xf1 };
	static const int dsts[] = { 0, 1, 10, 11 }, srcs[] = { 0, 1, 2, 10, 11 };
	long tab[2][2][2] = { { { 0 } } };	/* [reached][kernel][bpfvm] */
	int shown = 0, verdict_diff = 0;
	nfr = nfa = nrr = 0;
	for (int code = 0; code < 256; code++) {
		for (int d = 0; d < 4; d++) for (int sr = 0; sr < 5; sr++)
		for (int o = 0; o < 6; o++) for (int im = 0; im < 10; im++)
		for (int reached = 0; reached < 2; reached++) {
			if (code == 0x18 && (srcs[sr] == 1 || srcs[sr] == 2))
				continue;	/* map fds: the two sides' differ */
			int type = (code & 7) == 0 && code != 0x18 ? 1 : 6;
			n = 0;
			E(MOVK, 0, 0, 0, 0);
			int w = code == 0x18 ? 2 : 1;
			if (reached) {
				for (int r = 2; r <= 9; r++)
					E(MOVK, r, 0, 0, 0);
			} else {
				E(0x15, 0, 0, w, 0);
			}
			E((uint8_t)code, dsts[d], srcs[sr], offs[o], imms[im]);
			if (w == 2)
				E(0, 0, 0, 0, 0);
			E(EXIT, 0, 0, 0, 0);
			int v;
			struct bpfvm_prog *p = vload(prog, n, type, &v);
			if (p)
				bpfvm_prog_free(p);
			int k = kload(prog, n, type);
			if (k < 0)
				continue;
			tab[reached][k][v]++;
			char km[256], vm[256], key[600];
			msg_plain(klog, km, sizeof(km));
			msg_plain(vlog, vm, sizeof(vm));
			if (k != v) {
				verdict_diff++;
				snprintf(key, sizeof(key), "%s %02x: kernel %s, bpfvm %s", reached ? "reached" : "dead",
					 code, k ? "accepts" : km, v ? "accepts" : vm);
				bump(k ? fr : fa, k ? &nfr : &nfa, key, (uint64_t)code, type);
				if (shown++ < 20 || logs) {
					printf("\n--- %s\n", key);
					print_prog(prog, n);
				}
			} else if (!k && strcmp(km, vm)) {
				snprintf(key, sizeof(key), "%s %02x: kernel '%s', bpfvm '%s'",
					 reached ? "reached" : "dead", code, km, vm);
				bump(rr, &nrr, key, (uint64_t)code, type);
			}
		}
	}
	for (int r = 0; r < 2; r++)
		printf("%s: KA/VA %ld KA/VR %ld KR/VA %ld KR/VR %ld\n", r ? "reached" : "dead   ",
		       tab[r][1][1], tab[r][1][0], tab[r][0][1], tab[r][0][0]);
	qsort(fa, (size_t)nfa, sizeof(fa[0]), gcmp);
	qsort(fr, (size_t)nfr, sizeof(fr[0]), gcmp);
	qsort(rr, (size_t)nrr, sizeof(rr[0]), gcmp);
	printf("\nverdicts that differ (%d classes):\n", nfa + nfr);
	for (int i = 0; i < nfa; i++)
		printf("  %6d  %s\n", fa[i].count, fa[i].key);
	for (int i = 0; i < nfr; i++)
		printf("  %6d  %s\n", fr[i].count, fr[i].key);
	printf("\nboth reject, messages differ (%d classes):\n", nrr);
	for (int i = 0; i < nrr; i++)
		printf("  %6d  %s\n", rr[i].count, rr[i].key);
	return verdict_diff;
}

int main(int argc, char **argv)
{
	long count = 20000;
	uint64_t seed = 1;
	int show_fr = 0, verbose = 0, logs = 0, fields = 0;
	long long only = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = atol(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--show-fr") && i + 1 < argc)
			show_fr = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else if (!strcmp(argv[i], "--logs"))
			logs = 1;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = strtoll(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--fields"))
			fields = 1;
	}
	for (int i = 0; i < NMAPS; i++) {
		struct k_map_create a;
		memset(&a, 0, sizeof(a));
		a.map_type = mdef[i][0], a.key_size = mdef[i][1], a.value_size = mdef[i][2], a.max_entries = mdef[i][3];
		kfd[i] = (int)sys_bpf(0, &a, sizeof(a));
		vmaps[i] = bpfvm_map_create(mdef[i][0], "m", mdef[i][1], mdef[i][2], mdef[i][3], NULL);
		vmaps_socket[i] = i == 4 ? bpfvm_map_create(mdef[i][0], "m", mdef[i][1], mdef[i][2],
							    mdef[i][3], NULL)
					 : vmaps[i];
		if (kfd[i] < 0 || !vmaps[i] || !vmaps_socket[i]) {
			printf("skip: cannot create map %d: %s\n", i, strerror(errno));
			return 77;
		}
	}
	{
		struct k_map_create a;
		memset(&a, 0, sizeof(a));
		a.map_type = 3, a.key_size = 4, a.value_size = 4, a.max_entries = 4;
		kfd_pa_socket = (int)sys_bpf(0, &a, sizeof(a));
	}
	bpfvm_trace_set_callback(quiet_trace, NULL);
	if (fields)
		return fields_sweep(logs) ? 1 : 0;
	long tab[2][2] = { { 0, 0 }, { 0, 0 } };	/* [kernel][bpfvm] */
	long ran = 0, faults = 0, types[2][2][2] = { { { 0 } } };
	int fa_shown = 0;
	if (only >= 0)
		count = 1;
	for (long it = 0; it < count; it++) {
		uint64_t ps = only >= 0 ? (uint64_t)only : seed * 1000003ull + (uint64_t)it;
		rs = ps * 0x9e3779b97f4a7c15ull | 1;
		for (int w = 0; w < 4; w++)
			rnd();
		gen();
		int v;
		struct bpfvm_prog *p = vload(prog, n, ptype, &v);
		int k = kload(prog, n, ptype);
		if (k < 0)
			continue;
		tab[k][v]++;
		types[ptype == 6][k][v]++;
		char m[256], key[300];
		if (k && v) {
			char err[256];
			ran++;
			int e = run_checked(p, ps, err, sizeof(err));
			if (e) {
				faults++;
				printf("\n=== FAULT in checked run (seed %llu, type %d): %d %s\n",
				       (unsigned long long)ps, ptype, e, err);
				print_prog(prog, n);
			}
		} else if (k && !v) {
			msg_of(vlog, m, sizeof(m));
			norm(m, key, sizeof(key));
			bump(fr, &nfr, key, ps, ptype);
			if (show_fr > 0) {
				show_fr--;
				printf("\n--- false reject (seed %llu, type %d): %s\n", (unsigned long long)ps, ptype, m);
				print_prog(prog, n);
				if (logs) {
					print_tail("bpfvm", vlog, 12);
					print_tail("kernel", klog, 4);
				}
			}
		} else if (!k && !v) {
			msg_of(klog, m, sizeof(m));
			norm(m, key, sizeof(key));
			bump(rr, &nrr, key, ps, ptype);
		} else if (!k && v) {
			msg_of(klog, m, sizeof(m));
			norm(m, key, sizeof(key));
			bump(fa, &nfa, key, ps, ptype);
			if (verbose || fa_shown < 400) {
				fa_shown++;
				char kk[300];
				snprintf(kk, sizeof(kk), "%s", key);
				int orig = n;
				int mc = minimise(prog, n, ptype, kk);
				printf("\n### bpfvm accepts, kernel rejects (seed %llu, type %s, %d -> %d insns)\n"
				       "kernel: %s\n", (unsigned long long)ps, ptype == 6 ? "xdp" : "socket",
				       orig, mc, m);
				print_prog(prog, mc);
				kload(prog, mc, ptype);
				msg_of(klog, m, sizeof(m));
				printf("kernel (minimised): %s\n", m);
			}
		}
		if (p)
			bpfvm_prog_free(p);
		if (it % 1000 == 999)
			fprintf(stderr, "%ld...\n", it + 1);
	}
	long tot = tab[0][0] + tab[0][1] + tab[1][0] + tab[1][1];
	printf("\nconfusion matrix over %ld programs (seed %llu; rows: kernel, columns: bpfvm)\n", tot,
	       (unsigned long long)seed);
	printf("                 bpfvm accept  bpfvm reject\n");
	printf("kernel accept    %12ld  %12ld\n", tab[1][1], tab[1][0]);
	printf("kernel reject    %12ld  %12ld\n", tab[0][1], tab[0][0]);
	printf("agreement: %.2f%%\n", tot ? 100.0 * (double)(tab[0][0] + tab[1][1]) / (double)tot : 0.0);
	for (int t = 0; t < 2; t++)
		printf("  %-6s KA/VA %ld KA/VR %ld KR/VA %ld KR/VR %ld\n", t ? "xdp" : "socket",
		       types[t][1][1], types[t][1][0], types[t][0][1], types[t][0][0]);
	printf("both accepted, run checked on 4 packets each: %ld programs, %ld faults\n", ran, faults);
	qsort(fa, (size_t)nfa, sizeof(fa[0]), gcmp);
	qsort(fr, (size_t)nfr, sizeof(fr[0]), gcmp);
	printf("\nbpfvm accepts / kernel rejects, by kernel message (%d classes):\n", nfa);
	for (int i = 0; i < nfa; i++)
		printf("  %6d  %s  (e.g. seed %llu %s)\n", fa[i].count, fa[i].key, (unsigned long long)fa[i].seed,
		       fa[i].type == 6 ? "xdp" : "socket");
	printf("\nkernel accepts / bpfvm rejects, by bpfvm message (%d classes):\n", nfr);
	for (int i = 0; i < nfr && i < 40; i++)
		printf("  %6d  %s  (e.g. seed %llu %s)\n", fr[i].count, fr[i].key, (unsigned long long)fr[i].seed,
		       fr[i].type == 6 ? "xdp" : "socket");
	qsort(rr, (size_t)nrr, sizeof(rr[0]), gcmp);
	printf("\nboth reject, by kernel message (%d classes; top 30):\n", nrr);
	for (int i = 0; i < nrr && i < 30; i++)
		printf("  %6d  %s\n", rr[i].count, rr[i].key);
	for (int i = 0; i < NMAPS; i++) {
		close(kfd[i]);
		bpfvm_map_free(vmaps[i]);
	}
	bpfvm_map_free(vmaps_socket[4]);
	return faults ? 1 : 0;
}
