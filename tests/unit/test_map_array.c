/* test_map_array.c — ARRAY and PERCPU_ARRAY: every element exists, the errno
 * of each flag combination and out-of-range index, iteration, batch lookup,
 * per-CPU layout, BPF_F_MMAPABLE, BPF_F_LOCK, program-side pointers. */
#include <errno.h>
#include <string.h>

#include "bpfvm.h"
#include "maps/map.h"
#include "testutil.h"

#define NCPU 4

static long sum_cb(struct bpfvm_map *m, const void *key, void *value, void *ctx)
{
	uint64_t *sum = ctx;
	uint32_t k;

	(void)m;
	memcpy(&k, value, 4);	/* the value starts with its index */
	*sum += k;
	memcpy(&k, key, 4);
	return k == 5;	/* stop after index 5 */
}

static void test_array(void)
{
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "arr", 4, 6, 10, NULL);
	uint32_t k, next;
	unsigned char v[6] = { 1, 2, 3, 4, 5, 6 }, out[6];
	unsigned char *p;
	uint64_t sum = 0;

	CHECK(m != NULL);
	if (!m)
		return;
	k = 3;
	memset(out, 0xff, sizeof(out));
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, out), 0);	/* exists, zeroed */
	CHECK_EQ(out[0] | out[5], 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, v, BPFVM_NOEXIST), -EEXIST);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, v, BPFVM_EXIST), 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, v, BPFVM_ANY), 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, v, 3), -EINVAL);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, v, 0x10), -EINVAL);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, v, BPFVM_F_LOCK), -EINVAL);
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, out), 0);
	CHECK(memcmp(out, v, 6) == 0);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), -EINVAL);
	k = 10;
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, out), -ENOENT);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, v, 0), -E2BIG);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, v, 3), -EINVAL);	/* flags checked first */
	CHECK_EQ(bpfvm_map_update_elem(m, &k, v, BPFVM_NOEXIST), -E2BIG);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), -EINVAL);
	/* get_next_key: 0..9, out-of-range restarts at 0 */
	CHECK_EQ(bpfvm_map_get_next_key(m, NULL, &next), 0);
	CHECK_EQ(next, 0);
	k = 4;
	CHECK_EQ(bpfvm_map_get_next_key(m, &k, &next), 0);
	CHECK_EQ(next, 5);
	k = 9;
	CHECK_EQ(bpfvm_map_get_next_key(m, &k, &next), -ENOENT);
	k = 100;
	CHECK_EQ(bpfvm_map_get_next_key(m, &k, &next), 0);
	CHECK_EQ(next, 0);
	/* program side */
	k = 3;
	p = map_lookup(m, &k, 0);
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ(p[5], 6);
		p[0] = 42;
		CHECK_EQ(map_check_access(m, p, 6, 1), 0);
		CHECK_EQ(map_check_access(m, p, 7, 1), -EFAULT);
		CHECK_EQ(map_check_access(m, p + 6, 1, 0), -EFAULT);	/* padding */
		CHECK_EQ(map_check_access(m, p + 8, 6, 0), 0);	/* the next element */
	}
	bpfvm_map_lookup_elem(m, &k, out);
	CHECK_EQ(out[0], 42);
	k = 10;
	CHECK(map_lookup(m, &k, 0) == NULL);
	CHECK_EQ(map_update(m, &k, v, 0, 0), -E2BIG);
	CHECK_EQ(map_delete(m, &k, 0), -EINVAL);
	for (k = 0; k < 10; k++) {
		unsigned char w[6] = { 0 };

		memcpy(w, &k, 4);
		map_update(m, &k, w, 0, 0);
	}
	CHECK_EQ(map_for_each(m, sum_cb, &sum, 0, 0), 6);
	CHECK_EQ(sum, 0 + 1 + 2 + 3 + 4 + 5);
	CHECK(bpfvm_map_mmap(m, NULL) == NULL);	/* not BPF_F_MMAPABLE */
	CHECK_EQ(errno, EINVAL);
	bpfvm_map_free(m);
}

