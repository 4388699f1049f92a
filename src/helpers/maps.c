/* maps.c — the helpers that work on maps: element access, queues and stacks,
 * ring buffers, perf events, tail calls, cgroup arrays, iteration and spin
 * locks.
 *
 * Each one checks its pointer arguments in checked mode (a map pointer must
 * be one of the program's maps, keys and values must lie in memory the
 * program may access), then calls the map layer (maps/map.h) with the run's
 * CPU.  Results and errno values are the map layer's, which are the kernel's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "exec/vm.h"
#include "helpers/helpers.h"
#include "helpers/util.h"
#include "hooks/pkt.h"
#include "maps/fdtable.h"
#include "maps/map.h"

/* The map behind a map-pointer argument, or NULL after stopping the run. */
static struct bpfvm_map *map_arg(struct bpfvm_run *run, const char *helper, int argno,
				 uint64_t ptr)
{
	struct bpfvm_map *m = (struct bpfvm_map *)(uintptr_t)ptr;
	if (!run->checked)
		return m;
	const struct bpfvm_prog *prog = run->prog;
	for (size_t i = 0; i < prog->map_cnt; i++)
		if (prog->maps[i] == m)
			return m;
	for (int i = 0; i < run->inner_cnt; i++)
		if (run->inner[i] == m)
			return m;
	bpfvm_run_abort(run, -EINVAL, "helper bpf_%s: argument %d (0x%" PRIx64
			") is not a map of program '%s'", helper, argno, ptr, prog->name);
	return NULL;
}

#define MAP_ARG(name, argno, ptr)                                  \
	struct bpfvm_map *m = map_arg(run, name, argno, ptr);      \
	if (!m)                                                    \
		return (uint64_t)-EINVAL
#define MEM_ARG(name, argno, ptr, size, write)                                  \
	do {                                                                    \
		if (!HELPER_MEM_OK(run, ptr, size, write))                      \
			return helper_bad_ptr(run, name, argno, ptr, size);     \
	} while (0)
#define PTR(x) ((void *)(uintptr_t)(x))

uint64_t helper_map_lookup_elem(uint64_t map, uint64_t key, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	MAP_ARG("map_lookup_elem", 1, map);
	MEM_ARG("map_lookup_elem", 2, key, m->key_size, 0);
	void *v = map_lookup(m, PTR(key), run->cpu);
	if (v && run->checked && (m->type == BPFVM_MAP_TYPE_ARRAY_OF_MAPS ||
				  m->type == BPFVM_MAP_TYPE_HASH_OF_MAPS)) {
		/* remember the inner map so it is accepted as a map argument and
		 * its values as memory; the outer map keeps it alive meanwhile */
		bool known = false;
		for (int i = 0; i < run->inner_cnt && !known; i++)
			known = run->inner[i] == v;
		if (!known && run->inner_cnt == VM_MAX_INNER_MAPS) {
			bpfvm_run_abort(run, -E2BIG, "checked run: more than %d inner maps used",
					VM_MAX_INNER_MAPS);
			return 0;
		}
		if (!known)
			run->inner[run->inner_cnt++] = v;
	}
	return (uint64_t)(uintptr_t)v;
}

uint64_t helper_map_update_elem(uint64_t map, uint64_t key, uint64_t value, uint64_t flags,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r5;
	MAP_ARG("map_update_elem", 1, map);
	MEM_ARG("map_update_elem", 2, key, m->key_size, 0);
	MEM_ARG("map_update_elem", 3, value, m->value_size, 0);
	return (uint64_t)map_update(m, PTR(key), PTR(value), flags, run->cpu);
}

uint64_t helper_map_delete_elem(uint64_t map, uint64_t key, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	MAP_ARG("map_delete_elem", 1, map);
	MEM_ARG("map_delete_elem", 2, key, m->key_size, 0);
	return (uint64_t)map_delete(m, PTR(key), run->cpu);
}

uint64_t helper_map_lookup_percpu_elem(uint64_t map, uint64_t key, uint64_t cpu, uint64_t r4,
				       uint64_t r5, struct bpfvm_run *run)
{
	(void)r4, (void)r5;
	MAP_ARG("map_lookup_percpu_elem", 1, map);
	MEM_ARG("map_lookup_percpu_elem", 2, key, m->key_size, 0);
	if (cpu > UINT32_MAX)
		return 0;
	return (uint64_t)(uintptr_t)map_lookup_percpu(m, PTR(key), (uint32_t)cpu);
}

