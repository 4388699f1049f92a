/* seccomp.c — seccomp-bpf filters: the kernel's checks, evaluation against a
 * struct seccomp_data, the actions' names, and small system call tables.
 *
 * bpfvm_seccomp_compile() does what seccomp_prepare_filter() does with a user's
 * filter: bpf_check_classic() (cbpf_check), seccomp_check_filter() (below), then
 * the translation to eBPF.  The filter's result is read as the kernel's
 * __seccomp_filter() reads it: the upper 16 bits pick the action, the lower 16
 * are its data, an unknown action kills the process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hooks/cbpf.h"
#include "hooks/seccomp.h"

_Static_assert(sizeof(struct bpfvm_seccomp_data) == 64, "struct seccomp_data is 64 bytes");

#define MAX_ERRNO 4095

int seccomp_check(struct bpfvm_sock_filter *f, size_t cnt, char *log, size_t log_sz)
{
	for (size_t pc = 0; pc < cnt; pc++) {
		struct bpfvm_sock_filter *ft = &f[pc];
		switch (ft->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (ft->k >= sizeof(struct bpfvm_seccomp_data) || ft->k & 3) {
				if (log && log_sz)
					snprintf(log, log_sz,
						 "insn %zu: ld [%u]: seccomp filters may only load aligned "
						 "32-bit words of struct seccomp_data (offsets 0, 4, ... %zu)",
						 pc, ft->k, sizeof(struct bpfvm_seccomp_data) - 4);
				return -EINVAL;
			}
			ft->code = CBPF_LDX_W_ABS;
			continue;
		case BPF_LD | BPF_W | BPF_LEN:
			ft->code = BPF_LD | BPF_IMM;
			ft->k = sizeof(struct bpfvm_seccomp_data);
			continue;
		case BPF_LDX | BPF_W | BPF_LEN:
			ft->code = BPF_LDX | BPF_IMM;
			ft->k = sizeof(struct bpfvm_seccomp_data);
			continue;
		/* the instructions seccomp allows as they are */
		case BPF_RET | BPF_K:
		case BPF_RET | BPF_A:
		case BPF_ALU | BPF_ADD | BPF_K:
		case BPF_ALU | BPF_ADD | BPF_X:
		case BPF_ALU | BPF_SUB | BPF_K:
		case BPF_ALU | BPF_SUB | BPF_X:
		case BPF_ALU | BPF_MUL | BPF_K:
		case BPF_ALU | BPF_MUL | BPF_X:
		case BPF_ALU | BPF_DIV | BPF_K:
		case BPF_ALU | BPF_DIV | BPF_X:
		case BPF_ALU | BPF_AND | BPF_K:
		case BPF_ALU | BPF_AND | BPF_X:
		case BPF_ALU | BPF_OR | BPF_K:
		case BPF_ALU | BPF_OR | BPF_X:
		case BPF_ALU | BPF_XOR | BPF_K:
		case BPF_ALU | BPF_XOR | BPF_X:
		case BPF_ALU | BPF_LSH | BPF_K:
		case BPF_ALU | BPF_LSH | BPF_X:
		case BPF_ALU | BPF_RSH | BPF_K:
		case BPF_ALU | BPF_RSH | BPF_X:
		case BPF_ALU | BPF_NEG:
		case BPF_LD | BPF_IMM:
		case BPF_LDX | BPF_IMM:
		case BPF_MISC | BPF_TAX:
		case BPF_MISC | BPF_TXA:
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
		case BPF_JMP | BPF_JA:
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JEQ | BPF_X:
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_X:
		case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGT | BPF_X:
		case BPF_JMP | BPF_JSET | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_X:
			continue;
		default:
			if (log && log_sz) {
				const char *m = cbpf_mnemonic(ft->code);
				const char *what = BPF_CLASS(ft->code) == BPF_LD ||
							   BPF_CLASS(ft->code) == BPF_LDX
						   ? "packet load"
						   : "instruction";
				snprintf(log, log_sz,
					 "insn %zu: %s (opcode 0x%02x) is a %s seccomp filters may not use",
					 pc, m ? m : "?", ft->code, what);
			}
			return -EINVAL;
		}
	}
	return 0;
}

