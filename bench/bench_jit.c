/* bench_jit.c — compute benchmarks: bpfvm's interpreter and JIT against
 * native C and the kernel's JIT.
 *
 * Part 1, the kernel-comparable set: bench/jit/compute.bpf.o (built from
 * bench/jit/compute.bpf.c and algos.h; see bench/jit/list.h for the list) has
 * one XDP program per algorithm, working over ARRAY map values the host fills
 * with the same bytes everywhere.  The same linked bytecode runs
 *   - in bpfvm through bpfvm_prog_test_run() with repeat: fast interpreter,
 *     and JIT code (the object was verified, so the code is unchecked);
 *   - in the kernel through BPF_PROG_TEST_RUN with repeat (maps made as
 *     bench_map_prog.c makes them; the column is skipped, with the reason,
 *     where bpf(2) or the load is refused);
 *   - as native code: the same algos.h compiled by bench/jit/native.c with
 *     -O2 (the Makefile compiles it apart from the project's CFLAGS).
 * Each figure is ns per run, the best of several batches of about 5 ms taken
 * in turns (a busy spell of the machine then slows no column alone) over
 * several passes over all rows.  bpfvm's and the kernel's figures are the
 * time each measures around its own loop of runs.  The 64-bit results of all
 * four must agree (the programs store theirs in the global `result`).
 * Ratios and their geometric means follow.
 *
 * Part 2, the hand-written assembly of bench/programs/ over a 64 KiB input
 * passed as memory, also in the checked interpreter and checked JIT code,
 * with a native column compiled with this file's CFLAGS.  Part 3, compile
 * time per program and per 1,000 instructions.
 *
 * Figures only, never pass/fail.  Run from the repository root:
 *   make bench    or    build/bench/bench_jit [--passes N] [--batches N]
 *                                              [--no-asm] [--harden] [NAME...]
 * (NAMEs pick part-1 rows; --no-asm skips part 2; --harden blinds the JIT's
 * constants, bpfvm_jit_set_harden(1), to measure what that costs.)
 */
#include <linux/bpf.h>
/* bpfvm/insn.h recognises <linux/bpf.h> only by the kernel-tree guard name */
#ifndef _UAPI__LINUX_BPF_H__
#define _UAPI__LINUX_BPF_H__
#endif

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bpfvm.h"
#include "../tests/kbpf.h"
#include "bpfvm/jit.h"
#include "exec/vm.h"
#include "jit/list.h"

#define OBJ "bench/jit/compute.bpf.o"
#define BATCH_NS 5000000.0	/* time of one timed batch */
#define MAX_MAPS 16
#define OPAQUE(x) __asm__ volatile("" : "+r"(x))	/* keep the compiler from folding loops */

static int batches = 8;		/* timed batches per row and pass; the best counts */
static int passes = 3;		/* rounds over all rows */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ============================================ part 1: the kernel-comparable set */

/* the native versions (bench/jit/native.c) */
#define DECLARE(name, map) uint64_t algo_##name(uint8_t *buf);
JIT_BENCHES(DECLARE)
#undef DECLARE
extern uint64_t jit_native_table[TABLE_N];

struct row {
	const char *name, *map;
	uint64_t (*native)(uint8_t *);
};

static const struct row rows[] = {
#define ROW(name, map) { #name, #map, algo_##name },
	JIT_BENCHES(ROW)
#undef ROW
};

/* the maps' contents, shared by all three worlds */
static uint8_t input[INPUT_SZ], text[TEXT_SZ], scratch[SCRATCH_SZ];

