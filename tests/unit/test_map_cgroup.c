/* test_map_cgroup.c — BPF_MAP_TYPE_CGROUP_ARRAY and the two helpers that
 * read it, against this machine's kernel where bpf(2) is allowed.
 *
 * Userspace: creation checks; updates with an fd of the cgroup2 root, of our
 * own cgroup, an O_PATH fd, a cgroup v1 directory, a plain directory, a
 * file, a closed fd, bad flags and indexes; lookups (the kernel's ENOTSUPP),
 * lookup-and-delete, get_next_key and deletes: the same sequence goes to
 * bpf(2), every result must agree.  A slot keeps its cgroup after the
 * caller closes its fd, and freeing the map closes what it kept.
 *
 * Programs: bpf_current_task_under_cgroup on the root, our cgroup, a child
 * cgroup we create, an empty slot, an index past the end and one with bits
 * above 32, run by bpfvm and by BPF_PROG_TEST_RUN (which runs in our task)
 * with the same slots; then from a child process moved into the child
 * cgroup, where its parent's cgroup and its own hold it.  bpf_skb_under_cgroup
 * on bpfvm's socketless skb is -ENOENT whatever the slot.  The verifier
 * refuses a CGROUP_ARRAY for any other helper and any other map for these
 * two, with the kernel's verdict.
 */
#include <linux/bpf.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpfvm.h"
#include "bpfvm/pkt.h"
#include "bpfvm/verifier.h"
#include "exec/vm.h"
#include "testutil.h"

#define ENOTSUPP_KERNEL 524

static bool have_kernel;
static char cg_mnt[512], cg_self[1600], cg_child[1700];

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));
	return r < 0 ? -errno : (int)r;
}

static int k_create(uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_CGROUP_ARRAY;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

static int k_elem(int cmd, int fd, const void *key, void *val, uint64_t flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)key;
	if (cmd == BPF_MAP_GET_NEXT_KEY)
		a.next_key = (uint64_t)(uintptr_t)val;
	else
		a.value = (uint64_t)(uintptr_t)val;
	a.flags = flags;
	int r = sys_bpf(cmd, &a);
	return r == -ENOTSUPP_KERNEL ? -EOPNOTSUPP : r;	/* bpfvm's spelling */
}

static int u_create(uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
		    struct bpfvm_map **m)
{
	struct bpfvm_map_create_opts o = { .sz = sizeof(o), .map_flags = flags };
	*m = bpfvm_map_create(BPF_MAP_TYPE_CGROUP_ARRAY, "cg", ks, vs, max, &o);
	return *m ? 0 : -errno;
}

/* the first cgroup2 mount, and our cgroup on it */
static bool find_cgroup2(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[1024], mnt[512], type[64];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");
		if (sep && sscanf(sep, " - %63s", type) == 1 && strcmp(type, "cgroup2") == 0 &&
		    sscanf(line, "%*u %*u %*u:%*u %*s %511s", mnt) == 1) {
			snprintf(cg_mnt, sizeof(cg_mnt), "%s", mnt);
			found = true;
		}
	}
	fclose(f);
	f = fopen("/proc/self/cgroup", "r");
	if (!found || !f) {
		if (f)
			fclose(f);
		return false;
	}
	found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(cg_self, sizeof(cg_self), "%s%s", cg_mnt,
				 strcmp(line + 3, "/") ? line + 3 : "");
			found = true;
		}
	}
	fclose(f);
	return found;
}

