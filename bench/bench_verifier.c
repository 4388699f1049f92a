/* bench_verifier.c — verification time per program, bpfvm against the kernel.
 *
 * Every program of the tests/objects, examples and bench/objects .bpf.o
 * files is opened unverified and linked by bpfvm (bench/objects/xdp_lb.bpf.o
 * is the large one: a load balancer the kernel verifies in ~365k processed
 * instructions); then
 *   - bpfvm: bpfvm_prog_verify() (log level 0) several times, the median of
 *     stats.duration_ns, and stats.insn_processed;
 *   - kernel: BPF_PROG_LOAD of the same linked bytecode (maps as kernel maps
 *     passed in the fd_array, as tests/unit/test_kdiff_pkt.c does) with
 *     log_level BPF_LOG_STATS: the median "verification time N usec" and
 *     "processed N insns" lines, and the median wall time of the whole
 *     syscall (which adds JIT compilation and setup).
 * Programs one side refuses show its errno.  Without bpf(2) the kernel columns
 * are skipped.
 *
 *   make bench     or     build/bench/bench_verifier [OBJECT.bpf.o ...]
 */
#include <linux/bpf.h>
#ifndef _UAPI__LINUX_BPF_H__
#define _UAPI__LINUX_BPF_H__
#endif

#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bpfvm.h"
#include "../tests/kbpf.h"

#define RUNS_V 9
#define RUNS_K 9
#define MAX_MAPS 32

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void k_rodata(int fd, struct bpfvm_map *m)
{
	const char *name = bpfvm_map_name(m);
	if (!name || !(strstr(name, ".data") || strstr(name, ".rodata") || strstr(name, ".bss")))
		return;
	uint32_t k = 0;
	uint8_t *v = calloc(1, bpfvm_map_value_size(m));
	union bpf_attr a;
	if (v && bpfvm_map_lookup_elem(m, &k, v) == 0) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)fd;
		a.key = (uint64_t)(uintptr_t)&k;
		a.value = (uint64_t)(uintptr_t)v;
		sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
	}
	free(v);
	if (strstr(name, ".rodata")) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)fd;
		sys_bpf(BPF_MAP_FREEZE, &a);
	}
}

static char klog[1 << 16];

/* load once; fd or negative errno; *verif_us, *processed from the stats log */
static int k_load(const struct bpfvm_prog *p, const int *fd_array, double *verif_us,
		  double *processed, double *wall_ns)
{
	union bpf_attr a;
	const char *sec = bpfvm_prog_section(p);
	memset(&a, 0, sizeof(a));
	a.prog_type = bpfvm_prog_type(p);
	a.insns = (uint64_t)(uintptr_t)bpfvm_prog_insns(p);
	a.insn_cnt = (uint32_t)bpfvm_prog_insn_cnt(p);
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.fd_array = (uint64_t)(uintptr_t)fd_array;
	if (sec && strstr(sec, ".frags"))
		a.prog_flags = BPF_F_XDP_HAS_FRAGS;
	if (a.prog_type == BPF_PROG_TYPE_CGROUP_SKB)
		a.expected_attach_type = BPF_CGROUP_INET_INGRESS;
	a.log_buf = (uint64_t)(uintptr_t)klog;
	a.log_size = sizeof(klog);
	a.log_level = 4;	/* BPF_LOG_STATS */
	klog[0] = 0;
	double t0 = now_ns();
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	*wall_ns = now_ns() - t0;
	const char *s = strstr(klog, "verification time ");
	*verif_us = s ? strtod(s + 18, NULL) : -1;
	s = strstr(klog, "processed ");
	*processed = s ? strtod(s + 10, NULL) : -1;
	return fd;
}

/* the kernel's reason for refusing p: the last line of its level-1 log
 * before the statistics */
static const char *k_why(const struct bpfvm_prog *p, const int *fd_array)
{
	static char log1[1 << 20];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = bpfvm_prog_type(p);
	a.insns = (uint64_t)(uintptr_t)bpfvm_prog_insns(p);
	a.insn_cnt = (uint32_t)bpfvm_prog_insn_cnt(p);
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.fd_array = (uint64_t)(uintptr_t)fd_array;
	if (a.prog_type == BPF_PROG_TYPE_CGROUP_SKB)
		a.expected_attach_type = BPF_CGROUP_INET_INGRESS;
	a.log_buf = (uint64_t)(uintptr_t)log1;
	a.log_size = sizeof(log1);
	a.log_level = 1;
	log1[0] = 0;
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		close(fd);
	char *end = strstr(log1, "processed ");
	if (end)
		*end = 0;
	size_t n = strlen(log1);
	while (n && log1[n - 1] == '\n')
		log1[--n] = 0;
	char *nl = strrchr(log1, '\n');
	return nl ? nl + 1 : log1[0] ? log1 : "no log";
}

static int kernel_ok = 1;
static double tot_v, tot_k;
/* per program both accept: bpfvm and kernel times, for the medians */
#define MAX_PROGS 256
static double all_v[MAX_PROGS], all_k[MAX_PROGS];
static int n_both;
static char big_name[96];
static double big_v, big_k, big_kproc = -1, big_vproc;

