/* main.c — command line and summary of the kernel-differential test.
 *
 *   kdiff [--seed S] [--count N] [--only INDEX] [--verbose] [--show] [--max-report N]
 *
 * Generates N random programs from seed S (program i depends only on S and
 * i, so --only i reproduces one), runs each on the kernel, on bpfvm in every
 * execution mode and on a reference evaluator, and prints one summary line.
 * Exit status: 0 all programs matched or were classified as known kernel
 * bugs; 1 a failure, or the verifier refused more than 5% of the programs
 * (the generator would then be wrong); 77 the kernel cannot run eBPF here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kdiff.h"

struct options {
	uint64_t seed;
	uint64_t count;
	int64_t only;		/* -1: all */
	bool verbose, show;
	long max_report;	/* detailed failure reports to print */
};

struct stats {
	uint64_t total, by[KD_VERDICT_N];
	unsigned modes_ran;
	int refusals_shown;
};

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--seed S] [--count N] [--only INDEX] [--verbose] [--show] "
		"[--max-report N]\n", argv0);
	exit(2);
}

static uint64_t number(const char *s, const char *argv0)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || !*s || *end)
		usage(argv0);
	return v;
}

static void parse(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .seed = 1, .count = 500, .only = -1, .max_report = 5 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if (!strcmp(a, "--seed") && more)
			o->seed = number(argv[++i], argv[0]);
		else if (!strcmp(a, "--count") && more)
			o->count = number(argv[++i], argv[0]);
		else if (!strcmp(a, "--only") && more)
			o->only = (int64_t)number(argv[++i], argv[0]);
		else if (!strcmp(a, "--max-report") && more)
			o->max_report = (long)number(argv[++i], argv[0]);
		else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
			o->verbose = true;
		else if (!strcmp(a, "--show"))
			o->show = true;
		else
			usage(argv[0]);
	}
}

/* the last lines of a verifier log: where the error is */
static void print_log_tail(const char *log, int lines)
{
	const char *p = log + strlen(log);
	while (p > log && (p[-1] == '\n' || p[-1] == ' '))
		p--;
	const char *end = p;
	for (int n = 0; p > log && n < lines; p--)
		if (p[-1] == '\n')
			n++;
	printf("    %.*s\n", (int)(end - p), p);
}

static void run_one(const struct options *o, struct stats *st, uint64_t index)
{
	static char log[1 << 16];
	long failures = (long)st->by[KD_FAIL];
	long known = (long)(st->by[KD_KNOWN_BUG1] + st->by[KD_KNOWN_BUG2] +
			    st->by[KD_KNOWN_BOTH] + st->by[KD_KNOWN_PRUNING]);
	struct kd_check_opts co = {
		.verbose = o->verbose,
		.show = o->show || o->only >= 0,
		.report = failures < o->max_report || o->only >= 0,
		.report_known = known < o->max_report || o->only >= 0,
		.refusal_log = log,
		.refusal_log_size = sizeof(log),
	};
	log[0] = 0;
	enum kd_verdict v = kd_check(o->seed, index, &co, &st->modes_ran);
	st->total++;
	st->by[v]++;
	if (v == KD_REFUSED_BY_KERNEL && (o->verbose || o->only >= 0) && st->refusals_shown < 5) {
		st->refusals_shown++;
		printf("refused by the verifier: seed %" PRIu64 " index %" PRIu64 ":\n", o->seed, index);
		print_log_tail(log, 4);
	}
}

static void summary(const struct options *o, const struct stats *st, double secs)
{
	uint64_t known = st->by[KD_KNOWN_BUG1] + st->by[KD_KNOWN_BUG2] + st->by[KD_KNOWN_BOTH] +
			 st->by[KD_KNOWN_PRUNING];
	printf("kdiff: seed %" PRIu64 ", %" PRIu64 " programs, %" PRIu64 " refused by the kernel, "
	       "%" PRIu64 " matched, %" PRIu64 " mismatched (%" PRIu64 " known-kernel-bug, %" PRIu64
	       " failures); bpfvm modes: checked%s%s, %s; %.1f s\n",
	       o->seed, st->total, st->by[KD_REFUSED_BY_KERNEL], st->by[KD_MATCH],
	       known + st->by[KD_FAIL], known, st->by[KD_FAIL],
	       st->modes_ran & 2 ? " interp" : "", st->modes_ran & 4 ? " jit" : "",
	       st->modes_ran & 4 ? "all" : "jit unavailable (skipped)", secs);
	if (o->verbose) {
		const struct kd_ref_stats *r = &kd_ref_stats;
		printf("  executed (reference, all runs): %" PRIu64 " ALU insns; conditional jumps %"
		       PRIu64 " taken / %" PRIu64 " not; cmpxchg %" PRIu64 " succeeded (%" PRIu64
		       " 32-bit with r0's upper half set) / %" PRIu64 " failed; div/mod by register "
		       "0: %" PRIu64 ", -1: %" PRIu64 ", other: %" PRIu64 "\n",
		       r->executed, r->cond[1], r->cond[0], r->cmpxchg[1], r->cmpxchg32_upper,
		       r->cmpxchg[0], r->div_by[0], r->div_by[1], r->div_by[2]);
	}
	for (int v = KD_KNOWN_BUG1; v <= KD_KNOWN_PRUNING; v++)
		if (st->by[v])
			printf("  %" PRIu64 " x %s\n", st->by[v], kd_verdict_name((enum kd_verdict)v));
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct options o;
	struct stats st;
	char why[256];
	parse(argc, argv, &o);
	memset(&st, 0, sizeof(st));
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (kd_kernel_probe(why, sizeof(why))) {
		printf("kdiff: skipped: %s (needs root and a kernel with eBPF)\n", why);
		return 77;
	}
	kd_crash_guard();
	double t0 = now();
	if (o.only >= 0)
		run_one(&o, &st, (uint64_t)o.only);
	for (uint64_t i = 0; o.only < 0 && i < o.count; i++)
		run_one(&o, &st, i);
	summary(&o, &st, now() - t0);
	if (st.total >= 20 && st.by[KD_REFUSED_BY_KERNEL] * 20 > st.total) {
		printf("kdiff: FAIL: the verifier refused more than 5%% of the programs: the generator "
		       "makes programs the kernel does not accept (see --verbose)\n");
		return 1;
	}
	return st.by[KD_FAIL] ? 1 : 0;
}
