/* hash.c — the hash table family: HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH,
 * and the two hash maps whose values are objects or devices, HASH_OF_MAPS and
 * DEVMAP_HASH.
 *
 * Layout.  n_buckets = roundup_pow_of_two(max_entries) buckets, each a list
 * head and a spinlock.  max_entries elements live in one block, elem_sz bytes
 * apart: a 16-byte header, the key (padded to 8), and the value (per-CPU maps
 * keep values in a separate [cpu][element] block so CPUs do not share cache
 * lines, and the element's index where the value would be); a 4-byte key
 * and an 8-byte value make 32 bytes, two elements to a cache line.
 * Elements never return to the allocator while the map lives: deleted ones go
 * on a free stack of indexes and are reused, which bounds memory by the map's
 * definition and keeps any pointer a program got from a lookup valid memory
 * (see "Pointer lifetime" in map.h).  BPF_F_NO_PREALLOC changes nothing
 * visible: the block is committed lazily either way.
 *
 * Concurrency, after the kernel's hlist_nulls.  Lookups take no lock.  A list
 * ends with a "nulls" marker, (bucket << 1) | 1, instead of NULL; an empty
 * head reads 0.  A reader walking an element that is deleted and reused for
 * another bucket meanwhile ends on the other bucket's marker and restarts.
 * Updates and deletes take the bucket's spinlock, publish with release stores,
 * and update existing elements in place (as the kernel does for per-CPU and
 * BPF_F_LOCK updates), so a full map still accepts updates of present keys.
 * Keys and values are written and read a word at a time (map_words_*): a
 * reader may be comparing the key of an element being refilled.
 *
 * The JIT calls lookups specialised for 4- and 8-byte keys and each flavour
 * (htab_direct_fn).
 *
 * LRU: a program's lookup sets the element's `ref` bit; when no free element
 * is left, a clock hand sweeps the element block, clearing ref bits and
 * evicting the first unreferenced element (taking only that element's bucket
 * lock), so a full LRU map evicts instead of failing.  At most two sweeps.
 */
#include "maps/map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maps/fdtable.h"

#define KMALLOC_MAX_SIZE (1u << 22)	/* x86-64 with 4K pages */
#define PCPU_MIN_UNIT_SIZE 32768u
#define HTAB_ELEM_KERNEL_SZ 48u	/* sizeof(struct htab_elem) in the kernel */

#define MAP_ACCESS_MASK \
	(BPFVM_F_RDONLY | BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY | BPFVM_F_WRONLY_PROG)
#define HTAB_CREATE_FLAG_MASK                                                  \
	(BPFVM_F_NO_PREALLOC | BPFVM_F_NO_COMMON_LRU | BPFVM_F_NUMA_NODE |     \
	 MAP_ACCESS_MASK | BPFVM_F_ZERO_SEED)
#define DEV_CREATE_FLAG_MASK (BPFVM_F_NUMA_NODE | BPFVM_F_RDONLY | BPFVM_F_WRONLY)

struct htab_elem {
	atomic_uintptr_t next;	/* next element, or a nulls marker */
	atomic_uint hash;
	atomic_uchar in_use;	/* linked in a bucket; changes under its lock */
	atomic_uchar ref;	/* LRU: looked up since the clock hand passed */
	unsigned char pad[2];
	unsigned char data[];	/* key (padded to 8), then the value (per-CPU:
				 * the element's index, a uint32_t) */
};

struct htab_bucket {
	atomic_uintptr_t head;	/* 0: empty */
	map_spinlock_t lock;
};

struct htab {
	struct bpfvm_map map;
	uint32_t n_buckets;
	uint32_t seed;
	uint32_t key_sz8;	/* round_up(key_size, 8) */
	uint32_t val_sz;	/* bytes of value kept in the element (0: per-CPU) */
	uint32_t elem_sz;
	bool percpu, lru, of_maps, devmap;
	struct htab_bucket *buckets;
	unsigned char *elems;
	size_t elems_sz;
	unsigned char *pcpu;	/* per-CPU values, [cpu][idx] */
	size_t pcpu_sz;
	map_spinlock_t free_lock;
	uint32_t *free_stack;	/* indexes of deleted elements */
	uint32_t free_top;
	uint32_t next_unused;	/* elements from here on were never used */
	atomic_uint lru_hand;
};

static inline struct htab *to_htab(const struct bpfvm_map *m)
{
	return (struct htab *)m;
}

static inline uintptr_t nulls_marker(uint32_t bucket)
{
	return ((uintptr_t)bucket << 1) | 1;
}

static inline bool is_nulls(uintptr_t v)
{
	return v & 1;
}

static inline struct htab_elem *htab_elem_at(const struct htab *h, uint32_t idx)
{
	return (struct htab_elem *)(h->elems + (size_t)idx * h->elem_sz);
}

static inline uint32_t htab_elem_idx(const struct htab *h, const struct htab_elem *e)
{
	return (uint32_t)(((const unsigned char *)e - h->elems) / h->elem_sz);
}

static inline unsigned char *htab_key(struct htab_elem *e)
{
	return e->data;
}

/* CPU cpu's value of a per-CPU map's element; key_sz8: h->key_sz8 (a
 * constant where it is known). */
