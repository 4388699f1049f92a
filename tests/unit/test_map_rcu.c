/* test_map_rcu.c — objects freed while programs run (maps/rcu.h).
 *
 * The hazards of issue #3, reproduced: reader threads run a program that
 * looks up an inner map in an ARRAY_OF_MAPS and reads its values in a loop,
 * while the main thread replaces and deletes the slot and drops the last
 * reference to the old inner map; and reader threads run a program that
 * tail-calls into a PROG_ARRAY slot while the main thread replaces the
 * target and frees the old program.  Without grace periods both free memory
 * under a running program (AddressSanitizer: heap-use-after-free; the JIT's
 * code is unmapped: SIGSEGV).  Readers also check what they read: the 64
 * values summed come from one inner map, of a generation not older than one
 * they already saw.  Then the primitives: nesting, a callback queued inside
 * a section runs at the outermost unlock, a grace period waits for a section
 * begun before it and not for sections begun after, synchronize inside a
 * section refuses (-EDEADLK).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpfvm.h"
#include "bpfvm/jit.h"
#include "bpfvm/pkt.h"
#include "bpfvm/verifier.h"
#include "exec/vm.h"
#include "maps/map.h"
#include "maps/rcu.h"
#include "testutil.h"

#define READERS 2
#define INNER_ENTRIES 16
#define READS 64
#define MAP_GENS 1500
#define PROG_GENS 600

static atomic_bool stop;
static atomic_int bad_sum, bad_gen, run_err;
static atomic_ulong runs;

static struct bpfvm_prog *load(const char *text, int verify)
{
	struct bpf_insn *insns = NULL;
	size_t cnt = 0;
	char err[256] = "";
	struct bpfvm_prog *p;

	if (bpfvm_asm(text, &insns, &cnt, err, sizeof(err)) != 0) {
		fprintf(stderr, "asm: %s\n", err);
		return NULL;
	}
	p = bpfvm_prog_from_insns(insns, cnt, NULL);
	free(insns);
	if (!p)
		return NULL;
	p->type = 6;	/* XDP */
	if (verify) {
		char log[4096] = "";
		struct bpfvm_verify_opts vo = { .sz = sizeof(vo), .log_level = 1, .log_buf = log,
						.log_size = sizeof(log) };

		if (bpfvm_prog_verify(p, &vo) != 0) {
			fprintf(stderr, "verify: %s\n", log);
			bpfvm_prog_free(p);
			return NULL;
		}
	}
	return p;
}

static int run_once(struct bpfvm_prog *p, int mode, uint32_t *ret)
{
	static const uint8_t pkt[64];
	struct bpfvm_test_run_opts o = { .sz = sizeof(o), .data_in = pkt,
					 .data_size_in = sizeof(pkt), .mode = mode };
	int err = bpfvm_prog_test_run(p, &o);

	*ret = o.retval;
	return err;
}

/* ---------------------------------------------------- inner maps -- */

struct reader {
	struct bpfvm_prog *prog;
	int mode;
};

static void *map_reader(void *arg)
{
	struct reader *r = arg;
	uint32_t last = 0;

	while (!atomic_load(&stop)) {
		uint32_t sum;

		if (run_once(r->prog, r->mode, &sum)) {
			atomic_fetch_add(&run_err, 1);
			continue;
		}
		atomic_fetch_add(&runs, 1);
		if (sum == 0)
			continue;	/* the slot was empty */
		if (sum % READS) {
			atomic_fetch_add(&bad_sum, 1);	/* values of two maps mixed */
			continue;
		}
		if (sum / READS < last)
			atomic_fetch_add(&bad_gen, 1);
		last = sum / READS;
	}
	return NULL;
}

static struct bpfvm_map *inner_new(uint32_t gen)
{
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "inner", 4, 8,
					       INNER_ENTRIES, NULL);

	for (uint32_t k = 0; m && k < INNER_ENTRIES; k++) {
		uint64_t v = gen;

		bpfvm_map_update_elem(m, &k, &v, 0);
	}
	return m;
}