static int open_fd_cnt(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* ------------------------------------------------------- userspace -- */

static void test_create(void)
{
	static const struct {
		uint32_t ks, vs, max, flags;
	} c[] = {
		{ 4, 4, 4, 0 }, { 8, 4, 4, 0 }, { 4, 8, 4, 0 }, { 4, 4, 0, 0 },
		{ 4, 4, 4, BPF_F_RDONLY_PROG }, { 4, 4, 4, BPF_F_WRONLY_PROG },
		{ 4, 4, 4, BPF_F_MMAPABLE }, { 4, 4, 4, BPF_F_RDONLY }, { 4, 4, 4, BPF_F_WRONLY },
		{ 4, 4, 4, BPF_F_NO_PREALLOC }, { 4, 4, 4, BPF_F_INNER_MAP },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct bpfvm_map *m;
		int u = u_create(c[i].ks, c[i].vs, c[i].max, c[i].flags, &m);
		CHECK_EQ(u, i == 0 || i == 7 || i == 8 ? 0 : -EINVAL);
		if (have_kernel) {
			int k = k_create(c[i].ks, c[i].vs, c[i].max, c[i].flags);
			CHECK_EQ(k < 0 ? k : 0, u);
			if (k >= 0)
				close(k);
		}
		bpfvm_map_free(m);
	}
}

static void test_elements(void)
{
	struct bpfvm_map *m;
	int kfd = -1, fds_before = open_fd_cnt();

	CHECK_EQ(u_create(4, 4, 4, 0, &m), 0);
	if (!m)
		return;
	if (have_kernel)
		kfd = k_create(4, 4, 4, 0);
	int root = open(cg_mnt, O_RDONLY | O_DIRECTORY);
	int self = open(cg_self, O_RDONLY | O_DIRECTORY);
	int opath = open(cg_mnt, O_PATH);
	int tmp = open("/tmp", O_RDONLY | O_DIRECTORY);
	char path[600];
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg_mnt);
	int file = open(path, O_RDONLY);
	int v1 = open("/sys/fs/cgroup/memory", O_RDONLY | O_DIRECTORY);	/* may not exist */
	int closed = dup(tmp);
	close(closed);
	CHECK(root >= 0 && self >= 0 && opath >= 0 && tmp >= 0 && file >= 0);

	static const uint64_t flagset[] = { 0, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK, 8 };
	struct {
		int op;			/* 0 update, 1 lookup, 2 delete, 3 lookup_and_delete, 4 next */
		uint32_t key;
		int fd;
		int flags;		/* index into flagset */
	} ops[] = {
		{ 0, 0, root, 0 }, { 0, 1, v1, 0 }, { 0, 1, tmp, 0 }, { 0, 1, file, 0 },
		{ 0, 1, opath, 0 }, { 0, 1, closed, 0 }, { 0, 1, -1, 0 }, { 0, 1, 999999, 0 },
		{ 0, 0, root, 1 }, { 0, 0, root, 2 }, { 0, 0, root, 3 }, { 0, 0, root, 4 },
		{ 0, 4, root, 0 }, { 0, 4, -1, 0 }, { 0, 4, root, 1 }, { 0, 2, self, 0 },
		{ 0, 2, self, 0 },
		{ 1, 0, 0, 0 }, { 1, 3, 0, 0 }, { 1, 4, 0, 0 }, { 1, 0, 0, 3 }, { 1, 0, 0, 4 },
		{ 3, 0, 0, 0 }, { 3, 3, 0, 0 },
		{ 4, UINT32_MAX, 0, 0 }, { 4, 0, 0, 0 }, { 4, 2, 0, 0 }, { 4, 3, 0, 0 }, { 4, 9, 0, 0 },
		{ 2, 3, 0, 0 }, { 2, 1, 0, 0 }, { 2, 1, 0, 0 }, { 2, 4, 0, 0 }, { 2, 0, 0, 0 },
		{ 0, 0, opath, 0 },
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		uint32_t key = ops[i].key, kv = 0x1234, uv = 0x1234, kn = 77, un = 77;
		uint32_t val = (uint32_t)ops[i].fd;
		const uint32_t *kp = key == UINT32_MAX ? NULL : &key;
		uint64_t fl = flagset[ops[i].flags];
		int u = 0, k = 0;

		switch (ops[i].op) {
		case 0:
			u = bpfvm_map_update_elem(m, &key, &val, fl);
			k = k_elem(BPF_MAP_UPDATE_ELEM, kfd, &key, &val, fl);
			break;
		case 1:
			u = bpfvm_map_lookup_elem_flags(m, &key, &uv, fl);
			k = k_elem(BPF_MAP_LOOKUP_ELEM, kfd, &key, &kv, fl);
			break;
		case 2:
			u = bpfvm_map_delete_elem(m, &key);
			k = k_elem(BPF_MAP_DELETE_ELEM, kfd, &key, NULL, 0);
			break;
		case 3:
			u = bpfvm_map_lookup_and_delete_elem(m, &key, &uv);
			k = k_elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, kfd, &key, &kv, 0);
			break;
		case 4:
			u = bpfvm_map_get_next_key(m, kp, &un);
			k = k_elem(BPF_MAP_GET_NEXT_KEY, kfd, kp, &kn, 0);
			break;
		}
		if (have_kernel && kfd >= 0) {
			if (k != u || kn != un)
				fprintf(stderr, "op #%zu (%d key %u): kernel %d (%u), bpfvm %d (%u)\n", i,
					ops[i].op, key, k, kn, u, un);
			CHECK_EQ(u, k);
			CHECK_EQ(un, kn);
		}
	}
	/* without a kernel: the results the kernel gave when this was written */
	{
		uint32_t key = 0, v = (uint32_t)self;
		CHECK_EQ(bpfvm_map_update_elem(m, &key, &v, 0), 0);
		v = (uint32_t)tmp;
		CHECK_EQ(bpfvm_map_update_elem(m, &key, &v, 0), -EBADF);
		CHECK_EQ(bpfvm_map_update_elem(m, &key, &v, BPF_NOEXIST), -EINVAL);
		key = 4;
		CHECK_EQ(bpfvm_map_update_elem(m, &key, &v, 0), -E2BIG);
		CHECK_EQ(bpfvm_map_lookup_elem(m, &key, &v), -EOPNOTSUPP);
		CHECK_EQ(bpfvm_map_delete_elem(m, &key), -E2BIG);
	}
	close(root);
	close(self);
	close(opath);
	close(tmp);
	close(file);
	if (v1 >= 0)
		close(v1);
	if (kfd >= 0)
		close(kfd);
	/* the map kept its own fds; freeing it closes them */
	CHECK(open_fd_cnt() > fds_before);
	bpfvm_map_free(m);
	CHECK_EQ(open_fd_cnt(), fds_before);
}

