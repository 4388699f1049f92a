/* test_run.c — bpfvm_prog_test_run(): the kernel's BPF_PROG_TEST_RUN
 * (net/bpf/test_run.c) for XDP, TC, socket filter and cgroup skb programs,
 * and a plain-memory run for every other program type.
 *
 * What is reproduced, as measured on the reference kernel: the input checks
 * and their errno values, the buffer layout (XDP: 256 bytes of headroom of
 * which 216 usable, 320 bytes of tailroom, fragments past 3,520 bytes; skb:
 * at most 3,712 bytes), the context fields the program sees (ingress_ifindex
 * 1 = loopback, pkt_type/protocol from eth_type_trans against loopback's zero
 * address, wire_len 0 unless a ctx is given), what goes back in data_out (for
 * socket filters and cgroup skb the Ethernet header is zeroed, since the
 * kernel runs them from the network header) and ctx_out, and the kernel's
 * peculiar clamping of a too-small data_out.  With repeat > 1 the same buffer
 * is run again, edits accumulating, as in the kernel.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "exec/jit.h"
#include "exec/vm.h"
#include "hooks/pkt.h"
#include "loader/sections.h"

#define GSO_MAX_SEGS 65535u
#define GSO_LEGACY_MAX_SIZE 65536u

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int fail(struct bpfvm_test_run_opts *o, int err, const char *msg)
{
	if (o->err_buf && o->err_size)
		snprintf(o->err_buf, o->err_size, "%s", msg);
	return err;
}

/* bpf_ctx_init: a zeroed ctx of `max` bytes with ctx_in copied in; NULL
 * when there is neither ctx_in nor ctx_out (*err 0) or on error */
static void *ctx_init(struct bpfvm_test_run_opts *o, uint32_t max, int *err)
{
	*err = 0;
	if (!o->ctx_in && !o->ctx_out)
		return NULL;
	uint8_t *c = calloc(1, max);
	if (!c) {
		*err = -ENOMEM;
		return NULL;
	}
	if (o->ctx_in) {
		const uint8_t *in = o->ctx_in;
		for (uint32_t i = max; i < o->ctx_size_in; i++)
			if (in[i]) {
				free(c);
				*err = -E2BIG;
				return NULL;
			}
		memcpy(c, in, o->ctx_size_in < max ? o->ctx_size_in : max);
	}
	return c;
}

/* bpf_test_finish: data_out, data_size_out, retval, duration */
static int test_finish(struct bpfvm_test_run_opts *o, const struct pkt_ctx *pc, bool xdp,
		       const uint8_t *data, uint32_t size, uint32_t retval, uint64_t dur)
{
	uint32_t copy = size;
	int err = 0;

	if (o->data_size_out && copy > o->data_size_out) {
		copy = o->data_size_out;
		err = -ENOSPC;
	}
	if (o->data_out) {
		uint8_t *out = o->data_out;
		int64_t len = xdp ? (int64_t)copy - pc->frags_size : copy;
		if (len < 0)
			return -ENOSPC;	/* nothing written, sizes not updated */
		memcpy(out, data, (size_t)len);
		if (xdp) {
			uint32_t off = (uint32_t)len;
			for (uint32_t i = 0; i < pc->nr_frags; i++) {
				if (off >= copy) {
					err = -ENOSPC;
					break;
				}
				uint32_t n = pc->frags[i].size < copy - off ? pc->frags[i].size
									    : copy - off;
				memcpy(out + off, pc->frags[i].page, n);
				off += n;
			}
		}
	}
	o->data_size_out = size;
	o->retval = retval;
	o->duration_ns = dur;
	return err;
}

/* bpf_ctx_finish */
static int ctx_finish(struct bpfvm_test_run_opts *o, const void *ctx, uint32_t size)
{
	uint32_t copy = size;
	int err = 0;
	if (!ctx || !o->ctx_out)
		return 0;
	if (copy > o->ctx_size_out) {
		copy = o->ctx_size_out;
		err = -ENOSPC;
	}
	memcpy(o->ctx_out, ctx, copy);
	o->ctx_size_out = size;
	return err;
}

