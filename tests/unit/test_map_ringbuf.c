/* test_map_ringbuf.c — RINGBUF: record headers, reserve/submit/discard/output,
 * ordering with out-of-order commits, full rings, wrap-around, query, the
 * consumer callback, eventfd/epoll readiness and wakeup flags, a producer on
 * another thread; PERF_EVENT_ARRAY with bpfvm_perf_buffer: samples per CPU,
 * index and CPU checks, lost records. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "bpfvm.h"
#include "maps/map.h"
#include "testutil.h"

#define NCPU 4

struct got {
	int n;
	size_t sizes[512];
	unsigned char first[512];
	int stop_at;		/* return -7 on this record (1-based), 0: never */
	unsigned long last_sum;	/* sum of the last record's bytes */
};

static int rb_cb(void *ctx, void *data, size_t size)
{
	struct got *g = ctx;

	if (g->n < 512) {
		g->sizes[g->n] = size;
		g->first[g->n] = size ? *(unsigned char *)data : 0;
	}
	g->last_sum = 0;
	for (size_t i = 0; i < size; i++)
		g->last_sum += ((unsigned char *)data)[i];
	g->n++;
	return g->n == g->stop_at ? -7 : 0;
}

static int epoll_ready(int ep)
{
	struct epoll_event ev;

	return epoll_wait(ep, &ev, 1, 0);
}

