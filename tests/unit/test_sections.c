/* test_sections.c — SEC() names to program types (src/loader/sections.c) and
 * the program/attach type table (src/loader/progtypes.def).
 *
 * Checks the matching rules (exact, "prefix/", "prefix+", '?'), a row per
 * family of names with its program type, attach type, flags and argument,
 * unknown names and their messages, every table row against itself, the
 * numbers against <linux/bpf.h>, and — when the system's libbpf.so.1 can be
 * loaded — every name against libbpf_prog_type_by_name() itself.
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/bpf.h>

#include "loader/sections.h"
#include "testutil.h"

struct row {
	const char *name;
	uint32_t prog, attach, flags;
	const char *arg;
};

static const struct row rows[] = {
	{ "socket", SEC_PROG_SOCKET_FILTER, 0, 0, "" },
	{ "xdp", SEC_PROG_XDP, SEC_ATTACH_XDP, SEC_F_ATTACHABLE_OPT, "" },
	{ "xdp.frags", SEC_PROG_XDP, SEC_ATTACH_XDP, SEC_F_XDP_FRAGS, "" },
	{ "xdp/devmap", SEC_PROG_XDP, SEC_ATTACH_XDP_DEVMAP, SEC_F_ATTACHABLE, "" },
	{ "xdp.frags/cpumap", SEC_PROG_XDP, SEC_ATTACH_XDP_CPUMAP, SEC_F_XDP_FRAGS, "" },
	{ "tc", SEC_PROG_SCHED_CLS, 0, 0, "" },
	{ "classifier", SEC_PROG_SCHED_CLS, 0, 0, "" },
	{ "action", SEC_PROG_SCHED_ACT, 0, 0, "" },
	{ "tcx/ingress", SEC_PROG_SCHED_CLS, SEC_ATTACH_TCX_INGRESS, 0, "" },
	{ "tcx/egress", SEC_PROG_SCHED_CLS, SEC_ATTACH_TCX_EGRESS, 0, "" },
	{ "tc/ingress", SEC_PROG_SCHED_CLS, SEC_ATTACH_TCX_INGRESS, 0, "" },
	{ "netkit/peer", SEC_PROG_SCHED_CLS, SEC_ATTACH_NETKIT_PEER, 0, "" },
	{ "kprobe/do_unlinkat", SEC_PROG_KPROBE, 0, 0, "do_unlinkat" },
	{ "kprobe", SEC_PROG_KPROBE, 0, 0, "" },
	{ "kretprobe/tcp_v4_connect", SEC_PROG_KPROBE, 0, 0, "tcp_v4_connect" },
	{ "uprobe//bin/bash:readline", SEC_PROG_KPROBE, 0, 0, "/bin/bash:readline" },
	{ "uretprobe.s/libc.so.6:malloc", SEC_PROG_KPROBE, 0, SEC_F_SLEEPABLE, "libc.so.6:malloc" },
	{ "kprobe.multi/tcp_*", SEC_PROG_KPROBE, SEC_ATTACH_TRACE_KPROBE_MULTI, 0, "tcp_*" },
	{ "kprobe.session/vfs_read", SEC_PROG_KPROBE, SEC_ATTACH_TRACE_KPROBE_SESSION, 0, "vfs_read" },
	{ "uprobe.session.s/x:y", SEC_PROG_KPROBE, SEC_ATTACH_TRACE_UPROBE_SESSION, SEC_F_SLEEPABLE, "x:y" },
	{ "ksyscall/openat", SEC_PROG_KPROBE, 0, 0, "openat" },
	{ "usdt/./app:provider:probe", SEC_PROG_KPROBE, 0, SEC_F_USDT, "./app:provider:probe" },
	{ "tracepoint/syscalls/sys_enter_openat", SEC_PROG_TRACEPOINT, 0, 0, "syscalls/sys_enter_openat" },
	{ "tp/sched/sched_switch", SEC_PROG_TRACEPOINT, 0, 0, "sched/sched_switch" },
	{ "raw_tp/sched_switch", SEC_PROG_RAW_TRACEPOINT, 0, 0, "sched_switch" },
	{ "raw_tracepoint/sys_enter", SEC_PROG_RAW_TRACEPOINT, 0, 0, "sys_enter" },
	{ "raw_tp.w/bpf_test_finish", SEC_PROG_RAW_TRACEPOINT_WRITABLE, 0, 0, "bpf_test_finish" },
	{ "tp_btf/sched_switch", SEC_PROG_TRACING, SEC_ATTACH_TRACE_RAW_TP, SEC_F_ATTACH_BTF, "sched_switch" },
	{ "fentry/do_unlinkat", SEC_PROG_TRACING, SEC_ATTACH_TRACE_FENTRY, SEC_F_ATTACH_BTF, "do_unlinkat" },
	{ "fexit/do_unlinkat", SEC_PROG_TRACING, SEC_ATTACH_TRACE_FEXIT, SEC_F_ATTACH_BTF, "do_unlinkat" },
	{ "fmod_ret/x", SEC_PROG_TRACING, SEC_ATTACH_MODIFY_RETURN, SEC_F_ATTACH_BTF, "x" },
	{ "fentry.s/x", SEC_PROG_TRACING, SEC_ATTACH_TRACE_FENTRY, SEC_F_ATTACH_BTF | SEC_F_SLEEPABLE, "x" },
	{ "freplace/handler", SEC_PROG_EXT, 0, SEC_F_ATTACH_BTF, "handler" },
	{ "lsm/file_open", SEC_PROG_LSM, SEC_ATTACH_LSM_MAC, SEC_F_ATTACH_BTF, "file_open" },
	{ "lsm.s/bprm_committed_creds", SEC_PROG_LSM, SEC_ATTACH_LSM_MAC, SEC_F_ATTACH_BTF | SEC_F_SLEEPABLE, "bprm_committed_creds" },
	{ "lsm_cgroup/socket_bind", SEC_PROG_LSM, SEC_ATTACH_LSM_CGROUP, SEC_F_ATTACH_BTF, "socket_bind" },
	{ "iter/task", SEC_PROG_TRACING, SEC_ATTACH_TRACE_ITER, SEC_F_ATTACH_BTF, "task" },
	{ "iter.s/task_vma", SEC_PROG_TRACING, SEC_ATTACH_TRACE_ITER, SEC_F_ATTACH_BTF | SEC_F_SLEEPABLE, "task_vma" },
	{ "syscall", SEC_PROG_SYSCALL, 0, SEC_F_SLEEPABLE, "" },
	{ "perf_event", SEC_PROG_PERF_EVENT, 0, 0, "" },
	{ "lwt_xmit", SEC_PROG_LWT_XMIT, 0, 0, "" },
	{ "sockops", SEC_PROG_SOCK_OPS, SEC_ATTACH_CGROUP_SOCK_OPS, SEC_F_ATTACHABLE_OPT, "" },
	{ "sk_skb/stream_parser", SEC_PROG_SK_SKB, SEC_ATTACH_SK_SKB_STREAM_PARSER, SEC_F_ATTACHABLE_OPT, "" },
	{ "sk_skb", SEC_PROG_SK_SKB, 0, 0, "" },
	{ "sk_msg", SEC_PROG_SK_MSG, SEC_ATTACH_SK_MSG_VERDICT, SEC_F_ATTACHABLE_OPT, "" },
	{ "sk_lookup", SEC_PROG_SK_LOOKUP, SEC_ATTACH_SK_LOOKUP, SEC_F_ATTACHABLE, "" },
	{ "sk_reuseport/migrate", SEC_PROG_SK_REUSEPORT, SEC_ATTACH_SK_REUSEPORT_SELECT_OR_MIGRATE, SEC_F_ATTACHABLE, "" },
	{ "sk_reuseport", SEC_PROG_SK_REUSEPORT, SEC_ATTACH_SK_REUSEPORT_SELECT, SEC_F_ATTACHABLE, "" },
	{ "flow_dissector", SEC_PROG_FLOW_DISSECTOR, SEC_ATTACH_FLOW_DISSECTOR, SEC_F_ATTACHABLE_OPT, "" },
	{ "cgroup_skb/ingress", SEC_PROG_CGROUP_SKB, SEC_ATTACH_CGROUP_INET_INGRESS, SEC_F_ATTACHABLE_OPT, "" },
	{ "cgroup_skb/egress", SEC_PROG_CGROUP_SKB, SEC_ATTACH_CGROUP_INET_EGRESS, SEC_F_ATTACHABLE_OPT, "" },
	{ "cgroup/skb", SEC_PROG_CGROUP_SKB, 0, 0, "" },
	{ "cgroup/sock", SEC_PROG_CGROUP_SOCK, SEC_ATTACH_CGROUP_INET_SOCK_CREATE, SEC_F_ATTACHABLE_OPT, "" },
	{ "cgroup/sock_release", SEC_PROG_CGROUP_SOCK, SEC_ATTACH_CGROUP_INET_SOCK_RELEASE, SEC_F_ATTACHABLE, "" },
	{ "cgroup/connect4", SEC_PROG_CGROUP_SOCK_ADDR, SEC_ATTACH_CGROUP_INET4_CONNECT, SEC_F_ATTACHABLE, "" },
	{ "cgroup/recvmsg_unix", SEC_PROG_CGROUP_SOCK_ADDR, SEC_ATTACH_CGROUP_UNIX_RECVMSG, SEC_F_ATTACHABLE, "" },
	{ "cgroup/sysctl", SEC_PROG_CGROUP_SYSCTL, SEC_ATTACH_CGROUP_SYSCTL, SEC_F_ATTACHABLE, "" },
	{ "cgroup/getsockopt", SEC_PROG_CGROUP_SOCKOPT, SEC_ATTACH_CGROUP_GETSOCKOPT, SEC_F_ATTACHABLE, "" },
	{ "cgroup/dev", SEC_PROG_CGROUP_DEVICE, SEC_ATTACH_CGROUP_DEVICE, SEC_F_ATTACHABLE_OPT, "" },
	{ "lirc_mode2", SEC_PROG_LIRC_MODE2, SEC_ATTACH_LIRC_MODE2, SEC_F_ATTACHABLE_OPT, "" },
	{ "struct_ops/tcp_init", SEC_PROG_STRUCT_OPS, 0, 0, "tcp_init" },
	{ "struct_ops", SEC_PROG_STRUCT_OPS, 0, 0, "" },
	{ "struct_ops.s/x", SEC_PROG_STRUCT_OPS, 0, SEC_F_SLEEPABLE, "x" },
	{ "netfilter", SEC_PROG_NETFILTER, SEC_ATTACH_NETFILTER, 0, "" },
};

static void test_rows(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct sec_match m;
		int ret = sec_def_find(r->name, &m);

		if (ret)
			fprintf(stderr, "%s: %s\n", r->name, m.err);
		CHECK_EQ(ret, 0);
		CHECK_EQ(m.prog_type, r->prog);
		CHECK_EQ(m.expected_attach_type, r->attach);
		CHECK_EQ(m.flags, r->flags);
		CHECK_STR(m.arg, r->arg);
		CHECK(m.autoload);
		CHECK(m.def != NULL);
		if (ret || m.prog_type != r->prog || m.expected_attach_type != r->attach)
			fprintf(stderr, "  row %s\n", r->name);
	}
}

static void test_rules(void)
{
	struct sec_match m;

	/* '?' turns autoload off and is not part of the match */
	CHECK_EQ(sec_def_find("?xdp", &m), 0);
	CHECK(!m.autoload);
	CHECK_EQ(m.prog_type, SEC_PROG_XDP);
	CHECK_EQ(sec_def_find("?kprobe/foo", &m), 0);
	CHECK_STR(m.arg, "foo");
	CHECK(!m.autoload);
	/* "kprobe+" wants "kprobe" or "kprobe/..." */
	CHECK_EQ(sec_def_find("kprobex", &m), -ESRCH);
	CHECK_STR(m.err, "unknown program section \"kprobex\": no SEC() definition "
			 "matches; did you mean \"kprobe/...\"?");
	CHECK_EQ(sec_def_find("kprobe/", &m), 0);	/* empty argument is allowed */
	CHECK_STR(m.arg, "");
	/* exact names take no argument */
	CHECK_EQ(sec_def_find("xdp_main", &m), -ESRCH);
	CHECK_STR(m.err, "unknown program section \"xdp_main\": no SEC() definition "
			 "matches; did you mean \"xdp\"?");
	CHECK_EQ(sec_def_find("xdp/foo", &m), -ESRCH);
	CHECK_EQ(sec_def_find("tc/foo", &m), -ESRCH);
	CHECK_CONTAINS(m.err, "did you mean \"tc\"?");
	CHECK_EQ(sec_def_find("socket/1", &m), -ESRCH);
	CHECK_EQ(sec_def_find("classifier/ingress", &m), -ESRCH);
	CHECK_EQ(sec_def_find("sk_skb/verdict", &m), -ESRCH);
	/* the first matching row wins: "sk_reuseport/migrate" before "sk_reuseport" */
	CHECK_EQ(sec_def_find("sk_reuseport/migrate", &m), 0);
	CHECK_STR(m.def->pattern, "sk_reuseport/migrate");
	/* names nothing resembles */
	CHECK_EQ(sec_def_find(".text", &m), -ESRCH);
	CHECK_STR(m.err, "unknown program section \".text\": no SEC() definition matches");
	CHECK_EQ(sec_def_find("license", &m), -ESRCH);
	CHECK_EQ(sec_def_find("cgroup_sk", &m), -ESRCH);
	CHECK_CONTAINS(m.err, "did you mean \"cgroup_skb/ingress\"?");
	CHECK_EQ(sec_def_find("", &m), -EINVAL);
	CHECK_STR(m.err, "empty program section name");
	CHECK_EQ(sec_def_find("?", &m), -EINVAL);
	CHECK_EQ(sec_def_find(NULL, &m), -EINVAL);
}

