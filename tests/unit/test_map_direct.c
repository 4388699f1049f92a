/* test_map_direct.c — the JIT's direct map calls (map_direct_fn) against the
 * helpers' path.
 *
 * Map level: twin maps of every family with a specialised function (ARRAY
 * update, hash lookups per key size and flavour, LPM lookups per data size)
 * take the same random operations, one through the generic ops the helpers
 * call, the other through map_direct_fn; every result and the final
 * contents must agree, errno values included.  Program level: one verified
 * XDP program updates, looks up, deletes, pushes and pops in a loop; the
 * interpreter (helpers) and the JIT (direct calls) must return the same
 * checksum and leave the same map contents.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "bpfvm/pkt.h"
#include "bpfvm/verifier.h"
#include "exec/vm.h"
#include "maps/map.h"
#include "testutil.h"

#define NCPU 3

typedef void *(*lookup_fn)(struct bpfvm_map *m, const void *key, int cpu);
typedef long (*update_fn)(struct bpfvm_map *m, const void *key, const void *value,
			  uint64_t flags, int cpu);

/* the same answer from both maps: both NULL, or equal values */
static int same_value(const struct bpfvm_map *m, const void *a, const void *b)
{
	if (!a || !b)
		return a == b;
	return memcmp(a, b, m->value_size) == 0;
}

/* every key of a has b's value, and both have as many keys */
static void check_same_contents(struct bpfvm_map *a, struct bpfvm_map *b)
{
	unsigned char key[64], next[64], va[512], vb[512];
	int n = 0, err;

	for (err = bpfvm_map_get_next_key(a, NULL, next); err == 0 && n < 100000;
	     err = bpfvm_map_get_next_key(a, key, next)) {
		memcpy(key, next, a->key_size);
		CHECK_EQ(bpfvm_map_lookup_elem(a, key, va), 0);
		CHECK_EQ(bpfvm_map_lookup_elem(b, key, vb), 0);
		CHECK(memcmp(va, vb, bpfvm_map_user_value_size(a)) == 0);
		n++;
	}
	for (err = bpfvm_map_get_next_key(b, NULL, next); err == 0 && n >= 0;
	     err = bpfvm_map_get_next_key(b, key, next)) {
		memcpy(key, next, b->key_size);
		n--;
	}
	CHECK_EQ(n, 0);
}

/* A random key for map m: a small space so that operations collide; LPM
 * keys get a prefix length (mostly the full one). */
static void rand_key(const struct bpfvm_map *m, unsigned char *key, unsigned int *seed)
{
	for (uint32_t i = 0; i < m->key_size; i++)
		key[i] = (unsigned char)(rand_r(seed) % 4);
	if (m->type == BPFVM_MAP_TYPE_LPM_TRIE) {
		uint32_t max = (m->key_size - 4) * 8, plen = (uint32_t)rand_r(seed) % 4 ? max
							  : (uint32_t)rand_r(seed) % (max + 2);

		memcpy(key, &plen, 4);	/* max + 1: no match, -EINVAL */
	} else if (m->type == BPFVM_MAP_TYPE_ARRAY) {
		uint32_t idx = (uint32_t)rand_r(seed) % (m->max_entries + 2);

		memcpy(key, &idx, 4);	/* some out of range */
	}
}

