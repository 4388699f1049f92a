/* pkt.c — packet contexts in low memory, how a run sees them (regions, the
 * helpers' entry check), and the per-thread packet runner.
 *
 * A runner owns one struct pkt_ctx and one struct bpfvm_run for its whole life:
 * a packet is copied into the context's low memory, the program runs, and the
 * verdict is decoded with the hook's rules.  No allocation, no system call per
 * packet.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "exec/jit.h"
#include "exec/vm.h"
#include "hooks/pkt.h"
#include "loader/sections.h"

/* ---------------------------------------------------------- low memory */

void *pkt_low_alloc(size_t size)
{
	void *p;
#if defined(__x86_64__) && defined(MAP_32BIT)
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		 -1, 0);
	if (p != MAP_FAILED)
		return p;
#endif
#ifdef MAP_FIXED_NOREPLACE
	/* elsewhere: ask for addresses between 256 MiB and 3 GiB in turn */
	static _Atomic unsigned long next_hint = 0x10000000ul;
	for (int tries = 0; tries < 64; tries++) {
		unsigned long hint = atomic_fetch_add(&next_hint, (unsigned long)size + 65536);
		if (hint + size > 0xc0000000ul) {
			atomic_store(&next_hint, 0x10000000ul);
			continue;
		}
		p = mmap((void *)hint, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			continue;
		if ((uintptr_t)p + size <= 0x100000000ull)
			return p;
		munmap(p, size);	/* an old kernel ignored the flag */
	}
#endif
	errno = ENOMEM;
	return NULL;
}

void pkt_low_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

/* zeroed memory in cache lines of its own: the per-packet state of one
 * thread must not share a line with another thread's */
void *pkt_line_alloc(size_t size)
{
	size = (size + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, size);
	if (p)
		memset(p, 0, size);
	return p;
}

/* Low areas of freed contexts, kept for the next one: a fresh mapping below
 * 4 GiB costs page tables to build and tear down and a page fault per page
 * touched (0.39 ms per test run measured here); a kept one is zeroed when
 * it is taken again, so it reads as a new mapping does. */
#define LOW_CACHE_MAX 8
static pthread_mutex_t low_mu = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *low_cache[LOW_CACHE_MAX];
static int low_cached;

static uint8_t *low_get(void)
{
	uint8_t *p = NULL;
	pthread_mutex_lock(&low_mu);
	if (low_cached)
		p = low_cache[--low_cached];
	pthread_mutex_unlock(&low_mu);
	if (!p)
		return pkt_low_alloc(PKT_LOW_SZ);
	memset(p, 0, PKT_LOW_SZ);
	return p;
}

static void low_put(uint8_t *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&low_mu);
	if (low_cached < LOW_CACHE_MAX) {
		low_cache[low_cached++] = p;
		p = NULL;
	}
	pthread_mutex_unlock(&low_mu);
	pkt_low_free(p, PKT_LOW_SZ);
}

struct pkt_ctx *pkt_ctx_new(int kind)
{
	struct pkt_ctx *pc = pkt_line_alloc(sizeof(*pc));
	if (!pc)
		return NULL;
	pc->low = low_get();
	if (!pc->low) {
		free(pc);
		errno = ENOMEM;
		return NULL;
	}
	pc->kind = kind;
	pc->ctx = pc->low;
	pc->ctx_sz = kind == PKT_XDP ? sizeof(struct pkt_xdp_md) : sizeof(struct pkt_sk_buff);
	pc->region_pkt = -1;
	pc->ingress_ifindex = 1;
	return pc;
}

void pkt_ctx_free(struct pkt_ctx *pc)
{
	if (!pc)
		return;
	low_put(pc->low);
	free(pc->linear);
	free(pc);
}

/* ------------------------------------------------------ runs and regions */

#define SKB_OFF(f) offsetof(struct pkt_sk_buff, f)

struct field {
	uint16_t off, size;
};

