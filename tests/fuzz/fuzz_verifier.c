/* fuzz_verifier.c — libFuzzer target: the verifier must never accept an
 * unsafe program.
 *
 * The input becomes a program: byte 0 picks the program type (XDP, TC,
 * socket filter), each following 8-byte group one instruction, steered
 * toward valid ones (the opcode byte indexes opcodes.def's rows, registers
 * are taken modulo 11, jump offsets modulo the program's length, lddw map
 * references modulo the maps below) and an `exit` is appended.  When the
 * verifier accepts the program it runs in the fast interpreter — no
 * run-time checks: under ASan any out-of-bounds access is a crash — on
 * several packets, and then in the checked interpreter, whose verdict must
 * be "no fault".  Build with `make fuzz`; run e.g.
 *   build-fuzz/fuzz_verifier -max_total_time=1800 -timeout=10
 * (a verified program that never ends is a finding too: -timeout).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "bpfvm/pkt.h"
#include "bpfvm/verifier.h"
#include "exec/vm.h"
#include "isa/isa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAP_CNT 5
static struct bpfvm_map *maps[MAP_CNT];
static unsigned long accepted, tried;

static void setup(void)
{
	if (maps[0])
		return;
	maps[0] = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "arr", 4, 8, 4, NULL);
	maps[1] = bpfvm_map_create(BPFVM_MAP_TYPE_HASH, "hash", 4, 8, 16, NULL);
	maps[2] = bpfvm_map_create(BPFVM_MAP_TYPE_RINGBUF, "rb", 0, 0, 4096, NULL);
	maps[3] = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "arr48", 4, 48, 1, NULL);
	maps[4] = bpfvm_map_create(BPFVM_MAP_TYPE_PROG_ARRAY, "pa", 4, 4, 4, NULL);
	for (int i = 0; i < MAP_CNT; i++)
		if (!maps[i])
			abort();
}

static uint64_t hash64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* one instruction from 8 bytes, steered toward the legal rows */
static size_t make_insn(const uint8_t *b, struct bpf_insn *out, size_t pc, size_t cnt)
{
	const struct bpf_opinfo *row = &isa_ops[1 + b[0] % (OP_CNT - 1)];
	struct bpf_insn in;
	memset(&in, 0, sizeof(in));
	in.code = row->code;
	in.dst_reg = (uint8_t)(b[1] % 11);
	in.src_reg = (uint8_t)((b[1] >> 4) % 11);
	in.off = (int16_t)(b[2] | b[3] << 8);
	in.imm = (int32_t)((uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 |
			   (uint32_t)b[7] << 24);
	switch (row->sel) {
	case SEL_OFF: in.off = (int16_t)row->selval; break;
	case SEL_IMM: in.imm = row->selval; break;
	case SEL_SRC: in.src_reg = (uint8_t)row->selval; break;
	default: break;
	}
	switch (row->fmt) {
	case FMT_ALU_IMM: case FMT_ALU_REG: case FMT_NEG: case FMT_END:
		if (row->sel != SEL_OFF)
			in.off = 0;
		if (row->fmt == FMT_ALU_IMM && (b[7] & 0x80) == 0)
			in.imm = (int8_t)b[4];	/* small constants are more interesting */
		break;
	case FMT_JA: case FMT_JMP_IMM: case FMT_JMP_REG: case FMT_MAY_GOTO:
		in.off = (int16_t)((int)(in.off % (int)(cnt + 1)) - (b[3] & 1 ? (int)pc / 2 : 0));
		if (row->fmt == FMT_JMP_IMM)
			in.imm = (int8_t)b[4];
		break;
	case FMT_CALL:
		in.imm = (int32_t)(b[4] % 212);
		break;
	case FMT_CALL_LOCAL:
		in.imm = (int32_t)(in.imm % (int)(cnt + 1));
		break;
	case FMT_LDX: case FMT_ST: case FMT_STX: case FMT_ATOMIC: case FMT_LOAD_ACQ:
	case FMT_STORE_REL:
		in.off = (int16_t)((int8_t)b[2] * (b[3] & 0x40 ? 8 : 1));
		break;
	default:
		break;
	}
	out[0] = in;
	if (row->fmt == FMT_LDDW) {
		if (pc + 1 >= cnt)
			return 0;
		struct bpf_insn hi;
		memset(&hi, 0, sizeof(hi));
		if (row->selval == 5 || row->selval == 6) {	/* map_idx, map_idx_value */
			out[0].imm = (int32_t)(b[4] % MAP_CNT);
			hi.imm = row->selval == 6 ? (int32_t)(b[5] % 48) : 0;
			if (row->selval == 6)
				out[0].imm = 3;
		} else if (row->selval == 4) {	/* func */
			out[0].imm = (int32_t)(b[4] % (cnt - pc));
		} else if (row->selval != 0) {
			out[0].src_reg = 0;
		} else {
			hi.imm = (int32_t)b[5];
		}
		out[1] = hi;
		return 2;
	}
	return 1;
}

static void run_one(struct bpfvm_prog *p, const uint8_t *pkt, uint32_t len, int mode, int *err)
{
	uint8_t out[512];
	char ebuf[256] = "";
	struct bpfvm_test_run_opts o;
	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.data_in = pkt;
	o.data_size_in = len;
	o.data_out = out;
	o.data_size_out = sizeof(out);
	o.mode = mode;
	o.err_buf = ebuf;
	o.err_size = sizeof(ebuf);
	*err = bpfvm_prog_test_run(p, &o);
	if (*err == -EFAULT || *err == -ELOOP) {
		fprintf(stderr, "verified program faulted (mode %d): %s\n", mode, ebuf);
		char *t = bpfvm_disasm(bpfvm_prog_insns(p), bpfvm_prog_insn_cnt(p), BPFVM_DISASM_INDEX);
		fprintf(stderr, "%s\n", t ? t : "");
		free(t);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t types[] = { 6, 3, 1 };
	struct bpf_insn insns[256];
	setup();
	if (size < 9)
		return 0;
	uint32_t type = types[data[0] % 3];
	size_t want = (size - 1) / 8, cnt = 0;
	if (want > 200)
		want = 200;
	for (size_t i = 0; i < want && cnt + 2 < 255; i++) {
		size_t n = make_insn(data + 1 + i * 8, &insns[cnt], cnt, want + 1);
		cnt += n;
	}
	memset(&insns[cnt], 0, sizeof(insns[cnt]));
	insns[cnt].code = 0x95;	/* exit */
	cnt++;

	struct bpfvm_prog_opts po = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	po.maps = maps;
	po.map_cnt = MAP_CNT;
	struct bpfvm_prog *p = bpfvm_prog_from_insns(insns, cnt, &po);
	if (!p)
		return 0;
	p->type = type;
	tried++;
	struct bpfvm_verify_opts vo = { .sz = sizeof(vo) };
	if (bpfvm_prog_verify(p, &vo) == 0) {
		accepted++;
		if ((accepted & (accepted - 1)) == 0)
			fprintf(stderr, "fuzz_verifier: %lu of %lu programs accepted\n", accepted, tried);
		uint8_t pkt[256];
		uint64_t h = hash64(data, size);
		static const uint32_t lens[] = { 14, 15, 60, 64, 200, 256 };
		for (int k = 0; k < 6; k++) {
			for (size_t i = 0; i < sizeof(pkt); i++) {
				h = h * 6364136223846793005ull + 1442695040888963407ull;
				pkt[i] = (uint8_t)(h >> 56);
			}
			int e1, e2;
			run_one(p, pkt, lens[k], BPFVM_EXEC_INTERP, &e1);
			run_one(p, pkt, lens[k], BPFVM_EXEC_CHECKED, &e2);
		}
	}
	bpfvm_prog_free(p);
	return 0;
}
