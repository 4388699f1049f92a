/* bpfvm/map.h — eBPF maps, ring buffers and perf buffers, seen from the host.
 *
 * Maps have the Linux kernel's types, flags, limits and errno results: what
 * bpf(BPF_MAP_CREATE / _LOOKUP_ELEM / _UPDATE_ELEM / ...) would return for the same
 * arguments, this API returns as a negative errno.  The constants below carry
 * the kernel's numeric values under a BPFVM_ prefix, so code that includes
 * <linux/bpf.h> may pass BPF_MAP_TYPE_HASH, BPF_NOEXIST, ... unchanged.
 *
 * Every map is also registered under a small integer "fd" (bpfvm_map_fd()): a
 * bpfvm-wide number, not an operating-system file descriptor.  Programs refer to
 * maps by it (lddw with BPF_PSEUDO_MAP_FD) and map-in-map / prog-array updates
 * take it as their value, as the kernel's do.  Lookups in those maps return the
 * object's id (bpfvm_map_id()), again like the kernel.  BPFVM_MAP_TYPE_CGROUP_ARRAY
 * is the exception: its value is an operating-system fd of an open cgroup2
 * directory (anything else is -EBADF); the map keeps its own duplicate of the
 * fd, so the caller may close theirs; lookups are -EOPNOTSUPP (the kernel's
 * ENOTSUPP) and deletes clear the slot.  Programs read it only through
 * bpf_skb_under_cgroup and bpf_current_task_under_cgroup.
 *
 * Values as userspace sees them: a lookup copies value_size bytes out, except
 * for per-CPU maps, where it copies nr_cpus values each rounded up to 8 bytes
 * (bpfvm_map_user_value_size() tells the size), and for PROG_ARRAY, *_OF_MAPS
 * (a u32 id).  A struct bpf_spin_lock inside a value is never copied: it reads
 * as zero and updates leave it alone.
 *
 * Thread safety: every function may be called from any thread while programs
 * run on other threads.  Like the kernel's RCU, a map (or a program in a
 * PROG_ARRAY) whose last reference goes is freed only once no program run that
 * might still use it is going: the call that drops the reference waits for
 * runs already in progress on other threads (never for the caller's own: from
 * inside a run, e.g. a helper, the free happens when the run ends).
 *
 * This header compiles on its own after <stddef.h> and <stdint.h>; bpfvm.h
 * includes it.
 */
#ifndef BPFVM_MAP_H
#define BPFVM_MAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef BPFVM_API
#if defined(__GNUC__) || defined(__clang__)
#define BPFVM_API __attribute__((visibility("default")))
#else
#define BPFVM_API
#endif
#endif

/* Longest map name, with its NUL (the kernel's BPF_OBJ_NAME_LEN). */
#define BPFVM_OBJ_NAME_LEN 16

/* Map types: the kernel's enum bpf_map_type.  Types bpfvm does not implement
 * are listed so that names and numbers print right; creating them fails with
 * -EOPNOTSUPP. */
enum bpfvm_map_type {
	BPFVM_MAP_TYPE_UNSPEC = 0,
	BPFVM_MAP_TYPE_HASH = 1,
	BPFVM_MAP_TYPE_ARRAY = 2,
	BPFVM_MAP_TYPE_PROG_ARRAY = 3,
	BPFVM_MAP_TYPE_PERF_EVENT_ARRAY = 4,
	BPFVM_MAP_TYPE_PERCPU_HASH = 5,
	BPFVM_MAP_TYPE_PERCPU_ARRAY = 6,
	BPFVM_MAP_TYPE_STACK_TRACE = 7,
	BPFVM_MAP_TYPE_CGROUP_ARRAY = 8,
	BPFVM_MAP_TYPE_LRU_HASH = 9,
	BPFVM_MAP_TYPE_LRU_PERCPU_HASH = 10,
	BPFVM_MAP_TYPE_LPM_TRIE = 11,
	BPFVM_MAP_TYPE_ARRAY_OF_MAPS = 12,
	BPFVM_MAP_TYPE_HASH_OF_MAPS = 13,
	BPFVM_MAP_TYPE_DEVMAP = 14,
	BPFVM_MAP_TYPE_SOCKMAP = 15,
	BPFVM_MAP_TYPE_CPUMAP = 16,
	BPFVM_MAP_TYPE_XSKMAP = 17,
	BPFVM_MAP_TYPE_SOCKHASH = 18,
	BPFVM_MAP_TYPE_CGROUP_STORAGE = 19,
	BPFVM_MAP_TYPE_REUSEPORT_SOCKARRAY = 20,
	BPFVM_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21,
	BPFVM_MAP_TYPE_QUEUE = 22,
	BPFVM_MAP_TYPE_STACK = 23,
	BPFVM_MAP_TYPE_SK_STORAGE = 24,
	BPFVM_MAP_TYPE_DEVMAP_HASH = 25,
	BPFVM_MAP_TYPE_STRUCT_OPS = 26,
	BPFVM_MAP_TYPE_RINGBUF = 27,
	BPFVM_MAP_TYPE_INODE_STORAGE = 28,
	BPFVM_MAP_TYPE_TASK_STORAGE = 29,
	BPFVM_MAP_TYPE_BLOOM_FILTER = 30,
	BPFVM_MAP_TYPE_USER_RINGBUF = 31,
	BPFVM_MAP_TYPE_CGRP_STORAGE = 32,
	BPFVM_MAP_TYPE_ARENA = 33,
};

