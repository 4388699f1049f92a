/* bench_kernel_vs_interp.c — one program, timed in the kernel and in bpfvm.
 *
 * A fixed straight-line program (ALU, stack loads/stores, short forward
 * branches; about 1,000 instructions) runs as XDP through BPF_PROG_TEST_RUN
 * (the kernel's JIT) and through bpfvm_prog_run() in each execution mode,
 * with the same repeat count.  The mean time per run of a trivial program
 * is measured too and subtracted, so the figures are the program's own cost.
 * r0 at exit must be the same everywhere.  Without the privileges for bpf(2)
 * the kernel column is skipped; the benchmark still exits 0.
 */
#include <linux/bpf.h>
/* bpfvm/insn.h recognises <linux/bpf.h> only by the kernel-tree guard name */
#ifndef _UAPI__LINUX_BPF_H__
#define _UAPI__LINUX_BPF_H__
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpfvm.h"

#define BODY 1000
#define REPEAT 20000
#define PKT 64

static struct bpf_insn mk(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn in;
	memset(&in, 0, sizeof(in));
	in.code = code;
	in.dst_reg = dst;
	in.src_reg = src;
	in.off = off;
	in.imm = imm;
	return in;
}

/* the benchmark program; returns its length */
static size_t build(struct bpf_insn *p)
{
	size_t n = 0;
	for (uint8_t r = 0; r < 6; r++)
		p[n++] = mk(BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, 0x1234567 * (r + 1));
	for (int k = 0; k < BODY; k++) {
		uint8_t d = (uint8_t)(k % 6), s = (uint8_t)((k + 1) % 6);
		int16_t slot = (int16_t)(-8 * (k % 8 + 1));
		switch (k % 8) {
		case 0: p[n++] = mk(BPF_ALU64 | BPF_ADD | BPF_X, d, s, 0, 0); break;
		case 1: p[n++] = mk(BPF_ALU64 | BPF_XOR | BPF_K, d, 0, 0, 0x5a5a5a5 + k); break;
		case 2: p[n++] = mk(BPF_ALU64 | BPF_MUL | BPF_X, d, s, 0, 0); break;
		case 3: p[n++] = mk(BPF_ALU | BPF_RSH | BPF_K, d, 0, 0, k % 31); break;
		case 4: p[n++] = mk(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, d, slot, 0); break;
		case 5: p[n++] = mk(BPF_LDX | BPF_MEM | BPF_DW, d, BPF_REG_10, (int16_t)(slot + 8), 0); break;
		case 6: p[n++] = mk(BPF_JMP | BPF_JGT | BPF_X, d, s, 1, 0); break;
		default: p[n++] = mk(BPF_ALU64 | BPF_OR | BPF_K, d, 0, 0, 1 << (k % 30)); break;
		}
	}
	p[n++] = mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return n;
}

/* the program reads stack slots it wrote first: fill them before the body */
static size_t build_with_init(struct bpf_insn *p)
{
	size_t n = 0;
	for (int j = 1; j <= 8; j++)
		p[n++] = mk(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, (int16_t)(-8 * j), j);
	return n + build(p + n);
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));
	return r < 0 ? -errno : (int)r;
}

/* mean ns per run in the kernel, or a negative errno */
static int64_t kernel_ns(const struct bpf_insn *p, size_t n, uint32_t *retval)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = (uint64_t)(uintptr_t)p;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t)"GPL";
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0)
		return fd;
	uint8_t pkt[PKT] = { 0 };
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.data_in = (uint64_t)(uintptr_t)pkt;
	a.test.data_size_in = sizeof(pkt);
	a.test.repeat = REPEAT;
	int err = sys_bpf(BPF_PROG_TEST_RUN, &a);
	close(fd);
	if (err)
		return err;
	*retval = a.test.retval;
	return a.test.duration;
}

/* mean ns per run in bpfvm, or a negative errno (-EOPNOTSUPP: no such mode) */
static int64_t bpfvm_ns(const struct bpf_insn *p, size_t n, int mode, uint64_t *retval)
{
	struct bpfvm_prog *prog = bpfvm_prog_from_insns(p, n, NULL);
	if (!prog)
		return -errno;
	uint8_t pkt[PKT] = { 0 };
	struct bpfvm_run_opts o = BPFVM_OPTS_INIT(bpfvm_run_opts);
	o.mem = pkt;
	o.mem_sz = sizeof(pkt);
	o.repeat = REPEAT;
	o.mode = mode;
	int err = bpfvm_prog_run(prog, &o);
	bpfvm_prog_free(prog);
	if (err)
		return err;
	*retval = o.retval;
	return (int64_t)o.duration_ns;
}

static void row(const char *name, int64_t ns, int64_t base, size_t insns)
{
	if (ns < 0) {
		printf("  %-16s %s\n", name, ns == -EOPNOTSUPP ? "not available" : strerror((int)-ns));
		return;
	}
	int64_t net = ns > base ? ns - base : 0;
	printf("  %-16s %8" PRId64 " ns/run  (%" PRId64 " ns net of a trivial run, "
	       "%.2f ns per program insn)\n", name, ns, net, (double)net / (double)insns);
}

int main(void)
{
	static struct bpf_insn prog[BODY + 64];
	const struct bpf_insn trivial[2] = { mk(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 2),
					     mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0) };
	static const int modes[] = { BPFVM_EXEC_CHECKED, BPFVM_EXEC_INTERP, BPFVM_EXEC_JIT };
	static const char *names[] = { "bpfvm checked", "bpfvm interp", "bpfvm jit" };
	size_t n = build_with_init(prog);
	uint32_t kret = 0, kret0 = 0;
	uint64_t vret = 0, vret0 = 0;
	printf("bench_kernel_vs_interp: %zu-insn straight-line program, %d runs each\n", n, REPEAT);
	int64_t kbase = kernel_ns(trivial, 2, &kret0), k = kernel_ns(prog, n, &kret);
	row("kernel (JIT)", k, kbase > 0 ? kbase : 0, n);
	int mismatch = 0;
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		int64_t base = bpfvm_ns(trivial, 2, modes[m], &vret0);
		int64_t ns = bpfvm_ns(prog, n, modes[m], &vret);
		row(names[m], ns, base > 0 ? base : 0, n);
		if (ns >= 0 && k >= 0 && (uint32_t)vret != kret)
			mismatch = printf("  r0 differs: kernel 0x%x, %s 0x%" PRIx64 "\n", kret,
					  names[m], vret);
	}
	return mismatch ? 1 : 0;
}