/* what each program type may write in struct __sk_buff */
static const struct field tc_writable[] = {
	{ SKB_OFF(mark), 4 },	  { SKB_OFF(queue_mapping), 4 }, { SKB_OFF(priority), 4 },
	{ SKB_OFF(tc_index), 4 }, { SKB_OFF(cb), 20 },		 { SKB_OFF(tc_classid), 4 },
	{ SKB_OFF(tstamp), 8 },
};
static const struct field cg_writable[] = {
	{ SKB_OFF(mark), 4 }, { SKB_OFF(priority), 4 }, { SKB_OFF(cb), 20 }, { SKB_OFF(tstamp), 8 },
};
static const struct field sf_writable[] = {
	{ SKB_OFF(cb), 20 },
};

static void pkt_bounds(const struct pkt_ctx *pc, uint8_t **start, uint8_t **end)
{
	if (pc->kind == PKT_XDP) {
		*start = pc->data_meta;
		*end = pc->data_end;
	} else {
		*start = skb_data(pc);
		*end = *start + pc->skb.len;
	}
}

int pkt_attach(struct pkt_ctx *pc, struct bpfvm_run *run)
{
	const struct field *w = NULL;
	size_t nw = 0;
	bool pkt_access = true;

	pc->run = run;
	run->hook = pc;
	pc->region_pkt = -1;
	if (pc->kind == PKT_SKB) {
		run->pkt = skb_data(pc);
		run->pkt_len = pc->skb.len;
	}
	if (!run->checked)
		return 0;
	pc->pkt_writable = true;
	if (pc->kind == PKT_SKB) {
		switch (pc->prog_type) {
		case SEC_PROG_SCHED_CLS:
		case SEC_PROG_SCHED_ACT:
			w = tc_writable;
			nw = sizeof(tc_writable) / sizeof(tc_writable[0]);
			break;
		case SEC_PROG_CGROUP_SKB:
			w = cg_writable;
			nw = sizeof(cg_writable) / sizeof(cg_writable[0]);
			pc->pkt_writable = false;
			break;
		default:
			w = sf_writable;
			nw = sizeof(sf_writable) / sizeof(sf_writable[0]);
			pkt_access = false;	/* socket filters have no packet pointers */
			break;
		}
	}
	for (size_t i = 0; i < nw; i++)
		if (vm_add_region(run, (uint8_t *)pc->ctx + w[i].off, w[i].size, "ctx", true))
			return -E2BIG;
	if (vm_add_region(run, pc->ctx, pc->ctx_sz, "ctx", false))
		return -E2BIG;
	if (pkt_access) {
		uint8_t *s, *e;
		pkt_bounds(pc, &s, &e);
		if (run->region_cnt == VM_MAX_REGIONS)
			return -E2BIG;
		pc->region_pkt = run->region_cnt;
		struct vm_region *r = &run->region[run->region_cnt++];
		r->start = (uintptr_t)s;
		r->end = (uintptr_t)e;
		r->name = "pkt";
		r->writable = pc->pkt_writable;
	}
	return 0;
}

void pkt_update_regions(struct pkt_ctx *pc)
{
	struct bpfvm_run *run = pc->run;
	if (!run)
		return;
	if (pc->kind == PKT_SKB) {
		run->pkt = skb_data(pc);
		run->pkt_len = pc->skb.len;
	}
	if (pc->region_pkt >= 0 && pc->region_pkt < run->region_cnt) {
		uint8_t *s, *e;
		pkt_bounds(pc, &s, &e);
		run->region[pc->region_pkt].start = (uintptr_t)s;
		run->region[pc->region_pkt].end = (uintptr_t)e;
	}
}

struct pkt_ctx *pkt_from_run(struct bpfvm_run *run, int kind, const char *name,
			     uint64_t ctx_arg)
{
	struct pkt_ctx *pc = run->hook;
	if (!pc) {
		bpfvm_run_abort(run, -EINVAL,
				"helper bpf_%s needs a packet: run the program with "
				"bpfvm_prog_test_run() or a packet runner",
				name);
		return NULL;
	}
	if (pc->kind != kind) {
		bpfvm_run_abort(run, -EINVAL, "helper bpf_%s is not available to %s programs", name,
				pc->kind == PKT_XDP ? "XDP" : "skb");
		return NULL;
	}
	if (run->checked && ctx_arg != PKT_NO_CTX_ARG && ctx_arg != (uint64_t)(uintptr_t)pc->ctx) {
		bpfvm_run_abort(run, -EFAULT,
				"helper bpf_%s: argument 1 (0x%llx) is not the program's context", name,
				(unsigned long long)ctx_arg);
		return NULL;
	}
	return pc;
}