static void test_basics(void)
{
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_RINGBUF, "rb", 0, 0, 4096, NULL);
	struct bpfvm_ringbuf_consumer *c, *c2;
	struct got g = { 0 };
	unsigned char *a, *b;
	uint32_t hdr[2];
	int ep, n;
	struct epoll_event ev = { .events = EPOLLIN };

	CHECK(m != NULL);
	if (!m)
		return;
	c = bpfvm_ringbuf_consumer_new(m, rb_cb, &g);
	CHECK(c != NULL);
	c2 = bpfvm_ringbuf_consumer_new(m, rb_cb, &g);
	CHECK(c2 == NULL && errno == EBUSY);
	CHECK(bpfvm_ringbuf_consumer_new(NULL, rb_cb, &g) == NULL && errno == EINVAL);
	ep = epoll_create1(0);
	ev.data.fd = bpfvm_ringbuf_consumer_fd(c);
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev), 0);
	CHECK_EQ(epoll_ready(ep), 0);

	CHECK(map_ringbuf_reserve(m, 8, 1) == NULL);	/* flags must be 0 */
	CHECK(map_ringbuf_reserve(m, 4096, 0) == NULL);	/* larger than the ring */
	CHECK_EQ(map_ringbuf_query(m, BPFVM_RB_RING_SIZE), 4096);
	a = map_ringbuf_reserve(m, 10, 0);
	CHECK(a != NULL);
	if (!a)
		return;
	memcpy(hdr, a - 8, 8);
	CHECK_EQ(hdr[0], 10 | BPFVM_RINGBUF_BUSY_BIT);
	CHECK_EQ(map_ringbuf_query(m, BPFVM_RB_PROD_POS), 24);
	CHECK_EQ(map_ringbuf_query(m, BPFVM_RB_CONS_POS), 0);
	CHECK_EQ(map_ringbuf_query(m, BPFVM_RB_AVAIL_DATA), 24);
	CHECK_EQ(map_ringbuf_query(m, 99), 0);
	CHECK_EQ(map_check_access(m, a, 10, 1), 0);
	CHECK_EQ(bpfvm_ringbuf_consumer_consume(c), 0);	/* still BUSY */
	memset(a, 0xab, 10);
	map_ringbuf_submit(a, 0);	/* consumer waits at this record: wakes */
	memcpy(hdr, a - 8, 8);
	CHECK_EQ(hdr[0], 10);
	CHECK_EQ(epoll_ready(ep), 1);
	CHECK_EQ(bpfvm_ringbuf_consumer_consume(c), 1);
	CHECK_EQ(g.n, 1);
	CHECK_EQ(g.sizes[0], 10);
	CHECK_EQ(g.first[0], 0xab);
	CHECK_EQ(epoll_ready(ep), 0);	/* consume resets the eventfd */
	CHECK_EQ(map_ringbuf_query(m, BPFVM_RB_CONS_POS), 24);
	CHECK_EQ(map_ringbuf_query(m, BPFVM_RB_AVAIL_DATA), 0);

	/* out-of-order commit: records still come out in reservation order */
	a = map_ringbuf_reserve(m, 1, 0);
	b = map_ringbuf_reserve(m, 2, 0);
	*a = 1;
	*b = 2;
	map_ringbuf_submit(b, 0);
	CHECK_EQ(epoll_ready(ep), 0);	/* the consumer waits on a, not b */
	CHECK_EQ(bpfvm_ringbuf_consumer_consume(c), 0);
	map_ringbuf_submit(a, 0);
	CHECK_EQ(epoll_ready(ep), 1);
	CHECK_EQ(bpfvm_ringbuf_consumer_consume(c), 2);
	CHECK_EQ(g.first[1], 1);
	CHECK_EQ(g.first[2], 2);

	/* discard: skipped by the consumer */
	a = map_ringbuf_reserve(m, 5, 0);
	map_ringbuf_discard(a, BPFVM_RB_NO_WAKEUP);
	memcpy(hdr, a - 8, 8);
	CHECK_EQ(hdr[0], 5 | BPFVM_RINGBUF_DISCARD_BIT);
	CHECK_EQ(epoll_ready(ep), 0);	/* NO_WAKEUP */
	CHECK_EQ(map_ringbuf_output(m, "xyz", 3, 0), 0);
	CHECK_EQ(bpfvm_ringbuf_consumer_consume(c), 1);
	CHECK_EQ(g.n, 4);
	CHECK_EQ(g.first[3], 'x');
	CHECK_EQ(map_ringbuf_output(m, "xyz", 3, 4), -EINVAL);
	/* FORCE_WAKEUP wakes even when the consumer is not waiting on it */
	a = map_ringbuf_reserve(m, 1, 0);
	CHECK_EQ(map_ringbuf_output(m, "q", 1, BPFVM_RB_FORCE_WAKEUP), 0);
	CHECK_EQ(epoll_ready(ep), 1);
	map_ringbuf_submit(a, 0);
	CHECK_EQ(bpfvm_ringbuf_consumer_consume(c), 2);

	/* fill: 24-byte records, at most 4095 bytes in flight */
	n = 0;
	while (map_ringbuf_output(m, "0123456789", 10, BPFVM_RB_NO_WAKEUP) == 0 && n < 1000)
		n++;
	CHECK_EQ(n, 170);
	CHECK_EQ(map_ringbuf_output(m, "0", 1, 0), -EAGAIN);
	CHECK(map_ringbuf_reserve(m, 1, 0) == NULL);
	g.n = 0;
	g.stop_at = 5;	/* a failing callback stops and reports */
	CHECK_EQ(bpfvm_ringbuf_consumer_consume(c), -7);
	CHECK_EQ(g.n, 5);
	g.stop_at = 0;
	CHECK_EQ(bpfvm_ringbuf_consumer_consume(c), 165);

	/* wrap-around: a record crossing the end is contiguous */
	{
		unsigned char big[3000];

		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (unsigned char)i;
		CHECK_EQ(map_ringbuf_output(m, big, 1500, 0), 0);
		CHECK_EQ(map_ringbuf_output(m, big, 2000, 0), 0);
		a = map_ringbuf_reserve(m, 3000, 0);
		CHECK(a == NULL);	/* no room */
		g.n = 0;
		CHECK_EQ(bpfvm_ringbuf_consumer_consume(c), 2);
		CHECK((map_ringbuf_query(m, BPFVM_RB_PROD_POS) & 4095) + 3008 > 4096);
		a = map_ringbuf_reserve(m, 3000, 0);
		CHECK(a != NULL);
		if (a) {
			memcpy(a, big, 3000);	/* crosses the end of the area */
			CHECK_EQ(map_check_access(m, a, 3000, 1), 0);
			map_ringbuf_submit(a, 0);
		}
		g.n = 0;
		CHECK_EQ(bpfvm_ringbuf_consumer_consume(c), 1);
		CHECK_EQ(g.sizes[0], 3000);
		CHECK_EQ(g.first[0], 0);
		{
			unsigned long sum = 0;

			for (size_t i = 0; i < 3000; i++)
				sum += big[i];
			CHECK_EQ(g.last_sum, sum);	/* read back whole across the wrap */
		}
	}

	/* userspace element ops do not exist */
	{
		uint32_t k = 0, v = 0;

		CHECK_EQ(bpfvm_map_lookup_elem(m, &k, &v), -EOPNOTSUPP);
		CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), -EOPNOTSUPP);
		CHECK_EQ(bpfvm_map_delete_elem(m, &k), -EOPNOTSUPP);
		CHECK_EQ(bpfvm_map_get_next_key(m, NULL, &k), -EOPNOTSUPP);
	}
	close(ep);
	bpfvm_ringbuf_consumer_free(c);
	c = bpfvm_ringbuf_consumer_new(m, rb_cb, &g);	/* the slot is free again */
	CHECK(c != NULL);
	bpfvm_map_free(m);	/* the consumer keeps the map alive */
	CHECK_EQ(bpfvm_ringbuf_consumer_consume(c), 0);
	bpfvm_ringbuf_consumer_free(c);
}