static uint8_t *row_buf(const struct row *r)
{
	return !strcmp(r->map, "text") ? text : !strcmp(r->map, "scratch") ? scratch : input;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* pseudo-random input; text of words, numbers, separators and lines; the
 * table's values */
static void make_data(void)
{
	static const char *const sep[] = { " ", ", ", ",", "\n" };
	uint64_t s = 88172645463325252ull;
	for (size_t i = 0; i < INPUT_SZ; i++)
		input[i] = (uint8_t)(xorshift(&s) >> 56);
	size_t n = 0;
	while (n < TEXT_SZ) {
		char tok[32];
		uint64_t r = xorshift(&s);
		size_t len = 1 + r % 9;
		for (size_t k = 0; k < len; k++)
			tok[k] = r >> 62 ? (char)('a' + (r >> (8 + 5 * k)) % 26) : (char)('0' + (r >> (8 + 4 * k)) % 10);
		strcpy(tok + len, sep[(r >> 60) & 3]);
		for (size_t k = 0; tok[k] && n < TEXT_SZ; k++)
			text[n++] = (uint8_t)tok[k];
	}
	for (size_t i = 0; i < TABLE_N; i++)
		jit_native_table[i] = xorshift(&s) >> 20;
}

/* ------------------------------------------------------------- kernel */

/* BPF_PROG_LOAD of prog's bytecode with the maps fd_array, logging at level
 * `level` into log */
static int k_prog_load_log(const struct bpfvm_prog *p, const int *fd_array, uint32_t level,
			   char *log, size_t log_sz)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = bpfvm_prog_type(p);
	a.insns = (uint64_t)(uintptr_t)bpfvm_prog_insns(p);
	a.insn_cnt = (uint32_t)bpfvm_prog_insn_cnt(p);
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.fd_array = (uint64_t)(uintptr_t)fd_array;
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = (uint32_t)log_sz;
	a.log_level = level;
	return sys_bpf(BPF_PROG_LOAD, &a);
}

/* load prog into the kernel; the fd, or a negative errno with the verifier's
 * verdict in why (a second load logs it: a log of the whole walk of a long
 * loop would not fit, and a truncated log fails the load) */
static int k_prog_load(const struct bpfvm_prog *p, const int *fd_array, char *why, size_t why_sz)
{
	static char log[1 << 16];
	int fd = k_prog_load_log(p, fd_array, 0, NULL, 0);
	if (fd >= 0)
		return fd;
	log[0] = 0;
	k_prog_load_log(p, fd_array, 1, log, sizeof(log));
	/* the verdict: the last line but the statistics */
	size_t n = strlen(log);
	while (n && log[n - 1] == '\n')
		log[--n] = 0;
	char *last = strrchr(log, '\n');
	if (last && !strncmp(last + 1, "processed", 9)) {
		*last = 0;
		last = strrchr(log, '\n');
	}
	snprintf(why, why_sz, "%s", last ? last + 1 : strerror(-fd));
	return fd;
}

static uint8_t pkt[64] = { [12] = 0x08 };

/* mean ns per run in the kernel over `repeat` runs, or a negative errno */
static double k_run(int pfd, uint32_t repeat)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)pfd;
	a.test.data_in = (uint64_t)(uintptr_t)pkt;
	a.test.data_size_in = sizeof(pkt);
	a.test.repeat = repeat;
	int err = sys_bpf(BPF_PROG_TEST_RUN, &a);
	return err ? err : (double)a.test.duration;
}

/* kernel maps like obj's, filled as bpfvm's are; returns false (with the
 * reason printed) when the kernel refuses */
static bool k_maps_make(struct bpfvm_object *obj, int *kfd, int *bss)
{
	size_t n = bpfvm_object_map_cnt(obj);
	*bss = -1;
	for (size_t i = 0; i < n && i < MAX_MAPS; i++) {
		struct bpfvm_map *m = bpfvm_object_map(obj, i);
		const char *name = bpfvm_map_name(m);
		uint32_t zero = 0;
		kfd[i] = k_map_create(m);
		if (kfd[i] < 0) {
			printf("kernel: BPF_MAP_CREATE of '%s' refused (%s): kernel column skipped\n",
			       name, strerror(-kfd[i]));
			return false;
		}
		if (strstr(name, ".bss"))
			*bss = (int)i;
		else if (!strcmp(name, "input"))
			k_map_update(kfd[i], &zero, input, 0);
		else if (!strcmp(name, "text"))
			k_map_update(kfd[i], &zero, text, 0);
		for (uint32_t k = 0; !strcmp(name, "table") && k < TABLE_N; k++)
			k_map_update(kfd[i], &k, &jit_native_table[k], 0);
	}
	return true;
}

/* ------------------------------------------------------------- bpfvm */

