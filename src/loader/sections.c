/* loader/sections.c — the SEC() name table and the program/attach type names.
 *
 * The table below follows libbpf's section_defs[] (src/libbpf.c, libbpf 1.5):
 * the same names, program types, expected attach types, flags and order, so
 * an object that libbpf loads as some program type loads as the same type
 * here.  Order matters only where libbpf's does (the first match wins).
 * Program and attach type names come from progtypes.def.
 */
#include "loader/sections.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define P(x) SEC_PROG_##x
#define A(x) SEC_ATTACH_##x
#define NONE            0
#define ATTACHABLE      SEC_F_ATTACHABLE
#define ATTACHABLE_OPT  SEC_F_ATTACHABLE_OPT
#define ATTACH_BTF      SEC_F_ATTACH_BTF
#define SLEEPABLE       SEC_F_SLEEPABLE
#define XDP_FRAGS       SEC_F_XDP_FRAGS
#define USDT            SEC_F_USDT

static const struct sec_def table[] = {
	{ "socket",                  P(SOCKET_FILTER), 0, NONE },
	{ "sk_reuseport/migrate",    P(SK_REUSEPORT), A(SK_REUSEPORT_SELECT_OR_MIGRATE), ATTACHABLE },
	{ "sk_reuseport",            P(SK_REUSEPORT), A(SK_REUSEPORT_SELECT), ATTACHABLE },
	{ "kprobe+",                 P(KPROBE), 0, NONE },
	{ "uprobe+",                 P(KPROBE), 0, NONE },
	{ "uprobe.s+",               P(KPROBE), 0, SLEEPABLE },
	{ "kretprobe+",              P(KPROBE), 0, NONE },
	{ "uretprobe+",              P(KPROBE), 0, NONE },
	{ "uretprobe.s+",            P(KPROBE), 0, SLEEPABLE },
	{ "kprobe.multi+",           P(KPROBE), A(TRACE_KPROBE_MULTI), NONE },
	{ "kretprobe.multi+",        P(KPROBE), A(TRACE_KPROBE_MULTI), NONE },
	{ "kprobe.session+",         P(KPROBE), A(TRACE_KPROBE_SESSION), NONE },
	{ "uprobe.multi+",           P(KPROBE), A(TRACE_UPROBE_MULTI), NONE },
	{ "uretprobe.multi+",        P(KPROBE), A(TRACE_UPROBE_MULTI), NONE },
	{ "uprobe.session+",         P(KPROBE), A(TRACE_UPROBE_SESSION), NONE },
	{ "uprobe.multi.s+",         P(KPROBE), A(TRACE_UPROBE_MULTI), SLEEPABLE },
	{ "uretprobe.multi.s+",      P(KPROBE), A(TRACE_UPROBE_MULTI), SLEEPABLE },
	{ "uprobe.session.s+",       P(KPROBE), A(TRACE_UPROBE_SESSION), SLEEPABLE },
	{ "ksyscall+",               P(KPROBE), 0, NONE },
	{ "kretsyscall+",            P(KPROBE), 0, NONE },
	{ "usdt+",                   P(KPROBE), 0, USDT },
	{ "usdt.s+",                 P(KPROBE), 0, USDT | SLEEPABLE },
	{ "tc/ingress",              P(SCHED_CLS), A(TCX_INGRESS), NONE },	/* tcx alias */
	{ "tc/egress",               P(SCHED_CLS), A(TCX_EGRESS), NONE },	/* tcx alias */
	{ "tcx/ingress",             P(SCHED_CLS), A(TCX_INGRESS), NONE },
	{ "tcx/egress",              P(SCHED_CLS), A(TCX_EGRESS), NONE },
	{ "tc",                      P(SCHED_CLS), 0, NONE },	/* legacy tc */
	{ "classifier",              P(SCHED_CLS), 0, NONE },	/* legacy tc */
	{ "action",                  P(SCHED_ACT), 0, NONE },	/* legacy tc */
	{ "netkit/primary",          P(SCHED_CLS), A(NETKIT_PRIMARY), NONE },
	{ "netkit/peer",             P(SCHED_CLS), A(NETKIT_PEER), NONE },
	{ "tracepoint+",             P(TRACEPOINT), 0, NONE },
	{ "tp+",                     P(TRACEPOINT), 0, NONE },
	{ "raw_tracepoint+",         P(RAW_TRACEPOINT), 0, NONE },
	{ "raw_tp+",                 P(RAW_TRACEPOINT), 0, NONE },
	{ "raw_tracepoint.w+",       P(RAW_TRACEPOINT_WRITABLE), 0, NONE },
	{ "raw_tp.w+",               P(RAW_TRACEPOINT_WRITABLE), 0, NONE },
	{ "tp_btf+",                 P(TRACING), A(TRACE_RAW_TP), ATTACH_BTF },
	{ "fentry+",                 P(TRACING), A(TRACE_FENTRY), ATTACH_BTF },
	{ "fmod_ret+",               P(TRACING), A(MODIFY_RETURN), ATTACH_BTF },
	{ "fexit+",                  P(TRACING), A(TRACE_FEXIT), ATTACH_BTF },
	{ "fentry.s+",               P(TRACING), A(TRACE_FENTRY), ATTACH_BTF | SLEEPABLE },
	{ "fmod_ret.s+",             P(TRACING), A(MODIFY_RETURN), ATTACH_BTF | SLEEPABLE },
	{ "fexit.s+",                P(TRACING), A(TRACE_FEXIT), ATTACH_BTF | SLEEPABLE },
	{ "freplace+",               P(EXT), 0, ATTACH_BTF },
	{ "lsm+",                    P(LSM), A(LSM_MAC), ATTACH_BTF },
	{ "lsm.s+",                  P(LSM), A(LSM_MAC), ATTACH_BTF | SLEEPABLE },
	{ "lsm_cgroup+",             P(LSM), A(LSM_CGROUP), ATTACH_BTF },
	{ "iter+",                   P(TRACING), A(TRACE_ITER), ATTACH_BTF },
	{ "iter.s+",                 P(TRACING), A(TRACE_ITER), ATTACH_BTF | SLEEPABLE },
	{ "syscall",                 P(SYSCALL), 0, SLEEPABLE },
	{ "xdp.frags/devmap",        P(XDP), A(XDP_DEVMAP), XDP_FRAGS },
	{ "xdp/devmap",              P(XDP), A(XDP_DEVMAP), ATTACHABLE },
	{ "xdp.frags/cpumap",        P(XDP), A(XDP_CPUMAP), XDP_FRAGS },
	{ "xdp/cpumap",              P(XDP), A(XDP_CPUMAP), ATTACHABLE },
	{ "xdp.frags",               P(XDP), A(XDP), XDP_FRAGS },
	{ "xdp",                     P(XDP), A(XDP), ATTACHABLE_OPT },
	{ "perf_event",              P(PERF_EVENT), 0, NONE },
	{ "lwt_in",                  P(LWT_IN), 0, NONE },
	{ "lwt_out",                 P(LWT_OUT), 0, NONE },
	{ "lwt_xmit",                P(LWT_XMIT), 0, NONE },
	{ "lwt_seg6local",           P(LWT_SEG6LOCAL), 0, NONE },
	{ "sockops",                 P(SOCK_OPS), A(CGROUP_SOCK_OPS), ATTACHABLE_OPT },
	{ "sk_skb/stream_parser",    P(SK_SKB), A(SK_SKB_STREAM_PARSER), ATTACHABLE_OPT },
	{ "sk_skb/stream_verdict",   P(SK_SKB), A(SK_SKB_STREAM_VERDICT), ATTACHABLE_OPT },
	{ "sk_skb",                  P(SK_SKB), 0, NONE },
	{ "sk_msg",                  P(SK_MSG), A(SK_MSG_VERDICT), ATTACHABLE_OPT },
	{ "lirc_mode2",              P(LIRC_MODE2), A(LIRC_MODE2), ATTACHABLE_OPT },
	{ "flow_dissector",          P(FLOW_DISSECTOR), A(FLOW_DISSECTOR), ATTACHABLE_OPT },
	{ "cgroup_skb/ingress",      P(CGROUP_SKB), A(CGROUP_INET_INGRESS), ATTACHABLE_OPT },
	{ "cgroup_skb/egress",       P(CGROUP_SKB), A(CGROUP_INET_EGRESS), ATTACHABLE_OPT },
	{ "cgroup/skb",              P(CGROUP_SKB), 0, NONE },
	{ "cgroup/sock_create",      P(CGROUP_SOCK), A(CGROUP_INET_SOCK_CREATE), ATTACHABLE },
	{ "cgroup/sock_release",     P(CGROUP_SOCK), A(CGROUP_INET_SOCK_RELEASE), ATTACHABLE },
	{ "cgroup/sock",             P(CGROUP_SOCK), A(CGROUP_INET_SOCK_CREATE), ATTACHABLE_OPT },
	{ "cgroup/post_bind4",       P(CGROUP_SOCK), A(CGROUP_INET4_POST_BIND), ATTACHABLE },
	{ "cgroup/post_bind6",       P(CGROUP_SOCK), A(CGROUP_INET6_POST_BIND), ATTACHABLE },
	{ "cgroup/bind4",            P(CGROUP_SOCK_ADDR), A(CGROUP_INET4_BIND), ATTACHABLE },
	{ "cgroup/bind6",            P(CGROUP_SOCK_ADDR), A(CGROUP_INET6_BIND), ATTACHABLE },
	{ "cgroup/connect4",         P(CGROUP_SOCK_ADDR), A(CGROUP_INET4_CONNECT), ATTACHABLE },
	{ "cgroup/connect6",         P(CGROUP_SOCK_ADDR), A(CGROUP_INET6_CONNECT), ATTACHABLE },
	{ "cgroup/connect_unix",     P(CGROUP_SOCK_ADDR), A(CGROUP_UNIX_CONNECT), ATTACHABLE },
	{ "cgroup/sendmsg4",         P(CGROUP_SOCK_ADDR), A(CGROUP_UDP4_SENDMSG), ATTACHABLE },
	{ "cgroup/sendmsg6",         P(CGROUP_SOCK_ADDR), A(CGROUP_UDP6_SENDMSG), ATTACHABLE },
	{ "cgroup/sendmsg_unix",     P(CGROUP_SOCK_ADDR), A(CGROUP_UNIX_SENDMSG), ATTACHABLE },
	{ "cgroup/recvmsg4",         P(CGROUP_SOCK_ADDR), A(CGROUP_UDP4_RECVMSG), ATTACHABLE },
	{ "cgroup/recvmsg6",         P(CGROUP_SOCK_ADDR), A(CGROUP_UDP6_RECVMSG), ATTACHABLE },
	{ "cgroup/recvmsg_unix",     P(CGROUP_SOCK_ADDR), A(CGROUP_UNIX_RECVMSG), ATTACHABLE },
	{ "cgroup/getpeername4",     P(CGROUP_SOCK_ADDR), A(CGROUP_INET4_GETPEERNAME), ATTACHABLE },
	{ "cgroup/getpeername6",     P(CGROUP_SOCK_ADDR), A(CGROUP_INET6_GETPEERNAME), ATTACHABLE },
	{ "cgroup/getpeername_unix", P(CGROUP_SOCK_ADDR), A(CGROUP_UNIX_GETPEERNAME), ATTACHABLE },
	{ "cgroup/getsockname4",     P(CGROUP_SOCK_ADDR), A(CGROUP_INET4_GETSOCKNAME), ATTACHABLE },
	{ "cgroup/getsockname6",     P(CGROUP_SOCK_ADDR), A(CGROUP_INET6_GETSOCKNAME), ATTACHABLE },
	{ "cgroup/getsockname_unix", P(CGROUP_SOCK_ADDR), A(CGROUP_UNIX_GETSOCKNAME), ATTACHABLE },
	{ "cgroup/sysctl",           P(CGROUP_SYSCTL), A(CGROUP_SYSCTL), ATTACHABLE },
	{ "cgroup/getsockopt",       P(CGROUP_SOCKOPT), A(CGROUP_GETSOCKOPT), ATTACHABLE },
	{ "cgroup/setsockopt",       P(CGROUP_SOCKOPT), A(CGROUP_SETSOCKOPT), ATTACHABLE },
	{ "cgroup/dev",              P(CGROUP_DEVICE), A(CGROUP_DEVICE), ATTACHABLE_OPT },
	{ "struct_ops+",             P(STRUCT_OPS), 0, NONE },
	{ "struct_ops.s+",           P(STRUCT_OPS), 0, SLEEPABLE },
	{ "sk_lookup",               P(SK_LOOKUP), A(SK_LOOKUP), ATTACHABLE },
	{ "netfilter",               P(NETFILTER), A(NETFILTER), NONE },
};

