/* test_verifier_kdiff.c — every verifier suite case in the kernel too.
 *
 * Each tests/verifier/NAME.data case (or each file given) is verified by
 * bpfvm and loaded into the running kernel with BPF_PROG_LOAD (the same maps
 * created with BPF_MAP_CREATE; `lddw map_idx N` becomes the kernel map's fd),
 * and the two verdicts must agree — with each other and with the case's.
 * Prints the agreement table.  Needs root and a kernel with BPF: without
 * them it prints why and exits 77 (skipped).  Raw bpf(2), no libbpf; the
 * attribute layouts are the stable prefixes of union bpf_attr.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "testutil.h"
#include "verifier_suite.h"

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

static long sys_bpf(int cmd, void *attr, unsigned size)
{
	return syscall(__NR_bpf, cmd, attr, size);
}

/* load the case into the kernel: 1 accepted, 0 refused (log in buf), <0
 * could not try */
static int run_kernel(const struct vs_case *c, char *log, size_t log_sz)
{
	int fds[VS_MAX_MAPS];
	int n = 0, ret;
	struct bpf_insn *insns = NULL;
	size_t cnt = 0;
	log[0] = 0;
	for (; n < c->map_cnt; n++) {
		struct k_map_create a;
		memset(&a, 0, sizeof(a));
		a.map_type = c->maps[n].type;
		a.key_size = c->maps[n].key;
		a.value_size = c->maps[n].value;
		a.max_entries = c->maps[n].entries;
		a.map_flags = c->maps[n].flags;
		if (c->maps[n].inner >= 0)
			a.inner_map_fd = (uint32_t)fds[c->maps[n].inner];
		fds[n] = (int)sys_bpf(0 /* BPF_MAP_CREATE */, &a, sizeof(a));
		if (fds[n] < 0) {
			snprintf(log, log_sz, "kernel map %d: %s", n, strerror(errno));
			ret = -errno;
			goto out;
		}
		if (c->maps[n].flags & 0x80) { /* read-only for programs: freeze */
			struct { uint32_t fd; uint8_t pad[60]; } f;
			memset(&f, 0, sizeof(f));
			f.fd = (uint32_t)fds[n];
			sys_bpf(22 /* BPF_MAP_FREEZE */, &f, sizeof(f));
		}
	}
	if (bpfvm_asm(c->asm_text, &insns, &cnt, log, log_sz)) {
		ret = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < cnt; i++) {
		if (insns[i].code != 0x18)
			continue;
		if (insns[i].src_reg == 5 || insns[i].src_reg == 6) {
			int idx = insns[i].imm;
			insns[i].src_reg = insns[i].src_reg == 5 ? 1 : 2;
			insns[i].imm = idx >= 0 && idx < n ? fds[idx] : -1;
		}
		i++;
	}
	struct k_prog_load a;
	memset(&a, 0, sizeof(a));
	a.prog_type = c->prog_type;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)cnt;
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.log_level = 1;
	a.log_size = (uint32_t)log_sz;
	a.log_buf = (uint64_t)(uintptr_t)log;
	int fd = (int)sys_bpf(5 /* BPF_PROG_LOAD */, &a, sizeof(a));
	if (fd < 0 && errno == ENOSPC) { /* the log did not fit: ask for the verdict alone */
		a.log_level = 0;
		a.log_size = 0;
		a.log_buf = 0;
		fd = (int)sys_bpf(5 /* BPF_PROG_LOAD */, &a, sizeof(a));
		if (fd < 0)
			snprintf(log, log_sz, "(log too long) %s\n", strerror(errno));
	}
	if (fd >= 0) {
		close(fd);
		ret = 1;
	} else {
		ret = errno == EPERM && !log[0] ? -EPERM : 0;
	}
out:
	free(insns);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return ret;
}

static int kernel_probe(char *why, size_t size)
{
	struct vs_case c;
	memset(&c, 0, sizeof(c));
	c.prog_type = 6;
	c.asm_text = (char *)"mov %r0, 2\nexit\n";
	char log[4096];
	int r = run_kernel(&c, log, sizeof(log));
	if (r != 1) {
		snprintf(why, size, "the kernel refuses BPF_PROG_LOAD of a trivial XDP program (%.200s)",
			 r < 0 ? strerror(-r) : log);
		return -1;
	}
	return 0;
}

