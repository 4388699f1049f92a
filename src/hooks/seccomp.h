/* seccomp.h — seccomp filters inside bpfvm (seccomp.c).
 *
 * A seccomp filter is a classic program over struct seccomp_data.  The kernel
 * checks it like a socket filter (cbpf_check), then seccomp_check_filter()
 * narrows the instruction set and rewrites the loads; the translation and the
 * runner are cbpf.c's.
 */
#ifndef BPFVM_HOOKS_SECCOMP_H
#define BPFVM_HOOKS_SECCOMP_H

#include <stddef.h>

#include "bpfvm/cbpf.h"

/* The kernel's seccomp_check_filter() on a program cbpf_check() accepted,
 * rewriting it in place: `ld [k]` becomes a 32-bit context load (k must be a
 * multiple of 4 inside struct seccomp_data), `ld len`/`ldx len` load the
 * struct's size; any other instruction outside seccomp's list is refused.
 * Returns 0 or -EINVAL with a message naming the instruction index. */
int seccomp_check(struct bpfvm_sock_filter *f, size_t cnt, char *log, size_t log_sz);

#endif