static inline unsigned char *htab_pcpu_val(const struct htab *h, struct htab_elem *e,
					   uint32_t cpu, uint32_t key_sz8)
{
	uint32_t idx;

	memcpy(&idx, e->data + key_sz8, 4);
	return h->pcpu + ((size_t)cpu * h->map.max_entries + idx) * h->map.pcpu_value_sz;
}

/* The value a program sees: inline, or this CPU's per-CPU slot. */
static inline unsigned char *htab_val(const struct htab *h, struct htab_elem *e, uint32_t cpu)
{
	if (h->percpu)
		return htab_pcpu_val(h, e, cpu, h->key_sz8);
	return e->data + h->key_sz8;
}

static inline uint32_t htab_hash(const struct htab *h, const void *key)
{
	return map_hash(key, h->map.key_size, h->seed);
}

static inline struct htab_bucket *htab_bucket(const struct htab *h, uint32_t hash)
{
	return &h->buckets[hash & (h->n_buckets - 1)];
}

/* Does the element's key (words a writer may be refilling, map_words_*)
 * equal `b`?  The common 4- and 8-byte keys are compared inline. */
static inline bool htab_key_eq(const unsigned char *a, const void *b, uint32_t ksz)
{
	if (ksz == 4) {
		uint32_t y;

		memcpy(&y, b, 4);
		return __atomic_load_n((const uint32_t *)(const void *)a, __ATOMIC_RELAXED) == y;
	}
	if (ksz == 8) {
		uint64_t y;

		memcpy(&y, b, 8);
		return __atomic_load_n((const uint64_t *)(const void *)a, __ATOMIC_RELAXED) == y;
	}
	return map_words_eq(a, b, ksz);
}

/* Lock-free search; see the file comment for the nulls restart.  ksz:
 * h->map.key_size (a constant where it is known). */
MAP_ALWAYS_INLINE struct htab_elem *htab_find_k(const struct htab *h, uint32_t hash,
						const void *key, uint32_t ksz)
{
	uint32_t b = hash & (h->n_buckets - 1);
	uintptr_t v;

again:
	v = atomic_load_explicit(&h->buckets[b].head, memory_order_acquire);
	while (v && !is_nulls(v)) {
		struct htab_elem *e = (struct htab_elem *)v;

		if (atomic_load_explicit(&e->hash, memory_order_relaxed) == hash &&
		    htab_key_eq(e->data, key, ksz))
			return e;
		v = atomic_load_explicit(&e->next, memory_order_acquire);
	}
	if (v && (uint32_t)(v >> 1) != b)
		goto again;
	return NULL;
}

static struct htab_elem *htab_find(const struct htab *h, uint32_t hash, const void *key)
{
	return htab_find_k(h, hash, key, h->map.key_size);
}

/* Search under the bucket lock; *slotp gets the link that points at the
 * element (for unlinking). */
static struct htab_elem *htab_find_locked(const struct htab *h, struct htab_bucket *b,
					  uint32_t hash, const void *key,
					  atomic_uintptr_t **slotp)
{
	atomic_uintptr_t *slot = &b->head;
	uintptr_t v = atomic_load_explicit(slot, memory_order_relaxed);

	while (v && !is_nulls(v)) {
		struct htab_elem *e = (struct htab_elem *)v;

		if (atomic_load_explicit(&e->hash, memory_order_relaxed) == hash &&
		    htab_key_eq(e->data, key, h->map.key_size)) {
			if (slotp)
				*slotp = slot;
			return e;
		}
		slot = &e->next;
		v = atomic_load_explicit(slot, memory_order_relaxed);
	}
	return NULL;
}

/* The link that points at `e` in bucket b, or NULL when e is not there
 * (bucket lock held). */
static atomic_uintptr_t *htab_slot_of(struct htab_bucket *b, const struct htab_elem *e)
{
	atomic_uintptr_t *slot = &b->head;
	uintptr_t v = atomic_load_explicit(slot, memory_order_relaxed);

	while (v && !is_nulls(v)) {
		if (v == (uintptr_t)e)
			return slot;
		slot = &((struct htab_elem *)v)->next;
		v = atomic_load_explicit(slot, memory_order_relaxed);
	}
	return NULL;
}

/* Unlink `e` (whose link is *slot) under its bucket lock. */
static void htab_unlink(atomic_uintptr_t *slot, struct htab_elem *e)
{
	atomic_store_explicit(slot, atomic_load_explicit(&e->next, memory_order_relaxed),
			      memory_order_release);
	atomic_store_explicit(&e->in_use, 0, memory_order_relaxed);
}

/* Link a filled-in element at the head of its bucket (bucket lock held). */
static void htab_link(struct htab *h, struct htab_bucket *b, struct htab_elem *e)
{
	uintptr_t head = atomic_load_explicit(&b->head, memory_order_relaxed);

	if (!head)
		head = nulls_marker((uint32_t)(b - h->buckets));
	atomic_store_explicit(&e->in_use, 1, memory_order_relaxed);
	atomic_store_explicit(&e->next, head, memory_order_relaxed);
	atomic_store_explicit(&b->head, (uintptr_t)e, memory_order_release);
}