static void run_twins(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t flags)
{
	struct bpfvm_map_create_opts o = { .sz = sizeof(o), .map_flags = flags };
	struct bpfvm_map *a = bpfvm_map_create(type, "a", key_size, value_size, 48, &o);
	struct bpfvm_map *b = bpfvm_map_create(type, "b", key_size, value_size, 48, &o);
	unsigned int seed = type * 1000u + key_size;
	lookup_fn dl;
	update_fn du;

	CHECK(a && b);
	if (!a || !b)
		goto out;
	dl = (lookup_fn)map_direct_fn(b, MAP_CALL_LOOKUP);
	du = (update_fn)map_direct_fn(b, MAP_CALL_UPDATE);
	CHECK(dl != NULL && du != NULL);
	for (int it = 0; it < 4000; it++) {
		unsigned char key[64], value[512];
		int cpu = rand_r(&seed) % (NCPU + 1);	/* NCPU: out of range */
		uint64_t fl = (uint64_t)(rand_r(&seed) % 5);	/* 3, 4: invalid */

		rand_key(a, key, &seed);
		for (uint32_t i = 0; i < value_size; i++)
			value[i] = (unsigned char)rand_r(&seed);
		switch (rand_r(&seed) % 3) {
		case 0:
			CHECK_EQ(map_update(a, key, value, fl, cpu), du(b, key, value, fl, cpu));
			break;
		case 1:
			CHECK(same_value(a, map_lookup(a, key, cpu), dl(b, key, cpu)));
			break;
		default:
			CHECK_EQ(map_delete(a, key, cpu), map_delete(b, key, cpu));
			break;
		}
	}
	check_same_contents(a, b);
out:
	bpfvm_map_free(a);
	bpfvm_map_free(b);
}

static void test_twins(void)
{
	static const uint32_t hashes[] = {
		BPFVM_MAP_TYPE_HASH, BPFVM_MAP_TYPE_PERCPU_HASH, BPFVM_MAP_TYPE_LRU_HASH,
		BPFVM_MAP_TYPE_LRU_PERCPU_HASH,
	};

	run_twins(BPFVM_MAP_TYPE_ARRAY, 4, 8, 0);	/* the one-store update */
	run_twins(BPFVM_MAP_TYPE_ARRAY, 4, 12, 0);
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		for (uint32_t ks = 4; ks <= 12; ks += 4)	/* 4, 8, any */
			run_twins(hashes[i], ks, 8, 0);
	run_twins(BPFVM_MAP_TYPE_HASH, 3, 20, 0);
	run_twins(BPFVM_MAP_TYPE_LPM_TRIE, 8, 8, BPFVM_F_NO_PREALLOC);	/* IPv4 */
	run_twins(BPFVM_MAP_TYPE_LPM_TRIE, 10, 4, BPFVM_F_NO_PREALLOC);	/* 6 bytes */
	run_twins(BPFVM_MAP_TYPE_LPM_TRIE, 20, 8, BPFVM_F_NO_PREALLOC);	/* IPv6 */
}

/* ------------------------------------------------------ program level -- */