/* -------------------------------------------------------- programs -- */

static struct bpfvm_prog *u_load(const char *text, uint32_t type, char *log, size_t logsz)
{
	struct bpf_insn *insns = NULL;
	size_t cnt = 0;
	struct bpfvm_prog *p;

	log[0] = 0;
	if (bpfvm_asm(text, &insns, &cnt, log, logsz) != 0)
		return NULL;
	p = bpfvm_prog_from_insns(insns, cnt, NULL);
	free(insns);
	if (!p)
		return NULL;
	p->type = type;
	struct bpfvm_verify_opts vo = { .sz = sizeof(vo), .log_level = 1, .log_buf = log,
					.log_size = logsz };
	if (bpfvm_prog_verify(p, &vo) != 0) {
		bpfvm_prog_free(p);
		return NULL;
	}
	return p;
}

static int k_load(const char *text, uint32_t type, char *log, size_t logsz)
{
	struct bpf_insn *insns = NULL;
	size_t cnt = 0;
	union bpf_attr a;

	if (bpfvm_asm(text, &insns, &cnt, NULL, 0) != 0)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)cnt;
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = (uint32_t)logsz;
	a.log_level = 1;
	log[0] = 0;
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	free(insns);
	return fd;
}

static const uint8_t pkt[64] = { [12] = 0x08 };