BPFVM_API struct bpfvm_prog *bpfvm_seccomp_compile(const struct bpfvm_sock_filter *insns,
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
	struct bpfvm_sock_filter *f = malloc(insn_cnt * sizeof(*f));
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(f, insns, insn_cnt * sizeof(*f));
	struct bpf_insn *ebpf = NULL;
	size_t cnt = 0;
	struct bpfvm_prog *prog = NULL;
	err = seccomp_check(f, insn_cnt, log, log_sz);
	if (!err)
		err = cbpf_translate(f, insn_cnt, &ebpf, &cnt, log, log_sz);
	if (!err) {
		prog = cbpf_prog_new(ebpf, cnt, opts && opts->name ? opts->name : "seccomp", log,
				     log_sz);
		err = prog ? 0 : -errno;
	}
	free(ebpf);
	free(f);
	errno = -err;
	return prog;
}

BPFVM_API int bpfvm_seccomp_run(struct bpfvm_prog *prog, const struct bpfvm_seccomp_data *sd,
				uint32_t *ret)
{
	if (!prog || !sd || !ret)
		return -EINVAL;
	uint64_t r0 = 0;
	int err = cbpf_exec(prog, sd, sizeof(*sd), NULL, 0, false, &r0, NULL, 0);
	*ret = (uint32_t)r0;
	return err;
}

BPFVM_API int bpfvm_seccomp_action_str(uint32_t ret, char *buf, size_t size)
{
	uint32_t data = ret & SECCOMP_RET_DATA;
	switch (ret & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS: return snprintf(buf, size, "KILL_PROCESS");
	case SECCOMP_RET_KILL_THREAD: return snprintf(buf, size, "KILL_THREAD");
	case SECCOMP_RET_TRAP: return snprintf(buf, size, "TRAP(%u)", data);
	case SECCOMP_RET_ERRNO:
		return snprintf(buf, size, "ERRNO(%u)", data > MAX_ERRNO ? MAX_ERRNO : data);
	case SECCOMP_RET_USER_NOTIF: return snprintf(buf, size, "USER_NOTIF");
	case SECCOMP_RET_TRACE: return snprintf(buf, size, "TRACE(%u)", data);
	case SECCOMP_RET_LOG: return snprintf(buf, size, "LOG");
	case SECCOMP_RET_ALLOW: return snprintf(buf, size, "ALLOW");
	default: /* __seccomp_filter(): anything else kills the process */
		return snprintf(buf, size, "KILL_PROCESS");
	}
}

/* ------------------------------------------------------ architectures */

static const struct {
	const char *name;
	uint32_t arch;
} arches[] = {
	{ "x86_64", BPFVM_AUDIT_ARCH_X86_64 }, { "x86-64", BPFVM_AUDIT_ARCH_X86_64 },
	{ "amd64", BPFVM_AUDIT_ARCH_X86_64 },  { "i386", BPFVM_AUDIT_ARCH_I386 },
	{ "x86", BPFVM_AUDIT_ARCH_I386 },      { "i686", BPFVM_AUDIT_ARCH_I386 },
	{ "aarch64", BPFVM_AUDIT_ARCH_AARCH64 }, { "arm64", BPFVM_AUDIT_ARCH_AARCH64 },
};

BPFVM_API uint32_t bpfvm_seccomp_arch(const char *name)
{
	for (size_t i = 0; name && i < sizeof(arches) / sizeof(arches[0]); i++)
		if (!strcasecmp(name, arches[i].name))
			return arches[i].arch;
	return 0;
}

/* a common subset of each architecture's system call table */
struct sysent {
	int nr;
	const char *name;
};