uint64_t helper_map_push_elem(uint64_t map, uint64_t value, uint64_t flags, uint64_t r4,
			      uint64_t r5, struct bpfvm_run *run)
{
	(void)r4, (void)r5;
	MAP_ARG("map_push_elem", 1, map);
	MEM_ARG("map_push_elem", 2, value, m->value_size, 0);
	return (uint64_t)map_push(m, PTR(value), flags, run->cpu);
}

uint64_t helper_map_pop_elem(uint64_t map, uint64_t value, uint64_t r3, uint64_t r4,
			     uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	MAP_ARG("map_pop_elem", 1, map);
	MEM_ARG("map_pop_elem", 2, value, m->value_size, 1);
	return (uint64_t)map_pop(m, PTR(value), run->cpu);
}

uint64_t helper_map_peek_elem(uint64_t map, uint64_t value, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	MAP_ARG("map_peek_elem", 1, map);
	MEM_ARG("map_peek_elem", 2, value, m->value_size, 1);
	return (uint64_t)map_peek(m, PTR(value), run->cpu);
}

uint64_t helper_tail_call(uint64_t ctx, uint64_t map, uint64_t index, uint64_t r4,
			  uint64_t r5, struct bpfvm_run *run)
{
	(void)r4, (void)r5;
	MAP_ARG("tail_call", 2, map);
	if (m->type != BPFVM_MAP_TYPE_PROG_ARRAY || index >= m->max_entries)
		return (uint64_t)-EINVAL;
	const struct bpfvm_prog *target = map_get_prog(m, (uint32_t)index);
	uint64_t r0;
	int err = vm_tail_call(run, target, ctx, &r0);
	return err ? (uint64_t)(int64_t)err : r0;
}

/* ---------------------------------------------------------- ring buffers */

uint64_t helper_ringbuf_output(uint64_t map, uint64_t data, uint64_t size, uint64_t flags,
			       uint64_t r5, struct bpfvm_run *run)
{
	(void)r5;
	MAP_ARG("ringbuf_output", 1, map);
	MEM_ARG("ringbuf_output", 2, data, size, 0);
	return (uint64_t)map_ringbuf_output(m, PTR(data), size, flags);
}

uint64_t helper_ringbuf_reserve(uint64_t map, uint64_t size, uint64_t flags, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r4, (void)r5;
	MAP_ARG("ringbuf_reserve", 1, map);
	return (uint64_t)(uintptr_t)map_ringbuf_reserve(m, size, flags);
}

/* checked mode: is `sample` inside one of the program's ring buffers? */
static bool sample_ok(struct bpfvm_run *run, uint64_t sample)
{
	if (!run->checked)
		return true;
	const struct bpfvm_prog *prog = run->prog;
	for (size_t i = 0; i < prog->map_cnt; i++)
		if (prog->maps[i]->type == BPFVM_MAP_TYPE_RINGBUF &&
		    map_check_access(prog->maps[i], PTR(sample), 1, 0) == 0)
			return true;
	return false;
}

uint64_t helper_ringbuf_submit(uint64_t sample, uint64_t flags, uint64_t r3, uint64_t r4,
			       uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	if (!sample_ok(run, sample))
		return helper_bad_ptr(run, "ringbuf_submit", 1, sample, 1);
	map_ringbuf_submit(PTR(sample), flags);
	return 0;
}

uint64_t helper_ringbuf_discard(uint64_t sample, uint64_t flags, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	if (!sample_ok(run, sample))
		return helper_bad_ptr(run, "ringbuf_discard", 1, sample, 1);
	map_ringbuf_discard(PTR(sample), flags);
	return 0;
}

uint64_t helper_ringbuf_query(uint64_t map, uint64_t flags, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	MAP_ARG("ringbuf_query", 1, map);
	return map_ringbuf_query(m, flags);
}

/* Which bpf_perf_event_output a program type gets: the skb or XDP variant
 * (which append packet bytes) or the tracing one. */
static int perf_output_kind(uint32_t prog_type)
{
	switch (prog_type) {
	case 1: case 3: case 4: case 8: case 10: case 11: case 12: case 14: case 19:
		return PKT_SKB;	/* socket filter, tc, cgroup skb, lwt, sk_skb */
	case 6:
		return PKT_XDP;
	default:
		return -1;
	}
}

/* The skb and XDP variants (bpf_skb_event_output, bpf_xdp_event_output) take
 * the number of packet bytes to append from flags' BPF_F_CTXLEN_MASK bits:
 * -EFAULT when the packet is shorter, copied from data across XDP fragments.
 * The tracing variant takes no such bits (-EINVAL). */