/* bpfvm's result, the same in the interpreter and the JIT */
static uint32_t u_run(struct bpfvm_prog *p)
{
	uint32_t ret[2] = { 0, 0 };
	for (int i = 0; i < 2; i++) {
		struct bpfvm_test_run_opts o = { .sz = sizeof(o), .data_in = pkt,
						 .data_size_in = sizeof(pkt),
						 .mode = i ? BPFVM_EXEC_JIT : BPFVM_EXEC_AUTO };
		int err = bpfvm_prog_test_run(p, &o);
		CHECK_EQ(err, 0);
		ret[i] = o.retval;
	}
	CHECK_EQ(ret[0], ret[1]);
	return ret[0];
}

static uint32_t k_run(int fd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.data_in = (uint64_t)(uintptr_t)pkt;
	a.test.data_size_in = sizeof(pkt);
	int err = sys_bpf(BPF_PROG_TEST_RUN, &a);
	CHECK_EQ(err, 0);
	return a.test.retval;
}

static const char *task_prog(char *buf, size_t size, int map_fd, uint64_t index)
{
	snprintf(buf, size,
		 "lddw %%r1, map_fd %d\n"
		 "lddw %%r2, %llu\n"
		 "call bpf_current_task_under_cgroup\n"
		 "exit\n",
		 map_fd, (unsigned long long)index);
	return buf;
}

/* slots: 0 root, 1 our cgroup, 2 the child cgroup, 3 empty */
static void fill(struct bpfvm_map *m, int kfd, const int fds[3])
{
	for (uint32_t k = 0; k < 3; k++) {
		uint32_t v = (uint32_t)fds[k];
		CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
		if (kfd >= 0)
			CHECK_EQ(k_elem(BPF_MAP_UPDATE_ELEM, kfd, &k, &v, 0), 0);
	}
}

/* run the task program on each index; results for bpfvm and the kernel */
static void run_all(struct bpfvm_map *m, int kfd, const uint64_t *idx, size_t n, uint32_t *u,
		    uint32_t *k)
{
	char text[256], log[4096];

	for (size_t i = 0; i < n; i++) {
		struct bpfvm_prog *p = u_load(task_prog(text, sizeof(text), bpfvm_map_fd(m), idx[i]),
					      BPF_PROG_TYPE_XDP, log, sizeof(log));
		CHECK(p != NULL);
		if (!p) {
			fprintf(stderr, "%s\n", log);
			continue;
		}
		u[i] = u_run(p);
		bpfvm_prog_free(p);
		k[i] = u[i];
		if (kfd >= 0) {
			int pfd = k_load(task_prog(text, sizeof(text), kfd, idx[i]), BPF_PROG_TYPE_XDP,
					 log, sizeof(log));
			CHECK(pfd >= 0);
			if (pfd >= 0) {
				k[i] = k_run(pfd);
				close(pfd);
			}
		}
	}
}