/* maps: 0 hash, 1 LPM (IPv4), 2 array, 3 queue, 4 percpu hash */
static const char prog_src[] =
	"mov %r6, 0\n"
	"mov %r7, 0\n"
	"loop:\n"
	/* hash: update key (i*7)&63 = i with flags i%3 */
	"mov %r1, %r6\n"
	"mul %r1, 7\n"
	"and %r1, 63\n"
	"stxw [%r10-8], %r1\n"
	"stxdw [%r10-16], %r6\n"
	"mov %r4, %r6\n"
	"mod %r4, 3\n"
	"lddw %r1, map_idx 0\n"
	"mov %r2, %r10\n"
	"add %r2, -8\n"
	"mov %r3, %r10\n"
	"add %r3, -16\n"
	"call 2\n"
	"mul %r7, 31\n"
	"add %r7, %r0\n"
	/* hash: lookup (i*5)&63 */
	"mov %r1, %r6\n"
	"mul %r1, 5\n"
	"and %r1, 63\n"
	"stxw [%r10-8], %r1\n"
	"lddw %r1, map_idx 0\n"
	"mov %r2, %r10\n"
	"add %r2, -8\n"
	"call 1\n"
	"jeq %r0, 0, miss1\n"
	"ldxdw %r1, [%r0+0]\n"
	"add %r7, %r1\n"
	"miss1:\n"
	/* hash: delete (i*11)&63 */
	"mov %r1, %r6\n"
	"mul %r1, 11\n"
	"and %r1, 63\n"
	"stxw [%r10-8], %r1\n"
	"lddw %r1, map_idx 0\n"
	"mov %r2, %r10\n"
	"add %r2, -8\n"
	"call 3\n"
	"mul %r7, 31\n"
	"add %r7, %r0\n"
	/* LPM: update {32, 10.0.0.(i*13)}, lookup {32, 10.0.0.(i*3)} */
	"stw [%r10-24], 32\n"
	"mov %r1, %r6\n"
	"mul %r1, 13\n"
	"and %r1, 255\n"
	"lsh %r1, 24\n"
	"or %r1, 10\n"
	"stxw [%r10-20], %r1\n"
	"lddw %r1, map_idx 1\n"
	"mov %r2, %r10\n"
	"add %r2, -24\n"
	"mov %r3, %r10\n"
	"add %r3, -16\n"
	"mov %r4, 0\n"
	"call 2\n"
	"add %r7, %r0\n"
	"mov %r1, %r6\n"
	"mul %r1, 3\n"
	"and %r1, 255\n"
	"lsh %r1, 24\n"
	"or %r1, 10\n"
	"stxw [%r10-20], %r1\n"
	"lddw %r1, map_idx 1\n"
	"mov %r2, %r10\n"
	"add %r2, -24\n"
	"call 1\n"
	"jeq %r0, 0, miss2\n"
	"ldxdw %r1, [%r0+0]\n"
	"mul %r7, 7\n"
	"add %r7, %r1\n"
	"miss2:\n"
	/* array: update index i&31 (some out of range) with flags i%3 */
	"mov %r1, %r6\n"
	"and %r1, 31\n"
	"stxw [%r10-8], %r1\n"
	"mov %r4, %r6\n"
	"mod %r4, 3\n"
	"lddw %r1, map_idx 2\n"
	"mov %r2, %r10\n"
	"add %r2, -8\n"
	"mov %r3, %r10\n"
	"add %r3, -16\n"
	"call 2\n"
	"mul %r7, 31\n"
	"add %r7, %r0\n"
	/* queue: push i (flags BPF_EXIST every 5th: overwrite), pop, peek */
	"mov %r3, 0\n"
	"mov %r1, %r6\n"
	"mod %r1, 5\n"
	"jne %r1, 0, push\n"
	"mov %r3, 2\n"
	"push:\n"
	"lddw %r1, map_idx 3\n"
	"mov %r2, %r10\n"
	"add %r2, -16\n"
	"call 87\n"
	"mul %r7, 31\n"
	"add %r7, %r0\n"
	"mov %r1, %r6\n"
	"and %r1, 3\n"
	"jne %r1, 0, nopop\n"
	"lddw %r1, map_idx 3\n"
	"mov %r2, %r10\n"
	"add %r2, -32\n"
	"call 88\n"
	"mul %r7, 31\n"
	"add %r7, %r0\n"
	"jne %r0, 0, nopop\n"
	"ldxdw %r1, [%r10-32]\n"
	"add %r7, %r1\n"
	"nopop:\n"
	"lddw %r1, map_idx 3\n"
	"mov %r2, %r10\n"
	"add %r2, -32\n"
	"call 89\n"
	"add %r7, %r0\n"
	/* percpu hash: update and lookup key i&7 */
	"mov %r1, %r6\n"
	"and %r1, 7\n"
	"stxw [%r10-8], %r1\n"
	"lddw %r1, map_idx 4\n"
	"mov %r2, %r10\n"
	"add %r2, -8\n"
	"mov %r3, %r10\n"
	"add %r3, -16\n"
	"mov %r4, 0\n"
	"call 2\n"
	"add %r7, %r0\n"
	"lddw %r1, map_idx 4\n"
	"mov %r2, %r10\n"
	"add %r2, -8\n"
	"call 1\n"
	"jeq %r0, 0, miss3\n"
	"ldxdw %r1, [%r0+0]\n"
	"add %r7, %r1\n"
	"miss3:\n"
	"add %r6, 1\n"
	"jlt %r6, 48, loop\n"
	"mov %r0, %r7\n"
	"exit\n";