static const struct sysent sys_x86_64[] = {
	{ 0, "read" }, { 1, "write" }, { 2, "open" }, { 3, "close" }, { 4, "stat" },
	{ 5, "fstat" }, { 6, "lstat" }, { 7, "poll" }, { 8, "lseek" }, { 9, "mmap" },
	{ 10, "mprotect" }, { 11, "munmap" }, { 12, "brk" }, { 13, "rt_sigaction" },
	{ 14, "rt_sigprocmask" }, { 15, "rt_sigreturn" }, { 16, "ioctl" }, { 17, "pread64" },
	{ 18, "pwrite64" }, { 19, "readv" }, { 20, "writev" }, { 21, "access" }, { 22, "pipe" },
	{ 23, "select" }, { 24, "sched_yield" }, { 25, "mremap" }, { 28, "madvise" },
	{ 32, "dup" }, { 33, "dup2" }, { 35, "nanosleep" }, { 39, "getpid" },
	{ 40, "sendfile" }, { 41, "socket" }, { 42, "connect" }, { 43, "accept" },
	{ 44, "sendto" }, { 45, "recvfrom" }, { 46, "sendmsg" }, { 47, "recvmsg" },
	{ 48, "shutdown" }, { 49, "bind" }, { 50, "listen" }, { 54, "setsockopt" },
	{ 55, "getsockopt" }, { 56, "clone" }, { 57, "fork" }, { 58, "vfork" },
	{ 59, "execve" }, { 60, "exit" }, { 61, "wait4" }, { 62, "kill" }, { 63, "uname" },
	{ 72, "fcntl" }, { 73, "flock" }, { 74, "fsync" }, { 77, "ftruncate" },
	{ 78, "getdents" }, { 79, "getcwd" }, { 80, "chdir" }, { 82, "rename" },
	{ 83, "mkdir" }, { 84, "rmdir" }, { 87, "unlink" }, { 89, "readlink" },
	{ 90, "chmod" }, { 92, "chown" }, { 95, "umask" }, { 96, "gettimeofday" },
	{ 101, "ptrace" }, { 102, "getuid" }, { 104, "getgid" }, { 105, "setuid" },
	{ 106, "setgid" }, { 107, "geteuid" }, { 108, "getegid" }, { 110, "getppid" },
	{ 157, "prctl" }, { 158, "arch_prctl" }, { 165, "mount" }, { 186, "gettid" },
	{ 202, "futex" }, { 217, "getdents64" }, { 218, "set_tid_address" },
	{ 228, "clock_gettime" }, { 230, "clock_nanosleep" }, { 231, "exit_group" },
	{ 232, "epoll_wait" }, { 234, "tgkill" }, { 257, "openat" }, { 262, "newfstatat" },
	{ 263, "unlinkat" }, { 273, "set_robust_list" }, { 288, "accept4" },
	{ 290, "eventfd2" }, { 291, "epoll_create1" }, { 292, "dup3" }, { 293, "pipe2" },
	{ 302, "prlimit64" }, { 317, "seccomp" }, { 318, "getrandom" },
	{ 319, "memfd_create" }, { 321, "bpf" }, { 322, "execveat" }, { 332, "statx" },
	{ 334, "rseq" }, { 335, "uretprobe" }, { 336, "uprobe" }, { 435, "clone3" },
	{ 436, "close_range" }, { 437, "openat2" },
};

