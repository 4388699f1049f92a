/* test_map_queue.c — QUEUE and STACK order, full-map push with and without
 * BPF_EXIST, empty pop/peek, the userspace mapping of lookup/update/
 * lookup_and_delete, and the BLOOM_FILTER's push/peek. */
#include <errno.h>
#include <string.h>

#include "bpfvm.h"
#include "maps/map.h"
#include "testutil.h"

static void test_queue_stack(uint32_t type)
{
	struct bpfvm_map *m = bpfvm_map_create(type, "qs", 0, 4, 3, NULL);
	bool stack = type == BPFVM_MAP_TYPE_STACK;
	uint32_t v, out = 0xffff;

	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(map_pop(m, &out, 0), -ENOENT);
	CHECK_EQ(out, 0);	/* zeroed, as the kernel */
	CHECK_EQ(bpfvm_map_lookup_elem(m, NULL, &out), -ENOENT);
	CHECK_EQ(bpfvm_map_lookup_and_delete_elem(m, NULL, &out), -ENOENT);
	v = 1;
	CHECK_EQ(map_push(m, &v, BPFVM_NOEXIST, 0), -EINVAL);
	CHECK_EQ(map_push(m, &v, 4, 0), -EINVAL);
	CHECK_EQ(map_push(m, &v, 0, 0), 0);
	v = 2;
	CHECK_EQ(bpfvm_map_update_elem(m, NULL, &v, 0), 0);	/* userspace push */
	v = 3;
	CHECK_EQ(map_push(m, &v, BPFVM_EXIST, 1), 0);	/* room left: plain push */
	v = 4;
	CHECK_EQ(map_push(m, &v, 0, 0), -E2BIG);
	CHECK_EQ(bpfvm_map_update_elem(m, NULL, &v, BPFVM_ANY), -E2BIG);
	CHECK_EQ(map_push(m, &v, BPFVM_EXIST, 0), 0);	/* drops the oldest (1) */
	/* now: queue 2,3,4 out in that order; stack 4,3,2 */
	CHECK_EQ(map_peek(m, &out, 0), 0);
	CHECK_EQ(out, stack ? 4 : 2);
	CHECK_EQ(bpfvm_map_lookup_elem(m, NULL, &out), 0);	/* peek */
	CHECK_EQ(out, stack ? 4 : 2);
	CHECK_EQ(map_pop(m, &out, 0), 0);
	CHECK_EQ(out, stack ? 4 : 2);
	CHECK_EQ(bpfvm_map_lookup_and_delete_elem(m, NULL, &out), 0);	/* pop */
	CHECK_EQ(out, 3);
	CHECK_EQ(bpfvm_map_lookup_and_delete_elem_flags(m, NULL, &out, BPFVM_F_LOCK), -EINVAL);
	CHECK_EQ(map_pop(m, &out, 0), 0);
	CHECK_EQ(out, stack ? 2 : 4);
	CHECK_EQ(map_pop(m, &out, 0), -ENOENT);
	/* wrap around many times */
	for (uint32_t i = 0; i < 100; i++) {
		v = i;
		CHECK_EQ(map_push(m, &v, BPFVM_EXIST, 0), 0);
	}
	CHECK_EQ(map_pop(m, &out, 0), 0);
	CHECK_EQ(out, stack ? 99 : 97);
	/* what a queue does not have */
	CHECK_EQ(bpfvm_map_delete_elem(m, NULL), -EINVAL);
	CHECK_EQ(bpfvm_map_get_next_key(m, NULL, &out), -EINVAL);
	CHECK(map_lookup(m, NULL, 0) == NULL);
	CHECK_EQ(map_update(m, NULL, &v, 0, 0), -EOPNOTSUPP);
	bpfvm_map_free(m);
}

static void test_bloom(void)
{
	struct bpfvm_map_create_opts o = { .sz = sizeof(o), .map_extra = 3 };
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_BLOOM_FILTER, "bloom", 0, 8, 1000, &o);
	uint64_t v;
	int fp = 0;

	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(bpfvm_map_extra(m), 3);
	v = 42;
	CHECK_EQ(map_peek(m, &v, 0), -ENOENT);
	CHECK_EQ(map_push(m, &v, BPFVM_EXIST, 0), -EINVAL);
	CHECK_EQ(map_push(m, &v, 0, 0), 0);
	CHECK_EQ(map_peek(m, &v, 0), 0);
	CHECK_EQ(bpfvm_map_lookup_elem(m, NULL, &v), 0);
	for (v = 1000; v < 2000; v++)
		CHECK_EQ(bpfvm_map_update_elem(m, NULL, &v, 0), 0);
	for (v = 1000; v < 2000; v++)
		CHECK_EQ(bpfvm_map_lookup_elem(m, NULL, &v), 0);	/* no false negatives */
	for (v = 100000; v < 101000; v++)
		fp += bpfvm_map_lookup_elem(m, NULL, &v) == 0;
	CHECK(fp < 150);	/* ~ a few percent false positives */
	CHECK_EQ(map_pop(m, &v, 0), -EOPNOTSUPP);
	CHECK_EQ(bpfvm_map_delete_elem(m, NULL), -EOPNOTSUPP);
	CHECK_EQ(bpfvm_map_get_next_key(m, NULL, &v), -EOPNOTSUPP);
	CHECK_EQ(bpfvm_map_lookup_and_delete_elem(m, NULL, &v), -EOPNOTSUPP);
	bpfvm_map_free(m);
}

int main(void)
{
	bpfvm_set_nr_cpus(4);
	test_queue_stack(BPFVM_MAP_TYPE_QUEUE);
	test_queue_stack(BPFVM_MAP_TYPE_STACK);
	test_bloom();
	return TEST_DONE();
}
