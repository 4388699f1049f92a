/* bloom.c — BPF_MAP_TYPE_BLOOM_FILTER.
 *
 * A bit array sized as the kernel sizes it (max_entries * nr_hashes / ln 2,
 * rounded up to a power of two, at least one word) and nr_hashes keyed hashes
 * per value (map_extra, 1..15, default 5).  push sets the bits; peek returns 0
 * when every bit is set ("maybe present") and -ENOENT otherwise ("certainly
 * absent").  No keys, no delete, no iteration, as kernel/bpf/bloom_filter.c.
 * Bits are set with atomic ORs: no lock at all.
 */
#include "maps/map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BLOOM_CREATE_FLAG_MASK                                                     \
	(BPFVM_F_NUMA_NODE | BPFVM_F_ZERO_SEED | BPFVM_F_RDONLY | BPFVM_F_RDONLY_PROG | \
	 BPFVM_F_WRONLY | BPFVM_F_WRONLY_PROG)

struct bloom {
	struct bpfvm_map map;
	uint32_t bitset_mask;
	uint32_t nr_hashes;
	uint32_t seed;
	size_t bitset_sz;
	unsigned long *bitset;
};

static inline struct bloom *to_bloom(const struct bpfvm_map *m)
{
	return (struct bloom *)m;
}

static struct bpfvm_map *bloom_alloc(const struct map_attr *attr, int *err)
{
	uint32_t nr_hashes = (uint32_t)(attr->map_extra & 0xf);
	uint64_t nr_bits;
	struct bloom *b;
	size_t bytes;
	uint32_t mask;

	if (attr->key_size != 0)
		*err = map_attr_err(attr, -EINVAL, "key_size %u is invalid: must be 0 (no keys)",
				    attr->key_size);
	else if (attr->value_size == 0)
		*err = map_attr_err(attr, -EINVAL, "value_size must not be 0");
	else if (attr->max_entries == 0)
		*err = map_attr_err(attr, -EINVAL, "max_entries must not be 0");
	else if (attr->map_flags & ~BLOOM_CREATE_FLAG_MASK)
		*err = map_attr_err(attr, -EINVAL, "map_flags 0x%x has flags bloom filters do not take",
				    attr->map_flags & ~BLOOM_CREATE_FLAG_MASK);
	else if (!map_flags_access_ok(attr->map_flags))
		*err = map_attr_err(attr, -EINVAL,
				    "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other");
	else if (attr->map_extra & ~0xfull)
		*err = map_attr_err(attr, -EINVAL,
				    "map_extra %llu is invalid: the number of hash functions is 1..15",
				    (unsigned long long)attr->map_extra);
	else
		*err = 0;
	if (*err)
		return NULL;
	if (!nr_hashes)
		nr_hashes = 5;
	/* bits ~ n * k / ln(2) ~ n * k * 7 / 5, as the kernel computes it */
	nr_bits = (uint64_t)attr->max_entries * nr_hashes;
	if (nr_bits > UINT32_MAX || (nr_bits / 5) * 7 > (1ull << 31)) {
		bytes = (1ull << 32) / 8;
		mask = UINT32_MAX;
	} else {
		nr_bits = (nr_bits / 5) * 7;
		if (nr_bits <= 64) {
			nr_bits = 64;
		} else {
			uint64_t p = 1;

			while (p < nr_bits)
				p <<= 1;
			nr_bits = p;
		}
		bytes = (size_t)(nr_bits / 8);
		mask = (uint32_t)(nr_bits - 1);
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		*err = -ENOMEM;
		return NULL;
	}
	map_init(&b->map, attr);
	b->nr_hashes = nr_hashes;
	b->bitset_mask = mask;
	b->seed = map_hash_seed(attr->map_flags);
	b->bitset_sz = bytes;
	b->bitset = map_area_alloc(bytes);
	if (!b->bitset) {
		free(b);
		*err = map_attr_err(attr, -ENOMEM, "cannot allocate %zu bytes of bits", bytes);
		return NULL;
	}
	return &b->map;
}

static void bloom_free(struct bpfvm_map *m)
{
	map_area_free(to_bloom(m)->bitset, to_bloom(m)->bitset_sz);
	free(m);
}

static inline uint32_t bloom_bit(const struct bloom *b, const void *value, uint32_t i)
{
	return map_hash(value, b->map.value_size, b->seed + i) & b->bitset_mask;
}

#define BITS_PER_WORD (8 * sizeof(unsigned long))

static long bloom_push(struct bpfvm_map *m, const void *value, uint64_t flags, int cpu)
{
	struct bloom *b = to_bloom(m);

	(void)cpu;
	if (flags != BPFVM_ANY)
		return -EINVAL;
	for (uint32_t i = 0; i < b->nr_hashes; i++) {
		uint32_t bit = bloom_bit(b, value, i);

		__atomic_fetch_or(&b->bitset[bit / BITS_PER_WORD], 1ul << (bit % BITS_PER_WORD),
				  __ATOMIC_RELAXED);
	}
	return 0;
}

static long bloom_peek(struct bpfvm_map *m, void *value, int cpu)
{
	struct bloom *b = to_bloom(m);

	(void)cpu;
	for (uint32_t i = 0; i < b->nr_hashes; i++) {
		uint32_t bit = bloom_bit(b, value, i);

		if (!(__atomic_load_n(&b->bitset[bit / BITS_PER_WORD], __ATOMIC_RELAXED) &
		      (1ul << (bit % BITS_PER_WORD))))
			return -ENOENT;
	}
	return 0;
}

static long bloom_pop(struct bpfvm_map *m, void *value, int cpu)
{
	(void)m, (void)value, (void)cpu;
	return -EOPNOTSUPP;
}

static int bloom_sys_lookup(struct bpfvm_map *m, const void *key, void *value, uint64_t flags)
{
	(void)key, (void)flags;
	return (int)bloom_peek(m, value, 0);
}

static int bloom_sys_update(struct bpfvm_map *m, const void *key, const void *value,
			    uint64_t flags)
{
	(void)key;
	return (int)bloom_push(m, value, flags, 0);
}

static int bloom_sys_delete(struct bpfvm_map *m, const void *key)
{
	(void)m, (void)key;
	return -EOPNOTSUPP;
}

static int bloom_get_next_key(struct bpfvm_map *m, const void *key, void *next_key)
{
	(void)m, (void)key, (void)next_key;
	return -EOPNOTSUPP;
}

const struct map_ops bloom_map_ops = {
	.alloc = bloom_alloc,
	.free = bloom_free,
	.push = bloom_push,
	.pop = bloom_pop,
	.peek = bloom_peek,
	.sys_lookup = bloom_sys_lookup,
	.sys_update = bloom_sys_update,
	.sys_delete = bloom_sys_delete,
	.get_next_key = bloom_get_next_key,
};