static void v_maps_fill(struct bpfvm_object *obj)
{
	uint32_t zero = 0;
	bpfvm_map_update_elem(bpfvm_object_find_map(obj, "input"), &zero, input, 0);
	bpfvm_map_update_elem(bpfvm_object_find_map(obj, "text"), &zero, text, 0);
	struct bpfvm_map *t = bpfvm_object_find_map(obj, "table");
	for (uint32_t k = 0; k < TABLE_N; k++)
		bpfvm_map_update_elem(t, &k, &jit_native_table[k], 0);
}

/* mean ns per run in bpfvm over `repeat` runs, or a negative errno: the
 * time bpfvm measures around its loop of runs, as the kernel does (a call's
 * own setup, which maps packet memory, is left out) */
static double v_run(struct bpfvm_prog *p, int mode, uint32_t repeat)
{
	struct bpfvm_test_run_opts t = BPFVM_OPTS_INIT(bpfvm_test_run_opts);
	t.data_in = pkt;
	t.data_size_in = sizeof(pkt);
	t.repeat = repeat;
	t.mode = mode;
	int err = bpfvm_prog_test_run(p, &t);
	return err ? err : (double)t.duration_ns;
}

/* the four columns of a row */
enum col { COL_INTERP, COL_JIT, COL_NATIVE, COL_KERNEL, COL_CNT };

struct subject {
	struct bpfvm_prog *prog;		/* bpfvm's */
	int kfd;				/* the kernel's, or -1 */
	uint64_t (*native)(uint8_t *);
	uint8_t *buf;				/* the native function's data */
};

/* mean ns per run of `reps` runs in column c, or a negative errno */
static double batch(const struct subject *s, enum col c, uint32_t reps)
{
	switch (c) {
	case COL_INTERP:
		return v_run(s->prog, BPFVM_EXEC_INTERP, reps);
	case COL_JIT:
		return v_run(s->prog, BPFVM_EXEC_JIT, reps);
	case COL_KERNEL:
		return s->kfd >= 0 ? k_run(s->kfd, reps) : -ENOSYS;
	default: {
		uint8_t *volatile in = s->buf;
		uint64_t t0 = now_ns();
		for (uint32_t k = 0; k < reps; k++) {
			uint64_t v = s->native(in);
			OPAQUE(v);
		}
		return (double)(now_ns() - t0) / reps;
	}
	}
}

/* ns per run in each column: the best of `batches` batches of about
 * BATCH_NS each, the columns taking turns so that a busy spell of the
 * machine hits them alike; negative errnos for columns that failed */
static void measure(const struct subject *s, double best[COL_CNT])
{
	uint32_t reps[COL_CNT];
	for (int c = 0; c < COL_CNT; c++) {
		/* a batch's repetitions, estimated three times: the first
		 * runs are slower (cold caches, page faults) */
		reps[c] = 2;
		best[c] = 1e30;
		for (int k = 0; k < 3 && best[c] > 0; k++) {
			double t = batch(s, (enum col)c, reps[c]);
			double r = BATCH_NS / (t > 1 ? t : 1);
			reps[c] = r < 2 ? 2 : r > 1e7 ? 10000000 : (uint32_t)r;
			if (t < 0)
				best[c] = t;
		}
	}
	for (int i = 0; i < batches; i++)
		for (int c = 0; c < COL_CNT; c++) {
			if (best[c] < 0)
				continue;
			double t = batch(s, (enum col)c, reps[c]);
			if (t < 0 || t < best[c])
				best[c] = t;
		}
}

static void cell(double ns)
{
	if (ns < 0)
		printf(" %10s", "-");
	else
		printf(" %10.0f", ns);
}

static void ratio(double a, double b, double *log_sum, int *n)
{
	if (a < 0 || b <= 0) {
		printf(" %8s", "-");
		return;
	}
	printf(" %7.2fx", a / b);
	*log_sum += log(a / b);
	++*n;
}

static void geo(double log_sum, int n)
{
	if (n)
		printf(" %7.2fx", exp(log_sum / n));
	else
		printf(" %8s", "-");
}

static bool wanted(const char *name, int argc, char **argv)
{
	bool any = false;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' || !strcmp(argv[i - 1], "--batches") ||
		    !strcmp(argv[i - 1], "--passes"))
			continue;
		any = true;
		if (!strcmp(argv[i], name))
			return true;
	}
	return !any;
}