struct producer {
	struct bpfvm_map *m;
	int n;
};

static void *producer(void *arg)
{
	struct producer *p = arg;
	struct timespec ts = { 0, 1000000 };

	for (int i = 0; i < p->n; i++) {
		unsigned char *s;

		while (!(s = map_ringbuf_reserve(p->m, 16, 0)))
			nanosleep(&ts, NULL);	/* full: let the consumer catch up */
		memcpy(s, &i, sizeof(i));
		map_ringbuf_submit(s, 0);
		if (i % 64 == 0)
			nanosleep(&ts, NULL);
	}
	return NULL;
}

struct seq {
	int next, bad;
};

static int seq_cb(void *ctx, void *data, size_t size)
{
	struct seq *s = ctx;
	int v;

	memcpy(&v, data, sizeof(v));
	if (v != s->next || size != 16)
		s->bad++;
	s->next = v + 1;
	return 0;
}

/* A producer thread and a consumer sleeping in poll: no record lost, none out
 * of order, and poll never hangs (a lost wakeup would hit the timeout). */
static void test_threaded(void)
{
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_RINGBUF, "rb", 0, 0, 8192, NULL);
	struct seq s = { 0, 0 };
	struct bpfvm_ringbuf_consumer *c = bpfvm_ringbuf_consumer_new(m, seq_cb, &s);
	struct producer p = { m, 20000 };
	pthread_t t;
	int timeouts = 0;

	pthread_create(&t, NULL, producer, &p);
	while (s.next < p.n) {
		int r = bpfvm_ringbuf_consumer_poll(c, 2000);

		if (r == 0)
			timeouts++;
		if (r < 0 || timeouts > 2)
			break;
	}
	pthread_join(t, NULL);
	CHECK_EQ(s.next, p.n);
	CHECK_EQ(s.bad, 0);
	CHECK_EQ(timeouts, 0);
	CHECK_EQ(bpfvm_ringbuf_consumer_poll(c, 10), 0);	/* nothing left: times out */
	bpfvm_ringbuf_consumer_free(c);
	bpfvm_map_free(m);
}

/* ------------------------------------------------------------- perf -- */

struct pgot {
	int n, cpu[64];
	uint32_t size[64];
	unsigned char data[64][16];
	uint64_t lost;
};

static void perf_sample(void *ctx, int cpu, void *data, uint32_t size)
{
	struct pgot *g = ctx;

	if (g->n < 64) {
		g->cpu[g->n] = cpu;
		g->size[g->n] = size;
		memcpy(g->data[g->n], data, size < 16 ? size : 16);
	}
	g->n++;
}

static void perf_lost(void *ctx, int cpu, uint64_t cnt)
{
	(void)cpu;
	((struct pgot *)ctx)->lost += cnt;
}