static struct htab_elem *htab_alloc_elem(struct htab *h)
{
	struct htab_elem *e = NULL;
	uint32_t idx;

	map_spinlock_lock(&h->free_lock);
	if (h->free_top) {
		e = htab_elem_at(h, h->free_stack[--h->free_top]);
	} else if (h->next_unused < h->map.max_entries) {
		idx = h->next_unused;
		__atomic_store_n(&h->next_unused, idx + 1, __ATOMIC_RELAXED);
		e = htab_elem_at(h, idx);
		if (h->percpu)	/* set once, before the element is ever linked */
			memcpy(e->data + h->key_sz8, &idx, 4);
	}
	map_spinlock_unlock(&h->free_lock);
	return e;
}

static void htab_free_elem(struct htab *h, struct htab_elem *e)
{
	uint32_t idx = htab_elem_idx(h, e);

	map_spinlock_lock(&h->free_lock);
	h->free_stack[h->free_top++] = idx;
	map_spinlock_unlock(&h->free_lock);
}

/* LRU: take an element away from its key.  Called with no lock held. */
static struct htab_elem *htab_lru_evict(struct htab *h)
{
	uint32_t max = h->map.max_entries;

	for (uint64_t step = 0; step < 2ull * max + 1; step++) {
		uint32_t idx = atomic_fetch_add_explicit(&h->lru_hand, 1, memory_order_relaxed) % max;
		struct htab_elem *e = htab_elem_at(h, idx);
		struct htab_bucket *b;
		atomic_uintptr_t *slot;
		uint32_t hash;

		if (idx >= __atomic_load_n(&h->next_unused, __ATOMIC_RELAXED) ||
		    !atomic_load_explicit(&e->in_use, memory_order_relaxed))
			continue;
		if (atomic_load_explicit(&e->ref, memory_order_relaxed)) {
			atomic_store_explicit(&e->ref, 0, memory_order_relaxed);
			continue;
		}
		hash = atomic_load_explicit(&e->hash, memory_order_relaxed);
		b = htab_bucket(h, hash);
		map_spinlock_lock(&b->lock);
		/* still linked in this bucket? */
		slot = htab_slot_of(b, e);
		if (slot) {
			htab_unlink(slot, e);
			map_spinlock_unlock(&b->lock);
			return e;
		}
		map_spinlock_unlock(&b->lock);
	}
	return NULL;
}

/* ------------------------------------------------------------- creation -- */

static int htab_alloc_check(const struct map_attr *attr)
{
	uint32_t t = attr->type;
	bool percpu = t == BPFVM_MAP_TYPE_PERCPU_HASH || t == BPFVM_MAP_TYPE_LRU_PERCPU_HASH;
	bool lru = t == BPFVM_MAP_TYPE_LRU_HASH || t == BPFVM_MAP_TYPE_LRU_PERCPU_HASH;
	uint32_t flags = attr->map_flags;

	if (t == BPFVM_MAP_TYPE_DEVMAP_HASH) {
		if (attr->max_entries == 0)
			return map_attr_err(attr, -EINVAL, "max_entries must not be 0");
		if (attr->key_size != 4)
			return map_attr_err(attr, -EINVAL, "key_size %u is invalid: must be 4",
					    attr->key_size);
		if (attr->value_size != 4 && attr->value_size != 8)
			return map_attr_err(attr, -EINVAL,
					    "value_size %u is invalid: must be 4 (ifindex) or 8 (ifindex, prog fd)",
					    attr->value_size);
		if (flags & ~DEV_CREATE_FLAG_MASK)
			return map_attr_err(attr, -EINVAL,
					    "map_flags 0x%x has flags device maps do not take",
					    flags & ~DEV_CREATE_FLAG_MASK);
		if (attr->max_entries > (1u << 31))
			return map_attr_err(attr, -EINVAL, "max_entries %u is too large",
					    attr->max_entries);
		return 0;
	}
	if (t == BPFVM_MAP_TYPE_HASH_OF_MAPS && attr->value_size != 4)
		return map_attr_err(attr, -EINVAL,
				    "value_size %u is invalid: must be 4 (an inner map fd)",
				    attr->value_size);
	if (flags & ~HTAB_CREATE_FLAG_MASK)
		return map_attr_err(attr, -EINVAL, "map_flags 0x%x has flags hash maps do not take",
				    flags & ~HTAB_CREATE_FLAG_MASK);
	if (!map_flags_access_ok(flags))
		return map_attr_err(attr, -EINVAL,
				    "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other");
	if (!lru && (flags & BPFVM_F_NO_COMMON_LRU))
		return map_attr_err(attr, -EINVAL, "BPF_F_NO_COMMON_LRU is for LRU maps only");
	if (lru && (flags & BPFVM_F_NO_PREALLOC))
		/* the kernel says ENOTSUPP (524), an errno userspace cannot name */
		return map_attr_err(attr, -EOPNOTSUPP, "LRU maps must be preallocated");
	if ((flags & BPFVM_F_NUMA_NODE) && (percpu || (flags & BPFVM_F_NO_COMMON_LRU)))
		return map_attr_err(attr, -EINVAL, "per-CPU maps take no NUMA node");
	if (attr->max_entries == 0)
		return map_attr_err(attr, -EINVAL, "max_entries must not be 0");
	if (attr->key_size == 0)
		return map_attr_err(attr, -EINVAL, "key_size must not be 0");
	if (attr->value_size == 0)
		return map_attr_err(attr, -EINVAL, "value_size must not be 0");
	if ((uint64_t)attr->key_size + attr->value_size >= KMALLOC_MAX_SIZE - HTAB_ELEM_KERNEL_SZ)
		return map_attr_err(attr, -E2BIG, "key_size %u + value_size %u is too large",
				    attr->key_size, attr->value_size);
	if (percpu && map_round_up(attr->value_size, 8) > PCPU_MIN_UNIT_SIZE)
		return map_attr_err(attr, -E2BIG,
				    "value_size %u is too large for a per-CPU map (max %u)",
				    attr->value_size, PCPU_MIN_UNIT_SIZE);
	if (attr->max_entries > (1u << 31))
		return map_attr_err(attr, -E2BIG, "max_entries %u is too large", attr->max_entries);
	return 0;
}

