/* test_map_hash.c — HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH: errno results
 * for every flag combination, full maps, iteration, batch lookup, per-CPU
 * layout, LRU eviction, BPF_F_LOCK, and the program-side API. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "maps/map.h"
#include "testutil.h"

#define NCPU 4

static struct bpfvm_map *mk(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags)
{
	struct bpfvm_map_create_opts o = { .sz = sizeof(o), .map_flags = flags };

	return bpfvm_map_create(type, "t", ks, vs, max, &o);
}

static void test_flags_and_full(uint32_t map_flags)
{
	struct bpfvm_map *m = mk(BPFVM_MAP_TYPE_HASH, 4, 8, 4, map_flags);
	uint32_t k;
	uint64_t v = 0, out;

	CHECK(m != NULL);
	k = 1;
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, &out), -ENOENT);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 3), -EINVAL);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 8), -EINVAL);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_F_LOCK), -EINVAL);	/* no lock */
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_EXIST), -ENOENT);
	v = 10;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_NOEXIST), 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_NOEXIST), -EEXIST);
	v = 11;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_EXIST), 0);
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, &out), 0);
	CHECK_EQ(out, 11);
	CHECK_EQ(bpfvm_map_lookup_elem_flags(m, &k, &out, 1), -EINVAL);
	CHECK_EQ(bpfvm_map_lookup_elem_flags(m, &k, &out, BPFVM_F_LOCK), -EINVAL);
	for (k = 2; k <= 4; k++) {
		v = k * 10;
		CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_ANY), 0);
	}
	k = 5;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_ANY), -E2BIG);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_NOEXIST), -E2BIG);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_EXIST), -ENOENT);
	k = 3;
	v = 333;	/* a full map still updates present keys */
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_ANY), 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_EXIST), 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_NOEXIST), -EEXIST);
	k = 9;
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), -ENOENT);
	k = 2;
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), 0);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), -ENOENT);
	k = 5;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_NOEXIST), 0);
	bpfvm_map_free(m);
}

static void test_iteration(void)
{
	struct bpfvm_map *m = mk(BPFVM_MAP_TYPE_HASH, 4, 4, 64, 0);
	uint32_t k, next, v, seen[64], order[64], n = 0, n2 = 0;
	unsigned char found[50] = { 0 };

	CHECK_EQ(bpfvm_map_get_next_key(m, NULL, &next), -ENOENT);
	for (k = 0; k < 50; k++) {
		v = k + 1000;
		CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
	}
	for (int err = bpfvm_map_get_next_key(m, NULL, &next); err == 0;
	     err = bpfvm_map_get_next_key(m, &k, &next)) {
		CHECK(next < 50);
		if (next < 50) {
			CHECK(!found[next]);
			found[next] = 1;
		}
		seen[n++ % 64] = next;
		k = next;
		if (n > 60)
			break;
	}
	CHECK_EQ(n, 50);
	CHECK_EQ(bpfvm_map_get_next_key(m, &k, &next), -ENOENT);	/* k: last key */
	/* the same order again while unchanged */
	for (int err = bpfvm_map_get_next_key(m, NULL, &next); err == 0 && n2 < 64;
	     err = bpfvm_map_get_next_key(m, &k, &next)) {
		order[n2++] = next;
		k = next;
	}
	CHECK_EQ(n2, 50);
	CHECK(memcmp(seen, order, 50 * sizeof(uint32_t)) == 0);
	/* a key not in the map restarts from the first key */
	k = 12345;
	CHECK_EQ(bpfvm_map_get_next_key(m, &k, &next), 0);
	CHECK_EQ(next, order[0]);
	/* lookup_and_delete */
	k = 7;
	CHECK_EQ(bpfvm_map_lookup_and_delete_elem(m, &k, &v), 0);
	CHECK_EQ(v, 1007);
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, &v), -ENOENT);
	CHECK_EQ(bpfvm_map_lookup_and_delete_elem(m, &k, &v), -ENOENT);
	CHECK_EQ(bpfvm_map_lookup_and_delete_elem_flags(m, &k, &v, 2), -EINVAL);
	bpfvm_map_free(m);
}

