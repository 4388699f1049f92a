/* map.h — the maps box's internal interface: the map object, the per-family
 * vtable, and the program-side API the helpers call.
 *
 * Two ways into a map:
 *   - program side (helpers, the interpreter, the JIT): map_lookup() returns a
 *     pointer into the map's own storage that stays valid memory for the map's
 *     life (element memory is recycled, never freed: see "Pointer lifetime"),
 *     update/delete/push/pop/peek take the running "CPU", results are the
 *     kernel helpers' (negative errno as a long);
 *   - userspace side: the public bpfvm_map_* functions in include/bpfvm/map.h,
 *     which copy in and out (all CPUs for per-CPU maps) with the bpf()
 *     syscall's permission checks and errno results.
 *
 * Pointer lifetime.  Like the kernel's preallocated hash maps, a deleted
 * element's memory goes back to a free list and may be reused at once for
 * another key: a program that keeps a looked-up pointer across a concurrent
 * delete reads or writes whatever element lives there next, never unmapped
 * memory.  Maps keep their storage until they are freed, and a map is freed
 * only when its last reference (user handle, fd, program, outer map) drops,
 * and then only once no program run that might have looked it up is still
 * going (a grace period, maps/rcu.h).
 *
 * Concurrency.  Hash lookups take no lock (lists with "nulls" end markers that
 * name their bucket, as the kernel's hlist_nulls, so a reader that strays into
 * another bucket through a recycled element notices and restarts); updates and
 * deletes take a per-bucket spinlock.  Arrays take no lock.  LPM trie lookups
 * take none either (a sequence count tells them to walk again when a writer,
 * who holds the trie's spinlock, changed the structure meanwhile).  Queues,
 * stacks, ring and perf buffers take a spinlock.
 */
#ifndef BPFVM_MAPS_MAP_H
#define BPFVM_MAPS_MAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bpfvm.h"
#include "bpfvm/map.h"
#include "maps/rcu.h"

/* For a hot path written once with constant parameters: inline it always, so
 * each caller gets its own specialised copy. */
#if defined(__GNUC__) || defined(__clang__)
#define MAP_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define MAP_ALWAYS_INLINE static inline
#endif

/* ------------------------------------------------------------------ locks -- */

/* A test-and-test-and-set spinlock that yields the CPU after a short spin:
 * our "CPUs" are threads and may be preempted while holding it. */
typedef struct {
	atomic_uint v;
} map_spinlock_t;

void map_spinlock_slow(map_spinlock_t *l);

static inline void map_spinlock_init(map_spinlock_t *l)
{
	atomic_init(&l->v, 0);
}

static inline void map_spinlock_lock(map_spinlock_t *l)
{
	if (atomic_exchange_explicit(&l->v, 1, memory_order_acquire) != 0)
		map_spinlock_slow(l);
}

static inline void map_spinlock_unlock(map_spinlock_t *l)
{
	atomic_store_explicit(&l->v, 0, memory_order_release);
}

/* bpf_spin_lock / bpf_spin_unlock on the 4-byte struct bpf_spin_lock inside a
 * map value (also what BPF_F_LOCK updates and lookups hold). */
void map_spin_lock(void *lockword);
void map_spin_unlock(void *lockword);

/* ------------------------------------------------------------- the object -- */

/* Creation attributes: the map_create part of the kernel's union bpf_attr. */
struct map_attr {
	uint32_t type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	uint32_t numa_node;
	uint64_t map_extra;
	int32_t spin_lock_off;		/* -1: no struct bpf_spin_lock in the value */
	struct bpfvm_map *inner_map;	/* map-in-map template */
	const char *name;		/* already validated and cut to 15 characters */
	uint32_t nr_cpus;		/* bpfvm_nr_cpus() at creation */
	char *log_buf;
	size_t log_size;
};

/* What a map-in-map remembers of its template (the kernel's inner_map_meta). */
struct map_meta {
	uint32_t type, key_size, value_size, max_entries, map_flags;
	int32_t spin_lock_off;
};