static void bench_object(const char *path)
{
	char log[4096] = "";
	struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
	oo.log_buf = log;
	oo.log_size = sizeof(log);
	oo.flags = BPFVM_OBJECT_UNVERIFIED;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct bpfvm_object *obj = bpfvm_object_open(path, &oo);
	if (!obj || bpfvm_object_load(obj)) {
		char *nl = strchr(log, '\n');
		if (nl)
			*nl = 0;
		printf("  %-22s %-26s bpfvm does not load it: %.90s\n", base, "-", log);
		bpfvm_object_close(obj);
		return;
	}
	int kfd[MAX_MAPS];
	size_t nmaps = bpfvm_object_map_cnt(obj);
	for (size_t i = 0; i < nmaps && i < MAX_MAPS; i++) {
		struct bpfvm_map *m = bpfvm_object_map(obj, i);
		kfd[i] = kernel_ok ? k_map_create(m) : -1;
		if (kfd[i] >= 0)
			k_rodata(kfd[i], m);
	}
	for (size_t pi = 0; pi < bpfvm_object_prog_cnt(obj); pi++) {
		struct bpfvm_prog *p = bpfvm_object_prog(obj, pi);
		if (!p)
			continue;
		double v[RUNS_V], proc_v = -1;
		int verr = 0;
		for (int r = 0; r < RUNS_V; r++) {
			struct bpfvm_verify_stats st;
			memset(&st, 0, sizeof(st));
			struct bpfvm_verify_opts vo = BPFVM_OPTS_INIT(bpfvm_verify_opts);
			vo.stats = &st;
			verr = bpfvm_prog_verify(p, &vo);
			v[r] = (double)st.duration_ns;
			proc_v = (double)st.insn_processed;
		}
		double vmed = median(v, RUNS_V) / 1000.0;
		printf("  %-22s %-26s %6zu %9s %9.1f %9.0f", base, bpfvm_object_prog_name(obj, pi),
		       bpfvm_prog_insn_cnt(p), verr ? strerror(-verr) : "ok", vmed, proc_v);
		if (!kernel_ok) {
			printf(" %9s\n", "skipped");
			continue;
		}
		double ku[RUNS_K], kw[RUNS_K], kproc = -1;
		int kerr = 0;
		for (int r = 0; r < RUNS_K; r++) {
			int fd = k_load(p, kfd, &ku[r], &kproc, &kw[r]);
			if (fd < 0) {
				kerr = fd;
				break;
			}
			close(fd);
		}
		if (kerr) {
			printf(" %9s  (%s: %.70s)\n", "refused", strerror(-kerr), k_why(p, kfd));
			continue;
		}
		double kmed = median(ku, RUNS_K), kwall = median(kw, RUNS_K) / 1000.0;
		printf(" %9.0f %9.0f %9.0f %7.1fx\n", kmed, kwall, kproc,
		       kmed > 0 ? vmed / kmed : 0.0);
		fflush(stdout);
		tot_v += vmed;
		tot_k += kmed;
		if (n_both < MAX_PROGS) {
			all_v[n_both] = vmed;
			all_k[n_both] = kmed;
			n_both++;
		}
		if (kproc > big_kproc) {
			big_kproc = kproc;
			big_vproc = proc_v;
			big_v = vmed;
			big_k = kmed;
			snprintf(big_name, sizeof(big_name), "%s %s", base, bpfvm_object_prog_name(obj, pi));
		}
	}
	for (size_t i = 0; i < nmaps && i < MAX_MAPS; i++)
		if (kfd[i] >= 0)
			close(kfd[i]);
	bpfvm_object_close(obj);
}

int main(int argc, char **argv)
{
	double t0 = now_ns();
	union bpf_attr a;
	struct bpf_insn ret0[2] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K },
				    { .code = BPF_JMP | BPF_EXIT } };
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uint64_t)(uintptr_t)ret0;
	a.insn_cnt = 2;
	a.license = (uint64_t)(uintptr_t)"GPL";
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0) {
		kernel_ok = 0;
		printf("kernel: BPF_PROG_LOAD refused (%s): kernel columns skipped\n", strerror(-fd));
	} else {
		close(fd);
	}
	printf("bench_verifier: verification time per program (bpfvm median of %d, kernel of %d)\n",
	       RUNS_V, RUNS_K);
	printf("  command: build/bench/bench_verifier%s\n", argc > 1 ? " OBJECT..." : "");
	printf("  %-22s %-26s %6s %9s %9s %9s %9s %9s %9s %8s\n", "object", "program", "insns",
	       "bpfvm", "bpfvm us", "processed", "kernel us", "load us", "processed", "v/k");
	glob_t g;
	memset(&g, 0, sizeof(g));
	glob("tests/objects/*.bpf.o", 0, NULL, &g);
	glob("examples/*.bpf.o", GLOB_APPEND, NULL, &g);
	glob("bench/objects/*.bpf.o", GLOB_APPEND, NULL, &g);
	if (argc > 1)	/* objects named on the command line instead */
		for (int i = 1; i < argc; i++)
			bench_object(argv[i]);
	else
		for (size_t i = 0; i < g.gl_pathc; i++)
			bench_object(g.gl_pathv[i]);
	globfree(&g);
	if (tot_k > 0)
		printf("  sum over programs both accept: bpfvm %.0f us, kernel %.0f us (%.1fx)\n",
		       tot_v, tot_k, tot_v / tot_k);
	if (n_both) {
		double mv = median(all_v, n_both), mk = median(all_k, n_both);
		printf("  median program (%d both accept): bpfvm %.1f us, kernel %.1f us (%.2fx)\n",
		       n_both, mv, mk, mk > 0 ? mv / mk : 0.0);
		printf("  largest (most kernel-processed insns), %s: bpfvm %.0f us / %.0f insns, "
		       "kernel %.0f us / %.0f insns (%.2fx)\n", big_name, big_v, big_vproc, big_k,
		       big_kproc, big_k > 0 ? big_v / big_k : 0.0);
	}
	printf("  (kernel us: the \"verification time\" line of log_level BPF_LOG_STATS; load us: "
	       "the whole BPF_PROG_LOAD; total %.1f s)\n", (now_ns() - t0) / 1e9);
	return 0;
}
