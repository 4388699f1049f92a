/* array.c — BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY.
 *
 * Values sit in one zeroed block, round_up(value_size, 8) bytes apart, indexed
 * by a u32 key; every element always exists (delete is -EINVAL, NOEXIST is
 * -EEXIST), as in kernel/bpf/arraymap.c.  Per-CPU arrays keep each CPU's values
 * together ([cpu][index]) so CPUs updating their own counters never share a
 * cache line.  No locks: lookups return a pointer into the block, updates copy
 * in place (under the value's bpf_spin_lock with BPF_F_LOCK).
 */
#include "maps/map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct array_map {
	struct bpfvm_map map;
	uint32_t elem_sz;	/* round_up(value_size, 8) */
	bool percpu;
	size_t values_sz;
	unsigned char *values;	/* ARRAY: [index]; PERCPU_ARRAY: [cpu][index] */
};

static inline struct array_map *to_array(const struct bpfvm_map *m)
{
	return (struct array_map *)m;
}

/* The slot for (index, cpu); index must be < max_entries. */
static inline unsigned char *array_slot(const struct array_map *a, uint32_t index,
					uint32_t cpu)
{
	size_t i = a->percpu ? (size_t)cpu * a->map.max_entries + index : index;

	return a->values + i * a->elem_sz;
}

static inline uint32_t array_index(const void *key)
{
	uint32_t index;

	memcpy(&index, key, 4);
	return index;
}

static struct bpfvm_map *array_alloc(const struct map_attr *attr, int *err)
{
	struct array_map *a;
	uint64_t n, total;

	*err = array_map_alloc_check(attr);
	if (*err)
		return NULL;
	n = attr->type == BPFVM_MAP_TYPE_PERCPU_ARRAY
		    ? (uint64_t)attr->nr_cpus * attr->max_entries
		    : attr->max_entries;
	total = n * map_round_up(attr->value_size, 8);
	if (total > (1ull << 40)) {
		*err = map_attr_err(attr, -ENOMEM, "%llu bytes of values is more than bpfvm allows",
				    (unsigned long long)total);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		*err = -ENOMEM;
		return NULL;
	}
	map_init(&a->map, attr);
	a->elem_sz = map_round_up(attr->value_size, 8);
	a->percpu = attr->type == BPFVM_MAP_TYPE_PERCPU_ARRAY;
	a->values_sz = (size_t)total;
	a->values = map_area_alloc(a->values_sz);
	if (!a->values) {
		free(a);
		*err = map_attr_err(attr, -ENOMEM, "cannot allocate %zu bytes of values",
				    (size_t)total);
		return NULL;
	}
	return &a->map;
}

static void array_free(struct bpfvm_map *m)
{
	struct array_map *a = to_array(m);

	map_area_free(a->values, a->values_sz);
	free(a);
}

static void *array_lookup(struct bpfvm_map *m, const void *key, int cpu)
{
	struct array_map *a = to_array(m);
	uint32_t index = array_index(key);

	if (index >= m->max_entries)
		return NULL;
	if (a->percpu && (uint32_t)cpu >= m->nr_cpus)
		return NULL;
	return array_slot(a, index, (uint32_t)cpu);
}

static long array_update(struct bpfvm_map *m, const void *key, const void *value,
			 uint64_t flags, int cpu)
{
	struct array_map *a = to_array(m);
	uint32_t index = array_index(key);
	unsigned char *val;

	if ((flags & ~(uint64_t)BPFVM_F_LOCK) > BPFVM_EXIST)
		return -EINVAL;
	if (index >= m->max_entries)
		return -E2BIG;
	if (flags & BPFVM_NOEXIST)
		return -EEXIST;	/* every element of an array exists */
	if (a->percpu) {
		if ((uint32_t)cpu >= m->nr_cpus)
			return -EINVAL;
		map_copy_value(m, array_slot(a, index, (uint32_t)cpu), value);
		return 0;
	}
	val = array_slot(a, index, 0);
	if (flags & BPFVM_F_LOCK) {
		if (m->spin_lock_off < 0)
			return -EINVAL;
		map_copy_value_locked(m, val, (void *)value, false);
	} else {
		map_copy_value(m, val, value);
	}
	return 0;
}

/* The JIT's direct update of an ARRAY without a bpf_spin_lock: the common
 * flags (BPF_ANY, BPF_EXIST) on an index in range copy at once; anything else
 * takes array_update for its errno. */
static long array_update_plain(struct bpfvm_map *m, const void *key, const void *value,
			       uint64_t flags, int cpu)
{
	struct array_map *a = to_array(m);
	uint32_t index = array_index(key);

	if ((flags | BPFVM_EXIST) != BPFVM_EXIST || index >= m->max_entries)
		return array_update(m, key, value, flags, cpu);
	memcpy(a->values + (size_t)index * a->elem_sz, value, m->value_size);
	return 0;
}