static void htab_free(struct bpfvm_map *m);

static struct bpfvm_map *htab_alloc(const struct map_attr *attr, int *err)
{
	struct htab *h;
	uint32_t n_buckets = 1;
	uint64_t total;

	*err = htab_alloc_check(attr);
	if (*err)
		return NULL;
	while (n_buckets < attr->max_entries)
		n_buckets <<= 1;
	if (n_buckets > UINT32_MAX / sizeof(struct htab_bucket)) {
		*err = map_attr_err(attr, -E2BIG, "max_entries %u needs too many buckets",
				    attr->max_entries);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		*err = -ENOMEM;
		return NULL;
	}
	map_init(&h->map, attr);
	h->map.ops = &htab_map_ops;
	h->n_buckets = n_buckets;
	h->percpu = attr->type == BPFVM_MAP_TYPE_PERCPU_HASH ||
		    attr->type == BPFVM_MAP_TYPE_LRU_PERCPU_HASH;
	h->lru = attr->type == BPFVM_MAP_TYPE_LRU_HASH ||
		 attr->type == BPFVM_MAP_TYPE_LRU_PERCPU_HASH;
	h->of_maps = attr->type == BPFVM_MAP_TYPE_HASH_OF_MAPS;
	h->devmap = attr->type == BPFVM_MAP_TYPE_DEVMAP_HASH;
	if (h->devmap)
		h->map.map_flags |= BPFVM_F_RDONLY_PROG;	/* as the kernel: lookups are read-only */
	h->seed = map_hash_seed(attr->map_flags);
	h->key_sz8 = map_round_up(attr->key_size, 8);
	h->val_sz = h->percpu || h->of_maps ? 8 : map_round_up(attr->value_size, 8);
	h->elem_sz = (uint32_t)sizeof(struct htab_elem) + h->key_sz8 + h->val_sz;
	map_spinlock_init(&h->free_lock);

	total = (uint64_t)h->elem_sz * attr->max_entries;
	if (h->percpu)
		total += (uint64_t)attr->nr_cpus * attr->max_entries * h->map.pcpu_value_sz;
	if (total > (1ull << 40)) {
		free(h);
		*err = map_attr_err(attr, -ENOMEM, "%llu bytes of elements is more than bpfvm allows",
				    (unsigned long long)total);
		return NULL;
	}
	h->buckets = map_area_alloc((size_t)n_buckets * sizeof(struct htab_bucket));
	h->elems_sz = (size_t)h->elem_sz * attr->max_entries;
	h->elems = map_area_alloc(h->elems_sz);
	h->free_stack = map_area_alloc((size_t)attr->max_entries * sizeof(uint32_t));
	if (h->percpu) {
		h->pcpu_sz = (size_t)attr->nr_cpus * attr->max_entries * h->map.pcpu_value_sz;
		h->pcpu = map_area_alloc(h->pcpu_sz);
	}
	if (!h->buckets || !h->elems || !h->free_stack || (h->percpu && !h->pcpu)) {
		htab_free(&h->map);
		*err = map_attr_err(attr, -ENOMEM, "cannot allocate %llu bytes of elements",
				    (unsigned long long)total);
		return NULL;
	}
	if (h->of_maps) {
		*err = map_meta_alloc(&h->map, attr);
		if (*err) {
			htab_free(&h->map);
			return NULL;
		}
	}
	return &h->map;
}

/* Drop the inner-map reference a HASH_OF_MAPS value holds. */
static void htab_put_obj(struct htab *h, void *obj)
{
	(void)h;
	if (obj)
		map_put(obj);
}

/* HASH_OF_MAPS values are inner map pointers, read and written atomically. */
static void *htab_obj(struct htab *h, struct htab_elem *e)
{
	return __atomic_load_n((void **)(void *)htab_val(h, e, 0), __ATOMIC_ACQUIRE);
}