#define PROG_MAPS 5

static int make_maps(struct bpfvm_map **maps)
{
	struct bpfvm_map_create_opts lpm = { .sz = sizeof(lpm), .map_flags = BPFVM_F_NO_PREALLOC };

	maps[0] = bpfvm_map_create(BPFVM_MAP_TYPE_HASH, "h", 4, 8, 32, NULL);
	maps[1] = bpfvm_map_create(BPFVM_MAP_TYPE_LPM_TRIE, "lpm", 8, 8, 32, &lpm);
	maps[2] = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "a", 4, 8, 24, NULL);
	maps[3] = bpfvm_map_create(BPFVM_MAP_TYPE_QUEUE, "q", 0, 8, 6, NULL);
	maps[4] = bpfvm_map_create(BPFVM_MAP_TYPE_PERCPU_HASH, "p", 4, 8, 4, NULL);
	for (int i = 0; i < PROG_MAPS; i++)
		if (!maps[i])
			return -1;
	return 0;
}

/* r0 of one run of the program on fresh maps in `mode`; the maps stay in
 * maps[] for the caller to compare and free */
static uint64_t run_prog(int mode, struct bpfvm_map **maps)
{
	struct bpf_insn *in = NULL;
	struct bpfvm_prog *p = NULL;
	size_t cnt = 0;
	char log[4096] = "";
	uint64_t r0 = 0;

	if (make_maps(maps) || bpfvm_asm(prog_src, &in, &cnt, log, sizeof(log))) {
		CHECK(!"maps or assembly");
		fprintf(stderr, "%s\n", log);
		goto out;
	}
	{
		struct bpfvm_prog_opts po = BPFVM_OPTS_INIT(bpfvm_prog_opts);

		po.maps = maps;
		po.map_cnt = PROG_MAPS;
		po.log_buf = log;
		po.log_size = sizeof(log);
		p = bpfvm_prog_from_insns(in, cnt, &po);
	}
	CHECK(p != NULL);
	if (!p) {
		fprintf(stderr, "%s\n", log);
		goto out;
	}
	p->type = 6;	/* XDP */
	{
		struct bpfvm_verify_opts vo = { .sz = sizeof(vo), .log_level = 1, .log_buf = log,
						.log_size = sizeof(log) };
		int err = bpfvm_prog_verify(p, &vo);

		CHECK_EQ(err, 0);
		if (err) {
			fprintf(stderr, "%s\n", log);
			goto out;
		}
	}
	if (mode == BPFVM_EXEC_JIT)
		CHECK_EQ(bpfvm_prog_jit(p, log, sizeof(log)), 0);
	{
		uint8_t pkt[64] = { 0 };
		struct bpfvm_test_run_opts t = BPFVM_OPTS_INIT(bpfvm_test_run_opts);

		t.data_in = pkt;
		t.data_size_in = sizeof(pkt);
		t.mode = mode;
		CHECK_EQ(bpfvm_prog_test_run(p, &t), 0);
		r0 = t.retval;
	}
out:
	bpfvm_prog_free(p);
	free(in);
	return r0;
}

static void test_prog(void)
{
	struct bpfvm_map *mi[PROG_MAPS] = { 0 }, *mj[PROG_MAPS] = { 0 };
	uint64_t ri = run_prog(BPFVM_EXEC_INTERP, mi), rj = run_prog(BPFVM_EXEC_JIT, mj);

	CHECK_EQ(ri, rj);
	CHECK(ri != 0);
	for (int i = 0; i < PROG_MAPS; i++) {
		if (mi[i] && mj[i] && i != 3)
			check_same_contents(mi[i], mj[i]);
		bpfvm_map_free(mi[i]);
		bpfvm_map_free(mj[i]);
	}
}

int main(void)
{
	bpfvm_set_nr_cpus(NCPU);
	test_twins();
	test_prog();
	return TEST_DONE();
}
