/* map.c — what every map shares: the type table, creation and its common
 * checks, references and fds, the public userspace API with the bpf()
 * syscall's permission checks, the program-side dispatch, value copies that
 * respect a bpf_spin_lock, locks, storage and the hash function.
 *
 * Family files (array.c, hash.c, ...) only implement struct map_ops; every
 * check the kernel makes in kernel/bpf/syscall.c before reaching a map's ops
 * lives here, in the same order, so the errno for a combination of mistakes
 * is the kernel's.
 */
#include "maps/map.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "maps/fdtable.h"

/* ------------------------------------------------------------ type table -- */

const struct map_ops map_ops_none;

static const struct map_type_info map_types[] = {
#define MAPDEF(NAME, ID, name, ops) [ID] = { name, &ops },
#include "maps/maps.def"
#undef MAPDEF
};

const struct map_type_info *map_type_info(uint32_t type)
{
	if (type >= sizeof(map_types) / sizeof(map_types[0]) || !map_types[type].name)
		return NULL;
	return &map_types[type];
}

const char *bpfvm_map_type_name(uint32_t type)
{
	const struct map_type_info *ti = map_type_info(type);

	return ti ? ti->name : NULL;
}

int bpfvm_map_type_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(map_types) / sizeof(map_types[0]); i++)
		if (map_types[i].name && strcmp(map_types[i].name, name) == 0)
			return (int)i;
	return -EINVAL;
}

/* ----------------------------------------------------------------- locks -- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

void map_spinlock_slow(map_spinlock_t *l)
{
	for (unsigned int spins = 0;; spins++) {
		if (atomic_load_explicit(&l->v, memory_order_relaxed) == 0 &&
		    atomic_exchange_explicit(&l->v, 1, memory_order_acquire) == 0)
			return;
		if (spins < 64)
			cpu_relax();
		else
			sched_yield();	/* the holder may be a preempted thread */
	}
}

void map_spin_lock(void *lockword)
{
	uint32_t *w = lockword;

	for (unsigned int spins = 0;; spins++) {
		if (__atomic_load_n(w, __ATOMIC_RELAXED) == 0 &&
		    __atomic_exchange_n(w, 1, __ATOMIC_ACQUIRE) == 0)
			return;
		if (spins < 64)
			cpu_relax();
		else
			sched_yield();
	}
}

void map_spin_unlock(void *lockword)
{
	__atomic_store_n((uint32_t *)lockword, 0, __ATOMIC_RELEASE);
}

/* --------------------------------------------------------------- storage -- */

#define MAP_AREA_HEAP_MAX (1u << 20)
#define MAP_AREA_HUGE (2u << 20)

void *map_area_alloc(size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	if (size <= MAP_AREA_HEAP_MAX) {
		size_t sz = (size + 63) & ~(size_t)63;

		p = aligned_alloc(64, sz);
		if (p)
			memset(p, 0, sz);
		return p;
	}
	if (size < MAP_AREA_HUGE) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	/* Big tables are probed at random: 2 MB-aligned transparent huge pages
	 * save most TLB misses.  Map extra, keep the aligned middle. */
	{
		size_t slack = MAP_AREA_HUGE;
		unsigned char *raw = mmap(NULL, size + slack, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		uintptr_t a;

		if (raw == MAP_FAILED)
			return NULL;
		a = ((uintptr_t)raw + slack - 1) & ~(uintptr_t)(slack - 1);
		if (a > (uintptr_t)raw)
			munmap(raw, a - (uintptr_t)raw);
		if ((uintptr_t)raw + size + slack > a + size)
			munmap((void *)(a + size), (uintptr_t)raw + size + slack - (a + size));
		madvise((void *)a, size, MADV_HUGEPAGE);
		return (void *)a;
	}
}

void map_area_free(void *p, size_t size)
{
	if (!p)
		return;
	if (size == 0)
		size = 1;
	if (size <= MAP_AREA_HEAP_MAX)
		free(p);
	else
		munmap(p, size);
}

void *map_ring_area_alloc(size_t ctl_sz, size_t size, int *err)
{
	size_t total = ctl_sz + 2 * size;
	unsigned char *base, *p;
	int fd;

	base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		*err = -ENOMEM;
		return NULL;
	}
	if (ctl_sz) {
		p = mmap(base, ctl_sz, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			goto fail;
	}
	fd = memfd_create("bpfvm-ring", MFD_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (ftruncate(fd, (off_t)size) != 0 ||
	    mmap(base + ctl_sz, size, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_SHARED, fd, 0) ==
		    MAP_FAILED ||
	    mmap(base + ctl_sz + size, size, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_SHARED, fd,
		 0) == MAP_FAILED) {
		close(fd);
		goto fail;
	}
	close(fd);
	return base;
fail:
	*err = errno ? -errno : -ENOMEM;
	munmap(base, total);
	return NULL;
}

void map_ring_area_free(void *base, size_t ctl_sz, size_t size)
{
	if (base)
		munmap(base, ctl_sz + 2 * size);
}

/* ------------------------------------------------------------------ hash -- */

uint32_t map_hash_seed(uint32_t map_flags)
{
	uint32_t seed;

	if (map_flags & BPFVM_F_ZERO_SEED)
		return 0;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint32_t)ts.tv_nsec ^ (uint32_t)(uintptr_t)&ts;
	}
	return seed;
}

