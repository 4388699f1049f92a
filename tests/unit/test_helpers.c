/* test_helpers.c — the helpers that need no maps: the printk formatter and
 * its refusals, trace sink output, probe reads of unmapped memory, strtol /
 * strtoul / strncmp results, bpf_loop through a real callback. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "exec/vm.h"
#include "helpers/helpers.h"
#include "helpers/util.h"
#include "testutil.h"

static char last_msg[256], last_line[512];
static void sink(void *ctx, int cpu, const char *msg, const char *line)
{
	(void)ctx, (void)cpu;
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
	snprintf(last_line, sizeof(last_line), "%s", line);
}

static void test_format(void)
{
	char out[128];
	uint64_t a[4] = { (uint64_t)-5, 255, 0x1122334455667788ull, 'x' };
	CHECK_EQ(helper_format(out, sizeof(out), "%d %u %x", 9, a, 3), 15);
	CHECK_STR(out, "-5 255 55667788");
	CHECK_EQ(helper_format(out, sizeof(out), "%u", 3, a, 1), 10);
	CHECK_STR(out, "4294967291");
	CHECK(helper_format(out, sizeof(out), "%lld|%5d|%-4x|%c", 17, (uint64_t[]){ (uint64_t)-7, 42, 10, 'q' }, 4) > 0);
	CHECK_STR(out, "-7|   42|a   |q");
	CHECK_EQ(helper_format(out, sizeof(out), "%llx", 5, &a[2], 1), 16);
	CHECK_STR(out, "1122334455667788");
	const char *s = "hello";
	uint64_t sp = (uint64_t)(uintptr_t)s;
	helper_format(out, sizeof(out), "[%s] 100%%", 12, &sp, 1);
	CHECK_STR(out, "[hello] 100%");
	uint8_t ip[4] = { 10, 0, 0, 1 };
	uint64_t ipp = (uint64_t)(uintptr_t)ip;
	helper_format(out, sizeof(out), "%pI4", 5, &ipp, 1);
	CHECK_STR(out, "10.0.0.1");
	/* what the kernel refuses */
	CHECK_EQ(helper_format(out, sizeof(out), "%d %d", 6, a, 1), -EINVAL);   /* too few args */
	CHECK_EQ(helper_format(out, sizeof(out), "%.2d", 5, a, 1), -EINVAL);    /* precision */
	CHECK_EQ(helper_format(out, sizeof(out), "%f", 3, a, 1), -EINVAL);      /* float */
	CHECK_EQ(helper_format(out, sizeof(out), "abc", 3, a, 0), -EINVAL);     /* no NUL */
	CHECK_EQ(helper_format(out, sizeof(out), "\x01", 2, a, 0), -EINVAL);    /* non-printable */
	/* truncation reports the full length */
	CHECK_EQ(helper_format(out, 4, "abcdef", 7, a, 0), 6);
	CHECK_STR(out, "abc");
	/* %s of unmapped memory prints nothing, never crashes */
	void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t badp = (uint64_t)(uintptr_t)bad;
	CHECK_EQ(helper_format(out, sizeof(out), "<%s>", 5, &badp, 1), 2);
	CHECK_STR(out, "<>");
	munmap(bad, 4096);
}

static void test_probe(void)
{
	char buf[16];
	void *bad = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy((char *)bad + 4096 - 3, "ab", 3);
	munmap((char *)bad + 4096, 4096);
	CHECK_EQ(helper_safe_copy(buf, (uint64_t)(uintptr_t)bad + 4090, 8), -EFAULT);
	CHECK_EQ(helper_safe_copy(buf, (uint64_t)(uintptr_t)bad + 4088, 8), 0);
	/* a string that ends right before unmapped memory is read */
	CHECK_EQ(helper_safe_copy_str(buf, (uint64_t)(uintptr_t)bad + 4093, sizeof(buf)), 3);
	CHECK_STR(buf, "ab");
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(helper_safe_copy_str(buf, (uint64_t)(uintptr_t)bad + 4096, sizeof(buf)), -EFAULT);
	CHECK_EQ(buf[0], 0);
	munmap(bad, 4096);
}