static void htab_free(struct bpfvm_map *m)
{
	struct htab *h = to_htab(m);

	if (h->of_maps && h->elems && h->buckets) {
		for (uint32_t i = 0; i < h->n_buckets; i++) {
			uintptr_t v = atomic_load(&h->buckets[i].head);

			while (v && !is_nulls(v)) {
				struct htab_elem *e = (struct htab_elem *)v;

				htab_put_obj(h, htab_obj(h, e));
				v = atomic_load(&e->next);
			}
		}
	}
	map_area_free(h->buckets, (size_t)h->n_buckets * sizeof(struct htab_bucket));
	map_area_free(h->elems, h->elems_sz);
	map_area_free(h->free_stack, (size_t)m->max_entries * sizeof(uint32_t));
	map_area_free(h->pcpu, h->pcpu_sz);
	free(h);
}

/* ------------------------------------------------------------ lookups -- */

/* bpf_map_lookup_elem on HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH
 * without testing the flavour; ksz: the key size, or 0 for any (constants
 * where this is inlined). */
MAP_ALWAYS_INLINE void *htab_lookup_k(struct bpfvm_map *m, const void *key, int cpu,
				      uint32_t ksz, bool percpu, bool lru)
{
	struct htab *h = to_htab(m);
	uint32_t key_sz8 = ksz ? map_round_up(ksz, 8) : h->key_sz8;
	struct htab_elem *e;

	if (!ksz)
		ksz = m->key_size;
	if (percpu && (uint32_t)cpu >= m->nr_cpus)
		return NULL;
	e = htab_find_k(h, map_hash(key, ksz, h->seed), key, ksz);
	if (!e)
		return NULL;
	if (lru && !atomic_load_explicit(&e->ref, memory_order_relaxed))
		atomic_store_explicit(&e->ref, 1, memory_order_relaxed);
	return percpu ? htab_pcpu_val(h, e, (uint32_t)cpu, key_sz8) : e->data + key_sz8;
}

/* The JIT's direct lookups: one per key size (4, 8, any) and flavour. */
#define HTAB_LOOKUP(ksz, percpu, lru)                                               \
	static void *htab_lookup_##ksz##_##percpu##lru(struct bpfvm_map *m, const void *key, \
						    int cpu)                          \
	{                                                                           \
		return htab_lookup_k(m, key, cpu, ksz, percpu, lru);                 \
	}
#define HTAB_LOOKUPS(ksz)                                                          \
	HTAB_LOOKUP(ksz, 0, 0) HTAB_LOOKUP(ksz, 0, 1) HTAB_LOOKUP(ksz, 1, 0)          \
	HTAB_LOOKUP(ksz, 1, 1)
HTAB_LOOKUPS(4)
HTAB_LOOKUPS(8)
HTAB_LOOKUPS(0)
#undef HTAB_LOOKUPS
#undef HTAB_LOOKUP

typedef void *(*htab_lookup_fn)(struct bpfvm_map *m, const void *key, int cpu);

/* [key size 4, 8, other][percpu][lru] */
static const htab_lookup_fn htab_lookups[3][2][2] = {
	{ { htab_lookup_4_00, htab_lookup_4_01 }, { htab_lookup_4_10, htab_lookup_4_11 } },
	{ { htab_lookup_8_00, htab_lookup_8_01 }, { htab_lookup_8_10, htab_lookup_8_11 } },
	{ { htab_lookup_0_00, htab_lookup_0_01 }, { htab_lookup_0_10, htab_lookup_0_11 } },
};

static uintptr_t htab_direct_fn(const struct bpfvm_map *m, enum map_call call)
{
	const struct htab *h = to_htab(m);
	int ks = m->key_size == 4 ? 0 : m->key_size == 8 ? 1 : 2;

	if (call != MAP_CALL_LOOKUP || h->of_maps || h->devmap)
		return 0;
	return (uintptr_t)htab_lookups[ks][h->percpu][h->lru];
}

static void *htab_lookup(struct bpfvm_map *m, const void *key, int cpu)
{
	struct htab *h = to_htab(m);
	struct htab_elem *e;

	if (h->percpu && (uint32_t)cpu >= m->nr_cpus)
		return NULL;
	e = htab_find(h, htab_hash(h, key), key);
	if (!e)
		return NULL;
	if (h->lru && !atomic_load_explicit(&e->ref, memory_order_relaxed))
		atomic_store_explicit(&e->ref, 1, memory_order_relaxed);
	if (h->of_maps)
		return htab_obj(h, e);	/* r0 = the inner map, as in the kernel */
	return htab_val(h, e, (uint32_t)cpu);
}

/* Copy an element's value into the userspace layout. */
static void htab_copy_out(struct htab *h, struct htab_elem *e, void *value, uint64_t flags)
{
	struct bpfvm_map *m = &h->map;

	if (h->percpu) {
		for (uint32_t c = 0; c < m->nr_cpus; c++)
			map_words_load((unsigned char *)value + (size_t)c * m->pcpu_value_sz,
				       htab_val(h, e, c), m->pcpu_value_sz);
	} else if (h->of_maps) {
		struct bpfvm_map *inner;
		uint32_t id;

		rcu_read_lock();	/* a concurrent delete may drop the last reference */
		inner = htab_obj(h, e);
		id = inner ? inner->id : 0;
		rcu_read_unlock();
		memcpy(value, &id, 4);
	} else if (flags & BPFVM_F_LOCK) {
		map_copy_value_locked(m, htab_val(h, e, 0), value, true);
		map_clear_lock(m, value);
	} else if (m->spin_lock_off < 0) {
		map_words_load(value, htab_val(h, e, 0), m->value_size);
	} else {
		map_copy_value(m, value, htab_val(h, e, 0));
		map_clear_lock(m, value);
	}
}

