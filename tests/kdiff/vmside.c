/* vmside.c — the bpfvm side: build a program and run it in one mode.
 *
 * The bpfvm-side layout reads its inputs through r9 = r1 = mem and stores
 * r0-r8 and the stack area back through r9, so a run is: copy the input into
 * a KD_IO_SIZE buffer, bpfvm_prog_run() with that buffer as mem, read it back.
 * The unchecked modes (interp, jit) run in this process: if bpfvm crashes, a
 * signal handler names the program and mode being run before exiting.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kdiff.h"

struct bpfvm_prog *kd_vm_load(const struct bpf_insn *insns, size_t cnt, char *log, size_t size)
{
	struct bpfvm_prog_opts opts = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	opts.name = "kdiff";
	opts.log_buf = log;
	opts.log_size = size;
	if (log && size)
		log[0] = 0;
	return bpfvm_prog_from_insns(insns, cnt, &opts);
}

int kd_vm_run(struct bpfvm_prog *prog, int mode, const uint8_t *input, uint8_t *out,
	      char *err, size_t size)
{
	uint8_t mem[KD_IO_SIZE];
	memcpy(mem, input, sizeof(mem));
	struct bpfvm_run_opts opts = BPFVM_OPTS_INIT(bpfvm_run_opts);
	opts.mem = mem;
	opts.mem_sz = sizeof(mem);
	opts.mode = mode;
	opts.err_buf = err;
	opts.err_size = size;
	if (err && size)
		err[0] = 0;
	int ret = bpfvm_prog_run(prog, &opts);
	if (ret)
		return ret;
	if (opts.retval != 0) {
		snprintf(err, size, "program returned %llu, not 0", (unsigned long long)opts.retval);
		return -EIO;
	}
	memcpy(out, mem, sizeof(mem));
	return 0;
}

const char *kd_mode_name(int mode)
{
	switch (mode) {
	case BPFVM_EXEC_CHECKED: return "checked";
	case BPFVM_EXEC_INTERP: return "interp";
	case BPFVM_EXEC_JIT: return "jit";
	default: return "auto";
	}
}

static char crash_what[256];

static void on_crash(int sig)
{
	static const char head[] = "\nkdiff: FAIL: fatal signal while running ";
	(void)sig;
	(void)!write(STDERR_FILENO, head, sizeof(head) - 1);
	(void)!write(STDERR_FILENO, crash_what, strlen(crash_what));
	(void)!write(STDERR_FILENO, "\n", 1);
	_exit(1);
}

void kd_crash_guard(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

void kd_crash_context(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(crash_what, sizeof(crash_what), fmt, ap);
	va_end(ap);
}
