/* bench_map_prog.c — map lookups and updates from inside a program, bpfvm
 * against the kernel.
 *
 * bench/objects/map_prog.bpf.o has, for ARRAY, HASH, PERCPU_HASH, LRU_HASH
 * and LPM_TRIE maps of 1,024 and 1,048,576 entries, an XDP program doing
 * K = 1,000 lookups and one doing 1,000 updates (BPF_ANY) of pseudo-random keys
 * in a bounded loop (a fresh seed per run).  Every map is filled with every key
 * (value 1) first, in bpfvm and in kernel maps created with the same
 * definitions.  The same linked bytecode runs through bpfvm_prog_test_run()
 * with repeat (fast interpreter and JIT) and through the kernel's
 * BPF_PROG_TEST_RUN with repeat (kernel maps passed as the fd_array, as
 * tests/unit/test_kdiff_pkt.c does).  ns/op = mean run time / K, loop and key
 * arithmetic included (the `loop_only` row is that part alone).  "hit%" is the
 * share of lookups that found their key (LRU maps filled to capacity may have
 * evicted some).  Without bpf(2) the kernel columns are skipped.
 *
 *   make bench     or     build/bench/bench_map_prog [-r N] [NAME...]
 *
 * Each measurement is split into windows (-r N, default 10) and the fastest
 * is kept: on a busy machine short windows often run undisturbed, and the
 * kernel's BPF_PROG_TEST_RUN timer already leaves out the time the task is
 * rescheduled.  NAMEs keep only the rows whose map name contains one of them
 * (and fill only those maps).
 */
#include <linux/bpf.h>
#ifndef _UAPI__LINUX_BPF_H__
#define _UAPI__LINUX_BPF_H__
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bpfvm.h"
#include "../tests/kbpf.h"
#include "bpfvm/jit.h"

#define OBJ "bench/objects/map_prog.bpf.o"
#define K 1000
#define TARGET_NS 120000000.0	/* time per measurement */
#define MAX_MAPS 16

static int nr_possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	int a = 0, b = 0, n;
	if (!f)
		return 1;
	n = fscanf(f, "%d-%d", &a, &b);
	fclose(f);
	return n == 2 ? b + 1 : a + 1;
}

/* BPF_MAP_UPDATE_BATCH of n keys (key_sz bytes each) all with the value val
 * (val_sz bytes): 0 or a negative errno (-EINVAL etc. for maps without it) */
static int k_map_fill_batch(int fd, uint32_t n, uint32_t key_sz, const void *val, uint32_t val_sz,
			    int lpm)
{
	enum { CHUNK = 65536 };
	uint8_t *keys = malloc((size_t)CHUNK * key_sz), *vals = malloc((size_t)CHUNK * val_sz);
	int err = keys && vals ? 0 : -ENOMEM;
	for (uint32_t i = 0; i < CHUNK && !err; i++)
		memcpy(vals + (size_t)i * val_sz, val, val_sz);
	for (uint32_t base = 0; base < n && !err; base += CHUNK) {
		uint32_t cnt = n - base < CHUNK ? n - base : CHUNK;
		for (uint32_t i = 0; i < cnt; i++) {
			uint32_t key[2] = { base + i, 0 };
			if (lpm) {
				key[0] = 32;
				key[1] = base + i;
			}
			memcpy(keys + (size_t)i * key_sz, key, key_sz);
		}
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.batch.map_fd = (uint32_t)fd;
		a.batch.keys = (uint64_t)(uintptr_t)keys;
		a.batch.values = (uint64_t)(uintptr_t)vals;
		a.batch.count = cnt;
		err = sys_bpf(BPF_MAP_UPDATE_BATCH, &a);
	}
	free(keys);
	free(vals);
	return err;
}

static int k_prog_load(const struct bpfvm_prog *p, const int *fd_array)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = bpfvm_prog_type(p);
	a.insns = (uint64_t)(uintptr_t)bpfvm_prog_insns(p);
	a.insn_cnt = (uint32_t)bpfvm_prog_insn_cnt(p);
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.fd_array = (uint64_t)(uintptr_t)fd_array;
	return sys_bpf(BPF_PROG_LOAD, &a);
}

static uint8_t pkt[64] = { [12] = 0x08 };

/* mean ns per run in the kernel, or a negative errno */
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

