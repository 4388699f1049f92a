/* test_map_create.c — creation
 * checks (errno and the log message naming map and problem) for every family,
 * names, accessors, fds, permissions and freeing. */
#include <errno.h>
#include <string.h>

#include "bpfvm.h"
#include "maps/fdtable.h"
#include "maps/map.h"
#include "testutil.h"

#define NCPU 4

static char log_buf[256];

/* Create with the given attributes; returns 0 or -errno, frees on success. */
static int try_create(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
		      uint64_t extra)
{
	struct bpfvm_map_create_opts o = {
		.sz = sizeof(o), .map_flags = flags, .map_extra = extra,
		.log_buf = log_buf, .log_size = sizeof(log_buf),
	};
	struct bpfvm_map *m = bpfvm_map_create(type, "m1", ks, vs, max, &o);

	if (!m)
		return -errno;
	bpfvm_map_free(m);
	return 0;
}

#define E(expr, err) CHECK_EQ(expr, (uint64_t)(int64_t)(err))

static void test_create_checks(void)
{
	const uint32_t NP = BPFVM_F_NO_PREALLOC;

	/* unknown and unsupported types */
	E(try_create(99, 4, 4, 1, 0, 0), -EINVAL);
	CHECK_CONTAINS(log_buf, "unknown map type 99");
	E(try_create(0, 4, 4, 1, 0, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_STACK_TRACE, 4, 8, 4, 0, 0), -EOPNOTSUPP);
	CHECK_CONTAINS(log_buf, "map 'm1' (stack_trace): map type stack_trace is not supported");
	/* common checks */
	E(try_create(BPFVM_MAP_TYPE_HASH, 4, 8, 4, BPFVM_F_RDONLY | BPFVM_F_WRONLY, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_HASH, 4, 8, 4, 0, 1), -EINVAL);
	CHECK_CONTAINS(log_buf, "map_extra");
	E(try_create(BPFVM_MAP_TYPE_HASH, 4, 8, 4, BPFVM_F_NUMA_NODE, 0), 0);
	/* hash */
	E(try_create(BPFVM_MAP_TYPE_HASH, 600, 8, 4, 0, 0), 0);
	E(try_create(BPFVM_MAP_TYPE_HASH, 4, 4 << 20, 4, 0, 0), -E2BIG);
	CHECK_CONTAINS(log_buf, "map 'm1' (hash): key_size 4 + value_size 4194304 is too large");
	E(try_create(BPFVM_MAP_TYPE_HASH, 0, 8, 4, 0, 0), -EINVAL);
	CHECK_CONTAINS(log_buf, "key_size must not be 0");
	E(try_create(BPFVM_MAP_TYPE_HASH, 4, 0, 4, 0, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_HASH, 4, 8, 0, 0, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_HASH, 4, 8, 4, BPFVM_F_INNER_MAP, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_HASH, 4, 8, 4, BPFVM_F_MMAPABLE, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_HASH, 4, 8, 4, BPFVM_F_NO_COMMON_LRU, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_HASH, 4, 8, 4, BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY_PROG, 0),
	  -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_HASH, 4, 8, 4, BPFVM_F_ZERO_SEED | NP, 0), 0);
	E(try_create(BPFVM_MAP_TYPE_LRU_HASH, 4, 8, 4, NP, 0), -EOPNOTSUPP);
	E(try_create(BPFVM_MAP_TYPE_LRU_HASH, 4, 8, 4, BPFVM_F_NO_COMMON_LRU, 0), 0);
	E(try_create(BPFVM_MAP_TYPE_PERCPU_HASH, 4, 32768, 4, 0, 0), 0);
	E(try_create(BPFVM_MAP_TYPE_PERCPU_HASH, 4, 32769, 4, 0, 0), -E2BIG);
	E(try_create(BPFVM_MAP_TYPE_PERCPU_HASH, 4, 8, 4, BPFVM_F_NUMA_NODE, 0), -EINVAL);
	/* arrays */
	E(try_create(BPFVM_MAP_TYPE_ARRAY, 8, 8, 4, 0, 0), -EINVAL);
	CHECK_CONTAINS(log_buf, "map 'm1' (array): key_size 8 is invalid: must be 4");
	E(try_create(BPFVM_MAP_TYPE_ARRAY, 4, 0, 4, 0, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_ARRAY, 4, 8, 0, 0, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_ARRAY, 4, 8, 4, NP, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_ARRAY, 4, 8, 4, BPFVM_F_INNER_MAP, 0), 0);
	E(try_create(BPFVM_MAP_TYPE_ARRAY, 4, 8, 4, BPFVM_F_PRESERVE_ELEMS, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_ARRAY, 4, 8, 4, BPFVM_F_ZERO_SEED, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_ARRAY, 4, 0x80000000u, 4, 0, 0), -E2BIG);
	E(try_create(BPFVM_MAP_TYPE_PERCPU_ARRAY, 4, 32769, 4, 0, 0), -E2BIG);
	E(try_create(BPFVM_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, BPFVM_F_MMAPABLE, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_PROG_ARRAY, 4, 4, 4, BPFVM_F_RDONLY_PROG, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_PROG_ARRAY, 4, 8, 4, 0, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_PROG_ARRAY, 4, 4, 4, BPFVM_F_MMAPABLE, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, BPFVM_F_PRESERVE_ELEMS, 0), 0);
	E(try_create(BPFVM_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 0, 0, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 4, 0, 0), -EINVAL);
	CHECK_CONTAINS(log_buf, "inner map template is required");
	/* LPM */
	E(try_create(BPFVM_MAP_TYPE_LPM_TRIE, 8, 8, 4, 0, 0), -EINVAL);
	CHECK_CONTAINS(log_buf, "BPF_F_NO_PREALLOC");
	E(try_create(BPFVM_MAP_TYPE_LPM_TRIE, 4, 8, 4, NP, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_LPM_TRIE, 261, 8, 4, NP, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_LPM_TRIE, 260, 8, 4, NP, 0), 0);
	/* queue, stack, bloom */
	E(try_create(BPFVM_MAP_TYPE_QUEUE, 4, 8, 4, 0, 0), -EINVAL);
	CHECK_CONTAINS(log_buf, "key_size 4 is invalid: must be 0");
	E(try_create(BPFVM_MAP_TYPE_QUEUE, 0, 8, 4, NP, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_STACK, 0, 8, 0, 0, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_STACK, 0, 8, 4, 0, 0), 0);
	E(try_create(BPFVM_MAP_TYPE_BLOOM_FILTER, 0, 8, 4, 0, 16), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_BLOOM_FILTER, 0, 8, 4, BPFVM_F_ZERO_SEED, 15), 0);
	E(try_create(BPFVM_MAP_TYPE_BLOOM_FILTER, 4, 8, 4, 0, 0), -EINVAL);
	/* ring buffer */
	E(try_create(BPFVM_MAP_TYPE_RINGBUF, 0, 0, 4096 * 3, 0, 0), -EINVAL);
	CHECK_CONTAINS(log_buf, "power of 2 and a multiple of the page size");
	E(try_create(BPFVM_MAP_TYPE_RINGBUF, 0, 0, 2048, 0, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_RINGBUF, 4, 0, 4096, 0, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_RINGBUF, 0, 0, 4096, BPFVM_F_RDONLY, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_RINGBUF, 0, 0, 1 << 16, 0, 0), 0);
	/* device maps */
	E(try_create(BPFVM_MAP_TYPE_DEVMAP, 4, 4, 4, 0, 0), 0);
	E(try_create(BPFVM_MAP_TYPE_DEVMAP, 4, 8, 4, BPFVM_F_RDONLY_PROG, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_DEVMAP, 4, 12, 4, 0, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_DEVMAP_HASH, 4, 8, 4, 0, 0), 0);
	E(try_create(BPFVM_MAP_TYPE_DEVMAP_HASH, 8, 8, 4, 0, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_CPUMAP, 4, 4, 4, BPFVM_F_RDONLY, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_CPUMAP, 4, 4, 100000, 0, 0), -E2BIG);
	E(try_create(BPFVM_MAP_TYPE_XSKMAP, 4, 4, 4, BPFVM_F_RDONLY_PROG, 0), -EINVAL);
	E(try_create(BPFVM_MAP_TYPE_XSKMAP, 4, 8, 4, 0, 0), -EINVAL);
}

