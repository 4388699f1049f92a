/* loader/sections.h — SEC() names to program types, the way libbpf reads them.
 *
 * A program's ELF section name (SEC("xdp"), SEC("kprobe/do_unlinkat"), ...)
 * decides its program type, its expected attach type and a few load flags.
 * sec_def_find() looks a name up in a table with libbpf's section_defs[]
 * entries, order and matching rules:
 *   "name"     matches exactly that name;
 *   "name/"    matches "name/<anything>" (the argument is required);
 *   "name+"    matches "name" alone or "name/<anything>".
 * A leading '?' (SEC("?xdp")) means "do not load automatically"; it is
 * stripped before matching.  Also here: the program type and attach type
 * tables of progtypes.def, by number and by name.
 */
#ifndef BPFVM_LOADER_SECTIONS_H
#define BPFVM_LOADER_SECTIONS_H

#include <stdbool.h>
#include <stdint.h>

enum sec_prog_type {
#define PROG_TYPE(NAME, num, name, ctx) SEC_PROG_##NAME = num,
#include "loader/progtypes.def"
	SEC_PROG_TYPE_CNT
};

enum sec_attach_type {
#define ATTACH_TYPE(NAME, num, name) SEC_ATTACH_##NAME = num,
#include "loader/progtypes.def"
	SEC_ATTACH_TYPE_CNT
};

/* flags of a SEC() definition (libbpf's enum sec_def_flags, same values) */
enum sec_flags {
	SEC_F_EXP_ATTACH_OPT = 1u << 0,	/* expected attach type may be dropped
					 * on kernels that predate it */
	SEC_F_ATTACHABLE = 1u << 1,	/* attached with BPF_PROG_ATTACH */
	SEC_F_ATTACHABLE_OPT = SEC_F_ATTACHABLE | SEC_F_EXP_ATTACH_OPT,
	SEC_F_ATTACH_BTF = 1u << 2,	/* target named by the argument, found in
					 * kernel BTF (fentry/, lsm/, iter/ ...) */
	SEC_F_SLEEPABLE = 1u << 3,	/* loads with BPF_F_SLEEPABLE */
	SEC_F_XDP_FRAGS = 1u << 4,	/* loads with BPF_F_XDP_HAS_FRAGS */
	SEC_F_USDT = 1u << 5,		/* USDT probe (a kprobe underneath) */
};

struct sec_def {
	const char *pattern;	/* "xdp", "kprobe+", "sk_skb/stream_parser" */
	uint32_t prog_type;	/* SEC_PROG_* (= BPF_PROG_TYPE_*) */
	uint32_t attach_type;	/* SEC_ATTACH_* (= BPF_*), 0 when none */
	uint32_t flags;		/* SEC_F_* */
};

struct sec_match {
	const struct sec_def *def;	/* the matching table row */
	uint32_t prog_type;
	uint32_t expected_attach_type;
	uint32_t flags;
	const char *arg;	/* text after "prefix/" inside sec_name ("" when
				 * none): the kprobe function, the tracepoint
				 * "category/name", the fentry target ... */
	bool autoload;		/* false for SEC("?...") */
	char err[192];		/* why the lookup failed */
};

/* Look up sec_name.  Returns 0 and fills *out, or -ESRCH (unknown name) or
 * -EINVAL (NULL or empty name) with the reason in out->err, e.g.
 * `unknown program section "xdp_main": no SEC() definition matches; did you
 * mean "xdp"?`. */
int sec_def_find(const char *sec_name, struct sec_match *out);

/* The whole table, in match order, for listings and tests. */
const struct sec_def *sec_defs(unsigned *cnt);

/* "xdp", "sched_cls" ...; NULL for an unknown number. */
const char *sec_prog_type_name(uint32_t prog_type);
/* The C type of the program's context ("struct xdp_md"); NULL if unknown. */
const char *sec_prog_type_ctx(uint32_t prog_type);
/* "xdp", "cgroup_inet_ingress" ...; NULL for an unknown number. */
const char *sec_attach_type_name(uint32_t attach_type);
/* Number for a name as above, or -ENOENT. */
int sec_prog_type_by_name(const char *name);
int sec_attach_type_by_name(const char *name);

#endif