static void kernel_settings(void)
{
	FILE *f = fopen("/proc/sys/net/core/bpf_jit_enable", "r");
	int en = -1, hard = -1;
	if (f) {
		if (fscanf(f, "%d", &en) != 1)
			en = -1;
		fclose(f);
	}
	f = fopen("/proc/sys/net/core/bpf_jit_harden", "r");
	if (f) {
		if (fscanf(f, "%d", &hard) != 1)
			hard = -1;
		fclose(f);
	}
	printf("  kernel: bpf_jit_enable=%d bpf_jit_harden=%d\n", en, hard);
}

/* one row of part 1 */
struct line {
	const struct row *row;
	struct subject sub;
	double t[COL_CNT];	/* ns per run, the best over the passes */
	uint64_t res[4];	/* interp, jit, native, kernel */
	char why[256];		/* why the kernel column is missing */
};

/* each column's result, from one more run */
static void line_results(struct line *l, struct bpfvm_object *obj, const int *kfd, int bss)
{
	uint32_t z = 0;
	uint8_t bssv[64] = { 0 };
	v_run(l->sub.prog, BPFVM_EXEC_INTERP, 1);
	bpfvm_object_get_global(obj, "result", &l->res[0], sizeof(l->res[0]));
	v_run(l->sub.prog, BPFVM_EXEC_JIT, 1);
	bpfvm_object_get_global(obj, "result", &l->res[1], sizeof(l->res[1]));
	l->res[2] = l->row->native(l->sub.buf);
	if (l->t[COL_KERNEL] >= 0 && bss >= 0 && k_run(l->sub.kfd, 1) >= 0 &&
	    k_map_lookup(kfd[bss], &z, bssv) == 0)
		memcpy(&l->res[3], bssv, sizeof(l->res[3]));
}

struct geo {
	double log_sum[4], worst;
	int n[4];
	const char *worst_name;
};

static void line_print(const struct line *l, bool kernel, struct geo *g)
{
	const double *t = l->t;
	printf("  %-9s %5zu", l->row->name, bpfvm_prog_insn_cnt(l->sub.prog));
	for (int c = 0; c < COL_CNT; c++)
		cell(t[c]);
	ratio(t[COL_JIT], t[COL_KERNEL], &g->log_sum[0], &g->n[0]);
	ratio(t[COL_JIT], t[COL_NATIVE], &g->log_sum[1], &g->n[1]);
	ratio(t[COL_KERNEL], t[COL_NATIVE], &g->log_sum[2], &g->n[2]);
	ratio(t[COL_INTERP], t[COL_JIT], &g->log_sum[3], &g->n[3]);
	if (t[COL_JIT] > 0 && t[COL_KERNEL] > 0 && t[COL_JIT] / t[COL_KERNEL] > g->worst) {
		g->worst = t[COL_JIT] / t[COL_KERNEL];
		g->worst_name = l->row->name;
	}
	const uint64_t *r = l->res;
	if (r[0] != r[1] || r[1] != r[2] || (t[COL_KERNEL] >= 0 && r[2] != r[3]))
		printf("  RESULTS DIFFER: %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64, r[0], r[1],
		       r[2], r[3]);
	if (kernel && t[COL_KERNEL] < 0)
		printf("  kernel: %s", l->why);
	printf("\n");
}

static void table_print(const struct line *lines, size_t n, bool kernel)
{
	struct geo g = { .worst_name = "-" };
	printf("  %-9s %5s %10s %10s %10s %10s %8s %8s %8s %8s\n", "program", "insns", "interp",
	       "jit", "native-O2", "kernel", "jit/kern", "jit/nat", "kern/nat", "int/jit");
	for (size_t i = 0; i < n; i++)
		line_print(&lines[i], kernel, &g);
	printf("  %-9s %5s %10s %10s %10s %10s", "geomean", "", "", "", "", "");
	for (int k = 0; k < 4; k++)
		geo(g.log_sum[k], g.n[k]);
	printf("\n");
	if (g.n[0])
		printf("  slowest against the kernel: %s, %.2fx\n", g.worst_name, g.worst);
	printf("  interp: bpfvm's fast interpreter; jit: bpfvm's JIT code (verified program);\n"
	       "  native-O2: the same C (bench/jit/algos.h) built with -O2; kernel: this\n"
	       "  machine's kernel JIT via BPF_PROG_TEST_RUN.  Ratios > 1: the first is slower.\n\n");
}