static void test_task_under_cgroup(void)
{
	static const uint64_t idx[] = { 0, 1, 2, 3, 4, 1ull << 32 | 1 };
	enum { N = sizeof(idx) / sizeof(idx[0]) };
	uint32_t u[N], k[N];
	struct bpfvm_map *m;
	int kfd = have_kernel ? k_create(4, 4, 4, 0) : -1;

	CHECK_EQ(u_create(4, 4, 4, 0, &m), 0);
	if (!m)
		return;
	snprintf(cg_child, sizeof(cg_child), "%s/bpfvm_test_%d", cg_self, (int)getpid());
	bool child_ok = mkdir(cg_child, 0755) == 0;
	int fds[3] = { open(cg_mnt, O_RDONLY | O_DIRECTORY), open(cg_self, O_RDONLY | O_DIRECTORY),
		       child_ok ? open(cg_child, O_RDONLY | O_DIRECTORY)
				: open(cg_self, O_RDONLY | O_DIRECTORY) };
	fill(m, kfd, fds);
	for (int i = 0; i < 3; i++)
		close(fds[i]);	/* the slots keep their cgroups */

	run_all(m, kfd, idx, N, u, k);
	CHECK_EQ(u[0], 1);			/* root */
	CHECK_EQ(u[1], 1);			/* our own */
	CHECK_EQ(u[2], child_ok ? 0 : 1);	/* our child does not hold us */
	CHECK_EQ(u[3], (uint32_t)-EAGAIN);	/* empty */
	CHECK_EQ(u[4], (uint32_t)-E2BIG);
	CHECK_EQ(u[5], 1);			/* the index is a u32 */
	for (int i = 0; i < N; i++)
		CHECK_EQ(u[i], k[i]);

	/* a child process inside the child cgroup */
	char procs[1800];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg_child);
	int pipefd[2];
	if (child_ok && pipe(pipefd) == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			int failed_before = test_failed;
			uint32_t r[2 * N];
			FILE *f = fopen(procs, "w");
			bool moved = f && fprintf(f, "0\n") > 0;
			if (f && fclose(f) != 0)
				moved = false;
			if (!moved)
				_exit(3);
			run_all(m, kfd, idx, N, r, r + N);
			if (write(pipefd[1], r, sizeof(r)) != (ssize_t)sizeof(r))
				_exit(2);
			_exit(test_failed > failed_before ? 1 : 0);
		}
		uint32_t r[2 * N];
		close(pipefd[1]);
		ssize_t got = read(pipefd[0], r, sizeof(r));
		int st = 0;
		waitpid(pid, &st, 0);
		close(pipefd[0]);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
			printf("test_map_cgroup: cannot move a process into %s: child cgroup case skipped\n",
			       cg_child);
		} else {
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
			CHECK_EQ(got, (ssize_t)sizeof(r));
			CHECK_EQ(r[0], 1);
			CHECK_EQ(r[1], 1);	/* the parent's cgroup holds its child's */
			CHECK_EQ(r[2], 1);	/* in the child cgroup itself */
			for (int i = 0; i < N; i++)
				CHECK_EQ(r[i], r[N + i]);
		}
	}
	/* a slot cleared: empty again */
	uint32_t key = 1;
	CHECK_EQ(bpfvm_map_delete_elem(m, &key), 0);
	run_all(m, -1, &idx[1], 1, u, k);
	CHECK_EQ(u[0], (uint32_t)-EAGAIN);

	bpfvm_map_free(m);
	if (kfd >= 0)
		close(kfd);
	if (child_ok)
		CHECK_EQ(rmdir(cg_child), 0);
}

static void test_skb_under_cgroup(void)
{
	struct bpfvm_map *m;
	char text[256], log[4096];

	CHECK_EQ(u_create(4, 4, 2, 0, &m), 0);
	if (!m)
		return;
	uint32_t key = 0, v = (uint32_t)open(cg_mnt, O_RDONLY | O_DIRECTORY);
	CHECK_EQ(bpfvm_map_update_elem(m, &key, &v, 0), 0);
	close((int)v);
	for (uint32_t idx = 0; idx < 3; idx++) {
		snprintf(text, sizeof(text),
			 "lddw %%r2, map_fd %d\n"
			 "mov %%r3, %u\n"
			 "call bpf_skb_under_cgroup\n"
			 "exit\n",
			 bpfvm_map_fd(m), idx);
		struct bpfvm_prog *p = u_load(text, BPF_PROG_TYPE_SCHED_CLS, log, sizeof(log));
		CHECK(p != NULL);
		if (!p)
			continue;
		/* no socket: -ENOENT before the index or the slot is looked at */
		CHECK_EQ(u_run(p), (uint32_t)-ENOENT);
		bpfvm_prog_free(p);
	}
	bpfvm_map_free(m);
}

/* ------------------------------------------------------- verifier -- */

