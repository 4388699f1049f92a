/* fd_array.c — arrays of objects: BPF_MAP_TYPE_PROG_ARRAY (tail call targets),
 * BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_CGROUP_ARRAY (cgroup2
 * directories, cgroup.c), plus the map-in-map template shared with
 * HASH_OF_MAPS (hash.c).
 *
 * Userspace stores an object by writing its bpfvm fd (a u32 value); the slot
 * then holds a reference on the object, taken through the fd table, and reads
 * back as the object's id, as in kernel/bpf/arraymap.c.  A CGROUP_ARRAY takes
 * an operating-system fd instead and cannot be read back (-EOPNOTSUPP: the
 * kernel's ENOTSUPP).  Programs read slots
 * lock-free (map_get_prog for tail calls, map_lookup / map_get_inner for inner
 * maps); updates are userspace-only and serialized by a mutex.  A replaced
 * object's reference is dropped once no program run can still be using it,
 * as the kernel's RCU: a program's after a grace period (rcu_defer_put: a run
 * on another thread may be inside it through a tail call), a map's at once
 * (map_put waits for the grace period before freeing).  When the array itself
 * is freed, a grace period has passed already (map_put), so its slots' are
 * dropped at once.
 *
 * When the user's handle of a PROG_ARRAY goes (bpfvm_map_free), its entries are
 * cleared, as the kernel does when the last user fd closes: programs that
 * tail-call through the array hold references to it, and the array to them.
 */
#include "maps/map.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exec/vm.h"
#include "maps/fdtable.h"

struct fd_slot {
	atomic_uintptr_t obj;
	const struct fd_obj_ops *ops;	/* how to release obj; under `lock` */
};

struct fd_array {
	struct bpfvm_map map;
	enum fd_kind kind;		/* FD_KIND_NONE: cgroups */
	pthread_mutex_t lock;
	struct fd_slot *slots;
	/* PROG_ARRAY: the program type it is bound to (under lock), as the
	 * kernel's map owner: set by the first program that references the
	 * map or is stored into it; others are refused (bpf_prog_map_compatible) */
	bool owned;
	uint32_t owner_type;
};

static inline struct fd_array *to_fd_array(const struct bpfvm_map *m)
{
	return (struct fd_array *)m;
}

int map_meta_alloc(struct bpfvm_map *outer, const struct map_attr *attr)
{
	const struct bpfvm_map *inner = attr->inner_map;
	struct map_meta *meta;

	if (!inner)
		return map_attr_err(attr, -EINVAL, "an inner map template is required");
	if (inner->inner_meta)
		return map_attr_err(attr, -EINVAL,
				    "inner map '%s' is itself a map of maps: only one level is allowed",
				    inner->name);
	meta = calloc(1, sizeof(*meta));
	if (!meta)
		return -ENOMEM;
	*meta = (struct map_meta){
		.type = inner->type,
		.key_size = inner->key_size,
		.value_size = inner->value_size,
		.max_entries = inner->max_entries,
		.map_flags = inner->map_flags,
		.spin_lock_off = inner->spin_lock_off,
	};
	outer->inner_meta = meta;
	return 0;
}

bool map_meta_equal(const struct bpfvm_map *outer, const struct bpfvm_map *inner)
{
	const struct map_meta *meta = outer->inner_meta;

	if (!meta || inner->inner_meta)
		return false;
	if (meta->type != inner->type || meta->key_size != inner->key_size ||
	    meta->value_size != inner->value_size || meta->map_flags != inner->map_flags ||
	    meta->spin_lock_off != inner->spin_lock_off)
		return false;
	/* arrays marked BPF_F_INNER_MAP may differ in size (array_map_meta_equal) */
	if (meta->type == BPFVM_MAP_TYPE_ARRAY && (meta->map_flags & BPFVM_F_INNER_MAP))
		return true;
	return meta->max_entries == inner->max_entries;
}

static void fd_array_free(struct bpfvm_map *m);

static struct bpfvm_map *fd_array_alloc(const struct map_attr *attr, int *err)
{
	struct fd_array *a;