static void test_batch(void)
{
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "arr", 4, 4, 10, NULL);
	uint32_t keys[16], vals[16], count, in, out;
	int err;

	for (uint32_t k = 0; k < 10; k++) {
		uint32_t v = k * k;

		bpfvm_map_update_elem(m, &k, &v, 0);
	}
	count = 4;
	CHECK_EQ(bpfvm_map_lookup_batch(m, NULL, &out, keys, vals, &count, NULL), 0);
	CHECK_EQ(count, 4);
	CHECK_EQ(out, 3);	/* the token is the last key copied */
	CHECK_EQ(keys[3], 3);
	CHECK_EQ(vals[3], 9);
	in = out;
	count = 16;
	err = bpfvm_map_lookup_batch(m, &in, &out, keys, vals, &count, NULL);
	CHECK_EQ(err, -ENOENT);
	CHECK_EQ(count, 6);
	CHECK_EQ(keys[0], 4);
	CHECK_EQ(vals[5], 81);
	bpfvm_map_free(m);
}

static void test_percpu(void)
{
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_PERCPU_ARRAY, "pc", 4, 12, 3, NULL);
	uint32_t k = 1, vals[NCPU * 4], out[NCPU * 4], one[3] = { 7, 8, 9 }, *p;

	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(bpfvm_map_user_value_size(m), NCPU * 16);
	for (uint32_t i = 0; i < NCPU * 4; i++)
		vals[i] = i;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, vals, BPFVM_NOEXIST), -EEXIST);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, vals, BPFVM_F_LOCK), -EINVAL);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, vals, 0), 0);
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, out), 0);
	CHECK(memcmp(out, vals, sizeof(out)) == 0);
	p = map_lookup(m, &k, 2);
	CHECK(p && p[0] == 8 && p[2] == 10);
	CHECK_EQ(map_update(m, &k, one, 0, 3), 0);
	bpfvm_map_lookup_elem(m, &k, out);
	CHECK_EQ(out[12], 7);
	CHECK_EQ(out[14], 9);
	CHECK_EQ(out[8], 8);	/* CPU 2 untouched */
	CHECK(map_lookup_percpu(m, &k, 1) != NULL);
	CHECK(map_lookup_percpu(m, &k, NCPU) == NULL);
	CHECK(map_lookup(m, &k, NCPU) == NULL);
	k = 3;
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, out), -ENOENT);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, vals, 0), -E2BIG);
	bpfvm_map_free(m);
}

static void test_mmap_and_lock(void)
{
	struct bpfvm_map_create_opts o = { .sz = sizeof(o), .map_flags = BPFVM_F_MMAPABLE };
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, ".bss", 4, 12, 3, &o);
	uint32_t k = 2, v[3] = { 0xdead, 5, 6 }, out[3];
	uint32_t *data;
	size_t sz = 0;

	data = bpfvm_map_mmap(m, &sz);
	CHECK(data != NULL);
	CHECK_EQ(sz, 3 * 16);
	if (data) {
		data[8] = 1234;	/* element 2, first word */
		bpfvm_map_lookup_elem(m, &k, out);
		CHECK_EQ(out[0], 1234);
	}
	CHECK_EQ(bpfvm_map_freeze(m), 0);
	CHECK_EQ(bpfvm_map_freeze(m), -EPERM);	/* frozen: no write permission left */
	CHECK_EQ(bpfvm_map_update_elem(m, &k, v, 0), -EPERM);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), -EPERM);
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, out), 0);
	CHECK_EQ(map_update(m, &k, v, 0, 0), 0);	/* programs still may */
	bpfvm_map_free(m);

	o = (struct bpfvm_map_create_opts){ .sz = sizeof(o), .has_spin_lock = 1, .spin_lock_off = 0 };
	m = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "locked", 4, 12, 3, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, v, BPFVM_F_LOCK), 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, v, BPFVM_F_LOCK | BPFVM_NOEXIST), -EEXIST);
	data = map_lookup(m, &k, 0);
	CHECK(data && data[0] == 0 && data[1] == 5);
	memset(out, 0xff, sizeof(out));
	CHECK_EQ(bpfvm_map_lookup_elem_flags(m, &k, out, BPFVM_F_LOCK), 0);
	CHECK_EQ(out[0], 0);
	CHECK_EQ(out[2], 6);
	bpfvm_map_free(m);
}

int main(void)
{
	bpfvm_set_nr_cpus(NCPU);
	test_array();
	test_batch();
	test_percpu();
	test_mmap_and_lock();
	return TEST_DONE();
}