static void test_spin_lock_checks(void)
{
	struct bpfvm_map_create_opts o = {
		.sz = sizeof(o), .has_spin_lock = 1, .log_buf = log_buf, .log_size = sizeof(log_buf),
	};
	struct bpfvm_map *m;

	o.spin_lock_off = 4;
	m = bpfvm_map_create(BPFVM_MAP_TYPE_HASH, "l", 4, 8, 4, &o);
	CHECK(m != NULL);
	bpfvm_map_free(m);
	o.spin_lock_off = 6;	/* misaligned */
	CHECK(bpfvm_map_create(BPFVM_MAP_TYPE_HASH, "l", 4, 8, 4, &o) == NULL);
	CHECK_EQ(errno, EINVAL);
	o.spin_lock_off = 8;	/* past the value */
	CHECK(bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "l", 4, 8, 4, &o) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_CONTAINS(log_buf, "map 'l' (array): bpf_spin_lock at offset 8");
	o.spin_lock_off = 0;
	CHECK(bpfvm_map_create(BPFVM_MAP_TYPE_PERCPU_HASH, "l", 4, 8, 4, &o) == NULL);
	CHECK_EQ(errno, EOPNOTSUPP);
	CHECK(bpfvm_map_create(BPFVM_MAP_TYPE_LRU_HASH, "l", 4, 8, 4, &o) == NULL);
	CHECK_EQ(errno, EOPNOTSUPP);
	o.map_flags = BPFVM_F_RDONLY_PROG;
	CHECK(bpfvm_map_create(BPFVM_MAP_TYPE_HASH, "l", 4, 8, 4, &o) == NULL);
	CHECK_EQ(errno, EACCES);
}

