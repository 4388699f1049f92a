/* test_data.c — the data-driven ISA tests, in every execution mode.
 *
 * Runs every `*.data` file of tests/asm/ and, when it is there, of the eBPF
 * conformance suite (../shared/conformance/tests/; paths are relative to the
 * repository root, the directory tests run from), or the files and
 * directories given as arguments.  The format is the suite's
 * (../shared/conformance/README.md): sections `-- asm` (assembly), `-- raw`
 * (one 64-bit little-endian word per instruction; preferred over asm),
 * `-- mem` (hex bytes; r1 points to a private copy, r2 holds its length),
 * `-- result` (expected r0) and `-- error` (the expected message, exactly:
 * bpfvm_prog_from_insns()'s log for load errors, err_buf for run errors);
 * `#` starts a comment; other sections are ignored.  Two extensions, which
 * the suite's runner ignores:
 *   -- checked-only   run only in BPFVM_EXEC_CHECKED (the program touches
 *                     memory it does not own or never ends: unchecked modes
 *                     would really do it)
 *   -- budget N       checked mode's instruction budget (default 1000000)
 *   -- xfail REASON   a known bug, not fixed yet: a failing run prints XFAIL
 *                     with the reason instead of FAIL and does not count as a
 *                     failure; a passing one prints XPASS (remove the section)
 * Helper #5 returns its r1, as the suite's plugin protocol requires.
 *
 * Each file runs in CHECKED, INTERP and JIT (skipped while the program has no
 * JIT code: bpfvm_prog_run() returns -EOPNOTSUPP).  Besides, when a file has
 * both asm and raw the two must agree, and every program must survive
 * asm(disasm(program)) unchanged.  One FAIL line per failing (file, mode),
 * a summary, exit status 1 on any failure.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bpfvm.h"

#define DEFAULT_BUDGET 1000000ull

struct test {
	const char *path;
	char *asm_text;		/* joined lines of -- asm, comments stripped */
	char *raw_text;
	char *mem_text;
	char *result;		/* last line of -- result */
	char *error;		/* last line of -- error, comment stripped */
	char *error_raw;	/* the same line as written (messages may contain '#') */
	char *xfail;		/* why the test is expected to fail, or NULL */
	bool checked_only;
	uint64_t budget;
};

static int passed, failed, skipped, xfailed, xpassed, verbose;

static void fail_line(const struct test *t, const char *mode, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
static void fail_line(const struct test *t, const char *mode, const char *fmt, ...)
{
	va_list ap;
	printf("%s %s [%s]: ", t->xfail ? "XFAIL" : "FAIL", t->path, mode);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (t->xfail) {
		printf(" (known bug: %s)\n", t->xfail);
		xfailed++;
	} else {
		printf("\n");
		failed++;
	}
}

/* ------------------------------------------------------------- parsing -- */

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = 0;
	return s;
}

static void append(char **dst, const char *line)
{
	size_t old = *dst ? strlen(*dst) : 0, n = strlen(line);
	char *p = realloc(*dst, old + n + 2);
	if (!p) {
		perror("test_data");
		exit(2);
	}
	memcpy(p + old, line, n);
	p[old + n] = '\n';
	p[old + n + 1] = 0;
	*dst = p;
}

static void set(char **dst, const char *line)
{
	free(*dst);
	*dst = strdup(line);
}

static void test_free(struct test *t)
{
	free(t->asm_text);
	free(t->raw_text);
	free(t->mem_text);
	free(t->result);
	free(t->error);
	free(t->error_raw);
	free(t->xfail);
}

static int parse_file(const char *path, struct test *t)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	memset(t, 0, sizeof(*t));
	t->path = path;
	t->budget = DEFAULT_BUDGET;
	char buf[4096], sect[64] = "";
	bool in_sect = false;
	while (fgets(buf, sizeof(buf), f)) {
		char raw[4096];
		snprintf(raw, sizeof(raw), "%s", buf);
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		char *line = trim(buf);
		if (!strncmp(line, "--", 2)) {
			snprintf(sect, sizeof(sect), "%s", trim(line + 2));
			in_sect = true;
			if (!strcmp(sect, "checked-only"))
				t->checked_only = true;
			continue;
		}
		if (!*line || !in_sect)
			continue;
		if (!strcmp(sect, "asm"))
			append(&t->asm_text, line);
		else if (!strcmp(sect, "raw"))
			append(&t->raw_text, line);
		else if (!strcmp(sect, "mem"))
			append(&t->mem_text, line);
		else if (!strcmp(sect, "result"))
			set(&t->result, line);
		else if (!strcmp(sect, "xfail"))
			set(&t->xfail, line);
		else if (!strcmp(sect, "budget"))
			t->budget = strtoull(line, NULL, 0);
		else if (!strcmp(sect, "error")) {
			set(&t->error, line);
			set(&t->error_raw, trim(raw));
		}
	}
	fclose(f);
	return 0;
}