static void test_inner_map_replaced(int mode)
{
	struct bpfvm_map *tmpl = inner_new(0);
	struct bpfvm_map_create_opts oo = { .sz = sizeof(oo), .inner_map = tmpl };
	struct bpfvm_map *outer = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY_OF_MAPS, "outer", 4, 4, 1,
						   &oo);
	char text[1024];

	CHECK(tmpl && outer);
	if (!tmpl || !outer)
		return;
	/* r6 = sum of READS values of inner = outer[0], keys i % 16 */
	snprintf(text, sizeof(text),
		 "mov %%r6, 0\n"
		 "stw [%%r10-4], 0\n"
		 "lddw %%r1, map_fd %d\n"
		 "mov %%r2, %%r10\n"
		 "add %%r2, -4\n"
		 "call bpf_map_lookup_elem\n"
		 "jeq %%r0, 0, out\n"
		 "mov %%r7, %%r0\n"
		 "mov %%r8, 0\n"
		 "loop:\n"
		 "mov %%r1, %%r8\n"
		 "and %%r1, %d\n"
		 "stxw [%%r10-8], %%r1\n"
		 "mov %%r1, %%r7\n"
		 "mov %%r2, %%r10\n"
		 "add %%r2, -8\n"
		 "call bpf_map_lookup_elem\n"
		 "jeq %%r0, 0, out\n"
		 "ldxdw %%r1, [%%r0]\n"
		 "add %%r6, %%r1\n"
		 "add %%r8, 1\n"
		 "jlt %%r8, %d, loop\n"
		 "out:\n"
		 "mov %%r0, %%r6\n"
		 "exit\n",
		 bpfvm_map_fd(outer), INNER_ENTRIES - 1, READS);
	struct bpfvm_prog *prog = load(text, mode != BPFVM_EXEC_CHECKED);
	CHECK(prog != NULL);
	if (!prog)
		return;
	if (mode == BPFVM_EXEC_JIT)
		CHECK_EQ(bpfvm_prog_jit(prog, NULL, 0), 0);

	struct bpfvm_map *cur = inner_new(1);
	uint32_t k = 0, fd = (uint32_t)bpfvm_map_fd(cur), sum = 0;
	CHECK_EQ(bpfvm_map_update_elem(outer, &k, &fd, 0), 0);
	CHECK_EQ(run_once(prog, mode, &sum), 0);
	CHECK_EQ(sum, READS);

	atomic_store(&stop, false);
	atomic_store(&runs, 0);
	pthread_t th[READERS];
	struct reader rd = { prog, mode };
	for (int i = 0; i < READERS; i++)
		pthread_create(&th[i], NULL, map_reader, &rd);
	while (atomic_load(&runs) < READERS && !atomic_load(&run_err))
		sched_yield();	/* the readers are running */
	for (uint32_t gen = 2; gen <= MAP_GENS; gen++) {
		struct bpfvm_map *next = inner_new(gen);

		if (!next)
			break;
		if (gen % 8 == 0) {
			/* an empty slot for a while; the last reference to the
			 * old map is the slot's when its handle went first */
			CHECK_EQ(bpfvm_map_delete_elem(outer, &k), 0);
			sched_yield();
		}
		fd = (uint32_t)bpfvm_map_fd(next);
		CHECK_EQ(bpfvm_map_update_elem(outer, &k, &fd, 0), 0);
		bpfvm_map_free(cur);	/* the slot dropped it: this is the last */
		cur = next;
		if (gen % 3 == 0) {
			/* the next replacement drops the last reference */
			bpfvm_map_free(cur);
			cur = NULL;
		}
	}
	atomic_store(&stop, true);
	for (int i = 0; i < READERS; i++)
		pthread_join(th[i], NULL);
	CHECK(atomic_load(&runs) > 0);
	CHECK_EQ(atomic_load(&bad_sum), 0);
	CHECK_EQ(atomic_load(&bad_gen), 0);
	CHECK_EQ(atomic_load(&run_err), 0);
	bpfvm_map_free(cur);
	bpfvm_prog_free(prog);
	bpfvm_map_free(outer);
	bpfvm_map_free(tmpl);
}

/* ----------------------------------------------------- tail calls -- */

static void *prog_reader(void *arg)
{
	struct reader *r = arg;

	while (!atomic_load(&stop)) {
		uint32_t ret;

		if (run_once(r->prog, r->mode, &ret)) {
			atomic_fetch_add(&run_err, 1);
			continue;
		}
		atomic_fetch_add(&runs, 1);
		/* 1: no target; else the target's generation * 4 + 2 */
		if (ret != 1 && (ret % 4 != 2))
			atomic_fetch_add(&bad_sum, 1);
	}
	return NULL;
}

static struct bpfvm_prog *target_new(uint32_t gen, int mode)
{
	char text[512];
	struct bpfvm_prog *p;

	/* some work, so readers are often inside it when it is replaced */
	snprintf(text, sizeof(text),
		 "mov %%r6, 0\n"
		 "mov %%r7, 0\n"
		 "loop:\n"
		 "add %%r7, %%r6\n"
		 "add %%r6, 1\n"
		 "jlt %%r6, 200, loop\n"
		 "mov %%r0, %u\n"
		 "exit\n",
		 gen * 4 + 2);
	p = load(text, mode != BPFVM_EXEC_CHECKED);
	if (p && mode == BPFVM_EXEC_JIT)
		bpfvm_prog_jit(p, NULL, 0);
	return p;
}

