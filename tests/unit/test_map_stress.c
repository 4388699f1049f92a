/* test_map_stress.c — four threads, each a "CPU", hammering maps at once:
 * hash update/lookup/delete on shared and owned keys (exact final contents),
 * atomic adds through array value pointers, per-CPU counters, bpf_spin_lock
 * critical sections, LRU churn that must never fail, LPM lookups (program
 * side and the JIT's direct call) of stable prefixes while shorter prefixes
 * around them come and go; meanwhile the main thread iterates and
 * batch-reads.  Final counts are asserted. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "maps/map.h"
#include "testutil.h"

#define NTHREADS 4
#define ITERS 200000
#define OWNED 100
#define CHURN_KEYS 512

static struct bpfvm_map *hash, *counters, *pcpu, *locked, *lru, *lpm;
static void *(*lpm_direct)(struct bpfvm_map *m, const void *key, int cpu);
static atomic_int running;
static atomic_int errors[8];	/* per kind of unexpected result */

struct lock_val {
	uint32_t lock;
	uint32_t pad;
	uint64_t n;
};

static uint64_t val_of(uint32_t k)
{
	return ((uint64_t)k << 32) | (k ^ 0x5a5a5a5au);
}

/* LPM: 64 stable /32 entries 10.0.i.1 (value 1000 + i) that every lookup
 * must find, and churn prefixes of 8..31 bits over the same addresses. */
#define LPM_STABLE 64
#define LPM_CHURN 256

struct lpm_key {
	uint32_t plen;
	uint8_t d[4];
};

static struct lpm_key lpm_stable(uint32_t i)
{
	return (struct lpm_key){ 32, { 10, 0, (uint8_t)i, 1 } };
}

static struct lpm_key lpm_churn(uint32_t i)
{
	return (struct lpm_key){ 8 + i % 24, { 10, 0, (uint8_t)(i * 7), (uint8_t)i } };
}

static void lpm_step(int cpu, unsigned int *seed)
{
	uint32_t i = (uint32_t)rand_r(seed) % LPM_STABLE;
	struct lpm_key k = lpm_stable(i), c = lpm_churn((uint32_t)rand_r(seed) % LPM_CHURN);
	uint64_t *p = map_lookup(lpm, &k, cpu), v = (uint64_t)rand_r(seed);

	if (!p || *p != 1000 + i)
		atomic_fetch_add(&errors[6], 1);
	p = lpm_direct(lpm, &k, cpu);
	if (!p || *p != 1000 + i)
		atomic_fetch_add(&errors[6], 1);
	if (rand_r(seed) % 2) {
		if (map_update(lpm, &c, &v, BPFVM_ANY, cpu) != 0)
			atomic_fetch_add(&errors[7], 1);
	} else {
		long r = map_delete(lpm, &c, cpu);

		if (r != 0 && r != -ENOENT)
			atomic_fetch_add(&errors[7], 1);
	}
}

static void *worker(void *arg)
{
	int cpu = (int)(intptr_t)arg;
	unsigned int seed = 1000u + (unsigned int)cpu;
	uint32_t zero = 0;

	/* owned keys: insert all, then delete the odd ones */
	for (uint32_t i = 0; i < OWNED; i++) {
		uint32_t k = (uint32_t)cpu * OWNED + i;
		uint64_t v = val_of(k);

		if (map_update(hash, &k, &v, BPFVM_NOEXIST, cpu) != 0)
			atomic_fetch_add(&errors[0], 1);
	}
	for (int it = 0; it < ITERS; it++) {
		uint32_t k = 100000u + (uint32_t)(rand_r(&seed) % CHURN_KEYS);
		uint64_t v = val_of(k), *p;
		int op = rand_r(&seed) % 4;
		long r;

		switch (op) {
		case 0:
			r = map_update(hash, &k, &v, BPFVM_ANY, cpu);
			if (r != 0)
				atomic_fetch_add(&errors[1], 1);
			break;
		case 1:
			r = map_delete(hash, &k, cpu);
			if (r != 0 && r != -ENOENT)
				atomic_fetch_add(&errors[2], 1);
			break;
		default:
			p = map_lookup(hash, &k, cpu);
			/* a value read may race a recycle; it must never be torn
			 * garbage for a live key in the steady state */
			if (p && __atomic_load_n(p, __ATOMIC_RELAXED) != v &&
			    map_lookup(hash, &k, cpu) == p && __atomic_load_n(p, __ATOMIC_RELAXED) != v)
				atomic_fetch_add(&errors[3], 1);
			break;
		}
		/* atomic adds through value pointers */
		{
			uint32_t idx = (uint32_t)it % 16;
			uint64_t *c = map_lookup(counters, &idx, cpu);

			__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
		}
		/* this CPU's own counter: plain increments */
		(*(uint64_t *)map_lookup(pcpu, &zero, cpu))++;
		/* a bpf_spin_lock critical section */
		if (it % 8 == 0) {
			struct lock_val *lv = map_lookup(locked, &zero, cpu);

			map_spin_lock(&lv->lock);
			lv->n++;
			map_spin_unlock(&lv->lock);
		}
		if (it % 2 == 0)
			lpm_step(cpu, &seed);
		/* LRU churn: never fails */
		if (it % 4 == 0) {
			uint32_t lk = (uint32_t)(rand_r(&seed) % 4096);

			if (map_update(lru, &lk, &v, BPFVM_ANY, cpu) != 0)
				atomic_fetch_add(&errors[4], 1);
			map_lookup(lru, &lk, cpu);
		}
	}
	for (uint32_t i = 1; i < OWNED; i += 2) {
		uint32_t k = (uint32_t)cpu * OWNED + i;

		if (map_delete(hash, &k, cpu) != 0)
			atomic_fetch_add(&errors[5], 1);
	}
	atomic_fetch_sub(&running, 1);
	return NULL;
}