/* every table row matches its own pattern, with and without an argument as
 * its form allows, and names real program/attach types */
static void test_table(void)
{
	unsigned cnt, i;
	const struct sec_def *defs = sec_defs(&cnt);

	CHECK(cnt >= 100);
	for (i = 0; i < cnt; i++) {
		const struct sec_def *d = &defs[i];
		size_t len = strlen(d->pattern);
		char name[128];
		struct sec_match m;

		CHECK(d->prog_type > 0 && d->prog_type < SEC_PROG_TYPE_CNT);
		CHECK(d->attach_type < SEC_ATTACH_TYPE_CNT);
		CHECK(sec_prog_type_name(d->prog_type) != NULL);
		snprintf(name, sizeof(name), "%.*s", (int)len - (d->pattern[len - 1] == '+'),
			 d->pattern);
		CHECK_EQ(sec_def_find(name, &m), 0);
		CHECK_EQ(m.prog_type, d->prog_type);
		CHECK_EQ(m.expected_attach_type, d->attach_type);
		if (d->pattern[len - 1] == '+') {
			snprintf(name, sizeof(name), "%.*s/target", (int)len - 1, d->pattern);
			CHECK_EQ(sec_def_find(name, &m), 0);
			CHECK(m.def == d);
			CHECK_STR(m.arg, "target");
		}
	}
}

