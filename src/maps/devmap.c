/* devmap.c — slot arrays of network targets: BPF_MAP_TYPE_DEVMAP (struct
 * bpf_devmap_val: ifindex [, program fd]), BPF_MAP_TYPE_CPUMAP (struct
 * bpf_cpumap_val: queue size [, program fd]) and BPF_MAP_TYPE_XSKMAP (an
 * AF_XDP socket fd).  DEVMAP_HASH is in hash.c.
 *
 * Storage and lookup only, with the kernel's creation checks and errno
 * results; redirection (bpf_redirect_map) is the hooks' business and reads
 * the slots through map_lookup().  What bpfvm cannot check in userspace is
 * stored as given: an ifindex is not looked up among the host's interfaces,
 * an XSKMAP fd is not checked to be an AF_XDP socket.  Programs attached to
 * entries (the second field) are not supported yet: a non-zero program fd is
 * refused with -EOPNOTSUPP.
 */
#include "maps/map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEV_CREATE_FLAG_MASK (BPFVM_F_NUMA_NODE | BPFVM_F_RDONLY | BPFVM_F_WRONLY)
#define CPUMAP_NR_CPUS 8192u		/* the kernel's NR_CPUS in common configs */
#define CPUMAP_QSIZE_MAX 16384u

struct dev_slot {
	uint32_t val[2];		/* what a lookup returns: ifindex / qsize / fd, prog id */
	atomic_uint present;
	uint32_t pad;
};

struct dev_array {
	struct bpfvm_map map;
	map_spinlock_t lock;		/* serializes writers */
	struct dev_slot *slots;
	size_t slots_sz;
};

static inline struct dev_array *to_dev(const struct bpfvm_map *m)
{
	return (struct dev_array *)m;
}

static struct bpfvm_map *dev_alloc(const struct map_attr *attr, int *err)
{
	struct dev_array *d;
	uint32_t t = attr->type;

	*err = 0;
	if (attr->max_entries == 0)
		*err = map_attr_err(attr, -EINVAL, "max_entries must not be 0");
	else if (attr->key_size != 4)
		*err = map_attr_err(attr, -EINVAL, "key_size %u is invalid: must be 4",
				    attr->key_size);
	else if (t == BPFVM_MAP_TYPE_XSKMAP && attr->value_size != 4)
		*err = map_attr_err(attr, -EINVAL, "value_size %u is invalid: must be 4 (a socket fd)",
				    attr->value_size);
	else if (attr->value_size != 4 && attr->value_size != 8)
		*err = map_attr_err(attr, -EINVAL,
				    "value_size %u is invalid: must be 4, or 8 with a program fd",
				    attr->value_size);
	else if (t == BPFVM_MAP_TYPE_CPUMAP && (attr->map_flags & ~BPFVM_F_NUMA_NODE))
		*err = map_attr_err(attr, -EINVAL, "map_flags 0x%x has flags CPU maps do not take",
				    attr->map_flags & ~BPFVM_F_NUMA_NODE);
	else if (attr->map_flags & ~DEV_CREATE_FLAG_MASK)
		*err = map_attr_err(attr, -EINVAL, "map_flags 0x%x has flags %s maps do not take",
				    attr->map_flags & ~DEV_CREATE_FLAG_MASK,
				    t == BPFVM_MAP_TYPE_XSKMAP ? "XSK" : "device");
	else if (t == BPFVM_MAP_TYPE_CPUMAP && attr->max_entries > CPUMAP_NR_CPUS)
		*err = map_attr_err(attr, -E2BIG, "max_entries %u is more than NR_CPUS (%u)",
				    attr->max_entries, CPUMAP_NR_CPUS);
	if (*err)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	map_init(&d->map, attr);
	if (t == BPFVM_MAP_TYPE_DEVMAP)
		d->map.map_flags |= BPFVM_F_RDONLY_PROG;	/* lookups are read-only, as the kernel */
	map_spinlock_init(&d->lock);
	d->slots_sz = (size_t)attr->max_entries * sizeof(struct dev_slot);
	d->slots = map_area_alloc(d->slots_sz);
	if (!d->slots) {
		free(d);
		*err = map_attr_err(attr, -ENOMEM, "cannot allocate %u slots", attr->max_entries);
		return NULL;
	}
	return &d->map;
}

static void dev_free(struct bpfvm_map *m)
{
	map_area_free(to_dev(m)->slots, to_dev(m)->slots_sz);
	free(m);
}

static void *dev_lookup(struct bpfvm_map *m, const void *key, int cpu)
{
	struct dev_slot *s;
	uint32_t index;

	(void)cpu;
	memcpy(&index, key, 4);
	if (index >= m->max_entries)
		return NULL;
	s = &to_dev(m)->slots[index];
	return atomic_load_explicit(&s->present, memory_order_acquire) ? s->val : NULL;
}