static int best_of = 10;	/* windows per measurement (-r) */

/* one window: calibrate the repeat count on a short run, then time */
static double measure_once(struct bpfvm_prog *p, int mode, int kfd)
{
	double t = kfd >= 0 ? k_run(kfd, 3) : v_run(p, mode, 3);
	if (t < 0)
		return t;
	double rep = TARGET_NS / best_of / (t > 1 ? t : 1);
	uint32_t r = rep < 3 ? 3 : rep > 1e6 ? 1000000 : (uint32_t)rep;
	return kfd >= 0 ? k_run(kfd, r) : v_run(p, mode, r);
}

/* one measurement: the fastest of best_of windows (or the first error) */
static double measure(struct bpfvm_prog *p, int mode, int kfd)
{
	double best = measure_once(p, mode, kfd);
	for (int i = 1; i < best_of && best >= 0; i++) {
		double t = measure_once(p, mode, kfd);
		if (t >= 0 && t < best)
			best = t;
	}
	return best;
}

static char **filters;
static int filter_cnt;

/* is the map (row) `name` wanted on the command line? */
static bool wanted(const char *name)
{
	for (int i = 0; i < filter_cnt; i++)
		if (strstr(name, filters[i]))
			return true;
	return filter_cnt == 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void cell(double ns)
{
	if (ns < 0)
		printf(" %10s", ns == -EOPNOTSUPP ? "n/a" : "err");
	else
		printf(" %10.1f", ns / K);
}

static void ratio(double a, double b)
{
	if (a < 0 || b <= 0)
		printf(" %8s", "-");
	else
		printf(" %7.2fx", a / b);
}

int main(int argc, char **argv)
{
	static const char *maps[] = { "array_1k", "array_1m", "hash_1k", "hash_1m",
				      "percpu_hash_1k", "percpu_hash_1m", "lru_hash_1k",
				      "lru_hash_1m", "lpm_trie_1k", "lpm_trie_1m" };
	char log[8192] = "";
	double t0 = now_s();
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-r") && i + 1 < argc) {
			best_of = atoi(argv[++i]);
			best_of = best_of < 1 ? 1 : best_of;
		} else {
			char **f = realloc(filters, (size_t)(filter_cnt + 1) * sizeof(*f));
			if (!f)
				return 1;
			filters = f;
			filters[filter_cnt++] = argv[i];
		}
	}
	struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
	oo.log_buf = log;
	oo.log_size = sizeof(log);
	struct bpfvm_object *obj = bpfvm_object_open(OBJ, &oo);
	if (!obj || bpfvm_object_load(obj)) {
		printf("bench_map_prog: cannot load %s: %.2000s\n", OBJ, log);
		return 0;
	}
	if (bpfvm_nr_cpus() > 64 || nr_possible_cpus() > 256) {
		printf("bench_map_prog: too many CPUs for the fill buffers\n");
		return 0;
	}
	size_t nmaps = bpfvm_object_map_cnt(obj);
	int kfd[MAX_MAPS], bss = -1;
	bool kernel = true;
	for (size_t i = 0; i < nmaps && i < MAX_MAPS; i++) {
		struct bpfvm_map *m = bpfvm_object_map(obj, i);
		if (strstr(bpfvm_map_name(m), ".bss"))
			bss = (int)i;
		kfd[i] = kernel ? k_map_create(m) : -1;
		if (kfd[i] < 0 && kernel) {
			printf("kernel: BPF_MAP_CREATE refused (%s): kernel columns skipped\n",
			       strerror(-kfd[i]));
			kernel = false;
		}
	}
	/* fill: every key, value 1 (each CPU's copy for per-CPU maps) */
	uint64_t vval[64], kval[256];
	for (int c = 0; c < 64; c++)
		vval[c] = 1;
	for (int c = 0; c < 256; c++)
		kval[c] = 1;
	for (size_t mi = 0; mi < sizeof(maps) / sizeof(maps[0]); mi++) {
		int idx = -1;
		for (size_t i = 0; i < nmaps; i++)
			if (!strcmp(bpfvm_map_name(bpfvm_object_map(obj, i)), maps[mi]))
				idx = (int)i;
		if (idx < 0 || !wanted(maps[mi]))
			continue;
		struct bpfvm_map *m = bpfvm_object_map(obj, (size_t)idx);
		uint32_t n = bpfvm_map_max_entries(m);
		bool lpm = bpfvm_map_type(m) == BPFVM_MAP_TYPE_LPM_TRIE;
		uint32_t ksz = bpfvm_map_key_size(m);
		bool percpu = bpfvm_map_type(m) == BPFVM_MAP_TYPE_PERCPU_HASH;
		uint32_t kvsz = 8 * (percpu ? (uint32_t)nr_possible_cpus() : 1);
		bool kbatch = kernel && k_map_fill_batch(kfd[idx], n, ksz, kval, kvsz, lpm) == 0;
		for (uint32_t k = 0; k < n; k++) {
			uint32_t key[2] = { k, 0 };
			if (lpm) {
				key[0] = 32;
				key[1] = k;
			}
			bpfvm_map_update_elem(m, key, vval, 0);
			if (kernel && !kbatch)
				k_map_update(kfd[idx], key, kval, 0);
		}
	}
	double t_fill = now_s() - t0;

	printf("bench_map_prog: ns per map operation from inside a program (%d per run, "
	       "pseudo-random keys, maps full)\n", K);
	printf("  command: build/bench/bench_map_prog -r %d   (object: %s; fill + verify %.1f s; "
	       "each cell the fastest of %d windows)\n", best_of, OBJ, t_fill, best_of);
	printf("  %-15s %-6s %10s %10s %10s %8s %8s %6s %6s\n", "map", "op", "interp", "jit",
	       "kernel", "int/kern", "jit/kern", "hit%v", "hit%k");
	const char *rows[sizeof(maps) / sizeof(maps[0]) * 2 + 1];
	size_t nrows = 0;
	rows[nrows++] = "loop_only";
	for (size_t mi = 0; mi < sizeof(maps) / sizeof(maps[0]); mi++) {
		rows[nrows++] = maps[mi];
		rows[nrows++] = maps[mi];
	}
	for (size_t r = 0; r < nrows; r++) {
		char pname[64];
		const char *op = r == 0 ? "-" : (r % 2) ? "lookup" : "update";
		if (r == 0)
			snprintf(pname, sizeof(pname), "loop_only");
		else
			snprintf(pname, sizeof(pname), "%s_%s", op, rows[r]);
		struct bpfvm_prog *p = bpfvm_object_find_prog(obj, pname);
		if (!p || (r > 0 && !wanted(rows[r])))
			continue;
		bpfvm_prog_jit(p, NULL, 0);
		int64_t vres = 0, kres = 0;
		double vi = measure(p, BPFVM_EXEC_INTERP, -1);
		double vj = measure(p, BPFVM_EXEC_JIT, -1);
		bpfvm_object_get_global(obj, "result", &vres, sizeof(vres));
		double kn = -ENOSYS;
		if (kernel) {
			int pfd = k_prog_load(p, kfd);
			if (pfd >= 0) {
				kn = measure(NULL, 0, pfd);
				uint32_t z = 0;
				uint8_t bssv[64] = { 0 };
				if (bss >= 0 && k_map_lookup(kfd[bss], &z, bssv) == 0)
					memcpy(&kres, bssv, sizeof(kres));
				close(pfd);
			} else {
				kn = pfd;
			}
		}
		printf("  %-15s %-6s", r == 0 ? "loop_only" : rows[r], op);
		cell(vi);
		cell(vj);
		if (kernel)
			cell(kn);
		else
			printf(" %10s", "skipped");
		ratio(vi, kn);
		ratio(vj, kn);
		if (!strcmp(op, "lookup")) {
			printf(" %6.1f", 100.0 * (double)vres / K);
			if (kernel && kn >= 0)
				printf(" %6.1f", 100.0 * (double)kres / K);
		}
		if (!strcmp(op, "update") && (vres || kres))
			printf("  update errors: bpfvm sum %" PRId64 ", kernel sum %" PRId64, vres,
			       kres);
		printf("\n");
		fflush(stdout);
	}
	printf("  (ratios > 1: bpfvm slower than the kernel; total %.1f s)\n", now_s() - t0);
	for (size_t i = 0; i < nmaps && i < MAX_MAPS; i++)
		if (kfd[i] >= 0)
			close(kfd[i]);
	bpfvm_object_close(obj);
	free(filters);
	return 0;
}