static const struct sysent sys_aarch64[] = {
	{ 19, "eventfd2" }, { 20, "epoll_create1" }, { 22, "epoll_pwait" }, { 23, "dup" },
	{ 24, "dup3" }, { 25, "fcntl" }, { 29, "ioctl" }, { 34, "mkdirat" },
	{ 35, "unlinkat" }, { 56, "openat" }, { 57, "close" }, { 59, "pipe2" },
	{ 61, "getdents64" }, { 62, "lseek" }, { 63, "read" }, { 64, "write" },
	{ 65, "readv" }, { 66, "writev" }, { 67, "pread64" }, { 68, "pwrite64" },
	{ 72, "pselect6" }, { 73, "ppoll" }, { 79, "newfstatat" }, { 80, "fstat" },
	{ 93, "exit" }, { 94, "exit_group" }, { 96, "set_tid_address" }, { 98, "futex" },
	{ 99, "set_robust_list" }, { 101, "nanosleep" }, { 113, "clock_gettime" },
	{ 124, "sched_yield" }, { 129, "kill" }, { 131, "tgkill" }, { 134, "rt_sigaction" },
	{ 135, "rt_sigprocmask" }, { 139, "rt_sigreturn" }, { 160, "uname" },
	{ 167, "prctl" }, { 172, "getpid" }, { 174, "getuid" }, { 175, "geteuid" },
	{ 176, "getgid" }, { 177, "getegid" }, { 178, "gettid" }, { 198, "socket" },
	{ 200, "bind" }, { 201, "listen" }, { 202, "accept" }, { 203, "connect" },
	{ 206, "sendto" }, { 207, "recvfrom" }, { 214, "brk" }, { 215, "munmap" },
	{ 216, "mremap" }, { 220, "clone" }, { 221, "execve" }, { 222, "mmap" },
	{ 226, "mprotect" }, { 233, "madvise" }, { 242, "accept4" }, { 260, "wait4" },
	{ 261, "prlimit64" }, { 277, "seccomp" }, { 278, "getrandom" },
	{ 279, "memfd_create" }, { 280, "bpf" }, { 281, "execveat" }, { 291, "statx" },
	{ 293, "rseq" }, { 435, "clone3" }, { 436, "close_range" }, { 437, "openat2" },
};

static const struct sysent sys_i386[] = {
	{ 1, "exit" }, { 2, "fork" }, { 3, "read" }, { 4, "write" }, { 5, "open" },
	{ 6, "close" }, { 11, "execve" }, { 19, "lseek" }, { 20, "getpid" },
	{ 24, "getuid" }, { 37, "kill" }, { 41, "dup" }, { 45, "brk" }, { 54, "ioctl" },
	{ 55, "fcntl" }, { 63, "dup2" }, { 90, "mmap" }, { 91, "munmap" },
	{ 102, "socketcall" }, { 120, "clone" }, { 122, "uname" }, { 125, "mprotect" },
	{ 145, "readv" }, { 146, "writev" }, { 162, "nanosleep" }, { 172, "prctl" },
	{ 173, "rt_sigreturn" }, { 174, "rt_sigaction" }, { 175, "rt_sigprocmask" },
	{ 192, "mmap2" }, { 221, "fcntl64" }, { 224, "gettid" }, { 240, "futex" },
	{ 243, "set_thread_area" }, { 252, "exit_group" }, { 265, "clock_gettime" },
	{ 270, "tgkill" }, { 295, "openat" }, { 354, "seccomp" }, { 355, "getrandom" },
	{ 356, "memfd_create" }, { 357, "bpf" }, { 358, "execveat" }, { 359, "socket" },
	{ 362, "connect" }, { 383, "statx" }, { 435, "clone3" }, { 437, "openat2" },
};

static const struct sysent *table_for(uint32_t arch, size_t *cnt)
{
#define TABLE(t) (*cnt = sizeof(t) / sizeof(t[0]), t)
	switch (arch) {
	case BPFVM_AUDIT_ARCH_X86_64: return TABLE(sys_x86_64);
	case BPFVM_AUDIT_ARCH_AARCH64: return TABLE(sys_aarch64);
	case BPFVM_AUDIT_ARCH_I386: return TABLE(sys_i386);
	default: *cnt = 0; return NULL;
	}
#undef TABLE
}

BPFVM_API int bpfvm_seccomp_syscall_nr(uint32_t arch, const char *name)
{
	size_t cnt;
	const struct sysent *t = table_for(arch, &cnt);
	for (size_t i = 0; name && i < cnt; i++)
		if (!strcmp(t[i].name, name))
			return t[i].nr;
	return -ENOENT;
}

BPFVM_API const char *bpfvm_seccomp_syscall_name(uint32_t arch, int nr)
{
	size_t cnt;
	const struct sysent *t = table_for(arch, &cnt);
	for (size_t i = 0; i < cnt; i++)
		if (t[i].nr == nr)
			return t[i].name;
	return NULL;
}