	if (attr->value_size != 4) {
		*err = map_attr_err(attr, -EINVAL, "value_size %u is invalid: must be 4 (an fd)",
				    attr->value_size);
		return NULL;
	}
	if (attr->map_flags & (BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY_PROG)) {
		*err = map_attr_err(attr, -EINVAL,
				    "programs cannot access this map's values: no BPF_F_*_PROG flags");
		return NULL;
	}
	*err = array_map_alloc_check(attr);
	if (*err)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a) {
		*err = -ENOMEM;
		return NULL;
	}
	map_init(&a->map, attr);
	a->map.ops = &fd_array_map_ops;
	a->kind = attr->type == BPFVM_MAP_TYPE_PROG_ARRAY   ? FD_KIND_PROG
		  : attr->type == BPFVM_MAP_TYPE_CGROUP_ARRAY ? FD_KIND_NONE
							      : FD_KIND_MAP;
	pthread_mutex_init(&a->lock, NULL);
	a->slots = map_area_alloc((size_t)attr->max_entries * sizeof(struct fd_slot));
	if (!a->slots) {
		fd_array_free(&a->map);
		*err = map_attr_err(attr, -ENOMEM, "cannot allocate %u slots", attr->max_entries);
		return NULL;
	}
	if (attr->type == BPFVM_MAP_TYPE_ARRAY_OF_MAPS) {
		*err = map_meta_alloc(&a->map, attr);
		if (*err) {
			fd_array_free(&a->map);
			return NULL;
		}
	}
	return &a->map;
}

/* Swap slot `index` to `obj` (may be NULL); returns the old object and its ops
 * for the caller to release outside the lock. */
static void *fd_array_xchg(struct fd_array *a, uint32_t index, void *obj,
			   const struct fd_obj_ops *ops, const struct fd_obj_ops **old_ops)
{
	struct fd_slot *s = &a->slots[index];
	void *old;

	pthread_mutex_lock(&a->lock);
	old = (void *)atomic_exchange_explicit(&s->obj, (uintptr_t)obj, memory_order_acq_rel);
	*old_ops = s->ops;
	s->ops = obj ? ops : NULL;
	pthread_mutex_unlock(&a->lock);
	return old;
}

/* Drop the reference a slot held on `old`, which programs may still be
 * using: see the top of the file. */
static void fd_array_put_old(struct fd_array *a, void *old, const struct fd_obj_ops *ops)
{
	if (a->kind == FD_KIND_MAP)
		ops->put(old);
	else
		rcu_defer_put(old, ops->put);
}

/* Empty every slot; `now`: no program can reach the array any more. */
static void fd_array_clear(struct bpfvm_map *m, bool now)
{
	struct fd_array *a = to_fd_array(m);

	for (uint32_t i = 0; i < m->max_entries; i++) {
		const struct fd_obj_ops *ops;
		void *old;

		if (!atomic_load_explicit(&a->slots[i].obj, memory_order_relaxed))
			continue;
		old = fd_array_xchg(a, i, NULL, NULL, &ops);
		if (old && now)
			ops->put(old);
		else if (old)
			fd_array_put_old(a, old, ops);
	}
}

