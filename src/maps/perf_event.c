/* perf_event.c — BPF_MAP_TYPE_PERF_EVENT_ARRAY and bpfvm_perf_buffer.
 *
 * In the kernel a perf event array holds perf event fds, and
 * bpf_perf_event_output writes a PERF_RECORD_SAMPLE (PERF_SAMPLE_RAW) into the
 * ring of the event at the chosen index, which must be open on the current
 * CPU.  Here the events are "perf rings" that bpfvm_perf_buffer_new creates,
 * one per CPU, registers in the fd table (FD_KIND_PERF_EVENT) and installs at
 * index cpu, as libbpf's perf_buffer__new does.
 *
 * A ring is a power-of-two byte area (double-mapped, so records never wrap)
 * with a producer position (head) and a consumer position (tail).  Records
 * have the kernel's format: struct perf_event_header {u32 type; u16 misc;
 * u16 size}, then for samples a u32 raw size and the raw bytes padded so the
 * record is a multiple of 8; when the ring is full the sample is dropped,
 * counted, and reported by a PERF_RECORD_LOST {header, u64 id, u64 lost}
 * written before the next sample that fits.  The consumer is woken through
 * an eventfd when a record lands on a caught-up ring (same handshake as the
 * BPF ring buffer, see ringbuf.c).
 *
 * Producers take the map's reader lock while they use a ring; installing or
 * removing rings takes it for writing, so a ring is never freed under a
 * producer.
 */
#include "maps/map.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "maps/fdtable.h"

#define PERF_RECORD_LOST 2
#define PERF_RECORD_SAMPLE 9

struct perf_event_header {
	uint32_t type;
	uint16_t misc;
	uint16_t size;
};

struct perf_ring {
	atomic_int refcnt;
	int cpu;
	int fd;			/* bpfvm fd, -1 once closed */
	map_spinlock_t lock;	/* producers */
	int efd;		/* the owning buffer's eventfd; -1 once it is gone */
	uint64_t lost;		/* under lock */
	_Alignas(64) atomic_ulong head;
	_Alignas(64) atomic_ulong tail;
	size_t size;		/* power of two */
	unsigned char *data;	/* 2 * size bytes, double-mapped */
};

struct perf_array {
	struct bpfvm_map map;
	pthread_rwlock_t lock;
	struct perf_ring **slots;	/* under lock */
};

static inline struct perf_array *to_parray(const struct bpfvm_map *m)
{
	return (struct perf_array *)m;
}

/* ------------------------------------------------------------- rings -- */

static void ring_get(void *obj)
{
	atomic_fetch_add(&((struct perf_ring *)obj)->refcnt, 1);
}

static void ring_put(void *obj)
{
	struct perf_ring *r = obj;

	if (atomic_fetch_sub(&r->refcnt, 1) == 1) {
		map_ring_area_free(r->data, 0, r->size);
		free(r);
	}
}

static const struct fd_obj_ops perf_ring_fd_ops = { ring_get, ring_put, NULL };

static struct perf_ring *ring_new(int cpu, size_t size, int efd, int *err)
{
	struct perf_ring *r = calloc(1, sizeof(*r));

	if (!r) {
		*err = -ENOMEM;
		return NULL;
	}
	r->data = map_ring_area_alloc(0, size, err);
	if (!r->data) {
		free(r);
		return NULL;
	}
	atomic_init(&r->refcnt, 1);
	r->cpu = cpu;
	r->fd = -1;
	r->efd = efd;
	r->size = size;
	map_spinlock_init(&r->lock);
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return r;
}

/* Write one record of `hdr.size` bytes made of up to three pieces. */
static void ring_write(struct perf_ring *r, unsigned long pos, const void *a, size_t a_sz,
		       const void *b, size_t b_sz, const void *c, size_t c_sz, size_t total)
{
	unsigned char *p = r->data + (pos & (r->size - 1));

	memcpy(p, a, a_sz);
	if (b_sz)
		memcpy(p + a_sz, b, b_sz);
	if (c_sz)
		memcpy(p + a_sz + b_sz, c, c_sz);
	memset(p + a_sz + b_sz + c_sz, 0, total - a_sz - b_sz - c_sz);
}