int main(void)
{
	struct bpfvm_map_create_opts lo = { .sz = sizeof(lo), .has_spin_lock = 1 };
	struct bpfvm_map_create_opts po = { .sz = sizeof(po), .map_flags = BPFVM_F_NO_PREALLOC };
	pthread_t t[NTHREADS];
	uint64_t sum = 0;
	int iterations = 0;

	bpfvm_set_nr_cpus(NTHREADS);
	hash = bpfvm_map_create(BPFVM_MAP_TYPE_HASH, "h", 4, 8, 1024, NULL);
	counters = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "c", 4, 8, 16, NULL);
	pcpu = bpfvm_map_create(BPFVM_MAP_TYPE_PERCPU_ARRAY, "pc", 4, 8, 1, NULL);
	locked = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "l", 4, 16, 1, &lo);
	lru = bpfvm_map_create(BPFVM_MAP_TYPE_LRU_HASH, "lru", 4, 8, 256, NULL);
	lpm = bpfvm_map_create(BPFVM_MAP_TYPE_LPM_TRIE, "lpm", 8, 8, LPM_STABLE + LPM_CHURN, &po);
	CHECK(hash && counters && pcpu && locked && lru && lpm);
	if (!(hash && counters && pcpu && locked && lru && lpm))
		return TEST_DONE();
	for (uint32_t i = 0; i < LPM_STABLE; i++) {
		struct lpm_key k = lpm_stable(i);
		uint64_t v = 1000 + i;

		CHECK_EQ(bpfvm_map_update_elem(lpm, &k, &v, 0), 0);
	}
	lpm_direct = (void *(*)(struct bpfvm_map *, const void *, int))
		map_direct_fn(lpm, MAP_CALL_LOOKUP);
	CHECK(lpm_direct != NULL);

	atomic_store(&running, NTHREADS);
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	/* meanwhile: userspace iteration and batch reads must neither crash nor hang */
	while (atomic_load(&running) > 0) {
		uint32_t k, next, keys[64], ob, cnt = 64;
		uint64_t vals[64];
		int n = 0;

		for (int err = bpfvm_map_get_next_key(hash, NULL, &next); err == 0 && n < 5000;
		     err = bpfvm_map_get_next_key(hash, &k, &next)) {
			k = next;
			n++;
		}
		bpfvm_map_lookup_batch(hash, NULL, &ob, keys, vals, &cnt, NULL);
		iterations++;
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);

	for (int i = 0; i < 8; i++)
		CHECK_EQ(atomic_load(&errors[i]), 0);
	/* owned keys: exactly the even ones remain, with their values */
	for (uint32_t k = 0; k < NTHREADS * OWNED; k++) {
		uint64_t v = 0;
		int err = bpfvm_map_lookup_elem(hash, &k, &v);

		if (k % 2 == 0) {
			CHECK_EQ(err, 0);
			CHECK_EQ(v, val_of(k));
		} else {
			CHECK_EQ(err, -ENOENT);
		}
	}
	/* every element reachable by iteration equals what lookups report */
	{
		uint32_t k, next;
		int n = 0, churn = 0;

		for (int err = bpfvm_map_get_next_key(hash, NULL, &next); err == 0 && n < 2000;
		     err = bpfvm_map_get_next_key(hash, &k, &next)) {
			uint64_t v;

			k = next;
			n++;
			churn += k >= 100000;
			CHECK_EQ(bpfvm_map_lookup_elem(hash, &k, &v), 0);
			CHECK_EQ(v, val_of(k));
		}
		CHECK_EQ(n - churn, NTHREADS * OWNED / 2);
		CHECK(churn <= CHURN_KEYS);
	}
	for (uint32_t i = 0; i < 16; i++) {
		uint64_t v;

		bpfvm_map_lookup_elem(counters, &i, &v);
		CHECK_EQ(v, (uint64_t)NTHREADS * (ITERS / 16));
		sum += v;
	}
	CHECK_EQ(sum, (uint64_t)NTHREADS * ITERS);
	{
		uint64_t per[NTHREADS];
		uint32_t zero = 0;
		struct lock_val lv;

		bpfvm_map_lookup_elem(pcpu, &zero, per);
		for (int c = 0; c < NTHREADS; c++)
			CHECK_EQ(per[c], ITERS);
		bpfvm_map_lookup_elem(locked, &zero, &lv);
		CHECK_EQ(lv.n, (uint64_t)NTHREADS * (ITERS / 8));
	}
	{
		uint32_t k, next;
		int n = 0;

		for (int err = bpfvm_map_get_next_key(lru, NULL, &next); err == 0 && n < 1000;
		     err = bpfvm_map_get_next_key(lru, &k, &next)) {
			k = next;
			n++;
		}
		CHECK(n > 200 && n <= 256);
	}
	CHECK(iterations > 0);
	bpfvm_map_free(hash);
	bpfvm_map_free(counters);
	bpfvm_map_free(pcpu);
	bpfvm_map_free(locked);
	bpfvm_map_free(lru);
	bpfvm_map_free(lpm);
	return TEST_DONE();
}
