/* queue_stack.c — BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO).
 *
 * No keys (key_size 0): values are pushed, popped and peeked.  A ring of
 * max_entries + 1 slots under one spinlock, as kernel/bpf/queue_stack_maps.c:
 * push on a full map fails with -E2BIG unless BPF_EXIST is given, which drops
 * the oldest value (for both queue and stack) to make room; pop and peek on an
 * empty map zero the destination and return -ENOENT.  Userspace sees lookup as
 * peek, update as push, lookup_and_delete as pop.
 */
#include "maps/map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_STACK_CREATE_FLAG_MASK                                                 \
	(BPFVM_F_NUMA_NODE | BPFVM_F_RDONLY | BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY | \
	 BPFVM_F_WRONLY_PROG)

struct queue_stack {
	struct bpfvm_map map;
	map_spinlock_t lock;
	uint32_t head, tail, size;	/* empty: head == tail; size = max_entries + 1 */
	bool stack;
	unsigned char *elems;
	size_t elems_sz;
};

static inline struct queue_stack *to_qs(const struct bpfvm_map *m)
{
	return (struct queue_stack *)m;
}

static struct bpfvm_map *qs_alloc(const struct map_attr *attr, int *err)
{
	struct queue_stack *qs;

	if (attr->max_entries == 0)
		*err = map_attr_err(attr, -EINVAL, "max_entries must not be 0");
	else if (attr->key_size != 0)
		*err = map_attr_err(attr, -EINVAL, "key_size %u is invalid: must be 0 (no keys)",
				    attr->key_size);
	else if (attr->value_size == 0)
		*err = map_attr_err(attr, -EINVAL, "value_size must not be 0");
	else if (attr->map_flags & ~QUEUE_STACK_CREATE_FLAG_MASK)
		*err = map_attr_err(attr, -EINVAL, "map_flags 0x%x has flags %ss do not take",
				    attr->map_flags & ~QUEUE_STACK_CREATE_FLAG_MASK,
				    attr->type == BPFVM_MAP_TYPE_STACK ? "stack" : "queue");
	else if (!map_flags_access_ok(attr->map_flags))
		*err = map_attr_err(attr, -EINVAL,
				    "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other");
	else if (attr->value_size > (1u << 22))
		*err = map_attr_err(attr, -E2BIG, "value_size %u is too large", attr->value_size);
	else
		*err = 0;
	if (*err)
		return NULL;
	if ((uint64_t)(attr->max_entries + 1ull) * attr->value_size > (1ull << 40)) {
		*err = map_attr_err(attr, -ENOMEM, "%u values of %u bytes is more than bpfvm allows",
				    attr->max_entries, attr->value_size);
		return NULL;
	}
	qs = calloc(1, sizeof(*qs));
	if (!qs) {
		*err = -ENOMEM;
		return NULL;
	}
	map_init(&qs->map, attr);
	map_spinlock_init(&qs->lock);
	qs->size = attr->max_entries + 1;	/* may wrap to 0 for 2^32-1: refused below */
	qs->stack = attr->type == BPFVM_MAP_TYPE_STACK;
	qs->elems_sz = ((size_t)attr->max_entries + 1) * attr->value_size;
	qs->elems = qs->size ? map_area_alloc(qs->elems_sz) : NULL;
	if (!qs->elems) {
		*err = map_attr_err(attr, -ENOMEM, "cannot allocate %zu bytes", qs->elems_sz);
		free(qs);
		return NULL;
	}
	return &qs->map;
}

static void qs_free(struct bpfvm_map *m)
{
	map_area_free(to_qs(m)->elems, to_qs(m)->elems_sz);
	free(m);
}

static long qs_get(struct bpfvm_map *m, void *value, bool delete)
{
	struct queue_stack *qs = to_qs(m);
	uint32_t index;

	map_spinlock_lock(&qs->lock);
	if (qs->head == qs->tail) {
		map_spinlock_unlock(&qs->lock);
		memset(value, 0, m->value_size);
		return -ENOENT;
	}
	if (qs->stack) {
		index = qs->head ? qs->head - 1 : qs->size - 1;
		if (delete)
			qs->head = index;
	} else {
		index = qs->tail;
		if (delete)
			qs->tail = qs->tail + 1 == qs->size ? 0 : qs->tail + 1;
	}
	memcpy(value, qs->elems + (size_t)index * m->value_size, m->value_size);
	map_spinlock_unlock(&qs->lock);
	return 0;
}

static long qs_pop(struct bpfvm_map *m, void *value, int cpu)
{
	(void)cpu;
	return qs_get(m, value, true);
}

static long qs_peek(struct bpfvm_map *m, void *value, int cpu)
{
	(void)cpu;
	return qs_get(m, value, false);
}

static long qs_push(struct bpfvm_map *m, const void *value, uint64_t flags, int cpu)
{
	struct queue_stack *qs = to_qs(m);
	uint32_t next;

	(void)cpu;
	if ((flags & BPFVM_NOEXIST) || flags > BPFVM_EXIST)
		return -EINVAL;
	map_spinlock_lock(&qs->lock);
	next = qs->head + 1 == qs->size ? 0 : qs->head + 1;
	if (next == qs->tail) {
		if (!(flags & BPFVM_EXIST)) {
			map_spinlock_unlock(&qs->lock);
			return -E2BIG;
		}
		/* BPF_EXIST: make room by dropping the oldest value */
		qs->tail = qs->tail + 1 == qs->size ? 0 : qs->tail + 1;
	}
	memcpy(qs->elems + (size_t)qs->head * m->value_size, value, m->value_size);
	qs->head = next;
	map_spinlock_unlock(&qs->lock);
	return 0;
}

static int qs_sys_lookup(struct bpfvm_map *m, const void *key, void *value, uint64_t flags)
{
	(void)key, (void)flags;
	return (int)qs_get(m, value, false);
}

static int qs_sys_update(struct bpfvm_map *m, const void *key, const void *value,
			 uint64_t flags)
{
	(void)key;
	return (int)qs_push(m, value, flags, 0);
}

static int qs_sys_delete(struct bpfvm_map *m, const void *key)
{
	(void)m, (void)key;
	return -EINVAL;
}

static int qs_get_next_key(struct bpfvm_map *m, const void *key, void *next_key)
{
	(void)m, (void)key, (void)next_key;
	return -EINVAL;
}

const struct map_ops queue_stack_map_ops = {
	.alloc = qs_alloc,
	.free = qs_free,
	.push = qs_push,
	.pop = qs_pop,
	.peek = qs_peek,
	.sys_lookup = qs_sys_lookup,
	.sys_update = qs_sys_update,
	.sys_delete = qs_sys_delete,
	.get_next_key = qs_get_next_key,
};
