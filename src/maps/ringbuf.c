/* ringbuf.c — BPF_MAP_TYPE_RINGBUF and its userspace consumer.
 *
 * The kernel's layout and protocol (kernel/bpf/ringbuf.c, libbpf ringbuf.c):
 * a power-of-two data area of max_entries bytes, mapped twice back to back so
 * a record that wraps past the end is still contiguous; producer and consumer
 * positions that only grow; each record starts with an 8-byte header {u32 len,
 * u32 pg_off} whose len carries BUSY while the producer fills it and DISCARD
 * when it was thrown away, and whose pg_off (pages back to the control block)
 * lets submit/discard find the ring from the sample pointer alone.
 *
 * Producers reserve under a spinlock and commit without it (an atomic exchange
 * of len), so records are consumed in reservation order even when committed
 * out of order.  The consumer is notified through an eventfd when a record is
 * committed at the position it is waiting on (or with BPF_RB_FORCE_WAKEUP);
 * the consumer re-checks a BUSY record after publishing its position, which
 * closes the race with a producer that committed in between (both sides use
 * sequentially consistent accesses for that handshake).
 */
#include "maps/map.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define RINGBUF_MAX_RECORD_SZ (UINT32_MAX / 4)

/* The page size, read once by the first ring buffer created; commits need it
 * to find the control block from a record header. */
static atomic_size_t rb_page_sz;

/* The control block: the page(s) right before the data.  Positions live on
 * their own cache lines. */
struct ringbuf_ctl {
	struct ringbuf_map *rb;
	uint64_t mask;
	map_spinlock_t lock;
	int efd;			/* eventfd signalled for the consumer */
	_Alignas(64) atomic_ulong consumer_pos;
	_Alignas(64) atomic_ulong producer_pos;
};

struct ringbuf_hdr {
	uint32_t len;
	uint32_t pg_off;
};

struct ringbuf_map {
	struct bpfvm_map map;
	struct ringbuf_ctl *ctl;
	unsigned char *data;	/* 2 * size bytes: the same pages twice */
	size_t area_sz;		/* control pages + 2 * size */
	size_t page_sz;
	atomic_uintptr_t consumer;	/* the one consumer, if any */
};

static inline struct ringbuf_map *to_rb(const struct bpfvm_map *m)
{
	return (struct ringbuf_map *)m;
}

static void rb_free(struct bpfvm_map *m)
{
	struct ringbuf_map *rb = to_rb(m);

	if (rb->ctl) {
		if (rb->ctl->efd >= 0)
			close(rb->ctl->efd);
		munmap(rb->ctl, rb->area_sz);
	}
	free(rb);
}

static int rb_map_area(struct ringbuf_map *rb, size_t size)
{
	size_t ctl_sz = (sizeof(struct ringbuf_ctl) + rb->page_sz - 1) & ~(rb->page_sz - 1);
	unsigned char *base;
	int err;

	base = map_ring_area_alloc(ctl_sz, size, &err);
	if (!base)
		return err;
	rb->area_sz = ctl_sz + 2 * size;
	rb->ctl = (struct ringbuf_ctl *)base;
	rb->data = base + ctl_sz;
	return 0;
}

static struct bpfvm_map *rb_alloc(const struct map_attr *attr, int *err)
{
	size_t page_sz = (size_t)sysconf(_SC_PAGESIZE);
	struct ringbuf_map *rb;
	uint32_t n = attr->max_entries;

	atomic_store_explicit(&rb_page_sz, page_sz, memory_order_relaxed);