static int dev_sys_lookup(struct bpfvm_map *m, const void *key, void *value, uint64_t flags)
{
	struct dev_array *d = to_dev(m);
	uint32_t *val;
	int ret = -ENOENT;

	(void)flags;
	if (m->type == BPFVM_MAP_TYPE_XSKMAP)
		return -EOPNOTSUPP;	/* sockets have no userspace view */
	map_spinlock_lock(&d->lock);
	val = dev_lookup(m, key, 0);
	if (val) {
		memcpy(value, val, m->value_size);
		ret = 0;
	}
	map_spinlock_unlock(&d->lock);
	return ret;
}

/* Store (present) or clear (!present) slot `index` under the writer lock. */
static void dev_set(struct dev_array *d, uint32_t index, const uint32_t val[2], bool present)
{
	struct dev_slot *s = &d->slots[index];

	map_spinlock_lock(&d->lock);
	if (present) {
		s->val[0] = val[0];
		s->val[1] = val[1];
	}
	atomic_store_explicit(&s->present, present, memory_order_release);
	map_spinlock_unlock(&d->lock);
}

static int dev_sys_update(struct bpfvm_map *m, const void *key, const void *value,
			  uint64_t flags)
{
	struct dev_array *d = to_dev(m);
	uint32_t index, val[2] = { 0, 0 };
	int32_t prog_fd;

	memcpy(&index, key, 4);
	memcpy(val, value, m->value_size);
	prog_fd = m->value_size == 8 ? (int32_t)val[1] : -1;
	if (flags > BPFVM_EXIST)
		return -EINVAL;
	if (index >= m->max_entries)
		return -E2BIG;
	switch (m->type) {
	case BPFVM_MAP_TYPE_DEVMAP:
		if (flags == BPFVM_NOEXIST)
			return -EEXIST;
		if (!val[0]) {
			if (prog_fd > 0)
				return -EINVAL;	/* no program without a device */
			dev_set(d, index, val, false);
			return 0;
		}
		if (prog_fd > 0)
			return -EOPNOTSUPP;
		val[1] = 0;	/* the program id a lookup reports */
		dev_set(d, index, val, true);
		return 0;
	case BPFVM_MAP_TYPE_CPUMAP:
		if (flags == BPFVM_NOEXIST)
			return -EEXIST;
		if (val[0] > CPUMAP_QSIZE_MAX)
			return -EOVERFLOW;
		if (index >= m->nr_cpus)
			return -ENODEV;	/* not a possible CPU */
		if (val[0] == 0) {
			dev_set(d, index, val, false);	/* qsize 0 deletes */
			return 0;
		}
		if (prog_fd > 0)
			return -EOPNOTSUPP;
		val[1] = 0;
		dev_set(d, index, val, true);
		return 0;
	default: {	/* XSKMAP */
		bool present = atomic_load_explicit(&d->slots[index].present, memory_order_acquire);

		if (present && d->slots[index].val[0] == val[0])
			return 0;	/* the same socket again */
		if (present && flags == BPFVM_NOEXIST)
			return -EEXIST;
		if (!present && flags == BPFVM_EXIST)
			return -ENOENT;
		dev_set(d, index, val, true);
		return 0;
	}
	}
}

static int dev_sys_delete(struct bpfvm_map *m, const void *key)
{
	uint32_t index;

	memcpy(&index, key, 4);
	if (index >= m->max_entries)
		return -EINVAL;
	dev_set(to_dev(m), index, NULL, false);
	return 0;	/* the kernel's device maps delete silently */
}

static void dev_value_region(const struct bpfvm_map *m, void **base, size_t *size)
{
	*base = to_dev(m)->slots;
	*size = to_dev(m)->slots_sz;
}

static int dev_check_access(const struct bpfvm_map *m, const void *p, size_t size)
{
	const struct dev_array *d = to_dev(m);
	uintptr_t off = (uintptr_t)p - (uintptr_t)d->slots;

	if ((uintptr_t)p < (uintptr_t)d->slots || off >= d->slots_sz)
		return -EFAULT;
	return off % sizeof(struct dev_slot) + size <= m->value_size ? 0 : -EFAULT;
}

const struct map_ops devmap_map_ops = {
	.alloc = dev_alloc,
	.free = dev_free,
	.lookup = dev_lookup,
	.sys_lookup = dev_sys_lookup,
	.sys_update = dev_sys_update,
	.sys_delete = dev_sys_delete,
	.get_next_key = map_array_get_next_key,
	.value_region = dev_value_region,
	.check_access = dev_check_access,
};