static void test_tail_call_target_replaced(int mode)
{
	struct bpfvm_map *jmp = bpfvm_map_create(BPFVM_MAP_TYPE_PROG_ARRAY, "jmp", 4, 4, 1, NULL);
	char text[512];

	CHECK(jmp != NULL);
	if (!jmp)
		return;
	snprintf(text, sizeof(text),
		 "lddw %%r2, map_fd %d\n"
		 "mov %%r3, 0\n"
		 "call bpf_tail_call\n"
		 "mov %%r0, 1\n"
		 "exit\n",
		 bpfvm_map_fd(jmp));
	struct bpfvm_prog *prog = load(text, mode != BPFVM_EXEC_CHECKED);
	CHECK(prog != NULL);
	if (!prog)
		return;
	if (mode == BPFVM_EXEC_JIT)
		CHECK_EQ(bpfvm_prog_jit(prog, NULL, 0), 0);

	uint32_t k = 0, fd, ret = 0;
	struct bpfvm_prog *t = target_new(1, mode);
	CHECK(t != NULL);
	fd = (uint32_t)bpfvm_prog_fd(t);
	CHECK_EQ(bpfvm_map_update_elem(jmp, &k, &fd, 0), 0);
	bpfvm_prog_free(t);	/* the slot holds the only reference */
	CHECK_EQ(run_once(prog, mode, &ret), 0);
	CHECK_EQ(ret, 6);

	atomic_store(&stop, false);
	atomic_store(&runs, 0);
	pthread_t th[READERS];
	struct reader rd = { prog, mode };
	for (int i = 0; i < READERS; i++)
		pthread_create(&th[i], NULL, prog_reader, &rd);
	while (atomic_load(&runs) < READERS && !atomic_load(&run_err))
		sched_yield();
	for (uint32_t gen = 2; gen <= PROG_GENS; gen++) {
		t = target_new(gen, mode);
		if (!t)
			break;
		if (gen % 8 == 0)
			CHECK_EQ(bpfvm_map_delete_elem(jmp, &k), 0);
		fd = (uint32_t)bpfvm_prog_fd(t);
		CHECK_EQ(bpfvm_map_update_elem(jmp, &k, &fd, 0), 0);
		bpfvm_prog_free(t);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < READERS; i++)
		pthread_join(th[i], NULL);
	CHECK(atomic_load(&runs) > 0);
	CHECK_EQ(atomic_load(&bad_sum), 0);
	CHECK_EQ(atomic_load(&run_err), 0);
	bpfvm_prog_free(prog);
	bpfvm_map_free(jmp);	/* clears the slot: the last target goes */
}

/* ----------------------------------------------------- primitives -- */

static int cb_cnt;

static void count_cb(struct rcu_head *h)
{
	(void)h;
	cb_cnt++;
}

static atomic_int phase;
static atomic_bool reader_done;

static void *slow_reader(void *arg)
{
	(void)arg;
	rcu_read_lock();
	atomic_store(&phase, 1);
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	atomic_store(&reader_done, true);
	rcu_read_unlock();
	return NULL;
}

static void *busy_reader(void *arg)
{
	(void)arg;
	atomic_store(&phase, 1);
	while (!atomic_load(&stop)) {
		rcu_read_lock();
		for (volatile int i = 0; i < 100; i++)
			;
		rcu_read_unlock();
	}
	return NULL;
}

static void test_primitives(void)
{
	struct rcu_head h1, h2;

	/* outside a section: the callback has run when rcu_call returns */
	cb_cnt = 0;
	rcu_call(&h1, count_cb);
	CHECK_EQ(cb_cnt, 1);

	/* inside (nested): queued until the outermost unlock */
	rcu_read_lock();
	rcu_read_lock();
	CHECK(rcu_in_reader());
	rcu_call(&h1, count_cb);
	rcu_call(&h2, count_cb);
	CHECK_EQ(rcu_synchronize(), -EDEADLK);
	rcu_read_unlock();
	CHECK_EQ(cb_cnt, 1);
	rcu_read_unlock();
	CHECK_EQ(cb_cnt, 3);
	CHECK(!rcu_in_reader());

	/* a grace period waits for a section that began before it */
	pthread_t th;
	atomic_store(&phase, 0);
	atomic_store(&reader_done, false);
	pthread_create(&th, NULL, slow_reader, NULL);
	while (atomic_load(&phase) == 0)
		sched_yield();
	CHECK_EQ(rcu_synchronize(), 0);
	CHECK(atomic_load(&reader_done));
	pthread_join(th, NULL);

	/* ... and not for the endless stream of sections begun after it */
	atomic_store(&phase, 0);
	atomic_store(&stop, false);
	pthread_create(&th, NULL, busy_reader, NULL);
	while (atomic_load(&phase) == 0)
		sched_yield();
	for (int i = 0; i < 2000; i++)
		CHECK_EQ(rcu_synchronize(), 0);
	atomic_store(&stop, true);
	pthread_join(th, NULL);

	/* a map a program run frees (here: a section) goes at its end */
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_ARRAY, "m", 4, 8, 1, NULL);
	CHECK(m != NULL);
	rcu_read_lock();
	bpfvm_map_free(m);
	CHECK_EQ(m->refcnt, 0);
	CHECK_EQ(m->key_size, 4);	/* still there */
	rcu_read_unlock();
}

int main(void)
{
	test_primitives();
	test_inner_map_replaced(BPFVM_EXEC_CHECKED);
	test_inner_map_replaced(BPFVM_EXEC_INTERP);
	test_inner_map_replaced(BPFVM_EXEC_JIT);
	test_tail_call_target_replaced(BPFVM_EXEC_CHECKED);
	test_tail_call_target_replaced(BPFVM_EXEC_INTERP);
	test_tail_call_target_replaced(BPFVM_EXEC_JIT);
	return TEST_DONE();
}
