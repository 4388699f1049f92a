/* test_verifier.c — the verifier against its suite and against real objects.
 *
 * 1. Every tests/verifier/NAME.data case (or the files given as arguments) is
 *    verified; the verdict must be the case's and a rejection's log must
 *    contain the expected message.
 * 2. Every program of every tests/objects/NAME.bpf.o that bpfvm loads must
 *    verify (these are programs the kernel accepts); the figures (processed
 *    instructions, states, time) are printed.
 * Run from the repository root.  `-v` prints each case's log.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "verifier_suite.h"

static int verbose_flag;

static void run_case(const char *path, int *pass, int *fail)
{
	struct vs_case c;
	struct vs_result r;
	int err = vs_load(&c, path);
	if (err) {
		printf("FAIL %s: cannot parse (%s)\n", path, strerror(-err));
		(*fail)++;
		test_failed++;
		test_checks++;
		return;
	}
	err = vs_run_bpfvm(&c, &r);
	test_checks++;
	bool ok = !err && r.verdict == c.verdict;
	if (ok && !c.verdict && c.error[0] && !r.at_load && !strstr(r.log, c.error))
		ok = false;
	if (ok) {
		(*pass)++;
		if (verbose_flag)
			printf("PASS %s\n%s\n", path, r.log);
	} else {
		(*fail)++;
		test_failed++;
		printf("FAIL %s: expected %s%s%s%s, bpfvm %s (%d)\n", path,
		       c.verdict ? "accept" : "reject", c.error[0] ? " with \"" : "", c.error,
		       c.error[0] ? "\"" : "", r.verdict ? "accepts" : "rejects", r.err);
		const char *log = r.log ? r.log : "";
		size_t n = strlen(log);
		printf("    log: %s\n", n > 1500 ? log + n - 1500 : log);
	}
	free(r.log);
	vs_free(&c);
}

static void run_objects(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char **names = NULL;
	int n = 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 7 || strcmp(e->d_name + l - 6, ".bpf.o"))
			continue;
		char **nn = realloc(names, (size_t)(n + 1) * sizeof(*nn));
		if (!nn)
			break;
		names = nn;
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), vs_cmp_str);
	printf("%-28s %-24s %10s %7s %9s\n", "object", "program", "insns", "states", "time(us)");
	for (int i = 0; i < n; i++) {
		char path[512], log[4096] = "";
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
		oo.log_buf = log;
		oo.log_size = sizeof(log);
		struct bpfvm_object *obj = bpfvm_object_open(path, &oo);
		if (!obj || bpfvm_object_load(obj)) {
			printf("%-28s (not loadable by bpfvm: %s)\n", names[i], log);
			bpfvm_object_close(obj);
			free(names[i]);
			continue;
		}
		for (size_t k = 0; k < bpfvm_object_prog_cnt(obj); k++) {
			struct bpfvm_prog *p = bpfvm_object_prog(obj, k);
			if (!p)
				continue;
			static char vlog[1 << 20];
			struct bpfvm_verify_stats st;
			memset(&st, 0, sizeof(st));
			struct bpfvm_verify_opts vo = { .sz = sizeof(vo), .log_level = 1,
							.log_buf = vlog, .log_size = sizeof(vlog),
							.stats = &st };
			int err = bpfvm_prog_verify(p, &vo);
			CHECK(err == 0);
			printf("%-28s %-24s %10llu %7u %9.1f%s\n", names[i], bpfvm_prog_name(p),
			       (unsigned long long)st.insn_processed, st.total_states,
			       (double)st.duration_ns / 1000.0, err ? "  REJECTED" : "");
			if (err) {
				size_t l = strlen(vlog);
				printf("%s\n", l > 3000 ? vlog + l - 3000 : vlog);
			}
		}
		bpfvm_object_close(obj);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int pass = 0, fail = 0, files = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v")) {
			verbose_flag = 1;
			continue;
		}
		run_case(argv[i], &pass, &fail);
		files++;
	}
	if (!files) {
		char **names = NULL;
		int n = vs_list("tests/verifier", &names);
		for (int i = 0; i < n; i++) {
			run_case(names[i], &pass, &fail);
			free(names[i]);
		}
		if (n > 0)
			free(names);
		printf("verifier suite: %d passed, %d failed (of %d cases)\n", pass, fail, n);
		run_objects("tests/objects");
	}
	return TEST_DONE();
}