static int htab_sys_lookup(struct bpfvm_map *m, const void *key, void *value, uint64_t flags)
{
	struct htab *h = to_htab(m);
	struct htab_elem *e = htab_find(h, htab_hash(h, key), key);

	if (!e)
		return -ENOENT;
	htab_copy_out(h, e, value, flags);
	return 0;
}

/* ------------------------------------------------------------ updates -- */

enum htab_src {
	HTAB_SRC_PROG,		/* one CPU's value from a program */
	HTAB_SRC_USER,		/* userspace layout: all CPUs for per-CPU maps */
};

/* Write a value into an element; `fresh` for a new element (per-CPU: other
 * CPUs are zeroed; lock word zeroed).  Word by word (map_words_*): readers
 * may hold the element. */
static void htab_write(struct htab *h, struct htab_elem *e, const void *value,
		       enum htab_src src, uint32_t cpu, bool fresh)
{
	struct bpfvm_map *m = &h->map;

	if (h->percpu) {
		if (src == HTAB_SRC_USER) {
			for (uint32_t c = 0; c < m->nr_cpus; c++)
				map_words_store(htab_val(h, e, c), (const unsigned char *)value +
						(size_t)c * m->pcpu_value_sz, m->pcpu_value_sz);
			return;
		}
		if (fresh)
			for (uint32_t c = 0; c < m->nr_cpus; c++)
				map_words_zero(htab_val(h, e, c), m->pcpu_value_sz);
		map_words_store(htab_val(h, e, cpu), value, m->value_size);
		return;
	}
	if (h->of_maps) {
		__atomic_store_n((void **)(void *)htab_val(h, e, 0), *(void *const *)value,
				 __ATOMIC_RELEASE);
		return;
	}
	if (m->spin_lock_off < 0) {
		map_words_store(htab_val(h, e, 0), value, m->value_size);
		return;
	}
	if (fresh)
		map_words_zero(htab_val(h, e, 0), h->val_sz);
	map_copy_value(m, htab_val(h, e, 0), value);
}

static int htab_check_flags(const struct htab_elem *old, uint64_t flags)
{
	uint64_t f = flags & ~(uint64_t)BPFVM_F_LOCK;

	if (old && f == BPFVM_NOEXIST)
		return -EEXIST;
	if (!old && f == BPFVM_EXIST)
		return -ENOENT;
	return 0;
}

/* The common update.  `value` is in the layout `src` says (for HASH_OF_MAPS
 * it points at the inner map pointer).  *old_obj receives a replaced inner map
 * for the caller to release. */
static long htab_update_common(struct htab *h, const void *key, const void *value,
			       uint64_t flags, enum htab_src src, uint32_t cpu, void **old_obj)
{
	struct bpfvm_map *m = &h->map;
	uint32_t hash = htab_hash(h, key);
	struct htab_bucket *b = htab_bucket(h, hash);
	struct htab_elem *e, *fresh = NULL;
	long ret;

	if (h->lru || h->percpu) {
		if (flags > BPFVM_EXIST)
			return -EINVAL;
	} else if ((flags & ~(uint64_t)BPFVM_F_LOCK) > BPFVM_EXIST) {
		return -EINVAL;
	}
	if (h->percpu && src == HTAB_SRC_PROG && cpu >= m->nr_cpus)
		return -EINVAL;

	if (flags & BPFVM_F_LOCK) {
		if (m->spin_lock_off < 0)
			return -EINVAL;
		/* as the kernel: an existing element is updated under its lock
		 * without taking the bucket lock */
		e = htab_find(h, hash, key);
		ret = htab_check_flags(e, flags);
		if (ret)
			return ret;
		if (e) {
			map_copy_value_locked(m, htab_val(h, e, 0), (void *)value, false);
			return 0;
		}
	}

	for (;;) {
		map_spinlock_lock(&b->lock);
		e = htab_find_locked(h, b, hash, key, NULL);
		ret = htab_check_flags(e, flags);
		if (ret)
			break;
		if (e) {
			if (old_obj)
				*old_obj = htab_obj(h, e);
			htab_write(h, e, value, src, cpu, false);
			if (h->lru)
				atomic_store_explicit(&e->ref, 1, memory_order_relaxed);
			break;
		}
		if (!fresh)
			fresh = htab_alloc_elem(h);
		if (fresh) {
			map_words_store(htab_key(fresh), key, m->key_size);
			atomic_store_explicit(&fresh->hash, hash, memory_order_relaxed);
			atomic_store_explicit(&fresh->ref, 0, memory_order_relaxed);
			htab_write(h, fresh, value, src, cpu, true);
			htab_link(h, b, fresh);
			fresh = NULL;
			break;
		}
		if (!h->lru) {
			ret = -E2BIG;
			break;
		}
		/* LRU and full: evict with no lock held, then look again */
		map_spinlock_unlock(&b->lock);
		fresh = htab_lru_evict(h);
		if (!fresh)
			return -ENOMEM;
	}
	map_spinlock_unlock(&b->lock);
	if (fresh)
		htab_free_elem(h, fresh);
	return ret;
}