static void test_batch(void)
{
	struct bpfvm_map *m = mk(BPFVM_MAP_TYPE_HASH, 4, 8, 100, 0);
	uint32_t keys[128], count, in, out, total = 0;
	uint64_t vals[128], v;
	unsigned char found[100] = { 0 };
	int err;

	for (uint32_t k = 0; k < 100; k++) {
		v = (uint64_t)k * 3;
		bpfvm_map_update_elem(m, &k, &v, 0);
	}
	count = 0;
	CHECK_EQ(bpfvm_map_lookup_batch(m, NULL, &out, keys, vals, &count, NULL), 0);
	count = 128;
	CHECK_EQ(bpfvm_map_lookup_batch(m, NULL, &out, keys, vals, &count, NULL), -ENOENT);
	CHECK_EQ(count, 100);
	for (uint32_t i = 0; i < count && i < 100; i++)
		CHECK_EQ(vals[i], (uint64_t)keys[i] * 3);
	/* in steps of 8: every key exactly once */
	err = 0;
	for (int first = 1; err == 0; first = 0) {
		count = 8;
		err = bpfvm_map_lookup_batch(m, first ? NULL : &in, &out, keys, vals, &count, NULL);
		CHECK(err == 0 || err == -ENOENT);
		for (uint32_t i = 0; i < count; i++) {
			CHECK(keys[i] < 100 && !found[keys[i]]);
			if (keys[i] < 100)
				found[keys[i]] = 1;
			CHECK_EQ(vals[i], (uint64_t)keys[i] * 3);
		}
		total += count;
		in = out;
		if (total > 200)
			break;
	}
	CHECK_EQ(total, 100);
	CHECK_EQ(err, -ENOENT);
	{
		struct bpfvm_map_batch_opts o = { .sz = sizeof(o), .flags = 1 };

		count = 8;
		CHECK_EQ(bpfvm_map_lookup_batch(m, NULL, &out, keys, vals, &count, &o), -EINVAL);
	}
	bpfvm_map_free(m);

	/* a bucket bigger than *count is -ENOSPC: two keys in one of two buckets */
	m = mk(BPFVM_MAP_TYPE_HASH, 4, 8, 2, BPFVM_F_ZERO_SEED);
	{
		uint32_t a = 0, b = 1;

		while ((map_hash(&b, 4, 0) & 1) != (map_hash(&a, 4, 0) & 1))
			b++;
		v = 1;
		bpfvm_map_update_elem(m, &a, &v, 0);
		bpfvm_map_update_elem(m, &b, &v, 0);
		count = 1;
		CHECK_EQ(bpfvm_map_lookup_batch(m, NULL, &out, keys, vals, &count, NULL), -ENOSPC);
		CHECK_EQ(count, 0);
		count = 2;
		err = bpfvm_map_lookup_batch(m, NULL, &out, keys, vals, &count, NULL);
		CHECK(err == 0 || err == -ENOENT);
		CHECK_EQ(count, 2);
		in = 2;	/* past the last bucket */
		CHECK_EQ(bpfvm_map_lookup_batch(m, &in, &out, keys, vals, &count, NULL), -ENOENT);
	}
	bpfvm_map_free(m);
}

static long count_cb(struct bpfvm_map *m, const void *key, void *value, void *ctx)
{
	int *n = ctx;

	(void)m, (void)key, (void)value;
	return ++*n == 3;	/* stop after the third */
}

