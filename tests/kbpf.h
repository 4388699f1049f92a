/* kbpf.h — the few bpf(2) calls the kernel-differential tests and the
 * benchmarks make: one copy, included by both (tests/unit/test_kdiff_pkt.c,
 * bench/bench_*.c).  Results are fds or 0, or a negative errno.  The caller
 * includes <linux/bpf.h>, <errno.h>, <string.h>, <sys/syscall.h>,
 * <unistd.h> and "bpfvm.h" first.
 */
#ifndef BPFVM_TESTS_KBPF_H
#define BPFVM_TESTS_KBPF_H

static inline int sys_bpf(int cmd, union bpf_attr *attr)
{
	long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));
	return r < 0 ? -errno : (int)r;
}

/* the kernel's twin of bpfvm map `m` (its type, sizes, flags, extra) */
static inline int k_map_create(struct bpfvm_map *m)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = bpfvm_map_type(m);
	a.key_size = bpfvm_map_key_size(m);
	a.value_size = bpfvm_map_value_size(m);
	a.max_entries = bpfvm_map_max_entries(m);
	a.map_flags = bpfvm_map_flags(m);
	a.map_extra = bpfvm_map_extra(m);
	int fd = sys_bpf(BPF_MAP_CREATE, &a);
	if (fd == -EINVAL && (a.map_flags & BPF_F_RDONLY_PROG)) {
		a.map_flags &= ~BPF_F_RDONLY_PROG;	/* bpfvm's own marker on DEVMAP */
		fd = sys_bpf(BPF_MAP_CREATE, &a);
	}
	return fd;
}

static inline int k_map_update(int fd, const void *key, const void *val, uint64_t flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)val;
	a.flags = flags;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

static inline int k_map_lookup(int fd, const void *key, void *val)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)val;
	return sys_bpf(BPF_MAP_LOOKUP_ELEM, &a);
}

#endif