struct map_ops;

/* The map operations a program's helper calls reach (the JIT's direct calls,
 * below). */
enum map_call {
	MAP_CALL_LOOKUP,	/* void *fn(m, key, int cpu) */
	MAP_CALL_UPDATE,	/* long fn(m, key, value, uint64_t flags, int cpu) */
	MAP_CALL_DELETE,	/* long fn(m, key, int cpu) */
	MAP_CALL_PUSH,		/* long fn(m, value, uint64_t flags, int cpu) */
	MAP_CALL_POP,		/* long fn(m, value, int cpu) */
	MAP_CALL_PEEK,		/* long fn(m, value, int cpu) */
};

struct bpfvm_map {
	const struct map_ops *ops;
	uint32_t type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	uint64_t map_extra;
	int32_t spin_lock_off;		/* -1: none */
	uint32_t nr_cpus;		/* per-CPU maps have this many value slots */
	uint32_t pcpu_value_sz;		/* round_up(value_size, 8) */
	uint32_t id;
	int fd;
	atomic_int refcnt;
	atomic_bool frozen;
	struct map_meta *inner_meta;	/* ARRAY_OF_MAPS, HASH_OF_MAPS */
	char name[BPFVM_OBJ_NAME_LEN];
	struct rcu_head rcu;		/* the free after the last reference */
};

/* bpf_for_each_map_elem callback: 0 continues, 1 stops. */
typedef long (*map_for_each_cb)(struct bpfvm_map *m, const void *key, void *value,
				void *ctx);

/* One family's implementation.  NULL members: the operation does not exist for
 * the family (program side: NULL / -EOPNOTSUPP; userspace: see map.c). */
struct map_ops {
	/* Check `attr` like the kernel's map_alloc_check (log the reason with
	 * map_attr_err()) and allocate; call map_init() on the embedded map.
	 * Returns NULL with *err set on failure. */
	struct bpfvm_map *(*alloc)(const struct map_attr *attr, int *err);
	void (*free)(struct bpfvm_map *m);
	/* the user's handle goes away (bpfvm_map_free): drop entries that would
	 * otherwise keep reference cycles alive (PROG_ARRAY) */
	void (*release_user)(struct bpfvm_map *m);

	/* program side */
	void *(*lookup)(struct bpfvm_map *m, const void *key, int cpu);
	long (*update)(struct bpfvm_map *m, const void *key, const void *value,
		       uint64_t flags, int cpu);
	long (*delete)(struct bpfvm_map *m, const void *key, int cpu);
	long (*push)(struct bpfvm_map *m, const void *value, uint64_t flags, int cpu);
	long (*pop)(struct bpfvm_map *m, void *value, int cpu);
	long (*peek)(struct bpfvm_map *m, void *value, int cpu);
	long (*for_each)(struct bpfvm_map *m, map_for_each_cb cb, void *ctx, int cpu);

	/* userspace side; NULL sys_lookup/sys_update/sys_delete fall back to the
	 * program-side op on CPU 0 plus a copy (right for non-per-CPU maps) */
	int (*sys_lookup)(struct bpfvm_map *m, const void *key, void *value, uint64_t flags);
	int (*sys_update)(struct bpfvm_map *m, const void *key, const void *value,
			  uint64_t flags);
	int (*sys_delete)(struct bpfvm_map *m, const void *key);
	int (*sys_lookup_and_delete)(struct bpfvm_map *m, const void *key, void *value,
				     uint64_t flags);
	int (*get_next_key)(struct bpfvm_map *m, const void *key, void *next_key);
	int (*lookup_batch)(struct bpfvm_map *m, const void *in_batch, void *out_batch,
			    void *keys, void *values, uint32_t *count, uint64_t elem_flags);