static void test_program_side(void)
{
	struct bpfvm_map *m = mk(BPFVM_MAP_TYPE_HASH, 4, 12, 8, 0);
	uint32_t k = 42, val[3] = { 1, 2, 3 }, out[3];
	uint32_t *p, *p2;
	void *base;
	size_t size;
	int n = 0;

	CHECK(map_lookup(m, &k, 0) == NULL);
	CHECK_EQ(map_update(m, &k, val, BPFVM_ANY, 1), 0);
	p = map_lookup(m, &k, 2);
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ(p[2], 3);
	p[1] = 99;	/* programs write through the pointer */
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, out), 0);
	CHECK_EQ(out[1], 99);
	val[0] = 7;
	CHECK_EQ(map_update(m, &k, val, BPFVM_EXIST, 0), 0);
	p2 = map_lookup(m, &k, 0);
	CHECK(p2 == p);	/* updated in place */
	CHECK_EQ(p[0], 7);
	CHECK_EQ(map_update(m, &k, val, BPFVM_NOEXIST, 0), -EEXIST);
	CHECK_EQ(map_check_access(m, p, 12, 0), 0);
	CHECK_EQ(map_check_access(m, p, 13, 1), -EFAULT);
	CHECK_EQ(map_check_access(m, (char *)p + 4, 8, 1), 0);
	CHECK_EQ(map_check_access(m, (char *)p - 4, 4, 0), -EFAULT);	/* the key */
	CHECK_EQ(map_check_access(m, &k, 4, 0), -EFAULT);
	CHECK_EQ(map_value_region(m, &base, &size), 0);
	CHECK((char *)p >= (char *)base && (char *)p + 12 <= (char *)base + size);
	for (uint32_t i = 0; i < 5; i++)
		map_update(m, &i, val, 0, 0);
	CHECK_EQ(map_for_each(m, count_cb, &n, 0, 0), 3);
	CHECK_EQ(n, 3);
	CHECK_EQ(map_for_each(m, count_cb, &n, 1, 0), -EINVAL);
	CHECK_EQ(map_delete(m, &k, 3), 0);
	CHECK_EQ(map_delete(m, &k, 3), -ENOENT);
	CHECK(map_lookup(m, &k, 0) == NULL);
	CHECK(map_lookup_percpu(m, &k, 0) == NULL);	/* not a per-CPU map */
	bpfvm_map_free(m);
}

static void test_percpu(uint32_t type)
{
	struct bpfvm_map *m = mk(type, 4, 4, 8, 0);
	uint32_t k = 5, vals[NCPU * 2], out[NCPU * 2], one = 77;
	uint32_t *p;

	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(bpfvm_map_user_value_size(m), NCPU * 8);	/* 4-byte values rounded to 8 */
	for (int c = 0; c < NCPU; c++) {
		vals[2 * c] = 100 + (uint32_t)c;
		vals[2 * c + 1] = 0;
	}
	CHECK_EQ(bpfvm_map_update_elem(m, &k, vals, BPFVM_F_LOCK), -EINVAL);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, vals, 0), 0);
	memset(out, 0xff, sizeof(out));
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, out), 0);
	CHECK(memcmp(out, vals, sizeof(out)) == 0);
	p = map_lookup(m, &k, 1);
	CHECK(p && *p == 101);
	p = map_lookup_percpu(m, &k, 3);
	CHECK(p && *p == 103);
	CHECK(map_lookup_percpu(m, &k, NCPU) == NULL);
	CHECK(map_lookup(m, &k, NCPU) == NULL);
	/* program update touches only its CPU */
	CHECK_EQ(map_update(m, &k, &one, BPFVM_EXIST, 2), 0);
	bpfvm_map_lookup_elem(m, &k, out);
	CHECK_EQ(out[4], 77);
	CHECK_EQ(out[2], 101);
	/* a new element from a program: zeroes on the other CPUs */
	k = 6;
	CHECK_EQ(map_update(m, &k, &one, BPFVM_ANY, 3), 0);
	bpfvm_map_lookup_elem(m, &k, out);
	CHECK_EQ(out[0], 0);
	CHECK_EQ(out[2], 0);
	CHECK_EQ(out[4], 0);
	CHECK_EQ(out[6], 77);
	CHECK_EQ(map_update(m, &k, &one, BPFVM_ANY, NCPU), -EINVAL);
	p = map_lookup(m, &k, 0);
	CHECK_EQ(map_check_access(m, p, 4, 1), 0);
	CHECK_EQ(map_check_access(m, p, 5, 1), -EFAULT);
	bpfvm_map_free(m);
}