/* Run prog `repeat` times on pc; returns the last r0 in *r0, the mean time
 * in *dur, or the run's error. */
static int run_repeat(struct bpfvm_prog *prog, int mode, struct pkt_ctx *pc,
		      struct bpfvm_test_run_opts *o, uint32_t *r0, uint64_t *dur, int cpu)
{
	uint32_t repeat = o->repeat ? o->repeat : 1;
	size_t run_sz = (sizeof(struct bpfvm_run) + 63) & ~(size_t)63;
	struct bpfvm_run *run = aligned_alloc(64, run_sz);
	uint64_t t0 = now_ns(), ret = 0;
	int err = 0;

	if (!run)
		return -ENOMEM;
	for (uint32_t i = 0; i < repeat && !err; i++) {
		vm_run_init(run, prog, mode == BPFVM_EXEC_CHECKED);
		run->cpu = cpu;
		run->err_buf = o->err_buf;
		run->err_size = o->err_size;
		err = pkt_attach(pc, run);
		if (err)
			break;
		ret = vm_exec(run, prog, mode, (uint64_t)(uintptr_t)pc->ctx, 0);
		err = run->err;
		pc->run = NULL;
		if (pc->kind == PKT_SKB)
			skb_finish(pc);	/* the next repetition reads stored widths */
	}
	*dur = (now_ns() - t0) / repeat;
	*r0 = (uint32_t)ret;
	free(run);
	return err;
}

/* ------------------------------------------------------------------ XDP */

/* may an XDP test run name this device and queue?  The kernel wants a
 * registered XDP receive queue below the device's count; bpfvm can only
 * check that the queue exists (loopback has one). */
static int xdp_rxq_ok(uint32_t ifindex, uint32_t queue)
{
	char name[IF_NAMESIZE], path[128];
	if (!if_indextoname(ifindex, name))
		return -ENODEV;
	if (ifindex == 1)
		return queue == 0 ? 0 : -EINVAL;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues/rx-%u", name, queue);
	return access(path, F_OK) == 0 ? 0 : -EINVAL;
}

