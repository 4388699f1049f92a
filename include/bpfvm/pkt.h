/* bpfvm/pkt.h — running packet programs (XDP, TC, socket filters, cgroup skb).
 *
 * Two ways in:
 *   - bpfvm_prog_test_run() mirrors the kernel's BPF_PROG_TEST_RUN: the same
 *     input checks and errno values, the same packet layout (headroom,
 *     tailroom, multi-buffer XDP past one page), the same context defaults
 *     and the same data_out / ctx_out.  Use it to compare with the kernel;
 *   - a packet runner (bpfvm_pkt_runner_*) runs one program over many
 *     packets, as the kernel would at a hook (XDP, TC ingress/egress, a
 *     socket, a cgroup), and reports the decoded verdict, the output packet
 *     and the redirect target.  One runner per thread; no allocation per
 *     packet.
 * Contexts are the kernel's uapi structs (struct xdp_md, struct __sk_buff)
 * placed in the low 4 GiB of the address space together with the packet, so
 * the 32-bit data/data_end/data_meta fields hold real pointers.
 * Included by <bpfvm.h>.
 */
#ifndef BPFVM_PKT_H
#define BPFVM_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef BPFVM_API	/* also defined, identically, by <bpfvm.h> */
#if defined(__GNUC__) || defined(__clang__)
#define BPFVM_API __attribute__((visibility("default")))
#else
#define BPFVM_API
#endif
#endif

struct bpfvm_prog;
struct bpfvm_map;

/* ------------------------------------------------------------ test run -- */

/* flags, the kernel's BPF_F_TEST_* values */
#define BPFVM_F_TEST_RUN_ON_CPU (1u << 0)
#define BPFVM_F_TEST_XDP_LIVE_FRAMES (1u << 1)	/* not supported: -EOPNOTSUPP */
#define BPFVM_F_TEST_SKB_CHECKSUM_COMPLETE (1u << 2)

struct bpfvm_test_run_opts {
	size_t sz;
	const void *data_in;		/* the packet (for XDP/skb programs) */
	uint32_t data_size_in;
	void *data_out;			/* may be NULL */
	/* in: size of data_out (0: no limit, as the kernel); out: the size of
	 * the whole output, also when it did not fit (-ENOSPC) */
	uint32_t data_size_out;
	const void *ctx_in;		/* struct xdp_md / struct __sk_buff / raw */
	uint32_t ctx_size_in;
	void *ctx_out;
	uint32_t ctx_size_out;		/* in: size of ctx_out; out: the ctx size */
	uint32_t repeat;		/* 0 and 1: once; the packet is reused */
	uint32_t flags;			/* BPFVM_F_TEST_* */
	uint32_t cpu;			/* with BPFVM_F_TEST_RUN_ON_CPU */
	int mode;			/* enum bpfvm_exec_mode */
	char *err_buf;			/* why the run stopped with an error */
	size_t err_size;
	/* output */
	uint32_t retval;		/* r0 (32 bits, as the kernel reports it) */
	uint64_t duration_ns;		/* mean per repetition */
};

/* Run prog once (or `repeat` times) on the given input, dispatching on its
 * program type as the kernel does: XDP; SCHED_CLS/SCHED_ACT (the packet starts
 * at the Ethernet header); SOCKET_FILTER and CGROUP_SKB (the packet starts at
 * the network header; data_out has the 14-byte Ethernet header zeroed, as the
 * kernel's); any other type gets ctx_in as plain memory in r1 (data_in, when
 * given, as ld_abs data).  Returns 0, or a negative errno: the kernel's for
 * input it refuses (-EINVAL: frame shorter than 14 bytes or too long, bad
 * ctx_in fields, flags; -E2BIG: ctx_in has non-zero bytes past the struct;
 * -ENOMEM: more than 17 XDP fragments; -ENOSPC: data_out/ctx_out too small,
 * with the sizes and retval still set), -ENODEV for an unknown ifindex, or the
 * run's own error (-EFAULT out-of-bounds access, ... see bpfvm_prog_run; the
 * message is in err_buf). */
BPFVM_API int bpfvm_prog_test_run(struct bpfvm_prog *prog, struct bpfvm_test_run_opts *opts);

/* ------------------------------------------------------------- runners -- */