static long ring_output(struct perf_ring *r, const void *data, uint64_t size,
			const void *ctx_data, uint64_t ctx_size)
{
	uint64_t raw = ((size + ctx_size + 4 + 7) & ~7ull) - 4;	/* PERF_SAMPLE_RAW padding */
	uint64_t rec_sz = sizeof(struct perf_event_header) + 4 + raw;
	unsigned long head, tail, need;
	int efd;

	if (rec_sz > UINT16_MAX)
		return -E2BIG;
	map_spinlock_lock(&r->lock);
	head = atomic_load_explicit(&r->head, memory_order_relaxed);
	tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	need = rec_sz + (r->lost ? sizeof(struct perf_event_header) + 16 : 0);
	if (need > r->size || head + need - tail > r->size) {
		r->lost++;
		map_spinlock_unlock(&r->lock);
		return -ENOSPC;
	}
	if (r->lost) {
		struct {
			struct perf_event_header h;
			uint64_t id, lost;
		} rec = { { PERF_RECORD_LOST, 0, sizeof(rec) }, 0, r->lost };

		ring_write(r, head + 0, &rec, sizeof(rec), NULL, 0, NULL, 0, sizeof(rec));
		r->lost = 0;
	}
	{
		struct {
			struct perf_event_header h;
			uint32_t raw_sz;
		} hdr = { { PERF_RECORD_SAMPLE, 0, (uint16_t)rec_sz },
						  (uint32_t)raw };
		unsigned long pos = head + need - rec_sz;

		ring_write(r, pos, &hdr, sizeof(hdr), data, size, ctx_data, ctx_size, rec_sz);
	}
	atomic_store_explicit(&r->head, head + need, memory_order_seq_cst);
	/* the consumer had caught up with this record: wake it */
	efd = r->efd;
	if (efd >= 0 && atomic_load_explicit(&r->tail, memory_order_seq_cst) == head) {
		uint64_t one = 1;
		ssize_t w = write(efd, &one, sizeof(one));

		(void)w;
	}
	map_spinlock_unlock(&r->lock);
	return 0;
}

/* ------------------------------------------------------------- the map -- */

static void parray_free(struct bpfvm_map *m);

static struct bpfvm_map *parray_alloc(const struct map_attr *attr, int *err)
{
	struct perf_array *a;

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
	pthread_rwlock_init(&a->lock, NULL);
	a->slots = map_area_alloc((size_t)attr->max_entries * sizeof(*a->slots));
	if (!a->slots) {
		parray_free(&a->map);
		*err = map_attr_err(attr, -ENOMEM, "cannot allocate %u slots", attr->max_entries);
		return NULL;
	}
	return &a->map;
}

/* Put `r` (may be NULL) at `index`, or only if the slot holds `expect` when
 * expect_set.  Returns the ring that was there (the caller drops it). */
static struct perf_ring *parray_xchg(struct perf_array *a, uint32_t index, struct perf_ring *r,
				     bool expect_set, struct perf_ring *expect)
{
	struct perf_ring *old;

	pthread_rwlock_wrlock(&a->lock);
	old = a->slots[index];
	if (expect_set && old != expect) {
		old = NULL;
	} else {
		a->slots[index] = r;
	}
	pthread_rwlock_unlock(&a->lock);
	return old;
}

static void parray_clear(struct bpfvm_map *m)
{
	struct perf_array *a = to_parray(m);

	for (uint32_t i = 0; i < m->max_entries; i++) {
		struct perf_ring *old = parray_xchg(a, i, NULL, false, NULL);

		if (old)
			ring_put(old);
	}
}

static void parray_free(struct bpfvm_map *m)
{
	struct perf_array *a = to_parray(m);

	if (a->slots) {
		parray_clear(m);
		map_area_free(a->slots, (size_t)m->max_entries * sizeof(*a->slots));
	}
	pthread_rwlock_destroy(&a->lock);
	free(a);
}

static void parray_release_user(struct bpfvm_map *m)
{
	if (!(m->map_flags & BPFVM_F_PRESERVE_ELEMS))
		parray_clear(m);
}