uint64_t helper_perf_event_output(uint64_t ctx, uint64_t map, uint64_t flags, uint64_t data,
				  uint64_t size, struct bpfvm_run *run)
{
	MAP_ARG("perf_event_output", 2, map);
	MEM_ARG("perf_event_output", 4, data, size, 0);
	uint64_t ctx_len = (flags & BPFVM_F_CTXLEN_MASK) >> 32;
	int kind = perf_output_kind(run->prog->type);
	if (!ctx_len || (flags & ~(BPFVM_F_INDEX_MASK | BPFVM_F_CTXLEN_MASK)))
		return (uint64_t)map_perf_output(m, flags, run->cpu, PTR(data), size, NULL, 0);
	if (kind < 0)
		return (uint64_t)-EINVAL;
	struct pkt_ctx *pc = pkt_from_run(run, kind, "perf_event_output", ctx);
	if (!pc)
		return 0;
	if (kind == PKT_SKB) {
		if (ctx_len > pc->skb.len)
			return (uint64_t)-EFAULT;
		return (uint64_t)map_perf_output(m, flags, run->cpu, PTR(data), size, skb_data(pc),
						 ctx_len);
	}
	if (ctx_len > xdp_buff_len(pc))
		return (uint64_t)-EFAULT;
	if (ctx_len <= (uint64_t)(pc->data_end - pc->data))
		return (uint64_t)map_perf_output(m, flags, run->cpu, PTR(data), size, pc->data,
						 ctx_len);
	uint8_t *bytes = malloc(ctx_len);	/* the fragments, made contiguous */
	if (!bytes)
		return (uint64_t)-ENOMEM;
	xdp_copy_out(pc, bytes, (uint32_t)ctx_len, false);
	long ret = map_perf_output(m, flags, run->cpu, PTR(data), size, bytes, ctx_len);
	free(bytes);
	return (uint64_t)ret;
}

/* --------------------------------------------------------------- cgroups */

uint64_t helper_current_task_under_cgroup(uint64_t map, uint64_t index, uint64_t r3,
					  uint64_t r4, uint64_t r5, struct bpfvm_run *run)
{
	(void)r3, (void)r4, (void)r5;
	MAP_ARG("current_task_under_cgroup", 1, map);
	if (m->type != BPFVM_MAP_TYPE_CGROUP_ARRAY)
		return (uint64_t)-EINVAL;	/* the verifier allows no other map */
	if ((uint32_t)index >= m->max_entries)
		return (uint64_t)-E2BIG;
	struct map_cgroup *cg = map_get_cgroup(m, (uint32_t)index);
	if (!cg)
		return (uint64_t)-EAGAIN;
	return (uint64_t)map_cgroup_task_under(cg);
}

/* ------------------------------------------------------------ iteration */

struct for_each_ctx {
	struct bpfvm_run *run;
	uint64_t callback, cb_ctx;
};

static long for_each_cb(struct bpfvm_map *m, const void *key, void *value, void *ctx)
{
	struct for_each_ctx *c = ctx;
	struct bpfvm_run *run = c->run;
	/* the key may live anywhere (an array's index is on our stack): a checked
	 * callback may read it, as the kernel's verifier lets it (PTR_TO_MAP_KEY) */
	int regions = run->region_cnt;
	if (run->checked && vm_add_region(run, key, m->key_size, "key", false)) {
		bpfvm_run_abort(run, -E2BIG, "for_each_map_elem: too many memory regions");
		return 1;
	}
	uint64_t r0 = vm_call_func(run, c->callback, (uint64_t)(uintptr_t)m,
				   (uint64_t)(uintptr_t)key, (uint64_t)(uintptr_t)value, c->cb_ctx, 0);
	run->region_cnt = regions;
	return run->err ? 1 : (long)r0;
}

uint64_t helper_for_each_map_elem(uint64_t map, uint64_t callback, uint64_t cb_ctx,
				  uint64_t flags, uint64_t r5, struct bpfvm_run *run)
{
	(void)r5;
	MAP_ARG("for_each_map_elem", 1, map);
	struct for_each_ctx c = { run, callback, cb_ctx };
	long n = map_for_each(m, for_each_cb, &c, flags, run->cpu);
	return run->err ? 0 : (uint64_t)n;
}

/* ------------------------------------------------------------ spin locks */

uint64_t helper_spin_lock(uint64_t lock, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			  struct bpfvm_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	MEM_ARG("spin_lock", 1, lock, 4, 1);
	map_spin_lock(PTR(lock));
	return 0;
}

uint64_t helper_spin_unlock(uint64_t lock, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			    struct bpfvm_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	MEM_ARG("spin_unlock", 1, lock, 4, 1);
	map_spin_unlock(PTR(lock));
	return 0;
}
