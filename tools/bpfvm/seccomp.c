/* seccomp.c — `bpfvm seccomp`: evaluate a seccomp-bpf filter for one system call.
 *
 * The filter (tcpdump -dd/-ddd style text or a raw sock_filter array, as
 * `bpfvm filter` reads) is checked as the kernel checks a seccomp filter and run
 * on a struct seccomp_data built from the options; the result is printed as the
 * action the kernel would take and its data.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm/cbpf.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bpfvm seccomp FILTER --syscall NR|NAME [--arch ARCH] [--args A,B,C,D,E,F]\n"
		"                    [--ip N] [--dump] [--json]\n\n"
		"Evaluate the seccomp filter in FILTER (tcpdump -dd or -ddd style text, or a raw\n"
		"array of 8-byte struct sock_filter) for one system call and print the action\n"
		"(KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, USER_NOTIF, TRACE, LOG, ALLOW) with\n"
		"its data.  The filter is checked as the kernel checks a seccomp filter.\n"
		"  --syscall NR|NAME  system call number, or a name from bpfvm's table for ARCH\n"
		"  --arch ARCH        x86_64 (default), aarch64 or i386: sets seccomp_data.arch\n"
		"                     to AUDIT_ARCH_* and picks the name table\n"
		"  --args LIST        up to six comma-separated arguments (args[0..5])\n"
		"  --ip N             instruction_pointer\n"
		"  -d, --dump         print the filter (classic instructions)\n"
		"  --json             print {\"action\":..,\"data\":..,\"ret\":..}\n");
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	if (*s == '-') {
		long long x = strtoll(s, &end, 0);
		*v = (uint64_t)x;
	} else {
		*v = strtoull(s, &end, 0);
	}
	return !errno && end != s && !*end;
}

static const char *arch_name(uint32_t arch)
{
	switch (arch) {
	case BPFVM_AUDIT_ARCH_X86_64: return "x86_64";
	case BPFVM_AUDIT_ARCH_AARCH64: return "aarch64";
	case BPFVM_AUDIT_ARCH_I386: return "i386";
	default: return "?";
	}
}

int cmd_seccomp(int argc, char **argv)
{
	const char *file = NULL, *sys = NULL, *archs = "x86_64", *args = NULL, *ips = NULL;
	bool json = false, dump = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_val = i + 1 < argc;
		if (cli_opt(a, "--help", "-h")) {
			usage(stdout);
			return 0;
		} else if (cli_opt(a, "--syscall", "-n") && has_val) {
			sys = argv[++i];
		} else if (cli_opt(a, "--arch", "-a") && has_val) {
			archs = argv[++i];
		} else if (cli_opt(a, "--args", NULL) && has_val) {
			args = argv[++i];
		} else if (cli_opt(a, "--ip", NULL) && has_val) {
			ips = argv[++i];
		} else if (cli_opt(a, "--dump", "-d")) {
			dump = true;
		} else if (cli_opt(a, "--json", "-j")) {
			json = true;
		} else if (a[0] == '-' && a[1]) {
			return cli_error("seccomp", "unknown option '%s' (see bpfvm seccomp --help)", a);
		} else if (!file) {
			file = a;
		} else {
			return cli_error("seccomp", "more than one filter file given");
		}
	}
	if (!file || (!sys && !dump)) {
		usage(stderr);
		return 2;
	}

	struct bpfvm_seccomp_data sd = { 0 };
	sd.arch = bpfvm_seccomp_arch(archs);
	if (!sd.arch)
		return cli_error("seccomp", "unknown architecture '%s' (x86_64, aarch64 or i386)",
				 archs);
	if (sys) {
		uint64_t nr;
		if (parse_u64(sys, &nr)) {
			sd.nr = (int32_t)(uint32_t)nr;
		} else {
			int n = bpfvm_seccomp_syscall_nr(sd.arch, sys);
			if (n < 0)
				return cli_error("seccomp",
						 "unknown system call '%s' for %s: give its number",
						 sys, arch_name(sd.arch));
			sd.nr = n;
		}
	}
	if (args) {
		char *copy = strdup(args), *save = NULL;
		if (!copy)
			return cli_error("seccomp", "out of memory");
		int k = 0;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			while (*t == ' ')
				t++;
			if (k == 6 || !parse_u64(t, &sd.args[k])) {
				free(copy);
				return cli_error("seccomp", "--args takes up to six numbers, separated by commas");
			}
			k++;
		}
		free(copy);
	}
	if (ips && !parse_u64(ips, &sd.instruction_pointer))
		return cli_error("seccomp", "--ip takes a number");

	size_t size, cnt;
	uint8_t *buf = cli_read_file(file, &size);
	if (!buf)
		return 1;
	struct bpfvm_sock_filter *f;
	char err[512] = "";
	int ret = bpfvm_cbpf_parse(buf, size, &f, &cnt, err, sizeof(err));
	free(buf);
	if (ret)
		return cli_error("seccomp", "%s: %s", file, err[0] ? err : strerror(-ret));
	if (dump) {
		char *text = bpfvm_cbpf_disasm(f, cnt);
		if (text)
			fputs(text, stdout);
		free(text);
	}
	struct bpfvm_cbpf_opts opts = BPFVM_OPTS_INIT(bpfvm_cbpf_opts);
	opts.log_buf = err;
	opts.log_size = sizeof(err);
	struct bpfvm_prog *prog = bpfvm_seccomp_compile(f, cnt, &opts);
	free(f);
	if (!prog)
		return cli_error("seccomp", "%s: the filter was refused: %s", file,
				 err[0] ? err : strerror(errno));
	if (!sys) {
		bpfvm_prog_free(prog);
		return 0;
	}
	uint32_t r;
	ret = bpfvm_seccomp_run(prog, &sd, &r);
	bpfvm_prog_free(prog);
	if (ret)
		return cli_error("seccomp", "the filter failed: %s", strerror(-ret));

	char action[64];
	bpfvm_seccomp_action_str(r, action, sizeof(action));
	char *paren = strchr(action, '(');
	if (paren)
		*paren = 0; /* the data is printed on its own */
	uint32_t data = r & SECCOMP_RET_DATA;
	bool has_data = paren != NULL;
	if ((r & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO && data > 4095)
		data = 4095; /* MAX_ERRNO, as the kernel caps it */
	const char *ename = (r & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO && data
				    ? strerrorname_np((int)data)
				    : NULL;
	const char *sname = bpfvm_seccomp_syscall_name(sd.arch, sd.nr);
	if (json) {
		printf("{\"syscall\":%d,\"arch\":\"%s\",\"ret\":%u,\"action\":\"%s\"", sd.nr,
		       arch_name(sd.arch), r, action);
		if (has_data)
			printf(",\"data\":%u", data);
		if (ename)
			printf(",\"errno\":\"%s\"", ename);
		printf("}\n");
		return 0;
	}
	/* seen on Linux 6.18: these two pass seccomp without the filters being run */
	if (sd.arch == BPFVM_AUDIT_ARCH_X86_64 && (sd.nr == 335 || sd.nr == 336))
		fprintf(stderr,
			"bpfvm seccomp: note: recent Linux kernels do not run seccomp filters for "
			"x86_64 system call %d (%s): the call runs whatever the filter says\n",
			sd.nr, sd.nr == 335 ? "uretprobe" : "uprobe");
	printf("%s", action);
	if (has_data)
		printf("(%u%s%s)", data, ename ? " " : "", ename ? ename : "");
	printf("  ret=0x%08x  syscall %d%s%s%s on %s\n", r, sd.nr, sname ? " (" : "",
	       sname ? sname : "", sname ? ")" : "", arch_name(sd.arch));
	return 0;
}