	/* memory a program may touch: the whole value storage, and whether
	 * [p, p + size) lies inside one value (0) or not (-EFAULT) */
	void (*value_region)(const struct bpfvm_map *m, void **base, size_t *size);
	int (*check_access)(const struct bpfvm_map *m, const void *p, size_t size);

	/* optional: a program-side op specialised for this map's shape (key and
	 * value size, flavour), with the op's signature; 0 for the generic one */
	uintptr_t (*direct_fn)(const struct bpfvm_map *m, enum map_call call);
};

/* The map types table built from maps.def. */
struct map_type_info {
	const char *name;		/* NULL: no such type */
	const struct map_ops *ops;
};
const struct map_type_info *map_type_info(uint32_t type);
extern const struct map_ops map_ops_none;
extern const struct map_ops htab_map_ops, array_map_ops, fd_array_map_ops,
	perf_event_array_map_ops, lpm_trie_map_ops, devmap_map_ops, queue_stack_map_ops,
	ringbuf_map_ops, bloom_map_ops;

/* Fill the common fields of a freshly allocated map from `attr`. */
void map_init(struct bpfvm_map *m, const struct map_attr *attr);

/* Write "map 'NAME' (TYPE): <message>" into attr's log buffer; returns err. */
int map_attr_err(const struct map_attr *attr, int err, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* Create from attributes (what bpfvm_map_create does after parsing its
 * arguments); the map has refcount 1 (its fd).  NULL with *err on failure. */
struct bpfvm_map *map_create(const struct map_attr *attr, int *err);

/* References: programs and outer maps hold one while they use a map.  The
 * last map_put frees the map after a grace period (maps/rcu.h): a program
 * running on another thread may still hold it from a map-in-map lookup. */
void map_get(struct bpfvm_map *m);
void map_put(struct bpfvm_map *m);
/* The map registered under a bpfvm fd, with a new reference; NULL with *err
 * -EBADF (no such fd) or -EINVAL (not a map). */
struct bpfvm_map *map_get_by_fd(int fd, int *err);

static inline bool map_type_is_percpu(uint32_t type)
{
	return type == BPFVM_MAP_TYPE_PERCPU_HASH || type == BPFVM_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPFVM_MAP_TYPE_LRU_PERCPU_HASH;
}

/* ---------------------------------------------------- program-side helpers --
 * What the bpf_map_* helpers call.  `cpu` is the running CPU index
 * (0 <= cpu < bpfvm_nr_cpus()); per-CPU maps use that CPU's slot. */

/* bpf_map_lookup_elem: pointer to the value, NULL when absent.  ARRAY_OF_MAPS /
 * HASH_OF_MAPS: the inner struct bpfvm_map *, as the kernel's r0. */
static inline void *map_lookup(struct bpfvm_map *m, const void *key, int cpu)
{
	return m->ops->lookup ? m->ops->lookup(m, key, cpu) : NULL;
}

/* bpf_map_update_elem / bpf_map_delete_elem: 0 or a negative errno.  For per-CPU
 * maps an update writes this CPU's value (a new element gets zeroes on the
 * other CPUs), as the kernel's helpers do. */
long map_update(struct bpfvm_map *m, const void *key, const void *value, uint64_t flags,
		int cpu);
long map_delete(struct bpfvm_map *m, const void *key, int cpu);

/* bpf_map_push_elem / bpf_map_pop_elem / bpf_map_peek_elem (QUEUE, STACK;
 * BLOOM_FILTER push and peek). */
long map_push(struct bpfvm_map *m, const void *value, uint64_t flags, int cpu);
long map_pop(struct bpfvm_map *m, void *value, int cpu);
long map_peek(struct bpfvm_map *m, void *value, int cpu);

/* bpf_map_lookup_percpu_elem: the given CPU's slot of a per-CPU map; NULL for
 * other maps or cpu >= nr_cpus. */
void *map_lookup_percpu(struct bpfvm_map *m, const void *key, uint32_t cpu);

/* bpf_for_each_map_elem: calls cb on each element (key, this CPU's value) until
 * it returns non-zero; returns the number of calls, -EINVAL for flags != 0,
 * -EOPNOTSUPP for maps that cannot be iterated. */
long map_for_each(struct bpfvm_map *m, map_for_each_cb cb, void *ctx, uint64_t flags,
		  int cpu);

/* bpf_ringbuf_reserve: a sample of `size` bytes, or NULL when flags != 0, the
 * map is not a ring buffer or there is no room.  Submit or discard it exactly
 * once (the verifier guarantees it for verified programs). */
void *map_ringbuf_reserve(struct bpfvm_map *m, uint64_t size, uint64_t flags);
void map_ringbuf_submit(void *sample, uint64_t flags);
void map_ringbuf_discard(void *sample, uint64_t flags);
/* bpf_ringbuf_output: 0, -EINVAL (flags), -EAGAIN (no room). */
long map_ringbuf_output(struct bpfvm_map *m, const void *data, uint64_t size,
			uint64_t flags);
/* bpf_ringbuf_query: BPFVM_RB_AVAIL_DATA, _RING_SIZE, _CONS_POS, _PROD_POS; 0
 * for anything else. */
uint64_t map_ringbuf_query(struct bpfvm_map *m, uint64_t flags);

/* bpf_perf_event_output on a PERF_EVENT_ARRAY: one PERF_RECORD_SAMPLE whose raw
 * data is `data` followed by `ctx_data` (packet bytes for the skb/xdp variants;
 * may be NULL/0).  flags: index (or BPFVM_F_CURRENT_CPU) | BPFVM_F_CTXLEN_MASK
 * bits (ignored here: the helper passes ctx_data).  Returns 0, -EINVAL (flags),
 * -E2BIG (index >= max_entries or record too large), -ENOENT (no buffer at
 * index), -EOPNOTSUPP (the buffer belongs to another CPU), -ENOSPC (ring full:
 * the record is counted as lost). */
long map_perf_output(struct bpfvm_map *m, uint64_t flags, int cpu, const void *data,
		     uint64_t size, const void *ctx_data, uint64_t ctx_size);

/* Tail calls: the program object at `index` of a PROG_ARRAY, or NULL. */
void *map_get_prog(struct bpfvm_map *m, uint32_t index);
/* Bind a PROG_ARRAY to a program type (the first caller wins); -EINVAL when
 * it is bound to another one.  0 for other map types. */
int map_prog_array_bind(struct bpfvm_map *m, uint32_t prog_type);
/* Map-in-map: the inner map for `key`, or NULL. */
struct bpfvm_map *map_get_inner(struct bpfvm_map *m, const void *key);
/* CGROUP_ARRAY: the cgroup at `index`, or NULL (valid until the run ends). */
struct map_cgroup *map_get_cgroup(struct bpfvm_map *m, uint32_t index);
/* bpf_current_task_under_cgroup: 1 when the calling thread's cgroup (default
 * hierarchy) is cg or a descendant of it, else 0 (cgroup.c). */
int map_cgroup_task_under(const struct map_cgroup *cg);

/* The checked interpreter's view: the contiguous range holding every value of
 * the map (0), or -EOPNOTSUPP for maps without program-visible values. */
int map_value_region(const struct bpfvm_map *m, void **base, size_t *size);
/* Is [p, p + size) inside a single value of `m` (a ring buffer: inside its data
 * area)?  0 when it is, -EFAULT when not, -EACCES for a write to a map created
 * with BPFVM_F_RDONLY_PROG. */
int map_check_access(const struct bpfvm_map *m, const void *p, size_t size, int write);

/* The JIT's direct calls, as the kernel's fixup_bpf_calls: a verified
 * program's map helper call whose map is known at load time becomes a call of
 * this function with the helper's arguments r1..rN, then the running CPU (the
 * signatures in enum map_call); it returns what the helper would.  The
 * checks verification proved and the helper's dispatch are gone.  0 when the
 * map has no such operation (the helper is called). */
uintptr_t map_direct_fn(const struct bpfvm_map *m, enum map_call call);

/* -------------------------------------------------- for the map families -- */

static inline uint32_t map_round_up(uint32_t x, uint32_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* Zeroed, 64-byte aligned memory for map storage: the heap for small areas
 * (so sanitizers see them), anonymous mmap (lazily committed) for large ones.
 * NULL on failure. */
void *map_area_alloc(size_t size);
void map_area_free(void *p, size_t size);

/* Ring storage: ctl_sz private bytes, then `size` bytes mapped twice back to
 * back (so records that wrap are contiguous).  Both sizes are page multiples.
 * NULL with *err on failure. */
void *map_ring_area_alloc(size_t ctl_sz, size_t size, int *err);
void map_ring_area_free(void *base, size_t ctl_sz, size_t size);

/* Copy a value between map storage and a caller: value_size bytes, leaving the
 * destination's bpf_spin_lock word untouched. */
void map_copy_value(const struct bpfvm_map *m, void *dst, const void *src);
/* The same while holding the lock of the map-side value (`map_value`); to_user
 * says which side is the destination. */
void map_copy_value_locked(const struct bpfvm_map *m, void *map_value, void *user,
			   bool to_user);
/* Zero the lock word of a copy handed to userspace. */
void map_clear_lock(const struct bpfvm_map *m, void *value);

/* Memory lock-free readers share with writers.  Hash elements are recycled
 * at once (as the kernel's preallocated ones), so a reader may compare a key
 * or copy a value while a writer refills the element.  Both sides use these
 * relaxed atomic 8-byte accesses: the reader sees each word old or new, and
 * for C11 (and ThreadSanitizer) that is no data race.  `words` is 8-byte
 * aligned and round_up(n, 8) bytes long (stores zero the padding); the other
 * side is n bytes anywhere. */
static inline void map_words_store(void *words, const void *src, size_t n)
{
	const unsigned char *s = src;
	uint64_t *w = words, x;

	for (; n >= 8; n -= 8, s += 8, w++) {
		memcpy(&x, s, 8);
		__atomic_store_n(w, x, __ATOMIC_RELAXED);
	}
	if (n) {
		x = 0;
		memcpy(&x, s, n);
		__atomic_store_n(w, x, __ATOMIC_RELAXED);
	}
}

static inline void map_words_load(void *dst, const void *words, size_t n)
{
	const uint64_t *w = words;
	unsigned char *d = dst;
	uint64_t x;

	for (; n >= 8; n -= 8, d += 8, w++) {
		x = __atomic_load_n(w, __ATOMIC_RELAXED);
		memcpy(d, &x, 8);
	}
	if (n) {
		x = __atomic_load_n(w, __ATOMIC_RELAXED);
		memcpy(d, &x, n);
	}
}

static inline bool map_words_eq(const void *words, const void *src, size_t n)
{
	const unsigned char *s = src;
	const uint64_t *w = words;
	uint64_t x;

	for (; n >= 8; n -= 8, s += 8, w++) {
		memcpy(&x, s, 8);
		if (__atomic_load_n(w, __ATOMIC_RELAXED) != x)
			return false;
	}
	if (n) {
		x = 0;
		memcpy(&x, s, n);
		return __atomic_load_n(w, __ATOMIC_RELAXED) == x;
	}
	return true;
}

static inline void map_words_zero(void *words, size_t n)
{
	uint64_t *w = words;

	for (; n >= 8; n -= 8, w++)
		__atomic_store_n(w, 0, __ATOMIC_RELAXED);
}

/* Keyed hash used by hash maps and the bloom filter: 16-byte blocks (two
 * multiplied words) and 8-byte words folded with multiply-xorshift steps and
 * a murmur3 finalizer; inline, with the 4- and 8-byte keys maps usually have
 * done in a few instructions. */
static inline uint64_t map_hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static inline uint32_t map_hash(const void *key, uint32_t len, uint32_t seed)
{
	const unsigned char *p = key;
	uint64_t h = ((uint64_t)seed << 32 | seed) ^ ((uint64_t)len * 0x9e3779b97f4a7c15ull);
	uint64_t w;

	if (len == 4) {
		uint32_t x;

		memcpy(&x, p, 4);
		h = map_hash_mix(h ^ x);
	} else {
		/* 16 bytes per mixing step: the two words' multiplies run side by
		 * side (5-tuple and IPv6 keys are 12-40 bytes) */
		while (len >= 16) {
			uint64_t w2;

			memcpy(&w, p, 8);
			memcpy(&w2, p + 8, 8);
			w *= 0x9fb21c651e98df25ull;
			w2 *= 0xd6e8feb86659fd93ull;
			h = map_hash_mix(h ^ w ^ (w2 << 31 | w2 >> 33)) + 0x52dce729;
			p += 16;
			len -= 16;
		}
		if (len >= 8) {
			memcpy(&w, p, 8);
			h = map_hash_mix(h ^ w) + 0x52dce729;
			p += 8;
			len -= 8;
		}
		if (len) {
			w = 0;
			for (uint32_t i = 0; i < len; i++)
				w |= (uint64_t)p[i] << (8 * i);
			h = map_hash_mix(h ^ w);
		}
	}
	return (uint32_t)(h ^ (h >> 32));
}
/* A random seed, or 0 when the map asked for BPFVM_F_ZERO_SEED. */
uint32_t map_hash_seed(uint32_t map_flags);

/* Validation shared by the array-like families (the kernel's
 * array_map_alloc_check and bpf_map_flags_access_ok). */
bool map_flags_access_ok(uint32_t map_flags);
int array_map_alloc_check(const struct map_attr *attr);

/* Direct access to an ARRAY or PERCPU_ARRAY map's values (the JIT's inlined
 * lookup, the kernel's array_map_gen_lookup), stable for the map's lifetime:
 * the value of index i < *max is at *base + i * *stride; for PERCPU_ARRAY
 * (*nr_cpus != 0; 0 for ARRAY) CPU c < *nr_cpus's is at
 * *base + (c * *max + i) * *stride.  -EOPNOTSUPP for any other map. */
int map_array_direct(const struct bpfvm_map *m, void **base, uint32_t *stride, uint32_t *max,
		     uint32_t *nr_cpus);

/* Array-style iteration over u32 indexes 0..max_entries-1. */
int map_array_get_next_key(struct bpfvm_map *m, const void *key, void *next_key);
/* BPF_MAP_LOOKUP_BATCH built on get_next_key + userspace lookup (the kernel's
 * generic_map_lookup_batch). */
int map_generic_lookup_batch(struct bpfvm_map *m, const void *in_batch, void *out_batch,
			     void *keys, void *values, uint32_t *count,
			     uint64_t elem_flags);

/* Map-in-map templates (fd_array.c): record attr->inner_map's shape in
 * outer->inner_meta (the kernel's bpf_map_meta_alloc), and check that a map
 * may be stored in `outer` (map_meta_equal). */
int map_meta_alloc(struct bpfvm_map *outer, const struct map_attr *attr);
bool map_meta_equal(const struct bpfvm_map *outer, const struct bpfvm_map *inner);

/* How maps are referenced from the fd table and from map-in-map slots. */
struct fd_obj_ops;
extern const struct fd_obj_ops map_fd_ops;

/* CGROUP_ARRAY slots (cgroup.c): the cgroup2 directory open as OS fd `ufd`
 * (its own duplicate of the fd), released through map_cgroup_ops.put; NULL
 * with *err = -EBADF when ufd is no open cgroup2 directory. */
struct map_cgroup;
extern const struct fd_obj_ops map_cgroup_ops;
struct map_cgroup *map_cgroup_open(int ufd, int *err);

#endif
