/* rcu.c — the writer side of rcu.h: reader records, grace periods and the
 * callbacks that wait for them.
 *
 * Why a grace period is enough.  A writer first unlinks an object (a slot
 * exchange, a reference count reaching 0), then bumps the epoch, orders
 * itself against every reader (membarrier(2) runs a full barrier on each
 * running thread of the process; without it, each reader's entry fence pairs
 * with the writer's fence), then reads each reader's record.  For a reader
 * either its entry store is visible then, and the writer waits for its exit
 * when it entered before the bump, or its loads come after the barrier and
 * cannot find the unlinked object.  A reader whose recorded epoch is the new
 * one read the epoch after the bump (an acquire load of the release bump),
 * so it too sees the unlink.  The reader's exit is a release store, which
 * the writer's acquire load of 0 turns into "everything it did to the object
 * happened before the free".
 */
#include "maps/rcu.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Thread_local struct rcu_thread rcu_self RCU_TLS_MODEL;
_Alignas(64) _Atomic uint64_t rcu_epoch = 1;
bool rcu_reader_fence = true;

static struct rcu_reader *_Atomic rcu_readers;
static pthread_once_t rcu_once = PTHREAD_ONCE_INIT;
static pthread_key_t rcu_key;
static bool rcu_key_ok;

static long sys_membarrier(int cmd)
{
#ifdef SYS_membarrier
	return syscall(SYS_membarrier, cmd, 0, 0);
#else
	(void)cmd;
	errno = ENOSYS;
	return -1;
#endif
}

/* a thread ends: its record becomes free for the next new thread */
static void rcu_thread_exit(void *arg)
{
	struct rcu_reader *r = arg;

	atomic_store_explicit(&r->active, 0, memory_order_release);
	atomic_store_explicit(&r->in_use, false, memory_order_release);
	rcu_self.rec = NULL;
}

static void rcu_init(void)
{
	long cmds = sys_membarrier(MEMBARRIER_CMD_QUERY);

	if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
		rcu_reader_fence = false;
	rcu_key_ok = pthread_key_create(&rcu_key, rcu_thread_exit) == 0;
}

struct rcu_reader *rcu_register(void)
{
	struct rcu_reader *r;

	pthread_once(&rcu_once, rcu_init);
	for (;;) {
		/* a record a finished thread left */
		for (r = atomic_load_explicit(&rcu_readers, memory_order_acquire); r; r = r->next) {
			bool free_ = false;

			if (!atomic_load_explicit(&r->in_use, memory_order_relaxed) &&
			    atomic_compare_exchange_strong(&r->in_use, &free_, true))
				goto found;
		}
		r = aligned_alloc(64, sizeof(*r));
		if (r)
			break;
		sched_yield();	/* out of memory: wait for a thread to end */
	}
	memset(r, 0, sizeof(*r));
	atomic_init(&r->active, 0);
	atomic_init(&r->in_use, true);
	r->next = atomic_load_explicit(&rcu_readers, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&rcu_readers, &r->next, r,
						      memory_order_release, memory_order_relaxed))
		;
found:
	if (rcu_key_ok)
		pthread_setspecific(rcu_key, r);
	rcu_self.rec = r;
	return r;
}

static void rcu_wait_step(unsigned int spins)
{
	if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	} else if (spins < 256) {
		sched_yield();
	} else {
		struct timespec ts = { 0, 50000 };	/* a long run: 50 us naps */
		nanosleep(&ts, NULL);
	}
}

int rcu_synchronize(void)
{
	uint64_t target;

	if (rcu_self.nesting)
		return -EDEADLK;
	pthread_once(&rcu_once, rcu_init);
	target = atomic_fetch_add(&rcu_epoch, 1) + 1;
	if (rcu_reader_fence || sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0)
		RCU_SMP_MB(&rcu_epoch);
	for (struct rcu_reader *r = atomic_load_explicit(&rcu_readers, memory_order_acquire); r;
	     r = r->next) {
		for (unsigned int spins = 0;; spins++) {
			uint64_t a = atomic_load_explicit(&r->active, memory_order_acquire);

			if (a == 0 || a >= target)
				break;
			rcu_wait_step(spins);
		}
	}
	return 0;
}

void rcu_drain(void)
{
	struct rcu_thread *t = &rcu_self;

	if (t->nesting || t->draining)
		return;
	t->draining = true;
	while (t->pending) {
		struct rcu_head *batch = t->pending;

		t->pending = NULL;
		t->pending_tail = &t->pending;
		rcu_synchronize();
		while (batch) {
			struct rcu_head *next = batch->next;

			batch->fn(batch);	/* may queue more: next round */
			batch = next;
		}
	}
	t->draining = false;
}

void rcu_call(struct rcu_head *head, void (*fn)(struct rcu_head *head))
{
	struct rcu_thread *t = &rcu_self;

	head->next = NULL;
	head->fn = fn;
	if (!t->pending)
		t->pending_tail = &t->pending;
	*t->pending_tail = head;
	t->pending_tail = &head->next;
	if (!t->nesting && !t->draining)
		rcu_drain();
}

struct rcu_put {
	struct rcu_head head;
	void *obj;
	void (*put)(void *obj);
};

static void rcu_put_cb(struct rcu_head *head)
{
	struct rcu_put *p = (struct rcu_put *)head;

	p->put(p->obj);
	free(p);
}

void rcu_defer_put(void *obj, void (*put)(void *obj))
{
	struct rcu_put *p = malloc(sizeof(*p));

	if (p) {
		p->obj = obj;
		p->put = put;
		rcu_call(&p->head, rcu_put_cb);
	} else if (rcu_synchronize() == 0) {
		put(obj);
	}
}