/* the wanted rows' programs, compiled and loaded into the kernel; returns
 * the count */
static size_t lines_make(struct line *lines, struct bpfvm_object *obj, const int *kfd,
			 bool kernel, int argc, char **argv)
{
	size_t n = 0;
	char log[512];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		char pname[64];
		if (!wanted(r->name, argc, argv))
			continue;
		snprintf(pname, sizeof(pname), "bench_%s", r->name);
		struct bpfvm_prog *p = bpfvm_object_find_prog(obj, pname);
		if (!p || bpfvm_prog_jit(p, log, sizeof(log))) {
			printf("  %-9s %s\n", r->name, p ? log : "no such program");
			continue;
		}
		struct line *l = &lines[n++];
		memset(l, 0, sizeof(*l));
		l->row = r;
		l->sub = (struct subject){ p, -ENOSYS, r->native, row_buf(r) };
		if (kernel)
			l->sub.kfd = k_prog_load(p, kfd, l->why, sizeof(l->why));
		for (int c = 0; c < COL_CNT; c++)
			l->t[c] = 1e30;
	}
	return n;
}

/* `passes` rounds over all rows, so that a busy spell of the machine spoils
 * one round of a row, not the row */
static void lines_measure(struct line *lines, size_t n)
{
	for (int pass = 0; pass < passes; pass++)
		for (size_t i = 0; i < n; i++) {
			double t[COL_CNT];
			measure(&lines[i].sub, t);
			for (int c = 0; c < COL_CNT; c++)
				if (t[c] < 0 || (lines[i].t[c] >= 0 && t[c] < lines[i].t[c]))
					lines[i].t[c] = t[c];
		}
	for (size_t i = 0; i < n; i++)
		if (lines[i].sub.kfd < 0)
			lines[i].t[COL_KERNEL] = lines[i].sub.kfd;
		else if (lines[i].t[COL_KERNEL] < 0)
			snprintf(lines[i].why, sizeof(lines[i].why), "BPF_PROG_TEST_RUN: %s",
				 strerror((int)-lines[i].t[COL_KERNEL]));
}

/* part 1; returns 0, or 1 when the object does not load */
static int kernel_set(int argc, char **argv)
{
	static struct line lines[sizeof(rows) / sizeof(rows[0])];
	char log[8192] = "";
	struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
	oo.log_buf = log;
	oo.log_size = sizeof(log);
	struct bpfvm_object *obj = bpfvm_object_open(OBJ, &oo);
	if (!obj || bpfvm_object_load(obj)) {
		printf("bench_jit: cannot load %s: %.2000s\n", OBJ, log);
		return 1;
	}
	v_maps_fill(obj);
	int kfd[MAX_MAPS], bss = -1;
	size_t nmaps = bpfvm_object_map_cnt(obj);
	for (size_t i = 0; i < MAX_MAPS; i++)
		kfd[i] = -1;
	bool kernel = k_maps_make(obj, kfd, &bss);
	printf("bench_jit part 1: %s, ns per run (best of %d x %d batches)\n", OBJ, passes,
	       batches);
	kernel_settings();
	size_t n = lines_make(lines, obj, kfd, kernel, argc, argv);
	lines_measure(lines, n);
	for (size_t i = 0; i < n; i++)
		line_results(&lines[i], obj, kfd, bss);
	table_print(lines, n, kernel);
	for (size_t i = 0; i < n; i++)
		if (lines[i].sub.kfd >= 0)
			close(lines[i].sub.kfd);
	for (size_t i = 0; i < nmaps && i < MAX_MAPS; i++)
		if (kfd[i] >= 0)
			close(kfd[i]);
	bpfvm_object_close(obj);
	return 0;
}

/* ===================================== part 2: bench/programs/, unverified */

#define ASM_INPUT_SZ 65536

static uint64_t c_loop_sum(const uint8_t *m, size_t n)
{
	(void)m, (void)n;
	uint64_t s = 0;
	for (uint64_t i = 0; i < 200000; i++) {
		s += i * i;
		OPAQUE(s);
	}
	return s;
}