static int parray_sys_update(struct bpfvm_map *m, const void *key, const void *value,
			     uint64_t flags)
{
	struct perf_ring *r, *old;
	uint32_t index;
	int32_t fd;
	int err;

	memcpy(&index, key, 4);
	memcpy(&fd, value, 4);
	if (flags != BPFVM_ANY)
		return -EINVAL;
	if (index >= m->max_entries)
		return -E2BIG;
	r = fdtable_get(fd, FD_KIND_PERF_EVENT, NULL, &err);
	if (!r)
		return err;
	old = parray_xchg(to_parray(m), index, r, false, NULL);
	if (old)
		ring_put(old);
	return 0;
}

static int parray_sys_delete(struct bpfvm_map *m, const void *key)
{
	struct perf_ring *old;
	uint32_t index;

	memcpy(&index, key, 4);
	if (index >= m->max_entries)
		return -E2BIG;
	old = parray_xchg(to_parray(m), index, NULL, false, NULL);
	if (!old)
		return -ENOENT;
	ring_put(old);
	return 0;
}

static int parray_sys_lookup(struct bpfvm_map *m, const void *key, void *value, uint64_t flags)
{
	(void)m, (void)key, (void)value, (void)flags;
	return -EOPNOTSUPP;
}

long map_perf_output(struct bpfvm_map *m, uint64_t flags, int cpu, const void *data,
		     uint64_t size, const void *ctx_data, uint64_t ctx_size)
{
	struct perf_array *a = to_parray(m);
	uint64_t index = flags & BPFVM_F_INDEX_MASK;
	struct perf_ring *r;
	long ret;

	if (m->type != BPFVM_MAP_TYPE_PERF_EVENT_ARRAY)
		return -EINVAL;
	if (flags & ~(BPFVM_F_INDEX_MASK | BPFVM_F_CTXLEN_MASK))
		return -EINVAL;
	if (index == BPFVM_F_CURRENT_CPU)
		index = (uint64_t)cpu;
	if (index >= m->max_entries)
		return -E2BIG;
	pthread_rwlock_rdlock(&a->lock);
	r = a->slots[index];
	if (!r)
		ret = -ENOENT;
	else if (r->cpu != cpu)
		ret = -EOPNOTSUPP;	/* the event is open on another CPU */
	else
		ret = ring_output(r, data, size, ctx_data, ctx_size);
	pthread_rwlock_unlock(&a->lock);
	return ret;
}

const struct map_ops perf_event_array_map_ops = {
	.alloc = parray_alloc,
	.free = parray_free,
	.release_user = parray_release_user,
	.sys_lookup = parray_sys_lookup,
	.sys_update = parray_sys_update,
	.sys_delete = parray_sys_delete,
	.get_next_key = map_array_get_next_key,
};

/* -------------------------------------------------------- perf buffer -- */

struct bpfvm_perf_buffer {
	struct bpfvm_map *map;
	int efd;
	int ring_cnt;
	struct perf_ring **rings;
	bpfvm_perf_sample_fn sample_cb;
	bpfvm_perf_lost_fn lost_cb;
	void *ctx;
};

void bpfvm_perf_buffer_free(struct bpfvm_perf_buffer *pb)
{
	if (!pb)
		return;
	for (int i = 0; i < pb->ring_cnt; i++) {
		struct perf_ring *r = pb->rings[i], *old;

		if (!r)
			continue;
		old = parray_xchg(to_parray(pb->map), (uint32_t)i, NULL, true, r);
		if (old)
			ring_put(old);
		map_spinlock_lock(&r->lock);
		r->efd = -1;	/* rings still installed elsewhere stop signalling */
		map_spinlock_unlock(&r->lock);
		if (r->fd >= 0)
			fdtable_close(r->fd);
		ring_put(r);
	}
	if (pb->efd >= 0)
		close(pb->efd);
	map_put(pb->map);
	free(pb->rings);
	free(pb);
}