	if (attr->map_flags & ~BPFVM_F_NUMA_NODE)
		*err = map_attr_err(attr, -EINVAL, "map_flags 0x%x has flags ring buffers do not take",
				    attr->map_flags & ~BPFVM_F_NUMA_NODE);
	else if (attr->key_size || attr->value_size)
		*err = map_attr_err(attr, -EINVAL, "key_size and value_size must be 0");
	else if (n == 0 || (n & (n - 1)) || (n & (page_sz - 1)))
		*err = map_attr_err(attr, -EINVAL,
				    "max_entries %u is invalid: must be a power of 2 and a multiple of the page size (%zu)",
				    n, page_sz);
	else
		*err = 0;
	if (*err)
		return NULL;
	rb = calloc(1, sizeof(*rb));
	if (!rb) {
		*err = -ENOMEM;
		return NULL;
	}
	map_init(&rb->map, attr);
	rb->page_sz = page_sz;
	*err = rb_map_area(rb, n);
	if (*err) {
		free(rb);
		*err = map_attr_err(attr, *err, "cannot map %u bytes of ring", n);
		return NULL;
	}
	rb->ctl->rb = rb;
	rb->ctl->mask = n - 1;
	rb->ctl->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	map_spinlock_init(&rb->ctl->lock);
	atomic_init(&rb->ctl->consumer_pos, 0);
	atomic_init(&rb->ctl->producer_pos, 0);
	atomic_init(&rb->consumer, 0);
	if (rb->ctl->efd < 0) {
		*err = map_attr_err(attr, -errno, "cannot create the wakeup eventfd");
		rb_free(&rb->map);
		return NULL;
	}
	return &rb->map;
}

/* ---------------------------------------------------------- producers -- */

static void *rb_reserve(struct ringbuf_map *rb, uint64_t size)
{
	struct ringbuf_ctl *c = rb->ctl;
	unsigned long cons_pos, prod_pos;
	struct ringbuf_hdr *hdr;
	uint64_t len;

	if (size > RINGBUF_MAX_RECORD_SZ)
		return NULL;
	len = (size + BPFVM_RINGBUF_HDR_SZ + 7) & ~7ull;
	if (len > c->mask + 1)
		return NULL;
	cons_pos = atomic_load_explicit(&c->consumer_pos, memory_order_acquire);
	map_spinlock_lock(&c->lock);
	prod_pos = atomic_load_explicit(&c->producer_pos, memory_order_relaxed);
	if (prod_pos + len - cons_pos > c->mask) {
		map_spinlock_unlock(&c->lock);
		return NULL;
	}
	hdr = (struct ringbuf_hdr *)(rb->data + (prod_pos & c->mask));
	hdr->pg_off = (uint32_t)(((uintptr_t)hdr - (uintptr_t)c) / rb->page_sz);
	__atomic_store_n(&hdr->len, (uint32_t)size | BPFVM_RINGBUF_BUSY_BIT, __ATOMIC_RELAXED);
	atomic_store_explicit(&c->producer_pos, prod_pos + len, memory_order_release);
	map_spinlock_unlock(&c->lock);
	return (unsigned char *)hdr + BPFVM_RINGBUF_HDR_SZ;
}

static void rb_wakeup(struct ringbuf_ctl *c)
{
	uint64_t one = 1;
	ssize_t r = write(c->efd, &one, sizeof(one));

	(void)r;	/* EAGAIN: the counter is saturated, a wakeup is pending anyway */
}

static void rb_commit(void *sample, uint64_t flags, bool discard)
{
	struct ringbuf_hdr *hdr = (struct ringbuf_hdr *)((unsigned char *)sample -
							  BPFVM_RINGBUF_HDR_SZ);
	size_t page_sz = atomic_load_explicit(&rb_page_sz, memory_order_relaxed);
	struct ringbuf_ctl *c = (struct ringbuf_ctl *)(((uintptr_t)hdr & ~(page_sz - 1)) -
						       (uintptr_t)hdr->pg_off * page_sz);
	uint32_t new_len = __atomic_load_n(&hdr->len, __ATOMIC_RELAXED) ^ BPFVM_RINGBUF_BUSY_BIT;
	unsigned long rec_pos, cons_pos;

	if (discard)
		new_len |= BPFVM_RINGBUF_DISCARD_BIT;
	__atomic_exchange_n(&hdr->len, new_len, __ATOMIC_SEQ_CST);
	/* wake the consumer if it caught up and waits for this very record */
	rec_pos = (unsigned long)((unsigned char *)hdr - c->rb->data);
	cons_pos = atomic_load_explicit(&c->consumer_pos, memory_order_seq_cst) & c->mask;
	if (flags & BPFVM_RB_FORCE_WAKEUP)
		rb_wakeup(c);
	else if (cons_pos == rec_pos && !(flags & BPFVM_RB_NO_WAKEUP))
		rb_wakeup(c);
}