static void test_perf(void)
{
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_PERF_EVENT_ARRAY, "events", 4, 4,
					       NCPU, NULL);
	struct bpfvm_perf_buffer *pb;
	struct pgot g = { 0 };
	uint32_t k = 0, v = 0;
	int n, ep;
	struct epoll_event ev = { .events = EPOLLIN };

	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(map_perf_output(m, BPFVM_F_CURRENT_CPU, 0, "abc", 3, NULL, 0), -ENOENT);
	CHECK_EQ(map_perf_output(m, NCPU, 0, "abc", 3, NULL, 0), -E2BIG);
	CHECK_EQ(map_perf_output(m, 1ull << 63, 0, "abc", 3, NULL, 0), -EINVAL);
	CHECK(bpfvm_perf_buffer_new(m, 3, perf_sample, perf_lost, &g, NULL) == NULL);
	CHECK_EQ(errno, EINVAL);	/* page_cnt must be a power of two */
	pb = bpfvm_perf_buffer_new(m, 1, perf_sample, perf_lost, &g, NULL);
	CHECK(pb != NULL);
	if (!pb)
		return;
	ep = epoll_create1(0);
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, bpfvm_perf_buffer_fd(pb), &ev), 0);
	CHECK_EQ(epoll_ready(ep), 0);
	CHECK_EQ(map_perf_output(m, BPFVM_F_CURRENT_CPU, 2, "abcde", 5, NULL, 0), 0);
	CHECK_EQ(epoll_ready(ep), 1);
	CHECK_EQ(map_perf_output(m, 3, 3, "12", 2, "XY", 2), 0);	/* with ctx data */
	CHECK_EQ(map_perf_output(m, 1, 0, "abc", 3, NULL, 0), -EOPNOTSUPP);	/* CPU 1's ring */
	CHECK_EQ(bpfvm_perf_buffer_consume(pb), 2);
	CHECK_EQ(epoll_ready(ep), 0);
	CHECK_EQ(g.cpu[0], 2);
	CHECK_EQ(g.size[0], 12);	/* 5 + 4 rounded to 16, minus 4 */
	CHECK(memcmp(g.data[0], "abcde\0\0\0", 8) == 0);
	CHECK_EQ(g.cpu[1], 3);
	CHECK_EQ(g.size[1], 4);
	CHECK(memcmp(g.data[1], "12XY", 4) == 0);
	/* fill CPU 0's ring: the rest is lost, then reported */
	n = 0;
	while (map_perf_output(m, BPFVM_F_CURRENT_CPU, 0, "0123456789abcdef", 16, NULL, 0) == 0 &&
	       n < 10000)
		n++;
	CHECK_EQ(n, 4096 / 32);
	CHECK_EQ(map_perf_output(m, 0, 0, "x", 1, NULL, 0), -ENOSPC);
	g.n = 0;
	CHECK_EQ(bpfvm_perf_buffer_poll(pb, 100), n);
	CHECK_EQ(map_perf_output(m, 0, 0, "x", 1, NULL, 0), 0);
	CHECK_EQ(bpfvm_perf_buffer_consume(pb), 1);
	CHECK_EQ(g.lost, 2);
	/* userspace element ops */
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, &v), -EOPNOTSUPP);
	v = 12345;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), -EBADF);
	v = (uint32_t)bpfvm_map_fd(m);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), -EINVAL);	/* a map, not an event */
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_NOEXIST), -EINVAL);
	k = NCPU;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), -E2BIG);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), -E2BIG);
	k = 1;
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), 0);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), -ENOENT);
	CHECK_EQ(map_perf_output(m, BPFVM_F_CURRENT_CPU, 1, "a", 1, NULL, 0), -ENOENT);
	close(ep);
	bpfvm_perf_buffer_free(pb);
	CHECK_EQ(map_perf_output(m, BPFVM_F_CURRENT_CPU, 0, "a", 1, NULL, 0), -ENOENT);
	bpfvm_map_free(m);
}

int main(void)
{
	bpfvm_set_nr_cpus(NCPU);
	test_basics();
	test_threaded();
	test_perf();
	return TEST_DONE();
}