static int test_run_xdp(struct bpfvm_prog *prog, int mode, struct bpfvm_test_run_opts *o)
{
	uint32_t headroom = XDP_HEADROOM, size = o->data_size_in, max_data, ret32 = 0;
	struct pkt_xdp_md *md;
	struct pkt_ctx *pc;
	uint64_t dur = 0;
	int err;

	if (prog->expected_attach_type == SEC_ATTACH_XDP_DEVMAP ||
	    prog->expected_attach_type == SEC_ATTACH_XDP_CPUMAP)
		return fail(o, -EINVAL, "XDP programs for device or CPU maps cannot be test-run");
	if (o->flags & ~BPFVM_F_TEST_XDP_LIVE_FRAMES)
		return fail(o, -EINVAL, "flags other than BPF_F_TEST_XDP_LIVE_FRAMES");
	if (o->flags & BPFVM_F_TEST_XDP_LIVE_FRAMES)
		return fail(o, -EOPNOTSUPP, "live-frame XDP test runs are not supported");
	md = ctx_init(o, sizeof(*md), &err);
	if (err)
		return fail(o, err, "ctx_in has non-zero bytes past struct xdp_md");
	if (md) {
		/* data_end, when below the input size, is the linear part's
		 * length (metadata included): the rest goes to fragments, as
		 * Linux 6.18 does (measured) */
		if (md->data_meta || md->data_end > size || md->data > md->data_end ||
		    (md->data & 3) || md->data > XDP_MAX_META) {
			free(md);
			return fail(o, -EINVAL, "ctx_in: data_meta must be 0, data_end at most the "
					       "input size, data a metadata length (multiple of 4, "
					       "at most 216) not past data_end");
		}
		headroom -= md->data;
	}
	max_data = PKT_PAGE - headroom - PKT_SHINFO_SZ;
	if (size > max_data)
		size = max_data;
	/* the frame after the metadata must hold an Ethernet header (measured) */
	if (size < PKT_ETH_HLEN || (md && o->data_size_in - md->data < PKT_ETH_HLEN) ||
	    !o->data_in) {
		free(md);
		return fail(o, -EINVAL, "XDP frames are at least 14 bytes");
	}
	pc = pkt_ctx_new(PKT_XDP);
	if (!pc) {
		free(md);
		return fail(o, -ENOMEM, "no low memory for the packet context");
	}
	pc->prog_type = prog->type;
	pc->hook = BPFVM_PKT_HOOK_XDP;
	if (md) {
		if (md->egress_ifindex || (!md->ingress_ifindex && md->rx_queue_index))
			err = -EINVAL;
		else if (md->ingress_ifindex)
			err = xdp_rxq_ok(md->ingress_ifindex, md->rx_queue_index);
		if (err) {
			free(md);
			pkt_ctx_free(pc);
			return fail(o, err, "ctx_in: bad ingress_ifindex / rx_queue_index or "
					    "non-zero egress_ifindex");
		}
		if (md->ingress_ifindex) {
			pc->ingress_ifindex = md->ingress_ifindex;
			pc->rx_queue_index = md->rx_queue_index;
		}
	}
	err = xdp_setup(pc, o->data_in, o->data_size_in, md ? md->data : 0,
			md ? md->data_end : UINT32_MAX);
	if (err) {
		free(md);
		pkt_ctx_free(pc);
		return fail(o, err, "more than 17 fragments (MAX_SKB_FRAGS)");
	}
	err = run_repeat(prog, mode, pc, o, &ret32, &dur, 0);
	if (md) {
		md->data = (uint32_t)(pc->data - pc->data_meta);
		md->data_end = (uint32_t)(pc->data_end - pc->data_meta);
	}
	if (!err) {
		uint32_t total = (uint32_t)(pc->data_end - pc->data_meta) + pc->frags_size;
		err = test_finish(o, pc, true, pc->data_meta, total, ret32, dur);
		if (!err)
			err = ctx_finish(o, md, sizeof(*md));
	}
	free(md);
	pkt_ctx_free(pc);
	return err;
}

/* ------------------------------------------------------------------ skb */

static bool range_zero(const uint8_t *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (p[i])
			return false;
	return true;
}

#define OFF(f) offsetof(struct pkt_sk_buff, f)
#define END(f) (offsetof(struct pkt_sk_buff, f) + sizeof(((struct pkt_sk_buff *)0)->f))

/* the fields of struct __sk_buff a test run may set (convert___skb_to_skb) */
static bool skb_ctx_ok(const struct pkt_sk_buff *c)
{
	const uint8_t *p = (const uint8_t *)c;
	return range_zero(p, 0, OFF(mark)) && range_zero(p, END(mark), OFF(priority)) &&
	       range_zero(p, END(ifindex), OFF(cb)) && range_zero(p, END(cb), OFF(tstamp)) &&
	       range_zero(p, END(gso_segs), OFF(gso_size)) &&
	       range_zero(p, END(gso_size), OFF(hwtstamp));
}