static void fd_array_free(struct bpfvm_map *m)
{
	struct fd_array *a = to_fd_array(m);

	if (a->slots) {
		fd_array_clear(m, true);
		map_area_free(a->slots, (size_t)m->max_entries * sizeof(struct fd_slot));
	}
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static void fd_array_release_user(struct bpfvm_map *m)
{
	if (m->type == BPFVM_MAP_TYPE_PROG_ARRAY)
		fd_array_clear(m, false);
}

static void *fd_array_slot_obj(struct bpfvm_map *m, uint32_t index)
{
	if (index >= m->max_entries)
		return NULL;
	return (void *)atomic_load_explicit(&to_fd_array(m)->slots[index].obj,
					    memory_order_acquire);
}

static void *fd_array_lookup(struct bpfvm_map *m, const void *key, int cpu)
{
	uint32_t index;

	(void)cpu;
	if (m->type != BPFVM_MAP_TYPE_ARRAY_OF_MAPS)
		return NULL;	/* programs cannot look into a PROG_ARRAY */
	memcpy(&index, key, 4);
	return fd_array_slot_obj(m, index);
}

static int fd_array_sys_lookup(struct bpfvm_map *m, const void *key, void *value,
			       uint64_t flags)
{
	struct fd_array *a = to_fd_array(m);
	uint32_t index, id = 0;
	int ret = -ENOENT;

	(void)flags;
	if (a->kind == FD_KIND_NONE)
		return -EOPNOTSUPP;	/* no map_fd_sys_lookup_elem: ENOTSUPP */
	memcpy(&index, key, 4);
	if (index >= m->max_entries)
		return -ENOENT;
	pthread_mutex_lock(&a->lock);	/* keeps the object alive while we ask its id */
	{
		void *obj = (void *)atomic_load_explicit(&a->slots[index].obj,
							 memory_order_relaxed);

		if (obj) {
			const struct fd_obj_ops *ops = a->slots[index].ops;

			id = ops->id ? ops->id(obj) : 0;
			ret = 0;
		}
	}
	pthread_mutex_unlock(&a->lock);
	if (!ret)
		memcpy(value, &id, 4);
	return ret;
}

int map_prog_array_bind(struct bpfvm_map *m, uint32_t prog_type)
{
	if (m->type != BPFVM_MAP_TYPE_PROG_ARRAY)
		return 0;
	struct fd_array *a = to_fd_array(m);
	int err = 0;
	pthread_mutex_lock(&a->lock);
	if (!a->owned) {
		a->owned = true;
		a->owner_type = prog_type;
	} else if (a->owner_type != prog_type) {
		err = -EINVAL;
	}
	pthread_mutex_unlock(&a->lock);
	return err;
}

static int fd_array_sys_update(struct bpfvm_map *m, const void *key, const void *value,
			       uint64_t flags)
{
	struct fd_array *a = to_fd_array(m);
	const struct fd_obj_ops *ops, *old_ops;
	uint32_t index;
	int32_t fd;
	void *obj, *old;
	int err;

	memcpy(&index, key, 4);
	memcpy(&fd, value, 4);
	if (flags != BPFVM_ANY)
		return -EINVAL;
	if (index >= m->max_entries)
		return -E2BIG;
	if (a->kind == FD_KIND_NONE) {
		obj = map_cgroup_open(fd, &err);
		ops = &map_cgroup_ops;
	} else {
		obj = fdtable_get(fd, a->kind, &ops, &err);
	}
	if (!obj)
		return err;
	if (a->kind == FD_KIND_MAP && !map_meta_equal(m, obj)) {
		ops->put(obj);
		return -EINVAL;
	}
	/* a bpfvm program (not some other object under FD_KIND_PROG) binds
	 * the array to its type, as the kernel's prog_fd_array_get_ptr() */
	if (a->kind == FD_KIND_PROG && ops == &prog_fd_ops &&
	    map_prog_array_bind(m, ((const struct bpfvm_prog *)obj)->type)) {
		ops->put(obj);
		return -EINVAL;
	}
	old = fd_array_xchg(a, index, obj, ops, &old_ops);
	if (old)
		fd_array_put_old(a, old, old_ops);
	return 0;
}

static int fd_array_sys_delete(struct bpfvm_map *m, const void *key)
{
	const struct fd_obj_ops *ops;
	uint32_t index;
	void *old;

	memcpy(&index, key, 4);
	if (index >= m->max_entries)
		return -E2BIG;
	old = fd_array_xchg(to_fd_array(m), index, NULL, NULL, &ops);
	if (!old)
		return -ENOENT;
	fd_array_put_old(to_fd_array(m), old, ops);
	return 0;
}

void *map_get_prog(struct bpfvm_map *m, uint32_t index)
{
	if (m->type != BPFVM_MAP_TYPE_PROG_ARRAY)
		return NULL;
	return fd_array_slot_obj(m, index);
}

struct map_cgroup *map_get_cgroup(struct bpfvm_map *m, uint32_t index)
{
	if (m->type != BPFVM_MAP_TYPE_CGROUP_ARRAY)
		return NULL;
	return fd_array_slot_obj(m, index);
}

struct bpfvm_map *map_get_inner(struct bpfvm_map *m, const void *key)
{
	if (m->type != BPFVM_MAP_TYPE_ARRAY_OF_MAPS && m->type != BPFVM_MAP_TYPE_HASH_OF_MAPS)
		return NULL;
	return map_lookup(m, key, 0);
}

const struct map_ops fd_array_map_ops = {
	.alloc = fd_array_alloc,
	.free = fd_array_free,
	.release_user = fd_array_release_user,
	.lookup = fd_array_lookup,
	.sys_lookup = fd_array_sys_lookup,
	.sys_update = fd_array_sys_update,
	.sys_delete = fd_array_sys_delete,
	.get_next_key = map_array_get_next_key,
};