static void test_type_tables(void)
{
	unsigned i;

	/* rows are numbered 0..n-1 in order, like the kernel's enums */
#define PROG_TYPE(NAME, num, name, ctx) CHECK_EQ(SEC_PROG_##NAME, num);
#define ATTACH_TYPE(NAME, num, name) CHECK_EQ(SEC_ATTACH_##NAME, num);
#include "loader/progtypes.def"
	for (i = 0; i < SEC_PROG_TYPE_CNT; i++) {
		CHECK(sec_prog_type_name(i) != NULL);
		CHECK(sec_prog_type_ctx(i) != NULL);
		CHECK_EQ(sec_prog_type_by_name(sec_prog_type_name(i)), i);
	}
	for (i = 0; i < SEC_ATTACH_TYPE_CNT; i++) {
		CHECK(sec_attach_type_name(i) != NULL);
		CHECK_EQ(sec_attach_type_by_name(sec_attach_type_name(i)), i);
	}
	CHECK(sec_prog_type_name(SEC_PROG_TYPE_CNT) == NULL);
	CHECK(sec_attach_type_name(SEC_ATTACH_TYPE_CNT) == NULL);
	CHECK_EQ(sec_prog_type_by_name("nope"), -ENOENT);
	CHECK_EQ(sec_attach_type_by_name("nope"), -ENOENT);
	CHECK_STR(sec_prog_type_ctx(SEC_PROG_XDP), "struct xdp_md");
	CHECK_STR(sec_prog_type_ctx(SEC_PROG_SCHED_CLS), "struct __sk_buff");
	CHECK_STR(sec_prog_type_name(SEC_PROG_SCHED_CLS), "sched_cls");

	/* the numbers the system's (6.1) uapi header knows */
	CHECK_EQ(SEC_PROG_SOCKET_FILTER, BPF_PROG_TYPE_SOCKET_FILTER);
	CHECK_EQ(SEC_PROG_XDP, BPF_PROG_TYPE_XDP);
	CHECK_EQ(SEC_PROG_SK_MSG, BPF_PROG_TYPE_SK_MSG);
	CHECK_EQ(SEC_PROG_CGROUP_SOCKOPT, BPF_PROG_TYPE_CGROUP_SOCKOPT);
	CHECK_EQ(SEC_PROG_SYSCALL, BPF_PROG_TYPE_SYSCALL);
	CHECK((int)SEC_PROG_TYPE_CNT > (int)BPF_PROG_TYPE_SYSCALL);
	CHECK_EQ(SEC_ATTACH_CGROUP_INET_EGRESS, BPF_CGROUP_INET_EGRESS);
	CHECK_EQ(SEC_ATTACH_SK_MSG_VERDICT, BPF_SK_MSG_VERDICT);
	CHECK_EQ(SEC_ATTACH_TRACE_ITER, BPF_TRACE_ITER);
	CHECK_EQ(SEC_ATTACH_XDP, BPF_XDP);
	CHECK_EQ(SEC_ATTACH_PERF_EVENT, BPF_PERF_EVENT);
	CHECK_EQ(SEC_ATTACH_LSM_CGROUP, BPF_LSM_CGROUP);
	CHECK((int)SEC_ATTACH_TYPE_CNT >= (int)__MAX_BPF_ATTACH_TYPE);
	/* newer than that header (include/uapi/linux/bpf.h, 6.12) */
	CHECK_EQ(SEC_PROG_NETFILTER, 32);
	CHECK_EQ(SEC_ATTACH_STRUCT_OPS, 44);
	CHECK_EQ(SEC_ATTACH_TCX_INGRESS, 46);
	CHECK_EQ(SEC_ATTACH_NETKIT_PEER, 55);
	CHECK_EQ(SEC_ATTACH_TRACE_UPROBE_SESSION, 57);
}