/* the suite's number(): [+-]?(0x hex | decimal), modulo 2^64 */
static bool parse_u64(const char *s, uint64_t *v)
{
	bool neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	char *end;
	errno = 0;
	uint64_t u = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	if (end == s || *end || errno || *s == '-' || *s == '+')
		return false;
	*v = neg ? 0 - u : u;
	return true;
}

static int parse_raw(const char *text, struct bpf_insn **insns, size_t *cnt)
{
	size_t cap = 16, n = 0;
	struct bpf_insn *p = malloc(cap * sizeof(*p));
	char *copy = strdup(text);
	if (!p || !copy)
		goto bad;
	for (char *tok = strtok(copy, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
		uint64_t w;
		if (!parse_u64(tok, &w))
			goto bad;
		if (n == cap) {
			struct bpf_insn *np = realloc(p, (cap *= 2) * sizeof(*p));
			if (!np)
				goto bad;
			p = np;
		}
		p[n++] = (struct bpf_insn){
			.code = (uint8_t)w,
			.dst_reg = (unsigned)(w >> 8) & 0xf,
			.src_reg = (unsigned)(w >> 12) & 0xf,
			.off = (int16_t)(uint16_t)(w >> 16),
			.imm = (int32_t)(uint32_t)(w >> 32),
		};
	}
	free(copy);
	*insns = p;
	*cnt = n;
	return 0;
bad:
	free(copy);
	free(p);
	return -EINVAL;
}

static int parse_mem(const char *text, uint8_t **mem, size_t *size)
{
	*mem = NULL;
	*size = 0;
	if (!text)
		return 0;
	char *copy = strdup(text);
	uint8_t *m = malloc(strlen(text) / 2 + 1);
	size_t n = 0;
	if (!copy || !m)
		goto bad;
	for (char *tok = strtok(copy, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
		char *end;
		unsigned long b = strtoul(tok, &end, 16);
		if (*end || b > 0xff)
			goto bad;
		m[n++] = (uint8_t)b;
	}
	free(copy);
	*mem = m;
	*size = n;
	return 0;
bad:
	free(copy);
	free(m);
	return -EINVAL;
}

/* ------------------------------------------------------------- running -- */

static uint64_t helper_return_r1(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				 uint64_t r5, struct bpfvm_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	return r1;
}

static bool error_matches(const struct test *t, const char *msg)
{
	return (t->error && !strcmp(t->error, msg)) || (t->error_raw && !strcmp(t->error_raw, msg));
}

static const char *expected(const struct test *t, char *buf, size_t size)
{
	if (t->result && t->error)
		snprintf(buf, size, "%s or error '%s'", t->result, t->error_raw);
	else if (t->result)
		snprintf(buf, size, "%s", t->result);
	else
		snprintf(buf, size, "error '%s'", t->error_raw);
	return buf;
}

/* load and run in one mode; returns 1 pass, 0 fail, -1 skipped */
static int run_mode(const struct test *t, const struct bpf_insn *insns, size_t cnt,
		    const uint8_t *mem0, size_t mem_sz, int mode, const char *mode_name)
{
	char log[1024] = "", err[1024] = "", want[1200];
	struct bpfvm_helper h5 = { 5, "return_r1", helper_return_r1 };
	struct bpfvm_prog_opts popts = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	popts.name = t->path;
	popts.helpers = &h5;
	popts.helper_cnt = 1;
	popts.log_buf = log;
	popts.log_size = sizeof(log);
	struct bpfvm_prog *prog = bpfvm_prog_from_insns(insns, cnt, &popts);
	if (!prog) {
		if (!log[0])
			snprintf(log, sizeof(log), "%s", strerror(errno));
		if (error_matches(t, log))
			return 1;
		fail_line(t, mode_name, "expected %s, got load error '%s'",
			  expected(t, want, sizeof(want)), log);
		return 0;
	}

	uint8_t *mem = NULL;
	if (mem_sz) {
		mem = malloc(mem_sz);
		if (!mem) {
			perror("test_data");
			exit(2);
		}
		memcpy(mem, mem0, mem_sz);
	}
	struct bpfvm_run_opts ropts = BPFVM_OPTS_INIT(bpfvm_run_opts);
	ropts.mem = mem;
	ropts.mem_sz = mem_sz;
	ropts.mode = mode;
	ropts.insn_budget = t->budget;
	ropts.err_buf = err;
	ropts.err_size = sizeof(err);
	int ret = bpfvm_prog_run(prog, &ropts);
	bpfvm_prog_free(prog);
	free(mem);

	if (ret == -EOPNOTSUPP && mode == BPFVM_EXEC_JIT)
		return -1;
	if (ret) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-ret));
		if (error_matches(t, err))
			return 1;
		fail_line(t, mode_name, "expected %s, got error '%s'", expected(t, want, sizeof(want)),
			  err);
		return 0;
	}
	uint64_t r;
	if (t->result && parse_u64(t->result, &r) && r == ropts.retval)
		return 1;
	fail_line(t, mode_name, "expected %s, got 0x%" PRIx64, expected(t, want, sizeof(want)),
		  ropts.retval);
	return 0;
}

