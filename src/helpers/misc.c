/* misc.c — helpers about the current task, strings and bounded loops.
 *
 * "Current task" is the host thread running the program: pid/tgid, uid/gid
 * and comm are the host process's.  String helpers parse the way the kernel's
 * do (kstrtoll-style prefixes, consumed-length results).  bpf_loop calls an
 * eBPF callback through vm_call_func().
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec/vm.h"
#include "helpers/helpers.h"
#include "helpers/util.h"

#define BPF_MAX_LOOPS (1u << 23)

uint64_t helper_get_current_pid_tgid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				     uint64_t r5, struct bpfvm_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	return (uint64_t)getpid() << 32 | (uint32_t)syscall(SYS_gettid);
}

uint64_t helper_get_current_uid_gid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				    uint64_t r5, struct bpfvm_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	return (uint64_t)getgid() << 32 | (uint32_t)getuid();
}

uint64_t helper_get_current_comm(uint64_t buf, uint64_t size, uint64_t r3, uint64_t r4,
				 uint64_t r5, struct bpfvm_run *run)
{
	char comm[17] = "";
	(void)r3, (void)r4, (void)r5;
	if (!HELPER_MEM_OK(run, buf, size, 1))
		return helper_bad_ptr(run, "get_current_comm", 1, buf, size);
	if (size == 0)
		return (uint64_t)-EINVAL;
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	/* like strscpy_pad: NUL-terminated, rest zeroed */
	char *dst = (char *)(uintptr_t)buf;
	memset(dst, 0, (size_t)size);
	size_t n = strnlen(comm, 16);
	memcpy(dst, comm, n < size - 1 ? n : (size_t)size - 1);
	return 0;
}

/* The kernel's __bpf_strtoull: skip spaces, optional sign handled by the
 * caller, base from flags (0, 8, 10, 16) with 0x / 0 prefixes.  Returns
 * characters consumed, or -EINVAL / -ERANGE. */
static long parse_ull(const char *buf, size_t len, uint64_t flags, unsigned long long *res,
		      bool *neg)
{
	unsigned int base = (unsigned int)(flags & 0x1f);
	size_t i = 0;
	if (flags & ~0x1full || (base != 0 && base != 8 && base != 10 && base != 16) || len == 0)
		return -EINVAL;
	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	*neg = false;
	if (i < len && buf[i] == '-') {
		*neg = true;
		i++;
	}
	if (i + 1 < len && buf[i] == '0' && tolower((unsigned char)buf[i + 1]) == 'x' &&
	    (base == 0 || base == 16) && i + 2 < len && isxdigit((unsigned char)buf[i + 2])) {
		base = 16;
		i += 2;
	} else if (base == 0) {
		base = i < len && buf[i] == '0' ? 8 : 10;
	}
	size_t start = i;
	unsigned long long v = 0;
	for (; i < len; i++) {
		int c = tolower((unsigned char)buf[i]), d;
		if (isdigit(c))
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			break;
		if ((unsigned int)d >= base)
			break;
		if (v > (ULLONG_MAX - (unsigned int)d) / base)
			return -ERANGE;
		v = v * base + (unsigned int)d;
	}
	if (i == start)
		return -EINVAL;
	*res = v;
	return (long)i;
}

uint64_t helper_strtol(uint64_t buf, uint64_t len, uint64_t flags, uint64_t res, uint64_t r5,
		       struct bpfvm_run *run)
{
	(void)r5;
	if (!HELPER_MEM_OK(run, buf, len, 0))
		return helper_bad_ptr(run, "strtol", 1, buf, len);
	if (!HELPER_MEM_OK(run, res, 8, 1))
		return helper_bad_ptr(run, "strtol", 4, res, 8);
	unsigned long long v;
	bool neg;
	long n = parse_ull((const char *)(uintptr_t)buf, (size_t)len, flags, &v, &neg);
	if (n < 0)
		return (uint64_t)n;
	if (neg ? v > (unsigned long long)LLONG_MAX + 1 : v > LLONG_MAX)
		return (uint64_t)-ERANGE;
	long long out = neg ? (long long)(0 - v) : (long long)v;
	memcpy((void *)(uintptr_t)res, &out, 8);
	return (uint64_t)n;
}

uint64_t helper_strtoul(uint64_t buf, uint64_t len, uint64_t flags, uint64_t res, uint64_t r5,
			struct bpfvm_run *run)
{
	(void)r5;
	if (!HELPER_MEM_OK(run, buf, len, 0))
		return helper_bad_ptr(run, "strtoul", 1, buf, len);
	if (!HELPER_MEM_OK(run, res, 8, 1))
		return helper_bad_ptr(run, "strtoul", 4, res, 8);
	unsigned long long v;
	bool neg;
	long n = parse_ull((const char *)(uintptr_t)buf, (size_t)len, flags, &v, &neg);
	if (n < 0)
		return (uint64_t)n;
	if (neg)
		return (uint64_t)-EINVAL;
	memcpy((void *)(uintptr_t)res, &v, 8);
	return (uint64_t)n;
}

uint64_t helper_strncmp(uint64_t s1, uint64_t s1_sz, uint64_t s2, uint64_t r4, uint64_t r5,
			struct bpfvm_run *run)
{
	(void)r4, (void)r5;
	if (!HELPER_MEM_OK(run, s1, s1_sz, 0))
		return helper_bad_ptr(run, "strncmp", 1, s1, s1_sz);
	char b[4096];
	size_t n = s1_sz < sizeof(b) ? (size_t)s1_sz : sizeof(b);
	if (!HELPER_MEM_OK(run, s2, 1, 0) || helper_safe_copy_str(b, s2, n + 1 < sizeof(b) ? n + 1 : sizeof(b)) < 0)
		return helper_bad_ptr(run, "strncmp", 3, s2, 1);
	const unsigned char *a = (const unsigned char *)(uintptr_t)s1, *c = (const unsigned char *)b;
	for (size_t i = 0; i < n; i++) {
		if (a[i] != c[i])
			return a[i] < c[i] ? (uint64_t)-1 : 1;
		if (!a[i])
			break;
	}
	return 0;
}

uint64_t helper_loop(uint64_t nr_loops, uint64_t callback, uint64_t ctx, uint64_t flags,
		     uint64_t r5, struct bpfvm_run *run)
{
	(void)r5;
	if (flags)
		return (uint64_t)-EINVAL;
	if (nr_loops > BPF_MAX_LOOPS)
		return (uint64_t)-E2BIG;
	uint64_t i;
	for (i = 0; i < nr_loops; i++) {
		uint64_t ret = vm_call_func(run, callback, i, ctx, 0, 0, 0);
		if (run->err)
			return 0;
		if (ret)
			return i + 1;
	}
	return i;
}

uint64_t helper_get_func_ip(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			    struct bpfvm_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	return 0; /* no traced kernel function in userspace */
}