enum bpfvm_pkt_hook {
	BPFVM_PKT_HOOK_XDP = 1,
	BPFVM_PKT_HOOK_TC_INGRESS,	/* data at the MAC header, outer VLAN tag
					 * moved to the skb's vlan fields */
	BPFVM_PKT_HOOK_TC_EGRESS,	/* data at the MAC header */
	BPFVM_PKT_HOOK_SOCKET_FILTER,	/* as an AF_PACKET socket: data at the MAC
					 * header (ld_abs offset 12 = EtherType) */
	BPFVM_PKT_HOOK_CGROUP_SKB_INGRESS,	/* data at the network header */
	BPFVM_PKT_HOOK_CGROUP_SKB_EGRESS,
};

/* What the program decided, in one vocabulary for every hook. */
enum bpfvm_pkt_action {
	BPFVM_PKT_ABORTED = 0,	/* XDP_ABORTED or an invalid XDP action */
	BPFVM_PKT_DROP,		/* XDP_DROP, TC_ACT_SHOT/STOLEN/QUEUED/TRAP, filter 0, cgroup deny */
	BPFVM_PKT_PASS,		/* XDP_PASS, TC_ACT_OK/UNSPEC/PIPE/..., filter > 0, cgroup allow */
	BPFVM_PKT_TX,		/* XDP_TX */
	BPFVM_PKT_REDIRECT,	/* XDP_REDIRECT, TC_ACT_REDIRECT */
};

struct bpfvm_pkt_runner_opts {
	size_t sz;
	int mode;			/* enum bpfvm_exec_mode */
	int cpu;			/* the runner's "CPU" (per-CPU maps) */
	uint32_t ifindex;		/* the device the hook sits on (default 1) */
	uint32_t rx_queue_index;	/* XDP rx_queue_index (default 0) */
	/* the device's MAC address, for skb->pkt_type; without it every
	 * unicast frame is PACKET_HOST */
	const uint8_t *dev_addr;
	uint64_t insn_budget;		/* checked mode; 0: default */
	void *user;			/* bpfvm_run_user() */
	char *err_buf;			/* why a run stopped with an error */
	size_t err_size;
};

struct bpfvm_pkt_result {
	uint64_t retval;		/* r0 */
	int action;			/* enum bpfvm_pkt_action */
	/* the packet after the program (valid until the next run): XDP from
	 * data (metadata in meta/meta_len), TC and socket filters from the MAC
	 * header, cgroup skb from the network header; for socket filters len is
	 * the number of bytes kept: min(r0, packet length) */
	const uint8_t *data;
	uint32_t len;
	const uint8_t *meta;
	uint32_t meta_len;
	/* REDIRECT: bpf_redirect's ifindex and flags, or bpf_redirect_map's map,
	 * key and flags (redirect_value: the map's slot for the key, e.g. the
	 * struct bpf_devmap_val; NULL with BPF_F_BROADCAST) */
	uint32_t redirect_ifindex;
	uint64_t redirect_flags;
	struct bpfvm_map *redirect_map;
	uint32_t redirect_map_type;
	const void *redirect_value;
	/* skb hooks: the skb's fields after the run */
	uint32_t mark, priority, tc_classid, tc_index, queue_mapping, hash;
	uint16_t vlan_proto, vlan_tci;	/* network / host order, as __sk_buff */
	bool vlan_present;
	uint64_t tstamp;
	uint32_t cb[5];
};

struct bpfvm_pkt_runner;

/* A runner for prog at `hook`.  NULL with errno set: EINVAL (unknown hook,
 * program type that cannot run there), ENOMEM (no low memory for the
 * context: see bpfvm/pkt.h's introduction). */
BPFVM_API struct bpfvm_pkt_runner *bpfvm_pkt_runner_new(struct bpfvm_prog *prog, int hook,
							const struct bpfvm_pkt_runner_opts *opts);
/* Run the program on one packet (copied in).  Returns 0 with *result set, or a
 * negative errno: -EINVAL (packet shorter than 14 bytes: the kernel never
 * sees such a frame), -E2BIG (larger than the hook takes: 73,152 bytes for
 * XDP, 65,535 for skb hooks), or the run's error (result->action is then
 * BPFVM_PKT_ABORTED; err_buf says why). */
BPFVM_API int bpfvm_pkt_runner_run(struct bpfvm_pkt_runner *r, const void *pkt, uint32_t len,
				   struct bpfvm_pkt_result *result);
BPFVM_API void bpfvm_pkt_runner_free(struct bpfvm_pkt_runner *r);

#ifdef __cplusplus
}
#endif

#endif