/* the disassembler's text assembles back to the same bytes */
static void check_roundtrip(const struct test *t, const struct bpf_insn *insns, size_t cnt)
{
	char *text = bpfvm_disasm(insns, cnt, BPFVM_DISASM_INDEX);
	struct bpf_insn *back = NULL;
	size_t n = 0;
	char err[256] = "";
	if (!text || bpfvm_asm(text, &back, &n, err, sizeof(err)) ||
	    n != cnt || memcmp(back, insns, cnt * sizeof(*insns)))
		fail_line(t, "disasm", "asm(disasm(program)) differs from the program: %s", err);
	else
		passed++;
	free(text);
	free(back);
}

static void run_file(const char *path)
{
	struct test t;
	if (parse_file(path, &t)) {
		printf("FAIL %s: cannot read: %s\n", path, strerror(errno));
		failed++;
		return;
	}
	struct bpf_insn *insns = NULL, *from_asm = NULL;
	size_t cnt = 0, asm_cnt = 0;
	uint8_t *mem = NULL;
	size_t mem_sz = 0;
	char err[256] = "";

	if (!(t.asm_text || t.raw_text) || !(t.result || t.error)) {
		if (verbose)
			printf("SKIP %s: no program or no expected outcome\n", path);
		skipped++;
		goto out;
	}
	if (t.asm_text && bpfvm_asm(t.asm_text, &from_asm, &asm_cnt, err, sizeof(err))) {
		fail_line(&t, "asm", "cannot assemble: %s", err);
		goto out;
	}
	if (t.raw_text) {
		if (parse_raw(t.raw_text, &insns, &cnt)) {
			fail_line(&t, "raw", "bad raw section");
			goto out;
		}
		if (from_asm && (asm_cnt != cnt || memcmp(from_asm, insns, cnt * sizeof(*insns))))
			fail_line(&t, "asm", "the asm section does not assemble to the raw section");
	} else {
		insns = from_asm;
		cnt = asm_cnt;
		from_asm = NULL;
	}
	if (parse_mem(t.mem_text, &mem, &mem_sz)) {
		fail_line(&t, "mem", "bad mem section");
		goto out;
	}
	if (cnt)
		check_roundtrip(&t, insns, cnt);

	static const struct {
		int mode;
		const char *name;
	} modes[] = {
		{ BPFVM_EXEC_CHECKED, "checked" },
		{ BPFVM_EXEC_INTERP, "interp" },
		{ BPFVM_EXEC_JIT, "jit" },
	};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (t.checked_only && modes[i].mode != BPFVM_EXEC_CHECKED) {
			skipped++;
			continue;
		}
		int r = run_mode(&t, insns, cnt, mem, mem_sz, modes[i].mode, modes[i].name);
		if (r > 0 && t.xfail) {
			xpassed++;
			printf("XPASS %s [%s]: passes although marked xfail (%s)\n", path,
			       modes[i].name, t.xfail);
		} else if (r > 0) {
			passed++;
			if (verbose)
				printf("PASS %s [%s]\n", path, modes[i].name);
		} else if (r < 0) {
			skipped++;
		}
	}
out:
	free(insns);
	free(from_asm);
	free(mem);
	test_free(&t);
}

static int data_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 5 && !strcmp(d->d_name + n - 5, ".data");
}

/* every *.data in dir, in name order; returns the number of files */
static int run_dir(const char *dir, bool must_exist)
{
	struct dirent **names;
	int n = scandir(dir, &names, data_filter, alphasort);
	if (n < 0) {
		if (must_exist) {
			printf("FAIL %s: %s\n", dir, strerror(errno));
			failed++;
		}
		return 0;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		run_file(path);
		free(names[i]);
	}
	free(names);
	return n;
}

int main(int argc, char **argv)
{
	int files = 0;
	bool any = false;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (!strcmp(argv[i], "-v")) {
			verbose = 1;
			continue;
		}
		any = true;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			files += run_dir(argv[i], true);
		} else {
			run_file(argv[i]);
			files++;
		}
	}
	if (!any) {
		files += run_dir("tests/asm", true);
		files += run_dir("../shared/conformance/tests", false);
	}
	printf("test_data: %d files: %d passed, %d failed, %d skipped", files, passed, failed,
	       skipped);
	if (xfailed || xpassed)
		printf(", %d known bugs (xfail), %d xpass", xfailed, xpassed);
	printf("\n");
	return failed ? 1 : 0;
}