void *map_ringbuf_reserve(struct bpfvm_map *m, uint64_t size, uint64_t flags)
{
	if (flags || m->type != BPFVM_MAP_TYPE_RINGBUF)
		return NULL;
	return rb_reserve(to_rb(m), size);
}

void map_ringbuf_submit(void *sample, uint64_t flags)
{
	rb_commit(sample, flags, false);
}

void map_ringbuf_discard(void *sample, uint64_t flags)
{
	rb_commit(sample, flags, true);
}

long map_ringbuf_output(struct bpfvm_map *m, const void *data, uint64_t size, uint64_t flags)
{
	void *rec;

	if (flags & ~(uint64_t)(BPFVM_RB_NO_WAKEUP | BPFVM_RB_FORCE_WAKEUP))
		return -EINVAL;
	if (m->type != BPFVM_MAP_TYPE_RINGBUF)
		return -EINVAL;
	rec = rb_reserve(to_rb(m), size);
	if (!rec)
		return -EAGAIN;
	memcpy(rec, data, size);
	rb_commit(rec, flags, false);
	return 0;
}

uint64_t map_ringbuf_query(struct bpfvm_map *m, uint64_t flags)
{
	struct ringbuf_ctl *c;

	if (m->type != BPFVM_MAP_TYPE_RINGBUF)
		return 0;
	c = to_rb(m)->ctl;
	switch (flags) {
	case BPFVM_RB_AVAIL_DATA:
		return atomic_load_explicit(&c->producer_pos, memory_order_acquire) -
		       atomic_load_explicit(&c->consumer_pos, memory_order_acquire);
	case BPFVM_RB_RING_SIZE:
		return c->mask + 1;
	case BPFVM_RB_CONS_POS:
		return atomic_load_explicit(&c->consumer_pos, memory_order_acquire);
	case BPFVM_RB_PROD_POS:
		return atomic_load_explicit(&c->producer_pos, memory_order_acquire);
	default:
		return 0;
	}
}

static void rb_value_region(const struct bpfvm_map *m, void **base, size_t *size)
{
	*base = to_rb(m)->data;
	*size = 2 * ((size_t)to_rb(m)->ctl->mask + 1);
}

/* A sample may use the whole double-mapped data area. */
static int rb_check_access(const struct bpfvm_map *m, const void *p, size_t size)
{
	const struct ringbuf_map *rb = to_rb(m);
	uintptr_t off = (uintptr_t)p - (uintptr_t)rb->data;
	size_t total = 2 * ((size_t)rb->ctl->mask + 1);

	if ((uintptr_t)p < (uintptr_t)rb->data || off > total || size > total - off)
		return -EFAULT;
	return 0;
}

static int rb_sys_nothing(struct bpfvm_map *m, const void *key, void *value, uint64_t flags)
{
	(void)m, (void)key, (void)value, (void)flags;
	return -EOPNOTSUPP;
}

static int rb_sys_update(struct bpfvm_map *m, const void *key, const void *value,
			 uint64_t flags)
{
	(void)m, (void)key, (void)value, (void)flags;
	return -EOPNOTSUPP;
}

static int rb_sys_delete(struct bpfvm_map *m, const void *key)
{
	(void)m, (void)key;
	return -EOPNOTSUPP;
}

static int rb_get_next_key(struct bpfvm_map *m, const void *key, void *next_key)
{
	(void)m, (void)key, (void)next_key;
	return -EOPNOTSUPP;
}

const struct map_ops ringbuf_map_ops = {
	.alloc = rb_alloc,
	.free = rb_free,
	.sys_lookup = rb_sys_nothing,
	.sys_update = rb_sys_update,
	.sys_delete = rb_sys_delete,
	.get_next_key = rb_get_next_key,
	.value_region = rb_value_region,
	.check_access = rb_check_access,
};

/* ----------------------------------------------------------- consumer -- */

struct bpfvm_ringbuf_consumer {
	struct ringbuf_map *rb;
	bpfvm_ringbuf_sample_fn cb;
	void *ctx;
};