static void test_names_and_accessors(void)
{
	struct bpfvm_map_create_opts o = {
		.sz = sizeof(o), .log_buf = log_buf, .log_size = sizeof(log_buf),
		.map_flags = BPFVM_F_NO_PREALLOC,
	};
	struct bpfvm_map *m, *m2;
	int fd;

	CHECK(bpfvm_map_create(BPFVM_MAP_TYPE_HASH, "a-b", 4, 4, 1, &o) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_CONTAINS(log_buf, "invalid character '-'");
	m = bpfvm_map_create(BPFVM_MAP_TYPE_HASH, "a_very_long_map_name.x", 4, 8, 3, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_STR(bpfvm_map_name(m), "a_very_long_map");	/* cut to 15, like libbpf */
	CHECK_EQ(bpfvm_map_type(m), BPFVM_MAP_TYPE_HASH);
	CHECK_EQ(bpfvm_map_key_size(m), 4);
	CHECK_EQ(bpfvm_map_value_size(m), 8);
	CHECK_EQ(bpfvm_map_max_entries(m), 3);
	CHECK_EQ(bpfvm_map_flags(m), BPFVM_F_NO_PREALLOC);
	CHECK_EQ(bpfvm_map_extra(m), 0);
	CHECK_EQ(bpfvm_map_spin_lock_off(m), -1);
	CHECK_EQ(bpfvm_map_user_value_size(m), 8);
	fd = bpfvm_map_fd(m);
	CHECK(fd > 0);
	CHECK(bpfvm_map_from_fd(fd) == m);
	CHECK(bpfvm_map_id(m) > 0);
	m2 = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, NULL, 4, 8, 3, NULL);
	CHECK(m2 != NULL);
	CHECK(bpfvm_map_fd(m2) != fd);
	CHECK(bpfvm_map_id(m2) != bpfvm_map_id(m));
	CHECK_STR(bpfvm_map_name(m2), "");
	/* references: a holder keeps the map alive after bpfvm_map_free */
	{
		int err;
		struct bpfvm_map *ref = map_get_by_fd(fd, &err);
		uint32_t k = 1;
		uint64_t v = 5;

		CHECK(ref == m);
		CHECK(map_get_by_fd(bpfvm_map_fd(m2) + 1000, &err) == NULL);
		CHECK_EQ(err, -EBADF);
		CHECK(fdtable_get(fd, FD_KIND_PROG, NULL, &err) == NULL);
		CHECK_EQ(err, -EINVAL);
		bpfvm_map_free(m);
		CHECK(bpfvm_map_from_fd(fd) == NULL);
		CHECK_EQ(map_update(ref, &k, &v, 0, 0), 0);	/* still usable */
		map_put(ref);
	}
	bpfvm_map_free(m2);
	bpfvm_map_free(NULL);
	/* WRONLY / RDONLY from userspace */
	o.map_flags = BPFVM_F_WRONLY;
	m = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "w", 4, 8, 3, &o);
	{
		uint32_t k = 0;
		uint64_t v = 1;

		CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
		CHECK_EQ(bpfvm_map_lookup_elem(m, &k, &v), -EPERM);
		CHECK_EQ(bpfvm_map_get_next_key(m, NULL, &k), -EPERM);
		bpfvm_map_free(m);
		o.map_flags = BPFVM_F_RDONLY;
		m = bpfvm_map_create(BPFVM_MAP_TYPE_HASH, "r", 4, 8, 3, &o);
		CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), -EPERM);
		CHECK_EQ(bpfvm_map_delete_elem(m, &k), -EPERM);
		CHECK_EQ(bpfvm_map_lookup_elem(m, &k, &v), -ENOENT);
		CHECK_EQ(bpfvm_map_freeze(m), -EPERM);
		CHECK_EQ(map_update(m, &k, &v, 0, 0), 0);	/* programs may write */
		bpfvm_map_free(m);
	}
	/* opts smaller than today's struct (an older caller) */
	{
		struct bpfvm_map_create_opts small = { .sz = offsetof(struct bpfvm_map_create_opts, numa_node),
						       .map_flags = BPFVM_F_NO_PREALLOC };

		m = bpfvm_map_create(BPFVM_MAP_TYPE_LPM_TRIE, "lpm", 8, 4, 3, &small);
		CHECK(m != NULL);
		bpfvm_map_free(m);
	}
}

int main(void)
{
	bpfvm_set_nr_cpus(NCPU);
	test_create_checks();
	test_spin_lock_checks();
	test_names_and_accessors();
	return TEST_DONE();
}
