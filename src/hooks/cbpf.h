/* cbpf.h — classic BPF inside bpfvm: the checker, the translator to eBPF and the
 * runner that socket filters (cbpf.c) and seccomp filters (seccomp.c) share.
 *
 * The translation keeps the kernel's register assignment: A = r0, X = r7,
 * ctx = r6, a temporary in r2, M[k] at r10 - 4*(k+1).  Packet loads become eBPF
 * ld_abs/ld_ind, which read the run's packet (struct bpfvm_run .pkt/.pkt_len) and
 * end the program with 0 when out of range — classic BPF's rule.
 */
#ifndef BPFVM_HOOKS_CBPF_H
#define BPFVM_HOOKS_CBPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfvm.h"
#include "bpfvm/cbpf.h"

/* BPF_LDX | BPF_W | BPF_ABS: a 32-bit load from the context; only produced by
 * seccomp's rewrite of `ld [k]` (kernel: seccomp_check_filter) */
#define CBPF_LDX_W_ABS (BPF_LDX | BPF_W | BPF_ABS)

/* bpfvm's own helper IDs for the ancillary loads that are calls in the kernel */
#define CBPF_HELPER_PAY_OFFSET 4093
#define CBPF_HELPER_NLATTR 4094
#define CBPF_HELPER_NLATTR_NEST 4095

/* The kernel's bpf_check_classic(): 0, or -EINVAL with a message naming the
 * instruction index in log. */
int cbpf_check(const struct bpfvm_sock_filter *f, size_t cnt, char *log, size_t log_sz);

/* The kernel's bpf_convert_filter() for a program cbpf_check() accepted (and, for
 * seccomp, seccomp_check() rewrote).  Ancillary loads and `ld len` read struct
 * bpfvm_cbpf_ctx through r6.  On success *out (malloc'd) and *out_cnt are set and
 * 0 returned; else -EINVAL (a jump too far after expansion) or -ENOMEM with a
 * message in log. */
int cbpf_translate(const struct bpfvm_sock_filter *f, size_t cnt, struct bpf_insn **out,
		   size_t *out_cnt, char *log, size_t log_sz);

/* Build a program from a translation: registers the ancillary-load helpers and
 * marks it safe (a translation only touches fixed stack slots, fixed context
 * fields and bounds-checked packet bytes).  NULL with errno set on failure. */
struct bpfvm_prog *cbpf_prog_new(const struct bpf_insn *insns, size_t cnt, const char *name,
				 char *log, size_t log_sz);

/* Run a translated program: r1 = ctx (ctx_sz readable bytes, at least 64 so that
 * any classic translation stays inside), packet loads read pkt[0..pkt_len).
 * checked selects the bounds-checking interpreter, which is also used for a
 * program cbpf_prog_new() did not build.  Returns 0
 * with *r0 set, or the run's negative errno with err filled. */
int cbpf_exec(struct bpfvm_prog *prog, const void *ctx, size_t ctx_sz, const uint8_t *pkt,
	      uint32_t pkt_len, bool checked, uint64_t *r0, char *err, size_t err_sz);

/* Mnemonic of a classic opcode ("ldh", "jeq", "ret", ...) or NULL if invalid. */
const char *cbpf_mnemonic(uint16_t code);

#endif