#undef P
#undef A

#define TABLE_CNT (sizeof(table) / sizeof(table[0]))

const struct sec_def *sec_defs(unsigned *cnt)
{
	*cnt = TABLE_CNT;
	return table;
}

/* Does name match def?  On a match, *arg is the argument part ("" if none). */
static int def_matches(const struct sec_def *def, const char *name,
		       const char **arg)
{
	size_t len = strlen(def->pattern);
	char last = def->pattern[len - 1];

	if (last == '/') {	/* "type/": the argument is required */
		if (strncmp(name, def->pattern, len) != 0)
			return 0;
		*arg = name + len;
		return 1;
	}
	if (last == '+') {	/* "type+": "type" or "type/extras" */
		len--;
		if (strncmp(name, def->pattern, len) != 0)
			return 0;
		if (name[len] == '\0') {
			*arg = name + len;
			return 1;
		}
		if (name[len] == '/') {
			*arg = name + len + 1;
			return 1;
		}
		return 0;
	}
	if (strcmp(name, def->pattern) != 0)
		return 0;
	*arg = name + len;
	return 1;
}

/* Suggest the definition whose base ("kprobe" of "kprobe+") is the longest
 * prefix of name, or else one that name is a prefix of; NULL if none. */
static const struct sec_def *suggest(const char *name, size_t *base_len)
{
	const struct sec_def *best = NULL;
	size_t best_len = 0, i, nlen = strlen(name);

	for (i = 0; i < TABLE_CNT; i++) {
		size_t len = strlen(table[i].pattern);

		if (table[i].pattern[len - 1] == '+' ||
		    table[i].pattern[len - 1] == '/')
			len--;
		if (len > best_len && strncmp(name, table[i].pattern, len) == 0) {
			best = &table[i];
			best_len = len;
		}
	}
	if (!best && nlen >= 3) {
		for (i = 0; i < TABLE_CNT; i++) {
			if (strncmp(table[i].pattern, name, nlen) == 0) {
				best = &table[i];
				best_len = strcspn(best->pattern, "+/");
				break;
			}
		}
	}
	*base_len = best_len;
	return best;
}