/* ---------------------------------------------------------- value copies -- */

void map_copy_value(const struct bpfvm_map *m, void *dst, const void *src)
{
	if (m->spin_lock_off < 0) {
		memcpy(dst, src, m->value_size);
		return;
	}
	uint32_t off = (uint32_t)m->spin_lock_off, end = off + 4;

	memcpy(dst, src, off);
	memcpy((char *)dst + end, (const char *)src + end, m->value_size - end);
}

void map_copy_value_locked(const struct bpfvm_map *m, void *map_value, void *user,
			   bool to_user)
{
	void *lock = (char *)map_value + m->spin_lock_off;

	map_spin_lock(lock);
	if (to_user)
		map_copy_value(m, user, map_value);
	else
		map_copy_value(m, map_value, user);
	map_spin_unlock(lock);
}

void map_clear_lock(const struct bpfvm_map *m, void *value)
{
	if (m->spin_lock_off >= 0)
		memset((char *)value + m->spin_lock_off, 0, 4);
}

/* -------------------------------------------------------------- creation -- */

int map_attr_err(const struct map_attr *attr, int err, const char *fmt, ...)
{
	const char *tname = bpfvm_map_type_name(attr->type);
	va_list ap;
	int n;

	if (!attr->log_buf || !attr->log_size)
		return err;
	if (attr->name && attr->name[0])
		n = snprintf(attr->log_buf, attr->log_size, "map '%s' (%s): ", attr->name,
			     tname ? tname : "?");
	else
		n = snprintf(attr->log_buf, attr->log_size, "map (%s): ", tname ? tname : "?");
	if (n < 0 || (size_t)n >= attr->log_size)
		return err;
	va_start(ap, fmt);
	vsnprintf(attr->log_buf + n, attr->log_size - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

bool map_flags_access_ok(uint32_t map_flags)
{
	return (map_flags & (BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY_PROG)) !=
	       (BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY_PROG);
}

#define MAP_ACCESS_MASK \
	(BPFVM_F_RDONLY | BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY | BPFVM_F_WRONLY_PROG)
#define ARRAY_CREATE_FLAG_MASK                                                   \
	(BPFVM_F_NUMA_NODE | BPFVM_F_MMAPABLE | MAP_ACCESS_MASK | BPFVM_F_PRESERVE_ELEMS | \
	 BPFVM_F_INNER_MAP)
#define PCPU_MIN_UNIT_SIZE 32768u

int array_map_alloc_check(const struct map_attr *attr)
{
	bool percpu = attr->type == BPFVM_MAP_TYPE_PERCPU_ARRAY;

	if (attr->max_entries == 0)
		return map_attr_err(attr, -EINVAL, "max_entries must not be 0");
	if (attr->key_size != 4)
		return map_attr_err(attr, -EINVAL, "key_size %u is invalid: must be 4",
				    attr->key_size);
	if (attr->value_size == 0)
		return map_attr_err(attr, -EINVAL, "value_size must not be 0");
	if (attr->map_flags & ~ARRAY_CREATE_FLAG_MASK)
		return map_attr_err(attr, -EINVAL, "map_flags 0x%x has flags arrays do not take",
				    attr->map_flags & ~ARRAY_CREATE_FLAG_MASK);
	if (!map_flags_access_ok(attr->map_flags))
		return map_attr_err(attr, -EINVAL,
				    "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other");
	if (percpu && (attr->map_flags & BPFVM_F_NUMA_NODE))
		return map_attr_err(attr, -EINVAL, "per-CPU arrays take no NUMA node");
	if (attr->type != BPFVM_MAP_TYPE_ARRAY &&
	    (attr->map_flags & (BPFVM_F_MMAPABLE | BPFVM_F_INNER_MAP)))
		return map_attr_err(attr, -EINVAL,
				    "BPF_F_MMAPABLE and BPF_F_INNER_MAP are for plain arrays only");
	if (attr->type != BPFVM_MAP_TYPE_PERF_EVENT_ARRAY &&
	    (attr->map_flags & BPFVM_F_PRESERVE_ELEMS))
		return map_attr_err(attr, -EINVAL,
				    "BPF_F_PRESERVE_ELEMS is for perf event arrays only");
	if (attr->value_size > INT32_MAX)
		return map_attr_err(attr, -E2BIG, "value_size %u is too large", attr->value_size);
	if (percpu && map_round_up(attr->value_size, 8) > PCPU_MIN_UNIT_SIZE)
		return map_attr_err(attr, -E2BIG,
				    "value_size %u is too large for a per-CPU map (max %u)",
				    attr->value_size, PCPU_MIN_UNIT_SIZE);
	return 0;
}

void map_init(struct bpfvm_map *m, const struct map_attr *attr)
{
	m->type = attr->type;
	m->key_size = attr->key_size;
	m->value_size = attr->value_size;
	m->max_entries = attr->max_entries;
	m->map_flags = attr->map_flags;
	m->map_extra = attr->map_extra;
	m->spin_lock_off = attr->spin_lock_off;
	m->nr_cpus = attr->nr_cpus;
	m->pcpu_value_sz = map_round_up(attr->value_size, 8);
	m->fd = -1;
	atomic_init(&m->refcnt, 0);
	atomic_init(&m->frozen, false);
	m->inner_meta = NULL;
	snprintf(m->name, sizeof(m->name), "%s", attr->name ? attr->name : "");
}

static void map_destroy(struct bpfvm_map *m)
{
	free(m->inner_meta);
	m->inner_meta = NULL;
	m->ops->free(m);
}

void map_get(struct bpfvm_map *m)
{
	atomic_fetch_add_explicit(&m->refcnt, 1, memory_order_relaxed);
}

static void map_destroy_rcu(struct rcu_head *head)
{
	map_destroy((struct bpfvm_map *)((char *)head - offsetof(struct bpfvm_map, rcu)));
}

void map_put(struct bpfvm_map *m)
{
	if (m && atomic_fetch_sub_explicit(&m->refcnt, 1, memory_order_acq_rel) == 1)
		rcu_call(&m->rcu, map_destroy_rcu);	/* programs may still hold it */
}

static void map_fd_get(void *obj)
{
	map_get(obj);
}

static void map_fd_put(void *obj)
{
	map_put(obj);
}

static uint32_t map_fd_id(const void *obj)
{
	return ((const struct bpfvm_map *)obj)->id;
}

const struct fd_obj_ops map_fd_ops = { map_fd_get, map_fd_put, map_fd_id };

struct bpfvm_map *map_get_by_fd(int fd, int *err)
{
	return fdtable_get(fd, FD_KIND_MAP, NULL, err);
}

struct bpfvm_map *bpfvm_map_from_fd(int fd)
{
	struct bpfvm_map *m = fdtable_peek(fd, FD_KIND_MAP);

	if (!m)
		errno = EBADF;
	return m;
}

static atomic_uint map_next_id = 1;

struct bpfvm_map *map_create(const struct map_attr *attr, int *err)
{
	const struct map_type_info *ti = map_type_info(attr->type);
	struct bpfvm_map *m;
	int fd;

	if (!ti || attr->type == BPFVM_MAP_TYPE_UNSPEC) {
		*err = map_attr_err(attr, -EINVAL, "unknown map type %u", attr->type);
		return NULL;
	}
	if (ti->ops == &map_ops_none) {
		*err = map_attr_err(attr, -EOPNOTSUPP, "map type %s is not supported by bpfvm",
				    ti->name);
		return NULL;
	}
	if ((attr->map_flags & BPFVM_F_RDONLY) && (attr->map_flags & BPFVM_F_WRONLY)) {
		*err = map_attr_err(attr, -EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY exclude each other");
		return NULL;
	}
	if (attr->map_extra && attr->type != BPFVM_MAP_TYPE_BLOOM_FILTER) {
		*err = map_attr_err(attr, -EINVAL, "map_extra is only for bloom filters");
		return NULL;
	}
	if ((attr->map_flags & BPFVM_F_NUMA_NODE) && attr->numa_node != 0) {
		*err = map_attr_err(attr, -EINVAL, "NUMA node %u does not exist (only node 0)",
				    attr->numa_node);
		return NULL;
	}

	m = ti->ops->alloc(attr, err);
	if (!m)
		return NULL;
	m->ops = ti->ops;

	/* The kernel checks the value's special fields (BTF) after allocating. */
	if (attr->spin_lock_off >= 0) {
		int e = 0;

		if (attr->type != BPFVM_MAP_TYPE_HASH && attr->type != BPFVM_MAP_TYPE_ARRAY)
			e = map_attr_err(attr, -EOPNOTSUPP,
					 "bpf_spin_lock is allowed in hash and array values only");
		else if (attr->map_flags & (BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY_PROG))
			e = map_attr_err(attr, -EACCES,
					 "a value with bpf_spin_lock needs program read and write access");
		else if ((attr->spin_lock_off & 3) ||
			 (uint64_t)attr->spin_lock_off + 4 > attr->value_size)
			e = map_attr_err(attr, -EINVAL,
					 "bpf_spin_lock at offset %d does not fit a %u-byte value aligned",
					 attr->spin_lock_off, attr->value_size);
		if (e) {
			map_destroy(m);
			*err = e;
			return NULL;
		}
	}

	m->id = atomic_fetch_add(&map_next_id, 1);
	fd = fdtable_install(FD_KIND_MAP, m, &map_fd_ops);
	if (fd < 0) {
		map_destroy(m);
		*err = map_attr_err(attr, fd, "no free bpfvm fd");
		return NULL;
	}
	m->fd = fd;
	return m;
}

/* The kernel's bpf_obj_name_cpy: letters, digits, '_' and '.'; we cut long
 * names as libbpf does before the syscall. */
static int map_name_copy(char dst[BPFVM_OBJ_NAME_LEN], const char *src, char *log,
			 size_t log_size)
{
	size_t i;

	memset(dst, 0, BPFVM_OBJ_NAME_LEN);
	if (!src)
		return 0;
	for (i = 0; src[i]; i++) {
		unsigned char c = (unsigned char)src[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.')) {
			if (log && log_size)
				snprintf(log, log_size,
					 "map '%s': invalid character '%c' in name (letters, digits, '_' and '.' only)",
					 src, c);
			return -EINVAL;
		}
		if (i < BPFVM_OBJ_NAME_LEN - 1)
			dst[i] = (char)c;
	}
	return 0;
}

struct bpfvm_map *bpfvm_map_create(uint32_t type, const char *name, uint32_t key_size,
				   uint32_t value_size, uint32_t max_entries,
				   const struct bpfvm_map_create_opts *opts)
{
	struct bpfvm_map_create_opts o = { .sz = sizeof(o) };
	char nm[BPFVM_OBJ_NAME_LEN];
	struct map_attr attr;
	struct bpfvm_map *m;
	int err = 0;

	if (opts) {
		if (opts->sz < sizeof(size_t)) {
			errno = EINVAL;
			return NULL;
		}
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
		o.sz = sizeof(o);
	}
	if (o.log_buf && o.log_size)
		o.log_buf[0] = '\0';
	err = map_name_copy(nm, name, o.log_buf, o.log_size);
	if (err) {
		errno = -err;
		return NULL;
	}
	attr = (struct map_attr){
		.type = type,
		.key_size = key_size,
		.value_size = value_size,
		.max_entries = max_entries,
		.map_flags = o.map_flags,
		.numa_node = o.numa_node,
		.map_extra = o.map_extra,
		.spin_lock_off = o.has_spin_lock ? (int32_t)o.spin_lock_off : -1,
		.inner_map = o.inner_map,
		.name = nm,
		.nr_cpus = (uint32_t)bpfvm_nr_cpus(),
		.log_buf = o.log_buf,
		.log_size = o.log_size,
	};
	if (o.has_spin_lock && o.spin_lock_off > INT32_MAX)
		attr.spin_lock_off = INT32_MAX - 3;	/* refused below as out of range */
	if (attr.nr_cpus == 0)
		attr.nr_cpus = 1;
	m = map_create(&attr, &err);
	if (!m)
		errno = -err;
	return m;
}

void bpfvm_map_free(struct bpfvm_map *map)
{
	if (!map)
		return;
	if (map->ops->release_user)
		map->ops->release_user(map);
	if (fdtable_close(map->fd) != 0)
		map_put(map);	/* not registered: drop the creation reference */
}

/* ------------------------------------------------------------- accessors -- */

uint32_t bpfvm_map_type(const struct bpfvm_map *map) { return map->type; }
const char *bpfvm_map_name(const struct bpfvm_map *map) { return map->name; }
uint32_t bpfvm_map_key_size(const struct bpfvm_map *map) { return map->key_size; }
uint32_t bpfvm_map_value_size(const struct bpfvm_map *map) { return map->value_size; }
uint32_t bpfvm_map_max_entries(const struct bpfvm_map *map) { return map->max_entries; }
uint32_t bpfvm_map_flags(const struct bpfvm_map *map) { return map->map_flags; }
uint64_t bpfvm_map_extra(const struct bpfvm_map *map) { return map->map_extra; }
int bpfvm_map_fd(const struct bpfvm_map *map) { return map->fd; }
uint32_t bpfvm_map_id(const struct bpfvm_map *map) { return map->id; }
int bpfvm_map_spin_lock_off(const struct bpfvm_map *map) { return map->spin_lock_off; }

size_t bpfvm_map_user_value_size(const struct bpfvm_map *map)
{
	if (map_type_is_percpu(map->type))
		return (size_t)map->nr_cpus * map->pcpu_value_sz;
	return map->value_size;
}

/* ------------------------------------------------------ userspace access -- */

static bool map_can_read(const struct bpfvm_map *m)
{
	return !(m->map_flags & BPFVM_F_WRONLY);
}

static bool map_can_write(const struct bpfvm_map *m)
{
	return !(m->map_flags & BPFVM_F_RDONLY) &&
	       !atomic_load_explicit(&m->frozen, memory_order_acquire);
}

/* The copy-out behind BPF_MAP_LOOKUP_ELEM once permissions are checked. */
static int map_sys_lookup(struct bpfvm_map *m, const void *key, void *value, uint64_t flags)
{
	void *p;

	if (m->ops->sys_lookup)
		return m->ops->sys_lookup(m, key, value, flags);
	if (!m->ops->lookup)
		return -EOPNOTSUPP;
	p = m->ops->lookup(m, key, 0);
	if (!p)
		return -ENOENT;
	if (flags & BPFVM_F_LOCK)
		map_copy_value_locked(m, p, value, true);
	else
		map_copy_value(m, value, p);
	map_clear_lock(m, value);
	return 0;
}

int bpfvm_map_lookup_elem_flags(struct bpfvm_map *map, const void *key, void *value,
				uint64_t flags)
{
	if (!map)
		return -EBADF;
	if (flags & ~(uint64_t)BPFVM_F_LOCK)
		return -EINVAL;
	if (!map_can_read(map))
		return -EPERM;
	if ((flags & BPFVM_F_LOCK) && map->spin_lock_off < 0)
		return -EINVAL;
	if ((map->key_size && !key) || !value)
		return -EFAULT;
	return map_sys_lookup(map, key, value, flags);
}

int bpfvm_map_lookup_elem(struct bpfvm_map *map, const void *key, void *value)
{
	return bpfvm_map_lookup_elem_flags(map, key, value, 0);
}

int bpfvm_map_update_elem(struct bpfvm_map *map, const void *key, const void *value,
			  uint64_t flags)
{
	if (!map)
		return -EBADF;
	if (!map_can_write(map))
		return -EPERM;
	if ((flags & BPFVM_F_LOCK) && map->spin_lock_off < 0)
		return -EINVAL;
	if ((map->key_size && !key) || !value)
		return -EFAULT;
	if (map->ops->sys_update)
		return map->ops->sys_update(map, key, value, flags);
	if (!map->ops->update)
		return -EOPNOTSUPP;
	return (int)map->ops->update(map, key, value, flags, 0);
}

int bpfvm_map_delete_elem(struct bpfvm_map *map, const void *key)
{
	if (!map)
		return -EBADF;
	if (!map_can_write(map))
		return -EPERM;
	if (map->key_size && !key)
		return -EFAULT;
	if (map->ops->sys_delete)
		return map->ops->sys_delete(map, key);
	if (!map->ops->delete)
		return -EOPNOTSUPP;
	return (int)map->ops->delete(map, key, 0);
}

int bpfvm_map_get_next_key(struct bpfvm_map *map, const void *key, void *next_key)
{
	if (!map)
		return -EBADF;
	if (!map_can_read(map))
		return -EPERM;
	if (!map->ops->get_next_key)
		return -EOPNOTSUPP;
	if (!next_key)
		return -EFAULT;
	return map->ops->get_next_key(map, key, next_key);
}

int bpfvm_map_lookup_and_delete_elem_flags(struct bpfvm_map *map, const void *key,
					   void *value, uint64_t flags)
{
	if (!map)
		return -EBADF;
	if (flags & ~(uint64_t)BPFVM_F_LOCK)
		return -EINVAL;
	if (!map_can_read(map) || !map_can_write(map))
		return -EPERM;
	if (flags && (map->type == BPFVM_MAP_TYPE_QUEUE || map->type == BPFVM_MAP_TYPE_STACK))
		return -EINVAL;
	if ((flags & BPFVM_F_LOCK) && map->spin_lock_off < 0)
		return -EINVAL;
	if ((map->key_size && !key) || !value)
		return -EFAULT;
	if (map->type == BPFVM_MAP_TYPE_QUEUE || map->type == BPFVM_MAP_TYPE_STACK)
		return (int)map->ops->pop(map, value, 0);
	if (!map->ops->sys_lookup_and_delete)
		return -EOPNOTSUPP;
	return map->ops->sys_lookup_and_delete(map, key, value, flags);
}

int bpfvm_map_lookup_and_delete_elem(struct bpfvm_map *map, const void *key, void *value)
{
	return bpfvm_map_lookup_and_delete_elem_flags(map, key, value, 0);
}

int bpfvm_map_lookup_batch(struct bpfvm_map *map, void *in_batch, void *out_batch,
			   void *keys, void *values, uint32_t *count,
			   const struct bpfvm_map_batch_opts *opts)
{
	uint64_t elem_flags = 0, flags = 0;

	if (!map)
		return -EBADF;
	if (opts) {
		if (opts->sz >= offsetof(struct bpfvm_map_batch_opts, elem_flags) + sizeof(uint64_t))
			elem_flags = opts->elem_flags;
		if (opts->sz >= offsetof(struct bpfvm_map_batch_opts, flags) + sizeof(uint64_t))
			flags = opts->flags;
	}
	if (!map->ops->lookup_batch)
		return -EOPNOTSUPP;
	if (!map_can_read(map))
		return -EPERM;
	if (flags || (elem_flags & ~(uint64_t)BPFVM_F_LOCK))
		return -EINVAL;
	if ((elem_flags & BPFVM_F_LOCK) && map->spin_lock_off < 0)
		return -EINVAL;
	if (!count || !out_batch || (*count && (!keys || !values)))
		return -EFAULT;
	return map->ops->lookup_batch(map, in_batch, out_batch, keys, values, count, elem_flags);
}

int bpfvm_map_freeze(struct bpfvm_map *map)
{
	bool expected = false;

	if (!map)
		return -EBADF;
	if (map->spin_lock_off >= 0)
		return -EOPNOTSUPP;	/* the kernel refuses maps with special fields */
	/* a frozen map has lost write permission: freezing again is -EPERM
	 * (the kernel's -EBUSY is for a concurrent freeze or writable mmaps) */
	if (map->map_flags & BPFVM_F_RDONLY)
		return -EPERM;
	if (!atomic_compare_exchange_strong(&map->frozen, &expected, true))
		return -EPERM;
	return 0;
}

/* Generic BPF_MAP_LOOKUP_BATCH: walk get_next_key from the last key returned
 * (the token is a key), copying each element; retry a few times when an element
 * vanishes between get_next_key and lookup, then give up with -EINTR. */
int map_generic_lookup_batch(struct bpfvm_map *m, const void *in_batch, void *out_batch,
			     void *keys, void *values, uint32_t *count, uint64_t elem_flags)
{
	uint32_t max_count = *count, cp = 0, ksz = m->key_size;
	size_t vsz = bpfvm_map_user_value_size(m);
	unsigned char *buf, *bufs[2], *prev = NULL, *key;
	int cur = 0, retry = 3, err = 0;

	if (max_count == 0)
		return 0;
	buf = malloc(2 * (size_t)ksz + 8);
	if (!buf)
		return -ENOMEM;
	bufs[0] = buf;
	bufs[1] = buf + ksz;
	key = bufs[0];
	if (in_batch) {
		prev = bufs[1];
		memcpy(prev, in_batch, ksz);
	}
	while (cp < max_count) {
		err = m->ops->get_next_key(m, prev, key);
		if (err)
			break;
		err = map_sys_lookup(m, key, (char *)values + (size_t)cp * vsz, elem_flags);
		if (err == -ENOENT) {
			if (retry--)
				continue;
			err = -EINTR;
			break;
		}
		if (err)
			break;
		memcpy((char *)keys + (size_t)cp * ksz, key, ksz);
		prev = key;		/* the key just copied is where the next batch starts */
		cur ^= 1;
		key = bufs[cur];
		retry = 3;
		cp++;
	}
	*count = cp;
	if (cp)
		memcpy(out_batch, prev, ksz);
	free(buf);
	return err;
}

int map_array_get_next_key(struct bpfvm_map *m, const void *key, void *next_key)
{
	uint32_t index, next;

	if (!key) {
		next = 0;
	} else {
		memcpy(&index, key, 4);
		if (index >= m->max_entries)
			next = 0;
		else if (index == m->max_entries - 1)
			return -ENOENT;
		else
			next = index + 1;
	}
	memcpy(next_key, &next, 4);
	return 0;
}

/* --------------------------------------------------------- program side -- */

long map_update(struct bpfvm_map *m, const void *key, const void *value, uint64_t flags,
		int cpu)
{
	return m->ops->update ? m->ops->update(m, key, value, flags, cpu) : -EOPNOTSUPP;
}

long map_delete(struct bpfvm_map *m, const void *key, int cpu)
{
	return m->ops->delete ? m->ops->delete(m, key, cpu) : -EOPNOTSUPP;
}

long map_push(struct bpfvm_map *m, const void *value, uint64_t flags, int cpu)
{
	return m->ops->push ? m->ops->push(m, value, flags, cpu) : -EOPNOTSUPP;
}

long map_pop(struct bpfvm_map *m, void *value, int cpu)
{
	return m->ops->pop ? m->ops->pop(m, value, cpu) : -EOPNOTSUPP;
}

long map_peek(struct bpfvm_map *m, void *value, int cpu)
{
	return m->ops->peek ? m->ops->peek(m, value, cpu) : -EOPNOTSUPP;
}

#define OP_ADDR(f) ((uintptr_t)(f))	/* NULL members give 0 */

uintptr_t map_direct_fn(const struct bpfvm_map *m, enum map_call call)
{
	const struct map_ops *ops = m->ops;
	uintptr_t fn = ops->direct_fn ? ops->direct_fn(m, call) : 0;

	if (fn)
		return fn;
	switch (call) {
	case MAP_CALL_LOOKUP:
		return OP_ADDR(ops->lookup);
	case MAP_CALL_UPDATE:
		return OP_ADDR(ops->update);
	case MAP_CALL_DELETE:
		return OP_ADDR(ops->delete);
	case MAP_CALL_PUSH:
		return OP_ADDR(ops->push);
	case MAP_CALL_POP:
		return OP_ADDR(ops->pop);
	case MAP_CALL_PEEK:
		return OP_ADDR(ops->peek);
	}
	return 0;
}

void *map_lookup_percpu(struct bpfvm_map *m, const void *key, uint32_t cpu)
{
	if (!map_type_is_percpu(m->type) || cpu >= m->nr_cpus)
		return NULL;
	return m->ops->lookup(m, key, (int)cpu);
}

long map_for_each(struct bpfvm_map *m, map_for_each_cb cb, void *ctx, uint64_t flags, int cpu)
{
	if (flags)
		return -EINVAL;
	return m->ops->for_each ? m->ops->for_each(m, cb, ctx, cpu) : -EOPNOTSUPP;
}

int map_value_region(const struct bpfvm_map *m, void **base, size_t *size)
{
	if (!m->ops->value_region)
		return -EOPNOTSUPP;
	m->ops->value_region(m, base, size);
	return 0;
}

int map_check_access(const struct bpfvm_map *m, const void *p, size_t size, int write)
{
	if (write && (m->map_flags & BPFVM_F_RDONLY_PROG))
		return -EACCES;
	if (!write && (m->map_flags & BPFVM_F_WRONLY_PROG))
		return -EACCES;
	if (!m->ops->check_access)
		return -EFAULT;
	return m->ops->check_access(m, p, size);
}
