// SPDX-License-Identifier: GPL-2.0
/* xdp_firewall_pcpu.bpf.c — the demo firewall (examples/xdp_firewall.bpf.c)
 * with per-CPU flow counters, for bench/bench_pkt.c's --threads rows.
 *
 * The demo counts each flow in one shared LRU hash value with atomic adds, so
 * two CPUs seeing the same flows fight over the same cache lines (in the
 * kernel as in bpfvm): that bounds its scaling, not the engine's.  Written
 * for many CPUs, as one would for the kernel, the flows map is an
 * LRU_PERCPU_HASH and each CPU adds to its own copy (FIREWALL_PERCPU_FLOWS).
 * Everything else — parsing, blocklist, verdicts — is the demo's own code.
 *
 * Build (from the repository root; the .o is committed):
 *   clang -O2 -g -target bpf -mcpu=v3 -I /usr/include/x86_64-linux-gnu \
 *         -c bench/objects/xdp_firewall_pcpu.bpf.c -o bench/objects/xdp_firewall_pcpu.bpf.o
 */
#define FIREWALL_PERCPU_FLOWS 1
#include "../../examples/xdp_firewall.bpf.c"