int sec_def_find(const char *sec_name, struct sec_match *out)
{
	const struct sec_def *hint;
	const char *name = sec_name, *arg;
	size_t i, base_len;

	memset(out, 0, sizeof(*out));
	out->autoload = true;
	if (name && name[0] == '?') {
		out->autoload = false;
		name++;
	}
	if (!name || !name[0]) {
		snprintf(out->err, sizeof(out->err),
			 "empty program section name");
		return -EINVAL;
	}
	for (i = 0; i < TABLE_CNT; i++) {
		if (!def_matches(&table[i], name, &arg))
			continue;
		out->def = &table[i];
		out->prog_type = table[i].prog_type;
		out->expected_attach_type = table[i].attach_type;
		out->flags = table[i].flags;
		out->arg = arg;
		return 0;
	}
	hint = suggest(name, &base_len);
	if (!hint)
		snprintf(out->err, sizeof(out->err),
			 "unknown program section \"%s\": no SEC() definition "
			 "matches", sec_name);
	else if (strchr("+/", hint->pattern[strlen(hint->pattern) - 1]))
		snprintf(out->err, sizeof(out->err),
			 "unknown program section \"%s\": no SEC() definition "
			 "matches; did you mean \"%.*s/...\"?", sec_name,
			 (int)base_len, hint->pattern);
	else
		snprintf(out->err, sizeof(out->err),
			 "unknown program section \"%s\": no SEC() definition "
			 "matches; did you mean \"%s\"?", sec_name,
			 hint->pattern);
	return -ESRCH;
}

