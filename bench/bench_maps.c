/* bench_maps.c — what map operations cost: nanoseconds per lookup and update
 * for hash, array, LRU hash and LPM trie maps at a few sizes, through the
 * program-side API (what helpers call: map_lookup returns a pointer) and the
 * userspace API (copies), plus hash lookups from several threads at once.
 *
 * Keys are drawn pseudo-randomly from the filled key space, so large maps
 * measure cache misses, not a hot line.  Times are per-thread CPU time.
 * Prints a table; never fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpfvm.h"
#include "maps/map.h"

/* CPU time of the calling thread: the figures stay meaningful on a busy
 * machine (time spent descheduled is not counted). */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* xorshift: cheap enough not to dominate a 10 ns lookup */
static inline uint32_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)*s;
}

static volatile uint64_t sink;

enum op { OP_LOOKUP, OP_UPDATE, OP_SYS_LOOKUP, OP_SYS_UPDATE };

/* Keys are 0..n-1 (hash: multiplied to spread them), the op repeated iters times. */
static double run(struct bpfvm_map *m, uint32_t n, enum op op, uint32_t iters, uint32_t mul)
{
	uint64_t s = 0x9e3779b97f4a7c15ull, acc = 0, val[64] = { 1 };
	double t0 = now_ns();

	for (uint32_t i = 0; i < iters; i++) {
		uint32_t k = (next_rand(&s) % n) * mul;

		switch (op) {
		case OP_LOOKUP: {
			uint64_t *p = map_lookup(m, &k, 0);

			acc += p ? *p : 0;
			break;
		}
		case OP_UPDATE:
			val[0] = i;
			acc += (uint64_t)map_update(m, &k, val, 0, 0);
			break;
		case OP_SYS_LOOKUP:
			acc += (uint64_t)bpfvm_map_lookup_elem(m, &k, val);
			break;
		case OP_SYS_UPDATE:
			acc += (uint64_t)bpfvm_map_update_elem(m, &k, val, 0);
			break;
		}
	}
	sink = acc;
	return (now_ns() - t0) / iters;
}

static void bench_keyed(const char *name, uint32_t type, uint32_t n, uint32_t iters, uint32_t mul,
			uint32_t max)
{
	struct bpfvm_map *m = bpfvm_map_create(type, "bench", 4, 8, max, NULL);
	uint64_t v = 7;

	if (!m) {
		printf("%-10s %9u  (cannot create)\n", name, n);
		return;
	}
	for (uint32_t k = 0; k < n; k++) {
		uint32_t kk = k * mul;

		bpfvm_map_update_elem(m, &kk, &v, 0);
	}
	printf("%-10s %9u %12.1f %12.1f %12.1f %12.1f\n", name, n,
	       run(m, n, OP_LOOKUP, iters, mul), run(m, n, OP_UPDATE, iters, mul),
	       run(m, n, OP_SYS_LOOKUP, iters, mul), run(m, n, OP_SYS_UPDATE, iters, mul));
	bpfvm_map_free(m);
}

static void bench_lpm(uint32_t n, uint32_t iters)
{
	struct bpfvm_map_create_opts o = { .sz = sizeof(o), .map_flags = BPFVM_F_NO_PREALLOC };
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_LPM_TRIE, "bench", 8, 8, n, &o);
	struct { uint32_t plen; uint8_t d[4]; } key;
	uint64_t s = 12345, v = 1, acc = 0;
	double t0, lookup, update;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t a = next_rand(&s);

		key.plen = 8 + next_rand(&s) % 25;	/* /8 .. /32 */
		memcpy(key.d, &a, 4);
		if (bpfvm_map_update_elem(m, &key, &v, 0) != 0)
			break;
	}
	t0 = now_ns();
	for (uint32_t i = 0; i < iters; i++) {
		uint32_t a = next_rand(&s);
		uint64_t *p;

		key.plen = 32;
		memcpy(key.d, &a, 4);
		p = map_lookup(m, &key, 0);
		acc += p ? *p : 0;
	}
	lookup = (now_ns() - t0) / iters;
	t0 = now_ns();
	for (uint32_t i = 0; i < iters; i++) {
		uint32_t a = next_rand(&s);

		key.plen = 8 + next_rand(&s) % 25;
		memcpy(key.d, &a, 4);
		acc += (uint64_t)map_update(m, &key, &v, BPFVM_EXIST, 0);	/* mostly misses */
	}
	update = (now_ns() - t0) / iters;
	sink = acc;
	printf("%-10s %9u %12.1f %12.1f %12s %12s\n", "lpm_trie", n, lookup, update, "-", "-");
	bpfvm_map_free(m);
}

struct thr {
	struct bpfvm_map *m;
	uint32_t n, iters;
	int cpu;
	double ns;
};

static void *lookup_thread(void *arg)
{
	struct thr *t = arg;
	uint64_t s = 0x1234567ull + (uint64_t)t->cpu * 7919, acc = 0;
	double t0 = now_ns();

	for (uint32_t i = 0; i < t->iters; i++) {
		uint32_t k = next_rand(&s) % t->n;
		uint64_t *p = map_lookup(t->m, &k, t->cpu);

		acc += p ? *p : 0;
		if ((i & 15) == 0) {	/* 1 in 16 is an update */
			uint64_t v = i;

			map_update(t->m, &k, &v, 0, t->cpu);
		}
	}
	sink = acc;
	t->ns = (now_ns() - t0) / t->iters;
	return NULL;
}

static void bench_threads(uint32_t n, int threads, uint32_t iters)
{
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_HASH, "bench", 4, 8, n, NULL);
	struct thr t[16];
	pthread_t tid[16];
	uint64_t v = 1;
	double sum = 0;

	for (uint32_t k = 0; k < n; k++)
		bpfvm_map_update_elem(m, &k, &v, 0);
	for (int i = 0; i < threads; i++) {
		t[i] = (struct thr){ m, n, iters, i, 0 };
		pthread_create(&tid[i], NULL, lookup_thread, &t[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		sum += t[i].ns;
	}
	printf("hash %u entries, %d threads (15/16 lookups, 1/16 updates): %.1f ns/op per thread\n",
	       n, threads, sum / threads);
	bpfvm_map_free(m);
}

int main(void)
{
	static const uint32_t sizes[] = { 1024, 65536, 1048576 };
	const uint32_t iters = 1000000;
	int ncpu = bpfvm_nr_cpus();

	printf("bench_maps: ns per operation (%u random keys per case, %d CPUs)\n", iters, ncpu);
	printf("%-10s %9s %12s %12s %12s %12s\n", "map", "entries", "prog lookup", "prog update",
	       "user lookup", "user update");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t n = sizes[i];

		bench_keyed("array", BPFVM_MAP_TYPE_ARRAY, n, iters, 1, n);
		bench_keyed("hash", BPFVM_MAP_TYPE_HASH, n, iters, 2654435761u, n);
		bench_keyed("lru_hash", BPFVM_MAP_TYPE_LRU_HASH, n, iters, 2654435761u, n);
		bench_lpm(n, iters / 2);
	}
	for (int th = 1; th <= (ncpu < 4 ? 4 : ncpu) && th <= 16; th *= 2)
		bench_threads(65536, th, iters);
	return 0;
}
