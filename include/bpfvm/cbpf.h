/* bpfvm/cbpf.h — classic BPF: socket filters and seccomp filters.
 *
 * A classic (cBPF) program is checked as the kernel's bpf_check_classic() does,
 * then translated to eBPF as bpf_convert_filter() does (A in r0, X in r7, the
 * context in r6, the scratch words M[0..15] on the stack) and built into an
 * ordinary struct bpfvm_prog: run it with bpfvm_cbpf_run() (socket filter over a
 * packet) or bpfvm_seccomp_run() (seccomp filter over a struct seccomp_data), free
 * it with bpfvm_prog_free(), inspect the translation with bpfvm_prog_insns().
 *
 * Programs come as an array of struct bpfvm_sock_filter (the layout of
 * <linux/filter.h>'s struct sock_filter), parsed from `tcpdump -dd`/`-ddd` text or
 * a raw binary array by bpfvm_cbpf_parse(), or compiled from a tcpdump expression
 * by libpcap when the library can be loaded at run time (bpfvm_cbpf_from_expr()).
 *
 * Socket-filter context.  The packet is what ld abs/ind/msh read (offsets are
 * from the Ethernet header; SKF_LL_OFF + k reads byte k, SKF_NET_OFF + k reads
 * byte net_off + k).  The ancillary loads (ld [SKF_AD_OFF + SKF_AD_x]) and
 * `ld len` read struct bpfvm_cbpf_ctx below, which stands for the kernel's
 * sk_buff; bpfvm_cbpf_ctx_init() fills it from the packet bytes.  SKF_AD_CPU is
 * the run's CPU (0), SKF_AD_RANDOM bpf_get_prandom_u32(), SKF_AD_PAY_OFFSET the
 * flow dissector's payload offset, SKF_AD_NLATTR/_NEST search netlink attributes
 * in the packet, as in the kernel.
 */
#ifndef BPFVM_CBPF_H
#define BPFVM_CBPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef BPFVM_API
#if defined(__GNUC__) || defined(__clang__)
#define BPFVM_API __attribute__((visibility("default")))
#else
#define BPFVM_API
#endif
#endif

struct bpfvm_prog;

/* one classic instruction: <linux/filter.h> struct sock_filter */
struct bpfvm_sock_filter {
	uint16_t code;
	uint8_t jt;		/* jump offset when true */
	uint8_t jf;		/* jump offset when false */
	uint32_t k;
};

#define BPFVM_CBPF_MAX_INSNS 4096	/* BPF_MAXINSNS */

/* classic-only encodings (the shared ones are in bpfvm/insn.h) */
#ifndef BPF_RVAL
#define BPF_RVAL(code) ((code) & 0x18)
#endif
#ifndef BPF_A
#define BPF_A 0x10
#endif
#ifndef BPF_MISCOP
#define BPF_MISCOP(code) ((code) & 0xf8)
#endif
#ifndef BPF_TAX
#define BPF_TAX 0x00
#endif
#ifndef BPF_TXA
#define BPF_TXA 0x80
#endif
#ifndef BPF_MEMWORDS
#define BPF_MEMWORDS 16
#endif
#ifndef SKF_AD_OFF
#define SKF_AD_OFF (-0x1000)
#define SKF_AD_PROTOCOL 0
#define SKF_AD_PKTTYPE 4
#define SKF_AD_IFINDEX 8
#define SKF_AD_NLATTR 12
#define SKF_AD_NLATTR_NEST 16
#define SKF_AD_MARK 20
#define SKF_AD_QUEUE 24
#define SKF_AD_HATYPE 28
#define SKF_AD_RXHASH 32
#define SKF_AD_CPU 36
#define SKF_AD_ALU_XOR_X 40
#define SKF_AD_VLAN_TAG 44
#define SKF_AD_VLAN_TAG_PRESENT 48
#define SKF_AD_PAY_OFFSET 52
#define SKF_AD_RANDOM 56
#define SKF_AD_VLAN_TPID 60
#define SKF_AD_MAX 64
#define SKF_NET_OFF (-0x100000)
#define SKF_LL_OFF (-0x200000)
#endif

/* What a socket filter's ancillary loads read (the kernel's sk_buff fields).
 * The layout is fixed: the translated program reads it at these offsets. */