/* map_flags at creation (the kernel's BPF_F_* map flags). */
enum bpfvm_map_flags {
	BPFVM_F_NO_PREALLOC = 1u << 0,
	BPFVM_F_NO_COMMON_LRU = 1u << 1,
	BPFVM_F_NUMA_NODE = 1u << 2,
	BPFVM_F_RDONLY = 1u << 3,	/* userspace may not update or delete */
	BPFVM_F_WRONLY = 1u << 4,	/* userspace may not look up */
	BPFVM_F_STACK_BUILD_ID = 1u << 5,
	BPFVM_F_ZERO_SEED = 1u << 6,	/* hash with seed 0: reproducible order */
	BPFVM_F_RDONLY_PROG = 1u << 7,	/* programs may not write */
	BPFVM_F_WRONLY_PROG = 1u << 8,	/* programs may not read */
	BPFVM_F_CLONE = 1u << 9,
	BPFVM_F_MMAPABLE = 1u << 10,	/* ARRAY: bpfvm_map_mmap() gives the values */
	BPFVM_F_PRESERVE_ELEMS = 1u << 11,
	BPFVM_F_INNER_MAP = 1u << 12,	/* ARRAY as inner map: max_entries may differ */
};

/* Element update flags (and BPFVM_F_LOCK for lookups). */
enum bpfvm_map_update_flags {
	BPFVM_ANY = 0,		/* create or update */
	BPFVM_NOEXIST = 1,	/* create only: -EEXIST when present */
	BPFVM_EXIST = 2,	/* update only: -ENOENT when absent */
	BPFVM_F_LOCK = 4,	/* copy under the value's bpf_spin_lock */
};

/* Ring buffer: bpf_ringbuf_submit/discard/output flags, bpf_ringbuf_query
 * selectors and the record header layout shared with consumers. */
enum bpfvm_ringbuf_flags {
	BPFVM_RB_NO_WAKEUP = 1,
	BPFVM_RB_FORCE_WAKEUP = 2,
};
enum bpfvm_ringbuf_query {
	BPFVM_RB_AVAIL_DATA = 0,
	BPFVM_RB_RING_SIZE = 1,
	BPFVM_RB_CONS_POS = 2,
	BPFVM_RB_PROD_POS = 3,
};
#define BPFVM_RINGBUF_BUSY_BIT (1u << 31)
#define BPFVM_RINGBUF_DISCARD_BIT (1u << 30)
#define BPFVM_RINGBUF_HDR_SZ 8

/* bpf_perf_event_output flags. */
#define BPFVM_F_INDEX_MASK 0xffffffffull
#define BPFVM_F_CURRENT_CPU BPFVM_F_INDEX_MASK
#define BPFVM_F_CTXLEN_MASK (0xfffffull << 32)

struct bpfvm_map;

struct bpfvm_map_create_opts {
	size_t sz;
	uint32_t map_flags;		/* enum bpfvm_map_flags */
	uint32_t numa_node;		/* with BPFVM_F_NUMA_NODE; only node 0 exists */
	uint64_t map_extra;		/* BLOOM_FILTER: number of hash functions (0 = 5) */
	/* ARRAY_OF_MAPS, HASH_OF_MAPS: a map whose type, sizes and flags every
	 * inner map must share (the kernel's inner_map_fd).  Not kept. */
	struct bpfvm_map *inner_map;
	/* A struct bpf_spin_lock in the value (found in BTF by the loader):
	 * set has_spin_lock and its offset.  Only HASH and ARRAY allow one. */
	uint32_t has_spin_lock;
	uint32_t spin_lock_off;
	/* why creation failed, NUL-terminated; names the map and the problem */
	char *log_buf;
	size_t log_size;
};

/* Create a map.  `name` may be NULL or "" (then unnamed); it may hold letters,
 * digits, '_' and '.', and is cut to BPFVM_OBJ_NAME_LEN - 1 characters as
 * libbpf does.  Returns the map, or NULL with errno set: EINVAL for sizes,
 * flags or a name the kernel would refuse, E2BIG for values too large,
 * EOPNOTSUPP for a type bpfvm lacks (or a kernel-only combination), ENOMEM. */