struct bpfvm_ringbuf_consumer *bpfvm_ringbuf_consumer_new(struct bpfvm_map *map,
							  bpfvm_ringbuf_sample_fn cb, void *ctx)
{
	struct bpfvm_ringbuf_consumer *c;
	uintptr_t none = 0;

	if (!map || !cb || map->type != BPFVM_MAP_TYPE_RINGBUF) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	if (!atomic_compare_exchange_strong(&to_rb(map)->consumer, &none, (uintptr_t)c)) {
		free(c);
		errno = EBUSY;
		return NULL;
	}
	map_get(map);
	c->rb = to_rb(map);
	c->cb = cb;
	c->ctx = ctx;
	return c;
}

void bpfvm_ringbuf_consumer_free(struct bpfvm_ringbuf_consumer *c)
{
	if (!c)
		return;
	atomic_store(&c->rb->consumer, 0);
	map_put(&c->rb->map);
	free(c);
}

int bpfvm_ringbuf_consumer_fd(const struct bpfvm_ringbuf_consumer *c)
{
	return c ? c->rb->ctl->efd : -EINVAL;
}

/* libbpf's ringbuf_process_ring, plus the BUSY re-check described above. */
static int64_t rb_process(struct bpfvm_ringbuf_consumer *c)
{
	struct ringbuf_ctl *ctl = c->rb->ctl;
	unsigned long cons_pos, prod_pos;
	int64_t cnt = 0;
	bool got_new_data;

	cons_pos = atomic_load_explicit(&ctl->consumer_pos, memory_order_acquire);
	do {
		got_new_data = false;
		prod_pos = atomic_load_explicit(&ctl->producer_pos, memory_order_seq_cst);
		while (cons_pos < prod_pos) {
			uint32_t *len_ptr = (uint32_t *)(c->rb->data + (cons_pos & ctl->mask));
			uint32_t len = __atomic_load_n(len_ptr, __ATOMIC_SEQ_CST);

			if (len & BPFVM_RINGBUF_BUSY_BIT) {
				/* published position first, then look again (see top) */
				atomic_store_explicit(&ctl->consumer_pos, cons_pos,
						      memory_order_seq_cst);
				len = __atomic_load_n(len_ptr, __ATOMIC_SEQ_CST);
				if (len & BPFVM_RINGBUF_BUSY_BIT)
					return cnt;
			}
			got_new_data = true;
			cons_pos += ((len & ~(BPFVM_RINGBUF_BUSY_BIT | BPFVM_RINGBUF_DISCARD_BIT)) +
				     BPFVM_RINGBUF_HDR_SZ + 7) & ~7u;
			if (!(len & BPFVM_RINGBUF_DISCARD_BIT)) {
				int err = c->cb(c->ctx, (unsigned char *)len_ptr + BPFVM_RINGBUF_HDR_SZ,
						len);

				if (err < 0) {
					atomic_store_explicit(&ctl->consumer_pos, cons_pos,
							      memory_order_seq_cst);
					return err;
				}
				cnt++;
			}
			atomic_store_explicit(&ctl->consumer_pos, cons_pos, memory_order_seq_cst);
		}
	} while (got_new_data);
	return cnt;
}

static void rb_drain_eventfd(int efd)
{
	uint64_t v;
	ssize_t r = read(efd, &v, sizeof(v));

	(void)r;	/* EAGAIN: nothing pending */
}

int bpfvm_ringbuf_consumer_consume(struct bpfvm_ringbuf_consumer *c)
{
	int64_t n;

	if (!c)
		return -EINVAL;
	rb_drain_eventfd(c->rb->ctl->efd);	/* before reading: a later wakeup stays */
	n = rb_process(c);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

int bpfvm_ringbuf_consumer_poll(struct bpfvm_ringbuf_consumer *c, int timeout_ms)
{
	struct pollfd pfd;
	int n, r;

	if (!c)
		return -EINVAL;
	n = bpfvm_ringbuf_consumer_consume(c);
	if (n != 0 || timeout_ms == 0)
		return n;
	pfd.fd = c->rb->ctl->efd;
	pfd.events = POLLIN;
	r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	return bpfvm_ringbuf_consumer_consume(c);
}