static long htab_update(struct bpfvm_map *m, const void *key, const void *value,
			uint64_t flags, int cpu)
{
	struct htab *h = to_htab(m);

	if (h->of_maps || h->devmap)
		return -EOPNOTSUPP;	/* programs cannot update these (verifier) */
	return htab_update_common(h, key, value, flags, HTAB_SRC_PROG, (uint32_t)cpu, NULL);
}

static int htab_sys_update(struct bpfvm_map *m, const void *key, const void *value,
			   uint64_t flags)
{
	struct htab *h = to_htab(m);

	if (h->of_maps) {
		struct bpfvm_map *inner, *old = NULL;
		int32_t fd;
		int err;
		long ret;

		memcpy(&fd, value, 4);
		inner = map_get_by_fd(fd, &err);
		if (!inner)
			return err;
		if (!map_meta_equal(m, inner)) {
			map_put(inner);
			return -EINVAL;
		}
		ret = htab_update_common(h, key, &inner, flags, HTAB_SRC_USER, 0, (void **)&old);
		if (ret)
			map_put(inner);
		else
			htab_put_obj(h, old);
		return (int)ret;
	}
	if (h->devmap) {
		uint32_t v[2] = { 0, 0 };

		memcpy(v, value, m->value_size);
		if (flags > BPFVM_EXIST || v[0] == 0)
			return -EINVAL;
		if (m->value_size == 8 && (int32_t)v[1] > 0)
			return -EOPNOTSUPP;	/* programs on devmap entries: not yet */
		/* the kernel's devmap_hash ignores BPF_EXIST: update or insert */
		return (int)htab_update_common(h, key, value, flags & BPFVM_NOEXIST,
					       HTAB_SRC_USER, 0, NULL);
	}
	return (int)htab_update_common(h, key, value, flags, HTAB_SRC_USER, 0, NULL);
}

/* ------------------------------------------------------------ deletes -- */

/* Remove `key`; when `value` is given copy it out first (lookup_and_delete). */
static int htab_remove(struct htab *h, const void *key, void *value, uint64_t flags)
{
	uint32_t hash = htab_hash(h, key);
	struct htab_bucket *b = htab_bucket(h, hash);
	atomic_uintptr_t *slot;
	struct htab_elem *e;
	void *obj = NULL;

	map_spinlock_lock(&b->lock);
	e = htab_find_locked(h, b, hash, key, &slot);
	if (!e) {
		map_spinlock_unlock(&b->lock);
		return -ENOENT;
	}
	if (value)
		htab_copy_out(h, e, value, flags);
	if (h->of_maps)
		obj = htab_obj(h, e);
	htab_unlink(slot, e);
	map_spinlock_unlock(&b->lock);
	htab_free_elem(h, e);
	htab_put_obj(h, obj);
	return 0;
}

static long htab_delete(struct bpfvm_map *m, const void *key, int cpu)
{
	(void)cpu;
	if (to_htab(m)->of_maps || to_htab(m)->devmap)
		return -EOPNOTSUPP;
	return htab_remove(to_htab(m), key, NULL, 0);
}

static int htab_sys_delete(struct bpfvm_map *m, const void *key)
{
	return htab_remove(to_htab(m), key, NULL, 0);
}

static int htab_sys_lookup_and_delete(struct bpfvm_map *m, const void *key, void *value,
				      uint64_t flags)
{
	if (to_htab(m)->of_maps || to_htab(m)->devmap)
		return -EOPNOTSUPP;
	return htab_remove(to_htab(m), key, value, flags);
}

/* ---------------------------------------------------------- iteration -- */

static int htab_get_next_key(struct bpfvm_map *m, const void *key, void *next_key)
{
	struct htab *h = to_htab(m);
	uint32_t i = 0;

	if (key) {
		uint32_t hash = htab_hash(h, key);
		struct htab_bucket *b = htab_bucket(h, hash);
		struct htab_elem *e;

		map_spinlock_lock(&b->lock);
		e = htab_find_locked(h, b, hash, key, NULL);
		if (e) {
			uintptr_t v = atomic_load_explicit(&e->next, memory_order_relaxed);

			if (!is_nulls(v)) {
				map_words_load(next_key, htab_key((struct htab_elem *)v), m->key_size);
				map_spinlock_unlock(&b->lock);
				return 0;
			}
			i = (uint32_t)(b - h->buckets) + 1;
		}
		map_spinlock_unlock(&b->lock);
		/* a key not in the map restarts from the first one, as the kernel */
	}
	for (; i < h->n_buckets; i++) {
		struct htab_bucket *b = &h->buckets[i];
		uintptr_t v = atomic_load_explicit(&b->head, memory_order_relaxed);

		if (!v || is_nulls(v))
			continue;
		map_spinlock_lock(&b->lock);
		v = atomic_load_explicit(&b->head, memory_order_relaxed);
		if (v && !is_nulls(v)) {
			map_words_load(next_key, htab_key((struct htab_elem *)v), m->key_size);
			map_spinlock_unlock(&b->lock);
			return 0;
		}
		map_spinlock_unlock(&b->lock);
	}
	return -ENOENT;
}