BPFVM_API struct bpfvm_map *bpfvm_map_create(uint32_t type, const char *name,
					     uint32_t key_size, uint32_t value_size,
					     uint32_t max_entries,
					     const struct bpfvm_map_create_opts *opts);

/* Drop the caller's handle: the map's fd is closed and the map is freed once
 * no program, map-in-map or other holder references it and no program run
 * that may have looked it up is still going (see "Thread safety").  PROG_ARRAY (and
 * PERF_EVENT_ARRAY without BPFVM_F_PRESERVE_ELEMS) entries are cleared now,
 * as the kernel does when the last user handle goes.  NULL is a no-op. */
BPFVM_API void bpfvm_map_free(struct bpfvm_map *map);

BPFVM_API uint32_t bpfvm_map_type(const struct bpfvm_map *map);
BPFVM_API const char *bpfvm_map_name(const struct bpfvm_map *map);
BPFVM_API uint32_t bpfvm_map_key_size(const struct bpfvm_map *map);
BPFVM_API uint32_t bpfvm_map_value_size(const struct bpfvm_map *map);
BPFVM_API uint32_t bpfvm_map_max_entries(const struct bpfvm_map *map);
BPFVM_API uint32_t bpfvm_map_flags(const struct bpfvm_map *map);
BPFVM_API uint64_t bpfvm_map_extra(const struct bpfvm_map *map);
/* The map's bpfvm fd (see above) and its id (unique for the process's life). */
BPFVM_API int bpfvm_map_fd(const struct bpfvm_map *map);
BPFVM_API uint32_t bpfvm_map_id(const struct bpfvm_map *map);
/* Bytes bpfvm_map_lookup_elem() writes and bpfvm_map_update_elem() reads. */
BPFVM_API size_t bpfvm_map_user_value_size(const struct bpfvm_map *map);
/* Offset of the value's bpf_spin_lock, or -1. */
BPFVM_API int bpfvm_map_spin_lock_off(const struct bpfvm_map *map);
/* The map registered under a bpfvm fd (not a new reference), or NULL with
 * errno EBADF. */
BPFVM_API struct bpfvm_map *bpfvm_map_from_fd(int fd);

/* "hash", "percpu_array", ... for a type number; NULL when unknown. */
BPFVM_API const char *bpfvm_map_type_name(uint32_t type);
/* The type number for a name from bpfvm_map_type_name(), or -EINVAL. */
BPFVM_API int bpfvm_map_type_from_name(const char *name);

/* Element operations; results as the bpf() syscall's. */

/* Copy the value for `key` into `value`.  QUEUE/STACK/BLOOM_FILTER: peek
 * (key is ignored; for BLOOM_FILTER `value` is the value to test).  -ENOENT
 * when absent, -EPERM on a BPFVM_F_WRONLY map. */
BPFVM_API int bpfvm_map_lookup_elem(struct bpfvm_map *map, const void *key, void *value);
/* The same with flags: 0 or BPFVM_F_LOCK. */
BPFVM_API int bpfvm_map_lookup_elem_flags(struct bpfvm_map *map, const void *key,
					  void *value, uint64_t flags);
/* Create or replace.  flags: BPFVM_ANY/NOEXIST/EXIST, optionally | BPFVM_F_LOCK.
 * QUEUE/STACK/BLOOM_FILTER: push (key ignored).  PROG_ARRAY, *_OF_MAPS,
 * PERF_EVENT_ARRAY: the value is a u32 bpfvm fd. */
BPFVM_API int bpfvm_map_update_elem(struct bpfvm_map *map, const void *key,
				    const void *value, uint64_t flags);
BPFVM_API int bpfvm_map_delete_elem(struct bpfvm_map *map, const void *key);
/* The key after `key` in the map's iteration order; key NULL (or a key not in
 * the map) gives the first key; -ENOENT after the last one. */
BPFVM_API int bpfvm_map_get_next_key(struct bpfvm_map *map, const void *key, void *next_key);
/* Copy out and remove.  QUEUE/STACK: pop (key NULL); hash maps: by key. */
BPFVM_API int bpfvm_map_lookup_and_delete_elem(struct bpfvm_map *map, const void *key,
					       void *value);
BPFVM_API int bpfvm_map_lookup_and_delete_elem_flags(struct bpfvm_map *map, const void *key,
						     void *value, uint64_t flags);

struct bpfvm_map_batch_opts {
	size_t sz;
	uint64_t elem_flags;		/* 0 or BPFVM_F_LOCK */
	uint64_t flags;			/* must be 0 */
};

