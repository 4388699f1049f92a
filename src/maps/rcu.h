/* rcu.h — read-side sections around program runs, and frees that wait for
 * them (the kernel's RCU, as a small epoch scheme).
 *
 * A running program holds pointers nobody counted: the inner map a map-in-map
 * lookup returned, the program a tail call jumps into, a hash element.  The
 * kernel keeps them alive by making every program run an RCU read-side
 * section and freeing a map or program only after a grace period: once every
 * section that might have seen it has ended.  bpfvm does the same:
 *
 *   - rcu_read_lock()/rcu_read_unlock() bracket each run (exec/run.c:
 *     vm_exec and bpfvm_prog_run; every hook runs through them).  They nest,
 *     and cost a thread-local counter and one store each: the writer side
 *     pays for the ordering (membarrier(2), or a full fence on each entry
 *     where the kernel lacks it).
 *   - rcu_call() runs a callback after a grace period: the final map_put()
 *     frees the map through it, and a PROG_ARRAY slot's reference on a
 *     program is dropped through rcu_defer_put().  Called outside any
 *     section it waits (rcu_synchronize) and runs the callback before
 *     returning, so bpfvm_map_free() still frees at once when no program
 *     runs; called inside one (a helper that dropped the last reference) it
 *     queues the callback for the thread's outermost rcu_read_unlock().
 *     Callbacks that free more objects queue them for one more grace period.
 *
 * Readers are threads, registered on their first section (a record per
 * thread, reused after the thread exits); a record holds 0 outside sections
 * and, inside, the global epoch read on entry.  A grace period bumps the
 * epoch and waits for every record holding a non-zero epoch older than the
 * new one: sections that began later cannot have seen what was unlinked
 * before, so a stream of short runs never starves the writer.
 */
#ifndef BPFVM_MAPS_RCU_H
#define BPFVM_MAPS_RCU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define RCU_LIKELY(x) __builtin_expect(!!(x), 1)
#define RCU_TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define RCU_LIKELY(x) (x)
#define RCU_TLS_MODEL
#endif

/* A full barrier.  ThreadSanitizer does not model fences (gcc refuses them
 * under -fsanitize=thread): there a seq_cst read-modify-write of `obj`
 * stands in. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) && !defined(__SANITIZE_THREAD__)
#define __SANITIZE_THREAD__ 1
#endif
#endif
#ifdef __SANITIZE_THREAD__
#define RCU_SMP_MB(obj) ((void)atomic_fetch_add_explicit((obj), 0, memory_order_seq_cst))
#else
#define RCU_SMP_MB(obj) atomic_thread_fence(memory_order_seq_cst)
#endif

struct rcu_head {
	struct rcu_head *next;
	void (*fn)(struct rcu_head *head);
};

/* one per reader thread; writers read `active` */
struct rcu_reader {
	_Alignas(64) _Atomic uint64_t active;	/* 0, or the epoch at entry */
	atomic_bool in_use;			/* owned by a live thread */
	struct rcu_reader *next;		/* never unlinked */
};

/* the calling thread's side */
struct rcu_thread {
	unsigned int nesting;
	bool draining;				/* running callbacks */
	struct rcu_reader *rec;
	struct rcu_head *pending;		/* callbacks queued inside a section */
	struct rcu_head **pending_tail;
};

extern _Thread_local struct rcu_thread rcu_self RCU_TLS_MODEL;
extern _Atomic uint64_t rcu_epoch;
extern bool rcu_reader_fence;	/* no membarrier(2): readers order their entry */

struct rcu_reader *rcu_register(void);
void rcu_drain(void);

static inline void rcu_read_lock(void)
{
	struct rcu_thread *t = &rcu_self;

	if (t->nesting++ == 0) {
		struct rcu_reader *r = RCU_LIKELY(t->rec != NULL) ? t->rec : rcu_register();

		atomic_store_explicit(&r->active,
				      atomic_load_explicit(&rcu_epoch, memory_order_acquire),
				      memory_order_relaxed);
		/* the entry must be visible before the section's loads: the
		 * writer's membarrier() orders it, or this fence */
		if (rcu_reader_fence)
			RCU_SMP_MB(&r->active);
		else
			atomic_signal_fence(memory_order_seq_cst);
	}
}

static inline void rcu_read_unlock(void)
{
	struct rcu_thread *t = &rcu_self;

	if (--t->nesting == 0) {
		atomic_store_explicit(&t->rec->active, 0, memory_order_release);
		if (!RCU_LIKELY(t->pending == NULL))
			rcu_drain();
	}
}

/* Is the calling thread inside a read-side section? */
static inline bool rcu_in_reader(void)
{
	return rcu_self.nesting != 0;
}

/* Wait until every section that began before the call has ended.  Must not
 * be called inside a section (it would wait for itself): -EDEADLK then. */
int rcu_synchronize(void);

/* Run fn(head) after a grace period (see above for when and where). */
void rcu_call(struct rcu_head *head, void (*fn)(struct rcu_head *head));

/* Call put(obj) after a grace period: for references whose holder readers
 * reach without counting (PROG_ARRAY slots).  Never fails: without memory it
 * waits for the grace period here, or, inside a section, keeps the reference
 * (a leak rather than a free under a reader). */
void rcu_defer_put(void *obj, void (*put)(void *obj));

#endif