/* run a program whose r1 points at `mem` */
static uint64_t run_prog(const struct bpf_insn *insns, size_t cnt, void *mem, size_t mem_sz,
			 int mode, int *err)
{
	char log[256] = "", ebuf[256] = "";
	struct bpfvm_prog_opts po = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	po.log_buf = log;
	po.log_size = sizeof(log);
	struct bpfvm_prog *p = bpfvm_prog_from_insns(insns, cnt, &po);
	if (!p) {
		fprintf(stderr, "load: %s\n", log);
		*err = -errno;
		return 0;
	}
	struct bpfvm_run_opts ro = BPFVM_OPTS_INIT(bpfvm_run_opts);
	ro.mem = mem;
	ro.mem_sz = mem_sz;
	ro.mode = mode;
	ro.err_buf = ebuf;
	ro.err_size = sizeof(ebuf);
	*err = bpfvm_prog_run(p, &ro);
	if (*err)
		fprintf(stderr, "run: %s\n", ebuf);
	bpfvm_prog_free(p);
	return ro.retval;
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static void test_loop_and_strings(void)
{
	/* r6 = mem; bpf_loop(10, cb, r6, 0); r0 = *(u64 *)mem; exit
	 * cb(i, ctx): *(u64 *)ctx += i; return i == 6 */
	struct bpf_insn prog[] = {
		INSN(0xbf, 6, 1, 0, 0),		/* 0: r6 = r1 */
		INSN(0xb7, 1, 0, 0, 10),	/* 1: r1 = 10 */
		INSN(0x18, 2, 4, 0, 6),		/* 2: r2 = func (pc 9) */
		INSN(0x00, 0, 0, 0, 0),
		INSN(0xbf, 3, 6, 0, 0),		/* 4: r3 = r6 */
		INSN(0xb7, 4, 0, 0, 0),		/* 5: r4 = 0 */
		INSN(0x85, 0, 0, 0, 181),	/* 6: call bpf_loop */
		INSN(0x63, 6, 0, 8, 0),		/* 7: *(u32 *)(r6+8) = r0 (iterations) */
		INSN(0x95, 0, 0, 0, 0),		/* 8: exit */
		INSN(0x79, 3, 2, 0, 0),		/* 9: r3 = *(u64 *)(r2+0) */
		INSN(0x0f, 3, 1, 0, 0),		/* 10: r3 += r1 */
		INSN(0x7b, 2, 3, 0, 0),		/* 11: *(u64 *)(r2+0) = r3 */
		INSN(0xb7, 0, 0, 0, 0),		/* 12: r0 = 0 */
		INSN(0x55, 1, 0, 1, 6),		/* 13: if r1 != 6 goto +1 */
		INSN(0xb7, 0, 0, 0, 1),		/* 14: r0 = 1 */
		INSN(0x95, 0, 0, 0, 0),		/* 15: exit */
	};
	for (int mode = BPFVM_EXEC_CHECKED; mode <= BPFVM_EXEC_JIT; mode++) {
		uint64_t mem[2] = { 0, 0 };
		int err;
		run_prog(prog, sizeof(prog) / sizeof(prog[0]), mem, sizeof(mem), mode, &err);
		CHECK_EQ(err, 0);
		CHECK_EQ(mem[0], 0 + 1 + 2 + 3 + 4 + 5 + 6);
		CHECK_EQ((uint32_t)mem[1], 7);
	}

	/* strtol(" -0x1fz", 7, 0, &res) consumes 6 characters, res = -31 */
	struct bpf_insn st[] = {
		INSN(0xbf, 6, 1, 0, 0),		/* r6 = r1 */
		INSN(0xb7, 2, 0, 0, 7),		/* r2 = 7 */
		INSN(0xb7, 3, 0, 0, 0),		/* r3 = 0 */
		INSN(0xbf, 4, 6, 0, 0),		/* r4 = r6 */
		INSN(0x07, 4, 0, 0, 8),		/* r4 += 8 */
		INSN(0x85, 0, 0, 0, 105),	/* call strtol */
		INSN(0x95, 0, 0, 0, 0),
	};
	char mem[16] = " -0x1fz";
	int err;
	uint64_t r0 = run_prog(st, 7, mem, sizeof(mem), BPFVM_EXEC_CHECKED, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(r0, 6);
	int64_t res;
	memcpy(&res, mem + 8, 8);
	CHECK_EQ(res, -31);
	/* the result pointer outside the program's memory stops the run */
	st[4] = INSN(0x07, 4, 0, 0, 4096);
	run_prog(st, 7, mem, sizeof(mem), BPFVM_EXEC_CHECKED, &err);
	CHECK_EQ(err, -EFAULT);
}

static void test_trace_sink(void)
{
	/* store "hi %d\n\0" on the stack, trace_printk(fmt, 7, 42) */
	struct bpf_insn p[] = {
		INSN(0x18, 1, 0, 0, 0x64252069),	/* r1 = "i %d" .. */
		INSN(0x00, 0, 0, 0, 0x0000000a),	/* .. "\n\0\0\0" -> bytes "i %d\n" */
		INSN(0x7b, 10, 1, -8, 0),		/* *(u64 *)(r10-8) = r1 */
		INSN(0xbf, 1, 10, 0, 0),		/* r1 = r10 */
		INSN(0x07, 1, 0, 0, -8),		/* r1 -= 8 */
		INSN(0xb7, 2, 0, 0, 6),			/* r2 = 6 */
		INSN(0xb7, 3, 0, 0, 42),		/* r3 = 42 */
		INSN(0x85, 0, 0, 0, 6),			/* call trace_printk */
		INSN(0x95, 0, 0, 0, 0),
	};
	bpfvm_trace_set_callback(sink, NULL);
	int err;
	uint64_t r0 = run_prog(p, 9, NULL, 0, BPFVM_EXEC_CHECKED, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(r0, 5);
	CHECK_STR(last_msg, "i 42\n");
	CHECK_CONTAINS(last_line, "[000] ..... ");
	CHECK_CONTAINS(last_line, ": bpf_trace_printk: i 42");
	bpfvm_trace_set_callback(NULL, NULL);
	bpfvm_trace_set_fd(2);
}

int main(void)
{
	test_format();
	test_probe();
	test_loop_and_strings();
	test_trace_sink();
	return TEST_DONE();
}