/* ------------------------------------------------------------- runners */

struct bpfvm_pkt_runner {
	struct bpfvm_prog *prog;
	int hook;
	int mode;
	struct bpfvm_pkt_runner_opts opts;
	uint8_t dev_addr[6];
	bool has_dev_addr;
	struct pkt_ctx *pc;
	struct bpfvm_run *run;
};

static bool hook_fits(int hook, uint32_t type)
{
	switch (hook) {
	case BPFVM_PKT_HOOK_XDP:
		return type == SEC_PROG_XDP;
	case BPFVM_PKT_HOOK_TC_INGRESS:
	case BPFVM_PKT_HOOK_TC_EGRESS:
		return type == SEC_PROG_SCHED_CLS || type == SEC_PROG_SCHED_ACT;
	case BPFVM_PKT_HOOK_SOCKET_FILTER:
		return type == SEC_PROG_SOCKET_FILTER;
	case BPFVM_PKT_HOOK_CGROUP_SKB_INGRESS:
	case BPFVM_PKT_HOOK_CGROUP_SKB_EGRESS:
		return type == SEC_PROG_CGROUP_SKB;
	default:
		return false;
	}
}

BPFVM_API struct bpfvm_pkt_runner *bpfvm_pkt_runner_new(struct bpfvm_prog *prog, int hook,
							const struct bpfvm_pkt_runner_opts *opts)
{
	if (!prog || hook < BPFVM_PKT_HOOK_XDP || hook > BPFVM_PKT_HOOK_CGROUP_SKB_EGRESS) {
		errno = EINVAL;
		return NULL;
	}
	/* an untyped program (raw bytecode) may run anywhere */
	if (prog->type != SEC_PROG_UNSPEC && !hook_fits(hook, prog->type)) {
		errno = EINVAL;
		return NULL;
	}
	int mode = vm_pick_mode(prog, opts ? opts->mode : BPFVM_EXEC_AUTO);
	if (mode < 0 || (mode == BPFVM_EXEC_JIT && jit_prog_ensure(prog, NULL, 0))) {
		errno = mode < 0 ? EINVAL : EOPNOTSUPP;
		return NULL;
	}
	struct bpfvm_pkt_runner *r = pkt_line_alloc(sizeof(*r));
	if (!r)
		return NULL;
	if (opts) {
		size_t n = opts->sz < sizeof(r->opts) ? opts->sz : sizeof(r->opts);
		memcpy(&r->opts, opts, n);
	}
	r->opts.sz = sizeof(r->opts);
	if (!r->opts.ifindex)
		r->opts.ifindex = 1;
	if (r->opts.dev_addr) {
		memcpy(r->dev_addr, r->opts.dev_addr, 6);
		r->has_dev_addr = true;
		r->opts.dev_addr = NULL;
	}
	r->prog = prog;
	r->hook = hook;
	r->mode = mode;
	r->pc = pkt_ctx_new(hook == BPFVM_PKT_HOOK_XDP ? PKT_XDP : PKT_SKB);
	size_t run_sz = (sizeof(struct bpfvm_run) + 63) & ~(size_t)63;
	r->run = aligned_alloc(64, run_sz);
	if (!r->pc || !r->run) {
		pkt_ctx_free(r->pc);
		free(r->run);
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->pc->hook = hook;
	r->pc->prog_type = prog->type;
	if (prog->type == SEC_PROG_UNSPEC)
		r->pc->prog_type = hook == BPFVM_PKT_HOOK_XDP ? SEC_PROG_XDP
				   : hook == BPFVM_PKT_HOOK_SOCKET_FILTER ? SEC_PROG_SOCKET_FILTER
				   : hook >= BPFVM_PKT_HOOK_CGROUP_SKB_INGRESS ? SEC_PROG_CGROUP_SKB
									       : SEC_PROG_SCHED_CLS;
	r->pc->ingress_ifindex = r->opts.ifindex;
	r->pc->rx_queue_index = r->opts.rx_queue_index;
	return r;
}

BPFVM_API void bpfvm_pkt_runner_free(struct bpfvm_pkt_runner *r)
{
	if (!r)
		return;
	pkt_ctx_free(r->pc);
	free(r->run);
	free(r);
}

/* XDP_* and TC_ACT_* values */
enum { XDP_ABORTED_, XDP_DROP_, XDP_PASS_, XDP_TX_, XDP_REDIRECT_ };
#define TC_ACT_SHOT_ 2
#define TC_ACT_STOLEN_ 4
#define TC_ACT_QUEUED_ 5
#define TC_ACT_REDIRECT_ 7
#define TC_ACT_TRAP_ 8

static int decode_xdp(struct pkt_ctx *pc, uint32_t act, struct bpfvm_pkt_result *res)
{
	switch (act) {
	case XDP_DROP_:
		return BPFVM_PKT_DROP;
	case XDP_PASS_:
		return BPFVM_PKT_PASS;
	case XDP_TX_:
		return BPFVM_PKT_TX;
	case XDP_REDIRECT_:
		/* xdp_do_redirect: without a target set by a helper the frame
		 * is dropped; the target is consumed */
		if (!pc->redir.set)
			return BPFVM_PKT_DROP;
		res->redirect_ifindex = pc->redir.ifindex;
		res->redirect_flags = pc->redir.flags;
		res->redirect_map = pc->redir.map;
		res->redirect_map_type = pc->redir.map_type;
		res->redirect_value = pc->redir.value;
		pc->redir.set = false;
		return BPFVM_PKT_REDIRECT;
	default:
		return BPFVM_PKT_ABORTED;
	}
}

static int decode_tc(struct pkt_ctx *pc, int32_t act, struct bpfvm_pkt_result *res)
{
	switch (act) {
	case TC_ACT_SHOT_:
	case TC_ACT_STOLEN_:
	case TC_ACT_QUEUED_:
	case TC_ACT_TRAP_:
		return BPFVM_PKT_DROP;
	case TC_ACT_REDIRECT_:
		/* skb_do_redirect: the target is consumed; none: dropped */
		if (!pc->redir.set || !pc->redir.ifindex) {
			pc->redir.set = false;
			return BPFVM_PKT_DROP;
		}
		res->redirect_ifindex = pc->redir.ifindex;
		res->redirect_flags = pc->redir.flags;
		pc->redir.set = false;
		return BPFVM_PKT_REDIRECT;
	default:
		return BPFVM_PKT_PASS;
	}
}

static void fill_skb_result(const struct pkt_ctx *pc, struct bpfvm_pkt_result *res)
{
	const struct pkt_sk_buff *c = pc->ctx;
	res->data = skb_data(pc);
	res->len = pc->skb.len;
	res->mark = c->mark;
	res->priority = c->priority;
	res->tc_classid = c->tc_classid;
	res->tc_index = c->tc_index;
	res->queue_mapping = c->queue_mapping;
	res->hash = pc->skb.hash;
	res->vlan_present = pc->skb.vlan_present;
	res->vlan_proto = pc->skb.vlan_proto;
	res->vlan_tci = pc->skb.vlan_tci;
	res->tstamp = c->tstamp;
	memcpy(res->cb, c->cb, sizeof(res->cb));
}

BPFVM_API int bpfvm_pkt_runner_run(struct bpfvm_pkt_runner *r, const void *pkt, uint32_t len,
				   struct bpfvm_pkt_result *res)
{
	struct pkt_ctx *pc = r->pc;
	struct bpfvm_run *run = r->run;
	bool redir_set = pc->redir.set;
	int err;

	/* a copy of a constant: gcc makes memset of this size a slow rep stos */
	static const struct bpfvm_pkt_result no_result;

	if (!pkt || !res)
		return -EINVAL;
	*res = no_result;
	if (len < PKT_ETH_HLEN)
		return -EINVAL;
	if (pc->kind == PKT_XDP) {
		if (len > PKT_PAGE - XDP_HEADROOM - PKT_SHINFO_SZ + XDP_MAX_FRAGS * PKT_PAGE)
			return -E2BIG;
		err = xdp_setup(pc, pkt, len, 0, UINT32_MAX);
		if (err)
			return err;
	} else {
		bool l2 = r->hook != BPFVM_PKT_HOOK_CGROUP_SKB_INGRESS &&
			  r->hook != BPFVM_PKT_HOOK_CGROUP_SKB_EGRESS;
		if (len > SKB_RUNNER_MAX)
			return -E2BIG;
		skb_setup(pc, pkt, len, l2, r->has_dev_addr ? r->dev_addr : NULL, !r->has_dev_addr);
		pc->skb.ifindex = r->opts.ifindex;
		switch (r->hook) {
		case BPFVM_PKT_HOOK_TC_INGRESS:
			pc->skb.tc_at_ingress = true;
			pc->skb.skb_iif = r->opts.ifindex;
			skb_vlan_untag(pc);
			break;
		case BPFVM_PKT_HOOK_TC_EGRESS:
		case BPFVM_PKT_HOOK_CGROUP_SKB_EGRESS:
			pc->skb.pkt_type = 0;	/* PACKET_HOST: locally sent */
			break;
		default:
			pc->skb.skb_iif = r->opts.ifindex;
			break;
		}
		pc->skb.wire_len = pc->skb.len;
		skb_sync_ctx(pc);
	}
	/* bpf_redirect_info lives on across packets, as the kernel's per-CPU one */
	pc->redir.set = redir_set;

	vm_run_init(run, r->prog, r->mode == BPFVM_EXEC_CHECKED);
	run->user = r->opts.user;
	run->cpu = r->opts.cpu;
	run->err_buf = r->opts.err_buf;
	run->err_size = r->opts.err_size;
	if (r->opts.insn_budget)
		run->budget = run->budget_total = r->opts.insn_budget;
	err = pkt_attach(pc, run);
	if (err)
		return err;
	uint64_t r0 = vm_exec(run, r->prog, r->mode, (uint64_t)(uintptr_t)pc->ctx, 0);
	pc->run = NULL;
	if (run->err) {
		res->action = BPFVM_PKT_ABORTED;
		return run->err;
	}
	res->retval = r0;
	if (pc->kind == PKT_XDP) {
		res->action = decode_xdp(pc, (uint32_t)r0, res);
		if (pc->has_frags) {
			uint32_t total = xdp_copy_out(pc, NULL, 0, false);
			if (pc->linear_sz < total) {
				uint8_t *p = realloc(pc->linear, total);
				if (!p)
					return -ENOMEM;
				pc->linear = p;
				pc->linear_sz = total;
			}
			xdp_copy_out(pc, pc->linear, total, false);
			res->data = pc->linear;
			res->len = total;
		} else {
			res->data = pc->data;
			res->len = (uint32_t)(pc->data_end - pc->data);
		}
		res->meta = pc->data_meta;
		res->meta_len = (uint32_t)(pc->data - pc->data_meta);
		return 0;
	}
	skb_finish(pc);
	fill_skb_result(pc, res);
	switch (r->hook) {
	case BPFVM_PKT_HOOK_TC_INGRESS:
	case BPFVM_PKT_HOOK_TC_EGRESS:
		res->action = decode_tc(pc, (int32_t)r0, res);
		break;
	case BPFVM_PKT_HOOK_SOCKET_FILTER:
		res->action = (uint32_t)r0 ? BPFVM_PKT_PASS : BPFVM_PKT_DROP;
		if ((uint32_t)r0 < res->len)
			res->len = (uint32_t)r0;
		break;
	default:
		res->action = (r0 & 1) ? BPFVM_PKT_PASS : BPFVM_PKT_DROP;
		break;
	}
	return 0;
}