static uint64_t c_fnv1a(const uint8_t *m, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= m[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t c_sieve(const uint8_t *m, size_t n)
{
	(void)m, (void)n;
	uint8_t bits[512];
	memset(bits, 0, sizeof(bits));
	OPAQUE(m);
	uint64_t count = 0;
	for (uint64_t i = 2; i < 4096; i++) {
		if (bits[i >> 3] >> (i & 7) & 1)
			continue;
		count++;
		for (uint64_t j = i * i; j < 4096; j += i)
			bits[j >> 3] |= (uint8_t)(1u << (j & 7));
	}
	return count;
}

static uint64_t c_bubble(const uint8_t *m, size_t n)
{
	(void)m, (void)n;
	uint32_t a[64], x = 12345;
	for (int i = 0; i < 64; i++) {
		x = x * 1103515245u + 12345u;
		a[i] = x;
	}
	OPAQUE(m);
	for (int len = 63; len != 0; len--)
		for (int j = 0; j < len; j++) {
			uint32_t u = a[j], w = a[j + 1];
			OPAQUE(u); /* else gcc swaps with one 8-byte store the next load stalls on */
			if (u > w) {
				a[j] = w;
				a[j + 1] = u;
			}
		}
	uint64_t s = 0;
	for (int i = 0; i < 64; i++)
		s += (uint64_t)a[i] * (uint64_t)(i + 1);
	return s;
}

static uint64_t c_checksum(const uint8_t *m, size_t n)
{
	uint64_t s = 0;
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		uint32_t w;
		memcpy(&w, m + i, 4);
		s += w;
	}
	for (; i < n; i++)
		s += m[i];
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return __builtin_bswap16((uint16_t)(s ^ 0xffff));
}

static uint64_t c_murmur(const uint8_t *m, size_t n)
{
	const uint64_t k = 0xc6a4a7935bd1e995ull;
	uint64_t h = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, m + i, 8);
		w *= k;
		w ^= w >> 47;
		w *= k;
		h ^= w;
		h *= k;
	}
	return h ^ (h >> 47);
}

static const struct asm_bench {
	const char *name;
	uint64_t (*native)(const uint8_t *, size_t);
} asm_benches[] = {
	{ "loop_sum", c_loop_sum },
	{ "fnv1a", c_fnv1a },
	{ "sieve", c_sieve },
	{ "bubble", c_bubble },
	{ "checksum", c_checksum },
	{ "murmur", c_murmur },
};

static uint8_t asm_input[ASM_INPUT_SZ];

/* ns per run in `mode`, best of the batches; *r0 the result */
static double time_mode(struct bpfvm_prog *p, int mode, uint64_t *r0)
{
	struct bpfvm_run_opts o = BPFVM_OPTS_INIT(bpfvm_run_opts);
	char err[256] = "";
	o.mem = asm_input;
	o.mem_sz = ASM_INPUT_SZ;
	o.mode = mode;
	o.err_buf = err;
	o.err_size = sizeof(err);
	o.repeat = 1;
	if (bpfvm_prog_run(p, &o)) {
		fprintf(stderr, "run failed: %s\n", err);
		return -1;
	}
	*r0 = o.retval;
	uint64_t per = o.duration_ns ? o.duration_ns : 1;
	o.repeat = (uint32_t)(BATCH_NS / 2 / (double)per + 1);
	double best = 1e30;
	for (int i = 0; i < batches; i++) {
		uint64_t t0 = now_ns();
		bpfvm_prog_run(p, &o);
		double ns = (double)(now_ns() - t0) / o.repeat;
		if (ns < best)
			best = ns;
	}
	return best;
}

static double time_c(uint64_t (*fn)(const uint8_t *, size_t), uint64_t *r0)
{
	const uint8_t *volatile in = asm_input;
	uint64_t t0 = now_ns();
	*r0 = fn(in, ASM_INPUT_SZ);
	uint64_t per = now_ns() - t0 + 1, reps = (uint64_t)(BATCH_NS / 2 / (double)per) + 1;
	double best = 1e30;
	for (int i = 0; i < batches; i++) {
		t0 = now_ns();
		for (uint64_t k = 0; k < reps; k++) {
			uint64_t v = fn(in, ASM_INPUT_SZ);
			OPAQUE(v);
		}
		double ns = (double)(now_ns() - t0) / (double)reps;
		if (ns < best)
			best = ns;
	}
	return best;
}