/* Differential check against the system libbpf, loaded at run time so the
 * test has no link-time dependency.  libbpf may be older than our table:
 * names it does not know, and types past its tables, are skipped. */
static void test_against_libbpf(void)
{
	int (*by_name)(const char *, int *, int *);
	const char *(*prog_str)(int);
	const char *(*attach_str)(int);
	void *h = dlopen("libbpf.so.1", RTLD_NOW | RTLD_LOCAL);
	unsigned cnt, i, compared = 0;
	const struct sec_def *defs = sec_defs(&cnt);

	if (!h) {
		printf("test_sections: libbpf.so.1 not found, skipping the "
		       "libbpf comparison\n");
		return;
	}
	*(void **)&by_name = dlsym(h, "libbpf_prog_type_by_name");
	*(void **)&prog_str = dlsym(h, "libbpf_bpf_prog_type_str");
	*(void **)&attach_str = dlsym(h, "libbpf_bpf_attach_type_str");
	for (i = 0; by_name && i < cnt; i++) {
		size_t len = strlen(defs[i].pattern);
		char name[128];
		int pt = -1, at = -1;
		struct sec_match m;

		if (defs[i].pattern[len - 1] == '+')
			snprintf(name, sizeof(name), "%.*s/arg", (int)len - 1,
				 defs[i].pattern);
		else
			snprintf(name, sizeof(name), "%s", defs[i].pattern);
		if (by_name(name, &pt, &at) != 0)
			continue;	/* newer than this libbpf */
		CHECK_EQ(sec_def_find(name, &m), 0);
		if ((uint32_t)pt != m.prog_type || (uint32_t)at != m.expected_attach_type)
			fprintf(stderr, "libbpf differs on %s: %d/%d vs %u/%u\n",
				name, pt, at, m.prog_type, m.expected_attach_type);
		CHECK_EQ(pt, m.prog_type);
		CHECK_EQ(at, m.expected_attach_type);
		compared++;
	}
	CHECK(compared >= 80);
	for (i = 0; prog_str && i < SEC_PROG_TYPE_CNT; i++)
		if (prog_str((int)i))
			CHECK_STR(prog_str((int)i), sec_prog_type_name(i));
	for (i = 0; attach_str && i < SEC_ATTACH_TYPE_CNT; i++)
		if (attach_str((int)i))
			CHECK_STR(attach_str((int)i), sec_attach_type_name(i));
	dlclose(h);
}

int main(void)
{
	test_rows();
	test_rules();
	test_table();
	test_type_tables();
	test_against_libbpf();
	return TEST_DONE();
}