static void test_compat(void)
{
	struct bpfvm_map *cg, *arr;
	int kcg = have_kernel ? k_create(4, 4, 2, 0) : -1, karr = -1;

	CHECK_EQ(u_create(4, 4, 2, 0, &cg), 0);
	arr = bpfvm_map_create(BPF_MAP_TYPE_ARRAY, "arr", 4, 4, 2, NULL);
	if (have_kernel) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 2;
		karr = sys_bpf(BPF_MAP_CREATE, &a);
	}
	if (!cg || !arr)
		return;
	static const struct {
		const char *body;	/* %d: the map's fd */
		uint32_t type;
		bool cgroup_map;
		bool ok;
		const char *msg;
	} c[] = {
		{ "lddw %%r1, map_fd %d\nmov %%r2, 0\ncall bpf_current_task_under_cgroup\nexit\n",
		  BPF_PROG_TYPE_XDP, true, true, NULL },
		{ "lddw %%r1, map_fd %d\nmov %%r2, 0\ncall bpf_current_task_under_cgroup\nexit\n",
		  BPF_PROG_TYPE_XDP, false, false, "cannot pass map_type 2 into func" },
		{ "lddw %%r1, map_fd %d\nmov %%r2, 0\ncall bpf_current_task_under_cgroup\nexit\n",
		  BPF_PROG_TYPE_SOCKET_FILTER, true, true, NULL },
		{ "lddw %%r2, map_fd %d\nmov %%r3, 0\ncall bpf_skb_under_cgroup\nexit\n",
		  BPF_PROG_TYPE_SCHED_CLS, true, true, NULL },
		{ "lddw %%r2, map_fd %d\nmov %%r3, 0\ncall bpf_skb_under_cgroup\nexit\n",
		  BPF_PROG_TYPE_SCHED_CLS, false, false, "cannot pass map_type 2 into func" },
		{ "lddw %%r2, map_fd %d\nmov %%r3, 0\ncall bpf_skb_under_cgroup\nexit\n",
		  BPF_PROG_TYPE_XDP, true, false, "program of this type cannot use helper" },
		{ "stw [%%r10-4], 0\nlddw %%r1, map_fd %d\nmov %%r2, %%r10\nadd %%r2, -4\n"
		  "call bpf_map_lookup_elem\nmov %%r0, 0\nexit\n",
		  BPF_PROG_TYPE_XDP, true, false, "cannot pass map_type 8 into func" },
		{ "stw [%%r10-4], 0\nlddw %%r1, map_fd %d\nmov %%r2, %%r10\nadd %%r2, -4\n"
		  "call bpf_map_delete_elem\nmov %%r0, 0\nexit\n",
		  BPF_PROG_TYPE_XDP, true, false, "cannot pass map_type 8 into func" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char text[512], log[4096], klog[4096];
		struct bpfvm_map *m = c[i].cgroup_map ? cg : arr;
		snprintf(text, sizeof(text), c[i].body, bpfvm_map_fd(m));
		struct bpfvm_prog *p = u_load(text, c[i].type, log, sizeof(log));
		CHECK_EQ(p != NULL, c[i].ok);
		if (!c[i].ok)
			CHECK_CONTAINS(log, c[i].msg);
		bpfvm_prog_free(p);
		int kfd = c[i].cgroup_map ? kcg : karr;
		if (kfd >= 0) {
			snprintf(text, sizeof(text), c[i].body, kfd);
			int pfd = k_load(text, c[i].type, klog, sizeof(klog));
			CHECK_EQ(pfd >= 0, c[i].ok);
			if (!c[i].ok)
				CHECK_CONTAINS(klog, c[i].msg);
			if (pfd >= 0)
				close(pfd);
		}
	}
	bpfvm_map_free(cg);
	bpfvm_map_free(arr);
	if (kcg >= 0)
		close(kcg);
	if (karr >= 0)
		close(karr);
}

int main(void)
{
	int probe = k_create(4, 4, 1, 0);
	have_kernel = probe >= 0;
	if (probe >= 0)
		close(probe);
	else
		printf("test_map_cgroup: bpf(2) refused (%s): no kernel comparison\n", strerror(-probe));
	test_create();
	test_compat();
	if (!find_cgroup2()) {
		printf("test_map_cgroup: no cgroup2 mount: cgroup cases skipped\n");
		return TEST_DONE();
	}
	test_elements();
	test_task_under_cgroup();
	test_skb_under_cgroup();
	return TEST_DONE();
}