static struct bpfvm_prog *load(const struct bpf_insn *v, size_t n, bool verified)
{
	char log[256] = "";
	struct bpfvm_prog_opts o = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	o.log_buf = log;
	o.log_size = sizeof(log);
	struct bpfvm_prog *p = bpfvm_prog_from_insns(v, n, &o);
	if (!p)
		fprintf(stderr, "load failed: %s\n", log);
	else
		p->verified = verified; /* what a verifier would set: unchecked code */
	return p;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = 0;
	return buf;
}

/* µs to compile v (n insns), best of `trials` */
static double compile_us(const struct bpf_insn *v, size_t n, bool verified, int trials)
{
	double best = 1e30;
	for (int i = 0; i < trials; i++) {
		struct bpfvm_prog *p = load(v, n, verified);
		if (!p)
			return -1;
		uint64_t t0 = now_ns();
		int err = bpfvm_prog_jit(p, NULL, 0);
		double us = (double)(now_ns() - t0) / 1000.0;
		bpfvm_prog_free(p);
		if (err)
			return -1;
		if (us < best)
			best = us;
	}
	return best;
}

/* the assembled program `name`, or NULL (reason printed) */
static struct bpf_insn *asm_program(const char *name, size_t *n)
{
	char path[256], err[256];
	snprintf(path, sizeof(path), "bench/programs/%s.s", name);
	char *text_s = read_text(path);
	if (!text_s) {
		printf("  %-9s (cannot read %s: run from the repository root)\n", name, path);
		return NULL;
	}
	struct bpf_insn *v = NULL;
	if (bpfvm_asm(text_s, &v, n, err, sizeof(err))) {
		printf("  %-9s asm: %s\n", name, err);
		v = NULL;
	}
	free(text_s);
	return v;
}

/* part 2; compile times of its programs summed into cmp_sum[2] */
static int asm_set(double cmp_sum[2], size_t *cmp_n)
{
	uint64_t s = 1;
	for (size_t i = 0; i < ASM_INPUT_SZ; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		asm_input[i] = (uint8_t)(s >> 56);
	}
	printf("bench_jit part 2: bench/programs/*.s over %d bytes of memory, ns per run\n",
	       ASM_INPUT_SZ);
	printf("  %-9s %5s %10s %10s %11s %10s %10s %9s %9s\n", "program", "insns", "interp",
	       "checked", "jit-checked", "jit", "native", "int/jit", "jit/nat");
	for (size_t b = 0; b < sizeof(asm_benches) / sizeof(asm_benches[0]); b++) {
		size_t n;
		struct bpf_insn *v = asm_program(asm_benches[b].name, &n);
		if (!v)
			continue;
		struct bpfvm_prog *pu = load(v, n, false), *pv = load(v, n, true);
		if (!pu || !pv)
			return 1;
		uint64_t r[5];
		double t[5];
		t[0] = time_mode(pv, BPFVM_EXEC_INTERP, &r[0]);
		t[1] = time_mode(pu, BPFVM_EXEC_CHECKED, &r[1]);
		t[2] = time_mode(pu, BPFVM_EXEC_JIT, &r[2]);
		t[3] = time_mode(pv, BPFVM_EXEC_JIT, &r[3]);
		t[4] = time_c(asm_benches[b].native, &r[4]);
		bool agree = r[0] == r[1] && r[1] == r[2] && r[2] == r[3] && r[3] == r[4];
		printf("  %-9s %5zu %10.0f %10.0f %11.0f %10.0f %10.0f %8.1fx %8.2fx%s\n",
		       asm_benches[b].name, n, t[0], t[1], t[2], t[3], t[4], t[0] / t[3],
		       t[3] / t[4], agree ? "" : "  RESULTS DIFFER");
		cmp_sum[0] += compile_us(v, n, false, 20);
		cmp_sum[1] += compile_us(v, n, true, 20);
		++*cmp_n;
		bpfvm_prog_free(pu);
		bpfvm_prog_free(pv);
		free(v);
	}
	printf("  checked: checked interpreter; jit-checked: JIT code with bounds, alignment and\n"
	       "  budget checks (unverified program); jit: the program marked verified;\n"
	       "  native: the same algorithm in C (this file's CFLAGS).\n\n");
	return 0;
}

/* =========================================================== part 3 */

