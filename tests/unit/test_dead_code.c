/* test_dead_code.c — code no path reaches, as the kernel treats it.
 *
 * The kernel checks reserved fields and registers only in instructions its
 * verifier reaches, and rewrites the others to `ja -1` (sanitize_dead_code).
 * With BPFVM_PROG_DEFER_CHECKS bpfvm_prog_from_insns() does the same: a
 * malformed instruction is a trap until the program is verified, and after
 * verification dead slots run `ja -1`, so no execution mode meets an encoding
 * the verifier did not check.  Without the flag the program is refused at
 * once, as before.  (Verdicts against the kernel: tests/verifier/rsv-*.data.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "bpfvm.h"
#include "bpfvm/jit.h"
#include "bpfvm/verifier.h"
#include "exec/vm.h"

#define INSN(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }

static struct bpfvm_prog *load(const struct bpf_insn *in, size_t cnt, bool defer, char *log,
			       size_t log_sz)
{
	struct bpfvm_prog_opts po = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	po.flags = defer ? BPFVM_PROG_DEFER_CHECKS : 0;
	po.log_buf = log;
	po.log_size = log_sz;
	log[0] = 0;
	return bpfvm_prog_from_insns(in, cnt, &po);
}

static int run(struct bpfvm_prog *p, int mode, uint64_t *r0, char *err, size_t err_sz)
{
	struct bpfvm_run_opts ro = BPFVM_OPTS_INIT(bpfvm_run_opts);
	ro.mode = mode;
	ro.err_buf = err;
	ro.err_size = err_sz;
	err[0] = 0;
	int ret = bpfvm_prog_run(p, &ro);
	*r0 = ro.retval;
	return ret;
}

/* r0 = 7; if r0 == 7 skip the next instruction (always); <bad>; exit */
static void test_dead(struct bpf_insn bad, const char *strict_msg)
{
	struct bpf_insn in[] = {
		INSN(0xb7, 0, 0, 0, 7),		/* mov r0, 7 */
		INSN(0x15, 0, 0, 1, 7),		/* jeq r0, 7, +1 */
		bad,
		INSN(0x95, 0, 0, 0, 0),		/* exit */
	};
	char log[512], err[256];
	uint64_t r0 = 0;
	CHECK(load(in, 4, false, log, sizeof(log)) == NULL);
	CHECK_CONTAINS(log, strict_msg);

	struct bpfvm_prog *p = load(in, 4, true, log, sizeof(log));
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ(p->code[2].op, OP_INVALID);	/* a trap until verified */
	CHECK_EQ(run(p, BPFVM_EXEC_CHECKED, &r0, err, sizeof(err)), 0);
	CHECK_EQ(r0, 7);
	for (int pass = 0; pass < 2; pass++) {	/* verifying again changes nothing */
		CHECK_EQ(bpfvm_prog_verify(p, NULL), 0);
		CHECK_EQ(p->code[2].op, OP_JA);
		CHECK_EQ(p->code[2].off, -1);
		CHECK_EQ(p->code[1].op, OP_JEQ64_IMM);
		CHECK_EQ(p->code[1].off, 1);
	}
	for (int mode = BPFVM_EXEC_CHECKED; mode <= BPFVM_EXEC_JIT; mode++) {
		int ret = run(p, mode, &r0, err, sizeof(err));
		if (ret == -EOPNOTSUPP)
			continue;	/* no JIT here */
		CHECK_EQ(ret, 0);
		CHECK_EQ(r0, 7);
	}
	bpfvm_prog_free(p);
}

/* the malformed instruction reached: refused by the verifier, with the
 * kernel's message; run unverified, it traps */
static void test_reached(void)
{
	struct bpf_insn in[] = {
		INSN(0xb7, 0, 0, 0, 7),		/* mov r0, 7 */
		INSN(0x87, 0, 0, 0, 5),		/* neg r0, with imm 5 */
		INSN(0x95, 0, 0, 0, 0),		/* exit */
	};
	char log[4096], err[256];
	uint64_t r0;
	struct bpfvm_prog *p = load(in, 3, true, log, sizeof(log));
	CHECK(p != NULL);
	if (!p)
		return;
	struct bpfvm_verify_opts vo = { .sz = sizeof(vo), .log_level = 1, .log_buf = log,
					.log_size = sizeof(log) };
	CHECK_EQ(bpfvm_prog_verify(p, &vo), -EINVAL);
	CHECK_CONTAINS(log, "BPF_NEG uses reserved fields");
	CHECK_EQ(p->code[1].op, OP_INVALID);
	CHECK_EQ(run(p, BPFVM_EXEC_CHECKED, &r0, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "invalid instruction");
	CHECK(run(p, BPFVM_EXEC_JIT, &r0, err, sizeof(err)) != 0);	/* no code for a trap */
	bpfvm_prog_free(p);
}

/* checks before verification keep the kernel's words */
static void test_early(void)
{
	struct bpf_insn in[] = {
		INSN(0xb7, 0, 0, 0, 0),		/* mov r0, 0 */
		INSN(0x15, 0, 0, 1, 0),		/* jeq r0, 0, +1 */
		INSN(0x8d, 1, 0, 0, 0),		/* callx r1: not a Linux opcode */
		INSN(0x95, 0, 0, 0, 0),		/* exit */
	};
	char log[512];
	CHECK(load(in, 4, true, log, sizeof(log)) == NULL);
	CHECK_STR(log, "insn 2: unknown opcode 8d");
	in[2] = (struct bpf_insn)INSN(0x05, 0, 0, 5, 0);	/* ja +5 */
	CHECK(load(in, 4, true, log, sizeof(log)) == NULL);
	CHECK_STR(log, "insn 2: jump out of range from insn 2 to 8");
}

int main(void)
{
	test_dead((struct bpf_insn)INSN(0x87, 0, 0, 0, 5), "neg: imm must be 0, not 5");
	test_dead((struct bpf_insn)INSN(0xb7, 0, 0, 3, 1), "mov: invalid off 3");
	test_dead((struct bpf_insn)INSN(0xb7, 11, 0, 0, 1), "invalid register r11");
	test_dead((struct bpf_insn)INSN(0xdb, 10, 0, -8, 0x10), "opcode 0xdb: invalid imm 16");
	test_reached();
	test_early();
	return TEST_DONE();
}