struct bpfvm_perf_buffer *bpfvm_perf_buffer_new(struct bpfvm_map *map, size_t page_cnt,
						bpfvm_perf_sample_fn sample_cb,
						bpfvm_perf_lost_fn lost_cb, void *ctx,
						const struct bpfvm_perf_buffer_opts *opts)
{
	size_t page_sz = (size_t)sysconf(_SC_PAGESIZE);
	struct bpfvm_perf_buffer *pb;
	int err = 0;

	(void)opts;
	if (!map || map->type != BPFVM_MAP_TYPE_PERF_EVENT_ARRAY || !sample_cb ||
	    page_cnt == 0 || (page_cnt & (page_cnt - 1)) || page_cnt > (1u << 20)) {
		errno = EINVAL;
		return NULL;
	}
	pb = calloc(1, sizeof(*pb));
	if (!pb) {
		errno = ENOMEM;
		return NULL;
	}
	map_get(map);
	pb->map = map;
	pb->sample_cb = sample_cb;
	pb->lost_cb = lost_cb;
	pb->ctx = ctx;
	pb->ring_cnt = (int)(map->nr_cpus < map->max_entries ? map->nr_cpus : map->max_entries);
	pb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pb->rings = calloc((size_t)pb->ring_cnt, sizeof(*pb->rings));
	if (pb->efd < 0 || !pb->rings) {
		err = pb->efd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	for (int cpu = 0; cpu < pb->ring_cnt; cpu++) {
		struct perf_ring *r = ring_new(cpu, page_cnt * page_sz, pb->efd, &err), *old;
		int fd;

		if (!r)
			goto fail;
		pb->rings[cpu] = r;
		fd = fdtable_install(FD_KIND_PERF_EVENT, r, &perf_ring_fd_ops);
		if (fd < 0) {
			err = fd;
			goto fail;
		}
		r->fd = fd;
		ring_get(r);	/* the map slot's reference */
		old = parray_xchg(to_parray(map), (uint32_t)cpu, r, false, NULL);
		if (old)
			ring_put(old);
	}
	return pb;
fail:
	bpfvm_perf_buffer_free(pb);
	errno = -err;
	return NULL;
}

int bpfvm_perf_buffer_fd(const struct bpfvm_perf_buffer *pb)
{
	return pb ? pb->efd : -EINVAL;
}

static int64_t ring_consume(struct bpfvm_perf_buffer *pb, struct perf_ring *r)
{
	unsigned long tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	unsigned long head = atomic_load_explicit(&r->head, memory_order_seq_cst);
	int64_t cnt = 0;

	while (tail < head) {
		unsigned char *p = r->data + (tail & (r->size - 1));
		struct perf_event_header h;

		memcpy(&h, p, sizeof(h));
		if (h.type == PERF_RECORD_SAMPLE) {
			uint32_t raw_sz;

			memcpy(&raw_sz, p + sizeof(h), 4);
			pb->sample_cb(pb->ctx, r->cpu, p + sizeof(h) + 4, raw_sz);
			cnt++;
		} else if (h.type == PERF_RECORD_LOST) {
			uint64_t lost;

			memcpy(&lost, p + sizeof(h) + 8, 8);
			if (pb->lost_cb)
				pb->lost_cb(pb->ctx, r->cpu, lost);
		}
		tail += h.size;
		atomic_store_explicit(&r->tail, tail, memory_order_seq_cst);
		if (tail == head)	/* caught up: look once more (see ringbuf.c) */
			head = atomic_load_explicit(&r->head, memory_order_seq_cst);
	}
	return cnt;
}

int bpfvm_perf_buffer_consume(struct bpfvm_perf_buffer *pb)
{
	uint64_t v;
	int64_t n = 0;
	ssize_t rd;

	if (!pb)
		return -EINVAL;
	rd = read(pb->efd, &v, sizeof(v));	/* reset before reading the rings */
	(void)rd;
	for (int i = 0; i < pb->ring_cnt; i++)
		n += ring_consume(pb, pb->rings[i]);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

int bpfvm_perf_buffer_poll(struct bpfvm_perf_buffer *pb, int timeout_ms)
{
	struct pollfd pfd;
	int n, r;

	if (!pb)
		return -EINVAL;
	n = bpfvm_perf_buffer_consume(pb);
	if (n != 0 || timeout_ms == 0)
		return n;
	pfd.fd = pb->efd;
	pfd.events = POLLIN;
	r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	return bpfvm_perf_buffer_consume(pb);
}