/* The same for the common 8-byte value: one store. */
static long array_update_u64(struct bpfvm_map *m, const void *key, const void *value,
			     uint64_t flags, int cpu)
{
	struct array_map *a = to_array(m);
	uint32_t index = array_index(key);

	if ((flags | BPFVM_EXIST) != BPFVM_EXIST || index >= m->max_entries)
		return array_update(m, key, value, flags, cpu);
	memcpy(a->values + (size_t)index * 8, value, 8);
	return 0;
}

static uintptr_t array_direct_fn(const struct bpfvm_map *m, enum map_call call)
{
	if (call != MAP_CALL_UPDATE || to_array(m)->percpu || m->spin_lock_off >= 0)
		return 0;
	return m->value_size == 8 ? (uintptr_t)array_update_u64 : (uintptr_t)array_update_plain;
}

static long array_delete(struct bpfvm_map *m, const void *key, int cpu)
{
	(void)m, (void)key, (void)cpu;
	return -EINVAL;
}

static int array_sys_delete(struct bpfvm_map *m, const void *key)
{
	return (int)array_delete(m, key, 0);
}

/* Per-CPU userspace view: nr_cpus slots of round_up(value_size, 8) bytes. */
static int array_sys_lookup(struct bpfvm_map *m, const void *key, void *value, uint64_t flags)
{
	struct array_map *a = to_array(m);
	uint32_t index = array_index(key);
	unsigned char *val;

	if (index >= m->max_entries)
		return -ENOENT;
	if (a->percpu) {
		for (uint32_t c = 0; c < m->nr_cpus; c++)
			memcpy((unsigned char *)value + (size_t)c * a->elem_sz,
			       array_slot(a, index, c), a->elem_sz);
		return 0;
	}
	val = array_slot(a, index, 0);
	if (flags & BPFVM_F_LOCK)
		map_copy_value_locked(m, val, value, true);
	else
		map_copy_value(m, value, val);
	map_clear_lock(m, value);
	return 0;
}

static int array_sys_update(struct bpfvm_map *m, const void *key, const void *value,
			    uint64_t flags)
{
	struct array_map *a = to_array(m);
	uint32_t index = array_index(key);

	if (!a->percpu)
		return (int)array_update(m, key, value, flags, 0);
	if (flags > BPFVM_EXIST)
		return -EINVAL;
	if (index >= m->max_entries)
		return -E2BIG;
	if (flags == BPFVM_NOEXIST)
		return -EEXIST;
	for (uint32_t c = 0; c < m->nr_cpus; c++)
		memcpy(array_slot(a, index, c), (const unsigned char *)value + (size_t)c * a->elem_sz,
		       a->elem_sz);
	return 0;
}

static long array_for_each(struct bpfvm_map *m, map_for_each_cb cb, void *ctx, int cpu)
{
	struct array_map *a = to_array(m);
	long n = 0;

	if (a->percpu && (uint32_t)cpu >= m->nr_cpus)
		return -EINVAL;
	for (uint32_t i = 0; i < m->max_entries; i++) {
		uint32_t key = i;
		long ret = cb(m, &key, array_slot(a, i, (uint32_t)cpu), ctx);

		n++;
		if (ret)
			break;
	}
	return n;
}

static void array_value_region(const struct bpfvm_map *m, void **base, size_t *size)
{
	*base = to_array(m)->values;
	*size = to_array(m)->values_sz;
}

static int array_check_access(const struct bpfvm_map *m, const void *p, size_t size)
{
	const struct array_map *a = to_array(m);
	uintptr_t off = (uintptr_t)p - (uintptr_t)a->values;

	if ((uintptr_t)p < (uintptr_t)a->values || off >= a->values_sz)
		return -EFAULT;
	if (off % a->elem_sz + size > m->value_size)
		return -EFAULT;
	return 0;
}

int map_array_direct(const struct bpfvm_map *m, void **base, uint32_t *stride, uint32_t *max,
		     uint32_t *nr_cpus)
{
	const struct array_map *a;

	if (!m || m->ops != &array_map_ops)
		return -EOPNOTSUPP;
	a = to_array(m);
	*base = a->values;
	*stride = a->elem_sz;
	*max = m->max_entries;
	*nr_cpus = a->percpu ? m->nr_cpus : 0;
	return 0;
}

void *bpfvm_map_mmap(struct bpfvm_map *map, size_t *size)
{
	if (!map || map->type != BPFVM_MAP_TYPE_ARRAY || !(map->map_flags & BPFVM_F_MMAPABLE)) {
		errno = EINVAL;
		return NULL;
	}
	if (size)
		*size = to_array(map)->values_sz;
	return to_array(map)->values;
}

const struct map_ops array_map_ops = {
	.alloc = array_alloc,
	.free = array_free,
	.lookup = array_lookup,
	.update = array_update,
	.delete = array_delete,
	.for_each = array_for_each,
	.sys_lookup = array_sys_lookup,
	.sys_update = array_sys_update,
	.sys_delete = array_sys_delete,
	.get_next_key = map_array_get_next_key,
	.lookup_batch = map_generic_lookup_batch,
	.value_region = array_value_region,
	.check_access = array_check_access,
	.direct_fn = array_direct_fn,
};