static void put(struct bpf_insn *v, size_t *n, uint8_t code, uint64_t dst, uint64_t src, int off,
		int32_t imm)
{
	v[(*n)++] = (struct bpf_insn){ code, (unsigned)(dst == 10 ? 10 : dst % 10), (unsigned)(src % 11),
				       (int16_t)off, imm };
}

/* a large program of typical shape: ALU work, stack traffic and forward
 * branches in 16-instruction groups */
static struct bpf_insn *synthetic(size_t groups, size_t *cnt)
{
	static const uint8_t alu[] = { 0x0f, 0x1f, 0x2f, 0x4f, 0x5f, 0xaf, 0x07, 0x27, 0x67, 0x77, 0x04, 0xbc };
	struct bpf_insn *v = calloc(groups * 16 + 16, sizeof(*v));
	size_t n = 0;
	uint64_t s = 88172645463325252ull;
	if (!v)
		return NULL;
	for (int r = 0; r < 10; r++)
		put(v, &n, 0xb7, (uint64_t)r, 0, 0, r);			/* mov rR, R */
	for (size_t g = 0; g < groups; g++) {
		for (int k = 0; k < 11; k++) {
			uint8_t c = alu[xorshift(&s) % sizeof(alu)];
			uint64_t d = xorshift(&s), r = xorshift(&s) % 10;
			if (c == 0x67 || c == 0x77)
				put(v, &n, c, d, 0, 0, (int32_t)(r * 6));	/* shifts */
			else if (c & 0x08)
				put(v, &n, c, d, r, 0, 0);			/* op dst, src */
			else
				put(v, &n, c, d, 0, 0, (int32_t)xorshift(&s));	/* op dst, imm */
		}
		uint64_t a = xorshift(&s), b = xorshift(&s);
		put(v, &n, 0x7b, 10, a, -8 * (int)(1 + b % 60), 0);		/* stxdw [r10-k], rA */
		a = xorshift(&s), b = xorshift(&s);
		put(v, &n, 0x79, a, 10, -8 * (int)(1 + b % 60), 0);		/* ldxdw rA, [r10-k] */
		a = xorshift(&s), b = xorshift(&s);
		put(v, &n, 0x2d, a, b % 10, 1 + (int)(a % 2), 0);		/* jgt rA, rB, +1|+2 */
		put(v, &n, 0x07, xorshift(&s), 0, 0, 1);			/* add rA, 1 */
		put(v, &n, 0x07, xorshift(&s), 0, 0, 2);			/* add rB, 2 */
	}
	put(v, &n, 0x95, 0, 0, 0, 0);					/* exit */
	*cnt = n;
	return v;
}

static void compile_times(const double cmp_sum[2], size_t cmp_n)
{
	size_t big_n;
	struct bpf_insn *big = synthetic(6250, &big_n);
	if (!big)
		return;
	printf("bench_jit part 3: compile time (best of several)\n");
	if (cmp_n)
		printf("  part-2 programs, us per program (mean):     checked %7.1f  unchecked %7.1f\n",
		       cmp_sum[0] / (double)cmp_n, cmp_sum[1] / (double)cmp_n);
	printf("  generated, %zu insns, us per 1,000 insns:  checked %7.1f  unchecked %7.1f\n", big_n,
	       compile_us(big, big_n, false, 3) * 1000.0 / (double)big_n,
	       compile_us(big, big_n, true, 3) * 1000.0 / (double)big_n);
	free(big);
}

int main(int argc, char **argv)
{
	bool with_asm = true;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--batches") && i + 1 < argc)
			batches = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
		else if (!strcmp(argv[i], "--passes") && i + 1 < argc)
			passes = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
		else if (!strcmp(argv[i], "--no-asm"))
			with_asm = false;
		else if (!strcmp(argv[i], "--harden"))
			bpfvm_jit_set_harden(1);
	}
	make_data();
	memcpy(scratch, input, sizeof(scratch)); /* the sieve clears it itself */
	if (kernel_set(argc, argv))
		return 1;
	double cmp_sum[2] = { 0, 0 };
	size_t cmp_n = 0;
	if (with_asm && asm_set(cmp_sum, &cmp_n))
		return 1;
	compile_times(cmp_sum, cmp_n);
	return 0;
}