struct bpfvm_cbpf_ctx {
	uint32_t len;		/*  0: `ld len`: bytes on the wire */
	uint16_t protocol;	/*  4: SKF_AD_PROTOCOL: EtherType, network byte order */
	uint8_t pkt_type;	/*  6: SKF_AD_PKTTYPE: PACKET_HOST 0, BROADCAST 1, MULTICAST 2,
				 *     OTHERHOST 3, OUTGOING 4 (low 3 bits are seen) */
	uint8_t vlan_present;	/*  7: SKF_AD_VLAN_TAG_PRESENT (bit 0) */
	uint32_t ifindex;	/*  8: SKF_AD_IFINDEX */
	uint16_t hatype;	/* 12: SKF_AD_HATYPE: ARPHRD_ETHER 1 */
	uint16_t queue_mapping;	/* 14: SKF_AD_QUEUE */
	uint32_t mark;		/* 16: SKF_AD_MARK */
	uint32_t hash;		/* 20: SKF_AD_RXHASH */
	uint16_t vlan_tci;	/* 24: SKF_AD_VLAN_TAG */
	uint16_t vlan_proto;	/* 26: SKF_AD_VLAN_TPID, network byte order */
	uint32_t net_off;	/* 28: where the network header starts (SKF_NET_OFF) */
};

/* Fill *ctx for a packet of `caplen` captured bytes that had `wire_len` bytes on
 * the wire: protocol and pkt_type from the Ethernet header (as eth_type_trans()),
 * net_off past the Ethernet header and any 802.1Q/802.1ad tags in the bytes,
 * ifindex 1, hatype ARPHRD_ETHER, everything else 0. */
BPFVM_API void bpfvm_cbpf_ctx_init(struct bpfvm_cbpf_ctx *ctx, const void *pkt, size_t caplen,
				   size_t wire_len);

struct bpfvm_cbpf_opts {
	size_t sz;
	const char *name;	/* for messages; default "cbpf" or "seccomp" */
	char *log_buf;		/* why the program was refused */
	size_t log_size;
};

/* Check a classic socket filter (opcodes, jumps inside the program, ends in ret,
 * no division by constant 0, shifts below 32, M[] indices below 16 and never read
 * before written, known ancillary loads) and translate it to eBPF.  Returns the
 * program, or NULL with errno set (EINVAL, E2BIG, ENOMEM) and log_buf naming the
 * instruction index and the problem. */
BPFVM_API struct bpfvm_prog *bpfvm_cbpf_compile(const struct bpfvm_sock_filter *insns,
						size_t insn_cnt,
						const struct bpfvm_cbpf_opts *opts);

/* Run a socket filter compiled by bpfvm_cbpf_compile() on `len` bytes (a context
 * from bpfvm_cbpf_ctx_init(pkt, len, len)).  On success returns 0 and *ret is the
 * filter's result: how many bytes to keep, 0 to drop.  Negative errno when the
 * run failed (a bug: translated programs cannot fault). */
BPFVM_API int bpfvm_cbpf_run(struct bpfvm_prog *prog, const void *pkt, size_t len,
			     uint32_t *ret);
/* The same with a context the caller filled; `caplen` bytes are readable. */
BPFVM_API int bpfvm_cbpf_run_ctx(struct bpfvm_prog *prog, const struct bpfvm_cbpf_ctx *ctx,
				 const void *pkt, size_t caplen, uint32_t *ret);

/* Parse a classic program: `tcpdump -dd` text ("{ 0x28, 0, 0, 0x0000000c },"
 * lines), `tcpdump -ddd` / bpf_asm text (a count, then "code jt jf k" groups
 * separated by newlines or commas), or a raw array of 8-byte sock_filter
 * structures in host byte order.  On success *insns (malloc'd; free() it) and
 * *insn_cnt are set and 0 returned; else -EINVAL/-E2BIG/-ENOMEM and err_buf says
 * which line and why. */
BPFVM_API int bpfvm_cbpf_parse(const void *buf, size_t size, struct bpfvm_sock_filter **insns,
			       size_t *insn_cnt, char *err_buf, size_t err_size);