/* the MAC address of device ifindex (for pkt_type); 0 or -ENODEV */
static int dev_addr_of(uint32_t ifindex, uint8_t addr[6])
{
	char name[IF_NAMESIZE];
	struct ifreq ifr;
	int fd, ok;

	if (!if_indextoname(ifindex, name))
		return -ENODEV;
	memset(addr, 0, 6);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ok = ioctl(fd, SIOCGIFHWADDR, &ifr) == 0;
	close(fd);
	if (ok)
		memcpy(addr, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static int test_run_skb(struct bpfvm_prog *prog, int mode, struct bpfvm_test_run_opts *o)
{
	bool l2 = prog->type == SEC_PROG_SCHED_CLS || prog->type == SEC_PROG_SCHED_ACT;
	uint32_t size = o->data_size_in, ret32 = 0;
	uint8_t dev_addr[6] = { 0 };
	bool loopback = true;
	struct pkt_sk_buff *c;
	struct pkt_ctx *pc;
	uint64_t dur = 0;
	int err;

	if ((o->flags & ~BPFVM_F_TEST_SKB_CHECKSUM_COMPLETE) || o->cpu)
		return fail(o, -EINVAL, "skb test runs take only BPF_F_TEST_SKB_CHECKSUM_COMPLETE "
				       "and no cpu");
	if (size < PKT_ETH_HLEN || size > PKT_PAGE - SKB_TEST_HEADROOM - PKT_SHINFO_SZ ||
	    !o->data_in)
		return fail(o, -EINVAL, "skb test runs take 14 to 3712 bytes of data");
	c = ctx_init(o, sizeof(*c), &err);
	if (err)
		return fail(o, err, "ctx_in has non-zero bytes past struct __sk_buff");
	if (c && c->ifindex > 1) {
		if (dev_addr_of(c->ifindex, dev_addr)) {
			free(c);
			return fail(o, -ENODEV, "ctx_in: no device with that ifindex");
		}
		loopback = false;
	}
	/* an IPv4/IPv6 frame must hold the network header (measured) */
	uint16_t proto = skb_eth_proto(o->data_in, size);
	if ((proto == ETH_P_IP_BE && size < PKT_ETH_HLEN + 20) ||
	    (proto == ETH_P_IPV6_BE && size < PKT_ETH_HLEN + 40)) {
		free(c);
		return fail(o, -EINVAL, "an IPv4/IPv6 frame shorter than its network header");
	}
	pc = pkt_ctx_new(PKT_SKB);
	if (!pc) {
		free(c);
		return fail(o, -ENOMEM, "no low memory for the packet context");
	}
	pc->prog_type = prog->type;
	pc->hook = l2 ? BPFVM_PKT_HOOK_TC_INGRESS : prog->type == SEC_PROG_SOCKET_FILTER
							? BPFVM_PKT_HOOK_SOCKET_FILTER
							: BPFVM_PKT_HOOK_CGROUP_SKB_INGRESS;
	skb_setup(pc, o->data_in, size, l2, loopback ? NULL : dev_addr, false);
	struct pkt_skb *skb = &pc->skb;
	struct pkt_sk_buff *k = pc->ctx;
	if (c) {
		if (c->ifindex > 1)
			skb->ifindex = c->ifindex;
		err = skb_ctx_ok(c) ? 0 : -EINVAL;
		if (!err && c->wire_len && (c->wire_len < skb->len || c->wire_len > GSO_LEGACY_MAX_SIZE))
			err = -EINVAL;
		if (!err && c->gso_segs > GSO_MAX_SEGS)
			err = -EINVAL;
		if (err) {
			free(c);
			pkt_ctx_free(pc);
			return fail(o, err, "ctx_in: a field test runs do not take is set, or "
					    "wire_len/gso_segs out of range");
		}
		k->mark = c->mark;
		k->priority = c->priority;
		skb->skb_iif = c->ingress_ifindex;
		k->tstamp = c->tstamp;
		memcpy(k->cb, c->cb, sizeof(k->cb));
		skb->wire_len = c->wire_len ? c->wire_len : skb->len;
		skb->gso_segs = c->gso_segs;
		skb->gso_size = c->gso_size;
		skb->hwtstamp = c->hwtstamp;
	}
	if (o->flags & BPFVM_F_TEST_SKB_CHECKSUM_COMPLETE) {
		int32_t off = skb->net - (int32_t)skb->data;
		skb->csum = csum_partial_k(skb_data(pc) + off, skb->len - (uint32_t)off, 0);
		skb->ip_summed = PKT_CSUM_COMPLETE;
	}
	skb_sync_ctx(pc);
	err = run_repeat(prog, mode, pc, o, &ret32, &dur, 0);
	if (!err) {
		if (!l2) {
			/* the kernel puts back a zeroed Ethernet header */
			skb->data -= PKT_ETH_HLEN;
			skb->len += PKT_ETH_HLEN;
			memset(skb_data(pc), 0, PKT_ETH_HLEN);
		}
		if (o->flags & BPFVM_F_TEST_SKB_CHECKSUM_COMPLETE) {
			int32_t off = skb->net - (int32_t)skb->data;
			uint32_t sum = csum_partial_k(skb_data(pc) + off, skb->len - (uint32_t)off, 0);
			if (csum_fold_k(skb->csum) != csum_fold_k(sum))
				err = -EBADMSG;
		}
	}
	if (!err && c) {
		c->mark = k->mark;
		c->priority = k->priority;
		c->ingress_ifindex = skb->skb_iif;
		c->ifindex = skb->ifindex;
		c->tstamp = k->tstamp;
		memcpy(c->cb, k->cb, sizeof(c->cb));
		c->wire_len = skb->wire_len;
		c->gso_segs = skb->gso_segs;
		c->hwtstamp = skb->hwtstamp;
	}
	if (!err) {
		err = test_finish(o, pc, false, skb_data(pc), skb->len, ret32, dur);
		if (!err)
			err = ctx_finish(o, c, sizeof(*c));
	}
	free(c);
	pkt_ctx_free(pc);
	return err;
}

/* ---------------------------------------------------------------- other */

static int test_run_raw(struct bpfvm_prog *prog, struct bpfvm_test_run_opts *o)
{
	void *mem = NULL;
	if (o->ctx_size_in) {
		mem = malloc(o->ctx_size_in);
		if (!mem)
			return -ENOMEM;
		memcpy(mem, o->ctx_in, o->ctx_size_in);
	}
	struct bpfvm_run_opts ro = {
		.sz = sizeof(ro),
		.mem = mem,
		.mem_sz = o->ctx_size_in,
		.repeat = o->repeat,
		.mode = o->mode,
		.cpu = (o->flags & BPFVM_F_TEST_RUN_ON_CPU) ? (int)o->cpu : 0,
		.err_buf = o->err_buf,
		.err_size = o->err_size,
	};
	int err = bpfvm_prog_run(prog, &ro);
	if (!err) {
		o->retval = (uint32_t)ro.retval;
		o->duration_ns = ro.duration_ns;
		o->data_size_out = 0;
		if (mem)
			err = ctx_finish(o, mem, o->ctx_size_in);
	}
	free(mem);
	return err;
}

BPFVM_API int bpfvm_prog_test_run(struct bpfvm_prog *prog, struct bpfvm_test_run_opts *opts)
{
	if (!prog || !opts || opts->sz < offsetof(struct bpfvm_test_run_opts, duration_ns))
		return -EINVAL;
	if (opts->ctx_out && !opts->ctx_size_out)
		return fail(opts, -EINVAL, "ctx_out without ctx_size_out");
	int mode = vm_pick_mode(prog, opts->mode);
	if (mode < 0)
		return fail(opts, -EINVAL, "unknown execution mode");
	if (mode == BPFVM_EXEC_JIT) { /* compiled on first use, as bpfvm_prog_run() does */
		char msg[200] = "";
		if (jit_prog_ensure(prog, msg, sizeof(msg)))
			return fail(opts, -EOPNOTSUPP, msg[0] ? msg : "no JIT code for this program");
	}
	switch (prog->type) {
	case SEC_PROG_XDP:
		return test_run_xdp(prog, mode, opts);
	case SEC_PROG_SCHED_CLS:
	case SEC_PROG_SCHED_ACT:
	case SEC_PROG_SOCKET_FILTER:
	case SEC_PROG_CGROUP_SKB:
		return test_run_skb(prog, mode, opts);
	default:
		return test_run_raw(prog, opts);
	}
}
