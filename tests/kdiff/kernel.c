/* kernel.c — the kernel side: load a program as XDP and test-run it.
 *
 * Raw bpf(2) syscalls, no libbpf.  A program is loaded without a verifier log
 * first (fast); only when the verifier refuses it is it loaded again with a
 * log so the caller can show why.  The run is one BPF_PROG_TEST_RUN with
 * repeat 1 on a KD_IO_SIZE-byte packet holding the input; the program works
 * on the packet in place and returns XDP_PASS, and data_out hands the bytes
 * back.
 */
#include <linux/bpf.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kdiff.h"

#define XDP_PASS_RET 2

_Static_assert(KD_F_TEST_STATE_FREQ == BPF_F_TEST_STATE_FREQ, "BPF_F_TEST_STATE_FREQ");

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	long ret = syscall(__NR_bpf, cmd, attr, sizeof(*attr));
	return ret < 0 ? -errno : (int)ret;
}

static int prog_load(const struct bpf_insn *insns, size_t cnt, unsigned flags,
		     char *log, size_t log_size)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_XDP;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)cnt;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	attr.prog_flags = flags;
	if (log && log_size) {
		log[0] = 0;
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = (uint32_t)log_size;
		attr.log_level = 1;
	}
	return sys_bpf(BPF_PROG_LOAD, &attr);
}

static int test_run(int fd, const uint8_t *input, uint8_t *out, uint32_t *retval)
{
	uint8_t in[KD_IO_SIZE], buf[KD_IO_SIZE + 256];
	memcpy(in, input, KD_IO_SIZE);
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = (uint32_t)fd;
	attr.test.data_in = (uint64_t)(uintptr_t)in;
	attr.test.data_size_in = KD_IO_SIZE;
	attr.test.data_out = (uint64_t)(uintptr_t)buf;
	attr.test.data_size_out = sizeof(buf);
	attr.test.repeat = 1;
	int err = sys_bpf(BPF_PROG_TEST_RUN, &attr);
	if (err)
		return err;
	if (attr.test.data_size_out < KD_IO_SIZE)
		return -EMSGSIZE;
	*retval = attr.test.retval;
	memcpy(out, buf, KD_IO_SIZE);
	return 0;
}

int kd_kernel_probe(char *why, size_t size)
{
	struct bpf_insn prog[2];
	memset(prog, 0, sizeof(prog));
	prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
	prog[0].imm = XDP_PASS_RET;
	prog[1].code = BPF_JMP | BPF_EXIT;
	int fd = prog_load(prog, 2, 0, NULL, 0);
	if (fd < 0) {
		snprintf(why, size, "the kernel refuses BPF_PROG_LOAD of a trivial XDP program: %s",
			 strerror(-fd));
		return fd;
	}
	uint8_t in[KD_IO_SIZE] = { 0 }, out[KD_IO_SIZE];
	uint32_t ret = 0;
	int err = test_run(fd, in, out, &ret);
	close(fd);
	if (err || ret != XDP_PASS_RET) {
		snprintf(why, size, "BPF_PROG_TEST_RUN of a trivial XDP program: %s (retval %u)",
			 err ? strerror(-err) : "wrong result", ret);
		return err ? err : -EIO;
	}
	return 0;
}

int kd_kernel_run(const struct bpf_insn *insns, size_t cnt, unsigned prog_flags,
		  const uint8_t *input, uint8_t *out, char *log, size_t log_size)
{
	int fd = prog_load(insns, cnt, prog_flags, NULL, 0);
	if (fd < 0) {
		if (log && log_size)
			(void)prog_load(insns, cnt, prog_flags, log, log_size);
		return KD_REFUSED;
	}
	uint32_t ret = 0;
	int err = test_run(fd, input, out, &ret);
	close(fd);
	if (err) {
		if (log && log_size)
			snprintf(log, log_size, "BPF_PROG_TEST_RUN: %s", strerror(-err));
		return -EIO;
	}
	if (ret != XDP_PASS_RET) {
		if (log && log_size)
			snprintf(log, log_size, "program returned %u, not XDP_PASS (packet too short?)", ret);
		return -EIO;
	}
	return 0;
}