static void test_lru(uint32_t type)
{
	struct bpfvm_map *m = mk(type, 4, 8, 4, 0);
	uint64_t out[NCPU] = { 0 };
	uint32_t k, present = 0;

	CHECK(m != NULL);
	if (!m)
		return;
	for (k = 1; k <= 4; k++)
		CHECK_EQ(bpfvm_map_update_elem(m, &k, out, 0), 0);
	k = 1;
	CHECK(map_lookup(m, &k, 0) != NULL);	/* key 1 is now recently used */
	k = 5;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, out, 0), 0);	/* evicts, does not fail */
	k = 1;
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, out), 0);
	for (k = 1; k <= 5; k++)
		present += bpfvm_map_lookup_elem(m, &k, out) == 0;
	CHECK_EQ(present, 4);
	for (k = 100; k < 1100; k++) {
		int err = bpfvm_map_update_elem(m, &k, out, BPFVM_NOEXIST);

		if (err) {
			CHECK_EQ(err, 0);
			break;
		}
	}
	present = 0;
	for (int err = bpfvm_map_get_next_key(m, NULL, &k); err == 0;
	     err = bpfvm_map_get_next_key(m, &k, &k))
		present++;
	CHECK_EQ(present, 4);
	k = 1099;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, out, BPFVM_NOEXIST), -EEXIST);
	k = 7;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, out, BPFVM_EXIST), -ENOENT);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, out, BPFVM_F_LOCK), -EINVAL);
	bpfvm_map_free(m);
}

struct locked_val {
	uint32_t lock;
	uint32_t a;
	uint64_t b;
};

static void test_spin_lock(void)
{
	struct bpfvm_map_create_opts o = {
		.sz = sizeof(o), .has_spin_lock = 1, .spin_lock_off = 0,
	};
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_HASH, "locked", 4, 16, 4, &o);
	struct locked_val v = { 0xffffffff, 1, 2 }, out;
	struct locked_val *p;
	uint32_t k = 1;

	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(bpfvm_map_spin_lock_off(m), 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_F_LOCK | BPFVM_EXIST), -ENOENT);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_F_LOCK), 0);	/* inserts */
	p = map_lookup(m, &k, 0);
	CHECK(p && p->lock == 0 && p->a == 1 && p->b == 2);	/* lock word not copied */
	v.a = 5;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_F_LOCK | BPFVM_NOEXIST), -EEXIST);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_F_LOCK | BPFVM_EXIST), 0);
	CHECK(p && p->lock == 0 && p->a == 5);
	memset(&out, 0xaa, sizeof(out));
	CHECK_EQ(bpfvm_map_lookup_elem_flags(m, &k, &out, BPFVM_F_LOCK), 0);
	CHECK_EQ(out.lock, 0);	/* reads as zero */
	CHECK_EQ(out.a, 5);
	map_spin_lock(&p->lock);
	CHECK_EQ(p->lock, 1);
	v.a = 9;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);	/* plain update ignores the lock */
	CHECK_EQ(p->lock, 1);
	map_spin_unlock(&p->lock);
	CHECK_EQ(p->lock, 0);
	CHECK_EQ(bpfvm_map_freeze(m), -EOPNOTSUPP);
	bpfvm_map_free(m);
}

static void test_big_keys(void)
{
	struct bpfvm_map *m = mk(BPFVM_MAP_TYPE_HASH, 600, 3, 16, BPFVM_F_NO_PREALLOC);
	unsigned char key[600], val[3] = { 1, 2, 3 }, out[3];

	CHECK(m != NULL);
	if (!m)
		return;
	for (int i = 0; i < 16; i++) {
		memset(key, i, sizeof(key));
		CHECK_EQ(bpfvm_map_update_elem(m, key, val, 0), 0);
	}
	memset(key, 99, sizeof(key));
	CHECK_EQ(bpfvm_map_update_elem(m, key, val, 0), -E2BIG);
	memset(key, 15, sizeof(key));
	CHECK_EQ(bpfvm_map_lookup_elem(m, key, out), 0);
	CHECK(memcmp(out, val, 3) == 0);
	key[599] = 0;
	CHECK_EQ(bpfvm_map_lookup_elem(m, key, out), -ENOENT);
	bpfvm_map_free(m);
}

int main(void)
{
	bpfvm_set_nr_cpus(NCPU);
	test_flags_and_full(0);
	test_flags_and_full(BPFVM_F_NO_PREALLOC);
	test_iteration();
	test_batch();
	test_program_side();
	test_percpu(BPFVM_MAP_TYPE_PERCPU_HASH);
	test_percpu(BPFVM_MAP_TYPE_LRU_PERCPU_HASH);
	test_lru(BPFVM_MAP_TYPE_LRU_HASH);
	test_lru(BPFVM_MAP_TYPE_LRU_PERCPU_HASH);
	test_spin_lock();
	test_big_keys();
	return TEST_DONE();
}