static const char *v(int x)
{
	return x ? "accept" : "reject";
}

int main(int argc, char **argv)
{
	char why[512];
	if (kernel_probe(why, sizeof(why))) {
		printf("skip: %s\n", why);
		return 77;
	}
	/* --judge FILE...: print the kernel's verdict and message, for writing cases */
	if (argc > 2 && !strcmp(argv[1], "--judge")) {
		static char jl[1 << 20];
		for (int i = 2; i < argc; i++) {
			struct vs_case c;
			if (vs_load(&c, argv[i])) {
				printf("JUDGE\t%s\tparse-error\t\n", argv[i]);
				continue;
			}
			int k = run_kernel(&c, jl, sizeof(jl));
			/* the message: the first line after the last instruction line */
			char *msg = "", *line = jl, *last_insn_end = NULL;
			while (line && *line) {
				char *nl = strchr(line, '\n');
				int idx;
				char ch;
				if (sscanf(line, "%d: %c", &idx, &ch) == 2 && ch == '(')
					last_insn_end = nl;
				line = nl ? nl + 1 : NULL;
			}
			char *start = last_insn_end ? last_insn_end + 1 : jl;
			char *nl = strchr(start, '\n');
			if (nl)
				*nl = 0;
			msg = start;
			printf("JUDGE\t%s\t%s\t%s\n", argv[i], k == 1 ? "accept" : k == 0 ? "reject" : "error", msg);
			vs_free(&c);
		}
		return 0;
	}
	char **names = NULL;
	int n;
	if (argc > 1) {
		names = argv + 1;
		n = argc - 1;
	} else {
		n = vs_list("tests/verifier", &names);
		if (n < 0) {
			printf("skip: no tests/verifier directory (run from the repository root)\n");
			return 77;
		}
	}
	static char klog[1 << 20];
	int agree = 0, disagree = 0, skipped = 0, exp_ok = 0;
	int tab[2][2] = { { 0, 0 }, { 0, 0 } };	/* [kernel][bpfvm] */
	printf("%-52s %-8s %-8s %-8s %s\n", "case", "expected", "kernel", "bpfvm", "agree");
	for (int i = 0; i < n; i++) {
		struct vs_case c;
		struct vs_result r;
		if (vs_load(&c, names[i])) {
			printf("%-52s cannot parse\n", names[i]);
			CHECK(0);
			continue;
		}
		if (c.kernel_skip[0]) {
			printf("%-52s %-8s %-8s %-8s skipped: %s\n", names[i], v(c.verdict), "-", "-",
			       c.kernel_skip);
			skipped++;
			vs_free(&c);
			continue;
		}
		int k = run_kernel(&c, klog, sizeof(klog));
		vs_run_bpfvm(&c, &r);
		if (k < 0) {
			printf("%-52s %-8s %-8s %-8s kernel could not try: %s\n", names[i],
			       v(c.verdict), "?", v(r.verdict), klog);
			skipped++;
		} else {
			bool same = k == r.verdict;
			tab[k][r.verdict]++;
			same ? agree++ : disagree++;
			exp_ok += k == c.verdict;
			printf("%-52s %-8s %-8s %-8s %s\n", names[i], v(c.verdict), v(k), v(r.verdict),
			       same ? "yes" : "NO");
			CHECK(same);
			if (!same || k != c.verdict) {
				const char *kl = klog;
				size_t kn = strlen(kl);
				printf("    kernel: %s\n", kn > 600 ? kl + kn - 600 : kl);
				const char *bl = r.log ? r.log : "";
				size_t bn = strlen(bl);
				printf("    bpfvm:  %s\n", bn > 600 ? bl + bn - 600 : bl);
			}
		}
		free(r.log);
		vs_free(&c);
	}
	printf("\nagreement table (rows: kernel, columns: bpfvm)\n");
	printf("                 bpfvm accept  bpfvm reject\n");
	printf("kernel accept    %12d  %12d\n", tab[1][1], tab[1][0]);
	printf("kernel reject    %12d  %12d\n", tab[0][1], tab[0][0]);
	printf("%d cases: %d agree, %d disagree, %d not run in the kernel; the kernel gives the "
	       "expected verdict in %d\n",
	       agree + disagree + skipped, agree, disagree, skipped, exp_ok);
	if (argc <= 1) {
		for (int i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	return TEST_DONE();
}