struct type_row {
	const char *name, *ctx;
};

static const struct type_row prog_rows[SEC_PROG_TYPE_CNT] = {
#define PROG_TYPE(NAME, num, name, ctx) [num] = { name, ctx },
#include "loader/progtypes.def"
};

static const char *const attach_rows[SEC_ATTACH_TYPE_CNT] = {
#define ATTACH_TYPE(NAME, num, name) [num] = name,
#include "loader/progtypes.def"
};

const char *sec_prog_type_name(uint32_t prog_type)
{
	return prog_type < SEC_PROG_TYPE_CNT ? prog_rows[prog_type].name : NULL;
}

const char *sec_prog_type_ctx(uint32_t prog_type)
{
	return prog_type < SEC_PROG_TYPE_CNT ? prog_rows[prog_type].ctx : NULL;
}

const char *sec_attach_type_name(uint32_t attach_type)
{
	return attach_type < SEC_ATTACH_TYPE_CNT ? attach_rows[attach_type] :
						   NULL;
}

int sec_prog_type_by_name(const char *name)
{
	unsigned i;

	for (i = 0; i < SEC_PROG_TYPE_CNT; i++)
		if (prog_rows[i].name && strcmp(prog_rows[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

int sec_attach_type_by_name(const char *name)
{
	unsigned i;

	for (i = 0; i < SEC_ATTACH_TYPE_CNT; i++)
		if (attach_rows[i] && strcmp(attach_rows[i], name) == 0)
			return (int)i;
	return -ENOENT;
}