/* BPF_MAP_LOOKUP_BATCH, the kernel's way: the token is a bucket index; whole
 * buckets are copied; a bucket that does not fit ends the batch (-ENOSPC if it
 * is the first); -ENOENT once every bucket was visited. */
static int htab_lookup_batch(struct bpfvm_map *m, const void *in_batch, void *out_batch,
			     void *keys, void *values, uint32_t *count, uint64_t elem_flags)
{
	struct htab *h = to_htab(m);
	uint32_t max_count = *count, total = 0, batch = 0;
	size_t vsz = bpfvm_map_user_value_size(m);
	int ret = 0;

	if (max_count == 0)
		return 0;
	if (in_batch)
		memcpy(&batch, in_batch, 4);
	if (batch >= h->n_buckets)
		return -ENOENT;
	for (;;) {
		struct htab_bucket *b = &h->buckets[batch];
		uint32_t cnt = 0;
		uintptr_t v = atomic_load_explicit(&b->head, memory_order_relaxed);

		if (v && !is_nulls(v)) {
			map_spinlock_lock(&b->lock);
			for (v = atomic_load_explicit(&b->head, memory_order_relaxed);
			     v && !is_nulls(v);
			     v = atomic_load_explicit(&((struct htab_elem *)v)->next,
						      memory_order_relaxed))
				cnt++;
			if (cnt > max_count - total) {
				map_spinlock_unlock(&b->lock);
				if (total == 0)
					ret = -ENOSPC;
				break;
			}
			for (v = atomic_load_explicit(&b->head, memory_order_relaxed);
			     v && !is_nulls(v);
			     v = atomic_load_explicit(&((struct htab_elem *)v)->next,
						      memory_order_relaxed)) {
				struct htab_elem *e = (struct htab_elem *)v;

				map_words_load((unsigned char *)keys + (size_t)total * m->key_size,
					       htab_key(e), m->key_size);
				htab_copy_out(h, e, (unsigned char *)values + (size_t)total * vsz,
					      elem_flags);
				total++;
			}
			map_spinlock_unlock(&b->lock);
		}
		if (++batch >= h->n_buckets) {
			ret = -ENOENT;
			break;
		}
	}
	memcpy(out_batch, &batch, 4);
	*count = total;
	return ret;
}

/* bpf_for_each_map_elem: lock-free walk (the callback may update or delete in
 * this map, so no bucket lock may be held). */
static long htab_for_each(struct bpfvm_map *m, map_for_each_cb cb, void *ctx, int cpu)
{
	struct htab *h = to_htab(m);
	long n = 0;

	if (h->percpu && (uint32_t)cpu >= m->nr_cpus)
		return -EINVAL;
	if (h->of_maps || h->devmap)
		return -EOPNOTSUPP;
	for (uint32_t i = 0; i < h->n_buckets; i++) {
		uintptr_t v = atomic_load_explicit(&h->buckets[i].head, memory_order_acquire);

		while (v && !is_nulls(v)) {
			struct htab_elem *e = (struct htab_elem *)v;

			n++;
			if (cb(m, htab_key(e), htab_val(h, e, (uint32_t)cpu), ctx))
				return n;
			v = atomic_load_explicit(&e->next, memory_order_acquire);
		}
	}
	return n;
}

static void htab_value_region(const struct bpfvm_map *m, void **base, size_t *size)
{
	const struct htab *h = to_htab(m);

	if (h->percpu) {
		*base = h->pcpu;
		*size = h->pcpu_sz;
	} else {
		*base = h->elems;
		*size = h->elems_sz;
	}
}

static int htab_check_access(const struct bpfvm_map *m, const void *p, size_t size)
{
	const struct htab *h = to_htab(m);
	uintptr_t a = (uintptr_t)p;

	if (h->of_maps)
		return -EFAULT;
	if (h->percpu) {
		uintptr_t off = a - (uintptr_t)h->pcpu;

		if (a < (uintptr_t)h->pcpu || off >= h->pcpu_sz)
			return -EFAULT;
		return off % m->pcpu_value_sz + size <= m->value_size ? 0 : -EFAULT;
	} else {
		uintptr_t off = a - (uintptr_t)h->elems, in;
		uint32_t vstart = (uint32_t)sizeof(struct htab_elem) + h->key_sz8;

		if (a < (uintptr_t)h->elems || off >= h->elems_sz)
			return -EFAULT;
		in = off % h->elem_sz;
		return in >= vstart && in - vstart + size <= m->value_size ? 0 : -EFAULT;
	}
}

const struct map_ops htab_map_ops = {
	.alloc = htab_alloc,
	.free = htab_free,
	.lookup = htab_lookup,
	.update = htab_update,
	.delete = htab_delete,
	.for_each = htab_for_each,
	.sys_lookup = htab_sys_lookup,
	.sys_update = htab_sys_update,
	.sys_delete = htab_sys_delete,
	.sys_lookup_and_delete = htab_sys_lookup_and_delete,
	.get_next_key = htab_get_next_key,
	.lookup_batch = htab_lookup_batch,
	.value_region = htab_value_region,
	.check_access = htab_check_access,
	.direct_fn = htab_direct_fn,
};