/* BPF_MAP_LOOKUP_BATCH: copy up to *count elements into keys[] and values[]
 * (packed: key_size and bpfvm_map_user_value_size() bytes apart), starting at
 * the position `in_batch` names (NULL: from the start), and store the next
 * position in `out_batch`.  Positions are opaque tokens, as the kernel's: 4
 * bytes (a bucket) for hash maps, a key (key_size bytes: the last key
 * returned) for arrays and LPM tries; max(4, key_size) bytes always fit.  On return
 * *count holds the number copied.  Returns 0 when more may follow, -ENOENT when
 * the end was reached (elements may still have been copied), -ENOSPC when
 * *count is too small for one hash bucket, -EINVAL, -EOPNOTSUPP. */
BPFVM_API int bpfvm_map_lookup_batch(struct bpfvm_map *map, void *in_batch, void *out_batch,
				     void *keys, void *values, uint32_t *count,
				     const struct bpfvm_map_batch_opts *opts);

/* BPF_MAP_FREEZE: from now on userspace may not change the map (updates and
 * deletes return -EPERM); programs still may unless BPFVM_F_RDONLY_PROG.
 * -EPERM when already frozen (it has no write permission left), as the kernel. */
BPFVM_API int bpfvm_map_freeze(struct bpfvm_map *map);

/* An ARRAY created with BPFVM_F_MMAPABLE: its values, max_entries slots
 * round_up(value_size, 8) bytes apart, shared with programs (global data).
 * Returns NULL with errno EINVAL for other maps.  *size gets the byte size. */
BPFVM_API void *bpfvm_map_mmap(struct bpfvm_map *map, size_t *size);

/* ------------------------------------------------------------ ring buffer --
 * A consumer of one BPF_MAP_TYPE_RINGBUF map (libbpf's ring_buffer).  The
 * callback gets each submitted record in order (discarded ones are skipped);
 * returning a negative value stops consumption and is returned. */
typedef int (*bpfvm_ringbuf_sample_fn)(void *ctx, void *data, size_t size);
struct bpfvm_ringbuf_consumer;

/* NULL with errno EINVAL (not a ring buffer) or EBUSY (already has one). */
BPFVM_API struct bpfvm_ringbuf_consumer *
bpfvm_ringbuf_consumer_new(struct bpfvm_map *map, bpfvm_ringbuf_sample_fn cb, void *ctx);
/* Wait up to timeout_ms (-1: forever, 0: not at all) for data, then consume.
 * Returns the number of records handled (0 on timeout) or a negative errno. */
BPFVM_API int bpfvm_ringbuf_consumer_poll(struct bpfvm_ringbuf_consumer *c, int timeout_ms);
/* Handle every complete record now, without waiting; returns the count. */
BPFVM_API int bpfvm_ringbuf_consumer_consume(struct bpfvm_ringbuf_consumer *c);
/* An eventfd that polls readable (EPOLLIN) when producers signal new data;
 * after it fires call _consume() (which also resets it). */
BPFVM_API int bpfvm_ringbuf_consumer_fd(const struct bpfvm_ringbuf_consumer *c);
BPFVM_API void bpfvm_ringbuf_consumer_free(struct bpfvm_ringbuf_consumer *c);

/* ------------------------------------------------------------ perf buffer --
 * libbpf's perf_buffer for a BPF_MAP_TYPE_PERF_EVENT_ARRAY map: one ring of
 * page_cnt pages (a power of two) per CPU, installed in the map at index cpu
 * for cpu < min(nr_cpus, max_entries).  sample_cb gets each record's raw data
 * (size rounded as the kernel's PERF_SAMPLE_RAW: 4 + size is a multiple of 8);
 * lost_cb (may be NULL) how many records a full ring dropped. */
typedef void (*bpfvm_perf_sample_fn)(void *ctx, int cpu, void *data, uint32_t size);
typedef void (*bpfvm_perf_lost_fn)(void *ctx, int cpu, uint64_t cnt);
struct bpfvm_perf_buffer;

struct bpfvm_perf_buffer_opts {
	size_t sz;
};

BPFVM_API struct bpfvm_perf_buffer *
bpfvm_perf_buffer_new(struct bpfvm_map *map, size_t page_cnt,
		      bpfvm_perf_sample_fn sample_cb, bpfvm_perf_lost_fn lost_cb,
		      void *ctx, const struct bpfvm_perf_buffer_opts *opts);
BPFVM_API int bpfvm_perf_buffer_poll(struct bpfvm_perf_buffer *pb, int timeout_ms);
BPFVM_API int bpfvm_perf_buffer_consume(struct bpfvm_perf_buffer *pb);
BPFVM_API int bpfvm_perf_buffer_fd(const struct bpfvm_perf_buffer *pb);
BPFVM_API void bpfvm_perf_buffer_free(struct bpfvm_perf_buffer *pb);

#ifdef __cplusplus
}
#endif

#endif