/* Compile a tcpdump filter expression with libpcap (pcap_compile, optimised, as
 * tcpdump does for a capture of this link type and snaplen; linktype 1 is
 * Ethernet).  libpcap is loaded at run time (libpcap.so.0.8 / .so.1 / .so):
 * -EOPNOTSUPP when it is not installed, -EINVAL with libpcap's message for a bad
 * expression.  Output as bpfvm_cbpf_parse(). */
BPFVM_API int bpfvm_cbpf_from_expr(const char *expr, uint32_t linktype, uint32_t snaplen,
				   struct bpfvm_sock_filter **insns, size_t *insn_cnt,
				   char *err_buf, size_t err_size);
/* Can bpfvm_cbpf_from_expr() work here (is libpcap loadable)? */
BPFVM_API bool bpfvm_cbpf_have_libpcap(void);

/* Classic program as text, one instruction a line in tcpdump -d's style
 * ("(004) jeq      #0x800           jt 5	jf 9"); malloc'd, NULL with errno set. */
BPFVM_API char *bpfvm_cbpf_disasm(const struct bpfvm_sock_filter *insns, size_t insn_cnt);

/* ---------------------------------------------------------------- seccomp -- */

/* <linux/seccomp.h> struct seccomp_data */
struct bpfvm_seccomp_data {
	int32_t nr;			/* system call number */
	uint32_t arch;			/* AUDIT_ARCH_* */
	uint64_t instruction_pointer;
	uint64_t args[6];
};

#define BPFVM_AUDIT_ARCH_X86_64 0xc000003eu
#define BPFVM_AUDIT_ARCH_I386 0x40000003u
#define BPFVM_AUDIT_ARCH_AARCH64 0xc00000b7u

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#define SECCOMP_RET_KILL_THREAD 0x00000000U
#define SECCOMP_RET_TRAP 0x00030000U
#define SECCOMP_RET_ERRNO 0x00050000U
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#define SECCOMP_RET_TRACE 0x7ff00000U
#define SECCOMP_RET_LOG 0x7ffc0000U
#define SECCOMP_RET_ALLOW 0x7fff0000U
#define SECCOMP_RET_ACTION_FULL 0xffff0000U
#define SECCOMP_RET_DATA 0x0000ffffU
#endif

/* Check a seccomp filter as the kernel does (bpf_check_classic, then
 * seccomp_check_filter: only the listed instructions, loads only of aligned
 * 32-bit words inside struct seccomp_data; `ld len` is the struct's size) and
 * translate it.  NULL with errno and log_buf as bpfvm_cbpf_compile(). */
BPFVM_API struct bpfvm_prog *bpfvm_seccomp_compile(const struct bpfvm_sock_filter *insns,
						   size_t insn_cnt,
						   const struct bpfvm_cbpf_opts *opts);
/* Evaluate a seccomp filter: 0 and *ret = the filter's SECCOMP_RET_* value. */
BPFVM_API int bpfvm_seccomp_run(struct bpfvm_prog *prog, const struct bpfvm_seccomp_data *sd,
				uint32_t *ret);
/* The action the kernel takes for a filter result, as text: "ALLOW", "LOG",
 * "ERRNO(13)", "TRACE(7)", "TRAP(0)", "USER_NOTIF", "KILL_THREAD",
 * "KILL_PROCESS"; an unknown action is KILL_PROCESS, as in the kernel.  ERRNO
 * data is capped at 4095 (MAX_ERRNO).  Returns snprintf's count. */
BPFVM_API int bpfvm_seccomp_action_str(uint32_t ret, char *buf, size_t size);
/* AUDIT_ARCH_* for "x86_64", "i386", "aarch64" (also "x86-64", "x86", "arm64"),
 * or 0 when unknown. */
BPFVM_API uint32_t bpfvm_seccomp_arch(const char *name);
/* System call number of `name` on `arch` (a common subset), or -ENOENT. */
BPFVM_API int bpfvm_seccomp_syscall_nr(uint32_t arch, const char *name);
/* Name of system call `nr` on `arch`, or NULL when not in the table. */
BPFVM_API const char *bpfvm_seccomp_syscall_name(uint32_t arch, int nr);

#ifdef __cplusplus
}
#endif

#endif
